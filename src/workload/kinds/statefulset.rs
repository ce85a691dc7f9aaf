//! Pod → StatefulSet: revisions are ControllerRevisions (siblings of the pods, owned by the
//! StatefulSet), and a pod's `controller-revision-hash` label holds the revision's *name*.
//!
//! Sources (Kubernetes v1.31): `pkg/controller/statefulset/stateful_set_utils.go`
//! (`newVersionedStatefulSetPod` → `setPodRevision(pod, currentRevision.Name)`, which writes
//! `apps.StatefulSetRevisionLabel` = `controller-revision-hash`; `getPodRevision`;
//! `newRevision` numbers ControllerRevisions by their `revision` field),
//! `pkg/controller/statefulset/stateful_set_control.go` (`updateStatefulSet`,
//! `currentRevision`/`updateRevision`). Health: `kubectl rollout status`
//! (`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`,
//! `StatefulSetStatusViewer`). Built: revisions and pod reasons ([`super::revisioned`]);
//! verdicts for `analyze --object` in `crate::query::sets`.
//!
//! A pod's ordinal is its `apps.kubernetes.io/pod-index` label (`stateful_set_utils.go`
//! `initIdentity`, gate `PodIndexLabel`, on in v1.31), else the suffix of its name
//! `<set>-<ordinal>` (`getParentNameAndOrdinal`). A pod recreated for an update keeps its name
//! and gets a new UID (`stateful_set_control.go` `updateStatefulSet`: the rolling update
//! deletes the highest ordinal not at the update revision, one per sync, and `processReplica`
//! recreates it with `newVersionedStatefulSetPod`), so the slot a replacement keeps is the name.
//! Ordinals run from `spec.ordinals.start` (`getStartOrdinal`); which of them the controller
//! updates (`start + partition` up, none with `OnDelete`) is
//! [`crate::workload::controller_revision::UpdateScope`].

use jiff::Timestamp;
use serde_json::Value;

use super::revisioned::{first_label, pod_facts, Style};
use super::revisions::{controller_revision_history, labelled_revision};
use super::{KindRef, PodFacts, PodInput, Rules, Workload, WorkloadHistory};
use crate::graph::CausalGraph;
use crate::history::{History, ObjectId};
use crate::workload::conditions::ready_count;
use crate::workload::controller_revision::Join;

/// A StatefulSet.
pub struct StatefulSet;

/// The StatefulSet kind.
pub const STATEFULSET: KindRef = KindRef {
    group: "apps",
    kind: "StatefulSet",
};

static RULES: Rules = Rules {
    revisions: "ControllerRevisions owned by the StatefulSet; their revision field is the number",
    pod_join: "pod label controller-revision-hash = the ControllerRevision's name (e.g. web-5d8f7c6b9)",
    healthy: "observedGeneration >= generation, readyReplicas >= replicas and updatedReplicas >= replicas - partition (ordinals from ordinals.start + partition are updated; those below are held), else currentRevision == updateRevision; OnDelete has no verdict; no progress deadline",
    source: "pkg/controller/statefulset/stateful_set_utils.go, pkg/controller/statefulset/stateful_set_control.go",
    built: true,
};

impl Workload for StatefulSet {
    fn pod_addition(&self, path: &str, _value: &Value) -> Option<&'static str> {
        let identity = path == "spec.hostname" || path == "spec.subdomain";
        let labels = [
            "controller-revision-hash",
            "statefulset.kubernetes.io/pod-name",
            "apps.kubernetes.io/pod-index",
        ];
        if identity || crate::admission::is_label(path, &labels) {
            return Some("the StatefulSet controller (pkg/controller/statefulset stateful_set_utils.go newVersionedStatefulSetPod, updateIdentity)");
        }
        // volumeClaimTemplates become volumes (updateStorage).
        (path.starts_with("spec.volumes[") || path.contains("].volumeMounts[")).then_some(
            "the StatefulSet controller's claim volumes (stateful_set_utils.go updateStorage)",
        )
    }

    fn kind(&self) -> KindRef {
        STATEFULSET
    }

    fn chain(&self) -> &'static [KindRef] {
        &[STATEFULSET]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }

    /// `2/3 ready, updating 1/3 to redis-7f86f8f474` while `currentRevision` and
    /// `updateRevision` differ (`stateful_set_control.go` `updateStatefulSetStatus`).
    fn status(&self, body: &Value) -> Vec<String> {
        let mut parts = vec![ready_count(body)];
        let text = |path: &str| body.pointer(path).and_then(Value::as_str);
        let (current, update) = (
            text("/status/currentRevision"),
            text("/status/updateRevision"),
        );
        if let (Some(current), Some(update)) = (current, update) {
            if current != update {
                let updated = body
                    .pointer("/status/updatedReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let desired = body
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                parts.push(format!("updating {updated}/{desired} to {update}"));
            }
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

/// How a StatefulSet pod's `controller-revision-hash` label names its ControllerRevision.
pub const JOIN: Join = Join::Name;

static STYLE: Style = Style {
    join: JOIN,
    slot: name,
    slot_noun: "name",
    ordinal,
    generation: |_, _| None,
    rollout_words: "a rolling update deletes the highest ordinal not at the update revision, one at a time, and recreates it under the same name at the update revision",
};

fn name(history: &History, pod: ObjectId) -> Option<String> {
    Some(history.object(pod).name.clone())
}

/// The `apps.kubernetes.io/pod-index` label, else the name's suffix after the last `-`.
pub fn ordinal(history: &History, pod: ObjectId) -> Option<i64> {
    first_label(history, pod, "apps.kubernetes.io/pod-index")
        .and_then(|index| index.parse().ok())
        .or_else(|| {
            let name = &history.object(pod).name;
            name.rsplit_once('-')
                .and_then(|(_, suffix)| suffix.parse().ok())
        })
}
