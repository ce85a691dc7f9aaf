//! Event occurrences: each new Event, and each repeat (a `count` or `series` increment), with its time.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::graph::CausalGraph;
use crate::history::{History, ObjectId};

/// The fields of an Event kblame reads, in either shape: core/v1 (`involvedObject`, `message`,
/// `count`) or events.k8s.io/v1 (`regarding`, `note`, `deprecatedCount`, `series.count`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct EventView {
    reason: Option<String>,
    message: Option<String>,
    note: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    count: Option<i64>,
    deprecated_count: Option<i64>,
    series: Option<SeriesView>,
    involved_object: Option<SubjectView>,
    regarding: Option<SubjectView>,
    related: Option<SubjectView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SeriesView {
    count: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SubjectView {
    field_path: Option<String>,
    uid: Option<String>,
}

impl EventView {
    /// How many times it has happened: the largest of the counts either API version carries.
    fn count(&self) -> i64 {
        let series = self.series.as_ref().and_then(|s| s.count);
        [self.count, self.deprecated_count, series]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(1)
            .max(1)
    }
}

/// The UID of the object an Event names besides its subject: `related` (core/v1 and
/// events.k8s.io/v1 alike), which the scheduler's `Preempted` Event sets to the preemptor
/// (`pkg/scheduler/framework/preemption` `Evaluator.prepareCandidate`:
/// `Eventf(victim, preemptor, …, "Preempted by pod %v on node %v", preemptor.UID, …)`); for a
/// `Preempted` Event without it, the UID its message names.
pub fn related_uid(history: &History, event: ObjectId) -> Option<String> {
    let first = history.object(event).first();
    // Most Events name nothing else: look before parsing.
    let text = history.body(first);
    if !text.contains("\"related\"") && !text.contains("Preempted by pod ") {
        return None;
    }
    let view: EventView = history.parse(first).ok()?;
    if let Some(uid) = view.related.and_then(|r| r.uid).filter(|u| !u.is_empty()) {
        return Some(uid);
    }
    if view.reason.as_deref() != Some("Preempted") {
        return None;
    }
    let text = view.message.or(view.note)?;
    let rest = text.strip_prefix("Preempted by pod ")?;
    let uid = rest.split_whitespace().next()?;
    // Older schedulers named `namespace/name` here, not a UID: nothing to follow.
    (!uid.contains('/')).then(|| uid.to_string())
}

/// The UIDs that loaded Events name as related (see [`related_uid`]) whose objects were not
/// loaded: a question about one object reads them too.
pub fn unloaded_related(history: &History) -> Vec<String> {
    let mut missing: Vec<String> = history
        .of_kind("Event")
        .filter_map(|event| related_uid(history, event))
        .filter(|uid| history.by_uid(uid).is_none())
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// One occurrence of an Event (a first report or a repeat).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occurrence {
    /// When the trace saw it (the record time).
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub ts: Timestamp,
    /// The Event's reason, e.g. `Killing`.
    pub reason: String,
    /// The Event's message.
    pub message: String,
    /// `Normal` or `Warning`.
    pub event_type: String,
    /// The count after this occurrence.
    pub count: i64,
    /// `involvedObject.fieldPath`, e.g. `spec.containers{web}`.
    pub field_path: Option<String>,
    /// The trace line of the record.
    pub line: u64,
    /// The Event object's name.
    pub event_name: String,
}

impl Occurrence {
    /// The container this occurrence is about, from a `spec.containers{NAME}` field path.
    pub fn container(&self) -> Option<&str> {
        let path = self.field_path.as_deref()?;
        let start = path.find('{')? + 1;
        let end = path.rfind('}')?;
        path.get(start..end)
    }
}

/// Every occurrence of every Event about `subject`, in time order.
pub fn occurrences_about(
    history: &History,
    graph: &CausalGraph,
    subject: ObjectId,
) -> Vec<Occurrence> {
    let mut all: Vec<Occurrence> = graph
        .events_about(subject)
        .into_iter()
        .flat_map(|event| occurrences_of(history, event))
        .collect();
    all.sort_by_key(|o| (o.ts, o.line));
    all
}

/// The occurrences recorded for one Event object: one per version whose count grew.
pub fn occurrences_of(history: &History, event: ObjectId) -> Vec<Occurrence> {
    let object = history.object(event);
    let mut seen_count = 0i64;
    let mut out = Vec::new();
    for version in &object.versions {
        let Ok(parsed) = history.parse::<EventView>(version) else {
            continue;
        };
        let count = parsed.count();
        if count <= seen_count {
            continue;
        }
        seen_count = count;
        let subject = parsed
            .involved_object
            .as_ref()
            .or(parsed.regarding.as_ref());
        out.push(Occurrence {
            ts: version.ts,
            reason: parsed.reason.clone().unwrap_or_default(),
            message: parsed
                .message
                .clone()
                .or(parsed.note.clone())
                .unwrap_or_default(),
            event_type: parsed.event_type.clone().unwrap_or_default(),
            count,
            field_path: subject.and_then(|s| s.field_path.clone()),
            line: version.line,
            event_name: object.name.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{EventType, Record};
    use serde_json::{json, value::RawValue};

    fn apply(history: &mut History, line: u64, secs: i64, object: serde_json::Value) {
        let text = object.to_string();
        let raw: &RawValue = serde_json::from_str(&text).unwrap();
        let ts = "2026-11-26T16:00:00Z".parse::<Timestamp>().unwrap()
            + jiff::SignedDuration::from_secs(secs);
        history.apply(
            line,
            &Record::Object {
                ts,
                event: EventType::Modified,
                object: raw,
                request: None,
            },
        );
    }

    #[test]
    fn events_k8s_io_events_count_their_series_and_name_the_container() {
        let mut history = History::new(None);
        let event = |count: i64| {
            json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                "metadata": {"name": "web-1.abc", "namespace": "shop", "uid": "ev-1"},
                "regarding": {"kind": "Pod", "name": "web-1", "uid": "pod-1", "fieldPath": "spec.containers{web}"},
                "reason": "Killing", "note": "Container web failed liveness probe, will be restarted",
                "type": "Normal", "series": {"count": count, "lastObservedTime": "2026-11-26T16:00:00.000000Z"}})
        };
        apply(&mut history, 1, 0, event(1));
        apply(&mut history, 2, 30, event(2));
        apply(&mut history, 3, 31, event(2));
        let found = occurrences_of(&history, 0);
        assert_eq!(
            found.len(),
            2,
            "a repeat without a new count is not a new occurrence"
        );
        assert_eq!(found[1].count, 2);
        assert_eq!(found[1].container(), Some("web"));
        assert!(found[0].message.contains("liveness probe"));
        assert_eq!(history.object(0).subject_uid.as_deref(), Some("pod-1"));
    }
}
