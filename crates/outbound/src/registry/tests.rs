use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::item::{Action, Outgoing, Payload, ReplyKind};
use crate::outcome::Outcome;
use crate::test_support as ts;

#[derive(Deserialize)]
struct File {
    outbound: OutboundConfig,
}

const TOML: &str = r#"
[outbound]
timeout_ms = 2500

[outbound.pagerduty]
routing_key = "pd-routing-key-secret"

[outbound.slack]
webhook_url = "https://hooks.slack.com/services/T0/B0/slack-secret-path"

[outbound.servicenow]
base_url = "https://acme.service-now.com"
username = "switchboard"
password = "snow-password-secret"

[outbound.webhook]
url = "https://ops.example.com/switchboard"
secret = "webhook-secret"

[outbound.meta]
version = "v22.0"
tokens = { "104857600000001" = "meta-page-token-secret" }

[outbound.x]
tokens = { "2244994945" = "x-user-token-secret" }

[outbound.linkedin]
version = "202501"
tokens = { "urn:li:organization:5515715" = "linkedin-org-token-secret" }

[outbound.tiktok]
tokens = { "-000ExampleBrandOpenId0000" = "tiktok-business-token-secret" }

[outbound.smtp]
host = "smtp.examplebrand.com"
username = "care@examplebrand.com"
password = "smtp-password-secret"
"#;

fn parsed() -> OutboundConfig {
    match toml::from_str::<File>(TOML) {
        Ok(f) => f.outbound,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn every_target_in_the_file_is_registered_under_its_name() {
    let config = parsed();
    assert_eq!(config.timeout_ms, 2500);
    let meta = config.meta.clone().unwrap_or_default();
    assert_eq!(meta.base_url, "https://graph.facebook.com");
    assert_eq!(meta.version, "v22.0");
    let pd = config.pagerduty.clone().map(|p| p.base_url);
    assert_eq!(pd.as_deref(), Some("https://events.pagerduty.com"));
    let linkedin = config.linkedin.clone().unwrap_or_default();
    assert_eq!(linkedin.base_url, "https://api.linkedin.com");
    assert_eq!(linkedin.version, "202501");
    let tiktok = config.tiktok.clone().unwrap_or_default();
    assert_eq!(tiktok.base_url, "https://business-api.tiktok.com");
    assert_eq!(tiktok.version, "v1.3");
    let smtp = config
        .smtp
        .clone()
        .unwrap_or_else(|| crate::smtp::SmtpConfig::new("unset"));
    assert_eq!(smtp.port, 587);
    assert_eq!(smtp.security, crate::smtp::SmtpSecurity::Starttls);
    assert_eq!(smtp.timeout_ms, 30_000);
    let senders = Senders::from_config(&config).unwrap_or_else(|e| panic!("{e}"));
    let targets: Vec<_> = senders.targets().collect();
    assert_eq!(
        targets,
        [
            "linkedin",
            "meta",
            "pagerduty",
            "servicenow",
            "slack",
            "smtp",
            "tiktok",
            "webhook",
            "x"
        ]
    );
    for name in targets {
        assert_eq!(senders.get(name).map(|s| s.kind()), Some(name));
    }
    assert!(senders.get("opsgenie").is_none());
}

#[test]
fn replies_find_their_platforms_sender() {
    let senders = Senders::from_config(&parsed()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        senders.for_reply("facebook").map(|s| s.kind()),
        Some("meta")
    );
    assert_eq!(
        senders.for_reply("instagram").map(|s| s.kind()),
        Some("meta")
    );
    assert_eq!(senders.for_reply("x").map(|s| s.kind()), Some("x"));
    assert_eq!(
        senders.for_reply("linkedin").map(|s| s.kind()),
        Some("linkedin")
    );
    assert_eq!(
        senders.for_reply("tiktok").map(|s| s.kind()),
        Some("tiktok")
    );
    assert_eq!(senders.for_reply("email").map(|s| s.kind()), Some("smtp"));
    assert!(
        senders.for_reply("smtp").is_none(),
        "platforms, not targets"
    );
    assert!(senders.for_reply("whatsapp").is_none());
    let none = Senders::from_config(&OutboundConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(none.for_reply("x").is_none());
    assert!(none.for_reply("email").is_none());
    assert_eq!(none.targets().count(), 0);
}

#[test]
fn no_secret_from_the_file_shows_in_debug_output() {
    let config = parsed();
    let senders = Senders::from_config(&config).unwrap_or_else(|e| panic!("{e}"));
    let printed = format!("{config:?} {senders:?}");
    for secret in [
        "pd-routing-key-secret",
        "slack-secret-path",
        "snow-password-secret",
        "webhook-secret",
        "meta-page-token-secret",
        "x-user-token-secret",
        "linkedin-org-token-secret",
        "tiktok-business-token-secret",
        "smtp-password-secret",
    ] {
        assert!(!printed.contains(secret), "{secret} leaked: {printed}");
    }
}

#[test]
fn a_typo_or_an_unusable_section_fails_start_up() {
    let typo = toml::from_str::<File>("[outbound.pagerduty]\nrouting-key = \"k\"\n");
    assert!(typo.is_err());
    let bad_url =
        toml::from_str::<File>("[outbound.webhook]\nurl = \"ops.example.com\"\nsecret = \"s\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
    let err = Senders::from_config(&bad_url.outbound).err();
    assert_eq!(err.map(|e| e.code()), Some("outbound_invalid_url"));
    let smtp_typo = toml::from_str::<File>("[outbound.smtp]\nhost = \"h\"\nsecurity = \"ssl\"\n");
    assert!(smtp_typo.is_err(), "security is starttls, tls or none");
    let clear_password = toml::from_str::<File>(
        "[outbound.smtp]\nhost = \"smtp.examplebrand.com\"\nsecurity = \"none\"\nusername = \"u\"\npassword = \"p\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = Senders::from_config(&clear_password.outbound).err();
    assert_eq!(err.map(|e| e.code()), Some("outbound_invalid_setting"));
}

/// A target name of our own, with a sender that is not one of the built-ins.
struct Recorder;

#[async_trait::async_trait]
impl Sender for Recorder {
    fn kind(&self) -> &'static str {
        "recorder"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        Outcome::Delivered {
            status: 200,
            remote_id: Some(item.id.clone()),
        }
    }
}

#[tokio::test]
async fn the_dispatcher_sends_an_alert_and_a_reply_through_the_registry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"dedup_key": "k"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {"id": "99"}})))
        .mount(&server)
        .await;
    let mut config = parsed();
    if let Some(pd) = config.pagerduty.as_mut() {
        pd.base_url = server.uri();
    }
    if let Some(x) = config.x.as_mut() {
        x.base_url = server.uri();
    }
    let clock = Arc::new(sb_domain::ManualClock::at(sb_domain::Timestamp(
        ts::NOW_S * 1000,
    )));
    let mut senders = Senders::with_clock(&config, clock).unwrap_or_else(|e| panic!("{e}"));
    senders.insert_as("audit-log", Box::new(Recorder));

    let alert = ts::alert(Action::Trigger);
    let paged = match senders.get("pagerduty") {
        Some(s) => s.send(&alert).await,
        None => panic!("pagerduty is configured"),
    };
    assert_eq!(paged.code(), "delivered");

    let mut reply = ts::reply("x", ReplyKind::PostReply, "2244994945");
    reply.in_reply_to = Some("1874448000000000001".into());
    let answered = match senders.for_reply(&reply.platform) {
        Some(s) => s.send(&ts::item(Payload::Reply(reply.clone()))).await,
        None => panic!("x is configured"),
    };
    assert_eq!(
        answered,
        Outcome::Delivered {
            status: 201,
            remote_id: Some("99".into())
        }
    );
    let recorded = match senders.get("audit-log") {
        Some(s) => s.send(&alert).await,
        None => panic!("registered"),
    };
    assert_eq!(recorded.code(), "delivered");
}

