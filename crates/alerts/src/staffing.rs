//! Surge staffing (E7): how many agents a forecast volume needs, by Erlang C, and where the
//! roster falls short.
//!
//! Erlang C models one queue served by `N` interchangeable agents, contacts arriving at
//! random (Poisson) and handle times exponentially distributed, nobody abandoning. With
//! traffic `A = contacts × handle time / interval` (in Erlangs):
//!
//! - probability of waiting `Pw = N·B / (N − A·(1 − B))`, where `B` is Erlang B, computed by
//!   the recurrence `B(0) = 1`, `B(n) = A·B(n−1) / (n + A·B(n−1))` — no factorials or powers,
//!   so it stays exact to rounding for thousands of agents;
//! - service level (share answered within `t` seconds) `1 − Pw·e^(−(N − A)·t / AHT)`;
//! - average speed of answer `Pw·AHT / (N − A)`;
//! - occupancy `A / N`.
//!
//! With `N ≤ A` the queue grows without bound: everybody waits, nobody is answered in time.
//!
//! Chat agents who hold `k` conversations at once are modelled as agents working `k` times
//! faster: the effective handle time is `AHT / k`, which divides the traffic by `k`. It is the
//! usual approximation and an optimistic one — agents slow down when juggling — so `k` should
//! be the concurrency agents actually sustain, not the most the tool allows.
//!
//! Pure arithmetic; no clock.

/// Most agents [`agents_needed`] will try before giving up.
pub const MAX_AGENTS: u32 = 100_000;

/// Probability that a contact waits, for `agents` serving `traffic_erlangs`. 1 when the
/// agents cannot keep up (`agents ≤ traffic`), 0 without traffic; NaN for negative or
/// non-finite traffic.
pub fn erlang_c(agents: u32, traffic_erlangs: f64) -> f64 {
    let a = traffic_erlangs;
    if !(a.is_finite() && a >= 0.0) {
        return f64::NAN;
    }
    if a == 0.0 {
        return 0.0;
    }
    let n = f64::from(agents);
    if n <= a {
        return 1.0;
    }
    let b = erlang_b(agents, a);
    n * b / (n - a * (1.0 - b))
}

/// Erlang B (blocking probability with no queue), by the stable recurrence.
pub fn erlang_b(agents: u32, traffic_erlangs: f64) -> f64 {
    (1..=agents).fold(1.0, |b, n| next_erlang_b(b, n, traffic_erlangs))
}

fn next_erlang_b(previous: f64, n: u32, a: f64) -> f64 {
    let ab = a * previous;
    ab / (f64::from(n) + ab)
}

/// Share of contacts answered within `target_s` seconds.
pub fn service_level(agents: u32, traffic_erlangs: f64, handle_time_s: f64, target_s: f64) -> f64 {
    let pw = erlang_c(agents, traffic_erlangs);
    service_level_from(pw, agents, traffic_erlangs, handle_time_s, target_s)
}

fn service_level_from(pw: f64, agents: u32, a: f64, handle_time_s: f64, target_s: f64) -> f64 {
    let n = f64::from(agents);
    if pw.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 {
        return 1.0;
    }
    if n <= a || handle_time_s <= 0.0 {
        return 0.0;
    }
    1.0 - pw * (-(n - a) * target_s.max(0.0) / handle_time_s).exp()
}

/// Mean wait in seconds over all contacts (those answered at once count as 0); infinite when
/// the agents cannot keep up.
pub fn average_speed_of_answer(agents: u32, traffic_erlangs: f64, handle_time_s: f64) -> f64 {
    let n = f64::from(agents);
    let pw = erlang_c(agents, traffic_erlangs);
    if pw.is_nan() || traffic_erlangs == 0.0 {
        return if pw.is_nan() { f64::NAN } else { 0.0 };
    }
    if n <= traffic_erlangs {
        return f64::INFINITY;
    }
    pw * handle_time_s / (n - traffic_erlangs)
}

/// The demand side of one interval, apart from the contact count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// Interval length in seconds (1800 for half-hour planning).
    pub interval_s: f64,
    /// Average handle time of one contact, in seconds.
    pub handle_time_s: f64,
    /// Contacts one agent works at once (1 for voice, 2–3 typical for chat).
    pub concurrency: u32,
}

