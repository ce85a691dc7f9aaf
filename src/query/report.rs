//! `kblame report`: every workload that changed or had unhealthy pods in a window, judged by
//! its own `analyze --object` report, with the change blamed, its failing pods grouped, what
//! still serves and the root causes the pod questions give (issue 14).
//!
//! Nothing is judged twice: each workload's verdict, failing revision, blamed change and
//! evidence are read from [`analyze_object`]; this module only picks the workloads, reads each
//! failing pod's last termination and waiting reason, and groups them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::batch::last_termination;
use super::custom::is_custom_group;
use super::object::{analyze_object, ObjectReport};
use super::pod::{analyze_pod, PodQuery};
use super::rollout::{event_evidence, pod_status_evidence, Evidence, RolloutQuery, FAILING_WAITS};
use super::select::ObjectQuery;
use super::{check, trace_warnings, Loaded, QueryError};
use crate::cause::Cause;
use crate::graph::{Change, ObjectRef};
use crate::history::{ObjectHistory, ObjectId};
use crate::workload::events::{occurrences_about, Occurrence};
use crate::workload::lineage::group_of;
use crate::workload::pod::{pod_at, state_of, total_restarts};

/// What to report on.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    /// Only workloads in this namespace. Default is every namespace.
    pub namespace: Option<String>,
    /// The window's start: changes and failures before it do not list a workload. Default is
    /// the trace's start.
    pub since: Option<Timestamp>,
    /// The moment judged (the window's end). Default is the trace's end.
    pub until: Option<Timestamp>,
}

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The trace has no header and no readable record.
    #[error("{trace} is unreadable: no header and no readable record")]
    Unreadable {
        /// The trace's name.
        trace: String,
    },
    /// `--since` is after `--until`.
    #[error("the window is empty: --since {since} is after --until {until}")]
    Window {
        /// The window's start asked.
        since: Timestamp,
        /// The window's end asked.
        until: Timestamp,
    },
    /// A question the trace cannot answer (a bad time, an empty trace).
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// What the trace covers and whether it is whole (as `kblame check` says).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// The trace's name.
    pub name: String,
    /// First record time.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub start: Option<Timestamp>,
    /// Last record time.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub end: Option<Timestamp>,
    /// END present, nothing cut off, no unreadable line, no watch gap left open.
    pub whole: bool,
    /// Whether the END record is present.
    pub ended: bool,
    /// GAP records.
    pub gaps: usize,
    /// Re-lists after a gap.
    pub relists: usize,
    /// What the trace as a whole cannot show, in words; a partial trace's first.
    pub warnings: Vec<String>,
}

/// A failing pod of a workload at the moment judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailingPod {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The workload revision it runs, when the workload numbers them.
    pub revision: Option<i64>,
    /// `status.phase`.
    pub phase: String,
    /// Container restarts (all containers).
    pub restarts: i64,
    /// Exit code of its last terminated container, a failing one first.
    pub last_exit_code: Option<i64>,
    /// That container's reason (`Error`, `OOMKilled`).
    pub last_reason: Option<String>,
    /// A container's current wait (`CrashLoopBackOff`, `ImagePullBackOff`), if any.
    pub waiting_reason: Option<String>,
    /// Probes that failed in the window, per container and probe, from the kubelet's
    /// `Unhealthy` Events.
    pub probe_failures: Vec<ProbeFailures>,
    /// Why it is not scheduled, when it is not.
    pub scheduling: Option<SchedulingFailure>,
}

/// One probe of one container that failed in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeFailures {
    /// `liveness`, `readiness` or `startup`.
    pub probe: String,
    /// The container, from the Event's `involvedObject.fieldPath`.
    pub container: Option<String>,
    /// Failures in the window (the Events' count growth).
    pub count: i64,
    /// The first failure seen in the window.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub first: Timestamp,
    /// The last failure seen in the window.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub last: Timestamp,
    /// The last failure's message (`Liveness probe failed: HTTP probe failed with statuscode: 500`).
    pub message: String,
    /// The trace line of the last failure's record.
    pub line: u64,
}

/// A pod the scheduler could not place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchedulingFailure {
    /// The `PodScheduled` condition's reason (`Unschedulable`, `SchedulingGated`).
    pub reason: String,
    /// The condition's message, else the last `FailedScheduling` Event's.
    pub message: String,
    /// When the condition last turned False.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub since: Option<Timestamp>,
    /// `FailedScheduling` Events about the pod up to the moment judged (their count).
    pub attempts: i64,
    /// The trace line of the pod record judged.
    pub line: u64,
}

