//! The report's model: what the page shows, finished from the two passes of
//! [`super::build`]. Issuers get their roles (from the incidents) and
//! colours here, and every aggregate is put in display order; the section
//! modules only read it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::rows::{CertRow, FindingRow, HandshakeRow, IncidentRow, Severity};

use super::build::{Agg, Binner, Counter, Earliest, IssuerCount, Plan, Tally};
use super::svg::{Bins, Series, Trust, HIDDEN_COLOR};
use super::text::short_dn;
use super::{RenderOptions, MAX_NAME_SECTIONS};

/// What the tables say about a leaf issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Role {
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
pub(super) struct Issuer<'a> {
    pub dn: &'a str,
    pub trusted: usize,
    pub untrusted: usize,
    pub unknown: usize,
    pub role: Role,
    pub color: &'static str,
}

/// A leaf served for a name: connections and first use.
pub(super) struct LeafUse {
    pub sha: String,
    pub conns: usize,
    pub first: i64,
}

/// A drawn timeline and its legend.
pub(super) struct TimelineView {
    pub rows: Vec<String>,
    pub by_server: bool,
    pub series: Vec<Series>,
    pub bins: Bins,
    /// (display issuer, trust) pairs present, for the legend.
    pub used: BTreeSet<(Option<usize>, Trust)>,
}

/// A name with at least one finding.
pub(super) struct NameView<'a> {
    pub name: &'a str,
    pub sev: Severity,
    /// Finding indices, most severe first.
    pub findings: Vec<usize>,
    pub conns: usize,
    pub clients: usize,
    pub servers: usize,
    pub first: i64,
    pub last: i64,
    pub intercepted: usize,
    pub touched: usize,
    pub onset: Option<i64>,
    /// Display issuer indices.
    pub interceptors: BTreeSet<usize>,
    /// Leaves by first use.
    pub leaves: Vec<LeafUse>,
    /// Drawn for the first [`MAX_NAME_SECTIONS`] names with connections.
    pub timeline: Option<TimelineView>,
}

/// Connections of one finding with one leaf issuer and trust.
pub(super) struct GroupView {
    pub issuer: Option<usize>,
    pub trust: Trust,
    pub conns: usize,
    pub clients: usize,
    pub first: i64,
    pub last: i64,
}

/// What a finding's evidence shows.
pub(super) struct EvidenceView {
    pub found: usize,
    pub listed: usize,
    /// By (display issuer, trust).
    pub groups: Vec<GroupView>,
    /// Flow ids of the rows shown, in time order.
    pub picked: Vec<Box<str>>,
}

/// A client that received a certificate an incident presented.
pub(super) struct ClientView {
    pub ip: String,
    pub conns: usize,
    /// Its names, sorted (only the first few are shown).
    pub names: Vec<String>,
    pub first: i64,
    pub last: i64,
}

/// A name without findings.
pub(super) struct OtherName {
    pub name: String,
    pub conns: usize,
    pub clients: usize,
    pub servers: usize,
    /// Display issuer indices.
    pub issuers: BTreeSet<usize>,
    /// Trusted, untrusted, not evaluated, not visible.
    pub trust: [usize; 4],
    pub first: i64,
    pub last: i64,
}

/// Counts in the page header.
pub(super) struct Totals {
    pub connections: usize,
    pub names: usize,
    pub clients: usize,
    pub files: usize,
    /// Earliest start and latest end of any connection.
    pub span: (i64, i64),
}

/// Everything the page shows.
pub(super) struct Model<'a> {
    pub opts: &'a RenderOptions,
    pub certs: &'a [CertRow],
    pub findings: &'a [FindingRow],
    pub incidents: &'a [IncidentRow],
    pub cert: HashMap<&'a str, usize>,
    pub accused: HashSet<&'a str>,
    pub issuers: Vec<Issuer<'a>>,
    pub issuer_ix: HashMap<&'a str, usize>,
    /// Finding indices, most severe first.
    pub finding_order: Vec<usize>,
    pub names: Vec<NameView<'a>>,
    /// Per finding index.
    pub evidence: Vec<EvidenceView>,
    /// Full rows of the connections evidence tables show, by flow id.
    pub rows: HashMap<Box<str>, HandshakeRow>,
    /// Names without findings, busiest first.
    pub others: Vec<OtherName>,
    /// Clients an interceptor answered, by first connection.
    pub clients: Vec<ClientView>,
    /// First chain sent with each certificate as its leaf.
    pub chain_of: Vec<Option<Vec<String>>>,
    /// Certificates per SPKI hash: a key on several leaves is a forging
    /// proxy's signature.
    pub spki_count: HashMap<&'a str, usize>,
    pub totals: Totals,
}

