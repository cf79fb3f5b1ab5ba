//! Start-up and shutdown: the store, the bus, the ingestor, the pipeline and the HTTP server,
//! wired from a `Config`.

use crate::config::Config;
use anyhow::Context;
use sb_domain::{Clock, SystemClock};
use sb_pipeline::{
    CaseWorkflow, DispatchConfig, Dispatcher, Ingestor, IngestorConfig, Pipeline, PipelineConfig,
    PipelineEvents,
};
use sb_store::Store;
use sb_web::{AdminKey, AppState, WebhookConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub struct Running {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn open_store(cfg: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = cfg.database_url();
    sb_store::open_partitioned(&url, &cfg.privacy.store_partitions())
        .await
        .with_context(|| format!("cannot open the database at {url}"))
}

/// The pipeline, with the operator's understanding data from the configuration.
pub fn pipeline(
    cfg: &Config,
    store: Arc<dyn Store>,
    events: PipelineEvents,
) -> anyhow::Result<Pipeline> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let analyzer = crate::nlp::analyzer_from(&cfg.nlp)?;
    let pipeline = Pipeline::new(
        store,
        clock,
        events,
        PipelineConfig {
            batch_size: cfg.pipeline.batch_size,
            sweep_interval: Duration::from_secs(cfg.pipeline.sweep_interval_secs.max(1)),
            linger: Duration::from_millis(cfg.pipeline.linger_ms),
            listening_hold: Duration::from_secs(cfg.pipeline.listening_hold_secs),
            ..PipelineConfig::default()
        },
    )
    .with_analyzer(analyzer);
    Ok(match alert_rules(cfg)? {
        Some(rules) => pipeline.with_rules(rules, cfg.alerts.notify.clone()),
        None => pipeline,
    })
}

/// The operator's alert rules, if configured; a bad file stops start-up with one line naming
/// the first bad rule.
pub fn alert_rules(cfg: &Config) -> anyhow::Result<Option<sb_alerts::rules::RuleSet>> {
    let Some(path) = &cfg.alerts.rules else {
        if !cfg.alerts.notify.is_empty() {
            tracing::warn!("alerts.notify is set but no alert rules are configured");
        }
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read alert rules {}", path.display()))?;
    let rules = sb_alerts::rules::RuleSet::from_toml(&text)
        .map_err(|e| anyhow::anyhow!("alert rules {}: {e} ({})", path.display(), e.code()))?;
    Ok(Some(rules))
}

/// The case workflow from the `[workflow]` section, with its queues created in the store.
pub async fn casework(
    cfg: &Config,
    store: Arc<dyn Store>,
    events: PipelineEvents,
) -> anyhow::Result<Arc<CaseWorkflow>> {
    let wf = sb_workflow::Workflow::compile(&cfg.workflow)?;
    let flow = CaseWorkflow::new(store, Arc::new(wf), Arc::new(SystemClock), events)
        .editable(cfg.workflow.clone(), cfg.workflow_routing.clone())
        .with_queues()
        .await
        .context("cannot create the configured queues")?;
    let flow = Arc::new(flow);
    // Routing saved by operators at run time wins over the file's, here and in every other
    // process as they look for it.
    flow.reload_routing()
        .await
        .context("cannot read the saved routing")?;
    if flow.routing_version() > 0 {
        tracing::info!(
            version = flow.routing_version(),
            "queues, agents, SLA policies and rules come from the saved routing, not the configuration file"
        );
    }
    tokio::spawn(flow.clone().follow_routing(ROUTING_PERIOD));
    // Open cases follow a policy the configuration changed, in the background: one case at
    // a time, so ingest and the pipeline keep going meanwhile.
    if !flow.workflow().sla.is_empty() {
        let recompute = flow.clone();
        tokio::spawn(async move {
            match recompute.recompute_policies().await {
                Ok(n) => tracing::info!(cases = n, "SLA policies re-evaluated on open cases"),
                Err(e) => tracing::error!(error = %e, "re-evaluating SLA policies failed"),
            }
        });
    }
    Ok(flow)
}

/// How often each process looks for routing an operator saved in another process.
pub const ROUTING_PERIOD: Duration = Duration::from_secs(5);

/// How often the case workflow looks for due clocks and waiting cases: under a second, so
/// clocks fire within a second of their due time.
pub const CASEWORK_PERIOD: Duration = Duration::from_millis(500);

/// How often `serve` looks for automatic replies that rules requested.
pub const AUTO_REPLY_PERIOD: Duration = Duration::from_secs(1);
/// How often the rollup stage folds new facts into the report rollups.
pub const ROLLUP_PERIOD: Duration = Duration::from_secs(1);

/// The rollup stage (reports, H1–H6), folding in the background and writing the weekly
/// report files when `[reports] weekly_dir` is set.
pub fn spawn_rollups(cfg: &Config, store: Arc<dyn Store>, flow: &Arc<CaseWorkflow>) {
    let mut rollups = sb_pipeline::Rollups::following(store, Arc::new(SystemClock), flow.clone());
    if let Some(dir) = &cfg.reports.weekly_dir {
        rollups = rollups.with_weekly_reports(dir.clone());
    }
    tokio::spawn(rollups.run(ROLLUP_PERIOD));
}

/// The outbox dispatcher for the configured targets; a target whose settings are wrong stops
/// start-up with one line saying which.
pub fn dispatcher(
    cfg: &Config,
    store: Arc<dyn Store>,
    events: PipelineEvents,
) -> anyhow::Result<(Dispatcher, Vec<String>)> {
    let senders = sb_outbound::Senders::from_config(&cfg.outbound)
        .map_err(|e| anyhow::anyhow!("outbound configuration: {e}"))?;
    let targets: Vec<String> = senders.targets().map(str::to_owned).collect();
    if let Some(missing) = cfg.alerts.notify.iter().find(|t| !targets.contains(t)) {
        anyhow::bail!("alerts.notify names `{missing}`, which has no [outbound.{missing}] section");
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok((
        Dispatcher::new(
            store,
            Arc::new(senders),
            clock,
            events,
            DispatchConfig {
                lease: Duration::from_secs(cfg.outbox_lease_secs.max(1)),
                ..DispatchConfig::default()
            },
        ),
        targets,
    ))
}

/// Starts everything `serve` runs, in this process, and returns once the server listens.
pub async fn start(cfg: &Config) -> anyhow::Result<Running> {
    let store = open_store(cfg).await?;
    let bus = sb_bus::open(&cfg.bus_url)
        .await
        .with_context(|| format!("cannot open the bus at {}", cfg.bus_url))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let events = PipelineEvents::default();

    let (dispatch, targets) = dispatcher(cfg, store.clone(), events.clone())?;
    tokio::spawn(dispatch.run());
    let flow = casework(cfg, store.clone(), events.clone()).await?;

    // The pipeline subscribes before ingest can announce anything.
    if cfg.pipeline.in_serve {
        tokio::spawn(flow.clone().run(CASEWORK_PERIOD));
        spawn_rollups(cfg, store.clone(), &flow);
        let pipe = pipeline(cfg, store.clone(), events.clone())?.with_casework(flow.clone());
        let pipe_bus = bus.clone();
        tokio::spawn(async move {
            if let Err(e) = pipe.run(pipe_bus).await {
                tracing::error!(error = %e, "the pipeline stopped");
            }
        });
    }
    tokio::task::yield_now().await;

    let ingestor = Ingestor::start(
        store.clone(),
        bus,
        clock,
        IngestorConfig {
            max_batch: cfg.ingest.max_batch,
            queue_capacity: cfg.ingest.queue_capacity,
            enqueue_timeout: std::time::Duration::from_millis(cfg.ingest.max_wait_ms),
        },
    );
    let admin = cfg.admin_key.as_deref().map(AdminKey::new);
    let state = AppState::new(store.clone(), ingestor, events, admin)
        .with_webhooks(WebhookConfig {
            meta_app_secret: cfg.meta_app_secret.clone().unwrap_or_default(),
            meta_verify_token: cfg.meta_verify_token.clone().unwrap_or_default(),
            x_consumer_secret: cfg.x_consumer_secret.clone().unwrap_or_default(),
            generic_secret: cfg.generic_webhook_secret.clone().unwrap_or_default(),
            linkedin_client_secret: cfg.linkedin_client_secret.clone().unwrap_or_default(),
            tiktok_client_secret: cfg.tiktok_client_secret.clone().unwrap_or_default(),
            accounts: cfg.webhook_accounts.iter().cloned().collect(),
        })
        .with_outbound_targets(targets)
        .with_alert_notify(cfg.alerts.notify.clone())
        .with_status_stale_after(cfg.status_stale_after_secs)
        .with_limits(cfg.security.limits())
        .with_casework(flow)
        .with_watch_config(crate::nlp::config_watch_terms(
            cfg.nlp.watchlist.as_deref(),
        )?)
        .with_retention(sb_web::privacy::RetentionSettings {
            policies: cfg.privacy.retention.clone(),
            every_hours: cfg.privacy.retention_every_hours,
        });
    // Policies may be saved at run time, so the schedule runs even when the file has none.
    if cfg.privacy.retention_every_hours > 0 {
        tokio::spawn(crate::governance::retention_schedule(
            store.clone(),
            cfg.privacy.retention.clone(),
            std::time::Duration::from_secs(cfg.privacy.retention_every_hours * 3600),
        ));
    }
    if let Some(schedule) = cfg.staffing.clone() {
        tokio::spawn(sb_web::staffing::run_schedule(state.clone(), schedule));
    }
    // Automatic replies that rules request go out through this server's reply path.
    tokio::spawn(sb_web::autoreply::run(state.clone(), AUTO_REPLY_PERIOD));
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let app = sb_web::router(state);
    let server = tokio::spawn(sb_web::serve(listener, app, shutdown_signal()));
    Ok(Running {
        addr,
        store,
        server,
    })
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    let running = start(&cfg).await?;
    tracing::info!(addr = %running.addr, "switchboard is listening");
    println!("Switchboard listening on http://{}", running.addr);
    running.server.await.context("the server task failed")??;
    Ok(())
}

/// `worker`: pipeline stages only. On the embedded bus a worker process shares no channel
/// with the servers, so it works from the store's sweep alone.
pub async fn worker(cfg: Config) -> anyhow::Result<()> {
    let store = open_store(&cfg).await?;
    let bus = sb_bus::open(&cfg.bus_url)
        .await
        .with_context(|| format!("cannot open the bus at {}", cfg.bus_url))?;
    let mut cfg = cfg;
    cfg.pipeline.sweep_interval_secs = cfg.pipeline.sweep_interval_secs.min(1);
    let events = PipelineEvents::default();
    let (dispatch, _) = dispatcher(&cfg, store.clone(), events.clone())?;
    tokio::spawn(dispatch.run());
    let flow = casework(&cfg, store.clone(), events.clone()).await?;
    tokio::spawn(flow.clone().run(CASEWORK_PERIOD));
    spawn_rollups(&cfg, store.clone(), &flow);
    let pipe = pipeline(&cfg, store, events)?.with_casework(flow);
    println!("Switchboard worker running (bus {})", cfg.bus_url);
    tokio::select! {
        r = pipe.run(bus) => r.context("the pipeline stopped")?,
        () = shutdown_signal() => {},
    }
    Ok(())
}
