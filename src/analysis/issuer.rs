//! Issuer divergence. In: each name's connections with a visible leaf. Out:
//! Kind::IssuerDivergence when the leaves come from issuers whose chains lead to
//! different roots ("high" when one side looks like an interceptor's: a known
//! inspection product, minted at first use, a CA's key, or an unknown issuer
//! while the trust store covers the run; "medium" when the chains could not
//! be verified (unless no chain of the run verified and one issuer took over
//! from the other from the same place: "low") or trusted issuers overlap in
//! time, or when one trusted
//! issuer took over from another but not on the server: the new one answered
//! only through a CONNECT proxy, or from the server's address at another TTL;
//! "low" when one trusted issuer simply took over from another, or when
//! every chain verified to a public (Mozilla) root: several public CAs or
//! CDNs for one site);
//! Kind::IssuerRotation ("low") for sibling intermediates under one root; and
//! Kind::MultipleLeavesSameIssuer ("low") for renewals, RSA and ECDSA side by
//! side, or load balancers.

use std::collections::{BTreeMap, BTreeSet};

use super::Connection;
use super::Kind;
use super::{finding, Evidence};
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;
use crate::x509::TrustReason;

struct Side<'a> {
    leaves: BTreeSet<&'a str>,
    anchors: BTreeSet<&'a str>,
    flows: Vec<&'a Connection>,
    first: i64,
    last: i64,
    suspect: bool,
    /// A chain failed for other reasons than a missing intermediate.
    untrusted: bool,
    /// A leaf's issuer was unknown to every trust store of the day (or its
    /// signature bad).
    unknown: bool,
    /// Every connection's chain verified.
    verified: bool,
    /// Every connection's chain verified to one of Mozilla's roots.
    public: bool,
}

/// The issuer divergence detector.
pub fn divergence(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in ev.by_name() {
        if Evidence::single_leaf(flows) {
            continue;
        }
        // An issuer is its name and the key it signs with (the leaf's
        // authority key id): a copy of a CA's name on another key is
        // another issuer.
        let mut by_issuer: BTreeMap<(&str, &str), Side<'_>> = BTreeMap::new();
        for h in flows {
            let Some(leaf) = h.leaf_sha256.as_deref() else {
                continue;
            };
            let side = by_issuer.entry(ev.issuer_id(leaf)).or_insert(Side {
                leaves: BTreeSet::new(),
                anchors: BTreeSet::new(),
                flows: Vec::new(),
                first: i64::MAX,
                last: i64::MIN,
                suspect: false,
                untrusted: false,
                unknown: false,
                verified: true,
                public: true,
            });
            if side.leaves.insert(leaf) {
                if let Some(info) = ev.leaf(leaf) {
                    side.anchors.extend(info.anchors.iter().copied());
                }
                side.suspect |= ev.leaf_suspect(leaf);
                side.unknown |= ev.leaf_unknown_issuer(leaf);
            }
            // A chain short of its intermediate is a public CA's that the
            // server sent incompletely: browsers complete it.
            let incomplete = h.trust_reason == Some(TrustReason::IncompleteChain);
            side.flows.push(h);
            side.first = side.first.min(h.ts_start);
            side.last = side.last.max(h.ts_start);
            side.untrusted |= h.chain_trusted == Some(false) && !incomplete;
            side.verified &= h.chain_trusted == Some(true) || incomplete;
            side.public &= h.root_public == Some(true) || incomplete;
        }
        let leaves: BTreeSet<String> = by_issuer
            .values()
            .flat_map(|s| s.leaves.iter().map(|l| l.to_string()))
            .collect();
        if leaves.len() < 2 {
            continue;
        }
        let issuers: BTreeSet<String> = by_issuer.keys().map(|s| s.0.to_string()).collect();
        let answered = Answered {
            name,
            flows,
            by_issuer,
            leaves,
            issuers,
        };
        out.push(if answered.by_issuer.len() > 1 {
            diverging(ev, answered)
        } else {
            same_issuer(ev, answered)
        });
    }
    out
}

/// A finding's kind, severity and the end of its summary: why.
type Verdict = (Kind, Severity, String);

/// One name's connections with a visible leaf, by issuer, with at least two
/// leaves: what both verdicts read.
struct Answered<'a> {
    name: &'a str,
    flows: &'a [&'a Connection],
    by_issuer: BTreeMap<(&'a str, &'a str), Side<'a>>,
    /// Every leaf of every side.
    leaves: BTreeSet<String>,
    /// Every side's issuer DN.
    issuers: BTreeSet<String>,
}

