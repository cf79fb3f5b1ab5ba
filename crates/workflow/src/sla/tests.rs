#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use sb_domain::CaseStatus::*;

const MIN: i64 = 60_000;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap_or_else(|| panic!("bad test time {s}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    calendars: Vec<CalendarConfig>,
    #[serde(default)]
    policies: Vec<SlaPolicyConfig>,
}

const CONFIG: &str = r#"
[[calendars]]
name = "berlin-night"
time_zone = "Europe/Berlin"
[calendars.hours]
mon = ["00:00-06:00", "22:00-24:00"]
tue = ["00:00-06:00", "22:00-24:00"]
wed = ["00:00-06:00", "22:00-24:00"]
thu = ["00:00-06:00", "22:00-24:00"]
fri = ["00:00-06:00", "22:00-24:00"]
sat = ["00:00-06:00", "22:00-24:00"]
sun = ["00:00-06:00", "22:00-24:00"]

[[calendars]]
name = "berlin-office"
time_zone = "Europe/Berlin"
holidays = ["2026-05-25", "2026-12-25"]
[calendars.hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]

[[policies]]
name = "vip-urgent"
when = { tiers = ["vip"], priorities = ["urgent", "high"] }
first_response_mins = 15
next_response_mins = 30
resolution_mins = 240

[[policies]]
name = "night-desk"
when = { channels = ["Phone"] }
first_response_mins = 60
next_response_mins = 60
resolution_mins = 480
calendar = "berlin-night"

[[policies]]
name = "office"
when = { platforms = ["email"], intents = ["billing", "refund"] }
first_response_mins = 60
next_response_mins = 120
resolution_mins = 960
calendar = "berlin-office"
warn_at = 0.5

[[policies]]
name = "standard"
first_response_mins = 240
resolution_mins = 2880
"#;

fn policies() -> SlaPolicies {
    let c: Config = toml::from_str(CONFIG).unwrap();
    SlaPolicies::compile(&c.policies, &c.calendars).unwrap()
}

fn policy(name: &str) -> SlaPolicy {
    policies().get(name).unwrap().clone()
}

/// A policy measuring only first response, for the scenarios that are about one clock.
fn first_response_only(name: &str) -> SlaPolicy {
    let mut p = policy(name);
    p.next_response_ms = None;
    p.resolution_ms = None;
    p
}

type Brief = (ClockEventKind, Metric, Timestamp, i64);

fn brief(events: &[ClockEvent]) -> Vec<Brief> {
    events
        .iter()
        .map(|e| (e.kind, e.metric, e.at, e.elapsed_ms))
        .collect()
}

use ClockEventKind::{Activate, Breach, Cancel, Fulfil, Pause, Resume, Warn};
use Metric::{FirstResponse, NextResponse, Resolution};

fn status(to: CaseStatus, t: &str) -> CaseEvent {
    CaseEvent::StatusChanged { to, at: at(t) }
}

fn reply(t: &str) -> CaseEvent {
    CaseEvent::HumanReply {
        at: at(t),
        public: true,
    }
}

fn customer(t: &str) -> CaseEvent {
    CaseEvent::CustomerMessage { at: at(t) }
}

// --- The night desk ---------------------------------------------------------------------

#[test]
fn night_case_opened_at_eleven_warns_at_quarter_to_and_breaches_at_midnight() {
    let p = first_response_only("night-desk");
    let opened = at("2026-11-23T23:00:00+01:00");
    let (mut s, events) = SlaState::start(&p, opened);
    assert_eq!(brief(&events), vec![(Activate, FirstResponse, opened, 0)]);
    assert_eq!(s.next_due(), Some(at("2026-11-23T23:45:00+01:00")));

    assert!(s.tick(&p, at("2026-11-23T23:44:59+01:00")).is_empty());
    // The sweep runs late; the events still carry the true instants.
    let fired = s.tick(&p, at("2026-11-24T01:00:00+01:00"));
    assert_eq!(
        brief(&fired),
        vec![
            (
                Warn,
                FirstResponse,
                at("2026-11-23T23:45:00+01:00"),
                45 * MIN
            ),
            (
                Breach,
                FirstResponse,
                at("2026-11-24T00:00:00+01:00"),
                60 * MIN
            ),
        ]
    );
    assert_eq!(s.next_due(), None);
    assert!(s.tick(&p, at("2026-11-24T02:00:00+01:00")).is_empty());

    // Still running after the breach; the reply shows how late it was.
    let c = s.clock(FirstResponse).unwrap();
    assert_eq!(
        (c.status, c.warned, c.breached),
        (ClockStatus::Running, true, true)
    );
    let done = s.apply(&p, &reply("2026-11-24T00:30:00+01:00"));
    assert_eq!(
        brief(&done),
        vec![(
            Fulfil,
            FirstResponse,
            at("2026-11-24T00:30:00+01:00"),
            90 * MIN
        )]
    );
    assert!(done[0].elapsed_ms > done[0].target_ms);
}

#[test]
fn night_case_pending_for_twenty_minutes_warns_and_breaches_twenty_minutes_later() {
    let p = first_response_only("night-desk");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T23:00:00+01:00"));
    let paused = s.apply(&p, &status(Pending, "2026-11-23T23:10:00+01:00"));
    assert_eq!(
        brief(&paused),
        vec![(
            Pause,
            FirstResponse,
            at("2026-11-23T23:10:00+01:00"),
            10 * MIN
        )]
    );
    assert_eq!(s.next_due(), None, "a paused clock cannot fire");
    assert!(s.tick(&p, at("2026-11-23T23:50:00+01:00")).is_empty());

    let resumed = s.apply(&p, &status(Open, "2026-11-23T23:30:00+01:00"));
    assert_eq!(
        brief(&resumed),
        vec![(
            Resume,
            FirstResponse,
            at("2026-11-23T23:30:00+01:00"),
            10 * MIN
        )]
    );
    let c = s.clock(FirstResponse).unwrap();
    assert_eq!(c.warn_at, Some(at("2026-11-24T00:05:00+01:00")));
    assert_eq!(c.due_at, Some(at("2026-11-24T00:20:00+01:00")));
    assert_eq!(
        brief(&s.tick(&p, at("2026-11-24T00:30:00+01:00"))),
        vec![
            (
                Warn,
                FirstResponse,
                at("2026-11-24T00:05:00+01:00"),
                45 * MIN
            ),
            (
                Breach,
                FirstResponse,
                at("2026-11-24T00:20:00+01:00"),
                60 * MIN
            ),
        ]
    );
}

#[test]
fn night_desk_over_the_spring_and_autumn_clock_changes() {
    let p = first_response_only("night-desk");
    // 01:30 winter time; the clock jumps 02:00 -> 03:00, so an hour later reads 03:30.
    let (s, _) = SlaState::start(&p, at("2026-03-29T01:30:00+01:00"));
    assert_eq!(
        s.clock(FirstResponse).unwrap().due_at,
        Some(at("2026-03-29T03:30:00+02:00"))
    );
    // 02:30 summer time; the clock goes back 03:00 -> 02:00, so an hour later reads 02:30 again.
    let (s, _) = SlaState::start(&p, at("2026-10-25T02:30:00+02:00"));
    let c = s.clock(FirstResponse).unwrap();
    assert_eq!(c.warn_at, Some(at("2026-10-25T02:15:00+01:00")));
    assert_eq!(c.due_at, Some(at("2026-10-25T02:30:00+01:00")));
}

// --- The office -------------------------------------------------------------------------

#[test]
fn friday_afternoon_billing_case_breaches_monday_morning() {
    let p = first_response_only("office");
    let (s, _) = SlaState::start(&p, at("2026-11-20T16:30:00+01:00"));
    let c = s.clock(FirstResponse).unwrap();
    // warn_at = 0.5 for this policy: 30 minutes on Friday.
    assert_eq!(c.warn_at, Some(at("2026-11-20T17:00:00+01:00")));
    assert_eq!(c.due_at, Some(at("2026-11-23T09:30:00+01:00")));
}

#[test]
fn whit_monday_pushes_the_breach_to_tuesday() {
    let p = first_response_only("office");
    let (mut s, _) = SlaState::start(&p, at("2026-05-22T16:30:00+02:00"));
    assert_eq!(s.next_due(), Some(at("2026-05-22T17:00:00+02:00")));
    let fired = s.tick(&p, at("2026-05-26T12:00:00+02:00"));
    assert_eq!(
        brief(&fired),
        vec![
            (
                Warn,
                FirstResponse,
                at("2026-05-22T17:00:00+02:00"),
                30 * MIN
            ),
            (
                Breach,
                FirstResponse,
                at("2026-05-26T09:30:00+02:00"),
                60 * MIN
            ),
        ]
    );
}

#[test]
fn weekend_over_the_spring_clock_change_breaches_at_half_past_nine_summer_time() {
    let p = first_response_only("office");
    let (s, _) = SlaState::start(&p, at("2026-03-27T16:30:00+01:00"));
    assert_eq!(
        s.clock(FirstResponse).unwrap().due_at,
        Some(at("2026-03-30T07:30:00Z"))
    );
}

// --- Response clocks ----------------------------------------------------------------------

#[test]
fn only_a_public_human_reply_answers_the_customer() {
    let p = policy("standard");
    let (mut s, events) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    assert_eq!(
        brief(&events),
        vec![
            (Activate, FirstResponse, at("2026-11-23T10:00:00Z"), 0),
            (Activate, Resolution, at("2026-11-23T10:00:00Z"), 0),
        ]
    );
    let note = CaseEvent::HumanReply {
        at: at("2026-11-23T10:05:00Z"),
        public: false,
    };
    assert!(s.apply(&p, &note).is_empty());
    let bot = CaseEvent::AutomatedReply {
        at: at("2026-11-23T10:06:00Z"),
    };
    assert!(s.apply(&p, &bot).is_empty());
    assert_eq!(s.clock(FirstResponse).unwrap().status, ClockStatus::Running);

    let answered = s.apply(&p, &reply("2026-11-23T10:20:00Z"));
    assert_eq!(
        brief(&answered),
        vec![(Fulfil, FirstResponse, at("2026-11-23T10:20:00Z"), 20 * MIN)]
    );
    let c = s.clock(FirstResponse).unwrap();
    assert_eq!(c.status, ClockStatus::Fulfilled);
    assert!(!c.breached);
    // A second reply has nothing left to fulfil.
    assert!(s.apply(&p, &reply("2026-11-23T10:25:00Z")).is_empty());
    // The resolution clock is untouched by replies.
    assert_eq!(s.clock(Resolution).unwrap().status, ClockStatus::Running);
}

#[test]
fn each_customer_follow_up_after_an_answer_starts_a_next_response_clock() {
    let p = policy("vip-urgent");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    // Writing again before anyone answered is still the first response's business.
    assert!(s.apply(&p, &customer("2026-11-23T10:02:00Z")).is_empty());
    assert!(s.clock(NextResponse).is_none());

    s.apply(&p, &reply("2026-11-23T10:10:00Z"));
    let started = s.apply(&p, &customer("2026-11-23T10:30:00Z"));
    assert_eq!(
        brief(&started),
        vec![(Activate, NextResponse, at("2026-11-23T10:30:00Z"), 0)]
    );
    // More messages while waiting do not restart the clock.
    assert!(s.apply(&p, &customer("2026-11-23T10:40:00Z")).is_empty());
    assert_eq!(
        s.clock(NextResponse).unwrap().due_at,
        Some(at("2026-11-23T11:00:00Z"))
    );
    let warned = s.tick(&p, at("2026-11-23T10:53:00Z"));
    assert_eq!(
        brief(&warned),
        vec![(
            Warn,
            NextResponse,
            at("2026-11-23T10:52:30Z"),
            22 * MIN + 30_000
        )]
    );

    let answered = s.apply(&p, &reply("2026-11-23T10:55:00Z"));
    assert_eq!(
        brief(&answered),
        vec![(Fulfil, NextResponse, at("2026-11-23T10:55:00Z"), 25 * MIN)]
    );

    // The next follow-up gets a fresh clock, and may warn again.
    let again = s.apply(&p, &customer("2026-11-23T12:00:00Z"));
    assert_eq!(
        brief(&again),
        vec![(Activate, NextResponse, at("2026-11-23T12:00:00Z"), 0)]
    );
    let c = s.clock(NextResponse).unwrap();
    assert_eq!(
        (c.status, c.warned, c.elapsed_ms),
        (ClockStatus::Running, false, 0)
    );
    assert_eq!(
        s.clock(FirstResponse).unwrap().status,
        ClockStatus::Fulfilled
    );
}

#[test]
fn due_warnings_and_breaches_come_before_the_event_that_follows_them() {
    let p = first_response_only("night-desk");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T23:00:00+01:00"));
    // Nobody ticked; the reply at 00:30 still reports the warning and breach first.
    let events = s.apply(&p, &reply("2026-11-24T00:30:00+01:00"));
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![Warn, Breach, Fulfil]);
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn a_reply_at_the_very_breach_instant_is_late() {
    let p = first_response_only("night-desk");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T23:00:00+01:00"));
    let events = s.apply(&p, &reply("2026-11-24T00:00:00+01:00"));
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![Warn, Breach, Fulfil]);
    assert_eq!(events[2].elapsed_ms, 60 * MIN);
}

