//! Building an index: one pass over the trace file, its frames decompressed and scanned in
//! parallel (rayon), then folded in order into line numbers, objects and record locations.

use std::io;
use std::path::Path;

use indexmap::IndexSet;
use jiff::Timestamp;
use rayon::prelude::*;

use super::scan::{scan_object_line, LineHead};
use super::{IndexedObject, RecordLoc, StrId, StringTable, TraceIndex, TraceTotals, NO_OBJECT};
use crate::history::meta::ObjectHead;
use crate::trace::codec::{
    bulk_decompressor, decompress_frame, recycle, salvage, Budget, FrameError, FrameHeader,
    BATCH_RAW_BUDGET,
};
use crate::trace::frames::{Batch, FrameLoc, FrameSplitter, SplitError};
use crate::trace::{
    open_file, parse_ts, Compression, EventType, LineLoop, Record, TraceError, MAX_FRAME_RAW_BYTES,
    MAX_LINE_BYTES,
};

/// Why a trace could not be indexed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The trace cannot be read at all (the same errors as the streaming reader's).
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The trace can be read, but only as one stream (e.g. compressed whole, in one big frame).
    #[error("{0}")]
    NotFramed(String),
}

/// Reads the trace file at `path` (called `name` in messages) and indexes it, calling `progress`
/// with the number of records and file bytes read so far after each batch of frames.
///
/// Batch N is folded (in order, on one thread) while batch N+1 is decompressed and scanned on
/// the others.
pub fn build(
    path: &Path,
    name: &str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<TraceIndex, BuildError> {
    let file = open_file(path, name)?;
    let read_error =
        |err: io::Error| BuildError::NotFramed(format!("reading {name} failed part way: {err}"));
    let mut splitter = FrameSplitter::new(file).map_err(read_error)?;
    if splitter.compression() == Compression::Gzip {
        return Err(BuildError::NotFramed(format!(
            "{name} is gzip-compressed: it can only be read as one stream"
        )));
    }
    let compressed = splitter.compressed();
    let mut builder = Builder::new(name.to_string(), compressed);
    let mut current: Option<Decoded> = None;
    loop {
        let next = match splitter.next_batch() {
            Ok(batch) => batch,
            Err(SplitError::Io(err)) => return Err(read_error(err)),
            Err(err @ SplitError::NotFramed(_)) => {
                return Err(BuildError::NotFramed(err.to_string()))
            }
        };
        let (folded, decoded) = rayon::join(
            || match current.take() {
                Some(decoded) => builder.fold(decoded),
                None => Ok(true),
            },
            || next.map(|batch| decode(batch, compressed)),
        );
        if !folded? {
            break;
        }
        match decoded {
            Some(decoded) => current = Some(decoded),
            None => break,
        }
        progress(builder.index.records, splitter.position());
    }
    builder.end()?;
    builder.index.finish()
}

/// A batch of frames, decompressed and scanned.
struct Decoded {
    batch: Batch,
    frames: Vec<Result<Scanned, FrameError>>,
}

/// A decompressed frame and the object lines the fast scan could read in it.
struct Scanned {
    raw: Vec<u8>,
    heads: Vec<ScannedHead>,
}

impl Scanned {
    fn of(raw: Vec<u8>) -> Scanned {
        let heads = scan_heads(&raw);
        Scanned { raw, heads }
    }
}

/// Decompresses and scans a batch's frames in parallel, holding at most [`BATCH_RAW_BUDGET`]
/// decompressed bytes: a frame that does not fit is left for [`decode_alone`].
fn decode(batch: Batch, compressed: bool) -> Decoded {
    let budget = Budget::new(BATCH_RAW_BUDGET);
    let frames = batch
        .frames
        .par_iter()
        .map_init(
            || bulk_decompressor().ok(),
            |decompressor, frame| {
                let raw = decompress(compressed, &batch, frame, decompressor, &budget)?;
                Ok(Scanned::of(raw))
            },
        )
        .collect();
    Decoded { batch, frames }
}

fn decompress(
    compressed: bool,
    batch: &Batch,
    frame: &FrameLoc,
    decompressor: &mut Option<zstd::bulk::Decompressor<'static>>,
    budget: &Budget,
) -> Result<Vec<u8>, FrameError> {
    let bytes = batch.bytes_of(frame);
    if !compressed {
        return Ok(bytes.to_vec());
    }
    let Some(decompressor) = decompressor else {
        let err = io::Error::other("cannot start a zstd decompressor");
        return Err(FrameError::Damaged(err));
    };
    decompress_frame(bytes, frame.offset, decompressor, budget)
}

/// Decompresses one frame that did not fit in its batch's budget, on its own.
fn decode_alone(batch: &Batch, frame: &FrameLoc, compressed: bool) -> Result<Scanned, FrameError> {
    let mut decompressor = Some(bulk_decompressor().map_err(FrameError::Damaged)?);
    let budget = Budget::new(MAX_FRAME_RAW_BYTES + 1);
    match decompress(compressed, batch, frame, &mut decompressor, &budget) {
        Ok(raw) => Ok(Scanned::of(raw)),
        Err(FrameError::OverBudget) => Err(FrameError::TooLarge(format!(
            "the zstd frame at byte {} is too large to decompress whole",
            frame.offset
        ))),
        Err(err) => Err(err),
    }
}

/// A range of a decompressed frame.
#[derive(Debug, Clone, Copy)]
struct Span(u32, u32);

impl Span {
    /// The range of `text` in `raw`; `text` is a slice of `raw`, or empty (a default).
    fn of(raw: &[u8], text: &str) -> Span {
        let start = (text.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
        if text.is_empty() || start > raw.len() {
            return Span(0, 0);
        }
        Span(start as u32, (start + text.len()) as u32)
    }

    fn text(self, raw: &[u8]) -> &str {
        std::str::from_utf8(&raw[self.0 as usize..self.1 as usize]).unwrap_or("")
    }
}

/// A frame's last line, without its newline, kept until it is known to be the trace's last.
struct Unfinished {
    frame: u32,
    /// Where it starts in its frame.
    offset: usize,
    /// Its bytes (none when it is longer than [`MAX_LINE_BYTES`]: it is then only counted).
    bytes: Vec<u8>,
    len: usize,
}

impl Unfinished {
    fn of(frame: u32, bytes: &[u8], offset: usize) -> Unfinished {
        Unfinished {
            frame,
            offset,
            bytes: match bytes.len() > MAX_LINE_BYTES {
                true => Vec::new(),
                false => bytes.to_vec(),
            },
            len: bytes.len(),
        }
    }
}

/// What the fast scan read of an object record, as ranges of its frame.
#[derive(Debug, Clone, Copy)]
struct ScannedHead {
    /// Where its line starts in the frame.
    start: u32,
    event: EventType,
    ts: Timestamp,
    kind: Span,
    namespace: Span,
    name: Option<Span>,
    uid: Span,
    controller_uid: Option<Span>,
    subject_uid: Option<Span>,
}

impl ScannedHead {
    fn read(raw: &[u8], start: usize, head: &LineHead<'_>) -> Option<ScannedHead> {
        Some(ScannedHead {
            start: start as u32,
            event: head.event?,
            ts: parse_ts(head.ts)?,
            kind: Span::of(raw, head.kind),
            namespace: Span::of(raw, head.namespace),
            name: head.name.map(|name| Span::of(raw, name)),
            uid: Span::of(raw, head.uid),
            controller_uid: head.controller_uid.map(|uid| Span::of(raw, uid)),
            subject_uid: head.subject_uid.map(|uid| Span::of(raw, uid)),
        })
    }

    fn head<'r>(&self, raw: &'r [u8]) -> LineHead<'r> {
        LineHead {
            event: Some(self.event),
            ts: "",
            kind: self.kind.text(raw),
            api_version: "",
            namespace: self.namespace.text(raw),
            name: self.name.map(|s| s.text(raw)),
            uid: self.uid.text(raw),
            controller_uid: self.controller_uid.map(|s| s.text(raw)),
            subject_uid: self.subject_uid.map(|s| s.text(raw)),
        }
    }
}

