//! `disruption_budget`: the PodDisruptionBudget an evicted pod's eviction went through, and
//! whether (and for how long) it held the eviction back (issue 12).
//!
//! What the records show (Kubernetes v1.31):
//! * The eviction subresource (`pkg/registry/core/pod/storage/eviction.go` `checkAndDecrement`)
//!   answers 429 TooManyRequests while the budget's `status.disruptionsAllowed` is 0, and writes
//!   nothing: a watch trace never sees a refused eviction. When it allows one, it decrements
//!   `disruptionsAllowed` and adds the pod to `status.disruptedPods` (a status write by the API
//!   server, manager `kube-apiserver`) before the pod gets `DisruptionTarget`
//!   `EvictionByEvictionAPI`.
//! * The disruption controller (`pkg/controller/disruption/disruption.go` `trySync`,
//!   `updatePdbStatus`) writes `disruptionsAllowed = currentHealthy - desiredHealthy` when pods
//!   change (manager `kube-controller-manager`).
//! * `kubectl drain` (`k8s.io/kubectl/pkg/drain/drain.go` `evictPods`) evicts a node's pods
//!   together and retries a 429 every 5 s.
//!
//! So a hold is read from the budget's status only: `disruptionsAllowed` 0 while the pod stayed,
//! then positive, then this pod's eviction within one retry interval. How long the hold lasted
//! is known only when the zero began with the eviction of another pod from the same node (the
//! same drain, which sent this pod's eviction at that moment too).

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::history::{History, ObjectId, Version};

/// `kubectl drain`'s retry interval after a 429, plus slack for the controller's write and the
/// request itself: an eviction later than this after the budget allowed one again was not
/// waiting on it.
const RETRY_SLACK: SignedDuration = SignedDuration::from_secs(7);

/// How long before the pod's `DisruptionTarget` record the API server's write admitting its
/// eviction comes (the two writes of one request).
const ADMISSION_SLACK: SignedDuration = SignedDuration::from_secs(2);

/// The budget an eviction went through.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisruptionBudget {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its UID.
    pub uid: String,
    /// What it asks for, e.g. `minAvailable 3` or `maxUnavailable 25%`.
    pub rule: String,
    /// Whether its status shows it held this eviction back (`disruptionsAllowed` 0 while the pod
    /// stayed, and the eviction came as soon as it allowed one again).
    pub held: bool,
    /// How long, in seconds, when the trace shows when the eviction was first tried; `null` when
    /// it was not held or that moment is not in the trace.
    pub held_seconds: Option<f64>,
    /// When `disruptionsAllowed` went to 0 before the eviction (`null` when not held).
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub zero_since: Option<Timestamp>,
    /// When it allowed a disruption again (`null` when not held).
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub allowed_at: Option<Timestamp>,
    /// What this rests on, in words, with record lines.
    pub evidence: String,
}

/// One version of a budget, as far as the hold is concerned.
struct Status<'a> {
    version: &'a Version,
    allowed: i64,
    disrupted: Vec<String>,
    manager: Option<String>,
}

/// The budget that selected `pod` when it was evicted at `evicted` (line `line`), and what its
/// status says about the eviction.
pub fn eviction_budget(
    history: &History,
    pod: ObjectId,
    evicted: Timestamp,
    line: u64,
) -> Option<DisruptionBudget> {
    let object = history.object(pod);
    let body: Value = history.parse(object.version_at(evicted)?).ok()?;
    let labels = body
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_default();
    let budget = history
        .of_kind("PodDisruptionBudget")
        .filter(|&id| history.object(id).namespace == object.namespace)
        .find(|&id| {
            let spec = history
                .object(id)
                .version_at(evicted)
                .and_then(|v| history.parse::<Value>(v).ok());
            spec.is_some_and(|s| selects(s.pointer("/spec/selector"), &labels))
        })?;
    Some(describe(history, budget, &object.name, pod, evicted, line))
}

