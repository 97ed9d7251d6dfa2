//! Minimal DER helpers: one TLV read (ITU-T X.690 §8.1), lowercase hex and
//! standard base64 (RFC 4648 §4, padded).
//!
//! Only single-byte tags and definite lengths of up to four bytes are read:
//! that covers every structure this module looks into (names, SPKI, DSA
//! parameters). Anything else is `None`, never a panic.

/// One DER element: tag byte, contents, and the input after the element.
pub(crate) struct Tlv<'a> {
    /// The identifier octet (class, constructed bit, tag number < 31).
    pub tag: u8,
    /// The contents octets.
    pub content: &'a [u8],
    /// The bytes after this element.
    pub rest: &'a [u8],
}

/// Reads one TLV from the start of `input`.
pub(crate) fn read_tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, after_len) = after_tag.split_first()?;
    let (len, body) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len_bytes = after_len.get(..n)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, after_len.get(n..)?)
    };
    let content = body.get(..len)?;
    let rest = body.get(len..)?;
    Some(Tlv { tag, content, rest })
}

/// The contents of a DER element that must fill `input` exactly.
pub(crate) fn contents(input: &[u8]) -> Option<&[u8]> {
    let tlv = read_tlv(input)?;
    tlv.rest.is_empty().then_some(tlv.content)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Standard base64 with padding (RFC 4648 §4), as HPKP pins use (RFC 7469 §2.4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 0x3f) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

/// Bits in a big-endian unsigned integer, leading zero octets ignored.
pub(crate) fn uint_bits(bytes: &[u8]) -> u32 {
    let trimmed: &[u8] = match bytes.iter().position(|&b| b != 0) {
        Some(i) => bytes.get(i..).unwrap_or(&[]),
        None => &[],
    };
    match trimmed.first() {
        None => 0,
        Some(&first) => {
            let len = u32::try_from(trimmed.len()).unwrap_or(u32::MAX);
            len.saturating_sub(1)
                .saturating_mul(8)
                .saturating_add(8 - first.leading_zeros())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        // RFC 4648 §10.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input.as_bytes()), want);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn tlv_short_long_and_truncated() {
        let short = [0x30, 0x02, 0x05, 0x00, 0xaa];
        let t = read_tlv(&short).unwrap();
        assert_eq!(
            (t.tag, t.content, t.rest),
            (0x30, &[5u8, 0][..], &[0xaa][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(contents(&long).map(<[u8]>::len), Some(0x80));
        for n in 0..long.len() {
            assert!(contents(&long[..n]).is_none());
        }
        assert!(read_tlv(&[0x1f, 0x01, 0x00]).is_none());
        assert!(read_tlv(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
    }

    #[test]
    fn bit_counts() {
        assert_eq!(uint_bits(&[]), 0);
        assert_eq!(uint_bits(&[0, 0]), 0);
        assert_eq!(uint_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(uint_bits(&[0x01]), 1);
        assert_eq!(uint_bits(&[0x7f, 0xff]), 15);
    }
}
