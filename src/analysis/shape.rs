//! TLS 1.3 shape change. In: per name and server address, the TLS 1.3
//! connections whose certificate was encrypted, with the size of the
//! encrypted server flight and the JA3S. Out: Kind::Tls13ShapeChange when the
//! flight size falls into clusters further apart than
//! `shape_min_delta_bytes` and `shape_min_delta_ratio` (another certificate
//! chain, another server stack) or the JA3S changes. Alone that is "info"
//! (an RSA and an ECDSA chain differ by a few hundred bytes too); with other
//! medium or high evidence for the name it is "medium", and names the
//! encrypted connections that were probably intercepted as well. Also
//! "medium" alone when the sizes split by server TTL (each TTL its own size
//! range): another machine answered for the address, a transparent
//! interceptor's sign even with every certificate encrypted; and "medium"
//! when, for one name and client stack, the flights through an HTTP or
//! SOCKS CONNECT proxy differ in size from the direct ones: the proxy
//! answered itself instead of tunnelling.

use std::collections::{BTreeMap, BTreeSet};

use super::Connection;
use super::Kind;
use super::{finding, Evidence};
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;

/// The TLS 1.3 shape detector; `corroborated` holds the names that other
/// detectors already reported at medium or above.
pub fn shape_change(ev: &Evidence<'_>, corroborated: &BTreeSet<String>) -> Vec<FindingRow> {
    let mut out = Vec::new();
    for (name, flows) in &ev.groups {
        // QUIC flights (packet headers, padding) are not comparable with
        // TLS records over TCP on the same address and port.
        let mut by_server: BTreeMap<(&str, i32, &str), Vec<&Connection>> = BTreeMap::new();
        for h in flows {
            if h.tls_version.as_deref() == Some("TLS 1.3")
                && &*h.cert_visibility == "encrypted"
                && h.server_flight_bytes > 0
            {
                by_server
                    .entry((h.server_ip.as_ref(), h.server_port, h.transport.as_ref()))
                    .or_default()
                    .push(h);
            }
        }
        if let Some(f) = proxy_shape(ev, name, flows) {
            out.push(f);
        }
        for ((ip, port, _), group) in by_server {
            if group.len() < 2 {
                continue;
            }
            let clusters = cluster(ev, &group);
            let ja3s = server_stacks(&group);
            let hops = ttl_shapes(&group, ev.cfg.shape_ttl_min_gap_bytes);
            if clusters.len() < 2 && ja3s.len() < 2 && hops.is_none() {
                continue;
            }
            let severity = if corroborated.contains(name) || hops.is_some() {
                Severity::Medium
            } else {
                Severity::Info
            };
            let sizes: Vec<String> = clusters
                .iter()
                .map(|c| {
                    let lo = c.iter().map(|h| h.server_flight_bytes).min().unwrap_or(0);
                    let hi = c.iter().map(|h| h.server_flight_bytes).max().unwrap_or(0);
                    let clients: BTreeSet<&str> = c.iter().map(|h| h.client_ip.as_ref()).collect();
                    let range = if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}-{hi}")
                    };
                    format!(
                        "{} connection{} of {range} bytes (clients {})",
                        c.len(),
                        plural_s(c.len()),
                        clients.into_iter().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            let summary = format!(
                "{name} at {ip}:{port}: the encrypted TLS 1.3 server flight changed shape: {}{}; {}",
                sizes.join(" vs "),
                if ja3s.len() > 1 {
                    format!(", with {} different JA3S", ja3s.len())
                } else {
                    String::new()
                },
                match (&hops, severity) {
                    (Some(h), _) => format!(
                        "each shape came with its own server TTL ({h}): another machine, nearer \
                         or farther, answered for this address with another certificate or \
                         server stack, as a transparent interceptor does"
                    ),
                    (None, Severity::Medium) => "other evidence shows this name intercepted, so \
                                                 the differing encrypted connections were \
                                                 likely intercepted too"
                        .into(),
                    _ => "no other evidence for this name: another certificate or server stack"
                        .into(),
                }
            );
            out.push(finding(
                Kind::Tls13ShapeChange,
                severity,
                Some(name),
                &group,
                BTreeSet::new(),
                BTreeSet::new(),
                summary,
            ));
        }
    }
    out
}

/// When the flights from one address fall into groups by server TTL whose
/// sizes lie apart (every flight of one TTL smaller than every flight of the
/// next by at least `min_gap` bytes), the TTLs and sizes, for the summary. One server answers at
/// one distance whatever certificate it sends (RSA and ECDSA side by side
/// share the TTL); a transparent interceptor answers for the address from
/// another distance with its own certificate.
fn ttl_shapes(group: &[&Connection], min_gap: i64) -> Option<String> {
    let mut by_ttl: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    for h in group {
        let ttl = h.server_ttl?;
        let r = by_ttl
            .entry(ttl)
            .or_insert((h.server_flight_bytes, h.server_flight_bytes));
        r.0 = r.0.min(h.server_flight_bytes);
        r.1 = r.1.max(h.server_flight_bytes);
    }
    if by_ttl.len() < 2 {
        return None;
    }
    let mut ranges: Vec<(i64, i64)> = by_ttl.values().copied().collect();
    ranges.sort();
    if ranges.windows(2).any(|w| w[1].0 - w[0].1 < min_gap) {
        return None;
    }
    let parts: Vec<String> = by_ttl
        .iter()
        .map(|(ttl, (lo, hi))| {
            if lo == hi {
                format!("TTL {ttl}: {lo} bytes")
            } else {
                format!("TTL {ttl}: {lo}-{hi} bytes")
            }
        })
        .collect();
    Some(parts.join(", "))
}

/// A proxy that only tunnels (HTTP or SOCKS CONNECT) passes the server's
/// bytes unchanged, so a client stack's encrypted TLS 1.3 flight for a name
/// has one size whether it went through the proxy or direct; a proxy that
/// answers itself sends its own certificate, of another size. Per client
/// stack (the JA4 cipher and extension hashes, not its ALPN and counts, so
/// that a server's choice between RSA and ECDSA certificates is the same on
/// both sides), the proxied and the direct flights of a name; "medium" when
/// their sizes lie at least `shape_ttl_min_gap_bytes` apart and a single
/// change on the server (a renewal between them) cannot explain it.
fn proxy_shape(ev: &Evidence<'_>, name: &str, flows: &[&Connection]) -> Option<FindingRow> {
    let mut by_stack: BTreeMap<&str, [Vec<&Connection>; 2]> = BTreeMap::new();
    for h in flows {
        let encrypted = h.tls_version.as_deref() == Some("TLS 1.3")
            && &*h.cert_visibility == "encrypted"
            && h.server_flight_bytes > 0
            && &*h.transport != "quic";
        let stack = h
            .ja4
            .as_deref()
            .and_then(|j| j.split_once('_'))
            .map(|(_, bc)| bc);
        if let (true, Some(stack)) = (encrypted, stack) {
            let sides = by_stack.entry(stack).or_default();
            sides[usize::from(h.connect_target.is_some())].push(h);
        }
    }
    let range = |v: &[&Connection]| {
        let lo = v.iter().map(|h| h.server_flight_bytes).min().unwrap_or(0);
        let hi = v.iter().map(|h| h.server_flight_bytes).max().unwrap_or(0);
        (lo, hi)
    };
    let gap = ev.cfg.shape_ttl_min_gap_bytes;
    let mut involved: Vec<&Connection> = Vec::new();
    let mut parts = Vec::new();
    for (stack, [direct, proxied]) in &by_stack {
        if direct.is_empty() || proxied.is_empty() {
            continue;
        }
        let ((dl, dh), (pl, ph)) = (range(direct), range(proxied));
        if pl - dh < gap && dl - ph < gap {
            continue;
        }
        // A renewal or a change of CA between the direct and the proxied
        // connections changes the size too, once: it is ruled out when the
        // two kinds of connection interleave in time, or when the server's
        // TLS stack differs (a tunnel passes the ServerHello unchanged).
        let span = |v: &[&Connection]| {
            let ts = v.iter().map(|h| h.ts_start);
            (ts.clone().min().unwrap_or(0), ts.max().unwrap_or(0))
        };
        let ((d0, d1), (p0, p1)) = (span(direct), span(proxied));
        let interleaved = p0 <= d1 && d0 <= p1;
        let (jd, jp) = (server_stacks(direct), server_stacks(proxied));
        let other_stack = !jd.is_empty() && !jp.is_empty() && jd.is_disjoint(&jp);
        if !interleaved && !other_stack {
            continue;
        }
        let show = |lo: i64, hi: i64| {
            if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo}-{hi}")
            }
        };
        parts.push(format!(
            "{} bytes through the proxy vs {} direct (client stack …{})",
            show(pl, ph),
            show(dl, dh),
            stack.get(stack.len().saturating_sub(12)..).unwrap_or(stack)
        ));
        involved.extend(direct.iter().chain(proxied.iter()).copied());
    }
    if parts.is_empty() {
        return None;
    }
    involved.sort_by(|a, b| {
        a.ts_start
            .cmp(&b.ts_start)
            .then_with(|| a.flow_id.cmp(&b.flow_id))
    });
    let summary = format!(
        "{name}: the encrypted TLS 1.3 server flight changed shape between connections \
         through a proxy and direct ones from the same client stack: {}; a proxy that only \
         tunnels passes the server's flight unchanged, so the proxy answered with its own \
         certificate",
        parts.join("; ")
    );
    Some(finding(
        Kind::Tls13ShapeChange,
        Severity::Medium,
        Some(name),
        &involved,
        BTreeSet::new(),
        BTreeSet::new(),
        summary,
    ))
}

