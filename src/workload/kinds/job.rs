//! Pod → Job: a Job has no revisions (its pod template is immutable); it runs pods to
//! completion and replaces failed ones up to `backoffLimit`.
//!
//! Sources (Kubernetes v1.31): `staging/src/k8s.io/api/batch/v1/types.go` (`JobNameLabel` =
//! `batch.kubernetes.io/job-name`, `ControllerUidLabel` = `batch.kubernetes.io/controller-uid`,
//! set on the pods besides the legacy `job-name`/`controller-uid`; the condition types),
//! `pkg/controller/job/job_controller.go` (`syncJob`: with `JobPodReplacementPolicy` on, as in
//! v1.31, `newFailureCondition` writes the interim `FailureTarget` and `enactJobFinished` adds
//! the terminal `Failed` only once `uncountedTerminatedPods` is empty and no pod terminates;
//! `manageJob` creates a new pod for each failed one with `restartPolicy: Never`),
//! `pkg/controller/job/util/utils.go` (`IsJobFinished`: finished means `Complete=True` or
//! `Failed=True`, nothing else).

use std::collections::{HashMap, VecDeque};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::{not_built, KindRef, PodFacts, PodInput, Rules, Workload};
use crate::graph::{CausalGraph, Change, ChangeEvidence, ChangeKind, ObjectRef, Requester};
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId, Version};
use crate::trace::EventType;
use crate::workload::attribution::attribute_creation;
use crate::workload::conditions::condition;
use crate::workload::turnover::{Arrival, Departure};
use crate::workload::{shifted, WATCH_SKEW};

/// A Job that no CronJob owns.
pub struct Job;

/// `batch/Job`.
pub const JOB: KindRef = KindRef {
    group: "batch",
    kind: "Job",
};

static RULES: Rules = Rules {
    revisions: "none: spec.template is immutable; the Job is one run",
    pod_join: "the pod's controller Job, by UID (labels batch.kubernetes.io/controller-uid and batch.kubernetes.io/job-name)",
    healthy: "condition Complete=True; failed on Failed=True (BackoffLimitExceeded, DeadlineExceeded, …); FailureTarget and SuccessCriteriaMet are interim; suspended on Suspended=True or spec.suspend",
    source: "staging/src/k8s.io/api/batch/v1/types.go, pkg/controller/job/job_controller.go, pkg/controller/job/util/utils.go",
    built: true,
};

impl Workload for Job {
    fn pod_addition(&self, path: &str, _value: &Value) -> Option<&'static str> {
        let labels = [
            "batch.kubernetes.io/controller-uid",
            "batch.kubernetes.io/job-name",
            "controller-uid",
            "job-name",
            "batch.kubernetes.io/job-completion-index",
        ];
        let added = path == "spec.hostname"
            || path == "spec.subdomain"
            || path.starts_with("metadata.annotations[\"batch.kubernetes.io/")
            || path.contains("].env[name=JOB_COMPLETION_INDEX]")
            || crate::admission::is_label(path, &labels);
        added.then_some(
            "the Job controller (pkg/controller/job job_controller.go, indexed_job_utils.go)",
        )
    }

    fn kind(&self) -> KindRef {
        JOB
    }

    fn chain(&self) -> &'static [KindRef] {
        &[JOB]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }

    /// `complete, 1/1 succeeded` or `failed (BackoffLimitExceeded), 0/1 succeeded, 3 failed`:
    /// its outcome by the Job controller's terminal conditions ([`outcome`]) and its counts.
    fn status(&self, body: &Value) -> Vec<String> {
        let o = outcome(body, 0);
        let count = |path: &str| body.pointer(path).and_then(Value::as_i64);
        let mut parts = vec![match &o.reason {
            Some(reason) if o.status != "progressing" => format!("{} ({reason})", o.status),
            _ => o.status.to_string(),
        }];
        let succeeded = count("/status/succeeded").unwrap_or(0);
        match count("/spec/completions") {
            Some(completions) => parts.push(format!("{succeeded}/{completions} succeeded")),
            None => parts.push(format!("{succeeded} succeeded")),
        }
        if o.failed_pods > 0 {
            parts.push(format!("{} failed", o.failed_pods));
        }
        if let Some(active) = count("/status/active").filter(|&n| n > 0) {
            parts.push(format!("{active} active"));
        }
        parts
    }

    fn pod_facts(&self, input: PodInput<'_>) -> PodFacts {
        let Some(job) = input.chain.first().and_then(|l| l.id) else {
            return not_built(&input, "the pod's Job was never recorded");
        };
        let change = creation_change(input.history, job, "spec.template");
        job_pod_facts(&input, job, None, change, None)
    }
}

