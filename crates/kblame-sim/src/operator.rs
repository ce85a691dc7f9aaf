//! A database operator: the `PostgresCluster` custom resource
//! (`postgres-operator.crunchydata.com/v1beta1`, Crunchy Data PGO's kind) and a controller that
//! owns one StatefulSet per cluster and reports progress the kstatus way.
//!
//! What it follows from PGO (`internal/controller/postgrescluster`): the instance set's
//! StatefulSet is named `<cluster>-<set>-<4 random characters>` and carries the
//! `postgres-operator.crunchydata.com/cluster`, `…/instance-set` and `…/instance` labels; it is
//! written by server-side apply with the field owner `postgrescluster-controller`
//! (`ControllerName`, the reconciler's `Owner`), with an ownerReference to the cluster
//! (`controller: true`, `blockOwnerDeletion: true`); the database container is `database` on
//! port 5432 with Patroni's readiness endpoint `/readiness` on port 8008; `status.instances`
//! counts the set's `replicas`, `readyReplicas` and `updatedReplicas`.
//!
//! Where it departs from PGO, on purpose: PGO sets its StatefulSets to `OnDelete` and rolls the
//! pods itself (Patroni switchover first); here the set keeps `RollingUpdate` and the
//! simulator's StatefulSet controller rolls the pods, which is what a generic operator does.
//! And PGO's own conditions are not kstatus's; this operator reports kstatus's
//! "abnormal-true" conditions (kubernetes-sigs/cli-utils `pkg/kstatus` README;
//! `status/generic.go` `checkGenericProperties`; `docs/controller-facts.md` §6):
//!
//! * `status.observedGeneration` is the generation it last acted on, written together with the
//!   StatefulSet change it made for it.
//! * `Reconciling=True` (reason `Progressing`) while the set's rollout moves; absent otherwise.
//! * `Stalled=True` (reason `RolloutStalled`) once the rollout has made no progress (updated or
//!   ready replicas) for [`PROGRESS_DEADLINE`], as a Deployment's `progressDeadlineSeconds`
//!   (default 600) does; `Reconciling` is removed then, as Flux's controllers do, because
//!   kstatus reads `Reconciling` first and would report a stuck resource as in progress
//!   forever. So a crash-looping new revision ends **Stalled** (kstatus `Failed`), not
//!   Reconciling: the operator has given up waiting, which is the answer a user needs.
//! * `Ready` (True `AllInstancesReady` / False `InstancesNotReady`) is kept for people; kstatus
//!   never reads it.
//!
//! Conditions are `metav1.Condition`s (`type`, `status`, `observedGeneration`,
//! `lastTransitionTime`, `reason`, `message`), set as `meta.SetStatusCondition` does: the
//! transition time moves only when the status changes. Status goes through the `status`
//! subresource; the spec's generation moves only with the user's writes.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::clock::{record_time, whole_seconds, Ms, SECOND};
use super::config::{ContainerConfig, DeploymentConfig, ProbeConfig, Tool};
use super::fields::{full_set, FieldSet, Writer};
use super::model::{ChangeRef, Meta, Object, OwnerRef};
use super::rng::write_canonical;
use super::sts_ctrl::StatefulSetConfig;
use super::truth::{CauseTruth, ChangeTruth, LineageTruth};
use super::world::{Task, World};

/// The operator's field manager (PGO's `ControllerName`).
pub const OPERATOR: &str = "postgrescluster-controller";
/// `apiVersion` of the custom resource.
const API_VERSION: &str = "postgres-operator.crunchydata.com/v1beta1";
const LABEL_CLUSTER: &str = "postgres-operator.crunchydata.com/cluster";
const LABEL_SET: &str = "postgres-operator.crunchydata.com/instance-set";
const LABEL_INSTANCE: &str = "postgres-operator.crunchydata.com/instance";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// How long the rollout may go without progress before the operator declares it stalled.
pub const PROGRESS_DEADLINE: Ms = 600 * SECOND;

