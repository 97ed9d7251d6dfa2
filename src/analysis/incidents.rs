//! Incidents: the medium and high findings of a run in, one row per
//! interceptor out. A responder asks "was this intercepted, by whom, which
//! names and clients, from when to when, did the clients accept it": the
//! findings answer in pieces (one per name, per kind of evidence), an
//! incident answers once.
//!
//! Two steps, so that grouping a huge run (see [`super::Grouper`]) changes
//! nothing. Each group's analysis reduces the leaves its findings accuse
//! (`accused_sha256`) to compact [`Facts`]: issuer name and key, the issuing
//! CA's key, the leaf's own key, the product matched, and what became of the
//! connections that carried it. A leaf's connections all sit in one group,
//! so its facts are whole. Then [`incidents`] runs once over every finding
//! and the facts of every group: accused leaves that share an issuer (name
//! and authority key id), a key (their own, or their issuing CA's) are one
//! interceptor; each medium or high finding joins the interceptor(s) of its
//! accused leaves; a finding that accuses no certificate (a TLS 1.3 flight
//! whose shape changed) joins the interceptor answering for one of its
//! names, else stands as a "suspected" incident of its own, tied to other
//! such findings of the same names or of the same client and server TTL.
//!
//! Counts (connections, accepted, refused, bytes) are over the accused
//! connections only, never over the genuine ones of the same names. Left
//! out: low and info findings (they stay findings), and telling two
//! interceptors apart that share one CA key (they are one incident).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::Kind;
use super::{clients::subnets, Connection, Evidence, FlowId, Found};
use crate::rows::{CertRow, FindingRow, IncidentRow, Severity};
use crate::words::plural_s;

/// What became of a set of connections, and where they ran.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowStats {
    /// Connections.
    pub connections: i64,
    /// Connections whose client went on with application data.
    pub accepted: i64,
    /// Connections the client ended with a fatal alert.
    pub refused: i64,
    /// Application bytes the accepting clients sent.
    pub bytes_to_server: i64,
    /// Application bytes sent back to them.
    pub bytes_to_client: i64,
    /// The byte counts are estimates.
    pub estimated: bool,
    /// Client addresses.
    pub clients: BTreeSet<String>,
    /// Name keys (see [`super::name_key`]).
    pub names: BTreeSet<String>,
    /// Server addresses.
    pub servers: BTreeSet<String>,
    /// `ip:port` of the CONNECT (HTTP or SOCKS) proxies they went through.
    pub proxies: BTreeSet<String>,
    /// TTLs of the servers' first packets.
    pub ttls: BTreeSet<i32>,
    /// TTLs of other connections to the same names and servers that carried
    /// a leaf nobody accused: the genuine server's distance.
    pub other_ttls: BTreeSet<i32>,
    /// First connection start, µs.
    pub first: i64,
    /// Last connection start, µs.
    pub last: i64,
}

impl Default for FlowStats {
    fn default() -> Self {
        FlowStats {
            connections: 0,
            accepted: 0,
            refused: 0,
            bytes_to_server: 0,
            bytes_to_client: 0,
            estimated: false,
            clients: BTreeSet::new(),
            names: BTreeSet::new(),
            servers: BTreeSet::new(),
            proxies: BTreeSet::new(),
            ttls: BTreeSet::new(),
            other_ttls: BTreeSet::new(),
            first: i64::MAX,
            last: i64::MIN,
        }
    }
}

impl FlowStats {
    fn of(ev: &Evidence<'_>, flows: &[&Connection]) -> FlowStats {
        let o = ev.outcome(flows);
        let mut s = FlowStats {
            connections: i64::try_from(o.flows).unwrap_or(i64::MAX),
            accepted: i64::try_from(o.accepted_flows).unwrap_or(i64::MAX),
            refused: i64::try_from(o.refused_flows).unwrap_or(i64::MAX),
            bytes_to_server: o.bytes_to_server,
            bytes_to_client: o.bytes_to_client,
            estimated: o.estimated,
            ..FlowStats::default()
        };
        for h in flows {
            s.clients.insert(h.client_ip.to_string());
            if let Some(n) = super::name_key(h) {
                s.names.insert(n);
            }
            s.servers.insert(h.server_ip.to_string());
            if h.connect_target.is_some() {
                s.proxies
                    .insert(format!("{}:{}", h.server_ip, h.server_port));
            }
            s.ttls.extend(h.server_ttl);
            s.first = s.first.min(h.ts_start);
            s.last = s.last.max(h.ts_start);
        }
        s
    }