/// One line of a decompressed frame, and what the fast scan read of it.
struct Line<'h> {
    /// The line's range in the frame, with its newline when it has one.
    start: usize,
    end: usize,
    complete: bool,
    head: Option<&'h ScannedHead>,
}

/// A piece of a frame: a line, or a run of empty lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A line: its range, with its newline when `complete`.
    Line {
        start: usize,
        end: usize,
        complete: bool,
    },
    /// `count` bare newlines, which hold nothing (taken together: a hostile frame can hold
    /// millions).
    Empty { count: usize },
}

/// The pieces of a frame, in order.
fn pieces(raw: &[u8]) -> impl Iterator<Item = Piece> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        let rest = raw.get(start..).filter(|rest| !rest.is_empty())?;
        if rest[0] == b'\n' {
            let count = rest.iter().take_while(|&&b| b == b'\n').count();
            start += count;
            return Some(Piece::Empty { count });
        }
        let (end, complete) = match memchr::memchr(b'\n', rest) {
            Some(at) => (start + at + 1, true),
            None => (raw.len(), false),
        };
        let line = Piece::Line {
            start,
            end,
            complete,
        };
        start = end;
        Some(line)
    })
}

/// The object record lines of a frame the fast scan can read. Only these are kept per line
/// (blank, bad or control lines cost nothing until the fold reads them), so what a frame's scan
/// holds stays proportional to its records, not to its line count.
fn scan_heads(raw: &[u8]) -> Vec<ScannedHead> {
    pieces(raw)
        .filter_map(|piece| match piece {
            Piece::Line {
                start,
                end,
                complete,
            } => Some((start, end, complete)),
            Piece::Empty { .. } => None,
        })
        .filter(|&(start, end, complete)| end - start - usize::from(complete) <= MAX_LINE_BYTES)
        .filter_map(|(start, end, complete)| {
            let text = &raw[start..end - usize::from(complete)];
            // The scan checks the UTF-8 of the strings it reads; the rest of the line is checked
            // when a question reads it (and by `check --strict`).
            let head = scan_object_line(text)?;
            ScannedHead::read(raw, start, &head)
        })
        .collect()
}

