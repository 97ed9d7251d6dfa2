#!/usr/bin/env python3
"""Writes testdata/captures/synth_gquic_t05x.pcap byte by byte: Google's
TLS-based gQUIC versions T050 and T051 (issue 30), each a client Initial
flight and a server Initial, laid out as src/quic and Wireshark's QUIC
and gQUIC dissectors read them. Needs `cryptography` (pip install cryptography).

What T05x share with QUIC v1 and where they differ:
  - IETF long headers (RFC 9000 §17.2), version 0x54303530 ("T050") or
    0x54303531 ("T051"), one-byte connection id lengths, a token length and
    a varint length in Initials;
  - Initial keys as RFC 9001 §5.2 derives them, from each version's own
    salt (Chromium's quic_crypto_utils; the same bytes as src/quic/crypto.rs
    and Wireshark's QUIC dissector), AES-128-GCM and AES header protection;
  - gQUIC frames inside: CRYPTO is type 0x08 (varint offset, varint
    length, data), PADDING 0x00, ACK 0x40-0x7f (Chromium's QuicFramer:
    type 01nLLMM, largest acked, 2-byte delay, first block length, a
    timestamp count).

Connections (10.0.0.1 -> 10.0.0.2:443, Ethernet/IPv4/UDP):
  port 50050, T050: a 1,208-byte client Initial holding one ClientHello
      (SNI t050.example, ALPN h3-T050, X25519) in one CRYPTO frame; the
      server's Initial opens with a gQUIC ACK, then the ServerHello
  port 50051, T051: the same with SNI t051.example and ALPN h3-T051
  port 50052, T051: a ClientHello of 1,404 bytes (SNI pq.t051.example,
      ALPN h3-T051, an X25519MLKEM768 key share) over two Initials in two
      datagrams, the second half sent first; the server's Initial as above
  port 50053: a client Initial labelled T051 but sealed with T050's salt,
      which neither certsift nor tshark can open

tshark 4.0 decrypts the first seven packets and reads their gQUIC frames, and
it reads the ClientHellos and ServerHellos that one CRYPTO frame holds;
it does not join CRYPTO frames of gQUIC packets, so the hello of port
50052 is checked with `--check-split`: the CRYPTO bytes tshark decrypted
from that connection's Initials, joined by offset, are written as one TLS
record over TCP to a scratch capture for tshark to read.

Run from the repository root: python3 scripts/make_gquic_captures.py, then
python3 scripts/make_gquic_captures.py --check-split
"""

import struct
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from make_test_captures import csum, pcap

OUT = Path(__file__).resolve().parent.parent / "testdata" / "captures" / "synth_gquic_t05x.pcap"
CLIENT = bytes([10, 0, 0, 1])
SERVER = bytes([10, 0, 0, 2])

SALTS = {
    0x54303530: bytes.fromhex("7ff579e5acd072915580304c43a2367c60488310"),
    0x54303531: bytes.fromhex("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d"),
}


# ---------------------------------------------------------------- keys


def hkdf_extract(salt, ikm):
    h = hmac.HMAC(salt, hashes.SHA256())
    h.update(ikm)
    return h.finalize()


def expand_label(secret, label, length):
    """HKDF-Expand-Label with an empty context (RFC 8446 §7.1)."""
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\0"
    out, block, i = b"", b"", 1
    while len(out) < length:
        h = hmac.HMAC(secret, hashes.SHA256())
        h.update(block + info + bytes([i]))
        block = h.finalize()
        out += block
        i += 1
    return out[:length]


def initial_keys(version, dcid, side):
    """(key, iv, hp) of one side's Initial secret (RFC 9001 §5.2)."""
    secret = expand_label(hkdf_extract(SALTS[version], dcid), side, 32)
    return (expand_label(secret, b"quic key", 16), expand_label(secret, b"quic iv", 12),
            expand_label(secret, b"quic hp", 16))


def varint(n):
    if n < 0x40:
        return bytes([n])
    if n < 0x4000:
        return struct.pack("!H", 0x4000 | n)
    return struct.pack("!I", 0x80000000 | n)


