//! `kblame get`: what existed at a moment, like `kubectl get`, with kubectl's columns per kind
//! (see [`columns`]) and the Deployment revision where it means something.

pub mod columns;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::select::canonical_kind;
use super::{with_trace_warnings, Loaded, QueryError, Scope};
use crate::history::{Gone, History, ObjectId, Version};
use crate::workload::kinds::revisions::{pod_revision, pod_revision_kinds};
use crate::workload::replicaset::revision_of;
use columns::{printer, Column, RowInput, GET_ALL_ORDER};

/// What to list: a kind (every kind but Events when `None`), where, when, and whether objects
/// already gone count.
#[derive(Debug, Clone, Default)]
pub struct GetQuery {
    /// The kinds as the trace spells them (`Deployment`), from [`parse_kinds`]; every kind in
    /// the trace except Events when empty, as `kubectl get all` leaves Events out.
    pub kinds: Vec<String>,
    /// Only this namespace (cluster-scoped objects are listed only when a kind is asked for).
    pub namespace: Option<String>,
    /// Show the NAMESPACE column even when one namespace is listed (`-A`).
    pub all_namespaces: bool,
    /// The moment; the trace's last record when `None`.
    pub at: Option<Timestamp>,
    /// Also list objects deleted at or before the moment, with when.
    pub deleted: bool,
}

/// A KIND argument that names no kind kubectl knows and the trace does not hold.
#[derive(Debug, thiserror::Error)]
#[error("{word:?} is not a kind kubectl knows or the trace holds (it holds: {})", .kinds.join(", "))]
pub struct UnknownKind {
    /// What was given.
    pub word: String,
    /// The kinds the trace holds.
    pub kinds: Vec<String>,
}

/// Reads a KIND argument as kubectl does, a comma-separated list of kinds (`deploy,rs`), each
/// read by [`parse_kind`]; duplicates are dropped.
pub fn parse_kinds(words: &str, kinds: &[&str]) -> Result<Vec<String>, UnknownKind> {
    let mut parsed: Vec<String> = Vec::new();
    for word in words.split(',') {
        let kind = parse_kind(word.trim(), kinds)?;
        if !parsed.contains(&kind) {
            parsed.push(kind);
        }
    }
    Ok(parsed)
}

/// Reads one kind as kubectl does: `pods`, `pod`, `po`, `Pod`, `deploy`,
/// `deployments.apps`, `deployment.v1.apps`, or a kind the trace holds (`widgets`).
pub fn parse_kind(word: &str, kinds: &[&str]) -> Result<String, UnknownKind> {
    let unknown = || UnknownKind {
        word: word.to_string(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
    };
    let (name, group) = match word.split_once('.') {
        Some((name, group)) => (name, Some(group)),
        None => (word, None),
    };
    let kind = canonical_kind(name, kinds).ok_or_else(unknown)?;
    // `deployment.v1.apps`: a version may precede the group.
    let group = group.map(|g| match g.split_once('.') {
        Some((version, rest)) if version.starts_with('v') => rest,
        _ => g,
    });
    let known_group = columns::PRINTERS
        .iter()
        .find(|p| p.kind == kind)
        .map(|p| p.group);
    match (group, known_group) {
        (Some(given), Some(known)) if given != known && !(known.is_empty() && given == "v1") => {
            Err(unknown())
        }
        _ => Ok(kind),
    }
}

/// What [`get`] needs loaded: the kind asked (with the pod controllers and ControllerRevisions
/// that tell the revisions of Pods), or
/// every kind but Events; in the namespace, if one is given.
pub fn scope(query: &GetQuery, kinds: &[&str]) -> Scope {
    let mut wanted: Vec<String> = match query.kinds.is_empty() {
        false => query.kinds.clone(),
        true => kinds
            .iter()
            .filter(|k| **k != "Event")
            .map(|k| k.to_string())
            .collect(),
    };
    if wanted.iter().any(|k| k == "Pod") {
        wanted.extend(pod_revision_kinds().into_iter().map(str::to_string));
    }
    Scope::Kinds {
        kinds: wanted,
        namespace: query.namespace.clone(),
    }
}

/// The objects that existed at one moment, one table per kind.
#[derive(Debug, Clone, Serialize)]
pub struct GetReport {
    /// The moment listed.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub at: Timestamp,
    /// The namespace asked for; `null` for every namespace.
    pub namespace: Option<String>,
    /// The kinds asked for; empty for every kind but Events.
    pub kinds: Vec<String>,
    /// Whether the NAMESPACE column is shown (`-A`, or objects of several namespaces).
    pub show_namespace: bool,
    /// One table per kind, in `kubectl get all`'s order.
    pub tables: Vec<KindTable>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
}

/// The objects of one kind.
#[derive(Debug, Clone, Serialize)]
pub struct KindTable {
    /// The kind, e.g. `Deployment`.
    pub kind: String,
    /// kubectl's resource prefix in `get all`, e.g. `deployment.apps`.
    pub resource: String,
    /// The columns after NAME, kubectl's (wide ones marked) plus REVISION where it applies.
    pub columns: Vec<Column>,
    /// NAME is shown only with `-o wide` (Events, as kubectl shows them).
    pub name_wide: bool,
    /// The objects, by namespace and name.
    pub rows: Vec<GetRow>,
}

/// One object as it was at the moment.
#[derive(Debug, Clone, Serialize)]
pub struct GetRow {
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `metadata.creationTimestamp`.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub created: Option<Timestamp>,
    /// The Deployment revision (of a Pod: its ReplicaSet's), when it has one.
    pub revision: Option<i64>,
    /// When it went away, if that was at or before the moment (only with `--deleted`).
    pub deleted: Option<Deleted>,
    /// The trace line of the version shown.
    pub line: u64,
    /// The cells by column header, as the text table prints them.
    #[serde(serialize_with = "serialize_cells")]
    pub cells: IndexMap<&'static str, String>,
    /// The object's body at the moment, without managedFields.
    pub object: Value,
}

/// The cells as a JSON object, in column order.
fn serialize_cells<S: serde::Serializer>(
    cells: &IndexMap<&'static str, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(cells.iter())
}

/// When an object went away.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    /// The DELETED record's time, or the re-list that no longer held it.
    #[serde(serialize_with = "crate::render::serialize_ts")]
    pub time: Timestamp,
    /// `false` when it went away during a watch gap: `time` is then the re-list, and it was
    /// deleted at an unknown time before.
    pub exact: bool,
}