// --- Resolution, pauses and reopens ----------------------------------------------------------

#[test]
fn pending_and_on_hold_pause_every_running_clock() {
    let p = policy("vip-urgent");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    s.apply(&p, &reply("2026-11-23T10:05:00Z"));
    s.apply(&p, &customer("2026-11-23T10:10:00Z"));

    let paused = s.apply(&p, &status(Pending, "2026-11-23T10:20:00Z"));
    assert_eq!(
        brief(&paused),
        vec![
            (Pause, NextResponse, at("2026-11-23T10:20:00Z"), 10 * MIN),
            (Pause, Resolution, at("2026-11-23T10:20:00Z"), 20 * MIN),
        ]
    );
    // Already waiting: nothing changes, nothing is reported.
    assert!(
        s.apply(&p, &status(Pending, "2026-11-23T10:30:00Z"))
            .is_empty()
    );
    assert!(
        s.apply(&p, &status(OnHold, "2026-11-23T10:40:00Z"))
            .is_empty()
    );
    assert_eq!(s.status(), OnHold);
    assert_eq!(s.next_due(), None);

    let resumed = s.apply(&p, &status(Open, "2026-11-23T14:00:00Z"));
    assert_eq!(
        brief(&resumed),
        vec![
            (Resume, NextResponse, at("2026-11-23T14:00:00Z"), 10 * MIN),
            (Resume, Resolution, at("2026-11-23T14:00:00Z"), 20 * MIN),
        ]
    );
    assert!(
        s.apply(&p, &status(Escalated, "2026-11-23T14:01:00Z"))
            .is_empty()
    );
    // Paused time did not count.
    assert_eq!(
        s.elapsed_ms(&p, Resolution, at("2026-11-23T15:00:00Z")),
        Some(80 * MIN)
    );
    assert_eq!(s.next_due(), Some(at("2026-11-23T14:12:30Z")));
}

