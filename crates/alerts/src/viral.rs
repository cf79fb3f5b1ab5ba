//! Viral complaints (E3): a complaint that draws engagement fast, or reaches a wide audience,
//! is worth someone's attention before it grows further.
//!
//! Each complaint post is watched for `track_ms` after it was written. Its engagement is what
//! the platform counted when it arrived (see `Reach::engagement` in the domain) plus every
//! distinct author who has since replied to it in the stream; its reach is its author's
//! followers plus those of the authors who replied. Judged on arrival and on every reaction:
//!
//! - velocity = engagement ÷ minutes since it was written (at least one minute);
//! - fast: engagement ≥ `min_engagement` and velocity ≥ `min_velocity` per minute;
//! - wide: reach ≥ `min_reach` with at least a tenth of `min_engagement`;
//! - strength s = max(min(engagement ratio, velocity ratio), min(reach ratio, 10 × engagement
//!   ratio)), each ratio to its threshold; viral when s ≥ 1, scored 1 − 0.5/s (0.5 at the
//!   threshold), and reported once per post.
//!
//! Memory is bounded by `capacity` posts (the oldest are dropped first) and by the window.

use std::collections::{HashMap, HashSet, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViralConfig {
    pub min_engagement: u64,
    /// Engagements per minute.
    pub min_velocity: f64,
    /// Audience: the author's followers plus the repliers'.
    pub min_reach: u64,
    pub track_ms: i64,
    pub capacity: usize,
    /// Distinct repliers counted per post.
    pub max_reactors: usize,
}

impl Default for ViralConfig {
    fn default() -> Self {
        Self {
            min_engagement: 100,
            min_velocity: 5.0,
            min_reach: 100_000,
            track_ms: 24 * 3_600_000,
            capacity: 100_000,
            max_reactors: 10_000,
        }
    }
}

/// A complaint post as it arrives.
#[derive(Clone, Copy, Debug)]
pub struct Post<'a> {
    /// `source:external_id`, what replies name in `in_reply_to`.
    pub key: &'a str,
    /// Our id of the message, carried into the report.
    pub message: &'a str,
    /// Any stable hash of who wrote it: their own replies do not count.
    pub author: u64,
    pub followers: Option<u64>,
    pub engagement: u64,
    pub created_ms: i64,
}

/// A complaint judged viral.
#[derive(Clone, Debug, PartialEq)]
pub struct ViralPost {
    pub key: String,
    pub message: String,
    pub created_ms: i64,
    pub engagement: u64,
    pub reach: u64,
    /// Minutes from the post to the observation that made it viral.
    pub minutes: f64,
    /// Engagements per minute.
    pub velocity: f64,
    pub score: f32,
}

#[derive(Debug)]
struct Tracked {
    message: String,
    author: u64,
    created_ms: i64,
    followers: u64,
    counted: u64,
    reactors: HashSet<u64>,
    reactor_reach: u64,
    fired: bool,
}

#[derive(Debug)]
pub struct ViralWatch {
    cfg: ViralConfig,
    posts: HashMap<String, Tracked>,
    /// Keys in the order they were first watched, with their post time.
    order: VecDeque<(i64, String)>,
}

