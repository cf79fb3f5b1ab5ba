//! Configuration: one documented struct, read from an optional TOML file and then from
//! `SWITCHBOARD_*` environment variables (which win). Every field has a default that runs.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds (`SWITCHBOARD_LISTEN`).
    pub listen: String,
    /// Directory for the embedded database and other local files (`SWITCHBOARD_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite://PATH` (default: `switchboard.db` in the data directory) or `postgres://…`
    /// (`SWITCHBOARD_DATABASE_URL`).
    pub database_url: Option<String>,
    /// `memory://` or `nats://HOST:PORT` for JetStream (`SWITCHBOARD_BUS_URL`).
    pub bus_url: String,
    /// An API key accepted with the admin role, for first start and automation (`SWITCHBOARD_ADMIN_KEY`).
    pub admin_key: Option<String>,
    /// Meta app secret for webhook signatures (`SWITCHBOARD_META_APP_SECRET`).
    pub meta_app_secret: Option<String>,
    /// Meta webhook verification token (`SWITCHBOARD_META_VERIFY_TOKEN`).
    pub meta_verify_token: Option<String>,
    /// X consumer secret for CRC checks and signatures (`SWITCHBOARD_X_CONSUMER_SECRET`).
    pub x_consumer_secret: Option<String>,
    /// Secret for signed generic and e-mail webhooks (`SWITCHBOARD_GENERIC_WEBHOOK_SECRET`).
    pub generic_webhook_secret: Option<String>,
    /// LinkedIn app client secret for webhooks (`SWITCHBOARD_LINKEDIN_CLIENT_SECRET`).
    pub linkedin_client_secret: Option<String>,
    /// TikTok app client secret for webhooks (`SWITCHBOARD_TIKTOK_CLIENT_SECRET`).
    pub tiktok_client_secret: Option<String>,
    /// Connected accounts webhooks accept (Page/Instagram ids, X user ids, mailboxes); empty
    /// accepts all (`SWITCHBOARD_WEBHOOK_ACCOUNTS`, comma-separated).
    pub webhook_accounts: Vec<String>,
    /// Log filter, e.g. `info` or `switchboard=debug` (`SWITCHBOARD_LOG`).
    pub log: String,
    pub ingest: IngestSection,
    pub pipeline: PipelineSection,
    pub nlp: NlpSection,
    /// Targets for replies and operations hand-off (`[outbound.pagerduty]`, `[outbound.slack]`,
    /// `[outbound.servicenow]`, `[outbound.webhook]`, `[outbound.meta]`, `[outbound.x]`; see
    /// docs/OUTBOUND.md). TOML only: these hold secrets and structure.
    pub outbound: sb_outbound::OutboundConfig,
    pub alerts: AlertsSection,
    /// Seconds an outbox item stays leased to the process sending it; after a crash, another
    /// process sends it once this has passed (`SWITCHBOARD_OUTBOX_LEASE_SECS`).
    pub outbox_lease_secs: u64,
    /// Seconds after which an operational status fact is stale (`SWITCHBOARD_STATUS_STALE_SECS`).
    pub status_stale_after_secs: i64,
    /// The case workflow: SLA policies and calendars, queues and agents, case rules,
    /// escalations, approvals, guardrails (see docs/WORKFLOW.md). TOML only.
    pub workflow: sb_workflow::WorkflowConfig,
    /// The routing parts of `[workflow]` as the file writes them, for operators who change
    /// them at run time (`/api/v1/workflow/routing`). Not a setting of its own.
    #[serde(skip)]
    pub workflow_routing: String,
    pub security: SecuritySection,
    pub privacy: PrivacySection,
    pub reports: ReportsSection,
    /// The roster `serve` checks against the forecast, raising `capacity_shortfall` alerts
    /// (see docs/ALERTS.md). TOML only; none checks nothing.
    pub staffing: Option<sb_web::staffing::StaffingSchedule>,
}

