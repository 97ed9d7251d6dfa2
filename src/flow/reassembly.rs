//! One direction of a TCP connection: segments in capture order in, the byte
//! stream in sequence order out, as `Chunk::Data` and `Chunk::Gap`.
//!
//! Out-of-order segments wait in a bounded map keyed by stream offset. A
//! retransmission or overlap never replaces bytes already delivered ("first
//! data wins", as Suricata's default policy and Zeek do); when the overlapping
//! bytes differ the overlap is counted as a conflict, a sign of injection. When
//! the waiting room is full the hole is declared a gap and delivery resumes at
//! the next waiting segment, so a flood of out-of-order data costs bounded
//! memory.
//!
//! One exception to "first data wins": the first bytes of a direction are
//! held back until there are `HEAD_HOLD` of them (a TLS record header, RFC
//! 8446 §5.1). A 1- or 2-byte bogus segment at the initial sequence number,
//! answered by the real handshake at the same sequence number, is an evasion
//! that would otherwise hide the whole connection; of two conflicting
//! versions of those first bytes, the one that starts like a TLS handshake
//! record wins, and the conflict is counted either way. Once the consumer no longer wants bytes (`set_passthrough`), segments
//! are only counted. Sequence numbers compare with wrapping arithmetic (RFC 9293
//! section 3.4), so streams crossing 2^32 reassemble like any other.
//!
//! Left out: urgent data, and TCP options (timestamps/PAWS, SACK), which only
//! matter to endpoints.

use std::collections::BTreeMap;

use crate::limits::{MAX_OOO_BYTES_PER_DIRECTION, MAX_OOO_SEGMENTS_PER_DIRECTION};

/// How many recently delivered bytes are kept to compare retransmissions with.
const TAIL_BYTES: usize = 4096;

/// First bytes of a direction held back before delivery: a TLS record
/// header (RFC 8446 §5.1: type, version, length).
const HEAD_HOLD: usize = 5;

/// True when `b` (possibly shorter than a header) can start the TLS record
/// that opens a connection (RFC 8446 §5.1, RFC 5246 §6.2.1): content type
/// handshake (22), major version 3, minor version at most 4, length at most
/// 2^14 + 2048.
fn starts_like_handshake(b: &[u8]) -> bool {
    let ty_ok = b.first() == Some(&22);
    let major_ok = b.get(1).is_none_or(|v| *v == 3);
    let minor_ok = b.get(2).is_none_or(|v| *v <= 4);
    let len_ok = match (b.get(3), b.get(4)) {
        (Some(hi), Some(lo)) => u16::from_be_bytes([*hi, *lo]) <= (1 << 14) + 2048,
        _ => true,
    };
    ty_ok && major_ok && minor_ok && len_ok
}

/// What the reassembler hands to its consumer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Contiguous bytes that follow everything delivered before.
    Data(&'a [u8]),
    /// This many bytes are missing from the capture at this point.
    Gap(u64),
}

/// Counters one direction keeps; they become flow anomalies.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// Payload bytes of every segment seen, retransmissions included.
    pub segment_bytes: u64,
    /// Bytes that arrived again after being delivered or queued.
    pub retransmitted_bytes: u64,
    /// Overlaps whose bytes differed from what was seen first.
    pub conflicting_overlaps: u64,
    /// Holes declared (capture loss or out-of-order overflow).
    pub gaps: u64,
    /// Bytes missing in those holes.
    pub gap_bytes: u64,
    /// Times the out-of-order cap forced a gap.
    pub ooo_overflows: u64,
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Next expected sequence number; `None` until the SYN or first segment.
    next: Option<u32>,
    /// Stream offset of `next`: bytes delivered plus gap bytes.
    offset: u64,
    /// Segments waiting for a hole to fill, by stream offset.
    waiting: BTreeMap<u64, Vec<u8>>,
    waiting_bytes: usize,
    /// The last delivered bytes, to compare retransmissions with.
    tail: Vec<u8>,
    /// The first bytes of the stream, held until `HEAD_HOLD` of them.
    head: Vec<u8>,
    /// The head was delivered (or given up): normal delivery from now on.
    head_done: bool,
    passthrough: bool,
    started_midstream: bool,
    counters: Counters,
}