    fn add(&mut self, o: &FlowStats) {
        self.connections += o.connections;
        self.accepted += o.accepted;
        self.refused += o.refused;
        self.bytes_to_server += o.bytes_to_server;
        self.bytes_to_client += o.bytes_to_client;
        self.estimated |= o.estimated;
        self.clients.extend(o.clients.iter().cloned());
        self.names.extend(o.names.iter().cloned());
        self.servers.extend(o.servers.iter().cloned());
        self.proxies.extend(o.proxies.iter().cloned());
        self.ttls.extend(o.ttls.iter().copied());
        self.other_ttls.extend(o.other_ttls.iter().copied());
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }
}

/// What an incident needs to know about one accused leaf.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafFacts {
    /// Issuer DN; empty when the certificate row is missing.
    pub issuer: String,
    /// Authority key id, hex.
    pub authority_key_id: Option<String>,
    /// SPKI SHA-256 of the issuing CA's key: from the CA certificate sent in
    /// the chain, or seen elsewhere in the run; the leaf's own for a
    /// self-issued one.
    pub issuer_key: Option<String>,
    /// The leaf's own SPKI SHA-256.
    pub spki: String,
    /// The inspection product matched.
    pub product: Option<String>,
    /// Its category ("tool", "corporate-proxy"...).
    pub category: Option<String>,
    /// It shows a forging sign of its own (see [`Evidence::leaf_suspect`]):
    /// a finding that accuses it tells the interceptor apart.
    pub suspect: bool,
    /// Its connections.
    pub stats: FlowStats,
}

/// The compact facts [`incidents`] reads, from one group or merged from
/// many.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Accused leaves, by SHA-256.
    pub leaves: BTreeMap<String, LeafFacts>,
    /// Connections of medium and high findings that accuse no certificate,
    /// by finding id.
    pub unattributed: BTreeMap<String, FlowStats>,
}

impl Facts {
    /// Adds another group's facts.
    pub fn extend(&mut self, other: Facts) {
        self.leaves.extend(other.leaves);
        self.unattributed.extend(other.unattributed);
    }
}

fn serious(f: &FindingRow) -> bool {
    f.severity >= Severity::Medium
}

/// The facts behind the medium and high findings of one group.
pub fn facts(ev: &Evidence<'_>, findings: &[Found]) -> Facts {
    let accused: BTreeSet<&str> = findings
        .iter()
        .map(|f| &f.row)
        .filter(|f| serious(f))
        .flat_map(|f| f.accused_sha256.iter().map(String::as_str))
        .collect();
    let mut out = Facts::default();
    let mut cas = CaIndex::default();
    for &leaf in &accused {
        let Some(flows) = ev.leaf_flows.get(leaf) else {
            continue;
        };
        let cert = ev.cert(leaf);
        let mut stats = FlowStats::of(ev, flows);
        stats.other_ttls = genuine_ttls(ev, &stats, &accused);
        out.leaves.insert(
            leaf.to_string(),
            LeafFacts {
                issuer: cert.map(|c| c.issuer.clone()).unwrap_or_default(),
                authority_key_id: cert.and_then(|c| c.authority_key_id.clone()),
                issuer_key: cert.and_then(|c| issuer_key(ev, c, flows, &mut cas)),
                spki: cert.map(|c| c.spki_sha256.clone()).unwrap_or_default(),
                product: ev.product_of_leaf(leaf).map(|p| p.product.clone()),
                category: ev.product_of_leaf(leaf).map(|p| p.category.clone()),
                suspect: ev.leaf_suspect(leaf),
                stats,
            },
        );
    }
    out.unattributed = unattributed(ev, findings);
    out
}

/// The server TTLs of the connections to the same names and servers as
/// `stats` that carried a leaf nobody accused: the genuine server's
/// distance.
fn genuine_ttls(ev: &Evidence<'_>, stats: &FlowStats, accused: &BTreeSet<&str>) -> BTreeSet<i32> {
    let mut ttls = BTreeSet::new();
    for name in &stats.names {
        let Ok(i) = ev.groups.binary_search_by(|(k, _)| k.as_str().cmp(name)) else {
            continue;
        };
        let Some((_, group)) = ev.groups.get(i) else {
            continue;
        };
        for h in group {
            let genuine = h
                .leaf_sha256
                .as_deref()
                .is_some_and(|l| !accused.contains(l));
            if genuine && stats.servers.contains(&*h.server_ip) {
                ttls.extend(h.server_ttl);
            }
        }
    }
    ttls
}

/// The CA certificates of the run by subject, built when first needed.
#[derive(Default)]
struct CaIndex<'e>(Option<HashMap<&'e str, Vec<&'e CertRow>>>);

