//! Benign behaviours of real deployments that must never be accused (no
//! medium or high finding), each next to the interception it resembles,
//! which must still be. In: hand-made rows shaped like what the scan writes.
//! Out: assertions on the findings' kinds, severities and names.

use super::testutil::{cert, hs, hs_untrusted};
use super::Kind;
use super::{analyze, Thresholds};
use crate::rows::{CertRow, FindingRow, HandshakeRow, Severity};
use crate::x509::TrustReason;

fn serious(f: &[FindingRow]) -> Vec<(Kind, Severity, Vec<String>)> {
    f.iter()
        .filter(|f| f.severity == Severity::Medium || f.severity == Severity::High)
        .map(|f| (f.kind, f.severity, f.names.clone()))
        .collect()
}

/// A leaf made `age_s` seconds before `first_use_s`, issued by `issuer`.
fn made(
    sha: &str,
    issuer: &str,
    spki: &str,
    names: &[&str],
    first_use_s: i64,
    age_s: i64,
) -> CertRow {
    let mut c = cert(sha, issuer, spki, names);
    c.not_before = Some((first_use_s - age_s) * 1_000_000);
    c.authority_key_id = Some(format!("aki-{issuer}"));
    c
}

/// A connection whose chain verified to one of Mozilla's roots of that day.
fn public(id: &str, sni: &str, leaf: &str, ts_s: i64) -> HandshakeRow {
    HandshakeRow {
        root_public: Some(true),
        ..hs(id, sni, leaf, "10.0.0.1", ts_s)
    }
}

/// A public CA issuing for many unrelated domains, minutes before first use
/// (ACME), renewing on the same key: context, not a forger.
#[test]
fn public_acme_issuance_and_key_reuse_renewals_are_not_forging() {
    let le = "CN=R3,O=Let's Encrypt,C=US";
    let mut h = Vec::new();
    let mut c = Vec::new();
    for (i, d) in ["a.example", "b.test", "c.org", "d.net", "e.info"]
        .iter()
        .enumerate()
    {
        let t = 10_000 * (i as i64 + 1);
        let first = format!("{d}-1");
        let renewed = format!("{d}-2");
        h.push(public(&format!("{i}a"), d, &first, t));
        h.push(public(&format!("{i}b"), d, &renewed, t + 90 * 86_400));
        // --reuse-key: the renewal keeps the key pair.
        c.push(made(&first, le, &format!("k-{d}"), &[d], t, 120));
        c.push(made(
            &renewed,
            le,
            &format!("k-{d}"),
            &[d],
            t + 90 * 86_400,
            60,
        ));
    }
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));
}

/// The same renewals under a root the responder passed with --trust-store
/// (trusted, not public): a key kept for the same names is no shared key.
#[test]
fn reuse_key_renewals_under_a_private_root_are_not_forging() {
    let ca = "CN=Corp Issuing CA,O=Corp";
    let mut h = Vec::new();
    let mut c = Vec::new();
    for (i, d) in ["wiki.corp.example", "git.other.example", "ci.third.example"]
        .iter()
        .enumerate()
    {
        let t = 10_000 * (i as i64 + 1);
        h.push(hs(&format!("{i}a"), d, &format!("{d}-1"), "10.0.0.1", t));
        h.push(hs(
            &format!("{i}b"),
            d,
            &format!("{d}-2"),
            "10.0.0.1",
            t + 60 * 86_400,
        ));
        c.push(made(
            &format!("{d}-1"),
            ca,
            &format!("k-{d}"),
            &[d],
            t,
            40 * 86_400,
        ));
        c.push(made(
            &format!("{d}-2"),
            ca,
            &format!("k-{d}"),
            &[d],
            t + 60 * 86_400,
            20 * 86_400,
        ));
    }
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));

    // An inspection CA the client trusts (its root passed the same way),
    // minting at first use with one key for those unrelated names: forging.
    let forged: Vec<CertRow> = h
        .iter()
        .map(|x| {
            let d = x.sni.clone().unwrap_or_default();
            made(
                x.leaf_sha256.as_deref().unwrap_or_default(),
                ca,
                "one-key",
                &[d.as_str()],
                x.ts_start / 1_000_000,
                60,
            )
        })
        .collect();
    let f = analyze(&h, &forged, &Thresholds::default());
    assert!(
        f.iter()
            .any(|f| f.kind == Kind::ForgingIssuer && f.severity == Severity::High),
        "{:#?}",
        serious(&f)
    );
}

