//! DTLS record and handshake-fragment headers (RFC 6347 §4.1 and §4.2.2,
//! RFC 9146 §4, RFC 9147 §4 and §5.2).
//!
//! In: one UDP payload. Out: its records, borrowed: the 13-byte-header
//! records of every DTLS version (content types 20 to 26, the `tls12_cid`
//! type 25 with its connection id), and DTLS 1.3 unified-header records
//! (always encrypted, only their size matters here); then the handshake
//! fragments of a clear handshake record. Leaves out: decryption, and
//! record sequence numbers (retransmissions are recognised one level up, by
//! handshake `message_seq`).

/// ContentType values (RFC 6347 §4.1, RFC 9146 §4, RFC 9147 §4).
pub const CT_CCS: u8 = 20;
/// Alert.
pub const CT_ALERT: u8 = 21;
/// Handshake.
pub const CT_HANDSHAKE: u8 = 22;
/// `tls12_cid`: a DTLS 1.2 record with a connection id (RFC 9146).
pub const CT_TLS12_CID: u8 = 25;
/// DTLS 1.3 ACK (RFC 9147 §7).
pub const CT_ACK: u8 = 26;

/// Header of a record with the full 13-byte header: type, version, epoch,
/// 48-bit sequence number, length.
const FULL_HEADER: usize = 13;
/// Header of a handshake fragment: msg_type, length (24), message_seq (16),
/// fragment_offset (24), fragment_length (24).
pub const FRAGMENT_HEADER: usize = 12;
/// Most records walked in one datagram (a full-size datagram holds at most
/// a few dozen).
const MAX_RECORDS: usize = 64;
/// Most fragments walked in one record.
const MAX_FRAGMENTS: usize = 64;

/// Whether a record version is one DTLS uses: 0xfeXX (DTLS 1.0 0xfeff,
/// 1.2 0xfefd, 1.3 0xfefc) or 0x0100, OpenSSL's pre-RFC DTLS
/// (`DTLS1_BAD_VER`, still sent by old Cisco AnyConnect).
pub fn is_dtls_version(v: u16) -> bool {
    v >> 8 == 0xfe || v == 0x0100
}

/// A record of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// A record with the full header (clear in epoch 0).
    Full {
        /// ContentType.
        ty: u8,
        /// Record version.
        version: u16,
        /// Epoch: 0 before the first ChangeCipherSpec (DTLS ≤ 1.2) or for
        /// the hellos (DTLS 1.3); encrypted otherwise.
        epoch: u16,
        /// The record's payload.
        fragment: &'a [u8],
    },
    /// A DTLS 1.3 unified-header record (RFC 9147 §4): encrypted; its
    /// size, header included.
    Unified(usize),
    /// Bytes that could not be split into records (unknown connection id
    /// length, damage): their count.
    Opaque(usize),
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at.checked_add(1)?)?,
    ]))
}

fn be24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        0,
        *b.get(at)?,
        *b.get(at.checked_add(1)?)?,
        *b.get(at.checked_add(2)?)?,
    ]))
}

/// Whether the first record of a UDP payload has a plausible DTLS full
/// header: content type 20..=26, a DTLS version, and a length that fits.
pub fn looks_like_record(b: &[u8]) -> bool {
    let (Some(&ty), Some(v), Some(len)) = (b.first(), be16(b, 1), be16(b, 11)) else {
        return false;
    };
    let len_ok = ty == CT_TLS12_CID || FULL_HEADER.saturating_add(usize::from(len)) <= b.len();
    (CT_CCS..=CT_ACK).contains(&ty) && is_dtls_version(v) && len_ok
}

/// Whether a byte starts a DTLS 1.3 unified header (`0b001CSLEE`).
pub fn is_unified_header(b: u8) -> bool {
    b & 0xe0 == 0x20
}

/// Splits a datagram into records. `cid_len` is the length of the
/// connection id this sender puts in its records, when negotiated (RFC 9146
/// §3, RFC 9147 §9); without it a record that carries one ends the walk as
/// [`Record::Opaque`]. The flag says whether the datagram ended in damage.
pub fn split(mut b: &[u8], cid_len: Option<usize>) -> (Vec<Record<'_>>, bool) {
    let mut out = Vec::new();
    while !b.is_empty() {
        if out.len() >= MAX_RECORDS {
            out.push(Record::Opaque(b.len()));
            return (out, true);
        }
        let Some(&first) = b.first() else {
            break;
        };
        let (rec, n) = if is_unified_header(first) {
            match unified_len(b, cid_len) {
                Some(n) => (Record::Unified(n), n),
                None => {
                    out.push(Record::Opaque(b.len()));
                    return (out, cid_len.is_some());
                }
            }
        } else {
            match full(b, cid_len) {
                Some(x) => x,
                None => {
                    out.push(Record::Opaque(b.len()));
                    return (out, true);
                }
            }
        };
        out.push(rec);
        b = b.get(n..).unwrap_or(&[]);
    }
    (out, false)
}

/// A full-header record and its size.
fn full(b: &[u8], cid_len: Option<usize>) -> Option<(Record<'_>, usize)> {
    let ty = *b.first()?;
    let version = be16(b, 1)?;
    if !(CT_CCS..=CT_ACK).contains(&ty) || !is_dtls_version(version) {
        return None;
    }
    let epoch = be16(b, 3)?;
    // tls12_cid puts the connection id between sequence number and length.
    let cid = if ty == CT_TLS12_CID { cid_len? } else { 0 };
    let len_at = 11usize.checked_add(cid)?;
    let len = usize::from(be16(b, len_at)?);
    let start = len_at.checked_add(2)?;
    let end = start.checked_add(len)?;
    let fragment = b.get(start..end)?;
    Some((
        Record::Full {
            ty,
            version,
            epoch,
            fragment,
        },
        end,
    ))
}

