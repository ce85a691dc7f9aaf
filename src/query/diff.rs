//! `kblame diff`: the fields that differ between two versions of one object, chosen by workload
//! revision (Deployment, StatefulSet, DaemonSet), resourceVersion or time.
//!
//! The whole object is compared except `metadata.managedFields` and `metadata.resourceVersion`,
//! which change with every write and say nothing about what changed; `metadata.generation`,
//! annotations and `status` are kept. A revision made before the trace began that no
//! version of the workload shows is compared through the pod template of what carries it (a
//! ReplicaSet, a ControllerRevision), and then only `spec.template` is compared (the report's
//! `notes` say so).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::at::parse_time;
use super::select::{self, ObjectQuery};
use super::{with_trace_warnings, Loaded, QueryError};
use crate::graph::ObjectRef;
use crate::history::diff::{diff_at, FieldChange};
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId, Version};
use crate::workload::kinds::revisions::workload_history;
use crate::workload::kinds::{RevisionStep, WorkloadHistory};
use crate::workload::replicaset::revision_of;

/// Which object, and the two versions to compare.
#[derive(Debug, Clone, Default)]
pub struct DiffQuery {
    /// The object.
    pub object: ObjectQuery,
    /// The old side: a workload revision (`2`), a resourceVersion (`rv:1046`), a time (`+5m`,
    /// RFC 3339), or `first` / `last` (the object's first or last recorded version).
    pub from: String,
    /// The new side, written like `from`.
    pub to: String,
}

/// The differences between two versions of one object.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The object compared.
    pub object: ObjectRef,
    /// The old version.
    pub from: VersionRef,
    /// The new version.
    pub to: VersionRef,
    /// Every leaf that differs, in the new version's order.
    pub fields: Vec<FieldChange>,
    /// How the versions were chosen, when that needs saying.
    pub notes: Vec<String>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
}

/// One recorded version, as chosen for a diff.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRef {
    /// The record time.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// Its `metadata.resourceVersion`.
    pub resource_version: Option<String>,
    /// Its trace line.
    pub line: u64,
    /// The workload revision it shows (asked for, its revision annotation, or the revision the
    /// last revision-making change before it made).
    pub revision: Option<i64>,
}

/// What one side of the diff resolved to.
struct Side {
    version: VersionRef,
    body: Value,
    /// Only a pod template (a ReplicaSet's), not the whole object.
    template_only: bool,
}

/// Compares two versions of one object.
pub fn diff(loaded: &mut Loaded, query: &DiffQuery) -> Result<DiffReport, QueryError> {
    let mut warnings = Vec::new();
    let id = select::resolve(&loaded.history, &query.object, &mut warnings)?;
    let model = workload_history(&loaded.history, &mut loaded.graph, id);
    let picker = Picker {
        history: &loaded.history,
        id,
        model: model.as_ref(),
    };
    let mut notes = Vec::new();
    let from = picker.side(&query.from, "--from", &mut notes)?;
    let to = picker.side(&query.to, "--to", &mut notes)?;
    let carrier = model.as_ref().map_or("ReplicaSet", |m| m.carrier_kind);
    let fields = compare(&from, &to, carrier, &mut notes);
    if from.version.time > to.version.time && !from.template_only && !to.template_only {
        notes.push("--from is later than --to: the diff runs backwards in time".to_string());
    }
    let warnings = with_trace_warnings(warnings, loaded);
    Ok(DiffReport {
        object: ObjectRef::of(loaded.history.object(id)),
        from: from.version,
        to: to.version,
        fields,
        notes,
        warnings,
    })
}

/// The changed leaves: whole objects, or pod templates when either side is only a template
/// (the pod template of a revision's `carrier`, a ReplicaSet or a ControllerRevision).
fn compare(from: &Side, to: &Side, carrier: &str, notes: &mut Vec<String>) -> Vec<FieldChange> {
    if from.version.line == to.version.line && from.template_only == to.template_only {
        notes.push(format!(
            "both sides are the same version (line {})",
            from.version.line
        ));
    }
    if !from.template_only && !to.template_only {
        return diff_at(
            &comparable(&from.body),
            &comparable(&to.body),
            &FieldPath::root(),
        );
    }
    let base = FieldPath::parse("spec.template").unwrap_or_default();
    let template = |side: &Side| match side.template_only {
        true => side.body.clone(),
        false => side
            .body
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null),
    };
    notes.push(format!(
        "only spec.template is compared, since one side is a {carrier}'s pod template"
    ));
    diff_at(&template(from), &template(to), &base)
}

