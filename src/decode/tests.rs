//! Tests for decode: hand-built frames for every link type and tunnel, every
//! truncation of each, single-byte corruptions, the synthetic captures made by
//! scripts/make_test_captures.py, and TCP/UDP counts on real captures checked
//! against tshark 4.0 (`tshark -Y tcp | wc -l`, sum of `tcp.len`).

use super::*;
use crate::capture::Capture;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

const ENCAPS: &[u8] = include_bytes!("../../testdata/captures/synth_encaps.pcap");
const FRAGMENTS: &[u8] = include_bytes!("../../testdata/captures/synth_fragments.pcap");
const LINKTYPES: &[u8] = include_bytes!("../../testdata/captures/synth_linktypes.pcapng");
const SECTIONS: &[u8] = include_bytes!("../../testdata/captures/synth_sections.pcapng");
const EN10MB: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_en10mb.pcap");
const MULTI_IF: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_multi_if.pcapng");
const SLL: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_sll.pcap");
const SLL2: &[u8] = include_bytes!("../../testdata/captures/s08_linktypes_sll2.pcap");
const VLAN: &[u8] = include_bytes!("../../testdata/captures/s09_vlan_trunk.pcap");
const NTP: &[u8] = include_bytes!("../../testdata/captures/ntp.pcap");

// ---- builders (same layouts as scripts/make_test_captures.py) ----

fn tcp_hdr(payload: &[u8]) -> Vec<u8> {
    let mut t = vec![0x9C, 0x40, 0x01, 0xBB]; // 40000 -> 443
    t.extend_from_slice(&1000u32.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&[0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

fn udp_hdr(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn ipv4(proto: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&(20 + body.len() as u16).to_be_bytes());
    h.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    h.extend_from_slice(body);
    h
}

fn ipv6(nh: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(body.len() as u16).to_be_bytes());
    h.extend_from_slice(&[nh, 64]);
    h.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets());
    h.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).octets());
    h.extend_from_slice(body);
    h
}

fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut e = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    e.extend_from_slice(&ethertype.to_be_bytes());
    e.extend_from_slice(body);
    e
}

fn seg4(p: &[u8]) -> Vec<u8> {
    ipv4(6, &tcp_hdr(p))
}

fn expect_tcp<'a>(d: Decoded<'a>) -> TcpSegment<'a> {
    match d {
        Decoded::Tcp(t) => t,
        other => panic!("expected TCP, got {other:?}"),
    }
}

/// Every prefix of `frame` decodes without panicking, and none shorter than
/// the full headers yields a segment with more payload than the whole.
fn every_truncation(linktype: u32, frame: &[u8]) {
    for cut in 0..frame.len() {
        let _ = decode(linktype, &frame[..cut]);
    }
    for i in 0..frame.len() {
        for delta in [1u8, 0x80, 0xFF] {
            let mut bad = frame.to_vec();
            bad[i] = bad[i].wrapping_add(delta);
            let _ = decode(linktype, &bad);
        }
    }
}

