//! IP fragment reassembly (RFC 791 section 3.2, RFC 8200 section 4.5), bounded:
//! at most `MAX_DEFRAG_IN_FLIGHT` datagrams, `MAX_DEFRAG_DATAGRAM_BYTES` per
//! datagram, `MAX_FRAGMENTS_PER_DATAGRAM` fragments each, and a time-out in
//! capture time. Overlaps keep the bytes that arrived first (the choice of
//! most stacks); an overlap whose bytes differ is an evasion or injection
//! attempt and is counted in `conflicts`.

use std::collections::HashMap;
use std::net::IpAddr;

use super::Fragment;
use crate::limits::{
    DEFRAG_TIMEOUT_US, MAX_DEFRAG_DATAGRAM_BYTES, MAX_DEFRAG_IN_FLIGHT, MAX_FRAGMENTS_PER_DATAGRAM,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    protocol: u8,
    ipv6: bool,
}

#[derive(Debug)]
struct Pending {
    last_ts_us: i64,
    /// `Defragmenter::fed` when a fragment of this datagram last came.
    last_fed: u64,
    /// Header of the first fragment seen (of the offset-0 one once seen).
    header: Vec<u8>,
    have_first: bool,
    data: Vec<u8>,
    /// Covered byte ranges, sorted and disjoint.
    ranges: Vec<(usize, usize)>,
    /// Datagram payload length, once the last fragment is seen.
    total: Option<usize>,
    fragments: usize,
}

/// Rebuilds IP datagrams from their fragments.
#[derive(Debug, Default)]
pub struct Defragmenter {
    pending: HashMap<Key, Pending>,
    /// Fragments taken so far: the order eviction goes by.
    fed: u64,
    conflicts: u64,
    dropped: u64,
}

impl Defragmenter {
    /// An empty reassembler.
    pub fn new() -> Defragmenter {
        Defragmenter::default()
    }

    /// Overlapping fragments whose bytes disagreed with earlier ones.
    pub fn conflicts(&self) -> u64 {
        self.conflicts
    }

    /// Datagrams (or fragments) given up: over a cap, malformed, timed out
    /// or evicted.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Datagrams currently waiting for fragments.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Adds a fragment seen at capture time `ts_us`. Returns the whole
    /// datagram (a rebuilt IP header and the payload, fit for
    /// `decode::decode_ip`) when this fragment completes it.
    pub fn push(&mut self, frag: &Fragment<'_>, ts_us: i64) -> Option<Vec<u8>> {
        let key = Key {
            src: frag.src,
            dst: frag.dst,
            id: frag.id,
            protocol: frag.protocol,
            ipv6: frag.ipv6,
        };
        let start = usize::try_from(frag.offset).ok()?;
        let end = start.checked_add(frag.payload.len())?;
        let too_big = end > MAX_DEFRAG_DATAGRAM_BYTES;
        // Every fragment but the last carries a multiple of 8 bytes.
        let misaligned = frag.more && frag.payload.len() & 7 != 0;
        let min_header = if frag.ipv6 { 40 } else { 20 };
        if too_big || misaligned || frag.header.len() < min_header {
            self.dropped += 1;
            if too_big {
                // The datagram cannot be rebuilt: forget what we hold of it.
                self.pending.remove(&key);
            }
            return None;
        }
        if let Some(p) = self.pending.get(&key) {
            if ts_us.saturating_sub(p.last_ts_us) > DEFRAG_TIMEOUT_US {
                self.pending.remove(&key);
                self.dropped += 1;
            }
        }
        if !self.pending.contains_key(&key) {
            self.make_room(ts_us);
        }
        self.fed += 1;
        let fed = self.fed;
        let p = self.pending.entry(key).or_insert_with(|| Pending {
            last_ts_us: ts_us,
            last_fed: fed,
            header: frag.header.to_vec(),
            have_first: false,
            data: Vec::new(),
            ranges: Vec::new(),
            total: None,
            fragments: 0,
        });
        p.last_ts_us = ts_us;
        p.last_fed = fed;
        p.fragments += 1;
        if p.fragments > MAX_FRAGMENTS_PER_DATAGRAM {
            self.pending.remove(&key);
            self.dropped += 1;
            return None;
        }
        if start == 0 && !p.have_first {
            p.have_first = true;
            p.header = frag.header.to_vec();
        }
        if !frag.more {
            match p.total {
                Some(t) if t != end => self.conflicts += 1,
                Some(_) => {}
                None => p.total = Some(end),
            }
        }
        if p.data.len() < end {
            p.data.resize(end, 0);
        }
        if write_first_wins(p, start, frag.payload) {
            self.conflicts += 1;
        }
        let total = p.total?;
        let covered = total == 0 || p.ranges.first().is_some_and(|&(a, b)| a == 0 && b >= total);
        if !covered {
            return None;
        }
        let p = self.pending.remove(&key)?;
        let datagram = rebuild(&p, total, frag.protocol, frag.ipv6);
        if datagram.is_none() {
            self.dropped += 1;
        }
        datagram
    }

