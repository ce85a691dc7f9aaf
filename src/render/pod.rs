//! Text rendering of the pod report: an answer in a few lines, with the evidence under each claim.

use std::io::{self, Write};

use jiff::civil::Date;

use super::value::write_field;
use super::{day_of, when};
use crate::cause::{Cause, CauseKind};
use crate::graph::Change;
use crate::query::pod::PodReport;

/// How many injected fields the text lists before counting the rest.
const LISTED_MUTATIONS: usize = 12;

/// How many restart times are listed before eliding.
const LISTED_RESTARTS: usize = 3;

/// Writes the pod report as text.
pub fn text<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    headline(report, out)?;
    created(report, out)?;
    job(report, out)?;
    restarts(report, out)?;
    ending(report, out)?;
    admission(report, out)?;
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

fn headline<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    let pod = &report.pod;
    write!(out, "pod {}/{}", pod.namespace, pod.name)?;
    let number = report.revision.as_ref().and_then(|r| r.number);
    // The workload numbering the revision: a Deployment above a ReplicaSet, or the owner of a
    // ControllerRevision (a StatefulSet, a DaemonSet: the pod's own controller).
    let cr = report
        .revision
        .as_ref()
        .and_then(|r| r.controller_revision.as_ref());
    let owner = report
        .lineage
        .iter()
        .find(|l| l.kind == "Deployment")
        .or_else(|| cr.and_then(|_| report.lineage.get(1)));
    match (number, owner) {
        (Some(n), Some(d)) => write!(
            out,
            "  revision {n} of {} {}/{}",
            d.kind.to_lowercase(),
            d.namespace,
            d.name
        )?,
        (None, Some(d)) => write!(
            out,
            "  of {} {}/{} (revision unknown)",
            d.kind.to_lowercase(),
            d.namespace,
            d.name
        )?,
        _ => {
            let chain: Vec<String> = report
                .lineage
                .iter()
                .skip(1)
                .map(|l| format!("{} {}", l.kind.to_lowercase(), l.name))
                .collect();
            if chain.is_empty() {
                write!(out, "  bare pod (no controller)")?;
            } else {
                write!(out, "  owned by {}", chain.join(" ← "))?;
            }
        }
    }
    // Controllers above the workload (an operator's resource above its StatefulSet).
    if let Some(d) = owner {
        let above: Vec<String> = report
            .lineage
            .iter()
            .skip_while(|l| l.uid != d.uid)
            .skip(1)
            .map(|l| format!("{} {}", l.kind.to_lowercase(), l.name))
            .collect();
        if !above.is_empty() {
            write!(out, " ← {}", above.join(" ← "))?;
        }
    }
    writeln!(out)?;
    let mut identity = Vec::new();
    if let Some(cr) = cr {
        identity.push(format!(
            "controller revision {} (hash {})",
            cr.name, cr.hash
        ));
    }
    if let Some(ordinal) = report.ordinal {
        identity.push(format!("ordinal {ordinal}"));
    }
    if let Some(generation) = &report.pod_template_generation {
        identity.push(format!("pod-template-generation {generation}"));
    }
    if !identity.is_empty() {
        writeln!(out, "  {}", identity.join(", "))?;
    }
    let carrier = if cr.is_some() {
        "ControllerRevision"
    } else {
        "ReplicaSet"
    };
    if let Some(current) = report
        .revision
        .as_ref()
        .and_then(|r| r.current_number)
        .filter(|c| Some(*c) != number)
    {
        writeln!(
            out,
            "  (its {carrier} is now revision {current} after a rollback)"
        )?;
    }
    Ok(())
}

/// The day the report's times are read against: the trace's.
fn context(report: &PodReport) -> Option<Date> {
    report.trace_start.map(day_of)
}

