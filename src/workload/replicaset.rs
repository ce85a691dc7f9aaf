//! ReplicaSet knowledge: revision numbers (with rollback history), template hash and replica counts over time.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::history::diff::canonical_text;
use crate::history::{History, ObjectId};

/// The annotation carrying a ReplicaSet's (and a Deployment's) revision number.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// The annotation listing the revision numbers a ReplicaSet had before a rollback.
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// The label identifying a pod template's content.
pub const TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Head {
    metadata: HeadMeta,
    spec: HeadSpec,
    status: HeadStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HeadMeta {
    annotations: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HeadSpec {
    replicas: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct HeadStatus {
    replicas: Option<i64>,
    ready_replicas: Option<i64>,
    available_replicas: Option<i64>,
}

/// A ReplicaSet's state in one recorded version.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Record time.
    pub ts: Timestamp,
    /// Trace line.
    pub line: u64,
    /// `spec.replicas` (desired).
    pub replicas: i64,
    /// `status.readyReplicas`.
    pub ready: i64,
    /// `status.availableReplicas`.
    pub available: i64,
    /// The revision annotation.
    pub revision: Option<i64>,
    /// The revision-history annotation.
    pub revision_history: Vec<i64>,
}

/// One ReplicaSet over the trace.
#[derive(Debug, Clone)]
pub struct ReplicaSetTimeline {
    /// The ReplicaSet.
    pub id: ObjectId,
    /// Its `pod-template-hash` label.
    pub template_hash: Option<String>,
    /// One point per recorded version.
    pub points: Vec<Point>,
}

impl ReplicaSetTimeline {
    /// Reads every version of ReplicaSet `id`.
    pub fn read(history: &History, id: ObjectId) -> ReplicaSetTimeline {
        let object = history.object(id);
        let mut template_hash = None;
        let points = object
            .versions
            .iter()
            .map(|version| {
                let head: Head = history.parse(version).unwrap_or_default();
                if let Some(hash) = head.metadata.labels.get(TEMPLATE_HASH_LABEL) {
                    template_hash = Some(hash.clone());
                }
                Point {
                    ts: version.ts,
                    line: version.line,
                    replicas: head.spec.replicas.unwrap_or(1),
                    ready: head.status.ready_replicas.unwrap_or(0),
                    available: head.status.available_replicas.unwrap_or(0),
                    revision: head
                        .metadata
                        .annotations
                        .get(REVISION_ANNOTATION)
                        .and_then(|r| r.trim().parse().ok()),
                    revision_history: parse_history(
                        head.metadata.annotations.get(REVISION_HISTORY_ANNOTATION),
                    ),
                }
            })
            .collect();
        ReplicaSetTimeline {
            id,
            template_hash,
            points,
        }
    }

    /// The revision number the ReplicaSet carried at `at` (its first known one if `at` is earlier).
    pub fn revision_at(&self, at: Timestamp) -> Option<i64> {
        let before = self
            .points
            .iter()
            .take_while(|p| p.ts <= at)
            .filter_map(|p| p.revision)
            .last();
        before.or_else(|| self.points.iter().find_map(|p| p.revision))
    }

    /// The highest revision number it carried within `[from, until)`.
    pub fn max_revision_between(&self, from: Timestamp, until: Option<Timestamp>) -> Option<i64> {
        self.points
            .iter()
            .filter(|p| p.ts >= from && until.is_none_or(|u| p.ts < u))
            .filter_map(|p| p.revision)
            .max()
    }

    /// Every revision number it ever carried, including those in revision-history.
    pub fn all_revisions(&self) -> Vec<i64> {
        let mut all: Vec<i64> = self
            .points
            .iter()
            .flat_map(|p| {
                p.revision
                    .into_iter()
                    .chain(p.revision_history.iter().copied())
            })
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The point in force at `at` (the latest at or before it).
    pub fn point_at(&self, at: Timestamp) -> Option<&Point> {
        self.points.iter().take_while(|p| p.ts <= at).last()
    }

    /// The last point.
    pub fn last(&self) -> Option<&Point> {
        self.points.last()
    }
}

fn parse_history(value: Option<&String>) -> Vec<i64> {
    value
        .map(|text| {
            text.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The `deployment.kubernetes.io/revision` annotation of a ReplicaSet or Deployment body.
pub fn revision_of(body: &Value) -> Option<i64> {
    body.pointer("/metadata/annotations")?
        .get(REVISION_ANNOTATION)?
        .as_str()?
        .trim()
        .parse()
        .ok()
}

/// A ReplicaSet's pod template with the `pod-template-hash` label removed, for comparing with a Deployment's.
pub fn template_without_hash(replicaset: &Value) -> Option<Value> {
    let mut template = replicaset.pointer("/spec/template")?.clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(TEMPLATE_HASH_LABEL);
        if labels.is_empty() {
            if let Some(meta) = template
                .pointer_mut("/metadata")
                .and_then(Value::as_object_mut)
            {
                meta.remove("labels");
            }
        }
    }
    Some(template)
}

/// Whether two pod templates are the same content, ignoring null-valued and empty-map fields.
pub fn same_template(a: &Value, b: &Value) -> bool {
    normalized(a) == normalized(b)
}

/// A text that two pod templates share exactly when [`same_template`] holds, for finding a
/// template among many through a map.
pub fn template_key(template: &Value) -> String {
    canonical_text(&normalized(template))
}

fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !matches!(v, Value::Object(m) if m.is_empty()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}
