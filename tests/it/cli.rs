//! The command line contract: exit codes, stdout summary, silent stderr under
//! `--quiet`, atomic outputs.

use crate::{capture, certsift, scan, testdata};

#[test]
fn scan_writes_the_tables_and_a_summary() {
    let (dir, out) = scan(&["s02_transparent_mitm_mixed.pcap"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 input"), "{stdout}");
    assert!(stdout.contains("TLS connections"), "{stdout}");
    assert!(stdout.contains("high"), "{stdout}");
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "certificates.parquet",
            "files.parquet",
            "findings.parquet",
            "handshakes.parquet",
            "incidents.parquet"
        ]
    );
}

#[test]
fn fail_on_threshold_gives_exit_1() {
    let (_d, out) = scan(&["s02_transparent_mitm_mixed.pcap"], &["--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(1));
    let (_d, out) = scan(&["s01_baseline_direct.pcap"], &["--fail-on", "medium"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn json_summary_counts_findings_by_severity() {
    let (_d, out) = scan(&["s02_transparent_mitm_mixed.pcap"], &["--summary", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"], 1);
    assert!(v["tls_connections"].as_u64().unwrap() >= 17);
    assert!(v["findings_by_severity"]["high"].as_u64().unwrap() >= 1);
}

#[test]
fn usage_errors_and_unreadable_inputs_give_exit_2() {
    let out = certsift(&["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let out = certsift(&["scan", "--bogus", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o");
    let out = certsift(&[
        "scan",
        "-o",
        o.to_str().unwrap(),
        "/nonexistent/capture.pcap",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/capture.pcap"));
}

#[test]
fn damaged_file_gives_exit_3_with_file_and_offset_and_keeps_earlier_flows() {
    let whole = std::fs::read(capture("s02_transparent_mitm_mixed.pcap")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
    let o = dir.path().join("out");
    let out = certsift(&["scan", "-o", o.to_str().unwrap(), cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut.pcap") && stderr.contains("offset"),
        "{stderr}"
    );
    let scan = certsift::output::read_scan(&o).unwrap();
    assert!(scan.handshakes.len() >= 8, "{}", scan.handshakes.len());
}

#[test]
fn not_a_capture_beside_a_good_one_gives_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, b"hello, this is not a capture").unwrap();
    let o = dir.path().join("out");
    let good = capture("s08_linktypes_en10mb.pcap");
    let out = certsift(&[
        "scan",
        "-o",
        o.to_str().unwrap(),
        junk.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.txt"));
}

#[test]
fn summary_and_schema_commands() {
    let (dir, _) = scan(&["s02_transparent_mitm_mixed.pcap"], &[]);
    let out = certsift(&["summary", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    // issue 27: the incident leads; the findings only with -v
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("incidents 1\n  HIGH   intercepted"), "{text}");
    assert!(!text.contains("issuer_divergence"), "{text}");
    let out = certsift(&["summary", "-v", dir.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("issuer_divergence"));
    let out = certsift(&["summary", "--summary", "json", dir.path().to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["incidents"][0]["verdict"], "intercepted");
    assert_eq!(v["incidents"][0]["accepted_connections"], 5);
    let out = certsift(&["schema"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let incident_cols: Vec<&str> = v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "incident_id",
        "severity",
        "verdict",
        "interceptor",
        "interceptor_key_sha256",
        "names",
        "clients",
        "first_seen",
        "last_seen",
        "connections",
        "accepted_connections",
        "refused_connections",
        "bytes_to_server",
        "bytes_to_client",
        "finding_ids",
        "summary",
    ] {
        assert!(incident_cols.contains(&want), "incidents.{want}");
    }
    let cols: Vec<&str> = v["handshakes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "flow_id",
        "file",
        "ts_start",
        "ts_end",
        "client_ip",
        "client_port",
        "server_ip",
        "server_port",
        "sni",
        "alpn",
        "tls_version",
        "cipher_suite",
        "ja3",
        "ja3s",
        "ja4",
        "cert_chain_sha256",
        "leaf_sha256",
        "cert_visibility",
        "anomalies",
    ] {
        assert!(cols.contains(&want), "{want}");
    }
}

#[test]
fn a_folder_input_is_walked() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::copy(capture("s08_linktypes_en10mb.pcap"), sub.join("x.pcap")).unwrap();
    let o = dir.path().join("out");
    let out = certsift(&[
        "scan",
        "-q",
        "-o",
        o.to_str().unwrap(),
        dir.path().join("a").to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!certsift::output::read_scan(&o)
        .unwrap()
        .handshakes
        .is_empty());
    let _ = testdata();
}

#[test]
fn completions_and_man_page_come_from_the_clap_definitions() {
    let out = certsift(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--trust-store") && text.contains("certsift"),
        "{text}"
    );
    let out = certsift(&["man"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(".ie") || text.contains(".TH"), "{text}");
    assert!(text.contains("scan"));
}

#[test]
fn every_command_has_help_with_examples() {
    for cmd in ["scan", "summary", "analyze", "completions", "man"] {
        let out = certsift(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Example"),
            "{cmd} --help lacks examples:\n{text}"
        );
    }
}

#[test]
fn flow_caps_are_configurable() {
    let (_d, out) = scan(&["s02_transparent_mitm_mixed.pcap"], &["--summary", "json"]);
    let base: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(base["tcp_connections"], 17);
    // With no idle time allowed, every pause ends a connection.
    let (_d, out) = scan(
        &["s02_transparent_mitm_mixed.pcap"],
        &["--summary", "json", "--flow-timeout", "0"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["tcp_connections"].as_u64().unwrap() > 17, "{v}");
    // A table of one connection per shard still finds every ClientHello.
    let (_d, out) = scan(
        &["s02_transparent_mitm_mixed.pcap"],
        &["--summary", "json", "--max-flows", "1"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["tls_connections"].as_u64().unwrap() >= 17, "{v}");
}

/// A `--format jsonl` scan reads back as the same rows as a Parquet one, so
/// `summary`, `analyze` and `report` take either; a damaged line is an error
/// naming the file.
#[test]
fn jsonl_scans_read_back_like_parquet_ones() {
    let cap = ["s02_transparent_mitm_mixed.pcap"];
    let (pq, _) = scan(&cap, &[]);
    let (js, _) = scan(&cap, &["--format", "jsonl"]);
    assert!(js.path().join("handshakes.jsonl").is_file());
    let a = certsift::output::read_scan(pq.path()).unwrap();
    let b = certsift::output::read_scan(js.path()).unwrap();
    assert_eq!(a.handshakes, b.handshakes);
    assert_eq!(a.certificates, b.certificates);
    assert_eq!(a.findings, b.findings);
    assert_eq!(a.files, b.files);
    assert!(!b.handshakes.is_empty() && !b.findings.is_empty());

    let path = |d: &tempfile::TempDir| d.path().to_str().unwrap().to_string();
    let sum = |d| certsift(&["summary", &path(d)]);
    let (sa, sb) = (sum(&pq), sum(&js));
    assert_eq!(
        sb.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sb.stderr)
    );
    assert_eq!(sa.stdout, sb.stdout);

    let merged = tempfile::tempdir().unwrap();
    let m = merged.path().join("m");
    let out = certsift(&["analyze", &path(&js), "-o", m.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        certsift::output::read_scan(&m).unwrap().findings,
        a.findings
    );
    let html = merged.path().join("r.html");
    let out = certsift(&["report", &path(&js), "-o", html.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&html).unwrap().len() > 10_000);

    // A scan by an older certsift lacks newer columns (their defaults, as
    // from Parquet); a newer one's extra fields are ignored.
    let hs = js.path().join("handshakes.jsonl");
    let text: String = std::fs::read_to_string(&hs)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("packets").unwrap();
            o.insert("a_future_column".into(), serde_json::json!([1, "x"]));
            format!("{v}\n")
        })
        .collect();
    std::fs::write(&hs, text).unwrap();
    let old = certsift::output::read_scan(js.path()).unwrap().handshakes;
    let want: Vec<_> = a
        .handshakes
        .iter()
        .map(|h| certsift::rows::HandshakeRow {
            packets: 0,
            ..h.clone()
        })
        .collect();
    assert_eq!(old, want);

    let certs = js.path().join("certificates.jsonl");
    let mut text = std::fs::read_to_string(&certs).unwrap();
    text.push_str("{\"sha256\": [1, 2]}\n");
    std::fs::write(&certs, text).unwrap();
    let out = sum(&js);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("certificates.jsonl") && err.contains("not a JSON lines table"),
        "{err}"
    );
}

/// The handshakes rows of a JSON-lines scan that carry a verdict.
fn verdicts(dir: &std::path::Path) -> Vec<(bool, Option<String>)> {
    std::fs::read_to_string(dir.join("handshakes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| {
            let trusted = v["chain_trusted"].as_bool()?;
            Some((trusted, v["trust_reason"].as_str().map(str::to_string)))
        })
        .collect()
}

/// zeek's chrome-34-google.pcap (2014): a SHA-1 Google chain under GeoTrust
/// Global CA, which Mozilla trusted then and removed in 2020. Trusted at
/// its time, with the removal said; untrusted as today's browser sees it.
#[test]
fn old_public_chain_trusted_then_and_not_with_roots_at_now() {
    let (dir, out) = scan(&["zeek_chrome34_google.pcap"], &["--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0));
    let then = verdicts(dir.path());
    assert!(!then.is_empty());
    assert!(
        then.iter()
            .all(|(t, r)| *t && r.as_deref() == Some("root_removed_since")),
        "{then:?}"
    );
    let (dir, out) = scan(
        &["zeek_chrome34_google.pcap"],
        &["--format", "jsonl", "--roots-at", "now"],
    );
    assert_eq!(out.status.code(), Some(0));
    let now = verdicts(dir.path());
    assert_eq!(now.len(), then.len());
    assert!(now.iter().all(|(t, _)| !*t), "{now:?}");
    // Another day of 2014, inside the leaf's validity: trusted as well.
    let (dir, _) = scan(
        &["zeek_chrome34_google.pcap"],
        &["--format", "jsonl", "--roots-at", "2014-05-01"],
    );
    assert!(verdicts(dir.path()).iter().all(|(t, _)| *t));
    let (_d, out) = scan(
        &["zeek_chrome34_google.pcap"],
        &["--roots-at", "2014-13-01"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD or now"));
}