/// How a Job stands at a time (the JSON `outcome`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobOutcome {
    /// `complete`, `failed`, `progressing` or (object reports only) `suspended`.
    pub status: &'static str,
    /// The terminal condition's reason (`BackoffLimitExceeded`, `DeadlineExceeded`, …), or
    /// what keeps it progressing (an interim `FailureTarget`, a suspension).
    pub reason: Option<String>,
    /// `status.failed`, or the pods seen failed when the status does not say.
    pub failed_pods: i64,
}

/// A Job pod's run (the JSON `job`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobInfo {
    /// The Job's name.
    pub name: String,
    /// Its UID.
    pub uid: String,
    /// Its CronJob's name, when a CronJob made it.
    pub cronjob: Option<String>,
    /// The scheduled time of the run (CronJob Jobs).
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub scheduled_time: Option<Timestamp>,
    /// The Job's outcome at the end of the trace.
    pub outcome: JobOutcome,
}

/// What a Job workload adds to a pod answer.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFacts {
    /// The pod's Job.
    pub info: JobInfo,
    /// For a failed pod: the template change blamed.
    pub failure_cause: Option<Change>,
}

/// A Job's outcome from one of its versions; `pods_failed` counts its pods seen failed then.
/// Finished is `Complete=True` or `Failed=True` (`IsJobFinished`); `FailureTarget` and
/// `SuccessCriteriaMet` alone keep it progressing (`enactJobFinished` has not run yet).
pub fn outcome(body: &Value, pods_failed: i64) -> JobOutcome {
    let is_true = |kind: &str| condition(body, kind).filter(|c| c.status == "True");
    let failed_pods = body
        .pointer("/status/failed")
        .and_then(Value::as_i64)
        .unwrap_or(pods_failed);
    let reason = |c: crate::workload::conditions::Condition| c.reason.filter(|r| !r.is_empty());
    let (status, why) = if let Some(c) = is_true("Complete") {
        ("complete", reason(c))
    } else if let Some(c) = is_true("Failed") {
        ("failed", reason(c))
    } else if let Some(c) = is_true("FailureTarget") {
        let what = reason(c).unwrap_or_else(|| "failure".to_string());
        (
            "progressing",
            Some(format!(
                "{what} (FailureTarget: pods still terminating or uncounted; not terminal yet)"
            )),
        )
    } else if is_true("SuccessCriteriaMet").is_some() {
        (
            "progressing",
            Some("SuccessCriteriaMet (not terminal yet)".to_string()),
        )
    } else if let Some(c) = is_true("Suspended") {
        ("suspended", reason(c).or(Some("JobSuspended".to_string())))
    } else if body.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        ("suspended", Some("spec.suspend is true".to_string()))
    } else {
        ("progressing", None)
    };
    JobOutcome {
        status,
        reason: why,
        failed_pods,
    }
}

/// The Job's outcome at `at` (its last version then), or `None` before its first record.
pub fn outcome_at(
    history: &History,
    graph: &CausalGraph,
    job: ObjectId,
    at: Timestamp,
) -> Option<JobOutcome> {
    let version = history.object(job).version_at(at)?;
    let body: Value = history.parse(version).unwrap_or(Value::Null);
    let failed = pods_of(history, graph, job)
        .into_iter()
        .filter(|&p| failed_at(history, p).is_some_and(|t| t <= at))
        .count();
    Some(outcome(&body, i64::try_from(failed).unwrap_or(i64::MAX)))
}

/// The Job's pods, by their first record.
pub fn pods_of(history: &History, graph: &CausalGraph, job: ObjectId) -> Vec<ObjectId> {
    let mut pods: Vec<ObjectId> = graph
        .controlled_by(job)
        .into_iter()
        .filter(|&p| history.object(p).kind == "Pod")
        .collect();
    pods.sort_by_key(|&p| (history.object(p).first().ts, p));
    pods
}

