//! Times given on the command line: RFC 3339, or an offset from the trace's start (`+5m`) or
//! end (`-30s`), checked against the trace's span.

use jiff::{SignedDuration, Timestamp};

use super::QueryError;
use crate::history::TraceFacts;

/// Reads a time for `--at`, `--since`, `--until`, `--from`, `--to`; it must lie within the trace.
pub fn parse_time(text: &str, facts: &TraceFacts) -> Result<Timestamp, QueryError> {
    let (Some(start), Some(end)) = (facts.start, facts.end) else {
        return Err(QueryError::EmptyTrace);
    };
    let bad = || QueryError::BadTime {
        text: text.to_string(),
    };
    let offset = |text: &str| text.trim().parse::<SignedDuration>().map_err(|_| bad());
    // An offset too large for any time is outside the trace, not a panic.
    let outside = |time: Timestamp| QueryError::OutsideTrace { time, start, end };
    let time = if let Some(text) = text.strip_prefix('+') {
        start
            .checked_add(offset(text)?)
            .map_err(|_| outside(Timestamp::MAX))?
    } else if let Some(text) = text.strip_prefix('-') {
        end.checked_sub(offset(text)?)
            .map_err(|_| outside(Timestamp::MIN))?
    } else {
        text.parse::<Timestamp>().map_err(|_| bad())?
    };
    if time < start || time > end {
        return Err(QueryError::OutsideTrace { time, start, end });
    }
    Ok(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> TraceFacts {
        TraceFacts {
            start: Some("2026-11-26T16:00:00Z".parse().unwrap()),
            end: Some("2026-11-26T16:15:00Z".parse().unwrap()),
            ..TraceFacts::default()
        }
    }

    #[test]
    fn offsets_count_from_the_start_or_back_from_the_end() {
        assert_eq!(
            parse_time("+5m", &facts()).unwrap().to_string(),
            "2026-11-26T16:05:00Z"
        );
        assert_eq!(
            parse_time("-30s", &facts()).unwrap().to_string(),
            "2026-11-26T16:14:30Z"
        );
        assert_eq!(
            parse_time("2026-11-26T16:10:00Z", &facts())
                .unwrap()
                .to_string(),
            "2026-11-26T16:10:00Z"
        );
    }

    #[test]
    fn times_outside_the_trace_and_nonsense_are_clear_errors() {
        let outside = parse_time("+1h", &facts()).unwrap_err().to_string();
        assert!(
            outside.contains("outside the trace, which runs from 2026-11-26T16:00:00Z"),
            "{outside}"
        );
        assert!(matches!(
            parse_time("yesterday", &facts()),
            Err(QueryError::BadTime { .. })
        ));
    }
}
