#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap_or_else(|| panic!("bad test time {s}"))
}

fn config(name: &str, tz: &str, hours: &[(&str, &[&str])], holidays: &[&str]) -> CalendarConfig {
    CalendarConfig {
        name: name.to_owned(),
        time_zone: tz.to_owned(),
        hours: hours
            .iter()
            .map(|(d, r)| (d.to_string(), r.iter().map(|s| s.to_string()).collect()))
            .collect(),
        holidays: holidays.iter().map(|s| s.to_string()).collect(),
    }
}

/// The Berlin office: weekdays nine to five, closed on Whit Monday and Christmas Day.
fn berlin_office() -> BusinessCalendar {
    let day: &[&str] = &["09:00-17:00"];
    BusinessCalendar::from_config(&config(
        "berlin-office",
        "Europe/Berlin",
        &[
            ("mon", day),
            ("tue", day),
            ("wed", day),
            ("thu", day),
            ("fri", day),
        ],
        &["2026-05-25", "2026-12-25"],
    ))
    .unwrap()
}

/// The Berlin night desk: 22:00 to 06:00 every night, split at midnight.
fn berlin_night() -> BusinessCalendar {
    let night: &[&str] = &["00:00-06:00", "22:00-24:00"];
    let hours: Vec<(&str, &[&str])> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .into_iter()
        .map(|d| (d, night))
        .collect();
    BusinessCalendar::from_config(&config("berlin-night", "Europe/Berlin", &hours, &[])).unwrap()
}

#[test]
fn friday_afternoon_case_is_due_monday_morning() {
    let cal = berlin_office();
    let due = cal.add_business_millis(at("2026-11-20T16:30:00+01:00"), HOUR);
    assert_eq!(due, at("2026-11-23T09:30:00+01:00"));
    assert_eq!(
        cal.business_millis_between(at("2026-11-20T16:30:00+01:00"), due),
        HOUR
    );
}

#[test]
fn a_monday_holiday_pushes_the_due_time_to_tuesday() {
    let cal = berlin_office();
    let due = cal.add_business_millis(at("2026-05-22T16:30:00+02:00"), HOUR);
    assert_eq!(due, at("2026-05-26T09:30:00+02:00"));
    assert!(!cal.is_open(at("2026-05-25T11:00:00+02:00")));
}

#[test]
fn target_used_up_exactly_at_closing_time_is_due_at_closing_time() {
    let cal = berlin_office();
    let due = cal.add_business_millis(at("2026-11-20T16:00:00+01:00"), HOUR);
    assert_eq!(due, at("2026-11-20T17:00:00+01:00"));
}

#[test]
fn a_case_opened_on_saturday_starts_counting_on_monday() {
    let cal = berlin_office();
    let due = cal.add_business_millis(at("2026-11-21T10:00:00+01:00"), 90 * MIN);
    assert_eq!(due, at("2026-11-23T10:30:00+01:00"));
    assert_eq!(
        cal.business_millis_between(
            at("2026-11-21T10:00:00+01:00"),
            at("2026-11-23T08:59:00+01:00")
        ),
        0
    );
}

#[test]
fn office_opening_hours_are_local_time() {
    let cal = berlin_office();
    assert!(cal.is_open(at("2026-11-20T09:00:00+01:00")));
    assert!(cal.is_open(at("2026-11-20T16:59:59+01:00")));
    assert!(!cal.is_open(at("2026-11-20T17:00:00+01:00")));
    assert!(!cal.is_open(at("2026-11-20T08:59:59+01:00")));
    assert!(!cal.is_open(at("2026-11-21T12:00:00+01:00")));
    assert!(!cal.is_open(at("2026-12-25T12:00:00+01:00")));
    // 08:30 UTC is 09:30 in Berlin in winter, 10:30 in summer.
    assert!(cal.is_open(at("2026-11-23T08:30:00Z")));
    assert!(!cal.is_open(at("2026-11-23T07:30:00Z")));
    assert!(cal.is_open(at("2026-06-01T07:30:00Z")));
}

