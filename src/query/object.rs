//! `kblame analyze --object KIND/NAME`: the report of the kind's workload, chosen from a
//! per-kind table keyed by the workload registry's kinds; Deployments and their ReplicaSets
//! (and every kind without a report yet) go to the rollout report, unchanged.

use serde::Serialize;

use super::batch::{cronjob_report, job_report, CronJobReport, JobReport};
use super::rollout::{rollout, RolloutQuery, RolloutReport};
use super::{Loaded, QueryError};
use crate::workload::kinds::{KindRef, CRONJOB, JOB};

/// One kind's object report; serialized as the report itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ObjectReport {
    /// A Deployment's rollout (also for a ReplicaSet).
    Rollout(RolloutReport),
    /// A Job.
    Job(JobReport),
    /// A CronJob.
    CronJob(Box<CronJobReport>),
}

type Reporter = fn(&mut Loaded, &RolloutQuery) -> Result<ObjectReport, QueryError>;

/// The kinds with their own object report.
static REPORTS: &[(KindRef, Reporter)] = &[
    (JOB, |l, q| job_report(l, q).map(ObjectReport::Job)),
    (CRONJOB, |l, q| {
        cronjob_report(l, q).map(|r| ObjectReport::CronJob(Box::new(r)))
    }),
];

/// Answers `analyze --object` for the query's kind.
pub fn analyze_object(
    loaded: &mut Loaded,
    query: &RolloutQuery,
) -> Result<ObjectReport, QueryError> {
    match REPORTS
        .iter()
        .find(|(kind, _)| kind.kind == query.object.kind)
    {
        Some((_, report)) => report(loaded, query),
        None => rollout(loaded, query).map(ObjectReport::Rollout),
    }
}
