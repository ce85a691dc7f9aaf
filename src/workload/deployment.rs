//! Deployment knowledge: the changes recorded in its versions, who made them, and which revision each made.
//!
//! A change of `spec.template` makes a revision; a change of `spec.replicas` only
//! scales. The manager of a change is read from the managedFields of the version
//! that shows it: the entry whose `time` (or field set) moved and which owns the
//! changed fields. Revisions are matched to ReplicaSets by template content and
//! numbered from the ReplicaSet's `deployment.kubernetes.io/revision` annotation.
//! [`DeploymentModel::recorded_changes`] lists every recorded write of spec or metadata, with
//! the revision each made and, for a rollback, the earlier revision it brought back.

use jiff::Timestamp;
use serde_json::Value;

use super::attribution::{attribute, Attribution, BeforeTraceClocks};
use std::collections::HashMap;
use std::sync::Arc;

use super::replicaset::{revision_of, template_key, template_without_hash, ReplicaSetTimeline};
use super::{shifted, WATCH_SKEW};
use crate::graph::{CausalGraph, Change, ChangeEvidence, ChangeKind, ObjectRef, Requester};
use crate::history::diff::{diff_at, FieldChange};
use crate::history::managed_fields::parse_managed_fields;
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId, Version};
use crate::trace::EventType;

/// A change together with the ReplicaSet that carries the template it produced.
#[derive(Debug, Clone)]
pub struct TrackedChange {
    /// The change.
    pub change: Change,
    /// For template changes and creations: the ReplicaSet whose template matches the new template.
    pub replicaset: Option<ObjectId>,
}

/// One revision of a Deployment.
#[derive(Debug, Clone)]
pub struct Revision {
    /// The revision number.
    pub number: i64,
    /// The ReplicaSet carrying it.
    pub replicaset: Option<ObjectId>,
    /// Its `pod-template-hash`.
    pub template_hash: Option<String>,
    /// The change that made it, when known.
    pub change: Option<Change>,
}

/// One recorded write of the Deployment's spec or metadata, with the revision it made.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedChange {
    /// The change: a spec change of the model (with any metadata fields after its own), or a
    /// change of metadata alone.
    pub change: Change,
    /// The revision this change made: its new template got a ReplicaSet revision.
    pub new_revision: Option<i64>,
    /// The earlier revision whose template this change brought back (`kubectl rollout undo`).
    pub rollback_to_revision: Option<i64>,
}

/// A recorded version whose spec or metadata differs from the version before.
#[derive(Debug, Clone)]
struct Write {
    /// What changed.
    change: WriteChange,
    /// Its label, annotation and finalizer changes.
    metadata: Vec<FieldChange>,
    /// The [`template_key`] of its pod template, for template changes and the creation.
    template: Option<String>,
}

/// The change a [`Write`] made.
#[derive(Debug, Clone)]
enum WriteChange {
    /// The spec change (or creation) at this position of [`DeploymentModel::changes`].
    Spec(usize),
    /// A change of metadata alone.
    Metadata(Box<Change>),
}

/// Why a ReplicaSet was scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleCause {
    /// A new revision rolled out (this RS up if it is the new one, down if an older one).
    Rollout,
    /// The Deployment's replicas went up.
    ScaleUp,
    /// The Deployment's replicas went down.
    ScaleDown,
    /// The trace does not show why.
    Unknown,
}

/// A Deployment's recorded history: changes, revisions and ReplicaSets.
#[derive(Debug, Clone)]
pub struct DeploymentModel {
    /// The Deployment.
    pub id: ObjectId,
    /// Every change, in time order (a before-trace change first).
    pub changes: Vec<TrackedChange>,
    /// Revisions by ascending number.
    pub revisions: Vec<Revision>,
    /// Its ReplicaSets over time.
    pub replicasets: Vec<ReplicaSetTimeline>,
    /// What the trace cannot show about this Deployment.
    pub notes: Vec<String>,
    /// Every recorded version that changed spec or metadata, in trace order.
    writes: Vec<Write>,
    /// The [`template_key`] of the first version's template and the revision it carried, when
    /// the trace began after the creation.
    initial_template: Option<(String, Option<i64>)>,
    /// Each ReplicaSet's pod template (of its last version, without the hash label), read once:
    /// a Deployment changed thousands of times must not re-read every ReplicaSet per change.
    templates: HashMap<ObjectId, Value>,
    /// The last ReplicaSet (in `replicasets` order) carrying each template, by [`template_key`].
    by_template: HashMap<String, ObjectId>,
    /// The revision-making changes (templates and the creation), by time.
    templates_by_time: LatestBefore,
    /// The changes of `spec.replicas` (not the creation), by time.
    scales_by_time: LatestBefore,
}

