//! `node`: what happened to a pod's node behind its deletion — a cordon before a drain's
//! eviction, or the node's Ready condition going Unknown/False before the taint manager deleted
//! it — and, for its replacement, the same root.
//!
//! What the records show (Kubernetes v1.31):
//! * `kubectl drain` cordons the node (`spec.unschedulable: true`, `k8s.io/kubectl/pkg/drain`
//!   `CordonHelper.PatchOrReplaceWithContext`), then evicts each pod; the eviction subresource
//!   adds `DisruptionTarget` `EvictionByEvictionAPI` before deleting it
//!   (`pkg/registry/core/pod/storage/eviction.go` `addConditionAndDeletePod`). A pod deleted
//!   without that condition (a tool that deletes instead of evicting) is not tied to a cordon.
//! * A node that stops heartbeating gets every condition `Unknown` from the node lifecycle
//!   controller (`pkg/controller/nodelifecycle` `tryUpdateNodeHealth`) and the taint
//!   `node.kubernetes.io/unreachable:NoExecute` (`doNoExecuteTaintingPass`; `not-ready` when
//!   Ready is False). Once a pod's `tolerationSeconds` for it has run out (300 s from the
//!   DefaultTolerationSeconds admission plugin), the taint manager adds `DisruptionTarget`
//!   `DeletionByTaintManager` and deletes it (`pkg/controller/tainteviction`
//!   `addConditionAndDeletePod`). Without the condition, a deletion that comes when the
//!   toleration ran out still tells the taint eviction, with less certainty.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::{Cause, CauseKind, Finder, Input, MadeBy, Preemptor};
use crate::graph::{CausalGraph, Change, ChangeKind, Confidence, ObjectRef};
use crate::history::diff::diff_at;
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId, Version};
use crate::workload::attribution::attribute;
use crate::workload::deployment::make_change;
use crate::workload::events::{occurrences_about, related_uid};

/// The NoExecute taints the node lifecycle controller puts on a node that stopped reporting.
const NODE_DOWN_TAINTS: &[&str] = &[
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/not-ready",
];

/// How far a deletion may come after the taint's `timeAdded` + `tolerationSeconds` and still be
/// the taint manager's (its queue runs at once; `timeAdded` has whole seconds).
const TOLERATION_SLACK: SignedDuration = SignedDuration::from_secs(5);

/// Node causes. Restarts caused by a node are rare (its pods are deleted, not restarted), so it
/// proposes none; it answers for deletions and replacements ([`deletion_cause`]).
pub struct Node;

impl Finder for Node {
    fn restart_causes(&self, _input: &Input<'_>) -> Vec<Cause> {
        Vec::new()
    }
}

/// The `DisruptionTarget` condition a pod's records show last, with the line of the first
/// record showing it.
struct Disruption {
    reason: String,
    message: String,
    time: Timestamp,
    line: u64,
}

/// Why the pod's node led to its deletion, when the records show it. `made_by` holds the
/// changes that made other pods' revisions (a preemptor's), which only the workload models know.
pub fn deletion_cause(
    history: &History,
    graph: &CausalGraph,
    pod: ObjectId,
    made_by: &MadeBy,
) -> Option<Cause> {
    let disruption = disruption_target(history, pod);
    let node_name = node_of(history, pod)?;
    match disruption.as_ref().map(|d| d.reason.as_str()) {
        Some("PreemptionByScheduler") | Some("PreemptionByKubeScheduler") => {
            let d = disruption.as_ref()?;
            return Some(preemption_cause(
                history, graph, pod, &node_name, d, made_by,
            ));
        }
        Some("TerminationByKubelet") => {
            let d = disruption.as_ref()?;
            return Some(kubelet_cause(history, &node_name, d));
        }
        _ => {}
    }
    let node = history
        .by_name("Node", None, &node_name)
        .into_iter()
        .next()?;
    match disruption.as_ref().map(|d| d.reason.as_str()) {
        Some("EvictionByEvictionAPI") => disruption
            .as_ref()
            .and_then(|d| cordon_cause(history, node, d)),
        Some("DeletionByTaintManager") => {
            let d = disruption.as_ref()?;
            let evidence = format!(
                "condition DisruptionTarget DeletionByTaintManager (line {})",
                d.line
            );
            down_cause(history, node, d.time, Confidence::High, evidence)
        }
        Some(_) => None,
        None => {
            let (at, evidence) = taint_timing(history, pod, node)?;
            down_cause(history, node, at, Confidence::Medium, evidence)
        }
    }
}

