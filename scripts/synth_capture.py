#!/usr/bin/env python3
"""Builds large classic pcap captures from the real TLS handshakes in testdata.

    python3 scripts/synth_capture.py OUT.pcap --size 2G [--seed 1]
        [--captures A.pcap B.pcap ...] [--concurrency 64]
        [--bulk-bytes 1M] [--handshake-only 0.3] [--mix bulk|handshake]
        [--vary-servers]

Reads the TCP connections of the given captures (classic pcap, Ethernet;
default: four of testdata/captures), keeps those that open with a TLS
ClientHello and have a SYN and a SYN-ACK, and reassembles each direction
(duplicates and retransmissions dropped) into "turns": the bytes one side
sends before the other answers. It then writes OUT, a classic pcap
(Ethernet, microseconds, little-endian) of about --size bytes, replaying
those handshakes with a fresh 4-tuple each (client 10.x.y.z or
2001:db8:c1::/64, a port in 32768-60999; the server address is kept unless
--vary-servers), random ISNs, SYN / SYN-ACK / ACK, the turns cut at MSS
1448 with an ACK after each turn, then for all but the --handshake-only
share a bulk transfer from server to client of about --bulk-bytes
(exponentially distributed, whole TLS application-data records of 11 full
1514-byte frames, an ACK every 2 frames) and FIN / FIN / ACK.
--concurrency connections are in flight at once; which one sends next is
drawn at random, so their packets interleave. The bulk goes in before the
first server turn that follows the client's first application data (the
source's own request/response and close_notify stay in place). IPv4 and TCP
checksums are correct. Timestamps advance as on a 1 Gbit/s link.

--mix handshake (or --bulk-bytes 0) makes a handshake-dense capture.
Everything drawn comes from random.Random(--seed): the same arguments give
the same bytes. Memory is constant: packets are written as they are made.

Writes OUT.manifest.json: connections, ClientHello messages, connections
with certificates in clear, distinct certificates, bytes and packets, and
the same per source handshake.
"""

import argparse
import hashlib
import json
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CAPTURES = [
    os.path.join(HERE, "..", "testdata", "captures", n)
    for n in (
        "s01_baseline_direct.pcap",
        "s02_transparent_mitm_mixed.pcap",
        "s05_benign_multicert.pcap",
        "s06_ipv6_dualstack.pcap",
    )
]

MSS = 1448                     # TCP payload of a 1500-byte IPv4 packet with timestamps
BULK_FRAMES_PER_RECORD = 11    # one TLS record = 11 full segments = 15928 bytes
BULK_RECORD = MSS * BULK_FRAMES_PER_RECORD
LINK_NS_PER_BYTE = 8           # 1 Gbit/s
MAX_SOURCE_PACKETS = 10_000_000
MAX_TURNS = 100_000

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


# ---------------------------------------------------------------- reading


def read_pcap(path):
    """Yields (ts, frame) of a classic pcap."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise ValueError(f"{path}: not a pcap")
        magic = hdr[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            end = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            end = ">"
        else:
            raise ValueError(f"{path}: not a classic pcap (pcapng is not read)")
        linktype = struct.unpack(end + "I", hdr[20:24])[0]
        if linktype != 1:
            raise ValueError(f"{path}: link type {linktype}, only Ethernet (1) is read")
        rec = struct.Struct(end + "IIII")
        for _ in range(MAX_SOURCE_PACKETS):
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, incl, _orig = rec.unpack(h)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield sec + frac / 1e6, data


def parse_tcp(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload, v6) or None."""
    off = 12
    etype = struct.unpack_from(">H", frame, off)[0]
    off += 2
    for _ in range(2):  # up to two VLAN tags
        if etype not in (0x8100, 0x88A8):
            break
        etype = struct.unpack_from(">H", frame, off + 2)[0]
        off += 4
    if etype == 0x0800:
        if len(frame) < off + 20:
            return None
        ihl = (frame[off] & 0x0F) * 4
        total = struct.unpack_from(">H", frame, off + 2)[0]
        if frame[off + 9] != 6 or struct.unpack_from(">H", frame, off + 6)[0] & 0x3FFF:
            return None  # not TCP, or a fragment
        src, dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
        end = off + total
        off += ihl
        v6 = False
    elif etype == 0x86DD:
        if len(frame) < off + 40 or frame[off + 6] != 6:
            return None
        plen = struct.unpack_from(">H", frame, off + 4)[0]
        src, dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
        end = off + 40 + plen
        off += 40
        v6 = True
    else:
        return None
    if len(frame) < off + 20:
        return None
    sport, dport, seq, ack, doff, flags = struct.unpack_from(">HHIIBB", frame, off)
    payload = frame[off + (doff >> 4) * 4:end]
    return src, dst, sport, dport, seq, ack, flags, payload, v6