/// Reports (H1–H6).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsSection {
    /// Where each finished week's KPI report is written as CSV and HTML
    /// (`SWITCHBOARD_REPORTS_WEEKLY_DIR`); none writes no files.
    pub weekly_dir: Option<PathBuf>,
}

/// Sign-in sessions and rate limits (see docs/SECURITY.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySection {
    /// Mark the session cookie `Secure`; turn off only for plain-HTTP development
    /// (`SWITCHBOARD_COOKIE_SECURE`, `true`/`false`).
    pub cookie_secure: bool,
    /// Hours a sign-in session lasts.
    pub session_hours: i64,
    /// Sign-in attempts per login name and address: a burst, then this many per minute.
    pub login_burst: u32,
    pub login_per_minute: f64,
    /// Failed credentials per client address: a burst, then this many per minute.
    pub failed_auth_burst: u32,
    pub failed_auth_per_minute: f64,
    /// Requests per API key: a burst, then this many per second.
    pub key_burst: u32,
    pub key_per_second: f64,
    /// The Ed25519 key (PKCS#8) that signs audit exports; created on first use. Default:
    /// `audit-signing.key` in the data directory (`SWITCHBOARD_AUDIT_SIGNING_KEY`).
    pub audit_signing_key: Option<PathBuf>,
}

impl Default for SecuritySection {
    fn default() -> Self {
        let d = sb_web::Limits::default();
        Self {
            cookie_secure: d.secure_cookie,
            session_hours: d.session_hours,
            login_burst: d.logins_burst,
            login_per_minute: d.logins_per_minute,
            failed_auth_burst: d.failures_burst,
            failed_auth_per_minute: d.failures_per_minute,
            key_burst: d.key_burst,
            key_per_second: d.key_per_second,
            audit_signing_key: None,
        }
    }
}

impl SecuritySection {
    pub fn limits(&self) -> sb_web::Limits {
        sb_web::Limits {
            failures_burst: self.failed_auth_burst,
            failures_per_minute: self.failed_auth_per_minute,
            logins_burst: self.login_burst,
            logins_per_minute: self.login_per_minute,
            key_burst: self.key_burst,
            key_per_second: self.key_per_second,
            session_hours: self.session_hours,
            secure_cookie: self.cookie_secure,
        }
    }
}

/// Retention of message content (G4); see docs/SECURITY.md.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySection {
    /// Policies: after `days`, the content of messages of data class `class` (`standard`,
    /// `personal`, `sensitive`), in `region` when given, is erased — unless the customer is
    /// under legal hold.
    pub retention: Vec<RetentionPolicy>,
    /// Hours between scheduled retention runs in `serve` (0: only `switchboard retention run`).
    pub retention_every_hours: u64,
    /// Regions whose customers' message content is stored in a partition of its own (G5):
    /// `[[privacy.partitions]]` with `region` and, for SQLite, an optional `path` (default
    /// `region-<name>.db` beside the main file); on PostgreSQL the schema `region_<name>`
    /// (`SWITCHBOARD_PRIVACY_PARTITIONS`, comma-separated regions, default paths).
    pub partitions: Vec<PartitionConfig>,
}

/// One region with storage of its own.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionConfig {
    pub region: String,
    pub path: Option<PathBuf>,
}

impl PrivacySection {
    pub fn store_partitions(&self) -> Vec<sb_store::Partition> {
        self.partitions
            .iter()
            .map(|p| sb_store::Partition {
                region: p.region.clone(),
                path: p.path.clone(),
            })
            .collect()
    }
}

pub use sb_web::privacy::RetentionPolicy;

/// Operator alert rules and who hears about them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsSection {
    /// A TOML file of alert rules (`SWITCHBOARD_ALERT_RULES`; format in docs/ALERTS.md).
    pub rules: Option<PathBuf>,
    /// Outbound targets that receive rule alerts and incidents, e.g. `["pagerduty", "slack"]`
    /// (`SWITCHBOARD_ALERT_NOTIFY`, comma-separated).
    pub notify: Vec<String>,
}

