#!/usr/bin/env python3
"""Adversarial captures for certsift's memory bounds (issue 8).

Writes pcap files (Ethernet, microseconds) into OUT_DIR (default
/tmp/certsift-adversarial):

  never_finish.pcap  a million TCP connections that send a SYN and the first
                     part of a ClientHello whose record claims more bytes, and
                     never finish their handshake
  ooo_flood.pcap     one connection whose client sends a hole and then a flood
                     of out-of-order segments that never fill it
  claims_16mb.pcap   handshake messages claiming 16 MB: thousands of servers
                     that start a 16 MB Certificate message and stop, and a few
                     that stream the whole 16 MB
  long_chain.pcap    servers sending chains of hundreds of (distinct)
                     certificates

Each file also carries every packet of testdata/captures/
s02_transparent_mitm_mixed.pcap, spread through the hostile traffic with their
timestamps moved to fit, so a check can confirm that the evidence of those
well-formed connections (SNI, leaf certificate) is still extracted.

Usage: scripts/adversarial.py [OUT_DIR] [--scale F]   (F < 1 for a quick run)
"""

import base64
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WELL_FORMED = os.path.join(ROOT, "testdata/captures/s02_transparent_mitm_mixed.pcap")
CERT_PEM = os.path.join(ROOT, "testdata/x509/corpus/s01-www-bank-chain.pem")

T0 = 1_795_000_000_000_000  # µs; after s02's own timestamps
MSS = 16000


