//! A trace file as independently readable pieces: its zstd frames, or chunks of whole lines of a
//! plain NDJSON file.
//!
//! kblame's writer ends a zstd frame once it holds 8 MiB of text (older traces: at most 4 MiB, and
//! every second), so each frame can be decompressed on its own: the index builder decompresses
//! several at once, and a query later decompresses only the frames that hold the records it
//! needs.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::codec::{spare_buffer, MAX_FRAME_RAW_BYTES, UNDECLARED_FRAME_RAW};
use super::reader::Compression;

/// How many bytes of a plain trace make one chunk (cut at the next line end).
const PLAIN_CHUNK: usize = 4 << 20;

/// How much of the file is read at a time.
const READ_SIZE: usize = 2 << 20;

/// A batch ends once its frames hold about this much text (declared, or estimated for a frame
/// that does not declare its size), so that a batch of big frames still fits in the index
/// builder's decompression budget ([`super::codec::BATCH_RAW_BUDGET`]) and small frames come
/// many to a batch.
pub const BATCH_RAW_TARGET: u64 = 40 << 20;

/// A frame larger than this (compressed) means the trace was not written in small frames
/// (e.g. it was compressed whole by the `zstd` tool); such a trace is read as one stream.
pub const MAX_FRAME_BYTES: usize = 64 << 20;

/// Where one piece of the trace lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameLoc {
    /// Offset of its first byte in the file.
    pub offset: u64,
    /// Its length in the file.
    pub len: u32,
    /// Its decompressed length, when known before decompressing (0 when not).
    pub raw_len: u32,
}

impl FrameLoc {
    fn range_in(&self, base: u64) -> Range<usize> {
        let start = (self.offset - base) as usize;
        start..start + self.len as usize
    }
}

/// Consecutive frames read from the file, with their bytes.
#[derive(Debug)]
pub struct Batch {
    base: u64,
    bytes: Vec<u8>,
    /// The whole frames, in file order.
    pub frames: Vec<FrameLoc>,
    /// Bytes after the last whole frame that do not form a frame (a cut or corrupt end).
    pub damaged: Option<FrameLoc>,
}

impl Batch {
    /// The bytes of one of this batch's frames.
    pub fn bytes_of(&self, frame: &FrameLoc) -> &[u8] {
        &self.bytes[frame.range_in(self.base)]
    }
}

/// Why a trace file cannot be split into frames.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// Reading the file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A frame (or a line of a plain trace) is larger than [`MAX_FRAME_BYTES`].
    #[error(
        "the trace is not written in small frames (a piece at byte {0} is larger than 64 MiB)"
    )]
    NotFramed(u64),
}

/// Reads a trace file front to back, handing out its frames in batches.
#[derive(Debug)]
pub struct FrameSplitter {
    file: File,
    compression: Compression,
    compressed: bool,
    pending: Vec<u8>,
    pending_offset: u64,
    eof: bool,
}

impl FrameSplitter {
    /// Starts at the beginning of `file`; zstd when it starts with the zstd magic number.
    pub fn new(mut file: File) -> io::Result<FrameSplitter> {
        let mut magic = [0u8; 4];
        file.seek(SeekFrom::Start(0))?;
        let read = read_up_to(&mut file, &mut magic)?;
        file.seek(SeekFrom::Start(0))?;
        let compression = Compression::of(&magic[..read]);
        Ok(FrameSplitter {
            file,
            compression,
            compressed: compression == Compression::Zstd,
            pending: Vec::new(),
            pending_offset: 0,
            eof: false,
        })
    }

    /// How many bytes of the file have been handed out in batches.
    pub fn position(&self) -> u64 {
        self.pending_offset
    }

