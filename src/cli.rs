//! The command line: clap types, and their validation into plain configs.
//! Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::Format;
use crate::pipeline::Config;
use crate::rows::Severity;

/// Finds TLS interception in packet captures: extracts every handshake and
/// certificate, compares the certificates each server name was answered with,
/// and writes handshakes, certificates and findings as Parquet tables.
#[derive(Debug, Parser)]
#[command(name = "certsift", version, propagate_version = true)]
#[command(
    after_long_help = "Examples:\n  certsift scan -o out capture.pcap\n  certsift scan -o out --trust-store corp-root.pem /evidence/ring/\n  certsift summary out\n  duckdb -c \"SELECT kind, severity, summary FROM 'out/findings.parquet'\""
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read captures and write the handshakes, certificates and findings tables.
    #[command(
        after_long_help = "Examples:\n  certsift scan capture.pcap                 # tables in ./certsift-out\n  certsift scan -o out a.pcapng b.pcap.gz dir/\n  certsift scan --trust-store corp-root.pem --fail-on medium -q capture.pcap\n  certsift scan --format jsonl -o out capture.pcap\n  certsift scan --roots-at now -o out old-capture.pcap   # as a browser would judge it today\n  certsift scan --partition --sensor dmz-1 -o out /evidence/dmz-1/\n\nExit codes: 0 done; 1 an incident (or, for low and info, a finding) at or above --fail-on; 2 usage error or no input readable; 3 done, but some input was damaged."
    )]
    Scan(ScanArgs),
    /// Print the counts and findings of a finished scan.
    #[command(after_long_help = "Example:\n  certsift summary certsift-out")]
    Summary {
        /// Folder holding a scan's Parquet tables.
        scan_dir: PathBuf,
        /// Output style.
        #[arg(long, value_enum, default_value_t = SummaryStyle::Human)]
        summary: SummaryStyle,
        /// List every finding after the incidents and counts.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Recompute findings over the union of several scans' tables.
    #[command(after_long_help = "Example:\n  certsift analyze shard-1 shard-2 shard-3 -o merged")]
    Analyze {
        /// Scan folders to merge.
        #[arg(required = true)]
        scan_dirs: Vec<PathBuf>,
        /// Output folder for the merged tables.
        #[arg(short, long, default_value = "certsift-out")]
        out: PathBuf,
        /// Connections to judge in memory at once. Above this, the
        /// connections whose findings depend on each other are grouped,
        /// written to spill files in the output folder and judged one group
        /// at a time (at most 64 groups); the findings are the same. About
        /// 600 bytes of memory per connection.
        #[arg(long, default_value_t = 1_000_000, value_name = "N")]
        max_in_memory: u64,
        /// List every finding after the incidents and counts.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Write one self-contained HTML report of a finished scan.
    #[command(
        after_long_help = "Example:\n  certsift scan -o out capture.pcap && certsift report out -o report.html"
    )]
    Report {
        /// Folder holding a scan's Parquet tables.
        scan_dir: PathBuf,
        /// The HTML file to write.
        #[arg(short, long, default_value = "certsift-report.html")]
        out: PathBuf,
        /// Title shown at the top of the page.
        #[arg(long, default_value = "certsift report")]
        title: String,
        /// Print how long reading, rendering and writing took, on stderr.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Print the tables' schemas, with column descriptions, as JSON.
    Schema,
    /// Print a shell completion script.
    #[command(
        after_long_help = "Examples:\n  certsift completions bash > /etc/bash_completion.d/certsift\n  certsift completions zsh > ~/.zfunc/_certsift"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_long_help = "Example:\n  certsift man > /usr/local/share/man/man1/certsift.1")]
    Man,
}