def read_pcap(path):
    """Packets of a little-endian microsecond Ethernet pcap, as bytes."""
    b = open(path, "rb").read()
    assert b[:4] == b"\xd4\xc3\xb2\xa1", "expected a little-endian usec pcap"
    pos, out = 24, []
    while pos + 16 <= len(b):
        _, _, incl, _ = struct.unpack_from("<IIII", b, pos)
        out.append(b[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    return out


class Writer:
    """A pcap writer that spreads the well-formed packets through the file."""

    def __init__(self, path, expected_packets):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.t = T0
        self.n = 0
        self.good = read_pcap(WELL_FORMED)
        self.every = max(1, expected_packets // (len(self.good) + 1))
        self.buf = []

    def packet(self, frame, dt=1):
        self.t += dt
        self.buf.append(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, len(frame), len(frame)))
        self.buf.append(frame)
        self.n += 1
        if self.good and self.n % self.every == 0:
            self._good()
        if len(self.buf) > 20000:
            self.f.write(b"".join(self.buf))
            self.buf = []

    def _good(self):
        frame = self.good.pop(0)
        self.t += 1
        self.buf.append(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, len(frame), len(frame)))
        self.buf.append(frame)

    def close(self):
        while self.good:
            self._good()
        self.f.write(b"".join(self.buf))
        self.f.close()


def ip4(a):
    return bytes(a)


def tcp_frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    return eth + ip + tcp + payload


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


class Conn:
    """One TCP connection; `send` cuts payloads into MSS segments."""

    def __init__(self, w, cip, sip, cport, sport=443):
        self.w, self.c, self.s, self.cp, self.sp = w, cip, sip, cport, sport
        self.cseq, self.sseq = random.getrandbits(32), random.getrandbits(32)

    def handshake(self):
        self.w.packet(tcp_frame(self.c, self.s, self.cp, self.sp, self.cseq, 0, SYN))
        self.w.packet(tcp_frame(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq + 1, SYN | ACK))
        self.cseq += 1
        self.sseq += 1

    def send(self, from_client, data):
        for i in range(0, len(data), MSS):
            part = data[i : i + MSS]
            if from_client:
                self.w.packet(tcp_frame(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, PSH | ACK, part))
                self.cseq += len(part)
            else:
                self.w.packet(tcp_frame(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq, PSH | ACK, part))
                self.sseq += len(part)


def u24(n):
    return struct.pack("!I", n)[1:]


def records(hs, ctype=22):
    """Handshake bytes cut into TLS records of at most 16384 bytes."""
    out = []
    for i in range(0, len(hs), 16384):
        part = hs[i : i + 16384]
        out.append(struct.pack("!BHH", ctype, 0x0303, len(part)) + part)
    return b"".join(out)


def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x02\xc0\x2f" + b"\x01\x00"
    body += struct.pack("!H", len(sni_ext)) + sni_ext
    return b"\x01" + u24(len(body)) + body


def server_hello():
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\xc0\x2f" + b"\x00" + b"\x00\x00"
    return b"\x02" + u24(len(body)) + body


def certificate_msg(ders):
    certs = b"".join(u24(len(d)) + d for d in ders)
    body = u24(len(certs)) + certs
    return b"\x0b" + u24(len(body)) + body


def load_ders():
    text = open(CERT_PEM).read()
    ders = []
    for block in text.split("-----BEGIN CERTIFICATE-----")[1:]:
        b64 = block.split("-----END CERTIFICATE-----")[0]
        ders.append(base64.b64decode("".join(b64.split())))
    return ders


def addr(i, net=10):
    return ip4([net, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])


def never_finish(path, n):
    w = Writer(path, 2 * n)
    server = ip4([198, 51, 100, 1])
    # A record claiming 512 bytes, holding a ClientHello header claiming 508,
    # and 200 of those bytes: the parser has to wait for the rest.
    partial = struct.pack("!BHH", 22, 0x0301, 512) + b"\x01" + u24(508) + b"\x03\x03" + bytes(198)
    for i in range(n):
        c = addr(i // 50000 + 1, 10)
        port = 1024 + i % 50000
        seq = (i * 7919) & 0xFFFFFFFF
        w.packet(tcp_frame(c, server, port, 443, seq, 0, SYN))
        w.packet(tcp_frame(c, server, port, 443, seq + 1, 0, PSH | ACK, partial))
    w.close()


def ooo_flood(path, n):
    w = Writer(path, n + 4)
    conn = Conn(w, ip4([10, 9, 9, 9]), ip4([198, 51, 100, 2]), 50000)
    conn.handshake()
    hello = records(client_hello("flood.adversarial.test"))
    # The first 5 bytes never arrive; every later segment lands beyond the hole,
    # in shuffled order, many of them overlapping.
    base = conn.cseq + 5
    payload = bytes(range(256)) * 4
    for i in range(n):
        off = random.randrange(0, 64 << 20)
        w.packet(tcp_frame(conn.c, conn.s, conn.cp, conn.sp, base + off, conn.sseq, PSH | ACK, payload[: 64 + (i % 900)]))
    del hello
    w.close()


def claims_16mb(path, stalled, streamed):
    w = Writer(path, stalled * 5 + streamed * 1100)
    claim = 0xFFFFFF
    head = b"\x0b" + u24(claim) + u24(claim - 3)
    for i in range(stalled):
        conn = Conn(w, addr(i + 1, 10), ip4([198, 51, 100, 3]), 2000 + i % 60000)
        conn.handshake()
        conn.send(True, records(client_hello(f"stall{i}.adversarial.test")))
        # ServerHello, then one record that opens a 16 MB Certificate message.
        conn.send(False, records(server_hello()) + struct.pack("!BHH", 22, 0x0303, 16384) + head + os.urandom(16384 - len(head)))
    for i in range(streamed):
        conn = Conn(w, addr(i + 1, 11), ip4([198, 51, 100, 4]), 3000 + i)
        conn.handshake()
        conn.send(True, records(client_hello(f"stream{i}.adversarial.test")))
        msg = head + os.urandom(claim - 3)
        conn.send(False, records(server_hello()) + records(msg))
    w.close()


def long_chain(path, conns, chain_len):
    ders = load_ders()
    w = Writer(path, conns * (chain_len // 14 + 6))
    for i in range(conns):
        chain = []
        for j in range(chain_len):
            d = bytearray(ders[j % len(ders)])
            # Change a few bytes deep inside (signature) so every DER differs.
            k = len(d) - 8
            d[k : k + 4] = struct.pack("!I", i * chain_len + j)
            chain.append(bytes(d))
        conn = Conn(w, addr(i + 1, 12), ip4([198, 51, 100, 5]), 4000 + i)
        conn.handshake()
        conn.send(True, records(client_hello(f"chain{i}.adversarial.test")))
        conn.send(False, records(server_hello() + certificate_msg(chain) + b"\x0e\x00\x00\x00"))
    w.close()


def main():
    args = sys.argv[1:]
    scale = 1.0
    if "--scale" in args:
        i = args.index("--scale")
        scale = float(args[i + 1])
        del args[i : i + 2]
    out = args[0] if args else "/tmp/certsift-adversarial"
    os.makedirs(out, exist_ok=True)
    random.seed(8)
    s = lambda n: max(1, int(n * scale))
    jobs = [
        ("never_finish.pcap", lambda p: never_finish(p, s(1_000_000))),
        ("ooo_flood.pcap", lambda p: ooo_flood(p, s(300_000))),
        ("claims_16mb.pcap", lambda p: claims_16mb(p, s(20_000), s(6))),
        ("long_chain.pcap", lambda p: long_chain(p, s(200), 400)),
    ]
    for name, job in jobs:
        path = os.path.join(out, name)
        job(path)
        print(f"{path}\t{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
