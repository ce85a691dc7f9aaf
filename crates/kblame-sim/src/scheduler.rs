//! The scheduler: binds a pending pod to the least loaded node with room for it, preempts
//! lower-priority pods when no node has room, and retries unschedulable pods when room is freed.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use kblame::trace::EventType;

use super::clock::Ms;
use super::fields::Writer;
use super::gc::Deletion;
use super::model::{Involved, Node, Pod, Reporter};
use super::truth::RootCauseTruth;
use super::world::{Task, World};

const MANAGER: &str = "kube-scheduler";
const PRESSURE_TAINT: &str = "node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }";
const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
const NOT_ELIGIBLE: &str =
    "preemption: not eligible due to a terminating pod on the nominated node.";

/// The pods to preempt on one node so that a pod fits there.
struct Candidate {
    node: usize,
    victims: Vec<String>,
    /// How the scheduler ranks candidates, lowest first: highest victim priority, sum of
    /// priorities, number of victims, latest start of the most important victims.
    rank: (i32, i64, usize, Reverse<Ms>),
}

impl World {
    /// One scheduling attempt: bind the pod, preempt pods for it, or report it unschedulable.
    pub(crate) fn schedule_pod(&mut self, uid: &str) {
        let Some(pod) = self.pods.get(uid) else {
            self.unschedulable.remove(uid);
            return;
        };
        if pod.node.is_some() || pod.meta.deleting() {
            self.unschedulable.remove(uid);
            return;
        }
        if let Some(node) = self.feasible_node(pod) {
            self.bind(uid, node);
            return;
        }
        let fit = self.fit_error(pod);
        match self.preemption(pod) {
            Ok(candidate) => self.preempt(uid, candidate, fit),
            Err(why) => self.report_unschedulable(uid, format!("{fit} {why}")),
        }
    }

    /// Binds the pod to node `index` (PodScheduled True, Scheduled event).
    fn bind(&mut self, uid: &str, index: usize) {
        self.unschedulable.remove(uid);
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let Some(node) = self.nodes.get_mut(index) else {
            return;
        };
        node.pods += 1;
        pod.node = Some(node.index);
        pod.node_name = Some(node.name.clone());
        let message = format!(
            "Successfully assigned {}/{} to {}",
            pod.meta.namespace, pod.meta.name, node.name
        );
        pod.set_condition("PodScheduled", true, self.core.now, None, None);
        self.core.commit(
            pod,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
        let involved = Involved::of(&*pod, None);
        self.record_event(involved, Reporter::Scheduler, false, "Scheduled", message);
        self.pod_changed(uid);
        let delay = self.core.jitter(400, 1200);
        self.core.after(delay, Task::Sandbox(uid.to_string()));
    }

    /// The nominated node if the pod fits there, else the least loaded node it fits on.
    fn feasible_node(&self, pod: &Pod) -> Option<usize> {
        let nominated = pod
            .nominated
            .as_deref()
            .and_then(|name| self.nodes.iter().find(|n| n.name == name));
        if let Some(node) = nominated.filter(|n| self.unfit_reason(pod, n).is_none()) {
            return Some(node.index);
        }
        let required = required_node(pod);
        self.nodes
            .iter()
            .filter(|n| required.is_none_or(|name| name == n.name))
            .filter(|n| self.unfit_reason(pod, n).is_none())
            .min_by_key(|n| (n.pods, n.index))
            .map(|n| n.index)
    }

    /// Why the pod does not fit on the node, in the filter plugins' words; `None` if it fits.
    fn unfit_reason(&self, pod: &Pod, node: &Node) -> Option<&'static str> {
        if node.memory_pressure {
            return Some(PRESSURE_TAINT);
        }
        // v1.31 `NodeUnschedulable` and `TaintToleration` filter plugins.
        if node.unschedulable {
            return Some("node(s) were unschedulable");
        }
        if node.unreachable {
            return Some("node(s) had untolerated taint {node.kubernetes.io/unreachable: }");
        }
        let capacity = node.allocatable_cpu?;
        (self.cpu_in_use(node, pod) + pod.cpu_millis > capacity).then_some("Insufficient cpu")
    }

    /// CPU requested on the node by the pods that hold room there as `pod` sees it: pods bound
    /// there and not finished, and pods of at least its priority nominated there.
    fn cpu_in_use(&self, node: &Node, pod: &Pod) -> i64 {
        self.pods
            .values()
            .filter(|p| p.meta.uid != pod.meta.uid)
            .filter(|p| match p.node {
                Some(index) => index == node.index && !p.is_terminal(),
                None => {
                    p.nominated.as_deref() == Some(node.name.as_str()) && p.priority >= pod.priority
                }
            })
            .map(|p| p.cpu_millis)
            .sum()
    }

