//! Handshake and certificate rows in, findings out. Runs once over every
//! connection of the run (all files, all threads), after the scan, or over the
//! union of several scans' tables (`certsift analyze`). Each detector lives in
//! its own file and returns `FindingRow`s; this module indexes the rows once
//! (`Evidence`), runs the detectors, raises the TLS 1.3 shape findings that
//! other evidence corroborates, and orders the result.
//!
//! Left out: anything that needs the bytes of a connection (only rows are
//! read), and names whose every certificate was encrypted (TLS 1.3 without a
//! key log): those only get shape evidence.

mod baseline;
mod clients;
mod connection;
mod forging;
mod fresh;
mod groups;
mod incidents;
mod issuer;
mod keyreuse;
pub mod kinds;
#[cfg(test)]
mod precision_tests;
mod products;
mod rejection;
mod shape;
mod untrusted;
mod validity;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::rows::{CertRow, FindingRow, HandshakeRow, IncidentRow};
use crate::words::plural_s;

pub use kinds::{Detector, Kind, Role, Severity, DETECTORS};

pub use connection::{Connection, FlowId, Interner, List, Sym};
pub use groups::{Globals, Grouper, Grouping};
pub use incidents::{incidents, Facts, FlowStats, LeafFacts, INTERCEPTED, REFUSED, SUSPECTED};
pub use products::{match_product, products, word_match, Product};

/// Named, configurable thresholds of the detectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// A leaf whose `not_before` lies at most this many seconds before the
    /// first connection that carried it was minted for that connection
    /// ([`Kind::FreshCertificate`]).
    pub fresh_cert_max_age_secs: i64,
    /// Forging proxies backdate the certificates they mint by a round amount
    /// (mitmproxy two days, others one day or one hour): a `not_before` within
    /// this many seconds of such an offset before first use counts as minted.
    pub mint_backdate_tolerance_secs: i64,
    /// One issuer with leaves for at least this many unrelated registrable
    /// domains, together with a minting sign (fresh validity, shared key,
    /// known inspection product), is a forging issuer.
    pub forging_issuer_min_domains: usize,
    /// One public key on certificates for at least this many unrelated
    /// registrable domains is key reuse.
    pub key_reuse_min_domains: usize,
    /// TLS 1.3: the encrypted server flight of one name and server changes
    /// when it differs by at least this many bytes...
    pub shape_min_delta_bytes: i64,
    /// ...and by at least this fraction of the larger flight.
    pub shape_min_delta_ratio: f64,
    /// TLS 1.3 flights from one address that split by server TTL count as
    /// two shapes when the groups' sizes are at least this many bytes apart
    /// (one server's flights vary by a signature's byte or two; another
    /// certificate chain by hundreds).
    pub shape_ttl_min_gap_bytes: i64,
    /// When application-data byte counts are not available (older tables),
    /// a connection counts as accepted when the server sent more than this
    /// many bytes after its handshake flight (Finished, tickets and data).
    pub fallback_accept_tail_bytes: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            fresh_cert_max_age_secs: 600,
            mint_backdate_tolerance_secs: 5,
            forging_issuer_min_domains: 3,
            key_reuse_min_domains: 2,
            shape_min_delta_bytes: 400,
            shape_min_delta_ratio: 0.25,
            shape_ttl_min_gap_bytes: 64,
            fallback_accept_tail_bytes: 256,
        }
    }
}

/// A map keyed by SHA-256 hex digests (certificates, keys): already
/// uniform, so the fast hasher replaces SipHash, which dominated the index
/// build. Names, which a capture controls, keep the standard hasher.
pub type DigestMap<'a, V> = crate::hash::FastMap<&'a str, V>;

/// Round amounts by which forging proxies backdate `not_before`, seconds:
/// an hour, a day, two days (mitmproxy), a week, 30 days (Privoxy).
const MINT_BACKDATES_SECS: [i64; 5] = [3_600, 86_400, 172_800, 604_800, 2_592_000];

/// What became of one group of connections that carried a certificate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Connections considered.
    pub flows: usize,
    /// Connections where the client went on to exchange application data.
    pub accepted_flows: usize,
    /// Connections the client ended with a fatal alert.
    pub refused_flows: usize,
    /// Distinct clients that accepted at least once.
    pub accepted_clients: usize,
    /// Distinct clients.
    pub clients: usize,
    /// Bytes the accepting clients sent after the handshake.
    pub bytes_to_server: i64,
    /// Bytes the server side sent them after the handshake.
    pub bytes_to_client: i64,
    /// Whether the byte counts are estimates (no application-data columns).
    pub estimated: bool,
}

impl Outcome {
    /// "accepted by 2 of 3 clients (4 connections), exposing 812 bytes to the
    /// server and 9104 bytes back; 1 connection refused it".
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "accepted by {} of {} client{} ({} of {} connection{})",
            self.accepted_clients,
            self.clients,
            plural_s(self.clients),
            self.accepted_flows,
            self.flows,
            plural_s(self.flows)
        );
        if self.accepted_flows > 0 {
            let _ = write!(
                s,
                ", exposing {}{} bytes to the server and {} bytes back",
                if self.estimated { "about " } else { "" },
                self.bytes_to_server,
                self.bytes_to_client
            );
        }
        if self.refused_flows > 0 {
            let _ = write!(
                s,
                "; {} connection{} refused it with an alert",
                self.refused_flows,
                plural_s(self.refused_flows)
            );
        }
        s
    }
}

