//! Server name against certificate identity (RFC 6125 §6.4, RFC 9525).
//!
//! Input: a [`CertInfo`] and the name a client asked for (SNI, Host, CONNECT
//! target). Output: whether the certificate covers it. DNS names match SAN
//! dNSName entries, or the subject CN only when the certificate has no
//! dNSName at all. Comparison is ASCII case-insensitive, one trailing dot is
//! ignored, and non-ASCII names are turned into A-labels (RFC 3492 Punycode
//! after lowercasing). A wildcard is only the whole left-most label, matches
//! exactly one non-empty label, and is refused on two-label patterns
//! (`*.com`). IP literals (also `[v6]`) match SAN iPAddress entries only.
//!
//! Left out: the full UTS #46 mapping (only lowercasing is applied before
//! Punycode) and the public suffix list (`*.co.uk` is accepted).

use std::net::IpAddr;

use super::cert::CertInfo;

/// Whether `cert` is valid for the server name `name` (RFC 6125 §6.4).
pub fn name_matches(cert: &CertInfo, name: &str) -> bool {
    let trimmed = name.trim();
    let literal = trimmed
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(trimmed);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return cert
            .san_ip
            .iter()
            .any(|s| s.parse::<IpAddr>().ok() == Some(ip));
    }
    let Some(host) = to_ascii_host(trimmed) else {
        return false;
    };
    if cert.san_dns.is_empty() {
        return cert
            .subject_cn
            .as_deref()
            .is_some_and(|cn| pattern_matches(cn, &host));
    }
    cert.san_dns.iter().any(|p| pattern_matches(p, &host))
}

/// Lowercase ASCII form of a host name with one trailing dot removed, or
/// `None` when it is not a plausible DNS name.
fn to_ascii_host(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 1024 {
        return None;
    }
    let mut labels = Vec::new();
    // IDNA label separators (RFC 3490 §3.1).
    for label in name.split(['.', '\u{3002}', '\u{ff0e}', '\u{ff61}']) {
        if label.is_empty() {
            return None;
        }
        if label.is_ascii() {
            labels.push(label.to_ascii_lowercase());
        } else {
            let lower: String = label.to_lowercase();
            labels.push(format!("xn--{}", punycode_encode(&lower)?));
        }
    }
    let host = labels.join(".");
    let valid = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    (valid && host.len() <= 253).then_some(host)
}

/// Matches a presented identifier (SAN dNSName or CN) against a normalised host.
fn pattern_matches(pattern: &str, host: &str) -> bool {
    if !pattern.is_ascii() {
        return false;
    }
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let pattern = pattern.to_ascii_lowercase();
    if pattern.is_empty() || pattern.split('.').any(str::is_empty) {
        return false;
    }
    match pattern.strip_prefix("*.") {
        None => !pattern.contains('*') && pattern == host,
        Some(suffix) => {
            if suffix.contains('*') || !suffix.contains('.') {
                return false;
            }
            match host.split_once('.') {
                Some((first, rest)) => !first.is_empty() && rest == suffix,
                None => false,
            }
        }
    }
}

