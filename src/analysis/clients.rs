//! Client-scoped view. In: each name's connections with a visible leaf,
//! grouped by issuer. Out: Kind::ClientScopedView when an issuer's certificate
//! reached only some clients (named with their /24 or /64 subnets) while,
//! during the same time, other clients got another issuer's: someone on the
//! path of those clients answered for the name. "high" when that certificate
//! is untrusted or a known inspection product, "medium" when some chain was
//! untrusted, "low" when every chain verified (geo-split CAs); the verified
//! side of a split with an unverified one is the reference, not reported. Several
//! leaves from one issuer split across clients is load balancing: ignored.

use std::collections::{BTreeMap, BTreeSet};

use super::Connection;
use super::Kind;
use super::{finding, Evidence};
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;
use crate::x509::TrustReason;

/// The client-scoped view detector.
pub fn client_scoped(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in ev.by_name() {
        if Evidence::single_leaf(flows) {
            continue;
        }
        let by_issuer = by_issuer(ev, flows);
        if by_issuer.len() < 2 {
            continue;
        }
        for (issuer, mine) in &by_issuer {
            let Some(split) = Split::of(&by_issuer, issuer, mine) else {
                continue;
            };
            if let Some(f) = judge(ev, name, &split) {
                out.push(f);
            }
        }
    }
    out
}

/// A name's connections with a visible leaf, by the issuer of the leaf.
fn by_issuer<'c>(
    ev: &Evidence<'c>,
    flows: &[&'c Connection],
) -> BTreeMap<&'c str, Vec<&'c Connection>> {
    let mut by_issuer: BTreeMap<&str, Vec<&Connection>> = BTreeMap::new();
    for h in flows {
        if let Some(leaf) = h.leaf_sha256.as_deref() {
            by_issuer.entry(ev.issuer_str(leaf)).or_default().push(h);
        }
    }
    by_issuer
}

/// One issuer's connections and those other clients got from other
/// issuers while it was active.
struct Split<'s, 'c> {
    mine: &'s [&'c Connection],
    my_clients: BTreeSet<&'c str>,
    others: Vec<&'c Connection>,
}

impl<'s, 'c> Split<'s, 'c> {
    /// The split of `issuer`'s connections, when other clients were served
    /// by another issuer during the same time.
    fn of(
        by_issuer: &BTreeMap<&str, Vec<&'c Connection>>,
        issuer: &str,
        mine: &'s [&'c Connection],
    ) -> Option<Self> {
        let my_clients: BTreeSet<&str> = mine.iter().map(|h| h.client_ip.as_ref()).collect();
        let (first, last) = (
            mine.iter().map(|h| h.ts_start).min().unwrap_or_default(),
            mine.iter().map(|h| h.ts_start).max().unwrap_or_default(),
        );
        let others: Vec<&Connection> = by_issuer
            .iter()
            .filter(|(i, _)| **i != issuer)
            .flat_map(|(_, f)| f.iter().copied())
            .filter(|h| !my_clients.contains(h.client_ip.as_ref()))
            .collect();
        let concurrent = others
            .iter()
            .any(|h| h.ts_start >= first && h.ts_start <= last)
            || (others.iter().any(|h| h.ts_start < first)
                && others.iter().any(|h| h.ts_start > last));
        (!others.is_empty() && concurrent).then_some(Split {
            mine,
            my_clients,
            others,
        })
    }
}

/// A chain short of its intermediate is the server's omission, which
/// browsers repair: verified, for this purpose.
fn verified(h: &Connection) -> bool {
    h.chain_trusted == Some(true) || h.trust_reason == Some(TrustReason::IncompleteChain)
}