/// The pod that preempted `pod`: the one its scheduler's `Preempted` Event names (see
/// [`related_uid`]), when that pod was recorded.
pub fn preemptor(history: &History, graph: &CausalGraph, pod: ObjectId) -> Option<ObjectId> {
    graph
        .events_about(pod)
        .into_iter()
        .filter_map(|event| related_uid(history, event))
        .find_map(|uid| history.by_uid(&uid).filter(|&p| p != pod))
}

/// The node as a reference: the recorded Node, else its name alone (no UID).
fn node_ref(history: &History, name: &str) -> (ObjectRef, Option<ObjectId>) {
    match history.by_name("Node", None, name).into_iter().next() {
        Some(id) => (ObjectRef::of(history.object(id)), Some(id)),
        None => (
            ObjectRef {
                kind: "Node".to_string(),
                namespace: String::new(),
                name: name.to_string(),
                uid: String::new(),
            },
            None,
        ),
    }
}

/// A pod the scheduler preempted: to make room on its node for a pod of higher priority
/// (`pkg/scheduler/framework/preemption` `Evaluator.prepareCandidate` patches
/// `DisruptionTarget` `PreemptionByScheduler` on the victim, deletes it and records `Preempted`
/// naming the preemptor). The root is the preemptor and the change that made it.
fn preemption_cause(
    history: &History,
    graph: &CausalGraph,
    pod: ObjectId,
    node: &str,
    disruption: &Disruption,
    made_by: &MadeBy,
) -> Cause {
    let (object, _) = node_ref(history, node);
    let condition = format!(
        "condition DisruptionTarget {} (line {}): {}",
        disruption.reason, disruption.line, disruption.message
    );
    let event = occurrences_about(history, graph, pod)
        .into_iter()
        .find(|o| o.reason == "Preempted");
    let priority = |id: ObjectId| -> (Option<i64>, Option<String>) {
        let body: Option<Value> = history.parse(history.object(id).first()).ok();
        let spec = body.as_ref().and_then(|b| b.get("spec"));
        (
            spec.and_then(|s| s.get("priority")).and_then(Value::as_i64),
            spec.and_then(|s| s.get("priorityClassName"))
                .and_then(Value::as_str)
                .map(str::to_string),
        )
    };
    let Some(preemptor_id) = preemptor(history, graph, pod) else {
        let why = match &event {
            Some(e) => format!(
                "; Event Preempted (line {}): {}, but that pod is not in the trace",
                e.line, e.message
            ),
            None => "; no Preempted Event was recorded, so which pod preempted it is unknown"
                .to_string(),
        };
        return Cause {
            kind: CauseKind::Node,
            summary: format!("preempted on node {node} for a pod of higher priority"),
            object,
            change: None,
            digests: None,
            time: disruption.time,
            confidence: Confidence::Medium,
            evidence: format!("{condition}{why}"),
            preemptor: None,
        };
    };
    let other = history.object(preemptor_id);
    let (their_priority, class) = priority(preemptor_id);
    let (own_priority, _) = priority(pod);
    let workload = super::workload_root(history, preemptor_id);
    let workload = (workload != preemptor_id).then(|| ObjectRef::of(history.object(workload)));
    let change = made_by.get(&preemptor_id).cloned();
    let priority_words = match (their_priority, &class) {
        (Some(p), Some(c)) => format!("priority {p}, class {c}"),
        (Some(p), None) => format!("priority {p}"),
        (None, _) => "priority not recorded".to_string(),
    };
    let made_words = match &change {
        Some(c) if c.kind == ChangeKind::Create => format!(
            ", created by {}",
            c.manager.as_deref().unwrap_or("an unknown manager")
        ),
        Some(c) => format!(
            ", revision {} by {}",
            c.revision.map_or("?".to_string(), |r| r.to_string()),
            c.manager.as_deref().unwrap_or("an unknown manager")
        ),
        None => String::new(),
    };
    let of_workload = workload.as_ref().map_or(String::new(), |w| {
        format!(" of {} {}/{}", w.kind.to_lowercase(), w.namespace, w.name)
    });
    let event_words = match &event {
        Some(e) => format!("; Event Preempted (line {}): {}", e.line, e.message),
        None => String::new(),
    };
    Cause {
        kind: CauseKind::Node,
        summary: format!(
            "preempted on node {node} by pod {}/{} ({priority_words}){of_workload}{made_words}",
            other.namespace, other.name
        ),
        evidence: format!(
            "{condition}{event_words}; the preemptor {}/{} has {priority_words}, this pod {}",
            other.namespace,
            other.name,
            own_priority.map_or("has no priority recorded".to_string(), |p| format!(
                "priority {p}"
            ))
        ),
        object,
        change: None,
        digests: None,
        time: disruption.time,
        confidence: match event {
            Some(_) => Confidence::High,
            None => Confidence::Medium,
        },
        preemptor: Some(Preemptor {
            pod: ObjectRef::of(other),
            priority: their_priority,
            priority_class: class,
            workload,
            change,
        }),
    }
}

