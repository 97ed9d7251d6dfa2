//! Rows to Arrow columns and back. Each table's columns are declared once, in
//! `tables.rs`, as a list of [`Spec`]s: a name, a description, and how a
//! row's cell is taken out and put back. The same list gives the schema (with
//! each description in its field's metadata), the arrays, and the reader.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// One column of a table: its name, what it holds, and its cells.
pub struct Spec<R> {
    /// Column name (snake_case, STYLE.md §6).
    pub name: &'static str,
    /// What a user reads in the schema.
    pub desc: &'static str,
    /// Its Arrow type, and how a row's cell is read and written.
    pub cell: Cell<R>,
}

/// A column's type, with the functions that take a row's cell out (to
/// write it) and put a read cell back into a row. A reader gets null for a
/// column the table lacks, and its setter chooses what that means.
pub enum Cell<R> {
    /// A non-null string.
    Text(fn(&R) -> &str, fn(&mut R, Option<String>)),
    /// A nullable string.
    TextOpt(fn(&R) -> Option<&str>, fn(&mut R, Option<String>)),
    /// A list of strings, never null (empty instead).
    List(fn(&R) -> &[String], fn(&mut R, Vec<String>)),
    /// A list of codes (see `crate::codes`), each spelled by the getter.
    Codes(fn(&R) -> Vec<&'static str>, fn(&mut R, Vec<String>)),
    /// A UTC microsecond timestamp.
    Time(fn(&R) -> Option<i64>, fn(&mut R, Option<i64>)),
    /// A 32-bit integer.
    Int32(fn(&R) -> Option<i32>, fn(&mut R, Option<i32>)),
    /// A 64-bit integer.
    Int64(fn(&R) -> Option<i64>, fn(&mut R, Option<i64>)),
    /// A boolean.
    Flag(fn(&R) -> Option<bool>, fn(&mut R, Option<bool>)),
    /// Bytes, never null (empty instead).
    Bytes(fn(&R) -> &[u8], fn(&mut R, Vec<u8>)),
}

impl<R> Cell<R> {
    /// Puts the cell of row `i` of `col` into `row`.
    fn read(&self, col: &Column<'_>, i: usize, row: &mut R) {
        match self {
            Cell::Text(_, set) | Cell::TextOpt(_, set) => set(row, col.text(i)),
            Cell::List(_, set) | Cell::Codes(_, set) => set(row, col.list(i)),
            Cell::Time(_, set) | Cell::Int64(_, set) => set(row, col.int(i)),
            Cell::Int32(_, set) => set(row, col.int(i).and_then(|v| i32::try_from(v).ok())),
            Cell::Flag(_, set) => set(row, col.flag(i)),
            Cell::Bytes(_, set) => set(row, col.bytes(i)),
        }
    }
}

/// Fills `out` (one slot per row, left as they are past the batch's rows)
/// with the rows of `batch`, column by column as `specs` declare them.
pub fn read_into<R>(batch: &RecordBatch, out: &mut [R], specs: &[Spec<R>]) {
    let cells = Cells::new(batch);
    let columns: Vec<(Column<'_>, &Cell<R>)> = specs
        .iter()
        .map(|s| (cells.column(s.name), &s.cell))
        .collect();
    for (i, row) in out.iter_mut().enumerate().take(cells.len()) {
        for (col, cell) in &columns {
            cell.read(col, i, row);
        }
    }
}

/// Field metadata key holding a column's description.
pub const DESCRIPTION_KEY: &str = "description";

/// Accumulates fields and arrays for one table.
pub struct Cols<'r, R> {
    rows: Vec<&'r R>,
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

impl<'r, R> Cols<'r, R> {
    /// The columns `specs` declare over `rows` (no rows give just the
    /// schema). Rows are borrowed one by one, so a partition's rows need not
    /// be contiguous.
    pub fn new(rows: impl IntoIterator<Item = &'r R>, specs: &[Spec<R>]) -> Self {
        let mut c = Cols {
            rows: rows.into_iter().collect(),
            fields: Vec::new(),
            arrays: Vec::new(),
        };
        for s in specs {
            c.column(s);
        }
        c
    }

    fn column(&mut self, s: &Spec<R>) {
        let (name, desc) = (s.name, s.desc);
        match s.cell {
            Cell::Text(get, _) => self.text(name, desc, get),
            Cell::TextOpt(get, _) => self.text_opt(name, desc, get),
            Cell::List(get, _) => self.list(name, desc, get),
            Cell::Codes(get, _) => self.codes(name, desc, get),
            Cell::Time(get, _) => self.time(name, desc, get),
            Cell::Int32(get, _) => self.int32(name, desc, get),
            Cell::Int64(get, _) => self.int64(name, desc, get),
            Cell::Flag(get, _) => self.flag(name, desc, get),
            Cell::Bytes(get, _) => self.bytes(name, desc, get),
        }
    }

    fn add(&mut self, name: &str, desc: &str, dt: DataType, nullable: bool, array: ArrayRef) {
        let meta = HashMap::from([(DESCRIPTION_KEY.to_string(), desc.to_string())]);
        self.fields
            .push(Field::new(name, dt, nullable).with_metadata(meta));
        self.arrays.push(array);
    }

    /// A non-null string column.
    fn text(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> &str) {
        let a = StringArray::from_iter_values(self.rows.iter().map(|r| f(r)));
        self.add(name, desc, DataType::Utf8, false, Arc::new(a));
    }

    /// A nullable string column.
    fn text_opt(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<&str>) {
        let a: StringArray = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Utf8, true, Arc::new(a));
    }

    /// A list-of-strings column (never null; empty lists instead).
    fn list(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> &[String]) {
        self.string_lists(name, desc, |r, b| {
            for v in f(r) {
                b.append_value(v);
            }
        });
    }

    /// A list-of-strings column of codes (never null; empty lists instead).
    fn codes(&mut self, name: &str, desc: &str, f: fn(&R) -> Vec<&'static str>) {
        self.string_lists(name, desc, |r, b| {
            for v in f(r) {
                b.append_value(v);
            }
        });
    }

    /// A list-of-strings column whose values `put` appends, row by row.
    fn string_lists(&mut self, name: &str, desc: &str, put: impl Fn(&R, &mut StringBuilder)) {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in &self.rows {
            put(r, b.values());
            b.append(true);
        }
        self.add(name, desc, list_type(), false, Arc::new(b.finish()));
    }

    /// A UTC microsecond timestamp column.
    fn time(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<i64>) {
        let a: TimestampMicrosecondArray = self.rows.iter().map(|r| f(r)).collect();
        let a = a.with_timezone("UTC");
        self.add(name, desc, timestamp_type(), true, Arc::new(a));
    }

    /// A 32-bit integer column.
    fn int32(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<i32>) {
        let a: Int32Array = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Int32, true, Arc::new(a));
    }

