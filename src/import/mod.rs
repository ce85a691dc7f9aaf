//! Other sources converted into traces: API server audit logs and `kubectl get` output.
//!
//! Each importer reads its inputs whole (plain, gzip or zstd, or standard input), turns what it
//! understands into trace records, reports what it skipped with file and line, and writes one
//! trace through the ordinary [`TraceWriter`], redacted like `kblame record`'s. See
//! `docs/trace-format.md` for the `request` field and REQUEST records an audit log adds.

pub mod audit;
pub mod kubectl;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::Value;

use crate::redact::{RedactError, RedactSettings, Redactor};
use crate::trace::{
    Compression, EventType, Header, ImportCounts, ImportSource, ObjectRef, RequestInfo,
    ResourceInfo, SourceInfo, TraceWriter, WriterOptions,
};

/// Why an import could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// An input could not be opened or read (or decompressed).
    #[error("cannot read {name}")]
    Read {
        /// The input as given.
        name: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Nothing in the inputs could be used.
    #[error("no {what} found in {files}: nothing to import ({seen})")]
    Empty {
        /// What was looked for, e.g. `audit event`.
        what: &'static str,
        /// The inputs, comma-separated.
        files: String,
        /// What was found instead, e.g. `2 documents: 2 not-an-audit-event`.
        seen: String,
    },
    /// The trace could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The trace's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Redaction could not be set up.
    #[error(transparent)]
    Redact(#[from] RedactError),
}

/// What to import and where to write it.
#[derive(Debug, Clone, Default)]
pub struct ImportSettings {
    /// The input files; `-` is standard input.
    pub inputs: Vec<String>,
    /// The trace to write; a name ending in `.ndjson` is written uncompressed.
    pub output: PathBuf,
    /// Redaction, as `kblame record` takes it. Default is Secret values hashed under a random key.
    pub redaction: RedactSettings,
    /// `kubectl` imports: the time of List dumps (and of objects with no time of their own).
    /// Default is the newest time found in the objects.
    pub time: Option<Timestamp>,
}

/// What an import wrote.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// Records written (header and END excluded).
    pub records: u64,
    /// Events read, used and skipped.
    pub counts: ImportCounts,
    /// Every warning (malformed lines with their numbers, skipped objects), in words.
    pub warnings: Vec<String>,
    /// What the trace cannot tell (also in its header).
    pub caveats: Vec<String>,
}

/// How many warnings of one kind are spelled out before they are only counted.
const MAX_DETAILED: u64 = 20;

/// Counts and warnings gathered while reading.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) counts: ImportCounts,
    pub(crate) warnings: Vec<String>,
}

impl Tally {
    /// Counts one event found in the input.
    pub(crate) fn read(&mut self) {
        self.counts.read += 1;
    }

    /// Counts one event skipped for `reason`, with a warning while few were skipped for it.
    pub(crate) fn skip(&mut self, reason: &str, warning: Option<String>) {
        let count = self.counts.skipped.entry(reason.to_string()).or_insert(0);
        *count += 1;
        if let Some(warning) = warning.filter(|_| *count <= MAX_DETAILED) {
            self.warnings.push(warning);
        }
    }
}

impl Tally {
    /// What the inputs held, for [`ImportError::Empty`]: `2 documents: 2 not-an-audit-event`.
    pub(crate) fn seen(&self) -> String {
        if self.counts.read == 0 && self.counts.skipped.is_empty() {
            return "the input is empty".to_string();
        }
        let reasons: Vec<String> = self
            .counts
            .skipped
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        format!("{} document(s): {}", self.counts.read, reasons.join(", "))
    }
}

/// One record to write.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) ts: Timestamp,
    pub(crate) body: PendingBody,
    pub(crate) request: Option<RequestInfo>,
    /// The plural resource, when the source names it (audit `objectRef.resource`).
    pub(crate) resource: Option<String>,
}

