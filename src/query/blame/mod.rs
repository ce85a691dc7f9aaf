//! `kblame blame`: an object's YAML at a time, every line with who last changed it, when and in which revision.
//!
//! The object's versions up to the time asked for are diffed one after another
//! (list items matched by merge key); each leaf is credited to the last version
//! where its value changed and to the managedFields entry of that version that
//! owns it (or, owning none, the entry that moved). Values unchanged inside the
//! trace are credited to their managedFields owner, marked as set before the trace.

mod walk;
mod yaml;

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use super::select::{self, ObjectQuery};
use super::{with_trace_warnings, Loaded, QueryError};
use crate::graph::ObjectRef;
use crate::history::managed_fields::ManagedEntry;
use crate::history::path::FieldPath;
use crate::history::{Gone, ObjectHistory, ObjectId};
use crate::render::{serialize_opt_ts, serialize_ts};
use crate::workload::kinds::revisions::workload_history;
use walk::{Numbering, Parsed, Walk};
use yaml::YamlLine;

/// What to blame: an object, a time (default: its last version) and optionally one field's history.
#[derive(Debug, Clone, Default)]
pub struct BlameQuery {
    /// The object.
    pub object: ObjectQuery,
    /// Show the object as it was at this time; its last recorded version when `None`.
    pub at: Option<Timestamp>,
    /// Also list every change of this field (and the leaves under it) up to that time.
    pub history: Option<FieldPath>,
}

/// Where a line's credit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// A change recorded in the trace.
    History,
    /// The managedFields owner of a value set before the trace began.
    ManagedFields,
}

/// One line of the object's YAML and who last changed what it shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlameLine {
    /// The leaf field the line shows; `null` for a line that only opens a block.
    pub path: Option<FieldPath>,
    /// The YAML line, indentation included.
    pub text: String,
    /// The field manager credited.
    pub manager: Option<String>,
    /// Its operation, `Apply` or `Update`.
    pub operation: Option<String>,
    /// The subresource it wrote through (`status`, `scale`), if any.
    pub subresource: Option<String>,
    /// The user whose request made the change, when an audit log told it.
    pub user: Option<String>,
    /// When: the record's time for a recorded change, the managedFields entry's time before the trace.
    #[serde(serialize_with = "serialize_opt_ts")]
    pub time: Option<Timestamp>,
    /// The workload revision current after the change (Deployment, StatefulSet, DaemonSet); the
    /// generation for other kinds.
    pub revision: Option<i64>,
    /// `metadata.generation` of the version that shows the change (unknown before the trace).
    pub generation: Option<i64>,
    /// `history` for a recorded change, `managedFields` for a value set before the trace, `null` when unknown.
    pub source: Option<Source>,
    /// The trace line of the record that first shows the change.
    pub record_line: Option<u64>,
}

/// One change of the `--history` field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldHistoryEntry {
    /// The leaf that changed (the field asked for, or a leaf under it).
    pub path: FieldPath,
    /// The time of the record that first shows the change.
    #[serde(serialize_with = "serialize_ts")]
    pub time: Timestamp,
    /// The field manager credited.
    pub manager: Option<String>,
    /// Its operation, `Apply` or `Update`.
    pub operation: Option<String>,
    /// The user whose request made it, when an audit log told it.
    pub user: Option<String>,
    /// The old value (`null`: not set).
    pub from: Value,
    /// The new value (`null`: removed).
    pub to: Value,
    /// The workload revision current after the change (Deployment, StatefulSet, DaemonSet); the
    /// generation for other kinds.
    pub revision: Option<i64>,
    /// `metadata.generation` after the change.
    pub generation: Option<i64>,
    /// The trace line of that record.
    pub line: u64,
}

/// The version whose YAML is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownVersion {
    /// When it was recorded.
    #[serde(serialize_with = "serialize_ts")]
    pub time: Timestamp,
    /// Its trace line.
    pub line: u64,
    /// Its resourceVersion.
    pub resource_version: Option<String>,
    /// Its generation.
    pub generation: Option<i64>,
}

