#!/usr/bin/env python3
"""Carve certificates out of a grown corpus into inputs for the x509 target.

The whole-scan target reaches certificate code through real TLS Certificate
messages, and its corpus ends up holding thousands of mutated certificates
that the x509 target's 38 seeds never lead to. This finds, in every file of
the given folders, each DER SEQUENCE that looks like a certificate (a long
SEQUENCE whose first element is itself a long SEQUENCE, the TBSCertificate),
and writes each distinct one as an input, plus each run of certificates that
follow each other as in a Certificate message (3-byte length prefixes) as a
chain joined with the x509 target's marker.

    python3 carve_der.py OUT_DIR CORPUS_DIR...

The output is for a scratch corpus, not for committing: seeds stay small.
"""
import hashlib
import os
import sys

MARKER = b"\xff\x00CHAIN"
MAX_CHAIN = 8


def tlv_len(buf, i):
    """Length of the DER element at i (header included), or None."""
    if i + 2 > len(buf):
        return None
    first = buf[i + 1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 3 or i + 2 + n > len(buf):
        return None
    body = int.from_bytes(buf[i + 2 : i + 2 + n], "big")
    return 2 + n + body


def certificates(buf):
    """(offset, end) of each certificate-shaped SEQUENCE in buf."""
    found = []
    i = buf.find(b"\x30\x82")
    while 0 <= i:
        total = tlv_len(buf, i)
        if total and 200 <= total and i + total <= len(buf) and buf[i + 4] == 0x30:
            inner = tlv_len(buf, i + 4)
            if inner and 4 + inner < total:
                found.append((i, i + total))
        i = buf.find(b"\x30\x82", i + 1)
    return found


def chains(found):
    """Runs of certificates laid out as in a TLS Certificate message."""
    runs, run = [], []
    for start, end in found:
        if run and start == run[-1][1] + 3 and len(run) < MAX_CHAIN:
            run.append((start, end))
            continue
        if len(run) > 1:
            runs.append(run)
        run = [(start, end)]
    if len(run) > 1:
        runs.append(run)
    return runs


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seen = set()
    written = {"certificates": 0, "chains": 0}

    def emit(blob, kind):
        digest = hashlib.sha1(blob).hexdigest()
        if digest not in seen:
            seen.add(digest)
            with open(os.path.join(out, digest), "wb") as f:
                f.write(blob)
            written[kind] += 1

    for folder in sys.argv[2:]:
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as f:
                buf = f.read()
            found = certificates(buf)
            for start, end in found:
                emit(buf[start:end], "certificates")
            for run in chains(found):
                emit(MARKER.join(buf[s:e] for s, e in run), "chains")
    print(f"{written['certificates']} certificates, {written['chains']} chains -> {out}")


if __name__ == "__main__":
    main()
