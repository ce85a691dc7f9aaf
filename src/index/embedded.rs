//! The index at the end of a trace: kblame's writer appends the trace's index as skippable
//! zstd frames, so that the first question about a new trace reads no more than a repeat one.
//!
//! Layout (docs/trace-format.md, "Index at the end"), after the data frames:
//!
//! ```text
//! [skippable frame 0x184D2A5B: "KBLAMETI", layout (u32 LE), zstd(index file bytes)]
//! [skippable frame 0x184D2A5E: seek table]
//! ```
//!
//! The index file bytes are what [`store`] saves as `TRACE.kbidx`, compressed as one zstd
//! frame that declares its size and carries a checksum. The seek table is the standard one of
//! zstd's seekable format (facebook/zstd contrib/seekable_format/
//! zstd_seekable_compression_format.md, v0.1.0): one entry per frame of the file (the index
//! frame included, the seek table's own frame not), each its compressed and decompressed size
//! (u32 LE, no checksums), then the number of entries (u32), a descriptor byte and the magic
//! number 0x8F92EAB1 as the file's last 4 bytes.
//!
//! Skippable frames (RFC 8878 section 3.1.2) are skipped by every zstd decoder, so old readers,
//! `zstd -d` and kblame's own stream reader see the same text as before. A reader trusts the
//! tail only when all of it holds together: the table's sizes add up to the file's size, its
//! frames are the index's frames, and the index itself validates.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::build::{build, BuildError, IndexWriter};
use super::store::{self, TraceStamp};
use super::TraceIndex;
use crate::trace::frames::FrameLoc;
use crate::trace::{LinePos, WriteHook};

/// The skippable frame that holds the index (one of the 16 skippable magic numbers, RFC 8878
/// section 3.1.2).
pub const INDEX_FRAME_MAGIC: u32 = 0x184D_2A5B;

/// The skippable frame that holds the seek table (zstd's seekable format).
pub const SEEK_TABLE_MAGIC: u32 = 0x184D_2A5E;

/// The last 4 bytes of a file with a seek table.
pub const SEEKABLE_FOOTER_MAGIC: u32 = 0x8F92_EAB1;

/// The first bytes of the index frame's content.
const PAYLOAD_MAGIC: &[u8; 8] = b"KBLAMETI";

/// Bumped whenever the index frame's content changes in a way older readers cannot read.
const PAYLOAD_LAYOUT: u32 = 1;

/// Number of entries, descriptor, magic.
const FOOTER: u64 = 9;

/// A skippable frame's magic number and size.
const SKIPPABLE_HEADER: u64 = 8;

/// Magic, layout.
const PAYLOAD_HEADER: usize = 12;

/// The most frames a seek table may list (zstd's own limit, ZSTD_SEEKABLE_MAXFRAMES, is
/// 0x8000000; a table this long is already 96 MiB).
const MAX_FRAMES: u64 = 1 << 23;

/// The most decompressed bytes an index may claim per compressed byte of its trace: far more
/// than any real index (about 1/7 of a trace), and bounds what a hostile tail can make kblame
/// allocate.
const MAX_INDEX_PER_TRACE_BYTE: u64 = 16;

/// What the bounds above allow however small the trace.
const MIN_LIMIT: u64 = 1 << 20;

/// Level of the index frame's compression.
const LEVEL: i32 = 3;

/// The trace writer's hook that indexes what it writes, so [`crate::trace::TraceWriter::finish`]
/// can append the index (when the trace holds at least `from` bytes of text).
pub struct IndexHook {
    /// `None` once indexing failed: the trace is then indexed when read, as any other.
    index: Option<IndexWriter>,
    from: u64,
}

impl IndexHook {
    /// A hook whose index is appended to traces of at least `from` bytes of text.
    pub fn new(from: u64) -> IndexHook {
        IndexHook {
            index: Some(IndexWriter::new("trace".to_string(), true)),
            from,
        }
    }
}

impl WriteHook for IndexHook {
    fn line(&mut self, at: LinePos, line: &[u8]) {
        let pushed = match (&mut self.index, usize::try_from(at.offset)) {
            (Some(index), Ok(offset)) => index.push_line(at.frame, offset, line).is_ok(),
            _ => false,
        };
        if !pushed {
            self.index = None;
        }
    }

    fn frame_ended(&mut self, frame: u32, loc: FrameLoc) {
        if let Some(index) = &mut self.index {
            if index.frame(loc) != frame {
                self.index = None;
            }
        }
    }

    fn end(self: Box<Self>) -> Option<Vec<u8>> {
        // An index that cannot be made only costs the first question a scan.
        let index = self.index.filter(|index| index.text_bytes() >= self.from)?;
        tail(&index.finish().ok()?).ok()
    }
}

