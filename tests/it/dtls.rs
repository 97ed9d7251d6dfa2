//! DTLS (issue 30): the peer projects' DTLS captures (testdata/README.md
//! gives each one's origin), scanned whole. Each DTLS connection tshark
//! decodes is a row with transport "dtls" and tshark's SNI, JA3 and leaf
//! (`expected-tshark.tsv` of the peer captures, TShark 4.0.17), and the JA4
//! Arkime publishes for its captures.

use crate::handshake_rows;
use serde_json::Value;

/// One capture's DTLS rows, by client port.
fn dtls_rows(capture: &str) -> Vec<Value> {
    let mut rows: Vec<Value> = handshake_rows(&[capture])
        .into_iter()
        .filter(|r| r["transport"] == "dtls")
        .collect();
    rows.sort_by_key(|r| r["client_port"].as_u64());
    rows
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

#[test]
fn issue_30_dtls10_cookie_exchange_and_certificate() {
    // zeek dtls1_0.pcap: ClientHello fragmented over two datagrams, twice
    // (before and after the HelloVerifyRequest).
    let r = dtls_rows("zeek_dtls1_0.pcap");
    assert_eq!(r.len(), 1, "{r:?}");
    let r = &r[0];
    assert_eq!(s(&r["client_ip"]), "192.168.6.86");
    assert_eq!(r["client_port"], 63721);
    assert_eq!(s(&r["tls_version"]), "DTLS 1.0");
    assert_eq!(s(&r["ja3"]), "0dab7dadc76b31d578cb41b8c2838cd9");
    assert_eq!(s(&r["cipher_suite"]), "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA");
    assert_eq!(s(&r["cert_visibility"]), "plain");
    assert_eq!(r["cert_chain_sha256"].as_array().unwrap().len(), 1);
    assert!(s(&r["ja4"]).starts_with("dd1i"), "{}", r["ja4"]);
}

#[test]
fn issue_30_dtls12_certificate_fragmented_over_five_datagrams() {
    let r = dtls_rows("zeek_dtls1_2.pcap");
    assert_eq!(r.len(), 1, "{r:?}");
    let r = &r[0];
    assert_eq!(s(&r["tls_version"]), "DTLS 1.2");
    assert_eq!(s(&r["ja3"]), "3c3d129780d0066cd8936a6291a8d44f");
    assert_eq!(s(&r["cert_visibility"]), "plain");
    assert!(r["leaf_sha256"].is_string());
    assert!(
        r["anomalies"].as_array().unwrap().is_empty(),
        "{}",
        r["anomalies"]
    );
}

#[test]
fn issue_30_dtls13_hello_retry_and_connection_ids() {
    // zeek dtls13-cid.pcap: five connections; two with a HelloRetryRequest
    // and a ServerHello, three whose ClientHello went unanswered.
    let r = dtls_rows("zeek_dtls13_cid.pcap");
    let ports: Vec<u64> = r
        .iter()
        .map(|x| x["client_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, vec![47904, 52232, 56544, 57488, 58771]);
    for x in &r {
        assert_eq!(s(&x["client_ip"]), "10.168.36.147");
        assert!(s(&x["ja4"]).starts_with("dd3"), "{}", x["ja4"]);
    }
    let answered: Vec<&Value> = r.iter().filter(|x| x["tls_version"].is_string()).collect();
    assert_eq!(answered.len(), 2);
    for x in answered {
        assert_eq!(s(&x["tls_version"]), "DTLS 1.3");
        assert_eq!(s(&x["cert_visibility"]), "encrypted");
    }
    let first = r.iter().find(|x| x["client_port"] == 57488).unwrap();
    assert_eq!(s(&first["ja3"]), "f4dff7591843f1321802410c9936ac66");
}

#[test]
fn issue_30_dtls_on_webrtc_stun_port_found_by_content() {
    // The DTLS client is the side that did not start the STUN exchange.
    let r = dtls_rows("zeek_webrtc_stun.pcap");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(s(&r[0]["client_ip"]), "74.201.205.9");
    assert_eq!(s(&r[0]["ja3"]), "69b4c10438dd27f06b1a694c67e63ba1");
    assert_eq!(s(&r[0]["cert_visibility"]), "plain");
    assert_eq!(r[0]["client_chain_sha256"].as_array().unwrap().len(), 1);
}

#[test]
fn issue_30_arkime_dtls_ja4_values() {
    for (capture, ja4) in [
        (
            "arkime_wireshark_dtls0.pcap",
            "d00i270000_fd1a708466c1_000000000000",
        ),
        (
            "arkime_wireshark_dtls12.pcap",
            "dd2i030300_f7e428980f70_6c817ce3d217",
        ),
        (
            "arkime_cloudshark_dtls1.pcap",
            "dd1i440200_49bcda3e7ebf_18d1e47e0978",
        ),
    ] {
        let r = dtls_rows(capture);
        assert_eq!(r.len(), 1, "{capture}: {r:?}");
        assert_eq!(s(&r[0]["ja4"]), ja4, "{capture}");
    }
}

#[test]
fn issue_30_dtls_fragmented_client_hello_with_sequence_jumps() {
    let r = dtls_rows("zeek_dtls_sequence_number_jumps.pcap");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(s(&r[0]["ja3"]), "eaa20c9e0e236ba485a6245fb972fd5d");
    assert_eq!(s(&r[0]["tls_version"]), "DTLS 1.3");
}
