//! TLS handshake extraction from the two reassembled byte streams of one TCP
//! connection.
//!
//! In: each direction's bytes in order ([`Session::feed`]), capture gaps
//! ([`Session::gap`]) and the byte counts the caller skipped once a direction
//! stopped wanting bytes ([`Session::skip`]). Out: one [`Handshake`] per
//! connection with both hellos, the certificate chains as sent (DER), alerts,
//! JA3/JA3S/JA4, the negotiated version and cipher, whether the server's
//! certificate was visible, and anomaly codes.
//!
//! Handles: records split across segments and handshake messages split
//! across records or packed several per record (RFC 8446 §5.1, RFC 5246
//! §6.2.1), SSLv2-compatible ClientHello, HelloRetryRequest, abbreviated
//! (resumed) handshakes, TLS 1.3 encrypted flights, client certificates
//! (mutual TLS), clear and encrypted alerts, an HTTP CONNECT or SOCKS 4/4a/5
//! CONNECT preamble (its target is kept), and TLS that starts after a
//! plaintext preamble
//! (STARTTLS in SMTP/IMAP/POP3/XMPP/LDAP/PostgreSQL/MySQL, SOCKS), found by
//! looking for a hello record header in the first `MAX_PREAMBLE` bytes,
//! and TLS carried in an OpenVPN control channel over TCP (its packets
//! unwrapped first, see `openvpn`).
//! TLS 1.3: the encrypted handshake records of both sides are kept
//! (bounded, [`MAX_RETAINED_FLIGHT`] per side) so that
//! [`Handshake::decrypt`] can open them with secrets from an NSS key log
//! ([`KeyLog`]) and recover EncryptedExtensions, the certificates and
//! CertificateVerify. Application data is never decrypted.
//! QUIC's record-less handshake messages go through
//! [`handshake_from_messages`] and [`Handshake::apply_decrypted_streams`]
//! (the `quic` module does the packet work).
//! DTLS handshake messages, once the `dtls` module has undone their
//! fragmentation, go through [`handshake_from_dtls_messages`].
//! Leaves out: TLS ≤ 1.2 decryption, renegotiation after the first handshake.
//!
//! Every size is capped (see the `MAX_*` constants): a direction buffers at
//! most one partial record (or SSLv2 record, or CONNECT header, ≤ 32 KiB)
//! plus one partial handshake message (≤ `MAX_HANDSHAKE_MSG_LEN`), every
//! loop consumes input, and no input can make this module panic.

mod compress;
pub(crate) mod decrypt;
mod hello;
pub mod ja;
mod keylog;
mod messages;
mod names;
mod openvpn;
pub(crate) mod schedule;
mod session;
mod socks;
#[cfg(test)]
mod tcp_tests;
#[cfg(test)]
mod tests;

use crate::error::Anomaly;
pub use decrypt::Decryption;
pub use keylog::{KeyLog, KeyLogStats, SecretLabel, MAX_KEYLOG_CLIENTS, MAX_KEYLOG_LINE};
pub use messages::{handshake_from_dtls_messages, handshake_from_messages};
pub use names::{cipher_name, version_name};
pub use session::{decrypt_ended, Session};

