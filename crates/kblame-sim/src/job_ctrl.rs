//! The Job controller (`pkg/controller/job/job_controller.go`) and the CronJob controller v2
//! (`pkg/controller/cronjob/cronjob_controllerv2.go`) of Kubernetes v1.31.
//!
//! Jobs: NonIndexed, `parallelism` = `completions` = 1, pods with `restartPolicy: Never`, the
//! `batch.kubernetes.io/job-tracking` finalizer, failed pods kept and replaced after the pod
//! failure back-off, and the v1.31 condition order (`FailureTarget` → `Failed`,
//! `SuccessCriteriaMet` → `Complete`). CronJobs: schedules of the form `*/N * * * *`,
//! `concurrencyPolicy: Allow`, Jobs named `<cronjob>-<minutes since the epoch>`, history limits.
//!
//! Not simulated: Indexed Jobs, parallelism above 1, `podFailurePolicy`, `successPolicy`,
//! `backoffLimitPerIndex`, `activeDeadlineSeconds`, suspend, `ttlSecondsAfterFinished`,
//! `restartPolicy: OnFailure`, other cron expressions, time zones, `startingDeadlineSeconds`,
//! `Forbid` / `Replace`, missed schedules.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde_json::{json, Map, Value};

use super::clock::{whole_seconds, Ms, MINUTE, SECOND};
use super::config::{DeploymentConfig, Tool};
use super::fields::{full_set, FieldSet, Writer};
use super::gc::Deletion;
use super::model::{ChangeRef, ContainerState, Involved, Meta, Object, OwnerRef, Pod, Reporter};
use super::rng::write_canonical;
use super::rs_ctrl::{pod_spec, qos_class, requested_cpu, string_map};
use super::truth::{ChangeTruth, CreatedTruth, CronJobTruth, JobTruth, LineageTruth, PodTruth};
use super::world::{Task, World};

const MANAGER: &str = "kube-controller-manager";
const JOB_REPORTER: Reporter = Reporter::Controller("job-controller");
const CRONJOB_REPORTER: Reporter = Reporter::Controller("cronjob-controller");
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// `batch.JobTrackingFinalizer`.
const TRACKING: &str = "batch.kubernetes.io/job-tracking";
/// `batch.CronJobScheduledTimestampAnnotation`.
const SCHEDULED: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// `DefaultJobPodFailureBackOff`.
const POD_FAILURE_BACKOFF: Ms = 10 * SECOND;
/// `MaxJobPodFailureBackOff` (10 min in v1.31).
const MAX_POD_FAILURE_BACKOFF: Ms = 10 * MINUTE;

/// A CronJob as the user writes it: the pod template and labels of a [`DeploymentConfig`]
/// (its replicas are ignored), a schedule and the Job template's `backoffLimit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronJobConfig {
    /// Namespace, name, labels and the pod template's containers.
    pub pods: DeploymentConfig,
    /// `spec.schedule`; only `*/N * * * *` (every N minutes) is understood.
    pub schedule: String,
    /// `spec.jobTemplate.spec.backoffLimit`.
    pub backoff_limit: i32,
}

impl CronJobConfig {
    /// A CronJob running the containers of `pods` on `schedule`, each Job retried up to
    /// `backoff_limit` times.
    pub fn new(pods: DeploymentConfig, schedule: &str, backoff_limit: i32) -> CronJobConfig {
        CronJobConfig {
            pods,
            schedule: schedule.to_string(),
            backoff_limit,
        }
    }

    /// The manifest a tool sends, without server defaults.
    pub fn manifest(&self) -> Value {
        let deployment = self.pods.manifest();
        let mut template = deployment["spec"]["template"].clone();
        template["spec"]["restartPolicy"] = json!("Never");
        json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": deployment["metadata"],
            "spec": {
                "jobTemplate": {"spec": {"backoffLimit": self.backoff_limit, "template": template}},
                "schedule": self.schedule
            }
        })
    }

    fn last_applied(&self) -> String {
        let mut text = String::new();
        write_canonical(&self.manifest(), &mut text);
        text.push('\n');
        text
    }

    /// `spec.jobTemplate` as the API server stores it (pod defaults only).
    fn stored_job_template(&self) -> Value {
        let mut template = self.pods.stored_template();
        template["spec"]["restartPolicy"] = json!("Never");
        json!({
            "metadata": {"creationTimestamp": null},
            "spec": {"backoffLimit": self.backoff_limit, "template": template}
        })
    }

    /// Minutes between runs.
    fn every(&self) -> i64 {
        self.schedule
            .strip_prefix("*/")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .filter(|n: &i64| *n > 0)
            .unwrap_or(1)
    }
}

