//! Unit tests for the tls module: published fingerprint vectors, synthetic
//! handshakes of every supported shape, and robustness (every truncation,
//! every split point, single-byte corruptions, random bytes).

use super::*;

/// ClientHello record of Edge to edge.microsoft.com, first TLS record of
/// tcp stream 0 in FoxIO-LLC/ja4 `pcap/browsers-x509.pcapng` (BSD-3-Clause,
/// commit 0e54bc83). Published: JA4 `t13d1516h2_8daaf6152771_e5627efa2ab1`
/// (FoxIO python `browsers-x509.pcapng.json`); JA3 per tshark 4.0.
const EDGE_CH: &str = "1603010200010001fc0303528b4e00213672e534980dfed836dd5b375ab164dcc65ba6a3c87e7e2a1f9d61201bf29c9dffaa31ed2df524d3a113edb4e6fd3b7fb3d6d57d5d9aafb213e83c420020aaaa130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f0035010001936a6a0000000d0012001004030804040105030805050108060601000000170015000012656467652e6d6963726f736f66742e636f6d000a000a00084a4a001d00170018000500050100000000000b00020100002b0007069a9a03040303001b0003020002ff010001000033002b00294a4a000100001d0020c4ce4268d58f0c703855163f4754b883742487a5ce87a6016a30208c18e07f69446900050003026832002d000201010023000000170000001200000010000e000c02683208687474702f312e310a0a000100001500c50000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

/// ClientHello and ServerHello records (TLS 1.0, www.github.com) from
/// arkime/arkime `tests/pcap/https3-301-get.pcap` (Apache-2.0, commit
/// 2d2f3678). JA3 and JA3S per tshark 4.0 and arkime's `.test` file.
const GITHUB_CH: &str = "16030100720100006e030152937a55b696cc98ae7b08ec10e765c98aefa82db3081771f8627617b967980800002e00390038003500160013000a00330032002f009a00990096000500040015001200090014001100080006000300ff0100001700000013001100000e7777772e6769746875622e636f6d";
const GITHUB_SH: &str = "160301005502000051030152937a4f757c6a4a77a32ba36d0f40917216b9f233330ba4d1b10b4b0714fd8620dddbfd5162689bb01e3f0ba158a586de9097b26cfc83599391cbb5e128d34b97000500000900000000ff01000100";

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
}

fn record(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 3, 3];
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn hs_msg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty];
    v.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    v.extend_from_slice(body);
    v
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn server_hello_body(random: &[u8; 32], sid: &[u8], cipher: u16, exts: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(random);
    b.push(sid.len() as u8);
    b.extend_from_slice(sid);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(exts);
    b
}

fn certificate_body(certs: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
    }
    let mut b = (list.len() as u32).to_be_bytes()[1..].to_vec();
    b.extend_from_slice(&list);
    b
}

/// A client ClientHello with a given session id (TLS 1.2 client).
fn client_hello_record(sid: &[u8], exts: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7u8; 32]);
    b.push(sid.len() as u8);
    b.extend_from_slice(sid);
    b.extend_from_slice(&[0, 4, 0xc0, 0x2f, 0x13, 0x01]);
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(exts);
    record(22, &hs_msg(1, &b))
}

