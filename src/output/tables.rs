//! The tables' columns (handshakes, certificates, findings, incidents,
//! files), declared once each as a list of [`Spec`]s: order, names, types,
//! descriptions, and how each cell is taken from a row and put back. The
//! writers, the readers and `certsift schema` all follow these lists, kept
//! one column a line (hence `rustfmt::skip`).
//! DESIGN.md's minimum columns come first in each table.

use arrow_array::RecordBatch;

use super::columns::{read_into, Cell, Cols, Spec};
use crate::analysis::Kind;
use crate::error::Anomaly;
use crate::rows::{CertRow, FileRow, FindingRow, HandshakeRow, IncidentRow, Severity};
use crate::x509::TrustReason;

/// Version of the table layout; bumped when a column is renamed or retyped.
pub const SCHEMA_VERSION: &str = "1";

/// `col!(kind, "name", field, "description")`: a column holding the row's
/// `field` (a path such as `info.sha256`) as it is. `text`, `list` and
/// `bytes` are never null; `time`, `int32`, `int64` and `flag` write a
/// plain field and read a null back as its default; their `_opt` forms
/// hold an `Option` field, and `text_opt` an `Option<String>`.
macro_rules! col {
    (text, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Text(|r| &r.$($f).+, |r, v| r.$($f).+ = v.unwrap_or_default()) }
    };
    (text_opt, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::TextOpt(|r| r.$($f).+.as_deref(), |r, v| r.$($f).+ = v) }
    };
    (list, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::List(|r| &r.$($f).+, |r, v| r.$($f).+ = v) }
    };
    (bytes, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Bytes(|r| &r.$($f).+, |r, v| r.$($f).+ = v) }
    };
    ($kind:ident, $name:literal, $($f:ident).+, $desc:expr) => {
        col!(@plain $kind, $name, $($f).+, $desc)
    };
    (@plain time, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Time(|r| Some(r.$($f).+), |r, v| r.$($f).+ = v.unwrap_or_default()) }
    };
    (@plain int32, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Int32(|r| Some(r.$($f).+), |r, v| r.$($f).+ = v.unwrap_or_default()) }
    };
    (@plain int64, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Int64(|r| Some(r.$($f).+), |r, v| r.$($f).+ = v.unwrap_or_default()) }
    };
    (@plain flag, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Flag(|r| Some(r.$($f).+), |r, v| r.$($f).+ = v.unwrap_or_default()) }
    };
    (@plain time_opt, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Time(|r| r.$($f).+, |r, v| r.$($f).+ = v) }
    };
    (@plain int32_opt, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Int32(|r| r.$($f).+, |r, v| r.$($f).+ = v) }
    };
    (@plain int64_opt, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Int64(|r| r.$($f).+, |r, v| r.$($f).+ = v) }
    };
    (@plain flag_opt, $name:literal, $($f:ident).+, $desc:expr) => {
        Spec { name: $name, desc: $desc, cell: Cell::Flag(|r| r.$($f).+, |r, v| r.$($f).+ = v) }
    };
}

