//! Values in text: a changed pair shortened around what differs, and a changed multi-line text
//! as the lines that changed. JSON and YAML output never go through here: they are never shortened.

use std::io::{self, Write};

use serde_json::Value;

use crate::history::lines::{line_ops, multi_line, split_lines, LineOp};

/// How many characters of a value a one-line answer shows.
pub const VALUE_CHARS: usize = 60;
/// How many equal characters are kept on each side of a difference.
const CONTEXT_CHARS: usize = 20;
/// How many unchanged lines are shown around a changed line.
const CONTEXT_LINES: usize = 2;
/// The most lines of a line diff shown; the rest are counted.
const MAX_DIFF_LINES: usize = 40;

/// A value on one line as a person reads it: strings bare (line breaks and tabs as `\n`, `\t`),
/// absent as `(none)`, anything else as JSON.
pub fn one_line(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_string(),
        Value::String(text) => text
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .replace('\t', "\\t"),
        other => other.to_string(),
    }
}

/// Old and new text shortened to about `max` characters each, keeping what differs: the common
/// beginning and end are cut (marked `…`), leaving a little context around the difference, so
/// `…/catalog-web:v5.3.2` → `…/catalog-web:v5.4.0` rather than two identical beginnings.
/// Texts that both fit are returned whole.
pub fn shorten_pair(from: &str, to: &str, max: usize) -> (String, String) {
    let old: Vec<char> = from.chars().collect();
    let new: Vec<char> = to.chars().collect();
    if old.len() <= max && new.len() <= max {
        return (from.to_string(), to.to_string());
    }
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let room = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let start = context_start(&old, prefix);
    (
        window(&old, start, old.len() - suffix, max),
        window(&new, start, new.len() - suffix, max),
    )
}

/// `shorten_pair` of two JSON values as [`one_line`] writes them, at [`VALUE_CHARS`].
pub fn value_pair(from: &Value, to: &Value) -> (String, String) {
    shorten_pair(&one_line(from), &one_line(to), VALUE_CHARS)
}

/// Where the shown part of both values begins: a little before the first difference, at a
/// separator when one is near so the context starts with a whole word.
fn context_start(chars: &[char], prefix: usize) -> usize {
    let earliest = prefix.saturating_sub(CONTEXT_CHARS);
    if earliest == 0 {
        return 0;
    }
    // Strong separators first: a path segment or a word reads better than half a host name.
    const SEPARATORS: [&[char]; 3] = [&['/', ' '], &[',', ':', '=', '"'], &['.', '-', '_', '@']];
    SEPARATORS
        .iter()
        .find_map(|class| (earliest..prefix).find(|&i| class.contains(&chars[i])))
        .unwrap_or(earliest)
}

/// `chars[start..]` up to a little after `differs_until`, at most `max` characters, with `…`
/// where it was cut.
fn window(chars: &[char], start: usize, differs_until: usize, max: usize) -> String {
    let start = start.min(chars.len());
    let mut end = (differs_until.max(start) + CONTEXT_CHARS).min(chars.len());
    let budget = max.saturating_sub(1).max(1);
    end = end.min(start + budget);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    shown
}

/// How a changed value reads in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Old and new on one line, shortened around the difference.
    Pair(String, String),
    /// A multi-line text: each side's line count (or `(none)`), and the lines that changed.
    Lines(String, String, Vec<DiffLine>),
}

/// One line of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// An unchanged line shown for context.
    Same(String),
    /// A line only the old text has.
    Removed(String),
    /// A line only the new text has.
    Added(String),
    /// Unchanged lines left out.
    Skipped,
    /// The diff goes on for this many more lines, left out.
    More(usize),
}

/// A changed value as text: a line diff when either side is a multi-line string (and the other
/// a string or nothing), else a shortened pair.
pub fn show_change(from: &Value, to: &Value) -> Shown {
    match line_diff(from, to) {
        Some(lines) => Shown::Lines(line_count(from), line_count(to), lines),
        None => {
            let (from, to) = value_pair(from, to);
            Shown::Pair(from, to)
        }
    }
}

/// `13 lines`, `1 line`, or `(none)`.
fn line_count(value: &Value) -> String {
    match value.as_str() {
        Some(text) => match split_lines(text).len() {
            1 => "1 line".to_string(),
            n => format!("{n} lines"),
        },
        None => one_line(value),
    }
}

/// The changed lines of two texts with a little context, or `None` when neither is a
/// multi-line string, one is not text, or they are too big to diff line by line.
fn line_diff(from: &Value, to: &Value) -> Option<Vec<DiffLine>> {
    multi_line(from).or(multi_line(to))?;
    let (old, new) = (text_lines(from)?, text_lines(to)?);
    let ops = line_ops(&old, &new)?;
    let mut out = Vec::new();
    let last = ops.len().saturating_sub(1);
    for (index, op) in ops.iter().enumerate() {
        match op {
            LineOp::Changed { old: o, new: n } => {
                out.extend(
                    old[o.clone()]
                        .iter()
                        .map(|l| DiffLine::Removed(l.to_string())),
                );
                out.extend(
                    new[n.clone()]
                        .iter()
                        .map(|l| DiffLine::Added(l.to_string())),
                );
            }
            LineOp::Same { new: at, len, .. } => {
                let same = &new[*at..at + len];
                let lead = if index == 0 { 0 } else { CONTEXT_LINES };
                let trail = if index == last { 0 } else { CONTEXT_LINES };
                if lead + trail >= same.len() {
                    out.extend(same.iter().map(|l| DiffLine::Same(l.to_string())));
                    continue;
                }
                out.extend(same[..lead].iter().map(|l| DiffLine::Same(l.to_string())));
                out.push(DiffLine::Skipped);
                out.extend(
                    same[same.len() - trail..]
                        .iter()
                        .map(|l| DiffLine::Same(l.to_string())),
                );
            }
        }
    }
    if out.len() > MAX_DIFF_LINES {
        let more = out.len() - MAX_DIFF_LINES;
        out.truncate(MAX_DIFF_LINES);
        out.push(DiffLine::More(more));
    }
    Some(out)
}