/// A simulated CronJob.
#[derive(Debug, Clone)]
pub(crate) struct CronJob {
    pub(crate) meta: Meta,
    pub(crate) config: CronJobConfig,
    pub(crate) job_template: Value,
    /// `status.active`: Job uids.
    pub(crate) active: Vec<String>,
    pub(crate) last_schedule: Option<Ms>,
    pub(crate) last_successful: Option<Ms>,
    /// Its Jobs' uids, oldest first (deleted ones removed).
    pub(crate) jobs: Vec<String>,
    /// The last change of `spec.jobTemplate`.
    pub(crate) template_change: Option<ChangeRef>,
    pub(crate) truth: usize,
}

impl Object for CronJob {
    const KIND: &'static str = "CronJob";
    const API_VERSION: &'static str = "batch/v1";
    const RESOURCE: &'static str = "batch/v1/cronjobs";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    /// `CronJobSpec` in Go field order with `SetDefaults_CronJob`'s defaults.
    fn body(&self, out: &mut Map<String, Value>) {
        out.insert(
            "spec".into(),
            json!({
                "schedule": self.config.schedule,
                "concurrencyPolicy": "Allow",
                "suspend": false,
                "jobTemplate": self.job_template,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1
            }),
        );
        let mut status = Map::new();
        if let Some(at) = self.last_schedule {
            status.insert("lastScheduleTime".into(), json!(whole_seconds(at)));
        }
        if let Some(at) = self.last_successful {
            status.insert("lastSuccessfulTime".into(), json!(whole_seconds(at)));
        }
        out.insert("status".into(), Value::Object(status));
    }
}

/// A Job condition (`batchv1.JobCondition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobCondition {
    kind: &'static str,
    at: Ms,
    reason: &'static str,
    message: &'static str,
}

impl JobCondition {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("type".into(), json!(self.kind));
        map.insert("status".into(), json!("True"));
        map.insert("lastProbeTime".into(), json!(whole_seconds(self.at)));
        map.insert("lastTransitionTime".into(), json!(whole_seconds(self.at)));
        if !self.reason.is_empty() {
            map.insert("reason".into(), json!(self.reason));
        }
        if !self.message.is_empty() {
            map.insert("message".into(), json!(self.message));
        }
        Value::Object(map)
    }
}

/// `batchv1.JobStatus`, the fields a NonIndexed Job uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JobStatus {
    conditions: Vec<JobCondition>,
    start: Option<Ms>,
    completion: Option<Ms>,
    active: i32,
    succeeded: i32,
    failed: i32,
    uncounted_succeeded: Vec<String>,
    uncounted_failed: Vec<String>,
    ready: i32,
}

/// A simulated Job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) meta: Meta,
    pub(crate) backoff_limit: i32,
    pub(crate) template: Value,
    pub(crate) status: JobStatus,
    /// Its pods' uids, oldest first.
    pub(crate) pods: Vec<String>,
    /// The CronJob that owns it.
    pub(crate) cronjob: Option<String>,
    /// When the sync waiting out the back-off is due.
    pub(crate) backoff_until: Ms,
    /// Who wrote the template it was made from (the CronJob's last `spec.jobTemplate` write, or
    /// its creation): the ground truth of its pods' `created.change`.
    pub(crate) template_manager: Option<String>,
    pub(crate) truth: usize,
}

impl Object for Job {
    const KIND: &'static str = "Job";
    const API_VERSION: &'static str = "batch/v1";
    const RESOURCE: &'static str = "batch/v1/jobs";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    /// `JobSpec` in Go field order with `SetDefaults_Job`'s defaults, then the status.
    fn body(&self, out: &mut Map<String, Value>) {
        let spec = json!({
            "parallelism": 1,
            "completions": 1,
            "backoffLimit": self.backoff_limit,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": self.meta.uid}},
            "template": self.template,
            "completionMode": "NonIndexed",
            "suspend": false,
            "podReplacementPolicy": "TerminatingOrFailed"
        });
        out.insert("spec".into(), spec);
        let s = &self.status;
        let mut status = Map::new();
        if !s.conditions.is_empty() {
            let list: Vec<Value> = s.conditions.iter().map(JobCondition::to_json).collect();
            status.insert("conditions".into(), Value::Array(list));
        }
        if let Some(at) = s.start {
            status.insert("startTime".into(), json!(whole_seconds(at)));
        }
        if let Some(at) = s.completion {
            status.insert("completionTime".into(), json!(whole_seconds(at)));
        }
        for (key, value) in [
            ("active", s.active),
            ("succeeded", s.succeeded),
            ("failed", s.failed),
        ] {
            if value > 0 {
                status.insert(key.into(), json!(value));
            }
        }
        status.insert("terminating".into(), json!(0));
        let mut uncounted = Map::new();
        if !s.uncounted_succeeded.is_empty() {
            uncounted.insert("succeeded".into(), json!(s.uncounted_succeeded));
        }
        if !s.uncounted_failed.is_empty() {
            uncounted.insert("failed".into(), json!(s.uncounted_failed));
        }
        status.insert("uncountedTerminatedPods".into(), Value::Object(uncounted));
        status.insert("ready".into(), json!(s.ready));
        out.insert("status".into(), Value::Object(status));
    }
}

