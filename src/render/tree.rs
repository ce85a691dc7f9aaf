//! Text rendering of the owner tree: a kubectl-tree style table, one object per row.

use std::io::{self, Write};

use jiff::civil::Date;

use super::{day_of, pad, when};
use crate::query::tree::{TreeNode, TreeReport};

/// ANSI SGR: faint, for objects already deleted at the moment.
const FAINT: &str = "2";
/// ANSI SGR: bold, for the header row.
const BOLD: &str = "1";

/// One table row before padding.
struct Row {
    namespace: String,
    name: String,
    status: String,
    age: String,
    deleted: bool,
}

/// Writes the tree report as text; `color` adds ANSI styles.
pub fn text<W: Write>(report: &TreeReport, out: &mut W, color: bool) -> io::Result<()> {
    let root = &report.root;
    writeln!(
        out,
        "owner tree of {} {} at {}",
        root.kind.to_lowercase(),
        qualified(root),
        report.at
    )?;
    let mut rows = vec![Row {
        namespace: "NAMESPACE".into(),
        name: "NAME".into(),
        status: "STATUS".into(),
        age: "AGE".into(),
        deleted: false,
    }];
    collect(root, "", "", day_of(report.at), &mut rows);
    let widths = [
        width(&rows, |r| &r.namespace),
        width(&rows, |r| &r.name),
        width(&rows, |r| &r.status),
    ];
    for (index, row) in rows.iter().enumerate() {
        let line = format!(
            "{}  {}  {}  {}",
            pad(&row.namespace, widths[0]),
            pad(&row.name, widths[1]),
            pad(&row.status, widths[2]),
            row.age
        );
        let style = match (index, row.deleted) {
            (0, _) => Some(BOLD),
            (_, true) => Some(FAINT),
            _ => None,
        };
        writeln!(out, "{}", paint(line.trim_end(), style, color))?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn qualified(node: &TreeNode) -> String {
    if node.namespace.is_empty() {
        node.name.clone()
    } else {
        format!("{}/{}", node.namespace, node.name)
    }
}

/// Adds `node` and its subtree; `lead` draws this row's branch, `indent` the branches of its
/// children; times are read against `day`, the day of the moment shown.
fn collect(node: &TreeNode, lead: &str, indent: &str, day: Date, rows: &mut Vec<Row>) {
    let mut status = if node.status.is_empty() {
        "-".to_string()
    } else {
        node.status.clone()
    };
    if let Some(deleted) = node.deleted_at {
        status = format!("{status} (deleted {})", when(deleted, Some(day)));
    }
    rows.push(Row {
        namespace: if node.namespace.is_empty() {
            "-".into()
        } else {
            node.namespace.clone()
        },
        name: format!("{lead}{}/{}", node.kind, node.name),
        status,
        age: node.age.clone().unwrap_or_else(|| "?".into()),
        deleted: node.deleted_at.is_some(),
    });
    let last = node.children.len().saturating_sub(1);
    for (index, child) in node.children.iter().enumerate() {
        let (branch, rest) = if index == last {
            ("└─", "  ")
        } else {
            ("├─", "│ ")
        };
        let child_indent = format!("{indent}{rest}");
        collect(
            child,
            &format!("{indent}{branch}"),
            &child_indent,
            day,
            rows,
        );
    }
}

fn width(rows: &[Row], field: impl Fn(&Row) -> &String) -> usize {
    rows.iter()
        .map(|r| field(r).chars().count())
        .max()
        .unwrap_or(0)
}

/// Wraps `text` in an ANSI SGR style when `color` is on.
fn paint(text: &str, style: Option<&str>, color: bool) -> String {
    match style {
        Some(code) => super::paint(text, code, color),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn node(name: &str, deleted: Option<&str>, children: Vec<TreeNode>) -> TreeNode {
        TreeNode {
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: name.into(),
            uid: name.into(),
            status: "Running".into(),
            age: Some("1d".into()),
            deleted_at: deleted.and_then(|t| t.parse().ok()),
            children,
        }
    }

    #[test]
    fn a_deletion_on_another_day_than_the_moment_shown_carries_its_date() {
        let at: Timestamp = "2026-11-27T00:10:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let report = TreeReport {
            at,
            root: node(
                "web",
                None,
                vec![
                    node("yesterday", Some("2026-11-26T23:58:00Z"), Vec::new()),
                    node("today", Some("2026-11-27T00:05:00Z"), Vec::new()),
                ],
            ),
            warnings: Vec::new(),
        };
        let mut out = Vec::new();
        text(&report, &mut out, false).expect("writes to memory");
        let out = String::from_utf8_lossy(&out);
        assert!(
            out.contains("Running (deleted 2026-11-26 23:58:00)"),
            "{out}"
        );
        assert!(out.contains("Running (deleted 00:05:00)"), "{out}");
    }
}
