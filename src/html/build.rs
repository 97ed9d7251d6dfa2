//! The report's model built from the tables as they are read: handshake rows
//! come in batches (twice) and are folded into aggregates, never kept.
//!
//! First pass ([`Counter`]): per name, certificate, issuer and client
//! counts; per name with a finding and per finding the aggregates its
//! section draws (clients, servers, leaves, issuer × trust groups) and a
//! bounded list of the connections its evidence table will show. A
//! connection belongs to the section of its server name and to those of the
//! findings that name its flow id; connections with the same names and
//! findings form one class, aggregated once, so a finding that spans 500
//! names costs one aggregate, not 500.
//!
//! Second pass ([`Binner`]): now that each timeline's time span and rows are
//! known, each shown timeline's marks are merged per pixel, and the full rows
//! of the connections shown in evidence tables are kept.
//!
//! What grows: small aggregates per name, client, certificate and issuer,
//! and one entry per flow id a finding names (the findings table's own
//! evidence); nothing per connection otherwise.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::rows::{CertRow, FindingRow, HandshakeRow, IncidentRow, Severity};

use super::svg::{Bins, Scale, Trust};
use super::{MAX_EVIDENCE_ROWS, MAX_NAME_SECTIONS, NO_SNI};

/// Strings seen, each given a dense id in order of first sight.
#[derive(Default)]
pub(super) struct Interner {
    ids: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        self.ids.insert(s.into(), i);
        self.strings.push(s.into());
        i
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    pub(super) fn name(&self, i: u32) -> &str {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.strings.get(i))
            .map_or("", |s| s)
    }

    pub(super) fn len(&self) -> usize {
        self.strings.len()
    }
}

/// The findings that name each flow id: a flow maps to an interned set of
/// finding indices (set 0 is empty), so flows named by the same findings
/// share one set; and whether a row with that id was read in this pass.
struct FlowIndex {
    set_of: HashMap<Box<str>, (u32, bool)>,
    sets: Vec<Vec<u32>>,
    grown: HashMap<(u32, u32), u32>,
    /// Flow ids listed per finding, duplicates included.
    listed: Vec<usize>,
}

impl FlowIndex {
    fn new(findings: usize) -> Self {
        FlowIndex {
            set_of: HashMap::new(),
            sets: vec![Vec::new()],
            grown: HashMap::new(),
            listed: vec![0; findings],
        }
    }

    /// Records that finding `f` names `flow`; findings come in index order.
    fn add(&mut self, f: u32, flow: &str) {
        if let Some(n) = usize::try_from(f).ok().and_then(|f| self.listed.get_mut(f)) {
            *n += 1;
        }
        let old = self.set_of.get(flow).map_or(0, |s| s.0);
        if self.set(old).last() == Some(&f) {
            return;
        }
        let sets = &mut self.sets;
        let new = *self.grown.entry((old, f)).or_insert_with(|| {
            let mut v = sets.get(old as usize).cloned().unwrap_or_default();
            v.push(f);
            sets.push(v);
            u32::try_from(sets.len() - 1).unwrap_or(0)
        });
        match self.set_of.get_mut(flow) {
            Some(s) => s.0 = new,
            None => {
                self.set_of.insert(flow.into(), (new, false));
            }
        }
    }

    /// The findings naming the flow of a row. Flow ids are unique, but a
    /// scan that read one capture under two paths has two rows with the
    /// same id: a finding names it once, so only its first row counts for
    /// the findings (both count for their server name).
    fn take(&mut self, flow: &str) -> u32 {
        match self.set_of.get_mut(flow) {
            Some((set, seen @ false)) => {
                *seen = true;
                *set
            }
            _ => 0,
        }
    }

    /// Forgets which flows were read, for the next pass.
    fn rewind(&mut self) {
        for s in self.set_of.values_mut() {
            s.1 = false;
        }
    }

    fn set(&self, s: u32) -> &[u32] {
        self.sets.get(s as usize).map_or(&[], Vec::as_slice)
    }
}