/// Finds the last item (in list order) at or before a time among many, in logarithmic time: a
/// scale step asks it of every change, and a Deployment scaled by an autoscaler over a long trace
/// has thousands of both.
#[derive(Debug, Clone, Default)]
struct LatestBefore {
    /// The items' times, sorted.
    times: Vec<Timestamp>,
    /// For each entry of `times`, the greatest list position among the items up to it.
    latest: Vec<usize>,
}

impl LatestBefore {
    fn new(items: impl Iterator<Item = (Timestamp, usize)>) -> LatestBefore {
        let mut items: Vec<(Timestamp, usize)> = items.collect();
        items.sort_unstable();
        let times = items.iter().map(|(t, _)| *t).collect();
        let latest = items
            .iter()
            .scan(None, |best: &mut Option<usize>, &(_, i)| {
                *best = Some(best.map_or(i, |b| b.max(i)));
                *best
            })
            .collect();
        LatestBefore { times, latest }
    }

    /// The position of the last item (in list order) whose time is at or before `time`.
    fn at(&self, time: Timestamp) -> Option<usize> {
        let upto = self.times.partition_point(|t| *t <= time);
        upto.checked_sub(1).map(|k| self.latest[k])
    }
}

impl DeploymentModel {
    /// [`DeploymentModel::build`] once per Deployment and graph: a loaded history does not
    /// change, so every later question about the Deployment (each of its pods' in an export)
    /// gets the model the first one built, whose revisions the graph already holds.
    pub fn of(history: &History, graph: &mut CausalGraph, id: ObjectId) -> Arc<DeploymentModel> {
        if let Some(model) = graph.deployment_model(id) {
            return model;
        }
        let model = Arc::new(DeploymentModel::build(history, graph, id));
        graph.keep_deployment_model(id, model.clone());
        model
    }

    /// Reads the Deployment `id` and the ReplicaSets it controlled, and registers its revisions in `graph`.
    pub fn build(history: &History, graph: &mut CausalGraph, id: ObjectId) -> DeploymentModel {
        let replicasets: Vec<ReplicaSetTimeline> = graph
            .controlled_by(id)
            .into_iter()
            .filter(|&rs| history.object(rs).kind == "ReplicaSet")
            .map(|rs| ReplicaSetTimeline::read(history, rs))
            .collect();
        let templates: HashMap<ObjectId, Value> = replicasets
            .iter()
            .filter_map(|rs| {
                let body: Value = history.parse(history.object(rs.id).last()).ok()?;
                Some((rs.id, template_without_hash(&body)?))
            })
            .collect();
        let by_template = replicasets
            .iter()
            .filter_map(|rs| Some((template_key(templates.get(&rs.id)?), rs.id)))
            .collect();
        let mut model = DeploymentModel {
            id,
            changes: Vec::new(),
            revisions: Vec::new(),
            replicasets,
            notes: Vec::new(),
            writes: Vec::new(),
            initial_template: None,
            templates,
            by_template,
            templates_by_time: LatestBefore::default(),
            scales_by_time: LatestBefore::default(),
        };
        model.read_changes(history);
        model.number_revisions(history);
        model.index_changes();
        for revision in &model.revisions {
            graph.add_revision(id, revision.number, revision.replicaset);
        }
        for (index, tracked) in model.changes.iter().enumerate() {
            let makes_revision = matches!(
                tracked.change.kind,
                ChangeKind::Template | ChangeKind::Create
            );
            graph.add_change(
                id,
                index,
                tracked.change.revision.filter(|_| makes_revision),
            );
        }
        model
    }

