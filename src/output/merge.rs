//! `certsift analyze`: the union of several scans' tables, streamed. In: scan
//! folders (either layout). Out: merged `handshakes`, `certificates` and
//! `files` tables in one output folder, and the connections the detectors
//! need, reduced to [`Connection`]s.
//!
//! Handshakes are read one record batch at a time and written straight to
//! the merged table, so a batch (64 Ki rows) is the most of them held whole;
//! what stays in memory is one [`Connection`] per connection (about 300
//! bytes, strings shared), one 24-byte entry per flow id to drop
//! duplicates, and the certificate rows (one per distinct certificate).
//!
//! Flow ids are a hash of the capture file's name, the connection's first
//! frame, its start time and its endpoints, so a shard never mints another
//! shard's id for a different connection. The same id twice means the same
//! capture was scanned in two shards: the second copy is dropped. The same
//! id with other endpoints or another start time (a collision of the 64-bit
//! id) keeps both connections and gives the later one a derived id.
//!
//! Certificates are merged by SHA-256: the row from the scan that saw the
//! certificate first keeps its trust verdict; `first_seen`, `last_seen` and
//! `flow_count` are recounted over the merged handshakes, as a single scan
//! counts them (each occurrence in a server or client chain).
//!
//! Left out: re-judging chains. A scan completes a chain that lacks an
//! intermediate with the CA certificates seen elsewhere in that scan; a
//! shard that never saw the intermediate keeps its verdict ("untrusted").
//! Shard by capture set (a rotated series stays whole) and by site, so that
//! a connection and its missing intermediate's other sightings travel
//! together.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;

use super::partition::{has_table, table_files, Table};
use super::{
    prepare_dir, read_batches, rows_of, tables, writer_properties, Format, Layout, BATCH_ROWS,
};
use crate::analysis::{Connection, Interner};
use crate::error::Error;
use crate::rows::{CertRow, FileRow, HandshakeRow};

/// What a merge produced besides the written tables.
#[derive(Debug, Default)]
pub struct Merged {
    /// Every merged connection, reduced for the detectors, in input order.
    pub connections: Vec<Connection>,
    /// Merged certificate rows, ordered by (first_seen, sha256).
    pub certificates: Vec<CertRow>,
    /// The input scans' `files` rows.
    pub files: Vec<FileRow>,
    /// Handshake rows read.
    pub rows_read: u64,
    /// Rows dropped as copies of a connection already merged.
    pub duplicates: u64,
    /// Rows whose flow id was taken by another connection and was derived anew.
    pub renamed: u64,
}

/// Sightings of one certificate in the merged handshakes.
#[derive(Debug, Clone, Copy)]
struct Sighting {
    first: i64,
    last: i64,
    flows: i64,
}

/// Merges the scans in `dirs` into `out` (one file per table) and returns
/// the connections and certificates for the detectors. `out` may not be one
/// of `dirs`.
pub fn merge_scans(dirs: &[PathBuf], out: &Path) -> Result<Merged, Error> {
    prepare_dir(out)?;
    if let Ok(o) = out.canonicalize() {
        for d in dirs {
            if d.canonicalize().is_ok_and(|d| d == o) {
                return Err(Error::Table {
                    path: out.to_path_buf(),
                    msg: "the output folder is one of the scans being merged; choose another -o"
                        .into(),
                });
            }
        }
    }
    let mut merged = Merged::default();
    let sightings = merge_handshakes(dirs, out, &mut merged)?;
    merged.certificates = merge_certificates(dirs, &sightings)?;
    // a file read by two shards (the same scan given twice) is listed once
    let mut files_seen = std::collections::HashSet::new();
    for dir in dirs {
        if has_table(dir, Table::Files) {
            for path in table_files(dir, Table::Files)? {
                for f in rows_of(&read_batches(&path)?, tables::files_into)? {
                    if files_seen.insert((f.file.clone(), f.size_bytes, f.packets, f.first_ts)) {
                        merged.files.push(f);
                    }
                }
            }
        }
    }
    super::partition::write_table(
        out,
        &Layout::Single,
        Table::Certificates,
        Format::Parquet,
        &merged.certificates,
        |_| None,
        |r| tables::certificates(r.iter().copied()).batch(),
    )?;
    super::partition::write_table(
        out,
        &Layout::Single,
        Table::Files,
        Format::Parquet,
        &merged.files,
        |_| None,
        |r| tables::files(r.iter().copied()).batch(),
    )?;
    // the detectors need neither the DER nor the sightings' exact order
    for c in &mut merged.certificates {
        c.der = Vec::new();
    }
    Ok(merged)
}

