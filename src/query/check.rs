//! `kblame check`: the integrity report of a trace.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::Loaded;
use crate::history::{GapInfo, SyncInfo};
use crate::trace::{Compression, RedactionInfo};

/// What a trace holds and whether it is whole.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The trace's name.
    pub trace: String,
    /// `kblame-trace/v1`, or null without a header.
    pub format: Option<String>,
    /// `header.source.kind` (`watch`, `audit`, …).
    pub source_kind: Option<String>,
    /// The tool that wrote it.
    pub tool: Option<String>,
    /// Whether it was compressed (zstd or gzip).
    pub compressed: bool,
    /// How: `zstd`, `gzip` or `none`.
    pub compression: Compression,
    /// Lines read.
    pub lines: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// The file's size on disk (compressed, when it is); `null` for standard input.
    pub file_bytes: Option<u64>,
    /// Records by type.
    pub records_by_type: BTreeMap<String, u64>,
    /// Object records by kind.
    pub records_by_kind: BTreeMap<String, u64>,
    /// Objects (distinct UIDs) recorded.
    pub objects: usize,
    /// First record time.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub start: Option<Timestamp>,
    /// Last record time.
    #[serde(serialize_with = "crate::render::serialize_opt_ts")]
    pub end: Option<Timestamp>,
    /// Resources the header says were recorded.
    pub resources: Vec<String>,
    /// GAP records.
    pub gaps: Vec<GapInfo>,
    /// Resources whose last GAP no re-list closed: nothing of them is recorded after it.
    pub open_gaps: Vec<GapInfo>,
    /// Re-lists (SYNCED after the first list of a resource).
    pub relists: Vec<SyncInfo>,
    /// Whether the END record is present.
    pub ended: bool,
    /// Lines that failed to parse.
    pub bad_lines: u64,
    /// Unknown record types, by type.
    pub unknown_types: BTreeMap<String, u64>,
    /// Where reading stopped early, if it did.
    pub cut_short: Option<String>,
    /// Every warning, in words.
    pub warnings: Vec<String>,
    /// What the trace's source cannot tell (`header.source.caveats`, written by imports).
    pub caveats: Vec<String>,
    /// Which values were redacted, and how (from the header).
    pub redaction: Option<RedactionInfo>,
    /// Whether the trace is whole: END present, nothing cut off, no unreadable line, and every
    /// resource recorded to the end (no GAP left open).
    pub whole: bool,
}

/// The size of the trace file `arg` (`-` is standard input, which has none).
pub fn file_size(arg: &str) -> Option<u64> {
    if arg == "-" {
        return None;
    }
    std::fs::metadata(arg)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// Builds the integrity report of a loaded trace.
pub fn check(loaded: &Loaded) -> CheckReport {
    let facts = &loaded.history.facts;
    let read = &loaded.read;
    let header = read.header.as_ref();
    let mut warnings: Vec<String> = read.warnings.iter().map(|w| w.message.clone()).collect();
    if !facts.ended {
        warnings.push("no END record: the recording was cut short".to_string());
    }
    if facts.skipped_objects > 0 {
        warnings.push(format!(
            "{} object record(s) had no usable metadata and were skipped",
            facts.skipped_objects
        ));
    }
    let open_gaps: Vec<GapInfo> = facts
        .gaps
        .iter()
        .filter(|gap| gap.closed.is_none())
        .cloned()
        .collect();
    for gap in &open_gaps {
        warnings.push(format!(
            "{} is not recorded after {}: its watch broke ({}) and no re-list followed",
            gap.resource, gap.ts, gap.reason
        ));
    }
    let whole =
        facts.ended && read.cut_short.is_none() && read.bad_lines == 0 && open_gaps.is_empty();
    CheckReport {
        trace: loaded.source.clone(),
        format: header.map(|h| h.format.clone()),
        source_kind: header.map(|h| h.source.kind.clone()),
        tool: header.and_then(|h| h.source.tool.clone()),
        compressed: read.compression != Compression::None,
        compression: read.compression,
        lines: read.lines,
        bytes: read.bytes,
        file_bytes: None,
        records_by_type: facts.records_by_type.clone(),
        records_by_kind: facts.records_by_kind.clone(),
        objects: loaded.object_count,
        start: facts.start,
        end: facts.end,
        resources: header
            .map(|h| h.resources.iter().map(|r| r.path()).collect())
            .unwrap_or_default(),
        gaps: facts.gaps.clone(),
        open_gaps,
        relists: facts.syncs.iter().filter(|s| s.relist).cloned().collect(),
        ended: facts.ended,
        bad_lines: read.bad_lines,
        unknown_types: read.unknown_types.clone(),
        cut_short: read.cut_short.clone(),
        warnings,
        caveats: header.map(|h| h.import.caveats.clone()).unwrap_or_default(),
        redaction: header.and_then(|h| h.redaction.clone()),
        whole,
    }
}
