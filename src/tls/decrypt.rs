//! TLS 1.3 handshake decryption with secrets from an NSS key log.
//!
//! In: a [`Handshake`] whose `encrypted_flight` holds the records a
//! [`super::Session`] kept, and a [`KeyLog`]. Out: the server's (and the
//! client's) certificate chain, the EncryptedExtensions ALPN and extension
//! list, the CertificateVerify signature schemes, decrypted client alerts,
//! `visibility` = [`Visibility::Decrypted`], and a [`Decryption`] verdict.
//!
//! Keys come straight from the logged handshake traffic secrets
//! (HKDF-Expand-Label "key" and "iv", RFC 8446 §7.1 and §7.3, through the
//! key schedule QUIC shares, `super::schedule`), so no
//! transcript hash is needed and a HelloRetryRequest changes nothing. Each
//! direction's first encrypted record has sequence number 0 (§5.3); the
//! per-record nonce is the iv XOR the sequence number; the additional data
//! is the record header (§5.2); the inner plaintext ends with its content
//! type followed by zero padding (§5.4). Suites: TLS_AES_128_GCM_SHA256,
//! TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256,
//! TLS_AES_128_CCM_SHA256, TLS_AES_128_CCM_8_SHA256 (RFC 8446 §B.4).
//!
//! Leaves out: application data (decryption stops at each side's Finished:
//! later records are under other keys and are never opened), 0-RTT data,
//! TLS ≤ 1.2, and compressed certificates other than brotli (RFC 8879,
//! see `compress.rs`: flagged `compressed_certificate`).

use super::compress::decompress_certificate;
use super::keylog::{KeyLog, SecretLabel};
#[cfg(test)]
use super::schedule::{expand_label, Cipher};
use super::schedule::{Suite, TrafficKeys};
use super::{Handshake, Side, Visibility, MAX_CHAIN_LEN, MAX_HANDSHAKE_MSG_LEN};
use crate::bytes::be16;
use crate::error::Anomaly;

/// Outcome of [`Handshake::decrypt`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decryption {
    /// Nothing to do: not TLS 1.3, resumed (PSK), the certificate is already
    /// visible, or no ClientHello was seen.
    NotApplicable,
    /// The key log has no server handshake secret for this client random.
    /// The encrypted records are kept, so a later key log can be tried.
    NoKeys,
    /// The logged secret does not open the server's first record (AEAD tag
    /// mismatch, or a secret of the wrong size for the suite): anomaly
    /// `keylog_wrong_key`, and no certificate is produced.
    WrongKey,
    /// The handshake was decrypted and the server certificate recovered.
    Decrypted,
    /// The key opened the records but no certificate could be read from
    /// them (or there was nothing to open): an anomaly says why.
    Failed,
}

impl Decryption {
    /// Short snake_case name, for counts and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Decryption::NotApplicable => "not_applicable",
            Decryption::NoKeys => "no_keys",
            Decryption::WrongKey => "wrong_key",
            Decryption::Decrypted => "decrypted",
            Decryption::Failed => "failed",
        }
    }
}

/// Record content types (RFC 8446 §5.1).
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APP_DATA: u8 = 23;

/// Handshake types seen inside the encrypted flight (RFC 8446 §4, RFC 8879).
const HT_ENCRYPTED_EXTENSIONS: u8 = 8;
const HT_CERTIFICATE: u8 = 11;
const HT_CERTIFICATE_REQUEST: u8 = 13;
const HT_CERTIFICATE_VERIFY: u8 = 15;
const HT_FINISHED: u8 = 20;
const HT_COMPRESSED_CERTIFICATE: u8 = 25;

/// ALPN extension type (RFC 7301).
const EXT_ALPN: u16 = 0x0010;

/// How many sequence numbers past a record that fails to open are tried: a
/// capture gap that lost whole records shifts the sequence.
const MAX_SEQ_SKIP: u64 = 3;

