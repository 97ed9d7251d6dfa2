//! Whole pipeline: an arbitrary file, written to a temporary folder, scanned
//! with the library (`pipeline::scan`) into a temporary output folder.
#![no_main]

use certsift::output::Format;
use certsift::pipeline::{scan, Config};
use certsift::report::Report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let input = dir.path().join("input.pcap");
    if std::fs::write(&input, data).is_err() {
        return;
    }
    let cfg = Config {
        inputs: vec![input],
        out: dir.path().join("out"),
        threads: Some(1),
        trust_stores: Vec::new(),
        default_roots: true,
        roots_at: None,
        format: Format::Jsonl,
        layout: Default::default(),
        use_mmap: false,
        thresholds: Default::default(),
        baseline: None,
        keylogs: Vec::new(),
        flow_limits: Default::default(),
    };
    // Damage is an Ok summary with input errors; only an Err on the output
    // side (which we control here) would be a bug.
    let res = scan(&cfg, &Report::silent());
    assert!(res.is_ok(), "scan failed: {:?}", res.err());
});
