//! TCP connections: decoded segments in capture order in, one
//! [`FlowRecord`] per connection out, with what its [`StreamConsumer`]
//! made of the bytes.
//!
//! A [`Shard`] owns every connection whose canonical 4-tuple hashes to it,
//! so shards run on different cores without sharing anything. Each
//! connection has a [`Reassembler`] per direction feeding its consumer; a
//! direction the consumer no longer wants is switched to passthrough. Left
//! out: what the bytes mean (the consumer's), TCP options (window scaling,
//! SACK: only sequence numbers matter for reassembly).

use std::net::SocketAddr;

use super::reassembly::{Chunk, Counters, Reassembler};
use super::table::{ended_into, Ended, Table};
use super::types::{
    Activity, Endpoint, FlowKey, FlowLimits, FlowRecord, Side, Stamp, StreamConsumer,
};
use crate::decode::{tcp_flags as flags, TcpSegment};
use crate::error::Anomaly;

/// Distinct SYN-ACK initial sequence numbers kept per direction.
const MAX_ISN_CANDIDATES: usize = 8;

struct Direction {
    reasm: Reassembler,
    ttl: Option<u8>,
    packets: u64,
    /// Initial sequence numbers of this direction's SYN-ACKs, first first,
    /// until the peer's ACK or this side's first data settles which one the
    /// connection uses.
    isns: Vec<u32>,
    /// The ISN is settled: further SYN-ACKs change nothing.
    isn_settled: bool,
    /// More than one distinct SYN-ACK ISN was seen.
    several_isns: bool,
}

impl Direction {
    fn new() -> Direction {
        Direction {
            reasm: Reassembler::new(),
            ttl: None,
            packets: 0,
            isns: Vec::new(),
            isn_settled: false,
            several_isns: false,
        }
    }

    /// A SYN or SYN-ACK with initial sequence number `seq`.
    fn syn(&mut self, seq: u32, is_syn_ack: bool) {
        self.reasm.syn(seq);
        if !is_syn_ack || self.isns.contains(&seq) {
            return;
        }
        if !self.isns.is_empty() {
            self.several_isns = true;
        }
        if !self.isn_settled && self.isns.len() < MAX_ISN_CANDIDATES {
            self.isns.push(seq);
        }
    }

    /// Settles on the candidate ISN `isn` if it is one and nothing was
    /// taken yet. Some servers (and middleboxes racing them) answer one SYN
    /// with several SYN-ACKs; the client follows the one it acknowledges
    /// (RFC 9293 §3.5: its ACK carries that ISN + 1), so must we.
    fn settle(&mut self, isn: u32) {
        if self.isn_settled || self.isns.len() < 2 || !self.isns.contains(&isn) {
            return;
        }
        self.isn_settled = true;
        if self.isns.first() != Some(&isn) {
            self.reasm.resyn(isn);
        }
    }
}

/// Hands one chunk of reassembled bytes to the consumer.
fn deliver<C: StreamConsumer>(consumer: &mut C, side: Side, chunk: Chunk<'_>, ts: i64) {
    match chunk {
        Chunk::Data(d) => consumer.feed(side, d, ts),
        Chunk::Gap(n) => consumer.gap(side, n),
    }
}

struct Conn<C> {
    /// The endpoint that is side A (SYN sender, or first packet's sender).
    a: SocketAddr,
    /// The other endpoint, side B.
    b: SocketAddr,
    dirs: [Direction; 2],
    consumer: C,
    syn_seq: Option<u32>,
    /// FIN or RST seen: a new SYN on the 4-tuple starts a new connection.
    closing: bool,
    /// FIN seen from side A, from side B.
    fin: [bool; 2],
    /// RST seen.
    reset: bool,
    /// Where and when the first packet was captured.
    first: Stamp,
    ts_last: i64,
}

impl<C> Activity for Conn<C> {
    fn last_seen(&self) -> i64 {
        self.ts_last
    }

    /// Closed by RST or by FIN from both ends.
    fn closed(&self) -> bool {
        self.reset || self.fin == [true, true]
    }
}

