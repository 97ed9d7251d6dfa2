//! The tables' columns (handshakes, certificates, findings, incidents,
//! files), declared once: order, names, types and descriptions. DESIGN.md's
//! minimum columns come first in each table.

use arrow_array::RecordBatch;

use super::columns::{Cells, Cols};
use crate::analysis::Kind;
use crate::error::Anomaly;
use crate::rows::{CertRow, FileRow, FindingRow, HandshakeRow, IncidentRow, Severity};
use crate::tls::Fingerprints;
use crate::x509::{CertInfo, TrustReason};

/// Version of the table layout; bumped when a column is renamed or retyped.
pub const SCHEMA_VERSION: &str = "1";

/// The `handshakes` columns over `rows`.
pub fn handshakes<'r>(rows: impl IntoIterator<Item = &'r HandshakeRow>) -> Cols<'r, HandshakeRow> {
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
        r.fingerprints.ja3.as_deref()
    })
    .text_opt("ja3s", "JA3S of the ServerHello (MD5 hex)", |r| {
        r.fingerprints.ja3s.as_deref()
    })
    .text_opt("ja4", "JA4 of the ClientHello (FoxIO)", |r| {
        r.fingerprints.ja4.as_deref()
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
    .code_list(
        "anomalies",
        "short codes of what was odd in the connection",
        |r| &r.anomalies,
        Anomaly::as_str,
    )
    .text(
        "transport",
        "tcp, quic (TLS 1.3 in QUIC CRYPTO frames; Initial packets decrypted, RFC 9001) or \
         dtls (DTLS over UDP)",
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
        r.fingerprints.ja3_full.as_deref()
    })
    .text_opt("ja3s_full", "JA3S string before hashing", |r| {
        r.fingerprints.ja3s_full.as_deref()
    })
    .text_opt("ja4_r", "JA4 raw form, before hashing", |r| {
        r.fingerprints.ja4_r.as_deref()
    })
    .flag(
        "chain_trusted",
        "chain led to a trusted root at the connection's time; null when no chain was visible",
        |r| r.chain_trusted,
    )
    .text_opt(
        "trust_reason",
        "why the chain was not trusted; on a trusted chain, root_removed_since when its \
         root was trusted then but has left Mozilla's store",
        |r| r.trust_reason.map(TrustReason::as_str),
    )
    .flag(
        "root_public",
        "the trusted chain's root is one of Mozilla's (at any time), not one given only \
         with --trust-store; null when the chain was not trusted",
        |r| r.root_public,
    )
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
        "host:port of the HTTP or SOCKS CONNECT that preceded TLS (explicit proxy)",
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
    })
    .text_opt(
        "ech_status",
        "server's answer to an ECH offer as far as the capture shows: accepted (its \
         HelloRetryRequest confirmed ECH), rejected (decrypted retry_configs), ignored (TLS 1.2, \
         or the outer handshake decrypted without retry_configs) or unknown; null without ECH",
        |r| r.ech_status.as_deref(),
    )
    .text_opt(
        "ech_outer_sni",
        "SNI of a ClientHello with ECH (the public name, or the real name under GREASE ECH); \
         not judged as the server's name once ECH is accepted; null without ECH",
        |r| r.ech_outer_sni.as_deref(),
    )
    .int32(
        "ech_config_id",
        "config_id of the ClientHello's ECH extension",
        |r| r.ech_config_id,
    )
    .int32(
        "ech_kdf_id",
        "HPKE KDF id of the ClientHello's ECH extension",
        |r| r.ech_kdf_id,
    )
    .int32(
        "ech_aead_id",
        "HPKE AEAD id of the ClientHello's ECH extension",
        |r| r.ech_aead_id,
    );
    c
}