/// Failing pods that share a revision and a reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodGroup {
    /// Their revision.
    pub revision: Option<i64>,
    /// The waiting reason, else the scheduling reason (`Unschedulable`), else the phase
    /// (`Failed`), else `ProbeFailing` when a probe failed, else `NotReady`.
    pub reason: String,
    /// The last exit code they share, when they share one.
    pub last_exit_code: Option<i64>,
    /// The last termination reason they share.
    pub last_reason: Option<String>,
    /// Their restarts, summed.
    pub restarts: i64,
    /// Their failed probes, per container and probe, counts summed.
    pub probe_failures: Vec<ProbeFailures>,
    /// The scheduler's message, when they share one.
    pub scheduling_message: Option<String>,
    /// Their names.
    pub pods: Vec<String>,
}

/// One workload listed in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadReport {
    /// The workload.
    pub object: ObjectRef,
    /// Its own report's verdict at the moment judged (`complete`, `failed`, `progressing`,
    /// `current`, …); a CronJob's is its last run's.
    pub verdict: &'static str,
    /// `failed` (its verdict is failed), `failing` (failing pods or a failing revision) or `ok`.
    pub status: &'static str,
    /// Why it failed or is failing, in words.
    pub reason: Option<String>,
    /// When the evidence first showed failure.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub failing_since: Option<Timestamp>,
    /// The change blamed for the failure (the failing revision's, the jobTemplate change, the
    /// spec change).
    pub blamed_change: Option<Change>,
    /// The records behind the failure.
    pub evidence: Vec<Evidence>,
    /// Root causes behind the failing pods' failures, as `analyze --pod` gives them for the
    /// first pod of each group, each cause once.
    pub root_causes: Vec<Cause>,
    /// Failing pods at the moment judged.
    pub failing_pods: Vec<FailingPod>,
    /// The same pods, grouped by revision and reason.
    pub pod_groups: Vec<PodGroup>,
    /// Revisions with ready pods at the moment judged.
    pub serving_revisions: Vec<i64>,
    /// Its recorded changes inside the window, oldest first.
    pub changes: Vec<Change>,
}

/// The answer to `kblame report`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What the trace covers.
    pub trace: Coverage,
    /// The window's start.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub since: Timestamp,
    /// The moment judged.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub until: Timestamp,
    /// The namespace asked, or null for all.
    pub namespace: Option<String>,
    /// `failed` when a workload failed, else `failing` when one is failing, else `ok`.
    pub verdict: &'static str,
    /// Workloads that changed or were unhealthy in the window: failed first, then failing,
    /// then by namespace, kind and name.
    pub workloads: Vec<WorkloadReport>,
    /// Workloads healthy at the end and unchanged in the window, counted, not listed.
    pub healthy_unchanged: usize,
    /// Those workloads, by namespace, kind and name. Not in the JSON, which counts them; JUnit
    /// gives each its passing testcase.
    #[serde(skip)]
    pub healthy_unchanged_objects: Vec<ObjectRef>,
    /// Workloads that could not be judged, with why.
    pub warnings: Vec<String>,
}

impl Report {
    /// Workloads whose status is `status`.
    pub fn count(&self, status: &str) -> usize {
        self.workloads.iter().filter(|w| w.status == status).count()
    }
}

