//! The README's DuckDB queries, run as written (with `out/` pointing at a scan
//! of a testdata capture) through Python's duckdb, their results asserted;
//! and scripts/rules.sql (through scripts/rules_duckdb.py) compared with the
//! Rust detectors on the benign set's real traffic (`scale` compares it on
//! the corpus shards). Skipped, with a note, where python3 lacks duckdb (CI
//! installs it).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use certsift::rows::FindingRow;
use serde_json::Value;

use crate::scan;

/// The finding kinds scripts/rules.sql computes.
pub const SQL_KINDS: [&str; 7] = [
    "issuer_divergence",
    "issuer_rotation",
    "multiple_leaves_same_issuer",
    "key_reuse",
    "forging_issuer",
    "fresh_certificate",
    "client_scoped_view",
];

/// A finding as rules.sql and the Rust detectors are compared on it: kind,
/// severity and names (sorted).
pub type RuleFinding = (String, String, Vec<String>);

/// scripts/rules.sql run by DuckDB over these scan folders, read as one:
/// its findings, sorted. Its rows are one per (finding, name); a finding is
/// its (kind, severity, finding key).
pub fn rules_sql(scans: &[String]) -> Vec<RuleFinding> {
    let script = crate::repo().join("scripts/rules_duckdb.py");
    let o = Command::new("python3")
        .arg(script)
        .arg("--json")
        .args(scans)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut by_key: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        by_key
            .entry((s("kind"), s("severity"), s("key")))
            .or_default()
            .push(s("name"));
    }
    let mut sql: Vec<RuleFinding> = by_key
        .into_iter()
        .map(|((kind, severity, _), mut names)| {
            names.sort();
            names.dedup();
            (kind, severity, names)
        })
        .collect();
    sql.sort();
    sql
}

/// The Rust findings of the kinds rules.sql computes, as [`rules_sql`]
/// gives its own.
pub fn sql_kinds(findings: &[FindingRow]) -> Vec<RuleFinding> {
    let mut rust: Vec<RuleFinding> = findings
        .iter()
        .filter(|f| SQL_KINDS.contains(&f.kind.as_str()))
        .map(|f| (f.kind.to_string(), f.severity.to_string(), f.names.clone()))
        .collect();
    rust.sort();
    rust
}

/// The README's SQL statements, each with the comment line that names it.
fn readme_queries() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(crate::repo().join("README.md")).unwrap();
    let start = readme.find("## Querying with DuckDB").unwrap();
    let block = &readme[start..];
    let sql = &block[block.find("```sql").unwrap() + 6..];
    let sql = &sql[..sql.find("```").unwrap()];
    sql.split(';')
        .filter_map(|stmt| {
            let stmt = stmt.trim();
            let title = stmt.lines().next()?.strip_prefix("-- ")?.to_string();
            Some((title, stmt.to_string()))
        })
        .collect()
}

/// Whether python3 can import duckdb, for the tests that run SQL. Without
/// it they skip, unless `CERTSIFT_REQUIRE_DUCKDB=1` (set by `.ci/run`): then
/// a missing DuckDB fails the test instead of passing it silently.
pub fn have_duckdb() -> bool {
    let present = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !present && std::env::var_os("CERTSIFT_REQUIRE_DUCKDB").is_some_and(|v| v == "1") {
        panic!("CERTSIFT_REQUIRE_DUCKDB=1 but python3 cannot import duckdb");
    }
    present
}

