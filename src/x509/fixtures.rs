//! Test fixtures: PEM files under `testdata/x509/` (origins in its README),
//! compiled in, and a PEM-to-DER helper.

/// Corpus root: CN=Example Public Root CA R1.
pub(crate) const TRUST_ANCHORS: &str = include_str!("../../testdata/x509/pki/trust-anchors.pem");

/// Corpus intermediate: CN=Example TLS Issuing CA R3 (pathlen 0).
pub(crate) const ISSUING_CA: &str = include_str!("../../testdata/x509/pki/issuing-ca.pem");

/// mitmproxy's generated CA.
pub(crate) const MITMPROXY_CA: &str =
    include_str!("../../testdata/x509/pki/interceptors/mitmproxy-ca.pem");

/// SSLsplit's CA.
pub(crate) const SSLSPLIT_CA: &str =
    include_str!("../../testdata/x509/pki/interceptors/sslsplit-ca.pem");

/// Contoso TLS inspection CA.
pub(crate) const CORP_PROXY_CA: &str =
    include_str!("../../testdata/x509/pki/interceptors/corp-proxy-ca.pem");

/// Corpus leaf `api-shop-ecdsa`.
pub(crate) const API_SHOP_ECDSA: &str =
    include_str!("../../testdata/x509/pki/leaf/api-shop-ecdsa.pem");

/// Corpus leaf `api-shop-rsa`.
pub(crate) const API_SHOP_RSA: &str = include_str!("../../testdata/x509/pki/leaf/api-shop-rsa.pem");

/// Corpus leaf `legacy-expired`.
pub(crate) const LEGACY_EXPIRED: &str =
    include_str!("../../testdata/x509/pki/leaf/legacy-expired.pem");

/// Corpus leaf `localhost-self`.
pub(crate) const LOCALHOST_SELF: &str =
    include_str!("../../testdata/x509/pki/leaf/localhost-self.pem");

/// Corpus leaf `mail-corp`.
pub(crate) const MAIL_CORP: &str = include_str!("../../testdata/x509/pki/leaf/mail-corp.pem");

/// Corpus leaf `media-wildcard`.
pub(crate) const MEDIA_WILDCARD: &str =
    include_str!("../../testdata/x509/pki/leaf/media-wildcard.pem");

/// Corpus leaf `printer-self`.
pub(crate) const PRINTER_SELF: &str = include_str!("../../testdata/x509/pki/leaf/printer-self.pem");

/// Corpus leaf `status-old`.
pub(crate) const STATUS_OLD: &str = include_str!("../../testdata/x509/pki/leaf/status-old.pem");

/// Corpus leaf `status-renewed`.
pub(crate) const STATUS_RENEWED: &str =
    include_str!("../../testdata/x509/pki/leaf/status-renewed.pem");

/// Corpus leaf `www-bank`.
pub(crate) const WWW_BANK: &str = include_str!("../../testdata/x509/pki/leaf/www-bank.pem");

/// Corpus leaf `www-shop-lb-a`.
pub(crate) const WWW_SHOP_LB_A: &str =
    include_str!("../../testdata/x509/pki/leaf/www-shop-lb-a.pem");

/// Corpus leaf `www-shop-lb-b`.
pub(crate) const WWW_SHOP_LB_B: &str =
    include_str!("../../testdata/x509/pki/leaf/www-shop-lb-b.pem");

/// Chain sent in s01 flow 0 (leaf, issuing CA) at 1795871663.957046.
pub(crate) const S01_WWW_BANK_CHAIN: &str =
    include_str!("../../testdata/x509/corpus/s01-www-bank-chain.pem");

/// Chain sent in s01 flow 18 (expired leaf, issuing CA) at 1795871676.449117.
pub(crate) const S01_LEGACY_EXPIRED_CHAIN: &str =
    include_str!("../../testdata/x509/corpus/s01-legacy-expired-chain.pem");

/// mitmproxy's forged leaf alone, s02 flow 4, at 1795871693.064718.
pub(crate) const S02_MITMPROXY_LEAF: &str =
    include_str!("../../testdata/x509/corpus/s02-mitmproxy-forged-leaf.pem");

