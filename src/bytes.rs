//! Big-endian reads at an offset of a slice that may be too short: `None`
//! instead of a panic (STYLE.md §3). Shared by the packet decoders and the
//! TLS and QUIC parsers.

/// The big-endian `u16` at `at`, if the slice holds it.
pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    let bytes: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(bytes))
}

/// The big-endian `u32` at `at`, if the slice holds it.
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_range_and_refuses_past_the_end() {
        let b = [1, 2, 3, 4, 5];
        assert_eq!(be16(&b, 0), Some(0x0102));
        assert_eq!(be16(&b, 3), Some(0x0405));
        assert_eq!(be16(&b, 4), None);
        assert_eq!(be32(&b, 1), Some(0x0203_0405));
        assert_eq!(be32(&b, 2), None);
        assert_eq!(be16(&b, usize::MAX), None);
    }
}