fn phase(history: &History, version: &Version) -> Option<String> {
    let body: Value = history.parse(version).ok()?;
    body.pointer("/status/phase")?.as_str().map(str::to_string)
}

/// When a pod failed as the Job controller counts it (`isPodFailed`): its first record with
/// phase `Failed`, or its deletion when it never succeeded.
pub fn failed_at(history: &History, pod: ObjectId) -> Option<Timestamp> {
    let object = history.object(pod);
    let mut succeeded = false;
    for version in &object.versions {
        match phase(history, version).as_deref() {
            Some("Failed") => return Some(version.ts),
            Some("Succeeded") => succeeded = true,
            _ => {}
        }
    }
    object.deletion_started().filter(|_| !succeeded)
}

/// The change that made an object whose pod template is at `template`: its creation, from its
/// first record and the managedFields entry owning the template.
pub(super) fn creation_change(history: &History, id: ObjectId, template: &str) -> Option<Change> {
    let object = history.object(id);
    let version = object.first();
    let body: Value = history.parse(version).ok()?;
    let path = FieldPath::parse(template).unwrap_or_default();
    let attribution = attribute_creation(&body, &path);
    let before_trace = version.event == EventType::Listed;
    let time = match before_trace {
        true => object.created.or(attribution.time).unwrap_or(version.ts),
        false => version.ts,
    };
    let text = match before_trace {
        true => format!(
            "{}; created before the trace began, time is its creationTimestamp",
            attribution.text
        ),
        false => attribution.text,
    };
    Some(Change {
        object: ObjectRef::of(object),
        time,
        manager: attribution.manager,
        operation: attribution.operation,
        subresource: attribution.subresource,
        revision: None,
        before_trace,
        fields: Vec::new(),
        kind: ChangeKind::Create,
        evidence: ChangeEvidence {
            record_line: (!before_trace).then_some(version.line),
            resource_version: version.resource_version.as_deref().map(str::to_string),
            generation: version.generation,
            attribution: text,
            confidence: attribution.confidence,
        },
        request: Requester::of(version.request.as_deref()),
    })
}

/// Why each pod of a Job was created: the first pods start the run (`job-start`), each pod
/// after a failure replaces the oldest failed pod not yet replaced (`job-retry`), as `manageJob`
/// does with `restartPolicy: Never`. `None` for a pod that existed before the trace.
pub fn arrivals(history: &History, pods: &[ObjectId]) -> HashMap<ObjectId, Option<ObjectId>> {
    let mut failures: Vec<(Timestamp, ObjectId)> = pods
        .iter()
        .filter_map(|&p| Some((failed_at(history, p)?, p)))
        .collect();
    failures.sort_unstable();
    let mut failures: VecDeque<(Timestamp, ObjectId)> = failures.into();
    let mut open: VecDeque<ObjectId> = VecDeque::new();
    let mut out = HashMap::new();
    for &pod in pods {
        let object = history.object(pod);
        let created = object.first().ts;
        while failures.front().is_some_and(|(t, _)| *t <= created) {
            if let Some((_, failed)) = failures.pop_front() {
                open.push_back(failed);
            }
        }
        if object.existed_before_first_record() {
            continue;
        }
        out.insert(pod, open.pop_front());
    }
    out
}

