//! Routing decision latency: 50 queues (some with Berlin/New York/Tokyo time windows, some
//! requiring skills), 1,000 agents each in 1–5 queues, and 100,000 cases routed one by one —
//! `queue_for`, `pick_agent` and recording the pick — each timed on its own.
//! Target: p99 under 1 ms.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{CasePriority, Platform, Tier, Timestamp};
use std::hint::black_box;
use std::time::{Duration, Instant};
use switchboard_workflow::routing::{
    AgentConfig, Presence, QueueConditions, QueueConfig, RouteCase, Router, RoutingState, Strategy,
};

const QUEUES: usize = 50;
const AGENTS: usize = 1_000;
const CASES: usize = 100_000;
const RUNS: usize = 5;
/// Open cases kept assigned across the run, so agents free up as they fill and the run stays
/// in a steady state instead of ending with everyone full.
const OPEN_CASES: usize = 1_000;

const LANGUAGES: [&str; 8] = ["de", "en", "fr", "es", "it", "nl", "pl", "sv"];
const REGIONS: [&str; 8] = [
    "dach", "uk", "fr", "iberia", "nordics", "benelux", "us", "apac",
];
const PRODUCTS: [&str; 5] = ["router-x", "router-y", "mesh-z", "modem-a", "switch-b"];
const INTENTS: [&str; 5] = ["complaint", "refund", "question", "praise", "outage"];
const TIERS: [Tier; 3] = [Tier::Standard, Tier::Premium, Tier::Vip];
const PRIORITIES: [CasePriority; 4] = [
    CasePriority::Low,
    CasePriority::Normal,
    CasePriority::High,
    CasePriority::Urgent,
];
const WINDOWS: [(&str, &str); 3] = [
    ("Europe/Berlin", "22:00-06:00"),
    ("America/New_York", "08:00-18:00"),
    ("Asia/Tokyo", "09:00-17:30"),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
    fn some<T: Copy>(&mut self, from: &[T], max: usize) -> Vec<T> {
        let mut out = Vec::new();
        for _ in 0..self.below(max + 1) {
            out.push(self.pick(from));
        }
        out
    }
    fn strings(&mut self, from: &[&str], max: usize) -> Vec<String> {
        let mut out: Vec<String> = self
            .some(from, max)
            .into_iter()
            .map(str::to_owned)
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

fn queues(rng: &mut Rng) -> Vec<QueueConfig> {
    (0..QUEUES)
        .map(|i| {
            // The last queue takes everything, as a real catch-all does.
            let mut when = QueueConditions::default();
            if i + 1 < QUEUES {
                when.languages = vec![rng.pick(&LANGUAGES).to_owned()];
                if rng.chance(30) {
                    when.languages.push(rng.pick(&LANGUAGES).to_owned());
                }
                if rng.chance(40) {
                    when.regions = rng.strings(&REGIONS, 2);
                }
                if rng.chance(30) {
                    when.intents = rng.strings(&INTENTS, 2);
                }
                if rng.chance(20) {
                    when.tiers = rng.some(&TIERS, 2);
                }
                if rng.chance(20) {
                    when.priorities = rng.some(&PRIORITIES, 2);
                }
                if rng.chance(15) {
                    when.platforms = rng.some(&Platform::ALL, 3);
                }
                if rng.chance(25) {
                    when.products = rng.strings(&PRODUCTS, 2);
                }
                if rng.chance(30) {
                    let (tz, hours) = rng.pick(&WINDOWS);
                    when.time_zone = Some(tz.to_owned());
                    when.hours = vec![hours.to_owned()];
                }
            }
            QueueConfig {
                name: format!("queue-{i:02}"),
                team: None,
                strategy: rng.pick(&[
                    Strategy::RoundRobin,
                    Strategy::LeastLoaded,
                    Strategy::SkillsBased,
                ]),
                sticky: rng.chance(30),
                required_skills: if rng.chance(10) {
                    vec![format!("language:{}", rng.pick(&LANGUAGES))]
                } else {
                    Vec::new()
                },
                when,
            }
        })
        .collect()
}

fn agents(rng: &mut Rng) -> Vec<AgentConfig> {
    (0..AGENTS)
        .map(|i| {
            let mut queues: Vec<String> = (0..1 + rng.below(5))
                .map(|_| format!("queue-{:02}", rng.below(QUEUES)))
                .collect();
            queues.sort();
            queues.dedup();
            AgentConfig {
                id: format!("agent-{i:04}"),
                name: format!("Agent {i}"),
                queues,
                team: None,
                languages: rng.strings(&LANGUAGES, 3),
                regions: rng.strings(&REGIONS, 2),
                products: rng.strings(&PRODUCTS, 2),
                tiers: rng.some(&TIERS, 2),
                capacity: 3 + rng.below(6) as u32,
            }
        })
        .collect()
}

fn initial_state(rng: &mut Rng, agents: &[AgentConfig]) -> RoutingState {
    let mut state = RoutingState::new();
    for a in agents {
        let presence = match rng.below(100) {
            0..85 => Presence::Online,
            85..95 => Presence::Away,
            _ => Presence::Offline,
        };
        state.set_presence(&a.id, presence);
        state.set_load(&a.id, rng.below(a.capacity as usize) as u32);
    }
    state
}

fn cases(rng: &mut Rng) -> Vec<RouteCase> {
    let week_start = Timestamp::parse_rfc3339("2026-11-23T00:00:00Z").unwrap();
    let text = |rng: &mut Rng, from: &[&str], percent| {
        rng.chance(percent).then(|| rng.pick(from).to_owned())
    };
    (0..CASES)
        .map(|i| RouteCase {
            case_id: format!("case-{i}"),
            language: text(rng, &LANGUAGES, 90),
            region: text(rng, &REGIONS, 70),
            intent: text(rng, &INTENTS, 80),
            tier: rng.pick(&TIERS),
            priority: rng.pick(&PRIORITIES),
            platform: rng.pick(&Platform::ALL),
            product: text(rng, &PRODUCTS, 50),
            at: week_start.plus_millis((rng.next() % (7 * 24 * 3_600_000)) as i64),
            preferred_agent: rng
                .chance(20)
                .then(|| format!("agent-{:04}", rng.below(AGENTS))),
            high_value: rng.chance(5),
        })
        .collect()
}

struct Run {
    p50: Duration,
    p99: Duration,
    max: Duration,
    assigned: usize,
}

fn run(router: &Router, cases: &[RouteCase], start: &RoutingState, seed: u64) -> Run {
    let mut state = start.clone();
    let mut rng = Rng(seed);
    let mut open: Vec<String> = Vec::with_capacity(OPEN_CASES + 1);
    let mut times = Vec::with_capacity(cases.len());
    let mut assigned = 0;
    for case in cases {
        let t = Instant::now();
        let pick = router
            .queue_for(black_box(case))
            .and_then(|q| router.pick_agent(q, case, &state).map(|p| (q, p)));
        if let Some((queue, pick)) = &pick {
            state.assigned(&pick.agent_id, queue);
        }
        times.push(t.elapsed());
        black_box(&pick);
        // Outside the timing: agents close old cases as new ones arrive.
        if let Some((_, pick)) = pick {
            assigned += 1;
            open.push(pick.agent_id);
            if open.len() > OPEN_CASES {
                let done = open.swap_remove(rng.below(open.len()));
                state.released(&done);
            }
        }
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Run {
        p50: at(0.50),
        p99: at(0.99),
        max: times[times.len() - 1],
        assigned,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let mut rng = Rng(0x5eed_2026_0d2d_c0de);
    let queue_configs = queues(&mut rng);
    let agent_configs = agents(&mut rng);
    let t = Instant::now();
    let router = Router::compile(&queue_configs, &agent_configs).unwrap();
    println!(
        "compiled {QUEUES} queues, {AGENTS} agents in {:.2} ms",
        ms(t.elapsed())
    );
    let state = initial_state(&mut rng, &agent_configs);
    let cases = cases(&mut rng);

    let runs: Vec<Run> = (0..RUNS)
        .map(|i| {
            let r = run(&router, &cases, &state, 0x9e37_79b9_7f4a_7c15 ^ i as u64);
            println!(
                "run {i}: p50 {:.4} ms, p99 {:.4} ms, max {:.4} ms ({} of {CASES} cases assigned)",
                ms(r.p50),
                ms(r.p99),
                ms(r.max),
                r.assigned
            );
            r
        })
        .collect();
    let p50 = median(runs.iter().map(|r| r.p50).collect());
    let p99 = median(runs.iter().map(|r| r.p99).collect());
    let max = median(runs.iter().map(|r| r.max).collect());
    println!(
        "routing decision ({AGENTS} agents, {QUEUES} queues, median of {RUNS} runs): p50 {:.4} ms, max {:.4} ms",
        ms(p50),
        ms(max)
    );
    println!("routing decision p99: {:.4} ms (target < 1 ms)", ms(p99));
}