/// Builds the report of a loaded trace.
pub fn report(loaded: &mut Loaded, query: &ReportQuery) -> Result<Report, ReportError> {
    let facts = &loaded.history.facts;
    if loaded.read.header.is_none() && readable_records(loaded) == 0 {
        return Err(ReportError::Unreadable {
            trace: loaded.source.clone(),
        });
    }
    let until = query.until.or(facts.end).ok_or(QueryError::EmptyTrace)?;
    let since = query.since.or(facts.start).unwrap_or(until);
    if since > until {
        return Err(ReportError::Window { since, until });
    }
    let mut workloads = Vec::new();
    let mut healthy = Vec::new();
    let mut warnings = Vec::new();
    if let Some(namespace) = query.namespace.as_deref() {
        warnings.extend(unknown_namespace(loaded, namespace));
    }
    for id in candidates(loaded, query.namespace.as_deref(), until) {
        let judged = match loaded.history.object(id).kind.as_str() {
            "Pod" => Ok(judge_pod(loaded, id, since, until)),
            _ => judge(loaded, id, since, until),
        };
        match judged {
            Ok(w) if w.status != "ok" || !w.changes.is_empty() || in_window(&w, since) => {
                workloads.push(w)
            }
            Ok(w) => healthy.push(w.object),
            Err(err) => warnings.push(format!(
                "{} not judged: {err}",
                loaded.history.object(id).display_name()
            )),
        }
    }
    for w in workloads.iter_mut().filter(|w| w.status != "ok") {
        w.root_causes = root_causes(loaded, w);
        // No change of the workload to blame (its revision predates the trace, or it was
        // only created): the pod question's first cause with a change is the blame.
        if w.blamed_change.is_none() {
            w.blamed_change = w.root_causes.iter().find_map(|c| c.change.clone());
        }
    }
    workloads.sort_by_key(|w| {
        let rank = ["failed", "failing", "ok"]
            .iter()
            .position(|s| *s == w.status);
        let o = &w.object;
        (rank, o.namespace.clone(), o.kind.clone(), o.name.clone())
    });
    healthy.sort_by(|a, b| (&a.namespace, &a.kind, &a.name).cmp(&(&b.namespace, &b.kind, &b.name)));
    let verdict = ["failed", "failing"]
        .into_iter()
        .find(|s| workloads.iter().any(|w| w.status == *s))
        .unwrap_or("ok");
    Ok(Report {
        trace: coverage(loaded),
        since,
        until,
        namespace: query.namespace.clone(),
        verdict,
        workloads,
        healthy_unchanged: healthy.len(),
        healthy_unchanged_objects: healthy,
        warnings,
    })
}

/// A warning when nothing of `namespace` is in the trace (a typo reports "ok" otherwise).
/// Only that namespace is loaded, so the warning cannot list the others.
fn unknown_namespace(loaded: &Loaded, namespace: &str) -> Option<String> {
    let present = loaded
        .history
        .objects()
        .iter()
        .any(|o| o.namespace == namespace);
    (!present).then(|| {
        format!(
            "namespace {namespace}: nothing of it is in the trace (without -n, the report covers every namespace)"
        )
    })
}

/// Records of a known type, less object records without usable metadata.
fn readable_records(loaded: &Loaded) -> u64 {
    let facts = &loaded.history.facts;
    let all: u64 = facts.records_by_type.values().sum();
    let unknown: u64 = loaded.read.unknown_types.values().sum();
    all.saturating_sub(unknown)
        .saturating_sub(facts.skipped_objects)
}

/// Whether some failure evidence falls inside the window.
fn in_window(w: &WorkloadReport, since: Timestamp) -> bool {
    w.evidence.iter().any(|e| e.time >= since)
}

fn coverage(loaded: &Loaded) -> Coverage {
    let checked = check::check(loaded);
    let mut warnings = trace_warnings(loaded);
    // The partial trace's reason first: a reader must know it before any verdict.
    warnings.sort_by_key(|w| !(w.contains("cut short") || w.contains("watch gap")));
    Coverage {
        name: checked.trace,
        start: checked.start,
        end: checked.end,
        whole: checked.whole,
        ended: checked.ended,
        gaps: checked.gaps.len(),
        relists: checked.relists.len(),
        warnings,
    }
}

/// The workloads to judge: Deployments, StatefulSets, DaemonSets, CronJobs, Jobs no CronJob
/// owns, custom resources, and pods none of those controls (a bare pod, an e2e test pod, a
/// pod of a bare ReplicaSet or of an owner the trace did not record); in the namespace asked,
/// existing at `until`.
fn candidates(loaded: &Loaded, namespace: Option<&str>, until: Timestamp) -> Vec<ObjectId> {
    let history = &loaded.history;
    (0..history.objects().len())
        .filter(|&id| {
            let o = history.object(id);
            namespace.is_none_or(|ns| o.namespace == ns)
                && is_judged(loaded, o)
                && o.first().ts <= until
                && o.deletion_started().is_none_or(|t| t > until)
        })
        .collect()
}

/// Whether the report judges `object` as a workload: a workload kind, or a pod no workload
/// controls.
pub(crate) fn is_judged(loaded: &Loaded, object: &ObjectHistory) -> bool {
    is_workload(loaded, object) || (object.kind == "Pod" && !governed(loaded, object))
}

/// Whether a judged workload controls `object`, directly or through its controllers.
fn governed(loaded: &Loaded, object: &ObjectHistory) -> bool {
    let history = &loaded.history;
    let mut current = object;
    // Owner chains are short (pod → ReplicaSet → Deployment → custom resource); the bound
    // only guards against a cycle in a hostile trace.
    for _ in 0..8 {
        let Some(owner) = current
            .last()
            .controller_uid
            .as_deref()
            .and_then(|uid| history.by_uid(uid))
        else {
            return false;
        };
        current = history.object(owner);
        if is_workload(loaded, current) {
            return true;
        }
    }
    false
}

