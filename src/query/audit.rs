//! `--audit FILE...`: an audit log merged into a watch trace, so that every change the log
//! recorded gains the request that made it — who (the user, not only the field manager),
//! with which client, under which audit ID — and a pod's create request tells which webhooks
//! mutated it.
//!
//! A write is matched to the version it made by the object's UID and the resourceVersion of
//! the response body (levels `RequestResponse`, and `Request` for creates answered with the
//! object); a write logged without its body (level `Metadata`) is matched to the first version
//! of the object it names recorded within [`WINDOW`] after the request completed, and a
//! `generateName` create (no name in the request) only when a single object of that resource
//! appeared in its namespace within that window.

use jiff::{SignedDuration, Timestamp};

use super::Loaded;
use crate::graph::CausalGraph;
use crate::history::{History, ObjectId};
use crate::import::audit::{writes, AuditedWrite};
use crate::import::ImportError;

/// How long after a request's `stageTimestamp` the watch may deliver the version it made.
pub const WINDOW: SignedDuration = SignedDuration::from_secs(10);

/// How a write found its version.
#[derive(Debug, Default)]
struct Tally {
    by_version: usize,
    by_time: usize,
    unmatched: usize,
}

/// Reads the audit logs and attaches each write's request to the version it made; the loaded
/// trace's warnings then say how many matched, and how.
pub fn merge(loaded: &mut Loaded, inputs: &[String]) -> Result<(), ImportError> {
    let (writes, read_warnings) = writes(inputs)?;
    let mut tally = Tally::default();
    for write in &writes {
        match attach(&mut loaded.history, write) {
            Some(Match::Version) => tally.by_version += 1,
            Some(Match::Time) => tally.by_time += 1,
            None => tally.unmatched += 1,
        }
    }
    // Changes are read from the versions: build what depends on them again.
    loaded.graph = CausalGraph::build(&loaded.history);
    let files = inputs.join(", ");
    loaded.audit.push(format!(
        "audit log {files}: {} of {} writes matched a recorded version ({} by UID and resourceVersion, {} by object and time within {} s); {} did not (objects this question did not read, or outside the trace)",
        tally.by_version + tally.by_time,
        writes.len(),
        tally.by_version,
        tally.by_time,
        WINDOW.as_secs(),
        tally.unmatched
    ));
    loaded
        .audit
        .extend(read_warnings.into_iter().map(|w| format!("audit log: {w}")));
    Ok(())
}

enum Match {
    Version,
    Time,
}

fn attach(history: &mut History, write: &AuditedWrite) -> Option<Match> {
    let object = write.uid.as_deref().and_then(|uid| history.by_uid(uid));
    if let (Some(id), Some(rv)) = (object, write.resource_version.as_deref()) {
        let index = history
            .object(id)
            .versions
            .iter()
            .position(|v| v.resource_version.as_deref() == Some(rv) && v.request.is_none());
        let Some(index) = index else {
            // The create of an object the trace first saw later (it existed when the trace
            // began): kept for what it tells of the object's making (its webhooks).
            let creates = write.request.verb.as_deref() == Some("create");
            if creates && history.object(id).create_request.is_none() {
                history.attach_create_request(id, write.request.clone());
                return Some(Match::Version);
            }
            return None;
        };
        history.attach_request(id, index, write.request.clone());
        return Some(Match::Version);
    }
    let until = write.ts.checked_add(WINDOW).ok()?;
    let in_window = |ts: Timestamp| ts >= write.ts && ts <= until;
    let candidates: Vec<ObjectId> = match (object, write.name.as_deref()) {
        (Some(id), _) => vec![id],
        (None, Some(name)) => kinds_of(history, &write.resource)
            .iter()
            .flat_map(|kind| history.by_name(kind, write.namespace.as_deref(), name))
            .collect(),
        // A generateName create: the one object of the resource that appeared then.
        (None, None) if write.request.verb.as_deref() == Some("create") => {
            let namespace = write.namespace.clone().unwrap_or_default();
            let born: Vec<ObjectId> = kinds_of(history, &write.resource)
                .iter()
                .flat_map(|kind| history.of_kind(kind).collect::<Vec<_>>())
                .filter(|&id| {
                    let o = history.object(id);
                    let first = o.first();
                    o.namespace == namespace
                        && first.event == crate::trace::EventType::Added
                        && first.request.is_none()
                        && in_window(first.ts)
                })
                .collect();
            match born.as_slice() {
                [one] => vec![*one],
                _ => return None,
            }
        }
        (None, None) => return None,
    };
    for id in candidates {
        let found = history
            .object(id)
            .versions
            .iter()
            .position(|v| in_window(v.ts) && v.request.is_none());
        if let Some(index) = found {
            history.attach_request(id, index, write.request.clone());
            return Some(Match::Time);
        }
    }
    None
}

/// The kinds a plural resource names, from the trace header (else the usual core kinds).
fn kinds_of(history: &History, resource: &str) -> Vec<String> {
    let from_header: Vec<String> = history
        .facts
        .header
        .as_ref()
        .map(|h| {
            h.resources
                .iter()
                .filter(|r| r.resource == resource)
                .map(|r| r.kind.clone())
                .collect()
        })
        .unwrap_or_default();
    if !from_header.is_empty() {
        return from_header;
    }
    // A trace without a header: the plural of the usual kinds.
    history
        .kinds()
        .into_iter()
        .filter(|kind| format!("{}s", kind.to_lowercase()) == resource)
        .map(str::to_string)
        .collect()
}
