//! The mail server is a fake speaking just enough RFC 5321 over a local socket: it greets,
//! answers EHLO (offering AUTH when scripted to), AUTH, MAIL, RCPT and DATA with the codes
//! a scenario chooses, and records what our sender put on the wire.

use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::letter::re_subject;
use super::*;
use crate::item::{Action, Reply, ReplyKind};
use crate::test_support as ts;

const MAILBOX: &str = "care@examplebrand.com";
const CUSTOMER: &str = "sam.lee@example.net";
const ANSWERED: &str = "CAF=order1182@mail.example.net";
const FIRST: &str = "first-contact@mail.example.net";
const ITEM_ID: &str = "01JGQ8Z6J5X0000000000000AB";
const TEXT: &str = "Hi Sam,\n\nSorry your order 1182 hasn't arrived. A replacement ships today.\n\n— The ExampleBrand care team";

/// The reply code the fake gives at each step.
#[derive(Clone, Copy)]
struct Script {
    greeting: u16,
    /// `Some` offers `AUTH PLAIN LOGIN` in EHLO and answers AUTH with this code.
    auth: Option<u16>,
    mail: u16,
    rcpt: u16,
    data_end: u16,
    /// Accept the connection and never say a word.
    silent: bool,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            greeting: 220,
            auth: None,
            mail: 250,
            rcpt: 250,
            data_end: 250,
            silent: false,
        }
    }
}

/// What the fake saw of one session.
#[derive(Debug, Default)]
struct Session {
    ehlo: Option<String>,
    auth: Vec<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    data: Option<String>,
    quit: bool,
}

struct FakeMx {
    port: u16,
    session: JoinHandle<Session>,
}

impl FakeMx {
    async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let session = tokio::spawn(async move {
            match listener.accept().await {
                Ok((sock, _)) => serve(sock, script).await,
                Err(e) => panic!("accept: {e}"),
            }
        });
        Self { port, session }
    }

    async fn session(self) -> Session {
        match tokio::time::timeout(Duration::from_secs(5), self.session).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => panic!("fake mail server: {e}"),
            Err(_) => panic!("the session never ended"),
        }
    }
}

fn text_of(code: u16) -> &'static str {
    match code {
        220 => "mx.example.test ESMTP ready",
        221 => "2.0.0 Bye",
        235 => "2.7.0 Authentication successful",
        250 => "2.0.0 Ok",
        354 => "End data with <CR><LF>.<CR><LF>",
        421 => "4.3.2 Service not available, closing transmission channel",
        450 => "4.2.1 Mailbox busy, try again later",
        451 => "4.3.0 Local error in processing",
        452 => "4.3.1 Insufficient system storage",
        454 => "4.7.0 Temporary authentication failure",
        530 => "5.7.0 Authentication required",
        535 => "5.7.8 Authentication credentials invalid",
        550 => "5.1.1 Mailbox unavailable",
        553 => "5.1.8 Sender address rejected",
        554 => "5.6.0 Transaction failed",
        _ => "Command not recognized",
    }
}

async fn say(out: &mut tokio::net::tcp::OwnedWriteHalf, code: u16) {
    let line = format!("{code} {}\r\n", text_of(code));
    let _ = out.write_all(line.as_bytes()).await;
}

async fn serve(sock: TcpStream, script: Script) -> Session {
    let mut seen = Session::default();
    let (read, mut out) = sock.into_split();
    let mut input = BufReader::new(read);
    if script.silent {
        tokio::time::sleep(Duration::from_secs(3)).await;
        return seen;
    }
    say(&mut out, script.greeting).await;
    if script.greeting != 220 {
        return seen;
    }
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).await.unwrap_or(0) == 0 {
            return seen;
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let upper = command.to_ascii_uppercase();
        if let Some(name) = upper.strip_prefix("EHLO ") {
            seen.ehlo = Some(name.to_ascii_lowercase());
            let mut capabilities = String::from("250-mx.example.test\r\n250-8BITMIME\r\n");
            if script.auth.is_some() {
                capabilities.push_str("250-AUTH PLAIN LOGIN\r\n");
            }
            capabilities.push_str("250 SMTPUTF8\r\n");
            let _ = out.write_all(capabilities.as_bytes()).await;
        } else if upper.starts_with("AUTH ") {
            seen.auth.push(command.to_owned());
            say(&mut out, script.auth.unwrap_or(503)).await;
        } else if upper.starts_with("MAIL FROM:") {
            seen.mail_from = Some(command["MAIL FROM:".len()..].to_owned());
            say(&mut out, script.mail).await;
        } else if upper.starts_with("RCPT TO:") {
            seen.rcpt_to.push(command["RCPT TO:".len()..].to_owned());
            say(&mut out, script.rcpt).await;
        } else if upper == "DATA" {
            say(&mut out, 354).await;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if input.read_line(&mut l).await.unwrap_or(0) == 0 {
                    return seen;
                }
                if l == ".\r\n" {
                    break;
                }
                // A leading dot was doubled by the client so it cannot end the message.
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            seen.data = Some(data);
            say(&mut out, script.data_end).await;
        } else if upper == "QUIT" {
            seen.quit = true;
            say(&mut out, 221).await;
            return seen;
        } else if upper == "RSET" || upper == "NOOP" {
            say(&mut out, 250).await;
        } else {
            say(&mut out, 500).await;
        }
    }
}

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        timeout_ms: 2_000,
        ..SmtpConfig::new("127.0.0.1")
    }
}

