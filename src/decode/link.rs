//! Link layers: from a frame of a given LINKTYPE (tcpdump.org/linktypes.html)
//! to the start of its IP packet. Ethernet here also walks VLAN tags, MPLS
//! label stacks and PPPoE sessions, which GRE and VXLAN reuse for their inner
//! frames; IEEE 802.11 data frames with LLC/SNAP serve CAPWAP.

use super::{be16, ip, Ctx, Decoded, SkipReason, Tunnel};
use crate::limits::{MAX_MPLS_LABELS, MAX_VLAN_TAGS};

const LINKTYPE_NULL: u32 = 0;
const LINKTYPE_ETHERNET: u32 = 1;
const LINKTYPE_PPP: u32 = 9;
const LINKTYPE_RAW_12: u32 = 12;
const LINKTYPE_RAW_14: u32 = 14;
const LINKTYPE_PPP_HDLC: u32 = 50;
const LINKTYPE_C_HDLC: u32 = 104;
const LINKTYPE_RAW: u32 = 101;
const LINKTYPE_LOOP: u32 = 108;
const LINKTYPE_LINUX_SLL: u32 = 113;
const LINKTYPE_IPV4: u32 = 228;
const LINKTYPE_NFLOG: u32 = 239;
const LINKTYPE_IPV6: u32 = 229;
const LINKTYPE_PKTAP: u32 = 258;
const LINKTYPE_LINUX_SLL2: u32 = 276;

pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(super) const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MCAST: u16 = 0x8848;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// Dispatches on the link type.
pub(super) fn decode_link(linktype: u32, frame: &[u8], ctx: Ctx) -> Decoded<'_> {
    match linktype {
        LINKTYPE_ETHERNET => ethernet(frame, ctx),
        LINKTYPE_RAW | LINKTYPE_RAW_12 | LINKTYPE_RAW_14 | LINKTYPE_IPV4 | LINKTYPE_IPV6 => {
            ip::decode_ip(frame, ctx)
        }
        LINKTYPE_NULL | LINKTYPE_LOOP => null_loop(frame, ctx),
        LINKTYPE_LINUX_SLL => match (be16(frame, 14), frame.get(16..)) {
            (Some(proto), Some(rest)) => ethertype(proto, rest, ctx),
            _ => Decoded::Skip(SkipReason::Truncated),
        },
        LINKTYPE_LINUX_SLL2 => match (be16(frame, 0), frame.get(20..)) {
            (Some(proto), Some(rest)) => ethertype(proto, rest, ctx),
            _ => Decoded::Skip(SkipReason::Truncated),
        },
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => ppp(frame, ctx),
        // Cisco HDLC: address, control, then an EtherType.
        LINKTYPE_C_HDLC => match (be16(frame, 2), frame.get(4..)) {
            (Some(proto), Some(rest)) => ethertype(proto, rest, ctx),
            _ => Decoded::Skip(SkipReason::Truncated),
        },
        LINKTYPE_PKTAP => pktap(frame, ctx),
        LINKTYPE_NFLOG => nflog(frame, ctx),
        other => Decoded::Skip(SkipReason::UnsupportedLinktype(other)),
    }
}

/// Apple's PKTAP (`tcpdump -k` or `-i pktap` on macOS): a header in the
/// writer's byte order (little-endian on every Mac) whose first words are
/// its own length, the record type (1: a packet) and the link type of the
/// frame that follows it, which is decoded as such (one level only).
fn pktap(frame: &[u8], ctx: Ctx) -> Decoded<'_> {
    let word = |at: usize| {
        frame
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
    };
    let (Some(len), Some(kind), Some(dlt)) = (word(0), word(4), word(8)) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    if kind != 1 || dlt == LINKTYPE_PKTAP || len < 12 {
        return Decoded::Skip(SkipReason::NotIp);
    }
    match usize::try_from(len).ok().and_then(|l| frame.get(l..)) {
        Some(inner) => decode_link(dlt, inner, ctx),
        None => Decoded::Skip(SkipReason::Truncated),
    }
}

