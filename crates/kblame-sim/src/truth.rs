//! Ground truth: what the simulator knows it did, written as `<scenario>.expect.json`.

use serde::Serialize;

use super::operator::CustomResourceTruth;

/// Everything a scenario's analyzer answers should match.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroundTruth {
    /// The scenario name.
    pub scenario: String,
    /// One paragraph saying what happens.
    pub description: String,
    /// Every Deployment visible in the trace.
    pub deployments: Vec<DeploymentTruth>,
    /// Every pod visible in the trace.
    pub pods: Vec<PodTruth>,
    /// Every StatefulSet visible in the trace (left out of the JSON when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statefulsets: Vec<StatefulSetTruth>,
    /// Every DaemonSet visible in the trace (left out when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub daemonsets: Vec<DaemonSetTruth>,
    /// Every CronJob visible in the trace (left out when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cronjobs: Vec<CronJobTruth>,
    /// Every Job visible in the trace (left out when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<JobTruth>,
    /// Every custom resource visible in the trace (left out when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_resources: Vec<CustomResourceTruth>,
    /// The visible pods whose failures or creation the simulator knows came from outside their
    /// template (a ConfigMap change they read), in pod order (left out when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pod_causes: Vec<PodCausesTruth>,
}

/// What the simulator knows made one pod fail or be created, beyond its template.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PodCausesTruth {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// What made its containers fail: each ConfigMap change whose new value its app rejected, at
    /// start or on reload.
    pub restart_causes: Vec<CauseTruth>,
    /// For a pod created by a `kubectl rollout restart` revision: the last change, before it,
    /// of a ConfigMap it reads (why someone restarted it); `null` otherwise.
    pub root_cause: Option<CauseTruth>,
}

/// A change the simulator knows it acted on: the object, who changed it and when.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CauseTruth {
    /// `config` (a ConfigMap change) or `image-digest` (a moved image tag).
    pub kind: String,
    /// The changed object's kind, e.g. `ConfigMap`.
    pub object_kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The field manager of the change (left out for `image-digest`: a push is not an API write).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub manager: String,
    /// The ts of the first record showing the change.
    pub time: String,
    /// For `image-digest`: the digest the tag had and the one it moved to (left out otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digests: Option<DigestsTruth>,
}

/// The two digests of a moved image tag, as `sha256:<hex>`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DigestsTruth {
    /// The digest before the push.
    pub from: String,
    /// The digest the push made the tag point at.
    pub to: String,
}

/// A DaemonSet, its ControllerRevisions and its rollout's state at the end of the trace.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DaemonSetTruth {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Its ControllerRevisions in the order they were made.
    pub revisions: Vec<DsRevisionTruth>,
    /// `complete` (every node's pod updated and available) or `progressing`.
    pub verdict: String,
    /// Nodes whose pod is not of the current template at the end.
    pub not_updated_nodes: Vec<String>,
}

/// One ControllerRevision of a DaemonSet.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DsRevisionTruth {
    /// Its `revision` number.
    pub number: i64,
    /// Its name, `<ds>-<hash>`.
    pub name: String,
    /// The hash: what its pods' `controller-revision-hash` label holds.
    pub hash: String,
    /// Its UID.
    pub uid: String,
    /// The DaemonSet's `deprecated.daemonset.template.generation` (its pods'
    /// `pod-template-generation`).
    pub template_generation: i64,
    /// The change of `spec.template` that made it; `null` for the first template.
    pub change: Option<ChangeTruth>,
}

/// A CronJob, the Jobs it created and the changes of its Job template.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CronJobTruth {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `spec.schedule`.
    pub schedule: String,
    /// The names of the Jobs it created, in order (history cleanup may have deleted some).
    pub jobs: Vec<String>,
    /// Changes of `spec.jobTemplate` after its creation, in order.
    pub template_changes: Vec<ChangeTruth>,
    /// The template change after which its Jobs failed while earlier ones had completed
    /// (`null` if its Jobs are not failing).
    pub failing_since_change: Option<ChangeTruth>,
}

