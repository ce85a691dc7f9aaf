//! Workloads: for each kind of controller, what owns its pods, how its revisions are numbered
//! and joined to pods, and what healthy means — one implementation per kind, in a registry.
//!
//! A pod's [lineage](crate::workload::lineage) is matched against each registered
//! [`Workload::chain`]; the longest chain that fits from the pod up is the pod's workload. The
//! queries ask the workload, never the kind name, so the next kind (an Argo Rollout, a KubeVirt
//! VM) is one new file here and one line in [`REGISTRY`]. See `docs/workloads.md` and issue 11.

mod bare;
pub mod cronjob;
pub mod daemonset;
mod deployment;
pub mod job;
mod replicaset;
pub mod revisioned;
pub mod revisions;
pub mod statefulset;

pub use cronjob::CRONJOB;
pub use deployment::DEPLOYMENT;
pub use job::JOB;

use jiff::Timestamp;
use serde_json::Value;

use super::conditions::condition_words;
use super::events::occurrences_about;
use super::lineage::{LineageEntry, Link};
use super::pod::disruption;
use super::turnover::{Arrival, Departure, DepartureInfo};
use crate::graph::{CausalGraph, Change};
use crate::history::{History, ObjectId};
pub use crate::workload::controller_revision::ControllerRevisionRef;
pub use revisions::{RevisionStep, WorkloadHistory};

/// A kind by API group and name, as a controller chain names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindRef {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// Kind.
    pub kind: &'static str,
}

impl KindRef {
    /// Whether a lineage entry is of this kind: same kind, and same group unless the trace does
    /// not say the entry's `apiVersion`. The `apps` kinds were served as `extensions/v1beta1`
    /// until v1.16, and ownerReferences written then still say so.
    pub fn matches(&self, entry: &LineageEntry) -> bool {
        let group = entry.group.as_str();
        entry.kind == self.kind
            && (entry.api_version.is_empty()
                || group == self.group
                || (self.group == "apps" && group == "extensions"))
    }
}

/// What a kind's controller does, in words, and where in the Kubernetes sources it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// How revisions are numbered.
    pub revisions: &'static str,
    /// How a pod is joined to its revision.
    pub pod_join: &'static str,
    /// What healthy means.
    pub healthy: &'static str,
    /// The Kubernetes v1.31 source files the rules come from.
    pub source: &'static str,
    /// Whether kblame answers revisions and pod reasons for this kind yet.
    pub built: bool,
}

/// One kind of workload.
pub trait Workload: Sync {
    /// The workload's own kind: the top of its chain.
    fn kind(&self) -> KindRef;

    /// The controllers from the pod up to the workload, the pod's own controller first.
    fn chain(&self) -> &'static [KindRef];

    /// Its rules, cited.
    fn rules(&self) -> &'static Rules;

    /// Whether its answers hold when an unknown controller controls the top of its chain. True
    /// when that controller only writes the workload's spec (an operator above a StatefulSet);
    /// false when it takes over the workload's job (an Argo Rollout scales and numbers its
    /// ReplicaSets itself). Default is true.
    fn answers_under_any_controller(&self) -> bool {
        true
    }

    /// The pod's revision, why it came and went, and what to compare it with. Default is the
    /// honest answer for a kind whose revision logic is not built: unknown, saying so.
    fn pod_facts(&self, input: PodInput<'_>) -> PodFacts {
        let what = format!("kblame does not follow {} revisions yet", self.kind().kind);
        not_built(&input, &what)
    }

    /// A short status of one version of a workload object of this kind (its body), as `tree`
    /// shows it: counts, revision, conditions that matter. Default is its `Ready` and
    /// `Available` conditions.
    fn status(&self, body: &Value) -> Vec<String> {
        condition_words(body, &["Ready", "Available"], false)
    }

    /// A workload object of this kind: its spec changes, each revision-making one numbered,
    /// and its revisions with what carries them. Default is `None`: the kind does not number
    /// revisions (Jobs, CronJobs) or kblame does not follow them.
    fn history(
        &self,
        _history: &History,
        _graph: &mut CausalGraph,
        _object: ObjectId,
    ) -> Option<WorkloadHistory> {
        None
    }

