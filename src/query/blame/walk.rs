//! Walking an object's versions: for every leaf, the last recorded change of its value and who made it.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::Value;

use super::{Credit, FieldHistoryEntry, Source};
use crate::history::diff::{diff, diff_path, FieldChange};
use crate::history::lines::{line_ops, multi_line, split_lines, LineOp};
use crate::history::managed_fields::{parse_managed_fields, ManagedEntry};
use crate::history::path::FieldPath;
use crate::history::{History, Version};
use crate::trace::EventType;
use crate::workload::attribution::{attribute_with, moved_entries};

/// One version, parsed: its body without `managedFields`, and those entries.
pub(super) struct Parsed<'h> {
    /// The recorded version.
    pub version: &'h Version,
    /// The body with `metadata.managedFields` removed.
    pub body: Value,
    /// The decoded entries.
    pub entries: Vec<ManagedEntry>,
}

/// Parses every version, skipping (with a warning) bodies that do not parse.
pub(super) fn parse_versions<'h>(
    history: &History,
    versions: &'h [Version],
    warnings: &mut Vec<String>,
) -> Vec<Parsed<'h>> {
    let mut parsed = Vec::with_capacity(versions.len());
    for version in versions {
        match history.parse::<Value>(version) {
            Ok(body) => parsed.push(split_managed(version, body)),
            Err(error) => warnings.push(format!(
                "line {}: the body does not parse ({error}); that version is skipped",
                version.line
            )),
        }
    }
    parsed
}

fn split_managed(version: &Version, mut body: Value) -> Parsed<'_> {
    let raw = body
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|metadata| metadata.shift_remove("managedFields"))
        .unwrap_or(Value::Null);
    let entries = parse_managed_fields(&raw).unwrap_or_default();
    Parsed {
        version,
        body,
        entries,
    }
}

/// How a line's change is numbered: a workload's revisions, or the object's generation.
pub(super) enum Numbering {
    /// Revision-making changes of a workload: (record line, time, revision), in time order.
    Revisions(Vec<(Option<u64>, Timestamp, i64)>),
    /// `metadata.generation` of the version.
    Generation,
}

impl Numbering {
    /// The number of a change first seen in `version`.
    fn of_version(&self, version: &Version) -> Option<i64> {
        match self {
            Numbering::Revisions(steps) => steps
                .iter()
                .filter(|(line, _, _)| line.is_none_or(|line| line <= version.line))
                .map(|(_, _, revision)| *revision)
                .next_back(),
            Numbering::Generation => version.generation,
        }
    }

    /// The revision current at `time` (a managedFields entry's time); generations are not dated.
    fn at_time(&self, time: Option<Timestamp>) -> Option<i64> {
        let (Numbering::Revisions(steps), Some(time)) = (self, time) else {
            return None;
        };
        steps
            .iter()
            .filter(|(_, at, _)| *at <= time)
            .map(|(_, _, revision)| *revision)
            .next_back()
    }
}

/// What the walk found: the credit of every leaf that changed, and the changes under one path.
#[derive(Default)]
pub(super) struct Walk {
    /// The last recorded change of each leaf present at the end.
    pub credits: HashMap<FieldPath, Credit>,
    /// For a leaf holding a multi-line text that changed in the trace: the change that last set
    /// each of its lines, as `git blame` credits the lines of a file; `None` for a line unchanged
    /// since before the trace.
    pub text_lines: HashMap<FieldPath, Vec<Option<Credit>>>,
    /// Every change of a leaf under the `--history` path, in trace order.
    pub changes: Vec<FieldHistoryEntry>,
}

