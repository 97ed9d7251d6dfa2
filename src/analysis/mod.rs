//! Handshake and certificate rows in, findings out. Runs once over every
//! connection of the run (all files, all threads), after the scan, or over the
//! union of several scans' tables (`certsift analyze`). Each detector lives in
//! its own file and returns `FindingRow`s; this module orders them.

mod issuer;

use std::collections::{BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use crate::rows::{CertRow, FindingRow, HandshakeRow, Severity};

/// Everything the detectors look at, indexed once.
pub struct Evidence<'a> {
    /// Every handshake.
    pub handshakes: &'a [HandshakeRow],
    /// Certificates by SHA-256.
    pub certs: HashMap<&'a str, &'a CertRow>,
}

impl<'a> Evidence<'a> {
    /// Indexes the rows.
    pub fn new(handshakes: &'a [HandshakeRow], certs: &'a [CertRow]) -> Self {
        Evidence {
            handshakes,
            certs: certs.iter().map(|c| (c.sha256.as_str(), c)).collect(),
        }
    }

    /// Handshakes with a visible leaf, grouped by server name (lowercase, no
    /// trailing dot), names in order.
    pub fn by_name(&self) -> Vec<(String, Vec<&'a HandshakeRow>)> {
        let mut map: HashMap<String, Vec<&'a HandshakeRow>> = HashMap::new();
        for h in self.handshakes {
            let (Some(sni), Some(_)) = (&h.sni, &h.leaf_sha256) else {
                continue;
            };
            let name = normalize_name(sni);
            if name.is_empty() {
                continue;
            }
            map.entry(name).or_default().push(h);
        }
        let mut v: Vec<_> = map.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// Lowercase, without a trailing dot.
pub fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Runs every detector; findings most severe first, then by name and kind.
pub fn analyze(handshakes: &[HandshakeRow], certs: &[CertRow]) -> Vec<FindingRow> {
    let ev = Evidence::new(handshakes, certs);
    let mut findings = issuer::divergence(&ev);
    findings.sort_by(|a, b| {
        let sa = Severity::parse(&a.severity);
        let sb = Severity::parse(&b.severity);
        sb.cmp(&sa)
            .then_with(|| a.names.cmp(&b.names))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.finding_id.cmp(&b.finding_id))
    });
    findings
}

/// Builds the evidence part of a finding from the handshakes involved.
pub fn finding(
    kind: &str,
    severity: Severity,
    sni: Option<&str>,
    flows: &[&HandshakeRow],
    certs: BTreeSet<String>,
    issuers: BTreeSet<String>,
    summary: String,
) -> FindingRow {
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut clients: BTreeSet<String> = BTreeSet::new();
    let mut flow_ids: Vec<String> = Vec::with_capacity(flows.len());
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    for h in flows {
        if let Some(s) = &h.sni {
            names.insert(normalize_name(s));
        }
        clients.insert(h.client_ip.clone());
        flow_ids.push(h.flow_id.clone());
        first = first.min(h.ts_start);
        last = last.max(h.ts_start);
    }
    flow_ids.sort();
    flow_ids.dedup();
    let cert_sha256: Vec<String> = certs.into_iter().collect();
    let mut id = Sha256::new();
    id.update(kind.as_bytes());
    id.update([0]);
    id.update(sni.unwrap_or_default().as_bytes());
    for c in &cert_sha256 {
        id.update([0]);
        id.update(c.as_bytes());
    }
    FindingRow {
        finding_id: hex::encode(id.finalize().get(..8).unwrap_or_default()),
        kind: kind.to_string(),
        severity: severity.as_str().to_string(),
        sni: sni.map(str::to_string),
        names: names.into_iter().collect(),
        summary,
        flow_ids,
        cert_sha256,
        clients: clients.into_iter().collect(),
        issuers: issuers.into_iter().collect(),
        first_seen: if first == i64::MAX { 0 } else { first },
        last_seen: if last == i64::MIN { 0 } else { last },
    }
}
