//! Scale-out (issue 11): the corpus scanned in shards and merged with
//! `certsift analyze` gives the findings of one scan over all of it, and
//! scripts/rules.sql over the same shards (DuckDB) gives the same findings
//! for the kinds it covers; a partitioned scan is read back by certsift and
//! by DuckDB, which prunes partitions by folder name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use certsift::output::read_scan;

use crate::{certsift, testdata};

/// Every capture of the corpus, sorted.
fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata().join("captures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// The corpus dealt round-robin into `n` shards, a rotated series (names
/// equal but for digits: the scanner's rule) kept in one shard, as a batch
/// system must keep them.
fn shards(n: usize) -> Vec<Vec<PathBuf>> {
    let mut series: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for p in corpus() {
        let name = p.file_name().unwrap().to_str().unwrap();
        let key: String = name.chars().filter(|c| !c.is_ascii_digit()).collect();
        series.entry(key).or_default().push(p);
    }
    let mut out = vec![Vec::new(); n];
    for (i, files) in series.into_values().enumerate() {
        out[i % n].extend(files);
    }
    out
}

/// Scans `inputs` into `out` with the corpus' trust anchors and key logs;
/// requires exit 0 or 3 and returns it.
pub(crate) fn scan_to(out: &Path, inputs: &[PathBuf], extra: &[&str]) -> i32 {
    let anchors = testdata().join("pki/trust-anchors.pem");
    let keylogs = testdata().join("keylogs");
    let mut args: Vec<String> = vec![
        "scan".into(),
        "-q".into(),
        "-o".into(),
        out.to_str().unwrap().into(),
        "--trust-store".into(),
        anchors.to_str().unwrap().into(),
        "--keylog".into(),
        keylogs.to_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(inputs.iter().map(|p| p.to_str().unwrap().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = certsift(&refs);
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.status.code().unwrap()
}

/// Runs the binary and requires exit code 0.
fn certsift_ok(args: &[&str]) -> std::process::Output {
    let o = certsift(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Compared whole, except `handshakes.file`: the capture's path as given on
/// the command line, which differs between the runs by construction (the
/// flow id hashes the file's name, not its path, so it does not). Merged
/// handshakes are in shard order, not the single scan's order, so both are
/// sorted by flow id first; findings and certificates are compared in the
/// order each run wrote them.
#[test]
fn sharded_scans_merged_by_analyze_equal_one_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let all = corpus();
    assert!(all.len() >= 20, "{all:?}");
    let one_code = scan_to(&one, &all, &[]);
    let parts = shards(3);
    let mut dirs = Vec::new();
    let mut codes = Vec::new();
    for (i, files) in parts.iter().enumerate() {
        let dir = tmp.path().join(format!("shard-{i}"));
        // one shard partitioned: analyze reads both layouts
        let extra: &[&str] = if i == 0 {
            &["--partition", "--sensor", "shard-0"]
        } else {
            &[]
        };
        codes.push(scan_to(&dir, files, extra));
        dirs.push(dir.to_str().unwrap().to_string());
    }
    assert_eq!(one_code, codes.iter().copied().max().unwrap());
    assert!(tmp.path().join("shard-0/handshakes").is_dir());
    let merged = tmp.path().join("merged");
    let mut args = vec!["analyze"];
    args.extend(dirs.iter().map(String::as_str));
    // a shard given twice (a re-run job) changes nothing
    args.push(&dirs[1]);
    args.extend(["-o", merged.to_str().unwrap()]);
    let o = certsift_ok(&args);

    let a = read_scan(&one).unwrap();
    let b = read_scan(&merged).unwrap();
    assert!(a.findings.len() >= 20, "{}", a.findings.len());
    assert_eq!(a.findings, b.findings);
    let norm = |mut v: Vec<certsift::rows::HandshakeRow>| {
        for h in &mut v {
            h.file.clear();
        }
        v.sort_by(|x, y| x.flow_id.cmp(&y.flow_id));
        v
    };
    assert_eq!(norm(a.handshakes.clone()), norm(b.handshakes));
    assert_eq!(a.certificates, b.certificates);
    assert_eq!(a.files.len(), b.files.len());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("findings"), "{stdout}");

    // too many connections for memory: judged in groups from spill files,
    // the same findings, and no spill file left behind
    let grouped = tmp.path().join("grouped");
    let mut args = vec!["analyze", "--max-in-memory", "5"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["-o", grouped.to_str().unwrap()]);
    let o = certsift_ok(&args);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("groups"), "{stdout}");
    let c = read_scan(&grouped).unwrap();
    assert_eq!(a.findings, c.findings);
    assert_eq!(norm(a.handshakes), norm(c.handshakes));
    let left: Vec<_> = std::fs::read_dir(&grouped)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // scripts/rules.sql on the same shards (DuckDB) agrees with analyze on
    // every kind it covers: kind, severity and names of each finding
    if !crate::duckdb::have_duckdb() {
        eprintln!("skipped the rules.sql half: python3 has no duckdb module");
        return;
    }
    let sql = crate::duckdb::rules_sql(&dirs);
    let rust = crate::duckdb::sql_kinds(&b.findings);
    assert!(rust.len() >= 15, "{rust:?}");
    assert_eq!(sql, rust);
}

/// The rows of a DuckDB query as JSON strings, or the error's first line.
fn duckdb(sql: &str) -> Result<serde_json::Value, String> {
    let script = r#"
import duckdb, json, sys
try:
    rows = duckdb.sql(sys.argv[1]).fetchall()
    print(json.dumps([[str(v) for v in r] for r in rows]))
except Exception as e:
    print(json.dumps({"error": str(e).splitlines()[0]}))
"#;
    let o = Command::new("python3")
        .args(["-c", script, sql])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    match v.get("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(v),
    }
}

#[test]
fn partitioned_scan_is_read_back_and_pruned_by_duckdb() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    let inputs = [
        crate::capture("s02_transparent_mitm_mixed.pcap"),
        // the one corpus capture of another day
        crate::capture("sv_tcp_fastopen_syn_data.pcap"),
    ];
    scan_to(&out, &inputs, &["--partition", "--sensor", "dmz-1"]);
    let day_old = out.join("handshakes/capture_date=2023-02-25/sensor=dmz-1/part-0.parquet");
    let day_new = out.join("handshakes/capture_date=2026-11-28/sensor=dmz-1/part-0.parquet");
    for f in [
        &day_old,
        &day_new,
        &out.join("certificates/sensor=dmz-1/part-0.parquet"),
        &out.join("findings/sensor=dmz-1/part-0.parquet"),
        &out.join("files/sensor=dmz-1/part-0.parquet"),
    ] {
        assert!(f.is_file(), "{}", f.display());
    }
    assert!(!out.join("handshakes.parquet").exists());
    // certsift reads it as it reads one file per table
    let single = tmp.path().join("s");
    scan_to(&single, &inputs, &[]);
    let (p, s) = (read_scan(&out).unwrap(), read_scan(&single).unwrap());
    assert_eq!(p.findings, s.findings);
    assert_eq!(p.handshakes.len(), s.handshakes.len());
    assert_eq!(p.certificates, s.certificates);
    let o = certsift(&["summary", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    // rescanning in the other layout leaves one copy of each table
    scan_to(&out, &inputs, &[]);
    assert!(out.join("handshakes.parquet").is_file());
    assert!(!out.join("handshakes").exists());
    scan_to(&out, &inputs, &["--partition", "--sensor", "dmz-1"]);
    assert!(!out.join("handshakes.parquet").exists());
    let leftovers: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| {
            let rel = p.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
            rel.contains(".tmp") || rel.contains(".old")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    if !crate::duckdb::have_duckdb() {
        eprintln!("skipped the DuckDB half: python3 has no duckdb module");
        return;
    }
    let glob = format!("{}/handshakes/**/*.parquet", out.display());
    let per_part = duckdb(&format!(
        "SELECT capture_date, sensor, count(*) FROM read_parquet('{glob}', hive_partitioning=true) \
         GROUP BY ALL ORDER BY ALL"
    ))
    .unwrap();
    assert_eq!(
        per_part,
        serde_json::json!([
            ["2023-02-25", "dmz-1", "1"],
            ["2026-11-28", "dmz-1", (s.handshakes.len() - 1).to_string()]
        ])
    );
    // every row sits under its own day
    let misplaced = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true) \
         WHERE strftime(ts_start AT TIME ZONE 'UTC', '%Y-%m-%d') <> CAST(capture_date AS VARCHAR)"
    ))
    .unwrap();
    assert_eq!(misplaced, serde_json::json!([["0"]]));
    // pruning: with the other day's file made unreadable, a query for one
    // day still answers, because that file is never opened
    std::fs::write(&day_new, b"not parquet").unwrap();
    let pruned = duckdb(&format!(
        "SELECT sni, sensor FROM read_parquet('{glob}', hive_partitioning=true) \
         WHERE capture_date = DATE '2023-02-25' AND sensor = 'dmz-1'"
    ))
    .unwrap();
    assert_eq!(pruned, serde_json::json!([["icloud.com", "dmz-1"]]));
    let unpruned = duckdb(&format!(
        "SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true)"
    ));
    assert!(unpruned.is_err(), "{unpruned:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}
