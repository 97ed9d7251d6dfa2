//! Fresh certificates. In: every certificate seen as a leaf and the first
//! connection that carried it. Out: Kind::FreshCertificate when its `not_before`
//! lies at most `fresh_cert_max_age_secs` before that connection. Freshness
//! alone is what ACME deployments and lab servers show, so it accuses only
//! with company: "info" when the chain verified to a public root of that day
//! (ACME), "low" for a self-signed certificate (a server's own, made just
//! before) and for a CA-issued one with nothing else against it; "medium"
//! when the name was also served another issuer's certificate or the leaf
//! shows another forging sign (an inspection product, a CA's key, a spoofed
//! root key), "high" when besides its issuer was unknown.
//! Left out: the round backdates proxies use (two days, one day) are only a
//! supporting sign for `forging` and `keyreuse`, never a finding alone.

use std::collections::BTreeSet;

use super::Kind;
use super::{finding, name_key, Evidence};
use crate::rows::{FindingRow, Severity};

/// The fresh certificate detector.
pub fn fresh_certificate(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut leaves: Vec<&&str> = ev.leaf_flows.keys().collect();
    leaves.sort();
    let mut out = Vec::new();
    for leaf in leaves {
        let Some(age) = ev.age_at_first_use(leaf) else {
            continue;
        };
        if !(0..=ev.cfg.fresh_cert_max_age_secs).contains(&age) {
            continue;
        }
        let Some(flows) = ev.leaf_flows.get(*leaf) else {
            continue;
        };
        let Some(info) = ev.leaf(leaf) else {
            continue;
        };
        let names: BTreeSet<String> = flows.iter().filter_map(|h| name_key(h)).collect();
        let replaced = ev.names_served_by_another(ev.issuer_id(leaf), names.iter().cloned());
        let other_sign = info.product.is_some() || info.ca_key || info.spoofed_ca.is_some();
        let (severity, why) = if info.public {
            (
                Severity::Info,
                "its chain verified to a public root of that day: an ACME client that deploys \
                 at once looks like this",
            )
        } else if info.self_signed {
            (
                Severity::Low,
                "it is self-signed, a server's own certificate made just before (a lab or an \
                 appliance), not a CA's minting",
            )
        } else if replaced.is_empty() && !other_sign {
            (
                Severity::Low,
                "nothing else was served for the name and the certificate shows no other \
                 forging sign: a new deployment looks the same",
            )
        } else if ev.leaf_unknown_issuer(leaf) {
            (
                Severity::High,
                "minted for that connection by an issuer no trust store knew, as forging \
                 proxies do",
            )
        } else {
            (
                Severity::Medium,
                "minted for that connection, as forging proxies do",
            )
        };
        let summary = format!(
            "a certificate for {} issued by {} became valid only {age} s before the first \
             connection that carried it; {why}{}; it was {}",
            names.iter().cloned().collect::<Vec<_>>().join(", "),
            ev.describe_issuer(leaf),
            if replaced.is_empty() {
                String::new()
            } else {
                format!(
                    "; another issuer's certificate was served for {}",
                    replaced.into_iter().collect::<Vec<_>>().join(", ")
                )
            },
            ev.outcome(flows).sentence()
        );
        let sni = (names.len() == 1)
            .then(|| names.iter().next().cloned())
            .flatten();
        out.push(finding(
            Kind::FreshCertificate,
            severity,
            sni.as_deref(),
            flows,
            BTreeSet::from([leaf.to_string()]),
            BTreeSet::from([ev.issuer_of(leaf)]),
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
    use crate::rows::CertRow;
    use crate::rows::Severity;

    #[test]
    fn minted_minutes_before_use_fires_and_old_does_not() {
        let h = vec![
            hs("1", "new.test", "n", "10.0.0.1", 1_000),
            hs("2", "old.test", "o", "10.0.0.1", 1_000),
        ];
        let c = vec![
            {
                let mut c = cert("n", "CN=CA", "k1", &["new.test"]);
                c.not_before = Some(880 * 1_000_000);
                c
            },
            cert("o", "CN=CA", "k2", &["old.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].kind, Kind::FreshCertificate);
        // Alone, freshness is what a new deployment shows: low.
        assert_eq!(f[0].severity, Severity::Low);
        assert!(f[0].summary.contains("120 s"));
    }

    fn fresh(sha: &str, issuer: &str, name: &str, first_use_s: i64) -> CertRow {
        let mut c = cert(sha, issuer, &format!("k-{sha}"), &[name]);
        c.not_before = Some((first_use_s - 60) * 1_000_000);
        c
    }

    /// A fresh leaf for a name that another issuer answered too accuses; an
    /// ACME certificate under a public root, or a lab's self-signed one,
    /// does not.
    #[test]
    fn fresh_accuses_only_with_company() {
        let h = vec![
            hs("1", "bank.test", "real", "10.0.0.1", 100),
            hs("2", "bank.test", "new", "10.0.0.2", 1_000),
        ];
        let c = vec![
            cert("real", "CN=Real CA", "k0", &["bank.test"]),
            fresh("new", "CN=Gateway", "bank.test", 1_000),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let g = f.iter().find(|f| f.kind == Kind::FreshCertificate).unwrap();
        assert_eq!(g.severity, Severity::Medium, "{g:#?}");
        assert!(g.summary.contains("another issuer"), "{g:#?}");

        // Public (ACME): info.
        let mut p = vec![hs("1", "blog.test", "acme", "10.0.0.1", 1_000)];
        p[0].root_public = Some(true);
        let c = vec![fresh("acme", "CN=R3,O=Let's Encrypt", "blog.test", 1_000)];
        let f = analyze(&p, &c, &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Info, "{f:#?}");

        // Self-signed: low.
        let s = vec![hs("1", "lab.test", "self", "10.0.0.1", 1_000)];
        let c = vec![{
            let mut c = fresh("self", "CN=lab.test", "lab.test", 1_000);
            c.self_signed = true;
            c
        }];
        let f = analyze(&s, &c, &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Low, "{f:#?}");
    }
}