/// Largest TLS record accepted: 2^14 plaintext + 2048 expansion
/// (RFC 5246 §6.2.3; TLS 1.3 allows 2^14 + 256, RFC 8446 §5.2).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Largest handshake message reassembled. Zeek's `tls-fragmented-handshake`
/// trace carries a real 332 KiB Certificate message (a certificate with
/// thousands of SANs), so the cap sits above that; larger is flagged
/// (`handshake_too_large`) and the direction dropped.
pub const MAX_HANDSHAKE_MSG_LEN: usize = 512 * 1024;
/// Most certificates kept per chain.
pub const MAX_CHAIN_LEN: usize = 64;
/// Most clear handshake bytes processed per direction before giving up.
pub const MAX_HANDSHAKE_BYTES: usize = 1024 * 1024;
/// Most alerts kept per connection.
pub const MAX_ALERTS: usize = 32;
/// Most non-TLS bytes searched for a first hello record (STARTTLS, SOCKS,
/// proxy preambles) before a direction is declared not TLS.
pub const MAX_PREAMBLE: usize = 16 * 1024;
/// Most bytes searched for a record header after a gap before a direction
/// is given up.
pub const MAX_RESYNC: usize = 64 * 1024;
/// Most bytes of an HTTP CONNECT request or its reply buffered before TLS.
pub const MAX_CONNECT_PREAMBLE: usize = 8 * 1024;
/// Most TLS 1.3 encrypted handshake bytes (records, headers included) kept
/// per side for [`Handshake::decrypt`]. A typical server flight is 3-6 KiB;
/// past the cap `tls13_flight_cap` is noted and retention stops (a
/// certificate inside the kept prefix is still recovered).
pub const MAX_RETAINED_FLIGHT: usize = 64 * 1024;
/// Most encrypted records kept from the client after its first one while
/// waiting for its Finished (client certificates, RFC 8446 §4.4.2).
pub const MAX_RETAINED_CLIENT_RECORDS: usize = 8;

/// One direction of a connection (the flow stage's naming).
pub use crate::flow::Side;

/// Whether the server's certificate could be read from the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Visibility {
    /// The Certificate message was sent in clear (TLS ≤ 1.2).
    Plain,
    /// TLS 1.3: the certificate travelled inside the encrypted flight.
    Encrypted,
    /// Abbreviated handshake (session id, ticket or PSK): no certificate sent.
    Resumed,
    /// No certificate seen (handshake incomplete, anonymous suite, gap).
    #[default]
    Absent,
    /// TLS 1.3: the certificate was recovered by decrypting the handshake
    /// with a key log ([`Handshake::decrypt`]).
    Decrypted,
}

impl Visibility {
    /// The `cert_visibility` column value: "plain", "encrypted", "resumed", "absent".
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Plain => "plain",
            Visibility::Encrypted => "encrypted",
            Visibility::Resumed => "resumed",
            Visibility::Absent => "absent",
            Visibility::Decrypted => "decrypted",
        }
    }
}

/// A TLS alert record (RFC 8446 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// The side that sent it.
    pub side: Side,
    /// AlertLevel (1 warning, 2 fatal); `None` when encrypted (unless
    /// [`Handshake::decrypt`] opened it).
    pub level: Option<u8>,
    /// AlertDescription; `None` when encrypted (unless decrypted).
    pub description: Option<u8>,
    /// The record was sent after the cipher change, so its content is opaque.
    pub encrypted: bool,
    /// Sent after the server's Certificate was seen: a client rejecting the
    /// presented chain shows up here.
    pub after_server_certificate: bool,
    /// Capture time of the segment that completed the record, µs since epoch.
    pub ts_us: i64,
}

/// A decoded ClientHello (RFC 8446 §4.1.2). Values are raw, GREASE kept, in
/// wire order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClientHello {
    /// legacy_version (client_version before TLS 1.3).
    pub legacy_version: u16,
    /// ClientHello.random: the key log's key (zero for an SSLv2 hello).
    pub random: [u8; 32],
    /// server_name host_name, if any (lossy UTF-8).
    pub sni: Option<String>,
    /// The server_name extension was present (JA4 `d`), even if unparsable.
    pub has_sni_ext: bool,
    /// ALPN protocol names offered, in order (lossy UTF-8).
    pub alpn: Vec<String>,
    /// supported_versions values offered.
    pub supported_versions: Vec<u16>,
    /// Cipher suites offered.
    pub ciphers: Vec<u16>,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// supported_groups (elliptic_curves) values.
    pub groups: Vec<u16>,
    /// ec_point_formats values.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms values, in order.
    pub sig_algs: Vec<u16>,
    /// Compression methods offered.
    pub compression: Vec<u8>,
    /// Length of legacy_session_id.
    pub session_id_len: u8,
    /// legacy_session_id (SSLv2: empty, only its length is kept).
    pub session_id: Vec<u8>,
    /// The session_ticket extension was present.
    pub has_session_ticket: bool,
    /// The pre_shared_key extension was present.
    pub psk: bool,
    /// Sent as an SSLv2-compatible record.
    pub sslv2: bool,
    /// SSLv2 cipher specs that have no TLS equivalent (first byte non-zero).
    pub sslv2_ciphers: Vec<u32>,
    /// The extension block was truncated or malformed; the list stops there.
    pub truncated_extensions: bool,
    /// The encrypted_client_hello extension, when present.
    pub ech: Option<Ech>,
}