/// The operator's own understanding data, loaded at start-up.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NlpSection {
    /// Industry sentiment terms, `term,weight` per line (`SWITCHBOARD_NLP_SENTIMENT_TERMS`).
    pub sentiment_terms: Option<PathBuf>,
    /// Watchlist, `list,term` per line (`SWITCHBOARD_NLP_WATCHLIST`).
    pub watchlist: Option<PathBuf>,
    /// Topic model from `switchboard nlp train` (`SWITCHBOARD_NLP_TOPIC_MODEL`).
    pub topic_model: Option<PathBuf>,
    /// Intent model from `switchboard nlp train`, labels complaint/inquiry/praise/other,
    /// answering in place of the rules (`SWITCHBOARD_NLP_INTENT_MODEL`).
    pub intent_model: Option<PathBuf>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSection {
    /// Most messages committed in one transaction (`SWITCHBOARD_INGEST_MAX_BATCH`).
    pub max_batch: usize,
    /// Messages that may wait for a commit before requests are told to retry
    /// (`SWITCHBOARD_INGEST_QUEUE`).
    pub queue_capacity: usize,
    /// Milliseconds a request may wait for room in a full queue before it is told to retry
    /// (`SWITCHBOARD_INGEST_MAX_WAIT_MS`).
    pub max_wait_ms: u64,
}

/// Longest wait a pipeline step may take for more messages: more would hold work back
/// without making steps any larger.
const MAX_LINGER_MS: u64 = 1_000;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSection {
    /// Most messages processed in one pipeline step (`SWITCHBOARD_PIPELINE_BATCH`).
    pub batch_size: usize,
    /// Seconds between sweeps for stored but unprocessed messages (`SWITCHBOARD_PIPELINE_SWEEP_SECS`).
    pub sweep_interval_secs: u64,
    /// Milliseconds a step that has fewer than `batch_size` messages waits for more
    /// (`SWITCHBOARD_PIPELINE_LINGER_MS`); 0 processes whatever arrived at once.
    pub linger_ms: u64,
    /// Whether `serve` also runs the pipeline; off when dedicated `worker` processes do it
    /// (`SWITCHBOARD_PIPELINE_IN_SERVE`, `true`/`false`).
    pub in_serve: bool,
    /// Seconds a received but unprocessed message may hold back the judgement of the ended
    /// time bucket it belongs to (`SWITCHBOARD_PIPELINE_LISTENING_HOLD_SECS`).
    pub listening_hold_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./switchboard-data"),
            database_url: None,
            bus_url: "memory://".into(),
            admin_key: None,
            meta_app_secret: None,
            meta_verify_token: None,
            x_consumer_secret: None,
            generic_webhook_secret: None,
            linkedin_client_secret: None,
            tiktok_client_secret: None,
            webhook_accounts: Vec::new(),
            log: "info".into(),
            ingest: IngestSection::default(),
            pipeline: PipelineSection::default(),
            nlp: NlpSection::default(),
            outbound: sb_outbound::OutboundConfig::default(),
            alerts: AlertsSection::default(),
            workflow: sb_workflow::WorkflowConfig::default(),
            workflow_routing: String::new(),
            outbox_lease_secs: 60,
            status_stale_after_secs: 900,
            security: SecuritySection::default(),
            privacy: PrivacySection::default(),
            reports: ReportsSection::default(),
            staffing: None,
        }
    }
}

impl Default for IngestSection {
    fn default() -> Self {
        Self {
            max_batch: 1024,
            queue_capacity: 16_384,
            max_wait_ms: 2_000,
        }
    }
}

impl Default for PipelineSection {
    fn default() -> Self {
        Self {
            batch_size: 512,
            sweep_interval_secs: 5,
            linger_ms: 5,
            in_serve: true,
            listening_hold_secs: 60,
        }
    }
}

