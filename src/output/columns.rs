//! Rows to Arrow columns and back. Each table's columns are declared once, in
//! `tables.rs`, through `Cols`: the same calls give the schema (with a
//! description per field in its metadata) and the arrays.

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
    /// Starts a table over `rows` (no rows give just the schema). Rows are
    /// borrowed one by one, so a partition's rows need not be contiguous.
    pub fn new(rows: impl IntoIterator<Item = &'r R>) -> Self {
        Cols {
            rows: rows.into_iter().collect(),
            fields: Vec::new(),
            arrays: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, desc: &str, dt: DataType, nullable: bool, array: ArrayRef) {
        let meta = HashMap::from([(DESCRIPTION_KEY.to_string(), desc.to_string())]);
        self.fields
            .push(Field::new(name, dt, nullable).with_metadata(meta));
        self.arrays.push(array);
    }

    /// A non-null string column.
    pub fn text(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> &str) -> &mut Self {
        let a = StringArray::from_iter_values(self.rows.iter().map(|r| f(r)));
        self.add(name, desc, DataType::Utf8, false, Arc::new(a));
        self
    }

    /// A nullable string column.
    pub fn text_opt(
        &mut self,
        name: &str,
        desc: &str,
        f: impl Fn(&R) -> Option<&str>,
    ) -> &mut Self {
        let a: StringArray = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Utf8, true, Arc::new(a));
        self
    }

    /// A list-of-strings column (never null; empty lists instead).
    pub fn list(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> &[String]) -> &mut Self {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in &self.rows {
            for v in f(r) {
                b.values().append_value(v);
            }
            b.append(true);
        }
        self.add(name, desc, list_type(), false, Arc::new(b.finish()));
        self
    }

    /// A list-of-strings column of codes (see `crate::codes`), each spelled
    /// by `code` (never null; empty lists instead).
    pub fn code_list<C: Copy + 'static>(
        &mut self,
        name: &str,
        desc: &str,
        f: impl Fn(&R) -> &[C],
        code: impl Fn(C) -> &'static str,
    ) -> &mut Self {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in &self.rows {
            for v in f(r) {
                b.values().append_value(code(*v));
            }
            b.append(true);
        }
        self.add(name, desc, list_type(), false, Arc::new(b.finish()));
        self
    }

    /// A UTC microsecond timestamp column.
    pub fn time(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<i64>) -> &mut Self {
        let a: TimestampMicrosecondArray = self.rows.iter().map(|r| f(r)).collect();
        let a = a.with_timezone("UTC");
        self.add(name, desc, timestamp_type(), true, Arc::new(a));
        self
    }

    /// A 32-bit integer column.
    pub fn int32(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<i32>) -> &mut Self {
        let a: Int32Array = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Int32, true, Arc::new(a));
        self
    }

    /// A 64-bit integer column.
    pub fn int64(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<i64>) -> &mut Self {
        let a: Int64Array = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Int64, true, Arc::new(a));
        self
    }

    /// A boolean column.
    pub fn flag(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> Option<bool>) -> &mut Self {
        let a: BooleanArray = self.rows.iter().map(|r| f(r)).collect();
        self.add(name, desc, DataType::Boolean, true, Arc::new(a));
        self
    }

    /// A binary column.
    pub fn bytes(&mut self, name: &str, desc: &str, f: impl Fn(&R) -> &[u8]) -> &mut Self {
        let a = BinaryArray::from_iter_values(self.rows.iter().map(|r| f(r)));
        self.add(name, desc, DataType::Binary, false, Arc::new(a));
        self
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
    pub fn text(&self, i: usize) -> Option<String> {
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
    pub fn list(&self, i: usize) -> Vec<String> {
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
    pub fn flag(&self, i: usize) -> Option<bool> {
        let c = self.0?;
        if c.is_null(i) {
            return None;
        }
        c.as_boolean_opt().map(|a| a.value(i))
    }

    /// A binary cell.
    pub fn bytes(&self, i: usize) -> Vec<u8> {
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