impl ViralWatch {
    pub fn new(cfg: ViralConfig) -> Self {
        Self {
            cfg,
            posts: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Posts watched.
    pub fn len(&self) -> usize {
        self.posts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.posts.is_empty()
    }

    /// A complaint arrived (at `now_ms`): watch it, and judge it on what it already drew.
    pub fn complaint(&mut self, post: Post<'_>, now_ms: i64) -> Option<ViralPost> {
        self.expire(now_ms);
        if now_ms - post.created_ms > self.cfg.track_ms {
            return None;
        }
        if !self.posts.contains_key(post.key) {
            self.posts.insert(
                post.key.to_owned(),
                Tracked {
                    message: post.message.to_owned(),
                    author: post.author,
                    created_ms: post.created_ms,
                    followers: post.followers.unwrap_or(0),
                    counted: 0,
                    reactors: HashSet::new(),
                    reactor_reach: 0,
                    fired: false,
                },
            );
            self.order.push_back((post.created_ms, post.key.to_owned()));
            while self.posts.len() > self.cfg.capacity {
                let Some((_, oldest)) = self.order.pop_front() else {
                    break;
                };
                self.posts.remove(&oldest);
            }
        }
        let t = self.posts.get_mut(post.key)?;
        t.counted = t.counted.max(post.engagement);
        judge(&self.cfg, post.key, t, now_ms)
    }

    /// Someone (`author`, with their followers) replied at `at_ms` to the post `parent_key`.
    /// Answers the post if this reaction made it viral.
    pub fn reaction(
        &mut self,
        parent_key: &str,
        author: u64,
        followers: Option<u64>,
        at_ms: i64,
    ) -> Option<ViralPost> {
        let cfg = self.cfg;
        let t = self.posts.get_mut(parent_key)?;
        if t.author == author || t.reactors.len() >= cfg.max_reactors {
            return None;
        }
        if t.reactors.insert(author) {
            t.reactor_reach = t.reactor_reach.saturating_add(followers.unwrap_or(0));
        }
        judge(&cfg, parent_key, t, at_ms.max(t.created_ms))
    }

    /// Stops watching posts written more than `track_ms` before `now_ms`.
    fn expire(&mut self, now_ms: i64) {
        while let Some((created, key)) = self.order.front() {
            if now_ms - created <= self.cfg.track_ms {
                break;
            }
            self.posts.remove(key);
            self.order.pop_front();
        }
    }
}

fn judge(cfg: &ViralConfig, key: &str, t: &mut Tracked, at_ms: i64) -> Option<ViralPost> {
    if t.fired {
        return None;
    }
    let engagement = t.counted.saturating_add(t.reactors.len() as u64);
    let reach = t.followers.saturating_add(t.reactor_reach);
    let minutes = ((at_ms - t.created_ms) as f64 / 60_000.0).max(1.0);
    let velocity = engagement as f64 / minutes;
    let e = engagement as f64 / cfg.min_engagement.max(1) as f64;
    let v = velocity / cfg.min_velocity.max(f64::MIN_POSITIVE);
    let r = reach as f64 / cfg.min_reach.max(1) as f64;
    let strength = e.min(v).max(r.min(10.0 * e));
    if strength < 1.0 {
        return None;
    }
    t.fired = true;
    Some(ViralPost {
        key: key.to_owned(),
        message: t.message.clone(),
        created_ms: t.created_ms,
        engagement,
        reach,
        minutes,
        velocity,
        score: (1.0 - 0.5 / strength) as f32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn post(key: &str, followers: u64, engagement: u64, at: i64) -> Post<'_> {
        Post {
            key,
            message: "msg_1",
            author: 1,
            followers: Some(followers),
            engagement,
            created_ms: at,
        }
    }

    #[test]
    fn a_complaint_replied_to_fast_by_many_goes_viral_once() {
        let mut w = ViralWatch::new(ViralConfig::default());
        assert!(w.complaint(post("x:1", 300, 0, 0), 0).is_none());
        // 99 distinct repliers within 10 minutes: one short of the engagement needed.
        let mut fired = Vec::new();
        for a in 0..99u64 {
            fired.extend(w.reaction("x:1", 100 + a, Some(50), a as i64 * 6_000));
        }
        assert!(fired.is_empty());
        // The author's own reply does not count; the same replier twice counts once.
        assert!(w.reaction("x:1", 1, Some(300), 10 * MIN).is_none());
        assert!(w.reaction("x:1", 100, Some(50), 10 * MIN).is_none());
        let v = w.reaction("x:1", 999, Some(50), 10 * MIN).expect("viral");
        assert_eq!(v.engagement, 100);
        assert_eq!(v.reach, 300 + 100 * 50);
        assert!((v.velocity - 10.0).abs() < 1e-9, "{v:?}");
        assert!(v.score >= 0.5 && v.score < 1.0, "{v:?}");
        assert_eq!(v.message, "msg_1");
        // Reported once.
        assert!(w.reaction("x:1", 1000, Some(50), 11 * MIN).is_none());
    }

    #[test]
    fn engagement_spread_over_a_day_is_not_viral_but_a_wide_audience_is() {
        let mut w = ViralWatch::new(ViralConfig::default());
        // 150 engagements counted by the platform, ten hours after it was written: 0.25/min.
        assert!(
            w.complaint(post("x:slow", 800, 150, 0), 10 * 60 * MIN)
                .is_none()
        );
        // A complaint from an account followed by 250,000 with 12 engagements after 5 minutes.
        let v = w
            .complaint(post("x:wide", 250_000, 12, 0), 5 * MIN)
            .expect("wide reach");
        assert_eq!(v.reach, 250_000);
        assert!(v.score >= 0.5);
        // The same account with 3 engagements: not yet.
        assert!(
            w.complaint(post("x:quiet", 250_000, 3, 0), 5 * MIN)
                .is_none()
        );
    }

    #[test]
    fn replies_to_unknown_or_expired_posts_are_ignored_and_memory_is_bounded() {
        let cfg = ViralConfig {
            capacity: 100,
            ..ViralConfig::default()
        };
        let mut w = ViralWatch::new(cfg);
        assert!(w.reaction("x:none", 5, Some(10), 0).is_none());
        for i in 0..1_000 {
            let key = format!("x:{i}");
            w.complaint(post(&key, 10, 0, i), i);
        }
        assert_eq!(w.len(), 100);
        // A day and a bit later everything has expired.
        w.complaint(post("x:new", 10, 0, 25 * 60 * MIN), 25 * 60 * MIN);
        assert_eq!(w.len(), 1);
        // A post older than the window is not watched at all.
        assert!(
            w.complaint(post("x:old", 10_000_000, 500, 0), 25 * 60 * MIN)
                .is_none()
        );
        assert_eq!(w.len(), 1);
    }
}
