//! Whole-output goldens: each table of a scan, as JSON lines, compared with
//! `testdata/golden/<capture>/<table>.jsonl`, and the summary printed on
//! stdout with `summary.txt`. `CERTSIFT_BLESS=1 cargo test` rewrites them;
//! review the diff.

use crate::{scan, testdata};

fn golden(capture: &str) {
    let (dir, out) = scan(&[capture], &["--format", "jsonl"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stem = capture.split('.').next().unwrap();
    let gold = testdata().join("golden").join(stem);
    let bless = std::env::var_os("CERTSIFT_BLESS").is_some();
    // issue 27: the summary leads with the incidents
    let summary = String::from_utf8(out.stdout).unwrap();
    compare(capture, "summary.txt", &gold, &summary, bless);
    for table in [
        "handshakes",
        "certificates",
        "findings",
        "incidents",
        "files",
    ] {
        let got = std::fs::read_to_string(dir.path().join(format!("{table}.jsonl"))).unwrap();
        // The file column names the capture's path, which differs per machine.
        let got: String = got
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if let Some(f) = v.get_mut("file") {
                    let name = f
                        .as_str()
                        .unwrap_or_default()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_string();
                    *f = name.into();
                }
                v.to_string() + "\n"
            })
            .collect();
        compare(capture, &format!("{table}.jsonl"), &gold, &got, bless);
    }
}

fn compare(capture: &str, file: &str, gold: &std::path::Path, got: &str, bless: bool) {
    let path = gold.join(file);
    if bless {
        std::fs::create_dir_all(gold).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing; run with CERTSIFT_BLESS=1", path.display()));
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(3)
            .map(|(i, (a, b))| format!("line {}:\n- {a}\n+ {b}", i + 1))
            .collect();
        panic!(
            "{capture} {file} differs from its golden ({} vs {} lines):\n{}",
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn golden_s02_transparent_mitm() {
    golden("s02_transparent_mitm_mixed.pcap");
}

#[test]
fn golden_s05_benign_multicert() {
    golden("s05_benign_multicert.pcap");
}

#[test]
fn golden_s06_ipv6() {
    golden("s06_ipv6_dualstack.pcap");
}
