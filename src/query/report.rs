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
use super::rollout::{Evidence, RolloutQuery, FAILING_WAITS};
use super::select::ObjectQuery;
use super::{check, trace_warnings, Loaded, QueryError};
use crate::cause::Cause;
use crate::graph::{Change, ObjectRef};
use crate::history::{ObjectHistory, ObjectId};
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
}

/// Failing pods that share a revision and a reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodGroup {
    /// Their revision.
    pub revision: Option<i64>,
    /// The waiting reason, else the phase (`Failed`), else `NotReady`.
    pub reason: String,
    /// The last exit code they share, when they share one.
    pub last_exit_code: Option<i64>,
    /// The last termination reason they share.
    pub last_reason: Option<String>,
    /// Their restarts, summed.
    pub restarts: i64,
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
    /// Root causes behind the first failing pod's failures, as `analyze --pod` gives them.
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
    let mut workloads = Vec::new();
    let mut healthy_unchanged = 0;
    let mut warnings = Vec::new();
    for id in candidates(loaded, query.namespace.as_deref(), until) {
        match judge(loaded, id, since, until) {
            Ok(w) if w.status != "ok" || !w.changes.is_empty() || in_window(&w, since) => {
                workloads.push(w)
            }
            Ok(_) => healthy_unchanged += 1,
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
        healthy_unchanged,
        warnings,
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
/// owns, and custom resources; in the namespace asked, existing at `until`.
fn candidates(loaded: &Loaded, namespace: Option<&str>, until: Timestamp) -> Vec<ObjectId> {
    let history = &loaded.history;
    (0..history.objects().len())
        .filter(|&id| {
            let o = history.object(id);
            namespace.is_none_or(|ns| o.namespace == ns)
                && is_workload(loaded, o)
                && o.first().ts <= until
                && o.deletion_started().is_none_or(|t| t > until)
        })
        .collect()
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
        object: ObjectQuery {
            kind: object.kind.clone(),
            name: object.name.clone(),
            namespace: Some(object.namespace.clone()),
            uid: Some(object.uid.clone()),
            group: custom.then(|| group_of(&object.api_version).to_string()),
        },
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
        .filter_map(|(uid, revision)| failing_pod(loaded, uid, *revision, until))
        .collect();
    let status = match (judged.verdict, judged.failing_revision, failing_pods.len()) {
        ("failed", _, _) => "failed",
        (_, true, _) => "failing",
        (_, _, n) if n > 0 => "failing",
        _ => "ok",
    };
    let changes = judged
        .changes
        .into_iter()
        .filter(|c| !c.before_trace && c.time >= since && c.time <= until)
        .collect();
    Ok(WorkloadReport {
        object,
        verdict: judged.verdict,
        status,
        reason: judged.reason.filter(|_| status != "ok"),
        failing_since: judged.failing_since.filter(|_| status != "ok"),
        // A creation is no blame: nothing changed that an earlier template ran without.
        blamed_change: judged
            .blamed_change
            .filter(|c| status != "ok" && !c.fields.is_empty()),
        evidence: judged.evidence,
        root_causes: Vec::new(),
        pod_groups: group(&failing_pods),
        failing_pods,
        serving_revisions: judged.serving_revisions,
        changes,
    })
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

/// The pod at `until` when it is failing: a failing wait, a Failed phase, or not ready after
/// restarts.
fn failing_pod(
    loaded: &Loaded,
    uid: &str,
    revision: Option<i64>,
    until: Timestamp,
) -> Option<FailingPod> {
    let history = &loaded.history;
    let object = history.object(history.by_uid(uid)?);
    let version = object.version_at(until)?;
    let pod = pod_at(history, version);
    let state = state_of(&pod);
    let body: Value = history.parse(version).unwrap_or(Value::Null);
    let waiting_reason = waiting_reason(&body);
    let restarts = total_restarts(&pod);
    let failing = waiting_reason.is_some()
        || state.phase == "Failed"
        || (!state.ready && restarts > 0 && state.phase != "Succeeded");
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

/// Groups failing pods by revision and reason, in the order first seen.
fn group(pods: &[FailingPod]) -> Vec<PodGroup> {
    let mut groups: BTreeMap<(Option<i64>, String), PodGroup> = BTreeMap::new();
    for pod in pods {
        let reason = pod
            .waiting_reason
            .clone()
            .or_else(|| (pod.phase == "Failed").then(|| "Failed".to_string()))
            .unwrap_or_else(|| "NotReady".to_string());
        let entry = groups
            .entry((pod.revision, reason.clone()))
            .or_insert_with(|| PodGroup {
                revision: pod.revision,
                reason,
                last_exit_code: pod.last_exit_code,
                last_reason: pod.last_reason.clone(),
                restarts: 0,
                pods: Vec::new(),
            });
        if entry.last_exit_code != pod.last_exit_code {
            entry.last_exit_code = None;
        }
        if entry.last_reason != pod.last_reason {
            entry.last_reason = None;
        }
        entry.restarts += pod.restarts;
        entry.pods.push(pod.name.clone());
    }
    // Newest revision first, as the object reports list them.
    let mut groups: Vec<PodGroup> = groups.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.revision));
    groups
}

/// The root causes `analyze --pod` gives for the workload's first failing pod: its restart
/// causes other than the revision's own change (already blamed), and the cause behind its
/// creation.
fn root_causes(loaded: &mut Loaded, workload: &WorkloadReport) -> Vec<Cause> {
    let Some(pod) = workload.failing_pods.first() else {
        return Vec::new();
    };
    let query = PodQuery {
        name: pod.name.clone(),
        namespace: Some(workload.object.namespace.clone()),
        uid: Some(pod.uid.clone()),
    };
    let Ok(answer) = analyze_pod(loaded, &query) else {
        return Vec::new();
    };
    let mut causes: Vec<Cause> = Vec::new();
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
