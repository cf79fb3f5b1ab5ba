use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use super::*;

const BASE: Duration = Duration::from_millis(500);
const MAX: Duration = Duration::from_secs(300);

fn randoms() -> impl Iterator<Item = f64> {
    (0..=100).map(|i| f64::from(i) / 100.0)
}

#[test]
fn the_first_retry_waits_between_half_the_base_delay_and_all_of_it() {
    for r in randoms() {
        let wait = backoff(1, BASE, MAX, r);
        assert!(wait <= BASE && wait >= BASE / 2, "r {r}: {wait:?}");
    }
    assert_eq!(backoff(1, BASE, MAX, 1.0), BASE);
    assert_eq!(backoff(1, BASE, MAX, 0.0), BASE / 2);
    assert_eq!(backoff(1, BASE, MAX, 0.5), BASE * 3 / 4);
}

#[test]
fn no_retry_is_immediate_whatever_the_random_value() {
    for attempt in 1..=40u32 {
        for r in randoms().chain([f64::NAN, -1.0, f64::MIN_POSITIVE]) {
            assert!(
                backoff(attempt, BASE, MAX, r) >= BASE / 2,
                "attempt {attempt}, r {r}"
            );
        }
    }
}

#[test]
fn each_attempt_doubles_the_ceiling_until_the_cap() {
    for attempt in 1..=40u32 {
        let ceiling = BASE
            .checked_mul(2u32.saturating_pow(attempt - 1))
            .map_or(MAX, |d| d.min(MAX));
        assert_eq!(
            backoff(attempt, BASE, MAX, 1.0),
            ceiling,
            "attempt {attempt}"
        );
        for r in randoms() {
            let wait = backoff(attempt, BASE, MAX, r);
            assert!(wait <= ceiling, "attempt {attempt}, r {r}: {wait:?}");
            assert!(wait >= ceiling / 2, "attempt {attempt}, r {r}: {wait:?}");
            assert!(wait <= MAX);
        }
    }
    assert_eq!(backoff(2, BASE, MAX, 1.0), BASE * 2);
    assert_eq!(backoff(3, BASE, MAX, 1.0), BASE * 4);
}

#[test]
fn the_wait_grows_with_the_random_value() {
    for attempt in 1..=20u32 {
        let mut previous = Duration::ZERO;
        for r in randoms() {
            let wait = backoff(attempt, BASE, MAX, r);
            assert!(wait >= previous, "attempt {attempt}, r {r}");
            previous = wait;
        }
    }
}

#[test]
fn absurd_inputs_stay_inside_the_bounds_without_panicking() {
    for attempt in [0, 1, 31, 32, 33, 64, u32::MAX] {
        for r in [f64::NAN, -1.0, 2.0, f64::INFINITY, f64::NEG_INFINITY, 0.5] {
            assert!(backoff(attempt, BASE, MAX, r) <= MAX);
            assert!(backoff(attempt, Duration::MAX, Duration::MAX, r) <= Duration::MAX);
        }
    }
    // Attempt 0 is treated like the first attempt.
    assert_eq!(backoff(0, BASE, MAX, 1.0), BASE);
    assert_eq!(backoff(u32::MAX, BASE, MAX, 1.0), MAX);
    assert_eq!(backoff(5, BASE, MAX, f64::NAN), BASE * 8);
    // A cap below the base wins.
    assert_eq!(
        backoff(1, BASE, Duration::from_millis(100), 1.0),
        Duration::from_millis(100)
    );
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(value) {
            map.insert(*name, v);
        }
    }
    map
}

// 2025-01-01T12:00:00Z
const NOW: i64 = 1_735_732_800;

#[test]
fn retry_after_in_seconds() {
    let h = headers(&[("retry-after", "120")]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::from_secs(120)));
    let h = headers(&[("retry-after", " 0 ")]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::ZERO));
}

#[test]
fn retry_after_as_an_http_date() {
    let h = headers(&[("retry-after", "Wed, 01 Jan 2025 12:01:30 GMT")]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::from_secs(90)));
    // A date already past means "go ahead now".
    let h = headers(&[("retry-after", "Wed, 01 Jan 2025 11:00:00 GMT")]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::ZERO));
}

#[test]
fn x_rate_limit_reset_is_an_epoch_second() {
    let h = headers(&[("x-rate-limit-reset", "1735732845")]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::from_secs(45)));
    let h = headers(&[("x-rate-limit-reset", "1735732000")]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::ZERO));
}

#[test]
fn retry_after_wins_over_the_x_reset() {
    let h = headers(&[("retry-after", "7"), ("x-rate-limit-reset", "1735732845")]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::from_secs(7)));
}

#[test]
fn garbage_means_the_target_said_nothing() {
    for value in ["soon", "-5", "1.5", "", "Wed, 32 Jan 2025 12:00:00 GMT"] {
        let h = headers(&[("retry-after", value)]);
        assert_eq!(retry_after(&h, NOW), None, "retry-after {value:?}");
    }
    let h = headers(&[("x-rate-limit-reset", "tomorrow")]);
    assert_eq!(retry_after(&h, NOW), None);
    assert_eq!(retry_after(&HeaderMap::new(), NOW), None);
    // An unreadable Retry-After still lets a readable X reset through.
    let h = headers(&[
        ("retry-after", "soon"),
        ("x-rate-limit-reset", "1735732810"),
    ]);
    assert_eq!(retry_after(&h, NOW), Some(Duration::from_secs(10)));
}

#[test]
fn codes_are_stable() {
    let all = [
        Outcome::Delivered {
            status: 202,
            remote_id: None,
        },
        Outcome::Retry {
            status: None,
            after: None,
            error: String::new(),
        },
        Outcome::unsupported("no"),
        Outcome::Reauthorize {
            status: Some(401),
            error: String::new(),
        },
    ];
    let codes: Vec<_> = all.iter().map(Outcome::code).collect();
    assert_eq!(codes, ["delivered", "retry", "permanent", "reauthorize"]);
    let statuses: Vec<_> = all.iter().map(Outcome::status).collect();
    assert_eq!(statuses, [Some(202), None, None, Some(401)]);
}
