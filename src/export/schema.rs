//! The export's tables as typed columns, and how a table's rows become one Parquet file.
//!
//! Each table is a row struct with a static list of [`Column`]s: a name, a type, whether it
//! may be null, a one-line meaning, and the function that reads the value from a row. The
//! Arrow schema, the Parquet file and the documented schema (`docs/export.md`, checked by a
//! test) all come from that one list, so they cannot drift apart.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use jiff::Timestamp;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

/// The version of the exported schemas. Adding a column or a table keeps it; renaming,
/// removing or changing the meaning or type of a column bumps it (see `docs/export.md`).
pub const SCHEMA_VERSION: u32 = 1;

/// Rows per Parquet row group: big enough for good compression and few footers, small
/// enough that a reader's first batch comes quickly.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// How a column's value is read from a row, which also fixes the column's type.
pub enum Getter<R> {
    /// UTF-8 text (Parquet `BYTE_ARRAY` `STRING`); JSON values are text too.
    Text(for<'a> fn(&'a R) -> Option<&'a str>),
    /// A 64-bit signed integer (`INT64`).
    Int(fn(&R) -> Option<i64>),
    /// A UTC time, microseconds (`INT64` `TIMESTAMP(MICROS, true)`).
    Time(fn(&R) -> Option<Timestamp>),
    /// A boolean.
    Bool(fn(&R) -> Option<bool>),
}

/// One column of a table.
pub struct Column<R> {
    /// Its name: part of the contract.
    pub name: &'static str,
    /// Whether it may be null.
    pub nullable: bool,
    /// What it means, in one line (the documented schema).
    pub doc: &'static str,
    /// How to read it from a row.
    pub get: Getter<R>,
}

impl<R> Column<R> {
    /// The column's type as the documented schema names it.
    pub fn type_name(&self) -> &'static str {
        match self.get {
            Getter::Text(_) => "string",
            Getter::Int(_) => "int64",
            Getter::Time(_) => "timestamp",
            Getter::Bool(_) => "bool",
        }
    }

    fn data_type(&self) -> DataType {
        match self.get {
            Getter::Text(_) => DataType::Utf8,
            Getter::Int(_) => DataType::Int64,
            Getter::Time(_) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Getter::Bool(_) => DataType::Boolean,
        }
    }

    fn array(&self, rows: &[R]) -> ArrayRef {
        match self.get {
            Getter::Text(get) => Arc::new(rows.iter().map(get).collect::<StringArray>()),
            Getter::Int(get) => Arc::new(rows.iter().map(get).collect::<Int64Array>()),
            Getter::Bool(get) => Arc::new(rows.iter().map(get).collect::<BooleanArray>()),
            Getter::Time(get) => Arc::new(
                rows.iter()
                    .map(|r| get(r).map(|t| t.as_microsecond()))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            ),
        }
    }
}

/// A table of the export: its rows' type names its columns.
pub trait Table: Sized + Sync + 'static {
    /// The table's name: its directory under the output.
    const NAME: &'static str;
    /// What one row is, in one line.
    const ROW: &'static str;
    /// Its columns, in file order.
    fn columns() -> &'static [Column<Self>];
}

/// The Arrow schema of table `T`.
pub fn arrow_schema<T: Table>() -> Arc<Schema> {
    let fields: Vec<Field> = T::columns()
        .iter()
        .map(|c| Field::new(c.name, c.data_type(), c.nullable))
        .collect();
    Arc::new(Schema::new(fields))
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Arrow refused the columns (a null in a column that may not hold one).
    #[error("table {table}: {source}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// Arrow's error.
        source: arrow_schema::ArrowError,
    },
    /// The Parquet writer failed (often the underlying file).
    #[error("table {table}: {source}")]
    Parquet {
        /// The table.
        table: &'static str,
        /// The Parquet error.
        source: parquet::errors::ParquetError,
    },
}

/// Writes `rows` as one Parquet file (zstd, row groups of [`ROW_GROUP_ROWS`]) to `out`, with
/// `metadata` as the file's key-value metadata; returns the bytes written.
pub fn write_parquet<T: Table, W: Write + Send>(
    rows: &[T],
    out: W,
    metadata: &[(&str, String)],
) -> Result<(), SchemaError> {
    let table = T::NAME;
    let schema = arrow_schema::<T>();
    let level = ZstdLevel::try_new(3).map_err(|source| SchemaError::Parquet { table, source })?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("kblame {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(
            metadata
                .iter()
                .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
                .collect(),
        ))
        .build();
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(properties))
        .map_err(|source| SchemaError::Parquet { table, source })?;
    for chunk in rows.chunks(ROW_GROUP_ROWS) {
        let columns: Vec<ArrayRef> = T::columns().iter().map(|c| c.array(chunk)).collect();
        let batch = RecordBatch::try_new(schema.clone(), columns)
            .map_err(|source| SchemaError::Arrow { table, source })?;
        writer
            .write(&batch)
            .map_err(|source| SchemaError::Parquet { table, source })?;
    }
    writer
        .close()
        .map_err(|source| SchemaError::Parquet { table, source })?;
    Ok(())
}

/// The documented schema of table `T` as a Markdown section: the table, what a row is, and a
/// line per column. `docs/export.md` holds these sections; a test keeps them equal.
pub fn markdown<T: Table>() -> String {
    let mut out = format!(
        "### `{}`\n\nOne row per {}.\n\n| column | type | null | meaning |\n| --- | --- | --- | --- |\n",
        T::NAME,
        T::ROW
    );
    for c in T::columns() {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.name,
            c.type_name(),
            if c.nullable { "yes" } else { "no" },
            c.doc
        ));
    }
    out
}
