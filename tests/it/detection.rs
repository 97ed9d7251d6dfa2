//! Interception detection against the corpus ground truth, per capture and
//! per server name (issue 6), with and without the corpus trust store: every
//! name the manifest marks intercepted has a medium or high finding naming it
//! (when its certificate was visible in at least one intercepted connection;
//! TLS 1.3 certificates stay encrypted without key logs), and no name marked
//! clean or benign-multi-cert has one. Names without SNI are judged as
//! "(no-sni)@server:port", as the manifests write them.

use certsift::output::read_scan;
use certsift::rows::FindingRow;
use serde_json::Value;

use crate::{anchors_of, capture, cert_visible, certsift, keylog, manifest, scan, scan_trusting};
use certsift::rows::Severity;

/// Scans one capture without any extra trust anchor.
fn scan_without_trust_store(
    file: &str,
    extra: &[&str],
) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8").to_string();
    let cap = capture(file);
    let mut args = vec!["scan", "-q", "-o", &out];
    args.extend(extra);
    args.push(cap.to_str().expect("utf-8"));
    let output = certsift(&args);
    (dir, output)
}

/// Returns the per-name mismatches between findings and the manifest.
fn judge(name: &str, findings: &[FindingRow], decrypted: bool) -> Vec<String> {
    let m = manifest(name);
    let flows = m["flows"].as_array().expect("flows");
    let serious = |sni: &str| {
        findings.iter().any(|f| {
            f.names.iter().any(|n| n == sni)
                && (f.severity == Severity::High || f.severity == Severity::Medium)
        })
    };
    let mut problems = Vec::new();
    for (sni, v) in m["sni_verdicts"].as_object().expect("verdicts") {
        let verdict = v["verdict"].as_str().unwrap_or_default();
        let visible = v["intercepted_flows"]
            .as_array()
            .map(|ids| {
                ids.iter().filter_map(Value::as_i64).any(|id| {
                    flows
                        .iter()
                        .any(|f| f["flow_index"].as_i64() == Some(id) && cert_visible(f, decrypted))
                })
            })
            .unwrap_or(false);
        match verdict {
            "intercepted" if visible && !serious(sni) => {
                problems.push(format!("{sni}: intercepted, but no medium or high finding"))
            }
            "clean" | "benign-multi-cert" if serious(sni) => {
                let accusing: Vec<String> = findings
                    .iter()
                    .filter(|f| f.names.iter().any(|n| n == sni))
                    .filter(|f| f.severity == Severity::High || f.severity == Severity::Medium)
                    .map(|f| format!("{} {}: {}", f.severity, f.kind, f.summary))
                    .collect();
                problems.push(format!("{sni}: {verdict}, but accused: {accusing:#?}"));
            }
            _ => {}
        }
    }
    problems
}

fn check(name: &str, file: &str) {
    let log = keylog(name);
    for (trust_store, with_keys) in [(true, false), (false, false), (true, true), (false, true)] {
        let mut extra: Vec<&str> = Vec::new();
        if let (true, Some(l)) = (with_keys, &log) {
            extra.extend(["--keylog", l.as_str()]);
        }
        let decrypted = (with_keys && log.is_some()) || name.contains("dsb");
        let (dir, out) = if trust_store {
            scan_trusting(&[file], &anchors_of(name), &extra)
        } else {
            scan_without_trust_store(file, &extra)
        };
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tables = read_scan(dir.path()).expect("tables");
        let problems = judge(name, &tables.findings, decrypted);
        assert!(
            problems.is_empty(),
            "{name} ({} trust store, {} key log):\n{}",
            if trust_store { "with" } else { "without" },
            if decrypted { "with" } else { "without" },
            problems.join("\n")
        );
    }
}

macro_rules! detection_test {
    ($test:ident, $name:literal, $file:literal) => {
        #[test]
        fn $test() {
            check($name, $file);
        }
    };
}