/// The key ring that opens sealed secrets (`enc:v1:…`), read from `SWITCHBOARD_SECRETS_KEYS`
/// or the file `SWITCHBOARD_SECRETS_KEY_FILE` names, only once a sealed value is met.
#[derive(Default)]
pub struct SecretRing(Option<sb_governance::KeyRing>);

impl SecretRing {
    pub fn from_env() -> anyhow::Result<sb_governance::KeyRing> {
        let spec = match (env("SECRETS_KEYS"), env("SECRETS_KEY_FILE")) {
            (Some(spec), _) => spec,
            (None, Some(file)) => std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read the secrets key file {file}"))?,
            (None, None) => bail!(
                "the configuration holds sealed secrets (enc:v1:…) but neither SWITCHBOARD_SECRETS_KEYS nor SWITCHBOARD_SECRETS_KEY_FILE is set"
            ),
        };
        sb_governance::KeyRing::parse(spec.trim())
            .map_err(|e| anyhow::anyhow!("SWITCHBOARD_SECRETS_KEYS: {e}"))
    }

    fn open_in_place(&mut self, value: &mut String) -> anyhow::Result<()> {
        if !sb_governance::is_sealed(value) {
            return Ok(());
        }
        if self.0.is_none() {
            self.0 = Some(Self::from_env()?);
        }
        if let Some(ring) = &self.0 {
            *value = ring
                .open(value)
                .map_err(|e| anyhow::anyhow!("cannot open a sealed secret: {e}"))?;
        }
        Ok(())
    }
}

