//! Trace writer: NDJSON lines in independent zstd frames, so a killed writer leaves a readable prefix.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::frames::FrameLoc;
use super::record::{EventType, Header, ObjectRef, RequestInfo};
use super::time::format_ts;
use crate::index::build::IndexWriter;
use crate::index::embedded;

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
            max_frame_bytes: 4 << 20,
            max_frame_span: SignedDuration::from_secs(1),
            max_frame_age: Duration::from_secs(1),
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

/// Writes a trace: the header, then records, each frame flushed to `out` when it ends.
pub struct TraceWriter<W: Write> {
    out: W,
    options: WriterOptions,
    pending: Vec<u8>,
    frame_first_ts: Option<Timestamp>,
    frame_opened: Option<Instant>,
    records: u64,
    /// The index of what has been written, appended at the end by [`TraceWriter::finish`]
    /// (compressed traces only; dropped if it ever fails: the trace is then indexed when read).
    index: Option<IndexWriter>,
    /// Bytes written to `out`.
    written: u64,
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
            index: None,
            written: 0,
        };
        if writer.options.compress {
            writer.index = Some(IndexWriter::new("trace".to_string(), true));
        }
        serde_json::to_writer(&mut writer.pending, header)?;
        writer.pending.push(b'\n');
        writer.index_line(0);
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
            self.index_frame(frame.len());
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
        // An index that cannot be made only costs the first question a scan.
        let from = self.options.embed_index_from;
        let tail = self
            .index
            .take()
            .filter(|index| index.text_bytes() >= from)
            .and_then(|index| index.finish().ok())
            .and_then(|index| embedded::tail(&index).ok());
        if let Some(tail) = tail {
            self.out.write_all(&tail)?;
            self.out.flush()?;
        }
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
        let start = self.pending.len();
        serde_json::to_writer(&mut self.pending, line)?;
        self.pending.push(b'\n');
        self.index_line(start);
        self.records += 1;
        self.frame_first_ts.get_or_insert(ts);
        self.frame_opened.get_or_insert_with(Instant::now);
        if self.pending.len() >= self.options.max_frame_bytes {
            self.flush_frame()?;
        }
        Ok(())
    }

    /// Indexes the line at `start` of the pending frame.
    fn index_line(&mut self, start: usize) {
        if let Some(index) = &mut self.index {
            let frame = index.frame_count();
            if index
                .push_line(frame, start, &self.pending[start..])
                .is_err()
            {
                self.index = None;
            }
        }
    }

    /// Indexes the frame just written: `len` bytes holding what was pending.
    fn index_frame(&mut self, len: usize) {
        let (Some(index), Ok(len), Ok(raw_len)) = (
            &mut self.index,
            u32::try_from(len),
            u32::try_from(self.pending.len()),
        ) else {
            self.index = None;
            return;
        };
        index.frame(FrameLoc {
            offset: self.written,
            len,
            raw_len,
        });
        self.written += u64::from(len);
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
        assert!(embedded.frames.len() >= 7, "{:?}", embedded.frames);
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
        assert_eq!(frames(&small), 2);
        assert_eq!(
            zstd::zstd_safe::find_frame_compressed_size(&small[..]).map(|first| {
                first + zstd::zstd_safe::find_frame_compressed_size(&small[first..]).unwrap()
            }),
            Ok(small.len()),
            "a trace of two frames and nothing else"
        );
        let options = WriterOptions {
            compress: false,
            ..WriterOptions::default()
        };
        let writer = TraceWriter::new(Vec::new(), &header, options).unwrap();
        let bytes = writer.finish(at(1)).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 2);
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
