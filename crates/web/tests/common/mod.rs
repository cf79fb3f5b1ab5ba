//! The app under test: real router, store, bus and pipeline over real HTTP.
#![allow(dead_code)]

use reqwest::StatusCode;
use sb_domain::{Clock, SystemClock};
use sb_pipeline::{Ingestor, IngestorConfig, Pipeline, PipelineConfig, PipelineEvents};
use sb_store::{SqliteStore, Store};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use switchboard_web::{AdminKey, AppState, WebhookConfig};

pub const KEY: &str = "sb_test_admin_key";

pub struct App {
    pub url: String,
    pub store: Arc<dyn Store>,
    /// The state the router serves, for what `serve` runs beside the router.
    pub state: AppState,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> App {
    spawn_app_with(WebhookConfig::default()).await
}

pub async fn spawn_app_with(webhooks: WebhookConfig) -> App {
    spawn_app_full(webhooks, sb_outbound::OutboundConfig::default()).await
}

/// The app with platform webhooks and outbound targets, and the outbox dispatcher running
/// as `serve` runs it.
pub async fn spawn_app_full(webhooks: WebhookConfig, outbound: sb_outbound::OutboundConfig) -> App {
    spawn_app_workflow(webhooks, outbound, "").await
}

/// The app as `serve` runs it, with a `[workflow]` section (TOML, without the header).
pub async fn spawn_app_workflow(
    webhooks: WebhookConfig,
    outbound: sb_outbound::OutboundConfig,
    workflow: &str,
) -> App {
    spawn_app_state(webhooks, outbound, workflow, |s| s).await
}

/// The app as `spawn_app_workflow` builds it, with `configure` applied to its state (the
/// settings `serve` takes from the configuration file).
pub async fn spawn_app_state(
    webhooks: WebhookConfig,
    outbound: sb_outbound::OutboundConfig,
    workflow: &str,
    configure: impl FnOnce(AppState) -> AppState,
) -> App {
    // HTTPS support in the HTTP client runs on rustls with the ring provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let bus = sb_bus::open("memory://").await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let events = PipelineEvents::default();
    let wf: sb_workflow::WorkflowConfig = toml::from_str(workflow).unwrap();
    let table: toml::Table = toml::from_str(workflow).unwrap();
    let flow = Arc::new(
        sb_pipeline::CaseWorkflow::new(
            store.clone(),
            Arc::new(sb_workflow::Workflow::compile(&wf).unwrap()),
            clock.clone(),
            events.clone(),
        )
        .editable(wf, sb_workflow::config::routing_document(&table))
        .with_queues()
        .await
        .unwrap(),
    );
    tokio::spawn(flow.clone().run(Duration::from_millis(50)));
    let pipeline = Pipeline::new(
        store.clone(),
        clock.clone(),
        events.clone(),
        PipelineConfig::default(),
    )
    .with_casework(flow.clone());
    let pbus = bus.clone();
    tokio::spawn(async move { pipeline.run(pbus).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let ingestor = Ingestor::start(store.clone(), bus, clock, IngestorConfig::default());
    let state = AppState::new(store.clone(), ingestor, events, Some(AdminKey::new(KEY)))
        .with_webhooks(webhooks)
        .with_casework(flow);
    let senders = sb_outbound::Senders::from_config(&outbound).unwrap();
    let targets: Vec<String> = senders.targets().map(str::to_owned).collect();
    let state = configure(state.with_outbound_targets(targets));
    let dispatcher = sb_pipeline::Dispatcher::new(
        store.clone(),
        Arc::new(senders),
        clock_for_dispatch(),
        state.events.clone(),
        sb_pipeline::DispatchConfig {
            idle: Duration::from_millis(20),
            base_backoff: Duration::from_millis(50),
            ..sb_pipeline::DispatchConfig::default()
        },
    );
    tokio::spawn(dispatcher.run());
    tokio::spawn(switchboard_web::autoreply::run(
        state.clone(),
        Duration::from_millis(50),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(switchboard_web::serve(
        listener,
        switchboard_web::router(state.clone()),
        std::future::pending(),
    ));
    App {
        url,
        store,
        state,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

fn clock_for_dispatch() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

impl App {
    /// The SQLite database file the app stores into.
    pub fn db_path(&self) -> std::path::PathBuf {
        self._dir.path().join("t.db")
    }

    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> (StatusCode, String, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/messages", self.url))
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, ctype) = (r.status(), content_type(&r));
        let v = r.json().await.unwrap_or(Value::Null);
        (status, ctype, v)
    }

    pub async fn post(&self, body: Value) -> (StatusCode, String, Value) {
        self.post_raw(serde_json::to_vec(&body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// `GET route` as `key`: the status, content type and body as text.
    pub async fn get_text(&self, route: &str, key: &str) -> (StatusCode, String, String) {
        let r = self
            .http
            .get(format!("{}{route}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let (status, ctype) = (r.status(), content_type(&r));
        (status, ctype, r.text().await.unwrap())
    }

    /// `method route` as `key`, with a JSON body when given: the status and the JSON answer
    /// (`null` when there is none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        route: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{route}", self.url))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the pipeline has processed the message.
    pub async fn processed(&self, id: &str) -> Value {
        for _ in 0..200 {
            let (s, m) = self.get(&format!("/api/v1/messages/{id}")).await;
            assert_eq!(s, StatusCode::OK);
            if m["stage"] == "processed" {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("message {id} was not processed");
    }
}

/// The response's `content-type`, or empty.
pub fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Issues `key` in the store with `role` (and `scopes`, when given), as `POST /keys` would.
pub async fn issue_key(store: &Arc<dyn Store>, key: &str, role: &str, scopes: Option<&[&str]>) {
    issue(store, key, role, scopes, None).await;
}

/// Issues `key` with `role`, limited to `regions`.
pub async fn issue_regional_key(store: &Arc<dyn Store>, key: &str, role: &str, regions: &[&str]) {
    issue(store, key, role, None, Some(regions)).await;
}

async fn issue(
    store: &Arc<dyn Store>,
    key: &str,
    role: &str,
    scopes: Option<&[&str]>,
    regions: Option<&[&str]>,
) {
    let owned = |list: &[&str]| list.iter().map(|x| (*x).to_owned()).collect();
    store
        .create_api_key(&sb_store::NewApiKey {
            name: format!("{role} key"),
            key_hash: sb_store::hash_api_key(key),
            role: role.into(),
            scopes: scopes.map(owned),
            created_at: sb_domain::Timestamp(0),
            expires_at: None,
            regions: regions.map(owned),
        })
        .await
        .unwrap();
}
