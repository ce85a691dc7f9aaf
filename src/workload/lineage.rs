//! A pod's controller chain at one moment: each `ownerReferences` entry with `controller: true`,
//! followed by UID from the pod up, as the records of that moment show it.
//!
//! Controllers adopt orphans and release what their selector no longer matches by patching the
//! owned object's `ownerReferences` (Kubernetes v1.31 `pkg/controller/controller_ref_manager.go`,
//! `BaseControllerRefManager.ClaimObject`, `PodControllerRefManager.AdoptPod`/`ReleasePod`), so
//! the same pod can have different controllers over its life. The chain is therefore read from
//! the versions recorded at the time asked about, never from the last version.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::graph::{CausalGraph, Owner};
use crate::history::{History, ObjectId};

/// The longest chain followed: real chains have at most three controllers (Pod → Job → CronJob,
/// Pod → ReplicaSet → Deployment → an operator's resource); a damaged trace can have any.
const MAX_CHAIN: usize = 8;

/// One step of the ownership chain, pod first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineageEntry {
    /// Kind.
    pub kind: String,
    /// `apiVersion` (`v1`, `apps/v1`, `argoproj.io/v1alpha1`): the object's own, or, for an
    /// owner the trace never recorded, the ownerReference's; empty when neither says.
    pub api_version: String,
    /// API group: `apiVersion` before the `/`, empty for the core group (`v1`).
    pub group: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Whether the trace recorded this object (false: only named by an ownerReference).
    pub recorded: bool,
    /// The trace line of the record whose `ownerReferences` entry (`controller: true`) names this
    /// object: the record of the entry before it in the chain, as it was at the time. `None` for
    /// the pod.
    pub line: Option<u64>,
}

/// A chain entry and the object it is, when recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// What the report shows.
    pub entry: LineageEntry,
    /// The recorded object, if any.
    pub id: Option<ObjectId>,
}

/// The group of an `apiVersion`: `apps` for `apps/v1`, empty for `v1`.
pub fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map_or("", |(group, _version)| group)
}

/// The controller chain of `pod` at `at`, pod first; `warnings` says where and why it stops early
/// (an owner never recorded, an ownership cycle).
pub fn lineage(
    history: &History,
    graph: &CausalGraph,
    pod: ObjectId,
    at: Timestamp,
    warnings: &mut Vec<String>,
) -> Vec<Link> {
    let mut links = vec![recorded(history, pod, None)];
    let mut current = pod;
    while links.len() <= MAX_CHAIN {
        let Some(owner) = graph.controller_at(history, current, at) else {
            break;
        };
        let object = history.object(current);
        let line = object.version_at(at).unwrap_or(object.first()).line;
        match owner {
            Owner::Recorded(id) if links.iter().any(|l| l.id == Some(id)) => {
                // Only a damaged trace has ownership cycles; say so rather than go round.
                warnings.push(format!(
                    "ownership cycle: {} is controlled by {}, already in its lineage; lineage stops there",
                    object.display_name(),
                    history.object(id).display_name()
                ));
                break;
            }
            Owner::Recorded(id) => {
                links.push(recorded(history, id, Some(line)));
                current = id;
            }
            Owner::Unrecorded { uid, kind, name } => {
                warnings.push(format!(
                    "owner {kind} {name} ({uid}) never appears in the trace; lineage stops there"
                ));
                let api_version = reference_api_version(history, current, at, &uid);
                links.push(Link {
                    entry: LineageEntry {
                        kind,
                        group: group_of(&api_version).to_string(),
                        api_version,
                        namespace: object.namespace.clone(),
                        name,
                        uid,
                        recorded: false,
                        line: Some(line),
                    },
                    id: None,
                });
                break;
            }
        }
    }
    links
}

fn recorded(history: &History, id: ObjectId, line: Option<u64>) -> Link {
    let o = history.object(id);
    Link {
        entry: LineageEntry {
            kind: o.kind.clone(),
            api_version: o.api_version.clone(),
            group: group_of(&o.api_version).to_string(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
            uid: o.uid.clone(),
            recorded: true,
            line,
        },
        id: Some(id),
    }
}

/// The `apiVersion` in `owned`'s reference to `uid`, read from the version in force at `at`.
/// Read loosely: a reference whose `apiVersion` is not a string names no version.
fn reference_api_version(history: &History, owned: ObjectId, at: Timestamp, uid: &str) -> String {
    let object = history.object(owned);
    let version = object.version_at(at).unwrap_or(object.first());
    let Ok(body) = serde_json::from_str::<Value>(history.body(version)) else {
        return String::new();
    };
    body.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|owner| owner.get("uid").and_then(Value::as_str) == Some(uid))
        .and_then(|owner| owner.get("apiVersion"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// When the controller of `id` changed during its recorded life (released, adopted, replaced),
/// the moments and the new controller UIDs (`None`: orphaned), in trace order.
pub fn controller_changes(history: &History, id: ObjectId) -> Vec<(Timestamp, u64, Option<&str>)> {
    let versions = &history.object(id).versions;
    versions
        .windows(2)
        .filter(|pair| pair[0].controller_uid != pair[1].controller_uid)
        .map(|pair| (pair[1].ts, pair[1].line, pair[1].controller_uid.as_deref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_what_comes_before_the_version() {
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("argoproj.io/v1alpha1"), "argoproj.io");
        assert_eq!(group_of("v1"), "");
        assert_eq!(group_of(""), "");
    }
}
