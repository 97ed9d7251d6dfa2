//! Name mismatch, self-signed, expired (and not yet valid, weak) at the time
//! of the connection. In: each name's connections whose chain failed for one
//! of those reasons, or whose leaf does not cover the SNI. Out: one finding
//! per name and problem: "low" when that is all the name ever presented (a
//! printer's self-signed certificate, a forgotten renewal), "medium" when
//! other connections to the same name presented another certificate without
//! the problem that was valid when the problem was served: someone else
//! answered some of them. A good certificate of another era (expired by
//! then, or not yet issued) explains nothing, and one of the same CA (name
//! and key) is a stale or misrouted backend of the same site: "low".

use std::collections::BTreeSet;

use super::Connection;
use super::Evidence;
use super::Kind;
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;
use crate::x509::TrustReason;

/// A finding kind, what it means, and which connections show it.
type Problem = (Kind, &'static str, fn(&Connection) -> bool);

/// The problems judged, each on its own.
const PROBLEMS: [Problem; 4] = [
    (
        Kind::NameMismatch,
        "a certificate that does not cover the name",
        |h| h.sni_matches_leaf == Some(false),
    ),
    (Kind::SelfSigned, "a self-signed certificate", |h| {
        h.untrusted_for(&[TrustReason::SelfSigned])
    }),
    (
        Kind::Expired,
        "a certificate outside its validity at that time",
        |h| h.untrusted_for(&[TrustReason::Expired, TrustReason::NotYetValid]),
    ),
    (
        Kind::WeakCertificate,
        "a certificate with a weak key or signature",
        |h| h.untrusted_for(&[TrustReason::WeakKey, TrustReason::WeakSignature]),
    ),
];

/// The validity detector.
pub fn validity(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in ev.by_name() {
        for (kind, what, is_bad) in PROBLEMS {
            let bad: Vec<&Connection> = flows.iter().copied().filter(|h| is_bad(h)).collect();
            if bad.is_empty() {
                continue;
            }
            let leaves = super::leaf_set(&bad);
            let others = good_alternatives(ev, flows, &bad, &leaves, is_bad);
            // The same CA (name and key) issued the good certificate too: a
            // backend that missed a renewal, or a default virtual host's
            // certificate, not someone else answering.
            let good_issuers: BTreeSet<(&str, &str)> =
                others.iter().map(|l| ev.issuer_id(l)).collect();
            let same_ca = leaves
                .iter()
                .all(|l| good_issuers.contains(&ev.issuer_id(l)));
            let severity = if others.is_empty() || same_ca {
                Severity::Low
            } else {
                Severity::Medium
            };
            let summary = summary(ev, name, what, &bad, &leaves, others.len(), same_ca);
            out.push(ev.name_finding(kind, severity, name, &bad, leaves, summary));
        }
    }
    out
}

/// The other certificates of the name that do not share the problem and
/// were valid while it was served: only those could have been the genuine
/// answer then (a site that served a good certificate in 2014 and a
/// mismatching one in 2017 was misconfigured in 2017, not intercepted).
fn good_alternatives<'a>(
    ev: &Evidence<'_>,
    flows: &[&'a Connection],
    bad: &[&Connection],
    leaves: &BTreeSet<String>,
    is_bad: fn(&Connection) -> bool,
) -> BTreeSet<&'a str> {
    let valid_then = |l: &str| {
        ev.cert(l).is_none_or(|c| {
            bad.iter().any(|h| {
                c.not_before.is_none_or(|nb| nb <= h.ts_start)
                    && c.not_after.is_none_or(|na| h.ts_start <= na)
            })
        })
    };
    let others: BTreeSet<&str> = flows
        .iter()
        .filter(|h| !is_bad(h))
        .filter_map(|h| h.leaf_sha256.as_deref())
        .filter(|l| !leaves.contains(*l))
        .collect();
    others.into_iter().filter(|l| valid_then(l)).collect()
}

/// "name: 3 connections presented ..., issued by X, while ...; it was ...".
fn summary(
    ev: &Evidence<'_>,
    name: &str,
    what: &str,
    bad: &[&Connection],
    leaves: &BTreeSet<String>,
    others: usize,
    same_ca: bool,
) -> String {
    format!(
        "{name}: {} connection{} presented {what}, issued by {}{}; it was {}",
        bad.len(),
        plural_s(bad.len()),
        ev.describe_issuers(leaves),
        if others == 0 {
            ", and no other certificate valid at that time was seen for this name \
             (misconfiguration rather than interception)"
                .to_string()
        } else if same_ca {
            format!(
                ", while other connections got {} other certificate{} of the same CA \
                 without the problem (a stale or misrouted backend, not another party)",
                others,
                plural_s(others)
            )
        } else {
            format!(
                ", while other connections got {} other certificate{} without the \
                 problem, valid at that time",
                others,
                plural_s(others)
            )
        },
        ev.outcome(bad).sentence()
    )
}

