//! Finished connections become rows the moment they end, on the worker of
//! their flow shard, and leave memory soon after: the pipeline gathers the
//! shards' new rows after each window and spills them to disk as record
//! batches of [`SPILL_BATCH_ROWS`]. What stays is one copy of each distinct certificate and where it
//! was seen, not the rows.
//!
//! At the end of the reading, [`gather`] parses each distinct certificate
//! once, and an [`Assembler`] judges the spilled rows batch by batch (each
//! distinct chain once per span of time, see [`ChainJudge`]) and fills in
//! the columns that depend on that judgment. The certificates table follows
//! from what the judged rows said about each certificate first.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::Anomaly;
use crate::flow::FastMap;
use crate::output;
use crate::rows::{to_i64, CertRow, HandshakeRow};
use crate::tls::{self, Handshake};
use crate::x509::{self, CertInfo, CertSet, ChainJudge, ChainVerdict, TrustReason, TrustStore};

/// An ended connection with its TLS handshake.
type FlowRecord = crate::flow::FlowRecord<Handshake>;

/// Rows sort by where their connection began: file, frame, time.
pub(crate) type SortKey = (u32, u64, i64);

/// Columns a spilled row carries beyond the handshakes table's: its
/// [`SortKey`]'s file and frame.
const SPILL_FILE: &str = "spill_file";
const SPILL_FRAME: &str = "spill_frame";

/// One shard's rows and certificates, built as its connections end.
#[derive(Default)]
pub(crate) struct Collector {
    /// Rows ended since the last [`Collector::drain_into`].
    rows: Vec<(SortKey, HandshakeRow)>,
    /// Each distinct certificate once, by its DER: the same certificate
    /// arrives in thousands of connections, and hashing its DER here is much
    /// cheaper than its SHA-256 (which was 5% of a scan when done per
    /// connection).
    certs: FastMap<Vec<u8>, Tally>,
}

/// A certificate's SHA-256 and where it was seen, in one shard.
struct Tally {
    sha256: String,
    first: i64,
    last: i64,
    flows: i64,
}

impl Collector {
    /// Turns the ended connections in `finished` into rows, emptying it;
    /// returns how many carried no TLS (they make no row).
    pub(crate) fn take(&mut self, finished: &mut Vec<FlowRecord>, names: &[String]) -> u64 {
        let mut without_tls = 0;
        for mut r in finished.drain(..) {
            let Some(mut h) = r.handshake.take() else {
                without_tls += 1;
                continue;
            };
            let server = self.tally(std::mem::take(&mut h.server_chain), r.ts_start);
            let client = self.tally(std::mem::take(&mut h.client_chain), r.ts_start);
            let file = names.get(r.file as usize).cloned().unwrap_or_default();
            let key = (r.file, r.first_frame, r.ts_start);
            self.rows
                .push((key, handshake_row(&r, h, server, client, file)));
        }
        without_tls
    }

    /// Moves the rows ended since the last call to the end of `into`.
    pub(crate) fn drain_into(&mut self, into: &mut Vec<(SortKey, HandshakeRow)>) {
        into.append(&mut self.rows);
    }

    /// The SHA-256 of each certificate of a chain, counting each sighting.
    fn tally(&mut self, chain: Vec<Vec<u8>>, ts: i64) -> Vec<String> {
        chain
            .into_iter()
            .map(|der| {
                if let Some(t) = self.certs.get_mut(der.as_slice()) {
                    t.first = t.first.min(ts);
                    t.last = t.last.max(ts);
                    t.flows += 1;
                    return t.sha256.clone();
                }
                let sha256 = hex::encode(Sha256::digest(&der));
                let t = Tally {
                    sha256: sha256.clone(),
                    first: ts,
                    last: ts,
                    flows: 1,
                };
                self.certs.insert(der, t);
                sha256
            })
            .collect()
    }
}

