//! The scaled-out bus: NATS JetStream. Events are persisted in one file-backed stream before
//! `publish` returns; each consumer group is a durable pull consumer that any number of
//! processes share, with explicit acks, redelivery after `ack_wait` when a worker dies, and a
//! delayed redelivery on `nak`.
//!
//! Subjects are `sb.<subject>.<partition>`, the partition being a hash of the event key, so a
//! consumer can be narrowed to a partition set when per-key ordering across workers matters.

use crate::{Acker, Bus, BusError, Delivery, Subscription};
use async_nats::jetstream::{self, AckKind, consumer, stream};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use std::time::Duration;

/// Name of the stream that holds every Switchboard event.
pub const STREAM: &str = "SWITCHBOARD";
/// Partitions per subject.
pub const PARTITIONS: u32 = 16;
/// How long a delivered event may stay unacknowledged before another worker gets it.
pub const ACK_WAIT: Duration = Duration::from_secs(30);

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

/// FNV-1a: stable across processes and releases, unlike the standard hasher.
fn partition(key: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % PARTITIONS
}

/// Subject tokens may not hold `.`, `*`, `>` or whitespace.
fn token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub struct JetStreamBus {
    js: jetstream::Context,
    stream: stream::Stream,
    ack_wait: Duration,
    prefix: String,
}

impl JetStreamBus {
    /// Connects to `nats://…` and makes sure the stream exists.
    pub async fn connect(url: &str) -> Result<Self, BusError> {
        Self::connect_with(url, STREAM, ACK_WAIT).await
    }

    /// As `connect`, with a stream of its own name (e.g. one per installation or test) and a
    /// chosen redelivery delay.
    pub async fn connect_with(
        url: &str,
        stream_name: &str,
        ack_wait: Duration,
    ) -> Result<Self, BusError> {
        let client = async_nats::connect(url).await.map_err(unavailable)?;
        let js = jetstream::new(client);
        let prefix = format!("sb.{}", token(stream_name).to_lowercase());
        let stream = js
            .get_or_create_stream(stream::Config {
                name: token(stream_name),
                subjects: vec![format!("{prefix}.>")],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: Duration::from_secs(7 * 24 * 3600),
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        Ok(Self {
            js,
            stream,
            ack_wait,
            prefix,
        })
    }
}

#[async_trait]
impl Bus for JetStreamBus {
    fn shared(&self) -> bool {
        true
    }

    async fn publish(&self, subject: &str, key: &str, payload: Bytes) -> Result<(), BusError> {
        let subject = format!("{}.{}.{}", self.prefix, token(subject), partition(key));
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Sb-Key", key);
        self.js
            .publish_with_headers(subject, headers, payload)
            .await
            .map_err(unavailable)?
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn subscribe(
        &self,
        subject: &str,
        group: &str,
    ) -> Result<Box<dyn Subscription>, BusError> {
        let name = format!("{}-{}", token(group), token(subject));
        let consumer = self
            .stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject: format!("{}.{}.>", self.prefix, token(subject)),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.ack_wait,
                    deliver_policy: consumer::DeliverPolicy::All,
                    max_ack_pending: 20_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(unavailable)?;
        Ok(Box::new(JetStreamSubscription {
            consumer,
            subject: subject.to_owned(),
        }))
    }
}

struct JetStreamSubscription {
    consumer: consumer::PullConsumer,
    subject: String,
}

impl JetStreamSubscription {
    fn delivery(&self, m: jetstream::Message) -> Delivery {
        let key = m
            .headers
            .as_ref()
            .and_then(|h| h.get("Sb-Key"))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        let payload = m.payload.clone();
        Delivery::new(
            self.subject.clone(),
            key,
            payload,
            Box::new(JetStreamAcker(m)),
        )
    }
}

#[async_trait]
impl Subscription for JetStreamSubscription {
    async fn next_batch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        // Wait for a first event, then take whatever else is already there.
        let mut first = self
            .consumer
            .batch()
            .max_messages(1)
            .expires(wait)
            .messages()
            .await
            .map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(m) = first.next().await {
            out.push(self.delivery(m.map_err(unavailable)?));
        }
        if out.is_empty() || max <= 1 {
            return Ok(out);
        }
        let mut rest = self
            .consumer
            .fetch()
            .max_messages(max - out.len())
            .messages()
            .await
            .map_err(unavailable)?;
        while let Some(m) = rest.next().await {
            out.push(self.delivery(m.map_err(unavailable)?));
        }
        Ok(out)
    }
}

struct JetStreamAcker(jetstream::Message);

#[async_trait]
impl Acker for JetStreamAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.0.ack().await.map_err(unavailable)
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.0
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        assert_eq!(partition("x:@ana"), partition("x:@ana"));
        let used: std::collections::HashSet<u32> =
            (0..200).map(|i| partition(&format!("x:@c{i}"))).collect();
        assert!(used.len() > PARTITIONS as usize / 2);
        assert!(used.iter().all(|p| *p < PARTITIONS));
    }

    #[test]
    fn subject_tokens_are_safe() {
        assert_eq!(token("messages.received"), "messages_received");
        assert_eq!(token("a b*>c"), "a_b__c");
    }
}
