//! The single writer: one thread owns the trace file, fed through a bounded channel.
//!
//! The channel is the back-pressure: when the disk is slow, watchers wait to send,
//! stop reading their streams, and the API server holds the events (or ends the
//! watch, which the state machine turns into a resume or a GAP). Nothing is dropped.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use jiff::Timestamp;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::trace::{EventType, Header, TraceWriter, WriterOptions};

/// How many messages may wait for the writer before watchers must wait.
const CHANNEL_CAPACITY: usize = 4096;

/// A message for the writer thread.
#[derive(Debug)]
pub enum Message {
    /// An object record.
    Object {
        /// Receive time.
        ts: Timestamp,
        /// Record type.
        event: EventType,
        /// The resource, e.g. `v1/pods`, for the counters.
        resource: Arc<str>,
        /// The object's JSON, already validated by the watcher.
        json: Box<RawValue>,
    },
    /// A list of `resource` completed.
    Synced {
        /// When.
        ts: Timestamp,
        /// The resource path.
        resource: Arc<str>,
        /// The list's resourceVersion.
        resource_version: String,
    },
    /// The watch of `resource` broke.
    Gap {
        /// When.
        ts: Timestamp,
        /// The resource path.
        resource: Arc<str>,
        /// Why.
        reason: String,
    },
    /// Time to end the current frame if it is old enough.
    Tick,
}

/// Counters the status line reads.
#[derive(Debug, Default)]
pub struct Stats {
    /// Records written.
    pub records: AtomicU64,
    /// Bytes written to the file.
    pub bytes: AtomicU64,
    /// GAP records written.
    pub gaps: AtomicU64,
    /// Records per resource.
    pub per_resource: Mutex<BTreeMap<String, u64>>,
}

/// A resource whose last GAP no list closed: nothing of it is recorded after `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenGap {
    /// The resource, e.g. `v1/pods`.
    pub resource: String,
    /// When its GAP was written.
    pub since: Timestamp,
    /// Why.
    pub reason: String,
}

/// What the writer thread did.
#[derive(Debug)]
pub struct Written {
    /// Records written, END included.
    pub records: u64,
    /// Resources whose GAP is still open at the end.
    pub open_gaps: Vec<OpenGap>,
}

/// Writing the trace failed: what was written before, and why.
#[derive(Debug, thiserror::Error)]
#[error("writing failed after {records} records (the last at {last})")]
pub struct WriteFailure {
    /// Records written before the failure (their frames may be incomplete).
    pub records: u64,
    /// The time of the last record written, or `-`.
    pub last: String,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// The writer thread and the sending end of its channel.
pub struct Sink {
    sender: mpsc::Sender<Message>,
    thread: JoinHandle<Result<Written, WriteFailure>>,
}

impl Sink {
    /// Starts the writer thread on `file` with `header` as line 1.
    pub fn start<W: Write + Send + 'static>(
        out: W,
        header: &Header,
        options: WriterOptions,
        stats: Arc<Stats>,
    ) -> io::Result<Sink> {
        let counting = Counting {
            out,
            stats: Arc::clone(&stats),
        };
        let writer = TraceWriter::new(counting, header, options)?;
        let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
        let thread = std::thread::Builder::new()
            .name("kblame-writer".into())
            .spawn(move || write_loop(writer, receiver, &stats))?;
        Ok(Sink { sender, thread })
    }

    /// A sender for watchers.
    pub fn sender(&self) -> mpsc::Sender<Message> {
        self.sender.clone()
    }

    /// Waits for every sender to be dropped, writes END and closes the file.
    pub fn finish(self) -> Result<Written, WriteFailure> {
        drop(self.sender);
        self.thread.join().map_err(|_| WriteFailure {
            records: 0,
            last: "-".into(),
            source: io::Error::other("the trace writer thread panicked"),
        })?
    }
}