/// The tail to append to a compressed trace whose data frames, all of them, are `index.frames`
/// (contiguous from byte 0): the index frame and the seek table.
pub fn tail(index: &TraceIndex) -> io::Result<Vec<u8>> {
    if !index.compressed {
        return Err(io::Error::other("only a zstd trace can carry its index"));
    }
    let mut data_end = 0u64;
    for frame in &index.frames {
        if frame.offset != data_end {
            return Err(io::Error::other(
                "the trace's frames do not follow one another",
            ));
        }
        data_end += u64::from(frame.len);
    }
    let stamp = TraceStamp {
        size: data_end,
        modified_secs: 0,
        modified_nanos: 0,
    };
    let bytes = store::encode(&stamp, index)?;
    let mut compressor = zstd::bulk::Compressor::new(LEVEL)?;
    compressor.include_checksum(true)?;
    let compressed = compressor.compress(&bytes)?;
    let mut payload = Vec::with_capacity(PAYLOAD_HEADER + compressed.len());
    payload.extend_from_slice(PAYLOAD_MAGIC);
    payload.extend_from_slice(&PAYLOAD_LAYOUT.to_le_bytes());
    payload.extend_from_slice(&compressed);
    let index_frame = skippable(INDEX_FRAME_MAGIC, &payload)?;

    let sizes: Vec<(u32, u32)> = index
        .frames
        .iter()
        .map(|frame| (frame.len, frame.raw_len))
        .chain([(frame_len(&index_frame)?, 0)])
        .collect();
    let mut table = Vec::with_capacity(sizes.len() * 8 + FOOTER as usize);
    for (len, raw_len) in &sizes {
        table.extend_from_slice(&len.to_le_bytes());
        table.extend_from_slice(&raw_len.to_le_bytes());
    }
    table.extend_from_slice(&frame_len(&sizes)?.to_le_bytes());
    // Descriptor: no checksums (bit 7 clear; the data frames carry zstd's own checksums).
    table.push(0);
    table.extend_from_slice(&SEEKABLE_FOOTER_MAGIC.to_le_bytes());

    let mut tail = index_frame;
    tail.extend(skippable(SEEK_TABLE_MAGIC, &table)?);
    Ok(tail)
}

fn frame_len<T>(items: &[T]) -> io::Result<u32> {
    u32::try_from(items.len()).map_err(|_| io::Error::other("the index is too large to embed"))
}

/// A skippable frame holding `content`.
fn skippable(magic: u32, content: &[u8]) -> io::Result<Vec<u8>> {
    let mut frame = Vec::with_capacity(SKIPPABLE_HEADER as usize + content.len());
    frame.extend_from_slice(&magic.to_le_bytes());
    frame.extend_from_slice(&frame_len(content)?.to_le_bytes());
    frame.extend_from_slice(content);
    Ok(frame)
}

