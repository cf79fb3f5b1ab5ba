//! The pipeline runner: consumes announcements from the bus in batches, and sweeps the store
//! for messages that are stored but unprocessed (after a crash, or an announcement lost
//! between commit and publish). Both paths call the same idempotent `process`.

use crate::listening::{Heard, Listening};
use crate::stages::{enrich, enrich_text};
use crate::{
    GROUP_LISTENING, GROUP_PIPELINE, LEASE_LISTENING, PipelineEvent, PipelineEvents,
    SUBJECT_PROCESSED, SUBJECT_RECEIVED,
};
use bytes::Bytes;
use sb_bus::Bus;
use sb_domain::case::{CaseContext, PlanMessage, fallback_languages, plan_batch};
use sb_domain::{Clock, MessageId, Timestamp};
use sb_nlp::Analyzer;
use sb_store::{Store, StoreError};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Most messages processed in one step.
    pub batch_size: usize,
    /// When the bus hands over fewer than `batch_size` messages, how long to let more gather
    /// before processing them: one step per few messages would take the store's one writer
    /// from the group commits that acknowledge new ones.
    pub linger: Duration,
    /// How often the store is swept for unprocessed messages.
    pub sweep_interval: Duration,
    /// A message must have waited this long before the sweep takes it from the bus.
    pub sweep_grace: Duration,
    /// On a shared bus, how long the listening lease lasts unless renewed (its holder renews
    /// it after a third of it); another process takes over this long after the holder stops.
    pub listening_lease: Duration,
    /// With regional partitions on SQLite: how often a sweep empties the central
    /// write-ahead log of first copies moved into a partition since (G5).
    pub log_empty_interval: Duration,
    /// How long a received message may hold back the judgement of the time bucket it
    /// belongs to, once that bucket has ended (a late platform delivery, a burst still in the
    /// pipeline): the bucket is judged when its messages are processed, or when they have
    /// waited this long (one that keeps failing does not hold it for ever).
    pub listening_hold: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            batch_size: 512,
            linger: Duration::from_millis(5),
            sweep_interval: Duration::from_secs(5),
            sweep_grace: Duration::from_secs(5),
            listening_lease: Duration::from_secs(15),
            log_empty_interval: Duration::from_secs(60),
            listening_hold: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] sb_bus::BusError),
    #[error("enrichment task failed: {0}")]
    Enrich(String),
}

#[derive(Clone)]
pub struct Pipeline {
    store: Arc<dyn Store>,
    analyzer: Arc<Analyzer>,
    clock: Arc<dyn Clock>,
    events: PipelineEvents,
    cfg: PipelineConfig,
    listening: Arc<Listening>,
    /// Outbound targets that hear about rule alerts.
    notify: Arc<Vec<String>>,
    /// Works the cases this pipeline places messages in.
    casework: Option<Arc<crate::CaseWorkflow>>,
    /// The watchlist the analyzer was given (the configuration file's); terms stored through
    /// the API are added to it.
    base_watch: Arc<Vec<sb_nlp::WatchTerm>>,
    /// The stored terms' version the analyzer's watchlist was built from.
    watch_version: Arc<std::sync::atomic::AtomicI64>,
    /// On a shared bus, where processed ids go for the one process that listens to the
    /// whole stream; `None`: this process listens to what it processes itself.
    listen_bus: Option<Arc<dyn Bus>>,
    /// Held shared by each step from loading its messages until listening has heard them,
    /// and alone by the sweep's closing of ended buckets: a message is never between
    /// "processed" and "heard" while the sweep decides which buckets are complete.
    hearing: Arc<tokio::sync::RwLock<()>>,
}

const STALE_RETRIES: usize = 5;

/// How often a process not listening asks for the listening lease.
const LISTENING_RETRY: Duration = Duration::from_secs(5);

/// The rule engine's own limit on silences (`EngineLimits::max_silences`).
const MAX_SILENCES: u32 = 1_000;

