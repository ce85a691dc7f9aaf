//! Text rendering of the integrity report.

use std::io::{self, Write};

use super::duration_words;
use crate::query::check::CheckReport;

/// Writes the check report as text.
pub fn text<W: Write>(report: &CheckReport, out: &mut W) -> io::Result<()> {
    let compression = if report.compressed {
        "zstd"
    } else {
        "plain NDJSON"
    };
    writeln!(
        out,
        "trace {} ({compression}, {}, {} lines, {} bytes)",
        report.trace,
        report.format.as_deref().unwrap_or("no header"),
        report.lines,
        report.bytes
    )?;
    if let Some(tool) = &report.tool {
        writeln!(
            out,
            "  written by {tool} from {}",
            report.source_kind.as_deref().unwrap_or("?")
        )?;
    }
    if let (Some(start), Some(end)) = (report.start, report.end) {
        let span = start.duration_until(end).as_secs();
        writeln!(
            out,
            "  time span {start} → {end} ({})",
            duration_words(span)
        )?;
    }
    let types: Vec<String> = report
        .records_by_type
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    writeln!(out, "  records: {}", types.join(", "))?;
    let kinds: Vec<String> = report
        .records_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    writeln!(out, "  object records by kind: {}", kinds.join(", "))?;
    writeln!(out, "  distinct objects (UIDs): {}", report.objects)?;
    if !report.resources.is_empty() {
        writeln!(out, "  resources: {}", report.resources.join(", "))?;
    }
    writeln!(
        out,
        "  gaps: {}, re-lists: {}",
        report.gaps.len(),
        report.relists.len()
    )?;
    for gap in &report.gaps {
        writeln!(
            out,
            "    GAP {} at {}: {}",
            gap.resource, gap.ts, gap.reason
        )?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    writeln!(out, "{}", verdict(report))
}

/// The report's last line: whether the trace is whole, and if not, why.
pub fn verdict(report: &CheckReport) -> String {
    if report.whole {
        "whole: END present, nothing cut off".to_string()
    } else if report.ended {
        format!("not whole: {} unreadable line(s)", report.bad_lines)
    } else {
        "not whole: cut short (no END record)".to_string()
    }
}