def seal_initial(version, dcid, scid, pn, payload, keys):
    """A long-header Initial with a 4-byte packet number, protected as RFC
    9001 §5.3 and §5.4 (AES-128-GCM, AES-ECB header protection)."""
    key, iv, hp = keys
    hdr = bytes([0xC3]) + struct.pack("!I", version)
    hdr += bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + varint(0)
    hdr += struct.pack("!H", 0x4000 | (4 + len(payload) + 16))
    pn_at = len(hdr)
    hdr += struct.pack("!I", pn)
    nonce = bytes(a ^ b for a, b in zip(iv, bytes(8) + struct.pack("!I", pn)))
    sealed = AESGCM(key).encrypt(nonce, payload, hdr)
    pkt = bytearray(hdr + sealed)
    sample = bytes(pkt[pn_at + 4:pn_at + 20])
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    pkt[0] ^= mask[0] & 0x0F
    for i in range(4):
        pkt[pn_at + i] ^= mask[1 + i]
    return bytes(pkt)


# ---------------------------------------------------------------- TLS


def ext(ty, data):
    return struct.pack("!HH", ty, len(data)) + data


def u16_list(values):
    return struct.pack("!H", 2 * len(values)) + struct.pack("!%dH" % len(values), *values)


def client_hello(name, alpn, shares, seed):
    sni = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    key_share = b"".join(struct.pack("!HH", g, len(k)) + k for g, k in shares)
    # Chromium's T05x transport parameters went in extension 0xffa5;
    # initial_max_data (4) and initial_max_streams_bidi (8) as an example.
    params = b"\x04\x04\x80\x0f\x00\x00" + b"\x08\x02\x40\x64"
    exts = (ext(0x0000, sni)
            + ext(0x0010, struct.pack("!HB", len(alpn) + 1, len(alpn)) + alpn)
            + ext(0x000A, u16_list([g for g, _ in shares] + [0x0017]))
            + ext(0x000D, u16_list([0x0403, 0x0804, 0x0401, 0x0503]))
            + ext(0x002B, b"\x02\x03\x04")
            + ext(0x002D, b"\x01\x01")
            + ext(0x0033, struct.pack("!H", len(key_share)) + key_share)
            + ext(0xFFA5, params))
    body = (b"\x03\x03" + bytes((seed + 5 * i) % 256 for i in range(32)) + b"\0"
            + u16_list([0x1301, 0x1302, 0x1303]) + b"\x01\0"
            + struct.pack("!H", len(exts)) + exts)
    return b"\x01" + len(body).to_bytes(3, "big") + body


def server_hello(seed):
    exts = ext(0x002B, b"\x03\x04") + ext(0x0033, struct.pack("!HH", 0x001D, 32) + bytes(range(32)))
    body = (b"\x03\x03" + bytes((seed + 3 * i) % 256 for i in range(32)) + b"\0"
            + b"\x13\x01\0" + struct.pack("!H", len(exts)) + exts)
    return b"\x02" + len(body).to_bytes(3, "big") + body


def crypto(offset, data):
    """A gQUIC CRYPTO frame (type 0x08)."""
    return b"\x08" + varint(offset) + varint(len(data)) + data


# One gQUIC ACK frame: type 0x40 (one block, 1-byte largest acked and block
# length), largest acked 1, delay 0, first block 1, no timestamps.
GQUIC_ACK = bytes([0x40, 0x01, 0x00, 0x00, 0x01, 0x00])


def padded(payload, size=1162):
    return payload + bytes(max(0, size - len(payload)))


# ---------------------------------------------------------------- pcap