/// The JA3S of some connections.
fn server_stacks<'a>(v: &[&'a Connection]) -> BTreeSet<&'a str> {
    v.iter().filter_map(|h| h.ja3s.as_deref()).collect()
}

/// Flights sorted by size, split where neighbours differ by the thresholds.
fn cluster<'a>(ev: &Evidence<'_>, group: &[&'a Connection]) -> Vec<Vec<&'a Connection>> {
    let mut sorted = group.to_vec();
    sorted.sort_by(|a, b| {
        a.server_flight_bytes
            .cmp(&b.server_flight_bytes)
            .then_with(|| a.flow_id.cmp(&b.flow_id))
    });
    let mut clusters: Vec<Vec<&Connection>> = Vec::new();
    let mut prev: Option<i64> = None;
    for h in sorted {
        let size = h.server_flight_bytes;
        let split = prev.is_some_and(|p| {
            let delta = size - p;
            delta >= ev.cfg.shape_min_delta_bytes
                && (delta as f64) >= ev.cfg.shape_min_delta_ratio * (size as f64)
        });
        match clusters.last_mut() {
            Some(last) if !split => last.push(h),
            _ => clusters.push(vec![h]),
        }
        prev = Some(size);
    }
    clusters
}

#[cfg(test)]
mod tests {
    use crate::analysis::testutil::{cert, hs, hs_untrusted};
    use crate::analysis::Kind;
    use crate::analysis::{analyze, Thresholds};
    use crate::rows::HandshakeRow;
    use crate::rows::Severity;

    fn tls13(id: &str, client: &str, flight: i64) -> HandshakeRow {
        HandshakeRow {
            tls_version: Some("TLS 1.3".into()),
            cert_visibility: "encrypted".into(),
            leaf_sha256: None,
            cert_chain_sha256: vec![],
            chain_trusted: None,
            server_flight_bytes: flight,
            fingerprints: crate::tls::Fingerprints {
                ja3s: Some("j".into()),
                ..Default::default()
            },
            ..hs(id, "bank.test", "", client, 5)
        }
    }

    #[test]
    fn shape_change_is_info_alone_and_medium_with_other_evidence() {
        let mut h = vec![
            tls13("1", "10.0.0.1", 2620),
            tls13("2", "10.0.0.2", 1240),
            tls13("3", "10.0.0.1", 2625),
        ];
        let f = analyze(&h, &[], &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].kind, f[0].severity),
            (Kind::Tls13ShapeChange, Severity::Info)
        );
        h.push(hs("4", "bank.test", "a", "10.0.0.1", 1));
        h.push(hs_untrusted("5", "bank.test", "b", "10.0.0.2", 2));
        let c = vec![
            cert("a", "CN=Real", "k1", &["bank.test"]),
            cert("b", "CN=Evil", "k2", &["bank.test"]),
        ];
        let f = analyze(&h, &c, &Thresholds::default());
        let s = f.iter().find(|f| f.kind == Kind::Tls13ShapeChange).unwrap();
        assert_eq!(s.severity, Severity::Medium);
    }

    #[test]
    fn rsa_and_ecdsa_flights_do_not_split() {
        let h = vec![tls13("1", "10.0.0.1", 2196), tls13("2", "10.0.0.2", 2590)];
        let f = analyze(&h, &[], &Thresholds::default());
        assert!(f.is_empty(), "{f:#?}");
    }

    /// A transparent interceptor answers for the server's address from
    /// another distance: the flights split by server TTL, each TTL its own
    /// size, are medium with no other evidence. A route change (TTL moves
    /// for flights of one size) or RSA beside ECDSA at one TTL is not that.
    #[test]
    fn flights_that_split_by_ttl_are_medium_alone() {
        let at = |id: &str, flight: i64, ttl: i32| HandshakeRow {
            server_ttl: Some(ttl),
            ..tls13(id, "10.0.0.1", flight)
        };
        let judge = |h: &[HandshakeRow]| {
            let f = analyze(h, &[], &Thresholds::default());
            f.iter()
                .find(|f| f.kind == Kind::Tls13ShapeChange)
                .map(|f| (f.severity, f.summary.clone()))
        };
        // 1609 vs 1198-1214 bytes: closer than the size clusters' 400 bytes.
        let split = [at("1", 1609, 63), at("2", 1198, 64), at("3", 1214, 64)];
        let (sev, why) = judge(&split).expect("a finding");
        assert_eq!(sev, Severity::Medium, "{why}");
        assert!(
            why.contains("TTL 63: 1609 bytes, TTL 64: 1198-1214 bytes"),
            "{why}"
        );
        // The route changed: TTLs differ but sizes overlap or nearly so.
        let route = [at("1", 1609, 63), at("2", 1611, 64), at("3", 1607, 64)];
        assert_eq!(judge(&route), None);
        let near = [at("1", 1609, 63), at("2", 1580, 64)];
        assert_eq!(judge(&near), None);
        // RSA and ECDSA side by side at one distance: nothing, as before.
        let one = [at("1", 2196, 63), at("2", 2590, 63)];
        assert_eq!(judge(&one), None);
        // A flight with no TTL known: no split to tell (and the sizes are
        // one cluster).
        let mut unknown = split.to_vec();
        unknown[0].server_ttl = None;
        assert_eq!(judge(&unknown), None);
    }

    /// Through a CONNECT proxy that tunnels, a client stack gets the
    /// server's own flight; a proxy that answers itself sends another.
    #[test]
    fn a_proxy_that_answers_itself_changes_the_flight() {
        let via = |id: &str, flight: i64, proxied: bool, ja4: &str| {
            let mut h = HandshakeRow {
                connect_target: proxied.then(|| "bank.test:443".to_string()),
                server_ip: if proxied { "192.0.2.1" } else { "203.0.113.1" }.into(),
                ..tls13(id, "10.0.0.1", flight)
            };
            h.fingerprints.ja4 = Some(ja4.into());
            h
        };
        let go = "t13d1910h1_9dc949149365_97f8aa674fd9";
        let go_no_alpn = "t13d191000_9dc949149365_97f8aa674fd9";
        let other = "t13d3112h1_e8f1e7e78f70_b26ce05bbdd6";
        let judge = |h: &[HandshakeRow]| {
            let f = analyze(h, &[], &Thresholds::default());
            f.iter()
                .find(|f| f.kind == Kind::Tls13ShapeChange)
                .map(|f| (f.severity, f.summary.clone()))
        };
        let at = |h: HandshakeRow, ts_s: i64| HandshakeRow {
            ts_start: ts_s * 1_000_000,
            ..h
        };
        // Squid: 1701 bytes through the proxy, 1609 direct before and after
        // it; ALPN differs.
        let bumped = [
            at(via("1", 1609, false, go), 1),
            at(via("2", 1701, true, go_no_alpn), 2),
            at(via("3", 1609, false, go), 3),
        ];
        let (sev, why) = judge(&bumped).expect("a finding");
        assert_eq!(sev, Severity::Medium, "{why}");
        assert!(
            why.contains("1701 bytes through the proxy vs 1609 direct"),
            "{why}"
        );
        // Direct before, proxied after, one server stack: a renewal between
        // them would look the same.
        let once = [
            at(via("1", 1609, false, go), 1),
            at(via("2", 1701, true, go), 2),
        ];
        assert_eq!(judge(&once), None);
        // ... unless the proxy's ServerHello is another stack's (mitmproxy).
        let mut restacked = once.clone();
        restacked[1].fingerprints.ja3s = Some("mitmproxy".into());
        assert_eq!(judge(&restacked).map(|f| f.0), Some(Severity::Medium));
        // A tunnel: the server's flight either way (a signature's bytes).
        let tunnel = [via("1", 1609, false, go), via("2", 1611, true, go)];
        assert_eq!(judge(&tunnel), None);
        // Another client stack direct (the server may pick another
        // certificate for it): not compared.
        let stacks = [via("1", 2610, false, other), via("2", 1302, true, go)];
        assert_eq!(judge(&stacks), None);
    }
}
