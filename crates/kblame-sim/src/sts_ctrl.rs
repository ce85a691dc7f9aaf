//! The StatefulSet controller of Kubernetes v1.31 (`pkg/controller/statefulset`), with its
//! ControllerRevisions: one pod per ordinal from `spec.ordinals.start`, OrderedReady or
//! `Parallel` pod management, and the RollingUpdate strategy (highest ordinal updated first,
//! down to the partition) or `OnDelete` (`stateful_set_control.go` `updateStatefulSet`).
//!
//! Not simulated: `maxUnavailable` (alpha and off in 1.31, so the update deletes one pod per
//! sync whatever the pod management policy), `minReadySeconds`, `volumeClaimTemplates` (no
//! PVCs), scale-down (condemned pods), revision history truncation and hash collisions.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde_json::{json, Map, Value};

use super::config::{DeploymentConfig, Tool};
use super::fields::{full_set, FieldSet, Writer};
use super::gc::Deletion;
use super::model::{
    Cause, ChangeRef, ContainerState, Involved, Meta, Object, OwnerRef, Pod, Reporter,
};
use super::rng::{template_hash, write_canonical};
use super::rs_ctrl::{pod_spec, qos_class, requested_cpu, string_map};
use super::truth::{
    CauseTruth, ChangeTruth, CreatedTruth, LineageTruth, PodRevisionTruth, PodTruth,
    StatefulSetTruth, StsRevisionTruth,
};
use super::world::{Commit, Task, World};

const MANAGER: &str = "kube-controller-manager";
const REPORTER: Reporter = Reporter::Controller("statefulset-controller");
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// `apps.kubernetes.io/pod-index` (`PodIndexLabel`, beta and on in v1.31).
const POD_INDEX: &str = "apps.kubernetes.io/pod-index";
/// `statefulset.kubernetes.io/pod-name`.
const POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
/// `controller-revision-hash` (`apps.ControllerRevisionHashLabelKey`).
const REVISION_LABEL: &str = "controller-revision-hash";
/// `controller.kubernetes.io/hash` (`history.ControllerRevisionHashLabel`).
const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// A StatefulSet as the user writes it: the pod template, replicas and labels of a
/// [`DeploymentConfig`] plus the governing Service's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatefulSetConfig {
    /// Namespace, name, replicas, labels and the pod template.
    pub pods: DeploymentConfig,
    /// `spec.serviceName`.
    pub service_name: String,
    /// `spec.podManagementPolicy: Parallel` in the manifest. Default is false (absent, so
    /// `SetDefaults_StatefulSet` stores `OrderedReady`).
    pub parallel: bool,
    /// `spec.updateStrategy` in the manifest. Default is [`StsStrategy::Default`].
    pub strategy: StsStrategy,
    /// `spec.ordinals.start` in the manifest. Default is `None` (absent: ordinals from 0).
    pub start_ordinal: Option<i32>,
}

/// A StatefulSet's `spec.updateStrategy` as the manifest writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsStrategy {
    /// Absent: the API server stores `RollingUpdate` with `rollingUpdate.partition: 0`.
    Default,
    /// `type: RollingUpdate` with `rollingUpdate.partition`.
    Partition(i32),
    /// `type: OnDelete`: the controller updates a pod only when someone deletes it.
    OnDelete,
}

impl StsStrategy {
    /// `spec.updateStrategy` as stored (`SetDefaults_StatefulSet`).
    fn stored(self) -> Value {
        match self {
            StsStrategy::Default => {
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
            }
            StsStrategy::Partition(partition) => {
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": partition}})
            }
            StsStrategy::OnDelete => json!({"type": "OnDelete"}),
        }
    }

    /// The partition (`updateMin` in `updateStatefulSet`); `None` with `OnDelete`.
    fn partition(self) -> Option<i32> {
        match self {
            StsStrategy::Default => Some(0),
            StsStrategy::Partition(partition) => Some(partition.max(0)),
            StsStrategy::OnDelete => None,
        }
    }
}

impl StatefulSetConfig {
    /// A StatefulSet with the pod template, replicas and labels of `pods`, governed by Service
    /// `service_name`.
    pub fn new(pods: DeploymentConfig, service_name: &str) -> StatefulSetConfig {
        StatefulSetConfig {
            pods,
            service_name: service_name.to_string(),
            parallel: false,
            strategy: StsStrategy::Default,
            start_ordinal: None,
        }
    }