/// What the detectors ask about a leaf, computed once per leaf.
#[derive(Debug, Clone, Default)]
pub struct LeafInfo<'a> {
    /// Issuer DN ("(unknown issuer)" when the certificate row is missing).
    pub issuer: &'a str,
    /// The inspection product the issuer or the chain names.
    pub product: Option<&'static Product>,
    /// A connection carrying it failed validation for an unknown issuer or
    /// a bad signature.
    pub unknown_issuer: bool,
    /// A connection carrying it had a trusted chain.
    pub trusted: bool,
    /// Minted at first use (see [`Evidence::minted_at_first_use`]).
    pub minted: bool,
    /// Of those, backdated by a round amount to the second (one hour, a
    /// day, two days...): what proxies write, and no person or deployment
    /// tool does. Unlike minutes of age, a sign on its own.
    pub backdated: bool,
    /// Carries the public key of a CA certificate of the run, while not
    /// being a CA or self-signed itself (see `on_ca_key`).
    pub ca_key: bool,
    /// Registrable domains of its names and of the SNIs it answered.
    pub domains: BTreeSet<String>,
    /// The roots its chains lead to (see [`Evidence::anchor`]).
    pub anchors: Vec<&'a str>,
    /// A connection carrying it verified, at the time of that connection, to
    /// a root of Mozilla's store of that day: a public CA issued it. What
    /// public CAs do every day (thousands of unrelated domains, issuing
    /// minutes before first use, renewing on the same key) is then context,
    /// never a sign of forgery.
    pub public: bool,
    /// The certificate is self-issued (subject and issuer the same, signed
    /// by its own key or not): a server's own (a lab, an appliance), not
    /// minted by a CA for a connection.
    pub self_signed: bool,
    /// It carries Certificate Transparency timestamps (RFC 6962 §3.3): logs
    /// accept only chains to roots they trust, which are public ones, so its
    /// issuer is public even when the chain could not be built here.
    pub logged: bool,
    /// Leaves of its issuer (name and authority key id) that count as minted
    /// at first use (see [`Evidence::minted_sign`]), this one included.
    pub issuer_minted: usize,
    /// A CA certificate of its chain has explicitly specified elliptic-curve
    /// parameters, which RFC 5480 §2.1.1 forbids and no CA uses: the
    /// CVE-2020-0601 ("curveball") spoof of a trusted root's key. Its subject.
    pub spoofed_ca: Option<&'a str>,
}

