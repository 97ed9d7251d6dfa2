#!/usr/bin/env python3
"""Compares certsift's handshakes with tshark's view of the same captures.

Usage: compare_tshark.py CERTSIFT_BIN PEER_CAPTURES_DIR [--verbose]

PEER_CAPTURES_DIR holds the captures and `expected-tshark.tsv` (one row per
TLS handshake message tshark dissected: ClientHello, ServerHello,
Certificate). For every capture with TCP TLS rows, certsift scans it to JSON
lines and each TCP connection is matched by its 4-tuple (the n-th connection
on a reused 4-tuple with the n-th ClientHello). Compared per connection: SNI,
JA3 string, and the negotiated version, cipher and JA3S string of the
ServerHello, and the server's certificate chain (SHA-256 of each DER). Prints
agreement counts per field and every difference.

DTLS (rows with proto "dtls") is compared the same way, one connection per
UDP 4-tuple (tshark lists every retransmitted or cookie-exchange
ClientHello; the first one it decoded whole is the connection's), with
transport "dtls" required, and JA4 checked against the published values of
`ja4-vectors.tsv` where a peer gives one for that client address and port
(tshark 4.0 has no JA4).
"""
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile


def tuples(row):
    return (row["ip_src"], row["src_port"], row["ip_dst"], row["dst_port"])


def version_name(v):
    names = {"0x0300": "SSL 3.0", "0x0301": "TLS 1.0", "0x0302": "TLS 1.1",
             "0x0303": "TLS 1.2", "0x0304": "TLS 1.3", "0xfeff": "DTLS 1.0",
             "0xfefd": "DTLS 1.2", "0xfefc": "DTLS 1.3", "0x0100": "0x0100"}
    if v.startswith("0x7f") and len(v) == 6:
        return f"TLS 1.3 draft {int(v[4:], 16)}"
    return names.get(v, v)


def scan(binary, path):
    """certsift's handshakes of one capture, per 4-tuple, in time order."""
    ours = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "scan", "-q", "--format", "jsonl", "-o", out, path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with open(os.path.join(out, "handshakes.jsonl")) as f:
                for line in f:
                    h = json.loads(line)
                    key = (h["client_ip"], str(h["client_port"]), h["server_ip"], str(h["server_port"]))
                    ours[key].append(h)
        except FileNotFoundError:
            pass
    for key in ours:
        ours[key].sort(key=lambda h: h["ts_start"])
    return ours


