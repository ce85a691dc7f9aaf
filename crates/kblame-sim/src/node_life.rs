//! Nodes as recorded API objects (issue 12): `kubectl cordon`, `kubectl drain` through the
//! eviction API, and a node that stops reporting: the node lifecycle controller marks it
//! `Unknown` and taints it unreachable, and the taint manager deletes its pods once their
//! toleration runs out, while the lost kubelet never confirms the kill.
//!
//! Kubernetes v1.31 sources followed:
//! * `kubectl cordon`: `k8s.io/kubectl/pkg/drain/cordon.go` `CordonHelper.PatchOrReplaceWithContext`,
//!   a strategic-merge patch of `spec.unschedulable` (an Update in managedFields); the node
//!   lifecycle controller then adds the `node.kubernetes.io/unschedulable:NoSchedule` taint
//!   (`pkg/controller/nodelifecycle` `doNoScheduleTaintingPass`).
//! * `kubectl drain`: `k8s.io/kubectl/pkg/drain/drain.go` `Helper.DeleteOrEvictPods` evicts every
//!   pod of the node (DaemonSet pods ignored); the API server's eviction subresource
//!   (`pkg/registry/core/pod/storage/eviction.go` `EvictionREST.Create`) checks the pod's
//!   PodDisruptionBudgets, then `addConditionAndDeletePod` adds `DisruptionTarget`
//!   `EvictionByEvictionAPI` ("Eviction API: evicting") through the storage (no managedFields
//!   entry) and deletes the pod gracefully.
//! * A lost node: `pkg/controller/nodelifecycle` `tryUpdateNodeHealth` sets every condition
//!   `Unknown` ("Kubelet stopped posting node status.") once `node-monitor-grace-period` (40 s
//!   in v1.31) has passed without a heartbeat, `MarkPodsNotReady` sets the pods' Ready False,
//!   and `doNoExecuteTaintingPass` adds `node.kubernetes.io/unreachable:NoExecute` (with its
//!   NoSchedule twin). Pods tolerate it for 300 s (the DefaultTolerationSeconds admission
//!   plugin); then `pkg/controller/tainteviction` `addConditionAndDeletePod` adds `DisruptionTarget`
//!   `DeletionByTaintManager` ("Taint manager: deleting due to NoExecute taint") and deletes the
//!   pod. Its kubelet is gone, so nothing stops the containers or removes the object: the pod
//!   stays Terminating while its ReplicaSet replaces it.
//!
//! A PodDisruptionBudget that selects the pod may refuse the eviction (429); `kubectl drain`
//! then tries again every 5 s ([`super::pdb`]).

use kblame::trace::EventType;
use serde_json::{json, Map, Value};

use super::clock::{whole_seconds, Ms, SECOND};
use super::fields::Writer;
use super::gc::Deletion;
use super::model::{Involved, Meta, Object, Reporter};
use super::truth::{PodTruth, RootCauseTruth};
use super::world::{Commit, Task, World};

/// The field manager of `kubectl cordon`'s patch: `CordonHelper.PatchOrReplaceWithContext` sends
/// `metav1.PatchOptions{}` without a `FieldManager`, so the API server names the manager after
/// the user agent's first word (`handlers` `prefixFromUserAgent`: `kubectl/v1.31.2 (linux/amd64)
/// kubernetes/…` → `kubectl`), as for `kubectl scale`.
const CORDON_MANAGER: &str = "kubectl";
/// The manager of kube-controller-manager's writes.
const KCM: &str = "kube-controller-manager";
/// `node-monitor-grace-period` (v1.31 default).
const GRACE: Ms = 40 * SECOND;
/// `nodeMonitorPeriod`: how often the lifecycle controller looks.
const MONITOR_PERIOD: Ms = 5 * SECOND;
/// `tolerationSeconds` the DefaultTolerationSeconds admission plugin gives every pod.
const TOLERATION: Ms = 300 * SECOND;
/// The unreachable taint's key.
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// A Node object: what the node lifecycle controller, the kubelet and `kubectl cordon` write.
#[derive(Debug, Clone)]
pub(crate) struct NodeObject {
    pub(crate) meta: Meta,
    /// Index into `World::nodes`.
    index: usize,
    unschedulable: bool,
    /// `(key, effect, timeAdded)`.
    taints: Vec<(&'static str, &'static str, Ms)>,
    /// Whether the kubelet's conditions stand (`false` once the lifecycle controller set them
    /// `Unknown`), and when they last changed.
    reporting: bool,
    since: Ms,
    /// The kubelet's last heartbeat.
    heartbeat: Ms,
}