    fn read_changes(&mut self, history: &History) {
        let object = history.object(self.id);
        let mut previous: Option<(Value, &Version)> = None;
        for version in &object.versions {
            let Ok(current) = history.parse::<Value>(version) else {
                self.notes.push(format!(
                    "line {}: the Deployment body does not parse",
                    version.line
                ));
                continue;
            };
            let change = match &previous {
                None => self.first_change(history, &current, version),
                Some((before, before_version)) => spec_changed(before_version, version)
                    .then(|| self.change_between(history, before, &current, version))
                    .flatten(),
            };
            let metadata = match &previous {
                Some((before, _)) => metadata_change(before, &current),
                None => Vec::new(),
            };
            let template = || {
                let empty = Value::Null;
                template_key(current.pointer("/spec/template").unwrap_or(&empty))
            };
            let recorded = previous.is_some() || version.event == EventType::Added;
            match change {
                Some(change) if recorded => {
                    let makes_revision = matches!(
                        change.change.kind,
                        ChangeKind::Template | ChangeKind::Create
                    );
                    self.writes.push(Write {
                        change: WriteChange::Spec(self.changes.len()),
                        metadata,
                        template: makes_revision.then(template),
                    });
                    self.changes.push(change);
                }
                Some(change) => {
                    let number = change.change.revision.or_else(|| revision_of(&current));
                    self.initial_template = Some((template(), number));
                    self.changes.push(change);
                }
                None if !metadata.is_empty() => {
                    if let Some((before, _)) = &previous {
                        let attribution = attribute(Some(before), &current, &metadata);
                        let change = make_change(
                            history,
                            self.id,
                            version,
                            version.ts,
                            ChangeKind::Metadata,
                            metadata,
                            attribution,
                            false,
                        );
                        self.writes.push(Write {
                            change: WriteChange::Metadata(Box::new(change)),
                            metadata: Vec::new(),
                            template: None,
                        });
                    }
                }
                None if previous.is_none() => {
                    self.initial_template = Some((template(), revision_of(&current)));
                }
                None => {}
            }
            previous = Some((current, version));
        }
    }

    /// Every recorded version that changed the Deployment's spec or metadata, in time order:
    /// the creation when recorded, template changes with the revision each made (and the one it
    /// brought back), scales, other spec changes and changes of labels, annotations or
    /// finalizers. Changes made before the trace began are not among them.
    pub fn recorded_changes(&self) -> Vec<RecordedChange> {
        let mut made: Vec<(&str, i64)> = Vec::new();
        if let Some((template, Some(number))) = &self.initial_template {
            made.push((template, *number));
        }
        let mut out = Vec::with_capacity(self.writes.len());
        for write in &self.writes {
            let mut change = match &write.change {
                WriteChange::Spec(index) => match self.changes.get(*index) {
                    Some(tracked) => tracked.change.clone(),
                    None => continue,
                },
                WriteChange::Metadata(change) => (**change).clone(),
            };
            change.fields.extend(write.metadata.iter().cloned());
            let (new_revision, rollback_to_revision) = match &write.template {
                Some(template) => {
                    let newest = made.iter().map(|(_, n)| *n).max();
                    let new = self.new_revision(&change, newest);
                    let back = self.rollback_target(&change, template, new, &made);
                    if let Some(number) = new {
                        made.push((template, number));
                    }
                    (new, back)
                }
                None => (None, None),
            };
            out.push(RecordedChange {
                change,
                new_revision,
                rollback_to_revision,
            });
        }
        out.sort_by_key(|c| c.change.time);
        out
    }

    /// The revision a template change (or the creation) made: the revision whose change it is,
    /// else (no ReplicaSet shows it) its own number when newer than every revision before it.
    fn new_revision(&self, change: &Change, newest: Option<i64>) -> Option<i64> {
        let line = change.evidence.record_line;
        let found = self.revisions.iter().find(|r| {
            r.change
                .as_ref()
                .is_some_and(|c| !c.before_trace && c.evidence.record_line == line)
        });
        match found {
            Some(revision) => Some(revision.number),
            None if self.replicasets.is_empty() => change
                .revision
                .filter(|&n| newest.is_none_or(|newest| n > newest)),
            None => None,
        }
    }

    /// The earlier revision whose template a template change brought back: a revision older than
    /// the one it made, carried by the ReplicaSet of that template and made before the change
    /// (the rolled-back-to ReplicaSet takes the new number), else an earlier change of the trace
    /// that made a revision with the same template.
    fn rollback_target(
        &self,
        change: &Change,
        template: &str,
        new_revision: Option<i64>,
        made: &[(&str, i64)],
    ) -> Option<i64> {
        if change.kind != ChangeKind::Template {
            return None;
        }
        let older = |n: i64| new_revision.is_none_or(|new| n < new);
        let rs = self.by_template.get(template).copied();
        let from_replicaset = self
            .revisions
            .iter()
            .filter(|r| rs.is_some() && r.replicaset == rs && older(r.number))
            .filter(|r| self.revision_made_before(r, change.time))
            .map(|r| r.number)
            .max();
        from_replicaset.or_else(|| {
            made.iter()
                .filter(|(t, n)| *t == template && older(*n))
                .map(|(_, n)| *n)
                .max()
        })
    }

