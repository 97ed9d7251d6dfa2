#!/usr/bin/env python3
"""Writes the synthetic captures in testdata/captures/ byte by byte (no
dependencies beyond the standard library), for the capture and decode tests.

  synth_sections.pcapng  two sections (little- then big-endian), interfaces
                         with different link types, if_tsresol and
                         if_tsoffset, enhanced, simple and obsolete packet
                         blocks, a Decryption Secrets Block, an unknown block
  synth_encaps.pcap      Ethernet frames carrying the same kind of TCP segment
                         under VLAN, QinQ, MPLS, PPPoE, VXLAN, GENEVE, GRE,
                         ERSPAN II/III, IP-in-IP, IPv6 extension headers,
                         GTP-U (plain, sequence number, extension headers
                         with IPv6 inside), CAPWAP data (802.3, and 802.11
                         QoS data with LLC/SNAP from the controller's port)
  synth_fragments.pcap   a TCP segment in three IPv4 fragments (out of order,
                         one overlapping) and a UDP datagram in two IPv6
                         fragments
  synth_linktypes.pcapng one interface per link type: NULL, LOOP, raw IP (101,
                         12, 14), IPv4 (228), IPv6 (229), PPP, SLL, SLL2,
                         Cisco HDLC (104), PKTAP (258), NFLOG (239)
  synth_issue30.pcap     issue 30, three TLS connections 10.0.0.1 ->
                         10.0.0.2:443: from port 40001, a server answering one
                         SYN with SYN-ACKs of ISN 5000 then 9000, the client
                         acknowledging 9000; from 40002, a 1-byte and a 2-byte
                         bogus segment at the first sequence number of each
                         direction before the real hellos; from 40003, a
                         HelloRetryRequest (RFC 8448 section 5) and nothing after
  synth_ech_pq.pcap      issue 30, ECH and post-quantum key shares: TLS 1.3
                         ClientHellos of about 1.9 KB (two TCP segments) with
                         GREASE in every list, an X25519MLKEM768 key share and
                         an outer encrypted_client_hello (public name
                         public.example, config id 0x42, HKDF-SHA256,
                         AES-128-GCM). From port 40011 a ServerHello (ECH
                         status unknown); from 40012 a HelloRetryRequest that
                         carries the ECH confirmation (accepted), the second
                         ClientHello, a ServerHello; from 40013 a TLS 1.2
                         ServerHello (ignored)

Except in synth_issue30.pcap, every TCP segment goes 10.0.0.1:40000 -> 10.0.0.2:443 (or 2001:db8::1 ->
2001:db8::2) with payload b"certsift-<n>", n the frame number from 1. Run from
the repository root: python3 scripts/make_test_captures.py
"""