/// The lifecycle steps that happen later.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum NodeTask {
    /// The lifecycle controller notices the node's heartbeat is older than the grace period.
    Monitor(usize),
    /// The unreachable taint is added.
    Taint(usize),
    /// The taint manager deletes the pod (its toleration ran out).
    TaintEvict(String),
    /// `kubectl drain` tries again to evict a pod whose eviction got a 429.
    EvictRetry(String),
}

impl Object for NodeObject {
    const KIND: &'static str = "Node";
    const API_VERSION: &'static str = "v1";
    const RESOURCE: &'static str = "v1/nodes";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        let n = self.index + 1;
        let mut spec = Map::new();
        spec.insert("podCIDR".into(), json!(format!("10.244.{n}.0/24")));
        spec.insert("podCIDRs".into(), json!([format!("10.244.{n}.0/24")]));
        if !self.taints.is_empty() {
            let taints: Vec<Value> = self
                .taints
                .iter()
                .map(|(key, effect, added)| {
                    json!({"key": key, "effect": effect, "timeAdded": whole_seconds(*added)})
                })
                .collect();
            spec.insert("taints".into(), Value::Array(taints));
        }
        if self.unschedulable {
            spec.insert("unschedulable".into(), json!(true));
        }
        out.insert("spec".into(), Value::Object(spec));
        out.insert("status".into(), self.status());
    }

    /// A Node is cluster-scoped: no `metadata.namespace`.
    fn render(&self) -> Value {
        let mut map = Map::new();
        map.insert("kind".into(), json!(Self::KIND));
        map.insert("apiVersion".into(), json!(Self::API_VERSION));
        let mut metadata = self.meta.to_json();
        if let Some(m) = metadata.as_object_mut() {
            m.shift_remove("namespace");
        }
        map.insert("metadata".into(), metadata);
        self.body(&mut map);
        Value::Object(map)
    }
}

