//! `demo`: the whole product on the embedded default, with a simulated stream flowing in so
//! there is something to look at. Data lives in the data directory and survives re-runs; each
//! run issues a fresh admin key and resets the demo login's password, since neither is stored
//! in a form that could be shown again.

mod outage;
mod sandbox;
mod setup;
mod survey;
mod team;

use crate::app;
use crate::config::Config;
use crate::sim::{Generator, Scenario, VIP_HANDLES};
use anyhow::Context;
use sb_domain::{Clock, Platform, SystemClock, Tier};
use std::time::Duration;

/// The start of the names of the simulated agents' API keys.
const TEAM_KEY_PREFIX: &str = "demo agent ";

/// The names of the simulated colleagues' API keys in operations (status feed and on-call)
/// and of the supervisor who approves their message to customers.
const OPERATIONS_KEY: &str = "demo operations (simulated)";
const SUPERVISOR_KEY: &str = "demo supervisor (simulated)";

/// The key that signs the demo's survey links, kept in the data directory so the links sent
/// in one run still open in the next.
const SURVEY_KEY_FILE: &str = "survey-link.key";

const VIP_NAMES: [&str; 4] = ["Margot Laurent", "Deniz Kaya", "Hugo Brandt", "Ana Lima"];

pub async fn run(mut cfg: Config, initial: u32, outage_after: Duration) -> anyhow::Result<()> {
    // Replies and alerts go to local stand-ins for the services the configuration does not
    // name.
    let sandbox = sandbox::start()
        .await
        .context("starting the platform stand-ins")?;
    let stand_ins = sandbox.fill(&mut cfg.outbound);
    let alert_stand_ins = sandbox.fill_alerts(&mut cfg.outbound);
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    let rules = alert_rules(&mut cfg)?;
    let surveys = enable_surveys(&mut cfg)?;
    let running = app::start(&cfg).await?;
    let store = running.store.clone();
    let now = SystemClock.now();

    let key = api_key(&store, "demo admin", "admin", now, None).await?;
    // The setup writes templates that `key` then approves: nobody approves their own.
    let setup_key = api_key(
        &store,
        "demo setup",
        "admin",
        now,
        Some(now.plus_millis(600_000)),
    )
    .await?;
    let password = sb_web::new_secret("")[..20].to_owned();
    let hash = sb_web::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
    store.upsert_user("admin", &hash, "admin", now).await?;
    // The VIPs write from the EU (the simulation's `region`), and are customers there.
    for (handle, name) in VIP_HANDLES.iter().zip(VIP_NAMES) {
        store
            .upsert_customer(
                Platform::X,
                handle,
                Some(name),
                Tier::Vip,
                25_000.0,
                now,
                Some("eu"),
            )
            .await?;
    }

    let url = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let setup = setup::Setup {
        client: &client,
        url: &url,
        author: &setup_key,
        approver: &key,
    };
    let set_up = setup.run().await.context("setting up the demo")?;
    println!("Switchboard demo is running.");
    println!();
    println!("  URL          {url}");
    println!("  Web UI       {url}/ui/   (sign in with the login below)");
    println!("  API key      {key}   (admin; shown once)");
    println!("  Login        admin / {password}");
    println!("  Data         {}", cfg.data_dir.display());
    if set_up.routing {
        println!(
            "  Set up       queues vip, complaints and general; 4 agents (3 online); SLA policies; rules; escalations"
        );
    }
    if set_up.watch_terms > 0 || set_up.templates > 0 {
        println!(
            "               {} watched terms, {} approved reply templates",
            set_up.watch_terms, set_up.templates
        );
    }
    if !stand_ins.is_empty() {
        println!(
            "  Replies      sent to local stand-ins for {} at http://{} (SMTP {}); nothing leaves this machine",
            stand_ins.join(", "),
            sandbox.http,
            sandbox.smtp
        );
    }
    if !alert_stand_ins.is_empty() {
        println!(
            "  Alerts       paged to local stand-ins for {} at http://{}",
            alert_stand_ins.join(", "),
            sandbox.http
        );
    }
    if let Some(rules) = &rules {
        println!("               rules in {}", rules.display());
    }
    if !set_up.online.is_empty() {
        println!(
            "  Team         {} answer the cases routed to them (simulated)",
            set_up.online.join(", ")
        );
    }
    if surveys.is_some() {
        println!(
            "               resolved cases earn a satisfaction survey; about half the customers answer"
        );
    }
    let first = jiff::Zoned::now()
        .checked_add(jiff::SignedDuration::try_from(outage_after)?)
        .map(|t| t.strftime("%H:%M").to_string())
        .unwrap_or_default();
    println!(
        "  Outage       order tracking goes down for 6 minutes every 30, first at {first}: status feed,"
    );
    println!(
        "               #deliveryoutage complaints, alerts, an incident and a message to the customers"
    );
    println!(
        "               hit, drafted by a simulated on-call and approved by a simulated supervisor"
    );
    println!();
    println!("  Try: curl -H 'Authorization: Bearer {key}' {url}/api/v1/cases");
    println!("  Live events: curl -N -H 'Authorization: Bearer {key}' {url}/api/v1/events");
    println!();
    println!(
        "A simulated stream is flowing in. Press Ctrl-C to stop; the data stays in the data directory."
    );

    // The previous run's simulated colleagues stopped with it: their keys go.
    for old in store.api_keys().await? {
        let simulated = old.name.starts_with(TEAM_KEY_PREFIX)
            || old.name == OPERATIONS_KEY
            || old.name == SUPERVISOR_KEY;
        if old.revoked_at.is_none() && simulated {
            store.revoke_api_key(&old.id, now).await?;
        }
    }
    let start = tokio::time::Instant::now();
    let outages = outage::Schedule::new(outage_after);
    let colleagues = outage::Colleagues {
        operations: api_key(&store, OPERATIONS_KEY, "operations", now, None).await?,
        supervisor: api_key(&store, SUPERVISOR_KEY, "supervisor", now, None).await?,
    };
    tokio::spawn(outage::operate(
        client.clone(),
        url.clone(),
        colleagues,
        outages,
        start,
    ));
    for agent in set_up.online.iter().copied() {
        let name = format!("{TEAM_KEY_PREFIX}{agent} (simulated)");
        let key = api_key(&store, &name, "agent", now, None).await?;
        let member = team::Agent {
            id: agent,
            key,
            surveys: surveys.clone(),
        };
        tokio::spawn(team::work(
            client.clone(),
            url.clone(),
            member,
            rand::random(),
        ));
    }
    tokio::spawn(feed(client, url, key, initial, outages, start));
    running.server.await.context("the server task failed")??;
    Ok(())
}

