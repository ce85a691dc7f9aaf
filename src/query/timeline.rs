//! `kblame timeline`: the trace (or one object and everything it owns) told as a chronological story.
//!
//! Entries come from the models the other queries use: Deployment changes with their managers,
//! ReplicaSet scale steps, Deployment conditions, pod lifecycle steps and restarts, Events folded
//! to one entry per Event object, watch gaps and re-lists, and the trace's start and end.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::select::{self, ObjectQuery};
use super::{with_trace_warnings, Loaded, QueryError};
use crate::cause::deps::dependencies;
use crate::graph::{CausalGraph, Change, ChangeKind, ObjectRef};
use crate::history::diff::FieldChange;
use crate::history::path::FieldPath;
use crate::history::{Gone, History, ObjectId, Version};
use crate::render::{day_of, when};
use crate::trace::EventType;
use crate::workload::changes::spec_changes;
use crate::workload::conditions::{parse_conditions, Condition};
use crate::workload::events::{occurrences_about, occurrences_of, Occurrence};
use crate::workload::kinds::revisions::workload_history;
use crate::workload::kinds::WorkloadHistory;
use crate::workload::pod::{disruption, pod_at, restart_history, state_of, statuses, Restart};
use crate::workload::replicaset::ReplicaSetTimeline;

/// What `timeline` is asked: the whole trace or one object's subtree, within an optional window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineQuery {
    /// The object whose story to tell (with everything it controls); the whole trace when `None`.
    pub object: Option<ObjectQuery>,
    /// Leave out entries that ended before this time.
    pub since: Option<Timestamp>,
    /// Leave out entries that began after this time.
    pub until: Option<Timestamp>,
    /// Without `object`: only objects in this namespace (trace-wide entries stay). Default is all.
    pub namespace: Option<String>,
}

/// The timeline: entries in time order, and what the trace cannot show.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineReport {
    /// The entries, sorted by time, then trace line.
    pub entries: Vec<Entry>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
}

/// One step of the story.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// When it happened (for a folded Event: its first occurrence in the trace).
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// For a folded Event repeated during the trace: its last occurrence.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub until: Option<Timestamp>,
    /// The object it is about (for an Event: the Event's subject); `None` for trace-wide entries.
    pub object: Option<ObjectRef>,
    /// What kind of step it is.
    pub kind: EntryKind,
    /// How notable it is, for highlighting.
    pub severity: Severity,
    /// One line saying what happened.
    pub summary: String,
    /// For a change: the fields it changed, values whole (text shows a few, shortened).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// The trace line of the record that shows it, when there is one.
    pub line: Option<u64>,
}

/// What kind of step an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A spec change (or creation) of a Deployment or another object whose generation moved.
    SpecChange,
    /// A ReplicaSet's `spec.replicas` changed.
    Scale,
    /// A Deployment condition changed.
    Condition,
    /// A pod was created.
    PodCreated,
    /// A pod was bound to a node.
    PodScheduled,
    /// A pod's container ran for the first time.
    PodStarted,
    /// A pod became ready.
    PodReady,
    /// A pod stopped being ready.
    PodNotReady,
    /// A container of a pod was restarted.
    PodRestarted,
    /// A pod's deletion began.
    PodDeleting,
    /// A pod went away.
    PodDeleted,
    /// A pod was evicted or preempted.
    PodEvicted,
    /// An object other than a pod went away.
    Deleted,
    /// An Event, with its repeats folded.
    Event,
    /// A watch broke.
    Gap,
    /// A re-list after a watch gap completed.
    Relist,
    /// Recording began.
    TraceStart,
    /// Recording ended, or the trace stops short.
    TraceEnd,
}

/// How notable an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Ordinary progress.
    Normal,
    /// Worth a look: a Warning Event, a condition gone False, a pod no longer ready.
    Warning,
    /// Something failed or is missing: restarts, evictions, a stuck rollout, gaps, a cut trace.
    Failure,
}