/// The identity of an object record read by serde (for lines the fast scan left alone).
struct OwnedHead {
    event: EventType,
    kind: String,
    api_version: String,
    namespace: String,
    name: Option<String>,
    uid: String,
    controller_uid: Option<String>,
    subject_uid: Option<String>,
}

/// What the full parse of a line found, kept past the parser's borrow of the line.
enum Parsed {
    Header,
    Object(Timestamp, EventType, Option<OwnedHead>),
    Control(Option<Timestamp>, String),
}

fn parsed(record: &Record<'_>) -> Parsed {
    match record {
        Record::Header(_) => Parsed::Header,
        Record::Object {
            ts, event, object, ..
        } => {
            let head = ObjectHead::parse(object.get()).ok().map(|head| OwnedHead {
                event: *event,
                kind: head.kind.as_deref().unwrap_or("").to_string(),
                api_version: head.api_version.as_deref().unwrap_or("").to_string(),
                namespace: head.metadata.namespace.as_deref().unwrap_or("").to_string(),
                name: head.metadata.name.as_deref().map(str::to_string),
                uid: head.metadata.uid.as_deref().unwrap_or("").to_string(),
                controller_uid: head
                    .controller()
                    .and_then(|owner| owner.uid.as_deref())
                    .map(str::to_string),
                subject_uid: head
                    .event_subject()
                    .and_then(|subject| subject.uid.as_deref())
                    .map(str::to_string),
            });
            Parsed::Object(*ts, *event, head)
        }
        Record::Synced { ts, .. } => Parsed::Control(Some(*ts), "SYNCED".to_string()),
        Record::Gap { ts, .. } => Parsed::Control(Some(*ts), "GAP".to_string()),
        Record::End { ts, .. } => Parsed::Control(Some(*ts), "END".to_string()),
        Record::Unknown { record_type } => Parsed::Control(None, record_type.clone()),
    }
}

