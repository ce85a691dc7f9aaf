//! The timeline of `kblame report --format html`: one lane per workload, revision and pod (and
//! per other object with something to show), each with its marks, built from the `timeline`
//! query's entries and the report's verdicts (issue 14, item 4).
//!
//! The renderer embeds this as JSON and draws it in the browser; nothing here is drawn.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::report::{is_judged, is_workload, Report, ReportQuery};
use super::rollout::FAILING_WAITS;
use super::timeline::{timeline, Entry, EntryKind, Severity, TimelineQuery};
use super::{Loaded, QueryError};
use crate::graph::{Change, Confidence, ObjectRef};
use crate::history::diff::FieldChange;
use crate::history::{Gone, History, ObjectId};
use crate::workload::events::occurrences_of;
use crate::workload::kinds::revisions::pod_revision;
use crate::workload::replicaset::revision_of;

/// Everything the HTML timeline draws.
#[derive(Debug, Clone, Serialize)]
pub struct ReportTimeline {
    /// The left edge: the report's window start.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub start: Timestamp,
    /// The right edge: the moment judged.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub end: Timestamp,
    /// Watch gaps, shaded across every lane.
    pub gaps: Vec<GapSpan>,
    /// Trace-wide marks: start, re-lists, end.
    pub marks: Vec<Mark>,
    /// Workloads: the report's listed ones first, in its order, then the rest.
    pub workloads: Vec<WorkloadLane>,
    /// Other objects with marks (ConfigMaps, Nodes, pods of no workload), by kind,
    /// namespace and name.
    pub others: Vec<ObjectLane>,
}

/// A watch gap: from the GAP record to the re-list that closed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapSpan {
    /// When the watch broke.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub start: Timestamp,
    /// When a re-list closed it; null while open (to the end).
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub end: Option<Timestamp>,
    /// The resource, e.g. `v1/pods`.
    pub resource: String,
    /// Why it broke.
    pub reason: String,
}

/// One workload's lane, with its revisions' lanes under it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadLane {
    /// The workload.
    pub object: ObjectRef,
    /// The workload that controls this one (an operator's resource above a StatefulSet).
    pub owner: Option<ObjectRef>,
    /// The report's status when it lists the workload (`failed`, `failing`, `ok`); null when
    /// it does not.
    pub status: Option<&'static str>,
    /// The report's verdict when it lists the workload.
    pub verdict: Option<&'static str>,
    /// When it existed, within the window.
    pub life: Life,
    /// Its own marks: changes, conditions, Events about it.
    pub marks: Vec<Mark>,
    /// Its revisions (or a CronJob's runs), oldest first.
    pub revisions: Vec<RevisionLane>,
}

/// A revision (or a Job run) of a workload, with its pods.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionLane {
    /// Its number, when the workload numbers revisions.
    pub revision: Option<i64>,
    /// What carries it: a ReplicaSet, a ControllerRevision, a CronJob's Job.
    pub carrier: Option<ObjectRef>,
    /// When its carrier existed, within the window.
    pub life: Option<Life>,
    /// The carrier's marks (scales, Events).
    pub marks: Vec<Mark>,
    /// Its pods, by first record.
    pub pods: Vec<ObjectLane>,
}

/// A pod's or another object's lane.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectLane {
    /// The object.
    pub object: ObjectRef,
    /// When it existed.
    pub life: Life,
    /// A pod's states over time; empty for other kinds.
    pub spans: Vec<Span>,
    /// Its marks.
    pub marks: Vec<Mark>,
}

/// When an object existed as the trace shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Life {
    /// Its first record (it may have existed earlier: see `before`).
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub from: Timestamp,
    /// When it went away; null when it still existed at the end.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub to: Option<Timestamp>,
    /// Whether it existed before its first record.
    pub before: bool,
}

/// A pod's state from one time until the next span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    /// When it began.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub from: Timestamp,
    /// The state.
    pub state: PodPhase,
}

/// What a pod was doing, as its bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PodPhase {
    /// Not ready yet, nothing failing.
    Pending,
    /// Its Ready condition is True.
    Ready,
    /// Not ready after it had been, nothing failing.
    NotReady,
    /// A container waits on a failing reason (`CrashLoopBackOff`, …) or the pod failed.
    Failing,
    /// The pod ran to completion.
    Succeeded,
    /// Its deletion began.
    Terminating,
}

