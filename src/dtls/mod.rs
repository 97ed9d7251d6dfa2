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

pub use conn::Datagram;

use conn::{Conn, Step};

use crate::flow::{DatagramStats, FlowKey, FlowLimits, FlowRecord, Table};
use crate::limits::MAX_DTLS_CONNS_PER_SHARD;
use crate::tls::Handshake;

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
pub struct Shard {
    table: Table<Conn>,
    /// Connections ended so far, in the order they ended.
    pub finished: Vec<FlowRecord<Handshake>>,
}

impl Shard {
    /// An empty shard with these caps (the flow table's idle timeout; live
    /// connections at most the smaller of its cap and
    /// [`MAX_DTLS_CONNS_PER_SHARD`]).
    pub fn with_limits(limits: FlowLimits) -> Shard {
        let cap = limits.max_flows_per_shard.min(MAX_DTLS_CONNS_PER_SHARD);
        Shard {
            table: Table::new(limits, cap),
            finished: Vec::new(),
        }
    }

    /// Live connections.
    pub fn live(&self) -> usize {
        self.table.len()
    }

    /// What this shard counted.
    pub fn stats(&self) -> ShardStats {
        DatagramStats::of(&self.table)
    }

    /// Takes one UDP datagram that [`is_candidate`] accepted; datagrams
    /// must arrive in capture order.
    pub fn push(&mut self, d: &Datagram<'_>) {
        let finished = &mut self.finished;
        self.table.packet(
            FlowKey::new(d.src, d.dst),
            d.ts_us,
            |conn| conn.push(d) == Step::Continue,
            || {
                let mut conn = Conn::start(d)?;
                conn.push(d);
                Some(conn)
            },
            |old, why| finished.push(why.mark(old.finish())),
        );
    }

    /// Ends connections idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: i64) {
        let finished = &mut self.finished;
        self.table
            .expire(now, |conn, why| finished.push(why.mark(conn.finish())));
    }

    /// Ends every live connection (end of the input set).
    pub fn finish_all(&mut self) {
        let finished = &mut self.finished;
        self.table
            .finish_all(|conn, why| finished.push(why.mark(conn.finish())));
    }
}
