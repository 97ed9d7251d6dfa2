//! QUIC (RFC 9000, RFC 9001; version 2, RFC 9369; IETF drafts 22 to 34,
//! Facebook's mvfst versions and Google's T050/T051): UDP datagrams in capture
//! order in, one `FlowRecord` per QUIC connection out, with its TLS 1.3
//! handshake (transport "quic").
//!
//! Initial packets are protected with keys anyone can derive from the
//! client's first Destination Connection ID, so the ClientHello (SNI, ALPN,
//! JA3, JA4 with its `q` prefix) and the ServerHello (version, cipher,
//! JA3S) are read from every captured handshake; CRYPTO frames are put back
//! in order across packets and coalesced packets, so a ClientHello that
//! spans several Initials (post-quantum key shares) is whole. With the
//! handshake traffic secrets of a key log (or a pcapng Decryption Secrets
//! Block), Handshake packets are opened too and the certificates of both
//! sides recovered (`cert_visibility` "decrypted").
//!
//! A [`Shard`] owns the connections of the UDP 4-tuples that hash to it,
//! like the TCP flow shards. Left out: 0-RTT and 1-RTT payloads (counted,
//! never decrypted), connection migration (a connection is its 4-tuple),
//! Google QUIC Q0xx (not TLS), and draft versions before 22 (another
//! header layout and other salts). Google's TLS-based T050 and T051 are
//! read: IETF long headers, their own Initial salts, and gQUIC frames
//! (CRYPTO is type 0x08) inside.
//!
//! Bounded: live connections per shard ([`MAX_QUIC_CONNS_PER_SHARD`]),
//! CRYPTO reassembly per level and direction ([`MAX_QUIC_CRYPTO_BYTES`]),
//! kept Handshake packets per direction
//! ([`MAX_QUIC_HANDSHAKE_PACKET_BYTES`]), coalesced packets per datagram.
//! No input can make this module panic.
//!
//! [`MAX_QUIC_CONNS_PER_SHARD`]: crate::limits::MAX_QUIC_CONNS_PER_SHARD
//! [`MAX_QUIC_CRYPTO_BYTES`]: crate::limits::MAX_QUIC_CRYPTO_BYTES
//! [`MAX_QUIC_HANDSHAKE_PACKET_BYTES`]: crate::limits::MAX_QUIC_HANDSHAKE_PACKET_BYTES

mod conn;
pub mod crypto;
mod frames;
pub mod packet;
#[cfg(test)]
mod tests;

pub use conn::Datagram;

use conn::{Conn, Step};

use crate::flow::{DatagramStats, FlowKey, FlowLimits, FlowRecord, Table};
use crate::limits::MAX_QUIC_CONNS_PER_SHARD;
use crate::tls::{Handshake, KeyLog};

/// Counters of one QUIC shard.
pub use crate::flow::DatagramStats as ShardStats;

/// The QUIC connections of one shard. Owned by one worker at a time.
pub struct Shard {
    table: Table<Conn>,
    /// Connections ended so far, in the order they ended.
    pub finished: Vec<FlowRecord<Handshake>>,
}

impl Shard {
    /// An empty shard with these caps (the flow table's idle timeout; live
    /// connections at most the smaller of its cap and
    /// [`MAX_QUIC_CONNS_PER_SHARD`]).
    pub fn with_limits(limits: FlowLimits) -> Shard {
        let cap = limits.max_flows_per_shard.min(MAX_QUIC_CONNS_PER_SHARD);
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

    /// Takes one UDP datagram; datagrams must arrive in capture order.
    /// `keys` decrypts the Handshake packets of connections this ends.
    pub fn push(&mut self, d: &Datagram<'_>, keys: &KeyLog) {
        let finished = &mut self.finished;
        self.table.packet(
            FlowKey::new(d.src, d.dst),
            d.ts_us,
            |conn| conn.push(d) == Step::Continue,
            || {
                // Only a long header can start a connection (RFC 9000 §17.2).
                if d.payload.first().is_none_or(|b| b & 0x80 == 0) {
                    return None;
                }
                let mut conn = Conn::start(d)?;
                conn.push(d);
                Some(conn)
            },
            |old, why| finished.push(why.mark(old.finish(keys))),
        );
    }

    /// Ends connections idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: i64, keys: &KeyLog) {
        let finished = &mut self.finished;
        self.table
            .expire(now, |conn, why| finished.push(why.mark(conn.finish(keys))));
    }

    /// Ends every live connection (end of the input set).
    pub fn finish_all(&mut self, keys: &KeyLog) {
        let finished = &mut self.finished;
        self.table
            .finish_all(|conn, why| finished.push(why.mark(conn.finish(keys))));
    }
}
