//! Issuer divergence: one server name answered by leaf certificates from
//! different issuers is interception evidence ("high"); several leaves from one
//! issuer is what renewals, dual RSA/ECDSA deployments and load balancers do
//! ("low").

use std::collections::{BTreeMap, BTreeSet};

use super::{finding, Evidence};
use crate::rows::{FindingRow, Severity};

/// The issuer divergence detector.
pub fn divergence(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in ev.by_name() {
        // leaf -> issuer, issuer -> leaves
        let mut by_issuer: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for h in &flows {
            let Some(leaf) = &h.leaf_sha256 else { continue };
            let issuer = ev
                .certs
                .get(leaf.as_str())
                .map(|c| c.issuer.clone())
                .unwrap_or_else(|| "(unknown issuer)".into());
            by_issuer.entry(issuer).or_default().insert(leaf.clone());
        }
        let leaves: BTreeSet<String> = by_issuer.values().flatten().cloned().collect();
        if leaves.len() < 2 {
            continue;
        }
        let issuers: BTreeSet<String> = by_issuer.keys().cloned().collect();
        let (kind, severity, summary) = if issuers.len() > 1 {
            let detail: Vec<String> = by_issuer
                .iter()
                .map(|(issuer, leaves)| {
                    let n = flows
                        .iter()
                        .filter(|h| h.leaf_sha256.as_ref().is_some_and(|l| leaves.contains(l)))
                        .count();
                    format!("{issuer} ({n} connection{})", if n == 1 { "" } else { "s" })
                })
                .collect();
            (
                "issuer_divergence",
                Severity::High,
                format!(
                    "{name} was answered by leaf certificates from {} different issuers: {}; \
                     one of them is likely an interceptor",
                    issuers.len(),
                    detail.join(", ")
                ),
            )
        } else {
            (
                "multiple_leaves_same_issuer",
                Severity::Low,
                format!(
                    "{name} was answered by {} different leaf certificates, all from {}; \
                     consistent with renewal, dual RSA/ECDSA or load balancing",
                    leaves.len(),
                    issuers
                        .iter()
                        .next()
                        .map(String::as_str)
                        .unwrap_or_default()
                ),
            )
        };
        out.push(finding(
            kind,
            severity,
            Some(&name),
            &flows,
            leaves,
            issuers,
            summary,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::analysis::analyze;
    use crate::rows::{CertRow, HandshakeRow};

    fn hs(id: &str, sni: &str, leaf: &str, client: &str) -> HandshakeRow {
        HandshakeRow {
            flow_id: id.into(),
            sni: Some(sni.into()),
            leaf_sha256: Some(leaf.into()),
            client_ip: client.into(),
            ts_start: 10,
            ..Default::default()
        }
    }

    fn cert(sha: &str, issuer: &str) -> CertRow {
        CertRow {
            sha256: sha.into(),
            issuer: issuer.into(),
            ..Default::default()
        }
    }

    #[test]
    fn different_issuers_are_high_and_same_issuer_low() {
        let h = vec![
            hs("1", "bank.test", "a", "10.0.0.1"),
            hs("2", "Bank.test.", "b", "10.0.0.2"),
            hs("3", "cdn.test", "c", "10.0.0.1"),
            hs("4", "cdn.test", "d", "10.0.0.1"),
            hs("5", "solo.test", "e", "10.0.0.1"),
        ];
        let c = vec![
            cert("a", "CN=Real CA"),
            cert("b", "CN=mitmproxy"),
            cert("c", "CN=CDN CA"),
            cert("d", "CN=CDN CA"),
            cert("e", "CN=CDN CA"),
        ];
        let f = analyze(&h, &c);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].kind, "issuer_divergence");
        assert_eq!(f[0].severity, "high");
        assert_eq!(f[0].sni.as_deref(), Some("bank.test"));
        assert_eq!(f[0].flow_ids, vec!["1", "2"]);
        assert_eq!(f[0].clients, vec!["10.0.0.1", "10.0.0.2"]);
        assert_eq!(f[0].issuers, vec!["CN=Real CA", "CN=mitmproxy"]);
        assert_eq!(f[1].kind, "multiple_leaves_same_issuer");
        assert_eq!(f[1].severity, "low");
    }
}
