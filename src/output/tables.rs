//! The three tables' columns, declared once: order, names, types and
//! descriptions. DESIGN.md's minimum columns come first in each table.

use arrow_array::RecordBatch;

use super::columns::{Cells, Cols};
use crate::rows::{CertRow, FileRow, FindingRow, HandshakeRow};

/// Version of the table layout; bumped when a column is renamed or retyped.
pub const SCHEMA_VERSION: &str = "1";

/// The `handshakes` columns over `rows`.
pub fn handshakes(rows: &[HandshakeRow]) -> Cols<'_, HandshakeRow> {
    let mut c = Cols::new(rows);
    c.text(
        "flow_id",
        "stable id of the TCP connection, unique across files and scans",
        |r| &r.flow_id,
    )
    .text(
        "file",
        "capture file holding the connection's first packet",
        |r| &r.file,
    )
    .time("ts_start", "first packet of the connection (UTC)", |r| {
        Some(r.ts_start)
    })
    .time("ts_end", "last packet of the connection (UTC)", |r| {
        Some(r.ts_end)
    })
    .text("client_ip", "TLS client address", |r| &r.client_ip)
    .int32("client_port", "TLS client port", |r| Some(r.client_port))
    .text("server_ip", "TLS server address", |r| &r.server_ip)
    .int32("server_port", "TLS server port", |r| Some(r.server_port))
    .text_opt(
        "sni",
        "server name from the ClientHello, null when absent",
        |r| r.sni.as_deref(),
    )
    .list("alpn", "ALPN protocols the client offered", |r| &r.alpn)
    .text_opt("tls_version", "negotiated version, e.g. \"TLS 1.2\"", |r| {
        r.tls_version.as_deref()
    })
    .text_opt("cipher_suite", "negotiated cipher suite (IANA name)", |r| {
        r.cipher_suite.as_deref()
    })
    .text_opt("ja3", "JA3 of the ClientHello (MD5 hex)", |r| {
        r.ja3.as_deref()
    })
    .text_opt("ja3s", "JA3S of the ServerHello (MD5 hex)", |r| {
        r.ja3s.as_deref()
    })
    .text_opt("ja4", "JA4 of the ClientHello (FoxIO)", |r| {
        r.ja4.as_deref()
    })
    .list(
        "cert_chain_sha256",
        "SHA-256 of each server certificate as sent, leaf first; empty when not visible",
        |r| &r.cert_chain_sha256,
    )
    .text_opt(
        "leaf_sha256",
        "SHA-256 of the server's leaf certificate, null when not visible",
        |r| r.leaf_sha256.as_deref(),
    )
    .text(
        "cert_visibility",
        "plain, encrypted (TLS 1.3), decrypted (TLS 1.3 with a key log), absent or resumed",
        |r| &r.cert_visibility,
    )
    .list(
        "anomalies",
        "short codes of what was odd in the connection",
        |r| &r.anomalies,
    )
    .text(
        "transport",
        "tcp, or quic (TLS 1.3 in QUIC CRYPTO frames; Initial packets decrypted, RFC 9001)",
        |r| &r.transport,
    )
    .text_opt(
        "decryption",
        "key-log decryption of a TLS 1.3 flight: decrypted, no_keys, wrong_key or failed",
        |r| r.decryption.as_deref(),
    )
    .text_opt("alpn_selected", "ALPN protocol the server selected", |r| {
        r.alpn_selected.as_deref()
    })
    .list("offered_versions", "versions the client offered", |r| {
        &r.offered_versions
    })
    .list(
        "offered_cipher_suites",
        "cipher suites the client offered, in its order, GREASE left out",
        |r| &r.offered_cipher_suites,
    )
    .text_opt("ja3_full", "JA3 string before hashing", |r| {
        r.ja3_full.as_deref()
    })
    .text_opt("ja3s_full", "JA3S string before hashing", |r| {
        r.ja3s_full.as_deref()
    })
    .text_opt("ja4_r", "JA4 raw form, before hashing", |r| {
        r.ja4_r.as_deref()
    })
    .flag(
        "chain_trusted",
        "chain led to a trusted root at the connection's time; null when no chain was visible",
        |r| r.chain_trusted,
    )
    .text_opt("trust_reason", "why the chain was not trusted", |r| {
        r.trust_reason.as_deref()
    })
    .flag(
        "sni_matches_leaf",
        "SNI matches the leaf's names under RFC 6125; null without SNI or leaf",
        |r| r.sni_matches_leaf,
    )
    .list(
        "client_chain_sha256",
        "client certificate chain (mutual TLS), SHA-256 of each",
        |r| &r.client_chain_sha256,
    )
    .list("alerts", "TLS alerts as side:level:description", |r| {
        &r.alerts
    })
    .text_opt(
        "connect_target",
        "host:port of the HTTP CONNECT that preceded TLS (explicit proxy)",
        |r| r.connect_target.as_deref(),
    )
    .int64(
        "server_flight_bytes",
        "bytes of the server's handshake flight (encrypted in TLS 1.3)",
        |r| Some(r.server_flight_bytes),
    )
    .int64(
        "client_bytes",
        "TCP payload bytes from client to server",
        |r| Some(r.client_bytes),
    )
    .int64(
        "server_bytes",
        "TCP payload bytes from server to client",
        |r| Some(r.server_bytes),
    )
    .int64(
        "app_bytes_client",
        "bytes of TLS records the client sent after its handshake (application data)",
        |r| Some(r.app_bytes_client),
    )
    .int64(
        "app_bytes_server",
        "bytes of TLS records the server sent after its handshake (application data)",
        |r| Some(r.app_bytes_server),
    )
    .int64("packets", "packets in both directions", |r| Some(r.packets))
    .int32("client_ttl", "IP TTL of the client's first packet", |r| {
        r.client_ttl
    })
    .int32("server_ttl", "IP TTL of the server's first packet", |r| {
        r.server_ttl
    });
    c
}

