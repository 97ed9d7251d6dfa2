//! `certsift analyze`: the union of several scans' tables, streamed. In: scan
//! folders (either layout). Out: merged `handshakes`, `certificates`,
//! `files`, `findings` and `incidents` tables in one output folder.
//!
//! Handshakes are read one record batch at a time and written straight to
//! the merged table, so a batch (8 Ki rows) is the most of them held whole;
//! what stays in memory is one 24-byte entry per flow id to drop
//! duplicates, the certificate rows (one per distinct certificate), and
//! either one [`Connection`] per connection (about 190 bytes, strings
//! shared) or, above `max_in_memory` rows, only the [`Grouper`]'s graph
//! (four bytes per row): [`write_findings`] then reads the connections back
//! one group at a time from spill files.
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

use parquet::arrow::ArrowWriter;

use super::partition::{has_table, table_files, Table};
use super::stream::TableStream;
use super::{
    prepare_dir, read_batches, rows_of, table_batches, table_rows, tables, Format, Layout,
    BATCH_ROWS,
};
use crate::analysis::{
    analyze_connections_run, analyze_group_facts, finding_order, incidents, normalize_name,
    sort_findings, Connection, Facts, Grouper, Grouping, Interner, Thresholds,
};
use crate::error::Error;
use crate::rows::{CertRow, FileRow, FindingRow, HandshakeRow, IncidentRow};

/// Handshake rows decoded at a time while merging: each is a whole
/// `HandshakeRow` (a few KB with its strings), so 64 Ki rows held about
/// 0.6 GB; 8 Ki rows merge as fast.
const MERGE_BATCH_ROWS: usize = 8 * 1024;

/// Most groups a large merge is judged in (one spill file each, all open at
/// once while the connections are routed).
pub(crate) const MAX_GROUPS: u32 = 64;

