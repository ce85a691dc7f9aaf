//! Streaming trace reader: zstd, gzip or plain NDJSON, file or stdin, one line at a time.
//!
//! The compression is told by the first bytes, never by the name. The reader never loads the
//! whole file, nor a whole line longer than [`MAX_LINE_BYTES`] (such a line is skipped). A bad
//! line is a warning (counted, reported with its line number) and reading carries on; a
//! truncated, damaged or refused zstd frame, damaged gzip data or a partial last line ends
//! reading with a warning, keeping everything before it. Input that is not a trace at all (a
//! directory, an empty file, bytes that are not NDJSON) is refused.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::codec::{size_words, FrameStream, MAX_LINE_BYTES};
use super::record::{EventType, Header, Record, FORMAT_V1};
use super::time::parse_ts;

/// The zstd frame magic number, as it appears at the start of a compressed trace.
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The gzip magic number, as it appears at the start of a gzip-compressed trace.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// How many detailed warnings of one kind are kept; the rest are only counted.
const MAX_DETAILED_WARNINGS: usize = 20;

/// How a trace's bytes are compressed, as told by its first bytes.
///
/// Stored in saved indexes: the variants keep their order (`None` and `Zstd` are encoded as the
/// `false` and `true` of the earlier `compressed` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain NDJSON.
    #[default]
    None,
    /// zstd frames (as kblame writes them, or one frame from the `zstd` tool).
    Zstd,
    /// gzip (one or more members), read as one stream.
    Gzip,
}

impl Compression {
    /// The compression of a file starting with `bytes` (at least 4 of them, unless it is shorter).
    pub fn of(bytes: &[u8]) -> Compression {
        if bytes.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else if bytes.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else {
            Compression::None
        }
    }

    /// Its name in messages: `zstd`, `gzip` or `plain NDJSON`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain NDJSON",
            Compression::Zstd => "zstd",
            Compression::Gzip => "gzip",
        }
    }
}

/// Where to read a trace from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceSource {
    /// A file (zstd- or gzip-compressed, or plain NDJSON).
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl TraceSource {
    /// Reads a command-line argument: `-` is stdin, anything else a path.
    pub fn from_arg(arg: &str) -> TraceSource {
        if arg == "-" {
            TraceSource::Stdin
        } else {
            TraceSource::Path(PathBuf::from(arg))
        }
    }

    /// A name for messages: the path, or `<stdin>`.
    pub fn display_name(&self) -> String {
        match self {
            TraceSource::Path(path) => path.display().to_string(),
            TraceSource::Stdin => "<stdin>".to_string(),
        }
    }
}

/// A trace that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened.
    #[error("cannot open {path}")]
    Open {
        /// The trace path.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The path is a directory.
    #[error("{path} is a directory, not a trace file")]
    IsDirectory {
        /// The trace path.
        path: String,
    },
    /// The input is not NDJSON records (plain or compressed), or holds nothing.
    #[error("{path} is not a kblame trace: {detail}")]
    NotATrace {
        /// The trace path.
        path: String,
        /// What was found instead.
        detail: String,
    },
    /// The file changed, or could not be read, after it was indexed.
    #[error("{path} could not be read again (did it change while kblame read it?)")]
    Changed {
        /// The trace path.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The header names a format this version cannot read.
    #[error(
        "{path} is in format {found}, which this kblame (reading {FORMAT_V1}) does not understand"
    )]
    UnsupportedFormat {
        /// The trace path.
        path: String,
        /// The header's `format`.
        found: String,
    },
}

/// One record and the line it came from (1-based, counted in the decompressed text).
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The line number.
    pub line: u64,
    /// The record.
    pub record: Record<'a>,
}

/// Something the reader noticed but read past.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReadWarning {
    /// The line it concerns, when there is one.
    pub line: Option<u64>,
    /// What happened, in words.
    pub message: String,
}

