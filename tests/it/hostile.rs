//! Hostile input (issue 8): real captures mutated many hundreds of times
//! (bit flips, truncation, duplicated and dropped records, absurd record,
//! block and TLS length fields, zeroed runs) must scan without a panic, with
//! an `Ok` result (library) or exit code 0 or 3 (binary), within a time bound
//! proportional to their size. Also replays every input kept in
//! `testdata/regressions/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use certsift::output::Format;
use certsift::pipeline::{scan, Config};
use certsift::report::Report;

use crate::{capture, testdata};

/// xorshift64*: deterministic, no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte ranges of the records (pcap) or blocks (pcapng) of a well-formed
/// capture, after the file header (pcap) or from the start (pcapng).
fn records(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let magic = b.get(..4).unwrap_or_default();
    let le = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let be = |at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let big = b.get(8..12) == Some(&[0x1a, 0x2b, 0x3c, 0x4d][..]);
        let mut pos = 0;
        while pos + 12 <= b.len() {
            let len = if big { be(pos + 4) } else { le(pos + 4) };
            if len < 12 || pos + len > b.len() {
                break;
            }
            out.push((pos, pos + len));
            pos += len;
        }
    } else if b.len() >= 24 {
        let big = magic == [0xa1, 0xb2, 0xc3, 0xd4] || magic == [0xa1, 0xb2, 0x3c, 0x4d];
        let mut pos = 24;
        while pos + 16 <= b.len() {
            let len = if big { be(pos + 8) } else { le(pos + 8) };
            if pos + 16 + len > b.len() {
                break;
            }
            out.push((pos, pos + 16 + len));
            pos += 16 + len;
        }
    }
    out
}

/// Offsets of byte patterns that look like TLS handshake record headers.
fn tls_headers(b: &[u8]) -> Vec<usize> {
    b.windows(6)
        .enumerate()
        .filter(|(_, w)| w[0] == 0x16 && w[1] == 3 && w[2] <= 4 && w[5] <= 20)
        .map(|(i, _)| i)
        .collect()
}

/// One mutation of `orig`, chosen by `rng`; returns its name and the bytes.
fn mutate(orig: &[u8], rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let mut b = orig.to_vec();
    let recs = records(orig);
    let pick = |rng: &mut Rng| recs.get(rng.below(recs.len())).copied();
    let absurd = [
        0xffff_ffffu32,
        0x7fff_ffff,
        0x0100_0000,
        0x0001_0001,
        0,
        1,
        11,
        13,
    ];
    match rng.below(10) {
        0 => {
            for _ in 0..1 + rng.below(16) {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            ("bit flips", b)
        }
        1 => {
            b.truncate(rng.below(b.len()));
            ("truncation", b)
        }
        2 => {
            if let Some((s, e)) = pick(rng) {
                let dup = orig[s..e].to_vec();
                let times = 1 + rng.below(3);
                for _ in 0..times {
                    b.splice(e..e, dup.iter().copied());
                }
            }
            ("duplicated record", b)
        }
        3 => {
            for _ in 0..1 + rng.below(4) {
                let recs = records(&b);
                if let Some(&(s, e)) = recs.get(rng.below(recs.len())) {
                    b.drain(s..e);
                }
            }
            ("dropped records", b)
        }
        4 => {
            // Record or block length field: incl_len/orig_len (pcap) or the
            // leading/trailing block total length (pcapng), any byte order.
            if let Some((s, e)) = pick(rng) {
                let v = absurd[rng.below(absurd.len())];
                let at = if orig.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
                    [s + 4, e - 4, s + 20][rng.below(3)]
                } else {
                    [s + 8, s + 12][rng.below(2)]
                };
                let bytes = if rng.below(2) == 0 {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                if at + 4 <= b.len() {
                    b[at..at + 4].copy_from_slice(&bytes);
                }
            }
            ("absurd record length", b)
        }
        5 => {
            // TLS record length and handshake length (claiming up to 16 MB).
            let hs = tls_headers(orig);
            for _ in 0..1 + rng.below(3) {
                if let Some(&at) = hs.get(rng.below(hs.len())) {
                    match rng.below(3) {
                        0 => b[at + 3..at + 5].copy_from_slice(&[0xff, 0xff]),
                        1 => {
                            if at + 9 <= b.len() {
                                b[at + 6..at + 9].copy_from_slice(&[0xff, 0xff, 0xff]);
                            }
                        }
                        _ => b[at + 3..at + 5].copy_from_slice(&[0, rng.below(6) as u8]),
                    }
                }
            }
            ("absurd tls length", b)
        }
        6 => {
            let s = rng.below(b.len());
            let e = (s + 1 + rng.below(256)).min(b.len());
            b[s..e].fill(0);
            ("zeroed bytes", b)
        }
        7 => {
            // The file header: link type, snap length, byte-order magic.
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(b.len().min(64));
                b[i] = rng.next() as u8;
            }
            ("header bytes", b)
        }
        8 => {
            // Swap two records: reordering across connections and directions.
            if let (Some((s1, e1)), Some((s2, e2))) = (pick(rng), pick(rng)) {
                if e1 <= s2 {
                    let mut out = orig[..s1].to_vec();
                    out.extend_from_slice(&orig[s2..e2]);
                    out.extend_from_slice(&orig[e1..s2]);
                    out.extend_from_slice(&orig[s1..e1]);
                    out.extend_from_slice(&orig[e2..]);
                    b = out;
                }
            }
            ("swapped records", b)
        }
        _ => {
            // Random bytes overwrite a stretch inside one record.
            if let Some((s, e)) = pick(rng) {
                let n = e - s;
                let at = s + rng.below(n);
                for x in b.iter_mut().take(e).skip(at).take(1 + rng.below(64)) {
                    *x = rng.next() as u8;
                }
            }
            ("random bytes", b)
        }
    }
}

