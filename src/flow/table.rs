//! The live connections of one shard: a map from [`FlowKey`] to whatever a
//! transport keeps per connection, with the rules that bound it. TCP, QUIC
//! and DTLS shards each own one; what a connection is and how it ends into
//! a record stays theirs.
//!
//! A connection leaves the table when its transport removes it (a new
//! connection on the 4-tuple), when it went idle (capture time past its
//! [`FlowLimits::deadline`]), when the table is full and it is among the
//! least recently active eighth, or at the end of the input. Removals that
//! end several connections hand them over in a fixed order (key order, or
//! age then key) so that the output does not depend on hashing.

use super::types::{Activity, DatagramStats, FlowKey, FlowLimits, FlowRecord};
use crate::hash::FastMap;

/// Why a connection left its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Silent past its deadline.
    Idle,
    /// Its transport started a new connection on the 4-tuple (a new SYN, a
    /// new QUIC client Initial, a new DTLS ClientHello).
    Replaced,
    /// Given up to make room in a full table.
    Evicted,
    /// The input set ended.
    Input,
}

impl Ended {
    /// The record of a connection that ended this way: an evicted one
    /// carries the anomaly `flow_evicted`.
    pub fn mark<H>(self, rec: FlowRecord<H>) -> FlowRecord<H> {
        if self == Ended::Evicted {
            rec.into_evicted()
        } else {
            rec
        }
    }
}

/// The live connections of one shard. Owned by one worker at a time; no
/// locks.
pub struct Table<C> {
    limits: FlowLimits,
    /// Most live connections, at least one.
    capacity: usize,
    conns: FastMap<FlowKey, C>,
    /// Latest capture time seen: expiry never goes back before it.
    now: i64,
    packets: u64,
    opened: u64,
    evicted: u64,
    timed_out: u64,
}

impl<C: Activity> Table<C> {
    /// An empty table with these timeouts, holding at most `capacity`
    /// connections (at least one).
    pub fn new(limits: FlowLimits, capacity: usize) -> Table<C> {
        Table {
            limits,
            capacity: capacity.max(1),
            conns: FastMap::default(),
            now: 0,
            packets: 0,
            opened: 0,
            evicted: 0,
            timed_out: 0,
        }
    }

    /// Live connections.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// No live connection.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Packets given to [`Table::packet`].
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Connections started.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Connections ended early because the table was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Connections ended because they went idle.
    pub fn timed_out(&self) -> u64 {
        self.timed_out
    }

    /// The live connection of `key`, for tests that set a connection up.
    #[cfg(test)]
    pub(crate) fn get_mut(&mut self, key: &FlowKey) -> Option<&mut C> {
        self.conns.get_mut(key)
    }

    /// One packet of 4-tuple `key`, captured at `ts`, in capture order.
    ///
    /// The live connection of `key` takes it (`take` returns true) unless
    /// it went idle before `ts` or `take` refuses it (returns false: the
    /// packet starts another connection); either way that connection ends.
    /// Otherwise `start` may open a new connection with it, room being
    /// made first when the table is full (its least recently active
    /// eighth, oldest first). Every connection that ends goes to `ended`
    /// with the reason, in that order.
    pub fn packet(
        &mut self,
        key: FlowKey,
        ts: i64,
        take: impl FnOnce(&mut C) -> bool,
        start: impl FnOnce() -> Option<C>,
        mut ended: impl FnMut(C, Ended),
    ) {
        self.packets += 1;
        self.now = self.now.max(ts);
        let limits = self.limits;
        // One lookup for the common case: a packet of a live connection.
        let why = match self.conns.get_mut(&key) {
            Some(conn) if limits.is_idle(conn, ts) => Some(Ended::Idle),
            Some(conn) => {
                if take(conn) {
                    return;
                }
                Some(Ended::Replaced)
            }
            None => None,
        };
        if let Some(why) = why {
            if let Some(old) = self.conns.remove(&key) {
                if why == Ended::Idle {
                    self.timed_out += 1;
                }
                ended(old, why);
            }
        }
        let Some(conn) = start() else {
            return;
        };
        if self.conns.len() >= self.capacity {
            self.evict(&mut ended);
        }
        self.opened += 1;
        self.conns.insert(key, conn);
    }

