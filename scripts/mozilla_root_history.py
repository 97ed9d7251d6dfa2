#!/usr/bin/env python3
"""Regenerates src/x509/mozilla_roots.tsv: when each of Mozilla's server-auth
roots was in Mozilla's root store.

Source: every release of the `certifi` package on PyPI. Each release ships
`certifi/cacert.pem`, Mozilla's root store (from NSS certdata.txt, roots
trusted for server authentication only) as of the day it was cut. The other
PEM files some releases carry (weak.pem, old_root.pem) hold roots that
Mozilla no longer trusted for TLS and are ignored.

Dating: releases named like 2017.11.5 carry their date. The early ones
(0.0.x, 1.0.x, 14.5.14) do not, so their date is the modification time of
cacert.pem inside the sdist tarball (the moment the file was written when
the release was built), which is what this script uses for them.

Intervals: for each distinct root (SHA-256 of its DER), each run of
consecutive snapshots holding it becomes one line: trusted_from is the date
of the first snapshot of the run, trusted_until the date of the first later
snapshot without it (exclusive). A root in the oldest snapshot gets an empty
trusted_from: trusted since before the history begins. A root in the newest
snapshot gets an empty trusted_until: still trusted. A root that leaves and
returns gets one line per run.

DISTRUST_AFTER below adds what certifi cannot say: Mozilla's "distrust for
TLS after" dates, where a root stays in the store but leaves whose notBefore
is after the date are not trusted. Each entry names its public source and
matches roots by SHA-256 (taken from the snapshots), never by name.

Usage:
    python3 scripts/mozilla_root_history.py [--cache DIR] [--out FILE]

Needs pip (for `pip index versions` and `pip download`) and the openssl
command (for subject names). Downloads are cached in --cache (default
~/.cache/certsift/certifi), outside the repository.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# Mozilla's distrust-after dates that certifi's cacert.pem does not carry.
# distrust_after D: a leaf whose notBefore is after D (23:59:59 UTC) does
# not chain to these roots; older leaves still do until the root leaves the
# store (then certifi's removal date applies).
DISTRUST_AFTER = [
    {
        # Mozilla Security Blog, 2016-10-24, "Distrust of New WoSign and
        # StartCom Certificates": certificates chaining to these roots with a
        # notBefore after October 21, 2016 are not trusted from Firefox 51
        # on (implemented in Firefox code, not certdata.txt; a whitelist of
        # popular domains kept working, not modelled here). The roots left
        # NSS later (certifi shows when).
        "name": "StartCom and WoSign",
        "distrust_after": "2016-10-21",
        "sha256": [
            # StartCom Certification Authority (SHA-1 and SHA-256 signed)
            "c766a9bef2d4071c863a31aa4920e813b2d198608cb7b7cfe21143b836df09ea",
            "e17890ee09a3fbf4f48b9c414a17d637b7a50647e9bc752322727fcc1742a911",
            # StartCom Certification Authority G2
            "c7ba6567de93a798ae1faa791e712d378fae1f93c4397fea441bb7cbe6fd5995",
            # Certification Authority of WoSign, ... G2, CA WoSign ECC Root, CA 沃通根证书
            "4b22d5a6aec99f3cdb79aa5ec06838479cd5ecba7164f7f22dc1d65f63d85708",
            "d487a56f83b07482e85e963394c1ecc2c9e51d0903ee946b02c301581ed99e16",
            "8b45da1c06f791eb0cabf26be588f5fb23165c2e614bf885562d0dce50b29b02",
            "d6f034bd94aa233f0297eca4245b283973e447aa590f310c77f48fdf83112254",
        ],
    },
    {
        # Mozilla Security Blog, 2015-04-02, "Distrusting New CNNIC
        # Certificates": no certificate issued by CNNIC's roots with a
        # notBefore on or after 1 April 2015 is trusted (Firefox 37, in
        # code, with a whitelist of older certificates).
        "name": "CNNIC",
        "distrust_after": "2015-03-31",
        "sha256": [
            # CNNIC ROOT
            "e28393773da845a679f2080cc7fb44a3b7a1c3792cb7eb7729fdcb6a8d99aea7",
            # China Internet Network Information Center EV Certificates Root
            "1c01c6f4dbb2fefc22558b2bca32563f49844acfc32b7be4b0ff599f9e8c7af7",
        ],
    },
    {
        # Mozilla dev-security-policy, 2024-07-31, "Mozilla's Decision on
        # Entrust's Root CA Certificates used for TLS": a TLS distrust-after
        # date (CKA_NSS_SERVER_DISTRUST_AFTER) of November 30, 2024 on
        # Entrust's and AffirmTrust's roots.
        "name": "Entrust",
        "distrust_after": "2024-11-30",
        "sha256": [
            # Entrust Root Certification Authority, - EC1, - G2, - G4
            "73c176434f1bc6d5adf45b0e76e727287c8de57616c1e6e6141a2b2cbc7d8e4c",
            "02ed0eb28c14da45165c566791700d6451d7fb56f0b2ab1d3b8eb070e56edff5",
            "43df5774b03e7fef5fe40d931a7bedf1bb2e6b42738c4e6d3841103d3aa7f339",
            "db3517d1f6732a2d5ab97c533ec70779ee3270a62fb4ac4238372460e6f01e88",
            # Entrust.net Certification Authority (2048), both encodings
            "6dc47172e01cbcb0bf62580d895fe2b8ac9ad4f873801e0c10b9c837d21eb177",
            "d1c339ea2784eb870f934fc5634e4aa9ad5505016401f26465d37a574663359f",
            # AffirmTrust Commercial, Networking, Premium, Premium ECC
            "0376ab1d54c5f9803ce4b2e201a0ee7eef7b57b636e8a93c9b8d4860c96f5fa7",
            "0a81ec5a929777f145904af38d5d509f66b5e2c58fcdb531058b0e17f3f0b41b",
            "70a73f7f376b60074248904534b11482d5bf0e698ecc498df52577ebf2e93b9a",
            "bd71fdf6da97e4cf62d1647add2581b07d79adf8397eb4ecba9c5e8488821423",
        ],
    },
]
# Left out on purpose:
# - Camerfirma (Chambers of Commerce Root - 2008, Global Chambersign Root -
#   2008): Mozilla turned their Websites trust bit off in Firefox 88
#   (dev-security-policy, 2021), so they simply leave cacert.pem and
#   certifi's removal date says it.
# - Symantec (VeriSign, GeoTrust, thawte, RapidSSL roots): Firefox 60
#   distrusted leaves with a notBefore before 2016-06-01 and Firefox 63 all
#   of them, in code, except chains through Symantec-issued intermediates
#   run by Apple and Google. A per-root date cannot say "before", nor spare
#   those intermediates: modelling it would call genuine Google and Apple
#   chains of 2018-2020 untrusted. Their trust ends at certifi's removal
#   dates instead, later than Firefox's.
# - TrustCor (distrust-after 2022-11-30 in NSS, then removed): not
#   confirmed from a public source while writing this table, so only
#   certifi's removal date applies.

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "x509" / "mozilla_roots.tsv"
PEM_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S
)


def versions() -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "certifi"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    m = re.search(r"Available versions:\s*(.+)", out)
    if not m:
        sys.exit("pip index versions certifi: no version list")
    return [v.strip() for v in m.group(1).split(",") if v.strip()]


def version_key(v: str) -> tuple:
    parts = []
    for p in v.split("."):
        m = re.fullmatch(r"(\d+)|post(\d+)", p)
        if not m:
            sys.exit(f"unexpected certifi version {v}")
        parts.append((0, int(m.group(1))) if m.group(1) else (1, int(m.group(2))))
    return tuple(parts)


def is_dated(v: str) -> bool:
    return int(v.split(".")[0]) >= 2000


def download(v: str, cache: Path) -> Path:
    """The cached archive of release v: the wheel when the version carries
    its date, else the sdist (whose tar member mtimes date it)."""
    d = cache / v
    found = sorted(d.glob("certifi-*")) if d.exists() else []
    if found:
        return found[0]
    d.mkdir(parents=True, exist_ok=True)
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(d)]
    attempts = [["--no-binary", ":all:"]]
    if is_dated(v):
        attempts.insert(0, ["--only-binary", ":all:"])
    for extra in attempts:
        r = subprocess.run(base + extra + [f"certifi=={v}"], capture_output=True)
        found = sorted(d.glob("certifi-*"))
        if r.returncode == 0 and found:
            return found[0]
    sys.exit(f"certifi {v}: download failed")


def is_cacert(member: str) -> bool:
    """certifi/cacert.pem; the first releases kept it at the sdist's top."""
    parts = member.split("/")
    return parts[-1] == "cacert.pem" and (
        parts[-2:-1] == ["certifi"] or (len(parts) == 2 and parts[0].startswith("certifi-"))
    )


