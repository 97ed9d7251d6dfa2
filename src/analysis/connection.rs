//! The part of a handshake row the detectors read, kept small so that
//! `certsift analyze` holds tens of millions of connections, and one group
//! of a grouped run holds all of its own: the columns the detectors use and
//! nothing else (no JA3 strings, cipher lists, file paths), every repeated
//! string (addresses, names, certificate hashes, chains) shared through an
//! [`Interner`] behind an 8-byte pointer, and the flow id as a number when
//! it has the form scans give it. About 190 bytes per connection instead
//! of about 2 KB for a full `HandshakeRow`.
//!
//! In: `HandshakeRow`s. Out: `Connection`s. Left out: every column no
//! detector reads.

use std::borrow::{Borrow, Cow};
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use crate::rows::HandshakeRow;
use crate::x509::TrustReason;

/// A shared, immutable string behind a thin pointer: 8 bytes where an
/// `Arc<str>` takes 16, and `Option<Sym>` is 8 bytes too. Compared,
/// hashed and ordered as its text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(Arc<Box<str>>);

impl Sym {
    /// A new, unshared copy of `s` (see [`Interner::str`] for a shared one).
    pub fn new(s: &str) -> Sym {
        Sym(Arc::new(Box::from(s)))
    }

    /// Whether both point to the same shared copy.
    pub fn ptr_eq(a: &Sym, b: &Sym) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl std::ops::Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self.0, f)
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A shared, immutable list of shared strings, behind a thin pointer.
pub type List = Arc<Box<[Sym]>>;

/// A connection's `flow_id`: the 16 lowercase hex digits a scan gives it,
/// held as their number (8 bytes, no allocation), or any other text as it
/// is (tests, a renamed copy from `certsift analyze`). Ordered as the text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum FlowId {
    /// 16 lowercase hex digits.
    Hex(u64),
    /// Any other id.
    Text(Sym),
}

/// Hex digits in a scan's flow id.
const FLOW_ID_DIGITS: usize = 16;

impl FlowId {
    /// The id of a row; each text has one form, so equal ids are equal texts.
    pub fn parse(s: &str) -> FlowId {
        let canonical = s.len() == FLOW_ID_DIGITS
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        match u64::from_str_radix(s, 16) {
            Ok(n) if canonical => FlowId::Hex(n),
            _ => FlowId::Text(Sym::new(s)),
        }
    }

    /// The id as written in the tables.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            FlowId::Hex(n) => Cow::Owned(format!("{n:016x}")),
            FlowId::Text(s) => Cow::Borrowed(s),
        }
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowId::Hex(n) => write!(f, "{n:016x}"),
            FlowId::Text(s) => f.write_str(s),
        }
    }
}

impl fmt::Debug for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl Ord for FlowId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            // fixed-width hex orders as its number
            (FlowId::Hex(a), FlowId::Hex(b)) => a.cmp(b),
            _ => self.text().cmp(&other.text()),
        }
    }
}

impl PartialOrd for FlowId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One TLS connection as the detectors see it; field names and meanings are
/// those of the `handshakes` columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// `flow_id`.
    pub flow_id: FlowId,
    /// `ts_start`, µs since the epoch.
    pub ts_start: i64,
    /// `client_ip`.
    pub client_ip: Sym,
    /// `server_ip`.
    pub server_ip: Sym,
    /// `server_port`.
    pub server_port: i32,
    /// `transport` (tcp, quic or dtls).
    pub transport: Sym,
    /// `ech_status` is "accepted": the server used the encrypted inner
    /// hello, so `sni` is only the front end's public name, shared by every
    /// name behind it, and not a name to judge by.
    pub ech_outer: bool,
    /// `sni`.
    pub sni: Option<Sym>,
    /// `connect_target`.
    pub connect_target: Option<Sym>,
    /// `tls_version`.
    pub tls_version: Option<Sym>,
    /// `ja3s`.
    pub ja3s: Option<Sym>,
    /// `ja4`: the client's fingerprint.
    pub ja4: Option<Sym>,
    /// `server_ttl`: the IP TTL (hop limit) of the server's first packet.
    pub server_ttl: Option<i32>,
    /// `cert_visibility`.
    pub cert_visibility: Sym,
    /// `leaf_sha256`.
    pub leaf_sha256: Option<Sym>,
    /// `cert_chain_sha256`, leaf first.
    pub cert_chain_sha256: List,
    /// `chain_trusted`.
    pub chain_trusted: Option<bool>,
    /// `sni_matches_leaf`.
    pub sni_matches_leaf: Option<bool>,
    /// `trust_reason`.
    pub trust_reason: Option<TrustReason>,
    /// `root_public`.
    pub root_public: Option<bool>,
    /// `alerts`.
    pub alerts: List,
    /// `server_flight_bytes`.
    pub server_flight_bytes: i64,
    /// `client_bytes`.
    pub client_bytes: i64,
    /// `server_bytes`.
    pub server_bytes: i64,
    /// `app_bytes_client`.
    pub app_bytes_client: i64,
    /// `app_bytes_server`.
    pub app_bytes_server: i64,
}

/// Hands out one shared copy of each distinct string and list.
#[derive(Debug)]
pub struct Interner {
    strings: HashSet<Sym>,
    lists: HashSet<List>,
    empty: List,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            strings: HashSet::new(),
            lists: HashSet::new(),
            empty: Arc::new(Box::default()),
        }
    }
}

impl Interner {
    /// The shared copy of `s`.
    pub fn str(&mut self, s: &str) -> Sym {
        if let Some(x) = self.strings.get(s) {
            return x.clone();
        }
        let x = Sym::new(s);
        self.strings.insert(x.clone());
        x
    }