/// The finding for one side of a split, unless that side is the verified
/// reference of a split with an unverified one.
fn judge(ev: &Evidence<'_>, name: &str, split: &Split<'_, '_>) -> Option<FindingRow> {
    let Split {
        mine,
        my_clients,
        others,
    } = split;
    let leaves = super::leaf_set(mine);
    let suspect = leaves.iter().any(|l| ev.leaf_suspect(l));
    let untrusted = mine
        .iter()
        .chain(others.iter())
        .any(|h| h.chain_trusted == Some(false) && !verified(h));
    if !suspect && mine.iter().all(|h| verified(h)) && untrusted {
        return None;
    }
    // This side's issuer known to no trust store while the other clients'
    // chains verified: the classic interception.
    let unknown_vs_verified =
        leaves.iter().any(|l| ev.leaf_unknown_issuer(l)) && others.iter().all(|h| verified(h));
    let severity = if suspect || unknown_vs_verified {
        Severity::High
    } else if untrusted {
        Severity::Medium
    } else {
        Severity::Low
    };
    let other_clients: BTreeSet<&str> = others.iter().map(|h| h.client_ip.as_ref()).collect();
    let leaf = leaves.iter().next().cloned().unwrap_or_default();
    let summary = format!(
        "{name}: only client{} {} (subnet {}) received certificates from {} while \
         {} other client{} ({}) received another issuer's at the same time: \
         something on the path of those clients answered for the name; it was {}",
        plural_s(my_clients.len()),
        my_clients.iter().copied().collect::<Vec<_>>().join(", "),
        subnets(my_clients).join(", "),
        ev.describe_issuer(&leaf),
        other_clients.len(),
        plural_s(other_clients.len()),
        subnets(&other_clients).join(", "),
        ev.outcome(mine).sentence()
    );
    let mut evidence: Vec<&Connection> = mine.to_vec();
    evidence.extend(others.iter().copied());
    let mut all_leaves = leaves;
    all_leaves.extend(
        others
            .iter()
            .filter_map(|h| h.leaf_sha256.as_deref().map(str::to_string)),
    );
    let issuers = ev.issuers_of(&all_leaves);
    // Both sides are compared: the one with a forging sign (or an issuer no
    // trust store knew) is accused, so that the mirror finding of the
    // genuine side accuses the interceptor too.
    let accused = ev.accuse(all_leaves.iter().map(String::as_str));
    let mut f = finding(
        Kind::ClientScopedView,
        severity,
        Some(name),
        &evidence,
        all_leaves,
        issuers,
        summary,
    );
    f.accused_sha256 = accused;
    Some(f)
}

/// "/24" of IPv4 and "/64" of IPv6 addresses, deduplicated.
pub(super) fn subnets(clients: &BTreeSet<&str>) -> Vec<String> {
    let set: BTreeSet<String> = clients
        .iter()
        .map(|c| match c.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(v4)) => {
                let o = v4.octets();
                format!("{}.{}.{}.0/24", o[0], o[1], o[2])
            }
            Ok(std::net::IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Err(_) => c.to_string(),
        })
        .collect();
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs, hs_untrusted};
    use crate::analysis::Kind;
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::Severity;

    #[test]
    fn one_client_seeing_another_issuer_meanwhile_fires() {
        let h = vec![
            hs("1", "bank.test", "a", "192.0.2.10", 1),
            hs_untrusted("2", "bank.test", "b", "192.0.2.11", 2),
            hs("3", "bank.test", "a", "192.0.2.10", 3),
            hs_untrusted("4", "bank.test", "b", "192.0.2.11", 4),
        ];
        let c = vec![
            cert("a", "CN=Real", "k1", &["bank.test"]),
            cert("b", "CN=Evil", "k2", &["bank.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let v: Vec<_> = f
            .iter()
            .filter(|f| f.kind == Kind::ClientScopedView)
            .collect();
        assert!(v
            .iter()
            .any(|f| f.severity == Severity::High && f.summary.contains("192.0.2.11")));
    }

    #[test]
    fn load_balanced_leaves_from_one_issuer_do_not_fire() {
        let h = vec![
            hs("1", "lb.test", "a", "192.0.2.10", 1),
            hs("2", "lb.test", "b", "192.0.2.11", 2),
        ];
        let c = vec![
            cert("a", "CN=CA", "k1", &["lb.test"]),
            cert("b", "CN=CA", "k2", &["lb.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(f.iter().all(|f| f.kind != Kind::ClientScopedView));
    }
}