    /// Whether a revision existed before `time`: its change, else its ReplicaSet, came earlier.
    fn revision_made_before(&self, revision: &Revision, time: Timestamp) -> bool {
        match &revision.change {
            Some(change) => change.time < time,
            None => revision
                .replicaset
                .and_then(|rs| self.timeline(rs))
                .and_then(|t| t.points.first())
                .is_some_and(|p| p.ts < time),
        }
    }

    /// The change visible in the first version: a creation inside the trace, or the
    /// change that made the revision current when the trace began.
    fn first_change(
        &self,
        history: &History,
        current: &Value,
        version: &Version,
    ) -> Option<TrackedChange> {
        let template = current
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        let replicaset = self.replicaset_with_template(&template);
        if version.event != EventType::Listed {
            let attribution = attribute(None, current, &[]);
            let change = self.make_change(
                history,
                version,
                version.ts,
                ChangeKind::Create,
                Vec::new(),
                attribution,
                false,
            );
            return Some(TrackedChange { change, replicaset });
        }
        self.before_trace_change(history, current, version, replicaset)
    }

    fn before_trace_change(
        &self,
        history: &History,
        current: &Value,
        version: &Version,
        replicaset: Option<ObjectId>,
    ) -> Option<TrackedChange> {
        let template = current.pointer("/spec/template")?;
        let start = version.ts;
        let current_rs = replicaset.and_then(|rs| self.timeline(rs));
        let current_revision = current_rs.and_then(|rs| rs.revision_at(start));
        let older = current_revision.and_then(|rev| self.replicaset_before(rev, start, replicaset));
        let (kind, fields) = match older.and_then(|rs| self.template_of(rs.id)) {
            Some(old_template) => (
                ChangeKind::Template,
                diff_at(
                    &old_template,
                    template,
                    &FieldPath::parse("spec.template").unwrap_or_default(),
                ),
            ),
            None => (ChangeKind::Create, Vec::new()),
        };
        let mut attribution = attribute(None, current, &fields);
        let clocks = BeforeTraceClocks {
            manager: attribution.time,
            replicaset: replicaset.and_then(|rs| history.object(rs).created),
            deployment: history.object(self.id).created,
            rollback: current_rs.is_some_and(|rs| {
                rs.points
                    .first()
                    .is_some_and(|p| !p.revision_history.is_empty())
            }),
            names: ("ReplicaSet", "Deployment"),
        };
        let (time, note) = clocks.pick(kind).unwrap_or((
            start,
            "no clock is recorded; time is the trace start".to_string(),
        ));
        attribution.text = format!("{}; {note}", attribution.text);
        let mut change = self.make_change(history, version, time, kind, fields, attribution, true);
        change.evidence.record_line = None;
        change.revision = current_revision;
        Some(TrackedChange { change, replicaset })
    }

    fn change_between(
        &self,
        history: &History,
        before: &Value,
        after: &Value,
        version: &Version,
    ) -> Option<TrackedChange> {
        let change = spec_change(history, self.id, before, after, version)?;
        let replicaset = match change.kind {
            ChangeKind::Template => after
                .pointer("/spec/template")
                .and_then(|t| self.replicaset_with_template(t)),
            _ => None,
        };
        Some(TrackedChange { change, replicaset })
    }

    #[allow(clippy::too_many_arguments)]
    fn make_change(
        &self,
        history: &History,
        version: &Version,
        time: Timestamp,
        kind: ChangeKind,
        fields: Vec<FieldChange>,
        attribution: Attribution,
        before_trace: bool,
    ) -> Change {
        make_change(
            history,
            self.id,
            version,
            time,
            kind,
            fields,
            attribution,
            before_trace,
        )
    }

