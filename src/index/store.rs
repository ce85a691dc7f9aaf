//! Saving an index beside its trace (`TRACE.kbidx`, or in the user's cache directory when the
//! trace's directory is read-only) and finding it again.
//!
//! A saved index is used only when it was written by this version of kblame for a trace of
//! the same size and modification time, and its checksum (CRC-32 of its bytes) holds;
//! otherwise it is ignored and written again.

use std::fs;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::TraceIndex;

/// The first bytes of an index file.
const MAGIC: &[u8; 8] = b"KBLAMEIX";

/// Bumped whenever the stored layout changes.
const LAYOUT: u32 = 2;

/// The file extension of index files.
pub const EXTENSION: &str = "kbidx";

/// What identifies the version of a trace file an index was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time: seconds since the Unix epoch.
    pub modified_secs: u64,
    /// Modification time: nanoseconds within the second.
    pub modified_nanos: u32,
}

impl TraceStamp {
    /// The stamp of the file at `path` now.
    pub fn of(path: &Path) -> io::Result<TraceStamp> {
        let meta = fs::metadata(path)?;
        let modified = meta
            .modified()?
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(TraceStamp {
            size: meta.len(),
            modified_secs: modified.as_secs(),
            modified_nanos: modified.subsec_nanos(),
        })
    }
}

/// What is written after the checksum.
#[derive(Deserialize)]
struct Stored {
    kblame: String,
    stamp: TraceStamp,
    index: TraceIndex,
}

/// [`Stored`], borrowed for writing.
#[derive(Serialize)]
struct StoredRef<'a> {
    kblame: &'a str,
    stamp: TraceStamp,
    index: &'a TraceIndex,
}

/// Why a saved index was not used.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    /// There is none.
    #[error("no index")]
    Missing,
    /// It belongs to another version of the trace (or of kblame).
    #[error("the index at {0} is stale")]
    Stale(PathBuf),
    /// It is damaged.
    #[error("the index at {0} is damaged: {1}")]
    Damaged(PathBuf, String),
}

/// The places the index of `trace` may be kept, in the order they are tried.
pub fn locations(trace: &Path) -> Vec<PathBuf> {
    let mut beside = trace.as_os_str().to_owned();
    beside.push(format!(".{EXTENSION}"));
    let mut places = vec![PathBuf::from(beside)];
    if let Some(dir) = cache_dir() {
        let full = fs::canonicalize(trace).unwrap_or_else(|_| trace.to_path_buf());
        let name = trace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let hash = crc32fast::hash(full.as_os_str().as_encoded_bytes());
        places.push(dir.join(format!("{name}-{hash:08x}.{EXTENSION}")));
    }
    places
}

/// `$XDG_CACHE_HOME/kblame`, or `~/.cache/kblame`.
fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("kblame"))
}

/// The saved index of `trace`, if one matches `stamp`.
pub fn load(trace: &Path, stamp: &TraceStamp) -> Result<(TraceIndex, PathBuf), Unusable> {
    let mut why = Unusable::Missing;
    for place in locations(trace) {
        let Ok(bytes) = fs::read(&place) else {
            continue;
        };
        match decode(&bytes) {
            Ok(stored) if stored.stamp == *stamp && stored.kblame == env!("CARGO_PKG_VERSION") => {
                return Ok((stored.index, place))
            }
            Ok(_) => why = Unusable::Stale(place),
            Err(detail) => why = Unusable::Damaged(place, detail),
        }
    }
    Err(why)
}

fn decode(bytes: &[u8]) -> Result<Stored, String> {
    let header = MAGIC.len() + 8;
    if bytes.len() < header || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a kblame index".to_string());
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if word(MAGIC.len()) != LAYOUT {
        return Err(format!(
            "layout {} (this kblame reads {LAYOUT})",
            word(MAGIC.len())
        ));
    }
    let payload = &bytes[header..];
    if crc32fast::hash(payload) != word(MAGIC.len() + 4) {
        return Err("checksum mismatch".to_string());
    }
    postcard::from_bytes(payload).map_err(|err| err.to_string())
}

/// Saves the index of `trace`, beside it or else in the cache directory; returns where.
pub fn save(trace: &Path, stamp: &TraceStamp, index: &TraceIndex) -> io::Result<PathBuf> {
    let stored = StoredRef {
        kblame: env!("CARGO_PKG_VERSION"),
        stamp: *stamp,
        index,
    };
    let mut last_err = io::Error::other("no place to save the index");
    for place in locations(trace) {
        match write_atomically(&place, &stored) {
            Ok(()) => return Ok(place),
            Err(err) => last_err = err,
        }
    }
    Err(last_err)
}

/// Writes to a temporary file and renames it, so a reader never sees half an index.
fn write_atomically(place: &Path, stored: &StoredRef<'_>) -> io::Result<()> {
    if let Some(dir) = place.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut temp = place.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let written = write_index(&temp, stored).and_then(|()| fs::rename(&temp, place));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Streams the index to `path`: magic, layout, checksum (patched in at the end), payload.
fn write_index(path: &Path, stored: &StoredRef<'_>) -> io::Result<()> {
    let mut file = io::BufWriter::new(fs::File::create(path)?);
    file.write_all(MAGIC)?;
    file.write_all(&LAYOUT.to_le_bytes())?;
    file.write_all(&0u32.to_le_bytes())?;
    let mut payload = Checksummed {
        inner: file,
        hasher: crc32fast::Hasher::new(),
    };
    postcard::to_io(stored, &mut payload).map_err(io::Error::other)?;
    let Checksummed { inner, hasher } = payload;
    let mut file = inner.into_inner().map_err(|err| err.into_error())?;
    file.seek(SeekFrom::Start(MAGIC.len() as u64 + 4))?;
    file.write_all(&hasher.finalize().to_le_bytes())?;
    file.sync_all()
}

/// A writer that checksums what passes through it.
struct Checksummed<W> {
    inner: W,
    hasher: crc32fast::Hasher,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
