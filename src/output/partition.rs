//! Table files on disk: one file per table (`handshakes.parquet`, the
//! default), or hive-style partitions that DuckDB, Spark and Trino prune by
//! folder name:
//!
//! ```text
//! handshakes/capture_date=2026-11-28/sensor=dmz-1/part-0.parquet
//! certificates/sensor=dmz-1/part-0.parquet
//! findings/sensor=dmz-1/part-0.parquet
//! incidents/sensor=dmz-1/part-0.parquet
//! files/sensor=dmz-1/part-0.parquet
//! ```
//!
//! Handshakes are split by the UTC date of the connection's first packet and
//! by the sensor label. Certificates, findings, incidents and files are
//! split by sensor only: a certificate row sums its sightings over every date of the scan
//! and a finding spans dates, so a date partition would put a row under one
//! date and a query pruned to another date would miss it. The partition
//! values live only in the folder names, not inside the files (Spark refuses
//! a column that is both).
//!
//! In: rows and a layout. Out: files, each written to `<file>.tmp` and
//! renamed; a partitioned table is built in a hidden `.<table>.tmp` folder
//! and swapped in whole, so a reader sees the old table or the new one.
//! Also finds a table's files again for reading, in either layout. Left out:
//! appending to an existing partitioned table (each scan writes its own
//! folder; see the README for sharing one object-store prefix).

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use rayon::prelude::*;

use super::stream::{Staged, TableStream};
use super::{rfc3339_us, Format, BUILD_ROWS};
use crate::error::Error;

/// How a scan's tables are laid out on disk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Layout {
    /// One file per table: `<dir>/<table>.<ext>`.
    #[default]
    Single,
    /// Hive-style partition folders under `<dir>/<table>/`.
    Hive {
        /// The `sensor=` partition value (see [`valid_sensor`]).
        sensor: String,
    },
}

/// The tables a scan writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per TLS connection.
    Handshakes,
    /// One row per distinct certificate.
    Certificates,
    /// One row per finding.
    Findings,
    /// One row per interception incident.
    Incidents,
    /// One row per input file.
    Files,
}

impl Table {
    /// The table's name, as in file and folder names.
    pub fn name(self) -> &'static str {
        match self {
            Table::Handshakes => "handshakes",
            Table::Certificates => "certificates",
            Table::Findings => "findings",
            Table::Incidents => "incidents",
            Table::Files => "files",
        }
    }
}

/// Sensor labels become folder names: letters, digits, `.`, `_` and `-`, at
/// most 64, not starting with a dot (no `..`, no hidden folder, nothing a
/// shell or an object store would need escaped).
pub fn valid_sensor(label: &str) -> Result<String, String> {
    let ok = !label.is_empty()
        && label.len() <= 64
        && !label.starts_with('.')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(label.to_string())
    } else {
        Err(format!(
            "sensor label {label:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
        ))
    }
}

/// The `capture_date=` value of a time: its UTC date, `YYYY-MM-DD`.
pub fn capture_date(ts_us: i64) -> String {
    rfc3339_us(ts_us).chars().take(10).collect()
}

/// Writes one table in `layout` from rows in memory: record batches of
/// [`BUILD_ROWS`] rows are built on every core, a few at a time, and
/// streamed (see [`TableStream`]); the table replaces the old one when
/// the [`Staged`] is committed.
pub(super) fn write_table_staged<R: Sync>(
    dir: &Path,
    layout: &Layout,
    table: Table,
    format: Format,
    rows: &[R],
    to_batch: impl Fn(&[&R]) -> Result<RecordBatch, String> + Sync,
) -> Result<Staged, Error> {
    let enc = |msg: String| Error::Encode {
        path: dir.join(format!("{}.{}", table.name(), format.extension())),
        msg,
    };
    let schema = to_batch(&[]).map_err(enc)?.schema();
    let mut stream = TableStream::create(dir, table, format, layout, schema)?;
    let refs: Vec<&R> = rows.iter().collect();
    let group = BUILD_ROWS * 2 * rayon::current_num_threads().max(1);
    for chunk in refs.chunks(group) {
        let built: Vec<Result<RecordBatch, String>> =
            chunk.par_chunks(BUILD_ROWS).map(&to_batch).collect();
        for b in built {
            stream.write(b.map_err(enc)?)?;
        }
    }
    stream.finish()
}

/// Folders below a table folder that a reader descends: `key=value` ones,
/// at most this deep (`capture_date=/sensor=/`, with room for one more key).
const MAX_PARTITION_DEPTH: usize = 3;

/// Whether `dir` holds `table` (Parquet or JSON lines), in either layout.
pub fn has_table(dir: &Path, table: Table) -> bool {
    FORMATS.iter().any(|f| {
        dir.join(format!("{}.{}", table.name(), f.extension()))
            .is_file()
    }) || dir.join(table.name()).is_dir()
}

/// The formats a reader takes, in the order it looks for them.
const FORMATS: [Format; 2] = [Format::Parquet, Format::Jsonl];

/// The files of `table` in a scan folder, in path order: the single file
/// when there is one (Parquet, else JSON lines), else every `*.parquet` or
/// `*.jsonl` under the partition folders (hidden and temporary entries
/// skipped).
pub fn table_files(dir: &Path, table: Table) -> Result<Vec<PathBuf>, Error> {
    for f in FORMATS {
        let single = dir.join(format!("{}.{}", table.name(), f.extension()));
        if single.is_file() {
            return Ok(vec![single]);
        }
    }
    let folder = dir.join(table.name());
    if !folder.is_dir() {
        return Err(Error::Table {
            path: dir.join(format!("{}.parquet", table.name())),
            msg: "cannot open: no such table file (.parquet or .jsonl) or partition folder".into(),
        });
    }
    let mut files = Vec::new();
    collect_parts(&folder, 0, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect_parts(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let err = |e: std::io::Error| Error::Table {
        path: dir.to_path_buf(),
        msg: format!("cannot list: {e}"),
    };
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') || name.ends_with(".tmp") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            if depth < MAX_PARTITION_DEPTH && name.contains('=') {
                collect_parts(&path, depth + 1, out)?;
            }
        } else if FORMATS.iter().any(|f| {
            name.strip_suffix(f.extension())
                .is_some_and(|stem| stem.ends_with('.'))
        }) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_labels_are_safe_folder_names() {
        assert!(valid_sensor("dmz-1").is_ok());
        assert!(valid_sensor("eu.fra_2").is_ok());
        for bad in ["", "..", ".hidden", "a/b", "a b", "x=y", &"s".repeat(65)] {
            assert!(valid_sensor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn capture_dates_are_utc_days() {
        assert_eq!(capture_date(0), "1970-01-01");
        assert_eq!(capture_date(1_795_871_690_202_503), "2026-11-28");
        assert_eq!(capture_date(-1), "1969-12-31");
    }
}