    /// Numbers every template change from the ReplicaSet that carries its template, and lists revisions.
    fn number_revisions(&mut self, history: &History) {
        let makes_revision =
            |c: &TrackedChange| matches!(c.change.kind, ChangeKind::Template | ChangeKind::Create);
        let times: Vec<Timestamp> = self
            .changes
            .iter()
            .filter(|c| makes_revision(c))
            .map(|c| c.change.time)
            .collect();
        let mut next_index = 0;
        for index in 0..self.changes.len() {
            if !makes_revision(&self.changes[index]) {
                continue;
            }
            next_index += 1;
            let until = times.get(next_index).copied();
            if self.changes[index].change.revision.is_none() {
                let number = self.revision_for(history, &self.changes[index], until);
                self.changes[index].change.revision = number;
            }
        }
        self.number_scale_changes();
        self.collect_revisions(history);
    }

    fn revision_for(
        &self,
        history: &History,
        tracked: &TrackedChange,
        until: Option<Timestamp>,
    ) -> Option<i64> {
        let from = tracked.change.time;
        let from_rs = tracked
            .replicaset
            .and_then(|rs| self.timeline(rs))
            .and_then(|rs| {
                rs.max_revision_between(from, until)
                    .or_else(|| rs.revision_at(from))
            });
        from_rs.or_else(|| self.annotation_revision_after(history, from, until))
    }

    /// The Deployment's own revision annotation in its first version after `from` that differs.
    fn annotation_revision_after(
        &self,
        history: &History,
        from: Timestamp,
        until: Option<Timestamp>,
    ) -> Option<i64> {
        history
            .object(self.id)
            .versions
            .iter()
            .filter(|v| v.ts >= from && until.is_none_or(|u| v.ts < u))
            .filter_map(|v| history.parse::<Value>(v).ok())
            .filter_map(|body| revision_of(&body))
            .max()
    }

    /// Gives each change without a revision the revision current at its time: that of the last
    /// revision-making change (in list order) at or before it.
    fn number_scale_changes(&mut self) {
        // A creation without a number takes one too, and may then number the changes after it
        // (there is at most one creation, the first change); the other changes number nothing.
        for index in 0..self.changes.len() {
            if self.changes[index].change.kind == ChangeKind::Create {
                let current = self.current_revision(self.changes[index].change.time);
                let revision = &mut self.changes[index].change.revision;
                *revision = revision.or(current);
            }
        }
        let made = LatestBefore::new(self.changes.iter().enumerate().filter_map(|(i, c)| {
            let makes = matches!(c.change.kind, ChangeKind::Template | ChangeKind::Create);
            (makes && c.change.revision.is_some()).then_some((c.change.time, i))
        }));
        for index in 0..self.changes.len() {
            if matches!(
                self.changes[index].change.kind,
                ChangeKind::Template | ChangeKind::Create
            ) {
                continue;
            }
            let current = made
                .at(self.changes[index].change.time)
                .and_then(|i| self.changes[i].change.revision);
            let revision = &mut self.changes[index].change.revision;
            *revision = revision.or(current);
        }
    }

    /// The revision of the last numbered revision-making change at or before `time`, by a scan.
    fn current_revision(&self, time: Timestamp) -> Option<i64> {
        self.changes
            .iter()
            .filter(|c| {
                matches!(c.change.kind, ChangeKind::Template | ChangeKind::Create)
                    && c.change.time <= time
            })
            .filter_map(|c| c.change.revision)
            .next_back()
    }

    /// Indexes the changes by time for [`DeploymentModel::scale_cause`], once they are final.
    fn index_changes(&mut self) {
        let changes = &self.changes;
        self.templates_by_time =
            LatestBefore::new(changes.iter().enumerate().filter_map(|(i, c)| {
                let makes = matches!(c.change.kind, ChangeKind::Template | ChangeKind::Create);
                makes.then_some((c.change.time, i))
            }));
        self.scales_by_time = LatestBefore::new(changes.iter().enumerate().filter_map(|(i, c)| {
            let scale = scales(&c.change) && c.change.kind != ChangeKind::Create;
            scale.then_some((c.change.time, i))
        }));
    }

    fn collect_revisions(&mut self, history: &History) {
        let mut numbers: Vec<(i64, ObjectId)> = self
            .replicasets
            .iter()
            .flat_map(|rs| rs.all_revisions().into_iter().map(move |n| (n, rs.id)))
            .collect();
        numbers.sort_unstable();
        numbers.dedup_by_key(|(n, _)| *n);
        for (number, rs) in numbers {
            let change = self
                .changes
                .iter()
                .find(|c| {
                    c.change.revision == Some(number)
                        && matches!(c.change.kind, ChangeKind::Template | ChangeKind::Create)
                })
                .map(|c| c.change.clone())
                .or_else(|| self.older_revision_change(history, number, rs));
            self.revisions.push(Revision {
                number,
                replicaset: Some(rs),
                template_hash: self.timeline(rs).and_then(|t| t.template_hash.clone()),
                change,
            });
        }
    }

