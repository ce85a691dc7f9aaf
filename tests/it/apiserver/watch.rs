//! Watch streams: one JSON event per line in a chunked response that stays open.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::CONTENT_TYPE;
use hyper::Response;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::serve::{matches, status_object, Body, Query};
use super::{Resource, Shared};

/// Bookmarks go out after this long without events.
const BOOKMARK_EVERY: Duration = Duration::from_secs(1);

/// One open watch; counted in `State::watchers` while it lives.
struct Watch {
    shared: Arc<Shared>,
    res: Resource,
    namespace: Option<String>,
    selector: String,
    bookmarks: bool,
    /// Events up to this resourceVersion are sent or queued.
    cursor: u64,
    /// The `State::epoch` at the start; when it changes the watch ends abruptly.
    epoch: u64,
    deadline: Option<Instant>,
    queue: VecDeque<Bytes>,
    /// Whether the stream ends once the queue is sent.
    finished: bool,
    /// Cut the next chunk in the middle and reset the connection (an injected fault).
    cut_next: bool,
    /// Half a chunk was sent: reset the connection now.
    cut: bool,
    changed: tokio::sync::watch::Receiver<()>,
}

/// The 200 response of a watch request, whose body streams the events.
pub(super) fn respond(
    shared: &Arc<Shared>,
    res: &Resource,
    ns: Option<&str>,
    query: &Query,
    cut_next: bool,
) -> Response<Body> {
    let mut state = shared.lock();
    if let Some(response) = too_large(query, state.rv) {
        return response;
    }
    let timeout = query.get("timeoutSeconds").and_then(|t| t.parse().ok());
    let mut watch = Watch {
        shared: shared.clone(),
        res: res.clone(),
        namespace: ns.map(String::from),
        selector: query.get("labelSelector").unwrap_or_default().to_string(),
        bookmarks: query.get("allowWatchBookmarks") == Some("true"),
        cursor: state.rv,
        epoch: state.epoch,
        deadline: timeout.map(|secs| Instant::now() + Duration::from_secs(secs)),
        queue: VecDeque::new(),
        finished: false,
        cut_next,
        cut: false,
        changed: shared.changed.subscribe(),
    };
    let from = query.get("resourceVersion").unwrap_or_default();
    match from.parse::<u64>().unwrap_or(0) {
        // Absent or "0": the current state as synthetic ADDED events, then live events.
        0 => {
            for ((key, _, _), object) in &state.objects {
                if *key == res.key() && watch.wanted(object) {
                    watch.queue.push_back(line("ADDED", object));
                }
            }
            if watch.bookmarks && query.get("sendInitialEvents") == Some("true") {
                watch.queue.push_back(watch.bookmark(true));
            }
        }
        rv if rv < state.compacted => {
            let message = format!("too old resource version: {rv} ({})", state.compacted);
            let status = status_object(410, "Expired", &message);
            watch.queue.push_back(line("ERROR", &status));
            watch.finished = true;
        }
        rv => watch.cursor = rv,
    }
    *state.watchers.entry(res.key()).or_default() += 1;
    drop(state);
    let body = StreamBody::new(futures::stream::unfold(watch, Watch::next));
    let response = Response::builder().status(200);
    let response = response.header(CONTENT_TYPE, "application/json");
    response.body(body.boxed()).expect("a valid response")
}

/// Newer than anything the server has (its history went back: etcd restored). The real
/// server waits up to 3 s for it, then answers 504 with this cause
/// (k8s.io/apiserver/pkg/storage/errors.go, `NewTooLargeResourceVersionError`).
fn too_large(query: &Query, current: u64) -> Option<Response<Body>> {
    let from: u64 = query.get("resourceVersion")?.parse().ok()?;
    if from <= current {
        return None;
    }
    let message = format!("Too large resource version: {from}, current: {current}");
    let mut status = status_object(504, "Timeout", &message);
    status["details"] = json!({"causes": [{"reason": "ResourceVersionTooLarge",
        "message": "Too large resource version"}], "retryAfterSeconds": 1});
    let bytes = Bytes::from(status.to_string());
    let body = http_body_util::Full::new(bytes).map_err(|never| match never {});
    let response = Response::builder().status(504);
    let response = response.header(CONTENT_TYPE, "application/json");
    Some(response.body(body.boxed()).expect("a valid response"))
}

/// One event line: `{"type":..,"object":..}\n`.
fn line(event: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": event, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

/// Why a waiting watch woke up.
enum Wake {
    Changed,
    Idle,
    Timeout,
}

impl Watch {
    fn wanted(&self, object: &Value) -> bool {
        matches(object, self.namespace.as_deref(), &self.selector)
    }

    fn bookmark(&self, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": self.cursor.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let (kind, api_version) = (&self.res.kind, self.res.group_version());
        let object = json!({"kind": kind, "apiVersion": api_version, "metadata": metadata});
        line("BOOKMARK", &object)
    }

    /// Queues the events after the cursor and moves it to the current resourceVersion.
    fn catch_up(&mut self) {
        let state = self.shared.lock();
        let start = state.history.partition_point(|(rv, _)| *rv <= self.cursor);
        for (_, change) in &state.history[start..] {
            if change.resource == self.res.key() && self.wanted(&change.object) {
                self.queue.push_back(line(&change.event, &change.object));
            }
        }
        self.cursor = self.cursor.max(state.rv);
        self.changed.borrow_and_update(); // under the lock, so no change goes unnoticed
    }

    /// The next chunk of the body: `None` ends it cleanly, an error aborts the connection.
    async fn next(mut self) -> Option<(Result<Frame<Bytes>, std::io::Error>, Watch)> {
        loop {
            let (epoch, delay) = {
                let mut state = self.shared.lock();
                if !self.queue.is_empty() {
                    state.lines_sent += 1;
                }
                (state.epoch, state.watch_delay)
            };
            if epoch != self.epoch || self.cut {
                let error = std::io::Error::other("the test ended this watch");
                return Some((Err(error), self));
            }
            if let Some(chunk) = self.queue.pop_front() {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await; // even a zero sleep waits for the timer tick
                }
                if std::mem::take(&mut self.cut_next) || self.shared.lock().faults.cut_chunk() {
                    self.cut = true;
                    let half = chunk.slice(..chunk.len() / 2);
                    return Some((Ok(Frame::data(half)), self));
                }
                return Some((Ok(Frame::data(chunk)), self));
            }
            if self.finished || self.deadline.is_some_and(|d| d <= Instant::now()) {
                return None;
            }
            self.catch_up();
            if !self.queue.is_empty() {
                continue;
            }
            let far = Instant::now() + Duration::from_secs(86_400);
            let wake = tokio::select! {
                _ = self.changed.changed() => Wake::Changed,
                _ = tokio::time::sleep(BOOKMARK_EVERY) => Wake::Idle,
                _ = tokio::time::sleep_until(self.deadline.unwrap_or(far)) => Wake::Timeout,
            };
            match wake {
                Wake::Idle if self.bookmarks => self.queue.push_back(self.bookmark(false)),
                Wake::Timeout => return None,
                _ => {}
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(count) = self.shared.lock().watchers.get_mut(&self.res.key()) {
            *count -= 1;
        }
    }
}