impl JobStatus {
    fn has(&self, kind: &str) -> bool {
        self.conditions.iter().any(|c| c.kind == kind)
    }

    fn finished(&self) -> bool {
        self.has("Complete") || self.has("Failed")
    }
}

fn change_truth(change: &ChangeRef) -> ChangeTruth {
    ChangeTruth {
        manager: change.manager.clone(),
        operation: change.operation.to_string(),
        subresource: change.subresource.map(str::to_string),
        time: change.truth_time(),
        before_trace: !change.recorded,
        fields: change.fields.clone(),
        user: change.user.clone(),
    }
}

impl World {
    /// The CronJob `namespace/name`.
    pub(crate) fn find_cronjob(&self, namespace: &str, name: &str) -> Option<String> {
        self.cronjobs
            .values()
            .find(|c| c.meta.namespace == namespace && c.meta.name == name)
            .map(|c| c.meta.uid.clone())
    }

    /// `kubectl apply` of a CronJob: creates it or updates it.
    pub(crate) fn apply_cronjob(&mut self, config: &CronJobConfig, tool: Tool) {
        let (writer, applied): (Writer, Option<FieldSet>) = match tool {
            Tool::KubectlServerSideApply => {
                (Writer::apply("kubectl"), Some(full_set(&config.manifest())))
            }
            Tool::Helm => (Writer::update("helm"), None),
            Tool::KubectlApply => (Writer::update("kubectl-client-side-apply"), None),
        };
        let mut annotations = config.pods.annotations.clone();
        if tool == Tool::KubectlApply {
            annotations.insert(LAST_APPLIED.into(), config.last_applied());
        }
        let p = &config.pods;
        let (uid, event) = match self.find_cronjob(&p.namespace, &p.name) {
            Some(uid) => (uid, EventType::Modified),
            None => {
                let uid = self.uid();
                let meta = Meta::new(&p.namespace, &p.name, uid.clone(), self.core.now);
                self.book.cronjobs.push((
                    CronJobTruth {
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                        uid: uid.clone(),
                        schedule: config.schedule.clone(),
                        ..CronJobTruth::default()
                    },
                    false,
                ));
                let cronjob = CronJob {
                    meta,
                    config: config.clone(),
                    job_template: Value::Null,
                    active: Vec::new(),
                    last_schedule: None,
                    last_successful: None,
                    jobs: Vec::new(),
                    template_change: None,
                    truth: self.book.cronjobs.len() - 1,
                };
                self.cronjobs.insert(uid.clone(), cronjob);
                (uid, EventType::Added)
            }
        };
        let Some(cronjob) = self.cronjobs.get_mut(&uid) else {
            return;
        };
        let old_template = cronjob.job_template.clone();
        cronjob.meta.labels = p.labels.clone();
        cronjob.meta.annotations = annotations;
        cronjob.config = config.clone();
        cronjob.job_template = config.stored_job_template();
        let commit = self.render_and_commit_cronjob(&uid, Some(&writer), applied.as_ref(), event);
        let Some(cronjob) = self.cronjobs.get_mut(&uid) else {
            return;
        };
        if event == EventType::Added {
            self.book.cronjobs[cronjob.truth].1 = commit.recorded && !commit.hidden;
        }
        if cronjob.job_template != old_template {
            let change = ChangeRef {
                manager: writer.manager.clone(),
                operation: writer.operation.as_str(),
                subresource: writer.subresource,
                at: commit.ts,
                recorded: commit.recorded,
                fields: commit
                    .paths
                    .iter()
                    .filter(|p| p.starts_with("spec.jobTemplate"))
                    .cloned()
                    .collect(),
                creation: event == EventType::Added,
                user: commit.user.clone(),
            };
            if !change.creation {
                let truth = cronjob.truth;
                self.book.cronjobs[truth]
                    .0
                    .template_changes
                    .push(change_truth(&change));
            }
            cronjob.template_change = Some(change);
        }
        if event == EventType::Added {
            self.queue_next_schedule(&uid);
        }
    }