#[test]
fn night_desk_runs_across_midnight() {
    let cal = berlin_night();
    assert_eq!(
        cal.add_business_millis(at("2026-11-23T23:00:00+01:00"), HOUR),
        at("2026-11-24T00:00:00+01:00")
    );
    assert_eq!(
        cal.add_business_millis(at("2026-11-23T23:30:00+01:00"), HOUR),
        at("2026-11-24T00:30:00+01:00")
    );
    // Opened at noon: nothing counts until 22:00.
    assert_eq!(
        cal.add_business_millis(at("2026-11-23T12:00:00+01:00"), 3 * HOUR),
        at("2026-11-24T01:00:00+01:00")
    );
    assert!(cal.is_open(at("2026-11-24T00:00:00+01:00")));
    assert!(cal.is_open(at("2026-11-23T22:00:00+01:00")));
    assert!(!cal.is_open(at("2026-11-24T06:00:00+01:00")));
}

#[test]
fn weekend_spanning_the_spring_dst_change_keeps_local_hours() {
    let cal = berlin_office();
    // Friday in winter time, Monday in summer time: still 09:30 on the office clock.
    let due = cal.add_business_millis(at("2026-03-27T16:30:00+01:00"), HOUR);
    assert_eq!(due, at("2026-03-30T09:30:00+02:00"));
    assert_eq!(due, at("2026-03-30T07:30:00Z"));
}

#[test]
fn night_desk_loses_an_hour_in_march_and_gains_one_in_october() {
    let cal = berlin_night();
    let day = |d: &str, next: &str, off: &str, next_off: &str| {
        cal.business_millis_between(
            at(&format!("{d}T00:00:00{off}")),
            at(&format!("{next}T00:00:00{next_off}")),
        )
    };
    assert_eq!(
        day("2026-03-28", "2026-03-29", "+01:00", "+01:00"),
        8 * HOUR
    );
    assert_eq!(
        day("2026-03-29", "2026-03-30", "+01:00", "+02:00"),
        7 * HOUR
    );
    assert_eq!(
        day("2026-10-25", "2026-10-26", "+02:00", "+01:00"),
        9 * HOUR
    );

    // 01:30 winter time plus an hour: 02:00-03:00 does not exist that night.
    assert_eq!(
        cal.add_business_millis(at("2026-03-29T01:30:00+01:00"), HOUR),
        at("2026-03-29T03:30:00+02:00")
    );
    // 02:30 summer time plus an hour: the clock shows 02:30 again, in winter time.
    assert_eq!(
        cal.add_business_millis(at("2026-10-25T02:30:00+02:00"), HOUR),
        at("2026-10-25T02:30:00+01:00")
    );
    assert!(cal.is_open(at("2026-10-25T02:30:00+01:00")));
}

#[test]
fn a_month_of_office_hours() {
    let cal = berlin_office();
    // November 2026 has 21 weekdays and no configured holiday.
    assert_eq!(
        cal.business_millis_between(
            at("2026-11-01T00:00:00+01:00"),
            at("2026-12-01T00:00:00+01:00")
        ),
        21 * 8 * HOUR
    );
    assert_eq!(
        cal.add_business_millis(at("2026-11-01T00:00:00+01:00"), 21 * 8 * HOUR),
        at("2026-11-30T17:00:00+01:00")
    );
}

#[test]
fn adding_then_measuring_gives_back_the_same_business_time() {
    let cals = [berlin_office(), berlin_night(), BusinessCalendar::always()];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Starts spread over 2026, including both DST weekends.
    let year_start = at("2026-01-01T00:00:00Z").millis();
    for i in 0..3_000 {
        let cal = &cals[i % cals.len()];
        let start = Timestamp(year_start + (next() % (365 * 24 * HOUR as u64)) as i64);
        let ms = (next() % (40 * HOUR as u64)) as i64 + 1;
        let due = cal.add_business_millis(start, ms);
        assert!(due > start);
        assert_eq!(
            cal.business_millis_between(start, due),
            ms,
            "{} from {}",
            cal.name(),
            start.to_rfc3339()
        );
        assert!(cal.is_open(Timestamp(due.millis() - 1)), "{}", cal.name());
    }
}