/// The earliest connection of something, by start then flow id (the order
/// the page lists connections in).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Earliest {
    pub ts: i64,
    pub flow: Box<str>,
}

impl Earliest {
    fn of(h: &HandshakeRow) -> Self {
        Earliest {
            ts: h.ts_start,
            flow: h.flow_id.as_str().into(),
        }
    }

    fn is_after(&self, h: &HandshakeRow) -> bool {
        (h.ts_start, h.flow_id.as_str()) < (self.ts, &*self.flow)
    }
}

/// One client (or server) of a section: its first connection with an
/// interceptor's certificate, its first connection, and its count.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeyUse {
    pub hit: i64,
    pub first: i64,
    pub count: usize,
}

impl KeyUse {
    fn merge(&mut self, o: &KeyUse) {
        self.hit = self.hit.min(o.hit);
        self.first = self.first.min(o.first);
        self.count += o.count;
    }
}

/// What a name section shows of its connections, aggregated.
#[derive(Debug, Clone)]
pub(super) struct Agg {
    pub conns: usize,
    pub first: i64,
    pub last: i64,
    pub clients: HashMap<u32, KeyUse>,
    pub servers: HashMap<u32, KeyUse>,
    pub intercepted: usize,
    pub onset: Option<i64>,
    /// Raw issuer ids of intercepted connections.
    pub interceptors: BTreeSet<u32>,
    /// Earliest connection per raw issuer: the timeline's series order.
    pub series: HashMap<u32, Earliest>,
    pub used: BTreeSet<(Option<u32>, Trust)>,
    /// Per leaf id: connections and first use.
    pub leaves: HashMap<u32, (usize, Earliest)>,
}

impl Default for Agg {
    fn default() -> Self {
        Agg {
            conns: 0,
            first: i64::MAX,
            last: i64::MIN,
            clients: HashMap::new(),
            servers: HashMap::new(),
            intercepted: 0,
            onset: None,
            interceptors: BTreeSet::new(),
            series: HashMap::new(),
            used: BTreeSet::new(),
            leaves: HashMap::new(),
        }
    }
}

fn key_use(map: &mut HashMap<u32, KeyUse>, k: u32, c: &Conn) {
    let ts = c.row.ts_start;
    let e = map.entry(k).or_insert(KeyUse {
        hit: i64::MAX,
        first: i64::MAX,
        count: 0,
    });
    if c.hit {
        e.hit = e.hit.min(ts);
    }
    e.first = e.first.min(ts);
    e.count += 1;
}

impl Agg {
    fn add(&mut self, c: &Conn) {
        let ts = c.row.ts_start;
        self.conns += 1;
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
        key_use(&mut self.clients, c.client, c);
        key_use(&mut self.servers, c.server, c);
        if let (true, Some(ix)) = (c.hit, c.issuer) {
            self.intercepted += 1;
            self.onset = Some(self.onset.map_or(ts, |o| o.min(ts)));
            self.interceptors.insert(ix);
        }
        if let Some(ix) = c.issuer {
            match self.series.get_mut(&ix) {
                Some(e) if e.is_after(c.row) => *e = Earliest::of(c.row),
                Some(_) => {}
                None => {
                    self.series.insert(ix, Earliest::of(c.row));
                }
            }
        }
        self.used.insert((c.issuer, c.trust));
        if let Some(l) = c.leaf {
            let e = self
                .leaves
                .entry(l)
                .or_insert_with(|| (0, Earliest::of(c.row)));
            e.0 += 1;
            if e.1.is_after(c.row) {
                e.1 = Earliest::of(c.row);
            }
        }
    }

