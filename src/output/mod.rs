//! Rows in, table files out: Parquet (zstd) by default, JSON lines on request.
//! Every file is written to `<table>.<ext>.tmp` and renamed when complete, so a
//! reader never sees half a table. Also reads certsift's Parquet tables back,
//! for `summary`, `analyze` and tests.

mod columns;
pub mod merge;
pub mod partition;
pub mod stream;
mod tables;

pub use columns::DESCRIPTION_KEY;
pub use partition::{Layout, Table};
pub use tables::SCHEMA_VERSION;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::error::Error;
use crate::rows::{CertRow, FileRow, FindingRow, HandshakeRow, IncidentRow};

/// Table file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet, zstd-compressed.
    Parquet,
    /// One JSON object per line, same column names.
    Jsonl,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }
}

/// Rows per record batch when reading and merging.
pub(crate) const BATCH_ROWS: usize = 64 * 1024;

/// Rows per record batch built on one core when writing: small enough that a
/// scan's tens of thousands of rows spread over the cores.
const BUILD_ROWS: usize = 4 * 1024;

/// Creates `dir` if needed and proves it writable, before any work starts.
pub fn prepare_dir(dir: &Path) -> Result<(), Error> {
    let err = |source| Error::Output {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(".certsift-write-probe.tmp");
    std::fs::write(&probe, b"probe").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}

/// Writes the tables into `dir` (created if missing), one file per table;
/// `files` is written when given (a scan knows its inputs; `analyze` does
/// not).
pub fn write_tables(
    dir: &Path,
    format: Format,
    handshakes: &[HandshakeRow],
    certificates: &[CertRow],
    findings: &[FindingRow],
    files: Option<&[FileRow]>,
) -> Result<Vec<PathBuf>, Error> {
    write_scan(
        dir,
        format,
        &Layout::Single,
        handshakes,
        certificates,
        findings,
        files,
    )
}

/// Writes the tables into `dir` (created if missing) in `layout`: one file
/// per table, or hive-style partitions (see [`partition`]). Either way a
/// table appears whole or not at all, and a table left by an earlier scan
/// in the other layout is removed, so readers never see two.
pub fn write_scan(
    dir: &Path,
    format: Format,
    layout: &Layout,
    handshakes: &[HandshakeRow],
    certificates: &[CertRow],
    findings: &[FindingRow],
    files: Option<&[FileRow]>,
) -> Result<Vec<PathBuf>, Error> {
    let mut written = write_row_tables(dir, format, layout, handshakes, certificates, files)?;
    written.extend(write_findings_table(dir, format, layout, findings)?);
    Ok(written)
}

/// The part of [`write_scan`] that does not need the findings: the
/// handshakes, certificates and (when given) files tables, written side by
/// side. A scan runs its analysis meanwhile.
pub fn write_row_tables(
    dir: &Path,
    format: Format,
    layout: &Layout,
    handshakes: &[HandshakeRow],
    certificates: &[CertRow],
    files: Option<&[FileRow]>,
) -> Result<Vec<PathBuf>, Error> {
    prepare_dir(dir)?;
    let (h, others) = rayon::join(
        || write_rows(dir, format, layout, handshakes),
        || -> Result<Vec<PathBuf>, Error> {
            let mut written = Vec::new();
            if let Some(files) = files {
                written.extend(write_rows(dir, format, layout, files)?);
            }
            written.extend(write_rows(dir, format, layout, certificates)?);
            Ok(written)
        },
    );
    let mut written = others?;
    written.extend(h?);
    Ok(written)
}

/// The findings table of [`write_scan`].
pub fn write_findings_table(
    dir: &Path,
    format: Format,
    layout: &Layout,
    findings: &[FindingRow],
) -> Result<Vec<PathBuf>, Error> {
    write_rows(dir, format, layout, findings)
}

/// The incidents table of a scan, in `layout`.
pub fn write_incidents_table(
    dir: &Path,
    format: Format,
    layout: &Layout,
    incidents: &[IncidentRow],
) -> Result<Vec<PathBuf>, Error> {
    write_rows(dir, format, layout, incidents)
}

/// Writes (or replaces) the `incidents` table of a scan folder, one file.
pub fn write_incidents(dir: &Path, incidents: &[IncidentRow]) -> Result<PathBuf, Error> {
    let mut written = write_incidents_table(dir, Format::Parquet, &Layout::Single, incidents)?;
    Ok(written
        .pop()
        .unwrap_or_else(|| dir.join("incidents.parquet")))
}

/// Writes (or replaces) the `findings` table of a scan folder, one file.
pub fn write_findings(dir: &Path, findings: &[FindingRow]) -> Result<PathBuf, Error> {
    let mut written = write_findings_table(dir, Format::Parquet, &Layout::Single, findings)?;
    Ok(written
        .pop()
        .unwrap_or_else(|| dir.join("findings.parquet")))
}

/// Rows of one table, for [`stage`].
pub trait TableRow: Sync + Sized {
    /// The table the rows belong to.
    const TABLE: Table;
    /// The rows as one record batch.
    fn batch(rows: &[&Self]) -> Result<RecordBatch, String>;
}

impl TableRow for HandshakeRow {
    const TABLE: Table = Table::Handshakes;
    fn batch(rows: &[&Self]) -> Result<RecordBatch, String> {
        tables::handshakes(rows.iter().copied()).batch()
    }
}

impl TableRow for CertRow {
    const TABLE: Table = Table::Certificates;
    fn batch(rows: &[&Self]) -> Result<RecordBatch, String> {
        tables::certificates(rows.iter().copied()).batch()
    }
}

impl TableRow for FileRow {
    const TABLE: Table = Table::Files;
    fn batch(rows: &[&Self]) -> Result<RecordBatch, String> {
        tables::files(rows.iter().copied()).batch()
    }
}

impl TableRow for FindingRow {
    const TABLE: Table = Table::Findings;
    fn batch(rows: &[&Self]) -> Result<RecordBatch, String> {
        tables::findings(rows.iter().copied()).batch()
    }
}

impl TableRow for IncidentRow {
    const TABLE: Table = Table::Incidents;
    fn batch(rows: &[&Self]) -> Result<RecordBatch, String> {
        tables::incidents(rows.iter().copied()).batch()
    }
}

/// Writes a table of rows in memory under temporary names; the
/// [`stream::Staged`] commits it.
pub fn stage<R: TableRow>(
    dir: &Path,
    format: Format,
    layout: &Layout,
    rows: &[R],
) -> Result<stream::Staged, Error> {
    partition::write_table_staged(dir, layout, R::TABLE, format, rows, R::batch)
}

/// Writes a table of rows in memory and commits it: the files written.
pub fn write_rows<R: TableRow>(
    dir: &Path,
    format: Format,
    layout: &Layout,
    rows: &[R],
) -> Result<Vec<PathBuf>, Error> {
    stage(dir, format, layout, rows)?.commit()
}

/// An empty stream of table `R`, in `format` and `layout`.
pub fn stream_of<R: TableRow>(
    dir: &Path,
    format: Format,
    layout: &Layout,
) -> Result<stream::TableStream, Error> {
    let schema = R::batch(&[])
        .map_err(|msg| Error::Encode {
            path: dir.join(R::TABLE.name()),
            msg,
        })?
        .schema();
    stream::TableStream::create(dir, R::TABLE, format, layout, schema)
}

/// The handshakes table's schema.
pub fn handshakes_schema() -> arrow_schema::SchemaRef {
    std::sync::Arc::new(tables::handshakes(&[]).schema())
}

/// Rows as one batch of the handshakes table.
pub fn handshakes_batch<'r>(
    rows: impl IntoIterator<Item = &'r HandshakeRow>,
) -> Result<RecordBatch, String> {
    tables::handshakes(rows).batch()
}