impl<'e> CaIndex<'e> {
    fn by_subject(&mut self, ev: &Evidence<'e>, subject: &str) -> &[&'e CertRow] {
        let index = self.0.get_or_insert_with(|| {
            let mut m: HashMap<&str, Vec<&CertRow>> = HashMap::new();
            for ca in ev.certs.values() {
                if ca.is_ca {
                    m.entry(ca.subject.as_str()).or_default().push(ca);
                }
            }
            for v in m.values_mut() {
                v.sort_by(|a, b| a.sha256.cmp(&b.sha256));
            }
            m
        });
        index.get(subject).map_or(&[], Vec::as_slice)
    }
}

/// The SPKI SHA-256 of the CA that issued `c`: the leaf's own key when it
/// is self-issued, else that of a CA certificate of the chains it came in,
/// else of one seen elsewhere in the run, whose subject is its issuer (and
/// whose key id is its authority key id, when both are known).
fn issuer_key<'e>(
    ev: &Evidence<'e>,
    c: &CertRow,
    flows: &[&Connection],
    cas: &mut CaIndex<'e>,
) -> Option<String> {
    if c.self_signed || (!c.subject.is_empty() && c.subject == c.issuer) {
        return Some(c.spki_sha256.clone()).filter(|k| !k.is_empty());
    }
    let fits = |ca: &CertRow| {
        ca.subject == c.issuer
            && !ca.spki_sha256.is_empty()
            && match (&c.authority_key_id, &ca.subject_key_id) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    };
    let sent = flows.iter().take(8).find_map(|h| {
        h.cert_chain_sha256
            .iter()
            .skip(1)
            .filter_map(|s| ev.cert(s))
            .find(|ca| fits(ca))
    });
    let found = sent.or_else(|| {
        cas.by_subject(ev, c.issuer.as_str())
            .iter()
            .copied()
            .find(|ca| fits(ca))
    });
    found.map(|ca| ca.spki_sha256.clone())
}

/// The connections of each medium or high finding that accuses no
/// certificate, by finding id.
fn unattributed(ev: &Evidence<'_>, findings: &[Found]) -> BTreeMap<String, FlowStats> {
    let mut out = BTreeMap::new();
    let unattributed: Vec<&Found> = findings
        .iter()
        .filter(|f| serious(&f.row) && f.row.accused_sha256.is_empty())
        .collect();
    if unattributed.is_empty() {
        return out;
    }
    // Only the connections these findings name are indexed: they are few
    // beside the group's, which may be hundreds of thousands.
    let wanted: HashSet<&FlowId> = unattributed
        .iter()
        .flat_map(|f| f.flow_ids.iter())
        .collect();
    let by_id: HashMap<&FlowId, &Connection> = ev
        .handshakes
        .iter()
        .filter(|h| wanted.contains(&&h.flow_id))
        .map(|h| (&h.flow_id, h))
        .collect();
    for f in unattributed {
        let flows: Vec<&Connection> = f
            .flow_ids
            .iter()
            .filter_map(|id| by_id.get(id).copied())
            .collect();
        out.insert(f.row.finding_id.clone(), FlowStats::of(ev, &flows));
    }
    out
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut i: usize) -> usize {
        while let Some(&p) = self.0.get(i) {
            if p == i {
                break;
            }
            let gp = self.0.get(p).copied().unwrap_or(p);
            if let Some(slot) = self.0.get_mut(i) {
                *slot = gp;
            }
            i = p;
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        let (keep, join) = if ra <= rb { (ra, rb) } else { (rb, ra) };
        if let Some(slot) = self.0.get_mut(join) {
            *slot = keep;
        }
    }
}

/// What ties a leaf to others of the same interceptor: its issuer (name and
/// authority key id), its own key, its issuing CA's key.
fn identity(leaf: &str, f: &LeafFacts) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    if f.issuer.is_empty() {
        keys.push(format!("leaf:{leaf}"));
    } else {
        keys.push(format!(
            "issuer:{}\u{0}{}",
            f.issuer,
            f.authority_key_id.as_deref().unwrap_or_default()
        ));
    }
    if !f.spki.is_empty() {
        keys.push(format!("key:{}", f.spki));
    }
    if let Some(k) = &f.issuer_key {
        keys.push(format!("key:{k}"));
    }
    keys
}

/// One incident being built.
#[derive(Default)]
struct Draft<'f> {
    leaves: Vec<&'f str>,
    /// Names of attached findings that accuse no certificate.
    names: BTreeSet<String>,
    findings: BTreeSet<usize>,
    stats: FlowStats,
    identity: BTreeSet<String>,
}