#[test]
fn a_reopen_resumes_resolution_without_rewriting_history() {
    let p = policy("vip-urgent");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    s.apply(&p, &reply("2026-11-23T10:05:00Z"));
    let first = s.apply(&p, &status(Resolved, "2026-11-23T11:00:00Z"));
    assert_eq!(
        brief(&first),
        vec![(Fulfil, Resolution, at("2026-11-23T11:00:00Z"), 60 * MIN)]
    );
    assert!(
        s.apply(&p, &status(Closed, "2026-11-23T12:00:00Z"))
            .is_empty()
    );

    // The customer comes back the next day; the case reopens.
    let reopened = s.apply(&p, &status(Open, "2026-11-24T09:00:00Z"));
    assert_eq!(
        brief(&reopened),
        vec![(Resume, Resolution, at("2026-11-24T09:00:00Z"), 60 * MIN)]
    );
    let follow_up = s.apply(&p, &customer("2026-11-24T09:00:00Z"));
    assert_eq!(
        brief(&follow_up),
        vec![(Activate, NextResponse, at("2026-11-24T09:00:00Z"), 0)]
    );
    s.apply(&p, &reply("2026-11-24T09:10:00Z"));
    let last = s.apply(&p, &status(Resolved, "2026-11-24T09:30:00Z"));
    assert_eq!(
        brief(&last),
        vec![(Fulfil, Resolution, at("2026-11-24T09:30:00Z"), 90 * MIN)]
    );
    let c = s.clock(Resolution).unwrap();
    assert_eq!(c.first_fulfilled_at, Some(at("2026-11-23T11:00:00Z")));
    assert_eq!(c.fulfilled_at, Some(at("2026-11-24T09:30:00Z")));
}

