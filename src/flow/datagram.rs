//! Connections over UDP: datagrams in capture order in, one [`FlowRecord`]
//! per connection out. The QUIC and DTLS shards are both a
//! [`DatagramShard`]; what a connection is, when a datagram starts one and
//! what it becomes at the end is the transport's ([`DatagramConn`]).
//!
//! [`Traffic`] is what every datagram connection counts whatever it
//! carries (its peers, first and last packet, and per direction packets,
//! bytes and the first TTL), and how that becomes the record. Left out:
//! anything about the payload.

use std::net::SocketAddr;

use super::table::{ended_into, Table};
use super::types::{Activity, DatagramStats, Endpoint, FlowKey, FlowLimits, FlowRecord, Stamp};
use crate::error::Anomaly;

/// One UDP datagram as the datagram transports need it; borrows the payload.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// IP TTL or hop limit.
    pub ttl: u8,
    /// UDP payload.
    pub payload: &'a [u8],
    /// Capture time, µs since the Unix epoch.
    pub ts_us: i64,
    /// Index of the capture file in the run.
    pub file: u32,
    /// Index of the frame in its file.
    pub frame: u64,
}

/// What a datagram did to its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Taken.
    Continue,
    /// It starts another connection on the same 4-tuple: this one ends and
    /// the datagram is offered to [`DatagramConn::start`].
    Restart,
}

/// One connection of a datagram transport, as a [`DatagramShard`] keeps it.
pub trait DatagramConn: Activity + Sized {
    /// What ending a connection needs besides the connection (QUIC: the
    /// key log that opens its Handshake packets).
    type Context: ?Sized;
    /// What the transport made of the connection.
    type Output;
    /// Live connections per shard at most, whatever the flow limits allow.
    const MAX_PER_SHARD: usize;

    /// A connection for `d` when `d` can open one; `d` itself is then
    /// given to [`DatagramConn::push`].
    fn start(d: &Datagram<'_>) -> Option<Self>;

    /// Takes one datagram of this connection's 4-tuple.
    fn push(&mut self, d: &Datagram<'_>) -> Step;

    /// Ends the connection.
    fn finish(self, ctx: &Self::Context) -> FlowRecord<Self::Output>;
}

/// The connections of one transport in one shard, kept in a [`Table`].
/// Owned by one worker at a time.
pub struct DatagramShard<C: DatagramConn> {
    table: Table<C>,
    /// Connections ended so far, in the order they ended.
    pub finished: Vec<FlowRecord<C::Output>>,
}

impl<C: DatagramConn> DatagramShard<C> {
    /// An empty shard with these caps (the flow table's idle timeout; live
    /// connections at most the smaller of its cap and the transport's
    /// [`DatagramConn::MAX_PER_SHARD`]).
    pub fn with_limits(limits: FlowLimits) -> DatagramShard<C> {
        let cap = limits.max_flows_per_shard.min(C::MAX_PER_SHARD);
        DatagramShard {
            table: Table::new(limits, cap),
            finished: Vec::new(),
        }
    }

    /// Live connections.
    pub fn live(&self) -> usize {
        self.table.len()
    }

    /// What this shard counted.
    pub fn stats(&self) -> DatagramStats {
        DatagramStats::of(&self.table)
    }

    /// Takes one datagram; datagrams must arrive in capture order. `ctx`
    /// ends the connections this ends.
    pub fn push_with(&mut self, d: &Datagram<'_>, ctx: &C::Context) {
        self.table.packet(
            FlowKey::new(d.src, d.dst),
            d.ts_us,
            |conn| conn.push(d) == Step::Continue,
            || {
                let mut conn = C::start(d)?;
                conn.push(d);
                Some(conn)
            },
            ended_into(&mut self.finished, |c: C| c.finish(ctx)),
        );
    }

    /// Ends connections idle for longer than the timeout at capture time
    /// `now`, with `ctx`.
    pub fn expire_with(&mut self, now: i64, ctx: &C::Context) {
        let end = ended_into(&mut self.finished, |c: C| c.finish(ctx));
        self.table.expire(now, end);
    }

    /// Ends every live connection (end of the input set), with `ctx`.
    pub fn finish_all_with(&mut self, ctx: &C::Context) {
        let end = ended_into(&mut self.finished, |c: C| c.finish(ctx));
        self.table.finish_all(end);
    }
}

/// What a datagram connection counts whatever it carries, and the
/// anomalies noted on it. Directions are indexed by sender: 0 for the
/// first datagram's sender, 1 for its peer.
#[derive(Debug, Clone)]
pub struct Traffic {
    peers: [SocketAddr; 2],
    first: Stamp,
    last: i64,
    packets: [u64; 2],
    bytes: [u64; 2],
    ttl: [Option<u8>; 2],
    anomalies: Vec<Anomaly>,
}

impl Traffic {
    /// The traffic of a connection whose first datagram is `d` (not yet
    /// counted).
    pub fn new(d: &Datagram<'_>) -> Traffic {
        Traffic {
            peers: [d.src, d.dst],
            first: Stamp {
                ts_us: d.ts_us,
                file: d.file,
                frame: d.frame,
            },
            last: d.ts_us,
            packets: [0; 2],
            bytes: [0; 2],
            ttl: [None; 2],
            anomalies: Vec::new(),
        }
    }

    /// The direction of `d`: 0 when the first datagram's sender sent it.
    pub fn side(&self, d: &Datagram<'_>) -> usize {
        usize::from(d.src != self.peers[0])
    }

    /// Counts `d`, sent in direction `side`.
    pub fn count(&mut self, side: usize, d: &Datagram<'_>) {
        self.last = self.last.max(d.ts_us);
        if let (Some(p), Some(b), Some(t)) = (
            self.packets.get_mut(side),
            self.bytes.get_mut(side),
            self.ttl.get_mut(side),
        ) {
            *p += 1;
            *b = b.saturating_add(d.payload.len() as u64);
            t.get_or_insert(d.ttl);
        }
    }

    /// Notes `code` on the connection, once.
    pub fn note(&mut self, code: Anomaly) {
        if !self.anomalies.contains(&code) {
            self.anomalies.push(code);
        }
    }

    /// Capture time of the first datagram, µs.
    pub fn first_seen(&self) -> i64 {
        self.first.ts_us
    }

    /// Capture time of the latest datagram, µs.
    pub fn last_seen(&self) -> i64 {
        self.last
    }

    fn endpoint(&self, side: usize) -> Endpoint {
        Endpoint {
            addr: self.peers.get(side).copied().unwrap_or(self.peers[0]),
            packets: self.packets.get(side).copied().unwrap_or(0),
            bytes: self.bytes.get(side).copied().unwrap_or(0),
            ttl: self.ttl.get(side).copied().flatten(),
        }
    }

    /// The record of the connection whose client sent direction `client`,
    /// over `transport`, with the anomalies noted; the handshake and its
    /// decryption are the transport's to fill.
    pub fn record<H>(self, client: usize, transport: &'static str) -> FlowRecord<H> {
        let client = client.min(1);
        let rec = FlowRecord::new(
            transport,
            self.first,
            self.last,
            self.endpoint(client),
            self.endpoint(1 - client),
        );
        FlowRecord {
            anomalies: self.anomalies,
            ..rec
        }
    }
}
