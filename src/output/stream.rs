//! One table written batch by batch, in either format and layout, without
//! holding its rows: what lets a scan of millions of connections write its
//! handshakes as they are judged, and `analyze` its merged tables.
//!
//! In: record batches of one table. Out: the table's files, first under
//! temporary names (`<table>.<ext>.tmp`, or a hidden `.<table>.tmp` folder
//! of partitions), then, on [`Staged::commit`], under their final names. A
//! Parquet file without its footer is not a table, and a `.tmp` name is
//! skipped by every reader, so a run killed before the commit leaves no
//! table that looks complete.
//!
//! Parquet row groups end at [`ROW_GROUP_ROWS`] rows or when the batches
//! waiting for the group hold [`ROW_GROUP_BYTES`]; each group's columns are
//! encoded on every core. Hive layout: handshakes go to the partition of
//! their first packet's UTC date, other tables to the sensor's only.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowLeafColumn, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::errors::ParquetError;
use parquet::file::writer::SerializedFileWriter;
use rayon::prelude::*;

use super::partition::{capture_date, Layout, Table};
use super::{write_jsonl, writer_properties, Format};
use crate::error::Error;

/// Most rows in one Parquet row group (the parquet crate's default maximum).
const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// Most bytes of Arrow batches waiting for one row group: a row group of a
/// million wide handshake rows would otherwise be held whole (about 1 GB).
const ROW_GROUP_BYTES: usize = 32 << 20;

/// A table being written.
pub struct TableStream {
    dir: PathBuf,
    table: Table,
    format: Format,
    schema: SchemaRef,
    /// The sensor label in hive layout.
    sensor: Option<String>,
    /// One file per partition key ("" in the single layout).
    parts: BTreeMap<String, Sink>,
}

/// A table written under temporary names, waiting for its commit.
pub struct Staged {
    dir: PathBuf,
    table: Table,
    format: Format,
    /// Hive layout: the staging folder and the partition keys written.
    hive: Option<(PathBuf, Vec<String>)>,
}

impl TableStream {
    /// Starts `table` in `dir` (which exists) with the rows of `schema`.
    pub fn create(
        dir: &Path,
        table: Table,
        format: Format,
        layout: &Layout,
        schema: SchemaRef,
    ) -> Result<TableStream, Error> {
        let sensor = match layout {
            Layout::Single => None,
            Layout::Hive { sensor } => Some(sensor.clone()),
        };
        let mut s = TableStream {
            dir: dir.to_path_buf(),
            table,
            format,
            schema,
            sensor,
            parts: BTreeMap::new(),
        };
        match &s.sensor {
            Some(_) => {
                let staging = s.staging();
                remove_if_present(&staging)?;
                remove_if_present(&s.dir.join(format!(".{}.old", table.name())))?;
            }
            // the single file exists even when no row comes
            None => s.open_part("")?,
        }
        Ok(s)
    }