/// The answer to `kblame blame`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlameReport {
    /// The object.
    pub object: ObjectRef,
    /// The time the object is shown at.
    #[serde(serialize_with = "serialize_ts")]
    pub at: Timestamp,
    /// The version shown: the last one recorded at or before `at`.
    pub version: ShownVersion,
    /// How the `revision` of lines and history entries is numbered: `revision` for workloads
    /// that number revisions (Deployments, StatefulSets, DaemonSets), else `generation`.
    pub numbered_by: NumberedBy,
    /// The YAML (without managedFields), line by line.
    pub lines: Vec<BlameLine>,
    /// The `--history` field, if one was asked for.
    pub history_path: Option<FieldPath>,
    /// With `--history`: every change of that field up to `at`, in trace order.
    pub history: Option<Vec<FieldHistoryEntry>>,
    /// How to read the blamed YAML's gutter (`before trace`, uncredited lines): said once, and
    /// only when the YAML is shown (not with `--history`).
    pub notes: Vec<String>,
    /// What the trace cannot show.
    pub warnings: Vec<String>,
}

/// What numbers a blamed object's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberedBy {
    /// The workload's revisions.
    Revision,
    /// `metadata.generation`.
    Generation,
}

/// Who made a change, with when and which revision; `Default` is unknown.
#[derive(Debug, Clone, Default, PartialEq)]
struct Credit {
    manager: Option<String>,
    operation: Option<String>,
    subresource: Option<String>,
    time: Option<Timestamp>,
    revision: Option<i64>,
    generation: Option<i64>,
    source: Option<Source>,
    line: Option<u64>,
    user: Option<String>,
}

impl Credit {
    /// The writer named by a managedFields entry, nothing else known yet.
    fn of_entry(entry: Option<&ManagedEntry>) -> Credit {
        Credit {
            manager: entry.and_then(|e| e.manager.clone()),
            operation: entry.and_then(|e| e.operation.clone()),
            subresource: entry.and_then(|e| e.subresource.clone()),
            ..Credit::default()
        }
    }

    /// Recorded changes win over equally timed before-trace credits.
    fn recency(&self) -> (Option<Timestamp>, bool, Option<u64>) {
        (self.time, self.source == Some(Source::History), self.line)
    }
}

/// Blames every line of an object's YAML at `query.at` (default: its last version).
pub fn blame(loaded: &mut Loaded, query: &BlameQuery) -> Result<BlameReport, QueryError> {
    let mut warnings = Vec::new();
    let id = select::resolve(&loaded.history, &query.object, &mut warnings)?;
    let numbering = numbering(loaded, id, &mut warnings);
    let numbered_by = match numbering {
        Numbering::Revisions(_) => NumberedBy::Revision,
        Numbering::Generation => NumberedBy::Generation,
    };
    let object = loaded.history.object(id);
    let at = query.at.unwrap_or(object.last().ts);
    let count = object.versions.iter().take_while(|v| v.ts <= at).count();
    if count == 0 {
        return Err(QueryError::NotApplicable(format!(
            "{} was first recorded at {}, after {at}",
            object.display_name(),
            object.first().ts
        )));
    }
    let parsed = walk::parse_versions(&loaded.history, &object.versions[..count], &mut warnings);
    let (Some(first), Some(shown)) = (parsed.first(), parsed.last()) else {
        return Err(QueryError::NotApplicable(format!(
            "no version of {} up to {at} could be read",
            object.display_name()
        )));
    };
    let walk = walk::walk(&parsed, &numbering, query.history.as_ref());
    let lines = blame_lines(&walk, first, shown, &numbering);
    let notes = match query.history {
        None => gutter_notes(object, &lines),
        Some(_) => Vec::new(),
    };
    warnings.extend(object_warnings(object, at));
    let history = query
        .history
        .as_ref()
        .map(|path| field_history(path, walk.changes, shown, &mut warnings));
    let warnings = with_trace_warnings(warnings, loaded);
    Ok(BlameReport {
        object: ObjectRef::of(object),
        at,
        version: shown_version(shown),
        numbered_by,
        lines,
        history_path: query.history.clone(),
        history,
        notes,
        warnings,
    })
}

