//! The three kinds of failure: `Error` ends the run, `InputError` ends one
//! capture file (the run goes on), `Anomaly` marks one packet or flow and is
//! kept as evidence. Errors own their data and never hold input bytes.

use std::path::PathBuf;

/// The run cannot continue: bad configuration, unwritable output, a Parquet
/// failure. Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No input path was given or none exists.
    #[error("no input: {0}; give capture files (pcap, pcapng, .gz, .zst) or folders of them")]
    NoInput(String),
    /// The output folder could not be created or written.
    #[error("{path}: cannot write output: {source}; choose another folder with --out")]
    Output {
        /// The path that failed.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Arrow or Parquet refused a batch.
    #[error("{path}: cannot encode table: {msg}; this is a certsift bug: please report it with the command line")]
    Encode {
        /// The table file being written.
        path: PathBuf,
        /// The encoder's message.
        msg: String,
    },
    /// A trust store file could not be read or held no certificate.
    #[error("{path}: {msg}; --trust-store takes a PEM file of CA certificates")]
    TrustStore {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
    /// A scan folder given to `summary` or `analyze` lacks a table.
    #[error("{path}: {msg}; give a folder written by `certsift scan`")]
    Table {
        /// The table file.
        path: PathBuf,
        /// What is wrong with it.
        msg: String,
    },
}

/// One capture file is unusable, wholly or from some offset on. Printed as one
/// stderr line naming the file; the run goes on with the other inputs.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {msg}; check the path and its permissions")]
    Unreadable {
        /// The capture file.
        path: PathBuf,
        /// What the operating system said.
        msg: String,
    },
    /// The file does not start like any capture format we know.
    #[error(
        "{path}: not a capture file (no pcap, pcapng, gzip or zstd magic at offset 0); skipped; convert other formats to pcapng first (e.g. editcap -F pcapng)"
    )]
    NotACapture {
        /// The file.
        path: PathBuf,
    },
    /// The file is empty.
    #[error("{path}: empty file at offset 0; skipped (nothing was captured into it)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file is damaged at `offset`; everything before it was processed.
    #[error(
        "{path}: damaged at byte offset {offset}: {reason}; packets before it were processed; to read past it, repair the file (e.g. pcapfix) and scan it again"
    )]
    Damaged {
        /// The capture file.
        path: PathBuf,
        /// Byte offset of the damage in the (decompressed) capture stream.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
}

impl InputError {
    /// True when the file held nothing usable at all (as opposed to damage
    /// after some packets).
    pub fn is_fatal_for_file(&self) -> bool {
        !matches!(self, InputError::Damaged { .. })
    }
}

