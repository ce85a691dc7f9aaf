//! Saving an index beside its trace (`TRACE.kbidx`, or in the user's cache directory when the
//! trace's directory is read-only) and finding it again.
//!
//! A saved index is used only when it was written by this version of kblame for a trace of
//! the same size and modification time, and its checksum (CRC-32 of its bytes) holds;
//! otherwise it is ignored and written again.
//!
//! Layout: magic, layout version, CRC-32 and length of the head, the head (postcard: the
//! stamps and every table a question needs to choose its objects), then the record table (16
//! bytes a record, grouped by object, with a CRC-32 per object in the head) and the UID table
//! (with its own CRC-32). A repeat question reads the head and only its objects' records.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::{packed, OnDisk, TraceIndex};
use crate::files;

/// The first bytes of an index file.
const MAGIC: &[u8; 8] = b"KBLAMEIX";

/// Bumped whenever the stored layout changes.
const LAYOUT: u32 = 3;

/// Magic, layout, head CRC, head length.
const PREAMBLE: usize = 8 + 4 + 4 + 8;

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

/// The head of an index file, as read.
#[derive(Deserialize)]
struct Head {
    kblame: String,
    stamp: TraceStamp,
    index: TraceIndex,
    #[serde(with = "packed")]
    object_crcs: Vec<u32>,
    records: u64,
    uids_len: u64,
    uids_crc: u32,
}

/// [`Head`], borrowed for writing (same fields, same order).
#[derive(Serialize)]
struct HeadRef<'a> {
    kblame: &'a str,
    stamp: TraceStamp,
    index: &'a TraceIndex,
    #[serde(with = "packed")]
    object_crcs: Vec<u32>,
    records: u64,
    uids_len: u64,
    uids_crc: u32,
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

/// The saved index of `trace`, if one matches `stamp`: its head, with the record and UID
/// tables left in the file (see [`OnDisk`]).
pub fn load(trace: &Path, stamp: &TraceStamp) -> Result<(TraceIndex, PathBuf), Unusable> {
    let mut why = Unusable::Missing;
    for place in locations(trace) {
        let Ok(file) = fs::File::open(&place) else {
            continue;
        };
        match read_head(file) {
            Ok((head, _)) if head.stamp != *stamp || head.kblame != env!("CARGO_PKG_VERSION") => {
                why = Unusable::Stale(place)
            }
            Ok((head, head_len)) => {
                if let Err(detail) = head.index.validate(head.records, stamp.size) {
                    why = Unusable::Damaged(place, detail);
                    continue;
                }
                let mut index = head.index;
                let records_at = (PREAMBLE + head_len) as u64;
                // Bounded by the file's length below (so are the reads they lead to); checked so
                // that a damaged head cannot overflow them.
                let uids_at = head
                    .records
                    .checked_mul(RECORD_BYTES)
                    .and_then(|bytes| bytes.checked_add(records_at));
                let expected = uids_at.and_then(|at| at.checked_add(head.uids_len));
                let (Some(uids_at), Some(expected)) = (uids_at, expected) else {
                    why = Unusable::Damaged(place, "its tables' sizes are wrong".to_string());
                    continue;
                };
                index.on_disk = Some(OnDisk {
                    path: place.clone(),
                    records_at,
                    object_crcs: head.object_crcs,
                    uids_at,
                    uids_len: head.uids_len,
                    uids_crc: head.uids_crc,
                });
                match fs::metadata(&place) {
                    Ok(meta) if meta.len() == expected => return Ok((index, place)),
                    _ => why = Unusable::Damaged(place, "its length is wrong".to_string()),
                }
            }
            Err(detail) => why = Unusable::Damaged(place, detail),
        }
    }
    Err(why)
}

/// Bytes per stored record.
const RECORD_BYTES: u64 = 16;

fn read_head(mut file: impl Read) -> Result<(Head, usize), String> {
    let mut preamble = [0u8; PREAMBLE];
    file.read_exact(&mut preamble)
        .map_err(|_| "not a kblame index".to_string())?;
    if &preamble[..MAGIC.len()] != MAGIC {
        return Err("not a kblame index".to_string());
    }
    let word = |at: usize| {
        u32::from_le_bytes([
            preamble[at],
            preamble[at + 1],
            preamble[at + 2],
            preamble[at + 3],
        ])
    };
    if word(8) != LAYOUT {
        return Err(format!("layout {} (this kblame reads {LAYOUT})", word(8)));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&preamble[16..24]);
    let head_len = usize::try_from(u64::from_le_bytes(len))
        .map_err(|_| "its head length is wrong".to_string())?;
    let mut head = Vec::new();
    file.take(head_len as u64)
        .read_to_end(&mut head)
        .map_err(|err| err.to_string())?;
    if head.len() != head_len || crc32fast::hash(&head) != word(12) {
        return Err("checksum mismatch".to_string());
    }
    let head = postcard::from_bytes(&head).map_err(|err| err.to_string())?;
    Ok((head, head_len))
}

/// Saves the index of `trace`, beside it or else in the cache directory; returns where.
pub fn save(trace: &Path, stamp: &TraceStamp, index: &TraceIndex) -> io::Result<PathBuf> {
    let parts = encode_parts(stamp, index)?;
    let parts = [&parts[0][..], &parts[1][..], &parts[2][..]];
    let mut last_err = io::Error::other("no place to save the index");
    for place in locations(trace) {
        match write_atomically(trace, &place, &parts) {
            Ok(()) => return Ok(place),
            Err(err) => last_err = err,
        }
    }
    Err(last_err)
}