    /// Changes the last applied configuration of a CronJob and applies it with `tool`.
    pub(crate) fn update_cronjob(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut CronJobConfig),
    ) {
        let Some(uid) = self.find_cronjob(namespace, name) else {
            return;
        };
        let mut config = self.cronjobs[&uid].config.clone();
        change(&mut config);
        self.apply_cronjob(&config, tool);
    }

    /// Commits a CronJob with its `status.active` references rendered from the current Jobs.
    fn render_and_commit_cronjob(
        &mut self,
        uid: &str,
        writer: Option<&Writer>,
        applied: Option<&FieldSet>,
        event: EventType,
    ) -> super::world::Commit {
        let refs: Vec<Value> = self.cronjobs[uid]
            .active
            .iter()
            .filter_map(|j| self.jobs.get(j))
            .map(|j| {
                json!({
                    "kind": "Job",
                    "namespace": j.meta.namespace,
                    "name": j.meta.name,
                    "uid": j.meta.uid,
                    "apiVersion": "batch/v1",
                    "resourceVersion": j.meta.rv.to_string()
                })
            })
            .collect();
        let Some(cronjob) = self.cronjobs.get_mut(uid) else {
            return super::world::Commit::default();
        };
        let mut wrapper = CronJobWithRefs { cronjob, refs };
        self.core.commit(&mut wrapper, writer, applied, event)
    }

    /// Queues the CronJob's sync at its next scheduled time (+100 ms, as
    /// `nextScheduleTimeDuration` requeues it).
    fn queue_next_schedule(&mut self, uid: &str) {
        let Some(cronjob) = self.cronjobs.get(uid) else {
            return;
        };
        let every = cronjob.config.every() * MINUTE;
        let next = (self.core.now / every + 1) * every;
        let delay = next - self.core.now + 100 + self.core.jitter(0, 40);
        self.core.after(delay, Task::SyncCronJob(uid.to_string()));
    }

    /// `ControllerV2.sync`: `cleanupFinishedJobs`, then `syncCronJob`, then one status write.
    pub(crate) fn sync_cronjob(&mut self, uid: &str) {
        let Some(cronjob) = self.cronjobs.get(uid) else {
            return;
        };
        let every = cronjob.config.every() * MINUTE;
        let scheduled = self.core.now / every * every;
        let mut changed = false;
        // syncCronJob step 1: finished active Jobs leave `active`.
        let active = cronjob.active.clone();
        for job_uid in active {
            let Some(job) = self.jobs.get(&job_uid) else {
                continue;
            };
            if !job.status.finished() {
                continue;
            }
            let outcome = if job.status.has("Complete") {
                "Complete"
            } else {
                "Failed"
            };
            let (name, completion) = (job.meta.name.clone(), job.status.completion);
            let Some(cronjob) = self.cronjobs.get_mut(uid) else {
                return;
            };
            cronjob.active.retain(|j| *j != job_uid);
            if let Some(at) = completion {
                cronjob.last_successful = cronjob.last_successful.max(Some(at));
            }
            changed = true;
            let message = format!("Saw completed job: {name}, status: {outcome}");
            let involved = Involved::of(&*cronjob, None);
            self.record_event(
                involved,
                CRONJOB_REPORTER,
                false,
                "SawCompletedJob",
                message,
            );
        }
        changed |= self.cleanup_finished_jobs(uid);
        // Steps 4-6: a run is due when the scheduled time is newer than lastScheduleTime.
        let Some(cronjob) = self.cronjobs.get(uid) else {
            return;
        };
        let due = cronjob.last_schedule.is_none_or(|last| last < scheduled)
            && self.core.now >= scheduled
            && self.core.now - scheduled < every;
        if due && self.cronjob_created_before(uid, scheduled) {
            self.create_job(uid, scheduled);
            changed = true;
        }
        if changed {
            self.render_and_commit_cronjob(
                uid,
                Some(&Writer::status(MANAGER)),
                None,
                EventType::Modified,
            );
        }
        if due {
            self.queue_next_schedule(uid);
        }
    }

    fn cronjob_created_before(&self, uid: &str, scheduled: Ms) -> bool {
        self.cronjobs
            .get(uid)
            .is_some_and(|c| c.meta.created <= scheduled)
    }

    /// `cleanupFinishedJobs` / `removeOldestJobs`: deletes the oldest finished Jobs beyond the
    /// history limits (3 successful, 1 failed), background propagation.
    fn cleanup_finished_jobs(&mut self, uid: &str) -> bool {
        let Some(cronjob) = self.cronjobs.get(uid) else {
            return false;
        };
        let mut doomed = Vec::new();
        for (kind, limit) in [("Complete", 3), ("Failed", 1)] {
            let mut finished: Vec<(Ms, String)> = cronjob
                .jobs
                .iter()
                .filter_map(|j| self.jobs.get(j))
                .filter(|j| j.status.has(kind))
                .map(|j| (j.status.start.unwrap_or(j.meta.created), j.meta.uid.clone()))
                .collect();
            finished.sort();
            let extra = finished.len().saturating_sub(limit);
            doomed.extend(finished.into_iter().take(extra).map(|(_, uid)| uid));
        }
        let acted = !doomed.is_empty();
        for job_uid in doomed {
            self.delete_job(uid, &job_uid);
        }
        acted
    }

    /// Deletes a Job (propagationPolicy Background): it goes at once, its pods follow by
    /// garbage collection.
    fn delete_job(&mut self, cronjob_uid: &str, job_uid: &str) {
        let Some(mut job) = self.jobs.remove(job_uid) else {
            return;
        };
        let commit = self.core.commit(&mut job, None, None, EventType::Deleted);
        if let Some(entry) = self.book.jobs.get_mut(job.truth) {
            entry.0.deleted = Some(super::truth::JobDeletedTruth {
                time: commit.truth_time(),
                reason: "history-limit".into(),
            });
        }
        if let Some(cronjob) = self.cronjobs.get_mut(cronjob_uid) {
            cronjob.jobs.retain(|j| j != job_uid);
            let message = format!("Deleted job {}", job.meta.name);
            let involved = Involved::of(&*cronjob, None);
            self.record_event(
                involved,
                CRONJOB_REPORTER,
                false,
                "SuccessfulDelete",
                message,
            );
        }
        for (i, pod) in job.pods.iter().enumerate() {
            let delay = self.core.jitter(300, 900) + i as Ms * 40;
            self.core.after(delay, Task::CollectJobPod(pod.clone()));
        }
    }

    /// The garbage collector deletes a pod whose Job is gone; a finished pod's kubelet removes
    /// it at once.
    pub(crate) fn collect_job_pod(&mut self, pod_uid: &str) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(pod_uid) else {
            return;
        };
        pod.meta.deletion = Some(now + 30 * SECOND);
        pod.meta.grace = Some(30);
        let truth = pod.truth;
        let commit = self.core.commit(pod, None, None, EventType::Modified);
        self.record_deletion(truth, &commit, &Deletion::Cascade);
        let delay = self.core.jitter(40, 200);
        self.core.after(delay, Task::Remove(pod_uid.to_string()));
    }

    /// `getJobFromTemplate2` + `CreateJob`: Job `<cronjob>-<minutes since the epoch>`.
    fn create_job(&mut self, cronjob_uid: &str, scheduled: Ms) {
        let uid = self.uid();
        let now = self.core.now;
        let Some(cronjob) = self.cronjobs.get(cronjob_uid) else {
            return;
        };
        let name = format!("{}-{}", cronjob.meta.name, scheduled / MINUTE);
        let mut meta = Meta::new(&cronjob.meta.namespace, &name, uid.clone(), now);
        let mut template = cronjob.job_template["spec"]["template"].clone();
        let mut labels = string_map(&template["metadata"]["labels"]);
        labels.insert("batch.kubernetes.io/controller-uid".into(), uid.clone());
        labels.insert("batch.kubernetes.io/job-name".into(), name.clone());
        labels.insert("controller-uid".into(), uid.clone());
        labels.insert("job-name".into(), name.clone());
        template["metadata"]["labels"] = json!(labels);
        // `SetDefaults_Job`: a Job without labels gets its template's.
        meta.labels = labels;
        meta.annotations = BTreeMap::from([(SCHEDULED.to_string(), whole_seconds(scheduled))]);
        meta.owner = Some(OwnerRef {
            api_version: "batch/v1",
            kind: "CronJob",
            name: cronjob.meta.name.clone(),
            uid: cronjob_uid.to_string(),
        });
        let backoff_limit = cronjob.job_template["spec"]["backoffLimit"]
            .as_i64()
            .unwrap_or(6) as i32;
        let template_change = cronjob
            .template_change
            .as_ref()
            .filter(|c| !c.creation)
            .map(change_truth);
        let cronjob_name = cronjob.meta.name.clone();
        let template_manager = cronjob.template_change.as_ref().map(|c| c.manager.clone());
        let mut job = Job {
            meta,
            backoff_limit,
            template,
            status: JobStatus::default(),
            pods: Vec::new(),
            cronjob: Some(cronjob_uid.to_string()),
            backoff_until: 0,
            template_manager,
            truth: self.book.jobs.len(),
        };
        let commit = self.core.commit(
            &mut job,
            Some(&Writer::update(MANAGER)),
            None,
            EventType::Added,
        );
        self.book.jobs.push((
            JobTruth {
                namespace: job.meta.namespace.clone(),
                name: name.clone(),
                uid: uid.clone(),
                lineage: vec![LineageTruth {
                    kind: "CronJob".into(),
                    name: cronjob_name,
                    uid: cronjob_uid.to_string(),
                }],
                scheduled_time: Some(whole_seconds(scheduled)),
                template_change,
                outcome: "progressing".into(),
                ..JobTruth::default()
            },
            commit.recorded && !commit.hidden,
        ));
        self.jobs.insert(uid.clone(), job);
        let Some(cronjob) = self.cronjobs.get_mut(cronjob_uid) else {
            return;
        };
        cronjob.active.push(uid.clone());
        cronjob.jobs.push(uid.clone());
        cronjob.last_schedule = Some(scheduled);
        let truth = cronjob.truth;
        self.book.cronjobs[truth].0.jobs.push(name.clone());
        let involved = Involved::of(&*cronjob, None);
        let message = format!("Created job {name}");
        self.record_event(
            involved,
            CRONJOB_REPORTER,
            false,
            "SuccessfulCreate",
            message,
        );
        self.core.soon(Task::SyncJob(uid));
    }

    /// `syncJob`: counts finished pods (`trackJobStatusAndRemoveFinalizers`), finishes the Job
    /// (`enactJobFinished`), or creates a pod once the pod failure back-off has passed
    /// (`manageJob`).
    pub(crate) fn sync_job(&mut self, uid: &str) {
        let now = self.core.now;
        let Some(job) = self.jobs.get_mut(uid) else {
            return;
        };
        if job.status.finished() {
            return;
        }
        let mut status = job.status.clone();
        if status.start.is_none() {
            status.start = Some(now);
        }
        let pods: Vec<&Pod> = job.pods.iter().filter_map(|p| self.pods.get(p)).collect();
        let active: Vec<&Pod> = pods
            .iter()
            .copied()
            .filter(|p| !p.is_terminal() && !p.meta.deleting())
            .collect();
        status.active = active.len() as i32;
        status.ready = active.iter().filter(|p| p.is_ready()).count() as i32;
        let newly: Vec<(String, bool)> = pods
            .iter()
            .filter(|p| p.is_terminal() && p.meta.finalizers.iter().any(|f| f == TRACKING))
            .map(|p| (p.meta.uid.clone(), p.phase == "Succeeded"))
            .collect();
        let last_failure = pods
            .iter()
            .filter(|p| p.phase == "Failed")
            .filter_map(|p| finished_at(p))
            .max();
        let backoff_limit = job.backoff_limit;
        // manageJob: a new pod when none is active, none succeeded, no criterion met and the
        // back-off since the last failure has passed.
        let failures = status.failed as u32 + newly.iter().filter(|(_, ok)| !ok).count() as u32;
        let succeeded = status.succeeded as usize + newly.iter().filter(|(_, ok)| *ok).count();
        let failing = failures as i32 > backoff_limit;
        let mut create = false;
        if active.is_empty() && succeeded == 0 && !failing && !status.has("FailureTarget") {
            let wait = if failures == 0 {
                0
            } else {
                (POD_FAILURE_BACKOFF << (failures - 1).min(16)).min(MAX_POD_FAILURE_BACKOFF)
            };
            let due = last_failure.map_or(now, |at| at + wait);
            if due <= now {
                create = true;
            } else if job.backoff_until != due {
                job.backoff_until = due;
                self.core
                    .after(due - now + 5, Task::SyncJob(uid.to_string()));
            }
        }
        if create {
            self.create_job_pod(uid);
            status.active += 1;
        }
        if newly.is_empty() {
            self.write_job_status(uid, status);
            return;
        }
        // Status write #1: the finished pods are uncounted, and the interim condition appended.
        for (pod, ok) in &newly {
            if *ok {
                status.uncounted_succeeded.push(pod.clone());
            } else {
                status.uncounted_failed.push(pod.clone());
            }
        }
        if failing && !status.has("FailureTarget") {
            status.conditions.push(JobCondition {
                kind: "FailureTarget",
                at: now,
                reason: "BackoffLimitExceeded",
                message: "Job has reached the specified backoff limit",
            });
        } else if succeeded > 0 && status.active == 0 && !status.has("SuccessCriteriaMet") {
            status.conditions.push(JobCondition {
                kind: "SuccessCriteriaMet",
                at: now,
                reason: "",
                message: "",
            });
        }
        self.write_job_status(uid, status.clone());
        // The finalizer comes off each counted pod.
        for (pod_uid, _) in &newly {
            if let Some(pod) = self.pods.get_mut(pod_uid) {
                pod.meta.finalizers.retain(|f| f != TRACKING);
                self.core.commit(
                    pod,
                    Some(&Writer::update(MANAGER)),
                    None,
                    EventType::Modified,
                );
            }
        }
        // Status write #2: counted, and the terminal condition once nothing is uncounted.
        status.succeeded += status.uncounted_succeeded.len() as i32;
        status.failed += status.uncounted_failed.len() as i32;
        status.uncounted_succeeded.clear();
        status.uncounted_failed.clear();
        let now = self.core.now;
        let finished = if let Some(target) = status
            .conditions
            .iter()
            .find(|c| c.kind == "FailureTarget")
            .cloned()
        {
            status.conditions.push(JobCondition {
                kind: "Failed",
                at: now,
                ..target
            });
            Some((true, target.reason, target.message))
        } else if status.has("SuccessCriteriaMet") {
            status.conditions.push(JobCondition {
                kind: "Complete",
                at: now,
                reason: "",
                message: "",
            });
            status.completion = Some(now);
            Some((false, "Completed", "Job completed"))
        } else {
            None
        };
        self.write_job_status(uid, status);
        if let Some((warning, reason, message)) = finished {
            self.job_finished(uid, warning, reason, message);
        }
    }

    fn write_job_status(&mut self, uid: &str, status: JobStatus) {
        let Some(job) = self.jobs.get_mut(uid) else {
            return;
        };
        if job.status == status {
            return;
        }
        job.status = status;
        self.core.commit(
            job,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
        if let Some(cronjob) = job.cronjob.clone() {
            if job.status.finished() {
                self.core.soon(Task::SyncCronJob(cronjob));
            }
        }
    }

    /// `recordJobFinished`, and the outcome in the ground truth.
    fn job_finished(&mut self, uid: &str, warning: bool, reason: &'static str, message: &str) {
        let Some(job) = self.jobs.get(uid) else {
            return;
        };
        let involved = Involved::of(job, None);
        let (outcome, why) = if warning {
            ("failed", Some(reason.to_string()))
        } else {
            ("complete", None)
        };
        let (succeeded, failed) = (job.status.succeeded, job.status.failed);
        if let Some(entry) = self.book.jobs.get_mut(job.truth) {
            entry.0.outcome = outcome.into();
            entry.0.reason = why;
            entry.0.succeeded_pods = succeeded;
            entry.0.failed_pods = failed;
        }
        self.record_event(involved, JOB_REPORTER, warning, reason, message.to_string());
    }

    /// `manageJob` → `CreatePodsWithGenerateName`: pod `<job>-xxxxx` with the tracking finalizer.
    fn create_job_pod(&mut self, job_uid: &str) {
        let suffix = self.core.rng.name_suffix(5);
        let token = self.core.rng.name_suffix(5);
        let uid = self.uid();
        let now = self.core.now;
        let Some(job) = self.jobs.get(job_uid) else {
            return;
        };
        let name = format!("{}-{suffix}", job.meta.name);
        let mut meta = Meta::new(&job.meta.namespace, &name, uid.clone(), now);
        meta.generate_name = Some(format!("{}-", job.meta.name));
        meta.labels = string_map(&job.template["metadata"]["labels"]);
        meta.annotations = string_map(&job.template["metadata"]["annotations"]);
        meta.finalizers = vec![TRACKING.to_string()];
        meta.owner = Some(OwnerRef {
            api_version: "batch/v1",
            kind: "Job",
            name: job.meta.name.clone(),
            uid: job_uid.to_string(),
        });
        let template_spec = job.template["spec"].clone();
        // With parallelism 1 a new pod follows the failed pod before it (`manageJob` creates one
        // when none is active): the pod it takes the place of.
        let replaces = job
            .pods
            .iter()
            .rev()
            .filter_map(|p| self.pods.get(p))
            .find(|p| p.phase == "Failed")
            .map(|p| p.meta.name.clone());
        let retry = replaces.is_some();
        let mut lineage = vec![LineageTruth {
            kind: "Job".into(),
            name: job.meta.name.clone(),
            uid: job_uid.to_string(),
        }];
        if let Some(entry) = self.book.jobs.get(job.truth) {
            lineage.extend(entry.0.lineage.iter().cloned());
        }
        let job_truth = job.truth;
        let mut pod = Pod {
            meta,
            spec: pod_spec(&template_spec, &token, 0),
            node: None,
            node_name: None,
            phase: "Pending",
            conditions: Vec::new(),
            host_ip: None,
            pod_ip: None,
            start_time: None,
            qos: qos_class(&template_spec),
            containers: self.containers_for(&template_spec),
            kubelet_started: false,
            rs_uid: job_uid.to_string(),
            ready_since: None,
            truth: self.book.pods.len(),
            priority: 0,
            cpu_millis: requested_cpu(&template_spec),
            reason: None,
            message: None,
            nominated: None,
            eviction: None,
        };
        let commit = self.core.commit(
            &mut pod,
            Some(&Writer::update(MANAGER)),
            None,
            EventType::Added,
        );
        let reason = match (commit.recorded, retry) {
            (false, _) => "before-trace",
            (true, true) => "job-retry",
            (true, false) => "job-start",
        };
        let truth = PodTruth {
            namespace: pod.meta.namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
            created: CreatedTruth {
                time: commit.truth_time(),
                reason: reason.into(),
                change_manager: job.template_manager.clone().filter(|_| commit.recorded),
                replaces: replaces.filter(|_| commit.recorded),
                root_cause: None,
            },
            hidden_by_gap: commit.hidden,
            lineage,
            ..PodTruth::default()
        };
        self.book.pod_names.insert(
            (truth.namespace.clone(), name.clone()),
            self.book.pods.len(),
        );
        self.book
            .pods
            .push((truth, commit.recorded && !commit.hidden));
        if let Some(entry) = self.book.jobs.get_mut(job_truth) {
            entry.0.pods.push(uid.clone());
        }
        self.pods.insert(uid.clone(), pod);
        if let Some(job) = self.jobs.get_mut(job_uid) {
            job.pods.push(uid.clone());
        }
        if let Some(job) = self.jobs.get(job_uid) {
            let message = format!("Created pod: {name}");
            self.record_event(
                Involved::of(job, None),
                JOB_REPORTER,
                false,
                "SuccessfulCreate",
                message,
            );
        }
        let delay = self.core.jitter(15, 60);
        self.core.after(delay, Task::Schedule(uid));
    }

    /// Bookkeeping once a Job's pod no longer exists.
    pub(crate) fn job_pod_gone(&mut self, job_uid: &str, pod_uid: &str) {
        if let Some(job) = self.jobs.get_mut(job_uid) {
            job.pods.retain(|p| p != pod_uid);
        }
    }

    /// The ground truth of a CronJob: its Jobs' outcomes, and the template change after which
    /// they began to fail.
    pub(crate) fn cronjob_truth(&self, truth: &CronJobTruth) -> CronJobTruth {
        let mut truth = truth.clone();
        let jobs: Vec<&JobTruth> = self
            .book
            .jobs
            .iter()
            .map(|(j, _)| j)
            .filter(|j| j.lineage.first().is_some_and(|l| l.uid == truth.uid))
            .collect();
        let mut completed_before = false;
        for job in &jobs {
            match job.outcome.as_str() {
                "complete" => {
                    completed_before = true;
                    truth.failing_since_change = None;
                }
                "failed" if completed_before && truth.failing_since_change.is_none() => {
                    truth.failing_since_change = job.template_change.clone();
                }
                _ => {}
            }
        }
        truth
    }
}

/// The latest container finish time of a pod (`getFinishedTime`).
fn finished_at(pod: &Pod) -> Option<Ms> {
    pod.containers
        .iter()
        .filter_map(|c| match &c.state {
            ContainerState::Terminated(t) => Some(t.finished_at),
            _ => None,
        })
        .max()
}

/// A CronJob rendered with its `status.active` references (which need the Jobs).
struct CronJobWithRefs<'a> {
    cronjob: &'a mut CronJob,
    refs: Vec<Value>,
}

impl Object for CronJobWithRefs<'_> {
    const KIND: &'static str = CronJob::KIND;
    const API_VERSION: &'static str = CronJob::API_VERSION;
    const RESOURCE: &'static str = CronJob::RESOURCE;
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.cronjob.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.cronjob.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        self.cronjob.body(out);
        if !self.refs.is_empty() {
            if let Some(status) = out.get_mut("status").and_then(Value::as_object_mut) {
                let mut ordered = Map::new();
                ordered.insert("active".into(), Value::Array(self.refs.clone()));
                for (k, v) in std::mem::take(status) {
                    ordered.insert(k, v);
                }
                *status = ordered;
            }
        }
    }
}
