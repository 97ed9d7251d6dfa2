//! DTLS connections built here byte by byte: the cookie exchange, messages
//! cut into fragments across records and datagrams, reordered and
//! retransmitted flights, a DTLS 1.3 HelloRetryRequest, a restart on the
//! same 4-tuple, and hostile input.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use super::{is_candidate, Datagram, Shard};
use crate::error::Anomaly;
use crate::flow::FlowLimits;
type FlowRecord = crate::flow::FlowRecord<crate::tls::Handshake>;
use crate::tls::Visibility;

const CLIENT: &str = "10.0.0.1:5000";
const SERVER: &str = "10.0.0.2:4433";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn u24(n: usize) -> [u8; 3] {
    let b = (n as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A DTLS 1.2 ClientHello body with SNI "dtls.example", `cookie`, two
/// suites, supported_groups, and (for 1.3) supported_versions.
fn client_hello(cookie: &[u8], v13: bool) -> Vec<u8> {
    let mut exts = Vec::new();
    let name = b"dtls.example";
    exts.extend_from_slice(&[0, 0]);
    exts.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    exts.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    exts.push(0);
    exts.extend_from_slice(&(name.len() as u16).to_be_bytes());
    exts.extend_from_slice(name);
    exts.extend_from_slice(&[0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d]);
    if v13 {
        exts.extend_from_slice(&[0x00, 0x2b, 0x00, 0x05, 0x04, 0xfe, 0xfc, 0xfe, 0xfd]);
    }
    let mut b = vec![0xfe, 0xfd];
    b.extend_from_slice(&[0x11; 32]);
    b.push(0);
    b.push(cookie.len() as u8);
    b.extend_from_slice(cookie);
    b.extend_from_slice(&[0, 4, 0xc0, 0x2b, 0x13, 0x01, 1, 0]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    b
}

fn server_hello(random: [u8; 32], v13: bool) -> Vec<u8> {
    let mut b = vec![0xfe, 0xfd];
    b.extend_from_slice(&random);
    b.push(0);
    if v13 {
        b.extend_from_slice(&[0x13, 0x01, 0, 0, 6, 0x00, 0x2b, 0x00, 0x02, 0xfe, 0xfc]);
    } else {
        b.extend_from_slice(&[0xc0, 0x2b, 0, 0, 0]);
    }
    b
}

fn hello_verify_request(cookie: &[u8]) -> Vec<u8> {
    let mut b = vec![0xfe, 0xff, cookie.len() as u8];
    b.extend_from_slice(cookie);
    b
}

/// A Certificate message body with one "certificate" of `n` bytes.
fn certificate(n: usize) -> Vec<u8> {
    let der: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
    let mut b = u24(n + 3).to_vec();
    b.extend_from_slice(&u24(n));
    b.extend_from_slice(&der);
    b
}

/// Handshake fragments of one message, cut into pieces of `piece` bytes.
fn fragments(ty: u8, seq: u16, body: &[u8], piece: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 0;
    loop {
        let end = (off + piece).min(body.len());
        let mut f = vec![ty];
        f.extend_from_slice(&u24(body.len()));
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&u24(off));
        f.extend_from_slice(&u24(end - off));
        f.extend_from_slice(&body[off..end]);
        out.push(f);
        off = end;
        if off >= body.len() {
            return out;
        }
    }
}

fn record(ty: u8, epoch: u16, payload: &[u8]) -> Vec<u8> {
    let mut r = vec![ty, 0xfe, 0xfd];
    r.extend_from_slice(&epoch.to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0, 0, 1]);
    r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    r.extend_from_slice(payload);
    r
}

fn hs(ty: u8, seq: u16, body: &[u8]) -> Vec<u8> {
    record(22, 0, &fragments(ty, seq, body, usize::MAX)[0])
}

fn run(datagrams: &[(&str, Vec<u8>)]) -> Vec<FlowRecord> {
    let mut shard = Shard::with_limits(FlowLimits::default());
    for (i, (from, payload)) in datagrams.iter().enumerate() {
        let (src, dst) = if *from == "c" {
            (addr(CLIENT), addr(SERVER))
        } else {
            (addr(SERVER), addr(CLIENT))
        };
        shard.push(&Datagram {
            src,
            dst,
            ttl: 64,
            payload,
            ts_us: 1_000 + i as i64,
            file: 0,
            frame: i as u64,
        });
    }
    shard.finish_all();
    shard.finished
}

#[test]
fn cookie_exchange_fragments_and_retransmissions() {
    let cookie = [0xc0; 20];
    let ch1 = hs(1, 0, &client_hello(&[], false));
    let hvr = hs(3, 0, &hello_verify_request(&cookie));
    // The second ClientHello in two fragments, in two records of one
    // datagram, sent twice.
    let ch2_frags = fragments(1, 1, &client_hello(&cookie, false), 40);
    let mut ch2 = Vec::new();
    for f in &ch2_frags {
        ch2.extend_from_slice(&record(22, 0, f));
    }
    // The server flight: ServerHello, a 3000-byte Certificate cut into
    // 1000-byte fragments sent out of order, ServerHelloDone.
    let sh = hs(2, 1, &server_hello([0x22; 32], false));
    let cert = fragments(11, 2, &certificate(3000), 1000);
    let done = hs(14, 3, &[]);
    let ccs = record(20, 0, &[1]);
    let fin = record(22, 1, &[0x99; 40]);
    let recs = run(&[
        ("c", ch1.clone()),
        ("c", ch1),
        ("s", hvr),
        ("c", ch2.clone()),
        ("c", ch2),
        (
            "s",
            [sh.clone(), record(22, 0, &cert[2]), record(22, 0, &cert[3])].concat(),
        ),
        ("s", record(22, 0, &cert[0])),
        ("s", [record(22, 0, &cert[1]), done].concat()),
        ("s", [sh, record(22, 0, &cert[1])].concat()),
        ("c", [ccs, fin].concat()),
    ]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.transport, "dtls");
    assert_eq!(r.client, addr(CLIENT));
    assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
    let h = r.handshake.as_ref().unwrap();
    let ch = h.client_hello.as_ref().unwrap();
    assert_eq!(ch.sni.as_deref(), Some("dtls.example"));
    assert_eq!(ch.legacy_version, 0xfefd);
    assert!(h.client_hello2.is_none());
    assert!(!h.hello_retry);
    assert_eq!(h.version, Some(0xfefd));
    assert_eq!(h.server_chain.len(), 1);
    assert_eq!(h.server_chain[0], certificate(3000)[6..]);
    assert_eq!(h.visibility, Visibility::Plain);
    assert!(
        h.fingerprints
            .ja4
            .as_deref()
            .unwrap()
            .starts_with("dd2d0202"),
        "{:?}",
        h.fingerprints.ja4
    );
    assert!(h
        .fingerprints
        .ja3_full
        .as_deref()
        .unwrap()
        .starts_with("65277,49195-4865,0-10,29,"));
    assert!(h.anomalies.is_empty(), "{:?}", h.anomalies);
    assert_eq!(h.app_bytes_client, 40);
}

#[test]
fn dtls13_hello_retry_is_kept_and_certificate_encrypted() {
    // SHA-256("HelloRetryRequest"), RFC 8446 §4.1.3.
    let hrr_random: [u8; 32] =
        hex::decode("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
            .unwrap()
            .try_into()
            .unwrap();
    let recs = run(&[
        ("c", hs(1, 0, &client_hello(&[], true))),
        ("s", hs(2, 0, &server_hello(hrr_random, true))),
        ("c", hs(1, 1, &client_hello(&[1, 2], true))),
        (
            "s",
            [
                hs(2, 1, &server_hello([5; 32], true)),
                vec![0x2c, 0, 1, 0, 3, 1, 2, 3],
            ]
            .concat(),
        ),
    ]);
    let h = recs[0].handshake.as_ref().unwrap();
    assert!(h.hello_retry);
    assert!(h.client_hello2.is_some());
    assert_eq!(h.version, Some(0xfefc));
    assert_eq!(h.visibility, Visibility::Encrypted);
    // Offers DTLS 1.3 and 1.2: the highest is 1.3.
    assert!(
        h.fingerprints
            .ja4
            .as_deref()
            .unwrap()
            .starts_with("dd3d0203"),
        "{:?}",
        h.fingerprints.ja4
    );
    assert_eq!(h.app_bytes_server, 8);
}

#[test]
fn a_new_client_hello_after_a_server_hello_is_a_new_connection() {
    let mut other = client_hello(&[], false);
    other[5] = 0x33;
    let recs = run(&[
        ("c", hs(1, 0, &client_hello(&[], false))),
        ("s", hs(2, 0, &server_hello([1; 32], false))),
        ("c", hs(1, 0, &other)),
        ("s", hs(2, 0, &server_hello([2; 32], false))),
    ]);
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.handshake.is_some()));
}

