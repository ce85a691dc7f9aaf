//! Markdown of `kblame report`, for `$GITHUB_STEP_SUMMARY` and GitLab job summaries: the
//! trace's warnings first, a one-line verdict, a table of workloads, and one collapsible
//! `<details>` section per failing workload with the blame and the evidence.

use std::io::{self, Write};

use jiff::civil::Date;

use super::report::{
    attribution_line, change_headline, confidence_word, coverage_line, group_line, object_name,
    revision_prefix, verdict_line, verdict_text,
};
use super::rollout::line_note;
use super::value::one_line;
use super::{day_of, when};
use crate::query::report::{Report, WorkloadReport};

/// Writes the report as Markdown.
pub fn markdown<W: Write>(report: &Report, out: &mut W) -> io::Result<()> {
    let day = report.trace.start.map(day_of);
    for warning in &report.trace.warnings {
        writeln!(out, "> **Warning:** {}", inline(warning))?;
        writeln!(out)?;
    }
    writeln!(out, "**kblame report — {}**", inline(&verdict_line(report)))?;
    writeln!(out)?;
    writeln!(out, "{}", inline(&coverage_line(report, day)))?;
    if !report.workloads.is_empty() {
        writeln!(out)?;
        table(report, day, out)?;
    }
    for workload in report.workloads.iter().filter(|w| w.status != "ok") {
        writeln!(out)?;
        details(workload, day, out)?;
    }
    for warning in &report.warnings {
        writeln!(out)?;
        writeln!(out, "> **Warning:** {}", inline(warning))?;
    }
    Ok(())
}

fn table<W: Write>(report: &Report, day: Option<Date>, out: &mut W) -> io::Result<()> {
    writeln!(
        out,
        "| namespace | workload | verdict | blamed change | failing pods |"
    )?;
    writeln!(out, "| --- | --- | --- | --- | --- |")?;
    for w in &report.workloads {
        let o = &w.object;
        let blamed = match &w.blamed_change {
            Some(change) => blamed_cell(change, day),
            None => "—".to_string(),
        };
        let pods: Vec<String> = w
            .pod_groups
            .iter()
            .map(|g| format!("{}{} × {}", revision_prefix(g), g.pods.len(), g.reason))
            .collect();
        let pods = match pods.is_empty() {
            true => "0".to_string(),
            false => pods.join("; "),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&o.namespace),
            cell(&format!("{}/{}", o.kind.to_lowercase(), o.name)),
            cell(&status_word(w)),
            cell(&blamed),
            cell(&pods)
        )?;
    }
    Ok(())
}

/// `failed`, `progressing (failing)`, `complete`.
fn status_word(w: &WorkloadReport) -> String {
    match w.status {
        "failing" => format!("{} (failing)", w.verdict),
        _ => w.verdict.to_string(),
    }
}

/// The change in one cell: headline and first field.
fn blamed_cell(change: &crate::graph::Change, day: Option<Date>) -> String {
    let mut text = change_headline(change, day);
    if let Some(field) = change.fields.first() {
        text.push_str(&format!(
            ": {} {} → {}",
            field.path,
            one_line(&field.from),
            one_line(&field.to)
        ));
    }
    if change.fields.len() > 1 {
        text.push_str(&format!(" (+{} fields)", change.fields.len() - 1));
    }
    text
}

fn details<W: Write>(w: &WorkloadReport, day: Option<Date>, out: &mut W) -> io::Result<()> {
    writeln!(
        out,
        "<details><summary>{} — {}</summary>",
        html(&object_name(w)),
        html(&verdict_text(w))
    )?;
    writeln!(out)?;
    if let Some(since) = w.failing_since {
        writeln!(out, "Failing since {}.", when(since, day))?;
        writeln!(out)?;
    }
    // Values are shown verbatim in a fenced block: no Markdown or HTML escaping to get wrong.
    writeln!(out, "````text")?;
    if let Some(change) = &w.blamed_change {
        writeln!(out, "blamed: {}", change_headline(change, day))?;
        for field in &change.fields {
            writeln!(
                out,
                "  {}  {} → {}",
                field.path,
                one_line(&field.from),
                one_line(&field.to)
            )?;
        }
        writeln!(out, "  {}", attribution_line(change))?;
    }
    for group in &w.pod_groups {
        writeln!(out, "failing pods: {}", group_line(group))?;
    }
    for item in &w.evidence {
        writeln!(
            out,
            "evidence: {} {}{}",
            when(item.time, day),
            item.text,
            line_note(item.line)
        )?;
    }
    for cause in &w.root_causes {
        writeln!(
            out,
            "root cause: {} [{} confidence]\n  evidence: {}",
            cause.summary,
            confidence_word(cause.confidence),
            cause.evidence
        )?;
    }
    if !w.serving_revisions.is_empty() {
        let serving: Vec<String> = w.serving_revisions.iter().map(i64::to_string).collect();
        writeln!(out, "serving: revision {}", serving.join(", "))?;
    }
    writeln!(out, "````")?;
    writeln!(out)?;
    writeln!(out, "</details>")
}

/// A table cell: one line, `|` escaped, no HTML.
pub fn cell(text: &str) -> String {
    html(text).replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text outside a code block: no HTML.
fn inline(text: &str) -> String {
    html(text).replace('\n', " ")
}

/// `&`, `<` and `>` as entities.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_cell_escapes_pipes_and_angle_brackets() {
        assert_eq!(cell("a|b <c>\nd"), "a\\|b &lt;c&gt; d");
    }
}
