//! The answer to `analyze --pod`, as plain serializable data (the JSON contract).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::admission::{Builtin, Candidate, Excluded, Injected, Modified, WebhookCall};

use crate::cause::Cause;
use crate::graph::{Change, Confidence};
pub use crate::workload::controller_revision::ControllerRevisionRef;
pub use crate::workload::kinds::job::JobInfo;
pub use crate::workload::lineage::LineageEntry;
use crate::workload::pod::{PodState, Restart};

/// Which pod to analyze.
#[derive(Debug, Clone, Default)]
pub struct PodQuery {
    /// The pod's name.
    pub name: String,
    /// Its namespace; any namespace when `None`.
    pub namespace: Option<String>,
    /// Its UID, to choose among pods that shared the name.
    pub uid: Option<String>,
}

/// namespace, name and UID of a pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

/// The revision a pod belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionInfo {
    /// The revision number, from the ReplicaSet's annotation when the pod was created.
    pub number: Option<i64>,
    /// The `pod-template-hash`.
    pub template_hash: Option<String>,
    /// The change that made the revision.
    pub change: Option<Change>,
    /// The revision number the ReplicaSet carries at the end (differs after a rollback).
    pub current_number: Option<i64>,
    /// The ControllerRevision joined to the pod by its `controller-revision-hash` label
    /// (StatefulSet, DaemonSet); null for the other kinds.
    pub controller_revision: Option<ControllerRevisionRef>,
}

/// Why and when the pod was created.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    /// When: the first record of the pod, or its creationTimestamp when it predates the trace.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub time: Option<Timestamp>,
    /// `rollout`, `scale-up`, `replacement`, `job-start`, `job-retry` or `unknown`.
    pub reason: &'static str,
    /// The change behind it.
    pub change: Option<Change>,
    /// For a replacement, or a StatefulSet/DaemonSet pod recreated for a rollout: the pod it
    /// took the place of.
    pub replaced: Option<NameUid>,
    /// What this rests on, in words.
    pub evidence: String,
    /// What lies behind the immediate cause, when it has a cause of its own: the cause behind a
    /// change that only restarted the pods (a `kubectl rollout restart` or `checksum/` stamp),
    /// e.g. the ConfigMap change the pod reads that came before it; for a replacement, the root
    /// cause of the deletion it replaced (a node's cordon, a node going Unknown); null otherwise.
    pub root_cause: Option<Cause>,
}

/// A name and UID.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameUid {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
}

/// Why and when the pod went away.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deleted {
    /// When its deletion began.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// `rollout`, `scale-down`, `evicted`, `preempted`, `taint-eviction`, `external-delete`,
    /// `cascade-delete` or `unknown`.
    pub reason: &'static str,
    /// The change behind it.
    pub change: Option<Change>,
    /// The pod the ReplicaSet created in its place.
    pub replaced_by: Option<NameUid>,
    /// What this rests on, in words.
    pub evidence: String,
    /// The pod's state in its last record before its deletion began.
    pub state_before: Option<PodState>,
    /// False when the deletion was not seen (it vanished during a watch gap) and `time` is only
    /// the re-list that noticed it.
    pub time_exact: bool,
    /// What lies behind the immediate cause: the cordon before a drain's eviction, the node
    /// going Unknown before a taint eviction.
    pub root_cause: Option<Cause>,
    /// For an eviction: the PodDisruptionBudget that selected the pod, and whether it held the
    /// eviction back; `null` when no recorded budget selected it.
    pub disruption_budget: Option<crate::cause::budget::DisruptionBudget>,
}

/// Why the restarts are (or are not) blamed on the revision's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestartEvidence {
    /// How sure.
    pub confidence: Confidence,
    /// In words, e.g. "revision 1's 3 pods ran 41 min without a restart".
    pub text: String,
}

/// The pod at the end of the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalState {
    /// Time of its last record.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// The trace line of its last record.
    pub line: u64,
    /// How that record came (`MODIFIED`, `LISTED`, …).
    pub event: String,
    /// Whose write it shows, as far as managedFields tell: the entry changed last, as
    /// `MANAGER OPERATION[ of SUBRESOURCE]` (`kubelet Update of status`), or `None` when no
    /// entry has a time.
    pub written_by: Option<String>,
    /// Whether it still existed then.
    pub exists: bool,
    /// Its state.
    #[serde(flatten)]
    pub state: PodState,
}

