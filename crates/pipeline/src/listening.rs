//! Listening (E1–E4) in the live pipeline: every processed message is counted into its
//! watched series (everything, per platform, per region, per intent, per watched term — also
//! per term and region —, per topic), and each series' online detectors judge every closed
//! time bucket. A bucket that scores at or above `ALERT_SCORE` raises a detector alert; the
//! operator's alert rules, when configured, judge the same buckets and raise rule alerts that
//! open, escalate and resolve as episodes.
//!
//! Beside the series, every message's words and hashtags (personal data blanked first) feed
//! the emerging-terms detector, and complaints and the replies to them feed the viral-complaint
//! watch (`sb_alerts::emerging`, `sb_alerts::viral`).
//!
//! State lives in the process: with several workers, each judges the share of the stream it
//! processes (per-series partitioning across workers is not done yet).

use sb_alerts::rules::{RuleEngine, RuleEvent, RuleSet, Silence, SilenceMatcher};
use sb_alerts::{
    BucketSignals, EmergingConfig, EmergingTerm, EmergingTerms, Post, ViralConfig, ViralPost,
    ViralWatch, WatchConfig, Watchlist,
};
use sb_analytics::themes::{stopwords, terms_of, without_pii};
use sb_domain::case::PlanMessage;
use sb_domain::{Alert, AlertKind, Timestamp};
use sb_store::StoredSilence;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// Detector score from which a bucket raises an alert. The spike detector's scores are
/// calibrated so that NAB's threshold search on realTweets lands at about 0.52
/// (docs/ALERTS.md); 0.5 keeps that operating point.
pub const ALERT_SCORE: f32 = 0.5;

pub struct Listening {
    series: Mutex<Watchlist<String>>,
    rules: Option<Mutex<RuleEngine>>,
    emerging: Mutex<EmergingTerms>,
    viral: Mutex<ViralWatch>,
    stop: HashSet<&'static str>,
}

impl Default for Listening {
    fn default() -> Self {
        Self::new(WatchConfig::default())
    }
}

/// What closed buckets led to: alerts to raise, and rule episodes that ended.
#[derive(Debug, Default)]
pub struct Heard {
    pub alerts: Vec<Alert>,
    /// `(dedup_key, rule_id, group_key, at)` of each rule episode that ended.
    pub resolved: Vec<Resolved>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub dedup_key: String,
    pub rule_id: String,
    pub group_key: String,
    pub at: Timestamp,
}

/// The series a message counts in.
fn series_of(m: &PlanMessage) -> Vec<String> {
    let e = &m.enrichment;
    let mut keys = vec![
        "all".to_owned(),
        format!("platform:{}", m.source.as_str()),
        format!("intent:{}", e.intent),
    ];
    if let Some(r) = &m.region {
        keys.push(format!("region:{r}"));
    }
    for w in &e.watch {
        keys.push(format!("watch:{}:{}", w.list, w.term));
        if let Some(r) = &m.region {
            keys.push(format!("watch:{}:{}|region:{r}", w.list, w.term));
        }
    }
    if let Some(t) = &e.topic {
        keys.push(format!("topic:{t}"));
    }
    keys
}

fn suppress_reason(r: sb_alerts::rules::SuppressReason) -> &'static str {
    use sb_alerts::rules::SuppressReason as R;
    match r {
        R::Silenced => "silenced",
        R::Cooldown => "cooldown",
        R::Minor => "minor",
    }
}

impl Listening {
    pub fn new(cfg: WatchConfig) -> Self {
        Self {
            series: Mutex::new(Watchlist::new(cfg)),
            rules: None,
            emerging: Mutex::new(EmergingTerms::new(EmergingConfig {
                bucket_ms: cfg.bucket_ms,
                ..EmergingConfig::default()
            })),
            viral: Mutex::new(ViralWatch::new(ViralConfig::default())),
            stop: stopwords(),
        }
    }

    /// Judges every closed bucket with these rules as well.
    pub fn with_rules(mut self, rules: RuleSet) -> Self {
        self.rules = Some(Mutex::new(RuleEngine::new(rules)));
        self
    }