/// Payload lengths of a record holding only a Finished (no padding) and of
/// an encrypted alert, for `cipher`; `None` for a suite not handled here.
pub(crate) fn bare_finished_len(cipher: u16) -> Option<(usize, usize)> {
    let s = Suite::from_u16(cipher)?;
    // Finished: 4-byte header + verify_data (hash length), + content type.
    let fin = s.hash_len() + 4 + 1 + s.tag_len();
    let alert = 2 + 1 + s.tag_len();
    Some((fin, alert))
}

/// Record protection for one direction and key epoch (RFC 8446 §5.2-5.3).
struct Protection {
    keys: TrafficKeys,
    tag_len: usize,
    seq: u64,
}

/// Why a record did not open.
#[derive(Debug, PartialEq, Eq)]
enum OpenError {
    /// AEAD tag mismatch.
    Auth,
    /// Too short, or a plaintext of zeros only (RFC 8446 §5.4).
    Malformed,
}

impl Protection {
    /// Keys for `suite` from a logged traffic secret (labels "key" and
    /// "iv", RFC 8446 §7.3); `None` when the secret's length is not the
    /// suite's hash length.
    fn new(suite: Suite, secret: &[u8]) -> Option<Protection> {
        Some(Protection {
            keys: TrafficKeys::new(suite, secret, [b"key", b"iv"])?,
            tag_len: suite.tag_len(),
            seq: 0,
        })
    }

    /// Opens one whole record (header included) at sequence `seq`; returns
    /// the inner content type and content, padding removed.
    fn open_at(&self, record: &[u8], seq: u64) -> Result<(u8, Vec<u8>), OpenError> {
        let aad = record.get(..5).ok_or(OpenError::Malformed)?;
        let body = record.get(5..).ok_or(OpenError::Malformed)?;
        let ct_len = body
            .len()
            .checked_sub(self.tag_len)
            .ok_or(OpenError::Malformed)?;
        let (ct, tag) = body.split_at_checked(ct_len).ok_or(OpenError::Malformed)?;
        let mut buf = ct.to_vec();
        if !self.keys.open(seq, aad, &mut buf, tag) {
            return Err(OpenError::Auth);
        }
        let end = buf
            .iter()
            .rposition(|b| *b != 0)
            .ok_or(OpenError::Malformed)?;
        let ty = *buf.get(end).ok_or(OpenError::Malformed)?;
        buf.truncate(end);
        Ok((ty, buf))
    }

    /// Opens the next record; on a tag failure past the first record, tries
    /// a few later sequence numbers (records lost to a capture gap).
    fn open_next(&mut self, record: &[u8]) -> Result<(u8, Vec<u8>, bool), OpenError> {
        match self.open_at(record, self.seq) {
            Ok((ty, p)) => {
                self.seq = self.seq.saturating_add(1);
                Ok((ty, p, false))
            }
            Err(OpenError::Auth) if self.seq > 0 => {
                for skip in 1..=MAX_SEQ_SKIP {
                    let seq = self.seq.saturating_add(skip);
                    if let Ok((ty, p)) = self.open_at(record, seq) {
                        self.seq = seq.saturating_add(1);
                        return Ok((ty, p, true));
                    }
                }
                Err(OpenError::Auth)
            }
            Err(e) => Err(e),
        }
    }

    #[cfg(test)]
    fn seal(&mut self, inner_type: u8, content: &[u8], padding: usize) -> Vec<u8> {
        let mut buf = content.to_vec();
        buf.push(inner_type);
        buf.resize(buf.len() + padding, 0);
        let len = u16::try_from(buf.len() + self.tag_len).unwrap_or(u16::MAX);
        let mut rec = vec![CT_APP_DATA, 3, 3];
        rec.extend_from_slice(&len.to_be_bytes());
        let tag = self
            .keys
            .seal(self.seq, &rec.clone(), &mut buf)
            .unwrap_or_default();
        self.seq += 1;
        rec.extend_from_slice(&buf);
        rec.extend_from_slice(&tag);
        rec
    }
}

/// Splits concatenated records: `(type, whole record)`.
fn records(mut b: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let ty = *b.first()?;
        let len = usize::from(u16::from_be_bytes([*b.get(3)?, *b.get(4)?]));
        let end = len.checked_add(5)?;
        let rec = b.get(..end)?;
        b = b.get(end..).unwrap_or(&[]);
        Some((ty, rec))
    })
}