/// Rows of a `handshakes` batch.
pub fn handshakes_from(batch: &RecordBatch) -> Vec<HandshakeRow> {
    let c = Cells::new(batch);
    (0..c.len())
        .map(|i| HandshakeRow {
            flow_id: c.text("flow_id", i).unwrap_or_default(),
            file: c.text("file", i).unwrap_or_default(),
            ts_start: c.int("ts_start", i).unwrap_or_default(),
            ts_end: c.int("ts_end", i).unwrap_or_default(),
            client_ip: c.text("client_ip", i).unwrap_or_default(),
            client_port: int32(c.int("client_port", i)).unwrap_or_default(),
            server_ip: c.text("server_ip", i).unwrap_or_default(),
            server_port: int32(c.int("server_port", i)).unwrap_or_default(),
            sni: c.text("sni", i),
            alpn: c.list("alpn", i),
            alpn_selected: c.text("alpn_selected", i),
            tls_version: c.text("tls_version", i),
            offered_versions: c.list("offered_versions", i),
            cipher_suite: c.text("cipher_suite", i),
            offered_cipher_suites: c.list("offered_cipher_suites", i),
            ja3: c.text("ja3", i),
            ja3_full: c.text("ja3_full", i),
            ja3s: c.text("ja3s", i),
            ja3s_full: c.text("ja3s_full", i),
            ja4: c.text("ja4", i),
            ja4_r: c.text("ja4_r", i),
            cert_chain_sha256: c.list("cert_chain_sha256", i),
            leaf_sha256: c.text("leaf_sha256", i),
            cert_visibility: c.text("cert_visibility", i).unwrap_or_default(),
            decryption: c.text("decryption", i),
            // Tables written before QUIC support had only TCP connections.
            transport: c.text("transport", i).unwrap_or_else(|| "tcp".into()),
            chain_trusted: c.flag("chain_trusted", i),
            trust_reason: c.text("trust_reason", i),
            sni_matches_leaf: c.flag("sni_matches_leaf", i),
            client_chain_sha256: c.list("client_chain_sha256", i),
            alerts: c.list("alerts", i),
            connect_target: c.text("connect_target", i),
            server_flight_bytes: c.int("server_flight_bytes", i).unwrap_or_default(),
            client_bytes: c.int("client_bytes", i).unwrap_or_default(),
            server_bytes: c.int("server_bytes", i).unwrap_or_default(),
            app_bytes_client: c.int("app_bytes_client", i).unwrap_or_default(),
            app_bytes_server: c.int("app_bytes_server", i).unwrap_or_default(),
            packets: c.int("packets", i).unwrap_or_default(),
            client_ttl: int32(c.int("client_ttl", i)),
            server_ttl: int32(c.int("server_ttl", i)),
            anomalies: c.list("anomalies", i),
        })
        .collect()
}

