//! SLA sweep over 1,000,000 open cases: under 1 s, and clocks fire within 1 s of their due time.
//!
//! Builds a million case clocks under five policies (three on business calendars in three
//! zones), opened over the last three days, some answered, some with a customer follow-up,
//! some pending. Then measures, median of 5:
//!  (a) a full sweep: `tick` on every case at one instant (the sweep before ran a second earlier);
//!  (b) a due-index sweep: every second over two hours around the Berlin office opening, only
//!      the cases the `DueIndex` says are due are ticked; reports time per sweep and how late
//!      the latest clock fired.
//! Plus the calendar arithmetic over a 30-day span.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{CaseStatus, Timestamp};
use serde::Deserialize;
use std::hint::black_box;
use std::time::{Duration, Instant};
use switchboard_workflow::calendar::{BusinessCalendar, CalendarConfig};
use switchboard_workflow::sla::{
    CaseEvent, DueIndex, SlaPolicies, SlaPolicy, SlaPolicyConfig, SlaState,
};

const CASES: usize = 1_000_000;
const RUNS: usize = 5;
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

const CONFIG: &str = r#"
[[calendars]]
name = "berlin-office"
time_zone = "Europe/Berlin"
holidays = ["2026-12-25"]
[calendars.hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]

[[calendars]]
name = "tokyo-office"
time_zone = "Asia/Tokyo"
[calendars.hours]
mon = ["09:00-12:00", "13:00-18:00"]
tue = ["09:00-12:00", "13:00-18:00"]
wed = ["09:00-12:00", "13:00-18:00"]
thu = ["09:00-12:00", "13:00-18:00"]
fri = ["09:00-12:00", "13:00-18:00"]

[[calendars]]
name = "new-york-evenings"
time_zone = "America/New_York"
[calendars.hours]
mon = ["17:00-24:00"]
tue = ["00:00-01:00", "17:00-24:00"]
wed = ["00:00-01:00", "17:00-24:00"]
thu = ["00:00-01:00", "17:00-24:00"]
fri = ["00:00-01:00", "17:00-24:00"]
sat = ["00:00-01:00", "10:00-16:00"]

[[policies]]
name = "vip"
first_response_mins = 15
next_response_mins = 30
resolution_mins = 240

[[policies]]
name = "standard"
first_response_mins = 240
next_response_mins = 240
resolution_mins = 2880

[[policies]]
name = "berlin-billing"
first_response_mins = 60
next_response_mins = 120
resolution_mins = 960
calendar = "berlin-office"

[[policies]]
name = "tokyo"
first_response_mins = 120
resolution_mins = 1440
calendar = "tokyo-office"
warn_at = 0.5

[[policies]]
name = "us-evenings"
first_response_mins = 30
next_response_mins = 60
resolution_mins = 600
calendar = "new-york-evenings"
"#;

