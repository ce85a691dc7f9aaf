//! Text rendering of the timeline: one aligned line per entry, with a date line whenever the day changes.

use std::io::{self, Write};

use jiff::Timestamp;

use super::value::{show_change, write_lines, Shown};
use super::{clock, day_of, paint};
use crate::graph::ObjectRef;
use crate::query::timeline::{Entry, EntryKind, Severity, TimelineReport};

/// The widest the object column is padded to; longer names push their summary right.
const MAX_OBJECT_WIDTH: usize = 44;
/// How many changed fields an entry lists before eliding.
const LISTED_FIELDS: usize = 3;

/// ANSI SGR codes used when colour is on.
const DIM: &str = "2";
const BOLD: &str = "1";
const YELLOW: &str = "33";
const RED: &str = "31";

/// Writes the timeline as text; with `color`, times are dim, warnings yellow and failures red.
pub fn text<W: Write>(report: &TimelineReport, out: &mut W, color: bool) -> io::Result<()> {
    let time_width = report
        .entries
        .iter()
        .map(|e| when(e).chars().count())
        .max()
        .unwrap_or(0);
    let object_width = report
        .entries
        .iter()
        .filter_map(|e| e.object.as_ref().map(|o| label(o).chars().count()))
        .max()
        .unwrap_or(0)
        .min(MAX_OBJECT_WIDTH);
    let mut day = None;
    for entry in &report.entries {
        let today = date(entry.time);
        if day.as_ref() != Some(&today) {
            writeln!(out, "{}", paint(&today, BOLD, color))?;
            day = Some(today);
        }
        line(entry, time_width, object_width, out, color)?;
    }
    if report.entries.is_empty() {
        writeln!(out, "nothing happened in the chosen window")?;
    }
    for warning in &report.warnings {
        writeln!(
            out,
            "{}",
            paint(&format!("warning: {warning}"), YELLOW, color)
        )?;
    }
    Ok(())
}

fn line<W: Write>(
    entry: &Entry,
    time_width: usize,
    object_width: usize,
    out: &mut W,
    color: bool,
) -> io::Result<()> {
    let time = super::pad(&when(entry), time_width);
    let object = entry.object.as_ref().map(label).unwrap_or_default();
    let object = super::pad(&object, object_width);
    let summary = match entry.severity {
        Severity::Normal => entry.summary.clone(),
        Severity::Warning => paint(&entry.summary, YELLOW, color),
        Severity::Failure => paint(&entry.summary, RED, color),
    };
    let object = match entry.kind {
        EntryKind::TraceStart | EntryKind::TraceEnd => paint(&object, BOLD, color),
        _ => object,
    };
    let (fields, texts) = fields(entry);
    let text = format!("{}  {object}  {summary}{fields}", paint(&time, DIM, color));
    writeln!(out, "{}", text.trim_end())?;
    // A changed multi-line text gets its changed lines under the summary.
    let indent = " ".repeat(time_width + 2 + object_width.min(super::MAX_COLUMN) + 2 + 2);
    for (path, lines) in &texts {
        if texts.len() > 1 {
            writeln!(out, "{}{path}:", &indent[2..])?;
        }
        write_lines(out, lines, &indent, color)?;
    }
    Ok(())
}

/// `: path old → new; path old → new; +2 more` for an entry's first fields, values shortened
/// around what changed, and the line diffs of the multi-line texts among them.
fn fields(entry: &Entry) -> (String, Vec<(String, Vec<super::value::DiffLine>)>) {
    if entry.fields.is_empty() {
        return (String::new(), Vec::new());
    }
    let mut texts = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for field in entry.fields.iter().take(LISTED_FIELDS) {
        let path = field.path.to_string();
        match show_change(&field.from, &field.to) {
            Shown::Pair(from, to) => parts.push(format!("{path} {from} → {to}")),
            Shown::Lines(from, to, lines) => {
                parts.push(format!("{path} {from} → {to}"));
                texts.push((path, lines));
            }
        }
    }
    if entry.fields.len() > LISTED_FIELDS {
        parts.push(format!("+{} more", entry.fields.len() - LISTED_FIELDS));
    }
    (format!(": {}", parts.join("; ")), texts)
}

/// `16:02:11`, or `16:02:23–16:12:53` for a folded Event (its end dated when on another day
/// than the entry's date line).
fn when(entry: &Entry) -> String {
    match entry.until {
        Some(until) => format!(
            "{}–{}",
            clock(entry.time),
            super::when(until, Some(day_of(entry.time)))
        ),
        None => clock(entry.time),
    }
}

/// `pod shop/web-7cd8774fb8-znhz4`, or `node node-1` for a cluster-scoped object.
fn label(object: &ObjectRef) -> String {
    let kind = object.kind.to_lowercase();
    if object.namespace.is_empty() {
        format!("{kind} {}", object.name)
    } else {
        format!("{kind} {}/{}", object.namespace, object.name)
    }
}

fn date(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d").to_string()
}