/// A Job and what became of it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct JobTruth {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Its controller chain, nearest first (empty for a Job created by hand).
    pub lineage: Vec<LineageTruth>,
    /// The run it is for (its `batch.kubernetes.io/cronjob-scheduled-timestamp`).
    pub scheduled_time: Option<String>,
    /// The CronJob's last change of `spec.jobTemplate` before the Job was created (`null`
    /// if the template is the one the CronJob was created with).
    pub template_change: Option<ChangeTruth>,
    /// Its pods' UIDs, in creation order.
    pub pods: Vec<String>,
    /// `complete` (Complete=True), `failed` (Failed=True) or `progressing`.
    pub outcome: String,
    /// The Failed condition's reason, e.g. `BackoffLimitExceeded`.
    pub reason: Option<String>,
    /// `status.succeeded` when it finished.
    pub succeeded_pods: i32,
    /// `status.failed` when it finished.
    pub failed_pods: i32,
    /// Its deletion, if it was deleted.
    pub deleted: Option<JobDeletedTruth>,
}

/// Why a Job went away.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct JobDeletedTruth {
    /// The ts of its DELETED record.
    pub time: String,
    /// `history-limit` (the CronJob's `successfulJobsHistoryLimit` / `failedJobsHistoryLimit`).
    pub reason: String,
}

/// A StatefulSet, its ControllerRevisions and its rollout's state at the end of the trace.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StatefulSetTruth {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Its ControllerRevisions in the order they became the update revision (a rollback
    /// renumbers an old one, which then appears again with its new number).
    pub revisions: Vec<StsRevisionTruth>,
    /// `status.currentRevision` at the end.
    pub current_revision: String,
    /// `status.updateRevision` at the end.
    pub update_revision: String,
    /// `complete` (every ordinal Running and Ready, and those at or above `start + partition`
    /// at the update revision), `progressing`, or `unknown` (OnDelete: kubectl gives no
    /// verdict). A StatefulSet never fails by itself: it has no deadline and no conditions.
    pub verdict: String,
    /// Whether the rollout is halted by a crash-looping pod (OrderedReady waits forever).
    pub rollout_halted: bool,
    /// The lowest ordinal that is not Running and Ready, while not complete.
    pub blocking_ordinal: Option<i64>,
    /// Ordinals at or above `start + partition` whose pod is not at the update revision (with
    /// OnDelete, every ordinal whose pod is not: each waits for someone to delete it).
    pub not_updated_ordinals: Vec<i64>,
    /// Ordinals below `start + partition` whose pod is at another revision: the controller
    /// leaves them there until the partition is lowered (left out when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partition_held_ordinals: Vec<i64>,
}

/// One ControllerRevision of a StatefulSet.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StsRevisionTruth {
    /// Its `revision` number when it became the update revision.
    pub number: i64,
    /// Its name, `<set>-<hash>`: what pods' `controller-revision-hash` label holds.
    pub name: String,
    /// The hash (the `controller.kubernetes.io/hash` label).
    pub hash: String,
    /// Its UID.
    pub uid: String,
    /// The change of `spec.template` that made it; `null` for the set's first template.
    pub change: Option<ChangeTruth>,
}

/// One link of a pod's controller chain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LineageTruth {
    /// Kind of the controller.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its UID.
    pub uid: String,
}

/// The ControllerRevision a pod was created from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PodRevisionTruth {
    /// Its name (the pod's `controller-revision-hash` label for a StatefulSet pod; a
    /// DaemonSet pod's label holds only the hash).
    pub name: String,
    /// Its hash.
    pub hash: String,
    /// Its UID.
    pub uid: String,
}

