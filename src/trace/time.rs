//! Timestamps as the trace writes them: RFC 3339, UTC, nine fractional digits.

use jiff::Timestamp;

/// Formats a timestamp the way trace records carry it, e.g. `2026-11-26T16:00:01.123456789Z`.
pub fn format_ts(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Parses an RFC 3339 timestamp (any offset, any precision); `None` when it is not one.
pub fn parse_ts(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_nine_fractional_digits() {
        let ts = parse_ts("2026-11-26T16:00:01.5Z").unwrap();
        assert_eq!(format_ts(ts), "2026-11-26T16:00:01.500000000Z");
    }

    #[test]
    fn parses_whole_seconds_and_offsets() {
        let a = parse_ts("2026-11-26T16:00:01Z").unwrap();
        let b = parse_ts("2026-11-26T17:00:01+01:00").unwrap();
        assert_eq!(a, b);
        assert!(parse_ts("yesterday").is_none());
    }
}