/// The incidents of a run: every finding of every group, and the facts
/// their groups gave. Most severe first, then by verdict, time and id.
pub fn incidents(findings: &[FindingRow], facts: &Facts) -> Vec<IncidentRow> {
    let serious_ix: Vec<usize> = (0..findings.len())
        .filter(|&i| findings.get(i).is_some_and(serious))
        .collect();
    let leaves: BTreeSet<&str> = serious_ix
        .iter()
        .filter_map(|&i| findings.get(i))
        .flat_map(|f| f.accused_sha256.iter().map(String::as_str))
        .filter(|l| facts.leaves.contains_key(*l))
        .collect();
    let leaves: Vec<&str> = leaves.into_iter().collect();
    let index: HashMap<&str, usize> = leaves.iter().enumerate().map(|(i, l)| (*l, i)).collect();
    let mut uf = interceptors(&leaves, &index, &serious_ix, findings, facts);
    let mut drafts = drafts(&leaves, &mut uf, facts);
    let mut loose: Vec<usize> = Vec::new();
    for &fi in &serious_ix {
        let Some(f) = findings.get(fi) else { continue };
        let roots: BTreeSet<usize> = f
            .accused_sha256
            .iter()
            .filter_map(|l| index.get(l.as_str()))
            .map(|&i| uf.find(i))
            .collect();
        if roots.is_empty() {
            if !attach_unaccusing(&mut drafts, fi, f, facts) {
                loose.push(fi);
            }
            continue;
        }
        for r in roots {
            if let Some(d) = drafts.get_mut(&r) {
                d.findings.insert(fi);
            }
        }
    }
    let mut rows: Vec<IncidentRow> = drafts
        .values()
        .map(|d| certificate_incident(d, findings, facts))
        .collect();
    rows.extend(
        loose_groups(&loose, findings, facts)
            .iter()
            .map(|group| suspected_incident(group, findings, facts)),
    );
    rows.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| verdict_rank(&a.verdict).cmp(&verdict_rank(&b.verdict)))
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.incident_id.cmp(&b.incident_id))
    });
    rows
}

/// Joins the accused leaves (indices into `leaves`) that are one
/// interceptor: those sharing an issuer or a key, and those one finding
/// accuses without telling them apart.
fn interceptors(
    leaves: &[&str],
    index: &HashMap<&str, usize>,
    serious_ix: &[usize],
    findings: &[FindingRow],
    facts: &Facts,
) -> UnionFind {
    let mut uf = UnionFind((0..leaves.len()).collect());
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for (i, leaf) in leaves.iter().enumerate() {
        let Some(f) = facts.leaves.get(*leaf) else {
            continue;
        };
        for key in identity(leaf, f) {
            match first_of.get(&key) {
                Some(&j) => uf.union(i, j),
                None => {
                    first_of.insert(key, i);
                }
            }
        }
    }
    // A finding that cannot tell which of several issuers is the
    // interceptor (a divergence where no side verified or showed a sign)
    // accuses them all: one story, one incident. A finding whose accused
    // leaves show forging signs names each interceptor apart.
    for &fi in serious_ix {
        let Some(f) = findings.get(fi) else { continue };
        let told_apart = f
            .accused_sha256
            .iter()
            .any(|l| facts.leaves.get(l.as_str()).is_some_and(|x| x.suspect));
        if told_apart {
            continue;
        }
        let mut ix = f
            .accused_sha256
            .iter()
            .filter_map(|l| index.get(l.as_str()));
        if let Some(&first) = ix.next() {
            for &other in ix {
                uf.union(first, other);
            }
        }
    }
    uf
}

/// One draft incident per interceptor, with its leaves' connections.
fn drafts<'f>(leaves: &[&'f str], uf: &mut UnionFind, facts: &Facts) -> BTreeMap<usize, Draft<'f>> {
    let mut drafts: BTreeMap<usize, Draft<'_>> = BTreeMap::new();
    for (i, leaf) in leaves.iter().enumerate() {
        let root = uf.find(i);
        let d = drafts.entry(root).or_default();
        d.leaves.push(leaf);
        if let Some(f) = facts.leaves.get(*leaf) {
            d.stats.add(&f.stats);
            d.identity.extend(
                identity(leaf, f)
                    .into_iter()
                    .filter(|k| !k.starts_with("key:")),
            );
        }
    }
    drafts
}