/// Full TLS 1.2 handshake with mutual TLS: (client stream, server stream).
fn tls12_full() -> (Vec<u8>, Vec<u8>) {
    let mut c = unhex(GITHUB_CH);
    let mut s = Vec::new();
    let sh = server_hello_body(&[1; 32], &[9; 32], 0xc02f, &ext(0xff01, &[0]));
    let mut flight = hs_msg(2, &sh);
    flight.extend(hs_msg(
        11,
        &certificate_body(&[b"leaf-der-bytes", b"issuer-der"]),
    ));
    flight.extend(hs_msg(13, &[1, 1, 0, 0, 0, 0]));
    flight.extend(hs_msg(14, &[]));
    // The flight spans two records, the certificate split between them.
    let (f1, f2) = flight.split_at(60);
    s.extend(record(22, f1));
    s.extend(record(22, f2));
    let mut cf = hs_msg(11, &certificate_body(&[b"client-cert"]));
    cf.extend(hs_msg(16, &[0, 2, 1, 2]));
    c.extend(record(22, &cf));
    c.extend(record(20, &[1]));
    c.extend(record(22, &[0x55; 40]));
    s.extend(record(20, &[1]));
    s.extend(record(22, &[0x66; 40]));
    c.extend(record(23, &[0x77; 100]));
    s.extend(record(23, &[0x88; 200]));
    (c, s)
}

/// TLS 1.3 full handshake, client stream then server stream (in the order
/// fed: CH, SH+flight, client Finished).
fn tls13_parts(psk: bool, client_first_enc_len: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let c1 = unhex(EDGE_CH);
    let mut exts = ext(0x002b, &[3, 4]);
    exts.extend(ext(0x0033, &[0, 0x1d, 0, 1, 9]));
    if psk {
        exts.extend(ext(0x0029, &[0, 0]));
    }
    let sh = server_hello_body(&[2; 32], &[0xaa; 32], 0x1301, &exts);
    let mut s = record(22, &hs_msg(2, &sh));
    s.extend(record(20, &[1]));
    s.extend(record(23, &[0x11; 3000]));
    s.extend(record(23, &[0x12; 300]));
    let mut c2 = record(20, &[1]);
    c2.extend(record(23, &vec![0x21; client_first_enc_len]));
    (c1, s, c2)
}

fn run(parts: &[(Side, &[u8])]) -> Session {
    let mut sess = Session::new();
    for (i, (side, data)) in parts.iter().enumerate() {
        if sess.wants_bytes(*side) {
            sess.feed(*side, data, i as i64);
        } else {
            sess.skip(*side, data.len() as u64);
        }
    }
    sess
}

