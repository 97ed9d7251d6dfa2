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
//! Left out: no script, font, image or style sheet is fetched (it opens from a
//! USB stick) and no JavaScript runs; collapsing uses `<details>`. Large scans
//! are capped (see the `MAX_*` constants) with "and K more" notes pointing to
//! the Parquet tables, which hold everything. Every string from the tables is
//! escaped: they come from certificates an attacker wrote.

mod svg;
mod text;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use crate::rows::{CertRow, FindingRow, HandshakeRow, IncidentRow, Severity};
use crate::words::count;
use svg::{legend_symbol, Mark, Series, Timeline, Trust, HIDDEN_COLOR};
use text::{anchor, bytes, date, datetime, datetime_ms, duration, esc_into, short_dn};

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

/// The `handshakes` columns the page reads; `certsift report` reads only
/// these (a test renders from all columns and from these alone and compares).
pub const HANDSHAKE_COLUMNS: &[&str] = &[
    "flow_id",
    "file",
    "ts_start",
    "ts_end",
    "client_ip",
    "client_port",
    "server_ip",
    "server_port",
    "sni",
    "tls_version",
    "ja3",
    "ja4",
    "cert_chain_sha256",
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

/// Renders the report page from a scan's tables.
pub fn render(
    handshakes: &[HandshakeRow],
    certificates: &[CertRow],
    findings: &[FindingRow],
    incidents: &[IncidentRow],
    opts: &RenderOptions,
) -> String {
    let ctx = Ctx::new(handshakes, certificates, findings, incidents, opts);
    let mut out = String::with_capacity(64 * 1024 + handshakes.len().min(200_000) * 64);
    ctx.page(&mut out);
    out
}

const STYLE: &str = include_str!("style.css");
const NO_SNI: &str = "(no SNI)";

/// What the tables say about a leaf issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    /// An issuer of an incident.
    Interceptor,
    /// Neither clearly trusted nor an interceptor.
    Other,
    /// Its leaves were trusted at least as often as not.
    Trusted,
}

const WARM: [&str; 6] = [
    "#d62728", "#ff7f0e", "#9c27b0", "#8c564b", "#e6a100", "#f06292",
];
const COOL: [&str; 4] = ["#1f77b4", "#2ca02c", "#17becf", "#3949ab"];
const OTHER: [&str; 4] = ["#6d4c41", "#9e9d24", "#5d4037", "#00897b"];

/// One leaf issuer, with what its connections say about it.
struct Issuer<'a> {
    dn: &'a str,
    conns: usize,
    trusted: usize,
    untrusted: usize,
    unknown: usize,
    names: usize,
    clients: usize,
    first: i64,
    last: i64,
    serious: bool,
    product: Option<&'a str>,
    role: Role,
    color: &'static str,
}

impl<'a> Issuer<'a> {
    fn new(dn: &'a str) -> Self {
        Issuer {
            dn,
            conns: 0,
            trusted: 0,
            untrusted: 0,
            unknown: 0,
            names: 0,
            clients: 0,
            first: i64::MAX,
            last: i64::MIN,
            serious: false,
            product: None,
            role: Role::Other,
            color: HIDDEN_COLOR,
        }
    }
}

/// Connections of one finding with one leaf issuer and trust: count,
/// clients, first and last start.
type Group<'a> = (usize, HashSet<&'a str>, i64, i64);

/// A client that received a certificate an incident presented.
struct Client<'a> {
    conns: usize,
    names: BTreeSet<&'a str>,
    first: i64,
    last: i64,
}

/// A name with at least one finding.
struct NameView<'a> {
    name: &'a str,
    sev: Severity,
    findings: Vec<usize>,
    /// Handshake indices, by time.
    conns: Vec<usize>,
    intercepted: usize,
    touched: BTreeSet<&'a str>,
    onset: Option<i64>,
    interceptors: BTreeSet<usize>,
}

struct Ctx<'a> {
    hs: &'a [HandshakeRow],
    certs: &'a [CertRow],
    findings: &'a [FindingRow],
    incidents: &'a [IncidentRow],
    /// Leaves some incident presented: their connections are intercepted.
    accused: HashSet<&'a str>,
    opts: &'a RenderOptions,
    flow: HashMap<&'a str, usize>,
    cert: HashMap<&'a str, usize>,
    issuers: Vec<Issuer<'a>>,
    issuer_ix: HashMap<&'a str, usize>,
    /// Leaf issuer of each handshake.
    hs_issuer: Vec<Option<usize>>,
    by_name: HashMap<&'a str, Vec<usize>>,
    /// Finding indices, most severe first.
    finding_order: Vec<usize>,
    names: Vec<NameView<'a>>,
    /// First chain seen for each leaf.
    chain_of: Vec<Option<&'a [String]>>,
    n_clients: usize,
    n_files: usize,
    /// Certificates per SPKI hash: a key on several leaves is a forging
    /// proxy's signature.
    spki_count: HashMap<&'a str, usize>,
}

fn severity(f: &FindingRow) -> Severity {
    f.severity
}

fn trust_of(h: &HandshakeRow, has_leaf: bool) -> Trust {
    if !has_leaf {
        return Trust::Hidden;
    }
    match h.chain_trusted {
        Some(true) => Trust::Trusted,
        Some(false) => Trust::Untrusted,
        None => Trust::Unknown,
    }
}

fn name_key(h: &HandshakeRow) -> &str {
    h.sni.as_deref().unwrap_or(NO_SNI)
}

fn finding_names(f: &FindingRow) -> Vec<&str> {
    match &f.sni {
        Some(s) => vec![s.as_str()],
        None => {
            let mut v: Vec<&str> = f.names.iter().map(String::as_str).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
    }
}

/// The leaf issuers of a run and what the connections say about each:
/// the part of the report's model built from `handshakes` and
/// `certificates`.
struct IssuerIndex<'a> {
    issuers: Vec<Issuer<'a>>,
    issuer_ix: HashMap<&'a str, usize>,
    /// Leaf issuer of each handshake.
    hs_issuer: Vec<Option<usize>>,
    /// First chain seen for each leaf.
    chain_of: Vec<Option<&'a [String]>>,
    by_name: HashMap<&'a str, Vec<usize>>,
    n_clients: usize,
    n_files: usize,
}

impl<'a> IssuerIndex<'a> {
    /// One pass over the connections: each one's leaf issuer, the issuers'
    /// connection and trust counts, then their distinct clients and names.
    fn build(hs: &'a [HandshakeRow], certs: &'a [CertRow], cert: &HashMap<&'a str, usize>) -> Self {
        let mut x = IssuerIndex {
            issuers: Vec::new(),
            issuer_ix: HashMap::new(),
            hs_issuer: Vec::with_capacity(hs.len()),
            chain_of: vec![None; certs.len()],
            by_name: HashMap::new(),
            n_clients: 0,
            n_files: 0,
        };
        let mut cert_issuer: Vec<Option<usize>> = vec![None; certs.len()];
        let mut client_ids: HashMap<&'a str, u32> = HashMap::new();
        let mut issuer_clients: Vec<(usize, u32)> = Vec::new();
        let mut files: HashSet<&'a str> = HashSet::new();
        let mut last_file = None;
        for (i, h) in hs.iter().enumerate() {
            x.by_name.entry(name_key(h)).or_default().push(i);
            let next = u32::try_from(client_ids.len()).unwrap_or(u32::MAX);
            let client = *client_ids.entry(h.client_ip.as_str()).or_insert(next);
            if last_file != Some(h.file.as_str()) {
                files.insert(h.file.as_str());
                last_file = Some(h.file.as_str());
            }
            let leaf_ix = h.leaf_sha256.as_deref().and_then(|s| cert.get(s).copied());
            let Some((leaf_ix, leaf)) = leaf_ix.and_then(|c| Some((c, certs.get(c)?))) else {
                x.hs_issuer.push(None);
                continue;
            };
            if let Some(slot @ None) = x.chain_of.get_mut(leaf_ix) {
                *slot = Some(h.cert_chain_sha256.as_slice());
            }
            // One issuer lookup per distinct leaf, not per connection.
            let ix = match cert_issuer.get(leaf_ix).copied().flatten() {
                Some(ix) => ix,
                None => {
                    let ix = x.issuer(leaf.issuer.as_str());
                    if let Some(slot) = cert_issuer.get_mut(leaf_ix) {
                        *slot = Some(ix);
                    }
                    ix
                }
            };
            x.hs_issuer.push(Some(ix));
            issuer_clients.push((ix, client));
            if let Some(is) = x.issuers.get_mut(ix) {
                is.conns += 1;
                match h.chain_trusted {
                    Some(true) => is.trusted += 1,
                    Some(false) => is.untrusted += 1,
                    None => is.unknown += 1,
                }
                is.first = is.first.min(h.ts_start);
                is.last = is.last.max(h.ts_start);
            }
        }
        x.count_clients_and_names(issuer_clients);
        x.n_clients = client_ids.len();
        x.n_files = files.len();
        x
    }

