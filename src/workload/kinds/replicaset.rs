//! Pod → ReplicaSet, with no Deployment above it: the ReplicaSet keeps its pods alive but has no
//! revisions of its own.
//!
//! Source (Kubernetes v1.31): `pkg/controller/replicaset/replica_set.go` (`manageReplicas`,
//! `syncReplicaSet`). Under a controller kblame does not know (an Argo Rollout), that controller
//! scales and numbers the ReplicaSet, so the ReplicaSet alone answers nothing.

use super::deployment::{replicaset_pod_facts, REPLICASET};
use super::{KindRef, PodFacts, PodInput, Rules, Workload};

/// A ReplicaSet on its own.
pub struct ReplicaSet;

static RULES: Rules = Rules {
    revisions: "none of its own: a ReplicaSet is one pod template",
    pod_join: "the pod's controller ReplicaSet, by UID",
    healthy: "readyReplicas == replicas and observedGeneration >= generation",
    source: "pkg/controller/replicaset/replica_set.go",
    built: true,
};

impl Workload for ReplicaSet {
    fn kind(&self) -> KindRef {
        REPLICASET
    }

    fn chain(&self) -> &'static [KindRef] {
        &[REPLICASET]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }

    fn answers_under_any_controller(&self) -> bool {
        false
    }

    fn pod_facts(&self, mut input: PodInput<'_>) -> PodFacts {
        let replicaset = input.chain.first().and_then(|l| l.id);
        replicaset_pod_facts(&mut input, replicaset, None)
    }
}