def ja4_vectors(root):
    """(capture, client ip, client port) -> published DTLS JA4 values."""
    out = collections.defaultdict(set)
    with open(os.path.join(root, "ja4-vectors.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["ja4"].startswith("d") and r["src_port"]:
                out[(r["capture"], r["src"], r["src_port"])].add(r["ja4"])
    return out


def compare_dtls(binary, root, rows, vectors, agree, total, diffs):
    for capture in sorted(rows):
        path = os.path.join(root, capture)
        if not os.path.exists(path):
            continue
        ours = scan(binary, path)
        conns = collections.OrderedDict()
        for r in rows[capture]:
            t = tuples(r)
            rev = (t[2], t[3], t[0], t[1])
            if r["hs_type"] == "1":
                c = conns.setdefault(t, {"ch": [], "2": [], "11": []})
                c["ch"].append(r)
            elif rev in conns:
                conns[rev].setdefault(r["hs_type"], []).append(r)
        for t, msgs in conns.items():
            label = f"{capture} dtls {t[0]}:{t[1]}->{t[2]}:{t[3]}"
            mine = ours.get(t, [])
            h = mine[0] if mine else None

            def check(field, want, got):
                total[field] += 1
                if want == got:
                    agree[field] += 1
                else:
                    diffs.append(f"{label} {field}: tshark {want!r} certsift {got!r}")
            check("dtls_connection", True, h is not None and h.get("transport") == "dtls")
            if h is None:
                continue
            whole = [c for c in msgs["ch"] if c["ja3_full"]]
            if whole:
                check("dtls_sni", whole[0]["sni"] or None, h["sni"])
                check("dtls_ja3", whole[0]["ja3_full"] or None, h["ja3_full"])
            want_ja4 = vectors.get((capture, t[0], t[1]))
            if want_ja4:
                check("dtls_ja4", True, h["ja4"] in want_ja4)
            shs = [m for m in msgs.get("2", []) if "hello_retry_request" not in m["hs_name"]]
            if shs:
                sh = shs[-1]
                want_v = version_name(sh["supported_versions"] or sh["hs_version"])
                check("dtls_version", want_v, h["tls_version"])
                check("dtls_ja3s", sh["ja3s_full"] or None, h["ja3s_full"])
            certs = [m for m in msgs.get("11", []) if m["cert_sha256"]]
            if certs:
                want = [c for c in certs[0]["cert_sha256"].split(",") if c]
                check("dtls_leaf", want[0], h["leaf_sha256"])
                check("dtls_certificates", want, h["cert_chain_sha256"])


def main():
    binary, root = sys.argv[1], sys.argv[2]
    verbose = "--verbose" in sys.argv
    rows = collections.defaultdict(list)
    dtls_rows = collections.defaultdict(list)
    with open(os.path.join(root, "expected-tshark.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["proto"] == "tls" and r["tcp_stream"] != "":
                rows[r["file"]].append(r)
            elif r["proto"] == "dtls":
                dtls_rows[r["file"]].append(r)
    agree = collections.Counter()
    total = collections.Counter()
    diffs = []
    for capture in sorted(rows):
        path = os.path.join(root, capture)
        if not os.path.exists(path):
            continue
        ours = scan(binary, path)
        # tshark, per connection (4-tuple, n-th ClientHello on it)
        conns = collections.defaultdict(lambda: collections.defaultdict(list))
        seen_ch = collections.Counter()
        retry = set()
        for r in rows[capture]:
            t = tuples(r)
            rev = (t[2], t[3], t[0], t[1])
            if "hello_retry_request" in r["hs_name"]:
                retry.add(rev)
                continue
            if r["hs_type"] == "1":
                if t in retry:
                    # The second ClientHello of a HelloRetryRequest exchange.
                    retry.discard(t)
                    continue
                n = seen_ch[t]
                seen_ch[t] += 1
                conns[(t, n)]["ch"].append(r)
            elif r["hs_type"] in ("2", "11"):
                n = max(seen_ch[rev] - 1, 0)
                conns[(rev, n)][r["hs_type"]].append(r)
        for (t, n), msgs in sorted(conns.items()):
            mine = ours.get(t, [])
            h = mine[n] if n < len(mine) else None
            # A HelloRetryRequest makes tshark see two ClientHellos on one connection.
            if h is None and n > 0 and len(mine) == n:
                continue
            label = f"{capture} {t[0]}:{t[1]}->{t[2]}:{t[3]}#{n}"
            def check(field, want, got):
                total[field] += 1
                if want == got:
                    agree[field] += 1
                else:
                    diffs.append(f"{label} {field}: tshark {want!r} certsift {got!r}")
            if msgs["ch"]:
                ch = msgs["ch"][0]
                check("connection", True, h is not None)
                if h is None:
                    continue
                check("sni", ch["sni"] or None, h["sni"])
                check("ja3", ch["ja3_full"] or None, h["ja3_full"])
            if h is None:
                continue
            if msgs["2"]:
                sh = msgs["2"][-1]
                want_v = version_name(sh["supported_versions"] or sh["hs_version"])
                check("version", want_v, h["tls_version"])
                check("ja3s", sh["ja3s_full"] or None, h["ja3s_full"])
            if msgs["11"]:
                cert = msgs["11"][0]
                want = [c for c in cert["cert_sha256"].split(",") if c]
                check("certificates", want, h["cert_chain_sha256"])
    compare_dtls(binary, root, dtls_rows, ja4_vectors(root), agree, total, diffs)
    for field in ["connection", "sni", "ja3", "version", "ja3s", "certificates",
                  "dtls_connection", "dtls_sni", "dtls_ja3", "dtls_ja4", "dtls_version",
                  "dtls_ja3s", "dtls_leaf", "dtls_certificates"]:
        if total[field]:
            print(f"{field:13} {agree[field]:5} / {total[field]:5} agree")
    print(f"{len(diffs)} differences")
    for d in diffs if verbose else diffs[:40]:
        print("  " + d)


if __name__ == "__main__":
    main()
