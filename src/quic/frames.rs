//! QUIC frames of the Initial and Handshake levels (RFC 9000 §19) and the
//! reassembly of CRYPTO data into a stream (RFC 9000 §19.6, RFC 9001 §4.1.3).
//!
//! In: a decrypted packet payload. Out: its CRYPTO frames (offset, data)
//! and any CONNECTION_CLOSE error code; PADDING, PING and ACK are skipped.
//! [`CryptoStream`] puts CRYPTO data back in order whatever the order,
//! splitting or duplication of the frames and packets that carried it.
//! Leaves out: frames not allowed at these levels (STREAM and the rest):
//! the first one stops the walk, since its length is unknown.

use super::packet::varint;

/// What a decrypted Initial or Handshake payload held.
#[derive(Debug, Default)]
pub struct Frames<'a> {
    /// CRYPTO frames: (stream offset, data), in payload order.
    pub crypto: Vec<(u64, &'a [u8])>,
    /// CONNECTION_CLOSE (type 0x1c) error code, if one was sent.
    pub close: Option<u64>,
    /// The walk stopped on a malformed or unexpected frame.
    pub malformed: bool,
}

/// Walks the frames of a payload. Every step consumes at least one byte.
#[cfg(test)]
pub fn parse(payload: &[u8]) -> Frames<'_> {
    parse_frames(payload, false)
}

/// [`parse`] for a version that carries gQUIC frames (Google's T050 and
/// T051): PADDING 0x00, PING 0x07, CRYPTO 0x08 (varint offset and length,
/// like IETF CRYPTO) and the gQUIC ACK 0x40-0x7f; anything else ends the
/// walk, since its length is unknown.
#[cfg(test)]
pub fn parse_gquic(payload: &[u8]) -> Frames<'_> {
    parse_frames(payload, true)
}

/// The frames of a payload of version `v`.
pub fn parse_for(v: super::crypto::Version, payload: &[u8]) -> Frames<'_> {
    parse_frames(payload, v.gquic_frames())
}

fn parse_frames(payload: &[u8], gquic: bool) -> Frames<'_> {
    let mut out = Frames::default();
    let mut rest = payload;
    while let Some(&ty) = rest.first() {
        let step = if gquic {
            match ty {
                0x00 => Some(rest.iter().position(|b| *b != 0).unwrap_or(rest.len())),
                0x07 => Some(1),
                0x08 => crypto(rest).map(|(off, data, n)| {
                    out.crypto.push((off, data));
                    n
                }),
                0x40..=0x7f => gquic_ack_len(rest),
                _ => None,
            }
        } else {
            ietf_step(rest, ty, &mut out)
        };
        match step {
            Some(n) if n > 0 => rest = rest.get(n..).unwrap_or(&[]),
            _ => {
                out.malformed = true;
                break;
            }
        }
    }
    out
}

/// Length of a gQUIC ACK frame (Q046 and later; Chromium's
/// QuicFramer::ProcessAckFrame): type `01nLLMM` (n: several ack blocks;
/// LL, MM: 1, 2, 4 or 6 bytes for the largest acked and the block
/// lengths), largest acked, 2-byte delay, [block count], first block,
/// per extra block a 1-byte gap and a block length, then a timestamp count
/// and the timestamps (1 + 4 bytes, then 1 + 2 bytes each).
fn gquic_ack_len(b: &[u8]) -> Option<usize> {
    let ty = *b.first()?;
    let width = |bits: u8| [1usize, 2, 4, 6].get(usize::from(bits & 3)).copied();
    let largest = width(ty >> 2)?;
    let block = width(ty)?;
    let mut at = 1usize.checked_add(largest)?.checked_add(2)?;
    let extra = if ty & 0x20 != 0 {
        let n = usize::from(*b.get(at)?);
        at = at.checked_add(1)?;
        n
    } else {
        0
    };
    at = at
        .checked_add(block)?
        .checked_add(extra.checked_mul(block.checked_add(1)?)?)?;
    let stamps = usize::from(*b.get(at)?);
    at = at.checked_add(1)?;
    if stamps > 0 {
        at = at
            .checked_add(5)?
            .checked_add((stamps - 1).checked_mul(3)?)?;
    }
    b.get(..at)?;
    Some(at)
}