/// SSLsplit forged leaf and its CA, s03 flow 0, at 1795871705.875852.
pub(crate) const S03_SSLSPLIT_CHAIN: &str =
    include_str!("../../testdata/x509/corpus/s03-sslsplit-forged-chain.pem");

/// zeek Traces/tls/ecdsa-cert.pcap: pantz.org, COMODO ECC chain, at 1416942644.
pub(crate) const ZEEK_ECDSA_CERT: &str =
    include_str!("../../testdata/x509/public/zeek-ecdsa-cert.pem");

/// zeek Traces/tls/chrome-34-google.pcap: *.google.de, SHA-1 chain to Equifax, at 1398362902.
pub(crate) const ZEEK_CHROME34_GOOGLE: &str =
    include_str!("../../testdata/x509/public/zeek-chrome-34-google.pem");

/// zeek Traces/tls/missing-intermediate.pcap flow 0: leaf only (www.cviis.org), at 1417039703.
pub(crate) const ZEEK_MISSING_INTERMEDIATE_LEAF: &str =
    include_str!("../../testdata/x509/public/zeek-missing-intermediate-flow0.pem");

/// zeek Traces/tls/missing-intermediate.pcap flow 1: full Starfield G2 chain, at 1417039705.
pub(crate) const ZEEK_STARFIELD_CHAIN: &str =
    include_str!("../../testdata/x509/public/zeek-missing-intermediate-flow1.pem");

/// zeek Traces/tls/ml-dsa-44-cert.pcap: ML-DSA-44 self-signed certificate.
pub(crate) const ZEEK_ML_DSA: &str =
    include_str!("../../testdata/x509/public/zeek-ml-dsa-44-cert.pem");
/// Synthetic RSA-2048 root (README recipe).
pub(crate) const WEAK_ROOT: &str = include_str!("../../testdata/x509/synthetic/weak-root.pem");
/// Leaf with an RSA-1024 key, SHA-256, signed by `WEAK_ROOT`.
pub(crate) const WEAK_RSA1024_LEAF: &str =
    include_str!("../../testdata/x509/synthetic/weak-rsa1024-leaf.pem");
/// Leaf signed with SHA-1 by `WEAK_ROOT`, valid 2026-11-29..2036-11-26.
pub(crate) const WEAK_SHA1_LEAF: &str =
    include_str!("../../testdata/x509/synthetic/weak-sha1-leaf.pem");
/// Self-signed, RSASSA-PSS with the default (SHA-1) parameters (README recipe).
pub(crate) const WEAK_PSS_SHA1_SELF: &str =
    include_str!("../../testdata/x509/synthetic/weak-pss-sha1-self.pem");
/// Self-signed, RSASSA-PSS over SHA-256 with MGF1-SHA-256 (README recipe).
pub(crate) const PSS_SHA256_SELF: &str =
    include_str!("../../testdata/x509/synthetic/pss-sha256-self.pem");
/// `TRUST_ANCHORS` as OpenSSL's TRUSTED CERTIFICATE (README recipe).
pub(crate) const TRUSTED_FORM_ROOT: &str =
    include_str!("../../testdata/x509/synthetic/trusted-form-root.pem");

/// Every PEM fixture.
pub(crate) const ALL: &[&str] = &[
    TRUST_ANCHORS,
    WEAK_PSS_SHA1_SELF,
    PSS_SHA256_SELF,
    ISSUING_CA,
    MITMPROXY_CA,
    SSLSPLIT_CA,
    CORP_PROXY_CA,
    API_SHOP_ECDSA,
    API_SHOP_RSA,
    LEGACY_EXPIRED,
    LOCALHOST_SELF,
    MAIL_CORP,
    MEDIA_WILDCARD,
    PRINTER_SELF,
    STATUS_OLD,
    STATUS_RENEWED,
    WWW_BANK,
    WWW_SHOP_LB_A,
    WWW_SHOP_LB_B,
    S01_WWW_BANK_CHAIN,
    S01_LEGACY_EXPIRED_CHAIN,
    S02_MITMPROXY_LEAF,
    S03_SSLSPLIT_CHAIN,
    ZEEK_ECDSA_CERT,
    ZEEK_CHROME34_GOOGLE,
    ZEEK_MISSING_INTERMEDIATE_LEAF,
    ZEEK_STARFIELD_CHAIN,
    ZEEK_ML_DSA,
    WEAK_ROOT,
    WEAK_RSA1024_LEAF,
    WEAK_SHA1_LEAF,
];

