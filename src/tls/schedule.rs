//! The part of the TLS 1.3 key schedule that TLS record decryption
//! (`decrypt`) and QUIC packet protection (`crate::quic::crypto`) share.
//!
//! In: a cipher suite and a traffic secret (from a key log, or QUIC's
//! Initial derivation). Out: [`TrafficKeys`], the AEAD key and IV of one
//! direction, which open (and, for tests and fuzzing, seal) a payload at a
//! sequence number. Covers the five TLS 1.3 suites (RFC 8446 §B.4),
//! HKDF-Expand-Label (§7.1), traffic key and IV derivation (§7.3) and the
//! per-record nonce (§5.3), which QUIC reuses with its own labels (RFC 9001
//! §5.1, §5.3). Leaves out: HKDF-Extract chains and transcript hashes (the
//! secrets arrive already derived), and QUIC's header protection (in
//! `crate::quic::crypto`).

use aes_gcm::aead::consts::{U12, U16, U8};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::{Sha256, Sha384};

/// A TLS 1.3 cipher suite (RFC 8446 §B.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// TLS_AES_128_GCM_SHA256 (0x1301).
    Aes128Gcm,
    /// TLS_AES_256_GCM_SHA384 (0x1302).
    Aes256Gcm,
    /// TLS_CHACHA20_POLY1305_SHA256 (0x1303).
    ChaCha20Poly1305,
    /// TLS_AES_128_CCM_SHA256 (0x1304).
    Aes128Ccm,
    /// TLS_AES_128_CCM_8_SHA256 (0x1305).
    Aes128Ccm8,
}

impl Suite {
    /// The suite of a cipher suite value, if it is a TLS 1.3 one.
    pub fn from_u16(c: u16) -> Option<Suite> {
        match c {
            0x1301 => Some(Suite::Aes128Gcm),
            0x1302 => Some(Suite::Aes256Gcm),
            0x1303 => Some(Suite::ChaCha20Poly1305),
            0x1304 => Some(Suite::Aes128Ccm),
            0x1305 => Some(Suite::Aes128Ccm8),
            _ => None,
        }
    }

    /// Length of the suite's hash, hence of its secrets.
    pub fn hash_len(self) -> usize {
        match self {
            Suite::Aes256Gcm => 48,
            _ => 32,
        }
    }

    /// Length of the AEAD key.
    pub fn key_len(self) -> usize {
        match self {
            Suite::Aes256Gcm | Suite::ChaCha20Poly1305 => 32,
            _ => 16,
        }
    }

    /// Length of the AEAD tag.
    pub fn tag_len(self) -> usize {
        match self {
            Suite::Aes128Ccm8 => 8,
            _ => 16,
        }
    }
}

/// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 §7.1) with the
/// suite's hash (SHA-384 for AES-256-GCM, SHA-256 otherwise).
pub(crate) fn expand_label(
    suite: Suite,
    secret: &[u8],
    label: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let mut info = Vec::with_capacity(label.len().saturating_add(10));
    info.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    info.push(u8::try_from(label.len().checked_add(6)?).ok()?);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(0);
    let mut out = vec![0u8; len];
    if suite.hash_len() == 48 {
        Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?;
    } else {
        Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?;
    }
    Some(out)
}

type Aes128Ccm = ccm::Ccm<aes::Aes128, U16, U12>;
type Aes128Ccm8 = ccm::Ccm<aes::Aes128, U8, U12>;

/// An AEAD keyed for one direction.
pub(crate) enum Cipher {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
    Ccm(Box<Aes128Ccm>),
    Ccm8(Box<Aes128Ccm8>),
}

fn open_in<A: AeadInOut>(a: &A, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
    let (Ok(n), Ok(t)) = (
        aes_gcm::aead::Nonce::<A>::try_from(&nonce[..]),
        aes_gcm::aead::Tag::<A>::try_from(tag),
    ) else {
        return false;
    };
    a.decrypt_inout_detached(&n, aad, buf.into(), &t).is_ok()
}

