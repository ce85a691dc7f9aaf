//! Choosing the object a question is about: `KIND/NAME` with kubectl's short names, a
//! namespace, or a UID; names are reused, so several UIDs may match.

use super::error::PodsOf;
use super::QueryError;
use crate::history::{History, ObjectHistory, ObjectId};

/// kubectl's names for the kinds kblame knows: (alias, Kind).
const KIND_ALIASES: &[(&str, &str)] = &[
    ("deployment", "Deployment"),
    ("deployments", "Deployment"),
    ("deploy", "Deployment"),
    ("replicaset", "ReplicaSet"),
    ("replicasets", "ReplicaSet"),
    ("rs", "ReplicaSet"),
    ("pod", "Pod"),
    ("pods", "Pod"),
    ("po", "Pod"),
    ("statefulset", "StatefulSet"),
    ("statefulsets", "StatefulSet"),
    ("sts", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("daemonsets", "DaemonSet"),
    ("ds", "DaemonSet"),
    ("job", "Job"),
    ("jobs", "Job"),
    ("cronjob", "CronJob"),
    ("cronjobs", "CronJob"),
    ("cj", "CronJob"),
    ("service", "Service"),
    ("services", "Service"),
    ("svc", "Service"),
    ("configmap", "ConfigMap"),
    ("configmaps", "ConfigMap"),
    ("cm", "ConfigMap"),
    ("secret", "Secret"),
    ("secrets", "Secret"),
    ("horizontalpodautoscaler", "HorizontalPodAutoscaler"),
    ("hpa", "HorizontalPodAutoscaler"),
    ("node", "Node"),
    ("nodes", "Node"),
    ("no", "Node"),
    ("namespace", "Namespace"),
    ("namespaces", "Namespace"),
    ("ns", "Namespace"),
    ("event", "Event"),
    ("events", "Event"),
    ("ev", "Event"),
];

/// Which object: a kind (as in the trace, e.g. `Deployment`), a name, and optionally a namespace or UID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectQuery {
    /// The kind, e.g. `Deployment`.
    pub kind: String,
    /// The name.
    pub name: String,
    /// The namespace; any namespace when `None`.
    pub namespace: Option<String>,
    /// The UID, to choose among objects that shared the name.
    pub uid: Option<String>,
    /// The API group, from `KIND.GROUP/NAME` (a custom resource); any group when `None`.
    pub group: Option<String>,
}

impl ObjectQuery {
    /// The query that names exactly one recorded object: its kind, namespace, name and UID,
    /// with `group` when the kind alone could be another group's.
    pub fn exact(object: &ObjectHistory, group: Option<String>) -> ObjectQuery {
        ObjectQuery {
            kind: object.kind.clone(),
            name: object.name.clone(),
            namespace: Some(object.namespace.clone()),
            uid: Some(object.uid.clone()),
            group,
        }
    }

    /// Reads `KIND/NAME` (`deployment/web`, `deploy/web`, `rs/web-7c9f8d6b5`, `Widget/w1`) or
    /// `KIND.GROUP/NAME` (`postgrescluster.postgres-operator.crunchydata.com/hippo`).
    pub fn parse(spec: &str, history: &History) -> Result<ObjectQuery, QueryError> {
        ObjectQuery::parse_with_kinds(spec, &history.kinds())
    }

    /// Reads `KIND/NAME`, knowing the kinds the trace holds.
    pub fn parse_with_kinds(spec: &str, kinds: &[&str]) -> Result<ObjectQuery, QueryError> {
        let (kind, name) = spec
            .split_once('/')
            .filter(|(k, n)| !k.is_empty() && !n.is_empty())
            .ok_or_else(|| QueryError::BadObject(spec.to_string()))?;
        // `KIND.GROUP` as kubectl writes it: the kind is the part before the first dot.
        let (kind, group) = match kind.split_once('.') {
            Some((k, g)) if !k.is_empty() && !g.is_empty() => (k, Some(g.to_lowercase())),
            _ => (kind, None),
        };
        let kind =
            canonical_kind(kind, kinds).ok_or_else(|| QueryError::BadObject(spec.to_string()))?;
        Ok(ObjectQuery {
            kind,
            name: name.to_string(),
            group,
            ..ObjectQuery::default()
        })
    }
}

