//! `template`: the change that made the pod's revision, as the revision comparison blamed it
//! (`restart_cause`).

use super::{Cause, CauseKind, Finder, Input};

/// The revision's change.
pub struct Template;

impl Finder for Template {
    fn restart_causes(&self, input: &Input<'_>) -> Vec<Cause> {
        let Some((change, confidence, evidence)) = input.template else {
            return Vec::new();
        };
        vec![Cause {
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