/// Workloads that number revisions (Deployments, StatefulSets, DaemonSets) are numbered by
/// revision, other kinds by generation.
fn numbering(loaded: &mut Loaded, id: ObjectId, warnings: &mut Vec<String>) -> Numbering {
    match workload_history(&loaded.history, &mut loaded.graph, id) {
        Some(workload) => {
            warnings.extend(workload.notes.iter().cloned());
            Numbering::Revisions(workload.marks())
        }
        None => Numbering::Generation,
    }
}

fn shown_version(shown: &Parsed<'_>) -> ShownVersion {
    let version = shown.version;
    ShownVersion {
        time: version.ts,
        line: version.line,
        resource_version: version.resource_version.as_deref().map(str::to_string),
        generation: version.generation,
    }
}

/// The shown body's YAML lines, each credited: leaves by their own credit, block openers by
/// the newest credit in their block.
fn blame_lines(
    walk: &Walk,
    first: &Parsed<'_>,
    shown: &Parsed<'_>,
    numbering: &Numbering,
) -> Vec<BlameLine> {
    let yaml = yaml::lines(&kubectl_order(&shown.body));
    let mut siblings = None;
    let credits: Vec<Option<Credit>> = yaml
        .iter()
        .map(|line| {
            let path = line.path.as_ref()?;
            if let (Some(index), Some(credits)) = (line.text_line, walk.text_lines.get(path)) {
                // A line inside a text that changed: the change that set this line, or (unchanged
                // since before the trace) the text's managedFields owner.
                return match credits.get(index) {
                    Some(Some(credit)) => Some(credit.clone()),
                    _ => walk::before_trace(first, shown, path, numbering),
                };
            }
            let null = || {
                let siblings = siblings.get_or_insert_with(|| first_credit_by_parent(walk));
                null_credit(siblings, path)
            };
            walk.credits
                .get(path)
                .cloned()
                .or_else(|| line.null.then(null).flatten())
                .or_else(|| walk::before_trace(first, shown, path, numbering))
        })
        .collect();
    yaml.into_iter()
        .enumerate()
        .map(|(index, line)| {
            let credit = match line.path {
                Some(_) => credits[index].clone(),
                None => newest(&credits[index + 1..line.block_end]),
            };
            blame_line(line, credit.unwrap_or_default())
        })
        .collect()
}

/// A `null` leaf is no change to the diff (absent and null are the same), so it is credited
/// like its earliest recorded sibling: when the map holding it appeared.
fn null_credit(siblings: &HashMap<FieldPath, Credit>, path: &FieldPath) -> Option<Credit> {
    let parent = FieldPath(path.segments().split_last()?.1.to_vec());
    siblings.get(&parent).cloned()
}

/// The earliest credit among the leaves directly under each path, found in one pass (an object
/// can hold thousands of `null`s, and each would otherwise scan every credit). Equally early
/// credits are told apart by their leaf's path, so the answer never depends on map order.
fn first_credit_by_parent(walk: &Walk) -> HashMap<FieldPath, Credit> {
    let mut first: HashMap<FieldPath, (Credit, String)> = HashMap::new();
    for (path, credit) in &walk.credits {
        let Some((_, parent)) = path.segments().split_last() else {
            continue;
        };
        let parent = FieldPath(parent.to_vec());
        let rank = (credit.recency(), path.to_string());
        match first.get_mut(&parent) {
            Some((known, known_path)) if (known.recency(), known_path.clone()) <= rank => {}
            Some(known) => *known = (credit.clone(), rank.1),
            None => {
                first.insert(parent, (credit.clone(), rank.1));
            }
        }
    }
    first
        .into_iter()
        .map(|(parent, (credit, _))| (parent, credit))
        .collect()
}