/// The `certificates` columns over `rows`.
pub fn certificates(rows: &[CertRow]) -> Cols<'_, CertRow> {
    let mut c = Cols::new(rows);
    c.text("sha256", "SHA-256 of the certificate's DER (its id)", |r| &r.sha256)
        .text("spki_sha256", "SHA-256 of the SubjectPublicKeyInfo, hex", |r| &r.spki_sha256)
        .text("subject", "subject distinguished name (RFC 4514)", |r| &r.subject)
        .text("issuer", "issuer distinguished name (RFC 4514)", |r| &r.issuer)
        .text("serial", "serial number, hex", |r| &r.serial)
        .time("not_before", "start of validity (UTC)", |r| r.not_before)
        .time("not_after", "end of validity (UTC)", |r| r.not_after)
        .list("san_dns", "DNS names of the subjectAltName extension", |r| &r.san_dns)
        .text("key_algorithm", "public key algorithm", |r| &r.key_algorithm)
        .int32("key_bits", "public key size in bits", |r| r.key_bits)
        .text("signature_algorithm", "signature algorithm", |r| &r.signature_algorithm)
        .flag("is_ca", "basic constraints CA flag", |r| Some(r.is_ca))
        .flag("self_signed", "subject equals issuer and the signature verifies with its own key", |r| Some(r.self_signed))
        .flag("trusted", "chain to a trusted root when first seen as a server leaf, at that connection's time; null for certificates never seen as a leaf", |r| r.trusted)
        .time("first_seen", "first connection that carried it (UTC)", |r| Some(r.first_seen))
        .time("last_seen", "last connection that carried it (UTC)", |r| Some(r.last_seen))
        .int64("flow_count", "connections that carried it", |r| Some(r.flow_count))
        .text("sha1", "SHA-1 of the DER (thumbprint)", |r| &r.sha1)
        .text("spki_pin", "SPKI SHA-256 as a base64 pin", |r| &r.spki_pin)
        .text_opt("subject_cn", "subject common name", |r| r.subject_cn.as_deref())
        .text_opt("issuer_cn", "issuer common name", |r| r.issuer_cn.as_deref())
        .list("san_ip", "IP addresses of the subjectAltName extension", |r| &r.san_ip)
        .text_opt("curve", "named curve of an EC key", |r| r.curve.as_deref())
        .int32("path_len", "basic constraints path length", |r| r.path_len)
        .list("key_usage", "key usage bits", |r| &r.key_usage)
        .list("ext_key_usage", "extended key usages", |r| &r.ext_key_usage)
        .text_opt("authority_key_id", "authority key identifier, hex", |r| r.authority_key_id.as_deref())
        .text_opt("subject_key_id", "subject key identifier, hex", |r| r.subject_key_id.as_deref())
        .flag("has_ocsp", "has an OCSP responder address", |r| Some(r.has_ocsp))
        .flag("has_crl", "has CRL distribution points", |r| Some(r.has_crl))
        .flag("has_sct", "carries embedded SCTs (Certificate Transparency)", |r| Some(r.has_sct))
        .text_opt("validation_reason", "why the chain it first came in was not trusted", |r| r.validation_reason.as_deref())
        .text_opt("parse_error", "why the DER could not be parsed", |r| r.parse_error.as_deref())
        .bytes("der", "the certificate, DER", |r| &r.der);
    c
}

