//! Realistic simulated traffic for `demo` and `simulate` (A3): several platforms and
//! languages; complaints, questions and praise; repeat customers whose messages thread into
//! their cases; replies in threads (an author asking again under their own complaint or
//! question, or another customer with the same problem under a complaint; nobody follows up
//! praise); a handful of VIPs who are angry. The `viral` scenario adds
//! a burst of near-identical complaints about one outage. All texts are written for this
//! generator from templates.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Everyday mix of questions, complaints and praise.
    Steady,
    /// Steady traffic with a surge of complaints about a delivery outage.
    Viral,
}

const PRODUCTS: [&str; 6] = [
    "Aurora X2 phone",
    "HomeHub speaker",
    "FlexPlan contract",
    "TrailRunner shoes",
    "Nimbus router",
    "daily deals app",
];
const CITIES: [&str; 6] = ["Berlin", "Madrid", "Lisbon", "Lyon", "Milan", "Rotterdam"];
const PLATFORMS: [(&str, u32); 8] = [
    ("x", 30),
    ("facebook", 18),
    ("instagram", 18),
    ("email", 12),
    ("chat", 8),
    ("linkedin", 4),
    ("tiktok", 6),
    ("reviews", 4),
];

/// (language, region, complaints, inquiries, praise)
type Templates = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const TEMPLATES: [Templates; 7] = [
    (
        "en",
        "us",
        &[
            "My order {order} is {days} days late and nobody answers. This is terrible service.",
            "The {product} stopped working after two days. I want a refund, not another excuse.",
            "Third time contacting you about order {order}. Still no update. Really disappointed.",
            "Charged twice for the {product}?! Fix this now or I'm switching to a competitor.",
        ],
        &[
            "Hi, can you tell me when order {order} will arrive?",
            "Does the {product} work with older models? Thanks in advance.",
            "How do I change the delivery address for order {order}?",
            "Is there a store in {city} where I can try the {product}?",
        ],
        &[
            "Just got my {product} and it is fantastic. Great job, team!",
            "Huge thanks to your support agent, problem solved in five minutes. Love it!",
            "Delivery was a day early. Really impressed with the service.",
        ],
    ),
    (
        "es",
        "eu",
        &[
            "Mi pedido {order} lleva {days} días de retraso y nadie responde. Un servicio pésimo.",
            "El {product} dejó de funcionar a los dos días. Quiero que me devuelvan el dinero.",
        ],
        &[
            "Hola, ¿cuándo llegará mi pedido {order}? Gracias.",
            "¿Tienen tienda en {city} para probar el {product}?",
        ],
        &["Me encanta el {product}, llegó rapidísimo. ¡Muchas gracias!"],
    ),
    (
        "pt",
        "eu",
        &[
            "A minha encomenda {order} está atrasada há {days} dias e ninguém me responde. Péssimo atendimento.",
            "O {product} avariou depois de dois dias. Quero o reembolso.",
        ],
        &["Olá, quando vai chegar a encomenda {order}? Obrigado."],
        &["Adorei o {product}, chegou muito rápido. Parabéns à equipa!"],
    ),
    (
        "fr",
        "eu",
        &[
            "Ma commande {order} a {days} jours de retard et personne ne répond. Service lamentable.",
            "Le {product} ne fonctionne plus après deux jours. Je veux être remboursé.",
        ],
        &["Bonjour, quand est-ce que ma commande {order} sera livrée ? Merci."],
        &["J'adore le {product}, livraison très rapide. Merci beaucoup à toute l'équipe !"],
    ),
    (
        "de",
        "eu",
        &[
            "Meine Bestellung {order} ist seit {days} Tagen überfällig und niemand antwortet. Unmöglicher Service.",
            "Der {product} ist nach zwei Tagen kaputt gegangen. Ich will mein Geld zurück.",
        ],
        &["Hallo, wann wird meine Bestellung {order} geliefert? Vielen Dank."],
        &["Der {product} ist großartig und kam einen Tag früher. Vielen Dank an das Team!"],
    ),
    (
        "it",
        "eu",
        &[
            "Il mio ordine {order} è in ritardo di {days} giorni e nessuno risponde. Servizio pessimo.",
        ],
        &["Buongiorno, quando arriverà il mio ordine {order}? Grazie."],
        &["Il {product} è fantastico, consegna velocissima. Grazie mille!"],
    ),
    (
        "nl",
        "eu",
        &[
            "Mijn bestelling {order} is al {days} dagen te laat en niemand reageert. Slechte service.",
        ],
        &["Hallo, wanneer wordt mijn bestelling {order} geleverd? Alvast bedankt."],
        &["De {product} is geweldig en kwam een dag eerder aan. Bedankt!"],
    ),
];

