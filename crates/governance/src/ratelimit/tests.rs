#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn a_burst_of_logins_is_allowed_up_to_capacity_then_refused_with_a_wait() {
    let limiter = RateLimiter::new(5, 0.5, 100);
    let t0 = Instant::now();
    for _ in 0..5 {
        assert_eq!(limiter.check("alice@10.0.0.7", t0), Ok(()));
    }
    let retry_after = limiter.check("alice@10.0.0.7", t0).unwrap_err();
    assert_eq!(retry_after, Duration::from_secs(2));
}

#[test]
fn waiting_the_suggested_time_is_enough() {
    let limiter = RateLimiter::new(2, 3.0, 100);
    let t0 = Instant::now();
    limiter.check("key:01H", t0).unwrap();
    limiter.check("key:01H", t0).unwrap();
    let wait = limiter.check("key:01H", t0).unwrap_err();
    assert!(wait > secs(0.3) && wait < secs(0.35), "{wait:?}");
    assert!(limiter.check("key:01H", t0 + wait / 2).is_err());
    assert_eq!(limiter.check("key:01H", t0 + wait), Ok(()));
}

#[test]
fn tokens_come_back_over_time_but_never_beyond_capacity() {
    let limiter = RateLimiter::new(3, 1.0, 100);
    let t0 = Instant::now();
    for _ in 0..3 {
        limiter.check("10.0.0.7", t0).unwrap();
    }
    assert!(limiter.check("10.0.0.7", t0).is_err());
    let t1 = t0 + secs(2.0);
    assert_eq!(limiter.check("10.0.0.7", t1), Ok(()));
    assert_eq!(limiter.check("10.0.0.7", t1), Ok(()));
    assert!(limiter.check("10.0.0.7", t1).is_err());

    // An hour idle refills to capacity, not to 3600.
    let t2 = t1 + secs(3600.0);
    for _ in 0..3 {
        limiter.check("10.0.0.7", t2).unwrap();
    }
    assert!(limiter.check("10.0.0.7", t2).is_err());
}

#[test]
fn one_noisy_client_does_not_use_up_anothers_allowance() {
    let limiter = RateLimiter::new(2, 1.0, 100);
    let t0 = Instant::now();
    limiter.check("203.0.113.9", t0).unwrap();
    limiter.check("203.0.113.9", t0).unwrap();
    assert!(limiter.check("203.0.113.9", t0).is_err());
    assert_eq!(limiter.check("10.0.0.7", t0), Ok(()));
    assert_eq!(limiter.check("10.0.0.7", t0), Ok(()));
}

#[test]
fn a_clock_reading_from_before_the_last_one_counts_as_no_time_passed() {
    let limiter = RateLimiter::new(1, 1.0, 100);
    let t0 = Instant::now();
    let later = t0 + secs(10.0);
    limiter.check("k", later).unwrap();
    assert!(limiter.check("k", t0).is_err());
}

#[test]
fn a_bucket_that_never_refills_asks_for_an_unbounded_wait() {
    let limiter = RateLimiter::new(1, 0.0, 10);
    let t0 = Instant::now();
    limiter.check("k", t0).unwrap();
    assert_eq!(limiter.check("k", t0 + secs(1e6)), Err(Duration::MAX));
}

#[test]
fn a_flood_of_new_addresses_never_grows_memory_past_the_limit() {
    let limiter = RateLimiter::new(5, 1.0, 64);
    let t0 = Instant::now();
    for i in 0..10_000u32 {
        let _ = limiter.check(
            &format!("198.51.{}.{}", i / 256, i % 256),
            t0 + Duration::from_millis(u64::from(i)),
        );
        assert!(limiter.tracked_keys() <= 64);
    }
}

#[test]
fn when_full_idle_buckets_are_forgotten_before_busy_ones() {
    let limiter = RateLimiter::new(2, 1.0, 3);
    let t0 = Instant::now();
    // "a" is drained and touched first; "b" is touched once and refills fully by t0+1s.
    limiter.check("a", t0).unwrap();
    limiter.check("a", t0).unwrap();
    limiter.check("b", t0).unwrap();
    let t1 = t0 + secs(0.5);
    limiter.check("c", t1).unwrap();
    limiter.check("c", t1).unwrap();
    let t2 = t0 + secs(1.0);
    limiter.check("d", t2).unwrap();
    let held = limiter.buckets.lock().unwrap();
    assert!(held.contains_key("a") && held.contains_key("c") && held.contains_key("d"));
    assert!(!held.contains_key("b"));
}

#[test]
fn when_every_bucket_is_busy_the_one_touched_longest_ago_is_forgotten() {
    let limiter = RateLimiter::new(3, 0.1, 3);
    let t0 = Instant::now();
    for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
        let at = t0 + secs(i as f64);
        for _ in 0..3 {
            limiter.check(key, at).unwrap();
        }
    }
    limiter.check("a", t0 + secs(3.0)).unwrap_err(); // "a" is now the most recently touched
    limiter.check("d", t0 + secs(4.0)).unwrap();
    assert_eq!(limiter.tracked_keys(), 3);
    // "b" was forgotten, so it starts again with a full bucket; "a" and "c" stay drained.
    let t5 = t0 + secs(5.0);
    assert!(limiter.check("a", t5).is_err());
    assert!(limiter.check("c", t5).is_err());
    assert_eq!(limiter.check("b", t5), Ok(()));
}

#[test]
fn a_spent_address_is_seen_as_blocked_without_spending_more() {
    let limiter = RateLimiter::new(2, 1.0, 100);
    let t0 = Instant::now();
    assert_eq!(
        limiter.blocked("10.0.0.9", t0),
        None,
        "unknown keys are not blocked"
    );
    limiter.check("10.0.0.9", t0).unwrap();
    assert_eq!(limiter.blocked("10.0.0.9", t0), None);
    limiter.check("10.0.0.9", t0).unwrap();
    let wait = limiter.blocked("10.0.0.9", t0).unwrap();
    assert_eq!(wait, Duration::from_secs(1));
    // Looking did not spend: after the wait, one request passes.
    assert_eq!(limiter.blocked("10.0.0.9", t0 + wait), None);
    assert_eq!(limiter.check("10.0.0.9", t0 + wait), Ok(()));
}
