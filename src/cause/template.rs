//! `template`: the change that made the pod's revision, as the revision comparison blamed it
//! (`restart_cause`).

use jiff::SignedDuration;
use serde_json::Value;

use super::{Cause, CauseKind, Finder, Input};
use crate::graph::{Change, Confidence, ObjectRef};
use crate::history::History;
use crate::workload::deployment::spec_change;

/// The revision's change.
pub struct Template;

impl Finder for Template {
    fn restart_causes(&self, input: &Input<'_>) -> Vec<Cause> {
        let Some((change, confidence, evidence)) = input.template else {
            return Vec::new();
        };
        vec![Cause {
            preemptor: None,
            kind: CauseKind::Template,
            object: change.object.clone(),
            change: Some(change.clone()),
            digests: None,
            time: change.time,
            confidence,
            evidence: evidence.to_string(),
            summary: format!(
                "revision {}'s change to {} {}/{}",
                change.revision.map_or("?".to_string(), |n| n.to_string()),
                change.object.kind.to_lowercase(),
                change.object.namespace,
                change.object.name
            ),
        }]
    }
}

/// The change behind a workload change its controller made: an operator (a custom resource's
/// controller, e.g. `postgrescluster-controller`) writes the StatefulSet template because
/// someone changed the custom resource's spec. The owner is the workload's controller
/// (`metadata.ownerReferences[controller=true]`) when recorded; its change is the latest write of
/// its `spec` at or before the workload change. A value the workload change set that the owner's
/// change also set (an image string) ties them: high confidence; an owner change without such a
/// value within [`OWNER_WINDOW`] before is only a low-confidence candidate; otherwise none.
pub fn behind_controller(history: &History, made: &Change) -> Option<Cause> {
    let workload = history.by_uid(&made.object.uid)?;
    let owner_uid = history.object(workload).last().controller_uid.clone()?;
    let owner = history.by_uid(&owner_uid).filter(|&o| o != workload)?;
    let object = history.object(owner);
    let mut latest: Option<Change> = None;
    let mut before: Option<Value> = None;
    for version in object.versions.iter().filter(|v| v.ts <= made.time) {
        let Ok(body) = history.parse::<Value>(version) else {
            continue;
        };
        if let Some(previous) = &before {
            if previous.get("spec") != body.get("spec") {
                latest = spec_change(history, owner, previous, &body, version).or(latest);
            }
        }
        before = Some(body);
    }
    let change = latest?;
    let texts = |c: &Change| -> Vec<String> {
        c.fields
            .iter()
            .filter_map(|f| match &f.to {
                Value::String(s) if s.len() >= 3 => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    };
    let theirs = texts(&change);
    let shared = texts(made).into_iter().find(|ours| {
        theirs
            .iter()
            .any(|t| t == ours || t.contains(ours.as_str()))
    });
    let gap = change.time.duration_until(made.time);
    let confidence = match &shared {
        Some(_) => Confidence::High,
        None if gap <= OWNER_WINDOW => Confidence::Low,
        None => return None,
    };
    let who = change.manager.as_deref().unwrap_or("an unknown manager");
    let fields: Vec<String> = change.fields.iter().map(|f| f.path.to_string()).collect();
    let tie = match &shared {
        Some(value) => format!(
            "; it set {value:?}, which the {} change carries",
            made.object.kind
        ),
        None => format!(
            "; no value of it reappears in the {} change, which came {} s later",
            made.object.kind,
            gap.as_secs()
        ),
    };
    Some(Cause {
        preemptor: None,
        kind: CauseKind::Template,
        summary: format!(
            "{} {}/{} changed by {who} ({})",
            object.kind,
            object.namespace,
            object.name,
            fields.join(", ")
        ),
        evidence: format!(
            "{} {}/{} controls {} {}/{}; {who} changed its spec at {} (line {}) before {} wrote the template at {}{tie}",
            object.kind,
            object.namespace,
            object.name,
            made.object.kind.to_lowercase(),
            made.object.namespace,
            made.object.name,
            change.time,
            change.evidence.record_line.map_or("?".to_string(), |l| l.to_string()),
            made.manager.as_deref().unwrap_or("its controller"),
            made.time,
        ),
        object: ObjectRef::of(object),
        time: change.time,
        change: Some(change),
        digests: None,
        confidence,
    })
}

/// How long before a controller's template write an owner's spec change without a shared value
/// is still offered (low confidence): a controller acts on its owner's change within seconds.
const OWNER_WINDOW: SignedDuration = SignedDuration::from_secs(120);
