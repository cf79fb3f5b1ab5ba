//! The demo's customers answer some of their satisfaction surveys, so the reports have CSAT,
//! NPS and effort to show. When a simulated agent resolves a case, they take the survey link
//! the case earned (`GET /api/v1/cases/{id}/survey`) and pass it to the customer; about half
//! of the customers answer it a little later through the public `POST /survey/{token}`, as a
//! customer's browser would, with scores that depend on what they wrote in about.

use rand::Rng;
use rand::rngs::StdRng;
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;

/// What the customer wrote in about, and how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mood {
    /// They wrote to say thanks.
    Praise,
    /// They asked something and got an answer.
    Question,
    /// They complained and got an answer.
    Complaint,
    /// The agent closed the case after waiting on them in vain.
    Quiet,
}

impl Mood {
    /// From the intent of the case's last message.
    pub fn of(intent: &str) -> Self {
        match intent {
            "praise" => Self::Praise,
            "complaint" => Self::Complaint,
            _ => Self::Question,
        }
    }
}

/// Comments a few unhappy or happy customers leave.
const LOW: [&str; 3] = [
    "Took far too long to hear back.",
    "The answer did not solve my problem.",
    "I had to explain everything twice.",
];
const HIGH: [&str; 3] = [
    "Quick and friendly, thank you!",
    "Sorted in one go.",
    "Great help from the team.",
];

/// The customer's answer, or none when they ignore the survey (about half do; a customer
/// who had stopped writing nearly always does). CSAT is drawn by mood, NPS and effort follow
/// it with some spread.
pub fn answer(mood: Mood, rng: &mut StdRng) -> Option<Value> {
    let (answers, weights): (f64, [u32; 5]) = match mood {
        Mood::Praise => (0.6, [0, 0, 1, 3, 12]),
        Mood::Question => (0.5, [1, 1, 2, 6, 8]),
        Mood::Complaint => (0.5, [3, 3, 4, 6, 4]),
        Mood::Quiet => (0.15, [4, 3, 3, 2, 1]),
    };
    if !rng.random_bool(answers) {
        return None;
    }
    let total: u32 = weights.iter().sum();
    let mut pick = rng.random_range(0..total);
    let mut csat = 5u8;
    for (score, w) in (1u8..).zip(weights) {
        if pick < w {
            csat = score;
            break;
        }
        pick -= w;
    }
    let nps = match csat {
        5 => rng.random_range(9..=10),
        4 => rng.random_range(7..=9),
        3 => rng.random_range(5..=7),
        _ => rng.random_range(0..=5),
    };
    let ces = (csat + rng.random_range(1..=2)).min(7);
    let mut body = json!({"csat": csat, "nps": nps, "ces": ces});
    if rng.random_bool(0.3) {
        let pool = if csat >= 4 { &HIGH } else { &LOW };
        body["comment"] = json!(pool[rng.random_range(0..pool.len())]);
    }
    Some(body)
}

/// A survey a resolution earned.
pub struct Survey<'a> {
    /// Where the demo's survey links point (this server).
    pub base: &'a str,
    /// The case resolved just now.
    pub case: &'a str,
    pub mood: Mood,
}

/// Passes `survey` to the case's customer, who may answer it within the next minute.
pub async fn hand_over(
    client: &Client,
    url: &str,
    key: &str,
    survey: &Survey<'_>,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/cases/{}/survey", survey.case);
    let found = super::call(client, url, key, "GET", &path, None).await?;
    // Only links to this server: the simulated customers write nowhere else.
    let ours = format!("{}/survey/", survey.base);
    let link = found["link"].as_str().filter(|l| l.starts_with(&ours));
    let (Some(link), Some(body)) = (link, answer(survey.mood, rng)) else {
        return Ok(());
    };
    let (client, link) = (client.clone(), link.to_owned());
    let delay = Duration::from_millis(rng.random_range(5_000..45_000));
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        match client.post(&link).json(&body).send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                tracing::debug!(status = %r.status(), "a simulated customer's survey answer was refused")
            }
            Err(e) => tracing::debug!(error = %e, "a simulated customer could not answer a survey"),
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Over many customers: answers are valid for the survey's scales, about the expected share
    /// answer, and praise is rated higher than complaints, which beat the cases closed in
    /// silence.
    #[test]
    fn customers_answer_about_half_of_the_surveys_and_rate_by_what_happened() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut mean = |mood: Mood| {
            let (mut answered, mut sum) = (0u32, 0u32);
            for _ in 0..4_000 {
                let Some(a) = answer(mood, &mut rng) else {
                    continue;
                };
                let csat = a["csat"].as_u64().unwrap();
                let nps = a["nps"].as_u64().unwrap();
                let ces = a["ces"].as_u64().unwrap();
                assert!(
                    (1..=5).contains(&csat) && nps <= 10 && (1..=7).contains(&ces),
                    "{a}"
                );
                if let Some(c) = a["comment"].as_str() {
                    assert_eq!(csat >= 4, HIGH.contains(&c), "{a}");
                }
                answered += 1;
                sum += csat as u32;
            }
            (
                f64::from(answered) / 4_000.0,
                f64::from(sum) / f64::from(answered),
            )
        };
        let (praise_rate, praise) = mean(Mood::Praise);
        let (question_rate, question) = mean(Mood::Question);
        let (complaint_rate, complaint) = mean(Mood::Complaint);
        let (quiet_rate, quiet) = mean(Mood::Quiet);
        for (rate, want) in [
            (praise_rate, 0.6),
            (question_rate, 0.5),
            (complaint_rate, 0.5),
            (quiet_rate, 0.15),
        ] {
            assert!((rate - want).abs() < 0.03, "{rate} vs {want}");
        }
        assert!(praise > question && question > complaint && complaint > quiet);
        assert!(praise > 4.5 && quiet < 3.0, "{praise} {quiet}");
    }

    #[test]
    fn the_mood_follows_the_intent() {
        assert_eq!(Mood::of("praise"), Mood::Praise);
        assert_eq!(Mood::of("complaint"), Mood::Complaint);
        assert_eq!(Mood::of("inquiry"), Mood::Question);
        assert_eq!(Mood::of("other"), Mood::Question);
    }
}