/// Rows of a `certificates` batch.
pub fn certificates_from(batch: &RecordBatch) -> Vec<CertRow> {
    let c = Cells::new(batch);
    (0..c.len())
        .map(|i| CertRow {
            sha256: c.text("sha256", i).unwrap_or_default(),
            sha1: c.text("sha1", i).unwrap_or_default(),
            spki_sha256: c.text("spki_sha256", i).unwrap_or_default(),
            spki_pin: c.text("spki_pin", i).unwrap_or_default(),
            subject: c.text("subject", i).unwrap_or_default(),
            issuer: c.text("issuer", i).unwrap_or_default(),
            subject_cn: c.text("subject_cn", i),
            issuer_cn: c.text("issuer_cn", i),
            serial: c.text("serial", i).unwrap_or_default(),
            not_before: c.int("not_before", i),
            not_after: c.int("not_after", i),
            san_dns: c.list("san_dns", i),
            san_ip: c.list("san_ip", i),
            key_algorithm: c.text("key_algorithm", i).unwrap_or_default(),
            key_bits: int32(c.int("key_bits", i)),
            curve: c.text("curve", i),
            signature_algorithm: c.text("signature_algorithm", i).unwrap_or_default(),
            is_ca: c.flag("is_ca", i).unwrap_or_default(),
            path_len: int32(c.int("path_len", i)),
            self_signed: c.flag("self_signed", i).unwrap_or_default(),
            key_usage: c.list("key_usage", i),
            ext_key_usage: c.list("ext_key_usage", i),
            authority_key_id: c.text("authority_key_id", i),
            subject_key_id: c.text("subject_key_id", i),
            has_ocsp: c.flag("has_ocsp", i).unwrap_or_default(),
            has_crl: c.flag("has_crl", i).unwrap_or_default(),
            has_sct: c.flag("has_sct", i).unwrap_or_default(),
            trusted: c.flag("trusted", i),
            validation_reason: c.text("validation_reason", i),
            first_seen: c.int("first_seen", i).unwrap_or_default(),
            last_seen: c.int("last_seen", i).unwrap_or_default(),
            flow_count: c.int("flow_count", i).unwrap_or_default(),
            parse_error: c.text("parse_error", i),
            der: c.bytes("der", i),
        })
        .collect()
}

/// The `findings` columns over `rows`.
pub fn findings(rows: &[FindingRow]) -> Cols<'_, FindingRow> {
    let mut c = Cols::new(rows);
    c.text("finding_id", "stable id of the finding", |r| &r.finding_id)
        .text("kind", "what was found, e.g. issuer_divergence", |r| {
            &r.kind
        })
        .text(
            "severity",
            "info, low, medium or high; medium and high are interception evidence",
            |r| &r.severity,
        )
        .text_opt(
            "sni",
            "the server name; null when the finding spans names",
            |r| r.sni.as_deref(),
        )
        .list("names", "every server name involved", |r| &r.names)
        .text("summary", "one sentence a responder can act on", |r| {
            &r.summary
        })
        .list(
            "flow_ids",
            "connections that are evidence (handshakes.flow_id)",
            |r| &r.flow_ids,
        )
        .list(
            "cert_sha256",
            "certificates that are evidence (certificates.sha256)",
            |r| &r.cert_sha256,
        )
        .list("clients", "client addresses involved", |r| &r.clients)
        .time("first_seen", "first evidence (UTC)", |r| Some(r.first_seen))
        .time("last_seen", "last evidence (UTC)", |r| Some(r.last_seen))
        .list("issuers", "issuers involved", |r| &r.issuers);
    c
}

/// Rows of a `findings` batch.
pub fn findings_from(batch: &RecordBatch) -> Vec<FindingRow> {
    let c = Cells::new(batch);
    (0..c.len())
        .map(|i| FindingRow {
            finding_id: c.text("finding_id", i).unwrap_or_default(),
            kind: c.text("kind", i).unwrap_or_default(),
            severity: c.text("severity", i).unwrap_or_default(),
            sni: c.text("sni", i),
            names: c.list("names", i),
            summary: c.text("summary", i).unwrap_or_default(),
            flow_ids: c.list("flow_ids", i),
            cert_sha256: c.list("cert_sha256", i),
            clients: c.list("clients", i),
            issuers: c.list("issuers", i),
            first_seen: c.int("first_seen", i).unwrap_or_default(),
            last_seen: c.int("last_seen", i).unwrap_or_default(),
        })
        .collect()
}

