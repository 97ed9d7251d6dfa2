#!/usr/bin/env python3
"""QUIC connections of the peers' captures: certsift against tshark (SNI of
every connection with a ClientHello) and against the published JA4 values of
ja4-vectors.tsv (FoxIO, Arkime, suricata-verify).

Usage: scripts/compare_quic.py CERTSIFT_BINARY PEER_CAPTURES_DIR

Scans every capture whose path says "quic" plus the mixed captures that hold
QUIC connections, with `--format jsonl`, and prints one line per capture and
the totals. Needs tshark (`apt-get install -y tshark`; always run with -n).
"""

import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

# Captures that carry QUIC among other traffic (found by `tshark -Y quic`).
MIXED = [
    "arkime/pcap/arkime_synthetic.pcap",
    "ja4/pcap/ssh2.pcapng",
    "ja4/pcap/tls-handshake.pcapng",
    "ja4/pcap/tls-sni.pcapng",
    "ja4/pcap/tls3.pcapng",
    "suricata-verify/tests/ja4-rules/input.pcap",
    "suricata-verify/tests/ja4-tls-quic/input.pcap",
]
SOURCES = {"FoxIO-ja4-rust", "FoxIO-ja4-python", "FoxIO-ja4-zeek", "arkime", "suricata-verify"}


def captures(base):
    found = set(MIXED)
    for root, _, files in os.walk(base):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), base)
            if "quic" in rel.lower() and f.endswith((".pcap", ".pcapng")):
                found.add(rel)
    return sorted(p for p in found if os.path.exists(os.path.join(base, p)))


def ours(binary, path, out):
    subprocess.run([binary, "scan", "-q", "--format", "jsonl", "-o", out, path],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)
    p = os.path.join(out, "handshakes.jsonl")
    rows = [json.loads(l) for l in open(p)] if os.path.exists(p) else []
    return [r for r in rows if r.get("transport") == "quic"]


def tshark_snis(path):
    """Client port -> SNI of the first ClientHello, per QUIC connection."""
    extra = ["-d", "udp.port==853,quic"] if "quicdoq" in path else []
    out = subprocess.run(
        ["tshark", "-n", "-r", path, *extra, "-Y", "quic && tls.handshake.type == 1",
         "-T", "fields", "-e", "udp.srcport", "-e", "tls.handshake.extensions_server_name"],
        capture_output=True, text=True, timeout=300, check=False).stdout
    snis = {}
    for line in out.splitlines():
        parts = line.split("\t")
        snis.setdefault(parts[0].split(",")[0], parts[1] if len(parts) > 1 else "")
    return snis


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, base = os.path.abspath(sys.argv[1]), sys.argv[2]
    vectors = collections.defaultdict(list)
    for r in csv.DictReader(open(os.path.join(base, "ja4-vectors.tsv")), delimiter="\t"):
        if r["ja4"].startswith("q") and r["source"] in SOURCES:
            vectors[r["capture"]].append(r)
    total = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, rel in enumerate(captures(base)):
            path = os.path.join(base, rel)
            rows = ours(binary, path, os.path.join(tmp, str(i)))
            by_port = {str(r["client_port"]): r for r in rows}
            snis = tshark_snis(path)
            sni_ok = sum(1 for port, s in snis.items()
                         if port in by_port and (by_port[port].get("sni") or "") == s)
            ja4_ok = ja4_all = 0
            for v in vectors.get(rel, []):
                ja4_all += 1
                if v["src_port"]:
                    o = by_port.get(v["src_port"])
                    ja4_ok += bool(o and o.get("ja4") == v["ja4"])
                else:
                    # suricata-verify publishes no port: every row must match.
                    ja4_ok += bool(rows and all(o.get("ja4") == v["ja4"] for o in rows))
            certs = sum(1 for r in rows if r.get("leaf_sha256"))
            print(f"{rel}: quic={len(rows)} tshark={len(snis)} sni={sni_ok}/{len(snis)} "
                  f"ja4={ja4_ok}/{ja4_all} with_certificate={certs}")
            for k, n in [("quic", len(rows)), ("tshark", len(snis)), ("sni", sni_ok),
                         ("ja4", ja4_ok), ("ja4_all", ja4_all), ("certs", certs)]:
                total[k] += n
    print(f"total: {total['quic']} QUIC connections (tshark {total['tshark']}), "
          f"SNI {total['sni']}/{total['tshark']}, JA4 {total['ja4']}/{total['ja4_all']}, "
          f"{total['certs']} with a certificate")
    sys.exit(0 if total["sni"] == total["tshark"] and total["ja4"] == total["ja4_all"] else 1)


if __name__ == "__main__":
    main()
