//! Key reuse across names. In: every certificate seen as a leaf, grouped by
//! public key (SPKI SHA-256). Out: Kind::KeyReuse when one key sits on several
//! certificates for unrelated registrable domains: a forging proxy signs
//! every leaf it mints with one key (often its CA's own). One certificate
//! with many SANs is not reuse; a key shared by trusted certificates only is
//! "low" (a hosting provider renewing with `--reuse-key`), and so is one
//! shared by self-signed certificates only (a test suite or an appliance
//! family made on one key: no CA minted them). "high" with a forging sign (a
//! CA's key, an inspection product, minting at first use by a CA that is not
//! public, a spoofed root key, an unknown issuer in a run the trust store
//! covers), "medium" otherwise.

use std::collections::{BTreeMap, BTreeSet};

use super::Kind;
use super::{finding, Evidence, Product};
use crate::rows::{CertRow, FindingRow, Severity};

/// The registrable domains these leaves speak for together (their names
/// and the names clients asked for when they were served), and the most any
/// one of them speaks for alone: more together than the widest alone means
/// one key on unrelated domains, not one certificate with many SANs or a
/// renewal that kept its names.
pub(super) fn domain_spread<'e>(
    ev: &'e Evidence<'_>,
    leaves: &[&str],
) -> (BTreeSet<&'e String>, usize) {
    let per_leaf: Vec<&BTreeSet<String>> = leaves
        .iter()
        .filter_map(|l| ev.leaf(l).map(|i| &i.domains))
        .collect();
    let widest = per_leaf.iter().map(|d| d.len()).max().unwrap_or(0);
    (per_leaf.into_iter().flatten().collect(), widest)
}

/// The key reuse detector.
pub fn key_reuse(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (key, leaves) in leaves_by_key(ev) {
        if leaves.len() < 2 {
            continue;
        }
        let listed: Vec<&str> = leaves.iter().copied().collect();
        let (all, widest) = domain_spread(ev, &listed);
        if all.len() < ev.cfg.key_reuse_min_domains || all.len() <= widest {
            continue;
        }
        let (flows, names) = ev.flows_and_names(&leaves);
        let signs = Signs::of(ev, key, &leaves);
        let issuers = ev.issuers_of(&leaves);
        let summary = format!(
            "one public key ({}…) is used by {} certificates for {} unrelated domains ({}), \
             issued by {}{}; the signature of a forging proxy; they were {}",
            key.get(..16).unwrap_or(key),
            leaves.len(),
            all.len(),
            all.iter()
                .take(6)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            issuers.iter().cloned().collect::<Vec<_>>().join(" and "),
            signs.reasons(),
            ev.outcome(&flows).sentence()
        );
        let sni = (names.len() == 1)
            .then(|| names.iter().next().cloned())
            .flatten();
        out.push(finding(
            Kind::KeyReuse,
            signs.severity(ev),
            sni.as_deref(),
            &flows,
            leaves.iter().map(|s| s.to_string()).collect(),
            issuers,
            summary,
        ));
    }
    out
}

/// The leaves of the run by their public key (SPKI SHA-256).
fn leaves_by_key<'e>(ev: &Evidence<'e>) -> BTreeMap<&'e str, BTreeSet<&'e str>> {
    let mut by_key: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for &leaf in ev.leaf_flows.keys() {
        if let Some(c) = ev.cert(leaf) {
            if !c.spki_sha256.is_empty() {
                by_key
                    .entry(c.spki_sha256.as_str())
                    .or_default()
                    .insert(leaf);
            }
        }
    }
    by_key
}

/// What the leaves sharing one key show.
struct Signs<'e> {
    /// The key is a CA certificate's, and a leaf on it is neither a CA nor
    /// self-signed (see `on_ca_key`).
    ca: Option<&'e CertRow>,
    /// An issuer no trust store knew.
    unknown: bool,
    product: Option<&'static Product>,
    /// Leaves minted at first use; minting counts only for CA-issued leaves
    /// of issuers that are not public (see `Evidence::minted_sign`).
    minted: usize,
    spoofed: Option<&'e str>,
    all_trusted: bool,
    /// Self-signed certificates made on one key (a test suite's, an
    /// appliance family's) are no CA's forgeries.
    all_self_signed: bool,
}

impl<'e> Signs<'e> {
    fn of(ev: &Evidence<'e>, key: &str, leaves: &BTreeSet<&str>) -> Self {
        Signs {
            ca: ev
                .ca_keys
                .get(key)
                .copied()
                .filter(|_| leaves.iter().any(|l| ev.leaf(l).is_some_and(|i| i.ca_key))),
            unknown: leaves.iter().any(|l| ev.leaf_unknown_issuer(l)),
            product: leaves.iter().find_map(|l| ev.product_of_leaf(l)),
            minted: leaves
                .iter()
                .filter_map(|l| ev.leaf(l))
                .filter(|i| ev.minted_sign(i))
                .count(),
            spoofed: leaves
                .iter()
                .find_map(|l| ev.leaf(l).and_then(|i| i.spoofed_ca)),
            all_trusted: leaves.iter().all(|l| ev.leaf_trusted(l)),
            all_self_signed: leaves
                .iter()
                .all(|l| ev.leaf(l).is_some_and(|i| i.self_signed)),
        }
    }

