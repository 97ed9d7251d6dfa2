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
