//! The DaemonSet controller of Kubernetes v1.31 (`pkg/controller/daemon`): one pod per node,
//! pinned by node affinity, ControllerRevisions from `constructHistory`, and the RollingUpdate
//! strategy with its defaults (`maxUnavailable` 1, `maxSurge` 0).
//!
//! Not simulated: node selectors, taints and which nodes "should run" a pod (every node does),
//! `maxSurge` above 0, `OnDelete`, `minReadySeconds`, failed or succeeded daemon pods, surplus
//! pods on a node, history cleanup, hash collisions and rollbacks.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde_json::{json, Map, Value};

use super::config::{DeploymentConfig, Tool};
use super::fields::{full_set, FieldSet, Writer};
use super::gc::Deletion;
use super::model::{Cause, ChangeRef, Involved, Meta, Object, OwnerRef, Pod, Reporter};
use super::rng::{template_hash, write_canonical};
use super::rs_ctrl::{pod_spec, qos_class, requested_cpu, string_map};
use super::sts_ctrl::ControllerRevision;
use super::truth::{
    ChangeTruth, CreatedTruth, DaemonSetTruth, DsRevisionTruth, LineageTruth, PodRevisionTruth,
    PodTruth,
};
use super::world::{Task, World};

const MANAGER: &str = "kube-controller-manager";
const REPORTER: Reporter = Reporter::Controller("daemonset-controller");
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The apps/v1 form of the internal `spec.templateGeneration`.
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";
/// `extensions.DaemonSetTemplateGenerationKey`.
const POD_TEMPLATE_GENERATION: &str = "pod-template-generation";
/// `apps.DefaultDaemonSetUniqueLabelKey`.
const REVISION_LABEL: &str = "controller-revision-hash";

/// A DaemonSet as the user writes it: the pod template and labels of a [`DeploymentConfig`]
/// (its replicas are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonSetConfig {
    /// Namespace, name, labels and the pod template.
    pub pods: DeploymentConfig,
}

impl DaemonSetConfig {
    /// A DaemonSet running the pod template of `pods` on every node.
    pub fn new(pods: DeploymentConfig) -> DaemonSetConfig {
        DaemonSetConfig { pods }
    }

    /// The manifest a tool sends, without server defaults.
    pub fn manifest(&self) -> Value {
        let mut manifest = self.pods.manifest();
        manifest["kind"] = json!("DaemonSet");
        let spec = &manifest["spec"];
        manifest["spec"] = json!({"selector": spec["selector"], "template": spec["template"]});
        manifest
    }

    fn last_applied(&self) -> String {
        let mut text = String::new();
        write_canonical(&self.manifest(), &mut text);
        text.push('\n');
        text
    }
}

/// `DaemonSetStatus`, as `updateDaemonSetStatus` fills it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DsStatus {
    current: i32,
    desired: i32,
    ready: i32,
    observed_generation: i64,
    updated: i32,
    available: i32,
}

/// A simulated DaemonSet.
#[derive(Debug, Clone)]
pub(crate) struct DaemonSet {
    pub(crate) meta: Meta,
    pub(crate) selector: BTreeMap<String, String>,
    pub(crate) template: Value,
    /// `spec.templateGeneration` (the annotation).
    pub(crate) template_generation: i64,
    pub(crate) status: DsStatus,
    pub(crate) config: DaemonSetConfig,
    pub(crate) rollout: Option<ChangeRef>,
    pub(crate) creator: String,
    /// Its ControllerRevisions' uids, oldest first.
    pub(crate) revisions: Vec<String>,
    /// Its pods' uids.
    pub(crate) pods: Vec<String>,
    /// Nodes whose pod was deleted for the rollout, with that pod's name.
    pub(crate) rolled: BTreeMap<String, String>,
    pub(crate) truth: usize,
}

impl Object for DaemonSet {
    const KIND: &'static str = "DaemonSet";
    const API_VERSION: &'static str = "apps/v1";
    const RESOURCE: &'static str = "apps/v1/daemonsets";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    /// `DaemonSetSpec` in Go field order with `SetDefaults_DaemonSet`'s defaults.
    fn body(&self, out: &mut Map<String, Value>) {
        let spec = json!({
            "selector": {"matchLabels": self.selector},
            "template": self.template,
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}
            },
            "revisionHistoryLimit": 10
        });
        out.insert("spec".into(), spec);
        let s = &self.status;
        let mut status = Map::new();
        status.insert("currentNumberScheduled".into(), json!(s.current));
        status.insert("numberMisscheduled".into(), json!(0));
        status.insert("desiredNumberScheduled".into(), json!(s.desired));
        status.insert("numberReady".into(), json!(s.ready));
        if s.observed_generation > 0 {
            status.insert("observedGeneration".into(), json!(s.observed_generation));
        }
        let unavailable = s.desired - s.available;
        for (key, value) in [
            ("updatedNumberScheduled", s.updated),
            ("numberAvailable", s.available),
            ("numberUnavailable", unavailable),
        ] {
            if value > 0 {
                status.insert(key.into(), json!(value));
            }
        }
        out.insert("status".into(), Value::Object(status));
    }
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

