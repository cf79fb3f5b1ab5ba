//! The demo's starting configuration: queues, agents, SLA policies, rules and escalations,
//! watchlists and approved reply templates, so the stream lands in a set-up care team rather
//! than one empty queue. It goes in through the public API, as an operator's script would
//! (audited, checked like any change), and only into what is still empty: a data directory
//! that already has a saved routing, stored watch terms or templates — or a configuration
//! file with its own routing — keeps what it has, so re-running the demo changes nothing.

use anyhow::Context;
use serde_json::{Value, json};

/// The routing document saved as the first version (editable on the Workflow page).
pub const ROUTING: &str = include_str!("routing.toml");

/// Terms watched in every message, by list.
pub const WATCHLISTS: [(&str, &[&str]); 3] = [
    (
        "products",
        &[
            "Aurora X2",
            "HomeHub",
            "FlexPlan",
            "TrailRunner",
            "Nimbus router",
            "daily deals app",
        ],
    ),
    ("campaigns", &["#deliveryoutage"]),
    (
        "legal",
        &[
            "lawyer",
            "lawsuit",
            "regulator",
            "ombudsman",
            "abogado",
            "avocat",
            "Anwalt",
        ],
    ),
];

/// (key, locale, body) of the reply templates, each approved. `tracking_outage` is what the
/// simulated on-call writes to customers during the demo's outage (`outage.rs`), filled from
/// the status feed.
pub const TEMPLATES: [(&str, &str, &str); 9] = [
    (
        "delivery_delay_apology",
        "en",
        "Hi {{customer.first_name | \"there\"}}, we are sorry your order is late. We are checking with the carrier and will send you its new delivery date within 24 hours.",
    ),
    (
        "delivery_delay_apology",
        "de",
        "Guten Tag, es tut uns leid, dass Ihre Bestellung sich verspätet. Wir klären das mit dem Paketdienst und melden uns innerhalb von 24 Stunden mit dem neuen Liefertermin.",
    ),
    (
        "delivery_delay_apology",
        "es",
        "Hola, sentimos mucho el retraso de su pedido. Lo estamos revisando con la empresa de transporte y le daremos la nueva fecha de entrega en 24 horas.",
    ),
    (
        "delivery_delay_apology",
        "fr",
        "Bonjour, nous sommes désolés du retard de votre commande. Nous vérifions avec le transporteur et vous donnerons la nouvelle date de livraison sous 24 heures.",
    ),
    (
        "delivery_delay_apology",
        "pt",
        "Olá, lamentamos o atraso da sua encomenda. Estamos a verificar com a transportadora e enviamos a nova data de entrega dentro de 24 horas.",
    ),
    (
        "refund_next_steps",
        "en",
        "Hi {{customer.first_name | \"there\"}}, we are sorry the product let you down. Send us your order number in a direct message and we will start your refund today.",
    ),
    (
        "refund_next_steps",
        "de",
        "Guten Tag, es tut uns leid, dass das Produkt Sie enttäuscht hat. Schicken Sie uns Ihre Bestellnummer per Direktnachricht, dann veranlassen wir die Erstattung noch heute.",
    ),
    (
        super::outage::TEMPLATE,
        "en",
        "Hi {{customer.first_name | \"there\"}}, an update on your delivery: our carrier's tracking is down ({{status.tracking.detail}}), so parcels in transit may arrive up to {{status.delivery.delay_hours}} hours late. Your order is safe, and we will write again when tracking is back. We are sorry for the wait.",
    ),
    (
        "thanks_for_praise",
        "en",
        "Thank you so much, {{customer.first_name | \"friend\"}}! We will pass your kind words on to the team.",
    ),
];

/// Agents set online, so cases are assigned as they arrive; the others stay offline.
pub const ONLINE_AGENTS: [&str; 3] = ["lena", "sofia", "marc"];

/// What the setup did, for the demo's banner.
#[derive(Debug, Default)]
pub struct Done {
    pub routing: bool,
    /// The agents set online (those the routing in force knows).
    pub online: Vec<&'static str>,
    pub watch_terms: usize,
    pub templates: usize,
}

/// Calls the API at `url`: `author` writes and submits, `approver` (another key) approves,
/// since nobody approves their own template.
pub struct Setup<'a> {
    pub client: &'a reqwest::Client,
    pub url: &'a str,
    pub author: &'a str,
    pub approver: &'a str,
}

impl Setup<'_> {
    pub async fn run(&self) -> anyhow::Result<Done> {
        let mut done = Done::default();
        let routing = self.call("GET", "/api/v1/workflow/routing", None).await?;
        let untouched = routing["version"] == 0
            && routing["document"]
                .as_str()
                .is_some_and(|d| d.trim().is_empty());
        if untouched {
            let body = json!({"document": ROUTING, "base_version": 0});
            self.call("PUT", "/api/v1/workflow/routing", Some(&body))
                .await?;
            done.routing = true;
        }
        for agent in ONLINE_AGENTS {
            // Only agents the routing in force knows; a saved routing may have others.
            let path = format!("/api/v1/agents/{agent}/presence");
            let body = json!({"presence": "online"});
            match self.call("PUT", &path, Some(&body)).await {
                Ok(_) => done.online.push(agent),
                Err(e) => tracing::debug!(agent, error = %e, "demo agent not set online"),
            }
        }
        let lists = self.call("GET", "/api/v1/watchlists", None).await?;
        if lists["lists"].as_array().is_some_and(Vec::is_empty) {
            for (list, terms) in WATCHLISTS {
                let added = self
                    .call(
                        "POST",
                        &format!("/api/v1/watchlists/{list}/terms"),
                        Some(&json!({ "terms": terms })),
                    )
                    .await?;
                done.watch_terms += added["added"].as_array().map_or(0, Vec::len);
            }
        }
        let templates = self.call("GET", "/api/v1/templates", None).await?;
        if templates["items"].as_array().is_some_and(Vec::is_empty) {
            for (key, locale, body) in TEMPLATES {
                self.approved_template(key, locale, body).await?;
                done.templates += 1;
            }
        }
        Ok(done)
    }

    async fn approved_template(&self, key: &str, locale: &str, body: &str) -> anyhow::Result<()> {
        let draft = self
            .call(
                "POST",
                "/api/v1/templates",
                Some(&json!({"key": key, "locale": locale, "body": body})),
            )
            .await?;
        let version = draft["version"]
            .as_u64()
            .with_context(|| format!("template {key}: no version in {draft}"))?;
        let path = format!("/api/v1/templates/{key}/versions/{version}/state");
        self.call("POST", &path, Some(&json!({"state": "pending_approval"})))
            .await?;
        self.call_as(
            self.approver,
            "POST",
            &path,
            Some(&json!({"state": "approved"})),
        )
        .await?;
        Ok(())
    }

    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        self.call_as(self.author, method, path, body).await
    }

    async fn call_as(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        super::call(self.client, self.url, key, method, path, body).await
    }
}
