//! Streaming metrics per watched series (E1): messages are counted into fixed buckets
//! (volume, sentiment mean, negative share) and, as each bucket closes, handed to the spike
//! and sentiment-drop detectors. One series is one grouping key the operator watches (a
//! term, product, region or platform); its state has a fixed size, so memory grows with the
//! number of series, never with traffic or time.
//!
//! Time comes from the messages (and from `flush`, for a series gone silent): replays and
//! live traffic behave the same.

use crate::detect::{SentimentConfig, SentimentDropDetector, VolumeConfig, VolumeSpikeDetector};
use std::collections::HashMap;
use std::hash::Hash;

/// Sentiment at or below this counts as negative (the NLP stage's own cut-off).
pub const NEGATIVE_BELOW: f32 = -0.05;
/// A silent series replays at most this many empty buckets, so one long gap costs a bounded
/// amount of work; the baseline does not need more to see the silence.
const MAX_EMPTY_BUCKETS: i64 = 288;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WatchConfig {
    /// Bucket length in milliseconds (the detectors' defaults assume 5 minutes); values
    /// below 1 ms are taken as 1 ms.
    pub bucket_ms: i64,
    pub volume: VolumeConfig,
    pub sentiment: SentimentConfig,
}

impl WatchConfig {
    fn bucket_len(&self) -> i64 {
        self.bucket_ms.max(1)
    }

    fn bucket_of(&self, ts_ms: i64) -> i64 {
        ts_ms.div_euclid(self.bucket_len()) * self.bucket_len()
    }
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            bucket_ms: 300_000,
            volume: VolumeConfig::default(),
            sentiment: SentimentConfig::default(),
        }
    }
}

/// A message's intent as the intent mix counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    Complaint,
    Inquiry,
    Praise,
    Other,
}

impl Intent {
    /// From the understanding stage's label; `None` for a label it does not give.
    pub fn parse(label: &str) -> Option<Self> {
        match label {
            "complaint" => Some(Self::Complaint),
            "inquiry" => Some(Self::Inquiry),
            "praise" => Some(Self::Praise),
            "other" => Some(Self::Other),
            _ => None,
        }
    }
}

/// What one closed bucket of one series showed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketSignals {
    pub bucket_start: i64,
    pub volume: u32,
    /// Mean compound sentiment of the messages that carried one.
    pub sentiment_mean: Option<f32>,
    pub negative_share: Option<f32>,
    /// Shares of the messages whose intent was known that were complaints, inquiries and
    /// praise (the intent mix as the care team reads it; the rest is `other`); absent when no
    /// message carried an intent.
    pub complaint_share: Option<f32>,
    pub inquiry_share: Option<f32>,
    pub praise_share: Option<f32>,
    /// Spike score 0..1 (see `VolumeSpikeDetector`).
    pub spike: f32,
    /// Sentiment-drop score 0..1 (see `SentimentDropDetector`).
    pub sentiment_drop: f32,
}

/// The state of one series.
#[derive(Clone, Debug, Default)]
pub struct SeriesWatch {
    /// Start of the open bucket; `None` before the first message.
    bucket_start: Option<i64>,
    count: u32,
    sentiment_sum: f32,
    sentiment_n: u32,
    negative: u32,
    complaints: u32,
    inquiries: u32,
    praise: u32,
    intent_n: u32,
    volume: VolumeSpikeDetector,
    sentiment: SentimentDropDetector,
}

impl SeriesWatch {
    /// Counts one message. When it is the first of a later bucket, the open bucket closes
    /// (and any empty buckets in between), and the signals of every closed bucket are
    /// returned, oldest first. Messages later than their bucket was closed are counted in the open one.
    pub fn record(
        &mut self,
        cfg: &WatchConfig,
        ts_ms: i64,
        sentiment: Option<f32>,
    ) -> Vec<BucketSignals> {
        self.record_intent(cfg, ts_ms, sentiment, None)
    }

