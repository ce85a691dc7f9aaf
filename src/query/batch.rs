//! `kblame analyze --object job/NAME` and `cronjob/NAME`: a Job's outcome by the Job
//! controller's own terminal conditions, and a CronJob's runs in schedule order with the
//! jobTemplate change after which they began to fail.
//!
//! Rules (Kubernetes v1.31): `pkg/controller/job/util/utils.go` (`IsJobFinished`: only
//! `Complete=True` or `Failed=True` is terminal), `pkg/controller/job/job_controller.go`
//! (`syncJob`, `enactJobFinished`: `FailureTarget`/`SuccessCriteriaMet` come first and are not
//! terminal), `pkg/controller/cronjob/cronjob_controllerv2.go` (`syncCronJob`:
//! `status.lastSuccessfulTime`; `spec.suspend` stops new runs).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::rollout::RolloutQuery;
use super::select;
use super::{with_trace_warnings, Loaded, QueryError};
use crate::graph::{Change, ObjectRef};
use crate::history::{History, ObjectId};
use crate::workload::kinds::cronjob::CronJobModel;
use crate::workload::kinds::job::{arrivals, outcome_at, pods_of};

/// A pod of a Job at the time asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobPod {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `job-start`, `job-retry` or `unknown` (it predates the trace).
    pub reason: &'static str,
    /// `status.phase` at the time asked.
    pub phase: String,
    /// The exit code of its last terminated container.
    pub last_exit_code: Option<i64>,
    /// That container's reason (`Error`, `Completed`, `OOMKilled`).
    pub last_terminated_reason: Option<String>,
}

/// The answer to `analyze --object job/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobReport {
    /// The Job.
    pub object: ObjectRef,
    /// The moment judged.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub at: Timestamp,
    /// `complete`, `failed`, `progressing` or `suspended`.
    pub verdict: &'static str,
    /// The terminal condition's reason, or what keeps it progressing or suspended.
    pub reason: Option<String>,
    /// Failed pods as the Job counts them (`status.failed`), else as seen.
    pub failed_pods: i64,
    /// Its pods seen by then, oldest first.
    pub pods: Vec<JobPod>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
    /// When the trace starts (for text dates; not in JSON).
    #[serde(skip)]
    pub trace_start: Option<Timestamp>,
}

/// One run of a CronJob.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CronJobRun {
    /// The Job's name.
    pub name: String,
    /// Its UID.
    pub uid: String,
    /// Its scheduled time (annotation, or the name's minutes); `None` when neither says.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub scheduled_time: Option<Timestamp>,
    /// Its Job's verdict at the time asked (its last record then, when since deleted).
    pub verdict: &'static str,
    /// The verdict's reason.
    pub reason: Option<String>,
    /// The change whose jobTemplate it was made from.
    pub template_change: Option<Change>,
}

/// The answer to `analyze --object cronjob/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CronJobReport {
    /// The CronJob.
    pub object: ObjectRef,
    /// The moment judged.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub at: Timestamp,
    /// Whether `spec.suspend` is true then: no new runs start.
    pub suspended: bool,
    /// Its Jobs seen by then, oldest first.
    pub jobs: Vec<CronJobRun>,
    /// The jobTemplate change after which the runs fail while earlier runs completed.
    pub failing_since_change: Option<Change>,
    /// `status.lastSuccessfulTime` then, as written.
    pub last_successful_time: Option<String>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
    /// When the trace starts (for text dates; not in JSON).
    #[serde(skip)]
    pub trace_start: Option<Timestamp>,
}

/// The object, the moment, and the version in force then.
fn judged(
    loaded: &Loaded,
    query: &RolloutQuery,
    warnings: &mut Vec<String>,
) -> Result<(ObjectId, Timestamp, Value), QueryError> {
    let id = select::resolve(&loaded.history, &query.object, warnings)?;
    let at = query
        .at
        .or(loaded.history.facts.end)
        .ok_or(QueryError::EmptyTrace)?;
    let object = loaded.history.object(id);
    let Some(version) = object.version_at(at) else {
        return Err(QueryError::NotApplicable(format!(
            "{} did not exist yet at {at}",
            object.display_name()
        )));
    };
    let body = loaded.history.parse(version).unwrap_or(Value::Null);
    Ok((id, at, body))
}