    fn merge(&mut self, o: &Agg) {
        self.conns += o.conns;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        for (k, u) in &o.clients {
            self.clients
                .entry(*k)
                .or_insert(KeyUse { count: 0, ..*u })
                .merge(u);
        }
        for (k, u) in &o.servers {
            self.servers
                .entry(*k)
                .or_insert(KeyUse { count: 0, ..*u })
                .merge(u);
        }
        self.intercepted += o.intercepted;
        self.onset = match (self.onset, o.onset) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.interceptors.extend(o.interceptors.iter().copied());
        for (ix, e) in &o.series {
            let slot = self.series.entry(*ix).or_insert_with(|| e.clone());
            if e < slot {
                *slot = e.clone();
            }
        }
        self.used.extend(o.used.iter().copied());
        for (l, (n, e)) in &o.leaves {
            let slot = self.leaves.entry(*l).or_insert_with(|| (0, e.clone()));
            slot.0 += n;
            if *e < slot.1 {
                slot.1 = e.clone();
            }
        }
    }
}

/// A connection of the evidence table: where it starts, and its (issuer,
/// trust, client) key.
#[derive(Debug, Clone)]
pub(super) struct Cand {
    pub at: Earliest,
    key: (Option<u32>, Trust, u32),
}

/// Connections of something: how many, the distinct ids (clients, names)
/// among them, and their first and last start.
#[derive(Debug, Clone)]
pub(super) struct Tally {
    pub count: usize,
    pub ids: BTreeSet<u32>,
    pub first: i64,
    pub last: i64,
}

impl Tally {
    fn new() -> Self {
        Tally {
            count: 0,
            ids: BTreeSet::new(),
            first: i64::MAX,
            last: i64::MIN,
        }
    }

    fn add(&mut self, ts: i64, id: u32) {
        self.count += 1;
        self.ids.insert(id);
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
    }
}

/// What a finding's evidence shows, aggregated over its connections.
#[derive(Debug, Clone, Default)]
pub(super) struct Evidence {
    /// Connections of the handshakes table the finding names.
    pub found: usize,
    /// Keyed by raw issuer id.
    pub groups: HashMap<(Option<u32>, Trust), Tally>,
    /// The earliest connection of each of the first (issuer, trust, client)
    /// keys, at most [`MAX_EVIDENCE_ROWS`] keys.
    firsts: Vec<Cand>,
    /// The earliest connections, at most [`MAX_EVIDENCE_ROWS`].
    earliest: Vec<Cand>,
}

/// Inserts `c` into `list`, which keeps the `MAX_EVIDENCE_ROWS` earliest
/// candidates (one per key when `by_key`).
fn keep_candidate(list: &mut Vec<Cand>, c: &Conn, by_key: bool) {
    let key = (c.issuer, c.trust, c.client);
    if by_key {
        if let Some(x) = list.iter_mut().find(|x| x.key == key) {
            if x.at.is_after(c.row) {
                x.at = Earliest::of(c.row);
            }
            return;
        }
    }
    let cand = || Cand {
        at: Earliest::of(c.row),
        key,
    };
    if list.len() < MAX_EVIDENCE_ROWS {
        list.push(cand());
        return;
    }
    let latest = list
        .iter_mut()
        .max_by(|a, b| a.at.cmp(&b.at))
        .filter(|l| l.at.is_after(c.row));
    if let Some(slot) = latest {
        *slot = cand();
    }
}

impl Evidence {
    fn add(&mut self, c: &Conn) {
        let ts = c.row.ts_start;
        self.found += 1;
        self.groups
            .entry((c.issuer, c.trust))
            .or_insert_with(Tally::new)
            .add(ts, c.client);
        keep_candidate(&mut self.firsts, c, true);
        keep_candidate(&mut self.earliest, c, false);
    }

    /// The rows shown: the first connection of each (issuer, trust,
    /// client), then the earliest others, up to the cap; in time order.
    pub(super) fn picked(&self) -> Vec<Earliest> {
        let mut picked: Vec<Earliest> = self.firsts.iter().map(|c| c.at.clone()).collect();
        picked.sort();
        let mut rest: Vec<Earliest> = self.earliest.iter().map(|c| c.at.clone()).collect();
        rest.sort();
        for e in rest {
            if picked.len() >= MAX_EVIDENCE_ROWS {
                break;
            }
            if !picked.contains(&e) {
                picked.push(e);
            }
        }
        picked.sort();
        picked
    }
}

