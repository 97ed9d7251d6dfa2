//! Issue 30: post-quantum QUIC ClientHellos. Chrome and Firefox send an
//! X25519MLKEM768 key share (group 0x11ec, 1,216 bytes), which makes the
//! hello 1.7 to 2.5 KB, more than one Initial packet holds. Six real
//! captures from the peer projects (testdata/README.md) carry such a hello
//! over two or three Initial packets: in order, out of order, CRYPTO frames
//! split into dozens of pieces, Initials coalesced with 0-RTT packets in one
//! datagram, a Retry in between. Every value asserted here is tshark 4.0's:
//! SNI and JA3 as it prints them, JA4 computed from its dissection by
//! `scripts/tshark_hellos.py` (tshark 4.0 has no JA4), the key share groups
//! as it lists them.

use crate::quic::quic_rows;

/// One expected hello: capture, client port, SNI, JA3, JA4 (tshark's).
struct Hello {
    capture: &'static str,
    port: u64,
    sni: &'static str,
    ja3: &'static str,
    ja4: &'static str,
}

/// `python3 scripts/tshark_hellos.py testdata/captures/CAPTURE`; the key
/// share column is `11ec,001d` or `11ec,001d,0017` in each.
const HELLOS: &[Hello] = &[
    // Firefox: 1,838 bytes over two Initials, in order.
    Hello {
        capture: "sv_quic_frag_wait.pcap",
        port: 56086,
        sni: "www.google.com",
        ja3: "4a6553630c18ffea07ed77ebed6f499b",
        ja4: "q13d0314h3_55b375c5d22e_61e396c58b1f",
    },
    // Chrome: 2,320 bytes over three Initials, out of order, the last one
    // filling the middle of the message.
    Hello {
        capture: "sv_quic_frag_middle_gap.pcap",
        port: 45514,
        sni: "optimizationguide-pa.googleapis.com",
        ja3: "2adbc782adea01297ab7fcf01fe2acc1",
        ja4: "q13d0313h3_55b375c5d22e_c7319ce65786",
    },
    // Firefox: 2,540 bytes over three Initials, CRYPTO frames out of order,
    // the third Initial coalesced with a 0-RTT packet in one datagram.
    Hello {
        capture: "zeek_quic_39264_rand.pcap",
        port: 39264,
        sni: "tr6.snapchat.com",
        ja3: "8a77a67b7efcd2e3a00787e1df1a5f05",
        ja4: "q13d0316h3_55b375c5d22e_ec3e6ae03174",
    },
    // Firefox: 1,840 bytes over two Initials, sent again over two after a
    // Retry.
    Hello {
        capture: "sv_quic_retry.pcap",
        port: 60027,
        sni: "www.gravatar.com",
        ja3: "0b0b4e88770444edb82150180c407471",
        ja4: "q13d0314h3_55b375c5d22e_61e396c58b1f",
    },
    // Chrome: 1,724 bytes over two Initials in 14 CRYPTO frames, out of
    // order.
    Hello {
        capture: "sv_quic_frag_unordered.pcap",
        port: 52755,
        sni: "mastodon.social",
        ja3: "272f82e5021102e1a2dda48dca35e0a1",
        ja4: "q13d0311h3_55b375c5d22e_5a1f323ef56d",
    },
    // Chrome: 2,242 bytes over three Initials, out of order, then 0-RTT.
    Hello {
        capture: "zeek_quic_multiple_initial_fragmented_crypto.pcap",
        port: 45945,
        sni: "googleads.g.doubleclick.net",
        ja3: "a737e2cfe3b7e8f28cf5a2afd1427700",
        ja4: "q13d0313h3_55b375c5d22e_226f3f127bbe",
    },
];

/// Anomalies these connections may carry: what the clients and servers did
/// (0-RTT, a Retry, closing), never a sign of bytes missing or misread.
const EXPECTED_ANOMALIES: &[&str] = &["quic_0rtt", "quic_retry", "quic_connection_close"];

#[test]
fn issue_30_pq_hellos_over_several_initials_match_tshark() {
    for h in HELLOS {
        let rows = quic_rows(h.capture);
        assert_eq!(rows.len(), 1, "{}: one QUIC connection", h.capture);
        let r = &rows[0];
        assert_eq!(r["client_port"], h.port, "{}", h.capture);
        assert_eq!(r["sni"], h.sni, "{}", h.capture);
        assert_eq!(r["ja3"], h.ja3, "{}", h.capture);
        assert_eq!(r["ja4"], h.ja4, "{}", h.capture);
        // JA3 and JA4 count every suite and extension, so they agree with
        // tshark only if the whole hello was read; its groups name
        // X25519MLKEM768 first, and no anomaly says bytes were missing.
        let ja3_full = r["ja3_full"].as_str().unwrap();
        let groups = ja3_full.split(',').nth(3).unwrap();
        assert!(groups.starts_with("4588-29"), "{}: {ja3_full}", h.capture);
        for a in r["anomalies"].as_array().unwrap() {
            let a = a.as_str().unwrap();
            assert!(
                EXPECTED_ANOMALIES.contains(&a),
                "{}: unexpected anomaly {a}",
                h.capture
            );
        }
    }
}