const VIRAL: [&str; 3] = [
    "Is anyone else's delivery stuck? Tracking for order {order} has not moved in {days} days. #deliveryoutage",
    "Your tracking site is DOWN and my parcel {order} is missing. Absolutely unacceptable. #deliveryoutage",
    "Same here, no delivery for {days} days. Answer your customers! #deliveryoutage",
];

/// (language, the author following up on their own message, someone else with the same
/// problem), the texts of replies in a thread.
const FOLLOW_UPS: [(&str, &[&str], &[&str]); 7] = [
    (
        "en",
        &[
            "Any update on this?",
            "Still waiting for an answer here.",
            "Hello? Anyone?",
        ],
        &[
            "Same here, {days} days and no answer.",
            "Same problem for me.",
        ],
    ),
    (
        "es",
        &["¿Alguna novedad?", "Sigo esperando respuesta."],
        &["A mí me pasa lo mismo."],
    ),
    (
        "pt",
        &["Alguma novidade?", "Continuo à espera de resposta."],
        &["Comigo aconteceu o mesmo."],
    ),
    (
        "fr",
        &["Des nouvelles ?", "J'attends toujours une réponse."],
        &["Pareil pour moi."],
    ),
    (
        "de",
        &[
            "Gibt es schon Neuigkeiten?",
            "Ich warte immer noch auf eine Antwort.",
        ],
        &["Bei mir genauso."],
    ),
    (
        "it",
        &["Ci sono novità?", "Sto ancora aspettando una risposta."],
        &["Anche a me."],
    ),
    (
        "nl",
        &["Is er al nieuws?", "Ik wacht nog steeds op antwoord."],
        &["Bij mij precies hetzelfde."],
    ),
];

const VIP_COMPLAINTS: [&str; 3] = [
    "I have been a loyal customer for ten years and order {order} is {days} days late. This is unacceptable. I expect a call today.",
    "Extremely disappointed. The {product} failed again and your team keeps ignoring me. I am considering cancelling everything.",
    "Nobody has answered me in days about order {order}. Escalate this immediately.",
];

/// The LinkedIn organization whose posts the simulated customers comment on; a reply is
/// posted as it, so it must be an organization URN.
pub const LINKEDIN_ORGANIZATION: &str = "urn:li:organization:10452771";
/// The mailbox the simulated e-mails arrive in, and that answers them.
pub const MAILBOX: &str = "care@examplebrand.com";
/// The Facebook page and the Instagram professional account the simulated messages arrive on;
/// Meta sends a reply or a direct message as the account, so each is a numeric id.
pub const FACEBOOK_PAGE: &str = "104857600000001";
pub const INSTAGRAM_ACCOUNT: &str = "17841400000000001";
/// The LinkedIn post, Facebook post and TikTok video the simulated comments are under.
const LINKEDIN_POST: &str = "urn:li:activity:7268913504125321216";
const FACEBOOK_POST: &str = "938472615004821";
const TIKTOK_VIDEO: &str = "7441386592018410783";

/// Handles of the demo's VIP customers.
pub const VIP_HANDLES: [&str; 4] = ["@margot_ceo", "@deniz.k", "@the_real_hugo", "@ana_lima_vip"];