def frame(c2s, sport, payload):
    src, dst = (CLIENT, SERVER) if c2s else (SERVER, CLIENT)
    ports = (sport, 443) if c2s else (443, sport)
    udp = struct.pack("!HHHH", ports[0], ports[1], 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    macs = bytes.fromhex("020000000002020000000001") if c2s else bytes.fromhex("020000000001020000000002")
    return macs + b"\x08\x00" + ip + udp


def connection(version, sport, hello, split, salt_of=None):
    # The client's first destination id (its keys' input), its own id, and
    # the id the server picks.
    dcid = struct.pack("!Q", 0x8394C8F03E515700 | (sport & 0xFF))
    ccid = struct.pack("!Q", 0xC1C1C1C1C1C1C100 | (sport & 0xFF))
    scid = struct.pack("!Q", 0xF067A5502A426200 | (sport & 0xFF))
    ck = initial_keys(salt_of or version, dcid, b"client in")
    sk = initial_keys(version, dcid, b"server in")
    frames = []
    if split is None:
        frames.append(frame(True, sport, seal_initial(version, dcid, ccid, 1, padded(crypto(0, hello)), ck)))
    else:
        # The second half first, as out-of-order delivery would bring it.
        frames.append(frame(True, sport, seal_initial(
            version, dcid, ccid, 2, padded(crypto(split, hello[split:])), ck)))
        frames.append(frame(True, sport, seal_initial(
            version, dcid, ccid, 1, padded(crypto(0, hello[:split])), ck)))
    sh = GQUIC_ACK + crypto(0, server_hello(sport % 256))
    frames.append(frame(False, sport, seal_initial(version, ccid, scid, 1, sh, sk)))
    return frames


def main():
    x25519 = [(0x001D, bytes(range(32)))]
    t050 = client_hello(b"t050.example", b"h3-T050", x25519, 50)
    t051 = client_hello(b"t051.example", b"h3-T051", x25519, 51)
    mlkem = bytes((7 * i + 1) % 256 for i in range(1216))
    pq = client_hello(b"pq.t051.example", b"h3-T051",
                      [(0x11EC, mlkem), (0x001D, bytes(range(32, 64)))], 52)
    frames = (connection(0x54303530, 50050, t050, None)
              + connection(0x54303531, 50051, t051, None)
              + connection(0x54303531, 50052, pq, 700)
              # Labelled T051, the client's Initial sealed with T050's salt.
              + connection(0x54303531, 50053, t051, None, salt_of=0x54303530)[:1])
    pcap(OUT, 1, frames)
    print(f"{OUT.name}: {len(frames)} frames, client hellos of {len(t050)}, {len(t051)}, {len(pq)} bytes")


def check_split(capture, port):
    """The CRYPTO bytes tshark decrypted from the client Initials of `port`,
    joined by offset, as one TLS record over TCP: tshark's reading of it."""
    import json
    import subprocess
    import tempfile

    out = subprocess.run(
        ["tshark", "-n", "-r", str(capture), "-x", "-T", "json", "--no-duplicate-keys",
         "-Y", f"udp.srcport == {port} && gquic.crypto.offset"],
        capture_output=True, text=True, check=True).stdout
    pieces = {}

    def walk(o):
        if isinstance(o, dict):
            if "gquic.crypto.offset" in o and "gquic.crypto.crypto_data_raw" in o:
                raw = o["gquic.crypto.crypto_data_raw"]
                pieces[int(o["gquic.crypto.offset"])] = bytes.fromhex(raw[0])
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(json.loads(out))
    data, at = b"", 0
    for off in sorted(pieces):
        if off != at:
            raise SystemExit(f"port {port}: CRYPTO bytes missing at {at} (next at {off})")
        data += pieces[off]
        at += len(pieces[off])
    print(f"port {port}: CRYPTO frames at {sorted(pieces)}, {len(data)} bytes")
    record = b"\x16\x03\x01" + struct.pack("!H", len(data)) + data
    tcp = struct.pack("!HHIIBBHHH", port, 443, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + record
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, CLIENT, SERVER)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "split.pcap"
        pcap(path, 101, [ip + tcp])
        here = Path(__file__).resolve().parent
        subprocess.run(["python3", str(here / "tshark_hellos.py"), str(path)], check=True)


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--check-split"]:
        check_split(OUT, 50052)
    else:
        main()