    /// The index of the issuer named `dn`, added when new.
    fn issuer(&mut self, dn: &'a str) -> usize {
        let issuers = &mut self.issuers;
        *self.issuer_ix.entry(dn).or_insert_with(|| {
            issuers.push(Issuer::new(dn));
            issuers.len() - 1
        })
    }

    /// Distinct clients and names per issuer, without a set per issuer.
    fn count_clients_and_names(&mut self, mut issuer_clients: Vec<(usize, u32)>) {
        issuer_clients.sort_unstable();
        issuer_clients.dedup();
        for (ix, _) in &issuer_clients {
            if let Some(is) = self.issuers.get_mut(*ix) {
                is.clients += 1;
            }
        }
        let mut per_name: Vec<usize> = Vec::new();
        for conns in self.by_name.values() {
            per_name.clear();
            per_name.extend(
                conns
                    .iter()
                    .filter_map(|&i| self.hs_issuer.get(i).copied().flatten()),
            );
            per_name.sort_unstable();
            per_name.dedup();
            for &ix in &per_name {
                if let Some(is) = self.issuers.get_mut(ix) {
                    is.names += 1;
                }
            }
        }
    }

    /// Marks the issuers of medium and high findings, adding those no
    /// visible leaf had.
    fn mark_serious(&mut self, findings: &'a [FindingRow]) {
        for f in findings {
            let serious = severity(f) >= Severity::Medium;
            for dn in &f.issuers {
                let ix = self.issuer(dn.as_str());
                if let Some(is) = self.issuers.get_mut(ix) {
                    is.serious |= serious;
                }
            }
        }
    }

    /// Each issuer's role. Interceptors and their products are the
    /// incidents', not a judgement of the report's own.
    fn assign_roles(&mut self, incidents: &'a [IncidentRow]) {
        let mut of_incident: HashMap<&'a str, Option<&'a str>> = HashMap::new();
        for inc in incidents {
            for dn in &inc.issuers {
                let product = of_incident.entry(dn.as_str()).or_default();
                if product.is_none() {
                    *product = inc.interceptor_product.as_deref();
                }
            }
        }
        for is in &mut self.issuers {
            let incident = of_incident.get(is.dn);
            is.product = incident.copied().flatten();
            is.role = if incident.is_some() {
                Role::Interceptor
            } else if is.trusted > 0 && is.trusted >= is.untrusted {
                Role::Trusted
            } else {
                Role::Other
            };
        }
    }

    /// Puts the issuers in a stable display order (role, first seen, name),
    /// gives each its colour in that order, and re-indexes them.
    fn order_and_colour(&mut self) {
        let issuers = &mut self.issuers;
        let mut order: Vec<usize> = (0..issuers.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&issuers[a], &issuers[b]);
            (x.role, x.first, x.dn).cmp(&(y.role, y.first, y.dn))
        });
        let mut counters = [0usize; 3];
        for &i in &order {
            if let Some(is) = issuers.get_mut(i) {
                let (pal, k): (&[&'static str], usize) = match is.role {
                    Role::Interceptor => (&WARM, 0),
                    Role::Trusted => (&COOL, 1),
                    Role::Other => (&OTHER, 2),
                };
                let n = counters.get(k).copied().unwrap_or(0);
                is.color = pal.get(n % pal.len()).copied().unwrap_or(HIDDEN_COLOR);
                if let Some(c) = counters.get_mut(k) {
                    *c += 1;
                }
            }
        }
        let mut remap = vec![0usize; issuers.len()];
        for (new, &old) in order.iter().enumerate() {
            if let Some(r) = remap.get_mut(old) {
                *r = new;
            }
        }
        let mut slots: Vec<Option<Issuer<'a>>> =
            std::mem::take(issuers).into_iter().map(Some).collect();
        self.issuers = order
            .iter()
            .filter_map(|&o| slots.get_mut(o).and_then(Option::take))
            .collect();
        self.issuer_ix = self
            .issuers
            .iter()
            .enumerate()
            .map(|(i, is)| (is.dn, i))
            .collect();
        for o in &mut self.hs_issuer {
            *o = o.and_then(|i| remap.get(i).copied());
        }
    }
}

/// Finding indices, most severe first, then by name, time and id.
fn finding_order(findings: &[FindingRow]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&findings[a], &findings[b]);
        (
            std::cmp::Reverse(severity(x)),
            x.sni.as_deref(),
            x.first_seen,
            &x.finding_id,
        )
            .cmp(&(
                std::cmp::Reverse(severity(y)),
                y.sni.as_deref(),
                y.first_seen,
                &y.finding_id,
            ))
    });
    order
}

impl<'a> Ctx<'a> {
    /// The report's model of the tables: indexes by flow, certificate,
    /// issuer and name, the issuers' roles and colours, and the names with
    /// findings.
    fn new(
        hs: &'a [HandshakeRow],
        certs: &'a [CertRow],
        findings: &'a [FindingRow],
        incidents: &'a [IncidentRow],
        opts: &'a RenderOptions,
    ) -> Self {
        let flow: HashMap<&str, usize> = hs
            .iter()
            .enumerate()
            .map(|(i, h)| (h.flow_id.as_str(), i))
            .collect();
        let cert: HashMap<&str, usize> = certs
            .iter()
            .enumerate()
            .map(|(i, c)| (c.sha256.as_str(), i))
            .collect();
        let mut ix = IssuerIndex::build(hs, certs, &cert);
        ix.mark_serious(findings);
        ix.assign_roles(incidents);
        ix.order_and_colour();
        for v in ix.by_name.values_mut() {
            v.sort_by(|&a, &b| {
                let (x, y) = (&hs[a], &hs[b]);
                (x.ts_start, &x.flow_id).cmp(&(y.ts_start, &y.flow_id))
            });
        }
        let mut spki_count: HashMap<&str, usize> = HashMap::new();
        for c in certs.iter().filter(|c| !c.spki_sha256.is_empty()) {
            *spki_count.entry(c.spki_sha256.as_str()).or_default() += 1;
        }
        let mut ctx = Ctx {
            hs,
            certs,
            findings,
            incidents,
            accused: incidents
                .iter()
                .flat_map(|i| i.cert_sha256.iter().map(String::as_str))
                .collect(),
            opts,
            flow,
            cert,
            issuers: ix.issuers,
            issuer_ix: ix.issuer_ix,
            hs_issuer: ix.hs_issuer,
            by_name: ix.by_name,
            finding_order: finding_order(findings),
            names: Vec::new(),
            chain_of: ix.chain_of,
            n_clients: ix.n_clients,
            n_files: ix.n_files,
            spki_count,
        };
        ctx.names = ctx.name_views();
        ctx
    }