/// What reading a whole trace found, besides the records themselves.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ReadSummary {
    /// The header, when line 1 was one.
    pub header: Option<Header>,
    /// How the input was compressed.
    pub compression: Compression,
    /// Lines read (including blank and bad ones).
    pub lines: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Records handed to the caller (the header excluded).
    pub records: u64,
    /// Lines that could not be parsed as records.
    pub bad_lines: u64,
    /// Records with an unknown `type`, by type.
    pub unknown_types: std::collections::BTreeMap<String, u64>,
    /// Records whose `ts` is earlier than the record before them.
    pub out_of_order: u64,
    /// Where reading stopped early (truncated frame, partial last line), if it did.
    pub cut_short: Option<String>,
    /// Detailed warnings (the first few of each kind).
    pub warnings: Vec<ReadWarning>,
}

impl ReadSummary {
    fn warn(&mut self, line: Option<u64>, message: String) {
        self.warn_with(line, || message);
    }

    /// Like [`ReadSummary::warn`], writing the message only when it is kept: a hostile trace can
    /// have billions of bad lines.
    fn warn_with(&mut self, line: Option<u64>, message: impl FnOnce() -> String) {
        if self.warnings.len() < MAX_DETAILED_WARNINGS * 4 {
            self.warnings.push(ReadWarning {
                line,
                message: message(),
            });
        }
    }
}

/// The fields of any record line, borrowed from the line where possible.
#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(rename = "type", borrow)]
    record_type: Cow<'a, str>,
    #[serde(default, borrow)]
    ts: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    object: Option<&'a RawValue>,
    #[serde(default, borrow)]
    request: Option<&'a RawValue>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default, rename = "resourceVersion")]
    resource_version: Option<String>,
    #[serde(default)]
    records: Option<u64>,
}

/// Reads every record of a trace in order and hands each to `visit`.
///
/// Returns what was noticed on the way. Fails only when nothing can be read:
/// the file does not open, is not a trace, or has a header of a newer format.
pub fn read_trace(
    source: &TraceSource,
    mut visit: impl FnMut(Entry<'_>),
) -> Result<ReadSummary, TraceError> {
    let name = source.display_name();
    let mut raw: Box<dyn Read> = match source {
        TraceSource::Path(path) => Box::new(open_file(path, &name)?),
        TraceSource::Stdin => Box::new(io::stdin().lock()),
    };
    // The first bytes tell the compression; a pipe may hand them out a few at a time.
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut raw, &mut magic).map_err(|source| TraceError::Open {
        path: name.clone(),
        source,
    })?;
    let compression = Compression::of(&magic[..got]);
    let input =
        BufReader::with_capacity(1 << 16, io::Cursor::new(magic[..got].to_vec()).chain(raw));
    let lines: Box<dyn BufRead> = match compression {
        Compression::Zstd => match FrameStream::new(input, 0) {
            Ok(decoder) => Box::new(BufReader::with_capacity(1 << 16, decoder)),
            Err(err) => {
                return Err(TraceError::NotATrace {
                    path: name,
                    detail: format!("zstd decoder failed to start: {err}"),
                })
            }
        },
        // Several members (`cat a.gz b.gz`) read as one text, as the `gzip` tool does.
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(input),
        )),
        Compression::None => Box::new(input),
    };
    let mut line_loop = LineLoop::new(name, compression);
    line_loop.run(lines, &mut visit)?;
    line_loop.end()?;
    Ok(line_loop.into_summary())
}

/// Opens a trace file called `name` in messages, refusing a directory.
pub(crate) fn open_file(path: &Path, name: &str) -> Result<File, TraceError> {
    let file = File::open(path).map_err(|source| TraceError::Open {
        path: name.to_string(),
        source,
    })?;
    // A directory opens on Unix and fails only when read, with an error that says little.
    if file.metadata().is_ok_and(|meta| meta.is_dir()) {
        return Err(TraceError::IsDirectory {
            path: name.to_string(),
        });
    }
    Ok(file)
}

