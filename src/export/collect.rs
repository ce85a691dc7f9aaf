//! The rows of every table from a loaded trace, each read from the query that answers the same
//! question for one object: nothing is judged twice, so a row says what `analyze` says.
//!
//! * `changes`: [`object_changes`] of every object no controller owns (and of every workload);
//! * `revisions`: each workload's [`WorkloadHistory`] revisions, with the outcome its
//!   `analyze --object` report gives and the first final verdict its controller recorded;
//! * `creations`, `deletions`, `pod_runs`: each pod's `analyze --pod` report, and its
//!   container statuses version by version for the runs;
//! * `events`: each Event's occurrences; `objects`: every object.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStatus, Pod};
use serde_json::Value;

use super::rows::{
    ChangeRow, Creation, Deletion, EventRow, ObjectRow, PodRunRow, PodTurnRow, RevisionRow,
};
use crate::graph::{Change, ChangeKind, Confidence, ObjectRef};
use crate::history::{Gone, History, ObjectId};
use crate::query::object::{analyze_object, ObjectReport};
use crate::query::pod::{analyze_pod, PodQuery, PodReport};
use crate::query::rollout::{controller_verdict, RolloutQuery};
use crate::query::select::ObjectQuery;
use crate::query::sets::{daemonset_verdict, statefulset_verdict};
use crate::query::Loaded;
use crate::workload::changes::object_changes;
use crate::workload::events::occurrences_of;
use crate::workload::kinds::daemonset::DAEMONSET;
use crate::workload::kinds::revisions::{workload_history, workload_of};
use crate::workload::kinds::statefulset::STATEFULSET;
use crate::workload::kinds::{KindRef, DEPLOYMENT};
use crate::workload::lineage::LineageEntry;
use crate::workload::pod::pod_at;

/// Every table's rows of one trace.
#[derive(Debug, Default)]
pub struct Tables {
    /// `changes`.
    pub changes: Vec<ChangeRow>,
    /// `revisions`.
    pub revisions: Vec<RevisionRow>,
    /// `pod_runs`.
    pub pod_runs: Vec<PodRunRow>,
    /// `creations`.
    pub creations: Vec<Creation>,
    /// `deletions`.
    pub deletions: Vec<Deletion>,
    /// `events`.
    pub events: Vec<EventRow>,
    /// `objects`.
    pub objects: Vec<ObjectRow>,
    /// Objects whose rows could not be made, with why.
    pub warnings: Vec<String>,
}