    /// A 64-bit integer column.
    fn int64(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<i64>) {
        let a: Int64Array = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Int64, true, Arc::new(a));
    }

    /// A boolean column.
    fn flag(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<bool>) {
        let a: BooleanArray = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Boolean, true, Arc::new(a));
    }

    /// A binary column.
    fn bytes(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> &[u8]) {
        let a = BinaryArray::from_iter_values(self.rows.iter().map(|r| f(r)));
        self.add(name, desc, DataType::Binary, false, Arc::new(a));
    }

    /// The schema declared so far.
    pub fn schema(&self) -> Schema {
        Schema::new(self.fields.clone())
    }

    /// The record batch.
    pub fn batch(&self) -> Result<RecordBatch, String> {
        RecordBatch::try_new(Arc::new(self.schema()), self.arrays.clone())
            .map_err(|e| e.to_string())
    }
}

/// Reads cells of a batch by column name, for tables written by certsift (or
/// by another tool with compatible columns). Missing columns read as null.
pub struct Cells<'b> {
    batch: &'b RecordBatch,
    /// Columns by name, looked up once per batch rather than once per cell.
    by_name: crate::flow::FastMap<&'b str, &'b ArrayRef>,
}

impl<'b> Cells<'b> {
    /// Wraps a batch.
    pub fn new(batch: &'b RecordBatch) -> Self {
        let schema = batch.schema_ref();
        let by_name = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| (f.name().as_str(), c))
            .collect();
        Cells { batch, by_name }
    }

    /// Rows in the batch.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// One column, found by name once and then read cell by cell.
    pub fn column(&self, name: &str) -> Column<'b> {
        Column(self.by_name.get(name).copied())
    }
}

/// One column of a batch (absent columns read as null).
#[derive(Clone, Copy)]
pub struct Column<'b>(Option<&'b ArrayRef>);

impl Column<'_> {
    /// A string cell.
    fn text(&self, i: usize) -> Option<String> {
        let c = self.0?;
        if c.is_null(i) {
            return None;
        }
        match c.data_type() {
            DataType::Utf8 => c.as_string_opt::<i32>().map(|a| a.value(i).to_string()),
            DataType::LargeUtf8 => c.as_string_opt::<i64>().map(|a| a.value(i).to_string()),
            DataType::Utf8View => c.as_string_view_opt().map(|a| a.value(i).to_string()),
            _ => None,
        }
    }

    /// A list-of-strings cell (empty when null or absent).
    pub(crate) fn list(&self, i: usize) -> Vec<String> {
        let Some(l) = self.0.and_then(|c| c.as_list_opt::<i32>()) else {
            return Vec::new();
        };
        if l.is_null(i) {
            return Vec::new();
        }
        let v = l.value(i);
        let Some(s) = v.as_string_opt::<i32>() else {
            return Vec::new();
        };
        (0..s.len())
            .filter(|j| !s.is_null(*j))
            .map(|j| s.value(j).to_string())
            .collect()
    }

    /// An integer or timestamp cell widened to i64.
    pub fn int(&self, i: usize) -> Option<i64> {
        let c = self.0?;
        if c.is_null(i) {
            return None;
        }
        match c.data_type() {
            DataType::Int64 => c.as_primitive_opt::<Int64Type>().map(|a| a.value(i)),
            DataType::Int32 => c
                .as_primitive_opt::<Int32Type>()
                .map(|a| i64::from(a.value(i))),
            DataType::Timestamp(TimeUnit::Microsecond, _) => c
                .as_primitive_opt::<TimestampMicrosecondType>()
                .map(|a| a.value(i)),
            _ => None,
        }
    }

    /// A boolean cell.
    fn flag(&self, i: usize) -> Option<bool> {
        let c = self.0?;
        if c.is_null(i) {
            return None;
        }
        c.as_boolean_opt().map(|a| a.value(i))
    }

    /// A binary cell.
    fn bytes(&self, i: usize) -> Vec<u8> {
        let Some(c) = self.0 else {
            return Vec::new();
        };
        if c.is_null(i) {
            return Vec::new();
        }
        c.as_binary_opt::<i32>()
            .map(|a| a.value(i).to_vec())
            .unwrap_or_default()
    }
}
