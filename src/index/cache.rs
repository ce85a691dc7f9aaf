//! A cache of the records questions have read (`TRACE.kbcache`, kept where the index is), so that
//! a repeat question decodes a few small frames instead of every trace frame its records are
//! spread over (issue 15, "a cache of the decoded records a question used").
//!
//! Layout: magic, layout version, CRC-32 and length of the head, the head (postcard: kblame's
//! version, the trace's stamp, the frame table with a CRC-32 of each frame's compressed bytes,
//! the cached objects and their records), then the frames. Each frame is a zstd frame (level 3,
//! with its content checksum) of at most [`FRAME_RAW_BYTES`] raw bytes, cut at record ends
//! (a longer record has a frame of its own); an object's records are contiguous and in line
//! order, objects in the order they were added. The header and control records are cached
//! under [`META`].
//!
//! The file is only ever replaced whole (written to a temporary file, then renamed), so
//! concurrent questions never see half of one; the last to finish wins. A cache of another
//! trace stamp or kblame version, or whose head or a frame fails its checksum, is ignored
//! (a question then reads the trace) and written again. Its size is bounded by [`budget`]:
//! a question whose additions would pass it starts the cache again with only its own objects.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::store::{self, TraceStamp};
use super::{packed, IndexedId, RecordLoc};
use crate::files;
use crate::trace::MAX_FRAME_RAW_BYTES;

/// The file extension of record caches.
pub const EXTENSION: &str = "kbcache";

/// The first bytes of a cache file.
const MAGIC: &[u8; 8] = b"KBLAMECA";

/// Bumped whenever the stored layout changes.
const LAYOUT: u32 = 1;

/// Magic, layout, head CRC, head length.
const PREAMBLE: usize = 8 + 4 + 4 + 8;

/// The raw size a cache frame is cut at (a record longer than this has a frame of its own).
pub const FRAME_RAW_BYTES: usize = 1 << 20;

/// The zstd level of cache frames: written once per question, read by every repeat.
const LEVEL: i32 = 3;

/// The key the header and control records are cached under.
pub const META: IndexedId = u32::MAX;

/// The most bytes the cache of a trace of `trace_size` bytes may take: a quarter of the trace,
/// and at least 64 MiB (a few of the biggest questions of a 1M-record trace).
pub fn budget(trace_size: u64) -> u64 {
    (trace_size / 4).max(64 << 20)
}

/// One frame of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CacheFrame {
    /// Compressed length.
    len: u32,
    /// Decompressed length.
    raw_len: u32,
    /// CRC-32 of the compressed bytes.
    crc: u32,
}

impl packed::Words for CacheFrame {
    const WORDS: usize = 3;
    fn put(&self, out: &mut Vec<u32>) {
        out.extend([self.len, self.raw_len, self.crc]);
    }
    fn take(w: &[u32]) -> Self {
        CacheFrame {
            len: w[0],
            raw_len: w[1],
            crc: w[2],
        }
    }
}

/// One cached object: its id in the index ([`META`] for the control records) and its range of
/// [`Head::records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CachedObject {
    id: IndexedId,
    start: u32,
    end: u32,
}

impl packed::Words for CachedObject {
    const WORDS: usize = 3;
    fn put(&self, out: &mut Vec<u32>) {
        out.extend([self.id, self.start, self.end]);
    }
    fn take(w: &[u32]) -> Self {
        CachedObject {
            id: w[0],
            start: w[1],
            end: w[2],
        }
    }
}

/// The head of a cache file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    kblame: String,
    stamp: TraceStamp,
    #[serde(with = "packed")]
    frames: Vec<CacheFrame>,
    /// Sorted by id.
    #[serde(with = "packed")]
    objects: Vec<CachedObject>,
    /// `frame` is an index into `frames`, `offset` into its decompressed bytes.
    #[serde(with = "packed")]
    records: Vec<RecordLoc>,
}

/// A cache loaded for a question: its head, and the file held open (a concurrent question may
/// replace the file by name; this one keeps reading the version it checked).
#[derive(Debug)]
pub struct RecordCache {
    file: File,
    head: Head,
    /// Where each frame starts in the file.
    starts: Vec<u64>,
    /// The file's length.
    size: u64,
}

