//! Text of the Job and CronJob object reports.

use std::io::{self, Write};

use jiff::civil::Date;

use super::{day_of, when};
use crate::graph::Change;
use crate::query::batch::{CronJobReport, JobReport};

/// Writes a Job report as text.
pub fn job_text<W: Write>(report: &JobReport, out: &mut W) -> io::Result<()> {
    let day = report.trace_start.map(day_of);
    let o = &report.object;
    write!(
        out,
        "job {}/{} at {}: {}",
        o.namespace,
        o.name,
        when(report.at, day),
        report.verdict
    )?;
    if let Some(reason) = &report.reason {
        write!(out, " ({reason})")?;
    }
    writeln!(out, ", {} failed pod(s)", report.failed_pods)?;
    for pod in &report.pods {
        write!(out, "  {:<10} {} {}", pod.reason, pod.name, pod.phase)?;
        match (&pod.last_terminated_reason, pod.last_exit_code) {
            (Some(r), Some(code)) => write!(out, " ({r}, exit {code})")?,
            (None, Some(code)) => write!(out, " (exit {code})")?,
            (Some(r), None) => write!(out, " ({r})")?,
            (None, None) => {}
        }
        writeln!(out)?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

/// Writes a CronJob report as text.
pub fn cronjob_text<W: Write>(report: &CronJobReport, out: &mut W) -> io::Result<()> {
    let day = report.trace_start.map(day_of);
    let o = &report.object;
    write!(
        out,
        "cronjob {}/{} at {}: {} run(s)",
        o.namespace,
        o.name,
        when(report.at, day),
        report.jobs.len()
    )?;
    if report.suspended {
        write!(out, ", suspended")?;
    }
    match &report.last_successful_time {
        Some(t) => writeln!(out, "; last successful {t}")?,
        None => writeln!(out, "; no successful run recorded in its status")?,
    }
    for job in &report.jobs {
        let scheduled = job
            .scheduled_time
            .map_or("unscheduled".to_string(), |t| when(t, day));
        write!(out, "  {scheduled}  {}  {}", job.name, job.verdict)?;
        if let Some(reason) = &job.reason {
            write!(out, " ({reason})")?;
        }
        match &job.template_change {
            Some(c) => writeln!(out, "  template of {}", when(c.time, day))?,
            None => writeln!(out)?,
        }
    }
    match &report.failing_since_change {
        Some(change) => {
            writeln!(
                out,
                "failing since the jobTemplate change of {}; earlier runs completed:",
                when(change.time, day)
            )?;
            change_lines(change, day, out)?;
        }
        None => writeln!(
            out,
            "no jobTemplate change is blamed: no run failed after an earlier run with an older template completed"
        )?,
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn change_lines<W: Write>(change: &Change, day: Option<Date>, out: &mut W) -> io::Result<()> {
    let who = match (&change.manager, &change.operation) {
        (Some(m), Some(op)) => format!("{m} ({op})"),
        (Some(m), None) => m.clone(),
        _ => "an unknown manager".to_string(),
    };
    writeln!(out, "  by {who} at {}:", when(change.time, day))?;
    for field in &change.fields {
        super::value::write_field(
            out,
            "    ",
            &field.path.to_string(),
            &field.from,
            &field.to,
            false,
        )?;
    }
    writeln!(out, "    evidence: {}", change.evidence.attribution)?;
    Ok(())
}
