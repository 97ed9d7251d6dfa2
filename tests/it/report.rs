//! `certsift report`: the HTML page built from a scan of a corpus capture is
//! self-contained and shows every name, finding and count of the tables.

use std::collections::{BTreeMap, BTreeSet};

use certsift::output::read_scan;
use certsift::rows::Severity;

use crate::{certsift, scan};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn report_of_s02_matches_the_tables() {
    let (dir, out) = scan(&["s02_transparent_mitm_mixed.pcap"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = dir.path().join("report.html");
    let out = certsift(&[
        "report",
        dir.path().to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let tables = read_scan(dir.path()).unwrap();
    let (hs, certs, findings) = (&tables.handshakes, &tables.certificates, &tables.findings);
    assert!(!findings.is_empty(), "s02 has interception");

    // Self-contained: nothing fetched, nothing run.
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(!html.contains(" src="));
    assert!(!html.contains("https://"));
    assert_eq!(
        html.matches("http://").count(),
        html.matches(r#"xmlns="http://www.w3.org/2000/svg""#)
            .count()
    );

    // Totals.
    let names: BTreeSet<&str> = hs
        .iter()
        .map(|h| h.sni.as_deref().unwrap_or("(no SNI)"))
        .collect();
    let mut by_name: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut sev: BTreeMap<&str, Severity> = BTreeMap::new();
    for h in hs {
        if let Some(s) = h.sni.as_deref() {
            by_name.entry(s).or_default().insert(h.flow_id.as_str());
        }
    }
    for f in findings {
        let s = f.severity;
        let fnames: Vec<&str> = match &f.sni {
            Some(n) => vec![n.as_str()],
            None => f.names.iter().map(String::as_str).collect(),
        };
        for n in fnames {
            let e = sev.entry(n).or_insert(s);
            *e = (*e).max(s);
            let set = by_name.entry(n).or_default();
            for id in &f.flow_ids {
                if hs.iter().any(|h| &h.flow_id == id) {
                    set.insert(id.as_str());
                }
            }
        }
    }
    let intercepted = sev.values().filter(|s| **s >= Severity::Medium).count();
    assert!(intercepted >= 1);
    let head = format!(
        r#"<main data-connections="{}" data-names="{}" data-certificates="{}" data-findings="{}" data-intercepted-names="{}">"#,
        hs.len(),
        names.len(),
        certs.len(),
        findings.len(),
        intercepted
    );
    assert!(html.contains(&head), "expected {head}");
    assert!(html.contains(&format!(
        "interception evidence on <b>{intercepted} server name"
    )));

    // issue 27: the verdict is the incidents table, rendered.
    let incidents = &tables.incidents;
    assert_eq!(incidents.len(), 1);
    assert!(html.contains(&format!(r#"data-incidents="{}""#, incidents.len())));
    for i in incidents {
        assert!(html.contains(&format!(r#"data-incident="{}""#, esc(&i.incident_id))));
        assert!(html.contains(&esc(&i.summary)), "{}", i.summary);
        assert!(html.contains(&format!(
            "{} ({} / {})",
            i.connections, i.accepted_connections, i.refused_connections
        )));
    }

    // Every finding, with its counts and sentence.
    for f in findings {
        let attrs = format!(
            r#"data-finding="{}" data-connections="{}" data-clients="{}" data-certificates="{}""#,
            esc(&f.finding_id),
            f.flow_ids.len(),
            f.clients.len(),
            f.cert_sha256.len()
        );
        assert!(html.contains(&attrs), "expected {attrs}");
        assert!(html.contains(&esc(&f.summary)), "{}", f.summary);
        for c in &f.cert_sha256 {
            assert!(html.contains(&format!(r#"id="c-{c}""#)), "card for {c}");
        }
    }

    // Every name with a finding has a section with its connection count and
    // a timeline; every other name is listed.
    for (n, _) in sev.iter() {
        let attrs = format!(
            r#"data-name="{}" data-connections="{}""#,
            esc(n),
            by_name.get(n).map_or(0, BTreeSet::len)
        );
        assert!(html.contains(&attrs), "expected {attrs}");
    }
    assert_eq!(
        html.matches(r#"<svg class="timeline""#).count(),
        sev.keys()
            .filter(|n| by_name.get(*n).is_some_and(|s| !s.is_empty()))
            .count()
    );
    for n in &names {
        assert!(html.contains(&esc(n)), "{n}");
    }
}

/// `certsift report` and `summary` read only the handshake columns they name;
/// what they produce from those alone equals what they produce from every
/// column, so a column used but not named cannot go unnoticed. The report
/// read from the folder batch by batch equals the report of the rows held
/// in memory.
#[test]
fn report_and_summary_need_only_their_columns() {
    let (dir, out) = scan(
        &[
            "s02_transparent_mitm_mixed.pcap",
            "s03_sslsplit_all_intercepted.pcap",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let full = read_scan(dir.path()).unwrap();
    let opts = certsift::html::RenderOptions {
        products: certsift::analysis::products()
            .iter()
            .map(|p| (p.pattern.clone(), p.product.clone()))
            .collect(),
        ..Default::default()
    };
    let page = |s: &certsift::output::Scan| {
        certsift::html::render(
            &s.handshakes,
            &s.certificates,
            &s.findings,
            &s.incidents,
            &opts,
        )
    };
    let columns: Vec<&str> = certsift::html::COUNT_COLUMNS
        .iter()
        .chain(certsift::html::BIN_COLUMNS)
        .copied()
        .collect();
    let some = certsift::output::read_scan_columns(dir.path(), Some(&columns)).unwrap();
    assert_ne!(
        some.handshakes, full.handshakes,
        "the projection drops columns"
    );
    assert_eq!(page(&some), page(&full));
    // issue 28: the page built from the folder, reading the handshakes a
    // batch at a time (two passes, fewer columns each) and the findings'
    // flow ids apart, is the page built from every row in memory.
    let streamed = certsift::html::render_dir(dir.path(), &opts).unwrap();
    assert_eq!(streamed, page(&full));
    let some =
        certsift::output::read_scan_columns(dir.path(), Some(certsift::summary::HANDSHAKE_COLUMNS))
            .unwrap();
    let totals = |s: &certsift::output::Scan| certsift::summary::Totals::from_tables(s).human();
    assert_eq!(totals(&some), totals(&full));
}
