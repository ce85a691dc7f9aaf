//! `kblame analyze --object KIND/NAME`: the report of the kind's workload, chosen from a
//! per-kind table keyed by the workload registry's kinds; Deployments and their ReplicaSets
//! (and every kind without a report yet) go to the rollout report, unchanged. A custom
//! resource (`KIND.GROUP/NAME` with a group that is not Kubernetes' own, or `KIND/NAME` whose
//! recorded objects are in such a group) goes to the kstatus report (`custom.rs`).

use serde::Serialize;

use super::batch::{cronjob_report, job_report, CronJobReport, JobReport};
use super::custom::{custom_report, is_custom_group, CustomReport};
use super::rollout::{rollout, RolloutQuery, RolloutReport};
use super::sets::{daemonset_report, statefulset_report, SetReport};
use super::{Loaded, QueryError};
use crate::workload::kinds::daemonset::DAEMONSET;
use crate::workload::kinds::statefulset::STATEFULSET;
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
    /// A StatefulSet or a DaemonSet.
    Set(Box<SetReport>),
    /// A custom resource, by kstatus rules.
    Custom(Box<CustomReport>),
}

type Reporter = fn(&mut Loaded, &RolloutQuery) -> Result<ObjectReport, QueryError>;

/// The kinds with their own object report.
static REPORTS: &[(KindRef, Reporter)] = &[
    (JOB, |l, q| job_report(l, q).map(ObjectReport::Job)),
    (CRONJOB, |l, q| {
        cronjob_report(l, q).map(|r| ObjectReport::CronJob(Box::new(r)))
    }),
    (STATEFULSET, |l, q| {
        statefulset_report(l, q).map(|r| ObjectReport::Set(Box::new(r)))
    }),
    (DAEMONSET, |l, q| {
        daemonset_report(l, q).map(|r| ObjectReport::Set(Box::new(r)))
    }),
];

/// Answers `analyze --object` for the query's kind.
pub fn analyze_object(
    loaded: &mut Loaded,
    query: &RolloutQuery,
) -> Result<ObjectReport, QueryError> {
    if is_custom(loaded, query) {
        return custom_report(loaded, query).map(|r| ObjectReport::Custom(Box::new(r)));
    }
    match REPORTS
        .iter()
        .find(|(kind, _)| kind.kind == query.object.kind)
    {
        Some((_, report)) => report(loaded, query),
        None => rollout(loaded, query).map(ObjectReport::Rollout),
    }
}

/// Whether the query is about a custom resource: its group says so, or (no group given) every
/// recorded object of that kind and name is in a custom group. A `Deployment.example.com` is
/// not the built-in Deployment; built-in objects are in built-in groups, so their reports keep
/// them.
fn is_custom(loaded: &Loaded, query: &RolloutQuery) -> bool {
    if let Some(group) = &query.object.group {
        return is_custom_group(group);
    }
    let kind = query.object.kind.as_str();
    let history = &loaded.history;
    let found = history.by_name(kind, query.object.namespace.as_deref(), &query.object.name);
    !found.is_empty()
        && found.iter().all(|&id| {
            is_custom_group(crate::workload::lineage::group_of(
                &history.object(id).api_version,
            ))
        })
}