#[test]
fn edge_vector_ja3_ja4() {
    let s = run(&[(Side::A, &unhex(EDGE_CH))]);
    assert!(s.is_tls());
    let h = s.finish().unwrap();
    assert_eq!(
        h.fingerprints.ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
    assert_eq!(
        h.fingerprints.ja4_r.as_deref(),
        Some("t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601")
    );
    assert_eq!(
        h.fingerprints.ja3.as_deref(),
        Some("34fcb8e0ef812f18e760b52314a54fd0")
    );
    assert_eq!(
        h.fingerprints.ja3_full.as_deref(),
        Some("771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,13-0-10-5-11-43-27-65281-51-17513-45-35-23-18-16-21,29-23-24,0")
    );
    let ch = h.client_hello.unwrap();
    assert_eq!(ch.sni.as_deref(), Some("edge.microsoft.com"));
    assert_eq!(ch.alpn, vec!["h2".to_string(), "http/1.1".to_string()]);
    assert_eq!(ch.supported_versions, vec![0x9a9a, 0x0304, 0x0303]);
    assert_eq!(ch.session_id_len, 32);
    assert!(ch.has_session_ticket);
    assert_eq!(h.client_side, Side::A);
    assert_eq!(h.visibility, Visibility::Absent);
    // QUIC prefix only changes the first letter.
    let (q, _) = ja::ja4(&ch, true);
    assert!(q.starts_with("q13d1516h2_"));
}

#[test]
fn github_vector_ja3_ja3s() {
    let s = run(&[(Side::A, &unhex(GITHUB_CH)), (Side::B, &unhex(GITHUB_SH))]);
    let h = s.finish().unwrap();
    assert_eq!(
        h.fingerprints.ja3.as_deref(),
        Some("06a92bf69b367389d2feb0d70501ddfe")
    );
    assert_eq!(
        h.fingerprints.ja3s.as_deref(),
        Some("d2e6f7ef558ea8036c7e21b163b2d1af")
    );
    assert_eq!(h.fingerprints.ja3s_full.as_deref(), Some("769,5,0-65281"));
    assert_eq!(h.version, Some(0x0301));
    assert_eq!(h.cipher, Some(5));
    assert_eq!(
        h.client_hello.and_then(|c| c.sni).as_deref(),
        Some("www.github.com")
    );
}

#[test]
fn ja4_alpn_rules() {
    let mut ch = ClientHello::default();
    let a = |ch: &ClientHello| ja::ja4(ch, false).0[8..10].to_string();
    assert_eq!(a(&ch), "00");
    ch.alpn = vec!["http/1.1".into()];
    assert_eq!(a(&ch), "h1");
    // Non-ASCII (lossy-decoded) characters become '9' (FoxIO vector
    // tls-non-ascii-alpn.pcapng, ALPN 0xbaad).
    ch.alpn = vec![String::from_utf8_lossy(&[0xba, 0xad]).into_owned()];
    assert_eq!(a(&ch), "99");
    // ASCII but not alphanumeric: hex first/last characters.
    ch.alpn = vec!["*x/".into()];
    assert_eq!(a(&ch), "2f");
    // No ciphers and no extensions: zero hashes.
    let (j, r) = ja::ja4(&ClientHello::default(), false);
    assert_eq!(j, "t00i000000_000000000000_000000000000");
    assert_eq!(r, "t00i000000__");
}

#[test]
fn grease() {
    assert!(ja::is_grease(0x0a0a));
    assert!(ja::is_grease(0xfafa));
    assert!(!ja::is_grease(0x0a1a));
    assert!(!ja::is_grease(0x1301));
}

#[test]
fn tls12_mutual_tls_full_handshake() {
    let (c, s) = tls12_full();
    let h = run(&[(Side::A, &c), (Side::B, &s)]).finish().unwrap();
    assert_eq!(
        h.server_chain,
        vec![b"leaf-der-bytes".to_vec(), b"issuer-der".to_vec()]
    );
    assert_eq!(h.client_chain, vec![b"client-cert".to_vec()]);
    assert!(h.client_cert_requested);
    assert_eq!(h.visibility, Visibility::Plain);
    assert_eq!(h.visibility.as_str(), "plain");
    assert_eq!(h.version, Some(0x0303));
    assert_eq!(h.cipher, Some(0xc02f));
    assert_eq!(h.app_bytes_client, 105);
    assert_eq!(h.app_bytes_server, 205);
    assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
}

#[test]
fn tls12_done_after_finished() {
    let (c, s) = tls12_full();
    let mut sess = Session::new();
    sess.feed(Side::A, &c, 1);
    sess.feed(Side::B, &s, 2);
    assert!(!sess.wants_bytes(Side::A));
    assert!(!sess.wants_bytes(Side::B));
    sess.skip(Side::B, 1000);
    let h = sess.finish().unwrap();
    assert_eq!(h.app_bytes_server, 1205);
    assert_eq!(h.first_ts_us, Some(1));
    assert_eq!(h.last_ts_us, Some(2));
}

/// Every split point of each stream gives the same handshake as one feed.
#[test]
fn split_at_every_byte() {
    let (c, s) = tls12_full();
    let whole = run(&[(Side::A, &c), (Side::B, &s)]).finish();
    for i in 0..=c.len() {
        let (c1, c2) = c.split_at(i);
        let got = run(&[(Side::A, c1), (Side::A, c2), (Side::B, &s)]).finish();
        assert_eq!(
            got.as_ref().map(|h| &h.server_chain),
            whole.as_ref().map(|h| &h.server_chain)
        );
        assert_eq!(
            got.as_ref().map(|h| &h.fingerprints.ja3),
            whole.as_ref().map(|h| &h.fingerprints.ja3)
        );
        assert_eq!(
            got.as_ref().map(|h| &h.client_chain),
            whole.as_ref().map(|h| &h.client_chain)
        );
    }
    for i in 0..=s.len() {
        let (s1, s2) = s.split_at(i);
        let mut got = run(&[(Side::A, &c), (Side::B, s1), (Side::B, s2)]).finish();
        if let (Some(g), Some(w)) = (got.as_mut(), whole.as_ref()) {
            g.last_ts_us = w.last_ts_us;
        }
        assert_eq!(got, whole, "split at {i}");
    }
}

#[test]
fn byte_by_byte() {
    let (c, s) = tls12_full();
    let whole = run(&[(Side::A, &c), (Side::B, &s)]).finish().unwrap();
    let mut sess = Session::new();
    for b in c.chunks(1) {
        sess.feed(Side::A, b, 0);
    }
    for b in s.chunks(1) {
        if sess.wants_bytes(Side::B) {
            sess.feed(Side::B, b, 1);
        } else {
            sess.skip(Side::B, 1);
        }
    }
    let h = sess.finish().unwrap();
    assert_eq!(h.server_chain, whole.server_chain);
    assert_eq!(h.app_bytes_server, whole.app_bytes_server);
    assert_eq!(h.fingerprints.ja4, whole.fingerprints.ja4);
}

#[test]
fn every_truncation_no_panic() {
    let (c, s) = tls12_full();
    for i in 0..=c.len() {
        let _ = run(&[(Side::A, &c[..i])]).finish();
    }
    for i in 0..=s.len() {
        let h = run(&[(Side::A, &c), (Side::B, &s[..i])]).finish();
        assert!(h.is_some());
    }
    let (c1, s13, c2) = tls13_parts(false, 53);
    for i in 0..=s13.len() {
        let _ = run(&[(Side::A, &c1), (Side::B, &s13[..i]), (Side::A, &c2)]).finish();
    }
    // A truncated ClientHello is flagged, not parsed.
    let h = run(&[(Side::A, &c[..40]), (Side::B, &s)]).finish();
    assert!(h.is_some_and(|h| h.anomalies.contains(&Anomaly::HandshakeTruncated)));
}

#[test]
fn single_byte_corruptions_no_panic() {
    let (c, s) = tls12_full();
    for i in 0..c.len().min(400) {
        for v in [0x00, 0x7f, 0x80, 0xff] {
            let mut m = c.clone();
            m[i] = v;
            let _ = run(&[(Side::A, &m), (Side::B, &s)]).finish();
        }
    }
    for i in 0..s.len() {
        for v in [0x00, 0xff] {
            let mut m = s.clone();
            m[i] = v;
            let _ = run(&[(Side::A, &c), (Side::B, &m)]).finish();
        }
    }
}

#[test]
fn random_bytes_no_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        let n = (next() % 3000) as usize;
        let mut buf: Vec<u8> = (0..n).map(|_| next() as u8).collect();
        // Half of the inputs start like a handshake record to go deeper.
        if round % 2 == 0 && buf.len() > 6 {
            buf[..6].copy_from_slice(&[22, 3, 1, 0x0b, 0xb8, (round % 16) as u8]);
        }
        let mut sess = Session::new();
        let mut i = 0;
        while i < buf.len() {
            let k = ((next() % 200) as usize + 1).min(buf.len() - i);
            let side = if next() % 2 == 0 { Side::A } else { Side::B };
            if next() % 50 == 0 {
                sess.gap(side, next() % 100);
            }
            if sess.wants_bytes(side) {
                sess.feed(side, &buf[i..i + k], 0);
            } else {
                sess.skip(side, k as u64);
            }
            i += k;
        }
        let _ = sess.finish();
    }
}