#[test]
fn nothing_to_add_and_nothing_between() {
    let cal = berlin_office();
    let t = at("2026-11-21T10:00:00+01:00");
    assert_eq!(cal.add_business_millis(t, 0), t);
    assert_eq!(cal.add_business_millis(t, -5), t);
    assert_eq!(cal.business_millis_between(t, t), 0);
    assert_eq!(
        cal.business_millis_between(at("2026-11-23T12:00:00+01:00"), t),
        0
    );
}

#[test]
fn around_the_clock_calendars() {
    let always = BusinessCalendar::always();
    assert_eq!(always.name(), "24x7");
    assert_eq!(always.time_zone(), "UTC");
    let t = at("2026-03-29T01:30:00+01:00");
    assert!(always.is_open(t));
    assert_eq!(always.add_business_millis(t, HOUR), t.plus_millis(HOUR));
    assert_eq!(always.business_millis_between(t, t.plus_millis(HOUR)), HOUR);

    // No hours listed means around the clock, but holidays still close whole local days.
    let xmas = BusinessCalendar::from_config(&config(
        "berlin-24x7",
        "Europe/Berlin",
        &[],
        &["2026-12-25"],
    ))
    .unwrap();
    assert!(xmas.is_open(at("2026-12-24T23:59:00+01:00")));
    assert!(!xmas.is_open(at("2026-12-25T00:00:00+01:00")));
    assert_eq!(
        xmas.add_business_millis(at("2026-12-24T23:30:00+01:00"), HOUR),
        at("2026-12-26T00:30:00+01:00")
    );
}

#[test]
fn calendar_reads_from_toml() {
    let c: CalendarConfig = toml::from_str(
        r#"
        name = "support-uk"
        time_zone = "Europe/London"
        holidays = ["2026-12-25"]
        [hours]
        mon = ["08:00-12:00", "13:00-18:00"]
        Friday = ["08:00-16:00"]
        sat = []
        "#,
    )
    .unwrap();
    let cal = BusinessCalendar::from_config(&c).unwrap();
    assert_eq!(cal.name(), "support-uk");
    assert_eq!(cal.time_zone(), "Europe/London");
    assert!(!cal.is_open(at("2026-11-23T12:30:00Z")));
    assert!(cal.is_open(at("2026-11-23T13:00:00Z")));
    assert!(cal.is_open(at("2026-11-27T15:59:00Z")));
    assert!(!cal.is_open(at("2026-11-24T10:00:00Z")));

    let unknown = toml::from_str::<CalendarConfig>("name = \"x\"\ntime_zone = \"UTC\"\nopen = 1");
    assert!(unknown.is_err());
}

fn err(c: CalendarConfig) -> String {
    BusinessCalendar::from_config(&c).unwrap_err().to_string()
}

#[test]
fn bad_calendars_are_refused_with_their_name() {
    let day: &[&str] = &["09:00-17:00"];
    assert_eq!(
        err(config("apac", "Asia/Atlantis", &[("mon", day)], &[])),
        "calendar apac: unknown time zone \"Asia/Atlantis\""
    );
    assert_eq!(
        err(config("apac", "UTC", &[("funday", day)], &[])),
        "calendar apac: unknown day \"funday\" (use mon, tue, wed, thu, fri, sat, sun)"
    );
    assert_eq!(
        err(config("apac", "UTC", &[("mon", day), ("Monday", day)], &[])),
        "calendar apac: day mon is listed twice"
    );
    for bad in [
        "17:00-09:00",
        "9-17",
        "09:00-09:00",
        "24:00-24:00",
        "09:60-10:00",
        "09:00-24:30",
        "09:00",
    ] {
        assert_eq!(
            err(config("apac", "UTC", &[("tue", &[bad])], &[])),
            format!("calendar apac: tue range {bad:?} is not HH:MM-HH:MM with start before end")
        );
    }
    assert_eq!(
        err(config(
            "apac",
            "UTC",
            &[("wed", &["12:00-18:00", "09:00-12:30"])],
            &[]
        )),
        "calendar apac: wed ranges \"09:00-12:30\" and \"12:00-18:00\" overlap"
    );
    assert_eq!(
        err(config("apac", "UTC", &[("mon", day)], &["2026-02-30"])),
        "calendar apac: holiday \"2026-02-30\" is not a YYYY-MM-DD date"
    );
    assert_eq!(
        err(config("apac", "UTC", &[("mon", &[]), ("sun", &[])], &[])),
        "calendar apac has no business hours"
    );
    assert_eq!(
        err(config(" ", "UTC", &[], &[])),
        "a calendar has an empty name"
    );
}