/// Options of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Capture files (pcap, pcapng, optionally .gz or .zst) or folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder.
    #[arg(short, long, default_value = "certsift-out")]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub threads: Option<usize>,
    /// Extra trusted root certificates, PEM (repeatable).
    #[arg(long = "trust-store", value_name = "PEM")]
    pub trust_stores: Vec<PathBuf>,
    /// TLS key log (NSS SSLKEYLOGFILE format) to decrypt TLS 1.3 handshakes
    /// and see their certificates; a file or a folder of them (repeatable).
    /// Application data is never decrypted.
    #[arg(long = "keylog", value_name = "FILE")]
    pub keylogs: Vec<PathBuf>,
    /// Trust only the roots given with --trust-store, not the Mozilla set.
    #[arg(long)]
    pub no_default_roots: bool,
    /// Judge every chain as of this day (YYYY-MM-DD, midnight UTC) instead
    /// of its connection's time: Mozilla's roots of that day, validity and
    /// signature rules of that day. "now": today's roots and today's date,
    /// as a current browser would judge the same chains.
    #[arg(long, value_name = "DATE|now", value_parser = parse_roots_at)]
    pub roots_at: Option<RootsAt>,
    /// Table format.
    #[arg(long, value_enum, default_value_t = FormatArg::Parquet)]
    pub format: FormatArg,
    /// Write each table as hive-style partition folders instead of one file:
    /// handshakes/capture_date=YYYY-MM-DD/sensor=LABEL/part-0.parquet (UTC
    /// date of the connection), certificates/, findings/ and files/ by
    /// sensor only. DuckDB, Spark and Trino prune by folder.
    #[arg(long)]
    pub partition: bool,
    /// Sensor label: the `sensor=` partition of --partition (letters,
    /// digits, '.', '_', '-').
    #[arg(long, value_name = "LABEL", default_value = "unknown", value_parser = crate::output::partition::valid_sensor)]
    pub sensor: String,
    /// Exit with code 1 when an interception incident at or above this
    /// severity exists (incidents are medium or high; with low or info, any
    /// finding at or above it counts too).
    #[arg(long, value_enum)]
    pub fail_on: Option<SeverityArg>,
    /// Read files into memory instead of mapping them.
    #[arg(long)]
    pub no_mmap: bool,
    /// A previous scan's folder: its certificates count as known-good, and a
    /// certificate never seen for a name there is evidence.
    #[arg(long, value_name = "SCAN_DIR")]
    pub baseline: Option<PathBuf>,
    /// Finish a TCP connection after this many seconds of silence (capture
    /// time); a later packet on its 4-tuple starts a new connection.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub flow_timeout: u32,
    /// Live TCP connections held at once, in total; past it the least
    /// recently active are finished early (anomaly flow_evicted). Bounds memory.
    #[arg(long, value_name = "N", default_value_t = crate::limits::FLOW_SHARDS * crate::limits::MAX_FLOWS_PER_SHARD)]
    pub max_flows: usize,
    /// Connections to judge in memory at once. Above this, the connections
    /// whose findings depend on each other are grouped, written to spill
    /// files in the output folder and judged one group at a time; the
    /// findings are the same. About 600 bytes of memory per connection.
    #[arg(long, default_value_t = crate::limits::SCAN_MAX_IN_MEMORY, value_name = "N")]
    pub max_in_memory: u64,
    /// Summary style on stdout.
    #[arg(long, value_enum, default_value_t = SummaryStyle::Human)]
    pub summary: SummaryStyle,
    /// No progress bar, no warnings (errors still go to stderr).
    #[arg(short, long)]
    pub quiet: bool,
    /// More detail: per-file statistics on stderr, every finding in the
    /// summary on stdout.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--roots-at` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootsAt {
    /// The time of the scan.
    Now,
    /// Midnight UTC of a day, seconds since the epoch.
    Day(i64),
}

/// `now` or a `YYYY-MM-DD` day.
fn parse_roots_at(text: &str) -> Result<RootsAt, String> {
    if text.eq_ignore_ascii_case("now") {
        return Ok(RootsAt::Now);
    }
    crate::x509::parse_day(text)
        .map(RootsAt::Day)
        .ok_or_else(|| format!("{text}: expected YYYY-MM-DD or now"))
}

/// `--format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Apache Parquet, zstd-compressed.
    Parquet,
    /// JSON lines, one object per row.
    Jsonl,
}

/// `--fail-on` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SeverityArg {
    /// Any finding.
    Info,
    /// Low and above.
    Low,
    /// Medium and above (interception evidence).
    Medium,
    /// High only.
    High,
}

/// `--summary` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryStyle {
    /// A table for a terminal.
    Human,
    /// One JSON object.
    Json,
}

impl SeverityArg {
    /// The severity.
    pub fn severity(self) -> Severity {
        match self {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
        }
    }
}

impl ScanArgs {
    /// The pipeline's configuration.
    pub fn config(&self) -> Config {
        Config {
            inputs: self.inputs.clone(),
            out: self.out.clone(),
            threads: self.threads.filter(|n| *n > 0),
            trust_stores: self.trust_stores.clone(),
            default_roots: !self.no_default_roots,
            roots_at: self.roots_at.map(|r| match r {
                RootsAt::Day(s) => s.saturating_mul(1_000_000),
                RootsAt::Now => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .and_then(|d| i64::try_from(d.as_micros()).ok())
                    .unwrap_or(i64::MAX),
            }),
            format: match self.format {
                FormatArg::Parquet => Format::Parquet,
                FormatArg::Jsonl => Format::Jsonl,
            },
            layout: if self.partition {
                crate::output::Layout::Hive {
                    sensor: self.sensor.clone(),
                }
            } else {
                crate::output::Layout::Single
            },
            use_mmap: !self.no_mmap,
            thresholds: crate::analysis::Thresholds::default(),
            baseline: self.baseline.clone(),
            keylogs: self.keylogs.clone(),
            max_in_memory: self.max_in_memory,
            flow_limits: crate::flow::FlowLimits {
                idle_timeout_us: i64::from(self.flow_timeout) * 1_000_000,
                close_delay_us: crate::limits::FLOW_CLOSE_DELAY_US,
                max_flows_per_shard: (self.max_flows / crate::limits::FLOW_SHARDS).max(1),
            },
        }
    }
}
