//! certsift: packet captures in, TLS handshakes, certificates and interception
//! findings out, as Parquet tables.
//!
//! Stages (see DESIGN.md): `capture` → `decode` → `flow` → `tls` → `x509` →
//! `analysis` → `output`, wired by `pipeline`.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
mod assemble;
mod bytes;
pub mod capture;
pub mod cli;
pub mod codes;
pub mod decode;
pub mod dtls;
pub mod error;
pub mod flow;
mod hash;
pub mod html;
pub mod limits;
pub mod output;
pub mod pipeline;
pub mod quic;
pub mod report;
pub mod rows;
pub mod summary;
pub mod tls;
pub mod words;
pub mod x509;
