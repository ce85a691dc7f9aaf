//! Text rendering of a diff between two versions: a header, then `path  old → new` per field.

use std::io::{self, Write};

use jiff::civil::Date;

use super::value::write_field;
use super::{day_of, when};
use crate::query::diff::{DiffReport, VersionRef};

/// Writes the diff report as text; `color` shows old values red and new values green.
pub fn text<W: Write>(report: &DiffReport, out: &mut W, color: bool) -> io::Result<()> {
    let object = &report.object;
    let name = if object.namespace.is_empty() {
        object.name.clone()
    } else {
        format!("{}/{}", object.namespace, object.name)
    };
    // Both versions are read against the day of the first.
    let day = day_of(report.from.time);
    writeln!(
        out,
        "{} {name}  {} → {}",
        object.kind.to_lowercase(),
        version(&report.from, day),
        version(&report.to, day)
    )?;
    if report.fields.is_empty() {
        writeln!(out, "  no differences")?;
    }
    for field in &report.fields {
        let path = field.path.to_string();
        write_field(out, "  ", &path, &field.from, &field.to, color)?;
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

/// `revision 2 (16:02:11, rv 1046, line 30)`.
fn version(v: &VersionRef, day: Date) -> String {
    let mut parts = vec![when(v.time, Some(day))];
    if let Some(rv) = &v.resource_version {
        parts.push(format!("rv {rv}"));
    }
    parts.push(format!("line {}", v.line));
    match v.revision {
        Some(n) => format!("revision {n} ({})", parts.join(", ")),
        None => format!("({})", parts.join(", ")),
    }
}