/// Linux NFLOG (`tcpdump -i nflog:N`): family, version, resource id, then
/// TLVs whose length and type are in the writer's byte order (length
/// counting the 4-byte TLV header, values padded to 4 bytes); type 9 is
/// the IP packet. Little-endian is tried first, big-endian when the
/// lengths do not fit.
fn nflog(frame: &[u8], ctx: Ctx) -> Decoded<'_> {
    const NFULA_PAYLOAD: u16 = 9;
    let Some(tlvs) = frame.get(4..) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let payload = |le: bool| -> Result<Option<&[u8]>, ()> {
        let mut at = 0usize;
        // Each TLV takes at least 4 bytes: the walk ends.
        while at < tlvs.len() {
            let head = tlvs.get(at..at.saturating_add(4)).ok_or(())?;
            let [a, b, c, d] = <[u8; 4]>::try_from(head).map_err(|_| ())?;
            let (l, t) = if le {
                (u16::from_le_bytes([a, b]), u16::from_le_bytes([c, d]))
            } else {
                (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]))
            };
            let l = usize::from(l);
            if l < 4 {
                return Err(());
            }
            let value = tlvs.get(at + 4..at.saturating_add(l)).ok_or(())?;
            if t & 0x7fff == NFULA_PAYLOAD {
                return Ok(Some(value));
            }
            at = at.saturating_add((l + 3) & !3);
        }
        Ok(None)
    };
    match payload(true).or_else(|()| payload(false)) {
        Ok(Some(ip_packet)) => ip::decode_ip(ip_packet, ctx),
        Ok(None) => Decoded::Skip(SkipReason::NotIp),
        Err(()) => Decoded::Skip(SkipReason::Truncated),
    }
}

/// BSD loopback: a 4-byte address family, in host byte order for NULL and
/// network order for LOOP; both are accepted since captures move between
/// hosts. AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28
/// (FreeBSD) or 30 (macOS).
fn null_loop(frame: &[u8], ctx: Ctx) -> Decoded<'_> {
    let (Some(head), Some(rest)) = (frame.get(..4), frame.get(4..)) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let Ok(bytes) = <[u8; 4]>::try_from(head) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    let le = u32::from_le_bytes(bytes);
    let be = u32::from_be_bytes(bytes);
    let family = |af: u32| matches!(af, 2 | 24 | 28 | 30);
    if family(le) || family(be) {
        ip::decode_ip(rest, ctx)
    } else {
        Decoded::Skip(SkipReason::NotIp)
    }
}

/// PPP (RFC 1661), with or without the HDLC address/control bytes ff 03 and
/// with a one-byte protocol field when compressed (RFC 1661 section 6.5).
fn ppp(frame: &[u8], ctx: Ctx) -> Decoded<'_> {
    let body = match frame {
        [0xFF, 0x03, rest @ ..] => rest,
        _ => frame,
    };
    let (proto, rest) = match body {
        [p, rest @ ..] if p & 1 == 1 => (u16::from(*p), rest),
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return Decoded::Skip(SkipReason::Truncated),
    };
    ppp_proto(proto, rest, ctx)
}

fn ppp_proto(proto: u16, rest: &[u8], ctx: Ctx) -> Decoded<'_> {
    match proto {
        PPP_IPV4 | PPP_IPV6 => ip::decode_ip(rest, ctx),
        _ => Decoded::Skip(SkipReason::NotIp),
    }
}

/// Ethernet II (IEEE 802.3): destination, source, EtherType.
pub(super) fn ethernet(frame: &[u8], ctx: Ctx) -> Decoded<'_> {
    match (be16(frame, 12), frame.get(14..)) {
        (Some(t), Some(rest)) => ethertype(t, rest, ctx),
        _ => Decoded::Skip(SkipReason::Truncated),
    }
}

/// The payload of EtherType `t`, walking VLAN tags (IEEE 802.1Q, 802.1ad and
/// the pre-standard 0x9100), MPLS and PPPoE.
pub(super) fn ethertype(mut t: u16, mut rest: &[u8], mut ctx: Ctx) -> Decoded<'_> {
    let mut tags = 0usize;
    while matches!(t, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Decoded::Skip(SkipReason::TunnelTooDeep);
        }
        let (Some(tci), Some(next), Some(after)) = (be16(rest, 0), be16(rest, 2), rest.get(4..))
        else {
            return Decoded::Skip(SkipReason::Truncated);
        };
        ctx.vlan = ctx.vlan.or(Some(tci & 0x0FFF));
        t = next;
        rest = after;
    }
    match t {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => ip::decode_ip(rest, ctx),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MCAST => mpls(rest, ctx),
        ETHERTYPE_PPPOE_SESSION => pppoe(rest, ctx),
        _ => Decoded::Skip(SkipReason::NotIp),
    }
}