fn write_loop<W: Write>(
    mut writer: TraceWriter<Counting<W>>,
    mut receiver: mpsc::Receiver<Message>,
    stats: &Stats,
) -> Result<Written, WriteFailure> {
    let mut open_gaps: BTreeMap<String, OpenGap> = BTreeMap::new();
    let mut last: Option<Timestamp> = None;
    // On a failure the receiver is dropped: the watchers see the channel close and stop.
    let failed =
        |writer: &TraceWriter<Counting<W>>, last: Option<Timestamp>, source| WriteFailure {
            records: writer.records(),
            last: last.map_or("-".to_string(), |ts| ts.to_string()),
            source,
        };
    while let Some(mut message) = receiver.blocking_recv() {
        // Watchers stamp a record when they receive it and race each other to this channel, so
        // under load a record can arrive stamped a little before the one written last. It was
        // written after that one: stamping it no earlier keeps the trace in time order, as the
        // format promises.
        message.not_before(last);
        track_gaps(&mut open_gaps, &message);
        let ts = message.ts();
        if let Err(err) = write_message(&mut writer, message, stats) {
            return Err(failed(&writer, last, err));
        }
        last = ts.or(last);
    }
    let records = writer.records();
    if let Err(err) = writer.finish(Timestamp::now()) {
        return Err(WriteFailure {
            records,
            last: last.map_or("-".to_string(), |ts| ts.to_string()),
            source: err,
        });
    }
    Ok(Written {
        records: records + 1,
        open_gaps: open_gaps.into_values().collect(),
    })
}

/// A GAP opens its resource's gap (the first one counts); a SYNCED closes it.
fn track_gaps(open: &mut BTreeMap<String, OpenGap>, message: &Message) {
    match message {
        Message::Gap {
            ts,
            resource,
            reason,
        } => {
            open.entry(resource.to_string()).or_insert_with(|| OpenGap {
                resource: resource.to_string(),
                since: *ts,
                reason: reason.clone(),
            });
        }
        Message::Synced { resource, .. } => _ = open.remove(&**resource),
        Message::Object { .. } | Message::Tick => {}
    }
}

impl Message {
    /// Moves the message's time up to `last` when it is earlier.
    fn not_before(&mut self, last: Option<Timestamp>) {
        if let (
            Message::Object { ts, .. } | Message::Synced { ts, .. } | Message::Gap { ts, .. },
            Some(last),
        ) = (self, last)
        {
            *ts = (*ts).max(last);
        }
    }

    fn ts(&self) -> Option<Timestamp> {
        match self {
            Message::Object { ts, .. } | Message::Synced { ts, .. } | Message::Gap { ts, .. } => {
                Some(*ts)
            }
            Message::Tick => None,
        }
    }
}

fn write_message<W: Write>(
    writer: &mut TraceWriter<Counting<W>>,
    message: Message,
    stats: &Stats,
) -> io::Result<()> {
    match message {
        Message::Object {
            ts,
            event,
            resource,
            json,
        } => {
            writer.write_object(ts, event, &*json)?;
            count(stats, &resource);
        }
        Message::Synced {
            ts,
            resource,
            resource_version,
        } => {
            writer.write_synced(ts, &resource, Some(&resource_version))?;
        }
        Message::Gap {
            ts,
            resource,
            reason,
        } => {
            writer.write_gap(ts, &resource, &reason)?;
            stats.gaps.fetch_add(1, Ordering::Relaxed);
        }
        Message::Tick => writer.flush_if_due()?,
    }
    stats.records.store(writer.records(), Ordering::Relaxed);
    Ok(())
}

fn count(stats: &Stats, resource: &str) {
    if let Ok(mut per_resource) = stats.per_resource.lock() {
        match per_resource.get_mut(resource) {
            Some(n) => *n += 1,
            None => _ = per_resource.insert(resource.to_string(), 1),
        }
    }
}

/// The trace file, counting bytes written for the status line.
struct Counting<W> {
    out: W,
    stats: Arc<Stats>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.write(buf)?;
        self.stats
            .bytes
            .fetch_add(written as u64, Ordering::Relaxed);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{read_trace, Record, SourceInfo, TraceSource};