/// Issuers in display order (role, first seen, name), each with its role
/// and colour, and the display index of each raw id.
fn order_issuers<'a>(
    counts: &[IssuerCount<'a>],
    incidents: &'a [IncidentRow],
) -> (Vec<Issuer<'a>>, Vec<usize>) {
    let mut of_incident: HashMap<&'a str, Option<&'a str>> = HashMap::new();
    for inc in incidents {
        for dn in &inc.issuers {
            let product = of_incident.entry(dn.as_str()).or_default();
            if product.is_none() {
                *product = inc.interceptor_product.as_deref();
            }
        }
    }
    let role = |is: &IssuerCount| match of_incident.get(is.dn) {
        Some(_) => Role::Interceptor,
        None if is.trusted > 0 && is.trusted >= is.untrusted => Role::Trusted,
        None => Role::Other,
    };
    let mut order: Vec<(Role, i64, &'a str, usize)> = counts
        .iter()
        .enumerate()
        .map(|(i, is)| (role(is), is.first, is.dn, i))
        .collect();
    order.sort();
    let mut counters = [0usize; 3];
    let mut remap = vec![0usize; counts.len()];
    let mut issuers = Vec::with_capacity(counts.len());
    for (new, &(role, _, dn, old)) in order.iter().enumerate() {
        let (pal, k): (&[&'static str], usize) = match role {
            Role::Interceptor => (&WARM, 0),
            Role::Trusted => (&COOL, 1),
            Role::Other => (&OTHER, 2),
        };
        let n = counters.get(k).copied().unwrap_or(0);
        if let Some(c) = counters.get_mut(k) {
            *c += 1;
        }
        if let Some(r) = remap.get_mut(old) {
            *r = new;
        }
        let is = counts.get(old);
        issuers.push(Issuer {
            dn,
            trusted: is.map_or(0, |x| x.trusted),
            untrusted: is.map_or(0, |x| x.untrusted),
            unknown: is.map_or(0, |x| x.unknown),
            role,
            color: pal.get(n % pal.len()).copied().unwrap_or(HIDDEN_COLOR),
        });
    }
    (issuers, remap)
}

fn display(remap: &[usize], raw: u32) -> usize {
    remap.get(raw as usize).copied().unwrap_or(usize::MAX)
}

impl<'a> Model<'a> {
    /// The model of a finished second pass.
    pub(super) fn finish(
        mut b: Binner<'a>,
        incidents: &'a [IncidentRow],
        opts: &'a RenderOptions,
    ) -> Self {
        let findings = b.counter.findings;
        for f in findings {
            for dn in &f.issuers {
                b.counter.issuer(dn.as_str());
            }
        }
        let c = &b.counter;
        let (issuers, remap) = order_issuers(&c.issuers, incidents);
        let mut spki_count: HashMap<&str, usize> = HashMap::new();
        for cert in c.certs.iter().filter(|c| !c.spki_sha256.is_empty()) {
            *spki_count.entry(cert.spki_sha256.as_str()).or_default() += 1;
        }
        let mut plans: HashMap<usize, Plan> = b.plans.drain(..).map(|p| (p.view, p)).collect();
        let names = c
            .heads
            .iter()
            .enumerate()
            .map(|(v, head)| {
                let agg = c.view_agg(v);
                name_view(c, &remap, &issuers, head, &agg, plans.remove(&v))
            })
            .collect();
        Model {
            opts,
            certs: c.certs,
            findings,
            incidents,
            cert: c.cert.clone(),
            accused: incidents
                .iter()
                .flat_map(|i| i.cert_sha256.iter().map(String::as_str))
                .collect(),
            issuer_ix: issuers
                .iter()
                .enumerate()
                .map(|(i, is)| (is.dn, i))
                .collect(),
            finding_order: c.finding_order.clone(),
            names,
            evidence: (0..findings.len())
                .map(|f| evidence_view(c, &remap, f))
                .collect(),
            others: other_names(c, &remap),
            clients: intercepted_clients(c),
            chain_of: c.chain_of.clone(),
            spki_count,
            totals: Totals {
                connections: c.rows,
                names: c.names.len(),
                clients: c.clients.len(),
                files: c.files.len(),
                span: c.span,
            },
            issuers,
            rows: std::mem::take(&mut b.rows),
        }
    }

    /// The display index of the issuer of a row's leaf.
    pub(super) fn issuer_of(&self, h: &HandshakeRow) -> Option<usize> {
        let c = self.leaf(h)?;
        self.issuer_ix.get(c.issuer.as_str()).copied()
    }

    /// The row's leaf certificate, when in the certificates table.
    pub(super) fn leaf(&self, h: &HandshakeRow) -> Option<&'a CertRow> {
        self.certs.get(*self.cert.get(h.leaf_sha256.as_deref()?)?)
    }

    /// Whether an incident presented the row's leaf.
    pub(super) fn intercepted(&self, h: &HandshakeRow) -> bool {
        self.leaf(h).is_some()
            && h.leaf_sha256
                .as_deref()
                .is_some_and(|l| self.accused.contains(l))
    }

    /// The certificate with this SHA-256, when in the table.
    pub(super) fn cert_row(&self, sha: &str) -> Option<&'a CertRow> {
        self.certs.get(*self.cert.get(sha)?)
    }

    /// The first chain sent with `leaf` as its leaf.
    pub(super) fn chain(&self, leaf: &str) -> Option<&[String]> {
        self.chain_of.get(*self.cert.get(leaf)?)?.as_deref()
    }

    /// How many certificates share this one's key.
    pub(super) fn key_shared(&self, c: &CertRow) -> usize {
        self.spki_count
            .get(c.spki_sha256.as_str())
            .copied()
            .unwrap_or(0)
    }

    /// The display index of the issuer of a certificate.
    pub(super) fn issuer_of_cert(&self, c: &CertRow) -> Option<usize> {
        self.issuer_ix.get(c.issuer.as_str()).copied()
    }
}