impl NodeObject {
    /// The kubelet's conditions, or the lifecycle controller's `Unknown` ones.
    fn status(&self) -> Value {
        let kubelet = [
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            (
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            (
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            (
                "Ready",
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            ),
        ];
        let conditions: Vec<Value> = kubelet
            .iter()
            .map(|(kind, status, reason, message)| {
                let (status, reason, message) = match self.reporting {
                    true => (*status, *reason, *message),
                    false => (
                        "Unknown",
                        "NodeStatusUnknown",
                        "Kubelet stopped posting node status.",
                    ),
                };
                json!({"type": kind, "status": status,
                    "lastHeartbeatTime": whole_seconds(self.heartbeat),
                    "lastTransitionTime": whole_seconds(self.since),
                    "reason": reason, "message": message})
            })
            .collect();
        json!({"conditions": conditions, "addresses": [
            {"type": "InternalIP", "address": format!("10.0.1.{}", 11 + self.index)},
            {"type": "Hostname", "address": self.meta.name}]})
    }
}

impl World {
    /// Makes every node a recorded Node object (created an hour before `now`).
    pub(crate) fn record_nodes(&mut self) {
        let created = self.core.now - 3600 * SECOND;
        for index in 0..self.nodes.len() {
            let name = self.nodes[index].name.clone();
            let uid = self.uid();
            let mut meta = Meta::new("", &name, uid.clone(), created);
            meta.labels = [
                ("kubernetes.io/hostname", name.as_str()),
                ("kubernetes.io/os", "linux"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let mut node = NodeObject {
                meta,
                index,
                unschedulable: false,
                taints: Vec::new(),
                reporting: true,
                since: created,
                heartbeat: self.core.now,
            };
            let writer = Writer::status("kubelet");
            self.core
                .commit(&mut node, Some(&writer), None, EventType::Added);
            self.node_objects.insert(name, node);
        }
    }

    /// `kubectl cordon`: `spec.unschedulable: true` (manager `kubectl`, Update), then
    /// the lifecycle controller's NoSchedule taint and the kubelet's NodeNotSchedulable Event.
    pub(crate) fn cordon(&mut self, name: &str) -> Option<Commit> {
        let node = self.node_objects.get_mut(name)?;
        if node.unschedulable {
            return None; // `CordonHelper.UpdateIfRequired`: nothing to do.
        }
        node.unschedulable = true;
        let index = node.index;
        let commit = self.core.commit(
            node,
            Some(&Writer::update(CORDON_MANAGER)),
            None,
            EventType::Modified,
        );
        if let Some(n) = self.nodes.get_mut(index) {
            n.unschedulable = true;
        }
        let now = self.core.now;
        if let Some(node) = self.node_objects.get_mut(name) {
            node.taints
                .push(("node.kubernetes.io/unschedulable", "NoSchedule", now));
            self.core
                .commit(node, Some(&Writer::update(KCM)), None, EventType::Modified);
        }
        let message = format!("Node {name} status is now: NodeNotSchedulable");
        let reporter = Reporter::Kubelet(name.to_string());
        let involved = Involved::node(name);
        self.record_event(involved, reporter, false, "NodeNotSchedulable", message);
        Some(commit)
    }

    /// `kubectl drain --ignore-daemonsets`: cordon (unless already cordoned), then evict every
    /// other pod of the node through the eviction API.
    pub(crate) fn drain(&mut self, name: &str) {
        let cordon = self.cordon(name);
        let cause = self.cordon_cause(name, cordon.as_ref());
        let Some(index) = self.nodes.iter().position(|n| n.name == name) else {
            return;
        };
        let victims: Vec<String> = self
            .pods
            .values()
            .filter(|p| p.node == Some(index) && !p.meta.deleting() && !p.is_terminal())
            .filter(|p| !self.daemonsets.contains_key(&p.rs_uid))
            .map(|p| p.meta.uid.clone())
            .collect();
        for uid in victims {
            self.evict_through_api(&uid, cause.clone());
        }
    }

    /// The root cause a drain's evictions are told with: the cordon (this one, or the one that
    /// made the node unschedulable before).
    fn cordon_cause(&self, name: &str, commit: Option<&Commit>) -> Option<RootCauseTruth> {
        let time = match commit {
            Some(commit) => commit.truth_time(),
            None => self.cordons.get(name)?.clone(),
        };
        Some(RootCauseTruth {
            kind: "node".into(),
            node: name.to_string(),
            what: "cordon".into(),
            manager: Some(CORDON_MANAGER.into()),
            time,
            preemptor: None,
        })
    }

    /// `kubectl cordon` as a user runs it, remembering when for a later drain.
    pub(crate) fn user_cordon(&mut self, name: &str) {
        if let Some(commit) = self.cordon(name) {
            self.cordons.insert(name.to_string(), commit.truth_time());
        }
    }

    /// The eviction subresource: the PodDisruptionBudget check, then `DisruptionTarget`
    /// EvictionByEvictionAPI and a graceful delete; on a 429 `kubectl drain` tries again in 5 s.
    fn evict_through_api(&mut self, uid: &str, cause: Option<RootCauseTruth>) {
        let now = self.core.now;
        match self.pods.get(uid) {
            Some(pod) if !pod.meta.deleting() && !pod.is_terminal() => {}
            _ => return, // Gone meanwhile: `evictPods` sees a 404 and is done.
        }
        let budget = match self.check_budget(uid) {
            super::pdb::Verdict::Allowed(budget) => budget,
            super::pdb::Verdict::Refused(..) => {
                let time = super::clock::record_time(now);
                let entry = self.refusals.entry(uid.to_string()).or_default();
                entry.0 += 1;
                entry.1.get_or_insert(time);
                self.evict_causes.insert(uid.to_string(), cause);
                let retry = NodeTask::EvictRetry(uid.to_string());
                self.core.after(super::pdb::DRAIN_RETRY, Task::Node(retry));
                return;
            }
        };
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let message = "Eviction API: evicting".to_string();
        pod.append_condition("DisruptionTarget", "EvictionByEvictionAPI", message, now);
        let (namespace, name) = (pod.meta.namespace.clone(), pod.meta.name.clone());
        if let Some(audit) = self.core.audit.as_mut() {
            audit.within = Some(uid.to_string());
        }
        self.core.commit(pod, None, None, EventType::Modified);
        self.delete_told(uid, "evicted", cause, true);
        self.tell_budget(uid, budget);
        let now = self.core.now;
        if let Some(audit) = self.core.audit.as_mut() {
            audit.evict(&namespace, &name, now);
        }
    }

    /// Deletes a pod for a node reason and tells the ground truth so.
    fn delete_told(
        &mut self,
        uid: &str,
        reason: &str,
        cause: Option<RootCauseTruth>,
        kubelet_alive: bool,
    ) {
        let Some(truth) = self.pods.get(uid).map(|p| p.truth) else {
            return;
        };
        match kubelet_alive {
            true => self.delete_pod(uid, Deletion::External),
            false => self.delete_unconfirmed(uid),
        }
        if let Some(deleted) = self
            .book
            .pods
            .get_mut(truth)
            .and_then(|e| e.0.deleted.as_mut())
        {
            deleted.reason = reason.to_string();
            deleted.root_cause = cause;
        }
    }

    /// A graceful delete whose kubelet never answers: deletionTimestamp set, nothing after.
    fn delete_unconfirmed(&mut self, uid: &str) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        if pod.meta.deleting() {
            return;
        }
        pod.meta.deletion = Some(now + 30 * SECOND);
        pod.meta.grace = Some(30);
        let (rs_uid, name, truth) = (pod.rs_uid.clone(), pod.meta.name.clone(), pod.truth);
        let commit = self.core.commit(pod, None, None, EventType::Modified);
        self.record_deletion(truth, &commit, &Deletion::External);
        if let Some(rs) = self.replicasets.get_mut(&rs_uid) {
            rs.debts.push_back(name);
            self.core.soon(Task::SyncReplicaSet(rs_uid));
        }
    }

    /// The node's kubelet stops (power loss, network partition): no more heartbeats, and its
    /// pods' containers are out of reach.
    pub(crate) fn lose_node(&mut self, name: &str) {
        let Some(index) = self.nodes.iter().position(|n| n.name == name) else {
            return;
        };
        if let Some(n) = self.nodes.get_mut(index) {
            n.unreachable = true;
        }
        let now = self.core.now;
        if let Some(node) = self.node_objects.get_mut(name) {
            node.heartbeat = now;
        }
        // The controller looks every 5 s; it acts on the first look past the grace period.
        let first_look = GRACE + self.core.jitter(SECOND, MONITOR_PERIOD);
        self.core
            .after(first_look, Task::Node(NodeTask::Monitor(index)));
    }

    /// Whether a kubelet task is about a pod on a lost node (its kubelet does nothing more).
    pub(crate) fn kubelet_lost(&self, task: &Task) -> bool {
        let uid = match task {
            Task::Sandbox(uid)
            | Task::Container(uid, ..)
            | Task::Terminate(uid)
            | Task::Stopped(uid)
            | Task::Remove(uid) => uid,
            Task::NodeCondition(index, _) => {
                return self.nodes.get(*index).is_some_and(|n| n.unreachable)
            }
            _ => return false,
        };
        let node = self.pods.get(uid).and_then(|p| p.node);
        node.and_then(|i| self.nodes.get(i))
            .is_some_and(|n| n.unreachable)
    }

    /// Runs one lifecycle step.
    pub(crate) fn node_task(&mut self, task: NodeTask) {
        match task {
            NodeTask::Monitor(index) => self.mark_unknown(index),
            NodeTask::Taint(index) => self.taint_unreachable(index),
            NodeTask::TaintEvict(uid) => self.taint_evict(&uid),
            NodeTask::EvictRetry(uid) => {
                let cause = self.evict_causes.remove(&uid).flatten();
                self.evict_through_api(&uid, cause)
            }
        }
    }

    /// `tryUpdateNodeHealth`: every condition Unknown; `MarkPodsNotReady`; the NodeNotReady
    /// Event; the NoExecute taint a moment later.
    fn mark_unknown(&mut self, index: usize) {
        let now = self.core.now;
        let Some(name) = self.nodes.get(index).map(|n| n.name.clone()) else {
            return;
        };
        let Some(node) = self.node_objects.get_mut(&name) else {
            return;
        };
        node.reporting = false;
        node.since = now;
        let commit = self
            .core
            .commit(node, Some(&Writer::status(KCM)), None, EventType::Modified);
        self.unknown_since.insert(name.clone(), commit.truth_time());
        let message = format!("Node {name} status is now: NodeNotReady");
        let reporter = Reporter::Controller("node-controller");
        self.record_event(
            Involved::node(&name),
            reporter,
            false,
            "NodeNotReady",
            message,
        );
        for uid in self.pods_on(index) {
            if let Some(pod) = self.pods.get_mut(&uid) {
                let reason = pod
                    .conditions
                    .iter()
                    .find(|c| c.kind == "Ready")
                    .and_then(|c| c.reason);
                pod.set_condition("Ready", false, now, reason, None);
                pod.ready_since = None;
                self.core
                    .commit(pod, Some(&Writer::status(KCM)), None, EventType::Modified);
                self.pod_changed(&uid);
            }
        }
        let delay = self.core.jitter(80, 400);
        self.core.after(delay, Task::Node(NodeTask::Taint(index)));
    }

    /// `doNoExecuteTaintingPass`: the unreachable taints; every pod there is then evicted once
    /// its 300 s toleration has run out.
    fn taint_unreachable(&mut self, index: usize) {
        let now = self.core.now;
        let Some(name) = self.nodes.get(index).map(|n| n.name.clone()) else {
            return;
        };
        let Some(node) = self.node_objects.get_mut(&name) else {
            return;
        };
        node.taints.push((UNREACHABLE, "NoSchedule", now));
        node.taints.push((UNREACHABLE, "NoExecute", now));
        self.core
            .commit(node, Some(&Writer::update(KCM)), None, EventType::Modified);
        for uid in self.pods_on(index) {
            let delay = TOLERATION + self.core.jitter(50, 900);
            self.core
                .after(delay, Task::Node(NodeTask::TaintEvict(uid.clone())));
        }
    }

    /// The taint manager's `addConditionAndDeletePod`, and its TaintManagerEviction Event.
    fn taint_evict(&mut self, uid: &str) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        if pod.meta.deleting() {
            return;
        }
        let message = "Taint manager: deleting due to NoExecute taint".to_string();
        pod.append_condition("DisruptionTarget", "DeletionByTaintManager", message, now);
        let involved = Involved::of(&*pod, None);
        let (namespace, name) = (pod.meta.namespace.clone(), pod.meta.name.clone());
        let node = pod.node_name.clone().unwrap_or_default();
        self.core
            .commit(pod, Some(&Writer::status(KCM)), None, EventType::Modified);
        let cause = self.unknown_since.get(&node).map(|time| RootCauseTruth {
            kind: "node".into(),
            node: node.clone(),
            what: "ready-unknown".into(),
            manager: None,
            time: time.clone(),
            preemptor: None,
        });
        self.delete_told(uid, "taint-eviction", cause, false);
        let message = format!("Marking for deletion Pod {namespace}/{name}");
        let reporter = Reporter::Controller("taint-eviction-controller");
        self.record_event(involved, reporter, false, "TaintManagerEviction", message);
    }

    /// The pods bound to a node that are still running there.
    fn pods_on(&self, index: usize) -> Vec<String> {
        self.pods
            .values()
            .filter(|p| p.node == Some(index) && !p.meta.deleting() && !p.is_terminal())
            .map(|p| p.meta.uid.clone())
            .collect()
    }
}

/// Gives each replacement the root cause of the pod it replaced.
pub(crate) fn link_root_causes(pods: &mut [PodTruth]) {
    let causes: Vec<(String, RootCauseTruth)> = pods
        .iter()
        .filter_map(|p| {
            let cause = p.deleted.as_ref()?.root_cause.clone()?;
            Some((p.name.clone(), cause))
        })
        .collect();
    for pod in pods.iter_mut() {
        let replaced = pod.created.replaces.as_deref();
        if let Some((_, cause)) = causes.iter().find(|(n, _)| Some(n.as_str()) == replaced) {
            pod.created.root_cause = Some(cause.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::{parse_time, SECOND};
    use crate::scenarios::{all, Fixture};

    fn fixture(name: &str) -> (Fixture, String) {
        let scenario = all().into_iter().find(|s| s.name == name);
        let fixture = scenario
            .map(|s| s.generate())
            .expect("scenario")
            .expect("generated");
        let text = zstd::decode_all(&fixture.trace[..]).expect("zstd");
        let text = String::from_utf8(text).expect("UTF-8");
        (fixture, text)
    }

    #[test]
    fn a_lost_node_s_pod_is_deleted_once_its_toleration_ran_out_and_never_removed() {
        let (fixture, trace) = fixture("node-lost");
        let lost: Vec<_> = fixture
            .truth
            .pods
            .iter()
            .filter_map(|p| Some((p, p.deleted.as_ref()?)))
            .filter(|(_, d)| d.reason == "taint-eviction")
            .collect();
        assert_eq!(lost.len(), 1);
        let (pod, deleted) = lost[0];
        let cause = deleted.root_cause.as_ref().expect("a root cause");
        assert_eq!(
            (cause.node.as_str(), cause.what.as_str()),
            ("node-2", "ready-unknown")
        );
        let unknown = parse_time(&cause.time).expect("time");
        let gone = parse_time(&deleted.time).expect("time");
        // The taint follows the Unknown within a second; the toleration is 300 s.
        assert!(
            (300 * SECOND..302 * SECOND).contains(&(gone - unknown)),
            "{}",
            gone - unknown
        );
        // The kubelet never confirms: no DELETED record for the pod.
        let deleted_records = trace
            .lines()
            .filter(|l| l.contains("\"type\":\"DELETED\"") && l.contains(&pod.uid))
            .count();
        assert_eq!(deleted_records, 0);
    }

    #[test]
    fn a_drain_cordons_first_and_its_replacements_avoid_the_cordoned_node() {
        let (fixture, trace) = fixture("node-drain");
        let replacements: Vec<_> = fixture
            .truth
            .pods
            .iter()
            .filter(|p| p.created.reason == "replacement")
            .collect();
        assert_eq!(replacements.len(), 2);
        for pod in replacements {
            let cause = pod.created.root_cause.as_ref().expect("a root cause");
            assert_eq!(cause.manager.as_deref(), Some("kubectl"));
            let bound = trace
                .lines()
                .filter(|l| l.contains(&pod.uid) && l.contains("\"nodeName\""))
                .all(|l| !l.contains("\"nodeName\":\"node-1\""));
            assert!(bound, "{} was bound to the cordoned node", pod.name);
        }
    }
}