    /// `podManagementPolicy: Parallel`.
    pub fn parallel(mut self) -> Self {
        self.parallel = true;
        self
    }

    /// `updateStrategy`.
    pub fn strategy(mut self, strategy: StsStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// `ordinals.start`.
    pub fn start_ordinal(mut self, start: i32) -> Self {
        self.start_ordinal = Some(start);
        self
    }

    /// The first ordinal (`getStartOrdinal`).
    fn start(&self) -> i32 {
        self.start_ordinal.unwrap_or(0).max(0)
    }

    /// The manifest a tool sends, without server defaults.
    pub fn manifest(&self) -> Value {
        let mut manifest = self.pods.manifest();
        manifest["kind"] = json!("StatefulSet");
        let spec = &manifest["spec"];
        let mut out = Map::new();
        for key in ["replicas", "selector"] {
            out.insert(key.into(), spec[key].clone());
        }
        out.insert("serviceName".into(), json!(self.service_name));
        out.insert("template".into(), spec["template"].clone());
        if self.parallel {
            out.insert("podManagementPolicy".into(), json!("Parallel"));
        }
        if self.strategy != StsStrategy::Default {
            out.insert("updateStrategy".into(), self.strategy.stored());
        }
        if let Some(start) = self.start_ordinal {
            out.insert("ordinals".into(), json!({"start": start}));
        }
        manifest["spec"] = Value::Object(out);
        manifest
    }

    /// The `kubectl.kubernetes.io/last-applied-configuration` text kubectl writes.
    fn last_applied(&self) -> String {
        let mut text = String::new();
        write_canonical(&self.manifest(), &mut text);
        text.push('\n');
        text
    }
}

/// The StatefulSet status fields (`StatefulSetStatus`), as `computeReplicaStatus` fills them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StsStatus {
    pub(crate) observed_generation: i64,
    pub(crate) replicas: i32,
    pub(crate) ready: i32,
    pub(crate) current: i32,
    pub(crate) updated: i32,
    pub(crate) current_revision: String,
    pub(crate) update_revision: String,
    pub(crate) available: i32,
}

/// A replica's pod as `processReplica` sees it at the start of a sync.
struct Replica {
    uid: String,
    /// Failed or Succeeded and not yet being deleted: deleted to be recreated.
    terminal: bool,
    /// Terminating, or not Running and Ready: OrderedReady waits on it.
    waits: bool,
    /// Its `controller-revision-hash` label.
    revision: Option<String>,
}

/// A simulated StatefulSet.
#[derive(Debug, Clone)]
pub(crate) struct StatefulSet {
    pub(crate) meta: Meta,
    pub(crate) replicas: i32,
    pub(crate) selector: BTreeMap<String, String>,
    pub(crate) template: Value,
    pub(crate) service_name: String,
    pub(crate) status: StsStatus,
    pub(crate) config: StatefulSetConfig,
    /// The user's change whose template is the newest revision.
    pub(crate) rollout: Option<ChangeRef>,
    /// When an operator wrote the newest revision: the change to its custom resource behind it
    /// (the `created.root_cause` of that revision's pods).
    pub(crate) owner_cause: Option<CauseTruth>,
    /// The manager of the last `spec.replicas` change.
    pub(crate) scaler: String,
    /// Its ControllerRevisions' uids, oldest first.
    pub(crate) revisions: Vec<String>,
    /// Pod uids by ordinal (a terminating pod stays until it is gone).
    pub(crate) pods: BTreeMap<i32, String>,
    /// Ordinals whose last pod the controller deleted for the rollout (the next one is `rollout`).
    pub(crate) rolled: BTreeMap<i32, String>,
    /// Index into the ground-truth StatefulSets.
    pub(crate) truth: usize,
}

