//! IPv4 (RFC 791), IPv6 (RFC 8200) with its extension headers, TCP (RFC 9293),
//! UDP (RFC 768), and the tunnels found above IP: GRE (RFC 2784/2890) with
//! ERSPAN, VXLAN (RFC 7348), GENEVE (RFC 8926), GTP-U (3GPP TS 29.281),
//! CAPWAP data (RFC 5415), IP-in-IP.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::link::{ethernet, ethertype, ieee80211, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::{be16, be32, Ctx, Decoded, Fragment, SkipReason, TcpSegment, Tunnel, UdpDatagram};
use crate::limits::{MAX_GTP_EXT_HEADERS, MAX_IPV6_EXT_HEADERS};

const PROTO_HOPOPTS: u8 = 0;
const PROTO_IPIP: u8 = 4;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_IPV6: u8 = 41;
const PROTO_ROUTING: u8 = 43;
const PROTO_FRAGMENT: u8 = 44;
const PROTO_GRE: u8 = 47;
const PROTO_AH: u8 = 51;
const PROTO_DSTOPTS: u8 = 60;

const PORT_VXLAN: u16 = 4789;
const PORT_GENEVE: u16 = 6081;
/// GTP-U (3GPP TS 29.281 §4.4.2.3).
const PORT_GTP_U: u16 = 2152;
/// CAPWAP data channel (RFC 5415 §3.1).
const PORT_CAPWAP_DATA: u16 = 5247;

const GRE_TEB: u16 = 0x6558;
const GRE_ERSPAN_2: u16 = 0x88BE;
const GRE_ERSPAN_3: u16 = 0x22EB;

/// The IP-level facts the transport decoders need.
#[derive(Debug, Clone, Copy)]
struct Ip {
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
}

/// Decodes from an IPv4 or IPv6 header, chosen by the version nibble.
pub(super) fn decode_ip(packet: &[u8], ctx: Ctx) -> Decoded<'_> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => ipv4(packet, ctx),
        Some(6) => ipv6(packet, ctx),
        Some(_) => Decoded::Skip(SkipReason::NotIp),
        None => Decoded::Skip(SkipReason::Truncated),
    }
}

fn ipv4(p: &[u8], ctx: Ctx) -> Decoded<'_> {
    let Some(h) = p.get(..20) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let ihl = usize::from(h.first().map_or(0, |b| b & 0x0F)) * 4;
    if ihl < 20 {
        return Decoded::Skip(SkipReason::BadIpHeader);
    }
    let total = usize::from(be16(h, 2).unwrap_or(0));
    // A total length of 0 is seen on captured TSO super-packets: use what
    // was captured. Otherwise it trims Ethernet padding.
    let total = if total == 0 { p.len() } else { total };
    if total < ihl {
        return Decoded::Skip(SkipReason::BadIpHeader);
    }
    // A packet cut by the capture's snap length keeps what was captured, as
    // tshark does: a ServerHello at the start of a cut segment is still
    // read, and the reassembler sees the missing tail as a gap. Fragments
    // must be whole to be put together.
    let cut = total > p.len();
    let (Some(header), Some(payload)) = (p.get(..ihl), p.get(ihl..total.min(p.len()))) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let (Some(src), Some(dst)) = (addr4(h, 12), addr4(h, 16)) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let ip = Ip {
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        ttl: h.get(8).copied().unwrap_or(0),
    };
    let proto = h.get(9).copied().unwrap_or(0);
    let frag = be16(h, 6).unwrap_or(0);
    let more = frag & 0x2000 != 0;
    let offset = u32::from(frag & 0x1FFF) * 8;
    if more || offset != 0 {
        if cut {
            return Decoded::Skip(SkipReason::Truncated);
        }
        return Decoded::Fragment(Fragment {
            src: ip.src,
            dst: ip.dst,
            id: u32::from(be16(h, 4).unwrap_or(0)),
            protocol: proto,
            offset,
            more,
            header,
            payload,
            ipv6: false,
        });
    }
    transport(proto, payload, ip, ctx)
}

