//! Trace writer: NDJSON lines in one zstd stream that is flushed (not ended) at every flush
//! point, so a killed writer leaves a readable prefix, and cut into zstd frames of a few MiB
//! of text, so a reader can decompress frames in parallel and later only the ones it needs.
//!
//! A flush is `ZSTD_e_flush` (zstd.h: "flush any data provided so far, it creates (at least)
//! one new block, that can be decoded immediately on reception; frame will continue: any
//! future data can still reference previously compressed data"); a frame ends with
//! `ZSTD_e_end`. Both are repeated until zstd reports nothing left to write (zstd.h,
//! `ZSTD_compressStream2`). Streamed frames carry no content size.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use zstd::stream::raw::{Encoder as RawEncoder, InBuffer, Operation, OutBuffer};
use zstd::zstd_safe::CParameter;

use super::frames::FrameLoc;
use super::record::{EventType, Header, ObjectRef, RequestInfo};
use super::time::format_ts;
use crate::index::embedded::IndexHook;

/// The zstd window of a frame, log2 bytes: 8 MiB, so a whole frame of the default size can
/// refer back to its start (readers accept up to [`super::codec::MAX_WINDOW_LOG`]).
pub const WINDOW_LOG: u32 = 23;

/// Pending text is handed to zstd once it holds this much, between flush points.
const FEED_BYTES: usize = 1 << 16;

/// How the writer frames and compresses.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Compress with zstd. Default is `true`; `false` writes plain NDJSON.
    pub compress: bool,
    /// zstd compression level. Default is 3.
    pub level: i32,
    /// End a zstd frame once it holds this many uncompressed bytes (at the end of the line
    /// that reaches it). Default is 8 MiB.
    pub max_frame_bytes: usize,
    /// Flush once the records written since the last flush span this much record time.
    /// Default is 1 s.
    pub flush_span: SignedDuration,
    /// Flush this long (wall clock) after the first record since the last flush, checked by
    /// [`TraceWriter::flush_if_due`]. Default is 1 s.
    pub flush_age: Duration,
    /// Append the trace's index at its end ([`crate::index::embedded`]) when
    /// [`TraceWriter::finish`] ends a compressed trace holding at least this much text
    /// (decompressed bytes). Default is 8 MiB: a smaller trace is scanned in milliseconds, and
    /// its index would be a large share of it.
    pub embed_index_from: u64,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            compress: true,
            level: 3,
            max_frame_bytes: 8 << 20,
            flush_span: SignedDuration::from_secs(1),
            flush_age: Duration::from_secs(1),
            embed_index_from: 8 << 20,
        }
    }
}

/// The line of an object record.
#[derive(Serialize)]
struct ObjectLine<'a, T: ?Sized> {
    ts: &'a str,
    #[serde(rename = "type")]
    record_type: &'static str,
    object: &'a T,
}

/// The line of an imported object record: the object and the request that wrote it.
#[derive(Serialize)]
struct RequestedObjectLine<'a, T: ?Sized> {
    ts: &'a str,
    #[serde(rename = "type")]
    record_type: &'static str,
    object: &'a T,
    request: &'a RequestInfo,
}

/// The line of a REQUEST record: a request whose object body the source did not hold.
#[derive(Serialize)]
struct RequestLine<'a> {
    ts: &'a str,
    #[serde(rename = "type")]
    record_type: &'static str,
    #[serde(rename = "objectRef")]
    object_ref: &'a ObjectRef,
    request: &'a RequestInfo,
}

/// The line of a SYNCED, GAP or END record.
#[derive(Serialize)]
struct ControlLine<'a> {
    ts: &'a str,
    #[serde(rename = "type")]
    record_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a str>,
    #[serde(rename = "resourceVersion", skip_serializing_if = "Option::is_none")]
    resource_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<u64>,
}

impl<'a> ControlLine<'a> {
    fn new(ts: &'a str, record_type: &'static str) -> Self {
        ControlLine {
            ts,
            record_type,
            resource: None,
            resource_version: None,
            reason: None,
            records: None,
        }
    }
}