#[test]
fn ethernet_ipv4_tcp() {
    let f = eth(0x0800, &seg4(b"hello"));
    let t = expect_tcp(decode(1, &f));
    assert_eq!(t.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(t.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(
        (t.src_port, t.dst_port, t.seq, t.ack),
        (40000, 443, 1000, 1)
    );
    assert_eq!(t.flags, tcp_flags::PSH | tcp_flags::ACK);
    assert_eq!((t.window, t.ttl), (0xFFFF, 64));
    assert_eq!(t.payload, b"hello");
    assert_eq!((t.tunnel, t.vlan), (None, None));
    every_truncation(1, &f);
    // Ethernet padding is trimmed by the IP total length.
    let mut padded = f.clone();
    padded.extend_from_slice(&[0; 12]);
    assert_eq!(expect_tcp(decode(1, &padded)).payload, b"hello");
    // Cut inside the TCP payload by the snap length (the IP length says
    // more was sent): what was captured, as tshark reads it.
    assert_eq!(expect_tcp(decode(1, &f[..f.len() - 1])).payload, b"hell");
    // A fragment must be whole to be put together: cut, it is dropped.
    let mut frag = f.clone();
    frag[14 + 6] = 0x20; // more fragments
    assert!(matches!(decode(1, &frag), Decoded::Fragment(_)));
    assert_eq!(
        decode(1, &frag[..frag.len() - 1]),
        Decoded::Skip(SkipReason::Truncated)
    );
    // Cut inside the TCP header: nothing.
    assert_eq!(
        decode(1, &f[..14 + 20 + 19]),
        Decoded::Skip(SkipReason::Truncated)
    );
}

#[test]
fn tcp_options_and_bad_headers() {
    let mut t = tcp_hdr(b"");
    t[12] = 0x70; // 28-byte header
    t.extend_from_slice(&[2, 4, 5, 0xB4, 1, 1, 1, 0]);
    t.extend_from_slice(b"data");
    assert_eq!(expect_tcp(decode_ip(&ipv4(6, &t))).payload, b"data");
    let mut bad = tcp_hdr(b"xy");
    bad[12] = 0x40; // data offset 16 < 20
    assert_eq!(
        decode_ip(&ipv4(6, &bad)),
        Decoded::Skip(SkipReason::BadTcpHeader)
    );
    let mut bad = tcp_hdr(b"xy");
    bad[12] = 0xF0; // 60-byte header in 22 bytes
    assert_eq!(
        decode_ip(&ipv4(6, &bad)),
        Decoded::Skip(SkipReason::BadTcpHeader)
    );
    let mut ip = seg4(b"x");
    ip[0] = 0x44; // IHL 16
    assert_eq!(decode_ip(&ip), Decoded::Skip(SkipReason::BadIpHeader));
    let mut ip = seg4(b"x");
    ip[2..4].copy_from_slice(&10u16.to_be_bytes()); // total < IHL
    assert_eq!(decode_ip(&ip), Decoded::Skip(SkipReason::BadIpHeader));
    assert_eq!(
        decode_ip(&ipv4(1, &[8, 0, 0, 0])),
        Decoded::Skip(SkipReason::OtherProtocol(1))
    );
    assert_eq!(decode_ip(&[0x10]), Decoded::Skip(SkipReason::NotIp));
    assert_eq!(decode_ip(&[]), Decoded::Skip(SkipReason::Truncated));
    assert_eq!(
        decode(1, &eth(0x0806, &[0; 28])),
        Decoded::Skip(SkipReason::NotIp)
    );
    assert_eq!(
        decode(147, &[0; 40]),
        Decoded::Skip(SkipReason::UnsupportedLinktype(147))
    );
}

#[test]
fn udp_and_ipv6() {
    let u = ipv4(17, &udp_hdr(5353, 53, b"query"));
    match decode_ip(&u) {
        Decoded::Udp(d) => {
            assert_eq!(
                (d.src_port, d.dst_port, d.payload),
                (5353, 53, &b"query"[..])
            );
        }
        other => panic!("{other:?}"),
    }
    let p = ipv6(6, &tcp_hdr(b"six"));
    let t = expect_tcp(decode_ip(&p));
    assert_eq!(
        t.src,
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
    );
    assert_eq!(t.payload, b"six");
    every_truncation(229, &p);
    // Extension headers: hop-by-hop, routing, destination options, AH.
    let mut chain = vec![43, 0, 0, 0, 0, 0, 0, 0]; // hop-by-hop -> routing
    chain.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]); // routing -> dst opts
    chain.extend_from_slice(&[51, 0, 1, 4, 0, 0, 0, 0]); // dst opts -> AH
    chain.extend_from_slice(&[6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // AH (12 bytes) -> TCP
    chain.extend_from_slice(&tcp_hdr(b"ext"));
    let p = ipv6(0, &chain);
    assert_eq!(expect_tcp(decode_ip(&p)).payload, b"ext");
    every_truncation(229, &p);
    // A chain longer than the cap.
    let mut long = Vec::new();
    for _ in 0..20 {
        long.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
    }
    long.extend_from_slice(&tcp_hdr(b""));
    assert_eq!(
        decode_ip(&ipv6(60, &long)),
        Decoded::Skip(SkipReason::TunnelTooDeep)
    );
    // Atomic fragment header (offset 0, M 0) is skipped.
    let mut atomic = vec![6, 0, 0, 0, 0, 0, 0, 9];
    atomic.extend_from_slice(&tcp_hdr(b"atom"));
    assert_eq!(expect_tcp(decode_ip(&ipv6(44, &atomic))).payload, b"atom");
    assert_eq!(
        decode_ip(&ipv6(59, &[])),
        Decoded::Skip(SkipReason::OtherProtocol(59))
    );
}

#[test]
fn fragments_rebuild_through_defragmenter() {
    let body = tcp_hdr(b"0123456789abcdefghij0123456789abcdefghij"); // 60 bytes
    let mk = |data: &[u8], off: u16, more: bool| {
        let mut p = ipv4(6, data);
        let v = (off / 8) | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&v.to_be_bytes());
        p
    };
    let a = mk(&body[..32], 0, true);
    let b = mk(&body[32..], 32, false);
    let mut d = Defragmenter::new();
    let Decoded::Fragment(fb) = decode_ip(&b) else {
        panic!("not a fragment")
    };
    assert_eq!(
        (fb.offset, fb.more, fb.protocol, fb.ipv6),
        (32, false, 6, false)
    );
    assert!(d.push(&fb, 0).is_none());
    let Decoded::Fragment(fa) = decode_ip(&a) else {
        panic!("not a fragment")
    };
    let whole = d.push(&fa, 1).unwrap();
    let t = expect_tcp(decode_ip(&whole));
    assert_eq!(t.payload, &body[20..]);
    every_truncation(228, &a);
}

#[test]
fn vlan_qinq_mpls_pppoe() {
    let inner = seg4(b"v");
    let mut tagged = vec![0x20, 0x64, 0x08, 0x00]; // PCP 1, VID 100
    tagged.extend_from_slice(&inner);
    let f = eth(0x8100, &tagged);
    let t = expect_tcp(decode(1, &f));
    assert_eq!(t.vlan, Some(100));
    let mut qinq = vec![0x00, 0xC8, 0x81, 0x00, 0x01, 0x2C, 0x08, 0x00];
    qinq.extend_from_slice(&inner);
    let f = eth(0x88A8, &qinq);
    assert_eq!(expect_tcp(decode(1, &f)).vlan, Some(200));
    every_truncation(1, &f);
    let mut deep = Vec::new();
    for _ in 0..8 {
        deep.extend_from_slice(&[0, 1, 0x81, 0x00]);
    }
    deep.extend_from_slice(&[0, 1, 0x08, 0x00]);
    deep.extend_from_slice(&inner);
    assert_eq!(
        decode(1, &eth(0x8100, &deep)),
        Decoded::Skip(SkipReason::TunnelTooDeep)
    );
    // MPLS: two labels then IPv4; one label then IPv6; pseudowire Ethernet.
    let mut m = vec![0x00, 0x10, 0x00, 0x40, 0x00, 0x11, 0x01, 0x40];
    m.extend_from_slice(&inner);
    let f = eth(0x8847, &m);
    assert_eq!(expect_tcp(decode(1, &f)).payload, b"v");
    every_truncation(1, &f);
    let mut m6 = vec![0x00, 0x12, 0x01, 0x40];
    m6.extend_from_slice(&ipv6(6, &tcp_hdr(b"m6")));
    assert_eq!(expect_tcp(decode(1, &eth(0x8847, &m6))).payload, b"m6");
    let mut pw = vec![0x00, 0x12, 0x01, 0x40, 0, 0, 0, 0];
    pw.extend_from_slice(&eth(0x0800, &inner));
    let f = eth(0x8847, &pw);
    let t = expect_tcp(decode(1, &f));
    assert_eq!(t.tunnel, Some(Tunnel::MplsPseudowire));
    let endless = [0u8; 64];
    assert_eq!(
        decode(1, &eth(0x8847, &endless)),
        Decoded::Skip(SkipReason::TunnelTooDeep)
    );
    // PPPoE session, IPv4 and IPv6.
    let mut pppoe = vec![0x11, 0, 0x12, 0x34, 0, 0, 0x00, 0x21];
    pppoe.extend_from_slice(&inner);
    let f = eth(0x8864, &pppoe);
    assert_eq!(expect_tcp(decode(1, &f)).payload, b"v");
    every_truncation(1, &f);
    let mut lcp = vec![0x11, 0, 0x12, 0x34, 0, 0, 0xC0, 0x21];
    lcp.extend_from_slice(&[1, 1, 0, 4]);
    assert_eq!(
        decode(1, &eth(0x8864, &lcp)),
        Decoded::Skip(SkipReason::NotIp)
    );
}

#[test]
fn tunnels() {
    let inner_eth = eth(0x0800, &seg4(b"in"));
    // VXLAN
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    vx.extend_from_slice(&inner_eth);
    let f = eth(0x0800, &ipv4(17, &udp_hdr(50000, 4789, &vx)));
    let t = expect_tcp(decode(1, &f));
    assert_eq!((t.tunnel, t.payload), (Some(Tunnel::Vxlan), &b"in"[..]));
    every_truncation(1, &f);
    // Port 4789 without the I flag stays plain UDP.
    let mut not_vx = vx.clone();
    not_vx[0] = 0;
    assert!(matches!(
        decode_ip(&ipv4(17, &udp_hdr(1, 4789, &not_vx))),
        Decoded::Udp(_)
    ));
    // GENEVE with one option word, Ethernet and IPv4 payloads.
    let mut gv = vec![0x01, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4];
    gv.extend_from_slice(&inner_eth);
    let f = eth(0x0800, &ipv4(17, &udp_hdr(50001, 6081, &gv)));
    assert_eq!(expect_tcp(decode(1, &f)).tunnel, Some(Tunnel::Geneve));
    every_truncation(1, &f);
    let mut gv4 = vec![0x00, 0, 0x08, 0x00, 0, 0, 7, 0];
    gv4.extend_from_slice(&seg4(b"g4"));
    assert_eq!(
        expect_tcp(decode_ip(&ipv4(17, &udp_hdr(1, 6081, &gv4)))).payload,
        b"g4"
    );
    // GRE with key carrying IPv4; with checksum carrying Ethernet.
    let mut g = vec![0x20, 0, 0x08, 0x00, 0, 0, 0, 5];
    g.extend_from_slice(&seg4(b"gre"));
    let f = eth(0x0800, &ipv4(47, &g));
    let t = expect_tcp(decode(1, &f));
    assert_eq!((t.tunnel, t.payload), (Some(Tunnel::Gre), &b"gre"[..]));
    every_truncation(1, &f);
    let mut g = vec![0x80, 0, 0x65, 0x58, 0, 0, 0, 0];
    g.extend_from_slice(&inner_eth);
    assert_eq!(expect_tcp(decode_ip(&ipv4(47, &g))).payload, b"in");
    // ERSPAN II (S bit, 8-byte header), I (no S bit), III (12 bytes, +8 with O).
    let mut e2 = vec![0x10, 0, 0x88, 0xBE, 0, 0, 0, 1, 0x10, 10, 0, 0, 0, 0, 0, 0];
    e2.extend_from_slice(&inner_eth);
    let f = eth(0x0800, &ipv4(47, &e2));
    assert_eq!(expect_tcp(decode(1, &f)).tunnel, Some(Tunnel::Erspan));
    every_truncation(1, &f);
    let mut e1 = vec![0x00, 0, 0x88, 0xBE];
    e1.extend_from_slice(&inner_eth);
    assert_eq!(
        expect_tcp(decode_ip(&ipv4(47, &e1))).tunnel,
        Some(Tunnel::Erspan)
    );
    let mut e3 = vec![0x10, 0, 0x22, 0xEB, 0, 0, 0, 2];
    e3.extend_from_slice(&[0x20, 10, 0, 0, 0, 1, 0xE2, 0x40, 0, 0, 0, 0]);
    e3.extend_from_slice(&inner_eth);
    assert_eq!(expect_tcp(decode_ip(&ipv4(47, &e3))).payload, b"in");
    let mut e3o = vec![0x10, 0, 0x22, 0xEB, 0, 0, 0, 2];
    e3o.extend_from_slice(&[0x20, 10, 0, 0, 0, 1, 0xE2, 0x40, 0, 0, 0, 1]);
    e3o.extend_from_slice(&[0; 8]);
    e3o.extend_from_slice(&inner_eth);
    let f = eth(0x0800, &ipv4(47, &e3o));
    assert_eq!(expect_tcp(decode(1, &f)).payload, b"in");
    every_truncation(1, &f);
    // GRE version 1 (PPTP) and routing are not decoded.
    assert_eq!(
        decode_ip(&ipv4(47, &[0x30, 0x01, 0x88, 0x0B, 0, 0, 0, 0])),
        Decoded::Skip(SkipReason::OtherProtocol(47))
    );
    // IP-in-IP, IPv6-in-IPv4.
    let p = ipv4(4, &seg4(b"ipip"));
    let t = expect_tcp(decode_ip(&p));
    assert_eq!((t.tunnel, t.payload), (Some(Tunnel::IpInIp), &b"ipip"[..]));
    let p = ipv4(41, &ipv6(6, &tcp_hdr(b"6in4")));
    let t = expect_tcp(decode_ip(&p));
    assert_eq!(t.payload, b"6in4");
    // The outermost tunnel is reported; depth is capped.
    let mut nested = seg4(b"deep");
    for _ in 0..3 {
        nested = ipv4(4, &nested);
    }
    let mut g = vec![0, 0, 0x08, 0x00];
    g.extend_from_slice(&nested);
    let p = ipv4(47, &g);
    let t = expect_tcp(decode_ip(&p));
    assert_eq!(t.tunnel, Some(Tunnel::Gre));
    let mut nested = seg4(b"too deep");
    for _ in 0..=crate::limits::MAX_TUNNEL_DEPTH {
        nested = ipv4(4, &nested);
    }
    assert_eq!(decode_ip(&nested), Decoded::Skip(SkipReason::TunnelTooDeep));
}

#[test]
fn link_types() {
    let s4 = seg4(b"lt");
    let s6 = ipv6(6, &tcp_hdr(b"lt"));
    let with = |head: &[u8], body: &[u8]| [head, body].concat();
    let cases: Vec<(u32, Vec<u8>)> = vec![
        (0, with(&2u32.to_le_bytes(), &s4)),
        (0, with(&30u32.to_le_bytes(), &s6)),
        (0, with(&28u32.to_be_bytes(), &s6)),
        (108, with(&2u32.to_be_bytes(), &s4)),
        (108, with(&24u32.to_be_bytes(), &s6)),
        (101, s4.clone()),
        (101, s6.clone()),
        (12, s4.clone()),
        (14, s6.clone()),
        (228, s4.clone()),
        (229, s6.clone()),
        (9, with(&[0xFF, 0x03, 0x00, 0x21], &s4)),
        (9, with(&[0x00, 0x57], &s6)),
        (9, with(&[0x21], &s4)),
        (50, with(&[0xFF, 0x03, 0x00, 0x21], &s4)),
        (
            113,
            with(&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00], &s4),
        ),
        (
            113,
            with(&[0, 4, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xDD], &s6),
        ),
        (
            276,
            with(
                &[
                    0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
                ],
                &s4,
            ),
        ),
        (
            276,
            with(
                &[
                    0x86, 0xDD, 0, 0, 0, 0, 0, 1, 3, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
                &s6,
            ),
        ),
    ];
    for (lt, frame) in &cases {
        let t = expect_tcp(decode(*lt, frame));
        assert_eq!(t.payload, b"lt", "linktype {lt}");
        every_truncation(*lt, frame);
    }
    assert_eq!(
        decode(0, &with(&7u32.to_le_bytes(), &s4)),
        Decoded::Skip(SkipReason::NotIp)
    );
    assert_eq!(decode(113, &[0; 10]), Decoded::Skip(SkipReason::Truncated));
}

/// Decodes every frame of a capture, handing each to `f` with its time.
fn each_decoded(bytes: &[u8], mut f: impl FnMut(i64, Decoded<'_>)) -> usize {
    let cap = Capture::from_bytes(Path::new("t"), bytes.to_vec()).unwrap();
    let mut w = cap.windows();
    let mut n = 0;
    while let Some(win) = w.next_window(1 << 16, 1 << 30).unwrap() {
        for fr in &win.frames {
            f(fr.ts_us, decode(fr.linktype, win.bytes(fr)));
            n += 1;
        }
    }
    n
}

/// Payload, tunnel and VLAN of a TCP segment, or the skip reason.
type Seen = Result<(Vec<u8>, Option<Tunnel>, Option<u16>, u16), Decoded<'static>>;

fn summarize(d: Decoded<'_>) -> Seen {
    match d {
        Decoded::Tcp(t) => Ok((t.payload.to_vec(), t.tunnel, t.vlan, t.dst_port)),
        Decoded::Skip(r) => Err(Decoded::Skip(r)),
        other => panic!("unexpected {other:?}"),
    }
}

fn decode_capture(bytes: &[u8]) -> Vec<Seen> {
    let mut out = Vec::new();
    each_decoded(bytes, |_, d| out.push(summarize(d)));
    out
}

#[test]
fn synthetic_encapsulations() {
    let frames = decode_capture(ENCAPS);
    assert_eq!(frames.len(), 21);
    let tunnels = [
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        Some(Tunnel::Vxlan),
        Some(Tunnel::Geneve),
        Some(Tunnel::Gre),
        Some(Tunnel::Gre),
        Some(Tunnel::Erspan),
        Some(Tunnel::Erspan),
        Some(Tunnel::IpInIp),
        None,
        None,
        Some(Tunnel::Gtp),
        Some(Tunnel::Gtp),
        Some(Tunnel::Gtp),
        Some(Tunnel::Capwap),
        Some(Tunnel::Capwap),
    ];
    let vlans = [None, Some(100), Some(200)];
    for (i, seen) in frames.iter().enumerate() {
        let n = i + 1;
        let (payload, tunnel, vlan, dport) = seen.clone().unwrap();
        assert_eq!(payload, format!("certsift-{n}").as_bytes(), "frame {n}");
        assert_eq!(dport, 443, "frame {n}");
        assert_eq!(tunnel, tunnels[i], "frame {n}");
        assert_eq!(vlan, vlans.get(i).copied().flatten(), "frame {n}");
    }
}

#[test]
fn synthetic_fragments() {
    let mut d = Defragmenter::new();
    let mut whole = Vec::new();
    let n = each_decoded(FRAGMENTS, |ts, dec| {
        let Decoded::Fragment(f) = dec else {
            panic!("{dec:?}")
        };
        if let Some(w) = d.push(&f, ts) {
            whole.push(w);
        }
    });
    assert_eq!(n, 6);
    assert_eq!(whole.len(), 2);
    assert_eq!(d.conflicts(), 0);
    let t = expect_tcp(decode_ip(&whole[0]));
    assert!(t.payload.starts_with(b"certsift-fragmented-"));
    assert_eq!(t.payload.len(), 40);
    match decode_ip(&whole[1]) {
        Decoded::Udp(u) => {
            assert!(u.payload.starts_with(b"certsift-v6-fragmented-"));
            assert_eq!((u.dst_port, u.payload.len()), (443, 40));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn synthetic_linktypes_and_sections() {
    // 20 frames, each checked against tshark 4.0's reading (frame.protocols
    // and tcp.payload): ..., sll, chdlc, pktap over Ethernet and over NULL,
    // nflog.
    let frames = decode_capture(LINKTYPES);
    assert_eq!(frames.len(), 20);
    for (i, seen) in frames.iter().enumerate() {
        assert_eq!(
            seen.clone().unwrap().0,
            format!("certsift-{}", i + 1).as_bytes()
        );
    }
    let frames = decode_capture(SECTIONS);
    assert_eq!(frames.len(), 6);
    for (i, seen) in frames.iter().enumerate().take(5) {
        assert_eq!(
            seen.clone().unwrap().0,
            format!("certsift-{}", i + 1).as_bytes()
        );
    }
    // The last frame was cut 4 bytes short of its IP length (snap length):
    // its captured bytes.
    assert_eq!(frames[5].clone().unwrap().0, b"certsi".to_vec());
}

/// TCP and UDP counts and TCP payload bytes agree with tshark (`-Y "udp && !icmp"`:
/// we do not look inside ICMP errors).
#[test]
fn real_captures_match_tshark() {
    // (capture, tcp segments, udp datagrams, tcp payload bytes)
    let cases: [(&[u8], usize, usize, usize); 6] = [
        (EN10MB, 118, 0, 17_867),
        (MULTI_IF, 137, 4, 24_302),
        (SLL, 136, 4, 24_302),
        (SLL2, 135, 4, 24_302),
        (VLAN, 141, 0, 22_211),
        (NTP, 0, 12, 0),
    ];
    for (i, (bytes, tcp, udp, payload)) in cases.into_iter().enumerate() {
        let (mut tcps, mut udps, mut bytes_seen, mut untagged) = (0, 0, 0, 0);
        each_decoded(bytes, |_, d| match d {
            Decoded::Tcp(t) => {
                tcps += 1;
                bytes_seen += t.payload.len();
                untagged += usize::from(t.vlan.is_none());
            }
            Decoded::Udp(_) => udps += 1,
            _ => {}
        });
        assert_eq!(tcps, tcp, "case {i}");
        assert_eq!(udps, udp, "case {i}");
        assert_eq!(bytes_seen, payload, "case {i}");
        if i == 4 {
            assert_eq!(untagged, 0);
        }
    }
}

/// Random bytes under every link type, and random bytes after valid
/// headers: never a panic, and any payload lies inside the frame.
#[test]
fn random_frames_never_panic() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let prefixes: Vec<(u32, Vec<u8>)> = vec![
        (1, eth(0x0800, &[])),
        (1, eth(0x86DD, &[])),
        (1, eth(0x8847, &[])),
        (1, eth(0x8864, &[0x11, 0, 0, 1, 0, 0, 0x00, 0x21])),
        (1, eth(0x0800, &ipv4(47, &[])[..20])),
        (
            228,
            ipv4(17, &udp_hdr(1, 4789, &[0x08, 0, 0, 0, 0, 0, 0, 0]))[..36].to_vec(),
        ),
        (228, ipv4(17, &udp_hdr(1, 6081, &[]))[..28].to_vec()),
        (229, ipv6(0, &[])),
        (229, ipv6(44, &[])),
    ];
    for round in 0..4000 {
        let len = (next() % 200) as usize;
        let mut frame: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let lt = [0u32, 1, 9, 12, 14, 50, 101, 108, 113, 228, 229, 276][round % 12];
        let (lt, frame) = if round % 2 == 0 {
            let (plt, p) = &prefixes[round / 2 % prefixes.len()];
            let mut f = p.clone();
            f.append(&mut frame);
            (*plt, f)
        } else {
            (lt, frame)
        };
        let range = frame.as_ptr_range();
        let inside = |s: &[u8]| s.is_empty() || range.contains(&s.as_ptr());
        match decode(lt, &frame) {
            Decoded::Tcp(t) => assert!(inside(t.payload)),
            Decoded::Udp(u) => assert!(inside(u.payload)),
            Decoded::Fragment(f) => assert!(inside(f.payload) && inside(f.header)),
            Decoded::Skip(_) => {}
        }
    }
}

/// NFLOG's TLV lengths are in the writer's byte order: big-endian ones are
/// read too, a TLV running past the frame is a truncation, and a log without
/// a packet TLV is not IP.
#[test]
fn nflog_byte_orders_and_damage() {
    let packet = ipv4(6, &tcp_hdr(b"certsift-nflog"));
    let tlv = |be: bool, t: u16, v: &[u8]| {
        let len = 4 + v.len() as u16;
        let mut out = if be {
            [len.to_be_bytes(), t.to_be_bytes()].concat()
        } else {
            [len.to_le_bytes(), t.to_le_bytes()].concat()
        };
        out.extend_from_slice(v);
        out.resize(out.len() + (4 - v.len() % 4) % 4, 0);
        out
    };
    for be in [false, true] {
        let mut f = vec![2, 0, 0, 1];
        f.extend(tlv(be, 10, b"certs\0"));
        f.extend(tlv(be, 9, &packet));
        let seen = summarize(decode(239, &f));
        assert_eq!(seen.unwrap().0, b"certsift-nflog".to_vec(), "be={be}");
        let cut = &f[..f.len() - 8];
        assert_eq!(
            decode(239, cut),
            Decoded::Skip(SkipReason::Truncated),
            "be={be}"
        );
    }
    let mut no_packet = vec![2, 0, 0, 1];
    no_packet.extend(tlv(false, 10, b"certs\0"));
    assert_eq!(decode(239, &no_packet), Decoded::Skip(SkipReason::NotIp));
    // PKTAP: a record that is not a packet, and one claiming PKTAP inside.
    let mut head = [108u32.to_le_bytes(), 2u32.to_le_bytes(), 1u32.to_le_bytes()].concat();
    head.resize(108, 0);
    assert_eq!(decode(258, &head), Decoded::Skip(SkipReason::NotIp));
    head[4..8].copy_from_slice(&1u32.to_le_bytes());
    head[8..12].copy_from_slice(&258u32.to_le_bytes());
    assert_eq!(decode(258, &head), Decoded::Skip(SkipReason::NotIp));
}

// ---- GTP-U and CAPWAP (issue 30) ----

/// A GTP-U G-PDU (3GPP TS 29.281 §5.1) around `packet`; `opt` is the
/// optional 4-byte word and extension headers, with the E/S/PN flags.
fn gtp(flags: u8, opt: &[u8], packet: &[u8]) -> Vec<u8> {
    let mut g = vec![0x30 | flags, 0xFF];
    g.extend_from_slice(&((opt.len() + packet.len()) as u16).to_be_bytes());
    g.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    g.extend_from_slice(opt);
    g.extend_from_slice(packet);
    g
}

/// A CAPWAP data header (RFC 5415 §4.3) of `hlen` words with the T flag
/// (`native`) and WBID 1, padded with zeros (a radio MAC field) to `hlen`.
fn capwap(hlen: u32, native: bool, payload: &[u8]) -> Vec<u8> {
    let w = (hlen << 19) | (1 << 9) | if native { 0x100 } else { 0 };
    let mut c = w.to_be_bytes().to_vec();
    c.extend_from_slice(&[0, 0, 0, 0]);
    c.resize(hlen as usize * 4, 0);
    c.extend_from_slice(payload);
    c
}

/// An IEEE 802.11 QoS data frame, To DS, then LLC/SNAP and IPv4.
fn wifi_qos_data(packet: &[u8]) -> Vec<u8> {
    let mut w = vec![0x88, 0x01, 0, 0];
    w.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 3]);
    w.extend_from_slice(&[0x10, 0x00]); // sequence control
    w.extend_from_slice(&[0x00, 0x00]); // QoS control
    w.extend_from_slice(&[0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]);
    w.extend_from_slice(packet);
    w
}

fn outer_udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    eth(0x0800, &ipv4(17, &udp_hdr(sport, dport, payload)))
}

#[test]
fn gtp_u_g_pdu_carries_ip() {
    // No optional fields.
    let f = outer_udp(2152, 2152, &gtp(0, &[], &seg4(b"gtp")));
    let t = expect_tcp(decode(1, &f));
    assert_eq!((t.tunnel, t.payload), (Some(Tunnel::Gtp), &b"gtp"[..]));
    assert_eq!(t.dst_port, 443);
    every_truncation(1, &f);
    // S flag: sequence number, N-PDU number, next extension type 0.
    let f = outer_udp(40000, 2152, &gtp(0x02, &[0, 7, 0, 0], &seg4(b"seq")));
    assert_eq!(expect_tcp(decode(1, &f)).payload, b"seq");
    // E flag with two extension headers (PDU session container 0x85,
    // then UDP port 0x40), IPv6 inside.
    let mut opt = vec![0, 0, 0, 0x85];
    opt.extend_from_slice(&[1, 0x10, 0x09, 0x40]);
    opt.extend_from_slice(&[1, 0x08, 0x68, 0x00]);
    let inner6 = ipv6(6, &tcp_hdr(b"ext"));
    let f = outer_udp(2152, 2152, &gtp(0x04, &opt, &inner6));
    let t = expect_tcp(decode(1, &f));
    assert_eq!((t.tunnel, t.payload), (Some(Tunnel::Gtp), &b"ext"[..]));
    every_truncation(1, &f);
    // An extension header of length 0 would loop: nothing.
    let bad = [0u8, 0, 0, 0x85, 0, 0, 0, 0];
    assert_eq!(
        decode(1, &outer_udp(2152, 2152, &gtp(0x04, &bad, &seg4(b"x")))),
        Decoded::Skip(SkipReason::Truncated)
    );
    // A chain longer than the cap: too deep.
    let mut chain = vec![0, 0, 0, 0x85];
    for _ in 0..=crate::limits::MAX_GTP_EXT_HEADERS {
        chain.extend_from_slice(&[1, 0, 0, 0x85]);
    }
    assert_eq!(
        decode(1, &outer_udp(2152, 2152, &gtp(0x04, &chain, &seg4(b"x")))),
        Decoded::Skip(SkipReason::TunnelTooDeep)
    );
    // Echo request (type 1), GTPv2-C and non-IP T-PDUs on the port.
    let mut echo = gtp(0x02, &[0, 1, 0, 0], &[]);
    echo[1] = 1;
    assert!(matches!(
        decode(1, &outer_udp(2152, 2152, &echo)),
        Decoded::Udp(u) if u.tunnel.is_none()
    ));
    let mut v2 = gtp(0, &[], &seg4(b"v2"));
    v2[0] = 0x48;
    assert!(matches!(
        decode(1, &outer_udp(2152, 2152, &v2)),
        Decoded::Udp(_)
    ));
    assert_eq!(
        decode(1, &outer_udp(2152, 2152, &gtp(0, &[], &[0x11; 20]))),
        Decoded::Skip(SkipReason::NotIp)
    );
}

#[test]
fn capwap_data_carries_8023_and_80211_frames() {
    let packet = seg4(b"capwap");
    // T = 0: an IEEE 802.3 frame, header of 2 words.
    let f = outer_udp(12222, 5247, &capwap(2, false, &eth(0x0800, &packet)));
    let t = expect_tcp(decode(1, &f));
    assert_eq!(
        (t.tunnel, t.payload),
        (Some(Tunnel::Capwap), &b"capwap"[..])
    );
    every_truncation(1, &f);
    // T = 1, WBID 1: IEEE 802.11 QoS data with LLC/SNAP; a 4-word header
    // (radio MAC address), and from the controller's port 5247.
    let f = outer_udp(5247, 12222, &capwap(4, true, &wifi_qos_data(&packet)));
    let t = expect_tcp(decode(1, &f));
    assert_eq!(
        (t.tunnel, t.payload),
        (Some(Tunnel::Capwap), &b"capwap"[..])
    );
    every_truncation(1, &f);
    // The frame control bytes swapped, as some access points send them.
    let mut swapped = wifi_qos_data(&packet);
    swapped.swap(0, 1);
    let f = outer_udp(12222, 5247, &capwap(2, true, &swapped));
    assert_eq!(expect_tcp(decode(1, &f)).payload, b"capwap");
    // Plain data frame with both DS bits (four addresses), no QoS.
    let mut w4 = vec![0x08, 0x03, 0, 0];
    w4.extend_from_slice(&[0x22; 18]);
    w4.extend_from_slice(&[0, 0]);
    w4.extend_from_slice(&[0x33; 6]);
    w4.extend_from_slice(&[0xAA, 0xAA, 0x03, 0, 0, 0xF8, 0x08, 0x00]);
    w4.extend_from_slice(&packet);
    let f = outer_udp(12222, 5247, &capwap(2, true, &w4));
    assert_eq!(expect_tcp(decode(1, &f)).payload, b"capwap");
    // Protected (encrypted), null and management frames hold no IP.
    for (fc0, fc1) in [(0x88u8, 0x41u8), (0xC8, 0x01), (0x80, 0x00)] {
        let mut w = wifi_qos_data(&packet);
        w[0] = fc0;
        w[1] = fc1;
        let f = outer_udp(12222, 5247, &capwap(2, true, &w));
        assert_eq!(decode(1, &f), Decoded::Skip(SkipReason::NotIp), "{fc0:x}");
    }
    // DTLS (preamble type 1) and keep-alives stay plain UDP.
    let mut dtls = capwap(2, false, &eth(0x0800, &packet));
    dtls[0] = 0x01;
    assert!(matches!(
        decode(1, &outer_udp(12222, 5247, &dtls)),
        Decoded::Udp(_)
    ));
    let mut ka = capwap(2, false, &[]);
    ka[3] |= 0x08;
    assert!(matches!(
        decode(1, &outer_udp(12222, 5247, &ka)),
        Decoded::Udp(_)
    ));
    // A later fragment (F set, offset 1) yields nothing; the first is read.
    let mut frag = capwap(2, false, &eth(0x0800, &packet));
    frag[3] |= 0x80;
    assert!(matches!(
        decode(1, &outer_udp(1, 5247, &frag)),
        Decoded::Tcp(_)
    ));
    frag[7] = 0x08;
    assert_eq!(
        decode(1, &outer_udp(1, 5247, &frag)),
        Decoded::Skip(SkipReason::NotIp)
    );
}

#[test]
fn gtp_and_capwap_count_against_the_tunnel_depth() {
    // CAPWAP(802.3) -> GTP-U -> IPv4-in-IPv4 x2 -> TCP: four tunnels, the cap.
    let mut nested = seg4(b"deep");
    for _ in 0..2 {
        nested = ipv4(4, &nested);
    }
    let g = ipv4(17, &udp_hdr(2152, 2152, &gtp(0, &[], &nested)));
    let f = outer_udp(1, 5247, &capwap(2, false, &eth(0x0800, &g)));
    let t = expect_tcp(decode(1, &f));
    assert_eq!((t.tunnel, t.payload), (Some(Tunnel::Capwap), &b"deep"[..]));
    let g = ipv4(17, &udp_hdr(2152, 2152, &gtp(0, &[], &ipv4(4, &nested))));
    let f = outer_udp(1, 5247, &capwap(2, false, &eth(0x0800, &g)));
    assert_eq!(decode(1, &f), Decoded::Skip(SkipReason::TunnelTooDeep));
}

#[test]
fn arkime_synthetic_gtp_u_frame_is_walked_to_its_icmp() {
    // Frame 305 of Arkime's arkime_synthetic.pcap (testdata/README.md): a
    // G-PDU, TEID 0x12345678, carrying an ICMP echo (tshark:
    // eth:ip:udp:gtp:ip:icmp). Walked, it is the inner ICMP, not UDP.
    let bytes = include_bytes!("../../testdata/captures/benign/arkime_arkime_synthetic.pcap");
    let mut seen = Vec::new();
    each_decoded(bytes, |_, d| {
        seen.push(match d {
            Decoded::Skip(r) => Some(r),
            _ => None,
        })
    });
    assert_eq!(
        seen.get(304).copied().flatten(),
        Some(SkipReason::OtherProtocol(1))
    );
}