async fn api_key(
    store: &std::sync::Arc<dyn sb_store::Store>,
    name: &str,
    role: &str,
    now: sb_domain::Timestamp,
    expires_at: Option<sb_domain::Timestamp>,
) -> anyhow::Result<String> {
    let key = sb_web::new_secret("sb_");
    store
        .create_api_key(&sb_store::NewApiKey {
            name: name.into(),
            key_hash: sb_store::hash_api_key(&key),
            role: role.into(),
            scopes: None,
            created_at: now,
            expires_at,
            regions: None,
        })
        .await?;
    Ok(key)
}

/// Points the alerts at the demo's own rules (`outage::RULES`, written to the data directory)
/// unless the configuration names a rules file, and sends them to PagerDuty and Slack unless
/// it names other targets. Returns the rules file written.
fn alert_rules(cfg: &mut Config) -> anyhow::Result<Option<std::path::PathBuf>> {
    if cfg.alerts.notify.is_empty() {
        let configured = [
            ("pagerduty", cfg.outbound.pagerduty.is_some()),
            ("slack", cfg.outbound.slack.is_some()),
        ];
        cfg.alerts.notify = configured
            .iter()
            .filter(|(_, on)| *on)
            .map(|(t, _)| (*t).to_owned())
            .collect();
    }
    if cfg.alerts.rules.is_some() {
        return Ok(None);
    }
    let path = cfg.data_dir.join(outage::RULES_FILE);
    std::fs::write(&path, outage::RULES)
        .with_context(|| format!("cannot write {}", path.display()))?;
    cfg.alerts.rules = Some(path.clone());
    Ok(Some(path))
}

