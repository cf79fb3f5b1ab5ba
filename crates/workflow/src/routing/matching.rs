//! The compiled forms of a queue's conditions and required skills, and how a case or an agent
//! is held against them. Values are lower-cased once at compile time so a decision only
//! compares.

use super::{AgentView, QueueConditions, RouteCase, RoutingError};
use jiff::tz::TimeZone;
use sb_domain::{CasePriority, Platform, Tier, Timestamp};

/// A queue's conditions, ready to test a case against.
#[derive(Clone, Debug)]
pub(super) struct Conditions {
    languages: Vec<String>,
    regions: Vec<String>,
    intents: Vec<String>,
    tiers: Vec<Tier>,
    priorities: Vec<CasePriority>,
    platforms: Vec<Platform>,
    products: Vec<String>,
    window: Option<Window>,
}

impl Conditions {
    pub(super) fn compile(queue: &str, c: &QueueConditions) -> Result<Self, RoutingError> {
        let window = match (&c.time_zone, c.hours.is_empty()) {
            (None, true) => None,
            (None, false) => {
                return Err(RoutingError::HoursWithoutTimeZone {
                    queue: queue.to_owned(),
                });
            }
            (Some(_), true) => {
                return Err(RoutingError::TimeZoneWithoutHours {
                    queue: queue.to_owned(),
                });
            }
            (Some(tz), false) => Some(Window::compile(queue, tz, &c.hours)?),
        };
        Ok(Self {
            languages: normalized(&c.languages),
            regions: normalized(&c.regions),
            intents: normalized(&c.intents),
            tiers: c.tiers.clone(),
            priorities: c.priorities.clone(),
            platforms: c.platforms.clone(),
            products: normalized(&c.products),
            window,
        })
    }

    pub(super) fn matches(&self, case: &RouteCase) -> bool {
        listed(&self.languages, case.language.as_deref(), language_matches)
            && listed(&self.regions, case.region.as_deref(), same_text)
            && listed(&self.intents, case.intent.as_deref(), same_text)
            && listed(&self.products, case.product.as_deref(), same_text)
            && (self.tiers.is_empty() || self.tiers.contains(&case.tier))
            && (self.priorities.is_empty() || self.priorities.contains(&case.priority))
            && (self.platforms.is_empty() || self.platforms.contains(&case.platform))
            && self.window.as_ref().is_none_or(|w| w.contains(case.at))
    }
}

/// Whether a non-empty condition list takes the case's value; a case without a value is not
/// taken by a queue that asks for one.
fn listed(list: &[String], value: Option<&str>, eq: fn(&str, &str) -> bool) -> bool {
    if list.is_empty() {
        return true;
    }
    value.is_some_and(|v| list.iter().any(|l| eq(l, v)))
}

/// Local time-of-day windows in one time zone.
#[derive(Clone, Debug)]
struct Window {
    tz: TimeZone,
    /// `(start, end)` in minutes of the day, end exclusive; `start > end` wraps midnight.
    spans: Vec<(u16, u16)>,
}

impl Window {
    fn compile(queue: &str, time_zone: &str, hours: &[String]) -> Result<Self, RoutingError> {
        let tz = TimeZone::get(time_zone).map_err(|_| RoutingError::BadTimeZone {
            queue: queue.to_owned(),
            time_zone: time_zone.to_owned(),
        })?;
        let spans = hours
            .iter()
            .map(|h| {
                parse_span(h).map_err(|why| RoutingError::BadHours {
                    queue: queue.to_owned(),
                    hours: h.clone(),
                    why,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { tz, spans })
    }

    fn contains(&self, at: Timestamp) -> bool {
        // A timestamp outside jiff's range is no time of day at all, so no window holds it.
        let Ok(ts) = jiff::Timestamp::from_millisecond(at.millis()) else {
            return false;
        };
        let local = self.tz.to_datetime(ts);
        // Hours and minutes are 0..24 and 0..60, so the sum fits a u16.
        let minute = (local.hour() as u16) * 60 + local.minute() as u16;
        self.spans.iter().any(|&(start, end)| {
            if start < end {
                (start..end).contains(&minute)
            } else {
                minute >= start || minute < end
            }
        })
    }
}

fn parse_span(s: &str) -> Result<(u16, u16), &'static str> {
    let (start, end) = s
        .split_once('-')
        .ok_or("expected HH:MM-HH:MM, e.g. 22:00-06:00")?;
    let start = parse_clock(start.trim())?;
    let end = parse_clock(end.trim())?;
    if start == 24 * 60 {
        return Err("a window cannot start at 24:00");
    }
    if start == end {
        return Err("start and end are the same, so the window is empty");
    }
    // `00:00-24:00` becomes (0, 0), which `contains` reads as wrapping: the whole day.
    Ok((start, end % (24 * 60)))
}

fn parse_clock(s: &str) -> Result<u16, &'static str> {
    const BAD: &str = "expected HH:MM-HH:MM with hours 00-24 and minutes 00-59";
    let (h, m) = s.split_once(':').ok_or(BAD)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(BAD);
    }
    let h: u16 = h.parse().map_err(|_| BAD)?;
    let m: u16 = m.parse().map_err(|_| BAD)?;
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(BAD);
    }
    Ok(h * 60 + m)
}

