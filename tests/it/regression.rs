//! Regression tests, named after the issue that found them.

use crate::{capture, certsift};

#[test]
fn issue_2_output_is_the_same_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut tables = Vec::new();
    for threads in ["1", "2", "7"] {
        let o = dir.path().join(threads);
        let out = certsift(&[
            "scan",
            "-q",
            "--format",
            "jsonl",
            "-j",
            threads,
            "-o",
            o.to_str().unwrap(),
            capture("s01_baseline_direct.pcap").to_str().unwrap(),
            capture("s02_transparent_mitm_mixed.pcap").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0));
        tables.push(
            ["handshakes", "certificates", "findings"]
                .map(|t| std::fs::read_to_string(o.join(format!("{t}.jsonl"))).unwrap()),
        );
    }
    assert_eq!(tables[0], tables[1]);
    assert_eq!(tables[0], tables[2]);
}

#[test]
fn issue_4_client_hello_in_the_syn_of_tcp_fast_open_is_parsed() {
    let (dir, out) = crate::scan(&["sv_tcp_fastopen_syn_data.pcap"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let scan = certsift::output::read_scan(dir.path()).unwrap();
    let h = scan
        .handshakes
        .iter()
        .find(|h| h.client_port == 51615)
        .expect("the TFO connection");
    assert_eq!(h.sni.as_deref(), Some("icloud.com"));
    assert_eq!(
        h.ja3_full.as_deref(),
        Some("771,4865-4866-4867-49196-49195-52393-49200-49199-52392-49162-49161-49172-49171-157-156-53-47-49160-49170-10,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24-25,0")
    );
}

#[test]
fn issue_6_baseline_scan_makes_unseen_certificates_evidence() {
    let (base, out) = crate::scan(&["s01_baseline_direct.pcap"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let base_dir = base.path().to_str().unwrap().to_string();
    let (dir, out) = crate::scan(
        &["s02_transparent_mitm_mixed.pcap"],
        &["--baseline", &base_dir],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = certsift::output::read_scan(dir.path()).unwrap().findings;
    let deviation = |name: &str| {
        findings.iter().any(|f| {
            f.kind == "baseline_deviation"
                && f.severity == "high"
                && f.names.iter().any(|n| n == name)
        })
    };
    // mitmproxy's forgeries were never seen in the clean baseline...
    assert!(deviation("www.example-bank.test"), "{findings:#?}");
    assert!(deviation("api.shop.test"));
    // ...while mail.corp.test got the certificate the baseline knows.
    assert!(!findings
        .iter()
        .any(|f| f.kind.starts_with("baseline") && f.names.iter().any(|n| n == "mail.corp.test")));
}

#[test]
fn issue_30_several_synacks_bogus_first_bytes_and_hrr_only_keep_their_rows() {
    let (dir, out) = crate::scan(&["synth_issue30.pcap"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let scan = certsift::output::read_scan(dir.path()).unwrap();
    let row = |port: i32| {
        scan.handshakes
            .iter()
            .find(|h| h.client_port == port)
            .unwrap_or_else(|| panic!("no row for client port {port}"))
    };
    // The SYN-ACK the client acknowledged is followed.
    let h = row(40001);
    assert_eq!(h.sni.as_deref(), Some("test"));
    assert_eq!(
        h.cipher_suite.as_deref(),
        Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    );
    assert!(h.anomalies.iter().any(|a| a == "tcp_multiple_synack"));
    assert!(!h.anomalies.iter().any(|a| a == "tcp_midstream"));
    // Bogus first bytes neither hide the connection nor go unnoticed.
    let h = row(40002);
    assert_eq!(h.sni.as_deref(), Some("test"));
    assert_eq!(h.tls_version.as_deref(), Some("TLS 1.2"));
    assert!(h.anomalies.iter().any(|a| a == "tcp_conflicting_overlap"));
    // A HelloRetryRequest alone gives version, cipher and JA3S.
    let h = row(40003);
    assert_eq!(h.tls_version.as_deref(), Some("TLS 1.3"));
    assert_eq!(h.cipher_suite.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(h.ja3s_full.as_deref(), Some("771,4865,51-44-43"));
}

#[test]
fn issue_30_real_server_with_two_synack_isns_is_followed_where_the_client_acks() {
    // suricata-verify's TFO capture: the server answers the SYN with SYN-ACKs
    // of ISN 3212050950 and 97572840; the client acknowledges the second and
    // the ServerHello follows it. tshark shows only the ClientHello.
    let (dir, out) = crate::scan(&["sv_tcp_fastopen_syn_data.pcap"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let scan = certsift::output::read_scan(dir.path()).unwrap();
    let h = scan
        .handshakes
        .iter()
        .find(|h| h.client_port == 51615)
        .expect("the TFO connection");
    assert_eq!(h.tls_version.as_deref(), Some("TLS 1.3"));
    assert_eq!(h.cipher_suite.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(h.cert_visibility, "encrypted");
    assert!(h.anomalies.iter().any(|a| a == "tcp_multiple_synack"));
    // Following the first ISN put the server's bytes 1.1 GB ahead: a gap,
    // and a handshake read only by resynchronising after it.
    assert_eq!(h.anomalies, ["tcp_multiple_synack"]);
}
