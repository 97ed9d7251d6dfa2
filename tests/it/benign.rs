//! Precision on benign real traffic: the peer projects' captures of ordinary
//! public-internet traffic in `testdata/captures/benign` (testdata/README.md
//! gives each one's origin and licence), scanned with the default Mozilla
//! roots as a user would, each alone and all together.
//!
//! In: those captures and `testdata/benign/reviewed.tsv`, the medium and high
//! findings a reviewer checked and justified. Out: a failure listing every
//! medium or high finding (an accusation of interception) the list does not
//! explain, as lines ready to paste into the list once checked, every
//! reviewed line that no longer matches a finding, and every reviewed line
//! without a justification; and a failure for any interception incident on
//! a capture scanned alone, but for the CVE-2020-0601 ("curveball")
//! captures, which are a real attack. Leaves out: low and info findings, which accuse
//! nobody; the handshakes themselves (the golden and corpus tests check
//! those).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use certsift::output::Format;
use certsift::pipeline::{scan, Config};
use certsift::report::Report;
use certsift::rows::{FindingRow, IncidentRow};

use crate::testdata;
use certsift::rows::Severity;

/// The capture column of reviewed lines about the scan of every capture
/// together.
const ALL: &str = "*all*";

/// One line of reviewed.tsv.
#[derive(Debug)]
struct Reviewed {
    line: usize,
    capture: String,
    kind: String,
    name: String,
    severity: String,
    justification: String,
}

/// A medium or high finding of one scan.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Accusation {
    capture: String,
    kind: String,
    name: String,
    severity: String,
    summary: String,
}

impl Accusation {
    fn of(capture: &str, f: &FindingRow) -> Accusation {
        let name = f
            .sni
            .clone()
            .or_else(|| f.names.first().cloned())
            .unwrap_or_default();
        Accusation {
            capture: capture.to_string(),
            kind: f.kind.to_string(),
            name,
            severity: f.severity.to_string(),
            summary: f.summary.replace(['\t', '\n', '\r'], " "),
        }
    }

    fn is_explained_by(&self, r: &Reviewed) -> bool {
        r.capture == self.capture
            && r.kind == self.kind
            && r.name == self.name
            && r.severity == self.severity
    }
}

fn reviewed_path() -> PathBuf {
    testdata().join("benign").join("reviewed.tsv")
}

/// The reviewed lines, and the lines that are not five tab-separated
/// columns (reported as failures, not skipped).
fn reviewed() -> (Vec<Reviewed>, Vec<String>) {
    let text = std::fs::read_to_string(reviewed_path()).expect("testdata/benign/reviewed.tsv");
    let mut lines = Vec::new();
    let mut malformed = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = l.split('\t').collect();
        if cols.len() < 4 || cols.len() > 5 {
            malformed.push(format!(
                "line {}: {} columns, want 5 (capture, kind, name, severity, justification): {l}",
                i + 1,
                cols.len()
            ));
            continue;
        }
        lines.push(Reviewed {
            line: i + 1,
            capture: cols[0].to_string(),
            kind: cols[1].to_string(),
            name: cols[2].to_string(),
            severity: cols[3].to_string(),
            justification: cols.get(4).unwrap_or(&"").trim().to_string(),
        });
    }
    (lines, malformed)
}

/// Every capture of the benign set, sorted.
fn benign_captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(testdata().join("captures").join("benign"))
        .expect("testdata/captures/benign")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no capture in testdata/captures/benign");
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 file name")
        .to_string()
}

/// Scans `inputs` in-process (one worker thread) with the Mozilla roots, as
/// `certsift scan` does by default; returns the medium and high findings
/// labelled `capture`.
fn accusations(capture: &str, inputs: Vec<PathBuf>) -> Vec<Accusation> {
    scanned(capture, inputs).0
}

