//! Pod → ReplicaSet → Deployment: revisions are ReplicaSets, numbered by the Deployment
//! controller, and pods join them through their controller ReplicaSet.
//!
//! Sources (Kubernetes v1.31): `pkg/controller/deployment/sync.go` (`getNewReplicaSet` sets
//! `deployment.kubernetes.io/revision`, `pod-template-hash` on the ReplicaSet and its pod
//! template), `pkg/controller/deployment/util/deployment_util.go` (`Revision`,
//! `SetNewReplicaSetAnnotations`, `DeploymentComplete`), `pkg/controller/replicaset/replica_set.go`
//! (`manageReplicas`). `kubectl rollout status` (`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`,
//! `DeploymentStatusViewer`) is the health rule.

use super::{KindRef, Peer, PodFacts, PodInput, PodRevision, Rules, ServingRevision, Workload};
use serde_json::Value;

use super::{RevisionStep, WorkloadHistory};
use crate::graph::CausalGraph;
use crate::history::{History, ObjectId};
use crate::workload::conditions::{condition_words, ready_count};
use crate::workload::deployment::DeploymentModel;
use crate::workload::replicaset::{revision_of, template_without_hash, ReplicaSetTimeline};
use crate::workload::turnover::turnover;
use crate::workload::{shifted, WATCH_SKEW};

/// `apps/ReplicaSet`.
pub(super) const REPLICASET: KindRef = KindRef {
    group: "apps",
    kind: "ReplicaSet",
};

/// The Deployment's kind.
pub const DEPLOYMENT: KindRef = KindRef {
    group: "apps",
    kind: "Deployment",
};

/// A Deployment and its ReplicaSets.
pub struct Deployment;

static RULES: Rules = Rules {
    revisions: "one ReplicaSet per pod template; its annotation deployment.kubernetes.io/revision is the number (a rollback renumbers an old ReplicaSet)",
    pod_join: "the pod's controller ReplicaSet, by UID (the pod-template-hash label names the template)",
    healthy: "observedGeneration >= generation, updated == replicas == available, no old replicas; failed on Progressing=False ProgressDeadlineExceeded",
    source: "pkg/controller/deployment/sync.go, pkg/controller/deployment/util/deployment_util.go",
    built: true,
};

impl Workload for Deployment {
    fn kind(&self) -> KindRef {
        DEPLOYMENT
    }

    fn chain(&self) -> &'static [KindRef] {
        &[REPLICASET, DEPLOYMENT]
    }

    fn rules(&self) -> &'static Rules {
        &RULES
    }

    fn pod_facts(&self, mut input: PodInput<'_>) -> PodFacts {
        let replicaset = input.chain.first().and_then(|l| l.id);
        let deployment = input.chain.get(1).and_then(|l| l.id);
        replicaset_pod_facts(&mut input, replicaset, deployment)
    }

    /// `3/3 ready, revision 2, Progressing=False ProgressDeadlineExceeded`.
    fn status(&self, body: &Value) -> Vec<String> {
        let mut parts = vec![ready_count(body)];
        if let Some(revision) = revision_of(body) {
            parts.push(format!("revision {revision}"));
        }
        parts.extend(condition_words(body, &["Progressing", "Available"], true));
        parts
    }

    fn history(
        &self,
        history: &History,
        graph: &mut CausalGraph,
        object: ObjectId,
    ) -> Option<WorkloadHistory> {
        let model = DeploymentModel::of(history, graph, object);
        let revisions = model
            .revisions
            .iter()
            .map(|r| RevisionStep {
                number: r.number,
                change: r.change.clone(),
                carrier: r.replicaset,
            })
            .collect();
        Some(WorkloadHistory {
            changes: model.changes.iter().map(|t| t.change.clone()).collect(),
            revisions,
            carrier_kind: "ReplicaSet",
            carrier_template: template_without_hash,
            shows: |_, body, step| revision_of(body) == Some(step.number),
            notes: model.notes.clone(),
        })
    }
}

/// The pod facts of a ReplicaSet's pod, with the ReplicaSet's Deployment when there is one:
/// shared by [`Deployment`] and a ReplicaSet on its own.
pub(super) fn replicaset_pod_facts(
    input: &mut PodInput<'_>,
    replicaset: Option<ObjectId>,
    deployment: Option<ObjectId>,
) -> PodFacts {
    let (history, pod, at) = (input.history, input.pod, input.at);
    let model = deployment.map(|d| DeploymentModel::of(history, input.graph, d));
    let graph = &*input.graph;
    let timeline = replicaset.map(|rs| {
        model
            .as_ref()
            .and_then(|m| m.replicasets.iter().find(|t| t.id == rs).cloned())
            .unwrap_or_else(|| ReplicaSetTimeline::read(history, rs))
    });
    let mut moves = timeline
        .as_ref()
        .map(|t| turnover(history, graph, t, model.as_deref()))
        .unwrap_or_default();
    let revision = timeline.as_ref().map(|t| revision(t, model.as_deref(), at));
    let peers = match (&model, &timeline) {
        (Some(model), Some(timeline)) => Ok(peers(history, graph, model, timeline)),
        _ => Err("the pod has no recorded Deployment to compare revisions".to_string()),
    };
    PodFacts {
        revision,
        arrival: moves.arrivals.remove(&pod),
        unexplained: "the pod has no recorded ReplicaSet".to_string(),
        departure: moves.departures.remove(&pod),
        peers,
        serving: model
            .as_ref()
            .map_or_else(Vec::new, |m| serving(history, m)),
        notes: model.as_ref().map_or_else(Vec::new, |m| m.notes.clone()),
        ordinal: None,
        pod_template_generation: None,
        job: None,
    }
}

fn revision(
    timeline: &ReplicaSetTimeline,
    model: Option<&DeploymentModel>,
    at: jiff::Timestamp,
) -> PodRevision {
    // The controller renumbers a ReplicaSet before it creates pods for the new number; allow for
    // the ReplicaSet watch delivering that update after the pod.
    let number = timeline.revision_at(shifted(at, WATCH_SKEW));
    let change = number.and_then(|n| model?.revision(n)?.change.clone());
    PodRevision {
        number,
        template_hash: timeline.template_hash.clone(),
        change,
        current_number: timeline.last().and_then(|p| p.revision),
        controller_revision: None,
    }
}

/// The pods of the Deployment's other ReplicaSets, each with its revision when it was created.
fn peers(
    history: &History,
    graph: &CausalGraph,
    model: &DeploymentModel,
    own: &ReplicaSetTimeline,
) -> Vec<Peer> {
    model
        .replicasets
        .iter()
        .filter(|rs| rs.id != own.id)
        .flat_map(|rs| {
            graph
                .controlled_by(rs.id)
                .into_iter()
                .filter(|&pod| history.object(pod).kind == "Pod")
                .map(|pod| Peer {
                    pod,
                    revision: rs.revision_at(history.object(pod).first().ts),
                })
        })
        .collect()
}

fn serving(history: &History, model: &DeploymentModel) -> Vec<ServingRevision> {
    let mut out: Vec<ServingRevision> = model
        .replicasets
        .iter()
        .filter(|rs| history.object(rs.id).gone.is_none())
        .filter_map(|rs| {
            let last = rs.last()?;
            (last.ready > 0).then(|| ServingRevision {
                revision: last.revision,
                carrier: history.object(rs.id).name.clone(),
                ready: last.ready,
                desired: last.replicas,
            })
        })
        .collect();
    out.sort_by_key(|s| s.revision);
    out
}
