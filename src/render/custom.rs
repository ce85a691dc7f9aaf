//! Text of `analyze --object KIND.GROUP/NAME` for a custom resource.

use std::io::{self, Write};

use crate::query::custom::CustomReport;

/// Writes a custom resource's report as text.
pub fn text<W: Write>(report: &CustomReport, out: &mut W) -> io::Result<()> {
    let o = &report.object;
    let generation = |g: Option<i64>| g.map_or("?".to_string(), |g| g.to_string());
    writeln!(
        out,
        "{}.{} {}/{} at {}: {} (kstatus: {})",
        o.kind.to_lowercase(),
        report.group,
        o.namespace,
        o.name,
        report.at,
        report.verdict,
        report.kstatus_reason
    )?;
    writeln!(
        out,
        "  generation {}, observed {}",
        generation(report.generation),
        generation(report.observed_generation)
    )?;
    if let Some(change) = &report.spec_change {
        let generation = change
            .evidence
            .generation
            .map(|g| format!(" to generation {g}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  spec change{generation}{}:",
            super::rollout::line_note(change.evidence.record_line)
        )?;
        super::rollout::change_lines(change, Some(super::day_of(report.at)), out)?;
    }
    for c in &report.conditions {
        write!(out, "  condition {}={}", c.kind, c.status)?;
        if let Some(reason) = &c.reason {
            write!(out, " ({reason})")?;
        }
        writeln!(out, " since line {}", c.first_seen_line)?;
    }
    for pod in &report.pods {
        write!(
            out,
            "  pod {} {} ready={} restarts={} via {}",
            pod.name,
            pod.phase,
            pod.ready,
            pod.restarts,
            pod.via.join(" → ")
        )?;
        match (&pod.last_terminated_reason, pod.last_exit_code) {
            (Some(r), Some(code)) => write!(out, " (last {r}, exit {code})")?,
            (None, Some(code)) => write!(out, " (last exit {code})")?,
            (Some(r), None) => write!(out, " (last {r})")?,
            (None, None) => {}
        }
        writeln!(out)?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}
