//! Text rendering of the integrity report.

use std::io::{self, Write};

use crate::query::check::CheckReport;
use crate::trace::codec::size_words;
use crate::trace::RedactionInfo;

/// Writes the check report as text.
pub fn text<W: Write>(report: &CheckReport, out: &mut W) -> io::Result<()> {
    let compression = report.compression.name();
    let sizes = match (report.compressed, report.file_bytes) {
        (true, Some(file)) => format!(
            "{} compressed, {} uncompressed",
            size_words(file),
            size_words(report.bytes)
        ),
        (true, None) => format!("{} uncompressed", size_words(report.bytes)),
        (false, _) => size_words(report.bytes),
    };
    writeln!(
        out,
        "trace {} ({compression}, {}, {} lines, {sizes})",
        report.trace,
        report.format.as_deref().unwrap_or("no header"),
        report.lines,
    )?;
    if let Some(tool) = &report.tool {
        writeln!(
            out,
            "  written by {tool} from {}",
            report.source_kind.as_deref().unwrap_or("?")
        )?;
    }
    if let (Some(start), Some(end)) = (report.start, report.end) {
        let span = start.duration_until(end).as_secs_f64();
        writeln!(out, "  time span {start} → {end} ({})", span_words(span))?;
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
    for caveat in &report.caveats {
        writeln!(out, "  caveat: {caveat}")?;
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

/// A trace's time span, rounded to what a reader needs: `850 ms`, `42 s`, `4 min 5 s` (under
/// ten minutes), `15 min`, `2 h 5 min`, `3 d 4 h`; rounded to the nearest unit shown, so
/// 14 min 59.9 s is `15 min`.
pub fn span_words(seconds: f64) -> String {
    let seconds = seconds.max(0.0);
    if seconds < 1.0 {
        return format!("{} ms", (seconds * 1000.0).round() as u64);
    }
    let whole = seconds.round() as u64;
    if whole < 60 {
        return format!("{whole} s");
    }
    if whole < 600 {
        return match whole % 60 {
            0 => format!("{} min", whole / 60),
            s => format!("{} min {s} s", whole / 60),
        };
    }
    let minutes = (seconds / 60.0).round() as u64;
    if minutes < 60 {
        return format!("{minutes} min");
    }
    if minutes < 24 * 60 {
        return match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            m => format!("{} h {m} min", minutes / 60),
        };
    }
    let hours = (seconds / 3600.0).round() as u64;
    match hours % 24 {
        0 => format!("{} d", hours / 24),
        h => format!("{} d {h} h", hours / 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_spans_are_rounded_for_reading() {
        assert_eq!(size_words(812), "812 bytes");
        assert_eq!(size_words(49_980), "48.8 KiB");
        assert_eq!(size_words(262_650), "256.5 KiB");
        assert_eq!(size_words(1_048_575), "1.0 MiB");
        assert_eq!(size_words(3_680_000_000), "3.4 GiB");
        let cases = [
            (0.35, "350 ms"),
            (42.4, "42 s"),
            (59.6, "1 min"),
            (245.0, "4 min 5 s"),
            (899.6, "15 min"),
            (900.006, "15 min"),
            (3599.9, "1 h"),
            (7500.0, "2 h 5 min"),
            (75_000.0, "20 h 50 min"),
            (86_400.0 * 3.0 + 4.0 * 3600.0 + 1000.0, "3 d 4 h"),
            (86_400.0 * 20.0, "20 d"),
        ];
        for (seconds, want) in cases {
            assert_eq!(span_words(seconds), want, "{seconds} s");
        }
    }
}