/// Everything the detectors look at, indexed once.
pub struct Evidence<'a> {
    /// Every handshake.
    pub handshakes: &'a [Connection],
    /// Certificates by SHA-256.
    pub certs: DigestMap<'a, &'a CertRow>,
    /// The thresholds in force.
    pub cfg: &'a Thresholds,
    /// Every handshake grouped by name key (see [`name_key`]), keys in order,
    /// connections in (time, flow id) order.
    pub groups: Vec<(String, Vec<&'a Connection>)>,
    /// The same groups restricted to connections with a visible leaf, names
    /// without one left out.
    pub named: Vec<(String, Vec<&'a Connection>)>,
    /// Connections that carried each leaf, in (time, flow id) order.
    pub leaf_flows: DigestMap<'a, Vec<&'a Connection>>,
    /// Public keys of CA certificates (a leaf carrying one was minted by a
    /// proxy that signs with its own key).
    pub ca_keys: DigestMap<'a, &'a CertRow>,
    /// What is known about each leaf, computed once.
    pub leaves: DigestMap<'a, LeafInfo<'a>>,
    /// Whether any chain of the run led to a trusted root: when none did, the
    /// trust store does not cover this network and "untrusted" means little.
    pub any_trusted: bool,
    /// Whether the handshake rows carry application-data byte counts.
    pub app_bytes_counted: bool,
}

impl<'a> Evidence<'a> {
    /// Indexes the rows with the default thresholds.
    pub fn new(handshakes: &'a [Connection], certs: &'a [CertRow]) -> Self {
        static DEFAULT: std::sync::OnceLock<Thresholds> = std::sync::OnceLock::new();
        Self::with(handshakes, certs, DEFAULT.get_or_init(Thresholds::default))
    }

    /// Indexes the rows.
    pub fn with(handshakes: &'a [Connection], certs: &'a [CertRow], cfg: &'a Thresholds) -> Self {
        Self::with_globals(handshakes, certs, cfg, None)
    }

    /// Indexes the rows of one group (see [`Grouper`]), taking the facts of
    /// the whole run from `globals` instead of from these rows.
    pub fn with_globals(
        handshakes: &'a [Connection],
        certs: &'a [CertRow],
        cfg: &'a Thresholds,
        globals: Option<Globals>,
    ) -> Self {
        let (groups, leaf_flows, mut any_trusted, mut app_bytes_counted) = index(handshakes);
        let named = groups
            .iter()
            .filter_map(|(name, flows)| {
                let v: Vec<_> = flows
                    .iter()
                    .copied()
                    .filter(|h| h.leaf_sha256.is_some())
                    .collect();
                (!v.is_empty()).then(|| (name.clone(), v))
            })
            .collect();
        if let Some(g) = globals {
            any_trusted = g.any_trusted;
            app_bytes_counted = g.app_bytes_counted;
        }
        let mut ev = Evidence {
            handshakes,
            certs: certs.iter().map(|c| (c.sha256.as_str(), c)).collect(),
            cfg,
            groups,
            named,
            leaf_flows,
            ca_keys: certs
                .iter()
                .filter(|c| c.is_ca && !c.spki_sha256.is_empty())
                .map(|c| (c.spki_sha256.as_str(), c))
                .collect(),
            leaves: DigestMap::default(),
            any_trusted,
            app_bytes_counted,
        };
        ev.leaves = ev.leaf_infos();
        ev
    }

    /// What is known about each leaf, and how many minted leaves each
    /// issuer (name and signing key) has: a CA minting at first use for
    /// several names is a forger; one fresh certificate alone is what a new
    /// deployment shows.
    fn leaf_infos(&self) -> DigestMap<'a, LeafInfo<'a>> {
        let mut dn_products: HashMap<&'a str, Option<&'static Product>> = HashMap::new();
        let mut product_of =
            |dn: &'a str| *dn_products.entry(dn).or_insert_with(|| match_product(dn));
        let mut leaves: DigestMap<'a, LeafInfo<'a>> = DigestMap::default();
        leaves.reserve(self.leaf_flows.len());
        for (&leaf, flows) in &self.leaf_flows {
            leaves.insert(leaf, self.leaf_info(leaf, flows, &mut product_of));
        }
        let mut minted_by_issuer: HashMap<(&str, &str), usize> = HashMap::new();
        for (&leaf, info) in &leaves {
            if self.minted_sign(info) {
                *minted_by_issuer.entry(self.issuer_id(leaf)).or_default() += 1;
            }
        }
        for (&leaf, info) in leaves.iter_mut() {
            info.issuer_minted = minted_by_issuer
                .get(&self.issuer_id(leaf))
                .copied()
                .unwrap_or(0);
        }
        leaves
    }

    /// The facts about one leaf and the connections that carried it, but
    /// for `issuer_minted`, which needs every leaf's.
    fn leaf_info(
        &self,
        leaf: &'a str,
        flows: &[&'a Connection],
        product_of: &mut impl FnMut(&'a str) -> Option<&'static Product>,
    ) -> LeafInfo<'a> {
        let cert = self.certs.get(leaf).copied();
        let issuer = cert.map_or("(unknown issuer)", |c| c.issuer.as_str());
        let mut product = cert.and_then(|c| product_of(c.issuer.as_str()));
        if product.is_none() {
            if let Some(h) = flows.first() {
                product = h.cert_chain_sha256.iter().skip(1).find_map(|s| {
                    let cc = self.certs.get(&**s)?;
                    product_of(cc.subject.as_str()).or_else(|| product_of(cc.issuer.as_str()))
                });
            }
        }
        let mut domains: BTreeSet<String> = cert
            .map(cert_names)
            .unwrap_or_default()
            .iter()
            .map(|n| registrable_domain(n))
            .collect();
        let snis: std::collections::HashSet<&str> =
            flows.iter().filter_map(|h| h.sni.as_deref()).collect();
        domains.extend(snis.into_iter().map(registrable_domain));
        domains.retain(|d| !d.is_empty());
        let public = flows
            .iter()
            .any(|h| h.chain_trusted == Some(true) && h.root_public == Some(true));
        // A vendor's own CA on the vendor's own services (a Sophos CA for a
        // sophos.com host) is its PKI, not its inspection product; nor is
        // anything a public CA issued.
        if public || product.is_some_and(|p| vendor_own(p, issuer, &domains)) {
            product = None;
        }
        let spoofed_ca = flows.first().and_then(|h| {
            h.cert_chain_sha256.iter().find_map(|s| {
                let c = self.certs.get(&**s)?;
                (c.is_ca && c.curve.as_deref() == Some("explicit")).then_some(c.subject.as_str())
            })
        });
        LeafInfo {
            issuer,
            product,
            unknown_issuer: flows.iter().any(|h| h.untrusted_by_unknown_issuer()),
            trusted: flows.iter().any(|h| h.chain_trusted == Some(true)),
            minted: self.compute_minted(leaf),
            backdated: self
                .age_at_first_use(leaf)
                .is_some_and(|age| backdated_at_age(age, self.cfg)),
            public,
            self_signed: cert
                .is_some_and(|c| c.self_signed || (!c.subject.is_empty() && c.subject == c.issuer)),
            issuer_minted: 0,
            logged: cert.is_some_and(|c| c.has_sct),
            spoofed_ca,
            ca_key: cert.is_some_and(|c| on_ca_key(c, |k| self.ca_keys.contains_key(k))),
            domains,
            anchors: self.anchors(flows),
        }
    }

    /// The distinct roots these connections' chains lead to, sorted, each
    /// distinct last certificate looked at once.
    fn anchors(&self, flows: &[&Connection]) -> Vec<&'a str> {
        let mut a: Vec<&'a str> = Vec::new();
        let mut seen_last: Vec<Option<&str>> = Vec::new();
        for h in flows {
            let last = h.cert_chain_sha256.last().map(|s| &**s);
            if seen_last.contains(&last) {
                continue;
            }
            seen_last.push(last);
            if let Some(x) = self.anchor(h) {
                if !a.contains(&x) {
                    a.push(x);
                }
            }
        }
        a.sort_unstable();
        a
    }

    /// The connections that carried these leaves, leaf after leaf, and the
    /// name keys they were judged under.
    pub fn flows_and_names(
        &self,
        leaves: &BTreeSet<&str>,
    ) -> (Vec<&'a Connection>, BTreeSet<String>) {
        let flows: Vec<&Connection> = leaves
            .iter()
            .filter_map(|l| self.leaf_flows.get(l))
            .flatten()
            .copied()
            .collect();
        let names = flows.iter().filter_map(|h| name_key(h)).collect();
        (flows, names)
    }

    /// Whether every connection of a group carried one and the same leaf
    /// (the common case, which most detectors skip).
    pub fn single_leaf(flows: &[&Connection]) -> bool {
        let first = flows.first().and_then(|h| h.leaf_sha256.as_deref());
        flows.iter().all(|h| h.leaf_sha256.as_deref() == first)
    }

    /// The cached facts about a leaf.
    pub fn leaf(&self, leaf: &str) -> Option<&LeafInfo<'a>> {
        self.leaves.get(leaf)
    }

    /// The issuer of a leaf as every detector tells issuers apart: its name
    /// and the key it signs with (the leaf's authority key id, empty when
    /// absent). A forger that copies a CA's name is another issuer.
    pub fn issuer_id(&self, leaf: &str) -> (&'a str, &'a str) {
        let cert = self.certs.get(leaf);
        (
            cert.map_or("(unknown issuer)", |c| c.issuer.as_str()),
            cert.and_then(|c| c.authority_key_id.as_deref())
                .unwrap_or_default(),
        )
    }

    /// The names among `names` (name keys) that were also served a leaf of
    /// another issuer than `issuer` (see [`Evidence::issuer_id`]).
    pub fn names_served_by_another(
        &self,
        issuer: (&str, &str),
        names: impl IntoIterator<Item = String>,
    ) -> BTreeSet<String> {
        let by_name = self.by_name();
        names
            .into_iter()
            .filter(|name| {
                by_name
                    .binary_search_by(|(n, _)| n.as_str().cmp(name))
                    .ok()
                    .and_then(|i| by_name.get(i))
                    .is_some_and(|(_, flows)| {
                        flows.iter().any(|h| {
                            h.leaf_sha256
                                .as_deref()
                                .is_some_and(|l| self.issuer_id(l) != issuer)
                        })
                    })
            })
            .collect()
    }

    /// Issuer DN of a leaf, borrowed.
    pub fn issuer_str(&self, leaf: &str) -> &'a str {
        self.leaves
            .get(leaf)
            .map_or("(unknown issuer)", |l| l.issuer)
    }

    /// Handshakes with a visible leaf, grouped by name key, names in order.
    pub fn by_name(&self) -> &[(String, Vec<&'a Connection>)] {
        &self.named
    }

    /// The certificate row of a hash.
    pub fn cert(&self, sha: &str) -> Option<&'a CertRow> {
        self.certs.get(sha).copied()
    }

    /// Issuer DN of a leaf ("(unknown issuer)" when the row is missing).
    pub fn issuer_of(&self, leaf: &str) -> String {
        self.issuer_str(leaf).to_string()
    }

    /// The root a connection's chain leads to, as far as it was sent: the
    /// subject of a self-signed last certificate, else the issuer of the last.
    pub fn anchor(&self, h: &Connection) -> Option<&'a str> {
        let last = h
            .cert_chain_sha256
            .iter()
            .rev()
            .find_map(|s| self.cert(s))?;
        Some(if last.self_signed {
            last.subject.as_str()
        } else {
            last.issuer.as_str()
        })
    }

    /// Whether any connection carrying this leaf had an untrusted chain for a
    /// reason that says "not issued by whom it should be" (unknown issuer,
    /// bad signature), as opposed to expiry or a weak key.
    pub fn leaf_unknown_issuer(&self, leaf: &str) -> bool {
        self.leaves.get(leaf).is_some_and(|l| l.unknown_issuer)
    }

    /// Whether the leaf itself looks like an interceptor's, by a sign no
    /// public CA or ordinary server shows: it names a known inspection
    /// product (not on the vendor's own services), was minted at first use
    /// by a CA that is not public (a public CA issuing minutes before use is
    /// ACME; a self-signed server certificate is no CA's minting), carries a
    /// CA's key, or its chain spoofs a root's key (CVE-2020-0601). An
    /// unknown issuer alone is not a sign: private PKIs are everywhere.
    pub fn leaf_suspect(&self, leaf: &str) -> bool {
        self.leaves.get(leaf).is_some_and(|l| {
            l.product.is_some() || self.minted_sign(l) || l.ca_key || l.spoofed_ca.is_some()
        })
    }

    /// Whether minting at first use counts against this leaf: it does for a
    /// CA-issued certificate of an issuer that is not public.
    pub fn minted_sign(&self, l: &LeafInfo<'_>) -> bool {
        l.minted && !l.public && !l.self_signed
    }

    /// Whether the leaf shows a forging sign on its own, without another
    /// issuer's certificate for its name to compare with: an inspection
    /// product, a CA's key, a spoofed root key, a round backdate to the
    /// second, or minting at first use by an issuer that minted for other
    /// names too (a lab CA made with its one server certificate minutes
    /// before is no forger).
    pub fn leaf_forged(&self, leaf: &str) -> bool {
        self.leaves.get(leaf).is_some_and(|l| {
            l.product.is_some()
                || l.ca_key
                || l.spoofed_ca.is_some()
                || (self.minted_sign(l) && (l.backdated || l.issuer_minted >= 2))
        })
    }

    /// Whether any connection carrying this leaf had a trusted chain.
    pub fn leaf_trusted(&self, leaf: &str) -> bool {
        self.leaves.get(leaf).is_some_and(|l| l.trusted)
    }

    /// Seconds between the leaf's `not_before` and its first connection.
    pub fn age_at_first_use(&self, leaf: &str) -> Option<i64> {
        let nb = self.cert(leaf)?.not_before?;
        let first = self.leaf_flows.get(leaf)?.first()?.ts_start;
        Some((first - nb).div_euclid(1_000_000))
    }

    /// Whether the leaf looks minted for its first connection: `not_before`
    /// minutes before it, or a round backdate to the second.
    pub fn minted_at_first_use(&self, leaf: &str) -> bool {
        self.leaves.get(leaf).is_some_and(|l| l.minted)
    }

    fn compute_minted(&self, leaf: &str) -> bool {
        self.age_at_first_use(leaf)
            .is_some_and(|age| minted_at_age(age, self.cfg))
    }

    /// The inspection product an issuer (or a certificate of the chains that
    /// carried the leaf) names, if any.
    pub fn product_of_leaf(&self, leaf: &str) -> Option<&'static Product> {
        self.leaves.get(leaf).and_then(|l| l.product)
    }

    /// What became of these connections (see [`Outcome`]).
    pub fn outcome(&self, flows: &[&Connection]) -> Outcome {
        let mut o = Outcome {
            flows: flows.len(),
            estimated: !self.app_bytes_counted,
            ..Outcome::default()
        };
        let mut clients: BTreeSet<&str> = BTreeSet::new();
        let mut accepted: BTreeSet<&str> = BTreeSet::new();
        for h in flows {
            clients.insert(&h.client_ip);
            let refused = h.alerts.iter().any(|a| a.starts_with("client:fatal:"));
            if refused {
                o.refused_flows += 1;
                continue;
            }
            let (to_server, to_client) = if self.app_bytes_counted {
                (h.app_bytes_client, h.app_bytes_server)
            } else {
                let tail = h.server_bytes - h.server_flight_bytes;
                if tail > self.cfg.fallback_accept_tail_bytes {
                    (h.client_bytes, tail)
                } else {
                    (0, 0)
                }
            };
            if to_server > 0 || to_client > 0 {
                o.accepted_flows += 1;
                o.bytes_to_server += to_server.max(0);
                o.bytes_to_client += to_client.max(0);
                accepted.insert(&h.client_ip);
            }
        }
        o.clients = clients.len();
        o.accepted_clients = accepted.len();
        o
    }

    /// The leaves among `leaves` that a finding over them accuses: those
    /// with a forging sign (see [`Evidence::leaf_suspect`]); without one,
    /// those whose issuer no trust store knew and that never verified; else
    /// those that never verified; else all of them.
    pub fn accuse<'l>(&self, leaves: impl IntoIterator<Item = &'l str>) -> Vec<String> {
        let known: Vec<&str> = leaves
            .into_iter()
            .filter(|l| self.leaves.contains_key(l))
            .collect();
        let pick = |f: &dyn Fn(&str) -> bool| -> Vec<String> {
            known
                .iter()
                .filter(|l| f(l))
                .map(|l| l.to_string())
                .collect()
        };
        for rule in [
            &(|l: &str| self.leaf_suspect(l)) as &dyn Fn(&str) -> bool,
            &|l: &str| self.leaf_unknown_issuer(l) && !self.leaf_trusted(l),
            &|l: &str| !self.leaf_trusted(l),
        ] {
            let v = pick(rule);
            if !v.is_empty() {
                return v;
            }
        }
        pick(&|_| true)
    }

    /// " issuer X (a known TLS-inspection CA: P, corporate proxy)".
    pub fn describe_issuer(&self, leaf: &str) -> String {
        let issuer = self.issuer_of(leaf);
        match self.product_of_leaf(leaf) {
            Some(p) => format!("{issuer} (matches {}: {})", p.product, p.category),
            None => issuer,
        }
    }

    /// The distinct issuer DNs of these leaves (see [`Evidence::issuer_of`]):
    /// what a finding's `issuers` column holds.
    pub fn issuers_of<S: AsRef<str>>(
        &self,
        leaves: impl IntoIterator<Item = S>,
    ) -> BTreeSet<String> {
        leaves
            .into_iter()
            .map(|l| self.issuer_of(l.as_ref()))
            .collect()
    }

    /// The distinct descriptions of these leaves' issuers (see
    /// [`Evidence::describe_issuer`]) in order, joined for a summary:
    /// "CN=A and CN=B (matches P: proxy)".
    pub fn describe_issuers(&self, leaves: &BTreeSet<String>) -> String {
        let described: BTreeSet<String> = leaves.iter().map(|l| self.describe_issuer(l)).collect();
        described.into_iter().collect::<Vec<_>>().join(" and ")
    }

    /// The finding about one name: these connections, the leaves they
    /// carried and those leaves' issuers (see [`finding`]).
    pub fn name_finding(
        &self,
        kind: Kind,
        severity: Severity,
        name: &str,
        flows: &[&Connection],
        leaves: BTreeSet<String>,
        summary: String,
    ) -> FindingRow {
        let issuers = self.issuers_of(&leaves);
        finding(kind, severity, Some(name), flows, leaves, issuers, summary)
    }
}