fn name_view<'a>(
    c: &Counter<'a>,
    remap: &[usize],
    issuers: &[Issuer],
    head: &super::build::ViewHead<'a>,
    agg: &Agg,
    plan: Option<Plan>,
) -> NameView<'a> {
    let mut leaves: Vec<(&Earliest, u32, usize)> =
        agg.leaves.iter().map(|(l, (n, e))| (e, *l, *n)).collect();
    leaves.sort();
    NameView {
        name: head.name,
        sev: head.sev,
        findings: head.findings.clone(),
        conns: agg.conns,
        clients: agg.clients.len(),
        servers: agg.servers.len(),
        first: agg.first,
        last: agg.last,
        intercepted: agg.intercepted,
        touched: agg.clients.values().filter(|u| u.hit != i64::MAX).count(),
        onset: agg.onset,
        interceptors: agg
            .interceptors
            .iter()
            .map(|&i| display(remap, i))
            .collect(),
        leaves: leaves
            .into_iter()
            .map(|(e, l, n)| LeafUse {
                sha: c.leaves.name(l).to_string(),
                conns: n,
                first: e.ts,
            })
            .collect(),
        timeline: plan.map(|p| timeline_view(c, remap, issuers, agg, p)),
    }
}

fn timeline_view(
    c: &Counter,
    remap: &[usize],
    issuers: &[Issuer],
    agg: &Agg,
    plan: Plan,
) -> TimelineView {
    let strings = if plan.by_server {
        &c.servers
    } else {
        &c.clients
    };
    let mut rows: Vec<(usize, String)> = plan
        .row_of
        .iter()
        .map(|(k, r)| {
            let s = strings.name(*k);
            let label = if plan.by_server {
                format!("server {s}")
            } else {
                s.to_string()
            };
            (*r, label)
        })
        .collect();
    rows.sort();
    let mut rows: Vec<String> = rows.into_iter().map(|(_, l)| l).collect();
    let keys = if plan.by_server {
        agg.servers.len()
    } else {
        agg.clients.len()
    };
    if keys > plan.shown {
        rows.push(format!(
            "{} other {}",
            keys - plan.shown,
            if plan.by_server { "servers" } else { "clients" }
        ));
    }
    let mut series: Vec<(usize, u32)> = plan.series_of.iter().map(|(ix, s)| (*s, *ix)).collect();
    series.sort();
    TimelineView {
        rows,
        by_server: plan.by_server,
        series: series
            .into_iter()
            .map(|(_, raw)| {
                let is = issuers.get(display(remap, raw));
                Series {
                    label: is.map(|x| short_dn(x.dn)).unwrap_or("").to_string(),
                    color: is.map_or(HIDDEN_COLOR, |x| x.color),
                }
            })
            .collect(),
        bins: plan.bins,
        used: agg
            .used
            .iter()
            .map(|(ix, t)| (ix.map(|i| display(remap, i)), *t))
            .collect(),
    }
}

