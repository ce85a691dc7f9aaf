//! A workload object's history as the object commands see it: its spec changes, each
//! revision-making one numbered, and its revisions with the objects that carry their pod
//! templates (a Deployment's ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions).
//! `blame` numbers lines by it, `diff --from N` finds revision N by it, `timeline` tells its
//! changes, and `get` shows a pod's revision — asking the kind's [`Workload`], never its name.

use jiff::Timestamp;
use serde_json::Value;

use super::{Workload, REGISTRY};
use crate::graph::{Change, ChangeKind};
use crate::history::{History, ObjectId, Version};
use crate::workload::controller_revision::{label, template_of, Join, RevisionHistory};

/// One revision of a workload object.
#[derive(Debug, Clone)]
pub struct RevisionStep {
    /// Its number.
    pub number: i64,
    /// The change that made it, when the trace shows it (or what is knowable, for one made
    /// before the trace).
    pub change: Option<Change>,
    /// The object carrying its pod template, when recorded.
    pub carrier: Option<ObjectId>,
}

/// A workload object's recorded changes and revisions.
#[derive(Debug, Clone)]
pub struct WorkloadHistory {
    /// Every spec change and the creation, in time order; template changes and the creation
    /// carry the revision they made.
    pub changes: Vec<Change>,
    /// Its revisions by ascending number.
    pub revisions: Vec<RevisionStep>,
    /// What carries a revision's pod template, in words (`ReplicaSet`, `ControllerRevision`).
    pub carrier_kind: &'static str,
    /// The pod template a carrier's body holds.
    pub carrier_template: fn(&Value) -> Option<Value>,
    /// Whether a version of the workload (its body) shows the revision: for a revision made
    /// before the trace, the first such version stands for it.
    pub shows: fn(&History, &Value, &RevisionStep) -> bool,
    /// What the records cannot show.
    pub notes: Vec<String>,
}

impl WorkloadHistory {
    /// Revision `number`.
    pub fn step(&self, number: i64) -> Option<&RevisionStep> {
        self.revisions.iter().find(|r| r.number == number)
    }

    /// The revision-making changes (templates and the creation) as (record line, time,
    /// revision), in time order.
    pub fn marks(&self) -> Vec<(Option<u64>, Timestamp, i64)> {
        self.changes
            .iter()
            .filter(|c| matches!(c.kind, ChangeKind::Template | ChangeKind::Create))
            .filter_map(|c| Some((c.evidence.record_line, c.time, c.revision?)))
            .collect()
    }
}

/// The registered workload whose own kind is the object's (`apps/v1` `StatefulSet` → the
/// StatefulSet workload); `None` for kinds that are not workloads.
pub fn workload_of(history: &History, id: ObjectId) -> Option<&'static dyn Workload> {
    let object = history.object(id);
    let group = object
        .api_version
        .split_once('/')
        .map_or("", |(group, _)| group);
    REGISTRY.iter().copied().find(|w| {
        let kind = w.kind();
        kind.kind == object.kind
            && (object.api_version.is_empty()
                || kind.group == group
                || (kind.group == "apps" && group == "extensions"))
    })
}

/// The history of a workload object, when its kind numbers revisions.
pub fn workload_history(
    history: &History,
    graph: &mut crate::graph::CausalGraph,
    id: ObjectId,
) -> Option<WorkloadHistory> {
    workload_of(history, id)?.history(history, graph, id)
}

