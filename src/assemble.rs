//! Finished connections become rows the moment they end, on the worker of
//! their flow shard, and are dropped: what stays until the tables are written
//! is a row per TLS connection and one copy of each distinct certificate, not
//! the connection's records (its hello's lists, its chain's DER), which were
//! most of a scan's memory. At the end of the reading, [`finish`] parses each
//! distinct certificate once, judges each distinct chain once per span of
//! time in which none of its certificates starts or ends its validity, and
//! fills in the columns that depend on that judgment.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::Anomaly;
use crate::flow::{FastMap, FlowRecord};
use crate::pipeline::to_i64;
use crate::rows::{CertRow, HandshakeRow};
use crate::tls::{self, Handshake};
use crate::x509::TrustReason;
use crate::x509::{self, CertInfo, ChainVerdict, TrustStore};

/// CA certificates from other connections offered to chain building.
const MAX_KNOWN_INTERMEDIATES: usize = 64;

/// A chain and the span of time it was judged for: how many of its own and
/// of the known intermediates' validity instants had passed.
type SpanKey<'a> = (&'a [String], (usize, usize));

/// Rows sort by where their connection began: file, frame, time.
type SortKey = (u32, u64, i64);

/// One shard's rows and certificates, built as its connections end.
#[derive(Default)]
pub(crate) struct Collector {
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
                .push((key, handshake_row(&r, &h, server, client, file)));
        }
        without_tls
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

/// A distinct certificate over all shards.
struct Seen {
    der: Vec<u8>,
    first: i64,
    last: i64,
    flows: i64,
}