    /// Makes the rule engine's silences exactly `silences` (the store's, not yet ended): new
    /// ones are added, changed ones replaced, ended or deleted ones dropped. Answers the ids
    /// the engine refused (an invalid or surplus silence), which stay out.
    pub fn set_silences(&self, silences: &[StoredSilence], now: Timestamp) -> Vec<String> {
        let Some(rules) = &self.rules else {
            return Vec::new();
        };
        let mut engine = rules.lock().unwrap_or_else(|e| e.into_inner());
        let stale: Vec<String> = engine
            .silences()
            .iter()
            .filter(|s| !silences.iter().any(|n| n.id == s.id))
            .map(|s| s.id.clone())
            .collect();
        for id in stale {
            engine.remove_silence(&id);
        }
        let mut refused = Vec::new();
        for s in silences {
            let silence = Silence {
                id: s.id.clone(),
                matcher: SilenceMatcher {
                    series: s.series.clone(),
                    rule_id: s.rule_id.clone(),
                },
                starts_at: s.starts_at.millis(),
                ends_at: s.ends_at.millis(),
                reason: s.reason.clone(),
                created_by: s.created_by.clone(),
            };
            if engine.silences().contains(&silence) {
                continue;
            }
            if let Err(e) = engine.add_silence(silence, now.millis()) {
                tracing::warn!(silence = %s.id, error = %e, "silence not applied");
                refused.push(s.id.clone());
            }
        }
        refused
    }

    /// The silences the rule engine applies now.
    pub fn silences(&self) -> Vec<Silence> {
        self.rules.as_ref().map_or_else(Vec::new, |r| {
            r.lock()
                .unwrap_or_else(|e| e.into_inner())
                .silences()
                .to_vec()
        })
    }

    fn judge(&self, series: &str, b: &BucketSignals, now: Timestamp, out: &mut Heard) {
        let detected = |kind, score: f32| {
            (score >= ALERT_SCORE).then(|| {
                Alert::detected(
                    series,
                    kind,
                    f64::from(score),
                    Timestamp(b.bucket_start),
                    i64::from(b.volume),
                    b.sentiment_mean.map(f64::from),
                    now,
                )
            })
        };
        out.alerts.extend(detected(AlertKind::Spike, b.spike));
        out.alerts
            .extend(detected(AlertKind::SentimentDrop, b.sentiment_drop));
        let Some(rules) = &self.rules else { return };
        let events =
            rules
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .observe(series, b, now.millis());
        for e in events {
            match e {
                RuleEvent::Fired {
                    rule_id,
                    group_key,
                    dedup_key,
                    severity,
                    value,
                    bucket_start,
                    summary,
                } => {
                    let mut a = Alert::detected(
                        // Rules share series; the rule id keeps their alerts apart.
                        &format!("{group_key}#{rule_id}"),
                        AlertKind::Rule,
                        value,
                        Timestamp(bucket_start),
                        i64::from(b.volume),
                        b.sentiment_mean.map(f64::from),
                        now,
                    );
                    a.rule_id = Some(rule_id);
                    a.severity = Some(severity.as_str().to_owned());
                    a.dedup_key = Some(dedup_key);
                    a.summary = Some(summary);
                    out.alerts.push(a);
                }
                RuleEvent::Resolved {
                    rule_id,
                    group_key,
                    dedup_key,
                    at,
                } => out.resolved.push(Resolved {
                    dedup_key,
                    rule_id,
                    group_key,
                    at: Timestamp(at),
                }),
                RuleEvent::Suppressed {
                    rule_id, reason, ..
                } => {
                    metrics::counter!("switchboard_alerts_suppressed_total", "rule" => rule_id, "reason" => suppress_reason(reason))
                        .increment(1);
                }
            }
        }
    }