/// A pod the kubelet terminated: node-pressure eviction (`pkg/kubelet/eviction`
/// `managerImpl.evictPod`, message "The node was low on resource: memory. …") or a graceful
/// node shutdown (`pkg/kubelet/nodeshutdown`). The root is the node's pressure, with the node's
/// pressure condition when Nodes were recorded.
fn kubelet_cause(history: &History, node: &str, disruption: &Disruption) -> Cause {
    let (object, node_id) = node_ref(history, node);
    let condition = format!(
        "condition DisruptionTarget TerminationByKubelet (line {}): {}",
        disruption.line,
        disruption.message.trim()
    );
    let resource = disruption
        .message
        .split("low on resource: ")
        .nth(1)
        .and_then(|rest| rest.split(['.', ',']).next())
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let pressure = resource.as_deref().and_then(|r| pressure_condition(r));
    let seen = node_id.zip(pressure).and_then(|(id, kind)| {
        let object = history.object(id);
        let mut since: Option<&Version> = None;
        for version in object.versions.iter().filter(|v| v.ts <= disruption.time) {
            let Ok(body) = history.parse::<Value>(version) else {
                continue;
            };
            let on = conditions(&body, "/status/conditions").any(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            });
            match (on, since) {
                (true, None) => since = Some(version),
                (false, _) => since = None,
                _ => {}
            }
        }
        since.map(|v| (kind, v))
    });
    let (time, node_words) = match seen {
        Some((kind, version)) => (
            version.ts,
            format!(
                "; node {node} reported {kind} True from {} (line {})",
                version.ts, version.line
            ),
        ),
        None => (disruption.time, String::new()),
    };
    let summary = match &resource {
        Some(r) => format!("node {node} ran low on {r}: its kubelet evicted the pod"),
        None => format!("the kubelet on node {node} terminated the pod"),
    };
    Cause {
        kind: CauseKind::Node,
        summary,
        object,
        change: None,
        digests: None,
        time,
        confidence: Confidence::High,
        evidence: format!("{condition}{node_words}"),
        preemptor: None,
    }
}