impl Workload {
    /// The handle time one agent "spends" on a contact when running `concurrency` at once.
    fn effective_handle_time_s(&self) -> f64 {
        self.handle_time_s / f64::from(self.concurrency.max(1))
    }

    /// Offered traffic in Erlangs for `contacts` in one interval.
    pub fn traffic(&self, contacts: f64) -> f64 {
        contacts * self.effective_handle_time_s() / self.interval_s
    }
}

/// What the plan must achieve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    /// Answer-time target in seconds (the 20 of "80/20").
    pub target_s: f64,
    /// Share to answer within the target (the 0.8 of "80/20").
    pub service_level: f64,
    /// Share of paid time agents are unavailable (breaks, training, meetings), 0..1.
    pub shrinkage: f64,
    /// Highest acceptable occupancy, 0..1 (e.g. 0.85): more agents if traffic would keep
    /// them busier than that.
    pub max_occupancy: f64,
}

/// Agents needed for one interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Staffing {
    /// Agents on the phones or chats: the fewest that meet the goal.
    pub base_agents: u32,
    /// Agents to roster once shrinkage takes its share: `⌈base / (1 − shrinkage)⌉`.
    pub with_shrinkage: u32,
    pub traffic_erlangs: f64,
    pub probability_of_waiting: f64,
    pub service_level: f64,
    pub occupancy: f64,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StaffingError {
    #[error("{0}")]
    InvalidInput(&'static str),
    #[error("the goal needs more than {MAX_AGENTS} agents")]
    Unreachable,
}

impl StaffingError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "staffing_invalid_input",
            Self::Unreachable => "staffing_unreachable",
        }
    }
}

/// The fewest agents meeting the goal for voice-like work (one contact at a time); see
/// [`agents_needed_for`] for concurrency.
pub fn agents_needed(
    contacts_per_interval: f64,
    interval_s: f64,
    handle_time_s: f64,
    target_s: f64,
    service_level_goal: f64,
    shrinkage: f64,
    max_occupancy: f64,
) -> Result<Staffing, StaffingError> {
    let workload = Workload {
        interval_s,
        handle_time_s,
        concurrency: 1,
    };
    let goal = Goal {
        target_s,
        service_level: service_level_goal,
        shrinkage,
        max_occupancy,
    };
    agents_needed_for(contacts_per_interval, &workload, &goal)
}

/// The fewest agents meeting both the service level and the occupancy cap. No contacts
/// need no agents.
pub fn agents_needed_for(
    contacts: f64,
    workload: &Workload,
    goal: &Goal,
) -> Result<Staffing, StaffingError> {
    check(contacts, workload, goal)?;
    let a = workload.traffic(contacts);
    let aht = workload.effective_handle_time_s();
    if a == 0.0 {
        return Ok(Staffing {
            base_agents: 0,
            with_shrinkage: 0,
            traffic_erlangs: 0.0,
            probability_of_waiting: 0.0,
            service_level: 1.0,
            occupancy: 0.0,
        });
    }
    // Walk N upwards carrying Erlang B along, so the whole search costs one pass.
    let mut b = 1.0;
    for n in 1..=MAX_AGENTS {
        b = next_erlang_b(b, n, a);
        let agents = f64::from(n);
        if agents <= a || a / agents > goal.max_occupancy {
            continue;
        }
        let pw = agents * b / (agents - a * (1.0 - b));
        let sl = service_level_from(pw, n, a, aht, goal.target_s);
        if sl >= goal.service_level {
            return Ok(Staffing {
                base_agents: n,
                with_shrinkage: with_shrinkage(n, goal.shrinkage),
                traffic_erlangs: a,
                probability_of_waiting: pw,
                service_level: sl,
                occupancy: a / agents,
            });
        }
    }
    Err(StaffingError::Unreachable)
}

fn with_shrinkage(base: u32, shrinkage: f64) -> u32 {
    let rostered = (f64::from(base) / (1.0 - shrinkage)).ceil();
    // `check` keeps shrinkage below 0.95, so this is at most 20 × MAX_AGENTS.
    if rostered >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        rostered as u32
    }
}