    /// A disk that fills up after `room` bytes, writing what fits of the last write.
    struct FillingDisk {
        file: std::fs::File,
        room: usize,
    }

    impl Write for FillingDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.file.write_all(&buf[..n])?;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            self.file.flush()
        }
    }

    fn pod(n: u32) -> Message {
        let json = format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p{n}","namespace":"a","uid":"u{n}","resourceVersion":"{n}"}},"spec":{{"containers":[{{"name":"c","image":"i:{n}"}}]}}}}"#
        );
        Message::Object {
            ts: Timestamp::from_second(1_700_000_000 + i64::from(n)).unwrap(),
            event: EventType::Added,
            resource: Arc::from("v1/pods"),
            json: RawValue::from_string(json).unwrap(),
        }
    }

    #[test]
    fn a_full_disk_stops_the_writer_with_what_it_kept_and_the_prefix_stays_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ndjson.zst");
        let disk = FillingDisk {
            file: std::fs::File::create(&path).unwrap(),
            room: 3000,
        };
        let header = Header::new(Timestamp::UNIX_EPOCH, SourceInfo::default());
        let options = WriterOptions {
            flush_span: jiff::SignedDuration::from_secs(1),
            ..WriterOptions::default()
        };
        let sink = Sink::start(disk, &header, options, Arc::new(Stats::default())).unwrap();
        let sender = sink.sender();
        std::thread::spawn(move || {
            for n in 0..200 {
                if sender.blocking_send(pod(n)).is_err() {
                    return; // the writer stopped: as the watchers do
                }
            }
        })
        .join()
        .unwrap();
        let failure = sink.finish().unwrap_err();
        assert_eq!(failure.source.raw_os_error(), Some(28));
        assert!(failure.records > 0 && failure.records < 200, "{failure}");
        let mut names = Vec::new();
        let read = read_trace(&TraceSource::Path(path), |entry| {
            if let Record::Object { object, .. } = entry.record {
                names.push(object.get().len());
            }
        })
        .unwrap();
        assert!(read.cut_short.is_some(), "the reader says where it broke");
        assert!(
            !names.is_empty(),
            "the frames before the failure are readable"
        );
        assert!(names.len() as u64 <= failure.records);
    }

    #[test]
    fn records_that_arrive_stamped_out_of_order_are_written_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ndjson.zst");
        let header = Header::new(Timestamp::UNIX_EPOCH, SourceInfo::default());
        let file = std::fs::File::create(&path).unwrap();
        let sink = Sink::start(file, &header, WriterOptions::default(), Arc::default()).unwrap();
        let sender = sink.sender();
        // Two watchers: the second one's record was received first but is sent last.
        for n in [5, 7, 6, 9] {
            sender.blocking_send(pod(n)).unwrap();
        }
        drop(sender);
        sink.finish().unwrap();
        let mut times = Vec::new();
        read_trace(&TraceSource::Path(path), |entry| {
            if let Record::Object { ts, .. } = entry.record {
                times.push(ts.as_second() - 1_700_000_000);
            }
        })
        .unwrap();
        assert_eq!(times, [5, 7, 7, 9]);
    }

    #[test]
    fn a_gap_stays_open_until_its_resource_is_listed_again() {
        let mut open = BTreeMap::new();
        let ts = Timestamp::UNIX_EPOCH;
        let gap = |resource: &str| Message::Gap {
            ts,
            resource: Arc::from(resource),
            reason: "403 Forbidden".into(),
        };
        track_gaps(&mut open, &gap("v1/pods"));
        track_gaps(&mut open, &gap("v1/events"));
        track_gaps(&mut open, &gap("v1/pods"));
        track_gaps(
            &mut open,
            &Message::Synced {
                ts,
                resource: Arc::from("v1/events"),
                resource_version: "9".into(),
            },
        );
        assert_eq!(open.keys().collect::<Vec<_>>(), ["v1/pods"]);
    }
}
