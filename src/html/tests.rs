//! Unit tests of the HTML report: escaping of hostile strings, every finding,
//! name and count on the page, well-formed markup, and (ignored by default)
//! the render time for 100,000 connections and 5,000 names.

use super::text::esc;
use super::*;
use crate::rows::Severity;

const T0: i64 = 1_795_871_671_000_000;

fn hs(
    id: &str,
    t: i64,
    client: &str,
    sni: &str,
    leaf: Option<&str>,
    trusted: Option<bool>,
) -> HandshakeRow {
    HandshakeRow {
        flow_id: id.into(),
        file: "x.pcap".into(),
        ts_start: t,
        ts_end: t + 1000,
        client_ip: client.into(),
        client_port: 40000,
        server_ip: "203.0.113.10".into(),
        server_port: 443,
        sni: Some(sni.into()),
        fingerprints: crate::tls::Fingerprints {
            ja3: Some("f7e3efed3265ef03512f40b4510e7137".into()),
            ja4: Some("t13d1516h2_8daaf6152771_02713d6af862".into()),
            ..Default::default()
        },
        cert_chain_sha256: leaf
            .map(|l| vec![l.to_string(), "root".into()])
            .unwrap_or_default(),
        leaf_sha256: leaf.map(str::to_string),
        cert_visibility: if leaf.is_some() { "plain" } else { "encrypted" }.into(),
        chain_trusted: trusted,
        trust_reason: (trusted == Some(false)).then_some(crate::x509::TrustReason::UnknownIssuer),
        ..Default::default()
    }
}

fn cert(sha: &str, cn: &str, issuer: &str, trusted: Option<bool>) -> CertRow {
    CertRow {
        info: crate::x509::CertInfo {
            sha256: sha.into(),
            spki_pin: format!("pin-{sha}="),
            subject: format!("CN={cn}"),
            issuer: issuer.into(),
            subject_cn: Some(cn.into()),
            not_before: Some(T0 - 30_000_000),
            not_after: Some(T0 + 86_400_000_000 * 365),
            san_dns: vec![cn.into()],
            ..Default::default()
        },
        trusted,
        first_seen: T0,
        last_seen: T0,
        flow_count: 1,
        ..Default::default()
    }
}

const EVIL: &str = "<script>alert(\"x\")</script>&'bänk.例え.test";
const EVIL_ISSUER: &str = "CN=<img src=x onerror=alert(1)>,O=\"Evil\" & Co";

/// A small scan: one name intercepted by a hostile-named issuer, one benign.
fn hostile() -> (Vec<HandshakeRow>, Vec<CertRow>, Vec<FindingRow>) {
    let good = "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US";
    let forged = |sha: &str, cn: &str| {
        let mut c = cert(sha, cn, EVIL_ISSUER, Some(false));
        c.spki_sha256 = "k1".into();
        c
    };
    let certs = vec![
        cert("aa", EVIL, good, Some(true)),
        forged("bb", EVIL),
        cert("cc", "quiet.test", good, Some(true)),
        forged("dd", "other.test"),
        CertRow {
            info: crate::x509::CertInfo {
                sha256: "root".into(),
                subject: good.into(),
                issuer: "CN=Root".into(),
                is_ca: true,
                ..Default::default()
            },
            ..Default::default()
        },
    ];
    let handshakes = vec![
        hs("f1", T0, "192.0.2.10", EVIL, Some("aa"), Some(true)),
        hs(
            "f2",
            T0 + 10_000_000,
            "192.0.2.11",
            EVIL,
            Some("bb"),
            Some(false),
        ),
        hs(
            "f3",
            T0 + 20_000_000,
            "192.0.2.\"12",
            EVIL,
            Some("bb"),
            Some(false),
        ),
        hs("f4", T0 + 30_000_000, "192.0.2.10", EVIL, None, None),
        hs(
            "f5",
            T0 + 40_000_000,
            "192.0.2.10",
            "quiet.test",
            Some("cc"),
            Some(true),
        ),
    ];
    let findings = vec![FindingRow {
        finding_id: "<id&1>".into(),
        kind: crate::analysis::Kind::IssuerDivergence,
        severity: Severity::High,
        sni: Some(EVIL.into()),
        names: vec![EVIL.into()],
        summary: format!("{EVIL} was answered by <b>2</b> issuers & more"),
        flow_ids: vec![
            "f1".into(),
            "f2".into(),
            "f3".into(),
            "f4".into(),
            "missing".into(),
        ],
        cert_sha256: vec!["aa".into(), "bb".into()],
        clients: vec![
            "192.0.2.10".into(),
            "192.0.2.11".into(),
            "192.0.2.\"12".into(),
        ],
        issuers: vec![good.into(), EVIL_ISSUER.into()],
        first_seen: T0,
        last_seen: T0 + 30_000_000,
        accused_sha256: vec!["bb".into()],
    }];
    (handshakes, certs, findings)
}

