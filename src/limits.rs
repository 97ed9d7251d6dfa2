//! Every size and count cap certsift applies to input-driven state, as named
//! constants. Reaching one is recorded as an anomaly, never a crash: a hostile
//! capture must not be able to grow memory without bound.

/// Largest captured length of one packet record we accept. pcap's snap length
/// is at most 262144 in practice; anything larger is treated as damage.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Frames walked sequentially before a window is handed to the parallel
/// decode and reassembly stages. Bounds the per-window frame index.
pub const WINDOW_FRAMES: usize = 1 << 16;

/// Out-of-order bytes one direction of a connection may hold while waiting for
/// a hole to fill. Beyond it the hole is declared a gap and parsing resyncs.
pub const MAX_OOO_BYTES_PER_DIRECTION: usize = 256 * 1024;

/// Out-of-order segments one direction may hold (a flood of tiny segments
/// costs more in bookkeeping than in bytes).
pub const MAX_OOO_SEGMENTS_PER_DIRECTION: usize = 512;

/// Live connections one flow shard tracks at once. Past it the oldest idle
/// connections are finished early. A connection stuck in its handshake costs
/// about 6 KiB, so `FLOW_SHARDS` × this (65536 live connections) stays near
/// 400 MiB; 1 << 18 let a million unfinished handshakes take 6 GiB (issue 8).
pub const MAX_FLOWS_PER_SHARD: usize = 1 << 10;

/// A connection idle for this long (capture time) is finished; a later packet
/// on the same 4-tuple starts a new connection.
pub const FLOW_IDLE_TIMEOUT_US: i64 = 600 * 1_000_000;

/// A connection closed by RST, or by FIN from both ends, is finished after
/// this much further silence (capture time), as Zeek's `tcp_close_delay`
/// does: late retransmissions and final ACKs still count towards it, and the
/// connection's state is not held until the idle timeout. Before, every
/// connection of a one-minute capture stayed live to the end of the run.
pub const FLOW_CLOSE_DELAY_US: i64 = 5 * 1_000_000;

/// Number of flow shards. A power of two well above the core count keeps
/// shards balanced; each shard is reassembled by one worker at a time.
pub const FLOW_SHARDS: usize = 64;

/// Largest pcapng block we accept: one record of `MAX_RECORD_BYTES` plus room
/// for its header and options. A larger block length is treated as damage.
pub const MAX_BLOCK_BYTES: usize = MAX_RECORD_BYTES + 64 * 1024;

/// Bytes read from a compressed capture per decompressor call. Bounds the
/// rolling buffer together with the window size and `MAX_BLOCK_BYTES`.
pub const INFLATE_CHUNK_BYTES: usize = 256 * 1024;

/// Decryption Secrets Block bytes kept per capture (pcapng type 0x0a); the
/// rest are dropped.
pub const MAX_DECRYPTION_SECRETS_BYTES: usize = 16 << 20;

/// Nested encapsulations (VLAN tags, MPLS labels and tunnels such as GRE,
/// VXLAN, GENEVE, GTP-U, CAPWAP, IP-in-IP) walked per frame before giving up.
pub const MAX_TUNNEL_DEPTH: usize = 4;

/// GTP-U extension headers (3GPP TS 29.281 §5.2) walked per packet; real
/// packets carry one or two (PDU session container, UDP port).
pub const MAX_GTP_EXT_HEADERS: usize = 8;

/// 802.1Q/802.1ad tags walked per Ethernet header.
pub const MAX_VLAN_TAGS: usize = 4;

/// MPLS labels walked per label stack.
pub const MAX_MPLS_LABELS: usize = 8;

/// IPv6 extension headers walked per packet (a long chain is an evasion).
pub const MAX_IPV6_EXT_HEADERS: usize = 8;

/// Largest IP datagram payload rebuilt from fragments (the IPv4 and IPv6
/// length fields cap it at 65535).
pub const MAX_DEFRAG_DATAGRAM_BYTES: usize = 65_535;

/// Datagrams being reassembled at once. Past it the oldest is dropped.
pub const MAX_DEFRAG_IN_FLIGHT: usize = 4096;

/// Fragments accepted for one datagram (tiny-fragment floods cost CPU).
pub const MAX_FRAGMENTS_PER_DATAGRAM: usize = 256;

/// A datagram whose fragments stop arriving for this long (capture time) is
/// dropped, as RFC 791 and RFC 8200 section 4.5 time-outs do.
pub const DEFRAG_TIMEOUT_US: i64 = 60 * 1_000_000;

/// Decompressed or mapped bytes per window, alongside `WINDOW_FRAMES`: bounds
/// the memory one window of a compressed capture holds. Measured on the 2 GB
/// bench capture (median of 3, -j1 / -j2 wall s, peak RSS MiB at -j2): 16 MiB
/// 1.84 / 0.94, 248; 64 MiB 1.85 / 0.99, 356; 256 MiB 1.82 / 0.98, 301.
/// Flow shards, same run: 8 gave 1.79 / 0.94, 64 1.85 / 0.99, 256 1.86 /
/// 1.00; 64 stays, for balance on machines with more cores.
pub const WINDOW_BYTES: usize = 16 << 20;

/// Live QUIC connections one flow shard tracks at once (the smaller of this
/// and `--max-flows`' per-shard share). A connection holds at most two
/// CRYPTO streams of `MAX_QUIC_CRYPTO_BYTES` per level plus the kept
/// Handshake packets, so a hostile capture costs at most
/// `FLOW_SHARDS` × 128 × 384 KiB = 3 GiB; a real handshake costs ~10 KiB.
pub const MAX_QUIC_CONNS_PER_SHARD: usize = 128;

/// CRYPTO stream bytes reassembled per encryption level and direction of a
/// QUIC connection. A ClientHello with a post-quantum key share is ~2 KiB, a
/// server's Handshake flight with its certificates ~3-20 KiB.
pub const MAX_QUIC_CRYPTO_BYTES: usize = 64 * 1024;

/// Handshake-level packet bytes kept per direction of a QUIC connection for
/// decryption at its end (`quic_handshake_cap` past it).
pub const MAX_QUIC_HANDSHAKE_PACKET_BYTES: usize = 64 * 1024;
/// Connections a scan's analysis holds in memory (about 600 bytes each);
/// above, it judges them in groups read back from spill files, as
/// `certsift analyze` does, so a scan's memory does not grow with its
/// connections.
pub const SCAN_MAX_IN_MEMORY: u64 = 200_000;
/// Rows read back from a scan's spill at a time to be judged and written.
pub const JUDGE_BATCH_ROWS: usize = 1024;

/// Live DTLS connections one flow shard tracks at once (the smaller of this
/// and `--max-flows`' per-shard share). A connection buffers at most
/// 2 × `MAX_DTLS_HANDSHAKE_BYTES`, so a hostile capture costs at most
/// `FLOW_SHARDS` × 128 × 256 KiB = 2 GiB; a real handshake ~10 KiB.
pub const MAX_DTLS_CONNS_PER_SHARD: usize = 128;

/// Handshake message bytes reassembled per sender of a DTLS connection
/// (`dtls_handshake_cap` past it). A DTLS certificate chain is a few KiB:
/// it has to fit in datagrams that are each retransmitted whole.
pub const MAX_DTLS_HANDSHAKE_BYTES: usize = 128 * 1024;

/// Distinct handshake messages tracked per sender of a DTLS connection: a
/// full DTLS 1.2 flight has at most nine, a retransmission adds none.
pub const MAX_DTLS_MESSAGES: usize = 32;