    /// Drops timed-out datagrams, then the least recently fed one, until a
    /// new datagram fits under `MAX_DEFRAG_IN_FLIGHT`. "Least recently" is
    /// by arrival, not by timestamp: a flood stamped with one time (or going
    /// back in time) must not leave the choice to the map's hash order,
    /// which differs from run to run.
    fn make_room(&mut self, now: i64) {
        if self.pending.len() < MAX_DEFRAG_IN_FLIGHT {
            return;
        }
        let before = self.pending.len();
        self.pending
            .retain(|_, p| now.saturating_sub(p.last_ts_us) <= DEFRAG_TIMEOUT_US);
        self.dropped += (before - self.pending.len()) as u64;
        while self.pending.len() >= MAX_DEFRAG_IN_FLIGHT {
            let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.last_fed)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.pending.remove(&oldest);
            self.dropped += 1;
        }
    }
}

/// Copies the parts of `bytes` (at `start`) not yet covered, and merges the
/// range. True when an already covered part differs from `bytes`.
fn write_first_wins(p: &mut Pending, start: usize, bytes: &[u8]) -> bool {
    let end = start + bytes.len();
    let mut conflict = false;
    let mut cursor = start;
    for &(a, b) in &p.ranges {
        if b <= cursor || a >= end {
            continue;
        }
        // Uncovered gap [cursor, a) is new data.
        if a > cursor {
            copy(&mut p.data, cursor, bytes, cursor - start, a - cursor);
        }
        // Overlap [max(a, cursor), min(b, end)) must agree.
        let (o1, o2) = (a.max(cursor), b.min(end));
        if p.data.get(o1..o2) != bytes.get(o1 - start..o2 - start) {
            conflict = true;
        }
        cursor = o2;
    }
    if cursor < end {
        copy(&mut p.data, cursor, bytes, cursor - start, end - cursor);
    }
    if start < end {
        p.ranges.push((start, end));
        p.ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(p.ranges.len());
        for &(a, b) in &p.ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        p.ranges = merged;
    }
    conflict
}

fn copy(dst: &mut [u8], at: usize, src: &[u8], from: usize, n: usize) {
    if let (Some(d), Some(s)) = (dst.get_mut(at..at + n), src.get(from..from + n)) {
        d.copy_from_slice(s);
    }
}