detection_test!(
    issue_6_s01_baseline_direct,
    "s01_baseline_direct",
    "s01_baseline_direct.pcap"
);
detection_test!(
    issue_6_s02_transparent_mitm,
    "s02_transparent_mitm_mixed",
    "s02_transparent_mitm_mixed.pcap"
);
detection_test!(
    issue_6_s03_sslsplit,
    "s03_sslsplit_all_intercepted",
    "s03_sslsplit_all_intercepted.pcap"
);
detection_test!(
    issue_6_s04_explicit_proxy,
    "s04_explicit_proxy_connect",
    "s04_explicit_proxy_connect.pcap"
);
detection_test!(
    issue_6_s05_benign_multicert,
    "s05_benign_multicert",
    "s05_benign_multicert.pcap"
);
detection_test!(
    issue_6_s06_ipv6_dualstack,
    "s06_ipv6_dualstack",
    "s06_ipv6_dualstack.pcap"
);
detection_test!(
    issue_6_s07_tls13,
    "s07_tls13_keylog",
    "s07_tls13_keylog.pcap"
);
detection_test!(
    issue_6_s07_tls13_pcapng,
    "s07_tls13_keylog_dsb",
    "s07_tls13_keylog_dsb.pcapng"
);
detection_test!(
    issue_6_s08_en10mb,
    "s08_linktypes_en10mb",
    "s08_linktypes_en10mb.pcap"
);
detection_test!(
    issue_6_s08_gzip,
    "s08_linktypes_gzip",
    "s08_linktypes_gzip.pcap.gz"
);
detection_test!(
    issue_6_s08_multi_if,
    "s08_linktypes_multi_if",
    "s08_linktypes_multi_if.pcapng"
);
detection_test!(
    issue_6_s08_nanosec,
    "s08_linktypes_nanosec",
    "s08_linktypes_nanosec.pcap"
);
detection_test!(
    issue_6_s08_sll,
    "s08_linktypes_sll",
    "s08_linktypes_sll.pcap"
);
detection_test!(
    issue_6_s08_sll2,
    "s08_linktypes_sll2",
    "s08_linktypes_sll2.pcap"
);
detection_test!(issue_6_s09_vlan, "s09_vlan_trunk", "s09_vlan_trunk.pcap");
detection_test!(
    issue_6_s10_lossy,
    "s10_lossy_retransmissions",
    "s10_lossy_retransmissions.pcap"
);

// Go's crypto/tls and Squid's ssl-bump (scripts/interop/make_capture.py): the
// forged certificates copy the real ones' names and dates and carry the
// proxy CA's own key.
detection_test!(
    issue_6_interop_squid_go_bump,
    "interop_squid_go_bump",
    "interop_squid_go_bump.pcap"
);
// The same proxy, with Java (JSSE) and headless Chromium (BoringSSL) clients.
detection_test!(
    issue_6_interop_squid_jdk_chromium,
    "interop_squid_jdk_chromium",
    "interop_squid_jdk_chromium.pcap"
);
// Privoxy's https-inspection: forged leaves made from the name alone (their
// own key each, dated a month back), the proxy's CA sent with them.
detection_test!(
    issue_6_interop_privoxy_go,
    "interop_privoxy_go",
    "interop_privoxy_go.pcap"
);
// e2guardian's SSL MITM, transparent: forged leaves made from the name alone,
// one key pair for all of them, sent without the CA; some clients exempt.
detection_test!(
    issue_6_interop_e2guardian_botan,
    "interop_e2guardian_botan",
    "interop_e2guardian_botan.pcap"
);

// mitmproxy as a SOCKS5 proxy: forged leaves copying the client's SNI, all
// on the CA's own key, dated two days back, sent without the CA.
detection_test!(
    issue_6_interop_mitmproxy_socks5,
    "interop_mitmproxy_socks5",
    "interop_mitmproxy_socks5.pcap"
);

// Nothing intercepted, with interception's shapes: the same names direct and
// through tunnelling proxies (Squid's CONNECT, mitmproxy's SOCKS5), RSA and
// ECDSA leaves side by side, a change of CA on the server mid-capture. At
// most low or info for every name.
detection_test!(
    issue_6_interop_benign_tunnel,
    "interop_benign_tunnel",
    "interop_benign_tunnel.pcap"
);

/// All captures in one run: still no clean-only name accused, and the
/// findings come out in the same order twice.
#[test]
fn issue_6_all_captures_in_one_run_is_deterministic() {
    let files = [
        "s01_baseline_direct.pcap",
        "s02_transparent_mitm_mixed.pcap",
        "s05_benign_multicert.pcap",
    ];
    let (a, _) = scan(&files, &[]);
    let (b, _) = scan(&files, &["--threads", "1"]);
    let fa = read_scan(a.path()).expect("a").findings;
    let fb = read_scan(b.path()).expect("b").findings;
    assert_eq!(fa, fb);
    for clean in [
        "img.media.test",
        "status.shop.test",
        "www.shop.test",
        "printer.lan.test",
    ] {
        assert!(
            !fa.iter().any(|f| f.names.iter().any(|n| n == clean)
                && (f.severity == Severity::High || f.severity == Severity::Medium)),
            "{clean} accused"
        );
    }
}