import struct
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "testdata" / "captures"
SRC4 = bytes([10, 0, 0, 1])
DST4 = bytes([10, 0, 0, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000002")
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp(payload, sport=40000, dport=443, seq=1000, flags=0x18):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0) + payload


def udp(payload, sport=50000, dport=53):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv4(proto, body, ident=1, frag=0, src=SRC4, dst=DST4, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, frag, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + body


def ipv6(nh, body, src=SRC6, dst=DST6, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(body), nh, hlim, src, dst) + body


def eth(ethertype, body, dst=MAC_B, src=MAC_A):
    return dst + src + struct.pack("!H", ethertype) + body


def seg4(n, **kw):
    return ipv4(6, tcp(b"certsift-%d" % n), **kw)


def seg6(n):
    return ipv6(6, tcp(b"certsift-%d" % n))


def vlan(tpid, vid, inner_type, body):
    return struct.pack("!HH", tpid, vid) + struct.pack("!H", inner_type) + body


def gre(proto, body, key=None, seq=None, csum_flag=False):
    flags = 0
    extra = b""
    if csum_flag:
        flags |= 0x8000
        extra += b"\0\0\0\0"
    if key is not None:
        flags |= 0x2000
        extra += struct.pack("!I", key)
    if seq is not None:
        flags |= 0x1000
        extra += struct.pack("!I", seq)
    return struct.pack("!HH", flags, proto) + extra + body


# ---------------------------------------------------------------- pcap


def pcap(path, linktype, frames, nanos=False, big_endian=False):
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)
    for i, f in enumerate(frames):
        sec, frac = T0 + i, 1000 * i
        out += struct.pack(e + "IIII", sec, frac, len(f), len(f)) + f
    path.write_bytes(out)


def encaps_frames():
    f = []
    f.append(eth(0x0800, seg4(1)))  # 1 plain
    f.append(eth(0x8100, struct.pack("!H", 100) + struct.pack("!H", 0x0800) + seg4(2)))  # 2 VLAN 100
    f.append(eth(0x88A8, struct.pack("!HHH", 200, 0x8100, 300) + struct.pack("!H", 0x0800) + seg4(3)))  # 3 QinQ
    mpls = struct.pack("!I", (16 << 12) | (0 << 9) | (0 << 8) | 64) + struct.pack("!I", (17 << 12) | (1 << 8) | 64)
    f.append(eth(0x8847, mpls + seg4(4)))  # 4 MPLS two labels, IPv4
    f.append(eth(0x8847, struct.pack("!I", (18 << 12) | (1 << 8) | 64) + seg6(5)))  # 5 MPLS, IPv6
    ppp4 = struct.pack("!H", 0x0021) + seg4(6)
    f.append(eth(0x8864, struct.pack("!BBHH", 0x11, 0, 0x1234, len(ppp4)) + ppp4))  # 6 PPPoE IPv4
    ppp6 = struct.pack("!H", 0x0057) + seg6(7)
    f.append(eth(0x8864, struct.pack("!BBHH", 0x11, 0, 0x1234, len(ppp6)) + ppp6))  # 7 PPPoE IPv6
    inner = eth(0x0800, seg4(8))
    vx = struct.pack("!BBBBI", 0x08, 0, 0, 0, 42 << 8) + inner
    f.append(eth(0x0800, ipv4(17, udp(vx, 51000, 4789), src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))))  # 8 VXLAN
    gen = struct.pack("!BBHI", 0x01, 0, 0x6558, 7 << 8) + b"\x01\x02\x03\x04" + eth(0x0800, seg4(9))
    f.append(eth(0x0800, ipv4(17, udp(gen, 51001, 6081), src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))))  # 9 GENEVE
    f.append(eth(0x0800, ipv4(47, gre(0x0800, seg4(10), key=5), src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))))  # 10 GRE IPv4
    f.append(eth(0x0800, ipv4(47, gre(0x6558, eth(0x0800, seg4(11)), csum_flag=True), src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))))  # 11 GRE TEB
    er2 = struct.pack("!HHI", 0x1000 | 10, 0x0000, 0) + eth(0x0800, seg4(12))
    f.append(eth(0x0800, ipv4(47, gre(0x88BE, er2, seq=1), src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))))  # 12 ERSPAN II
    er3 = struct.pack("!HHIHH", 0x2000 | 10, 0, 123456, 0, 0) + eth(0x0800, seg4(13))
    f.append(eth(0x0800, ipv4(47, gre(0x22EB, er3, seq=2), src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))))  # 13 ERSPAN III
    f.append(eth(0x0800, ipv4(4, seg4(14), src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))))  # 14 IPv4-in-IPv4
    hbh = struct.pack("!BB", 60, 0) + b"\x01\x04\0\0\0\0"  # hop-by-hop, PadN
    dst = struct.pack("!BB", 6, 0) + b"\x01\x04\0\0\0\0"  # destination options
    f.append(eth(0x86DD, ipv6(0, hbh + dst + tcp(b"certsift-15"))))  # 15 IPv6 ext headers
    f.append(eth(0x0800, seg4(16)) + b"\0" * 8)  # 16 Ethernet padding after IP
    o4 = dict(src=bytes([192, 0, 2, 1]), dst=bytes([192, 0, 2, 2]))
    f.append(eth(0x0800, ipv4(17, udp(gtp_u(b"", seg4(17)), 2152, 2152), **o4)))  # 17 GTP-U
    f.append(eth(0x0800, ipv4(17, udp(gtp_u(b"\0\x07\0\0", seg4(18), 0x02), 2152, 2152), **o4)))  # 18 GTP-U S
    ext = b"\0\0\0\x85" + b"\x01\x10\x09\x00"  # PDU session container, last
    f.append(eth(0x0800, ipv4(17, udp(gtp_u(ext, seg6(19), 0x04), 2152, 2152), **o4)))  # 19 GTP-U E, IPv6
    f.append(eth(0x0800, ipv4(17, udp(capwap(2, False, eth(0x0800, seg4(20))), 12222, 5247), **o4)))  # 20 CAPWAP 802.3
    f.append(eth(0x0800, ipv4(17, udp(capwap(4, True, wifi_qos_data(seg4(21))), 5247, 12222), **o4)))  # 21 CAPWAP 802.11
    return f