/// The distinct leaves these connections carried.
pub fn leaf_set(flows: &[&Connection]) -> BTreeSet<String> {
    flows
        .iter()
        .filter_map(|h| h.leaf_sha256.as_deref().map(str::to_string))
        .collect()
}

/// Whether a leaf matching `p` is the vendor's own: every domain it speaks
/// for is one of the vendor's, or the issuer's name spells out the domain
/// (`emailAddress=ca@sophos.com` on a sophos.com host).
fn vendor_own(p: &Product, issuer: &str, domains: &BTreeSet<String>) -> bool {
    if domains.is_empty() {
        return false;
    }
    let issuer = issuer.to_ascii_lowercase();
    domains.iter().all(|d| {
        p.vendor_domains.iter().any(|v| v == d) || (d.contains('.') && word_match(&issuer, d))
    })
}

/// Whether a certificate is a leaf made on a CA certificate's key, the sign
/// of a proxy that signs its forgeries with its own key (Squid's ssl-bump):
/// the certificate is neither a CA nor self-signed, and `is_ca_key` says its
/// key is a CA certificate's. A self-signed certificate marked CA (as
/// `openssl req -x509` makes them by default) carries its own key, which
/// says nothing. Every detector and the grouping ask this one question.
fn on_ca_key(c: &CertRow, is_ca_key: impl FnOnce(&str) -> bool) -> bool {
    !c.is_ca && !c.self_signed && is_ca_key(c.spki_sha256.as_str())
}

