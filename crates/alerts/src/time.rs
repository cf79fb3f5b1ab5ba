//! Time comes from the data: every detector is handed the timestamp of the point it sees,
//! so replays, tests and live traffic behave the same. Timestamps are milliseconds since the
//! Unix epoch in UTC, as everywhere in Switchboard.

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// Hour of day, 0..24, in UTC.
pub fn hour_of_day(ts_ms: i64) -> usize {
    (ts_ms.rem_euclid(MS_PER_DAY) / MS_PER_HOUR) as usize
}

/// Days since the Unix epoch (UTC); a new value starts at each UTC midnight.
pub fn day_index(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(MS_PER_DAY)
}

/// Day of week, 0 = Monday .. 6 = Sunday, in UTC.
pub fn day_of_week(ts_ms: i64) -> usize {
    // 1970-01-01 was a Thursday (index 3).
    ((ts_ms.div_euclid(MS_PER_DAY) + 3).rem_euclid(7)) as usize
}

/// Parses the timestamps people hand us in CSV files: RFC 3339 with an offset,
/// `YYYY-MM-DD HH:MM:SS[.ffffff]` taken as UTC (NAB's form), or whole Unix seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return secs.checked_mul(1000);
    }
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    let zoned = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nab_timestamps_are_read_as_utc() {
        let t = parse_timestamp("2015-02-26 21:42:53").unwrap();
        assert_eq!(t, 1_424_986_973_000);
        assert_eq!(hour_of_day(t), 21);
        assert_eq!(day_of_week(t), 3); // a Thursday
        assert_eq!(
            parse_timestamp("2015-03-03 04:37:53.000000"),
            Some(1_425_357_473_000)
        );
    }

    #[test]
    fn rfc3339_and_unix_seconds_are_accepted() {
        assert_eq!(
            parse_timestamp("1970-01-05T00:00:00Z"),
            Some(4 * MS_PER_DAY)
        );
        assert_eq!(day_of_week(4 * MS_PER_DAY), 0); // a Monday
        assert_eq!(parse_timestamp("60"), Some(60_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