fn seal_in<A: AeadInOut>(a: &A, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<Vec<u8>> {
    let n = aes_gcm::aead::Nonce::<A>::try_from(&nonce[..]).ok()?;
    let tag = a.encrypt_inout_detached(&n, aad, buf.into()).ok()?;
    Some(tag.to_vec())
}

impl Cipher {
    /// The suite's AEAD under `key`; `None` when the key has the wrong size.
    pub(crate) fn new(suite: Suite, key: &[u8]) -> Option<Cipher> {
        Some(match suite {
            Suite::Aes128Gcm => Cipher::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Suite::Aes256Gcm => Cipher::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Suite::ChaCha20Poly1305 => {
                Cipher::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
            Suite::Aes128Ccm => Cipher::Ccm(Box::new(Aes128Ccm::new_from_slice(key).ok()?)),
            Suite::Aes128Ccm8 => Cipher::Ccm8(Box::new(Aes128Ccm8::new_from_slice(key).ok()?)),
        })
    }

    /// Opens `buf` in place; false when the tag does not verify.
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        match self {
            Cipher::Aes128Gcm(a) => open_in(a.as_ref(), nonce, aad, buf, tag),
            Cipher::Aes256Gcm(a) => open_in(a.as_ref(), nonce, aad, buf, tag),
            Cipher::ChaCha(a) => open_in(a.as_ref(), nonce, aad, buf, tag),
            Cipher::Ccm(a) => open_in(a.as_ref(), nonce, aad, buf, tag),
            Cipher::Ccm8(a) => open_in(a.as_ref(), nonce, aad, buf, tag),
        }
    }

    /// Seals `buf` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Option<Vec<u8>> {
        match self {
            Cipher::Aes128Gcm(a) => seal_in(a.as_ref(), nonce, aad, buf),
            Cipher::Aes256Gcm(a) => seal_in(a.as_ref(), nonce, aad, buf),
            Cipher::ChaCha(a) => seal_in(a.as_ref(), nonce, aad, buf),
            Cipher::Ccm(a) => seal_in(a.as_ref(), nonce, aad, buf),
            Cipher::Ccm8(a) => seal_in(a.as_ref(), nonce, aad, buf),
        }
    }
}

/// The AEAD key and IV of one direction at one key epoch.
pub(crate) struct TrafficKeys {
    cipher: Cipher,
    iv: [u8; 12],
}

impl TrafficKeys {
    /// Key and IV from a traffic secret: HKDF-Expand-Label with `labels`
    /// ("key" and "iv" in TLS, RFC 8446 §7.3; "quic key" and "quic iv" in
    /// QUIC, RFC 9001 §5.1). `None` when the secret's length is not the
    /// suite's hash length.
    pub(crate) fn new(suite: Suite, secret: &[u8], labels: [&[u8]; 2]) -> Option<TrafficKeys> {
        if secret.len() != suite.hash_len() {
            return None;
        }
        let [key_label, iv_label] = labels;
        let key = expand_label(suite, secret, key_label, suite.key_len())?;
        let iv: [u8; 12] = expand_label(suite, secret, iv_label, 12)?.try_into().ok()?;
        Some(TrafficKeys {
            cipher: Cipher::new(suite, &key)?,
            iv,
        })
    }

    /// The nonce of record (or packet) number `seq`: the IV XOR `seq`,
    /// left-padded (RFC 8446 §5.3, RFC 9001 §5.3).
    pub(crate) fn nonce(&self, seq: u64) -> [u8; 12] {
        let mut n = self.iv;
        for (b, s) in n.iter_mut().skip(4).zip(seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// Opens `buf` in place as record `seq`; false when the tag does not
    /// verify.
    pub(crate) fn open(&self, seq: u64, aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        self.cipher.open(&self.nonce(seq), aad, buf, tag)
    }

    /// Seals `buf` in place as record `seq` and returns the tag.
    pub(crate) fn seal(&self, seq: u64, aad: &[u8], buf: &mut [u8]) -> Option<Vec<u8>> {
        self.cipher.seal(&self.nonce(seq), aad, buf)
    }

    /// The IV, for tests against published vectors.
    #[cfg(test)]
    pub(crate) fn iv(&self) -> [u8; 12] {
        self.iv
    }
}