    /// Removes the least recently active eighth (at least one), oldest
    /// first, counting them.
    fn evict(&mut self, ended: &mut impl FnMut(C, Ended)) {
        let mut by_age: Vec<(i64, FlowKey)> = self
            .conns
            .iter()
            .map(|(k, c)| (c.last_seen(), *k))
            .collect();
        by_age.sort_unstable();
        let n = (by_age.len() / 8).max(1);
        for (_, k) in by_age.into_iter().take(n) {
            if let Some(c) = self.conns.remove(&k) {
                self.evicted += 1;
                ended(c, Ended::Evicted);
            }
        }
    }

    /// Removes, in key order, the connections that had ended by capture
    /// time `now` (or the latest packet's time, if later), counting them as
    /// timed out.
    pub fn expire(&mut self, now: i64, mut ended: impl FnMut(C, Ended)) {
        let now = now.max(self.now);
        let limits = self.limits;
        let mut idle: Vec<FlowKey> = self
            .conns
            .iter()
            .filter(|(_, c)| limits.is_idle(*c, now))
            .map(|(k, _)| *k)
            .collect();
        idle.sort_unstable();
        for k in idle {
            if let Some(c) = self.conns.remove(&k) {
                self.timed_out += 1;
                ended(c, Ended::Idle);
            }
        }
    }

    /// Removes every connection, in key order (end of the input set).
    pub fn finish_all(&mut self, mut ended: impl FnMut(C, Ended)) {
        let mut live: Vec<FlowKey> = self.conns.keys().copied().collect();
        live.sort_unstable();
        for k in live {
            if let Some(c) = self.conns.remove(&k) {
                ended(c, Ended::Input);
            }
        }
    }
}

/// The `ended` callback of a shard that keeps its ended connections as
/// records: each is made one by `finish`, marked with why it ended
/// ([`Ended::mark`]) and appended to `out`.
pub fn ended_into<'o, C, H>(
    out: &'o mut Vec<FlowRecord<H>>,
    mut finish: impl FnMut(C) -> FlowRecord<H> + 'o,
) -> impl FnMut(C, Ended) + 'o {
    move |conn, why| out.push(why.mark(finish(conn)))
}

