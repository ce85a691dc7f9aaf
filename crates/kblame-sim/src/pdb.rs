//! PodDisruptionBudgets (issue 12): a `policy/v1` object a user applies, the disruption
//! controller that writes its status, and the eviction subresource's check that `kubectl drain`
//! retries until the budget allows the eviction.
//!
//! Kubernetes v1.31 sources followed:
//! * The disruption controller, `pkg/controller/disruption/disruption.go`: `trySync` lists the
//!   pods the selector matches (`getPodsForPdb`), `getExpectedPodCount` gives `expectedPods` and
//!   `desiredHealthy` (an integer `minAvailable` counts the pods found; a percentage or
//!   `maxUnavailable` scales against the controllers' replicas, `getExpectedScale`),
//!   `buildDisruptedPodMap` drops `disruptedPods` entries whose pod is gone or being deleted, or
//!   older than `DeletionTimeout` (2 min, re-checked then), `countHealthyPods` counts Ready pods
//!   neither being deleted nor in that map, and `updatePdbStatus` writes `disruptionsAllowed =
//!   currentHealthy - desiredHealthy` (never below 0) with the `DisruptionAllowed` condition
//!   (`pdbhelper.UpdateDisruptionAllowedCondition`: True `SufficientPods` or False
//!   `InsufficientPods`), only when something changed. It runs in kube-controller-manager: its
//!   writes carry the manager `kube-controller-manager` (the user agent's first word), through
//!   the status subresource.
//! * The eviction subresource, `pkg/registry/core/pod/storage/eviction.go` `EvictionREST.Create`
//!   and `checkAndDecrement`: with `observedGeneration` behind or `disruptionsAllowed` 0 it answers
//!   429 TooManyRequests "Cannot evict pod as it would violate the pod's disruption budget." and
//!   writes nothing; otherwise it decrements `disruptionsAllowed` (setting the condition False
//!   when it reaches 0), adds the pod to `status.disruptedPods` and writes the status through its
//!   loopback client (manager `kube-apiserver`) before `addConditionAndDeletePod`.
//! * `kubectl drain`, `k8s.io/kubectl/pkg/drain/drain.go` `evictPods`: each pod is evicted in its
//!   own goroutine; on a 429 it prints "will retry after 5s", sleeps 5 s and tries again, until
//!   `--timeout` (default 0: forever).
//!
//! Not modelled: several budgets selecting one pod (a 500), the unhealthy-pod path (a pod that
//! is not Ready may be evicted without a decrement under `unhealthyPodEvictionPolicy`) and
//! `MaxDisruptedPodSize`.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde_json::{json, Map, Value};

use super::clock::{whole_seconds, Ms, SECOND};
use super::config::IntOrPercent;
use super::fields::Writer;
use super::model::{Meta, Object, Pod};
use super::truth::BudgetTruth;
use super::world::{Task, World};

/// `DeletionTimeout` of the disruption controller.
const DELETION_TIMEOUT: Ms = 120 * SECOND;
/// How long `kubectl drain` sleeps after a 429 before it tries the eviction again.
pub(crate) const DRAIN_RETRY: Ms = 5 * SECOND;
/// The manager of the eviction subresource's status write (the API server's loopback client).
const API_SERVER: &str = "kube-apiserver";
/// The manager of the disruption controller's writes.
const KCM: &str = "kube-controller-manager";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a PodDisruptionBudget asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetRule {
    /// `spec.minAvailable`.
    MinAvailable(IntOrPercent),
    /// `spec.maxUnavailable`.
    MaxUnavailable(IntOrPercent),
}

/// `status` as the disruption controller and the eviction subresource write it.
#[derive(Debug, Clone, Default, PartialEq)]
struct BudgetStatus {
    observed_generation: i64,
    disruptions_allowed: i32,
    current_healthy: i32,
    desired_healthy: i32,
    expected_pods: i32,
    /// Pod name → when the eviction subresource processed its eviction.
    disrupted: BTreeMap<String, Ms>,
    /// The `DisruptionAllowed` condition: status and lastTransitionTime.
    allowed: Option<(bool, Ms)>,
}