pub struct Generator {
    rng: StdRng,
    run: String,
    scenario: Scenario,
    seq: u64,
    customers: u32,
    /// Recent public messages, for replies.
    recent: Vec<Recent>,
}

/// A recent public message that a later one may answer.
struct Recent {
    source: &'static str,
    external_id: String,
    handle: String,
    region: &'static str,
    /// Index into `TEMPLATES` and `FOLLOW_UPS`.
    language: usize,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Complaint,
    Question,
    Praise,
}

/// What a new message says, before it is given an author.
struct Draft {
    text: String,
    language: usize,
    region: &'static str,
    kind: Kind,
    /// Answers this recent message, by its author (`Some(handle)`) or by someone else.
    reply: Option<(String, Option<String>)>,
}

fn fill(template: &str, rng: &mut StdRng) -> String {
    template
        .replace(
            "{order}",
            &format!("#{}", rng.random_range(100_000..999_999)),
        )
        .replace("{days}", &rng.random_range(3..21).to_string())
        .replace(
            "{product}",
            PRODUCTS.choose(rng).copied().unwrap_or("order"),
        )
        .replace("{city}", CITIES.choose(rng).copied().unwrap_or("Berlin"))
}

impl Generator {
    /// `run` keeps external ids unique across runs; `customers` is the size of the customer
    /// pool, so smaller pools give more repeat contacts.
    pub fn new(seed: u64, run: &str, scenario: Scenario, customers: u32) -> Self {
        use rand::SeedableRng;
        Self {
            rng: StdRng::seed_from_u64(seed),
            run: run.to_owned(),
            scenario,
            seq: 0,
            customers: customers.max(1),
            recent: Vec::new(),
        }
    }

