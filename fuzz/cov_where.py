#!/usr/bin/env python3
"""Where does a fuzz target's coverage lie, and where did it grow?

libFuzzer's "cov" is a count of edges; this names them. It reads the
control file of a `-merge=1` run (its `COV <input> <pc-index>...` lines),
turns each PC-table index into a code address (the `__sancov_pcs` section,
whose entries a PIE binary only holds as relocations) and asks
llvm-symbolizer for the source file. With one control file it prints the
covered edges per crate or source file; with two (an older corpus, then a
newer one) it prints the edges only the newer one covers.

    BIN=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/scan
    $BIN -merge=1 -merge_control_file=old.cf "$(mktemp -d)" OLD_CORPUS
    $BIN -merge=1 -merge_control_file=new.cf "$(mktemp -d)" NEW_CORPUS
    python3 cov_where.py $BIN old.cf new.cf [--files]

Needs readelf and llvm-symbolizer (binutils and the llvm package).
"""
import collections
import os
import re
import signal
import subprocess
import sys


def covered(control_file):
    pcs = set()
    with open(control_file) as f:
        for line in f:
            if line.startswith("COV "):
                pcs.update(int(x) for x in line.split()[2:])
    return pcs


def pc_table(binary):
    """Index of each PC-table entry -> code address (before load)."""
    sections = subprocess.run(
        ["readelf", "-SW", binary], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"__sancov_pcs\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
    if not m:
        sys.exit(f"{binary}: no __sancov_pcs section (not a libFuzzer build?)")
    start, size = int(m.group(1), 16), int(m.group(2), 16)
    relocs = subprocess.run(
        ["readelf", "-rW", binary], capture_output=True, text=True, check=True
    ).stdout
    table = {}
    for line in relocs.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "R_X86_64_RELATIVE":
            off = int(parts[0], 16)
            # Each entry is (pc, flags): 16 bytes, the pc first.
            if start <= off < start + size and (off - start) % 16 == 0:
                table[(off - start) // 16] = int(parts[3], 16)
    return table


def source_files(binary, addrs):
    """Address -> source file the edge belongs to: the innermost inlined
    frame that is not the standard library (an iterator adapter inlined into
    a parser counts for the parser)."""
    query = "".join(f"0x{a:x}\n" for a in addrs)
    out = subprocess.run(
        ["llvm-symbolizer", "--obj", binary, "--inlining=true", "--functions=none"],
        input=query, capture_output=True, text=True, check=True,
    ).stdout
    files = []
    # One blank-line-separated block per address, in query order; only
    # the text after the last block is empty.
    for chunk in out.split("\n\n")[: len(addrs)]:
        frames = [f.rsplit(":", 2)[0] for f in chunk.split("\n") if f.strip()]
        own = [f for f in frames if crate_of(f) != "std"]
        files.append(own[0] if own else frames[0] if frames else "?")
    return dict(zip(addrs, files))


REPO_SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src") + "/"


def crate_of(path):
    m = re.search(r"/registry/src/[^/]+/([^/]+?)-\d+\.\d+[^/]*/", path)
    if m:
        return m.group(1)
    m = re.match(r"/rust/deps/([^/]+?)-\d+\.\d+[^/]*/", path)
    if m:
        # The standard library's own dependencies (its HashMap is hashbrown).
        return "std:" + m.group(1)
    if "/rustlib/" in path or path.startswith("/rustc/"):
        return "std"
    if path.startswith(REPO_SRC):
        return "certsift"
    return path.rsplit("/", 1)[-1] or "?"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    by_file = "--files" in sys.argv
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    binary, controls = args[0], args[1:]
    sets = [covered(c) for c in controls]
    pcs = sets[-1] - sets[0] if len(sets) == 2 else sets[0]
    table = pc_table(binary)
    addrs = sorted(table[i] for i in pcs if i in table)
    files = source_files(binary, addrs)
    counts = collections.Counter()
    for a in addrs:
        path = files.get(a, "?")
        counts[path if by_file else crate_of(path)] += 1
    what = "edges only the newer corpus covers" if len(sets) == 2 else "edges covered"
    print(f"{len(pcs)} {what}")
    # hashbrown's probe sequences depend on each map's random keys: those
    # edges come and go between two replays of one corpus.
    noise = sum(1 for a in addrs if crate_of(files.get(a, "?")) == "std:hashbrown")
    if noise and not by_file:
        print(f"{len(pcs) - noise} of them outside std:hashbrown")
    for name, n in counts.most_common(40):
        print(f"{n:7d}  {name}")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` is fine
    main()
