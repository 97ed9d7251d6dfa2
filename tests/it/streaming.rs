//! Issue 28: a scan streams its rows to disk as connections end and judges
//! them from there, so its memory does not grow with the connections. The
//! tables must be those of a run that holds everything in memory: the
//! corpus is scanned with the analysis in memory and with every connection
//! judged in groups from spill files (`--max-in-memory 0`), in both
//! layouts and both formats, and every table is compared row for row
//! (handshakes after sorting by flow id: they are written in the order the
//! connections ended).

use std::path::{Path, PathBuf};

use certsift::output::{read_scan, Scan};

use crate::scale::scan_to;
use crate::testdata;

/// The whole corpus, trust anchors and key logs given.
fn scan(out: &Path, extra: &[&str]) {
    scan_to(out, &[testdata().join("captures")], extra);
}

fn read(dir: &Path) -> Scan {
    let mut s = read_scan(dir).unwrap();
    s.handshakes.sort_by(|a, b| a.flow_id.cmp(&b.flow_id));
    s
}

fn assert_same(what: &str, a: &Scan, b: &Scan) {
    assert_eq!(a.handshakes.len(), b.handshakes.len(), "{what}: handshakes");
    for (x, y) in a.handshakes.iter().zip(&b.handshakes) {
        assert_eq!(x, y, "{what}: handshake {}", x.flow_id);
    }
    assert_eq!(a.certificates, b.certificates, "{what}: certificates");
    assert_eq!(a.findings, b.findings, "{what}: findings");
    assert_eq!(a.incidents, b.incidents, "{what}: incidents");
    assert_eq!(a.files, b.files, "{what}: files");
}

#[test]
fn issue_28_streamed_and_grouped_scans_equal_the_in_memory_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| -> PathBuf { tmp.path().join(name) };
    scan(&dir("memory"), &[]);
    let memory = read(&dir("memory"));
    assert!(memory.handshakes.len() > 500, "{}", memory.handshakes.len());
    assert!(memory.findings.len() > 50, "{}", memory.findings.len());
    assert!(!memory.incidents.is_empty());
    for (name, extra) in [
        ("grouped", vec!["--max-in-memory", "0"]),
        (
            "grouped-jsonl",
            vec!["--max-in-memory", "1", "--format", "jsonl"],
        ),
        (
            "partitioned",
            vec!["--max-in-memory", "0", "--partition", "--sensor", "s1"],
        ),
        (
            "partitioned-jsonl",
            vec!["--partition", "--sensor", "s1", "--format", "jsonl"],
        ),
    ] {
        scan(&dir(name), &extra);
        assert_same(name, &memory, &read(&dir(name)));
    }
    // no spill folder or temporary file is left behind
    for name in ["memory", "grouped", "partitioned-jsonl"] {
        for e in std::fs::read_dir(dir(name)).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !n.starts_with('.') && !n.ends_with(".tmp"),
                "{name}: {n} left"
            );
        }
    }
}