    /// Whether the file is zstd-compressed.
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// How the file is compressed (its first bytes tell). A gzip file has no independent
    /// pieces: it is read as one stream.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The next frames (about [`READ_SIZE`] bytes of them, or [`BATCH_RAW_TARGET`] bytes of
    /// text), or `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, SplitError> {
        loop {
            let (frames, end, damaged) = self.split_pending()?;
            if !frames.is_empty() || damaged.is_some() {
                let rest = self.pending.split_off(end);
                let bytes = std::mem::replace(&mut self.pending, rest);
                let base = self.pending_offset;
                self.pending_offset += end as u64;
                return Ok(Some(Batch {
                    base,
                    bytes,
                    frames,
                    damaged,
                }));
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        // Appended without zero-filling first: `read_to_end` writes into spare capacity.
        let read = Read::by_ref(&mut self.file)
            .take(READ_SIZE as u64)
            .read_to_end(&mut self.pending)?;
        if read == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// The whole frames at the front of `pending`, where they end, and a damaged rest at the end
    /// of the file.
    #[allow(clippy::type_complexity)]
    fn split_pending(&self) -> Result<(Vec<FrameLoc>, usize, Option<FrameLoc>), SplitError> {
        let mut frames = Vec::new();
        let mut pos = 0;
        let mut raw_sum = 0u64;
        // Whether the batch stopped because it holds enough text (not for want of bytes).
        let mut full = false;
        while pos < self.pending.len() {
            if raw_sum >= BATCH_RAW_TARGET {
                full = true;
                break;
            }
            let rest = &self.pending[pos..];
            let len = if self.compressed {
                zstd::zstd_safe::find_frame_compressed_size(rest)
                    .ok()
                    .filter(|&len| len > 0 && len <= rest.len())
            } else {
                plain_chunk_len(rest, self.eof)
            };
            let Some(len) = len else { break };
            let raw_len = if self.compressed {
                match zstd::zstd_safe::get_frame_content_size(rest) {
                    Ok(Some(size)) => u32::try_from(size).unwrap_or(0),
                    _ => 0,
                }
            } else {
                len as u32
            };
            raw_sum += match (self.compressed, raw_len) {
                (true, 0) if is_skippable(rest) => 0,
                (true, 0) => UNDECLARED_FRAME_RAW,
                _ => u64::from(raw_len),
            };
            frames.push(FrameLoc {
                offset: self.pending_offset + pos as u64,
                len: self.frame_len(pos, len)?,
                raw_len,
            });
            pos += len;
        }
        let left = self.pending.len() - pos;
        if left > MAX_FRAME_BYTES {
            return Err(SplitError::NotFramed(self.pending_offset + pos as u64));
        }
        let damaged = (self.eof && left > 0 && !full).then(|| FrameLoc {
            offset: self.pending_offset + pos as u64,
            len: left as u32,
            raw_len: 0,
        });
        let end = if damaged.is_some() {
            self.pending.len()
        } else {
            pos
        };
        Ok((frames, end, damaged))
    }

    fn frame_len(&self, pos: usize, len: usize) -> Result<u32, SplitError> {
        u32::try_from(len)
            .ok()
            .filter(|&len| len as usize <= MAX_FRAME_BYTES)
            .ok_or(SplitError::NotFramed(self.pending_offset + pos as u64))
    }
}

/// Whether `bytes` start with a skippable frame's magic number (RFC 8878, 3.1.2).
fn is_skippable(bytes: &[u8]) -> bool {
    bytes
        .get(..4)
        .is_some_and(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]) & 0xFFFF_FFF0 == 0x184D_2A50)
}