/// Leaves from several issuers (names, or keys under one name).
fn diverging(ev: &Evidence<'_>, answered: Answered<'_>) -> FindingRow {
    let Answered {
        name,
        flows,
        ref by_issuer,
        leaves,
        issuers,
    } = answered;
    // One issuer name on several keys: a CA that re-keyed, or a copy of its
    // name (certificate-cloning interceptors copy the whole chain's names).
    let copied = issuers.len() < by_issuer.len();
    let (kind, severity, tail) = interception(ev, by_issuer)
        .or_else(|| unverified(ev, by_issuer, copied))
        .unwrap_or_else(|| verified(by_issuer));
    let count = if copied {
        format!(
            "{} issuer keys under {} issuer name{}",
            by_issuer.len(),
            issuers.len(),
            plural_s(issuers.len())
        )
    } else {
        format!("{} different issuers", issuers.len())
    };
    let summary = format!(
        "{name} was answered by leaf certificates from {count}: {}; {tail}",
        sides_detail(ev, by_issuer, copied).join(", ")
    );
    let mut f = finding(kind, severity, Some(name), flows, leaves, issuers, summary);
    f.accused_sha256 = accused(by_issuer);
    f
}

/// "issuer [key k] (3 connections)" for each side.
fn sides_detail(
    ev: &Evidence<'_>,
    by_issuer: &BTreeMap<(&str, &str), Side<'_>>,
    copied: bool,
) -> Vec<String> {
    by_issuer
        .iter()
        .map(|((_, key_id), side)| {
            let leaf = side.leaves.iter().next().copied().unwrap_or_default();
            let key = if !copied {
                String::new()
            } else if key_id.is_empty() {
                " [no authority key id]".into()
            } else {
                format!(" [key {}]", key_id.get(..16).unwrap_or(key_id))
            };
            format!(
                "{}{key} ({} connection{})",
                ev.describe_issuer(leaf),
                side.flows.len(),
                plural_s(side.flows.len())
            )
        })
        .collect()
}

/// One side looks like an interceptor's, or verified beside an issuer no
/// trust store knew: "high", told with the outcome of that side.
fn interception(
    ev: &Evidence<'_>,
    by_issuer: &BTreeMap<(&str, &str), Side<'_>>,
) -> Option<Verdict> {
    let flows_of = |keep: fn(&Side<'_>) -> bool| -> Vec<&Connection> {
        by_issuer
            .values()
            .filter(|s| keep(s))
            .flat_map(|s| s.flows.iter().copied())
            .collect()
    };
    // the outcome that matters is that of the suspect side(s)
    if by_issuer.values().any(|s| s.suspect) {
        return Some((
            Kind::IssuerDivergence,
            Severity::High,
            format!(
                "one of them is likely an interceptor; its certificate was {}",
                ev.outcome(&flows_of(|s| s.suspect)).sentence()
            ),
        ));
    }
    // One side verified (to a root of that day or one given with
    // --trust-store), another side's issuer was known to no trust store:
    // the classic interception, or a forgery.
    let unknown_flows = flows_of(|s| s.unknown);
    if !unknown_flows.is_empty() && by_issuer.values().any(|s| !s.unknown && s.verified) {
        return Some((
            Kind::IssuerDivergence,
            Severity::High,
            format!(
                "one issuer's chains verified while another issuer was known to no trust \
                 store: an interceptor's certificate, or a forged one; it was {}",
                ev.outcome(&unknown_flows).sentence()
            ),
        ));
    }
    None
}

