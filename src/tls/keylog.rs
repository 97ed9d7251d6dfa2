//! NSS key log (`SSLKEYLOGFILE`) parsing: the secrets a browser, curl,
//! OpenSSL (`-keylogfile`) or a pcapng Decryption Secrets Block (whose
//! payload is the same text) hands over, keyed by the ClientHello random.
//!
//! In: key log text, one `LABEL <client_random hex> <secret hex>` per line
//! (NSS "Key Log Format"; Wireshark's `ssl_keylog_parse`). Out: a [`KeyLog`]
//! that answers "which secret of this label belongs to this client random",
//! and [`KeyLogStats`] per text added. Leaves out: the TLS 1.2 `RSA` and
//! `PMS_CLIENT_RANDOM` forms (counted as ignored), and any use of the TLS 1.2
//! master secret (`CLIENT_RANDOM` lines are kept, unused).
//!
//! Bounded: lines longer than [`MAX_KEYLOG_LINE`] are rejected without being
//! decoded, secrets longer than 64 bytes are rejected, and at most
//! [`MAX_KEYLOG_CLIENTS`] client randoms are kept (later ones counted as
//! `capped`). A hostile file costs one pass and no more memory than that.

use std::collections::HashMap;

/// Longest key log line decoded: the longest real line (a label, a 32-byte
/// random and a 64-byte secret in hex) is under 200 bytes.
pub const MAX_KEYLOG_LINE: usize = 1024;
/// Most distinct client randoms kept: about 300 bytes each, so ~300 MiB.
pub const MAX_KEYLOG_CLIENTS: usize = 1 << 20;
/// Longest secret kept (SHA-512-sized; TLS 1.3 uses 32 or 48).
const MAX_SECRET_LEN: usize = 64;

/// A secret's label in the key log (NSS names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretLabel {
    /// `CLIENT_RANDOM`: the TLS ≤ 1.2 master secret (48 bytes).
    MasterSecret,
    /// `CLIENT_EARLY_TRAFFIC_SECRET` (0-RTT data).
    ClientEarlyTraffic,
    /// `EARLY_EXPORTER_SECRET`.
    EarlyExporter,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET` (RFC 8446 §7.1 `c hs traffic`).
    ClientHandshakeTraffic,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET` (RFC 8446 §7.1 `s hs traffic`).
    ServerHandshakeTraffic,
    /// `CLIENT_TRAFFIC_SECRET_0` (`c ap traffic`).
    ClientTraffic0,
    /// `SERVER_TRAFFIC_SECRET_0` (`s ap traffic`).
    ServerTraffic0,
    /// `EXPORTER_SECRET` (`exp master`).
    Exporter,
}

impl SecretLabel {
    /// Every label, in a fixed order.
    pub const ALL: [SecretLabel; 8] = [
        SecretLabel::MasterSecret,
        SecretLabel::ClientEarlyTraffic,
        SecretLabel::EarlyExporter,
        SecretLabel::ClientHandshakeTraffic,
        SecretLabel::ServerHandshakeTraffic,
        SecretLabel::ClientTraffic0,
        SecretLabel::ServerTraffic0,
        SecretLabel::Exporter,
    ];

    /// The label as written in the key log.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretLabel::MasterSecret => "CLIENT_RANDOM",
            SecretLabel::ClientEarlyTraffic => "CLIENT_EARLY_TRAFFIC_SECRET",
            SecretLabel::EarlyExporter => "EARLY_EXPORTER_SECRET",
            SecretLabel::ClientHandshakeTraffic => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            SecretLabel::ServerHandshakeTraffic => "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            SecretLabel::ClientTraffic0 => "CLIENT_TRAFFIC_SECRET_0",
            SecretLabel::ServerTraffic0 => "SERVER_TRAFFIC_SECRET_0",
            SecretLabel::Exporter => "EXPORTER_SECRET",
        }
    }

    fn from_bytes(b: &[u8]) -> Option<SecretLabel> {
        SecretLabel::ALL
            .into_iter()
            .find(|l| l.as_str().as_bytes() == b)
    }

    fn code(self) -> u8 {
        match self {
            SecretLabel::MasterSecret => 0,
            SecretLabel::ClientEarlyTraffic => 1,
            SecretLabel::EarlyExporter => 2,
            SecretLabel::ClientHandshakeTraffic => 3,
            SecretLabel::ServerHandshakeTraffic => 4,
            SecretLabel::ClientTraffic0 => 5,
            SecretLabel::ServerTraffic0 => 6,
            SecretLabel::Exporter => 7,
        }
    }
}

