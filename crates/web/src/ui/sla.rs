//! SLA clocks as people see them: on track, warning, breached, paused, fulfilled. The server
//! renders each clock's state as of the request; the page's script counts the same clock down
//! every second from the instants in its `data-due` and `data-warn` attributes, so a clock
//! turns amber at its warning instant and red at its breach without a reload.

use super::span;
use maud::{Markup, html};
use sb_domain::Timestamp;
use sb_workflow::sla::{ClockStatus, ClockView, Metric, SlaState};

/// The clocks stored with a case, in the policy's order.
pub fn clocks(sla: Option<&serde_json::Value>) -> Vec<ClockView> {
    sla.and_then(|v| serde_json::from_value::<SlaState>(v.clone()).ok())
        .map(|s| s.clocks().to_vec())
        .unwrap_or_default()
}

/// How a clock stands at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    OnTrack,
    Warning,
    Breached,
    Paused,
    Fulfilled,
    Cancelled,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnTrack => "on_track",
            Self::Warning => "warning",
            Self::Breached => "breached",
            Self::Paused => "paused",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::OnTrack,
            Self::Warning,
            Self::Breached,
            Self::Paused,
            Self::Fulfilled,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

pub fn standing(c: &ClockView, now: Timestamp) -> Standing {
    match c.status {
        ClockStatus::Fulfilled => Standing::Fulfilled,
        ClockStatus::Cancelled => Standing::Cancelled,
        ClockStatus::Paused if c.breached => Standing::Breached,
        ClockStatus::Paused => Standing::Paused,
        ClockStatus::Running => {
            if c.breached || c.due_at.is_some_and(|d| d <= now) {
                Standing::Breached
            } else if c.warned || c.warn_at.is_some_and(|w| w <= now) {
                Standing::Warning
            } else {
                Standing::OnTrack
            }
        }
    }
}

/// The clock that matters most for the inbox: the live one due soonest (a breached one
/// first), else the latest to have stopped.
pub fn headline(clocks: &[ClockView], now: Timestamp) -> Option<&ClockView> {
    let live = clocks
        .iter()
        .filter(|c| c.status.is_live())
        .min_by_key(|c| {
            let rank = match standing(c, now) {
                Standing::Breached => 0,
                Standing::Warning => 1,
                Standing::OnTrack => 2,
                _ => 3,
            };
            (rank, c.due_at.map_or(i64::MAX, |d| d.millis()))
        });
    live.or_else(|| clocks.iter().find(|c| c.metric == Metric::FirstResponse))
        .or_else(|| clocks.first())
}

pub fn metric_name(m: Metric) -> &'static str {
    match m {
        Metric::FirstResponse => "First response",
        Metric::NextResponse => "Next response",
        Metric::Resolution => "Resolution",
    }
}

/// One clock as a badge the script keeps counting.
pub fn badge(c: &ClockView, now: Timestamp) -> Markup {
    let st = standing(c, now);
    let text = match st {
        Standing::OnTrack | Standing::Warning => c
            .due_at
            .map(|d| format!("{} left", span(d.millis() - now.millis())))
            .unwrap_or_default(),
        Standing::Breached => "breached".to_owned(),
        Standing::Paused => format!("paused, {} used", span(c.elapsed_ms)),
        Standing::Fulfilled if c.breached => "fulfilled late".to_owned(),
        Standing::Fulfilled => "fulfilled".to_owned(),
        Standing::Cancelled => "cancelled".to_owned(),
    };
    let ticking = matches!(st, Standing::OnTrack | Standing::Warning);
    html! {
        span class={ "sla sla-" (st.as_str()) }
            data-metric=(c.metric.as_str())
            data-state=(st.as_str())
            data-due=[ticking.then(|| c.due_at.map(|d| d.millis())).flatten()]
            data-warn=[ticking.then(|| c.warn_at.map(|w| w.millis())).flatten()]
            title={ (metric_name(c.metric)) ": target " (span(c.target_ms)) }
        {
            span.sla-metric { (metric_name(c.metric)) }
            " "
            span.sla-text { (text) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(status: ClockStatus, warn_at: Option<i64>, due_at: Option<i64>) -> ClockView {
        ClockView {
            metric: Metric::FirstResponse,
            status,
            warned: false,
            breached: false,
            elapsed_ms: 0,
            since: Timestamp(0),
            target_ms: 3_600_000,
            warn_ms: 2_700_000,
            due_at: due_at.map(Timestamp),
            warn_at: warn_at.map(Timestamp),
            first_fulfilled_at: None,
            fulfilled_at: None,
        }
    }

    #[test]
    fn a_clock_turns_amber_at_its_warning_and_red_at_its_breach() {
        let c = clock(ClockStatus::Running, Some(2_700_000), Some(3_600_000));
        assert_eq!(standing(&c, Timestamp(1_000)), Standing::OnTrack);
        assert_eq!(standing(&c, Timestamp(2_700_000)), Standing::Warning);
        assert_eq!(standing(&c, Timestamp(3_600_000)), Standing::Breached);
        let html = badge(&c, Timestamp(1_000)).into_string();
        assert!(html.contains("sla-on_track"), "{html}");
        assert!(html.contains("data-due=\"3600000\""), "{html}");
        assert!(html.contains("59m 59s left"), "{html}");
    }

    #[test]
    fn a_fulfilled_clock_stops_counting() {
        let mut c = clock(ClockStatus::Fulfilled, None, None);
        let html = badge(&c, Timestamp(10)).into_string();
        assert!(
            html.contains("sla-fulfilled") && !html.contains("data-due"),
            "{html}"
        );
        c.breached = true;
        assert!(
            badge(&c, Timestamp(10))
                .into_string()
                .contains("fulfilled late")
        );
    }

    #[test]
    fn the_inbox_shows_the_most_pressing_live_clock() {
        let mut resolution = clock(ClockStatus::Running, Some(50), Some(100));
        resolution.metric = Metric::Resolution;
        let first = clock(ClockStatus::Running, Some(500), Some(1_000));
        let clocks = [first, resolution];
        assert_eq!(
            headline(&clocks, Timestamp(60)).map(|c| c.metric),
            Some(Metric::Resolution)
        );
    }
}
