//! The whole scan, end to end, on a corpus capture from testdata: capture walk,
//! decode, reassembly, TLS, certificates, analysis and Parquet output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certsift::output::Format;
use certsift::pipeline::{scan, Config};
use certsift::report::Report;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let root = common::repo().join("testdata/captures");
    let input = root.join("s01_baseline_direct.pcap");
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
    g.sample_size(20);
    g.bench_function("scan_s01", |b| {
        b.iter(|| scan(&cfg, &report).expect("scan"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
