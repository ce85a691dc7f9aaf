//! The trace file format v1: records, a streaming reader and a framed zstd writer.
//!
//! A trace is NDJSON, one record per line, normally compressed as a sequence of
//! zstd frames (gzip is read too). See `docs/trace-format.md` for the wire format.

pub mod codec;
pub mod frames;
mod reader;
mod record;
mod time;
mod writer;

pub use codec::{MAX_FRAME_RAW_BYTES, MAX_LINE_BYTES, MAX_WINDOW_LOG};
pub(crate) use reader::open_file;
pub use reader::KNOWN_SKIPPED_TYPES;
pub(crate) use reader::{parse_line, LineLoop};
pub use reader::{
    read_trace, Compression, Entry, ReadSummary, ReadWarning, TraceError, TraceSource,
};
pub use record::{
    EventType, Header, ImportCounts, ImportSource, ObjectRef, Record, RedactionInfo, RequestInfo,
    ResourceInfo, SourceInfo, FORMAT_V1,
};
pub use time::{format_ts, parse_ts};
pub use writer::{LinePos, TraceWriter, WriteHook, WriterOptions};
