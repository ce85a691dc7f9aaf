//! The text line `kblame export` prints per trace.

use crate::export::{Exported, TABLES};

/// `TRACE: cluster=c date=d: 12 changes, 3 revisions, … (N records → X KiB)`, or the skip.
pub fn text(done: &Exported) -> String {
    let place = format!("cluster={} date={}", done.cluster, done.date);
    if done.skipped {
        return format!(
            "{}: skipped: exported before as {place} (--force exports it again)",
            done.trace
        );
    }
    let counts: Vec<String> = TABLES
        .iter()
        .map(|t| format!("{} {t}", done.rows.get(*t).copied().unwrap_or(0)))
        .collect();
    let mut line = format!(
        "{}: {place}: {} ({} records -> {} KiB)",
        done.trace,
        counts.join(", "),
        done.records,
        done.bytes.div_ceil(1024)
    );
    for warning in &done.warnings {
        line.push_str(&format!("\n  warning: {warning}"));
    }
    line
}
