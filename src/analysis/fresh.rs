//! Fresh certificates. In: every certificate seen as a leaf and the first
//! connection that carried it. Out: "fresh_certificate" when its `not_before`
//! lies at most `fresh_cert_max_age_secs` before that connection: minted for
//! it, as forging proxies do ("high" when its chain is also untrusted,
//! "medium" otherwise: an ACME client that deploys at once looks the same).
//! Left out: the round backdates proxies use (two days, one day) are only a
//! supporting sign for `forging` and `keyreuse`, never a finding alone.

use std::collections::BTreeSet;

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
        let severity = if ev.leaf_unknown_issuer(leaf) {
            Severity::High
        } else {
            Severity::Medium
        };
        let names: BTreeSet<String> = flows.iter().filter_map(|h| name_key(h)).collect();
        let summary = format!(
            "a certificate for {} issued by {} became valid only {age} s before the first \
             connection that carried it: minted for that connection, as forging proxies do; \
             it was {}",
            names.iter().cloned().collect::<Vec<_>>().join(", "),
            ev.describe_issuer(leaf),
            ev.outcome(flows).sentence()
        );
        let sni = (names.len() == 1)
            .then(|| names.iter().next().cloned())
            .flatten();
        out.push(finding(
            "fresh_certificate",
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
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::CertRow;

    #[test]
    fn minted_minutes_before_use_fires_and_old_does_not() {
        let h = vec![
            hs("1", "new.test", "n", "10.0.0.1", 1_000),
            hs("2", "old.test", "o", "10.0.0.1", 1_000),
        ];
        let c = vec![
            CertRow {
                not_before: Some(880 * 1_000_000),
                ..cert("n", "CN=CA", "k1", &["new.test"])
            },
            cert("o", "CN=CA", "k2", &["old.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].kind, "fresh_certificate");
        assert_eq!(f[0].severity, "medium");
        assert!(f[0].summary.contains("120 s"));
    }
}