impl Reassembler {
    /// A direction with nothing seen yet.
    pub fn new() -> Reassembler {
        Reassembler::default()
    }

    /// The SYN (or SYN-ACK) of this direction fixes the initial sequence number.
    pub fn syn(&mut self, seq: u32) {
        if self.next.is_none() {
            self.next = Some(seq.wrapping_add(1));
        }
    }

    /// Follows another initial sequence number instead of the one fixed by
    /// the first SYN (a server that sent several SYN-ACKs: the client's ACK
    /// tells which one it took). Refused (false) once a byte was taken.
    pub fn resyn(&mut self, seq: u32) -> bool {
        let untouched = self.offset == 0
            && self.head.is_empty()
            && self.waiting.is_empty()
            && !self.started_midstream;
        if untouched {
            self.next = Some(seq.wrapping_add(1));
        }
        untouched
    }

    /// True when the first byte seen was not right after a SYN.
    pub fn started_midstream(&self) -> bool {
        self.started_midstream
    }

    /// Stream bytes delivered or skipped so far (gaps included).
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// What this direction has counted.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Stop buffering: from now on segments are counted, not delivered.
    pub fn set_passthrough(&mut self) {
        self.passthrough = true;
        self.waiting.clear();
        self.waiting_bytes = 0;
        self.tail = Vec::new();
        self.head = Vec::new();
        self.head_done = true;
    }

    /// True once `set_passthrough` was called.
    pub fn is_passthrough(&self) -> bool {
        self.passthrough
    }

