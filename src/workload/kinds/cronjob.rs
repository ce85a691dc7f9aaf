//! Pod → Job → CronJob: each scheduled run is a Job made from `spec.jobTemplate`; the
//! "revision" of a run is the template it was made from.
//!
//! Sources (Kubernetes v1.31): `pkg/controller/cronjob/utils.go` (`getJobFromTemplate2`: the Job
//! is named `NAME-<scheduled minutes since epoch>`, owned by the CronJob with `controller: true`,
//! and annotated `batch.kubernetes.io/cronjob-scheduled-timestamp` in RFC 3339 — feature gate
//! `CronJobsScheduledAnnotation`, beta and on by default since v1.28),
//! `pkg/controller/cronjob/cronjob_controllerv2.go` (`syncCronJob`). Not built yet: the runs in
//! schedule order, their outcomes and the template change they began to fail after (issue 11).

use super::job::JOB;
use super::{KindRef, Rules, Workload};

/// A CronJob and its Jobs.
pub struct CronJob;

const CRONJOB: KindRef = KindRef {
    group: "batch",
    kind: "CronJob",
};

static RULES: Rules = Rules {
    revisions: "none numbered: each Job is made from spec.jobTemplate as it was at its scheduled time",
    pod_join: "pod → its controller Job by UID → the Job's controller CronJob by UID; the Job's batch.kubernetes.io/cronjob-scheduled-timestamp annotation dates the run",
    healthy: "the last scheduled Jobs completed; suspended when spec.suspend",
    source: "pkg/controller/cronjob/utils.go, pkg/controller/cronjob/cronjob_controllerv2.go",
    built: false,
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
}