fn sender(port: u16) -> Smtp {
    Smtp::new(config(port), ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

fn with_login(port: u16) -> Smtp {
    let config = SmtpConfig {
        username: Some("care@examplebrand.com".into()),
        password: Some(Secret::new("app-password-1")),
        ..config(port)
    };
    Smtp::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"))
}

fn email() -> Reply {
    Reply {
        platform: "email".into(),
        kind: ReplyKind::Email,
        account: MAILBOX.into(),
        recipient: Some(CUSTOMER.into()),
        in_reply_to: Some(ANSWERED.into()),
        text: TEXT.into(),
        context: None,
        subject: Some("Order 1182 never arrived".into()),
        references: vec![FIRST.into()],
    }
}

fn item(reply: Reply) -> Outgoing {
    ts::item(Payload::Reply(reply))
}

/// The header block of a captured message, one `Name: value` per entry.
fn headers(data: &str) -> Vec<&str> {
    data.split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .split("\r\n")
        .collect()
}

fn body(data: &str) -> &str {
    data.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn header<'a>(data: &'a str, name: &str) -> Option<&'a str> {
    headers(data)
        .into_iter()
        .find_map(|h| h.strip_prefix(name)?.strip_prefix(": "))
}

#[tokio::test]
async fn an_answer_to_a_customer_email_threads_under_their_message() {
    let mx = FakeMx::start(Script::default()).await;
    let outcome = sender(mx.port).send(&item(email())).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: 250,
            remote_id: Some(format!("{ITEM_ID}@examplebrand.com")),
        }
    );
    let session = mx.session().await;
    assert_eq!(session.ehlo.as_deref(), Some("examplebrand.com"));
    assert!(session.auth.is_empty(), "no credentials, no AUTH");
    assert_eq!(
        session.mail_from.as_deref(),
        Some("<care@examplebrand.com>")
    );
    assert_eq!(session.rcpt_to, ["<sam.lee@example.net>"]);
    assert!(session.quit);
    let data = session.data.unwrap_or_default();
    assert_eq!(
        headers(&data),
        [
            "From: care@examplebrand.com",
            "To: sam.lee@example.net",
            "Subject: Re: Order 1182 never arrived",
            "Message-ID: <01JGQ8Z6J5X0000000000000AB@examplebrand.com>",
            "In-Reply-To: <CAF=order1182@mail.example.net>",
            "References: <first-contact@mail.example.net>",
            " <CAF=order1182@mail.example.net>",
            "Date: Wed, 01 Jan 2025 12:05:00 +0000",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
        ]
    );
    assert_eq!(
        body(&data),
        "Hi Sam,\r\n\r\nSorry your order 1182 hasn't arrived. A replacement ships today.\r\n\r\n=E2=80=94 The ExampleBrand care team\r\n\r\n"
    );
}

#[tokio::test]
async fn a_retry_carries_the_same_message_id_so_the_copy_can_be_dropped() {
    let mut ids = Vec::new();
    for attempt in [1, 2] {
        let mx = FakeMx::start(Script::default()).await;
        let mut again = item(email());
        again.attempt = attempt;
        let outcome = sender(mx.port).send(&again).await;
        assert_eq!(outcome.code(), "delivered");
        let data = mx.session().await.data.unwrap_or_default();
        ids.push(header(&data, "Message-ID").unwrap_or_default().to_owned());
    }
    assert_eq!(ids[0], "<01JGQ8Z6J5X0000000000000AB@examplebrand.com>");
    assert_eq!(ids[0], ids[1]);
}

