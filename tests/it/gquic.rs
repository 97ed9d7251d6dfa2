//! Issue 30: Google's TLS-based gQUIC versions T050 and T051 on a capture
//! (`synth_gquic_t05x.pcap`, made by `scripts/make_gquic_captures.py`):
//! IETF long headers sealed with each version's own Initial salt, gQUIC
//! frames inside (CRYPTO 0x08, a server Initial opening with a gQUIC ACK).
//! Every value asserted is tshark 4.0's reading of the same packets: it
//! decrypts them and prints SNI, JA3 and JA3S (JA4 from its dissection by
//! `scripts/tshark_hellos.py`). tshark does not join the CRYPTO frames of
//! gQUIC packets, so for the hello over two Initials its values are those
//! of the bytes it decrypted, joined by offset (`make_gquic_captures.py
//! --check-split`).

use serde_json::Value;

use crate::scan;

/// (client port, SNI, ALPN, JA3, JA4), as tshark reads them.
const HELLOS: &[(u64, &str, &str, &str, &str)] = &[
    (
        50050,
        "t050.example",
        "h3-T050",
        "1781c9755ef4bc15bee5861f0e9285cd",
        "q13d0308h0_55b375c5d22e_c3b6c416e0e4",
    ),
    (
        50051,
        "t051.example",
        "h3-T051",
        "1781c9755ef4bc15bee5861f0e9285cd",
        "q13d0308h1_55b375c5d22e_c3b6c416e0e4",
    ),
    // An X25519MLKEM768 share: 1,404 bytes over two Initials, the second
    // half first.
    (
        50052,
        "pq.t051.example",
        "h3-T051",
        "5584045f3bd7249b6a9ebde1fc8516f6",
        "q13d0308h1_55b375c5d22e_c3b6c416e0e4",
    ),
];

/// tshark's JA3S of the three ServerHellos (one suite, two extensions).
const JA3S: &str = "f4febc55ea12b31ae17cfb7e614afda8";

#[test]
fn issue_30_gquic_t050_t051_initials_read_as_tshark_reads_them() {
    let (dir, out) = scan(&["synth_gquic_t05x.pcap"], &["--format", "jsonl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("handshakes.jsonl")).unwrap();
    let mut rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    rows.sort_by_key(|r| r["client_port"].as_u64());
    // Port 50053's Initial says T051 but was sealed with T050's salt:
    // nothing opens it, so it starts no connection (tshark cannot read it
    // either).
    assert_eq!(rows.len(), HELLOS.len(), "{text}");
    for (r, (port, sni, alpn, ja3, ja4)) in rows.iter().zip(HELLOS) {
        assert_eq!(r["transport"], "quic");
        assert_eq!(r["client_port"], *port);
        assert_eq!(r["sni"], *sni, "{port}");
        assert_eq!(r["alpn"], serde_json::json!([alpn]), "{port}");
        assert_eq!(r["ja3"], *ja3, "{port}");
        assert_eq!(r["ja4"], *ja4, "{port}");
        assert_eq!(r["ja3s"], JA3S, "{port}");
        assert_eq!(r["tls_version"], "TLS 1.3", "{port}");
        assert_eq!(r["cipher_suite"], "TLS_AES_128_GCM_SHA256", "{port}");
        assert_eq!(r["anomalies"], serde_json::json!([]), "{port}");
    }
}
