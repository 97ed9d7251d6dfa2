#!/usr/bin/env python3
"""Lists the medium and high findings certsift raises on a folder of captures
that should hold none (ordinary traffic, nothing intercepted), scanning each
capture alone and then all of them together, as tests/it/benign.rs does for
testdata/captures/benign. Use it on captures that are not in the repository
(another project's test suite, a sensor's day of traffic) before trusting a
change to the analysis; every line it prints is an accusation to explain.

    python3 scripts/precision_check.py target/release/certsift DIR [--reviewed FILE]

With --reviewed (testdata/benign/reviewed.tsv's format: capture, kind, name,
severity, justification), findings listed there are counted but not printed.
Exit status 1 when an unexplained finding remains.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

EXTENSIONS = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".pcap.zst", ".pcapng.zst")


def captures(root):
    found = []
    for folder, _, files in os.walk(root):
        for f in files:
            if f.endswith(EXTENSIONS):
                found.append(os.path.join(folder, f))
    return sorted(found)


def serious(binary, inputs, out):
    """The medium and high findings of one scan of `inputs`."""
    subprocess.run(
        [binary, "scan", "-q", "--format", "jsonl", "-o", out, *inputs],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    path = os.path.join(out, "findings.jsonl")
    if not os.path.exists(path):
        return []
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["severity"] in ("medium", "high"):
                name = r.get("sni") or (r.get("names") or [""])[0]
                rows.append((r["kind"], name, r["severity"], r["summary"]))
    return rows


def reviewed(path):
    keys = set()
    if not path:
        return keys
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4:
                keys.add(tuple(parts[:4]))
    return keys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("folder")
    ap.add_argument("--reviewed")
    args = ap.parse_args()
    known = reviewed(args.reviewed)
    files = captures(args.folder)
    if not files:
        sys.exit(f"{args.folder}: no capture found")
    unexplained = 0
    explained = 0
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(os.path.relpath(f, args.folder), [f]) for f in files]
        runs.append(("*all*", files))
        for i, (label, inputs) in enumerate(runs):
            for kind, name, severity, summary in serious(
                args.binary, inputs, os.path.join(tmp, str(i))
            ):
                key = (os.path.basename(label) if label != "*all*" else label, kind, name, severity)
                if key in known:
                    explained += 1
                    continue
                unexplained += 1
                print("\t".join([label, kind, name, severity, summary]))
    print(
        f"{len(files)} captures: {unexplained} unexplained, {explained} reviewed "
        "medium/high findings",
        file=sys.stderr,
    )
    sys.exit(1 if unexplained else 0)


if __name__ == "__main__":
    main()
