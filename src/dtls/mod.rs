//! DTLS (1.0 RFC 4347, 1.2 RFC 6347, 1.3 RFC 9147, connection ids RFC 9146
//! and RFC 9147 §9): UDP datagrams in capture order in, one `FlowRecord`
//! per DTLS connection out, with its handshake (transport "dtls").
//!
//! Which UDP payloads are DTLS is decided by content, never by port
//! ([`is_candidate`]): a record header with content type 20 to 26 and a
//! DTLS version (0xfeXX, or OpenSSL's old 0x0100), or a DTLS 1.3 unified
//! header (`0b001xxxxx`), which only continues a connection already seen.
//! QUIC's first byte always has one of its two top bits set, so the two
//! never compete for a datagram.
//!
//! Clear handshake records (epoch 0) are split into fragments, each
//! sender's messages are put back together whatever the fragmentation,
//! order or retransmission ([`reassembly`]), and the whole messages go to
//! the TLS stage, which gives the hellos, JA3/JA3S, JA4 with its `d`
//! prefix, and the certificates (clear up to DTLS 1.2; encrypted in 1.3,
//! like TLS 1.3). A [`Shard`] owns the connections of the UDP 4-tuples that
//! hash to it, like the QUIC shards. Left out: decryption (no key log is
//! applied to DTLS), renegotiation, and connection migration (a
//! connection is its 4-tuple; with connection ids a peer may move).
//!
//! Bounded: live connections per shard ([`MAX_DTLS_CONNS_PER_SHARD`]),
//! handshake bytes and messages per sender ([`MAX_DTLS_HANDSHAKE_BYTES`],
//! [`MAX_DTLS_MESSAGES`]), records per datagram, fragments per record. No
//! input can make this module panic.
//!
//! [`MAX_DTLS_CONNS_PER_SHARD`]: crate::limits::MAX_DTLS_CONNS_PER_SHARD
//! [`MAX_DTLS_HANDSHAKE_BYTES`]: crate::limits::MAX_DTLS_HANDSHAKE_BYTES
//! [`MAX_DTLS_MESSAGES`]: crate::limits::MAX_DTLS_MESSAGES

mod conn;
pub mod reassembly;
pub mod record;
#[cfg(test)]
mod tests;

/// One UDP datagram (the flow stage's plain type, shared with QUIC).
pub use crate::flow::Datagram;

use crate::flow::DatagramShard;

/// Whether a UDP payload may be DTLS: a plausible record header, or a
/// DTLS 1.3 unified header. Cheap: the pipeline asks it of every UDP
/// payload that is not QUIC.
pub fn is_candidate(payload: &[u8]) -> bool {
    match payload.first() {
        Some(&b) if record::is_unified_header(b) => true,
        Some(_) => record::looks_like_record(payload),
        None => false,
    }
}

/// Counters of one DTLS shard.
pub use crate::flow::DatagramStats as ShardStats;

/// The DTLS connections of one shard. Owned by one worker at a time.
pub type Shard = DatagramShard<conn::Conn>;

/// DTLS connections end with nothing from outside (no key log is applied).
impl Shard {
    /// Takes one UDP datagram that [`is_candidate`] accepted; datagrams
    /// must arrive in capture order.
    pub fn push(&mut self, d: &Datagram<'_>) {
        self.push_with(d, &());
    }

    /// Ends connections idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: i64) {
        self.expire_with(now, &());
    }

    /// Ends every live connection (end of the input set).
    pub fn finish_all(&mut self) {
        self.finish_all_with(&());
    }
}