/// What one side's decrypted records held.
#[derive(Default, Debug)]
struct Opened {
    /// Handshake messages (type, body), in order, up to Finished.
    messages: Vec<(u8, Vec<u8>)>,
    /// The first record did not open: wrong key.
    wrong_key: bool,
    /// A later record did not open or was malformed.
    broken: bool,
    /// A sequence number had to be skipped.
    skipped: bool,
    /// The Finished message was reached.
    finished: bool,
    /// Alert (level, description) found instead of more handshake.
    alert: Option<(u8, u8)>,
    /// Content that is not a handshake message where one was due.
    unexpected: bool,
}

/// Opens one side's records with `secret` until its Finished.
fn open_side(suite: Suite, secret: &[u8], flight: &[u8]) -> Opened {
    let mut out = Opened::default();
    let Some(mut prot) = Protection::new(suite, secret) else {
        out.wrong_key = true;
        return out;
    };
    let mut hs: Vec<u8> = Vec::new();
    let mut first = true;
    for (ty, rec) in records(flight) {
        if ty != CT_APP_DATA {
            continue;
        }
        let (inner, content, skipped) = match prot.open_next(rec) {
            Ok(x) => x,
            Err(OpenError::Auth) if first => {
                out.wrong_key = true;
                return out;
            }
            Err(_) => {
                out.broken = true;
                return out;
            }
        };
        first = false;
        out.skipped |= skipped;
        match inner {
            CT_HANDSHAKE => {
                hs.extend_from_slice(&content);
                let mut pos = 0usize;
                while let (Some(&t), Some(l)) = (
                    hs.get(pos),
                    hs.get(pos.saturating_add(1)..pos.saturating_add(4)),
                ) {
                    let len = l.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
                    if len > MAX_HANDSHAKE_MSG_LEN {
                        out.unexpected = true;
                        return out;
                    }
                    let start = pos.saturating_add(4);
                    let Some(body) = hs.get(start..start.saturating_add(len)) else {
                        break;
                    };
                    out.messages.push((t, body.to_vec()));
                    pos = start.saturating_add(len);
                    if t == HT_FINISHED {
                        out.finished = true;
                        return out;
                    }
                }
                hs.drain(..pos.min(hs.len()));
            }
            CT_ALERT => {
                if let [level, description, ..] = content[..] {
                    out.alert = Some((level, description));
                } else {
                    out.unexpected = true;
                }
                return out;
            }
            _ => {
                out.unexpected = true;
                return out;
            }
        }
    }
    out
}

fn be24(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(s.iter().fold(0usize, |a, x| (a << 8) | usize::from(*x)))
}

/// TLS 1.3 Certificate body (RFC 8446 §4.4.2): context, then entries of
/// DER (or raw public key) plus per-entry extensions. `None` if malformed.
fn parse_certificate13(body: &[u8]) -> Option<(Vec<Vec<u8>>, bool)> {
    let ctx_len = usize::from(*body.first()?);
    let list_at = ctx_len.checked_add(1)?;
    let list_len = be24(body, list_at)?;
    let start = list_at.checked_add(3)?;
    let mut list = body.get(start..start.checked_add(list_len)?)?;
    let mut certs = Vec::new();
    let mut capped = false;
    while !list.is_empty() {
        let len = be24(list, 0)?;
        let der = list.get(3..3usize.checked_add(len)?)?;
        let ext_at = 3usize.checked_add(len)?;
        let ext_len = usize::from(be16(list, ext_at)?);
        let next = ext_at.checked_add(2)?.checked_add(ext_len)?;
        list.get(..next)?;
        if certs.len() < MAX_CHAIN_LEN {
            certs.push(der.to_vec());
        } else {
            capped = true;
        }
        list = list.get(next..).unwrap_or(&[]);
    }
    Some((certs, capped))
}