impl Object for StatefulSet {
    const KIND: &'static str = "StatefulSet";
    const API_VERSION: &'static str = "apps/v1";
    const RESOURCE: &'static str = "apps/v1/statefulsets";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    /// `StatefulSetSpec` in Go field order, with `SetDefaults_StatefulSet`'s defaults.
    fn body(&self, out: &mut Map<String, Value>) {
        let policy = if self.config.parallel {
            "Parallel"
        } else {
            "OrderedReady"
        };
        let mut spec = json!({
            "replicas": self.replicas,
            "selector": {"matchLabels": self.selector},
            "template": self.template,
            "serviceName": self.service_name,
            "podManagementPolicy": policy,
            "updateStrategy": self.config.strategy.stored(),
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}
        });
        if let (Some(start), Some(map)) = (self.config.start_ordinal, spec.as_object_mut()) {
            map.insert("ordinals".into(), json!({"start": start}));
        }
        out.insert("spec".into(), spec);
        let s = &self.status;
        let mut status = Map::new();
        if s.observed_generation > 0 {
            status.insert("observedGeneration".into(), json!(s.observed_generation));
        }
        status.insert("replicas".into(), json!(s.replicas));
        for (key, value) in [
            ("readyReplicas", s.ready),
            ("currentReplicas", s.current),
            ("updatedReplicas", s.updated),
        ] {
            if value > 0 {
                status.insert(key.into(), json!(value));
            }
        }
        if !s.current_revision.is_empty() {
            status.insert("currentRevision".into(), json!(s.current_revision));
            status.insert("updateRevision".into(), json!(s.update_revision));
            status.insert("collisionCount".into(), json!(0));
        }
        status.insert("availableReplicas".into(), json!(s.available));
        out.insert("status".into(), Value::Object(status));
    }
}

/// A simulated `apps/v1` ControllerRevision of a StatefulSet.
#[derive(Debug, Clone)]
pub(crate) struct ControllerRevision {
    pub(crate) meta: Meta,
    /// `data`: the template patch (`getPatch`).
    pub(crate) data: Value,
    /// `revision`.
    pub(crate) revision: i64,
    /// The hash (the name after the set's name).
    pub(crate) hash: String,
}

impl Object for ControllerRevision {
    const KIND: &'static str = "ControllerRevision";
    const API_VERSION: &'static str = "apps/v1";
    const RESOURCE: &'static str = "apps/v1/controllerrevisions";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("data".into(), self.data.clone());
        out.insert("revision".into(), json!(self.revision));
    }
}