    /// What is knowable about a revision made before the trace and no longer current at its start.
    fn older_revision_change(
        &self,
        history: &History,
        number: i64,
        rs: ObjectId,
    ) -> Option<Change> {
        let object = history.object(rs);
        let time = object.created?;
        let first = history.object(self.id).first();
        let older = self.replicaset_before(number, time, Some(rs));
        let fields = match (
            older.and_then(|o| self.template_of(o.id)),
            self.template_of(rs),
        ) {
            (Some(old), Some(new)) => diff_at(
                &old,
                &new,
                &FieldPath::parse("spec.template").unwrap_or_default(),
            ),
            _ => Vec::new(),
        };
        let kind = if older.is_some() {
            ChangeKind::Template
        } else {
            ChangeKind::Create
        };
        let attribution = Attribution {
            text: format!(
                "made before the trace began; no managedFields entry still shows it, so the time is ReplicaSet {}'s creation",
                object.name
            ),
            ..Attribution::default()
        };
        let mut change = self.make_change(history, first, time, kind, fields, attribution, true);
        change.evidence.record_line = None;
        change.revision = Some(number);
        Some(change)
    }

    fn timeline(&self, rs: ObjectId) -> Option<&ReplicaSetTimeline> {
        self.replicasets.iter().find(|t| t.id == rs)
    }

    /// The ReplicaSet carrying the highest revision lower than `number` at `at`.
    fn replicaset_before(
        &self,
        number: i64,
        at: Timestamp,
        not: Option<ObjectId>,
    ) -> Option<&ReplicaSetTimeline> {
        self.replicasets
            .iter()
            .filter(|rs| Some(rs.id) != not)
            .filter_map(|rs| rs.revision_at(at).filter(|&n| n < number).map(|n| (n, rs)))
            .max_by_key(|(n, _)| *n)
            .map(|(_, rs)| rs)
    }

    fn template_of(&self, rs: ObjectId) -> Option<Value> {
        self.templates.get(&rs).cloned()
    }

    /// The last ReplicaSet whose template is `template`.
    fn replicaset_with_template(&self, template: &Value) -> Option<ObjectId> {
        self.by_template.get(&template_key(template)).copied()
    }

    /// The revision with this number.
    pub fn revision(&self, number: i64) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.number == number)
    }

    /// Why ReplicaSet `rs` was scaled up (`up`) or down at `at`, and the change behind it.
    pub fn scale_cause(
        &self,
        rs: ObjectId,
        at: Timestamp,
        up: bool,
    ) -> (ScaleCause, Option<&Change>) {
        let limit = shifted(at, WATCH_SKEW);
        let template = self.templates_by_time.at(limit).map(|i| &self.changes[i]);
        let scale = self.scales_by_time.at(limit).map(|i| &self.changes[i]);
        let scale_is_newer = match (template, scale) {
            (Some(t), Some(s)) => s.change.time > t.change.time,
            (None, Some(_)) => true,
            _ => false,
        };
        let template_targets_rs = template.is_some_and(|t| t.replicaset == Some(rs));
        match (up, scale_is_newer, template) {
            (true, false, Some(t)) if template_targets_rs => (ScaleCause::Rollout, Some(&t.change)),
            (false, false, Some(t)) if !template_targets_rs => {
                (ScaleCause::Rollout, Some(&t.change))
            }
            (true, true, _) => (ScaleCause::ScaleUp, scale.map(|s| &s.change)),
            (false, true, _) => (ScaleCause::ScaleDown, scale.map(|s| &s.change)),
            (true, false, _) => (ScaleCause::Rollout, self.change_of_rs(rs)),
            (false, false, _) => (ScaleCause::Unknown, None),
        }
    }

    /// The change that made the revision carried by `rs`.
    pub fn change_of_rs(&self, rs: ObjectId) -> Option<&Change> {
        self.revisions
            .iter()
            .filter(|r| r.replicaset == Some(rs))
            .filter_map(|r| r.change.as_ref())
            .next_back()
    }
}