class SourceFlow:
    """A real TCP connection: addresses and its turns [(dir, bytes)], dir 0 = client."""

    def __init__(self, capture, index, client, server, cport, sport, v6):
        self.capture, self.index = capture, index
        self.client, self.server, self.cport, self.sport, self.v6 = client, server, cport, sport, v6
        self.isn = [None, None]
        self.events = []        # capture order: (dir, seq, payload)
        self.turns = []
        self.info = {}


def load_flows(paths):
    flows = []
    for path in paths:
        table = {}
        order = []
        try:
            packets = list(read_pcap(path)) if os.path.getsize(path) < 1 << 28 else read_pcap(path)
        except (OSError, ValueError) as e:
            print(f"skipped: {e}", file=sys.stderr)
            continue
        for _ts, frame in packets:
            p = parse_tcp(frame)
            if p is None:
                continue
            src, dst, sp, dp, seq, ack, flags, payload, v6 = p
            key = (src, sp, dst, dp)
            rkey = (dst, dp, src, sp)
            if flags & SYN and not flags & ACK:
                if key not in table or table[key].isn[0] is not None:
                    fl = SourceFlow(os.path.basename(path), len(order), src, dst, sp, dp, v6)
                    table[key] = fl
                    table.pop(rkey, None)
                    order.append(fl)
                table[key].isn[0] = seq
                continue
            if key in table and table[key].client == src and table[key].cport == sp:
                fl, d = table[key], 0
            elif rkey in table:
                fl, d = table[rkey], 1
            else:
                continue
            if d == 1 and flags & SYN:
                fl.isn[1] = seq
                continue
            if payload:
                fl.events.append((d, seq, payload))
        for fl in order:
            if fl.isn[0] is None or fl.isn[1] is None:
                continue
            build_turns(fl)
            if fl.turns and analyse(fl):
                flows.append(fl)
    return flows


def build_turns(fl):
    """Reassembles each direction from its ISN and cuts it into turns.

    A turn is the new bytes one side sent before the other side sent new
    bytes; a gap ends that direction's stream (what follows is dropped)."""
    events = fl.events
    stream = [{}, {}]
    for d, seq, payload in events:
        rel = (seq - fl.isn[d] - 1) & 0xFFFFFFFF
        if rel > 1 << 30:
            continue
        prev = stream[d].get(rel)
        if prev is None or len(payload) > len(prev):
            stream[d][rel] = payload
    data = []
    for d in (0, 1):
        buf = bytearray()
        for rel in sorted(stream[d]):
            p = stream[d][rel]
            if rel > len(buf):
                break  # a hole: stop this direction here
            if rel + len(p) > len(buf):
                buf += p[len(buf) - rel:]
        data.append(bytes(buf))
    # turns: walk packets in capture order, advance each side's high-water mark
    high = [0, 0]
    turns = []
    for d, seq, payload in events[:MAX_TURNS]:
        rel = (seq - fl.isn[d] - 1) & 0xFFFFFFFF
        end = min(rel + len(payload), len(data[d]))
        if end <= high[d]:
            continue
        if turns and turns[-1][0] == d:
            turns[-1][2] = end
        else:
            turns.append([d, high[d], end])
        high[d] = end
    fl.turns = [(d, data[d][a:b]) for d, a, b in turns]
    fl.events = []