#[test]
fn a_breached_resolution_stays_breached_after_a_reopen() {
    let p = policy("vip-urgent");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    s.apply(&p, &reply("2026-11-23T10:05:00Z"));
    let events = s.apply(&p, &status(Resolved, "2026-11-23T15:00:00Z"));
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![Warn, Breach, Fulfil]);
    s.apply(&p, &status(Open, "2026-11-24T09:00:00Z"));
    let c = s.clock(Resolution).unwrap();
    assert!(c.warned && c.breached);
    assert_eq!((c.warn_at, c.due_at), (None, None));
    assert!(s.tick(&p, at("2026-11-30T00:00:00Z")).is_empty());
}

#[test]
fn resolving_while_pending_and_reopening_into_pending() {
    let p = policy("standard");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    s.apply(&p, &status(Pending, "2026-11-23T10:30:00Z"));
    let resolved = s.apply(&p, &status(Resolved, "2026-11-23T18:00:00Z"));
    assert_eq!(
        brief(&resolved),
        vec![(Fulfil, Resolution, at("2026-11-23T18:00:00Z"), 30 * MIN)]
    );
    // Unanswered first response stays paused, not fulfilled.
    assert_eq!(s.clock(FirstResponse).unwrap().status, ClockStatus::Paused);

    let reopened = s.apply(&p, &status(Pending, "2026-11-24T08:00:00Z"));
    assert_eq!(
        brief(&reopened),
        vec![
            (Resume, Resolution, at("2026-11-24T08:00:00Z"), 30 * MIN),
            (Pause, Resolution, at("2026-11-24T08:00:00Z"), 30 * MIN),
        ]
    );
    let working = s.apply(&p, &status(Open, "2026-11-24T09:00:00Z"));
    let resumed: Vec<_> = working.iter().map(|e| (e.kind, e.metric)).collect();
    assert_eq!(resumed, vec![(Resume, FirstResponse), (Resume, Resolution)]);
}