/// An interceptor whose CA copies the genuine issuing CA's name (on its own
/// key) is caught, and its findings name only the names it answered.
#[test]
fn a_copied_issuer_name_accuses_only_the_names_it_forged() {
    let name = "CN=Example TLS CA,O=Example Trust";
    let mut h = vec![
        hs("1", "bank.test", "genuine-bank", "10.0.0.1", 100),
        hs("2", "shop.test", "genuine-shop", "10.0.0.1", 200),
        hs("3", "mail.test", "genuine-mail", "10.0.0.1", 300),
    ];
    for (i, (sni, leaf)) in [
        ("bank.test", "forged-bank"),
        ("news.test", "forged-news"),
        ("blog.test", "forged-blog"),
    ]
    .iter()
    .enumerate()
    {
        h.push(hs_untrusted(
            &format!("f{i}"),
            sni,
            leaf,
            "10.0.0.2",
            1_000 + i as i64,
        ));
    }
    let genuine = |sha: &str, n: &str| {
        let mut c = cert(sha, name, &format!("k-{sha}"), &[n]);
        c.authority_key_id = Some("genuine-aki".into());
        c
    };
    let forged = |sha: &str, n: &str, t: i64| {
        let mut c = cert(sha, name, &format!("k-{sha}"), &[n]);
        c.authority_key_id = Some("forger-aki".into());
        c.not_before = Some((t - 30) * 1_000_000);
        c
    };
    let c = vec![
        genuine("genuine-bank", "bank.test"),
        genuine("genuine-shop", "shop.test"),
        genuine("genuine-mail", "mail.test"),
        forged("forged-bank", "bank.test", 1_000),
        forged("forged-news", "news.test", 1_001),
        forged("forged-blog", "blog.test", 1_002),
    ];
    let f = analyze(&h, &c, &Thresholds::default());
    let accused: std::collections::BTreeSet<String> = f
        .iter()
        .filter(|f| f.severity == Severity::Medium || f.severity == Severity::High)
        .flat_map(|f| f.names.iter().cloned())
        .collect();
    assert!(accused.contains("bank.test"), "{:#?}", serious(&f));
    assert!(accused.contains("news.test") && accused.contains("blog.test"));
    assert!(
        !accused.contains("shop.test") && !accused.contains("mail.test"),
        "names that only got genuine certificates: {:#?}",
        serious(&f)
    );
}

/// A client that aborts on the name's one genuine certificate, whose server
/// omits its intermediate: a misconfiguration, low.
#[test]
fn a_client_refusing_an_incomplete_genuine_chain_is_low() {
    let mut refused = hs("2", "api.test", "leaf", "10.0.0.2", 20);
    refused.chain_trusted = Some(false);
    refused.trust_reason = Some(TrustReason::IncompleteChain);
    refused.alerts = vec!["client:fatal:unknown_ca".into()];
    let mut ok = hs("1", "api.test", "leaf", "10.0.0.1", 10);
    ok.chain_trusted = Some(false);
    ok.trust_reason = Some(TrustReason::IncompleteChain);
    let h = vec![ok, refused, public("3", "other.test", "o", 30)];
    let c = vec![
        cert("leaf", "CN=Public Issuing CA", "k1", &["api.test"]),
        cert("o", "CN=Public Issuing CA", "k2", &["other.test"]),
    ];
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));
    assert!(f
        .iter()
        .any(|f| f.kind == Kind::CertificateRejected && f.severity == Severity::Low));
    assert!(f
        .iter()
        .any(|f| f.kind == Kind::IncompleteChain && f.severity == Severity::Low));
}