/// A Deployment and its revisions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeploymentTruth {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID (a re-created Deployment is a separate entry).
    pub uid: String,
    /// Revisions in the order they were made.
    pub revisions: Vec<RevisionTruth>,
    /// `complete`, `failed` or `progressing` at the end of the trace (or at deletion).
    pub final_outcome: String,
}

/// One revision of a Deployment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RevisionTruth {
    /// The `deployment.kubernetes.io/revision` number.
    pub number: i64,
    /// The pod-template-hash.
    pub template_hash: String,
    /// The ReplicaSet name.
    pub replicaset: String,
    /// The ReplicaSet UID.
    pub replicaset_uid: String,
    /// The change that made it; `null` for the revision the Deployment was created with.
    pub change: Option<ChangeTruth>,
}

/// A change of a Deployment's spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangeTruth {
    /// The field manager.
    pub manager: String,
    /// `Update` or `Apply`.
    pub operation: String,
    /// The subresource written through, if any.
    pub subresource: Option<String>,
    /// The ts of the first record showing it, or the managedFields time if before the trace.
    pub time: String,
    /// Whether it happened before the trace began.
    pub before_trace: bool,
    /// The leaf paths it changed under `spec`.
    pub fields: Vec<String>,
    /// The user whose request made it (only when the scenario writes an audit log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// A pod's life as far as the trace shows it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PodTruth {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The owning ReplicaSet's UID (left out for pods of other controllers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicaset_uid: Option<String>,
    /// The revision of its ReplicaSet (or ControllerRevision) when the pod was created (left
    /// out, as 0, for pods of controllers without revisions, such as Jobs).
    #[serde(skip_serializing_if = "is_zero")]
    pub revision: i64,
    /// Why it was created.
    pub created: CreatedTruth,
    /// Container restarts seen in the trace.
    pub restarts: Vec<RestartTruth>,
    /// Why it went away, if it did.
    pub deleted: Option<DeletedTruth>,
    /// Whether a fact above (creation, deletion or a restart) happened while the watch of pods
    /// was broken, so the trace cannot show it (left out of the JSON when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden_by_gap: bool,
    /// Its controller chain, nearest first (left out for Deployment pods, whose chain is
    /// `replicaset_uid`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<LineageTruth>,
    /// The ControllerRevision it was created from (StatefulSet pods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_revision: Option<PodRevisionTruth>,
    /// The node it is pinned to (DaemonSet pods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Its ordinal (StatefulSet pods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<i64>,
    /// Its state at the end of the trace if it still exists: the phase, then `Ready`, the
    /// first waiting reason (e.g. `Running/CrashLoopBackOff`) or, once finished, the terminated
    /// reason (e.g. `Failed/Error`) (pods of StatefulSets and Jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_state: Option<String>,
    /// How it finished, if it reached `Succeeded` or `Failed` in the trace (Job pods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<FinishedTruth>,
    /// What a mutating webhook added at its creation (left out when nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub injected: Vec<InjectedTruth>,
    /// What a mutating webhook changed at its creation (left out when nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modified: Vec<ModifiedTruth>,
    /// What built-in admission, defaulting and the scheduler added beyond its template (only
    /// in scenarios with webhooks; left out otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub builtin_admission: Vec<BuiltinTruth>,
}

/// A path a mutating webhook injected into a pod, e.g. `spec.containers[name=istio-proxy]` or
/// `metadata.annotations["sidecar.istio.io/status"]` (an injected list item is one path).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct InjectedTruth {
    /// The path.
    pub path: String,
    /// The webhook, e.g. `namespace.sidecar-injector.istio.io`.
    pub webhook: String,
    /// Its MutatingWebhookConfiguration.
    pub configuration: String,
}

/// A field a mutating webhook changed in a pod, e.g. Istio's rewrite of an HTTP probe.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ModifiedTruth {
    /// The path, e.g. `spec.containers[name=web].readinessProbe.httpGet.path`.
    pub path: String,
    /// The value in the template.
    pub from: serde_json::Value,
    /// The value in the pod.
    pub to: serde_json::Value,
    /// The webhook.
    pub webhook: String,
    /// Its MutatingWebhookConfiguration.
    pub configuration: String,
}

