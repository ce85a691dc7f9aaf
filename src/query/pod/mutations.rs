//! The pod report's admission part (issue 13): what the pod holds that its template does not,
//! and which webhook, built-in plugin or controller put it there.

use std::collections::BTreeMap;

use serde_json::Value;

use super::report::{Mutations, RevisionInfo};
use crate::admission::{self, calls_from_annotations};
use crate::history::{History, ObjectId};
use crate::workload::kinds::REGISTRY;

/// Compares the pod's first record with its template and attributes the differences: from the
/// audit annotations of its create request (`create_annotations`, with the request's audit ID)
/// when an audit log recorded it, else from the recorded webhook configurations.
pub(super) fn mutations(
    history: &History,
    pod: ObjectId,
    revision: Option<&RevisionInfo>,
    create_request: Option<(&str, &BTreeMap<String, String>)>,
    warnings: &mut Vec<String>,
) -> Mutations {
    let object = history.object(pod);
    let Ok(mut body) = history.parse::<Value>(object.first()) else {
        return Mutations::default();
    };
    // The pod as admission made it, and the node the scheduler bound it to afterwards.
    let bound = history
        .parse::<Value>(object.last())
        .ok()
        .and_then(|last| last.pointer("/spec/nodeName").cloned());
    if let (Some(node), Some(spec)) = (bound, body.get_mut("spec").and_then(Value::as_object_mut)) {
        spec.entry("nodeName").or_insert(node);
    }
    let calls = create_request.map(|(_, annotations)| calls_from_annotations(annotations));
    let Some((template, controller_kind)) = template_of(history, pod, revision, warnings) else {
        // No template to compare with (a bare pod, an unrecorded controller): the calls the
        // create request recorded still say which webhooks ran.
        return Mutations {
            webhooks_called: calls,
            ..Mutations::default()
        };
    };
    let controller = REGISTRY
        .iter()
        .copied()
        .find(|w| w.kind().kind == controller_kind);
    let differences = admission::differences(&template, &body, controller);
    let candidates = match calls {
        Some(_) => None,
        None => {
            let at = object.created.unwrap_or(object.first().ts);
            let found = admission::candidates(history, &body, &object.namespace, at);
            if let Some(found) = &found {
                if !differences.injected.is_empty() || !differences.modified.is_empty() {
                    warnings.extend(found.notes.iter().cloned());
                }
            }
            found
        }
    };
    let (injected, modified) = admission::attribute(
        &differences,
        calls.as_deref(),
        create_request.map(|(id, _)| id),
        candidates.as_ref(),
        &template,
    );
    Mutations {
        injected,
        modified,
        webhooks_called: calls,
        webhook_candidates: candidates.as_ref().map(|c| c.matched.clone()),
        webhook_candidates_excluded: candidates.map(|c| c.excluded),
        builtin_admission: differences.builtin,
    }
}

/// The template the pod was made from, and its controller's kind: the ControllerRevision the
/// pod's hash label names (StatefulSet, DaemonSet), else its controller's `spec.template` as it
/// was when the pod was created — for a StatefulSet or DaemonSet only when the controller's
/// revision then was the pod's. `None` (with a warning when it matters) when not recorded.
fn template_of(
    history: &History,
    pod: ObjectId,
    revision: Option<&RevisionInfo>,
    warnings: &mut Vec<String>,
) -> Option<(Value, String)> {
    let object = history.object(pod);
    let controller = object
        .first()
        .controller_uid
        .as_deref()
        .and_then(|uid| history.by_uid(uid))?;
    let owner = history.object(controller);
    let revision_object = revision
        .and_then(|r| r.controller_revision.as_ref())
        .and_then(|r| history.by_uid(&r.uid));
    if let Some(id) = revision_object {
        let body: Value = history.parse(history.object(id).last()).ok()?;
        let template = body.pointer("/data/spec/template")?.clone();
        return Some((template, owner.kind.clone()));
    }
    let born = object.first().ts;
    let version = owner
        .versions
        .iter()
        .rev()
        .find(|v| v.ts <= born)
        .unwrap_or(owner.first());
    let body: Value = history.parse(version).ok()?;
    // A StatefulSet's or DaemonSet's template may have moved on before the pod was made (a
    // partition, OnDelete): its template then is the pod's only when its revision was.
    let pod_label = |key: &str| -> Option<String> {
        let pod_body: Value = history.parse(object.first()).ok()?;
        let labels = pod_body.pointer("/metadata/labels")?;
        labels.get(key)?.as_str().map(str::to_string)
    };
    let same = match owner.kind.as_str() {
        "StatefulSet" => pod_label("controller-revision-hash").is_some_and(|hash| {
            body.pointer("/status/updateRevision")
                .and_then(Value::as_str)
                .is_some_and(|update| update.ends_with(&hash))
        }),
        "DaemonSet" => pod_label("pod-template-generation").is_some_and(|generation| {
            body.pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .is_some_and(|g| g.to_string() == generation)
        }),
        _ => true,
    };
    if !same {
        warnings.push(
            "the template of the pod's revision was not recorded: what admission added to the pod is not told"
                .to_string(),
        );
        return None;
    }
    let template = body.pointer("/spec/template")?.clone();
    Some((template, owner.kind.clone()))
}
