//! QUIC packet headers (RFC 9000 §17, RFC 9369 §3.2) and header protection
//! removal (RFC 9001 §5.4).
//!
//! In: a UDP payload. Out: its coalesced packets ([`split`]), each a
//! [`Packet`] borrowed from the datagram, and for long-header packets with
//! keys at hand, the packet number and decrypted payload ([`open`]).
//! Leaves out: short-header packets beyond their length (their connection
//! ID length is not on the wire and their keys are never used), Retry
//! integrity tags (a Retry's new connection id is proven by the client's
//! next Initial opening under it), and stateless resets.

use super::crypto::{Keys, Version, TAG_LEN};
use crate::bytes::be32;

/// Long-header packet types (RFC 9000 §17.2; v2 renumbers them, RFC 9369 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Initial: CRYPTO frames under keys anyone can derive.
    Initial,
    /// 0-RTT application data.
    ZeroRtt,
    /// Handshake: CRYPTO frames under the handshake traffic keys.
    Handshake,
    /// Retry: the server asks the client to start again with a new DCID.
    Retry,
}

impl Kind {
    fn from_bits(version: Version, bits: u8) -> Kind {
        // Drafts 22-34 number the types as v1 does.
        let v2 = version == Version::V2;
        match (v2, bits & 3) {
            (true, 1) | (false, 0) => Kind::Initial,
            (true, 2) | (false, 1) => Kind::ZeroRtt,
            (true, 3) | (false, 2) => Kind::Handshake,
            _ => Kind::Retry,
        }
    }
}

/// A long-header packet of a supported version, borrowed from its datagram.
#[derive(Clone, Copy, Debug)]
pub struct Long<'a> {
    /// The version.
    pub version: Version,
    /// The packet type.
    pub kind: Kind,
    /// Destination Connection ID.
    pub dcid: &'a [u8],
    /// Source Connection ID.
    pub scid: &'a [u8],
    /// The whole packet, first byte to the end of its Length (Retry: to the
    /// end of the datagram).
    pub bytes: &'a [u8],
    /// Offset of the (protected) packet number in `bytes`.
    pub pn_offset: usize,
}