impl<C: StreamConsumer> Conn<C> {
    fn new(seg: &TcpSegment<'_>, src: SocketAddr, dst: SocketAddr, at: Stamp) -> Conn<C> {
        // A SYN-ACK seen first means the other end opened the connection.
        let (a, b) = if seg.flags & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK {
            (dst, src)
        } else {
            (src, dst)
        };
        Conn {
            a,
            b,
            dirs: [Direction::new(), Direction::new()],
            consumer: C::default(),
            syn_seq: None,
            closing: false,
            fin: [false; 2],
            reset: false,
            first: at,
            ts_last: at.ts_us,
        }
    }

    /// Whether a pure SYN from `src` with sequence number `seq` opens a new
    /// connection on this 4-tuple: after FIN or RST, with another initial
    /// sequence number, or from the other end.
    fn reused_by(&self, src: SocketAddr, seq: u32) -> bool {
        self.closing || self.syn_seq.is_some_and(|s| s != seq) || src != self.a
    }

    fn push(&mut self, seg: &TcpSegment<'_>, src: SocketAddr, ts: i64) {
        let side = if src == self.a { Side::A } else { Side::B };
        let idx = usize::from(side == Side::B);
        self.ts_last = self.ts_last.max(ts);
        let Conn { dirs, consumer, .. } = self;
        let [da, db] = dirs;
        let (dir, peer) = if idx == 0 { (da, db) } else { (db, da) };
        // The peer's ISN is settled by the first ACK that acknowledges one of
        // its SYN-ACKs, or by its first data following one of them.
        if seg.flags & (flags::SYN | flags::ACK) == flags::ACK {
            peer.settle(seg.ack.wrapping_sub(1));
        }
        if seg.flags & flags::SYN == 0 && !seg.payload.is_empty() {
            dir.settle(seg.seq.wrapping_sub(1));
        }
        dir.packets += 1;
        if dir.ttl.is_none() {
            dir.ttl = Some(seg.ttl);
        }
        if seg.flags & flags::SYN != 0 {
            dir.syn(seg.seq, seg.flags & flags::ACK != 0);
            if side == Side::A && seg.flags & flags::ACK == 0 {
                self.syn_seq.get_or_insert(seg.seq);
            }
        }
        if seg.flags & (flags::FIN | flags::RST) != 0 {
            self.closing = true;
        }
        if seg.flags & flags::FIN != 0 {
            if let Some(f) = self.fin.get_mut(idx) {
                *f = true;
            }
        }
        if seg.flags & flags::RST != 0 {
            self.reset = true;
        }
        if seg.payload.is_empty() {
            return;
        }
        if dir.reasm.is_passthrough() {
            let n = dir.reasm.push(seg.seq, seg.payload, &mut |_| {});
            consumer.skip(side, n);
            return;
        }
        // Data on a SYN (TCP Fast Open, RFC 7413) starts after the SYN's own
        // sequence number.
        let seq = if seg.flags & flags::SYN != 0 {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        dir.reasm.push(seq, seg.payload, &mut |chunk| {
            deliver(consumer, side, chunk, ts)
        });
        if !consumer.wants_bytes(side) {
            dir.reasm.set_passthrough();
        }
    }

    /// Flushes what each direction still holds to the consumer, then makes
    /// the record.
    fn finish(mut self) -> FlowRecord<C::Output> {
        let ts = self.ts_last;
        for (dir, side) in self.dirs.iter_mut().zip([Side::A, Side::B]) {
            if !dir.reasm.is_passthrough() {
                let consumer = &mut self.consumer;
                dir.reasm
                    .flush(&mut |chunk| deliver(consumer, side, chunk, ts));
            }
        }
        let [da, db] = self.dirs;
        let mut anomalies = Vec::new();
        let (ca, cb) = (da.reasm.counters(), db.reasm.counters());
        if ca.conflicting_overlaps + cb.conflicting_overlaps > 0 {
            anomalies.push(Anomaly::TcpConflictingOverlap);
        }
        if ca.gaps + cb.gaps > 0 {
            anomalies.push(Anomaly::TcpGap);
        }
        if ca.ooo_overflows + cb.ooo_overflows > 0 {
            anomalies.push(Anomaly::TcpOooCapReached);
        }
        if da.reasm.started_midstream() || db.reasm.started_midstream() {
            anomalies.push(Anomaly::TcpMidstream);
        }
        if da.several_isns || db.several_isns {
            anomalies.push(Anomaly::TcpMultipleSynack);
        }
        let (handshake, client_side) = match self.consumer.finish() {
            Some((out, side)) => (Some(out), side),
            None => (None, Side::A),
        };
        let end = |addr: SocketAddr, dir: &Direction, c: Counters| Endpoint {
            addr,
            packets: dir.packets,
            bytes: c.segment_bytes,
            ttl: dir.ttl,
        };
        let (a, b) = (end(self.a, &da, ca), end(self.b, &db, cb));
        let (client, server) = if client_side == Side::A {
            (a, b)
        } else {
            (b, a)
        };
        FlowRecord {
            syn_seen: self.syn_seq.is_some(),
            handshake,
            anomalies,
            ..FlowRecord::new("tcp", self.first, self.ts_last, client, server)
        }
    }
}

/// Counters of one shard, summed into the run's summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShardStats {
    /// TCP segments processed.
    pub segments: u64,
    /// Connections ended early because the shard was full.
    pub evicted: u64,
    /// Connections ended by a new SYN on the same 4-tuple.
    pub reused: u64,
    /// Connections ended by idle timeout.
    pub timed_out: u64,
}