/// The `handshakes` columns: one row per connection in which TLS was seen.
#[rustfmt::skip]
const HANDSHAKES: &[Spec<HandshakeRow>] = &[
    col!(text, "flow_id", flow_id, "stable id of the TCP connection, unique across files and scans"),
    col!(text, "file", file, "capture file holding the connection's first packet"),
    col!(time, "ts_start", ts_start, "first packet of the connection (UTC)"),
    col!(time, "ts_end", ts_end, "last packet of the connection (UTC)"),
    col!(text, "client_ip", client_ip, "TLS client address"),
    col!(int32, "client_port", client_port, "TLS client port"),
    col!(text, "server_ip", server_ip, "TLS server address"),
    col!(int32, "server_port", server_port, "TLS server port"),
    col!(text_opt, "sni", sni, "server name from the ClientHello, null when absent"),
    col!(list, "alpn", alpn, "ALPN protocols the client offered"),
    col!(text_opt, "tls_version", tls_version, "negotiated version, e.g. \"TLS 1.2\""),
    col!(text_opt, "cipher_suite", cipher_suite, "negotiated cipher suite (IANA name)"),
    col!(text_opt, "ja3", fingerprints.ja3, "JA3 of the ClientHello (MD5 hex)"),
    col!(text_opt, "ja3s", fingerprints.ja3s, "JA3S of the ServerHello (MD5 hex)"),
    col!(text_opt, "ja4", fingerprints.ja4, "JA4 of the ClientHello (FoxIO)"),
    col!(list, "cert_chain_sha256", cert_chain_sha256, "SHA-256 of each server certificate as sent, leaf first; empty when not visible"),
    col!(text_opt, "leaf_sha256", leaf_sha256, "SHA-256 of the server's leaf certificate, null when not visible"),
    col!(text, "cert_visibility", cert_visibility, "plain, encrypted (TLS 1.3), decrypted (TLS 1.3 with a key log), absent or resumed"),
    // A code this build does not know is left out when read back.
    Spec {
        name: "anomalies",
        desc: "short codes of what was odd in the connection",
        cell: Cell::Codes(
            |r| r.anomalies.iter().map(|a| a.as_str()).collect(),
            |r, v| r.anomalies = v.iter().filter_map(|a| Anomaly::parse(a)).collect(),
        ),
    },
    // Tables written before QUIC support had only TCP connections.
    Spec {
        name: "transport",
        desc: "tcp, quic (TLS 1.3 in QUIC CRYPTO frames; Initial packets decrypted, RFC 9001) or \
         dtls (DTLS over UDP)",
        cell: Cell::Text(
            |r| &r.transport,
            |r, v| r.transport = v.unwrap_or_else(|| "tcp".into()),
        ),
    },
    col!(text_opt, "decryption", decryption, "key-log decryption of a TLS 1.3 flight: decrypted, no_keys, wrong_key or failed"),
    col!(text_opt, "alpn_selected", alpn_selected, "ALPN protocol the server selected"),
    col!(list, "offered_versions", offered_versions, "versions the client offered"),
    col!(list, "offered_cipher_suites", offered_cipher_suites, "cipher suites the client offered, in its order, GREASE left out"),
    col!(text_opt, "ja3_full", fingerprints.ja3_full, "JA3 string before hashing"),
    col!(text_opt, "ja3s_full", fingerprints.ja3s_full, "JA3S string before hashing"),
    col!(text_opt, "ja4_r", fingerprints.ja4_r, "JA4 raw form, before hashing"),
    col!(flag_opt, "chain_trusted", chain_trusted, "chain led to a trusted root at the connection's time; null when no chain was visible"),
    Spec {
        name: "trust_reason",
        desc: "why the chain was not trusted; on a trusted chain, root_removed_since when its \
         root was trusted then but has left Mozilla's store",
        cell: Cell::TextOpt(
            |r| r.trust_reason.map(TrustReason::as_str),
            |r, v| r.trust_reason = v.map(|t| TrustReason::parse_lenient(&t)),
        ),
    },
    col!(flag_opt, "root_public", root_public, "the trusted chain's root is one of Mozilla's (at any time), not one given only \
         with --trust-store; null when the chain was not trusted"),
    col!(flag_opt, "sni_matches_leaf", sni_matches_leaf, "SNI matches the leaf's names under RFC 6125; null without SNI or leaf"),
    col!(list, "client_chain_sha256", client_chain_sha256, "client certificate chain (mutual TLS), SHA-256 of each"),
    col!(list, "alerts", alerts, "TLS alerts as side:level:description"),
    col!(text_opt, "connect_target", connect_target, "host:port of the HTTP or SOCKS CONNECT that preceded TLS (explicit proxy)"),
    col!(int64, "server_flight_bytes", server_flight_bytes, "bytes of the server's handshake flight (encrypted in TLS 1.3)"),
    col!(int64, "client_bytes", client_bytes, "TCP payload bytes from client to server"),
    col!(int64, "server_bytes", server_bytes, "TCP payload bytes from server to client"),
    col!(int64, "app_bytes_client", app_bytes_client, "bytes of TLS records the client sent after its handshake (application data)"),
    col!(int64, "app_bytes_server", app_bytes_server, "bytes of TLS records the server sent after its handshake (application data)"),
    col!(int64, "packets", packets, "packets in both directions"),
    col!(int32_opt, "client_ttl", client_ttl, "IP TTL of the client's first packet"),
    col!(int32_opt, "server_ttl", server_ttl, "IP TTL of the server's first packet"),
    col!(text_opt, "ech_status", ech_status, "server's answer to an ECH offer as far as the capture shows: accepted (its \
         HelloRetryRequest confirmed ECH), rejected (decrypted retry_configs), ignored (TLS 1.2, \
         or the outer handshake decrypted without retry_configs) or unknown; null without ECH"),
    col!(text_opt, "ech_outer_sni", ech_outer_sni, "SNI of a ClientHello with ECH (the public name, or the real name under GREASE ECH); \
         not judged as the server's name once ECH is accepted; null without ECH"),
    col!(int32_opt, "ech_config_id", ech_config_id, "config_id of the ClientHello's ECH extension"),
    col!(int32_opt, "ech_kdf_id", ech_kdf_id, "HPKE KDF id of the ClientHello's ECH extension"),
    col!(int32_opt, "ech_aead_id", ech_aead_id, "HPKE AEAD id of the ClientHello's ECH extension"),
];

