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

use crate::error::Anomaly;
use conn::{Conn, Step};

use crate::flow::{
    take_all, take_idle, take_oldest_eighth, FastMap, FlowKey, FlowLimits, FlowRecord,
};
use crate::limits::MAX_QUIC_CONNS_PER_SHARD;
use crate::tls::KeyLog;

/// Counters of one QUIC shard.
pub use crate::flow::DatagramStats as ShardStats;

/// The QUIC connections of one shard. Owned by one worker at a time.
#[derive(Default)]
pub struct Shard {
    limits: FlowLimits,
    conns: FastMap<FlowKey, Conn>,
    /// Connections ended so far, in the order they ended.
    pub finished: Vec<FlowRecord>,
    /// What this shard counted.
    pub stats: ShardStats,
    now: i64,
}

impl Shard {
    /// An empty shard with these caps (the flow table's idle timeout; live
    /// connections at most the smaller of its cap and
    /// [`MAX_QUIC_CONNS_PER_SHARD`]).
    pub fn with_limits(limits: FlowLimits) -> Shard {
        Shard {
            limits,
            ..Shard::default()
        }
    }

    /// Live connections.
    pub fn live(&self) -> usize {
        self.conns.len()
    }

    fn max_conns(&self) -> usize {
        self.limits
            .max_flows_per_shard
            .clamp(1, MAX_QUIC_CONNS_PER_SHARD)
    }

    /// Takes one UDP datagram; datagrams must arrive in capture order.
    /// `keys` decrypts the Handshake packets of connections this ends.
    pub fn push(&mut self, d: &Datagram<'_>, keys: &KeyLog) {
        self.stats.datagrams += 1;
        self.now = self.now.max(d.ts_us);
        let key = FlowKey::new(d.src, d.dst);
        if let Some(conn) = self.conns.get_mut(&key) {
            let idle = d.ts_us.saturating_sub(conn.ts_last) > self.limits.idle_timeout_us;
            if !idle && conn.push(d) == Step::Continue {
                return;
            }
            if let Some(old) = self.conns.remove(&key) {
                if idle {
                    self.stats.timed_out += 1;
                }
                self.finished.push(old.finish(keys));
            }
        }
        // Only a long header can start a connection (RFC 9000 §17.2).
        if d.payload.first().is_none_or(|b| b & 0x80 == 0) {
            return;
        }
        let Some(mut conn) = Conn::start(d) else {
            return;
        };
        if self.conns.len() >= self.max_conns() {
            self.evict(keys);
        }
        conn.push(d);
        self.stats.connections += 1;
        self.conns.insert(key, conn);
    }

    /// Ends connections idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: i64, keys: &KeyLog) {
        let now = now.max(self.now);
        let idle = self.limits.idle_timeout_us;
        for conn in take_idle(&mut self.conns, now, |c| c.ts_last.saturating_add(idle)) {
            self.stats.timed_out += 1;
            self.finished.push(conn.finish(keys));
        }
    }

    /// Ends every live connection (end of the input set).
    pub fn finish_all(&mut self, keys: &KeyLog) {
        for conn in take_all(&mut self.conns) {
            self.finished.push(conn.finish(keys));
        }
    }

    /// Ends the least recently active eighth of the connections.
    fn evict(&mut self, keys: &KeyLog) {
        for conn in take_oldest_eighth(&mut self.conns, |c| c.ts_last) {
            self.stats.evicted += 1;
            let mut rec = conn.finish(keys);
            rec.anomalies.push(Anomaly::FlowEvicted);
            self.finished.push(rec);
        }
    }
}
