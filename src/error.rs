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
