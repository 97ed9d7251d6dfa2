//! Regression tests, named after the issue that found them.

use crate::{capture, certsift};
use certsift::analysis::Kind;
use certsift::error::Anomaly;
use certsift::rows::Severity;

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
        h.fingerprints.ja3_full.as_deref(),
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
            f.kind == Kind::BaselineDeviation
                && f.severity == Severity::High
                && f.names.iter().any(|n| n == name)
        })
    };
    // mitmproxy's forgeries were never seen in the clean baseline...
    assert!(deviation("www.example-bank.test"), "{findings:#?}");
    assert!(deviation("api.shop.test"));
    // ...while mail.corp.test got the certificate the baseline knows.
    assert!(!findings
        .iter()
        .any(|f| f.kind.as_str().starts_with("baseline")
            && f.names.iter().any(|n| n == "mail.corp.test")));
}

// ---- issue 30: TLS inside GTP-U and CAPWAP --------------------------------

fn be16(v: usize) -> [u8; 2] {
    u16::try_from(v).unwrap().to_be_bytes()
}

/// A TLS 1.2-style ClientHello record offering one suite, with an SNI.
fn client_hello_record(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut sni_ext = vec![0, 0];
    sni_ext.extend_from_slice(&be16(name.len() + 5));
    sni_ext.extend_from_slice(&be16(name.len() + 3));
    sni_ext.push(0);
    sni_ext.extend_from_slice(&be16(name.len()));
    sni_ext.extend_from_slice(name);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 2, 0xc0, 0x2f, 1, 0]);
    body.extend_from_slice(&be16(sni_ext.len()));
    body.extend_from_slice(&sni_ext);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&be16(body.len()));
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&be16(hs.len()));
    rec.extend_from_slice(&hs);
    rec
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&be16(20 + body.len()));
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(body);
    h
}

fn udp(sport: u16, dport: u16, body: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&be16(8 + body.len()));
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(body);
    u
}

fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut e = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    e.extend_from_slice(&ethertype.to_be_bytes());
    e.extend_from_slice(body);
    e
}

/// The user's TCP segment of the flow from 10.30.0.1:`port` to
/// 10.30.0.2:443 (`up`) or back.
fn user_segment(port: u16, up: bool, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let (sp, dp) = if up { (port, 443) } else { (443, port) };
    let mut t = sp.to_be_bytes().to_vec();
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(data);
    let (a, b) = ([10, 30, 0, 1], [10, 30, 0, 2]);
    let (s, d) = if up { (a, b) } else { (b, a) };
    ipv4(s, d, 6, &t)
}

#[derive(Clone, Copy)]
enum Tun {
    Gtp,
    Capwap8023,
    Capwap80211,
}

/// Wraps a user IP packet in `tun`, as seen on the tapped link.
fn wrap(tun: Tun, up: bool, packet: &[u8]) -> Vec<u8> {
    let (ap, core) = ([192, 0, 2, 10], [192, 0, 2, 20]);
    let (s, d) = if up { (ap, core) } else { (core, ap) };
    let dgram = match tun {
        Tun::Gtp => {
            let mut g = vec![0x32, 0xff];
            g.extend_from_slice(&be16(packet.len() + 4));
            g.extend_from_slice(&[0, 0, 0, 9, 0, 1, 0, 0]);
            g.extend_from_slice(packet);
            udp(2152, 2152, &g)
        }
        Tun::Capwap8023 | Tun::Capwap80211 => {
            let native = matches!(tun, Tun::Capwap80211);
            let w: u32 = (2 << 19) | (1 << 9) | if native { 0x100 } else { 0 };
            let mut c = w.to_be_bytes().to_vec();
            c.extend_from_slice(&[0; 4]);
            if native {
                // QoS data, To DS up or From DS down, LLC/SNAP, IPv4.
                c.extend_from_slice(&[0x88, if up { 0x01 } else { 0x02 }, 0, 0]);
                c.extend_from_slice(&[0x02; 18]);
                c.extend_from_slice(&[0; 4]);
                c.extend_from_slice(&[0xaa, 0xaa, 3, 0, 0, 0, 8, 0]);
                c.extend_from_slice(packet);
            } else {
                c.extend_from_slice(&eth(0x0800, packet));
            }
            if up {
                udp(33000, 5247, &c)
            } else {
                udp(5247, 33000, &c)
            }
        }
    };
    eth(0x0800, &ipv4(s, d, 17, &dgram))
}

fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        let len = u32::try_from(f.len()).unwrap();
        out.extend_from_slice(&(1_700_000_000 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

#[test]
fn issue_30_client_hellos_inside_gtp_u_and_capwap_are_found() {
    let flows = [
        (Tun::Gtp, 41000, "gtp.example.test"),
        (Tun::Capwap8023, 41001, "capwap-8023.example.test"),
        (Tun::Capwap80211, 41002, "capwap-80211.example.test"),
    ];
    let mut frames = Vec::new();
    for (tun, port, sni) in flows {
        let hello = client_hello_record(sni);
        frames.push(wrap(
            tun,
            true,
            &user_segment(port, true, 100, 0, 0x02, &[]),
        ));
        frames.push(wrap(
            tun,
            false,
            &user_segment(port, false, 900, 101, 0x12, &[]),
        ));
        frames.push(wrap(
            tun,
            true,
            &user_segment(port, true, 101, 901, 0x10, &[]),
        ));
        frames.push(wrap(
            tun,
            true,
            &user_segment(port, true, 101, 901, 0x18, &hello),
        ));
    }
    let input = tempfile::tempdir().unwrap();
    let path = input.path().join("issue_30_tunnels.pcap");
    std::fs::write(&path, pcap(&frames)).unwrap();
    let mut found: Vec<(u64, String)> = crate::handshake_rows(&[path.to_str().unwrap()])
        .iter()
        .map(|r| {
            (
                r["client_port"].as_u64().unwrap_or(0),
                r["sni"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    let want: Vec<(u64, String)> = flows
        .iter()
        .map(|(_, p, s)| (u64::from(*p), s.to_string()))
        .collect();
    assert_eq!(found, want);
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
    assert!(h.anomalies.contains(&Anomaly::TcpMultipleSynack));
    assert!(!h.anomalies.contains(&Anomaly::TcpMidstream));
    // Bogus first bytes neither hide the connection nor go unnoticed.
    let h = row(40002);
    assert_eq!(h.sni.as_deref(), Some("test"));
    assert_eq!(h.tls_version.as_deref(), Some("TLS 1.2"));
    assert!(h.anomalies.contains(&Anomaly::TcpConflictingOverlap));
    // A HelloRetryRequest alone gives version, cipher and JA3S.
    let h = row(40003);
    assert_eq!(h.tls_version.as_deref(), Some("TLS 1.3"));
    assert_eq!(h.cipher_suite.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(
        h.fingerprints.ja3s_full.as_deref(),
        Some("771,4865,51-44-43")
    );
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
    assert!(h.anomalies.contains(&Anomaly::TcpMultipleSynack));
    // Following the first ISN put the server's bytes 1.1 GB ahead: a gap,
    // and a handshake read only by resynchronising after it.
    assert_eq!(h.anomalies, [Anomaly::TcpMultipleSynack]);
}