/// The `handshakes` columns over `rows`.
pub fn handshakes<'r>(rows: impl IntoIterator<Item = &'r HandshakeRow>) -> Cols<'r, HandshakeRow> {
    Cols::new(rows, HANDSHAKES)
}

/// Fills `out` (one slot per row) with the rows of a `handshakes` batch.
pub fn handshakes_into(batch: &RecordBatch, out: &mut [HandshakeRow]) {
    read_into(batch, out, HANDSHAKES);
}

/// The `certificates` columns: one row per distinct certificate.
#[rustfmt::skip]
const CERTIFICATES: &[Spec<CertRow>] = &[
    col!(text, "sha256", info.sha256, "SHA-256 of the certificate's DER (its id)"),
    col!(text, "spki_sha256", info.spki_sha256, "SHA-256 of the SubjectPublicKeyInfo, hex"),
    col!(text, "subject", info.subject, "subject distinguished name (RFC 4514)"),
    col!(text, "issuer", info.issuer, "issuer distinguished name (RFC 4514)"),
    col!(text, "serial", info.serial, "serial number, hex"),
    col!(time_opt, "not_before", info.not_before, "start of validity (UTC)"),
    col!(time_opt, "not_after", info.not_after, "end of validity (UTC)"),
    col!(list, "san_dns", info.san_dns, "DNS names of the subjectAltName extension"),
    col!(text, "key_algorithm", info.key_algorithm, "public key algorithm"),
    Spec {
        name: "key_bits",
        desc: "public key size in bits",
        cell: Cell::Int32(|r| int32_of(r.info.key_bits), |r, v| r.info.key_bits = uint32(v)),
    },
    col!(text, "signature_algorithm", info.signature_algorithm, "signature algorithm"),
    col!(flag, "is_ca", info.is_ca, "basic constraints CA flag"),
    col!(flag, "self_signed", info.self_signed, "subject equals issuer and the signature verifies with its own key"),
    col!(flag_opt, "trusted", trusted, "chain to a trusted root when first seen as a server leaf, at that connection's time; null for certificates never seen as a leaf"),
    col!(time, "first_seen", first_seen, "first connection that carried it (UTC)"),
    col!(time, "last_seen", last_seen, "last connection that carried it (UTC)"),
    col!(int64, "flow_count", flow_count, "connections that carried it"),
    col!(text, "sha1", info.sha1, "SHA-1 of the DER (thumbprint)"),
    col!(text, "spki_pin", info.spki_pin, "SPKI SHA-256 as a base64 pin"),
    col!(text_opt, "subject_cn", info.subject_cn, "subject common name"),
    col!(text_opt, "issuer_cn", info.issuer_cn, "issuer common name"),
    col!(list, "san_ip", info.san_ip, "IP addresses of the subjectAltName extension"),
    col!(text_opt, "curve", info.curve, "named curve of an EC key"),
    Spec {
        name: "path_len",
        desc: "basic constraints path length",
        cell: Cell::Int32(|r| int32_of(r.info.path_len), |r, v| r.info.path_len = uint32(v)),
    },
    col!(list, "key_usage", info.key_usage, "key usage bits"),
    col!(list, "ext_key_usage", info.ext_key_usage, "extended key usages"),
    col!(text_opt, "authority_key_id", info.authority_key_id, "authority key identifier, hex"),
    col!(text_opt, "subject_key_id", info.subject_key_id, "subject key identifier, hex"),
    col!(flag, "has_ocsp", info.has_ocsp, "has an OCSP responder address"),
    col!(flag, "has_crl", info.has_crl, "has CRL distribution points"),
    col!(flag, "has_sct", info.has_sct, "carries embedded SCTs (Certificate Transparency)"),
    Spec {
        name: "validation_reason",
        desc: "why the chain it first came in was not trusted",
        cell: Cell::TextOpt(
            |r| r.validation_reason.map(TrustReason::as_str),
            |r, v| r.validation_reason = v.map(|t| TrustReason::parse_lenient(&t)),
        ),
    },
    col!(text_opt, "parse_error", info.parse_error, "why the DER could not be parsed"),
    col!(bytes, "der", der, "the certificate, DER"),
];