def gtp_u(opt, packet, flags=0):
    """GTP-U G-PDU (3GPP TS 29.281 section 5.1), TEID 0x12345678."""
    return struct.pack("!BBHI", 0x30 | flags, 0xFF, len(opt) + len(packet), 0x12345678) + opt + packet


def capwap(hlen, native, payload):
    """CAPWAP data header (RFC 5415 section 4.3), WBID 1, padded to hlen words."""
    w = (hlen << 19) | (1 << 9) | (0x100 if native else 0)
    return (struct.pack("!II", w, 0) + b"\0" * (hlen * 4 - 8)) + payload


def wifi_qos_data(packet):
    """802.11 QoS data frame, To DS, LLC/SNAP, IPv4."""
    addrs = MAC_A + MAC_B + bytes.fromhex("020000000003")
    return b"\x88\x01\0\0" + addrs + b"\x10\0" + b"\0\0" + bytes.fromhex("aaaa030000000800") + packet


def frag_frames():
    body = tcp(b"certsift-fragmented-" + b"x" * 20)  # 60 bytes
    a, b, c = body[:24], body[24:48], body[48:]
    f = []
    f.append(eth(0x0800, ipv4(6, b, ident=77, frag=0x2000 | 3)))  # offset 24, more
    f.append(eth(0x0800, ipv4(6, c, ident=77, frag=6)))  # offset 48, last
    # overlapping duplicate of [16, 40) that agrees with the data
    f.append(eth(0x0800, ipv4(6, body[16:40], ident=77, frag=0x2000 | 2)))
    f.append(eth(0x0800, ipv4(6, a, ident=77, frag=0x2000)))  # offset 0, more
    u = udp(b"certsift-v6-fragmented-" + b"y" * 17, 50000, 443)  # 48 bytes
    p, q = u[:32], u[32:]
    fh1 = struct.pack("!BBHI", 17, 0, (0 << 3) | 1, 0xABCDEF01)
    fh2 = struct.pack("!BBHI", 17, 0, (32 // 8) << 3, 0xABCDEF01)
    f.append(eth(0x86DD, ipv6(44, fh1 + p)))
    f.append(eth(0x86DD, ipv6(44, fh2 + q)))
    return f


# ---------------------------------------------------------------- pcapng


def opt(code, value, e):
    pad = (-len(value)) % 4
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * pad


def opts(items, e):
    if not items:
        return b""
    return b"".join(opt(c, v, e) for c, v in items) + struct.pack(e + "HH", 0, 0)


def block(btype, body, e):
    body += b"\0" * ((-len(body)) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e):
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def idb(linktype, e, tsresol=None, tsoffset=None):
    o = []
    if tsresol is not None:
        o.append((9, bytes([tsresol])))
    if tsoffset is not None:
        o.append((14, struct.pack(e + "q", tsoffset)))
    return block(1, struct.pack(e + "HHI", linktype, 0, 262144) + opts(o, e), e)


def epb(if_id, units, data, e):
    return block(6, struct.pack(e + "IIIII", if_id, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + data, e)


def spb(data, e):
    return block(3, struct.pack(e + "I", len(data)) + data, e)


def obsolete_pb(if_id, units, data, e):
    return block(2, struct.pack(e + "HHIIII", if_id, 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + data, e)


def dsb(secret, e):
    return block(0x0A, struct.pack(e + "II", 0x544C534B, len(secret)) + secret, e)


def sections():
    out = b""
    e = "<"
    out += shb(e)
    out += idb(1, e)  # if 0: Ethernet, microseconds
    out += idb(101, e, tsresol=9)  # if 1: raw IP, nanoseconds
    out += block(0x99, b"unknown block body", e)
    out += dsb(b"CLIENT_RANDOM 00 11\n", e)
    out += epb(0, (T0 + 1) * 10**6 + 5, eth(0x0800, seg4(1)), e)  # frame 1
    out += epb(1, (T0 + 2) * 10**9 + 123456789, seg4(2), e)  # frame 2
    out += spb(eth(0x0800, seg4(3)), e)  # frame 3: ts of frame 2
    out += obsolete_pb(1, (T0 + 3) * 10**9 + 999, seg4(4), e)  # frame 4
    e = ">"
    out += shb(e)
    out += idb(113, e, tsresol=0x80 | 10, tsoffset=T0)  # if 0: SLL, 2^-10 s, offset T0
    sll = struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\0\0", 0x0800) + seg4(5)
    out += epb(0, 4 * 1024 + 512, sll, e)  # frame 5: T0 + 4.5 s
    out += spb(sll[:-4] + b"", e)  # frame 6: SPB, same ts as frame 5 (cut 4 bytes)
    return out


def pktap_header(dlt, ifname):
    """Apple's struct pktap_header (108 bytes, little-endian): length,
    record type 1 (packet), the inner link type, the interface name."""
    head = struct.pack("<III24s", 108, 1, dlt, ifname.encode())
    return head + bytes(108 - len(head))


def nflog(family, packet, e):
    """Linux NFLOG: family, version 0, resource id (big-endian), then TLVs
    in byte order E: a packet header (type 1), a prefix (type 10, padded)
    and the packet itself (type 9)."""
    def tlv(t, value):
        return struct.pack(e + "HH", 4 + len(value), t) + value + bytes(-len(value) % 4)
    hw = 0x0800 if family == 2 else 0x86DD
    return (struct.pack("!BBH", family, 0, 1) + tlv(1, struct.pack("!HBB", hw, 3, 0))
            + tlv(10, b"certs\0") + tlv(9, packet))


def linktypes():
    e = "<"
    out = shb(e)
    frames = []
    lts = []

    def add(lt, data):
        lts.append(lt)
        frames.append(data)

    n = 1
    add(0, struct.pack("<I", 2) + seg4(n)); n += 1  # NULL, host order (LE), AF_INET
    add(0, struct.pack("<I", 30) + seg6(n)); n += 1  # NULL, AF_INET6 (macOS)
    add(108, struct.pack(">I", 2) + seg4(n)); n += 1  # LOOP, network order
    add(108, struct.pack(">I", 24) + seg6(n)); n += 1  # LOOP, AF_INET6 (NetBSD)
    add(101, seg4(n)); n += 1
    add(101, seg6(n)); n += 1
    add(12, seg4(n)); n += 1
    add(14, seg6(n)); n += 1
    add(228, seg4(n)); n += 1
    add(229, seg6(n)); n += 1
    add(9, b"\xff\x03" + struct.pack("!H", 0x0021) + seg4(n)); n += 1  # PPP with HDLC address/control
    add(9, struct.pack("!H", 0x0057) + seg6(n)); n += 1  # PPP without
    add(113, struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\0\0", 0x0800) + seg4(n)); n += 1
    add(113, struct.pack("!HHH8sH", 4, 772, 0, b"\0" * 8, 0x86DD) + seg6(n)); n += 1
    add(276, struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, MAC_A + b"\0\0") + seg4(n)); n += 1
    add(276, struct.pack("!HHIHBB8s", 0x86DD, 0, 1, 772, 4, 0, b"\0" * 8) + seg6(n)); n += 1
    add(104, b"\x0f\x00" + struct.pack("!H", 0x0800) + seg4(n)); n += 1  # Cisco HDLC
    add(258, pktap_header(1, "en0") + eth(0x0800, seg4(n))); n += 1  # PKTAP over Ethernet
    add(258, pktap_header(0, "lo0") + struct.pack("<I", 30) + seg6(n)); n += 1  # PKTAP over NULL
    add(239, nflog(2, seg4(n), "<")); n += 1  # NFLOG (TLVs in the writer's order, here LE)
    order = []
    for lt in lts:
        if lt not in order:
            order.append(lt)
            out += idb(lt, e)
    for i, (lt, f) in enumerate(zip(lts, frames)):
        out += epb(order.index(lt), (T0 + i) * 10**6, f, e)
    return out


def tcp_ack(payload, sport, dport, seq, ack, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def hello_record(ty, body):
    msg = bytes([ty]) + len(body).to_bytes(3, "big") + body
    return bytes([22, 3, 3]) + struct.pack("!H", len(msg)) + msg


CLIENT_HELLO = hello_record(
    1,
    bytes([3, 3]) + bytes(range(32)) + b"\0" + b"\0\x04\x13\x01\xc0\x2f" + b"\x01\0"
    + struct.pack("!H", 13) + b"\0\0\0\x09\0\x07\0\0\x04test" + b"",
)
SERVER_HELLO = hello_record(2, bytes([3, 3]) + bytes(range(32, 64)) + b"\0" + b"\xc0\x2f\0\0\0")
RFC8448_HRR = bytes.fromhex(
    "020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
    "001301000084003300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc76"
    "c146b823b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137"
    "abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9"
    "e4c0342267e8ca0caf571fb2b7cff0f934b0002b00020304"
)


def tcp_sender(f):
    """A function that appends to `f` one Ethernet/IPv4 TCP segment between
    10.0.0.1:sport (the client) and 10.0.0.2:443, in the direction c2s says."""

    def send(c2s, sport, seq, ack, flags, payload=b""):
        src, dst = (SRC4, DST4) if c2s else (DST4, SRC4)
        ports = (sport, 443) if c2s else (443, sport)
        body = tcp_ack(payload, ports[0], ports[1], seq, ack, flags)
        f.append(eth(0x0800, ipv4(6, body, src=src, dst=dst)))

    return send


def issue30_frames():
    f = []
    send = tcp_sender(f)

    syn, synack, ack, psh = 0x02, 0x12, 0x10, 0x18
    ch, sh = CLIENT_HELLO, SERVER_HELLO
    # Several SYN-ACKs: the client takes the second.
    send(True, 40001, 100, 0, syn)
    send(False, 40001, 5000, 101, synack)
    send(False, 40001, 9000, 101, synack)
    send(True, 40001, 101, 9001, ack)
    send(True, 40001, 101, 9001, psh, ch)
    send(False, 40001, 9001, 101 + len(ch), psh, sh)
    # Bogus first bytes in both directions, then the real hellos.
    send(True, 40002, 100, 0, syn)
    send(False, 40002, 5000, 101, synack)
    send(True, 40002, 101, 5001, ack)
    send(True, 40002, 101, 5001, psh, b"X")
    send(False, 40002, 5001, 101, psh, b"\0\0")
    send(True, 40002, 101, 5001, psh, ch)
    send(False, 40002, 5001, 101 + len(ch), psh, sh)
    # A HelloRetryRequest and nothing more.
    hrr = bytes([22, 3, 3]) + struct.pack("!H", len(RFC8448_HRR)) + RFC8448_HRR
    send(True, 40003, 100, 0, syn)
    send(False, 40003, 5000, 101, synack)
    send(True, 40003, 101, 5001, ack)
    send(True, 40003, 101, 5001, psh, ch)
    send(False, 40003, 5001, 101 + len(ch), psh, hrr)
    return f


def ext(ty, data):
    return struct.pack("!HH", ty, len(data)) + data


def ech_client_hello(seed):
    grease = 0x0A0A
    ciphers = [grease, 0x1301, 0x1302, 0x1303, 0xC02B]
    name = b"public.example"
    sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    groups = [0x2A2A, 0x11EC, 0x001D, 0x0017]
    versions = [0x3A3A, 0x0304, 0x0303]
    sigs = [0x0403, 0x0804, 0x0401]
    mlkem = bytes((seed + i) % 256 for i in range(1216))
    x25519 = bytes((seed * 7 + i) % 256 for i in range(32))
    shares = (struct.pack("!HH", 0x2A2A, 1) + b"\0"
              + struct.pack("!HH", 0x11EC, len(mlkem)) + mlkem
              + struct.pack("!HH", 0x001D, 32) + x25519)
    enc = bytes(range(32))
    payload = bytes((seed + 3 * i) % 256 for i in range(239))
    ech = (b"\0" + struct.pack("!HHB", 0x0001, 0x0001, 0x42)
           + struct.pack("!H", len(enc)) + enc + struct.pack("!H", len(payload)) + payload)
    exts = (ext(0x1A1A, b"")
            + ext(0x0000, sni)
            + ext(0x000A, struct.pack("!H", 2 * len(groups)) + struct.pack("!%dH" % len(groups), *groups))
            + ext(0x0010, b"\0\x0c\x02h2\x08http/1.1")
            + ext(0x000D, struct.pack("!H", 2 * len(sigs)) + struct.pack("!%dH" % len(sigs), *sigs))
            + ext(0x002B, bytes([2 * len(versions)]) + struct.pack("!%dH" % len(versions), *versions))
            + ext(0x0033, struct.pack("!H", len(shares)) + shares)
            + ext(0xFE0D, ech)
            + ext(0x4A4A, b"\0"))
    body = (bytes([3, 3]) + bytes((seed + i) % 256 for i in range(32)) + b"\x20" + bytes(range(32))
            + struct.pack("!H", 2 * len(ciphers)) + struct.pack("!%dH" % len(ciphers), *ciphers)
            + b"\x01\0" + struct.pack("!H", len(exts)) + exts)
    return hello_record(1, body)


def tls13_server_hello(random, extra=b""):
    exts = ext(0x002B, b"\x03\x04") + ext(0x0033, struct.pack("!HH", 0x001D, 32) + bytes(32)) + extra
    body = bytes([3, 3]) + random + b"\x20" + bytes(range(32)) + b"\x13\x01\0" + struct.pack("!H", len(exts)) + exts
    return hello_record(2, body)


def ech_frames():
    f = []
    send = tcp_sender(f)

    def hello(sport, seq, ack, ch):
        # The ClientHello crosses a segment boundary (1400-byte MSS).
        send(True, sport, seq, ack, 0x10, ch[:1400])
        send(True, sport, seq + 1400, ack, 0x18, ch[1400:])
        return seq + len(ch)

    hrr_random = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
    for sport, kind in [(40011, "sh"), (40012, "hrr"), (40013, "tls12")]:
        send(True, sport, 100, 0, 0x02)
        send(False, sport, 5000, 101, 0x12)
        send(True, sport, 101, 5001, 0x10)
        cseq = hello(sport, 101, 5001, ech_client_hello(sport % 256))
        sseq = 5001
        if kind == "hrr":
            hrr_exts = ext(0x002B, b"\x03\x04") + ext(0x0033, b"\x00\x1d") + ext(0xFE0D, bytes(range(8)))
            body = bytes([3, 3]) + hrr_random + b"\x20" + bytes(range(32)) + b"\x13\x01\0" + struct.pack("!H", len(hrr_exts)) + hrr_exts
            hrr = hello_record(2, body)
            send(False, sport, sseq, cseq, 0x18, hrr)
            sseq += len(hrr)
            cseq = hello(sport, cseq, sseq, ech_client_hello(sport % 256 + 1))
        if kind == "tls12":
            sh = hello_record(2, bytes([3, 3]) + bytes(range(40, 72)) + b"\0" + b"\xc0\x2b\0\0\0")
        else:
            sh = tls13_server_hello(bytes(range(64, 96)))
        send(False, sport, sseq, cseq, 0x18, sh)
    return f


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    pcap(OUT / "synth_ech_pq.pcap", 1, ech_frames())
    pcap(OUT / "synth_issue30.pcap", 1, issue30_frames())
    pcap(OUT / "synth_encaps.pcap", 1, encaps_frames())
    pcap(OUT / "synth_fragments.pcap", 1, frag_frames())
    (OUT / "synth_sections.pcapng").write_bytes(sections())
    (OUT / "synth_linktypes.pcapng").write_bytes(linktypes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
