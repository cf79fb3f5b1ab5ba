//! The demo's care team at work, so its reports have response and resolution times to show:
//! each online agent takes the oldest case routed to them, answers it through the public API
//! as an agent would (an approved template where one fits the case's language, else a short
//! answer in it), then resolves it or, for a complaint, often waits on the customer (and
//! closes it when the customer has not written back within three minutes), and passes the
//! satisfaction survey a resolution earns to the customer (`survey.rs`). They
//! work at a human pace, one case at a time, so a backlog builds when the stream is busy and
//! SLA clocks run out. Everything they do goes through the same checks, audit and outbox as
//! a person's work; replies reach the platform stand-ins.

use super::survey::Mood;
use rand::Rng;
use rand::rngs::StdRng;
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;

/// Answers in each language: (language, inquiry, praise, complaint, follow-up).
const ANSWERS: [(&str, &str, &str, &str, &str); 7] = [
    (
        "en",
        "Thanks for asking! You can follow your order with the tracking link in your confirmation e-mail, and we are happy to help with anything else.",
        "Thank you so much for the kind words! We will pass them on to the team.",
        "We are sorry about this. We are looking into it now and will get back to you today with a solution.",
        "Thanks for your patience. We have chased this up and you will hear from us with an update within 24 hours.",
    ),
    (
        "es",
        "¡Gracias por escribirnos! Puede seguir su pedido con el enlace del correo de confirmación; estamos aquí para cualquier otra duda.",
        "¡Muchas gracias por sus palabras! Se las haremos llegar al equipo.",
        "Sentimos mucho lo ocurrido. Lo estamos revisando y hoy mismo le daremos una solución.",
        "Gracias por su paciencia. Lo hemos reclamado y le daremos noticias en menos de 24 horas.",
    ),
    (
        "pt",
        "Obrigado pela pergunta! Pode acompanhar a encomenda com a ligação do e-mail de confirmação; estamos cá para o que precisar.",
        "Muito obrigado pelas palavras simpáticas! Vamos partilhá-las com a equipa.",
        "Lamentamos muito. Estamos a analisar o caso e hoje mesmo damos-lhe uma solução.",
        "Obrigado pela paciência. Já insistimos no assunto e terá notícias nossas dentro de 24 horas.",
    ),
    (
        "fr",
        "Merci pour votre question ! Vous pouvez suivre votre commande avec le lien de l'e-mail de confirmation ; nous restons à votre disposition.",
        "Merci beaucoup pour ce gentil message ! Nous le transmettons à l'équipe.",
        "Nous sommes désolés. Nous examinons votre demande et revenons vers vous aujourd'hui avec une solution.",
        "Merci de votre patience. Nous avons relancé le dossier et vous aurez des nouvelles sous 24 heures.",
    ),
    (
        "de",
        "Danke für Ihre Frage! Ihre Bestellung können Sie über den Link in der Bestätigungsmail verfolgen; bei allem anderen helfen wir gern.",
        "Vielen Dank für das Lob! Wir geben es an das Team weiter.",
        "Das tut uns leid. Wir sehen uns das jetzt an und melden uns heute noch mit einer Lösung.",
        "Danke für Ihre Geduld. Wir haben nachgehakt und melden uns innerhalb von 24 Stunden.",
    ),
    (
        "it",
        "Grazie per la domanda! Può seguire l'ordine con il link nell'e-mail di conferma; siamo a disposizione per qualsiasi altra cosa.",
        "Grazie mille per le belle parole! Le condivideremo con il team.",
        "Ci dispiace molto. Stiamo verificando e oggi stesso le proponiamo una soluzione.",
        "Grazie per la pazienza. Abbiamo sollecitato la pratica e avrà nostre notizie entro 24 ore.",
    ),
    (
        "nl",
        "Bedankt voor uw vraag! U kunt uw bestelling volgen via de link in de bevestigingsmail; we helpen u graag verder.",
        "Hartelijk dank voor de mooie woorden! We geven ze door aan het team.",
        "Het spijt ons. We zoeken het nu uit en komen vandaag nog bij u terug met een oplossing.",
        "Bedankt voor uw geduld. We hebben het nagevraagd en u hoort binnen 24 uur van ons.",
    ),
];

/// Sources whose replies Switchboard cannot send; the agent deals with those elsewhere.
const NO_REPLY_SOURCES: [&str; 2] = ["chat", "reviews"];

/// One simulated agent: who they are and the API key they act with.
pub struct Agent {
    pub id: &'static str,
    pub key: String,
    /// Where the survey links the demo turned on point (this server); `None` when the
    /// configuration runs surveys of its own, whose links the simulated customers leave alone.
    pub surveys: Option<String>,
}