/// The DaemonSet controller's tolerations (`AddOrUpdateDaemonPodTolerations`).
fn daemon_tolerations() -> Value {
    let exists =
        |key: &str, effect: &str| json!({"key": key, "operator": "Exists", "effect": effect});
    json!([
        exists("node.kubernetes.io/not-ready", "NoExecute"),
        exists("node.kubernetes.io/unreachable", "NoExecute"),
        exists("node.kubernetes.io/disk-pressure", "NoSchedule"),
        exists("node.kubernetes.io/memory-pressure", "NoSchedule"),
        exists("node.kubernetes.io/pid-pressure", "NoSchedule"),
        exists("node.kubernetes.io/unschedulable", "NoSchedule")
    ])
}

impl World {
    /// The DaemonSet `namespace/name`.
    pub(crate) fn find_daemonset(&self, namespace: &str, name: &str) -> Option<String> {
        self.daemonsets
            .values()
            .find(|d| d.meta.namespace == namespace && d.meta.name == name)
            .map(|d| d.meta.uid.clone())
    }

    /// `kubectl apply` of a DaemonSet: creates it or updates it; a template change bumps the
    /// template generation (`PrepareForUpdate`).
    pub(crate) fn apply_daemonset(&mut self, config: &DaemonSetConfig, tool: Tool) {
        let (writer, applied): (Writer, Option<FieldSet>) = match tool {
            Tool::KubectlServerSideApply => {
                (Writer::apply("kubectl"), Some(full_set(&config.manifest())))
            }
            Tool::Helm => (Writer::update("helm"), None),
            Tool::KubectlApply => (Writer::update("kubectl-client-side-apply"), None),
        };
        let p = &config.pods;
        let (uid, event) = match self.find_daemonset(&p.namespace, &p.name) {
            Some(uid) => (uid, EventType::Modified),
            None => {
                let uid = self.uid();
                let meta = Meta::new(&p.namespace, &p.name, uid.clone(), self.core.now);
                self.book.daemonsets.push((
                    DaemonSetTruth {
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                        uid: uid.clone(),
                        ..DaemonSetTruth::default()
                    },
                    false,
                ));
                let ds = DaemonSet {
                    meta,
                    selector: p.selector(),
                    template: Value::Null,
                    template_generation: 0,
                    status: DsStatus::default(),
                    config: config.clone(),
                    rollout: None,
                    creator: writer.manager.clone(),
                    revisions: Vec::new(),
                    pods: Vec::new(),
                    rolled: BTreeMap::new(),
                    truth: self.book.daemonsets.len() - 1,
                };
                self.daemonsets.insert(uid.clone(), ds);
                (uid, EventType::Added)
            }
        };
        let Some(ds) = self.daemonsets.get_mut(&uid) else {
            return;
        };
        let template = p.stored_template();
        let changed = template != ds.template;
        if changed {
            ds.template_generation += 1;
        }
        let mut annotations = p.annotations.clone();
        annotations.insert(
            TEMPLATE_GENERATION.into(),
            ds.template_generation.to_string(),
        );
        if tool == Tool::KubectlApply {
            annotations.insert(LAST_APPLIED.into(), config.last_applied());
        }
        ds.meta.labels = p.labels.clone();
        ds.meta.annotations = annotations;
        ds.template = template;
        ds.config = config.clone();
        let commit = self.core.commit(ds, Some(&writer), applied.as_ref(), event);
        if event == EventType::Added {
            self.book.daemonsets[ds.truth].1 = commit.recorded && !commit.hidden;
        }
        if changed {
            ds.rollout = Some(ChangeRef {
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
                creation: event == EventType::Added,
                user: commit.user.clone(),
            });
        }
        self.core.soon(Task::SyncDaemonSet(uid));
    }

