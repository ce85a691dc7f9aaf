//! Simulated time: milliseconds since the Unix epoch, never the wall clock.

use jiff::Timestamp;

/// A simulated instant: milliseconds since the Unix epoch.
pub type Ms = i64;

/// One second in [`Ms`].
pub const SECOND: Ms = 1000;

/// One minute in [`Ms`].
pub const MINUTE: Ms = 60 * SECOND;

/// The [`Timestamp`] of a simulated instant (the epoch if it is out of range).
pub fn to_timestamp(ms: Ms) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Parses an RFC 3339 time such as `2026-11-26T16:00:00Z` into [`Ms`]; `None` if it is not one.
pub fn parse_time(text: &str) -> Option<Ms> {
    text.parse::<Timestamp>().ok().map(Timestamp::as_millisecond)
}

/// The whole-second RFC 3339 form metadata uses, e.g. `2026-11-26T16:02:13Z`.
pub fn whole_seconds(ms: Ms) -> String {
    to_timestamp(ms).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The trace record form, e.g. `2026-11-26T16:02:13.041000000Z`.
pub fn record_time(ms: Ms) -> String {
    crate::trace::format_ts(to_timestamp(ms))
}