/// [`accusations`], and the incidents of the scan.
fn scanned(capture: &str, inputs: Vec<PathBuf>) -> (Vec<Accusation>, Vec<IncidentRow>) {
    let out = tempfile::tempdir().expect("tempdir");
    let cfg = Config {
        inputs,
        out: out.path().to_path_buf(),
        threads: Some(1),
        trust_stores: Vec::new(),
        default_roots: true,
        roots_at: None,
        format: Format::Jsonl,
        layout: Default::default(),
        use_mmap: true,
        thresholds: Default::default(),
        baseline: None,
        keylogs: Vec::new(),
        flow_limits: Default::default(),
        max_in_memory: certsift::limits::SCAN_MAX_IN_MEMORY,
    };
    let summary =
        scan(&cfg, &Report::silent()).unwrap_or_else(|e| panic!("{capture}: scan failed: {e}"));
    assert!(
        summary.input_errors.is_empty(),
        "{capture}: unreadable input: {:?}",
        summary.input_errors
    );
    let found = summary
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Medium || f.severity == Severity::High)
        .map(|f| Accusation::of(capture, f))
        .collect();
    (found, summary.incidents)
}

/// Compares the accusations found with the reviewed lines in scope; panics
/// with every unexplained accusation, stale line and missing justification.
fn check(what: &str, found: &[Accusation], in_scope: impl Fn(&Reviewed) -> bool) {
    let (lines, mut problems) = reviewed();
    let lines: Vec<&Reviewed> = lines.iter().filter(|r| in_scope(r)).collect();
    let unexplained: BTreeSet<&Accusation> = found
        .iter()
        .filter(|a| !lines.iter().any(|r| a.is_explained_by(r)))
        .collect();
    let mut msg = String::new();
    if !unexplained.is_empty() {
        msg.push_str(&format!(
            "{} medium/high findings on benign captures ({what}) are not in \
             testdata/benign/reviewed.tsv; check each, and only if it is right \
             paste its line there with a justification in place of the summary:\n",
            unexplained.len()
        ));
        for a in &unexplained {
            msg.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                a.capture, a.kind, a.name, a.severity, a.summary
            ));
        }
    }
    for r in &lines {
        if !found.iter().any(|a| a.is_explained_by(r)) {
            problems.push(format!(
                "line {}: stale, no such finding any more: {}\t{}\t{}\t{}",
                r.line, r.capture, r.kind, r.name, r.severity
            ));
        }
        if r.justification.is_empty() {
            problems.push(format!("line {}: no justification", r.line));
        }
    }
    if !problems.is_empty() {
        msg.push_str("testdata/benign/reviewed.tsv:\n");
        for p in &problems {
            msg.push_str(p);
            msg.push('\n');
        }
    }
    assert!(msg.is_empty(), "{msg}");
}

/// Each capture scanned alone: nothing from one capture can explain or
/// provoke a finding on another. The scans run on all cores, one capture
/// per worker.
#[test]
fn benign_captures_alone() {
    let captures = benign_captures();
    let next = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    let incidents = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(captures.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while let Some(p) = captures.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let name = file_name(p);
                    let (mut a, i) = scanned(&name, vec![p.clone()]);
                    found.lock().expect("lock").append(&mut a);
                    if !name.contains("curveball") {
                        incidents
                            .lock()
                            .expect("lock")
                            .extend(i.into_iter().map(|i| format!("{name}: {}", i.summary)));
                    }
                }
            });
        }
    });
    let mut found = found.into_inner().expect("lock");
    found.sort();
    let mut incidents = incidents.into_inner().expect("lock");
    incidents.sort();
    assert!(
        incidents.is_empty(),
        "issue 27: interception incidents on benign captures:\n{}",
        incidents.join("\n")
    );
    check("each scanned alone", &found, |r| r.capture != ALL);
}

/// Every capture in one scan: names, issuers and keys meet across
/// captures, as on a real sensor; reviewed lines say `*all*`.
#[test]
fn benign_captures_together() {
    let mut found = accusations(ALL, benign_captures());
    found.sort();
    check("all scanned together", &found, |r| r.capture == ALL);
}
