//! Node-pressure eviction: a kubelet short of memory reports MemoryPressure and evicts the pod
//! using the most memory above its request. The pod is not deleted: it stays `Failed` with
//! reason `Evicted` (until the pod garbage collector removes it), so its ReplicaSet replaces it.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::clock::{Ms, MINUTE, SECOND};
use super::config::memory_mib;
use super::gc::Deletion;
use super::model::{Involved, Pod, Reporter};
use super::truth::RootCauseTruth;
use super::world::{Task, World};

/// The kubelet's default hard-eviction threshold, `memory.available<100Mi`.
const THRESHOLD_MIB: i64 = 100;

/// How long a kubelet keeps reporting pressure after it last saw it
/// (`--eviction-pressure-transition-period`).
const TRANSITION: Ms = 5 * MINUTE;

/// One container's memory use against its request.
struct Usage {
    container: String,
    used_mib: i64,
    request_mib: i64,
    /// The request as written in the spec (`0` if none).
    request: String,
}

impl World {
    /// The kubelet of node `index` sees `available_mib` MiB of memory available. Below the
    /// hard-eviction threshold it reports MemoryPressure (the node is tainted NoSchedule) and
    /// evicts one pod.
    pub(crate) fn memory_pressure(&mut self, index: usize, available_mib: i64) {
        let now = self.core.now;
        let Some(node) = self.nodes.get_mut(index) else {
            return;
        };
        if available_mib >= THRESHOLD_MIB {
            return;
        }
        let first = !node.memory_pressure;
        node.memory_pressure = true;
        node.pressure_until = now + TRANSITION;
        let name = node.name.clone();
        self.record_event(
            Involved::node(&name),
            Reporter::Kubelet(name.clone()),
            true,
            "EvictionThresholdMet",
            "Attempting to reclaim memory".into(),
        );
        if let Some(victim) = self.eviction_victim(index) {
            self.evict(&victim, available_mib);
        }
        if first {
            let delay = self.core.jitter(1500, 6000);
            self.core.after(delay, Task::NodeCondition(index, true));
        }
        let delay = TRANSITION + self.core.jitter(SECOND, 10 * SECOND);
        self.core.after(delay, Task::NodeCondition(index, false));
    }

    /// The kubelet's node status says MemoryPressure began (`true`) or is over (`false`, once
    /// the transition period has passed).
    pub(crate) fn report_memory_pressure(&mut self, index: usize, pressure: bool) {
        let now = self.core.now;
        let Some(node) = self.nodes.get_mut(index) else {
            return;
        };
        if !pressure {
            if !node.memory_pressure || now < node.pressure_until {
                return;
            }
            node.memory_pressure = false;
        }
        let status = if pressure {
            "NodeHasInsufficientMemory"
        } else {
            "NodeHasSufficientMemory"
        };
        let name = node.name.clone();
        let message = format!("Node {name} status is now: {status}");
        let reporter = Reporter::Kubelet(name.clone());
        self.record_event(Involved::node(&name), reporter, false, status, message);
        if !pressure {
            self.retry_unschedulable();
        }
    }

    /// The pod the kubelet evicts first: usage above requests, then lowest priority, then the
    /// most memory above its request.
    fn eviction_victim(&self, index: usize) -> Option<String> {
        self.pods
            .values()
            .filter(|p| p.node == Some(index) && p.kubelet_started && p.eviction.is_none())
            .filter(|p| !p.is_terminal() && !p.meta.deleting())
            .min_by_key(|p| {
                let usage = self.memory_usage(p);
                let used: i64 = usage.iter().map(|u| u.used_mib).sum();
                let request: i64 = usage.iter().map(|u| u.request_mib).sum();
                let excess = used - request;
                (
                    excess <= 0,
                    p.priority,
                    Reverse(excess),
                    p.meta.name.clone(),
                )
            })
            .map(|p| p.meta.uid.clone())
    }

