//! Forging issuer. In: every certificate seen as a leaf, grouped by issuer.
//! Out: "forging_issuer" when one issuer has leaves for many unrelated
//! registrable domains AND shows how it made them: minted at first use
//! (validity starting minutes before, or backdated by a round amount to the
//! second), one key shared by its leaves, the key of a CA on a leaf, or the
//! name of a known inspection product. A public CA issues for many domains
//! too, but long before use and with one key per certificate: no finding.

use std::collections::{BTreeMap, BTreeSet};

use super::Connection;
use super::{finding, name_key, Evidence};
use crate::rows::{FindingRow, Severity};

/// The forging issuer detector.
pub fn forging_issuer(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut by_issuer: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for leaf in ev.leaf_flows.keys() {
        by_issuer
            .entry(ev.issuer_str(leaf))
            .or_default()
            .insert(leaf);
    }
    let mut out = Vec::new();
    for (issuer, leaves) in by_issuer {
        let domains: BTreeSet<&String> = leaves
            .iter()
            .filter_map(|l| ev.leaf(l))
            .flat_map(|i| i.domains.iter())
            .collect();
        if domains.len() < ev.cfg.forging_issuer_min_domains {
            continue;
        }
        let minted = leaves.iter().filter(|l| ev.minted_at_first_use(l)).count();
        let keys: BTreeSet<&str> = leaves
            .iter()
            .filter_map(|l| ev.cert(l))
            .map(|c| c.spki_sha256.as_str())
            .collect();
        let shared_key = keys.len() < leaves.len();
        let ca_key = leaves
            .iter()
            .filter_map(|l| ev.cert(l))
            .any(|c| ev.ca_keys.contains_key(c.spki_sha256.as_str()));
        let product = leaves.iter().find_map(|l| ev.product_of_leaf(l));
        let mut signs = Vec::new();
        if minted * 2 >= leaves.len() && minted > 0 {
            signs.push(format!(
                "{minted} of {} leaves were minted at first use",
                leaves.len()
            ));
        }
        if shared_key {
            signs.push(format!(
                "{} leaves share {} key{}",
                leaves.len(),
                keys.len(),
                super::plural(keys.len())
            ));
        }
        if ca_key {
            signs.push("a leaf carries a CA's own key".into());
        }
        if let Some(p) = product {
            signs.push(format!("it matches {} ({})", p.product, p.category));
        }
        if signs.is_empty() {
            continue;
        }
        let unknown = leaves.iter().any(|l| ev.leaf_unknown_issuer(l));
        let severity = if signs.len() >= 2 || unknown {
            Severity::High
        } else {
            Severity::Medium
        };
        let flows: Vec<&Connection> = leaves
            .iter()
            .filter_map(|l| ev.leaf_flows.get(l))
            .flatten()
            .copied()
            .collect();
        let names: BTreeSet<String> = flows.iter().filter_map(|h| name_key(h)).collect();
        let summary = format!(
            "{issuer} issued leaf certificates for {} unrelated domains ({}) and {}: \
             a certificate-forging interceptor; its certificates were {}",
            domains.len(),
            domains
                .iter()
                .take(6)
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            signs.join(", "),
            ev.outcome(&flows).sentence()
        );
        let sni = (names.len() == 1)
            .then(|| names.iter().next().cloned())
            .flatten();
        out.push(finding(
            "forging_issuer",
            severity,
            sni.as_deref(),
            &flows,
            leaves.iter().map(|s| s.to_string()).collect(),
            BTreeSet::from([issuer.to_string()]),
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

    fn minted(sha: &str, spki: &str, name: &str, first_use_s: i64) -> CertRow {
        CertRow {
            not_before: Some((first_use_s - 2 * 86_400) * 1_000_000),
            ..cert(sha, "CN=Gateway CA", spki, &[name])
        }
    }

    #[test]
    fn issuer_minting_for_many_domains_fires() {
        let h = vec![
            hs("1", "a.one.test", "a", "10.0.0.1", 100),
            hs("2", "b.two.test", "b", "10.0.0.1", 200),
            hs("3", "c.three.test", "c", "10.0.0.1", 300),
        ];
        let c = vec![
            minted("a", "k1", "a.one.test", 100),
            minted("b", "k2", "b.two.test", 200),
            minted("c", "k3", "c.three.test", 300),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let g = f.iter().find(|f| f.kind == "forging_issuer").unwrap();
        assert_eq!(g.severity, "medium");
        assert_eq!(g.names.len(), 3);
    }

    #[test]
    fn public_ca_with_old_distinct_leaves_does_not_fire() {
        let h = vec![
            hs("1", "a.one.test", "a", "10.0.0.1", 100),
            hs("2", "b.two.test", "b", "10.0.0.1", 200),
            hs("3", "c.three.test", "c", "10.0.0.1", 300),
        ];
        let c = vec![
            cert("a", "CN=Public CA", "k1", &["a.one.test"]),
            cert("b", "CN=Public CA", "k2", &["b.two.test"]),
            cert("c", "CN=Public CA", "k3", &["c.three.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(f.is_empty(), "{f:#?}");
    }
}
