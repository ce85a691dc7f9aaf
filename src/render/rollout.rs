//! Text rendering of the rollout report: the verdict first, then each revision with its evidence.

use std::io::{self, Write};

use jiff::civil::Date;

use super::value::{one_line, shorten_pair, write_field};
use super::{day_of, paint, when};
use crate::graph::{Change, ChangeKind};
use crate::query::rollout::{ChangeEntry, RevisionReport, RolloutReport};

/// ANSI colours, used only when asked for.
pub(super) struct Paint(pub(super) bool);

impl Paint {
    pub(super) fn outcome(&self, outcome: &str) -> String {
        let code = match outcome {
            "complete" => "32",
            "failed" | "failing" => "31",
            "progressing" | "paused" => "33",
            _ => "2",
        };
        self.wrap(code, outcome)
    }

    pub(super) fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        paint(text, code, self.0)
    }
}

/// Writes the rollout report as text.
pub fn text<W: Write>(report: &RolloutReport, out: &mut W, color: bool) -> io::Result<()> {
    let paint = Paint(color);
    let day = report.trace_start.map(day_of);
    let object = &report.object;
    // A failure is dated when it happened, with its record; other verdicts hold at the moment judged.
    let (at, line) = match &report.verdict_evidence {
        Some(evidence) => (evidence.time, line_note(evidence.line)),
        None => (report.at, String::new()),
    };
    writeln!(
        out,
        "deployment {}/{}  {} at {}: {}{}",
        object.namespace,
        object.name,
        paint.outcome(report.verdict),
        when(at, day),
        report.status_message,
        paint.dim(&line)
    )?;
    for revision in &report.revisions {
        revision_block(revision, &paint, day, out)?;
    }
    let serving: Vec<String> = report
        .revisions
        .iter()
        .filter(|r| r.ready > 0)
        .map(|r| format!("revision {} ({}/{} ready)", r.number, r.ready, r.desired))
        .collect();
    if serving.is_empty() {
        writeln!(out, "serving: nothing (no ready pods)")?;
    } else {
        writeln!(out, "serving: {}", serving.join(", "))?;
    }
    if !report.changes.is_empty() {
        writeln!(out, "changes:")?;
        for entry in &report.changes {
            writeln!(out, "  {}", change_summary(entry, day))?;
        }
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn revision_block<W: Write>(
    revision: &RevisionReport,
    paint: &Paint,
    day: Option<Date>,
    out: &mut W,
) -> io::Result<()> {
    let rs = revision
        .replicaset
        .as_ref()
        .map_or("?", |r| r.name.as_str());
    write!(
        out,
        "  revision {}  {rs}  {}",
        revision.number,
        paint.outcome(revision.outcome)
    )?;
    if let Some(since) = revision.failing_since {
        write!(out, ", failing since {}", when(since, day))?;
    }
    writeln!(out, "  ({}/{} ready)", revision.ready, revision.desired)?;
    if let Some(change) = &revision.change {
        change_lines(change, day, out)?;
    }
    // The evidence lines say it with their times; `why` is for what has no record of its own.
    if let Some(reason) = revision
        .reason
        .as_ref()
        .filter(|_| revision.evidence.is_empty())
    {
        writeln!(out, "    why: {reason}")?;
    }
    for item in revision.evidence.iter().take(6) {
        let line = line_note(item.line);
        writeln!(
            out,
            "    {} {}{}",
            paint.dim(&when(item.time, day)),
            item.text,
            paint.dim(&line)
        )?;
    }
    for pod in &revision.pods {
        let ready = if pod.ready { "ready" } else { "not ready" };
        let waiting = if pod.waiting.is_empty() {
            String::new()
        } else {
            format!(", {}", pod.waiting.join(", "))
        };
        writeln!(
            out,
            "    pod {}  {} {ready}, {} restarts{waiting}",
            pod.name, pod.phase, pod.restarts
        )?;
    }
    Ok(())
}

/// `kubectl-client-side-apply (Update)`: who made a change, and how.
pub(super) fn manager_and_operation(change: &Change) -> String {
    let who = change.manager.as_deref().unwrap_or("an unknown manager");
    match change.operation.as_deref() {
        Some(op) => format!("{who} ({op})"),
        None => who.to_string(),
    }
}

/// How a change made a revision: when, by whom, and its first fields.
pub(super) fn change_lines<W: Write>(
    change: &Change,
    day: Option<Date>,
    out: &mut W,
) -> io::Result<()> {
    let who = manager_and_operation(change);
    let before = if change.before_trace {
        ", before the trace"
    } else {
        ""
    };
    writeln!(out, "    made {} by {who}{before}", when(change.time, day))?;
    for field in change.fields.iter().take(4) {
        let path = field.path.to_string();
        write_field(out, "      ", &path, &field.from, &field.to, false)?;
    }
    if change.fields.len() > 4 {
        writeln!(out, "      … {} more fields", change.fields.len() - 4)?;
    }
    Ok(())
}

/// One recorded change on one line: time, manager, kind, its first field, the revision it made.
fn change_summary(entry: &ChangeEntry, day: Option<Date>) -> String {
    let change = &entry.change;
    let who = change.manager.as_deref().unwrap_or("an unknown manager");
    let how = match (change.operation.as_deref(), change.subresource.as_deref()) {
        (Some(op), Some(sub)) => format!(" ({op} /{sub})"),
        (Some(op), None) => format!(" ({op})"),
        (None, Some(sub)) => format!(" (/{sub})"),
        (None, None) => String::new(),
    };
    let kind = match change.kind {
        ChangeKind::Create => "created",
        ChangeKind::Template => "template",
        ChangeKind::Scale => "scale",
        ChangeKind::Spec => "spec",
        ChangeKind::Data => "data",
        ChangeKind::Metadata => "metadata",
    };
    // The person beside the manager, when an audit log named them.
    let user = change
        .request
        .user
        .as_deref()
        .map_or(String::new(), |u| format!(", user {u}"));
    let mut text = format!("{}  {who}{how}{user}  {kind}", when(change.time, day));
    if let Some(first) = change.fields.first() {
        let (from, to) = shorten_pair(&one_line(&first.from), &one_line(&first.to), 30);
        text.push_str(&format!("  {} {from} → {to}", first.path));
    }
    if change.fields.len() > 1 {
        let more = change.fields.len() - 1;
        let s = if more == 1 { "" } else { "s" };
        text.push_str(&format!(" (+{more} field{s})"));
    }
    if let Some(number) = entry.new_revision {
        text.push_str(&format!("  → revision {number}"));
    }
    if let Some(number) = entry.rollback_to_revision {
        let sep = if entry.new_revision.is_some() {
            ","
        } else {
            " "
        };
        text.push_str(&format!("{sep} rollback to revision {number}"));
    }
    text
}

/// ` (line N)`, or nothing when no record shows it.
pub(super) fn line_note(line: Option<u64>) -> String {
    line.map(|line| format!(" (line {line})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{ChangeEvidence, Confidence, ObjectRef};
    use crate::history::diff::FieldChange;
    use crate::history::path::FieldPath;
    use serde_json::json;

    fn entry(kind: ChangeKind, fields: Vec<FieldChange>) -> ChangeEntry {
        let change = Change {
            object: ObjectRef {
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "web".into(),
                uid: "u".into(),
            },
            time: "2026-11-26T10:01:10Z".parse().unwrap_or_default(),
            manager: Some("kube-controller-manager".into()),
            operation: Some("Update".into()),
            subresource: Some("scale".into()),
            revision: Some(1),
            before_trace: false,
            fields,
            kind,
            evidence: ChangeEvidence {
                record_line: Some(3),
                resource_version: Some("7".into()),
                generation: Some(2),
                attribution: String::new(),
                confidence: Confidence::High,
            },
            request: Default::default(),
        };
        ChangeEntry {
            change,
            generation: Some(2),
            resource_version: Some("7".into()),
            new_revision: None,
            rollback_to_revision: None,
        }
    }

    fn field(path: &str, from: serde_json::Value, to: serde_json::Value) -> FieldChange {
        FieldChange {
            path: FieldPath::parse(path).unwrap_or_default(),
            from,
            to,
        }
    }

    #[test]
    fn a_change_reads_as_one_line_with_the_revision_it_made() {
        let scale = entry(
            ChangeKind::Scale,
            vec![field("spec.replicas", json!(2), json!(4))],
        );
        assert_eq!(
            change_summary(&scale, None),
            "10:01:10  kube-controller-manager (Update /scale)  scale  spec.replicas 2 → 4"
        );
        let image = "spec.template.spec.containers[name=web].image";
        let mut undo = entry(
            ChangeKind::Template,
            vec![
                field(image, json!("web:2"), json!("web:1")),
                field("metadata.labels.team", json!(null), json!("a")),
            ],
        );
        undo.change.subresource = None;
        undo.new_revision = Some(3);
        undo.rollback_to_revision = Some(1);
        assert_eq!(
            change_summary(&undo, None),
            format!("10:01:10  kube-controller-manager (Update)  template  {image} web:2 → web:1 (+1 field)  → revision 3, rollback to revision 1")
        );
    }
}