#[test]
fn a_customer_message_on_a_waiting_case_starts_its_clock_paused() {
    let p = policy("vip-urgent");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    s.apply(&p, &reply("2026-11-23T10:05:00Z"));
    s.apply(&p, &status(Pending, "2026-11-23T10:06:00Z"));
    let events = s.apply(&p, &customer("2026-11-23T11:00:00Z"));
    assert_eq!(
        brief(&events),
        vec![
            (Activate, NextResponse, at("2026-11-23T11:00:00Z"), 0),
            (Pause, NextResponse, at("2026-11-23T11:00:00Z"), 0),
        ]
    );
    let events = s.apply(&p, &status(Open, "2026-11-23T11:00:05Z"));
    assert_eq!(events.len(), 2);
    assert_eq!(
        s.clock(NextResponse).unwrap().due_at,
        Some(at("2026-11-23T11:30:05Z"))
    );
}

#[test]
fn a_late_delivered_event_never_runs_a_clock_backwards() {
    let p = policy("standard");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    s.apply(&p, &status(Pending, "2026-11-23T11:00:00Z"));
    let events = s.apply(&p, &status(Open, "2026-11-23T10:30:00Z"));
    assert!(events.iter().all(|e| e.at == at("2026-11-23T11:00:00Z")));
    assert_eq!(s.clock(Resolution).unwrap().elapsed_ms, 60 * MIN);
    assert!(
        s.apply(
            &p,
            &CaseEvent::Opened {
                at: at("2026-11-23T12:00:00Z")
            }
        )
        .is_empty()
    );
}

// --- Changing policy ------------------------------------------------------------------------