/// Tells the story of the trace, or of `query.object` and everything it controlled.
pub fn timeline(loaded: &mut Loaded, query: &TimelineQuery) -> Result<TimelineReport, QueryError> {
    let mut warnings = Vec::new();
    let scope = match &query.object {
        Some(object) => {
            let root = select::resolve(&loaded.history, object, &mut warnings)?;
            Scope::subtree(&loaded.history, &loaded.graph, root)
        }
        None => Scope::whole(&loaded.history),
    };
    let models: Vec<(ObjectId, WorkloadHistory)> = scope
        .subjects
        .iter()
        .filter_map(|&id| {
            Some((
                id,
                workload_history(&loaded.history, &mut loaded.graph, id)?,
            ))
        })
        .collect();
    let mut builder = Builder::new(&loaded.history, &loaded.graph);
    builder.warnings = warnings;
    builder.story(&scope, &models);
    builder.trace_edges(loaded, &scope);
    let Builder {
        mut entries,
        warnings,
        ..
    } = builder;
    let warnings = with_trace_warnings(warnings, loaded);
    entries.retain(|e| in_window(e, query) && in_namespace(e, query));
    entries.sort_by_key(|e| (e.time, rank(e.kind), e.line.unwrap_or(0)));
    Ok(TimelineReport { entries, warnings })
}

/// Whether an entry is about an object in the namespace asked for (or about no object).
fn in_namespace(entry: &Entry, query: &TimelineQuery) -> bool {
    match (&query.namespace, &entry.object) {
        (Some(namespace), Some(object)) if query.object.is_none() => object.namespace == *namespace,
        _ => true,
    }
}

/// Whether an entry overlaps the `--since`/`--until` window.
fn in_window(entry: &Entry, query: &TimelineQuery) -> bool {
    let end = entry.until.unwrap_or(entry.time);
    query.since.is_none_or(|since| end >= since)
        && query.until.is_none_or(|until| entry.time <= until)
}

/// Among entries at the same time, the trace start comes first and its end last.
fn rank(kind: EntryKind) -> u8 {
    match kind {
        EntryKind::TraceStart => 0,
        EntryKind::TraceEnd => 2,
        _ => 1,
    }
}

/// The objects a timeline covers.
struct Scope {
    /// Objects other than Events, in id order.
    subjects: Vec<ObjectId>,
    /// Event objects about them (every Event for the whole trace).
    events: Vec<ObjectId>,
}

impl Scope {
    fn whole(history: &History) -> Scope {
        let (events, subjects) =
            (0..history.objects().len()).partition(|&id| history.object(id).kind == "Event");
        Scope { subjects, events }
    }

    /// `root` and everything it controlled, transitively, with the Events about any of them.
    fn subtree(history: &History, graph: &CausalGraph, root: ObjectId) -> Scope {
        let mut subjects = BTreeSet::from([root]);
        let mut queue = vec![root];
        while let Some(id) = queue.pop() {
            for owned in graph.controlled_by(id) {
                if subjects.insert(owned) {
                    queue.push(owned);
                }
            }
        }
        // What the pods in view read (ConfigMaps, Secrets) and ran on (Nodes): their changes
        // may be why the pods failed or went away.
        let pods: Vec<ObjectId> = subjects
            .iter()
            .copied()
            .filter(|&id| history.object(id).kind == "Pod")
            .collect();
        for pod in pods {
            subjects.extend(dependencies_of(history, pod));
        }
        let subjects: Vec<ObjectId> = subjects
            .into_iter()
            .filter(|&id| history.object(id).kind != "Event")
            .collect();
        let events: BTreeSet<ObjectId> = subjects
            .iter()
            .flat_map(|&id| graph.events_about(id))
            .collect();
        Scope {
            subjects,
            events: events.into_iter().collect(),
        }
    }
}

/// The recorded ConfigMaps and Secrets a pod references and the Node it ran on. A pod's spec
/// (its references) is fixed at its first record, and it is bound to a node once
/// (`spec.nodeName` never changes after): the first and last records tell all, without reading
/// every version of a pod that crash-looped for hours.
fn dependencies_of(history: &History, pod: ObjectId) -> Vec<ObjectId> {
    let object = history.object(pod);
    let first = history
        .parse::<Value>(object.first())
        .map(|body| dependencies(&body))
        .unwrap_or_default();
    let mut found: Vec<ObjectId> = first
        .references
        .iter()
        .flat_map(|r| history.by_name(r.kind, Some(&object.namespace), &r.name))
        .collect();
    let node = first.node.or_else(|| {
        history
            .parse::<Value>(object.last())
            .ok()
            .and_then(|body| dependencies(&body).node)
    });
    if let Some(node) = node {
        found.extend(history.by_name("Node", None, &node));
    }
    found
}