/// Strings numbered in order of first sight, each stored once.
#[derive(Default)]
struct Interner {
    set: IndexSet<Box<str>, foldhash::fast::RandomState>,
}

impl Interner {
    fn get(&self, text: &str) -> Option<StrId> {
        self.set.get_index_of(text).map(|id| id as StrId)
    }

    fn id(&mut self, text: &str) -> StrId {
        match self.get(text) {
            Some(id) => id,
            None => self.set.insert_full(Box::from(text)).0 as StrId,
        }
    }

    fn text(&self, id: StrId) -> &str {
        self.set.get_index(id as usize).map_or("", |text| text)
    }

    fn into_table(self) -> StringTable {
        let mut table = StringTable::default();
        for text in self.set {
            table.push(&text);
        }
        table
    }
}

/// The in-order fold of scanned frames into an index: cuts each frame into lines and hands
/// them to an [`IndexWriter`].
struct Builder {
    index: IndexWriter,
    compressed: bool,
    /// The last frame's last line, when it had no newline: it is the trace's partial last line
    /// if nothing follows, and a line running on into the next frame otherwise.
    unfinished: Option<Unfinished>,
}

/// An index fed one line at a time, in order, and each frame once its lines are known: what
/// the index builder folds after its parallel scan, and what [`crate::trace::TraceWriter`]
/// feeds as it writes, so that the trace can carry its own index
/// ([`super::embedded`]). One implementation, so both make the same [`TraceIndex`].
pub struct IndexWriter {
    lines: LineLoop,
    compressed: bool,
    frames: Vec<FrameLoc>,
    uids: Interner,
    words: Interner,
    objects: Vec<IndexedObject>,
    names: StringTable,
    /// Per object: the controller and subject of its last record (`u32::MAX`: none), so that
    /// a pair is recorded only when it changes.
    last_links: Vec<(StrId, StrId)>,
    controllers: Vec<(u32, StrId)>,
    subjects: Vec<(StrId, u32)>,
    /// The object of each key, by [`StrId`] in `uids` ([`NO_OBJECT`]: a UID that is not a key).
    object_of_key: Vec<u32>,
    /// Set when the trace has more lines than an index can number.
    too_long: bool,
    records_of: Vec<(u32, RecordLoc)>,
    meta: Vec<RecordLoc>,
    totals: TraceTotals,
    records: u64,
}

impl Builder {
    fn new(name: String, compressed: bool) -> Builder {
        Builder {
            index: IndexWriter::new(name, compressed),
            compressed,
            unfinished: None,
        }
    }