/// Fills `out` (one slot per row) with the rows of a `handshakes` batch.
pub fn handshakes_into(batch: &RecordBatch, out: &mut [HandshakeRow]) {
    let c = Cells::new(batch);
    let flow_id = c.column("flow_id");
    let file = c.column("file");
    let ts_start = c.column("ts_start");
    let ts_end = c.column("ts_end");
    let client_ip = c.column("client_ip");
    let client_port = c.column("client_port");
    let server_ip = c.column("server_ip");
    let server_port = c.column("server_port");
    let sni = c.column("sni");
    let alpn = c.column("alpn");
    let alpn_selected = c.column("alpn_selected");
    let tls_version = c.column("tls_version");
    let offered_versions = c.column("offered_versions");
    let cipher_suite = c.column("cipher_suite");
    let offered_cipher_suites = c.column("offered_cipher_suites");
    let ja3 = c.column("ja3");
    let ja3_full = c.column("ja3_full");
    let ja3s = c.column("ja3s");
    let ja3s_full = c.column("ja3s_full");
    let ja4 = c.column("ja4");
    let ja4_r = c.column("ja4_r");
    let cert_chain_sha256 = c.column("cert_chain_sha256");
    let leaf_sha256 = c.column("leaf_sha256");
    let cert_visibility = c.column("cert_visibility");
    let decryption = c.column("decryption");
    let transport = c.column("transport");
    let chain_trusted = c.column("chain_trusted");
    let trust_reason = c.column("trust_reason");
    let root_public = c.column("root_public");
    let sni_matches_leaf = c.column("sni_matches_leaf");
    let client_chain_sha256 = c.column("client_chain_sha256");
    let alerts = c.column("alerts");
    let connect_target = c.column("connect_target");
    let server_flight_bytes = c.column("server_flight_bytes");
    let client_bytes = c.column("client_bytes");
    let server_bytes = c.column("server_bytes");
    let app_bytes_client = c.column("app_bytes_client");
    let app_bytes_server = c.column("app_bytes_server");
    let packets = c.column("packets");
    let client_ttl = c.column("client_ttl");
    let server_ttl = c.column("server_ttl");
    let anomalies = c.column("anomalies");
    let ech_status = c.column("ech_status");
    let ech_outer_sni = c.column("ech_outer_sni");
    let ech_config_id = c.column("ech_config_id");
    let ech_kdf_id = c.column("ech_kdf_id");
    let ech_aead_id = c.column("ech_aead_id");
    for (i, slot) in out.iter_mut().enumerate().take(c.len()) {
        *slot = HandshakeRow {
            flow_id: flow_id.text(i).unwrap_or_default(),
            file: file.text(i).unwrap_or_default(),
            ts_start: ts_start.int(i).unwrap_or_default(),
            ts_end: ts_end.int(i).unwrap_or_default(),
            client_ip: client_ip.text(i).unwrap_or_default(),
            client_port: int32(client_port.int(i)).unwrap_or_default(),
            server_ip: server_ip.text(i).unwrap_or_default(),
            server_port: int32(server_port.int(i)).unwrap_or_default(),
            sni: sni.text(i),
            alpn: alpn.list(i),
            alpn_selected: alpn_selected.text(i),
            tls_version: tls_version.text(i),
            offered_versions: offered_versions.list(i),
            cipher_suite: cipher_suite.text(i),
            offered_cipher_suites: offered_cipher_suites.list(i),
            fingerprints: Fingerprints {
                ja3: ja3.text(i),
                ja3_full: ja3_full.text(i),
                ja3s: ja3s.text(i),
                ja3s_full: ja3s_full.text(i),
                ja4: ja4.text(i),
                ja4_r: ja4_r.text(i),
            },
            cert_chain_sha256: cert_chain_sha256.list(i),
            leaf_sha256: leaf_sha256.text(i),
            cert_visibility: cert_visibility.text(i).unwrap_or_default(),
            decryption: decryption.text(i),
            // Tables written before QUIC support had only TCP connections.
            transport: transport.text(i).unwrap_or_else(|| "tcp".into()),
            chain_trusted: chain_trusted.flag(i),
            trust_reason: trust_reason.text(i).map(|t| TrustReason::parse_lenient(&t)),
            root_public: root_public.flag(i),
            sni_matches_leaf: sni_matches_leaf.flag(i),
            client_chain_sha256: client_chain_sha256.list(i),
            alerts: alerts.list(i),
            connect_target: connect_target.text(i),
            server_flight_bytes: server_flight_bytes.int(i).unwrap_or_default(),
            client_bytes: client_bytes.int(i).unwrap_or_default(),
            server_bytes: server_bytes.int(i).unwrap_or_default(),
            app_bytes_client: app_bytes_client.int(i).unwrap_or_default(),
            app_bytes_server: app_bytes_server.int(i).unwrap_or_default(),
            packets: packets.int(i).unwrap_or_default(),
            client_ttl: int32(client_ttl.int(i)),
            server_ttl: int32(server_ttl.int(i)),
            // A code this build does not know is left out.
            anomalies: anomalies
                .list(i)
                .iter()
                .filter_map(|a| Anomaly::parse(a))
                .collect(),
            ech_status: ech_status.text(i),
            ech_outer_sni: ech_outer_sni.text(i),
            ech_config_id: int32(ech_config_id.int(i)),
            ech_kdf_id: int32(ech_kdf_id.int(i)),
            ech_aead_id: int32(ech_aead_id.int(i)),
        };
    }
}