impl DatagramStats {
    /// The counters of a datagram shard that keeps its connections in
    /// `table`.
    pub fn of<C: Activity>(table: &Table<C>) -> DatagramStats {
        DatagramStats {
            datagrams: table.packets(),
            connections: table.opened(),
            evicted: table.evicted(),
            timed_out: table.timed_out(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Conn {
        last: i64,
        closed: bool,
    }

    impl Activity for Conn {
        fn last_seen(&self) -> i64 {
            self.last
        }
        fn closed(&self) -> bool {
            self.closed
        }
    }

    fn key(port: u16) -> FlowKey {
        FlowKey::new(
            format!("10.0.0.1:{port}").parse().unwrap(),
            "10.0.0.2:443".parse().unwrap(),
        )
    }

    fn limits() -> FlowLimits {
        FlowLimits {
            idle_timeout_us: 100,
            close_delay_us: 10,
            max_flows_per_shard: 16,
        }
    }

    fn conn(last: i64, closed: bool) -> Option<Conn> {
        Some(Conn { last, closed })
    }

    /// Opens a connection on `key` last seen at `last`; records what ends.
    fn open(t: &mut Table<Conn>, k: FlowKey, last: i64, gone: &mut Vec<(i64, Ended)>) {
        t.packet(
            k,
            last,
            |_| panic!("new key"),
            || conn(last, false),
            |c, why| {
                gone.push((c.last, why));
            },
        );
    }

    #[test]
    fn a_full_table_evicts_its_oldest_eighth_oldest_first() {
        let mut t = Table::new(limits(), 16);
        let mut gone = Vec::new();
        for p in 0..16u16 {
            // Ages out of key order: port p last seen at (16 - p) * 10.
            open(&mut t, key(p), i64::from(16 - p) * 10, &mut gone);
        }
        assert!(gone.is_empty());
        open(&mut t, key(100), 50, &mut gone);
        assert_eq!(gone, [(10, Ended::Evicted), (20, Ended::Evicted)]);
        assert_eq!((t.len(), t.evicted(), t.opened()), (15, 2, 17));
        // A live connection takes its packets and takes no room.
        t.packet(
            key(100),
            60,
            |c| {
                c.last = 60;
                true
            },
            || unreachable!(),
            |_, _| panic!("live"),
        );
        assert_eq!((t.len(), t.opened()), (15, 17));
    }

    #[test]
    fn a_refused_packet_replaces_the_connection_and_an_idle_one_times_out() {
        let mut t = Table::new(limits(), 4);
        let mut gone = Vec::new();
        open(&mut t, key(1), 0, &mut gone);
        t.packet(
            key(1),
            5,
            |_| false,
            || conn(5, false),
            |c, why| gone.push((c.last, why)),
        );
        assert_eq!(gone, [(0, Ended::Replaced)]);
        // 5 + 100 is its deadline: a packet after it ends it as idle, and a
        // start that declines leaves the 4-tuple empty.
        t.packet(
            key(1),
            106,
            |_| true,
            || None,
            |c, why| gone.push((c.last, why)),
        );
        assert_eq!(gone[1], (5, Ended::Idle));
        assert_eq!((t.len(), t.timed_out(), t.opened()), (0, 1, 2));
    }

    #[test]
    fn expiry_follows_the_close_delay_and_the_latest_time_seen() {
        let mut t = Table::new(limits(), 16);
        let mut gone = Vec::new();
        open(&mut t, key(1), 0, &mut gone);
        t.packet(key(2), 0, |_| true, || conn(0, true), |_, _| {});
        let mut ended = Vec::new();
        t.expire(10, |c, _| ended.push(c.last));
        assert!(ended.is_empty());
        t.expire(11, |c, why| {
            assert_eq!(why, Ended::Idle);
            ended.push(c.last)
        });
        assert_eq!((ended.len(), t.timed_out()), (1, 1));
        // A packet at 120 moves time on even when expire is asked earlier.
        open(&mut t, key(3), 50, &mut gone);
        open(&mut t, key(4), 120, &mut gone);
        t.expire(0, |c, _| ended.push(c.last));
        assert_eq!(ended, [0, 0]);
        assert_eq!(t.len(), 2);
        t.finish_all(|c, why| {
            assert_eq!(why, Ended::Input);
            ended.push(c.last)
        });
        assert_eq!(
            (ended, t.timed_out(), t.is_empty()),
            (vec![0, 0, 50, 120], 2, true)
        );
    }

    #[test]
    fn an_evicted_record_says_so() {
        let rec = |ended: Ended| {
            let r = FlowRecord::<()> {
                client: "10.0.0.1:1".parse().unwrap(),
                server: "10.0.0.2:2".parse().unwrap(),
                file: 0,
                first_frame: 0,
                ts_start: 0,
                ts_end: 0,
                packets: 0,
                client_bytes: 0,
                server_bytes: 0,
                client_ttl: None,
                server_ttl: None,
                syn_seen: false,
                handshake: None,
                decryption: None,
                anomalies: Vec::new(),
                transport: "tcp",
            };
            ended.mark(r).anomalies
        };
        assert_eq!(rec(Ended::Evicted), [crate::error::Anomaly::FlowEvicted]);
        for e in [Ended::Idle, Ended::Replaced, Ended::Input] {
            assert!(rec(e).is_empty());
        }
    }
}