#[test]
fn tls13_encrypted_flight() {
    let (c1, s, c2) = tls13_parts(false, 53);
    let mut sess = Session::new();
    sess.feed(Side::A, &c1, 0);
    sess.feed(Side::B, &s, 1);
    assert!(sess.wants_bytes(Side::B));
    sess.feed(Side::A, &c2, 2);
    assert!(!sess.wants_bytes(Side::A));
    assert!(!sess.wants_bytes(Side::B));
    let h = sess.finish().unwrap();
    assert_eq!(h.version, Some(0x0304));
    assert_eq!(h.visibility, Visibility::Encrypted);
    assert_eq!(h.server_flight_bytes, 3005 + 305);
    assert!(h.alerts.is_empty());
    assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
    assert_eq!(version_name(h.version.unwrap_or(0)), "TLS 1.3");
    assert_eq!(cipher_name(h.cipher.unwrap_or(0)), "TLS_AES_128_GCM_SHA256");
}

#[test]
fn tls13_client_rejects_flight_with_encrypted_alert() {
    let (c1, s, c2) = tls13_parts(false, 19);
    let h = run(&[(Side::A, &c1), (Side::B, &s), (Side::A, &c2)])
        .finish()
        .unwrap();
    assert_eq!(h.alerts.len(), 1);
    let a = &h.alerts[0];
    assert!(a.encrypted && a.after_server_certificate);
    assert_eq!(a.side, Side::A);
}