fn ipv6(p: &[u8], ctx: Ctx) -> Decoded<'_> {
    let Some(h) = p.get(..40) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let plen = usize::from(be16(h, 4).unwrap_or(0));
    // Payload length 0 means a jumbogram (RFC 2675) or TSO: use what was
    // captured.
    let end = if plen == 0 { p.len() } else { 40 + plen };
    // Cut by the snap length: what was captured (see ipv4).
    let cut = end > p.len();
    let Some(body) = p.get(40..end.min(p.len())) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let (Some(src), Some(dst)) = (addr6(h, 8), addr6(h, 24)) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let ip = Ip {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl: h.get(7).copied().unwrap_or(0),
    };
    let mut next = h.get(6).copied().unwrap_or(0);
    let mut rest = body;
    for _ in 0..=MAX_IPV6_EXT_HEADERS {
        let len = match next {
            PROTO_HOPOPTS | PROTO_ROUTING | PROTO_DSTOPTS => {
                rest.get(1).map(|l| (usize::from(*l) + 1) * 8)
            }
            // AH length is in 4-byte units, minus 2 (RFC 4302 section 2.2).
            PROTO_AH => rest.get(1).map(|l| (usize::from(*l) + 2) * 4),
            PROTO_FRAGMENT => {
                let (Some(&nh), Some(off_flags), Some(id), Some(data)) =
                    (rest.first(), be16(rest, 2), be32(rest, 4), rest.get(8..))
                else {
                    return Decoded::Skip(SkipReason::Truncated);
                };
                let offset = u32::from(off_flags >> 3) * 8;
                let more = off_flags & 1 != 0;
                if offset == 0 && !more {
                    // An atomic fragment (RFC 6946): just a header to skip.
                    next = nh;
                    rest = data;
                    continue;
                }
                if cut {
                    return Decoded::Skip(SkipReason::Truncated);
                }
                return Decoded::Fragment(Fragment {
                    src: ip.src,
                    dst: ip.dst,
                    id,
                    protocol: nh,
                    offset,
                    more,
                    header: h,
                    payload: data,
                    ipv6: true,
                });
            }
            proto => return transport(proto, rest, ip, ctx),
        };
        let (Some(len), Some(&nh)) = (len, rest.first()) else {
            return Decoded::Skip(SkipReason::Truncated);
        };
        let Some(after) = rest.get(len..) else {
            return Decoded::Skip(SkipReason::Truncated);
        };
        next = nh;
        rest = after;
    }
    Decoded::Skip(SkipReason::TunnelTooDeep)
}

fn addr4(h: &[u8], at: usize) -> Option<Ipv4Addr> {
    let b: [u8; 4] = h.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

fn addr6(h: &[u8], at: usize) -> Option<Ipv6Addr> {
    let b: [u8; 16] = h.get(at..at + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

/// The upper layer of a whole (unfragmented) IP payload.
fn transport(proto: u8, payload: &[u8], ip: Ip, ctx: Ctx) -> Decoded<'_> {
    match proto {
        PROTO_TCP => tcp(payload, ip, ctx),
        PROTO_UDP => udp(payload, ip, ctx),
        PROTO_GRE => gre(payload, ctx),
        PROTO_IPIP | PROTO_IPV6 => match ctx.enter(Tunnel::IpInIp) {
            Some(inner) => decode_ip(payload, inner),
            None => Decoded::Skip(SkipReason::TunnelTooDeep),
        },
        other => Decoded::Skip(SkipReason::OtherProtocol(other)),
    }
}

fn tcp(t: &[u8], ip: Ip, ctx: Ctx) -> Decoded<'_> {
    let Some(h) = t.get(..20) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let data_offset = usize::from(h.get(12).map_or(0, |b| b >> 4)) * 4;
    if data_offset < 20 {
        return Decoded::Skip(SkipReason::BadTcpHeader);
    }
    let Some(payload) = t.get(data_offset..) else {
        return Decoded::Skip(SkipReason::BadTcpHeader);
    };
    let (Some(src_port), Some(dst_port), Some(seq), Some(ack), Some(window)) =
        (be16(h, 0), be16(h, 2), be32(h, 4), be32(h, 8), be16(h, 14))
    else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    Decoded::Tcp(TcpSegment {
        src: ip.src,
        dst: ip.dst,
        src_port,
        dst_port,
        seq,
        ack,
        flags: h.get(13).copied().unwrap_or(0),
        window,
        ttl: ip.ttl,
        payload,
        tunnel: ctx.tunnel,
        vlan: ctx.vlan,
    })
}

fn udp(u: &[u8], ip: Ip, ctx: Ctx) -> Decoded<'_> {
    let (Some(src_port), Some(dst_port), Some(len)) = (be16(u, 0), be16(u, 2), be16(u, 4)) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let len = usize::from(len);
    // Length 0 (IPv6 jumbograms) or less than the header: trust the IP length.
    let end = if len < 8 { u.len() } else { len };
    let Some(payload) = u.get(8..end) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let datagram = Decoded::Udp(UdpDatagram {
        src: ip.src,
        dst: ip.dst,
        src_port,
        dst_port,
        ttl: ip.ttl,
        payload,
        tunnel: ctx.tunnel,
        vlan: ctx.vlan,
    });
    let inner = match dst_port {
        PORT_VXLAN => vxlan(payload, ctx),
        PORT_GENEVE => geneve(payload, ctx),
        PORT_GTP_U => gtp_u(payload, ctx),
        PORT_CAPWAP_DATA => capwap_data(payload, ctx),
        // The controller answers from 5247 to the access point's own port.
        _ if src_port == PORT_CAPWAP_DATA => capwap_data(payload, ctx),
        _ => None,
    };
    inner.unwrap_or(datagram)
}

