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
//! `StatefulSetStatusViewer`). Not built yet: revisions, pod reasons, verdicts (issue 11).

use super::{KindRef, Rules, Workload};

/// A StatefulSet.
pub struct StatefulSet;

static RULES: Rules = Rules {
    revisions: "ControllerRevisions owned by the StatefulSet; their revision field is the number",
    pod_join: "pod label controller-revision-hash = the ControllerRevision's name (e.g. web-5d8f7c6b9)",
    healthy: "observedGeneration >= generation, updatedReplicas/readyReplicas == replicas (within the partition), currentRevision == updateRevision; no progress deadline",
    source: "pkg/controller/statefulset/stateful_set_utils.go, pkg/controller/statefulset/stateful_set_control.go",
    built: false,
};

impl Workload for StatefulSet {
    fn kind(&self) -> KindRef {
        KindRef {
            group: "apps",
            kind: "StatefulSet",
        }
    }

    fn chain(&self) -> &'static [KindRef] {
        &[KindRef {
            group: "apps",
            kind: "StatefulSet",
        }]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }
}