#[test]
fn tls13_psk_is_resumed() {
    let (c1, s, c2) = tls13_parts(true, 53);
    let h = run(&[(Side::A, &c1), (Side::B, &s), (Side::A, &c2)])
        .finish()
        .unwrap();
    assert_eq!(h.visibility, Visibility::Resumed);
}

#[test]
fn hello_retry_request() {
    let c1 = unhex(EDGE_CH);
    let hrr = server_hello_body(
        &hello::HRR_RANDOM,
        &[0xaa; 32],
        0x1301,
        &ext(0x002b, &[3, 4]),
    );
    let mut s = record(22, &hs_msg(2, &hrr));
    s.extend(record(20, &[1]));
    let mut c2 = record(20, &[1]);
    c2.extend(client_hello_record(&[0xaa; 32], &ext(0x002b, &[2, 3, 4])));
    let sh = server_hello_body(&[3; 32], &[0xaa; 32], 0x1301, &ext(0x002b, &[3, 4]));
    let mut s2 = record(22, &hs_msg(2, &sh));
    s2.extend(record(23, &[0x11; 500]));
    let h = run(&[
        (Side::A, &c1),
        (Side::B, &s),
        (Side::A, &c2),
        (Side::B, &s2),
    ])
    .finish()
    .unwrap();
    assert!(h.hello_retry);
    assert!(h.client_hello2.is_some());
    assert_eq!(
        h.server_hello.as_ref().map(|s| s.is_hello_retry),
        Some(false)
    );
    assert_eq!(h.version, Some(0x0304));
    assert_eq!(h.cipher, Some(0x1301));
    assert_eq!(h.visibility, Visibility::Encrypted);
    assert_eq!(
        h.fingerprints.ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
    assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
}

/// The HelloRetryRequest of RFC 8448 §5, hex as published (176 octets,
/// handshake header included): TLS_AES_128_GCM_SHA256, key_share asking for
/// secp256r1, a cookie, supported_versions TLS 1.3.
const RFC8448_HRR: &str =
    "020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c\
    001301000084003300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc76\
    c146b823b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137\
    abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9\
    e4c0342267e8ca0caf571fb2b7cff0f934b0002b00020304";

#[test]
fn issue_30_hello_retry_request_alone_gives_version_and_cipher() {
    // A connection cut after the HRR (client gave up, capture ended): the
    // HRR already holds the server's choice (RFC 8446 §4.1.4), and tshark
    // shows its version, cipher and JA3S.
    let c1 = unhex(EDGE_CH);
    let s = record(22, &unhex(RFC8448_HRR));
    let h = run(&[(Side::A, &c1), (Side::B, &s)]).finish().unwrap();
    assert!(h.hello_retry);
    assert!(h.server_hello.is_none());
    assert_eq!(h.version, Some(0x0304));
    assert_eq!(h.cipher, Some(0x1301));
    assert_eq!(
        h.fingerprints.ja3s_full.as_deref(),
        Some("771,4865,51-44-43")
    );
    assert_eq!(
        h.fingerprints.ja3s.as_deref(),
        Some("5e782992dd22a63dd5c0ebc97e3f3843")
    );
}

#[test]
fn issue_30_hello_retry_request_every_truncation_no_panic() {
    let c1 = unhex(EDGE_CH);
    let hrr = unhex(RFC8448_HRR);
    for n in 0..hrr.len() {
        let s = record(22, hrr.get(..n).unwrap_or_default());
        let _ = run(&[(Side::A, &c1), (Side::B, &s)]).finish();
    }
}

#[test]
fn tls12_abbreviated_is_resumed() {
    let c = client_hello_record(&[5; 32], &ext(0x0023, &[]));
    let sh = server_hello_body(&[1; 32], &[5; 32], 0xc02f, &[]);
    let mut s = record(22, &hs_msg(2, &sh));
    s.extend(record(20, &[1]));
    s.extend(record(22, &[0x66; 40]));
    let mut c2 = record(20, &[1]);
    c2.extend(record(22, &[0x55; 40]));
    let h = run(&[(Side::B, &c), (Side::A, &s), (Side::B, &c2)])
        .finish()
        .unwrap();
    assert_eq!(h.client_side, Side::B);
    assert_eq!(h.visibility, Visibility::Resumed);
    assert_eq!(h.visibility.as_str(), "resumed");
}

#[test]
fn clear_alert_after_certificate() {
    let (c, s) = tls12_full();
    let cut = c.len() - 2 * 105 - 45 - 6;
    let c1 = &c[..unhex(GITHUB_CH).len()];
    let alert = record(21, &[2, 42]);
    let h = run(&[(Side::A, c1), (Side::B, &s), (Side::A, &alert)])
        .finish()
        .unwrap();
    let _ = cut;
    assert_eq!(h.alerts.len(), 1);
    assert_eq!(h.alerts[0].level, Some(2));
    assert_eq!(h.alerts[0].description, Some(42));
    assert!(h.alerts[0].after_server_certificate);
    assert!(!h.alerts[0].encrypted);
}

#[test]
fn sslv2_client_hello() {
    // SSLv2 record: len, type 1, version 3.1, 3 cipher specs, no session
    // id, 16-byte challenge.
    let mut m = vec![1, 3, 1, 0, 9, 0, 0, 0, 16];
    m.extend_from_slice(&[0, 0, 0x35, 0, 0, 0x2f, 0x07, 0x00, 0xc0]);
    m.extend_from_slice(&[0xab; 16]);
    let mut rec = vec![0x80, m.len() as u8];
    rec.extend_from_slice(&m);
    let h = run(&[(Side::A, &rec), (Side::B, &unhex(GITHUB_SH))])
        .finish()
        .unwrap();
    let ch = h.client_hello.as_ref().unwrap();
    assert!(ch.sslv2);
    assert_eq!(ch.ciphers, vec![0x35, 0x2f]);
    assert_eq!(ch.sslv2_ciphers, vec![0x0007_00c0]);
    assert_eq!(h.fingerprints.ja3_full.as_deref(), Some("769,53-47,,,"));
    assert!(h.anomalies.contains(&Anomaly::Sslv2Hello));
    assert_eq!(h.cipher, Some(5));
}

#[test]
fn http_connect_preamble() {
    let mut c =
        b"CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\n\r\n".to_vec();
    c.extend(unhex(EDGE_CH));
    let mut s = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
    s.extend(unhex(GITHUB_SH));
    let h = run(&[(Side::A, &c[..10]), (Side::A, &c[10..]), (Side::B, &s)])
        .finish()
        .unwrap();
    assert_eq!(h.connect_target.as_deref(), Some("www.example.com:443"));
    assert!(h.client_hello.is_some() && h.server_hello.is_some());
    assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
}

/// Through a SOCKS5 proxy (curl --socks5-hostname, mitmproxy --mode
/// socks5): greeting, CONNECT by name, then TLS; the proxy's replies before
/// the ServerHello. Fed a byte at a time, then whole.
#[test]
fn socks5_connect_preamble() {
    let mut c = vec![5, 1, 0, 5, 1, 0, 3, 15];
    c.extend_from_slice(b"www.example.com");
    c.extend_from_slice(&443u16.to_be_bytes());
    c.extend(unhex(EDGE_CH));
    let mut s = vec![5, 0, 5, 0, 0, 1, 192, 0, 2, 1, 0x04, 0x38];
    s.extend(unhex(GITHUB_SH));
    let bytewise: Vec<(Side, &[u8])> = c
        .chunks(1)
        .map(|b| (Side::A, b))
        .chain(s.chunks(1).map(|b| (Side::B, b)))
        .collect();
    for feed in [bytewise, vec![(Side::A, &c[..]), (Side::B, &s[..])]] {
        let h = run(&feed).finish().unwrap();
        assert_eq!(h.connect_target.as_deref(), Some("www.example.com:443"));
        assert!(h.client_hello.is_some() && h.server_hello.is_some());
        assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
    }
}

#[test]
fn starttls_preamble() {
    let mut s = b"220 mail ESMTP\r\n250-STARTTLS\r\n220 go ahead\r\n".to_vec();
    s.extend(unhex(GITHUB_SH));
    let mut c = b"EHLO x\r\nSTARTTLS\r\n".to_vec();
    c.extend(unhex(GITHUB_CH));
    let h = run(&[(Side::B, &s[..16]), (Side::A, &c), (Side::B, &s[16..])])
        .finish()
        .unwrap();
    assert_eq!(h.client_side, Side::A);
    assert!(h.server_hello.is_some());
}

#[test]
fn not_tls() {
    let mut sess = Session::new();
    sess.feed(Side::A, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    sess.feed(Side::A, &[b'x'; 20000], 0);
    assert!(!sess.wants_bytes(Side::A));
    assert!(!sess.is_tls());
    assert!(sess.finish().is_none());
}

#[test]
fn caps_are_flagged() {
    // Record longer than 2^14 + 2048.
    let mut c = unhex(GITHUB_CH);
    c.extend_from_slice(&[22, 3, 3, 0x48, 0x01]);
    let mut sess = Session::new();
    sess.feed(Side::A, &c, 0);
    assert!(!sess.wants_bytes(Side::A));
    let h = sess.finish().unwrap();
    assert!(h.anomalies.contains(&Anomaly::RecordTooLarge));
    // Handshake message longer than the cap.
    let mut s = unhex(GITHUB_SH);
    s.extend(record(22, &[11, 0x10, 0, 0]));
    let h = run(&[(Side::A, &unhex(GITHUB_CH)), (Side::B, &s)])
        .finish()
        .unwrap();
    assert!(h.anomalies.contains(&Anomaly::HandshakeTooLarge));
}

#[test]
fn chain_is_capped() {
    let certs: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 3]).collect();
    let refs: Vec<&[u8]> = certs.iter().map(|c| c.as_slice()).collect();
    let sh = server_hello_body(&[1; 32], &[], 0xc02f, &[]);
    let mut s = record(22, &hs_msg(2, &sh));
    s.extend(record(22, &hs_msg(11, &certificate_body(&refs))));
    let h = run(&[(Side::A, &unhex(GITHUB_CH)), (Side::B, &s)])
        .finish()
        .unwrap();
    assert_eq!(h.server_chain.len(), MAX_CHAIN_LEN);
    assert!(h.anomalies.contains(&Anomaly::ChainTooLong));
}