/// GTP-U (3GPP TS 29.281 §5.1): flags (version 1, PT 1, E, S, PN), message
/// type, length of what follows the first 8 bytes, TEID; if any of E, S or
/// PN is set, a sequence number, an N-PDU number and the next extension
/// header type follow, then the extension headers (§5.2), each a length in
/// 4-byte units, content and the next type. A G-PDU (type 255) carries a
/// user IPv4 or IPv6 packet. `None` for other messages (echo, error
/// indication, end marker) and for GTP' or GTPv2 on the port: the datagram
/// is then reported as plain UDP.
fn gtp_u(p: &[u8], ctx: Ctx) -> Option<Decoded<'_>> {
    const G_PDU: u8 = 0xFF;
    let flags = *p.first()?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || *p.get(1)? != G_PDU {
        return None;
    }
    let Some(inner) = ctx.enter(Tunnel::Gtp) else {
        return Some(Decoded::Skip(SkipReason::TunnelTooDeep));
    };
    let Some(body) = gtp_body(p, flags) else {
        return Some(Decoded::Skip(SkipReason::Truncated));
    };
    Some(match body {
        GtpBody::Packet(packet) => match packet.first().map(|b| b >> 4) {
            Some(4 | 6) => decode_ip(packet, inner),
            Some(_) => Decoded::Skip(SkipReason::NotIp),
            None => Decoded::Skip(SkipReason::Truncated),
        },
        GtpBody::TooManyExtensions => Decoded::Skip(SkipReason::TunnelTooDeep),
    })
}

enum GtpBody<'a> {
    Packet(&'a [u8]),
    TooManyExtensions,
}

/// The T-PDU of a G-PDU, after the optional fields and extension headers;
/// `None` when a header runs past the captured bytes.
fn gtp_body(p: &[u8], flags: u8) -> Option<GtpBody<'_>> {
    let len = usize::from(be16(p, 2)?);
    // The length counts from byte 8; a snap length may have cut the end.
    let end = p.len().min(8usize.checked_add(len)?);
    let msg = p.get(..end)?;
    if flags & 0x07 == 0 {
        return msg.get(8..).map(GtpBody::Packet);
    }
    let mut next = *msg.get(11)?;
    let mut at = 12usize;
    let mut seen = 0usize;
    while next != 0 {
        seen += 1;
        if seen > MAX_GTP_EXT_HEADERS {
            return Some(GtpBody::TooManyExtensions);
        }
        let units = usize::from(*msg.get(at)?);
        if units == 0 {
            return None;
        }
        let end = at.checked_add(units.checked_mul(4)?)?;
        next = *msg.get(end.checked_sub(1)?)?;
        at = end;
    }
    msg.get(at..).map(GtpBody::Packet)
}

/// CAPWAP data channel (RFC 5415 §4.3). Preamble (version 0, type 0: a
/// CAPWAP header; type 1 is DTLS, left as plain UDP), then HLEN (header
/// length in 4-byte words, optional radio MAC and wireless information
/// included), RID, WBID, and the T, F, L, W, M, K flags. The payload is an
/// IEEE 802.3 frame when T is 0, or the WBID's native frame when T is 1;
/// only IEEE 802.11 (WBID 1, RFC 5416 §3) is read. Keep-alives (K) carry
/// no frame. Fragments (F) are not put back together: the first is read as
/// far as it goes, the others yield nothing.
fn capwap_data(p: &[u8], ctx: Ctx) -> Option<Decoded<'_>> {
    const WBID_IEEE80211: u32 = 1;
    let w = be32(p, 0)?;
    if w >> 24 != 0 {
        return None;
    }
    let hlen = usize::try_from((w >> 19) & 0x1F).ok()?.checked_mul(4)?;
    let wbid = (w >> 9) & 0x1F;
    let native = w & 0x100 != 0;
    let fragment = w & 0x80 != 0;
    let keep_alive = w & 0x08 != 0;
    if keep_alive || hlen < 8 {
        return None;
    }
    let Some(inner) = ctx.enter(Tunnel::Capwap) else {
        return Some(Decoded::Skip(SkipReason::TunnelTooDeep));
    };
    let (Some(frag_word), Some(frame)) = (be16(p, 6), p.get(hlen..)) else {
        return Some(Decoded::Skip(SkipReason::Truncated));
    };
    if fragment && frag_word >> 3 != 0 {
        return Some(Decoded::Skip(SkipReason::NotIp));
    }
    Some(match (native, wbid) {
        (false, _) => ethernet(frame, inner),
        (true, WBID_IEEE80211) => ieee80211(frame, inner),
        (true, _) => Decoded::Skip(SkipReason::NotIp),
    })
}

