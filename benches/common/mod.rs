//! What the benchmarks share.

use std::path::PathBuf;

/// The repository's root, read when the benchmark runs (cargo sets it then
/// too), so that a binary built in another clone sharing `CARGO_TARGET_DIR`
/// still reads this clone's testdata.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A synthetic capture of `kind` ("bulk" or "handshake", see
/// `scripts/synth_capture.py`) of about `size` (e.g. "64M"), built from the
/// real handshakes of testdata once and kept under the target directory.
/// Panics when it cannot be built: a benchmark without its input measures
/// nothing.
#[allow(dead_code)]
pub fn synthetic(kind: &str, size: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let dir = target.join("bench-data");
    let path = dir.join(format!("synth-{kind}-{size}.pcap"));
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("bench-data folder");
    let status = std::process::Command::new("python3")
        .arg(repo().join("scripts/synth_capture.py"))
        .arg(&path)
        .args(["--size", size, "--seed", "1", "--mix", kind])
        .status()
        .expect("python3 runs scripts/synth_capture.py");
    assert!(
        status.success(),
        "synth_capture.py failed for {kind} {size}"
    );
    path
}