/// Diffs consecutive versions (and a creation seen in the trace against nothing).
pub(super) fn walk(
    parsed: &[Parsed<'_>],
    numbering: &Numbering,
    wanted: Option<&FieldPath>,
) -> Walk {
    let mut walk = Walk::default();
    for (index, after) in parsed.iter().enumerate() {
        let before = match index {
            0 if after.version.event != EventType::Added => continue,
            0 => None,
            _ => Some(&parsed[index - 1]),
        };
        walk.step(before, after, numbering, wanted);
    }
    walk
}

impl Walk {
    fn step(
        &mut self,
        before: Option<&Parsed<'_>>,
        after: &Parsed<'_>,
        numbering: &Numbering,
        wanted: Option<&FieldPath>,
    ) {
        let old = before.map_or(&Value::Null, |b| &b.body);
        let changes = diff(old, &after.body);
        // Which entries moved, compared once per version rather than once per changed field: a
        // version can change thousands of fields, and an entry can own thousands.
        let previous = before.map_or(&[][..], |b| b.entries.as_slice());
        let moved = moved_entries(&after.entries, previous);
        let writes = Writes {
            before,
            after,
            moved: &moved,
        };
        let mut credits: Vec<Credit> = changes
            .iter()
            .map(|change| credit_change(&writes, change, numbering))
            .collect();
        share_writer(&mut credits);
        // `containers[0]` and `containers[name=web]` name the same field: match in the diff's
        // notation, resolved against these two versions.
        let wanted = wanted.map(|path| diff_path(path, old, &after.body));
        for (change, credit) in changes.into_iter().zip(credits) {
            if wanted.as_ref().is_some_and(|w| change.path.starts_with(w)) {
                self.changes
                    .push(history_entry(&change, &credit, after.version));
            }
            self.credit_lines(&change, &credit);
            if change.to.is_null() {
                self.credits.remove(&change.path);
            } else {
                self.credits.insert(change.path, credit);
            }
        }
    }
}

impl Walk {
    /// Carries the credits of a multi-line text's lines across a change: lines the new text
    /// shares with the old keep theirs, the others get this change's.
    fn credit_lines(&mut self, change: &FieldChange, credit: &Credit) {
        let Some(text) = multi_line(&change.to) else {
            self.text_lines.remove(&change.path);
            return;
        };
        let new = split_lines(text);
        let old = change.from.as_str().map(split_lines).unwrap_or_default();
        let known = self
            .text_lines
            .remove(&change.path)
            .filter(|credits| credits.len() == old.len())
            .unwrap_or_else(|| vec![None; old.len()]);
        let mut credits = vec![Some(credit.clone()); new.len()];
        for op in line_ops(&old, &new).unwrap_or_default() {
            if let LineOp::Same { old, new, len } = op {
                credits[new..new + len].clone_from_slice(&known[old..old + len]);
            }
        }
        self.text_lines.insert(change.path.clone(), credits);
    }
}

/// Fields no entry owns and no entry visibly moved for (`resourceVersion`, a status write within
/// the same second) changed in the same write as the owned ones: they share its writer.
fn share_writer(credits: &mut [Credit]) {
    let Some(writer) = credits.iter().find(|c| c.manager.is_some()).cloned() else {
        return;
    };
    for credit in credits.iter_mut().filter(|c| c.manager.is_none()) {
        credit.manager.clone_from(&writer.manager);
        credit.operation.clone_from(&writer.operation);
        credit.subresource.clone_from(&writer.subresource);
    }
}

fn history_entry(change: &FieldChange, credit: &Credit, version: &Version) -> FieldHistoryEntry {
    FieldHistoryEntry {
        path: change.path.clone(),
        time: version.ts,
        manager: credit.manager.clone(),
        operation: credit.operation.clone(),
        user: credit.user.clone(),
        from: change.from.clone(),
        to: change.to.clone(),
        revision: credit.revision,
        generation: credit.generation,
        line: version.line,
    }
}

/// Two consecutive versions (the first may be missing) and which entries of the second moved.
struct Writes<'w, 'h> {
    before: Option<&'w Parsed<'h>>,
    after: &'w Parsed<'h>,
    /// For each entry of `after`: new, or its time or fields differ from `before`'s.
    moved: &'w [bool],
}

impl<'w> Writes<'w, '_> {
    /// The entries of `after`, each with whether it moved.
    fn entries(&self) -> impl Iterator<Item = (&'w ManagedEntry, bool)> + '_ {
        self.after.entries.iter().zip(self.moved.iter().copied())
    }
}

/// Who made `change`, first seen in `after`: the entry that owns the field (preferring one that
/// moved), else the entry [`attribute_with`] picks for this one field, else the newest entry that
/// moved.
fn credit_change(writes: &Writes<'_, '_>, change: &FieldChange, numbering: &Numbering) -> Credit {
    let owner = if change.to.is_null() {
        None
    } else {
        owner_of(writes, &change.path)
    };
    let entry = owner
        .or_else(|| attributed(writes, change))
        .or_else(|| newest_moved(writes, &change.path));
    let version = writes.after.version;
    Credit {
        time: Some(version.ts),
        revision: numbering.of_version(version),
        generation: version.generation,
        source: Some(Source::History),
        line: Some(version.line),
        user: version.request.as_ref().and_then(|r| r.user.clone()),
        ..Credit::of_entry(entry)
    }
}

fn owner_of<'w>(writes: &Writes<'w, '_>, path: &FieldPath) -> Option<&'w ManagedEntry> {
    writes
        .entries()
        .filter(|(e, _)| e.fields.covers(path))
        .max_by_key(|(e, moved)| (*moved, e.time))
        .map(|(e, _)| e)
}

fn attributed<'w>(writes: &Writes<'w, '_>, change: &FieldChange) -> Option<&'w ManagedEntry> {
    let after = &writes.after.entries;
    let moved = writes.before.map(|_| writes.moved);
    let found = attribute_with(after, moved, std::slice::from_ref(change));
    found.manager.as_ref()?;
    after.iter().find(|e| {
        e.manager == found.manager
            && e.operation == found.operation
            && e.subresource == found.subresource
    })
}

/// The newest entry that moved in this version, preferring the status writer for status fields.
fn newest_moved<'w>(writes: &Writes<'w, '_>, path: &FieldPath) -> Option<&'w ManagedEntry> {
    let in_status = path.starts_with(&FieldPath::root().child_field("status"));
    writes
        .entries()
        .filter(|(_, moved)| *moved)
        .max_by_key(|(e, _)| {
            (
                (e.subresource.as_deref() == Some("status")) == in_status,
                e.time,
            )
        })
        .map(|(e, _)| e)
}

fn same_writer(a: &ManagedEntry, b: &ManagedEntry) -> bool {
    a.manager == b.manager && a.operation == b.operation && a.subresource == b.subresource
}

/// Credit for a value unchanged in the trace: the entry of the version at T that owns it, dated
/// by that writer's entry in the first version when it already owned the field there (its time
/// at T may have moved with later writes of other fields).
pub(super) fn before_trace(
    first: &Parsed<'_>,
    shown: &Parsed<'_>,
    path: &FieldPath,
    numbering: &Numbering,
) -> Option<Credit> {
    let owner = shown
        .entries
        .iter()
        .filter(|e| e.fields.covers(path))
        .max_by_key(|e| e.time)?;
    let earlier = first
        .entries
        .iter()
        .find(|e| same_writer(e, owner) && e.fields.covers(path));
    let time = earlier.and_then(|e| e.time).or(owner.time);
    Some(Credit {
        time,
        revision: numbering.at_time(time),
        source: Some(Source::ManagedFields),
        ..Credit::of_entry(Some(owner))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn credit(line: u64) -> Credit {
        Credit {
            line: Some(line),
            source: Some(Source::History),
            ..Credit::default()
        }
    }

    fn lines_of(walk: &Walk, path: &FieldPath) -> Vec<Option<u64>> {
        walk.text_lines[path]
            .iter()
            .map(|c| c.as_ref().and_then(|c| c.line))
            .collect()
    }

    #[test]
    fn each_line_of_a_text_keeps_the_change_that_introduced_it() {
        let path = FieldPath::root().child_field("data").child_field("f");
        let change = |from: &str, to: &str| FieldChange {
            path: path.clone(),
            from: json!(from),
            to: json!(to),
        };
        let mut walk = Walk::default();
        // Unchanged since before the trace, then line b changed at line 10 of the trace.
        walk.credit_lines(&change("a\nb\nc\n", "a\nB\nc\n"), &credit(10));
        assert_eq!(lines_of(&walk, &path), vec![None, Some(10), None]);
        // Then a line inserted after a at line 20: B keeps its credit.
        walk.credit_lines(&change("a\nB\nc\n", "a\nx\nB\nc\n"), &credit(20));
        assert_eq!(lines_of(&walk, &path), vec![None, Some(20), Some(10), None]);
        // A text that becomes one line is no longer credited line by line.
        walk.credit_lines(&change("a\nx\nB\nc\n", "a"), &credit(30));
        assert!(!walk.text_lines.contains_key(&path));
    }
}
