//! Server name against certificate identity: `name_matches` with an
//! arbitrary name (SNI, Host, CONNECT target are all client bytes) against
//! arbitrary SAN and CN patterns, reaching the IDNA, Punycode and wildcard
//! code that the x509 target's fixed name never does.
#![no_main]

use certsift::x509::{name_matches, CertInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // NUL-separated: the name first, then one identity per part; a part
    // starting with `I` is a SAN iPAddress, with `C` the subject CN, any
    // other a SAN dNSName.
    let mut parts = data.split(|&b| b == 0);
    let name = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    let mut cert = CertInfo::default();
    for part in parts.take(64) {
        match part.first() {
            Some(b'I') => cert.san_ip.push(text(&part[1..])),
            Some(b'C') => cert.subject_cn = Some(text(&part[1..])),
            _ => cert.san_dns.push(text(part)),
        }
    }
    let verdict = name_matches(&cert, &name);
    // DNS names and IP literals compare without regard to ASCII case.
    if name.is_ascii() {
        assert_eq!(
            verdict,
            name_matches(&cert, &name.to_ascii_uppercase()),
            "{name:?} against {cert:?}"
        );
    }
});