/// A skill a queue requires of its agents, held only by an explicit listing (an agent's empty
/// list means "any", which is a fallback, not a qualification).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Skill {
    Language(String),
    Region(String),
    Product(String),
    Tier(Tier),
}

impl Skill {
    pub(super) fn parse(queue: &str, s: &str) -> Result<Self, RoutingError> {
        let bad = || RoutingError::BadSkill {
            queue: queue.to_owned(),
            skill: s.to_owned(),
        };
        let (dimension, value) = s.split_once(':').ok_or_else(bad)?;
        let value = value.trim().to_lowercase();
        if value.is_empty() {
            return Err(bad());
        }
        Ok(match dimension.trim().to_lowercase().as_str() {
            "language" => Self::Language(value),
            "region" => Self::Region(value),
            "product" => Self::Product(value),
            "tier" => Self::Tier(Tier::parse(&value).ok_or_else(bad)?),
            _ => return Err(bad()),
        })
    }

    pub(super) fn held_by(&self, agent: &AgentView) -> bool {
        match self {
            Self::Language(l) => agent.languages.iter().any(|a| language_matches(l, a)),
            Self::Region(r) => agent.regions.contains(r),
            Self::Product(p) => agent.products.contains(p),
            Self::Tier(t) => agent.tiers.contains(t),
        }
    }
}

/// How well an agent fits a case on the four skill dimensions: explicit matches first, then
/// dimensions where the agent takes "any". Compared lexicographically, so one explicit match
/// outweighs any number of "any"s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Fit {
    explicit: u8,
    any: u8,
}

impl Fit {
    pub(super) fn of(agent: &AgentView, case: &RouteCase) -> Self {
        let mut fit = Self::default();
        let mut add = |list_empty: bool, matched: bool| {
            if list_empty {
                fit.any += 1;
            } else if matched {
                fit.explicit += 1;
            }
        };
        if let Some(lang) = case.language.as_deref() {
            let matched = agent.languages.iter().any(|a| language_matches(a, lang));
            add(agent.languages.is_empty(), matched);
        }
        if let Some(region) = case.region.as_deref() {
            let matched = agent.regions.iter().any(|a| same_text(a, region));
            add(agent.regions.is_empty(), matched);
        }
        if let Some(product) = case.product.as_deref() {
            let matched = agent.products.iter().any(|a| same_text(a, product));
            add(agent.products.is_empty(), matched);
        }
        add(agent.tiers.is_empty(), agent.tiers.contains(&case.tier));
        fit
    }
}

pub(super) fn normalized(list: &[String]) -> Vec<String> {
    list.iter().map(|s| s.trim().to_lowercase()).collect()
}

fn same_text(listed: &str, value: &str) -> bool {
    listed.eq_ignore_ascii_case(value.trim())
}

/// `de` takes `de`, `de-AT` and `de_CH`: a queue or agent listing a language takes its regional
/// variants, but `de-AT` does not take plain `de`.
pub(super) fn language_matches(listed: &str, tag: &str) -> bool {
    let tag = tag.trim();
    if listed.eq_ignore_ascii_case(tag) {
        return true;
    }
    match (tag.get(..listed.len()), tag.as_bytes().get(listed.len())) {
        (Some(prefix), Some(b'-' | b'_')) => prefix.eq_ignore_ascii_case(listed),
        _ => false,
    }
}