    /// What this kind's controller adds to its pods beyond the template it copies: the cited
    /// source of the field at `path` (the pod's value there is `value`), so that a pod report
    /// never takes it for a webhook's work (see [`crate::admission`]). Default: nothing.
    fn pod_addition(&self, _path: &str, _value: &Value) -> Option<&'static str> {
        None
    }

    /// The revision of a pod (the body of one version of it, already parsed by the caller),
    /// whose controller is `controller` — the first kind of [`Workload::chain`] — as it was at
    /// `at`. Default is `None`: no revision.
    fn pod_revision(
        &self,
        _history: &History,
        _pod: &Value,
        _controller: ObjectId,
        _at: Timestamp,
    ) -> Option<i64> {
        None
    }
}

/// Every workload kind kblame knows.
pub static REGISTRY: &[&dyn Workload] = &[
    &bare::BarePod,
    &replicaset::ReplicaSet,
    &deployment::Deployment,
    &statefulset::StatefulSet,
    &daemonset::DaemonSet,
    &job::Job,
    &cronjob::CronJob,
];

/// What a pod answer needs.
pub struct PodInput<'a> {
    /// The replayed trace.
    pub history: &'a History,
    /// Its graph; workloads attach their revisions to it.
    pub graph: &'a mut CausalGraph,
    /// The pod.
    pub pod: ObjectId,
    /// When its lineage was read: its first record.
    pub at: Timestamp,
    /// The workload's controllers, the pod's own controller first (matched to
    /// [`Workload::chain`]).
    pub chain: &'a [Link],
}

/// A pod's revision.
#[derive(Debug, Clone, PartialEq)]
pub struct PodRevision {
    /// The revision number when the pod was created.
    pub number: Option<i64>,
    /// The template hash the pod carries.
    pub template_hash: Option<String>,
    /// The change that made the revision.
    pub change: Option<Change>,
    /// The revision number at the end (differs after a rollback).
    pub current_number: Option<i64>,
    /// The ControllerRevision joined to the pod (StatefulSet, DaemonSet); `None` otherwise.
    pub controller_revision: Option<ControllerRevisionRef>,
}

/// A pod of another revision of the same workload, to compare restarts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The pod.
    pub pod: ObjectId,
    /// Its revision when it was created.
    pub revision: Option<i64>,
}

/// A revision with ready pods at the end of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingRevision {
    /// Revision number.
    pub revision: Option<i64>,
    /// The object that carries it (a ReplicaSet).
    pub carrier: String,
    /// Ready pods.
    pub ready: i64,
    /// Desired pods.
    pub desired: i64,
}

/// What a workload says about one of its pods.
#[derive(Debug, Clone, PartialEq)]
pub struct PodFacts {
    /// Its revision, when the kind has revisions and the trace shows them.
    pub revision: Option<PodRevision>,
    /// Why it was created, when the workload's replay tells.
    pub arrival: Option<Arrival>,
    /// Why the creation is unknown when `arrival` is `None`.
    pub unexplained: String,
    /// Why it went away, if it did.
    pub departure: Option<DepartureInfo>,
    /// Other revisions' pods to compare restarts with, or why there are none to compare.
    pub peers: Result<Vec<Peer>, String>,
    /// Revisions serving at the end.
    pub serving: Vec<ServingRevision>,
    /// What the workload's records cannot show.
    pub notes: Vec<String>,
    /// A StatefulSet pod's ordinal.
    pub ordinal: Option<i64>,
    /// A DaemonSet pod's `pod-template-generation` label.
    pub pod_template_generation: Option<String>,
    /// A Job's pod: its run, and the template change blamed when it failed.
    pub job: Option<job::JobFacts>,
}