    /// Counts a processed batch (at each message's own time) and returns what the buckets it
    /// closed showed, with the terms that emerged and the complaints that went viral.
    pub fn observe(&self, batch: &[PlanMessage], now: Timestamp) -> Heard {
        let mut out = Heard::default();
        let mut closed = Vec::new();
        {
            let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
            for m in batch {
                let sentiment = Some(m.enrichment.sentiment_compound as f32);
                let intent = sb_alerts::watch::Intent::parse(&m.enrichment.intent);
                for key in series_of(m) {
                    let at = m.created_at.millis();
                    for b in series.record_intent(key.clone(), at, sentiment, intent) {
                        closed.push((key.clone(), b));
                    }
                }
            }
        }
        for (key, b) in closed {
            self.judge(&key, &b, now, &mut out);
        }
        let words: Vec<Vec<String>> = batch
            .iter()
            .map(|m| {
                let text = crate::stages::normalize(&m.text);
                terms_of(&without_pii(&text, &m.enrichment.pii), &self.stop)
            })
            .collect();
        let mut emerged = Vec::new();
        {
            let mut emerging = self.emerging.lock().unwrap_or_else(|e| e.into_inner());
            for (m, terms) in batch.iter().zip(&words) {
                emerged.extend(emerging.record(m.created_at.millis(), author_of(m), terms));
            }
        }
        out.alerts
            .extend(emerged.iter().map(|t| emerging_alert(t, now)));
        let mut viral = self.viral.lock().unwrap_or_else(|e| e.into_inner());
        // Only public posts spread: private messages neither go viral nor help a post to.
        for m in batch.iter().filter(|m| !m.reach.private) {
            let author = author_of(m);
            if let Some(parent) = m.reply_key()
                && let Some(v) =
                    viral.reaction(&parent, author, m.reach.followers, m.created_at.millis())
            {
                out.alerts.push(viral_alert(&v, None, now));
            }
            if m.enrichment.intent != "complaint" || m.reach.external_id.is_empty() {
                continue;
            }
            let key = format!("{}:{}", m.source.as_str(), m.reach.external_id);
            let post = Post {
                key: &key,
                message: m.id.as_str(),
                author,
                followers: m.reach.followers,
                engagement: m.reach.engagement,
                created_ms: m.created_at.millis(),
            };
            if let Some(v) = viral.complaint(post, now.millis()) {
                out.alerts
                    .push(viral_alert(&v, Some(m.enrichment.sentiment_compound), now));
            }
        }
        out
    }

    /// Closes buckets that ended before `now`, so a series that went quiet is judged too.
    pub fn flush(&self, now: Timestamp) -> Heard {
        let mut out = Heard::default();
        let closed: Vec<(String, BucketSignals)> = {
            let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
            series
                .flush(now.millis())
                .into_iter()
                .map(|(k, b)| (k.clone(), b))
                .collect()
        };
        for (key, b) in closed {
            self.judge(&key, &b, now, &mut out);
        }
        let emerged = self
            .emerging
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush(now.millis());
        out.alerts
            .extend(emerged.iter().map(|t| emerging_alert(t, now)));
        out
    }
}

/// Who wrote a message, as a stable hash of its platform identity.
fn author_of(m: &PlanMessage) -> u64 {
    let mut h = DefaultHasher::new();
    m.source.as_str().hash(&mut h);
    m.handle.hash(&mut h);
    h.finish()
}

fn emerging_alert(t: &EmergingTerm, now: Timestamp) -> Alert {
    let series = if t.term.starts_with('#') {
        format!("hashtag:{}", t.term)
    } else {
        format!("term:{}", t.term)
    };
    let mut a = Alert::detected(
        &series,
        AlertKind::EmergingTerm,
        f64::from(t.score),
        Timestamp(t.bucket_start),
        i64::from(t.authors),
        None,
        now,
    );
    a.summary = Some(format!(
        "\"{}\" used by {} authors in one bucket of {} messages; its usual share predicts {:.1}",
        t.term, t.authors, t.messages, t.expected
    ));
    a
}

