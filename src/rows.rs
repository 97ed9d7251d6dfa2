//! One plain struct per output table, one field per column. Built by the
//! pipeline, judged by analysis, written (and read back) by output. Times are
//! µs since the Unix epoch, UTC.

/// Defined with the finding kinds; findings and incidents rows hold it.
pub use crate::analysis::kinds::Severity;
use crate::tls::Fingerprints;
use crate::x509::CertInfo;

/// One row of `handshakes`: a TCP connection in which TLS was seen, or a
/// QUIC or DTLS connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HandshakeRow {
    /// Stable id of the connection, unique across files and scans.
    pub flow_id: String,
    /// Capture file the connection's first packet came from.
    pub file: String,
    /// First packet.
    pub ts_start: i64,
    /// Last packet.
    pub ts_end: i64,
    /// TLS client address.
    pub client_ip: String,
    /// TLS client port.
    pub client_port: i32,
    /// TLS server address.
    pub server_ip: String,
    /// TLS server port.
    pub server_port: i32,
    /// Server name the client asked for.
    pub sni: Option<String>,
    /// ALPN protocols offered by the client.
    pub alpn: Vec<String>,
    /// ALPN protocol the server selected.
    pub alpn_selected: Option<String>,
    /// Negotiated version ("TLS 1.2").
    pub tls_version: Option<String>,
    /// Versions the client offered (supported_versions, else legacy version).
    pub offered_versions: Vec<String>,
    /// Negotiated cipher suite, IANA name.
    pub cipher_suite: Option<String>,
    /// Cipher suites the client offered, IANA names, in its order (GREASE left out).
    pub offered_cipher_suites: Vec<String>,
    /// JA3, JA3S and JA4 of the hellos, hashes and strings.
    pub fingerprints: Fingerprints,
    /// Server certificate chain, SHA-256 of each DER, as sent (leaf first).
    pub cert_chain_sha256: Vec<String>,
    /// SHA-256 of the leaf certificate.
    pub leaf_sha256: Option<String>,
    /// "plain", "encrypted", "decrypted", "absent" or "resumed".
    pub cert_visibility: String,
    /// Key-log decryption of a TLS 1.3 flight: "decrypted", "no_keys",
    /// "wrong_key" or "failed"; null when not tried.
    pub decryption: Option<String>,
    /// Whether the chain led to a trusted root at the connection's time.
    pub chain_trusted: Option<bool>,
    /// Why the chain was not trusted; for a trusted chain,
    /// `root_removed_since` when its root has left Mozilla's store since.
    pub trust_reason: Option<crate::x509::TrustReason>,
    /// Whether the trusted chain's root is one of Mozilla's (at any time)
    /// rather than one given only with `--trust-store`; null when untrusted.
    pub root_public: Option<bool>,
    /// Whether the SNI matches the leaf's names (RFC 6125).
    pub sni_matches_leaf: Option<bool>,
    /// Client certificate chain (mutual TLS), SHA-256 of each DER.
    pub client_chain_sha256: Vec<String>,
    /// Alerts: "side:level:description", side client or server.
    pub alerts: Vec<String>,
    /// Host:port of an HTTP CONNECT that preceded TLS (explicit proxy).
    pub connect_target: Option<String>,
    /// Size of the server's handshake flight (encrypted in TLS 1.3).
    pub server_flight_bytes: i64,
    /// TCP payload bytes client to server.
    pub client_bytes: i64,
    /// TLS bytes the client sent after its handshake (application data).
    pub app_bytes_client: i64,
    /// TLS bytes the server sent after its handshake (application data).
    pub app_bytes_server: i64,
    /// TCP payload bytes server to client.
    pub server_bytes: i64,
    /// Packets in both directions.
    pub packets: i64,
    /// IP TTL of the client's first packet.
    pub client_ttl: Option<i32>,
    /// IP TTL of the server's first packet.
    pub server_ttl: Option<i32>,
    /// What was odd about the connection, each once, sorted by code.
    pub anomalies: Vec<crate::error::Anomaly>,
    /// "tcp", "quic" (TLS inside QUIC CRYPTO frames, RFC 9001) or "dtls".
    pub transport: String,
    /// What the capture shows of the server's answer to an ECH offer:
    /// "accepted", "rejected", "ignored" or "unknown"; null when the
    /// ClientHello carried no encrypted_client_hello extension.
    pub ech_status: Option<String>,
    /// The outer SNI (the ECH configuration's public name, or the real
    /// name under a GREASE extension) of a ClientHello with ECH; null
    /// without ECH. Once ECH is accepted it is no name to judge a
    /// certificate by: one front end answers for many real names.
    pub ech_outer_sni: Option<String>,
    /// ECH config_id.
    pub ech_config_id: Option<i32>,
    /// ECH HPKE KDF id.
    pub ech_kdf_id: Option<i32>,
    /// ECH HPKE AEAD id.
    pub ech_aead_id: Option<i32>,
}

/// One row of `certificates`: a distinct certificate (by SHA-256 of its DER),
/// what [`CertInfo`] says of it, and where the run saw it.
///
/// The row reads as its certificate (`row.subject` is `row.info.subject`):
/// detectors and reports ask the certificate's questions of rows. A row read
/// back from a table holds only what the table stores, so `info.version` is
/// 0 and `info.weak_signature` false there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertRow {
    /// The certificate's parsed fields (hashes, names, validity, key,
    /// extensions, `parse_error`).
    pub info: CertInfo,
    /// Chain to a trusted root when first seen as a leaf (null for non-leaves).
    pub trusted: Option<bool>,
    /// Why that chain was not trusted.
    pub validation_reason: Option<crate::x509::TrustReason>,
    /// First connection that carried it.
    pub first_seen: i64,
    /// Last connection that carried it.
    pub last_seen: i64,
    /// Connections that carried it.
    pub flow_count: i64,
    /// The certificate itself.
    pub der: Vec<u8>,
}