/// Collects entries.
struct Builder<'a> {
    history: &'a History,
    graph: &'a CausalGraph,
    entries: Vec<Entry>,
    warnings: Vec<String>,
    /// Events in scope that happened only before the trace.
    earlier_events: usize,
}

impl<'a> Builder<'a> {
    fn new(history: &'a History, graph: &'a CausalGraph) -> Builder<'a> {
        Builder {
            history,
            graph,
            entries: Vec::new(),
            warnings: Vec::new(),
            earlier_events: 0,
        }
    }

    fn push(&mut self, at: &Version, object: ObjectId, kind: EntryKind, summary: String) {
        let severity = match kind {
            EntryKind::PodRestarted | EntryKind::PodEvicted => Severity::Failure,
            EntryKind::PodNotReady => Severity::Warning,
            _ => Severity::Normal,
        };
        self.entries.push(Entry {
            time: at.ts,
            until: None,
            object: Some(ObjectRef::of(self.history.object(object))),
            kind,
            severity,
            summary,
            fields: Vec::new(),
            line: Some(at.line),
        });
    }

    fn story(&mut self, scope: &Scope, models: &[(ObjectId, WorkloadHistory)]) {
        for (id, model) in models {
            self.workload(*id, model);
        }
        for &id in &scope.subjects {
            if models.iter().any(|(workload, _)| *workload == id) {
                // Told by its workload history above.
            } else {
                match self.history.object(id).kind.as_str() {
                    "ReplicaSet" => self.replicaset(id),
                    "Pod" => self.pod(id),
                    _ => self.generic(id),
                }
            }
            if self.history.object(id).kind != "Pod" {
                self.gone(id);
            }
        }
        for &event in &scope.events {
            self.event(event);
        }
    }
}

// Workloads that number revisions (Deployments, StatefulSets, DaemonSets): changes with the
// revisions they made, conditions.

impl Builder<'_> {
    fn workload(&mut self, id: ObjectId, model: &WorkloadHistory) {
        for change in &model.changes {
            self.change(change, id);
        }
        self.conditions(id);
        self.warnings.extend(model.notes.iter().cloned());
    }

    fn change(&mut self, change: &Change, id: ObjectId) {
        let (summary, fields) = change_summary(change);
        self.entries.push(Entry {
            time: change.time,
            until: None,
            object: Some(ObjectRef::of(self.history.object(id))),
            kind: EntryKind::SpecChange,
            severity: Severity::Normal,
            summary,
            fields,
            line: change.evidence.record_line,
        });
    }

    fn conditions(&mut self, id: ObjectId) {
        let object = self.history.object(id);
        let mut previous: Option<BTreeMap<String, Condition>> = None;
        for version in &object.versions {
            let current = conditions_of(self.history, version);
            if let Some(before) = &previous {
                for (kind, condition) in &current {
                    if before.get(kind).is_none_or(|b| differs(b, condition)) {
                        self.condition(version, id, condition);
                    }
                }
            }
            previous = Some(current);
        }
    }

    fn condition(&mut self, version: &Version, id: ObjectId, condition: &Condition) {
        self.push(version, id, EntryKind::Condition, summary(condition));
        if let Some(entry) = self.entries.last_mut() {
            entry.severity = severity(condition);
        }
    }
}