/// The kind a user's word names: a kubectl alias, or any kind in the trace (case-insensitive).
pub fn canonical_kind(word: &str, kinds: &[&str]) -> Option<String> {
    let lower = word.to_lowercase();
    if let Some((_, kind)) = KIND_ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(kind.to_string());
    }
    kinds
        .iter()
        .copied()
        .find(|kind| {
            kind.eq_ignore_ascii_case(&lower) || format!("{}s", kind.to_lowercase()) == lower
        })
        .map(str::to_string)
}

/// Finds the object; when several UIDs share the name, answers for the newest with a warning.
pub fn resolve(
    history: &History,
    query: &ObjectQuery,
    warnings: &mut Vec<String>,
) -> Result<ObjectId, QueryError> {
    let kind_word = query.kind.to_lowercase();
    if let Some(uid) = &query.uid {
        let id = by_uid(history, query, uid)?;
        let found = history.object(id);
        if found.name != query.name {
            warnings.push(format!(
                "--uid {uid} is {}, not named {}; answering for it",
                found.display_name(),
                query.name
            ));
        }
        return Ok(id);
    }
    let mut found = history.by_name(&query.kind, query.namespace.as_deref(), &query.name);
    if let Some(group) = &query.group {
        found.retain(|&id| {
            crate::workload::lineage::group_of(&history.object(id).api_version) == group
        });
    }
    match found.as_slice() {
        [] => Err(not_found(history, query)),
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
                "{} {kind_word}s are named {} ({}); answering for the newest, choose another with --uid",
                found.len(),
                query.name,
                uids.join(", ")
            ));
            Ok(*newest)
        }
    }
}

/// The object of the query's kind with UID `uid`, or else the one whose UID starts with it (a
/// short UID, like git's short hashes); among several, those with the asked name. Still several
/// is an error listing them.
fn by_uid(history: &History, query: &ObjectQuery, uid: &str) -> Result<ObjectId, QueryError> {
    if uid.is_empty() {
        return Err(QueryError::BadArgument(
            "--uid is empty: give a UID, or its first characters".to_string(),
        ));
    }
    let of_kind = |id: &ObjectId| history.object(*id).kind == query.kind;
    if let Some(id) = history.by_uid(uid).filter(of_kind) {
        return Ok(id);
    }
    let mut found: Vec<ObjectId> = history
        .objects()
        .iter()
        .enumerate()
        .filter(|(_, o)| o.uid.starts_with(uid) && !o.uid.is_empty())
        .map(|(id, _)| id)
        .filter(of_kind)
        .collect();
    if found.len() > 1 {
        let named: Vec<ObjectId> = found
            .iter()
            .copied()
            .filter(|&id| {
                let o = history.object(id);
                o.name == query.name
                    && query
                        .namespace
                        .as_deref()
                        .is_none_or(|ns| ns == o.namespace)
            })
            .collect();
        if !named.is_empty() {
            found = named;
        }
    }
    match found.as_slice() {
        [] => Err(QueryError::NotFound {
            kind: query.kind.to_lowercase(),
            name: format!("with UID {uid}"),
            near: Vec::new(),
            pods_of: None,
        }),
        [only] => Ok(*only),
        several => {
            let mut candidates: Vec<String> = several
                .iter()
                .map(|&id| {
                    let o = history.object(id);
                    format!(
                        "{} {}/{} {}",
                        o.kind.to_lowercase(),
                        o.namespace,
                        o.name,
                        o.uid
                    )
                })
                .collect();
            candidates.sort();
            Err(QueryError::AmbiguousUid {
                prefix: uid.to_string(),
                candidates,
            })
        }
    }
}

/// Kinds whose objects own pods, directly or through ReplicaSets or Jobs.
const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
];

/// How many pods of a workload a "not found" names.
const PODS_NAMED: usize = 6;