/// A flow id's 128-bit digest: the duplicate index holds these instead of
/// the strings (two SipHash passes with different prefixes).
fn id_digest(id: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// What makes two rows with one flow id the same connection.
fn identity(h: &HandshakeRow) -> u64 {
    let mut s = std::collections::hash_map::DefaultHasher::new();
    (
        h.ts_start,
        &h.client_ip,
        h.client_port,
        &h.server_ip,
        h.server_port,
    )
        .hash(&mut s);
    s.finish()
}

/// Tries at deriving a fresh id for a colliding flow id.
const MAX_RENAME_TRIES: u32 = 8;

fn merge_handshakes(
    dirs: &[PathBuf],
    out: &Path,
    merged: &mut Merged,
) -> Result<HashMap<String, Sighting>, Error> {
    let path = out.join("handshakes.parquet");
    let tmp = out.join("handshakes.parquet.tmp");
    let io_err = |source| Error::Output {
        path: tmp.clone(),
        source,
    };
    let enc_err = |e: String| Error::Encode {
        path: path.clone(),
        msg: e,
    };
    let schema = std::sync::Arc::new(tables::handshakes(&[]).schema());
    let file = File::create(&tmp).map_err(io_err)?;
    let mut w = ArrowWriter::try_new(
        BufWriter::new(file),
        schema,
        Some(writer_properties("handshakes").map_err(enc_err)?),
    )
    .map_err(|e| enc_err(e.to_string()))?;
    let mut seen: HashMap<u128, u64> = HashMap::new();
    let mut sightings: HashMap<String, Sighting> = HashMap::new();
    let mut interner = Interner::default();
    for dir in dirs {
        for part in table_files(dir, Table::Handshakes)? {
            let err = |msg: String| Error::Table {
                path: part.clone(),
                msg,
            };
            let f = File::open(&part).map_err(|e| err(format!("cannot open: {e}")))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)
                .map_err(|e| err(format!("not a Parquet table: {e}")))?
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| err(e.to_string()))?;
            for batch in reader {
                let batch = batch.map_err(|e| err(e.to_string()))?;
                let mut rows = rows_of(std::slice::from_ref(&batch), tables::handshakes_into)?;
                merged.rows_read += rows.len() as u64;
                rows.retain_mut(|h| keep(h, &mut seen, merged));
                for h in &rows {
                    for sha in h.cert_chain_sha256.iter().chain(&h.client_chain_sha256) {
                        let s = sightings.entry(sha.clone()).or_insert(Sighting {
                            first: h.ts_start,
                            last: h.ts_start,
                            flows: 0,
                        });
                        s.first = s.first.min(h.ts_start);
                        s.last = s.last.max(h.ts_start);
                        s.flows += 1;
                    }
                    merged
                        .connections
                        .push(Connection::from_row(h, &mut interner));
                }
                if !rows.is_empty() {
                    let b = tables::handshakes(&rows).batch().map_err(enc_err)?;
                    w.write(&b).map_err(|e| enc_err(e.to_string()))?;
                }
            }
        }
    }
    let inner = w.into_inner().map_err(|e| enc_err(e.to_string()))?;
    let file = inner.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)?;
    std::fs::rename(&tmp, &path).map_err(|source| Error::Output {
        path: path.clone(),
        source,
    })?;
    let folder = out.join("handshakes");
    if folder.is_dir() {
        std::fs::remove_dir_all(&folder).map_err(|source| Error::Output {
            path: folder.clone(),
            source,
        })?;
    }
    Ok(sightings)
}