/// A leaf issuer, as counted.
#[derive(Debug, Clone)]
pub(super) struct IssuerCount<'a> {
    pub dn: &'a str,
    pub trusted: usize,
    pub untrusted: usize,
    pub unknown: usize,
    pub first: i64,
}

/// A name of the handshakes table, as counted.
#[derive(Debug, Clone)]
pub(super) struct NameCount {
    pub conns: usize,
    /// Trusted, untrusted, not evaluated, not visible.
    pub trust: [usize; 4],
    pub first: i64,
    pub last: i64,
}

/// Connections with the same section of their server name and the same
/// findings naming them.
struct Class {
    views: Vec<u32>,
    agg: Agg,
}

/// One row, with the ids the aggregates use.
pub(super) struct Conn<'r> {
    pub row: &'r HandshakeRow,
    pub name: u32,
    pub client: u32,
    pub server: u32,
    /// Raw issuer id of the leaf, when the leaf is in the certificates table.
    pub issuer: Option<u32>,
    pub leaf: Option<u32>,
    pub trust: Trust,
    /// An incident presented the leaf.
    pub hit: bool,
}

fn trust_of(chain_trusted: Option<bool>, has_leaf: bool) -> Trust {
    if !has_leaf {
        return Trust::Hidden;
    }
    match chain_trusted {
        Some(true) => Trust::Trusted,
        Some(false) => Trust::Untrusted,
        None => Trust::Unknown,
    }
}

/// The names a finding's section appears under.
pub(super) fn finding_names(f: &FindingRow) -> Vec<&str> {
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

/// Finding indices, most severe first, then by name, time and id.
pub(super) fn finding_order(findings: &[FindingRow]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&findings[a], &findings[b]);
        (
            std::cmp::Reverse(x.severity),
            x.sni.as_deref(),
            x.first_seen,
            &x.finding_id,
        )
            .cmp(&(
                std::cmp::Reverse(y.severity),
                y.sni.as_deref(),
                y.first_seen,
                &y.finding_id,
            ))
    });
    order
}

/// A name with at least one finding, before its connections are counted.
pub(super) struct ViewHead<'a> {
    pub name: &'a str,
    pub sev: Severity,
    /// Finding indices, in [`finding_order`].
    pub findings: Vec<usize>,
}

/// The names with findings, most severe first, then by name.
fn view_heads<'a>(findings: &'a [FindingRow], order: &[usize]) -> Vec<ViewHead<'a>> {
    let mut by: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
    for &fi in order {
        if let Some(f) = findings.get(fi) {
            for n in finding_names(f) {
                by.entry(n).or_default().push(fi);
            }
        }
    }
    let mut heads: Vec<ViewHead> = by
        .into_iter()
        .map(|(name, fs)| ViewHead {
            name,
            sev: fs
                .iter()
                .filter_map(|&fi| findings.get(fi))
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info),
            findings: fs,
        })
        .collect();
    heads.sort_by(|a, b| {
        (std::cmp::Reverse(a.sev), a.name).cmp(&(std::cmp::Reverse(b.sev), b.name))
    });
    heads
}