/// A pod's final state when it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Terminated {
    /// `Failed` or `Succeeded`.
    pub phase: String,
    /// The terminated container's reason (`Error`, `Completed`, `OOMKilled`), else the pod's.
    pub reason: Option<String>,
    /// The failed container's exit code (else the first terminated container's).
    pub exit_code: Option<i64>,
    /// When it was first recorded in that phase.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// The trace line of that record.
    pub line: u64,
}

/// A revision with ready pods at the end of the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Serving {
    /// Revision number.
    pub revision: Option<i64>,
    /// Its ReplicaSet.
    pub replicaset: String,
    /// Ready pods.
    pub ready: i64,
    /// Desired pods.
    pub desired: i64,
}

/// The answer to `analyze --pod`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodReport {
    /// The pod.
    pub pod: PodRef,
    /// The pod, then each controller up the chain, by UID, as at its first record.
    pub lineage: Vec<LineageEntry>,
    /// Its revision.
    pub revision: Option<RevisionInfo>,
    /// A StatefulSet pod's ordinal (its `apps.kubernetes.io/pod-index` label, else its name's
    /// suffix).
    pub ordinal: Option<i64>,
    /// A DaemonSet pod's `pod-template-generation` label.
    pub pod_template_generation: Option<String>,
    /// Why it was created.
    pub created: Created,
    /// Restarts seen during the trace.
    pub restarts: Vec<Restart>,
    /// Restarts before the pod's first record, by container.
    pub restarts_before_trace: BTreeMap<String, i64>,
    /// The change the restarts are blamed on.
    pub restart_cause: Option<Change>,
    /// Why (or why not).
    pub restart_evidence: Option<RestartEvidence>,
    /// Every candidate cause of the restarts the trace supports, most likely first (the
    /// template change, a ConfigMap or Secret change, …); empty when nothing in the trace
    /// explains them, or when there are none.
    pub restart_causes: Vec<Cause>,
    /// Why it went away, if it did.
    pub deleted: Option<Deleted>,
    /// Its last recorded state.
    pub state: FinalState,
    /// Revisions with ready pods at the end.
    pub serving: Vec<Serving>,
    /// A Job's pod: its Job, CronJob, scheduled time and outcome.
    pub job: Option<JobInfo>,
    /// Its final state when it ended (phase `Failed` or `Succeeded`).
    pub terminated: Option<Terminated>,
    /// A failed Job pod: the CronJob's jobTemplate change blamed, when earlier runs with the
    /// old template completed.
    pub failure_cause: Option<Change>,
    /// What admission, the controller and webhooks added to the pod beyond its template.
    #[serde(flatten)]
    pub mutations: Mutations,
    /// What the trace cannot know.
    pub warnings: Vec<String>,
    /// When the trace starts: text gives the date of times on other days (not in JSON, whose
    /// times are whole).
    #[serde(skip)]
    pub trace_start: Option<Timestamp>,
}

/// The admission part of the pod report (issue 13's contract: `injected`, `modified`,
/// `webhooks_called`, `webhook_candidates`, `webhook_candidates_excluded`, `builtin_admission`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mutations {
    /// Items and keys the template lacks that a webhook (or an unknown mutator) added.
    pub injected: Vec<Injected>,
    /// Leaves whose value differs from the template's.
    pub modified: Vec<Modified>,
    /// The webhook calls of the pod's create request, from an audit log; null without a record
    /// of that request.
    pub webhooks_called: Option<Vec<WebhookCall>>,
    /// Without an audit record: the recorded webhooks that match the pod (null when webhook
    /// configurations were not recorded, or the audit log answered).
    pub webhook_candidates: Option<Vec<Candidate>>,
    /// The recorded webhooks that do not match, and why.
    pub webhook_candidates_excluded: Option<Vec<Excluded>>,
    /// What built-in admission, defaulting, the scheduler or the controller added.
    pub builtin_admission: Vec<Builtin>,
}