#[test]
fn escalating_to_vip_tightens_running_clocks_and_fires_what_is_now_overdue() {
    let standard = policy("standard");
    let vip = policy("vip-urgent");
    let (mut s, _) = SlaState::start(&standard, at("2026-11-23T10:00:00Z"));
    let events = s.rebase(&vip, at("2026-11-23T10:20:00Z"));
    // 20 minutes in: past the 15-minute first-response target and its warning.
    assert_eq!(
        brief(&events),
        vec![
            (Warn, FirstResponse, at("2026-11-23T10:20:00Z"), 20 * MIN),
            (Breach, FirstResponse, at("2026-11-23T10:20:00Z"), 20 * MIN),
        ]
    );
    assert_eq!(s.policy, "vip-urgent");
    let r = s.clock(Resolution).unwrap();
    assert_eq!((r.elapsed_ms, r.target_ms), (20 * MIN, 240 * MIN));
    assert_eq!(r.warn_at, Some(at("2026-11-23T13:00:00Z")));
    assert_eq!(r.due_at, Some(at("2026-11-23T14:00:00Z")));
}

#[test]
fn moving_to_a_policy_without_a_metric_cancels_it_and_a_new_metric_starts_now() {
    let mut resolution_only = policy("standard");
    resolution_only.name = "resolution-only".into();
    resolution_only.first_response_ms = None;
    let standard = policy("standard");
    let (mut s, _) = SlaState::start(&standard, at("2026-11-23T10:00:00Z"));
    let cancelled = s.rebase(&resolution_only, at("2026-11-23T10:30:00Z"));
    assert_eq!(
        brief(&cancelled),
        vec![(Cancel, FirstResponse, at("2026-11-23T10:30:00Z"), 30 * MIN)]
    );
    assert!(s.next_due().is_some());

    let mut first_only = standard.clone();
    first_only.name = "first-only".into();
    first_only.resolution_ms = None;
    let events = s.rebase(&first_only, at("2026-11-23T11:00:00Z"));
    assert_eq!(
        brief(&events),
        vec![
            (Cancel, Resolution, at("2026-11-23T11:00:00Z"), 60 * MIN),
            (Activate, FirstResponse, at("2026-11-23T11:00:00Z"), 0),
        ]
    );
    // Rebasing onto the same policy changes nothing.
    assert!(s.rebase(&first_only, at("2026-11-23T11:05:00Z")).is_empty());
}

#[test]
fn a_resolved_case_reopened_under_a_policy_without_resolution_keeps_its_history() {
    let standard = policy("standard");
    let mut first_only = standard.clone();
    first_only.name = "first-only".into();
    first_only.resolution_ms = None;
    let (mut s, _) = SlaState::start(&standard, at("2026-11-23T10:00:00Z"));
    s.apply(&standard, &reply("2026-11-23T10:10:00Z"));
    s.apply(&standard, &status(Resolved, "2026-11-23T11:00:00Z"));
    assert!(s.rebase(&first_only, at("2026-11-23T12:00:00Z")).is_empty());
    assert!(
        s.apply(&first_only, &status(Open, "2026-11-23T13:00:00Z"))
            .is_empty()
    );
    let r = s.clock(Resolution).unwrap();
    assert_eq!((r.status, r.elapsed_ms), (ClockStatus::Fulfilled, 60 * MIN));
}

#[test]
fn a_looser_policy_moves_due_instants_later_and_checkpoint_keeps_the_old_calendar() {
    let office = first_response_only("office");
    let night = first_response_only("night-desk");
    let (mut s, _) = SlaState::start(&office, at("2026-11-23T16:40:00+01:00"));
    // Counted on the office calendar up to 18:00: 20 minutes.
    s.checkpoint(&office, at("2026-11-23T18:00:00+01:00"));
    let events = s.rebase(&night, at("2026-11-23T18:00:00+01:00"));
    assert!(events.is_empty());
    let c = s.clock(FirstResponse).unwrap();
    assert_eq!(c.elapsed_ms, 20 * MIN);
    assert_eq!(c.warn_at, Some(at("2026-11-23T22:25:00+01:00")));
    assert_eq!(c.due_at, Some(at("2026-11-23T22:40:00+01:00")));
}

// --- Storage ----------------------------------------------------------------------------------