/// Whether the report judges an object of this kind (a CronJob's Jobs are judged through it).
pub(crate) fn is_workload(loaded: &Loaded, object: &ObjectHistory) -> bool {
    match object.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob" => true,
        "Job" => !owned_by_cronjob(loaded, object),
        _ => is_custom_group(group_of(&object.api_version)),
    }
}

fn owned_by_cronjob(loaded: &Loaded, job: &ObjectHistory) -> bool {
    let history = &loaded.history;
    job.last()
        .controller_uid
        .as_deref()
        .and_then(|uid| history.by_uid(uid))
        .is_some_and(|owner| history.object(owner).kind == "CronJob")
}

/// What a workload's own report says, before its pods are read.
struct Judged {
    verdict: &'static str,
    failing_revision: bool,
    reason: Option<String>,
    failing_since: Option<Timestamp>,
    blamed_change: Option<Change>,
    evidence: Vec<Evidence>,
    pods: Vec<(String, Option<i64>)>,
    serving_revisions: Vec<i64>,
    changes: Vec<Change>,
}

/// Judges one workload at `until` by its `analyze --object` report.
fn judge(
    loaded: &mut Loaded,
    id: ObjectId,
    since: Timestamp,
    until: Timestamp,
) -> Result<WorkloadReport, QueryError> {
    let object = loaded.history.object(id);
    let custom = is_custom_group(group_of(&object.api_version));
    let query = RolloutQuery {
        object: ObjectQuery::exact(
            object,
            custom.then(|| group_of(&object.api_version).to_string()),
        ),
        at: Some(until),
    };
    let object = ObjectRef::of(object);
    let judged = match analyze_object(loaded, &query)? {
        ObjectReport::Rollout(r) => from_rollout(r),
        ObjectReport::Set(s) => from_set(*s),
        ObjectReport::Job(j) => from_job(j),
        ObjectReport::CronJob(c) => from_cronjob(loaded, *c),
        ObjectReport::Custom(c) => from_custom(*c),
    };
    let failing_pods: Vec<FailingPod> = judged
        .pods
        .iter()
        .filter_map(|(uid, revision)| failing_pod(loaded, uid, *revision, since, until))
        .collect();
    let status = match (judged.verdict, judged.failing_revision, failing_pods.len()) {
        ("failed", _, _) => "failed",
        (_, true, _) => "failing",
        (_, _, n) if n > 0 => "failing",
        _ => "ok",
    };
    let groups = group(&failing_pods);
    let changes = judged
        .changes
        .into_iter()
        .filter(|c| !c.before_trace && c.time >= since && c.time <= until)
        .collect();
    Ok(WorkloadReport {
        object,
        verdict: judged.verdict,
        status,
        // A failing (not failed) workload's own reason lists every piece of evidence; its
        // failing pods, grouped, say the same in a line.
        reason: match status {
            "ok" => None,
            "failing" if !groups.is_empty() => Some(groups_reason(&groups)),
            _ => judged.reason,
        },
        failing_since: judged.failing_since.filter(|_| status != "ok"),
        // A creation is no blame: nothing changed that an earlier template ran without.
        blamed_change: judged
            .blamed_change
            .filter(|c| status != "ok" && !c.fields.is_empty()),
        evidence: judged.evidence,
        root_causes: Vec::new(),
        pod_groups: groups,
        failing_pods,
        serving_revisions: judged.serving_revisions,
        changes,
    })
}

/// Judges a pod no workload controls as its own workload: `failed` when its phase is Failed
/// (it will not run again), `failing` when [`failing_pod`] says so, else `ok`; its blame is
/// the root cause its pod question finds.
fn judge_pod(loaded: &Loaded, id: ObjectId, since: Timestamp, until: Timestamp) -> WorkloadReport {
    let history = &loaded.history;
    let object = history.object(id);
    let failing = failing_pod(loaded, &object.uid, None, since, until);
    let phase = object
        .version_at(until)
        .map(|v| state_of(&pod_at(history, v)).phase)
        .unwrap_or_else(|| "Unknown".to_string());
    let status = match (&failing, phase.as_str()) {
        (_, "Failed") => "failed",
        (Some(_), _) => "failing",
        _ => "ok",
    };
    let evidence = match status {
        "ok" => Vec::new(),
        _ => {
            let events = occurrences_about(history, &loaded.graph, id);
            let mut evidence = pod_status_evidence(history, id, until, &events);
            evidence.extend(event_evidence(
                &events,
                until,
                &["FailedScheduling", "Unhealthy", "Failed", "Evicted"],
                "pod",
            ));
            evidence.sort_by_key(|e| (e.time, e.line));
            evidence
        }
    };
    let failing_pods: Vec<FailingPod> = failing.into_iter().collect();
    let groups = group(&failing_pods);
    WorkloadReport {
        object: ObjectRef::of(object),
        verdict: match phase.as_str() {
            "Failed" => "failed",
            "Succeeded" => "complete",
            "Pending" => "pending",
            _ if status == "failing" => "progressing",
            _ => "current",
        },
        status,
        reason: match status {
            "ok" => None,
            _ if !groups.is_empty() => Some(groups_reason(&groups)),
            _ => Some(format!("phase {phase}")),
        },
        failing_since: evidence.first().map(|e| e.time),
        blamed_change: None,
        evidence,
        root_causes: Vec::new(),
        pod_groups: groups,
        failing_pods,
        serving_revisions: Vec::new(),
        changes: Vec::new(),
    }
}

