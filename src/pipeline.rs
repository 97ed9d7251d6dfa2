//! Wires the stages: inputs → capture windows → parallel decode → flow shards
//! (reassembly + TLS) → certificates parsed once and judged at flow time →
//! rows → analysis → tables. The only module that uses rayon.
//!
//! Inputs are grouped into capture sets: a rotated series (files in one folder
//! whose names differ only in digits, e.g. `dump.pcap0`, `dump.pcap1`) is one
//! set read in time order, so a connection that spans files is one
//! connection; any other file is a set of its own. Inside a set, the walk over
//! record headers is sequential and everything else runs on all cores: frames
//! of a window are decoded in chunks in parallel, segments are routed to
//! `FLOW_SHARDS` shards by a hash of the canonical 4-tuple, and each shard
//! consumes its segments in capture order on one worker, without locks. UDP
//! datagrams go the same way to the QUIC shards (`crate::quic`) or, when
//! their content says DTLS, to the DTLS shards (`crate::dtls`), whose
//! connections become rows like TCP ones, with transport "quic" or "dtls".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analysis;
use crate::assemble::{self, Collector};
use crate::capture::{Capture, Compression, Format as CaptureFormat, Window};
use crate::decode::{self, Decoded, Defragmenter, SkipReason};
use crate::dtls;
use crate::error::{Error, InputError};
use crate::flow::{Shard, Stamp};
use crate::limits::JUDGE_BATCH_ROWS;
use crate::limits::{FLOW_SHARDS, WINDOW_BYTES, WINDOW_FRAMES};
use crate::output::merge::SpillDir;
use crate::output::{self, Format};
use crate::quic;
use crate::report::Report;
use crate::rows::{to_i64, CertRow, FileRow, FindingRow, HandshakeRow, IncidentRow, Severity};
use crate::tls::{self, KeyLog, Session};
use crate::x509::TrustStore;
use arrow_array::RecordBatch;

/// What a scan needs to know, validated by the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Capture files and folders.
    pub inputs: Vec<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Worker threads; `None` for all cores.
    pub threads: Option<usize>,
    /// Extra trusted roots (PEM files).
    pub trust_stores: Vec<PathBuf>,
    /// Trust the Mozilla root set too.
    pub default_roots: bool,
    /// Judge every chain as of this instant (µs since the epoch) instead of
    /// its connection's time (`--roots-at`).
    pub roots_at: Option<i64>,
    /// Table format.
    pub format: Format,
    /// One file per table, or hive-style partition folders.
    pub layout: output::Layout,
    /// Map files (true) or read them into memory.
    pub use_mmap: bool,
    /// Detector thresholds.
    pub thresholds: analysis::Thresholds,
    /// A previous scan's folder whose certificates count as known-good.
    pub baseline: Option<PathBuf>,
    /// TLS key logs (NSS SSLKEYLOGFILE format): files or folders of them.
    pub keylogs: Vec<PathBuf>,
    /// Flow-table caps.
    pub flow_limits: crate::flow::FlowLimits,
    /// Connections the analysis holds in memory; above, it groups them and
    /// judges one group at a time from spill files.
    pub max_in_memory: u64,
}

/// What a scan did, for the summary and the exit code.
#[derive(Debug, Default)]
pub struct Summary {
    /// Capture files found.
    pub inputs: usize,
    /// Capture files read (wholly or up to damage).
    pub files_read: usize,
    /// On-disk bytes of the files read.
    pub bytes: u64,
    /// Frames (packets) read.
    pub packets: u64,
    /// TCP segments decoded.
    pub tcp_segments: u64,
    /// Connections seen: TCP, and QUIC ones whose client Initial opened.
    pub connections: u64,
    /// Connections in which TLS was seen.
    pub tls_connections: u64,
    /// Distinct server names.
    pub names: usize,
    /// Distinct certificates.
    pub certificates: usize,
    /// Findings, most severe first.
    pub findings: Vec<FindingRow>,
    /// Interception incidents, most severe first.
    pub incidents: Vec<IncidentRow>,
    /// Per-file problems; the run went on.
    pub input_errors: Vec<InputError>,
    /// Table files written.
    pub outputs: Vec<PathBuf>,
}