/// A vendor's own CA on the vendor's own service is its PKI; the same CA
/// on another company's name is its inspection product.
#[test]
fn a_vendor_ca_on_its_own_service_is_not_an_inspection_product() {
    let sophos = "O=Sophos Ltd,C=UK,emailAddress=sophosca@sophos.com,CN=Sophos SHA256 MCS Root CA3";
    let h = vec![
        hs_untrusted(
            "1",
            "mcs2-cloudstation.prod.hydra.sophos.com",
            "own",
            "10.0.0.1",
            10,
        ),
        public("2", "www.example.com", "x", 20),
    ];
    let c = vec![
        cert(
            "own",
            sophos,
            "k1",
            &["mcs2-cloudstation.prod.hydra.sophos.com"],
        ),
        cert("x", "CN=Public CA", "k2", &["www.example.com"]),
    ];
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));
    assert!(f.iter().all(|f| f.kind != Kind::InspectionProduct));

    let h = vec![
        hs_untrusted("1", "www.bank.test", "mitm", "10.0.0.1", 10),
        public("2", "www.example.com", "x", 20),
    ];
    let c = vec![
        cert("mitm", sophos, "k1", &["www.bank.test"]),
        cert("x", "CN=Public CA", "k2", &["www.example.com"]),
    ];
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(f
        .iter()
        .any(|f| f.kind == Kind::InspectionProduct && f.severity == Severity::Medium));
}

/// A lab server's self-signed certificate made minutes before the capture
/// is not "minted for that connection"; nor is a lab CA's one certificate.
#[test]
fn a_fresh_lab_certificate_is_not_minted_for_the_connection() {
    let h = vec![
        hs_untrusted("1", "lab.test", "self", "10.0.0.1", 1_000),
        hs_untrusted("2", "dev.test", "lab-ca-leaf", "10.0.0.1", 1_100),
        public("3", "www.example.com", "x", 1_200),
    ];
    let c = vec![
        {
            let mut c = made("self", "CN=lab.test", "k1", &["lab.test"], 1_000, 300);
            c.self_signed = true;
            c.subject = "CN=lab.test".into();
            c
        },
        made("lab-ca-leaf", "O=SomeOrg", "k2", &["dev.test"], 1_100, 480),
        cert("x", "CN=Public CA", "k3", &["www.example.com"]),
    ];
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));
}

/// One intercepted name, no genuine connection to compare with, a CA name
/// that matches no product: a certificate backdated two days to the second
/// (mitmproxy's habit) still accuses; a lab certificate of the same age
/// give or take minutes does not.
#[test]
fn a_round_backdate_accuses_a_single_intercepted_name() {
    let h = vec![
        hs_untrusted("1", "www.bank.test", "forged", "10.0.0.1", 1_000_000),
        public("2", "www.example.com", "x", 1_000_100),
    ];
    let forged = made(
        "forged",
        "CN=Gateway,O=Acme",
        "k1",
        &["www.bank.test"],
        1_000_000,
        2 * 86_400,
    );
    let c = vec![
        forged.clone(),
        cert("x", "CN=Public CA", "k3", &["www.example.com"]),
    ];
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(
        f.iter()
            .any(|f| f.kind == Kind::UntrustedChain && f.severity == Severity::Medium),
        "{f:#?}"
    );
    let mut lab = forged;
    lab.not_before = lab.not_before.map(|t| t - 37 * 60 * 1_000_000);
    let c = vec![lab, cert("x", "CN=Public CA", "k3", &["www.example.com"])];
    let f = analyze(&h, &c, &Thresholds::default());
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));
}