/// Whether a leaf first used `age` seconds after its `not_before` was
/// backdated by one of the round amounts proxies use, to the second.
fn backdated_at_age(age: i64, cfg: &Thresholds) -> bool {
    let tol = cfg.mint_backdate_tolerance_secs;
    MINT_BACKDATES_SECS.iter().any(|b| (age - b).abs() <= tol)
}

/// Whether a leaf first used `age` seconds after its `not_before` looks
/// minted for that use: minutes old, or backdated by a round amount.
fn minted_at_age(age: i64, cfg: &Thresholds) -> bool {
    (0..=cfg.fresh_cert_max_age_secs).contains(&age) || backdated_at_age(age, cfg)
}

/// What [`index`] finds: connections by name and by leaf, whether any chain
/// was trusted, whether any row counted application bytes.
type Index<'a> = (
    Vec<(String, Vec<&'a Connection>)>,
    DigestMap<'a, Vec<&'a Connection>>,
    bool,
    bool,
);

/// The connections by name key (keys in order) and by leaf, each in
/// (time, flow id) order; whether any chain was trusted; whether any row
/// counted application bytes.
fn index(handshakes: &[Connection]) -> Index<'_> {
    let mut map: HashMap<Cow<'_, str>, Vec<&Connection>> = HashMap::new();
    let mut leaf_flows: DigestMap<'_, Vec<&Connection>> = DigestMap::default();
    let mut any_trusted = false;
    let mut app_bytes_counted = false;
    for h in handshakes {
        if let Some(key) = name_key_cow(h) {
            map.entry(key).or_default().push(h);
        }
        if let Some(leaf) = &h.leaf_sha256 {
            leaf_flows.entry(leaf.as_ref()).or_default().push(h);
        }
        any_trusted |= h.chain_trusted == Some(true);
        app_bytes_counted |= h.app_bytes_client > 0 || h.app_bytes_server > 0;
    }
    let mut groups: Vec<(String, Vec<&Connection>)> =
        map.into_iter().map(|(k, v)| (k.into_owned(), v)).collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    // Vectors grown by doubling hold up to twice the connections of a large
    // group: trimmed once filled.
    for (_, flows) in &mut groups {
        flows.sort_by(|a, b| flow_order(a, b));
        flows.shrink_to_fit();
    }
    for flows in leaf_flows.values_mut() {
        flows.sort_by(|a, b| flow_order(a, b));
        flows.shrink_to_fit();
    }
    (groups, leaf_flows, any_trusted, app_bytes_counted)
}

fn flow_order(a: &Connection, b: &Connection) -> std::cmp::Ordering {
    a.ts_start
        .cmp(&b.ts_start)
        .then_with(|| a.flow_id.cmp(&b.flow_id))
}

/// Lowercase, without a trailing dot.
pub fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a handshake row's server accepted ECH (see `ech_status`).
pub fn ech_accepted(h: &HandshakeRow) -> bool {
    h.ech_status.as_deref() == Some("accepted")
}

/// The name a connection is judged under: its SNI, or without one
/// "(no-sni)@host:port" of the CONNECT target or the server address.
pub fn name_key(h: &Connection) -> Option<String> {
    name_key_cow(h).map(Cow::into_owned)
}

/// [`name_key`] of a full handshake row.
pub fn row_name_key(h: &HandshakeRow) -> Option<String> {
    key_of(
        ech_accepted(h),
        h.sni.as_deref(),
        h.connect_target.as_deref(),
        &h.server_ip,
        h.server_port,
    )
    .map(Cow::into_owned)
}