impl Summary {
    /// Findings at exactly `s`.
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// Runs a scan: reads every input, writes the tables, returns the summary.
pub fn scan(cfg: &Config, report: &Report) -> Result<Summary, Error> {
    let own;
    let trust = if cfg.default_roots && cfg.trust_stores.is_empty() {
        TrustStore::mozilla()
    } else {
        own = load_trust(cfg)?;
        &own
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::NoInput(format!("cannot start worker threads: {e}")))?;
    pool.install(|| scan_in_pool(cfg, trust, report))
}

fn load_trust(cfg: &Config) -> Result<TrustStore, Error> {
    let mut extra = Vec::new();
    for p in &cfg.trust_stores {
        let pem = std::fs::read(p).map_err(|e| Error::TrustStore {
            path: p.clone(),
            msg: format!("cannot read: {e}"),
        })?;
        extra.push((p.display().to_string(), pem));
    }
    TrustStore::new(cfg.default_roots, &extra).map_err(|msg| Error::TrustStore {
        path: cfg.trust_stores.first().cloned().unwrap_or_default(),
        msg,
    })
}

/// Reads every key log given (files, or folders walked recursively).
fn load_keylogs(paths: &[PathBuf], report: &Report) -> Result<KeyLog, Error> {
    let mut keys = KeyLog::new();
    let (files, errors) = expand_inputs(paths);
    if let Some(e) = errors.first() {
        return Err(Error::NoInput(format!("key log {e}")));
    }
    for f in files {
        let text = std::fs::read(&f)
            .map_err(|e| Error::NoInput(format!("key log {}: {e}", f.display())))?;
        let stats = keys.add_text(&text);
        report.detail(&format!(
            "{}: {} key log lines accepted, {} rejected",
            f.display(),
            stats.accepted,
            stats.rejected
        ));
        if stats.accepted == 0 {
            report.warn(&format!(
                "{}: no TLS 1.3 secrets in NSS key log format (lines like CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>)",
                f.display()
            ));
        }
    }
    Ok(keys)
}

/// The secrets type of a TLS key log in a pcapng Decryption Secrets Block.
const DSB_TLS_KEY_LOG: u32 = 0x544c_534b;

/// Adds the TLS key logs of Decryption Secrets Blocks the walk found since
/// the last call.
fn absorb_secrets(windows: &crate::capture::Windows<'_>, keys: &mut KeyLog, seen: &mut usize) {
    let secrets = windows.decryption_secrets();
    for s in secrets.get(*seen..).unwrap_or_default() {
        if s.secrets_type == DSB_TLS_KEY_LOG {
            keys.add_text(&s.data);
        }
    }
    *seen = secrets.len();
}

/// The stages of a scan, in order: open the inputs; read them, spilling each
/// connection's row as it ends; judge the spilled rows and write the
/// handshakes table; analyse; write the other tables; commit them all.
fn scan_in_pool(cfg: &Config, trust: &TrustStore, report: &Report) -> Result<Summary, Error> {
    output::prepare_dir(&cfg.out)?;
    let keys = load_keylogs(&cfg.keylogs, report)?;
    let mut summary = Summary::default();
    let mut inputs = open_inputs(&cfg.inputs, cfg.use_mmap, report);
    summary.inputs = inputs.captures.len() + inputs.errors.len();
    let spill = SpillDir::create(&cfg.out)?;
    let started = std::time::Instant::now();
    let read = read_inputs(cfg, &mut inputs, keys, &spill.0, report, &mut summary)?;
    report.detail(&format!(
        "read, decoded and reassembled in {:.2} s",
        started.elapsed().as_secs_f64()
    ));
    let phase = std::time::Instant::now();
    let gathered = assemble::gather(read.collectors);
    let judged = judge_and_write(cfg, trust, &gathered, &read.spill, read.rows, &spill.0)?;
    drop(gathered);
    summary.tls_connections = judged.rows;
    summary.connections += read.without_tls + judged.rows;
    summary.names = judged.names;
    summary.certificates = judged.certificates.len();
    report.detail(&format!(
        "{} certificates parsed, chains judged, handshakes written in {:.2} s",
        judged.certificates.len(),
        phase.elapsed().as_secs_f64()
    ));
    let phase = std::time::Instant::now();
    let (findings, incidents, findings_table) =
        analyse(cfg, judged.analysis, &judged.certificates, &spill.0)?;
    report.detail(&format!(
        "{} findings in {:.2} s",
        findings.len(),
        phase.elapsed().as_secs_f64()
    ));
    let files = inputs.file_rows(read.per_file);
    let staged = vec![
        judged.handshakes,
        output::stage(&cfg.out, cfg.format, &cfg.layout, &judged.certificates)?,
        output::stage(&cfg.out, cfg.format, &cfg.layout, &files)?,
        findings_table,
        output::stage(&cfg.out, cfg.format, &cfg.layout, &incidents)?,
    ];
    summary.outputs = output::stream::commit_all(staged)?;
    summary.findings = findings;
    summary.incidents = incidents;
    summary.input_errors = inputs.errors;
    Ok(summary)
}

/// The inputs of a scan: the captures that opened, and the errors of those
/// that did not.
struct Inputs {
    captures: Vec<Capture>,
    errors: Vec<InputError>,
    /// `files` rows of the inputs that could not be opened.
    failed: Vec<FileRow>,
}

impl Inputs {
    /// Every input's `files` row: those that failed, then those read.
    fn file_rows(&self, read: Vec<Option<FileRow>>) -> Vec<FileRow> {
        let mut rows = self.failed.clone();
        rows.extend(read.into_iter().flatten());
        rows
    }
}

fn open_inputs(paths: &[PathBuf], use_mmap: bool, report: &Report) -> Inputs {
    let (files, errors) = expand_inputs(paths);
    let mut inputs = Inputs {
        captures: Vec::new(),
        failed: errors.iter().map(failed_row).collect(),
        errors,
    };
    for path in files {
        match Capture::open(&path, use_mmap) {
            Ok(c) => inputs.captures.push(c),
            Err(e) => {
                report.warn(&e.to_string());
                inputs.failed.push(failed_row(&e));
                inputs.errors.push(e);
            }
        }
    }
    inputs
}

/// What reading the inputs left: the spill of rows, the certificates seen.
struct Read {
    /// The spill file of every TLS connection's row, in the order they ended.
    spill: PathBuf,
    /// Rows spilled.
    rows: u64,
    /// The shards' certificate tallies.
    collectors: Vec<Collector>,
    /// Connections that ended without TLS.
    without_tls: u64,
    /// Each capture's `files` row, by capture.
    per_file: Vec<Option<FileRow>>,
}

/// Reads every capture set; each connection's row is spilled to a file in
/// `spill_dir` as it ends.
fn read_inputs(
    cfg: &Config,
    inputs: &mut Inputs,
    mut keys: KeyLog,
    spill_dir: &Path,
    report: &Report,
    summary: &mut Summary,
) -> Result<Read, Error> {
    let captures = &inputs.captures;
    report.start(captures.iter().map(Capture::size_bytes).sum());
    let names: Vec<String> = captures
        .iter()
        .map(|c| c.path().display().to_string())
        .collect();
    let path = spill_dir.join("handshakes.parquet");
    let mut read = Read {
        rows: 0,
        collectors: Vec::new(),
        without_tls: 0,
        per_file: captures.iter().map(|_| None).collect(),
        spill: path.clone(),
    };
    let mut spill = RowSpill {
        w: output::merge::TableWriter::spill(&path, assemble::spill_schema())?,
        path,
        rows: 0,
        pending: Vec::new(),
    };
    for set in capture_sets(captures) {
        let mut set_state = SetState::new(cfg.flow_limits);
        for file in set {
            let Some(capture) = captures.get(file) else {
                continue;
            };
            let (row, damage) = read_capture(
                capture,
                file,
                &mut set_state,
                &mut keys,
                &names,
                &mut spill,
                report,
            )?;
            summary.files_read += 1;
            summary.bytes += capture.size_bytes();
            summary.packets += to_u64(row.packets);
            summary.tcp_segments += to_u64(row.tcp_segments);
            summary.connections += set_state.without_tls;
            set_state.without_tls = 0;
            if let Some(slot) = read.per_file.get_mut(file) {
                *slot = Some(row);
            }
            if let Some(e) = damage {
                inputs.errors.push(e);
            }
        }
        read.without_tls += set_state.finish(&keys, &names, &mut spill)?;
        read.collectors.append(&mut set_state.rows);
    }
    report.finish();
    read.rows = spill.rows;
    spill.w.close()?;
    Ok(read)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The flow state of one capture set.
struct SetState {
    tcp: Vec<Shard<Session>>,
    quic: Vec<quic::Shard>,
    dtls: Vec<dtls::Shard>,
    rows: Vec<Collector>,
    defrag: Defragmenter,
    /// Connections ended without TLS since last taken.
    without_tls: u64,
}

impl SetState {
    fn new(limits: crate::flow::FlowLimits) -> Self {
        SetState {
            tcp: (0..FLOW_SHARDS)
                .map(|_| Shard::with_limits(limits))
                .collect(),
            quic: (0..FLOW_SHARDS)
                .map(|_| quic::Shard::with_limits(limits))
                .collect(),
            dtls: (0..FLOW_SHARDS)
                .map(|_| dtls::Shard::with_limits(limits))
                .collect(),
            rows: (0..FLOW_SHARDS).map(|_| Collector::default()).collect(),
            defrag: Defragmenter::new(),
            without_tls: 0,
        }
    }

    /// Connections finished early so far to keep the flow tables bounded.
    fn evicted(&self) -> u64 {
        self.tcp.iter().map(|s| s.stats().evicted).sum::<u64>()
            + self.quic.iter().map(|s| s.stats().evicted).sum::<u64>()
            + self.dtls.iter().map(|s| s.stats().evicted).sum::<u64>()
    }

    /// Ends every live connection at the end of the set; returns how many
    /// ended without TLS.
    fn finish(
        &mut self,
        keys: &KeyLog,
        names: &[String],
        spill: &mut RowSpill,
    ) -> Result<u64, Error> {
        let n = self
            .tcp
            .par_iter_mut()
            .zip(self.quic.par_iter_mut())
            .zip(self.dtls.par_iter_mut())
            .zip(self.rows.par_iter_mut())
            .map(|(((tcp, quic), dtls), rows)| {
                tcp.finish_all();
                tls::decrypt_ended(&mut tcp.finished, keys);
                quic.finish_all(keys);
                dtls.finish_all();
                rows.take(&mut tcp.finished, names)
                    + rows.take(&mut quic.finished, names)
                    + rows.take(&mut dtls.finished, names)
            })
            .sum::<u64>();
        spill.gather(&mut self.rows);
        spill.flush()?;
        Ok(n)
    }
}

/// The spill file of rows not yet judged.
struct RowSpill {
    path: PathBuf,
    w: output::merge::TableWriter,
    rows: u64,
    /// Rows ended and not yet spilled.
    pending: Vec<(assemble::SortKey, HandshakeRow)>,
}

impl RowSpill {
    /// Takes the shards' new rows, in shard order (so the order of the
    /// rows does not depend on the number of threads), and spills them once
    /// they fill a batch.
    fn take(&mut self, collectors: &mut [Collector]) -> Result<(), Error> {
        self.gather(collectors);
        if self.pending.len() >= assemble::SPILL_BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn gather(&mut self, collectors: &mut [Collector]) {
        for c in collectors {
            c.drain_into(&mut self.pending);
        }
    }

    /// Spills the pending rows.
    fn flush(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let b = assemble::spill_batch(&self.pending).map_err(|msg| Error::Encode {
            path: self.path.clone(),
            msg,
        })?;
        self.rows += self.pending.len() as u64;
        self.pending.clear();
        self.w.write(&b)
    }
}

/// Reads one capture of a set; returns its `files` row and its damage.
fn read_capture(
    capture: &Capture,
    file: usize,
    set: &mut SetState,
    keys: &mut KeyLog,
    names: &[String],
    spill: &mut RowSpill,
    report: &Report,
) -> Result<(FileRow, Option<InputError>), Error> {
    report.file(capture.path());
    let file_id = u32::try_from(file).unwrap_or(u32::MAX);
    let evicted_before = set.evicted();
    let mut counts = Counts::default();
    let mut damage: Option<InputError> = None;
    let mut windows = capture.windows();
    let mut frame_base: u64 = 0;
    let mut done_before = 0;
    let mut secrets_seen = 0;
    // The walk of the next window (sequential: it follows record
    // boundaries) overlaps the decoding and reassembly of this one.
    let mut next = windows.next_window(WINDOW_FRAMES, WINDOW_BYTES);
    absorb_secrets(&windows, keys, &mut secrets_seen);
    loop {
        match next {
            Ok(Some(w)) => {
                // The rows of the connections that ended are spilled on
                // the same side, while the next window is walked.
                let (following, (c, spilled)) = rayon::join(
                    || windows.next_window(WINDOW_FRAMES, WINDOW_BYTES),
                    || {
                        let c = process_window(
                            &w,
                            file_id,
                            frame_base,
                            Shards {
                                tcp: &mut set.tcp,
                                quic: &mut set.quic,
                                dtls: &mut set.dtls,
                                rows: &mut set.rows,
                            },
                            &mut set.defrag,
                            keys,
                            names,
                        );
                        (c, spill.take(&mut set.rows))
                    },
                );
                spilled?;
                counts.add(&c);
                frame_base += w.frames.len() as u64;
                next = following;
                // Secrets embedded in the capture (pcapng DSB) join the
                // key log before the packets after them are reassembled.
                absorb_secrets(&windows, keys, &mut secrets_seen);
            }
            Ok(None) => break,
            Err(e) => {
                report.warn(&e.to_string());
                damage = Some(e);
                break;
            }
        }
        let done = windows.bytes_consumed();
        report.advance(done.saturating_sub(done_before));
        done_before = done;
    }
    report.advance(capture.size_bytes().saturating_sub(done_before));
    set.without_tls += counts.ended_without_tls;
    counts.evicted = set.evicted() - evicted_before;
    let row = file_row(capture, &counts, damage.as_ref());
    report.detail(&format!(
        "{}: {} packets, {} TCP segments, {} skipped, {} connections evicted",
        row.file,
        row.packets,
        row.tcp_segments,
        counts.skipped(),
        counts.evicted
    ));
    Ok((row, damage))
}

/// What judging the spilled rows gave.
struct Judged {
    /// The handshakes table, staged.
    handshakes: output::stream::Staged,
    rows: u64,
    /// Distinct server names.
    names: usize,
    certificates: Vec<CertRow>,
    analysis: AnalysisInput,
}

/// The connections the analysis reads: in memory, or grouped and spilled.
enum AnalysisInput {
    Memory(Vec<analysis::Connection>),
    Groups {
        grouping: analysis::Grouping,
        /// Spill file of every judged row's detector columns.
        spill: PathBuf,
    },
}

/// Reads the spilled rows back a few batches at a time, judges their chains
/// (on every core), writes them to the handshakes table, and hands them to
/// the analysis: kept as connections when there are at most
/// `cfg.max_in_memory`, else grouped and spilled again.
fn judge_and_write(
    cfg: &Config,
    trust: &TrustStore,
    gathered: &assemble::Gathered,
    spill: &Path,
    rows: u64,
    spill_dir: &Path,
) -> Result<Judged, Error> {
    let mut assembler = assemble::Assembler::new(gathered, trust, cfg.roots_at);
    let schema = output::handshakes_schema();
    let mut table = output::stream::TableStream::create(
        &cfg.out,
        output::Table::Handshakes,
        cfg.format,
        &cfg.layout,
        schema,
    )?;
    let mut sink = if rows > cfg.max_in_memory {
        let detect = spill_dir.join("detect.parquet");
        // the detectors' columns, by position in the handshakes schema
        let schema = table.schema();
        let keep: Vec<usize> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| analysis::Connection::COLUMNS.contains(&f.name().as_str()))
            .map(|(i, _)| i)
            .collect();
        let projected = schema.project(&keep).map_err(|e| Error::Encode {
            path: detect.clone(),
            msg: e.to_string(),
        })?;
        let w = output::merge::TableWriter::spill(&detect, std::sync::Arc::new(projected))?;
        // the grouper reads only the certificates' names (inspection products)
        Sink::Groups(Box::new((
            analysis::Grouper::new(&assembler.cert_rows(gathered)),
            detect,
            w,
            keep,
        )))
    } else {
        let n = usize::try_from(rows).unwrap_or(0);
        Sink::Memory(analysis::Interner::default(), Vec::with_capacity(n))
    };
    let mut names = std::collections::HashSet::new();
    let threads = rayon::current_num_threads().max(1);
    let mut batches = output::table_batches(spill, JUDGE_BATCH_ROWS, None)?.peekable();
    while batches.peek().is_some() {
        let chunk: Vec<RecordBatch> = batches
            .by_ref()
            .take(threads * 2)
            .collect::<Result<_, Error>>()?;
        let parts = chunk
            .par_iter()
            .map(assemble::unspill)
            .collect::<Result<Vec<_>, String>>()
            .map_err(|msg| Error::Encode {
                path: spill.to_path_buf(),
                msg,
            })?;
        drop(chunk);
        for (keys, mut rows) in parts {
            assembler.judge(&mut rows, &keys);
            let batch = output::handshakes_batch(&rows).map_err(|msg| Error::Encode {
                path: cfg.out.join("handshakes"),
                msg,
            })?;
            sink.push(&rows, &batch)?;
            names.extend(
                rows.iter()
                    .filter_map(|h| h.sni.as_deref().map(analysis::normalize_name)),
            );
            table.write(batch)?;
        }
    }
    let certificates = assembler.cert_rows(gathered);
    let analysis = sink.finish(&certificates, cfg)?;
    Ok(Judged {
        handshakes: table.finish()?,
        rows,
        names: names.len(),
        certificates,
        analysis,
    })
}

/// Where judged rows go for the analysis.
enum Sink {
    Memory(analysis::Interner, Vec<analysis::Connection>),
    /// The grouper, the detector spill, its writer and the columns kept.
    Groups(
        Box<(
            analysis::Grouper,
            PathBuf,
            output::merge::TableWriter,
            Vec<usize>,
        )>,
    ),
}

impl Sink {
    fn push(&mut self, rows: &[HandshakeRow], batch: &RecordBatch) -> Result<(), Error> {
        match self {
            Sink::Memory(interner, connections) => {
                connections.extend(
                    rows.iter()
                        .map(|h| analysis::Connection::from_row(h, interner)),
                );
                Ok(())
            }
            Sink::Groups(g) => {
                let (grouper, path, w, keep) = &mut **g;
                for h in rows {
                    grouper.push(h);
                }
                let b = batch.project(keep).map_err(|e| Error::Encode {
                    path: path.clone(),
                    msg: e.to_string(),
                })?;
                w.write(&b)
            }
        }
    }

    fn finish(self, certs: &[CertRow], cfg: &Config) -> Result<AnalysisInput, Error> {
        Ok(match self {
            Sink::Memory(_, connections) => AnalysisInput::Memory(connections),
            Sink::Groups(g) => {
                let (grouper, spill, w, _) = *g;
                w.close()?;
                let by_sha: std::collections::HashMap<&str, &CertRow> =
                    certs.iter().map(|c| (c.sha256.as_str(), c)).collect();
                let grouping = grouper.finish(
                    &by_sha,
                    &cfg.thresholds,
                    cfg.max_in_memory,
                    output::merge::MAX_GROUPS,
                );
                AnalysisInput::Groups { grouping, spill }
            }
        })
    }
}

/// The findings and incidents of the judged connections (against the
/// `--baseline` scan, when given), and the findings table staged: in one
/// pass over the connections in memory, or group by group from the spill
/// (the same findings).
fn analyse(
    cfg: &Config,
    input: AnalysisInput,
    certs: &[CertRow],
    spill_dir: &Path,
) -> Result<(Vec<FindingRow>, Vec<IncidentRow>, output::stream::Staged), Error> {
    let baseline = match &cfg.baseline {
        Some(dir) => Some(output::read_scan(dir)?),
        None => None,
    };
    let baseline = baseline
        .as_ref()
        .map(|b| (b.handshakes.as_slice(), b.certificates.as_slice()));
    match input {
        AnalysisInput::Memory(connections) => {
            let (mut findings, incidents) =
                analysis::analyze_connections_run(&connections, certs, &cfg.thresholds, baseline);
            drop(connections);
            let table = output::stage(&cfg.out, cfg.format, &cfg.layout, &findings)?;
            for f in &mut findings {
                f.flow_ids = Vec::new();
            }
            Ok((findings, incidents, table))
        }
        AnalysisInput::Groups { grouping, spill } => {
            let mut table = output::stream_of::<FindingRow>(&cfg.out, cfg.format, &cfg.layout)?;
            let (findings, facts) = output::merge::judge_groups(
                &spill,
                &grouping,
                certs,
                &cfg.thresholds,
                baseline,
                spill_dir,
                &mut table,
            )?;
            let incidents = analysis::incidents(&findings, &facts);
            Ok((findings, incidents, table.finish()?))
        }
    }
}

/// What one window (or chunk of it) held, by kind.
#[derive(Debug, Default, Clone)]
struct Counts {
    packets: u64,
    captured_bytes: u64,
    tcp: u64,
    udp: u64,
    fragments: u64,
    skip_link: u64,
    skip_not_ip: u64,
    skip_truncated: u64,
    skip_bad_header: u64,
    skip_other: u64,
    skip_deep: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    link_types: std::collections::BTreeSet<u32>,
    /// Connections that ended without TLS: counted, then dropped at once
    /// rather than kept to the end of the run (a million SYN-only or
    /// never-finished connections held gigabytes of records).
    ended_without_tls: u64,
    /// Connections finished early to keep the flow tables bounded
    /// (`--max-flows`), while reading this file.
    evicted: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.packets += o.packets;
        self.captured_bytes += o.captured_bytes;
        self.ended_without_tls += o.ended_without_tls;
        self.tcp += o.tcp;
        self.udp += o.udp;
        self.fragments += o.fragments;
        self.skip_link += o.skip_link;
        self.skip_not_ip += o.skip_not_ip;
        self.skip_truncated += o.skip_truncated;
        self.skip_bad_header += o.skip_bad_header;
        self.skip_other += o.skip_other;
        self.skip_deep += o.skip_deep;
        self.first_ts = min_opt(self.first_ts, o.first_ts);
        self.last_ts = self.last_ts.max(o.last_ts);
        self.link_types.extend(o.link_types.iter().copied());
    }

    fn skipped(&self) -> u64 {
        self.skip_link
            + self.skip_not_ip
            + self.skip_truncated
            + self.skip_bad_header
            + self.skip_other
            + self.skip_deep
    }

    fn skip(&mut self, reason: SkipReason) {
        match reason {
            SkipReason::UnsupportedLinktype(_) => self.skip_link += 1,
            SkipReason::NotIp => self.skip_not_ip += 1,
            SkipReason::Truncated => self.skip_truncated += 1,
            SkipReason::BadIpHeader | SkipReason::BadTcpHeader => self.skip_bad_header += 1,
            SkipReason::OtherProtocol(_) => self.skip_other += 1,
            SkipReason::TunnelTooDeep => self.skip_deep += 1,
        }
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Names of the link types a capture is likely to hold (tcpdump's names).
fn link_type_name(lt: u32) -> String {
    let name = match lt {
        0 => "NULL",
        1 => "EN10MB",
        9 => "PPP",
        12 | 14 | 101 => "RAW",
        108 => "LOOP",
        113 => "LINUX_SLL",
        228 => "IPV4",
        229 => "IPV6",
        276 => "LINUX_SLL2",
        _ => "unsupported",
    };
    format!("{lt} {name}")
}

fn failed_row(e: &InputError) -> FileRow {
    let (path, status) = match e {
        InputError::Unreadable { path, .. } => (path, "unreadable"),
        InputError::NotACapture { path } => (path, "not_a_capture"),
        InputError::Empty { path } => (path, "empty"),
        InputError::Damaged { path, .. } => (path, "damaged"),
    };
    FileRow {
        file: path.display().to_string(),
        status: status.into(),
        error: Some(e.to_string()),
        ..Default::default()
    }
}

fn file_row(c: &Capture, n: &Counts, damage: Option<&InputError>) -> FileRow {
    let format = match c.format() {
        CaptureFormat::Pcap { big_endian, nanos } => match (big_endian, nanos) {
            (false, false) => "pcap",
            (false, true) => "pcap-ns",
            (true, false) => "pcap-be",
            (true, true) => "pcap-be-ns",
        },
        CaptureFormat::PcapModified => "pcap-modified",
        CaptureFormat::Pcapng => "pcapng",
    };
    let compression = match c.compression() {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    };
    FileRow {
        file: c.path().display().to_string(),
        format: Some(format.into()),
        compression: Some(compression.into()),
        size_bytes: to_i64(c.size_bytes()),
        status: if damage.is_some() { "damaged" } else { "ok" }.into(),
        error: damage.map(ToString::to_string),
        damage_offset: damage.and_then(|d| match d {
            InputError::Damaged { offset, .. } => Some(to_i64(*offset)),
            _ => None,
        }),
        packets: to_i64(n.packets),
        captured_bytes: to_i64(n.captured_bytes),
        first_ts: n.first_ts,
        last_ts: n.last_ts,
        link_types: n.link_types.iter().map(|l| link_type_name(*l)).collect(),
        tcp_segments: to_i64(n.tcp),
        udp_datagrams: to_i64(n.udp),
        ip_fragments: to_i64(n.fragments),
        skipped_unsupported_link: to_i64(n.skip_link),
        skipped_not_ip: to_i64(n.skip_not_ip),
        skipped_truncated: to_i64(n.skip_truncated),
        skipped_bad_header: to_i64(n.skip_bad_header),
        skipped_other_protocol: to_i64(n.skip_other),
        skipped_too_deep: to_i64(n.skip_deep),
        flows_evicted: to_i64(n.evicted),
    }
}

/// The flow shards of a capture set, and the rows their ended connections
/// became.
struct Shards<'s> {
    tcp: &'s mut [Shard<Session>],
    quic: &'s mut [quic::Shard],
    dtls: &'s mut [dtls::Shard],
    rows: &'s mut [Collector],
}

/// Decodes one window in parallel and feeds the shards; connections that
/// ended become rows on their shard's worker.
fn process_window(
    w: &Window<'_>,
    file: u32,
    frame_base: u64,
    shards: Shards<'_>,
    defrag: &mut Defragmenter,
    keys: &KeyLog,
    names: &[String],
) -> Counts {
    let threads = rayon::current_num_threads().max(1);
    let chunk = (w.frames.len() / (threads * 4)).max(2048);
    let parts: Vec<Routed<'_>> = w
        .frames
        .par_chunks(chunk)
        .enumerate()
        .map(|(ci, frames)| {
            let mut routed = Routed::new(frames.len());
            for (k, f) in frames.iter().enumerate() {
                let frame = frame_base + (ci * chunk + k) as u64;
                let n = &mut routed.counts;
                n.packets += 1;
                n.captured_bytes += f.len as u64;
                n.first_ts = min_opt(n.first_ts, Some(f.ts_us));
                n.last_ts = n.last_ts.max(Some(f.ts_us));
                n.link_types.insert(f.linktype);
                match decode::decode(f.linktype, w.bytes(f)) {
                    Decoded::Tcp(t) => routed.push(t, stamp(f.ts_us, file, frame)),
                    Decoded::Udp(u) => routed.push_udp(datagram(&u, f.ts_us, file, frame)),
                    Decoded::Fragment(fr) => {
                        routed.counts.fragments += 1;
                        routed.fragments.push((frame, f.ts_us, fr));
                    }
                    Decoded::Skip(reason) => routed.counts.skip(reason),
                }
            }
            routed.index();
            routed
        })
        .collect();
    // Fragments are rare; they are reassembled in capture order, on one core.
    let mut datagrams: Vec<(u64, i64, Vec<u8>)> = Vec::new();
    for part in &parts {
        for (frame, ts, fr) in &part.fragments {
            if let Some(d) = defrag.push(fr, *ts) {
                datagrams.push((*frame, *ts, d));
            }
        }
    }
    let mut extra = Routed::new(datagrams.len());
    for (frame, ts, d) in &datagrams {
        match decode::decode_ip(d) {
            Decoded::Tcp(t) => extra.push(t, stamp(*ts, file, *frame)),
            Decoded::Udp(u) => extra.push_udp(datagram(&u, *ts, file, *frame)),
            _ => {}
        }
    }
    extra.index();
    let last_ts = w.frames.iter().map(|f| f.ts_us).max().unwrap_or(0);
    let mut counts = Counts::default();
    for p in parts.iter().chain(std::iter::once(&extra)) {
        counts.add(&p.counts);
    }
    counts.ended_without_tls = shards
        .tcp
        .par_iter_mut()
        .zip(shards.quic.par_iter_mut())
        .zip(shards.dtls.par_iter_mut())
        .zip(shards.rows.par_iter_mut())
        .enumerate()
        .map(|(s, (((shard, quic_shard), dtls_shard), rows))| {
            for part in parts.iter().chain(std::iter::once(&extra)) {
                for (seg, at) in part.shard(s) {
                    shard.push(seg, *at);
                }
                for d in part.udp_shard(s) {
                    if is_quic(d.payload) {
                        quic_shard.push(d, keys);
                    } else {
                        dtls_shard.push(d);
                    }
                }
            }
            shard.expire(last_ts);
            // TLS 1.3 flights are decrypted once their connections ended.
            tls::decrypt_ended(&mut shard.finished, keys);
            quic_shard.expire(last_ts, keys);
            dtls_shard.expire(last_ts);
            rows.take(&mut shard.finished, names)
                + rows.take(&mut quic_shard.finished, names)
                + rows.take(&mut dtls_shard.finished, names)
        })
        .sum();
    counts
}

/// Segments of one chunk in capture order, indexed by shard (a counting
/// sort: three allocations per chunk instead of one vector per shard).
struct Routed<'a> {
    segments: Vec<(decode::TcpSegment<'a>, Stamp)>,
    shard_of: Vec<u8>,
    order: Vec<u32>,
    starts: Vec<u32>,
    /// UDP datagrams for the QUIC and DTLS shards, indexed the same way.
    datagrams: Vec<quic::Datagram<'a>>,
    udp_shard_of: Vec<u8>,
    udp_order: Vec<u32>,
    udp_starts: Vec<u32>,
    fragments: Vec<(u64, i64, decode::Fragment<'a>)>,
    counts: Counts,
}

// Shard ids are stored in a byte.
const _: () = assert!(FLOW_SHARDS <= 256);

impl<'a> Routed<'a> {
    fn new(capacity: usize) -> Self {
        Routed {
            segments: Vec::with_capacity(capacity),
            shard_of: Vec::with_capacity(capacity),
            order: Vec::new(),
            starts: Vec::new(),
            datagrams: Vec::new(),
            udp_shard_of: Vec::new(),
            udp_order: Vec::new(),
            udp_starts: Vec::new(),
            fragments: Vec::new(),
            counts: Counts::default(),
        }
    }

    fn push(&mut self, seg: decode::TcpSegment<'a>, at: Stamp) {
        let key = crate::flow::FlowKey::new(seg.src_addr(), seg.dst_addr());
        let s = (key.shard_hash() % FLOW_SHARDS as u64) as u8;
        self.segments.push((seg, at));
        self.shard_of.push(s);
        self.counts.tcp += 1;
    }

    /// A UDP datagram, counted, and kept for the UDP shards when its
    /// payload could be QUIC or DTLS (decided by content, not port).
    fn push_udp(&mut self, d: quic::Datagram<'a>) {
        self.counts.udp += 1;
        if is_quic(d.payload) || dtls::is_candidate(d.payload) {
            let key = crate::flow::FlowKey::new(d.src, d.dst);
            self.udp_shard_of
                .push((key.shard_hash() % FLOW_SHARDS as u64) as u8);
            self.datagrams.push(d);
        }
    }

    /// Groups segment and datagram indices by shard, keeping capture order
    /// within each.
    fn index(&mut self) {
        let (order, starts) = index_by_shard(&self.shard_of);
        self.order = order;
        self.starts = starts;
        let (order, starts) = index_by_shard(&self.udp_shard_of);
        self.udp_order = order;
        self.udp_starts = starts;
    }

    /// The UDP datagrams of shard `s`, in capture order.
    fn udp_shard(&self, s: usize) -> impl Iterator<Item = &quic::Datagram<'a>> {
        let from = self.udp_starts.get(s).copied().unwrap_or(0) as usize;
        let to = self.udp_starts.get(s + 1).copied().unwrap_or(0) as usize;
        self.udp_order
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.datagrams.get(i as usize))
    }

    /// The segments of shard `s`, in capture order.
    fn shard(&self, s: usize) -> impl Iterator<Item = &(decode::TcpSegment<'a>, Stamp)> {
        let from = self.starts.get(s).copied().unwrap_or(0) as usize;
        let to = self.starts.get(s + 1).copied().unwrap_or(0) as usize;
        self.order
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.segments.get(i as usize))
    }
}

/// Whether a UDP payload could be QUIC: a long header, or a short one with
/// the fixed bit (RFC 9000 §17). DTLS first bytes (20-26, 0b001xxxxx)
/// never are.
fn is_quic(payload: &[u8]) -> bool {
    payload.first().is_some_and(|b| b & 0xc0 != 0)
}

/// Indices grouped by shard (a counting sort), capture order kept within
/// each: the order and the start of each shard's run in it.
fn index_by_shard(shard_of: &[u8]) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; FLOW_SHARDS + 1];
    for &s in shard_of {
        if let Some(c) = starts.get_mut(usize::from(s) + 1) {
            *c += 1;
        }
    }
    for i in 1..starts.len() {
        let prev = starts.get(i - 1).copied().unwrap_or(0);
        if let Some(c) = starts.get_mut(i) {
            *c += prev;
        }
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; shard_of.len()];
    for (i, &s) in shard_of.iter().enumerate() {
        if let Some(n) = next.get_mut(usize::from(s)) {
            if let Some(slot) = order.get_mut(*n as usize) {
                *slot = i as u32;
            }
            *n += 1;
        }
    }
    (order, starts)
}

