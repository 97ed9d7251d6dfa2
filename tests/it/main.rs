//! certsift's integration tests: the binary on the corpus captures in
//! `testdata/`, checked against their ground-truth manifests and goldens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod benign;
mod capture;
mod cli;
mod corpus;
mod detection;
mod dtls;
mod duckdb;
mod golden;
mod gquic;
mod hostile;
mod incidents;
mod quic;
mod quic_pq;
mod regression;
mod scale;
mod streaming;
mod tunnels;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository's root. Read when the test runs (cargo sets it then too),
/// not only when it was compiled: clones at other paths that share one
/// `CARGO_TARGET_DIR` may reuse a test binary built in another clone.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The repository's testdata folder.
pub fn testdata() -> PathBuf {
    repo().join("testdata")
}

/// A capture in testdata/captures.
pub fn capture(name: &str) -> PathBuf {
    testdata().join("captures").join(name)
}

/// A corpus manifest (ground truth) from testdata/manifests.
pub fn manifest(name: &str) -> serde_json::Value {
    let path = testdata().join("manifests").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("manifest")).expect("json")
}

/// Whether a scan that decrypts TLS 1.3 (key log or secrets in the file)
/// has the keys of this manifest flow: not when its client wrote no key log
/// ("in_keylog": false).
pub fn keyed(flow: &serde_json::Value, decrypts: bool) -> bool {
    decrypts && flow["in_keylog"].as_bool() != Some(false)
}

/// Whether a manifest flow's certificate is visible to such a scan: sent in
/// clear, or a TLS 1.3 one it can decrypt.
pub fn cert_visible(flow: &serde_json::Value, decrypts: bool) -> bool {
    match flow["cert_visibility"].as_str() {
        Some("plain") => true,
        Some("encrypted" | "decrypted") => keyed(flow, decrypts),
        _ => false,
    }
}

/// The corpus key log of a capture, when there is one (the s08 variants
/// share one).
pub fn keylog(name: &str) -> Option<String> {
    let stem = if name.starts_with("s08_") {
        "s08_linktypes"
    } else {
        name
    };
    let path = testdata().join("keylogs").join(format!("{stem}.keylog"));
    path.exists()
        .then(|| path.to_str().expect("utf-8").to_string())
}

/// Runs the certsift binary.
pub fn certsift(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certsift"))
        .args(args)
        .output()
        .expect("run certsift")
}

/// Scans `captures` into a fresh folder with the corpus trust anchors; returns
/// the folder (kept alive by the TempDir) and the process output.
pub fn scan(captures: &[&str], extra: &[&str]) -> (tempfile::TempDir, Output) {
    scan_trusting(captures, "trust-anchors.pem", extra)
}

/// Scans `captures` as JSON lines and returns the handshakes rows in file
/// order; the scan must end with exit code 0 or 1 (findings allowed).
pub fn handshake_rows(captures: &[&str]) -> Vec<serde_json::Value> {
    let (dir, out) = scan(captures, &["--format", "jsonl"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{captures:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.path().join("handshakes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The trust store a capture's clients had: `testdata/pki/NAME.pem` when the
/// capture ships its own (captures made outside the corpus), else the
/// corpus's.
pub fn anchors_of(name: &str) -> String {
    let own = format!("{name}.pem");
    if testdata().join("pki").join(&own).exists() {
        own
    } else {
        "trust-anchors.pem".into()
    }
}

/// `scan` with the trust anchors of `testdata/pki/ANCHORS`.
pub fn scan_trusting(
    captures: &[&str],
    anchors: &str,
    extra: &[&str],
) -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8 temp path").to_string();
    let anchors = testdata().join("pki").join(anchors);
    let mut args: Vec<String> = vec![
        "scan".into(),
        "-q".into(),
        "-o".into(),
        out,
        "--trust-store".into(),
        anchors.to_str().expect("utf-8").into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    for c in captures {
        args.push(capture(c).to_str().expect("utf-8").into());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = certsift(&refs);
    (dir, output)
}

mod report;