fn describe(
    history: &History,
    budget: ObjectId,
    pod_name: &str,
    pod: ObjectId,
    evicted: Timestamp,
    line: u64,
) -> DisruptionBudget {
    let object = history.object(budget);
    let statuses: Vec<Status<'_>> = object
        .versions
        .iter()
        .filter(|v| v.ts <= evicted)
        .filter_map(|v| status(history, v))
        .collect();
    let rule = statuses
        .last()
        .and_then(|s| history.parse::<Value>(s.version).ok())
        .map(|b| rule_of(&b))
        .unwrap_or_default();
    let name = format!("{}/{}", object.namespace, object.name);
    let mut found = DisruptionBudget {
        namespace: object.namespace.clone(),
        name: object.name.clone(),
        uid: object.uid.clone(),
        rule: rule.clone(),
        held: false,
        held_seconds: None,
        zero_since: None,
        allowed_at: None,
        evidence: String::new(),
    };
    // The API server's write that admitted this eviction, when recorded.
    let admitted = statuses
        .iter()
        .rposition(|s| s.disrupted.iter().any(|p| p == pod_name));
    let before = admitted.unwrap_or_else(|| unnamed_admission(&statuses, evicted));
    let admitted_words = match admitted.and_then(|i| statuses.get(i)) {
        Some(s) => format!(
            "; the eviction took one (disruptionsAllowed {}, the pod in disruptedPods, line {}{})",
            s.allowed,
            s.version.line,
            s.manager
                .as_deref()
                .map_or(String::new(), |m| format!(", written by {m}"))
        ),
        None => String::new(),
    };
    let Some((zero, positive)) = last_hold(&statuses[..before]) else {
        found.evidence = format!(
            "PodDisruptionBudget {name} ({rule}) selects this pod and allowed its eviction{admitted_words}"
        );
        return found;
    };
    let (zero, positive) = (&statuses[zero], &statuses[positive]);
    if positive.version.ts.duration_until(evicted) > RETRY_SLACK {
        found.evidence = format!(
            "PodDisruptionBudget {name} ({rule}) selects this pod and allowed its eviction (disruptionsAllowed {} since {}, line {}){admitted_words}",
            positive.allowed, positive.version.ts, positive.version.line
        );
        return found;
    }
    found.held = true;
    found.zero_since = Some(zero.version.ts);
    found.allowed_at = Some(positive.version.ts);
    let sibling = zero
        .disrupted
        .iter()
        .find(|p| p.as_str() != pod_name && same_node(history, pod, p));
    let how_long = match sibling {
        Some(other) => {
            let held = zero.version.ts.duration_until(evicted).as_secs_f64();
            let held = (held * 1000.0).round() / 1000.0;
            found.held_seconds = Some(held);
            format!(
                " held this eviction {held:.1} s: disruptionsAllowed was 0 from {} (line {}, when the eviction of {other}, from the same node, took the last one — the same drain asked for this pod's then)",
                zero.version.ts, zero.version.line
            )
        }
        None => format!(
            " allowed no disruption from {} (line {}); when this pod's eviction was first asked for is not in the trace, so how long it waited is unknown",
            zero.version.ts, zero.version.line
        ),
    };
    found.evidence = format!(
        "PodDisruptionBudget {name} ({rule}){how_long}; it allowed {} again at {} (line {}{}), and this pod was evicted at {evicted} (line {line}), within kubectl drain's 5 s retry{admitted_words}. A refused eviction (429) leaves no record: this rests on the budget's status, not on a seen refusal",
        positive.allowed,
        positive.version.ts,
        positive.version.line,
        positive
            .manager
            .as_deref()
            .map_or(String::new(), |m| format!(", written by {m}")),
    );
    found
}