/// The first pass: everything but the timelines' marks and the evidence
/// rows.
pub(super) struct Counter<'a> {
    pub certs: &'a [CertRow],
    pub findings: &'a [FindingRow],
    pub cert: HashMap<&'a str, usize>,
    accused: HashSet<&'a str>,
    cert_issuer: Vec<Option<u32>>,
    /// First chain sent with each certificate as its leaf.
    pub chain_of: Vec<Option<Vec<String>>>,
    pub issuers: Vec<IssuerCount<'a>>,
    issuer_ix: HashMap<&'a str, u32>,
    pub names: Interner,
    pub clients: Interner,
    pub servers: Interner,
    pub leaves: Interner,
    pub name_counts: Vec<NameCount>,
    pub name_clients: HashSet<(u32, u32)>,
    pub name_servers: HashSet<(u32, u32)>,
    pub name_issuers: HashSet<(u32, u32)>,
    /// Clients that received a certificate an incident presented, with
    /// their names.
    pub hit_clients: HashMap<u32, Tally>,
    pub files: HashSet<Box<str>>,
    pub rows: usize,
    /// Earliest start and latest end of any connection.
    pub span: (i64, i64),
    flows: FlowIndex,
    pub heads: Vec<ViewHead<'a>>,
    pub finding_order: Vec<usize>,
    view_of_name: HashMap<&'a str, u32>,
    /// Per name id: its view, when it has findings.
    name_view: Vec<Option<u32>>,
    finding_views: Vec<Vec<u32>>,
    classes: Vec<Class>,
    class_ix: HashMap<(Option<u32>, u32), u32>,
    class_of_views: HashMap<Vec<u32>, u32>,
    /// Per view: its classes.
    view_classes: Vec<Vec<u32>>,
    pub evidence: Vec<Evidence>,
}

impl<'a> Counter<'a> {
    /// Ready to count, given the small tables; feed it each finding's flow
    /// ids ([`Counter::add_flow`]) before the handshakes.
    pub(super) fn new(
        certs: &'a [CertRow],
        findings: &'a [FindingRow],
        incidents: &'a [IncidentRow],
    ) -> Self {
        let finding_order = finding_order(findings);
        let heads = view_heads(findings, &finding_order);
        let n_views = heads.len();
        let view_of_name: HashMap<&'a str, u32> = heads
            .iter()
            .enumerate()
            .map(|(i, h)| (h.name, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let finding_views = findings
            .iter()
            .map(|f| {
                let mut v: Vec<u32> = finding_names(f)
                    .into_iter()
                    .filter_map(|n| view_of_name.get(n).copied())
                    .collect();
                v.sort_unstable();
                v
            })
            .collect();
        Counter {
            certs,
            findings,
            cert: certs
                .iter()
                .enumerate()
                .map(|(i, c)| (c.sha256.as_str(), i))
                .collect(),
            accused: incidents
                .iter()
                .flat_map(|i| i.cert_sha256.iter().map(String::as_str))
                .collect(),
            cert_issuer: vec![None; certs.len()],
            chain_of: vec![None; certs.len()],
            issuers: Vec::new(),
            issuer_ix: HashMap::new(),
            names: Interner::default(),
            clients: Interner::default(),
            servers: Interner::default(),
            leaves: Interner::default(),
            name_counts: Vec::new(),
            name_clients: HashSet::new(),
            name_servers: HashSet::new(),
            name_issuers: HashSet::new(),
            hit_clients: HashMap::new(),
            files: HashSet::new(),
            rows: 0,
            span: (i64::MAX, i64::MIN),
            flows: FlowIndex::new(findings.len()),
            heads,
            finding_order,
            view_of_name,
            name_view: Vec::new(),
            finding_views,
            classes: Vec::new(),
            class_ix: HashMap::new(),
            class_of_views: HashMap::new(),
            view_classes: vec![Vec::new(); n_views],
            evidence: vec![Evidence::default(); findings.len()],
        }
    }

    /// Finding `finding` names `flow`; called finding by finding, in index
    /// order.
    pub(super) fn add_flow(&mut self, finding: usize, flow: &str) {
        self.flows
            .add(u32::try_from(finding).unwrap_or(u32::MAX), flow);
    }

    /// The raw id of the issuer named `dn`, added when new.
    pub(super) fn issuer(&mut self, dn: &'a str) -> u32 {
        let issuers = &mut self.issuers;
        *self.issuer_ix.entry(dn).or_insert_with(|| {
            issuers.push(IssuerCount {
                dn,
                trusted: 0,
                untrusted: 0,
                unknown: 0,
                first: i64::MAX,
            });
            u32::try_from(issuers.len() - 1).unwrap_or(u32::MAX)
        })
    }

    /// The leaf's issuer, looked up once per distinct leaf.
    fn leaf_issuer(&mut self, cert_ix: usize) -> Option<u32> {
        if let Some(ix) = self.cert_issuer.get(cert_ix).copied().flatten() {
            return Some(ix);
        }
        let certs = self.certs;
        let ix = self.issuer(certs.get(cert_ix)?.issuer.as_str());
        if let Some(slot) = self.cert_issuer.get_mut(cert_ix) {
            *slot = Some(ix);
        }
        Some(ix)
    }

    fn conn<'r>(&mut self, h: &'r HandshakeRow) -> Conn<'r> {
        let name = self.names.id(h.sni.as_deref().unwrap_or(NO_SNI));
        while self.name_counts.len() < self.names.len() {
            let n = self
                .names
                .name(u32::try_from(self.name_counts.len()).unwrap_or(0));
            self.name_view.push(self.view_of_name.get(n).copied());
            self.name_counts.push(NameCount {
                conns: 0,
                trust: [0; 4],
                first: i64::MAX,
                last: i64::MIN,
            });
        }
        let cert_ix = h
            .leaf_sha256
            .as_deref()
            .and_then(|s| self.cert.get(s).copied());
        let issuer = cert_ix.and_then(|c| self.leaf_issuer(c));
        if let (Some(c), Some(_)) = (cert_ix, issuer) {
            if let Some(slot @ None) = self.chain_of.get_mut(c) {
                *slot = Some(h.cert_chain_sha256.clone());
            }
        }
        let hit = issuer.is_some()
            && h.leaf_sha256
                .as_deref()
                .is_some_and(|l| self.accused.contains(l));
        Conn {
            row: h,
            name,
            client: self.clients.id(&h.client_ip),
            server: self.servers.id(&h.server_ip),
            issuer,
            leaf: h.leaf_sha256.as_deref().map(|l| self.leaves.id(l)),
            trust: trust_of(h.chain_trusted, issuer.is_some()),
            hit,
        }
    }