#[test]
fn server_first_sets_the_roles_by_the_hello() {
    let recs = run(&[
        ("s", vec![0xff, 0, 0]),
        ("s", hs(1, 0, &client_hello(&[], false))),
        ("c", hs(2, 0, &server_hello([1; 32], false))),
    ]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].client, addr(SERVER));
}

#[test]
fn hostile_datagrams_never_panic() {
    let ch = hs(1, 0, &client_hello(&[9; 4], true));
    let sh = [
        hs(2, 0, &server_hello([1; 32], false)),
        record(22, 0, &fragments(11, 1, &certificate(300), 100)[1]),
    ]
    .concat();
    for n in 0..ch.len() {
        let _ = run(&[("c", ch[..n].to_vec()), ("s", sh.clone())]);
    }
    for i in 0..ch.len() {
        for v in [0u8, 0xff, 0x80] {
            let mut c = ch.clone();
            c[i] = v;
            let mut s = sh.clone();
            let j = i % s.len();
            s[j] ^= v;
            if is_candidate(&c) {
                let _ = run(&[("c", ch.clone()), ("c", c), ("s", s)]);
            }
        }
    }
    // A flood of distinct fragments stays within the caps.
    let mut flood = Vec::new();
    for seq in 0..200u16 {
        flood.push(("c", hs(1, seq, &client_hello(&[], false))));
    }
    let recs = run(&flood);
    assert_eq!(recs.len(), 1);
    assert!(recs[0].anomalies.contains(&Anomaly::DtlsHandshakeCap));
}