/// A path built-in admission or another component set, with which one.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BuiltinTruth {
    /// The path, e.g. `spec.tolerations`.
    pub path: String,
    /// `ServiceAccount`, `DefaultTolerationSeconds`, `Priority`, `defaulting` or `scheduler`.
    pub source: String,
}

/// A pod reaching a terminal phase.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct FinishedTruth {
    /// `Succeeded` or `Failed`.
    pub phase: String,
    /// The container's terminated reason, e.g. `Completed` or `Error`.
    pub reason: String,
    /// Its exit code.
    pub exit_code: i32,
    /// The ts of the first record showing the phase.
    pub time: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Why a pod was created.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CreatedTruth {
    /// The ts of its ADDED record, or its creationTimestamp if before the trace.
    pub time: String,
    /// `rollout`, `scale-up`, `replacement` (of a deleted, evicted or preempted pod),
    /// `job-start` (a Job's first pod), `job-retry` (a Job's pod after a failed one) or
    /// `before-trace`.
    pub reason: String,
    /// The manager of the change that caused it.
    pub change_manager: Option<String>,
    /// The pod it replaces.
    pub replaces: Option<String>,
    /// The root cause of the departure it replaces (a node's cordon or lost heartbeat); left
    /// out when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<RootCauseTruth>,
}

/// The PodDisruptionBudget an eviction went through.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BudgetTruth {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// How many times the eviction subresource refused the eviction (429) before it allowed it:
    /// `kubectl drain` retries every 5 s. A refusal writes nothing, so no record shows it.
    pub refusals: u32,
    /// When the first refusal came (record-time form); left out when there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_refused: Option<String>,
}

/// What lies behind an immediate cause (issue 12): a node's cordon or its lost heartbeat.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RootCauseTruth {
    /// `node`.
    pub kind: String,
    /// The node's name.
    pub node: String,
    /// `cordon` (its `spec.unschedulable` set), `ready-unknown` (its Ready condition went
    /// Unknown after its kubelet stopped reporting), `preemption` (the scheduler made room on
    /// it for a pod of higher priority) or `node-pressure` (its kubelet evicted the pod).
    pub what: String,
    /// The manager of the change (`kubectl` for `kubectl cordon`); none for the lifecycle controller's.
    pub manager: Option<String>,
    /// The ts of the first record showing it.
    pub time: String,
    /// For a preemption: the preemptor pod's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preemptor: Option<String>,
}

/// One container restart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RestartTruth {
    /// Container name.
    pub container: String,
    /// `Error`, `OOMKilled` or `LivenessProbe`.
    pub reason: String,
    /// The exit code of the terminated run.
    pub exit_code: i32,
    /// The ts of the first record showing the termination.
    pub time: String,
}

/// Why a pod went away.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeletedTruth {
    /// The ts of the first record showing the deletion (deletionTimestamp, or DELETED), or for
    /// an eviction the first record showing phase Failed with reason Evicted.
    pub time: String,
    /// `rollout`, `scale-down`, `external-delete`, `cascade-delete`, `preempted`, `evicted`,
    /// `taint-eviction` (the taint manager deleted it from an unreachable node), or
    /// `terminal-recreate` (a StatefulSet deletes its Failed or Succeeded pod to recreate it).
    pub reason: String,
    /// The manager of the change that caused it.
    pub change_manager: Option<String>,
    /// The pod created to replace it.
    pub replaced_by: Option<String>,
    /// What lies behind the immediate cause: for a drain the cordon, for a taint eviction the
    /// node's Ready condition going Unknown; left out when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<RootCauseTruth>,
    /// For an eviction: the PodDisruptionBudget that selected the pod and finally allowed it;
    /// left out when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disruption_budget: Option<BudgetTruth>,
}
