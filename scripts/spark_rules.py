#!/usr/bin/env python3
"""Runs scripts/rules.sql on Spark: the same statements DuckDB runs.

Local mode (pip install pyspark; Java 17):

    python3 scripts/spark_rules.py --local SCAN_DIR... [--out DIR]

On a cluster, the scan folders on shared storage:

    spark-submit --master yarn --files scripts/rules.sql,testdata/inspection-products.tsv \\
      scripts/spark_rules.py --sql rules.sql --products inspection-products.tsv \\
      --out s3a://bucket/certsift/rule-findings s3a://bucket/certsift/scans/*

Each SCAN_DIR is a scan's output folder in either layout (one Parquet file
per table, or `scan --partition` folders, read recursively; the partition
columns are not needed). Prints one line per (finding, name) and, with
--out, writes them as Parquet.
"""

import argparse
import os
import re
import time

from pyspark.sql import SparkSession
from pyspark.errors import AnalysisException

HERE = os.path.dirname(os.path.abspath(__file__))
VIEW = re.compile(r"CREATE OR REPLACE TEMPORARY VIEW\s+(\w+)\s+AS\s+(.*)", re.S)


def statements(path):
    """The SQL file's statements, comments removed, split on semicolons."""
    with open(path, encoding="utf-8") as f:
        text = "\n".join(line.split("--", 1)[0] for line in f)
    return [s.strip() for s in text.split(";") if s.strip()]


def load(spark, scan, table):
    """One table of one scan folder: the single file, else its partitions."""
    try:
        return spark.read.parquet(f"{scan.rstrip('/')}/{table}.parquet")
    except AnalysisException:
        return (
            spark.read.option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.parquet")
            .parquet(f"{scan.rstrip('/')}/{table}")
        )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scans", nargs="+")
    p.add_argument("--sql", default=os.path.join(HERE, "rules.sql"))
    p.add_argument(
        "--products",
        default=os.path.join(HERE, "..", "testdata", "inspection-products.tsv"),
    )
    p.add_argument("--out", help="write the rule findings here as Parquet")
    p.add_argument("--local", action="store_true", help="run Spark in local mode")
    a = p.parse_args()
    b = SparkSession.builder.appName("certsift-rules")
    if a.local:
        # small inputs: a few shuffle partitions, not Spark's default 200
        b = (
            b.master("local[*]")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
        )
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # Constraint propagation through a union of two checkpointed views looks
    # up attributes the checkpoint renamed (key not found); the rules need
    # none of the constraints it infers.
    spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
    started = time.time()
    for table in ("handshakes", "certificates"):
        frames = [load(spark, s, table) for s in a.scans]
        df = frames[0]
        for f in frames[1:]:
            df = df.unionByName(f, allowMissingColumns=True)
        df.createOrReplaceTempView(table)
    (
        spark.read.option("sep", "\t")
        .option("header", "true")
        .option("comment", "#")
        .csv(a.products)
        .createOrReplaceTempView("inspection_products")
    )
    for s in statements(a.sql):
        # Spark inlines a view wherever it is named, and the rules name the
        # per-leaf views many times: the plan of the last view grows past
        # what a driver analyses in minutes or executes in a gigabyte.
        # Computing each view once and cutting its lineage, as the DuckDB
        # runner makes each a table, keeps every plan one statement deep.
        m = VIEW.match(s)
        if m:
            spark.sql(m.group(2)).localCheckpoint().createOrReplaceTempView(m.group(1))
        else:
            spark.sql(s)
    result = spark.sql(
        "SELECT kind, severity, finding_key, name FROM rule_findings "
        "ORDER BY kind, severity, finding_key, name"
    )
    if a.out:
        result.write.mode("overwrite").parquet(a.out)
    rows = result.collect()
    for r in rows:
        print(f"{r.kind:28} {r.severity:7} {r.name:32} {r.finding_key}")
    findings = {(r.kind, r.severity, r.finding_key) for r in rows}
    print(
        f"spark {spark.version}: {len(findings)} findings, {len(rows)} (finding, name) rows "
        f"in {time.time() - started:.1f} s"
    )
    spark.stop()


if __name__ == "__main__":
    main()
