//! Business-hours calendars (D3): when a care team is open, in its own time zone, and how much
//! business time lies between two instants. SLA clocks count only this time.
//!
//! Opening hours are local wall-clock ranges per weekday, turned into instants through the named
//! IANA zone, so a Monday 09:00 is 09:00 in Berlin whether it falls in winter or summer time.
//! Holidays close a whole local day. This module never reads the system clock or the zone
//! database of the host: jiff's bundled tzdb is the only source, so results are reproducible.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use sb_domain::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A calendar as written in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub name: String,
    /// IANA zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// `mon`..`sun` (or full day names) to local ranges such as `["09:00-17:00", "18:00-22:00"]`;
    /// `00:00-24:00` is a whole day. A day left out is closed; an empty map means open 24x7.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    /// Local dates (`2026-12-25`) on which the team is closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("a calendar has an empty name")]
    EmptyName,
    #[error("calendar {calendar}: unknown time zone {time_zone:?}")]
    UnknownTimeZone { calendar: String, time_zone: String },
    #[error("calendar {calendar}: unknown day {day:?} (use mon, tue, wed, thu, fri, sat, sun)")]
    UnknownDay { calendar: String, day: String },
    #[error("calendar {calendar}: day {day} is listed twice")]
    DuplicateDay { calendar: String, day: String },
    #[error("calendar {calendar}: {day} range {range:?} is not HH:MM-HH:MM with start before end")]
    BadRange {
        calendar: String,
        day: String,
        range: String,
    },
    #[error("calendar {calendar}: {day} ranges {first:?} and {second:?} overlap")]
    Overlap {
        calendar: String,
        day: String,
        first: String,
        second: String,
    },
    #[error("calendar {calendar}: holiday {date:?} is not a YYYY-MM-DD date")]
    BadHoliday { calendar: String, date: String },
    #[error("calendar {calendar} has no business hours")]
    NoHours { calendar: String },
}

/// A compiled calendar: cheap to clone (the zone is shared), safe to query from many threads.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    name: String,
    tz: TimeZone,
    /// Open ranges per weekday (Monday first) in minutes after local midnight, sorted and
    /// disjoint; an end of 1440 is the next local midnight.
    week: [Vec<(u16, u16)>; 7],
    /// Local day numbers (days since 1970-01-01), sorted and deduplicated.
    holidays: Vec<i64>,
    /// Open every minute of every day: business time is wall time, whatever the zone does.
    always: bool,
}

const DAY_NAMES: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

fn day_index(key: &str) -> Option<usize> {
    let key = key.trim().to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|(short, long)| key == *short || key == *long)
}

/// `HH:MM` with `24:00` allowed only as an end.
fn parse_clock(s: &str, is_end: bool) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && (m != 0 || !is_end)) {
        return None;
    }
    Some(h * 60 + m)
}

fn parse_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-')?;
    let start = parse_clock(a, false)?;
    let end = parse_clock(b, true)?;
    (start < end).then_some((start, end))
}

fn fmt_range((a, b): (u16, u16)) -> String {
    format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60)
}

impl BusinessCalendar {
    /// Open around the clock, in UTC: the calendar of a policy that names none.
    pub fn always() -> Self {
        Self {
            name: "24x7".to_owned(),
            tz: TimeZone::UTC,
            week: std::array::from_fn(|_| vec![(0, MINUTES_PER_DAY)]),
            holidays: Vec::new(),
            always: true,
        }
    }

    pub fn from_config(c: &CalendarConfig) -> Result<Self, CalendarError> {
        let calendar = c.name.trim().to_owned();
        if calendar.is_empty() {
            return Err(CalendarError::EmptyName);
        }
        let tz = TimeZone::get(c.time_zone.trim()).map_err(|_| CalendarError::UnknownTimeZone {
            calendar: calendar.clone(),
            time_zone: c.time_zone.clone(),
        })?;

        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        if c.hours.is_empty() {
            week = std::array::from_fn(|_| vec![(0, MINUTES_PER_DAY)]);
        }
        let mut seen = [false; 7];
        for (key, ranges) in &c.hours {
            let Some(day) = day_index(key) else {
                return Err(CalendarError::UnknownDay {
                    calendar,
                    day: key.clone(),
                });
            };
            let day_name = DAY_NAMES[day].0.to_owned();
            if std::mem::replace(&mut seen[day], true) {
                return Err(CalendarError::DuplicateDay {
                    calendar,
                    day: day_name,
                });
            }
            let mut parsed = Vec::with_capacity(ranges.len());
            for range in ranges {
                let Some(r) = parse_range(range) else {
                    return Err(CalendarError::BadRange {
                        calendar,
                        day: day_name,
                        range: range.clone(),
                    });
                };
                parsed.push(r);
            }
            parsed.sort_unstable();
            if let Some(w) = parsed.windows(2).find(|w| w[1].0 < w[0].1) {
                return Err(CalendarError::Overlap {
                    calendar,
                    day: day_name,
                    first: fmt_range(w[0]),
                    second: fmt_range(w[1]),
                });
            }
            week[day] = parsed;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NoHours { calendar });
        }