#[test]
fn gap_then_resync() {
    let (c, s) = tls12_full();
    let sh_len = unhex(GITHUB_SH).len();
    let mut sess = Session::new();
    sess.feed(Side::A, &c, 0);
    // Lose the middle of the server's first record, then resume mid-record:
    // the session skips to the next record header.
    sess.feed(Side::B, &s[..20], 1);
    sess.gap(Side::B, 30);
    sess.feed(Side::B, &s[50..], 2);
    let h = sess.finish().unwrap();
    assert!(h.anomalies.contains(&Anomaly::GapInHandshake));
    let _ = sh_len;
}

#[test]
fn names() {
    assert_eq!(version_name(0x0303), "TLS 1.2");
    assert_eq!(version_name(0x0300), "SSL 3.0");
    assert_eq!(version_name(0x7f17), "TLS 1.3 draft 23");
    assert_eq!(version_name(0x1234), "0x1234");
    assert_eq!(cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
    assert_eq!(cipher_name(0xc030), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_eq!(
        cipher_name(0xcca8),
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    );
    assert_eq!(cipher_name(0x00ff), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    assert_eq!(cipher_name(0xeeee), "0xeeee");
    assert_eq!(Side::A.other(), Side::B);
}

#[test]
fn tls13_early_data_before_server_hello() {
    let (c1, s, c2) = tls13_parts(false, 53);
    let early = record(23, &[0x31; 100]);
    let mut sess = Session::new();
    sess.feed(Side::A, &c1, 0);
    sess.feed(Side::A, &early, 0);
    assert!(sess.wants_bytes(Side::A));
    sess.feed(Side::B, &s, 1);
    sess.feed(Side::A, &c2, 2);
    let h = sess.finish().unwrap();
    assert_eq!(h.server_flight_bytes, 3005 + 305);
    assert_eq!(h.app_bytes_client, 105);
    assert_eq!(h.visibility, Visibility::Encrypted);
}

#[test]
fn mid_stream_bulk_gives_up() {
    let mut sess = Session::new();
    sess.gap(Side::A, 1000);
    let text = b"hello world, no records here. ".repeat(4000);
    for chunk in text.chunks(1400) {
        if sess.wants_bytes(Side::A) {
            sess.feed(Side::A, chunk, 0);
        } else {
            sess.skip(Side::A, chunk.len() as u64);
        }
    }
    assert!(!sess.wants_bytes(Side::A));
    assert!(sess.finish().is_none());
}

#[test]
fn mid_stream_tls12_app_data_stops() {
    let mut sess = Session::new();
    sess.gap(Side::B, 5000);
    let mut s = vec![0x42; 33];
    s.extend(record(23, &[0x99; 700]));
    s.extend(record(23, &[0x99; 700]));
    sess.feed(Side::B, &s, 0);
    assert!(!sess.wants_bytes(Side::B));
    assert!(!sess.is_tls());
}

#[test]
fn tls12_server_flight_bytes() {
    let (c, s) = tls12_full();
    let h = run(&[(Side::A, &c), (Side::B, &s)]).finish().unwrap();
    // Certificate (4 + 3 + 3 + 14 + 3 + 10) + CertificateRequest (4 + 6)
    // + ServerHelloDone (4).
    assert_eq!(h.server_flight_bytes, 37 + 10 + 4);
}

#[test]
fn missing_certificate_without_echo_is_absent() {
    // Full handshake (new session id) whose Certificate was not captured.
    let c = client_hello_record(&[], &[]);
    let sh = server_hello_body(&[1; 32], &[8; 32], 0xc02f, &[]);
    let mut s = record(22, &hs_msg(2, &sh));
    s.extend(record(20, &[1]));
    let h = run(&[(Side::A, &c), (Side::B, &s)]).finish().unwrap();
    assert_eq!(h.visibility, Visibility::Absent);
}