fn evidence_view(c: &Counter, remap: &[usize], f: usize) -> EvidenceView {
    let Some(e) = c.evidence.get(f) else {
        return EvidenceView {
            found: 0,
            listed: c.listed(f),
            groups: Vec::new(),
            picked: Vec::new(),
        };
    };
    let mut groups: BTreeMap<(Option<usize>, Trust), &Tally> = BTreeMap::new();
    for ((ix, trust), g) in &e.groups {
        groups.insert((ix.map(|i| display(remap, i)), *trust), g);
    }
    EvidenceView {
        found: e.found,
        listed: c.listed(f),
        groups: groups
            .into_iter()
            .map(|((issuer, trust), g)| GroupView {
                issuer,
                trust,
                conns: g.count,
                clients: g.ids.len(),
                first: g.first,
                last: g.last,
            })
            .collect(),
        picked: e.picked().into_iter().map(|p| p.flow).collect(),
    }
}

fn other_names(c: &Counter, remap: &[usize]) -> Vec<OtherName> {
    let mut per: HashMap<u32, (usize, usize, BTreeSet<usize>)> = HashMap::new();
    for (n, _) in &c.name_clients {
        per.entry(*n).or_default().0 += 1;
    }
    for (n, _) in &c.name_servers {
        per.entry(*n).or_default().1 += 1;
    }
    for (n, ix) in &c.name_issuers {
        per.entry(*n).or_default().2.insert(display(remap, *ix));
    }
    let with: HashSet<&str> = c.heads.iter().map(|h| h.name).collect();
    let mut rest: Vec<OtherName> = c
        .name_counts
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let id = u32::try_from(i).ok()?;
            let name = c.names.name(id);
            if with.contains(name) {
                return None;
            }
            let (clients, servers, issuers) = per.remove(&id).unwrap_or_default();
            Some(OtherName {
                name: name.to_string(),
                conns: n.conns,
                clients,
                servers,
                issuers,
                trust: n.trust,
                first: n.first,
                last: n.last,
            })
        })
        .collect();
    rest.sort_by(|a, b| {
        (std::cmp::Reverse(a.conns), &a.name).cmp(&(std::cmp::Reverse(b.conns), &b.name))
    });
    rest
}

fn intercepted_clients(c: &Counter) -> Vec<ClientView> {
    let mut list: Vec<ClientView> = c
        .hit_clients
        .iter()
        .map(|(id, cl)| {
            let mut names: Vec<String> = cl
                .ids
                .iter()
                .map(|n| c.names.name(*n).to_string())
                .collect();
            names.sort();
            ClientView {
                ip: c.clients.name(*id).to_string(),
                conns: cl.count,
                names,
                first: cl.first,
                last: cl.last,
            }
        })
        .collect();
    list.sort_by(|a, b| (a.first, &a.ip).cmp(&(b.first, &b.ip)));
    list
}

/// Names of the first sections: the ones whose timelines and evidence the
/// page draws.
pub(super) fn shown<'m, 'a>(names: &'m [NameView<'a>]) -> impl Iterator<Item = &'m NameView<'a>> {
    names.iter().take(MAX_NAME_SECTIONS)
}