/// The body without `metadata.managedFields` and `metadata.resourceVersion`.
fn comparable(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        meta.remove("resourceVersion");
    }
    body
}

/// Finds the version a `--from`/`--to` argument names.
struct Picker<'a> {
    history: &'a History,
    id: ObjectId,
    model: Option<&'a WorkloadHistory>,
}

impl Picker<'_> {
    fn side(&self, text: &str, flag: &str, notes: &mut Vec<String>) -> Result<Side, QueryError> {
        let text = text.trim();
        if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
            let number = text
                .parse::<i64>()
                .map_err(|_| QueryError::NotApplicable(format!("{flag} {text}: too large")))?;
            return self.by_revision(number, flag, notes);
        }
        let object = self.history.object(self.id);
        let version = match (text, text.strip_prefix("rv:")) {
            ("first", _) => object.first(),
            ("last", _) => {
                let last = object.last();
                if last.event == crate::trace::EventType::Deleted {
                    notes.push(format!(
                        "{flag}: {} was deleted at {}; its last recorded state is used",
                        self.name(),
                        last.ts
                    ));
                }
                last
            }
            (_, Some(rv)) => self.by_resource_version(rv.trim())?,
            (_, None) => self.by_time(text, flag, notes)?,
        };
        Ok(self.whole(version, None))
    }

    fn whole(&self, version: &Version, revision: Option<i64>) -> Side {
        let body: Value = self.history.parse(version).unwrap_or(Value::Null);
        Side {
            version: VersionRef {
                time: version.ts,
                resource_version: version.resource_version.as_deref().map(str::to_string),
                line: version.line,
                revision: revision
                    .or_else(|| revision_of(&body))
                    .or_else(|| self.revision_at_line(version.line)),
            },
            body,
            template_only: false,
        }
    }

    fn name(&self) -> String {
        self.history.object(self.id).display_name()
    }

    fn by_resource_version(&self, rv: &str) -> Result<&Version, QueryError> {
        let versions = &self.history.object(self.id).versions;
        versions
            .iter()
            .find(|v| v.resource_version.as_deref() == Some(rv))
            .ok_or_else(|| QueryError::NotFound {
                kind: "resourceVersion".to_string(),
                name: format!("{rv} of {}", self.name()),
                near: nearest_resource_versions(versions, rv),
                pods_of: None,
            })
    }

    fn by_time(
        &self,
        text: &str,
        flag: &str,
        notes: &mut Vec<String>,
    ) -> Result<&Version, QueryError> {
        let time = parse_time(text, &self.history.facts)?;
        let object = self.history.object(self.id);
        if flag == "--from" && object.version_at(time).is_none() {
            let first = object.first();
            notes.push(format!(
                "--from {time} is before the first record of {} ({}); using its first version (line {})",
                self.name(),
                first.ts,
                first.line
            ));
            return Ok(first);
        }
        let version = object.version_at(time).ok_or_else(|| {
            QueryError::NotApplicable(format!(
                "{} was not recorded yet at {time} ({flag}): its first record is at {}",
                self.name(),
                object.first().ts
            ))
        })?;
        if version.event == crate::trace::EventType::Deleted {
            notes.push(format!(
                "{flag}: {} was deleted at {}, before {time}; its last recorded state is used",
                self.name(),
                version.ts
            ));
        }
        Ok(version)
    }
}