/// Issuers whose chains did not all verify, or intermediates of one root.
fn unverified(
    ev: &Evidence<'_>,
    by_issuer: &BTreeMap<(&str, &str), Side<'_>>,
    copied: bool,
) -> Option<Verdict> {
    let anchors: BTreeSet<&str> = by_issuer
        .values()
        .flat_map(|s| s.anchors.iter().copied())
        .collect();
    // Only self-issued certificates: no CA, so no CA's forgery to find.
    let self_issued_only = by_issuer.values().all(|s| {
        s.leaves
            .iter()
            .all(|l| ev.leaf(l).is_some_and(|i| i.self_signed))
    });
    let untrusted = by_issuer.values().any(|s| s.untrusted);
    let (kind, severity, why) = if self_issued_only
        && !by_issuer.values().any(|s| s.verified)
        && path_change(by_issuer).is_none()
    {
        (
            Kind::IssuerDivergence,
            Severity::Low,
            "every certificate is self-issued and none verified: a test or appliance server \
             that made its own certificates anew, answering from the same place",
        )
    } else if copied && !by_issuer.values().all(|s| s.verified) {
        (
            Kind::IssuerDivergence,
            Severity::Medium,
            "one issuer name signed with different keys, and not every chain verified: a \
             copy of the issuer's name on another key, as certificate-cloning interceptors \
             make, or a CA that re-keyed (is --trust-store set?)",
        )
    } else if anchors.len() == 1 {
        (
            Kind::IssuerRotation,
            Severity::Low,
            "all lead to the same root; consistent with a CA rotating its intermediates",
        )
    } else if untrusted
        && !ev.any_trusted
        && !overlap(by_issuer)
        && path_change(by_issuer).is_none()
    {
        (
            Kind::IssuerDivergence,
            Severity::Low,
            "no chain of this run verified, so the trust store does not cover this network \
             (pass --trust-store with its roots); each issuer took over from the previous one, \
             answering from the same place: consistent with a change of CA",
        )
    } else if untrusted {
        (
            Kind::IssuerDivergence,
            Severity::Medium,
            "the chains could not all be verified (is --trust-store set?), so either issuer \
             may be an interceptor",
        )
    } else {
        return None;
    };
    Some((kind, severity, why.into()))
}

/// Every chain verified: several public CAs, issuers overlapping in time,
/// a takeover not on the server, or a change of CA.
fn verified(by_issuer: &BTreeMap<(&str, &str), Side<'_>>) -> Verdict {
    if by_issuer.values().all(|s| s.public) {
        (
            Kind::IssuerDivergence,
            Severity::Low,
            "every chain verified to one of Mozilla's roots: consistent with a site served by \
             several public CAs or CDNs at once (a public CA's mis-issuance would look the \
             same: Certificate Transparency logs tell)"
                .into(),
        )
    } else if overlap(by_issuer) {
        (
            Kind::IssuerDivergence,
            Severity::Medium,
            "every chain verified, but trusted issuers overlapping in time for one name \
             can be a mis-issued or inspection certificate"
                .into(),
        )
    } else if let Some(why) = path_change(by_issuer) {
        (
            Kind::IssuerDivergence,
            Severity::Medium,
            format!(
                "every chain verified and each issuer took over from the previous one, but \
                 not on the server: {why}; a change of CA happens on the server, so \
                 something on the path answered"
            ),
        )
    } else {
        (
            Kind::IssuerDivergence,
            Severity::Low,
            "every chain verified and each issuer took over from the previous one; \
             consistent with a change of CA"
                .into(),
        )
    }
}

/// Whether issuers overlap in time: one starts before another ends.
fn overlap(by_issuer: &BTreeMap<(&str, &str), Side<'_>>) -> bool {
    let mut spans: Vec<(i64, i64)> = by_issuer.values().map(|s| (s.first, s.last)).collect();
    spans.sort();
    spans.windows(2).any(|w| w[1].0 <= w[0].1)
}

/// The accused side: the suspect one(s), else the one no trust store knew,
/// else the side(s) that did not verify, else every side.
fn accused(by_issuer: &BTreeMap<(&str, &str), Side<'_>>) -> Vec<String> {
    let side_leaves = |keep: &dyn Fn(&Side<'_>) -> bool| -> Vec<&str> {
        by_issuer
            .values()
            .filter(|s| keep(s))
            .flat_map(|s| s.leaves.iter().copied())
            .collect()
    };
    let mut accused = side_leaves(&|s| s.suspect);
    if accused.is_empty() {
        accused = side_leaves(&|s| s.unknown);
    }
    if accused.is_empty() {
        accused = side_leaves(&|s| !s.verified);
    }
    if accused.is_empty() {
        accused = side_leaves(&|_| true);
    }
    let mut accused: Vec<String> = accused.into_iter().map(str::to_string).collect();
    accused.sort();
    accused.dedup();
    accused
}

