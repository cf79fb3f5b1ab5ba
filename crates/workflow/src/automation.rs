//! The automation circuit breaker (D9): automated replies pause, and their cases go to people,
//! when too many of the latest ones failed to deliver or were answered by an unhappy customer.
//! This module judges a window of outcomes; it never reads them or sends anything.

use serde::{Deserialize, Serialize};

/// `[workflow.automation]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AutomationConfig {
    /// How many of the latest automated replies are judged.
    pub window: usize,
    /// Fewer outcomes than this are not enough to pause on.
    pub min_samples: usize,
    /// Pause when more than this share of the window failed to deliver.
    pub max_failure_rate: f64,
    /// Pause when more than this share was followed by a negative customer message.
    pub max_negative_rate: f64,
}

impl Default for AutomationConfig {
    fn default() -> Self {
        Self {
            window: 20,
            min_samples: 5,
            max_failure_rate: 0.25,
            max_negative_rate: 0.5,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AutomationError {
    #[error("`window` must be between 1 and 1000 and at least `min_samples` (≥ 1)")]
    Window,
    #[error("`{0}` must be a share above 0 and at most 1")]
    Rate(&'static str),
}

impl AutomationConfig {
    pub fn validate(&self) -> Result<(), AutomationError> {
        if self.min_samples == 0 || self.window < self.min_samples || self.window > 1000 {
            return Err(AutomationError::Window);
        }
        for (name, rate) in [
            ("max_failure_rate", self.max_failure_rate),
            ("max_negative_rate", self.max_negative_rate),
        ] {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(AutomationError::Rate(name));
            }
        }
        Ok(())
    }
}

/// What became of one automated reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// It could not be delivered (dead in the outbox).
    pub failed: bool,
    /// The customer's next message was negative.
    pub negative: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub paused: bool,
    /// Why, when paused.
    pub reason: Option<String>,
    pub samples: usize,
    pub failure_rate: f64,
    pub negative_rate: f64,
}

/// Judges the latest outcomes (most recent first; only the first `window` count).
pub fn judge(config: &AutomationConfig, outcomes: &[Outcome]) -> Verdict {
    let window = &outcomes[..outcomes.len().min(config.window)];
    let samples = window.len();
    let share = |f: fn(&Outcome) -> bool| {
        if samples == 0 {
            0.0
        } else {
            window.iter().filter(|o| f(o)).count() as f64 / samples as f64
        }
    };
    let failure_rate = share(|o| o.failed);
    let negative_rate = share(|o| o.negative);
    let reason = if samples < config.min_samples {
        None
    } else if failure_rate > config.max_failure_rate {
        Some(format!(
            "{:.0}% of the last {samples} automated replies failed to deliver (limit {:.0}%)",
            failure_rate * 100.0,
            config.max_failure_rate * 100.0
        ))
    } else if negative_rate > config.max_negative_rate {
        Some(format!(
            "{:.0}% of the last {samples} automated replies drew a negative answer (limit {:.0}%)",
            negative_rate * 100.0,
            config.max_negative_rate * 100.0
        ))
    } else {
        None
    };
    Verdict {
        paused: reason.is_some(),
        reason,
        samples,
        failure_rate,
        negative_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(failed: usize, negative: usize, fine: usize) -> Vec<Outcome> {
        let mut v = vec![
            Outcome {
                failed: true,
                negative: false
            };
            failed
        ];
        v.extend(vec![
            Outcome {
                failed: false,
                negative: true
            };
            negative
        ]);
        v.extend(vec![
            Outcome {
                failed: false,
                negative: false
            };
            fine
        ]);
        v
    }

    #[test]
    fn a_bot_that_keeps_failing_is_paused_and_says_why() {
        let c = AutomationConfig::default();
        let v = judge(&c, &outcomes(6, 0, 14));
        assert!(v.paused);
        assert_eq!(v.failure_rate, 0.3);
        assert!(v.reason.unwrap_or_default().contains("30% of the last 20"));
        // Exactly at the limit is still allowed.
        assert!(!judge(&c, &outcomes(5, 0, 15)).paused);
    }

    #[test]
    fn angry_answers_pause_it_too_but_only_with_enough_samples() {
        let c = AutomationConfig::default();
        assert!(judge(&c, &outcomes(0, 11, 9)).paused);
        assert!(!judge(&c, &outcomes(0, 4, 0)).paused, "4 < min_samples");
        // Only the window counts: old failures beyond it are forgotten.
        let mut recent_good = outcomes(0, 0, 20);
        recent_good.extend(outcomes(20, 0, 0));
        assert!(!judge(&c, &recent_good).paused);
    }

    #[test]
    fn nonsense_limits_are_refused() {
        let bad = [
            AutomationConfig {
                window: 2,
                min_samples: 5,
                ..AutomationConfig::default()
            },
            AutomationConfig {
                max_failure_rate: 0.0,
                ..AutomationConfig::default()
            },
            AutomationConfig {
                max_negative_rate: f64::NAN,
                ..AutomationConfig::default()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
        assert_eq!(AutomationConfig::default().validate(), Ok(()));
    }
}