/// Where a line went: the zstd frame it is in and where it starts in that frame's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePos {
    /// The frame's number (0 for the first), counting the frames this writer wrote.
    pub frame: u32,
    /// The offset of the line's first byte in the frame's decompressed text.
    pub offset: u64,
}

/// Told about each line and each ended frame as the writer writes them, and asked at the end
/// for bytes to append (see [`TraceWriter::with_hook`]). Only compressed output calls it. The
/// writer's own hook builds the index it appends ([`crate::index::embedded::IndexHook`]).
pub trait WriteHook: Send {
    /// A line (with its newline) was written at `at`.
    fn line(&mut self, at: LinePos, line: &[u8]);
    /// Frame number `frame` ended and lies at `loc` in the output.
    fn frame_ended(&mut self, frame: u32, loc: FrameLoc);
    /// [`TraceWriter::finish`] ended the trace (END written, last frame ended): what to append
    /// after it, if anything. Not called by [`TraceWriter::abandon`].
    fn end(self: Box<Self>) -> Option<Vec<u8>> {
        None
    }
}

/// The zstd stream of a compressed trace.
struct Stream {
    encoder: RawEncoder<'static>,
    /// Compressed bytes not yet written to the output.
    out: Vec<u8>,
    /// Where the current frame starts in the output.
    frame_offset: u64,
    /// Its text handed to zstd so far.
    frame_raw: u64,
    /// Compressed bytes written to the output so far.
    written: u64,
    /// The frames ended so far.
    frames: Vec<FrameLoc>,
}

impl Stream {
    fn new(level: i32) -> io::Result<Stream> {
        let mut encoder = RawEncoder::new(level)?;
        encoder.set_parameter(CParameter::WindowLog(WINDOW_LOG))?;
        encoder.set_parameter(CParameter::ChecksumFlag(true))?;
        Ok(Stream {
            encoder,
            out: Vec::with_capacity(zstd::zstd_safe::CCtx::out_size()),
            frame_offset: 0,
            frame_raw: 0,
            written: 0,
            frames: Vec::new(),
        })
    }

    /// Makes room for zstd's next output (it writes into spare capacity).
    fn room(&mut self) {
        let want = zstd::zstd_safe::CCtx::out_size();
        if self.out.capacity() - self.out.len() < want {
            self.out.reserve(want);
        }
    }

    /// Hands `text` to zstd.
    fn feed(&mut self, text: &[u8]) -> io::Result<()> {
        let mut input = InBuffer::around(text);
        while input.pos() < text.len() {
            self.room();
            let at = self.out.len();
            let mut output = OutBuffer::around_pos(&mut self.out, at);
            self.encoder.run(&mut input, &mut output)?;
        }
        self.frame_raw += text.len() as u64;
        Ok(())
    }

    /// Flushes (`end` false) or ends (`end` true) the frame, until zstd has nothing left.
    fn drain(&mut self, end: bool) -> io::Result<()> {
        loop {
            self.room();
            let at = self.out.len();
            let mut output = OutBuffer::around_pos(&mut self.out, at);
            let left = match end {
                true => self.encoder.finish(&mut output, true)?,
                false => self.encoder.flush(&mut output)?,
            };
            if left == 0 {
                return Ok(());
            }
        }
    }

    /// Writes the compressed bytes zstd has produced to `out`.
    fn write_to(&mut self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.out)?;
        self.written += self.out.len() as u64;
        self.out.clear();
        Ok(())
    }

    /// Ends the current frame (if it holds anything) and starts the next; the frame ended.
    fn end_frame(&mut self, out: &mut impl Write) -> io::Result<Option<FrameLoc>> {
        if self.frame_raw == 0 {
            return Ok(None);
        }
        self.drain(true)?;
        self.write_to(out)?;
        let loc = FrameLoc {
            offset: self.frame_offset,
            len: u32::try_from(self.written - self.frame_offset)
                .map_err(|_| io::Error::other("a zstd frame grew beyond 4 GiB"))?,
            raw_len: u32::try_from(self.frame_raw)
                .map_err(|_| io::Error::other("a zstd frame holds more than 4 GiB of text"))?,
        };
        self.frames.push(loc);
        self.encoder.reinit()?;
        self.frame_offset = self.written;
        self.frame_raw = 0;
        Ok(Some(loc))
    }
}