/// Replaces every sealed string in the configuration with its plaintext.
fn open_sealed(value: &mut toml::Value, ring: &mut SecretRing) -> anyhow::Result<()> {
    match value {
        toml::Value::String(s) => ring.open_in_place(s),
        toml::Value::Array(items) => items.iter_mut().try_for_each(|v| open_sealed(v, ring)),
        toml::Value::Table(t) => t.iter_mut().try_for_each(|(_, v)| open_sealed(v, ring)),
        _ => Ok(()),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(format!("SWITCHBOARD_{name}"))
        .ok()
        .filter(|v| !v.is_empty())
}

fn env_num<T: std::str::FromStr>(name: &str, into: &mut T) -> anyhow::Result<()> {
    if let Some(v) = env(name) {
        *into = v
            .parse()
            .map_err(|_| anyhow::anyhow!("SWITCHBOARD_{name} must be a number, got `{v}`"))?;
    }
    Ok(())
}

impl Config {
    /// Reads the file (if given), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut ring = SecretRing::default();
        let mut c = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file {}", path.display())
                })?;
                let mut value: toml::Value = toml::from_str(&text).map_err(|e| {
                    let msg = e.message().to_owned();
                    anyhow::anyhow!("invalid configuration file {}: {msg}", path.display())
                })?;
                open_sealed(&mut value, &mut ring)?;
                let routing = value
                    .get("workflow")
                    .and_then(toml::Value::as_table)
                    .map(sb_workflow::config::routing_document)
                    .unwrap_or_default();
                let mut c: Config = value.try_into().map_err(|e: toml::de::Error| {
                    let msg = e.message().to_owned();
                    anyhow::anyhow!("invalid configuration file {}: {msg}", path.display())
                })?;
                c.workflow_routing = routing;
                c
            }
            None => Config::default(),
        };
        if let Some(v) = env("LISTEN") {
            c.listen = v;
        }
        if let Some(v) = env("DATA_DIR") {
            c.data_dir = v.into();
        }
        if let Some(v) = env("DATABASE_URL") {
            c.database_url = Some(v);
        }
        if let Some(v) = env("BUS_URL") {
            c.bus_url = v;
        }
        if let Some(v) = env("ADMIN_KEY") {
            c.admin_key = Some(v);
        }
        if let Some(v) = env("META_APP_SECRET") {
            c.meta_app_secret = Some(v);
        }
        if let Some(v) = env("META_VERIFY_TOKEN") {
            c.meta_verify_token = Some(v);
        }
        if let Some(v) = env("X_CONSUMER_SECRET") {
            c.x_consumer_secret = Some(v);
        }
        if let Some(v) = env("GENERIC_WEBHOOK_SECRET") {
            c.generic_webhook_secret = Some(v);
        }
        if let Some(v) = env("LINKEDIN_CLIENT_SECRET") {
            c.linkedin_client_secret = Some(v);
        }
        if let Some(v) = env("TIKTOK_CLIENT_SECRET") {
            c.tiktok_client_secret = Some(v);
        }
        if let Some(v) = env("ALERT_RULES") {
            c.alerts.rules = Some(v.into());
        }
        if let Some(v) = env("ALERT_NOTIFY") {
            c.alerts.notify = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env("WEBHOOK_ACCOUNTS") {
            c.webhook_accounts = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env("LOG") {
            c.log = v;
        }
        if let Some(v) = env("AUDIT_SIGNING_KEY") {
            c.security.audit_signing_key = Some(v.into());
        }
        if let Some(v) = env("COOKIE_SECURE") {
            c.security.cookie_secure = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => bail!("SWITCHBOARD_COOKIE_SECURE must be `true` or `false`, got `{v}`"),
            };
        }
        if let Some(v) = env("NLP_SENTIMENT_TERMS") {
            c.nlp.sentiment_terms = Some(v.into());
        }
        if let Some(v) = env("REPORTS_WEEKLY_DIR") {
            c.reports.weekly_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("PRIVACY_PARTITIONS") {
            c.privacy.partitions = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|region| PartitionConfig {
                    region: region.to_owned(),
                    path: None,
                })
                .collect();
        }
        if let Some(v) = env("NLP_WATCHLIST") {
            c.nlp.watchlist = Some(v.into());
        }
        if let Some(v) = env("NLP_TOPIC_MODEL") {
            c.nlp.topic_model = Some(v.into());
        }
        if let Some(v) = env("NLP_INTENT_MODEL") {
            c.nlp.intent_model = Some(v.into());
        }
        env_num("INGEST_MAX_BATCH", &mut c.ingest.max_batch)?;
        env_num("INGEST_QUEUE", &mut c.ingest.queue_capacity)?;
        env_num("INGEST_MAX_WAIT_MS", &mut c.ingest.max_wait_ms)?;
        env_num("PIPELINE_BATCH", &mut c.pipeline.batch_size)?;
        env_num("PIPELINE_SWEEP_SECS", &mut c.pipeline.sweep_interval_secs)?;
        env_num("PIPELINE_LINGER_MS", &mut c.pipeline.linger_ms)?;
        env_num("PIPELINE_IN_SERVE", &mut c.pipeline.in_serve)?;
        env_num(
            "PIPELINE_LISTENING_HOLD_SECS",
            &mut c.pipeline.listening_hold_secs,
        )?;
        env_num("OUTBOX_LEASE_SECS", &mut c.outbox_lease_secs)?;
        env_num("STATUS_STALE_SECS", &mut c.status_stale_after_secs)?;
        // Secrets given in the environment may be sealed too.
        for field in [
            &mut c.admin_key,
            &mut c.database_url,
            &mut c.meta_app_secret,
            &mut c.meta_verify_token,
            &mut c.x_consumer_secret,
            &mut c.generic_webhook_secret,
            &mut c.linkedin_client_secret,
            &mut c.tiktok_client_secret,
        ] {
            if let Some(v) = field.as_mut() {
                ring.open_in_place(v)?;
            }
        }
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.ingest.max_batch == 0 || self.pipeline.batch_size == 0 {
            bail!("batch sizes must be at least 1");
        }
        if self.pipeline.linger_ms > MAX_LINGER_MS {
            bail!(
                "pipeline.linger_ms must be at most {MAX_LINGER_MS}, got {}",
                self.pipeline.linger_ms
            );
        }
        sb_workflow::Workflow::compile(&self.workflow)?;
        if let Some(s) = &self.staffing {
            s.validate().map_err(|e| anyhow::anyhow!("staffing: {e}"))?;
        }
        sb_web::privacy::validate_policies(&self.privacy.retention)
            .map_err(|e| anyhow::anyhow!("privacy.retention: {e}"))?;
        let mut regions = std::collections::HashSet::new();
        for p in &self.privacy.partitions {
            if !sb_store::valid_region(&p.region) {
                bail!(
                    "privacy.partitions: region `{}` must be 1-32 lowercase letters, digits or -, starting with a letter",
                    p.region
                );
            }
            if !regions.insert(p.region.replace('-', "_")) {
                bail!("privacy.partitions: region `{}` is given twice", p.region);
            }
        }
        let s = &self.security;
        if s.session_hours < 1 || s.session_hours > 24 * 30 {
            bail!("security.session_hours must be between 1 and 720");
        }
        if [
            s.login_per_minute,
            s.failed_auth_per_minute,
            s.key_per_second,
        ]
        .iter()
        .any(|r| !r.is_finite() || *r <= 0.0)
        {
            bail!("security rates must be positive numbers");
        }
        if let Some(url) = &self.database_url
            && !["sqlite://", "postgres://", "postgresql://"]
                .iter()
                .any(|p| url.starts_with(p))
        {
            bail!("unsupported database URL `{url}` (expected sqlite://PATH or postgres://…)");
        }
        if !matches!(self.bus_url.as_str(), "memory://" | "memory")
            && !self.bus_url.starts_with("nats://")
        {
            bail!(
                "unsupported bus URL `{}` (expected memory:// or nats://HOST:PORT)",
                self.bus_url
            );
        }
        Ok(())
    }

    /// Where the audit export signing key lives.
    pub fn audit_signing_key(&self) -> PathBuf {
        self.security
            .audit_signing_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("audit-signing.key"))
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("switchboard.db").display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_on_the_embedded_store() {
        let c = Config::default();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert!(c.database_url().starts_with("sqlite://"));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9\"\n[pipeline]\nbatch_size = 7\nlinger_ms = 0\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(
            (
                c.listen.as_str(),
                c.pipeline.batch_size,
                c.pipeline.linger_ms
            ),
            ("127.0.0.1:9", 7, 0)
        );
        std::fs::write(&path, "[pipeline]\nlinger_ms = 60000\n").unwrap();
        let e = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(e.contains("pipeline.linger_ms must be at most 1000"), "{e}");
        std::fs::write(&path, "lisen = 1\n").unwrap();
        assert!(
            Config::load(Some(&path))
                .unwrap_err()
                .to_string()
                .contains("unknown field")
        );
    }

    #[test]
    fn a_staffing_roster_is_read_and_a_bad_one_is_refused_with_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let row = format!("[{}]", vec!["12"; 24].join(", "));
        let good = format!(
            "[staffing]\nweek = [{row}, {row}, {row}, {row}, {row}, {row}, {row}]\n\
             handle_time_s = 300\ntarget_s = 20\nservice_level = 0.8\nevery_minutes = 30\n"
        );
        std::fs::write(&path, &good).unwrap();
        let c = Config::load(Some(&path)).unwrap();
        let s = c.staffing.as_ref().unwrap();
        assert_eq!((s.every_minutes, s.hours_ahead, s.weeks), (30, 24, 4));
        std::fs::write(
            &path,
            good.replace(&format!("{row}, {row}]"), &format!("{row}]")),
        )
        .unwrap();
        let e = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(e.contains("staffing: `week` must be seven rows"), "{e}");
        std::fs::write(
            &path,
            good.replace("service_level = 0.8", "service_level = 2"),
        )
        .unwrap();
        let e = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(e.starts_with("staffing:"), "{e}");
    }
}
