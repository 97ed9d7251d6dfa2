//! Issue 27: the incidents table against the corpus ground truth. Each
//! interceptor of a corpus or interop capture is exactly one incident that
//! names every name it intercepted (where its certificate was visible in at
//! least one intercepted connection) and no clean name, with and without the
//! capture's trust store; a capture without an interceptor has none; the
//! incidents are the same when `analyze` judges the connections in groups.

use std::collections::BTreeSet;

use certsift::output::read_scan;
use certsift::rows::IncidentRow;
use serde_json::Value;

use crate::{anchors_of, capture, cert_visible, certsift, keylog, manifest, scan_trusting};

/// Scans `file` with the capture's key log (when it has one), with or
/// without its trust store; returns the incidents.
fn incidents_of(name: &str, file: &str, trust_store: bool) -> Vec<IncidentRow> {
    let log = keylog(name);
    let mut extra: Vec<&str> = Vec::new();
    if let Some(l) = &log {
        extra.extend(["--keylog", l.as_str()]);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = if trust_store {
        let (d, out) = scan_trusting(&[file], &anchors_of(name), &extra);
        let tables = read_scan(d.path()).expect("tables");
        assert_eq!(out.status.code(), Some(0), "{name}");
        return tables.incidents;
    } else {
        let o = dir.path().to_str().expect("utf-8").to_string();
        let cap = capture(file);
        let mut args = vec!["scan", "-q", "-o", &o];
        args.extend(extra);
        args.push(cap.to_str().expect("utf-8"));
        certsift(&args)
    };
    assert_eq!(out.status.code(), Some(0), "{name}");
    read_scan(dir.path()).expect("tables").incidents
}

/// The names a manifest marks intercepted with a visible certificate, and
/// those it marks clean or benign.
fn truth(name: &str) -> (BTreeSet<String>, BTreeSet<String>, usize) {
    let m = manifest(name);
    let flows = m["flows"].as_array().expect("flows");
    let decrypts = keylog(name).is_some() || name.contains("dsb");
    let mut intercepted = BTreeSet::new();
    let mut clean = BTreeSet::new();
    for (sni, v) in m["sni_verdicts"].as_object().expect("verdicts") {
        match v["verdict"].as_str().unwrap_or_default() {
            "intercepted" => {
                let visible = v["intercepted_flows"]
                    .as_array()
                    .map(|ids| {
                        ids.iter().filter_map(Value::as_i64).any(|id| {
                            flows.iter().any(|f| {
                                f["flow_index"].as_i64() == Some(id) && cert_visible(f, decrypts)
                            })
                        })
                    })
                    .unwrap_or(false);
                if visible {
                    intercepted.insert(sni.clone());
                }
            }
            "clean" | "benign-multi-cert" => {
                clean.insert(sni.clone());
            }
            _ => {}
        }
    }
    // interop manifests list tunnelling proxies that intercept nothing
    let interceptors = m["interceptors"].as_object().map_or(0, |o| {
        o.values()
            .filter(|i| {
                !i["mode"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("no interception")
            })
            .count()
    });
    (intercepted, clean, interceptors)
}

fn check(name: &str, file: &str) {
    let (intercepted, clean, interceptors) = truth(name);
    for trust_store in [true, false] {
        let incidents = incidents_of(name, file, trust_store);
        let ctx = format!(
            "{name} ({} trust store): {incidents:#?}",
            if trust_store { "with" } else { "without" }
        );
        if interceptors == 0 {
            assert!(incidents.is_empty(), "no interceptor, yet {ctx}");
            continue;
        }
        if intercepted.is_empty() {
            // every intercepted certificate encrypted: at most a suspicion
            assert!(incidents.len() <= 1, "{ctx}");
        } else {
            assert_eq!(incidents.len(), 1, "one interceptor, one incident: {ctx}");
        }
        for i in &incidents {
            let names: BTreeSet<String> = i.names.iter().cloned().collect();
            let missing: Vec<&String> = intercepted.difference(&names).collect();
            assert!(missing.is_empty(), "names {missing:?} missing: {ctx}");
            let wrong: Vec<&String> = clean.intersection(&names).collect();
            assert!(wrong.is_empty(), "clean names {wrong:?} named: {ctx}");
            assert!(!i.finding_ids.is_empty() && !i.summary.is_empty(), "{ctx}");
            assert!(i.accepted_connections + i.refused_connections <= i.connections);
        }
    }
}

macro_rules! incident_test {
    ($test:ident, $name:literal, $file:literal) => {
        #[test]
        fn $test() {
            check($name, $file);
        }
    };
}

incident_test!(
    issue_27_s01,
    "s01_baseline_direct",
    "s01_baseline_direct.pcap"
);
incident_test!(
    issue_27_s02,
    "s02_transparent_mitm_mixed",
    "s02_transparent_mitm_mixed.pcap"
);
incident_test!(
    issue_27_s03,
    "s03_sslsplit_all_intercepted",
    "s03_sslsplit_all_intercepted.pcap"
);
incident_test!(
    issue_27_s04,
    "s04_explicit_proxy_connect",
    "s04_explicit_proxy_connect.pcap"
);
incident_test!(
    issue_27_s05,
    "s05_benign_multicert",
    "s05_benign_multicert.pcap"
);
incident_test!(
    issue_27_s06,
    "s06_ipv6_dualstack",
    "s06_ipv6_dualstack.pcap"
);
incident_test!(issue_27_s07, "s07_tls13_keylog", "s07_tls13_keylog.pcap");
incident_test!(
    issue_27_s07_dsb,
    "s07_tls13_keylog_dsb",
    "s07_tls13_keylog_dsb.pcapng"
);
incident_test!(
    issue_27_s08,
    "s08_linktypes_en10mb",
    "s08_linktypes_en10mb.pcap"
);
incident_test!(
    issue_27_s08_sll2,
    "s08_linktypes_sll2",
    "s08_linktypes_sll2.pcap"
);
incident_test!(issue_27_s09, "s09_vlan_trunk", "s09_vlan_trunk.pcap");
incident_test!(
    issue_27_s10,
    "s10_lossy_retransmissions",
    "s10_lossy_retransmissions.pcap"
);
incident_test!(
    issue_27_squid_go_bump,
    "interop_squid_go_bump",
    "interop_squid_go_bump.pcap"
);
incident_test!(
    issue_27_squid_jdk_chromium,
    "interop_squid_jdk_chromium",
    "interop_squid_jdk_chromium.pcap"
);
incident_test!(
    issue_27_privoxy,
    "interop_privoxy_go",
    "interop_privoxy_go.pcap"
);
incident_test!(
    issue_27_e2guardian,
    "interop_e2guardian_botan",
    "interop_e2guardian_botan.pcap"
);
incident_test!(
    issue_27_mitmproxy_socks5,
    "interop_mitmproxy_socks5",
    "interop_mitmproxy_socks5.pcap"
);
incident_test!(
    issue_27_benign_tunnel,
    "interop_benign_tunnel",
    "interop_benign_tunnel.pcap"
);

/// Two unrelated interceptors in one run are two incidents; the incidents
/// are the same when `analyze` judges the connections one group at a time,
/// and for any thread count.
#[test]
fn issue_27_two_interceptors_and_grouped_analyze_agree() {
    let files = [
        "s02_transparent_mitm_mixed.pcap",
        "s03_sslsplit_all_intercepted.pcap",
        "s05_benign_multicert.pcap",
    ];
    let (a, out) = crate::scan(&files, &[]);
    assert_eq!(out.status.code(), Some(0));
    let (b, _) = crate::scan(&files, &["--threads", "1"]);
    let one = read_scan(a.path()).expect("a").incidents;
    assert_eq!(one, read_scan(b.path()).expect("b").incidents);
    let issuers: BTreeSet<&str> = one
        .iter()
        .filter_map(|i| i.interceptor_issuer.as_deref())
        .collect();
    assert_eq!(one.len(), 2, "{one:#?}");
    assert!(
        issuers.iter().any(|i| i.contains("mitmproxy")),
        "{issuers:?}"
    );
    assert!(
        issuers.iter().any(|i| i.contains("SSLsplit")),
        "{issuers:?}"
    );
    let src = a.path().to_str().expect("utf-8");
    for max in ["1000000", "3"] {
        let out_dir = tempfile::tempdir().expect("tempdir");
        let o = out_dir.path().to_str().expect("utf-8");
        let out = certsift(&["analyze", src, "-o", o, "--max-in-memory", max]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let merged = read_scan(out_dir.path()).expect("merged").incidents;
        assert_eq!(merged, one, "analyze --max-in-memory {max}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("incidents 2"), "{text}");
    }
}

/// `--fail-on` counts incidents: s02 has a high one, s05 none (its low
/// findings still count for `--fail-on low`).
#[test]
fn issue_27_fail_on_counts_incidents() {
    let (_d, out) = crate::scan(&["s02_transparent_mitm_mixed.pcap"], &["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(1));
    let (_d, out) = crate::scan(&["s05_benign_multicert.pcap"], &["--fail-on", "medium"]);
    assert_eq!(out.status.code(), Some(0));
    let (_d, out) = crate::scan(&["s05_benign_multicert.pcap"], &["--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(1));
}