fn created<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    let c = &report.created;
    let day = context(report);
    let when = c
        .time
        .map(|t| when(t, day))
        .unwrap_or_else(|| "at an unknown time".to_string());
    let number = report.revision.as_ref().and_then(|r| r.number);
    match c.reason {
        "rollout" => {
            let number = number.map_or("?".to_string(), |n| n.to_string());
            match &c.replaced {
                // A StatefulSet or DaemonSet pod made in place of an older revision's pod.
                Some(old) => {
                    writeln!(
                        out,
                        "created {when} by the rollout of revision {number}, in place of {} ({})",
                        old.name, old.uid
                    )?;
                    writeln!(out, "  evidence: {}", c.evidence)?;
                }
                None => writeln!(out, "created {when} by the rollout of revision {number}")?,
            }
        }
        "scale-up" => writeln!(out, "created {when} by a scale-up")?,
        "replacement" => {
            let old = c.replaced.as_ref().map_or("a pod", |p| p.name.as_str());
            writeln!(out, "created {when} as the replacement of {old}")?;
        }
        "job-start" => writeln!(out, "created {when} to start its Job's run")?,
        "job-retry" => {
            let old = c.replaced.as_ref().map_or("a pod", |p| p.name.as_str());
            writeln!(out, "created {when} as a retry after {old} failed")?
        }
        _ => writeln!(out, "created {when}; why is unknown: {}", c.evidence)?,
    }
    let revision_change = report.revision.as_ref().and_then(|r| r.change.as_ref());
    match (c.reason, &c.change) {
        ("scale-up", Some(change)) => change_block(change, "scaled", day, out)?,
        (_, Some(change)) => change_block(change, "made", day, out)?,
        (_, None) => {
            if let Some(change) = revision_change {
                change_block(change, "made", day, out)?;
            }
        }
    }
    match &c.root_cause {
        Some(cause) => cause_block(cause, "root cause", day, out),
        None => Ok(()),
    }
}

/// A Job's pod: its run and how the run ended.
fn job<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    let Some(job) = &report.job else {
        return Ok(());
    };
    let day = context(report);
    write!(out, "job {}", job.name)?;
    if let Some(cronjob) = &job.cronjob {
        write!(out, " of cronjob {cronjob}")?;
        match job.scheduled_time {
            Some(t) => write!(out, ", scheduled {}", when(t, day))?,
            None => write!(out, ", scheduled time unknown")?,
        }
    }
    let o = &job.outcome;
    write!(out, ": {}", o.status)?;
    if let Some(reason) = &o.reason {
        write!(out, " ({reason})")?;
    }
    writeln!(out, ", {} failed pod(s)", o.failed_pods)?;
    let Some(t) = &report.terminated else {
        return Ok(());
    };
    let how = match (&t.reason, t.exit_code) {
        (Some(r), Some(code)) => format!("{r}, exit {code}"),
        (Some(r), None) => r.clone(),
        (None, Some(code)) => format!("exit {code}"),
        (None, None) => "no exit code recorded".to_string(),
    };
    writeln!(
        out,
        "this pod {} {} ({how}; line {})",
        match t.phase.as_str() {
            "Succeeded" => "succeeded",
            _ => "failed",
        },
        when(t.time, day),
        t.line
    )?;
    if let Some(change) = &report.failure_cause {
        let shown = report.created.change.as_ref() == Some(change);
        writeln!(
            out,
            "  failure blamed on the jobTemplate change{}: earlier runs completed with the old template",
            if shown { " above" } else { "" }
        )?;
        if !shown {
            change_block(change, "changed", day, out)?;
        }
    }
    Ok(())
}

