//! The in-process bus: bounded tokio channels, one per consumer group. It is not durable —
//! in the embedded deployment durability comes from the store, which re-feeds every message
//! not yet processed after a restart — but it is bounded, so a burst slows publishers down
//! instead of growing memory.

use crate::{Acker, Bus, BusError, Delivery, Subscription};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

pub const DEFAULT_CAPACITY: usize = 16_384;

type Event = (String, String, Bytes);

struct Group {
    tx: mpsc::Sender<Event>,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Event>>>,
}

pub struct MemoryBus {
    capacity: usize,
    /// subject → group name → channel
    groups: Mutex<HashMap<String, HashMap<String, Arc<Group>>>>,
}

impl MemoryBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            groups: Mutex::new(HashMap::new()),
        }
    }

    fn senders(&self, subject: &str) -> Vec<mpsc::Sender<Event>> {
        let groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        groups
            .get(subject)
            .map(|g| g.values().map(|g| g.tx.clone()).collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, subject: &str, key: &str, payload: Bytes) -> Result<(), BusError> {
        for tx in self.senders(subject) {
            tx.send((subject.to_owned(), key.to_owned(), payload.clone()))
                .await
                .map_err(|_| BusError::Closed)?;
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        subject: &str,
        group: &str,
    ) -> Result<Box<dyn Subscription>, BusError> {
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        let g = groups
            .entry(subject.to_owned())
            .or_default()
            .entry(group.to_owned())
            .or_insert_with(|| {
                let (tx, rx) = mpsc::channel(self.capacity);
                Arc::new(Group {
                    tx,
                    rx: Arc::new(tokio::sync::Mutex::new(rx)),
                })
            })
            .clone();
        Ok(Box::new(MemorySubscription { group: g }))
    }
}

struct MemorySubscription {
    group: Arc<Group>,
}

struct MemoryAcker {
    redeliver: mpsc::Sender<Event>,
    event: Event,
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(&self) -> Result<(), BusError> {
        Ok(())
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        let tx = self.redeliver.clone();
        let ev = self.event.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(ev).await;
        });
        Ok(())
    }
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next_batch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, BusError> {
        let mut rx = self.group.rx.lock().await;
        let first = match tokio::time::timeout(wait, rx.recv()).await {
            Err(_) => return Ok(Vec::new()),
            Ok(None) => return Err(BusError::Closed),
            Ok(Some(ev)) => ev,
        };
        let tx = self.group.tx.clone();
        let deliver = |ev: Event| {
            let acker = MemoryAcker {
                redeliver: tx.clone(),
                event: ev.clone(),
            };
            Delivery::new(ev.0, ev.1, ev.2, Box::new(acker))
        };
        let mut out = Vec::with_capacity(max.min(256));
        out.push(deliver(first));
        while out.len() < max {
            match rx.try_recv() {
                Ok(ev) => out.push(deliver(ev)),
                Err(_) => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_group_shares_events_and_each_group_sees_all() {
        let bus = MemoryBus::new(16);
        let mut a1 = bus.subscribe("messages", "pipeline").await.unwrap();
        let mut a2 = bus.subscribe("messages", "pipeline").await.unwrap();
        let mut b = bus.subscribe("messages", "metrics").await.unwrap();
        for i in 0..4 {
            bus.publish("messages", &i.to_string(), Bytes::from(vec![i]))
                .await
                .unwrap();
        }
        let got1 = a1.next_batch(2, Duration::from_millis(50)).await.unwrap();
        let got2 = a2.next_batch(10, Duration::from_millis(50)).await.unwrap();
        assert_eq!(got1.len() + got2.len(), 4);
        let keys: Vec<_> = got1.iter().chain(&got2).map(|d| d.key.clone()).collect();
        assert_eq!(keys, ["0", "1", "2", "3"], "publish order is kept");
        assert_eq!(
            b.next_batch(10, Duration::from_millis(50))
                .await
                .unwrap()
                .len(),
            4
        );
    }

    #[tokio::test]
    async fn a_nak_redelivers() {
        let bus = MemoryBus::new(4);
        let mut s = bus.subscribe("s", "g").await.unwrap();
        bus.publish("s", "k", Bytes::from_static(b"x"))
            .await
            .unwrap();
        let d = s
            .next_batch(1, Duration::from_millis(50))
            .await
            .unwrap()
            .pop()
            .unwrap();
        d.nak(Duration::from_millis(1)).await.unwrap();
        let again = s.next_batch(1, Duration::from_millis(200)).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(&again[0].payload[..], b"x");
    }

    #[tokio::test]
    async fn a_full_group_applies_backpressure() {
        let bus = MemoryBus::new(1);
        let _s = bus.subscribe("s", "g").await.unwrap();
        bus.publish("s", "k", Bytes::new()).await.unwrap();
        let blocked = tokio::time::timeout(
            Duration::from_millis(50),
            bus.publish("s", "k", Bytes::new()),
        )
        .await;
        assert!(
            blocked.is_err(),
            "the second publish waits for the consumer"
        );
    }
}
