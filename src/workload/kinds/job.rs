//! Pod → Job: a Job has no revisions (its pod template is immutable); it runs pods to
//! completion and replaces failed ones up to `backoffLimit`.
//!
//! Sources (Kubernetes v1.31): `staging/src/k8s.io/api/batch/v1/types.go` (`JobNameLabel` =
//! `batch.kubernetes.io/job-name`, `ControllerUidLabel` = `batch.kubernetes.io/controller-uid`,
//! set on the pods besides the legacy `job-name`/`controller-uid`), `pkg/controller/job/job_controller.go`
//! (`syncJob`, terminal conditions `Complete`/`Failed`; `FailureTarget` and `SuccessCriteriaMet`
//! are interim). Not built yet: pod reasons (`job-start`, `job-retry`), outcome (issue 11).

use super::{KindRef, Rules, Workload};

/// A Job that no CronJob owns.
pub struct Job;

/// `batch/Job`.
pub(super) const JOB: KindRef = KindRef {
    group: "batch",
    kind: "Job",
};

static RULES: Rules = Rules {
    revisions: "none: spec.template is immutable; the Job is one run",
    pod_join: "the pod's controller Job, by UID (labels batch.kubernetes.io/controller-uid and batch.kubernetes.io/job-name)",
    healthy: "condition Complete=True; failed on Failed=True (BackoffLimitExceeded, DeadlineExceeded, …); suspended when spec.suspend",
    source: "staging/src/k8s.io/api/batch/v1/types.go, pkg/controller/job/job_controller.go",
    built: false,
};

impl Workload for Job {
    fn kind(&self) -> KindRef {
        JOB
    }

    fn chain(&self) -> &'static [KindRef] {
        &[JOB]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }
}
