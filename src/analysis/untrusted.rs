//! Untrusted chains. In: each name's connections whose chain did not lead to
//! a trusted root because its issuer is unknown or its signature is bad
//! (expiry, self-signing and name mismatch are `validity`'s; a chain short of
//! an intermediate is `incomplete_chain`'s). Out: Kind::UntrustedChain, "high"
//! when other connections saw the name with a trusted chain, "medium" when
//! the name was only ever seen untrusted and the certificate shows a forging
//! sign (see `Evidence::leaf_forged`), and "low" otherwise: a name always
//! served one private or unknown chain is what internal services, appliances
//! and lab servers look like, and when no chain of the run verified the trust
//! store does not cover this network (pass `--trust-store`).

use std::collections::BTreeSet;

use super::Connection;
use super::Evidence;
use super::Kind;
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;
use crate::x509::TrustReason;

/// The untrusted chain detector.
pub fn untrusted_chain(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in ev.by_name() {
        let bad: Vec<&Connection> = flows
            .iter()
            .copied()
            .filter(|h| h.untrusted_by_unknown_issuer())
            .collect();
        if bad.is_empty() {
            continue;
        }
        let trusted = flows
            .iter()
            .filter(|h| h.chain_trusted == Some(true))
            .count();
        let leaves = super::leaf_set(&bad);
        let reasons: BTreeSet<&str> = bad
            .iter()
            .filter_map(|h| h.trust_reason.map(TrustReason::as_str))
            .collect();
        let suspect = leaves.iter().any(|l| ev.leaf_forged(l));
        let (severity, context) = if trusted > 0 {
            (
                Severity::High,
                format!(
                    "while {trusted} other connection{} to it verified",
                    plural_s(trusted)
                ),
            )
        } else if suspect {
            (
                Severity::Medium,
                "and never with a trusted chain, and the certificate shows a forging sign (see \
                 the forging_issuer and inspection_product findings)"
                    .to_string(),
            )
        } else if ev.any_trusted {
            (
                Severity::Low,
                "the only chain the name was ever served, with no sign of forgery: a private \
                 or unknown CA, as internal services and appliances use (pass --trust-store \
                 with its roots if it is yours)"
                    .to_string(),
            )
        } else {
            (
                Severity::Low,
                "but no chain of this run verified; pass --trust-store with this network's \
                 roots to judge it"
                    .to_string(),
            )
        };
        let summary = format!(
            "{name}: {} connection{} presented a chain that does not lead to a trusted root \
             ({}), issued by {}, {context}; the certificate was {}",
            bad.len(),
            plural_s(bad.len()),
            if reasons.is_empty() {
                "unverified".to_string()
            } else {
                reasons.into_iter().collect::<Vec<_>>().join(", ")
            },
            ev.describe_issuers(&leaves),
            ev.outcome(&bad).sentence()
        );
        let accused = ev.accuse(leaves.iter().map(String::as_str));
        let mut f = ev.name_finding(Kind::UntrustedChain, severity, name, &bad, leaves, summary);
        f.accused_sha256 = accused;
        out.push(f);
    }
    out
}

/// Incomplete chains. In: each name's connections whose chain failed only
/// because the server left out an intermediate (trust reason
/// `incomplete_chain`). Out: one "low" "incomplete_chain" per name: a server
/// misconfiguration that browsers repair on their own (AIA fetching, cached
/// or preloaded intermediates), never interception evidence by itself.
pub fn incomplete_chain(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in ev.by_name() {
        let bad: Vec<&Connection> = flows
            .iter()
            .copied()
            .filter(|h| {
                h.chain_trusted == Some(false)
                    && h.trust_reason == Some(TrustReason::IncompleteChain)
            })
            .collect();
        if bad.is_empty() {
            continue;
        }
        let leaves = super::leaf_set(&bad);
        let summary = format!(
            "{name}: {} connection{} presented a chain without the intermediate that issued \
             the leaf ({}); browsers complete such chains themselves, so this is a server \
             misconfiguration, not interception evidence",
            bad.len(),
            plural_s(bad.len()),
            ev.issuers_of(&leaves)
                .into_iter()
                .collect::<Vec<_>>()
                .join(" and "),
        );
        out.push(ev.name_finding(
            Kind::IncompleteChain,
            Severity::Low,
            name,
            &bad,
            leaves,
            summary,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs, hs_untrusted};
    use crate::analysis::Kind;
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::Severity;
    use crate::x509::TrustReason;

    fn sev(f: &[crate::rows::FindingRow], name: &str) -> Option<Severity> {
        f.iter()
            .find(|f| f.kind == Kind::UntrustedChain && f.sni.as_deref() == Some(name))
            .map(|f| f.severity)
    }

    #[test]
    fn untrusted_next_to_trusted_is_high_alone_medium() {
        let h = vec![
            hs("1", "bank.test", "a", "10.0.0.1", 1),
            hs_untrusted("2", "bank.test", "b", "10.0.0.2", 2),
            hs_untrusted("3", "mail.test", "c", "10.0.0.2", 3),
            hs("4", "ok.test", "d", "10.0.0.2", 3),
        ];
        let c = vec![
            cert("a", "CN=Real", "k1", &["bank.test"]),
            cert("b", "CN=Other", "k2", &["bank.test"]),
            cert("c", "CN=Other", "k3", &["mail.test"]),
            cert("d", "CN=Real", "k4", &["ok.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert_eq!(sev(&f, "bank.test"), Some(Severity::High));
        // Always the same private chain, no forging sign: a private PKI.
        assert_eq!(sev(&f, "mail.test"), Some(Severity::Low));
        assert_eq!(sev(&f, "ok.test"), None);
    }

    #[test]
    fn untrusted_with_a_forging_sign_is_medium_and_incomplete_is_its_own_low() {
        let mut short = hs_untrusted("3", "cdn.test", "d", "10.0.0.2", 3);
        short.trust_reason = Some(TrustReason::IncompleteChain);
        let h = vec![
            hs_untrusted("1", "mail.test", "c", "10.0.0.2", 1),
            hs("2", "ok.test", "a", "10.0.0.2", 2),
            short,
        ];
        let c = vec![
            cert("a", "CN=Real", "k1", &["ok.test"]),
            cert("c", "CN=Contoso SSL Inspection CA", "k3", &["mail.test"]),
            cert("d", "CN=Public Issuing CA", "k4", &["cdn.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert_eq!(sev(&f, "mail.test"), Some(Severity::Medium));
        assert_eq!(sev(&f, "cdn.test"), None);
        let inc = f.iter().find(|f| f.kind == Kind::IncompleteChain).unwrap();
        assert_eq!(inc.severity, Severity::Low);
        assert_eq!(inc.names, ["cdn.test"]);
    }

    #[test]
    fn nothing_trusted_in_the_run_is_low() {
        let h = vec![hs_untrusted("1", "intranet.test", "a", "10.0.0.1", 1)];
        let c = vec![cert("a", "CN=Corp Root", "k1", &["intranet.test"])];
        let f = analyze(&h, &c, &Thresholds::default());
        assert_eq!(sev(&f, "intranet.test"), Some(Severity::Low));
    }
}