fn change_block<W: Write>(
    change: &Change,
    verb: &str,
    day: Option<Date>,
    out: &mut W,
) -> io::Result<()> {
    let revision = match (change.revision, change.object.kind.as_str()) {
        (None, kind @ ("Job" | "CronJob")) => {
            format!("{} {}'s template", kind.to_lowercase(), change.object.name)
        }
        (number, _) => format!(
            "revision {}",
            number.map_or("?".to_string(), |n| n.to_string())
        ),
    };
    let who = match (&change.manager, &change.operation) {
        (Some(m), Some(op)) => match &change.subresource {
            Some(sub) => format!("{m} ({op}, /{sub})"),
            None => format!("{m} ({op})"),
        },
        (Some(m), None) => m.clone(),
        _ => "an unknown manager".to_string(),
    };
    let before = if change.before_trace {
        ", before the trace began"
    } else {
        ""
    };
    writeln!(
        out,
        "  {revision} {verb} {} by {who}{before}:",
        when(change.time, day)
    )?;
    if change.fields.is_empty() {
        writeln!(
            out,
            "    (created {}; no earlier version to compare)",
            change.object.name
        )?;
    }
    for field in &change.fields {
        let path = field.path.to_string();
        write_field(out, "    ", &path, &field.from, &field.to, false)?;
    }
    writeln!(
        out,
        "    evidence: {} [{} confidence]",
        change.evidence.attribution,
        confidence_word(change)
    )?;
    Ok(())
}

fn confidence_word(change: &Change) -> &'static str {
    confidence_text(change.evidence.confidence)
}

fn confidence_text(confidence: crate::graph::Confidence) -> &'static str {
    match confidence {
        crate::graph::Confidence::High => "high",
        crate::graph::Confidence::Medium => "medium",
        crate::graph::Confidence::Low => "low",
    }
}

fn restarts<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    if report.restarts.is_empty() {
        if report.restarts_before_trace.is_empty() {
            writeln!(out, "no restarts seen")?;
        }
        return blame(report, out);
    }
    let day = context(report);
    let mut groups: Vec<(String, String, Option<i64>, Vec<String>)> = Vec::new();
    for r in &report.restarts {
        match groups
            .iter_mut()
            .find(|g| g.0 == r.container && g.1 == r.reason && g.2 == r.exit_code)
        {
            Some(group) => group.3.push(when(r.time, day)),
            None => groups.push((
                r.container.clone(),
                r.reason.clone(),
                r.exit_code,
                vec![when(r.time, day)],
            )),
        }
    }
    // Lead with the most likely cause when it lies outside the template (whose blame has its
    // own line): when the failures began, and how long after it.
    let lead = report
        .restart_causes
        .first()
        .filter(|c| c.kind != CauseKind::Template)
        .zip(report.restarts.first());
    match lead {
        Some((cause, first)) => {
            let began = first.finished_at.unwrap_or(first.time).min(first.time);
            let after = cause.time.duration_until(began).as_secs().max(0);
            let by = cause
                .change
                .as_ref()
                .and_then(|c| c.manager.as_deref())
                .map_or(String::new(), |m| format!(" ({m})"));
            writeln!(
                out,
                "restarted {}× since {}, {} after {}{by}:",
                report.restarts.len(),
                when(began, day),
                crate::render::duration_words(after),
                cause.summary
            )?
        }
        None => writeln!(out, "restarted {}×:", report.restarts.len())?,
    }
    for (container, reason, exit, times) in groups {
        let how = match (reason.as_str(), exit) {
            ("LivenessProbe", _) => "killed by its liveness probe".to_string(),
            ("StartupProbe", _) => "killed by its startup probe".to_string(),
            (reason, Some(code)) => format!("exited {code} ({reason})"),
            (reason, None) => format!("stopped ({reason})"),
        };
        let mut listed: Vec<String> = times.iter().take(LISTED_RESTARTS).cloned().collect();
        if times.len() > LISTED_RESTARTS {
            listed.push("…".to_string());
        }
        writeln!(
            out,
            "  container {container} {how} ×{} at {}",
            times.len(),
            listed.join(", ")
        )?;
    }
    blame(report, out)
}

fn blame<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    causes(report, out)?;
    let Some(evidence) = &report.restart_evidence else {
        return Ok(());
    };
    match &report.restart_cause {
        Some(change) => writeln!(
            out,
            "  blamed on revision {}'s change: {}",
            change.revision.map_or("?".to_string(), |n| n.to_string()),
            evidence.text
        ),
        // The revision comparison's verdict, under a cause from outside the template, is only
        // about the template: said so, lest "cannot tell" read as about the cause above.
        None if report
            .restart_causes
            .iter()
            .any(|c| c.kind != CauseKind::Template) =>
        {
            let why = evidence
                .text
                .trim_start_matches("cannot tell what caused the restarts: ");
            writeln!(out, "  the revision's change is not blamed: {why}")
        }
        None => writeln!(out, "  {}", evidence.text),
    }
}

