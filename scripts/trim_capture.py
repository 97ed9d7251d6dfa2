#!/usr/bin/env python3
"""Trims a capture (pcap or pcapng) to the head of each TCP connection, so a
large real capture fits testdata's size cap and keeps every TLS handshake.

Usage: scripts/trim_capture.py [--keep-kib N] IN OUT

For each TCP connection and direction, a segment is kept when its payload
starts within the first N KiB (default 16) of that direction's byte stream,
counted from the SYN's sequence number (or from the first segment seen when
the SYN is missing); later segments that carry payload are dropped.
Everything else is kept as it was: segments without payload (SYN, ACK, FIN,
RST), non-TCP packets, packets of link types or encapsulations this script
does not decode, and every non-packet pcapng block (section and interface
headers, Decryption Secrets Blocks, statistics). Records and blocks are
copied byte for byte, so timestamps, snap lengths and options stay as they
were.

A TLS handshake (hellos and certificates) fits in the first few KiB of its
connection, so 16 KiB keeps every handshake while dropping bulk application
data; check the result by scanning both files with certsift and comparing
each handshake's sni, leaf_sha256, cert_chain_sha256, chain_trusted and
trust_reason. Connections that start TLS late (STARTTLS after a long
plain-text exchange) need a larger N.

Decoded link types: Ethernet (1, with 802.1Q/802.1ad tags), BSD loopback (0,
108), raw IP (101, 12, 14, 228, 229), Linux cooked (113, 276). Standard
library only.
"""

import argparse
import struct
import sys

ETH_VLAN = (0x8100, 0x88A8, 0x9100)


def ip_of_link(linktype, frame):
    """The IP packet inside a frame, or None when it is not IP or the link
    type is not decoded."""
    if linktype == 1:
        off, eth = 12, None
        while len(frame) >= off + 2:
            eth = struct.unpack_from(">H", frame, off)[0]
            if eth in ETH_VLAN:
                off += 4
                continue
            break
        if eth in (0x0800, 0x86DD):
            return frame[off + 2 :]
        return None
    if linktype in (0, 108):
        return frame[4:] if len(frame) > 4 else None
    if linktype in (101, 12, 14, 228, 229):
        return frame
    if linktype == 113:
        if len(frame) >= 16 and struct.unpack_from(">H", frame, 14)[0] in (0x0800, 0x86DD):
            return frame[16:]
        return None
    if linktype == 276:
        if len(frame) >= 20 and struct.unpack_from(">H", frame, 0)[0] in (0x0800, 0x86DD):
            return frame[20:]
        return None
    return None


def tcp_of_ip(ip):
    """(src, dst, tcp segment bytes) of an IPv4 or IPv6 packet carrying TCP
    (the first fragment only), or None."""
    if len(ip) < 1:
        return None
    ver = ip[0] >> 4
    if ver == 4:
        if len(ip) < 20:
            return None
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from(">H", ip, 2)[0]
        frag = struct.unpack_from(">H", ip, 6)[0] & 0x1FFF
        if ip[9] != 6 or frag != 0 or ihl < 20:
            return None
        end = total if 0 < total <= len(ip) else len(ip)
        return ip[12:16], ip[16:20], ip[ihl:end]
    if ver == 6:
        if len(ip) < 40:
            return None
        nxt, off = ip[6], 40
        plen = struct.unpack_from(">H", ip, 4)[0]
        end = min(len(ip), 40 + plen) if plen else len(ip)
        # Hop-by-hop, routing, destination options.
        while nxt in (0, 43, 60) and len(ip) >= off + 2:
            nxt, off = ip[off], off + (ip[off + 1] + 1) * 8
        if nxt != 6:
            return None
        return ip[8:24], ip[24:40], ip[off:end]
    return None