/// The schema of a spill batch: the handshakes table's columns and the
/// rows' sort keys.
pub(crate) fn spill_schema() -> SchemaRef {
    let mut fields: Vec<Field> = output::handshakes_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(SPILL_FILE, DataType::Int64, false));
    fields.push(Field::new(SPILL_FRAME, DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

/// Rows gathered before they are spilled as one batch: building a batch
/// for a few rows per shard and window cost more than the scan's parsing on
/// the bulk capture (arrow's aligned, zeroed buffers, in `perf`).
pub(crate) const SPILL_BATCH_ROWS: usize = 1024;

/// Rows as a spill batch (see [`spill_schema`]).
pub(crate) fn spill_batch(rows: &[(SortKey, HandshakeRow)]) -> Result<RecordBatch, String> {
    let b = output::handshakes_batch(rows.iter().map(|(_, r)| r))?;
    let mut columns = b.columns().to_vec();
    columns.push(Arc::new(Int64Array::from_iter_values(
        rows.iter().map(|((f, _, _), _)| i64::from(*f)),
    )));
    columns.push(Arc::new(Int64Array::from_iter_values(
        rows.iter().map(|((_, fr, _), _)| to_i64(*fr)),
    )));
    RecordBatch::try_new(spill_schema(), columns).map_err(|e| e.to_string())
}

/// The rows of a spill batch and their sort keys.
pub(crate) fn unspill(batch: &RecordBatch) -> Result<(Vec<SortKey>, Vec<HandshakeRow>), String> {
    let rows = output::handshake_rows(batch);
    let int = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
            .ok_or_else(|| format!("spill batch lacks {name}"))
    };
    let (files, frames) = (int(SPILL_FILE)?, int(SPILL_FRAME)?);
    if files.len() != rows.len() || frames.len() != rows.len() {
        return Err("spill batch columns differ in length".into());
    }
    let keys = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let file = u32::try_from(files.value(i)).unwrap_or(u32::MAX);
            let frame = u64::try_from(frames.value(i)).unwrap_or(0);
            (file, frame, r.ts_start)
        })
        .collect();
    Ok((keys, rows))
}

/// A distinct certificate over all shards: where it was seen.
struct Seen {
    first: i64,
    last: i64,
    flows: i64,
}

/// The run's distinct certificates, parsed, and their sightings.
pub(crate) struct Gathered {
    pub(crate) certs: CertSet,
    seen: HashMap<String, Seen>,
    /// By first sight, then hash: the certificates table's order.
    order: Vec<String>,
}

/// Merges the shards' certificates and parses each once, on every core.
pub(crate) fn gather(collectors: impl IntoIterator<Item = Collector>) -> Gathered {
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut der: HashMap<String, Vec<u8>> = HashMap::new();
    for c in collectors {
        for (d, t) in c.certs {
            let e = seen.entry(t.sha256.clone()).or_insert(Seen {
                first: t.first,
                last: t.last,
                flows: 0,
            });
            e.first = e.first.min(t.first);
            e.last = e.last.max(t.last);
            e.flows += t.flows;
            der.entry(t.sha256).or_insert(d);
        }
    }
    let mut order: Vec<String> = seen.keys().cloned().collect();
    order.sort_by_key(|sha| (seen.get(sha).map_or(i64::MAX, |s| s.first), sha.clone()));
    Gathered {
        certs: CertSet::new(der, &order),
        seen,
        order,
    }
}

/// Judges spilled rows batch by batch and remembers, per certificate, the
/// verdict of the first connection (by [`SortKey`]) whose chain held it.
pub(crate) struct Assembler<'c> {
    judge: ChainJudge<'c>,
    certs: &'c CertSet,
    /// `--roots-at`: every connection judged at this one time (µs).
    judge_at: Option<i64>,
    first: HashMap<String, (SortKey, bool, Option<TrustReason>)>,
}

impl<'c> Assembler<'c> {
    pub(crate) fn new(g: &'c Gathered, trust: &'c TrustStore, judge_at: Option<i64>) -> Self {
        Assembler {
            judge: ChainJudge::new(&g.certs, trust),
            certs: &g.certs,
            judge_at,
            first: HashMap::new(),
        }
    }

    /// Fills in the judged columns of `rows` (sort keys in `keys`): chain
    /// verdict, trust reason, chain anomalies, SNI against the leaf.
    pub(crate) fn judge(&mut self, rows: &mut [HandshakeRow], keys: &[SortKey]) {
        let questions: Vec<(&[String], i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.cert_chain_sha256.as_slice(),
                    self.judge_at.unwrap_or(r.ts_start),
                )
            })
            .collect();
        let verdicts: Vec<Option<ChainVerdictCols>> = self
            .judge
            .judge(&questions)
            .into_iter()
            .map(|v| v.map(ChainVerdictCols::of))
            .collect();
        for ((r, key), v) in rows.iter().zip(keys).zip(&verdicts) {
            let Some(v) = v else { continue };
            for sha in &r.cert_chain_sha256 {
                let e = self
                    .first
                    .entry(sha.clone())
                    .or_insert((*key, v.trusted, v.reason));
                if *key < e.0 {
                    *e = (*key, v.trusted, v.reason);
                }
            }
        }
        let certs = self.certs;
        rows.par_iter_mut()
            .zip(verdicts)
            .for_each(|(r, v)| fill(r, v, certs));
    }

    /// The certificates table: every distinct certificate by first sight,
    /// with the verdict of its first connection.
    pub(crate) fn cert_rows(&self, g: &Gathered) -> Vec<CertRow> {
        g.order
            .iter()
            .filter_map(|sha| {
                let s = g.seen.get(sha)?;
                let info = g.certs.info(sha)?;
                let der = g.certs.der(sha).unwrap_or_default();
                let verdict = self.first.get(sha).map(|(_, t, r)| (*t, *r));
                Some(cert_row(info, s, der, verdict))
            })
            .collect()
    }
}

