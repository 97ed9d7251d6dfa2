//! The end-of-run summary on stdout, for a terminal (a compact table) or as
//! one JSON object; also built from a finished scan's tables. It leads with
//! the incidents, one short line each (verdict, interceptor, names, clients,
//! time span, what the clients did), then counts the findings by severity;
//! the findings themselves are listed with `-v` (and are all in the tables).

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::analysis::normalize_name;
use crate::output::{rfc3339_us, Scan};
use crate::pipeline::Summary;
use crate::rows::{FindingRow, IncidentRow, Severity};
use crate::words::count;

/// The `handshakes` columns [`Totals::from_tables`] reads; `certsift summary`
/// reads only these.
pub const HANDSHAKE_COLUMNS: &[&str] = &["file", "sni"];

/// What the summary counts over the handshakes.
#[derive(Debug, Default)]
struct HandshakeCounts {
    rows: u64,
    files: BTreeSet<String>,
    names: BTreeSet<String>,
}

impl HandshakeCounts {
    fn add(&mut self, rows: &[crate::rows::HandshakeRow]) {
        self.rows += rows.len() as u64;
        for h in rows {
            if !self.files.contains(h.file.as_str()) {
                self.files.insert(h.file.clone());
            }
            if let Some(n) = h.sni.as_deref() {
                self.names.insert(normalize_name(n));
            }
        }
    }
}

/// Findings the human summary lists one per line, most severe first; the
/// rest are counted ("... and N more").
const MAX_LISTED: usize = 50;

/// Counts and findings to print.
#[derive(Debug, Default)]
pub struct Totals {
    /// Capture files given (unknown when built from tables).
    pub inputs: Option<usize>,
    /// Files that could not be read wholly.
    pub damaged: usize,
    /// Packets read (unknown when built from tables).
    pub packets: Option<u64>,
    /// TCP connections (unknown when built from tables).
    pub connections: Option<u64>,
    /// Connections with TLS.
    pub tls_connections: u64,
    /// Distinct server names.
    pub names: usize,
    /// Distinct certificates.
    pub certificates: usize,
    /// Findings, most severe first.
    pub findings: Vec<FindingRow>,
    /// Incidents, most severe first.
    pub incidents: Vec<IncidentRow>,
    /// List every finding, not only the incidents and the counts.
    pub verbose: bool,
}

impl Totals {
    /// From a scan that just ran.
    pub fn from_run(s: &Summary) -> Totals {
        Totals {
            inputs: Some(s.inputs),
            damaged: s.input_errors.len(),
            packets: Some(s.packets),
            connections: Some(s.connections),
            tls_connections: s.tls_connections,
            names: s.names,
            certificates: s.certificates,
            findings: s.findings.clone(),
            incidents: s.incidents.clone(),
            verbose: false,
        }
    }

    /// From a finished scan's tables.
    pub fn from_tables(scan: &Scan) -> Totals {
        let mut counts = HandshakeCounts::default();
        counts.add(&scan.handshakes);
        Totals::from_parts(scan, &counts)
    }

    /// From a scan folder, reading only what the summary prints: the
    /// handshakes' file and name, a batch at a time, and the findings
    /// without their flow ids. Memory stays flat however many connections
    /// the scan holds.
    pub fn from_dir(dir: &std::path::Path) -> Result<Totals, crate::error::Error> {
        let scan = crate::output::read_scan_light(dir)?;
        let mut counts = HandshakeCounts::default();
        crate::output::each_handshake_batch(dir, HANDSHAKE_COLUMNS, |rows| counts.add(rows))?;
        Ok(Totals::from_parts(&scan, &counts))
    }

    fn from_parts(scan: &Scan, counts: &HandshakeCounts) -> Totals {
        let (files, names) = (&counts.files, &counts.names);
        let mut findings = scan.findings.clone();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        Totals {
            inputs: Some(files.len()),
            tls_connections: counts.rows,
            names: names.len(),
            certificates: scan.certificates.len(),
            findings,
            incidents: scan.incidents.clone(),
            ..Default::default()
        }
    }

    fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }

    /// The compact table for a terminal.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let mut parts = Vec::new();
        if let Some(n) = self.inputs {
            parts.push(count(n, "input", "inputs"));
        }
        if let Some(n) = self.packets {
            parts.push(count(n, "packet", "packets"));
        }
        if let Some(n) = self.connections {
            parts.push(count(n, "TCP connection", "TCP connections"));
        }
        parts.push(count(
            self.tls_connections,
            "TLS connection",
            "TLS connections",
        ));
        parts.push(count(self.names, "server name", "server names"));
        parts.push(count(self.certificates, "certificate", "certificates"));
        let _ = writeln!(out, "scanned  {}", parts.join(", "));
        if self.damaged > 0 {
            let _ = writeln!(
                out,
                "damaged  {} (see stderr; everything before the damage was read)",
                count(self.damaged, "input", "inputs")
            );
        }
        let _ = writeln!(out, "incidents {}", self.incidents.len());
        for i in &self.incidents {
            let _ = writeln!(out, "  {}", incident_line(i));
        }
        let by: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .map(|s| format!("{} {}", self.count(*s), s.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "findings {}{}",
            by.join(", "),
            if self.verbose || self.findings.is_empty() {
                ""
            } else {
                " (listed with -v; all in the findings table)"
            }
        );
        if !self.verbose {
            return out;
        }
        for f in self.findings.iter().take(MAX_LISTED) {
            let name = f
                .sni
                .clone()
                .unwrap_or_else(|| format!("{} names", f.names.len()));
            let _ = writeln!(
                out,
                "  {:<6} {:<28} {:<30} {}",
                f.severity.as_str().to_uppercase(),
                f.kind,
                name,
                f.summary
            );
        }
        if self.findings.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "  ... and {} more: every finding is in findings.parquet (`certsift summary DIR \
                 --summary json` lists them all)",
                self.findings.len() - MAX_LISTED
            );
        }
        out
    }

    /// One JSON object.
    pub fn json(&self) -> String {
        let findings: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "finding_id": f.finding_id, "kind": f.kind.as_str(), "severity": f.severity.as_str(),
                    "sni": f.sni, "names": f.names, "summary": f.summary,
                })
            })
            .collect();
        let by: serde_json::Map<String, serde_json::Value> = Severity::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), self.count(*s).into()))
            .collect();
        let incidents: Vec<serde_json::Value> = self
            .incidents
            .iter()
            .map(|i| {
                serde_json::json!({
                    "incident_id": i.incident_id, "severity": i.severity.as_str(), "verdict": i.verdict,
                    "interceptor": i.interceptor, "interceptor_issuer": i.interceptor_issuer,
                    "interceptor_key_sha256": i.interceptor_key_sha256,
                    "interceptor_product": i.interceptor_product,
                    "interceptor_path": i.interceptor_path, "names": i.names,
                    "clients": i.clients, "first_seen": rfc3339_us(i.first_seen),
                    "last_seen": rfc3339_us(i.last_seen), "connections": i.connections,
                    "accepted_connections": i.accepted_connections,
                    "refused_connections": i.refused_connections,
                    "bytes_to_server": i.bytes_to_server, "bytes_to_client": i.bytes_to_client,
                    "finding_ids": i.finding_ids, "summary": i.summary,
                })
            })
            .collect();
        serde_json::json!({
            "inputs": self.inputs, "damaged_inputs": self.damaged, "packets": self.packets,
            "tcp_connections": self.connections, "tls_connections": self.tls_connections,
            "names": self.names, "certificates": self.certificates,
            "incidents": incidents,
            "findings_by_severity": by, "findings": findings,
        })
        .to_string()
    }
}

/// "HIGH intercepted  O=mitmproxy,CN=mitmproxy, mitmproxy (tool): 4 names,
/// 1 client, 2026-11-28 10:00:01 to 10:04:59 UTC; 5 of 6 connections
/// accepted, 1 refused".
pub fn incident_line(i: &IncidentRow) -> String {
    let who = i
        .interceptor_issuer
        .as_deref()
        .map(|dn| match &i.interceptor_product {
            Some(p) => format!("{dn} ({p})"),
            None => dn.to_string(),
        })
        .unwrap_or_else(|| "interceptor with certificates not visible".into());
    let when = |us: i64| {
        let t = rfc3339_us(us);
        t.get(..19).unwrap_or(&t).replacen('T', " ", 1)
    };
    let (from, to) = (when(i.first_seen), when(i.last_seen));
    // the second time without its date when both fall on one day
    let to_short = match (from.get(..10), to.get(..10), to.get(11..)) {
        (Some(a), Some(b), Some(rest)) if a == b => rest.to_string(),
        _ => to.clone(),
    };
    let outcome = match i.verdict.as_str() {
        "attempted_refused" => format!(
            "{} of {} connections refused, none accepted",
            i.refused_connections, i.connections
        ),
        _ => {
            let mut s = format!(
                "{} of {} connection{} accepted",
                i.accepted_connections,
                i.connections,
                if i.connections == 1 { "" } else { "s" }
            );
            if i.refused_connections > 0 {
                s.push_str(&format!(", {} refused", i.refused_connections));
            }
            s
        }
    };
    format!(
        "{:<6} {:<17} {who}: {}, {}, {from} to {to_short} UTC; {outcome}",
        i.severity.as_str().to_uppercase(),
        i.verdict,
        count(i.names.len(), "name", "names"),
        count(i.clients.len(), "client", "clients"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_of_findings_is_cut_and_counted() {
        let f = |i: usize| FindingRow {
            kind: crate::analysis::Kind::UntrustedChain,
            severity: Severity::High,
            sni: Some(format!("n{i}.test")),
            ..Default::default()
        };
        let t = Totals {
            findings: (0..MAX_LISTED + 7).map(f).collect(),
            verbose: true,
            ..Default::default()
        };
        let text = t.human();
        assert!(text.contains("n0.test"), "{text}");
        assert!(!text.contains(&format!("n{MAX_LISTED}.test")), "{text}");
        assert!(text.contains("... and 7 more"), "{text}");
        let t = Totals {
            findings: (0..3).map(f).collect(),
            verbose: true,
            ..Default::default()
        };
        assert!(!t.human().contains("more"));
        let quiet = Totals {
            findings: (0..3).map(f).collect(),
            ..Default::default()
        };
        assert!(!quiet.human().contains("n0.test"), "{}", quiet.human());
    }
}
