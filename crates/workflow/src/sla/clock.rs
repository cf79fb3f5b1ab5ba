//! The SLA clocks of one case: a state machine driven by case events and by time passing.
//!
//! Each clock remembers the business time it had accumulated at its last transition and, while
//! it runs, the exact instants at which it will warn and breach. Those instants are computed
//! once per transition on the policy's calendar, so ticking a clock is a comparison, and a late
//! tick still reports the true instant. Nothing here reads the system clock.

use super::{CaseEvent, ClockEvent, ClockEventKind, Metric, SlaPolicy};
use crate::calendar::BusinessCalendar;
use sb_domain::{CaseStatus, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    Running,
    Paused,
    Fulfilled,
    Cancelled,
}

impl ClockStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
        }
    }

    /// Running or paused: the clock still waits for its fulfilment.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Running | Self::Paused)
    }
}

/// One clock as it stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockView {
    pub metric: Metric,
    pub status: ClockStatus,
    /// Warned during the current activation (a reopened resolution clock keeps its flags).
    pub warned: bool,
    pub breached: bool,
    /// Business milliseconds elapsed as of `since`.
    pub elapsed_ms: i64,
    /// The clock's last transition; while it runs, business time accrues from here.
    pub since: Timestamp,
    pub target_ms: i64,
    pub warn_ms: i64,
    /// While running and not yet breached: the instant it breaches.
    pub due_at: Option<Timestamp>,
    /// While running and not yet warned: the instant it warns.
    pub warn_at: Option<Timestamp>,
    /// The first fulfilment (for resolution: the first resolution).
    pub first_fulfilled_at: Option<Timestamp>,
    /// The latest fulfilment (for resolution: the final resolution so far).
    pub fulfilled_at: Option<Timestamp>,
}

impl ClockView {
    fn new(metric: Metric, at: Timestamp, target_ms: i64, warn_ms: i64) -> Self {
        Self {
            metric,
            status: ClockStatus::Running,
            warned: false,
            breached: false,
            elapsed_ms: 0,
            since: at,
            target_ms,
            warn_ms,
            due_at: None,
            warn_at: None,
            first_fulfilled_at: None,
            fulfilled_at: None,
        }
    }

    /// Business time elapsed at `now`, counting the stretch since the last transition if the
    /// clock runs.
    pub fn elapsed_at(&self, calendar: &BusinessCalendar, now: Timestamp) -> i64 {
        match self.status {
            ClockStatus::Running => {
                self.elapsed_ms + calendar.business_millis_between(self.since, now)
            }
            _ => self.elapsed_ms,
        }
    }

    fn event(&self, kind: ClockEventKind, at: Timestamp, elapsed_ms: i64) -> ClockEvent {
        ClockEvent {
            metric: self.metric,
            kind,
            at,
            elapsed_ms,
            target_ms: self.target_ms,
        }
    }

    /// Folds the time since the last transition into `elapsed_ms` and moves `since` to `at`.
    fn settle(&mut self, calendar: &BusinessCalendar, at: Timestamp) {
        if self.status == ClockStatus::Running {
            self.elapsed_ms += calendar.business_millis_between(self.since, at);
        }
        self.since = self.since.max(at);
    }

    /// Recomputes the pending warn and breach instants from `since` and `elapsed_ms`.
    fn schedule(&mut self, calendar: &BusinessCalendar) {
        let running = self.status == ClockStatus::Running;
        let at =
            |threshold: i64| calendar.add_business_millis(self.since, threshold - self.elapsed_ms);
        self.warn_at = (running && !self.warned).then(|| at(self.warn_ms));
        self.due_at = (running && !self.breached).then(|| at(self.target_ms));
    }

    fn stop(&mut self, status: ClockStatus) {
        self.status = status;
        self.warn_at = None;
        self.due_at = None;
    }
}

/// Which way a case status points the clocks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// New, open, escalated: clocks run.
    Working,
    /// Pending, on hold: waiting on someone else, clocks pause.
    Waiting,
    /// Resolved, closed: resolution is fulfilled, response clocks pause.
    Done,
}