    /// Folds a decoded batch; `false` when the trace ended in it (a cut, corrupt or refused
    /// frame).
    fn fold(&mut self, decoded: Decoded) -> Result<bool, BuildError> {
        let Decoded { batch, frames } = decoded;
        for (frame, result) in batch.frames.iter().zip(frames) {
            // A skippable frame holds no text: it is not one of the trace's pieces (the index at
            // the end of a trace is not part of what it indexes).
            if self.compressed
                && FrameHeader::parse(batch.bytes_of(frame)) == FrameHeader::Skippable
            {
                continue;
            }
            let result = match result {
                Err(FrameError::OverBudget) => decode_alone(&batch, frame, self.compressed),
                other => other,
            };
            match result {
                Ok(scanned) => {
                    self.frame(*frame, &scanned.raw, &scanned.heads, None)?;
                    recycle(scanned.raw);
                }
                Err(FrameError::TooLarge(why)) => return Err(BuildError::NotFramed(why)),
                Err(FrameError::OverBudget | FrameError::Damaged(_)) => {
                    self.salvage(*frame, batch.bytes_of(frame))?;
                    return Ok(false);
                }
            }
        }
        if let Some(damaged) = batch.damaged {
            self.salvage(damaged, batch.bytes_of(&damaged))?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Folds what can be read of a frame that cannot be read whole, and ends the trace there.
    fn salvage(&mut self, frame: FrameLoc, bytes: &[u8]) -> Result<(), BuildError> {
        let (prefix, err) = match self.compressed {
            true => salvage(bytes, frame.offset),
            false => (bytes.to_vec(), io::Error::other("the file ends")),
        };
        let heads = scan_heads(&prefix);
        self.frame(frame, &prefix, &heads, Some(err))
    }

    /// Folds one frame's lines; with `stop`, the frame was cut there and reading ends.
    fn frame(
        &mut self,
        mut frame: FrameLoc,
        raw: &[u8],
        heads: &[ScannedHead],
        mut stop: Option<io::Error>,
    ) -> Result<(), BuildError> {
        // kblame's writer ends frames at line ends, so that each can be read alone; a trace whose
        // lines run on into the next frame can only be read as one stream.
        if let Some(unfinished) = self.unfinished.take() {
            if !raw.is_empty() {
                return Err(BuildError::NotFramed(format!(
                    "a line runs on past the end of a zstd frame into the one at byte {}",
                    frame.offset
                )));
            }
            match stop.take() {
                Some(err) => self.finish_line(unfinished, Some(err))?,
                None => self.unfinished = Some(unfinished),
            }
        }
        frame.raw_len = u32::try_from(raw.len()).unwrap_or(u32::MAX);
        let frame_id = self.index.frame(frame);
        let mut heads = heads.iter().peekable();
        for piece in pieces(raw) {
            let (start, end, complete) = match piece {
                Piece::Line {
                    start,
                    end,
                    complete,
                } => (start, end, complete),
                Piece::Empty { count } => {
                    self.index.lines.empty_lines(count as u64);
                    continue;
                }
            };
            let head = heads.next_if(|head| head.start as usize == start);
            let line = Line {
                start,
                end,
                complete,
                head,
            };
            if !complete && stop.is_none() {
                // Judged once it is known whether another frame continues it.
                self.unfinished = Some(Unfinished::of(frame_id, &raw[start..end], start));
                continue;
            }
            let cut_here = if complete { None } else { stop.take() };
            self.index.line(frame_id, raw, 0, &line, cut_here)?;
        }
        if let Some(err) = stop {
            self.index.lines.stop(&[], err, &mut |_| {})?;
        }
        Ok(())
    }

    /// Reads an unfinished line as the trace's last (`stop`: reading ended at a damaged frame).
    fn finish_line(
        &mut self,
        unfinished: Unfinished,
        stop: Option<io::Error>,
    ) -> Result<(), TraceError> {
        let Unfinished {
            frame,
            offset,
            bytes,
            len,
        } = unfinished;
        if len > MAX_LINE_BYTES {
            self.index.lines.long_line(len as u64, false)?;
            if let Some(err) = stop {
                self.index.lines.stop(&[], err, &mut |_| {})?;
            }
            return Ok(());
        }
        let line = Line {
            start: 0,
            end: bytes.len(),
            complete: false,
            head: None,
        };
        self.index.line(frame, &bytes, offset, &line, stop)
    }

    /// Reads a last line left unfinished by the last frame, once the trace has ended.
    fn end(&mut self) -> Result<(), TraceError> {
        match self.unfinished.take() {
            Some(unfinished) => self.finish_line(unfinished, None),
            None => Ok(()),
        }
    }
}

impl IndexWriter {
    /// An empty index of the trace called `name` (in messages), zstd-compressed or plain.
    pub fn new(name: String, compressed: bool) -> IndexWriter {
        IndexWriter {
            lines: LineLoop::new(
                name,
                match compressed {
                    true => Compression::Zstd,
                    false => Compression::None,
                },
            ),
            compressed,
            frames: Vec::new(),
            uids: Interner::default(),
            words: Interner::default(),
            objects: Vec::new(),
            names: StringTable::default(),
            last_links: Vec::new(),
            controllers: Vec::new(),
            subjects: Vec::new(),
            object_of_key: Vec::new(),
            too_long: false,
            records_of: Vec::new(),
            meta: Vec::new(),
            totals: TraceTotals::default(),
            records: 0,
        }
    }

    /// Adds a frame of the trace; returns its number (what [`RecordLoc::frame`] holds).
    pub fn frame(&mut self, frame: FrameLoc) -> u32 {
        self.frames.push(frame);
        (self.frames.len() - 1) as u32
    }

    /// How many frames have been added.
    pub fn frame_count(&self) -> u32 {
        self.frames.len() as u32
    }

    /// Decompressed bytes of the frames added so far.
    pub fn text_bytes(&self) -> u64 {
        self.frames
            .iter()
            .map(|frame| u64::from(frame.raw_len))
            .sum()
    }

    /// Records (header excluded) read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Reads one line (`line`, with its newline unless it is a partial last line) that lies at
    /// `offset` in the decompressed frame numbered `frame` (added later, once it ends).
    pub fn push_line(&mut self, frame: u32, offset: usize, line: &[u8]) -> Result<(), TraceError> {
        let complete = line.last() == Some(&b'\n');
        let text = &line[..line.len() - usize::from(complete)];
        let head = match text.len() <= MAX_LINE_BYTES {
            true => scan_object_line(text).and_then(|head| ScannedHead::read(line, 0, &head)),
            false => None,
        };
        let line_at = Line {
            start: 0,
            end: line.len(),
            complete,
            head: head.as_ref(),
        };
        self.line(frame, line, offset, &line_at, None)
    }

    /// The index of everything read; an error when the trace held no line, or more lines than
    /// an index can number.
    pub fn finish(self) -> Result<TraceIndex, BuildError> {
        self.lines.end()?;
        if self.too_long {
            return Err(BuildError::NotFramed(format!(
                "{} has more lines than an index can number",
                self.lines.name()
            )));
        }
        Ok(self.into_index())
    }

    /// Reads one line, `raw[line.start..line.end]`, which lies at `base + line.start` in its frame.
    fn line(
        &mut self,
        frame: u32,
        raw: &[u8],
        base: usize,
        line: &Line<'_>,
        stop: Option<io::Error>,
    ) -> Result<(), TraceError> {
        let bytes = &raw[line.start..line.end];
        let Ok(line_no) = u32::try_from(self.lines.next_line()) else {
            self.too_long = true;
            return Ok(());
        };
        let len = bytes.len() - usize::from(line.complete);
        if len > MAX_LINE_BYTES {
            self.lines.long_line(bytes.len() as u64, line.complete)?;
            if let Some(err) = stop {
                self.lines.stop(&[], err, &mut |_| {})?;
            }
            return Ok(());
        }
        let at = RecordLoc {
            line: line_no,
            frame,
            offset: (base + line.start) as u32,
            len: len as u32,
        };
        if let (Some(head), true, None) = (line.head, line.complete && at.line > 1, &stop) {
            self.lines.scanned_object(bytes.len(), head.ts);
            self.records += 1;
            self.count(Some(head.ts), head.event.as_str());
            self.object_record(at, &head.head(raw));
            return Ok(());
        }
        let mut found = None;
        let mut visit = |entry: crate::trace::Entry<'_>| found = Some(parsed(&entry.record));
        match stop {
            Some(err) => self.lines.stop(bytes, err, &mut visit)?,
            None => self.lines.line(bytes, line.complete, &mut visit)?,
        }
        match found {
            None => {}
            Some(Parsed::Header) => self.meta.push(at),
            Some(Parsed::Control(ts, record_type)) => {
                self.records += 1;
                self.count(ts, &record_type);
                self.meta.push(at);
            }
            Some(Parsed::Object(ts, event, head)) => {
                self.records += 1;
                self.count(Some(ts), event.as_str());
                match head {
                    Some(head) => self.object_record(
                        at,
                        &LineHead {
                            event: Some(head.event),
                            ts: "",
                            kind: &head.kind,
                            api_version: &head.api_version,
                            namespace: &head.namespace,
                            name: head.name.as_deref(),
                            uid: &head.uid,
                            controller_uid: head.controller_uid.as_deref(),
                            subject_uid: head.subject_uid.as_deref(),
                        },
                    ),
                    None => self.totals.skipped_objects += 1,
                }
            }
        }
        Ok(())
    }

    fn count(&mut self, ts: Option<Timestamp>, record_type: &str) {
        if let Some(ts) = ts {
            let totals = &mut self.totals;
            totals.start = Some(totals.start.map_or(ts, |s| s.min(ts)));
            totals.end = Some(totals.end.map_or(ts, |e| e.max(ts)));
        }
        match self.totals.records_by_type.get_mut(record_type) {
            Some(count) => *count += 1,
            None => {
                self.totals
                    .records_by_type
                    .insert(record_type.to_string(), 1);
            }
        }
    }

    /// Files an object record under its key, as replay will (see `History::apply`).
    fn object_record(&mut self, at: RecordLoc, head: &LineHead<'_>) {
        match self.totals.records_by_kind.get_mut(head.kind) {
            Some(count) => *count += 1,
            None => {
                self.totals.records_by_kind.insert(head.kind.to_string(), 1);
            }
        }
        let no_uid_key;
        let key = if !head.uid.is_empty() {
            head.uid
        } else if let Some(name) = head.name {
            no_uid_key = format!("no-uid:{}/{}/{name}", head.kind, head.namespace);
            &no_uid_key
        } else {
            self.totals.skipped_objects += 1;
            return;
        };
        let known = self
            .uids
            .get(key)
            .and_then(|uid| self.object_of_key.get(uid as usize))
            .filter(|&&id| id != NO_OBJECT);
        let id = match known {
            Some(&id) => id,
            None => self.new_object(key, head),
        };
        let (last_controller, last_subject) = self.last_links[id as usize];
        if let Some(owner) = head.controller_uid {
            if last_controller == u32::MAX || self.uids.text(last_controller) != owner {
                let owner = self.uids.id(owner);
                self.controllers.push((id, owner));
                self.last_links[id as usize].0 = owner;
            }
        }
        if let Some(subject) = head.subject_uid {
            if last_subject == u32::MAX || self.uids.text(last_subject) != subject {
                let subject = self.uids.id(subject);
                self.subjects.push((subject, id));
                self.last_links[id as usize].1 = subject;
            }
        }
        self.records_of.push((id, at));
    }

    fn new_object(&mut self, key: &str, head: &LineHead<'_>) -> u32 {
        let id = self.objects.len() as u32;
        let key = self.uids.id(key);
        if self.object_of_key.len() <= key as usize {
            self.object_of_key.resize(key as usize + 1, NO_OBJECT);
        }
        self.object_of_key[key as usize] = id;
        self.objects.push(IndexedObject {
            key,
            kind: self.words.id(head.kind),
            namespace: self.words.id(head.namespace),
            name: self.names.push(head.name.unwrap_or("")),
            records: (0, 0),
        });
        self.last_links.push((u32::MAX, u32::MAX));
        id
    }

    fn into_index(mut self) -> TraceIndex {
        // Stable: each object's records stay in line order.
        self.records_of.sort_by_key(|(object, _)| *object);
        let mut next = 0usize;
        for (id, object) in self.objects.iter_mut().enumerate() {
            let start = next;
            while next < self.records_of.len() && self.records_of[next].0 == id as u32 {
                next += 1;
            }
            object.records = (start as u32, next as u32);
        }
        let records = self.records_of.iter().map(|(_, at)| *at).collect();
        self.controllers.sort_unstable();
        self.controllers.dedup();
        self.subjects.sort_unstable();
        self.subjects.dedup();
        let mut children: Vec<(StrId, u32)> = self
            .controllers
            .iter()
            .map(|&(id, uid)| (uid, id))
            .collect();
        children.sort_unstable();
        self.object_of_key.resize(self.uids.set.len(), NO_OBJECT);
        TraceIndex {
            compressed: self.compressed,
            frames: self.frames,
            summary: self.lines.into_summary(),
            totals: self.totals,
            uids: self.uids.into_table(),
            words: self.words.into_table(),
            names: self.names,
            object_of_uid: self.object_of_key,
            controllers: self.controllers,
            children,
            subjects: self.subjects,
            objects: self.objects,
            records,
            meta: self.meta,
            on_disk: None,
        }
    }
}
