//! Regression tests, named after the issue that found them.

use crate::{capture, certsift};

#[test]
fn issue_2_output_is_the_same_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut tables = Vec::new();
    for threads in ["1", "2", "7"] {
        let o = dir.path().join(threads);
        let out = certsift(&[
            "scan",
            "-q",
            "--format",
            "jsonl",
            "-j",
            threads,
            "-o",
            o.to_str().unwrap(),
            capture("s01_baseline_direct.pcap").to_str().unwrap(),
            capture("s02_transparent_mitm_mixed.pcap").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0));
        tables.push(
            ["handshakes", "certificates", "findings"]
                .map(|t| std::fs::read_to_string(o.join(format!("{t}.jsonl"))).unwrap()),
        );
    }
    assert_eq!(tables[0], tables[1]);
    assert_eq!(tables[0], tables[2]);
}
