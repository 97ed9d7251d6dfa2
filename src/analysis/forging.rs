//! Forging issuer. In: every certificate seen as a leaf, grouped by issuer
//! (its name and the key it signs with, the leaves' authority key id). Out:
//! Kind::ForgingIssuer when one issuer has leaves for many unrelated
//! registrable domains AND shows how it made them, by a sign no public CA
//! shows: minted at first use (validity starting minutes before, or
//! backdated by a round amount to the second), one key shared by leaves for
//! unrelated domains, the key of a CA on a leaf (one that is neither a CA nor
//! self-signed: a self-signed leaf marked CA carries its own key, which says
//! nothing), the name of a known inspection product, a chain that spoofs a
//! root's key (explicit curve parameters, CVE-2020-0601), or, in a run whose
//! trust store covers the network, an issuer no store of the time knew.
//!
//! An issuer whose leaves verified to a root Mozilla trusted on the day of
//! the connection is a public CA: thousands of unrelated domains, issuance
//! minutes before first use (ACME), renewals on the same key and several
//! intermediates are its daily work, context and never signs; only a CA's
//! key on a leaf still counts. A renewal on the same key (certbot
//! `--reuse-key`) keeps its names and is not a shared key.
//!
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
//!
//! "high" with two signs or more, "medium" with one. The finding names only
//! the connections that carried this issuer's leaves.

use std::collections::{BTreeMap, BTreeSet};

use super::Kind;
use super::{finding, name_key, Evidence, LeafInfo};
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;