fn newest(credits: &[Option<Credit>]) -> Option<Credit> {
    credits
        .iter()
        .flatten()
        .max_by_key(|c| c.recency())
        .cloned()
}

fn blame_line(line: YamlLine, credit: Credit) -> BlameLine {
    BlameLine {
        path: line.path,
        text: line.text,
        manager: credit.manager,
        operation: credit.operation,
        subresource: credit.subresource,
        user: credit.user,
        time: credit.time,
        revision: credit.revision,
        generation: credit.generation,
        source: credit.source,
        record_line: credit.line,
    }
}

/// The body's top level in kubectl's order: apiVersion, kind, metadata, spec, status, then the rest.
fn kubectl_order(body: &Value) -> Map<String, Value> {
    const FIRST: [&str; 5] = ["apiVersion", "kind", "metadata", "spec", "status"];
    let Some(map) = body.as_object() else {
        return Map::new();
    };
    let mut ordered = Map::new();
    for key in FIRST {
        if let Some(value) = map.get(key) {
            ordered.insert(key.to_string(), value.clone());
        }
    }
    for (key, value) in map.iter().filter(|(key, _)| !FIRST.contains(&key.as_str())) {
        ordered.insert(key.clone(), value.clone());
    }
    ordered
}

/// What the gutter's credits rest on, for lines not changed in the trace.
fn gutter_notes(object: &ObjectHistory, lines: &[BlameLine]) -> Vec<String> {
    let mut notes = Vec::new();
    if lines
        .iter()
        .any(|l| l.source == Some(Source::ManagedFields))
    {
        notes.push(format!(
            "lines marked `before trace` hold values that did not change after the first record of \
             {} ({}); they are credited to the managedFields entry that owns them, at that entry's time",
            object.display_name(),
            object.first().ts
        ));
    }
    let unowned: Vec<String> = lines
        .iter()
        .filter(|l| l.source.is_none())
        .filter_map(|l| l.path.as_ref().map(ToString::to_string))
        .collect();
    if let Some(examples) = unowned
        .get(..unowned.len().min(3))
        .filter(|e| !e.is_empty())
    {
        notes.push(format!(
            "{} line(s) show values that never changed in the trace and that no managedFields entry owns ({}{}); they are not credited",
            unowned.len(),
            examples.join(", "),
            if unowned.len() > 3 { ", …" } else { "" }
        ));
    }
    notes
}

/// What the answer rests on that the reader should know: the object went away.
fn object_warnings(object: &ObjectHistory, at: Timestamp) -> Vec<String> {
    let mut warnings = Vec::new();
    match &object.gone {
        Some(Gone::Deleted(ts)) if *ts <= at => warnings.push(format!(
            "{} was deleted at {ts}; this is its last recorded state",
            object.display_name()
        )),
        Some(Gone::MissingAtRelist(ts)) if *ts <= at => warnings.push(format!(
            "{} was gone by the re-list at {ts}; this is its last recorded state",
            object.display_name()
        )),
        _ => {}
    }
    warnings
}

/// The changes of the `--history` field, warning when it never changed.
fn field_history(
    path: &FieldPath,
    changes: Vec<FieldHistoryEntry>,
    shown: &Parsed<'_>,
    warnings: &mut Vec<String>,
) -> Vec<FieldHistoryEntry> {
    if changes.is_empty() {
        let now = match path.value_in(&shown.body) {
            Some(value) => format!("its value then is {value}"),
            None => "it is not set then".to_string(),
        };
        warnings.push(format!(
            "{path} did not change in the recorded versions up to {}; {now}",
            shown.version.ts
        ));
    }
    changes
}