/// Without a `disruptedPods` entry naming the pod: the index of the write that most likely
/// admitted the eviction (the first 0 after the last positive, when it came just before the
/// eviction), else the number of statuses.
fn unnamed_admission(statuses: &[Status<'_>], evicted: Timestamp) -> usize {
    let Some(last) = statuses.iter().rposition(|s| s.allowed > 0) else {
        return statuses.len();
    };
    match statuses.get(last + 1) {
        Some(next) if next.version.ts.duration_until(evicted) <= ADMISSION_SLACK => last + 1,
        _ => statuses.len(),
    }
}

/// In budget statuses before the admitting write: the start of the last run of
/// `disruptionsAllowed` 0 and the first status after it that allowed one again (indices).
fn last_hold(statuses: &[Status<'_>]) -> Option<(usize, usize)> {
    let mut i = statuses.len();
    while i > 0 && statuses[i - 1].allowed > 0 {
        i -= 1;
    }
    let positive = i;
    if positive >= statuses.len() {
        return None; // It never allowed one again before the eviction.
    }
    while i > 0 && statuses[i - 1].allowed <= 0 {
        i -= 1;
    }
    (i < positive).then_some((i, positive))
}

fn status<'a>(history: &History, version: &'a Version) -> Option<Status<'a>> {
    let body: Value = history.parse(version).ok()?;
    let allowed = body.pointer("/status/disruptionsAllowed")?.as_i64()?;
    let disrupted = body
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    Some(Status {
        version,
        allowed,
        disrupted,
        manager: status_writer(&body),
    })
}

/// The manager of the newest status-subresource managedFields entry.
fn status_writer(body: &Value) -> Option<String> {
    body.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .filter(|e| e.get("subresource").and_then(Value::as_str) == Some("status"))
        .max_by_key(|e| e.get("time").and_then(Value::as_str).unwrap_or(""))
        .and_then(|e| e.get("manager").and_then(Value::as_str))
        .map(str::to_string)
}

/// `minAvailable 3`, `maxUnavailable 25%`.
fn rule_of(body: &Value) -> String {
    for key in ["minAvailable", "maxUnavailable"] {
        match body.pointer(&format!("/spec/{key}")) {
            Some(Value::String(s)) => return format!("{key} {s}"),
            Some(Value::Number(n)) => return format!("{key} {n}"),
            _ => {}
        }
    }
    "no minAvailable or maxUnavailable".to_string()
}

/// Whether the other pod (by name, in the same namespace) ran on the same node.
fn same_node(history: &History, pod: ObjectId, other: &str) -> bool {
    let object = history.object(pod);
    let node = |id: ObjectId| {
        history.object(id).versions.iter().rev().find_map(|v| {
            let body: Value = history.parse(v).ok()?;
            body.pointer("/spec/nodeName")?.as_str().map(str::to_string)
        })
    };
    let mine = node(pod);
    mine.is_some()
        && history
            .by_name("Pod", Some(&object.namespace), other)
            .into_iter()
            .any(|id| node(id) == mine)
}

/// A label selector (`matchLabels`, `matchExpressions`) against labels; a missing selector
/// selects nothing (a policy/v1 budget with an empty selector selects every pod, written `{}`).
fn selects(selector: Option<&Value>, labels: &Value) -> bool {
    let Some(selector) = selector.and_then(Value::as_object) else {
        return false;
    };
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let by_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == v.as_str());
    let by_expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => label(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        });
    by_labels && by_expressions
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_selector_matches_labels_and_expressions() {
        let labels = json!({"app": "cart", "tier": "web"});
        assert!(selects(
            Some(&json!({"matchLabels": {"app": "cart"}})),
            &labels
        ));
        assert!(!selects(
            Some(&json!({"matchLabels": {"app": "db"}})),
            &labels
        ));
        let expr = json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]},
            {"key": "canary", "operator": "DoesNotExist"}]});
        assert!(selects(Some(&expr), &labels));
        assert!(selects(Some(&json!({})), &labels));
        assert!(!selects(None, &labels));
    }

    #[test]
    fn the_rule_reads_an_int_or_a_percent() {
        assert_eq!(
            rule_of(&json!({"spec": {"minAvailable": 3}})),
            "minAvailable 3"
        );
        assert_eq!(
            rule_of(&json!({"spec": {"maxUnavailable": "25%"}})),
            "maxUnavailable 25%"
        );
    }
}
