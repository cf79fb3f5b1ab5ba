//! ServiceNow incident table: a notification opens, moves or resolves one incident.
//!
//! The Table API has no idempotency key and no upsert, so each send first looks for the open
//! incident carrying our `correlation_id` (the dedup key) and then acts on what it finds:
//!
//! | action      | open incident found            | none found                          |
//! |-------------|--------------------------------|-------------------------------------|
//! | trigger     | delivered, nothing sent        | `POST` a new incident, state 1 (New) |
//! | acknowledge | `PATCH` state 2 (In Progress)  | permanent: nothing to acknowledge   |
//! | resolve     | `PATCH` state 6 (Resolved)     | delivered: already resolved         |
//!
//! That makes a retried trigger or resolve harmless, and a resolve never creates an incident.
//! "Open" means state is not 6, 7 or 8 (Resolved, Closed, Canceled), so a trigger after a
//! resolution opens a new incident, as PagerDuty does.

use reqwest::{RequestBuilder, Url};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::http::{Answer, BuildError, Http, Secret, join, parse_base};
use crate::item::{Action, Notification, Outgoing, Payload, Severity, clip_chars};
use crate::outcome::Outcome;
use crate::sender::Sender;

/// ServiceNow's column sizes, in characters.
const CORRELATION_ID_MAX: usize = 100;
const SHORT_DESCRIPTION_MAX: usize = 160;

/// `[outbound.servicenow]`. Either `token` (sent as a bearer token) or `username` and
/// `password` (basic auth).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNowConfig {
    /// The instance, e.g. `https://acme.service-now.com`.
    pub base_url: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default)]
    pub assignment_group: Option<String>,
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Sent as `close_code` on resolve, for instances whose data policy requires one.
    #[serde(default)]
    pub close_code: Option<String>,
}

enum Auth {
    Basic { username: String, password: Secret },
    Bearer(Secret),
}

pub struct ServiceNow {
    http: Http,
    table: Url,
    auth: Auth,
    config: ServiceNowConfig,
}

impl ServiceNow {
    pub fn new(config: ServiceNowConfig, http: Http) -> Result<Self, BuildError> {
        let base = parse_base("outbound.servicenow.base_url", &config.base_url)?;
        let auth = match (&config.token, &config.username, &config.password) {
            (Some(token), _, _) if !token.is_empty() => Auth::Bearer(token.clone()),
            (_, Some(username), Some(password))
                if !username.trim().is_empty() && !password.is_empty() =>
            {
                Auth::Basic {
                    username: username.clone(),
                    password: password.clone(),
                }
            }
            _ => {
                return Err(BuildError::Missing(
                    "outbound.servicenow.token or username/password",
                ));
            }
        };
        Ok(Self {
            http,
            table: join(&base, &["api", "now", "table", "incident"]),
            auth,
            config,
        })
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        let request = request.header(reqwest::header::ACCEPT, "application/json");
        match &self.auth {
            Auth::Basic { username, password } => {
                request.basic_auth(username, Some(password.expose()))
            }
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
        }
    }

    /// The new incident for a trigger.
    pub fn incident(&self, n: &Notification) -> Value {
        let (urgency, impact) = urgency_impact(n.severity);
        let mut description = vec![n.summary.clone(), String::new()];
        description.push(format!("Severity: {}", n.severity.as_str()));
        description.push(format!("Source: {}", n.source));
        for (name, value) in [
            ("Component", &n.component),
            ("Group", &n.group),
            ("Class", &n.class),
            ("Time", &n.timestamp),
        ] {
            if let Some(v) = value {
                description.push(format!("{name}: {v}"));
            }
        }
        for link in &n.links {
            description.push(format!("{}: {}", link.text, link.href));
        }
        if !n.custom_details.is_null() {
            description.push(String::new());
            description.push(serde_json::to_string_pretty(&n.custom_details).unwrap_or_default());
        }
        let mut incident = Map::new();
        incident.insert(
            "short_description".into(),
            clip_chars(&n.summary, SHORT_DESCRIPTION_MAX).into(),
        );
        incident.insert("description".into(), description.join("\n").into());
        incident.insert("urgency".into(), urgency.into());
        incident.insert("impact".into(), impact.into());
        incident.insert("state".into(), "1".into());
        incident.insert("correlation_id".into(), correlation_id(&n.dedup_key).into());
        incident.insert("correlation_display".into(), "Switchboard".into());
        for (key, value) in [
            ("assignment_group", &self.config.assignment_group),
            ("caller_id", &self.config.caller_id),
        ] {
            if let Some(v) = value {
                incident.insert(key.into(), v.clone().into());
            }
        }
        Value::Object(incident)
    }

