//! A pod's owners at the time: Pod → ReplicaSet → Deployment, by UID.

use jiff::Timestamp;

use super::report::LineageEntry;
use crate::graph::Owner;
use crate::history::{History, ObjectId};
use crate::query::Loaded;

/// The lineage entries, pod first, and the ReplicaSet and Deployment found on the way.
pub(super) type Lineage = (Vec<LineageEntry>, Option<ObjectId>, Option<ObjectId>);

pub(super) fn lineage(
    loaded: &Loaded,
    pod: ObjectId,
    at: Timestamp,
    warnings: &mut Vec<String>,
) -> Lineage {
    let history = &loaded.history;
    let mut entries = vec![entry(history, pod)];
    let (mut replicaset, mut deployment) = (None, None);
    let mut current = pod;
    let mut seen = vec![pod];
    while let Some(owner) = loaded.graph.controller_at(history, current, at) {
        match owner {
            Owner::Recorded(id) if seen.contains(&id) => {
                // Only a damaged trace has ownership cycles; say so rather than go round.
                warnings.push(format!(
                    "ownership cycle: {} is controlled by {}, already in its lineage; lineage stops there",
                    history.object(current).display_name(),
                    history.object(id).display_name()
                ));
                break;
            }
            Owner::Recorded(id) => {
                seen.push(id);
                entries.push(entry(history, id));
                match history.object(id).kind.as_str() {
                    "ReplicaSet" => replicaset = Some(id),
                    "Deployment" => deployment = Some(id),
                    _ => {}
                }
                current = id;
            }
            Owner::Unrecorded { uid, kind, name } => {
                warnings.push(format!(
                    "owner {kind} {name} ({uid}) never appears in the trace; lineage stops there"
                ));
                let namespace = history.object(current).namespace.clone();
                entries.push(LineageEntry {
                    kind,
                    namespace,
                    name,
                    uid,
                    recorded: false,
                });
                break;
            }
        }
        if entries.len() > 8 {
            break;
        }
    }
    (entries, replicaset, deployment)
}

fn entry(history: &History, id: ObjectId) -> LineageEntry {
    let o = history.object(id);
    LineageEntry {
        kind: o.kind.clone(),
        namespace: o.namespace.clone(),
        name: o.name.clone(),
        uid: o.uid.clone(),
        recorded: true,
    }
}