    /// Each container's memory use (its image's working set while running) and request.
    fn memory_usage(&self, pod: &Pod) -> Vec<Usage> {
        pod.containers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let request = pod.spec["containers"][i]["resources"]["requests"]["memory"]
                    .as_str()
                    .unwrap_or("0")
                    .to_string();
                Usage {
                    container: c.name.clone(),
                    used_mib: if c.running() {
                        self.profile(&c.image).memory_mib
                    } else {
                        0
                    },
                    request_mib: memory_mib(&request).unwrap_or(0),
                    request,
                }
            })
            .collect()
    }

    /// The eviction manager's Evicted Event, then the kill (grace period overridden to 1 s).
    fn evict(&mut self, uid: &str, available_mib: i64) {
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let usage = self.memory_usage(pod);
        let message = eviction_message(available_mib, &usage);
        let involved = Involved::of(pod, None);
        let reporter = Reporter::Kubelet(pod.node_name.clone().unwrap_or_default());
        self.record_annotated_event(
            involved,
            reporter,
            true,
            "Evicted",
            message.clone(),
            eviction_annotations(&usage),
        );
        if let Some(pod) = self.pods.get_mut(uid) {
            pod.eviction = Some(message);
        }
        self.terminate_pod(uid);
    }

    /// The evicted pod's containers have stopped: the kubelet reports it Failed / Evicted with
    /// a `DisruptionTarget` condition, and its ReplicaSet owes a replacement.
    pub(crate) fn finish_eviction(&mut self, uid: &str) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let message = pod.eviction.take().unwrap_or_default();
        pod.phase = "Failed";
        pod.reason = Some("Evicted");
        pod.message = Some(message.clone());
        let reason = Some("TerminationByKubelet");
        pod.set_condition("DisruptionTarget", true, now, reason, Some(message));
        pod.set_condition("PodReadyToStartContainers", false, now, None, None);
        pod.set_condition("Ready", false, now, Some("PodFailed"), None);
        pod.set_condition("ContainersReady", false, now, Some("PodFailed"), None);
        pod.ready_since = None;
        let (rs_uid, name, truth) = (pod.rs_uid.clone(), pod.meta.name.clone(), pod.truth);
        let node = pod
            .node
            .and_then(|i| self.nodes.get(i))
            .map(|n| n.name.clone());
        if let Some(rs) = self.replicasets.get_mut(&rs_uid) {
            rs.debts.push_back(name);
        }
        let commit = self.write_pod_status(uid);
        self.record_deletion(truth, &commit, &Deletion::Evicted);
        // The root: the node's memory pressure, as the pod's own condition tells it (this
        // scenario does not record Nodes).
        if let Some(node) = node {
            let cause = RootCauseTruth {
                kind: "node".into(),
                node,
                what: "node-pressure".into(),
                manager: None,
                time: commit.truth_time(),
                preemptor: None,
            };
            self.tell_deletion_root(truth, cause);
        }
        self.retry_unschedulable();
    }
}

impl World {
    /// Tells the ground truth what lies behind a pod's deletion (its replacement's creation
    /// names the same root: `node_life::link_root_causes`).
    pub(crate) fn tell_deletion_root(&mut self, truth: usize, cause: RootCauseTruth) {
        let deleted = self
            .book
            .pods
            .get_mut(truth)
            .and_then(|e| e.0.deleted.as_mut());
        if let Some(deleted) = deleted {
            deleted.root_cause = Some(cause);
        }
    }
}

/// The kubelet's message, e.g. `The node was low on resource: memory. Threshold quantity:
/// 100Mi, available: 91Mi. Container app was using 180Mi, request is 64Mi, has larger
/// consumption of memory. ` (each sentence ends with a space, as the kubelet writes it).
fn eviction_message(available_mib: i64, usage: &[Usage]) -> String {
    let mut message = format!(
        "The node was low on resource: memory. Threshold quantity: {THRESHOLD_MIB}Mi, available: {available_mib}Mi. "
    );
    for u in usage.iter().filter(|u| u.used_mib > u.request_mib) {
        message.push_str(&format!(
            "Container {} was using {}Mi, request is {}, has larger consumption of memory. ",
            u.container, u.used_mib, u.request
        ));
    }
    message
}

/// The annotations the kubelet puts on its Evicted Event.
fn eviction_annotations(usage: &[Usage]) -> BTreeMap<String, String> {
    let offending: Vec<&Usage> = usage
        .iter()
        .filter(|u| u.used_mib > u.request_mib)
        .collect();
    let names: Vec<&str> = offending.iter().map(|u| u.container.as_str()).collect();
    let used: Vec<String> = offending
        .iter()
        .map(|u| format!("{}Mi", u.used_mib))
        .collect();
    BTreeMap::from([
        ("offending_containers".to_string(), names.join(",")),
        ("offending_containers_usage".to_string(), used.join(",")),
        ("starved_resource".to_string(), "memory".to_string()),
    ])
}