/// Whether to keep a row: a copy of a merged connection is dropped; a new
/// connection under a taken id gets a derived id.
fn keep(h: &mut HandshakeRow, seen: &mut HashMap<u128, u64>, merged: &mut Merged) -> bool {
    let me = identity(h);
    for attempt in 0..MAX_RENAME_TRIES {
        match seen.get(&id_digest(&h.flow_id)) {
            None => {
                seen.insert(id_digest(&h.flow_id), me);
                if attempt > 0 {
                    merged.renamed += 1;
                }
                return true;
            }
            Some(&other) if other == me => {
                merged.duplicates += 1;
                return false;
            }
            Some(_) => {
                h.flow_id = format!("{}-{:08x}", h.flow_id, me >> 32);
            }
        }
    }
    merged.renamed += 1;
    true
}

fn merge_certificates(
    dirs: &[PathBuf],
    sightings: &HashMap<String, Sighting>,
) -> Result<Vec<CertRow>, Error> {
    let mut certs: BTreeMap<String, CertRow> = BTreeMap::new();
    for dir in dirs {
        for path in table_files(dir, Table::Certificates)? {
            for c in rows_of(&read_batches(&path)?, tables::certificates_into)? {
                {
                    match certs.get_mut(&c.sha256) {
                        Some(e) if c.first_seen < e.first_seen => *e = c,
                        Some(_) => {}
                        None => {
                            certs.insert(c.sha256.clone(), c);
                        }
                    }
                }
            }
        }
    }
    let mut rows: Vec<CertRow> = certs
        .into_values()
        .map(|mut c| {
            if let Some(s) = sightings.get(&c.sha256) {
                c.first_seen = s.first;
                c.last_seen = s.last;
                c.flow_count = s.flows;
            }
            c
        })
        .collect();
    rows.sort_by(|a, b| (a.first_seen, &a.sha256).cmp(&(b.first_seen, &b.sha256)));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::write_tables;

    fn row(id: &str, ts: i64, client: &str, leaf: &str) -> HandshakeRow {
        HandshakeRow {
            flow_id: id.into(),
            ts_start: ts,
            client_ip: client.into(),
            server_ip: "203.0.113.1".into(),
            server_port: 443,
            sni: Some("a.test".into()),
            cert_chain_sha256: vec![leaf.into()],
            leaf_sha256: Some(leaf.into()),
            ..Default::default()
        }
    }

    fn cert(sha: &str, first: i64, trusted: bool) -> CertRow {
        CertRow {
            sha256: sha.into(),
            first_seen: first,
            last_seen: first,
            flow_count: 1,
            trusted: Some(trusted),
            ..Default::default()
        }
    }

    #[test]
    fn copies_are_dropped_collisions_renamed_and_sightings_recounted() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        // shard a: two connections; shard b: a copy of one of them, and a
        // different connection that happens to carry the other's id
        let ha = vec![
            row("f1", 10, "10.0.0.1", "aa"),
            row("f2", 20, "10.0.0.2", "aa"),
        ];
        let hb = vec![
            row("f1", 10, "10.0.0.1", "aa"),
            row("f2", 30, "10.0.0.3", "aa"),
        ];
        write_tables(
            a.path(),
            Format::Parquet,
            &ha,
            &[cert("aa", 10, true)],
            &[],
            None,
        )
        .unwrap();
        write_tables(
            b.path(),
            Format::Parquet,
            &hb,
            &[cert("aa", 5, false)],
            &[],
            None,
        )
        .unwrap();
        let dirs = vec![a.path().to_path_buf(), b.path().to_path_buf()];
        let m = merge_scans(&dirs, out.path()).unwrap();
        assert_eq!((m.rows_read, m.duplicates, m.renamed), (4, 1, 1));
        let ids: Vec<&str> = m.connections.iter().map(|c| &*c.flow_id).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids[2].starts_with("f2-"), "{ids:?}");
        crate::output::write_findings(out.path(), &[]).unwrap();
        let scan = crate::output::read_scan(out.path()).unwrap();
        assert_eq!(scan.handshakes.len(), 3);
        let c = &scan.certificates[0];
        // the earlier scan's verdict, sightings over the merged rows
        assert_eq!(c.trusted, Some(false));
        assert_eq!((c.first_seen, c.last_seen, c.flow_count), (10, 30, 3));
        assert!(merge_scans(&dirs, a.path()).is_err());
    }
}
