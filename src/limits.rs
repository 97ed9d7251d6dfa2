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
/// connections are finished early.
pub const MAX_FLOWS_PER_SHARD: usize = 1 << 18;

/// A connection idle for this long (capture time) is finished; a later packet
/// on the same 4-tuple starts a new connection.
pub const FLOW_IDLE_TIMEOUT_US: i64 = 600 * 1_000_000;

/// Number of flow shards. A power of two well above the core count keeps
/// shards balanced; each shard is reassembled by one worker at a time.
pub const FLOW_SHARDS: usize = 64;