/// A `PostgresCluster` as the user writes it: one instance set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresClusterConfig {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.postgresVersion`.
    pub postgres_version: i64,
    /// `spec.image`.
    pub image: String,
    /// `spec.instances[0].name`.
    pub instance_set: String,
    /// `spec.instances[0].replicas`.
    pub replicas: i32,
}

impl PostgresClusterConfig {
    /// A cluster of one instance set `instance1` with `replicas` instances of `image`.
    pub fn new(namespace: &str, name: &str, version: i64, image: &str) -> PostgresClusterConfig {
        PostgresClusterConfig {
            namespace: namespace.to_string(),
            name: name.to_string(),
            postgres_version: version,
            image: image.to_string(),
            instance_set: "instance1".into(),
            replicas: 1,
        }
    }

    /// Sets the instance set's replicas.
    pub fn replicas(mut self, replicas: i32) -> PostgresClusterConfig {
        self.replicas = replicas;
        self
    }

    fn spec(&self) -> Value {
        json!({
            "postgresVersion": self.postgres_version,
            "image": self.image,
            "instances": [{"name": self.instance_set, "replicas": self.replicas}]
        })
    }

    /// The manifest a tool sends.
    pub fn manifest(&self) -> Value {
        json!({
            "apiVersion": API_VERSION,
            "kind": "PostgresCluster",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": self.spec()
        })
    }
}

/// A `metav1.Condition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrCondition {
    pub(crate) kind: &'static str,
    pub(crate) status: bool,
    pub(crate) observed_generation: i64,
    pub(crate) last_transition: Ms,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
}

impl CrCondition {
    fn to_json(&self) -> Value {
        json!({
            "type": self.kind,
            "status": if self.status { "True" } else { "False" },
            "observedGeneration": self.observed_generation,
            "lastTransitionTime": whole_seconds(self.last_transition),
            "reason": self.reason,
            "message": self.message
        })
    }
}

/// `meta.SetStatusCondition`: the transition time stays unless the status changes.
fn set_condition(conditions: &mut Vec<CrCondition>, mut condition: CrCondition) {
    if let Some(current) = conditions.iter_mut().find(|c| c.kind == condition.kind) {
        if current.status == condition.status {
            condition.last_transition = current.last_transition;
        }
        *current = condition;
    } else {
        conditions.push(condition);
    }
}

/// `status` of a PostgresCluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PgStatus {
    observed_generation: i64,
    /// (replicas, readyReplicas, updatedReplicas) of the instance set.
    instances: (i32, i32, i32),
    conditions: Vec<CrCondition>,
}

/// A simulated PostgresCluster.
#[derive(Debug, Clone)]
pub(crate) struct PostgresCluster {
    pub(crate) meta: Meta,
    config: PostgresClusterConfig,
    status: PgStatus,
    /// The instance set's StatefulSet name, once chosen.
    set_name: Option<String>,
    /// The last (updated, ready) counts seen and when they last changed.
    progress: ((i32, i32), Ms),
    /// Index into the ground-truth custom resources.
    truth: usize,
}

impl PostgresCluster {
    /// Its index into the ground-truth custom resources.
    pub(crate) fn truth(&self) -> usize {
        self.truth
    }
}

impl Object for PostgresCluster {
    const KIND: &'static str = "PostgresCluster";
    const API_VERSION: &'static str = API_VERSION;
    const RESOURCE: &'static str = "postgres-operator.crunchydata.com/v1beta1/postgresclusters";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("spec".into(), self.config.spec());
        let s = &self.status;
        let mut status = Map::new();
        if !s.conditions.is_empty() {
            let list = s.conditions.iter().map(CrCondition::to_json).collect();
            status.insert("conditions".into(), Value::Array(list));
        }
        if s.observed_generation > 0 {
            let (replicas, ready, updated) = s.instances;
            status.insert(
                "instances".into(),
                json!([{"name": self.config.instance_set, "replicas": replicas,
                    "readyReplicas": ready, "updatedReplicas": updated}]),
            );
            status.insert("observedGeneration".into(), json!(s.observed_generation));
        }
        out.insert("status".into(), Value::Object(status));
    }
}