/// Judges a Job at the time asked.
pub fn job_report(loaded: &mut Loaded, query: &RolloutQuery) -> Result<JobReport, QueryError> {
    let mut warnings = Vec::new();
    let (id, at, _) = judged(loaded, query, &mut warnings)?;
    let (history, graph) = (&loaded.history, &loaded.graph);
    let outcome = outcome_at(history, graph, id, at).ok_or(QueryError::EmptyTrace)?;
    let pods = pods_of(history, graph, id);
    let why = arrivals(history, &pods);
    let pods = pods
        .into_iter()
        .filter(|&p| history.object(p).first().ts <= at)
        .map(|p| job_pod(history, p, at, why.get(&p).copied()))
        .collect();
    if history.object(id).existed_before_first_record() {
        warnings.push(
            "the Job existed before the trace began: pods that ended before then are not seen"
                .to_string(),
        );
    }
    let warnings = with_trace_warnings(warnings, loaded);
    Ok(JobReport {
        object: ObjectRef::of(loaded.history.object(id)),
        at,
        verdict: outcome.status,
        reason: outcome.reason,
        failed_pods: outcome.failed_pods,
        pods,
        warnings,
        trace_start: loaded.history.facts.start,
    })
}

fn job_pod(
    history: &History,
    pod: ObjectId,
    at: Timestamp,
    why: Option<Option<ObjectId>>,
) -> JobPod {
    let object = history.object(pod);
    let body: Value = object
        .version_at(at)
        .and_then(|v| history.parse(v).ok())
        .unwrap_or(Value::Null);
    let terminated: Vec<&Value> = body
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            c.pointer("/state/terminated")
                .or(c.pointer("/lastState/terminated"))
        })
        .collect();
    let code = |t: &&Value| t.get("exitCode").and_then(Value::as_i64);
    let last = terminated
        .iter()
        .find(|t| code(t).is_some_and(|c| c != 0))
        .or(terminated.first());
    JobPod {
        name: object.name.clone(),
        uid: object.uid.clone(),
        reason: match why {
            Some(None) => "job-start",
            Some(Some(_)) => "job-retry",
            None => "unknown",
        },
        phase: body
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("Unknown")
            .to_string(),
        last_exit_code: last.and_then(code),
        last_terminated_reason: last
            .and_then(|t| t.get("reason")?.as_str())
            .map(str::to_string),
    }
}

/// Lists a CronJob's runs at the time asked, with the change after which they fail.
pub fn cronjob_report(
    loaded: &mut Loaded,
    query: &RolloutQuery,
) -> Result<CronJobReport, QueryError> {
    let mut warnings = Vec::new();
    let (id, at, body) = judged(loaded, query, &mut warnings)?;
    let (history, graph) = (&loaded.history, &loaded.graph);
    let model = CronJobModel::build(history, graph, id);
    let jobs: Vec<CronJobRun> = model
        .runs
        .iter()
        .enumerate()
        .filter(|(_, r)| history.object(r.job).first().ts <= at)
        .map(|(i, r)| {
            let job = history.object(r.job);
            let outcome = outcome_at(history, graph, r.job, at);
            CronJobRun {
                name: job.name.clone(),
                uid: job.uid.clone(),
                scheduled_time: r.scheduled,
                verdict: outcome.as_ref().map_or("progressing", |o| o.status),
                reason: outcome.and_then(|o| o.reason),
                template_change: model.template_change(i).cloned(),
            }
        })
        .collect();
    if jobs.iter().any(|j| j.scheduled_time.is_none()) {
        warnings.push("a Job without the batch.kubernetes.io/cronjob-scheduled-timestamp annotation and with a name not ending in minutes since the epoch has no known scheduled time (e.g. kubectl create job --from)".to_string());
    }
    if history.object(id).existed_before_first_record() {
        warnings.push("the CronJob existed before the trace began: runs and jobTemplate changes before then are not seen (the controller keeps only 3 successful and 1 failed Job by default)".to_string());
    }
    let failing_since_change = model.failing_since(history, graph, at).cloned();
    let warnings = with_trace_warnings(warnings, loaded);
    Ok(CronJobReport {
        object: ObjectRef::of(loaded.history.object(id)),
        at,
        suspended: body.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true),
        jobs,
        failing_since_change,
        last_successful_time: body
            .pointer("/status/lastSuccessfulTime")
            .and_then(Value::as_str)
            .map(str::to_string),
        warnings,
        trace_start: loaded.history.facts.start,
    })
}