/// Indexes the trace at `path` and appends its index to it: for traces written before kblame's
/// writer did so (and for tests). Fails, leaving the file as it was, when the trace already has
/// a tail, is not zstd, or ends in bytes that are no whole frame.
pub fn append(path: &Path) -> Result<(), BuildError> {
    let name = path.display().to_string();
    let failed = |err: io::Error| BuildError::NotFramed(format!("{name}: {err}"));
    let size = std::fs::metadata(path).map_err(failed)?.len();
    if load(path, size).is_ok() {
        return Err(failed(io::Error::other("it already carries its index")));
    }
    let index = build(path, &name, &mut |_, _| {})?;
    let covered = index
        .frames
        .last()
        .map_or(0, |frame| frame.offset + u64::from(frame.len));
    if covered != size || index.summary.cut_short.is_some() {
        return Err(failed(io::Error::other(
            "it does not end with a whole frame",
        )));
    }
    let tail = tail(&index).map_err(failed)?;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(failed)?;
    file.write_all(&tail).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// The index at the end of the trace at `path`, which is `size` bytes long, when it has one
/// that holds together; why not otherwise. Reads only the tail.
pub fn load(path: &Path, size: u64) -> Result<TraceIndex, String> {
    let mut file = File::open(path).map_err(|err| err.to_string())?;
    read_tail(&mut file, size)
}

fn read_tail(file: &mut File, size: u64) -> Result<TraceIndex, String> {
    let no_tail = || "it has no index at its end".to_string();
    if size < FOOTER + SKIPPABLE_HEADER {
        return Err(no_tail());
    }
    let footer = read_at(file, size - FOOTER, FOOTER as usize)?;
    if word(&footer, 5) != SEEKABLE_FOOTER_MAGIC {
        return Err(no_tail());
    }
    let frames = u64::from(word(&footer, 0));
    let descriptor = footer[4];
    if descriptor & 0x7C != 0 {
        return Err("its seek table's descriptor has reserved bits set".to_string());
    }
    let entry = match descriptor & 0x80 {
        0 => 8,
        _ => 12,
    };
    // At least the index frame and one data frame.
    if !(2..=MAX_FRAMES).contains(&frames) {
        return Err(format!("its seek table lists {frames} frames"));
    }
    let content = frames * entry + FOOTER;
    let table_frame = content + SKIPPABLE_HEADER;
    if table_frame > size {
        return Err("its seek table is larger than the file".to_string());
    }
    let table_at = size - table_frame;
    let table = read_at(file, table_at, table_frame as usize)?;
    if word(&table, 0) != SEEK_TABLE_MAGIC || u64::from(word(&table, 4)) != content {
        return Err("its seek table's frame is damaged".to_string());
    }
    let entries: Vec<(u32, u32)> = table[SKIPPABLE_HEADER as usize..]
        .chunks_exact(entry as usize)
        .take(frames as usize)
        .map(|entry| (word(entry, 0), word(entry, 4)))
        .collect();
    let total: u64 = entries.iter().map(|&(len, _)| u64::from(len)).sum();
    if total != table_at {
        return Err("its seek table's sizes do not add up to the file's size".to_string());
    }
    let Some((&(index_len, index_raw), data)) = entries.split_last() else {
        return Err(no_tail());
    };
    let index_at = table_at - u64::from(index_len);
    // No real index is larger than the trace it indexes (about a seventh of it), or than 1 MiB
    // for a tiny one; a larger claim is not read.
    let too_large = u64::from(index_len) > index_at.saturating_add(MIN_LIMIT);
    if index_raw != 0
        || too_large
        || u64::from(index_len) < SKIPPABLE_HEADER + PAYLOAD_HEADER as u64
    {
        return Err("its index frame is damaged".to_string());
    }
    let frame = read_at(file, index_at, index_len as usize)?;
    if word(&frame, 0) != INDEX_FRAME_MAGIC
        || u64::from(word(&frame, 4)) != u64::from(index_len) - SKIPPABLE_HEADER
    {
        return Err("its index frame is damaged".to_string());
    }
    let payload = &frame[SKIPPABLE_HEADER as usize..];
    if &payload[..8] != PAYLOAD_MAGIC {
        return Err("its index frame is not kblame's".to_string());
    }
    let layout = word(payload, 8);
    if layout != PAYLOAD_LAYOUT {
        return Err(format!(
            "its index has layout {layout} (this kblame reads {PAYLOAD_LAYOUT})"
        ));
    }
    let bytes = decompress(&payload[PAYLOAD_HEADER..], index_at)?;
    let (index, stamp) = store::decode(&bytes)?;
    if stamp.size != index_at || !index.compressed || !same_frames(&index.frames, data) {
        return Err("its index is not the index of this trace's frames".to_string());
    }
    Ok(index)
}

/// The index file's bytes: one zstd frame that must declare its size, which is bounded by the
/// trace's size (checked before anything is allocated).
fn decompress(compressed: &[u8], trace_size: u64) -> Result<Vec<u8>, String> {
    let declared = zstd::zstd_safe::get_frame_content_size(compressed)
        .ok()
        .flatten()
        .ok_or("its index frame does not declare its size")?;
    let limit = trace_size
        .saturating_mul(MAX_INDEX_PER_TRACE_BYTE)
        .saturating_add(MIN_LIMIT);
    let Some(capacity) = usize::try_from(declared).ok().filter(|_| declared <= limit) else {
        return Err(format!("its index claims {declared} bytes"));
    };
    let mut decompressor = zstd::bulk::Decompressor::new().map_err(|err| err.to_string())?;
    let bytes = decompressor
        .decompress(compressed, capacity)
        .map_err(|err| format!("its index frame is damaged: {err}"))?;
    if bytes.len() != capacity {
        return Err("its index frame is damaged".to_string());
    }
    Ok(bytes)
}

/// Whether `frames` are the data frames the seek table lists, in order, from byte 0.
fn same_frames(frames: &[FrameLoc], table: &[(u32, u32)]) -> bool {
    let mut at = 0u64;
    frames.len() == table.len()
        && frames.iter().zip(table).all(|(frame, &(len, raw_len))| {
            let same = frame.offset == at && frame.len == len && frame.raw_len == raw_len;
            at += u64::from(len);
            same
        })
}

/// The little-endian u32 at `at` (`bytes` is at least `at + 4` long: the callers check).
fn word(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn read_at(file: &mut File, at: u64, len: usize) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0u8; len];
    file.seek(SeekFrom::Start(at))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|err| format!("its end cannot be read: {err}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_frame_claiming_more_than_its_bound_is_refused_before_allocating() {
        // A frame header (RFC 8878 section 3.1.1.1): single segment, an 8-byte content size of
        // 1 TiB, and no blocks.
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
        frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
        let err = decompress(&frame, 1 << 20).unwrap_err();
        assert!(err.contains("claims 1099511627776 bytes"), "{err}");
        let with_size = zstd::stream::encode_all(&b"abc"[..], 3).unwrap();
        let mut streamed = Vec::new();
        let mut encoder = zstd::stream::write::Encoder::new(&mut streamed, 3).unwrap();
        encoder.include_contentsize(false).unwrap();
        encoder.write_all(b"abc").unwrap();
        encoder.finish().unwrap();
        assert!(decompress(&streamed, 1 << 20)
            .unwrap_err()
            .contains("declare"));
        assert_eq!(decompress(&with_size, 1 << 20).unwrap(), b"abc");
    }
}
