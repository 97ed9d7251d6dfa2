//! The flow stage, blind to what the connections carry: packets of one
//! connection in capture order in, one [`FlowRecord`] per connection out.
//!
//! - [`Table`]: the live connections of one shard, keyed by the canonical
//!   [`FlowKey`], bounded (capacity, idle timeout, close delay, eviction of
//!   the least recently active eighth when full). The TCP shards here and
//!   the QUIC and DTLS shards (`crate::quic`, `crate::dtls`) all keep their
//!   connections in one.
//! - [`DatagramShard`]: connections over UDP, one shard type for the
//!   QUIC and DTLS stages, which say what a connection is
//!   ([`DatagramConn`]); [`Traffic`] is what each counts whatever it
//!   carries, and how that becomes its record.
//! - [`Shard`]: TCP connections. Each direction has a [`Reassembler`]
//!   whose in-order bytes go to a [`StreamConsumer`] (the TLS stage's
//!   session); once the consumer wants no more of a direction, that
//!   direction is switched to passthrough and further segments cost a hash
//!   lookup and a counter. The shard is generic over its consumer (static
//!   dispatch on the packet path) and never looks inside the bytes.
//!
//! What a consumer made of a connection travels in the record's
//! `handshake`; work that needs more than the bytes (TLS 1.3 decryption with
//! a key log) is done by the consumer's stage after the connection ended,
//! where the pipeline collects the records.
//!
//! A TCP connection ends at the end of the input set, after
//! `FLOW_IDLE_TIMEOUT_US` of silence (`FLOW_CLOSE_DELAY_US` once it was
//! closed by RST or by FIN from both ends), or when a new SYN reuses its
//! 4-tuple after FIN/RST or with another initial sequence number.

mod datagram;
mod reassembly;
mod table;
mod tcp;
mod types;

pub use crate::hash::{FastHasher, FastMap};
pub use datagram::{Datagram, DatagramConn, DatagramShard, Step, Traffic};
pub use reassembly::{Chunk, Counters, Reassembler};
pub use table::{ended_into, Ended, Table};
pub use tcp::{Shard, ShardStats};
pub use types::{
    Activity, DatagramStats, Endpoint, FlowKey, FlowLimits, FlowRecord, Side, Stamp, StreamConsumer,
};
