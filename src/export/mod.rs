//! `kblame export`: a trace's causal facts as Parquet tables for fleet engines (DuckDB,
//! DataFusion, Spark), laid out as Hive partitions so many traces land side by side:
//!
//! ```text
//! OUT/<table>/cluster=<cluster>/date=<YYYY-MM-DD>/<sha256 of the trace>.parquet
//! OUT/_kblame/exported/<sha256>@<cluster>.json      (written last: the trace is exported)
//! ```
//!
//! A trace's files are written under temporary names and renamed into place, and its marker
//! comes last, so a reader never sees half a file and an interrupted export is redone whole.
//! Exporting never touches another trace's files: a new day's trace only adds files.

pub mod collect;
pub mod rows;
pub mod schema;

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use self::collect::Tables;
use self::rows::{ChangeRow, Creation, Deletion, EventRow, ObjectRow, PodRunRow, RevisionRow};
use self::schema::{write_parquet, SchemaError, Table, SCHEMA_VERSION};
use crate::files::{create_private, create_private_dir_all};
use crate::query::Loaded;

/// Why a trace could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the trace or writing the output failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        error: io::Error,
    },
    /// No cluster name: neither `--cluster` nor the trace's header gives one.
    #[error("{trace}: no cluster name: the trace's header names none; pass --cluster NAME")]
    NoCluster {
        /// The trace.
        trace: String,
    },
    /// A cluster name that cannot be a partition value.
    #[error("cluster name {0:?} is empty or holds a character other than letters, digits, '.', '_', ':' and '-'")]
    BadCluster(String),
    /// The trace holds no record with a time: it has no day to be filed under.
    #[error("{trace}: no record with a time: nothing to export")]
    Empty {
        /// The trace.
        trace: String,
    },
    /// A table could not be written.
    #[error(transparent)]
    Table(#[from] SchemaError),
}

/// What one trace's export did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exported {
    /// The trace as named.
    pub trace: String,
    /// Its SHA-256: the name of its files.
    pub sha256: String,
    /// The cluster partition.
    pub cluster: String,
    /// The date partition: the UTC day of the trace's first record.
    pub date: String,
    /// The schema version written.
    pub schema_version: u32,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// Bytes written, all tables.
    pub bytes: u64,
    /// Records the trace holds.
    pub records: u64,
    /// The files written, relative to the output directory.
    pub files: Vec<String>,
    /// Whether it was skipped: already exported (its marker was there).
    #[serde(default)]
    pub skipped: bool,
    /// Objects whose rows could not be made, with why.
    pub warnings: Vec<String>,
}

/// The SHA-256 of a file, in hex.
pub fn sha256_of(path: &Path) -> Result<String, ExportError> {
    let mut file = fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Checks a cluster name for use as a partition value: letters, digits, `.`, `_`, `:`, `-`
/// (a kubeconfig cluster name, a context, a GKE or EKS name), so a directory name holds it
/// as it is, unescaped, for every engine.
pub fn check_cluster(name: &str) -> Result<&str, ExportError> {
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if name.is_empty() || !name.chars().all(fine) {
        return Err(ExportError::BadCluster(name.to_string()));
    }
    Ok(name)
}

/// The cluster a trace is filed under: `flag` when given (checked), else the name its header
/// records, with each character a partition value cannot hold made `_` (an EKS context's
/// `arn:aws:eks:REGION:ACCOUNT:cluster/NAME` becomes `…:cluster_NAME`).
pub fn cluster_of(loaded: &Loaded, flag: Option<&str>) -> Result<String, ExportError> {
    if let Some(name) = flag {
        return Ok(check_cluster(name)?.to_string());
    }
    let recorded = loaded
        .history
        .facts
        .header
        .as_ref()
        .and_then(|h| h.source.cluster.as_deref())
        .ok_or_else(|| ExportError::NoCluster {
            trace: loaded.source.clone(),
        })?;
    let name: String = recorded
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':') {
                true => c,
                false => '_',
            },
        )
        .collect();
    Ok(check_cluster(&name)?.to_string())
}

/// Where the markers of exported traces are.
fn marker_dir(out: &Path) -> PathBuf {
    out.join("_kblame").join("exported")
}

/// The export of `sha256` already in `out`: as `cluster` when given, else as any cluster;
/// `None` when there is none of the current schema version.
pub fn already_exported(out: &Path, sha256: &str, cluster: Option<&str>) -> Option<Exported> {
    let dir = marker_dir(out);
    let names: Vec<PathBuf> = match cluster {
        Some(cluster) => vec![dir.join(format!("{sha256}@{cluster}.json"))],
        None => fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{sha256}@")) && n.ends_with(".json"))
            })
            .collect(),
    };
    names.into_iter().find_map(|path| {
        let text = fs::read_to_string(path).ok()?;
        let done: Exported = serde_json::from_str(&text).ok()?;
        (done.schema_version == SCHEMA_VERSION && done.sha256 == sha256).then_some(done)
    })
}