/// `revision 2 by kubectl-client-side-apply (Update)`, and the fields the change set.
fn change_summary(change: &Change) -> (String, Vec<FieldChange>) {
    let who = change_who(change);
    let revision = change.revision.map_or("?".to_string(), |n| n.to_string());
    let replicas = FieldPath::parse("spec.replicas").unwrap_or_default();
    let count = |v: &Value| v.is_number() || v.is_null();
    let number = |v: &Value| match v {
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    };
    let (what, fields): (String, Vec<FieldChange>) = match change.kind {
        ChangeKind::Create => (format!("created (revision {revision}) {who}"), Vec::new()),
        ChangeKind::Template => (format!("revision {revision} {who}"), change.fields.clone()),
        ChangeKind::Scale => match change
            .fields
            .iter()
            .find(|f| f.path == replicas && count(&f.from) && count(&f.to))
        {
            Some(f) => (
                format!("scaled {} → {} {who}", number(&f.from), number(&f.to)),
                change
                    .fields
                    .iter()
                    .filter(|f| f.path != replicas)
                    .cloned()
                    .collect(),
            ),
            None => (format!("scaled {who}"), change.fields.clone()),
        },
        ChangeKind::Spec => (format!("spec changed {who}"), change.fields.clone()),
        ChangeKind::Data => (format!("data changed {who}"), change.fields.clone()),
        ChangeKind::Metadata => (format!("metadata changed {who}"), change.fields.clone()),
    };
    let before = if change.before_trace {
        ", before the trace began"
    } else {
        ""
    };
    (format!("{what}{before}"), fields)
}

/// Who made a change: `by helm (Update)`, and the person when an audit log named them
/// (managedFields only name a manager).
fn change_who(change: &Change) -> String {
    let who = who(
        change.manager.as_deref(),
        change.operation.as_deref(),
        change.subresource.as_deref(),
    );
    match &change.request.user {
        Some(user) => format!("{who}, user {user}"),
        None => who,
    }
}

/// `by helm (Update, /scale)`.
fn who(manager: Option<&str>, operation: Option<&str>, subresource: Option<&str>) -> String {
    match (manager, operation, subresource) {
        (Some(m), Some(op), Some(sub)) => format!("by {m} ({op}, /{sub})"),
        (Some(m), Some(op), None) => format!("by {m} ({op})"),
        (Some(m), None, _) => format!("by {m}"),
        (None, ..) => "by an unknown manager".to_string(),
    }
}

/// Whether a condition moved: its status or reason changed.
fn differs(this: &Condition, other: &Condition) -> bool {
    this.status != other.status || this.reason != other.reason
}

/// `Progressing=False ProgressDeadlineExceeded: ReplicaSet "web-…" has timed out progressing.`
fn summary(this: &Condition) -> String {
    let reason = this
        .reason
        .as_deref()
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    let message = this
        .message
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| format!(": {}", one_line(m)))
        .unwrap_or_default();
    format!("{}={}{reason}{message}", this.kind, this.status)
}

/// How a condition change reads: a failure for a missed deadline, ReplicaFailure, a failed Job
/// or a stalled resource.
fn severity(this: &Condition) -> Severity {
    // A Deployment's missed deadline or ReplicaFailure, a Job's Failed (job_controller.go),
    // a custom resource's kstatus Stalled.
    let failed = this.reason.as_deref() == Some("ProgressDeadlineExceeded")
        || (matches!(this.kind.as_str(), "ReplicaFailure" | "Failed" | "Stalled")
            && this.status == "True");
    match (failed, this.status.as_str()) {
        (true, _) => Severity::Failure,
        (false, "False") => Severity::Warning,
        _ => Severity::Normal,
    }
}