/// The node condition a kubelet reports while short of `resource` (`pkg/kubelet/eviction`
/// `signalToNodeCondition`).
fn pressure_condition(resource: &str) -> Option<&'static str> {
    match resource {
        "memory" => Some("MemoryPressure"),
        "ephemeral-storage" | "nodefs" | "imagefs" => Some("DiskPressure"),
        "pids" => Some("PIDPressure"),
        _ => None,
    }
}

/// A deletion without a `DisruptionTarget` condition that came when the pod's toleration of its
/// node's unreachable/not-ready NoExecute taint ran out: its time and the evidence in words.
pub fn taint_timing(
    history: &History,
    pod: ObjectId,
    node: ObjectId,
) -> Option<(Timestamp, String)> {
    let object = history.object(pod);
    let deleted = object.deletion_started()?;
    let spec: Value = history.parse(object.first()).ok()?;
    let node_object = history.object(node);
    for version in node_object.versions.iter().filter(|v| v.ts <= deleted) {
        let Ok(body) = history.parse::<Value>(version) else {
            continue;
        };
        for taint in taints(&body) {
            let (Some(key), Some(added)) = (taint.0, taint.2) else {
                continue;
            };
            if !NODE_DOWN_TAINTS.contains(&key.as_str()) || taint.1.as_deref() != Some("NoExecute")
            {
                continue;
            }
            let Some(seconds) = toleration_seconds(&spec, &key) else {
                continue;
            };
            let due = added.checked_add(SignedDuration::from_secs(seconds)).ok()?;
            let late = due.duration_until(deleted);
            if late >= -TOLERATION_SLACK && late <= TOLERATION_SLACK {
                let evidence = format!(
                    "node {} had the taint {key}:NoExecute since {added} (line {}); the pod tolerated it for {seconds} s and its deletion began at {deleted}, when that ran out",
                    node_object.name, version.line
                );
                return Some((deleted, evidence));
            }
        }
    }
    None
}

/// The pod's last `DisruptionTarget` (status True) and when it first showed.
fn disruption_target(history: &History, pod: ObjectId) -> Option<Disruption> {
    let object = history.object(pod);
    let mut found: Option<Disruption> = None;
    for version in &object.versions {
        // Only a body that names the condition can hold it (and parsing each is what a long
        // crash loop's question spent its time on).
        if !history.body_may_mention(version, &["DisruptionTarget"]) {
            continue;
        }
        let Ok(body) = history.parse::<Value>(version) else {
            continue;
        };
        let condition = conditions(&body, "/status/conditions")
            .find(|c| c.get("type").and_then(Value::as_str) == Some("DisruptionTarget"))
            .filter(|c| c.get("status").and_then(Value::as_str) == Some("True"));
        let reason = condition
            .and_then(|c| c.get("reason").and_then(Value::as_str))
            .map(str::to_string);
        match (reason, &found) {
            (Some(r), Some(f)) if f.reason == r => {}
            (Some(reason), _) => {
                let message = condition
                    .and_then(|c| c.get("message").and_then(Value::as_str))
                    .unwrap_or_default()
                    .to_string();
                found = Some(Disruption {
                    reason,
                    message,
                    time: version.ts,
                    line: version.line,
                })
            }
            (None, _) => {}
        }
    }
    found
}

/// When the pod's records first show `DisruptionTarget` `EvictionByEvictionAPI` (the eviction
/// subresource admitted its eviction), and that record's line.
pub fn evicted_through_api(history: &History, pod: ObjectId) -> Option<(Timestamp, u64)> {
    disruption_target(history, pod)
        .filter(|d| d.reason == "EvictionByEvictionAPI")
        .map(|d| (d.time, d.line))
}

/// `spec.nodeName` in the pod's last record that has one.
fn node_of(history: &History, pod: ObjectId) -> Option<String> {
    history.object(pod).versions.iter().rev().find_map(|v| {
        let body: Value = history.parse(v).ok()?;
        body.pointer("/spec/nodeName")?
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })
}

