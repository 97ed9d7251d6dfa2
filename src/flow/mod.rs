//! TCP connections: decoded segments in capture order in, one `FlowRecord`
//! per connection out, with its TLS handshake when there was one.
//!
//! A `Shard` owns every connection whose canonical 4-tuple hashes to it, so
//! shards run on different cores without sharing anything. Each connection has
//! a `Reassembler` per direction feeding a `tls::Session`; once the session no
//! longer wants a direction's bytes, that direction is switched to passthrough
//! and further segments cost a hash lookup and a counter.
//!
//! A connection ends at the end of the input set, after `FLOW_IDLE_TIMEOUT_US`
//! of silence (`FLOW_CLOSE_DELAY_US` once it was closed by RST or by FIN from
//! both ends), or when a new SYN reuses its 4-tuple after FIN/RST or with
//! another initial sequence number. QUIC connections (UDP) have their own
//! shards in `crate::quic`, producing the same `FlowRecord`.

mod reassembly;

pub use reassembly::{Chunk, Counters, Reassembler};

use crate::error::Anomaly;
use std::net::{IpAddr, SocketAddr};

use crate::limits::{FLOW_CLOSE_DELAY_US, FLOW_IDLE_TIMEOUT_US, MAX_FLOWS_PER_SHARD};
use crate::tls::{Decryption, Handshake, KeyLog, Session, Side};

/// TCP flag bits (RFC 9293 section 3.1), as decode reads them.
pub use crate::decode::tcp_flags as flags;
use crate::hash::mix;
pub use crate::hash::{FastHasher, FastMap};

/// One TCP segment as the flow stage needs it; borrows the payload.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful with the ACK flag).
    pub ack: u32,
    /// TCP flags (see [`flags`]).
    pub flags: u8,
    /// IP TTL or hop limit.
    pub ttl: u8,
    /// TCP payload.
    pub payload: &'a [u8],
    /// Capture time, µs since the Unix epoch.
    pub ts_us: i64,
    /// Index of the capture file in the run.
    pub file: u32,
    /// Index of the frame in its file.
    pub frame: u64,
}

/// The 4-tuple with the lower endpoint first, so both directions share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    lo: SocketAddr,
    hi: SocketAddr,
}

impl FlowKey {
    /// The canonical key of a segment from `src` to `dst`.
    pub fn new(src: SocketAddr, dst: SocketAddr) -> FlowKey {
        if src <= dst {
            FlowKey { lo: src, hi: dst }
        } else {
            FlowKey { lo: dst, hi: src }
        }
    }

    /// A well-mixed hash for picking a shard; the same in both directions.
    pub fn shard_hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for addr in [self.lo, self.hi] {
            match addr.ip() {
                IpAddr::V4(ip) => h = mix(h, u64::from(u32::from(ip))),
                IpAddr::V6(ip) => {
                    let v = u128::from(ip);
                    h = mix(h, v as u64);
                    h = mix(h, (v >> 64) as u64);
                }
            }
            h = mix(h, u64::from(addr.port()));
        }
        h
    }
}

/// A finished connection, owned, ready for the tables.
#[derive(Debug)]
pub struct FlowRecord {
    /// The TLS client (the SYN sender when no TLS was seen).
    pub client: SocketAddr,
    /// The TLS server.
    pub server: SocketAddr,
    /// File index of the first packet.
    pub file: u32,
    /// Frame index of the first packet in that file.
    pub first_frame: u64,
    /// Time of the first packet, µs.
    pub ts_start: i64,
    /// Time of the last packet, µs.
    pub ts_end: i64,
    /// Packets in both directions.
    pub packets: u64,
    /// TCP payload bytes client to server (retransmissions included).
    pub client_bytes: u64,
    /// TCP payload bytes server to client.
    pub server_bytes: u64,
    /// IP TTL of the client's first packet.
    pub client_ttl: Option<u8>,
    /// IP TTL of the server's first packet.
    pub server_ttl: Option<u8>,
    /// True when the connection's SYN was captured.
    pub syn_seen: bool,
    /// The TLS handshake, when TLS was seen.
    pub handshake: Option<Handshake>,
    /// What became of the key-log decryption of a TLS 1.3 handshake flight
    /// ("decrypted", "no_keys", "wrong_key", "failed"); None when not tried.
    pub decryption: Option<&'static str>,
    /// Reassembly anomalies (short codes).
    pub anomalies: Vec<Anomaly>,
    /// "tcp", or "quic" for a QUIC connection (see `crate::quic`).
    pub transport: &'static str,
}

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