#[test]
fn state_survives_a_json_round_trip_mid_flight() {
    let p = policy("vip-urgent");
    let (mut s, _) = SlaState::start(&p, at("2026-11-23T10:00:00Z"));
    s.apply(&p, &reply("2026-11-23T10:05:00Z"));
    s.apply(&p, &customer("2026-11-23T10:06:00Z"));
    s.apply(&p, &status(Pending, "2026-11-23T10:10:00Z"));
    let json = serde_json::to_string(&s).unwrap();
    let mut back: SlaState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        back.apply(&p, &status(Open, "2026-11-23T11:00:00Z")),
        s.apply(&p, &status(Open, "2026-11-23T11:00:00Z"))
    );
    let event_json = serde_json::to_value(&s.tick(&p, at("2026-11-23T11:30:00Z"))[0]).unwrap();
    assert_eq!(event_json["kind"], "warn");
    assert_eq!(event_json["metric"], "next_response");
}

#[test]
fn names_round_trip() {
    for m in Metric::ALL {
        assert_eq!(Metric::parse(m.as_str()), Some(m));
        assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
    }
    for k in ClockEventKind::ALL {
        assert_eq!(ClockEventKind::parse(k.as_str()), Some(k));
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    assert_eq!(Metric::parse("reply_time"), None);
    assert_eq!(ClockStatus::Paused.as_str(), "paused");
}

// --- Choosing a policy ------------------------------------------------------------------------

fn facts() -> CaseFacts {
    CaseFacts {
        intent: None,
        priority: CasePriority::Normal,
        platform: Platform::X,
        channel: "mentions".into(),
        product_criticality: None,
        tier: Tier::Standard,
    }
}

#[test]
fn the_first_policy_whose_conditions_all_hold_applies() {
    let ps = policies();
    let name = |f: &CaseFacts| ps.matching(f).map(|p| p.name.as_str());
    assert_eq!(name(&facts()), Some("standard"));

    let vip = CaseFacts {
        tier: Tier::Vip,
        priority: CasePriority::Urgent,
        channel: "phone".into(),
        ..facts()
    };
    assert_eq!(name(&vip), Some("vip-urgent"));
    // Only one of the two VIP conditions: falls through to the next policy that fits.
    let vip_normal = CaseFacts {
        priority: CasePriority::Normal,
        ..vip
    };
    assert_eq!(name(&vip_normal), Some("night-desk"));

    let billing_mail = CaseFacts {
        platform: Platform::Email,
        intent: Some("Billing".into()),
        ..facts()
    };
    assert_eq!(name(&billing_mail), Some("office"));
    let unclassified_mail = CaseFacts {
        intent: None,
        ..billing_mail.clone()
    };
    assert_eq!(name(&unclassified_mail), Some("standard"));
    let critical = SlaConditions {
        product_criticality: vec!["p1".into()],
        ..SlaConditions::default()
    };
    assert!(!critical.matches(&facts()));
    assert!(critical.matches(&CaseFacts {
        product_criticality: Some("P1".into()),
        ..facts()
    }));

    assert!(ps.get("office").is_some());
    assert!(ps.get("gold").is_none());
    assert_eq!(ps.len(), 4);
    assert_eq!(ps.get("standard").unwrap().calendar.name(), "24x7");
    assert_eq!(
        ps.get("night-desk").unwrap().calendar.name(),
        "berlin-night"
    );
    assert!(SlaPolicies::default().matching(&facts()).is_none());
}

fn compile_err(policies: &str) -> String {
    let c: Config = toml::from_str(&format!("{CONFIG}\n{policies}")).unwrap();
    SlaPolicies::compile(&c.policies, &c.calendars)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_policies_are_refused_with_their_name() {
    assert_eq!(
        compile_err("[[policies]]\nname = \"gold\"\nfirst_response_mins = 5\ncalendar = \"tokyo\""),
        "SLA policy gold: unknown calendar \"tokyo\""
    );
    assert_eq!(
        compile_err("[[policies]]\nname = \"office\"\nfirst_response_mins = 5"),
        "SLA policy office is defined twice"
    );
    for w in ["0.0", "1.0", "1.5", "-0.2", "nan"] {
        assert_eq!(
            compile_err(&format!(
                "[[policies]]\nname = \"gold\"\nfirst_response_mins = 5\nwarn_at = {w}"
            )),
            format!(
                "SLA policy gold: warn_at must be between 0 and 1 (exclusive), got {}",
                w.parse::<f64>().unwrap()
            )
        );
    }
    assert_eq!(
        compile_err("[[policies]]\nname = \"gold\"\ncalendar = \"berlin-office\""),
        "SLA policy gold sets no target (first_response_mins, next_response_mins or resolution_mins)"
    );
    assert_eq!(
        compile_err("[[policies]]\nname = \"gold\"\nresolution_mins = 0"),
        "SLA policy gold: resolution target must be 1 to 525600 minutes, got 0"
    );
    assert_eq!(
        compile_err("[[policies]]\nname = \"gold\"\nnext_response_mins = 600000"),
        "SLA policy gold: next_response target must be 1 to 525600 minutes, got 600000"
    );
    assert_eq!(
        compile_err("[[policies]]\nname = \"  \"\nresolution_mins = 5"),
        "an SLA policy has an empty name"
    );
    assert_eq!(
        compile_err("[[calendars]]\nname = \"berlin-office\"\ntime_zone = \"UTC\""),
        "calendar berlin-office is defined twice"
    );
    assert_eq!(
        compile_err("[[calendars]]\nname = \"tokyo\"\ntime_zone = \"Asia/Tokio\""),
        "calendar tokyo: unknown time zone \"Asia/Tokio\""
    );
    let unknown_field = toml::from_str::<Config>(
        "[[policies]]\nname = \"gold\"\nresolution_mins = 5\nwhen = { vip = true }",
    );
    assert!(unknown_field.is_err());
}

// --- The due index --------------------------------------------------------------------------

#[test]
fn due_index_hands_back_only_what_is_due_each_once() {
    let mut idx = DueIndex::new();
    idx.insert(7, at("2026-11-23T10:00:05Z"));
    idx.insert(3, at("2026-11-23T10:00:01Z"));
    idx.insert(9, at("2026-11-23T10:00:03Z"));
    idx.insert(3, at("2026-11-23T10:00:02Z")); // moved; the earlier entry is now stale
    assert_eq!(idx.peek_due(), Some(at("2026-11-23T10:00:01Z")));
    assert!(idx.pop_due(at("2026-11-23T10:00:00Z")).is_empty());
    assert_eq!(idx.pop_due(at("2026-11-23T10:00:03Z")), vec![3, 9]);
    assert_eq!(idx.len(), 1);
    // Only part of a second may be due.
    idx.insert(5, at("2026-11-23T10:00:04.500Z"));
    idx.insert(6, at("2026-11-23T10:00:04.200Z"));
    assert_eq!(idx.pop_due(at("2026-11-23T10:00:04.300Z")), vec![6]);
    assert_eq!(idx.peek_due(), Some(at("2026-11-23T10:00:04.500Z")));
    assert_eq!(idx.len(), 2);
    let mut buf = vec![42];
    idx.pop_due_into(at("2026-11-23T11:00:00Z"), &mut buf);
    assert_eq!(buf, vec![5, 7]);
    assert!(idx.is_empty());
}

#[test]
fn sweeping_with_the_due_index_fires_every_clock_on_time() {
    let p = policy("vip-urgent");
    let start = at("2026-11-23T10:00:00Z");
    let mut states: Vec<SlaState> = (0..50)
        .map(|i| SlaState::start(&p, start.plus_millis(i * 37 * MIN)).0)
        .collect();
    let mut idx = DueIndex::new();
    for (k, s) in states.iter().enumerate() {
        idx.insert(k as u32, s.next_due().unwrap());
    }
    let mut fired = Vec::new();
    let mut now = start;
    while let Some(next) = idx.peek_due() {
        // The sweep runs on whole seconds.
        now = now.max(next.plus_millis((1_000 - next.millis().rem_euclid(1_000)) % 1_000));
        for k in idx.pop_due(now) {
            let s = &mut states[k as usize];
            for e in s.tick(&p, now) {
                assert!(now.millis() - e.at.millis() < 1_000);
                fired.push(e);
            }
            if let Some(due) = s.next_due() {
                idx.insert(k, due);
            }
        }
    }
    // Every case warned and breached on both clocks.
    assert_eq!(fired.len(), 50 * 4);
}