/// The cordon of the node in force when the eviction came: the last record where
/// `spec.unschedulable` turned true before it, or its first record when already cordoned.
fn cordon_cause(history: &History, node: ObjectId, eviction: &Disruption) -> Option<Cause> {
    let object = history.object(node);
    let mut before: Option<(Value, &Version)> = None;
    let mut found: Option<(Option<Value>, Value, &Version)> = None;
    for version in object.versions.iter().filter(|v| v.ts <= eviction.time) {
        let Ok(body) = history.parse::<Value>(version) else {
            continue;
        };
        let now = unschedulable(&body);
        let was = before.as_ref().map(|(b, _)| unschedulable(b));
        match (was, now) {
            (Some(false), true) => {
                found = Some((before.take().map(|(b, _)| b), body.clone(), version))
            }
            (None, true) => found = Some((None, body.clone(), version)),
            (_, false) => found = None,
            _ => {}
        }
        before = Some((body, version));
    }
    let (previous, body, version) = found?;
    let node_name = &object.name;
    let ref_object = ObjectRef::of(object);
    let eviction_words = format!(
        "condition DisruptionTarget EvictionByEvictionAPI (line {}): the pod was evicted through the eviction API",
        eviction.line
    );
    let Some(previous) = previous else {
        return Some(Cause {
            kind: CauseKind::Node,
            summary: format!("node {node_name} was cordoned before the trace began"),
            object: ref_object,
            change: None,
            digests: None,
            time: version.ts,
            confidence: Confidence::Medium,
            evidence: format!(
                "{eviction_words}; node {node_name} was already cordoned (spec.unschedulable true) in its first record (line {}), so who cordoned it and when is not in the trace",
                version.line
            ),
            preemptor: None,
        });
    };
    let change = cordon_change(history, node, version, &previous, &body);
    let who = change.manager.as_deref().unwrap_or("an unknown manager");
    let evidence = format!(
        "{eviction_words}; node {node_name} had been cordoned (spec.unschedulable false → true) by {who} at {} (line {}), as `kubectl drain` does before it evicts",
        version.ts, version.line
    );
    Some(Cause {
        preemptor: None,
        kind: CauseKind::Node,
        summary: format!(
            "node {node_name} cordoned by {who}{}",
            change
                .operation
                .as_deref()
                .map_or(String::new(), |op| format!(" ({op})"))
        ),
        object: ref_object,
        time: change.time,
        change: Some(change),
        digests: None,
        confidence: Confidence::High,
        evidence,
    })
}

fn cordon_change(
    history: &History,
    node: ObjectId,
    version: &Version,
    before: &Value,
    after: &Value,
) -> Change {
    let null = Value::Null;
    let base = FieldPath::root().child_field("spec");
    let fields: Vec<_> = diff_at(
        before.get("spec").unwrap_or(&null),
        after.get("spec").unwrap_or(&null),
        &base,
    )
    .into_iter()
    .filter(|f| f.path.to_string() == "spec.unschedulable")
    .collect();
    let attribution = attribute(Some(before), after, &fields);
    make_change(
        history,
        node,
        version,
        version.ts,
        ChangeKind::Spec,
        fields,
        attribution,
        false,
    )
}