/// The length of the next chunk of whole lines of a plain trace, once enough has been read.
fn plain_chunk_len(rest: &[u8], eof: bool) -> Option<usize> {
    if rest.len() >= PLAIN_CHUNK {
        let cut =
            memchr::memrchr(b'\n', &rest[..PLAIN_CHUNK]).or_else(|| memchr::memchr(b'\n', rest));
        if let Some(newline) = cut {
            return Some(newline + 1);
        }
    }
    (eof && !rest.is_empty()).then_some(rest.len())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Reads the first `upto` decompressed bytes of a frame again, from the file, decompressing
/// with `context` (reused across frames: creating one costs as much as a small frame; see
/// [`super::codec::limited_context`]).
pub fn read_frame_prefix(
    file: &mut File,
    context: &mut zstd::zstd_safe::DCtx<'static>,
    compressed: bool,
    frame: &FrameLoc,
    upto: usize,
) -> io::Result<Vec<u8>> {
    // The index never points further into a frame than a frame may hold; a damaged saved index
    // must not make this allocate more.
    if upto as u64 > MAX_FRAME_RAW_BYTES || (compressed && upto > frame.raw_len as usize) {
        return Err(io::Error::other("the index points past the end of a frame"));
    }
    file.seek(SeekFrom::Start(frame.offset))?;
    // A plain chunk is its own text: only the part up to the last wanted line is read.
    let stored = match compressed {
        true => frame.len as usize,
        false => upto.min(frame.len as usize),
    };
    let mut bytes = vec![0u8; stored];
    file.read_exact(&mut bytes)?;
    if !compressed {
        return Ok(bytes);
    }
    let mut raw = spare_buffer();
    raw.resize(upto, 0);
    zstd::stream::read::Decoder::with_context(&bytes[..], context)
        .read_exact(&mut raw)
        .map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("the zstd frame at byte {} is damaged: {err}", frame.offset),
            )
        })?;
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn split_all(file: File) -> (Vec<FrameLoc>, Option<FrameLoc>) {
        let mut splitter = FrameSplitter::new(file).unwrap();
        let (mut frames, mut damaged) = (Vec::new(), None);
        while let Some(batch) = splitter.next_batch().unwrap() {
            frames.extend(batch.frames.iter().copied());
            damaged = damaged.or(batch.damaged);
        }
        (frames, damaged)
    }

    #[test]
    fn finds_each_zstd_frame_and_a_cut_tail() {
        let mut file = tempfile::tempfile().unwrap();
        let mut data = Vec::new();
        for i in 0..3 {
            data.extend(zstd::bulk::compress(format!("line {i}\n").as_bytes(), 3).unwrap());
        }
        let whole = data.len();
        let last = zstd::bulk::compress(b"last line\n", 3).unwrap();
        data.extend(&last[..last.len() - 3]);
        file.write_all(&data).unwrap();
        let (frames, damaged) = split_all(file);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].offset, 0);
        assert_eq!(frames[0].raw_len, 7);
        assert_eq!(frames[2].offset + frames[2].len as u64, whole as u64);
        let damaged = damaged.unwrap();
        assert_eq!(damaged.offset, whole as u64);
    }

    #[test]
    fn frames_without_a_declared_size_come_a_few_to_a_batch_and_a_full_batch_is_not_damage() {
        let mut file = tempfile::tempfile().unwrap();
        let mut data = Vec::new();
        for i in 0..12 {
            let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
            encoder.write_all(format!("line {i}\n").as_bytes()).unwrap();
            let frame = encoder.finish().unwrap();
            assert!(matches!(
                zstd::zstd_safe::get_frame_content_size(&frame),
                Ok(None)
            ));
            data.extend(frame);
        }
        // A skippable frame counts for nothing, then one that declares its size.
        data.extend(0x184D_2A5Bu32.to_le_bytes());
        data.extend(3u32.to_le_bytes());
        data.extend(b"abc");
        data.extend(zstd::bulk::compress(b"last\n", 3).unwrap());
        file.write_all(&data).unwrap();
        let mut splitter = FrameSplitter::new(file).unwrap();
        let per_batch = BATCH_RAW_TARGET.div_ceil(UNDECLARED_FRAME_RAW) as usize;
        let mut sizes = Vec::new();
        while let Some(batch) = splitter.next_batch().unwrap() {
            assert!(batch.damaged.is_none());
            sizes.push(batch.frames.len());
        }
        assert_eq!(sizes, [per_batch, per_batch, 12 - 2 * per_batch + 2]);
        assert_eq!(splitter.position(), data.len() as u64);
    }

    #[test]
    fn cuts_plain_traces_at_line_ends() {
        let mut file = tempfile::tempfile().unwrap();
        let line = format!("{}\n", "x".repeat(999));
        for _ in 0..10_000 {
            file.write_all(line.as_bytes()).unwrap();
        }
        file.write_all(b"partial").unwrap();
        let (frames, damaged) = split_all(file);
        assert!(damaged.is_none());
        assert!(frames.len() >= 2);
        let total: u64 = frames.iter().map(|f| f.len as u64).sum();
        assert_eq!(total, 10_000 * 1000 + 7);
        for pair in frames.windows(2) {
            assert_eq!(pair[0].offset + pair[0].len as u64, pair[1].offset);
            assert_eq!(pair[0].len % 1000, 0);
        }
    }
}