/// Attaches finding `fi`, which accuses no certificate, to the interceptor
/// answering for its names, on its servers when one does, else to the same
/// answering machine; false when none fits.
fn attach_unaccusing(
    drafts: &mut BTreeMap<usize, Draft<'_>>,
    fi: usize,
    f: &FindingRow,
    facts: &Facts,
) -> bool {
    let stats = facts.unattributed.get(&f.finding_id);
    let names: BTreeSet<&str> = f
        .names
        .iter()
        .map(String::as_str)
        .chain(
            stats
                .iter()
                .flat_map(|s| s.names.iter().map(String::as_str)),
        )
        .collect();
    let by_name: Vec<usize> = drafts
        .iter()
        .filter(|(_, d)| d.stats.names.iter().any(|n| names.contains(n.as_str())))
        .map(|(r, _)| *r)
        .collect();
    let by_server: Vec<usize> = by_name
        .iter()
        .copied()
        .filter(|r| {
            drafts
                .get(r)
                .is_some_and(|d| stats.is_some_and(|s| !s.servers.is_disjoint(&d.stats.servers)))
        })
        .collect();
    // Else the same answering machine: the same CONNECT proxy, or the same
    // client and the same server distances (the interceptor's TTL, and the
    // genuine server's when known).
    let same_machine = |d: &Draft<'_>| {
        stats.is_some_and(|s| {
            !s.proxies.is_disjoint(&d.stats.proxies)
                || (!s.clients.is_disjoint(&d.stats.clients)
                    && !s.ttls.is_disjoint(&d.stats.ttls)
                    && (d.stats.other_ttls.is_empty() || !s.ttls.is_disjoint(&d.stats.other_ttls)))
        })
    };
    let to = if !by_server.is_empty() {
        by_server
    } else if !by_name.is_empty() {
        by_name
    } else {
        drafts
            .iter()
            .filter(|(_, d)| same_machine(d))
            .map(|(r, _)| *r)
            .collect()
    };
    for &r in &to {
        if let Some(d) = drafts.get_mut(&r) {
            d.findings.insert(fi);
            d.names.extend(names.iter().map(|n| n.to_string()));
        }
    }
    !to.is_empty()
}

fn verdict_rank(v: &str) -> u8 {
    match v {
        INTERCEPTED => 0,
        REFUSED => 1,
        _ => 2,
    }
}

/// A client accepted the interceptor's certificate and sent data.
pub const INTERCEPTED: &str = "intercepted";
/// Every client that got the interceptor's certificate refused it.
pub const REFUSED: &str = "attempted_refused";
/// Medium evidence only, certificates not visible, or nothing went on.
pub const SUSPECTED: &str = "suspected";