fn is_failing(outcome: &str) -> bool {
    matches!(outcome, "failed" | "failing")
}

fn from_rollout(r: super::rollout::RolloutReport) -> Judged {
    let failing = r.revisions.iter().find(|rev| is_failing(rev.outcome));
    let reason = match (r.verdict, failing) {
        ("failed", _) => Some(r.status_message.clone()),
        (_, Some(rev)) => rev.reason.clone(),
        _ => None,
    };
    Judged {
        verdict: r.verdict,
        failing_revision: failing.is_some(),
        reason,
        failing_since: failing.and_then(|rev| rev.failing_since),
        blamed_change: failing.and_then(|rev| rev.change.clone()),
        evidence: failing.map(|rev| rev.evidence.clone()).unwrap_or_default(),
        pods: r
            .revisions
            .iter()
            .flat_map(|rev| rev.pods.iter().map(|p| (p.uid.clone(), Some(rev.number))))
            .collect(),
        serving_revisions: r.serving_revisions,
        changes: r.changes.into_iter().map(|c| c.change).collect(),
    }
}

fn from_set(s: super::sets::SetReport) -> Judged {
    let failing = s.revisions.iter().find(|rev| is_failing(rev.outcome));
    Judged {
        verdict: s.verdict,
        failing_revision: failing.is_some(),
        reason: failing.and_then(|rev| rev.reason.clone()),
        failing_since: failing.and_then(|rev| rev.failing_since),
        blamed_change: failing.and_then(|rev| rev.change.clone()),
        evidence: failing.map(|rev| rev.evidence.clone()).unwrap_or_default(),
        pods: s
            .revisions
            .iter()
            .flat_map(|rev| rev.pods.iter().map(|p| (p.uid.clone(), Some(rev.number))))
            .collect(),
        changes: s
            .revisions
            .iter()
            .filter_map(|r| r.change.clone())
            .collect(),
        serving_revisions: s.serving_revisions,
    }
}

fn from_job(j: super::batch::JobReport) -> Judged {
    Judged {
        verdict: j.verdict,
        failing_revision: false,
        reason: j.reason,
        failing_since: None,
        blamed_change: None,
        evidence: Vec::new(),
        pods: j.pods.into_iter().map(|p| (p.uid, None)).collect(),
        serving_revisions: Vec::new(),
        changes: Vec::new(),
    }
}

/// A CronJob is judged by its last run; its failing pods are that run's.
fn from_cronjob(loaded: &Loaded, c: super::batch::CronJobReport) -> Judged {
    let last = c.jobs.last();
    let history = &loaded.history;
    let pods = last
        .and_then(|run| history.by_uid(&run.uid))
        .map(|job| loaded.graph.controlled_by(job))
        .unwrap_or_default()
        .into_iter()
        .map(|p| (history.object(p).uid.clone(), None))
        .collect();
    let mut changes: Vec<Change> = Vec::new();
    for change in c.jobs.iter().filter_map(|j| j.template_change.clone()) {
        if !changes.contains(&change) {
            changes.push(change);
        }
    }
    Judged {
        verdict: last.map_or("progressing", |run| run.verdict),
        failing_revision: false,
        reason: last.and_then(|run| run.reason.clone()),
        failing_since: c.failing_since_change.as_ref().map(|change| change.time),
        blamed_change: c.failing_since_change,
        evidence: Vec::new(),
        pods,
        serving_revisions: Vec::new(),
        changes,
    }
}

