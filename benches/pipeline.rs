//! The whole scan, end to end (capture walk, decode, reassembly, TLS,
//! certificates, analysis and Parquet output), on a corpus capture from
//! testdata and on the two synthetic kinds of the speed issue (bulk and
//! handshake-dense, see `common::synthetic`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certsift::output::Format;
use certsift::pipeline::{scan, Config};
use certsift::report::Report;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn scan_bench(c: &mut Criterion, name: &str, input: std::path::PathBuf, samples: usize) {
    let size = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    let out = tempfile::tempdir().expect("tempdir");
    let cfg = Config {
        inputs: vec![input],
        out: out.path().to_path_buf(),
        threads: None,
        trust_stores: Vec::new(),
        default_roots: true,
        roots_at: None,
        format: Format::Parquet,
        layout: Default::default(),
        use_mmap: true,
        thresholds: Default::default(),
        baseline: None,
        keylogs: Vec::new(),
        flow_limits: Default::default(),
        max_in_memory: certsift::limits::SCAN_MAX_IN_MEMORY,
    };
    let report = Report::silent();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(size));
    g.sample_size(samples);
    g.bench_function(name, |b| b.iter(|| scan(&cfg, &report).expect("scan")));
    g.finish();
}

fn bench(c: &mut Criterion) {
    let corpus = common::repo().join("testdata/captures/s01_baseline_direct.pcap");
    scan_bench(c, "scan_s01", corpus, 20);
    scan_bench(c, "scan_bulk_64M", common::synthetic("bulk", "64M"), 10);
    scan_bench(
        c,
        "scan_handshake_16M",
        common::synthetic("handshake", "16M"),
        10,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