/// The rows of a batch of the handshakes table (columns it lacks are left
/// at their defaults).
pub fn handshake_rows(batch: &RecordBatch) -> Vec<HandshakeRow> {
    let mut rows = Vec::new();
    rows.resize_with(batch.num_rows(), HandshakeRow::default);
    tables::handshakes_into(batch, &mut rows);
    rows
}

/// The schemas of the tables, by name.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        ("handshakes", tables::handshakes(&[]).schema()),
        ("certificates", tables::certificates(&[]).schema()),
        ("findings", tables::findings(&[]).schema()),
        ("incidents", tables::incidents(&[]).schema()),
        ("files", tables::files(&[]).schema()),
    ]
}

/// Parquet writer settings of every table file: zstd, and the layout
/// version and table name in the key-value metadata.
fn writer_properties(table: &str) -> Result<WriterProperties, String> {
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).map_err(|e| e.to_string())?,
        ))
        .set_key_value_metadata(Some(vec![
            KeyValue::new("certsift.schema_version".into(), SCHEMA_VERSION.to_string()),
            KeyValue::new("certsift.table".into(), table.to_string()),
            KeyValue::new(
                "certsift.version".into(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
        ]))
        .build())
}

/// Writes `bytes` to `path` through a temporary file and a rename, so the
/// file is either the old one or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let err = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let mut f = File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Writes each row of `batch` as one JSON object, columns in table order.
/// Timestamps become RFC 3339 strings; binary becomes hex.
fn write_jsonl(w: &mut impl Write, batch: &RecordBatch) -> std::io::Result<()> {
    let schema = batch.schema();
    let mut line = String::new();
    for i in 0..batch.num_rows() {
        line.clear();
        line.push('{');
        for (j, field) in schema.fields().iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            line.push_str(&json_string(field.name()));
            line.push(':');
            let value = batch
                .columns()
                .get(j)
                .map(|c| json_cell(c.as_ref(), i))
                .unwrap_or_else(|| "null".into());
            line.push_str(&value);
        }
        line.push_str("}\n");
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn json_cell(c: &dyn Array, i: usize) -> String {
    if c.is_null(i) {
        return "null".into();
    }
    match c.data_type() {
        DataType::Utf8 => json_string(c.as_string::<i32>().value(i)),
        DataType::Int32 => c.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => c.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Boolean => c.as_boolean().value(i).to_string(),
        DataType::Binary => json_string(&hex::encode(c.as_binary::<i32>().value(i))),
        DataType::Timestamp(_, _) => json_string(&rfc3339_us(
            c.as_primitive::<TimestampMicrosecondType>().value(i),
        )),
        DataType::List(_) => {
            let v = c.as_list::<i32>().value(i);
            let items: Vec<String> = (0..v.len()).map(|k| json_cell(v.as_ref(), k)).collect();
            format!("[{}]", items.join(","))
        }
        _ => "null".into(),
    }
}

/// Formats µs since the epoch as `2026-11-29T01:02:03.000004Z`.
pub fn rfc3339_us(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's civil_from_days algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A finished scan's tables, read back from its folder.
#[derive(Debug, Default)]
pub struct Scan {
    /// `handshakes.parquet` rows.
    pub handshakes: Vec<HandshakeRow>,
    /// `certificates.parquet` rows.
    pub certificates: Vec<CertRow>,
    /// `findings.parquet` rows.
    pub findings: Vec<FindingRow>,
    /// `incidents.parquet` rows (empty when the folder has none: a scan
    /// made before incidents existed).
    pub incidents: Vec<IncidentRow>,
    /// `files.parquet` rows (empty when the folder has none).
    pub files: Vec<FileRow>,
}

/// Reads the Parquet tables of a scan folder, in either layout (one file
/// per table, or partition folders; see [`partition`]).
pub fn read_scan(dir: &Path) -> Result<Scan, Error> {
    read_scan_columns(dir, None)
}

/// Like [`read_scan`], but reads only the named `handshakes` columns (the
/// others keep their defaults). `handshakes` is by far the largest table, and
/// building every cell of every row dominates reading a scan back.
pub fn read_scan_columns(dir: &Path, handshake_columns: Option<&[&str]>) -> Result<Scan, Error> {
    Ok(Scan {
        handshakes: read_table(
            dir,
            Table::Handshakes,
            handshake_columns,
            tables::handshakes_into,
        )?,
        findings: read_table(dir, Table::Findings, None, tables::findings_into)?,
        ..read_scan_others(dir)?
    })
}

/// The certificates, incidents and files of a scan folder (handshakes and
/// findings left empty).
fn read_scan_others(dir: &Path) -> Result<Scan, Error> {
    Ok(Scan {
        handshakes: Vec::new(),
        findings: Vec::new(),
        certificates: read_table(dir, Table::Certificates, None, tables::certificates_into)?,
        incidents: if partition::has_table(dir, Table::Incidents) {
            read_table(dir, Table::Incidents, None, tables::incidents_into)?
        } else {
            Vec::new()
        },
        files: if partition::has_table(dir, Table::Files) {
            read_table(dir, Table::Files, None, tables::files_into)?
        } else {
            Vec::new()
        },
    })
}

/// [`read_scan`] without the handshakes (left empty: see
/// [`each_handshake_batch`]) and without the findings' flow ids, which grow
/// with the connections.
pub fn read_scan_light(dir: &Path) -> Result<Scan, Error> {
    let finding_columns: Vec<String> = tables::findings(&[])
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| n != "flow_ids")
        .collect();
    let finding_columns: Vec<&str> = finding_columns.iter().map(String::as_str).collect();
    Ok(Scan {
        handshakes: Vec::new(),
        findings: read_table(
            dir,
            Table::Findings,
            Some(&finding_columns),
            tables::findings_into,
        )?,
        ..read_scan_others(dir)?
    })
}

/// Calls `f` with the handshakes of a scan folder, a batch of rows at a
/// time, each row holding only the named columns (the others keep their
/// defaults).
pub fn each_handshake_batch(
    dir: &Path,
    columns: &[&str],
    mut f: impl FnMut(&[HandshakeRow]),
) -> Result<(), Error> {
    for path in partition::table_files(dir, Table::Handshakes)? {
        for b in table_batches(&path, 8192, Some(columns))? {
            f(&rows_of(&[b?], tables::handshakes_into)?);
        }
    }
    Ok(())
}

/// Calls `f` with each flow id the findings of a scan folder list, as
/// (row of the finding in table order, flow id), reading only that column a
/// batch at a time: the ids grow with the connections, and
/// [`read_scan_light`] leaves them out.
pub fn each_finding_flow_id(dir: &Path, mut f: impl FnMut(usize, &str)) -> Result<(), Error> {
    let mut row = 0;
    for path in partition::table_files(dir, Table::Findings)? {
        for b in table_batches(&path, 8192, Some(&["flow_ids"]))? {
            let b = b?;
            let cells = columns::Cells::new(&b);
            let ids = cells.column("flow_ids");
            for i in 0..cells.len() {
                for id in ids.list(i) {
                    f(row, &id);
                }
                row += 1;
            }
        }
    }
    Ok(())
}

/// Every row of one table, from all its files (either layout).
fn read_table<R: Send + Default>(
    dir: &Path,
    table: Table,
    columns: Option<&[&str]>,
    fill: impl Fn(&RecordBatch, &mut [R]) + Sync,
) -> Result<Vec<R>, Error> {
    let mut batches = Vec::new();
    for path in partition::table_files(dir, table)? {
        batches.extend(read_batches_of(&path, columns)?);
    }
    rows_of(&batches, fill)
}

/// Every row of some batches, built on every core straight into one vector:
/// rows are large, and building them per batch and then moving them doubled
/// the memory touched, most of a read's time.
fn rows_of<R: Send + Default>(
    batches: &[RecordBatch],
    fill: impl Fn(&RecordBatch, &mut [R]) + Sync,
) -> Result<Vec<R>, Error> {
    let mut rows = Vec::new();
    rows.resize_with(batches.iter().map(RecordBatch::num_rows).sum(), R::default);
    let mut slots: Vec<(&RecordBatch, &mut [R])> = Vec::with_capacity(batches.len());
    let mut rest = rows.as_mut_slice();
    for b in batches {
        let (head, tail) = rest.split_at_mut(b.num_rows());
        slots.push((b, head));
        rest = tail;
    }
    slots.into_par_iter().for_each(|(b, out)| fill(b, out));
    Ok(rows)
}

/// Reads every batch of one Parquet file.
pub fn read_batches(path: &Path) -> Result<Vec<RecordBatch>, Error> {
    read_batches_of(path, None)
}

/// Reads every batch of one Parquet file, only the named top-level columns
/// when `columns` is given (names the file lacks are ignored).
fn read_batches_of(path: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>, Error> {
    table_batches(path, 8192, columns)?.collect()
}

/// Opens one Parquet table file; its footer is read, no row yet.
fn open_table(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<File>, Error> {
    let err = |msg: String| Error::Table {
        path: path.to_path_buf(),
        msg,
    };
    let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| err(format!("not a Parquet table: {e}")))
}

/// The record batches of one table file, in order, `batch_rows` rows each,
/// only the named top-level columns when `columns` is given (names the file
/// lacks are ignored); read as they are asked for. A Parquet file, or the
/// JSON lines a `--format jsonl` scan wrote (`.jsonl`), read back with the
/// table's own schema.
pub(crate) fn table_batches(
    path: &Path,
    batch_rows: usize,
    columns: Option<&[&str]>,
) -> Result<Box<dyn Iterator<Item = Result<RecordBatch, Error>> + Send>, Error> {
    let err = move |p: &Path, msg: String| Error::Table {
        path: p.to_path_buf(),
        msg,
    };
    if is_jsonl(path) {
        return jsonl_batches(path, batch_rows, columns);
    }
    let mut builder = open_table(path)?.with_batch_size(batch_rows);
    if let Some(names) = columns {
        let roots = column_indices(builder.schema(), names);
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        builder = builder.with_projection(mask);
    }
    let reader = builder.build().map_err(|e| err(path, e.to_string()))?;
    let path = path.to_path_buf();
    Ok(Box::new(
        reader.map(move |b| b.map_err(|e| err(&path, e.to_string()))),
    ))
}

/// The positions of the named top-level columns in `schema`, in its order
/// (names it lacks are ignored).
fn column_indices(schema: &Schema, names: &[&str]) -> Vec<usize> {
    schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| names.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect()
}

/// Whether a table file is JSON lines (by its extension).
fn is_jsonl(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == Format::Jsonl.extension())
}

/// Rows in one table file: from the footer of a Parquet file, by counting
/// the lines of a JSON lines one.
pub(crate) fn table_rows(path: &Path) -> Result<u64, Error> {
    if !is_jsonl(path) {
        let b = open_table(path)?;
        return Ok(u64::try_from(b.metadata().file_metadata().num_rows()).unwrap_or(0));
    }
    let err = |e: std::io::Error| Error::Table {
        path: path.to_path_buf(),
        msg: format!("cannot read: {e}"),
    };
    let mut r = std::io::BufReader::new(File::open(path).map_err(err)?);
    let mut n = 0u64;
    loop {
        let buf = std::io::BufRead::fill_buf(&mut r).map_err(err)?;
        if buf.is_empty() {
            return Ok(n);
        }
        n += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        let len = buf.len();
        std::io::BufRead::consume(&mut r, len);
    }
}

/// The schema of the table a file belongs to: by its own name
/// (`handshakes.jsonl`) or, in a partitioned layout, the folder it sits
/// under (`handshakes/…/part.jsonl`).
fn schema_of(path: &Path) -> Option<Schema> {
    let stem = path.file_stem().and_then(|s| s.to_str());
    let mut names = stem.into_iter().chain(
        path.ancestors()
            .skip(1)
            .filter_map(|a| a.file_name()?.to_str()),
    );
    let mut all = schemas();
    let i = names.find_map(|n| all.iter().position(|(t, _)| *t == n))?;
    Some(all.swap_remove(i).1)
}

/// [`table_batches`] of a JSON lines file: each line one row, as
/// `write_jsonl` wrote it (timestamps as RFC 3339, binary as hex), decoded
/// by arrow-json against the table's schema. Columns an older scan did not
/// write are null (read as their defaults, as from Parquet), fields a newer
/// one added are ignored; a line that does not fit the schema is an error
/// naming the file.
fn jsonl_batches(
    path: &Path,
    batch_rows: usize,
    columns: Option<&[&str]>,
) -> Result<Box<dyn Iterator<Item = Result<RecordBatch, Error>> + Send>, Error> {
    let err = |msg: String| Error::Table {
        path: path.to_path_buf(),
        msg,
    };
    let schema = schema_of(path).ok_or_else(|| err("not a certsift table name".into()))?;
    let keep = columns.map(|names| column_indices(&schema, names));
    // Every column may be missing from a line (a scan by an older certsift
    // lacks the newer ones): nullable, as a Parquet reader defaults them.
    let schema = std::sync::Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    // arrow-json knows no named time zones without chrono-tz: timestamps are
    // read as naive UTC (the text ends in `Z`) and labelled UTC afterwards.
    let naive: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(unit, Some(_)) => std::sync::Arc::new(
                f.as_ref()
                    .clone()
                    .with_data_type(DataType::Timestamp(*unit, None)),
            ),
            _ => f.clone(),
        })
        .collect();
    let file = File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let reader = arrow_json::ReaderBuilder::new(std::sync::Arc::new(Schema::new(naive)))
        .with_batch_size(batch_rows)
        .build(std::io::BufReader::new(file))
        .map_err(|e| err(format!("not a JSON lines table: {e}")))?;
    let path = path.to_path_buf();
    Ok(Box::new(reader.map(move |b| {
        let bad = |msg: String| Error::Table {
            path: path.clone(),
            msg: format!("not a JSON lines table: {msg}"),
        };
        let b = b.map_err(|e| bad(e.to_string()))?;
        let labelled = b
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| match f.data_type() {
                DataType::Timestamp(_, Some(tz)) => std::sync::Arc::new(
                    c.as_primitive::<TimestampMicrosecondType>()
                        .clone()
                        .with_timezone(tz.clone()),
                ) as arrow_array::ArrayRef,
                _ => c.clone(),
            })
            .collect();
        let b = RecordBatch::try_new(schema.clone(), labelled).map_err(|e| bad(e.to_string()))?;
        match &keep {
            Some(k) => b.project(k).map_err(|e| Error::Table {
                path: path.clone(),
                msg: e.to_string(),
            }),
            None => Ok(b),
        }
    })))
}