/// The forging issuer detector.
pub fn forging_issuer(ev: &Evidence<'_>) -> Vec<FindingRow> {
    // An issuer is its name and the key it signs with (the leaves'
    // authority key id): a forger that copies a CA's name is another issuer.
    let mut by_issuer: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for leaf in ev.leaf_flows.keys() {
        by_issuer
            .entry(ev.issuer_id(leaf))
            .or_default()
            .insert(leaf);
    }
    let mut out = Vec::new();
    for ((issuer, key_id), leaves) in by_issuer {
        let Some(work) = Work::of(ev, (issuer, key_id), &leaves) else {
            continue;
        };
        let signs = work.signs(ev, &leaves);
        if signs.is_empty() {
            continue;
        }
        let severity = if signs.len() >= 2 {
            Severity::High
        } else {
            Severity::Medium
        };
        let (flows, names) = ev.flows_and_names(&leaves);
        let summary = work.summary(issuer, &signs, &names, &ev.outcome(&flows).sentence());
        let sni = (names.len() == 1)
            .then(|| names.iter().next().cloned())
            .flatten();
        out.push(finding(
            Kind::ForgingIssuer,
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

/// What one issuer's leaves show of how they were made.
struct Work<'e, 'i> {
    infos: Vec<&'i LeafInfo<'e>>,
    domains: BTreeSet<&'i String>,
    /// Issued under a root Mozilla trusted that day: volume, freshness and
    /// renewals on one key are what public CAs do. Only a sign no public CA
    /// shows counts (a CA's own key on a leaf).
    public: bool,
    /// Leaves, not CAs themselves, that carry a CA certificate's key.
    on_ca_key: Vec<&'i str>,
    /// Leaves for at least `forging_issuer_min_domains` unrelated domains.
    many: bool,
    /// Leaves minted at first use (see `Evidence::minted_sign`).
    minted: usize,
    /// Most of its leaves were.
    minting: bool,
    /// Names another issuer answered too, when it was minting.
    replaced: BTreeSet<String>,
}

impl<'e, 'i> Work<'e, 'i> {
    /// The evidence about one issuer, when it is worth judging: leaves for
    /// many domains, a leaf on a CA's key, or replacements minted for names
    /// another issuer answered.
    fn of(ev: &'i Evidence<'e>, issuer: (&str, &str), leaves: &BTreeSet<&'i str>) -> Option<Self> {
        let infos: Vec<&LeafInfo<'_>> = leaves.iter().filter_map(|l| ev.leaf(l)).collect();
        let domains: BTreeSet<&String> = infos.iter().flat_map(|i| i.domains.iter()).collect();
        let on_ca_key: Vec<&str> = leaves
            .iter()
            .copied()
            .filter(|l| ev.leaf(l).is_some_and(|i| i.ca_key))
            .collect();
        let many = domains.len() >= ev.cfg.forging_issuer_min_domains;
        let minted = infos.iter().filter(|i| ev.minted_sign(i)).count();
        let minting = minted * 2 >= leaves.len() && minted > 0;
        let replaced = if minting {
            names_answered_by_others(ev, issuer, leaves)
        } else {
            BTreeSet::new()
        };
        if !many && on_ca_key.is_empty() && replaced.is_empty() {
            return None;
        }
        Some(Work {
            public: infos.iter().any(|i| i.public),
            infos,
            domains,
            on_ca_key,
            many,
            minted,
            minting,
            replaced,
        })
    }

    /// The signs of forgery, in words; none, and there is no finding.
    fn signs(&self, ev: &Evidence<'_>, leaves: &BTreeSet<&str>) -> Vec<String> {
        let shared = if self.public {
            None
        } else {
            keys_across_domains(ev, leaves)
        };
        let product = leaves.iter().find_map(|l| ev.product_of_leaf(l));
        let spoofed = self.infos.iter().find_map(|i| i.spoofed_ca);
        // An issuer no trust store of that day knew, minting for many
        // unrelated names, in a run whose trust store covers the network.
        // Leaves with Certificate Transparency timestamps were logged, so a
        // public CA made them: a chain that could not be built here says
        // nothing against them.
        let unknown = !self.public
            && self.many
            && ev.any_trusted
            && self.infos.iter().all(|i| !i.logged)
            && leaves.iter().any(|l| ev.leaf_unknown_issuer(l));
        let mut signs = Vec::new();
        if self.minting {
            signs.push(format!(
                "{} of {} leaves were minted at first use",
                self.minted,
                leaves.len()
            ));
        }
        if let Some((leaves_on, keys)) = shared {
            signs.push(format!(
                "{leaves_on} leaves for unrelated domains share {keys} key{}",
                plural_s(keys)
            ));
        }
        if !self.on_ca_key.is_empty() {
            signs.push(format!(
                "{} of {} lea{} the public key of a CA certificate",
                self.on_ca_key.len(),
                leaves.len(),
                if self.on_ca_key.len() == 1 {
                    "f carries"
                } else {
                    "ves carry"
                }
            ));
        }
        if let Some(p) = product {
            signs.push(format!("it matches {} ({})", p.product, p.category));
        }
        if let Some(ca) = spoofed {
            signs.push(format!(
                "its chain holds {ca} with explicit curve parameters (a spoofed root key, \
                 CVE-2020-0601)"
            ));
        }
        if unknown {
            signs.push("no trust store of the time knew the issuer".into());
        }
        signs
    }

    /// What the issuer did, by the strongest reason it was judged.
    fn summary(
        &self,
        issuer: &str,
        signs: &[String],
        names: &BTreeSet<String>,
        outcome: &str,
    ) -> String {
        let listed = |v: Vec<&str>| v.into_iter().take(6).collect::<Vec<_>>().join(", ");
        if self.many {
            format!(
                "{issuer} issued leaf certificates for {} unrelated domains ({}) and {}: \
                 a certificate-forging interceptor; its certificates were {outcome}",
                self.domains.len(),
                listed(self.domains.iter().map(|d| d.as_str()).collect()),
                signs.join(", "),
            )
        } else if !self.on_ca_key.is_empty() {
            format!(
                "{issuer} issued leaf certificates for {} ({}); no CA gives a server a CA's \
                 key pair, a forging proxy does (Squid's ssl-bump signs over its CA's key): \
                 a certificate-forging interceptor; its certificates were {outcome}",
                listed(names.iter().map(String::as_str).collect()),
                signs.join(", "),
            )
        } else {
            format!(
                "{issuer} issued leaf certificates for {} ({}), and for {} another issuer's \
                 certificate was served too: it minted a replacement at the moment of the \
                 connection, as a certificate-forging interceptor does; its certificates \
                 were {outcome}",
                listed(names.iter().map(String::as_str).collect()),
                signs.join(", "),
                listed(self.replaced.iter().map(String::as_str).collect()),
            )
        }
    }
}

/// Keys that these leaves share across unrelated domains (a renewal on the
/// same key, certbot's `--reuse-key`, keeps the names and is no sign): how
/// many leaves sit on such keys, and how many such keys.
fn keys_across_domains(ev: &Evidence<'_>, leaves: &BTreeSet<&str>) -> Option<(usize, usize)> {
    let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for l in leaves {
        if let Some(c) = ev.cert(l) {
            if !c.spki_sha256.is_empty() {
                by_key.entry(c.spki_sha256.as_str()).or_default().push(l);
            }
        }
    }
    let mut on = 0;
    let mut keys = 0;
    for ls in by_key.values() {
        if ls.len() < 2 {
            continue;
        }
        let (all, widest) = super::keyreuse::domain_spread(ev, ls);
        if all.len() > widest {
            on += ls.len();
            keys += 1;
        }
    }
    (keys > 0).then_some((on, keys))
}

/// The names (as [`name_key`]) these leaves of `issuer` answered for which
/// a leaf of another issuer was seen as well.
fn names_answered_by_others(
    ev: &Evidence<'_>,
    issuer: (&str, &str),
    leaves: &BTreeSet<&str>,
) -> BTreeSet<String> {
    let names: BTreeSet<String> = leaves
        .iter()
        .filter_map(|l| ev.leaf_flows.get(l))
        .flatten()
        .filter_map(|h| name_key(h))
        .collect();
    ev.names_served_by_another(issuer, names)
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs};
    use crate::analysis::Kind;
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::Severity;
    use crate::rows::{CertRow, FindingRow};

    fn minted(sha: &str, spki: &str, name: &str, first_use_s: i64) -> CertRow {
        let mut c = cert(sha, "CN=Gateway CA", spki, &[name]);
        c.not_before = Some((first_use_s - 2 * 86_400) * 1_000_000);
        c
    }

    /// The findings over one connection to each of three unrelated domains
    /// (first used at 100, 200 and 300 s), with leaves made by
    /// `leaf(sha, spki, name, first_use_s)`.
    fn three_domains(leaf: fn(&str, &str, &str, i64) -> CertRow) -> Vec<FindingRow> {
        let h = vec![
            hs("1", "a.one.test", "a", "10.0.0.1", 100),
            hs("2", "b.two.test", "b", "10.0.0.1", 200),
            hs("3", "c.three.test", "c", "10.0.0.1", 300),
        ];
        let c = vec![
            leaf("a", "k1", "a.one.test", 100),
            leaf("b", "k2", "b.two.test", 200),
            leaf("c", "k3", "c.three.test", 300),
        ];
        analyze(&h, &c, &Thresholds::default())
    }

    #[test]
    fn issuer_minting_for_many_domains_fires() {
        let f = three_domains(minted);
        let g = f.iter().find(|f| f.kind == Kind::ForgingIssuer).unwrap();
        assert_eq!(g.severity, Severity::Medium);
        assert_eq!(g.names.len(), 3);
    }

    #[test]
    fn public_ca_with_old_distinct_leaves_does_not_fire() {
        let f = three_domains(|sha, spki, name, _| cert(sha, "CN=Public CA", spki, &[name]));
        assert!(f.is_empty(), "{f:#?}");
    }

    /// Squid's ssl-bump: the forged leaf carries the proxy CA's own key. One
    /// name is enough; the same key on the CA's own (self-signed, CA) leaf
    /// or on a served CA certificate is not this sign.
    #[test]
    fn leaf_on_its_issuers_key_fires_for_one_domain() {
        let ca = {
            let mut c = cert("ca", "CN=Web Gateway CA", "kca", &[]);
            c.is_ca = true;
            c.self_signed = true;
            c.subject = "CN=Web Gateway CA".into();
            c
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
            .find(|f| f.kind == Kind::ForgingIssuer)
            .expect("{f:#?}");
        assert_eq!(g.names, vec!["www.shop.test".to_string()]);
        assert!(g
            .summary
            .contains("1 of 1 leaf carries the public key of a CA"));

        // The CA's certificate served as the leaf itself: no such sign.
        let own = vec![hs("1", "gw.shop.test", "ca", "10.0.0.1", 100)];
        let f = analyze(&own, std::slice::from_ref(&ca), &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != Kind::ForgingIssuer), "{f:#?}");
        // A cross-signed twin of a CA served as a leaf: a CA, not this sign.
        let twin = {
            let mut c = cert("twin", "CN=Other Root", "kca", &["gw.shop.test"]);
            c.is_ca = true;
            c
        };
        let own = vec![hs("1", "gw.shop.test", "twin", "10.0.0.1", 100)];
        let f = analyze(&own, &[ca, twin], &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != Kind::ForgingIssuer), "{f:#?}");
    }

    /// Privoxy: a key and a certificate per host, backdated 30 days to the
    /// second, every name of one domain, the proxy CA trusted by the client.
    /// Replacing one real certificate that way betrays its leaves for the
    /// names nobody else answered.
    #[test]
    fn minting_a_replacement_for_a_name_betrays_the_other_names() {
        let backdated = |sha: &str, spki: &str, name: &str, first_use_s: i64| {
            let mut c = cert(sha, "CN=Gateway CA", spki, &[name]);
            c.not_before = Some((first_use_s - 30 * 86_400) * 1_000_000);
            c
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
            .find(|f| f.kind == Kind::ForgingIssuer)
            .expect("{f:#?}");
        assert_eq!(g.severity, Severity::Medium);
        assert_eq!(g.names, ["static.shop.test", "www.shop.test"]);
        assert!(
            g.summary.contains("for www.shop.test another issuer"),
            "{g:#?}"
        );

        // The same leaves, but nobody else answered www: a CA that mints
        // at once for two names of one domain is an ACME deployment too.
        let alone = &h[1..];
        let f = analyze(alone, &c, &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != Kind::ForgingIssuer), "{f:#?}");

        // A change of CA to certificates made a month before use, not to
        // the second: no sign of minting, no finding.
        for x in &mut c[1..] {
            x.not_before = x.not_before.map(|t| t - 3_600 * 1_000_000);
        }
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != Kind::ForgingIssuer), "{f:#?}");
    }
}