/// The columns of one row that depend on its chain's verdict and its leaf.
fn fill(r: &mut HandshakeRow, v: Option<ChainVerdictCols>, certs: &CertSet) {
    let leaf = r.leaf_sha256.as_deref().and_then(|s| certs.info(s));
    r.sni_matches_leaf = match (&r.sni, leaf) {
        (Some(s), Some(l)) => Some(x509::name_matches(l, s)),
        _ => None,
    };
    let Some(v) = v else { return };
    r.chain_trusted = Some(v.trusted);
    r.root_public = v.trusted.then_some(v.root_public);
    r.trust_reason = v.reason;
    if v.unordered || v.missing_intermediate {
        if v.unordered {
            r.anomalies.push(Anomaly::ChainUnordered);
        }
        if v.missing_intermediate {
            r.anomalies.push(Anomaly::ChainMissingIntermediate);
        }
        r.anomalies.sort();
        r.anomalies.dedup();
    }
}

/// The parts of a chain's verdict that go into its connections' rows.
#[derive(Clone, Copy)]
struct ChainVerdictCols {
    trusted: bool,
    root_public: bool,
    reason: Option<TrustReason>,
    unordered: bool,
    missing_intermediate: bool,
}

impl ChainVerdictCols {
    fn of(v: &ChainVerdict) -> Self {
        ChainVerdictCols {
            trusted: v.trusted,
            root_public: v.root_public,
            reason: v.reason_code(),
            unordered: v.unordered,
            missing_intermediate: v.missing_intermediate,
        }
    }
}

fn flow_id(file: &str, r: &FlowRecord) -> String {
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(r.first_frame.to_le_bytes());
    h.update(r.ts_start.to_le_bytes());
    h.update(r.client.to_string().as_bytes());
    h.update(r.server.to_string().as_bytes());
    hex::encode(h.finalize().get(..8).unwrap_or_default())
}

/// The row of an ended connection `r` whose TLS handshake is `h`, with its
/// chains' hashes and the name of its file. `h` is taken so that its
/// strings move into the row rather than being copied.
fn handshake_row(
    r: &FlowRecord,
    h: Handshake,
    server: Vec<String>,
    client: Vec<String>,
    file: String,
) -> HandshakeRow {
    let mut row = flow_columns(r, file);
    row.anomalies = anomalies(r, &h);
    row.alerts = h
        .alerts
        .iter()
        .map(|a| alert_text(a, h.client_side))
        .collect();
    row.ech_status = h.ech_status().map(str::to_string);
    row.tls_version = h.version.map(tls::version_name);
    row.cipher_suite = h.cipher.map(tls::cipher_name);
    row.cert_visibility = h.visibility.as_str().to_string();
    row.server_flight_bytes = to_i64(h.server_flight_bytes);
    row.app_bytes_client = to_i64(h.app_bytes_client);
    row.app_bytes_server = to_i64(h.app_bytes_server);
    row.leaf_sha256 = server.first().cloned();
    row.cert_chain_sha256 = server;
    row.client_chain_sha256 = client;
    row.fingerprints = h.fingerprints;
    row.connect_target = h.connect_target;
    row.alpn_selected = h.server_hello.and_then(|s| s.alpn);
    if let Some(ch) = h.client_hello {
        client_hello_columns(&mut row, ch);
    }
    row
}

/// The columns the flow table knows: where and when, and how much; the
/// verdict columns stay empty until the chain is judged.
fn flow_columns(r: &FlowRecord, file: String) -> HandshakeRow {
    HandshakeRow {
        flow_id: flow_id(&file, r),
        file,
        ts_start: r.ts_start,
        ts_end: r.ts_end,
        client_ip: r.client.ip().to_string(),
        client_port: i32::from(r.client.port()),
        server_ip: r.server.ip().to_string(),
        server_port: i32::from(r.server.port()),
        decryption: r.decryption.map(str::to_string),
        client_bytes: to_i64(r.client_bytes),
        server_bytes: to_i64(r.server_bytes),
        packets: to_i64(r.packets),
        client_ttl: r.client_ttl.map(i32::from),
        server_ttl: r.server_ttl.map(i32::from),
        transport: r.transport.to_string(),
        ..HandshakeRow::default()
    }
}

