//! Capture-level behaviour seen from the outside: truncation at any offset
//! keeps every connection before the cut, and a rotated series is read as one
//! capture, in time order.

use std::path::Path;

use certsift::output::read_scan;
use certsift::rows::HandshakeRow;

use crate::{capture, certsift};

/// Record boundaries of a little-endian classic pcap: (offset, end, ts_us).
fn records(bytes: &[u8]) -> Vec<(usize, usize, i64)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let u = |o: usize| u32::from_le_bytes(bytes[at + o..at + o + 4].try_into().unwrap());
        let end = at + 16 + u(8) as usize;
        if end > bytes.len() {
            break;
        }
        out.push((at, end, i64::from(u(0)) * 1_000_000 + i64::from(u(4))));
        at = end;
    }
    out
}

fn scan_dir(inputs: &[&Path]) -> Vec<HandshakeRow> {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["scan", "-q", "-o", dir.path().to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = certsift(&args);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
    read_scan(dir.path()).unwrap().handshakes
}

/// The fields that must not depend on how the capture was cut or split.
fn essence(h: &HandshakeRow) -> String {
    format!(
        "{}:{} {}:{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {}",
        h.client_ip,
        h.client_port,
        h.server_ip,
        h.server_port,
        h.sni,
        h.tls_version,
        h.cipher_suite,
        h.fingerprints.ja3,
        h.fingerprints.ja4,
        h.cert_chain_sha256,
        h.alerts,
        h.cert_visibility,
        h.ts_start,
        h.ts_end
    )
}

#[test]
fn truncation_at_many_offsets_keeps_every_connection_wholly_before_the_cut() {
    let path = capture("s02_transparent_mitm_mixed.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let full = scan_dir(&[&path]);
    let recs = records(&bytes);
    assert_eq!(recs.len(), 322);
    let dir = tempfile::tempdir().unwrap();
    // 24 cuts spread over the file, half of them inside a record.
    for i in 1..=24 {
        let (start, end, _) = recs[recs.len() * i / 25];
        let cut = if i % 2 == 0 { start } else { (start + end) / 2 };
        let last_whole_ts = recs
            .iter()
            .take_while(|r| r.1 <= cut)
            .last()
            .map_or(i64::MIN, |r| r.2);
        let cut_path = dir.path().join(format!("cut{i}.pcap"));
        std::fs::write(&cut_path, &bytes[..cut]).unwrap();
        let got: Vec<String> = scan_dir(&[&cut_path]).iter().map(essence).collect();
        for h in &full {
            let before = h.ts_end <= last_whole_ts;
            let after = h.ts_start > last_whole_ts;
            let e = essence(h);
            if before {
                assert!(got.contains(&e), "cut at {cut}: lost {e}");
            }
            if after {
                assert!(
                    !got.iter().any(|g| g.starts_with(&e[..e.find(' ').unwrap()])
                        && g.contains(&format!(" {} ", h.ts_start))),
                    "cut at {cut}: connection after the cut appeared: {e}"
                );
            }
        }
    }
}

/// Writes `recs` of `bytes` as a pcap with the original global header.
fn write_part(path: &Path, bytes: &[u8], recs: &[(usize, usize, i64)]) {
    let mut out = bytes[..24].to_vec();
    for (s, e, _) in recs {
        out.extend_from_slice(&bytes[*s..*e]);
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn a_rotated_series_is_one_capture_read_in_time_order() {
    let path = capture("s02_transparent_mitm_mixed.pcap");
    let bytes = std::fs::read(&path).unwrap();
    let full: Vec<String> = scan_dir(&[&path]).iter().map(essence).collect();
    let recs = records(&bytes);
    let dir = tempfile::tempdir().unwrap();
    // tcpdump -C naming: dump.pcap, dump.pcap1, dump.pcap2; cuts fall inside
    // connections, so several of them span two files.
    let thirds = [0, recs.len() / 3, recs.len() * 2 / 3, recs.len()];
    let names = ["dump.pcap", "dump.pcap1", "dump.pcap2"];
    for (k, name) in names.iter().enumerate() {
        write_part(
            &dir.path().join(name),
            &bytes,
            &recs[thirds[k]..thirds[k + 1]],
        );
    }
    let mut by_folder: Vec<String> = scan_dir(&[dir.path()]).iter().map(essence).collect();
    let reversed: Vec<_> = names.iter().rev().map(|n| dir.path().join(n)).collect();
    let refs: Vec<&Path> = reversed.iter().map(|p| p.as_path()).collect();
    let mut by_files: Vec<String> = scan_dir(&refs).iter().map(essence).collect();
    let mut full = full;
    full.sort();
    by_folder.sort();
    by_files.sort();
    assert_eq!(by_folder, full);
    assert_eq!(by_files, full);
}

/// A capture taken with a snap length (`tcpdump -s N`, here rewritten as
/// `editcap -s N` would) keeps what fits: the counts are tshark 4.0's on
/// the same cut (`-Y tls.handshake.type==2`, `tls.handshake.
/// extensions_server_name`): at 200 bytes every ServerHello and one SNI, at
/// 600 every SNI too; no certificate survives either cut.
#[test]
fn snap_length_cut_keeps_what_was_captured() {
    let bytes = std::fs::read(capture("s02_transparent_mitm_mixed.pcap")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (snap, (versions, snis)) in [(200u32, (17, 1)), (600, (17, 16))] {
        let mut cut = bytes[..24].to_vec();
        cut[16..20].copy_from_slice(&snap.to_le_bytes());
        for (at, end, _) in records(&bytes) {
            let keep = (end - at - 16).min(snap as usize);
            let mut head = bytes[at..at + 16].to_vec();
            head[8..12].copy_from_slice(&(keep as u32).to_le_bytes());
            cut.extend_from_slice(&head);
            cut.extend_from_slice(&bytes[at + 16..at + 16 + keep]);
        }
        let path = tmp.path().join(format!("snap{snap}.pcap"));
        std::fs::write(&path, &cut).unwrap();
        let rows = scan_dir(&[&path]);
        assert_eq!(rows.len(), 17, "snap {snap}");
        let count = |f: fn(&HandshakeRow) -> bool| rows.iter().filter(|h| f(h)).count();
        assert_eq!(count(|h| h.tls_version.is_some()), versions, "snap {snap}");
        assert_eq!(
            count(|h| h.fingerprints.ja3s.is_some()),
            versions,
            "snap {snap}"
        );
        assert_eq!(count(|h| h.sni.is_some()), snis, "snap {snap}");
        assert_eq!(count(|h| h.leaf_sha256.is_some()), 0, "snap {snap}");
    }
}