impl std::ops::Deref for CertRow {
    type Target = CertInfo;
    fn deref(&self) -> &CertInfo {
        &self.info
    }
}

impl std::ops::DerefMut for CertRow {
    fn deref_mut(&mut self) -> &mut CertInfo {
        &mut self.info
    }
}

/// One row of `findings`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingRow {
    /// Stable id of the finding.
    pub finding_id: String,
    /// What was found.
    pub kind: crate::analysis::kinds::Kind,
    /// How strongly it points at interception.
    pub severity: Severity,
    /// The server name, null when the finding spans names.
    pub sni: Option<String>,
    /// Every server name involved.
    pub names: Vec<String>,
    /// One sentence a responder can act on.
    pub summary: String,
    /// Connections that are evidence.
    pub flow_ids: Vec<String>,
    /// Certificates that are evidence.
    pub cert_sha256: Vec<String>,
    /// Client addresses involved.
    pub clients: Vec<String>,
    /// Issuers involved.
    pub issuers: Vec<String>,
    /// First evidence.
    pub first_seen: i64,
    /// Last evidence.
    pub last_seen: i64,
    /// The leaves a medium or high finding accuses (a subset of
    /// `cert_sha256`): the suspect side of a divergence, the leaves a
    /// forging, key-reuse or product finding judges. Empty for low and info
    /// findings and for findings without certificates (TLS 1.3 shapes).
    pub accused_sha256: Vec<String>,
}

/// One row of `incidents`: the medium and high findings one interceptor
/// caused, tied together, with what became of the connections it answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentRow {
    /// Stable id: a hash of the interceptor's identity.
    pub incident_id: String,
    /// The highest severity of its findings.
    pub severity: Severity,
    /// "intercepted", "attempted_refused" or "suspected".
    pub verdict: String,
    /// The interceptor in a few words: issuer, product, place on the path.
    pub interceptor: String,
    /// Issuer DN of most of its certificates; null when no certificate was
    /// visible.
    pub interceptor_issuer: Option<String>,
    /// SPKI SHA-256 of the issuing CA's key, when its certificate was sent
    /// or seen in the run.
    pub interceptor_key_sha256: Option<String>,
    /// The inspection product its issuer or chain matches.
    pub interceptor_product: Option<String>,
    /// How it sat on the path, when known.
    pub interceptor_path: Vec<String>,
    /// Every issuer DN of its certificates.
    pub issuers: Vec<String>,
    /// The certificates it presented (leaves, SHA-256).
    pub cert_sha256: Vec<String>,
    /// Server names it answered for.
    pub names: Vec<String>,
    /// Client addresses it answered.
    pub clients: Vec<String>,
    /// First connection it answered.
    pub first_seen: i64,
    /// Last connection it answered.
    pub last_seen: i64,
    /// Connections it answered.
    pub connections: i64,
    /// Of those, connections the client went on with (application data).
    pub accepted_connections: i64,
    /// Of those, connections the client ended with a fatal alert.
    pub refused_connections: i64,
    /// Application bytes the accepting clients sent through it.
    pub bytes_to_server: i64,
    /// Application bytes it sent them.
    pub bytes_to_client: i64,
    /// Whether the byte counts are estimates (older tables).
    pub bytes_estimated: bool,
    /// Its findings (findings.finding_id).
    pub finding_ids: Vec<String>,
    /// One sentence a responder reads first.
    pub summary: String,
}

/// One row of `files`: what one input file held and what became of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileRow {
    /// The path as given (or found in a folder).
    pub file: String,
    /// "pcap", "pcap-ns", "pcap-be", "pcap-be-ns", "pcapng", or null when unknown.
    pub format: Option<String>,
    /// "none", "gzip" or "zstd".
    pub compression: Option<String>,
    /// Size on disk.
    pub size_bytes: i64,
    /// "ok", "damaged", "not_a_capture", "empty" or "unreadable".
    pub status: String,
    /// The error message, when not ok.
    pub error: Option<String>,
    /// Byte offset of the damage in the (decompressed) stream.
    pub damage_offset: Option<i64>,
    /// Packet records read.
    pub packets: i64,
    /// Captured bytes of those packets.
    pub captured_bytes: i64,
    /// First packet time.
    pub first_ts: Option<i64>,
    /// Last packet time.
    pub last_ts: Option<i64>,
    /// Link types seen, as numbers with names ("1 EN10MB").
    pub link_types: Vec<String>,
    /// TCP segments decoded.
    pub tcp_segments: i64,
    /// UDP datagrams decoded.
    pub udp_datagrams: i64,
    /// IP fragments handed to reassembly.
    pub ip_fragments: i64,
    /// Packets skipped: link type not decoded.
    pub skipped_unsupported_link: i64,
    /// Packets skipped: not IP (ARP, LLDP...).
    pub skipped_not_ip: i64,
    /// Packets skipped: truncated headers.
    pub skipped_truncated: i64,
    /// Packets skipped: malformed IP or TCP header.
    pub skipped_bad_header: i64,
    /// Packets skipped: another IP protocol (ICMP, ESP...).
    pub skipped_other_protocol: i64,
    /// Packets skipped: too many nested encapsulations.
    pub skipped_too_deep: i64,
    /// Connections finished early, before they ended, because the flow
    /// table was full (`--max-flows`); each carries the anomaly
    /// `flow_evicted`.
    pub flows_evicted: i64,
}

/// A count as a table's signed 64-bit integer (saturating).
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