/// Something that happened to a lane's object.
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    /// When (an Event's first occurrence in the window).
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// A repeated Event's last occurrence.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub until: Option<Timestamp>,
    /// What kind of step it is.
    pub kind: EntryKind,
    /// How notable it is.
    pub severity: Severity,
    /// The step in words (an Event's message).
    pub summary: String,
    /// An Event's reason (`Unhealthy` is a probe failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// An Event's count at its last occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// A change's fields, old → new.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Who made a change, when the report knows the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeWho>,
    /// The trace line that shows it.
    pub line: Option<u64>,
}

/// Who made a change and how sure that is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeWho {
    /// The field manager.
    pub manager: Option<String>,
    /// `Apply` or `Update`.
    pub operation: Option<String>,
    /// The user, when an audit log told it.
    pub user: Option<String>,
    /// The revision it made.
    pub revision: Option<i64>,
    /// Whether the report blames this change for a failure.
    pub blamed: bool,
    /// What the attribution rests on.
    pub attribution: String,
    /// How sure it is.
    pub confidence: Confidence,
}

/// Builds the timeline of a report: its window, namespace and verdicts.
pub fn report_timeline(
    loaded: &mut Loaded,
    report: &Report,
    query: &ReportQuery,
) -> Result<ReportTimeline, QueryError> {
    let window = Window {
        since: report.since,
        until: report.until,
        namespace: query.namespace.clone(),
    };
    let entries = timeline(
        loaded,
        &TimelineQuery {
            object: None,
            since: Some(window.since),
            until: Some(window.until),
            namespace: window.namespace.clone(),
        },
    )?
    .entries;
    let history = &loaded.history;
    let known = known_changes(report);
    let mut trace_marks = Vec::new();
    let mut by_uid: HashMap<String, (ObjectRef, Vec<Mark>)> = HashMap::new();
    for entry in entries.into_iter().filter(|e| e.kind != EntryKind::Event) {
        let mark = mark_of(&entry, &known);
        match entry.object {
            Some(object) => by_uid.entry(lane_key(&object)).or_insert((object, vec![])),
            None => {
                trace_marks.push(mark);
                continue;
            }
        }
        .1
        .push(mark);
    }
    for (subject, mark) in event_marks(history, &window) {
        by_uid
            .entry(lane_key(&subject))
            .or_insert((subject, vec![]))
            .1
            .push(mark);
    }
    for (_, marks) in by_uid.values_mut() {
        marks.sort_by_key(|m| (m.time, m.line));
    }
    let mut tree = Tree {
        loaded,
        window: &window,
        marks: by_uid,
    };
    let workloads = tree.workloads(report);
    let others = tree.others();
    Ok(ReportTimeline {
        start: window.since,
        end: window.until,
        gaps: gaps(&loaded.history, &window),
        marks: trace_marks,
        workloads,
        others,
    })
}

/// The report's window and namespace.
struct Window {
    since: Timestamp,
    until: Timestamp,
    namespace: Option<String>,
}

impl Window {
    /// Whether an object is in the namespace asked and existed during the window.
    fn shows(&self, history: &History, id: ObjectId) -> bool {
        let object = history.object(id);
        let life = life_of(history, id);
        self.namespace
            .as_deref()
            .is_none_or(|ns| object.namespace == ns)
            && life.from <= self.until
            && life.to.is_none_or(|to| to >= self.since)
    }
}

/// A lane's key: the UID, or kind/namespace/name for an object only an Event names.
fn lane_key(object: &ObjectRef) -> String {
    match object.uid.is_empty() {
        true => format!("{}/{}/{}", object.kind, object.namespace, object.name),
        false => object.uid.clone(),
    }
}

/// The changes the report knows, by (object UID, time, record line), with whether it blames
/// them.
fn known_changes(report: &Report) -> HashMap<(String, Timestamp, Option<u64>), ChangeWho> {
    let mut known = HashMap::new();
    let mut add = |change: &Change, blamed: bool| {
        let key = (
            change.object.uid.clone(),
            change.time,
            change.evidence.record_line,
        );
        let who = known.entry(key).or_insert_with(|| ChangeWho {
            manager: change.manager.clone(),
            operation: change.operation.clone(),
            user: change.request.user.clone(),
            revision: change.revision,
            blamed: false,
            attribution: change.evidence.attribution.clone(),
            confidence: change.evidence.confidence,
        });
        who.blamed |= blamed;
    };
    for w in &report.workloads {
        w.changes.iter().for_each(|c| add(c, false));
        let causes = w.root_causes.iter().filter_map(|c| c.change.as_ref());
        causes.for_each(|c| add(c, false));
        if let Some(blamed) = &w.blamed_change {
            add(blamed, true);
        }
    }
    known
}

