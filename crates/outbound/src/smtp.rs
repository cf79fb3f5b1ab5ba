//! E-mail over SMTP: an answer in a customer's e-mail thread.
//!
//! | `Reply` field | becomes |
//! |---------------|---------|
//! | `account`     | `From` and the envelope sender: our mailbox |
//! | `recipient`   | `To` and the envelope recipient: the customer |
//! | `subject`     | `Subject`, with `Re: ` in front unless it already starts with it |
//! | `in_reply_to` | `In-Reply-To`, and the last entry of `References` |
//! | `references`  | the start of `References` |
//! | `text`        | a `text/plain; charset=utf-8` body, quoted-printable |
//!
//! `Message-ID` is `<outbox item id@our mailbox's domain>`: the same on every attempt, so a
//! receiving server or the customer's client can drop the copy a retry delivers after an
//! answer was lost. Header values holding CR or LF are refused before any connection, so a
//! subject or id can never add a header (`Bcc:`) of its own.
//!
//! One SMTP session per send (greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT), the
//! whole dialogue bounded by `timeout_ms`. Reply codes decide the outcome: 4xx and a
//! connection that fails or stalls retry, 530/534/535/538 or any 5xx to AUTH pause the
//! mailbox, any other 5xx drops the item. `Outcome::status` carries the SMTP reply code.
//! This module never pools connections and never reads mail; inbound e-mail is the
//! connectors' business.

use std::net::IpAddr;
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use serde::Deserialize;

use crate::http::{BuildError, Http, Secret};
use crate::item::{Outgoing, Payload};
use crate::outcome::Outcome;
use crate::sender::Sender;

mod letter;

use letter::{Letter, compose};

pub const DEFAULT_PORT: u16 = 587;
/// Longest one whole SMTP session may take, unless configured otherwise.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Reply codes that mean our credentials, not this message, are the problem: authentication
/// required (530), mechanism too weak (534), credentials invalid (535), encryption required
/// for the mechanism (538).
const AUTH_CODES: &[u16] = &[530, 534, 535, 538];

/// How the session is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connect, then STARTTLS before anything else; a server that does not offer it
    /// is refused (submission, port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (implicit TLS, port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network, and for tests.
    None,
}

/// `[outbound.smtp]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Set both or neither.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// The whole session, connect to QUIT.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The name we give in EHLO; the domain of the sending mailbox without one.
    #[serde(default)]
    pub helo_name: Option<String>,
}

fn default_port() -> u16 {
    DEFAULT_PORT
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

impl SmtpConfig {
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: DEFAULT_PORT,
            security: SmtpSecurity::default(),
            username: None,
            password: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            helo_name: None,
        }
    }
}

pub struct Smtp {
    http: Http,
    host: String,
    port: u16,
    security: SmtpSecurity,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    timeout: Duration,
    helo_name: Option<String>,
}

/// The part of the session a failure happened in: the same reply code means something else
/// during AUTH than after it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connect,
    Auth,
    Send,
}

impl Stage {
    fn doing(self) -> &'static str {
        match self {
            Self::Connect => "connecting",
            Self::Auth => "authenticating",
            Self::Send => "sending",
        }
    }
}

impl Smtp {
    pub fn new(config: SmtpConfig, http: Http) -> Result<Self, BuildError> {
        let host = config.host.trim().to_owned();
        if host.is_empty() {
            return Err(BuildError::Missing("outbound.smtp.host"));
        }
        if config.port == 0 {
            return Err(BuildError::Invalid {
                field: "outbound.smtp.port",
                reason: "port 0 cannot be connected to".into(),
            });
        }
        let username = config
            .username
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        let password = config.password.filter(|p| !p.is_empty());
        let credentials = match (username, password) {
            (Some(user), Some(password)) => Some(Credentials::new(user, password.expose().into())),
            (None, None) => None,
            (Some(_), None) => return Err(BuildError::Missing("outbound.smtp.password")),
            (None, Some(_)) => return Err(BuildError::Missing("outbound.smtp.username")),
        };
        if config.security == SmtpSecurity::None && credentials.is_some() && !is_loopback(&host) {
            return Err(BuildError::Invalid {
                field: "outbound.smtp.security",
                reason: "`none` would send the password in clear; it is allowed with \
                         credentials only for a relay on this host"
                    .into(),
            });
        }
        let tls = match config.security {
            SmtpSecurity::None => None,
            SmtpSecurity::Starttls | SmtpSecurity::Tls => {
                // Same provider as the HTTPS client; installing it twice is harmless.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let params =
                    TlsParameters::new_rustls(host.clone()).map_err(|e| BuildError::Invalid {
                        field: "outbound.smtp.host",
                        reason: format!("TLS cannot be set up for it: {e}"),
                    })?;
                Some(params)
            }
        };
        let helo_name = config
            .helo_name
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        if helo_name.as_deref().is_some_and(|n| !is_plain_domain(n)) {
            return Err(BuildError::Invalid {
                field: "outbound.smtp.helo_name",
                reason: "a host name of letters, digits, `-` and `.` is expected".into(),
            });
        }
        Ok(Self {
            http,
            host,
            port: config.port,
            security: config.security,
            tls,
            credentials,
            timeout: Duration::from_millis(config.timeout_ms.max(1)),
            helo_name,
        })
    }