    /// The update for an acknowledgement or a resolution.
    pub fn update(&self, n: &Notification) -> Value {
        match n.action {
            Action::Resolve => {
                let mut update = json!({
                    "state": "6",
                    "close_notes": format!("Resolved in Switchboard: {}", n.short_summary()),
                });
                if let (Some(code), Some(map)) = (&self.config.close_code, update.as_object_mut()) {
                    map.insert("close_code".into(), code.clone().into());
                }
                update
            }
            Action::Trigger | Action::Acknowledge => json!({
                "state": "2",
                "work_notes": format!("Acknowledged in Switchboard: {}", n.short_summary()),
            }),
        }
    }

    /// The `sys_id` of the open incident for this dedup key, if there is one.
    async fn find_open(&self, n: &Notification) -> Result<Option<String>, Outcome> {
        let mut url = self.table.clone();
        url.query_pairs_mut()
            .append_pair(
                "sysparm_query",
                &format!(
                    "correlation_id={}^stateNOT IN6,7,8^ORDERBYDESCsys_created_on",
                    correlation_id(&n.dedup_key)
                ),
            )
            .append_pair("sysparm_fields", "sys_id")
            .append_pair("sysparm_limit", "1");
        let answer = self.call(self.http.client().get(url)).await?;
        if !answer.is_success() {
            return Err(answer.classify("servicenow", None));
        }
        Ok(answer.json()["result"][0]["sys_id"]
            .as_str()
            .map(str::to_owned))
    }

    async fn call(&self, request: RequestBuilder) -> Result<Answer, Outcome> {
        self.http.execute(self.authorized(request)).await
    }

    async fn write(&self, request: RequestBuilder, body: Value) -> Outcome {
        match self.call(request.json(&body)).await {
            Ok(answer) => {
                let sys_id = answer.json()["result"]["sys_id"]
                    .as_str()
                    .map(str::to_owned);
                answer.classify("servicenow", sys_id)
            }
            Err(outcome) => outcome,
        }
    }
}

/// The dedup key when ServiceNow can store and query it as is; otherwise a digest of it, so
/// long keys and keys holding the query separator `^` still find their incident.
pub fn correlation_id(dedup_key: &str) -> String {
    if dedup_key.chars().count() <= CORRELATION_ID_MAX && !dedup_key.contains('^') {
        return dedup_key.to_owned();
    }
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(dedup_key.as_bytes()))
    )
}

/// ServiceNow derives priority from urgency × impact (1 high … 3 low).
fn urgency_impact(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Critical => ("1", "1"),
        Severity::Error => ("1", "2"),
        Severity::Warning => ("2", "2"),
        Severity::Info => ("3", "3"),
    }
}

#[async_trait::async_trait]
impl Sender for ServiceNow {
    fn kind(&self) -> &'static str {
        "servicenow"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let Payload::Notification(n) = &item.payload else {
            return Outcome::unsupported(format!(
                "servicenow records incidents, not a {}",
                item.payload.kind()
            ));
        };
        if let Some(why) = n.invalid() {
            return Outcome::unsupported(why);
        }
        let open = match self.find_open(n).await {
            Ok(found) => found,
            Err(outcome) => return outcome,
        };
        match (n.action, open) {
            (Action::Trigger, Some(sys_id)) => Outcome::Delivered {
                status: 200,
                remote_id: Some(sys_id),
            },
            (Action::Trigger, None) => {
                let request = self.http.client().post(self.table.clone());
                self.write(request, self.incident(n)).await
            }
            (Action::Acknowledge | Action::Resolve, Some(sys_id)) => {
                let request = self.http.client().patch(join(&self.table, &[&sys_id]));
                self.write(request, self.update(n)).await
            }
            (Action::Acknowledge, None) => Outcome::Permanent {
                status: None,
                error: format!(
                    "servicenow has no open incident with correlation_id {:?} to acknowledge",
                    correlation_id(&n.dedup_key)
                ),
            },
            (Action::Resolve, None) => Outcome::Delivered {
                status: 200,
                remote_id: None,
            },
        }
    }
}

#[cfg(test)]
mod tests;
