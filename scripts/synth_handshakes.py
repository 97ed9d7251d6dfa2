#!/usr/bin/env python3
"""Synthesises large certsift scans from a real one, for measuring analyze.

    python3 scripts/synth_handshakes.py SCAN_DIR OUT_DIR --rows 10000000 --shards 4

Reads SCAN_DIR's handshakes and certificates (a scan of the corpus, say)
and writes OUT_DIR/shard-0 ... shard-(N-1), each a scan folder that
`certsift analyze` and scripts/rules.sql read. The real rows are replicated
into GROUPS copies of the corpus "world": in copy g every certificate hash,
key, issuer and server name gets the suffix g, so the detectors find the
corpus's findings once per copy instead of one giant finding; within a copy
each connection is repeated with a fresh flow id, one minute later each
time, until --rows rows exist. Server addresses get the suffix too (a
connection without SNI is judged under its server address), so they are
no longer addresses: the detectors only compare them. Needs only the duckdb Python package.
"""

import argparse
import math
import os

import duckdb

GROUPS = 1000


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scan")
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--groups", type=int, default=GROUPS)
    a = p.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    h = os.path.join(a.scan, "handshakes.parquet")
    c = os.path.join(a.scan, "certificates.parquet")
    base = con.sql(f"SELECT count(*) FROM '{h}'").fetchall()[0][0]
    reps = math.ceil(a.rows / (base * a.groups))
    print(f"{base} real rows x {a.groups} copies x {reps} repeats, cut to {a.rows}")
    # a hash renamed into copy g
    def tag(x):
        return f"CASE WHEN {x} IS NULL THEN NULL ELSE sha256({x} || ':' || CAST(g AS VARCHAR)) END"

    def name(x):
        return f"CASE WHEN {x} IS NULL THEN NULL ELSE 'c' || CAST(g AS VARCHAR) || '.' || {x} END"

    con.execute(
        f"""
        CREATE TEMP TABLE rows AS
        SELECT h.* REPLACE (
                 substr(sha256(h.flow_id || ':' || CAST(g AS VARCHAR) || ':' || CAST(r AS VARCHAR)), 1, 16) AS flow_id,
                 h.ts_start + to_minutes(r) AS ts_start,
                 h.ts_end + to_minutes(r) AS ts_end,
                 {name('h.sni')} AS sni,
                 {name('h.connect_target')} AS connect_target,
                 h.server_ip || '-c' || CAST(g AS VARCHAR) AS server_ip,
                 {tag('h.leaf_sha256')} AS leaf_sha256,
                 list_transform(h.cert_chain_sha256, lambda x: sha256(x || ':' || CAST(g AS VARCHAR))) AS cert_chain_sha256,
                 list_transform(h.client_chain_sha256, lambda x: sha256(x || ':' || CAST(g AS VARCHAR))) AS client_chain_sha256),
               (g * {reps} + r) % {a.shards} AS shard
        FROM '{h}' h, range({a.groups}) t1(g), range({reps}) t2(r)
        LIMIT {a.rows}
        """
    )
    con.execute(
        f"""
        CREATE TEMP TABLE certs AS
        SELECT c.* REPLACE (
                 sha256(c.sha256 || ':' || CAST(g AS VARCHAR)) AS sha256,
                 {tag('c.spki_sha256')} AS spki_sha256,
                 c.subject || ',OU=copy ' || CAST(g AS VARCHAR) AS subject,
                 c.issuer || ',OU=copy ' || CAST(g AS VARCHAR) AS issuer,
                 list_transform(c.san_dns, lambda x: 'c' || CAST(g AS VARCHAR) || '.' || x) AS san_dns,
                 {name('c.subject_cn')} AS subject_cn)
        FROM '{c}' c, range({a.groups}) t(g)
        """
    )
    for s in range(a.shards):
        d = os.path.join(a.out, f"shard-{s}")
        os.makedirs(d, exist_ok=True)
        con.execute(
            f"COPY (SELECT * EXCLUDE (shard) FROM rows WHERE shard = {s}) "
            f"TO '{d}/handshakes.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)"
        )
        # every shard carries every certificate, as real shards of one
        # network would (analyze merges them by hash)
        con.execute(f"COPY certs TO '{d}/certificates.parquet' (FORMAT parquet, COMPRESSION zstd)")
        con.execute(
            f"COPY (SELECT * FROM '{os.path.join(a.scan, 'findings.parquet')}' LIMIT 0) "
            f"TO '{d}/findings.parquet' (FORMAT parquet)"
        )
    n = con.sql("SELECT count(*) FROM rows").fetchall()[0][0]
    print(f"wrote {n} handshake rows in {a.shards} shards to {a.out}")


if __name__ == "__main__":
    main()