fn name_key_cow(h: &Connection) -> Option<Cow<'_, str>> {
    key_of(
        h.ech_outer,
        h.sni.as_deref(),
        h.connect_target.as_deref(),
        &h.server_ip,
        h.server_port,
    )
}

fn key_of<'h>(
    ech_outer: bool,
    sni: Option<&'h str>,
    connect_target: Option<&str>,
    server_ip: &str,
    server_port: i32,
) -> Option<Cow<'h, str>> {
    // Once ECH is accepted, the outer SNI is only the front end's public
    // name, shared by all the real names behind it (draft-ietf-tls-esni-22
    // §6.1): the connection has no name to be judged under. An ECH offer
    // alone does not say so: Chrome sends a GREASE ECH extension, which
    // looks the same as a real one, in every hello, and when ECH is not
    // accepted the outer handshake authenticates the outer SNI itself.
    if ech_outer {
        return None;
    }
    if let Some(sni) = sni {
        let trimmed = sni.trim_end_matches('.');
        if !trimmed.is_empty() {
            return Some(if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(trimmed.to_ascii_lowercase())
            } else {
                Cow::Borrowed(trimmed)
            });
        }
    }
    if let Some(t) = connect_target {
        return Some(Cow::Owned(format!("(no-sni)@{}", t.to_ascii_lowercase())));
    }
    if server_ip.is_empty() {
        return None;
    }
    Some(Cow::Owned(format!("(no-sni)@{server_ip}:{server_port}")))
}

/// The registrable part of a DNS name, for "unrelated names": the last two
/// labels, three under a known two-label public suffix ("co.uk"). Wildcards
/// and case are ignored; an IP address is its own domain.
pub fn registrable_domain(name: &str) -> String {
    const TWO_LABEL_SUFFIXES: [&str; 14] = [
        "co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.jp", "ne.jp",
        "com.br", "com.cn", "co.nz", "co.in", "com.mx",
    ];
    let n = name.trim_start_matches("*.").trim_end_matches('.');
    if n.parse::<std::net::IpAddr>().is_ok() {
        return n.to_ascii_lowercase();
    }
    // start of the last `k` labels
    let start = |k: usize| -> usize {
        let mut idx = n.len();
        for _ in 0..k {
            match n.get(..idx).and_then(|h| h.rfind('.')) {
                Some(p) => idx = p,
                None => return 0,
            }
        }
        idx + 1
    };
    let two = start(2);
    let last_two = n.get(two.min(n.len())..).unwrap_or(n);
    let from = if two > 0
        && TWO_LABEL_SUFFIXES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(last_two))
    {
        start(3)
    } else {
        two
    };
    n.get(from.min(n.len())..).unwrap_or(n).to_ascii_lowercase()
}

/// Every DNS name a certificate speaks for (SANs, else the subject CN).
pub fn cert_names(c: &CertRow) -> Vec<String> {
    let mut v: Vec<String> = c.san_dns.iter().map(|n| normalize_name(n)).collect();
    if v.is_empty() {
        if let Some(cn) = &c.subject_cn {
            v.push(normalize_name(cn));
        } else if let Some(cn) = c
            .subject
            .split(',')
            .find_map(|p| p.trim().strip_prefix("CN="))
        {
            v.push(normalize_name(cn));
        }
    }
    v
}

/// Runs every detector with these thresholds; findings most severe first,
/// then by names, kind and id.
pub fn analyze(
    handshakes: &[HandshakeRow],
    certs: &[CertRow],
    cfg: &Thresholds,
) -> Vec<FindingRow> {
    analyze_with_baseline(handshakes, certs, cfg, None)
}

/// [`analyze`], plus: every certificate of a name that a known-good
/// baseline scan (its handshake and certificate rows) never saw for that name
/// is evidence.
pub fn analyze_with_baseline(
    handshakes: &[HandshakeRow],
    certs: &[CertRow],
    cfg: &Thresholds,
    baseline: Option<(&[HandshakeRow], &[CertRow])>,
) -> Vec<FindingRow> {
    analyze_connections(&Connection::from_rows(handshakes), certs, cfg, baseline)
}

/// [`analyze_with_baseline`] over connections already reduced to what the
/// detectors read (`certsift analyze` builds them while streaming tables).
pub fn analyze_connections(
    handshakes: &[Connection],
    certs: &[CertRow],
    cfg: &Thresholds,
    baseline: Option<(&[HandshakeRow], &[CertRow])>,
) -> Vec<FindingRow> {
    analyze_group(handshakes, certs, cfg, baseline, None)
}

/// [`analyze_connections`] over one group of a run (see [`Grouper`]): the
/// findings of every group, put together and ordered with
/// [`sort_findings`], are those of one pass over the whole run.
pub fn analyze_group(
    handshakes: &[Connection],
    certs: &[CertRow],
    cfg: &Thresholds,
    baseline: Option<(&[HandshakeRow], &[CertRow])>,
    globals: Option<Globals>,
) -> Vec<FindingRow> {
    let (found, _) = analyze_group_facts(handshakes, certs, cfg, baseline, globals);
    found.into_iter().map(Found::into_row).collect()
}

/// Findings and incidents of a run in one pass (see [`incidents`]).
pub fn analyze_run(
    handshakes: &[HandshakeRow],
    certs: &[CertRow],
    cfg: &Thresholds,
    baseline: Option<(&[HandshakeRow], &[CertRow])>,
) -> (Vec<FindingRow>, Vec<IncidentRow>) {
    analyze_connections_run(&Connection::from_rows(handshakes), certs, cfg, baseline)
}

/// [`analyze_run`] over connections already reduced to what the detectors
/// read.
pub fn analyze_connections_run(
    handshakes: &[Connection],
    certs: &[CertRow],
    cfg: &Thresholds,
    baseline: Option<(&[HandshakeRow], &[CertRow])>,
) -> (Vec<FindingRow>, Vec<IncidentRow>) {
    let (found, facts) = analyze_group_facts(handshakes, certs, cfg, baseline, None);
    let findings: Vec<FindingRow> = found.into_iter().map(Found::into_row).collect();
    let incidents = incidents(&findings, &facts);
    (findings, incidents)
}