    fn severity(&self, ev: &Evidence<'_>) -> Severity {
        if self.ca.is_some() || self.product.is_some() || self.spoofed.is_some() {
            Severity::High
        } else if self.all_trusted || self.all_self_signed {
            Severity::Low
        } else if self.minted > 0 || (self.unknown && ev.any_trusted) {
            Severity::High
        } else {
            Severity::Medium
        }
    }

    /// " (it is the key of the CA certificate X; ...)", or nothing.
    fn reasons(&self) -> String {
        let mut why = Vec::new();
        if let Some(c) = self.ca {
            why.push(format!("it is the key of the CA certificate {}", c.subject));
        }
        if let Some(p) = self.product {
            why.push(format!("the issuer matches {} ({})", p.product, p.category));
        }
        if self.minted > 0 {
            why.push(format!("{} of them were minted at first use", self.minted));
        }
        if let Some(c) = self.spoofed {
            why.push(format!("the chain spoofs a root's key with {c}"));
        }
        if self.all_trusted {
            why.push("every chain verified (shared hosting can explain it)".into());
        } else if self.all_self_signed {
            why.push(
                "every certificate is self-signed (made on one key, not minted by a CA)".into(),
            );
        }
        if why.is_empty() {
            String::new()
        } else {
            format!(" ({})", why.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs, hs_untrusted};
    use crate::analysis::Kind;
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::Severity;

    #[test]
    fn one_key_for_unrelated_names_fires() {
        let h = vec![
            hs_untrusted("1", "www.bank.test", "a", "10.0.0.1", 1),
            hs_untrusted("2", "mail.corp.test", "b", "10.0.0.1", 2),
            hs("3", "ok.test", "c", "10.0.0.1", 2),
        ];
        let c = vec![
            cert("a", "CN=Proxy", "same", &["www.bank.test"]),
            cert("b", "CN=Proxy", "same", &["mail.corp.test"]),
            cert("c", "CN=Real", "other", &["ok.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let k = f.iter().find(|f| f.kind == Kind::KeyReuse).unwrap();
        assert_eq!(k.severity, Severity::High);
        assert_eq!(k.names, vec!["mail.corp.test", "www.bank.test"]);
    }

    #[test]
    fn same_domain_renewal_and_san_certificates_do_not_fire() {
        let h = vec![
            hs("1", "www.shop.test", "a", "10.0.0.1", 1),
            hs("2", "shop.test", "b", "10.0.0.1", 2),
            hs("3", "x.multi.test", "m", "10.0.0.1", 2),
        ];
        let c = vec![
            cert("a", "CN=CA", "same", &["www.shop.test", "shop.test"]),
            cert("b", "CN=CA", "same", &["shop.test"]),
            cert(
                "m",
                "CN=CA",
                "k2",
                &["x.multi.test", "a.other.test", "b.third.test"],
            ),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != Kind::KeyReuse), "{f:#?}");
    }

    #[test]
    fn trusted_shared_hosting_key_is_low() {
        let h = vec![
            hs("1", "a.test", "a", "10.0.0.1", 1),
            hs("2", "b.test", "b", "10.0.0.1", 2),
        ];
        let c = vec![
            cert("a", "CN=CA", "same", &["a.test"]),
            cert("b", "CN=CA", "same", &["b.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let k = f.iter().find(|f| f.kind == Kind::KeyReuse).unwrap();
        assert_eq!(k.severity, Severity::Low);
    }

    /// A forging proxy's leaves on its CA's own key are high; the same key
    /// on self-signed certificates marked CA (an appliance's default
    /// certificates, as `openssl req -x509` makes them) is not that sign.
    #[test]
    fn a_ca_key_counts_only_on_a_leaf_that_is_no_ca() {
        let h = vec![
            hs_untrusted("1", "www.bank.test", "a", "10.0.0.1", 1),
            hs_untrusted("2", "mail.corp.test", "b", "10.0.0.1", 2),
        ];
        let ca_like = |sha: &str, name: &str| {
            let mut c = cert(sha, &format!("CN={name}"), "same", &[name]);
            c.is_ca = true;
            c.self_signed = true;
            c.subject = format!("CN={name}");
            c
        };
        let own = vec![
            ca_like("a", "www.bank.test"),
            ca_like("b", "mail.corp.test"),
        ];
        let f = analyze(&h, &own, &Thresholds::default());
        let k = f.iter().find(|f| f.kind == Kind::KeyReuse).expect("{f:#?}");
        // Self-signed on one key: an appliance family, not a CA's minting.
        assert_eq!(k.severity, Severity::Low, "{k:#?}");
        assert!(!k.summary.contains("key of the CA certificate"), "{k:#?}");

        let forged = vec![
            cert("a", "CN=Proxy CA", "same", &["www.bank.test"]),
            cert("b", "CN=Proxy CA", "same", &["mail.corp.test"]),
            ca_like("ca", "Proxy CA"),
        ];
        let f = analyze(&h, &forged, &Thresholds::default());
        let k = f.iter().find(|f| f.kind == Kind::KeyReuse).expect("{f:#?}");
        assert_eq!(k.severity, Severity::High, "{k:#?}");
        assert!(
            k.summary.contains("key of the CA certificate CN=Proxy CA"),
            "{k:#?}"
        );
    }
}