/// The `certificates` columns over `rows`.
pub fn certificates<'r>(rows: impl IntoIterator<Item = &'r CertRow>) -> Cols<'r, CertRow> {
    Cols::new(rows, CERTIFICATES)
}

/// Fills `out` (one slot per row) with the rows of a `certificates` batch.
pub fn certificates_into(batch: &RecordBatch, out: &mut [CertRow]) {
    read_into(batch, out, CERTIFICATES);
}

/// The `findings` columns: one row per finding.
#[rustfmt::skip]
const FINDINGS: &[Spec<FindingRow>] = &[
    col!(text, "finding_id", finding_id, "stable id of the finding"),
    Spec {
        name: "kind",
        desc: "what was found, e.g. issuer_divergence",
        cell: Cell::Text(
            |r| r.kind.as_str(),
            |r, v| r.kind = v.map(|k| Kind::parse_lenient(&k)).unwrap_or_default(),
        ),
    },
    Spec {
        name: "severity",
        desc: "info, low, medium or high; medium and high are interception evidence",
        cell: Cell::Text(
            |r| r.severity.as_str(),
            |r, v| r.severity = v.map(|s| Severity::parse_lenient(&s)).unwrap_or_default(),
        ),
    },
    col!(text_opt, "sni", sni, "the server name; null when the finding spans names"),
    col!(list, "names", names, "every server name involved"),
    col!(text, "summary", summary, "one sentence a responder can act on"),
    col!(list, "flow_ids", flow_ids, "connections that are evidence (handshakes.flow_id)"),
    col!(list, "cert_sha256", cert_sha256, "certificates that are evidence (certificates.sha256)"),
    col!(list, "clients", clients, "client addresses involved"),
    col!(time, "first_seen", first_seen, "first evidence (UTC)"),
    col!(time, "last_seen", last_seen, "last evidence (UTC)"),
    col!(list, "issuers", issuers, "issuers involved"),
    col!(list, "accused_sha256", accused_sha256, "the leaves a medium or high finding accuses (a subset of cert_sha256); \
             empty for low and info findings and for TLS 1.3 shapes"),
];

/// The `findings` columns over `rows`.
pub fn findings<'r>(rows: impl IntoIterator<Item = &'r FindingRow>) -> Cols<'r, FindingRow> {
    Cols::new(rows, FINDINGS)
}

/// Fills `out` (one slot per row) with the rows of a `findings` batch.
pub fn findings_into(batch: &RecordBatch, out: &mut [FindingRow]) {
    read_into(batch, out, FINDINGS);
}

