//! Issue 30, beyond DTLS: ECH with post-quantum key shares and GREASE
//! (synth_ech_pq.pcap, made by scripts/make_test_captures.py and checked
//! against tshark), and TLS inside OpenVPN control channels over TCP
//! (Arkime's openvpn_synthetic.pcap).

use crate::handshake_rows;
use serde_json::Value;

/// One capture's handshakes rows, by client port.
fn rows(capture: &str) -> Vec<Value> {
    let mut rows = handshake_rows(&[capture]);
    rows.sort_by_key(|r| r["client_port"].as_u64());
    rows
}

#[test]
fn issue_30_ech_outer_hello_with_mlkem_share_over_two_segments() {
    let r = rows("synth_ech_pq.pcap");
    let ports: Vec<u64> = r
        .iter()
        .map(|x| x["client_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, vec![40011, 40012, 40013]);
    // tshark's JA3 (GREASE removed) of every one of these hellos.
    let ja3 = "771,4865-4866-4867-49195,0-10-16-13-43-51-65037,4588-29-23,";
    for x in &r {
        assert_eq!(x["sni"], "public.example");
        assert_eq!(x["ja3_full"], ja3);
        assert_eq!(x["ech_outer_sni"], "public.example");
        assert_eq!(x["ech_config_id"], 0x42);
        assert_eq!(x["ech_kdf_id"], 1);
        assert_eq!(x["ech_aead_id"], 1);
        assert!(
            x["ja4"].as_str().unwrap().starts_with("t13d0407h2_"),
            "{}",
            x["ja4"]
        );
        let odd = x["anomalies"].as_array().unwrap();
        assert!(
            !odd.iter()
                .any(|a| a.as_str().unwrap().contains("truncated")),
            "{odd:?}"
        );
    }
    let status: Vec<&str> = r
        .iter()
        .map(|x| x["ech_status"].as_str().unwrap())
        .collect();
    assert_eq!(status, vec!["unknown", "accepted", "ignored"]);
    assert_eq!(r[1]["tls_version"], "TLS 1.3");
    assert_eq!(r[2]["tls_version"], "TLS 1.2");
}

#[test]
fn issue_30_tls_in_openvpn_tcp_control_channels() {
    // Arkime's expectations: two OpenVPN-over-TCP sessions (IPv4 port 8443,
    // IPv6 port 6666, both with a tls-auth HMAC), ClientHello with SNI
    // arkime.test and JA3 feb53fe05f3e7852942a6e3cb98e8b45, one certificate.
    let r: Vec<Value> = rows("arkime_openvpn_synthetic.pcap")
        .into_iter()
        .filter(|x| x["transport"] == "tcp")
        .collect();
    let ports: Vec<u64> = r
        .iter()
        .map(|x| x["server_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, vec![8443, 6666]);
    for x in &r {
        assert_eq!(x["sni"], "arkime.test");
        assert_eq!(x["ja3"], "feb53fe05f3e7852942a6e3cb98e8b45");
        assert_eq!(x["cert_visibility"], "plain");
        assert_eq!(x["cert_chain_sha256"].as_array().unwrap().len(), 1);
        assert!(x["anomalies"]
            .as_array()
            .unwrap()
            .contains(&Value::from("openvpn_control_channel")));
    }
}
