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
    text.parse::<Timestamp>()
        .ok()
        .map(Timestamp::as_millisecond)
}

/// The whole-second RFC 3339 form metadata uses, e.g. `2026-11-26T16:02:13Z`.
pub fn whole_seconds(ms: Ms) -> String {
    to_timestamp(ms).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The trace record form, e.g. `2026-11-26T16:02:13.041000000Z`.
pub fn record_time(ms: Ms) -> String {
    kblame::trace::format_ts(to_timestamp(ms))
}

/// The [`Ms`] of a UTC civil time (proleptic Gregorian), e.g. `utc(2026, 11, 26, 16, 0, 0)`.
pub fn utc(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> Ms {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + hour) * 60 + minute) * MINUTE + second * SECOND
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_matches_jiff() {
        let ms = utc(2026, 11, 26, 16, 2, 13);
        assert_eq!(parse_time("2026-11-26T16:02:13Z"), Some(ms));
        assert_eq!(whole_seconds(ms), "2026-11-26T16:02:13Z");
    }
}
