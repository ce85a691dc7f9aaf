//! Text of `analyze --object statefulset/NAME` and `daemonset/NAME`: the verdict first, the
//! halt of a StatefulSet's update, then each revision with its evidence and pods, as the
//! Deployment rollout text does.

use std::io::{self, Write};

use super::rollout::{change_lines, line_note, Paint};
use super::{day_of, when};
use crate::query::sets::{OrderedUpdate, SetReport};

/// Writes a StatefulSet or DaemonSet report as text.
pub fn text<W: Write>(report: &SetReport, out: &mut W, color: bool) -> io::Result<()> {
    let paint = Paint(color);
    let day = report.trace_start.map(day_of);
    let object = &report.object;
    writeln!(
        out,
        "{} {}/{}  {} at {}: {}",
        object.kind.to_lowercase(),
        object.namespace,
        object.name,
        paint.outcome(report.verdict),
        when(report.at, day),
        report.status_message
    )?;
    if let Some(owner) = &report.controlled_by {
        writeln!(
            out,
            "  controlled by {} {}/{}",
            owner.kind.to_lowercase(),
            owner.namespace,
            owner.name
        )?;
    }
    if let Some(ordered) = &report.ordered {
        ordered_lines(ordered, out)?;
    }
    for revision in &report.revisions {
        write!(
            out,
            "  revision {}  {}  {}",
            revision.number,
            revision.controller_revision.name,
            paint.outcome(revision.outcome)
        )?;
        if let Some(since) = revision.failing_since {
            write!(out, ", failing since {}", when(since, day))?;
        }
        let ready = revision.pods.iter().filter(|p| p.ready).count();
        writeln!(out, "  ({ready}/{} ready)", revision.pods.len())?;
        if let Some(change) = &revision.change {
            change_lines(change, day, out)?;
        }
        for item in revision.evidence.iter().take(6) {
            writeln!(
                out,
                "    {} {}{}",
                paint.dim(&when(item.time, day)),
                item.text,
                paint.dim(&line_note(item.line))
            )?;
        }
        for pod in &revision.pods {
            let ready = if pod.ready { "ready" } else { "not ready" };
            let exit = match (&pod.last_exit_code, &pod.last_terminated_reason) {
                (Some(code), Some(reason)) => format!(", last exit {code} ({reason})"),
                (Some(code), None) => format!(", last exit {code}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "    pod {} ({})  {} {ready}, {} restarts{exit}",
                pod.name, pod.uid, pod.phase, pod.restarts
            )?;
        }
    }
    let serving: Vec<String> = report
        .serving_revisions
        .iter()
        .map(|n| format!("revision {n}"))
        .collect();
    if serving.is_empty() {
        writeln!(out, "serving: nothing (no ready pods)")?;
    } else {
        writeln!(out, "serving: {}", serving.join(", "))?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn joined(ordinals: &[i64]) -> String {
    ordinals
        .iter()
        .map(|o| o.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The halt, the ordinals the update has not reached, and those the partition holds.
fn ordered_lines<W: Write>(ordered: &OrderedUpdate, out: &mut W) -> io::Result<()> {
    let ordinals = ordered.not_updated_ordinals.as_deref().map(joined);
    match (ordered.rollout_halted, ordinals) {
        (Some(true), Some(ordinals)) => writeln!(
            out,
            "halted: the updated pod the rolling update reached is not Running and Ready; ordinals not updated: {ordinals}"
        )?,
        (_, Some(ordinals)) if !ordinals.is_empty() && ordered.on_delete => writeln!(
            out,
            "ordinals not updated: {ordinals} (OnDelete: each is updated when someone deletes its pod)"
        )?,
        (_, Some(ordinals)) if !ordinals.is_empty() => {
            writeln!(out, "ordinals not updated: {ordinals}")?
        }
        (_, None) => writeln!(
            out,
            "ordinals not updated: unknown (the update revision or a pod's revision is unknown)"
        )?,
        _ => {}
    }
    if let (Some(held), Some(from)) = (&ordered.partition_held_ordinals, ordered.updated_from) {
        if !held.is_empty() {
            writeln!(
                out,
                "held by the partition: ordinals {} stay at their revision as intended (the rolling update replaces ordinals {from} and up)",
                joined(held)
            )?;
        }
    }
    Ok(())
}