    /// The table's schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn staging(&self) -> PathBuf {
        self.dir.join(format!(".{}.tmp", self.table.name()))
    }

    /// Where the file of partition `key` is written first.
    fn tmp_path(&self, key: &str) -> PathBuf {
        let ext = self.format.extension();
        if self.sensor.is_none() {
            return self.dir.join(format!("{}.{ext}.tmp", self.table.name()));
        }
        self.staging().join(key).join(format!("part-0.{ext}"))
    }

    fn open_part(&mut self, key: &str) -> Result<(), Error> {
        let path = self.tmp_path(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Output {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let sink = Sink::create(&path, self.table, self.format, self.schema.clone())?;
        self.parts.insert(key.to_string(), sink);
        Ok(())
    }

    /// Appends a batch of rows (in the table's schema).
    pub fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        let Some(sensor) = self.sensor.clone() else {
            return self.write_part("", batch);
        };
        let times = (self.table == Table::Handshakes)
            .then(|| batch.column_by_name("ts_start"))
            .flatten()
            .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>());
        let Some(times) = times else {
            return self.write_part(&format!("sensor={sensor}"), batch);
        };
        let keys: Vec<String> = (0..times.len())
            .map(|i| {
                let date = capture_date(if times.is_valid(i) { times.value(i) } else { 0 });
                format!("capture_date={date}/sensor={sensor}")
            })
            .collect();
        let mut distinct: Vec<&String> = keys.iter().collect();
        distinct.sort();
        distinct.dedup();
        if let [only] = distinct.as_slice() {
            let key = (*only).clone();
            return self.write_part(&key, batch);
        }
        for key in distinct {
            let mask: BooleanArray = keys.iter().map(|k| Some(k == key)).collect();
            let part = arrow_select::filter::filter_record_batch(&batch, &mask).map_err(|e| {
                Error::Encode {
                    path: self.tmp_path(key),
                    msg: e.to_string(),
                }
            })?;
            self.write_part(key, part)?;
        }
        Ok(())
    }

    fn write_part(&mut self, key: &str, batch: RecordBatch) -> Result<(), Error> {
        if !self.parts.contains_key(key) {
            self.open_part(key)?;
        }
        match self.parts.get_mut(key) {
            Some(sink) => sink.write(batch),
            None => Ok(()),
        }
    }

    /// Ends every file (footers written, data synced); nothing is visible
    /// under the final names yet.
    pub fn finish(mut self) -> Result<Staged, Error> {
        if let Some(sensor) = &self.sensor {
            if self.parts.is_empty() && self.table != Table::Handshakes {
                // an empty table still has a file, so that a glob over it matches
                let key = format!("sensor={sensor}");
                self.open_part(&key)?;
            }
        }
        let keys: Vec<String> = self.parts.keys().cloned().collect();
        for sink in std::mem::take(&mut self.parts).into_values() {
            sink.finish()?;
        }
        let hive = self.sensor.is_some().then(|| {
            let staging = self.staging();
            (staging, keys)
        });
        if let Some((staging, _)) = &hive {
            std::fs::create_dir_all(staging).map_err(|source| Error::Output {
                path: staging.clone(),
                source,
            })?;
        }
        Ok(Staged {
            dir: self.dir,
            table: self.table,
            format: self.format,
            hive,
        })
    }
}

impl Staged {
    fn single(&self) -> PathBuf {
        self.dir
            .join(format!("{}.{}", self.table.name(), self.format.extension()))
    }

    fn folder(&self) -> PathBuf {
        self.dir.join(self.table.name())
    }

    /// Moves the table under its final names; returns its files. A reader
    /// sees the old table or the new one (each file or folder is renamed
    /// whole).
    pub fn commit(self) -> Result<Vec<PathBuf>, Error> {
        let out_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Output { path, source }
        };
        let single = self.single();
        let folder = self.folder();
        let Some((staging, keys)) = self.hive else {
            let mut tmp = single.as_os_str().to_owned();
            tmp.push(".tmp");
            std::fs::rename(PathBuf::from(tmp), &single).map_err(out_err(&single))?;
            remove_if_present(&folder)?;
            return Ok(vec![single]);
        };
        let old = self.dir.join(format!(".{}.old", self.table.name()));
        if folder.exists() {
            std::fs::rename(&folder, &old).map_err(out_err(&folder))?;
        }
        std::fs::rename(&staging, &folder).map_err(out_err(&folder))?;
        remove_if_present(&old)?;
        if single.is_file() {
            std::fs::remove_file(&single).map_err(out_err(&single))?;
        }
        let ext = self.format.extension();
        Ok(keys
            .iter()
            .map(|k| folder.join(k).join(format!("part-0.{ext}")))
            .collect())
    }
}