#[cfg(test)]
mod tests {
    use crate::analysis::Kind;
    use crate::rows::Severity;
    use crate::x509::TrustReason;
    /// One backend that missed a renewal serves the same CA's expired
    /// certificate beside the renewed one: low. Another CA's expired one
    /// beside the genuine: medium.
    #[test]
    fn a_stale_backend_of_the_same_ca_is_low() {
        let h = good_then_failing(
            "shop.test",
            "renewed",
            "stale",
            TrustReason::Expired,
            [100, 200],
        );
        let same = |sha: &str, issuer: &str| {
            let mut c = cert(sha, issuer, &format!("k-{sha}"), &["shop.test"]);
            c.authority_key_id = Some(format!("aki-{issuer}"));
            c
        };
        let c = vec![same("renewed", "CN=Shop CA"), same("stale", "CN=Shop CA")];
        let f = analyze(&h, &c, &Thresholds::default());
        let e = f.iter().find(|f| f.kind == Kind::Expired).unwrap();
        assert_eq!(e.severity, Severity::Low, "{e:#?}");
        let c = vec![same("renewed", "CN=Shop CA"), same("stale", "CN=Other CA")];
        let f = analyze(&h, &c, &Thresholds::default());
        let e = f.iter().find(|f| f.kind == Kind::Expired).unwrap();
        assert_eq!(e.severity, Severity::Medium, "{e:#?}");
    }

    use crate::analysis::testutil::{cert, hs};
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::HandshakeRow;

    fn failing(h: HandshakeRow, reason: TrustReason) -> HandshakeRow {
        HandshakeRow {
            chain_trusted: Some(false),
            trust_reason: Some(reason),
            ..h
        }
    }

    /// A connection to `name` from 10.0.0.1 that verified with leaf `good`
    /// at `at[0]` s, then one from 10.0.0.2 with leaf `bad`, failing for
    /// `reason`, at `at[1]` s.
    fn good_then_failing(
        name: &str,
        good: &str,
        bad: &str,
        reason: TrustReason,
        at: [i64; 2],
    ) -> Vec<HandshakeRow> {
        vec![
            hs("1", name, good, "10.0.0.1", at[0]),
            failing(hs("2", name, bad, "10.0.0.2", at[1]), reason),
        ]
    }

    #[test]
    fn lone_self_signed_and_expired_are_low() {
        let h = vec![
            failing(
                hs("1", "printer.test", "p", "10.0.0.1", 1),
                TrustReason::SelfSigned,
            ),
            failing(
                hs("2", "legacy.test", "l", "10.0.0.1", 2),
                TrustReason::Expired,
            ),
        ];
        let mut p = cert("p", "CN=printer.test", "k1", &["printer.test"]);
        p.self_signed = true;
        let c = vec![p, cert("l", "CN=CA", "k2", &["legacy.test"])];
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(f
            .iter()
            .any(|f| f.kind == Kind::SelfSigned && f.severity == Severity::Low));
        assert!(f
            .iter()
            .any(|f| f.kind == Kind::Expired && f.severity == Severity::Low));
        assert!(f
            .iter()
            .all(|f| f.severity == Severity::Low || f.severity == Severity::Info));
    }

    #[test]
    fn self_signed_next_to_a_good_certificate_is_medium() {
        let h = good_then_failing("bank.test", "a", "s", TrustReason::SelfSigned, [1, 2]);
        let c = vec![
            cert("a", "CN=CA", "k1", &["bank.test"]),
            cert("s", "CN=bank.test", "k2", &["bank.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(f
            .iter()
            .any(|f| f.kind == Kind::SelfSigned && f.severity == Severity::Medium));
    }

    #[test]
    fn name_mismatch_alone_is_low() {
        let mut m = hs("1", "other.test", "a", "10.0.0.1", 1);
        m.sni_matches_leaf = Some(false);
        let c = vec![cert("a", "CN=CA", "k1", &["www.test"])];
        let f = analyze(&[m], &c, &Thresholds::default());
        assert!(f
            .iter()
            .any(|f| f.kind == Kind::NameMismatch && f.severity == Severity::Low));
    }
}
