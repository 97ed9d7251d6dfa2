//! QUIC packet protection keys (RFC 9001 §5, RFC 9369 §3.3).
//!
//! In: a QUIC version and the client's Destination Connection ID (Initial
//! keys, RFC 9001 §5.2), or a TLS 1.3 handshake traffic secret from a key
//! log and the negotiated cipher suite (Handshake keys, §5.1). Out:
//! [`Keys`]: an AEAD key, an IV and a header protection key, able to
//! compute a header protection mask (§5.4) and open a packet payload
//! (§5.3). The suites, HKDF-Expand-Label and the AEAD come from the TLS
//! stage's key schedule (`crate::tls::schedule`); header protection is
//! QUIC's own. Leaves out: sealing (only tests seal), key updates and 1-RTT
//! keys (application data is never decrypted), AES-CCM suites (no QUIC
//! stack offers them).

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use hkdf::Hkdf;
use sha2::Sha256;

/// The TLS 1.3 cipher suites, shared with TLS record decryption.
pub use crate::tls::schedule::Suite;
use crate::tls::schedule::{expand_label, TrafficKeys};

/// A QUIC version whose Initial packets can be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// QUIC version 1, 0x00000001 (RFC 9000).
    V1,
    /// QUIC version 2, 0x6b3343cf (RFC 9369).
    V2,
    /// IETF drafts 29 to 32 (0xff00001d-0xff000020), which Chrome and
    /// others shipped as `h3-29` before RFC 9000.
    Draft29,
    /// IETF drafts 23 to 28 (0xff000017-0xff00001c) and Facebook's mvfst
    /// 0xfaceb002 and 0xfaceb00e, which follow draft 27.
    Draft23,
    /// IETF draft 22 (0xff000016) and Facebook's mvfst 0xfaceb001, which
    /// follows it.
    Draft22,
    /// Google's TLS-based gQUIC T050 (0x54303530): IETF long headers and
    /// Initial protection with its own salt, gQUIC frames inside.
    T050,
    /// Google's T051 (0x54303531), likewise.
    T051,
}

/// Initial salt of QUIC v1 (RFC 9001 §5.2).
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// Initial salt of Google's T050 (Chromium's quic_crypto_utils, as
/// Wireshark's and nDPI's QUIC dissectors use it).
const SALT_T050: [u8; 20] = [
    0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c,
    0x60, 0x48, 0x83, 0x10,
];
/// Initial salt of Google's T051.
const SALT_T051: [u8; 20] = [
    0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc,
    0xda, 0x6e, 0x03, 0x3d,
];
/// Initial salt of QUIC v2 (RFC 9369 §3.3.1).
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
/// Initial salt of drafts 29-32 (draft-ietf-quic-tls-29 §5.2).
const SALT_DRAFT29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];

/// Initial salt of drafts 23-28 (draft-ietf-quic-tls-23 §5.2), also used
/// by mvfst 0xfaceb002 and 0xfaceb00e.
const SALT_DRAFT23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];
/// Initial salt of draft 22 (draft-ietf-quic-tls-22 §5.2), also used by
/// mvfst 0xfaceb001.
const SALT_DRAFT22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];

impl Version {
    /// The version of a long header's version field, if supported.
    ///
    /// Drafts 22 to 34 share v1's long header (one-byte connection ID
    /// lengths since draft 22, draft-ietf-quic-transport-22 appendix B.1),
    /// packet types, CRYPTO frames and "quic " labels; only the Initial
    /// salt changed, in drafts 23, 29 and 33. Drafts 33 and 34 use v1's
    /// salt (draft-ietf-quic-tls-33 §5.2), so they are read as v1. The
    /// mvfst numbers map to the draft each follows, as Wireshark's and
    /// nDPI's QUIC dissectors do (0xfaceb001 draft 22; 0xfaceb002 and
    /// 0xfaceb00e draft 27). Google's T050/T051 have their own salts and
    /// carry TLS in gQUIC frames (CRYPTO is frame type 0x08 there, see
    /// [`Version::gquic_frames`]); Q0xx (not TLS) stays out.
    pub fn from_wire(v: u32) -> Option<Version> {
        match v {
            0x0000_0001 | 0xff00_0021 | 0xff00_0022 => Some(Version::V1),
            0x6b33_43cf => Some(Version::V2),
            0xff00_001d..=0xff00_0020 => Some(Version::Draft29),
            0xff00_0017..=0xff00_001c | 0xface_b002 | 0xface_b00e => Some(Version::Draft23),
            0xff00_0016 | 0xface_b001 => Some(Version::Draft22),
            0x5430_3530 => Some(Version::T050),
            0x5430_3531 => Some(Version::T051),
            _ => None,
        }
    }

