//! Compressed certificates (RFC 8879): Chrome, and servers such as
//! Cloudflare's and Google's, send a CompressedCertificate (handshake type
//! 25) instead of a Certificate inside the encrypted TLS 1.3 flight.
//!
//! In: a CompressedCertificate body. Out: the Certificate body it encodes,
//! when its algorithm is brotli (2), the one browsers offer. Leaves out:
//! zlib (1) and zstd (3) (anomaly `compressed_certificate` stays).
//! Bounded: the declared uncompressed length must be at most
//! [`MAX_HANDSHAKE_MSG_LEN`] and is checked against what comes out; the
//! decompressor never produces more than that plus one byte.

use std::io::Read;

use super::MAX_HANDSHAKE_MSG_LEN;

/// CertificateCompressionAlgorithm brotli (RFC 8879 §3).
const BROTLI: u16 = 2;

/// The Certificate body inside a CompressedCertificate body, if it uses
/// brotli and decompresses to exactly its declared length.
pub(super) fn decompress_certificate(body: &[u8]) -> Option<Vec<u8>> {
    let algorithm = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let declared = body
        .get(2..5)?
        .iter()
        .fold(0usize, |a, b| (a << 8) | usize::from(*b));
    let len = body
        .get(5..8)?
        .iter()
        .fold(0usize, |a, b| (a << 8) | usize::from(*b));
    let data = body.get(8..8usize.checked_add(len)?)?;
    if algorithm != BROTLI || declared == 0 || declared > MAX_HANDSHAKE_MSG_LEN {
        return None;
    }
    let mut out = Vec::with_capacity(declared);
    brotli_decompressor::Decompressor::new(data, 4096)
        .take(u64::try_from(declared).ok()?.saturating_add(1))
        .read_to_end(&mut out)
        .ok()?;
    (out.len() == declared).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_or_other_algorithms_give_nothing() {
        assert_eq!(decompress_certificate(&[]), None);
        assert_eq!(decompress_certificate(&[0, 1, 0, 0, 4, 0, 0, 1, 0]), None);
        // brotli, declared 3 bytes, stream of garbage.
        let body = [0, 2, 0, 0, 3, 0, 0, 4, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(decompress_certificate(&body), None);
        // Declared length beyond the cap.
        let body = [0, 2, 0xff, 0xff, 0xff, 0, 0, 1, 0];
        assert_eq!(decompress_certificate(&body), None);
        for n in 0..body.len() {
            let _ = decompress_certificate(&body[..n]);
        }
    }

    #[test]
    fn a_brotli_stream_of_the_declared_length_decompresses() {
        // An uncompressed brotli meta-block holding "abc" (RFC 7932 §9.2,
        // bits from the least significant): WBITS 16 (0), ISLAST 0,
        // MNIBBLES 4 (00), MLEN-1 = 2 in 16 bits, ISUNCOMPRESSED 1, pad to
        // the byte, the bytes, then an empty last meta-block (ISLAST 1,
        // ISLASTEMPTY 1).
        let stream = [0x20, 0x00, 0x10, b'a', b'b', b'c', 0x03];
        let mut body = vec![0, 2, 0, 0, 3, 0, 0, stream.len() as u8];
        body.extend_from_slice(&stream);
        assert_eq!(decompress_certificate(&body), Some(b"abc".to_vec()));
        // The same with a wrong declared length.
        body[4] = 4;
        assert_eq!(decompress_certificate(&body), None);
    }
}