    /// Changes the last applied configuration of a DaemonSet and applies it with `tool`.
    pub(crate) fn update_daemonset(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut DaemonSetConfig),
    ) {
        let Some(uid) = self.find_daemonset(namespace, name) else {
            return;
        };
        let mut config = self.daemonsets[&uid].config.clone();
        change(&mut config);
        self.apply_daemonset(&config, tool);
    }

    /// `syncDaemonSet`: `constructHistory`, `manage` (a pod for every node without one), the
    /// rolling update, then `updateDaemonSetStatus`.
    pub(crate) fn sync_daemonset(&mut self, uid: &str) {
        if !self.daemonsets.contains_key(uid) {
            return;
        }
        let hash = self.daemonset_history(uid);
        let nodes: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        let occupied: Vec<String> = self.daemon_pods_by_node(uid).into_keys().collect();
        let mut created = false;
        for node in &nodes {
            if !occupied.contains(node) {
                self.create_daemon_pod(uid, node, &hash);
                created = true;
            }
        }
        if !created {
            self.daemonset_rolling_update(uid, &hash, &nodes);
        }
        self.write_daemonset_status(uid, &hash, &nodes);
    }

    /// `constructHistory` / `snapshot`: the current revision's hash, creating the revision.
    fn daemonset_history(&mut self, uid: &str) -> String {
        let ds = &self.daemonsets[uid];
        let hash = template_hash(&ds.template);
        let found = ds
            .revisions
            .iter()
            .filter_map(|r| self.revisions.get(r))
            .any(|r| r.hash == hash);
        if found {
            return hash;
        }
        let number = ds
            .revisions
            .iter()
            .filter_map(|r| self.revisions.get(r))
            .map(|r| r.revision)
            .max()
            .unwrap_or(0)
            + 1;
        let rev_uid = self.uid();
        let ds = &self.daemonsets[uid];
        let name = format!("{}-{hash}", ds.meta.name);
        let mut meta = Meta::new(&ds.meta.namespace, &name, rev_uid.clone(), self.core.now);
        meta.labels = string_map(&ds.template["metadata"]["labels"]);
        meta.labels.insert(REVISION_LABEL.into(), hash.clone());
        meta.annotations = ds.meta.annotations.clone();
        meta.owner = Some(OwnerRef {
            api_version: "apps/v1",
            kind: "DaemonSet",
            name: ds.meta.name.clone(),
            uid: uid.to_string(),
        });
        let mut template = ds.template.clone();
        if let Some(map) = template.as_object_mut() {
            map.insert("$patch".into(), json!("replace"));
        }
        let truth = DsRevisionTruth {
            number,
            name: name.clone(),
            hash: hash.clone(),
            uid: rev_uid.clone(),
            template_generation: ds.template_generation,
            change: change_truth(ds.rollout.as_ref()),
        };
        let index = ds.truth;
        let mut rev = ControllerRevision {
            meta,
            data: json!({"spec": {"template": template}}),
            revision: number,
            hash: hash.clone(),
        };
        self.core.commit(
            &mut rev,
            Some(&Writer::update(MANAGER)),
            None,
            EventType::Added,
        );
        self.revisions.insert(rev_uid.clone(), rev);
        if let Some(ds) = self.daemonsets.get_mut(uid) {
            ds.revisions.push(rev_uid);
        }
        self.book.daemonsets[index].0.revisions.push(truth);
        hash
    }

    /// The DaemonSet's pods by node name, oldest first (terminating ones included).
    fn daemon_pods_by_node(&self, uid: &str) -> BTreeMap<String, Vec<&Pod>> {
        let mut map: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
        for pod in self.daemonsets[uid]
            .pods
            .iter()
            .filter_map(|p| self.pods.get(p))
        {
            let node = super::scheduler::required_node(pod).unwrap_or_default();
            map.entry(node.to_string()).or_default().push(pod);
        }
        for pods in map.values_mut() {
            pods.sort_by_key(|p| p.meta.created);
        }
        map
    }

    /// `rollingUpdate` with `maxSurge` 0 and `maxUnavailable` 1: unavailable old pods go at once;
    /// available ones only as far as `maxUnavailable` minus the unavailable nodes (a node with no
    /// pod, a terminating one, or a new pod not yet available) allows. Nodes are visited in a random order, like Go's
    /// map iteration.
    fn daemonset_rolling_update(&mut self, uid: &str, hash: &str, nodes: &[String]) {
        let mut order: Vec<String> = nodes.to_vec();
        for i in (1..order.len()).rev() {
            let j = self.core.rng.between(0, i as i64) as usize;
            order.swap(i, j);
        }
        let by_node = self.daemon_pods_by_node(uid);
        let max_unavailable = 1;
        let mut unavailable = 0;
        let mut doomed = Vec::new();
        let mut candidates = Vec::new();
        for node in &order {
            let pods: Vec<&&Pod> = by_node
                .get(node)
                .into_iter()
                .flatten()
                .filter(|p| !p.meta.deleting())
                .collect();
            let new = pods.iter().find(|p| self.is_updated(uid, p, hash));
            let old = pods.iter().find(|p| !self.is_updated(uid, p, hash));
            let available = |p: &Pod| p.phase == "Running" && p.is_ready();
            match (new, old) {
                (None, None) | (Some(_), Some(_)) => unavailable += 1,
                (Some(new), None) => {
                    if !available(new) {
                        unavailable += 1;
                    }
                }
                (None, Some(old)) => {
                    if !available(old) {
                        doomed.push((node.clone(), old.meta.uid.clone()));
                    } else if unavailable < max_unavailable {
                        candidates.push((node.clone(), old.meta.uid.clone()));
                    }
                }
            }
        }
        let remaining = (max_unavailable - unavailable).max(0) as usize;
        doomed.extend(candidates.into_iter().take(remaining));
        let ds = &self.daemonsets[uid];
        let manager = ds
            .rollout
            .as_ref()
            .map_or_else(|| ds.creator.clone(), |c| c.manager.clone());
        for (node, pod_uid) in doomed {
            let Some(name) = self.pods.get(&pod_uid).map(|p| p.meta.name.clone()) else {
                continue;
            };
            if let Some(ds) = self.daemonsets.get_mut(uid) {
                ds.rolled.insert(node, name.clone());
            }
            self.delete_pod(
                &pod_uid,
                Deletion::Controller(Cause::Rollout(manager.clone())),
            );
            if let Some(ds) = self.daemonsets.get(uid) {
                let message = format!("Deleted pod: {name}");
                self.record_event(
                    Involved::of(ds, None),
                    REPORTER,
                    false,
                    "SuccessfulDelete",
                    message,
                );
            }
        }
    }

    /// `IsPodUpdated`: the hash label matches, or the template generation does.
    fn is_updated(&self, uid: &str, pod: &Pod, hash: &str) -> bool {
        let generation = self.daemonsets[uid].template_generation.to_string();
        pod.meta.labels.get(REVISION_LABEL).map(String::as_str) == Some(hash)
            || pod.meta.labels.get(POD_TEMPLATE_GENERATION) == Some(&generation)
    }

    /// `syncNodes` → `CreatePods`: pod `<ds>-xxxxx` pinned to `node`.
    fn create_daemon_pod(&mut self, ds_uid: &str, node: &str, hash: &str) {
        let suffix = self.core.rng.name_suffix(5);
        let token = self.core.rng.name_suffix(5);
        let uid = self.uid();
        let now = self.core.now;
        let ds = &self.daemonsets[ds_uid];
        let name = format!("{}-{suffix}", ds.meta.name);
        let mut meta = Meta::new(&ds.meta.namespace, &name, uid.clone(), now);
        meta.generate_name = Some(format!("{}-", ds.meta.name));
        meta.labels = string_map(&ds.template["metadata"]["labels"]);
        meta.labels.insert(REVISION_LABEL.into(), hash.to_string());
        meta.labels.insert(
            POD_TEMPLATE_GENERATION.into(),
            ds.template_generation.to_string(),
        );
        meta.annotations = string_map(&ds.template["metadata"]["annotations"]);
        meta.owner = Some(OwnerRef {
            api_version: "apps/v1",
            kind: "DaemonSet",
            name: ds.meta.name.clone(),
            uid: ds_uid.to_string(),
        });
        let template_spec = ds.template["spec"].clone();
        let affinity = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node]}
            ]}]
        }}});
        let mut spec = Map::new();
        if let Some(stored) = pod_spec(&template_spec, &token, 0).as_object() {
            for (key, value) in stored {
                if key == "schedulerName" {
                    spec.insert("affinity".into(), affinity.clone());
                }
                let value = if key == "tolerations" {
                    daemon_tolerations()
                } else {
                    value.clone()
                };
                spec.insert(key.clone(), value);
            }
        }
        let revision = ds
            .revisions
            .iter()
            .filter_map(|r| self.revisions.get(r))
            .find(|r| r.hash == hash)
            .map(|r| (r.revision, r.meta.name.clone(), r.meta.uid.clone()));
        let (number, rev_name, rev_uid) = revision.unwrap_or_default();
        let replaces = ds.rolled.get(node).cloned();
        let lineage = vec![LineageTruth {
            kind: "DaemonSet".into(),
            name: ds.meta.name.clone(),
            uid: ds_uid.to_string(),
        }];
        let rollout_manager = ds.rollout.as_ref().map(|c| c.manager.clone());
        let creator = ds.creator.clone();
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
            rs_uid: ds_uid.to_string(),
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
        let (reason, change_manager) = match (commit.recorded, &replaces) {
            (false, _) => ("before-trace", None),
            (true, Some(_)) => ("rollout", rollout_manager),
            (true, None) => ("scale-up", Some(creator)),
        };
        let truth = PodTruth {
            namespace: pod.meta.namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
            revision: number,
            created: CreatedTruth {
                time: commit.truth_time(),
                reason: reason.into(),
                change_manager,
                replaces: replaces.clone().filter(|_| commit.recorded),
                root_cause: None,
            },
            hidden_by_gap: commit.hidden,
            lineage,
            controller_revision: Some(PodRevisionTruth {
                name: rev_name,
                hash: hash.to_string(),
                uid: rev_uid,
            }),
            node: Some(node.to_string()),
            ..PodTruth::default()
        };
        if let Some(old) = replaces.as_ref().filter(|_| commit.recorded) {
            let key = (truth.namespace.clone(), old.clone());
            if let Some(&index) = self.book.pod_names.get(&key) {
                if let Some(deleted) = self
                    .book
                    .pods
                    .get_mut(index)
                    .and_then(|e| e.0.deleted.as_mut())
                {
                    deleted.replaced_by = Some(name.clone());
                }
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
        if let Some(ds) = self.daemonsets.get_mut(ds_uid) {
            ds.pods.push(uid.clone());
            ds.rolled.remove(node);
        }
        if let Some(ds) = self.daemonsets.get(ds_uid) {
            let message = format!("Created pod: {name}");
            self.record_event(
                Involved::of(ds, None),
                REPORTER,
                false,
                "SuccessfulCreate",
                message,
            );
        }
        let delay = self.core.jitter(15, 60);
        self.core.after(delay, Task::Schedule(uid));
    }

    /// `updateDaemonSetStatus`: counts from the oldest pod on each node.
    fn write_daemonset_status(&mut self, uid: &str, hash: &str, nodes: &[String]) {
        let by_node = self.daemon_pods_by_node(uid);
        let mut status = DsStatus {
            desired: nodes.len() as i32,
            observed_generation: self.daemonsets[uid].meta.generation,
            ..DsStatus::default()
        };
        for node in nodes {
            let Some(pod) = by_node.get(node).and_then(|pods| pods.first()) else {
                continue;
            };
            status.current += 1;
            if pod.phase == "Running" && pod.is_ready() {
                status.ready += 1;
                status.available += 1;
            }
            if self.is_updated(uid, pod, hash) {
                status.updated += 1;
            }
        }
        let Some(ds) = self.daemonsets.get_mut(uid) else {
            return;
        };
        if ds.status == status {
            return;
        }
        ds.status = status;
        self.core.commit(
            ds,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
    }

    /// Bookkeeping once a DaemonSet's pod no longer exists.
    pub(crate) fn daemon_pod_gone(&mut self, ds_uid: &str, pod_uid: &str) {
        let Some(ds) = self.daemonsets.get_mut(ds_uid) else {
            return;
        };
        ds.pods.retain(|p| p != pod_uid);
        self.core.soon(Task::SyncDaemonSet(ds_uid.to_string()));
    }

    /// A DaemonSet's verdict: `complete` once every node's pod is updated and available.
    pub(crate) fn daemonset_truth(&self, truth: &DaemonSetTruth) -> DaemonSetTruth {
        let mut truth = truth.clone();
        let Some(ds) = self.daemonsets.get(&truth.uid) else {
            return truth;
        };
        let hash = template_hash(&ds.template);
        let by_node = self.daemon_pods_by_node(&truth.uid);
        let mut not_updated = Vec::new();
        let mut unavailable = false;
        for node in &self.nodes {
            let pod = by_node.get(&node.name).and_then(|pods| pods.first());
            if !pod.is_some_and(|p| self.is_updated(&truth.uid, p, &hash)) {
                not_updated.push(node.name.clone());
            }
            unavailable |= !pod.is_some_and(|p| p.phase == "Running" && p.is_ready());
        }
        let complete = not_updated.is_empty() && !unavailable;
        truth.verdict = if complete { "complete" } else { "progressing" }.into();
        truth.not_updated_nodes = not_updated;
        truth
    }
}
