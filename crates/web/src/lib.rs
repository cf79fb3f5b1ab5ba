//! The HTTP face of Switchboard: the `/api/v1` JSON API with its OpenAPI document, the live
//! event stream, the platform webhooks (`/webhooks/*`), the customers' survey links
//! (`/survey/*`), and the operations endpoints (`/healthz`, `/readyz`, `/metrics`).
//!
//! Handlers are thin: they parse, call the ingestor or the store, and shape the answer.
//! Every error leaves as `application/problem+json` with a stable `code`.

mod access;
mod api;

/// The capacity check `serve` runs on its own schedule (`[staffing]`).
pub mod staffing {
    pub use crate::api::campaigns::{StaffingSchedule, check_capacity, run_schedule};
}
mod audit;
mod auth;
pub mod autoreply;
mod body;
pub mod openapi;
mod ops;
pub mod privacy;
mod problem;
mod redact;
mod survey;
mod telemetry;
mod ui;
pub mod webhooks;

pub use api::audit::{ChainReport, check_chain as check_audit_chain};
pub use auth::{AdminKey, Limits, hash_password, new_secret};
pub use problem::Problem;
pub use webhooks::WebhookConfig;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use sb_pipeline::{CaseWorkflow, Ingestor, PipelineEvents};
use sb_store::Store;
use std::sync::Arc;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler and middleware reads. Axum clones the state for each layer of each
/// request, so it is one shared pointer: cloning it is one reference count, not one per
/// field.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

#[derive(Clone)]
pub struct AppParts {
    pub store: Arc<dyn Store>,
    pub ingestor: Ingestor,
    pub events: PipelineEvents,
    pub keys: Arc<auth::KeyCache>,
    pub webhooks: Arc<WebhookConfig>,
    replays: Arc<webhooks::ReplayGuard>,
    /// Outbound targets configured on this server (`meta`, `x`, `pagerduty`, …).
    pub outbound_targets: Arc<Vec<String>>,
    /// Outbound targets that hear about incidents (the same as for rule alerts).
    pub alert_notify: Arc<Vec<String>>,
    /// Seconds after which an operational fact is stale.
    pub status_stale_after_secs: i64,
    /// Changes to cases (status, assignment, replies) go through the case workflow.
    pub casework: Arc<CaseWorkflow>,
    /// The configuration file's watchlist, as `(list, term)`: shown beside the stored terms,
    /// changed only in the file.
    pub watch_config: Arc<Vec<(String, String)>>,
    /// The retention policies in force and their schedule (`[privacy]`).
    pub retention: Arc<privacy::RetentionSettings>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        ingestor: Ingestor,
        events: PipelineEvents,
        admin_key: Option<AdminKey>,
    ) -> Self {
        let keys = Arc::new(auth::KeyCache::new(
            store.clone(),
            admin_key,
            Limits::default(),
        ));
        let casework = Arc::new(CaseWorkflow::new(
            store.clone(),
            Arc::new(sb_workflow::Workflow::default()),
            Arc::new(sb_domain::SystemClock),
            events.clone(),
        ));
        Self(Arc::new(AppParts {
            casework,
            store,
            ingestor,
            events,
            keys,
            webhooks: Arc::new(WebhookConfig::default()),
            replays: Arc::default(),
            outbound_targets: Arc::default(),
            alert_notify: Arc::default(),
            status_stale_after_secs: 900,
            watch_config: Arc::default(),
            retention: Arc::default(),
        }))
    }

    /// The parts, for the builders below (a copy only if the state is already shared).
    fn parts(&mut self) -> &mut AppParts {
        Arc::make_mut(&mut self.0)
    }

    /// The retention policies in force and how often `serve` applies them.
    pub fn with_retention(mut self, settings: privacy::RetentionSettings) -> Self {
        self.parts().retention = Arc::new(settings);
        self
    }

    /// The configuration file's watchlist terms, `(list, term)`.
    pub fn with_watch_config(mut self, terms: Vec<(String, String)>) -> Self {
        self.parts().watch_config = Arc::new(terms);
        self
    }

    /// Records which outbound targets are configured, so replies on a platform without one
    /// are refused up front instead of waiting in the outbox.
    pub fn with_outbound_targets(mut self, targets: Vec<String>) -> Self {
        self.parts().outbound_targets = Arc::new(targets);
        self
    }

    /// Limits credential attempts and key use this way instead of by default.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        let keys = Arc::new(auth::KeyCache::new(
            self.store.clone(),
            self.keys.admin().cloned(),
            limits,
        ));
        self.parts().keys = keys;
        self
    }

    /// Works cases with this workflow (SLA policies, queues, rules) instead of none.
    pub fn with_casework(mut self, casework: Arc<CaseWorkflow>) -> Self {
        self.parts().casework = casework;
        self
    }

    /// After how many seconds an operational fact is stale.
    pub fn with_status_stale_after(mut self, secs: i64) -> Self {
        self.parts().status_stale_after_secs = secs;
        self
    }

    /// The targets incidents are handed to.
    pub fn with_alert_notify(mut self, targets: Vec<String>) -> Self {
        self.parts().alert_notify = Arc::new(targets);
        self
    }

    /// Turns on the platform webhooks whose secrets `config` holds.
    pub fn with_webhooks(mut self, config: WebhookConfig) -> Self {
        self.parts().webhooks = Arc::new(config);
        self
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    telemetry::init();
    let api = api::routes().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::guard,
    ));
    Router::new()
        .nest("/api/v1", api)
        .merge(webhooks::routes())
        .merge(ops::routes())
        .merge(survey::routes())
        // The web UI.
        .merge(ui::with_guard(&state))
        .fallback(|| async { Problem::not_found("no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(telemetry::track))
        .with_state(state)
}

/// The same HTTP stack as `router` — body limit, telemetry, authentication — around a handler
/// that does nothing. Benchmarks compare ingest against it.
pub fn noop_router(state: AppState) -> Router {
    telemetry::init();
    let api = Router::new()
        .route("/messages", axum::routing::post(api::messages::noop))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ));
    Router::new()
        .nest("/api/v1", api)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(telemetry::track))
        .with_state(state)
}

/// Serves `router` on an already-bound listener until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
