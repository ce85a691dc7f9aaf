//! Text rendering of the blame report: the object's YAML with a git-blame gutter on every line.

use std::io::{self, Write};

use jiff::Timestamp;

use super::value::{show_change, write_lines, DiffLine, Shown};
use super::{day_of, when};
use crate::query::blame::{BlameLine, BlameReport, FieldHistoryEntry, NumberedBy, Source};

/// How times are written in the gutter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimeStyle {
    /// The time of day, `16:02:11` (UTC); `2026-11-06 10:31:06` when not on the day shown.
    #[default]
    Clock,
    /// Relative to the time shown, `13m ago`.
    Relative,
    /// RFC 3339, `2026-11-26T16:02:11.016Z`.
    Full,
    /// No time column.
    None,
}

/// SGR colours given to managers in sorted-name order, cycling.
const PALETTE: [&str; 8] = ["36", "33", "35", "32", "34", "31", "96", "93"];

/// The marker of a line credited from managedFields.
const BEFORE_TRACE: &str = "before trace";

/// Writes the report as text: with `--history`, the field's changes; otherwise the blamed YAML.
pub fn text<W: Write>(
    report: &BlameReport,
    out: &mut W,
    color: bool,
    time: TimeStyle,
) -> io::Result<()> {
    let o = &report.object;
    let name = match o.namespace.as_str() {
        "" => o.name.clone(),
        ns => format!("{ns}/{}", o.name),
    };
    match &report.history {
        Some(changes) => history(report, changes, &name, out, time)?,
        None => blamed_yaml(report, &name, out, color, time)?,
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn blamed_yaml<W: Write>(
    report: &BlameReport,
    name: &str,
    out: &mut W,
    color: bool,
    time: TimeStyle,
) -> io::Result<()> {
    let v = &report.version;
    let recorded = if v.time == report.at {
        String::new()
    } else {
        format!("recorded {}, ", v.time)
    };
    writeln!(
        out,
        "{} {name} at {}  ({recorded}line {}, resourceVersion {})",
        report.object.kind.to_lowercase(),
        report.at,
        v.line,
        v.resource_version.as_deref().unwrap_or("?")
    )?;
    let gutter = Gutter::new(report, time);
    let colors = colors(&report.lines);
    for line in &report.lines {
        let cells = gutter.cells(line);
        let code = line
            .manager
            .as_deref()
            .and_then(|m| colors.iter().find(|(name, _)| *name == m))
            .map(|(_, code)| *code)
            .filter(|_| color);
        match code {
            Some(code) => writeln!(out, "\x1b[{code}m{cells}\x1b[0m │ {}", line.text)?,
            None => writeln!(out, "{cells} │ {}", line.text)?,
        }
    }
    Ok(())
}

/// Each manager's colour: the palette in the order of sorted manager names.
fn colors(lines: &[BlameLine]) -> Vec<(&str, &'static str)> {
    let mut managers: Vec<&str> = lines.iter().filter_map(|l| l.manager.as_deref()).collect();
    managers.sort_unstable();
    managers.dedup();
    managers
        .into_iter()
        .zip(PALETTE.iter().cycle().copied())
        .collect()
}

/// Column widths of the gutter: manager, time, revision, and the before-trace marker.
struct Gutter {
    at: Timestamp,
    style: TimeStyle,
    kind_word: &'static str,
    widths: [usize; 4],
}

impl Gutter {
    fn new(report: &BlameReport, style: TimeStyle) -> Gutter {
        let kind_word = kind_word(report.numbered_by);
        let mut gutter = Gutter {
            at: report.at,
            style,
            kind_word,
            widths: [0; 4],
        };
        for line in &report.lines {
            let columns = gutter.columns(line);
            for (width, column) in gutter.widths.iter_mut().zip(&columns) {
                *width = (*width).max(column.chars().count());
            }
        }
        gutter
    }

    fn columns(&self, line: &BlameLine) -> [String; 4] {
        let time = line
            .time
            .map(|t| format_time(t, self.at, self.style))
            .unwrap_or_default();
        let revision = line
            .revision
            .map(|n| format!("{} {n}", self.kind_word))
            .unwrap_or_default();
        let marker = match line.source {
            Some(Source::ManagedFields) => BEFORE_TRACE,
            _ => "",
        };
        // The person beside the field manager, when an audit log named them.
        let who = match (&line.manager, &line.user) {
            (Some(m), Some(u)) => format!("{m} ({u})"),
            (m, _) => m.clone().unwrap_or_default(),
        };
        [who, time, revision, marker.to_string()]
    }

    /// The gutter of one line, columns padded and separated by two spaces; empty columns dropped.
    fn cells(&self, line: &BlameLine) -> String {
        self.columns(line)
            .iter()
            .zip(self.widths)
            .filter(|(_, width)| *width > 0)
            .map(|(column, width)| super::pad(column, width))
            .collect::<Vec<_>>()
            .join("  ")
    }
}

/// A time as the style asks; `None` writes nothing. Clock times are read against the day of
/// the time shown, and carry their date when on another day.
fn format_time(time: Timestamp, at: Timestamp, style: TimeStyle) -> String {
    match style {
        TimeStyle::Clock => when(time, Some(day_of(at))),
        TimeStyle::Full => time.to_string(),
        TimeStyle::Relative => ago(at.as_second() - time.as_second()),
        TimeStyle::None => String::new(),
    }
}

/// `45s ago`, `13m ago`, `5h ago`, `3d ago`.
fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}

fn history<W: Write>(
    report: &BlameReport,
    changes: &[FieldHistoryEntry],
    name: &str,
    out: &mut W,
    time: TimeStyle,
) -> io::Result<()> {
    let field = report
        .history_path
        .as_ref()
        .map_or_else(|| "the field".to_string(), ToString::to_string);
    let kind = report.object.kind.to_lowercase();
    writeln!(
        out,
        "changes of {field} in {kind} {name} up to {}:",
        report.at
    )?;
    let (rows, texts): (Vec<Vec<String>>, Vec<Option<Vec<DiffLine>>>) = changes
        .iter()
        .map(|change| history_row(report, change, &field, time))
        .unzip();
    let mut widths = Vec::new();
    for row in &rows {
        widths.resize(widths.len().max(row.len()), 0);
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for (row, text) in rows.iter().zip(&texts) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| super::pad(cell, width))
            .collect();
        writeln!(out, "  {}", cells.join("  ").trim_end())?;
        if let Some(lines) = text {
            write_lines(out, lines, "    ", false)?;
        }
    }
    Ok(())
}