/// One packet of a datagram.
#[derive(Clone, Copy, Debug)]
pub enum Packet<'a> {
    /// A long-header packet of a supported version.
    Long(Long<'a>),
    /// Version Negotiation (version 0, RFC 9000 §17.2.1): the versions the
    /// server offers, 4 bytes each.
    VersionNegotiation {
        /// The versions listed.
        versions: &'a [u8],
    },
    /// A long header of a version not handled here (its bytes, to the end
    /// of the datagram).
    OtherVersion(u32, &'a [u8]),
    /// A short-header (1-RTT) packet: always the last of its datagram.
    Short(&'a [u8]),
}

/// Largest QUIC connection ID (RFC 9000 §17.2: 20 bytes in v1 and v2).
pub const MAX_CID_LEN: usize = 20;

/// Most packets taken from one datagram: coalescing puts at most one per
/// encryption level (Initial, 0-RTT, Handshake, 1-RTT) in a datagram.
const MAX_COALESCED: usize = 8;

/// Reads a variable-length integer (RFC 9000 §16); returns it and its size.
pub fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(..len)?;
    let mut v = u64::from(first & 0x3f);
    for x in bytes.iter().skip(1) {
        v = (v << 8) | u64::from(*x);
    }
    Some((v, len))
}

/// Parses the packet at the start of `b`; returns it and its length.
fn parse_one(b: &[u8]) -> Option<(Packet<'_>, usize)> {
    let first = *b.first()?;
    if first & 0x80 == 0 {
        return Some((Packet::Short(b), b.len()));
    }
    let wire = be32(b, 1)?;
    let dcid_len = usize::from(*b.get(5)?);
    let dcid_end = 6usize.checked_add(dcid_len)?;
    let dcid = b.get(6..dcid_end)?;
    let scid_len = usize::from(*b.get(dcid_end)?);
    let scid_start = dcid_end.checked_add(1)?;
    let scid_end = scid_start.checked_add(scid_len)?;
    let scid = b.get(scid_start..scid_end)?;
    if wire == 0 {
        let versions = b.get(scid_end..).unwrap_or(&[]);
        return Some((Packet::VersionNegotiation { versions }, b.len()));
    }
    let Some(version) = Version::from_wire(wire) else {
        return Some((Packet::OtherVersion(wire, b), b.len()));
    };
    if dcid_len > MAX_CID_LEN || scid_len > MAX_CID_LEN {
        return None;
    }
    let kind = Kind::from_bits(version, first >> 4);
    if kind == Kind::Retry {
        let long = Long {
            version,
            kind,
            dcid,
            scid,
            bytes: b,
            pn_offset: scid_end,
        };
        return Some((Packet::Long(long), b.len()));
    }
    let mut at = scid_end;
    if kind == Kind::Initial {
        let (token_len, n) = varint(b.get(at..)?)?;
        at = at
            .checked_add(n)?
            .checked_add(usize::try_from(token_len).ok()?)?;
    }
    let (length, n) = varint(b.get(at..)?)?;
    let pn_offset = at.checked_add(n)?;
    let end = pn_offset.checked_add(usize::try_from(length).ok()?)?;
    let bytes = b.get(..end)?;
    let long = Long {
        version,
        kind,
        dcid,
        scid,
        bytes,
        pn_offset,
    };
    Some((Packet::Long(long), end))
}

/// The packets coalesced in one datagram (RFC 9000 §12.2), in order. Stops
/// at the first malformed one; the flag says whether that happened.
pub fn split(datagram: &[u8]) -> (Vec<Packet<'_>>, bool) {
    let mut out = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() && out.len() < MAX_COALESCED {
        // Padding after the last packet: zeros are no packet (a first byte
        // of zero would be a short header without the fixed bit).
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let Some((p, len)) = parse_one(rest) else {
            return (out, true);
        };
        out.push(p);
        rest = rest.get(len..).unwrap_or(&[]);
    }
    (out, false)
}

/// Reconstructs a full packet number from its truncated form (RFC 9000
/// appendix A.3), given the largest one received in the space.
pub fn decode_pn(largest: Option<u64>, truncated: u64, pn_len: usize) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let bits = (pn_len.clamp(1, 4) * 8) as u32;
    let win = 1u64 << bits;
    let hwin = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | truncated;
    if candidate.saturating_add(hwin) <= expected && candidate < (1u64 << 62).saturating_sub(win) {
        candidate.saturating_add(win)
    } else if candidate > expected.saturating_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// Removes header protection and opens a long-header packet's payload
/// (RFC 9001 §5.4, §5.3). Returns the packet number and the plaintext
/// frames; `None` when the packet is too short or the tag does not verify.
pub fn open(p: &Long<'_>, keys: &Keys, largest: Option<u64>) -> Option<(u64, Vec<u8>)> {
    // The sample starts 4 bytes after the packet number's start (§5.4.2).
    let sample_at = p.pn_offset.checked_add(4)?;
    let sample: [u8; 16] = p
        .bytes
        .get(sample_at..sample_at.checked_add(16)?)?
        .try_into()
        .ok()?;
    let mask = keys.mask(&sample);
    let mut buf = p.bytes.to_vec();
    let first = buf.first_mut()?;
    *first ^= mask.first()? & 0x0f;
    let pn_len = usize::from(*first & 0x03) + 1;
    let mut truncated = 0u64;
    for i in 0..pn_len {
        let b = buf.get_mut(p.pn_offset.checked_add(i)?)?;
        *b ^= mask.get(i + 1)?;
        truncated = (truncated << 8) | u64::from(*b);
    }
    let pn = decode_pn(largest, truncated, pn_len);
    let hdr_end = p.pn_offset.checked_add(pn_len)?;
    let tag_at = buf.len().checked_sub(TAG_LEN)?;
    if tag_at < hdr_end {
        return None;
    }
    let (head, tag) = buf.split_at_mut(tag_at);
    let (aad, payload) = head.split_at_mut(hdr_end);
    if !keys.open(pn, aad, payload, tag) {
        return None;
    }
    buf.truncate(tag_at);
    buf.drain(..hdr_end);
    Some((pn, buf))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn varints_from_rfc9000_appendix_a1() {
        let h = |s: &str| hex::decode(s).unwrap();
        assert_eq!(
            varint(&h("c2197c5eff14e88c")),
            Some((151_288_809_941_952_652, 8))
        );
        assert_eq!(varint(&h("9d7f3e7d")), Some((494_878_333, 4)));
        assert_eq!(varint(&h("7bbd")), Some((15_293, 2)));
        assert_eq!(varint(&h("25")), Some((37, 1)));
        assert_eq!(varint(&h("4025")), Some((37, 2)));
        assert_eq!(varint(&h("c2197c")), None);
    }

    #[test]
    fn packet_numbers_from_rfc9000_appendix_a3() {
        assert_eq!(decode_pn(Some(0xa82f30ea), 0x9b32, 2), 0xa82f9b32);
        assert_eq!(decode_pn(None, 2, 4), 2);
        assert_eq!(decode_pn(Some(0xff), 0x01, 1), 0x101);
        // Beyond the 2^62 packet number space: any answer, no panic.
        let _ = decode_pn(Some(u64::MAX), 0, 1);
    }

    #[test]
    fn any_prefix_of_a_datagram_splits_without_panic() {
        let mut d = vec![
            0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x40, 0x20,
        ];
        d.extend_from_slice(&[0x55; 0x20]);
        d.extend_from_slice(&[0x45, 1, 2, 3]);
        for n in 0..=d.len() {
            let _ = split(&d[..n]);
        }
        let (p, bad) = split(&d);
        assert!(!bad);
        assert_eq!(p.len(), 2);
        assert!(matches!(p[0], Packet::Long(l) if l.kind == Kind::Initial));
        assert!(matches!(p[1], Packet::Short(_)));
    }
}