/// What one [`KeyLog::add_text`] call did with its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct KeyLogStats {
    /// Secret lines kept (or already present with the same value).
    pub accepted: u64,
    /// Non-empty lines that are not a well-formed secret line: unknown
    /// label, bad hex, wrong random length, too long, or a second, different
    /// secret for a label and random already known (the first is kept).
    pub rejected: u64,
    /// `#` comment lines.
    pub comments: u64,
    /// Well-formed TLS 1.2 `RSA` / `PMS_CLIENT_RANDOM` lines, not used.
    pub ignored: u64,
    /// Well-formed lines dropped because [`MAX_KEYLOG_CLIENTS`] was reached.
    pub capped: u64,
}

/// Secrets from NSS key logs, keyed by the 32-byte ClientHello random.
/// Its `Debug` shows counts only: secrets never reach a log.
#[derive(Clone, Default)]
pub struct KeyLog {
    /// Per client random: a packed list of `[label code, len, secret...]`.
    entries: HashMap<[u8; 32], Vec<u8>>,
}

impl std::fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLog")
            .field("client_randoms", &self.entries.len())
            .finish_non_exhaustive()
    }
}

fn unhex_into(hex: &[u8], out: &mut [u8]) -> bool {
    if hex.len() != out.len().saturating_mul(2) {
        return false;
    }
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().and_then(|c| nibble(*c)),
            pair.get(1).and_then(|c| nibble(*c)),
        ) else {
            return false;
        };
        *o = (hi << 4) | lo;
    }
    true
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn is_space(c: &u8) -> bool {
    matches!(*c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c | 0)
}

/// Outcome of one line.
enum Line {
    Blank,
    Comment,
    Ignored,
    Secret(SecretLabel, [u8; 32], [u8; MAX_SECRET_LEN], usize),
    Bad,
}

fn parse_line(line: &[u8]) -> Line {
    if line.len() > MAX_KEYLOG_LINE {
        return Line::Bad;
    }
    let mut fields = line.split(is_space).filter(|f| !f.is_empty());
    let Some(label) = fields.next() else {
        return Line::Blank;
    };
    if label.first() == Some(&b'#') {
        return Line::Comment;
    }
    let (Some(random_hex), Some(secret_hex), None) = (fields.next(), fields.next(), fields.next())
    else {
        return Line::Bad;
    };
    let all_hex = |h: &[u8]| !h.is_empty() && h.iter().all(|c| nibble(*c).is_some());
    if label == b"RSA" || label == b"PMS_CLIENT_RANDOM" {
        return if all_hex(random_hex) && all_hex(secret_hex) {
            Line::Ignored
        } else {
            Line::Bad
        };
    }
    let Some(label) = SecretLabel::from_bytes(label) else {
        return Line::Bad;
    };
    let mut random = [0u8; 32];
    if !unhex_into(random_hex, &mut random) {
        return Line::Bad;
    }
    let len = secret_hex.len() / 2;
    if len == 0 || len > MAX_SECRET_LEN || secret_hex.len() % 2 != 0 {
        return Line::Bad;
    }
    let mut secret = [0u8; MAX_SECRET_LEN];
    let Some(dst) = secret.get_mut(..len) else {
        return Line::Bad;
    };
    if !unhex_into(secret_hex, dst) {
        return Line::Bad;
    }
    Line::Secret(label, random, secret, len)
}

/// Walks a packed secret list: `(label code, secret)`.
fn packed(v: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut rest = v;
    std::iter::from_fn(move || {
        let (&code, tail) = rest.split_first()?;
        let (&len, tail) = tail.split_first()?;
        let len = usize::from(len);
        let secret = tail.get(..len)?;
        rest = tail.get(len..).unwrap_or(&[]);
        Some((code, secret))
    })
}

impl KeyLog {
    /// An empty key log.
    pub fn new() -> KeyLog {
        KeyLog::default()
    }

    /// Adds the lines of an NSS key log text (a file's contents or a pcapng
    /// Decryption Secrets Block payload). LF or CRLF line ends; `#` comments,
    /// blank lines and NUL padding are skipped.
    pub fn add_text(&mut self, text: &[u8]) -> KeyLogStats {
        let mut stats = KeyLogStats::default();
        for line in text.split(|c| *c == b'\n') {
            match parse_line(line) {
                Line::Blank => {}
                Line::Comment => stats.comments = stats.comments.saturating_add(1),
                Line::Ignored => stats.ignored = stats.ignored.saturating_add(1),
                Line::Bad => stats.rejected = stats.rejected.saturating_add(1),
                Line::Secret(label, random, secret, len) => {
                    let secret = secret.get(..len).unwrap_or(&[]);
                    self.insert(label, random, secret, &mut stats);
                }
            }
        }
        stats
    }