/// The answer for a pod whose workload's revisions kblame does not follow; `what` says why, and
/// is the evidence of every unknown. No revision, no reason, and a departure only when the pod
/// was seen deleted (a Job's pods are kept after they end, which is not a deletion), named
/// when its status or Events show an eviction or a preemption.
pub fn not_built(input: &PodInput<'_>, what: &str) -> PodFacts {
    let history = input.history;
    let departure = history
        .object(input.pod)
        .deletion_started()
        .map(|time| DepartureInfo {
            time,
            why: disruption(
                history,
                input.pod,
                &occurrences_about(history, input.graph, input.pod),
            )
            .map_or_else(
                || Departure::Unknown(what.to_string()),
                Departure::Disrupted,
            ),
            replaced_by: None,
        });
    PodFacts {
        revision: None,
        arrival: None,
        unexplained: what.to_string(),
        departure,
        peers: Err(what.to_string()),
        serving: Vec::new(),
        notes: Vec::new(),
        ordinal: None,
        pod_template_generation: None,
        job: None,
    }
}

/// A pod's workload: a registered kind, or a controller kblame does not know.
#[derive(Clone, Copy)]
pub enum Resolved<'l> {
    /// A registered kind: `chain` are its controllers, `above` any controllers above them.
    Known {
        /// The workload kind.
        workload: &'static dyn Workload,
        /// Its controllers in the lineage, the pod's own first.
        chain: &'l [Link],
        /// Controllers above the chain (an operator's resource).
        above: &'l [Link],
    },
    /// A controller kblame does not know takes over at `controller`.
    Unknown {
        /// The first unknown controller.
        controller: &'l Link,
    },
}

impl std::fmt::Debug for Resolved<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolved::Known {
                workload,
                chain,
                above,
            } => f
                .debug_struct("Known")
                .field("kind", &workload.kind())
                .field("chain", &chain.len())
                .field("above", &above.len())
                .finish(),
            Resolved::Unknown { controller } => f
                .debug_struct("Unknown")
                .field("controller", &controller.entry.kind)
                .finish(),
        }
    }
}

/// The workload of a lineage (pod first): the registered kind with the longest chain that fits
/// from the pod up, unless an unknown controller above it takes over its job.
pub fn resolve(lineage: &[Link]) -> Resolved<'_> {
    let controllers = lineage.get(1..).unwrap_or(&[]);
    let best = REGISTRY
        .iter()
        .filter(|w| fits(w.chain(), controllers))
        .max_by_key(|w| w.chain().len());
    let Some(&workload) = best else {
        // BarePod's empty chain fits every lineage; kept total for a registry without it.
        return match controllers.first() {
            Some(controller) => Resolved::Unknown { controller },
            None => Resolved::Known {
                workload: &bare::BarePod,
                chain: &[],
                above: &[],
            },
        };
    };
    let (chain, above) = controllers.split_at(workload.chain().len());
    match above.first() {
        Some(controller) if !workload.answers_under_any_controller() => {
            Resolved::Unknown { controller }
        }
        _ => Resolved::Known {
            workload,
            chain,
            above,
        },
    }
}

fn fits(chain: &[KindRef], controllers: &[Link]) -> bool {
    chain.len() <= controllers.len()
        && chain
            .iter()
            .zip(controllers)
            .all(|(kind, link)| kind.matches(&link.entry))
}

impl Resolved<'_> {
    /// The facts about the pod, from its workload.
    pub fn pod_facts(
        &self,
        history: &History,
        graph: &mut CausalGraph,
        pod: ObjectId,
        at: Timestamp,
    ) -> PodFacts {
        match *self {
            Resolved::Known {
                workload, chain, ..
            } => workload.pod_facts(PodInput {
                history,
                graph,
                pod,
                at,
                chain,
            }),
            Resolved::Unknown { controller } => {
                let input = PodInput {
                    history,
                    graph,
                    pod,
                    at,
                    chain: &[],
                };
                let entry = &controller.entry;
                let group = if entry.group.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", entry.group)
                };
                let what = format!(
                    "its workload is {} {}{group}, a kind kblame does not know yet",
                    entry.kind, entry.name
                );
                not_built(&input, &what)
            }
        }
    }
}

#[cfg(test)]
mod tests;