    fn platform(&mut self) -> &'static str {
        let total: u32 = PLATFORMS.iter().map(|p| p.1).sum();
        let mut pick = self.rng.random_range(0..total);
        for (p, w) in PLATFORMS {
            if pick < w {
                return p;
            }
            pick -= w;
        }
        "x"
    }

    /// A number of `digits` digits (13 or more) that no other message of any run has: a
    /// prefix of this run's own, then the message's sequence number in 7 digits.
    fn numeric_id(&self, digits: u32) -> String {
        let low = 10u64.pow(digits - 8);
        let prefix = low + fnv1a(self.run.bytes()) % (9 * low);
        format!("{prefix}{:07}", self.seq)
    }

    /// Switches the mix from the next message on: the demo's outages come and go.
    pub fn set_scenario(&mut self, scenario: Scenario) {
        self.scenario = scenario;
    }

    /// The next message, in the shape of `POST /api/v1/messages`.
    pub fn next_message(&mut self) -> Value {
        self.seq += 1;
        let roll: f64 = self.rng.random();
        let viral = self.scenario == Scenario::Viral && roll < 0.5;
        let vip = !viral && roll > 0.985;
        let source = if viral || vip { "x" } else { self.platform() };
        let public = source != "email" && source != "chat";
        // The platforms' own id shapes, which a reply sends back: a LinkedIn comment is a
        // URN under the post, a Facebook comment the post's id and its own, tweets, Instagram
        // and TikTok comments are numbers, an e-mail's id is its Message-ID.
        let external_id = match source {
            "linkedin" => format!("urn:li:comment:({LINKEDIN_POST},{}-{})", self.run, self.seq),
            "email" => format!("{}-{}@mail.example.com", self.run, self.seq),
            "x" | "tiktok" => self.numeric_id(19),
            "facebook" => format!("{FACEBOOK_POST}_{}", self.numeric_id(16)),
            "instagram" => self.numeric_id(17),
            _ => format!("{}-{}", self.run, self.seq),
        };
        // About one public message in six answers a recent one on the same platform.
        let draft = match (public && !viral && !vip && self.rng.random_bool(1.0 / 6.0))
            .then(|| self.reply_on(source))
            .flatten()
        {
            Some(reply) => reply,
            None => self.draft(viral, vip),
        };
        let handle = match &draft.reply {
            Some((_, Some(own))) => own.clone(),
            _ if vip => VIP_HANDLES
                .choose(&mut self.rng)
                .copied()
                .unwrap_or(VIP_HANDLES[0])
                .to_owned(),
            _ if source == "email" => format!(
                "customer{}@example.com",
                self.rng.random_range(0..self.customers)
            ),
            _ => format!("@customer_{}", self.rng.random_range(0..self.customers)),
        };
        let region = if vip { "eu" } else { draft.region };
        let text = draft.text;
        // Audiences are heavy-tailed: most accounts are followed by a few hundred, and a rare
        // outage complaint comes from an account followed by hundreds of thousands.
        let followers: u64 = if viral && self.rng.random_bool(0.002) {
            self.rng.random_range(150_000..400_000)
        } else if viral {
            10f64.powf(self.rng.random_range(1.0..4.0)) as u64
        } else {
            self.rng.random_range(0..5_000)
        };
        let mut body = json!({
            "source": source,
            "external_id": external_id,
            "author": {"handle": handle},
            "text": text,
            "region": region,
        });
        // E-mail and chat have an audience of one: no followers, nothing to like or share.
        if source != "email" && source != "chat" {
            body["author"]["followers"] = json!(followers);
            body["metrics"] = json!({
                "likes": self.rng.random_range(0..50u64),
                "shares": self.rng.random_range(0..10u64),
            });
        }
        if let Some((parent, _)) = &draft.reply {
            body["in_reply_to"] = json!(parent);
        }
        // The account it arrived on, where a reply is sent as that account.
        match source {
            "linkedin" => body["channel"] = json!(LINKEDIN_ORGANIZATION),
            "email" => body["channel"] = json!(MAILBOX),
            "tiktok" => body["video_id"] = json!(TIKTOK_VIDEO),
            // X addresses a direct message to the user's numeric id, as its webhooks carry it.
            "x" => body["author_id"] = json!(x_user_id(&handle)),
            // Meta gives each user an id of their own per page (Messenger) or per professional
            // account (Instagram), and a direct message goes to that id.
            _ if let Some(account) = meta_account(source) => {
                body["channel"] = json!(account);
                body["author_id"] = json!(scoped_user_id(account, &handle));
            }
            _ => {}
        }
        if public {
            self.recent.push(Recent {
                source,
                external_id,
                handle,
                region,
                language: draft.language,
                kind: draft.kind,
            });
            if self.recent.len() > 64 {
                self.recent.remove(0);
            }
        }
        body
    }

    /// A message that starts a conversation: the outage, a VIP's complaint, or a complaint,
    /// question or praise in one of the languages.
    fn draft(&mut self, viral: bool, vip: bool) -> Draft {
        let language = if self.rng.random_bool(0.45) {
            self.rng.random_range(0..TEMPLATES.len())
        } else {
            0
        };
        let (_, region, complaints, inquiries, praise) = TEMPLATES[language];
        let (pool, kind): (&[&str], Kind) = if viral {
            (&VIRAL, Kind::Complaint)
        } else if vip {
            (&VIP_COMPLAINTS, Kind::Complaint)
        } else {
            match self.rng.random_range(0..10) {
                0..=3 => (complaints, Kind::Complaint),
                4..=7 => (inquiries, Kind::Question),
                _ => (praise, Kind::Praise),
            }
        };
        let template = pool.choose(&mut self.rng).copied().unwrap_or("");
        Draft {
            text: fill(template, &mut self.rng),
            language: if viral || vip { 0 } else { language },
            region: if viral || vip { TEMPLATES[0].1 } else { region },
            kind,
            reply: None,
        }
    }

    /// A reply under the latest message on `source` that invites one: mostly its author
    /// asking again, and under a complaint sometimes another customer with the same problem.
    /// None when nothing recent on the platform is open to a reply (praise is not followed up).
    fn reply_on(&mut self, source: &str) -> Option<Draft> {
        let parent = self.recent.iter().rev().find(|r| r.source == source)?;
        let (_, own, others) = FOLLOW_UPS.get(parent.language).copied()?;
        let complaint = parent.kind == Kind::Complaint;
        let (pool, author) = if complaint && self.rng.random_bool(1.0 / 3.0) {
            (others, None)
        } else if parent.kind == Kind::Praise {
            return None;
        } else {
            (own, Some(parent.handle.clone()))
        };
        let template = pool.choose(&mut self.rng).copied().unwrap_or("");
        Some(Draft {
            text: fill(template, &mut self.rng),
            language: parent.language,
            region: parent.region,
            kind: parent.kind,
            reply: Some((parent.external_id.clone(), author)),
        })
    }
}