/// The columns of the client's first hello: server name, ALPN, what it
/// offered (GREASE left out, RFC 8701), and its ECH extension.
fn client_hello_columns(row: &mut HandshakeRow, ch: tls::ClientHello) {
    row.offered_versions = if ch.supported_versions.is_empty() {
        vec![tls::version_name(ch.legacy_version)]
    } else {
        ch.supported_versions
            .iter()
            .filter(|v| !tls::ja::is_grease(**v))
            .map(|v| tls::version_name(*v))
            .collect()
    };
    row.offered_cipher_suites = ch
        .ciphers
        .iter()
        .filter(|v| !tls::ja::is_grease(**v))
        .map(|v| tls::cipher_name(*v))
        .collect();
    if let Some(e) = &ch.ech {
        row.ech_outer_sni = if e.outer { ch.sni.clone() } else { None };
        row.ech_config_id = e.config_id.map(i32::from);
        row.ech_kdf_id = e.kdf_id.map(i32::from);
        row.ech_aead_id = e.aead_id.map(i32::from);
    }
    row.sni = ch.sni;
    row.alpn = ch.alpn;
}

/// The flow's and the handshake's anomalies, each once, sorted by code.
fn anomalies(r: &FlowRecord, h: &Handshake) -> Vec<Anomaly> {
    let mut all: Vec<Anomaly> = r.anomalies.iter().chain(&h.anomalies).copied().collect();
    all.sort();
    all.dedup();
    all
}

/// An alert as `side:level:description`, or `side:encrypted` when its
/// record could not be read.
fn alert_text(a: &tls::Alert, client_side: tls::Side) -> String {
    let side = if a.side == client_side {
        "client"
    } else {
        "server"
    };
    if a.encrypted {
        return format!("{side}:encrypted");
    }
    format!(
        "{side}:{}:{}",
        a.level.map(alert_level).unwrap_or_else(|| "?".into()),
        a.description
            .map(alert_description)
            .unwrap_or_else(|| "?".into())
    )
}

fn alert_level(l: u8) -> String {
    match l {
        1 => "warning".into(),
        2 => "fatal".into(),
        x => x.to_string(),
    }
}

/// Alert descriptions (RFC 8446 section 6, RFC 5246 section 7.2).
fn alert_description(d: u8) -> String {
    let name = match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        x => return x.to_string(),
    };
    name.to_string()
}

fn cert_row(
    info: &CertInfo,
    s: &Seen,
    der: &[u8],
    first_verdict: Option<(bool, Option<TrustReason>)>,
) -> CertRow {
    CertRow {
        info: info.clone(),
        trusted: first_verdict.map(|v| v.0),
        validation_reason: first_verdict.and_then(|v| v.1),
        first_seen: s.first,
        last_seen: s.last,
        flow_count: s.flows,
        der: der.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::fixtures::{self, pem_certs, us};

    /// A chain judged at each connection's own time, not once per day: the
    /// corpus leaf becomes valid at 13:14:19 UTC, so a connection five
    /// seconds later is trusted (judging at noon said "not yet valid"), one
    /// five seconds earlier is not, and the end of that day is trusted too.
    #[test]
    fn chains_are_judged_at_their_connections_time() {
        let store = TrustStore::new(
            false,
            &[(
                "anchors".into(),
                fixtures::TRUST_ANCHORS.as_bytes().to_vec(),
            )],
        )
        .expect("store");
        let not_before = 1_790_687_659;
        let mut c = Collector::default();
        let mut rows = Vec::new();
        let mut keys = Vec::new();
        for (i, at) in [not_before + 5, not_before - 5, not_before + 36_000]
            .into_iter()
            .enumerate()
        {
            let chain = c.tally(pem_certs(fixtures::S01_WWW_BANK_CHAIN), us(at));
            rows.push(HandshakeRow {
                flow_id: i.to_string(),
                leaf_sha256: chain.first().cloned(),
                cert_chain_sha256: chain,
                ts_start: us(at),
                ..Default::default()
            });
            keys.push((0, i as u64, us(at)));
        }
        let g = gather(vec![c]);
        let mut a = Assembler::new(&g, &store, None);
        a.judge(&mut rows, &keys);
        let certs = a.cert_rows(&g);
        let verdicts: Vec<(Option<bool>, Option<TrustReason>)> = rows
            .iter()
            .map(|r| (r.chain_trusted, r.trust_reason))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                (Some(true), None),
                (Some(false), Some(TrustReason::NotYetValid)),
                (Some(true), None)
            ]
        );
        assert_eq!(certs.len(), 2);
    }
}