/// The `incidents` columns: one row per interception incident.
#[rustfmt::skip]
const INCIDENTS: &[Spec<IncidentRow>] = &[
    col!(text, "incident_id", incident_id, "stable id of the incident, a hash of the interceptor's identity"),
    Spec {
        name: "severity",
        desc: "the highest severity of its findings: medium or high",
        cell: Cell::Text(
            |r| r.severity.as_str(),
            |r, v| r.severity = v.map(|s| Severity::parse_lenient(&s)).unwrap_or_default(),
        ),
    },
    col!(text, "verdict", verdict, "intercepted (a client accepted the interceptor's certificate and sent data), \
         attempted_refused (every client refused it), or suspected (medium evidence only, \
         certificates not visible, or no connection went on)"),
    col!(text, "interceptor", interceptor, "the interceptor in a few words: issuer, product, place on the path"),
    col!(text_opt, "interceptor_issuer", interceptor_issuer, "issuer DN of most of its certificates; null when none was visible"),
    col!(text_opt, "interceptor_key_sha256", interceptor_key_sha256, "SPKI SHA-256 of the issuing CA's key (certificates.spki_sha256); null when the \
         CA certificate was neither sent nor seen"),
    col!(text_opt, "interceptor_product", interceptor_product, "the known TLS-inspection product its issuer or chain matches"),
    col!(list, "interceptor_path", interceptor_path, "how it sat on the path, when known: CONNECT proxy, server TTL, client subnet"),
    col!(list, "names", names, "server names it answered for"),
    col!(list, "clients", clients, "client addresses it answered"),
    col!(time, "first_seen", first_seen, "first connection it answered (UTC)"),
    col!(time, "last_seen", last_seen, "last connection it answered (UTC)"),
    col!(int64, "connections", connections, "connections it answered"),
    col!(int64, "accepted_connections", accepted_connections, "of those, connections whose client went on with application data"),
    col!(int64, "refused_connections", refused_connections, "of those, connections whose client ended with a fatal alert"),
    col!(int64, "bytes_to_server", bytes_to_server, "application bytes the accepting clients sent through it"),
    col!(int64, "bytes_to_client", bytes_to_client, "application bytes it sent the accepting clients"),
    col!(list, "finding_ids", finding_ids, "its medium and high findings (findings.finding_id)"),
    col!(text, "summary", summary, "one sentence a responder reads first"),
    col!(list, "issuers", issuers, "every issuer DN of its certificates"),
    col!(list, "cert_sha256", cert_sha256, "the leaf certificates it presented (certificates.sha256, handshakes.leaf_sha256)"),
    col!(flag, "bytes_estimated", bytes_estimated, "the byte counts are estimates (tables without application-data counts)"),
];

/// The `incidents` columns over `rows`.
pub fn incidents<'r>(rows: impl IntoIterator<Item = &'r IncidentRow>) -> Cols<'r, IncidentRow> {
    Cols::new(rows, INCIDENTS)
}

/// Fills `out` (one slot per row) with the rows of a `incidents` batch.
pub fn incidents_into(batch: &RecordBatch, out: &mut [IncidentRow]) {
    read_into(batch, out, INCIDENTS);
}

/// The `files` columns: one row per input file.
#[rustfmt::skip]
const FILES: &[Spec<FileRow>] = &[
    col!(text, "file", file, "input path as given or found in a folder"),
    col!(text_opt, "format", format, "pcap, pcap-ns, pcap-be, pcap-be-ns or pcapng"),
    col!(text_opt, "compression", compression, "none, gzip or zstd"),
    col!(int64, "size_bytes", size_bytes, "size on disk"),
    col!(text, "status", status, "ok, damaged, not_a_capture, empty or unreadable"),
    col!(text_opt, "error", error, "what went wrong, with the byte offset"),
    col!(int64_opt, "damage_offset", damage_offset, "byte offset of the damage in the (decompressed) stream"),
    col!(int64, "packets", packets, "packet records read"),
    col!(int64, "captured_bytes", captured_bytes, "captured bytes of those packets"),
    col!(time_opt, "first_ts", first_ts, "first packet (UTC)"),
    col!(time_opt, "last_ts", last_ts, "last packet (UTC)"),
    col!(list, "link_types", link_types, "link types seen: number and name"),
    col!(int64, "tcp_segments", tcp_segments, "TCP segments decoded"),
    col!(int64, "udp_datagrams", udp_datagrams, "UDP datagrams decoded"),
    col!(int64, "ip_fragments", ip_fragments, "IP fragments given to reassembly"),
    col!(int64, "skipped_unsupported_link", skipped_unsupported_link, "packets skipped: link type not decoded"),
    col!(int64, "skipped_not_ip", skipped_not_ip, "packets skipped: not IP (ARP, LLDP...)"),
    col!(int64, "skipped_truncated", skipped_truncated, "packets skipped: headers cut short by the snap length"),
    col!(int64, "skipped_bad_header", skipped_bad_header, "packets skipped: malformed IP or TCP header"),
    col!(int64, "skipped_other_protocol", skipped_other_protocol, "packets skipped: another IP protocol (ICMP, ESP...)"),
    col!(int64, "skipped_too_deep", skipped_too_deep, "packets skipped: too many nested encapsulations"),
    col!(int64, "flows_evicted", flows_evicted, "connections finished early because the flow table was full (--max-flows); each carries the anomaly flow_evicted"),
];