    fn opt(&mut self, s: Option<&str>) -> Option<Sym> {
        s.map(|s| self.str(s))
    }

    /// The shared copy of a list.
    pub fn list(&mut self, items: &[String]) -> List {
        if items.is_empty() {
            return Arc::clone(&self.empty);
        }
        let parts: Box<[Sym]> = items.iter().map(|s| self.str(s)).collect();
        if let Some(x) = self.lists.get(&parts) {
            return Arc::clone(x);
        }
        let x: List = Arc::new(parts);
        self.lists.insert(Arc::clone(&x));
        x
    }
}

impl Connection {
    /// The `handshakes` columns a connection is made of.
    pub const COLUMNS: &'static [&'static str] = &[
        "flow_id",
        "ts_start",
        "client_ip",
        "server_ip",
        "server_port",
        "transport",
        "sni",
        "connect_target",
        "tls_version",
        "ja3s",
        "ja4",
        "server_ttl",
        "cert_visibility",
        "leaf_sha256",
        "cert_chain_sha256",
        "chain_trusted",
        "sni_matches_leaf",
        "trust_reason",
        "root_public",
        "alerts",
        "server_flight_bytes",
        "client_bytes",
        "server_bytes",
        "app_bytes_client",
        "app_bytes_server",
        "ech_status",
    ];

    /// The detectors' view of a handshake row.
    pub fn from_row(h: &HandshakeRow, i: &mut Interner) -> Connection {
        Connection {
            flow_id: FlowId::parse(&h.flow_id),
            ts_start: h.ts_start,
            client_ip: i.str(&h.client_ip),
            server_ip: i.str(&h.server_ip),
            server_port: h.server_port,
            transport: i.str(&h.transport),
            ech_outer: super::ech_accepted(h),
            sni: i.opt(h.sni.as_deref()),
            connect_target: i.opt(h.connect_target.as_deref()),
            tls_version: i.opt(h.tls_version.as_deref()),
            ja3s: i.opt(h.fingerprints.ja3s.as_deref()),
            ja4: i.opt(h.fingerprints.ja4.as_deref()),
            server_ttl: h.server_ttl,
            cert_visibility: i.str(&h.cert_visibility),
            leaf_sha256: i.opt(h.leaf_sha256.as_deref()),
            cert_chain_sha256: i.list(&h.cert_chain_sha256),
            chain_trusted: h.chain_trusted,
            sni_matches_leaf: h.sni_matches_leaf,
            trust_reason: h.trust_reason,
            root_public: h.root_public,
            alerts: i.list(&h.alerts),
            server_flight_bytes: h.server_flight_bytes,
            client_bytes: h.client_bytes,
            server_bytes: h.server_bytes,
            app_bytes_client: h.app_bytes_client,
            app_bytes_server: h.app_bytes_server,
        }
    }

    /// An untrusted chain that no known party issued (see
    /// [`TrustReason::issuer_unknown`]).
    pub fn untrusted_by_unknown_issuer(&self) -> bool {
        self.chain_trusted == Some(false) && TrustReason::issuer_unknown(self.trust_reason)
    }

    /// Whether the chain was judged untrusted for one of `reasons`.
    pub fn untrusted_for(&self, reasons: &[TrustReason]) -> bool {
        self.chain_trusted == Some(false) && self.trust_reason.is_some_and(|r| reasons.contains(&r))
    }

    /// The detectors' view of many rows, sharing one interner.
    pub fn from_rows(rows: &[HandshakeRow]) -> Vec<Connection> {
        let mut i = Interner::default();
        rows.iter()
            .map(|h| Connection::from_row(h, &mut i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_strings_and_chains_are_shared() {
        let h = HandshakeRow {
            flow_id: "f".into(),
            client_ip: "192.0.2.1".into(),
            cert_chain_sha256: vec!["aa".into(), "bb".into()],
            leaf_sha256: Some("aa".into()),
            ..Default::default()
        };
        let c = Connection::from_rows(&[h.clone(), h]);
        assert!(Sym::ptr_eq(&c[0].client_ip, &c[1].client_ip));
        assert!(Arc::ptr_eq(
            &c[0].cert_chain_sha256,
            &c[1].cert_chain_sha256
        ));
        let leaf = c[0].leaf_sha256.as_ref().unwrap();
        assert!(Sym::ptr_eq(leaf, &c[0].cert_chain_sha256[0]));
        assert!(std::mem::size_of::<Connection>() <= 192);
    }

    #[test]
    fn flow_ids_keep_their_text_equality_and_order() {
        let ids = [
            "00ff00ff00ff00ff",
            "0123456789abcdee",
            "0123456789abcdef",
            "0123456789abcdef-0000abcd",
            "00FF00FF00FF00FF",
            "ffffffffffffffff",
            "+123456789abcdef",
            "f",
            "",
        ];
        let parsed: Vec<FlowId> = ids.iter().map(|s| FlowId::parse(s)).collect();
        assert!(matches!(parsed[0], FlowId::Hex(_)));
        assert!(matches!(parsed[4], FlowId::Text(_)));
        assert!(matches!(parsed[6], FlowId::Text(_)));
        for (p, s) in parsed.iter().zip(ids) {
            assert_eq!(p.to_string(), s);
            assert_eq!(p.text(), s);
        }
        for (pa, sa) in parsed.iter().zip(ids) {
            for (pb, sb) in parsed.iter().zip(ids) {
                assert_eq!(pa.cmp(pb), sa.cmp(sb), "{sa} {sb}");
                assert_eq!(pa == pb, sa == sb, "{sa} {sb}");
            }
        }
    }
}