/// What a merge produced besides the written tables.
#[derive(Debug, Default)]
pub struct Merged {
    /// Every merged connection, reduced for the detectors, in input order
    /// (empty when the merge was too large and was grouped instead).
    pub connections: Vec<Connection>,
    /// The groups the connections are judged in, when there were more than
    /// the merge was allowed to hold.
    pub grouping: Option<Grouping>,
    /// Connections merged.
    pub connection_count: u64,
    /// Distinct server names (SNI) among them.
    pub sni_names: usize,
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
/// of `dirs`. With more than `max_in_memory` handshake rows the connections
/// are not kept: the merge groups them instead (see [`Grouper`]), about
/// `max_in_memory` per group, and [`write_findings`] reads them back per group.
pub fn merge_scans(
    dirs: &[PathBuf],
    out: &Path,
    cfg: &Thresholds,
    max_in_memory: u64,
) -> Result<Merged, Error> {
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
    let certs = read_certificates(dirs)?;
    let mut sink = if count_rows(dirs)? > max_in_memory {
        Sink::Groups(Grouper::new(certs.values()))
    } else {
        Sink::Memory(Interner::default())
    };
    let sightings = merge_handshakes(dirs, out, &mut merged, &mut sink)?;
    merged.certificates = recount_certificates(certs, &sightings);
    if let Sink::Groups(g) = sink {
        let by_sha: HashMap<&str, &CertRow> = merged
            .certificates
            .iter()
            .map(|c| (c.sha256.as_str(), c))
            .collect();
        merged.grouping = Some(g.finish(&by_sha, cfg, max_in_memory, MAX_GROUPS));
    }
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
    super::write_rows(out, Format::Parquet, &Layout::Single, &merged.certificates)?;
    super::write_rows(out, Format::Parquet, &Layout::Single, &merged.files)?;
    // the detectors need neither the DER nor the sightings' exact order
    for c in &mut merged.certificates {
        c.der = Vec::new();
    }
    Ok(merged)
}

/// Judges every merged connection and writes the `findings` table to `out`:
/// at once when the connections are in memory; else the merged handshakes
/// table is read once and each row's detector columns are routed to its
/// group's spill file (in a temporary folder inside `out`, removed
/// afterwards), the groups are judged one after another, each group's
/// findings are spilled in order, and the sorted runs are merged into the
/// table. The `incidents` table follows, built once from every group's
/// findings and facts, so it is the same however the run was grouped.
/// Returns the findings without their flow ids (the evidence lists, which
/// grow with the connections, are only in the table), and the incidents.
pub fn write_findings(
    merged: &Merged,
    out: &Path,
    cfg: &Thresholds,
) -> Result<(Vec<FindingRow>, Vec<IncidentRow>), Error> {
    let Some(grouping) = &merged.grouping else {
        let (mut findings, incidents) =
            analyze_connections_run(&merged.connections, &merged.certificates, cfg, None);
        super::write_findings(out, &findings)?;
        super::write_incidents(out, &incidents)?;
        for f in &mut findings {
            f.flow_ids = Vec::new();
        }
        return Ok((findings, incidents));
    };
    let spill = SpillDir::create(out)?;
    let schema = std::sync::Arc::new(tables::findings(&[]).schema());
    let mut table = TableStream::create(
        out,
        Table::Findings,
        Format::Parquet,
        &Layout::Single,
        schema,
    )?;
    let (light, facts) = judge_groups(
        &out.join("handshakes.parquet"),
        grouping,
        &merged.certificates,
        cfg,
        None,
        &spill.0,
        &mut table,
    )?;
    table.finish()?.commit()?;
    let incidents = incidents(&light, &facts);
    super::write_incidents(out, &incidents)?;
    Ok((light, incidents))
}

/// Judges the connections of `table` (a handshakes table, or a spill file
/// holding at least [`Connection::COLUMNS`]) one group of `grouping` at a
/// time: each row's detector columns are routed to its group's spill file
/// in `spill`, the groups are judged one after another, each group's
/// findings are spilled in order, and the sorted runs are merged into
/// `findings`. Returns the findings without their flow ids (the evidence
/// lists, which grow with the connections, are only in the table) and the
/// facts the incidents are built from.
pub(crate) fn judge_groups(
    table: &Path,
    grouping: &Grouping,
    certs: &[CertRow],
    cfg: &Thresholds,
    baseline: Option<(&[HandshakeRow], &[CertRow])>,
    spill: &Path,
    findings: &mut TableStream,
) -> Result<(Vec<FindingRow>, Facts), Error> {
    let files = route(table, grouping, spill)?;
    let mut light = Vec::new();
    let mut runs = Vec::new();
    let mut facts = Facts::default();
    for (g, path) in files.iter().enumerate() {
        let Some(path) = path else { continue };
        let mut interner = Interner::default();
        // Sized once from the spill's footer: a vector grown by doubling
        // held up to twice a large group (300 MB of 888k connections, in
        // heaptrack) and copied it on the way.
        let mut connections = Vec::with_capacity(usize::try_from(table_rows(path)?).unwrap_or(0));
        // A batch becomes whole `HandshakeRow`s before it is reduced: at
        // 64 Ki rows they were the peak of loading a large group.
        for batch in table_batches(path, MERGE_BATCH_ROWS, None)? {
            let rows = rows_of(&[batch?], tables::handshakes_into)?;
            connections.extend(rows.iter().map(|h| Connection::from_row(h, &mut interner)));
        }
        drop(interner);
        let (found, group_facts) =
            analyze_group_facts(&connections, certs, cfg, baseline, Some(grouping.globals));
        facts.extend(group_facts);
        drop(connections);
        let _ = std::fs::remove_file(path);
        if found.is_empty() {
            continue;
        }
        let run = spill.join(format!("findings-{g}.parquet"));
        let schema = std::sync::Arc::new(tables::findings(&[]).schema());
        let mut w = TableWriter::spill(&run, schema)?;
        // Flow ids become strings a batch of findings at a time, a batch
        // bounded by its findings and by the flow ids they name.
        let mut found = found.into_iter().peekable();
        while found.peek().is_some() {
            let mut chunk: Vec<FindingRow> = Vec::new();
            let mut ids = 0;
            while chunk.len() < FINDINGS_BATCH && ids < FINDINGS_BATCH_IDS {
                let Some(f) = found.next() else { break };
                ids += f.flow_ids.len();
                chunk.push(f.into_row());
            }
            w.write(
                &tables::findings(&chunk)
                    .batch()
                    .map_err(|e| spill_err(&run, e))?,
            )?;
            light.extend(chunk.into_iter().map(|mut f| {
                f.flow_ids = Vec::new();
                f
            }));
        }
        w.close()?;
        runs.push(run);
    }
    merge_runs(&runs, findings)?;
    sort_findings(&mut light);
    Ok((light, facts))
}

/// Findings per record batch when findings are spilled and merged: one
/// finding may list a million flow ids.
const FINDINGS_BATCH: usize = 256;

/// Flow ids per record batch of spilled findings, a finding at least: as
/// strings and in the batch, each takes about 60 bytes.
const FINDINGS_BATCH_IDS: usize = 64 * 1024;

/// Merges sorted runs of findings (each a Parquet file in the order of
/// [`finding_order`]) into `out`'s `findings` table, a batch of each run in
/// memory at a time.
fn merge_runs(runs: &[PathBuf], w: &mut TableStream) -> Result<(), Error> {
    struct Run {
        batches: Box<dyn Iterator<Item = Result<arrow_array::RecordBatch, Error>>>,
        head: std::collections::VecDeque<FindingRow>,
    }
    impl Run {
        /// Refills the head from the next batch; false at the end.
        fn fill(&mut self) -> Result<bool, Error> {
            while self.head.is_empty() {
                let Some(b) = self.batches.next() else {
                    return Ok(false);
                };
                self.head.extend(rows_of(&[b?], tables::findings_into)?);
            }
            Ok(true)
        }
    }
    let mut open = Vec::with_capacity(runs.len());
    for path in runs {
        let mut run = Run {
            batches: Box::new(table_batches(path, FINDINGS_BATCH, None)?),
            head: Default::default(),
        };
        if run.fill()? {
            open.push(run);
        }
    }
    let mut batch: Vec<FindingRow> = Vec::with_capacity(FINDINGS_BATCH);
    let flush =
        |batch: &mut Vec<FindingRow>, w: &mut TableStream| -> Result<(), Error> {
            if !batch.is_empty() {
                w.write(tables::findings(batch.as_slice()).batch().map_err(|msg| {
                    Error::Encode {
                        path: PathBuf::from("findings"),
                        msg,
                    }
                })?)?;
                batch.clear();
            }
            Ok(())
        };
    loop {
        let mut best: Option<usize> = None;
        for (i, r) in open.iter().enumerate() {
            let better = best.is_none_or(|b| {
                finding_order(&r.head[0], &open[b].head[0]) == std::cmp::Ordering::Less
            });
            if better {
                best = Some(i);
            }
        }
        let Some(i) = best else { break };
        if let Some(f) = open[i].head.pop_front() {
            batch.push(f);
        }
        if !open[i].fill()? {
            open.swap_remove(i);
        }
        if batch.len() >= FINDINGS_BATCH {
            flush(&mut batch, w)?;
        }
    }
    flush(&mut batch, w)?;
    Ok(())
}

/// Most bytes a streamed table's writer buffers before it ends a row group
/// (otherwise a million rows, however wide; on the synthetic 10-million-row
/// merge this made no measurable difference, the rows are narrow there).
const ROW_GROUP_BUFFER: usize = 64 << 20;

/// One spill file (Parquet) written batch by batch.
pub(crate) struct TableWriter {
    path: PathBuf,
    w: ArrowWriter<BufWriter<File>>,
}

impl TableWriter {
    /// A spill file: fast compression, small row groups (the open spill
    /// writers together buffer little).
    pub(crate) fn spill(path: &Path, schema: arrow_schema::SchemaRef) -> Result<Self, Error> {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::LZ4_RAW)
            .set_max_row_group_row_count(Some(SPILL_ROW_GROUP))
            .build();
        Self::open(path.to_path_buf(), schema, props)
    }

