//! Text rendering of the integrity report.

use std::io::{self, Write};

use super::duration_words;
use crate::query::check::CheckReport;
use crate::trace::RedactionInfo;

/// Writes the check report as text.
pub fn text<W: Write>(report: &CheckReport, out: &mut W) -> io::Result<()> {
    let compression = report.compression.name();
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
        let closed = match gap.closed {
            Some(ts) => format!("re-listed at {ts}"),
            None => "never re-listed".to_string(),
        };
        writeln!(
            out,
            "    GAP {} at {}: {} ({closed})",
            gap.resource, gap.ts, gap.reason
        )?;
    }
    if let Some(redaction) = &report.redaction {
        redaction_line(redaction, out)?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    writeln!(out, "{}", verdict(report))
}

/// The report's last line: whether the trace is whole, and if not, why.
pub fn verdict(report: &CheckReport) -> String {
    if report.whole {
        return "whole: END present, nothing cut off".to_string();
    }
    let mut why = Vec::new();
    if !report.ended {
        why.push("cut short (no END record)".to_string());
    }
    if report.ended && report.cut_short.is_some() {
        why.push("cut short".to_string());
    }
    if report.bad_lines > 0 {
        why.push(format!("{} unreadable line(s)", report.bad_lines));
    }
    if !report.open_gaps.is_empty() {
        let resources: Vec<&str> = report
            .open_gaps
            .iter()
            .map(|g| g.resource.as_str())
            .collect();
        why.push(format!("not recorded to the end: {}", resources.join(", ")));
    }
    format!("not whole: {}", why.join("; "))
}

fn redaction_line<W: Write>(redaction: &RedactionInfo, out: &mut W) -> io::Result<()> {
    if redaction.rules.is_empty() {
        return writeln!(
            out,
            "  redacted: nothing (Secret values {})",
            redaction.secret_values
        );
    }
    let key = match (redaction.key.as_deref(), redaction.key_id.as_deref()) {
        (Some("file"), Some(id)) => format!("key file {id}"),
        (Some(key), _) => format!("{key} key"),
        (None, _) => "unknown key".to_string(),
    };
    writeln!(
        out,
        "  redacted: {} ({}, {key})",
        redaction.rules.join(", "),
        redaction.method
    )
}
