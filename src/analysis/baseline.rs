//! Known-good baseline. In: this run's evidence and a previous scan's
//! handshake and certificate rows, taken as known-good. Out, per name the
//! baseline knows: Kind::BaselineDeviation ("high") for leaves never seen for
//! the name in the baseline from an issuer (and with a key) the baseline
//! never saw for it either; Kind::BaselineNewCertificate ("low") for a new
//! leaf from a known issuer or with a known key (a renewal). Names absent
//! from the baseline are left to the other detectors.

use std::collections::{HashMap, HashSet};

use super::Kind;
use super::{row_name_key, Connection, Evidence};
use crate::rows::{CertRow, FindingRow, HandshakeRow, Severity};
use crate::words::plural_s;

#[derive(Default)]
struct Known<'b> {
    leaves: HashSet<&'b str>,
    issuers: HashSet<&'b str>,
    keys: HashSet<&'b str>,
}

/// The baseline detector.
pub fn deviation(
    ev: &Evidence<'_>,
    base_handshakes: &[HandshakeRow],
    base_certs: &[CertRow],
) -> Vec<FindingRow> {
    let certs: HashMap<&str, &CertRow> =
        base_certs.iter().map(|c| (c.sha256.as_str(), c)).collect();
    let mut known: HashMap<String, Known<'_>> = HashMap::new();
    for h in base_handshakes {
        let (Some(name), Some(leaf)) = (row_name_key(h), h.leaf_sha256.as_deref()) else {
            continue;
        };
        let k = known.entry(name).or_default();
        k.leaves.insert(leaf);
        if let Some(c) = certs.get(leaf) {
            k.issuers.insert(c.issuer.as_str());
            k.keys.insert(c.spki_sha256.as_str());
        }
    }
    let mut out = Vec::new();
    for (name, flows) in ev.by_name() {
        let Some(k) = known.get(name.as_str()) else {
            continue;
        };
        let mut new_issuer: Vec<&Connection> = Vec::new();
        let mut renewal: Vec<&Connection> = Vec::new();
        for h in flows {
            let Some(leaf) = h.leaf_sha256.as_deref() else {
                continue;
            };
            if k.leaves.contains(leaf) {
                continue;
            }
            let c = ev.cert(leaf);
            let same_issuer = c.is_some_and(|c| k.issuers.contains(c.issuer.as_str()));
            let same_key = c.is_some_and(|c| k.keys.contains(c.spki_sha256.as_str()));
            if same_issuer || same_key {
                renewal.push(h);
            } else {
                new_issuer.push(h);
            }
        }
        for (kind, severity, group) in [
            (Kind::BaselineDeviation, Severity::High, new_issuer),
            (Kind::BaselineNewCertificate, Severity::Low, renewal),
        ] {
            if group.is_empty() {
                continue;
            }
            let leaves = super::leaf_set(&group);
            let mut base_issuers: Vec<&str> = k.issuers.iter().copied().collect();
            base_issuers.sort();
            let summary = format!(
                "{name}: {} certificate{} never seen for this name in the baseline, issued by {} \
                 ({}; the baseline knows {}); {}",
                leaves.len(),
                plural_s(leaves.len()),
                ev.describe_issuers(&leaves),
                if severity == Severity::High {
                    "an issuer and key the baseline never saw for it"
                } else {
                    "a known issuer or key: likely a renewal"
                },
                base_issuers.join(" and "),
                ev.outcome(&group).sentence()
            );
            out.push(ev.name_finding(kind, severity, name, &group, leaves, summary));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs};
    use crate::analysis::Kind;
    use crate::analysis::{analyze_with_baseline, Thresholds};
    use crate::rows::Severity;

    #[test]
    fn new_issuer_is_high_renewal_low_unknown_name_nothing() {
        let base_h = vec![
            hs("b1", "bank.test", "a", "10.0.0.1", 1),
            hs("b2", "shop.test", "s", "10.0.0.1", 1),
        ];
        let base_c = vec![
            cert("a", "CN=Real", "k1", &["bank.test"]),
            cert("s", "CN=Real", "k2", &["shop.test"]),
        ];
        let h = vec![
            hs("1", "bank.test", "a", "10.0.0.1", 10),
            hs("2", "bank.test", "x", "10.0.0.2", 11),
            hs("3", "shop.test", "s2", "10.0.0.2", 12),
            hs("4", "new.test", "n", "10.0.0.2", 12),
        ];
        let c = vec![
            cert("a", "CN=Real", "k1", &["bank.test"]),
            cert("x", "CN=Other", "k9", &["bank.test"]),
            cert("s2", "CN=Real", "k3", &["shop.test"]),
            cert("n", "CN=Real", "k4", &["new.test"]),
        ];
        let f = analyze_with_baseline(
            &h,
            &c,
            &Thresholds::default(),
            Some((base_h.as_slice(), base_c.as_slice())),
        );
        let get = |kind: Kind| {
            f.iter()
                .filter(|f| f.kind == kind)
                .map(|f| (f.sni.clone().unwrap_or_default(), f.severity))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            get(Kind::BaselineDeviation),
            vec![("bank.test".into(), Severity::High)]
        );
        assert_eq!(
            get(Kind::BaselineNewCertificate),
            vec![("shop.test".into(), Severity::Low)]
        );
    }
}