/// VXLAN (RFC 7348 section 5): 8-byte header with the I flag, then Ethernet.
/// `None` when the header does not look like VXLAN (the datagram is then
/// reported as plain UDP).
fn vxlan(p: &[u8], ctx: Ctx) -> Option<Decoded<'_>> {
    let flags = *p.first()?;
    let frame = p.get(8..)?;
    if flags & 0x08 == 0 {
        return None;
    }
    Some(match ctx.enter(Tunnel::Vxlan) {
        Some(inner) => ethernet(frame, inner),
        None => Decoded::Skip(SkipReason::TunnelTooDeep),
    })
}

/// GENEVE (RFC 8926 section 3): version 0, option length in 4-byte words,
/// protocol type as an EtherType (0x6558 for Ethernet).
fn geneve(p: &[u8], ctx: Ctx) -> Option<Decoded<'_>> {
    let b0 = *p.first()?;
    if b0 >> 6 != 0 {
        return None;
    }
    let opt_len = usize::from(b0 & 0x3F) * 4;
    let proto = be16(p, 2)?;
    let body = p.get(8 + opt_len..)?;
    let Some(inner) = ctx.enter(Tunnel::Geneve) else {
        return Some(Decoded::Skip(SkipReason::TunnelTooDeep));
    };
    Some(match proto {
        GRE_TEB => ethernet(body, inner),
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => decode_ip(body, inner),
        _ => Decoded::Skip(SkipReason::NotIp),
    })
}

/// GRE (RFC 2784, keys and sequence numbers RFC 2890): optional checksum,
/// key and sequence words, then a protocol type. ERSPAN type II and III
/// (draft-foschiano-erspan) ride on protocol types 0x88be and 0x22eb.
fn gre(g: &[u8], ctx: Ctx) -> Decoded<'_> {
    let (Some(flags), Some(proto)) = (be16(g, 0), be16(g, 2)) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let version = flags & 0x0007;
    let routing = flags & 0x4000 != 0;
    if version != 0 || routing {
        return Decoded::Skip(SkipReason::OtherProtocol(PROTO_GRE));
    }
    let seq = flags & 0x1000 != 0;
    let mut hlen = 4;
    if flags & 0x8000 != 0 {
        hlen += 4;
    }
    if flags & 0x2000 != 0 {
        hlen += 4;
    }
    if seq {
        hlen += 4;
    }
    let Some(body) = g.get(hlen..) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let erspan = matches!(proto, GRE_ERSPAN_2 | GRE_ERSPAN_3);
    let kind = if erspan { Tunnel::Erspan } else { Tunnel::Gre };
    let Some(inner) = ctx.enter(kind) else {
        return Decoded::Skip(SkipReason::TunnelTooDeep);
    };
    match proto {
        GRE_TEB => ethernet(body, inner),
        // Type I has no sequence number and no ERSPAN header.
        GRE_ERSPAN_2 if !seq => ethernet(body, inner),
        GRE_ERSPAN_2 => match body.get(8..) {
            Some(frame) => ethernet(frame, inner),
            None => Decoded::Skip(SkipReason::Truncated),
        },
        GRE_ERSPAN_3 => {
            let (Some(&b10), Some(&b11)) = (body.get(10), body.get(11)) else {
                return Decoded::Skip(SkipReason::Truncated);
            };
            // O flag: an 8-byte platform-specific subheader follows.
            let hdr = if b11 & 0x01 != 0 { 20 } else { 12 };
            let frame_type = (b10 >> 2) & 0x1F;
            match (body.get(hdr..), frame_type) {
                (Some(frame), 0) => ethernet(frame, inner),
                (Some(packet), 2) => decode_ip(packet, inner),
                (Some(_), _) => Decoded::Skip(SkipReason::NotIp),
                (None, _) => Decoded::Skip(SkipReason::Truncated),
            }
        }
        other => ethertype(other, body, inner),
    }
}