/// The `certificates` columns over `rows`.
pub fn certificates<'r>(rows: impl IntoIterator<Item = &'r CertRow>) -> Cols<'r, CertRow> {
    let mut c = Cols::new(rows);
    c.text("sha256", "SHA-256 of the certificate's DER (its id)", |r| &r.info.sha256)
        .text("spki_sha256", "SHA-256 of the SubjectPublicKeyInfo, hex", |r| &r.info.spki_sha256)
        .text("subject", "subject distinguished name (RFC 4514)", |r| &r.info.subject)
        .text("issuer", "issuer distinguished name (RFC 4514)", |r| &r.info.issuer)
        .text("serial", "serial number, hex", |r| &r.info.serial)
        .time("not_before", "start of validity (UTC)", |r| r.info.not_before)
        .time("not_after", "end of validity (UTC)", |r| r.info.not_after)
        .list("san_dns", "DNS names of the subjectAltName extension", |r| &r.info.san_dns)
        .text("key_algorithm", "public key algorithm", |r| &r.info.key_algorithm)
        .int32("key_bits", "public key size in bits", |r| int32_of(r.info.key_bits))
        .text("signature_algorithm", "signature algorithm", |r| &r.info.signature_algorithm)
        .flag("is_ca", "basic constraints CA flag", |r| Some(r.info.is_ca))
        .flag("self_signed", "subject equals issuer and the signature verifies with its own key", |r| Some(r.info.self_signed))
        .flag("trusted", "chain to a trusted root when first seen as a server leaf, at that connection's time; null for certificates never seen as a leaf", |r| r.trusted)
        .time("first_seen", "first connection that carried it (UTC)", |r| Some(r.first_seen))
        .time("last_seen", "last connection that carried it (UTC)", |r| Some(r.last_seen))
        .int64("flow_count", "connections that carried it", |r| Some(r.flow_count))
        .text("sha1", "SHA-1 of the DER (thumbprint)", |r| &r.info.sha1)
        .text("spki_pin", "SPKI SHA-256 as a base64 pin", |r| &r.info.spki_pin)
        .text_opt("subject_cn", "subject common name", |r| r.info.subject_cn.as_deref())
        .text_opt("issuer_cn", "issuer common name", |r| r.info.issuer_cn.as_deref())
        .list("san_ip", "IP addresses of the subjectAltName extension", |r| &r.info.san_ip)
        .text_opt("curve", "named curve of an EC key", |r| r.info.curve.as_deref())
        .int32("path_len", "basic constraints path length", |r| int32_of(r.info.path_len))
        .list("key_usage", "key usage bits", |r| &r.info.key_usage)
        .list("ext_key_usage", "extended key usages", |r| &r.info.ext_key_usage)
        .text_opt("authority_key_id", "authority key identifier, hex", |r| r.info.authority_key_id.as_deref())
        .text_opt("subject_key_id", "subject key identifier, hex", |r| r.info.subject_key_id.as_deref())
        .flag("has_ocsp", "has an OCSP responder address", |r| Some(r.info.has_ocsp))
        .flag("has_crl", "has CRL distribution points", |r| Some(r.info.has_crl))
        .flag("has_sct", "carries embedded SCTs (Certificate Transparency)", |r| Some(r.info.has_sct))
        .text_opt("validation_reason", "why the chain it first came in was not trusted", |r| r.validation_reason.map(TrustReason::as_str))
        .text_opt("parse_error", "why the DER could not be parsed", |r| r.info.parse_error.as_deref())
        .bytes("der", "the certificate, DER", |r| &r.der);
    c
}