/// The handshakes table in connection order and the certificates table:
/// every distinct certificate parsed once, in parallel; every distinct chain
/// verified once per span in which neither its certificates' validity nor
/// the trust store changes. `judge_at` (µs) judges every connection at that
/// one time instead of its own (`--roots-at`).
pub(crate) fn finish(
    collectors: Vec<Collector>,
    trust: &TrustStore,
    judge_at: Option<i64>,
) -> (Vec<HandshakeRow>, Vec<CertRow>) {
    let when = |r: &HandshakeRow| judge_at.unwrap_or(r.ts_start);
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut keyed: Vec<(SortKey, usize)> = Vec::new();
    let mut unsorted: Vec<Option<HandshakeRow>> = Vec::new();
    for c in collectors {
        for (der, t) in c.certs {
            let e = seen.entry(t.sha256).or_insert_with(|| Seen {
                der,
                first: t.first,
                last: t.last,
                flows: 0,
            });
            e.first = e.first.min(t.first);
            e.last = e.last.max(t.last);
            e.flows += t.flows;
        }
        for (key, row) in c.rows {
            keyed.push((key, unsorted.len()));
            unsorted.push(Some(row));
        }
    }
    // Sort keys, then move each row once (sorting rows moved each log2(n)
    // times). The index breaks ties, in shard order: deterministic.
    keyed.sort_unstable();
    let mut rows: Vec<HandshakeRow> = keyed
        .iter()
        .filter_map(|(_, i)| unsorted.get_mut(*i).and_then(Option::take))
        .collect();
    drop(unsorted);
    // Certificates by first sight, then hash: the order of the table and of
    // the intermediates offered to chain building.
    let mut order: Vec<&String> = seen.keys().collect();
    order.sort_by_key(|sha| (seen.get(*sha).map_or(i64::MAX, |s| s.first), *sha));
    let infos: HashMap<&str, CertInfo> = order
        .par_iter()
        .filter_map(|sha| {
            seen.get(*sha)
                .map(|s| (sha.as_str(), CertInfo::parse(&s.der)))
        })
        .collect();
    // CA certificates sent in any chain of the run complete chains whose
    // server left an intermediate out, as a browser's cache of intermediates
    // would; such a chain is still flagged as missing one.
    let known_shas: Vec<&str> = order
        .iter()
        .filter(|sha| infos.get(sha.as_str()).is_some_and(|i| i.is_ca))
        .map(|sha| sha.as_str())
        .take(MAX_KNOWN_INTERMEDIATES)
        .collect();
    let known: Vec<&[u8]> = known_shas
        .iter()
        .filter_map(|sha| seen.get(*sha).map(|s| s.der.as_slice()))
        .collect();
    // A chain's verdict changes only when a certificate it may use starts or
    // ends its validity. Its connections are judged once per span between
    // two such instants, at the time of the earliest connection of the span:
    // as exact as judging each connection (a certificate minted a second
    // before its first use, as forging proxies do, is valid), as cheap as
    // judging each chain once when nothing ends or starts during the capture.
    // The known intermediates' instants are kept once, not in every chain's,
    // with those at which Mozilla's store or the signature rules changed:
    // two connections in different store epochs never share a verdict.
    let mut known_bounds = validity_bounds(&known_shas, &infos);
    known_bounds.extend_from_slice(trust.change_instants());
    known_bounds.sort_unstable();
    // Each row's key, found once: the chain's instants are sorted the first
    // time the chain is met.
    let mut bounds: HashMap<&[String], Vec<i64>> = HashMap::new();
    let row_keys: Vec<Option<SpanKey<'_>>> = rows
        .iter()
        .map(|r| {
            let chain = r.cert_chain_sha256.as_slice();
            if chain.is_empty() {
                return None;
            }
            let own = bounds.entry(chain).or_insert_with(|| {
                let mut b = validity_bounds(chain, &infos);
                b.sort_unstable();
                b
            });
            let at_s = when(r).div_euclid(1_000_000);
            let passed = |b: &[i64]| b.partition_point(|&x| x <= at_s);
            Some((chain, (passed(own), passed(&known_bounds))))
        })
        .collect();
    drop(bounds);
    let mut spans: HashMap<SpanKey<'_>, i64> = HashMap::new();
    for (r, key) in rows.iter().zip(&row_keys) {
        if let Some(key) = key {
            let at = spans.entry(*key).or_insert(i64::MAX);
            *at = (*at).min(when(r));
        }
    }
    let mut keys: Vec<(SpanKey<'_>, i64)> = spans.into_iter().collect();
    keys.sort_unstable();
    let verdicts: HashMap<SpanKey<'_>, ChainVerdict> = keys
        .into_par_iter()
        .map(|(key, at)| {
            let ders: Vec<&[u8]> = key
                .0
                .iter()
                .filter_map(|sha| seen.get(sha).map(|s| s.der.as_slice()))
                .collect();
            // Intermediates from other connections only when the chain as
            // sent does not verify: path building over them costs ~10x.
            let first = trust.verify(&ders, at);
            let verdict = if first.trusted || known.is_empty() {
                first
            } else {
                trust.verify_with(&ders, &known, at)
            };
            (key, verdict)
        })
        .collect();
    // What depends on the verdicts and the leaf, filled in on every core.
    let judged: Vec<(Option<&ChainVerdict>, Option<bool>)> = rows
        .par_iter()
        .zip(&row_keys)
        .map(|(r, key)| {
            let verdict = key.as_ref().and_then(|k| verdicts.get(k));
            let leaf = r.leaf_sha256.as_deref().and_then(|s| infos.get(s));
            let matches = match (&r.sni, leaf) {
                (Some(s), Some(l)) => Some(x509::name_matches(l, s)),
                _ => None,
            };
            (verdict, matches)
        })
        .collect();
    let mut first_verdicts: HashMap<&str, (bool, Option<TrustReason>)> = HashMap::new();
    for (r, (verdict, _)) in rows.iter().zip(&judged) {
        if let Some(v) = verdict {
            for sha in &r.cert_chain_sha256 {
                first_verdicts
                    .entry(sha.as_str())
                    .or_insert((v.trusted, v.reason_code()));
            }
        }
    }
    let mut certs: Vec<CertRow> = order
        .iter()
        .filter_map(|sha| {
            let s = seen.get(*sha)?;
            let info = infos.get(sha.as_str())?;
            let verdict = first_verdicts.get(sha.as_str()).copied();
            Some(cert_row(info, s, verdict))
        })
        .collect();
    certs.sort_by(|a, b| {
        a.first_seen
            .cmp(&b.first_seen)
            .then(a.sha256.cmp(&b.sha256))
    });
    let judged: Vec<(Option<ChainVerdictCols>, Option<bool>)> = judged
        .into_iter()
        .map(|(v, m)| (v.map(ChainVerdictCols::of), m))
        .collect();
    drop(verdicts);
    rows.par_iter_mut()
        .zip(judged)
        .for_each(|(r, (v, matches))| {
            r.sni_matches_leaf = matches;
            if let Some(v) = v {
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
        });
    (rows, certs)
}

/// The instants, in whole seconds, at which one of these certificates
/// becomes valid or stops being valid (the second after its notAfter).
fn validity_bounds<S: AsRef<str>>(shas: &[S], infos: &HashMap<&str, CertInfo>) -> Vec<i64> {
    let sec = |us: i64| us.div_euclid(1_000_000);
    shas.iter()
        .filter_map(|sha| infos.get(sha.as_ref()))
        .flat_map(|i| {
            [
                i.not_before_us.map(sec),
                i.not_after_us.map(|us| sec(us).saturating_add(1)),
            ]
        })
        .flatten()
        .collect()
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

fn handshake_row(
    r: &FlowRecord,
    h: &Handshake,
    server: Vec<String>,
    client: Vec<String>,
    file: String,
) -> HandshakeRow {
    let leaf_sha256 = server.first().cloned();
    let ch = h.client_hello.as_ref();
    let sh = h.server_hello.as_ref();
    let sni = ch.and_then(|c| c.sni.clone());
    let offered: Vec<String> = match ch {
        Some(c) if !c.supported_versions.is_empty() => c
            .supported_versions
            .iter()
            .filter(|v| !tls::ja::is_grease(**v))
            .map(|v| tls::version_name(*v))
            .collect(),
        Some(c) => vec![tls::version_name(c.legacy_version)],
        None => Vec::new(),
    };
    let mut anomalies: Vec<Anomaly> = r.anomalies.iter().chain(&h.anomalies).copied().collect();
    anomalies.sort();
    anomalies.dedup();
    let alerts = h
        .alerts
        .iter()
        .map(|a| {
            let side = if a.side == h.client_side {
                "client"
            } else {
                "server"
            };
            if a.encrypted {
                format!("{side}:encrypted")
            } else {
                format!(
                    "{side}:{}:{}",
                    a.level.map(alert_level).unwrap_or_else(|| "?".into()),
                    a.description
                        .map(alert_description)
                        .unwrap_or_else(|| "?".into())
                )
            }
        })
        .collect();
    HandshakeRow {
        flow_id: flow_id(&file, r),
        file,
        ts_start: r.ts_start,
        ts_end: r.ts_end,
        client_ip: r.client.ip().to_string(),
        client_port: i32::from(r.client.port()),
        server_ip: r.server.ip().to_string(),
        server_port: i32::from(r.server.port()),
        sni_matches_leaf: None,
        sni,
        alpn: ch.map(|c| c.alpn.clone()).unwrap_or_default(),
        alpn_selected: sh.and_then(|s| s.alpn.clone()),
        tls_version: h.version.map(tls::version_name),
        offered_versions: offered,
        cipher_suite: h.cipher.map(tls::cipher_name),
        offered_cipher_suites: ch
            .map(|c| {
                c.ciphers
                    .iter()
                    .filter(|v| !tls::ja::is_grease(**v))
                    .map(|v| tls::cipher_name(*v))
                    .collect()
            })
            .unwrap_or_default(),
        ja3: h.ja3.clone(),
        ja3_full: h.ja3_full.clone(),
        ja3s: h.ja3s.clone(),
        ja3s_full: h.ja3s_full.clone(),
        ja4: h.ja4.clone(),
        ja4_r: h.ja4_r.clone(),
        cert_chain_sha256: server,
        leaf_sha256,
        cert_visibility: h.visibility.as_str().to_string(),
        decryption: r.decryption.map(str::to_string),
        chain_trusted: None,
        trust_reason: None,
        root_public: None,
        client_chain_sha256: client,
        alerts,
        connect_target: h.connect_target.clone(),
        server_flight_bytes: i64::try_from(h.server_flight_bytes).unwrap_or(i64::MAX),
        client_bytes: i64::try_from(r.client_bytes).unwrap_or(i64::MAX),
        server_bytes: i64::try_from(r.server_bytes).unwrap_or(i64::MAX),
        app_bytes_client: to_i64(h.app_bytes_client),
        app_bytes_server: to_i64(h.app_bytes_server),
        packets: i64::try_from(r.packets).unwrap_or(i64::MAX),
        client_ttl: r.client_ttl.map(i32::from),
        server_ttl: r.server_ttl.map(i32::from),
        anomalies,
        transport: r.transport.to_string(),
    }
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
    first_verdict: Option<(bool, Option<TrustReason>)>,
) -> CertRow {
    CertRow {
        sha256: info.sha256.clone(),
        sha1: info.sha1.clone(),
        spki_sha256: info.spki_sha256.clone(),
        spki_pin: info.spki_pin.clone(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        subject_cn: info.subject_cn.clone(),
        issuer_cn: info.issuer_cn.clone(),
        serial: info.serial.clone(),
        not_before: info.not_before_us,
        not_after: info.not_after_us,
        san_dns: info.san_dns.clone(),
        san_ip: info.san_ip.clone(),
        key_algorithm: info.key_algorithm.clone(),
        key_bits: info.key_bits.and_then(|b| i32::try_from(b).ok()),
        curve: info.curve.clone(),
        signature_algorithm: info.signature_algorithm.clone(),
        is_ca: info.is_ca,
        path_len: info.path_len.and_then(|b| i32::try_from(b).ok()),
        self_signed: info.self_signed,
        key_usage: info.key_usage.clone(),
        ext_key_usage: info.ext_key_usage.clone(),
        authority_key_id: info.authority_key_id.clone(),
        subject_key_id: info.subject_key_id.clone(),
        has_ocsp: info.has_ocsp,
        has_crl: info.has_crl,
        has_sct: info.has_sct,
        trusted: first_verdict.map(|v| v.0),
        validation_reason: first_verdict.and_then(|v| v.1),
        first_seen: s.first,
        last_seen: s.last,
        flow_count: s.flows,
        parse_error: info.parse_error.clone(),
        der: s.der.clone(),
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
        for (i, at) in [not_before + 5, not_before - 5, not_before + 36_000]
            .into_iter()
            .enumerate()
        {
            let chain = c.tally(pem_certs(fixtures::S01_WWW_BANK_CHAIN), us(at));
            let row = HandshakeRow {
                flow_id: i.to_string(),
                leaf_sha256: chain.first().cloned(),
                cert_chain_sha256: chain,
                ts_start: us(at),
                ..Default::default()
            };
            c.rows.push(((0, i as u64, us(at)), row));
        }
        let (rows, certs) = finish(vec![c], &store, None);
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