fn datagram<'a>(
    u: &decode::UdpDatagram<'a>,
    ts_us: i64,
    file: u32,
    frame: u64,
) -> quic::Datagram<'a> {
    quic::Datagram {
        src: std::net::SocketAddr::new(u.src, u.src_port),
        dst: std::net::SocketAddr::new(u.dst, u.dst_port),
        ttl: u.ttl,
        payload: u.payload,
        ts_us,
        file,
        frame,
    }
}

fn stamp(ts_us: i64, file: u32, frame: u64) -> Stamp {
    Stamp { ts_us, file, frame }
}

/// Files to read: the inputs, with folders walked recursively (sorted).
fn expand_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        walk(input, &mut files, &mut errors, 0);
    }
    (files, errors)
}

fn walk(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>, depth: usize) {
    let unreadable = |msg: String| InputError::Unreadable {
        path: path.to_path_buf(),
        msg,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return errors.push(unreadable(e.to_string())),
    };
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return;
    }
    // Symlink loops are cut by depth.
    if depth > 32 {
        return errors.push(unreadable("folder nesting deeper than 32".into()));
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => return errors.push(unreadable(e.to_string())),
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let hidden = child
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if !hidden {
            walk(&child, files, errors, depth + 1);
        }
    }
}

/// Groups capture indices into sets; each set in time order.
fn capture_sets(captures: &[Capture]) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<(PathBuf, String), Vec<usize>> = BTreeMap::new();
    for (i, c) in captures.iter().enumerate() {
        groups.entry(series_key(c.path())).or_default().push(i);
    }
    let mut sets: Vec<Vec<usize>> = groups.into_values().collect();
    for set in &mut sets {
        set.sort_by_key(|&i| {
            let c = captures.get(i);
            (c.and_then(Capture::first_timestamp_us), i)
        });
    }
    sets.sort_by_key(|s| s.first().copied());
    sets
}

