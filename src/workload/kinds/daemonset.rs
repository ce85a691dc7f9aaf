//! Pod → DaemonSet: revisions are ControllerRevisions (siblings of the pods, owned by the
//! DaemonSet), and a pod's `controller-revision-hash` label holds only the revision's *hash*.
//!
//! Sources (Kubernetes v1.31): `pkg/controller/daemon/util/daemonset_util.go`
//! (`CreatePodTemplate` sets `pod-template-generation` and
//! `DefaultDaemonSetUniqueLabelKey` = `controller-revision-hash` to the hash),
//! `pkg/controller/daemon/update.go` (`constructHistory`, `dedupCurHistories`; the
//! ControllerRevision carries the same label). Health: `kubectl rollout status`
//! (`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`,
//! `DaemonSetStatusViewer`). Built: revisions and pod reasons ([`super::revisioned`]);
//! verdicts for `analyze --object` in `crate::query::sets`.
//!
//! A replacement has a new name; what it keeps is the node (`daemon_controller.go`
//! `syncNodes` makes one pod per node, pinned by a required node affinity `matchFields
//! metadata.name In [<node>]`, `ReplaceDaemonSetPodNodeNameNodeAffinity`), so pods are paired
//! by node. With `maxSurge: 0` (the default) the old pod is deleted before its replacement is
//! made (`daemon/update.go` `rollingUpdate`); the order across nodes is random (Go map order)
//! and never inferred.

use jiff::Timestamp;
use serde_json::Value;

use super::revisioned::{first_label, pod_facts, Style};
use super::revisions::{controller_revision_history, labelled_revision};
use super::{KindRef, PodFacts, PodInput, Rules, Workload, WorkloadHistory};
use crate::graph::CausalGraph;
use crate::history::{History, ObjectId};
use crate::workload::controller_revision::Join;

/// A DaemonSet.
pub struct DaemonSet;

/// The DaemonSet kind.
pub const DAEMONSET: KindRef = KindRef {
    group: "apps",
    kind: "DaemonSet",
};

static RULES: Rules = Rules {
    revisions: "ControllerRevisions owned by the DaemonSet; their revision field is the number",
    pod_join: "pod label controller-revision-hash = the ControllerRevision's own controller-revision-hash label (the hash only, not the name); pod-template-generation = the DaemonSet's generation",
    healthy: "observedGeneration >= generation, updatedNumberScheduled == desiredNumberScheduled, numberAvailable == desiredNumberScheduled",
    source: "pkg/controller/daemon/util/daemonset_util.go, pkg/controller/daemon/update.go",
    built: true,
};

impl Workload for DaemonSet {
    fn pod_addition(&self, path: &str, value: &Value) -> Option<&'static str> {
        let labels = ["controller-revision-hash", "pod-template-generation"];
        if path.starts_with("spec.affinity") || crate::admission::is_label(path, &labels) {
            return Some("the DaemonSet controller (pkg/controller/daemon daemon_controller.go, util.ReplaceDaemonSetPodNodeNameNodeAffinity)");
        }
        (path.starts_with("spec.tolerations") && crate::admission::is_daemon_toleration(value))
            .then_some("the DaemonSet controller's tolerations (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations)")
    }

    fn kind(&self) -> KindRef {
        DAEMONSET
    }

    fn chain(&self) -> &'static [KindRef] {
        &[DAEMONSET]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }

    /// `3/3 ready, 1/3 updated` (updated shown while not every node runs the new template), from
    /// `numberReady`, `updatedNumberScheduled` and `desiredNumberScheduled`.
    fn status(&self, body: &Value) -> Vec<String> {
        let count = |path: &str| body.pointer(path).and_then(Value::as_i64).unwrap_or(0);
        let desired = count("/status/desiredNumberScheduled");
        let mut parts = vec![format!("{}/{desired} ready", count("/status/numberReady"))];
        let updated = count("/status/updatedNumberScheduled");
        if updated < desired {
            parts.push(format!("{updated}/{desired} updated"));
        }
        parts
    }

    fn pod_facts(&self, input: PodInput<'_>) -> PodFacts {
        pod_facts(&input, &STYLE)
    }

    fn history(
        &self,
        history: &History,
        graph: &mut CausalGraph,
        object: ObjectId,
    ) -> Option<WorkloadHistory> {
        Some(controller_revision_history(history, graph, object))
    }

    fn pod_revision(
        &self,
        history: &History,
        pod: &Value,
        controller: ObjectId,
        at: Timestamp,
    ) -> Option<i64> {
        labelled_revision(history, pod, controller, at, JOIN)
    }
}

/// How a DaemonSet pod's `controller-revision-hash` label names its ControllerRevision.
pub const JOIN: Join = Join::Hash;

static STYLE: Style = Style {
    join: JOIN,
    slot: node,
    slot_noun: "node",
    ordinal: |_, _| None,
    generation: |history, pod| first_label(history, pod, "pod-template-generation"),
    rollout_words: "a rolling update deletes pods not at the update revision, node by node within maxUnavailable, and makes each node's replacement at the update revision",
};

/// The pod's node: `spec.nodeName` of its last record that has one, else the node its
/// required affinity pins it to (`matchFields` `metadata.name`).
fn node(history: &History, pod: ObjectId) -> Option<String> {
    let object = history.object(pod);
    object.versions.iter().rev().find_map(|version| {
        let body: Value = history.parse(version).ok()?;
        body.pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or_else(|| pinned_node(&body))
    })
}

fn pinned_node(body: &Value) -> Option<String> {
    let terms = body
        .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")?
        .as_array()?;
    terms.iter().find_map(|term| {
        term.get("matchFields")?
            .as_array()?
            .iter()
            .find_map(|field| {
                (field.get("key")?.as_str()? == "metadata.name")
                    .then(|| field.get("values")?.get(0)?.as_str().map(str::to_string))
                    .flatten()
            })
    })
}