def tls_records(stream):
    """(type, version, body) of the TLS records at the start of a stream."""
    off = 0
    out = []
    while off + 5 <= len(stream) and len(out) < 10_000:
        ctype, ver, ln = struct.unpack_from(">BHH", stream, off)
        if ctype not in (20, 21, 22, 23, 24) or ver >> 8 != 3:
            break
        out.append((ctype, ver, stream[off + 5:off + 5 + ln]))
        off += 5 + ln
    return out


def handshake_messages(records):
    """Cleartext handshake messages [(type, body)]: those before a
    ChangeCipherSpec, and after one only a ClientHello that fills its record
    exactly (TLS 1.3 middlebox mode sends CCS before a second ClientHello;
    TLS 1.2 sends an encrypted Finished after it)."""
    msgs = []
    buf = b""
    ccs = False
    for ctype, _ver, body in records:
        if ctype == 20:
            ccs = True
            buf = b""
            continue
        if ctype != 22:
            if ctype == 23:
                break
            continue
        if ccs:
            if len(body) >= 6 and body[0] == 1 and int.from_bytes(body[1:4], "big") + 4 == len(body) and body[4] == 3:
                msgs.append((1, body[4:]))
            continue
        buf += body
        while len(buf) >= 4:
            ln = int.from_bytes(buf[1:4], "big")
            if len(buf) < 4 + ln:
                break
            msgs.append((buf[0], buf[4:4 + ln]))
            buf = buf[4 + ln:]
    return msgs


def certificates(body):
    """DER certificates of a TLS 1.0-1.2 Certificate message."""
    out = []
    if len(body) < 3:
        return out
    total = int.from_bytes(body[:3], "big")
    off, end = 3, min(3 + total, len(body))
    while off + 3 <= end and len(out) < 1000:
        ln = int.from_bytes(body[off:off + 3], "big")
        out.append(body[off + 3:off + 3 + ln])
        off += 3 + ln
    return out


def sni_of(ch):
    """Server name of a ClientHello body, or None."""
    try:
        off = 2 + 32
        off += 1 + ch[off]
        off += 2 + int.from_bytes(ch[off:off + 2], "big")
        off += 1 + ch[off]
        end = off + 2 + int.from_bytes(ch[off:off + 2], "big")
        off += 2
        while off + 4 <= end:
            et, el = struct.unpack_from(">HH", ch, off)
            if et == 0:
                n = int.from_bytes(ch[off + 7:off + 9], "big")
                return ch[off + 9:off + 9 + n].decode("ascii", "replace")
            off += 4 + el
    except (IndexError, struct.error):
        pass
    return None


def analyse(fl):
    """Counts a flow's ClientHellos and cleartext certificates; False if it
    does not open with a ClientHello."""
    cstream = b"".join(p for d, p in fl.turns if d == 0)
    sstream = b"".join(p for d, p in fl.turns if d == 1)
    crec, srec = tls_records(cstream), tls_records(sstream)
    cmsgs, smsgs = handshake_messages(crec), handshake_messages(srec)
    if not cmsgs or cmsgs[0][0] != 1:
        return False
    hellos = [b for t, b in cmsgs if t == 1]
    server_certs = [c for t, b in smsgs if t == 11 for c in certificates(b)]
    client_certs = [c for t, b in cmsgs if t == 11 for c in certificates(b)]
    fl.info = {
        "client_hellos": len(hellos),
        "sni": sni_of(hellos[0]),
        "certs_in_clear": bool(server_certs),
        "cert_sha256": sorted({hashlib.sha256(c).hexdigest() for c in server_certs + client_certs}),
    }
    # the version for bulk records: the server's first record's
    fl.record_version = srec[0][1] if srec else 0x0303
    # where the bulk goes: before the first server turn after the turn that
    # carries the start of the client's first application-data record
    app_at = None
    off = 0
    for ctype, _v, body in crec:
        if ctype == 23:
            app_at = off
            break
        off += 5 + len(body)
    fl.bulk_at = len(fl.turns)
    if app_at is not None:
        seen = 0
        for i, (d, p) in enumerate(fl.turns):
            if d == 0:
                seen += len(p)
            elif seen > app_at:
                fl.bulk_at = i
                break
    return True