/// Writes a trace: the header, then records; flushes them to `out` at each flush point and
/// ends a zstd frame once it holds `max_frame_bytes` of text.
pub struct TraceWriter<W: Write> {
    out: W,
    options: WriterOptions,
    /// Text not yet handed to zstd (or, for plain output, not yet written).
    pending: Vec<u8>,
    stream: Option<Stream>,
    /// Whether anything was written since the last flush.
    unflushed: bool,
    flush_first_ts: Option<Timestamp>,
    flush_opened: Option<Instant>,
    records: u64,
    hook: Option<Box<dyn WriteHook>>,
}

/// The writer's own hook: the index it appends at the end of a compressed trace.
fn index_hook(options: &WriterOptions) -> Option<Box<dyn WriteHook>> {
    match options.compress {
        true => Some(Box::new(IndexHook::new(options.embed_index_from))),
        false => None,
    }
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace on `out` with `header` as line 1 (flushed at once).
    pub fn new(out: W, header: &Header, options: WriterOptions) -> io::Result<Self> {
        let hook = index_hook(&options);
        TraceWriter::with_hook(out, header, options, hook)
    }

    /// Like [`TraceWriter::new`], telling `hook` (instead of the writer's own, which builds the
    /// index appended at the end) about every line (the header included) and every frame, when
    /// compressing.
    pub fn with_hook(
        out: W,
        header: &Header,
        options: WriterOptions,
        hook: Option<Box<dyn WriteHook>>,
    ) -> io::Result<Self> {
        let mut writer = TraceWriter::start(out, options, hook)?;
        writer.line(|text| serde_json::to_writer(text, header).map_err(io::Error::from))?;
        writer.flush()?;
        Ok(writer)
    }

    /// Starts a trace whose line 1 is `header_line`, a line of another trace copied as it is
    /// (see [`TraceWriter::copy_line`]).
    pub fn copying(out: W, header_line: &[u8], options: WriterOptions) -> io::Result<Self> {
        let hook = index_hook(&options);
        let mut writer = TraceWriter::start(out, options, hook)?;
        writer.line(|text| copy_one(text, header_line))?;
        writer.flush()?;
        Ok(writer)
    }

    /// Writes a line of another trace as it is (re-encoding a trace in this writer's layout);
    /// `ts` is its record time when it has one, for the flush span. `line` must not hold a
    /// newline. It counts as a record.
    pub fn copy_line(&mut self, ts: Option<Timestamp>, line: &[u8]) -> io::Result<()> {
        if let Some(ts) = ts {
            if let Some(first) = self.flush_first_ts {
                if first.duration_until(ts) >= self.options.flush_span {
                    self.flush()?;
                }
            }
            self.flush_first_ts.get_or_insert(ts);
        }
        self.flush_opened.get_or_insert_with(Instant::now);
        self.line(|text| copy_one(text, line))?;
        self.records += 1;
        Ok(())
    }

    fn start(out: W, options: WriterOptions, hook: Option<Box<dyn WriteHook>>) -> io::Result<Self> {
        let stream = match options.compress {
            true => Some(Stream::new(options.level)?),
            false => None,
        };
        Ok(TraceWriter {
            out,
            options,
            pending: Vec::with_capacity(FEED_BYTES * 2),
            stream,
            unflushed: false,
            flush_first_ts: None,
            flush_opened: None,
            records: 0,
            hook,
        })
    }

    /// Writes an object record; `object` must serialize to the whole object.
    pub fn write_object<T: Serialize + ?Sized>(
        &mut self,
        ts: Timestamp,
        event: EventType,
        object: &T,
    ) -> io::Result<()> {
        let ts_text = format_ts(ts);
        let line = ObjectLine {
            ts: &ts_text,
            record_type: event.as_str(),
            object,
        };
        self.push(ts, &line)
    }

    /// Writes an object record that also names the request that made it (imported audit logs).
    pub fn write_object_with_request<T: Serialize + ?Sized>(
        &mut self,
        ts: Timestamp,
        event: EventType,
        object: &T,
        request: &RequestInfo,
    ) -> io::Result<()> {
        let ts_text = format_ts(ts);
        let line = RequestedObjectLine {
            ts: &ts_text,
            record_type: event.as_str(),
            object,
            request,
        };
        self.push(ts, &line)
    }

    /// Writes a REQUEST record: who asked for a change of `object_ref`, without its body.
    pub fn write_request(
        &mut self,
        ts: Timestamp,
        object_ref: &ObjectRef,
        request: &RequestInfo,
    ) -> io::Result<()> {
        let ts_text = format_ts(ts);
        let line = RequestLine {
            ts: &ts_text,
            record_type: "REQUEST",
            object_ref,
            request,
        };
        self.push(ts, &line)
    }

    /// Writes a SYNCED record: a (re)list of `resource` is complete.
    pub fn write_synced(
        &mut self,
        ts: Timestamp,
        resource: &str,
        resource_version: Option<&str>,
    ) -> io::Result<()> {
        let ts_text = format_ts(ts);
        let mut line = ControlLine::new(&ts_text, "SYNCED");
        line.resource = Some(resource);
        line.resource_version = resource_version;
        self.push(ts, &line)
    }

    /// Writes a GAP record: the watch of `resource` broke and events may be missing.
    pub fn write_gap(&mut self, ts: Timestamp, resource: &str, reason: &str) -> io::Result<()> {
        let ts_text = format_ts(ts);
        let mut line = ControlLine::new(&ts_text, "GAP");
        line.resource = Some(resource);
        line.reason = Some(reason);
        self.push(ts, &line)
    }

    /// Flushes if the first record since the last flush was written `flush_age` ago or more.
    pub fn flush_if_due(&mut self) -> io::Result<()> {
        match self.flush_opened {
            Some(opened) if opened.elapsed() >= self.options.flush_age => self.flush(),
            _ => Ok(()),
        }
    }

    /// Writes everything so far to `out` and flushes it, without ending the zstd frame: every
    /// record written so far can be read from the output, even if the process dies next.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.unflushed {
            self.flushed();
            return Ok(());
        }
        match &mut self.stream {
            Some(stream) => {
                stream.feed(&self.pending)?;
                stream.drain(false)?;
                stream.write_to(&mut self.out)?;
            }
            None => self.out.write_all(&self.pending)?,
        }
        self.pending.clear();
        self.out.flush()?;
        self.flushed();
        Ok(())
    }

    /// Everything written so far is in the output.
    fn flushed(&mut self) {
        self.unflushed = false;
        self.flush_first_ts = None;
        self.flush_opened = None;
    }

    /// Flushes and ends the current zstd frame (for plain output, only flushes).
    pub fn end_frame(&mut self) -> io::Result<()> {
        let Some(stream) = &mut self.stream else {
            return self.flush();
        };
        // Ending the frame writes everything: no flush first (on an empty new frame a flush
        // would start one).
        stream.feed(&self.pending)?;
        self.pending.clear();
        let frame = stream.frames.len() as u32;
        if let Some(loc) = stream.end_frame(&mut self.out)? {
            if let Some(hook) = &mut self.hook {
                hook.frame_ended(frame, loc);
            }
        }
        self.out.flush()?;
        self.flushed();
        Ok(())
    }

    /// Writes END, ends the last frame and returns the output.
    pub fn finish(mut self, ts: Timestamp) -> io::Result<W> {
        let ts_text = format_ts(ts);
        let mut line = ControlLine::new(&ts_text, "END");
        line.records = Some(self.records);
        self.push(ts, &line)?;
        self.end_frame()?;
        if let Some(tail) = self.hook.take().and_then(|hook| hook.end()) {
            self.out.write_all(&tail)?;
            self.out.flush()?;
        }
        Ok(self.out)
    }

    /// Ends the last frame without END, as a recorder that was cut off would leave it.
    pub fn abandon(mut self) -> io::Result<W> {
        self.end_frame()?;
        Ok(self.out)
    }

    /// How many records (header excluded) have been written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The zstd frames ended so far, where they lie in the output (none for plain output).
    pub fn frames(&self) -> &[FrameLoc] {
        self.stream.as_ref().map_or(&[], |stream| &stream.frames)
    }

    /// Where the next line will go: the frame being written and the line's offset in its
    /// text. For plain output, frame 0 and the offset in the file.
    pub fn position(&self) -> LinePos {
        match &self.stream {
            Some(stream) => LinePos {
                frame: stream.frames.len() as u32,
                offset: stream.frame_raw + self.pending.len() as u64,
            },
            None => LinePos {
                frame: 0,
                offset: self.pending.len() as u64,
            },
        }
    }

    /// Where the frame being written starts in the output (plain output: 0).
    pub fn current_frame_offset(&self) -> u64 {
        self.stream.as_ref().map_or(0, |stream| stream.frame_offset)
    }

    fn push(&mut self, ts: Timestamp, line: &impl Serialize) -> io::Result<()> {
        if let Some(first) = self.flush_first_ts {
            if first.duration_until(ts) >= self.options.flush_span {
                self.flush()?;
            }
        }
        self.flush_first_ts.get_or_insert(ts);
        self.flush_opened.get_or_insert_with(Instant::now);
        self.line(|text| serde_json::to_writer(text, line).map_err(io::Error::from))?;
        self.records += 1;
        Ok(())
    }

    /// Appends one line written by `write`, tells the hook, and hands text to zstd or ends the
    /// frame as due.
    fn line(&mut self, write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<()> {
        let at = self.position();
        let start = self.pending.len();
        if let Err(err) = write(&mut self.pending) {
            self.pending.truncate(start);
            return Err(err);
        }
        self.pending.push(b'\n');
        if let (Some(hook), true) = (&mut self.hook, self.stream.is_some()) {
            hook.line(at, &self.pending[start..]);
        }
        self.unflushed = true;
        let Some(stream) = &mut self.stream else {
            // Plain output is written at flush points only, as a whole.
            return Ok(());
        };
        if stream.frame_raw + self.pending.len() as u64 >= self.options.max_frame_bytes as u64 {
            return self.end_frame();
        }
        if self.pending.len() >= FEED_BYTES {
            stream.feed(&self.pending)?;
            self.pending.clear();
            // What zstd produced meanwhile goes out now, so memory stays small between flushes.
            if stream.out.len() >= FEED_BYTES {
                stream.write_to(&mut self.out)?;
            }
        }
        Ok(())
    }
}

