//! Frames in, borrowed TCP segments, UDP datagrams or IP fragments out. The
//! link layer is chosen by the frame's LINKTYPE: Ethernet (with 802.1Q/802.1ad
//! tags, QinQ, MPLS label stacks and PPPoE sessions), Linux cooked SLL and
//! SLL2, raw IP, BSD NULL/LOOP and PPP. Tunnels (VXLAN, GENEVE, GRE with
//! ERSPAN II/III, GTP-U, CAPWAP data with 802.3 or 802.11 frames, IP-in-IP)
//! are walked and the inner packet is reported as if
//! it had been captured directly, tagged with the outermost tunnel kind.
//!
//! The header slicing is written by hand: etherparse, the obvious crate, lacks
//! MPLS, PPPoE, GRE/ERSPAN, VXLAN, GENEVE and SLL2 in one decoder, and none
//! offers bounded defragmentation; each header here is a length check and a
//! few reads at fixed offsets, so owning it costs little.
//!
//! Nothing is copied except by `Defragmenter`, which rebuilds fragmented
//! datagrams. Checksums are not verified (offloading makes captured checksums
//! unreliable). Left out: IPv6 jumbograms beyond the capture, GRE routing
//! (RFC 1701 R bit), PPTP enhanced GRE, VLAN tag semantics beyond the id,
//! CAPWAP fragment reassembly and DTLS-protected CAPWAP, GTP-U carrying
//! Ethernet or PPP.

mod defrag;
mod ip;
mod link;

use std::net::{IpAddr, SocketAddr};

pub use defrag::Defragmenter;

use crate::bytes::{be16, be32};

/// TCP flag bits as in the header's flags byte (RFC 9293 section 3.1).
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
}

/// The outermost tunnel a packet was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tunnel {
    /// VXLAN (RFC 7348), UDP port 4789.
    Vxlan,
    /// GENEVE (RFC 8926), UDP port 6081.
    Geneve,
    /// GRE (RFC 2784, RFC 2890) carrying IP or Ethernet.
    Gre,
    /// ERSPAN type I, II or III mirrored traffic inside GRE.
    Erspan,
    /// IP-in-IP (IP protocol 4 or 41, RFC 2003, RFC 4213).
    IpInIp,
    /// MPLS pseudowire carrying Ethernet (RFC 4448).
    MplsPseudowire,
    /// GTP-U (3GPP TS 29.281), UDP port 2152: mobile user-plane traffic.
    Gtp,
    /// CAPWAP data (RFC 5415), UDP port 5247: wireless LAN controller
    /// traffic, 802.3 or 802.11 frames.
    Capwap,
}

/// Why a frame yields nothing for the later stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The capture's link type is not decoded.
    UnsupportedLinktype(u32),
    /// The frame carries something other than IP (ARP, LLDP...).
    NotIp,
    /// A header or the IP payload runs past the captured bytes.
    Truncated,
    /// An IPv4/IPv6 header is malformed.
    BadIpHeader,
    /// A TCP header is malformed.
    BadTcpHeader,
    /// An IP protocol other than TCP, UDP or a tunnel.
    OtherProtocol(u8),
    /// More nested encapsulations than `limits::MAX_TUNNEL_DEPTH` (or VLAN
    /// tags, MPLS labels, IPv6 extension headers beyond their caps).
    TunnelTooDeep,
}

/// A TCP segment, borrowed from the frame: the one TCP segment type of
/// the crate (the flow stage takes it with the time and place of capture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags byte: FIN=1 SYN=2 RST=4 PSH=8 ACK=16 (see `tcp_flags`).
    pub flags: u8,
    /// Receive window (unscaled).
    pub window: u16,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Payload after the TCP header and options, trimmed to the IP length.
    pub payload: &'a [u8],
    /// Outermost tunnel the segment was found in, if any.
    pub tunnel: Option<Tunnel>,
    /// Outermost VLAN id, if tagged.
    pub vlan: Option<u16>,
}

impl<'a> TcpSegment<'a> {
    /// The sender's address and port.
    pub fn src_addr(&self) -> SocketAddr {
        SocketAddr::new(self.src, self.src_port)
    }

    /// The receiver's address and port.
    pub fn dst_addr(&self) -> SocketAddr {
        SocketAddr::new(self.dst, self.dst_port)
    }

    /// A segment for tests: from `src` to `dst` (`"ip:port"`), TTL 64, no
    /// acknowledgment number, window, tunnel or VLAN.
    #[cfg(test)]
    pub(crate) fn between(src: &str, dst: &str, seq: u32, flags: u8, payload: &'a [u8]) -> Self {
        let parse = |a: &str| {
            a.parse::<SocketAddr>()
                .unwrap_or(SocketAddr::from(([0; 4], 0)))
        };
        let (src, dst) = (parse(src), parse(dst));
        TcpSegment {
            src: src.ip(),
            dst: dst.ip(),
            src_port: src.port(),
            dst_port: dst.port(),
            seq,
            ack: 0,
            flags,
            window: 0,
            ttl: 64,
            payload,
            tunnel: None,
            vlan: None,
        }
    }
}

/// A UDP datagram, borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Payload after the 8-byte header, trimmed to the UDP length.
    pub payload: &'a [u8],
    /// Outermost tunnel the datagram was found in, if any.
    pub tunnel: Option<Tunnel>,
    /// Outermost VLAN id, if tagged.
    pub vlan: Option<u16>,
}

/// One fragment of an IPv4 or IPv6 datagram, for `Defragmenter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Identification (16 bits in IPv4, 32 in IPv6).
    pub id: u32,
    /// The upper-layer protocol of the whole datagram.
    pub protocol: u8,
    /// Offset of this fragment's payload in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// The IP header: IPv4 with options, or the fixed 40-byte IPv6 header.
    pub header: &'a [u8],
    /// The fragment's data.
    pub payload: &'a [u8],
    /// IPv6 (true) or IPv4.
    pub ipv6: bool,
}

/// What a frame holds, as far as the later stages care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// An IP fragment, to be given to a `Defragmenter`.
    Fragment(Fragment<'a>),
    /// Nothing usable, and why.
    Skip(SkipReason),
}

/// Encapsulation state carried down the decoder: how deep we are, the
/// outermost tunnel and VLAN id.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    depth: usize,
    tunnel: Option<Tunnel>,
    vlan: Option<u16>,
}

impl Ctx {
    /// Enters one more tunnel, or `None` past `MAX_TUNNEL_DEPTH`.
    fn enter(self, t: Tunnel) -> Option<Ctx> {
        let depth = self.depth.checked_add(1)?;
        (depth <= crate::limits::MAX_TUNNEL_DEPTH).then_some(Ctx {
            depth,
            tunnel: self.tunnel.or(Some(t)),
            vlan: self.vlan,
        })
    }
}

/// Decodes a frame captured with LINKTYPE `linktype`.
pub fn decode(linktype: u32, frame: &[u8]) -> Decoded<'_> {
    link::decode_link(linktype, frame, Ctx::default())
}

/// Decodes a packet that starts at an IPv4 or IPv6 header (a datagram rebuilt
/// by `Defragmenter`, or raw IP).
pub fn decode_ip(packet: &[u8]) -> Decoded<'_> {
    ip::decode_ip(packet, Ctx::default())
}

#[cfg(test)]
mod tests;