class Trimmer:
    """Decides, packet by packet in capture order, whether to keep it."""

    def __init__(self, keep_bytes):
        self.keep = keep_bytes
        self.base = {}  # (src, sport, dst, dport) -> first sequence number of data
        self.kept = 0
        self.dropped = 0
        self.dropped_bytes = 0

    def wants(self, linktype, frame):
        ip = ip_of_link(linktype, frame)
        seg = tcp_of_ip(ip) if ip is not None else None
        if seg is None or len(seg[2]) < 20:
            self.kept += 1
            return True
        src, dst, tcp = seg
        sport, dport, seq = struct.unpack_from(">HHI", tcp, 0)
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        payload = len(tcp) - doff if doff >= 20 else 0
        key = (src, sport, dst, dport)
        if flags & 0x02:  # SYN: data starts at seq + 1
            self.base[key] = (seq + 1) & 0xFFFFFFFF
        if payload <= 0:
            self.kept += 1
            return True
        base = self.base.setdefault(key, seq)
        if (seq - base) & 0xFFFFFFFF < self.keep:
            self.kept += 1
            return True
        self.dropped += 1
        self.dropped_bytes += payload
        return False


def trim_pcap(data, trimmer):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("not a classic pcap (modified pcap formats are not handled)")
    if len(data) < 24:
        raise ValueError("pcap global header truncated")
    linktype = struct.unpack_from(e + "I", data, 20)[0] & 0x0FFFFFFF
    out = [data[:24]]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(e + "I", data, off + 8)[0]
        end = off + 16 + incl
        if end > len(data):
            out.append(data[off:])  # a truncated last record is copied as it is
            break
        if trimmer.wants(linktype, data[off + 16 : end]):
            out.append(data[off:end])
        off = end
    else:
        out.append(data[off:])
    return b"".join(out)


def trim_pcapng(data, trimmer):
    out = []
    off = 0
    e = "<"
    links = []
    while off + 12 <= len(data):
        btype = struct.unpack_from(e + "I", data, off)[0]
        if btype == 0x0A0D0D0A:
            bom = data[off + 8 : off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack_from(e + "I", data, off + 4)[0]
        if blen < 12 or off + blen > len(data):
            out.append(data[off:])  # damaged tail: copied as it is
            off = len(data)
            break
        block = data[off : off + blen]
        keep = True
        if btype == 1 and blen >= 20:  # Interface Description Block
            links.append(struct.unpack_from(e + "H", block, 8)[0])
        elif btype == 6 and blen >= 32:  # Enhanced Packet Block
            ifid, _, _, cap = struct.unpack_from(e + "IIII", block, 8)
            lt = links[ifid] if ifid < len(links) else None
            if lt is not None:
                keep = trimmer.wants(lt, block[28 : 28 + cap])
        elif btype == 3 and blen >= 16 and links:  # Simple Packet Block
            orig = struct.unpack_from(e + "I", block, 8)[0]
            keep = trimmer.wants(links[0], block[12 : 12 + min(orig, blen - 16)])
        elif btype == 2 and blen >= 32:  # obsolete Packet Block
            ifid = struct.unpack_from(e + "H", block, 8)[0]
            cap = struct.unpack_from(e + "I", block, 20)[0]
            lt = links[ifid] if ifid < len(links) else None
            if lt is not None:
                keep = trimmer.wants(lt, block[28 : 28 + cap])
        if keep:
            out.append(block)
        off += blen
    out.append(data[off:])
    return b"".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep-kib", type=int, default=16, help="payload KiB kept per direction")
    ap.add_argument("input")
    ap.add_argument("output")
    a = ap.parse_args()
    with open(a.input, "rb") as f:
        data = f.read()
    t = Trimmer(a.keep_kib * 1024)
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        res = trim_pcapng(data, t)
    else:
        res = trim_pcap(data, t)
    with open(a.output, "wb") as f:
        f.write(res)
    print(
        f"{a.input}: {len(data)} -> {len(res)} bytes; kept {t.kept} packets, "
        f"dropped {t.dropped} ({t.dropped_bytes} payload bytes)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