/// Every corpus leaf with the SHA-256 that `pki/index.json` gives it.
pub(crate) const GENUINE: &[(&str, &str)] = &[
    (
        API_SHOP_ECDSA,
        "a2a94d1c85acd12ecb89fc36f8f58986d3c2aa09ee3490b25bfd463606df58fa",
    ),
    (
        API_SHOP_RSA,
        "95cc4279fb9fb237b5042b345b3c4b19e07dca1e6f86123b5750a7dbd40cf07a",
    ),
    (
        LEGACY_EXPIRED,
        "da4dc6ce6584fb882a5bf938fed625cc2351cf2bdc8c2633711e2b16870d0af3",
    ),
    (
        LOCALHOST_SELF,
        "1c63945ea7c124f5086930017d23132e804fa4af6fdc99fd684e95c2340d20cf",
    ),
    (
        MAIL_CORP,
        "302a67303defef75853edd06241f65d059c1ec6a38a7551f2674e0bde54f0c54",
    ),
    (
        MEDIA_WILDCARD,
        "9c82fee2fe78b57f193e722aedff3e0a838f35254a328fd9ad11834996ee7386",
    ),
    (
        PRINTER_SELF,
        "74320c8bad928131c76f208bacd2f80295b37be66f4fddb3cfde51c5ad829469",
    ),
    (
        STATUS_OLD,
        "d6b014336bfc4e59493a048e48c096f332ce0fdd0aecd8eb3f446a26a844bdea",
    ),
    (
        STATUS_RENEWED,
        "ed20b6e5490500ff5a0c3e3f4d5a956881cd2d05526612c4f842e5d523956f8c",
    ),
    (
        WWW_BANK,
        "19e6e2edc7ba7e6db4d2f4730b44b88618a971545e87a4fb0ca20e38a930279a",
    ),
    (
        WWW_SHOP_LB_A,
        "52c37ebd9bbf91c8bba4af4808f67f16fb2bbf97fb330d482345988473c36fac",
    ),
    (
        WWW_SHOP_LB_B,
        "eb6504e22ef4dc1f25a4c404d9e6cb3ff0ca376dfae636c81ad7c6dd4a65bb9a",
    ),
];

/// History-test root (2010..2040), `scripts/make_history_fixtures.py`.
pub(crate) const HISTORY_ROOT: &str =
    include_str!("../../testdata/x509/synthetic/history-root.pem");

/// History-test SHA-1 signed leaf, from 2010-06-01.
pub(crate) const HISTORY_SHA1_LEAF: &str =
    include_str!("../../testdata/x509/synthetic/history-sha1-leaf.pem");

/// History-test leaf with a 1024-bit RSA key, from 2010-06-01.
pub(crate) const HISTORY_RSA1024_LEAF: &str =
    include_str!("../../testdata/x509/synthetic/history-rsa1024-leaf.pem");

/// History-test leaf SHA-1 signed by a 1024-bit intermediate, and that intermediate.
pub(crate) const HISTORY_RSA1024_CA_CHAIN: &str =
    include_str!("../../testdata/x509/synthetic/history-rsa1024-ca-chain.pem");

/// History-test leaf from 2016-11-01 (after a 2016-10-21 distrust-after day).
pub(crate) const HISTORY_LATE_LEAF: &str =
    include_str!("../../testdata/x509/synthetic/history-late-leaf.pem");

/// The DER certificates of a PEM text, in order.
pub(crate) fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes())
        .map(|p| p.unwrap().contents)
        .collect()
}

/// Seconds to µs.
pub(crate) fn us(seconds: i64) -> i64 {
    seconds * 1_000_000
}
