//! TLS fingerprints: JA3 and JA3S (salesforce/ja3 README), JA4 (FoxIO
//! "JA4 technical details", BSD-3-Clause part of JA4+).
//!
//! In: a parsed [`ClientHello`] or [`ServerHello`]. Out: the full string
//! and its hash. Leaves out: JA4S/JA4X and the other JA4+ methods (FoxIO
//! License 1.1, not BSD).

use super::{ClientHello, ServerHello};
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// True for the RFC 8701 GREASE values 0x0a0a, 0x1a1a ... 0xfafa.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Decimal values joined by '-', written into one string (a `to_string` per
/// value and a `join` made JA3 a visible share of a scan's allocations).
fn dash_join<T: Into<u64> + Copy>(v: impl Iterator<Item = T>) -> String {
    let mut out = String::new();
    for (i, x) in v.enumerate() {
        if i > 0 {
            out.push('-');
        }
        push_decimal(&mut out, x.into());
    }
    out
}

fn push_decimal(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        if let Some(d) = digits.get_mut(n) {
            *d = b'0' + (v % 10) as u8;
        }
        n += 1;
        v /= 10;
        if v == 0 || n == digits.len() {
            break;
        }
    }
    for d in digits.iter().take(n).rev() {
        out.push(char::from(*d));
    }
}

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// JA3 of a ClientHello: returns (full string, MD5 hex).
/// `SSLVersion,Ciphers,Extensions,EllipticCurves,EcPointFormats`, decimal,
/// `-` joined, GREASE removed (as the reference and tshark do). For an SSLv2
/// hello (which the python reference skips) the TLS-mappable cipher specs
/// are used and the extension fields stay empty.
pub fn ja3(ch: &ClientHello) -> (String, String) {
    let full = format!(
        "{},{},{},{},{}",
        ch.legacy_version,
        dash_join(ch.ciphers.iter().copied().filter(|c| !is_grease(*c))),
        dash_join(ch.extensions.iter().copied().filter(|c| !is_grease(*c))),
        dash_join(ch.groups.iter().copied().filter(|c| !is_grease(*c))),
        dash_join(ch.ec_point_formats.iter().copied()),
    );
    let h = md5_hex(&full);
    (full, h)
}

/// JA3S of a ServerHello: `SSLVersion,Cipher,Extensions` and its MD5 hex.
pub fn ja3s(sh: &ServerHello) -> (String, String) {
    let full = format!(
        "{},{},{}",
        sh.legacy_version,
        sh.cipher,
        dash_join(sh.extensions.iter().copied().filter(|c| !is_grease(*c))),
    );
    let h = md5_hex(&full);
    (full, h)
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 | 0x0200 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4 ALPN chars: first and last character of the first ALPN value, "00"
/// without one. A non-ASCII character (the value is decoded as lossy UTF-8)
/// becomes '9', as FoxIO's reference implementations do and their published
/// vector `tls-non-ascii-alpn.pcapng` (`t13d151699_...`) requires. Otherwise,
/// when either is not ASCII alphanumeric, the spec's rule applies: first and
/// last characters of the value's hex form. A one-character value repeats it.
fn ja4_alpn(alpn: Option<&String>) -> String {
    let Some(a) = alpn else {
        return "00".to_string();
    };
    let (Some(f), Some(l)) = (a.chars().next(), a.chars().next_back()) else {
        return "00".to_string();
    };
    if !f.is_ascii() || !l.is_ascii() {
        let nine = |c: char| if c.is_ascii() { c } else { '9' };
        return format!("{}{}", nine(f), nine(l));
    }
    if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
        return format!("{f}{l}");
    }
    let h = hex::encode(a.as_bytes());
    let mut c = h.chars();
    match (c.next(), c.next_back()) {
        (Some(x), Some(y)) => format!("{x}{y}"),
        _ => "00".to_string(),
    }
}

/// Four-digit lowercase hex values joined by ','.
fn hex4_join(v: &[u16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(v.len() * 5);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for shift in [12, 8, 4, 0] {
            let nibble = usize::from((x >> shift) & 0xf);
            out.push(char::from(HEX.get(nibble).copied().unwrap_or(b'0')));
        }
    }
    out
}

/// The first 12 hex digits of the SHA-256 of `s`; zeros for an empty `s`.
fn sha12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    let h = Sha256::digest(s.as_bytes());
    hex::encode(h.get(..6).unwrap_or_default())
}

/// JA4 of a ClientHello: returns (ja4, ja4_r), per FoxIO's JA4 spec.
/// `quic` selects the `q` transport prefix instead of `t`.
pub fn ja4(ch: &ClientHello, quic: bool) -> (String, String) {
    ja4_with_prefix(ch, if quic { 'q' } else { 't' })
}

/// The highest version a ClientHello offers: the largest non-GREASE
/// supported_versions value, else legacy_version. DTLS numbers its versions
/// downwards (1.0 0xfeff, 1.2 0xfefd, 1.3 0xfefc, RFC 9147 §5.3), so when
/// every offered value is a DTLS one the smallest is the highest. (Arkime
/// takes the numeric maximum and prints `d2` for a DTLS 1.3 client; the
/// spec says "the highest version", which for DTLS is the smallest number.)
fn offered_version(ch: &ClientHello) -> u16 {
    let offered = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v));
    let is_dtls = |v: u16| v >> 8 == 0xfe;
    if ch.supported_versions.iter().any(|v| is_dtls(*v)) && offered.clone().all(is_dtls) {
        return offered.min().unwrap_or(ch.legacy_version);
    }
    offered.max().unwrap_or(ch.legacy_version)
}

/// JA4 with an explicit transport character: `t` TLS over TCP, `q` QUIC,
/// `d` DTLS (FoxIO's JA4 spec, "QUIC=q, DTLS=d, or Normal TLS=t").
pub fn ja4_with_prefix(ch: &ClientHello, proto: char) -> (String, String) {
    let version = offered_version(ch);
    let sni = if ch.has_sni_ext { 'd' } else { 'i' };
    let mut ciphers: Vec<u16> = ch
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let exts: Vec<u16> = ch
        .extensions
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let a = format!(
        "{proto}{}{sni}{:02}{:02}{}",
        ja4_version(version),
        ciphers.len().min(99),
        exts.len().min(99),
        ja4_alpn(ch.alpn.first()),
    );
    ciphers.sort_unstable();
    let mut hashed_exts: Vec<u16> = exts
        .into_iter()
        .filter(|e| *e != super::hello::EXT_SNI && *e != super::hello::EXT_ALPN)
        .collect();
    hashed_exts.sort_unstable();
    let sigs: Vec<u16> = ch
        .sig_algs
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let b_raw = hex4_join(&ciphers);
    let mut c_raw = hex4_join(&hashed_exts);
    if !sigs.is_empty() {
        c_raw.push('_');
        c_raw.push_str(&hex4_join(&sigs));
    }
    let ja4 = format!("{a}_{}_{}", sha12(&b_raw), sha12(&c_raw));
    let ja4_r = format!("{a}_{b_raw}_{c_raw}");
    (ja4, ja4_r)
}