/// Lists what existed at the moment asked.
pub fn get(loaded: &Loaded, query: &GetQuery) -> Result<GetReport, QueryError> {
    let history = &loaded.history;
    let (Some(start), Some(end)) = (history.facts.start, history.facts.end) else {
        return Err(QueryError::EmptyTrace);
    };
    let at = query.at.unwrap_or(end);
    if at < start || at > end {
        return Err(QueryError::OutsideTrace {
            time: at,
            start,
            end,
        });
    }
    let mut warnings = unrecorded(history, &query.kinds);
    let mut tables: IndexMap<String, KindTable> = IndexMap::new();
    for (id, object) in history.objects().iter().enumerate() {
        let wanted = match query.kinds.is_empty() {
            false => query.kinds.contains(&object.kind),
            true => object.kind != "Event",
        };
        let in_namespace = match (&query.namespace, object.namespace.is_empty()) {
            (_, true) => !query.kinds.is_empty() || query.namespace.is_none(),
            (Some(ns), false) => object.namespace == *ns,
            (None, false) => true,
        };
        if !wanted || !in_namespace {
            continue;
        }
        let Some(version) = history.state_at(id, at) else {
            continue;
        };
        let deleted = gone_at(history, id, at);
        if deleted.is_some() && !query.deleted {
            continue;
        }
        let row = row(history, id, version, at, deleted, &mut warnings);
        let table = tables
            .entry(object.kind.clone())
            .or_insert_with(|| KindTable {
                kind: object.kind.clone(),
                resource: resource(&object.kind, &object.api_version),
                columns: printer(&object.kind).columns.to_vec(),
                name_wide: printer(&object.kind).name_wide,
                rows: Vec::new(),
            });
        table.rows.push(row);
    }
    let mut tables: Vec<KindTable> = tables.into_values().collect();
    for table in &mut tables {
        table.rows.sort_by(|a, b| {
            (&a.namespace, &a.name, a.created, &a.uid).cmp(&(
                &b.namespace,
                &b.name,
                b.created,
                &b.uid,
            ))
        });
    }
    let rank = |kind: &str| {
        GET_ALL_ORDER
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(GET_ALL_ORDER.len())
    };
    tables.sort_by(|a, b| (rank(&a.kind), &a.kind).cmp(&(rank(&b.kind), &b.kind)));
    let mut namespaces: Vec<&str> = tables
        .iter()
        .flat_map(|t| &t.rows)
        .map(|r| r.namespace.as_str())
        .filter(|ns| !ns.is_empty())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let show_namespace =
        query.all_namespaces || (query.namespace.is_none() && namespaces.len() > 1);
    Ok(GetReport {
        at,
        namespace: query.namespace.clone(),
        kinds: query.kinds.clone(),
        show_namespace,
        tables,
        warnings: with_trace_warnings(warnings, loaded),
    })
}