#[test]
fn back_to_back_ranges_and_a_whole_day_are_fine() {
    let cal = BusinessCalendar::from_config(&config(
        "split",
        "UTC",
        &[
            ("mon", &["09:00-12:00", "12:00-17:00"]),
            ("tue", &["00:00-24:00"]),
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(
        cal.business_millis_between(at("2026-11-23T00:00:00Z"), at("2026-11-25T00:00:00Z")),
        8 * HOUR + 24 * HOUR
    );
}

/// Whether `t` is open, read straight off the local wall clock: the definition the interval
/// arithmetic must agree with. Sundays are closed.
fn open_by_wall_clock(tz: &TimeZone, ranges: &[(u16, u16)], holidays: &[&str], t: i64) -> bool {
    let dt = tz.to_datetime(jiff::Timestamp::from_millisecond(t).unwrap());
    if dt.weekday() == jiff::civil::Weekday::Sunday
        || holidays.contains(&dt.date().to_string().as_str())
    {
        return false;
    }
    let minute = dt.hour() as u16 * 60 + dt.minute() as u16;
    ranges.iter().any(|&(a, b)| a <= minute && minute < b)
}

/// Samples three-day windows from each start every `step` (all interval edges must fall on
/// that grid) and compares `is_open`, `business_millis_between` and `add_business_millis`
/// with the wall-clock reading.
fn check_against_wall_clock(zone: &str, hours: &[&str], starts: &[i64], step: i64) {
    let holidays = ["2011-12-31", "2018-11-05", "2026-03-30"];
    let days = ["mon", "tue", "wed", "thu", "fri", "sat"];
    let cal =
        BusinessCalendar::from_config(&config(zone, zone, &days.map(|d| (d, hours)), &holidays))
            .unwrap();
    let ranges: Vec<(u16, u16)> = hours.iter().map(|h| parse_range(h).unwrap()).collect();
    let tz = TimeZone::get(zone).unwrap();
    for &a in starts {
        let a = a - a.rem_euclid(step);
        let b = a + 3 * 24 * HOUR;
        let mut expected = 0;
        for t in (a..b).step_by(step as usize) {
            let open = open_by_wall_clock(&tz, &ranges, &holidays, t);
            let when = Timestamp(t).to_rfc3339();
            assert_eq!(
                cal.is_open(Timestamp(t)),
                open,
                "{zone} {hours:?} at {when}"
            );
            expected += if open { step } else { 0 };
        }
        let from = Timestamp(a).to_rfc3339();
        assert_eq!(
            cal.business_millis_between(Timestamp(a), Timestamp(b)),
            expected,
            "{zone} {hours:?} from {from}"
        );
        if expected > 0 {
            let due = cal.add_business_millis(Timestamp(a), expected);
            assert!(due <= Timestamp(b), "{zone} {hours:?} from {from}");
            assert!(cal.is_open(Timestamp(due.millis() - 1)));
        }
    }
}

fn transitions_near(zone: &str, from: &str, to: &str) -> Vec<i64> {
    let tz = TimeZone::get(zone).unwrap();
    let (from, to) = (at(from).millis(), at(to).millis());
    tz.following(jiff::Timestamp::from_millisecond(from).unwrap())
        .map(|tr| tr.timestamp().as_millisecond())
        .take_while(|&t| t < to)
        .map(|t| t - 36 * HOUR)
        .collect()
}

#[test]
fn office_hours_agree_with_the_wall_clock_in_zones_with_odd_transitions() {
    let zones = [
        "Europe/Berlin",
        "America/New_York",
        "America/Sao_Paulo",   // changed at midnight until 2019
        "Australia/Lord_Howe", // half-hour DST
        "Pacific/Apia",        // skipped 2011-12-30 entirely
        "Pacific/Chatham",     // +12:45 / +13:45
        "Asia/Kolkata",
        "America/St_Johns", // changed at 00:01 until 2011
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (from, to) = (
        at("1995-01-01T00:00:00Z").millis(),
        at("2030-01-01T00:00:00Z").millis(),
    );
    for zone in zones {
        let mut starts: Vec<i64> = (0..20)
            .map(|_| from + (next() % (to - from) as u64) as i64)
            .collect();
        starts.extend(transitions_near(
            zone,
            "2008-01-01T00:00:00Z",
            "2028-01-01T00:00:00Z",
        ));
        starts.push(at("2011-12-29T00:00:00Z").millis());
        check_against_wall_clock(zone, &["09:00-17:00", "19:00-23:00"], &starts, 15 * MIN);
    }
}

#[test]
fn night_hours_through_the_changeover_agree_with_the_wall_clock() {
    // Ranges with edges inside the skipped and the repeated hour.
    for zone in ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"] {
        let starts = transitions_near(zone, "2018-01-01T00:00:00Z", "2028-01-01T00:00:00Z");
        check_against_wall_clock(zone, &["00:30-02:20", "02:40-04:00"], &starts, 5 * MIN);
    }
}

#[test]
fn a_repeated_hour_inside_opening_hours_counts_twice() {
    let cal = BusinessCalendar::from_config(&config(
        "berlin-early",
        "Europe/Berlin",
        &[("sun", &["01:00-04:00"])],
        &[],
    ))
    .unwrap();
    let sunday = |d: &str, off: &str| {
        cal.business_millis_between(
            at(&format!("{d}T00:00:00{off}")),
            at(&format!("{d}T12:00:00{off}")),
        )
    };
    assert_eq!(sunday("2026-03-22", "+01:00"), 3 * HOUR);
    assert_eq!(sunday("2026-03-29", "+01:00"), 2 * HOUR);
    assert_eq!(sunday("2026-10-25", "+02:00"), 4 * HOUR);
}

#[test]
fn absurd_instants_neither_panic_nor_hang() {
    for cal in [berlin_office(), berlin_night(), BusinessCalendar::always()] {
        for t in [i64::MIN, -1, 0, i64::MAX - 1, i64::MAX] {
            let t = Timestamp(t);
            cal.is_open(t);
            assert!(cal.add_business_millis(t, HOUR) >= t);
            assert!(cal.business_millis_between(t, t.plus_millis(HOUR)) <= HOUR);
        }
        assert_eq!(
            cal.add_business_millis(Timestamp(i64::MAX - HOUR), 2 * HOUR),
            Timestamp(i64::MAX)
        );
    }
}

#[test]
fn a_calendar_describes_its_hours_with_equal_days_together() {
    assert_eq!(
        berlin_office().describe(),
        "mon-fri 09:00-17:00; 2 holidays"
    );
    let split = BusinessCalendar::from_config(&config(
        "split",
        "Europe/Madrid",
        &[
            ("mon", &["09:00-14:00", "16:00-19:00"]),
            ("tue", &["09:00-14:00", "16:00-19:00"]),
            ("thu", &["09:00-14:00"]),
            ("sun", &["00:00-24:00"]),
        ],
        &["2026-01-06"],
    ))
    .unwrap();
    assert_eq!(
        split.describe(),
        "mon-tue 09:00-14:00 16:00-19:00, thu 09:00-14:00, sun 00:00-24:00; 1 holiday"
    );
    assert_eq!(BusinessCalendar::always().describe(), "24x7");
}
