//! The HTML report: a scan's tables (handshakes, certificates, findings,
//! incidents) in, one self-contained HTML page out, for people who will not
//! run SQL.
//!
//! The page opens with the verdict, which is the `incidents` table rendered
//! (one row per interceptor: verdict, issuer and product, names, clients,
//! time span, accepted and refused connections), then the names with findings
//! and the clients that received an interceptor's certificate. The report
//! judges nothing itself: an issuer is an interceptor, and a connection
//! intercepted, only when an incident says so (its issuers, its leaves),
//! then, for each name with a finding, a timeline drawn as inline SVG, the
//! certificates served for it and every finding with its evidence. Certificates
//! in evidence follow as cards (subject, issuer, validity, SANs, SPKI pin,
//! chain); names without findings close the page in a collapsed table.
//!
//! The tables are folded into a model as they are read (`build`: two passes
//! over the handshakes a batch at a time; `model`: roles, colours, display
//! order); each part of the page renders from it in its own module
//! (`page`, `verdict`, `names`, `evidence`, `certs`, `others`).
//!
//! Left out: no script, font, image or style sheet is fetched (it opens from a
//! USB stick) and no JavaScript runs; collapsing uses `<details>`. Large scans
//! are capped (see the `MAX_*` constants) with "and K more" notes pointing to
//! the Parquet tables, which hold everything. Every string from the tables is

mod build;
mod certs;
mod evidence;
mod model;
mod names;
mod others;
mod page;
mod svg;
mod text;
mod verdict;

use std::fmt::Write as _;
use std::path::Path;

use crate::error::Error;
use crate::output;
use crate::rows::{CertRow, FindingRow, HandshakeRow, IncidentRow};
use build::{Binner, Counter};
use model::{Issuer, Model};
use svg::HIDDEN_COLOR;
use text::{date, duration, esc_into, short_dn};

/// Names that get a full section (timeline, certificates, evidence); further
/// names with findings are listed in the verdict tables only.
pub const MAX_NAME_SECTIONS: usize = 200;
/// Connection rows shown per finding; the rest are counted.
pub const MAX_EVIDENCE_ROWS: usize = 25;
/// Certificate rows shown per name.
pub const MAX_NAME_CERTS: usize = 20;
/// Rows of the verdict's name and client tables.
pub const MAX_VERDICT_ROWS: usize = 500;
/// Rows of the table of names without findings.
pub const MAX_OTHER_NAMES: usize = 1000;
/// Rows of a timeline; further clients share one row.
pub const MAX_TIMELINE_ROWS: usize = 16;

/// The `handshakes` columns of the first pass, which counts. The page reads
/// only these and [`BIN_COLUMNS`] (a test renders from all columns and from
/// these alone and compares).
pub const COUNT_COLUMNS: &[&str] = &[
    "flow_id",
    "file",
    "ts_start",
    "ts_end",
    "client_ip",
    "server_ip",
    "sni",
    "cert_chain_sha256",
    "leaf_sha256",
    "chain_trusted",
];

/// The `handshakes` columns of the second pass, which draws the timelines
/// and keeps the rows evidence tables show.
pub const BIN_COLUMNS: &[&str] = &[
    "flow_id",
    "ts_start",
    "client_ip",
    "client_port",
    "server_ip",
    "server_port",
    "sni",
    "tls_version",
    "ja3",
    "ja4",
    "leaf_sha256",
    "cert_visibility",
    "chain_trusted",
    "trust_reason",
    "app_bytes_client",
    "app_bytes_server",
];

/// How the page is made.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Page title and heading.
    pub title: String,
    /// When the report was made, µs since the epoch, UTC; 0 leaves it out.
    pub generated_at: i64,
    /// Known TLS-inspection products as (issuer pattern, product name), as in
    /// `testdata/inspection-products.tsv`. A pattern matches an issuer
    /// distinguished name when it occurs in it as whole words, ignoring ASCII
    /// case; the first matching pattern names the product.
    pub products: Vec<(String, String)>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            title: "certsift report".to_string(),
            generated_at: 0,
            products: Vec::new(),
        }
    }
}

/// Renders the report page from a scan's tables held in memory.
pub fn render(
    handshakes: &[HandshakeRow],
    certificates: &[CertRow],
    findings: &[FindingRow],
    incidents: &[IncidentRow],
    opts: &RenderOptions,
) -> String {
    let mut counter = Counter::new(certificates, findings, incidents);
    for (i, f) in findings.iter().enumerate() {
        for id in &f.flow_ids {
            counter.add_flow(i, id);
        }
    }
    counter.count(handshakes);
    let mut binner = Binner::new(counter);
    binner.bin(handshakes);
    page(Model::finish(binner, incidents, opts))
}