        let mut holidays = Vec::with_capacity(c.holidays.len());
        for text in &c.holidays {
            let date: Date = text.trim().parse().map_err(|_| CalendarError::BadHoliday {
                calendar: calendar.clone(),
                date: text.clone(),
            })?;
            holidays.extend(day_number(date));
        }
        holidays.sort_unstable();
        holidays.dedup();

        let always = holidays.is_empty()
            && week
                .iter()
                .all(|day| day.as_slice() == [(0, MINUTES_PER_DAY)]);
        Ok(Self {
            name: calendar,
            tz,
            week,
            holidays,
            always,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The opening hours for people: consecutive days with the same hours together
    /// (`mon-fri 09:00-17:00, sat 10:00-14:00`), closed days left out, and the number of
    /// holidays; `24x7` when always open.
    pub fn describe(&self) -> String {
        if self.always {
            return "24x7".to_owned();
        }
        let mut parts: Vec<String> = Vec::new();
        let mut day = 0;
        while day < 7 {
            let ranges = &self.week[day];
            let mut last = day;
            while last + 1 < 7 && self.week[last + 1] == *ranges {
                last += 1;
            }
            if !ranges.is_empty() {
                let days = if last == day {
                    DAY_NAMES[day].0.to_owned()
                } else {
                    format!("{}-{}", DAY_NAMES[day].0, DAY_NAMES[last].0)
                };
                let hours: Vec<String> = ranges.iter().copied().map(fmt_range).collect();
                parts.push(format!("{days} {}", hours.join(" ")));
            }
            day = last + 1;
        }
        let mut out = parts.join(", ");
        match self.holidays.len() {
            0 => {}
            1 => out.push_str("; 1 holiday"),
            n => out.push_str(&format!("; {n} holidays")),
        }
        out
    }

    /// The IANA name of the calendar's zone (`UTC` for [`BusinessCalendar::always`]).
    pub fn time_zone(&self) -> &str {
        self.tz.iana_name().unwrap_or("UTC")
    }

    pub fn is_open(&self, t: Timestamp) -> bool {
        if self.always {
            return true;
        }
        // Intervals come clipped to start no earlier than `t`: the first one starts at `t`
        // exactly when `t` is inside it.
        let mut open = false;
        let today = self.local_day(t.millis());
        self.scan(t.millis(), Some(today), |s, _| {
            open = s == t.millis();
            false
        });
        open
    }

    /// The instant at which `ms` milliseconds of business time have elapsed counting from
    /// `start`. Zero (or less) is `start` itself; a target that would land past the year 9999
    /// is `Timestamp(i64::MAX)`, i.e. never.
    pub fn add_business_millis(&self, start: Timestamp, ms: i64) -> Timestamp {
        if ms <= 0 {
            return start;
        }
        if self.always {
            return start.plus_millis(ms);
        }
        let mut remaining = ms;
        let mut at = None;
        self.scan(start.millis(), None, |s, e| {
            let len = e - s;
            if remaining <= len {
                at = Some(s + remaining);
                false
            } else {
                remaining -= len;
                true
            }
        });
        Timestamp(at.unwrap_or(i64::MAX))
    }

    /// Business milliseconds in `[a, b)`; 0 if `b <= a`.
    pub fn business_millis_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        let (a, b) = (a.millis(), b.millis());
        if b <= a {
            return 0;
        }
        if self.always {
            return b - a;
        }
        let mut total = 0;
        self.scan(a, Some(self.local_day(b)), |s, e| {
            if s >= b {
                return false;
            }
            total += e.min(b) - s;
            e < b
        });
        total
    }

    /// The local day number (days since 1970-01-01 on the calendar's wall clock) of an instant.
    fn local_day(&self, ms: i64) -> i64 {
        (ms.saturating_add(self.offset_ms(ms))).div_euclid(DAY_MS)
    }

    fn offset_ms(&self, ms: i64) -> i64 {
        let ts = jiff::Timestamp::from_millisecond(ms.clamp(MIN_MS, MAX_MS))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        i64::from(self.tz.to_offset(ts).seconds()) * 1000
    }

    /// The stretch of instants from `from` up to the zone's next transition, with its offset.
    fn segment(&self, from: i64) -> Segment {
        let offset_ms = self.offset_ms(from);
        let end = jiff::Timestamp::from_millisecond(from.clamp(MIN_MS, MAX_MS))
            .ok()
            .and_then(|ts| self.tz.following(ts).next())
            .map_or(i64::MAX, |tr| tr.timestamp().as_millisecond());
        Segment {
            start: from,
            end,
            offset_ms,
        }
    }

    fn is_closed_day(&self, day: i64) -> bool {
        self.week[weekday(day)].is_empty()
            || (!self.holidays.is_empty() && self.holidays.binary_search(&day).is_ok())
    }

    /// Open intervals from `from` on, clipped to start no earlier than `from`, in order, day by
    /// day, until `visit` says stop, the local day `last_day` is done, or dates run out.
    ///
    /// Closed days cost a weekday lookup. On an open day far enough from any offset change
    /// (the common case) a local minute is an instant by plain arithmetic; only the few days
    /// around a transition are read off the zone's offsets piece by piece.
    fn scan(&self, from: i64, last_day: Option<i64>, mut visit: impl FnMut(i64, i64) -> bool) {
        // An interval belongs to the local day it starts on and ends by the next local
        // midnight; the day before `from` is included as well because a fold at midnight lets
        // two local days share instants.
        // Business time before the year 1 is not worth a loop over millions of days.
        let from = from.max(MIN_MS);
        let mut day = self.local_day(from) - 1;
        let mut seg = self.segment(day * DAY_MS - self.offset_ms(from) - SAFE_MS);
        // Keeps what is visited disjoint and in order even where a fold makes the evening of
        // one local day and the morning of the next share instants.
        let mut floor = from;
        let mut emit = |s: i64, e: i64| -> bool {
            if e <= floor || e <= s {
                return true;
            }
            let go_on = visit(s.max(floor), e);
            floor = e;
            go_on
        };
        let mut near_transition = Vec::new();
        loop {
            let midnight = day * DAY_MS - seg.offset_ms;
            if midnight > MAX_MS {
                return;
            }
            if !self.is_closed_day(day) {
                if midnight - SAFE_MS >= seg.end {
                    seg = self.segment(midnight - SAFE_MS);
                }
                if seg.covers(day) {
                    let midnight = day * DAY_MS - seg.offset_ms;
                    for &(start, end) in &self.week[weekday(day)] {
                        let s = midnight + i64::from(start) * MINUTE_MS;
                        if !emit(s, midnight + i64::from(end) * MINUTE_MS) {
                            return;
                        }
                    }
                } else {
                    self.wall_clock_intervals(day, &mut near_transition);
                    for &(s, e) in &near_transition {
                        if !emit(s, e) {
                            return;
                        }
                    }
                }
            }
            if last_day.is_some_and(|last| day >= last) {
                return;
            }
            day += 1;
        }
    }

    /// The open intervals of local day `day`, sorted, as the instants at which the wall clock
    /// shows that day and a time inside one of its ranges. Each stretch of constant offset
    /// around the day contributes its share, which is what makes gaps and folds come out
    /// right: an hour skipped in spring is not business time, an hour repeated in autumn
    /// counts twice if it is inside the range, and a day a zone skipped altogether (Samoa,
    /// 2011-12-30) has no hours.
    fn wall_clock_intervals(&self, day: i64, out: &mut Vec<(i64, i64)>) {
        out.clear();
        let ranges = &self.week[weekday(day)];
        let local_midnight = day * DAY_MS;
        let window_end = local_midnight + DAY_MS + SAFE_MS;
        let mut at = local_midnight - SAFE_MS;
        while at < window_end {
            let seg = self.segment(at);
            let piece_end = seg.end.min(window_end);
            for &(start, end) in ranges {
                let s = (local_midnight + i64::from(start) * MINUTE_MS - seg.offset_ms).max(at);
                let e =
                    (local_midnight + i64::from(end) * MINUTE_MS - seg.offset_ms).min(piece_end);
                if s < e {
                    out.push((s, e));
                }
            }
            if seg.end <= at {
                break;
            }
            at = seg.end;
        }
        out.sort_unstable();
    }
}

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// More than any offset change a zone has ever made (Samoa skipped a whole day in 2011; the
/// widest offsets are 26 hours apart).
const SAFE_MS: i64 = 2 * DAY_MS;
/// 0001-01-01 and 9999-12-30 UTC: inside what jiff represents in every zone.
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_128_000_000;

/// Instants `[start, end)` over which the zone keeps one UTC offset.
#[derive(Clone, Copy)]
struct Segment {
    start: i64,
    end: i64,
    offset_ms: i64,
}

impl Segment {
    /// Whether every wall-clock time of local day `day` maps to exactly one instant by
    /// subtracting this offset. That holds when the day's naive instants lie inside the segment
    /// with `SAFE_MS` to spare on both sides: any other reading of the same wall time would
    /// need a different offset, i.e. an instant outside the segment, yet closer than `SAFE_MS`.
    fn covers(&self, day: i64) -> bool {
        let midnight = day * DAY_MS - self.offset_ms;
        midnight - SAFE_MS >= self.start && midnight + DAY_MS + SAFE_MS <= self.end
    }
}

/// Monday = 0; 1970-01-01 was a Thursday.
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

fn day_number(date: Date) -> Option<i64> {
    let ts = TimeZone::UTC
        .to_ambiguous_timestamp(date.at(0, 0, 0, 0))
        .compatible()
        .ok()?;
    Some(ts.as_millisecond().div_euclid(DAY_MS))
}

#[cfg(test)]
mod tests;