/// Runs `agent` until the process ends.
pub async fn work(client: Client, url: String, agent: Agent, seed: u64) {
    use rand::SeedableRng;
    let mut rng = StdRng::seed_from_u64(seed);
    let api = Api {
        client: &client,
        url: &url,
        key: &agent.key,
        surveys: agent.surveys.as_deref(),
    };
    loop {
        // Reading the case, choosing the words, typing: most take a quarter of a minute.
        let pause = rng.random_range(8_000..25_000);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if let Err(e) = take_one(&api, agent.id, &mut rng).await {
            tracing::debug!(agent = agent.id, error = %e, "a simulated agent could not finish a case");
        }
    }
}

/// The API as one agent.
struct Api<'a> {
    client: &'a Client,
    url: &'a str,
    key: &'a str,
    surveys: Option<&'a str>,
}

impl Api<'_> {
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        super::call(self.client, self.url, self.key, method, path, body).await
    }

    /// The cases in `status` assigned to `agent`.
    async fn assigned(&self, agent: &str, status: &str) -> anyhow::Result<Vec<Value>> {
        let path = format!("/api/v1/cases?assignee={agent}&status={status}&limit=100");
        let page = self.call("GET", &path, None).await?;
        Ok(page["items"].as_array().cloned().unwrap_or_default())
    }

    /// The survey a resolution earned goes to the customer.
    async fn hand_over_survey(&self, id: &str, mood: Mood, rng: &mut StdRng) -> anyhow::Result<()> {
        let Some(base) = self.surveys else {
            return Ok(());
        };
        let survey = super::survey::Survey {
            base,
            case: id,
            mood,
        };
        super::survey::hand_over(self.client, self.url, self.key, &survey, rng).await
    }

    async fn set_status(&self, id: &str, status: &str) -> anyhow::Result<()> {
        let body = json!({ "status": status });
        self.call("PATCH", &format!("/api/v1/cases/{id}"), Some(&body))
            .await
            .map(drop)
    }
}

/// What the agent does with a case.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The reply: `{"text"}` or `{"template"}`; none where the channel cannot be answered
    /// from Switchboard.
    pub reply: Option<Value>,
    /// A note for the case history, when the agent answered elsewhere.
    pub note: Option<&'static str>,
    /// `resolved` or `pending` (waiting on the customer).
    pub status: &'static str,
}

/// How an agent answers a case: by its source, language, latest intent and whether it was
/// answered before. `wait` is whether a complaint then waits on the customer.
pub fn plan(source: &str, language: &str, intent: &str, answered_before: bool, wait: bool) -> Plan {
    if NO_REPLY_SOURCES.contains(&source) {
        return Plan {
            reply: None,
            note: Some("Called the customer back and sorted it out by phone."),
            status: "resolved",
        };
    }
    let answers = ANSWERS
        .iter()
        .find(|a| a.0 == language)
        .unwrap_or(&ANSWERS[0]);
    let template = |key: &str| {
        super::setup::TEMPLATES
            .iter()
            .any(|(k, locale, _)| *k == key && *locale == answers.0)
            .then(|| json!({"template": {"key": key, "locale": answers.0}}))
    };
    let text = |t: &str| json!({ "text": t });
    let (reply, status) = if answered_before {
        (text(answers.4), "resolved")
    } else {
        match intent {
            "complaint" => (
                template("delivery_delay_apology").unwrap_or_else(|| text(answers.3)),
                if wait { "pending" } else { "resolved" },
            ),
            "praise" => (
                template("thanks_for_praise").unwrap_or_else(|| text(answers.2)),
                "resolved",
            ),
            _ => (text(answers.1), "resolved"),
        }
    };
    Plan {
        reply: Some(reply),
        note: None,
        status,
    }
}