/// Fills `out` (one slot per row) with the rows of a `certificates` batch.
pub fn certificates_into(batch: &RecordBatch, out: &mut [CertRow]) {
    let c = Cells::new(batch);
    let sha256 = c.column("sha256");
    let sha1 = c.column("sha1");
    let spki_sha256 = c.column("spki_sha256");
    let spki_pin = c.column("spki_pin");
    let subject = c.column("subject");
    let issuer = c.column("issuer");
    let subject_cn = c.column("subject_cn");
    let issuer_cn = c.column("issuer_cn");
    let serial = c.column("serial");
    let not_before = c.column("not_before");
    let not_after = c.column("not_after");
    let san_dns = c.column("san_dns");
    let san_ip = c.column("san_ip");
    let key_algorithm = c.column("key_algorithm");
    let key_bits = c.column("key_bits");
    let curve = c.column("curve");
    let signature_algorithm = c.column("signature_algorithm");
    let is_ca = c.column("is_ca");
    let path_len = c.column("path_len");
    let self_signed = c.column("self_signed");
    let key_usage = c.column("key_usage");
    let ext_key_usage = c.column("ext_key_usage");
    let authority_key_id = c.column("authority_key_id");
    let subject_key_id = c.column("subject_key_id");
    let has_ocsp = c.column("has_ocsp");
    let has_crl = c.column("has_crl");
    let has_sct = c.column("has_sct");
    let trusted = c.column("trusted");
    let validation_reason = c.column("validation_reason");
    let first_seen = c.column("first_seen");
    let last_seen = c.column("last_seen");
    let flow_count = c.column("flow_count");
    let parse_error = c.column("parse_error");
    let der = c.column("der");
    for (i, slot) in out.iter_mut().enumerate().take(c.len()) {
        *slot = CertRow {
            info: CertInfo {
                sha256: sha256.text(i).unwrap_or_default(),
                sha1: sha1.text(i).unwrap_or_default(),
                spki_sha256: spki_sha256.text(i).unwrap_or_default(),
                spki_pin: spki_pin.text(i).unwrap_or_default(),
                subject: subject.text(i).unwrap_or_default(),
                issuer: issuer.text(i).unwrap_or_default(),
                subject_cn: subject_cn.text(i),
                issuer_cn: issuer_cn.text(i),
                serial: serial.text(i).unwrap_or_default(),
                not_before: not_before.int(i),
                not_after: not_after.int(i),
                san_dns: san_dns.list(i),
                san_ip: san_ip.list(i),
                key_algorithm: key_algorithm.text(i).unwrap_or_default(),
                key_bits: uint32(key_bits.int(i)),
                curve: curve.text(i),
                signature_algorithm: signature_algorithm.text(i).unwrap_or_default(),
                is_ca: is_ca.flag(i).unwrap_or_default(),
                path_len: uint32(path_len.int(i)),
                self_signed: self_signed.flag(i).unwrap_or_default(),
                key_usage: key_usage.list(i),
                ext_key_usage: ext_key_usage.list(i),
                authority_key_id: authority_key_id.text(i),
                subject_key_id: subject_key_id.text(i),
                has_ocsp: has_ocsp.flag(i).unwrap_or_default(),
                has_crl: has_crl.flag(i).unwrap_or_default(),
                has_sct: has_sct.flag(i).unwrap_or_default(),
                parse_error: parse_error.text(i),
                ..CertInfo::default()
            },
            trusted: trusted.flag(i),
            validation_reason: validation_reason
                .text(i)
                .map(|t| TrustReason::parse_lenient(&t)),
            first_seen: first_seen.int(i).unwrap_or_default(),
            last_seen: last_seen.int(i).unwrap_or_default(),
            flow_count: flow_count.int(i).unwrap_or_default(),
            der: der.bytes(i),
        };
    }
}

