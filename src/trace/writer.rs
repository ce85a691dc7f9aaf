//! Trace writer: NDJSON lines in independent zstd frames, so a killed writer leaves a readable prefix.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::record::{EventType, Header, ObjectRef, RequestInfo};
use super::time::format_ts;

/// How the writer frames and compresses.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Compress with zstd. Default is `true`; `false` writes plain NDJSON.
    pub compress: bool,
    /// zstd compression level. Default is 3.
    pub level: i32,
    /// End a frame once it holds this many uncompressed bytes. Default is 4 MiB.
    pub max_frame_bytes: usize,
    /// End a frame once its records span this much record time. Default is 1 s.
    pub max_frame_span: SignedDuration,
    /// End a frame this long (wall clock) after it was opened, checked by
    /// [`TraceWriter::flush_if_due`]. Default is 1 s.
    pub max_frame_age: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            compress: true,
            level: 3,
            max_frame_bytes: 4 << 20,
            max_frame_span: SignedDuration::from_secs(1),
            max_frame_age: Duration::from_secs(1),
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

/// Writes a trace: the header, then records, each frame flushed to `out` when it ends.
pub struct TraceWriter<W: Write> {
    out: W,
    options: WriterOptions,
    pending: Vec<u8>,
    frame_first_ts: Option<Timestamp>,
    frame_opened: Option<Instant>,
    records: u64,
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace on `out` with `header` as line 1 (written in its own frame at once).
    pub fn new(out: W, header: &Header, options: WriterOptions) -> io::Result<Self> {
        let mut writer = TraceWriter {
            out,
            options,
            pending: Vec::with_capacity(1 << 16),
            frame_first_ts: None,
            frame_opened: None,
            records: 0,
        };
        serde_json::to_writer(&mut writer.pending, header)?;
        writer.pending.push(b'\n');
        writer.flush_frame()?;
        Ok(writer)
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

    /// Ends the current frame if it has been open longer than `max_frame_age`.
    pub fn flush_if_due(&mut self) -> io::Result<()> {
        match self.frame_opened {
            Some(opened) if opened.elapsed() >= self.options.max_frame_age => self.flush_frame(),
            _ => Ok(()),
        }
    }

    /// Ends the current frame: compresses what is pending, writes and flushes it.
    pub fn flush_frame(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.options.compress {
            let frame = zstd::bulk::compress(&self.pending, self.options.level)?;
            self.out.write_all(&frame)?;
        } else {
            self.out.write_all(&self.pending)?;
        }
        self.out.flush()?;
        self.pending.clear();
        self.frame_first_ts = None;
        self.frame_opened = None;
        Ok(())
    }

    /// Writes END, ends the last frame and returns the output.
    pub fn finish(mut self, ts: Timestamp) -> io::Result<W> {
        let ts_text = format_ts(ts);
        let mut line = ControlLine::new(&ts_text, "END");
        line.records = Some(self.records);
        self.push(ts, &line)?;
        self.flush_frame()?;
        Ok(self.out)
    }

    /// Ends the last frame without END, as a recorder that was cut off would leave it.
    pub fn abandon(mut self) -> io::Result<W> {
        self.flush_frame()?;
        Ok(self.out)
    }

    /// How many records (header excluded) have been written.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn push(&mut self, ts: Timestamp, line: &impl Serialize) -> io::Result<()> {
        if let Some(first) = self.frame_first_ts {
            if first.duration_until(ts) >= self.options.max_frame_span {
                self.flush_frame()?;
            }
        }
        serde_json::to_writer(&mut self.pending, line)?;
        self.pending.push(b'\n');
        self.records += 1;
        self.frame_first_ts.get_or_insert(ts);
        self.frame_opened.get_or_insert_with(Instant::now);
        if self.pending.len() >= self.options.max_frame_bytes {
            self.flush_frame()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{read_trace, Record, SourceInfo, TraceSource};
    use serde_json::json;

    fn at(millis: i64) -> Timestamp {
        "2026-11-26T16:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_millis(millis)
    }

    fn frames(bytes: &[u8]) -> usize {
        bytes
            .windows(4)
            .filter(|w| *w == [0x28, 0xB5, 0x2F, 0xFD])
            .count()
    }

    #[test]
    fn a_frame_ends_once_its_records_span_a_second() {
        let header = Header::new(at(0), SourceInfo::default());
        let mut writer = TraceWriter::new(Vec::new(), &header, WriterOptions::default()).unwrap();
        for millis in (0..3000).step_by(250) {
            writer
                .write_object(at(millis), EventType::Added, &json!({"kind": "Pod"}))
                .unwrap();
        }
        let bytes = writer.finish(at(3000)).unwrap();
        // The header's frame, then one frame per second of records.
        assert_eq!(frames(&bytes), 1 + 4);
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
    fn a_frame_flushed_by_age_leaves_a_readable_file_without_end() {
        let header = Header::new(at(0), SourceInfo::default());
        let options = WriterOptions {
            max_frame_age: Duration::ZERO,
            ..WriterOptions::default()
        };
        let mut writer = TraceWriter::new(Vec::new(), &header, options).unwrap();
        writer
            .write_object(at(1), EventType::Added, &json!({"kind": "Pod"}))
            .unwrap();
        writer.flush_if_due().unwrap();
        let bytes = writer.abandon().unwrap();
        let text = zstd::stream::decode_all(&bytes[..]).unwrap();
        assert_eq!(String::from_utf8(text).unwrap().lines().count(), 2);
    }
}
