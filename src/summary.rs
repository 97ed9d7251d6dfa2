//! The end-of-run summary on stdout, for a terminal (a compact table) or as
//! one JSON object; also built from a finished scan's tables.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::analysis::normalize_name;
use crate::output::Scan;
use crate::pipeline::Summary;
use crate::rows::{FindingRow, Severity};

/// The `handshakes` columns [`Totals::from_tables`] reads; `certsift summary`
/// reads only these.
pub const HANDSHAKE_COLUMNS: &[&str] = &["file", "sni"];

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
        }
    }

    /// From a finished scan's tables.
    pub fn from_tables(scan: &Scan) -> Totals {
        let files: BTreeSet<&str> = scan.handshakes.iter().map(|h| h.file.as_str()).collect();
        let names: BTreeSet<String> = scan
            .handshakes
            .iter()
            .filter_map(|h| h.sni.as_deref().map(normalize_name))
            .collect();
        let mut findings = scan.findings.clone();
        findings.sort_by_key(|f| std::cmp::Reverse(Severity::parse(&f.severity)));
        Totals {
            inputs: Some(files.len()),
            tls_connections: scan.handshakes.len() as u64,
            names: names.len(),
            certificates: scan.certificates.len(),
            findings,
            ..Default::default()
        }
    }

    fn count(&self, s: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| Severity::parse(&f.severity) == Some(s))
            .count()
    }

    /// The compact table for a terminal.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let mut parts = Vec::new();
        if let Some(n) = self.inputs {
            parts.push(plural(n as u64, "input"));
        }
        if let Some(n) = self.packets {
            parts.push(plural(n, "packet"));
        }
        if let Some(n) = self.connections {
            parts.push(plural(n, "TCP connection"));
        }
        parts.push(plural(self.tls_connections, "TLS connection"));
        parts.push(plural(self.names as u64, "server name"));
        parts.push(plural(self.certificates as u64, "certificate"));
        let _ = writeln!(out, "scanned  {}", parts.join(", "));
        if self.damaged > 0 {
            let _ = writeln!(
                out,
                "damaged  {} (see stderr; everything before the damage was read)",
                plural(self.damaged as u64, "input")
            );
        }
        let by: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .map(|s| format!("{} {}", self.count(*s), s.as_str()))
            .collect();
        let _ = writeln!(out, "findings {}", by.join(", "));
        for f in self.findings.iter().take(MAX_LISTED) {
            let name = f
                .sni
                .clone()
                .unwrap_or_else(|| format!("{} names", f.names.len()));
            let _ = writeln!(
                out,
                "  {:<6} {:<28} {:<30} {}",
                f.severity.to_uppercase(),
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
                    "finding_id": f.finding_id, "kind": f.kind, "severity": f.severity,
                    "sni": f.sni, "names": f.names, "summary": f.summary,
                })
            })
            .collect();
        let by: serde_json::Map<String, serde_json::Value> = Severity::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), self.count(*s).into()))
            .collect();
        serde_json::json!({
            "inputs": self.inputs, "damaged_inputs": self.damaged, "packets": self.packets,
            "tcp_connections": self.connections, "tls_connections": self.tls_connections,
            "names": self.names, "certificates": self.certificates,
            "findings_by_severity": by, "findings": findings,
        })
        .to_string()
    }
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_of_findings_is_cut_and_counted() {
        let f = |i: usize| FindingRow {
            kind: "untrusted_chain".into(),
            severity: "high".into(),
            sni: Some(format!("n{i}.test")),
            ..Default::default()
        };
        let t = Totals {
            findings: (0..MAX_LISTED + 7).map(f).collect(),
            ..Default::default()
        };
        let text = t.human();
        assert!(text.contains("n0.test"), "{text}");
        assert!(!text.contains(&format!("n{MAX_LISTED}.test")), "{text}");
        assert!(text.contains("... and 7 more"), "{text}");
        let t = Totals {
            findings: (0..3).map(f).collect(),
            ..Default::default()
        };
        assert!(!t.human().contains("more"));
    }
}
