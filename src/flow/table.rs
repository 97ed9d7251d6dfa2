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

use super::{FastMap, FlowKey, FlowLimits};

/// What the table needs to know of a connection to expire it.
pub trait Activity {
    /// Capture time of the connection's last packet, µs.
    fn last_seen(&self) -> i64;

    /// Closed (TCP RST, or FIN from both ends): it ends after the close
    /// delay rather than the idle timeout.
    fn closed(&self) -> bool {
        false
    }
}

impl<T: Activity> Activity for Box<T> {
    fn last_seen(&self) -> i64 {
        T::last_seen(self)
    }

    fn closed(&self) -> bool {
        T::closed(self)
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
            evicted: 0,
            timed_out: 0,
        }
    }

    /// The timeouts and cap the table was made with.
    pub fn limits(&self) -> FlowLimits {
        self.limits
    }

    /// Live connections.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// No live connection.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Connections ended early because the table was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Connections ended because they went idle.
    pub fn timed_out(&self) -> u64 {
        self.timed_out
    }

    /// Notes a packet's capture time.
    pub fn advance(&mut self, ts: i64) {
        self.now = self.now.max(ts);
    }

    /// The live connection of `key`.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut C> {
        self.conns.get_mut(key)
    }

    /// Removes the connection of `key` (its transport ended it).
    pub fn remove(&mut self, key: &FlowKey) -> Option<C> {
        self.conns.remove(key)
    }

    /// Removes the connection of `key`, which went idle, and counts it as
    /// timed out.
    pub fn remove_idle(&mut self, key: &FlowKey) -> Option<C> {
        let conn = self.conns.remove(key);
        if conn.is_some() {
            self.timed_out += 1;
        }
        conn
    }

    /// Adds a connection under `key` (which has none), first making room:
    /// when the table is full, its least recently active eighth is
    /// removed and handed, oldest first, to `evicted`.
    pub fn insert(&mut self, key: FlowKey, conn: C, evicted: impl FnMut(C)) -> &mut C {
        self.get_or_insert_with(key, || conn, evicted)
    }

    /// The connection of `key`; when there is none, one made by `new`,
    /// room being made first as in [`Table::insert`].
    pub fn get_or_insert_with(
        &mut self,
        key: FlowKey,
        new: impl FnOnce() -> C,
        evicted: impl FnMut(C),
    ) -> &mut C {
        if self.conns.len() >= self.capacity && !self.conns.contains_key(&key) {
            self.evict(evicted);
        }
        self.conns.entry(key).or_insert_with(new)
    }

    /// Removes the least recently active eighth (at least one), oldest
    /// first, counting them.
    fn evict(&mut self, mut evicted: impl FnMut(C)) {
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
                evicted(c);
            }
        }
    }

    /// Removes, in key order, the connections that had ended by capture
    /// time `now` (or the latest packet's time, if later), counting them as
    /// timed out.
    pub fn expire(&mut self, now: i64, mut ended: impl FnMut(C)) {
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
                ended(c);
            }
        }
    }

    /// Removes every connection, in key order (end of the input set).
    pub fn finish_all(&mut self, mut ended: impl FnMut(C)) {
        let mut live: Vec<FlowKey> = self.conns.keys().copied().collect();
        live.sort_unstable();
        for k in live {
            if let Some(c) = self.conns.remove(&k) {
                ended(c);
            }
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

    #[test]
    fn a_full_table_evicts_its_oldest_eighth_oldest_first() {
        let mut t = Table::new(limits(), 16);
        for p in 0..16u16 {
            // Ages out of key order: port p last seen at (16 - p) * 10.
            let c = Conn {
                last: i64::from(16 - p) * 10,
                closed: false,
            };
            t.insert(key(p), c, |_| panic!("not full yet"));
        }
        let mut gone = Vec::new();
        t.insert(
            key(100),
            Conn {
                last: 1000,
                closed: false,
            },
            |c| gone.push(c.last),
        );
        assert_eq!(gone, [10, 20]);
        assert_eq!((t.len(), t.evicted()), (15, 2));
        // A connection already present takes no room.
        t.get_or_insert_with(key(100), || unreachable!(), |_| panic!("present"));
        assert_eq!(t.len(), 15);
    }

    #[test]
    fn expiry_follows_the_close_delay_and_the_latest_time_seen() {
        let mut t = Table::new(limits(), 16);
        let open = |last| Conn {
            last,
            closed: false,
        };
        t.insert(key(1), open(0), |_| {});
        t.insert(
            key(2),
            Conn {
                last: 0,
                closed: true,
            },
            |_| {},
        );
        t.insert(key(3), open(50), |_| {});
        let mut ended = Vec::new();
        t.expire(10, |c| ended.push(c.last));
        assert!(ended.is_empty());
        t.expire(11, |c| ended.push(c.last));
        assert_eq!((ended.len(), t.timed_out()), (1, 1));
        // A packet at 120 moves time on even when expire is asked earlier.
        t.advance(120);
        t.expire(0, |c| ended.push(c.last));
        assert_eq!(ended, [0, 0]);
        assert_eq!(t.len(), 1);
        t.finish_all(|c| ended.push(c.last));
        assert_eq!(
            (ended, t.timed_out(), t.is_empty()),
            (vec![0, 0, 50], 2, true)
        );
    }

    #[test]
    fn a_connection_removed_as_idle_is_counted() {
        let mut t = Table::new(limits(), 1);
        t.insert(
            key(1),
            Conn {
                last: 0,
                closed: false,
            },
            |_| {},
        );
        assert!(t.remove_idle(&key(2)).is_none());
        assert!(t.remove_idle(&key(1)).is_some());
        assert_eq!(t.timed_out(), 1);
        t.insert(
            key(1),
            Conn {
                last: 0,
                closed: false,
            },
            |_| {},
        );
        assert!(t.remove(&key(1)).is_some());
        assert_eq!(t.timed_out(), 1);
    }
}
