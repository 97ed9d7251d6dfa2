//! Certificates: `CertInfo::parse` on arbitrary DER, and chain validation of
//! the input split into several DER blobs, against the Mozilla roots.
#![no_main]

use certsift::x509::{CertInfo, TrustStore};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    std::hint::black_box(CertInfo::parse(data));
    let trust = TrustStore::mozilla();
    // Chain: blobs separated by the marker b"\xff\x00CHAIN"; the first is the leaf.
    let chain: Vec<&[u8]> = split(data, b"\xff\x00CHAIN");
    for der in &chain {
        std::hint::black_box(CertInfo::parse(der));
    }
    std::hint::black_box(trust.verify(&chain, 1_700_000_000_000_000));
    std::hint::black_box(trust.verify_for_name(&chain, 1_700_000_000_000_000, "example.com"));
    std::hint::black_box(trust.is_anchor(data));
});

fn split<'a>(mut data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = data.windows(sep.len()).position(|w| w == sep) {
        out.push(&data[..i]);
        data = &data[i + sep.len()..];
    }
    out.push(data);
    out
}
