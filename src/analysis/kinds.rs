//! The one list of detectors: every finding kind, the file of
//! `src/analysis/` that raises it, the severities it can take, whether it can
//! accuse (rests on signs) or only describes (context), and whether
//! `scripts/rules.sql` computes it too. `analyze_group_facts`, the README's
//! kinds table and the SQL rules are checked against [`DETECTORS`] by the
//! tests at the end of this file: a kind added in one place and not the
//! others fails them. `docs/extending.md` says how to add one.

use Severity::{High, Info, Low, Medium};

crate::codes::codes! {
    /// Severity levels, ordered (DESIGN.md: medium and high are interception
    /// evidence a responder must look at; low and info an inconsistency a
    /// legitimate deployment explains).
    #[derive(PartialOrd, Ord)]
    pub enum Severity {
        Info = "info", "context, nothing wrong";
        Low = "low", "an inconsistency a legitimate deployment explains";
        Medium = "medium", "interception evidence to look at";
        High = "high", "strong interception evidence";
    }
}

impl Default for Severity {
    /// The lowest level: what an empty row holds.
    fn default() -> Severity {
        Severity::Info
    }
}

impl Severity {
    /// The level a table spells `s`; a name this build does not know reads
    /// as the lowest (as an absent one would).
    pub fn parse_lenient(s: &str) -> Severity {
        Severity::parse(s).unwrap_or_default()
    }
}

crate::codes::codes! {
    /// What a finding found (`findings.kind`).
    pub enum Kind {
        IssuerDivergence = "issuer_divergence", "one name answered by leaves of different issuers (an issuer is its name and its key)";
        IssuerRotation = "issuer_rotation", "different intermediates under one root";
        MultipleLeavesSameIssuer = "multiple_leaves_same_issuer", "several leaves, one issuer: renewal, RSA and ECDSA, load balancing";
        UntrustedChain = "untrusted_chain", "a chain that reaches no trusted root (unknown issuer, bad signature)";
        IncompleteChain = "incomplete_chain", "the server left out an intermediate that browsers fetch or preload themselves";
        Expired = "expired", "the certificate had expired, or was not yet valid, at the connection's time";
        SelfSigned = "self_signed", "a self-signed certificate that is no trust anchor";
        NameMismatch = "name_mismatch", "the certificate does not cover the name the client asked for";
        WeakCertificate = "weak_certificate", "a key or signature weaker than browsers accepted at the connection's time";
        KeyReuse = "key_reuse", "one public key on leaves for unrelated domains";
        ForgingIssuer = "forging_issuer", "an issuer minting leaves for many unrelated names with a sign of forging, or a CA's key on a leaf";
        FreshCertificate = "fresh_certificate", "a leaf that became valid minutes before its first use";
        ClientScopedView = "client_scoped_view", "an issuer that reached only some clients while others got another";
        CertificateRejected = "certificate_rejected", "a client refused the certificate with a fatal alert";
        InspectionProduct = "inspection_product", "an issuer naming a known TLS-inspection product, off the vendor's own domains";
        Tls13ShapeChange = "tls13_shape_change", "encrypted TLS 1.3 server flights to one address changed size or JA3S";
        BaselineDeviation = "baseline_deviation", "with --baseline: a leaf of another issuer than the known-good scan saw for the name";
        BaselineNewCertificate = "baseline_new_certificate", "with --baseline: a new leaf of the issuer the known-good scan saw (a renewal)";
        Unknown = "unknown", "a kind this build does not know, read from a table a newer certsift wrote";
    }
}
crate::codes::ordered_by_code!(Kind);

impl Default for Kind {
    /// What an empty row holds.
    fn default() -> Kind {
        Kind::Unknown
    }
}

impl Kind {
    /// The kind a table spells `s`; one this build does not know reads as
    /// [`Kind::Unknown`].
    pub fn parse_lenient(s: &str) -> Kind {
        Kind::parse(s).unwrap_or_default()
    }

    /// This kind's entry of [`DETECTORS`] (none for [`Kind::Unknown`]).
    pub fn detector(self) -> Option<&'static Detector> {
        DETECTORS.iter().find(|d| d.kind == self)
    }
}

/// Whether a kind can accuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// At medium or high it accuses, so it rests on signs: facts no public
    /// CA and no ordinary server shows.
    Sign,
    /// It describes (low or info) and never raises a finding to medium.
    Context,
}

/// One row of the list of detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detector {
    /// The kind it raises.
    pub kind: Kind,
    /// The file of `src/analysis/` (without `.rs`) that raises it.
    pub file: &'static str,
    /// The lowest severity it takes.
    pub lowest: Severity,
    /// The highest severity it takes.
    pub highest: Severity,
    /// Whether it can accuse.
    pub role: Role,
    /// `scripts/rules.sql` computes it too (and must agree, `tests/it/duckdb.rs`).
    pub in_sql: bool,
}

const fn d(
    kind: Kind,
    file: &'static str,
    lowest: Severity,
    highest: Severity,
    in_sql: bool,
) -> Detector {
    let role = if matches!(highest, Severity::Medium | Severity::High) {
        Role::Sign
    } else {
        Role::Context
    };
    Detector {
        kind,
        file,
        lowest,
        highest,
        role,
        in_sql,
    }
}

