//! Pod → DaemonSet: revisions are ControllerRevisions (siblings of the pods, owned by the
//! DaemonSet), and a pod's `controller-revision-hash` label holds only the revision's *hash*.
//!
//! Sources (Kubernetes v1.31): `pkg/controller/daemon/util/daemonset_util.go`
//! (`CreatePodTemplate` sets `pod-template-generation` and
//! `DefaultDaemonSetUniqueLabelKey` = `controller-revision-hash` to the hash),
//! `pkg/controller/daemon/update.go` (`constructHistory`, `dedupCurHistories`; the
//! ControllerRevision carries the same label). Health: `kubectl rollout status`
//! (`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`,
//! `DaemonSetStatusViewer`). Not built yet: revisions, pod reasons, verdicts (issue 11).

use super::{KindRef, Rules, Workload};

/// A DaemonSet.
pub struct DaemonSet;

const DAEMONSET: KindRef = KindRef {
    group: "apps",
    kind: "DaemonSet",
};

static RULES: Rules = Rules {
    revisions: "ControllerRevisions owned by the DaemonSet; their revision field is the number",
    pod_join: "pod label controller-revision-hash = the ControllerRevision's own controller-revision-hash label (the hash only, not the name); pod-template-generation = the DaemonSet's generation",
    healthy: "observedGeneration >= generation, updatedNumberScheduled == desiredNumberScheduled, numberAvailable == desiredNumberScheduled",
    source: "pkg/controller/daemon/util/daemonset_util.go, pkg/controller/daemon/update.go",
    built: false,
};

impl Workload for DaemonSet {
    fn kind(&self) -> KindRef {
        DAEMONSET
    }

    fn chain(&self) -> &'static [KindRef] {
        &[DAEMONSET]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }
}