fn from_custom(c: super::custom::CustomReport) -> Judged {
    Judged {
        verdict: c.verdict,
        failing_revision: false,
        reason: Some(c.kstatus_reason),
        failing_since: None,
        blamed_change: c.spec_change.clone(),
        evidence: Vec::new(),
        pods: c.pods.into_iter().map(|p| (p.uid, None)).collect(),
        serving_revisions: Vec::new(),
        changes: c.spec_change.into_iter().collect(),
    }
}

/// The pod at `until` when it is failing: a failing wait, a Failed phase, unschedulable, or
/// running but not ready after restarts or failed probes in the window.
fn failing_pod(
    loaded: &Loaded,
    uid: &str,
    revision: Option<i64>,
    since: Timestamp,
    until: Timestamp,
) -> Option<FailingPod> {
    let history = &loaded.history;
    let id = history.by_uid(uid)?;
    let object = history.object(id);
    let version = object.version_at(until)?;
    if object.deletion_started().is_some_and(|t| t <= until) {
        // A pod on its way out is replaced, not failing.
        return None;
    }
    let pod = pod_at(history, version);
    let state = state_of(&pod);
    let body: Value = history.parse(version).unwrap_or(Value::Null);
    let waiting_reason = waiting_reason(&body);
    let restarts = total_restarts(&pod);
    let events = occurrences_about(history, &loaded.graph, id);
    let probe_failures = probe_failures(&events, since, until);
    let scheduling = (state.phase == "Pending")
        .then(|| scheduling_failure(&pod, &events, until, version.line))
        .flatten();
    let not_ready = !state.ready && !matches!(state.phase.as_str(), "Succeeded" | "Pending");
    let failing = waiting_reason.is_some()
        || state.phase == "Failed"
        || scheduling.is_some()
        || (not_ready && (restarts > 0 || !probe_failures.is_empty()));
    if !failing {
        return None;
    }
    let (last_exit_code, last_reason) = last_termination(&body);
    Some(FailingPod {
        name: object.name.clone(),
        uid: object.uid.clone(),
        revision,
        phase: state.phase.clone(),
        restarts,
        last_exit_code,
        last_reason,
        waiting_reason,
        probe_failures,
        scheduling,
    })
}

/// The kubelet's `Unhealthy` Events about a pod in the window, one entry per container and
/// probe. The prober writes `"<Liveness|Readiness|Startup> probe failed: <output>"` (or
/// `errored`) as the message (`pkg/kubelet/prober/prober.go`, `recordContainerEvent`).
fn probe_failures(events: &[Occurrence], since: Timestamp, until: Timestamp) -> Vec<ProbeFailures> {
    let mut out: Vec<ProbeFailures> = Vec::new();
    // The count each Event object had before the window: only its growth inside counts.
    let mut before: BTreeMap<&str, i64> = BTreeMap::new();
    for event in events.iter().filter(|e| e.reason == "Unhealthy") {
        if event.ts < since {
            before.insert(&event.event_name, event.count);
            continue;
        }
        if event.ts > until {
            break;
        }
        let Some(probe) = probe_kind(&event.message) else {
            continue;
        };
        let grown = event.count - before.insert(&event.event_name, event.count).unwrap_or(0);
        let container = event.container().map(str::to_string);
        match out
            .iter_mut()
            .find(|p| p.probe == probe && p.container == container)
        {
            Some(p) => {
                p.count += grown.max(1);
                p.last = event.ts;
                p.message = event.message.trim().to_string();
                p.line = event.line;
            }
            None => out.push(ProbeFailures {
                probe: probe.to_string(),
                container,
                count: grown.max(1),
                first: event.ts,
                last: event.ts,
                message: event.message.trim().to_string(),
                line: event.line,
            }),
        }
    }
    out
}

/// `liveness`, `readiness` or `startup`, from an `Unhealthy` Event's message.
fn probe_kind(message: &str) -> Option<&'static str> {
    let first = message.split_whitespace().next()?.to_ascii_lowercase();
    ["liveness", "readiness", "startup"]
        .into_iter()
        .find(|kind| *kind == first)
}

