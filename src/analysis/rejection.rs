//! Rejection. In: each name's connections that the client ended with a fatal
//! certificate alert right after the server's certificate (unknown_ca,
//! bad_certificate, certificate_unknown, ...). Out: Kind::CertificateRejected:
//! a client refused what it was shown; "high" when the refused certificate
//! differs from what other connections to the name accepted or is itself
//! suspect (a forging sign, see `Evidence::leaf_forged`), "low" otherwise: a
//! client refusing the one certificate the name serves (a missing
//! intermediate, a private CA, an expired certificate) is a misconfiguration. An encrypted TLS 1.3 alert cannot be
//! read and is left to `shape`.

use std::collections::BTreeSet;

use super::Connection;
use super::Evidence;
use super::Kind;
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;

const CERT_ALERTS: [&str; 7] = [
    "unknown_ca",
    "bad_certificate",
    "certificate_unknown",
    "unsupported_certificate",
    "certificate_expired",
    "certificate_revoked",
    "certificate_required",
];

fn refusal(h: &Connection) -> Option<&str> {
    h.alerts.iter().find_map(|a| {
        let d = a.strip_prefix("client:fatal:")?;
        CERT_ALERTS.contains(&d).then_some(d)
    })
}

/// The rejection detector.
pub fn rejection(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in &ev.groups {
        let refused: Vec<&Connection> = flows
            .iter()
            .copied()
            .filter(|h| refusal(h).is_some())
            .collect();
        if refused.is_empty() {
            continue;
        }
        let alerts: BTreeSet<&str> = refused.iter().filter_map(|h| refusal(h)).collect();
        let leaves = super::leaf_set(&refused);
        // An issuer is its name and its signing key: a renewed certificate
        // of the same issuer is not another certificate here.
        let accepted_elsewhere: BTreeSet<(&str, &str)> = flows
            .iter()
            .filter(|h| refusal(h).is_none())
            .filter_map(|h| h.leaf_sha256.as_deref())
            .map(|l| ev.issuer_id(l))
            .collect();
        let differs = leaves.iter().any(|l| {
            !accepted_elsewhere.is_empty() && !accepted_elsewhere.contains(&ev.issuer_id(l))
        });
        // A client refusing the one certificate a name always serves (a
        // missing intermediate, a private CA it does not trust, an expired
        // certificate) is a misconfiguration; it is evidence when the refused
        // certificate is not what the name otherwise serves, or is itself
        // suspect.
        let suspect = leaves.iter().any(|l| ev.leaf_forged(l));
        let severity = if differs || suspect {
            Severity::High
        } else {
            Severity::Low
        };
        let clients: BTreeSet<&str> = refused.iter().map(|h| h.client_ip.as_ref()).collect();
        let summary = format!(
            "{name}: {} client{} refused the server's certificate ({}) on {} connection{}{}{}; \
             {}",
            clients.len(),
            plural_s(clients.len()),
            alerts.into_iter().collect::<Vec<_>>().join(", "),
            refused.len(),
            plural_s(refused.len()),
            if leaves.is_empty() {
                String::new()
            } else {
                format!(", a certificate issued by {}", ev.describe_issuers(&leaves))
            },
            if differs {
                ", while other connections to the name accepted another certificate"
            } else {
                ""
            },
            if severity == Severity::High {
                "a blocked interception attempt"
            } else {
                "the name's own certificate, refused: a misconfiguration or a client that \
                 lacks its root, not interception evidence"
            }
        );
        out.push(ev.name_finding(
            Kind::CertificateRejected,
            severity,
            name,
            &refused,
            leaves,
            summary,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs};
    use crate::analysis::Kind;
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::Severity;

    #[test]
    fn refused_other_certificate_is_high_and_normal_close_is_nothing() {
        let mut r = hs("2", "bank.test", "b", "10.0.0.2", 2);
        r.alerts = vec!["client:fatal:unknown_ca".into()];
        let mut closed = hs("3", "bank.test", "a", "10.0.0.3", 3);
        closed.alerts = vec!["client:warning:close_notify".into()];
        let h = vec![hs("1", "bank.test", "a", "10.0.0.1", 1), r, closed];
        let c = vec![
            cert("a", "CN=Real", "k1", &["bank.test"]),
            cert("b", "CN=Other", "k2", &["bank.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let v: Vec<_> = f
            .iter()
            .filter(|f| f.kind == Kind::CertificateRejected)
            .collect();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].severity, Severity::High);
        assert_eq!(v[0].flow_ids, vec!["2"]);
        assert!(v[0].summary.contains("unknown_ca"));
    }

    /// A client refusing the one certificate the name always serves (its
    /// server omits an intermediate, or it lacks the private root) is a
    /// misconfiguration: low, also when the chain did not verify.
    #[test]
    fn refusing_the_names_own_certificate_is_low() {
        let mut r = crate::analysis::testutil::hs_untrusted("2", "intra.test", "a", "10.0.0.2", 2);
        r.alerts = vec!["client:fatal:unknown_ca".into()];
        let h = vec![
            crate::analysis::testutil::hs_untrusted("1", "intra.test", "a", "10.0.0.1", 1),
            r,
            hs("3", "ok.test", "b", "10.0.0.1", 3),
        ];
        let c = vec![
            cert("a", "CN=Corp CA", "k1", &["intra.test"]),
            cert("b", "CN=Public", "k2", &["ok.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let v = f
            .iter()
            .find(|f| f.kind == Kind::CertificateRejected)
            .unwrap();
        assert_eq!(v.severity, Severity::Low, "{v:#?}");
        assert!(
            f.iter()
                .all(|f| f.severity != Severity::Medium && f.severity != Severity::High),
            "{f:#?}"
        );
    }
}