#[test]
fn the_subject_gets_one_re_and_only_one() {
    for (given, sent) in [
        (
            Some("Order 1182 never arrived"),
            "Re: Order 1182 never arrived",
        ),
        (
            Some("Re: Order 1182 never arrived"),
            "Re: Order 1182 never arrived",
        ),
        (Some("RE: Order 1182"), "RE: Order 1182"),
        (Some("re:refund?"), "re:refund?"),
        (Some("  Refund  "), "Re: Refund"),
        (Some("Regarding my refund"), "Re: Regarding my refund"),
        (Some("Ré: facture"), "Re: Ré: facture"),
        (Some(""), "Re:"),
        (None, "Re:"),
    ] {
        assert_eq!(re_subject(given), sent, "{given:?}");
    }
}

#[tokio::test]
async fn a_non_ascii_subject_is_encoded_not_sent_raw() {
    let mx = FakeMx::start(Script::default()).await;
    let mut reply = email();
    reply.subject = Some("Bestellung 1182 – nicht angekommen".into());
    let outcome = sender(mx.port).send(&item(reply)).await;
    assert_eq!(outcome.code(), "delivered");
    let data = mx.session().await.data.unwrap_or_default();
    assert!(data.is_ascii(), "{data}");
    assert_eq!(
        header(&data, "Subject"),
        Some("Re: Bestellung 1182 =?utf-8?b?4oCT?= nicht angekommen")
    );
}

#[tokio::test]
async fn a_line_holding_only_a_dot_does_not_end_the_message_early() {
    let mx = FakeMx::start(Script::default()).await;
    let mut reply = email();
    reply.text = "Steps:\n.\n.hidden file\nDone".into();
    let outcome = sender(mx.port).send(&item(reply)).await;
    assert_eq!(outcome.code(), "delivered");
    let data = mx.session().await.data.unwrap_or_default();
    assert_eq!(body(&data), "Steps:\r\n.\r\n.hidden file\r\nDone\r\n\r\n");
}

#[tokio::test]
async fn the_thread_is_built_from_what_the_reply_knows() {
    // Angle brackets from the source are tolerated; the answered id is not repeated.
    let mx = FakeMx::start(Script::default()).await;
    let mut reply = email();
    reply.references = vec![format!("<{FIRST}>"), ANSWERED.into(), FIRST.into()];
    assert_eq!(sender(mx.port).send(&item(reply)).await.code(), "delivered");
    let data = mx.session().await.data.unwrap_or_default();
    assert_eq!(
        headers(&data)
            .iter()
            .skip_while(|h| !h.starts_with("References:"))
            .take(2)
            .copied()
            .collect::<Vec<_>>(),
        [
            "References: <first-contact@mail.example.net>",
            " <CAF=order1182@mail.example.net>"
        ]
    );

    // A fresh message (nothing answered) has no threading headers at all.
    let mx = FakeMx::start(Script::default()).await;
    let mut reply = email();
    reply.in_reply_to = None;
    reply.references.clear();
    assert_eq!(sender(mx.port).send(&item(reply)).await.code(), "delivered");
    let data = mx.session().await.data.unwrap_or_default();
    assert_eq!(header(&data, "In-Reply-To"), None);
    assert_eq!(header(&data, "References"), None);
}

