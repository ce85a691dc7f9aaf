//! Causes of a pod's failures beyond its revision's change (issue 12): each kind of cause is one
//! [`Finder`] in [`FINDERS`] that proposes candidates with their evidence and confidence; the
//! pod query ranks them. A candidate the trace cannot support is not proposed, and a finder
//! whose inputs were not recorded says so instead of staying silent.

pub mod budget;
pub mod config;
pub mod deps;
mod image;
pub mod node;
pub mod scale;
pub mod template;

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::graph::{CausalGraph, Change, ChangeKind, Confidence, ObjectRef};
use crate::history::{History, ObjectId};
use crate::workload::pod::Restart;

/// The kinds a pod query loads besides the pod's workload, in the pod's namespace, for the
/// finders to read. Nodes are cluster-wide and many (a node's status is rewritten every few
/// minutes): a question reads only the nodes its pods ran on (see
/// [`crate::query::open`]).
pub const DEPENDENCY_KINDS: &[&str] = &[
    "ConfigMap",
    "Secret",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
];

/// What kind of thing caused the failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// The change that made the pod's revision.
    Template,
    /// A change to a ConfigMap or Secret the pod reads.
    Config,
    /// The same image string resolved to a different digest.
    ImageDigest,
    /// Something that happened to the pod's node.
    Node,
    /// An autoscaler's decision.
    Scale,
}

/// Two image digests under one image string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Digests {
    /// The digest the healthy pods ran.
    pub from: String,
    /// The digest the failing pods ran.
    pub to: String,
}

/// One candidate cause (the CAUSE of the JSON contract).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    /// Its kind.
    pub kind: CauseKind,
    /// The object it is about: the workload, ConfigMap, Secret, Node or HPA.
    pub object: ObjectRef,
    /// The change to that object, when one is to blame.
    pub change: Option<Change>,
    /// For `image-digest`: the digests.
    pub digests: Option<Digests>,
    /// When it happened.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// How sure.
    pub confidence: Confidence,
    /// What it rests on, in words, with record lines.
    pub evidence: String,
    /// The cause in a few words (`ConfigMap shop/app-config changed`).
    pub summary: String,
    /// For a preemption (a `node` cause): the pod that took the room, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preemptor: Option<Preemptor>,
}

/// The pod a preempted pod made room for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preemptor {
    /// The preemptor pod.
    pub pod: ObjectRef,
    /// Its `spec.priority`.
    pub priority: Option<i64>,
    /// Its `spec.priorityClassName`.
    pub priority_class: Option<String>,
    /// The top of its controller chain (its Deployment), when recorded.
    pub workload: Option<ObjectRef>,
    /// The change that made its revision (e.g. the install that created its Deployment).
    pub change: Option<Change>,
}

/// The changes that made the revisions of pods a cause may name besides the pod in question (a
/// preemptor's), by pod: only the workload models can tell them, so the pod query fills this.
pub type MadeBy = HashMap<ObjectId, Change>;

/// What the finders read about one pod.
pub struct Input<'a> {
    /// The replayed trace.
    pub history: &'a History,
    /// The pod.
    pub pod: ObjectId,
    /// Its restarts seen in the trace, in time order.
    pub restarts: &'a [Restart],
    /// The change its restarts are blamed on by revision comparison, with that blame's
    /// confidence and evidence.
    pub template: Option<(&'a Change, Confidence, &'a str)>,
}

