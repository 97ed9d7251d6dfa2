//! Compressed certificates (RFC 8879): Chrome, Firefox, OpenSSL 3.2 and
//! later, and servers such as Cloudflare's and Google's, send a
//! CompressedCertificate (handshake type 25) instead of a Certificate inside
//! the encrypted TLS 1.3 flight.
//!
//! In: a CompressedCertificate body. Out: the Certificate body it encodes,
//! for each algorithm the RFC registers: zlib (1), brotli (2, the one
//! browsers offer first) and zstd (3). Another algorithm gives nothing
//! (anomaly `compressed_certificate` stays). Bounded: the declared
//! uncompressed length must be at most [`MAX_HANDSHAKE_MSG_LEN`] and is
//! checked against what comes out; no decompressor produces more than that
//! plus one byte, and zstd decodes in one shot into a buffer of the declared
//! size, so a frame's claimed window costs no memory.

use std::io::Read;

use super::MAX_HANDSHAKE_MSG_LEN;

/// CertificateCompressionAlgorithm values (RFC 8879 §3).
const ZLIB: u16 = 1;
const BROTLI: u16 = 2;
const ZSTD: u16 = 3;

/// The Certificate body inside a CompressedCertificate body, if its
/// algorithm is known and it decompresses to exactly its declared length.
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
    if declared == 0 || declared > MAX_HANDSHAKE_MSG_LEN {
        return None;
    }
    let out = match algorithm {
        ZLIB => read_bounded(flate2::read::ZlibDecoder::new(data), declared)?,
        BROTLI => read_bounded(brotli_decompressor::Decompressor::new(data, 4096), declared)?,
        // One shot: fails when the frame holds more than `declared` bytes.
        ZSTD => zstd::bulk::Decompressor::new()
            .ok()?
            .decompress(data, declared)
            .ok()?,
        _ => return None,
    };
    (out.len() == declared).then_some(out)
}

/// At most `declared` + 1 bytes from a streaming decompressor (one more
/// than allowed is enough to tell the declared length was a lie).
fn read_bounded(r: impl Read, declared: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(declared);
    r.take(u64::try_from(declared).ok()?.saturating_add(1))
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A CompressedCertificate body: algorithm, declared length, data.
    fn body(algorithm: u16, declared: usize, data: &[u8]) -> Vec<u8> {
        let mut b = algorithm.to_be_bytes().to_vec();
        b.extend_from_slice(&(declared as u32).to_be_bytes()[1..]);
        b.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn malformed_or_other_algorithms_give_nothing() {
        assert_eq!(decompress_certificate(&[]), None);
        // zlib, declared 4, one byte that is no zlib stream.
        assert_eq!(decompress_certificate(&[0, 1, 0, 0, 4, 0, 0, 1, 0]), None);
        // An unregistered algorithm, whatever follows.
        assert_eq!(decompress_certificate(&body(4, 3, b"abc")), None);
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

    #[test]
    fn zlib_and_zstd_streams_of_the_declared_length_decompress() {
        let cert = b"\x00\x00\x00\x0b\x00\x00\x06\x30\x04\x02\x02\x00\x01\x00\x00".repeat(40);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut z, &cert).unwrap();
        let zlib = z.finish().unwrap();
        let zstd = zstd::bulk::compress(&cert, 19).unwrap();
        for (alg, data) in [(ZLIB, &zlib), (ZSTD, &zstd)] {
            assert!(data.len() < cert.len() / 4, "{alg}: really compressed");
            assert_eq!(
                decompress_certificate(&body(alg, cert.len(), data)).as_deref(),
                Some(&cert[..]),
                "{alg}"
            );
            // Declared one byte short or long: rejected, not cut or padded.
            assert_eq!(
                decompress_certificate(&body(alg, cert.len() - 1, data)),
                None
            );
            assert_eq!(
                decompress_certificate(&body(alg, cert.len() + 1, data)),
                None
            );
            // Every truncation of the data gives nothing, and no panic.
            for n in 0..data.len() {
                assert_eq!(
                    decompress_certificate(&body(alg, cert.len(), &data[..n])),
                    None
                );
            }
        }
    }

    #[test]
    fn a_zstd_frame_claiming_a_huge_window_decodes_in_place() {
        // Frame header: magic, descriptor 0 (no content size, a window
        // descriptor follows), window descriptor 0xa0 (2^30 bytes), then a
        // raw last block of 3 bytes. A streaming decoder would want a 1 GiB
        // window (or refuse); one shot writes straight into the 3 bytes.
        let frame = [
            0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa0, 0x19, 0x00, 0x00, b'a', b'b', b'c',
        ];
        assert_eq!(
            decompress_certificate(&body(ZSTD, 3, &frame)),
            Some(b"abc".to_vec())
        );
        // Window descriptor 0xf8 (2^41): beyond what zstd allows at all.
        let mut bad = frame;
        bad[5] = 0xf8;
        assert_eq!(decompress_certificate(&body(ZSTD, 3, &bad)), None);
    }
}