#[tokio::test]
async fn comment_replies_on_linkedin_and_tiktok_go_through_the_registry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/rest/socialActions/urn%3Ali%3Ashare%3A7280000000000000001/comments",
        ))
        .respond_with(
            ResponseTemplate::new(201).insert_header("x-restli-id", "7282222222222222222"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/open_api/v1.3/business/comment/reply/create/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"code": 0, "message": "OK", "data": {"comment_id": "7448000000000000999"}}),
        ))
        .mount(&server)
        .await;
    let mut config = parsed();
    if let Some(l) = config.linkedin.as_mut() {
        l.base_url = server.uri();
    }
    if let Some(t) = config.tiktok.as_mut() {
        t.base_url = server.uri();
    }
    let senders = Senders::from_config(&config).unwrap_or_else(|e| panic!("{e}"));

    let mut on_linkedin = ts::reply(
        "linkedin",
        ReplyKind::PostReply,
        "urn:li:organization:5515715",
    );
    on_linkedin.in_reply_to = Some("urn:li:share:7280000000000000001".into());
    let mut on_tiktok = ts::reply(
        "tiktok",
        ReplyKind::CommentReply,
        "-000ExampleBrandOpenId0000",
    );
    on_tiktok.in_reply_to = Some("7448000000000000777".into());
    on_tiktok.context = Some("7448000000000000001".into());
    for (reply, id) in [
        (on_linkedin, "7282222222222222222"),
        (on_tiktok, "7448000000000000999"),
    ] {
        let outcome = match senders.for_reply(&reply.platform) {
            Some(s) => s.send(&ts::item(Payload::Reply(reply.clone()))).await,
            None => panic!("{} is configured", reply.platform),
        };
        assert_eq!(outcome.code(), "delivered", "{outcome:?}");
        assert!(matches!(&outcome, Outcome::Delivered { remote_id: Some(r), .. } if r == id));
    }
}