/// Answers the oldest new, reopened or escalated case assigned to `agent`; with none, closes
/// one that waited on the customer in vain.
async fn take_one(api: &Api<'_>, agent: &str, rng: &mut StdRng) -> anyhow::Result<()> {
    let mut waiting = Vec::new();
    for status in ["new", "open", "escalated"] {
        waiting.extend(api.assigned(agent, status).await?);
    }
    let Some(case) = waiting
        .iter()
        .min_by_key(|c| c["last_message_at"].as_str().unwrap_or("").to_owned())
    else {
        return close_quiet(api, agent, rng).await;
    };
    let id = case["id"].as_str().unwrap_or_default();
    let detail = api
        .call("GET", &format!("/api/v1/cases/{id}"), None)
        .await?;
    let last = detail["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    let intent = last["enrichment"]["intent"].as_str().unwrap_or("other");
    let language = detail["language"].as_str().unwrap_or("en");
    let answered_before = detail["outbox"].as_array().is_some_and(|o| !o.is_empty());
    let plan = plan(
        detail["source"].as_str().unwrap_or(""),
        language,
        intent,
        answered_before,
        rng.random_bool(0.4),
    );
    if let Some(reply) = &plan.reply {
        let path = format!("/api/v1/cases/{id}/replies");
        api.call("POST", &path, Some(reply)).await?;
    }
    if let Some(note) = plan.note {
        let path = format!("/api/v1/cases/{id}/notes");
        api.call("POST", &path, Some(&json!({ "text": note })))
            .await?;
    }
    api.set_status(id, plan.status).await?;
    if plan.status == "resolved" {
        api.hand_over_survey(id, Mood::of(intent), rng).await?;
    }
    Ok(())
}

/// How long a case waits on the customer before the agent closes it; pending cases count
/// on an agent's load, so without this the team would fill up with them and stop.
const QUIET_SECS: i64 = 180;

/// With nothing new to answer: resolves the case that has waited longest on a customer who
/// did not write back.
async fn close_quiet(api: &Api<'_>, agent: &str, rng: &mut StdRng) -> anyhow::Result<()> {
    let pending = api.assigned(agent, "pending").await?;
    let Some(id) = quiet_case(&pending, jiff::Timestamp::now()) else {
        return Ok(());
    };
    api.set_status(&id, "resolved").await?;
    api.hand_over_survey(&id, Mood::Quiet, rng).await
}

/// Of the pending cases `items`, the one that has waited longest, if it has waited at least
/// `QUIET_SECS` by `now`.
fn quiet_case(items: &[Value], now: jiff::Timestamp) -> Option<String> {
    let cutoff = now - jiff::SignedDuration::from_secs(QUIET_SECS);
    items
        .iter()
        .filter_map(|c| {
            let at: jiff::Timestamp = c["updated_at"].as_str()?.parse().ok()?;
            (at <= cutoff).then_some((at, c["id"].as_str()?.to_owned()))
        })
        .min()
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_answers_in_the_case_s_language_with_a_template_where_one_fits() {
        let p = plan("x", "de", "complaint", false, true);
        assert_eq!(
            p.reply,
            Some(json!({"template": {"key": "delivery_delay_apology", "locale": "de"}}))
        );
        assert_eq!(p.status, "pending");
        // No Italian template: the agent writes in Italian.
        let p = plan("facebook", "it", "complaint", false, false);
        assert_eq!(p.reply, Some(json!({"text": ANSWERS[5].3})));
        assert_eq!(p.status, "resolved");
        let p = plan("instagram", "en", "praise", false, false);
        assert_eq!(
            p.reply,
            Some(json!({"template": {"key": "thanks_for_praise", "locale": "en"}}))
        );
        let p = plan("email", "fr", "inquiry", false, true);
        assert_eq!(p.reply, Some(json!({"text": ANSWERS[3].1})));
        assert_eq!(p.status, "resolved");
        // A customer who wrote again after an answer gets an update, and the case closes.
        let p = plan("x", "nl", "complaint", true, true);
        assert_eq!(p.reply, Some(json!({"text": ANSWERS[6].4})));
        assert_eq!(p.status, "resolved");
        // An unknown language gets English.
        assert_eq!(
            plan("x", "und", "inquiry", false, false).reply,
            Some(json!({"text": ANSWERS[0].1}))
        );
    }

    #[test]
    fn channels_switchboard_cannot_answer_on_are_noted_not_replied_to() {
        for source in NO_REPLY_SOURCES {
            let p = plan(source, "en", "complaint", false, true);
            assert_eq!(p.reply, None);
            assert!(p.note.is_some());
            assert_eq!(p.status, "resolved");
        }
    }

    #[test]
    fn a_case_that_waited_three_minutes_on_the_customer_is_the_one_closed() {
        let now: jiff::Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
        let case = |id: &str, at: &str| json!({"id": id, "updated_at": at});
        let items = [
            case("fresh", "2026-12-07T09:59:00Z"),
            case("old", "2026-12-07T09:50:00Z"),
            case("older", "2026-12-07T09:40:00.5Z"),
            json!({"id": "garbled", "updated_at": "yesterday"}),
        ];
        assert_eq!(quiet_case(&items, now).as_deref(), Some("older"));
        assert_eq!(quiet_case(&items[..1], now), None);
        let edge = [case("edge", "2026-12-07T09:57:00Z")];
        assert_eq!(quiet_case(&edge, now).as_deref(), Some("edge"));
        assert_eq!(quiet_case(&[], now), None);
    }
}