/// The TCP connections of one shard of the flow table, read by consumers
/// of type `C`. Owned by one worker at a time; no locks.
pub struct Shard<C: StreamConsumer> {
    /// Boxed: a table sized for its busiest moment costs a pointer per empty
    /// slot, not a whole connection's state (a connection with a TLS
    /// session is about 2 KB; the inline table of 64 shards was 180 MB on a
    /// 222k-connection capture).
    table: Table<Box<Conn<C>>>,
    /// Connections ended so far, in the order they ended.
    pub finished: Vec<FlowRecord<C::Output>>,
    reused: u64,
}

impl<C: StreamConsumer> Default for Shard<C> {
    fn default() -> Self {
        Shard::with_limits(FlowLimits::default())
    }
}

impl<C: StreamConsumer> Shard<C> {
    /// An empty shard with the default caps.
    pub fn new() -> Shard<C> {
        Shard::default()
    }

    /// An empty shard with these caps.
    pub fn with_limits(limits: FlowLimits) -> Shard<C> {
        Shard {
            table: Table::new(limits, limits.max_flows_per_shard),
            finished: Vec::new(),
            reused: 0,
        }
    }

    /// Live connections.
    pub fn live(&self) -> usize {
        self.table.len()
    }

    /// What this shard counted.
    pub fn stats(&self) -> ShardStats {
        ShardStats {
            segments: self.table.packets(),
            evicted: self.table.evicted(),
            reused: self.reused,
            timed_out: self.table.timed_out(),
        }
    }

    /// Takes one segment captured at `at`; segments must arrive in capture
    /// order.
    pub fn push(&mut self, seg: &TcpSegment<'_>, at: Stamp) {
        let (src, dst) = (seg.src_addr(), seg.dst_addr());
        let pure_syn = seg.flags & (flags::SYN | flags::ACK) == flags::SYN;
        let Shard {
            table,
            finished,
            reused,
            ..
        } = self;
        table.packet(
            FlowKey::new(src, dst),
            at.ts_us,
            |conn| {
                if pure_syn && conn.reused_by(src, seg.seq) {
                    return false;
                }
                conn.push(seg, src, at.ts_us);
                true
            },
            || {
                let mut conn = Box::new(Conn::new(seg, src, dst, at));
                conn.push(seg, src, at.ts_us);
                Some(conn)
            },
            |old, why| {
                if why == Ended::Replaced {
                    *reused += 1;
                }
                finished.push(why.mark(old.finish()));
            },
        );
    }