/// Causes other than the revision's change, most likely first; the revision's change keeps its
/// own line below.
fn causes<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    let day = context(report);
    for (rank, cause) in report.restart_causes.iter().enumerate() {
        if cause.kind == CauseKind::Template {
            continue;
        }
        let lead = match rank {
            0 => "most likely cause",
            _ => "also possible",
        };
        cause_block(cause, lead, day, out)?;
    }
    Ok(())
}

/// `  LEAD: ConfigMap ns/name changed 10:02:00 [high confidence]`, the changed fields and the
/// evidence.
fn cause_block<W: Write>(
    cause: &Cause,
    lead: &str,
    day: Option<Date>,
    out: &mut W,
) -> io::Result<()> {
    writeln!(
        out,
        "  {lead}: {} at {} [{} confidence]",
        cause.summary,
        when(cause.time, day),
        confidence_text(cause.confidence)
    )?;
    if let Some(change) = &cause.change {
        for field in &change.fields {
            let path = field.path.to_string();
            write_field(out, "    ", &path, &field.from, &field.to, false)?;
        }
    }
    writeln!(out, "    evidence: {}", cause.evidence)
}

/// `  root cause: …`: what lies behind a creation or deletion.
fn root_cause<W: Write>(cause: &Cause, day: Option<Date>, out: &mut W) -> io::Result<()> {
    cause_block(cause, "root cause", day, out)
}

/// `pending, container web waiting: ImagePullBackOff`.
fn describe(state: &crate::workload::pod::PodState) -> String {
    let containers: Vec<String> = state
        .containers
        .iter()
        .map(|(name, what)| format!("container {name} {what}"))
        .collect();
    if containers.is_empty() {
        state.phase.to_lowercase()
    } else {
        format!("{}, {}", state.phase.to_lowercase(), containers.join(", "))
    }
}