    fn open(
        path: PathBuf,
        schema: arrow_schema::SchemaRef,
        props: parquet::file::properties::WriterProperties,
    ) -> Result<Self, Error> {
        let file = File::create(&path).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        })?;
        let w = ArrowWriter::try_new(BufWriter::new(file), schema, Some(props)).map_err(|e| {
            Error::Encode {
                path: path.clone(),
                msg: e.to_string(),
            }
        })?;
        Ok(TableWriter { path, w })
    }

    /// Writes a batch; ends the row group early once the writer holds
    /// [`ROW_GROUP_BUFFER`] bytes.
    pub(crate) fn write(&mut self, batch: &arrow_array::RecordBatch) -> Result<(), Error> {
        let err = |e: parquet::errors::ParquetError| Error::Encode {
            path: self.path.clone(),
            msg: e.to_string(),
        };
        self.w.write(batch).map_err(err)?;
        if self.w.memory_size() > ROW_GROUP_BUFFER {
            self.w.flush().map_err(err)?;
        }
        Ok(())
    }

    /// Closes a spill file.
    pub(crate) fn close(self) -> Result<(), Error> {
        self.w
            .close()
            .map_err(|e| spill_err(&self.path, e.to_string()))?;
        Ok(())
    }
}

/// A temporary folder for spill files, removed when dropped.
pub(crate) struct SpillDir(pub(crate) PathBuf);