struct Conn {
    /// The endpoint that is side A (SYN sender, or first packet's sender).
    a: SocketAddr,
    /// The other endpoint, side B.
    b: SocketAddr,
    dirs: [Direction; 2],
    session: Session,
    syn_seq: Option<u32>,
    /// FIN or RST seen: a new SYN on the 4-tuple starts a new connection.
    closing: bool,
    /// FIN seen from side A, from side B.
    fin: [bool; 2],
    /// RST seen.
    reset: bool,
    file: u32,
    first_frame: u64,
    ts_start: i64,
    ts_last: i64,
}

impl Conn {
    fn new(seg: &Segment<'_>) -> Conn {
        // A SYN-ACK seen first means the other end opened the connection.
        let (a, b) = if seg.flags & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK {
            (seg.dst, seg.src)
        } else {
            (seg.src, seg.dst)
        };
        let dir = || Direction {
            reasm: Reassembler::new(),
            ttl: None,
            packets: 0,
            isns: Vec::new(),
            isn_settled: false,
            several_isns: false,
        };
        Conn {
            a,
            b,
            dirs: [dir(), dir()],
            session: Session::new(),
            syn_seq: None,
            closing: false,
            fin: [false; 2],
            reset: false,
            file: seg.file,
            first_frame: seg.frame,
            ts_start: seg.ts_us,
            ts_last: seg.ts_us,
        }
    }

    /// Closed by RST or by FIN from both ends.
    fn closed(&self) -> bool {
        self.reset || self.fin == [true, true]
    }

    fn side_of(&self, src: SocketAddr) -> Side {
        if src == self.a {
            Side::A
        } else {
            Side::B
        }
    }

    fn push(&mut self, seg: &Segment<'_>) {
        let side = self.side_of(seg.src);
        let idx = usize::from(side == Side::B);
        self.ts_last = self.ts_last.max(seg.ts_us);
        let Conn { dirs, session, .. } = self;
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
            session.skip(side, n);
            return;
        }
        let ts = seg.ts_us;
        // Data on a SYN (TCP Fast Open, RFC 7413) starts after the SYN's own
        // sequence number.
        let seq = if seg.flags & flags::SYN != 0 {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        dir.reasm.push(seq, seg.payload, &mut |chunk| match chunk {
            Chunk::Data(d) => session.feed(side, d, ts),
            Chunk::Gap(n) => session.gap(side, n),
        });
        if !session.wants_bytes(side) {
            dir.reasm.set_passthrough();
        }
    }