/// A simulated policy/v1 PodDisruptionBudget.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub(crate) meta: Meta,
    rule: BudgetRule,
    /// `spec.selector.matchLabels`.
    selector: BTreeMap<String, String>,
    status: BudgetStatus,
}

impl Object for Budget {
    const KIND: &'static str = "PodDisruptionBudget";
    const API_VERSION: &'static str = "policy/v1";
    const RESOURCE: &'static str = "policy/v1/poddisruptionbudgets";
    const HAS_GENERATION: bool = true;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("spec".into(), spec_json(self.rule, &self.selector));
        out.insert("status".into(), self.status_json());
    }
}

fn spec_json(rule: BudgetRule, selector: &BTreeMap<String, String>) -> Value {
    let mut spec = Map::new();
    match rule {
        BudgetRule::MinAvailable(n) => spec.insert("minAvailable".into(), n.to_json()),
        BudgetRule::MaxUnavailable(n) => spec.insert("maxUnavailable".into(), n.to_json()),
    };
    spec.insert("selector".into(), json!({"matchLabels": selector}));
    Value::Object(spec)
}

impl Budget {
    fn status_json(&self) -> Value {
        let s = &self.status;
        let mut out = Map::new();
        if s.observed_generation > 0 {
            out.insert("observedGeneration".into(), json!(s.observed_generation));
        }
        if !s.disrupted.is_empty() {
            let pods: Map<String, Value> = s
                .disrupted
                .iter()
                .map(|(name, at)| (name.clone(), json!(whole_seconds(*at))))
                .collect();
            out.insert("disruptedPods".into(), Value::Object(pods));
        }
        out.insert("disruptionsAllowed".into(), json!(s.disruptions_allowed));
        out.insert("currentHealthy".into(), json!(s.current_healthy));
        out.insert("desiredHealthy".into(), json!(s.desired_healthy));
        out.insert("expectedPods".into(), json!(s.expected_pods));
        if let Some((allowed, since)) = s.allowed {
            let (status, reason) = match allowed {
                true => ("True", "SufficientPods"),
                false => ("False", "InsufficientPods"),
            };
            out.insert(
                "conditions".into(),
                json!([{"type": "DisruptionAllowed", "status": status,
                    "observedGeneration": s.observed_generation,
                    "lastTransitionTime": whole_seconds(since), "reason": reason, "message": ""}]),
            );
        }
        Value::Object(out)
    }

    /// Whether its selector matches the pod.
    fn selects(&self, pod: &Pod) -> bool {
        pod.meta.namespace == self.meta.namespace
            && self
                .selector
                .iter()
                .all(|(k, v)| pod.meta.labels.get(k) == Some(v))
    }

    /// `UpdateDisruptionAllowedCondition`: the transition time moves only when the status does.
    fn set_allowed_condition(&mut self, now: Ms) {
        let allowed = self.status.disruptions_allowed > 0;
        match self.status.allowed {
            Some((current, _)) if current == allowed => {}
            _ => self.status.allowed = Some((allowed, now)),
        }
    }
}

/// The manifest `kubectl apply` sends, as its last-applied-configuration annotation holds it.
fn last_applied(meta: &Meta, spec: &Value) -> String {
    let manifest = json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"annotations": {}, "name": meta.name, "namespace": meta.namespace},
        "spec": spec,
    });
    let mut text = String::new();
    super::rng::write_canonical(&manifest, &mut text);
    text.push('\n');
    text
}

/// What the eviction subresource answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No budget selects the pod, or one allowed it (its namespace/name): delete it.
    Allowed(Option<(String, String)>),
    /// 429: the budget (namespace/name) allows no disruption now.
    Refused(String, String),
}