/// Renders the report page of a scan folder, reading its handshakes twice,
/// a batch at a time and only the columns the page uses, and its findings
/// without their flow ids, which are read apart into an index.
pub fn render_dir(dir: &Path, opts: &RenderOptions) -> Result<String, Error> {
    let scan = output::read_scan_light(dir)?;
    let mut counter = Counter::new(&scan.certificates, &scan.findings, &scan.incidents);
    output::each_finding_flow_id(dir, |i, id| counter.add_flow(i, id))?;
    output::each_handshake_batch(dir, COUNT_COLUMNS, |rows| counter.count(rows))?;
    let mut binner = Binner::new(counter);
    output::each_handshake_batch(dir, BIN_COLUMNS, |rows| binner.bin(rows))?;
    Ok(page(Model::finish(binner, &scan.incidents, opts)))
}

fn page(model: Model) -> String {
    let mut out = String::with_capacity(64 * 1024);
    model.page(&mut out);
    out
}
const STYLE: &str = include_str!("style.css");
const NO_SNI: &str = "(no SNI)";

impl Model<'_> {
    /// A colour swatch of a display issuer (grey when none).
    fn swatch(&self, out: &mut String, ix: Option<usize>) {
        let color = ix
            .and_then(|i| self.issuers.get(i))
            .map_or(HIDDEN_COLOR, |is| is.color);
        let _ = write!(
            out,
            r#"<span class="sw" style="background:{color}"></span>"#
        );
    }

    /// An issuer's swatch and short name, its full name on hover.
    fn issuer_short(&self, out: &mut String, ix: usize) {
        if let Some(is) = self.issuers.get(ix) {
            self.swatch(out, Some(ix));
            out.push_str(r#"<span title=""#);
            esc_into(out, is.dn);
            out.push_str("\">");
            esc_into(out, short_dn(is.dn));
            out.push_str("</span>");
        }
    }
}

/// `6 untrusted, 1 trusted`: the non-zero trust counts of an issuer's leaves.
fn trust_counts(is: &Issuer) -> String {
    let parts: Vec<String> = [
        (is.untrusted, "untrusted"),
        (is.trusted, "trusted"),
        (is.unknown, "not evaluated"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    parts.join(", ")
}

fn more(out: &mut String, total: usize, shown: usize, what: &str, table: &str) {
    if total > shown {
        let _ = write!(
            out,
            "<p class=\"more\">and {} more {what} (see {table})</p>",
            total - shown
        );
    }
}

fn dt(out: &mut String, k: &str, v: &str) {
    let _ = write!(out, "<dt>{k}</dt><dd>");
    esc_into(out, v);
    out.push_str("</dd>");
}

fn cert_trust(out: &mut String, c: &CertRow) {
    match c.trusted {
        Some(true) => out.push_str("<span class=\"good-t\">trusted</span>"),
        Some(false) => {
            out.push_str("<span class=\"bad-t\">untrusted");
            if let Some(r) = &c.validation_reason {
                out.push_str(": ");
                esc_into(out, r.as_str());
            }
            out.push_str("</span>");
        }
        None => out.push_str("<span class=\"muted\">not evaluated</span>"),
    }
}

/// `2026-09-29 → 2027-09-24`, with how long before first use it started when
/// that is under a day (a freshly minted forgery).
fn validity(out: &mut String, c: &CertRow, first_use: Option<i64>) {
    match (c.not_before, c.not_after) {
        (Some(a), Some(b)) => {
            let _ = write!(out, "{} → {}", date(a), date(b));
            let first = first_use.unwrap_or(c.first_seen);
            let age = first - a;
            if (0..86_400_000_000).contains(&age) {
                let _ = write!(
                    out,
                    " <span class=\"bad-t\">issued {} before first use</span>",
                    duration(age)
                );
            } else if age < 0 {
                out.push_str(" <span class=\"bad-t\">not yet valid at first use</span>");
            } else if first > b {
                out.push_str(" <span class=\"bad-t\">expired at first use</span>");
            }
        }
        _ => out.push_str("<span class=\"muted\">unknown</span>"),
    }
}

fn sans(out: &mut String, c: &CertRow, max: usize) {
    let all: Vec<&String> = c.san_dns.iter().chain(c.san_ip.iter()).collect();
    if all.is_empty() {
        out.push_str("<span class=\"muted\">none</span>");
        return;
    }
    for (k, s) in all.iter().take(max).enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        esc_into(out, s);
    }
    if all.len() > max {
        let _ = write!(out, " <span class=\"muted\">+{}</span>", all.len() - max);
    }
}

#[cfg(test)]
mod tests;
