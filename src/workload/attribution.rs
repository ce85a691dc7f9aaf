//! Who made a change: the managedFields entry that owns the changed fields and moved with them.
//!
//! Every write moves the writing manager's entry: its `time` (absent for writes through
//! `/scale`) and its field set. Comparing a version's managedFields with the previous
//! version's shows which entry moved; its field set must cover the changed fields.

use jiff::Timestamp;
use serde_json::Value;

use crate::graph::{ChangeKind, Confidence};
use crate::history::diff::FieldChange;
use crate::history::managed_fields::{parse_managed_fields, ManagedEntry};
use crate::history::path::FieldPath;

/// Who made a change, as read from managedFields.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    /// The manager.
    pub manager: Option<String>,
    /// Its operation.
    pub operation: Option<String>,
    /// Its subresource.
    pub subresource: Option<String>,
    /// The entry's time.
    pub time: Option<Timestamp>,
    /// Why, in words.
    pub text: String,
    /// How sure.
    pub confidence: Confidence,
}

/// The clocks that can date a change made before the trace began.
pub(crate) struct BeforeTraceClocks {
    /// The `time` of the managedFields entry that owns the changed fields (its last write).
    pub(crate) manager: Option<Timestamp>,
    /// The creationTimestamp of the ReplicaSet carrying the revision.
    pub(crate) replicaset: Option<Timestamp>,
    /// The Deployment's creationTimestamp.
    pub(crate) deployment: Option<Timestamp>,
    /// Whether the ReplicaSet was reused by a rollback (its creation then predates the change).
    pub(crate) rollback: bool,
    /// What carries the revision (`ReplicaSet`, `ControllerRevision`) and whose it is
    /// (`Deployment`, `StatefulSet`), as the evidence names them.
    pub(crate) names: (&'static str, &'static str),
}

impl BeforeTraceClocks {
    /// Slack between a template change and the ReplicaSet the controller creates for it.
    const CONTROLLER_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

    /// The best time for a change of `kind`, and which clock it came from.
    pub(crate) fn pick(&self, kind: ChangeKind) -> Option<(Timestamp, String)> {
        let (carrier, owner) = self.names;
        if kind == ChangeKind::Create {
            if let Some(created) = self.deployment {
                return Some((created, format!("time is the {owner}'s creationTimestamp")));
            }
        }
        match (self.manager, self.replicaset) {
            (Some(manager), Some(rs)) if !self.rollback && manager > super::shifted(rs, Self::CONTROLLER_SLACK) => Some((
                rs,
                format!("the manager has written since, so the time is the {carrier}'s creationTimestamp"),
            )),
            (Some(manager), _) => Some((manager, "time is the managedFields entry's".to_string())),
            (None, Some(rs)) => Some((rs, format!("time is the {carrier}'s creationTimestamp"))),
            (None, None) => None,
        }
    }
}

/// Picks the managedFields entry of `after` that made the change `fields`, comparing with `before`.
pub fn attribute(before: Option<&Value>, after: &Value, fields: &[FieldChange]) -> Attribution {
    let entries = managed_entries(after);
    let moved = before.map(|before| moved_entries(&entries, &managed_entries(before)));
    attribute_with(&entries, moved.as_deref(), fields)
}

/// Whether each entry is new or moved since `previous` (the entries of the version before).
pub fn moved_entries(entries: &[ManagedEntry], previous: &[ManagedEntry]) -> Vec<bool> {
    entries.iter().map(|e| entry_moved(e, previous)).collect()
}

/// Like [`attribute`], from decoded entries and, when there is a version before, which of them
/// moved since it (see [`moved_entries`]): a caller attributing many changes of one version
/// decodes and compares the entries once.
pub fn attribute_with(
    entries: &[ManagedEntry],
    moved: Option<&[bool]>,
    fields: &[FieldChange],
) -> Attribution {
    let template = FieldPath::parse("spec.template").unwrap_or_default();
    attribute_template(entries, moved, fields, &template)
}

/// Who created an object whose pod template is at `template` (`spec.jobTemplate` for a
/// CronJob): the entry that owns it.
pub fn attribute_creation(after: &Value, template: &FieldPath) -> Attribution {
    attribute_template(&managed_entries(after), None, &[], template)
}