/// The history of a StatefulSet or DaemonSet: revisions from its ControllerRevisions, each
/// template change numbered by the ControllerRevision holding the template it set.
pub(super) fn controller_revision_history(
    history: &History,
    graph: &crate::graph::CausalGraph,
    owner: ObjectId,
) -> WorkloadHistory {
    let set = &RevisionHistory::read(history, graph, owner);
    let mut revisions: Vec<RevisionStep> = set
        .revisions
        .iter()
        .flat_map(|recorded| {
            let mut numbers: Vec<i64> = recorded.numbers().collect();
            numbers.dedup();
            numbers.into_iter().map(move |number| RevisionStep {
                number,
                change: set.change_of(history, recorded, number),
                carrier: Some(recorded.id),
            })
        })
        .collect();
    revisions.sort_by_key(|r| r.number);
    let changes = set
        .changes()
        .map(|change| {
            let mut change = change.clone();
            if matches!(change.kind, ChangeKind::Template | ChangeKind::Create) {
                change.revision = revisions
                    .iter()
                    .filter_map(|r| r.change.as_ref().map(|c| (r.number, c)))
                    .find(|(_, c)| {
                        c.time == change.time
                            && c.evidence.record_line == change.evidence.record_line
                    })
                    .map(|(number, _)| number)
                    .or_else(|| {
                        set.update_revision_at(change.time)
                            .and_then(|r| r.number_at(change.time))
                    });
            }
            change
        })
        .collect::<Vec<Change>>();
    // Revisions made before the trace: what is knowable about their changes (a Deployment's
    // model lists its before-trace creation the same way).
    let mut changes: Vec<Change> = revisions
        .iter()
        .filter_map(|r| r.change.clone())
        .filter(|c| c.before_trace)
        .chain(changes)
        .collect();
    changes.sort_by_key(|c| c.time);
    WorkloadHistory {
        changes,
        revisions,
        carrier_kind: "ControllerRevision",
        carrier_template: template_of,
        shows: holds_template,
        notes: set.why_none.iter().cloned().collect(),
    }
}

/// The kinds [`pod_revision`] reads: every pod controller kblame knows, and the
/// ControllerRevisions that number StatefulSet and DaemonSet pods.
pub fn pod_revision_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = REGISTRY
        .iter()
        .filter_map(|w| w.chain().first().map(|k| k.kind))
        .chain(["ControllerRevision"])
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// Whether a StatefulSet or DaemonSet version holds the revision's pod template: the controllers
/// match a ControllerRevision to the workload by its template (`stateful_set_control.go`
/// `getStatefulSetRevisions` via `history.FindEqualRevisions`, `daemon/update.go`
/// `constructHistory` via `Match`).
fn holds_template(history: &History, body: &Value, step: &RevisionStep) -> bool {
    let Some(carrier) = step.carrier else {
        return false;
    };
    let held = history
        .parse::<Value>(history.object(carrier).first())
        .ok()
        .and_then(|b| template_of(&b));
    held.is_some() && held.as_ref() == body.pointer("/spec/template")
}

/// The revision of a pod's version, read from its controller (by the version's controller
/// UID) as it was at `at`: the controller's kind says how the pod joins its revision.
pub fn pod_revision(history: &History, pod: &Version, body: &Value, at: Timestamp) -> Option<i64> {
    let controller = history.by_uid(pod.controller_uid.as_deref()?)?;
    let workload = REGISTRY.iter().copied().find(|w| {
        w.chain()
            .first()
            .is_some_and(|k| k.kind == history.object(controller).kind && w.chain().len() == 1)
    });
    workload?.pod_revision(history, body, controller, at)
}

/// The revision of a StatefulSet's or DaemonSet's pod at `at`: the `revision` field, then, of
/// the ControllerRevision its `controller-revision-hash` label names (as `join` reads it).
pub(super) fn labelled_revision(
    history: &History,
    pod: &Value,
    controller: ObjectId,
    at: Timestamp,
    join: Join,
) -> Option<i64> {
    let label = label(pod, "controller-revision-hash")?;
    let owner = history.object(controller);
    let name = match join {
        Join::Name => label,
        Join::Hash => format!("{}-{label}", owner.name),
    };
    let found = history
        .by_name("ControllerRevision", Some(&owner.namespace), &name)
        .into_iter()
        .filter_map(|id| history.state_at(id, at))
        .next_back()?;
    history
        .parse::<Value>(found)
        .ok()?
        .get("revision")
        .and_then(Value::as_i64)
}