fn phase(status: CaseStatus) -> Phase {
    match status {
        CaseStatus::New | CaseStatus::Open | CaseStatus::Escalated => Phase::Working,
        CaseStatus::Pending | CaseStatus::OnHold => Phase::Waiting,
        CaseStatus::Resolved | CaseStatus::Closed => Phase::Done,
    }
}

fn is_response(metric: Metric) -> bool {
    matches!(metric, Metric::FirstResponse | Metric::NextResponse)
}

/// All SLA clocks of one case.
///
/// Clocks run only while the case is new, open or escalated. The state keeps no calendar of its
/// own: every call takes the case's current policy, whose calendar does the counting, so pass
/// the same policy the state was started (or last rebased) with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaState {
    /// Name of the policy the clocks were set by.
    pub policy: String,
    /// That policy's [`SlaPolicy::fingerprint`] when the clocks were set; a different one
    /// now means the configuration changed it. Absent in states written before it was kept.
    #[serde(default)]
    pub policy_fingerprint: Option<String>,
    status: CaseStatus,
    /// No human has answered publicly yet and the case was never resolved: a customer message
    /// now is still waiting on the *first* response, not a next one.
    awaiting_first_response: bool,
    /// The latest transition applied; an event dated earlier is taken to happen at this instant,
    /// so clocks never run backwards.
    last_at: Timestamp,
    /// The earliest of the clocks' pending instants, kept beside them so that a sweep over
    /// many cases reads one field per case that has nothing due.
    next_due: Option<Timestamp>,
    clocks: Vec<ClockView>,
}

impl SlaState {
    /// A case opened at `opened_at` (as new): starts first response and resolution, where the
    /// policy sets those targets.
    pub fn start(policy: &SlaPolicy, opened_at: Timestamp) -> (Self, Vec<ClockEvent>) {
        let mut state = Self {
            policy: policy.name.clone(),
            policy_fingerprint: Some(policy.fingerprint()),
            status: CaseStatus::New,
            awaiting_first_response: true,
            last_at: opened_at,
            next_due: None,
            clocks: Vec::with_capacity(2),
        };
        let mut events = Vec::new();
        for metric in [Metric::FirstResponse, Metric::Resolution] {
            state.activate(policy, metric, opened_at, &mut events);
        }
        state.refresh_due();
        (state, events)
    }

    pub fn clocks(&self) -> &[ClockView] {
        &self.clocks
    }

    pub fn clock(&self, metric: Metric) -> Option<&ClockView> {
        self.clocks.iter().find(|c| c.metric == metric)
    }

    /// The case status as the clocks last heard it.
    pub fn status(&self) -> CaseStatus {
        self.status
    }

    /// Business time on `metric`'s clock at `now`.
    pub fn elapsed_ms(&self, policy: &SlaPolicy, metric: Metric, now: Timestamp) -> Option<i64> {
        Some(self.clock(metric)?.elapsed_at(&policy.calendar, now))
    }

    /// Applies one case event. Warnings and breaches due up to the event's instant come first
    /// (a reply at the very instant of the breach is late), so the events are in time order.
    /// An event that changes nothing yields nothing.
    pub fn apply(&mut self, policy: &SlaPolicy, event: &CaseEvent) -> Vec<ClockEvent> {
        let at = event.at().max(self.last_at);
        let mut events = self.fire_due(at);
        match *event {
            CaseEvent::Opened { .. }
            | CaseEvent::AutomatedReply { .. }
            | CaseEvent::HumanReply { public: false, .. } => {}
            CaseEvent::CustomerMessage { .. } => {
                let response_live = self
                    .clocks
                    .iter()
                    .any(|c| is_response(c.metric) && c.status.is_live());
                if !self.awaiting_first_response && !response_live {
                    self.activate(policy, Metric::NextResponse, at, &mut events);
                }
            }
            CaseEvent::HumanReply { public: true, .. } => {
                self.awaiting_first_response = false;
                for clock in &mut self.clocks {
                    if is_response(clock.metric) && clock.status.is_live() {
                        fulfil(clock, &policy.calendar, at, &mut events);
                    }
                }
            }
            CaseEvent::StatusChanged { to, .. } => {
                self.change_status(policy, to, at, &mut events);
            }
        }
        self.last_at = at;
        self.refresh_due();
        events
    }