/// One IETF frame (RFC 9000 §19) of the Initial and Handshake levels: its
/// length, after noting what it carries.
fn ietf_step<'a>(rest: &'a [u8], ty: u8, out: &mut Frames<'a>) -> Option<usize> {
    match ty {
        // PADDING runs are long (a client Initial is padded to 1200 bytes).
        0x00 => Some(rest.iter().position(|b| *b != 0).unwrap_or(rest.len())),
        0x01 => Some(1),
        0x02 | 0x03 => ack_len(rest, ty == 0x03),
        0x06 => crypto(rest).map(|(off, data, n)| {
            out.crypto.push((off, data));
            n
        }),
        0x1c | 0x1d => close_len(rest, ty == 0x1c).map(|(code, n)| {
            if ty == 0x1c {
                out.close = Some(code);
            }
            n
        }),
        _ => None,
    }
}

/// Reads `count` varints from `b` at `at`; returns the offset after them.
fn skip_varints(b: &[u8], mut at: usize, count: u64) -> Option<usize> {
    for _ in 0..count {
        let (_, n) = varint(b.get(at..)?)?;
        at = at.checked_add(n)?;
    }
    Some(at)
}

/// Length of an ACK frame (RFC 9000 §19.3).
fn ack_len(b: &[u8], ecn: bool) -> Option<usize> {
    // Largest Acknowledged, ACK Delay, ACK Range Count.
    let at = skip_varints(b, 1, 2)?;
    let (ranges, n) = varint(b.get(at..)?)?;
    // Each range is two varints of at least one byte: a count beyond the
    // payload is malformed, and checking first bounds the loop.
    if ranges > b.len() as u64 {
        return None;
    }
    let at = at.checked_add(n)?;
    // First ACK Range, then Gap and ACK Range Length per range.
    let at = skip_varints(b, at, ranges.checked_mul(2)?.checked_add(1)?)?;
    if ecn {
        skip_varints(b, at, 3)
    } else {
        Some(at)
    }
}

/// A CRYPTO frame (RFC 9000 §19.6): offset, data and the frame's length.
fn crypto(b: &[u8]) -> Option<(u64, &[u8], usize)> {
    let (off, n1) = varint(b.get(1..)?)?;
    let at = 1usize.checked_add(n1)?;
    let (len, n2) = varint(b.get(at..)?)?;
    let start = at.checked_add(n2)?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    Some((off, b.get(start..end)?, end))
}

/// A CONNECTION_CLOSE frame (RFC 9000 §19.19): error code and length.
fn close_len(b: &[u8], transport: bool) -> Option<(u64, usize)> {
    let (code, n) = varint(b.get(1..)?)?;
    let mut at = 1usize.checked_add(n)?;
    if transport {
        at = skip_varints(b, at, 1)?;
    }
    let (reason, n) = varint(b.get(at..)?)?;
    let end = at
        .checked_add(n)?
        .checked_add(usize::try_from(reason).ok()?)?;
    b.get(..end)?;
    Some((code, end))
}

/// Copies `data` (which starts at stream offset `start`) into `buf` over
/// `from..to`.
fn write(buf: &mut [u8], from: usize, to: usize, start: usize, data: &[u8]) {
    if let (Some(dst), Some(src)) = (buf.get_mut(from..to), data.get(from - start..to - start)) {
        dst.copy_from_slice(src);
    }
}

/// Most separate byte ranges a stream tracks: frames are rarely split into
/// more than a few dozen pieces; a flood of tiny out-of-order pieces stops
/// being tracked (anomaly) rather than costing time.
const MAX_RANGES: usize = 256;

/// One direction's CRYPTO stream at one encryption level, bounded by `cap`
/// bytes of stream offset.
#[derive(Debug, Default)]
pub struct CryptoStream {
    buf: Vec<u8>,
    /// Received byte ranges [start, end), sorted and disjoint.
    ranges: Vec<(usize, usize)>,
    cap: usize,
    /// Data past the cap (or past `MAX_RANGES`) was dropped.
    pub capped: bool,
    /// Data overlapping earlier data disagreed with it.
    pub conflict: bool,
}

impl CryptoStream {
    /// An empty stream holding at most `cap` bytes.
    pub fn new(cap: usize) -> CryptoStream {
        CryptoStream {
            cap,
            ..CryptoStream::default()
        }
    }

