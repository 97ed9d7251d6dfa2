//! Forging issuer. In: every certificate seen as a leaf, grouped by issuer.
//! Out: "forging_issuer" when one issuer has leaves for many unrelated
//! registrable domains AND shows how it made them: minted at first use
//! (validity starting minutes before, or backdated by a round amount to the
//! second), one key shared by its leaves, the key of a CA on a leaf (one
//! that is neither a CA nor self-signed: a self-signed leaf marked CA
//! carries its own key, which says nothing), or the
//! name of a known inspection product. A public CA issues for many domains
//! too, but long before use and with one key per certificate: no finding.
//! Two signs need no count of domains:
//! - a leaf (not itself a CA, not self-signed) whose key is a CA
//!   certificate's. No CA hands a server its own key pair, but Squid's
//!   ssl-bump signs every certificate it forges over the proxy CA's own key,
//!   so even one forged name shows it;
//! - leaves minted at first use that answered a name another issuer answered
//!   too: the issuer replaced a certificate it did not make, at the moment
//!   of the connection, so its leaves for names nobody else answered are
//!   forged as well (Privoxy mints a key and a certificate per host,
//!   backdated 30 days, and the names of a small capture are often of one
//!   domain).

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
        // Leaves, not CAs themselves, that carry a CA certificate's key.
        let on_ca_key: Vec<&str> = leaves
            .iter()
            .copied()
            .filter(|l| ev.leaf(l).is_some_and(|i| i.ca_key))
            .collect();
        let many = domains.len() >= ev.cfg.forging_issuer_min_domains;
        let minted = leaves.iter().filter(|l| ev.minted_at_first_use(l)).count();
        let minting = minted * 2 >= leaves.len() && minted > 0;
        let replaced = if minting {
            names_answered_by_others(ev, issuer, &leaves)
        } else {
            BTreeSet::new()
        };
        if !many && on_ca_key.is_empty() && replaced.is_empty() {
            continue;
        }
        let keys: BTreeSet<&str> = leaves
            .iter()
            .filter_map(|l| ev.cert(l))
            .map(|c| c.spki_sha256.as_str())
            .collect();
        let shared_key = keys.len() < leaves.len();
        let product = leaves.iter().find_map(|l| ev.product_of_leaf(l));
        let mut signs = Vec::new();
        if minting {
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
        if !on_ca_key.is_empty() {
            signs.push(format!(
                "{} of {} lea{} the public key of a CA certificate",
                on_ca_key.len(),
                leaves.len(),
                if on_ca_key.len() == 1 {
                    "f carries"
                } else {
                    "ves carry"
                }
            ));
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
        let listed = |v: Vec<&str>| v.into_iter().take(6).collect::<Vec<_>>().join(", ");
        let summary = if many {
            format!(
                "{issuer} issued leaf certificates for {} unrelated domains ({}) and {}: \
                 a certificate-forging interceptor; its certificates were {}",
                domains.len(),
                listed(domains.iter().map(|d| d.as_str()).collect()),
                signs.join(", "),
                ev.outcome(&flows).sentence()
            )
        } else if !on_ca_key.is_empty() {
            format!(
                "{issuer} issued leaf certificates for {} ({}); no CA gives a server a CA's \
                 key pair, a forging proxy does (Squid's ssl-bump signs over its CA's key): \
                 a certificate-forging interceptor; its certificates were {}",
                listed(names.iter().map(String::as_str).collect()),
                signs.join(", "),
                ev.outcome(&flows).sentence()
            )
        } else {
            format!(
                "{issuer} issued leaf certificates for {} ({}), and for {} another issuer's \
                 certificate was served too: it minted a replacement at the moment of the \
                 connection, as a certificate-forging interceptor does; its certificates \
                 were {}",
                listed(names.iter().map(String::as_str).collect()),
                signs.join(", "),
                listed(replaced.iter().map(String::as_str).collect()),
                ev.outcome(&flows).sentence()
            )
        };
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

/// The names (as [`name_key`]) these leaves of `issuer` answered for which
/// a leaf of another issuer was seen as well.
fn names_answered_by_others(
    ev: &Evidence<'_>,
    issuer: &str,
    leaves: &BTreeSet<&str>,
) -> BTreeSet<String> {
    let names: BTreeSet<String> = leaves
        .iter()
        .filter_map(|l| ev.leaf_flows.get(l))
        .flatten()
        .filter_map(|h| name_key(h))
        .collect();
    let by_name = ev.by_name();
    names
        .into_iter()
        .filter(|name| {
            by_name
                .binary_search_by(|(n, _)| n.as_str().cmp(name))
                .ok()
                .and_then(|i| by_name.get(i))
                .is_some_and(|(_, flows)| {
                    flows.iter().any(|h| {
                        h.leaf_sha256
                            .as_deref()
                            .is_some_and(|l| ev.issuer_str(l) != issuer)
                    })
                })
        })
        .collect()
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

    /// Squid's ssl-bump: the forged leaf carries the proxy CA's own key. One
    /// name is enough; the same key on the CA's own (self-signed, CA) leaf
    /// or on a served CA certificate is not this sign.
    #[test]
    fn leaf_on_its_issuers_key_fires_for_one_domain() {
        let ca = CertRow {
            is_ca: true,
            self_signed: true,
            subject: "CN=Web Gateway CA".into(),
            ..cert("ca", "CN=Web Gateway CA", "kca", &[])
        };
        let mut h = vec![
            hs("1", "www.shop.test", "real", "10.0.0.1", 100),
            hs("2", "www.shop.test", "forged", "10.0.0.2", 200),
        ];
        h[1].cert_chain_sha256 = vec!["forged".into(), "ca".into()];
        let c = vec![
            cert("real", "CN=Real CA", "k1", &["www.shop.test"]),
            cert("forged", "CN=Web Gateway CA", "kca", &["www.shop.test"]),
            ca.clone(),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let g = f
            .iter()
            .find(|f| f.kind == "forging_issuer")
            .expect("{f:#?}");
        assert_eq!(g.names, vec!["www.shop.test".to_string()]);
        assert!(g
            .summary
            .contains("1 of 1 leaf carries the public key of a CA"));

        // The CA's certificate served as the leaf itself: no such sign.
        let own = vec![hs("1", "gw.shop.test", "ca", "10.0.0.1", 100)];
        let f = analyze(&own, std::slice::from_ref(&ca), &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != "forging_issuer"), "{f:#?}");
        // A cross-signed twin of a CA served as a leaf: a CA, not this sign.
        let twin = CertRow {
            is_ca: true,
            ..cert("twin", "CN=Other Root", "kca", &["gw.shop.test"])
        };
        let own = vec![hs("1", "gw.shop.test", "twin", "10.0.0.1", 100)];
        let f = analyze(&own, &[ca, twin], &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != "forging_issuer"), "{f:#?}");
    }

    /// Privoxy: a key and a certificate per host, backdated 30 days to the
    /// second, every name of one domain, the proxy CA trusted by the client.
    /// Replacing one real certificate that way betrays its leaves for the
    /// names nobody else answered.
    #[test]
    fn minting_a_replacement_for_a_name_betrays_the_other_names() {
        let backdated = |sha: &str, spki: &str, name: &str, first_use_s: i64| CertRow {
            not_before: Some((first_use_s - 30 * 86_400) * 1_000_000),
            ..cert(sha, "CN=Gateway CA", spki, &[name])
        };
        let h = vec![
            hs("1", "www.shop.test", "real", "10.0.0.1", 100),
            hs("2", "www.shop.test", "f-www", "10.0.0.1", 200),
            hs("3", "static.shop.test", "f-static", "10.0.0.1", 300),
        ];
        let mut c = vec![
            cert("real", "CN=Real CA", "k0", &["www.shop.test"]),
            backdated("f-www", "k1", "www.shop.test", 200),
            backdated("f-static", "k2", "static.shop.test", 300),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let g = f
            .iter()
            .find(|f| f.kind == "forging_issuer")
            .expect("{f:#?}");
        assert_eq!(g.severity, "medium");
        assert_eq!(g.names, ["static.shop.test", "www.shop.test"]);
        assert!(
            g.summary.contains("for www.shop.test another issuer"),
            "{g:#?}"
        );

        // The same leaves, but nobody else answered www: a CA that mints
        // at once for two names of one domain is an ACME deployment too.
        let alone = &h[1..];
        let f = analyze(alone, &c, &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != "forging_issuer"), "{f:#?}");

        // A change of CA to certificates made a month before use, not to
        // the second: no sign of minting, no finding.
        for x in &mut c[1..] {
            x.not_before = x.not_before.map(|t| t - 3_600 * 1_000_000);
        }
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != "forging_issuer"), "{f:#?}");
    }
}