/// Size of a unified-header record (RFC 9147 §4): flags C (connection id
/// present), S (16-bit sequence number), L (length present).
fn unified_len(b: &[u8], cid_len: Option<usize>) -> Option<usize> {
    let first = *b.first()?;
    let cid = if first & 0x10 != 0 { cid_len? } else { 0 };
    let seq = if first & 0x08 != 0 { 2 } else { 1 };
    let hdr = 1usize.checked_add(cid)?.checked_add(seq)?;
    if first & 0x04 == 0 {
        // No length: the record runs to the end of the datagram.
        return (hdr <= b.len()).then_some(b.len());
    }
    let len = usize::from(be16(b, hdr)?);
    let end = hdr.checked_add(2)?.checked_add(len)?;
    (end <= b.len()).then_some(end)
}

/// One handshake fragment (RFC 6347 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// HandshakeType.
    pub msg_type: u8,
    /// Length of the whole message.
    pub length: u32,
    /// The message's sequence number in its sender's flight.
    pub message_seq: u16,
    /// Where this fragment sits in the message.
    pub offset: u32,
    /// This fragment's bytes.
    pub data: &'a [u8],
}

/// The handshake fragments of a clear handshake record; the flag says
/// whether the record ended in damage (a fragment longer than the record,
/// or one that runs past its message's length).
pub fn fragments(mut b: &[u8]) -> (Vec<Fragment<'_>>, bool) {
    let mut out = Vec::new();
    while !b.is_empty() {
        if out.len() >= MAX_FRAGMENTS {
            return (out, true);
        }
        let parsed = (|| {
            let msg_type = *b.first()?;
            let length = be24(b, 1)?;
            let message_seq = be16(b, 4)?;
            let offset = be24(b, 6)?;
            let frag_len = be24(b, 9)?;
            if offset.checked_add(frag_len)? > length {
                return None;
            }
            let end = FRAGMENT_HEADER.checked_add(usize::try_from(frag_len).ok()?)?;
            let data = b.get(FRAGMENT_HEADER..end)?;
            Some((
                Fragment {
                    msg_type,
                    length,
                    message_seq,
                    offset,
                    data,
                },
                end,
            ))
        })();
        let Some((f, n)) = parsed else {
            return (out, true);
        };
        out.push(f);
        b = b.get(n..).unwrap_or(&[]);
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A DTLS 1.2 handshake record holding one fragment of a 10-byte
    /// message (bytes 2..6 of it), then a unified-header record with a
    /// length and no connection id.
    fn sample() -> Vec<u8> {
        let mut d = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 16];
        d.extend_from_slice(&[1, 0, 0, 10, 0, 0, 0, 0, 2, 0, 0, 4]);
        d.extend_from_slice(&[0xaa, 0xbb, 0xcc]);
        d.extend_from_slice(&[0x2e, 0, 7, 0, 3, 1, 2, 3]);
        d
    }

    #[test]
    fn splits_full_and_unified_records() {
        let mut d = sample();
        // Fix the fragment: 4 bytes of data, so the record holds 16.
        d.insert(28, 0xdd);
        assert!(looks_like_record(&d));
        let (recs, bad) = split(&d, None);
        assert!(!bad);
        assert_eq!(recs.len(), 2);
        let Record::Full {
            ty,
            epoch,
            fragment,
            ..
        } = recs[0]
        else {
            panic!("{recs:?}");
        };
        assert_eq!((ty, epoch, fragment.len()), (22, 0, 16));
        assert_eq!(recs[1], Record::Unified(8));
        let (frags, bad) = fragments(fragment);
        assert!(!bad);
        assert_eq!(frags[0].length, 10);
        assert_eq!(frags[0].offset, 2);
        assert_eq!(frags[0].data, &[0xaa, 0xbb, 0xcc, 0xdd]);
    }

    #[test]
    fn fragment_past_its_message_is_damage() {
        // offset 8 + length 4 > message length 10.
        let f = [1, 0, 0, 10, 0, 0, 0, 0, 8, 0, 0, 4, 1, 2, 3, 4];
        let (frags, bad) = fragments(&f);
        assert!(frags.is_empty() && bad);
    }

    #[test]
    fn cid_record_needs_the_negotiated_length() {
        let mut d = vec![25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1];
        d.extend_from_slice(&[9, 9, 9, 9]);
        d.extend_from_slice(&[0, 2, 0xee, 0xee]);
        let (recs, _) = split(&d, None);
        assert_eq!(recs, vec![Record::Opaque(d.len())]);
        let (recs, bad) = split(&d, Some(4));
        assert!(!bad);
        assert!(
            matches!(recs[0], Record::Full { ty: 25, epoch: 1, fragment, .. } if fragment.len() == 2)
        );
    }

    #[test]
    fn every_truncation_and_corruption_is_harmless() {
        let mut d = sample();
        d.insert(28, 0xdd);
        for n in 0..=d.len() {
            let (recs, _) = split(&d[..n], Some(3));
            for r in recs {
                if let Record::Full { fragment, .. } = r {
                    let _ = fragments(fragment);
                }
            }
            let _ = looks_like_record(&d[..n]);
        }
        for i in 0..d.len() {
            for v in [0u8, 0x20, 0x3f, 0xff] {
                let mut c = d.clone();
                c[i] = v;
                let (recs, _) = split(&c, None);
                for r in recs {
                    if let Record::Full { fragment, .. } = r {
                        let _ = fragments(fragment);
                    }
                }
            }
        }
    }
}