/// Punycode (RFC 3492 §6.3) of one lowercased label, without the `xn--` prefix.
fn punycode_encode(input: &str) -> Option<String> {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    const INITIAL_BIAS: u32 = 72;
    const INITIAL_N: u32 = 128;

    fn adapt(delta: u32, num_points: u32, first: bool) -> u32 {
        let mut delta = if first { delta / DAMP } else { delta / 2 };
        delta += delta / num_points.max(1);
        let mut k = 0;
        while delta > ((BASE - T_MIN) * T_MAX) / 2 {
            delta /= BASE - T_MIN;
            k += BASE;
        }
        k + (((BASE - T_MIN + 1) * delta) / (delta + SKEW))
    }
    fn digit(d: u32) -> Option<char> {
        match d {
            0..=25 => char::from_u32(u32::from(b'a') + d),
            26..=35 => char::from_u32(u32::from(b'0') + d - 26),
            _ => None,
        }
    }

    let code_points: Vec<u32> = input.chars().map(u32::from).collect();
    let mut output: String = input.chars().filter(char::is_ascii).collect();
    let basic = u32::try_from(output.len()).ok()?;
    let total = u32::try_from(code_points.len()).ok()?;
    if basic > 0 {
        output.push('-');
    }
    let mut n = INITIAL_N;
    let mut delta: u32 = 0;
    let mut bias = INITIAL_BIAS;
    let mut handled = basic;
    while handled < total {
        let m = code_points.iter().copied().filter(|&c| c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(handled + 1)?)?;
        n = m;
        for &c in &code_points {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    output.push(digit(t + (q - t) % (BASE - t))?);
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                output.push(digit(q)?);
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta = delta.checked_add(1)?;
        n = n.checked_add(1)?;
    }
    Some(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::fixtures::{self, pem_certs};

    fn cert(san_dns: &[&str], san_ip: &[&str], cn: Option<&str>) -> CertInfo {
        CertInfo {
            san_dns: san_dns.iter().map(|s| (*s).to_owned()).collect(),
            san_ip: san_ip.iter().map(|s| (*s).to_owned()).collect(),
            subject_cn: cn.map(str::to_owned),
            ..CertInfo::default()
        }
    }

    #[test]
    fn wildcards() {
        let c = cert(&["*.example.com"], &[], None);
        assert!(name_matches(&c, "www.example.com"));
        assert!(name_matches(&c, "WWW.Example.COM"));
        assert!(name_matches(&c, "www.example.com."));
        assert!(name_matches(&c, "xn--bcher-kva.example.com"));
        assert!(!name_matches(&c, "example.com"));
        assert!(!name_matches(&c, "a.b.example.com"));
        assert!(!name_matches(&c, ".example.com"));
        assert!(!name_matches(&c, "wwwexample.com"));
        for bad in [
            "*.com",
            "*",
            "w*.example.com",
            "*w.example.com",
            "www.*.com",
            "*.*.com",
            "**.example.com",
            "xn--*.example.com",
        ] {
            let c = cert(&[bad], &[], None);
            assert!(!name_matches(&c, "www.example.com"), "{bad}");
            assert!(!name_matches(&c, "a.com"), "{bad}");
            assert!(!name_matches(&c, "www.www.example.com"), "{bad}");
        }
        // No public suffix list: three-label wildcards are accepted.
        assert!(name_matches(&cert(&["*.co.uk"], &[], None), "shop.co.uk"));
    }

    #[test]
    fn exact_case_trailing_dot_and_idna() {
        let c = cert(&["Mail.Corp.Test.", "xn--bcher-kva.example"], &[], None);
        assert!(name_matches(&c, "mail.corp.test"));
        assert!(name_matches(&c, "MAIL.CORP.TEST."));
        assert!(!name_matches(&c, "mail.corp.test.."));
        assert!(!name_matches(&c, "mail..corp.test"));
        assert!(!name_matches(&c, ""));
        assert!(name_matches(&c, "XN--BCHER-KVA.example"));
        assert!(name_matches(&c, "bücher.example"));
        assert!(name_matches(&c, "BÜCHER.example"));
        assert!(name_matches(&c, "bücher\u{3002}example"));
        assert!(!name_matches(&c, "bucher.example"));
        // A U-label in a certificate is malformed (RFC 5280 §7.2): never matches.
        assert!(!name_matches(
            &cert(&["bücher.example"], &[], None),
            "bücher.example"
        ));
    }

    #[test]
    fn punycode_rfc3492_samples() {
        assert_eq!(punycode_encode("bücher").as_deref(), Some("bcher-kva"));
        // RFC 3492 §7.1 (A) Arabic (Egyptian), lowercase.
        let arabic = "\u{644}\u{64a}\u{647}\u{645}\u{627}\u{628}\u{62a}\u{643}\u{644}\u{645}\u{648}\u{634}\u{639}\u{631}\u{628}\u{64a}\u{61f}";
        assert_eq!(
            punycode_encode(arabic).as_deref(),
            Some("egbpdaj6bu4bxfgehfvwxn")
        );
        // (L) 3<nen>B<gumi><kinpachi><sensei>
        let mixed = "3\u{5e74}b\u{7d44}\u{91d1}\u{516b}\u{5148}\u{751f}";
        assert_eq!(
            punycode_encode(mixed).as_deref(),
            Some("3b-ww4c5e180e575a65lsy2b")
        );
        assert_eq!(punycode_encode("münchen").as_deref(), Some("mnchen-3ya"));
    }

    #[test]
    fn common_name_only_without_dns_san() {
        let cn_only = cert(&[], &["192.0.2.1"], Some("Printer.Lan.Test"));
        assert!(name_matches(&cn_only, "printer.lan.test"));
        let both = cert(&["other.test"], &[], Some("printer.lan.test"));
        assert!(!name_matches(&both, "printer.lan.test"));
        assert!(name_matches(&both, "other.test"));
        assert!(!name_matches(&cert(&[], &[], None), "printer.lan.test"));
    }

    #[test]
    fn ip_literals_only_against_ip_sans() {
        let c = cert(
            &["192.0.2.1"],
            &["203.0.113.7", "2001:db8::1"],
            Some("203.0.113.8"),
        );
        assert!(name_matches(&c, "203.0.113.7"));
        assert!(name_matches(&c, "2001:DB8:0:0::1"));
        assert!(name_matches(&c, "[2001:db8::1]"));
        assert!(!name_matches(&c, "192.0.2.1"));
        assert!(!name_matches(&c, "203.0.113.8"));
        assert!(!name_matches(&cert(&["*.0.2.1"], &[], None), "192.0.2.1"));
    }

    #[test]
    fn corpus_certificates() {
        let parse = |pem| crate::x509::CertInfo::parse(&pem_certs(pem)[0]);
        let wildcard = parse(fixtures::MEDIA_WILDCARD);
        assert!(name_matches(&wildcard, "cdn.media.test"));
        assert!(name_matches(&wildcard, "img.media.test"));
        assert!(name_matches(&wildcard, "media.test"));
        assert!(!name_matches(&wildcard, "a.cdn.media.test"));
        let mail = parse(fixtures::MAIL_CORP);
        assert!(name_matches(&mail, "imap.corp.test"));
        assert!(!name_matches(&mail, "smtp.corp.test"));
        let bank = parse(fixtures::WWW_BANK);
        assert!(name_matches(&bank, "example-bank.test"));
        assert!(!name_matches(&bank, "www.example-bank.test.evil"));
    }
}