impl Picker<'_> {
    /// The workload version right after the change that made revision `number`; for a revision
    /// made before the trace, the first version showing it, else the pod template of the object
    /// that carries it (a ReplicaSet, a ControllerRevision).
    fn by_revision(
        &self,
        number: i64,
        flag: &str,
        notes: &mut Vec<String>,
    ) -> Result<Side, QueryError> {
        let (model, revision) = self.revision(number, flag)?;
        let made_in_trace = revision.change.as_ref().filter(|c| !c.before_trace);
        if let Some(change) = made_in_trace {
            let version = self.version_after_change(change.evidence.record_line, change.time);
            if let Some(version) = version {
                return Ok(self.whole(version, Some(number)));
            }
        }
        if let Some(version) = self.first_showing(model, revision) {
            notes.push(format!(
                "{flag} {number}: revision {number} was made before the trace began; using the first {} version that shows it (line {})",
                self.history.object(self.id).kind,
                version.line
            ));
            return Ok(self.whole(version, Some(number)));
        }
        self.carrier_template(model, revision, flag, notes)
    }

    /// Revision `number` of the workload; revision numbers mean nothing for other kinds.
    fn revision(
        &self,
        number: i64,
        flag: &str,
    ) -> Result<(&WorkloadHistory, &RevisionStep), QueryError> {
        let Some(model) = self.model else {
            return Err(QueryError::NotApplicable(format!(
                "{flag} {number}: revision numbers only apply to workloads that number revisions (Deployments, StatefulSets, DaemonSets), and {} is a {}; use a time or rv:RESOURCEVERSION",
                self.name(),
                self.history.object(self.id).kind
            )));
        };
        let step = model.step(number).ok_or_else(|| {
            let known: Vec<String> = model
                .revisions
                .iter()
                .map(|r| r.number.to_string())
                .collect();
            let known = match known.is_empty() {
                true => "none".to_string(),
                false => known.join(", "),
            };
            QueryError::NotApplicable(format!(
                "{} has no revision {number} in the trace (revisions seen: {known})",
                self.name()
            ))
        })?;
        Ok((model, step))
    }

    /// The version recorded at the change's line, else the first at or after its time.
    fn version_after_change(&self, line: Option<u64>, time: Timestamp) -> Option<&Version> {
        let versions = &self.history.object(self.id).versions;
        line.and_then(|line| versions.iter().find(|v| v.line == line))
            .or_else(|| versions.iter().find(|v| v.ts >= time))
    }

    /// The first workload version that shows the revision (a Deployment's revision annotation,
    /// a StatefulSet's `status.updateRevision`).
    fn first_showing(&self, model: &WorkloadHistory, step: &RevisionStep) -> Option<&Version> {
        self.history.object(self.id).versions.iter().find(|v| {
            self.history
                .parse::<Value>(v)
                .is_ok_and(|body| (model.shows)(self.history, &body, step))
        })
    }

    /// The revision current at a version's record line, by the changes that made revisions.
    fn revision_at_line(&self, line: u64) -> Option<i64> {
        self.model?
            .marks()
            .into_iter()
            .filter(|(at, _, _)| at.is_none_or(|at| at <= line))
            .map(|(_, _, number)| number)
            .next_back()
    }

    /// The pod template of the object carrying the revision.
    fn carrier_template(
        &self,
        model: &WorkloadHistory,
        step: &RevisionStep,
        flag: &str,
        notes: &mut Vec<String>,
    ) -> Result<Side, QueryError> {
        let number = step.number;
        let carrier_kind = model.carrier_kind;
        let no_version = || {
            QueryError::NotApplicable(format!(
                "{flag} {number}: no version of {} shows revision {number}, and no {carrier_kind} carrying it was recorded",
                self.name()
            ))
        };
        let carrier = step.carrier.ok_or_else(no_version)?;
        let object = self.history.object(carrier);
        let version = object.first();
        let body: Value = self.history.parse(version).map_err(|_| no_version())?;
        let template = (model.carrier_template)(&body).ok_or_else(no_version)?;
        notes.push(format!(
            "{flag} {number}: no {} version shows revision {number} (made before the trace began); compared through {carrier_kind} {}'s pod template (line {})",
            self.history.object(self.id).kind,
            object.name,
            version.line
        ));
        Ok(Side {
            version: VersionRef {
                time: version.ts,
                resource_version: version.resource_version.as_deref().map(str::to_string),
                line: version.line,
                revision: Some(number),
            },
            body: template,
            template_only: true,
        })
    }
}

/// Up to three recorded resourceVersions numerically closest to `rv`, as `rv:N`.
fn nearest_resource_versions(versions: &[Version], rv: &str) -> Vec<String> {
    let Ok(wanted) = rv.parse::<i128>() else {
        return Vec::new();
    };
    let mut known: Vec<(i128, &str)> = versions
        .iter()
        .filter_map(|v| v.resource_version.as_deref())
        .filter_map(|text| {
            text.parse::<i128>()
                .ok()
                .map(|n| ((n - wanted).abs(), text))
        })
        .collect();
    known.sort();
    known.dedup();
    known
        .into_iter()
        .take(3)
        .map(|(_, text)| format!("rv:{text}"))
        .collect()
}