/// How many of the oldest unprocessed messages the sweep reads to find the earliest bucket
/// still waiting for some; a longer backlog is beyond `listening_hold` anyway.
const HOLD_SCAN: u32 = 10_000;

impl Pipeline {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        events: PipelineEvents,
        cfg: PipelineConfig,
    ) -> Self {
        Self {
            store,
            analyzer: Arc::new(Analyzer::new()),
            clock,
            events,
            cfg,
            listening: Arc::new(Listening::default()),
            notify: Arc::default(),
            casework: None,
            base_watch: Arc::default(),
            watch_version: Arc::new(std::sync::atomic::AtomicI64::new(-1)),
            listen_bus: None,
            hearing: Arc::default(),
        }
    }

    /// Runs the case workflow (SLA clocks, queues, rules, escalations, assignment) right
    /// after each step, instead of leaving it to the workflow's own schedule.
    pub fn with_casework(mut self, casework: Arc<crate::CaseWorkflow>) -> Self {
        self.casework = Some(casework);
        self
    }

    /// Judges closed buckets with the operator's alert rules too, and hands their alerts and
    /// resolutions to `notify` targets through the outbox.
    pub fn with_rules(mut self, rules: sb_alerts::rules::RuleSet, notify: Vec<String>) -> Self {
        self.listening = Arc::new(Listening::default().with_rules(rules));
        self.notify = Arc::new(notify);
        self
    }

    async fn enqueue(&self, items: Vec<sb_domain::NewOutboxItem>) {
        if items.is_empty() {
            return;
        }
        if let Err(e) = self.store.enqueue(&items, self.clock.now()).await {
            tracing::warn!(error = %e, "could not queue alert notifications");
        }
    }

    /// Stores and announces alerts — one per series, kind and bucket even when several
    /// processes raise it — notifies operations of rule alerts, and ends rule episodes.
    async fn raise(&self, heard: Heard) {
        for r in heard.resolved {
            match self.store.resolve_alert(&r.dedup_key, r.at).await {
                Ok(true) => {
                    tracing::info!(dedup_key = %r.dedup_key, "alert resolved");
                    self.enqueue(crate::notify::for_resolution(&self.notify, &r))
                        .await;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not resolve an alert"),
            }
        }
        for a in heard.alerts {
            match self.store.insert_alert(&a).await {
                Ok(true) => {
                    self.enqueue(crate::notify::for_alert(&self.notify, &a))
                        .await;
                    metrics::counter!("switchboard_alerts_raised_total", "kind" => a.kind.as_str())
                        .increment(1);
                    tracing::info!(series = %a.series, kind = a.kind.as_str(), score = a.score, "alert raised");
                    self.events.emit(PipelineEvent::AlertRaised {
                        alert_id: a.id.to_string(),
                        series: a.series,
                        kind: a.kind.as_str().to_owned(),
                        score: a.score,
                    });
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, series = %a.series, "could not store an alert")
                }
            }
        }
    }

    /// Uses this analyzer (with the operator's terms, watchlist and topic model) instead of
    /// the built-in one.
    pub fn with_analyzer(mut self, analyzer: Analyzer) -> Self {
        self.base_watch = Arc::new(analyzer.watch_terms());
        self.analyzer = Arc::new(analyzer);
        self.watch_version
            .store(-1, std::sync::atomic::Ordering::SeqCst);
        self
    }

    /// Rebuilds the analyzer's watchlist when the stored terms changed since it was built:
    /// the configuration file's terms plus every stored one. Called at each sweep, so a term
    /// added through the API applies in every process within one sweep interval.
    pub async fn load_watchlist(&self) {
        use std::sync::atomic::Ordering;
        let version = match self.store.watch_terms_version().await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the watchlist version; keeping the last one");
                return;
            }
        };
        if version == self.watch_version.load(Ordering::SeqCst) {
            return;
        }
        let stored = match self.store.watch_terms().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "could not read watchlist terms; keeping the last ones");
                return;
            }
        };
        let mut terms: Vec<sb_nlp::WatchTerm> = self.base_watch.as_ref().clone();
        terms.extend(stored.into_iter().map(|t| sb_nlp::WatchTerm {
            term: t.term,
            list: t.list,
        }));
        let count = terms.len();
        let built = if terms.is_empty() {
            Ok(None)
        } else {
            sb_nlp::Watchlist::new(terms).map(Some)
        };
        match built {
            Ok(w) => {
                self.analyzer.set_watchlist(w);
                self.watch_version.store(version, Ordering::SeqCst);
                tracing::info!(terms = count, version, "watchlist loaded");
            }
            Err(e) => tracing::warn!(error = %e, "watchlist not rebuilt; keeping the last one"),
        }
    }

    /// Takes the given messages (those still unprocessed) all the way to a routed case.
    /// Returns how many it processed. Safe to call again with the same ids.
    pub async fn process(&self, ids: &[MessageId]) -> Result<usize, PipelineError> {
        let queue = self.store.default_queue().await?;
        let hearing = self.hearing.read().await;
        for _ in 0..STALE_RETRIES {
            let t = Instant::now();
            let messages = self.store.messages_for_processing(ids).await?;
            if messages.is_empty() {
                return Ok(0);
            }
            metrics::histogram!("switchboard_stage_duration_seconds", "stage" => "load")
                .record(t.elapsed().as_secs_f64());

            let t = Instant::now();
            let analyzer = self.analyzer.clone();
            let planned = tokio::task::spawn_blocking(move || {
                messages
                    .iter()
                    .map(|m| {
                        let e = enrich(&analyzer, m);
                        PlanMessage::from_message(m, e)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| PipelineError::Enrich(e.to_string()))?;
            metrics::histogram!("switchboard_stage_duration_seconds", "stage" => "enrich")
                .record(t.elapsed().as_secs_f64());

            let t = Instant::now();
            let ctx = self.store.case_context(&planned).await?;
            let mut planned = planned;
            speak_as_their_customer(&self.analyzer, &mut planned, &ctx);
            let now = self.clock.now();
            let plan = plan_batch(&planned, ctx, &queue.id, now);
            metrics::histogram!("switchboard_stage_duration_seconds", "stage" => "identify_case_route")
                .record(t.elapsed().as_secs_f64());

            let t = Instant::now();
            match self.store.apply_case_plan(&plan, now).await {
                Ok(()) => {}
                Err(StoreError::Stale) => {
                    metrics::counter!("switchboard_pipeline_stale_total").increment(1);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            metrics::histogram!("switchboard_stage_duration_seconds", "stage" => "apply")
                .record(t.elapsed().as_secs_f64());
            metrics::counter!("switchboard_pipeline_messages_total")
                .increment(plan.placements.len() as u64);
            metrics::counter!("switchboard_cases_opened_total")
                .increment(plan.new_cases.len() as u64);

            let opened: HashSet<_> = plan.new_cases.iter().map(|c| c.id.clone()).collect();
            for c in &plan.new_cases {
                self.events.emit(PipelineEvent::CaseOpened {
                    case_id: c.id.to_string(),
                    customer_id: c.customer_id.to_string(),
                    priority: c.priority.as_str().into(),
                });
            }
            for t in plan.touches.iter().filter(|t| !opened.contains(&t.case_id)) {
                self.events.emit(PipelineEvent::CaseUpdated {
                    case_id: t.case_id.to_string(),
                    priority: t.priority.as_str().into(),
                });
            }
            for p in &plan.placements {
                self.events.emit(PipelineEvent::MessageProcessed {
                    message_id: p.message_id.to_string(),
                    case_id: p.case_id.to_string(),
                });
            }
            match &self.listen_bus {
                Some(bus) => {
                    let ids: Vec<&str> = plan
                        .placements
                        .iter()
                        .map(|p| p.message_id.as_str())
                        .collect();
                    // Committed already: if this is lost (the process dies now), listening
                    // misses these messages, nothing else does.
                    if let Err(e) = bus
                        .publish(SUBJECT_PROCESSED, "", Bytes::from(ids.join("\n")))
                        .await
                    {
                        tracing::warn!(error = %e, "could not hand processed messages to listening");
                    }
                }
                None => {
                    let alerts = self.listening.observe(&planned, now);
                    self.raise(alerts).await;
                }
            }
            drop(hearing);
            if let Some(flow) = &self.casework {
                let t = Instant::now();
                if let Err(e) = flow.run_pending().await {
                    // The work is stored with the placement; the workflow's schedule retries it.
                    tracing::warn!(error = %e, "case workflow step failed; will retry");
                }
                metrics::histogram!("switchboard_stage_duration_seconds", "stage" => "casework")
                    .record(t.elapsed().as_secs_f64());
            }
            let processed: Vec<MessageId> = plan
                .placements
                .iter()
                .map(|p| p.message_id.clone())
                .collect();
            if let Err(e) = self.store.place_messages(&processed, now).await {
                // Processed and committed; the content stays here until the next start's
                // catch-up moves it to its region.
                tracing::warn!(error = %e, "could not move message content to its region's partition");
            }
            return Ok(plan.placements.len());
        }
        Err(PipelineError::Store(StoreError::Stale))
    }

    /// On a shared bus: while this process holds the listening lease, it listens to every
    /// message any process processed (the ids come over the bus, the messages from the
    /// store), so each series is judged on its whole stream. Another process takes over
    /// within `listening_lease` of this one stopping, from where it left off (its detectors
    /// learn their baselines afresh).
    async fn listen_when_leading(self, bus: Arc<dyn Bus>) {
        let holder = ulid::Ulid::generate().to_string();
        let lease_ms = i64::try_from(self.cfg.listening_lease.as_millis()).unwrap_or(i64::MAX);
        loop {
            match self
                .store
                .try_lease(LEASE_LISTENING, &holder, self.clock.now(), lease_ms)
                .await
            {
                Ok(true) => {
                    tracing::info!("this process listens to the whole stream");
                    if let Err(e) = self.lead_listening(&bus, &holder).await {
                        tracing::warn!(error = %e, "listening stopped; will try again");
                    }
                    let _ = self.store.release_lease(LEASE_LISTENING, &holder).await;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the listening lease"),
            }
            tokio::time::sleep(LISTENING_RETRY).await;
        }
    }

    /// Listens while the lease holds; answers when it is lost.
    async fn lead_listening(&self, bus: &Arc<dyn Bus>, holder: &str) -> Result<(), PipelineError> {
        let lease_ms = i64::try_from(self.cfg.listening_lease.as_millis()).unwrap_or(i64::MAX);
        let mut sub = bus.subscribe(SUBJECT_PROCESSED, GROUP_LISTENING).await?;
        // Taken just now by the caller; renewed once a third of it has run, not per batch.
        // Quiet buckets are closed by this process's sweep, as on the embedded bus.
        let mut renewed = self.clock.now();
        loop {
            let now = self.clock.now();
            if now.millis() - renewed.millis() >= lease_ms / 3 {
                if !self
                    .store
                    .try_lease(LEASE_LISTENING, holder, now, lease_ms)
                    .await?
                {
                    tracing::info!("another process listens now");
                    return Ok(());
                }
                renewed = now;
            }
            let batch = sub.next_batch(64, Duration::from_secs(1)).await?;
            let ids: Vec<MessageId> = batch
                .iter()
                .filter_map(|d| std::str::from_utf8(&d.payload).ok())
                .flat_map(|p| p.split('\n'))
                .filter_map(MessageId::parse)
                .collect();
            if !ids.is_empty() {
                let messages = self.store.processed_messages_among(&ids).await?;
                let planned: Vec<PlanMessage> = messages
                    .iter()
                    .filter_map(|m| {
                        m.enrichment
                            .clone()
                            .map(|e| PlanMessage::from_message(m, e))
                    })
                    .collect();
                let heard = self.listening.observe(&planned, self.clock.now());
                self.raise(heard).await;
            }
            for d in batch {
                d.ack().await?;
            }
        }
    }

    /// Judges the time buckets that ended before `now` (so a series that went quiet is
    /// judged too), except those that messages received but not yet processed belong to:
    /// they wait for them, each message for at most `listening_hold` after it arrived.
    /// Returns how many alerts were raised.
    pub async fn close_ended_buckets(&self, now: Timestamp) -> usize {
        let heard = {
            let _alone = self.hearing.write().await;
            let horizon = self.listening_horizon(now).await;
            self.listening.flush(horizon)
        };
        let raised = heard.alerts.len();
        self.raise(heard).await;
        raised
    }

    /// Up to where buckets may close: `now`, or the time of the earliest message still
    /// unprocessed that arrived within `listening_hold`, when that is earlier.
    async fn listening_horizon(&self, now: Timestamp) -> Timestamp {
        let hold = i64::try_from(self.cfg.listening_hold.as_millis()).unwrap_or(i64::MAX);
        match self
            .store
            .earliest_unprocessed(now.plus_millis(-hold), HOLD_SCAN)
            .await
        {
            Ok(Some(waiting)) => waiting.min(now),
            Ok(None) => now,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the unprocessed messages; closing ended buckets");
                now
            }
        }
    }

    /// Processes every unprocessed message received before `cutoff`, oldest first.
    pub async fn sweep(&self, cutoff: sb_domain::Timestamp) -> Result<usize, PipelineError> {
        self.load_watchlist().await;
        let mut total = 0;
        let mut after: Option<MessageId> = None;
        loop {
            let limit = u32::try_from(self.cfg.batch_size).unwrap_or(512);
            let ids = self
                .store
                .unprocessed_messages(after.as_ref(), cutoff, limit)
                .await?;
            let Some(last) = ids.last().cloned() else {
                return Ok(total);
            };
            total += self.process(&ids).await?;
            after = Some(last);
        }
    }

    /// Loads the silences not yet ended into the rule engine: the store is where every
    /// process learns of them, so a silence set through the API applies everywhere within
    /// one sweep interval.
    pub async fn load_silences(&self, now: Timestamp) {
        match self.store.silences(Some(now), MAX_SILENCES).await {
            Ok(silences) => {
                self.listening.set_silences(&silences, now);
                metrics::gauge!("switchboard_alert_silences_loaded")
                    .set(self.listening.silences().len() as f64);
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not load alert silences; keeping the last ones")
            }
        }
    }

    /// Moves to their region's partition the content of processed messages still held
    /// centrally: after a crash between processing and placement, or after a region's
    /// partition was configured.
    pub async fn place_pending(&self) -> Result<u64, PipelineError> {
        let mut total = 0;
        loop {
            let limit = u32::try_from(self.cfg.batch_size).unwrap_or(512);
            let moved = self.store.place_pending(limit, self.clock.now()).await?;
            if moved == 0 {
                return Ok(total);
            }
            total += moved;
        }
    }

    /// Processes until nothing is left unprocessed; used by `import` and tests.
    pub async fn drain(&self) -> Result<usize, PipelineError> {
        self.sweep(self.clock.now().plus_millis(1)).await
    }

    /// Runs for ever: bus consumption plus periodic sweeps (the first one at once, which is
    /// crash recovery).
    pub async fn run(mut self, bus: Arc<dyn Bus>) -> Result<(), PipelineError> {
        self.load_watchlist().await;
        if bus.shared() {
            // Series span every partition: one process at a time listens to all of them.
            self.listen_bus = Some(bus.clone());
            tokio::spawn(self.clone().listen_when_leading(bus.clone()));
        }
        let sweeper = self.clone();
        tokio::spawn(async move {
            let mut first = true;
            // Content a crash left held for an unstored arrival is dropped at start and
            // again once all of it is older than the grace (then none can be younger).
            let strays_at = sweeper
                .clock
                .now()
                .plus_millis(sb_store::STRAY_ARRIVAL_GRACE.as_millis() as i64);
            let mut strays_left = true;
            let mut log_emptied = sweeper.clock.now();
            let log_every = sweeper.cfg.log_empty_interval.as_millis() as i64;
            loop {
                let grace = if first {
                    0
                } else {
                    sweeper.cfg.sweep_grace.as_millis() as i64
                };
                let catch_up = first;
                first = false;
                let now = sweeper.clock.now();
                sweeper.load_silences(now).await;
                sweeper.close_ended_buckets(now).await;
                let cutoff = now.plus_millis(-grace);
                match sweeper.sweep(cutoff).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(messages = n, "sweep processed stored messages"),
                    Err(e) => tracing::warn!(error = %e, "sweep failed; will retry"),
                }
                if !catch_up {
                    // What a failed move after a case write left here (the catch-up below
                    // covers it on the first sweep).
                    if let Err(e) = sweeper.store.place_documents().await {
                        tracing::warn!(error = %e, "could not move documents to region partitions");
                    }
                    // The first central copy of what moved since must not linger in the
                    // log; a reader holding it now leaves it for the next sweep.
                    if now >= log_emptied.plus_millis(log_every) {
                        match sweeper.store.empty_central_log().await {
                            Ok(true) => log_emptied = now,
                            Ok(false) => {}
                            Err(e) => tracing::warn!(
                                error = %e,
                                "could not empty the central write-ahead log"
                            ),
                        }
                    }
                }
                if catch_up || (strays_left && now >= strays_at) {
                    strays_left = catch_up;
                    match sweeper.store.drop_stray_arrivals(now).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            messages = n,
                            "dropped content held for arrivals that were never stored"
                        ),
                        Err(e) => tracing::warn!(error = %e, "could not drop stray arrivals"),
                    }
                }
                if catch_up {
                    match sweeper.place_pending().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            messages = n,
                            "moved message content to region partitions"
                        ),
                        Err(e) => {
                            tracing::warn!(error = %e, "could not move message content to region partitions")
                        }
                    }
                }
                tokio::time::sleep(sweeper.cfg.sweep_interval).await;
            }
        });
        let mut sub = bus.subscribe(SUBJECT_RECEIVED, GROUP_PIPELINE).await?;
        loop {
            let mut batch = sub
                .next_batch(self.cfg.batch_size, Duration::from_secs(1))
                .await?;
            if batch.is_empty() {
                continue;
            }
            if batch.len() < self.cfg.batch_size && !self.cfg.linger.is_zero() {
                tokio::time::sleep(self.cfg.linger).await;
                let more = sub
                    .next_batch(self.cfg.batch_size - batch.len(), Duration::from_millis(1))
                    .await?;
                batch.extend(more);
            }
            let ids: Vec<MessageId> = batch
                .iter()
                .filter_map(|d| {
                    std::str::from_utf8(&d.payload)
                        .ok()
                        .and_then(MessageId::parse)
                })
                .collect();
            match self.process(&ids).await {
                Ok(_) => {
                    for d in batch {
                        d.ack().await?;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, batch = ids.len(), "pipeline step failed; redelivering");
                    metrics::counter!("switchboard_pipeline_failures_total").increment(1);
                    for d in batch {
                        d.nak(Duration::from_secs(1)).await?;
                    }
                }
            }
        }
    }
}

/// A message too short to tell its language (`und`) is understood again as written in its
/// customer's language, when that is known (`fallback_languages`): "Sigo esperando
/// respuesta." from a Spanish-speaking customer then reads as Spanish, with Spanish cue
/// words, rather than by the English models.
fn speak_as_their_customer(analyzer: &Analyzer, batch: &mut [PlanMessage], ctx: &CaseContext) {
    // Nearly every batch has none: then there is nothing to look up.
    if batch.iter().all(|m| m.enrichment.language != "und") {
        return;
    }
    let fallbacks = fallback_languages(batch, ctx);
    for (m, language) in batch.iter_mut().zip(fallbacks) {
        if let (Some(language), "und") = (language, m.enrichment.language.as_str()) {
            m.enrichment = enrich_text(analyzer, &m.text, Some(&language));
        }
    }
}