/// A finding whose connections are held as [`FlowId`]s until it is
/// written: the findings of one large group name millions of connections,
/// which as strings took 40 bytes each, while the group's connections were
/// still in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The finding, `flow_ids` empty.
    pub row: FindingRow,
    /// Its flow ids, in the order of the strings.
    pub flow_ids: Vec<FlowId>,
}

impl Found {
    fn new(mut row: FindingRow) -> Found {
        let flow_ids = std::mem::take(&mut row.flow_ids)
            .iter()
            .map(|id| FlowId::parse(id))
            .collect();
        Found { row, flow_ids }
    }

    /// The finding with its flow ids written out.
    pub fn into_row(self) -> FindingRow {
        let Found { mut row, flow_ids } = self;
        row.flow_ids = flow_ids.iter().map(FlowId::to_string).collect();
        row
    }
}

/// [`analyze_group`], its findings' flow ids kept compact (see [`Found`]),
/// plus the compact facts about the leaves its medium and high findings
/// accuse, from which [`incidents`] builds the run's incidents once every
/// group was judged.
pub fn analyze_group_facts(
    handshakes: &[Connection],
    certs: &[CertRow],
    cfg: &Thresholds,
    baseline: Option<(&[HandshakeRow], &[CertRow])>,
    globals: Option<Globals>,
) -> (Vec<Found>, Facts) {
    let ev = Evidence::with_globals(handshakes, certs, cfg, globals);
    // Each detector's findings are made compact as they come, so that only
    // one detector's flow ids are ever held as strings.
    let mut findings: Vec<Found> = Vec::new();
    let mut add = |found: Vec<FindingRow>| findings.extend(found.into_iter().map(Found::new));
    add(issuer::divergence(&ev));
    add(untrusted::untrusted_chain(&ev));
    add(untrusted::incomplete_chain(&ev));
    add(validity::validity(&ev));
    add(keyreuse::key_reuse(&ev));
    add(forging::forging_issuer(&ev));
    add(fresh::fresh_certificate(&ev));
    add(clients::client_scoped(&ev));
    add(rejection::rejection(&ev));
    add(products::inspection_product(&ev));
    if let Some((bh, bc)) = baseline {
        add(baseline::deviation(&ev, bh, bc));
    }
    let corroborated: BTreeSet<String> = findings
        .iter()
        .filter(|f| f.row.severity >= Severity::Medium)
        .flat_map(|f| f.row.names.iter().cloned())
        .collect();
    findings.extend(
        shape::shape_change(&ev, &corroborated)
            .into_iter()
            .map(Found::new),
    );
    // A medium or high finding accuses the leaves it judges, unless its
    // detector narrowed them to one side; low and info findings accuse none.
    for Found { row: f, .. } in &mut findings {
        if f.severity < Severity::Medium {
            f.accused_sha256.clear();
        } else if f.accused_sha256.is_empty() {
            f.accused_sha256 = f
                .cert_sha256
                .iter()
                .filter(|c| ev.leaves.contains_key(c.as_str()))
                .cloned()
                .collect();
        }
    }
    findings.sort_by(|a, b| finding_order(&a.row, &b.row));
    let facts = incidents::facts(&ev, &findings);
    (findings, facts)
}

/// Most severe first, then by names, kind and id.
pub fn sort_findings(findings: &mut [FindingRow]) {
    findings.sort_by(finding_order);
}

/// The order of [`sort_findings`].
pub fn finding_order(a: &FindingRow, b: &FindingRow) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.names.cmp(&b.names))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.finding_id.cmp(&b.finding_id))
}

