//! Text of `analyze --object`: each kind's report by its own renderer.

use std::io::{self, Write};

use crate::query::object::ObjectReport;

/// Writes an object report as text.
pub fn text<W: Write>(report: &ObjectReport, out: &mut W, color: bool) -> io::Result<()> {
    match report {
        ObjectReport::Rollout(r) => super::rollout::text(r, out, color),
        ObjectReport::Job(r) => super::batch::job_text(r, out),
        ObjectReport::CronJob(r) => super::batch::cronjob_text(r, out),
        ObjectReport::Set(r) => super::sets::text(r, out, color),
        ObjectReport::Custom(r) => super::custom::text(r, out),
    }
}