fn mark_of(entry: &Entry, known: &HashMap<(String, Timestamp, Option<u64>), ChangeWho>) -> Mark {
    let change = entry.object.as_ref().and_then(|o| {
        let key = (o.uid.clone(), entry.time, entry.line);
        known.get(&key).cloned()
    });
    Mark {
        time: entry.time,
        until: entry.until,
        kind: entry.kind,
        severity: entry.severity,
        summary: entry.summary.clone(),
        reason: None,
        count: None,
        fields: entry.fields.clone(),
        change,
        line: entry.line,
    }
}

/// One mark per Event object in the window, on the lane of the object it is about: first
/// occurrence, last, count, reason and message.
fn event_marks(history: &History, window: &Window) -> Vec<(ObjectRef, Mark)> {
    let mut marks = Vec::new();
    for id in history.of_kind("Event") {
        let event = history.object(id);
        let in_namespace = window
            .namespace
            .as_deref()
            .is_none_or(|ns| event.namespace == ns);
        let subject = event.subject_uid.as_deref().and_then(|u| history.by_uid(u));
        let (Some(subject), true) = (subject, in_namespace) else {
            continue;
        };
        let all = occurrences_of(history, id);
        // An Event listed at the start happened (first) before the trace: its later repeats count.
        let skip = usize::from(history.existed_at_start(id));
        let shown: Vec<_> = all
            .iter()
            .skip(skip)
            .filter(|o| o.ts >= window.since && o.ts <= window.until)
            .collect();
        let (Some(first), Some(last)) = (shown.first(), shown.last()) else {
            continue;
        };
        let severity = match last.event_type.as_str() {
            "Warning" => Severity::Warning,
            _ => Severity::Normal,
        };
        marks.push((
            ObjectRef::of(history.object(subject)),
            Mark {
                time: first.ts,
                until: (last.ts != first.ts).then_some(last.ts),
                kind: EntryKind::Event,
                severity,
                summary: last
                    .message
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                reason: Some(last.reason.clone()),
                count: Some(last.count),
                fields: Vec::new(),
                change: None,
                line: Some(first.line),
            },
        ));
    }
    marks
}

fn gaps(history: &History, window: &Window) -> Vec<GapSpan> {
    history
        .facts
        .gaps
        .iter()
        .filter(|g| g.ts <= window.until && g.closed.is_none_or(|c| c >= window.since))
        .map(|g| GapSpan {
            start: g.ts,
            end: g.closed,
            resource: g.resource.clone(),
            reason: g.reason.clone(),
        })
        .collect()
}

/// When an object existed: its first record, and when it went away.
fn life_of(history: &History, id: ObjectId) -> Life {
    let object = history.object(id);
    let to = match &object.gone {
        Some(Gone::Deleted(ts)) | Some(Gone::MissingAtRelist(ts)) => Some(*ts),
        None => None,
    };
    Life {
        from: object.first().ts,
        to,
        before: history.existed_at_start(id),
    }
}

/// The parts of a pod version its bar reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PodStatusView {
    status: StatusView,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct StatusView {
    phase: Option<String>,
    conditions: Vec<ConditionView>,
    init_container_statuses: Vec<ContainerView>,
    container_statuses: Vec<ContainerView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConditionView {
    #[serde(rename = "type")]
    kind: String,
    status: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContainerView {
    state: Option<serde_json::Value>,
}

impl PodStatusView {
    /// The state; `seen_up` says the pod was ready or failing before (a crash-looping
    /// container running again is not a start).
    fn phase(&self, seen_up: bool) -> PodPhase {
        let status = &self.status;
        let ready = status
            .conditions
            .iter()
            .any(|c| c.kind == "Ready" && c.status == "True");
        let failing_wait = status
            .init_container_statuses
            .iter()
            .chain(&status.container_statuses)
            .filter_map(|c| c.state.as_ref()?.pointer("/waiting/reason")?.as_str())
            .any(|reason| FAILING_WAITS.contains(&reason));
        match (status.phase.as_deref(), ready, failing_wait) {
            (Some("Succeeded"), _, _) => PodPhase::Succeeded,
            (Some("Failed"), _, _) | (_, _, true) => PodPhase::Failing,
            (_, true, _) => PodPhase::Ready,
            _ if seen_up => PodPhase::NotReady,
            _ => PodPhase::Pending,
        }
    }
}

/// A pod's states, one span per change of state.
fn pod_spans(history: &History, id: ObjectId) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut seen_up = false;
    for version in &history.object(id).versions {
        let state = match version.deletion_timestamp {
            Some(_) => PodPhase::Terminating,
            None => history
                .parse::<PodStatusView>(version)
                .unwrap_or_default()
                .phase(seen_up),
        };
        seen_up |= matches!(state, PodPhase::Ready | PodPhase::Failing);
        if spans.last().is_none_or(|s| s.state != state) {
            spans.push(Span {
                from: version.ts,
                state,
            });
        }
    }
    spans
}

/// Builds lanes, taking each object's marks as its lane is made.
struct Tree<'a> {
    loaded: &'a Loaded,
    window: &'a Window,
    marks: HashMap<String, (ObjectRef, Vec<Mark>)>,
}

