//! Readable names for TLS protocol versions and cipher suites.
//!
//! In: raw `u16` codes. Out: display strings. Cipher names come from
//! tls-parser's table, generated from the IANA "TLS Cipher Suites" registry
//! (about 350 suites); unknown codes print as `0x1234`.

/// Name of a TLS/SSL/DTLS protocol version: "TLS 1.2", "TLS 1.3 draft 23",
/// "SSL 3.0"; unknown values as "0x7f17"-style hex.
pub fn version_name(v: u16) -> String {
    match v {
        0x0002 | 0x0200 => "SSL 2.0".to_string(),
        0x0300 => "SSL 3.0".to_string(),
        0x0301 => "TLS 1.0".to_string(),
        0x0302 => "TLS 1.1".to_string(),
        0x0303 => "TLS 1.2".to_string(),
        0x0304 => "TLS 1.3".to_string(),
        0xfeff => "DTLS 1.0".to_string(),
        0xfefd => "DTLS 1.2".to_string(),
        0xfefc => "DTLS 1.3".to_string(),
        // RFC 8446 drafts were numbered 0x7f00 + draft (draft 28 was the last).
        0x7f01..=0x7f1c => format!("TLS 1.3 draft {}", v & 0xff),
        // Facebook's experimental TLS 1.3 variants (fizz), 0xfb00 + draft.
        0xfb00..=0xfb1c => format!("TLS 1.3 draft {} (fb)", v & 0xff),
        _ => format!("0x{v:04x}"),
    }
}

/// IANA name of a cipher suite (`TLS_AES_128_GCM_SHA256`,
/// `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`, ...); unknown codes as "0x1234".
pub fn cipher_name(c: u16) -> String {
    match c {
        // Signalling values and GREASE are not in the suite table.
        0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV".to_string(),
        0x5600 => "TLS_FALLBACK_SCSV".to_string(),
        _ => match tls_parser::TlsCipherSuite::from_id(c) {
            Some(s) => s.name.to_string(),
            None => format!("0x{c:04x}"),
        },
    }
}