/// The `findings` columns over `rows`.
pub fn findings<'r>(rows: impl IntoIterator<Item = &'r FindingRow>) -> Cols<'r, FindingRow> {
    let mut c = Cols::new(rows);
    c.text("finding_id", "stable id of the finding", |r| &r.finding_id)
        .text("kind", "what was found, e.g. issuer_divergence", |r| {
            r.kind.as_str()
        })
        .text(
            "severity",
            "info, low, medium or high; medium and high are interception evidence",
            |r| r.severity.as_str(),
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
        .list("issuers", "issuers involved", |r| &r.issuers)
        .list(
            "accused_sha256",
            "the leaves a medium or high finding accuses (a subset of cert_sha256); \
             empty for low and info findings and for TLS 1.3 shapes",
            |r| &r.accused_sha256,
        );
    c
}

/// Fills `out` (one slot per row) with the rows of a `findings` batch.
pub fn findings_into(batch: &RecordBatch, out: &mut [FindingRow]) {
    let c = Cells::new(batch);
    let finding_id = c.column("finding_id");
    let kind = c.column("kind");
    let severity = c.column("severity");
    let sni = c.column("sni");
    let names = c.column("names");
    let summary = c.column("summary");
    let flow_ids = c.column("flow_ids");
    let cert_sha256 = c.column("cert_sha256");
    let clients = c.column("clients");
    let issuers = c.column("issuers");
    let first_seen = c.column("first_seen");
    let last_seen = c.column("last_seen");
    let accused = c.column("accused_sha256");
    for (i, slot) in out.iter_mut().enumerate().take(c.len()) {
        *slot = FindingRow {
            finding_id: finding_id.text(i).unwrap_or_default(),
            kind: kind
                .text(i)
                .map(|k| Kind::parse_lenient(&k))
                .unwrap_or_default(),
            severity: severity
                .text(i)
                .map(|s| Severity::parse_lenient(&s))
                .unwrap_or_default(),
            sni: sni.text(i),
            names: names.list(i),
            summary: summary.text(i).unwrap_or_default(),
            flow_ids: flow_ids.list(i),
            cert_sha256: cert_sha256.list(i),
            clients: clients.list(i),
            issuers: issuers.list(i),
            first_seen: first_seen.int(i).unwrap_or_default(),
            last_seen: last_seen.int(i).unwrap_or_default(),
            accused_sha256: accused.list(i),
        };
    }
}