/// The decompressed frames a question needs from the cache.
#[derive(Debug, Default)]
pub struct Decoded {
    frames: Vec<Vec<u8>>,
}

impl Decoded {
    /// The bytes of a cached record (`None` when its frame was not decoded or is too short).
    pub fn line(&self, at: &RecordLoc) -> Option<&[u8]> {
        let start = at.offset as usize;
        self.frames
            .get(at.frame as usize)?
            .get(start..start.checked_add(at.len as usize)?)
    }
}

/// The places a cache of `trace` may be kept: where its index may be, with this extension.
pub fn locations(trace: &Path) -> Vec<PathBuf> {
    store::locations(trace)
        .into_iter()
        .map(|place| place.with_extension(EXTENSION))
        .collect()
}

impl RecordCache {
    /// The cache of `trace` if one is usable for this stamp and version of kblame.
    pub fn load(trace: &Path, stamp: &TraceStamp) -> Option<RecordCache> {
        locations(trace)
            .iter()
            .find_map(|place| Self::load_from(place, stamp).ok())
    }

    fn load_from(place: &Path, stamp: &TraceStamp) -> Result<RecordCache, String> {
        let mut file = File::open(place).map_err(|err| err.to_string())?;
        let head = read_head(&mut file)?;
        if head.stamp != *stamp || head.kblame != env!("CARGO_PKG_VERSION") {
            return Err("stale".to_string());
        }
        validate(&head)?;
        let data_at = file.stream_position().map_err(|err| err.to_string())?;
        let mut starts = Vec::with_capacity(head.frames.len());
        let mut end = data_at;
        for frame in &head.frames {
            starts.push(end);
            end += u64::from(frame.len);
        }
        let size = file.metadata().map_err(|err| err.to_string())?.len();
        if size != end {
            return Err("its length is wrong".to_string());
        }
        Ok(RecordCache {
            file,
            head,
            starts,
            size,
        })
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The cached records of an object (in line order), if it is cached.
    pub fn records_of(&self, id: IndexedId) -> Option<&[RecordLoc]> {
        let objects = &self.head.objects;
        let at = objects.binary_search_by_key(&id, |o| o.id).ok()?;
        let o = objects[at];
        self.head.records.get(o.start as usize..o.end as usize)
    }

    /// Reads and decompresses (in parallel) the frames that hold `records`.
    pub fn decode(&mut self, records: &[RecordLoc]) -> io::Result<Decoded> {
        let mut wanted: Vec<u32> = records.iter().map(|r| r.frame).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut compressed = Vec::with_capacity(wanted.len());
        for &frame in &wanted {
            compressed.push((frame, self.read_frame(frame)?));
        }
        let decoded: Vec<(u32, Vec<u8>)> = compressed
            .into_par_iter()
            .map(|(frame, bytes)| {
                let raw_len = self.head.frames[frame as usize].raw_len as usize;
                let raw = zstd::bulk::decompress(&bytes, raw_len).map_err(|err| damaged(&err))?;
                match raw.len() == raw_len {
                    true => Ok((frame, raw)),
                    false => Err(damaged(&"a frame's size is wrong")),
                }
            })
            .collect::<io::Result<_>>()?;
        crate::timings::note("cache frames", || {
            let raw: usize = decoded.iter().map(|(_, raw)| raw.len()).sum();
            format!(
                "{} frames, {:.1} MB raw, of a {:.1} MB cache",
                decoded.len(),
                raw as f64 / 1e6,
                self.size as f64 / 1e6
            )
        });
        let mut frames = vec![Vec::new(); self.head.frames.len()];
        for (frame, raw) in decoded {
            frames[frame as usize] = raw;
        }
        Ok(Decoded { frames })
    }

    /// The compressed bytes of one frame, checked against their CRC-32.
    fn read_frame(&mut self, frame: u32) -> io::Result<Vec<u8>> {
        let meta = self.head.frames[frame as usize];
        self.file
            .seek(SeekFrom::Start(self.starts[frame as usize]))?;
        let mut bytes = vec![0u8; meta.len as usize];
        self.file.read_exact(&mut bytes)?;
        match crc32fast::hash(&bytes) == meta.crc {
            true => Ok(bytes),
            false => Err(damaged(&"a frame's checksum does not hold")),
        }
    }
}

fn damaged(why: &dyn std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the record cache is damaged: {why}"),
    )
}