    /// The FitError message, e.g. `0/2 nodes are available: 2 Insufficient cpu.`
    fn fit_error(&self, pod: &Pod) -> String {
        let reasons = self.nodes.iter().filter_map(|n| self.unfit_reason(pod, n));
        format!(
            "0/{} nodes are available: {}.",
            self.nodes.len(),
            histogram(reasons)
        )
    }

    /// The best node to preempt pods on, or the PostFilter message saying why there is none.
    fn preemption(&self, pod: &Pod) -> Result<Candidate, String> {
        if let Some(node) = &pod.nominated {
            if self.lower_priority_terminating(pod, node) {
                return Err(NOT_ELIGIBLE.into());
            }
        }
        let mut reasons = Vec::new();
        let mut best: Option<Candidate> = None;
        for node in &self.nodes {
            match self.candidate(pod, node) {
                Ok(c) if best.as_ref().is_none_or(|b| c.rank < b.rank) => best = Some(c),
                Ok(_) => {}
                Err(reason) => reasons.push(reason),
            }
        }
        best.ok_or_else(|| {
            format!(
                "preemption: 0/{} nodes are available: {}.",
                self.nodes.len(),
                histogram(reasons.into_iter())
            )
        })
    }

    /// Whether a lower-priority pod on the nominated node is already terminating (the pod
    /// then waits for it instead of preempting again).
    fn lower_priority_terminating(&self, pod: &Pod, node: &str) -> bool {
        self.pods.values().any(|p| {
            p.node_name.as_deref() == Some(node) && p.meta.deleting() && p.priority < pod.priority
        })
    }