/// Findings that accuse no certificate and joined no interceptor, tied
/// when they share a name, or a client and a server TTL.
fn loose_groups(loose: &[usize], findings: &[FindingRow], facts: &Facts) -> Vec<Vec<usize>> {
    let mut uf = UnionFind((0..loose.len()).collect());
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for (i, &fi) in loose.iter().enumerate() {
        let Some(f) = findings.get(fi) else { continue };
        let mut keys: Vec<String> = f.names.iter().map(|n| format!("name:{n}")).collect();
        if let Some(s) = facts.unattributed.get(&f.finding_id) {
            for c in &s.clients {
                for t in &s.ttls {
                    keys.push(format!("client-ttl:{c}\u{0}{t}"));
                }
            }
        }
        for key in keys {
            match first_of.get(&key) {
                Some(&j) => uf.union(i, j),
                None => {
                    first_of.insert(key, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &fi) in loose.iter().enumerate() {
        groups.entry(uf.find(i)).or_default().push(fi);
    }
    groups.into_values().collect()
}

fn max_severity<'f>(ix: impl IntoIterator<Item = &'f usize>, findings: &[FindingRow]) -> Severity {
    ix.into_iter()
        .filter_map(|&i| findings.get(i))
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Medium)
}

fn incident_id(identity: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    h.update(b"incident");
    for k in identity {
        h.update([0]);
        h.update(k.as_bytes());
    }
    hex::encode(h.finalize().get(..8).unwrap_or_default())
}

fn certificate_incident(d: &Draft<'_>, findings: &[FindingRow], facts: &Facts) -> IncidentRow {
    let sev = max_severity(&d.findings, findings);
    let mut all = d.stats.clone();
    all.names.extend(d.names.iter().cloned());
    let s = &all;
    let (mut issuers, main) = lead_issuer(d, findings, facts);
    let (key, product) = interceptor_key_and_product(d, facts, main);
    let kinds: BTreeSet<Kind> = d
        .findings
        .iter()
        .filter_map(|&i| findings.get(i))
        .map(|f| f.kind)
        .collect();
    let path = interceptor_path(s, &kinds);
    let verdict = if sev < Severity::High {
        SUSPECTED
    } else if s.accepted > 0 {
        INTERCEPTED
    } else if s.refused > 0 {
        REFUSED
    } else {
        SUSPECTED
    };
    issuers.sort();
    let mut who = main.unwrap_or("an unknown issuer").to_string();
    if let Some((p, category)) = &product {
        who.push_str(&format!(" ({p}, {category})"));
    }
    if issuers.len() > 1 {
        who.push_str(&format!(
            " and {} more issuer{}",
            issuers.len() - 1,
            plural_s(issuers.len() - 1)
        ));
    }
    let interceptor = if path.is_empty() {
        who.clone()
    } else {
        format!("{who}; {}", path.join("; "))
    };
    let mut certs: Vec<String> = d.leaves.iter().map(|l| l.to_string()).collect();
    certs.sort();
    let summary = sentence(verdict, &who, s, key.is_none(), &kinds);
    with_stats(
        s,
        IncidentRow {
            incident_id: incident_id(&d.identity),
            severity: sev,
            verdict: verdict.to_string(),
            interceptor,
            interceptor_issuer: main.map(str::to_string),
            interceptor_key_sha256: key,
            interceptor_product: product.map(|(p, _)| p),
            interceptor_path: path,
            issuers,
            cert_sha256: certs,
            finding_ids: finding_ids(&d.findings, findings),
            summary,
            ..IncidentRow::default()
        },
    )
}

/// The issuers of an incident's leaves (names, the unknown left out), and
/// the one that leads: the one the strongest and most findings accuse,
/// then the one of most connections; ties go to the smaller name.
fn lead_issuer<'f>(
    d: &Draft<'_>,
    findings: &[FindingRow],
    facts: &'f Facts,
) -> (Vec<String>, Option<&'f str>) {
    let mut by_issuer: BTreeMap<&str, (Option<Severity>, usize, i64)> = BTreeMap::new();
    for leaf in &d.leaves {
        if let Some(f) = facts.leaves.get(*leaf) {
            by_issuer.entry(f.issuer.as_str()).or_default().2 += f.stats.connections;
        }
    }
    for f in d.findings.iter().filter_map(|&i| findings.get(i)) {
        let accused: BTreeSet<&str> = f
            .accused_sha256
            .iter()
            .filter_map(|l| facts.leaves.get(l.as_str()))
            .map(|l| l.issuer.as_str())
            .collect();
        for i in accused {
            if let Some(e) = by_issuer.get_mut(i) {
                e.0 = e.0.max(Some(f.severity));
                e.1 += 1;
            }
        }
    }
    let main = by_issuer
        .iter()
        .fold(
            None::<(&str, (Option<Severity>, usize, i64))>,
            |best, (i, n)| match best {
                Some((_, m)) if m >= *n => best,
                _ => Some((i, *n)),
            },
        )
        .map(|(i, _)| i)
        .filter(|i| !i.is_empty());
    let issuers = by_issuer
        .keys()
        .filter(|i| !i.is_empty())
        .map(|i| i.to_string())
        .collect();
    (issuers, main)
}

/// The interceptor's signing key and product (with its category): the
/// leading issuer's, else any leaf's of the incident.
fn interceptor_key_and_product(
    d: &Draft<'_>,
    facts: &Facts,
    main: Option<&str>,
) -> (Option<String>, Option<(String, String)>) {
    let of_main = || {
        d.leaves
            .iter()
            .filter_map(|l| facts.leaves.get(*l))
            .filter(move |f| Some(f.issuer.as_str()) == main)
    };
    let any = || d.leaves.iter().filter_map(|l| facts.leaves.get(*l));
    let key = of_main()
        .find_map(|f| f.issuer_key.clone())
        .or_else(|| any().find_map(|f| f.issuer_key.clone()));
    let with_product = |f: &LeafFacts| {
        f.product
            .clone()
            .map(|p| (p, f.category.clone().unwrap_or_default()))
    };
    let product = of_main()
        .find_map(with_product)
        .or_else(|| any().find_map(with_product));
    (key, product)
}

/// Where the interceptor sat: explicit proxies, a server TTL other than
/// the genuine server's, the path of some clients only.
fn interceptor_path(s: &FlowStats, kinds: &BTreeSet<Kind>) -> Vec<String> {
    let mut path: Vec<String> = s
        .proxies
        .iter()
        .map(|p| format!("explicit proxy {p} (HTTP or SOCKS CONNECT)"))
        .collect();
    if !s.ttls.is_empty() && !s.other_ttls.is_empty() && s.ttls.is_disjoint(&s.other_ttls) {
        path.push(format!(
            "answered at server TTL {} where the servers' own certificates came at TTL {}",
            join_ttls(&s.ttls),
            join_ttls(&s.other_ttls)
        ));
    }
    if kinds.contains(&Kind::ClientScopedView) {
        let clients: BTreeSet<&str> = s.clients.iter().map(String::as_str).collect();
        let which = if clients.len() <= 3 {
            format!(
                "client{} {}",
                plural_s(clients.len()),
                clients.iter().copied().collect::<Vec<_>>().join(", ")
            )
        } else {
            format!("clients of {}", subnets(&clients).join(", "))
        };
        path.push(format!(
            "on the path of {which} only: other clients got another issuer's certificate \
             for the same names at the same time"
        ));
    }
    path
}

/// The row's connection facts: names, clients, span, counts and bytes.
fn with_stats(s: &FlowStats, row: IncidentRow) -> IncidentRow {
    IncidentRow {
        names: s.names.iter().cloned().collect(),
        clients: s.clients.iter().cloned().collect(),
        first_seen: if s.first == i64::MAX { 0 } else { s.first },
        last_seen: if s.last == i64::MIN { 0 } else { s.last },
        connections: s.connections,
        accepted_connections: s.accepted,
        refused_connections: s.refused,
        bytes_to_server: s.bytes_to_server,
        bytes_to_client: s.bytes_to_client,
        bytes_estimated: s.estimated,
        ..row
    }
}

fn suspected_incident(group: &[usize], findings: &[FindingRow], facts: &Facts) -> IncidentRow {
    let mut s = FlowStats::default();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut identity: BTreeSet<String> = BTreeSet::new();
    let mut kinds: BTreeSet<Kind> = BTreeSet::new();
    for f in group.iter().filter_map(|&i| findings.get(i)) {
        if let Some(st) = facts.unattributed.get(&f.finding_id) {
            s.add(st);
        }
        names.extend(f.names.iter().cloned());
        identity.insert(format!("finding:{}", f.finding_id));
        kinds.insert(f.kind);
    }
    if s.first == i64::MAX {
        // no connection facts: the findings' own span
        for f in group.iter().filter_map(|&i| findings.get(i)) {
            s.first = s.first.min(f.first_seen);
            s.last = s.last.max(f.last_seen);
        }
    }
    names.extend(s.names.iter().cloned());
    s.names = names;
    let path: Vec<String> = s
        .proxies
        .iter()
        .map(|p| format!("explicit proxy {p} (HTTP or SOCKS CONNECT)"))
        .collect();
    let who = "an interceptor whose certificates were not visible (TLS 1.3)".to_string();
    let interceptor = if path.is_empty() {
        who.clone()
    } else {
        format!("{who}; {}", path.join("; "))
    };
    let ix: Vec<usize> = group.to_vec();
    with_stats(
        &s,
        IncidentRow {
            incident_id: incident_id(&identity),
            severity: max_severity(&ix, findings),
            verdict: SUSPECTED.to_string(),
            interceptor,
            interceptor_path: path,
            finding_ids: finding_ids(&ix, findings),
            summary: sentence(SUSPECTED, &who, &s, false, &kinds),
            ..IncidentRow::default()
        },
    )
}

fn finding_ids<'i>(
    ix: impl IntoIterator<Item = &'i usize>,
    findings: &[FindingRow],
) -> Vec<String> {
    let mut v: Vec<String> = ix
        .into_iter()
        .filter_map(|&i| findings.get(i))
        .map(|f| f.finding_id.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn join_ttls(t: &BTreeSet<i32>) -> String {
    t.iter().map(i32::to_string).collect::<Vec<_>>().join("/")
}

/// Up to `max` items, then "and N more".
fn some(items: &BTreeSet<String>, max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let mut s = shown.join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}

/// "O=mitmproxy,CN=mitmproxy, mitmproxy (tool) intercepted 4 names (...) for
/// client 192.0.2.11: 5 of 6 connections accepted, ..."
fn sentence(
    verdict: &str,
    who: &str,
    s: &FlowStats,
    key_unknown: bool,
    kinds: &BTreeSet<Kind>,
) -> String {
    let names = format!(
        "{} {} ({})",
        s.names.len(),
        if s.names.len() == 1 { "name" } else { "names" },
        some(&s.names, 4)
    );
    let clients = format!(
        "client{} {}",
        plural_s(s.clients.len()),
        some(&s.clients, 3)
    );
    let about = if s.estimated { "about " } else { "" };
    let mut out = match verdict {
        INTERCEPTED => format!(
            "{who} intercepted {names} for {clients}: {} of {} connection{} accepted, \
             {about}{} bytes sent through it and {about}{} bytes back",
            s.accepted,
            s.connections,
            plural_s(usize::try_from(s.connections).unwrap_or(0)),
            s.bytes_to_server,
            s.bytes_to_client
        ),
        REFUSED => format!(
            "{who} tried to intercept {names} for {clients}: no connection accepted, {} of {} \
             refused with an alert",
            s.refused, s.connections
        ),
        _ => format!(
            "{who} may have intercepted {names} for {clients} ({} connection{}, {} accepted)",
            s.connections,
            plural_s(usize::try_from(s.connections).unwrap_or(0)),
            s.accepted
        ),
    };
    if verdict == INTERCEPTED && s.refused > 0 {
        out.push_str(&format!(
            "; {} connection{} refused it",
            s.refused,
            plural_s(usize::try_from(s.refused).unwrap_or(0))
        ));
    }
    out.push_str(&format!(
        "; evidence: {}",
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if key_unknown {
        out.push_str("; the issuing CA's certificate was not sent, so its key is unknown");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cert, hs, hs_untrusted};
    use super::super::{analyze_run, Thresholds};
    use crate::rows::Severity;
    use crate::rows::{CertRow, HandshakeRow};

    fn forged(sha: &str, name: &str) -> CertRow {
        let mut c = cert(sha, "CN=Evil Proxy CA", "proxykey", &[name]);
        c.not_before = Some(-2 * 86_400 * 1_000_000 + 5_000_000);
        c.authority_key_id = Some("aa".into());
        c
    }

    fn scene() -> (Vec<HandshakeRow>, Vec<CertRow>) {
        let mut h = Vec::new();
        let mut c = Vec::new();
        for (i, name) in ["bank.test", "shop.test", "mail.test"].iter().enumerate() {
            let real = format!("real{i}");
            let fake = format!("fake{i}");
            c.push(cert(&real, "CN=Real CA", &format!("k{i}"), &[name]));
            c.push(forged(&fake, name));
            h.push(hs(&format!("r{i}"), name, &real, "10.0.0.1", 10 + i as i64));
            let mut x = hs_untrusted(&format!("f{i}"), name, &fake, "10.0.0.2", 5 + i as i64);
            x.server_ttl = Some(64);
            h.push(x);
        }
        (h, c)
    }

    #[test]
    fn one_interceptor_is_one_incident_over_the_accused_connections_only() {
        let (h, c) = scene();
        let (findings, incidents) = analyze_run(&h, &c, &Thresholds::default(), None);
        assert!(findings.len() > 1);
        assert_eq!(incidents.len(), 1, "{incidents:#?}");
        let i = &incidents[0];
        assert_eq!(i.names, ["bank.test", "mail.test", "shop.test"]);
        assert_eq!(i.clients, ["10.0.0.2"]);
        assert_eq!((i.connections, i.accepted_connections), (3, 3));
        assert_eq!(i.verdict, "intercepted");
        assert_eq!(i.interceptor_issuer.as_deref(), Some("CN=Evil Proxy CA"));
        assert_eq!(i.cert_sha256, ["fake0", "fake1", "fake2"]);
        let serious = findings
            .iter()
            .filter(|f| f.severity == Severity::High || f.severity == Severity::Medium)
            .count();
        assert_eq!(i.finding_ids.len(), serious);
    }

    #[test]
    fn two_interceptors_are_two_incidents_and_refusal_is_told() {
        let (mut h, mut c) = scene();
        for (i, name) in ["bank.test", "shop.test", "mail.test"].iter().enumerate() {
            let fake = format!("other{i}");
            c.push({
                let mut c = cert(&fake, "CN=Other Gateway", "gwkey", &[name]);
                c.not_before = Some(-86_400 * 1_000_000 + 20_000_000);
                c.authority_key_id = Some("bb".into());
                c
            });
            let mut x = hs_untrusted(&format!("o{i}"), name, &fake, "10.0.0.3", 20 + i as i64);
            x.alerts = vec!["client:fatal:unknown_ca".into()];
            x.app_bytes_client = 0;
            x.app_bytes_server = 0;
            h.push(x);
        }
        let (_, incidents) = analyze_run(&h, &c, &Thresholds::default(), None);
        assert_eq!(incidents.len(), 2, "{incidents:#?}");
        let refused = incidents
            .iter()
            .find(|i| i.interceptor_issuer.as_deref() == Some("CN=Other Gateway"))
            .expect("the second interceptor");
        assert_eq!(refused.verdict, "attempted_refused");
        assert_eq!(refused.refused_connections, 3);
        assert_eq!(refused.clients, ["10.0.0.3"]);
        // the same for any input order
        h.reverse();
        let (_, again) = analyze_run(&h, &c, &Thresholds::default(), None);
        assert_eq!(incidents, again);
    }

    #[test]
    fn a_clean_run_has_no_incident() {
        let h = vec![
            hs("1", "bank.test", "a", "10.0.0.1", 1),
            hs("2", "shop.test", "b", "10.0.0.1", 2),
        ];
        let c = vec![
            cert("a", "CN=Real CA", "k1", &["bank.test"]),
            cert("b", "CN=Real CA", "k2", &["shop.test"]),
        ];
        let (_, incidents) = analyze_run(&h, &c, &Thresholds::default(), None);
        assert!(incidents.is_empty());
    }
}