fn config(input: PathBuf, out: PathBuf, format: Format) -> Config {
    Config {
        inputs: vec![input],
        out,
        threads: Some(1),
        trust_stores: vec![testdata().join("pki/trust-anchors.pem")],
        default_roots: false,
        roots_at: None,
        format,
        layout: Default::default(),
        use_mmap: true,
        thresholds: Default::default(),
        baseline: None,
        keylogs: Vec::new(),
        flow_limits: Default::default(),
        max_in_memory: certsift::limits::SCAN_MAX_IN_MEMORY,
    }
}

/// Generous per-run bound for an unoptimised build: a fixed cost plus 1 s per
/// 64 KiB.
fn bound(len: usize) -> Duration {
    Duration::from_millis(3000 + (len as u64 * 1000) / (64 * 1024))
}

fn scan_lib(dir: &Path, name: &str, bytes: &[u8], format: Format, what: &str) {
    let input = dir.join(name);
    std::fs::write(&input, bytes).unwrap();
    let out = dir.join("out");
    let t = Instant::now();
    let res = scan(&config(input, out, format), &Report::silent());
    let took = t.elapsed();
    assert!(res.is_ok(), "{what}: scan failed: {:?}", res.err());
    assert!(
        took <= bound(bytes.len()),
        "{what}: {} bytes took {took:?}",
        bytes.len()
    );
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn issue_8_mutated_captures_scan_without_panic_in_bounded_time() {
    let inputs: [(&str, usize); 10] = [
        ("s02_transparent_mitm_mixed.pcap", 50),
        // QUIC: Initial, Handshake (with embedded secrets) and Retry packets.
        ("ja4_chrome_cloudflare_quic_with_secrets.pcapng", 40),
        ("sv_quic_retry.pcap", 40),
        ("s10_lossy_retransmissions.pcap", 40),
        ("s07_tls13_keylog_dsb.pcapng", 40),
        ("s08_linktypes_multi_if.pcapng", 40),
        ("s06_ipv6_dualstack.pcap", 35),
        ("synth_encaps.pcap", 100),
        ("synth_fragments.pcap", 80),
        ("test016-be.pcapng", 80),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x8d1c_e5a7_0b3f_9e21);
    let mut runs = 0;
    for (name, n) in inputs {
        let orig = std::fs::read(capture(name)).unwrap();
        for i in 0..n {
            let (kind, bytes) = mutate(&orig, &mut rng);
            let what = format!("{name} mutation {i} ({kind})");
            // Every 16th run writes Parquet; the rest JSON lines (faster).
            let format = if i % 16 == 0 {
                Format::Parquet
            } else {
                Format::Jsonl
            };
            scan_lib(dir.path(), name, &bytes, format, &what);
            runs += 1;
        }
    }
    // Compressed: mutate the plain capture and compress it, and flip bits in
    // the compressed stream itself.
    let plain = std::fs::read(capture("s08_linktypes_en10mb.pcap")).unwrap();
    let gz = std::fs::read(capture("s08_linktypes_gzip.pcap.gz")).unwrap();
    let zst = std::fs::read(capture("s08_linktypes_en10mb.pcap.zst")).unwrap();
    for i in 0..20 {
        let (kind, bytes) = mutate(&plain, &mut rng);
        let what = format!("gzip of s08 mutation {i} ({kind})");
        scan_lib(dir.path(), "m.pcap.gz", &gzip(&bytes), Format::Jsonl, &what);
        for (ext, orig) in [("gz", &gz), ("zst", &zst)] {
            let (kind, bytes) = mutate(orig, &mut rng);
            let what = format!("{ext} mutation {i} ({kind})");
            scan_lib(
                dir.path(),
                &format!("c.pcap.{ext}"),
                &bytes,
                Format::Jsonl,
                &what,
            );
        }
        runs += 3;
    }
    assert!(runs >= 450, "{runs} runs");
}

#[test]
fn issue_8_mutated_captures_through_the_binary_exit_0_or_3() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let orig = std::fs::read(capture("s02_transparent_mitm_mixed.pcap")).unwrap();
    let ng = std::fs::read(capture("s08_linktypes_multi_if.pcapng")).unwrap();
    for i in 0..16 {
        let src = if i % 2 == 0 { &orig } else { &ng };
        let (kind, bytes) = mutate(src, &mut rng);
        let input = dir.path().join(format!("m{i}.pcap"));
        std::fs::write(&input, &bytes).unwrap();
        let out = dir.path().join(format!("out{i}"));
        let t = Instant::now();
        let o = crate::certsift(&[
            "scan",
            "-q",
            "-o",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        let took = t.elapsed();
        let code = o.status.code();
        assert!(
            matches!(code, Some(0 | 3)),
            "mutation {i} ({kind}): exit {code:?}, stderr {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            took <= bound(bytes.len()),
            "mutation {i} ({kind}): {took:?}"
        );
    }
}

/// Every input kept in testdata/regressions/ (crashes found by fuzzing and
/// by the mutation test) scans cleanly.
#[test]
fn issue_8_regression_inputs_scan_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let reg = testdata().join("regressions");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&reg)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    for path in names
        .iter()
        .filter(|p| p.extension() != Some("md".as_ref()))
    {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        scan_lib(dir.path(), name, &bytes, Format::Jsonl, name);
    }
}