/// The conditions of one version, by type.
fn conditions_of(history: &History, version: &Version) -> BTreeMap<String, Condition> {
    parse_conditions(history.body(version))
        .into_iter()
        .map(|c| (c.kind.clone(), c))
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ReplicaSets and other kinds.

impl Builder<'_> {
    fn replicaset(&mut self, id: ObjectId) {
        let timeline = ReplicaSetTimeline::read(self.history, id);
        let object = self.history.object(id);
        let existed = object.existed_before_first_record();
        let mut previous: Option<i64> = if existed { None } else { Some(0) };
        for (point, version) in timeline.points.iter().zip(&object.versions) {
            let Some(before) = previous.replace(point.replicas) else {
                continue;
            };
            if before == point.replicas {
                continue;
            }
            let new = match (version.line == object.first().line, point.revision) {
                (true, Some(n)) => format!(" (new ReplicaSet of revision {n})"),
                (true, None) => " (new ReplicaSet)".to_string(),
                (false, _) => String::new(),
            };
            let summary = format!("scaled {before} → {}{new}", point.replicas);
            self.push(version, id, EntryKind::Scale, summary);
        }
    }

    /// Creation and generation changes of kinds kblame has no model for, and the data changes
    /// of ConfigMaps and Secrets (which have no generation).
    fn generic(&mut self, id: ObjectId) {
        let object = self.history.object(id);
        if object.first().event == EventType::Added {
            // A ControllerRevision says which revision it holds.
            let revision = self
                .history
                .parse::<Value>(object.first())
                .ok()
                .and_then(|body| body.get("revision").and_then(Value::as_i64));
            let summary = match revision {
                Some(n) => format!("created (revision {n})"),
                None => "created".to_string(),
            };
            self.push(object.first(), id, EntryKind::SpecChange, summary);
        }
        // Conditions of any kind (a Job's Complete or Failed, a custom resource's Ready or
        // Stalled, a Node's Ready).
        self.conditions(id);
        for change in spec_changes(self.history, id) {
            let who = change_who(&change);
            let summary = match (change.kind, change.evidence.generation) {
                (ChangeKind::Data, _) => format!("data changed {who}"),
                (_, Some(generation)) => format!("generation {generation} {who}"),
                (_, None) => format!("spec changed {who}"),
            };
            let Some(version) = object
                .versions
                .iter()
                .find(|v| Some(v.line) == change.evidence.record_line)
            else {
                continue;
            };
            self.push(version, id, EntryKind::SpecChange, summary);
            if let Some(entry) = self.entries.last_mut() {
                entry.fields = change.fields;
            }
        }
    }

    /// The end of an object other than a pod.
    fn gone(&mut self, id: ObjectId) {
        let object = self.history.object(id);
        let summary = match &object.gone {
            Some(Gone::Deleted(_)) => "deleted".to_string(),
            Some(Gone::MissingAtRelist(_)) => {
                "deleted while its watch was down (missing from the re-list)".to_string()
            }
            None => return,
        };
        let at = self.gone_version(id);
        self.push(&at, id, EntryKind::Deleted, summary);
    }

    /// A version standing for the moment an object was found gone.
    fn gone_version(&self, id: ObjectId) -> Version {
        let object = self.history.object(id);
        let mut at = object.last().clone();
        if let Some(Gone::MissingAtRelist(ts)) = object.gone {
            at.ts = ts;
        }
        at
    }
}

// Pods.

/// What a pod version says about its lifecycle.
#[derive(Debug, Default, Clone)]
struct PodFacts {
    node: Option<String>,
    ready: bool,
    running: BTreeSet<String>,
    deleting: bool,
    grace: Option<i64>,
}

impl PodFacts {
    fn of(pod: &Pod) -> PodFacts {
        let running = statuses(pod)
            .filter(|cs| cs.state.as_ref().is_some_and(|s| s.running.is_some()))
            .map(|cs| cs.name.clone())
            .collect();
        PodFacts {
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            ready: state_of(pod).ready,
            running,
            deleting: pod.metadata.deletion_timestamp.is_some(),
            grace: pod.metadata.deletion_grace_period_seconds,
        }
    }
}