/// One kind of cause.
pub trait Finder: Sync {
    /// Candidates for the pod's restarts.
    fn restart_causes(&self, input: &Input<'_>) -> Vec<Cause>;

    /// Why this finder could not look, when the trace lacks what it reads (e.g. "ConfigMaps
    /// were not recorded"); `None` when it could.
    fn blind_spot(&self, _input: &Input<'_>) -> Option<String> {
        None
    }

    /// The cause behind `trigger`, a change that only restarted the pods (see [`stamps_only`]),
    /// when this kind of cause explains why someone restarted them; `None` by default.
    fn behind_trigger(&self, _input: &Input<'_>, _trigger: &Change) -> Option<Cause> {
        None
    }
}

/// Every kind of cause kblame looks for.
pub static FINDERS: &[&dyn Finder] = &[
    &template::Template,
    &config::Config,
    &image::ImageDigest,
    &node::Node,
];

/// The candidates for a pod's restarts, most likely first, and, when there are none, what
/// could not be looked at.
/// Ranked by confidence; among equals, a change with content before a content-free one (a
/// `kubectl rollout restart` stamp or a `checksum/config` annotation only triggers a new
/// revision whose real cause lies elsewhere), then the latest before the first failure.
pub fn restart_causes(input: &Input<'_>) -> (Vec<Cause>, Vec<String>) {
    let mut causes: Vec<Cause> = FINDERS
        .iter()
        .flat_map(|f| f.restart_causes(input))
        .collect();
    causes.sort_by(|a, b| {
        (b.confidence, !trigger_only(b), b.time).cmp(&(a.confidence, !trigger_only(a), a.time))
    });
    // What could not be looked at matters when nothing explains the restarts.
    let blind = match input.restarts.is_empty() || !causes.is_empty() {
        true => Vec::new(),
        false => FINDERS.iter().filter_map(|f| f.blind_spot(input)).collect(),
    };
    (causes, blind)
}

/// Whether a template change only stamps the pod template (a restart or a checksum annotation)
/// without changing what runs.
pub fn trigger_only(cause: &Cause) -> bool {
    cause.kind == CauseKind::Template && cause.change.as_ref().is_some_and(stamps_only)
}

/// Whether a change only stamps the pod template: `kubectl rollout restart`'s
/// `kubectl.kubernetes.io/restartedAt` or a Helm `checksum/…` annotation, and nothing else.
pub fn stamps_only(change: &Change) -> bool {
    !change.fields.is_empty()
        && change.fields.iter().all(|f| {
            let path = f.path.to_string();
            path.starts_with("spec.template.metadata.annotations[")
                && (path.contains("kubectl.kubernetes.io/restartedAt")
                    || path.contains("checksum/"))
        })
}

/// Why the pod was created, one step further than `made_by`, the change that created it (the
/// `created.root_cause` of the JSON contract): when that change only stamps the template (see
/// [`stamps_only`]), the most likely cause a finder names behind it, e.g. the ConfigMap change
/// the restart was for; when its workload's controller made it (an operator), the change to
/// that controller's own object (see [`template::behind_controller`]); `None` when nothing
/// explains it.
pub fn created_root_cause(input: &Input<'_>, made_by: Option<&Change>) -> Option<Cause> {
    let made = made_by?;
    if !stamps_only(made) {
        return template::behind_controller(input.history, made);
    }
    FINDERS
        .iter()
        .filter_map(|f| f.behind_trigger(input, made))
        .max_by_key(|c| (c.confidence, c.time))
}

/// What lies behind a scale-up's or scale-down's replica change: the autoscaler's decision
/// (see [`scale`]). `None` for another kind of change, or when no recorded HPA wanted it.
pub fn scale_root_cause(history: &History, change: Option<&Change>) -> Option<Cause> {
    let change = change.filter(|c| c.kind == ChangeKind::Scale)?;
    let workload = history.by_uid(&change.object.uid)?;
    scale::scale_cause(history, workload, change)
}

/// What lies behind a replacement's creation: the root cause of the deletion of the pod it
/// replaced (a node's cordon, a node going Unknown, a preemption). `None` when the trace shows
/// none.
pub fn replacement_root_cause(
    history: &History,
    graph: &CausalGraph,
    replaced: Option<ObjectId>,
    made_by: &MadeBy,
) -> Option<Cause> {
    replaced.and_then(|old| deleted_root_cause(history, graph, old, made_by))
}

/// The PodDisruptionBudget an evicted pod's eviction went through (`deleted.disruption_budget`),
/// when its records show the eviction API's `DisruptionTarget` condition and a recorded budget
/// selects it.
pub fn deleted_budget(history: &History, pod: ObjectId) -> Option<budget::DisruptionBudget> {
    let (evicted, line) = node::evicted_through_api(history, pod)?;
    budget::eviction_budget(history, pod, evicted, line)
}

/// What lies behind a pod's deletion when its immediate reason has a cause of its own (the
/// `deleted.root_cause` of the JSON contract): the cordon before a drain's eviction, the node
/// going Unknown before a taint eviction, the preemptor behind a preemption, the node's
/// pressure behind a kubelet's eviction. `None` when the trace shows none.
pub fn deleted_root_cause(
    history: &History,
    graph: &CausalGraph,
    pod: ObjectId,
    made_by: &MadeBy,
) -> Option<Cause> {
    node::deletion_cause(history, graph, pod, made_by)
}

/// The top of a pod's recorded controller chain (its workload), else the pod itself: the pods
/// a finder compares are those under the same top. A question loads the whole workload, so the
/// comparison is the same whether the trace was read through its index or whole.
pub(crate) fn workload_root(history: &History, pod: ObjectId) -> ObjectId {
    let mut id = pod;
    for _ in 0..8 {
        let controller = history
            .object(id)
            .last()
            .controller_uid
            .as_deref()
            .and_then(|uid| history.by_uid(uid));
        match controller {
            Some(next) if next != id => id = next,
            _ => break,
        }
    }
    id
}

/// The other pods of `pod`'s workload (see [`workload_root`]), by name then UID, so that
/// whatever a finder names as an example does not depend on the order objects were read in.
pub(crate) fn workload_peers(history: &History, pod: ObjectId) -> Vec<ObjectId> {
    let root = workload_root(history, pod);
    if root == pod {
        return Vec::new();
    }
    let mut peers: Vec<ObjectId> = history
        .of_kind("Pod")
        .filter(|&other| other != pod && workload_root(history, other) == root)
        .collect();
    peers.sort_by(|&a, &b| {
        let (a, b) = (history.object(a), history.object(b));
        (&a.name, &a.uid).cmp(&(&b.name, &b.uid))
    });
    peers
}