/// An object record, or a REQUEST record without a body.
#[derive(Debug, Clone)]
pub(crate) enum PendingBody {
    Object { event: EventType, object: Value },
    Request { object_ref: ObjectRef },
}

/// Reads one input whole as text: a file or `-`, plain, gzip or zstd (told by the first bytes,
/// as the trace reader does). `Ok(None)` (with a warning) when it is not UTF-8 text.
pub(crate) fn read_input(name: &str, tally: &mut Tally) -> Result<Option<String>, ImportError> {
    let error = |source| ImportError::Read {
        name: name.to_string(),
        source,
    };
    let mut raw = Vec::new();
    if name == "-" {
        io::stdin().lock().read_to_end(&mut raw).map_err(error)?;
    } else {
        if Path::new(name).is_dir() {
            return Err(error(io::Error::other("it is a directory")));
        }
        raw = std::fs::read(name).map_err(error)?;
    }
    let bytes = match Compression::of(&raw) {
        Compression::None => raw,
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .map_err(error)?;
            out
        }
        Compression::Zstd => zstd::stream::decode_all(&raw[..]).map_err(error)?,
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(err) => {
            tally.skip(
                "not-text",
                Some(format!(
                    "{name}: not UTF-8 text (byte {}), skipped",
                    err.utf8_error().valid_up_to()
                )),
            );
            Ok(None)
        }
    }
}

/// The JSON values in `text` with the line each starts on: a stream of JSON documents (one a
/// line, or pretty-printed and concatenated), or, when that stream breaks, each line on its
/// own, with every line that is not JSON reported and skipped. Text that is not JSON at all
/// is read as YAML documents (`---`-separated).
pub(crate) fn documents(text: &str, name: &str, tally: &mut Tally) -> Vec<(u64, Value)> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Some(values) = json_stream(text) {
            return values;
        }
        return json_lines(text, name, tally);
    }
    match yaml_documents(text) {
        Some(values) => values,
        None => {
            tally.read();
            tally.skip(
                "malformed",
                Some(format!("{name}: neither JSON nor YAML, skipped")),
            );
            Vec::new()
        }
    }
}

/// The whole text as a stream of JSON values; `None` when anything in it does not parse.
fn json_stream(text: &str) -> Option<Vec<(u64, Value)>> {
    let mut values = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut lines = LineCounter::default();
    let mut start = 0;
    while let Some(next) = stream.next() {
        let value = next.ok()?;
        let rest = text.get(start..).unwrap_or_default();
        let begin = start + rest.len() - rest.trim_start().len();
        values.push((lines.line_at(text, begin), value));
        start = stream.byte_offset();
    }
    Some(values)
}

/// Line numbers of increasing byte offsets, counted once.
#[derive(Default)]
pub(crate) struct LineCounter {
    offset: usize,
    line: u64,
}

impl LineCounter {
    /// The 1-based line of byte `offset` (offsets must not decrease between calls).
    pub(crate) fn line_at(&mut self, text: &str, offset: usize) -> u64 {
        let end = offset.min(text.len()).max(self.offset);
        self.line += memchr::memchr_iter(b'\n', &text.as_bytes()[self.offset..end]).count() as u64;
        self.offset = end;
        self.line + 1
    }
}

/// Each non-blank line as one JSON value; the others are reported with their number.
fn json_lines(text: &str, name: &str, tally: &mut Tally) -> Vec<(u64, Value)> {
    let mut values = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(value) => values.push((line_no, value)),
            Err(err) => {
                tally.read();
                tally.skip(
                    "malformed",
                    Some(format!(
                        "{name} line {line_no}: not JSON ({}), skipped",
                        json_error(&err)
                    )),
                );
            }
        }
    }
    values
}

/// A JSON error without serde's own position (relative to where parsing began), with the
/// column; the caller says the line.
pub(crate) fn json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    format!("{what}, column {}", err.column())
}