/// The codes a column may hold, for `certsift schema`: `None` for a column
/// of free text.
pub fn column_codes(table: &str, column: &str) -> Option<Vec<crate::codes::CodeLine>> {
    match (table, column) {
        ("handshakes", "anomalies") => Some(crate::error::Anomaly::lines()),
        ("handshakes", "trust_reason") | ("certificates", "validation_reason") => {
            Some(crate::x509::TrustReason::lines())
        }
        ("findings", "kind") => Some(crate::analysis::Kind::lines()),
        ("findings" | "incidents", "severity") => Some(crate::rows::Severity::lines()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<HandshakeRow>, Vec<CertRow>, Vec<FindingRow>) {
        let h = HandshakeRow {
            flow_id: "f1".into(),
            file: "a.pcap".into(),
            ts_start: 1_795_871_690_202_503,
            ts_end: 1_795_871_691_103_746,
            client_ip: "192.0.2.10".into(),
            client_port: 40201,
            server_ip: "203.0.113.10".into(),
            server_port: 443,
            sni: Some("www.example.test".into()),
            alpn: vec!["h2".into(), "http/1.1".into()],
            cert_chain_sha256: vec!["aa".into(), "bb".into()],
            leaf_sha256: Some("aa".into()),
            cert_visibility: "plain".into(),
            chain_trusted: Some(false),
            client_ttl: Some(64),
            app_bytes_client: 517,
            app_bytes_server: 4096,
            decryption: Some("decrypted".into()),
            offered_cipher_suites: vec!["TLS_AES_128_GCM_SHA256".into()],
            ..Default::default()
        };
        let c = CertRow {
            info: crate::x509::CertInfo {
                sha256: "aa".into(),
                san_dns: vec!["www.example.test".into()],
                not_before: Some(0),
                key_bits: Some(2048),
                ..Default::default()
            },
            der: vec![1, 2, 3],
            ..Default::default()
        };
        let f = FindingRow {
            finding_id: "x".into(),
            kind: crate::analysis::Kind::IssuerDivergence,
            severity: crate::rows::Severity::High,
            names: vec!["www.example.test".into()],
            accused_sha256: vec!["aa".into()],
            ..Default::default()
        };
        (vec![h], vec![c], vec![f])
    }

    #[test]
    fn incidents_round_trip_in_both_layouts() {
        let i = tables::tests::full_incident();
        for layout in [
            Layout::Single,
            Layout::Hive {
                sensor: "s1".into(),
            },
        ] {
            for format in [Format::Parquet, Format::Jsonl] {
                let dir = tempfile::tempdir().unwrap();
                let (h, c, f) = sample();
                write_scan(dir.path(), format, &layout, &h, &c, &f, None).unwrap();
                write_incidents_table(dir.path(), format, &layout, std::slice::from_ref(&i))
                    .unwrap();
                let scan = read_scan(dir.path()).unwrap();
                assert_eq!(scan.incidents, vec![i.clone()], "{layout:?} {format:?}");
                assert_eq!(scan.findings, f);
            }
        }
    }

    #[test]
    fn parquet_round_trip_keeps_every_column() {
        let dir = tempfile::tempdir().unwrap();
        let (h, c, f) = sample();
        write_tables(dir.path(), Format::Parquet, &h, &c, &f, None).unwrap();
        let scan = read_scan(dir.path()).unwrap();
        assert_eq!(scan.handshakes, h);
        assert_eq!(scan.certificates, c);
        assert_eq!(scan.findings, f);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn many_rows_keep_their_order_across_batches_built_in_parallel() {
        let dir = tempfile::tempdir().unwrap();
        let (h, c, f) = sample();
        let many: Vec<HandshakeRow> = (0..3 * BUILD_ROWS + 17)
            .map(|i| {
                let mut r = h[0].clone();
                r.flow_id = format!("{i:016x}");
                r.ts_start += i as i64;
                r.alpn = (0..i % 3).map(|k| format!("p{k}")).collect();
                r
            })
            .collect();
        for format in [Format::Parquet, Format::Jsonl] {
            write_tables(dir.path(), format, &many, &c, &f, None).unwrap();
        }
        let scan = read_scan(dir.path()).unwrap();
        assert_eq!(scan.handshakes, many);
        let lines = std::fs::read_to_string(dir.path().join("handshakes.jsonl")).unwrap();
        let ids: Vec<String> = lines
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["flow_id"].to_string())
            .collect();
        let want: Vec<String> = many.iter().map(|r| format!("\"{}\"", r.flow_id)).collect();
        assert_eq!(ids, want);
    }

    #[test]
    fn jsonl_has_one_object_per_row_with_typed_values() {
        let dir = tempfile::tempdir().unwrap();
        let (h, c, f) = sample();
        write_tables(dir.path(), Format::Jsonl, &h, &c, &f, None).unwrap();
        let text = std::fs::read_to_string(dir.path().join("handshakes.jsonl")).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["ts_start"], "2026-11-28T13:14:50.202503Z");
        assert_eq!(v["alpn"], serde_json::json!(["h2", "http/1.1"]));
        assert_eq!(v["server_port"], 443);
        assert_eq!(v["sni"], "www.example.test");
        assert!(v["ja3"].is_null());
        let certs = std::fs::read_to_string(dir.path().join("certificates.jsonl")).unwrap();
        let v: serde_json::Value = serde_json::from_str(certs.trim()).unwrap();
        assert_eq!(v["der"], "010203");
        assert_eq!(v["not_before"], "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn schemas_carry_descriptions() {
        for (_, schema) in schemas() {
            for f in schema.fields() {
                assert!(
                    f.metadata()
                        .get(DESCRIPTION_KEY)
                        .is_some_and(|d| !d.is_empty()),
                    "{}",
                    f.name()
                );
            }
        }
    }

    #[test]
    fn rfc3339_handles_leap_years_and_negative_times() {
        assert_eq!(
            rfc3339_us(951_782_400_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(rfc3339_us(-1), "1969-12-31T23:59:59.999999Z");
    }
}