/// What a ClientHello's encrypted_client_hello extension (0xfe0d,
/// draft-ietf-tls-esni-22 §5) shows in clear. A GREASE ECH extension
/// (§6.2) is built to look exactly like a real one, so the two cannot be
/// told apart on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Ech {
    /// ECHClientHelloType outer (0): the hello is a ClientHelloOuter and its
    /// server_name is the ECH configuration's public name. Inner (1) is
    /// only ever sent encrypted.
    pub outer: bool,
    /// HPKE KDF id of the cipher suite (outer only; 1 HKDF-SHA256).
    pub kdf_id: Option<u16>,
    /// HPKE AEAD id (outer only; 1 AES-128-GCM, 2 AES-256-GCM, 3
    /// ChaCha20Poly1305).
    pub aead_id: Option<u16>,
    /// The ECHConfig's config_id (outer only).
    pub config_id: Option<u8>,
}

/// A decoded ServerHello or HelloRetryRequest (RFC 8446 §4.1.3-4.1.4).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ServerHello {
    /// legacy_version (server_version before TLS 1.3).
    pub legacy_version: u16,
    /// supported_versions value chosen by the server (TLS 1.3), if any.
    pub selected_version: Option<u16>,
    /// Cipher suite chosen.
    pub cipher: u16,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// ALPN protocol chosen.
    pub alpn: Option<String>,
    /// legacy_session_id_echo.
    pub session_id: Vec<u8>,
    /// Compression method chosen.
    pub compression: u8,
    /// The pre_shared_key extension was present (TLS 1.3 resumption).
    pub psk: bool,
    /// The random is the HelloRetryRequest constant.
    pub is_hello_retry: bool,
    /// The extension block was truncated or malformed.
    pub truncated_extensions: bool,
}

impl ServerHello {
    /// The negotiated version: supported_versions if present, else legacy_version.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

/// The fingerprints of a connection's hellos, each as its hash and the
/// string hashed: JA3 and JA3S (Salesforce), JA4 (FoxIO). The handshakes
/// table carries them as they are.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fingerprints {
    /// JA3 MD5 of the first ClientHello.
    pub ja3: Option<String>,
    /// JA3 string of the first ClientHello.
    pub ja3_full: Option<String>,
    /// JA3S MD5 of the ServerHello.
    pub ja3s: Option<String>,
    /// JA3S string of the ServerHello.
    pub ja3s_full: Option<String>,
    /// JA4 of the first ClientHello.
    pub ja4: Option<String>,
    /// JA4_r (raw, sorted) of the first ClientHello.
    pub ja4_r: Option<String>,
}