/// The error for a name the trace does not hold under the asked kind: near names of that kind,
/// the same name under other kinds, and, when a pod was asked for by a workload's name, the
/// workload's pods.
fn not_found(history: &History, query: &ObjectQuery) -> QueryError {
    let mut near = near_matches(history, query);
    let mut namesakes: Vec<ObjectId> = history
        .objects()
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.name == query.name && o.kind != "Event" && !o.kind.eq_ignore_ascii_case(&query.kind)
        })
        .map(|(id, _)| id)
        .collect();
    namesakes.sort_by_key(|&id| {
        let o = history.object(id);
        (o.kind.clone(), o.namespace.clone())
    });
    let workload = (query.kind == "Pod")
        .then(|| {
            namesakes
                .iter()
                .copied()
                .find(|&id| WORKLOAD_KINDS.contains(&history.object(id).kind.as_str()))
        })
        .flatten();
    let mut seen = std::collections::HashSet::new();
    for &id in namesakes.iter().filter(|&&id| Some(id) != workload) {
        let o = history.object(id);
        let suggestion = match o.namespace.is_empty() {
            true => format!("{}/{}", o.kind.to_lowercase(), o.name),
            false => format!("{}/{} (in {})", o.kind.to_lowercase(), o.name, o.namespace),
        };
        if seen.insert(suggestion.clone()) && near.len() < 8 {
            near.push(suggestion);
        }
    }
    QueryError::NotFound {
        kind: query.kind.to_lowercase(),
        name: match &query.namespace {
            Some(ns) => format!("{ns}/{}", query.name),
            None => query.name.clone(),
        },
        near,
        pods_of: workload.map(|id| Box::new(pods_of(history, id))),
    }
}

/// A workload and the pods it controlled, directly or through its ReplicaSets or Jobs: those
/// still there at the end of the trace first.
fn pods_of(history: &History, workload: ObjectId) -> PodsOf {
    let object = history.object(workload);
    let mut owners: std::collections::HashSet<&str> = [object.uid.as_str()].into();
    let mut pods: Vec<ObjectId> = Vec::new();
    // Deployment → ReplicaSet → Pod, CronJob → Job → Pod: two steps reach every pod.
    for _ in 0..2 {
        let owned: Vec<ObjectId> = (0..history.objects().len())
            .filter(|&id| {
                history.object(id).versions.iter().any(|v| {
                    v.controller_uid
                        .as_deref()
                        .is_some_and(|uid| owners.contains(uid))
                })
            })
            .collect();
        for id in owned {
            let o = history.object(id);
            match o.kind.as_str() {
                "Pod" if !pods.contains(&id) => pods.push(id),
                "Pod" => {}
                _ => {
                    owners.insert(o.uid.as_str());
                }
            }
        }
    }
    pods.sort_by_key(|&id| {
        let o = history.object(id);
        (o.gone.is_some(), o.name.clone())
    });
    let names: Vec<String> = pods
        .iter()
        .take(PODS_NAMED)
        .map(|&id| history.object(id).name.clone())
        .collect();
    PodsOf {
        kind: object.kind.to_lowercase(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
        more: pods.len() - names.len(),
        pods: names,
    }
}

/// Objects of the kind whose names are close to the one asked for; the exact name in another
/// namespace is the best hint when `-n` was wrong.
fn near_matches(history: &History, query: &ObjectQuery) -> Vec<String> {
    let mut scored: Vec<(bool, usize, String)> = history
        .of_kind(&query.kind)
        .map(|id| history.object(id))
        .filter(|o| is_near(query, &o.namespace, &o.name))
        .map(|o| {
            let elsewhere = query
                .namespace
                .as_deref()
                .is_some_and(|ns| ns != o.namespace);
            let distance = strsim::levenshtein(&o.name, &query.name);
            (elsewhere, distance, format!("{}/{}", o.namespace, o.name))
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

/// Whether an object named `namespace/name` (of the query's kind) is worth suggesting: a close
/// name, or the exact name in another namespace when `-n` was given.
pub fn is_near(query: &ObjectQuery, namespace: &str, name: &str) -> bool {
    let elsewhere = query.namespace.as_deref().is_some_and(|ns| ns != namespace);
    let distance = strsim::levenshtein(name, &query.name);
    // A third of the name may differ: `webb` finds `web`, `db` does not find `web`.
    distance <= (query.name.chars().count() / 3).max(1) && (!elsewhere || distance == 0)
}