    /// One SMTP session. `Ok` is the reply code to the end of DATA.
    async fn deliver(&self, letter: &Letter) -> Result<u16, Outcome> {
        let hello = ClientId::Domain(match &self.helo_name {
            Some(name) => name.clone(),
            None => letter
                .message
                .envelope()
                .from()
                .map_or_else(|| "localhost".to_owned(), |a| a.domain().to_owned()),
        });
        let implicit_tls = match self.security {
            SmtpSecurity::Tls => self.tls.clone(),
            SmtpSecurity::Starttls | SmtpSecurity::None => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &hello,
            implicit_tls,
            None,
        )
        .await
        .map_err(|e| classify(Stage::Connect, &e))?;

        if self.security == SmtpSecurity::Starttls {
            let Some(tls) = self.tls.clone().filter(|_| conn.can_starttls()) else {
                conn.abort().await;
                return Err(Outcome::Reauthorize {
                    status: None,
                    error: "the mail server does not offer STARTTLS; refusing to send in clear"
                        .into(),
                });
            };
            if let Err(e) = conn.starttls(tls, &hello).await {
                conn.abort().await;
                return Err(classify(Stage::Connect, &e));
            }
        }
        if let Some(credentials) = &self.credentials
            && let Err(e) = conn
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
        {
            conn.abort().await;
            return Err(classify(Stage::Auth, &e));
        }
        let bytes = letter.message.formatted();
        let accepted = conn
            .send(letter.message.envelope(), &bytes)
            .await
            .map_err(|e| classify(Stage::Send, &e))?;
        // The message is queued once DATA is accepted; a failed goodbye changes nothing.
        let _ = conn.quit().await;
        Ok(u16::from(accepted.code()))
    }
}

#[async_trait::async_trait]
impl Sender for Smtp {
    fn kind(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, item: &Outgoing) -> Outcome {
        let Payload::Reply(reply) = &item.payload else {
            return Outcome::unsupported(format!(
                "smtp sends customer replies, not a {}",
                item.payload.kind()
            ));
        };
        let letter = match compose(&item.id, reply, self.http.now_unix_s()) {
            Ok(l) => l,
            Err(why) => return Outcome::unsupported(why),
        };
        match tokio::time::timeout(self.timeout, self.deliver(&letter)).await {
            Ok(Ok(status)) => Outcome::Delivered {
                status,
                remote_id: Some(letter.message_id),
            },
            Ok(Err(outcome)) => outcome,
            Err(_) => Outcome::Retry {
                status: None,
                after: None,
                error: format!(
                    "the SMTP session with {}:{} took longer than {} ms",
                    self.host,
                    self.port,
                    self.timeout.as_millis()
                ),
            },
        }
    }
}

/// RFC 5321 reply codes: 4xx is transient by definition; 5xx is final, and during AUTH (or
/// one of [`AUTH_CODES`] anywhere) it is the mailbox's credentials that failed, not the
/// message. Failures without a code are the connection's (refused, reset, TLS, garbled
/// answer) and retry, except a client-side refusal: during AUTH no mechanism fits, while
/// sending the server lacks an extension this message needs.
fn classify(stage: Stage, e: &lettre::transport::smtp::Error) -> Outcome {
    let error = format!("smtp failed while {}: {e}", stage.doing());
    match e.status().map(u16::from) {
        Some(code @ 400..=499) => Outcome::Retry {
            status: Some(code),
            after: None,
            error,
        },
        Some(code) if stage == Stage::Auth || AUTH_CODES.contains(&code) => Outcome::Reauthorize {
            status: Some(code),
            error,
        },
        Some(code) => Outcome::Permanent {
            status: Some(code),
            error,
        },
        None if e.is_client() && stage == Stage::Auth => Outcome::Reauthorize {
            status: None,
            error,
        },
        None if e.is_client() && stage == Stage::Send => Outcome::Permanent {
            status: None,
            error,
        },
        None => Outcome::Retry {
            status: None,
            after: None,
            error,
        },
    }
}

fn is_plain_domain(s: &str) -> bool {
    s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests;
