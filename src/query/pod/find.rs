//! What the lineage cannot show on its own: a pod whose controller changed during the trace.

use super::report::LineageEntry;
use crate::history::{History, ObjectId};
use crate::workload::lineage::controller_changes;

/// Notes for each time the pod's controller changed (released, adopted or replaced by another):
/// the lineage is the one in force at its first record, and these say what came after.
pub(super) fn ownership_notes(
    history: &History,
    pod: ObjectId,
    lineage: &[LineageEntry],
) -> Vec<String> {
    let changes = controller_changes(history, pod);
    changes
        .iter()
        .map(|(ts, line, uid)| {
            let what = match uid {
                None => "it was released (no controller)".to_string(),
                Some(uid) => match history.by_uid(uid) {
                    Some(owner) => format!(
                        "it was adopted by {} ({uid})",
                        history.object(owner).display_name()
                    ),
                    None => format!("it was adopted by {uid}, which the trace never recorded"),
                },
            };
            let since = lineage
                .get(1)
                .map_or("no controller".to_string(), |c| {
                    format!("{} {}", c.kind.to_lowercase(), c.name)
                });
            format!(
                "the pod's controller changed at {ts} (line {line}): {what}; its lineage is as of its first record ({since})"
            )
        })
        .collect()
}