def cacert(archive: Path) -> tuple[bytes, dt.date | None]:
    """cacert.pem's bytes, and its mtime when the archive is a tarball."""
    name = archive.name
    if name.endswith(".whl") or name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for n in sorted(z.namelist(), key=len):
                if is_cacert(n):
                    return z.read(n), None
    else:
        with tarfile.open(archive) as t:
            for m in sorted(t.getmembers(), key=lambda m: -len(m.name)):
                if is_cacert(m.name):
                    f = t.extractfile(m)
                    if f is None:
                        break
                    when = dt.datetime.fromtimestamp(m.mtime, dt.timezone.utc).date()
                    return f.read(), when
    sys.exit(f"{archive.name}: no certifi/cacert.pem")


def certificates(pem: bytes) -> list[bytes]:
    return [base64.b64decode(b"".join(m.group(1).split())) for m in PEM_RE.finditer(pem)]


def subject(der: bytes) -> str:
    r = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"],
        input=der,
        capture_output=True,
        check=True,
    )
    text = r.stdout.decode("utf-8", "replace").strip()
    return text.removeprefix("subject=").strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "certsift" / "certifi")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    vs = sorted(versions(), key=version_key)
    snapshots: list[tuple[str, dt.date, set[str]]] = []
    ders: dict[str, bytes] = {}
    for v in vs:
        archive = download(v, args.cache)
        pem, mtime = cacert(archive)
        if is_dated(v):
            y, m, d = (int(x) for x in v.split(".")[:3])
            when = dt.date(y, m, d)
        elif mtime is not None:
            when = mtime
        else:
            sys.exit(f"certifi {v}: undated wheel; need the sdist")
        roots = set()
        for der in certificates(pem):
            h = hashlib.sha256(der).hexdigest()
            ders[h] = der
            roots.add(h)
        if snapshots and when < snapshots[-1][1]:
            sys.exit(f"certifi {v} dated {when}, before the release before it")
        print(f"{v:>18} {when} {len(roots):4} roots", file=sys.stderr)
        snapshots.append((v, when, roots))

    # Runs of consecutive snapshots per root.
    lines = []
    for h in ders:
        present = [h in s[2] for s in snapshots]
        i = 0
        while i < len(snapshots):
            if not present[i]:
                i += 1
                continue
            j = i
            while j < len(snapshots) and present[j]:
                j += 1
            start = "" if i == 0 else snapshots[i][1].isoformat()
            end = "" if j == len(snapshots) else snapshots[j][1].isoformat()
            if start == "" or end == "" or start < end:
                lines.append((h, start, end))
            i = j

    subjects = {h: subject(der) for h, der in ders.items()}
    distrust: dict[str, str] = {}
    for entry in DISTRUST_AFTER:
        for h in entry["sha256"]:
            if h not in subjects:
                sys.exit(f"{entry['name']}: {h} is in no snapshot")
            print(f"distrust after {entry['distrust_after']}: {subjects[h]}", file=sys.stderr)
            distrust[h] = entry["distrust_after"]

    first, last = snapshots[0], snapshots[-1]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    header = [
        "# Mozilla's root store over time: roots trusted for TLS server authentication.",
        f"# Source: cacert.pem of every release of the certifi package on PyPI, versions {first[0]} ({first[1]})",
        f"# to {last[0]} ({last[1]}), {len(snapshots)} snapshots; generated on {today} by",
        "#   python3 scripts/mozilla_root_history.py",
        "# The certificates are Mozilla's root store (NSS certdata.txt), under the Mozilla Public License 2.0.",
        "# Undated early releases (0.0.x, 1.0.x, 14.5.14) are dated by the mtime of cacert.pem in their sdist.",
        "# One line per interval in which a root was in the store. trusted_from empty: in the oldest",
        "# snapshot (trusted since before the history begins); trusted_until (exclusive) empty: in the",
        "# newest. distrust_after: leaves with a notBefore after that day are not trusted (Mozilla",
        "# decisions certifi does not carry; sources in the script). The snapshot dates follow, so a",
        "# reader can tell when a root was last seen missing before it appeared.",
        "# snapshots: " + " ".join(sorted({s[1].isoformat() for s in snapshots})),
        "# sha256\ttrusted_from\ttrusted_until\tdistrust_after\tsubject\tder_base64",
    ]
    body = []
    for h, start, end in sorted(lines, key=lambda x: (x[1] or "0", x[0], x[2])):
        subj = subjects[h].replace("\t", " ")
        b64 = base64.b64encode(ders[h]).decode()
        body.append("\t".join([h, start, end, distrust.get(h, ""), subj, b64]))
    args.out.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(body)} intervals, {len(ders)} roots", file=sys.stderr)


if __name__ == "__main__":
    main()
