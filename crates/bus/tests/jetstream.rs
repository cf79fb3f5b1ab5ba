//! The JetStream bus against a real NATS server (`SWITCHBOARD_TEST_NATS_URL`, which `.ci/run`
//! sets). Each test uses a stream of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use switchboard_bus::{Bus, JetStreamBus};

async fn bus(ack_wait: Duration) -> Option<(JetStreamBus, String)> {
    let Ok(url) = std::env::var("SWITCHBOARD_TEST_NATS_URL") else {
        eprintln!("SWITCHBOARD_TEST_NATS_URL not set; JetStream not tested here");
        return None;
    };
    let name = format!("T{}", ulid::Ulid::generate());
    Some((
        JetStreamBus::connect_with(&url, &name, ack_wait)
            .await
            .unwrap(),
        name,
    ))
}

async fn drain(sub: &mut Box<dyn switchboard_bus::Subscription>, ack: bool) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let batch = sub
            .next_batch(50, Duration::from_millis(300))
            .await
            .unwrap();
        if batch.is_empty() {
            return got;
        }
        for d in batch {
            got.push(String::from_utf8(d.payload.to_vec()).unwrap());
            if ack {
                d.ack().await.unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_group_shares_events_and_each_is_delivered_once() {
    let Some((bus, _)) = bus(Duration::from_secs(30)).await else {
        return;
    };
    for i in 0..120 {
        bus.publish(
            "messages.received",
            &format!("x:@c{}", i % 9),
            Bytes::from(format!("m{i}")),
        )
        .await
        .unwrap();
    }
    let mut a = bus
        .subscribe("messages.received", "pipeline")
        .await
        .unwrap();
    let mut b = bus
        .subscribe("messages.received", "pipeline")
        .await
        .unwrap();
    let (ga, gb) = tokio::join!(drain(&mut a, true), drain(&mut b, true));
    let all: HashSet<String> = ga.iter().chain(gb.iter()).cloned().collect();
    assert_eq!(ga.len() + gb.len(), 120, "no event twice");
    assert_eq!(all.len(), 120, "every event once");
    // Another group sees everything again, independently.
    let mut other = bus
        .subscribe("messages.received", "analytics")
        .await
        .unwrap();
    assert_eq!(drain(&mut other, true).await.len(), 120);
    // Keys travel with the event.
    bus.publish("messages.received", "x:@ana", Bytes::from_static(b"k"))
        .await
        .unwrap();
    let d = a.next_batch(1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(d[0].key, "x:@ana");
}

#[tokio::test]
async fn unacknowledged_events_come_back_and_nak_redelivers_after_the_delay() {
    let Some((bus, _)) = bus(Duration::from_secs(1)).await else {
        return;
    };
    for i in 0..5 {
        bus.publish("s", "k", Bytes::from(format!("e{i}")))
            .await
            .unwrap();
    }
    let mut sub = bus.subscribe("s", "g").await.unwrap();
    // A worker takes the events and dies without acking.
    let first = drain(&mut sub, false).await;
    assert_eq!(first.len(), 5);
    // After ack_wait another member gets them again.
    let mut again = bus.subscribe("s", "g").await.unwrap();
    let t = Instant::now();
    let mut redelivered = Vec::new();
    while redelivered.len() < 5 && t.elapsed() < Duration::from_secs(10) {
        for d in again
            .next_batch(10, Duration::from_millis(500))
            .await
            .unwrap()
        {
            redelivered.push(String::from_utf8(d.payload.to_vec()).unwrap());
            if redelivered.len() == 1 {
                d.nak(Duration::from_millis(700)).await.unwrap();
            } else {
                d.ack().await.unwrap();
            }
        }
    }
    assert_eq!(redelivered.len(), 5, "{redelivered:?}");
    // The nak'ed one returns after its delay, and once acked is gone for good.
    let t = Instant::now();
    let back = again.next_batch(10, Duration::from_secs(5)).await.unwrap();
    assert_eq!(back.len(), 1);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        String::from_utf8(back[0].payload.to_vec()).unwrap(),
        redelivered[0]
    );
    back.into_iter().next().unwrap().ack().await.unwrap();
    assert!(
        again
            .next_batch(10, Duration::from_millis(1500))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn events_outlive_the_publisher_connection() {
    let Some((bus, name)) = bus(Duration::from_secs(30)).await else {
        return;
    };
    for i in 0..10 {
        bus.publish("s", "k", Bytes::from(format!("e{i}")))
            .await
            .unwrap();
    }
    drop(bus);
    let url = std::env::var("SWITCHBOARD_TEST_NATS_URL").unwrap();
    let bus = JetStreamBus::connect_with(&url, &name, Duration::from_secs(30))
        .await
        .unwrap();
    let mut sub = bus.subscribe("s", "g").await.unwrap();
    let got = drain(&mut sub, true).await;
    assert_eq!(
        got,
        (0..10).map(|i| format!("e{i}")).collect::<Vec<_>>(),
        "in publish order"
    );
}
