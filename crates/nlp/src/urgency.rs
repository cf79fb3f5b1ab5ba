//! Urgency (B4): `critical` for safety, legal threats, regulators and data breaches;
//! `high` for anger, churn threats and repeated contact; `normal` for other complaints and
//! negative messages; `low` for the rest. Reasons are returned so agents see why.

use crate::cues::Cue;
use crate::signals::Signals;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    Low,
    Normal,
    High,
    Critical,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UrgencyReason {
    Safety,
    LegalThreat,
    Regulator,
    DataBreach,
    Anger,
    ChurnThreat,
    RepeatedContact,
    Complaint,
    Negative,
}

pub struct UrgencyRules {
    critical: [(Cue, UrgencyReason); 4],
}

impl Default for UrgencyRules {
    fn default() -> Self {
        Self::new()
    }
}

impl UrgencyRules {
    pub fn new() -> Self {
        Self {
            critical: [
                (Cue::Safety, UrgencyReason::Safety),
                (Cue::Legal, UrgencyReason::LegalThreat),
                (Cue::Regulator, UrgencyReason::Regulator),
                (Cue::Breach, UrgencyReason::DataBreach),
            ],
        }
    }

    pub fn assess(
        &self,
        s: &Signals<'_>,
        compound: f64,
        complaint: bool,
        angry: bool,
    ) -> (Urgency, Vec<UrgencyReason>) {
        let mut reasons: Vec<UrgencyReason> = self
            .critical
            .iter()
            .filter(|(cue, _)| s.cues.any(*cue))
            .map(|(_, r)| *r)
            .collect();
        if !reasons.is_empty() {
            return (Urgency::Critical, reasons);
        }
        // Shouting at us counts as anger even when the emotion model is unsure.
        let shouting = s.caps_ratio > 0.6 && s.words.len() >= 3 && compound < 0.0;
        // The emotion model's anger counts in a clearly negative message, or where the
        // customer says it in words ("unacceptable", "fed up"): a long-standing customer's
        // praise of their own loyalty softens the score, not the anger.
        let said_in_words = s.cues.any(Cue::Anger) && compound < 0.0;
        if angry && (compound <= -0.3 || said_in_words) || shouting {
            reasons.push(UrgencyReason::Anger);
        }
        if s.cues.any(Cue::Churn) && compound < 0.3 {
            reasons.push(UrgencyReason::ChurnThreat);
        }
        if s.cues.any(Cue::Repeated) && (complaint || compound < -0.05) {
            reasons.push(UrgencyReason::RepeatedContact);
        }
        if !reasons.is_empty() {
            return (Urgency::High, reasons);
        }
        if complaint {
            return (Urgency::Normal, vec![UrgencyReason::Complaint]);
        }
        if compound <= -0.05 {
            return (Urgency::Normal, vec![UrgencyReason::Negative]);
        }
        (Urgency::Low, reasons)
    }
}