/// The change of a workload's spec between two of its versions: the leaf fields that moved,
/// its kind (a `spec.template` change makes a revision, `spec.replicas` alone scales), and the
/// managedFields entry that made it. Shared by every kind whose spec holds a pod template
/// (Deployment, StatefulSet, DaemonSet); `None` when the spec is the same.
pub(crate) fn spec_change(
    history: &History,
    id: ObjectId,
    before: &Value,
    after: &Value,
    version: &Version,
) -> Option<Change> {
    let spec_path = FieldPath::parse("spec").unwrap_or_default();
    let empty = Value::Null;
    let fields = diff_at(
        before.get("spec").unwrap_or(&empty),
        after.get("spec").unwrap_or(&empty),
        &spec_path,
    );
    if fields.is_empty() {
        return None;
    }
    let template = FieldPath::parse("spec.template").unwrap_or_default();
    let replicas = FieldPath::parse("spec.replicas").unwrap_or_default();
    let kind = if fields.iter().any(|f| f.path.starts_with(&template)) {
        ChangeKind::Template
    } else if fields.iter().any(|f| f.path == replicas) {
        ChangeKind::Scale
    } else {
        ChangeKind::Spec
    };
    let attribution = attribute(Some(before), after, &fields);
    Some(make_change(
        history,
        id,
        version,
        version.ts,
        kind,
        fields,
        attribution,
        false,
    ))
}

/// A change of object `id` shown by `version`, with its attribution as evidence.
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_change(
    history: &History,
    id: ObjectId,
    version: &Version,
    time: Timestamp,
    kind: ChangeKind,
    fields: Vec<FieldChange>,
    attribution: Attribution,
    before_trace: bool,
) -> Change {
    Change {
        object: ObjectRef::of(history.object(id)),
        time,
        manager: attribution.manager,
        operation: attribution.operation,
        subresource: attribution.subresource,
        revision: None,
        before_trace,
        fields,
        kind,
        evidence: ChangeEvidence {
            record_line: Some(version.line),
            resource_version: version.resource_version.as_deref().map(str::to_string),
            generation: version.generation,
            attribution: attribution.text,
            confidence: attribution.confidence,
        },
        request: Requester::of(version.request.as_deref()),
    }
}

/// The Deployment controller's revision annotation: written through `/status` with the status
/// (`pkg/controller/deployment/sync.go`), so bookkeeping, not a change.
const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// The leaf changes of labels, annotations and finalizers between two versions, without what is
/// written through `/status` (fields a status entry of managedFields owns, and the controller's
/// revision annotation).
fn metadata_change(before: &Value, after: &Value) -> Vec<FieldChange> {
    let empty = Value::Null;
    let mut fields = Vec::new();
    for member in ["labels", "annotations", "finalizers"] {
        let old = before.pointer(&format!("/metadata/{member}"));
        let new = after.pointer(&format!("/metadata/{member}"));
        if old == new {
            continue;
        }
        let base = FieldPath::parse(&format!("metadata.{member}")).unwrap_or_default();
        fields.extend(diff_at(old.unwrap_or(&empty), new.unwrap_or(&empty), &base));
    }
    if fields.is_empty() {
        return fields;
    }
    let revision = FieldPath::parse("metadata.annotations")
        .unwrap_or_default()
        .child_field(REVISION_ANNOTATION);
    let status_entries: Vec<_> = [before, after]
        .iter()
        .filter_map(|body| body.pointer("/metadata/managedFields"))
        .filter_map(|mf| parse_managed_fields(mf).ok())
        .flatten()
        .filter(|e| e.subresource.as_deref() == Some("status"))
        .collect();
    fields
        .retain(|f| f.path != revision && !status_entries.iter().any(|e| e.fields.covers(&f.path)));
    fields
}

fn scales(change: &Change) -> bool {
    let replicas = FieldPath::parse("spec.replicas").unwrap_or_default();
    change.fields.iter().any(|f| f.path == replicas)
}

