//! Text values holding several lines (a file inside a ConfigMap key, a script): how they split
//! into lines and which lines two versions share.

use std::time::{Duration, Instant};

use serde_json::Value;
use similar::{Algorithm, DiffTag};

/// The largest text diffed line by line; a longer value is compared as one value.
pub const MAX_TEXT_BYTES: usize = 1 << 20;
/// The most lines diffed; a value with more is compared as one value.
pub const MAX_TEXT_LINES: usize = 20_000;
/// How long one line diff may take before it settles for a coarser answer.
const DIFF_TIME: Duration = Duration::from_millis(50);

/// The text of `value` when it is a string of more than one line (a trailing newline does not
/// make a second line).
pub fn multi_line(value: &Value) -> Option<&str> {
    value
        .as_str()
        .filter(|text| text.trim_end_matches('\n').contains('\n'))
}

/// The lines of a text as YAML shows it in a `|` block: trailing newlines dropped, split at `\n`.
pub fn split_lines(text: &str) -> Vec<&str> {
    text.trim_end_matches('\n').split('\n').collect()
}

/// One step of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOp {
    /// Old lines `old..old+len` are new lines `new..new+len`.
    Same {
        /// First old line.
        old: usize,
        /// First new line.
        new: usize,
        /// How many.
        len: usize,
    },
    /// Old lines `old` were replaced by new lines `new` (either range may be empty).
    Changed {
        /// The old lines removed.
        old: std::ops::Range<usize>,
        /// The new lines added.
        new: std::ops::Range<usize>,
    },
}

/// The line diff of two texts, or `None` when either is too big to diff line by line.
pub fn line_ops(old: &[&str], new: &[&str]) -> Option<Vec<LineOp>> {
    let bytes = |lines: &[&str]| lines.iter().map(|l| l.len() + 1).sum::<usize>();
    if old.len().max(new.len()) > MAX_TEXT_LINES || bytes(old).max(bytes(new)) > MAX_TEXT_BYTES {
        return None;
    }
    let deadline = Instant::now() + DIFF_TIME;
    let ops = similar::capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(deadline));
    let mut out: Vec<LineOp> = Vec::with_capacity(ops.len());
    for op in ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            out.push(LineOp::Same {
                old: old_range.start,
                new: new_range.start,
                len: old_range.len(),
            });
            continue;
        }
        // Merge a delete next to an insert into one change.
        match out.last_mut() {
            Some(LineOp::Changed { old, new }) => {
                old.end = old_range.end.max(old.end);
                new.end = new_range.end.max(new.end);
            }
            _ => out.push(LineOp::Changed {
                old: old_range,
                new: new_range,
            }),
        }
    }
    Some(out)
}
