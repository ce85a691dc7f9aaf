//! Event occurrences: each new Event, and each repeat (a `count` or `series` increment), with its time.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;
use serde::Serialize;

use crate::graph::CausalGraph;
use crate::history::{History, ObjectId};

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
        let Ok(parsed) = history.parse::<Event>(version) else {
            continue;
        };
        let count = event_count(&parsed);
        if count <= seen_count {
            continue;
        }
        // A repeat first seen in a list happened before the trace; count it once at its record time.
        seen_count = count;
        out.push(Occurrence {
            ts: version.ts,
            reason: parsed.reason.clone().unwrap_or_default(),
            message: parsed.message.clone().unwrap_or_default(),
            event_type: parsed.type_.clone().unwrap_or_default(),
            count,
            field_path: parsed.involved_object.field_path.clone(),
            line: version.line,
            event_name: object.name.clone(),
        });
    }
    out
}

fn event_count(event: &Event) -> i64 {
    let series = event.series.as_ref().and_then(|s| s.count).unwrap_or(0);
    i64::from(event.count.unwrap_or(1).max(series).max(1))
}