crate::codes::codes! {
    /// Something odd about one connection, kept as evidence in
    /// `handshakes.anomalies` (each code once per connection, sorted). Never
    /// an `Err`, never printed one by one.
    pub enum Anomaly {
        BadCertificateMessage = "bad_certificate_message", "a Certificate message that could not be parsed";
        BadClientHello = "bad_client_hello", "a ClientHello that could not be parsed";
        BadServerHello = "bad_server_hello", "a ServerHello that could not be parsed";
        ChainMissingIntermediate = "chain_missing_intermediate", "the server sent a chain short of an intermediate that the leaf or another connection names";
        ChainTooLong = "chain_too_long", "more certificates in a chain than the cap; the rest were not kept";
        ChainUnordered = "chain_unordered", "the sent certificates are not in issuer order (allowed from TLS 1.3 on)";
        ClientHelloWithoutRetry = "client_hello_without_retry", "a second ClientHello with no HelloRetryRequest captured before it";
        CompressedCertificate = "compressed_certificate", "the decrypted certificate was compressed (RFC 8879) and could not be read";
        DecryptFlightIncomplete = "decrypt_flight_incomplete", "the decrypted server flight ended before its Finished message";
        DecryptSeqSkip = "decrypt_seq_skip", "a decrypted record opened only at a later sequence number (a record was lost)";
        DecryptedNoCertificate = "decrypted_no_certificate", "the decrypted flight held no Certificate message";
        DecryptedServerAlert = "decrypted_server_alert", "the decrypted flight held a server alert instead of a certificate";
        DecryptedUnparsable = "decrypted_unparsable", "a decrypted handshake message could not be parsed";
        DtlsFragmentConflict = "dtls_fragment_conflict", "two DTLS handshake fragments gave different bytes for one offset";
        DtlsHandshakeCap = "dtls_handshake_cap", "more DTLS handshake bytes than the cap; the rest were not read";
        DtlsHandshakeIncomplete = "dtls_handshake_incomplete", "a DTLS hello whose fragments never all arrived";
        DtlsMalformedFragment = "dtls_malformed_fragment", "a DTLS handshake fragment header that could not be parsed";
        DtlsMalformedHello = "dtls_malformed_hello", "a reassembled DTLS hello that could not be parsed";
        DtlsMalformedRecord = "dtls_malformed_record", "a DTLS record header that could not be parsed";
        ExtraCertificate = "extra_certificate", "a second server Certificate message in one handshake";
        ExtraClientHello = "extra_client_hello", "a ClientHello after the second one or after the ServerHello";
        ExtraHelloRetry = "extra_hello_retry", "a second HelloRetryRequest in one handshake";
        ExtraServerHello = "extra_server_hello", "a second ServerHello in one handshake";
        FlowEvicted = "flow_evicted", "the flow table was full and this connection was closed early";
        GapInHandshake = "gap_in_handshake", "bytes of the handshake were never captured";
        HandshakeCap = "handshake_cap", "more handshake bytes than the cap; the rest were not read";
        HandshakeTooLarge = "handshake_too_large", "a handshake message claims more bytes than the cap";
        HandshakeTruncated = "handshake_truncated", "the connection ended inside a handshake message";
        KeylogNoFlight = "keylog_no_flight", "the key log had secrets but no encrypted flight was kept to open";
        KeylogUnsupportedCipher = "keylog_unsupported_cipher", "the key log had secrets for a cipher suite certsift cannot decrypt";
        KeylogWrongClientKey = "keylog_wrong_client_key", "the key log's client handshake secret did not open the client's flight";
        KeylogWrongKey = "keylog_wrong_key", "the key log's server handshake secret did not open the server's flight";
        MalformedExtensions = "malformed_extensions", "a hello's extensions block could not be parsed";
        NotTlsAfterHello = "not_tls_after_hello", "bytes after the hello that are not TLS records";
        OpenvpnControlChannel = "openvpn_control_channel", "the TLS was read inside an OpenVPN control channel";
        OpenvpnUnreadable = "openvpn_unreadable", "an OpenVPN control channel whose packets could not be unwrapped";
        Quic0rtt = "quic_0rtt", "the client sent QUIC 0-RTT packets (early data)";
        QuicConnectionClose = "quic_connection_close", "a QUIC CONNECTION_CLOSE with a code that is not a TLS alert";
        QuicCryptoCap = "quic_crypto_cap", "more QUIC CRYPTO bytes than the cap; the rest were not read";
        QuicCryptoConflict = "quic_crypto_conflict", "two QUIC CRYPTO frames gave different bytes for one offset";
        QuicCryptoGap = "quic_crypto_gap", "QUIC CRYPTO bytes missing before the data that came";
        QuicHandshakeCap = "quic_handshake_cap", "more QUIC Handshake packet bytes than the cap kept for decryption";
        QuicHandshakeUndecryptable = "quic_handshake_undecryptable", "QUIC Handshake packets the key log's secrets did not open";
        QuicInitialUndecryptable = "quic_initial_undecryptable", "a QUIC Initial packet that its version's keys did not open";
        QuicMalformedFrame = "quic_malformed_frame", "a QUIC frame that could not be parsed";
        QuicMalformedPacket = "quic_malformed_packet", "a QUIC packet whose header could not be parsed";
        QuicRetry = "quic_retry", "the server sent a QUIC Retry";
        QuicUnsupportedVersion = "quic_unsupported_version", "a QUIC version whose Initial keys certsift does not know";
        QuicVersionNegotiation = "quic_version_negotiation", "the server answered with QUIC Version Negotiation";
        RecordTooLarge = "record_too_large", "a TLS record longer than RFC 8446 allows";
        ServerHelloFromClient = "server_hello_from_client", "a ServerHello sent by the client";
        Sslv2Hello = "sslv2_hello", "an SSLv2-compatible ClientHello";
        TcpConflictingOverlap = "tcp_conflicting_overlap", "overlapping TCP segments carried different bytes (a sign of injection)";
        TcpGap = "tcp_gap", "TCP bytes missing from the reassembled stream";
        TcpMidstream = "tcp_midstream", "the capture began after the TCP handshake";
        TcpMultipleSynack = "tcp_multiple_synack", "SYN-ACKs with different sequence numbers for one connection";
        TcpOooCapReached = "tcp_ooo_cap_reached", "more out-of-order TCP bytes than the cap; the rest were dropped";
        Tls13FlightCap = "tls13_flight_cap", "more encrypted TLS 1.3 handshake bytes than the cap kept for decryption";
        TooManyAlerts = "too_many_alerts", "more alerts than the cap; the rest were not kept";
    }
}
crate::codes::ordered_by_code!(Anomaly);
