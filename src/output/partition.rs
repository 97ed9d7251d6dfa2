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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;

use super::{rfc3339_us, write_file, Format};
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

/// Writes one table in `layout`. `time_of` gives a row's partition time
/// (handshakes) or `None` for tables not split by date. Returns the files
/// written.
pub(super) fn write_table<R: Sync>(
    dir: &Path,
    layout: &Layout,
    table: Table,
    format: Format,
    rows: &[R],
    time_of: impl Fn(&R) -> Option<i64>,
    to_batch: impl Fn(&[&R]) -> Result<RecordBatch, String> + Sync,
) -> Result<Vec<PathBuf>, Error> {
    let name = table.name();
    let ext = format.extension();
    let single = dir.join(format!("{name}.{ext}"));
    let folder = dir.join(name);
    let out_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Output { path, source }
    };
    let Layout::Hive { sensor } = layout else {
        let refs: Vec<&R> = rows.iter().collect();
        write_file(&single, name, format, &refs, &to_batch)?;
        if folder.is_dir() {
            std::fs::remove_dir_all(&folder).map_err(out_err(&folder))?;
        }
        return Ok(vec![single]);
    };
    let mut parts: BTreeMap<String, Vec<&R>> = BTreeMap::new();
    for r in rows {
        let key = match time_of(r) {
            Some(ts) => format!("capture_date={}/sensor={sensor}", capture_date(ts)),
            None => format!("sensor={sensor}"),
        };
        parts.entry(key).or_default().push(r);
    }
    if parts.is_empty() && table != Table::Handshakes {
        // an empty table still has a file, so that a glob over it matches
        parts.insert(format!("sensor={sensor}"), Vec::new());
    }
    let staging = dir.join(format!(".{name}.tmp"));
    let old = dir.join(format!(".{name}.old"));
    for stale in [&staging, &old] {
        if stale.exists() {
            std::fs::remove_dir_all(stale).map_err(out_err(stale))?;
        }
    }
    let mut written = Vec::with_capacity(parts.len());
    for (key, refs) in &parts {
        let part_dir = staging.join(key);
        std::fs::create_dir_all(&part_dir).map_err(out_err(&part_dir))?;
        write_file(
            &part_dir.join(format!("part-0.{ext}")),
            name,
            format,
            refs,
            &to_batch,
        )?;
        written.push(folder.join(key).join(format!("part-0.{ext}")));
    }
    std::fs::create_dir_all(&staging).map_err(out_err(&staging))?;
    if folder.exists() {
        std::fs::rename(&folder, &old).map_err(out_err(&folder))?;
    }
    std::fs::rename(&staging, &folder).map_err(out_err(&folder))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(out_err(&old))?;
    }
    if single.is_file() {
        std::fs::remove_file(&single).map_err(out_err(&single))?;
    }
    Ok(written)
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