/// Why a pending pod is not scheduled: its `PodScheduled` condition False (the scheduler sets
/// it with reason `Unschedulable` when no node fits, `pkg/scheduler/schedule_one.go`
/// `handleSchedulingFailure`), with the `FailedScheduling` Events' count.
fn scheduling_failure(
    pod: &k8s_openapi::api::core::v1::Pod,
    events: &[Occurrence],
    until: Timestamp,
    line: u64,
) -> Option<SchedulingFailure> {
    let condition = pod
        .status
        .as_ref()?
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
    let failed: Vec<&Occurrence> = events
        .iter()
        .filter(|e| e.reason == "FailedScheduling" && e.ts <= until)
        .collect();
    let mut attempts: BTreeMap<&str, i64> = BTreeMap::new();
    for event in &failed {
        attempts.insert(&event.event_name, event.count);
    }
    let message = condition
        .message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .or_else(|| failed.last().map(|e| e.message.clone()))
        .unwrap_or_default();
    Some(SchedulingFailure {
        reason: condition
            .reason
            .clone()
            .unwrap_or_else(|| "Unschedulable".to_string()),
        message: message.trim().to_string(),
        since: condition.last_transition_time.as_ref().map(|t| t.0),
        attempts: attempts.values().sum(),
        line,
    })
}

/// The first container wait that means the pod cannot run.
fn waiting_reason(body: &Value) -> Option<String> {
    ["/status/initContainerStatuses", "/status/containerStatuses"]
        .into_iter()
        .filter_map(|p| body.pointer(p).and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.pointer("/state/waiting/reason").and_then(Value::as_str))
        .find(|reason| FAILING_WAITS.contains(reason))
        .map(str::to_string)
}

/// `3 pod(s) of revision 2 CrashLoopBackOff (last exit 137, Error)`, one clause per group.
fn groups_reason(groups: &[PodGroup]) -> String {
    let clauses: Vec<String> = groups
        .iter()
        .map(|g| {
            let of = g
                .revision
                .map(|n| format!(" of revision {n}"))
                .unwrap_or_default();
            let last = match (g.last_exit_code, &g.last_reason) {
                (Some(code), Some(reason)) => format!(" (last exit {code}, {reason})"),
                (Some(code), None) => format!(" (last exit {code})"),
                _ => String::new(),
            };
            format!("{} pod(s){of} {}{last}", g.pods.len(), g.reason)
        })
        .collect();
    clauses.join("; ")
}

/// Groups failing pods by revision and reason, in the order first seen.
fn group(pods: &[FailingPod]) -> Vec<PodGroup> {
    let mut groups: BTreeMap<(Option<i64>, String), PodGroup> = BTreeMap::new();
    for pod in pods {
        let reason = pod
            .waiting_reason
            .clone()
            .or_else(|| pod.scheduling.as_ref().map(|s| s.reason.clone()))
            .or_else(|| (pod.phase == "Failed").then(|| "Failed".to_string()))
            .or_else(|| (!pod.probe_failures.is_empty()).then(|| "ProbeFailing".to_string()))
            .unwrap_or_else(|| "NotReady".to_string());
        let entry = groups
            .entry((pod.revision, reason.clone()))
            .or_insert_with(|| PodGroup {
                revision: pod.revision,
                reason,
                last_exit_code: pod.last_exit_code,
                last_reason: pod.last_reason.clone(),
                restarts: 0,
                probe_failures: Vec::new(),
                scheduling_message: pod.scheduling.as_ref().map(|s| s.message.clone()),
                pods: Vec::new(),
            });
        if entry.last_exit_code != pod.last_exit_code {
            entry.last_exit_code = None;
        }
        if entry.last_reason != pod.last_reason {
            entry.last_reason = None;
        }
        if entry.scheduling_message.as_ref() != pod.scheduling.as_ref().map(|s| &s.message) {
            entry.scheduling_message = None;
        }
        entry.restarts += pod.restarts;
        for failed in &pod.probe_failures {
            match entry
                .probe_failures
                .iter_mut()
                .find(|p| p.probe == failed.probe && p.container == failed.container)
            {
                Some(p) => {
                    p.count += failed.count;
                    p.first = p.first.min(failed.first);
                    if failed.last > p.last {
                        p.last = failed.last;
                        p.message.clone_from(&failed.message);
                        p.line = failed.line;
                    }
                }
                None => entry.probe_failures.push(failed.clone()),
            }
        }
        entry.pods.push(pod.name.clone());
    }
    // Newest revision first, as the object reports list them.
    let mut groups: Vec<PodGroup> = groups.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.revision));
    groups
}