/// How the controller of each kind that numbers revisions judges one version of its object,
/// as `kubectl rollout status` does: `complete`, `failed` or not yet.
type Verdict = fn(&Value) -> (&'static str, String);

/// The kinds whose revisions the export lists with a verdict time.
static VERDICTS: &[(KindRef, Verdict)] = &[
    (DEPLOYMENT, controller_verdict),
    (STATEFULSET, statefulset_verdict),
    (DAEMONSET, daemonset_verdict),
];

/// Reads every table's rows from `loaded`; `trace` is the trace's SHA-256.
pub fn collect(loaded: &mut Loaded, trace: &str) -> Tables {
    let mut tables = Tables::default();
    let count = loaded.history.objects().len();
    for id in 0..count {
        tables.objects.push(object_row(&loaded.history, id, trace));
        let kind = loaded.history.object(id).kind.clone();
        match kind.as_str() {
            "Event" => tables.events.extend(event_rows(&loaded.history, id, trace)),
            "Pod" => pod_rows(loaded, id, trace, &mut tables),
            _ => {}
        }
        if has_own_changes(&loaded.history, id) {
            let changes = object_changes(&loaded.history, &mut loaded.graph, id);
            tables
                .changes
                .extend(changes.iter().flat_map(|c| change_rows(c, trace)));
        }
        if let Some(verdict) = verdict_of(&loaded.history, id) {
            revision_rows(loaded, id, trace, verdict, &mut tables);
        }
    }
    tables
}

/// Whether an object's changes are its own: anything but Events and objects a controller
/// owns (a Deployment's ReplicaSets, a ReplicaSet's pods, a CronJob's Jobs), whose changes are
/// their controller's work — except a workload that numbers revisions, whose spec an operator
/// above it writes (its changes are that operator's, attributed).
fn has_own_changes(history: &History, id: ObjectId) -> bool {
    let object = history.object(id);
    if object.kind == "Event" {
        return false;
    }
    let controlled = object.versions.iter().any(|v| v.controller_uid.is_some());
    !controlled || verdict_of(history, id).is_some()
}

/// The verdict of the object's kind when it is a workload that numbers revisions (its group
/// too: a `Deployment` of another API group is not one).
fn verdict_of(history: &History, id: ObjectId) -> Option<Verdict> {
    let kind = workload_of(history, id)?.kind();
    VERDICTS.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

/// The identity of a change: the UID and the line of the record that first shows it.
pub fn change_id(change: &Change) -> String {
    match change.evidence.record_line {
        Some(line) => format!("{}:{line}", change.object.uid),
        None => format!(
            "{}:before-trace:{}",
            change.object.uid,
            change.time.as_microsecond()
        ),
    }
}

fn change_kind(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Create => "create",
        ChangeKind::Template => "template",
        ChangeKind::Scale => "scale",
        ChangeKind::Spec => "spec",
        ChangeKind::Data => "data",
        ChangeKind::Metadata => "metadata",
    }
}

fn confidence(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// A change as rows: one per changed leaf, one without a path when it changed none.
fn change_rows(change: &Change, trace: &str) -> Vec<ChangeRow> {
    let row = |path: Option<String>, old: Option<String>, new: Option<String>| ChangeRow {
        trace: trace.to_string(),
        change_id: change_id(change),
        time: change.time,
        kind: change.object.kind.clone(),
        namespace: change.object.namespace.clone(),
        name: change.object.name.clone(),
        uid: change.object.uid.clone(),
        change_kind: change_kind(change.kind).to_string(),
        manager: change.manager.clone(),
        operation: change.operation.clone(),
        subresource: change.subresource.clone(),
        user: change.request.user.clone(),
        user_agent: change.request.user_agent.clone(),
        audit_id: change.request.audit_id.clone(),
        revision: change.revision,
        path,
        old_value: old,
        new_value: new,
        before_trace: change.before_trace,
        confidence: confidence(change.evidence.confidence).to_string(),
        attribution: change.evidence.attribution.clone(),
        record_line: change.evidence.record_line.map(|l| l as i64),
        resource_version: change.evidence.resource_version.clone(),
        generation: change.evidence.generation,
    };
    if change.fields.is_empty() {
        return vec![row(None, None, None)];
    }
    let json = |v: &Value| (!v.is_null()).then(|| v.to_string());
    change
        .fields
        .iter()
        .map(|f| row(Some(f.path.to_string()), json(&f.from), json(&f.to)))
        .collect()
}

/// A workload's revisions: its history's steps, the outcome its report gives, and the first
/// final verdict its controller recorded while each was the newest.
fn revision_rows(
    loaded: &mut Loaded,
    id: ObjectId,
    trace: &str,
    verdict: Verdict,
    tables: &mut Tables,
) {
    let Some(workload) = workload_history(&loaded.history, &mut loaded.graph, id) else {
        return;
    };
    let object = ObjectRef::of(loaded.history.object(id));
    let query = RolloutQuery {
        object: ObjectQuery::exact(loaded.history.object(id), None),
        at: None,
    };
    let judged: BTreeMap<i64, (&'static str, Option<Timestamp>, Option<String>)> =
        match analyze_object(loaded, &query) {
            Ok(ObjectReport::Rollout(r)) => r
                .revisions
                .into_iter()
                .map(|r| (r.number, (r.outcome, r.failing_since, r.reason)))
                .collect(),
            Ok(ObjectReport::Set(s)) => s
                .revisions
                .into_iter()
                .map(|r| (r.number, (r.outcome, r.failing_since, r.reason)))
                .collect(),
            Ok(_) => BTreeMap::new(),
            Err(err) => {
                tables.warnings.push(format!(
                    "{}/{} in {}: no revision outcomes: {err}",
                    object.kind, object.name, object.namespace
                ));
                BTreeMap::new()
            }
        };
    let history = &loaded.history;
    let created = |step: &crate::workload::kinds::RevisionStep| {
        step.change
            .as_ref()
            .map(|c| c.time)
            .or_else(|| step.carrier.and_then(|c| history.object(c).created))
    };
    let mut steps: Vec<_> = workload.revisions.iter().map(|s| (created(s), s)).collect();
    steps.sort_by_key(|(t, s)| (*t, s.number));
    let verdicts = verdicts(history, id, verdict);
    for (i, (made, step)) in steps.iter().enumerate() {
        let next = steps.get(i + 1).and_then(|(t, _)| *t);
        let first_final = made.and_then(|from| {
            verdicts
                .iter()
                .find(|(t, _)| *t >= from && next.is_none_or(|n| *t < n))
        });
        let (outcome, failing_since, reason) = judged
            .get(&step.number)
            .cloned()
            .unwrap_or(("unknown", None, None));
        let change = step.change.as_ref();
        tables.revisions.push(RevisionRow {
            trace: trace.to_string(),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid.clone(),
            revision: step.number,
            created: *made,
            change_id: change.map(change_id),
            change_manager: change.and_then(|c| c.manager.clone()),
            change_operation: change.and_then(|c| c.operation.clone()),
            change_user: change.and_then(|c| c.request.user.clone()),
            change_before_trace: change.map(|c| c.before_trace),
            outcome: outcome.to_string(),
            verdict: first_final.map(|(_, v)| v.to_string()),
            verdict_time: first_final.map(|(t, _)| *t),
            failing_since,
            reason,
            carrier_kind: workload.carrier_kind.to_string(),
            carrier: step.carrier.map(|c| history.object(c).name.clone()),
        });
    }
}

/// The versions of a workload whose controller verdict is final (`complete`, `failed`), with
/// their times, in order; a verdict counts when it differs from the version before it.
fn verdicts(history: &History, id: ObjectId, verdict: Verdict) -> Vec<(Timestamp, &'static str)> {
    let mut out = Vec::new();
    let mut previous = "";
    for version in &history.object(id).versions {
        let Ok(body) = history.parse::<Value>(version) else {
            continue;
        };
        let (now, _) = verdict(&body);
        if now != previous && matches!(now, "complete" | "failed") {
            out.push((version.ts, now));
        }
        previous = now;
    }
    out
}

/// A pod's creation, deletion and container runs, from its `analyze --pod` report.
fn pod_rows(loaded: &mut Loaded, id: ObjectId, trace: &str, tables: &mut Tables) {
    let object = ObjectRef::of(loaded.history.object(id));
    let query = PodQuery {
        name: object.name.clone(),
        namespace: Some(object.namespace.clone()),
        uid: Some(object.uid.clone()),
    };
    let report = match analyze_pod(loaded, &query) {
        Ok(report) => report,
        Err(err) => {
            tables.warnings.push(format!(
                "pod {}/{}: not exported: {err}",
                object.namespace, object.name
            ));
            return;
        }
    };
    let workload = report.lineage.iter().skip(1).last();
    let revision = report.revision.as_ref().and_then(|r| r.number);
    let turn = |time: Option<Timestamp>,
                time_exact: bool,
                reason: &str,
                change: Option<&Change>,
                other: Option<String>,
                evidence: &str| PodTurnRow {
        trace: trace.to_string(),
        namespace: object.namespace.clone(),
        pod: object.name.clone(),
        pod_uid: object.uid.clone(),
        workload_kind: workload.map(|w| w.kind.clone()),
        workload: workload.map(|w| w.name.clone()),
        revision,
        time,
        time_exact,
        reason: reason.to_string(),
        change_id: change.map(change_id),
        change_time: change.map(|c| c.time),
        change_kind: change.map(|c| change_kind(c.kind).to_string()),
        change_manager: change.and_then(|c| c.manager.clone()),
        change_user: change.and_then(|c| c.request.user.clone()),
        change_object_kind: change.map(|c| c.object.kind.clone()),
        change_object: change.map(|c| c.object.name.clone()),
        other_pod: other,
        evidence: evidence.to_string(),
    };
    let created = &report.created;
    let seen_created = loaded.history.object(id).first().event == crate::trace::EventType::Added;
    tables.creations.push(Creation(turn(
        created.time,
        seen_created,
        created.reason,
        created.change.as_ref(),
        created.replaced.as_ref().map(|p| p.name.clone()),
        &created.evidence,
    )));
    if let Some(deleted) = &report.deleted {
        tables.deletions.push(Deletion(turn(
            Some(deleted.time),
            deleted.time_exact,
            deleted.reason,
            deleted.change.as_ref(),
            deleted.replaced_by.as_ref().map(|p| p.name.clone()),
            &deleted.evidence,
        )));
    }
    tables.pod_runs.extend(runs(
        &loaded.history,
        id,
        trace,
        &report,
        workload,
        revision,
    ));
}

/// The container runs a pod's statuses show, version by version: `state` is the run of the
/// current `restartCount`, `lastState.terminated` the run before it.
fn runs(
    history: &History,
    id: ObjectId,
    trace: &str,
    report: &PodReport,
    workload: Option<&LineageEntry>,
    revision: Option<i64>,
) -> Vec<PodRunRow> {
    let object = history.object(id);
    let base = PodRunRow {
        trace: trace.to_string(),
        namespace: object.namespace.clone(),
        pod: object.name.clone(),
        pod_uid: object.uid.clone(),
        container: String::new(),
        init: false,
        workload_kind: workload.map(|w| w.kind.clone()),
        workload: workload.map(|w| w.name.clone()),
        workload_uid: workload.map(|w| w.uid.clone()),
        revision,
        started: None,
        ended: None,
        exit_code: None,
        reason: None,
        restart_reason: None,
        restart_number: 0,
        image: None,
        image_digest: None,
        node: None,
    };
    let mut found: BTreeMap<(bool, String, i64), PodRunRow> = BTreeMap::new();
    for version in &object.versions {
        let pod: Pod = pod_at(history, version);
        let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
        let status = pod.status.as_ref();
        let lists = [
            (
                true,
                status.and_then(|s| s.init_container_statuses.as_deref()),
            ),
            (false, status.and_then(|s| s.container_statuses.as_deref())),
        ];
        for (init, list) in lists {
            for s in list.unwrap_or(&[]) {
                let count = i64::from(s.restart_count);
                let template = |number: i64| PodRunRow {
                    container: s.name.clone(),
                    init,
                    restart_number: number,
                    ..base.clone()
                };
                let state = s.state.as_ref();
                let running = state.and_then(|st| st.running.as_ref());
                let terminated = state.and_then(|st| st.terminated.as_ref());
                if running.is_some() || terminated.is_some() {
                    let current = found
                        .entry((init, s.name.clone(), count))
                        .or_insert_with(|| template(count));
                    fill(current, s, node);
                    if let Some(r) = running {
                        current.started = current.started.or(r.started_at.as_ref().map(|t| t.0));
                    }
                    if let Some(t) = terminated {
                        end(current, t);
                    }
                }
                let last = s.last_state.as_ref().and_then(|l| l.terminated.as_ref());
                if let Some(t) = last.filter(|_| count > 0) {
                    let previous = found
                        .entry((init, s.name.clone(), count - 1))
                        .or_insert_with(|| template(count - 1));
                    fill(previous, s, node);
                    end(previous, t);
                }
            }
        }
    }
    // The restart classification `analyze --pod` gives each run that ended in a restart.
    for restart in &report.restarts {
        let run = found.values_mut().find(|r| {
            r.container == restart.container
                && r.ended.is_some()
                && r.ended == restart.finished_at
                && r.restart_reason.is_none()
        });
        if let Some(run) = run {
            run.restart_reason = Some(restart.reason.clone());
        }
    }
    found.into_values().collect()
}

/// What every status of a run says alike: its image, the digest that ran and the node.
fn fill(run: &mut PodRunRow, status: &ContainerStatus, node: Option<&str>) {
    if run.image.is_none() && !status.image.is_empty() {
        run.image = Some(status.image.clone());
    }
    if run.image_digest.is_none() {
        run.image_digest = digest_of(&status.image_id);
    }
    if run.node.is_none() {
        run.node = node.map(str::to_string);
    }
}

/// A run's end from a `terminated` state.
fn end(run: &mut PodRunRow, terminated: &ContainerStateTerminated) {
    run.started = run.started.or(terminated.started_at.as_ref().map(|t| t.0));
    run.ended = run.ended.or(terminated.finished_at.as_ref().map(|t| t.0));
    run.exit_code = run.exit_code.or(Some(i64::from(terminated.exit_code)));
    if run.reason.is_none() {
        run.reason = terminated.reason.clone();
    }
}

/// The digest of an `imageID` (`docker-pullable://repo@sha256:…`, `sha256:…`).
fn digest_of(image_id: &str) -> Option<String> {
    let digest = image_id.rsplit_once('@').map_or(image_id, |(_, d)| d);
    digest.starts_with("sha256:").then(|| digest.to_string())
}

/// An Event's occurrences, with the object it is about from its first record.
fn event_rows(history: &History, id: ObjectId, trace: &str) -> Vec<EventRow> {
    let object = history.object(id);
    let body: Value = history.parse(object.first()).unwrap_or(Value::Null);
    let about = body.get("involvedObject").or_else(|| body.get("regarding"));
    let text = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let source = text(body.get("source"), "component")
        .or_else(|| text(Some(&body), "reportingController"))
        .or_else(|| text(Some(&body), "reportingComponent"));
    occurrences_of(history, id)
        .into_iter()
        .map(|o| EventRow {
            trace: trace.to_string(),
            time: o.ts,
            namespace: object.namespace.clone(),
            event: o.event_name,
            event_type: o.event_type,
            reason: o.reason,
            message: o.message,
            count: o.count,
            object_kind: text(about, "kind"),
            object_name: text(about, "name"),
            object_uid: text(about, "uid").or_else(|| object.subject_uid.clone()),
            field_path: o.field_path,
            source: source.clone(),
            record_line: o.line as i64,
        })
        .collect()
}

/// An object's row: names, first and last record, how it went away, owner, labels.
fn object_row(history: &History, id: ObjectId, trace: &str) -> ObjectRow {
    let object = history.object(id);
    let last = object.last();
    let owner = last.controller_uid.as_deref();
    let owner_object = owner
        .and_then(|uid| history.by_uid(uid))
        .map(|o| history.object(o));
    let (deleted, exact) = match object.gone {
        Some(Gone::Deleted(t)) => (Some(t), Some(true)),
        Some(Gone::MissingAtRelist(t)) => (Some(t), Some(false)),
        None => (None, None),
    };
    let labels = history
        .parse::<Value>(last)
        .ok()
        .and_then(|b| b.pointer("/metadata/labels").cloned())
        .map(|l| l.to_string());
    ObjectRow {
        trace: trace.to_string(),
        uid: object.uid.clone(),
        kind: object.kind.clone(),
        api_version: object.api_version.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
        created: object.created,
        first_seen: object.first().ts,
        last_seen: last.ts,
        deleted,
        deleted_exact: exact,
        versions: object.versions.len() as i64,
        owner_kind: owner_object.map(|o| o.kind.clone()),
        owner_name: owner_object.map(|o| o.name.clone()),
        owner_uid: owner.map(str::to_string),
        labels,
    }
}