/// Builds the evidence part of a finding from the handshakes involved.
pub fn finding(
    kind: Kind,
    severity: Severity,
    sni: Option<&str>,
    flows: &[&Connection],
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
        if let Some(n) = name_key(h) {
            names.insert(n);
        }
        clients.insert(h.client_ip.to_string());
        flow_ids.push(h.flow_id.to_string());
        first = first.min(h.ts_start);
        last = last.max(h.ts_start);
    }
    if let Some(s) = sni {
        names.insert(s.to_string());
    }
    flow_ids.sort();
    flow_ids.dedup();
    let cert_sha256: Vec<String> = certs.into_iter().collect();
    let mut id = Sha256::new();
    id.update(kind.as_str().as_bytes());
    id.update([0]);
    id.update(sni.unwrap_or_default().as_bytes());
    for c in &cert_sha256 {
        id.update([0]);
        id.update(c.as_bytes());
    }
    if cert_sha256.is_empty() {
        // shape findings carry no certificate: their flows identify them
        for f in &flow_ids {
            id.update([1]);
            id.update(f.as_bytes());
        }
    }
    FindingRow {
        finding_id: hex::encode(id.finalize().get(..8).unwrap_or_default()),
        kind,
        severity,
        sni: sni.map(str::to_string),
        names: names.into_iter().collect(),
        summary,
        flow_ids,
        cert_sha256,
        clients: clients.into_iter().collect(),
        issuers: issuers.into_iter().collect(),
        first_seen: if first == i64::MAX { 0 } else { first },
        last_seen: if last == i64::MIN { 0 } else { last },
        accused_sha256: Vec::new(),
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Row builders for the detectors' tests.
    use crate::rows::{CertRow, HandshakeRow};

    /// A TLS 1.2 connection with a visible, trusted leaf that was accepted.
    pub fn hs(id: &str, sni: &str, leaf: &str, client: &str, ts_s: i64) -> HandshakeRow {
        HandshakeRow {
            flow_id: id.into(),
            sni: Some(sni.into()),
            leaf_sha256: Some(leaf.into()),
            cert_chain_sha256: vec![leaf.into()],
            cert_visibility: "plain".into(),
            tls_version: Some("TLS 1.2".into()),
            client_ip: client.into(),
            server_ip: "203.0.113.1".into(),
            server_port: 443,
            ts_start: ts_s * 1_000_000,
            chain_trusted: Some(true),
            sni_matches_leaf: Some(true),
            server_flight_bytes: 2000,
            server_bytes: 3000,
            client_bytes: 500,
            app_bytes_client: 100,
            app_bytes_server: 900,
            ..Default::default()
        }
    }

    /// The same, untrusted for an unknown issuer.
    pub fn hs_untrusted(id: &str, sni: &str, leaf: &str, client: &str, ts_s: i64) -> HandshakeRow {
        HandshakeRow {
            chain_trusted: Some(false),
            trust_reason: Some(crate::x509::TrustReason::UnknownIssuer),
            ..hs(id, sni, leaf, client, ts_s)
        }
    }

    /// A leaf certificate valid from 90 days before t=0.
    pub fn cert(sha: &str, issuer: &str, spki: &str, names: &[&str]) -> CertRow {
        CertRow {
            info: crate::x509::CertInfo {
                sha256: sha.into(),
                issuer: issuer.into(),
                spki_sha256: spki.into(),
                subject: format!("CN={}", names.first().copied().unwrap_or("x")),
                san_dns: names.iter().map(|s| s.to_string()).collect(),
                key_algorithm: "RSA".into(),
                not_before: Some(-90 * 86_400 * 1_000_000),
                not_after: Some(300 * 86_400 * 1_000_000),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{cert, hs};
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(
            registrable_domain("www.example-bank.test"),
            "example-bank.test"
        );
        assert_eq!(registrable_domain("*.media.test"), "media.test");
        assert_eq!(registrable_domain("a.b.shop.co.uk."), "shop.co.uk");
        assert_eq!(registrable_domain("localhost"), "localhost");
        assert_eq!(registrable_domain("203.0.113.13"), "203.0.113.13");
    }

    #[test]
    fn no_sni_connections_are_grouped_by_server() {
        let mut h = hs("1", "x", "a", "10.0.0.1", 1);
        h.sni = None;
        h.server_ip = "2001:db8::1".into();
        assert_eq!(
            row_name_key(&h).as_deref(),
            Some("(no-sni)@2001:db8::1:443")
        );
        h.connect_target = Some("Host.test:443".into());
        assert_eq!(row_name_key(&h).as_deref(), Some("(no-sni)@host.test:443"));
    }

    #[test]
    fn outcome_counts_accepting_clients_and_bytes() {
        let mut refused = hs("2", "x.test", "a", "10.0.0.2", 2);
        refused.alerts = vec!["client:fatal:unknown_ca".into()];
        let ok = hs("1", "x.test", "a", "10.0.0.1", 1);
        let h = vec![ok, refused];
        let c = vec![cert("a", "CN=CA", "k", &["x.test"])];
        let cfg = Thresholds::default();
        let h = Connection::from_rows(&h);
        let ev = Evidence::with(&h, &c, &cfg);
        let flows: Vec<&Connection> = h.iter().collect();
        let o = ev.outcome(&flows);
        assert_eq!((o.accepted_clients, o.clients, o.refused_flows), (1, 2, 1));
        assert_eq!((o.bytes_to_server, o.bytes_to_client), (100, 900));
        assert!(o.sentence().contains("accepted by 1 of 2 clients"));
    }

    /// Issue 30: once ECH is accepted, the outer SNI is a front end's public
    /// name; the same interception that is found under a real SNI is not
    /// judged under it. An ECH offer alone (GREASE looks the same) keeps
    /// the name.
    #[test]
    fn issue_30_ech_outer_sni_is_never_a_name_to_judge() {
        let mut h = vec![
            hs("1", "public.front.test", "a", "10.0.0.1", 1),
            hs("2", "public.front.test", "b", "10.0.0.2", 2),
        ];
        let c = vec![
            cert("a", "CN=Real CA", "k1", &["public.front.test"]),
            cert("b", "CN=mitmproxy", "k2", &["public.front.test"]),
        ];
        let cfg = Thresholds::default();
        assert!(!analyze(&h, &c, &cfg).is_empty());
        // Offered only (or GREASE): the outer handshake is judged.
        for r in &mut h {
            r.ech_outer_sni = r.sni.clone();
            r.ech_status = Some("unknown".into());
        }
        assert_eq!(row_name_key(&h[0]).as_deref(), Some("public.front.test"));
        for r in &mut h {
            r.ech_status = Some("accepted".into());
        }
        assert_eq!(row_name_key(&h[0]), None);
        assert_eq!(name_key(&Connection::from_rows(&h)[0]), None);
        let f = analyze(&h, &c, &cfg);
        assert!(
            f.iter()
                .all(|x| x.sni.as_deref() != Some("public.front.test")
                    && !x.names.iter().any(|n| n == "public.front.test")),
            "{f:?}"
        );
    }

    #[test]
    fn output_is_deterministic_whatever_the_input_order() {
        let mut h = vec![
            hs("1", "bank.test", "a", "10.0.0.1", 1),
            hs("2", "bank.test", "b", "10.0.0.2", 2),
            hs("3", "shop.test", "b", "10.0.0.2", 3),
        ];
        let c = vec![
            cert("a", "CN=Real CA", "k1", &["bank.test"]),
            cert("b", "CN=mitmproxy", "k2", &["bank.test"]),
        ];
        let cfg = Thresholds::default();
        let f1 = analyze(&h, &c, &cfg);
        h.reverse();
        let f2 = analyze(&h, &c, &cfg);
        assert_eq!(f1, f2);
        assert!(!f1.is_empty());
    }

    /// One question for every detector: a leaf on a CA's key is one that is
    /// neither a CA nor self-signed. The CA served as a leaf, and a
    /// self-signed leaf marked CA, carry their own key.
    #[test]
    fn only_a_leaf_that_is_no_ca_is_on_a_ca_key() {
        let ca = |sha: &str, self_signed: bool| {
            let mut c = cert(sha, "CN=Gateway CA", "kca", &[]);
            c.is_ca = true;
            c.self_signed = self_signed;
            c
        };
        let certs = vec![
            cert("forged", "CN=Gateway CA", "kca", &["a.test"]),
            {
                let mut c = cert("selfsigned", "CN=b.test", "kca", &["b.test"]);
                c.self_signed = true;
                c
            },
            ca("root", true),
            ca("cross", false),
        ];
        let rows: Vec<HandshakeRow> = ["forged", "selfsigned", "root", "cross"]
            .iter()
            .enumerate()
            .map(|(i, l)| hs(&i.to_string(), &format!("{l}.test"), l, "10.0.0.1", 1))
            .collect();
        let h = Connection::from_rows(&rows);
        let ev = Evidence::new(&h, &certs);
        let on: Vec<bool> = ["forged", "selfsigned", "root", "cross"]
            .iter()
            .map(|l| ev.leaf(l).is_some_and(|i| i.ca_key))
            .collect();
        assert_eq!(on, [true, false, false, false]);
        assert!(ev.leaf_suspect("forged"));
        assert!(!ev.leaf_suspect("root"));
    }
}
