//! Renderers: text for people, JSON and YAML for programs. Renderers only format; queries compute.

pub mod batch;
pub mod blame;
pub mod check;
pub mod custom;
pub mod diff;
pub mod export;
pub mod get;
pub mod object;
pub mod pod;
pub mod report;
pub mod report_html;
pub mod report_junit;
pub mod report_md;
pub mod rollout;
pub mod sets;
pub mod timeline;
pub mod tree;
pub mod value;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serializer;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// Pretty JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Serializes a timestamp as RFC 3339 UTC (`2026-11-26T16:02:11.04Z`).
pub fn serialize_ts<S: Serializer>(ts: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(ts)
}

/// Serializes an optional timestamp as RFC 3339 UTC or `null`.
pub fn serialize_opt_ts<S: Serializer>(
    ts: &Option<Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match ts {
        Some(ts) => serializer.collect_str(ts),
        None => serializer.serialize_none(),
    }
}

/// Writes `value` as pretty JSON followed by a newline.
pub fn json<W: std::io::Write, T: serde::Serialize>(value: &T, out: &mut W) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// Writes `value` as YAML.
pub fn yaml<W: std::io::Write, T: serde::Serialize>(value: &T, out: &mut W) -> std::io::Result<()> {
    let text = yaml_serde::to_string(value).map_err(std::io::Error::other)?;
    out.write_all(text.as_bytes())
}

/// `text` cut to at most `max_chars` characters, ending in `…` when cut. For a changed value
/// shown beside its old one, [`value::shorten_pair`] keeps the part that differs instead.
pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() > max_chars {
        let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{kept}…")
    } else {
        text.to_string()
    }
}

/// The widest a padded column gets. A longer cell is written whole and pushes the rest of its
/// line; padding every line to a hostile trace's longest name would multiply the output.
pub const MAX_COLUMN: usize = 256;

/// `text` followed by spaces up to `width` characters (at most [`MAX_COLUMN`]). Written by hand:
/// `format!("{text:<width$}")` panics when `width` does not fit in a `u16`.
pub fn pad(text: &str, width: usize) -> String {
    let fill = width.min(MAX_COLUMN).saturating_sub(text.chars().count());
    let mut padded = String::with_capacity(text.len() + fill);
    padded.push_str(text);
    padded.extend(std::iter::repeat_n(' ', fill));
    padded
}

/// Wraps `text` in an ANSI SGR code (`"31"` red, `"2"` dim, …) when `color` is on.
pub fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `16:02:11` — the time of day of a timestamp, UTC.
pub fn clock(ts: Timestamp) -> String {
    ts.strftime("%H:%M:%S").to_string()
}

/// The UTC day of a timestamp: the day clock times next to it are read against.
pub fn day_of(ts: Timestamp) -> Date {
    ts.to_zoned(TimeZone::UTC).date()
}

/// A time as text read against the day of its context (the trace's day, the day a line stands
/// on): `16:02:11` on that day, `2026-11-06 10:31:06` on any other, so no time reads as if it
/// were on the wrong day. Without a context, the time of day alone.
pub fn when(ts: Timestamp, context: Option<Date>) -> String {
    match context {
        Some(day) if day_of(ts) != day => ts.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        _ => clock(ts),
    }
}

/// A short human duration: `41 min`, `2 h 5 min`, `35 s`.
pub fn duration_words(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn a_time_on_another_day_than_its_context_carries_its_date() {
        let day = Some(day_of(ts("2026-11-26T09:00:00Z")));
        assert_eq!(when(ts("2026-11-26T23:59:59.9Z"), day), "23:59:59");
        assert_eq!(when(ts("2026-11-06T10:31:06Z"), day), "2026-11-06 10:31:06");
        assert_eq!(when(ts("2026-11-27T00:00:01Z"), day), "2026-11-27 00:00:01");
        assert_eq!(when(ts("2026-11-06T10:31:06Z"), None), "10:31:06");
    }
}
