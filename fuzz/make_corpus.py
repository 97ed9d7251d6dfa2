#!/usr/bin/env python3
"""Builds the small seed corpora under fuzz/corpus/<target>/ from
testdata/captures and testdata/x509. Re-run after adding test captures."""

import base64
import glob
import hashlib
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPS = os.path.join(ROOT, "testdata/captures")
OUT = os.path.join(ROOT, "fuzz/corpus")


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pcap_frames(path):
    """(linktype, frame) of a classic pcap, either byte order."""
    b = open(path, "rb").read()
    if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif b[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return []
    lt = struct.unpack_from(e + "I", b, 20)[0] & 0xFFFF
    pos, out = 24, []
    while pos + 16 <= len(b):
        incl = struct.unpack_from(e + "I", b, pos + 8)[0]
        out.append((lt, b[pos + 16 : pos + 16 + incl]))
        pos += 16 + incl
    return out


LINKTYPES = [1, 0, 9, 12, 14, 50, 101, 108, 113, 228, 229, 276, 147]


def tcp_payloads(frames):
    """Per flow, the ordered (is_client, payload) of Ethernet/IPv4 TCP frames."""
    flows = {}
    for lt, f in frames:
        if lt != 1 or len(f) < 54 or f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            continue
        total = struct.unpack_from("!H", ip, 2)[0]
        tcp = ip[ihl:total]
        if len(tcp) < 20:
            continue
        sport, dport = struct.unpack_from("!HH", tcp)
        off = (tcp[12] >> 4) * 4
        payload = tcp[off:]
        key = tuple(sorted([(ip[12:16], sport), (ip[16:20], dport)]))
        flow = flows.setdefault(key, {"client": (ip[12:16], sport), "segs": []})
        if payload:
            flow["segs"].append(((ip[12:16], sport) == flow["client"], payload))
    return [f["segs"] for f in flows.values() if f["segs"]]


def udp_payloads(frames):
    """(payload, (source address, port)) of Ethernet IPv4/IPv6 UDP frames."""
    out = []
    for lt, f in frames:
        if lt != 1 or len(f) < 14:
            continue
        ethertype, ip = f[12:14], f[14:]
        if ethertype == b"\x08\x00" and len(ip) >= 20 and ip[9] == 17:
            ihl = (ip[0] & 15) * 4
            total = struct.unpack_from("!H", ip, 2)[0]
            src, udp = ip[12:16], ip[ihl:total]
        elif ethertype == b"\x86\xdd" and len(ip) >= 40 and ip[6] == 17:
            src, udp = ip[8:24], ip[40:40 + struct.unpack_from("!H", ip, 4)[0]]
        else:
            continue
        if len(udp) > 8:
            out.append((udp[8:], (src, udp[:2])))
    return out


def main():
    # capture: small files whole, the head of bigger ones, compressed ones whole.
    # Files only: captures/benign/ holds the real traffic of the precision
    # test, not seeds (open() of the folder would fail).
    for path in sorted(p for p in glob.glob(os.path.join(CAPS, "*")) if os.path.isfile(p)):
        b = open(path, "rb").read()
        if len(b) <= 20000:
            put("capture", b)
        else:
            put("capture", b[:8192])
        if len(b) <= 4096:
            put("scan", b)
    for path in ["s02_transparent_mitm_mixed.pcap", "s07_tls13_keylog_dsb.pcapng", "s09_vlan_trunk.pcap"]:
        put("scan", open(os.path.join(CAPS, path), "rb").read()[:16384])

    # decode: one frame per distinct (link type, first bytes), prefixed by the
    # selector byte of its link type; fragments concatenated with u8 lengths.
    seen = set()
    for path in sorted(glob.glob(os.path.join(CAPS, "*.pcap"))):
        frames = pcap_frames(path)
        for lt, f in frames:
            if lt not in LINKTYPES:
                continue
            k = (lt, f[:40])
            if k in seen or len(seen) > 80:
                continue
            seen.add(k)
            put("decode", bytes([LINKTYPES.index(lt)]) + f)
        if "fragments" in path:
            lt = frames[0][0] if frames else 1
            chunk = b"".join(bytes([len(f)]) + f for _, f in frames if len(f) < 256)
            put("decode", bytes([LINKTYPES.index(lt) if lt in LINKTYPES else 0]) + chunk)

    # tls: each TLS flow of a few captures as side-tagged records (op 3 = feed).
    for name in ["s02_transparent_mitm_mixed.pcap", "s05_benign_multicert.pcap", "s07_tls13_keylog.pcap", "s04_explicit_proxy_connect.pcap"]:
        flows = tcp_payloads(pcap_frames(os.path.join(CAPS, name)))
        for segs in flows[:6]:
            out = b""
            for is_client, p in segs[:12]:
                out += bytes([(3 << 1) | (0 if is_client else 1)]) + struct.pack("<H", len(p)) + p
            put("tls", out)

    # quic: the TLS 1.3 handshake messages of s07's flows as CRYPTO frames in
    # records of fuzz_targets/quic.rs (ctl, packet number, u16 LE length,
    # frames): the client's split over two Initials sent out of order, then
    # the server's Initial; one seed in QUIC version 2.
    def handshake_bytes(segs, client):
        stream = b"".join(p for c, p in segs if c == client)
        out, pos = b"", 0
        while pos + 5 <= len(stream) and stream[pos] == 22:
            n = struct.unpack_from("!H", stream, pos + 3)[0]
            out += stream[pos + 5 : pos + 5 + n]
            pos += 5 + n
        return out

    def crypto(offset, data):
        return b"\x06" + struct.pack("!I", 0x80000000 | offset) + struct.pack("!I", 0x80000000 | len(data)) + data

    def rec(ctl, pn, frames):
        return bytes([ctl, pn]) + struct.pack("<H", len(frames)) + frames

    for segs in tcp_payloads(pcap_frames(os.path.join(CAPS, "s07_tls13_keylog.pcap")))[:3]:
        ch, sh = handshake_bytes(segs, True), handshake_bytes(segs, False)
        if not ch or not sh:
            continue
        half = len(ch) // 2
        for v in (0, 4):
            put("quic", rec(v, 1, crypto(half, ch[half:])) + rec(v, 0, crypto(0, ch[:half]) + b"\x01") + rec(v | 1, 0, b"\x02\x00\x00\x00\x00" + crypto(0, sh)))

    # quic's DTLS hook: the datagrams of the DTLS test captures as raw records
    # (ctl bit 1 raw, bit 0 set from the server), which the target also
    # hands to a dtls::Shard; at most 24 datagrams and 6 KB per seed.
    for path in sorted(glob.glob(os.path.join(CAPS, "*dtls*.pcap"))):
        out, client = b"", None
        for payload, src in udp_payloads(pcap_frames(path))[:24]:
            client = client or src
            if len(out) + len(payload) > 6000:
                break
            out += rec(2 | (0 if src == client else 1), 0, payload)
        if out:
            put("quic", out)

    # reassembly: client streams of a few flows cut into records
    # (ctl, seq delta u16 LE, len u8, payload), in order and shuffled.
    flows = tcp_payloads(pcap_frames(os.path.join(CAPS, "s10_lossy_retransmissions.pcap")))
    for segs in flows[:4]:
        out = b""
        for is_client, p in segs[:16]:
            for i in range(0, min(len(p), 1024), 200):
                part = p[i : i + 200]
                out += bytes([0x20 | (0 if is_client else 1)]) + struct.pack("<H", len(part)) + bytes([len(part)]) + part
        put("reassembly", out)
    put("reassembly", b"\x09\x00\x00\x04abcd\x00\x08\x00\x04efgh\x80\x04\x00\x04ijkl\x2c\x00\x00\x00")

    # x509: every certificate as DER, and a chain joined by the separator.
    sep = b"\xff\x00CHAIN"
    for path in sorted(glob.glob(os.path.join(ROOT, "testdata/x509/**/*.pem"), recursive=True)):
        text = open(path, errors="replace").read()
        ders = []
        for block in text.split("-----BEGIN CERTIFICATE-----")[1:]:
            b64 = block.split("-----END CERTIFICATE-----")[0]
            try:
                ders.append(base64.b64decode("".join(b64.split())))
            except Exception:
                pass
        for d in ders:
            put("x509", d)
        if len(ders) > 1:
            put("x509", sep.join(ders))

    # hostname: a name, then NUL-separated identities (`I` SAN IP, `C` CN,
    # else SAN dNSName), one of each kind of name the matcher tells apart.
    for name, ids in [
        ("www.example.com", ["*.example.com", "example.com"]),
        ("WWW.Example.COM.", ["www.example.com."]),
        ("a.b.example.com", ["*.example.com", "*.*.example.com", "w*.example.com"]),
        ("example.com", ["*.com", "*."]),
        ("b\u00fccher.example.com", ["xn--bcher-kva.example.com"]),
        ("\u0644\u064a\u0647\u0645\u0627\u0628\u062a\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064a\u061f", ["xn--egbpdaj6bu4bxfgehfvwxn"]),
        ("\u4ed6\u4eec\u4e3a\u4ec0\u4e48\u4e0d\u8bf4\u4e2d\u6587\u3002example\uff0ecom", ["*.example.com"]),
        ("3\u5e74B\u7d44\u91d1\u516b\u5148\u751f", ["xn--3b-ww4c5e180e575a65lsy2b"]),
        ("mail.example.org", ["Cmail.example.org"]),
        ("192.0.2.1", ["I192.0.2.1", "192.0.2.1"]),
        ("[2001:db8::1]", ["I2001:DB8:0:0:0:0:0:1"]),
        ("::ffff:198.51.100.7", ["I198.51.100.7", "I::ffff:198.51.100.7"]),
    ]:
        put("hostname", b"\0".join(s.encode() for s in [name] + ids))


if __name__ == "__main__":
    main()