impl Builder<'_> {
    fn pod(&mut self, id: ObjectId) {
        let object = self.history.object(id);
        let created_here = object.first().event == EventType::Added;
        let mut previous: Option<PodFacts> = created_here.then(PodFacts::default);
        let mut started: BTreeSet<String> = BTreeSet::new();
        self.pod_created(id);
        for version in &object.versions {
            let current = PodFacts::of(&pod_at(self.history, version));
            let before = previous.take().unwrap_or_else(|| {
                started.extend(current.running.iter().cloned());
                current.clone()
            });
            self.pod_steps(id, version, &before, &current, &mut started);
            previous = Some(current);
        }
        let events = occurrences_about(self.history, self.graph, id);
        let restarts = restart_history(self.history, id, &events);
        for restart in &restarts.restarts {
            self.restart(id, restart);
        }
        self.warnings.extend(restarts.notes);
        self.disruption(id, &events);
        self.pod_gone(id);
    }

    fn pod_created(&mut self, id: ObjectId) {
        let object = self.history.object(id);
        let summary = if object.first().event == EventType::Added {
            "created".to_string()
        } else if self.history.first_seen_in_relist(id) {
            let when = object
                .created
                .map(|t| format!(" at {}", when(t, Some(day_of(object.first().ts)))))
                .unwrap_or_default();
            format!("created{when} while the pod watch was down (first seen in the re-list)")
        } else {
            return;
        };
        self.push(object.first(), id, EntryKind::PodCreated, summary);
    }

    fn pod_steps(
        &mut self,
        id: ObjectId,
        version: &Version,
        before: &PodFacts,
        current: &PodFacts,
        started: &mut BTreeSet<String>,
    ) {
        if let (None, Some(node)) = (&before.node, &current.node) {
            self.push(
                version,
                id,
                EntryKind::PodScheduled,
                format!("scheduled to {node}"),
            );
        }
        for container in &current.running {
            if started.insert(container.clone()) {
                let summary = format!("container {container} started");
                self.push(version, id, EntryKind::PodStarted, summary);
            }
        }
        match (before.ready, current.ready) {
            (false, true) => self.push(version, id, EntryKind::PodReady, "ready".to_string()),
            (true, false) => {
                let summary = not_ready(&pod_at(self.history, version));
                self.push(version, id, EntryKind::PodNotReady, summary);
            }
            _ => {}
        }
        if current.deleting && !before.deleting {
            let grace = current
                .grace
                .map(|g| format!(" (grace {g} s)"))
                .unwrap_or_default();
            let summary = format!("deletion started{grace}");
            self.push(version, id, EntryKind::PodDeleting, summary);
        }
    }

    fn restart(&mut self, id: ObjectId, restart: &Restart) {
        let how = match (restart.reason.as_str(), restart.exit_code) {
            ("LivenessProbe", _) => "killed by its liveness probe".to_string(),
            ("StartupProbe", _) => "killed by its startup probe".to_string(),
            (reason, Some(code)) => format!("exited {code} ({reason})"),
            (reason, None) => format!("stopped ({reason})"),
        };
        let entry = Entry {
            time: restart.time,
            until: None,
            object: Some(ObjectRef::of(self.history.object(id))),
            kind: EntryKind::PodRestarted,
            severity: Severity::Failure,
            summary: format!("container {} restarted: {how}", restart.container),
            fields: Vec::new(),
            line: Some(restart.line),
        };
        self.entries.push(entry);
    }

    fn disruption(&mut self, id: ObjectId, events: &[Occurrence]) {
        let Some(found) = disruption(self.history, id, events) else {
            return;
        };
        let object = self.history.object(id);
        let shown = object
            .versions
            .iter()
            .find_map(|v| disruption_message(&pod_at(self.history, v)).map(|m| (v.clone(), m)));
        let event = events
            .iter()
            .find(|e| matches!(e.reason.as_str(), "Evicted" | "Preempted" | "Preempting"));
        let (at, message) = match (shown, event) {
            (Some(shown), _) => shown,
            (None, Some(e)) => {
                let mut at = object.first().clone();
                (at.ts, at.line) = (e.ts, e.line);
                (at, e.message.clone())
            }
            (None, None) => return,
        };
        let summary = format!("{}: {}", found.reason, one_line(&message));
        self.push(&at, id, EntryKind::PodEvicted, summary);
    }

    fn pod_gone(&mut self, id: ObjectId) {
        let object = self.history.object(id);
        let summary = match &object.gone {
            Some(Gone::Deleted(_)) => "deleted".to_string(),
            Some(Gone::MissingAtRelist(_)) => {
                "deleted while the pod watch was down (missing from the re-list)".to_string()
            }
            None => return,
        };
        let at = self.gone_version(id);
        self.push(&at, id, EntryKind::PodDeleted, summary);
    }
}

/// `not ready (container web waiting: CrashLoopBackOff)`.
fn not_ready(pod: &Pod) -> String {
    let state = state_of(pod);
    let waiting: Vec<String> = state
        .containers
        .iter()
        .filter(|(_, what)| what.as_str() != "running")
        .map(|(name, what)| format!("container {name} {what}"))
        .collect();
    if waiting.is_empty() {
        "not ready".to_string()
    } else {
        format!("not ready ({})", waiting.join(", "))
    }
}