    /// Warnings and breaches due at or before `now`, each stamped with its own due instant.
    pub fn tick(&mut self, _policy: &SlaPolicy, now: Timestamp) -> Vec<ClockEvent> {
        if self.next_due.is_none_or(|due| due > now) {
            return Vec::new();
        }
        let events = self.fire_due(now);
        self.refresh_due();
        events
    }

    /// The earliest pending warn or breach instant among running clocks; `None` when nothing
    /// can fire until the next event.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.next_due
    }

    fn refresh_due(&mut self) {
        self.next_due = self
            .clocks
            .iter()
            .flat_map(|c| [c.warn_at, c.due_at])
            .flatten()
            .min();
    }

    /// Folds business time up to `now` into the running clocks without changing anything else.
    /// Before [`SlaState::rebase`] onto a policy with a different calendar, call this with the
    /// old policy so the stretch since the last transition is counted on the old calendar.
    pub fn checkpoint(&mut self, policy: &SlaPolicy, now: Timestamp) {
        let now = now.max(self.last_at);
        for clock in &mut self.clocks {
            // The pending instants are absolute and stay right on the same calendar.
            if clock.status == ClockStatus::Running {
                clock.settle(&policy.calendar, now);
            }
        }
        self.last_at = now;
    }

    /// Re-evaluates the case under another policy (its priority or intent changed, or the
    /// configuration did). Live clocks keep their elapsed business time and take the new
    /// targets; a metric the new policy lacks is cancelled; a metric it adds starts now, where
    /// it applies. A warning or breach the new targets put in the past fires at `now`; to have
    /// the old policy's overdue events reported at their own instants, `tick` with it first.
    pub fn rebase(&mut self, new_policy: &SlaPolicy, now: Timestamp) -> Vec<ClockEvent> {
        let now = now.max(self.last_at);
        let cal = &new_policy.calendar;
        let mut events = Vec::new();
        self.policy = new_policy.name.clone();
        self.policy_fingerprint = Some(new_policy.fingerprint());
        for clock in &mut self.clocks {
            let target = new_policy.target_ms(clock.metric);
            match (clock.status, target) {
                (ClockStatus::Cancelled, _) | (ClockStatus::Fulfilled, None) => {}
                (ClockStatus::Running | ClockStatus::Paused, None) => {
                    clock.settle(cal, now);
                    clock.stop(ClockStatus::Cancelled);
                    events.push(clock.event(ClockEventKind::Cancel, now, clock.elapsed_ms));
                }
                (ClockStatus::Fulfilled, Some(target_ms)) => {
                    // Kept for a reopen.
                    clock.target_ms = target_ms;
                    clock.warn_ms = new_policy.warn_ms(target_ms);
                }
                (ClockStatus::Running | ClockStatus::Paused, Some(target_ms)) => {
                    clock.settle(cal, now);
                    clock.target_ms = target_ms;
                    clock.warn_ms = new_policy.warn_ms(target_ms);
                    clock.schedule(cal);
                }
            }
        }
        let wanted = [
            (Metric::FirstResponse, self.awaiting_first_response),
            (Metric::Resolution, phase(self.status) != Phase::Done),
        ];
        for (metric, applies) in wanted {
            let absent = self
                .clock(metric)
                .is_none_or(|c| c.status == ClockStatus::Cancelled);
            if applies && absent {
                self.activate(new_policy, metric, now, &mut events);
            }
        }
        self.last_at = now;
        events.extend(self.fire_due(now));
        self.refresh_due();
        events
    }

    /// Starts (or restarts) `metric`'s clock at `at` if the policy sets a target; paused from
    /// the outset if the case is not being worked.
    fn activate(
        &mut self,
        policy: &SlaPolicy,
        metric: Metric,
        at: Timestamp,
        events: &mut Vec<ClockEvent>,
    ) {
        let Some(target_ms) = policy.target_ms(metric) else {
            return;
        };
        let mut clock = ClockView::new(metric, at, target_ms, policy.warn_ms(target_ms));
        events.push(clock.event(ClockEventKind::Activate, at, 0));
        if phase(self.status) == Phase::Working {
            clock.schedule(&policy.calendar);
        } else {
            clock.stop(ClockStatus::Paused);
            events.push(clock.event(ClockEventKind::Pause, at, 0));
        }
        match self.clocks.iter_mut().find(|c| c.metric == metric) {
            Some(slot) => *slot = clock,
            None => {
                self.clocks.push(clock);
                self.clocks.sort_by_key(|c| c.metric);
            }
        }
    }

    fn change_status(
        &mut self,
        policy: &SlaPolicy,
        to: CaseStatus,
        at: Timestamp,
        events: &mut Vec<ClockEvent>,
    ) {
        let (from, to_phase) = (phase(self.status), phase(to));
        self.status = to;
        if from == to_phase {
            return;
        }
        let cal = &policy.calendar;
        // A policy that no longer measures resolution does not reopen its clock.
        let reopens = policy.resolution_ms.is_some();
        if to_phase == Phase::Done {
            // Resolving settles the first-response question: whatever the customer writes
            // after this is waiting on a next response.
            self.awaiting_first_response = false;
        }
        for clock in &mut self.clocks {
            let resolution = clock.metric == Metric::Resolution;
            match (clock.status, to_phase) {
                (ClockStatus::Running | ClockStatus::Paused, Phase::Done) if resolution => {
                    fulfil(clock, cal, at, events);
                }
                (ClockStatus::Running, Phase::Waiting | Phase::Done) => {
                    pause(clock, cal, at, events);
                }
                (ClockStatus::Paused, Phase::Working) => resume(clock, cal, at, events),
                // A reopen: resolution runs on from where it stood (history is not rewritten),
                // and the next resolve fulfils it again.
                (ClockStatus::Fulfilled, Phase::Working) if resolution && reopens => {
                    resume(clock, cal, at, events);
                }
                (ClockStatus::Fulfilled, Phase::Waiting) if resolution && reopens => {
                    resume(clock, cal, at, events);
                    pause(clock, cal, at, events);
                }
                _ => {}
            }
        }
    }

    /// Fires every pending warn and breach at or before `up_to`, in time order.
    fn fire_due(&mut self, up_to: Timestamp) -> Vec<ClockEvent> {
        let mut events = Vec::new();
        for clock in &mut self.clocks {
            // A due instant is where the threshold is reached counting from `since`, or
            // `since` itself if it was already passed then (after a rebase onto a tighter
            // target), so the clock read at that instant is the larger of the two.
            if let Some(at) = clock.warn_at.filter(|&t| t <= up_to) {
                clock.warned = true;
                clock.warn_at = None;
                let elapsed = clock.warn_ms.max(clock.elapsed_ms);
                events.push(clock.event(ClockEventKind::Warn, at, elapsed));
            }
            if let Some(at) = clock.due_at.filter(|&t| t <= up_to) {
                clock.breached = true;
                clock.due_at = None;
                let elapsed = clock.target_ms.max(clock.elapsed_ms);
                events.push(clock.event(ClockEventKind::Breach, at, elapsed));
            }
        }
        if events.len() > 1 {
            events.sort_by_key(|e| e.at);
        }
        events
    }
}

fn pause(
    clock: &mut ClockView,
    cal: &BusinessCalendar,
    at: Timestamp,
    events: &mut Vec<ClockEvent>,
) {
    clock.settle(cal, at);
    clock.stop(ClockStatus::Paused);
    events.push(clock.event(ClockEventKind::Pause, at, clock.elapsed_ms));
}

fn resume(
    clock: &mut ClockView,
    cal: &BusinessCalendar,
    at: Timestamp,
    events: &mut Vec<ClockEvent>,
) {
    clock.since = clock.since.max(at);
    clock.status = ClockStatus::Running;
    clock.schedule(cal);
    events.push(clock.event(ClockEventKind::Resume, at, clock.elapsed_ms));
}

fn fulfil(
    clock: &mut ClockView,
    cal: &BusinessCalendar,
    at: Timestamp,
    events: &mut Vec<ClockEvent>,
) {
    clock.settle(cal, at);
    clock.stop(ClockStatus::Fulfilled);
    clock.first_fulfilled_at.get_or_insert(at);
    clock.fulfilled_at = Some(at);
    events.push(clock.event(ClockEventKind::Fulfil, at, clock.elapsed_ms));
}