/// The node's Ready condition going Unknown or False before `until`: the root of a taint
/// eviction.
fn down_cause(
    history: &History,
    node: ObjectId,
    until: Timestamp,
    confidence: Confidence,
    pod_evidence: String,
) -> Option<Cause> {
    let object = history.object(node);
    let mut ready_before = true;
    let mut found: Option<(&Version, String, String)> = None;
    let mut taint: Option<(u64, String)> = None;
    for version in object.versions.iter().filter(|v| v.ts <= until) {
        let Ok(body) = history.parse::<Value>(version) else {
            continue;
        };
        let ready = conditions(&body, "/status/conditions")
            .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"));
        let status = ready
            .and_then(|c| c.get("status").and_then(Value::as_str))
            .unwrap_or("Unknown")
            .to_string();
        let reason = ready
            .and_then(|c| c.get("reason").and_then(Value::as_str))
            .unwrap_or("")
            .to_string();
        let is_ready = status == "True";
        match (ready_before, is_ready) {
            (true, false) => found = Some((version, status, reason)),
            (_, true) => found = None,
            _ => {}
        }
        ready_before = is_ready;
        if taint.is_none() {
            taint = taints(&body)
                .into_iter()
                .find(|t| {
                    t.0.as_deref()
                        .is_some_and(|k| NODE_DOWN_TAINTS.contains(&k))
                        && t.1.as_deref() == Some("NoExecute")
                })
                .and_then(|t| t.0)
                .map(|key| (version.line, key));
        }
    }
    let (version, status, reason) = found?;
    let taint_words = match &taint {
        Some((line, key)) => format!("; it was tainted {key}:NoExecute (line {line})"),
        None => String::new(),
    };
    let evidence = format!(
        "{pod_evidence}; node {}'s Ready condition went {status} ({reason}) at {} (line {}): its kubelet stopped reporting{taint_words}",
        object.name, version.ts, version.line
    );
    Some(Cause {
        preemptor: None,
        kind: CauseKind::Node,
        summary: format!(
            "node {} stopped reporting: its Ready condition went {status}",
            object.name
        ),
        object: ObjectRef::of(object),
        change: None,
        digests: None,
        time: version.ts,
        confidence,
        evidence,
    })
}

fn conditions<'a>(body: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    body.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
}

fn unschedulable(body: &Value) -> bool {
    body.pointer("/spec/unschedulable")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `(key, effect, timeAdded)` of each taint.
fn taints(body: &Value) -> Vec<(Option<String>, Option<String>, Option<Timestamp>)> {
    conditions(body, "/spec/taints")
        .map(|t| {
            let text = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
            let added = text("timeAdded").and_then(|s| s.parse::<Timestamp>().ok());
            (text("key"), text("effect"), added)
        })
        .collect()
}

/// The pod's `tolerationSeconds` for a NoExecute taint with `key`.
fn toleration_seconds(pod: &Value, key: &str) -> Option<i64> {
    conditions(pod, "/spec/tolerations").find_map(|t| {
        let matches_key = match t.get("operator").and_then(Value::as_str) {
            Some("Exists") => t
                .get("key")
                .and_then(Value::as_str)
                .is_none_or(|k| k == key),
            _ => t.get("key").and_then(Value::as_str) == Some(key),
        };
        let effect = t.get("effect").and_then(Value::as_str);
        (matches_key && effect.is_none_or(|e| e == "NoExecute"))
            .then(|| t.get("tolerationSeconds").and_then(Value::as_i64))
            .flatten()
    })
}

/// The names of the nodes the loaded pods ran on (`spec.nodeName` of each pod's last record
/// that has one; a pod's node does not change once set).
pub fn nodes_ran_on(history: &History) -> std::collections::BTreeSet<String> {
    #[derive(serde::Deserialize)]
    struct Slim {
        spec: Option<SlimSpec>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SlimSpec {
        node_name: Option<String>,
    }
    history
        .of_kind("Pod")
        .filter_map(|pod| {
            // The last record names the node once bound; look before parsing.
            let last = history.object(pod).last();
            if !history.body(last).contains("\"nodeName\"") {
                return node_of(history, pod);
            }
            let slim: Slim = history.parse(last).ok()?;
            slim.spec?.node_name.filter(|n| !n.is_empty())
        })
        .collect()
}

/// The node object of a pod, by its `spec.nodeName`.
pub fn node_object(history: &History, pod: ObjectId) -> Option<ObjectId> {
    let name = node_of(history, pod)?;
    history.by_name("Node", None, &name).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_toleration_of_unreachable_is_read() {
        let pod = json!({"spec": {"tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 120}]}});
        assert_eq!(
            toleration_seconds(&pod, "node.kubernetes.io/unreachable"),
            Some(120)
        );
        assert_eq!(toleration_seconds(&pod, "other"), None);
    }
}