    fn finish(mut self, keys: &KeyLog) -> FlowRecord {
        let ts = self.ts_last;
        for (idx, side) in [(0usize, Side::A), (1, Side::B)] {
            let Conn { dirs, session, .. } = &mut self;
            if let Some(dir) = dirs.get_mut(idx) {
                if !dir.reasm.is_passthrough() {
                    dir.reasm.flush(&mut |chunk| match chunk {
                        Chunk::Data(d) => session.feed(side, d, ts),
                        Chunk::Gap(n) => session.gap(side, n),
                    });
                }
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
        let mut handshake = if self.session.is_tls() {
            self.session.finish()
        } else {
            None
        };
        // Decrypt a TLS 1.3 flight now, while its ciphertext is at hand, and
        // drop the ciphertext whatever the outcome: finished flows are kept
        // until the end of the run.
        let decryption = handshake.as_mut().and_then(|h| {
            let outcome = h.decrypt(keys);
            h.discard_encrypted_flight();
            (outcome != Decryption::NotApplicable).then_some(outcome.as_str())
        });
        let b_addr = self.b;
        let client_is_a = handshake.as_ref().is_none_or(|h| h.client_side == Side::A);
        let (client, server, cdir, sdir, cc, sc) = if client_is_a {
            (self.a, b_addr, &da, &db, ca, cb)
        } else {
            (b_addr, self.a, &db, &da, cb, ca)
        };
        FlowRecord {
            client,
            server,
            file: self.file,
            first_frame: self.first_frame,
            ts_start: self.ts_start,
            ts_end: self.ts_last,
            packets: da.packets + db.packets,
            client_bytes: cc.segment_bytes,
            server_bytes: sc.segment_bytes,
            client_ttl: cdir.ttl,
            server_ttl: sdir.ttl,
            syn_seen: self.syn_seq.is_some(),
            handshake,
            decryption,
            anomalies,
            transport: "tcp",
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

/// Caps a shard applies; defaults from `limits.rs`, set from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLimits {
    /// A connection idle this long (capture time) is finished.
    pub idle_timeout_us: i64,
    /// A closed connection (RST, or FIN both ways) silent this long is
    /// finished (never later than the idle timeout).
    pub close_delay_us: i64,
    /// Live connections per shard; past it the least recently active eighth
    /// is finished early (anomaly `flow_evicted`).
    pub max_flows_per_shard: usize,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            idle_timeout_us: FLOW_IDLE_TIMEOUT_US,
            close_delay_us: FLOW_CLOSE_DELAY_US,
            max_flows_per_shard: MAX_FLOWS_PER_SHARD,
        }
    }
}

/// Counters of one shard of datagram connections (QUIC, DTLS).
#[derive(Debug, Default, Clone, Copy)]
pub struct DatagramStats {
    /// Datagrams seen.
    pub datagrams: u64,
    /// Connections started.
    pub connections: u64,
    /// Connections ended early because the shard was full.
    pub evicted: u64,
    /// Connections ended by idle timeout.
    pub timed_out: u64,
}

/// The connections of one shard of the flow table. Owned by one worker at a
/// time; no locks.
#[derive(Default)]
pub struct Shard {
    limits: FlowLimits,
    /// Boxed: a table sized for its busiest moment costs a pointer per empty
    /// slot, not a whole connection's state (`Conn` is about 2 KB; the
    /// inline table of 64 shards was 180 MB on a 222k-connection capture).
    conns: FastMap<FlowKey, Box<Conn>>,
    /// Connections ended so far, in the order they ended.
    pub finished: Vec<FlowRecord>,
    /// What this shard counted.
    pub stats: ShardStats,
    now: i64,
}

impl Shard {
    /// An empty shard with the default caps.
    pub fn new() -> Shard {
        Shard::default()
    }

    /// An empty shard with these caps.
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

    /// Takes one segment; segments must arrive in capture order. `keys`
    /// decrypts TLS 1.3 flights of connections this ends.
    pub fn push(&mut self, seg: &Segment<'_>, keys: &KeyLog) {
        self.stats.segments += 1;
        self.now = self.now.max(seg.ts_us);
        let key = FlowKey::new(seg.src, seg.dst);
        let pure_syn = seg.flags & (flags::SYN | flags::ACK) == flags::SYN;
        if let Some(conn) = self.conns.get(&key) {
            let idle = seg.ts_us > self.deadline(conn);
            let reused = pure_syn
                && (conn.closing
                    || conn.syn_seq.is_some_and(|s| s != seg.seq)
                    || seg.src != conn.a);
            if idle || reused {
                if let Some(old) = self.conns.remove(&key) {
                    if idle {
                        self.stats.timed_out += 1;
                    } else {
                        self.stats.reused += 1;
                    }
                    self.finished.push(old.finish(keys));
                }
            }
        }
        if !self.conns.contains_key(&key)
            && self.conns.len() >= self.limits.max_flows_per_shard.max(1)
        {
            self.evict(keys);
        }
        self.conns
            .entry(key)
            .or_insert_with(|| Box::new(Conn::new(seg)))
            .push(seg);
    }

    /// When `conn` ends if nothing more arrives (capture time).
    fn deadline(&self, conn: &Conn) -> i64 {
        deadline(&self.limits, conn)
    }

    /// Ends connections idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: i64, keys: &KeyLog) {
        let now = now.max(self.now);
        let limits = self.limits;
        for conn in take_idle(&mut self.conns, now, |c| deadline(&limits, c)) {
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

/// When `conn` ends if nothing more arrives: its last packet plus the idle
/// timeout, or plus the close delay once it was closed.
fn deadline(limits: &FlowLimits, conn: &Conn) -> i64 {
    let wait = if conn.closed() {
        limits.close_delay_us.min(limits.idle_timeout_us)
    } else {
        limits.idle_timeout_us
    };
    conn.ts_last.saturating_add(wait)
}

/// Removes and returns, in key order, the connections whose `deadline`
/// (capture time: last packet plus the timeout that applies) is before
/// `now`. Shared by the TCP and QUIC shards.
pub(crate) fn take_idle<C>(
    conns: &mut FastMap<FlowKey, C>,
    now: i64,
    deadline: impl Fn(&C) -> i64,
) -> Vec<C> {
    let mut idle: Vec<FlowKey> = conns
        .iter()
        .filter(|(_, c)| now > deadline(c))
        .map(|(k, _)| *k)
        .collect();
    idle.sort_unstable();
    idle.into_iter().filter_map(|k| conns.remove(&k)).collect()
}

/// Removes and returns every connection, in key order.
pub(crate) fn take_all<C>(conns: &mut FastMap<FlowKey, C>) -> Vec<C> {
    let mut live: Vec<FlowKey> = conns.keys().copied().collect();
    live.sort_unstable();
    live.into_iter().filter_map(|k| conns.remove(&k)).collect()
}

/// Removes and returns the least recently active eighth of the connections
/// (at least one), oldest first: what a full shard gives up.
pub(crate) fn take_oldest_eighth<C>(
    conns: &mut FastMap<FlowKey, C>,
    last: impl Fn(&C) -> i64,
) -> Vec<C> {
    let mut by_age: Vec<(i64, FlowKey)> = conns.iter().map(|(k, c)| (last(c), *k)).collect();
    by_age.sort_unstable();
    let n = (by_age.len() / 8).max(1);
    by_age
        .into_iter()
        .take(n)
        .filter_map(|(_, k)| conns.remove(&k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(src: &str, dst: &str, seq: u32, fl: u8, ts_s: i64) -> Segment<'static> {
        Segment {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            seq,
            ack: 0,
            flags: fl,
            ttl: 64,
            payload: b"",
            ts_us: ts_s * 1_000_000,
            file: 0,
            frame: 0,
        }
    }

    /// Opens a connection from `c` to 10.0.0.1:443 at time 0, then sends
    /// `closing` (side, flags) at 1 s.
    fn open_and(shard: &mut Shard, c: &str, closing: &[(bool, u8)]) {
        let s = "10.0.0.1:443";
        let keys = KeyLog::new();
        shard.push(&seg(c, s, 100, flags::SYN, 0), &keys);
        shard.push(&seg(s, c, 900, flags::SYN | flags::ACK, 0), &keys);
        for &(from_client, fl) in closing {
            let (a, b) = if from_client { (c, s) } else { (s, c) };
            shard.push(&seg(a, b, 101, fl | flags::ACK, 1), &keys);
        }
    }

    const C: &str = "10.0.0.2:40000";
    const S: &str = "10.0.0.1:443";

    fn data<'a>(src: &str, dst: &str, seq: u32, ack: u32, payload: &'a [u8]) -> Segment<'a> {
        Segment {
            ack,
            payload,
            ..seg(src, dst, seq, flags::ACK, 0)
        }
    }

    /// A hello record (RFC 5246 §7.4.1.2-3) with no session id and no
    /// extensions: ClientHello offering `cipher`, or ServerHello choosing it.
    fn hello(ty: u8, cipher: u16) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        if ty == 1 {
            body.extend_from_slice(&[0, 2]);
        }
        body.extend_from_slice(&cipher.to_be_bytes());
        body.extend_from_slice(if ty == 1 { &[1, 0] } else { &[0] });
        body.extend_from_slice(&[0, 0]);
        let mut msg = vec![ty, 0, 0, body.len() as u8];
        msg.extend_from_slice(&body);
        let mut rec = vec![22, 3, 3, 0, msg.len() as u8];
        rec.extend_from_slice(&msg);
        rec
    }

    fn finish(shard: &mut Shard) -> FlowRecord {
        shard.finish_all(&KeyLog::new());
        assert_eq!(shard.finished.len(), 1);
        shard.finished.pop().unwrap()
    }

    /// SYN, then SYN-ACKs with these ISNs, then the client's ACK of
    /// `acked`, then both hellos (the server's after `acked`).
    fn several_synacks(isns: &[u32], acked: u32, ack_first: bool) -> FlowRecord {
        let mut shard = Shard::new();
        let keys = KeyLog::new();
        shard.push(&seg(C, S, 100, flags::SYN, 0), &keys);
        for &isn in isns {
            let sa = Segment {
                ack: 101,
                ..seg(S, C, isn, flags::SYN | flags::ACK, 0)
            };
            shard.push(&sa, &keys);
        }
        let ch = hello(1, 0xc02f);
        let sh = hello(2, 0xc02f);
        let server_data = data(S, C, acked.wrapping_add(1), 101 + ch.len() as u32, &sh);
        if !ack_first {
            shard.push(&server_data, &keys);
        }
        shard.push(&data(C, S, 101, acked.wrapping_add(1), b""), &keys);
        shard.push(&data(C, S, 101, acked.wrapping_add(1), &ch), &keys);
        if ack_first {
            shard.push(&server_data, &keys);
        }
        finish(&mut shard)
    }

    #[test]
    fn issue_30_the_acknowledged_synack_is_followed() {
        for (isns, acked) in [
            (&[5000, 9000][..], 9000),
            (&[5000, 9000][..], 5000),
            (&[u32::MAX, 7, 70_000][..], 7),
        ] {
            for ack_first in [true, false] {
                let r = several_synacks(isns, acked, ack_first);
                let h = r.handshake.as_ref().expect("tls");
                assert_eq!(h.cipher, Some(0xc02f), "{isns:?} {acked} {ack_first}");
                assert!(r.anomalies.contains(&Anomaly::TcpMultipleSynack));
                assert!(
                    !r.anomalies.contains(&Anomaly::TcpMidstream),
                    "{:?}",
                    r.anomalies
                );
                assert!(!r.anomalies.contains(&Anomaly::TcpGap), "{:?}", r.anomalies);
            }
        }
    }

    #[test]
    fn issue_30_a_retransmitted_synack_is_no_anomaly() {
        let r = several_synacks(&[5000, 5000], 5000, true);
        assert_eq!(r.handshake.as_ref().and_then(|h| h.cipher), Some(0xc02f));
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
    }

    #[test]
    fn issue_30_bogus_first_bytes_do_not_hide_the_handshake() {
        // A 1-byte and a 2-byte bogus segment at the first sequence number of
        // each direction, sent before the real hellos at the same numbers.
        for (bogus_c, bogus_s) in [(&b"X"[..], &b"\0\0"[..]), (b"GE", b"H")] {
            let mut shard = Shard::new();
            let keys = KeyLog::new();
            shard.push(&seg(C, S, 100, flags::SYN, 0), &keys);
            let sa = Segment {
                ack: 101,
                ..seg(S, C, 5000, flags::SYN | flags::ACK, 0)
            };
            shard.push(&sa, &keys);
            shard.push(&data(C, S, 101, 5001, bogus_c), &keys);
            shard.push(&data(S, C, 5001, 101, bogus_s), &keys);
            let ch = hello(1, 0x1301);
            shard.push(&data(C, S, 101, 5001, &ch), &keys);
            shard.push(
                &data(S, C, 5001, 101 + ch.len() as u32, &hello(2, 0x1301)),
                &keys,
            );
            let r = finish(&mut shard);
            let h = r.handshake.as_ref().expect("tls row kept");
            assert_eq!(h.cipher, Some(0x1301));
            assert!(h.client_hello.is_some());
            assert!(r.anomalies.contains(&Anomaly::TcpConflictingOverlap));
        }
    }

    #[test]
    fn issue_30_a_bogus_overlap_after_the_handshake_bytes_loses() {
        let mut shard = Shard::new();
        let keys = KeyLog::new();
        shard.push(&seg(C, S, 100, flags::SYN, 0), &keys);
        let ch = hello(1, 0x1301);
        shard.push(&data(C, S, 101, 0, &ch), &keys);
        shard.push(&data(C, S, 101, 0, b"X"), &keys);
        let r = finish(&mut shard);
        assert!(r
            .handshake
            .as_ref()
            .is_some_and(|h| h.client_hello.is_some()));
        assert!(r.anomalies.contains(&Anomaly::TcpConflictingOverlap));
    }

    #[test]
    fn closed_connections_end_after_the_close_delay_half_closed_ones_do_not() {
        let mut shard = Shard::new();
        let keys = KeyLog::new();
        open_and(
            &mut shard,
            "10.0.0.2:1000",
            &[(true, flags::FIN), (false, flags::FIN)],
        );
        open_and(&mut shard, "10.0.0.3:1000", &[(false, flags::RST)]);
        open_and(&mut shard, "10.0.0.4:1000", &[(true, flags::FIN)]);
        open_and(&mut shard, "10.0.0.5:1000", &[]);
        // Within the close delay nothing ends.
        shard.expire(1_000_000 + FLOW_CLOSE_DELAY_US, &keys);
        assert_eq!((shard.live(), shard.finished.len()), (4, 0));
        // Past it, the two closed ones end; the half-closed and the open one
        // wait for the idle timeout.
        shard.expire(1_000_001 + FLOW_CLOSE_DELAY_US, &keys);
        let mut ended: Vec<String> = shard
            .finished
            .iter()
            .map(|r| r.client.to_string())
            .collect();
        ended.sort();
        assert_eq!(ended, ["10.0.0.2:1000", "10.0.0.3:1000"]);
        assert_eq!(shard.live(), 2);
        shard.expire(1_000_001 + FLOW_IDLE_TIMEOUT_US, &keys);
        assert_eq!((shard.live(), shard.finished.len()), (0, 4));
    }

    #[test]
    fn a_late_packet_after_the_close_delay_starts_a_new_connection() {
        let mut shard = Shard::new();
        let keys = KeyLog::new();
        open_and(&mut shard, "10.0.0.2:1000", &[(true, flags::RST)]);
        // A retransmission inside the delay belongs to the connection.
        shard.push(
            &seg("10.0.0.2:1000", "10.0.0.1:443", 101, flags::ACK, 3),
            &keys,
        );
        assert_eq!((shard.live(), shard.finished.len()), (1, 0));
        // One after it (3 s + delay of silence) does not.
        shard.push(
            &seg("10.0.0.2:1000", "10.0.0.1:443", 101, flags::ACK, 10),
            &keys,
        );
        assert_eq!((shard.live(), shard.finished.len()), (1, 1));
        assert_eq!(shard.finished[0].packets, 4);
    }
}