    /// Counts a batch of rows.
    pub(super) fn count(&mut self, rows: &[HandshakeRow]) {
        for h in rows {
            self.count_one(h);
        }
    }

    fn count_one(&mut self, h: &HandshakeRow) {
        let c = self.conn(h);
        self.rows += 1;
        self.span = (
            self.span.0.min(h.ts_start),
            self.span.1.max(h.ts_end.max(h.ts_start)),
        );
        if !self.files.contains(h.file.as_str()) {
            self.files.insert(h.file.as_str().into());
        }
        self.count_totals(&c);
        let set = self.flows.take(&h.flow_id);
        let view = self.name_view.get(c.name as usize).copied().flatten();
        if set == 0 && view.is_none() {
            return;
        }
        let class = self.class(view, set);
        if let Some(cl) = self.classes.get_mut(class) {
            cl.agg.add(&c);
        }
        for &f in self.flows.set(set) {
            if let Some(e) = self.evidence.get_mut(f as usize) {
                e.add(&c);
            }
        }
    }

    /// The per-name, per-issuer and per-client counts.
    fn count_totals(&mut self, c: &Conn) {
        let ts = c.row.ts_start;
        if let Some(n) = self.name_counts.get_mut(c.name as usize) {
            n.conns += 1;
            let slot = match c.trust {
                Trust::Trusted => 0,
                Trust::Untrusted => 1,
                Trust::Unknown => 2,
                Trust::Hidden => 3,
            };
            if let Some(t) = n.trust.get_mut(slot) {
                *t += 1;
            }
            n.first = n.first.min(ts);
            n.last = n.last.max(ts);
        }
        self.name_clients.insert((c.name, c.client));
        self.name_servers.insert((c.name, c.server));
        if let Some(ix) = c.issuer {
            self.name_issuers.insert((c.name, ix));
            if let Some(is) = self.issuers.get_mut(ix as usize) {
                match c.row.chain_trusted {
                    Some(true) => is.trusted += 1,
                    Some(false) => is.untrusted += 1,
                    None => is.unknown += 1,
                }
                is.first = is.first.min(ts);
            }
        }
        if c.hit {
            self.hit_clients
                .entry(c.client)
                .or_insert_with(Tally::new)
                .add(ts, c.name);
        }
    }

