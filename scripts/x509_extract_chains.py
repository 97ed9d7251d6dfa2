#!/usr/bin/env python3
"""Extract TLS certificate chains (TLS <= 1.2 plaintext Certificate messages) from a capture.

Recipe for testdata/x509/: standard library only. Reads pcap (both byte orders,
micro/nanosecond) and pcapng, link types Ethernet (with 802.1Q), raw IP, Linux SLL
and SLL2, IPv4/IPv6, TCP. Reassembles each TCP direction by sequence number (first
copy of a byte wins), walks TLS records and handshake messages, and for every
Certificate message writes the chain as one PEM file, leaf first, with the capture
time of the first packet of the flow in its name and header comments.

    scripts/x509_extract_chains.py CAPTURE OUTDIR

Output: OUTDIR/<capture-stem>-flow<N>-<unix seconds>.pem and a summary on stdout
(flow, time, SHA-256 of each certificate). Not handled: TLS 1.3 (encrypted), QUIC,
DTLS, IP fragments, STARTTLS.
"""

import base64
import hashlib
import os
import struct
import sys


def packets(path):
    """Yield (ts_seconds_float, linktype, frame bytes)."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        le = magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        e = "<" if le else ">"
        linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
            off += 16
            frame = data[off:off + incl]
            off += incl
            yield sec + frac / (1e9 if nano else 1e6), linktype, frame
    elif magic == b"\x0a\x0d\x0d\x0a":
        off = 0
        e = "<"
        ifaces = []
        while off + 12 <= len(data):
            btype = struct.unpack(e + "I", data[off:off + 4])[0]
            if btype == 0x0A0D0D0A:
                bom = data[off + 8:off + 12]
                e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                ifaces = []
            blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
            if blen < 12:
                break
            body = data[off + 8:off + blen - 4]
            if btype == 1:
                lt = struct.unpack(e + "H", body[0:2])[0]
                res = 1e6
                opts = body[8:]
                while len(opts) >= 4:
                    code, olen = struct.unpack(e + "HH", opts[:4])
                    val = opts[4:4 + olen]
                    if code == 0:
                        break
                    if code == 9 and val:
                        v = val[0]
                        res = 2 ** (v & 0x7F) if v & 0x80 else 10 ** v
                    opts = opts[4 + ((olen + 3) & ~3):]
                ifaces.append((lt, res))
            elif btype == 6:
                ifid, hi, lo, cap, _orig = struct.unpack(e + "IIIII", body[:20])
                lt, res = ifaces[ifid] if ifid < len(ifaces) else (1, 1e6)
                yield ((hi << 32) | lo) / res, lt, body[20:20 + cap]
            elif btype == 3:
                cap = struct.unpack(e + "I", body[:4])[0]
                lt, res = ifaces[0] if ifaces else (1, 1e6)
                yield 0.0, lt, body[4:4 + cap]
            off += blen
    else:
        raise SystemExit(f"{path}: not a pcap or pcapng file")


def ip_payload(linktype, frame):
    """Return the IP packet inside a frame, or None."""
    if linktype == 1:  # Ethernet
        off, etype = 14, int.from_bytes(frame[12:14], "big")
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype = int.from_bytes(frame[off + 2:off + 4], "big")
            off += 4
        return frame[off:] if etype in (0x0800, 0x86DD) else None
    if linktype in (101, 12, 14):  # raw IP
        return frame
    if linktype == 113:  # SLL
        return frame[16:]
    if linktype == 276:  # SLL2
        return frame[20:]
    if linktype == 0:  # BSD loopback
        return frame[4:]
    return None


def tcp_segment(ip):
    """Return (src, dst, sport, dport, seq, payload) or None."""
    if not ip:
        return None
    ver = ip[0] >> 4
    if ver == 4:
        ihl = (ip[0] & 15) * 4
        total = int.from_bytes(ip[2:4], "big")
        if ip[9] != 6 or int.from_bytes(ip[6:8], "big") & 0x1FFF:
            return None
        src, dst, tcp = ip[12:16], ip[16:20], ip[ihl:total]
    elif ver == 6:
        nxt, off = ip[6], 40
        src, dst = ip[8:24], ip[24:40]
        while nxt in (0, 43, 60) and len(ip) >= off + 8:
            nxt, off = ip[off], off + (ip[off + 1] + 1) * 8
        if nxt != 6:
            return None
        tcp = ip[off:40 + int.from_bytes(ip[4:6], "big")]
    else:
        return None
    if len(tcp) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", tcp[:8])
    return src, dst, sport, dport, seq, tcp[(tcp[12] >> 4) * 4:]


def reassemble(segments):
    """First copy of each byte wins; stops at the first gap."""
    base = segments[0][0]
    out = bytearray()
    for seq, payload in sorted(segments, key=lambda s: (s[0] - base) & 0xFFFFFFFF):
        rel = (seq - base) & 0xFFFFFFFF
        if rel > len(out):
            break
        out += payload[len(out) - rel:]
    return bytes(out)


def certificate_chains(stream):
    """Yield lists of DER certificates from TLS Certificate messages in a byte stream."""
    hs = bytearray()
    off = 0
    while off + 5 <= len(stream):
        ctype = stream[off]
        rlen = int.from_bytes(stream[off + 3:off + 5], "big")
        if ctype not in (20, 21, 22, 23) or stream[off + 1] != 3:
            break
        if ctype == 22:
            hs += stream[off + 5:off + 5 + rlen]
        elif ctype == 20:
            break  # encrypted handshake follows
        off += 5 + rlen
    off = 0
    while off + 4 <= len(hs):
        mtype, mlen = hs[off], int.from_bytes(hs[off + 1:off + 4], "big")
        body = bytes(hs[off + 4:off + 4 + mlen])
        off += 4 + mlen
        if mtype != 11 or len(body) < 3:
            continue
        certs, pos = [], 3
        while pos + 3 <= len(body):
            clen = int.from_bytes(body[pos:pos + 3], "big")
            certs.append(body[pos + 3:pos + 3 + clen])
            pos += 3 + clen
        if certs:
            yield certs


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    path, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    flows, first_ts, order = {}, {}, []
    for ts, lt, frame in packets(path):
        seg = tcp_segment(ip_payload(lt, frame))
        if seg is None:
            continue
        src, dst, sport, dport, seq, payload = seg
        key = (src, sport, dst, dport)
        conn = tuple(sorted([(src, sport), (dst, dport)]))
        if conn not in first_ts:
            first_ts[conn] = ts
            order.append(conn)
        if payload:
            flows.setdefault(key, []).append((seq, payload))
    stem = os.path.basename(path).split(".")[0]
    n = 0
    for key, segs in flows.items():
        conn = tuple(sorted([(key[0], key[1]), (key[2], key[3])]))
        for chain in certificate_chains(reassemble(segs)):
            n += 1
            ts = first_ts[conn]
            name = os.path.join(outdir, f"{stem}-flow{order.index(conn)}-{int(ts)}.pem")
            with open(name, "w") as f:
                f.write(f"# from {path}, flow {order.index(conn)}, first packet at {ts:.6f} (unix seconds)\n")
                for der in chain:
                    f.write(f"# sha256 {hashlib.sha256(der).hexdigest()}\n")
                for der in chain:
                    b64 = base64.b64encode(der).decode()
                    f.write("-----BEGIN CERTIFICATE-----\n")
                    f.write("\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)))
                    f.write("\n-----END CERTIFICATE-----\n")
            print(name, f"{ts:.6f}", " ".join(hashlib.sha256(d).hexdigest()[:16] for d in chain))
    if n == 0:
        print("no plaintext Certificate message found", file=sys.stderr)


if __name__ == "__main__":
    main()