/// `getPatch` (`stateful_set_utils.go`): the template alone, to be replaced whole on apply.
fn revision_data(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(map) = template.as_object_mut() {
        map.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": template}})
}

fn change_truth(change: Option<&ChangeRef>) -> Option<ChangeTruth> {
    change.filter(|c| !c.creation).map(|c| ChangeTruth {
        manager: c.manager.clone(),
        operation: c.operation.to_string(),
        subresource: c.subresource.map(str::to_string),
        time: c.truth_time(),
        before_trace: !c.recorded,
        fields: c.fields.clone(),
        user: c.user.clone(),
    })
}

impl World {
    /// The StatefulSet `namespace/name`.
    pub(crate) fn find_statefulset(&self, namespace: &str, name: &str) -> Option<String> {
        self.statefulsets
            .values()
            .find(|s| s.meta.namespace == namespace && s.meta.name == name)
            .map(|s| s.meta.uid.clone())
    }

    /// `kubectl apply` of a StatefulSet: creates it or updates it.
    pub(crate) fn apply_statefulset(&mut self, config: &StatefulSetConfig, tool: Tool) {
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
        self.write_statefulset(config, &writer, applied.as_ref(), annotations, None);
    }

    /// Writes a StatefulSet as `writer` (a user's tool or an operator) with `annotations`:
    /// creates it, with `owner` as its controller, or updates it; returns its uid.
    pub(crate) fn write_statefulset(
        &mut self,
        config: &StatefulSetConfig,
        writer: &Writer,
        applied: Option<&FieldSet>,
        annotations: BTreeMap<String, String>,
        owner: Option<OwnerRef>,
    ) -> Option<String> {
        let (uid, event) = match self.find_statefulset(&config.pods.namespace, &config.pods.name) {
            Some(uid) => (uid, EventType::Modified),
            None => {
                let uid = self.uid();
                let p = &config.pods;
                let mut meta = Meta::new(&p.namespace, &p.name, uid.clone(), self.core.now);
                meta.owner = owner;
                let truth = StatefulSetTruth {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    uid: uid.clone(),
                    ..StatefulSetTruth::default()
                };
                self.book.statefulsets.push((truth, false));
                let set = StatefulSet {
                    meta,
                    replicas: 0,
                    selector: p.selector(),
                    template: Value::Null,
                    service_name: config.service_name.clone(),
                    status: StsStatus::default(),
                    config: config.clone(),
                    rollout: None,
                    owner_cause: None,
                    scaler: writer.manager.clone(),
                    revisions: Vec::new(),
                    pods: BTreeMap::new(),
                    rolled: BTreeMap::new(),
                    truth: self.book.statefulsets.len() - 1,
                };
                self.statefulsets.insert(uid.clone(), set);
                (uid, EventType::Added)
            }
        };
        let set = self.statefulsets.get_mut(&uid)?;
        let creation = event == EventType::Added;
        let old_template = set.template.clone();
        let old_replicas = set.replicas;
        set.meta.labels = config.pods.labels.clone();
        set.meta.annotations = annotations;
        set.replicas = config.pods.replicas;
        set.template = config.pods.stored_template();
        set.service_name = config.service_name.clone();
        set.config = config.clone();
        let commit = self.core.commit(set, Some(writer), applied, event);
        if creation {
            let truth = set.truth;
            self.book.statefulsets[truth].1 = commit.recorded && !commit.hidden;
        }
        if set.template != old_template {
            set.rollout = Some(ChangeRef {
                manager: writer.manager.clone(),
                operation: writer.operation.as_str(),
                subresource: writer.subresource,
                at: commit.ts,
                recorded: commit.recorded,
                fields: commit
                    .paths
                    .iter()
                    .filter(|p| p.starts_with("spec."))
                    .cloned()
                    .collect(),
                creation,
                user: commit.user.clone(),
            });
        }
        if set.replicas != old_replicas {
            set.scaler = writer.manager.clone();
        }
        self.core.soon(Task::SyncStatefulSet(uid.clone()));
        Some(uid)
    }

    /// Changes the last applied configuration of a StatefulSet and applies it with `tool`.
    pub(crate) fn update_statefulset(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut StatefulSetConfig),
    ) {
        let Some(uid) = self.find_statefulset(namespace, name) else {
            return;
        };
        let mut config = self.statefulsets[&uid].config.clone();
        change(&mut config);
        self.apply_statefulset(&config, tool);
    }

    /// One pass of the StatefulSet controller (`defaultStatefulSetControl.UpdateStatefulSet`):
    /// revisions, then status as computed from the pods listed at the start, then at most one
    /// pod created or deleted (OrderedReady is monotonic).
    pub(crate) fn sync_statefulset(&mut self, uid: &str) {
        if !self.statefulsets.contains_key(uid) {
            return;
        }
        let update_revision = self.statefulset_revisions(uid);
        let Some(set) = self.statefulsets.get(uid) else {
            return;
        };
        let current_revision = if set.status.current_revision.is_empty() {
            update_revision.clone()
        } else {
            set.status.current_revision.clone()
        };
        let mut status = self.compute_sts_status(uid, &current_revision, &update_revision);
        if let Some(deleted) = self.sts_pods_step(uid, &current_revision, &update_revision) {
            if deleted == current_revision {
                status.current -= 1;
            }
        }
        self.write_sts_status(uid, status);
    }

    /// `getStatefulSetRevisions`: the update revision's name, created (or renumbered, on a
    /// rollback) when `spec.template` has no equal newest revision.
    fn statefulset_revisions(&mut self, uid: &str) -> String {
        let set = &self.statefulsets[uid];
        let data = revision_data(&set.template);
        let hash = template_hash(&data);
        let name = format!("{}-{hash}", set.meta.name);
        let newest = set.revisions.last().and_then(|r| self.revisions.get(r));
        if newest.is_some_and(|r| r.meta.name == name) {
            return name;
        }
        let next = set
            .revisions
            .iter()
            .filter_map(|r| self.revisions.get(r))
            .map(|r| r.revision)
            .max()
            .unwrap_or(0)
            + 1;
        let equal = set
            .revisions
            .iter()
            .find(|r| self.revisions.get(*r).is_some_and(|r| r.meta.name == name))
            .cloned();
        let change = set.rollout.clone();
        let truth = set.truth;
        let rev_uid = if let Some(rev_uid) = equal {
            // `UpdateControllerRevision`: a rollback renumbers the equal old revision.
            let Some(rev) = self.revisions.get_mut(&rev_uid) else {
                return name;
            };
            rev.revision = next;
            self.core.commit(
                rev,
                Some(&Writer::update(MANAGER)),
                None,
                EventType::Modified,
            );
            if let Some(set) = self.statefulsets.get_mut(uid) {
                set.revisions.retain(|r| *r != rev_uid);
                set.revisions.push(rev_uid.clone());
            }
            rev_uid
        } else {
            // `newRevision` + `history.NewControllerRevision` + `CreateControllerRevision`.
            let rev_uid = self.uid();
            let set = &self.statefulsets[uid];
            let mut meta = Meta::new(&set.meta.namespace, &name, rev_uid.clone(), self.core.now);
            meta.labels = string_map(&set.template["metadata"]["labels"]);
            meta.labels.insert(HASH_LABEL.into(), hash.clone());
            meta.annotations = set.meta.annotations.clone();
            meta.owner = Some(OwnerRef {
                api_version: "apps/v1",
                kind: "StatefulSet",
                name: set.meta.name.clone(),
                uid: uid.to_string(),
            });
            let mut rev = ControllerRevision {
                meta,
                data,
                revision: next,
                hash: hash.clone(),
            };
            self.core.commit(
                &mut rev,
                Some(&Writer::update(MANAGER)),
                None,
                EventType::Added,
            );
            self.revisions.insert(rev_uid.clone(), rev);
            if let Some(set) = self.statefulsets.get_mut(uid) {
                set.revisions.push(rev_uid.clone());
            }
            rev_uid
        };
        self.book.statefulsets[truth]
            .0
            .revisions
            .push(StsRevisionTruth {
                number: next,
                name: name.clone(),
                hash,
                uid: rev_uid,
                change: change_truth(change.as_ref()),
            });
        name
    }

    /// `computeReplicaStatus` over the pods the controller sees now.
    fn compute_sts_status(&self, uid: &str, current: &str, update: &str) -> StsStatus {
        let set = &self.statefulsets[uid];
        let mut status = StsStatus {
            observed_generation: set.meta.generation,
            current_revision: current.to_string(),
            update_revision: update.to_string(),
            ..StsStatus::default()
        };
        for pod in set.pods.values().filter_map(|p| self.pods.get(p)) {
            status.replicas += 1;
            let ready = pod.phase == "Running" && pod.is_ready();
            if ready {
                status.ready += 1;
                status.available += 1;
            }
            if pod.meta.deleting() {
                continue;
            }
            let label = pod.meta.labels.get(REVISION_LABEL).map(String::as_str);
            if label == Some(current) {
                status.current += 1;
            }
            if label == Some(update) {
                status.updated += 1;
            }
        }
        status
    }

    /// `processReplica` in ascending ordinal order (OrderedReady stops at the first pod it
    /// creates, deletes or waits on; `Parallel` goes on: `runForAll`), then, unless the
    /// strategy is `OnDelete`, the rolling update from the highest ordinal down to
    /// `start + partition` (`updateStatefulSet`: one deletion per sync, waiting on an updated pod
    /// that is not Running and Ready). Returns the revision of a pod it deleted.
    fn sts_pods_step(&mut self, uid: &str, current: &str, update: &str) -> Option<String> {
        let set = &self.statefulsets[uid];
        let start = set.config.start();
        let end = start + set.replicas.max(0);
        let parallel = set.config.parallel;
        let partition = set.config.strategy.partition();
        let slots: Vec<(i32, Option<Replica>)> = (start..end)
            .map(|ordinal| {
                let pod = set.pods.get(&ordinal).and_then(|p| self.pods.get(p));
                let slot = pod.map(|pod| Replica {
                    uid: pod.meta.uid.clone(),
                    terminal: pod.is_terminal() && !pod.meta.deleting(),
                    waits: pod.meta.deleting() || !(pod.phase == "Running" && pod.is_ready()),
                    revision: pod.meta.labels.get(REVISION_LABEL).cloned(),
                });
                (ordinal, slot)
            })
            .collect();
        for (ordinal, slot) in slots {
            match slot {
                None => {
                    // `newVersionedStatefulSetPod`: below `start + partition`, the current revision.
                    let below = partition.is_some_and(|p| ordinal < start + p);
                    let revision = if below { current } else { update };
                    self.create_sts_pod(uid, ordinal, revision, update);
                    if !parallel {
                        return None;
                    }
                }
                Some(pod) if pod.terminal => {
                    self.delete_sts_pod(uid, &pod.uid, Deletion::Terminal);
                    if !parallel {
                        return pod.revision;
                    }
                }
                Some(pod) if pod.waits && !parallel => return None,
                Some(_) => {}
            }
        }
        let partition = partition?;
        let set = &self.statefulsets[uid];
        for ordinal in ((start + partition)..end).rev() {
            let pod = set.pods.get(&ordinal).and_then(|p| self.pods.get(p))?;
            let revision = pod.meta.labels.get(REVISION_LABEL).cloned();
            if revision.as_deref() != Some(update) && !pod.meta.deleting() {
                let pod_uid = pod.meta.uid.clone();
                let manager = set
                    .rollout
                    .as_ref()
                    .map_or_else(|| MANAGER.to_string(), |c| c.manager.clone());
                let name = pod.meta.name.clone();
                if let Some(set) = self.statefulsets.get_mut(uid) {
                    set.rolled.insert(ordinal, name);
                }
                self.delete_sts_pod(uid, &pod_uid, Deletion::Controller(Cause::Rollout(manager)));
                return revision;
            }
            if pod.meta.deleting() || !(pod.phase == "Running" && pod.is_ready()) {
                return None;
            }
        }
        None
    }

    /// `DeleteStatefulPod` + `recordPodEvent`.
    fn delete_sts_pod(&mut self, set_uid: &str, pod_uid: &str, why: Deletion) {
        let name = self.pods.get(pod_uid).map(|p| p.meta.name.clone());
        self.delete_pod(pod_uid, why);
        if let (Some(set), Some(name)) = (self.statefulsets.get(set_uid), name) {
            let message = format!(
                "delete Pod {name} in StatefulSet {} successful",
                set.meta.name
            );
            let involved = Involved::of(set, None);
            self.record_event(involved, REPORTER, false, "SuccessfulDelete", message);
        }
    }

    /// The pod template of revision `name` of the set: its own template for the update
    /// revision `update`, else the ControllerRevision's `data.spec.template` (`ApplyRevision`).
    fn sts_template(&self, set_uid: &str, name: &str, update: &str) -> Value {
        let set = &self.statefulsets[set_uid];
        if name == update {
            return set.template.clone();
        }
        let stored = set
            .revisions
            .iter()
            .filter_map(|r| self.revisions.get(r))
            .find(|r| r.meta.name == name)
            .map(|r| r.data["spec"]["template"].clone());
        match stored {
            Some(Value::Object(mut template)) => {
                template.remove("$patch");
                Value::Object(template)
            }
            _ => set.template.clone(),
        }
    }

    /// `newVersionedStatefulSetPod` + `CreateStatefulPod`: pod `<set>-<ordinal>` at `revision`
    /// (the current revision below `start + partition`, else the update revision), owned by the set, with its identity labels, hostname and subdomain.
    fn create_sts_pod(&mut self, set_uid: &str, ordinal: i32, revision: &str, update: &str) {
        let token = self.core.rng.name_suffix(5);
        let uid = self.uid();
        let now = self.core.now;
        let template = self.sts_template(set_uid, revision, update);
        let set = &self.statefulsets[set_uid];
        let name = format!("{}-{ordinal}", set.meta.name);
        let mut meta = Meta::new(&set.meta.namespace, &name, uid.clone(), now);
        meta.labels = string_map(&template["metadata"]["labels"]);
        meta.labels.insert(POD_INDEX.into(), ordinal.to_string());
        meta.labels
            .insert(REVISION_LABEL.into(), revision.to_string());
        meta.labels.insert(POD_NAME.into(), name.clone());
        meta.annotations = string_map(&template["metadata"]["annotations"]);
        meta.owner = Some(OwnerRef {
            api_version: "apps/v1",
            kind: "StatefulSet",
            name: set.meta.name.clone(),
            uid: set_uid.to_string(),
        });
        let template_spec = template["spec"].clone();
        let priority = template_spec["priorityClassName"]
            .as_str()
            .and_then(|class| self.priority_classes.get(class))
            .copied()
            .unwrap_or(0);
        let mut spec = Map::new();
        if let Some(stored) = pod_spec(&template_spec, &token, priority).as_object() {
            for (key, value) in stored {
                if key == "schedulerName" {
                    spec.insert("hostname".into(), json!(name));
                    spec.insert("subdomain".into(), json!(set.service_name));
                }
                spec.insert(key.clone(), value.clone());
            }
        }
        let set_name = set.meta.name.clone();
        let rolled = set.rolled.get(&ordinal).cloned();
        let previous = self
            .book
            .pod_names
            .get(&(set.meta.namespace.clone(), name.clone()));
        let replaces = previous
            .and_then(|&i| self.book.pods.get(i))
            .map(|p| p.0.name.clone());
        let (rev_number, rev_uid, hash) = set
            .revisions
            .iter()
            .filter_map(|r| self.revisions.get(r))
            .find(|r| r.meta.name == revision)
            .map(|r| (r.revision, r.meta.uid.clone(), r.hash.clone()))
            .unwrap_or_default();
        let mut lineage = vec![LineageTruth {
            kind: "StatefulSet".into(),
            name: set_name.clone(),
            uid: set_uid.to_string(),
        }];
        // An operator's set: its custom resource is the next link up.
        lineage.extend(set.meta.owner.as_ref().map(|o| LineageTruth {
            kind: o.kind.into(),
            name: o.name.clone(),
            uid: o.uid.clone(),
        }));
        let cause_manager = set.rollout.as_ref().map(|c| c.manager.clone());
        let scaler = set.scaler.clone();
        let mut pod = Pod {
            meta,
            spec: Value::Object(spec),
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
            rs_uid: set_uid.to_string(),
            ready_since: None,
            truth: self.book.pods.len(),
            priority,
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
        let created =
            sts_creation_truth(&commit, rolled.is_some(), replaces, cause_manager, scaler);
        let truth = PodTruth {
            namespace: pod.meta.namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
            replicaset_uid: None,
            revision: rev_number,
            created,
            restarts: Vec::new(),
            deleted: None,
            hidden_by_gap: commit.hidden,
            lineage,
            controller_revision: Some(PodRevisionTruth {
                name: revision.to_string(),
                hash,
                uid: rev_uid,
            }),
            node: None,
            ordinal: Some(i64::from(ordinal)),
            end_state: None,
            finished: None,
            injected: Vec::new(),
            modified: Vec::new(),
            builtin_admission: Vec::new(),
        };
        if let Some(index) = previous.copied() {
            if let Some(deleted) = self
                .book
                .pods
                .get_mut(index)
                .and_then(|e| e.0.deleted.as_mut())
            {
                deleted.replaced_by = Some(name.clone());
            }
        }
        self.book.pod_names.insert(
            (truth.namespace.clone(), name.clone()),
            self.book.pods.len(),
        );
        self.book
            .pods
            .push((truth, commit.recorded && !commit.hidden));
        self.pods.insert(uid.clone(), pod);
        let owner_cause = self
            .statefulsets
            .get(set_uid)
            .and_then(|s| s.owner_cause.clone())
            .filter(|_| rolled.is_some() && commit.recorded);
        if let Some(cause) = owner_cause {
            if let Some(entry) = self.causes_entry(&uid) {
                entry.root_cause = Some(cause);
            }
        }
        if let Some(set) = self.statefulsets.get_mut(set_uid) {
            set.pods.insert(ordinal, uid.clone());
            set.rolled.remove(&ordinal);
        }
        if let Some(set) = self.statefulsets.get(set_uid) {
            let message = format!("create Pod {name} in StatefulSet {set_name} successful");
            self.record_event(
                Involved::of(set, None),
                REPORTER,
                false,
                "SuccessfulCreate",
                message,
            );
        }
        let delay = self.core.jitter(15, 60);
        self.core.after(delay, Task::Schedule(uid));
    }

    /// `updateStatefulSetStatus` after `completeRollingUpdate`; written only when
    /// `inconsistentStatus` finds a difference.
    fn write_sts_status(&mut self, uid: &str, mut status: StsStatus) {
        let Some(set) = self.statefulsets.get_mut(uid) else {
            return;
        };
        // `completeRollingUpdate`: RollingUpdate only, so never with OnDelete.
        if set.config.strategy != StsStrategy::OnDelete
            && status.updated == status.ready
            && status.ready == status.replicas
            && status.replicas == set.replicas
        {
            status.current_revision = status.update_revision.clone();
            status.current = status.updated;
        }
        if status == set.status {
            return;
        }
        set.status = status;
        self.core.commit(
            set,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
        // The operator that owns the set watches it (controller-runtime `Owns`).
        if let Some(owner) = set.meta.owner.as_ref().map(|o| o.uid.clone()) {
            self.operator_watch(&owner);
        }
    }

    /// Bookkeeping once a StatefulSet's pod no longer exists: its ordinal is free again.
    pub(crate) fn sts_pod_gone(&mut self, set_uid: &str, pod_uid: &str) {
        let Some(set) = self.statefulsets.get_mut(set_uid) else {
            return;
        };
        set.pods.retain(|_, p| p != pod_uid);
        self.core.soon(Task::SyncStatefulSet(set_uid.to_string()));
    }

    /// A StatefulSet's verdict for the ground truth: `unknown` with OnDelete (kubectl gives
    /// none); else `complete` once every ordinal is Running and Ready and every ordinal at or
    /// above `start + partition` runs the update revision, else `progressing`, with the halt if
    /// a pod blocks it. Ordinals below the partition at another revision are held, not late.
    pub(crate) fn statefulset_truth(&self, truth: &StatefulSetTruth) -> StatefulSetTruth {
        let mut truth = truth.clone();
        let Some(set) = self.statefulsets.get(&truth.uid) else {
            return truth;
        };
        let update = &set.status.update_revision;
        truth.current_revision = set.status.current_revision.clone();
        truth.update_revision = update.clone();
        let start = set.config.start();
        let partition = set.config.strategy.partition();
        let updated_from = start + partition.unwrap_or(0);
        let mut blocked = None;
        let mut not_updated = Vec::new();
        let mut held = Vec::new();
        for ordinal in start..start + set.replicas.max(0) {
            let pod = set.pods.get(&ordinal).and_then(|p| self.pods.get(p));
            let healthy =
                pod.is_some_and(|p| !p.meta.deleting() && p.phase == "Running" && p.is_ready());
            if !healthy && blocked.is_none() {
                blocked = Some(i64::from(ordinal));
            }
            let at_update = pod.and_then(|p| p.meta.labels.get(REVISION_LABEL)) == Some(update);
            if at_update {
                continue;
            }
            if ordinal >= updated_from {
                not_updated.push(i64::from(ordinal));
            } else if pod.is_some() {
                held.push(i64::from(ordinal));
            }
        }
        let complete = blocked.is_none() && not_updated.is_empty();
        truth.verdict = match (partition, complete) {
            (None, _) => "unknown",
            (Some(_), true) => "complete",
            (Some(_), false) => "progressing",
        }
        .into();
        truth.rollout_halted = partition.is_some()
            && !complete
            && set.status.current_revision != *update
            && blocked.is_some_and(|o| {
                let pod = set.pods.get(&(o as i32)).and_then(|p| self.pods.get(p));
                pod.is_some_and(|p| p.containers.iter().any(|c| c.restarts > 0))
            });
        truth.blocking_ordinal = if complete { None } else { blocked };
        truth.not_updated_ordinals = not_updated;
        truth.partition_held_ordinals = held;
        truth
    }
}

fn sts_creation_truth(
    commit: &Commit,
    rolled: bool,
    replaces: Option<String>,
    rollout_manager: Option<String>,
    scaler: String,
) -> CreatedTruth {
    let time = commit.truth_time();
    let (reason, change_manager, replaces) = if !commit.recorded {
        ("before-trace", None, None)
    } else if rolled {
        ("rollout", rollout_manager, replaces)
    } else if replaces.is_some() {
        ("replacement", None, replaces)
    } else {
        ("scale-up", Some(scaler), None)
    };
    CreatedTruth {
        time,
        reason: reason.into(),
        change_manager,
        replaces,
        root_cause: None,
    }
}

impl World {
    /// `truth` with its `end_state` filled in, for a pod of another controller than a
    /// ReplicaSet that still exists.
    pub(crate) fn pod_end_state(&self, truth: &PodTruth) -> PodTruth {
        let mut truth = truth.clone();
        if truth.lineage.is_empty() {
            return truth;
        }
        if let Some(pod) = self.pods.get(&truth.uid) {
            let waiting = pod.containers.iter().find_map(|c| match &c.state {
                ContainerState::Waiting { reason, .. } => Some(*reason),
                ContainerState::Terminated(t) if pod.is_terminal() => Some(t.reason),
                _ => None,
            });
            let detail = match waiting {
                Some(reason) => reason,
                None if pod.is_ready() => "Ready",
                None => "NotReady",
            };
            let state = if pod.meta.deleting() {
                format!("{}/{detail}/Terminating", pod.phase)
            } else {
                format!("{}/{detail}", pod.phase)
            };
            truth.end_state = Some(state);
        }
        truth
    }
}
