//! Text rendering of `kblame get`: kubectl's tables, one per kind, columns three spaces apart.

use std::io::{self, Write};

use jiff::Timestamp;

use super::{clock, pad, paint};
use crate::query::get::{Deleted, GetReport, GetRow, KindTable};

/// ANSI SGR: bold, for header rows.
const BOLD: &str = "1";
/// ANSI SGR: faint, for objects already deleted at the moment.
const FAINT: &str = "2";
/// kubectl's tabwriter puts three spaces between columns.
const GAP: &str = "   ";

/// Writes the tables; `wide` adds kubectl's `-o wide` columns, `color` ANSI styles.
pub fn text<W: Write>(report: &GetReport, out: &mut W, wide: bool, color: bool) -> io::Result<()> {
    if report.tables.is_empty() {
        let namespace = report
            .namespace
            .as_deref()
            .map(|ns| format!(" in namespace {ns}"))
            .unwrap_or_default();
        writeln!(out, "No resources found{namespace} at {}.", report.at)?;
    }
    for (index, table) in report.tables.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        table_text(report, table, out, wide, color)?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn table_text<W: Write>(
    report: &GetReport,
    table: &KindTable,
    out: &mut W,
    wide: bool,
    color: bool,
) -> io::Result<()> {
    let namespaced = report.show_namespace && table.rows.iter().any(|r| !r.namespace.is_empty());
    let deleted = table.rows.iter().any(|r| r.deleted.is_some());
    let shown: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| wide || !c.wide)
        .map(|c| c.name)
        .collect();
    let mut header: Vec<String> = Vec::new();
    if namespaced {
        header.push("NAMESPACE".into());
    }
    let name = wide || !table.name_wide;
    if name {
        header.push("NAME".into());
    }
    header.extend(shown.iter().map(|c| c.to_string()));
    if deleted {
        header.push("DELETED".into());
    }
    let mut lines = vec![(header, false)];
    for row in &table.rows {
        let mut cells = Vec::new();
        if namespaced {
            cells.push(row.namespace.clone());
        }
        if name {
            // One kind asked for: bare names, as `kubectl get pods`; several: `pod/NAME`.
            cells.push(match report.kinds.len() {
                1 => row.name.clone(),
                _ => format!("{}/{}", table.resource, row.name),
            });
        }
        cells.extend(shown.iter().map(|c| cell(row, c)));
        if deleted {
            cells.push(
                row.deleted
                    .as_ref()
                    .map(|d| deleted_text(d, report.at))
                    .unwrap_or_default(),
            );
        }
        lines.push((cells, row.deleted.is_some()));
    }
    let columns = lines.first().map_or(0, |(cells, _)| cells.len());
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            lines
                .iter()
                .map(|(cells, _)| cells.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (index, (cells, gone)) in lines.iter().enumerate() {
        let line: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| pad(cell, width))
            .collect();
        let line = line.join(GAP);
        let line = line.trim_end();
        let styled = match (index, gone) {
            (0, _) => paint(line, BOLD, color),
            (_, true) => paint(line, FAINT, color),
            _ => line.to_string(),
        };
        writeln!(out, "{styled}")?;
    }
    Ok(())
}

fn cell(row: &GetRow, column: &str) -> String {
    row.cells.get(column).cloned().unwrap_or_default()
}

/// `16:08:15` (with the date when not the moment's day); a deletion seen only at a re-list is
/// `before` that re-list.
fn deleted_text(deleted: &Deleted, at: Timestamp) -> String {
    let same_day = deleted.time.strftime("%F").to_string() == at.strftime("%F").to_string();
    let time = if same_day {
        clock(deleted.time)
    } else {
        deleted.time.strftime("%F %T").to_string()
    };
    match deleted.exact {
        true => time,
        false => format!("before {time} (re-list)"),
    }
}