    /// Ends connections idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: i64) {
        let end = ended_into(&mut self.finished, |c: Box<Conn<C>>| c.finish());
        self.table.expire(now, end);
    }

    /// Ends every live connection (end of the input set).
    pub fn finish_all(&mut self) {
        let end = ended_into(&mut self.finished, |c: Box<Conn<C>>| c.finish());
        self.table.finish_all(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{FLOW_CLOSE_DELAY_US, FLOW_IDLE_TIMEOUT_US};

    /// Records what the shard delivers: each side's bytes (a gap as `?`
    /// per lost byte) and skipped counts; wants `want` bytes per side.
    #[derive(Default)]
    struct Recorder {
        bytes: [Vec<u8>; 2],
        skipped: [u64; 2],
        want: Option<usize>,
    }

    impl StreamConsumer for Recorder {
        type Output = ([Vec<u8>; 2], [u64; 2]);

        fn feed(&mut self, side: Side, data: &[u8], _ts_us: i64) {
            self.bytes[usize::from(side == Side::B)].extend_from_slice(data);
        }

        fn gap(&mut self, side: Side, lost: u64) {
            let b = &mut self.bytes[usize::from(side == Side::B)];
            b.extend(std::iter::repeat_n(b'?', lost as usize));
        }

        fn wants_bytes(&self, side: Side) -> bool {
            self.want
                .is_none_or(|w| self.bytes[usize::from(side == Side::B)].len() < w)
        }

        fn skip(&mut self, side: Side, n: u64) {
            self.skipped[usize::from(side == Side::B)] += n;
        }

        fn finish(self) -> Option<(Self::Output, Side)> {
            let client = if self.bytes[1].starts_with(b"hello") {
                Side::B
            } else {
                Side::A
            };
            (!self.bytes[0].is_empty() || !self.bytes[1].is_empty())
                .then_some(((self.bytes, self.skipped), client))
        }
    }

    const C: &str = "10.0.0.2:40000";
    const S: &str = "10.0.0.1:443";

    fn seg<'a>(src: &str, dst: &str, seq: u32, fl: u8, payload: &'a [u8]) -> TcpSegment<'a> {
        TcpSegment::between(src, dst, seq, fl, payload)
    }

    fn at(ts_s: i64) -> Stamp {
        Stamp {
            ts_us: ts_s * 1_000_000,
            file: 0,
            frame: 0,
        }
    }

    /// Opens a connection from `c` to `S` at time 0, then sends `closing`
    /// (side, flags) at 1 s.
    fn open_and(shard: &mut Shard<Recorder>, c: &str, closing: &[(bool, u8)]) {
        shard.push(&seg(c, S, 100, flags::SYN, b""), at(0));
        shard.push(&seg(S, c, 900, flags::SYN | flags::ACK, b""), at(0));
        for &(from_client, fl) in closing {
            let (a, b) = if from_client { (c, S) } else { (S, c) };
            shard.push(&seg(a, b, 101, fl | flags::ACK, b""), at(1));
        }
    }

    #[test]
    fn each_direction_reaches_the_consumer_in_order_with_its_gaps() {
        let mut shard = Shard::<Recorder>::new();
        shard.push(&seg(C, S, 100, flags::SYN, b""), at(0));
        shard.push(&seg(S, C, 900, flags::SYN | flags::ACK, b""), at(0));
        shard.push(&seg(C, S, 105, flags::ACK, b"world"), at(1));
        shard.push(&seg(C, S, 101, flags::ACK, b"abcd"), at(1));
        shard.push(&seg(S, C, 906, flags::ACK, b"late"), at(2));
        shard.push(&seg(S, C, 901, flags::ACK, b"one"), at(2));
        shard.finish_all();
        let r = shard.finished.pop().unwrap();
        let (bytes, _) = r.handshake.unwrap();
        assert_eq!(bytes[0], b"abcdworld");
        // Two bytes (904, 905) never came: a gap, then the rest.
        assert_eq!(bytes[1], b"one??late");
        assert_eq!(
            (r.client.to_string(), r.server.to_string()),
            (C.into(), S.into())
        );
        assert!(r.syn_seen && r.anomalies.contains(&Anomaly::TcpGap));
        assert_eq!((r.client_bytes, r.server_bytes, r.packets), (9, 7, 6));
    }

    #[test]
    fn a_direction_the_consumer_is_done_with_is_only_counted() {
        let mut shard = Shard::<Recorder>::new();
        shard.push(&seg(C, S, 100, flags::SYN, b""), at(0));
        let key = FlowKey::new(C.parse().unwrap(), S.parse().unwrap());
        shard.table.get_mut(&key).unwrap().consumer.want = Some(4);
        shard.push(&seg(C, S, 101, flags::ACK, b"0123456789"), at(1));
        shard.push(&seg(C, S, 111, flags::ACK, b"abc"), at(1));
        shard.push(&seg(C, S, 114, flags::ACK, b"de"), at(1));
        shard.finish_all();
        let (bytes, skipped) = shard.finished.pop().unwrap().handshake.unwrap();
        assert_eq!((bytes[0].as_slice(), skipped[0]), (&b"0123456789"[..], 5));
    }

    #[test]
    fn the_consumer_names_the_client() {
        let mut shard = Shard::<Recorder>::new();
        shard.push(&seg(C, S, 100, flags::SYN, b""), at(0));
        shard.push(&seg(S, C, 900, flags::SYN | flags::ACK, b""), at(0));
        shard.push(&seg(S, C, 901, flags::ACK, b"hello"), at(1));
        shard.finish_all();
        let r = shard.finished.pop().unwrap();
        assert_eq!((r.client.to_string(), r.server_bytes), (S.into(), 0));
        assert_eq!(r.client_bytes, 5);
    }

    #[test]
    fn closed_connections_end_after_the_close_delay_half_closed_ones_do_not() {
        let mut shard = Shard::<Recorder>::new();
        open_and(
            &mut shard,
            "10.0.0.2:1000",
            &[(true, flags::FIN), (false, flags::FIN)],
        );
        open_and(&mut shard, "10.0.0.3:1000", &[(false, flags::RST)]);
        open_and(&mut shard, "10.0.0.4:1000", &[(true, flags::FIN)]);
        open_and(&mut shard, "10.0.0.5:1000", &[]);
        // Within the close delay nothing ends.
        shard.expire(1_000_000 + FLOW_CLOSE_DELAY_US);
        assert_eq!((shard.live(), shard.finished.len()), (4, 0));
        // Past it, the two closed ones end; the half-closed and the open one
        // wait for the idle timeout.
        shard.expire(1_000_001 + FLOW_CLOSE_DELAY_US);
        let mut ended: Vec<String> = shard
            .finished
            .iter()
            .map(|r| r.client.to_string())
            .collect();
        ended.sort();
        assert_eq!(ended, ["10.0.0.2:1000", "10.0.0.3:1000"]);
        assert_eq!(shard.live(), 2);
        shard.expire(1_000_001 + FLOW_IDLE_TIMEOUT_US);
        assert_eq!((shard.live(), shard.finished.len()), (0, 4));
        assert_eq!(shard.stats().timed_out, 4);
    }

    #[test]
    fn a_late_packet_after_the_close_delay_starts_a_new_connection() {
        let mut shard = Shard::<Recorder>::new();
        open_and(&mut shard, "10.0.0.2:1000", &[(true, flags::RST)]);
        // A retransmission inside the delay belongs to the connection.
        shard.push(&seg("10.0.0.2:1000", S, 101, flags::ACK, b""), at(3));
        assert_eq!((shard.live(), shard.finished.len()), (1, 0));
        // One after it (3 s + delay of silence) does not.
        shard.push(&seg("10.0.0.2:1000", S, 101, flags::ACK, b""), at(10));
        assert_eq!((shard.live(), shard.finished.len()), (1, 1));
        assert_eq!(shard.finished[0].packets, 4);
    }

    #[test]
    fn a_new_syn_after_fin_ends_the_connection_and_a_full_shard_evicts() {
        let mut shard = Shard::<Recorder>::with_limits(FlowLimits {
            max_flows_per_shard: 2,
            ..FlowLimits::default()
        });
        open_and(&mut shard, "10.0.0.2:1000", &[(true, flags::FIN)]);
        shard.push(&seg("10.0.0.2:1000", S, 5000, flags::SYN, b""), at(2));
        assert_eq!((shard.live(), shard.stats().reused), (1, 1));
        open_and(&mut shard, "10.0.0.3:1000", &[]);
        open_and(&mut shard, "10.0.0.4:1000", &[]);
        let stats = shard.stats();
        assert_eq!((shard.live(), stats.evicted, stats.segments), (2, 1, 8));
        let last = shard.finished.last().unwrap();
        assert_eq!(last.client.to_string(), "10.0.0.3:1000");
        assert!(last.anomalies.contains(&Anomaly::FlowEvicted));
    }
}