/// Writes one changed field: `{indent}path  old → new`, old red and new green with `color`;
/// for a multi-line text, the line counts and then the changed lines, indented two more.
pub fn write_field<W: Write>(
    out: &mut W,
    indent: &str,
    path: &str,
    from: &Value,
    to: &Value,
    color: bool,
) -> io::Result<()> {
    let (old, new, lines) = match show_change(from, to) {
        Shown::Pair(old, new) => (old, new, None),
        Shown::Lines(old, new, lines) => (old, new, Some(lines)),
    };
    let (old, new) = match lines {
        Some(_) => (old, new),
        None => (
            super::paint(&old, "31", color),
            super::paint(&new, "32", color),
        ),
    };
    let colon = if lines.is_some() { ":" } else { "" };
    writeln!(out, "{indent}{path}  {old} → {new}{colon}")?;
    if let Some(lines) = lines {
        write_lines(out, &lines, &format!("{indent}  "), color)?;
    }
    Ok(())
}

/// The lines of a string value; none for an absent one; `None` for anything else.
fn text_lines(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::Null => Some(Vec::new()),
        Value::String(text) => Some(split_lines(text)),
        _ => None,
    }
}

/// Writes a line diff, one line each after `indent`: ` ` unchanged, `-` removed (red with
/// `color`), `+` added (green), `…` for unchanged lines left out.
pub fn write_lines<W: Write>(
    out: &mut W,
    lines: &[DiffLine],
    indent: &str,
    color: bool,
) -> io::Result<()> {
    for line in lines {
        let text = match line {
            DiffLine::Same(text) => format!(" {text}"),
            DiffLine::Removed(text) => super::paint(&format!("-{text}"), "31", color),
            DiffLine::Added(text) => super::paint(&format!("+{text}"), "32", color),
            DiffLine::Skipped => " …".to_string(),
            DiffLine::More(n) => format!(" … {n} more diff lines"),
        };
        writeln!(out, "{}", format!("{indent}{text}").trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REGISTRY: &str = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/catalog-web";

    #[test]
    fn a_shortened_pair_keeps_the_tag_that_differs() {
        let (from, to) = shorten_pair(
            &format!("{REGISTRY}:v5.3.2"),
            &format!("{REGISTRY}:v5.4.0"),
            VALUE_CHARS,
        );
        assert_eq!(from, "…/catalog-web:v5.3.2");
        assert_eq!(to, "…/catalog-web:v5.4.0");
    }

    #[test]
    fn a_difference_in_the_middle_keeps_context_on_both_sides() {
        let long = "x".repeat(80);
        let (from, to) = shorten_pair(
            &format!("{long}\"image\":\"nginx:1.25\",\"name\":\"web\"{long}"),
            &format!("{long}\"image\":\"nginx:1.26-rc1\",\"name\":\"web\"{long}"),
            VALUE_CHARS,
        );
        assert!(from.starts_with('…') && from.ends_with('…'), "{from}");
        assert!(from.contains("nginx:1.25\""), "{from}");
        assert!(to.contains("nginx:1.26-rc1\""), "{to}");
        assert!(from.chars().count() <= VALUE_CHARS + 2, "{from}");
    }

    #[test]
    fn short_values_and_unrelated_values_read_as_before() {
        assert_eq!(
            shorten_pair("nginx:1.25", "nginx:1.26-rc1", VALUE_CHARS),
            ("nginx:1.25".to_string(), "nginx:1.26-rc1".to_string())
        );
        let (from, to) = shorten_pair(&"a".repeat(100), &"b".repeat(100), 10);
        assert_eq!(from, format!("{}…", "a".repeat(9)));
        assert_eq!(to, format!("{}…", "b".repeat(9)));
    }

    #[test]
    fn a_multi_line_text_shows_the_changed_lines_with_context() {
        let old = json!("a\nb\nc\nd\ne\nf\ng\n");
        let new = json!("a\nb\nc\nd\nE\nf\ng\n");
        let Shown::Lines(from, to, lines) = show_change(&old, &new) else {
            panic!("a line diff");
        };
        assert_eq!((from.as_str(), to.as_str()), ("7 lines", "7 lines"));
        let same = |t: &str| DiffLine::Same(t.to_string());
        assert_eq!(
            lines,
            vec![
                DiffLine::Skipped,
                same("c"),
                same("d"),
                DiffLine::Removed("e".into()),
                DiffLine::Added("E".into()),
                same("f"),
                same("g"),
            ]
        );
        assert!(matches!(
            show_change(&json!("a\n"), &json!("b\n")),
            Shown::Pair(..)
        ));
        assert!(matches!(
            show_change(&json!(3), &json!("a\nb")),
            Shown::Pair(..)
        ));
    }

    #[test]
    fn one_line_escapes_line_breaks() {
        assert_eq!(one_line(&json!("a\nb\t")), "a\\nb\\t");
        assert_eq!(one_line(&Value::Null), "(none)");
    }
}
