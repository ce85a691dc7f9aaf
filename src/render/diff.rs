//! Text rendering of a diff between two versions: a header, then `path  old → new` per field.

use std::io::{self, Write};

use serde_json::Value;

use super::{clock, paint, value_text};
use crate::query::diff::{DiffReport, VersionRef};

/// ANSI SGR: red, for old values.
const RED: &str = "31";
/// ANSI SGR: green, for new values.
const GREEN: &str = "32";

/// Writes the diff report as text; `color` shows old values red and new values green.
pub fn text<W: Write>(report: &DiffReport, out: &mut W, color: bool) -> io::Result<()> {
    let object = &report.object;
    let name = if object.namespace.is_empty() {
        object.name.clone()
    } else {
        format!("{}/{}", object.namespace, object.name)
    };
    writeln!(
        out,
        "{} {name}  {} → {}",
        object.kind.to_lowercase(),
        version(&report.from),
        version(&report.to)
    )?;
    if report.fields.is_empty() {
        writeln!(out, "  no differences")?;
    }
    for field in &report.fields {
        let (from, to) = pair(&field.from, &field.to);
        writeln!(
            out,
            "  {}  {} → {}",
            field.path,
            paint(&from, RED, color),
            paint(&to, GREEN, color)
        )?;
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
fn version(v: &VersionRef) -> String {
    let mut parts = vec![clock(v.time)];
    if let Some(rv) = &v.resource_version {
        parts.push(format!("rv {rv}"));
    }
    parts.push(format!("line {}", v.line));
    match v.revision {
        Some(n) => format!("revision {n} ({})", parts.join(", ")),
        None => format!("({})", parts.join(", ")),
    }
}

/// Old and new value in a few characters each; long values that share a beginning are shown from
/// a little before the first character that differs, so the difference stays visible.
fn pair(from: &Value, to: &Value) -> (String, String) {
    let (from, to) = (value_text(from), value_text(to));
    let same = from
        .chars()
        .zip(to.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let skip = match from.chars().count().max(to.chars().count()) > SHOWN {
        true => same.saturating_sub(CONTEXT),
        false => 0,
    };
    (window(&from, skip), window(&to, skip))
}

/// How many characters of a value are shown.
const SHOWN: usize = 60;
/// How many equal characters are kept before the first difference.
const CONTEXT: usize = 20;

/// `text` from character `skip`, at most [`SHOWN`] characters, with `…` where it was cut.
fn window(text: &str, skip: usize) -> String {
    let total = text.chars().count();
    let skip = skip.min(total);
    let mut shown: String = text.chars().skip(skip).take(SHOWN - 1).collect();
    if skip > 0 {
        shown.insert(0, '…');
    }
    if total - skip > SHOWN - 1 {
        shown.push('…');
    }
    shown
}