/// Whether the spec may differ between two versions (generation moved, or is not recorded).
pub(crate) fn spec_changed(before: &Version, after: &Version) -> bool {
    match (before.generation, after.generation) {
        (Some(a), Some(b)) => a != b,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::load;
    use crate::trace::TraceSource;

    fn seed_demo() -> crate::query::Loaded {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-demo.ndjson.zst");
        load(&TraceSource::Path(path)).unwrap()
    }

    #[test]
    fn the_graph_links_each_revision_to_the_change_that_made_it() {
        let mut loaded = seed_demo();
        let web = loaded.history.by_name("Deployment", Some("shop"), "web")[0];
        let model = DeploymentModel::build(&loaded.history, &mut loaded.graph, web);
        assert_eq!(loaded.graph.revisions_of(web), [1, 2]);
        let index = loaded.graph.change_that_made(web, 2).unwrap();
        let change = &model.changes[index].change;
        assert_eq!(change.kind, ChangeKind::Template);
        assert_eq!(change.manager.as_deref(), Some("kubectl-client-side-apply"));
        assert!(!change.before_trace);
    }

    #[test]
    fn a_scale_never_makes_a_revision() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scale-down.ndjson.zst");
        let mut loaded = load(&TraceSource::Path(path)).unwrap();
        let deployment = loaded.history.of_kind("Deployment").next().unwrap();
        let model = DeploymentModel::build(&loaded.history, &mut loaded.graph, deployment);
        let scales: Vec<&Change> = model
            .changes
            .iter()
            .map(|c| &c.change)
            .filter(|c| c.kind == ChangeKind::Scale)
            .collect();
        assert_eq!(scales.len(), 1);
        assert_eq!(
            scales[0].revision,
            Some(1),
            "a scale keeps the current revision"
        );
        assert_eq!(scales[0].subresource.as_deref(), Some("scale"));
        assert_eq!(loaded.graph.revisions_of(deployment), [1]);
    }
    fn fixture(name: &str) -> crate::query::Loaded {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("fixtures/{name}.ndjson.zst"));
        load(&TraceSource::Path(path)).unwrap()
    }

    fn model_of(loaded: &mut crate::query::Loaded, name: &str) -> DeploymentModel {
        let id = loaded.history.by_name("Deployment", None, name)[0];
        DeploymentModel::build(&loaded.history, &mut loaded.graph, id)
    }

    #[test]
    fn a_rollout_undo_brings_back_the_old_revision_under_a_new_number() {
        let mut loaded = fixture("rollout-undo");
        let changes = model_of(&mut loaded, "search").recorded_changes();
        let made: Vec<(Option<i64>, Option<i64>)> = changes
            .iter()
            .map(|c| (c.new_revision, c.rollback_to_revision))
            .collect();
        assert_eq!(made, [(Some(2), None), (Some(3), Some(1))]);
        assert_eq!(changes[1].change.manager.as_deref(), Some("kubectl"));
    }

    #[test]
    fn recorded_changes_leave_out_what_came_before_the_trace_and_status_writes() {
        let mut loaded = fixture("seed-demo");
        let model = model_of(&mut loaded, "web");
        assert!(model.changes[0].change.before_trace);
        let changes = model.recorded_changes();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].change.kind, ChangeKind::Template);
        assert_eq!(changes[0].new_revision, Some(2));
    }

    #[test]
    fn a_scale_through_the_subresource_is_a_change_without_a_revision() {
        let mut loaded = fixture("hpa-scale-up");
        let changes = model_of(&mut loaded, "thumbnailer").recorded_changes();
        assert_eq!(changes.len(), 1);
        let change = &changes[0].change;
        assert_eq!(change.kind, ChangeKind::Scale);
        assert_eq!(change.subresource.as_deref(), Some("scale"));
        assert_eq!(changes[0].new_revision, None);
    }

    #[test]
    fn metadata_changes_skip_the_controllers_status_writes() {
        let entry = serde_json::json!([{"manager": "kube-controller-manager", "operation": "Update",
            "subresource": "status", "fieldsV1": {"f:metadata": {"f:annotations": {"f:example.com/by-status": {}}}}}]);
        let before = serde_json::json!({"metadata": {"labels": {"app": "web"},
            "annotations": {"deployment.kubernetes.io/revision": "1"}, "managedFields": entry}});
        let after = serde_json::json!({"metadata": {"labels": {"app": "web", "team": "a"},
            "annotations": {"deployment.kubernetes.io/revision": "2", "example.com/by-status": "x"},
            "managedFields": entry}});
        let fields = metadata_change(&before, &after);
        let paths: Vec<String> = fields.iter().map(|f| f.path.to_string()).collect();
        assert_eq!(paths, ["metadata.labels.team"]);
        assert!(metadata_change(&after, &after).is_empty());
    }
}
