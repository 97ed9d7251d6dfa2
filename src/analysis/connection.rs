//! The part of a handshake row the detectors read, kept small so that
//! `certsift analyze` holds tens of millions of connections: the columns the
//! detectors use and nothing else (no JA3 strings, cipher lists, file paths),
//! and every repeated string (addresses, names, certificate hashes, chains) shared through an [`Interner`]. About 300 bytes per
//! connection instead of about 2 KB for a full `HandshakeRow`.
//!
//! In: `HandshakeRow`s. Out: `Connection`s. Left out: every column no
//! detector reads.

use std::collections::HashSet;
use std::sync::Arc;

use crate::rows::HandshakeRow;
use crate::x509::TrustReason;

/// A shared, immutable list of shared strings.
pub type List = Arc<[Arc<str>]>;

/// One TLS connection as the detectors see it; field names and meanings are
/// those of the `handshakes` columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// `flow_id`.
    pub flow_id: Box<str>,
    /// `ts_start`, µs since the epoch.
    pub ts_start: i64,
    /// `client_ip`.
    pub client_ip: Arc<str>,
    /// `server_ip`.
    pub server_ip: Arc<str>,
    /// `server_port`.
    pub server_port: i32,
    /// `transport` (tcp, quic or dtls).
    pub transport: Arc<str>,
    /// `ech_status` is "accepted": the server used the encrypted inner
    /// hello, so `sni` is only the front end's public name, shared by every
    /// name behind it, and not a name to judge by.
    pub ech_outer: bool,
    /// `sni`.
    pub sni: Option<Arc<str>>,
    /// `connect_target`.
    pub connect_target: Option<Arc<str>>,
    /// `tls_version`.
    pub tls_version: Option<Arc<str>>,
    /// `ja3s`.
    pub ja3s: Option<Arc<str>>,
    /// `ja4`: the client's fingerprint.
    pub ja4: Option<Arc<str>>,
    /// `server_ttl`: the IP TTL (hop limit) of the server's first packet.
    pub server_ttl: Option<i32>,
    /// `cert_visibility`.
    pub cert_visibility: Arc<str>,
    /// `leaf_sha256`.
    pub leaf_sha256: Option<Arc<str>>,
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
    strings: HashSet<Arc<str>>,
    lists: HashSet<List>,
    empty: List,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            strings: HashSet::new(),
            lists: HashSet::new(),
            empty: Arc::from(Vec::new()),
        }
    }
}

impl Interner {
    /// The shared copy of `s`.
    pub fn str(&mut self, s: &str) -> Arc<str> {
        if let Some(x) = self.strings.get(s) {
            return Arc::clone(x);
        }
        let x: Arc<str> = Arc::from(s);
        self.strings.insert(Arc::clone(&x));
        x
    }

    fn opt(&mut self, s: Option<&str>) -> Option<Arc<str>> {
        s.map(|s| self.str(s))
    }

    /// The shared copy of a list.
    pub fn list(&mut self, items: &[String]) -> List {
        if items.is_empty() {
            return Arc::clone(&self.empty);
        }
        let parts: Vec<Arc<str>> = items.iter().map(|s| self.str(s)).collect();
        if let Some(x) = self.lists.get(parts.as_slice()) {
            return Arc::clone(x);
        }
        let x: List = Arc::from(parts);
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
            flow_id: h.flow_id.as_str().into(),
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
        assert!(Arc::ptr_eq(&c[0].client_ip, &c[1].client_ip));
        assert!(Arc::ptr_eq(
            &c[0].cert_chain_sha256,
            &c[1].cert_chain_sha256
        ));
        let leaf = c[0].leaf_sha256.as_ref().unwrap();
        assert!(Arc::ptr_eq(leaf, &c[0].cert_chain_sha256[0]));
        assert!(std::mem::size_of::<Connection>() <= 288);
    }
}