/// Reads until `buf` is full or the input ends; returns how many bytes came.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// The state of one pass over the lines of a trace: line numbers, the header, order and warnings.
///
/// The streaming reader feeds it every line; the index builder feeds it the lines its fast scan
/// could not read and reports the others through [`LineLoop::scanned_object`].
pub(crate) struct LineLoop {
    name: String,
    summary: ReadSummary,
    last_ts: Option<Timestamp>,
    seen_content: bool,
}

impl LineLoop {
    /// A pass over the trace called `name`.
    pub(crate) fn new(name: String, compression: Compression) -> Self {
        LineLoop {
            name,
            summary: ReadSummary {
                compression,
                ..ReadSummary::default()
            },
            last_ts: None,
            seen_content: false,
        }
    }

    /// The trace's name in messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// What the pass noticed.
    pub(crate) fn into_summary(self) -> ReadSummary {
        self.summary
    }

    /// Ends the pass: input that held no line at all is not a trace.
    pub(crate) fn end(&self) -> Result<(), TraceError> {
        if self.seen_content {
            return Ok(());
        }
        let detail = match self.summary.bytes {
            0 => "it is empty",
            _ => "it holds only empty lines",
        };
        Err(TraceError::NotATrace {
            path: self.name.clone(),
            detail: detail.to_string(),
        })
    }

    /// The error for input whose first line with content, `line_no`, is no trace record.
    fn not_a_trace(&self, line_no: u64, why: &dyn std::fmt::Display) -> TraceError {
        let detail = match self.summary.compression {
            Compression::None => {
                format!("neither NDJSON nor zstd or gzip (line {line_no}: {why})")
            }
            compressed => format!(
                "its {}-compressed text is not NDJSON (line {line_no}: {why})",
                compressed.name()
            ),
        };
        TraceError::NotATrace {
            path: self.name.clone(),
            detail,
        }
    }

    /// The number the next line will get.
    pub(crate) fn next_line(&self) -> u64 {
        self.summary.lines + 1
    }