/// Reads and checks the preamble and head; leaves the file at the first frame.
fn read_head(file: &mut File) -> Result<Head, String> {
    let mut preamble = [0u8; PREAMBLE];
    file.read_exact(&mut preamble)
        .map_err(|_| "not a kblame cache".to_string())?;
    if &preamble[..MAGIC.len()] != MAGIC {
        return Err("not a kblame cache".to_string());
    }
    let word = |at: usize| {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(&preamble[at..at + 4]);
        u32::from_le_bytes(bytes)
    };
    if word(8) != LAYOUT {
        return Err(format!("layout {}", word(8)));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&preamble[16..24]);
    let head_len = u64::from_le_bytes(len);
    let mut head = Vec::new();
    file.take(head_len)
        .read_to_end(&mut head)
        .map_err(|err| err.to_string())?;
    if head.len() as u64 != head_len || crc32fast::hash(&head) != word(12) {
        return Err("checksum mismatch".to_string());
    }
    postcard::from_bytes(&head).map_err(|err| err.to_string())
}

/// Checks that the head points only where it may (a checksum only says the file is as written).
fn validate(head: &Head) -> Result<(), String> {
    let frames_ok = head
        .frames
        .iter()
        .all(|f| u64::from(f.raw_len) <= MAX_FRAME_RAW_BYTES);
    let sorted = head.objects.windows(2).all(|w| w[0].id < w[1].id);
    let ranges_ok = head
        .objects
        .iter()
        .all(|o| o.start <= o.end && o.end as usize <= head.records.len());
    let records_ok = head.records.iter().all(|r| {
        head.frames
            .get(r.frame as usize)
            .is_some_and(|f| u64::from(r.offset) + u64::from(r.len) <= u64::from(f.raw_len))
    });
    match frames_ok && sorted && ranges_ok && records_ok {
        true => Ok(()),
        false => Err("its tables point outside it".to_string()),
    }
}

/// The records of one object to add to the cache: (line, bytes) in line order.
pub type NewObject<'a> = (IndexedId, Vec<(u32, &'a [u8])>);

/// Adds `new` objects (those `old` has not) to the cache of `trace`, keeping what `old` held
/// unless that would pass [`budget`]; replaces the file atomically. Returns where it is.
pub fn add(
    trace: &Path,
    stamp: &TraceStamp,
    old: Option<&mut RecordCache>,
    mut new: Vec<NewObject<'_>>,
) -> io::Result<PathBuf> {
    let old = old.filter(|old| !old.head.objects.is_empty());
    new.retain(|(id, _)| old.as_ref().is_none_or(|old| old.records_of(*id).is_none()));
    new.sort_unstable_by_key(|(id, _)| *id);
    let (raws, mut records, ranges) = layout(&new);
    let frames = compress(&raws)?;
    let added: u64 = frames.iter().map(|(_, bytes)| bytes.len() as u64).sum();
    let keep = old.filter(|old| old.size.saturating_add(added) <= budget(stamp.size));
    let mut head = Head {
        kblame: env!("CARGO_PKG_VERSION").to_string(),
        stamp: *stamp,
        frames: Vec::new(),
        objects: Vec::new(),
        records: Vec::new(),
    };
    if let Some(old) = &keep {
        head = old.head.clone();
        let shift = head.frames.len() as u32;
        records.iter_mut().for_each(|r| r.frame += shift);
    }
    let base = head.records.len() as u32;
    head.frames.extend(frames.iter().map(|(frame, _)| *frame));
    head.records.extend(records);
    head.objects
        .extend(ranges.iter().map(|&(id, start, end)| CachedObject {
            id,
            start: base + start,
            end: base + end,
        }));
    head.objects.sort_unstable_by_key(|o| o.id);
    let new_bytes: Vec<&[u8]> = frames.iter().map(|(_, bytes)| &bytes[..]).collect();
    write(trace, &head, keep, &new_bytes)
}

/// Raw frames of at most [`FRAME_RAW_BYTES`] (cut at record ends), the records' places in them,
/// and each object's range of records.
type Layout = (Vec<Vec<u8>>, Vec<RecordLoc>, Vec<(IndexedId, u32, u32)>);