#[tokio::test]
async fn a_line_break_in_any_header_value_is_refused_before_connecting() {
    // Nothing listens on this port: a permanent outcome (not a retry after "refused")
    // shows the message was refused before any connection was attempted.
    let port = closed_port();
    let s = sender(port);
    let injected = "Order 1182\r\nBcc: everyone@example.org";
    let mut cases = Vec::new();
    let mut r = email();
    r.subject = Some(injected.into());
    cases.push(r);
    let mut r = email();
    r.subject = Some("Order 1182\nBcc: everyone@example.org".into());
    cases.push(r);
    let mut r = email();
    r.in_reply_to = Some(format!("{ANSWERED}\r\nBcc: everyone@example.org"));
    cases.push(r);
    let mut r = email();
    r.references = vec![format!("{FIRST}\rX-Spam: no")];
    cases.push(r);
    let mut r = email();
    r.recipient = Some(format!("{CUSTOMER}\r\nBcc: everyone@example.org"));
    cases.push(r);
    let mut r = email();
    r.account = format!("{MAILBOX}\nBcc: everyone@example.org");
    cases.push(r);
    for reply in cases {
        let outcome = s.send(&item(reply.clone())).await;
        match &outcome {
            Outcome::Permanent {
                status: None,
                error,
            } => {
                assert!(error.contains("line break"), "{error}");
            }
            other => panic!("expected a refusal for {reply:?}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn what_cannot_be_mailed_is_refused_without_a_connection() {
    let s = sender(closed_port());
    let mut no_recipient = email();
    no_recipient.recipient = None;
    let mut not_an_address = email();
    not_an_address.recipient = Some("sam.lee at example.net".into());
    let mut our_mailbox_garbled = email();
    our_mailbox_garbled.account = "care team".into();
    let mut empty = email();
    empty.text = " \n ".into();
    let mut bad_thread = email();
    bad_thread.in_reply_to = Some("not a message id".into());
    let mut wrong_kind = email();
    wrong_kind.kind = ReplyKind::CommentReply;
    let mut wrong_platform = email();
    wrong_platform.platform = "x".into();
    for reply in [
        no_recipient,
        not_an_address,
        our_mailbox_garbled,
        empty,
        bad_thread,
        wrong_kind,
        wrong_platform,
    ] {
        let outcome = s.send(&item(reply.clone())).await;
        assert_eq!(
            (outcome.code(), outcome.status()),
            ("permanent", None),
            "{reply:?}: {outcome:?}"
        );
    }
    assert_eq!(
        s.send(&ts::alert(Action::Trigger)).await.code(),
        "permanent"
    );
    let mut odd_id = item(email());
    odd_id.id = "01J/../x>".into();
    assert_eq!(s.send(&odd_id).await.code(), "permanent");
}

#[tokio::test]
async fn a_login_is_offered_with_auth_plain() {
    let mx = FakeMx::start(Script {
        auth: Some(235),
        ..Script::default()
    })
    .await;
    let outcome = with_login(mx.port).send(&item(email())).await;
    assert_eq!(outcome.code(), "delivered", "{outcome:?}");
    let session = mx.session().await;
    let [auth] = session.auth.as_slice() else {
        panic!("one AUTH, got {:?}", session.auth);
    };
    let encoded = auth.strip_prefix("AUTH PLAIN ").unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_default();
    assert_eq!(decoded, b"\0care@examplebrand.com\0app-password-1");
}

async fn outcome_of(script: Script, login: bool) -> Outcome {
    let mx = FakeMx::start(script).await;
    let s = if login {
        with_login(mx.port)
    } else {
        sender(mx.port)
    };
    let outcome = s.send(&item(email())).await;
    let _ = mx.session().await;
    outcome
}

#[tokio::test]
async fn a_busy_or_overloaded_server_is_tried_again() {
    let cases = [
        (
            Script {
                greeting: 421,
                ..Script::default()
            },
            421,
        ),
        (
            Script {
                rcpt: 421,
                ..Script::default()
            },
            421,
        ),
        (
            Script {
                rcpt: 450,
                ..Script::default()
            },
            450,
        ),
        (
            Script {
                mail: 451,
                ..Script::default()
            },
            451,
        ),
        (
            Script {
                data_end: 452,
                ..Script::default()
            },
            452,
        ),
    ];
    for (script, code) in cases {
        let outcome = outcome_of(script, false).await;
        match &outcome {
            Outcome::Retry { status, after, .. } => {
                assert_eq!(*status, Some(code));
                assert_eq!(*after, None);
            }
            other => panic!("expected a retry for {code}, got {other:?}"),
        }
    }
    let outcome = outcome_of(
        Script {
            auth: Some(454),
            ..Script::default()
        },
        true,
    )
    .await;
    assert_eq!((outcome.code(), outcome.status()), ("retry", Some(454)));
}

#[tokio::test]
async fn a_mailbox_that_does_not_exist_drops_the_reply() {
    for (script, code) in [
        (
            Script {
                rcpt: 550,
                ..Script::default()
            },
            550,
        ),
        (
            Script {
                mail: 553,
                ..Script::default()
            },
            553,
        ),
        (
            Script {
                data_end: 554,
                ..Script::default()
            },
            554,
        ),
    ] {
        let outcome = outcome_of(script, false).await;
        assert_eq!(
            (outcome.code(), outcome.status()),
            ("permanent", Some(code)),
            "{outcome:?}"
        );
    }
    let outcome = outcome_of(
        Script {
            rcpt: 550,
            ..Script::default()
        },
        false,
    )
    .await;
    let Outcome::Permanent { error, .. } = outcome else {
        panic!("permanent");
    };
    assert!(error.contains("5.1.1 Mailbox unavailable"), "{error}");
}

#[tokio::test]
async fn a_refused_login_pauses_the_mailbox() {
    let wrong_password = outcome_of(
        Script {
            auth: Some(535),
            ..Script::default()
        },
        true,
    )
    .await;
    assert_eq!(
        (wrong_password.code(), wrong_password.status()),
        ("reauthorize", Some(535))
    );
    // No credentials configured, and the server wants them.
    let login_required = outcome_of(
        Script {
            mail: 530,
            ..Script::default()
        },
        false,
    )
    .await;
    assert_eq!(
        (login_required.code(), login_required.status()),
        ("reauthorize", Some(530))
    );
    // Credentials configured, and the server offers no mechanism to use them.
    let no_auth_offered = outcome_of(Script::default(), true).await;
    assert_eq!(
        (no_auth_offered.code(), no_auth_offered.status()),
        ("reauthorize", None)
    );
}

#[tokio::test]
async fn starttls_is_required_when_configured() {
    let mx = FakeMx::start(Script::default()).await;
    let config = SmtpConfig {
        security: SmtpSecurity::Starttls,
        ..config(mx.port)
    };
    let s = Smtp::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"));
    let outcome = s.send(&item(email())).await;
    assert_eq!(outcome.code(), "reauthorize", "{outcome:?}");
    let session = mx.session().await;
    assert_eq!(session.mail_from, None, "nothing was sent in clear");
}

fn closed_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("bind: {e}"),
    }
}

#[tokio::test]
async fn an_unreachable_or_silent_server_is_tried_again() {
    let refused = sender(closed_port()).send(&item(email())).await;
    assert_eq!((refused.code(), refused.status()), ("retry", None));

    let mx = FakeMx::start(Script {
        silent: true,
        ..Script::default()
    })
    .await;
    let config = SmtpConfig {
        timeout_ms: 300,
        ..config(mx.port)
    };
    let s = Smtp::new(config, ts::http()).unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let silent = s.send(&item(email())).await;
    assert_eq!((silent.code(), silent.status()), ("retry", None));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_config_that_cannot_work_fails_start_up() {
    let cases = [
        (SmtpConfig::new(" "), "outbound_missing_setting"),
        (
            SmtpConfig {
                username: Some("care".into()),
                ..SmtpConfig::new("smtp.example.com")
            },
            "outbound_missing_setting",
        ),
        (
            SmtpConfig {
                port: 0,
                ..SmtpConfig::new("smtp.example.com")
            },
            "outbound_invalid_setting",
        ),
        (
            SmtpConfig {
                security: SmtpSecurity::None,
                username: Some("care".into()),
                password: Some(Secret::new("pw")),
                ..SmtpConfig::new("smtp.example.com")
            },
            "outbound_invalid_setting",
        ),
        (
            SmtpConfig {
                helo_name: Some("bad name\r\n".into()),
                ..SmtpConfig::new("smtp.example.com")
            },
            "outbound_invalid_setting",
        ),
    ];
    for (config, code) in cases {
        let err = Smtp::new(config.clone(), ts::http()).err();
        assert_eq!(err.map(|e| e.code()), Some(code), "{config:?}");
    }
    // The relay on this host may take a password without TLS.
    let local = SmtpConfig {
        security: SmtpSecurity::None,
        username: Some("care".into()),
        password: Some(Secret::new("pw")),
        ..SmtpConfig::new("localhost")
    };
    assert!(Smtp::new(local, ts::http()).is_ok());
    for secure in [SmtpSecurity::Starttls, SmtpSecurity::Tls] {
        let config = SmtpConfig {
            security: secure,
            ..SmtpConfig::new("smtp.example.com")
        };
        assert!(Smtp::new(config, ts::http()).is_ok(), "{secure:?}");
    }
}

#[test]
fn the_password_never_prints() {
    let config = SmtpConfig {
        username: Some("care@examplebrand.com".into()),
        password: Some(Secret::new("app-password-1")),
        ..SmtpConfig::new("smtp.example.com")
    };
    let printed = format!("{config:?}");
    assert!(!printed.contains("app-password-1"), "{printed}");
}