/// The root causes `analyze --pod` gives for the first pod of each group of failing pods: its
/// restart causes other than the revision's own change (already blamed), and the cause behind
/// its creation; each cause once, in group order.
fn root_causes(loaded: &mut Loaded, workload: &WorkloadReport) -> Vec<Cause> {
    let firsts: Vec<&FailingPod> = workload
        .pod_groups
        .iter()
        .filter_map(|g| g.pods.first())
        .filter_map(|name| workload.failing_pods.iter().find(|p| &p.name == name))
        .collect();
    let mut causes: Vec<Cause> = Vec::new();
    for pod in firsts {
        let query = PodQuery {
            name: pod.name.clone(),
            namespace: Some(workload.object.namespace.clone()),
            uid: Some(pod.uid.clone()),
        };
        let Ok(answer) = analyze_pod(loaded, &query) else {
            continue;
        };
        let found = answer
            .restart_causes
            .into_iter()
            .chain(answer.created.root_cause);
        for cause in found {
            let blamed = workload.blamed_change.as_ref();
            if cause.change.is_some() && cause.change.as_ref() == blamed {
                continue;
            }
            if !causes.iter().any(|c| c.summary == cause.summary) {
                causes.push(cause);
            }
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, revision: i64, waiting: Option<&str>, exit: i64) -> FailingPod {
        FailingPod {
            name: name.to_string(),
            uid: format!("uid-{name}"),
            revision: Some(revision),
            phase: "Running".to_string(),
            restarts: 3,
            last_exit_code: Some(exit),
            last_reason: Some("Error".to_string()),
            waiting_reason: waiting.map(str::to_string),
            probe_failures: Vec::new(),
            scheduling: None,
        }
    }

    /// Pods of one revision failing the same way are one group; the exit code is kept only
    /// when they share it; the newest revision comes first.
    #[test]
    fn failing_pods_are_grouped_by_revision_and_reason() {
        let pods = [
            pod("a", 2, Some("CrashLoopBackOff"), 1),
            pod("b", 2, Some("CrashLoopBackOff"), 2),
            pod("c", 2, None, 1),
            pod("d", 3, Some("ImagePullBackOff"), 0),
        ];
        let groups = group(&pods);
        let summary: Vec<(Option<i64>, &str, usize)> = groups
            .iter()
            .map(|g| (g.revision, g.reason.as_str(), g.pods.len()))
            .collect();
        assert_eq!(
            summary,
            [
                (Some(3), "ImagePullBackOff", 1),
                (Some(2), "CrashLoopBackOff", 2),
                (Some(2), "NotReady", 1)
            ]
        );
        assert_eq!(groups[1].last_exit_code, None);
        assert_eq!(groups[1].last_reason.as_deref(), Some("Error"));
        assert_eq!(groups[1].restarts, 6);
    }

    fn unhealthy(ts: &str, name: &str, count: i64, message: &str) -> Occurrence {
        Occurrence {
            ts: ts.parse().expect("a time"),
            reason: "Unhealthy".to_string(),
            message: message.to_string(),
            event_type: "Warning".to_string(),
            count,
            field_path: Some("spec.containers{web}".to_string()),
            line: 1,
            event_name: name.to_string(),
        }
    }

    /// Only the growth of an Event's count inside the window counts; probes are told apart
    /// by the prober's message.
    #[test]
    fn probe_failures_count_the_growth_inside_the_window() {
        let events = [
            unhealthy("2026-01-01T00:00:00Z", "a", 4, "Liveness probe failed: 500"),
            unhealthy("2026-01-01T00:02:00Z", "a", 7, "Liveness probe failed: 503"),
            unhealthy(
                "2026-01-01T00:03:00Z",
                "b",
                2,
                "Readiness probe errored: timeout",
            ),
            unhealthy("2026-01-01T00:09:00Z", "a", 9, "Liveness probe failed: 500"),
        ];
        let since = "2026-01-01T00:01:00Z".parse().expect("a time");
        let until = "2026-01-01T00:05:00Z".parse().expect("a time");
        let found = probe_failures(&events, since, until);
        let summary: Vec<(&str, i64, &str)> = found
            .iter()
            .map(|p| (p.probe.as_str(), p.count, p.message.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("liveness", 3, "Liveness probe failed: 503"),
                ("readiness", 2, "Readiness probe errored: timeout")
            ]
        );
        assert_eq!(found[0].container.as_deref(), Some("web"));
        assert_eq!(probe_kind("Startup probe failed: x"), Some("startup"));
        assert_eq!(probe_kind("Back-off restarting"), None);
    }

    /// Only waits that mean the pod cannot run count: ContainerCreating is a start.
    #[test]
    fn a_starting_container_is_not_a_failing_wait() {
        let body = |reason: &str| {
            serde_json::json!({"status": {"containerStatuses": [
                {"name": "web", "state": {"waiting": {"reason": reason}}}]}})
        };
        assert_eq!(waiting_reason(&body("ContainerCreating")), None);
        assert_eq!(
            waiting_reason(&body("ErrImagePull")).as_deref(),
            Some("ErrImagePull")
        );
    }
}