    /// Adds `data` at stream offset `offset`. Earlier bytes win an overlap.
    pub fn insert(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let Ok(start) = usize::try_from(offset) else {
            self.capped = true;
            return;
        };
        let end = start.saturating_add(data.len());
        let end = if end > self.cap {
            self.capped = true;
            self.cap
        } else {
            end
        };
        if start >= end {
            return;
        }
        if self.ranges.len() >= MAX_RANGES {
            self.capped = true;
            return;
        }
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        // Write only the holes, comparing what overlaps.
        let mut pos = start;
        let CryptoStream {
            buf,
            ranges,
            conflict,
            ..
        } = self;
        for &(rs, re) in ranges.iter() {
            if re <= pos || rs >= end {
                continue;
            }
            if rs > pos {
                write(buf, pos, rs, start, data);
            }
            let (os, oe) = (pos.max(rs), end.min(re));
            let old = buf.get(os..oe).unwrap_or(&[]);
            let new = data.get(os - start..oe - start).unwrap_or(&[]);
            if old != new {
                *conflict = true;
            }
            pos = oe;
        }
        if pos < end {
            write(buf, pos, end, start, data);
        }
        self.add_range(start, end);
    }

    fn add_range(&mut self, start: usize, end: usize) {
        let mut merged = Vec::with_capacity(self.ranges.len() + 1);
        let (mut s, mut e) = (start, end);
        let mut placed = false;
        for &(rs, re) in &self.ranges {
            if re < s {
                merged.push((rs, re));
            } else if rs > e {
                if !placed {
                    merged.push((s, e));
                    placed = true;
                }
                merged.push((rs, re));
            } else {
                s = s.min(rs);
                e = e.max(re);
            }
        }
        if !placed {
            merged.push((s, e));
        }
        merged.sort_unstable();
        self.ranges = merged;
    }

    /// The bytes received contiguously from offset 0.
    pub fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(&(0, e)) => self.buf.get(..e).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// True when bytes after a hole were received.
    pub fn has_gap(&self) -> bool {
        !matches!(self.ranges.as_slice(), [] | [(0, _)])
    }

    /// Forgets everything (a Retry or Version Negotiation restarts the
    /// Initial exchange).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ranges.clear();
        self.capped = false;
        self.conflict = false;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_of_a_server_initial() {
        // RFC 9001 A.3 payload: ACK, CRYPTO (ServerHello).
        let p = hex::decode(
            "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739\
             88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94\
             0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00\
             020304",
        )
        .unwrap();
        let f = parse(&p);
        assert!(!f.malformed);
        assert_eq!(f.crypto.len(), 1);
        assert_eq!(f.crypto[0].0, 0);
        assert_eq!(f.crypto[0].1.len(), 0x5a);
        assert_eq!(f.crypto[0].1[0], 2);
        for n in 0..p.len() {
            let _ = parse(&p[..n]);
        }
    }

    #[test]
    fn padding_ping_close_and_unknown_frames() {
        let p = [0, 0, 1, 0x1c, 0x41, 0x28, 0, 2, b'n', b'o', 0x08, 1, 2];
        let f = parse(&p);
        assert_eq!(f.close, Some(0x128));
        assert!(f.malformed, "a STREAM frame stops the walk");
        let huge_ack = [2, 1, 0, 0x3f];
        assert!(parse(&huge_ack).malformed);
    }

    #[test]
    fn stream_is_capped_and_notes_conflicts() {
        let mut s = CryptoStream::new(10);
        s.insert(5, b"world");
        assert!(s.contiguous().is_empty());
        assert!(s.has_gap());
        s.insert(0, b"hello");
        assert_eq!(s.contiguous(), b"helloworld");
        assert!(!s.has_gap());
        s.insert(8, b"xyz!!");
        assert!(s.capped);
        assert!(s.conflict);
        assert_eq!(s.contiguous(), b"helloworld");
        s.insert(u64::MAX, b"x");
        assert_eq!(s.contiguous(), b"helloworld");
    }

    proptest! {
        #[test]
        fn any_split_and_order_rebuilds_the_stream(
            data in proptest::collection::vec(any::<u8>(), 1..600),
            cuts in proptest::collection::vec(any::<u16>(), 0..20),
            seed in any::<u64>(),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|c| usize::from(*c) % data.len()).collect();
            points.push(0);
            points.push(data.len());
            points.sort_unstable();
            points.dedup();
            let mut pieces: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // Duplicate one piece and shuffle deterministically.
            if let Some(p) = pieces.first().copied() {
                pieces.push(p);
            }
            let mut x = seed | 1;
            for i in (1..pieces.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                pieces.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut s = CryptoStream::new(64 * 1024);
            for (a, b) in pieces {
                s.insert(a as u64, &data[a..b]);
            }
            prop_assert_eq!(s.contiguous(), &data[..]);
            prop_assert!(!s.conflict);
        }
    }
}