impl Tree<'_> {
    fn take(&mut self, id: ObjectId) -> Vec<Mark> {
        let uid = &self.loaded.history.object(id).uid;
        self.marks.remove(uid).map(|(_, m)| m).unwrap_or_default()
    }

    fn workloads(&mut self, report: &Report) -> Vec<WorkloadLane> {
        let loaded = self.loaded;
        let history = &loaded.history;
        let listed: HashMap<&str, usize> = report
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.object.uid.as_str(), i))
            .collect();
        let mut ids: Vec<ObjectId> = (0..history.objects().len())
            .filter(|&id| is_judged(loaded, history.object(id)))
            .filter(|&id| self.window.shows(history, id))
            .collect();
        ids.sort_by_key(|&id| {
            let o = history.object(id);
            let rank = listed.get(o.uid.as_str()).copied().unwrap_or(usize::MAX);
            (
                rank,
                o.namespace.clone(),
                o.kind.clone(),
                o.name.clone(),
                id,
            )
        });
        ids.into_iter()
            .map(|id| {
                let judged = listed
                    .get(history.object(id).uid.as_str())
                    .map(|&i| &report.workloads[i]);
                let mut lane = self.workload(id);
                lane.status = judged.map(|w| w.status);
                lane.verdict = judged.map(|w| w.verdict);
                lane
            })
            .collect()
    }

    fn workload(&mut self, id: ObjectId) -> WorkloadLane {
        let loaded = self.loaded;
        let history = &loaded.history;
        let object = history.object(id);
        let owner = object
            .last()
            .controller_uid
            .as_deref()
            .and_then(|uid| history.by_uid(uid))
            .filter(|&o| is_workload(loaded, history.object(o)))
            .map(|o| ObjectRef::of(history.object(o)));
        let mut revisions = Vec::new();
        let mut direct: BTreeMap<Option<i64>, Vec<ObjectId>> = BTreeMap::new();
        let mut numbered: BTreeMap<i64, ObjectId> = BTreeMap::new();
        if object.kind == "Pod" {
            // A pod judged as its own workload is its only pod lane.
            direct.entry(None).or_default().push(id);
        }
        for child in loaded.graph.controlled_by(id) {
            let kind = history.object(child).kind.as_str();
            if is_workload(loaded, history.object(child)) || !self.window.shows(history, child) {
                continue;
            }
            match kind {
                "Pod" => direct
                    .entry(self.revision_of_pod(child))
                    .or_default()
                    .push(child),
                "ReplicaSet" | "Job" => revisions.push(self.carrier(child, Some(child))),
                "ControllerRevision" => {
                    if let Some(n) = self.body_revision(child) {
                        numbered.insert(n, child);
                    }
                }
                _ => {}
            }
        }
        // StatefulSet and DaemonSet pods: grouped by revision, carried by ControllerRevisions.
        for &number in numbered.keys() {
            direct.entry(Some(number)).or_default();
        }
        for (number, pods) in direct {
            let carrier = number.and_then(|n| numbered.get(&n).copied());
            let mut lane = match carrier {
                Some(c) => self.carrier(c, None),
                None => RevisionLane {
                    revision: number,
                    carrier: None,
                    life: None,
                    marks: Vec::new(),
                    pods: Vec::new(),
                },
            };
            lane.revision = number;
            lane.pods = self.pods(pods);
            revisions.push(lane);
        }
        revisions.sort_by_key(|r| {
            let from = r.life.map(|l| l.from);
            (r.revision.is_none(), r.revision, from)
        });
        WorkloadLane {
            object: ObjectRef::of(object),
            owner,
            status: None,
            verdict: None,
            life: life_of(history, id),
            marks: self.take(id),
            revisions,
        }
    }

    /// A revision carried by `carrier` (a ReplicaSet, a Job, a ControllerRevision); with
    /// `pods_of`, its pods are the ones that object controls.
    fn carrier(&mut self, carrier: ObjectId, pods_of: Option<ObjectId>) -> RevisionLane {
        let loaded = self.loaded;
        let history = &loaded.history;
        let object = history.object(carrier);
        let revision = match object.kind.as_str() {
            "ReplicaSet" => self.annotated_revision(carrier),
            "ControllerRevision" => self.body_revision(carrier),
            _ => None,
        };
        let pods: Vec<ObjectId> = pods_of
            .map(|owner| loaded.graph.controlled_by(owner))
            .unwrap_or_default()
            .into_iter()
            .filter(|&p| history.object(p).kind == "Pod" && self.window.shows(history, p))
            .collect();
        RevisionLane {
            revision,
            carrier: Some(ObjectRef::of(object)),
            life: Some(life_of(history, carrier)),
            marks: self.take(carrier),
            pods: self.pods(pods),
        }
    }

    fn pods(&mut self, mut pods: Vec<ObjectId>) -> Vec<ObjectLane> {
        let history = &self.loaded.history;
        pods.sort_by_key(|&p| (history.object(p).first().ts, history.object(p).name.clone()));
        pods.into_iter().map(|p| self.object_lane(p)).collect()
    }

    fn object_lane(&mut self, id: ObjectId) -> ObjectLane {
        let loaded = self.loaded;
        let history = &loaded.history;
        let spans = match history.object(id).kind.as_str() {
            "Pod" => pod_spans(history, id),
            _ => Vec::new(),
        };
        ObjectLane {
            object: ObjectRef::of(history.object(id)),
            life: life_of(history, id),
            spans,
            marks: self.take(id),
        }
    }

    /// The revision a pod was created as (read from its first record).
    fn revision_of_pod(&self, pod: ObjectId) -> Option<i64> {
        let history = &self.loaded.history;
        let first = history.object(pod).first();
        let body: serde_json::Value = history.parse(first).ok()?;
        pod_revision(history, first, &body, first.ts)
    }

    /// A ReplicaSet's revision at the end of the window.
    fn annotated_revision(&self, id: ObjectId) -> Option<i64> {
        let history = &self.loaded.history;
        let object = history.object(id);
        let version = object
            .version_at(self.window.until)
            .unwrap_or(object.first());
        revision_of(&history.parse(version).ok()?)
    }

    /// A ControllerRevision's `revision`.
    fn body_revision(&self, id: ObjectId) -> Option<i64> {
        let history = &self.loaded.history;
        let body: serde_json::Value = history.parse(history.object(id).last()).ok()?;
        body.get("revision")?.as_i64()
    }

    /// Lanes for every other object with marks: pods of no workload, ConfigMaps, Nodes, ….
    fn others(&mut self) -> Vec<ObjectLane> {
        let loaded = self.loaded;
        let history = &loaded.history;
        let mut keys: Vec<(ObjectRef, String)> = self
            .marks
            .iter()
            .map(|(key, (object, _))| (object.clone(), key.clone()))
            .collect();
        keys.sort_by(|(a, _), (b, _)| {
            (&a.kind, &a.namespace, &a.name, &a.uid).cmp(&(&b.kind, &b.namespace, &b.name, &b.uid))
        });
        let mut lanes = Vec::new();
        for (object, key) in keys {
            match history.by_uid(&object.uid) {
                Some(id) => lanes.push(self.object_lane(id)),
                None => {
                    let marks = self.marks.remove(&key).map(|(_, m)| m).unwrap_or_default();
                    let from = marks.first().map_or(self.window.since, |m| m.time);
                    lanes.push(ObjectLane {
                        object,
                        life: Life {
                            from,
                            to: None,
                            before: true,
                        },
                        spans: Vec::new(),
                        marks,
                    });
                }
            }
        }
        lanes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(status: serde_json::Value) -> PodStatusView {
        serde_json::from_value(serde_json::json!({ "status": status })).unwrap_or_default()
    }

    /// Between restarts a crash-looping container runs again, not ready: that is not a start.
    #[test]
    fn a_crash_looping_pod_running_again_is_not_ready_rather_than_starting() {
        let running = view(serde_json::json!({"phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"state": {"running": {}}}]}));
        assert_eq!(running.phase(false), PodPhase::Pending);
        assert_eq!(running.phase(true), PodPhase::NotReady);
        let waiting = view(serde_json::json!({"phase": "Running",
            "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}));
        assert_eq!(waiting.phase(true), PodPhase::Failing);
        let starting = view(serde_json::json!({"phase": "Pending",
            "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}));
        assert_eq!(starting.phase(false), PodPhase::Pending);
        let done = view(serde_json::json!({"phase": "Succeeded"}));
        assert_eq!(done.phase(true), PodPhase::Succeeded);
    }
}
