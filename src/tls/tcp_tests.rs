//! The TLS stage behind the TCP flow stage: handshakes read from segments
//! that several SYN-ACKs, bogus first bytes or conflicting overlaps try to
//! hide (issue 30).

use super::{Handshake, Session};
use crate::decode::{tcp_flags as flags, TcpSegment};
use crate::error::Anomaly;
use crate::flow::{FlowRecord, Shard, Stamp};

const C: &str = "10.0.0.2:40000";
const S: &str = "10.0.0.1:443";

fn seg(src: &str, dst: &str, seq: u32, fl: u8) -> TcpSegment<'static> {
    TcpSegment::between(src, dst, seq, fl, b"")
}

/// Pushes a segment captured at time 0.
fn push(shard: &mut Shard<Session>, s: &TcpSegment<'_>) {
    shard.push(s, Stamp::default());
}

fn data<'a>(src: &str, dst: &str, seq: u32, ack: u32, payload: &'a [u8]) -> TcpSegment<'a> {
    TcpSegment {
        ack,
        payload,
        ..seg(src, dst, seq, flags::ACK)
    }
}

/// A hello record (RFC 5246 §7.4.1.2-3) with no session id and no
/// extensions: ClientHello offering `cipher`, or ServerHello choosing it.
fn hello(ty: u8, cipher: u16) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.push(0);
    if ty == 1 {
        body.extend_from_slice(&[0, 2]);
    }
    body.extend_from_slice(&cipher.to_be_bytes());
    body.extend_from_slice(if ty == 1 { &[1, 0] } else { &[0] });
    body.extend_from_slice(&[0, 0]);
    let mut msg = vec![ty, 0, 0, body.len() as u8];
    msg.extend_from_slice(&body);
    let mut rec = vec![22, 3, 3, 0, msg.len() as u8];
    rec.extend_from_slice(&msg);
    rec
}

fn finish(shard: &mut Shard<Session>) -> FlowRecord<Handshake> {
    shard.finish_all();
    assert_eq!(shard.finished.len(), 1);
    shard.finished.pop().unwrap()
}

/// SYN, then SYN-ACKs with these ISNs, then the client's ACK of
/// `acked`, then both hellos (the server's after `acked`).
fn several_synacks(isns: &[u32], acked: u32, ack_first: bool) -> FlowRecord<Handshake> {
    let mut shard = Shard::<Session>::new();
    push(&mut shard, &seg(C, S, 100, flags::SYN));
    for &isn in isns {
        let sa = TcpSegment {
            ack: 101,
            ..seg(S, C, isn, flags::SYN | flags::ACK)
        };
        push(&mut shard, &sa);
    }
    let ch = hello(1, 0xc02f);
    let sh = hello(2, 0xc02f);
    let server_data = data(S, C, acked.wrapping_add(1), 101 + ch.len() as u32, &sh);
    if !ack_first {
        push(&mut shard, &server_data);
    }
    push(&mut shard, &data(C, S, 101, acked.wrapping_add(1), b""));
    push(&mut shard, &data(C, S, 101, acked.wrapping_add(1), &ch));
    if ack_first {
        push(&mut shard, &server_data);
    }
    finish(&mut shard)
}

#[test]
fn issue_30_the_acknowledged_synack_is_followed() {
    for (isns, acked) in [
        (&[5000, 9000][..], 9000),
        (&[5000, 9000][..], 5000),
        (&[u32::MAX, 7, 70_000][..], 7),
    ] {
        for ack_first in [true, false] {
            let r = several_synacks(isns, acked, ack_first);
            let h = r.handshake.as_ref().expect("tls");
            assert_eq!(h.cipher, Some(0xc02f), "{isns:?} {acked} {ack_first}");
            assert!(r.anomalies.contains(&Anomaly::TcpMultipleSynack));
            assert!(
                !r.anomalies.contains(&Anomaly::TcpMidstream),
                "{:?}",
                r.anomalies
            );
            assert!(!r.anomalies.contains(&Anomaly::TcpGap), "{:?}", r.anomalies);
        }
    }
}

#[test]
fn issue_30_a_retransmitted_synack_is_no_anomaly() {
    let r = several_synacks(&[5000, 5000], 5000, true);
    assert_eq!(r.handshake.as_ref().and_then(|h| h.cipher), Some(0xc02f));
    assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
}

#[test]
fn issue_30_bogus_first_bytes_do_not_hide_the_handshake() {
    // A 1-byte and a 2-byte bogus segment at the first sequence number of
    // each direction, sent before the real hellos at the same numbers.
    for (bogus_c, bogus_s) in [(&b"X"[..], &b"\0\0"[..]), (b"GE", b"H")] {
        let mut shard = Shard::<Session>::new();
        push(&mut shard, &seg(C, S, 100, flags::SYN));
        let sa = TcpSegment {
            ack: 101,
            ..seg(S, C, 5000, flags::SYN | flags::ACK)
        };
        push(&mut shard, &sa);
        push(&mut shard, &data(C, S, 101, 5001, bogus_c));
        push(&mut shard, &data(S, C, 5001, 101, bogus_s));
        let ch = hello(1, 0x1301);
        push(&mut shard, &data(C, S, 101, 5001, &ch));
        push(
            &mut shard,
            &data(S, C, 5001, 101 + ch.len() as u32, &hello(2, 0x1301)),
        );
        let r = finish(&mut shard);
        let h = r.handshake.as_ref().expect("tls row kept");
        assert_eq!(h.cipher, Some(0x1301));
        assert!(h.client_hello.is_some());
        assert!(r.anomalies.contains(&Anomaly::TcpConflictingOverlap));
    }
}

#[test]
fn issue_30_a_bogus_overlap_after_the_handshake_bytes_loses() {
    let mut shard = Shard::<Session>::new();
    push(&mut shard, &seg(C, S, 100, flags::SYN));
    let ch = hello(1, 0x1301);
    push(&mut shard, &data(C, S, 101, 0, &ch));
    push(&mut shard, &data(C, S, 101, 0, b"X"));
    let r = finish(&mut shard);
    assert!(r
        .handshake
        .as_ref()
        .is_some_and(|h| h.client_hello.is_some()));
    assert!(r.anomalies.contains(&Anomaly::TcpConflictingOverlap));
}