/// An IEEE 802.11 data frame (IEEE 802.11-2020 §9.2.3, §9.3.2.1) as CAPWAP
/// carries it (RFC 5416 §3; a trailing FCS, if any, falls outside the IP
/// length): frame control, duration, three
/// addresses, sequence control, a fourth address when both To DS and From
/// DS are set, QoS control for QoS subtypes and HT control when the Order
/// bit is set on one; then an LLC/SNAP header (RFC 1042, or the 802.1H
/// bridge-tunnel OUI 00-00-f8) and its EtherType. Management, control,
/// null, protected (encrypted) and A-MSDU frames hold no readable IP here.
pub(super) fn ieee80211(frame: &[u8], ctx: Ctx) -> Decoded<'_> {
    let (Some(&a), Some(&b)) = (frame.first(), frame.get(1)) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    // Some access points (Cisco's, among others) send the two frame control
    // bytes swapped; Wireshark's CAPWAP dissector swaps them by default
    // (preference capwap.swap_fc). A data frame has protocol version 0 and
    // type 2 in its first byte, and one through an AP has a DS bit set,
    // which would read as a non-zero version: the order shows itself.
    let is_data = |x: u8| x & 0x0F == 0x08;
    let (fc0, fc1) = if !is_data(a) && is_data(b) {
        (b, a)
    } else {
        (a, b)
    };
    let data = is_data(fc0);
    let subtype = fc0 >> 4;
    let no_body = subtype & 0x04 != 0;
    let protected = fc1 & 0x40 != 0;
    if !data || no_body || protected {
        return Decoded::Skip(SkipReason::NotIp);
    }
    let qos = subtype & 0x08 != 0;
    let mut hlen = 24;
    if fc1 & 0x03 == 0x03 {
        hlen += 6;
    }
    if qos {
        hlen += 2;
        if fc1 & 0x80 != 0 {
            hlen += 4;
        }
    }
    let Some(llc) = frame.get(hlen..) else {
        return Decoded::Skip(SkipReason::Truncated);
    };
    match (llc.get(..6), be16(llc, 6), llc.get(8..)) {
        (Some([0xAA, 0xAA, 0x03, 0x00, 0x00, 0x00 | 0xF8]), Some(t), Some(rest)) => {
            ethertype(t, rest, ctx)
        }
        (Some(_), Some(_), Some(_)) => Decoded::Skip(SkipReason::NotIp),
        _ => Decoded::Skip(SkipReason::Truncated),
    }
}

/// An MPLS label stack (RFC 3032) up to the bottom-of-stack bit; the payload
/// type is not signalled, so it is guessed from the first nibble: 4 IPv4,
/// 6 IPv6, 0 a pseudowire control word (RFC 4385) followed by Ethernet.
fn mpls(mut rest: &[u8], ctx: Ctx) -> Decoded<'_> {
    for _ in 0..MAX_MPLS_LABELS {
        let (Some(&b2), Some(after)) = (rest.get(2), rest.get(4..)) else {
            return Decoded::Skip(SkipReason::Truncated);
        };
        rest = after;
        if b2 & 0x01 == 0 {
            continue;
        }
        return match rest.first().map(|b| b >> 4) {
            Some(4 | 6) => ip::decode_ip(rest, ctx),
            Some(0) => match (rest.get(4..), ctx.enter(Tunnel::MplsPseudowire)) {
                (Some(eth), Some(inner)) => ethernet(eth, inner),
                (None, _) => Decoded::Skip(SkipReason::Truncated),
                (_, None) => Decoded::Skip(SkipReason::TunnelTooDeep),
            },
            Some(_) => Decoded::Skip(SkipReason::NotIp),
            None => Decoded::Skip(SkipReason::Truncated),
        };
    }
    Decoded::Skip(SkipReason::TunnelTooDeep)
}

/// A PPPoE session frame (RFC 2516 section 4): version/type, code, session
/// id, length, then a PPP protocol field.
fn pppoe(rest: &[u8], ctx: Ctx) -> Decoded<'_> {
    match (be16(rest, 6), rest.get(8..)) {
        (Some(proto), Some(after)) => ppp_proto(proto, after, ctx),
        _ => Decoded::Skip(SkipReason::Truncated),
    }
}
