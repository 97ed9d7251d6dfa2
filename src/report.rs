//! The only writer to stderr: the progress bar, warnings and errors. The bar
//! counts capture bytes and is drawn only when stderr is a terminal and
//! `--quiet` is off; warnings are printed unless `--quiet`.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where a run's progress and warnings go.
pub struct Report {
    bar: ProgressBar,
    quiet: bool,
    verbose: bool,
}

impl Report {
    /// A reporter; `quiet` silences everything but errors.
    pub fn new(quiet: bool, verbose: bool) -> Report {
        let visible = !quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
        ) {
            bar.set_style(style);
        }
        Report {
            bar,
            quiet,
            verbose,
        }
    }

    /// A reporter that prints nothing (library use, tests).
    pub fn silent() -> Report {
        Report {
            bar: ProgressBar::hidden(),
            quiet: true,
            verbose: false,
        }
    }

    /// The run will read `total` bytes.
    pub fn start(&self, total: u64) {
        self.bar.set_length(total);
        // The steady tick is a thread of its own; a hidden bar (library use,
        // a pipeline's non-terminal stderr, every fuzz execution) needs none.
        if !self.bar.is_hidden() {
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    /// Now reading `path`.
    pub fn file(&self, path: &Path) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.bar.set_message(name);
        if self.verbose {
            self.bar.println(format!("reading {}", path.display()));
        }
    }

    /// `n` more bytes were read.
    pub fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Reading is over.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// A problem the run survives (a damaged file, say).
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("certsift: warning: {msg}"));
        }
    }

    /// A detail shown only with `-v`.
    pub fn detail(&self, msg: &str) {
        if self.verbose && !self.quiet {
            self.bar.suspend(|| eprintln!("{msg}"));
        }
    }

    /// An error that ends the run; printed even under `--quiet`.
    pub fn error(&self, msg: &str) {
        self.bar.suspend(|| eprintln!("certsift: error: {msg}"));
    }
}