/// The IP header for the whole datagram, then the payload.
fn rebuild(p: &Pending, total: usize, protocol: u8, ipv6: bool) -> Option<Vec<u8>> {
    let payload = p.data.get(..total)?;
    let mut out;
    if ipv6 {
        out = p.header.get(..40)?.to_vec();
        let len = u16::try_from(total).ok()?.to_be_bytes();
        out.splice(4..6, len);
        *out.get_mut(6)? = protocol;
    } else {
        out = p.header.clone();
        let len = u16::try_from(out.len().checked_add(total)?)
            .ok()?
            .to_be_bytes();
        out.splice(2..4, len);
        // Clear MF and the offset; keep DF. Zero the checksum: decode does
        // not check it, and a rebuilt header has none of its own.
        *out.get_mut(6)? &= 0x40;
        *out.get_mut(7)? = 0;
        out.splice(10..12, [0, 0]);
    }
    out.extend_from_slice(payload);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_ip, Decoded};
    use std::net::Ipv4Addr;

    fn frag<'a>(header: &'a [u8], payload: &'a [u8], offset: u32, more: bool) -> Fragment<'a> {
        Fragment {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            id: 9,
            protocol: 17,
            offset,
            more,
            header,
            payload,
            ipv6: false,
        }
    }

    fn header() -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 0, 0, 9, 0x20, 0, 64, 17, 0, 0];
        h.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        h
    }

    fn udp_bytes() -> Vec<u8> {
        let mut u = vec![0x1F, 0x40, 0x01, 0xBB, 0, 32, 0, 0];
        u.extend((0u8..24).map(|i| b'a' + i));
        u
    }

    #[test]
    fn any_order_rebuilds() {
        let h = header();
        let u = udp_bytes();
        let parts = [(0usize, 8usize), (8, 16), (16, 32)];
        let orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]];
        for order in orders {
            let mut d = Defragmenter::new();
            let mut out = None;
            for (n, &i) in order.iter().enumerate() {
                let (a, b) = parts[i];
                let r = d.push(&frag(&h, &u[a..b], a as u32, b != 32), n as i64);
                if n < 2 {
                    assert!(r.is_none());
                }
                out = out.or(r);
            }
            let whole = out.unwrap();
            assert_eq!(d.in_flight(), 0);
            match decode_ip(&whole) {
                Decoded::Udp(u2) => {
                    assert_eq!(u2.src_port, 8000);
                    assert_eq!(u2.dst_port, 443);
                    assert_eq!(u2.payload, &u[8..]);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn overlap_first_wins_and_conflict_counted() {
        let h = header();
        let u = udp_bytes();
        let mut d = Defragmenter::new();
        assert!(d.push(&frag(&h, &u[0..16], 0, true), 0).is_none());
        let mut evil = u[8..24].to_vec();
        evil[0] ^= 0xFF;
        assert!(d.push(&frag(&h, &evil, 8, true), 1).is_none());
        assert_eq!(d.conflicts(), 1);
        let whole = d.push(&frag(&h, &u[24..32], 24, false), 2).unwrap();
        assert_eq!(&whole[20..], &u[..]);
        // An agreeing overlap is not a conflict.
        let mut d = Defragmenter::new();
        d.push(&frag(&h, &u[0..16], 0, true), 0);
        d.push(&frag(&h, &u[8..24], 8, true), 0);
        assert!(d.push(&frag(&h, &u[16..32], 16, false), 0).is_some());
        assert_eq!(d.conflicts(), 0);
    }

    #[test]
    fn caps_and_timeout() {
        let h = header();
        let big = vec![0u8; 8];
        let mut d = Defragmenter::new();
        // Past the datagram size cap.
        assert!(d.push(&frag(&h, &big, 65_530, false), 0).is_none());
        assert_eq!(d.dropped(), 1);
        // Misaligned middle fragment.
        assert!(d.push(&frag(&h, &big[..5], 0, true), 0).is_none());
        assert_eq!(d.dropped(), 2);
        // Time-out: the first half expires before the second arrives.
        d.push(&frag(&h, &big, 0, true), 0);
        let late = d.push(&frag(&h, &big, 8, false), DEFRAG_TIMEOUT_US + 1);
        assert!(late.is_none());
        assert_eq!(d.in_flight(), 1);
        // In-flight cap.
        let mut d = Defragmenter::new();
        for id in 0..(MAX_DEFRAG_IN_FLIGHT as u32 + 10) {
            let mut f = frag(&h, &big, 0, true);
            f.id = id;
            d.push(&f, 0);
        }
        assert_eq!(d.in_flight(), MAX_DEFRAG_IN_FLIGHT);
        assert_eq!(d.dropped(), 10);
    }

    #[test]
    fn eviction_follows_arrival_whatever_the_timestamps() {
        let h = header();
        let u = udp_bytes();
        let mut d = Defragmenter::new();
        // Every first half carries the same timestamp; the cap evicts the
        // ten fed first, so datagrams 10.. can still be completed and 0..10
        // cannot, on every run. (The survivors go first: a lone second half
        // of an evicted one would itself take a place.)
        let n = MAX_DEFRAG_IN_FLIGHT as u32 + 10;
        for id in 0..n {
            let mut f = frag(&h, &u[..16], 0, true);
            f.id = id;
            d.push(&f, 0);
        }
        assert_eq!(d.dropped(), 10);
        for id in (10..n).chain(0..10) {
            let mut f = frag(&h, &u[16..], 16, false);
            f.id = id;
            let done = d.push(&f, 0).is_some();
            assert_eq!(done, id >= 10, "datagram {id}");
        }
    }
}