/// The `incidents` columns over `rows`.
pub fn incidents<'r>(rows: impl IntoIterator<Item = &'r IncidentRow>) -> Cols<'r, IncidentRow> {
    let mut c = Cols::new(rows);
    c.text(
        "incident_id",
        "stable id of the incident, a hash of the interceptor's identity",
        |r| &r.incident_id,
    )
    .text(
        "severity",
        "the highest severity of its findings: medium or high",
        |r| r.severity.as_str(),
    )
    .text(
        "verdict",
        "intercepted (a client accepted the interceptor's certificate and sent data), \
         attempted_refused (every client refused it), or suspected (medium evidence only, \
         certificates not visible, or no connection went on)",
        |r| &r.verdict,
    )
    .text(
        "interceptor",
        "the interceptor in a few words: issuer, product, place on the path",
        |r| &r.interceptor,
    )
    .text_opt(
        "interceptor_issuer",
        "issuer DN of most of its certificates; null when none was visible",
        |r| r.interceptor_issuer.as_deref(),
    )
    .text_opt(
        "interceptor_key_sha256",
        "SPKI SHA-256 of the issuing CA's key (certificates.spki_sha256); null when the \
         CA certificate was neither sent nor seen",
        |r| r.interceptor_key_sha256.as_deref(),
    )
    .text_opt(
        "interceptor_product",
        "the known TLS-inspection product its issuer or chain matches",
        |r| r.interceptor_product.as_deref(),
    )
    .list(
        "interceptor_path",
        "how it sat on the path, when known: CONNECT proxy, server TTL, client subnet",
        |r| &r.interceptor_path,
    )
    .list("names", "server names it answered for", |r| &r.names)
    .list("clients", "client addresses it answered", |r| &r.clients)
    .time("first_seen", "first connection it answered (UTC)", |r| {
        Some(r.first_seen)
    })
    .time("last_seen", "last connection it answered (UTC)", |r| {
        Some(r.last_seen)
    })
    .int64("connections", "connections it answered", |r| {
        Some(r.connections)
    })
    .int64(
        "accepted_connections",
        "of those, connections whose client went on with application data",
        |r| Some(r.accepted_connections),
    )
    .int64(
        "refused_connections",
        "of those, connections whose client ended with a fatal alert",
        |r| Some(r.refused_connections),
    )
    .int64(
        "bytes_to_server",
        "application bytes the accepting clients sent through it",
        |r| Some(r.bytes_to_server),
    )
    .int64(
        "bytes_to_client",
        "application bytes it sent the accepting clients",
        |r| Some(r.bytes_to_client),
    )
    .list(
        "finding_ids",
        "its medium and high findings (findings.finding_id)",
        |r| &r.finding_ids,
    )
    .text("summary", "one sentence a responder reads first", |r| {
        &r.summary
    })
    .list("issuers", "every issuer DN of its certificates", |r| {
        &r.issuers
    })
    .list(
        "cert_sha256",
        "the leaf certificates it presented (certificates.sha256, handshakes.leaf_sha256)",
        |r| &r.cert_sha256,
    )
    .flag(
        "bytes_estimated",
        "the byte counts are estimates (tables without application-data counts)",
        |r| Some(r.bytes_estimated),
    );
    c
}