/// EncryptedExtensions (RFC 8446 §4.3.1): extension types and the ALPN
/// protocol selected (RFC 7301 §3.1), if any. `None` if malformed.
fn parse_encrypted_extensions(body: &[u8]) -> Option<(Vec<u16>, Option<String>)> {
    let len = usize::from(be16(body, 0)?);
    let mut exts = body.get(2..2usize.checked_add(len)?)?;
    let mut types = Vec::new();
    let mut alpn = None;
    while !exts.is_empty() {
        let ty = be16(exts, 0)?;
        let l = usize::from(be16(exts, 2)?);
        let data = exts.get(4..4usize.checked_add(l)?)?;
        if types.len() < 512 {
            types.push(ty);
        }
        if ty == EXT_ALPN {
            // ProtocolNameList with exactly one name.
            let name_len = usize::from(*data.get(2)?);
            let name = data.get(3..3usize.checked_add(name_len)?)?;
            alpn = Some(String::from_utf8_lossy(name).into_owned());
        }
        exts = exts.get(4usize.checked_add(l)?..).unwrap_or(&[]);
    }
    Some((types, alpn))
}

fn is_tls13(v: u16) -> bool {
    v == 0x0304 || (0x7f00..=0x7fff).contains(&v) || (0xfb00..=0xfbff).contains(&v)
}

impl Handshake {
    pub(super) fn note(&mut self, code: Anomaly) {
        if !self.anomalies.contains(&code) {
            self.anomalies.push(code);
        }
    }

    /// Drops the kept TLS 1.3 encrypted records without decrypting them
    /// (when no key log will be offered for this connection).
    pub fn discard_encrypted_flight(&mut self) {
        self.encrypted_flight = None;
    }

    /// Decrypts the kept TLS 1.3 handshake records with the key log (RFC 8446
    /// §5.2, §7.3). On success fills `server_chain` (and `client_chain` for
    /// mutual TLS), `server_hello.alpn` from EncryptedExtensions,
    /// `encrypted_extensions`, `cert_verify_scheme`,
    /// `client_cert_requested`, the level and description of the client's
    /// encrypted alert, and sets `visibility` to [`Visibility::Decrypted`].
    /// The kept ciphertext is dropped on every outcome but
    /// [`Decryption::NoKeys`]. Application data is never decrypted.
    pub fn decrypt(&mut self, keys: &KeyLog) -> Decryption {
        let v13 = self.version.is_some_and(is_tls13);
        if !v13 || self.visibility != Visibility::Encrypted || !self.server_chain.is_empty() {
            return Decryption::NotApplicable;
        }
        let Some(random) = self.client_hello.as_ref().map(|c| c.random) else {
            return Decryption::NotApplicable;
        };
        let Some(server_secret) = keys.secret(&random, SecretLabel::ServerHandshakeTraffic) else {
            return Decryption::NoKeys;
        };
        let Some(flight) = self.encrypted_flight.take() else {
            self.note(Anomaly::KeylogNoFlight);
            return Decryption::Failed;
        };
        let Some(suite) = self.cipher.and_then(Suite::from_u16) else {
            self.note(Anomaly::KeylogUnsupportedCipher);
            return Decryption::Failed;
        };
        let server = open_side(suite, server_secret, &flight.server);
        if server.wrong_key {
            self.note(Anomaly::KeylogWrongKey);
            return Decryption::WrongKey;
        }
        let (compressed, bad) = self.apply_server_messages(&server.messages);
        let bad = bad || server.unexpected;
        if server.skipped {
            self.note(Anomaly::DecryptSeqSkip);
        }
        if server.broken || (!server.finished && !flight.server_truncated) {
            self.note(Anomaly::DecryptFlightIncomplete);
        }
        if let Some(cs) = keys.secret(&random, SecretLabel::ClientHandshakeTraffic) {
            if !flight.client.is_empty() {
                self.decrypt_client(suite, cs, &flight.client);
            }
        }
        self.conclude_decryption(compressed, server.alert.is_some(), bad)
    }

