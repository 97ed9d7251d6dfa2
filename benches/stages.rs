//! One benchmark per stage: walking a capture's records, decoding its
//! frames, TLS parsing of whole connections, each on three captures (a
//! corpus capture from testdata, and the two kinds of the speed issue built
//! from testdata's real handshakes by `scripts/synth_capture.py`: bulk, where
//! nearly every packet is application data, and handshake-dense, with no
//! bulk at all); then certificate parsing and encoding the handshakes table
//! as Parquet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
mod common;

use certsift::capture::Capture;
use certsift::decode::{decode, Decoded, TcpSegment};
use certsift::flow::{Shard, Stamp};
use certsift::output::{self, Format};
use certsift::tls::{self, KeyLog, Session};
use certsift::x509::CertInfo;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn testdata(rel: &str) -> std::path::PathBuf {
    common::repo().join("testdata").join(rel)
}

fn capture_stages(c: &mut Criterion, kind: &str, path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    let size = bytes.len() as u64;
    let capture = Capture::from_bytes(path, bytes).unwrap();

    let mut g = c.benchmark_group(format!("stages/{kind}"));
    g.throughput(Throughput::Bytes(size));
    g.bench_function("capture_walk", |b| {
        b.iter(|| {
            let mut w = capture.windows();
            let mut n = 0;
            while let Ok(Some(win)) = w.next_window(1 << 16, 64 << 20) {
                n += win.frames.len();
            }
            black_box(n)
        })
    });
    let mut windows = capture.windows();
    let win = windows.next_window(1 << 16, 64 << 20).unwrap().unwrap();
    // Decoding and reassembly run on the first window (the whole of the
    // corpus capture, up to 65,536 frames of the larger ones): per frame.
    g.throughput(Throughput::Elements(win.frames.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut tcp = 0;
            for f in &win.frames {
                if let Decoded::Tcp(_) = decode(f.linktype, win.bytes(f)) {
                    tcp += 1;
                }
            }
            black_box(tcp)
        })
    });
    // Reassembly and TLS parsing of every connection, fed as the pipeline does.
    let segments: Vec<(TcpSegment<'_>, Stamp)> = win
        .frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match decode(f.linktype, win.bytes(f)) {
            Decoded::Tcp(t) => Some((
                t,
                Stamp {
                    ts_us: f.ts_us,
                    file: 0,
                    frame: i as u64,
                },
            )),
            _ => None,
        })
        .collect();
    let keys = KeyLog::new();
    g.bench_function("reassembly_and_tls", |b| {
        b.iter(|| {
            let mut shard = Shard::<Session>::new();
            for (s, at) in &segments {
                shard.push(s, *at);
            }
            shard.finish_all();
            tls::decrypt_ended(&mut shard.finished, &keys);
            black_box(shard.finished.len())
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    capture_stages(c, "corpus", &testdata("captures/s01_baseline_direct.pcap"));
    capture_stages(c, "bulk", &common::synthetic("bulk", "64M"));
    capture_stages(c, "handshake", &common::synthetic("handshake", "16M"));

    let pem = std::fs::read_to_string(testdata("x509/pki/issuing-ca.pem")).unwrap();
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = decode_base64(&b64);
    let mut g = c.benchmark_group("x509");
    g.throughput(Throughput::Bytes(der.len() as u64));
    g.bench_function("certificate_parse", |b| {
        b.iter(|| black_box(CertInfo::parse(black_box(&der))))
    });
    g.finish();

    let rows: Vec<_> = (0..10_000)
        .map(|i| certsift::rows::HandshakeRow {
            flow_id: format!("{i:016x}"),
            file: "bench.pcap".into(),
            ts_start: 1_795_871_690_000_000 + i,
            ts_end: 1_795_871_691_000_000 + i,
            client_ip: "192.0.2.10".into(),
            client_port: 40000 + (i % 20000) as i32,
            server_ip: "203.0.113.10".into(),
            server_port: 443,
            sni: Some(format!("host{}.example.test", i % 500)),
            alpn: vec!["h2".into(), "http/1.1".into()],
            cert_chain_sha256: vec!["ab".repeat(32), "cd".repeat(32)],
            leaf_sha256: Some("ab".repeat(32)),
            cert_visibility: "plain".into(),
            ..Default::default()
        })
        .collect();
    let out = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("output");
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.sample_size(20);
    g.bench_function("parquet_10k_handshakes", |b| {
        b.iter(|| output::write_tables(out.path(), Format::Parquet, &rows, &[], &[], None).unwrap())
    });
    g.finish();
}

/// Standard base64 (RFC 4648) without padding checks, for the PEM fixture.
fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for v in s.bytes().filter_map(val) {
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

criterion_group!(benches, bench);
criterion_main!(benches);