fn attribute_template(
    entries: &[ManagedEntry],
    moved: Option<&[bool]>,
    fields: &[FieldChange],
    template: &FieldPath,
) -> Attribution {
    let has_before = moved.is_some();
    // A creation changes no fields: credit whoever owns the pod template.
    let mut set_paths: Vec<&FieldPath> = fields
        .iter()
        .filter(|f| !f.to.is_null())
        .map(|f| &f.path)
        .collect();
    if fields.is_empty() {
        set_paths.push(template);
    }
    let best = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.subresource.as_deref() != Some("status"))
        .map(|(i, e)| {
            let moved = moved.is_some_and(|moved| moved.get(i).copied().unwrap_or(true));
            let owned = set_paths.iter().filter(|p| e.fields.covers(p)).count();
            (moved, owned, e.time, e)
        })
        .filter(|(moved, owned, _, _)| *moved || *owned > 0)
        .max_by_key(|(moved, owned, time, _)| (*owned, *moved, *time));
    let Some((moved, owned, _, entry)) = best else {
        return Attribution {
            text: "no managedFields entry owns the changed fields".to_string(),
            ..Attribution::default()
        };
    };
    let total = set_paths.len();
    let owns = if fields.is_empty() {
        format!("owns {template}")
    } else {
        format!("owns {owned} of {total} changed fields")
    };
    let confidence = match (moved, owned == total) {
        (true, true) => Confidence::High,
        (true, false) | (false, true) if owned > 0 || total == 0 => Confidence::Medium,
        _ => Confidence::Low,
    };
    let how = match (moved, entry.time) {
        (true, _) => "changed in this version and",
        // Writes through /scale record no time, so a repeat of the same write cannot show it moved.
        (false, None) if has_before => {
            "(which records no time, so a repeat write cannot be seen moving)"
        }
        (false, _) => "",
    };
    Attribution {
        manager: entry.manager.clone(),
        operation: entry.operation.clone(),
        subresource: entry.subresource.clone(),
        time: entry.time,
        text: format!(
            "managedFields entry {} ({}{}) {how} {owns}",
            entry.manager.as_deref().unwrap_or("?"),
            entry.operation.as_deref().unwrap_or("?"),
            entry
                .subresource
                .as_deref()
                .map(|s| format!(", /{s}"))
                .unwrap_or_default(),
        )
        .replace("  ", " "),
        confidence,
    }
}

fn managed_entries(object: &Value) -> Vec<ManagedEntry> {
    object
        .pointer("/metadata/managedFields")
        .and_then(|mf| parse_managed_fields(mf).ok())
        .unwrap_or_default()
}

/// Whether an entry is new or its time or field set differs from the same manager's previous entry.
fn entry_moved(entry: &ManagedEntry, previous: &[ManagedEntry]) -> bool {
    let same = previous.iter().find(|p| {
        p.manager == entry.manager
            && p.operation == entry.operation
            && p.subresource == entry.subresource
    });
    match same {
        None => true,
        Some(p) => p.time != entry.time || p.fields != entry.fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::diff::diff_at;
    use serde_json::json;

    fn deployment(replicas: i64, image: &str, entries: Value) -> Value {
        json!({"metadata": {"managedFields": entries},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}}})
    }

    fn apply_entry(time: &str) -> Value {
        json!({"manager": "kubectl-client-side-apply", "operation": "Update", "time": time, "fieldsType": "FieldsV1",
               "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}})
    }

    fn scale_entry() -> Value {
        json!({"manager": "kube-controller-manager", "operation": "Update", "subresource": "scale",
               "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}})
    }

    fn spec_diff(before: &Value, after: &Value) -> Vec<FieldChange> {
        diff_at(
            &before["spec"],
            &after["spec"],
            &FieldPath::parse("spec").unwrap(),
        )
    }

    #[test]
    fn the_entry_whose_time_moved_and_owns_the_image_made_the_image_change() {
        let before = deployment(
            3,
            "app:1",
            json!([apply_entry("2026-11-26T15:00:00Z"), scale_entry()]),
        );
        let after = deployment(
            3,
            "app:2",
            json!([apply_entry("2026-11-26T16:00:00Z"), scale_entry()]),
        );
        let found = attribute(Some(&before), &after, &spec_diff(&before, &after));
        assert_eq!(found.manager.as_deref(), Some("kubectl-client-side-apply"));
        assert_eq!(found.confidence, Confidence::High);
    }

    #[test]
    fn a_repeated_scale_write_without_time_is_credited_by_ownership_with_medium_confidence() {
        let before = deployment(
            2,
            "app:1",
            json!([apply_entry("2026-11-26T15:00:00Z"), scale_entry()]),
        );
        let after = deployment(
            4,
            "app:1",
            json!([apply_entry("2026-11-26T15:00:00Z"), scale_entry()]),
        );
        let found = attribute(Some(&before), &after, &spec_diff(&before, &after));
        assert_eq!(found.manager.as_deref(), Some("kube-controller-manager"));
        assert_eq!(found.subresource.as_deref(), Some("scale"));
        assert_eq!(found.confidence, Confidence::Medium);
    }

    #[test]
    fn no_owner_of_the_changed_fields_leaves_the_manager_unknown() {
        let before = deployment(2, "app:1", json!([]));
        let after = deployment(2, "app:2", json!([]));
        let found = attribute(Some(&before), &after, &spec_diff(&before, &after));
        assert_eq!(found.manager, None);
        assert_eq!(found.confidence, Confidence::Low);
    }

    #[test]
    fn a_manager_that_wrote_since_the_revision_is_not_its_clock() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        let clocks = BeforeTraceClocks {
            manager: Some(at("2026-11-26T17:10:00Z")),
            replicaset: Some(at("2026-11-26T16:58:00Z")),
            deployment: Some(at("2026-11-26T10:00:00Z")),
            rollback: false,
            names: ("ReplicaSet", "Deployment"),
        };
        assert_eq!(
            clocks.pick(ChangeKind::Template).unwrap().0,
            at("2026-11-26T16:58:00Z")
        );
        assert_eq!(
            clocks.pick(ChangeKind::Create).unwrap().0,
            at("2026-11-26T10:00:00Z")
        );
        let rollback = BeforeTraceClocks {
            rollback: true,
            ..clocks
        };
        assert_eq!(
            rollback.pick(ChangeKind::Template).unwrap().0,
            at("2026-11-26T17:10:00Z")
        );
    }
}