/// Fills `out` (one slot per row) with the rows of an `incidents` batch.
pub fn incidents_into(batch: &RecordBatch, out: &mut [IncidentRow]) {
    let c = Cells::new(batch);
    let col = |n: &str| c.column(n);
    let (id, severity, verdict, interceptor) = (
        col("incident_id"),
        col("severity"),
        col("verdict"),
        col("interceptor"),
    );
    let (issuer, key, product, path) = (
        col("interceptor_issuer"),
        col("interceptor_key_sha256"),
        col("interceptor_product"),
        col("interceptor_path"),
    );
    let (names, clients, first, last) = (
        col("names"),
        col("clients"),
        col("first_seen"),
        col("last_seen"),
    );
    let (conns, accepted, refused) = (
        col("connections"),
        col("accepted_connections"),
        col("refused_connections"),
    );
    let (to_server, to_client, estimated) = (
        col("bytes_to_server"),
        col("bytes_to_client"),
        col("bytes_estimated"),
    );
    let (finding_ids, summary, issuers, certs) = (
        col("finding_ids"),
        col("summary"),
        col("issuers"),
        col("cert_sha256"),
    );
    for (i, slot) in out.iter_mut().enumerate().take(c.len()) {
        *slot = IncidentRow {
            incident_id: id.text(i).unwrap_or_default(),
            severity: severity
                .text(i)
                .map(|s| Severity::parse_lenient(&s))
                .unwrap_or_default(),
            verdict: verdict.text(i).unwrap_or_default(),
            interceptor: interceptor.text(i).unwrap_or_default(),
            interceptor_issuer: issuer.text(i),
            interceptor_key_sha256: key.text(i),
            interceptor_product: product.text(i),
            interceptor_path: path.list(i),
            issuers: issuers.list(i),
            cert_sha256: certs.list(i),
            names: names.list(i),
            clients: clients.list(i),
            first_seen: first.int(i).unwrap_or_default(),
            last_seen: last.int(i).unwrap_or_default(),
            connections: conns.int(i).unwrap_or_default(),
            accepted_connections: accepted.int(i).unwrap_or_default(),
            refused_connections: refused.int(i).unwrap_or_default(),
            bytes_to_server: to_server.int(i).unwrap_or_default(),
            bytes_to_client: to_client.int(i).unwrap_or_default(),
            bytes_estimated: estimated.flag(i).unwrap_or_default(),
            finding_ids: finding_ids.list(i),
            summary: summary.text(i).unwrap_or_default(),
        };
    }
}

/// The `files` columns over `rows`.
pub fn files<'r>(rows: impl IntoIterator<Item = &'r FileRow>) -> Cols<'r, FileRow> {
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
    c.int64(
        "flows_evicted",
        "connections finished early because the flow table was full (--max-flows); each carries the anomaly flow_evicted",
        |r| Some(r.flows_evicted),
    );
    c
}

/// Fills `out` (one slot per row) with the rows of a `files` batch.
pub fn files_into(batch: &RecordBatch, out: &mut [FileRow]) {
    let c = Cells::new(batch);
    let file = c.column("file");
    let format = c.column("format");
    let compression = c.column("compression");
    let status = c.column("status");
    let error = c.column("error");
    let damage_offset = c.column("damage_offset");
    let first_ts = c.column("first_ts");
    let last_ts = c.column("last_ts");
    let link_types = c.column("link_types");
    let n = |name: &str, i: usize| c.column(name).int(i).unwrap_or_default();
    for (i, slot) in out.iter_mut().enumerate().take(c.len()) {
        *slot = FileRow {
            file: file.text(i).unwrap_or_default(),
            format: format.text(i),
            compression: compression.text(i),
            size_bytes: n("size_bytes", i),
            status: status.text(i).unwrap_or_default(),
            error: error.text(i),
            damage_offset: damage_offset.int(i),
            packets: n("packets", i),
            captured_bytes: n("captured_bytes", i),
            first_ts: first_ts.int(i),
            last_ts: last_ts.int(i),
            link_types: link_types.list(i),
            tcp_segments: n("tcp_segments", i),
            udp_datagrams: n("udp_datagrams", i),
            ip_fragments: n("ip_fragments", i),
            skipped_unsupported_link: n("skipped_unsupported_link", i),
            skipped_not_ip: n("skipped_not_ip", i),
            skipped_truncated: n("skipped_truncated", i),
            skipped_bad_header: n("skipped_bad_header", i),
            skipped_other_protocol: n("skipped_other_protocol", i),
            skipped_too_deep: n("skipped_too_deep", i),
            flows_evicted: n("flows_evicted", i),
        };
    }
}

fn int32(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

/// A count the parsed certificate keeps unsigned, as the table's `Int32`
/// (a value beyond it is written as null).
fn int32_of(v: Option<u32>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

/// A table's `Int32` read back as the parsed certificate's unsigned count
/// (a negative value, which certsift never writes, reads as null).
fn uint32(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}