/// Folder and file name without digits: rotated files share it.
fn series_key(path: &Path) -> (PathBuf, String) {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem: String = name.chars().filter(|c| !c.is_ascii_digit()).collect();
    (dir, stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic pcap (little-endian, µs, Ethernet) whose one record, an
    /// Ethernet header alone, was captured at `ts_s` seconds.
    fn pcap_at(ts_s: u32) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 1] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [ts_s, 0, 14, 14] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&[0u8; 14]);
        b
    }

    fn capture(name: &str, ts_s: u32) -> Capture {
        Capture::from_bytes(Path::new(name), pcap_at(ts_s)).unwrap()
    }

    fn testdata(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/captures")
            .join(name)
    }

    /// Inputs: folders are walked in name order, hidden files left out,
    /// and each input that cannot be read gets its error and a `files` row
    /// with the status that names it, while the rest open.
    #[test]
    fn opening_inputs_classifies_what_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("b.pcap"), pcap_at(20)).unwrap();
        std::fs::write(d.join("a.pcap"), pcap_at(10)).unwrap();
        std::fs::write(d.join(".hidden.pcap"), pcap_at(5)).unwrap();
        std::fs::write(d.join("notes.txt"), b"not a capture").unwrap();
        std::fs::write(d.join("empty.pcap"), b"").unwrap();
        let missing = d.join("missing.pcap");
        let inputs = open_inputs(&[d.to_path_buf(), missing], true, &Report::silent());
        let opened: Vec<PathBuf> = inputs
            .captures
            .iter()
            .map(|c| c.path().to_path_buf())
            .collect();
        assert_eq!(opened, [d.join("a.pcap"), d.join("b.pcap")]);
        let status: Vec<(String, String)> = inputs
            .failed
            .iter()
            .map(|r| (r.file.clone(), r.status.clone()))
            .collect();
        let at = |n: &str| d.join(n).display().to_string();
        assert_eq!(
            status,
            [
                (at("missing.pcap"), "unreadable".to_string()),
                (at("empty.pcap"), "empty".to_string()),
                (at("notes.txt"), "not_a_capture".to_string()),
            ]
        );
        assert_eq!(inputs.errors.len(), 3);
        assert!(inputs.failed.iter().all(|r| r.error.is_some()));
        // The files table lists those that failed, then those read.
        let read = vec![None, Some(FileRow::default())];
        assert_eq!(inputs.file_rows(read).len(), 4);
    }

    /// Rotated files of one folder (names that differ only in digits) are
    /// one set, read in the order of their first packet; any other file is
    /// a set of its own. Sets go in the input order of the file each
    /// starts with.
    #[test]
    fn rotated_files_make_one_set_in_time_order() {
        let captures = vec![
            capture("cap/dump.pcap1", 300),
            capture("cap/other.pcap", 100),
            capture("cap/dump.pcap0", 200),
            capture("elsewhere/dump.pcap2", 50),
            capture("cap/dump.pcap2", 100),
        ];
        assert_eq!(
            capture_sets(&captures),
            vec![vec![1], vec![3], vec![4, 2, 0]]
        );
        assert_eq!(
            series_key(Path::new("cap/dump-2024-01-02.pcap")),
            (PathBuf::from("cap"), "dump---.pcap".to_string())
        );
    }

    /// Segments go to the shard of their 4-tuple, both directions to the
    /// same one, in capture order within it; no segment is lost.
    #[test]
    fn segments_are_routed_to_one_shard_per_connection_in_order() {
        let ep = |last: u8, port: u16| {
            std::net::SocketAddr::new(std::net::Ipv4Addr::new(192, 0, 2, last).into(), port)
        };
        let seg = |src: std::net::SocketAddr, dst: std::net::SocketAddr, frame| {
            let seg = decode::TcpSegment {
                src: src.ip(),
                dst: dst.ip(),
                src_port: src.port(),
                dst_port: dst.port(),
                seq: 0,
                ack: 0,
                flags: 0,
                window: 0,
                ttl: 64,
                payload: &[],
                tunnel: None,
                vlan: None,
            };
            let at = Stamp {
                ts_us: 0,
                file: 0,
                frame,
            };
            (seg, at)
        };
        let server = ep(1, 443);
        let mut routed = Routed::new(64);
        for frame in 0..64u64 {
            let client = ep(2, 40_000 + (frame % 8) as u16);
            if frame % 2 == 0 {
                let (g, at) = seg(client, server, frame);
                routed.push(g, at);
            } else {
                let (g, at) = seg(server, client, frame);
                routed.push(g, at);
            }
        }
        routed.index();
        let mut seen = 0;
        let mut shard_of_flow = std::collections::HashMap::new();
        for s in 0..FLOW_SHARDS {
            let frames: Vec<u64> = routed.shard(s).map(|(_, at)| at.frame).collect();
            assert!(
                frames.windows(2).all(|w| w[0] < w[1]),
                "shard {s}: {frames:?}"
            );
            for (g, _) in routed.shard(s) {
                let key = crate::flow::FlowKey::new(g.src_addr(), g.dst_addr());
                assert_eq!(*shard_of_flow.entry(key).or_insert(s), s);
            }
            seen += frames.len();
        }
        assert_eq!(seen, 64);
        assert_eq!(shard_of_flow.len(), 8);
        assert_eq!(routed.counts.tcp, 64);
    }

    #[test]
    fn counting_sort_groups_by_shard_and_keeps_order() {
        let (order, starts) = index_by_shard(&[2, 0, 2, 1, 0]);
        assert_eq!(order, [1, 4, 3, 0, 2]);
        assert_eq!(starts.get(..4).unwrap(), [0, 2, 3, 5]);
        assert_eq!(starts.last(), Some(&5));
    }

    /// A capture's `files` row says what it was (format, compression,
    /// size) and what came of it; damage carries its offset.
    #[test]
    fn file_rows_name_format_compression_and_damage() {
        let gz = Capture::open(&testdata("s08_linktypes_gzip.pcap.gz"), false).unwrap();
        let ng = Capture::open(&testdata("s08_linktypes_multi_if.pcapng"), true).unwrap();
        let counts = Counts {
            packets: 3,
            link_types: [1, 113].into(),
            first_ts: Some(7),
            ..Counts::default()
        };
        let row = file_row(&gz, &counts, None);
        assert_eq!(row.format.as_deref(), Some("pcap"));
        assert_eq!(row.compression.as_deref(), Some("gzip"));
        assert_eq!(row.status, "ok");
        assert_eq!(row.size_bytes, to_i64(gz.size_bytes()));
        assert_eq!(row.packets, 3);
        assert_eq!(row.link_types, ["1 EN10MB", "113 LINUX_SLL"]);
        assert_eq!(row.first_ts, Some(7));
        let damage = InputError::Damaged {
            path: ng.path().to_path_buf(),
            offset: 1048,
            reason: "block cut".into(),
        };
        let row = file_row(&ng, &Counts::default(), Some(&damage));
        assert_eq!(row.format.as_deref(), Some("pcapng"));
        assert_eq!(row.compression.as_deref(), Some("none"));
        assert_eq!(row.status, "damaged");
        assert_eq!(row.damage_offset, Some(1048));
        assert_eq!(row.error, Some(damage.to_string()));
        assert_eq!(failed_row(&damage).status, "damaged");
    }

    /// Staged tables appear under their final names only when committed,
    /// so that no reader sees a table half written.
    #[test]
    fn staged_tables_appear_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [FileRow {
            file: "a.pcap".into(),
            status: "ok".into(),
            ..FileRow::default()
        }];
        let staged = output::stage(dir.path(), Format::Jsonl, &Default::default(), &rows).unwrap();
        let finished = dir.path().join("files.jsonl");
        assert!(!finished.exists());
        let written = output::stream::commit_all(vec![staged]).unwrap();
        assert_eq!(written, std::slice::from_ref(&finished));
        let text = std::fs::read_to_string(&finished).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"a.pcap\""));
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
    }
}