    fn insert(
        &mut self,
        label: SecretLabel,
        random: [u8; 32],
        secret: &[u8],
        stats: &mut KeyLogStats,
    ) {
        let Ok(len) = u8::try_from(secret.len()) else {
            stats.rejected = stats.rejected.saturating_add(1);
            return;
        };
        let full = self.entries.len() >= MAX_KEYLOG_CLIENTS;
        let entry = match self.entries.get_mut(&random) {
            Some(e) => e,
            None if full => {
                stats.capped = stats.capped.saturating_add(1);
                return;
            }
            None => self.entries.entry(random).or_default(),
        };
        let existing = packed(entry)
            .find(|(c, _)| *c == label.code())
            .map(|(_, old)| old == secret);
        match existing {
            Some(true) => stats.accepted = stats.accepted.saturating_add(1),
            Some(false) => stats.rejected = stats.rejected.saturating_add(1),
            None => {
                entry.push(label.code());
                entry.push(len);
                entry.extend_from_slice(secret);
                stats.accepted = stats.accepted.saturating_add(1);
            }
        }
    }

    /// The secret logged under `label` for the connection whose ClientHello
    /// carried `client_random`.
    pub fn secret(&self, client_random: &[u8; 32], label: SecretLabel) -> Option<&[u8]> {
        let entry = self.entries.get(client_random)?;
        packed(entry)
            .find(|(c, _)| *c == label.code())
            .map(|(_, s)| s)
    }

    /// Number of distinct client randoms with at least one secret.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no secret was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "5127ff5fac25b7da68164468d310d09af4820caf217feb4cdec0154195a8fa92";

    fn random() -> [u8; 32] {
        let mut r = [0u8; 32];
        assert!(unhex_into(R.as_bytes(), &mut r));
        r
    }

    #[test]
    fn parses_labels_comments_and_junk() {
        let s48 = "ab".repeat(48);
        let text = format!(
            "# comment\r\n\nSERVER_HANDSHAKE_TRAFFIC_SECRET {R} {s48}\r\n\
             CLIENT_HANDSHAKE_TRAFFIC_SECRET {R} {}\n\
             CLIENT_RANDOM {R} {}\n\
             EXPORTER_SECRET {R} zz\n\
             BOGUS_LABEL {R} {s48}\n\
             SERVER_TRAFFIC_SECRET_0 {} {s48}\n\
             RSA 0011223344556677 {}\n\
             just junk\n\0\0\0",
            "cd".repeat(48),
            "ef".repeat(48),
            "00".repeat(31),
            "99".repeat(48),
        );
        let mut k = KeyLog::new();
        let st = k.add_text(text.as_bytes());
        assert_eq!(st.accepted, 3);
        assert_eq!(st.comments, 1);
        assert_eq!(st.ignored, 1);
        assert_eq!(st.rejected, 4);
        assert_eq!(k.len(), 1);
        assert!(!k.is_empty());
        let r = random();
        assert_eq!(
            k.secret(&r, SecretLabel::ServerHandshakeTraffic),
            Some(&[0xab; 48][..])
        );
        assert_eq!(
            k.secret(&r, SecretLabel::ClientHandshakeTraffic),
            Some(&[0xcd; 48][..])
        );
        assert_eq!(
            k.secret(&r, SecretLabel::MasterSecret),
            Some(&[0xef; 48][..])
        );
        assert_eq!(k.secret(&r, SecretLabel::Exporter), None);
        assert_eq!(k.secret(&[0; 32], SecretLabel::Exporter), None);
        assert!(!format!("{k:?}").contains("abab"));
    }

    #[test]
    fn duplicates_and_conflicts() {
        let a = format!("SERVER_HANDSHAKE_TRAFFIC_SECRET {R} {}\n", "11".repeat(32));
        let b = format!("SERVER_HANDSHAKE_TRAFFIC_SECRET {R} {}\n", "22".repeat(32));
        let mut k = KeyLog::new();
        assert_eq!(k.add_text(a.as_bytes()).accepted, 1);
        assert_eq!(k.add_text(a.as_bytes()).accepted, 1);
        assert_eq!(k.add_text(b.as_bytes()).rejected, 1);
        assert_eq!(
            k.secret(&random(), SecretLabel::ServerHandshakeTraffic),
            Some(&[0x11; 32][..])
        );
    }

    #[test]
    fn long_lines_and_odd_bytes() {
        let mut k = KeyLog::new();
        let long = vec![b'A'; 10 * MAX_KEYLOG_LINE];
        assert_eq!(k.add_text(&long).rejected, 1);
        let odd = format!("EXPORTER_SECRET {R} {}\n", "1".repeat(33));
        assert_eq!(k.add_text(odd.as_bytes()).rejected, 1);
        let big = format!("EXPORTER_SECRET {R} {}\n", "11".repeat(65));
        assert_eq!(k.add_text(big.as_bytes()).rejected, 1);
        let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let _ = k.add_text(&bytes);
        assert!(k.is_empty());
    }
}