/// The message of a status that shows an eviction or a preemption.
fn disruption_message(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    if status.reason.as_deref() == Some("Evicted") {
        return Some(status.message.clone().unwrap_or_default());
    }
    status
        .conditions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|c| c.type_ == "DisruptionTarget" && c.status == "True")
        .map(|c| c.message.clone().unwrap_or_default())
}

// Events.

/// The parts of an Event the timeline reads beyond its occurrences.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct EventHead {
    involved_object: Option<SubjectView>,
    regarding: Option<SubjectView>,
    first_timestamp: Option<String>,
    event_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SubjectView {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    uid: Option<String>,
}

impl Builder<'_> {
    /// One entry per Event object: its first occurrence in the trace, its last, and its count.
    fn event(&mut self, id: ObjectId) {
        let all = occurrences_of(self.history, id);
        let skip = usize::from(self.history.existed_at_start(id));
        let (Some(first), Some(last)) = (all.get(skip), all.last()) else {
            self.earlier_events += 1;
            return;
        };
        let head: EventHead = self
            .history
            .parse(self.history.object(id).first())
            .unwrap_or_default();
        let count = if last.count > 1 {
            format!(" ×{}", last.count)
        } else {
            String::new()
        };
        let earlier = match (skip, head.started()) {
            (1, Some(t)) => format!(
                " (first at {}, before the trace)",
                when(t, Some(day_of(first.ts)))
            ),
            (1, None) => " (first before the trace)".to_string(),
            _ => String::new(),
        };
        let kind = if last.event_type.is_empty() {
            "Normal"
        } else {
            &last.event_type
        };
        self.entries.push(Entry {
            time: first.ts,
            until: (last.ts != first.ts).then_some(last.ts),
            object: self.subject(id, &head),
            kind: EntryKind::Event,
            severity: if kind == "Warning" {
                Severity::Warning
            } else {
                Severity::Normal
            },
            summary: format!(
                "{kind} {}{count}: {}{earlier}",
                last.reason,
                one_line(&last.message)
            ),
            fields: Vec::new(),
            line: Some(first.line),
        });
    }

    /// The object an Event is about: recorded, or as the Event names it.
    fn subject(&self, id: ObjectId, head: &EventHead) -> Option<ObjectRef> {
        let recorded = self
            .history
            .object(id)
            .subject_uid
            .as_deref()
            .and_then(|uid| self.history.by_uid(uid));
        if let Some(subject) = recorded {
            return Some(ObjectRef::of(self.history.object(subject)));
        }
        let named = head.involved_object.as_ref().or(head.regarding.as_ref())?;
        Some(ObjectRef {
            kind: named.kind.clone().unwrap_or_default(),
            namespace: named.namespace.clone().unwrap_or_default(),
            name: named.name.clone().unwrap_or_default(),
            uid: named.uid.clone().unwrap_or_default(),
        })
    }
}

impl EventHead {
    fn started(&self) -> Option<Timestamp> {
        let text = self
            .first_timestamp
            .as_deref()
            .or(self.event_time.as_deref())?;
        text.parse().ok()
    }
}

// The trace itself: start, gaps, re-lists, end.

