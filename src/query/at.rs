//! Times given on the command line: RFC 3339, a date and time in UTC, a time of day as kblame
//! prints it (on the trace's day), or an offset from the trace's start (`+5m`) or end (`-30s`),
//! checked against the trace's span.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
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
    let trimmed = text.trim();
    let time = if let Some(text) = trimmed.strip_prefix('+') {
        start
            .checked_add(offset(text)?)
            .map_err(|_| outside(Timestamp::MAX))?
    } else if let Some(text) = trimmed.strip_prefix('-') {
        end.checked_sub(offset(text)?)
            .map_err(|_| outside(Timestamp::MIN))?
    } else if let Ok(time) = trimmed.parse::<Timestamp>() {
        time
    } else if let Ok(civil) = trimmed.parse::<DateTime>() {
        // kblame prints times in UTC, so a date and time without a zone is UTC.
        utc(civil).ok_or_else(bad)?
    } else if let Ok(clock) = trimmed.parse::<Time>() {
        on_the_traces_day(text, clock, start, end)?
    } else {
        return Err(bad());
    };
    if time < start || time > end {
        return Err(QueryError::OutsideTrace { time, start, end });
    }
    Ok(time)
}

fn utc(civil: DateTime) -> Option<Timestamp> {
    civil
        .to_zoned(TimeZone::UTC)
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// A time of day (UTC) on the day of the trace: on the one day of the trace's span when it
/// holds that time, else an error asking for the date.
fn on_the_traces_day(
    text: &str,
    clock: Time,
    start: Timestamp,
    end: Timestamp,
) -> Result<Timestamp, QueryError> {
    let first = start.to_zoned(TimeZone::UTC).date();
    let last = end.to_zoned(TimeZone::UTC).date();
    let days: Vec<Date> = first
        .series(jiff::Span::new().days(1))
        .take_while(|day| *day <= last)
        .take(1000)
        .collect();
    let candidates: Vec<(Date, Timestamp)> = days
        .iter()
        .filter_map(|day| Some((*day, utc(day.to_datetime(clock))?)))
        .collect();
    let inside: Vec<&(Date, Timestamp)> = candidates
        .iter()
        .filter(|(_, time)| (start..=end).contains(time))
        .collect();
    match (inside.as_slice(), candidates.as_slice()) {
        ([(_, time)], _) => Ok(*time),
        // On no day inside the trace: the first day's, which the caller finds outside.
        ([], [(_, time), ..]) => Ok(*time),
        ([], []) => Err(QueryError::BadTime {
            text: text.to_string(),
        }),
        (several, _) => Err(QueryError::AmbiguousTime {
            text: text.to_string(),
            days: several.iter().map(|(day, _)| day.to_string()).collect(),
            example: format!("{}T{}Z", several[0].0, clock),
        }),
    }
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

    #[test]
    fn clock_times_are_on_the_traces_day_and_civil_times_are_utc() {
        for (text, expected) in [
            ("16:05", "2026-11-26T16:05:00Z"),
            ("16:05:30", "2026-11-26T16:05:30Z"),
            ("16:05:30.25", "2026-11-26T16:05:30.25Z"),
            ("2026-11-26T16:05:00", "2026-11-26T16:05:00Z"),
            ("2026-11-26 16:05:00", "2026-11-26T16:05:00Z"),
            (" -1m ", "2026-11-26T16:14:00Z"),
        ] {
            assert_eq!(
                parse_time(text, &facts()).unwrap().to_string(),
                expected,
                "{text}"
            );
        }
        assert!(matches!(
            parse_time("09:00", &facts()),
            Err(QueryError::OutsideTrace { .. })
        ));
        assert!(matches!(
            parse_time("25:00", &facts()),
            Err(QueryError::BadTime { .. })
        ));
    }

    #[test]
    fn a_clock_time_on_several_days_of_the_trace_asks_for_the_date() {
        let facts = TraceFacts {
            start: Some("2026-11-26T23:00:00Z".parse().unwrap()),
            end: Some("2026-11-28T01:00:00Z".parse().unwrap()),
            ..TraceFacts::default()
        };
        let err = parse_time("23:30", &facts).unwrap_err();
        assert!(err.is_bad_argument());
        assert_eq!(
            err.to_string(),
            "23:30 is on 2 days of the trace (2026-11-26, 2026-11-27): give the date, e.g. 2026-11-26T23:30:00Z"
        );
        assert_eq!(
            parse_time("00:30", &facts).unwrap_err().to_string(),
            "00:30 is on 2 days of the trace (2026-11-27, 2026-11-28): give the date, e.g. 2026-11-27T00:30:00Z"
        );
        assert_eq!(
            parse_time("12:00", &facts).unwrap().to_string(),
            "2026-11-27T12:00:00Z"
        );
    }
}