    fn name_views(&self) -> Vec<NameView<'a>> {
        let mut by: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for &fi in &self.finding_order {
            if let Some(f) = self.findings.get(fi) {
                for n in finding_names(f) {
                    by.entry(n).or_default().push(fi);
                }
            }
        }
        let mut views: Vec<NameView<'a>> = by
            .into_iter()
            .map(|(name, fs)| {
                let mut conns: Vec<usize> = self.by_name.get(name).cloned().unwrap_or_default();
                let known: HashSet<usize> = conns.iter().copied().collect();
                let mut extra: Vec<usize> = fs
                    .iter()
                    .filter_map(|&fi| self.findings.get(fi))
                    .flat_map(|f| f.flow_ids.iter())
                    .filter_map(|id| self.flow.get(id.as_str()).copied())
                    .filter(|i| !known.contains(i))
                    .collect();
                if !extra.is_empty() {
                    extra.sort_unstable();
                    extra.dedup();
                    conns.extend(extra);
                    conns.sort_by(|&a, &b| {
                        let (x, y) = (&self.hs[a], &self.hs[b]);
                        (x.ts_start, &x.flow_id).cmp(&(y.ts_start, &y.flow_id))
                    });
                }
                let sev = fs
                    .iter()
                    .filter_map(|&fi| self.findings.get(fi))
                    .map(severity)
                    .max()
                    .unwrap_or(Severity::Info);
                let mut v = NameView {
                    name,
                    sev,
                    findings: fs,
                    conns,
                    intercepted: 0,
                    touched: BTreeSet::new(),
                    onset: None,
                    interceptors: BTreeSet::new(),
                };
                for &i in &v.conns {
                    if let Some(ix) = self.interceptor_of(i) {
                        v.intercepted += 1;
                        v.touched.insert(self.hs[i].client_ip.as_str());
                        v.interceptors.insert(ix);
                        if v.onset.is_none() {
                            v.onset = Some(self.hs[i].ts_start);
                        }
                    }
                }
                v
            })
            .collect();
        views.sort_by(|a, b| {
            (std::cmp::Reverse(a.sev), a.name).cmp(&(std::cmp::Reverse(b.sev), b.name))
        });
        views
    }

    /// The first chain sent with `leaf` as its leaf.
    fn chain(&self, leaf: &str) -> Option<&'a [String]> {
        self.chain_of.get(*self.cert.get(leaf)?).copied().flatten()
    }

    /// The issuer of a connection's leaf, when an incident presented that
    /// leaf.
    fn interceptor_of(&self, h: usize) -> Option<usize> {
        let leaf = self.hs.get(h)?.leaf_sha256.as_deref()?;
        if !self.accused.contains(leaf) {
            return None;
        }
        self.hs_issuer.get(h).copied().flatten()
    }

    fn leaf(&self, h: &HandshakeRow) -> Option<&'a CertRow> {
        let s = h.leaf_sha256.as_deref()?;
        self.certs.get(*self.cert.get(s)?)
    }

    fn swatch(&self, out: &mut String, ix: Option<usize>) {
        let color = ix
            .and_then(|i| self.issuers.get(i))
            .map_or(HIDDEN_COLOR, |is| is.color);
        let _ = write!(
            out,
            r#"<span class="sw" style="background:{color}"></span>"#
        );
    }

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

    // ---------------------------------------------------------------- page

    fn page(&self, out: &mut String) {
        let serious: Vec<&NameView> = self
            .names
            .iter()
            .filter(|n| n.sev >= Severity::Medium)
            .collect();
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
        out.push_str(r#"<meta name="viewport" content="width=device-width, initial-scale=1"/>"#);
        out.push_str(r#"<meta name="generator" content="certsift"/><title>"#);
        esc_into(out, &self.opts.title);
        out.push_str("</title><style>");
        out.push_str(STYLE);
        out.push_str("</style></head>\n");
        let _ = write!(
            out,
            r#"<body><main data-connections="{}" data-names="{}" data-certificates="{}" data-findings="{}" data-intercepted-names="{}">"#,
            self.hs.len(),
            self.by_name.len(),
            self.certs.len(),
            self.findings.len(),
            serious.len()
        );
        out.push_str("<header><h1>");
        esc_into(out, &self.opts.title);
        out.push_str("</h1><p class=\"facts\">");
        let span = self.hs.iter().fold((i64::MAX, i64::MIN), |(a, b), h| {
            (a.min(h.ts_start), b.max(h.ts_end.max(h.ts_start)))
        });
        let _ = write!(
            out,
            "{} · {} · {} · {} · {} · {}",
            count(self.n_files, "capture file", "capture files"),
            count(self.hs.len(), "TLS connection", "TLS connections"),
            count(self.by_name.len(), "server name", "server names"),
            count(self.n_clients, "client", "clients"),
            count(self.certs.len(), "certificate", "certificates"),
            count(self.findings.len(), "finding", "findings"),
        );
        if span.0 <= span.1 {
            let _ = write!(
                out,
                "<br/>Traffic from {} to {} ({})",
                datetime(span.0),
                datetime(span.1),
                duration(span.1 - span.0)
            );
        }
        if self.opts.generated_at != 0 {
            let _ = write!(
                out,
                "<br/>Report generated {} by certsift",
                datetime(self.opts.generated_at)
            );
        }
        out.push_str("</p></header>\n");
        out.push_str(r##"<nav><a href="#verdict">Verdict</a> <a href="#names">Names with findings</a> <a href="#certificates">Certificates</a> <a href="#other-names">Other names</a> <a href="#reading">How to read</a></nav>"##);

        self.verdict(out, &serious);
        self.name_sections(out);
        self.cross_name_findings(out);
        self.cert_cards(out);
        self.other_names(out);
        self.reading(out);
        out.push_str("</main></body></html>\n");
    }

    // ------------------------------------------------------------- verdict

    /// The verdict section: the headline, the incidents, the names with
    /// findings and the clients an interceptor answered.
    fn verdict(&self, out: &mut String, serious: &[&NameView]) {
        let clients = self.intercepted_clients();
        self.verdict_headline(out, serious, &clients);
        if !self.incidents.is_empty() {
            self.incidents_table(out);
        }
        if !self.names.is_empty() {
            self.names_table(out);
        }
        if !clients.is_empty() {
            self.clients_table(out, &clients);
        }
        out.push_str("</section>\n");
    }

    /// Clients that received a certificate an incident presented.
    fn intercepted_clients(&self) -> BTreeMap<&'a str, Client<'a>> {
        let mut clients: BTreeMap<&str, Client> = BTreeMap::new();
        for (i, h) in self.hs.iter().enumerate() {
            if self.interceptor_of(i).is_some() {
                let c = clients.entry(h.client_ip.as_str()).or_insert(Client {
                    conns: 0,
                    names: BTreeSet::new(),
                    first: i64::MAX,
                    last: i64::MIN,
                });
                c.conns += 1;
                c.names.insert(name_key(h));
                c.first = c.first.min(h.ts_start);
                c.last = c.last.max(h.ts_start);
            }
        }
        clients
    }

    /// The verdict's opening: its class, the headline sentence and the
    /// count of names with only low or info findings.
    fn verdict_headline(
        &self,
        out: &mut String,
        serious: &[&NameView],
        clients: &BTreeMap<&str, Client>,
    ) {
        let mut by_sev: BTreeMap<Severity, usize> = BTreeMap::new();
        for n in &self.names {
            *by_sev.entry(n.sev).or_default() += 1;
        }
        let names_at = |s: Severity| by_sev.get(&s).copied().unwrap_or(0);
        let span = self
            .incidents
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), i| {
                (a.min(i.first_seen), b.max(i.last_seen))
            });
        let cls = if !self.incidents.is_empty() {
            "bad"
        } else if !self.names.is_empty() {
            "note"
        } else {
            "good"
        };
        let _ = write!(
            out,
            r#"<section id="verdict" class="verdict {cls}" data-incidents="{}"><h2>Verdict</h2>"#,
            self.incidents.len()
        );
        if self.incidents.is_empty() {
            let _ = write!(
                out,
                r#"<p class="headline">No interception evidence: no incident, no finding of medium or high severity among {} and {}.</p>"#,
                count(self.by_name.len(), "server name", "server names"),
                count(self.hs.len(), "connection", "connections")
            );
        } else {
            let by_verdict = |v: &str| self.incidents.iter().filter(|i| i.verdict == v).count();
            let _ = write!(
                out,
                r#"<p class="headline"><b>{}</b>: {} intercepted, {} attempted and refused, {} suspected; interception evidence on <b>{}</b> ({} high, {} medium)"#,
                count(
                    self.incidents.len(),
                    "interception incident",
                    "interception incidents"
                ),
                by_verdict(crate::analysis::INTERCEPTED),
                by_verdict(crate::analysis::REFUSED),
                by_verdict(crate::analysis::SUSPECTED),
                count(serious.len(), "server name", "server names"),
                names_at(Severity::High),
                names_at(Severity::Medium)
            );
            if !clients.is_empty() {
                let _ = write!(
                    out,
                    "; <b>{}</b> received an interceptor's certificate on <b>{}</b>",
                    count(clients.len(), "client", "clients"),
                    count(
                        clients.values().map(|c| c.conns).sum::<usize>(),
                        "connection",
                        "connections"
                    )
                );
            }
            if span.0 <= span.1 {
                let _ = write!(
                    out,
                    ", from <b>{}</b> to <b>{}</b> ({})",
                    datetime(span.0),
                    datetime(span.1),
                    duration(span.1 - span.0)
                );
            }
            out.push_str(".</p>");
        }
        let low = names_at(Severity::Low) + names_at(Severity::Info);
        if low > 0 {
            let _ = write!(
                out,
                "<p>{} only low or info findings: variety a legitimate deployment explains (renewal, several leaves from one CA).</p>",
                count(low, "name has", "names have")
            );
        }
    }

    /// The incidents table, rendered.
    fn incidents_table(&self, out: &mut String) {
        out.push_str("<h3>Incidents (suspected interceptors)</h3><table class=\"issuers incidents\"><thead><tr><th>Severity</th><th>Verdict</th><th>Interceptor</th><th>Known inspection product</th><th>Names</th><th>Clients</th><th>Connections (accepted / refused)</th><th>Bytes to server / back</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>");
        for inc in self.incidents {
            self.incident_row(out, inc);
        }
        out.push_str("</tbody></table>");
    }

    /// One incident's rows.
    fn incident_row(&self, out: &mut String, inc: &IncidentRow) {
        let sev = inc.severity.as_str();
        out.push_str(r#"<tr data-incident=""#);
        esc_into(out, &inc.incident_id);
        out.push_str(r#""><td><span class="sev sev-"#);
        esc_into(out, sev);
        out.push_str("\">");
        esc_into(out, sev);
        out.push_str("</span></td><td><b>");
        esc_into(out, &inc.verdict.replace('_', " "));
        out.push_str("</b></td><td>");
        match &inc.interceptor_issuer {
            Some(dn) => {
                let ix = self.issuer_ix.get(dn.as_str()).copied();
                self.swatch(out, ix);
                out.push_str("<b>");
                esc_into(out, short_dn(dn));
                out.push_str("</b><br/><code>");
                esc_into(out, dn);
                out.push_str("</code>");
                if let Some(is) = ix.and_then(|i| self.issuers.get(i)) {
                    out.push_str("<br/>chains: ");
                    esc_into(out, &trust_counts(is));
                }
            }
            None => out.push_str("<span class=\"muted\">certificates not visible</span>"),
        }
        if let Some(k) = &inc.interceptor_key_sha256 {
            out.push_str("<br/>CA key <code>");
            esc_into(out, k.get(..16).unwrap_or(k));
            out.push_str("…</code>");
        }
        for p in &inc.interceptor_path {
            out.push_str("<br/>");
            esc_into(out, p);
        }
        out.push_str("</td><td>");
        match &inc.interceptor_product {
            Some(p) => {
                out.push_str("<b>");
                esc_into(out, p);
                out.push_str("</b> (authorised inspection? check with its owner)");
            }
            None if self.opts.products.is_empty() => {
                out.push_str("<span class=\"muted\">none matched</span>")
            }
            None => {
                let _ = write!(
                    out,
                    "none of {} known products: <b>unknown interceptor</b>",
                    self.opts.products.len()
                );
            }
        }
        out.push_str("</td><td>");
        for (k, n) in inc.names.iter().take(8).enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            esc_into(out, n);
        }
        if inc.names.len() > 8 {
            let _ = write!(out, " and {} more", inc.names.len() - 8);
        }
        out.push_str("</td><td>");
        for (k, c) in inc.clients.iter().take(8).enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            esc_into(out, c);
        }
        if inc.clients.len() > 8 {
            let _ = write!(out, " and {} more", inc.clients.len() - 8);
        }
        let _ = write!(
            out,
            "</td><td class=\"num\">{} ({} / {})</td><td class=\"num\">{} / {}</td><td>{}</td><td>{}</td></tr>",
            inc.connections,
            inc.accepted_connections,
            inc.refused_connections,
            bytes(inc.bytes_to_server),
            bytes(inc.bytes_to_client),
            datetime(inc.first_seen),
            datetime(inc.last_seen)
        );
        out.push_str("<tr class=\"incident-summary\"><td></td><td colspan=\"9\">");
        esc_into(out, &inc.summary);
        out.push_str("</td></tr>");
    }

    /// The names with findings, most severe first.
    fn names_table(&self, out: &mut String) {
        out.push_str("<h3>Names with findings</h3><table class=\"names\"><thead><tr><th>Severity</th><th>Server name</th><th>Findings</th><th>Interceptor issuer</th><th>Intercepted / all connections</th><th>Clients touched</th><th>First interceptor certificate</th></tr></thead><tbody>");
        for n in self.names.iter().take(MAX_VERDICT_ROWS) {
            let sev = n.sev.as_str();
            let _ = write!(
                out,
                r##"<tr><td><span class="sev sev-{sev}">{sev}</span></td><td><a href="#{}">"##,
                anchor("n", n.name)
            );
            esc_into(out, n.name);
            out.push_str("</a></td><td>");
            let kinds: BTreeSet<&str> = n
                .findings
                .iter()
                .filter_map(|&fi| self.findings.get(fi))
                .map(|f| f.kind.as_str())
                .collect();
            for (k, kind) in kinds.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                esc_into(out, kind);
            }
            out.push_str("</td><td>");
            if n.interceptors.is_empty() {
                out.push_str("<span class=\"muted\">–</span>");
            }
            for (k, &ix) in n.interceptors.iter().enumerate() {
                if k > 0 {
                    out.push_str("<br/>");
                }
                self.issuer_short(out, ix);
            }
            let _ = write!(
                out,
                "</td><td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                n.intercepted,
                n.conns.len(),
                n.touched.len(),
                n.onset.map(datetime).unwrap_or_else(|| "–".into())
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            self.names.len(),
            MAX_VERDICT_ROWS,
            "names",
            "findings.parquet",
        );
    }

    /// The clients an interceptor answered.
    fn clients_table(&self, out: &mut String, clients: &BTreeMap<&str, Client>) {
        let _ = write!(
            out,
            "<details class=\"clients\"{}><summary>{} that received an interceptor's certificate</summary><table><thead><tr><th>Client</th><th>Intercepted connections</th><th>Names</th><th>First</th><th>Last</th></tr></thead><tbody>",
            if clients.len() <= 20 { " open=\"open\"" } else { "" },
            count(clients.len(), "client", "clients"),
        );
        let mut list: Vec<(&&str, &Client)> = clients.iter().collect();
        list.sort_by(|a, b| (a.1.first, a.0).cmp(&(b.1.first, b.0)));
        for (ip, c) in list.iter().take(MAX_VERDICT_ROWS) {
            out.push_str("<tr><td>");
            esc_into(out, ip);
            let _ = write!(out, "</td><td class=\"num\">{}</td><td>", c.conns);
            for (k, n) in c.names.iter().take(8).enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                esc_into(out, n);
            }
            if c.names.len() > 8 {
                let _ = write!(out, " and {} more", c.names.len() - 8);
            }
            let _ = write!(
                out,
                "</td><td>{}</td><td>{}</td></tr>",
                datetime(c.first),
                datetime(c.last)
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            clients.len(),
            MAX_VERDICT_ROWS,
            "clients",
            "handshakes.parquet",
        );
        out.push_str("</details>");
    }

    // ------------------------------------------------------- name sections

    fn name_sections(&self, out: &mut String) {
        out.push_str("<section id=\"names\"><h2>Names with findings</h2>");
        if self.names.is_empty() {
            out.push_str("<p>No finding in this scan.</p>");
        }
        let open = self.findings.len() <= 20;
        for n in self.names.iter().take(MAX_NAME_SECTIONS) {
            self.name_section(out, n, open);
        }
        more(
            out,
            self.names.len(),
            MAX_NAME_SECTIONS,
            "names with findings (listed in the verdict)",
            "findings.parquet",
        );
        out.push_str("</section>\n");
    }

    fn name_section(&self, out: &mut String, n: &NameView, open: bool) {
        let sev = n.sev.as_str();
        let _ = write!(
            out,
            r#"<section class="name sev-border-{sev}" id="{}" data-name=""#,
            anchor("n", n.name)
        );
        esc_into(out, n.name);
        let _ = write!(
            out,
            r#"" data-connections="{}"><h3><span class="sev sev-{sev}">{sev}</span> "#,
            n.conns.len()
        );
        esc_into(out, n.name);
        out.push_str("</h3>");
        let clients: HashSet<&str> = n
            .conns
            .iter()
            .map(|&i| self.hs[i].client_ip.as_str())
            .collect();
        let servers: HashSet<&str> = n
            .conns
            .iter()
            .map(|&i| self.hs[i].server_ip.as_str())
            .collect();
        out.push_str("<p class=\"meta\">");
        let _ = write!(
            out,
            "{} from {} to {}",
            count(n.conns.len(), "connection", "connections"),
            count(clients.len(), "client", "clients"),
            count(servers.len(), "server address", "server addresses")
        );
        if let (Some(&a), Some(&b)) = (n.conns.first(), n.conns.last()) {
            let _ = write!(
                out,
                ", {} to {}",
                datetime(self.hs[a].ts_start),
                datetime(self.hs[b].ts_start)
            );
        }
        if n.intercepted > 0 {
            let _ = write!(
                out,
                "; <b>{} with an interceptor's certificate, to {}</b>",
                n.intercepted,
                count(n.touched.len(), "client", "clients")
            );
        }
        out.push_str(".</p>");
        for &fi in &n.findings {
            if let Some(f) = self.findings.get(fi) {
                let s = severity(f).as_str();
                out.push_str("<p class=\"summary\">");
                let _ = write!(
                    out,
                    r#"<span class="sev sev-{s}">{s}</span> <span class="kind">"#
                );
                esc_into(out, f.kind.as_str());
                out.push_str("</span> ");
                esc_into(out, &f.summary);
                out.push_str("</p>");
            }
        }
        self.timeline(out, n);
        self.name_certs(out, n);
        for &fi in &n.findings {
            if let Some(f) = self.findings.get(fi) {
                self.finding_evidence(out, f, open && severity(f) >= Severity::Medium);
            }
        }
        out.push_str("</section>\n");
    }

    fn timeline(&self, out: &mut String, n: &NameView) {
        if n.conns.is_empty() {
            return;
        }
        // Rows: clients, or servers when one client talked to several.
        let clients: BTreeSet<&str> = n
            .conns
            .iter()
            .map(|&i| self.hs[i].client_ip.as_str())
            .collect();
        let servers: BTreeSet<&str> = n
            .conns
            .iter()
            .map(|&i| self.hs[i].server_ip.as_str())
            .collect();
        let by_server = clients.len() == 1 && servers.len() > 1;
        let key = |i: usize| -> &str {
            let h = &self.hs[i];
            if by_server {
                h.server_ip.as_str()
            } else {
                h.client_ip.as_str()
            }
        };
        // Order rows: first touched by an interceptor, then by first connection.
        let mut first: HashMap<&str, (i64, i64, usize)> = HashMap::new();
        for &i in &n.conns {
            let t = self.hs[i].ts_start;
            let hit = if self.interceptor_of(i).is_some() {
                t
            } else {
                i64::MAX
            };
            let e = first.entry(key(i)).or_insert((i64::MAX, i64::MAX, 0));
            e.0 = e.0.min(hit);
            e.1 = e.1.min(t);
            e.2 += 1;
        }
        let mut keys: Vec<(&str, (i64, i64, usize))> = first.into_iter().collect();
        keys.sort_by(|a, b| (a.1 .0, a.1 .1, a.0).cmp(&(b.1 .0, b.1 .1, b.0)));
        let shown = if keys.len() > MAX_TIMELINE_ROWS {
            MAX_TIMELINE_ROWS - 1
        } else {
            keys.len()
        };
        let mut row_of: HashMap<&str, usize> = HashMap::new();
        let mut rows: Vec<String> = Vec::new();
        for (r, (k, _)) in keys.iter().take(shown).enumerate() {
            row_of.insert(k, r);
            rows.push(if by_server {
                format!("server {k}")
            } else {
                (*k).to_string()
            });
        }
        if keys.len() > shown {
            rows.push(format!(
                "{} other {}",
                keys.len() - shown,
                if by_server { "servers" } else { "clients" }
            ));
        }
        let mut series_of: BTreeMap<usize, usize> = BTreeMap::new();
        let mut series: Vec<Series> = Vec::new();
        let mut used: BTreeSet<(Option<usize>, Trust)> = BTreeSet::new();
        let marks: Vec<Mark> = n
            .conns
            .iter()
            .map(|&i| {
                let h = &self.hs[i];
                let leaf_ix = self.hs_issuer.get(i).copied().flatten();
                let trust = trust_of(h, leaf_ix.is_some());
                let s = leaf_ix.map(|ix| {
                    *series_of.entry(ix).or_insert_with(|| {
                        let is = self.issuers.get(ix);
                        series.push(Series {
                            label: is.map(|x| short_dn(x.dn)).unwrap_or("").to_string(),
                            color: is.map_or(HIDDEN_COLOR, |x| x.color),
                        });
                        series.len() - 1
                    })
                });
                used.insert((leaf_ix, trust));
                Mark {
                    row: row_of.get(key(i)).copied().unwrap_or(shown),
                    ts: h.ts_start,
                    series: s,
                    trust,
                }
            })
            .collect();
        let tl = Timeline {
            rows,
            series,
            marks,
            onset: n.onset,
            caption: format!(
                "Timeline of {} connections for {}: one row per {}, one mark per connection, coloured by the leaf certificate's issuer",
                n.conns.len(),
                n.name,
                if by_server { "server" } else { "client" }
            ),
        };
        out.push_str("<figure class=\"tl\">");
        out.push_str(&tl.render());
        out.push_str("<figcaption class=\"legend\">");
        for (ix, trust) in &used {
            out.push_str("<span class=\"lg\">");
            let color = ix
                .and_then(|i| self.issuers.get(i))
                .map_or(HIDDEN_COLOR, |is| is.color);
            out.push_str(&legend_symbol(*trust, color));
            match ix.and_then(|i| self.issuers.get(i)) {
                Some(is) => {
                    out.push_str("<span title=\"");
                    esc_into(out, is.dn);
                    out.push_str("\">");
                    esc_into(out, short_dn(is.dn));
                    out.push_str("</span>");
                    if is.role == Role::Interceptor {
                        out.push_str(" <b class=\"bad-t\">interceptor</b>");
                    }
                }
                None => out.push_str("no certificate visible (TLS 1.3 or resumed)"),
            }
            if ix.is_some() {
                let _ = write!(out, " · {}", trust.label());
            }
            out.push_str("</span>");
        }
        out.push_str("</figcaption></figure>");
    }

    fn name_certs(&self, out: &mut String, n: &NameView) {
        // Leaves served for the name, by first use.
        let mut leaves: Vec<(&str, usize, i64)> = Vec::new();
        let mut pos: HashMap<&str, usize> = HashMap::new();
        for &i in &n.conns {
            let h = &self.hs[i];
            if let Some(l) = h.leaf_sha256.as_deref() {
                let p = *pos.entry(l).or_insert_with(|| {
                    leaves.push((l, 0, h.ts_start));
                    leaves.len() - 1
                });
                if let Some(e) = leaves.get_mut(p) {
                    e.1 += 1;
                }
            }
        }
        if leaves.is_empty() {
            out.push_str("<p class=\"muted\">No certificate was visible for this name.</p>");
            return;
        }
        let _ = write!(
            out,
            "<h4>Certificates served for this name ({})</h4><table class=\"certs\"><thead><tr><th>Subject</th><th>Issuer</th><th>Valid</th><th>SANs</th><th>SPKI pin (sha256)</th><th>Trust</th><th>Conns</th><th>First use</th></tr></thead><tbody>",
            leaves.len()
        );
        for (sha, count, first) in leaves.iter().take(MAX_NAME_CERTS) {
            let c = self.cert.get(sha).and_then(|&c| self.certs.get(c));
            out.push_str("<tr><td>");
            let ix = c.and_then(|c| self.issuer_ix.get(c.issuer.as_str()).copied());
            self.swatch(out, ix);
            let _ = write!(out, r##"<a href="#{}">"##, anchor("c", sha));
            match c {
                Some(c) => esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject)),
                None => esc_into(out, sha.get(..16).unwrap_or(sha)),
            }
            out.push_str("</a></td><td>");
            if let Some(c) = c {
                esc_into(out, short_dn(&c.issuer));
                out.push_str("</td><td>");
                validity(out, c, Some(*first));
                out.push_str("</td><td>");
                sans(out, c, 3);
                out.push_str("</td><td><code>");
                esc_into(out, &c.spki_pin);
                out.push_str("</code>");
                let shared = self
                    .spki_count
                    .get(c.spki_sha256.as_str())
                    .copied()
                    .unwrap_or(0);
                if shared > 1 {
                    let _ = write!(
                        out,
                        "<br/><span class=\"bad-t\">key in {shared} certificates</span>"
                    );
                }
                out.push_str("</td><td>");
                cert_trust(out, c);
            } else {
                out.push_str("</td><td></td><td></td><td></td><td>");
            }
            let _ = write!(
                out,
                "</td><td class=\"num\">{count}</td><td>{}</td></tr>",
                datetime(*first)
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            leaves.len(),
            MAX_NAME_CERTS,
            "certificates",
            "certificates.parquet",
        );
    }

    fn finding_evidence(&self, out: &mut String, f: &FindingRow, open: bool) {
        let mut conns: Vec<usize> = f
            .flow_ids
            .iter()
            .filter_map(|id| self.flow.get(id.as_str()).copied())
            .collect();
        conns.sort_by(|&a, &b| {
            let (x, y) = (&self.hs[a], &self.hs[b]);
            (x.ts_start, &x.flow_id).cmp(&(y.ts_start, &y.flow_id))
        });
        conns.dedup();
        let missing = f.flow_ids.len().saturating_sub(conns.len());
        let s = severity(f).as_str();
        let _ = write!(
            out,
            r#"<details class="finding" id="{}" data-finding=""#,
            anchor("f", &f.finding_id)
        );
        esc_into(out, &f.finding_id);
        let _ = write!(
            out,
            r#"" data-connections="{}" data-clients="{}" data-certificates="{}"{}><summary><span class="sev sev-{s}">{s}</span> <span class="kind">"#,
            f.flow_ids.len(),
            f.clients.len(),
            f.cert_sha256.len(),
            if open { r#" open="open""# } else { "" }
        );
        esc_into(out, f.kind.as_str());
        let _ = write!(
            out,
            "</span> evidence: {}, {}, {}, {} to {} <span class=\"muted\">(finding ",
            count(f.flow_ids.len(), "connection", "connections"),
            count(f.clients.len(), "client", "clients"),
            count(f.cert_sha256.len(), "certificate", "certificates"),
            datetime(f.first_seen),
            datetime(f.last_seen)
        );
        esc_into(out, &f.finding_id);
        out.push_str(")</span></summary>");
        out.push_str("<p class=\"summary\">");
        esc_into(out, &f.summary);
        out.push_str("</p>");

        // Aggregate: issuer × trust.
        let mut groups: BTreeMap<(Option<usize>, Trust), Group> = BTreeMap::new();
        for &i in &conns {
            let h = &self.hs[i];
            let ix = self.hs_issuer.get(i).copied().flatten();
            let g = groups.entry((ix, trust_of(h, ix.is_some()))).or_insert((
                0,
                HashSet::new(),
                i64::MAX,
                i64::MIN,
            ));
            g.0 += 1;
            g.1.insert(h.client_ip.as_str());
            g.2 = g.2.min(h.ts_start);
            g.3 = g.3.max(h.ts_start);
        }
        out.push_str("<table class=\"groups\"><thead><tr><th>Leaf issuer</th><th>Trust</th><th>Connections</th><th>Clients</th><th>First</th><th>Last</th></tr></thead><tbody>");
        for ((ix, trust), (n, cl, a, b)) in &groups {
            out.push_str("<tr><td>");
            match ix {
                Some(ix) => self.issuer_short(out, *ix),
                None => {
                    self.swatch(out, None);
                    out.push_str("no certificate visible");
                }
            }
            let _ = write!(
                out,
                "</td><td>{}</td><td class=\"num\">{n}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                trust.label(),
                cl.len(),
                datetime(*a),
                datetime(*b)
            );
        }
        out.push_str("</tbody></table>");

        // Representative rows: first of each (issuer, trust, client), then
        // the earliest others, up to the cap; shown in time order.
        let mut picked: Vec<usize> = Vec::new();
        let mut seen: HashSet<(Option<usize>, Trust, &str)> = HashSet::new();
        let mut taken: HashSet<usize> = HashSet::new();
        for &i in &conns {
            if picked.len() >= MAX_EVIDENCE_ROWS {
                break;
            }
            let h = &self.hs[i];
            let ix = self.hs_issuer.get(i).copied().flatten();
            if seen.insert((ix, trust_of(h, ix.is_some()), h.client_ip.as_str())) {
                picked.push(i);
                taken.insert(i);
            }
        }
        for &i in &conns {
            if picked.len() >= MAX_EVIDENCE_ROWS {
                break;
            }
            if taken.insert(i) {
                picked.push(i);
            }
        }
        picked.sort_by(|&a, &b| {
            let (x, y) = (&self.hs[a], &self.hs[b]);
            (x.ts_start, &x.flow_id).cmp(&(y.ts_start, &y.flow_id))
        });
        out.push_str("<div class=\"scroll\"><table class=\"conns\"><thead><tr><th>Time (UTC)</th><th>Client → server</th><th>SNI</th><th>Leaf certificate</th><th>Trust</th><th>TLS</th><th title=\"application data bytes after the handshake, client to server / server to client\">App data ↑/↓</th><th>JA3 / JA4</th><th>Flow</th></tr></thead><tbody>");
        for &i in &picked {
            self.conn_row(out, i);
        }
        out.push_str("</tbody></table></div>");
        if conns.len() > picked.len() {
            let _ = write!(
                out,
                "<p class=\"more\">and {} more connections (one row per issuer, trust and client shown first; all in handshakes.parquet, flow ids in findings.parquet)</p>",
                conns.len() - picked.len()
            );
        }
        if missing > 0 {
            let _ = write!(
                out,
                "<p class=\"more\">{} evidence flow ids are not in the handshakes table</p>",
                count(missing, "of the", "of the")
            );
        }

        // Certificates in evidence.
        if !f.cert_sha256.is_empty() {
            out.push_str("<p class=\"evcerts\">Certificates: ");
            for (k, sha) in f.cert_sha256.iter().take(MAX_NAME_CERTS * 2).enumerate() {
                if k > 0 {
                    out.push_str(" · ");
                }
                let c = self.cert.get(sha.as_str()).and_then(|&c| self.certs.get(c));
                let ix = c.and_then(|c| self.issuer_ix.get(c.issuer.as_str()).copied());
                self.swatch(out, ix);
                let _ = write!(out, r##"<a href="#{}">"##, anchor("c", sha));
                match c {
                    Some(c) => {
                        esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject));
                        out.push_str("</a> <span class=\"muted\">by ");
                        esc_into(out, short_dn(&c.issuer));
                        out.push_str("</span>");
                    }
                    None => {
                        esc_into(out, sha.get(..16).unwrap_or(sha));
                        out.push_str("</a>");
                    }
                }
            }
            if f.cert_sha256.len() > MAX_NAME_CERTS * 2 {
                let _ = write!(
                    out,
                    " and {} more",
                    f.cert_sha256.len() - MAX_NAME_CERTS * 2
                );
            }
            out.push_str("</p>");
        }
        out.push_str("</details>");
    }

    fn conn_row(&self, out: &mut String, i: usize) {
        let h = &self.hs[i];
        let ix = self.hs_issuer.get(i).copied().flatten();
        let trust = trust_of(h, ix.is_some());
        let cls = if self.interceptor_of(i).is_some() {
            " class=\"hit\""
        } else {
            ""
        };
        let stamp = datetime_ms(h.ts_start);
        let (day, time) = stamp.split_once(' ').unwrap_or(("", stamp.as_str()));
        let _ = write!(out, "<tr{cls}><td>{day}<br/>{time}</td><td>");
        esc_into(out, &h.client_ip);
        let _ = write!(out, ":{}<br/>→ ", h.client_port);
        esc_into(out, &h.server_ip);
        let _ = write!(out, ":{}</td><td>", h.server_port);
        match &h.sni {
            Some(s) => esc_into(out, s),
            None => out.push_str("<span class=\"muted\">none</span>"),
        }
        out.push_str("</td><td>");
        match self.leaf(h) {
            Some(c) => {
                self.swatch(out, ix);
                let _ = write!(out, r##"<a href="#{}">"##, anchor("c", &c.sha256));
                esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject));
                out.push_str("</a><br/><span class=\"muted\">by ");
                esc_into(out, short_dn(&c.issuer));
                out.push_str("</span>");
            }
            None => {
                self.swatch(out, None);
                out.push_str("<span class=\"muted\">");
                esc_into(out, &h.cert_visibility);
                out.push_str("</span>");
            }
        }
        let tcls = match trust {
            Trust::Untrusted => "bad-t",
            Trust::Trusted => "good-t",
            _ => "muted",
        };
        let _ = write!(out, "</td><td class=\"{tcls}\">{}", trust.label());
        if let Some(r) = &h.trust_reason {
            out.push_str(": ");
            esc_into(out, r.as_str());
        }
        out.push_str("</td><td>");
        esc_into(out, h.tls_version.as_deref().unwrap_or(""));
        let _ = write!(
            out,
            "</td><td class=\"num\">{} / {}</td><td><code>",
            bytes(h.app_bytes_client),
            bytes(h.app_bytes_server)
        );
        esc_into(out, h.fingerprints.ja3.as_deref().unwrap_or(""));
        out.push_str("</code><br/><code>");
        esc_into(out, h.fingerprints.ja4.as_deref().unwrap_or(""));
        out.push_str("</code></td><td><code>");
        esc_into(out, &h.flow_id);
        out.push_str("</code></td></tr>");
    }

    /// Findings without a single server name are shown under each of their
    /// names already; this lists them once more with all their names.
    fn cross_name_findings(&self, out: &mut String) {
        let cross: Vec<&FindingRow> = self
            .finding_order
            .iter()
            .filter_map(|&fi| self.findings.get(fi))
            .filter(|f| f.sni.is_none())
            .collect();
        if cross.is_empty() {
            return;
        }
        out.push_str("<section id=\"cross\"><h2>Findings across names</h2><table><thead><tr><th>Severity</th><th>Kind</th><th>Names</th><th>Summary</th><th>Issuers</th></tr></thead><tbody>");
        for f in cross.iter().take(MAX_VERDICT_ROWS) {
            let s = severity(f).as_str();
            let _ = write!(
                out,
                r#"<tr><td><span class="sev sev-{s}">{s}</span></td><td>"#
            );
            esc_into(out, f.kind.as_str());
            out.push_str("</td><td>");
            for (k, n) in f.names.iter().take(12).enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, r##"<a href="#{}">"##, anchor("n", n));
                esc_into(out, n);
                out.push_str("</a>");
            }
            if f.names.len() > 12 {
                let _ = write!(out, " and {} more", f.names.len() - 12);
            }
            out.push_str("</td><td>");
            esc_into(out, &f.summary);
            out.push_str("</td><td>");
            for (k, dn) in f.issuers.iter().enumerate() {
                if k > 0 {
                    out.push_str("<br/>");
                }
                match self.issuer_ix.get(dn.as_str()) {
                    Some(&ix) => self.issuer_short(out, ix),
                    None => esc_into(out, dn),
                }
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table>");
        more(
            out,
            cross.len(),
            MAX_VERDICT_ROWS,
            "findings",
            "findings.parquet",
        );
        out.push_str("</section>\n");
    }

    // ---------------------------------------------------- certificate cards

    fn cert_cards(&self, out: &mut String) {
        // Certificates linked from the sections above, in order of first
        // mention, then their chains.
        let mut list: Vec<&str> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for n in self.names.iter().take(MAX_NAME_SECTIONS) {
            let mut leaves: Vec<&str> = Vec::new();
            let mut lseen: HashSet<&str> = HashSet::new();
            for &i in &n.conns {
                if let Some(l) = self.hs[i].leaf_sha256.as_deref() {
                    if lseen.insert(l) {
                        leaves.push(l);
                    }
                }
            }
            for l in leaves.into_iter().take(MAX_NAME_CERTS) {
                if seen.insert(l) {
                    list.push(l);
                }
            }
            for &fi in &n.findings {
                if let Some(f) = self.findings.get(fi) {
                    for c in f.cert_sha256.iter().take(MAX_NAME_CERTS * 2) {
                        if seen.insert(c.as_str()) {
                            list.push(c.as_str());
                        }
                    }
                }
            }
        }
        let mut k = 0;
        while let Some(&sha) = list.get(k) {
            k += 1;
            if let Some(chain) = self.chain(sha) {
                for c in chain.iter() {
                    if seen.insert(c.as_str()) {
                        list.push(c.as_str());
                    }
                }
            }
        }
        out.push_str("<section id=\"certificates\"><h2>Certificates in evidence</h2>");
        if list.is_empty() {
            out.push_str("<p>None.</p>");
        }
        let mut opened: HashSet<&str> = HashSet::new();
        for sha in list {
            match self.cert.get(sha).and_then(|&c| self.certs.get(c)) {
                Some(c) => {
                    // The first certificate of each interceptor is open, so
                    // the page shows one forged certificate in full.
                    let open = self
                        .issuer_ix
                        .get(c.issuer.as_str())
                        .and_then(|&i| self.issuers.get(i))
                        .is_some_and(|is| is.role == Role::Interceptor)
                        && opened.insert(c.issuer.as_str());
                    self.cert_card(out, c, open);
                }
                None => {
                    let _ = write!(
                        out,
                        r#"<div class="cert missing" id="{}">Certificate <code>"#,
                        anchor("c", sha)
                    );
                    esc_into(out, sha);
                    out.push_str("</code> is not in the certificates table.</div>");
                }
            }
        }
        out.push_str("</section>\n");
    }

    fn cert_card(&self, out: &mut String, c: &CertRow, open: bool) {
        let ix = self.issuer_ix.get(c.issuer.as_str()).copied();
        let _ = write!(
            out,
            r#"<details class="cert" id="{}"{}><summary>"#,
            anchor("c", &c.sha256),
            if open { r#" open="open""# } else { "" }
        );
        self.swatch(out, ix);
        out.push_str("<b>");
        esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject));
        out.push_str("</b> issued by ");
        esc_into(out, short_dn(&c.issuer));
        out.push_str(" · ");
        if c.is_ca {
            out.push_str("CA · ");
        }
        cert_trust(out, c);
        out.push_str(" · <code>");
        esc_into(out, c.sha256.get(..16).unwrap_or(&c.sha256));
        out.push_str("…</code></summary><dl>");
        dt(out, "Subject", &c.subject);
        dt(out, "Issuer", &c.issuer);
        out.push_str("<dt>Validity</dt><dd>");
        validity(out, c, None);
        out.push_str("</dd><dt>SANs</dt><dd>");
        sans(out, c, usize::MAX);
        out.push_str("</dd>");
        out.push_str("<dt>SPKI pin</dt><dd>");
        esc_into(out, &c.spki_pin);
        let shared = self
            .spki_count
            .get(c.spki_sha256.as_str())
            .copied()
            .unwrap_or(0);
        if shared > 1 {
            let _ = write!(
                out,
                " <span class=\"bad-t\">same key in {} certificates</span>",
                shared
            );
        }
        out.push_str("</dd>");
        dt(out, "SPKI sha256", &c.spki_sha256);
        dt(out, "SHA-256", &c.sha256);
        dt(out, "SHA-1", &c.sha1);
        dt(out, "Serial", &c.serial);
        let key = match (c.key_bits, &c.curve) {
            (_, Some(curve)) => format!("{} {curve}", c.key_algorithm),
            (Some(b), None) => format!("{} {b} bits", c.key_algorithm),
            (None, None) => c.key_algorithm.clone(),
        };
        dt(out, "Key", &key);
        dt(out, "Signature", &c.signature_algorithm);
        let mut flags: Vec<&str> = Vec::new();
        if c.is_ca {
            flags.push("CA");
        }
        if c.self_signed {
            flags.push("self-signed");
        }
        if c.has_sct {
            flags.push("SCTs");
        }
        if c.has_ocsp {
            flags.push("OCSP");
        }
        if c.has_crl {
            flags.push("CRL");
        }
        if !flags.is_empty() {
            dt(out, "Flags", &flags.join(", "));
        }
        if !c.ext_key_usage.is_empty() {
            dt(out, "Extended key usage", &c.ext_key_usage.join(", "));
        }
        let seen = format!(
            "{} from {} to {}",
            count(
                usize::try_from(c.flow_count).unwrap_or(0),
                "connection",
                "connections"
            ),
            datetime(c.first_seen),
            datetime(c.last_seen)
        );
        dt(out, "Seen", &seen);
        if let Some(e) = &c.parse_error {
            dt(out, "Parse error", e);
        }
        if let Some(chain) = self.chain(c.sha256.as_str()) {
            out.push_str("<dt>Chain as sent</dt><dd><ol class=\"chain\">");
            for sha in chain.iter() {
                out.push_str("<li>");
                match self.cert.get(sha.as_str()).and_then(|&k| self.certs.get(k)) {
                    Some(k) => {
                        let kix = self.issuer_ix.get(k.issuer.as_str()).copied();
                        self.swatch(out, kix);
                        let _ = write!(out, r##"<a href="#{}">"##, anchor("c", sha));
                        esc_into(out, &k.subject);
                        out.push_str("</a> <span class=\"muted\">issued by ");
                        esc_into(out, &k.issuer);
                        out.push_str("</span>");
                    }
                    None => {
                        out.push_str("<code>");
                        esc_into(out, sha);
                        out.push_str("</code>");
                    }
                }
                out.push_str("</li>");
            }
            out.push_str("</ol></dd>");
        }
        out.push_str("</dl></details>");
    }

    // ---------------------------------------------------------- other names

    fn other_names(&self, out: &mut String) {
        let with: HashSet<&str> = self.names.iter().map(|n| n.name).collect();
        let mut rest: Vec<(&str, &Vec<usize>)> = self
            .by_name
            .iter()
            .filter(|(n, _)| !with.contains(*n))
            .map(|(n, v)| (*n, v))
            .collect();
        rest.sort_by(|a, b| {
            (std::cmp::Reverse(a.1.len()), a.0).cmp(&(std::cmp::Reverse(b.1.len()), b.0))
        });
        let _ = write!(
            out,
            "<section id=\"other-names\"><h2>Names without findings</h2><details><summary>{} without findings ({} connections), busiest first</summary>",
            count(rest.len(), "server name", "server names"),
            rest.iter().map(|r| r.1.len()).sum::<usize>()
        );
        out.push_str("<table class=\"others\"><thead><tr><th>Server name</th><th>Connections</th><th>Clients</th><th>Servers</th><th>Leaf issuers</th><th>Trusted / untrusted / not evaluated / not visible</th><th>First</th><th>Last</th></tr></thead><tbody>");
        for (name, conns) in rest.iter().take(MAX_OTHER_NAMES) {
            let mut clients: HashSet<&str> = HashSet::new();
            let mut servers: HashSet<&str> = HashSet::new();
            let mut iss: BTreeSet<usize> = BTreeSet::new();
            let mut t = [0usize; 4];
            let (mut a, mut b) = (i64::MAX, i64::MIN);
            for &i in conns.iter() {
                let h = &self.hs[i];
                clients.insert(h.client_ip.as_str());
                servers.insert(h.server_ip.as_str());
                let ix = self.hs_issuer.get(i).copied().flatten();
                if let Some(ix) = ix {
                    iss.insert(ix);
                }
                let slot = match trust_of(h, ix.is_some()) {
                    Trust::Trusted => 0,
                    Trust::Untrusted => 1,
                    Trust::Unknown => 2,
                    Trust::Hidden => 3,
                };
                if let Some(s) = t.get_mut(slot) {
                    *s += 1;
                }
                a = a.min(h.ts_start);
                b = b.max(h.ts_start);
            }
            out.push_str("<tr><td>");
            esc_into(out, name);
            let _ = write!(
                out,
                "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>",
                conns.len(),
                clients.len(),
                servers.len()
            );
            for (k, &ix) in iss.iter().enumerate() {
                if k > 0 {
                    out.push_str("<br/>");
                }
                self.issuer_short(out, ix);
            }
            let _ = write!(
                out,
                "</td><td>{} / {} / {} / {}</td><td>{}</td><td>{}</td></tr>",
                t[0],
                t[1],
                t[2],
                t[3],
                datetime(a),
                datetime(b)
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            rest.len(),
            MAX_OTHER_NAMES,
            "names",
            "handshakes.parquet",
        );
        out.push_str("</details></section>\n");
    }

    fn reading(&self, out: &mut String) {
        out.push_str("<section id=\"reading\"><h2>How to read this report</h2><ul>");
        out.push_str("<li><b>Interceptor</b>: a leaf certificate issuer that appears in a medium or high finding and whose chains were never trusted, or whose name matches a known TLS-inspection product. An authorised corporate proxy is still an interceptor: check with its owner.</li>");
        out.push_str("<li><b>Timeline</b>: time runs left to right (UTC); one row per client (per server address when a single client is involved); each mark is a connection, coloured by the issuer of the certificate it received. ");
        for t in [
            Trust::Trusted,
            Trust::Untrusted,
            Trust::Unknown,
            Trust::Hidden,
        ] {
            let color = if t == Trust::Hidden {
                HIDDEN_COLOR
            } else {
                "#555"
            };
            out.push_str(&legend_symbol(t, color));
            let _ = write!(out, " {} ", t.label());
        }
        out.push_str("(TLS 1.3 hides the certificate unless keys were given). The dashed red line marks the first connection that received an interceptor's certificate. Marks on the same pixel are merged; hover for counts.</li>");
        out.push_str("<li><b>Severity</b>: high and medium are interception evidence; low and info are variety a legitimate deployment explains.</li>");
        out.push_str("<li>Everything here comes from the scan's tables (handshakes, certificates, findings); long lists are cut, the tables hold every row. Strings come from certificates and ClientHellos, which an attacker controls.</li>");
        out.push_str("</ul></section>\n");
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