    /// As [`record`](Self::record), also counting the message's intent (when known) into the
    /// bucket's intent mix.
    pub fn record_intent(
        &mut self,
        cfg: &WatchConfig,
        ts_ms: i64,
        sentiment: Option<f32>,
        intent: Option<Intent>,
    ) -> Vec<BucketSignals> {
        let start = cfg.bucket_of(ts_ms);
        let closed = match self.bucket_start {
            Some(open) if start > open => self.close_until(cfg, start),
            Some(_) => Vec::new(),
            None => {
                self.bucket_start = Some(start);
                Vec::new()
            }
        };
        self.count = self.count.saturating_add(1);
        if let Some(i) = intent {
            self.intent_n += 1;
            match i {
                Intent::Complaint => self.complaints += 1,
                Intent::Inquiry => self.inquiries += 1,
                Intent::Praise => self.praise += 1,
                Intent::Other => {}
            }
        }
        if let Some(s) = sentiment.filter(|s| s.is_finite()) {
            self.sentiment_sum += s;
            self.sentiment_n += 1;
            if s <= NEGATIVE_BELOW {
                self.negative += 1;
            }
        }
        closed
    }

    /// The spike score the open bucket would get if it closed now (see
    /// [`VolumeSpikeDetector::preview`]): checked after each message, it lets a burst alert
    /// within its first bucket instead of when the next one starts.
    pub fn open_spike(&self, cfg: &WatchConfig) -> f32 {
        match self.bucket_start {
            Some(start) => self
                .volume
                .preview(&cfg.volume, start, f64::from(self.count)),
            None => 0.0,
        }
    }

    /// Closes the open bucket if `now_ms` is past it (a series that has gone quiet still
    /// has its silence scored).
    pub fn flush(&mut self, cfg: &WatchConfig, now_ms: i64) -> Vec<BucketSignals> {
        let start = cfg.bucket_of(now_ms);
        match self.bucket_start {
            Some(open) if start > open => self.close_until(cfg, start),
            _ => Vec::new(),
        }
    }

    /// Closes the open bucket and the empty ones up to `next`, which becomes the open one;
    /// answers every closed bucket, oldest first (the one with the messages, then the
    /// silence, at most `MAX_EMPTY_BUCKETS` of it).
    fn close_until(&mut self, cfg: &WatchConfig, next: i64) -> Vec<BucketSignals> {
        let Some(open) = self.bucket_start else {
            return Vec::new();
        };
        let empty = ((next - open) / cfg.bucket_len() - 1).clamp(0, MAX_EMPTY_BUCKETS);
        let mut closed = Vec::with_capacity(1 + empty as usize);
        closed.push(self.close(cfg, open));
        for k in (1..=empty).rev() {
            closed.push(self.close(cfg, next - k * cfg.bucket_len()));
        }
        self.bucket_start = Some(next);
        closed
    }

    fn close(&mut self, cfg: &WatchConfig, bucket_start: i64) -> BucketSignals {
        let volume = std::mem::take(&mut self.count);
        let sum = std::mem::take(&mut self.sentiment_sum);
        let n = std::mem::take(&mut self.sentiment_n);
        let negative = std::mem::take(&mut self.negative);
        let intent_n = std::mem::take(&mut self.intent_n);
        let share = |n: &mut u32| {
            let n = std::mem::take(n);
            (intent_n > 0).then(|| n as f32 / intent_n as f32)
        };
        let complaint_share = share(&mut self.complaints);
        let inquiry_share = share(&mut self.inquiries);
        let praise_share = share(&mut self.praise);
        let (sentiment_mean, negative_share) = if n > 0 {
            let n_f = n as f32;
            (Some(sum / n_f), Some(negative as f32 / n_f))
        } else {
            (None, None)
        };
        let spike = self
            .volume
            .observe(&cfg.volume, bucket_start, f64::from(volume));
        let sentiment_drop =
            self.sentiment
                .observe(&cfg.sentiment, sentiment_mean.unwrap_or(f32::NAN), n);
        BucketSignals {
            bucket_start,
            volume,
            sentiment_mean,
            negative_share,
            complaint_share,
            inquiry_share,
            praise_share,
            spike,
            sentiment_drop,
        }
    }
}

/// Every watched series, by key.
#[derive(Debug)]
pub struct Watchlist<K> {
    cfg: WatchConfig,
    series: HashMap<K, SeriesWatch>,
}