    fn salt(self) -> &'static [u8; 20] {
        match self {
            Version::V1 => &SALT_V1,
            Version::V2 => &SALT_V2,
            Version::Draft29 => &SALT_DRAFT29,
            Version::Draft23 => &SALT_DRAFT23,
            Version::Draft22 => &SALT_DRAFT22,
            Version::T050 => &SALT_T050,
            Version::T051 => &SALT_T051,
        }
    }

    /// Google's T05x versions carry gQUIC frames (CRYPTO is type 0x08).
    pub fn gquic_frames(self) -> bool {
        matches!(self, Version::T050 | Version::T051)
    }

    /// Labels for key, iv and hp: "quic ..." (v1, drafts) or "quicv2 ..."
    /// (RFC 9369 §3.3.2).
    fn labels(self) -> [&'static [u8]; 3] {
        match self {
            Version::V2 => [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"],
            _ => [b"quic key", b"quic iv", b"quic hp"],
        }
    }
}

/// The suite of a ServerHello cipher suite value, if QUIC packets under it
/// are opened here: the AES-GCM suites and ChaCha20-Poly1305 (RFC 9001
/// §5.3). AES-CCM is left out: no QUIC stack offers it.
pub fn quic_suite(c: u16) -> Option<Suite> {
    Suite::from_u16(c).filter(|s| {
        matches!(
            s,
            Suite::Aes128Gcm | Suite::Aes256Gcm | Suite::ChaCha20Poly1305
        )
    })
}

/// AEAD tag length of every QUIC suite handled here.
pub const TAG_LEN: usize = 16;

/// The client's and the server's Initial secrets for a connection whose
/// client chose `dcid` (RFC 9001 §5.2).
pub fn initial_secrets(version: Version, dcid: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (prk, _) = Hkdf::<Sha256>::extract(Some(version.salt()), dcid);
    let client = expand_label(Suite::Aes128Gcm, &prk, b"client in", 32)?;
    let server = expand_label(Suite::Aes128Gcm, &prk, b"server in", 32)?;
    Some((client.try_into().ok()?, server.try_into().ok()?))
}

enum HeaderKey {
    Aes128(Box<aes::Aes128>),
    Aes256(Box<aes::Aes256>),
    ChaCha([u8; 32]),
}

/// Packet protection of one direction at one encryption level.
pub struct Keys {
    traffic: TrafficKeys,
    hp: HeaderKey,
    /// Raw key material, kept for the tests that compare it with the RFCs.
    #[cfg(test)]
    pub(crate) raw: (Vec<u8>, Vec<u8>),
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// Keys from a TLS 1.3 traffic secret (RFC 9001 §5.1): "quic key",
    /// "quic iv", "quic hp" (v2: "quicv2 ..."). `None` when the secret's
    /// length is not the suite's hash length.
    pub fn from_secret(version: Version, suite: Suite, secret: &[u8]) -> Option<Keys> {
        let [lk, liv, lhp] = version.labels();
        let traffic = TrafficKeys::new(suite, secret, [lk, liv])?;
        let hp = expand_label(suite, secret, lhp, suite.key_len())?;
        let hp_key = match suite {
            Suite::Aes128Gcm => HeaderKey::Aes128(Box::new(aes::Aes128::new_from_slice(&hp).ok()?)),
            Suite::Aes256Gcm => HeaderKey::Aes256(Box::new(aes::Aes256::new_from_slice(&hp).ok()?)),
            Suite::ChaCha20Poly1305 => HeaderKey::ChaCha(hp.as_slice().try_into().ok()?),
            Suite::Aes128Ccm | Suite::Aes128Ccm8 => return None,
        };
        Some(Keys {
            traffic,
            hp: hp_key,
            #[cfg(test)]
            raw: (expand_label(suite, secret, lk, suite.key_len())?, hp),
        })
    }

    /// The client's and the server's Initial keys for `dcid`.
    pub fn initial(version: Version, dcid: &[u8]) -> Option<(Keys, Keys)> {
        let (c, s) = initial_secrets(version, dcid)?;
        Some((
            Keys::from_secret(version, Suite::Aes128Gcm, &c)?,
            Keys::from_secret(version, Suite::Aes128Gcm, &s)?,
        ))
    }