/// Time, who, revision, record line, the leaf (when under the asked field), old → new; and the
/// changed lines when the value is a multi-line text.
fn history_row(
    report: &BlameReport,
    change: &FieldHistoryEntry,
    field: &str,
    time: TimeStyle,
) -> (Vec<String>, Option<Vec<DiffLine>>) {
    let mut cells = vec![format_time(change.time, report.at, time)];
    cells.retain(|c| !c.is_empty());
    cells.push(who(change));
    let kind_word = kind_word(report.numbered_by);
    cells.push(
        change
            .revision
            .map_or(String::new(), |n| format!("{kind_word} {n}")),
    );
    cells.push(format!("line {}", change.line));
    let path = change.path.to_string();
    if path != field {
        cells.push(path);
    }
    let (from, to, lines) = match show_change(&change.from, &change.to) {
        Shown::Pair(from, to) => (from, to, None),
        Shown::Lines(from, to, lines) => (from, to, Some(lines)),
    };
    cells.push(format!("{from} → {to}"));
    (cells, lines)
}

/// `rev` for workloads' revision numbers, `gen` for generations.
fn kind_word(numbered_by: NumberedBy) -> &'static str {
    match numbered_by {
        NumberedBy::Revision => "rev",
        NumberedBy::Generation => "gen",
    }
}

fn who(change: &FieldHistoryEntry) -> String {
    let manager = match (&change.manager, &change.operation) {
        (Some(m), Some(op)) => format!("{m} ({op})"),
        (Some(m), None) => m.clone(),
        _ => "an unknown manager".to_string(),
    };
    match &change.user {
        Some(user) => format!("{user} with {manager}"),
        None => manager,
    }
}
