#!/usr/bin/env python3
"""Runs scripts/rules.sql with DuckDB over certsift scan folders.

    python3 scripts/rules_duckdb.py SCAN_DIR... [--products TSV] [--json]

Each SCAN_DIR is a scan's output folder, in either layout (one Parquet file
per table, or `scan --partition` folders); several folders (shards) are read
as one table. Prints one line per (finding, name): kind, severity, the
finding's key and the name; `--json` prints JSON lines instead.
"""

import argparse
import json
import os
import sys

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
VIEW = "CREATE OR REPLACE TEMPORARY VIEW"
TABLE = "CREATE OR REPLACE TEMPORARY TABLE"


def table_files(scan, table):
    """The Parquet files of one table of a scan folder, in either layout."""
    single = os.path.join(scan, table + ".parquet")
    if os.path.isfile(single):
        return [single]
    found = []
    for root, dirs, files in os.walk(os.path.join(scan, table)):
        dirs[:] = sorted(d for d in dirs if "=" in d and not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files) if f.endswith(".parquet")]
    if not found:
        sys.exit(f"{scan}: no {table} table")
    return found


def statements(path):
    """The SQL file's statements, comments removed, split on semicolons."""
    with open(path, encoding="utf-8") as f:
        text = "\n".join(line.split("--", 1)[0] for line in f)
    return [s.strip() for s in text.split(";") if s.strip()]


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scans", nargs="+")
    p.add_argument("--sql", default=os.path.join(HERE, "rules.sql"))
    p.add_argument(
        "--products",
        default=os.path.join(HERE, "..", "testdata", "inspection-products.tsv"),
    )
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    con = duckdb.connect()
    # the one construct without a common spelling (see rules.sql)
    con.execute("CREATE MACRO explode(l) AS unnest(l)")
    for table in ("handshakes", "certificates"):
        files = [f for s in a.scans for f in table_files(s, table)]
        listed = "[" + ", ".join(quote(f) for f in files) + "]"
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM "
            f"read_parquet({listed}, union_by_name = true, hive_partitioning = false)"
        )
    con.execute(
        "CREATE VIEW inspection_products AS SELECT * FROM read_csv("
        f"{quote(a.products)}, delim = '\t', header = true, comment = '#', quote = '', "
        "all_varchar = true)"
    )
    for s in statements(a.sql):
        # DuckDB inlines a view wherever it is named, and the rules name the
        # per-leaf views many times: computing each once, as a temporary
        # table, is the same result in a fraction of the time.
        con.execute(s.replace(VIEW, TABLE, 1) if s.startswith(VIEW) else s)
    rows = con.sql(
        "SELECT kind, severity, finding_key, name FROM rule_findings ORDER BY ALL"
    ).fetchall()
    for kind, severity, key, name in rows:
        if a.json:
            print(json.dumps({"kind": kind, "severity": severity, "key": key, "name": name}))
        else:
            print(f"{kind:28} {severity:7} {name:32} {key}")


if __name__ == "__main__":
    main()