/// The `files` columns over `rows`.
pub fn files<'r>(rows: impl IntoIterator<Item = &'r FileRow>) -> Cols<'r, FileRow> {
    Cols::new(rows, FILES)
}

/// Fills `out` (one slot per row) with the rows of a `files` batch.
pub fn files_into(batch: &RecordBatch, out: &mut [FileRow]) {
    read_into(batch, out, FILES);
}

/// A count the parsed certificate keeps unsigned, as the table's `Int32`
/// (a value beyond it is written as null).
fn int32_of(v: Option<u32>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

/// A table's `Int32` read back as the parsed certificate's unsigned count
/// (a negative value, which certsift never writes, reads as null).
fn uint32(v: Option<i32>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tls::Fingerprints;
    use crate::x509::CertInfo;

    fn s(v: &str) -> Option<String> {
        Some(v.into())
    }

    fn l(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// Writes `rows` by `specs`, reads them back, and checks that nothing
    /// was lost: every column's setter puts back what its getter took out.
    fn round_trip<R: Default + Clone + PartialEq + std::fmt::Debug>(rows: &[R], specs: &[Spec<R>]) {
        let batch = Cols::new(rows, specs).batch().unwrap();
        let mut back = vec![R::default(); rows.len()];
        read_into(&batch, &mut back, specs);
        assert_eq!(back, rows);
    }

    fn full_handshake() -> HandshakeRow {
        HandshakeRow {
            flow_id: "f1".into(),
            file: "a.pcap".into(),
            ts_start: 1,
            ts_end: 2,
            client_ip: "192.0.2.1".into(),
            client_port: 40000,
            server_ip: "203.0.113.1".into(),
            server_port: 443,
            sni: s("a.test"),
            alpn: l(&["h2", "http/1.1"]),
            alpn_selected: s("h2"),
            tls_version: s("TLS 1.3"),
            offered_versions: l(&["TLS 1.3", "TLS 1.2"]),
            cipher_suite: s("TLS_AES_128_GCM_SHA256"),
            offered_cipher_suites: l(&["TLS_AES_128_GCM_SHA256"]),
            fingerprints: Fingerprints {
                ja3: s("j3"),
                ja3_full: s("771,4865"),
                ja3s: s("j3s"),
                ja3s_full: s("771,4865,43"),
                ja4: s("t13d"),
                ja4_r: s("t13d_r"),
            },
            cert_chain_sha256: l(&["aa", "bb"]),
            leaf_sha256: s("aa"),
            cert_visibility: "plain".into(),
            decryption: s("decrypted"),
            chain_trusted: Some(false),
            trust_reason: Some(TrustReason::NotYetValid),
            root_public: Some(true),
            sni_matches_leaf: Some(false),
            client_chain_sha256: l(&["cc"]),
            alerts: l(&["client:fatal:unknown_ca"]),
            connect_target: s("a.test:443"),
            server_flight_bytes: 3,
            client_bytes: 4,
            app_bytes_client: 5,
            app_bytes_server: 6,
            server_bytes: 7,
            packets: 8,
            client_ttl: Some(64),
            server_ttl: Some(57),
            anomalies: vec![Anomaly::ChainUnordered, Anomaly::TcpGap],
            transport: "quic".into(),
            ech_status: s("accepted"),
            ech_outer_sni: s("public.test"),
            ech_config_id: Some(1),
            ech_kdf_id: Some(2),
            ech_aead_id: Some(3),
        }
    }

    #[test]
    fn every_handshake_column_reads_back_what_was_written() {
        let rows = [full_handshake(), HandshakeRow::default()];
        round_trip(&rows, HANDSHAKES);
    }

    #[test]
    fn every_certificate_column_reads_back_what_was_written() {
        let full = CertRow {
            info: CertInfo {
                sha256: "aa".into(),
                sha1: "a1".into(),
                spki_sha256: "kk".into(),
                spki_pin: "pin=".into(),
                subject: "CN=a.test".into(),
                issuer: "CN=CA".into(),
                subject_cn: s("a.test"),
                issuer_cn: s("CA"),
                serial: "01".into(),
                not_before: Some(10),
                not_after: Some(20),
                san_dns: l(&["a.test"]),
                san_ip: l(&["192.0.2.1"]),
                key_algorithm: "EC".into(),
                key_bits: Some(256),
                curve: s("P-256"),
                signature_algorithm: "ecdsa-with-SHA256".into(),
                is_ca: true,
                path_len: Some(0),
                self_signed: true,
                key_usage: l(&["keyCertSign"]),
                ext_key_usage: l(&["serverAuth"]),
                authority_key_id: s("ab"),
                subject_key_id: s("cd"),
                has_ocsp: true,
                has_crl: true,
                has_sct: true,
                parse_error: s("3 bytes after the certificate"),
                // Not columns: a row read back leaves them at their defaults.
                weak_signature: false,
                version: 0,
            },
            trusted: Some(false),
            validation_reason: Some(TrustReason::UnknownIssuer),
            first_seen: 1,
            last_seen: 2,
            flow_count: 3,
            der: vec![0x30, 0x03],
        };
        round_trip(&[full, CertRow::default()], CERTIFICATES);
    }

    /// An incident with every field set (also read back by the scan
    /// round trips of `output`).
    pub(crate) fn full_incident() -> IncidentRow {
        IncidentRow {
            incident_id: "i".into(),
            severity: Severity::Medium,
            verdict: "suspected".into(),
            interceptor: "CN=CA".into(),
            interceptor_issuer: s("CN=CA"),
            interceptor_key_sha256: s("kk"),
            interceptor_product: s("mitmproxy"),
            interceptor_path: l(&["explicit proxy"]),
            issuers: l(&["CN=CA"]),
            cert_sha256: l(&["aa"]),
            names: l(&["a.test"]),
            clients: l(&["192.0.2.1"]),
            first_seen: 1,
            last_seen: 2,
            connections: 3,
            accepted_connections: 2,
            refused_connections: 1,
            bytes_to_server: 10,
            bytes_to_client: 20,
            bytes_estimated: true,
            finding_ids: l(&["x"]),
            summary: "one sentence".into(),
        }
    }

    #[test]
    fn every_finding_incident_and_file_column_reads_back_what_was_written() {
        let finding = FindingRow {
            finding_id: "x".into(),
            kind: Kind::IssuerDivergence,
            severity: Severity::High,
            sni: s("a.test"),
            names: l(&["a.test"]),
            summary: "one sentence".into(),
            flow_ids: l(&["f1"]),
            cert_sha256: l(&["aa"]),
            clients: l(&["192.0.2.1"]),
            issuers: l(&["CN=CA"]),
            first_seen: 1,
            last_seen: 2,
            accused_sha256: l(&["aa"]),
        };
        round_trip(&[finding, FindingRow::default()], FINDINGS);
        let incident = full_incident();
        round_trip(&[incident, IncidentRow::default()], INCIDENTS);
        let file = FileRow {
            file: "a.pcap".into(),
            format: s("pcapng"),
            compression: s("gzip"),
            size_bytes: 1,
            status: "damaged".into(),
            error: s("cut"),
            damage_offset: Some(2),
            packets: 3,
            captured_bytes: 4,
            first_ts: Some(5),
            last_ts: Some(6),
            link_types: l(&["1 EN10MB"]),
            tcp_segments: 7,
            udp_datagrams: 8,
            ip_fragments: 9,
            skipped_unsupported_link: 10,
            skipped_not_ip: 11,
            skipped_truncated: 12,
            skipped_bad_header: 13,
            skipped_other_protocol: 14,
            skipped_too_deep: 15,
            flows_evicted: 16,
        };
        round_trip(&[file, FileRow::default()], FILES);
    }

    /// A table written before a column existed reads it as "not known":
    /// null, empty, or (for `transport`) the TCP that was all there was.
    #[test]
    fn missing_columns_read_as_their_defaults() {
        let batch = handshakes(&[full_handshake()]).batch().unwrap();
        let keep: Vec<usize> = ["flow_id", "ts_start"]
            .iter()
            .map(|n| batch.schema().index_of(n).unwrap())
            .collect();
        let old = batch.project(&keep).unwrap();
        let mut back = vec![HandshakeRow::default()];
        handshakes_into(&old, &mut back);
        let want = HandshakeRow {
            flow_id: "f1".into(),
            ts_start: 1,
            transport: "tcp".into(),
            ..HandshakeRow::default()
        };
        assert_eq!(back, [want]);
    }
}