/// The series names our message id, not the platform's post id or the author.
fn viral_alert(v: &ViralPost, sentiment: Option<f64>, now: Timestamp) -> Alert {
    let mut a = Alert::detected(
        &format!("post:{}", v.message),
        AlertKind::ViralComplaint,
        f64::from(v.score),
        Timestamp(v.created_ms),
        i64::try_from(v.engagement).unwrap_or(i64::MAX),
        sentiment,
        now,
    );
    a.summary = Some(format!(
        "complaint {} drew {} engagements in {:.0} min ({:.1}/min), audience {}",
        v.message, v.engagement, v.minutes, v.velocity, v.reach
    ));
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_domain::{Enrichment, MessageId, Platform};

    fn msg(at: i64, intent: &str) -> PlanMessage {
        PlanMessage {
            reach: Default::default(),
            id: MessageId::generate(),
            source: Platform::X,
            channel: "mentions".into(),
            handle: "@a".into(),
            author_name: None,
            region: None,
            in_reply_to: None,
            text: "x".into(),
            created_at: Timestamp(at),
            enrichment: Enrichment {
                intent: intent.into(),
                sentiment_compound: -0.2,
                ..Enrichment::default()
            },
        }
    }

    const BUCKET: i64 = 300_000;

    #[test]
    fn a_burst_after_a_steady_week_raises_a_spike_alert_and_the_steady_week_does_not() {
        let l = Listening::default();
        let mut alerts = Vec::new();
        // A week of 5-minute buckets with 3 messages each, then 150 complaints in one bucket.
        let week = 7 * 24 * 12;
        for b in 0..week {
            let batch: Vec<_> = (0..3)
                .map(|i| msg(b * BUCKET + i * 1000, "other"))
                .collect();
            alerts.extend(l.observe(&batch, Timestamp(b * BUCKET)).alerts);
        }
        assert!(
            alerts.iter().all(|a| a.kind != AlertKind::Spike),
            "a steady week raised {alerts:?}"
        );
        let burst: Vec<_> = (0..150)
            .map(|i| msg(week * BUCKET + i * 100, "complaint"))
            .collect();
        l.observe(&burst, Timestamp(week * BUCKET));
        let raised = l.flush(Timestamp((week + 1) * BUCKET + 1)).alerts;
        let spikes: Vec<&str> = raised
            .iter()
            .filter(|a| a.kind == AlertKind::Spike)
            .map(|a| a.series.as_str())
            .collect();
        assert!(spikes.contains(&"all"), "{raised:?}");
        assert!(spikes.contains(&"platform:x"), "{raised:?}");
        let all = raised.iter().find(|a| a.series == "all").unwrap();
        assert_eq!(all.volume, 150);
        assert_eq!(all.bucket_start, Timestamp(week * BUCKET));
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;
    use sb_domain::{Enrichment, MessageId, Platform, WatchHit};

    fn msg(at: i64, region: &str) -> PlanMessage {
        PlanMessage {
            reach: Default::default(),
            id: MessageId::generate(),
            source: Platform::X,
            channel: "mentions".into(),
            handle: "@a".into(),
            author_name: None,
            region: Some(region.into()),
            in_reply_to: None,
            text: "x".into(),
            created_at: Timestamp(at),
            enrichment: Enrichment {
                intent: "complaint".into(),
                sentiment_compound: -0.6,
                watch: vec![WatchHit {
                    list: "products".into(),
                    term: "X200".into(),
                    start: 0,
                    end: 4,
                }],
                ..Enrichment::default()
            },
        }
    }

    #[test]
    fn a_rule_on_a_product_in_a_region_fires_and_resolves() {
        let rules = RuleSet::from_toml(
            r#"
[[rules]]
id = "x200-eu"
name = "X200 complaints in eu-west"
series = "watch:products:X200|region:eu-west"
severity = "critical"
condition = { kind = "threshold", metric = "volume", op = "above", value = 10 }
"#,
        )
        .unwrap();
        let l = Listening::default().with_rules(rules);
        let burst: Vec<_> = (0..30)
            .map(|i| msg(1_000 + i, "eu-west"))
            .chain((0..5).map(|i| msg(2_000 + i, "us-east")))
            .collect();
        assert!(l.observe(&burst, Timestamp(3_000)).alerts.is_empty());
        let heard = l.flush(Timestamp(
            std::env::var("FLUSH_AT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(300_001),
        ));
        let fired: Vec<_> = heard
            .alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Rule)
            .collect();
        assert_eq!(fired.len(), 1, "{heard:?}");
        assert_eq!(fired[0].volume, 30);
        assert_eq!(
            fired[0].series,
            "watch:products:X200|region:eu-west#x200-eu"
        );
        // Two quiet buckets later the episode ends.
        let mut resolved = Vec::new();
        for k in 2..5 {
            resolved.extend(l.flush(Timestamp(k * 300_000 + 1)).resolved);
        }
        assert_eq!(resolved.len(), 1, "{resolved:?}");
        assert_eq!(Some(resolved[0].dedup_key.clone()), fired[0].dedup_key);
    }

    /// Judged long after it ended (the burst was back-dated, or the process was busy), the
    /// burst's bucket still fires, and the silence after it resolves the episode.
    #[test]
    fn a_burst_judged_late_fires_and_its_silence_resolves_it() {
        let rules = RuleSet::from_toml(
            r#"
[[rules]]
id = "x200-eu"
name = "X200 complaints in eu-west"
series = "watch:products:X200|region:eu-west"
severity = "critical"
condition = { kind = "threshold", metric = "volume", op = "above", value = 10 }
"#,
        )
        .unwrap();
        let l = Listening::default().with_rules(rules);
        let burst: Vec<_> = (0..30).map(|i| msg(1_000 + i, "eu-west")).collect();
        l.observe(&burst, Timestamp(3_000));
        let heard = l.flush(Timestamp(3_000_001));
        let fired: Vec<_> = heard
            .alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Rule)
            .collect();
        assert_eq!(fired.len(), 1, "{heard:?}");
        assert_eq!(fired[0].volume, 30);
        assert_eq!(heard.resolved.len(), 1, "{heard:?}");
    }

    /// The intent mix of one product: a rule on its complaint share fires when most of its
    /// mentions are complaints, and one on its praise share when most are praise, whatever
    /// their number.
    #[test]
    fn rules_on_a_products_intent_mix_fire_on_the_mix_not_the_volume() {
        let rules = RuleSet::from_toml(
            r#"
[[rules]]
id = "x200-complaints"
name = "Mostly complaints about the X200"
series = "watch:products:X200"
severity = "warning"
condition = { kind = "threshold", metric = "complaint_share", op = "above", value = 0.5 }

[[rules]]
id = "x200-praise"
name = "Mostly praise for the X200"
series = "watch:products:X200"
severity = "info"
condition = { kind = "threshold", metric = "praise_share", op = "above", value = 0.6 }
"#,
        )
        .unwrap();
        let l = Listening::default().with_rules(rules);
        // Bucket 1: 3 complaints and 7 praise of 10 mentions. Bucket 2: 4 complaints of 5.
        let mut batch: Vec<_> = (0..10).map(|i| msg(1_000 + i, "eu-west")).collect();
        for m in batch.iter_mut().skip(3) {
            m.enrichment.intent = "praise".into();
        }
        l.observe(&batch, Timestamp(20_000));
        let mut batch: Vec<_> = (0..5).map(|i| msg(BUCKET + 1_000 + i, "eu-west")).collect();
        batch[4].enrichment.intent = "inquiry".into();
        let first = l.observe(&batch, Timestamp(BUCKET + 20_000));
        let fired: Vec<_> = first
            .alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Rule)
            .collect();
        assert_eq!(fired.len(), 1, "70% praise, 30% complaints: {first:?}");
        assert_eq!(fired[0].rule_id.as_deref(), Some("x200-praise"));
        assert!((fired[0].score - 0.7).abs() < 1e-6, "{:?}", fired[0]);
        let heard = l.flush(Timestamp(2 * BUCKET + 1));
        let fired: Vec<_> = heard
            .alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Rule)
            .collect();
        assert_eq!(fired.len(), 1, "{heard:?}");
        assert_eq!(fired[0].rule_id.as_deref(), Some("x200-complaints"));
        assert_eq!(fired[0].volume, 5);
        assert!((fired[0].score - 0.8).abs() < 1e-6, "{:?}", fired[0]);
    }

    const BUCKET: i64 = 300_000;

    fn stored(id: &str, series: &str, starts: i64, ends: i64) -> StoredSilence {
        StoredSilence {
            id: id.into(),
            series: Some(series.into()),
            rule_id: None,
            starts_at: Timestamp(starts),
            ends_at: Timestamp(ends),
            reason: "recall already announced".into(),
            created_by: "key:ops".into(),
            created_at: Timestamp(0),
            ended_by: None,
        }
    }

    #[test]
    fn stored_silences_keep_a_rule_quiet_until_they_end_or_are_gone() {
        let rules = RuleSet::from_toml(
            r#"
[[rules]]
id = "x200-eu"
name = "X200 complaints in eu-west"
series = "watch:products:X200|region:eu-west"
severity = "critical"
condition = { kind = "threshold", metric = "volume", op = "above", value = 10 }
"#,
        )
        .unwrap();
        let l = Listening::default().with_rules(rules);
        let refused = l.set_silences(
            &[
                stored("sil_a", "watch:products:*", 0, 10 * BUCKET),
                stored("sil_bad", "watch:[x]", 0, 10 * BUCKET),
            ],
            Timestamp(0),
        );
        assert_eq!(refused, ["sil_bad"]);
        assert_eq!(l.silences().len(), 1);
        let burst: Vec<_> = (0..30).map(|i| msg(1_000 + i, "eu-west")).collect();
        l.observe(&burst, Timestamp(3_000));
        let heard = l.flush(Timestamp(BUCKET + 1));
        assert!(
            heard.alerts.iter().all(|a| a.kind != AlertKind::Rule),
            "silenced: {heard:?}"
        );
        // The silence is ended early (gone from the store's list): the next loud bucket fires.
        l.set_silences(&[], Timestamp(BUCKET + 2));
        assert!(l.silences().is_empty());
        let burst: Vec<_> = (0..30)
            .map(|i| msg(BUCKET + 1_000 + i, "eu-west"))
            .collect();
        l.observe(&burst, Timestamp(BUCKET + 3_000));
        let heard = l.flush(Timestamp(2 * BUCKET + 1));
        assert_eq!(
            heard
                .alerts
                .iter()
                .filter(|a| a.kind == AlertKind::Rule)
                .count(),
            1,
            "{heard:?}"
        );
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;
    use sb_domain::case::Reach;
    use sb_domain::{Enrichment, MessageId, PiiMark, Platform};

    const BUCKET: i64 = 300_000;

    fn msg(at: i64, handle: &str, text: &str, intent: &str) -> PlanMessage {
        PlanMessage {
            id: MessageId::generate(),
            source: Platform::X,
            channel: "mentions".into(),
            handle: handle.into(),
            author_name: None,
            region: None,
            in_reply_to: None,
            text: text.into(),
            created_at: Timestamp(at),
            enrichment: Enrichment {
                intent: intent.into(),
                sentiment_compound: -0.4,
                ..Enrichment::default()
            },
            reach: Reach {
                external_id: format!("{handle}-{at}"),
                private: false,
                followers: Some(200),
                engagement: 0,
            },
        }
    }

    /// Two hours of ordinary questions, then a hashtag many customers pick up at once, and
    /// an e-mail address several of them paste (personal data never becomes a term).
    #[test]
    fn a_hashtag_many_customers_pick_up_raises_an_emerging_term_alert() {
        let l = Listening::default();
        let mut alerts = Vec::new();
        for b in 0..24 {
            let batch: Vec<_> = (0..20)
                .map(|i| {
                    msg(
                        b * BUCKET + i * 1000,
                        &format!("@c{i}"),
                        "where is my parcel, any update on the delivery?",
                        "inquiry",
                    )
                })
                .collect();
            alerts.extend(l.observe(&batch, Timestamp(b * BUCKET)).alerts);
        }
        assert!(
            alerts.iter().all(|a| a.kind != AlertKind::EmergingTerm),
            "{alerts:?}"
        );
        let text = "my kettle is burnt out #KettleRecall write to press@example.com";
        let start = text.find("press@").unwrap();
        let burst: Vec<_> = (0..15)
            .map(|i| {
                let mut m = msg(24 * BUCKET + i * 1000, &format!("@n{i}"), text, "complaint");
                m.enrichment.pii = vec![PiiMark {
                    kind: "email".into(),
                    start,
                    end: text.len(),
                }];
                m
            })
            .collect();
        l.observe(&burst, Timestamp(24 * BUCKET));
        let raised = l.flush(Timestamp(25 * BUCKET + 1)).alerts;
        let series: Vec<&str> = raised
            .iter()
            .filter(|a| a.kind == AlertKind::EmergingTerm)
            .map(|a| a.series.as_str())
            .collect();
        assert!(series.contains(&"hashtag:#kettlerecall"), "{raised:?}");
        assert!(series.contains(&"term:burnt"), "{raised:?}");
        assert!(
            series
                .iter()
                .all(|s| !s.contains("press") && !s.contains("example")),
            "{series:?}"
        );
        let tag = raised
            .iter()
            .find(|a| a.series == "hashtag:#kettlerecall")
            .unwrap();
        assert_eq!(tag.volume, 15);
        assert_eq!(tag.bucket_start, Timestamp(24 * BUCKET));
    }

    #[test]
    fn a_complaint_drawing_replies_fast_raises_one_viral_alert() {
        let l = Listening::default();
        let post = msg(
            0,
            "@angry",
            "your app charged me twice and nobody answers",
            "complaint",
        );
        let post_id = post.id.clone();
        let key = post.reach.external_id.clone();
        assert!(l.observe(&[post], Timestamp(1_000)).alerts.is_empty());
        // 120 people reply within six minutes; the 100th makes it viral.
        let replies: Vec<_> = (0..120)
            .map(|i| {
                let mut m = msg(3_000 * i, &format!("@r{i}"), "same here", "other");
                m.in_reply_to = Some(key.clone());
                m
            })
            .collect();
        let raised = l.observe(&replies, Timestamp(360_000)).alerts;
        let viral: Vec<_> = raised
            .iter()
            .filter(|a| a.kind == AlertKind::ViralComplaint)
            .collect();
        assert_eq!(viral.len(), 1, "{raised:?}");
        assert_eq!(viral[0].series, format!("post:{post_id}"));
        assert_eq!(viral[0].volume, 100);
        assert_eq!(viral[0].bucket_start, Timestamp(0));
        // A question drawing the same replies is not a complaint: nothing.
        let l = Listening::default();
        let q = msg(0, "@curious", "what time do you open?", "inquiry");
        let key = q.reach.external_id.clone();
        l.observe(&[q], Timestamp(1_000));
        let replies: Vec<_> = (0..120)
            .map(|i| {
                let mut m = msg(3_000 * i, &format!("@r{i}"), "same here", "other");
                m.in_reply_to = Some(key.clone());
                m
            })
            .collect();
        let raised = l.observe(&replies, Timestamp(360_000)).alerts;
        assert!(raised.iter().all(|a| a.kind != AlertKind::ViralComplaint));
    }

    #[test]
    fn private_messages_neither_go_viral_nor_spread_a_post() {
        // A complaint by e-mail from someone followed by 300,000, with engagement the
        // platform counted: only its recipient sees it. Posted publicly, it is viral at once.
        let complaint = |private: bool| {
            let mut m = msg(
                0,
                "@famous",
                "you lost my order and nobody answers",
                "complaint",
            );
            m.reach.followers = Some(300_000);
            m.reach.engagement = 40;
            m.reach.private = private;
            m
        };
        let viral = |alerts: Vec<Alert>| {
            alerts
                .iter()
                .filter(|a| a.kind == AlertKind::ViralComplaint)
                .count()
        };
        let l = Listening::default();
        assert_eq!(
            viral(l.observe(&[complaint(true)], Timestamp(1_000)).alerts),
            0
        );
        let l = Listening::default();
        assert_eq!(
            viral(l.observe(&[complaint(false)], Timestamp(1_000)).alerts),
            1
        );
        // 120 private answers to a public complaint do not carry it; 120 public ones do.
        let answers = |key: &str, private: bool| -> Vec<PlanMessage> {
            (0..120)
                .map(|i| {
                    let mut m = msg(3_000 * i, &format!("@r{i}"), "same here", "other");
                    m.in_reply_to = Some(key.to_owned());
                    m.reach.private = private;
                    m
                })
                .collect()
        };
        for (private, want) in [(true, 0), (false, 1)] {
            let l = Listening::default();
            let post = msg(0, "@angry", "charged twice and nobody answers", "complaint");
            let key = post.reach.external_id.clone();
            l.observe(&[post], Timestamp(1_000));
            let raised = l
                .observe(&answers(&key, private), Timestamp(360_000))
                .alerts;
            assert_eq!(viral(raised), want, "private answers: {private}");
        }
    }
}
