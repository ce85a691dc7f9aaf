//! Pod → ReplicaSet, with no Deployment above it: the ReplicaSet keeps its pods alive but has no
//! revisions of its own.
//!
//! Source (Kubernetes v1.31): `pkg/controller/replicaset/replica_set.go` (`manageReplicas`,
//! `syncReplicaSet`). Under a controller kblame does not know (an Argo Rollout), that controller
//! scales and numbers the ReplicaSet, so the ReplicaSet alone answers nothing.

use jiff::Timestamp;
use serde_json::Value;

use super::deployment::{replicaset_pod_facts, REPLICASET};
use super::{KindRef, PodFacts, PodInput, Rules, Workload};
use crate::history::{History, ObjectId};
use crate::workload::conditions::ready_count;
use crate::workload::replicaset::revision_of;

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

    /// `rev 2, 1/1 ready`.
    fn status(&self, body: &Value) -> Vec<String> {
        let revision = revision_of(body).map_or("?".to_string(), |n| n.to_string());
        vec![format!("rev {revision}"), ready_count(body)]
    }

    /// The Deployment revision its ReplicaSet carried at `at` (its
    /// `deployment.kubernetes.io/revision` annotation).
    fn pod_revision(
        &self,
        history: &History,
        _pod: &Value,
        controller: ObjectId,
        at: Timestamp,
    ) -> Option<i64> {
        let version = history
            .state_at(controller, at)
            .unwrap_or_else(|| history.object(controller).last());
        revision_of(&history.parse::<Value>(version).ok()?)
    }
}