/// A stable numeric X user id for a simulated handle (FNV-1a of the handle, 18 digits at
/// most), the same on every run so a customer keeps one id.
fn x_user_id(handle: &str) -> String {
    (fnv1a(handle.bytes()) % 1_000_000_000_000_000_000)
        .max(1)
        .to_string()
}

/// The Meta account messages on `source` arrive on, if it is a Meta platform.
fn meta_account(source: &str) -> Option<&'static str> {
    match source {
        "facebook" => Some(FACEBOOK_PAGE),
        "instagram" => Some(INSTAGRAM_ACCOUNT),
        _ => None,
    }
}

/// A stable 16-digit id for a simulated handle as seen by one Meta page or account: the same
/// customer has another id on another account, as page-scoped ids do.
fn scoped_user_id(account: &str, handle: &str) -> String {
    let hash = fnv1a(account.bytes().chain([b'/']).chain(handle.bytes()));
    (1_000_000_000_000_000 + hash % 9_000_000_000_000_000).to_string()
}

fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_domain::NewMessage;

    #[test]
    fn every_generated_message_is_valid_ingest_input_and_the_mix_is_varied() {
        let mut g = Generator::new(7, "t", Scenario::Steady, 50);
        let mut sources = std::collections::HashSet::new();
        let mut replies = 0;
        let mut vips = 0;
        let mut x_ids = std::collections::HashSet::new();
        let mut meta_ids = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        for _ in 0..2000 {
            let m = NewMessage::parse(g.next_message()).unwrap();
            ids.insert(m.external_id.clone());
            // Replies can be sent back: each platform's ids and accounts have its shape.
            match m.source.as_str() {
                "linkedin" => {
                    assert_eq!(m.channel, LINKEDIN_ORGANIZATION);
                    assert!(
                        m.external_id
                            .starts_with("urn:li:comment:(urn:li:activity:")
                    );
                }
                "email" => {
                    assert_eq!(m.channel, MAILBOX);
                    assert!(m.external_id.contains('@'), "{}", m.external_id);
                }
                "tiktok" => {
                    assert!(m.raw["video_id"].is_string());
                    assert!(numeric(&m.external_id, 19), "{}", m.external_id);
                }
                "x" => {
                    assert!(numeric(&m.external_id, 19), "{}", m.external_id);
                    let id = m.raw["author_id"].as_str().unwrap();
                    assert!(
                        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
                        "{id}"
                    );
                    assert_eq!(id, x_user_id(&m.author.handle));
                    x_ids.insert(id.to_owned());
                }
                source if let Some(account) = meta_account(source) => {
                    assert_eq!(m.channel, account);
                    let comment = match m.external_id.split_once('_') {
                        Some((post, comment)) if source == "facebook" => {
                            assert_eq!(post, FACEBOOK_POST);
                            comment
                        }
                        _ => m.external_id.as_str(),
                    };
                    let digits = if source == "facebook" { 16 } else { 17 };
                    assert!(numeric(comment, digits), "{}", m.external_id);
                    let id = m.raw["author_id"].as_str().unwrap();
                    assert!(
                        id.len() == 16 && id.bytes().all(|b| b.is_ascii_digit()),
                        "{id}"
                    );
                    assert_eq!(id, scoped_user_id(account, &m.author.handle));
                    meta_ids.insert(id.to_owned());
                }
                _ => assert!(m.raw.get("author_id").is_none(), "{:?}", m.source),
            }
            let private = matches!(m.source.as_str(), "email" | "chat");
            assert_eq!(m.author.followers.is_none(), private, "{:?}", m.source);
            let counted = m.metrics.as_object().is_some_and(|c| !c.is_empty());
            assert_eq!(counted, !private, "{:?}: {}", m.source, m.metrics);
            sources.insert(m.source);
            replies += usize::from(m.in_reply_to.is_some());
            vips += usize::from(VIP_HANDLES.contains(&m.author.handle.as_str()));
        }
        assert!(sources.len() >= 6, "{sources:?}");
        // Every message has an id of its own, and another run numbers its messages apart.
        assert_eq!(ids.len(), 2000);
        let other = Generator::new(7, "u", Scenario::Steady, 50);
        assert_ne!(g.numeric_id(19)[..12], other.numeric_id(19)[..12]);
        // One id per customer, different customers apart.
        assert!(x_ids.len() > 10, "{x_ids:?}");
        assert_ne!(x_user_id("@customer_1"), x_user_id("@customer_2"));
        assert!(meta_ids.len() > 10, "{meta_ids:?}");
        // Page-scoped: one customer has one id per account, another on the other account.
        assert_ne!(
            scoped_user_id(FACEBOOK_PAGE, "@customer_1"),
            scoped_user_id(INSTAGRAM_ACCOUNT, "@customer_1")
        );
        // The X ids stay what they were, so a demo's customers keep theirs across versions.
        assert_eq!(x_user_id("@customer_1"), "74686443466549383");
        assert!(replies > 100 && vips > 5, "replies {replies}, vips {vips}");
    }

    fn numeric(id: &str, digits: usize) -> bool {
        id.len() == digits && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0')
    }

    #[test]
    fn a_reply_is_its_author_asking_again_or_another_customer_under_a_complaint() {
        let starts = |text: &str, pool: &[&str]| {
            pool.iter()
                .any(|t| text.starts_with(t.split('{').next().unwrap_or(t)))
        };
        let mut g = Generator::new(11, "r", Scenario::Steady, 500);
        // external id -> (source, handle, thread kind); a reply belongs to its parent's thread.
        let mut seen: std::collections::HashMap<String, (String, String, Kind)> =
            std::collections::HashMap::new();
        let (mut own, mut others) = (0, 0);
        for _ in 0..3000 {
            let m = g.next_message();
            let text = m["text"].as_str().unwrap();
            let handle = m["author"]["handle"].as_str().unwrap().to_owned();
            let source = m["source"].as_str().unwrap().to_owned();
            let kind = if let Some(parent) = m["in_reply_to"].as_str() {
                let (psource, phandle, pkind) = seen
                    .get(parent)
                    .expect("a reply answers an earlier message");
                assert_eq!(psource, &source, "replies stay on the platform");
                assert!(*pkind != Kind::Praise, "nobody follows up praise");
                if phandle == &handle {
                    own += 1;
                } else {
                    others += 1;
                    assert!(
                        *pkind == Kind::Complaint,
                        "others chime in under complaints"
                    );
                }
                *pkind
            } else if TEMPLATES.iter().any(|t| starts(text, t.2)) || starts(text, &VIP_COMPLAINTS) {
                Kind::Complaint
            } else if TEMPLATES.iter().any(|t| starts(text, t.4)) {
                Kind::Praise
            } else {
                assert!(TEMPLATES.iter().any(|t| starts(text, t.3)), "{text}");
                Kind::Question
            };
            seen.insert(
                m["external_id"].as_str().unwrap().to_owned(),
                (source, handle, kind),
            );
        }
        assert!(own > others && others > 20, "own {own}, others {others}");
    }

    #[test]
    fn the_viral_scenario_is_dominated_by_the_outage() {
        let mut g = Generator::new(1, "v", Scenario::Viral, 50);
        let outage = (0..1000)
            .filter(|_| {
                g.next_message()["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("#deliveryoutage")
            })
            .count();
        assert!(outage > 400, "{outage}");
    }
}