/// The pod facts of a Job's pod: `cronjob` names the Job's CronJob, `change` made its template,
/// `failure_cause` is blamed when the pod failed.
pub(super) fn job_pod_facts(
    input: &PodInput<'_>,
    job: ObjectId,
    cronjob: Option<(String, Option<Timestamp>)>,
    change: Option<Change>,
    failure_cause: Option<Change>,
) -> PodFacts {
    let (history, graph, pod) = (input.history, &*input.graph, input.pod);
    let mut facts = not_built(
        input,
        "a Job's pod is deleted with its Job or by hand; the trace does not show which",
    );
    // Jobs keep their pods; a pod deleted once its Job was being deleted went by garbage
    // collection (the CronJob's `cleanupFinishedJobs` or the TTL-after-finished controller
    // delete the Job with propagation, `pkg/controller/cronjob/injection.go` `DeleteJob`).
    let job_deleted = history.object(job).deletion_started();
    if let Some(departure) = facts.departure.as_mut() {
        let after_job = job_deleted.is_some_and(|t| t <= shifted(departure.time, WATCH_SKEW));
        if after_job && matches!(departure.why, Departure::Unknown(_)) {
            departure.why = Departure::Cascade { owner: job };
        }
    }
    let pods = pods_of(history, graph, job);
    let object = history.object(pod);
    facts.arrival = Some(match arrivals(history, &pods).remove(&pod) {
        Some(replaces) => Arrival::JobRun {
            replaces,
            change: change.map(Box::new),
        },
        None => Arrival::BeforeTrace,
    });
    facts.peers = Err(
        "a Job's pods are one run of one template; restarts are not compared across runs"
            .to_string(),
    );
    facts.unexplained = String::new();
    let failed = object
        .versions
        .iter()
        .any(|v| phase(history, v).as_deref() == Some("Failed"));
    let end = history.facts.end.unwrap_or(object.last().ts);
    let job_object = history.object(job);
    let (cronjob, scheduled_time) = match cronjob {
        Some((name, scheduled)) => (Some(name), scheduled),
        None => (None, None),
    };
    facts.job = Some(JobFacts {
        info: JobInfo {
            name: job_object.name.clone(),
            uid: job_object.uid.clone(),
            cronjob,
            scheduled_time,
            outcome: pod_outcome(outcome_at(history, graph, job, end)),
        },
        failure_cause: failure_cause.filter(|_| failed),
    });
    facts
}

/// A pod report's outcome says `complete`, `failed` or `progressing`: a suspended Job is
/// progressing, with the suspension as its reason.
fn pod_outcome(outcome: Option<JobOutcome>) -> JobOutcome {
    match outcome {
        Some(o) if o.status == "suspended" => JobOutcome {
            status: "progressing",
            reason: Some(format!("suspended: {}", o.reason.unwrap_or_default())),
            ..o
        },
        Some(o) => o,
        None => JobOutcome {
            status: "progressing",
            reason: Some("the Job has no record at the end of the trace".to_string()),
            failed_pods: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(conditions: &[(&str, &str, &str)], suspend: bool) -> Value {
        let conditions: Vec<Value> = conditions
            .iter()
            .map(|(kind, status, reason)| json!({"type": kind, "status": status, "reason": reason}))
            .collect();
        json!({"spec": {"suspend": suspend}, "status": {"failed": 3, "conditions": conditions}})
    }

    #[test]
    fn only_complete_and_failed_are_terminal() {
        let interim = outcome(
            &job(&[("FailureTarget", "True", "BackoffLimitExceeded")], false),
            0,
        );
        assert_eq!(interim.status, "progressing");
        assert_eq!(interim.failed_pods, 3);
        let failed = job(
            &[
                ("FailureTarget", "True", "DeadlineExceeded"),
                ("Failed", "True", "DeadlineExceeded"),
            ],
            false,
        );
        let failed = outcome(&failed, 0);
        assert_eq!(failed.status, "failed");
        assert_eq!(failed.reason.as_deref(), Some("DeadlineExceeded"));
        let done = job(
            &[("SuccessCriteriaMet", "True", ""), ("Complete", "True", "")],
            false,
        );
        assert_eq!(outcome(&done, 0).status, "complete");
        assert_eq!(outcome(&done, 0).reason, None);
        let met = job(&[("SuccessCriteriaMet", "True", "")], false);
        assert_eq!(outcome(&met, 0).status, "progressing");
        let not_failed = job(&[("Failed", "False", "")], false);
        assert_eq!(outcome(&not_failed, 0).status, "progressing");
    }

    #[test]
    fn a_suspended_job_is_suspended_until_it_finishes() {
        let suspended = outcome(&job(&[("Suspended", "True", "JobSuspended")], true), 0);
        assert_eq!(suspended.status, "suspended");
        assert_eq!(suspended.reason.as_deref(), Some("JobSuspended"));
        assert_eq!(outcome(&job(&[], true), 0).status, "suspended");
        let resumed = job(&[("Suspended", "False", "JobResumed")], false);
        assert_eq!(outcome(&resumed, 0).status, "progressing");
        assert_eq!(outcome(&json!({}), 2).failed_pods, 2);
    }
}