/// The incidents table of [`hostile`]: the hostile issuer intercepted its
/// name, as the analysis would say.
fn incidents() -> Vec<IncidentRow> {
    vec![IncidentRow {
        incident_id: "<inc&1>".into(),
        severity: Severity::High,
        verdict: "intercepted".into(),
        interceptor: format!("{EVIL_ISSUER} (Evil <Proxy>)"),
        interceptor_issuer: Some(EVIL_ISSUER.into()),
        interceptor_product: Some("Evil <Proxy>".into()),
        interceptor_path: vec!["answered at server TTL <64>".into()],
        issuers: vec![EVIL_ISSUER.into()],
        cert_sha256: vec!["bb".into()],
        names: vec![EVIL.into()],
        clients: vec!["192.0.2.11".into(), "192.0.2.\"12".into()],
        first_seen: T0 + 10_000_000,
        last_seen: T0 + 20_000_000,
        connections: 2,
        accepted_connections: 2,
        finding_ids: vec!["<id&1>".into()],
        summary: "the <b>evil</b> proxy intercepted 1 name".into(),
        ..IncidentRow::default()
    }]
}

/// Checks that `html` (after the doctype, skipping `<style>` content) is
/// well-formed XML: nested tags, quoted attributes, known entities only, no
/// raw `<` or `>` in text.
fn check_well_formed(html: &str) {
    let body = html
        .strip_prefix("<!DOCTYPE html>\n")
        .unwrap_or_else(|| panic!("no doctype"));
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag: {}", &after[..after.len().min(80)]));
            let tag = &after[..end];
            rest = &after[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().unwrap_or_else(|| panic!("stray </{name}>"));
                assert_eq!(open, name, "mismatched close");
            } else {
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let name = tag.split([' ', '\n']).next().unwrap_or("");
                assert!(
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "bad tag name in <{tag}>"
                );
                // Attributes: name="value", value free of < and ".
                let mut attrs = tag[name.len()..].trim();
                while !attrs.is_empty() {
                    let eq = attrs
                        .find("=\"")
                        .unwrap_or_else(|| panic!("bad attrs in <{tag}>"));
                    let an = &attrs[..eq];
                    assert!(
                        an.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                        "attr {an:?} in <{tag}>"
                    );
                    let v = &attrs[eq + 2..];
                    let close = v.find('"').unwrap_or_else(|| panic!("unquoted in <{tag}>"));
                    assert!(!v[..close].contains('<'), "< in attribute of <{tag}>");
                    check_entities(&v[..close]);
                    attrs = v[close + 1..].trim_start();
                }
                if !self_closing {
                    stack.push(name);
                    if name == "style" {
                        let end = rest
                            .find("</style>")
                            .unwrap_or_else(|| panic!("unclosed style"));
                        rest = &rest[end..];
                    }
                }
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            assert!(!text.contains('>'), "raw > in text: {text}");
            check_entities(text);
            rest = &rest[end..];
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

fn check_entities(s: &str) {
    for (i, _) in s.match_indices('&') {
        let e = &s[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .iter()
                .any(|k| e.starts_with(k)),
            "bad entity at {}",
            &e[..e.len().min(20)]
        );
    }
}

#[test]
fn hostile_strings_are_escaped_and_markup_is_well_formed() {
    let (h, c, f) = hostile();
    let opts = RenderOptions {
        title: "Case <42> & \"friends\"".into(),
        generated_at: T0,
        products: vec![("\"evil\" & co".into(), "Evil <Proxy>".into())],
    };
    let html = render(&h, &c, &f, &incidents(), &opts);
    check_well_formed(&html);
    assert!(!html.contains("<script"), "raw script tag");
    assert!(!html.contains("<img"), "raw img tag");
    assert!(!html.contains("<b>2</b>"));
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;bänk.例え.test")
    );
    assert!(html.contains("Case &lt;42&gt; &amp; &quot;friends&quot;"));
    assert!(html.contains("&lt;id&amp;1&gt;"));
    assert!(html.contains("192.0.2.&quot;12"));
    // The hostile issuer is the interceptor and matches the product list.
    assert!(html.contains("Evil &lt;Proxy&gt;"));
    assert!(html.contains("Incidents (suspected interceptors)"));
    assert!(html.contains("data-incidents=\"1\""));
    assert!(html.contains("&lt;inc&amp;1&gt;"));
    assert!(html.contains("the &lt;b&gt;evil&lt;/b&gt; proxy"));
    assert!(html.contains("first interceptor certificate"));
}

#[test]
fn every_finding_name_and_count_is_on_the_page() {
    let (h, c, f) = hostile();
    let html = render(&h, &c, &f, &incidents(), &RenderOptions::default());
    assert!(html.contains(r#"data-connections="5" data-names="2" data-certificates="5" data-findings="1" data-intercepted-names="1""#));
    for x in &f {
        assert!(html.contains(&format!("data-finding=\"{}\"", esc(&x.finding_id))));
        assert!(html.contains(&format!("data-connections=\"{}\"", x.flow_ids.len())));
        assert!(html.contains(&format!("data-clients=\"{}\"", x.clients.len())));
        assert!(html.contains(&esc(&x.summary)));
    }
    // Names with and without findings.
    assert!(html.contains(&format!(
        "data-name=\"{}\" data-connections=\"4\"",
        esc(EVIL)
    )));
    assert!(html.contains("quiet.test"));
    // Evidence rows: four known flows, one missing id counted.
    for id in ["f1", "f2", "f3", "f4"] {
        assert!(html.contains(&format!("<code>{id}</code>")), "{id}");
    }
    assert!(html.contains("not in the handshakes table"));
    assert!(html.contains("2 clients</b> received an interceptor"));
    // Certificate cards with chain and pin.
    assert!(html.contains(r#"id="c-aa""#) && html.contains(r#"id="c-bb""#));
    assert!(html.contains(r#"id="c-root""#));
    assert!(html.contains("pin-bb="));
    assert!(html.contains("Chain as sent"));
    assert!(html.contains("issued 30 s before first use"));
    assert!(html.contains("same key in 2 certificates"));
}

#[test]
fn svg_basics() {
    let (h, c, f) = hostile();
    let html = render(&h, &c, &f, &incidents(), &RenderOptions::default());
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), 1);
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert!(html.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
    // One row per client, three clients.
    assert_eq!(html.matches(r#"class="rl""#).count(), 3);
}

#[test]
fn empty_scan_and_no_findings() {
    let html = render(&[], &[], &[], &[], &RenderOptions::default());
    check_well_formed(&html);
    assert!(html.contains("No interception evidence"));
    let (h, c, _) = hostile();
    let html = render(&h, &c, &[], &[], &RenderOptions::default());
    check_well_formed(&html);
    assert!(html.contains("No interception evidence"));
    assert!(!html.contains("<svg class=\"timeline\""));
}

/// 100,000 connections, 5,000 names, 300 intercepted by a forging proxy.
fn big() -> (Vec<HandshakeRow>, Vec<CertRow>, Vec<FindingRow>) {
    let good = "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US";
    let bad = "O=mitmproxy,CN=mitmproxy";
    let mut certs = Vec::new();
    let mut handshakes = Vec::with_capacity(100_000);
    let mut findings = Vec::new();
    for n in 0..5000 {
        let name = format!("host{n}.example.test");
        certs.push(cert(&format!("g{n}"), &name, good, Some(true)));
        let intercepted = n < 300;
        if intercepted {
            certs.push(cert(&format!("m{n}"), &name, bad, Some(false)));
        }
        let mut ids = Vec::new();
        for k in 0..20 {
            let i = n * 20 + k;
            let mitm = intercepted && k >= 10;
            let leaf = if k % 7 == 6 {
                None
            } else if mitm {
                Some(format!("m{n}"))
            } else {
                Some(format!("g{n}"))
            };
            let id = format!("{i:016x}");
            ids.push(id.clone());
            handshakes.push(hs(
                &id,
                T0 + i64::from(i) * 36_000_000,
                &format!("10.0.{}.{}", k % 4, i % 250),
                &name,
                leaf.as_deref(),
                leaf.as_ref().map(|_| !mitm),
            ));
        }
        if intercepted {
            findings.push(FindingRow {
                finding_id: format!("f{n}"),
                kind: crate::analysis::Kind::IssuerDivergence,
                severity: Severity::High,
                sni: Some(name.clone()),
                names: vec![name.clone()],
                summary: format!("{name} was answered by 2 issuers"),
                flow_ids: ids,
                cert_sha256: vec![format!("g{n}"), format!("m{n}")],
                clients: vec!["10.0.0.1".into()],
                issuers: vec![good.into(), bad.into()],
                first_seen: T0,
                last_seen: T0,
                accused_sha256: vec![format!("m{n}")],
            });
        }
    }
    (handshakes, certs, findings)
}

#[test]
fn big_scan_is_capped() {
    let (h, c, f) = big();
    let html = render(&h, &c, &f, &incidents(), &RenderOptions::default());
    assert_eq!(
        html.matches("<section class=\"name").count(),
        MAX_NAME_SECTIONS
    );
    assert!(html.contains("and 100 more names with findings"));
    assert!(html.contains("and 3700 more names (see handshakes.parquet)"));
    assert!(html.len() < 20_000_000, "{}", html.len());
}

#[test]
#[ignore = "timing; run with --release -- --ignored --nocapture"]
fn render_time_100k_connections() {
    let (h, c, f) = big();
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let html = render(&h, &c, &f, &incidents(), &RenderOptions::default());
        best = best.min(t.elapsed());
        assert!(!html.is_empty());
    }
    let html = render(&h, &c, &f, &incidents(), &RenderOptions::default());
    println!(
        "render: {} connections, {} names, {} findings: best of 5 {:?}, {} bytes",
        h.len(),
        5000,
        f.len(),
        best,
        html.len()
    );
    assert!(best < std::time::Duration::from_secs(1));
}

/// The evidence table, chosen as the rows stream by in any order, shows
/// what the page always showed: the first connection of each (issuer,
/// trust, client) in time order, then the earliest others, up to the cap,
/// and counts the rest.
#[test]
fn evidence_rows_are_picked_as_from_a_sorted_list() {
    let (_, certs, _) = hostile();
    let n = 60;
    let rows: Vec<HandshakeRow> = (0..n)
        .map(|i| {
            let evil = i % 3 == 0;
            hs(
                &format!("f{i:02}"),
                T0 + i64::from((i * 37) % n) * 1_000_000,
                &format!("192.0.2.{}", i % 7),
                "x.test",
                Some(if evil { "bb" } else { "aa" }),
                Some(!evil),
            )
        })
        .collect();
    let finding = FindingRow {
        finding_id: "f".into(),
        kind: crate::analysis::Kind::IssuerDivergence,
        severity: Severity::High,
        sni: Some("x.test".into()),
        names: vec!["x.test".into()],
        flow_ids: rows.iter().map(|h| h.flow_id.clone()).collect(),
        ..Default::default()
    };
    let html = render(&rows, &certs, &[finding], &[], &RenderOptions::default());
    let mut by_time: Vec<&HandshakeRow> = rows.iter().collect();
    by_time.sort_by(|a, b| (a.ts_start, &a.flow_id).cmp(&(b.ts_start, &b.flow_id)));
    let mut keys = std::collections::HashSet::new();
    let mut picked: Vec<&HandshakeRow> = by_time
        .iter()
        .copied()
        .filter(|h| keys.insert((h.leaf_sha256.clone(), h.client_ip.clone())))
        .collect();
    for h in &by_time {
        if picked.len() < MAX_EVIDENCE_ROWS && !picked.iter().any(|p| p.flow_id == h.flow_id) {
            picked.push(h);
        }
    }
    picked.sort_by(|a, b| (a.ts_start, &a.flow_id).cmp(&(b.ts_start, &b.flow_id)));
    let table = html
        .split("<table class=\"conns\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_default();
    let shown: Vec<&str> = table
        .split("<code>")
        .filter_map(|c| c.split_once("</code></td></tr>").map(|(id, _)| id))
        .collect();
    let expected: Vec<&str> = picked.iter().map(|h| h.flow_id.as_str()).collect();
    assert_eq!(shown, expected);
    assert!(html.contains(&format!(
        "and {} more connections",
        rows.len() - MAX_EVIDENCE_ROWS
    )));
}