/// Exports one loaded trace into `out` as `cluster`: every table's file, then the marker.
/// `sha256` is the trace file's ([`sha256_of`]).
pub fn export(
    loaded: &mut Loaded,
    sha256: &str,
    cluster: &str,
    out: &Path,
) -> Result<Exported, ExportError> {
    let start = loaded
        .history
        .facts
        .start
        .ok_or_else(|| ExportError::Empty {
            trace: loaded.source.clone(),
        })?;
    let date = day(start);
    let records = loaded.history.facts.records_by_type.values().sum();
    let tables = collect::collect(loaded, sha256);
    let mut done = Exported {
        trace: loaded.source.clone(),
        sha256: sha256.to_string(),
        cluster: cluster.to_string(),
        date: date.clone(),
        schema_version: SCHEMA_VERSION,
        rows: BTreeMap::new(),
        bytes: 0,
        records,
        files: Vec::new(),
        skipped: false,
        warnings: tables.warnings.clone(),
    };
    let place = Place {
        out,
        cluster,
        date: &date,
        sha256,
    };
    write_tables(&tables, &place, &mut done)?;
    write_marker(out, &done)?;
    Ok(done)
}

/// Where a trace's files go.
struct Place<'a> {
    out: &'a Path,
    cluster: &'a str,
    date: &'a str,
    sha256: &'a str,
}

fn write_tables(
    tables: &Tables,
    place: &Place<'_>,
    done: &mut Exported,
) -> Result<(), ExportError> {
    write_table(&tables.changes, place, done)?;
    write_table(&tables.revisions, place, done)?;
    write_table(&tables.pod_runs, place, done)?;
    write_table(&tables.creations, place, done)?;
    write_table(&tables.deletions, place, done)?;
    write_table(&tables.events, place, done)?;
    write_table(&tables.objects, place, done)?;
    Ok(())
}

/// The tables an export writes, by name, in the order written.
pub const TABLES: &[&str] = &[
    ChangeRow::NAME,
    RevisionRow::NAME,
    PodRunRow::NAME,
    Creation::NAME,
    Deletion::NAME,
    EventRow::NAME,
    ObjectRow::NAME,
];

/// The documented schema of every table, as `docs/export.md` holds it.
pub fn schema_markdown() -> String {
    [
        schema::markdown::<ChangeRow>(),
        schema::markdown::<RevisionRow>(),
        schema::markdown::<PodRunRow>(),
        schema::markdown::<Creation>(),
        schema::markdown::<Deletion>(),
        schema::markdown::<EventRow>(),
        schema::markdown::<ObjectRow>(),
    ]
    .join("\n")
}

/// Writes one table's file (also when it has no rows: a reader then finds the schema) under a
/// temporary name, then renames it into place.
fn write_table<T: Table>(
    rows: &[T],
    place: &Place<'_>,
    done: &mut Exported,
) -> Result<(), ExportError> {
    let relative = PathBuf::from(T::NAME)
        .join(format!("cluster={}", place.cluster))
        .join(format!("date={}", place.date));
    let dir = place.out.join(&relative);
    create_private_dir_all(&dir).map_err(io(&dir))?;
    let name = format!("{}.parquet", place.sha256);
    let path = dir.join(&name);
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = create_private(&temporary).map_err(io(&temporary))?;
    let mut writer = BufWriter::new(file);
    let metadata = [
        ("kblame.schema_version", SCHEMA_VERSION.to_string()),
        ("kblame.table", T::NAME.to_string()),
        ("kblame.trace_sha256", place.sha256.to_string()),
        ("kblame.cluster", place.cluster.to_string()),
    ];
    let written = write_parquet(rows, &mut writer, &metadata).and_then(|()| {
        writer.flush().map_err(|e| SchemaError::Parquet {
            table: T::NAME,
            source: e.into(),
        })
    });
    if let Err(err) = written {
        let _ = fs::remove_file(&temporary);
        return Err(err.into());
    }
    drop(writer);
    fs::rename(&temporary, &path).map_err(io(&path))?;
    let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    done.bytes += bytes;
    done.rows.insert(T::NAME.to_string(), rows.len() as u64);
    done.files.push(relative.join(&name).display().to_string());
    Ok(())
}

/// The marker: what was exported, written last (temporary name, then rename).
fn write_marker(out: &Path, done: &Exported) -> Result<(), ExportError> {
    let dir = marker_dir(out);
    create_private_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(format!("{}@{}.json", done.sha256, done.cluster));
    let temporary = dir.join(format!(".{}.{}.tmp", done.sha256, std::process::id()));
    let text = serde_json::to_string_pretty(done).map_err(|e| ExportError::Io {
        path: path.display().to_string(),
        error: e.into(),
    })?;
    let mut file = create_private(&temporary).map_err(io(&temporary))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .map_err(io(&temporary))?;
    drop(file);
    fs::rename(&temporary, &path).map_err(io(&path))
}

/// The error of an I/O step on `path`.
fn io(path: &Path) -> impl FnOnce(io::Error) -> ExportError {
    let path = path.display().to_string();
    move |error| ExportError::Io { path, error }
}

/// The UTC day of `ts`, `YYYY-MM-DD`.
fn day(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_are_partition_values_as_they_are() {
        for fine in [
            "prod-eu-1",
            "gke_acme_europe-west1_prod",
            "arn:aws:eks:eu-west-1:1:cluster.x",
        ] {
            assert_eq!(check_cluster(fine).ok(), Some(fine));
        }
        for bad in ["", "a/b", "a=b", "a b", "a%2F", "ü"] {
            assert!(check_cluster(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_documented_schema_is_the_schema_written() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let docs = fs::read_to_string(root.join("docs/export.md")).unwrap_or_default();
        let schema = schema_markdown();
        if !docs.contains(&schema) {
            let fresh = root.join("target/export-schema.md");
            let _ = fs::write(&fresh, &schema);
            panic!(
                "docs/export.md does not hold the tables' columns as written: the current ones are in {}",
                fresh.display()
            );
        }
        assert!(docs.contains(&format!("Schema version: **{SCHEMA_VERSION}**")));
    }
}