/// Commits staged tables one after the other, each replacing its old self
/// in one rename: a run killed meanwhile leaves every table whole, some
/// old, some new.
pub fn commit_all(staged: Vec<Staged>) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    for s in staged {
        written.extend(s.commit()?);
    }
    Ok(written)
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    if path.is_dir() {
        std::fs::remove_dir_all(path).map_err(|source| Error::Output {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// One file of a table.
enum Sink {
    Parquet(Box<ParquetSink>),
    Jsonl { path: PathBuf, w: BufWriter<File> },
}

impl Sink {
    fn create(path: &Path, table: Table, format: Format, schema: SchemaRef) -> Result<Sink, Error> {
        let file = File::create(path).map_err(|source| Error::Output {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(match format {
            Format::Jsonl => Sink::Jsonl {
                path: path.to_path_buf(),
                w: BufWriter::new(file),
            },
            Format::Parquet => {
                Sink::Parquet(Box::new(ParquetSink::new(path, table, file, schema)?))
            }
        })
    }

    fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        match self {
            Sink::Parquet(p) => p.write(batch),
            Sink::Jsonl { path, w } => write_jsonl(w, &batch).map_err(|source| Error::Output {
                path: path.clone(),
                source,
            }),
        }
    }

    fn finish(self) -> Result<(), Error> {
        let (path, file) = match self {
            Sink::Parquet(p) => p.finish()?,
            Sink::Jsonl { path, w } => {
                let file = w.into_inner().map_err(|e| Error::Output {
                    path: path.clone(),
                    source: e.into_error(),
                })?;
                (path, file)
            }
        };
        file.sync_all()
            .map_err(|source| Error::Output { path, source })
    }
}

/// A Parquet file whose row groups are encoded a column per core.
struct ParquetSink {
    path: PathBuf,
    schema: SchemaRef,
    w: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    groups: usize,
    waiting: Vec<RecordBatch>,
    waiting_rows: usize,
    waiting_bytes: usize,
}

impl ParquetSink {
    fn new(path: &Path, table: Table, file: File, schema: SchemaRef) -> Result<Self, Error> {
        let enc = |msg: String| Error::Encode {
            path: path.to_path_buf(),
            msg,
        };
        let props = writer_properties(table.name()).map_err(enc)?;
        let w = ArrowWriter::try_new(BufWriter::new(file), schema.clone(), Some(props))
            .map_err(|e| enc(e.to_string()))?;
        let (w, factory) = w.into_serialized_writer().map_err(|e| enc(e.to_string()))?;
        Ok(ParquetSink {
            path: path.to_path_buf(),
            schema,
            w,
            factory,
            groups: 0,
            waiting: Vec::new(),
            waiting_rows: 0,
            waiting_bytes: 0,
        })
    }

    fn enc(&self, e: impl ToString) -> Error {
        encode_err(&self.path, e)
    }

    fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        let mut batch = batch;
        while batch.num_rows() > 0 {
            let room = ROW_GROUP_ROWS - self.waiting_rows;
            let take = room.min(batch.num_rows());
            let head = batch.slice(0, take);
            batch = batch.slice(take, batch.num_rows() - take);
            self.waiting_rows += head.num_rows();
            self.waiting_bytes += head.get_array_memory_size();
            self.waiting.push(head);
            if self.waiting_rows >= ROW_GROUP_ROWS || self.waiting_bytes >= ROW_GROUP_BYTES {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Encodes the waiting batches as one row group, a column per core.
    fn flush(&mut self) -> Result<(), Error> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.waiting);
        self.waiting_rows = 0;
        self.waiting_bytes = 0;
        let schema = self.schema.clone();
        let leaves = batches
            .par_iter()
            .map(|b| {
                let mut leaves = Vec::new();
                for (field, column) in schema.fields().iter().zip(b.columns()) {
                    leaves.extend(compute_leaves(field, column)?);
                }
                Ok(leaves)
            })
            .collect::<Result<Vec<Vec<ArrowLeafColumn>>, ParquetError>>()
            .map_err(|e| self.enc(e))?;
        drop(batches);
        let writers = self
            .factory
            .create_column_writers(self.groups)
            .map_err(|e| self.enc(e))?;
        self.groups += 1;
        let chunks = writers
            .into_par_iter()
            .enumerate()
            .map(|(leaf, mut writer)| {
                for batch in &leaves {
                    if let Some(col) = batch.get(leaf) {
                        writer.write(col)?;
                    }
                }
                writer.close()
            })
            .collect::<Result<Vec<_>, ParquetError>>()
            .map_err(|e| self.enc(e))?;
        let path = &self.path;
        let mut group = self.w.next_row_group().map_err(|e| encode_err(path, e))?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut group)
                .map_err(|e| encode_err(path, e))?;
        }
        group.close().map_err(|e| encode_err(path, e))?;
        Ok(())
    }

    fn finish(mut self) -> Result<(PathBuf, File), Error> {
        self.flush()?;
        let path = self.path;
        let inner = self.w.into_inner().map_err(|e| encode_err(&path, e))?;
        let file = inner.into_inner().map_err(|e| Error::Output {
            path: path.clone(),
            source: e.into_error(),
        })?;
        Ok((path, file))
    }
}

fn encode_err(path: &Path, e: impl ToString) -> Error {
    Error::Encode {
        path: path.to_path_buf(),
        msg: e.to_string(),
    }
}