    /// Reads one line (with its newline, when `complete`) and hands its record, if any, to `visit`.
    pub(crate) fn line(
        &mut self,
        bytes: &[u8],
        complete: bool,
        visit: &mut impl FnMut(Entry<'_>),
    ) -> Result<(), TraceError> {
        let line_no = self.next_line();
        self.summary.lines = line_no;
        self.summary.bytes += bytes.len() as u64;
        self.handle_line(line_no, bytes, complete, visit)
    }

    /// Counts `count` empty lines (a newline each), which hold nothing to read.
    pub(crate) fn empty_lines(&mut self, count: u64) {
        self.summary.lines += count;
        self.summary.bytes += count;
    }

    /// Counts an object record that was read by a faster route; the caller checked it is not line 1.
    pub(crate) fn scanned_object(&mut self, len: usize, ts: Timestamp) {
        let line_no = self.next_line();
        self.summary.lines = line_no;
        self.summary.bytes += len as u64;
        if !self.seen_content {
            self.seen_content = true;
            self.summary
                .warn(Some(line_no), "the trace has no header line".to_string());
        }
        self.check_order(line_no, Some(ts));
        self.summary.records += 1;
    }

    /// Counts a line longer than [`MAX_LINE_BYTES`] (`len` bytes with its newline, when
    /// `complete`), which was skipped without being read whole. As line 1 it means the input is
    /// not a trace.
    pub(crate) fn long_line(&mut self, len: u64, complete: bool) -> Result<(), TraceError> {
        let line_no = self.next_line();
        self.summary.lines = line_no;
        self.summary.bytes += len;
        let limit = size_words(MAX_LINE_BYTES as u64);
        if !self.seen_content {
            return Err(TraceError::NotATrace {
                path: self.name.clone(),
                detail: format!("line {line_no} is longer than {limit}"),
            });
        }
        if complete {
            self.summary.bad_lines += 1;
            self.summary.warn(
                Some(line_no),
                format!("line {line_no} is longer than {limit} and was skipped"),
            );
        } else {
            let message = format!(
                "the last line ({line_no}) is partial and longer than {limit}; it was skipped"
            );
            self.summary.warn(Some(line_no), message.clone());
            self.summary.cut_short = Some(message);
        }
        Ok(())
    }

    /// Ends the pass at a read error, after the complete lines before it and the `partial` one.
    pub(crate) fn stop(
        &mut self,
        partial: &[u8],
        err: io::Error,
        visit: &mut impl FnMut(Entry<'_>),
    ) -> Result<(), TraceError> {
        let line_no = self.next_line();
        self.stop_at_read_error(line_no, partial, err, visit)
    }

    fn run(
        &mut self,
        mut lines: Box<dyn BufRead>,
        visit: &mut impl FnMut(Entry<'_>),
    ) -> Result<(), TraceError> {
        let mut buf = Vec::with_capacity(1 << 14);
        loop {
            buf.clear();
            match read_line_within(&mut *lines, &mut buf, MAX_LINE_BYTES) {
                Ok(LineEnd::Eof) => return Ok(()),
                Ok(LineEnd::Empty(count)) => self.empty_lines(count),
                Ok(LineEnd::Line { complete }) => self.line(&buf, complete, visit)?,
                Ok(LineEnd::TooLong { len, complete }) => self.long_line(len, complete)?,
                Err((err, skipped)) => {
                    match skipped {
                        Some(len) => {
                            self.long_line(len, false)?;
                            self.stop(&[], err, visit)?;
                        }
                        None => self.stop(&buf, err, visit)?,
                    }
                    return Ok(());
                }
            }
        }
    }

    fn stop_at_read_error(
        &mut self,
        line_no: u64,
        partial: &[u8],
        err: io::Error,
        visit: &mut impl FnMut(Entry<'_>),
    ) -> Result<(), TraceError> {
        if !self.seen_content {
            let detail = match self.summary.compression {
                Compression::None => format!("nothing could be read: {err}"),
                compressed => format!("the {} data is corrupt: {err}", compressed.name()),
            };
            return Err(TraceError::NotATrace {
                path: self.name.clone(),
                detail,
            });
        }
        if !partial.is_empty() {
            self.summary.lines = line_no;
            self.handle_line(line_no, partial, false, visit)?;
        }
        let message = format!(
            "the trace is cut short after line {} ({} bytes decompressed): {err}",
            self.summary.lines, self.summary.bytes
        );
        self.summary.warn(Some(self.summary.lines), message.clone());
        self.summary.cut_short = Some(message);
        Ok(())
    }

    fn handle_line(
        &mut self,
        line_no: u64,
        bytes: &[u8],
        complete: bool,
        visit: &mut impl FnMut(Entry<'_>),
    ) -> Result<(), TraceError> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text.trim(),
            Err(_) if !self.seen_content => return Err(self.not_a_trace(line_no, &"not UTF-8")),
            Err(_) => return self.bad_line(line_no, complete, &"not UTF-8"),
        };
        if text.is_empty() {
            return Ok(());
        }
        let first = !self.seen_content;
        self.seen_content = true;
        if nesting_depth(text) > MAX_NESTING {
            let why = format!("it nests deeper than {MAX_NESTING} levels");
            return match first {
                true => Err(self.not_a_trace(line_no, &why)),
                false => self.bad_line(line_no, complete, &why),
            };
        }
        match serde_json::from_str::<RawLine<'_>>(text) {
            Ok(raw) => self.handle_record(line_no, text, raw, first, visit),
            Err(err) if first => Err(self.not_a_trace(line_no, &err)),
            Err(err) => self.bad_line(line_no, complete, &err),
        }
    }

    fn bad_line(
        &mut self,
        line_no: u64,
        complete: bool,
        why: &dyn std::fmt::Display,
    ) -> Result<(), TraceError> {
        if complete {
            self.summary.bad_lines += 1;
            self.summary
                .warn_with(Some(line_no), || format!("line {line_no} skipped: {why}"));
        } else {
            let message = format!("the last line ({line_no}) is partial and was skipped: {why}");
            self.summary.warn(Some(line_no), message.clone());
            self.summary.cut_short = Some(message);
        }
        Ok(())
    }

    fn handle_record(
        &mut self,
        line_no: u64,
        text: &str,
        raw: RawLine<'_>,
        first: bool,
        visit: &mut impl FnMut(Entry<'_>),
    ) -> Result<(), TraceError> {
        if raw.record_type == "HEADER" {
            return self.handle_header(line_no, text, first, visit);
        }
        if first {
            self.summary
                .warn(Some(line_no), "the trace has no header line".to_string());
        }
        match self.parse_record(line_no, raw) {
            Ok(Some(record)) => {
                self.check_order(line_no, record.ts());
                self.summary.records += 1;
                visit(Entry {
                    line: line_no,
                    record,
                });
            }
            Ok(None) => {}
            Err(why) => {
                self.summary.bad_lines += 1;
                self.summary
                    .warn_with(Some(line_no), || format!("line {line_no} skipped: {why}"));
            }
        }
        Ok(())
    }

    fn handle_header(
        &mut self,
        line_no: u64,
        text: &str,
        first: bool,
        visit: &mut impl FnMut(Entry<'_>),
    ) -> Result<(), TraceError> {
        let header: Header = match serde_json::from_str(text) {
            Ok(header) => header,
            Err(err) => {
                self.summary.bad_lines += 1;
                self.summary.warn_with(Some(line_no), || {
                    format!("line {line_no}: bad header: {err}")
                });
                return Ok(());
            }
        };
        if header.format != FORMAT_V1 {
            return Err(TraceError::UnsupportedFormat {
                path: self.name.clone(),
                found: header.format,
            });
        }
        if !first {
            self.summary.warn(
                Some(line_no),
                format!("line {line_no}: a second header was ignored"),
            );
            return Ok(());
        }
        self.summary.header = Some(header.clone());
        visit(Entry {
            line: line_no,
            record: Record::Header(Box::new(header)),
        });
        Ok(())
    }

    fn parse_record<'a>(
        &mut self,
        line_no: u64,
        raw: RawLine<'a>,
    ) -> Result<Option<Record<'a>>, String> {
        let record = record_from_raw(raw)?;
        if let Record::Unknown { record_type } = &record {
            if KNOWN_SKIPPED_TYPES.contains(&record_type.as_str()) {
                return Ok(Some(record));
            }
            let count = self
                .summary
                .unknown_types
                .entry(record_type.clone())
                .or_insert(0);
            *count += 1;
            if *count == 1 {
                self.summary.warn(
                    Some(line_no),
                    format!("line {line_no}: unknown record type {record_type:?} ignored"),
                );
            }
        }
        Ok(Some(record))
    }

    fn check_order(&mut self, line_no: u64, ts: Option<Timestamp>) {
        let Some(ts) = ts else { return };
        match self.last_ts {
            Some(last) if ts < last => {
                self.summary.out_of_order += 1;
                if self.summary.out_of_order as usize <= MAX_DETAILED_WARNINGS {
                    let behind = ts.duration_until(last);
                    self.summary.warn(
                        Some(line_no),
                        format!(
                            "line {line_no}: record is {behind:#} earlier than the one before it"
                        ),
                    );
                }
            }
            _ => self.last_ts = Some(ts),
        }
    }
}

/// How [`read_line_within`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineEnd {
    /// Nothing was left to read.
    Eof,
    /// A run of empty lines (bare newlines), read in one go.
    Empty(u64),
    /// A line is in the buffer: with its newline when `complete`, else the input ended.
    Line { complete: bool },
    /// The line was longer than the limit; its `len` bytes were read and discarded.
    TooLong { len: u64, complete: bool },
}

/// Reads one line into `buf`, or, once it proves longer than `limit` bytes (without its newline),
/// discards it up to its newline. A read error comes with the length of a line being discarded.
fn read_line_within(
    input: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> Result<LineEnd, (io::Error, Option<u64>)> {
    let mut skipped: Option<u64> = None;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err((err, skipped)),
        };
        if available.is_empty() {
            return Ok(match skipped {
                Some(len) => LineEnd::TooLong {
                    len,
                    complete: false,
                },
                None if buf.is_empty() => LineEnd::Eof,
                None => LineEnd::Line { complete: false },
            });
        }
        if buf.is_empty() && skipped.is_none() && available[0] == b'\n' {
            let count = available.iter().take_while(|&&b| b == b'\n').count();
            input.consume(count);
            return Ok(LineEnd::Empty(count as u64));
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        match &mut skipped {
            Some(len) => *len += take as u64,
            None if buf.len() + take - usize::from(done) > limit => {
                skipped = Some((buf.len() + take) as u64);
                buf.clear();
            }
            None => buf.extend_from_slice(&available[..take]),
        }
        input.consume(take);
        if done {
            return Ok(match skipped {
                Some(len) => LineEnd::TooLong {
                    len,
                    complete: true,
                },
                None => LineEnd::Line { complete: true },
            });
        }
    }
}

/// Record types that are part of the format but that replay does not use: read as
/// [`Record::Unknown`] (and counted by type) without the unknown-type warning. `REQUEST` is a
/// request from an imported audit log that carried no object body (see docs/trace-format.md).
pub const KNOWN_SKIPPED_TYPES: [&str; 1] = ["REQUEST"];

/// Turns the fields of a (non-header) line into a record.
fn record_from_raw(raw: RawLine<'_>) -> Result<Record<'_>, String> {
    let ts_text = raw.ts.as_deref().ok_or("no `ts`")?;
    let ts =
        parse_ts(ts_text).ok_or_else(|| format!("`ts` {ts_text:?} is not an RFC 3339 time"))?;
    if let Some(event) = EventType::from_type(&raw.record_type) {
        let object = raw.object.ok_or("an object record without `object`")?;
        let request = raw.request;
        return Ok(Record::Object {
            ts,
            event,
            object,
            request,
        });
    }
    Ok(match raw.record_type.as_ref() {
        "SYNCED" => Record::Synced {
            ts,
            resource: raw.resource.unwrap_or_default(),
            resource_version: raw.resource_version,
        },
        "GAP" => Record::Gap {
            ts,
            resource: raw.resource.unwrap_or_default(),
            reason: raw.reason.unwrap_or_default(),
        },
        "END" => Record::End {
            ts,
            records: raw.records,
        },
        other => Record::Unknown {
            record_type: other.to_string(),
        },
    })
}

/// Parses one line read again by position (the reader has already seen and counted it).
pub(crate) fn parse_line(text: &str) -> Result<Record<'_>, String> {
    let text = text.trim();
    let raw: RawLine<'_> = serde_json::from_str(text).map_err(|err| err.to_string())?;
    if raw.record_type == "HEADER" {
        let header: Header = serde_json::from_str(text).map_err(|err| err.to_string())?;
        return Ok(Record::Header(Box::new(header)));
    }
    record_from_raw(raw)
}

/// The deepest nesting a line may have. Real objects stay far below (a CRD's schema nests a few
/// dozen levels); reports embed a body a few levels down, and JSON readers commonly stop at 128
/// (serde_json's default), so a deeper line is skipped rather than echoed unreadable.
pub const MAX_NESTING: usize = 100;

/// How deeply a JSON text nests objects and arrays (brackets inside strings not counted).
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod nesting_tests {
    use super::nesting_depth;

    #[test]
    fn nesting_is_counted_outside_strings() {
        assert_eq!(nesting_depth(r#"{"a":[{"b":"[[[{{"}]}"#), 3);
        assert_eq!(nesting_depth(r#"{"a":"\"{"}"#), 1);
        assert_eq!(nesting_depth("[]"), 1);
    }
}