    /// The outcome of a decrypted server flight, TLS over TCP or QUIC:
    /// decrypted when the server's certificate was read; failed otherwise,
    /// with an anomaly saying why (a compressed Certificate, a server
    /// alert, a malformed message, or no Certificate at all).
    pub(super) fn conclude_decryption(
        &mut self,
        compressed: bool,
        alert: bool,
        bad: bool,
    ) -> Decryption {
        if self.server_chain.is_empty() {
            self.note(if compressed {
                Anomaly::CompressedCertificate
            } else if alert {
                Anomaly::DecryptedServerAlert
            } else if bad {
                Anomaly::DecryptedUnparsable
            } else {
                Anomaly::DecryptedNoCertificate
            });
            return Decryption::Failed;
        }
        if bad {
            self.note(Anomaly::DecryptedUnparsable);
        }
        self.visibility = Visibility::Decrypted;
        Decryption::Decrypted
    }

    /// Takes the server's decrypted handshake messages (EncryptedExtensions,
    /// Certificate, CertificateRequest, CertificateVerify): fills the chain,
    /// the ALPN and the signature scheme. Returns (a CompressedCertificate
    /// was seen, a message was malformed). Shared by TLS over TCP and QUIC.
    pub(super) fn apply_server_messages(&mut self, messages: &[(u8, Vec<u8>)]) -> (bool, bool) {
        let mut compressed = false;
        let mut bad = false;
        for (ty, body) in messages {
            match *ty {
                HT_ENCRYPTED_EXTENSIONS => match parse_encrypted_extensions(body) {
                    Some((types, alpn)) => {
                        self.encrypted_extensions = types;
                        if let (Some(sh), Some(a)) = (self.server_hello.as_mut(), alpn) {
                            if sh.alpn.is_none() {
                                sh.alpn = Some(a);
                            }
                        }
                    }
                    None => bad = true,
                },
                HT_CERTIFICATE_REQUEST => self.client_cert_requested = true,
                HT_CERTIFICATE if self.server_chain.is_empty() => match parse_certificate13(body) {
                    Some((certs, capped)) => {
                        if capped {
                            self.note(Anomaly::ChainTooLong);
                        }
                        self.server_chain = certs;
                    }
                    None => bad = true,
                },
                HT_CERTIFICATE_VERIFY => self.cert_verify_scheme = be16(body, 0),
                HT_COMPRESSED_CERTIFICATE if self.server_chain.is_empty() => {
                    match decompress_certificate(body)
                        .as_deref()
                        .and_then(parse_certificate13)
                    {
                        Some((certs, _)) => self.server_chain = certs,
                        None => compressed = true,
                    }
                }
                _ => {}
            }
        }
        (compressed, bad)
    }

    /// Takes the client's decrypted handshake messages (mutual TLS:
    /// Certificate and CertificateVerify).
    pub(super) fn apply_client_messages(&mut self, messages: &[(u8, Vec<u8>)]) {
        for (ty, body) in messages {
            match *ty {
                HT_CERTIFICATE if self.client_chain.is_empty() => match parse_certificate13(body) {
                    Some((certs, _)) => self.client_chain = certs,
                    None => self.note(Anomaly::DecryptedUnparsable),
                },
                HT_COMPRESSED_CERTIFICATE if self.client_chain.is_empty() => {
                    if let Some((certs, _)) = decompress_certificate(body)
                        .as_deref()
                        .and_then(parse_certificate13)
                    {
                        self.client_chain = certs;
                    }
                }
                HT_CERTIFICATE_VERIFY => self.client_cert_verify_scheme = be16(body, 0),
                _ => {}
            }
        }
    }

    fn decrypt_client(&mut self, suite: Suite, secret: &[u8], flight: &[u8]) {
        let client = open_side(suite, secret, flight);
        if client.wrong_key {
            self.note(Anomaly::KeylogWrongClientKey);
            return;
        }
        self.apply_client_messages(&client.messages);
        if let Some((level, description)) = client.alert {
            let side: Side = self.client_side;
            if let Some(a) = self
                .alerts
                .iter_mut()
                .find(|a| a.side == side && a.encrypted && a.level.is_none())
            {
                a.level = Some(level);
                a.description = Some(description);
            }
        }
    }
}

#[cfg(test)]
#[path = "decrypt_tests.rs"]
mod tests;