/// Whether the issuers of one name answered from different places, which
/// a change of CA does not explain (it happens on the server): one issuer
/// only through an HTTP or SOCKS CONNECT proxy and another only on direct
/// connections, or two issuers' connections to one server address whose
/// first server packets came with TTLs the other never had (a transparent
/// interceptor answers for the server's address from fewer hops away).
/// Says which, for the summary.
fn path_change(by_issuer: &BTreeMap<(&str, &str), Side<'_>>) -> Option<String> {
    let sides: Vec<(&str, &Side<'_>)> = by_issuer.iter().map(|((i, _), s)| (*i, s)).collect();
    let proxied = |s: &Side<'_>| s.flows.iter().all(|h| h.connect_target.is_some());
    let direct = |s: &Side<'_>| s.flows.iter().all(|h| h.connect_target.is_none());
    for (n, (ia, a)) in sides.iter().enumerate() {
        for (ib, b) in sides.iter().skip(n + 1) {
            for (p, d, pi, di) in [(a, b, ia, ib), (b, a, ib, ia)] {
                if proxied(p) && direct(d) {
                    return Some(format!(
                        "{pi} answered only through a CONNECT proxy (HTTP or SOCKS), {di} only \
                         direct connections"
                    ));
                }
            }
            let addrs: BTreeSet<(&str, i32)> = a
                .flows
                .iter()
                .map(|h| (h.server_ip.as_ref(), h.server_port))
                .collect();
            for addr in addrs {
                let (ta, tb) = (ttls_at(a, addr), ttls_at(b, addr));
                if !ta.is_empty() && !tb.is_empty() && ta.is_disjoint(&tb) {
                    let list = |t: &BTreeSet<i32>| {
                        t.iter().map(i32::to_string).collect::<Vec<_>>().join("/")
                    };
                    return Some(format!(
                        "at {}:{} the server's packets came with TTL {} for {ia} and {} for {ib}",
                        addr.0,
                        addr.1,
                        list(&ta),
                        list(&tb)
                    ));
                }
            }
        }
    }
    None
}

/// The server TTLs of a side's connections to one address.
fn ttls_at(s: &Side<'_>, addr: (&str, i32)) -> BTreeSet<i32> {
    s.flows
        .iter()
        .filter(|h| (h.server_ip.as_ref(), h.server_port) == addr)
        .filter_map(|h| h.server_ttl)
        .collect()
}

/// Several leaves of one issuer: a renewal, RSA and ECDSA side by side, or
/// a load balancer.
fn same_issuer(ev: &Evidence<'_>, a: Answered<'_>) -> FindingRow {
    let issuer = a.issuers.iter().next().cloned().unwrap_or_default();
    let algs: BTreeSet<&str> = a
        .leaves
        .iter()
        .filter_map(|l| ev.cert(l))
        .map(|c| c.key_algorithm.as_str())
        .collect();
    // a renewal: each leaf's connections all come after the previous leaf's
    let mut spans: Vec<(i64, i64)> = a
        .leaves
        .iter()
        .filter_map(|l| {
            let f = ev.leaf_flows.get(l.as_str())?;
            Some((f.first()?.ts_start, f.last()?.ts_start))
        })
        .collect();
    spans.sort();
    let takeover = spans.windows(2).all(|w| w[1].0 > w[0].1);
    let why = if algs.len() > 1 {
        "RSA and ECDSA certificates side by side"
    } else if takeover {
        "a renewal (each new leaf took over from the previous one)"
    } else {
        "several certificates behind a load balancer or CDN"
    };
    let suspect = a.by_issuer.values().any(|s| s.suspect);
    let summary = format!(
        "{} was answered by {} different leaf certificates, all from {issuer}; \
         consistent with {why}{}",
        a.name,
        a.leaves.len(),
        if suspect {
            " (the issuer itself is examined by other findings)"
        } else {
            ""
        }
    );
    let severity = if takeover && algs.len() <= 1 && !suspect {
        Severity::Info
    } else {
        Severity::Low
    };
    finding(
        Kind::MultipleLeavesSameIssuer,
        severity,
        Some(a.name),
        a.flows,
        a.leaves,
        a.issuers,
        summary,
    )
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs, hs_untrusted};
    use crate::analysis::Kind;
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::HandshakeRow;
    use crate::rows::Severity;

    fn kinds(f: &[crate::rows::FindingRow], name: &str) -> Vec<(Kind, Severity)> {
        f.iter()
            .filter(|f| f.names.iter().any(|n| n == name))
            .map(|f| (f.kind, f.severity))
            .collect()
    }

    #[test]
    fn untrusted_other_issuer_is_high() {
        let h = vec![
            hs("1", "bank.test", "a", "10.0.0.1", 10),
            hs_untrusted("2", "Bank.test.", "b", "10.0.0.2", 20),
        ];
        let c = vec![
            cert("a", "CN=Real CA", "k1", &["bank.test"]),
            cert("b", "CN=Evil CA", "k2", &["bank.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let d = f.iter().find(|f| f.kind == Kind::IssuerDivergence).unwrap();
        assert_eq!(d.severity, Severity::High);
        assert_eq!(d.sni.as_deref(), Some("bank.test"));
        assert_eq!(d.flow_ids, vec!["1", "2"]);
        assert_eq!(d.clients, vec!["10.0.0.1", "10.0.0.2"]);
        assert_eq!(d.issuers, vec!["CN=Evil CA", "CN=Real CA"]);
        assert!(d.summary.contains("accepted by 1 of 1 client"));
    }

    #[test]
    fn renewal_dual_key_and_cdn_stay_low() {
        let mut ec = cert("d", "CN=CDN CA", "k4", &["dual.test"]);
        ec.key_algorithm = "EC".into();
        let h = vec![
            // renewal: b takes over from a
            hs("1", "renew.test", "a", "10.0.0.1", 1),
            hs("2", "renew.test", "a", "10.0.0.2", 2),
            hs("3", "renew.test", "b", "10.0.0.1", 3),
            // RSA and ECDSA side by side
            hs("4", "dual.test", "c", "10.0.0.1", 1),
            hs("5", "dual.test", "d", "10.0.0.2", 1),
            hs("6", "dual.test", "c", "10.0.0.2", 2),
            // CDN: several leaves, one trusted CA, interleaved
            hs("7", "cdn.test", "e", "10.0.0.1", 1),
            hs("8", "cdn.test", "f", "10.0.0.2", 2),
            hs("9", "cdn.test", "e", "10.0.0.3", 3),
        ];
        let c = vec![
            cert("a", "CN=CA", "k1", &["renew.test"]),
            cert("b", "CN=CA", "k2", &["renew.test"]),
            cert("c", "CN=CDN CA", "k3", &["dual.test"]),
            ec,
            cert("e", "CN=CDN CA", "k5", &["cdn.test"]),
            cert("f", "CN=CDN CA", "k6", &["cdn.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert!(
            f.iter()
                .all(|f| f.severity == Severity::Low || f.severity == Severity::Info),
            "{f:#?}"
        );
        assert_eq!(
            kinds(&f, "renew.test"),
            vec![(Kind::MultipleLeavesSameIssuer, Severity::Info)]
        );
        assert!(f
            .iter()
            .any(|f| f.sni.as_deref() == Some("dual.test") && f.summary.contains("ECDSA")));
        assert!(f
            .iter()
            .any(|f| f.sni.as_deref() == Some("cdn.test") && f.summary.contains("CDN")));
    }

    #[test]
    fn trusted_change_of_ca_is_low() {
        let h = vec![
            hs("1", "moved.test", "a", "10.0.0.1", 1),
            hs("2", "moved.test", "b", "10.0.0.1", 5),
        ];
        let c = vec![
            cert("a", "CN=Old CA", "k1", &["moved.test"]),
            cert("b", "CN=New CA", "k2", &["moved.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        assert_eq!(
            kinds(&f, "moved.test"),
            vec![(Kind::IssuerDivergence, Severity::Low)]
        );
    }
    /// Two trusted issuers answering at the same time: "medium" when a root
    /// came only from --trust-store, "low" when both are Mozilla's (a site
    /// on several public CAs or CDNs).
    #[test]
    fn overlapping_trusted_issuers_public_or_not() {
        for (public, severity) in [(Some(false), Severity::Medium), (Some(true), Severity::Low)] {
            let mut h = vec![
                hs("1", "multi.test", "a", "10.0.0.1", 1),
                hs("2", "multi.test", "b", "10.0.0.2", 2),
                hs("3", "multi.test", "a", "10.0.0.1", 3),
            ];
            for r in &mut h {
                r.root_public = public;
            }
            // The second leaf verified to a public root, the others not.
            h[1].root_public = Some(true);
            let c = vec![
                cert("a", "CN=One CA", "k1", &["multi.test"]),
                cert("b", "CN=Other CA", "k2", &["multi.test"]),
            ];
            let f = analyze(&h, &c, &Thresholds::default());
            let k = kinds(&f, "multi.test");
            assert!(
                k.contains(&(Kind::IssuerDivergence, severity)),
                "{public:?}: {k:?}"
            );
        }
    }
    /// One issuer name on two keys (authority key ids): unverified, a
    /// possible copy of the name (medium); both verified, a CA that re-keyed
    /// under one root (low).
    #[test]
    fn one_issuer_name_on_two_keys() {
        for (trusted, kind, severity) in [
            (Some(false), Kind::IssuerDivergence, Severity::Medium),
            (Some(true), Kind::IssuerRotation, Severity::Low),
        ] {
            let mut h = vec![
                hs("1", "cloned.test", "a", "10.0.0.1", 1),
                hs("2", "cloned.test", "b", "10.0.0.2", 2),
            ];
            for r in &mut h {
                r.chain_trusted = trusted;
            }
            let key = |sha: &str, aki: &str| {
                let mut c = cert(sha, "CN=Issuing CA", sha, &["cloned.test"]);
                c.authority_key_id = Some(aki.into());
                c
            };
            let c = vec![key("a", "aaaa"), key("b", "bbbb")];
            let f = analyze(&h, &c, &Thresholds::default());
            assert!(
                kinds(&f, "cloned.test").contains(&(kind, severity)),
                "{trusted:?}: {f:#?}"
            );
            let g = f.iter().find(|f| f.kind == kind).expect("finding");
            assert!(
                g.summary.contains("2 issuer keys under 1 issuer name"),
                "{}",
                g.summary
            );
        }
    }

    /// A change of CA happens on the server. The same takeover seen from
    /// the server's address at another TTL (a transparent interceptor nearer
    /// the client, e2guardian), or only through a CONNECT proxy while the
    /// old issuer answered direct (Privoxy), is not one.
    #[test]
    fn a_takeover_that_did_not_happen_on_the_server_is_medium() {
        let at = |id: &str, leaf: &str, ts: i64, ttl: i32| HandshakeRow {
            server_ttl: Some(ttl),
            ..hs(id, "www.shop.test", leaf, "10.0.0.1", ts)
        };
        let c = vec![
            cert("old", "CN=Issuing CA 1", "k1", &["www.shop.test"]),
            cert("new", "CN=Gateway CA", "k2", &["www.shop.test"]),
        ];
        let judge = |h: &[HandshakeRow]| {
            let f = analyze(h, &c, &Thresholds::default());
            let d = f.iter().find(|f| f.kind == Kind::IssuerDivergence).cloned();
            d.map(|d| (d.severity, d.summary)).expect("{f:#?}")
        };
        // The server's own change of CA: same address, same TTL.
        let same = [
            at("1", "old", 10, 63),
            at("2", "new", 20, 63),
            at("3", "new", 30, 63),
        ];
        let (sev, why) = judge(&same);
        assert_eq!(sev, Severity::Low, "{why}");
        assert!(why.contains("consistent with a change of CA"), "{why}");
        // From the same address, one hop nearer.
        let nearer = [
            at("1", "old", 10, 63),
            at("2", "new", 20, 64),
            at("3", "new", 30, 64),
        ];
        let (sev, why) = judge(&nearer);
        assert_eq!(sev, Severity::Medium, "{why}");
        assert!(
            why.contains("at 203.0.113.1:443 the server's packets came with TTL 64"),
            "{why}"
        );
        // No TTL known: nothing to tell.
        let unknown: Vec<HandshakeRow> = nearer
            .iter()
            .map(|h| HandshakeRow {
                server_ttl: None,
                ..h.clone()
            })
            .collect();
        assert_eq!(judge(&unknown).0, Severity::Low);
        // The new issuer only through a CONNECT proxy.
        let mut proxied = same.to_vec();
        for h in &mut proxied[1..] {
            h.connect_target = Some("www.shop.test:443".into());
            h.server_ip = "192.0.2.1".into();
            h.server_port = 3128;
        }
        let (sev, why) = judge(&proxied);
        assert_eq!(sev, Severity::Medium, "{why}");
        assert!(
            why.contains("CN=Gateway CA answered only through a CONNECT proxy"),
            "{why}"
        );
    }
}
