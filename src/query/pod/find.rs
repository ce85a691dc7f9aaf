//! Finding the pod asked for (by name, namespace or UID) and its owners at the time.

use jiff::Timestamp;

use super::report::{LineageEntry, PodQuery, QueryError};
use crate::graph::Owner;
use crate::history::{History, ObjectId};
use crate::query::Loaded;

pub(super) fn resolve(
    history: &History,
    query: &PodQuery,
    warnings: &mut Vec<String>,
) -> Result<ObjectId, QueryError> {
    if let Some(uid) = &query.uid {
        return history
            .by_uid(uid)
            .filter(|&id| history.object(id).kind == "Pod")
            .ok_or_else(|| QueryError::NotFound {
                name: format!("with UID {uid}"),
                near: Vec::new(),
            });
    }
    let found = history.by_name("Pod", query.namespace.as_deref(), &query.name);
    match found.as_slice() {
        [] => Err(QueryError::NotFound {
            name: match &query.namespace {
                Some(ns) => format!("{ns}/{}", query.name),
                None => query.name.clone(),
            },
            near: near_matches(history, query),
        }),
        [only] => Ok(*only),
        [.., newest] => {
            let uids: Vec<String> = found
                .iter()
                .map(|&id| {
                    let o = history.object(id);
                    format!("{}/{} {}", o.namespace, o.name, o.uid)
                })
                .collect();
            warnings.push(format!(
                "{} pods are named {} ({}); answering for the newest, choose another with --uid",
                found.len(),
                query.name,
                uids.join(", ")
            ));
            Ok(*newest)
        }
    }
}

/// Pods whose names are close to the one asked for (shared prefix or small edit distance).
fn near_matches(history: &History, query: &PodQuery) -> Vec<String> {
    // Rank by edit distance, preferring the namespace asked for; the exact name in another
    // namespace is the best hint when `-n` was wrong.
    let mut scored: Vec<(bool, usize, String)> = history
        .of_kind("Pod")
        .map(|id| history.object(id))
        .map(|o| {
            let elsewhere = query
                .namespace
                .as_deref()
                .is_some_and(|ns| ns != o.namespace);
            let distance = strsim::levenshtein(&o.name, &query.name);
            (elsewhere, distance, format!("{}/{}", o.namespace, o.name))
        })
        .filter(|(elsewhere, distance, _)| {
            *distance <= query.name.len().max(4) / 2 && (!elsewhere || *distance == 0)
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(5)
        .map(|(_, _, name)| name)
        .collect()
}

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
    while let Some(owner) = loaded.graph.controller_at(history, current, at) {
        match owner {
            Owner::Recorded(id) => {
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