/// Every detector, in the order of the README's kinds table.
pub const DETECTORS: &[Detector] = &[
    d(Kind::IssuerDivergence, "issuer", Low, High, true),
    d(Kind::IssuerRotation, "issuer", Low, Low, true),
    d(Kind::MultipleLeavesSameIssuer, "issuer", Info, Low, true),
    d(Kind::UntrustedChain, "untrusted", Low, High, false),
    d(Kind::IncompleteChain, "untrusted", Low, Low, false),
    d(Kind::Expired, "validity", Low, Medium, false),
    d(Kind::SelfSigned, "validity", Low, Medium, false),
    d(Kind::NameMismatch, "validity", Low, Medium, false),
    d(Kind::WeakCertificate, "validity", Low, Medium, false),
    d(Kind::KeyReuse, "keyreuse", Low, High, true),
    d(Kind::ForgingIssuer, "forging", Medium, High, true),
    d(Kind::FreshCertificate, "fresh", Info, High, true),
    d(Kind::ClientScopedView, "clients", Low, High, true),
    d(Kind::CertificateRejected, "rejection", Low, High, false),
    d(Kind::InspectionProduct, "products", Medium, High, false),
    d(Kind::Tls13ShapeChange, "shape", Info, Medium, false),
    d(Kind::BaselineDeviation, "baseline", High, High, false),
    d(Kind::BaselineNewCertificate, "baseline", Low, Low, false),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::analysis::Kind;

    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn read(rel: &str) -> String {
        std::fs::read_to_string(repo().join(rel)).expect(rel)
    }

    /// The part of a source file before its tests.
    fn code_of(text: &str) -> &str {
        text.split("#[cfg(test)]").next().unwrap_or(text)
    }

    fn listed() -> BTreeSet<&'static str> {
        DETECTORS.iter().map(|d| d.kind.as_str()).collect()
    }

    #[test]
    fn every_kind_has_one_detector() {
        for k in Kind::ALL.iter().filter(|k| **k != Kind::Unknown) {
            let n = DETECTORS.iter().filter(|d| d.kind == *k).count();
            assert_eq!(n, 1, "{k} in DETECTORS {n} times");
        }
        assert!(Kind::Unknown.detector().is_none());
        for d in DETECTORS {
            assert!(d.lowest <= d.highest, "{}", d.kind);
        }
    }

    /// Each detector's file raises its kind, and `analyze_group_facts` calls
    /// into that file.
    #[test]
    fn every_detector_is_registered() {
        let analysis = read("src/analysis/mod.rs");
        let start = analysis
            .find("pub fn analyze_group_facts(")
            .expect("analyze_group_facts");
        let body = analysis.get(start..).unwrap();
        let body = body.get(..body.find("\n}\n").unwrap()).unwrap();
        for d in DETECTORS {
            let text = read(&format!("src/analysis/{}.rs", d.file));
            let variant = format!("{:?}", d.kind);
            assert!(
                code_of(&text).contains(&format!("Kind::{variant}")),
                "src/analysis/{}.rs does not raise {}",
                d.file,
                d.kind
            );
            assert!(
                body.contains(&format!("{}::", d.file)),
                "analyze_group_facts does not run src/analysis/{}.rs",
                d.file
            );
        }
    }

    /// The README's kinds table names every kind, and only those.
    #[test]
    fn the_readme_lists_every_kind() {
        let readme = read("README.md");
        let mut table = BTreeSet::new();
        let mut in_table = false;
        for line in readme.lines() {
            if line.starts_with("| kind |") {
                in_table = true;
                continue;
            }
            if in_table && !line.starts_with('|') {
                break;
            }
            if in_table && !line.starts_with("| ---") {
                let cell = line.split('|').nth(1).unwrap_or_default();
                table.extend(cell.split(',').map(|k| k.trim().to_string()));
            }
        }
        let listed: BTreeSet<String> = listed().into_iter().map(str::to_string).collect();
        assert_eq!(table, listed, "README.md kinds table against DETECTORS");
    }

    /// `scripts/rules.sql` computes exactly the kinds marked `in_sql`, at
    /// severities within their range.
    #[test]
    fn the_sql_rules_compute_the_kinds_marked_in_sql() {
        let sql = read("scripts/rules.sql");
        // A kind's name that is also a trust reason (the SQL reads
        // trust_reason = 'incomplete_chain') is not a rule's kind: only a
        // kind the SQL produces counts.
        let as_kind: BTreeSet<&str> = Kind::ALL
            .iter()
            .map(|k| k.as_str())
            .filter(|k| {
                sql.contains(&format!("'{k}' AS kind"))
                    || sql.contains(&format!("THEN '{k}'"))
                    || sql.contains(&format!("ELSE '{k}' END AS kind"))
            })
            .collect();
        let want: BTreeSet<&str> = DETECTORS
            .iter()
            .filter(|d| d.in_sql)
            .map(|d| d.kind.as_str())
            .collect();
        assert_eq!(as_kind, want, "scripts/rules.sql kinds against DETECTORS");
    }

    /// Every finding of the golden captures is of a listed kind, at a
    /// severity within its range.
    #[test]
    fn golden_findings_keep_their_kinds_range() {
        let dir = repo().join("testdata/golden");
        let mut seen = 0;
        for capture in std::fs::read_dir(dir).unwrap() {
            let path = capture.unwrap().path().join("findings.jsonl");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let kind = Kind::parse(v["kind"].as_str().unwrap()).unwrap();
                let sev = Severity::parse(v["severity"].as_str().unwrap()).unwrap();
                let d = kind.detector().unwrap();
                assert!(d.lowest <= sev && sev <= d.highest, "{kind} at {sev}");
                seen += 1;
            }
        }
        assert!(seen > 0);
    }
}
