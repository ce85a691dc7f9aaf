//! Text of `kblame report`: the trace's warnings first, the one-line verdict, what the
//! trace covers, then each listed workload with its blame, failing pods and evidence.

use std::io::{self, Write};

use jiff::civil::Date;

use super::rollout::{line_note, manager_and_operation};
use super::value::write_field;
use super::{day_of, duration_words, truncate, when};
use crate::graph::{Change, ChangeKind, Confidence};
use crate::query::report::{PodGroup, Report, WorkloadReport};

/// How many evidence records a workload shows in text; the JSON has them all.
const MAX_EVIDENCE: usize = 6;

/// How many fields of a blamed change text shows.
const MAX_FIELDS: usize = 4;

/// Writes the report as text.
pub fn text<W: Write>(report: &Report, out: &mut W) -> io::Result<()> {
    let day = report.trace.start.map(day_of);
    // What the trace cannot show comes before any verdict: a gap or a cut makes it partial.
    for warning in &report.trace.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    writeln!(out, "{}", verdict_line(report))?;
    writeln!(out, "{}", coverage_line(report, day))?;
    for workload in &report.workloads {
        writeln!(out)?;
        workload_block(workload, day, out)?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

/// `failed: 1 workload failed, 0 failing, 0 changed and healthy; 3 healthy and unchanged`.
pub fn verdict_line(report: &Report) -> String {
    let ok = report.count("ok");
    format!(
        "{}: {} failed, {} failing, {ok} changed and healthy; {} healthy and unchanged (not listed)",
        report.verdict,
        report.count("failed"),
        report.count("failing"),
        report.healthy_unchanged
    )
}

/// `trace 16:00:00 → 16:15:00 (15 min), whole; judged at 16:15:00`.
pub fn coverage_line(report: &Report, day: Option<Date>) -> String {
    let trace = &report.trace;
    let span = match (trace.start, trace.end) {
        (Some(start), Some(end)) => format!(
            "{} → {} ({})",
            start.strftime("%Y-%m-%d %H:%M:%S"),
            when(end, day),
            duration_words(end.duration_since(start).as_secs())
        ),
        _ => "with no records".to_string(),
    };
    let whole = match trace.whole {
        true => "whole".to_string(),
        false => "NOT whole".to_string(),
    };
    let mut line = format!(
        "trace {span}, {whole}: {} gap(s), {} re-list(s){}",
        trace.gaps,
        trace.relists,
        if trace.ended { "" } else { ", no END record" }
    );
    if Some(report.since) != trace.start || Some(report.until) != trace.end {
        line.push_str(&format!(
            "; window {} → {}",
            when(report.since, day),
            when(report.until, day)
        ));
    }
    if let Some(namespace) = &report.namespace {
        line.push_str(&format!("; namespace {namespace}"));
    }
    line
}

/// `deployment shop/web`.
pub fn object_name(workload: &WorkloadReport) -> String {
    let o = &workload.object;
    match o.namespace.is_empty() {
        true => format!("{} {}", o.kind.to_lowercase(), o.name),
        false => format!("{} {}/{}", o.kind.to_lowercase(), o.namespace, o.name),
    }
}

/// The verdict with its reason: `failed: ProgressDeadlineExceeded: …`.
pub fn verdict_text(workload: &WorkloadReport) -> String {
    let status = match (workload.status, workload.verdict) {
        ("failing", verdict) => format!("{verdict}, failing"),
        (_, verdict) => verdict.to_string(),
    };
    match &workload.reason {
        Some(reason) => format!("{status}: {reason}"),
        None => status,
    }
}

/// What a change did, in a few words: `revision 2` (true: it made that revision), or
/// `deployment shop/web scaled`, `configmap shop/cart created`, `… changed` (false).
pub fn change_subject(change: &Change) -> (String, bool) {
    let o = &change.object;
    let object = match o.namespace.is_empty() {
        true => format!("{} {}", o.kind.to_lowercase(), o.name),
        false => format!("{} {}/{}", o.kind.to_lowercase(), o.namespace, o.name),
    };
    match (change.kind, change.revision) {
        (ChangeKind::Template | ChangeKind::Create, Some(n)) => (format!("revision {n}"), true),
        (ChangeKind::Create, None) => (format!("{object} created"), false),
        (ChangeKind::Scale, _) => (format!("{object} scaled"), false),
        _ => (format!("{object} changed"), false),
    }
}

/// `revision 2 made 16:02:11 by kubectl-client-side-apply (Update)`, or `configmap shop/cart
/// changed 10:02:00 by helm (Update)` for a change that made no revision.
pub fn change_headline(change: &Change, day: Option<Date>) -> String {
    let what = match change_subject(change) {
        (subject, true) => format!("{subject} made"),
        (subject, false) => subject,
    };
    let who = manager_and_operation(change);
    let user = change
        .request
        .user
        .as_deref()
        .map(|u| format!(", user {u}"))
        .unwrap_or_default();
    format!("{what} {} by {who}{user}", when(change.time, day))
}

/// `revision 2: 3 pod(s) CrashLoopBackOff, last exit 1 (Error), 7 restarts: a, b, c`.
pub fn group_line(group: &PodGroup) -> String {
    format!(
        "{}{} pod(s) {}: {}",
        revision_prefix(group),
        group.pods.len(),
        group_text(group),
        group.pods.join(", ")
    )
}

/// `CrashLoopBackOff, last exit 1 (Error), 7 restarts`.
pub fn group_text(group: &PodGroup) -> String {
    let mut text = group.reason.clone();
    match (group.last_exit_code, &group.last_reason) {
        (Some(code), Some(reason)) => text.push_str(&format!(", last exit {code} ({reason})")),
        (Some(code), None) => text.push_str(&format!(", last exit {code}")),
        (None, Some(reason)) => text.push_str(&format!(", last {reason}")),
        (None, None) => {}
    }
    if group.restarts > 0 {
        text.push_str(&format!(", {} restarts", group.restarts));
    }
    for probe in &group.probe_failures {
        text.push_str(&format!(
            ", {} probe failed {}× (`{}`)",
            probe.probe,
            probe.count,
            truncate(&probe.message, 100)
        ));
    }
    if let Some(message) = &group.scheduling_message {
        text.push_str(&format!(" `{}`", truncate(message, 160)));
    }
    text
}

/// `revision 2: ` or nothing.
pub fn revision_prefix(group: &PodGroup) -> String {
    group
        .revision
        .map(|n| format!("revision {n}: "))
        .unwrap_or_default()
}

/// `high`, `medium` or `low`.
pub fn confidence_word(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

fn workload_block<W: Write>(w: &WorkloadReport, day: Option<Date>, out: &mut W) -> io::Result<()> {
    writeln!(out, "{}  {}", object_name(w), verdict_text(w))?;
    if let Some(since) = w.failing_since {
        writeln!(out, "  failing since {}", when(since, day))?;
    }
    match &w.blamed_change {
        Some(change) => blamed(change, day, out)?,
        None => changes(w, day, out)?,
    }
    if !w.pod_groups.is_empty() {
        writeln!(out, "  failing pods:")?;
    }
    for group in &w.pod_groups {
        writeln!(out, "    {}", group_line(group))?;
    }
    evidence(w, day, out)?;
    for cause in &w.root_causes {
        writeln!(
            out,
            "  root cause: {} at {} [{} confidence]",
            cause.summary,
            when(cause.time, day),
            confidence_word(cause.confidence)
        )?;
        writeln!(out, "    evidence: {}", cause.evidence)?;
    }
    if !w.serving_revisions.is_empty() {
        let serving: Vec<String> = w
            .serving_revisions
            .iter()
            .map(|n| format!("revision {n}"))
            .collect();
        writeln!(out, "  serving: {}", serving.join(", "))?;
    }
    Ok(())
}

fn blamed<W: Write>(change: &Change, day: Option<Date>, out: &mut W) -> io::Result<()> {
    writeln!(out, "  blamed: {}", change_headline(change, day))?;
    for field in change.fields.iter().take(MAX_FIELDS) {
        let path = field.path.to_string();
        write_field(out, "    ", &path, &field.from, &field.to, false)?;
    }
    if change.fields.len() > MAX_FIELDS {
        writeln!(
            out,
            "    … {} more fields",
            change.fields.len() - MAX_FIELDS
        )?;
    }
    writeln!(out, "    {}", attribution_line(change))
}

/// `evidence: managedFields entry … [high confidence]`: what a change's attribution rests on.
pub fn attribution_line(change: &Change) -> String {
    format!(
        "evidence: {} [{} confidence]",
        change.evidence.attribution,
        confidence_word(change.evidence.confidence)
    )
}

fn changes<W: Write>(w: &WorkloadReport, day: Option<Date>, out: &mut W) -> io::Result<()> {
    if let Some(last) = w.changes.last() {
        writeln!(
            out,
            "  {} change(s) in the window; last: {}",
            w.changes.len(),
            change_headline(last, day)
        )?;
    }
    Ok(())
}

fn evidence<W: Write>(w: &WorkloadReport, day: Option<Date>, out: &mut W) -> io::Result<()> {
    if !w.evidence.is_empty() {
        writeln!(out, "  evidence:")?;
    }
    for item in w.evidence.iter().take(MAX_EVIDENCE) {
        writeln!(
            out,
            "    {} {}{}",
            when(item.time, day),
            item.text,
            line_note(item.line)
        )?;
    }
    if w.evidence.len() > MAX_EVIDENCE {
        writeln!(
            out,
            "    … {} more (--format json lists them)",
            w.evidence.len() - MAX_EVIDENCE
        )?;
    }
    Ok(())
}