# ---------------------------------------------------------------- writing


def ones_sum(b):
    """Unfolded sum of the 16-bit big-endian words of b (odd byte padded)."""
    if len(b) & 1:
        b = b + b"\0"
    return sum(struct.unpack(">%dH" % (len(b) // 2), b))


def fold(s):
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


ETH_C2S = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02"  # dst router, src client
ETH_S2C = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
PCAP_REC = struct.Struct("<IIII")
# Ethernet + IPv4 (ver..tos | total, id | frag, ttl, proto | checksum | addresses, ports),
# then TCP seq, ack, offset/flags, window, checksum, urgent, options (4 or 12 bytes), TSval, TSecr
HDR4 = {n: struct.Struct(">16sHH4sH12sIIHHHH%dsII" % n) for n in (4, 12)}
# Ethernet + ethertype + IPv6 first word (18s), payload length, next header .. ports (38s), then TCP
HDR6 = {n: struct.Struct(">18sH38sIIHHHH%dsII" % n) for n in (4, 12)}
TS_OPT = b"\x01\x01\x08\x0a"
SYN_OPTS = b"\x02\x04\x05\xb4\x01\x03\x03\x07\x01\x01\x08\x0a"  # MSS 1460, WS 7, TS follows


class Side:
    """Constant header parts and checksum sums of one direction of a connection."""

    __slots__ = ("v6", "pre", "mid", "addr", "ip_base", "tcp_base", "ipid", "ttl")

    def __init__(self, v6, eth, src, dst, sp, dp, ttl, ipid):
        self.v6, self.ttl, self.ipid = v6, ttl, ipid
        ports = struct.pack(">HH", sp, dp)
        if v6:
            self.pre = eth + b"\x86\xdd\x60\0\0\0"  # + payload length
            self.addr = bytes([6, ttl]) + src + dst + ports
        else:
            self.pre = eth + b"\x08\x00\x45\x00"  # + total length
            self.mid = bytes([0x40, 0, ttl, 6])   # DF, ttl, TCP
            self.addr = src + dst + ports
            self.ip_base = 0x4500 + 0x4000 + (ttl << 8) + 6 + ones_sum(src + dst)
        self.tcp_base = ones_sum(src + dst) + 6 + sp + dp  # pseudo header + ports


OPT_SUM_TS = 0x0101 + 0x080A
OPT_SUM_SYN = ones_sum(SYN_OPTS)


def make_packet(side, seq, ack, flags, payload, psum, tsval, tsecr, syn=False):
    """One Ethernet frame as (header, payload), checksums correct."""
    if syn:
        opts, hlen, win, osum = SYN_OPTS, 40, 64240, OPT_SUM_SYN
    else:
        opts, hlen, win, osum = TS_OPT, 32, 2048, OPT_SUM_TS
    tcp_len = hlen + len(payload)
    offflags = ((hlen // 4) << 12) | flags
    c = (side.tcp_base + osum + tcp_len + offflags + win + (seq >> 16) + (seq & 0xFFFF)
         + (ack >> 16) + (ack & 0xFFFF) + (tsval >> 16) + (tsval & 0xFFFF)
         + (tsecr >> 16) + (tsecr & 0xFFFF) + psum)
    c = (c & 0xFFFF) + (c >> 16)
    c = (c & 0xFFFF) + (c >> 16)
    c = ~c & 0xFFFF
    if side.v6:
        return HDR6[len(opts)].pack(side.pre, tcp_len, side.addr, seq, ack, offflags, win, c, 0, opts, tsval, tsecr), payload
    ipid = side.ipid = (side.ipid + 1) & 0xFFFF
    total = 20 + tcp_len
    i = side.ip_base + total + ipid
    i = (i & 0xFFFF) + (i >> 16)
    i = (i & 0xFFFF) + (i >> 16)
    return HDR4[len(opts)].pack(side.pre, total, ipid, side.mid, ~i & 0xFFFF, side.addr,
                     seq, ack, offflags, win, c, 0, opts, tsval, tsecr), payload


class BulkTemplates:
    """Payloads of the 11 segments of one TLS application-data record per
    record version, and their checksum sums."""

    def __init__(self, rng):
        self.body = rng.randbytes(BULK_RECORD - 5)
        self.cache = {}

    def get(self, version):
        t = self.cache.get(version)
        if t is None:
            rec = struct.pack(">BHH", 23, version, BULK_RECORD - 5) + self.body
            segs = [rec[i * MSS:(i + 1) * MSS] for i in range(BULK_FRAMES_PER_RECORD)]
            t = [(s, ones_sum(s)) for s in segs]
            self.cache[version] = t
        return t


def plan_bytes(src, bulk_frames):
    """Bytes one connection will write (pcap record headers included), for the size target."""
    ip = 40 if src.v6 else 20
    pkt = 16 + 14 + ip + 32                     # record header + empty data/ACK segment
    hs = sum(len(p) + pkt * (len(p) // MSS + 2) for _d, p in src.turns)  # data + one ACK per turn
    return 2 * (pkt + 8) + 4 * pkt + hs + bulk_frames * (pkt + MSS) + (bulk_frames // 2) * pkt


def connection(idx, src, bulk_frames, rng, templates, vary_servers, clock):
    """Generator of bursts (lists of (header, payload)) of one connection."""
    k = 1 + idx % 4093
    # Linux's ephemeral range, above every server port: a client port below
    # the server's (3689, 8088 < 8443) makes tshark try another dissector
    port = 32768 + ((idx // 4093) * 7919 + k * 13) % 28232  # (k, port) unique below 115M connections
    if src.v6:
        client = bytes.fromhex("20010db800c10000") + struct.pack(">Q", k)
        server = src.server if not vary_servers else src.server[:14] + struct.pack(">H", 1 + idx % 251)
    else:
        client = bytes([10, (k >> 16) & 255, (k >> 8) & 255, k & 255])
        server = src.server if not vary_servers else src.server[:3] + bytes([1 + idx % 251])
    c = Side(src.v6, ETH_C2S, client, server, port, src.sport, 64, rng.getrandbits(16))
    s = Side(src.v6, ETH_S2C, server, client, src.sport, port, 57, rng.getrandbits(16))
    cseq, sseq = rng.getrandbits(32), rng.getrandbits(32)
    cts, sts = rng.getrandbits(31), rng.getrandbits(31)
    M = 0xFFFFFFFF

    def now_ms():
        return clock[0] // 1_000_000

    yield [make_packet(c, cseq, 0, SYN, b"", 0, cts, 0, syn=True)]
    cseq = (cseq + 1) & M
    yield [make_packet(s, sseq, cseq, SYN | ACK, b"", 0, sts, cts, syn=True)]
    sseq = (sseq + 1) & M
    yield [make_packet(c, cseq, sseq, ACK, b"", 0, (cts + now_ms()) & M, sts)]
    def bulk():
        """The bulk transfer (advances sseq)."""
        nonlocal sseq
        segs = templates.get(src.record_version)
        t1 = (sts + now_ms()) & M
        t0 = (cts + now_ms()) & M
        burst = []
        for f in range(bulk_frames):
            pay, ps = segs[f % BULK_FRAMES_PER_RECORD]
            burst.append(make_packet(s, sseq, cseq, ACK, pay, ps, t1, t0))
            sseq = (sseq + MSS) & M
            if f & 1:
                burst.append(make_packet(c, cseq, sseq, ACK, b"", 0, t0, t1))
            if len(burst) >= 24:
                yield burst
                burst = []
                t1 = (sts + now_ms()) & M
                t0 = (cts + now_ms()) & M
        if burst:
            yield burst

    for i, (d, p, sums) in enumerate(src.chunks):
        if i == src.bulk_at and bulk_frames:
            yield from bulk()
        if d == 0:
            tx, rx, seq, ack, ta, tb = c, s, cseq, sseq, cts, sts
        else:
            tx, rx, seq, ack, ta, tb = s, c, sseq, cseq, sts, cts
        ms = now_ms()
        burst = []
        for j, (seg, ps) in enumerate(zip(p, sums)):
            fl = ACK | (PSH if j == len(p) - 1 else 0)
            burst.append(make_packet(tx, seq, ack, fl, seg, ps, (ta + ms) & M, (tb + ms) & M))
            seq = (seq + len(seg)) & M
        burst.append(make_packet(rx, ack, seq, ACK, b"", 0, (tb + ms) & M, (ta + ms) & M))
        if d == 0:
            cseq = seq
        else:
            sseq = seq
        yield burst
    if src.bulk_at == len(src.chunks) and bulk_frames:  # no application data in the source
        yield from bulk()
    ms = now_ms()
    yield [make_packet(c, cseq, sseq, FIN | ACK, b"", 0, (cts + ms) & M, (sts + ms) & M)]
    cseq = (cseq + 1) & M
    yield [make_packet(s, sseq, cseq, FIN | ACK, b"", 0, (sts + ms) & M, (cts + ms) & M)]
    sseq = (sseq + 1) & M
    yield [make_packet(c, cseq, sseq, ACK, b"", 0, (cts + ms) & M, (sts + ms) & M)]


def prepare(src):
    """Cuts each turn at MSS once, with the checksum sum of every piece."""
    chunks = []
    for d, p in src.turns:
        segs = [p[i:i + MSS] for i in range(0, len(p), MSS)]
        chunks.append((d, segs, [ones_sum(x) for x in segs]))
    src.chunks = chunks
    if src.bulk_at > len(chunks):
        src.bulk_at = len(chunks)


def parse_size(s):
    s = s.strip().upper()
    mult = 1
    for suffix, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if s.endswith(suffix) or s.endswith(suffix + "B") or s.endswith(suffix + "IB"):
            s = s[:s.index(suffix)]
            mult = m
            break
    return int(float(s) * mult)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("out", help="output pcap; OUT.manifest.json is written next to it")
    ap.add_argument("--size", default="100M", help="target size, e.g. 50M, 2G (default 100M)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--captures", nargs="+", default=DEFAULT_CAPTURES, help="source classic pcaps")
    ap.add_argument("--concurrency", type=int, default=64, help="connections in flight (default 64)")
    ap.add_argument("--bulk-bytes", default="1M", help="mean bulk bytes server to client per connection (default 1M)")
    ap.add_argument("--handshake-only", type=float, default=0.3, help="share of connections without bulk (default 0.3)")
    ap.add_argument("--mix", choices=("bulk", "handshake"), default="bulk",
                    help="handshake: no bulk at all (same as --bulk-bytes 0)")
    ap.add_argument("--vary-servers", action="store_true", help="change the last byte of each server address")
    a = ap.parse_args()
    size = parse_size(a.size)
    bulk_mean = 0 if a.mix == "handshake" else parse_size(a.bulk_bytes)
    if a.concurrency < 1 or not 0 <= a.handshake_only <= 1:
        ap.error("--concurrency >= 1 and 0 <= --handshake-only <= 1")

    sources = load_flows(a.captures)
    if not sources:
        sys.exit("no TLS connection with SYN and SYN-ACK in the source captures")
    for src in sources:
        prepare(src)
    rng = random.Random(a.seed)
    templates = BulkTemplates(random.Random(a.seed ^ 0x5EED))
    clock = [1_767_225_600 * 1_000_000_000]  # 2026-01-01T00:00:00Z in ns

    per_src = [{"connections": 0, "bulk_connections": 0} for _ in sources]
    total = {"connections": 0, "bulk_connections": 0, "bulk_bytes": 0, "client_hellos": 0,
             "connections_with_client_hello": 0, "connections_with_certificates_in_clear": 0}
    active = []
    committed = 24
    written = 24
    packets = 0
    idx = 0
    t_start = time.monotonic()
    with open(a.out, "wb", buffering=4 << 20) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        pack = PCAP_REC.pack
        for _ in range(1 << 40):
            while len(active) < a.concurrency and committed < size:
                si = rng.randrange(len(sources))
                src = sources[si]
                frames = 0
                if bulk_mean and rng.random() >= a.handshake_only:
                    want = min(rng.expovariate(1 / bulk_mean), 8 * bulk_mean)
                    frames = max(1, round(want / BULK_RECORD)) * BULK_FRAMES_PER_RECORD
                gen = connection(idx, src, frames, rng, templates, a.vary_servers, clock)
                active.append(gen)
                idx += 1
                committed += plan_bytes(src, frames)
                ps = per_src[si]
                ps["connections"] += 1
                total["connections"] += 1
                if frames:
                    ps["bulk_connections"] += 1
                    total["bulk_connections"] += 1
                    total["bulk_bytes"] += frames * MSS
                total["client_hellos"] += src.info["client_hellos"]
                total["connections_with_client_hello"] += 1
                total["connections_with_certificates_in_clear"] += src.info["certs_in_clear"]
            if not active:
                break
            i = rng.randrange(len(active))
            burst = next(active[i], None)
            if burst is None:
                active[i] = active[-1]
                active.pop()
                continue
            out = []
            t = clock[0]
            for hdr, pay in burst:
                n = len(hdr) + len(pay)
                out.append(pack(t // 1_000_000_000, (t // 1000) % 1_000_000, n, n))
                out.append(hdr)
                if pay:
                    out.append(pay)
                written += 16 + n
                t += (n + 24) * LINK_NS_PER_BYTE
            clock[0] = t + 20_000  # 20 us between bursts
            packets += len(burst)
            f.write(b"".join(out))
    elapsed = time.monotonic() - t_start

    certs = sorted({h for si, src in enumerate(sources) if per_src[si]["connections"] for h in src.info["cert_sha256"]})
    manifest = {
        "output": os.path.basename(a.out),
        "generator": "scripts/synth_capture.py",
        "arguments": {"size": a.size, "seed": a.seed, "concurrency": a.concurrency,
                      "bulk_bytes_mean": bulk_mean, "handshake_only": a.handshake_only, "mix": a.mix,
                      "vary_servers": a.vary_servers,
                      "captures": [os.path.basename(p) for p in a.captures]},
        "bytes": written,
        "packets": packets,
        **total,
        "distinct_certificates": len(certs),
        "generation_seconds": round(elapsed, 2),
        "sources": [
            {"capture": src.capture, "flow": src.index,
             "server": (f"[{_ip(src.server)}]:{src.sport}" if src.v6 else f"{_ip(src.server)}:{src.sport}"),
             "sni": src.info["sni"], "client_hellos": src.info["client_hellos"],
             "certs_in_clear": src.info["certs_in_clear"],
             "cert_sha256": src.info["cert_sha256"], **per_src[si]}
            for si, src in enumerate(sources)
        ],
    }
    with open(a.out + ".manifest.json", "w") as mf:
        json.dump(manifest, mf, indent=1)
        mf.write("\n")
    print(f"{a.out}: {written} bytes, {packets} packets, {total['connections']} connections, "
          f"{total['client_hellos']} ClientHellos, {total['connections_with_certificates_in_clear']} with "
          f"certificates in clear, {len(sources)} source handshakes, {elapsed:.1f} s "
          f"({written / max(elapsed, 1e-9) / 1e6:.0f} MB/s)", file=sys.stderr)


def _ip(b):
    if len(b) == 4:
        return ".".join(str(x) for x in b)
    import ipaddress
    return str(ipaddress.IPv6Address(b))


if __name__ == "__main__":
    main()