    /// The class of connections in `view`'s name named by finding set
    /// `set`: one per distinct set of sections they appear in, so the
    /// connections of a finding spanning 500 names, whatever other findings
    /// name them, mostly share one class.
    fn class(&mut self, view: Option<u32>, set: u32) -> usize {
        if let Some(&c) = self.class_ix.get(&(view, set)) {
            return c as usize;
        }
        let mut views: Vec<u32> = view.into_iter().collect();
        for &f in self.flows.set(set) {
            if let Some(v) = self.finding_views.get(f as usize) {
                views.extend(v.iter().copied());
            }
        }
        views.sort_unstable();
        views.dedup();
        let c = match self.class_of_views.get(&views) {
            Some(&c) => c,
            None => {
                let c = u32::try_from(self.classes.len()).unwrap_or(u32::MAX);
                for &v in &views {
                    if let Some(list) = self.view_classes.get_mut(v as usize) {
                        list.push(c);
                    }
                }
                self.class_of_views.insert(views.clone(), c);
                self.classes.push(Class {
                    views,
                    agg: Agg::default(),
                });
                c
            }
        };
        self.class_ix.insert((view, set), c);
        c as usize
    }

    /// A view's aggregate: the merge of its classes, made when asked for
    /// and not kept (merged, each would hold every client of a finding
    /// spanning all names).
    pub(super) fn view_agg(&self, v: usize) -> Cow<'_, Agg> {
        let classes = self.view_classes.get(v).map_or(&[][..], Vec::as_slice);
        let agg_of = |c: &u32| self.classes.get(*c as usize).map(|cl| &cl.agg);
        match classes {
            [one] => agg_of(one).map_or_else(|| Cow::Owned(Agg::default()), Cow::Borrowed),
            many => {
                let mut agg = Agg::default();
                for a in many.iter().filter_map(agg_of) {
                    agg.merge(a);
                }
                Cow::Owned(agg)
            }
        }
    }

    /// Flow ids finding `f` lists.
    pub(super) fn listed(&self, f: usize) -> usize {
        self.flows.listed.get(f).copied().unwrap_or(0)
    }

    /// The raw issuer of a leaf, as the first pass found it.
    fn issuer_of(&self, h: &HandshakeRow) -> Option<u32> {
        let c = self.cert.get(h.leaf_sha256.as_deref()?)?;
        self.cert_issuer.get(*c).copied().flatten()
    }
}

/// One shown timeline, as its marks are merged.
pub(super) struct Plan {
    pub view: usize,
    pub by_server: bool,
    /// Row of each shown client (or server) id; others share row `shown`.
    pub row_of: HashMap<u32, usize>,
    pub shown: usize,
    /// Series of each raw issuer id.
    pub series_of: HashMap<u32, usize>,
    pub bins: Bins,
}

