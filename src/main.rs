//! certsift's binary: parses the command line, calls the library, and turns
//! the outcome into an exit code (0 done, 1 `--fail-on` met, 2 usage or fatal
//! error or no input readable, 3 done but some input damaged; precedence 2, 3,
//! 1).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use certsift::cli::{Cli, Command, ScanArgs, SummaryStyle};
use certsift::error::InputError;
use certsift::output;
use certsift::pipeline;
use certsift::report::Report;
use certsift::rows::{FindingRow, IncidentRow, Severity};
use certsift::summary::Totals;

/// mimalloc instead of glibc's allocator: the scan makes millions of small,
/// short-lived allocations on every core.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("certsift: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Scan(args) => scan(&args),
        Command::Summary {
            scan_dir,
            summary: style,
            verbose,
        } => summary(&scan_dir, style, verbose),
        Command::Analyze {
            scan_dirs,
            out,
            max_in_memory,
            verbose,
        } => analyze(&scan_dirs, &out, max_in_memory, verbose),
        Command::Report {
            scan_dir,
            out,
            title,
            verbose,
        } => report(&scan_dir, &out, title, verbose),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "certsift", &mut buf);
            print(String::from_utf8_lossy(&buf).into_owned());
            Ok(0)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
            print(String::from_utf8_lossy(&buf).into_owned());
            Ok(0)
        }
        Command::Schema => schema(),
    }
}

/// `certsift scan`: the tables, the summary on stdout, and the exit code
/// (2 nothing readable, 3 some input damaged, 1 `--fail-on` met).
fn scan(args: &ScanArgs) -> anyhow::Result<u8> {
    let report = Report::new(args.quiet, args.verbose);
    let summary = pipeline::scan(&args.config(), &report)?;
    let mut totals = Totals::from_run(&summary);
    totals.verbose = args.verbose;
    print(match args.summary {
        SummaryStyle::Human => totals.human(),
        SummaryStyle::Json => totals.json() + "\n",
    });
    if summary.files_read == 0 {
        for e in &summary.input_errors {
            report.error(&e.to_string());
        }
        report.error("no input could be read");
        return Ok(2);
    }
    for e in &summary.input_errors {
        if !matches!(e, InputError::Damaged { .. }) {
            report.warn(&e.to_string());
        }
    }
    if !summary.input_errors.is_empty() {
        return Ok(3);
    }
    Ok(u8::from(args.fail_on.is_some_and(|s| {
        fail_on_met(s.severity(), &summary.findings, &summary.incidents)
    })))
}

/// Whether `--fail-on threshold` is met. Incidents are what a responder
/// acts on; below medium there are none, so the findings count for low and
/// info.
fn fail_on_met(threshold: Severity, findings: &[FindingRow], incidents: &[IncidentRow]) -> bool {
    incidents.iter().any(|i| i.severity >= threshold)
        || (threshold < Severity::Medium && findings.iter().any(|f| f.severity >= threshold))
}

/// `certsift summary`: a finished scan's counts and findings.
fn summary(scan_dir: &Path, style: SummaryStyle, verbose: bool) -> anyhow::Result<u8> {
    let mut totals = Totals::from_dir(scan_dir)?;
    totals.verbose = verbose;
    print(match style {
        SummaryStyle::Human => totals.human(),
        SummaryStyle::Json => totals.json() + "\n",
    });
    Ok(0)
}

/// `certsift analyze`: the findings over several scans' tables, merged.
fn analyze(
    scan_dirs: &[PathBuf],
    out: &Path,
    max_in_memory: u64,
    verbose: bool,
) -> anyhow::Result<u8> {
    let cfg = certsift::analysis::Thresholds::default();
    let merged = output::merge::merge_scans(scan_dirs, out, &cfg, max_in_memory)?;
    let (findings, incidents) = output::merge::write_findings(&merged, out, &cfg)?;
    let mut totals = Totals {
        inputs: Some(merged.files.len()).filter(|n| *n > 0),
        tls_connections: merged.connection_count,
        names: merged.sni_names,
        certificates: merged.certificates.len(),
        findings,
        incidents,
        verbose,
        ..Default::default()
    };
    totals
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    print(totals.human());
    if let Some(g) = &merged.grouping {
        print(format!(
            "grouped  {} connections into {} groups (the largest {}), judged one at a \
             time from spill files\n",
            merged.connection_count, g.groups, g.largest
        ));
    }
    if merged.duplicates > 0 || merged.renamed > 0 {
        Report::new(false, false).warn(&format!(
            "{} connections were in more than one scan and merged once; {} connections \
             had a flow id another connection had and were given a derived one",
            merged.duplicates, merged.renamed
        ));
    }
    Ok(0)
}

/// `certsift report`: one HTML page of a finished scan.
fn report(scan_dir: &Path, out: &Path, title: String, verbose: bool) -> anyhow::Result<u8> {
    let t0 = std::time::Instant::now();
    let opts = certsift::html::RenderOptions {
        title,
        generated_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0),
        products: certsift::analysis::products()
            .iter()
            .map(|p| (p.pattern.clone(), p.product.clone()))
            .collect(),
    };
    let page = certsift::html::render_dir(scan_dir, &opts)?;
    let t_render = t0.elapsed();
    output::write_atomically(out, page.as_bytes())?;
    if verbose {
        eprintln!(
            "read the tables and rendered {} KiB in {:.2} s, wrote in {:.2} s",
            page.len() / 1024,
            t_render.as_secs_f64(),
            (t0.elapsed() - t_render).as_secs_f64()
        );
    }
    print(format!("wrote {}\n", out.display()));
    Ok(0)
}

/// `certsift schema`: every table's columns as JSON; a column of codes
/// (anomalies, trust reasons, finding kinds, severities) lists each code
/// with its line.
fn schema() -> anyhow::Result<u8> {
    let tables: serde_json::Map<String, serde_json::Value> = output::schemas()
        .into_iter()
        .map(|(name, schema)| {
            let cols: Vec<serde_json::Value> = schema
                .fields()
                .iter()
                .map(|f| {
                    let mut col = serde_json::json!({
                        "name": f.name(),
                        "type": f.data_type().to_string(),
                        "nullable": f.is_nullable(),
                        "description": f.metadata().get(output::DESCRIPTION_KEY),
                    });
                    if let Some(codes) = certsift::output::column_codes(name, f.name()) {
                        col["codes"] = codes
                            .iter()
                            .map(|c| serde_json::json!({"code": c.code, "description": c.description}))
                            .collect();
                    }
                    col
                })
                .collect();
            (name.to_string(), cols.into())
        })
        .collect();
    print(serde_json::to_string_pretty(&tables)? + "\n");
    Ok(0)
}

/// Writes to stdout; a closed pipe ends quietly.
fn print(text: String) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