    /// The fewest lower-priority pods to remove from the node so the pod fits: all of them,
    /// then the most important ones reprieved while it still fits.
    fn candidate(&self, pod: &Pod, node: &Node) -> Result<Candidate, &'static str> {
        if node.memory_pressure {
            return Err(NOT_HELPFUL);
        }
        let Some(capacity) = node.allocatable_cpu else {
            return Err(NOT_HELPFUL);
        };
        let mut lower: Vec<&Pod> = self
            .pods
            .values()
            .filter(|p| p.node == Some(node.index) && !p.is_terminal() && !p.meta.deleting())
            .filter(|p| p.priority < pod.priority)
            .collect();
        let freed: i64 = lower.iter().map(|p| p.cpu_millis).sum();
        let mut used = self.cpu_in_use(node, pod) - freed;
        if used + pod.cpu_millis > capacity {
            return Err(NO_VICTIMS);
        }
        lower.sort_by_key(|p| (Reverse(p.priority), started(p), p.meta.name.clone()));
        let mut victims = Vec::new();
        for p in lower {
            if used + p.cpu_millis + pod.cpu_millis <= capacity {
                used += p.cpu_millis;
            } else {
                victims.push(p);
            }
        }
        Ok(Candidate {
            node: node.index,
            rank: rank(&victims),
            victims: victims.iter().map(|p| p.meta.uid.clone()).collect(),
        })
    }

    /// Preempts the candidate's victims and nominates their node for the pod.
    fn preempt(&mut self, uid: &str, candidate: Candidate, fit: String) {
        let Some(node) = self.nodes.get(candidate.node).map(|n| n.name.clone()) else {
            return;
        };
        let scheduler = self.pods.get(uid).map_or_else(String::new, |p| {
            p.spec["schedulerName"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        for victim in &candidate.victims {
            self.preempt_victim(victim, uid, &node, &scheduler);
        }
        if let Some(pod) = self.pods.get_mut(uid) {
            pod.nominated = Some(node);
        }
        self.report_unschedulable(uid, fit);
    }

    /// Marks the victim `DisruptionTarget` (status patch), deletes it, and says so in an Event.
    fn preempt_victim(&mut self, victim: &str, preemptor: &str, node: &str, scheduler: &str) {
        let now = self.core.now;
        let Some(pod) = self.pods.get_mut(victim) else {
            return;
        };
        let involved = Involved::of(&*pod, None);
        let message = format!("{scheduler}: preempting to accommodate a higher priority pod");
        pod.append_condition("DisruptionTarget", "PreemptionByScheduler", message, now);
        let truth = pod.truth;
        let marked = self.core.commit(
            pod,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
        self.delete_pod(victim, Deletion::Preempted);
        let cause = RootCauseTruth {
            kind: "node".into(),
            node: node.to_string(),
            what: "preemption".into(),
            manager: None,
            time: marked.truth_time(),
            preemptor: self.pods.get(preemptor).map(|p| p.meta.name.clone()),
        };
        self.tell_deletion_root(truth, cause);
        let message = format!("Preempted by pod {preemptor} on node {node}");
        match self.pods.get(preemptor).map(|p| Involved::of(p, None)) {
            Some(related) => self.record_related_event(
                involved,
                related,
                Reporter::Scheduler,
                "Preempted",
                message,
            ),
            None => self.record_event(involved, Reporter::Scheduler, false, "Preempted", message),
        }
    }

    /// FailedScheduling, then PodScheduled False `Unschedulable` (and any nominated node) in
    /// the pod's status unless it already says so; the pod waits for room to be freed.
    fn report_unschedulable(&mut self, uid: &str, message: String) {
        self.unschedulable.insert(uid.to_string());
        let now = self.core.now;
        let Some(pod) = self.pods.get(uid) else {
            return;
        };
        let involved = Involved::of(pod, None);
        self.record_event(
            involved,
            Reporter::Scheduler,
            true,
            "FailedScheduling",
            message.clone(),
        );
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let said = pod.conditions.iter().any(|c| {
            c.kind == "PodScheduled" && !c.status && c.message.as_deref() == Some(&message)
        });
        let nominated = pod.meta.last["status"]["nominatedNodeName"].as_str();
        if said && nominated == pod.nominated.as_deref() {
            return;
        }
        pod.set_condition(
            "PodScheduled",
            false,
            now,
            Some("Unschedulable"),
            Some(message),
        );
        self.core.commit(
            pod,
            Some(&Writer::status(MANAGER)),
            None,
            EventType::Modified,
        );
    }

    /// Room may have been freed: retries the unschedulable pods after the scheduler's back-off,
    /// highest priority first.
    pub(crate) fn retry_unschedulable(&mut self) {
        if self.unschedulable.is_empty() {
            return;
        }
        let mut queue: Vec<(Reverse<i32>, Ms, String)> = self
            .unschedulable
            .iter()
            .filter_map(|uid| self.pods.get(uid))
            .map(|p| (Reverse(p.priority), p.meta.created, p.meta.uid.clone()))
            .collect();
        queue.sort();
        let backoff = self.core.jitter(900, 1400);
        for (position, (_, _, uid)) in queue.into_iter().enumerate() {
            let delay = backoff + 25 * position as Ms;
            self.core.once_after(delay, Task::Schedule(uid));
        }
    }
}

/// When the pod started (or was created, if it has not started).
fn started(pod: &Pod) -> Ms {
    pod.start_time.unwrap_or(pod.meta.created)
}

/// The scheduler's ranking of a victim set (see [`Candidate::rank`]).
fn rank(victims: &[&Pod]) -> (i32, i64, usize, Reverse<Ms>) {
    let highest = victims.iter().map(|p| p.priority).max().unwrap_or(i32::MIN);
    // Offset so that negative priorities still sum up in order, as the scheduler does.
    let sum = victims
        .iter()
        .map(|p| i64::from(p.priority) + (1 << 31))
        .sum();
    let earliest = victims
        .iter()
        .filter(|p| p.priority == highest)
        .map(|p| started(p))
        .min()
        .unwrap_or(0);
    (highest, sum, victims.len(), Reverse(earliest))
}

/// Reasons counted per node and sorted, e.g. `1 node(s) had untolerated taint …, 2 Insufficient cpu`.
fn histogram<'a>(reasons: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in reasons {
        *counts.entry(reason).or_default() += 1;
    }
    let mut list: Vec<String> = counts
        .into_iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    list.sort();
    list.join(", ")
}

/// The node a pod's required node affinity names with `matchFields metadata.name In [node]`
/// (how the DaemonSet controller pins its pods, `ReplaceDaemonSetPodNodeNameNodeAffinity`).
pub(crate) fn required_node(pod: &Pod) -> Option<&str> {
    let terms = &pod.spec["affinity"]["nodeAffinity"]
        ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
    let field = &terms[0]["matchFields"][0];
    (field["key"] == "metadata.name" && field["operator"] == "In")
        .then(|| field["values"][0].as_str())
        .flatten()
}