/// A million connections stuck in their handshake took 6 GiB: the live flow
/// table must stay within `FLOW_SHARDS` × `MAX_FLOWS_PER_SHARD` connections
/// small enough for a bounded memory (scripts/memory_bound.sh measures it).
#[test]
fn issue_8_unfinished_handshakes_cannot_fill_the_flow_table() {
    use certsift::decode::TcpSegment;
    use certsift::flow::{Shard, Stamp};
    use certsift::limits::{FLOW_SHARDS, MAX_FLOWS_PER_SHARD};
    use std::net::{IpAddr, Ipv4Addr};

    const { assert!(FLOW_SHARDS * MAX_FLOWS_PER_SHARD <= 1 << 17) };
    let mut shard = Shard::<certsift::tls::Session>::new();
    let server = IpAddr::from(Ipv4Addr::new(198, 51, 100, 1));
    let partial = [0x16, 3, 1, 2, 0, 1, 0, 1, 0xfc, 3, 3, 0, 0, 0];
    for i in 0..(3 * MAX_FLOWS_PER_SHARD) as u32 {
        let client = IpAddr::from(Ipv4Addr::from(0x0a00_0000 + i));
        for (flags, payload) in [(0x02, &[][..]), (0x18, &partial[..])] {
            let seg = TcpSegment {
                src: client,
                dst: server,
                src_port: 40000,
                dst_port: 443,
                seq: i,
                ack: 0,
                flags,
                window: 0,
                ttl: 64,
                payload,
                tunnel: None,
                vlan: None,
            };
            let at = Stamp {
                ts_us: i64::from(i),
                file: 0,
                frame: u64::from(i),
            };
            shard.push(&seg, at);
        }
        assert!(shard.live() <= MAX_FLOWS_PER_SHARD);
    }
    assert!(shard.stats().evicted > 0);
}

/// A run killed at any moment leaves, under each final table name, either the
/// previous complete table or the new complete one, never a truncated file:
/// tables are written to `.tmp`, synced and renamed. The kill times spread
/// over a whole run (measured here), from before the first table is written
/// to after the last.
#[test]
fn issue_8_killed_runs_leave_complete_tables() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let inputs = [
        capture("s02_transparent_mitm_mixed.pcap"),
        capture("s03_sslsplit_all_intercepted.pcap"),
        capture("s06_ipv6_dualstack.pcap"),
    ];
    let run = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_certsift"));
        c.args(["scan", "-q", "-o", out.to_str().unwrap()])
            .args(inputs.iter().map(|p| p.as_os_str()))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // A whole run's time, the median of three: the first alone can be far
    // slower (cold caches, other tests starting), and kill times measured
    // from it would mostly fall after the end.
    let mut times: Vec<_> = (0..3)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(run().status().unwrap().code(), Some(0));
            t.elapsed()
        })
        .collect();
    times.sort();
    let whole = times[1];
    let tables = ["handshakes", "certificates", "findings", "files"];
    let rows_of = |name: &str| -> Option<usize> {
        let p = out.join(format!("{name}.parquet"));
        p.exists().then(|| {
            certsift::output::read_batches(&p)
                .unwrap_or_else(|e| panic!("{name} is not a complete table: {e}"))
                .iter()
                .map(|b| b.num_rows())
                .sum()
        })
    };
    let expected: Vec<Option<usize>> = tables.iter().map(|t| rows_of(t)).collect();
    assert!(expected.iter().all(Option::is_some));

    let steps = 40u32;
    let mut killed = 0;
    for k in 0..=steps {
        // Kill times from 0 to 1.2 times a whole run.
        let at = whole * (k * 6) / (steps * 5);
        let mut child = run().spawn().unwrap();
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        for (t, n) in tables.iter().zip(&expected) {
            // Same inputs, so the previous table and a new one have the
            // same rows; a partial file would fail to read.
            assert_eq!(rows_of(t), *n, "{t} after a kill at {at:?}");
        }
    }
    assert!(
        killed >= steps / 2,
        "only {killed} runs were killed mid-way"
    );
}
