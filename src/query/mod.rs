//! The questions kblame answers, each returning a plain serializable report.

pub mod at;
pub mod audit;
pub mod batch;
pub mod blame;
pub mod check;
pub mod custom;
pub mod diff;
mod error;
pub mod get;
pub mod object;
mod open;
pub mod pod;
pub mod report;
pub mod report_timeline;
pub mod rollout;
pub mod select;
pub mod sets;
pub mod timeline;
pub mod tree;

pub use error::{PodsOf, QueryError};
pub use open::{open, IndexMode, Opened, ReadProgress, Scope, SAVE_INDEX_FROM_BYTES};

use crate::graph::CausalGraph;
use crate::history::History;
use crate::trace::{read_trace, ReadSummary, TraceError, TraceSource};

/// A trace read once and replayed: the history, the causal graph and what the reader noticed.
#[derive(Debug)]
pub struct Loaded {
    /// The trace's name for messages.
    pub source: String,
    /// How many objects (distinct UIDs) the whole trace holds; `history` may hold fewer.
    pub object_count: usize,
    /// Every version of every object.
    pub history: History,
    /// Ownership and Events.
    pub graph: CausalGraph,
    /// What the reader noticed.
    pub read: ReadSummary,
    /// What merging audit logs (`--audit`) found, in words.
    pub audit: Vec<String>,
}

/// Reads and replays a trace in one streaming pass.
pub fn load(source: &TraceSource) -> Result<Loaded, TraceError> {
    load_with_progress(source, |_| {})
}

/// How many records [`load_with_progress`] reports progress after.
const PROGRESS_EVERY: u64 = 4096;

/// Like [`load`], calling `progress` with the number of records read so far, every few thousand.
pub fn load_with_progress(
    source: &TraceSource,
    progress: impl FnMut(u64),
) -> Result<Loaded, TraceError> {
    let (history, read) = replay_every_record(source, History::new(None), progress)?;
    let graph = CausalGraph::build(&history);
    Ok(Loaded {
        source: source.display_name(),
        object_count: history.objects().len(),
        history,
        graph,
        read,
        audit: Vec::new(),
    })
}

/// Reads every record of a trace in full, keeping no bodies: what `check --strict` needs.
pub fn load_facts_with_progress(
    source: &TraceSource,
    progress: impl FnMut(u64),
) -> Result<Loaded, TraceError> {
    let (history, read) = replay_every_record(source, History::without_bodies(), progress)?;
    Ok(Loaded {
        source: source.display_name(),
        object_count: history.objects().len(),
        history,
        graph: CausalGraph::default(),
        read,
        audit: Vec::new(),
    })
}

/// Streams every record of a trace into `history`.
fn replay_every_record(
    source: &TraceSource,
    mut history: History,
    mut progress: impl FnMut(u64),
) -> Result<(History, ReadSummary), TraceError> {
    let mut records = 0u64;
    let read = read_trace(source, |entry| {
        history.apply(entry.line, &entry.record);
        records += 1;
        if records.is_multiple_of(PROGRESS_EVERY) {
            progress(records);
        }
    })?;
    Ok((history, read))
}

/// How many of its own warnings a report lists; the rest are counted in the last one.
const MAX_WARNINGS: usize = 50;

/// How many watch gaps the trace-wide warnings name; the rest are counted.
const MAX_GAP_WARNINGS: usize = 10;

/// A question's own warnings, bounded, then the trace-wide ones. A damaged trace can make one
/// warning per record (a body that does not parse, a restart count that jumps), and a report
/// listing a million of them says less than one that counts them.
pub fn with_trace_warnings(own: Vec<String>, loaded: &Loaded) -> Vec<String> {
    // Each warning once, in the order first given: several steps may find the same thing.
    let mut seen = std::collections::HashSet::new();
    let mut own: Vec<String> = own.into_iter().filter(|w| seen.insert(w.clone())).collect();
    if own.len() > MAX_WARNINGS {
        let more = own.len() - (MAX_WARNINGS - 1);
        own.truncate(MAX_WARNINGS - 1);
        own.push(format!("… and {more} more warnings"));
    }
    own.extend(
        trace_warnings(loaded)
            .into_iter()
            .filter(|w| seen.insert(w.clone())),
    );
    own
}

/// Warnings every query repeats: what the trace as a whole cannot show.
pub fn trace_warnings(loaded: &Loaded) -> Vec<String> {
    let mut warnings = Vec::new();
    let facts = &loaded.history.facts;
    if let Some(cut) = &loaded.read.cut_short {
        warnings.push(cut.clone());
    }
    if !facts.ended {
        let end = facts
            .end
            .map(|e| e.to_string())
            .unwrap_or_else(|| "its start".to_string());
        warnings.push(format!(
            "the trace has no END record: recording was cut short after {end}; anything later is unknown"
        ));
    }
    for gap in facts.gaps.iter().take(MAX_GAP_WARNINGS) {
        let until = match gap.closed {
            Some(closed) => format!("events may be missing until the re-list at {closed}"),
            None => "never re-listed: nothing of it is known after this".to_string(),
        };
        warnings.push(format!(
            "watch gap for {} at {}: {} ({until})",
            gap.resource, gap.ts, gap.reason
        ));
    }
    if facts.gaps.len() > MAX_GAP_WARNINGS {
        warnings.push(format!(
            "… and {} more watch gaps",
            facts.gaps.len() - MAX_GAP_WARNINGS
        ));
    }
    if loaded.read.bad_lines > 0 {
        warnings.push(format!(
            "{} unreadable line(s) were skipped",
            loaded.read.bad_lines
        ));
    }
    if loaded.read.out_of_order > 0 {
        warnings.push(format!(
            "{} record(s) are out of time order; trace order was used",
            loaded.read.out_of_order
        ));
    }
    if loaded.read.header.is_none() {
        warnings.push("the trace has no header line".to_string());
    }
    warnings.extend(loaded.audit.iter().cloned());
    warnings
}