/// The head, record table and UID table of an index, as an index file holds them after its
/// preamble.
fn encode_parts(stamp: &TraceStamp, index: &TraceIndex) -> io::Result<[Vec<u8>; 3]> {
    let records = packed::encode_words(&index.records);
    let object_crcs = index
        .objects
        .iter()
        .map(|o| {
            let range = o.records.0 as usize * RECORD_BYTES as usize
                ..o.records.1 as usize * RECORD_BYTES as usize;
            crc32fast::hash(records.get(range).unwrap_or_default())
        })
        .collect();
    let uids = postcard::to_stdvec(&index.uids).map_err(io::Error::other)?;
    let head = HeadRef {
        kblame: env!("CARGO_PKG_VERSION"),
        stamp: *stamp,
        index,
        object_crcs,
        records: index.records.len() as u64,
        uids_len: uids.len() as u64,
        uids_crc: crc32fast::hash(&uids),
    };
    let head = postcard::to_stdvec(&head).map_err(io::Error::other)?;
    Ok([head, records, uids])
}

/// The bytes of an index file for `index` (of a trace with `stamp`), in memory: what the
/// index at the end of a trace compresses ([`super::embedded`]).
pub fn encode(stamp: &TraceStamp, index: &TraceIndex) -> io::Result<Vec<u8>> {
    let [head, records, uids] = encode_parts(stamp, index)?;
    let mut bytes = Vec::with_capacity(PREAMBLE + head.len() + records.len() + uids.len());
    bytes.extend_from_slice(&preamble(&head));
    bytes.extend_from_slice(&head);
    bytes.extend_from_slice(&records);
    bytes.extend_from_slice(&uids);
    Ok(bytes)
}

/// An index from the bytes [`encode`] made, with its record and UID tables in memory, and the
/// stamp it was saved with. Every checksum must hold, and every table must point where it may
/// ([`TraceIndex::validate`] against the stamp's size): the bytes may come from a hostile file.
pub fn decode(bytes: &[u8]) -> Result<(TraceIndex, TraceStamp), String> {
    let (head, head_len) = read_head(bytes)?;
    let records_at = PREAMBLE + head_len;
    let tables = bytes.get(records_at..).unwrap_or_default();
    let records_len = head
        .records
        .checked_mul(RECORD_BYTES)
        .and_then(|len| usize::try_from(len).ok())
        .filter(|&len| len <= tables.len())
        .ok_or("its record table is cut short")?;
    let (records, uids) = tables.split_at(records_len);
    if uids.len() as u64 != head.uids_len || crc32fast::hash(uids) != head.uids_crc {
        return Err("its UID table is damaged".to_string());
    }
    let mut index = head.index;
    index.validate(head.records, head.stamp.size)?;
    if head.object_crcs.len() != index.objects.len() {
        return Err("its record checksums are damaged".to_string());
    }
    for (object, crc) in index.objects.iter().zip(&head.object_crcs) {
        let range = object.records.0 as usize * RECORD_BYTES as usize
            ..object.records.1 as usize * RECORD_BYTES as usize;
        if records.get(range).map(crc32fast::hash) != Some(*crc) {
            return Err("its records are damaged".to_string());
        }
    }
    index.records = packed::decode_words(records);
    if !index.records.iter().all(|at| index.locates(at)) {
        return Err("a record lies outside the trace".to_string());
    }
    index.uids = postcard::from_bytes(uids).map_err(|err| err.to_string())?;
    if index.uids.len() != index.object_of_uid.len() {
        return Err("its UID table does not match its objects".to_string());
    }
    Ok((index, head.stamp))
}

/// Writes to a temporary file and renames it, so a reader never sees half an index.
///
/// The index holds the trace's names and UIDs, so it gets the trace's mode (never more than
/// 0600 when that is unknown), and a cache directory it creates is the owner's only.
fn write_atomically(trace: &Path, place: &Path, parts: &[&[u8]; 3]) -> io::Result<()> {
    if let Some(dir) = place.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir_all(dir)?;
    }
    let mode = files::mode_of(trace).unwrap_or(files::PRIVATE);
    let mut temp = place.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let written = write_index(&temp, mode, parts).and_then(|()| fs::rename(&temp, place));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Writes the preamble, the head and the tables.
fn write_index(path: &Path, mode: u32, [head, records, uids]: &[&[u8]; 3]) -> io::Result<()> {
    let mut file = io::BufWriter::new(files::create_with_mode(path, mode)?);
    file.write_all(&preamble(head))?;
    file.write_all(head)?;
    file.write_all(records)?;
    file.write_all(uids)?;
    let file = file.into_inner().map_err(|err| err.into_error())?;
    file.sync_all()
}

/// Magic, layout, the head's CRC-32 and length.
fn preamble(head: &[u8]) -> [u8; PREAMBLE] {
    let mut preamble = [0u8; PREAMBLE];
    preamble[..8].copy_from_slice(MAGIC);
    preamble[8..12].copy_from_slice(&LAYOUT.to_le_bytes());
    preamble[12..16].copy_from_slice(&crc32fast::hash(head).to_le_bytes());
    preamble[16..24].copy_from_slice(&(head.len() as u64).to_le_bytes());
    preamble
}
