//! The attributed changes of any recorded object: a workload's from its [`WorkloadHistory`],
//! a ConfigMap's or Secret's data changes, and for every other kind its spec changes — each
//! `metadata.generation` step, or, for kinds whose spec has no generation (Nodes, Services),
//! each change of `spec`. `timeline` tells them and `export` lists them.

use serde_json::Value;

use crate::graph::{CausalGraph, Change, ChangeKind};
use crate::history::diff::diff_at;
use crate::history::path::FieldPath;
use crate::history::{History, ObjectId, Version};
use crate::trace::EventType;
use crate::workload::attribution::{attribute, attribute_creation};
use crate::workload::deployment::make_change;
use crate::workload::kinds::revisions::workload_history;

/// Kinds whose spec changes matter to pods but move no `metadata.generation`: a Node's
/// `unschedulable` and taints, a Service's selector. (A Lease's spec changes every few seconds
/// and is left out.)
pub const SPEC_WITHOUT_GENERATION: &[&str] = &["Node", "Service"];

/// Kinds whose changes are data changes (`data`, `binaryData`).
const DATA_KINDS: &[&str] = &["ConfigMap", "Secret"];

/// Every attributed change of `id`, in time order: its workload history's changes when its
/// kind numbers revisions, else [`spec_changes`] after its creation when the trace shows it.
pub fn object_changes(history: &History, graph: &mut CausalGraph, id: ObjectId) -> Vec<Change> {
    if let Some(workload) = workload_history(history, graph, id) {
        return workload.changes;
    }
    let mut out: Vec<Change> = creation(history, id).into_iter().collect();
    out.extend(spec_changes(history, id));
    out
}

/// The creation of `id` when its first record is an ADDED, credited to the managedFields entry
/// that owns its spec (or data).
pub fn creation(history: &History, id: ObjectId) -> Option<Change> {
    let object = history.object(id);
    let first = object.first();
    if first.event != EventType::Added {
        return None;
    }
    let body: Value = history.parse(first).ok()?;
    let owned = ["spec", "data", "binaryData"]
        .into_iter()
        .find(|f| body.get(*f).is_some())
        .unwrap_or("metadata");
    let owned = FieldPath::root().child_field(owned);
    let attribution = attribute_creation(&body, &owned);
    let time = object
        .created
        .filter(|t| *t <= first.ts)
        .unwrap_or(first.ts);
    Some(make_change(
        history,
        id,
        first,
        time,
        ChangeKind::Create,
        Vec::new(),
        attribution,
        false,
    ))
}

/// The changes of an object of a kind kblame has no workload model for, between consecutive
/// versions: a generation step (`spec`), a data change (ConfigMaps, Secrets; a Secret's values
/// told as `(hash)`, never given), or a spec change of a kind without generation.
pub fn spec_changes(history: &History, id: ObjectId) -> Vec<Change> {
    let object = history.object(id);
    let kind = object.kind.as_str();
    let data_kind = DATA_KINDS.contains(&kind);
    let mut out = Vec::new();
    for pair in object.versions.windows(2) {
        let moved = matches!(
            (pair[0].generation, pair[1].generation),
            (Some(a), Some(b)) if a != b
        );
        let unnumbered = SPEC_WITHOUT_GENERATION.contains(&kind)
            && pair[0].generation.is_none()
            && pair[1].generation.is_none();
        let (fields, change_kind): (&[&str], _) = if moved || (unnumbered && !data_kind) {
            (&["spec"], ChangeKind::Spec)
        } else if data_kind {
            (&["data", "binaryData"], ChangeKind::Data)
        } else {
            continue;
        };
        let secret = kind == "Secret";
        if let Some(change) =
            field_change(history, id, &pair[0], &pair[1], fields, change_kind, secret)
        {
            out.push(change);
        }
    }
    out
}

/// The change under the top-level `fields` between two versions, attributed; `None` when
/// nothing under them changed or a body does not parse.
fn field_change(
    history: &History,
    id: ObjectId,
    before: &Version,
    after: &Version,
    fields: &[&str],
    kind: ChangeKind,
    secret: bool,
) -> Option<Change> {
    let before_body: Value = history.parse(before).ok()?;
    let after_body: Value = history.parse(after).ok()?;
    let null = Value::Null;
    let changes: Vec<_> = fields
        .iter()
        .flat_map(|field| {
            let base = FieldPath::root().child_field(*field);
            diff_at(
                before_body.get(*field).unwrap_or(&null),
                after_body.get(*field).unwrap_or(&null),
                &base,
            )
        })
        .collect();
    if changes.is_empty() {
        return None;
    }
    let attribution = attribute(Some(&before_body), &after_body, &changes);
    let changes = match secret {
        true => changes
            .into_iter()
            .map(crate::cause::config::secret_said)
            .collect(),
        false => changes,
    };
    Some(make_change(
        history,
        id,
        after,
        after.ts,
        kind,
        changes,
        attribution,
        false,
    ))
}