fn check(contacts: f64, workload: &Workload, goal: &Goal) -> Result<(), StaffingError> {
    let bad = |why| Err(StaffingError::InvalidInput(why));
    if !(contacts.is_finite() && contacts >= 0.0) {
        return bad("contacts must be a finite number of at least 0");
    }
    if !(workload.interval_s.is_finite() && workload.interval_s > 0.0) {
        return bad("interval_s must be above 0");
    }
    if !(workload.handle_time_s.is_finite() && workload.handle_time_s > 0.0) {
        return bad("handle_time_s must be above 0");
    }
    if workload.concurrency == 0 {
        return bad("concurrency must be at least 1");
    }
    if !(goal.target_s.is_finite() && goal.target_s >= 0.0) {
        return bad("target_s must be at least 0");
    }
    if !(goal.service_level > 0.0 && goal.service_level < 1.0) {
        return bad("the service level goal must be above 0 and below 1");
    }
    if !(goal.shrinkage >= 0.0 && goal.shrinkage < 0.95) {
        return bad("shrinkage must be at least 0 and below 0.95");
    }
    if !(goal.max_occupancy > 0.0 && goal.max_occupancy <= 1.0) {
        return bad("max_occupancy must be above 0 and at most 1");
    }
    Ok(())
}

/// Intervals where the roster (heads scheduled, before shrinkage) is below what the
/// forecast needs (after shrinkage): `(interval index, needed, rostered)`. An interval
/// without a roster entry counts as nobody rostered.
pub fn capacity_shortfall(
    forecast: &[f64],
    rostered: &[u32],
    workload: &Workload,
    goal: &Goal,
) -> Result<Vec<(usize, u32, u32)>, StaffingError> {
    let mut short = Vec::new();
    for (i, contacts) in forecast.iter().enumerate() {
        let needed = agents_needed_for(*contacts, workload, goal)?.with_shrinkage;
        let on_roster = rostered.get(i).copied().unwrap_or(0);
        if on_roster < needed {
            short.push((i, needed, on_roster));
        }
    }
    Ok(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook half hour: 100 contacts, 180 s handle time, answer within 20 s.
    const HALF_HOUR: Workload = Workload {
        interval_s: 1800.0,
        handle_time_s: 180.0,
        concurrency: 1,
    };
    const EIGHTY_TWENTY: Goal = Goal {
        target_s: 20.0,
        service_level: 0.8,
        shrinkage: 0.0,
        max_occupancy: 1.0,
    };

    fn round3(x: f64) -> f64 {
        (x * 1000.0).round() / 1000.0
    }

    #[test]
    fn the_textbook_half_hour_with_fourteen_agents() {
        let a = HALF_HOUR.traffic(100.0);
        assert_eq!(a, 10.0);
        assert_eq!(round3(erlang_c(14, a)), 0.174);
        assert_eq!(round3(service_level(14, a, 180.0, 20.0)), 0.888);
        // ASA = 0.1741 × 180 / 4 = 7.8 s.
        assert_eq!(
            (average_speed_of_answer(14, a, 180.0) * 10.0).round() / 10.0,
            7.8
        );
    }

    #[test]
    fn eighty_twenty_needs_fourteen_agents_because_thirteen_answer_only_seventy_nine_and_a_half_percent()
     {
        // By hand, A = 10: B(13) = 0.1101, Pw(13) = 13·B / (13 − 10·(1 − B)) = 0.2853,
        // SL(13) = 1 − 0.2853·e^(−3·20/180) = 1 − 0.2853·0.7165 = 0.7956 — short of 0.80;
        // SL(14) = 0.8884. So the goal needs 14, not 13.
        assert_eq!(round3(erlang_c(13, 10.0)), 0.285);
        assert_eq!(round3(service_level(13, 10.0, 180.0, 20.0)), 0.796);
        let s = agents_needed(100.0, 1800.0, 180.0, 20.0, 0.8, 0.0, 1.0).unwrap();
        assert_eq!(s.base_agents, 14);
        assert_eq!(s.with_shrinkage, 14);
        assert_eq!(round3(s.probability_of_waiting), 0.174);
        assert_eq!(round3(s.service_level), 0.888);
        assert_eq!(round3(s.occupancy), 0.714);
        // A 79% goal is met by 13.
        let s = agents_needed(100.0, 1800.0, 180.0, 20.0, 0.79, 0.0, 1.0).unwrap();
        assert_eq!(s.base_agents, 13);
    }

    #[test]
    fn shrinkage_and_the_occupancy_cap_add_agents() {
        let s = agents_needed(100.0, 1800.0, 180.0, 20.0, 0.8, 0.3, 1.0).unwrap();
        // 14 / 0.7 = 20 exactly.
        assert_eq!((s.base_agents, s.with_shrinkage), (14, 20));
        // Keeping agents at most 70% busy takes ⌈10 / 0.7⌉ = 15.
        let s = agents_needed(100.0, 1800.0, 180.0, 20.0, 0.8, 0.0, 0.7).unwrap();
        assert_eq!(s.base_agents, 15);
        assert!(s.occupancy <= 0.7);
    }

    #[test]
    fn chat_agents_holding_two_conversations_halve_the_traffic() {
        let chat = Workload {
            concurrency: 2,
            ..HALF_HOUR
        };
        assert_eq!(chat.traffic(200.0), 10.0);
        // 200 chats at concurrency 2 are the textbook 100 calls at twice the speed: the same
        // traffic, answered faster, so no more than 14 agents.
        let s = agents_needed_for(200.0, &chat, &EIGHTY_TWENTY).unwrap();
        assert_eq!(s.traffic_erlangs, 10.0);
        assert!(s.base_agents <= 14, "{s:?}");
        assert!(s.service_level >= 0.8);
    }

    #[test]
    fn hundreds_of_agents_stay_numerically_sane() {
        // 600 Erlangs: factorials and powers would overflow; the recurrence does not.
        let pw = erlang_c(650, 600.0);
        assert!(pw.is_finite() && pw > 0.0 && pw < 1.0, "{pw}");
        let workload = Workload {
            interval_s: 1800.0,
            handle_time_s: 300.0,
            concurrency: 1,
        };
        let s = agents_needed_for(3600.0, &workload, &EIGHTY_TWENTY).unwrap();
        assert!(s.base_agents > 600 && s.base_agents < 650, "{s:?}");
        assert!(s.service_level >= 0.8);
        assert!(service_level(s.base_agents - 1, 600.0, 300.0, 20.0) < 0.8);
        // More agents never make waiting likelier.
        let mut last = 1.0;
        for n in 601..700 {
            let pw = erlang_c(n, 600.0);
            assert!(pw <= last);
            last = pw;
        }
    }

    #[test]
    fn edges_overload_no_traffic_and_bad_input() {
        assert_eq!(erlang_c(10, 10.0), 1.0);
        assert_eq!(service_level(9, 10.0, 180.0, 20.0), 0.0);
        assert_eq!(average_speed_of_answer(9, 10.0, 180.0), f64::INFINITY);
        assert_eq!(erlang_c(5, 0.0), 0.0);
        assert_eq!(service_level(0, 0.0, 180.0, 20.0), 1.0);
        assert!(erlang_c(5, -1.0).is_nan());
        let none = agents_needed_for(0.0, &HALF_HOUR, &EIGHTY_TWENTY).unwrap();
        assert_eq!((none.base_agents, none.with_shrinkage), (0, 0));
        let err = agents_needed(100.0, 0.0, 180.0, 20.0, 0.8, 0.0, 1.0).unwrap_err();
        assert_eq!(err.code(), "staffing_invalid_input");
        let err = agents_needed(100.0, 1800.0, 180.0, 20.0, 1.0, 0.0, 1.0).unwrap_err();
        assert_eq!(err.code(), "staffing_invalid_input");
        let err = agents_needed(1e12, 1.0, 180.0, 20.0, 0.8, 0.0, 1.0).unwrap_err();
        assert_eq!(err.code(), "staffing_unreachable");
    }

    #[test]
    fn a_recall_surge_shows_where_the_roster_falls_short() {
        // Half hours from 09:00: the usual 100 contacts, then a product recall triples it.
        let forecast = [100.0, 100.0, 300.0, 250.0, 100.0];
        let rostered = [20, 20, 20, 20];
        let goal = Goal {
            shrinkage: 0.3,
            ..EIGHTY_TWENTY
        };
        let short = capacity_shortfall(&forecast, &rostered, &HALF_HOUR, &goal).unwrap();
        let needed_300 = agents_needed_for(300.0, &HALF_HOUR, &goal).unwrap();
        let needed_250 = agents_needed_for(250.0, &HALF_HOUR, &goal).unwrap();
        assert_eq!(
            short,
            vec![
                (2, needed_300.with_shrinkage, 20),
                (3, needed_250.with_shrinkage, 20),
                (4, 20, 0),
            ]
        );
        assert!(needed_300.with_shrinkage > 40);
    }
}
