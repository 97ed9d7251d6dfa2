//! Every corpus capture in testdata against its manifest: the ground truth
//! recorded by the tools that made the traffic (client and server addresses,
//! SNI, negotiated version, the leaf certificate's SHA-256, its visibility),
//! and the expected verdict per server name.

use std::collections::BTreeMap;

use certsift::output::read_scan;
use certsift::rows::HandshakeRow;
use serde_json::Value;

use crate::{anchors_of, cert_visible, keyed, keylog, manifest, scan, scan_trusting};
use certsift::rows::Severity;

fn key(ip: &str, port: i64) -> String {
    format!("{ip}|{port}")
}

/// Checks every manifest flow against the handshakes table; returns the
/// mismatches as readable lines.
fn compare_flows(manifest: &Value, rows: &[HandshakeRow], decrypts: bool) -> Vec<String> {
    let mut by_client: BTreeMap<String, Vec<&HandshakeRow>> = BTreeMap::new();
    for r in rows {
        by_client
            .entry(key(&r.client_ip, i64::from(r.client_port)))
            .or_default()
            .push(r);
    }
    let mut problems = Vec::new();
    let flows = manifest["flows"].as_array().expect("flows");
    for f in flows {
        let client = key(
            f["client_ip"].as_str().unwrap_or_default(),
            f["client_port"].as_i64().unwrap_or_default(),
        );
        let server = key(
            f["server_ip"].as_str().unwrap_or_default(),
            f["server_port"].as_i64().unwrap_or_default(),
        );
        let candidates = by_client.get(&client).cloned().unwrap_or_default();
        let row = candidates
            .iter()
            .find(|r| key(&r.server_ip, i64::from(r.server_port)) == server);
        let Some(row) = row else {
            problems.push(format!("flow {client} -> {server}: no handshake row"));
            continue;
        };
        let want_sni = f["sni"].as_str();
        if row.sni.as_deref() != want_sni {
            problems.push(format!("{client}: sni {:?}, want {want_sni:?}", row.sni));
        }
        // What the client asked its proxy for (HTTP CONNECT or SOCKS), in
        // manifests that record it; null for a connection without one.
        if let Some(t) = f.get("connect_target") {
            let want = t.as_str();
            if row.connect_target.as_deref() != want {
                problems.push(format!(
                    "{client}: connect_target {:?}, want {want:?}",
                    row.connect_target
                ));
            }
        }
        let want_version = f["tls_version"].as_str();
        if want_version.is_some() && row.tls_version.as_deref() != want_version {
            problems.push(format!(
                "{client}: version {:?}, want {want_version:?}",
                row.tls_version
            ));
        }
        let visibility = f["cert_visibility"].as_str().unwrap_or_default();
        // With the key log (or secrets in the file) a TLS 1.3 certificate is
        // "decrypted"; without, "encrypted".
        // A client that wrote no key log ("in_keylog": false) keeps its
        // TLS 1.3 certificates encrypted.
        let want_vis = match visibility {
            "decrypted" | "encrypted" if keyed(f, decrypts) => "decrypted",
            "decrypted" => "encrypted",
            v => v,
        };
        if !want_vis.is_empty() && row.cert_visibility != want_vis {
            problems.push(format!(
                "{client}: visibility {}, want {want_vis}",
                row.cert_visibility
            ));
        }
        if want_vis == "plain" || want_vis == "decrypted" {
            let want_leaf = f["leaf_sha256"].as_str();
            if row.leaf_sha256.as_deref() != want_leaf {
                problems.push(format!(
                    "{client}: leaf {:?}, want {want_leaf:?}",
                    row.leaf_sha256
                ));
            }
            let want_chain: Vec<&str> = f["chain_sha256"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !want_chain.is_empty() && row.cert_chain_sha256 != want_chain {
                problems.push(format!("{client}: chain differs from the manifest"));
            }
            // Manifests made outside the corpus record the client's own
            // verdict against the very anchors the scan is given.
            if let Some(ok) = f["client_verify"]["ok"].as_bool() {
                if row.chain_trusted != Some(ok) {
                    problems.push(format!(
                        "{client}: chain_trusted {:?} ({:?}), the client said {ok}",
                        row.chain_trusted, row.trust_reason
                    ));
                }
            }
        }
    }
    problems
}

fn check_capture(name: &str, file: &str) {
    check_capture_keys(name, file, true);
    // Without key logs (and without secrets embedded in the file), TLS 1.3
    // certificates stay encrypted.
    if !file.ends_with(".pcapng") || !name.contains("dsb") {
        check_capture_keys(name, file, false);
    }
}

fn check_capture_keys(name: &str, file: &str, with_keys: bool) {
    let log = keylog(name).filter(|_| with_keys);
    let mut extra: Vec<&str> = Vec::new();
    if let Some(l) = &log {
        extra.extend(["--keylog", l.as_str()]);
    }
    let decrypts = log.is_some() || name.contains("dsb");
    let (dir, out) = scan_trusting(&[file], &anchors_of(name), &extra);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scan = read_scan(dir.path()).expect("tables");
    let m = manifest(name);
    let problems = compare_flows(&m, &scan.handshakes, decrypts);
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    // Verdicts: an intercepted name seen also with its genuine certificate
    // must have a high finding; a clean name none at medium or above.
    let verdicts = m["sni_verdicts"].as_object().expect("verdicts");
    for (sni, v) in verdicts {
        if sni.starts_with("(no-sni)") {
            continue;
        }
        let serious = scan.findings.iter().any(|f| {
            f.names.iter().any(|n| n == sni)
                && (f.severity == Severity::High || f.severity == Severity::Medium)
        });
        let verdict = v["verdict"].as_str().unwrap_or_default();
        // Issuer divergence needs both the forged and the genuine leaf in
        // clear: TLS 1.3 certificates stay encrypted without key logs.
        let ids: Vec<i64> = v["flows"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let plain = |intercepted: bool| {
            m["flows"].as_array().expect("flows").iter().any(|f| {
                ids.contains(&f["flow_index"].as_i64().unwrap_or(-1))
                    && f["intercepted"].as_bool() == Some(intercepted)
                    && cert_visible(f, decrypts)
            })
        };
        match verdict {
            "intercepted" if plain(true) && plain(false) => {
                assert!(
                    serious,
                    "{name}: {sni} intercepted but no finding: {:#?}",
                    scan.findings
                )
            }
            "clean" | "benign-multi-cert" => {
                assert!(
                    !serious,
                    "{name}: {sni} is {verdict} but accused: {:#?}",
                    scan.findings
                )
            }
            _ => {}
        }
    }
}

macro_rules! corpus_test {
    ($test:ident, $name:literal, $file:literal) => {
        #[test]
        fn $test() {
            check_capture($name, $file);
        }
    };
}

corpus_test!(
    s01_baseline_direct,
    "s01_baseline_direct",
    "s01_baseline_direct.pcap"
);
corpus_test!(
    s02_transparent_mitm,
    "s02_transparent_mitm_mixed",
    "s02_transparent_mitm_mixed.pcap"
);
corpus_test!(
    s03_sslsplit,
    "s03_sslsplit_all_intercepted",
    "s03_sslsplit_all_intercepted.pcap"
);
corpus_test!(
    s04_explicit_proxy,
    "s04_explicit_proxy_connect",
    "s04_explicit_proxy_connect.pcap"
);
corpus_test!(
    s05_benign_multicert,
    "s05_benign_multicert",
    "s05_benign_multicert.pcap"
);
corpus_test!(
    s06_ipv6_dualstack,
    "s06_ipv6_dualstack",
    "s06_ipv6_dualstack.pcap"
);
corpus_test!(s07_tls13, "s07_tls13_keylog", "s07_tls13_keylog.pcap");
corpus_test!(
    s07_tls13_pcapng,
    "s07_tls13_keylog_dsb",
    "s07_tls13_keylog_dsb.pcapng"
);
corpus_test!(
    s08_en10mb,
    "s08_linktypes_en10mb",
    "s08_linktypes_en10mb.pcap"
);
corpus_test!(s08_gzip, "s08_linktypes_gzip", "s08_linktypes_gzip.pcap.gz");
corpus_test!(
    s08_multi_if,
    "s08_linktypes_multi_if",
    "s08_linktypes_multi_if.pcapng"
);
corpus_test!(
    s08_nanosec,
    "s08_linktypes_nanosec",
    "s08_linktypes_nanosec.pcap"
);
corpus_test!(s08_sll, "s08_linktypes_sll", "s08_linktypes_sll.pcap");
corpus_test!(s08_sll2, "s08_linktypes_sll2", "s08_linktypes_sll2.pcap");
corpus_test!(s09_vlan, "s09_vlan_trunk", "s09_vlan_trunk.pcap");
corpus_test!(
    s10_lossy,
    "s10_lossy_retransmissions",
    "s10_lossy_retransmissions.pcap"
);

#[test]
fn zstd_copy_gives_the_same_handshakes_as_the_plain_file() {
    let (a, _) = scan(&["s08_linktypes_en10mb.pcap"], &[]);
    let (b, _) = scan(&["s08_linktypes_en10mb.pcap.zst"], &[]);
    let ra = read_scan(a.path()).expect("a").handshakes;
    let rb = read_scan(b.path()).expect("b").handshakes;
    assert_eq!(ra.len(), rb.len());
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(
            (&x.sni, &x.leaf_sha256, x.ts_start),
            (&y.sni, &y.leaf_sha256, y.ts_start)
        );
    }
}

// Made outside the corpus (scripts/interop/make_capture.py): Go's crypto/tls,
// Java's JSSE and Chromium's BoringSSL through Squid's ssl-bump, TLS stacks
// and an interceptor the corpus does not have.
corpus_test!(
    interop_squid_go_bump,
    "interop_squid_go_bump",
    "interop_squid_go_bump.pcap"
);
corpus_test!(
    interop_squid_jdk_chromium,
    "interop_squid_jdk_chromium",
    "interop_squid_jdk_chromium.pcap"
);
// Privoxy's https-inspection (mbedTLS on the proxy's both sides), with Go
// and curl (OpenSSL) clients.
corpus_test!(
    interop_privoxy_go,
    "interop_privoxy_go",
    "interop_privoxy_go.pcap"
);
// e2guardian's SSL MITM as a transparent interceptor (OpenSSL), with Go and
// curl clients and Botan's TLS 1.2 server for one name.
corpus_test!(
    interop_e2guardian_botan,
    "interop_e2guardian_botan",
    "interop_e2guardian_botan.pcap"
);
// mitmproxy as a SOCKS5 proxy (OpenSSL), with Go and curl clients: CONNECT
// by name and by address, one connection without SNI.
corpus_test!(
    interop_mitmproxy_socks5,
    "interop_mitmproxy_socks5",
    "interop_mitmproxy_socks5.pcap"
);
// Nothing intercepted: Squid and mitmproxy only tunnelling (HTTP CONNECT and
// SOCKS5), RSA and ECDSA leaves side by side, a change of CA mid-capture.
corpus_test!(
    interop_benign_tunnel,
    "interop_benign_tunnel",
    "interop_benign_tunnel.pcap"
);