#[test]
fn readme_queries_answer_on_a_corpus_scan() {
    if !have_duckdb() {
        eprintln!("skipped: python3 has no duckdb module (pip install duckdb)");
        return;
    }
    let (dir, out) = scan(&["s02_transparent_mitm_mixed.pcap"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let queries = readme_queries();
    assert_eq!(queries.len(), 5, "{queries:?}");
    let scan_dir = dir.path().to_str().unwrap();
    let script = r#"
import duckdb, json, sys
con = duckdb.connect()
out = {}
for title, sql in json.load(sys.stdin):
    rel = con.sql(sql)
    out[title] = [[str(v) if not isinstance(v, (int, float, bool, type(None), list)) else v for v in row] for row in rel.fetchall()]
print(json.dumps(out))
"#;
    let input: Vec<(String, String)> = queries
        .iter()
        .map(|(t, q)| (t.clone(), q.replace("'out/", &format!("'{scan_dir}/"))))
        .collect();
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let res = child.wait_with_output().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();

    // Every certificate seen for www.example-bank.test: the genuine one and
    // mitmproxy's forgery, the forgery untrusted.
    let rows = v["every certificate seen for a name"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "{rows:?}");
    let issuers: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r[3].as_str().unwrap()).collect();
    assert_eq!(issuers.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r[4].as_bool() == Some(!r[3].as_str().unwrap().contains("mitmproxy"))));

    let names: Vec<&str> = v["names with more than one issuer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["api.shop.test", "cdn.media.test", "www.example-bank.test"]
    );

    // bob-phone (192.0.2.11) was redirected to mitmproxy in phase 2: six
    // connections with its untrusted forgeries, all for want of a known issuer.
    let rows = v["all connections from one client that saw an untrusted chain"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(rows.iter().all(|r| r[3] == "unknown_issuer"), "{rows:?}");

    let scan = certsift::output::read_scan(dir.path()).unwrap();
    let total: i64 = v["findings over time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[2].as_i64().unwrap())
        .sum();
    assert_eq!(total as usize, scan.findings.len());

    // issue 27: one incident, mitmproxy's, joined to its 13 findings and
    // its 6 connections, 5 of them accepted.
    let rows = v["each incident with its evidence and the connections it intercepted"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r[1], "intercepted");
    assert!(r[2].as_str().unwrap().contains("mitmproxy"), "{r:?}");
    assert_eq!(r[3].as_i64(), Some(13), "{r:?}");
    assert_eq!(r[5].as_i64(), Some(6), "{r:?}");
    assert_eq!(r[6].as_i64(), Some(5), "{r:?}");
    let incident = &scan.incidents[0];
    assert_eq!(r[3].as_i64(), Some(incident.finding_ids.len() as i64));
    assert_eq!(r[5].as_i64(), Some(incident.connections));
}

#[test]
fn tables_rewritten_by_duckdb_with_snappy_read_back() {
    if !have_duckdb() {
        eprintln!("skipped: python3 has no duckdb module (pip install duckdb)");
        return;
    }
    let (dir, out) = scan(&["s02_transparent_mitm_mixed.pcap"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let copy = tempfile::tempdir().unwrap();
    let script = r#"
import duckdb, sys
src, dst = sys.argv[1], sys.argv[2]
for t in ["handshakes", "certificates", "findings", "incidents"]:
    duckdb.sql(f"COPY (SELECT * FROM '{src}/{t}.parquet') TO '{dst}/{t}.parquet' (FORMAT parquet, COMPRESSION snappy)")
"#;
    let res = Command::new("python3")
        .args([
            "-c",
            script,
            dir.path().to_str().unwrap(),
            copy.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let ours = certsift::output::read_scan(dir.path()).unwrap();
    let theirs = certsift::output::read_scan(copy.path()).unwrap();
    assert_eq!(ours.handshakes, theirs.handshakes);
    assert_eq!(ours.certificates, theirs.certificates);
    assert_eq!(ours.findings, theirs.findings);
    assert_eq!(ours.incidents, theirs.incidents);
}

/// rules.sql agrees with the Rust detectors on real public-internet traffic
/// too, not only on the synthetic corpus: every capture of the benign set in
/// one scan with the default Mozilla roots, as `benign` scans it. There
/// public CAs, lab servers' self-issued certificates, private PKIs and a
/// spoofed root key (CurveBall) take the precision branches the corpus
/// barely reaches. Only agreement is asserted, not particular verdicts:
/// the trust verdicts may change with the root store.
#[test]
fn rules_sql_agrees_with_analyze_on_the_benign_set_together() {
    if !have_duckdb() {
        eprintln!("skipped: python3 has no duckdb module (pip install duckdb)");
        return;
    }
    let mut captures: Vec<PathBuf> = std::fs::read_dir(crate::testdata().join("captures/benign"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    captures.sort();
    assert!(captures.len() >= 20, "{captures:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().expect("UTF-8 path").to_string();
    let mut args: Vec<&str> = vec!["scan", "-q", "-o", &out];
    args.extend(captures.iter().map(|p| p.to_str().expect("UTF-8 path")));
    let o = crate::certsift(&args);
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rust = sql_kinds(&certsift::output::read_scan(dir.path()).unwrap().findings);
    assert!(rust.len() >= 10, "{rust:?}");
    assert_eq!(rules_sql(&[out]), rust);
}