/// A condition of a custom resource in the ground truth.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConditionTruth {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `True` or `False`.
    pub status: String,
    /// `reason`.
    pub reason: String,
    /// The ts of the first record showing this type with this status (its latest run), or
    /// `lastTransitionTime` if that was before the trace.
    pub since: String,
}

/// One change of a condition the trace shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConditionChangeTruth {
    /// The ts of the record showing it.
    pub time: String,
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False`, or `absent` when the condition was removed.
    pub status: String,
    /// `reason` (empty when removed).
    pub reason: String,
}

/// A custom resource and what its operator did, at the end of the trace.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CustomResourceTruth {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The objects it controls (its StatefulSet), by UID.
    pub owns: Vec<LineageTruth>,
    /// The users' changes of its `spec` after its creation.
    pub spec_changes: Vec<ChangeTruth>,
    /// `metadata.generation` at the end.
    pub generation: i64,
    /// `status.observedGeneration` at the end.
    pub observed_generation: i64,
    /// kstatus's status by the operator's own state: `current`, `in-progress` or `failed`.
    pub kstatus: String,
    /// `status.conditions` at the end.
    pub conditions: Vec<ConditionTruth>,
    /// Every condition change the trace records, in order.
    pub condition_history: Vec<ConditionChangeTruth>,
}

/// What the operator decides about the rollout of its instance set.
enum Rollout {
    Done,
    Moving(String),
    Stalled(String),
}

impl World {
    /// The PostgresCluster `namespace/name`.
    fn find_postgres(&self, namespace: &str, name: &str) -> Option<String> {
        self.postgres
            .values()
            .find(|c| c.meta.namespace == namespace && c.meta.name == name)
            .map(|c| c.meta.uid.clone())
    }

    /// A user's `tool` applies a PostgresCluster: creates it or changes its spec.
    pub(crate) fn apply_postgres(&mut self, config: &PostgresClusterConfig, tool: Tool) {
        let (writer, applied): (Writer, Option<FieldSet>) = match tool {
            Tool::KubectlServerSideApply => {
                (Writer::apply("kubectl"), Some(full_set(&config.manifest())))
            }
            Tool::Helm => (Writer::update("helm"), None),
            Tool::KubectlApply => (Writer::update("kubectl-client-side-apply"), None),
        };
        let uid = match self.find_postgres(&config.namespace, &config.name) {
            Some(uid) => uid,
            None => self.new_postgres(config),
        };
        let Some(cluster) = self.postgres.get_mut(&uid) else {
            return;
        };
        let event = if cluster.meta.last.is_null() {
            EventType::Added
        } else {
            EventType::Modified
        };
        if tool == Tool::KubectlApply {
            let mut text = String::new();
            write_canonical(&config.manifest(), &mut text);
            text.push('\n');
            cluster.meta.annotations.insert(LAST_APPLIED.into(), text);
        }
        let changed = cluster.config != *config;
        cluster.config = config.clone();
        let commit = self
            .core
            .commit(cluster, Some(&writer), applied.as_ref(), event);
        let truth = cluster.truth;
        if event == EventType::Added {
            self.book.custom[truth].1 = commit.recorded;
        } else if changed {
            let change = ChangeRef {
                manager: writer.manager.clone(),
                operation: writer.operation.as_str(),
                subresource: None,
                at: commit.ts,
                recorded: commit.recorded,
                fields: commit
                    .paths
                    .iter()
                    .filter(|p| p.starts_with("spec."))
                    .cloned()
                    .collect(),
                creation: false,
                user: commit.user.clone(),
            };
            self.book.custom[truth].0.spec_changes.push(ChangeTruth {
                manager: change.manager.clone(),
                operation: change.operation.to_string(),
                subresource: None,
                time: change.truth_time(),
                before_trace: !change.recorded,
                fields: change.fields,
                user: change.user,
            });
        }
        self.core.soon(Task::ReconcilePostgres(uid));
    }

    fn new_postgres(&mut self, config: &PostgresClusterConfig) -> String {
        let uid = self.uid();
        let meta = Meta::new(&config.namespace, &config.name, uid.clone(), self.core.now);
        let truth = CustomResourceTruth {
            api_version: API_VERSION.into(),
            kind: "PostgresCluster".into(),
            namespace: config.namespace.clone(),
            name: config.name.clone(),
            uid: uid.clone(),
            ..CustomResourceTruth::default()
        };
        self.book.custom.push((truth, false));
        let cluster = PostgresCluster {
            meta,
            config: config.clone(),
            status: PgStatus::default(),
            set_name: None,
            progress: ((-1, -1), self.core.now),
            truth: self.book.custom.len() - 1,
        };
        self.postgres.insert(uid.clone(), cluster);
        uid
    }

    /// Changes the last applied configuration of a PostgresCluster and applies it with `tool`.
    pub(crate) fn update_postgres(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut PostgresClusterConfig),
    ) {
        let Some(uid) = self.find_postgres(namespace, name) else {
            return;
        };
        let mut config = self.postgres[&uid].config.clone();
        change(&mut config);
        self.apply_postgres(&config, tool);
    }

    /// The owned StatefulSet's status changed: reconcile its PostgresCluster.
    pub(crate) fn operator_watch(&mut self, owner_uid: &str) {
        if self.postgres.contains_key(owner_uid) {
            self.core
                .soon(Task::ReconcilePostgres(owner_uid.to_string()));
        }
    }

    /// The StatefulSet the cluster's spec asks for (PGO `generateInstanceStatefulSetIntent`,
    /// much reduced).
    fn instance_set(&self, cluster: &PostgresCluster, set_name: &str) -> StatefulSetConfig {
        let c = &cluster.config;
        let labels = BTreeMap::from([
            (LABEL_CLUSTER.to_string(), c.name.clone()),
            (LABEL_INSTANCE.to_string(), set_name.to_string()),
            (LABEL_SET.to_string(), c.instance_set.clone()),
        ]);
        let database = ContainerConfig::new("database", &c.image)
            .port(5432)
            .request("cpu", "500m")
            .request("memory", "512Mi")
            .limit("memory", "1Gi")
            .readiness(ProbeConfig::http("/readiness", 8008).period(10));
        let mut pods = DeploymentConfig::new(&c.namespace, set_name)
            .replicas(c.replicas)
            .container(database);
        pods.labels = labels.clone();
        pods.pod_labels = labels;
        StatefulSetConfig::new(pods, &format!("{}-pods", c.name))
    }

    /// One reconcile: apply the instance set if it differs from the spec, then write the
    /// status (observedGeneration, instance counts, conditions) if it changed.
    pub(crate) fn reconcile_postgres(&mut self, uid: &str) {
        let Some(cluster) = self.postgres.get(uid) else {
            return;
        };
        let set_name = match &cluster.set_name {
            Some(name) => name.clone(),
            None => {
                let suffix = self.core.rng.name_suffix(4);
                format!(
                    "{}-{}-{suffix}",
                    cluster.meta.name, cluster.config.instance_set
                )
            }
        };
        let cluster = &self.postgres[uid];
        let desired = self.instance_set(cluster, &set_name);
        let current = self.find_statefulset(&cluster.meta.namespace, &set_name);
        let stale = current
            .as_ref()
            .and_then(|s| self.statefulsets.get(s))
            .is_none_or(|s| s.config != desired);
        if stale {
            let owner = OwnerRef {
                api_version: API_VERSION,
                kind: "PostgresCluster",
                name: cluster.meta.name.clone(),
                uid: uid.to_string(),
            };
            let applied = full_set(&desired.manifest());
            let writer = Writer::apply(OPERATOR);
            let annotations = BTreeMap::new();
            let set_uid =
                self.write_statefulset(&desired, &writer, Some(&applied), annotations, Some(owner));
            self.note_owner_cause(uid, set_uid.as_deref(), current.is_some());
            let now = self.core.now;
            if let Some(cluster) = self.postgres.get_mut(uid) {
                cluster.set_name = Some(set_name.clone());
                cluster.progress = ((-1, -1), now);
            }
            if let (Some(set_uid), true) = (set_uid, current.is_none()) {
                self.book_owned(uid, &set_name, &set_uid);
            }
        }
        self.write_postgres_status(uid, &set_name);
    }

    /// Ground truth: an update of the instance set comes from the user's latest change to the
    /// PostgresCluster's spec; the pods of the revision it makes name that change as their
    /// `created.root_cause`.
    fn note_owner_cause(&mut self, uid: &str, set_uid: Option<&str>, update: bool) {
        let (Some(set_uid), true) = (set_uid, update) else {
            return;
        };
        let Some(cluster) = self.postgres.get(uid) else {
            return;
        };
        let Some(change) = self.book.custom[cluster.truth].0.spec_changes.last() else {
            return;
        };
        let cause = CauseTruth {
            kind: "template".into(),
            object_kind: "PostgresCluster".into(),
            namespace: cluster.meta.namespace.clone(),
            name: cluster.meta.name.clone(),
            manager: change.manager.clone(),
            time: change.time.clone(),
            digests: None,
        };
        if let Some(set) = self.statefulsets.get_mut(set_uid) {
            set.owner_cause = Some(cause);
        }
    }

    fn book_owned(&mut self, uid: &str, set_name: &str, set_uid: &str) {
        if let Some(truth) = self.postgres.get(uid).map(|c| c.truth) {
            self.book.custom[truth].0.owns.push(LineageTruth {
                kind: "StatefulSet".into(),
                name: set_name.to_string(),
                uid: set_uid.to_string(),
            });
        }
    }

    /// Where the instance set's rollout stands, with the set's (replicas, ready, updated).
    fn rollout_state(&mut self, uid: &str, set_name: &str) -> (Rollout, (i32, i32, i32)) {
        let now = self.core.now;
        let Some(cluster) = self.postgres.get(uid) else {
            return (Rollout::Moving(String::new()), (0, 0, 0));
        };
        let set = self
            .find_statefulset(&cluster.meta.namespace, set_name)
            .and_then(|s| self.statefulsets.get(&s));
        let Some(set) = set else {
            return (Rollout::Moving(String::new()), (0, 0, 0));
        };
        let s = &set.status;
        let counts = (s.replicas, s.ready, s.updated);
        let want = set.replicas;
        let done = s.observed_generation == set.meta.generation
            && !s.update_revision.is_empty()
            && s.current_revision == s.update_revision
            && s.ready == want
            && s.updated == want;
        let message = format!(
            "instance set {}: {}/{want} pods updated to {}, {}/{want} ready",
            cluster.config.instance_set, s.updated, s.update_revision, s.ready
        );
        let moved = (s.updated, s.ready);
        let Some(cluster) = self.postgres.get_mut(uid) else {
            return (Rollout::Moving(message), counts);
        };
        if cluster.progress.0 != moved {
            cluster.progress = (moved, now);
        }
        let since = cluster.progress.1;
        if done {
            (Rollout::Done, counts)
        } else if now - since >= PROGRESS_DEADLINE {
            let message = format!(
                "{message}; no progress for {} s",
                PROGRESS_DEADLINE / SECOND
            );
            (Rollout::Stalled(message), counts)
        } else {
            // Look again when the deadline would pass (controller-runtime `RequeueAfter`).
            let delay = since + PROGRESS_DEADLINE - now;
            self.core
                .once_after(delay, Task::RequeuePostgres(uid.to_string()));
            (Rollout::Moving(message), counts)
        }
    }

    fn write_postgres_status(&mut self, uid: &str, set_name: &str) {
        let (rollout, counts) = self.rollout_state(uid, set_name);
        let now = self.core.now;
        let Some(cluster) = self.postgres.get_mut(uid) else {
            return;
        };
        let generation = cluster.meta.generation;
        let mut status = cluster.status.clone();
        status.observed_generation = generation;
        status.instances = counts;
        let condition = |kind, status, reason, message: &str| CrCondition {
            kind,
            status,
            observed_generation: generation,
            last_transition: now,
            reason,
            message: message.to_string(),
        };
        let conditions = &mut status.conditions;
        match rollout {
            Rollout::Done => {
                conditions.retain(|c| c.kind != "Reconciling" && c.kind != "Stalled");
                let ready = condition(
                    "Ready",
                    true,
                    "AllInstancesReady",
                    "all instances are updated and ready",
                );
                set_condition(conditions, ready);
            }
            Rollout::Moving(message) => {
                conditions.retain(|c| c.kind != "Stalled");
                set_condition(
                    conditions,
                    condition("Reconciling", true, "Progressing", &message),
                );
                set_condition(
                    conditions,
                    condition("Ready", false, "InstancesNotReady", &message),
                );
            }
            Rollout::Stalled(message) => {
                conditions.retain(|c| c.kind != "Reconciling");
                set_condition(
                    conditions,
                    condition("Stalled", true, "RolloutStalled", &message),
                );
                set_condition(
                    conditions,
                    condition("Ready", false, "InstancesNotReady", &message),
                );
            }
        }
        // Reconciling and Stalled first, as kstatus lists them; then Ready.
        conditions.sort_by_key(|c| match c.kind {
            "Reconciling" => 0,
            "Stalled" => 1,
            _ => 2,
        });
        if status == cluster.status {
            return;
        }
        let before = cluster.status.conditions.clone();
        cluster.status = status;
        let commit = self.core.commit(
            cluster,
            Some(&Writer::status(OPERATOR)),
            None,
            EventType::Modified,
        );
        if commit.recorded && !commit.hidden {
            let history = condition_changes(&before, &cluster.status.conditions, commit.ts);
            let truth = cluster.truth;
            self.book.custom[truth].0.condition_history.extend(history);
        }
    }

    /// The ground truth of a PostgresCluster at the end of the trace.
    pub(crate) fn custom_truth(&self, truth: &CustomResourceTruth) -> CustomResourceTruth {
        let mut truth = truth.clone();
        let Some(cluster) = self.postgres.get(&truth.uid) else {
            return truth;
        };
        let s = &cluster.status;
        truth.generation = cluster.meta.generation;
        truth.observed_generation = s.observed_generation;
        let has = |kind: &str| s.conditions.iter().any(|c| c.kind == kind && c.status);
        truth.kstatus = if s.observed_generation != cluster.meta.generation || has("Reconciling") {
            "in-progress"
        } else if has("Stalled") {
            "failed"
        } else {
            "current"
        }
        .into();
        truth.conditions = s
            .conditions
            .iter()
            .map(|c| {
                let status = if c.status { "True" } else { "False" };
                let since = run_start(&truth.condition_history, c.kind, status)
                    .unwrap_or_else(|| whole_seconds(c.last_transition));
                ConditionTruth {
                    kind: c.kind.into(),
                    status: status.into(),
                    reason: c.reason.into(),
                    since,
                }
            })
            .collect();
        truth
    }
}

/// The condition changes from `before` to `after` (status or reason moved, or removed).
fn condition_changes(
    before: &[CrCondition],
    after: &[CrCondition],
    ts: Ms,
) -> Vec<ConditionChangeTruth> {
    let mut changes = Vec::new();
    for c in after {
        let old = before.iter().find(|b| b.kind == c.kind);
        if old.is_some_and(|o| o.status == c.status && o.reason == c.reason) {
            continue;
        }
        changes.push(ConditionChangeTruth {
            time: record_time(ts),
            kind: c.kind.into(),
            status: if c.status { "True" } else { "False" }.into(),
            reason: c.reason.into(),
        });
    }
    for b in before {
        if !after.iter().any(|c| c.kind == b.kind) {
            changes.push(ConditionChangeTruth {
                time: record_time(ts),
                kind: b.kind.into(),
                status: "absent".into(),
                reason: String::new(),
            });
        }
    }
    changes
}

/// The ts of the change that began the latest run of `kind` with `status` in `history`, if the
/// condition has that status at the end of it.
fn run_start(history: &[ConditionChangeTruth], kind: &str, status: &str) -> Option<String> {
    let mut run: Option<(&str, &str)> = None;
    for h in history.iter().filter(|h| h.kind == kind) {
        if run.is_none_or(|(s, _)| s != h.status) {
            run = Some((&h.status, &h.time));
        }
    }
    run.filter(|(s, _)| *s == status)
        .map(|(_, t)| t.to_string())
}