/// Appends `line` to `text`, refusing a line that holds a newline.
fn copy_one(text: &mut Vec<u8>, line: &[u8]) -> io::Result<()> {
    if memchr::memchr(b'\n', line).is_some() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a copied line holds a newline",
        ));
    }
    text.extend_from_slice(line);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::codec::FrameStream;
    use crate::trace::{read_trace, Record, SourceInfo, TraceSource};
    use serde_json::json;
    use std::io::Read;
    use std::sync::{Arc, Mutex};

    fn at(millis: i64) -> Timestamp {
        "2026-11-26T16:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_millis(millis)
    }

    /// An output whose bytes can be looked at while the writer still holds it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn bytes(&self) -> Vec<u8> {
            self.0.lock().unwrap().clone()
        }
    }

    /// The text a reader gets from `bytes` (a cut stream gives what came before the cut).
    fn readable(bytes: &[u8]) -> String {
        let mut text = Vec::new();
        let _ = FrameStream::new(bytes, 0).unwrap().read_to_end(&mut text);
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn bytes_copied_after_each_flush_decode_every_record_flushed_so_far() {
        let out = Shared::default();
        let header = Header::new(at(0), SourceInfo::default());
        let mut writer = TraceWriter::new(out.clone(), &header, WriterOptions::default()).unwrap();
        assert_eq!(
            readable(&out.bytes()).lines().count(),
            1,
            "the header at once"
        );
        for n in 0..40 {
            let pod = json!({"kind": "Pod", "metadata": {"name": format!("p{n}")}});
            writer
                .write_object(at(n * 100), EventType::Added, &pod)
                .unwrap();
            if n % 3 == 0 {
                writer.flush().unwrap();
                let text = readable(&out.bytes());
                assert_eq!(text.lines().count() as i64, 1 + n + 1, "after record {n}");
                assert!(text.ends_with(&format!("\"p{n}\"}}}}}}\n")), "{text}");
            }
        }
        assert!(
            writer.frames().is_empty(),
            "all in one frame, not ended yet"
        );
        writer.finish(at(5000)).unwrap();
        let bytes = out.bytes();
        assert_eq!(readable(&bytes).lines().count(), 1 + 40 + 1);
    }

    #[test]
    fn a_flush_span_of_record_time_flushes_without_ending_the_frame() {
        let out = Shared::default();
        let header = Header::new(at(0), SourceInfo::default());
        let mut writer = TraceWriter::new(out.clone(), &header, WriterOptions::default()).unwrap();
        let mut flushes = 0;
        let mut seen = out.bytes().len();
        for millis in (0..30_000).step_by(250) {
            writer
                .write_object(at(millis), EventType::Added, &json!({"kind": "Pod"}))
                .unwrap();
            let now = out.bytes().len();
            if now > seen {
                flushes += 1;
                // Everything before this record is readable: a flush happened at its start.
                let lines = readable(&out.bytes()).lines().count() as i64;
                assert_eq!(lines, 1 + millis / 250, "at {millis} ms");
                seen = now;
            }
        }
        assert_eq!(flushes, 29, "one flush per second of record time");
        writer.finish(at(30_000)).unwrap();
        let bytes = out.bytes();
        let ended = zstd::zstd_safe::find_frame_compressed_size(&bytes).unwrap();
        assert_eq!(ended, bytes.len(), "one frame holds all the flushes");
        let text = zstd::stream::decode_all(&bytes[..]).unwrap();
        assert_eq!(text.iter().filter(|&&b| b == b'\n').count(), 1 + 120 + 1);
    }

    /// Records what the hook is told.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Told>>);

    /// The lines (where, what) and the frames (number, where) told.
    type Told = (Vec<(LinePos, Vec<u8>)>, Vec<(u32, FrameLoc)>);

    impl WriteHook for Seen {
        fn line(&mut self, at: LinePos, line: &[u8]) {
            self.0.lock().unwrap().0.push((at, line.to_vec()));
        }
        fn frame_ended(&mut self, frame: u32, loc: FrameLoc) {
            self.0.lock().unwrap().1.push((frame, loc));
        }
    }

    #[test]
    fn twenty_mb_of_lines_make_three_frames_each_readable_alone_at_the_positions_told() {
        let header = Header::new(at(0), SourceInfo::default());
        let seen = Seen::default();
        let hook = Box::new(seen.clone());
        let mut writer =
            TraceWriter::with_hook(Vec::new(), &header, WriterOptions::default(), Some(hook))
                .unwrap();
        let mut n = 0;
        let mut state = 1u64;
        while writer.position().offset + 8_400_000 * writer.frames().len() as u64 <= 20_000_000 {
            // Text that does not compress to nothing: a few pseudo-random words per line.
            let words: Vec<String> = (0..40)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    format!("{:x}", state >> 40)
                })
                .collect();
            let pod = json!({"kind": "Pod", "metadata": {"name": format!("p{n}")}, "words": words});
            writer.write_object(at(n), EventType::Added, &pod).unwrap();
            n += 1;
        }
        let frames_before_end = writer.frames().to_vec();
        let bytes = writer.finish(at(n)).unwrap();
        let (lines, ended) = seen.0.lock().unwrap().clone();
        assert_eq!(frames_before_end.len(), 2);
        assert_eq!(ended.len(), 3);
        let mut next = 0;
        let mut texts = Vec::new();
        for (number, (frame, loc)) in ended.iter().enumerate() {
            assert_eq!(*frame, number as u32);
            assert_eq!(loc.offset, next, "frames tile the file");
            next = loc.offset + u64::from(loc.len);
            let text =
                zstd::stream::decode_all(&bytes[loc.offset as usize..next as usize]).unwrap();
            assert_eq!(text.len(), loc.raw_len as usize);
            assert!(text.ends_with(b"\n"), "frames end at line ends");
            if number < 2 {
                assert!(text.len() >= 8 << 20 && text.len() < (8 << 20) + 2000);
            }
            texts.push(text);
        }
        assert_eq!(next, bytes.len() as u64);
        assert_eq!(lines.len() as i64, 1 + n + 1, "header, records, END");
        for (pos, line) in &lines {
            let text = &texts[pos.frame as usize];
            let start = pos.offset as usize;
            assert_eq!(&text[start..start + line.len()], &line[..]);
            assert_eq!(line.last(), Some(&b'\n'));
        }
    }

    #[test]
    fn every_record_reads_back_and_end_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ndjson.zst");
        let header = Header::new(at(0), SourceInfo::default());
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = TraceWriter::new(file, &header, WriterOptions::default()).unwrap();
        writer
            .write_object(at(1), EventType::Listed, &json!({"kind": "Pod"}))
            .unwrap();
        writer.write_synced(at(2), "v1/pods", Some("7")).unwrap();
        writer.write_gap(at(3), "v1/pods", "410 Gone").unwrap();
        writer.finish(at(4)).unwrap();
        let mut seen = Vec::new();
        let summary = read_trace(&TraceSource::Path(path), |entry| {
            seen.push(match entry.record {
                Record::Header(_) => "HEADER".to_string(),
                Record::Object { event, .. } => event.as_str().to_string(),
                Record::Synced { .. } => "SYNCED".to_string(),
                Record::Gap { reason, .. } => format!("GAP {reason}"),
                Record::End { records, .. } => format!("END {}", records.unwrap_or(0)),
                Record::Unknown { record_type } => record_type,
            })
        })
        .unwrap();
        assert_eq!(
            seen,
            ["HEADER", "LISTED", "SYNCED", "GAP 410 Gone", "END 3"]
        );
        assert!(
            summary.compression == super::super::Compression::Zstd && summary.cut_short.is_none()
        );
    }

    #[test]
    fn a_flush_due_by_age_makes_the_record_readable_before_the_frame_ends() {
        let out = Shared::default();
        let header = Header::new(at(0), SourceInfo::default());
        let options = WriterOptions {
            flush_age: Duration::ZERO,
            ..WriterOptions::default()
        };
        let mut writer = TraceWriter::new(out.clone(), &header, options).unwrap();
        writer
            .write_object(at(1), EventType::Added, &json!({"kind": "Pod"}))
            .unwrap();
        assert_eq!(readable(&out.bytes()).lines().count(), 1);
        writer.flush_if_due().unwrap();
        assert_eq!(readable(&out.bytes()).lines().count(), 2);
        writer.abandon().unwrap();
        let bytes = out.bytes();
        let text = zstd::stream::decode_all(&bytes[..]).unwrap();
        assert_eq!(String::from_utf8(text).unwrap().lines().count(), 2);
    }

    #[test]
    fn plain_output_is_written_at_flush_points() {
        let out = Shared::default();
        let header = Header::new(at(0), SourceInfo::default());
        let options = WriterOptions {
            compress: false,
            ..WriterOptions::default()
        };
        let mut writer = TraceWriter::new(out.clone(), &header, options).unwrap();
        writer
            .write_object(at(1), EventType::Added, &json!({"kind": "Pod"}))
            .unwrap();
        assert_eq!(out.bytes().iter().filter(|&&b| b == b'\n').count(), 1);
        writer.flush().unwrap();
        assert_eq!(out.bytes().iter().filter(|&&b| b == b'\n').count(), 2);
        writer.finish(at(2)).unwrap();
        let bytes = out.bytes();
        assert!(String::from_utf8(bytes)
            .unwrap()
            .ends_with("\"records\":1}\n"));
    }

    /// The data frames (the index at the end is in skippable frames).
    fn frames(bytes: &[u8]) -> usize {
        let mut rest = bytes;
        let mut count = 0;
        while !rest.is_empty() {
            let len = zstd::zstd_safe::find_frame_compressed_size(rest).unwrap();
            count += usize::from(rest[..4] == [0x28, 0xB5, 0x2F, 0xFD]);
            rest = &rest[len..];
        }
        count
    }

    /// A trace of a few frames with objects, owners, an Event and control records.
    fn write_sample(path: &std::path::Path, finish: bool) {
        let header = Header::new(at(0), SourceInfo::default());
        let file = std::fs::File::create(path).unwrap();
        let options = WriterOptions {
            embed_index_from: 0,
            // Several frames, so the index at the end must place lines in each.
            max_frame_bytes: 512,
            ..WriterOptions::default()
        };
        let mut writer = TraceWriter::new(file, &header, options).unwrap();
        let rs = json!({"kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": "web-1", "namespace": "demo", "uid": "rs-1"}});
        writer.write_object(at(0), EventType::Listed, &rs).unwrap();
        writer
            .write_synced(at(1), "apps/v1/replicasets", Some("7"))
            .unwrap();
        for i in 0..12 {
            let pod = json!({"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": format!("web-1-{}", i % 3), "namespace": "demo",
                    "uid": format!("pod-{}", i % 3),
                    "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "uid": "rs-1",
                        "controller": true}]}});
            writer
                .write_object(at(i * 400), EventType::Modified, &pod)
                .unwrap();
        }
        let event = json!({"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": "web-1-0.1", "namespace": "demo", "uid": "ev-1"},
            "involvedObject": {"kind": "Pod", "name": "web-1-0", "uid": "pod-0"}});
        writer
            .write_object(at(5000), EventType::Added, &event)
            .unwrap();
        writer
            .write_object(at(5001), EventType::Added, &json!({"kind": "Pod"}))
            .unwrap();
        writer.write_gap(at(5002), "v1/pods", "410 Gone").unwrap();
        match finish {
            true => drop(writer.finish(at(6000)).unwrap()),
            false => drop(writer.abandon().unwrap()),
        }
    }

    /// An index as bytes, to compare two (the stamp is the same for both).
    fn bytes_of(index: &crate::index::TraceIndex) -> Vec<u8> {
        let stamp = crate::index::store::TraceStamp {
            size: 0,
            modified_secs: 0,
            modified_nanos: 0,
        };
        crate::index::store::encode(&stamp, index).unwrap()
    }

    #[test]
    fn the_index_at_the_end_is_the_index_a_scan_of_the_trace_builds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ndjson.zst");
        write_sample(&path, true);
        let size = std::fs::metadata(&path).unwrap().len();
        let embedded = crate::index::embedded::load(&path, size).expect("an index at the end");
        let built = crate::index::build::build(&path, "trace", &mut |_, _| {}).unwrap();
        assert!(embedded.frames.len() >= 5, "{:?}", embedded.frames);
        assert_eq!(embedded.objects.len(), 5);
        assert_eq!(embedded.totals.records_by_type["MODIFIED"], 12);
        assert_eq!(bytes_of(&embedded), bytes_of(&built));
        // The text is the same as without the tail, for any zstd reader.
        let text = String::from_utf8(
            zstd::stream::decode_all(&std::fs::read(&path).unwrap()[..]).unwrap(),
        )
        .unwrap();
        assert_eq!(text.lines().count(), 19);
        assert!(text.ends_with("\n") && text.lines().last().unwrap().contains("\"END\""));
    }

    #[test]
    fn an_abandoned_plain_or_small_trace_has_no_index_at_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ndjson.zst");
        write_sample(&path, false);
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(crate::index::embedded::load(&path, size).is_err());
        let header = Header::new(at(0), SourceInfo::default());
        let small = TraceWriter::new(Vec::new(), &header, WriterOptions::default()).unwrap();
        let small = small.finish(at(1)).unwrap();
        assert_eq!(frames(&small), 1);
        assert_eq!(
            zstd::zstd_safe::find_frame_compressed_size(&small[..]),
            Ok(small.len()),
            "a trace of one frame and nothing else"
        );
        let options = WriterOptions {
            compress: false,
            ..WriterOptions::default()
        };
        let writer = TraceWriter::new(Vec::new(), &header, options).unwrap();
        let bytes = writer.finish(at(1)).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 2);
    }
}