impl Plan {
    /// The rows and series of view `view`'s timeline, from its aggregate.
    pub(super) fn new(view: usize, agg: &Agg, c: &Counter) -> Plan {
        let by_server = agg.clients.len() == 1 && agg.servers.len() > 1;
        let (keys, strings) = if by_server {
            (&agg.servers, &c.servers)
        } else {
            (&agg.clients, &c.clients)
        };
        let mut order: Vec<(&KeyUse, &str, u32)> = keys
            .iter()
            .map(|(k, u)| (u, strings.name(*k), *k))
            .collect();
        order.sort_by(|a, b| (a.0.hit, a.0.first, a.1).cmp(&(b.0.hit, b.0.first, b.1)));
        let shown = if order.len() > super::MAX_TIMELINE_ROWS {
            super::MAX_TIMELINE_ROWS - 1
        } else {
            order.len()
        };
        let mut series: Vec<(&Earliest, u32)> = agg.series.iter().map(|(ix, e)| (e, *ix)).collect();
        series.sort();
        Plan {
            view,
            by_server,
            row_of: order
                .iter()
                .take(shown)
                .enumerate()
                .map(|(r, k)| (k.2, r))
                .collect(),
            shown,
            series_of: series
                .iter()
                .enumerate()
                .map(|(s, (_, ix))| (*ix, s))
                .collect(),
            bins: Bins::new(Scale::new(agg.first, agg.last)),
        }
    }
}

/// The second pass: marks of the shown timelines, rows of the evidence
/// tables.
pub(super) struct Binner<'a> {
    pub counter: Counter<'a>,
    pub plans: Vec<Plan>,
    /// Per class: indices into `plans`.
    class_plans: Vec<Vec<usize>>,
    wanted: HashSet<Box<str>>,
    /// Full rows of the connections evidence tables show, by flow id.
    pub rows: HashMap<Box<str>, HandshakeRow>,
}

impl<'a> Binner<'a> {
    /// Plans the shown timelines and evidence rows from the first pass.
    pub(super) fn new(mut counter: Counter<'a>) -> Self {
        counter.flows.rewind();
        let mut plans = Vec::new();
        let mut plan_of_view: HashMap<u32, usize> = HashMap::new();
        let mut wanted: HashSet<Box<str>> = HashSet::new();
        for (v, head) in counter.heads.iter().enumerate().take(MAX_NAME_SECTIONS) {
            for &fi in &head.findings {
                if let Some(e) = counter.evidence.get(fi) {
                    wanted.extend(e.picked().into_iter().map(|p| p.flow));
                }
            }
            let agg = counter.view_agg(v);
            if agg.conns > 0 {
                plan_of_view.insert(u32::try_from(v).unwrap_or(u32::MAX), plans.len());
                plans.push(Plan::new(v, &agg, &counter));
            }
        }
        let class_plans = counter
            .classes
            .iter()
            .map(|cl| {
                cl.views
                    .iter()
                    .filter_map(|v| plan_of_view.get(v).copied())
                    .collect()
            })
            .collect();
        Binner {
            counter,
            plans,
            class_plans,
            wanted,
            rows: HashMap::new(),
        }
    }

    /// Bins a batch of rows.
    pub(super) fn bin(&mut self, rows: &[HandshakeRow]) {
        for h in rows {
            self.bin_one(h);
        }
    }

    fn bin_one(&mut self, h: &HandshakeRow) {
        if self.wanted.contains(h.flow_id.as_str()) {
            self.rows.insert(h.flow_id.as_str().into(), h.clone());
        }
        let set = self.counter.flows.take(&h.flow_id);
        let c = &self.counter;
        let name = c.names.get(h.sni.as_deref().unwrap_or(NO_SNI));
        let view = name.and_then(|n| c.name_view.get(n as usize).copied().flatten());
        let Some(&class) = c.class_ix.get(&(view, set)) else {
            return;
        };
        let Some(plans) = self.class_plans.get(class as usize) else {
            return;
        };
        if plans.is_empty() {
            return;
        }
        let issuer = c.issuer_of(h);
        let trust = trust_of(h.chain_trusted, issuer.is_some());
        let client = c.clients.get(&h.client_ip);
        let server = c.servers.get(&h.server_ip);
        for &p in plans {
            if let Some(plan) = self.plans.get_mut(p) {
                let key = if plan.by_server { server } else { client };
                let row = key
                    .and_then(|k| plan.row_of.get(&k).copied())
                    .unwrap_or(plan.shown);
                let series = issuer.and_then(|ix| plan.series_of.get(&ix).copied());
                plan.bins.add(row, h.ts_start, series, trust);
            }
        }
    }
}