/// Everything learnt about the TLS handshake of one connection.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Handshake {
    /// The side that sent the ClientHello (or the opposite of the ServerHello sender).
    pub client_side: Side,
    /// host:port of an HTTP or SOCKS CONNECT seen on the client side before
    /// TLS.
    pub connect_target: Option<String>,
    /// The first ClientHello.
    pub client_hello: Option<ClientHello>,
    /// The ServerHello (not the HelloRetryRequest).
    pub server_hello: Option<ServerHello>,
    /// A HelloRetryRequest was sent.
    pub hello_retry: bool,
    /// The HelloRetryRequest itself, when sent.
    pub hello_retry_request: Option<ServerHello>,
    /// The ClientHello sent after a HelloRetryRequest.
    pub client_hello2: Option<ClientHello>,
    /// Negotiated version (supported_versions in the ServerHello for TLS 1.3).
    pub version: Option<u16>,
    /// Negotiated cipher suite.
    pub cipher: Option<u16>,
    /// Server certificates (DER) in the order sent.
    pub server_chain: Vec<Vec<u8>>,
    /// Client certificates (DER) in the order sent (mutual TLS: in clear for
    /// TLS ≤ 1.2, from [`Handshake::decrypt`] for TLS 1.3).
    pub client_chain: Vec<Vec<u8>>,
    /// Whether the server certificate was visible.
    pub visibility: Visibility,
    /// Alerts, in order.
    pub alerts: Vec<Alert>,
    /// JA3, JA3S and JA4 of the hellos.
    pub fingerprints: Fingerprints,
    /// Size of the server's handshake flight after its ServerHello. TLS 1.3:
    /// the encrypted records (headers included) sent before the client's
    /// first encrypted record, i.e. EncryptedExtensions..Finished. TLS ≤ 1.2:
    /// the clear handshake messages (4-byte headers included) after the
    /// ServerHello: Certificate, ServerKeyExchange, ..., ServerHelloDone.
    pub server_flight_bytes: u64,
    /// Client bytes after its handshake (application data, skipped bytes).
    pub app_bytes_client: u64,
    /// Server bytes after its handshake (application data, skipped bytes).
    pub app_bytes_server: u64,
    /// Time of the first bytes seen, µs since epoch.
    pub first_ts_us: Option<i64>,
    /// Time of the last bytes seen, µs since epoch.
    pub last_ts_us: Option<i64>,
    /// Short snake_case anomaly codes, each once, in order of first sight.
    pub anomalies: Vec<Anomaly>,
    /// The server sent a CertificateRequest (mutual TLS; in TLS 1.3 only
    /// known after decryption).
    pub client_cert_requested: bool,
    /// TLS 1.3: the encrypted handshake records kept for
    /// [`Handshake::decrypt`], which drops them (except on
    /// [`Decryption::NoKeys`], so that a later key log can still be tried).
    pub encrypted_flight: Option<EncryptedFlight>,
    /// Extension types of the decrypted EncryptedExtensions, in wire order
    /// (RFC 8446 §4.3.1); its ALPN goes to `server_hello.alpn`.
    pub encrypted_extensions: Vec<u16>,
    /// SignatureScheme of the server's decrypted CertificateVerify
    /// (RFC 8446 §4.4.3), e.g. 0x0804 rsa_pss_rsae_sha256.
    pub cert_verify_scheme: Option<u16>,
    /// SignatureScheme of the client's decrypted CertificateVerify.
    pub client_cert_verify_scheme: Option<u16>,
}

/// The TLS 1.3 records that carry a handshake under the handshake traffic
/// keys (RFC 8446 §5.2), exactly as sent: 5-byte header (the AEAD's
/// additional data) and ciphertext, concatenated. ChangeCipherSpec records
/// are not kept. Each side's first record has sequence number 0.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EncryptedFlight {
    /// Server records after its ServerHello, up to the client's first
    /// encrypted record (EncryptedExtensions..Finished, and any 0.5-RTT
    /// data after it, which is never decrypted).
    pub server: Vec<u8>,
    /// Client records from its first encrypted one up to what looks like its
    /// Finished ([`MAX_RETAINED_CLIENT_RECORDS`] at most).
    pub client: Vec<u8>,
    /// Server records were dropped at [`MAX_RETAINED_FLIGHT`].
    pub server_truncated: bool,
    /// Client records were dropped at a cap.
    pub client_truncated: bool,
}
