//! The single writer: one thread owns the trace file, fed through a bounded channel.
//!
//! The channel is the back-pressure: when the disk is slow, watchers wait to send,
//! stop reading their streams, and the API server holds the events (or ends the
//! watch, which the state machine turns into a resume or a GAP). Nothing is dropped.

use std::collections::BTreeMap;
use std::fs::File;
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

/// The writer thread and the sending end of its channel.
pub struct Sink {
    sender: mpsc::Sender<Message>,
    thread: JoinHandle<io::Result<u64>>,
}

impl Sink {
    /// Starts the writer thread on `file` with `header` as line 1.
    pub fn start(
        file: File,
        header: &Header,
        options: WriterOptions,
        stats: Arc<Stats>,
    ) -> io::Result<Sink> {
        let counting = CountingFile {
            file,
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

    /// Waits for every sender to be dropped, writes END and closes the file; returns the record count.
    pub fn finish(self) -> io::Result<u64> {
        drop(self.sender);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the trace writer thread panicked"))?
    }
}

fn write_loop(
    mut writer: TraceWriter<CountingFile>,
    mut receiver: mpsc::Receiver<Message>,
    stats: &Stats,
) -> io::Result<u64> {
    while let Some(message) = receiver.blocking_recv() {
        write_message(&mut writer, message, stats)?;
    }
    let records = writer.records();
    writer.finish(Timestamp::now())?;
    Ok(records + 1)
}

fn write_message(
    writer: &mut TraceWriter<CountingFile>,
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
struct CountingFile {
    file: File,
    stats: Arc<Stats>,
}

impl Write for CountingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.file.write(buf)?;
        self.stats
            .bytes
            .fetch_add(written as u64, Ordering::Relaxed);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