fn layout(new: &[NewObject<'_>]) -> Layout {
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    let mut records = Vec::new();
    let mut ranges = Vec::new();
    for (id, lines) in new {
        let start = records.len() as u32;
        for (line, bytes) in lines {
            if !current.is_empty() && current.len() + bytes.len() > FRAME_RAW_BYTES {
                raws.push(std::mem::take(&mut current));
            }
            records.push(RecordLoc {
                line: *line,
                frame: raws.len() as u32,
                offset: current.len() as u32,
                len: bytes.len() as u32,
            });
            current.extend_from_slice(bytes);
        }
        ranges.push((*id, start, records.len() as u32));
    }
    if !current.is_empty() {
        raws.push(current);
    }
    (raws, records, ranges)
}

/// Compresses raw frames in parallel, each with zstd's content checksum.
fn compress(raws: &[Vec<u8>]) -> io::Result<Vec<(CacheFrame, Vec<u8>)>> {
    raws.par_iter()
        .map(|raw| {
            let mut encoder = zstd::bulk::Compressor::new(LEVEL)?;
            encoder.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
            let bytes = encoder.compress(raw)?;
            let frame = CacheFrame {
                len: u32::try_from(bytes.len()).map_err(io::Error::other)?,
                raw_len: u32::try_from(raw.len()).map_err(io::Error::other)?,
                crc: crc32fast::hash(&bytes),
            };
            Ok((frame, bytes))
        })
        .collect()
}

/// Writes the cache to a temporary file beside the first place that takes it, and renames it.
fn write(
    trace: &Path,
    head: &Head,
    mut keep: Option<&mut RecordCache>,
    new: &[&[u8]],
) -> io::Result<PathBuf> {
    let head = postcard::to_stdvec(head).map_err(io::Error::other)?;
    let mode = files::mode_of(trace).unwrap_or(files::PRIVATE);
    let mut last_err = io::Error::other("no place to save the record cache");
    for place in locations(trace) {
        let mut temp = place.as_os_str().to_owned();
        // Unique to this process and call: two questions in one process may write at once.
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        temp.push(format!(".{}-{call}.tmp", std::process::id()));
        let temp = PathBuf::from(temp);
        let written = write_file(&temp, mode, &head, keep.as_deref_mut(), new)
            .and_then(|()| fs::rename(&temp, &place));
        match written {
            Ok(()) => return Ok(place),
            Err(err) => {
                let _ = fs::remove_file(&temp);
                last_err = err;
            }
        }
    }
    Err(last_err)
}

fn write_file(
    path: &Path,
    mode: u32,
    head: &[u8],
    keep: Option<&mut RecordCache>,
    new: &[&[u8]],
) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir_all(dir)?;
    }
    let mut out = io::BufWriter::new(files::create_with_mode(path, mode)?);
    out.write_all(MAGIC)?;
    out.write_all(&LAYOUT.to_le_bytes())?;
    out.write_all(&crc32fast::hash(head).to_le_bytes())?;
    out.write_all(&(head.len() as u64).to_le_bytes())?;
    out.write_all(head)?;
    if let Some(old) = keep {
        // The old frames, copied as they are: they were checked when read, and a reader checks
        // each frame's CRC-32 anyway.
        let data_at = old.starts.first().copied().unwrap_or(old.size);
        old.file.seek(SeekFrom::Start(data_at))?;
        let copied = io::copy(&mut (&mut old.file).take(old.size - data_at), &mut out)?;
        if copied != old.size - data_at {
            return Err(damaged(&"it is shorter than its head says"));
        }
    }
    for bytes in new {
        out.write_all(bytes)?;
    }
    out.into_inner().map_err(|err| err.into_error())?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_at_record_ends_and_a_long_record_gets_its_own() {
        let small = vec![b'a'; 600 << 10];
        let long = vec![b'b'; 3 << 20];
        let new = vec![
            (1, vec![(10, &small[..]), (12, &small[..])]),
            (2, vec![(11, &long[..]), (13, &small[..])]),
        ];
        let (raws, records, ranges) = layout(&new);
        let sizes: Vec<usize> = raws.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![600 << 10, 600 << 10, 3 << 20, 600 << 10]);
        assert_eq!(ranges, vec![(1, 0, 2), (2, 2, 4)]);
        assert_eq!(records[2].frame, 2);
        assert_eq!(records[3].offset, 0);
    }
}