    /// Takes one segment. Returns the number of new stream bytes it covered in
    /// passthrough mode (for byte counts); delivers chunks to `sink` otherwise.
    pub fn push(&mut self, seq: u32, payload: &[u8], sink: &mut impl FnMut(Chunk<'_>)) -> u64 {
        if payload.is_empty() {
            return 0;
        }
        self.counters.segment_bytes = self
            .counters
            .segment_bytes
            .saturating_add(payload.len() as u64);
        let next = match self.next {
            Some(n) => n,
            None => {
                self.started_midstream = true;
                self.next = Some(seq);
                seq
            }
        };
        // Signed distance from the next expected byte; valid within 2 GiB.
        let rel = i64::from(seq.wrapping_sub(next) as i32);
        let start = self.offset as i64 + rel;
        let end = start + payload.len() as i64;
        let offset = self.offset as i64;
        if end <= offset {
            self.counters.retransmitted_bytes += payload.len() as u64;
            self.compare_with_tail(start, payload);
            return 0;
        }
        if self.passthrough {
            let new = (end - start.max(offset)) as u64;
            self.advance(new);
            return new;
        }
        if !self.head_done {
            // Nothing delivered yet: `offset` is 0 and `start` > -`len`.
            let skip = usize::try_from(-start).unwrap_or(0);
            let at = usize::try_from(start).unwrap_or(0);
            if skip > 0 {
                self.counters.retransmitted_bytes += skip as u64;
            }
            let payload = payload.get(skip..).unwrap_or_default();
            if at == 0 && self.head.is_empty() && payload.len() >= HEAD_HOLD {
                // The usual case: a first segment holding a whole record
                // header goes straight through, uncopied.
                self.head_done = true;
                self.deliver(payload, sink);
                self.drain(sink);
            } else if at <= self.head.len() {
                self.merge_head(at, payload);
                self.pull_waiting_into_head();
                if self.head.len() >= HEAD_HOLD {
                    self.release_head(sink);
                }
            } else {
                self.queue(at as u64, payload, sink);
            }
            return 0;
        }
        if start <= offset {
            let skip = (offset - start) as usize;
            if skip > 0 {
                self.counters.retransmitted_bytes += skip as u64;
                self.compare_with_tail(start, payload.get(..skip).unwrap_or_default());
            }
            let fresh = payload.get(skip..).unwrap_or_default();
            self.deliver(fresh, sink);
            self.drain(sink);
            return 0;
        }
        self.queue(start as u64, payload, sink);
        0
    }

    /// Delivers whatever still waits behind a hole, declaring the hole a gap.
    /// Called when the connection ends.
    pub fn flush(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        self.release_head(sink);
        while let Some((&first, _)) = self.waiting.iter().next() {
            self.gap_to(first, sink);
            self.drain(sink);
        }
    }

    /// Merges bytes at head offset `at` (at most the head's length). Of two
    /// conflicting versions of the first bytes, one that starts like a TLS
    /// handshake record replaces one that does not; otherwise the first stays.
    fn merge_head(&mut self, at: usize, data: &[u8]) {
        let overlap = self.head.len().saturating_sub(at).min(data.len());
        let old = self.head.get(at..at + overlap).unwrap_or_default();
        if old != data.get(..overlap).unwrap_or_default() {
            self.counters.conflicting_overlaps += 1;
            if at == 0 && starts_like_handshake(data) && !starts_like_handshake(&self.head) {
                self.counters.retransmitted_bytes += overlap as u64;
                self.head.clear();
                self.head.extend_from_slice(data);
                return;
            }
        }
        self.counters.retransmitted_bytes += overlap as u64;
        self.head
            .extend_from_slice(data.get(overlap..).unwrap_or_default());
    }

    /// Moves waiting segments that touch the held head into it.
    fn pull_waiting_into_head(&mut self) {
        while let Some(entry) = self.waiting.first_entry() {
            let at = usize::try_from(*entry.key()).unwrap_or(usize::MAX);
            if at > self.head.len() {
                break;
            }
            let data = entry.remove();
            self.waiting_bytes = self.waiting_bytes.saturating_sub(data.len());
            self.merge_head(at, &data);
        }
    }

    /// Delivers the held head, if any; from then on delivery is normal.
    fn release_head(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        if self.head_done {
            return;
        }
        self.head_done = true;
        let head = std::mem::take(&mut self.head);
        self.deliver(&head, sink);
        self.drain(sink);
    }

    fn queue(&mut self, start: u64, payload: &[u8], sink: &mut impl FnMut(Chunk<'_>)) {
        // Bounded: each round either frees room or stores the segment.
        for _ in 0..=MAX_OOO_SEGMENTS_PER_DIRECTION {
            let full = self.waiting_bytes + payload.len() > MAX_OOO_BYTES_PER_DIRECTION
                || self.waiting.len() >= MAX_OOO_SEGMENTS_PER_DIRECTION;
            if !full {
                break;
            }
            let Some((&first, _)) = self.waiting.iter().next() else {
                break;
            };
            if first > start {
                // The new segment is the earliest: it goes first through the hole.
                self.counters.ooo_overflows += 1;
                self.gap_to(start, sink);
                self.deliver(payload, sink);
                self.drain(sink);
                return;
            }
            self.counters.ooo_overflows += 1;
            self.gap_to(first, sink);
            self.drain(sink);
            if start <= self.offset {
                // The hole moved past the segment's start: deliver what is new.
                return self.push_at(start, payload, sink);
            }
        }
        if payload.len() > MAX_OOO_BYTES_PER_DIRECTION {
            self.counters.ooo_overflows += 1;
            self.gap_to(start, sink);
            self.deliver(payload, sink);
            self.drain(sink);
            return;
        }
        match self.waiting.get_mut(&start) {
            Some(existing) => {
                let common = existing.len().min(payload.len());
                if existing.get(..common) != payload.get(..common) {
                    self.counters.conflicting_overlaps += 1;
                }
                self.counters.retransmitted_bytes += common as u64;
                if payload.len() > existing.len() {
                    let extra = payload.get(existing.len()..).unwrap_or_default();
                    self.waiting_bytes += extra.len();
                    existing.extend_from_slice(extra);
                }
            }
            None => {
                self.waiting_bytes += payload.len();
                self.waiting.insert(start, payload.to_vec());
            }
        }
    }

    fn push_at(&mut self, start: u64, payload: &[u8], sink: &mut impl FnMut(Chunk<'_>)) {
        let end = start + payload.len() as u64;
        if end <= self.offset {
            self.counters.retransmitted_bytes += payload.len() as u64;
            return;
        }
        let skip = usize::try_from(self.offset.saturating_sub(start)).unwrap_or(usize::MAX);
        self.deliver(payload.get(skip..).unwrap_or_default(), sink);
        self.drain(sink);
    }

    /// Delivers waiting segments that now touch the stream's end.
    fn drain(&mut self, sink: &mut impl FnMut(Chunk<'_>)) {
        while let Some(entry) = self.waiting.first_entry() {
            let start = *entry.key();
            if start > self.offset {
                break;
            }
            let data = entry.remove();
            self.waiting_bytes = self.waiting_bytes.saturating_sub(data.len());
            let end = start + data.len() as u64;
            if end <= self.offset {
                self.counters.retransmitted_bytes += data.len() as u64;
                self.compare_with_tail(start as i64, &data);
                continue;
            }
            let skip = usize::try_from(self.offset - start).unwrap_or(usize::MAX);
            if skip > 0 {
                self.counters.retransmitted_bytes += skip as u64;
                self.compare_with_tail(start as i64, data.get(..skip).unwrap_or_default());
            }
            self.deliver(data.get(skip..).unwrap_or_default(), sink);
        }
    }

    fn gap_to(&mut self, start: u64, sink: &mut impl FnMut(Chunk<'_>)) {
        self.release_head(sink);
        if start <= self.offset {
            return;
        }
        let lost = start - self.offset;
        self.counters.gaps += 1;
        self.counters.gap_bytes += lost;
        self.tail.clear();
        sink(Chunk::Gap(lost));
        self.advance(lost);
    }

    fn deliver(&mut self, data: &[u8], sink: &mut impl FnMut(Chunk<'_>)) {
        if data.is_empty() {
            return;
        }
        sink(Chunk::Data(data));
        if data.len() >= TAIL_BYTES {
            self.tail.clear();
            self.tail
                .extend_from_slice(data.get(data.len() - TAIL_BYTES..).unwrap_or_default());
        } else {
            let keep = (TAIL_BYTES - data.len()).min(self.tail.len());
            let drop = self.tail.len() - keep;
            self.tail.drain(..drop);
            self.tail.extend_from_slice(data);
        }
        self.advance(data.len() as u64);
    }

    fn advance(&mut self, n: u64) {
        self.offset = self.offset.saturating_add(n);
        if let Some(next) = self.next {
            // Truncation is the point: sequence numbers live modulo 2^32.
            self.next = Some(next.wrapping_add(n as u32));
        }
    }

    /// Compares bytes already delivered (stream offset `start`) with the tail.
    fn compare_with_tail(&mut self, start: i64, data: &[u8]) {
        let tail_start = self.offset as i64 - self.tail.len() as i64;
        let from = start.max(tail_start);
        let to = (start + data.len() as i64).min(self.offset as i64);
        if from >= to {
            return;
        }
        let a = self
            .tail
            .get((from - tail_start) as usize..(to - tail_start) as usize);
        let b = data.get((from - start) as usize..(to - start) as usize);
        if a != b {
            self.counters.conflicting_overlaps += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(r: &mut Reassembler, segs: &[(u32, &[u8])]) -> (Vec<u8>, u64) {
        let mut out = Vec::new();
        let mut gaps = 0;
        for (seq, data) in segs {
            r.push(*seq, data, &mut |c| match c {
                Chunk::Data(d) => out.extend_from_slice(d),
                Chunk::Gap(n) => gaps += n,
            });
        }
        r.flush(&mut |c| match c {
            Chunk::Data(d) => out.extend_from_slice(d),
            Chunk::Gap(n) => gaps += n,
        });
        (out, gaps)
    }

    #[test]
    fn in_order_after_syn() {
        let mut r = Reassembler::new();
        r.syn(99);
        let (out, gaps) = run(&mut r, &[(100, b"hello "), (106, b"world")]);
        assert_eq!(out, b"hello world");
        assert_eq!(gaps, 0);
        assert!(!r.started_midstream());
    }

    #[test]
    fn out_of_order_and_retransmission() {
        let mut r = Reassembler::new();
        r.syn(0);
        let (out, _) = run(&mut r, &[(7, b"world"), (1, b"hello "), (1, b"hello ")]);
        assert_eq!(out, b"hello world");
        assert_eq!(r.counters().retransmitted_bytes, 6);
        assert_eq!(r.counters().conflicting_overlaps, 0);
    }

    #[test]
    fn conflicting_overlap_keeps_first_data() {
        let mut r = Reassembler::new();
        r.syn(0);
        let (out, _) = run(&mut r, &[(1, b"abcdef"), (4, b"XYZghi")]);
        assert_eq!(out, b"abcdefghi");
        assert_eq!(r.counters().conflicting_overlaps, 1);
    }

    #[test]
    fn conflicting_queued_overlap_is_counted() {
        let mut r = Reassembler::new();
        r.syn(0);
        let (out, _) = run(&mut r, &[(5, b"efgh"), (5, b"EFGH"), (1, b"abcd")]);
        assert_eq!(out, b"abcdefgh");
        assert_eq!(r.counters().conflicting_overlaps, 1);
    }

    #[test]
    fn issue_30_a_tls_record_beats_bogus_first_bytes() {
        let rec: &[u8] = &[22, 3, 1, 0, 4, 1, 0, 0, 0];
        for bogus in [&b"X"[..], b"\x17\x02", b"\x16"] {
            let mut r = Reassembler::new();
            r.syn(0);
            let (out, _) = run(&mut r, &[(1, bogus), (1, rec)]);
            assert_eq!(out, rec, "{bogus:?}");
            assert_eq!(
                r.counters().conflicting_overlaps,
                u64::from(bogus != b"\x16")
            );
        }
    }

    #[test]
    fn issue_30_first_bytes_still_win_when_neither_is_tls() {
        let mut r = Reassembler::new();
        r.syn(0);
        let (out, _) = run(&mut r, &[(1, b"X"), (1, b"GET / HTTP/1.1")]);
        assert_eq!(out, b"XET / HTTP/1.1");
        assert_eq!(r.counters().conflicting_overlaps, 1);
    }

    #[test]
    fn issue_30_held_head_is_delivered_at_flush_and_before_a_gap() {
        let mut r = Reassembler::new();
        r.syn(0);
        let (out, gaps) = run(&mut r, &[(1, b"ab")]);
        assert_eq!((out.as_slice(), gaps), (&b"ab"[..], 0));
        let mut r = Reassembler::new();
        r.syn(0);
        let (out, gaps) = run(&mut r, &[(3, b"cd"), (1, b"a"), (2, b"b"), (9, b"z")]);
        assert_eq!((out.as_slice(), gaps), (&b"abcdz"[..], 4));
    }

    #[test]
    fn issue_30_resyn_only_before_any_byte() {
        let mut r = Reassembler::new();
        r.syn(100);
        assert!(r.resyn(900));
        let (out, _) = run(&mut r, &[(901, b"hello")]);
        assert_eq!(out, b"hello");
        assert!(!r.resyn(5));
    }

    #[test]
    fn gap_is_reported_at_flush() {
        let mut r = Reassembler::new();
        r.syn(0);
        let (out, gaps) = run(&mut r, &[(1, b"ab"), (10, b"xy")]);
        assert_eq!(out, b"abxy");
        assert_eq!(gaps, 7);
        assert_eq!(r.counters().gaps, 1);
    }

    #[test]
    fn midstream_start_and_sequence_wrap() {
        let mut r = Reassembler::new();
        let (out, _) = run(&mut r, &[(u32::MAX - 1, b"ab"), (0, b"cd"), (2, b"ef")]);
        assert_eq!(out, b"abcdef");
        assert!(r.started_midstream());
    }

    #[test]
    fn flood_of_out_of_order_segments_stays_bounded() {
        let mut r = Reassembler::new();
        r.syn(0);
        let mut delivered = 0u64;
        let mut gaps = 0u64;
        for i in 0..100_000u32 {
            r.push(1000 + i * 2, b"x", &mut |c| match c {
                Chunk::Data(d) => delivered += d.len() as u64,
                Chunk::Gap(n) => gaps += n,
            });
            assert!(r.waiting.len() <= MAX_OOO_SEGMENTS_PER_DIRECTION);
            assert!(r.waiting_bytes <= MAX_OOO_BYTES_PER_DIRECTION);
        }
        assert!(r.counters().ooo_overflows > 0);
        assert!(delivered > 0 && gaps > 0);
    }

    #[test]
    fn passthrough_counts_without_delivering() {
        let mut r = Reassembler::new();
        r.syn(0);
        r.set_passthrough();
        let mut called = false;
        let n = r.push(1, &[0u8; 100], &mut |_| called = true);
        let again = r.push(1, &[0u8; 100], &mut |_| called = true);
        assert_eq!((n, again, called), (100, 0, false));
    }

    proptest! {
        #[test]
        fn any_reordering_or_duplication_yields_the_bytes(
            data in proptest::collection::vec(any::<u8>(), 1..3000),
            cuts in proptest::collection::vec(any::<u16>(), 0..40),
            order in proptest::collection::vec(any::<u32>(), 0..80),
            isn in any::<u32>(),
        ) {
            let mut bounds: Vec<usize> = cuts.iter().map(|c| *c as usize % data.len()).collect();
            bounds.push(0);
            bounds.push(data.len());
            bounds.sort_unstable();
            bounds.dedup();
            let mut segs: Vec<(u32, &[u8])> = bounds
                .windows(2)
                .map(|w| (isn.wrapping_add(1).wrapping_add(w[0] as u32), &data[w[0]..w[1]]))
                .collect();
            // Duplicates and overlapping re-sends of the same bytes.
            for (i, o) in order.iter().enumerate() {
                let a = *o as usize % data.len();
                let b = (a + i % 97 + 1).min(data.len());
                segs.push((isn.wrapping_add(1).wrapping_add(a as u32), &data[a..b]));
            }
            let n = segs.len();
            for (i, o) in order.iter().enumerate() {
                segs.swap(i % n, *o as usize % n);
            }
            let mut r = Reassembler::new();
            r.syn(isn);
            let (out, gaps) = run(&mut r, &segs);
            prop_assert_eq!(gaps, 0);
            prop_assert_eq!(out, data);
            prop_assert_eq!(r.counters().conflicting_overlaps, 0);
        }

        #[test]
        fn issue_30_bogus_short_prefixes_never_beat_a_tls_stream(
            body in proptest::collection::vec(any::<u8>(), 0..600),
            bogus in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 1..3), 1..4),
            cut in any::<u16>(),
            isn in any::<u32>(),
        ) {
            let mut data = vec![22, 3, 3];
            data.extend_from_slice(&(body.len() as u16).to_be_bytes());
            data.extend_from_slice(&body);
            let at = 5 + cut as usize % (body.len() + 1);
            let first = isn.wrapping_add(1);
            let mut segs: Vec<(u32, &[u8])> = bogus.iter().map(|b| (first, b.as_slice())).collect();
            segs.push((first, &data[..at]));
            segs.push((first.wrapping_add(at as u32), &data[at..]));
            let mut r = Reassembler::new();
            r.syn(isn);
            let (out, gaps) = run(&mut r, &segs);
            prop_assert_eq!(gaps, 0);
            prop_assert_eq!(out, data);
        }
    }
}