impl SpillDir {
    pub(crate) fn create(out: &Path) -> Result<SpillDir, Error> {
        let dir = out.join(format!(".certsift-spill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|source| Error::Output {
            path: dir.clone(),
            source,
        })?;
        Ok(SpillDir(dir))
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Rows per row group of a spill file: small, so that the open writers
/// together buffer little.
const SPILL_ROW_GROUP: usize = 8 * 1024;

/// Reads the merged handshakes once and writes each row's detector columns
/// to its group's file in `dir`; returns the files, by group (`None` for an
/// empty group).
fn route(table: &Path, grouping: &Grouping, dir: &Path) -> Result<Vec<Option<PathBuf>>, Error> {
    let groups = grouping.groups as usize;
    let mut writers: Vec<Option<(PathBuf, TableWriter)>> = (0..groups).map(|_| None).collect();
    let mut row = 0usize;
    for batch in table_batches(table, BATCH_ROWS, Some(Connection::COLUMNS))? {
        let batch = &batch?;
        let n = batch.num_rows();
        let of = grouping
            .row_group
            .get(row..row + n)
            .ok_or_else(|| Error::Table {
                path: table.to_path_buf(),
                msg: "holds more rows than were merged into it; run analyze again".into(),
            })?;
        row += n;
        let mut present = vec![false; groups];
        for &g in of {
            present[g as usize] = true;
        }
        for (g, _) in present.iter().enumerate().filter(|(_, p)| **p) {
            let mask: arrow_array::BooleanArray =
                of.iter().map(|&x| Some(x as usize == g)).collect();
            let part = arrow_select::filter::filter_record_batch(batch, &mask)
                .map_err(|e| spill_err(dir, e.to_string()))?;
            let slot = &mut writers[g];
            if slot.is_none() {
                let path = dir.join(format!("group-{g}.parquet"));
                let w = TableWriter::spill(&path, part.schema())?;
                *slot = Some((path, w));
            }
            if let Some((_, w)) = slot {
                w.write(&part)?;
            }
        }
    }
    writers
        .into_iter()
        .map(|slot| {
            slot.map(|(path, w)| {
                w.close()?;
                Ok(path)
            })
            .transpose()
        })
        .collect()
}

fn spill_err(path: &Path, msg: String) -> Error {
    Error::Encode {
        path: path.to_path_buf(),
        msg: format!("cannot write a spill file: {msg}"),
    }
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

/// Where merged connections go: into memory, or only into the grouping.
enum Sink {
    Memory(Interner),
    Groups(Grouper),
}

/// Handshake rows in the scans' tables, from the files' footers.
fn count_rows(dirs: &[PathBuf]) -> Result<u64, Error> {
    let mut n = 0u64;
    for dir in dirs {
        for part in table_files(dir, Table::Handshakes)? {
            n += table_rows(&part)?;
        }
    }
    Ok(n)
}

fn merge_handshakes(
    dirs: &[PathBuf],
    out: &Path,
    merged: &mut Merged,
    sink: &mut Sink,
) -> Result<HashMap<String, Sighting>, Error> {
    let path = out.join("handshakes.parquet");
    let enc_err = |e: String| Error::Encode {
        path: path.clone(),
        msg: e,
    };
    let schema = std::sync::Arc::new(tables::handshakes(&[]).schema());
    let mut w = TableStream::create(
        out,
        Table::Handshakes,
        Format::Parquet,
        &Layout::Single,
        schema,
    )?;
    let mut seen: HashMap<u128, u64> = HashMap::new();
    let mut sightings: HashMap<String, Sighting> = HashMap::new();
    let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
    for dir in dirs {
        for part in table_files(dir, Table::Handshakes)? {
            for batch in table_batches(&part, MERGE_BATCH_ROWS, None)? {
                let batch = batch?;
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
                    if let Some(sni) = &h.sni {
                        if !names.contains(sni.as_str()) {
                            names.insert(normalize_name(sni));
                        }
                    }
                    merged.connection_count += 1;
                    match sink {
                        Sink::Memory(interner) => {
                            merged.connections.push(Connection::from_row(h, interner));
                        }
                        Sink::Groups(g) => g.push(h),
                    }
                }
                if !rows.is_empty() {
                    w.write(tables::handshakes(&rows).batch().map_err(enc_err)?)?;
                }
            }
        }
    }
    merged.sni_names = names.len();
    w.finish()?.commit()?;
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

/// Every scan's certificate rows, one per SHA-256: the row from the scan
/// that saw the certificate first.
fn read_certificates(dirs: &[PathBuf]) -> Result<BTreeMap<String, CertRow>, Error> {
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
    Ok(certs)
}

/// The merged certificate rows with their sightings recounted over the
/// merged handshakes, ordered by (first_seen, sha256).
fn recount_certificates(
    certs: BTreeMap<String, CertRow>,
    sightings: &HashMap<String, Sighting>,
) -> Vec<CertRow> {
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
    rows
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
            info: crate::x509::CertInfo {
                sha256: sha.into(),
                ..Default::default()
            },
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
        let cfg = Thresholds::default();
        let m = merge_scans(&dirs, out.path(), &cfg, u64::MAX).unwrap();
        assert_eq!((m.rows_read, m.duplicates, m.renamed), (4, 1, 1));
        let ids: Vec<String> = m
            .connections
            .iter()
            .map(|c| c.flow_id.to_string())
            .collect();
        assert_eq!(ids.len(), 3);
        assert!(ids[2].starts_with("f2-"), "{ids:?}");
        crate::output::write_findings(out.path(), &[]).unwrap();
        let scan = crate::output::read_scan(out.path()).unwrap();
        assert_eq!(scan.handshakes.len(), 3);
        let c = &scan.certificates[0];
        // the earlier scan's verdict, sightings over the merged rows
        assert_eq!(c.trusted, Some(false));
        assert_eq!((c.first_seen, c.last_seen, c.flow_count), (10, 30, 3));
        assert!(merge_scans(&dirs, a.path(), &cfg, u64::MAX).is_err());

        // the same merge, grouped: one group entry per kept row, in order
        let out2 = tempfile::tempdir().unwrap();
        let g = merge_scans(&dirs, out2.path(), &cfg, 1).unwrap();
        assert!(g.connections.is_empty());
        assert_eq!((g.connection_count, g.sni_names), (3, 1));
        assert_eq!(g.grouping.as_ref().unwrap().row_group.len(), 3);
        assert_eq!(
            write_findings(&g, out2.path(), &cfg).unwrap(),
            write_findings(&m, out.path(), &cfg).unwrap()
        );
        assert_eq!(
            crate::output::read_scan(out2.path()).unwrap().findings,
            crate::output::read_scan(out.path()).unwrap().findings
        );
    }

    #[test]
    fn the_spilled_columns_make_the_same_connection() {
        let dir = tempfile::tempdir().unwrap();
        let h = HandshakeRow {
            flow_id: "f1".into(),
            ts_start: 7,
            client_ip: "192.0.2.1".into(),
            server_ip: "203.0.113.1".into(),
            server_port: 8443,
            transport: "quic".into(),
            sni: Some("a.test".into()),
            connect_target: Some("a.test:443".into()),
            tls_version: Some("TLS 1.3".into()),
            fingerprints: crate::tls::Fingerprints {
                ja3: Some("not read".into()),
                ja3s: Some("abc".into()),
                ..Default::default()
            },
            cert_visibility: "plain".into(),
            leaf_sha256: Some("aa".into()),
            cert_chain_sha256: vec!["aa".into(), "bb".into()],
            chain_trusted: Some(false),
            sni_matches_leaf: Some(true),
            trust_reason: Some(crate::x509::TrustReason::UnknownIssuer),
            alerts: vec!["client:fatal:bad_certificate".into()],
            server_flight_bytes: 1,
            client_bytes: 2,
            server_bytes: 3,
            app_bytes_client: 4,
            app_bytes_server: 5,
            ..Default::default()
        };
        write_tables(
            dir.path(),
            Format::Parquet,
            std::slice::from_ref(&h),
            &[],
            &[],
            None,
        )
        .unwrap();
        let mut read = Vec::new();
        let path = dir.path().join("handshakes.parquet");
        for b in table_batches(&path, BATCH_ROWS, Some(Connection::COLUMNS)).unwrap() {
            let b = b.unwrap();
            assert_eq!(b.num_columns(), Connection::COLUMNS.len());
            read.extend(rows_of(&[b], tables::handshakes_into).unwrap());
        }
        let mut i = Interner::default();
        assert_eq!(
            Connection::from_row(&read[0], &mut i),
            Connection::from_row(&h, &mut i)
        );
    }
}
