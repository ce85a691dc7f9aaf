//! Pod → Job → CronJob: each scheduled run is a Job made from `spec.jobTemplate`; the
//! "revision" of a run is the template it was made from.
//!
//! Sources (Kubernetes v1.31): `pkg/controller/cronjob/utils.go` (`getJobFromTemplate2`: the Job
//! is named `NAME-<scheduled minutes since epoch>` (`getJobName`), owned by the CronJob with
//! `controller: true`, its spec a copy of `spec.jobTemplate.spec` as the CronJob was then, and
//! annotated `batch.kubernetes.io/cronjob-scheduled-timestamp` in RFC 3339 — feature gate
//! `CronJobsScheduledAnnotation`, beta and on by default since v1.28),
//! `pkg/controller/cronjob/cronjob_controllerv2.go` (`syncCronJob`: `status.lastSuccessfulTime`;
//! `cleanupFinishedJobs` deletes old Jobs, so earlier runs may live only in the trace).

use jiff::Timestamp;
use serde_json::Value;

use super::job::{creation_change, failed_at, job_pod_facts, outcome_at, JOB};
use super::{not_built, KindRef, PodFacts, PodInput, Rules, Workload};
use crate::graph::{CausalGraph, Change, ChangeEvidence, ChangeKind, ObjectRef, Requester};
use crate::history::diff::diff_at;
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId};
use crate::workload::attribution::attribute;

/// A CronJob and its Jobs.
pub struct CronJob;

/// `batch/CronJob`.
pub const CRONJOB: KindRef = KindRef {
    group: "batch",
    kind: "CronJob",
};

/// The annotation dating a run (`batch.kubernetes.io/cronjob-scheduled-timestamp`).
const SCHEDULED: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

static RULES: Rules = Rules {
    revisions: "none numbered: each Job is made from spec.jobTemplate as it was at its scheduled time",
    pod_join: "pod → its controller Job by UID → the Job's controller CronJob by UID; the Job's batch.kubernetes.io/cronjob-scheduled-timestamp annotation dates the run",
    healthy: "its Jobs' outcomes in schedule order; failing since the jobTemplate change after which runs fail while earlier runs completed",
    source: "pkg/controller/cronjob/utils.go, pkg/controller/cronjob/cronjob_controllerv2.go",
    built: true,
};

impl Workload for CronJob {
    fn kind(&self) -> KindRef {
        CRONJOB
    }

    fn chain(&self) -> &'static [KindRef] {
        &[JOB, CRONJOB]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }

    /// `schedule */5 * * * *, 1 active`, `suspended` when `spec.suspend` is true.
    fn status(&self, body: &Value) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(schedule) = body.pointer("/spec/schedule").and_then(Value::as_str) {
            parts.push(format!("schedule {schedule}"));
        }
        if body.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
            parts.push("suspended".to_string());
        }
        let active = body
            .pointer("/status/active")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if active > 0 {
            parts.push(format!("{active} active"));
        }
        parts
    }

    fn pod_facts(&self, input: PodInput<'_>) -> PodFacts {
        let job = input.chain.first().and_then(|l| l.id);
        let cronjob = input.chain.get(1).and_then(|l| l.id);
        let (Some(job), Some(cronjob)) = (job, cronjob) else {
            return not_built(&input, "the pod's Job or CronJob was never recorded");
        };
        let model = CronJobModel::build(input.history, input.graph, cronjob);
        let end = input
            .history
            .facts
            .end
            .unwrap_or(input.history.object(input.pod).last().ts);
        let Some(run) = model.runs.iter().position(|r| r.job == job) else {
            return not_built(&input, "the pod's Job is not among its CronJob's Jobs");
        };
        let change = model.template_change(run).cloned();
        let cause = model
            .failure_cause(input.history, input.graph, run, end)
            .cloned();
        let name = input.history.object(cronjob).name.clone();
        job_pod_facts(
            &input,
            job,
            Some((name, model.runs[run].scheduled)),
            change,
            cause,
        )
    }
}

/// One run of a CronJob.
#[derive(Debug, Clone)]
pub struct Run {
    /// The Job.
    pub job: ObjectId,
    /// Its scheduled time.
    pub scheduled: Option<Timestamp>,
    /// When it was made: its first record, or its creationTimestamp when it predates the trace.
    pub made: Timestamp,
    /// The index in [`CronJobModel::changes`] of the change whose template it was made from.
    pub change: Option<usize>,
}

/// A CronJob's template changes and its runs in schedule order.
#[derive(Debug, Clone)]
pub struct CronJobModel {
    /// The CronJob.
    pub id: ObjectId,
    /// Its creation, then every change of `spec.jobTemplate`, in time order.
    pub changes: Vec<Change>,
    /// Its Jobs, oldest first.
    pub runs: Vec<Run>,
}