impl<K: Hash + Eq> Watchlist<K> {
    pub fn new(cfg: WatchConfig) -> Self {
        Self {
            cfg,
            series: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Counts one message against series `key`; see [`SeriesWatch::record`].
    pub fn record(&mut self, key: K, ts_ms: i64, sentiment: Option<f32>) -> Vec<BucketSignals> {
        self.series
            .entry(key)
            .or_default()
            .record(&self.cfg, ts_ms, sentiment)
    }

    /// Counts one message against series `key`, with its intent; see
    /// [`SeriesWatch::record_intent`].
    pub fn record_intent(
        &mut self,
        key: K,
        ts_ms: i64,
        sentiment: Option<f32>,
        intent: Option<Intent>,
    ) -> Vec<BucketSignals> {
        self.series
            .entry(key)
            .or_default()
            .record_intent(&self.cfg, ts_ms, sentiment, intent)
    }

    /// See [`SeriesWatch::open_spike`]; 0 for a series never seen.
    pub fn open_spike(&self, key: &K) -> f32 {
        self.series
            .get(key)
            .map_or(0.0, |s| s.open_spike(&self.cfg))
    }

    /// Closes every bucket that ended before `now_ms`, returning each closed bucket of each
    /// series, oldest first per series.
    pub fn flush(&mut self, now_ms: i64) -> Vec<(&K, BucketSignals)> {
        let cfg = self.cfg;
        self.series
            .iter_mut()
            .flat_map(|(k, s)| s.flush(&cfg, now_ms).into_iter().map(move |b| (&*k, b)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn messages_are_counted_into_five_minute_buckets() {
        let cfg = WatchConfig::default();
        let mut w = SeriesWatch::default();
        assert_eq!(w.record(&cfg, 0, Some(0.5)), vec![]);
        assert_eq!(w.record(&cfg, MIN, Some(-0.5)), vec![]);
        assert_eq!(w.record(&cfg, 2 * MIN, None), vec![]);
        let closed = w.record(&cfg, 5 * MIN, Some(0.1));
        assert_eq!(closed.len(), 1);
        let b = closed[0];
        assert_eq!(b.bucket_start, 0);
        assert_eq!(b.volume, 3);
        assert_eq!(b.sentiment_mean, Some(0.0));
        assert_eq!(b.negative_share, Some(0.5));
    }

    #[test]
    fn the_intent_mix_counts_only_messages_whose_intent_is_known() {
        let cfg = WatchConfig::default();
        let mut w = SeriesWatch::default();
        w.record_intent(&cfg, 1_000, Some(-0.5), Some(Intent::Complaint));
        w.record_intent(&cfg, 2_000, Some(-0.4), Some(Intent::Complaint));
        w.record_intent(&cfg, 2_500, Some(0.0), Some(Intent::Inquiry));
        w.record_intent(&cfg, 2_700, Some(0.8), Some(Intent::Praise));
        w.record_intent(&cfg, 3_000, Some(0.3), Some(Intent::Other));
        w.record(&cfg, 4_000, Some(0.1));
        let closed = w.record(&cfg, 300_000, None);
        assert_eq!(closed[0].volume, 6);
        let near = |got: Option<f32>, want: f32| {
            let got = got.unwrap();
            assert!((got - want).abs() < 1e-6, "{got} != {want}");
        };
        near(closed[0].complaint_share, 2.0 / 5.0);
        near(closed[0].inquiry_share, 1.0 / 5.0);
        near(closed[0].praise_share, 1.0 / 5.0);
        // A bucket without intents has no shares, not shares of zero; the next bucket starts
        // its mix afresh.
        let closed = w.flush(&cfg, 600_000);
        assert_eq!(closed[0].complaint_share, None);
        assert_eq!(closed[0].praise_share, None);
        w.record_intent(&cfg, 600_001, None, Some(Intent::Praise));
        let closed = w.flush(&cfg, 900_000);
        near(closed[0].praise_share, 1.0);
        near(closed[0].complaint_share, 0.0);
    }

    #[test]
    fn a_silent_stretch_is_scored_as_empty_buckets() {
        let cfg = WatchConfig::default();
        let mut w = SeriesWatch::default();
        w.record(&cfg, 0, None);
        // Next message 20 minutes later: buckets 0 (1 message), 5, 10, 15 (empty) close,
        // and each is answered, the one with the message first.
        let closed = w.record(&cfg, 20 * MIN, None);
        let seen: Vec<_> = closed.iter().map(|b| (b.bucket_start, b.volume)).collect();
        assert_eq!(seen, [(0, 1), (5 * MIN, 0), (10 * MIN, 0), (15 * MIN, 0)]);
        assert_eq!(closed[3].sentiment_mean, None);
        // A burst followed by silence is still judged when the silence is flushed.
        let closed = w.flush(&cfg, 36 * MIN);
        let seen: Vec<_> = closed.iter().map(|b| (b.bucket_start, b.volume)).collect();
        assert_eq!(seen, [(20 * MIN, 1), (25 * MIN, 0), (30 * MIN, 0)]);
        assert_eq!(w.flush(&cfg, 37 * MIN), vec![]);
    }

    /// Mentions per 5-minute bucket over three days, busier by day, with a burst of ten
    /// times the usual on day 3.
    fn kettle_mentions(bucket: i64) -> i64 {
        let usual = 6 + (bucket % 288) / 48;
        if bucket == 2 * 288 + 100 {
            usual * 10
        } else {
            usual
        }
    }

    #[test]
    fn live_buckets_are_scored_exactly_as_alerts_detect_scores_the_series() {
        let cfg = WatchConfig::default();
        let mut w = SeriesWatch::default();
        let mut live = Vec::new();
        let mut series = crate::Series::default();
        for bucket in 0..3 * 288 {
            let t = bucket * 5 * MIN;
            for m in 0..kettle_mentions(bucket) {
                for b in w.record(&cfg, t + m * 1000, Some(0.1)) {
                    live.push(f64::from(b.spike));
                }
            }
            series.timestamps.push(t);
            series.values.push(kettle_mentions(bucket) as f64);
        }
        let offline = crate::score_series(&cfg.volume, &series);
        // Every bucket but the still-open last one has been scored live.
        assert_eq!(live.len(), offline.len() - 1);
        assert_eq!(live[..], offline[..live.len()]);
        assert!(live.iter().any(|s| *s > 0.5));
    }

    #[test]
    fn a_burst_alerts_within_its_first_bucket() {
        let cfg = WatchConfig::default();
        let mut w = SeriesWatch::default();
        let burst = 2 * 288 + 100;
        for bucket in 0..burst {
            for m in 0..kettle_mentions(bucket) {
                w.record(&cfg, bucket * 5 * MIN + m * 1000, None);
            }
        }
        let t = burst * 5 * MIN;
        let mut alerted_after = None;
        for m in 0..kettle_mentions(burst) {
            w.record(&cfg, t + m * 1000, None);
            if alerted_after.is_none() && w.open_spike(&cfg) > 0.5 {
                alerted_after = Some(m + 1);
            }
        }
        // The usual bucket holds about 8 messages; the alert comes well before the 80th.
        let n = alerted_after.expect("the burst raised no early alert");
        assert!(n <= 40, "alerted after {n} messages");
        // A usual bucket never previews as a spike.
        let mut quiet = SeriesWatch::default();
        for bucket in 0..burst {
            for m in 0..kettle_mentions(bucket) {
                quiet.record(&cfg, bucket * 5 * MIN + m * 1000, None);
                assert!(quiet.open_spike(&cfg) < 0.5);
            }
        }
    }

    #[test]
    fn a_recall_burst_on_one_product_spikes_only_that_series() {
        let mut list = Watchlist::new(WatchConfig::default());
        let day = 288;
        let mut spiked = Vec::new();
        for bucket in 0..(3 * day) {
            let t = bucket * 5 * MIN;
            let burst = bucket == 2 * day + 100;
            for m in 0..if burst { 60 } else { 6 } {
                for b in list.record("kettle", t + m * 1000, Some(0.2)) {
                    spiked.push(("kettle", b.spike));
                }
            }
            for m in 0..6 {
                for b in list.record("toaster", t + m * 1000, Some(0.2)) {
                    spiked.push(("toaster", b.spike));
                }
            }
        }
        let alerts: Vec<_> = spiked.iter().filter(|(_, s)| *s > 0.5).collect();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].0, "kettle");
        assert_eq!(list.len(), 2);
    }
}