/// YAML documents as JSON values (line numbers are those of each document's start, or 1).
pub(crate) fn yaml_documents(text: &str) -> Option<Vec<(u64, Value)>> {
    use serde::Deserialize;
    let mut values = Vec::new();
    for document in yaml_serde::Deserializer::from_str(text) {
        let value = Value::deserialize(document).ok()?;
        if !value.is_null() {
            values.push((1, value));
        }
    }
    // A text file that is not YAML either often parses as one bare string.
    values.iter().all(|(_, v)| v.is_object()).then_some(values)
}

/// The string at `pointer` (`/metadata/name`), when there is one.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// An object as the trace stores it: redacted by the rules that cover its kind (or `resource`).
/// `Err` (the object must not be written) when it cannot be redacted.
pub(crate) fn redacted(
    redactor: &Redactor,
    object: Value,
    resource: &str,
) -> Result<Value, String> {
    let kind = str_at(&object, "/kind").unwrap_or_default().to_string();
    let group = group_of(str_at(&object, "/apiVersion").unwrap_or_default()).to_string();
    if !redactor.covers(&group, &kind, resource) {
        return Ok(object);
    }
    let text = object.to_string();
    match redactor.redact(&text, &group, &kind, resource) {
        Ok(None) => Ok(object),
        Ok(Some(json)) => serde_json::from_str(&json).map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    }
}

/// What the header of an imported trace says, besides the records.
pub(crate) struct Described {
    pub(crate) kind: &'static str,
    pub(crate) import: ImportSource,
    pub(crate) resources: Vec<ResourceInfo>,
    /// The header's time when no record has one (everything was skipped).
    pub(crate) start: Option<Timestamp>,
}

/// Sorts the records by time (stable: equal times keep input order) and writes the trace.
pub(crate) fn write_trace(
    settings: &ImportSettings,
    redactor: &Redactor,
    described: Described,
    mut pending: Vec<Pending>,
) -> Result<u64, ImportError> {
    pending.sort_by_key(|p| p.ts);
    let start = pending
        .first()
        .map(|p| p.ts)
        .or(described.start)
        .unwrap_or_else(Timestamp::now);
    let end = pending.last().map_or(start, |p| p.ts);
    let source = SourceInfo {
        kind: described.kind.to_string(),
        tool: Some(format!("kblame {}", env!("CARGO_PKG_VERSION"))),
        server: None,
        server_version: None,
        cluster: None,
    };
    let mut header = Header::new(start, source);
    header.import = described.import;
    header.resources = described.resources;
    header.redacted = redactor.rule_names();
    header.redaction = Some(redactor.info());
    let path = &settings.output;
    let write_error = |source| ImportError::Write {
        path: path.clone(),
        source,
    };
    let file = crate::files::create_private(path).map_err(write_error)?;
    let options = WriterOptions {
        compress: path.extension().is_none_or(|ext| ext != "ndjson"),
        ..WriterOptions::default()
    };
    let mut writer =
        TraceWriter::new(io::BufWriter::new(file), &header, options).map_err(write_error)?;
    for record in &pending {
        write_one(&mut writer, record).map_err(write_error)?;
    }
    let records = writer.records();
    writer.finish(end).map_err(write_error)?;
    Ok(records)
}

fn write_one<W: io::Write>(writer: &mut TraceWriter<W>, record: &Pending) -> io::Result<()> {
    match (&record.body, &record.request) {
        (PendingBody::Object { event, object }, Some(request)) => {
            writer.write_object_with_request(record.ts, *event, object, request)
        }
        (PendingBody::Object { event, object }, None) => {
            writer.write_object(record.ts, *event, object)
        }
        (PendingBody::Request { object_ref }, request) => {
            let empty = RequestInfo::default();
            writer.write_request(record.ts, object_ref, request.as_ref().unwrap_or(&empty))
        }
    }
}
