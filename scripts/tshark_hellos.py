#!/usr/bin/env python3
"""Every ClientHello tshark decodes in a capture, with the JA4 that the
FoxIO specification gives for it, computed here from tshark's fields alone.

Usage: tshark_hellos.py CAPTURE [TSHARK_ARG...]

Prints one tab-separated line per ClientHello: frame, transport, client
port, SNI, tshark's JA3 hash (tshark 4.0 has `tls.handshake.ja3`), JA4,
JA4_r, the key share groups and the supported groups (hex). Extra
arguments go to tshark (a `-d` decode-as, `-o` preferences).

tshark 4.0 has no JA4, so this script is the independent oracle for the
JA4 asserted by tests on captures with no published value: it reads the
dissected tree (`-T json`) and never certsift's code or output. JA4 as the
FoxIO spec (JA4 technical details, BSD-3-Clause) defines it:
  a = transport (t, q, d) + version (highest non-GREASE supported_versions,
      else the hello's version) + d/i (SNI present or not) + the number of
      non-GREASE cipher suites and of non-GREASE extensions (2 digits,
      capped at 99) + first and last character of the first ALPN value
      (hex first and last digit when either is not alphanumeric ASCII; 00
      without ALPN)
  b = first 12 hex digits of SHA-256 of the sorted non-GREASE suites
      (4 hex digits, comma-separated); 000000000000 when there are none
  c = the same of the sorted non-GREASE extensions without SNI (0000) and
      ALPN (0010), then "_" and the signature algorithms in wire order
      (no "_" when there are none)
"""

import hashlib
import json
import subprocess
import sys

VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
            0x0002: "s2", 0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}


def grease(v):
    return v & 0x0F0F == 0x0A0A and v >> 8 == v & 0xFF


def as_int(s):
    return int(s, 16) if s.startswith("0x") else int(s)


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def find(tree, key):
    """Every value under `key` anywhere in the tree, in document order."""
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key:
                out.extend(as_list(v))
            else:
                out.extend(find(v, key))
    elif isinstance(tree, list):
        for x in tree:
            out.extend(find(x, key))
    return out


def hellos(tree):
    """The ClientHello subtrees: dicts whose tls.handshake.type is 1."""
    if isinstance(tree, dict):
        if tree.get("tls.handshake.type") == "1":
            yield tree
            return
        for v in tree.values():
            yield from hellos(v)
    elif isinstance(tree, list):
        for x in tree:
            yield from hellos(x)


def extension(hello, name):
    """The subtree of the extension whose tree label is `Extension: NAME (`."""
    for k, v in hello.items():
        if k.startswith(f"Extension: {name} ("):
            return v
    return None


def short_hash(items):
    if not items:
        return "000000000000"
    return hashlib.sha256(",".join(items).encode()).hexdigest()[:12]


def ja4(hello, transport):
    suites = [as_int(s) for s in find(hello, "tls.handshake.ciphersuite")]
    suites = [s for s in suites if not grease(s)]
    exts = [as_int(e) for e in find(hello, "tls.handshake.extension.type")]
    exts = [e for e in exts if not grease(e)]
    versions = [as_int(v) for v in find(extension(hello, "supported_versions") or {},
                                        "tls.handshake.extensions.supported_version")]
    versions = [v for v in versions if not grease(v)]
    version = max(versions) if versions else as_int(hello["tls.handshake.version"])
    alpn = find(extension(hello, "application_layer_protocol_negotiation") or {},
                "tls.handshake.extensions_alpn_str")
    if not alpn:
        alp = "00"
    else:
        first = alpn[0]
        if first and first[0].isascii() and first[0].isalnum() and first[-1].isascii() \
                and first[-1].isalnum():
            alp = first[0] + first[-1]
        else:
            h = first.encode().hex()
            alp = (h[0] + h[-1]) if h else "00"
    a = (transport + VERSIONS.get(version, "00") + ("d" if 0 in exts else "i")
         + f"{min(len(suites), 99):02d}{min(len(exts), 99):02d}" + alp)
    sorted_suites = sorted(f"{s:04x}" for s in suites)
    sorted_exts = sorted(f"{e:04x}" for e in exts if e not in (0x0000, 0x0010))
    sigs = [f"{as_int(s):04x}" for s in find(extension(hello, "signature_algorithms") or {},
                                             "tls.handshake.sig_hash_alg")]
    c_raw = ",".join(sorted_exts) + ("_" + ",".join(sigs) if sigs else "")
    c = short_hash([c_raw]) if sorted_exts or sigs else "000000000000"
    raw = f"{a}_{','.join(sorted_suites)}_{c_raw}"
    return f"{a}_{short_hash(sorted_suites)}_{c}", raw


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = subprocess.run(
        ["tshark", "-n", "-r", sys.argv[1], *sys.argv[2:], "-Y", "tls.handshake.type == 1",
         "-T", "json", "--no-duplicate-keys"],
        capture_output=True, text=True, timeout=300, check=True).stdout
    for packet in json.loads(out or "[]"):
        layers = packet["_source"]["layers"]
        frame = layers["frame"]["frame.number"]
        transport = "q" if "quic" in layers else ("d" if "dtls" in layers else "t")
        port = layers.get("udp", layers.get("tcp", {})).get(
            "udp.srcport", layers.get("tcp", {}).get("tcp.srcport", ""))
        for hello in hellos(layers):
            sni = ",".join(find(hello, "tls.handshake.extensions_server_name"))
            ja3 = ",".join(find(hello, "tls.handshake.ja3"))
            j4, j4r = ja4(hello, transport)
            shares = ",".join(f"{as_int(g):04x}" for g in
                              find(extension(hello, "key_share") or {},
                                   "tls.handshake.extensions_key_share_group"))
            groups = ",".join(f"{as_int(g):04x}" for g in
                              find(extension(hello, "supported_groups") or {},
                                   "tls.handshake.extensions_supported_group"))
            print("\t".join([frame, transport, port, sni, ja3, j4, j4r, shares, groups]))


if __name__ == "__main__":
    main()