/// The kinds asked for that the trace did not record (its header lists what it did): for
/// those, an empty table means nothing, not "none existed".
fn unrecorded(history: &History, kinds: &[String]) -> Vec<String> {
    let Some(header) = &history.facts.header else {
        return Vec::new();
    };
    let recorded: Vec<String> = header.resources.iter().map(|r| r.path()).collect();
    kinds
        .iter()
        .filter(|kind| !header.resources.iter().any(|r| r.kind == **kind))
        .filter(|kind| !history.kinds().contains(&kind.as_str()))
        .map(|kind| {
            format!(
                "the trace did not record {kind}s (it recorded {}): whether any existed is unknown",
                recorded.join(", ")
            )
        })
        .collect()
}

/// When the object went away, if that was at or before `at`.
fn gone_at(history: &History, id: ObjectId, at: Timestamp) -> Option<Deleted> {
    match history.object(id).gone.as_ref()? {
        Gone::Deleted(time) => Some(Deleted {
            time: *time,
            exact: true,
        }),
        Gone::MissingAtRelist(time) => Some(Deleted {
            time: *time,
            exact: false,
        }),
    }
    .filter(|d| d.time <= at)
}

/// kubectl's `get all` prefix: the kind in lower case, with the API group when there is one.
fn resource(kind: &str, api_version: &str) -> String {
    let group = match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    match group {
        "" => kind.to_lowercase(),
        group => format!("{}.{group}", kind.to_lowercase()),
    }
}

/// One object's row at `at`.
fn row(
    history: &History,
    id: ObjectId,
    version: &Version,
    at: Timestamp,
    deleted: Option<Deleted>,
    warnings: &mut Vec<String>,
) -> GetRow {
    let object = history.object(id);
    let mut body: Value = history.parse(version).unwrap_or_else(|err| {
        warnings.push(format!(
            "line {}: the body of {} does not parse ({err}); its columns are unknown",
            version.line,
            object.display_name()
        ));
        Value::Null
    });
    let revision = match object.kind.as_str() {
        "Pod" => pod_revision(history, version, &body, at),
        _ => revision_of(&body),
    };
    let revision_cell = match (revision, object.kind.as_str(), &version.controller_uid) {
        (Some(n), _, _) => n.to_string(),
        (None, "Pod", Some(_)) => "<unknown>".to_string(),
        _ => "<none>".to_string(),
    };
    // A deleted object's age stops at its deletion, as in `tree`.
    let until = deleted.as_ref().map_or(at, |d| d.time.min(at));
    let input = RowInput {
        body: &body,
        at: until,
        age: columns::since(object.created, until),
        revision: revision_cell,
    };
    let columns = printer(&object.kind);
    let cells = if body.is_null() {
        columns
            .columns
            .iter()
            .map(|c| (c.name, "<unknown>".to_string()))
            .collect()
    } else {
        columns
            .columns
            .iter()
            .map(|c| c.name)
            .zip((columns.cells)(&input))
            .collect()
    };
    if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    GetRow {
        namespace: object.namespace.clone(),
        name: object.name.clone(),
        uid: object.uid.clone(),
        created: object.created,
        revision,
        deleted,
        line: version.line,
        cells,
        object: body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_kubectl_reads_them() {
        let kinds = ["Deployment", "Event", "Pod", "ReplicaSet", "Widget"];
        for (word, want) in [
            ("pods", "Pod"),
            ("po", "Pod"),
            ("pod", "Pod"),
            ("Pod", "Pod"),
            ("pods.v1", "Pod"),
            ("deploy", "Deployment"),
            ("deployments.apps", "Deployment"),
            ("deployment.v1.apps", "Deployment"),
            ("rs", "ReplicaSet"),
            ("widgets", "Widget"),
            ("widgets.example.com", "Widget"),
            ("statefulsets", "StatefulSet"),
        ] {
            assert_eq!(
                parse_kind(word, &kinds).ok().as_deref(),
                Some(want),
                "{word}"
            );
        }
        for word in ["pods.apps", "deployments.batch", "gizmos", ""] {
            let err = parse_kind(word, &kinds).unwrap_err().to_string();
            assert!(err.contains("it holds: Deployment, Event, Pod"), "{err}");
        }
    }
}