impl World {
    /// `kubectl apply` (client-side) of a PodDisruptionBudget selecting `selector`; the
    /// disruption controller writes its status a moment later.
    pub(crate) fn apply_budget(
        &mut self,
        namespace: &str,
        name: &str,
        rule: BudgetRule,
        selector: BTreeMap<String, String>,
    ) {
        let uid = self.uid();
        let mut meta = Meta::new(namespace, name, uid.clone(), self.core.now);
        let annotation = last_applied(&meta, &spec_json(rule, &selector));
        meta.annotations.insert(LAST_APPLIED.into(), annotation);
        let mut budget = Budget {
            meta,
            rule,
            selector,
            status: BudgetStatus::default(),
        };
        let writer = Writer::update("kubectl-client-side-apply");
        self.core
            .commit(&mut budget, Some(&writer), None, EventType::Added);
        self.budgets.insert(uid.clone(), budget);
        self.core.soon(Task::SyncBudget(uid));
    }

    /// The disruption controller's informers saw a pod change: queue every budget.
    pub(crate) fn budgets_notice(&mut self) {
        let uids: Vec<String> = self.budgets.keys().cloned().collect();
        for uid in uids {
            self.core.soon(Task::SyncBudget(uid));
        }
    }

    /// `DisruptionController.trySync` for one budget.
    pub(crate) fn sync_budget(&mut self, uid: &str) {
        let now = self.core.now;
        let Some(budget) = self.budgets.get(uid) else {
            return;
        };
        let pods: Vec<&Pod> = self.pods.values().filter(|p| budget.selects(p)).collect();
        let (expected, desired) = self.expected_count(budget, &pods);
        let mut recheck = None;
        let disrupted: BTreeMap<String, Ms> = budget
            .status
            .disrupted
            .iter()
            .filter(|(name, at)| {
                let pod = pods.iter().find(|p| &p.meta.name == *name);
                let live = pod.is_some_and(|p| !p.meta.deleting());
                let fresh = **at + DELETION_TIMEOUT > now;
                if live && fresh {
                    recheck = Some(recheck.map_or(**at, |r: Ms| r.min(**at)));
                }
                live && fresh
            })
            .map(|(name, at)| (name.clone(), *at))
            .collect();
        let healthy = pods
            .iter()
            .filter(|p| !p.meta.deleting() && !disrupted.contains_key(&p.meta.name))
            .filter(|p| p.conditions.iter().any(|c| c.kind == "Ready" && c.status))
            .count() as i32;
        let allowed = match expected <= 0 {
            true => 0,
            false => (healthy - desired).max(0),
        };
        let status = BudgetStatus {
            observed_generation: budget.meta.generation,
            disruptions_allowed: allowed,
            current_healthy: healthy,
            desired_healthy: desired,
            expected_pods: expected,
            disrupted,
            allowed: budget.status.allowed,
        };
        if let Some(at) = recheck {
            self.core.once_after(
                at + DELETION_TIMEOUT - now,
                Task::SyncBudget(uid.to_string()),
            );
        }
        if status == budget.status && status.allowed.is_some() {
            return; // `updatePdbStatus`: nothing changed, nothing written.
        }
        let Some(budget) = self.budgets.get_mut(uid) else {
            return;
        };
        budget.status = status;
        budget.set_allowed_condition(now);
        self.core.commit(
            budget,
            Some(&Writer::status(KCM)),
            None,
            EventType::Modified,
        );
    }

    /// `getExpectedPodCount`: `(expectedPods, desiredHealthy)`.
    fn expected_count(&self, budget: &Budget, pods: &[&Pod]) -> (i32, i32) {
        match budget.rule {
            BudgetRule::MinAvailable(IntOrPercent::Int(n)) => (pods.len() as i32, n),
            BudgetRule::MinAvailable(share) => {
                let scale = self.expected_scale(pods);
                (scale, share.resolve(scale, true))
            }
            BudgetRule::MaxUnavailable(share) => {
                let scale = self.expected_scale(pods);
                (scale, (scale - share.resolve(scale, true)).max(0))
            }
        }
    }