impl Builder<'_> {
    fn trace_edges(&mut self, loaded: &Loaded, scope: &Scope) {
        let facts = &self.history.facts;
        if let Some(start) = facts.start {
            let summary = self.start_summary(scope);
            self.trace_entry(start, EntryKind::TraceStart, Severity::Normal, summary);
        }
        for gap in &facts.gaps {
            let until = match gap.closed {
                Some(_) => "events may be missing until the re-list",
                None => "never re-listed: nothing of it is known after this",
            };
            let summary = format!("watch gap for {}: {} ({until})", gap.resource, gap.reason);
            self.trace_entry(gap.ts, EntryKind::Gap, Severity::Failure, summary);
        }
        let relists = RelistCounts::of(self.history);
        for sync in facts.syncs.iter().filter(|s| s.relist) {
            let summary = relists.summary(sync.ts, &sync.resource);
            self.trace_entry(sync.ts, EntryKind::Relist, Severity::Warning, summary);
        }
        if let Some(end) = facts.end {
            let (severity, summary) = end_summary(loaded);
            self.trace_entry(end, EntryKind::TraceEnd, severity, summary);
        }
    }

    fn trace_entry(
        &mut self,
        time: Timestamp,
        kind: EntryKind,
        severity: Severity,
        summary: String,
    ) {
        self.entries.push(Entry {
            time,
            until: None,
            object: None,
            kind,
            severity,
            summary,
            fields: Vec::new(),
            line: None,
        });
    }

    /// `trace start: recording began (kblame-sim 0.1.0, watch); 1 deployment, 3 pods already existed`.
    fn start_summary(&self, scope: &Scope) -> String {
        // Kinds in the order the trace first lists them (deployments, replicasets, pods, …).
        let mut existing: Vec<(String, usize)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for &id in scope
            .subjects
            .iter()
            .filter(|&&id| self.history.existed_at_start(id))
        {
            let kind = self.history.object(id).kind.to_lowercase();
            match position.get(&kind) {
                Some(&at) => existing[at].1 += 1,
                None => {
                    position.insert(kind.clone(), existing.len());
                    existing.push((kind, 1));
                }
            }
        }
        let source = self
            .history
            .facts
            .header
            .as_ref()
            .map(|h| {
                let tool = h.source.tool.as_deref().unwrap_or("an unknown tool");
                format!(" ({tool}, {})", h.source.kind)
            })
            .unwrap_or_default();
        let mut text = format!("trace start: recording began{source}");
        if !existing.is_empty() {
            let listed: Vec<String> = existing
                .iter()
                .map(|(kind, n)| format!("{n} {kind}{}", if *n == 1 { "" } else { "s" }))
                .collect();
            text.push_str(&format!("; {} already existed", listed.join(", ")));
        }
        if self.earlier_events > 0 {
            text.push_str(&format!(
                "; {} Event(s) from before the trace not shown",
                self.earlier_events
            ));
        }
        text
    }
}

/// What each re-list found, counted once for all of them: a damaged trace can hold thousands of
/// re-lists of thousands of objects.
struct RelistCounts {
    /// Objects missing from the re-list at each time.
    missing: HashMap<Timestamp, usize>,
    /// Objects first seen in the re-list at each time (the first re-list at or after their first
    /// record).
    new: HashMap<Timestamp, usize>,
}

impl RelistCounts {
    fn of(history: &History) -> RelistCounts {
        let mut missing: HashMap<Timestamp, usize> = HashMap::new();
        for object in history.objects() {
            if let Some(Gone::MissingAtRelist(at)) = object.gone {
                *missing.entry(at).or_insert(0) += 1;
            }
        }
        let mut relists: Vec<Timestamp> = history
            .facts
            .syncs
            .iter()
            .filter(|s| s.relist)
            .map(|s| s.ts)
            .collect();
        relists.sort_unstable();
        let mut new: HashMap<Timestamp, usize> = HashMap::new();
        for id in (0..history.objects().len()).filter(|&id| history.first_seen_in_relist(id)) {
            let first = history.object(id).first().ts;
            if let Some(&at) = relists.get(relists.partition_point(|&t| t < first)) {
                *new.entry(at).or_insert(0) += 1;
            }
        }
        RelistCounts { missing, new }
    }

    /// `re-list of v1/pods: 1 object missing (deleted while the watch was down), 1 first seen`.
    fn summary(&self, at: Timestamp, resource: &str) -> String {
        let missing = self.missing.get(&at).copied().unwrap_or(0);
        let new = self.new.get(&at).copied().unwrap_or(0);
        format!(
            "re-list of {resource}: {missing} object(s) missing (deleted while the watch was down), {new} first seen"
        )
    }
}

fn end_summary(loaded: &Loaded) -> (Severity, String) {
    let facts = &loaded.history.facts;
    match (&loaded.read.cut_short, facts.ended) {
        (Some(why), _) => (Severity::Failure, format!("trace cut short: {why}")),
        (None, false) => (
            Severity::Failure,
            "trace cut short: no END record, so anything later is unknown".to_string(),
        ),
        (None, true) => (
            Severity::Normal,
            "trace end: recording stopped cleanly (END)".to_string(),
        ),
    }
}