fn ending<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    let day = context(report);
    match &report.deleted {
        Some(d) => {
            let why = match d.reason {
                "rollout" => format!(
                    "for the rollout of revision {}",
                    d.change
                        .as_ref()
                        .and_then(|c| c.revision)
                        .map_or("?".to_string(), |n| n.to_string())
                ),
                "scale-down" => "by a scale-down".to_string(),
                "external-delete" => "by someone outside the controllers".to_string(),
                "cascade-delete" => "because its owner was deleted".to_string(),
                "evicted" => "by eviction".to_string(),
                "preempted" => "by preemption".to_string(),
                "taint-eviction" => {
                    "by the taint manager (its node's NoExecute taint outlasted the pod's toleration)"
                        .to_string()
                }
                _ => "for an unknown reason".to_string(),
            };
            let at = if d.time_exact {
                when(d.time, day)
            } else {
                format!("by {} (unseen: its watch was down)", when(d.time, day))
            };
            writeln!(out, "went away {at} {why}")?;
            writeln!(out, "  evidence: {}", d.evidence)?;
            if let Some(cause) = &d.root_cause {
                root_cause(cause, day, out)?;
            }
            if let Some(budget) = &d.disruption_budget {
                writeln!(out, "  disruption budget: {}", budget.evidence)?;
            }
            if let Some(state) = d.state_before.as_ref().filter(|s| !s.ready) {
                writeln!(out, "  it was not ready then: {}", describe(state))?;
            }
            if let Some(change) = &d.change {
                change_block(
                    change,
                    if d.reason == "scale-down" {
                        "scaled"
                    } else {
                        "made"
                    },
                    day,
                    out,
                )?;
            }
            match &d.replaced_by {
                // A StatefulSet pod's replacement keeps its name: tell them apart by UID.
                Some(next) if next.name == report.pod.name => {
                    writeln!(out, "  replaced by {} ({})", next.name, next.uid)?
                }
                Some(next) => writeln!(out, "  replaced by {}", next.name)?,
                None => {}
            }
        }
        None if report.job.is_some() && report.terminated.is_some() => writeln!(
            out,
            "kept by its Job after it ended, not deleted (last record {}, line {})",
            when(report.state.time, day),
            report.state.line
        )?,
        None => {
            let state = &report.state.state;
            let waiting: Vec<String> = state
                .containers
                .values()
                .filter_map(|s| s.strip_prefix("waiting: ").map(str::to_string))
                .collect();
            let detail = if waiting.is_empty() {
                if state.ready {
                    "ready".to_string()
                } else {
                    "not ready".to_string()
                }
            } else {
                waiting.join(", ")
            };
            write!(
                out,
                "still {} ({detail}) when the trace ends (last record {}, line {}{})",
                state.phase.to_lowercase(),
                when(report.state.time, day),
                report.state.line,
                match &report.state.written_by {
                    Some(who) => format!(": {who}"),
                    None => String::new(),
                }
            )?;
            let serving: Vec<String> = report
                .serving
                .iter()
                .map(|s| {
                    format!(
                        "revision {} serves {}/{}",
                        s.revision.map_or("?".to_string(), |n| n.to_string()),
                        s.ready,
                        s.desired
                    )
                })
                .collect();
            if !serving.is_empty() {
                write!(out, "; {}", serving.join(", "))?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

/// What webhooks injected or changed, each with who did it; said only when something was.
fn admission<W: Write>(report: &PodReport, out: &mut W) -> io::Result<()> {
    let m = &report.mutations;
    if m.injected.is_empty() && m.modified.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "not from its template: {} injected, {} changed (built-in admission and its controller added {} more)",
        m.injected.len(),
        m.modified.len(),
        m.builtin_admission.len()
    )?;
    let by = |webhook: &Option<String>, configuration: &Option<String>, inferred: bool| match (
        webhook,
        configuration,
    ) {
        (Some(w), Some(c)) if inferred => format!("  by {w} ({c})? inferred"),
        (Some(w), Some(c)) => format!("  by {w} ({c})"),
        _ => "  by an unknown mutator".to_string(),
    };
    // The evidence once per source, without the patch operation each path came from (in JSON).
    let mut evidence: Vec<&str> = Vec::new();
    let all = m
        .injected
        .iter()
        .map(|i| i.evidence.as_str())
        .chain(m.modified.iter().map(|c| c.evidence.as_str()));
    for e in all {
        let e = e.split(", whose patch did").next().unwrap_or(e);
        if !evidence.contains(&e) {
            evidence.push(e);
        }
    }
    for i in m.injected.iter().take(LISTED_MUTATIONS) {
        let who = by(&i.webhook, &i.configuration, i.inferred);
        writeln!(out, "  + {}{who}", i.path)?;
    }
    if m.injected.len() > LISTED_MUTATIONS {
        writeln!(
            out,
            "  … and {} more injected (-o json lists them)",
            m.injected.len() - LISTED_MUTATIONS
        )?;
    }
    for c in &m.modified {
        write_field(out, "  ~ ", &c.path.to_string(), &c.from, &c.to, false)?;
        writeln!(out, "   {}", by(&c.webhook, &c.configuration, c.inferred))?;
    }
    for e in evidence {
        writeln!(out, "  evidence: {e}")?;
    }
    if let Some(calls) = &m.webhooks_called {
        let listed: Vec<String> = calls
            .iter()
            .map(|c| {
                format!(
                    "{} ({}, round {}: {})",
                    c.webhook,
                    c.configuration,
                    c.round,
                    if c.mutated { "mutated" } else { "no change" }
                )
            })
            .collect();
        writeln!(out, "  webhooks called: {}", listed.join(", "))?;
    }
    if let Some(excluded) = &m.webhook_candidates_excluded {
        for e in excluded {
            writeln!(
                out,
                "  not {} ({}): its {} does not match the pod",
                e.webhook, e.configuration, e.why
            )?;
        }
    }
    Ok(())
}