    /// `getExpectedScale`: the replicas of each controller of the pods (a ReplicaSet owned by a
    /// Deployment counts the Deployment's), each counted once.
    fn expected_scale(&self, pods: &[&Pod]) -> i32 {
        let mut scales: BTreeMap<String, i32> = BTreeMap::new();
        for pod in pods {
            let Some(rs) = self.replicasets.get(&pod.rs_uid) else {
                continue;
            };
            match self.deployments.get(&rs.owner_uid) {
                Some(d) => scales.insert(d.meta.uid.clone(), d.replicas),
                None => scales.insert(rs.meta.uid.clone(), rs.replicas),
            };
        }
        scales.values().sum()
    }

    /// The eviction subresource's budget check (`checkAndDecrement`) for the pod `uid`.
    pub(crate) fn check_budget(&mut self, uid: &str) -> Verdict {
        let now = self.core.now;
        let Some(pod) = self.pods.get(uid) else {
            return Verdict::Allowed(None);
        };
        let name = pod.meta.name.clone();
        let Some(budget) = self.budgets.values_mut().find(|b| b.selects(pod)) else {
            return Verdict::Allowed(None);
        };
        let key = (budget.meta.namespace.clone(), budget.meta.name.clone());
        let behind = budget.status.observed_generation < budget.meta.generation;
        if behind || budget.status.disruptions_allowed <= 0 {
            return Verdict::Refused(key.0, key.1);
        }
        budget.status.disruptions_allowed -= 1;
        if budget.status.disruptions_allowed == 0 {
            budget.set_allowed_condition(now);
        }
        budget.status.disrupted.insert(name, now);
        let writer = Writer::status(API_SERVER);
        self.core
            .commit(budget, Some(&writer), None, EventType::Modified);
        Verdict::Allowed(Some(key))
    }

    /// Notes in the ground truth which budget allowed the pod's eviction and how often it was
    /// refused before.
    pub(crate) fn tell_budget(&mut self, uid: &str, budget: Option<(String, String)>) {
        let refusals = self.refusals.remove(uid);
        let (Some((namespace, name)), Some(truth)) = (budget, self.pods.get(uid).map(|p| p.truth))
        else {
            return;
        };
        let deleted = self
            .book
            .pods
            .get_mut(truth)
            .and_then(|e| e.0.deleted.as_mut());
        if let Some(deleted) = deleted {
            let (count, first) = refusals.unwrap_or_default();
            deleted.disruption_budget = Some(BudgetTruth {
                namespace,
                name,
                refusals: count,
                first_refused: first,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(rule: BudgetRule) -> Budget {
        Budget {
            meta: Meta::new("shop", "cart-pdb", "u".into(), 0),
            rule,
            selector: BTreeMap::from([("app".to_string(), "cart".to_string())]),
            status: BudgetStatus::default(),
        }
    }

    #[test]
    fn a_new_budget_shows_zeros_and_no_condition_until_the_controller_writes() {
        let b = budget(BudgetRule::MinAvailable(IntOrPercent::Int(3)));
        let status = b.status_json();
        assert_eq!(status["disruptionsAllowed"], 0);
        assert!(status.get("conditions").is_none());
        assert!(status.get("disruptedPods").is_none());
    }

    #[test]
    fn the_condition_keeps_its_transition_time_while_its_status_stays() {
        let mut b = budget(BudgetRule::MaxUnavailable(IntOrPercent::Percent(25)));
        b.status.disruptions_allowed = 1;
        b.set_allowed_condition(10);
        b.set_allowed_condition(20);
        assert_eq!(b.status.allowed, Some((true, 10)));
        b.status.disruptions_allowed = 0;
        b.set_allowed_condition(30);
        assert_eq!(b.status.allowed, Some((false, 30)));
        assert_eq!(spec_json(b.rule, &b.selector)["maxUnavailable"], "25%");
    }
}