/// The `files` columns over `rows`.
pub fn files(rows: &[FileRow]) -> Cols<'_, FileRow> {
    let mut c = Cols::new(rows);
    c.text("file", "input path as given or found in a folder", |r| {
        &r.file
    })
    .text_opt(
        "format",
        "pcap, pcap-ns, pcap-be, pcap-be-ns or pcapng",
        |r| r.format.as_deref(),
    )
    .text_opt("compression", "none, gzip or zstd", |r| {
        r.compression.as_deref()
    })
    .int64("size_bytes", "size on disk", |r| Some(r.size_bytes))
    .text(
        "status",
        "ok, damaged, not_a_capture, empty or unreadable",
        |r| &r.status,
    )
    .text_opt("error", "what went wrong, with the byte offset", |r| {
        r.error.as_deref()
    })
    .int64(
        "damage_offset",
        "byte offset of the damage in the (decompressed) stream",
        |r| r.damage_offset,
    )
    .int64("packets", "packet records read", |r| Some(r.packets))
    .int64("captured_bytes", "captured bytes of those packets", |r| {
        Some(r.captured_bytes)
    })
    .time("first_ts", "first packet (UTC)", |r| r.first_ts)
    .time("last_ts", "last packet (UTC)", |r| r.last_ts)
    .list("link_types", "link types seen: number and name", |r| {
        &r.link_types
    })
    .int64("tcp_segments", "TCP segments decoded", |r| {
        Some(r.tcp_segments)
    })
    .int64("udp_datagrams", "UDP datagrams decoded", |r| {
        Some(r.udp_datagrams)
    })
    .int64("ip_fragments", "IP fragments given to reassembly", |r| {
        Some(r.ip_fragments)
    })
    .int64(
        "skipped_unsupported_link",
        "packets skipped: link type not decoded",
        |r| Some(r.skipped_unsupported_link),
    )
    .int64(
        "skipped_not_ip",
        "packets skipped: not IP (ARP, LLDP...)",
        |r| Some(r.skipped_not_ip),
    )
    .int64(
        "skipped_truncated",
        "packets skipped: headers cut short by the snap length",
        |r| Some(r.skipped_truncated),
    )
    .int64(
        "skipped_bad_header",
        "packets skipped: malformed IP or TCP header",
        |r| Some(r.skipped_bad_header),
    )
    .int64(
        "skipped_other_protocol",
        "packets skipped: another IP protocol (ICMP, ESP...)",
        |r| Some(r.skipped_other_protocol),
    )
    .int64(
        "skipped_too_deep",
        "packets skipped: too many nested encapsulations",
        |r| Some(r.skipped_too_deep),
    );
    c
}

/// Rows of a `files` batch.
pub fn files_from(batch: &RecordBatch) -> Vec<FileRow> {
    let c = Cells::new(batch);
    let n = |name: &str, i: usize| c.int(name, i).unwrap_or_default();
    (0..c.len())
        .map(|i| FileRow {
            file: c.text("file", i).unwrap_or_default(),
            format: c.text("format", i),
            compression: c.text("compression", i),
            size_bytes: n("size_bytes", i),
            status: c.text("status", i).unwrap_or_default(),
            error: c.text("error", i),
            damage_offset: c.int("damage_offset", i),
            packets: n("packets", i),
            captured_bytes: n("captured_bytes", i),
            first_ts: c.int("first_ts", i),
            last_ts: c.int("last_ts", i),
            link_types: c.list("link_types", i),
            tcp_segments: n("tcp_segments", i),
            udp_datagrams: n("udp_datagrams", i),
            ip_fragments: n("ip_fragments", i),
            skipped_unsupported_link: n("skipped_unsupported_link", i),
            skipped_not_ip: n("skipped_not_ip", i),
            skipped_truncated: n("skipped_truncated", i),
            skipped_bad_header: n("skipped_bad_header", i),
            skipped_other_protocol: n("skipped_other_protocol", i),
            skipped_too_deep: n("skipped_too_deep", i),
        })
        .collect()
}

fn int32(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}