    /// The header protection mask for a 16-byte sample (RFC 9001 §5.4.3
    /// AES-ECB, §5.4.4 ChaCha20 with the sample's first 4 bytes as the
    /// little-endian block counter and the other 12 as the nonce).
    pub fn mask(&self, sample: &[u8; 16]) -> [u8; 5] {
        let mut out = [0u8; 5];
        match &self.hp {
            HeaderKey::Aes128(k) => {
                let mut block = aes::Block::from(*sample);
                k.encrypt_block(&mut block);
                out.copy_from_slice(block.get(..5).unwrap_or(&[0; 5]));
            }
            HeaderKey::Aes256(k) => {
                let mut block = aes::Block::from(*sample);
                k.encrypt_block(&mut block);
                out.copy_from_slice(block.get(..5).unwrap_or(&[0; 5]));
            }
            HeaderKey::ChaCha(k) => {
                let (ctr, nonce) = sample.split_at(4);
                let counter = u32::from_le_bytes([
                    ctr.first().copied().unwrap_or(0),
                    ctr.get(1).copied().unwrap_or(0),
                    ctr.get(2).copied().unwrap_or(0),
                    ctr.get(3).copied().unwrap_or(0),
                ]);
                if let Ok(mut c) = chacha20::ChaCha20::new_from_slices(k, nonce) {
                    if c.try_seek(u64::from(counter) * 64).is_ok() {
                        c.apply_keystream(&mut out);
                    }
                }
            }
        }
        out
    }

    /// Opens a payload in place (RFC 9001 §5.3): nonce = iv XOR packet
    /// number, additional data = the unprotected header. False when the
    /// tag does not verify.
    pub fn open(&self, pn: u64, aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        self.traffic.open(pn, aad, buf, tag)
    }

    /// Seals a payload in place and returns the tag. The scan only opens
    /// packets; tests and the `quic` fuzz target build them with this.
    pub fn seal(&self, pn: u64, aad: &[u8], buf: &mut [u8]) -> Vec<u8> {
        self.traffic.seal(pn, aad, buf).unwrap_or_default()
    }

    /// The IV, for tests against the RFC vectors.
    #[cfg(test)]
    pub(crate) fn iv(&self) -> [u8; 12] {
        self.traffic.iv()
    }
}

/// Builds a protected long-header packet (4-byte packet number) as a sender
/// would: `type_bits` 0 Initial, 1 0-RTT, 2 Handshake; `token` for Initials.
/// A payload shorter than the header-protection sample is zero-padded
/// (PADDING frames). Tests and the `quic` fuzz target build packets with it.
#[allow(clippy::too_many_arguments)]
pub fn seal_long(
    version: u32,
    type_bits: u8,
    dcid: &[u8],
    scid: &[u8],
    token: Option<&[u8]>,
    pn: u32,
    payload: &[u8],
    keys: &Keys,
) -> Vec<u8> {
    let mut payload = payload.to_vec();
    if payload.len() < 20 {
        payload.resize(20, 0);
    }
    // Connection ids and tokens longer than a length byte or varint allow
    // are cut; the packet length is a 2-byte varint (at most 16383).
    let dcid = &dcid[..dcid.len().min(255)];
    let scid = &scid[..scid.len().min(255)];
    payload.truncate(16383 - 4 - 16);
    let mut hdr = vec![0xc0 | ((type_bits & 3) << 4) | 0x03];
    hdr.extend_from_slice(&version.to_be_bytes());
    hdr.push(dcid.len() as u8);
    hdr.extend_from_slice(dcid);
    hdr.push(scid.len() as u8);
    hdr.extend_from_slice(scid);
    if let Some(t) = token {
        let t = &t[..t.len().min(63)];
        hdr.push(t.len() as u8);
        hdr.extend_from_slice(t);
    }
    let len = 4 + payload.len() + 16;
    hdr.extend_from_slice(&(len as u16 | 0x4000).to_be_bytes());
    let pn_at = hdr.len();
    hdr.extend_from_slice(&pn.to_be_bytes());
    let tag = keys.seal(u64::from(pn), &hdr, &mut payload);
    let mut pkt = hdr;
    pkt.extend_from_slice(&payload);
    pkt.extend_from_slice(&tag);
    let sample = pkt
        .get(pn_at + 4..pn_at + 20)
        .and_then(|s| <[u8; 16]>::try_from(s).ok());
    if let Some(sample) = sample {
        let mask = keys.mask(&sample);
        pkt[0] ^= mask[0] & 0x0f;
        for i in 0..4 {
            pkt[pn_at + i] ^= mask[1 + i];
        }
    }
    pkt
}
