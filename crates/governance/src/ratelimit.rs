//! Token-bucket rate limits keyed by a string: a login name with its address, an API key
//! id, a client address.
//!
//! Time is passed in, never read, so the rules are tested without sleeping. Which key a
//! request is limited under, and what the refusal looks like on the wire, is the web layer's.

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    /// When `tokens` was last brought up to date.
    refilled: Instant,
    touched: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant, capacity: f64, per_second: f64) {
        // An Instant older than the last one (callers racing) counts as no time passed.
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(capacity);
        if now > self.refilled {
            self.refilled = now;
        }
    }

    fn is_full_at(&self, now: Instant, capacity: f64, per_second: f64) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens + elapsed * per_second >= capacity
    }
}

/// Up to `capacity` requests at once per key, refilled steadily at `refill_per_second`, for
/// at most `max_keys` keys held in memory.
#[derive(Debug)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
    capacity: f64,
    refill_per_second: f64,
    max_keys: usize,
}

impl RateLimiter {
    /// A capacity or `max_keys` of 0 is taken as 1; a refill rate that is negative or not a
    /// number means buckets never refill.
    pub fn new(capacity: u32, refill_per_second: f64, max_keys: usize) -> Self {
        let refill_per_second = if refill_per_second.is_finite() && refill_per_second > 0.0 {
            refill_per_second
        } else {
            0.0
        };
        Self {
            buckets: Mutex::new(HashMap::new()),
            capacity: f64::from(capacity.max(1)),
            refill_per_second,
            max_keys: max_keys.max(1),
        }
    }

    /// Takes one token for `key` at `now`; `Err(retry_after)` when the bucket is empty.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        // A panic elsewhere while holding the lock leaves the counts merely stale, never
        // inconsistent, so carry on with them rather than fail every request after.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            self.make_room(&mut buckets, now);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            refilled: now,
            touched: now,
        });
        bucket.refill(now, self.capacity, self.refill_per_second);
        if now > bucket.touched {
            bucket.touched = now;
        }
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(self.wait_for_one_token(bucket.tokens))
    }

    /// Whether `key` is out of tokens at `now` (and for how long), without taking one: lets a
    /// caller refuse before doing the work whose failures the bucket counts.
    pub fn blocked(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.get_mut(key)?;
        bucket.refill(now, self.capacity, self.refill_per_second);
        (bucket.tokens < 1.0).then(|| self.wait_for_one_token(bucket.tokens))
    }

    /// How many keys are held now; for metrics.
    pub fn tracked_keys(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    fn wait_for_one_token(&self, tokens: f64) -> Duration {
        let seconds = (1.0 - tokens) / self.refill_per_second;
        // Rounded up to the millisecond so a client that waits exactly this long succeeds.
        Duration::try_from_secs_f64((seconds * 1000.0).ceil() / 1000.0).unwrap_or(Duration::MAX)
    }

    /// Frees at least one slot, and usually an eighth of the map, so a flood of new keys
    /// pays for a full scan only once in a while.
    fn make_room(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        // A full bucket holds no information: forgetting it changes no future answer.
        buckets.retain(|_, b| !b.is_full_at(now, self.capacity, self.refill_per_second));
        let target = self.max_keys - (self.max_keys / 8).max(1);
        if buckets.len() <= target {
            return;
        }
        // Still crowded: forget the keys touched longest ago. They get a fresh bucket if they
        // return, which is the price of bounded memory.
        let mut touched: Vec<Instant> = buckets.values().map(|b| b.touched).collect();
        let excess = buckets.len() - target;
        let (_, cutoff, _) = touched.select_nth_unstable(excess - 1);
        let cutoff = *cutoff;
        let mut to_drop = excess;
        // Strictly older than the cutoff first, then ties, so iteration order cannot spare
        // an older key at the expense of a newer one.
        buckets.retain(|_, b| {
            let older = b.touched < cutoff;
            if older {
                to_drop -= 1;
            }
            !older
        });
        buckets.retain(|_, b| {
            if to_drop > 0 && b.touched == cutoff {
                to_drop -= 1;
                false
            } else {
                true
            }
        });
    }
}