#[derive(Deserialize)]
struct Config {
    calendars: Vec<CalendarConfig>,
    policies: Vec<SlaPolicyConfig>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n.max(1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// One case's clocks after a plausible history up to `now`.
fn build_case(rng: &mut Rng, policy: &SlaPolicy, now: Timestamp) -> SlaState {
    let opened = now.plus_millis(-rng.below(72 * HOUR) - 1);
    let (mut state, _) = SlaState::start(policy, opened);
    let mut t = opened;
    let later = |rng: &mut Rng, t: Timestamp| t.plus_millis(rng.below((now.0 - t.0) / 2) + 1);
    if rng.chance(60) {
        t = later(rng, t);
        state.apply(
            policy,
            &CaseEvent::HumanReply {
                at: t,
                public: true,
            },
        );
        if rng.chance(50) {
            t = later(rng, t);
            state.apply(policy, &CaseEvent::CustomerMessage { at: t });
        }
    }
    if rng.chance(20) {
        t = later(rng, t);
        let to = if rng.chance(80) {
            CaseStatus::Pending
        } else {
            CaseStatus::OnHold
        };
        state.apply(policy, &CaseEvent::StatusChanged { to, at: t });
    } else if rng.chance(30) {
        t = later(rng, t);
        let to = CaseStatus::Open;
        state.apply(policy, &CaseEvent::StatusChanged { to, at: t });
    }
    state
}

fn main() {
    let config: Config = toml::from_str(CONFIG).unwrap();
    let policies = SlaPolicies::compile(&config.policies, &config.calendars).unwrap();
    let by_name = |name: &str| policies.get(name).unwrap();
    // Monday 08:30 in Berlin: the office opens half an hour into the window.
    let now = Timestamp::parse_rfc3339("2026-11-23T08:30:00+01:00").unwrap();

    // --- Calendar arithmetic -------------------------------------------------------------
    let office = BusinessCalendar::from_config(&config.calendars[0]).unwrap();
    let month_start = Timestamp::parse_rfc3339("2026-11-01T00:00:00+01:00").unwrap();
    let month_end = Timestamp::parse_rfc3339("2026-12-01T00:00:00+01:00").unwrap();
    let n = 200_000;
    let (mut adds, mut betweens) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        for i in 0..n {
            let start = black_box(month_start.plus_millis(i % 7 * HOUR));
            black_box(office.add_business_millis(start, black_box(21 * 8 * HOUR)));
        }
        adds.push(t.elapsed() / n as u32);
        let t = Instant::now();
        for i in 0..n {
            let start = black_box(month_start.plus_millis(i % 7 * HOUR));
            black_box(office.business_millis_between(start, black_box(month_end)));
        }
        betweens.push(t.elapsed() / n as u32);
    }
    println!(
        "calendar, 30-day span on Berlin office hours: add_business_millis {:.2} µs, business_millis_between {:.2} µs (target: a few µs)",
        median(adds).as_nanos() as f64 / 1e3,
        median(betweens).as_nanos() as f64 / 1e3,
    );

    // --- A million cases ------------------------------------------------------------------
    let names = ["vip", "standard", "berlin-billing", "tokyo", "us-evenings"];
    let weights = [10, 40, 25, 15, 10];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t = Instant::now();
    let mut states: Vec<SlaState> = Vec::with_capacity(CASES);
    let mut policy_of: Vec<u8> = Vec::with_capacity(CASES);
    for _ in 0..CASES {
        let mut roll = rng.below(100);
        let mut which = 0;
        while roll >= weights[which] {
            roll -= weights[which];
            which += 1;
        }
        states.push(build_case(&mut rng, by_name(names[which]), now));
        policy_of.push(which as u8);
    }
    let table: Vec<&SlaPolicy> = names.iter().map(|n| by_name(n)).collect();
    let paused = states
        .iter()
        .filter(|s| matches!(s.status(), CaseStatus::Pending | CaseStatus::OnHold))
        .count();
    println!(
        "built {CASES} case clocks in {:.2} s ({paused} paused)",
        t.elapsed().as_secs_f64()
    );

    // The backlog since each case opened, as the sweep before this one would have fired it.
    let t = Instant::now();
    let mut backlog = 0usize;
    for (s, &p) in states.iter_mut().zip(&policy_of) {
        backlog += s.tick(table[p as usize], now.plus_millis(-SECOND)).len();
    }
    println!(
        "catch-up sweep (3 days of backlog): {:.1} ms, {backlog} events",
        t.elapsed().as_secs_f64() * 1e3
    );

    // (a) Full sweep.
    let mut times = Vec::new();
    let mut fired = 0;
    for _ in 0..RUNS {
        let mut copy = states.clone();
        let t = Instant::now();
        let mut events = 0usize;
        for (s, &p) in copy.iter_mut().zip(&policy_of) {
            events += s.tick(table[p as usize], black_box(now)).len();
        }
        times.push(t.elapsed());
        fired = events;
        drop(black_box(copy));
    }
    println!(
        "SLA full sweep over {CASES} open cases: {:.1} ms median of {RUNS}, {fired} events (target < 1 s)",
        median(times).as_secs_f64() * 1e3
    );

    // (b) Due-index sweep, once a second for two hours.
    let t = Instant::now();
    let mut index = DueIndex::new();
    for (k, s) in states.iter().enumerate() {
        if let Some(due) = s.next_due() {
            index.insert(k as u32, due);
        }
    }
    println!(
        "due index over {} pending cases built in {:.1} ms",
        index.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let steps = 2 * 3600;
    let (mut per_sweep, mut worst_sweep) = (Vec::new(), Vec::new());
    // Lateness as the sweep sees it (its wall-clock step minus the due instant), and as the
    // world does (also counting how long into the sweep the event came out).
    let (mut events, mut lateness_max, mut real_lateness_max) = (0usize, 0i64, 0i64);
    for _ in 0..RUNS {
        let mut copy = states.clone();
        let mut idx = index.clone();
        let mut keys = Vec::new();
        let (mut total, mut worst) = (Duration::ZERO, Duration::ZERO);
        events = 0;
        for step in 0..steps {
            let wall = now.plus_millis(step * SECOND);
            let t = Instant::now();
            idx.pop_due_into(wall, &mut keys);
            for &k in &keys {
                let s = &mut copy[k as usize];
                for e in s.tick(table[policy_of[k as usize] as usize], wall) {
                    lateness_max = lateness_max.max(wall.0 - e.at.0);
                    let out_at = wall.0 + t.elapsed().as_millis() as i64;
                    real_lateness_max = real_lateness_max.max(out_at - e.at.0);
                    events += 1;
                }
                if let Some(due) = s.next_due() {
                    idx.insert(k, due);
                }
            }
            let took = t.elapsed();
            total += took;
            worst = worst.max(took);
        }
        per_sweep.push(total / steps as u32);
        worst_sweep.push(worst);
        drop(black_box(copy));
    }
    println!(
        "SLA due-index sweep every 1 s over {} h, {events} events: {:.2} µs per sweep, slowest sweep {:.2} ms (medians of {RUNS}) (target < 1 s)",
        steps / 3600,
        median(per_sweep).as_nanos() as f64 / 1e3,
        median(worst_sweep).as_secs_f64() * 1e3,
    );
    println!(
        "clock firing lateness, max: {lateness_max} ms after due at the sweep step, {real_lateness_max} ms counting time into the sweep (target < 1000 ms)"
    );
}
