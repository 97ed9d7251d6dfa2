//! QUIC: the peer projects' QUIC captures (testdata/README.md gives each
//! one's origin), scanned whole; every QUIC row's client port, SNI and JA4
//! must be exactly the published ones (FoxIO's JA4 snapshots, suricata-verify
//! and Arkime expectations, zeek's ssl.log, tshark's SNI for the rest).

use crate::handshake_rows;
use serde_json::Value;

/// Scans one capture and returns its handshake rows.
fn rows(capture: &str) -> Vec<Value> {
    handshake_rows(&[capture])
}

/// The rows of transport quic of one capture's scan.
pub(crate) fn quic_rows(capture: &str) -> Vec<Value> {
    rows(capture)
        .into_iter()
        .filter(|r| r["transport"] == "quic")
        .collect()
}

/// (client port, SNI, JA4) of every QUIC row, sorted.
fn port_sni_ja4(rows: &[Value]) -> Vec<(u64, String, String)> {
    let mut v: Vec<(u64, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["client_port"].as_u64().unwrap(),
                r["sni"].as_str().unwrap_or("").to_string(),
                r["ja4"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn expect(list: &[(u64, &str, &str)]) -> Vec<(u64, String, String)> {
    let mut v: Vec<(u64, String, String)> = list
        .iter()
        .map(|(p, s, j)| (*p, s.to_string(), j.to_string()))
        .collect();
    v.sort();
    v
}

/// Chrome's QUIC ClientHello JA4, as FoxIO and suricata publish it.
const CHROME_JA4: &str = "q13d0310h3_55b375c5d22e_cd85d2d88918";

#[test]
fn foxio_tls_sni_quic_rows_match_the_ja4_snapshot() {
    // FoxIO ja4 rust snapshot `tls-sni.pcapng`: 20 QUIC connections.
    let published: Vec<(u64, &str)> = vec![
        (49333, "update.googleapis.com"),
        (50053, "optimizationguide-pa.googleapis.com"),
        (51782, "safebrowsing.googleapis.com"),
        (51905, "encrypted-tbn0.gstatic.com"),
        (52166, "www.facebook.com"),
        (54980, "static.xx.fbcdn.net"),
        (55309, "content-autofill.googleapis.com"),
        (55906, "ogs.google.com"),
        (55945, "www.googleapis.com"),
        (57188, "lh5.googleusercontent.com"),
        (57662, "encrypted-tbn0.gstatic.com"),
        (57816, "accounts.google.com"),
        (59102, "www.google.com"),
        (59221, "content-autofill.googleapis.com"),
        (59444, "static.xx.fbcdn.net"),
        (60374, "video-iad3-2.xx.fbcdn.net"),
        (60486, "history.google.com"),
        (60845, "www.gstatic.com"),
        (61730, "scontent-iad3-2.xx.fbcdn.net"),
        (61836, "aa.google.com"),
    ];
    let want: Vec<(u64, &str, &str)> = published
        .iter()
        .map(|(p, s)| (*p, *s, CHROME_JA4))
        .collect();
    let all = rows("ja4_tls_sni.pcapng");
    let quic: Vec<Value> = all
        .iter()
        .filter(|r| r["transport"] == "quic")
        .cloned()
        .collect();
    assert_eq!(port_sni_ja4(&quic), expect(&want));
    // Only ClientHellos were captured: no ServerHello, no certificate.
    for r in &quic {
        assert_eq!(r["cert_visibility"], "absent");
        assert!(r["alpn"].as_array().unwrap().contains(&"h3".into()));
    }
    // The TCP connections of the same capture keep their transport.
    assert!(all.iter().any(|r| r["transport"] == "tcp"));
    assert!(all
        .iter()
        .all(|r| r["transport"] == "tcp" || r["transport"] == "quic"));
}

#[test]
fn suricata_ja4_quic_has_eleven_chrome_fingerprints() {
    // suricata-verify `ja4-quic`: 11 quic events, all with this JA4; SNI
    // as tshark decodes it.
    let want = [
        (51333, "www.blogger.com"),
        (53371, "socpuppet.blogspot.com"),
        (50440, "apis.google.com"),
        (37252, "www.blogger.com"),
        (57334, "apis.google.com"),
        (38677, "www.google.com"),
        (42849, "www.gstatic.com"),
        (32997, "fonts.gstatic.com"),
        (60461, "4.bp.blogspot.com"),
        (52446, "1.bp.blogspot.com"),
        (41171, "2.bp.blogspot.com"),
    ];
    let want: Vec<(u64, &str, &str)> = want.iter().map(|(p, s)| (*p, *s, CHROME_JA4)).collect();
    assert_eq!(port_sni_ja4(&quic_rows("sv_ja4_quic.pcap")), expect(&want));
}

#[test]
fn arkime_out_of_order_initials() {
    // Arkime `quicietfooo.test`: CRYPTO frames out of order in one Initial.
    let q = quic_rows("arkime_quicietfooo.pcap");
    assert_eq!(
        port_sni_ja4(&q),
        expect(&[(
            53730,
            "ssl.gstatic.com",
            "q13d0312h3_55b375c5d22e_73e2d9e6cde6"
        )])
    );
}

#[test]
fn chrome_cloudflare_with_embedded_secrets() {
    // FoxIO `chrome-cloudflare-quic-with-secrets.pcapng`: one TCP and one
    // QUIC connection to cloudflare-quic.com; its Decryption Secrets Block
    // holds both handshakes' secrets.
    let all = rows("ja4_chrome_cloudflare_quic_with_secrets.pcapng");
    let q: Vec<Value> = all
        .iter()
        .filter(|r| r["transport"] == "quic")
        .cloned()
        .collect();
    assert_eq!(
        port_sni_ja4(&q),
        expect(&[(50280, "cloudflare-quic.com", CHROME_JA4)])
    );
    let r = &q[0];
    assert_eq!(r["tls_version"], "TLS 1.3");
    assert_eq!(r["cipher_suite"], "TLS_AES_128_GCM_SHA256");
    assert_eq!(r["alpn_selected"], "h3");
    let tcp: Vec<&Value> = all.iter().filter(|r| r["transport"] == "tcp").collect();
    assert_eq!(tcp.len(), 1);
    // Both opened with the secrets; the certificate inside is the same for
    // both and tshark names its hashes.
    for r in tcp.iter().copied().chain(q.iter()) {
        assert_eq!(r["decryption"], "decrypted", "{r}");
        assert_eq!(r["cert_visibility"], "decrypted", "{r}");
        assert_eq!(
            r["cert_chain_sha256"],
            serde_json::json!([
                "31bd22783c4dba6fc20c976f3aa8d69344c0f38bd03f02c64602279d832995eb",
                "3abbe63daf756c5016b6b85f52015fd8e8acbe277c5087b127a60563a841ed8a"
            ]),
            "{r}"
        );
    }
}

#[test]
fn suricata_v2_retry_and_unordered_fragments() {
    // quic-v2: QUIC version 2, no SNI, ALPN h3.
    let q = quic_rows("sv_quic_v2.pcap");
    assert_eq!(q.len(), 1);
    assert!(q[0]["sni"].is_null());
    assert_eq!(q[0]["alpn"][0], "h3");
    assert_eq!(q[0]["tls_version"], "TLS 1.3");
    assert!(q[0]["ja4"].as_str().unwrap().starts_with("q13i"));
    // quic-retry: one connection through the Retry, its ServerHello read
    // under the new connection id's keys.
    let q = quic_rows("sv_quic_retry.pcap");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["sni"], "www.gravatar.com");
    assert_eq!(q[0]["tls_version"], "TLS 1.3");
    assert!(q[0]["anomalies"]
        .as_array()
        .unwrap()
        .contains(&"quic_retry".into()));
    // quic-frag-unordered: CRYPTO frames out of order.
    let q = quic_rows("sv_quic_frag_unordered.pcap");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["sni"], "mastodon.social");
    assert_eq!(q[0]["cipher_suite"], "TLS_AES_256_GCM_SHA384");
}

#[test]
fn zeek_fragmented_doq_and_v2() {
    // zeek ssl.log baselines: server_name, version, cipher.
    let q = quic_rows("zeek_quic_multiple_initial_fragmented_crypto.pcap");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["sni"], "googleads.g.doubleclick.net");
    assert!(q[0]["tls_version"].is_null());
    // DNS over QUIC on UDP 853: found by content, not port.
    let q = quic_rows("zeek_quicdoq.pcap");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["server_port"], 853);
    assert!(q[0]["sni"].is_null());
    assert_eq!(q[0]["cipher_suite"], "TLS_AES_128_GCM_SHA256");
    let q = quic_rows("zeek_quicv2_echo_443.pcap");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["sni"], "localhost");
    assert_eq!(q[0]["client_port"], 49320);
    assert_eq!(q[0]["cipher_suite"], "TLS_AES_128_GCM_SHA256");
}