/// Turns satisfaction surveys on, with links to this server signed by a key kept in the data
/// directory, unless the configuration turned them on itself. Returns the links' base URL
/// when it did.
fn enable_surveys(cfg: &mut Config) -> anyhow::Result<Option<String>> {
    let surveys = &mut cfg.workflow.surveys;
    if surveys.enabled {
        return Ok(None);
    }
    let path = cfg.data_dir.join(SURVEY_KEY_FILE);
    let key = match std::fs::read_to_string(&path) {
        Ok(key) if key.trim().len() >= 32 => key.trim().to_owned(),
        _ => {
            let key = sb_web::new_secret("");
            write_private(&path, &key)?;
            key
        }
    };
    let base = format!("http://{}", cfg.listen);
    surveys.enabled = true;
    surveys.base_url = Some(base.clone());
    surveys.link_key = Some(sb_workflow::feedback::LinkKey::new(key));
    Ok(Some(base))
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A quick first wave so the inbox fills, then a steady trickle; during an outage, a flood of
/// complaints about it.
async fn feed(
    client: reqwest::Client,
    url: String,
    key: String,
    initial: u32,
    outages: outage::Schedule,
    start: tokio::time::Instant,
) {
    let run = ulid::Ulid::generate().to_string().to_lowercase();
    let mut g = Generator::new(
        rand::random(),
        &format!("demo-{run}"),
        Scenario::Steady,
        400,
    );
    let endpoint = format!("{url}/api/v1/messages");
    let mut sent = 0u32;
    loop {
        let down = outages.down_at(start.elapsed());
        g.set_scenario(if down {
            Scenario::Viral
        } else {
            Scenario::Steady
        });
        let body = g.next_message();
        let res = client
            .post(&endpoint)
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "demo feed could not reach the server");
        }
        sent = sent.saturating_add(1);
        let pause = if sent < initial {
            Duration::from_millis(5)
        } else if down {
            Duration::from_millis(400)
        } else {
            Duration::from_millis(1500)
        };
        tokio::time::sleep(pause).await;
    }
}

/// One call to the demo's own API as `key`; the answer's JSON (`null` for an empty body), or
/// an error naming the call and the problem the API answered with.
async fn call(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let method = reqwest::Method::from_bytes(method.as_bytes())?;
    let mut request = client
        .request(method.clone(), format!("{url}{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "{method} {path}: {status}: {text}");
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path) -> Config {
        Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        }
    }

    #[test]
    fn the_survey_link_key_is_kept_private_across_runs_and_replaced_when_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SURVEY_KEY_FILE);
        let mut cfg = config(dir.path());
        let base = enable_surveys(&mut cfg).unwrap();
        assert_eq!(base.as_deref(), Some("http://127.0.0.1:8080"));
        assert!(cfg.workflow.surveys.enabled && cfg.workflow.surveys.link_key.is_some());
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(first.trim().len() >= 32, "{first}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A second run keeps the key, so links already handed out still verify.
        enable_surveys(&mut config(dir.path())).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        // A key too short to sign with is replaced, as is a missing one.
        std::fs::write(&path, "short\n").unwrap();
        enable_surveys(&mut config(dir.path())).unwrap();
        let replaced = std::fs::read_to_string(&path).unwrap();
        assert!(
            replaced.trim().len() >= 32 && replaced != first,
            "{replaced}"
        );
        std::fs::remove_file(&path).unwrap();
        enable_surveys(&mut config(dir.path())).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().trim().len() >= 32);
        // Surveys the configuration turned on are left alone, and no key is written.
        std::fs::remove_file(&path).unwrap();
        let mut own = config(dir.path());
        own.workflow.surveys.enabled = true;
        assert_eq!(enable_surveys(&mut own).unwrap(), None);
        assert!(!path.exists());
    }
}