impl CronJobModel {
    /// Reads the CronJob `id`, its jobTemplate changes and its Jobs.
    pub fn build(history: &History, graph: &CausalGraph, id: ObjectId) -> CronJobModel {
        let changes = template_changes(history, id);
        let mut runs: Vec<Run> = graph
            .controlled_by(id)
            .into_iter()
            .filter(|&j| history.object(j).kind == "Job")
            .map(|job| {
                let object = history.object(job);
                let made = match object.existed_before_first_record() {
                    true => object.created.unwrap_or(object.first().ts),
                    false => object.first().ts,
                };
                Run {
                    job,
                    scheduled: scheduled_time(history, job),
                    made,
                    change: changes.iter().rposition(|c| c.time <= made),
                }
            })
            .collect();
        runs.sort_by_key(|r| (r.scheduled.unwrap_or(r.made), r.made, r.job));
        CronJobModel { id, changes, runs }
    }

    /// The change whose template run `run` was made from.
    pub fn template_change(&self, run: usize) -> Option<&Change> {
        self.changes.get(self.runs.get(run)?.change?)
    }

    /// The jobTemplate change blamed for run `run`'s failure at `at`: the change its template
    /// came from, when an earlier run made from an older template completed. `None` when the
    /// run did not fail, when it runs the template earlier runs completed with, or when no
    /// earlier run completed (nothing shows the old template worked).
    pub fn failure_cause(
        &self,
        history: &History,
        graph: &CausalGraph,
        run: usize,
        at: Timestamp,
    ) -> Option<&Change> {
        let this = self.runs.get(run)?;
        let index = this.change?;
        let change = self.changes.get(index)?;
        if change.kind != ChangeKind::Template {
            return None;
        }
        let earlier_completed = self.runs[..run].iter().any(|r| {
            r.change.is_some_and(|c| c < index)
                && outcome_at(history, graph, r.job, at).is_some_and(|o| o.status == "complete")
        });
        earlier_completed.then_some(change)
    }

    /// The change after which the runs fail, at `at`: the template of the first failed run after
    /// the last completed one, when that completed run had an older template.
    pub fn failing_since(
        &self,
        history: &History,
        graph: &CausalGraph,
        at: Timestamp,
    ) -> Option<&Change> {
        let statuses: Vec<Option<&'static str>> = self
            .runs
            .iter()
            .map(|r| outcome_at(history, graph, r.job, at).map(|o| o.status))
            .collect();
        let last_complete = statuses.iter().rposition(|s| *s == Some("complete"))?;
        let first_failed = (last_complete + 1..self.runs.len())
            .find(|&i| statuses[i] == Some("failed") || self.pods_failed(history, graph, i, at))?;
        let index = self.runs[first_failed].change?;
        (self.runs[last_complete].change.is_some_and(|c| c < index))
            .then(|| self.changes.get(index))
            .flatten()
            .filter(|c| c.kind == ChangeKind::Template)
    }

    fn pods_failed(
        &self,
        history: &History,
        graph: &CausalGraph,
        run: usize,
        at: Timestamp,
    ) -> bool {
        super::job::pods_of(history, graph, self.runs[run].job)
            .into_iter()
            .any(|p| failed_at(history, p).is_some_and(|t| t <= at))
    }
}

/// The run's scheduled time: the `cronjob-scheduled-timestamp` annotation, else the name's
/// minutes since the epoch (`getJobName`), only for names `<cronjob>-<digits>`.
fn scheduled_time(history: &History, job: ObjectId) -> Option<Timestamp> {
    let object = history.object(job);
    let body: Option<Value> = history.parse(object.first()).ok();
    let annotated = body
        .as_ref()
        .and_then(|b| b.pointer("/metadata/annotations")?.get(SCHEDULED)?.as_str())
        .and_then(|t| t.parse::<Timestamp>().ok());
    annotated.or_else(|| {
        let (_, minutes) = object.name.rsplit_once('-')?;
        let minutes: i64 = minutes.parse().ok()?;
        Timestamp::from_second(minutes.checked_mul(60)?).ok()
    })
}

/// The CronJob's creation and each change of `spec.jobTemplate`, with who made it (the
/// managedFields entry that moved and owns the changed fields, as for Deployments).
fn template_changes(history: &History, id: ObjectId) -> Vec<Change> {
    let object = history.object(id);
    let mut changes: Vec<Change> = creation_change(history, id, "spec.jobTemplate")
        .into_iter()
        .collect();
    let base = FieldPath::parse("spec.jobTemplate").unwrap_or_default();
    let mut previous: Option<Value> = None;
    for version in &object.versions {
        let Ok(current) = history.parse::<Value>(version) else {
            continue;
        };
        if let Some(before) = &previous {
            let fields = diff_at(
                before.pointer("/spec/jobTemplate").unwrap_or(&Value::Null),
                current.pointer("/spec/jobTemplate").unwrap_or(&Value::Null),
                &base,
            );
            if !fields.is_empty() {
                let attribution = attribute(Some(before), &current, &fields);
                changes.push(Change {
                    object: ObjectRef::of(object),
                    time: version.ts,
                    manager: attribution.manager,
                    operation: attribution.operation,
                    subresource: attribution.subresource,
                    revision: None,
                    before_trace: false,
                    fields,
                    kind: ChangeKind::Template,
                    evidence: ChangeEvidence {
                        record_line: Some(version.line),
                        resource_version: version.resource_version.as_deref().map(str::to_string),
                        generation: version.generation,
                        attribution: attribution.text,
                        confidence: attribution.confidence,
                    },
                    request: Requester::of(version.request.as_deref()),
                });
            }
        }
        previous = Some(current);
    }
    changes
}
