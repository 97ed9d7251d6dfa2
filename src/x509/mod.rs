//! X.509 certificates: DER in, owned summaries and trust verdicts out.
//!
//! - [`CertInfo::parse`] turns one DER certificate (RFC 5280) into an owned
//!   summary: hashes, names, validity, SANs, key, signature, extensions. It
//!   never fails: undecodable input keeps its hashes and gets `parse_error`.
//! - [`TrustStore`] holds trust anchors (Mozilla's roots over time, from the
//!   embedded `mozilla_roots.tsv`, plus user PEM files, parsed once) and
//!   judges a chain as a server sent it, at the time of the flow, against
//!   the roots and signature rules of that time, with `rustls-webpki`
//!   (server-auth EKU, any order of intermediates). The verdict adds what a forensic reader needs: why it
//!   failed, whether the sent order was wrong, whether an intermediate was
//!   missing, which root it chained to.
//! - [`name_matches`] checks a server name against a certificate (RFC 6125).
//!
//! Left out: revocation (CRL/OCSP), SCT signature checks, name constraints
//! beyond what `rustls-webpki` enforces, fetching missing intermediates (the
//! caller may pass intermediates seen elsewhere to [`TrustStore::verify_with`]).
//! x509-parser, rustls-webpki and ring types never leave this module.

mod cert;
mod der;
mod history;
mod hostname;
mod name;
mod reason;
mod spans;
mod trust;

#[cfg(test)]
pub(crate) mod fixtures;

pub use cert::CertInfo;
pub(crate) use history::parse_day;
pub use hostname::name_matches;
pub use reason::TrustReason;
pub use spans::{CertSet, ChainJudge};
pub use trust::{ChainVerdict, TrustStore};
