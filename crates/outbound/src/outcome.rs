//! What became of one send, and when to try again.
//!
//! The dispatcher acts on four answers only: mark delivered, schedule a retry, give up on the
//! item, or pause the whole target until someone reconnects it. Every sender reduces its
//! tool's status codes and error bodies to one of these, so the outbox never learns a
//! tool's dialect.

use std::time::{Duration, UNIX_EPOCH};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// X sends the end of the current rate-limit window as epoch seconds.
pub const X_RATE_LIMIT_RESET: &str = "x-rate-limit-reset";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The target accepted the item. `remote_id` is its id for it, when it returns one.
    Delivered {
        status: u16,
        remote_id: Option<String>,
    },
    /// Worth trying again: 429, 5xx, timeouts, connection errors. `after` is the target's own
    /// wish (Retry-After and friends); the dispatcher falls back to [`backoff`] without one.
    Retry {
        status: Option<u16>,
        after: Option<Duration>,
        error: String,
    },
    /// Trying again cannot help: the target refused this item, or the sender cannot express it.
    Permanent { status: Option<u16>, error: String },
    /// The credentials are revoked, expired or missing: every item for this target will fail
    /// the same way, so sending to it must pause until someone reconnects it.
    Reauthorize { status: Option<u16>, error: String },
}

impl Outcome {
    /// Stable machine-readable name, for metrics, logs and the outbox row.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Delivered { .. } => "delivered",
            Self::Retry { .. } => "retry",
            Self::Permanent { .. } => "permanent",
            Self::Reauthorize { .. } => "reauthorize",
        }
    }

    /// The HTTP status the target answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Delivered { status, .. } => Some(*status),
            Self::Retry { status, .. }
            | Self::Permanent { status, .. }
            | Self::Reauthorize { status, .. } => *status,
        }
    }

    /// The same outcome with a better-worded error; a delivery has no error to replace.
    pub(crate) fn with_error(self, error: String) -> Self {
        match self {
            Self::Retry { status, after, .. } => Self::Retry {
                status,
                after,
                error,
            },
            Self::Permanent { status, .. } => Self::Permanent { status, error },
            Self::Reauthorize { status, .. } => Self::Reauthorize { status, error },
            delivered @ Self::Delivered { .. } => delivered,
        }
    }

    /// A payload this sender cannot express: never worth a retry.
    pub fn unsupported(error: impl Into<String>) -> Self {
        Self::Permanent {
            status: None,
            error: error.into(),
        }
    }
}

/// Exponential backoff with jitter over the upper half of the window. Attempt 1 waits between
/// `base / 2` and `base`, each further attempt doubles the ceiling, and the ceiling never
/// passes `max`; `unit_random` in `[0, 1]` picks the point between half the ceiling and the
/// ceiling (values outside are clamped, NaN counts as 0). The jitter spreads a burst of
/// failures over the window instead of retrying them in lockstep, and the floor keeps a
/// failing target from being hit again at once, as full jitter (down to zero) can.
pub fn backoff(attempt: u32, base: Duration, max: Duration, unit_random: f64) -> Duration {
    let exponent = attempt.saturating_sub(1);
    let ceiling = 2u32
        .checked_pow(exponent)
        .and_then(|factor| base.checked_mul(factor))
        .map_or(max, |d| d.min(max));
    let r = if unit_random.is_nan() {
        0.0
    } else {
        unit_random.clamp(0.0, 1.0)
    };
    let floor = ceiling / 2;
    let spread = ceiling - floor;
    Duration::try_from_secs_f64(spread.as_secs_f64() * r)
        .map_or(ceiling, |d| floor.saturating_add(d.min(spread)))
}

/// How long the target asked us to wait: `Retry-After` as seconds or as an HTTP-date, else
/// X's `x-rate-limit-reset` (epoch seconds). A moment already past means "now" (zero);
/// anything unreadable means the target said nothing (`None`).
pub fn retry_after(headers: &HeaderMap, now_unix_s: i64) -> Option<Duration> {
    if let Some(value) = header_text(headers, RETRY_AFTER.as_str()) {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(when) = httpdate::parse_http_date(value) {
            let at = when.duration_since(UNIX_EPOCH).ok()?.as_secs();
            return Some(until(i64::try_from(at).ok()?, now_unix_s));
        }
    }
    let reset = header_text(headers, X_RATE_LIMIT_RESET)?
        .parse::<i64>()
        .ok()?;
    Some(until(reset, now_unix_s))
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let text = headers.get(name)?.to_str().ok()?.trim();
    (!text.is_empty()).then_some(text)
}

fn until(at_unix_s: i64, now_unix_s: i64) -> Duration {
    Duration::from_secs(u64::try_from(at_unix_s.saturating_sub(now_unix_s)).unwrap_or(0))
}

#[cfg(test)]
mod tests;
