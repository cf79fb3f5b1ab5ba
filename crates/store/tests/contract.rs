//! The store contract: one suite, run against every `Store` implementation. SQLite always
//! runs; further back ends join by adding a line to `backends()`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::case::{CaseContext, PlanMessage, plan_batch};
use sb_domain::{
    CaseId, CasePriority, CaseStatus, CustomerId, Enrichment, MessageId, NewMessage, Platform,
    SentimentLabel, Tier, Timestamp,
};
use serde_json::json;
use std::sync::Arc;
use switchboard_store::{
    CaseFilter, MessageFilter, MessageRecord, Page, PgStore, SqliteStore, Store, StoreError,
    hash_api_key,
};

/// SQLite always; PostgreSQL when `SWITCHBOARD_TEST_PG_URL` names a database. Each call gets
/// empty stores: a fresh file, and a fresh schema.
mod common;
use common::backends;

fn record(source: &str, ext: &str, handle: &str, text: &str) -> MessageRecord {
    let m = NewMessage::parse(
        json!({"source": source, "external_id": ext, "author": handle, "text": text}),
    )
    .unwrap();
    MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(1_000),
        message: m,
    }
}

fn enrichment(compound: f64) -> Enrichment {
    Enrichment {
        language: "en".into(),
        language_confidence: 1.0,
        sentiment_compound: compound,
        sentiment_label: if compound < -0.05 {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        },
        ..Enrichment::default()
    }
}

/// Runs the case stages the way the pipeline does.
async fn process(store: &dyn Store, ids: &[MessageId], compound: f64) -> Result<usize, StoreError> {
    process_with(store, ids, enrichment(compound)).await
}

async fn process_with(
    store: &dyn Store,
    ids: &[MessageId],
    e: Enrichment,
) -> Result<usize, StoreError> {
    let msgs = store.messages_for_processing(ids).await?;
    let planned: Vec<PlanMessage> = msgs
        .iter()
        .map(|m| PlanMessage::from_message(m, e.clone()))
        .collect();
    let ctx = store.case_context(&planned).await?;
    let q = store.default_queue().await?;
    let plan = plan_batch(&planned, ctx, &q.id, Timestamp(2_000));
    store.apply_case_plan(&plan, Timestamp(2_000)).await?;
    Ok(plan.placements.len())
}

#[tokio::test]
async fn append_is_idempotent_per_source_and_external_id() {
    for (name, store, _dir) in backends().await {
        let a = record("x", "1", "@ana", "hello");
        let b = record("x", "1", "@ana", "hello again");
        let c = record("facebook", "1", "@ana", "same id, other platform");
        let out = store.append_messages(&[a.clone(), b, c]).await.unwrap();
        assert!(
            !out[0].duplicate && out[1].duplicate && !out[2].duplicate,
            "{name}"
        );
        assert_eq!(
            out[1].id, out[0].id,
            "{name}: a duplicate answers the stored id"
        );
        let again = store
            .append_messages(&[record("x", "1", "@ana", "x")])
            .await
            .unwrap();
        assert_eq!(again[0].id, a.id, "{name}");
        assert!(again[0].duplicate);
        let stored = store.message(&a.id).await.unwrap().unwrap();
        assert_eq!(stored.text, "hello", "{name}: the first copy wins");
        assert_eq!(store.counts().await.unwrap().messages, 2, "{name}");
        // Read together, unknown ids left out, in arrival order whatever the asked order.
        let among = store
            .messages_among(&[out[2].id.clone(), MessageId::generate(), a.id.clone()])
            .await
            .unwrap();
        let texts: Vec<&str> = among.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["hello", "same id, other platform"], "{name}");
        assert!(
            store.messages_among(&[]).await.unwrap().is_empty(),
            "{name}"
        );
        // Listed newest first, filtered, and paged from a message id.
        let list = |filter: MessageFilter, before: Option<&MessageId>, limit: u32| {
            let store = store.clone();
            let page = Page {
                before: before.map(|b| b.to_string()),
                limit,
            };
            async move {
                let listed = store.list_messages(&filter, &page).await.unwrap();
                listed.into_iter().map(|m| m.text).collect::<Vec<_>>()
            }
        };
        let both = ["same id, other platform", "hello"];
        assert_eq!(
            list(MessageFilter::default(), None, 10).await,
            both,
            "{name}"
        );
        let received = MessageFilter {
            stage: Some("received".into()),
            ..MessageFilter::default()
        };
        assert_eq!(list(received, None, 10).await, both, "{name}");
        let facebook = MessageFilter {
            source: Some(Platform::Facebook),
            ..MessageFilter::default()
        };
        assert_eq!(list(facebook, None, 10).await, [both[0]], "{name}");
        let complaints = MessageFilter {
            intent: Some("complaint".into()),
            ..MessageFilter::default()
        };
        assert!(list(complaints, None, 10).await.is_empty(), "{name}");
        assert_eq!(
            list(MessageFilter::default(), None, 1).await,
            [both[0]],
            "{name}"
        );
        let after_first = list(MessageFilter::default(), Some(&out[2].id), 10).await;
        assert_eq!(after_first, [both[1]], "{name}");
        let unknown = MessageId::generate();
        assert!(
            list(MessageFilter::default(), Some(&unknown), 10)
                .await
                .is_empty(),
            "{name}"
        );
    }
}

/// Appends `recs` and answers their ids.
async fn appended(store: &dyn Store, recs: &[MessageRecord]) -> Vec<MessageId> {
    let out = store.append_messages(recs).await.unwrap();
    out.into_iter().map(|a| a.id).collect()
}

/// What listening waits for: the earliest `created_at` of the unprocessed messages that
/// arrived from a given time on, looking at no more than the oldest `scan` of them.
#[tokio::test]
async fn the_earliest_unprocessed_message_is_found_among_those_received_since() {
    for (name, store, _dir) in backends().await {
        assert_eq!(
            store.earliest_unprocessed(Timestamp(0), 10).await.unwrap(),
            None,
            "{name}"
        );
        // Written at 500, 300, 400; received at 1,000, 2,000, 3,000.
        let recs: Vec<MessageRecord> = [(500, 1_000), (300, 2_000), (400, 3_000)]
            .into_iter()
            .enumerate()
            .map(|(i, (created, received))| {
                let mut r = record("x", &format!("e{i}"), "@ana", "late parcel");
                r.message.created_at = Some(Timestamp(created));
                r.received_at = Timestamp(received);
                r
            })
            .collect();
        let ids = appended(store.as_ref(), &recs).await;
        let earliest = |since: i64, scan: u32| {
            let store = store.clone();
            async move {
                store
                    .earliest_unprocessed(Timestamp(since), scan)
                    .await
                    .unwrap()
                    .map(|t| t.0)
            }
        };
        assert_eq!(earliest(0, 10).await, Some(300), "{name}");
        // Received too long ago: the message written at 300 no longer counts.
        assert_eq!(earliest(2_500, 10).await, Some(400), "{name}");
        assert_eq!(earliest(3_001, 10).await, None, "{name}");
        // Only the oldest arrival is looked at.
        assert_eq!(earliest(0, 1).await, Some(500), "{name}");
        // Processed messages wait for nothing.
        assert_eq!(process(store.as_ref(), &ids[1..2], -0.7).await.unwrap(), 1);
        assert_eq!(earliest(0, 10).await, Some(400), "{name}");
        assert_eq!(process(store.as_ref(), &ids, -0.7).await.unwrap(), 2);
        assert_eq!(earliest(0, 10).await, None, "{name}");
    }
}

#[tokio::test]
async fn processing_threads_routes_and_is_done_once() {
    for (name, store, _dir) in backends().await {
        let recs = [
            record("x", "1", "@ana", "late parcel"),
            record("x", "2", "@ANA", "still late"),
            record("x", "3", "@bob", "hi"),
        ];
        let ids: Vec<_> = store
            .append_messages(&recs)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(
            store
                .unprocessed_messages(None, Timestamp(i64::MAX), 10)
                .await
                .unwrap(),
            ids,
            "{name}"
        );
        assert_eq!(process(store.as_ref(), &ids, -0.7).await.unwrap(), 3);
        // Replaying the same ids changes nothing.
        assert_eq!(
            process(store.as_ref(), &ids, -0.7).await.unwrap(),
            0,
            "{name}"
        );
        let counts = store.counts().await.unwrap();
        assert_eq!(
            (counts.customers, counts.cases, counts.unprocessed),
            (2, 2, 0),
            "{name}"
        );

        let ana = store.message(&ids[0]).await.unwrap().unwrap();
        for handle in ["@ana", "@Ana"] {
            let found = store.customer_with_identity(Platform::X, handle).await;
            assert_eq!(found.unwrap(), ana.customer_id, "{name}: {handle}");
        }
        for (platform, handle) in [(Platform::Facebook, "@ana"), (Platform::X, "@an")] {
            let found = store.customer_with_identity(platform, handle).await;
            assert_eq!(found.unwrap(), None, "{name}: {handle}");
        }
        let case = store
            .case(ana.case_id.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.message_count, 2, "{name}");
        assert_eq!(case.status, CaseStatus::New);
        assert_eq!(
            case.priority,
            CasePriority::High,
            "{name}: strongly negative"
        );
        assert_eq!(
            case.queue_id.as_ref(),
            Some(&store.default_queue().await.unwrap().id)
        );
        assert_eq!(store.case_messages(&case.id).await.unwrap().len(), 2);
        let customer = store.customer(&case.customer_id).await.unwrap().unwrap();
        assert_eq!(customer.identities.len(), 1);
        assert_eq!(customer.identities[0].platform, Platform::X);
        assert!(ana.enrichment.is_some());
    }
}

#[tokio::test]
async fn a_stale_plan_changes_nothing() {
    for (name, store, _dir) in backends().await {
        let ids: Vec<_> = store
            .append_messages(&[record("x", "1", "@ana", "hi")])
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        let msgs = store.messages_for_processing(&ids).await.unwrap();
        let planned = vec![PlanMessage {
            reach: Default::default(),
            id: msgs[0].id.clone(),
            source: Platform::X,
            channel: "x".into(),
            handle: "@ana".into(),
            author_name: None,
            region: None,
            in_reply_to: None,
            text: "hi".into(),
            created_at: Timestamp(1),
            enrichment: enrichment(0.0),
        }];
        let q = store.default_queue().await.unwrap();
        let first = plan_batch(&planned, CaseContext::default(), &q.id, Timestamp(5));
        let second = plan_batch(&planned, CaseContext::default(), &q.id, Timestamp(5));
        store.apply_case_plan(&first, Timestamp(5)).await.unwrap();
        assert!(
            matches!(
                store.apply_case_plan(&second, Timestamp(5)).await,
                Err(StoreError::Stale)
            ),
            "{name}"
        );
        let c = store.counts().await.unwrap();
        assert_eq!(
            (c.customers, c.cases),
            (1, 1),
            "{name}: the losing plan wrote nothing"
        );
    }
}

#[tokio::test]
async fn case_lists_filter_and_paginate_newest_first() {
    for (name, store, _dir) in backends().await {
        let recs: Vec<_> = (0..7)
            .map(|i| record("x", &i.to_string(), &format!("@c{i}"), "hello"))
            .collect();
        let ids: Vec<_> = store
            .append_messages(&recs)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        process(store.as_ref(), &ids, 0.0).await.unwrap();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store
                .list_cases(
                    &CaseFilter::default(),
                    &Page {
                        before: before.clone(),
                        limit: 3,
                    },
                )
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            before = Some(page.last().unwrap().id.to_string());
            seen.extend(page.into_iter().map(|c| c.id));
        }
        assert_eq!(seen.len(), 7, "{name}");
        assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "{name}: newest first, no repeats"
        );
        let urgent = CaseFilter {
            priority: Some(CasePriority::Urgent),
            ..CaseFilter::default()
        };
        assert!(
            store
                .list_cases(
                    &urgent,
                    &Page {
                        before: None,
                        limit: 10
                    }
                )
                .await
                .unwrap()
                .is_empty()
        );
        let one = store.case(&seen[0]).await.unwrap().unwrap();
        let by_customer = CaseFilter {
            customer_id: Some(one.customer_id.clone()),
            ..CaseFilter::default()
        };
        let got = store
            .list_cases(
                &by_customer,
                &Page {
                    before: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "{name}");
    }
}

#[tokio::test]
async fn case_lists_filter_by_platform_language_and_intent() {
    for (name, store, _dir) in backends().await {
        let x = [
            record("x", "1", "@ana", "Mein Paket ist nicht da"),
            record("x", "2", "@bo", "Wo ist mein Paket?"),
        ];
        let facebook = [record("facebook", "3", "@cy", "Where is my parcel?")];
        let german_complaint = Enrichment {
            language: "de".into(),
            intent: "complaint".into(),
            ..enrichment(-0.5)
        };
        let english_inquiry = Enrichment {
            intent: "inquiry".into(),
            ..enrichment(0.0)
        };
        let ids = |out: Vec<switchboard_store::Appended>| {
            out.into_iter().map(|a| a.id).collect::<Vec<_>>()
        };
        let x_ids = ids(store.append_messages(&x).await.unwrap());
        process_with(store.as_ref(), &x_ids[..1], german_complaint.clone())
            .await
            .unwrap();
        process_with(store.as_ref(), &x_ids[1..], english_inquiry.clone())
            .await
            .unwrap();
        let fb_ids = ids(store.append_messages(&facebook).await.unwrap());
        process_with(store.as_ref(), &fb_ids, english_inquiry)
            .await
            .unwrap();
        let count = |filter: CaseFilter| {
            let store = store.clone();
            async move {
                store
                    .list_cases(
                        &filter,
                        &Page {
                            before: None,
                            limit: 10,
                        },
                    )
                    .await
                    .unwrap()
                    .len()
            }
        };
        let on = |p: Platform| CaseFilter {
            source: Some(p),
            ..CaseFilter::default()
        };
        assert_eq!(count(on(Platform::X)).await, 2, "{name}");
        assert_eq!(count(on(Platform::Facebook)).await, 1, "{name}");
        assert_eq!(count(on(Platform::Email)).await, 0, "{name}");
        let in_language = |l: &str| CaseFilter {
            language: Some(l.into()),
            ..CaseFilter::default()
        };
        assert_eq!(count(in_language("de")).await, 1, "{name}");
        assert_eq!(count(in_language("en")).await, 2, "{name}");
        let with_intent = |i: &str| CaseFilter {
            intent: Some(i.into()),
            ..CaseFilter::default()
        };
        assert_eq!(count(with_intent("complaint")).await, 1, "{name}");
        assert_eq!(count(with_intent("inquiry")).await, 2, "{name}");
        assert_eq!(count(with_intent("praise")).await, 0, "{name}");
        // Filters narrow together.
        let both = CaseFilter {
            source: Some(Platform::X),
            intent: Some("inquiry".into()),
            ..CaseFilter::default()
        };
        assert_eq!(count(both).await, 1, "{name}");
    }
}

#[tokio::test]
async fn customers_and_case_works_read_together_match_one_at_a_time() {
    for (name, store, _dir) in backends().await {
        let ana = store
            .upsert_customer(
                Platform::X,
                "@ana",
                Some("Ana"),
                Tier::Vip,
                10.0,
                Timestamp(1),
                None,
            )
            .await
            .unwrap();
        store
            .link_identity(&ana, Platform::Facebook, "ana.fb", Timestamp(2))
            .await
            .unwrap();
        let bob = store
            .upsert_customer(
                Platform::X,
                "@bob",
                None,
                Tier::Standard,
                0.0,
                Timestamp(3),
                None,
            )
            .await
            .unwrap();
        let nobody = CustomerId::from_stored("cus_nobody".into());
        let mut found = store
            .customers_among(&[bob.clone(), nobody, ana.clone()])
            .await
            .unwrap();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        let mut one_by_one = vec![
            store.customer(&ana).await.unwrap().unwrap(),
            store.customer(&bob).await.unwrap().unwrap(),
        ];
        one_by_one.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(found, one_by_one, "{name}");
        assert_eq!(
            found.iter().map(|c| c.identities.len()).sum::<usize>(),
            3,
            "{name}: Ana's two identities and Bob's one"
        );
        assert!(store.customers_among(&[]).await.unwrap().is_empty());

        let recs = [
            record("x", "r1", "@ana", "late"),
            record("x", "r2", "@bob", "lost"),
        ];
        store.append_messages(&recs).await.unwrap();
        let ids: Vec<MessageId> = recs.iter().map(|r| r.id.clone()).collect();
        process(&*store, &ids, -0.5).await.unwrap();
        let mut cases = Vec::new();
        for id in &ids {
            cases.push(store.message(id).await.unwrap().unwrap().case_id.unwrap());
        }
        cases.push(CaseId::from_stored("cas_nobody".into()));
        let works = store.case_works(&cases).await.unwrap();
        assert_eq!(works.len(), 2, "{name}");
        for w in works {
            let alone = store.case_work(&w.case.id).await.unwrap().unwrap();
            assert_eq!(
                (w.version, w.case.id.clone(), w.case.customer_id.clone()),
                (
                    alone.version,
                    alone.case.id.clone(),
                    alone.case.customer_id.clone()
                ),
                "{name}"
            );
        }
        assert!(store.case_works(&[]).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_vip_keeps_their_profile_when_they_write() {
    for (name, store, _dir) in backends().await {
        let id = store
            .upsert_customer(
                Platform::X,
                "@Margot",
                Some("Margot"),
                Tier::Vip,
                9000.0,
                Timestamp(1),
                None,
            )
            .await
            .unwrap();
        let again = store
            .upsert_customer(
                Platform::X,
                "@margot",
                None,
                Tier::Vip,
                9500.0,
                Timestamp(2),
                None,
            )
            .await
            .unwrap();
        assert_eq!(id, again, "{name}: handles match case-insensitively");
        let ids: Vec<_> = store
            .append_messages(&[record("x", "9", "@margot", "furious")])
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        process(store.as_ref(), &ids, -0.5).await.unwrap();
        let m = store.message(&ids[0]).await.unwrap().unwrap();
        assert_eq!(m.customer_id.as_ref(), Some(&id), "{name}");
        let case = store
            .case(m.case_id.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.priority, CasePriority::Urgent, "{name}: an angry VIP");
        let c = store.customer(&id).await.unwrap().unwrap();
        assert_eq!(
            (c.tier, c.lifetime_value, c.display_name.as_deref()),
            (Tier::Vip, 9500.0, Some("Margot"))
        );
    }
}

#[tokio::test]
async fn api_keys_are_found_by_hash_only() {
    for (name, store, _dir) in backends().await {
        let hash = hash_api_key("sb_secret");
        store
            .create_api_key(&switchboard_store::NewApiKey {
                name: "ci".into(),
                key_hash: hash.clone(),
                role: "admin".into(),
                scopes: None,
                created_at: Timestamp(1),
                expires_at: None,
                regions: None,
            })
            .await
            .unwrap();
        let k = store.api_key_by_hash(&hash).await.unwrap().unwrap();
        assert_eq!(
            (k.name.as_str(), k.role.as_str()),
            ("ci", "admin"),
            "{name}"
        );
        assert!(
            store.api_key_by_hash("sb_secret").await.unwrap().is_none(),
            "{name}: the raw key is not stored"
        );
        store
            .upsert_user("admin", "$argon2id$x", "admin", Timestamp(1))
            .await
            .unwrap();
        assert_eq!(store.user("admin").await.unwrap().unwrap().role, "admin");
    }
}

#[tokio::test]
async fn reopening_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.db");
    {
        let s = SqliteStore::open(&path).await.unwrap();
        s.append_messages(&[record("x", "1", "@ana", "hi")])
            .await
            .unwrap();
    }
    let s = SqliteStore::open(&path).await.unwrap();
    assert_eq!(s.counts().await.unwrap().messages, 1);
}

/// Batches larger than any single statement: every row lands once, redeliveries inside the
/// batch and across calls answer the stored id, and many messages for one case add up.
#[tokio::test]
async fn large_batches_with_redeliveries_and_busy_cases_add_up() {
    for (name, store, _dir) in backends().await {
        // 150 messages from 10 authors, and 50 redeliveries of the first 50 in the same batch.
        let mut recs: Vec<MessageRecord> = (0..150)
            .map(|i| {
                record(
                    "x",
                    &format!("m{i}"),
                    &format!("@a{}", i % 10),
                    "where is my order",
                )
            })
            .collect();
        recs.extend((0..50).map(|i| record("x", &format!("m{i}"), "@a0", "again")));
        let out = store.append_messages(&recs).await.unwrap();
        assert_eq!(out.len(), 200, "{name}");
        for i in 0..150 {
            assert!(!out[i].duplicate, "{name}: {i}");
            assert_eq!(out[i].id, recs[i].id, "{name}: {i}");
        }
        for i in 0..50 {
            assert!(out[150 + i].duplicate, "{name}: {i}");
            assert_eq!(
                out[150 + i].id,
                recs[i].id,
                "{name}: redelivery {i} answers the stored id"
            );
        }
        // A call mixing new and redelivered messages, three: a statement's shape is a power
        // of two, so this one carries a row of padding.
        let mixed = [
            record("x", "m3", "@a3", "x"),
            record("x", "new-1", "@a3", "x"),
            record("x", "new-2", "@a4", "x"),
        ];
        let out2 = store.append_messages(&mixed).await.unwrap();
        assert!(
            out2[0].duplicate && !out2[1].duplicate && !out2[2].duplicate,
            "{name}"
        );
        assert_eq!(out2[0].id, recs[3].id);

        let mut ids: Vec<MessageId> = out[..150].iter().map(|a| a.id.clone()).collect();
        ids.extend(out2[1..].iter().map(|a| a.id.clone()));
        assert_eq!(
            process(store.as_ref(), &ids, -0.3).await.unwrap(),
            152,
            "{name}"
        );
        let counts = store.counts().await.unwrap();
        assert_eq!(
            (
                counts.messages,
                counts.unprocessed,
                counts.customers,
                counts.cases
            ),
            (152, 0, 10, 10),
            "{name}"
        );
        let cases = store
            .list_cases(
                &CaseFilter::default(),
                &Page {
                    before: None,
                    limit: 50,
                },
            )
            .await
            .unwrap();
        let total: i64 = cases.iter().map(|c| c.message_count).sum();
        assert_eq!(total, 152, "{name}");
        for c in &cases {
            assert_eq!(
                store.case_messages(&c.id).await.unwrap().len() as i64,
                c.message_count,
                "{name}"
            );
            assert!((c.last_sentiment.unwrap() - -0.3).abs() < 1e-9, "{name}");
        }
    }
}

/// Several processes starting at once against an empty PostgreSQL schema: every one of them
/// opens, and each migration is recorded once. (PostgreSQL only; `.ci/run` provides it.)
#[tokio::test]
async fn postgres_migrations_are_safe_with_concurrent_starts() {
    let Ok(url) = std::env::var("SWITCHBOARD_TEST_PG_URL") else {
        eprintln!("SWITCHBOARD_TEST_PG_URL not set; PostgreSQL not tested here");
        return;
    };
    let schema = format!("t_{}", ulid::Ulid::generate().to_string().to_lowercase());
    let opens = (0..4).map(|_| PgStore::open_in_schema(&url, &schema));
    let stores: Vec<PgStore> = futures_util::future::join_all(opens)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(stores.len(), 4);
    let q = stores[0].default_queue().await.unwrap();
    assert_eq!(stores[3].queues().await.unwrap(), vec![q]);
    // Two workers racing over the same batch: one plan lands, the other is stale, and every
    // message is placed exactly once.
    let s0: Arc<dyn Store> = Arc::new(stores.into_iter().next().unwrap());
    let recs: Vec<MessageRecord> = (0..40)
        .map(|i| {
            record(
                "x",
                &format!("r{i}"),
                &format!("@c{}", i % 7),
                "refund please",
            )
        })
        .collect();
    let ids: Vec<MessageId> = s0
        .append_messages(&recs)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    let other: Arc<dyn Store> = Arc::new(PgStore::open_in_schema(&url, &schema).await.unwrap());
    let (a, b) = tokio::join!(
        process(s0.as_ref(), &ids, -0.5),
        process(other.as_ref(), &ids, -0.5)
    );
    let placed = a.as_ref().map_or(0, |n| *n) + b.as_ref().map_or(0, |n| *n);
    assert_eq!(
        placed, 40,
        "exactly one worker placed the batch: {a:?} {b:?}"
    );
    let c = s0.counts().await.unwrap();
    assert_eq!(
        (c.messages, c.unprocessed, c.customers, c.cases),
        (40, 0, 7, 7)
    );
}

/// Everything the understanding stage found is stored with the message and read back as is.
#[tokio::test]
async fn the_full_understanding_is_stored_with_the_message() {
    for (name, store, _dir) in backends().await {
        let id = store
            .append_messages(&[record(
                "x",
                "u1",
                "@eve",
                "my card 4111 1111 1111 1111 was charged twice, I will sue",
            )])
            .await
            .unwrap()[0]
            .id
            .clone();
        let e = Enrichment {
            language: "en".into(),
            language_confidence: 0.93,
            sentiment_compound: -0.71,
            sentiment_label: SentimentLabel::Negative,
            intent: "complaint".into(),
            intent_confidence: 0.88,
            urgency: "critical".into(),
            urgency_reasons: vec!["legal_threat".into(), "anger".into()],
            emotion: "anger".into(),
            toxicity: 0.12,
            data_class: "sensitive".into(),
            pii: vec![sb_domain::PiiMark {
                kind: "payment_card".into(),
                start: 8,
                end: 27,
            }],
            watch: vec![sb_domain::WatchHit {
                list: "legal".into(),
                term: "sue".into(),
                start: 55,
                end: 58,
            }],
            topic: Some("billing".into()),
        };
        process_with(store.as_ref(), std::slice::from_ref(&id), e.clone())
            .await
            .unwrap();
        let m = store.message(&id).await.unwrap().unwrap();
        assert_eq!(m.enrichment.as_ref(), Some(&e), "{name}");
        let case = store
            .case(m.case_id.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            case.priority,
            CasePriority::Urgent,
            "{name}: critical urgency"
        );
    }
}

/// One alert per series, kind and bucket, however many processes raise it; newest first.
#[tokio::test]
async fn alerts_are_kept_once_per_series_kind_and_bucket() {
    for (name, store, _dir) in backends().await {
        let alert = |series: &str, bucket: i64| {
            sb_domain::Alert::detected(
                series,
                sb_domain::AlertKind::Spike,
                0.9,
                Timestamp(bucket),
                120,
                Some(-0.4),
                Timestamp(bucket + 300_000),
            )
        };
        // Ids order by creation time at millisecond resolution.
        let tick = || std::thread::sleep(std::time::Duration::from_millis(3));
        let first = alert("all", 0);
        tick();
        assert!(store.insert_alert(&first).await.unwrap(), "{name}");
        assert!(
            !store.insert_alert(&alert("all", 0)).await.unwrap(),
            "{name}: same bucket again"
        );
        let second = alert("platform:x", 0);
        tick();
        let third = alert("all", 300_000);
        assert!(store.insert_alert(&second).await.unwrap());
        assert!(store.insert_alert(&third).await.unwrap());
        let page = store
            .list_alerts(&Page {
                before: None,
                limit: 2,
            })
            .await
            .unwrap();
        assert_eq!(page, vec![third.clone(), second.clone()], "{name}");
        let rest = store
            .list_alerts(&Page {
                before: Some(second.id.to_string()),
                limit: 2,
            })
            .await
            .unwrap();
        assert_eq!(rest, vec![first], "{name}");
    }
}

#[tokio::test]
async fn edits_and_removals_keep_every_earlier_text() {
    use sb_domain::{Revised, Revision, RevisionKind};
    for (name, store, _dir) in backends().await {
        let a = record("facebook", "c1", "@ana", "my order is late");
        store
            .append_messages(std::slice::from_ref(&a))
            .await
            .unwrap();
        let edit = Revision::Edit {
            text: "my order is very late".into(),
        };
        let out = store
            .revise_message(Platform::Facebook, "c1", &edit, Timestamp(5_000))
            .await
            .unwrap();
        assert_eq!(out, Revised::Applied(a.id.clone()), "{name}");
        let again = store
            .revise_message(Platform::Facebook, "c1", &edit, Timestamp(6_000))
            .await
            .unwrap();
        assert_eq!(
            again,
            Revised::Unchanged(a.id.clone()),
            "{name}: a redelivered edit changes nothing"
        );
        let unknown = store
            .revise_message(Platform::X, "c1", &Revision::Remove, Timestamp(6_000))
            .await
            .unwrap();
        assert_eq!(
            unknown,
            Revised::Unknown,
            "{name}: source is part of the key"
        );

        let m = store.message(&a.id).await.unwrap().unwrap();
        assert_eq!(m.text, "my order is very late", "{name}");
        assert_eq!(m.edited_at, Some(Timestamp(5_000)), "{name}");
        assert_eq!(m.removed_at, None, "{name}");

        for at in [7_000, 8_000] {
            store
                .revise_message(Platform::Facebook, "c1", &Revision::Remove, Timestamp(at))
                .await
                .unwrap();
        }
        let m = store.message(&a.id).await.unwrap().unwrap();
        assert_eq!(
            m.removed_at,
            Some(Timestamp(7_000)),
            "{name}: the first removal counts"
        );
        assert_eq!(m.text, "my order is very late", "{name}: the record stays");

        let revs = store.message_revisions(&a.id).await.unwrap();
        let summary: Vec<_> = revs
            .iter()
            .map(|r| (r.revision, r.kind, r.previous_text.as_str(), r.recorded_at))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, RevisionKind::Edit, "my order is late", Timestamp(5_000)),
                (
                    2,
                    RevisionKind::Remove,
                    "my order is very late",
                    Timestamp(7_000)
                ),
            ],
            "{name}"
        );
        // A duplicate delivery of the original does not undo the edit.
        let dup = store
            .append_messages(&[record("facebook", "c1", "@ana", "my order is late")])
            .await
            .unwrap();
        assert!(dup[0].duplicate, "{name}");
        let m = store.message(&a.id).await.unwrap().unwrap();
        assert_eq!(m.text, "my order is very late", "{name}");
    }
}

fn outgoing(target: &str, key: &str) -> sb_domain::NewOutboxItem {
    sb_domain::NewOutboxItem {
        target: target.into(),
        dedup_key: key.into(),
        payload: json!({"summary": key}),
        subject: Some(format!("about-{key}")),
    }
}

fn attempt(n: u32, at: i64, outcome: &str, error: Option<&str>) -> sb_domain::DeliveryAttempt {
    sb_domain::DeliveryAttempt {
        attempt: n,
        at: Timestamp(at),
        outcome: outcome.into(),
        status_code: Some(503),
        error: error.map(str::to_owned),
        duration_ms: 12,
    }
}

#[tokio::test]
async fn the_outbox_enqueues_once_leases_retries_and_keeps_a_log() {
    use sb_domain::{AfterAttempt, OutboxStatus};
    for (name, store, _dir) in backends().await {
        let first = store
            .enqueue(
                &[outgoing("pagerduty", "k1"), outgoing("slack", "k2")],
                Timestamp(1_000),
            )
            .await
            .unwrap();
        let again = store
            .enqueue(&[outgoing("pagerduty", "k1")], Timestamp(1_500))
            .await
            .unwrap();
        assert_eq!(
            again,
            vec![(first[0].0.clone(), true)],
            "{name}: same key, same item"
        );
        assert!(!first[0].1 && !first[1].1, "{name}");

        // Nothing is due before it was created; then both are leased, once.
        assert!(
            store
                .claim_outbox(Timestamp(999), 10, 30_000)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let claimed = store
            .claim_outbox(Timestamp(2_000), 10, 30_000)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2, "{name}");
        assert!(claimed.iter().all(|i| i.attempts == 1), "{name}");
        assert!(
            store
                .claim_outbox(Timestamp(3_000), 10, 30_000)
                .await
                .unwrap()
                .is_empty(),
            "{name}: leased items are not handed out twice"
        );
        let pd = first[0].0.clone();
        let slack = first[1].0.clone();
        store
            .finish_attempt(
                &pd,
                &attempt(1, 3_000, "retry", Some("503")),
                &AfterAttempt::RetryAt(Timestamp(10_000)),
            )
            .await
            .unwrap();
        store
            .finish_attempt(
                &slack,
                &attempt(1, 3_000, "permanent", Some("channel_not_found")),
                &AfterAttempt::Dead,
            )
            .await
            .unwrap();
        assert!(
            store
                .claim_outbox(Timestamp(9_999), 10, 30_000)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );

        // A paused target keeps its items until it is active again.
        let paused = sb_domain::TargetState {
            target: "pagerduty".into(),
            status: "reauthorization_required".into(),
            since: Timestamp(9_000),
            reason: Some("401".into()),
        };
        store.set_target_state(&paused).await.unwrap();
        assert!(
            store
                .claim_outbox(Timestamp(20_000), 10, 30_000)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        store
            .set_target_state(&sb_domain::TargetState {
                status: "active".into(),
                ..paused
            })
            .await
            .unwrap();
        let retry = store
            .claim_outbox(Timestamp(20_000), 10, 30_000)
            .await
            .unwrap();
        assert_eq!((retry.len(), retry[0].attempts), (1, 2), "{name}");
        store
            .finish_attempt(
                &pd,
                &attempt(2, 20_100, "delivered", None),
                &AfterAttempt::Delivered {
                    remote_id: Some("r-1".into()),
                },
            )
            .await
            .unwrap();
        // A late finish of an item already delivered changes nothing.
        store
            .finish_attempt(
                &pd,
                &attempt(1, 20_200, "retry", Some("late")),
                &AfterAttempt::Dead,
            )
            .await
            .unwrap();

        let pd_item = store.outbox_item(&pd).await.unwrap().unwrap();
        assert_eq!(pd_item.status, OutboxStatus::Delivered, "{name}");
        assert_eq!(pd_item.remote_id.as_deref(), Some("r-1"), "{name}");
        assert_eq!(pd_item.delivered_at, Some(Timestamp(20_100)), "{name}");
        let log: Vec<_> = store
            .delivery_log(&pd)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.attempt, a.outcome))
            .collect();
        assert_eq!(
            log,
            vec![(1, "retry".to_owned()), (2, "delivered".to_owned())],
            "{name}"
        );
        let page = Page {
            before: None,
            limit: 10,
        };
        let dead = store
            .list_outbox(Some(OutboxStatus::Dead), &page)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1, "{name}");
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("channel_not_found"),
            "{name}"
        );
        assert_eq!(
            store.list_outbox(None, &page).await.unwrap().len(),
            2,
            "{name}"
        );
        let targets = store.target_states().await.unwrap();
        assert_eq!(targets[0].status, "active", "{name}");

        let about = store.outbox_for_subject("about-k1").await.unwrap();
        assert_eq!(about.len(), 1, "{name}");
        assert_eq!(about[0].id, pd, "{name}");
        assert!(
            store.outbox_for_subject("case_x").await.unwrap().is_empty(),
            "{name}"
        );
        let stats = store.outbox_stats(Timestamp(0)).await.unwrap();
        let pd_stats = stats.iter().find(|s| s.target == "pagerduty").unwrap();
        assert_eq!(
            (
                pd_stats.pending,
                pd_stats.dead,
                pd_stats.attempts,
                pd_stats.failures
            ),
            (0, 0, 2, 1),
            "{name}"
        );
        assert_eq!(pd_stats.last_attempt_at, Some(Timestamp(20_100)), "{name}");
        let slack_stats = stats.iter().find(|s| s.target == "slack").unwrap();
        assert_eq!((slack_stats.dead, slack_stats.failures), (1, 1), "{name}");
        let recent = store.outbox_stats(Timestamp(10_000)).await.unwrap();
        assert_eq!(
            recent
                .iter()
                .find(|s| s.target == "pagerduty")
                .unwrap()
                .attempts,
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn inbound_stats_and_raw_messages() {
    for (name, store, _dir) in backends().await {
        let mut a = record("x", "r1", "@ana", "hello");
        a.message.raw =
            json!({"source": "x", "external_id": "r1", "author_id": "42", "account": "acme"});
        let mut b = record("facebook", "r2", "@bob", "hi");
        b.received_at = Timestamp(9_000);
        store.append_messages(&[a.clone(), b]).await.unwrap();
        let raw = store.message_raw(&a.id).await.unwrap().unwrap();
        assert_eq!(raw["author_id"], "42", "{name}");
        assert!(
            store
                .message_raw(&MessageId::generate())
                .await
                .unwrap()
                .is_none()
        );
        let stats = store.inbound_stats(Timestamp(5_000)).await.unwrap();
        let got: Vec<_> = stats
            .iter()
            .map(|s| (s.source.as_str(), s.last_received_at, s.recent))
            .collect();
        assert_eq!(
            got,
            vec![
                ("facebook", Some(Timestamp(9_000)), 1),
                ("x", Some(Timestamp(1_000)), 0)
            ],
            "{name}"
        );
    }
}

#[tokio::test]
async fn concurrent_dispatchers_never_lease_the_same_item() {
    for (name, store, _dir) in backends().await {
        let items: Vec<_> = (0..200)
            .map(|i| outgoing("webhook", &format!("c{i}")))
            .collect();
        store.enqueue(&items, Timestamp(1_000)).await.unwrap();
        let claims = (0..4).map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let batch = s.claim_outbox(Timestamp(2_000), 7, 60_000).await.unwrap();
                    if batch.is_empty() {
                        return got;
                    }
                    got.extend(batch.into_iter().map(|i| i.id));
                }
            })
        });
        // Spawned before any is awaited, so that the dispatchers run at once.
        let claims: Vec<_> = claims.collect();
        let mut all = Vec::new();
        for c in claims {
            all.extend(c.await.unwrap());
        }
        let unique: std::collections::HashSet<_> = all.iter().cloned().collect();
        assert_eq!((all.len(), unique.len()), (200, 200), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_of_one_handle_make_one_customer() {
    for (name, store, _dir) in backends().await {
        // Eight writers at once per handle, as several pipeline processes or imports would
        // be: each must come back with the same customer, and the store must hold one.
        for h in 0..10 {
            let handle = format!("@same_person_{h}");
            let start = Arc::new(tokio::sync::Barrier::new(8));
            let upserts = (0..8).map(|i| {
                let (s, handle, start) = (store.clone(), handle.clone(), start.clone());
                tokio::spawn(async move {
                    // Each writer holds a connection before they all go at once.
                    s.counts().await.unwrap();
                    start.wait().await;
                    s.upsert_customer(
                        Platform::X,
                        &handle,
                        Some(&format!("Name {i}")),
                        Tier::Standard,
                        0.0,
                        Timestamp(1_000 + i),
                        None,
                    )
                    .await
                })
            });
            // Spawned before any is awaited, so that they run at once.
            let upserts: Vec<_> = upserts.collect();
            let mut ids = std::collections::HashSet::new();
            for u in upserts {
                ids.insert(u.await.unwrap().unwrap());
            }
            assert_eq!(ids.len(), 1, "{name} {handle}");
            let id = ids.into_iter().next().unwrap();
            let customer = store.customer(&id).await.unwrap().unwrap();
            assert_eq!(customer.identities.len(), 1, "{name} {handle}");
        }
        assert_eq!(store.counts().await.unwrap().customers, 10, "{name}");
    }
}

fn record_at(source: &str, ext: &str, handle: &str, created_at: &str) -> MessageRecord {
    let m = NewMessage::parse(json!({
        "source": source, "external_id": ext, "author": handle,
        "text": "still waiting for my refund", "created_at": created_at,
    }))
    .unwrap();
    MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(1_000),
        message: m,
    }
}

#[tokio::test]
async fn linked_identities_share_a_case_across_platforms_within_a_session() {
    use switchboard_store::IdentityLink;
    for (name, store, _dir) in backends().await {
        let ana = store
            .upsert_customer(
                Platform::X,
                "@ana",
                Some("Ana"),
                Tier::Vip,
                10.0,
                Timestamp(1),
                None,
            )
            .await
            .unwrap();
        let bob = store
            .upsert_customer(
                Platform::X,
                "@bob",
                None,
                Tier::Standard,
                0.0,
                Timestamp(1),
                None,
            )
            .await
            .unwrap();
        let link = |c: sb_domain::CustomerId, p: Platform, h: &'static str| {
            let store = store.clone();
            async move { store.link_identity(&c, p, h, Timestamp(2)).await.unwrap() }
        };
        assert_eq!(
            link(ana.clone(), Platform::Email, "Ana@Example.org").await,
            IdentityLink::Linked,
            "{name}"
        );
        assert_eq!(
            link(ana.clone(), Platform::Email, "ana@example.org").await,
            IdentityLink::AlreadyLinked,
            "{name}"
        );
        assert_eq!(
            link(ana.clone(), Platform::X, "@bob").await,
            IdentityLink::Elsewhere(bob.clone()),
            "{name}"
        );
        let ghost = sb_domain::CustomerId::generate();
        assert_eq!(
            link(ghost, Platform::Email, "x@example.org").await,
            IdentityLink::NoSuchCustomer,
            "{name}"
        );

        // A tweet, then an e-mail two hours later: one conversation, one case.
        let tweet = record_at("x", "t1", "@ana", "2026-11-23T08:00:00Z");
        let mail = record_at(
            "email",
            "m1@example.org",
            "ana@example.org",
            "2026-11-23T10:00:00Z",
        );
        // Two days later a new e-mail starts a new conversation.
        let later = record_at(
            "email",
            "m2@example.org",
            "ana@example.org",
            "2026-11-25T10:00:00Z",
        );
        for r in [&tweet, &mail, &later] {
            store
                .append_messages(std::slice::from_ref(r))
                .await
                .unwrap();
            process(store.as_ref(), std::slice::from_ref(&r.id), -0.4)
                .await
                .unwrap();
        }
        let case_of = |id: &MessageId| {
            let store = store.clone();
            let id = id.clone();
            async move { store.message(&id).await.unwrap().unwrap() }
        };
        let (t, m, l) = (
            case_of(&tweet.id).await,
            case_of(&mail.id).await,
            case_of(&later.id).await,
        );
        assert_eq!(t.customer_id, Some(ana.clone()), "{name}");
        assert_eq!(
            m.customer_id,
            Some(ana.clone()),
            "{name}: the linked address is Ana"
        );
        assert_eq!(m.case_id, t.case_id, "{name}: same session, same case");
        assert_eq!(l.customer_id, Some(ana), "{name}");
        assert_ne!(
            l.case_id, t.case_id,
            "{name}: a new session opens a new case"
        );
        let case = store
            .case(t.case_id.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.message_count, 2, "{name}");
    }
}

#[tokio::test]
async fn rule_alerts_resolve_by_episode_and_incidents_guard_concurrent_edits() {
    use sb_domain::{Alert, AlertKind, Incident, IncidentStatus, Severity};
    for (name, store, _dir) in backends().await {
        let mut a = Alert::detected(
            "watch:products:X200",
            AlertKind::Rule,
            14.0,
            Timestamp(300_000),
            14,
            Some(-0.6),
            Timestamp(600_000),
        );
        a.rule_id = Some("x200-complaints".into());
        a.severity = Some("critical".into());
        a.dedup_key = Some("x200-complaints/watch:products:X200/300000".into());
        a.summary = Some("X200 complaints above 10 per 5 minutes".into());
        assert!(store.insert_alert(&a).await.unwrap(), "{name}");
        let back = store.alert(&a.id).await.unwrap().unwrap();
        assert_eq!(back, a, "{name}");
        let key = a.dedup_key.as_deref().unwrap();
        assert!(
            store
                .resolve_alert(key, Timestamp(1_200_000))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .resolve_alert(key, Timestamp(1_500_000))
                .await
                .unwrap(),
            "{name}: once"
        );
        let back = store.alert(&a.id).await.unwrap().unwrap();
        assert_eq!(back.resolved_at, Some(Timestamp(1_200_000)), "{name}");

        let mut inc = Incident::from_alert(&a, Severity::Critical, "ops@acme", Timestamp(700_000));
        store
            .insert_incident(&inc, Timestamp(700_000))
            .await
            .unwrap();
        let (mut mine, v) = store.incident(&inc.id).await.unwrap().unwrap();
        assert_eq!(mine, inc, "{name}");
        let (mut theirs, v2) = store.incident(&inc.id).await.unwrap().unwrap();
        assert_eq!(v, v2);
        mine.transition(IncidentStatus::Acknowledged, "ana", Timestamp(710_000))
            .unwrap();
        assert!(
            store
                .update_incident(&mine, v, Timestamp(710_000))
                .await
                .unwrap(),
            "{name}"
        );
        theirs.note("looking", "bob", Timestamp(711_000)).unwrap();
        assert!(
            !store
                .update_incident(&theirs, v2, Timestamp(711_000))
                .await
                .unwrap(),
            "{name}: a stale edit is refused, not lost silently"
        );
        let (now, v3) = store.incident(&inc.id).await.unwrap().unwrap();
        assert_eq!(now.status, IncidentStatus::Acknowledged, "{name}");
        assert_eq!(v3, v + 1, "{name}");
        inc = Incident::open(
            "Checkout outage",
            Severity::Error,
            "ops@acme",
            Timestamp(800_000),
        );
        std::thread::sleep(std::time::Duration::from_millis(3));
        store
            .insert_incident(&inc, Timestamp(800_000))
            .await
            .unwrap();
        let page = Page {
            before: None,
            limit: 10,
        };
        let list = store.list_incidents(&page).await.unwrap();
        assert_eq!(list.len(), 2, "{name}");
        assert_eq!(list[0].id, inc.id, "{name}: newest first");
        let next = Page {
            before: Some(list[0].id.to_string()),
            limit: 10,
        };
        assert_eq!(
            store.list_incidents(&next).await.unwrap().len(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn items_about_one_subject_leave_in_order() {
    use sb_domain::AfterAttempt;
    for (name, store, _dir) in backends().await {
        let mut trigger = outgoing("pagerduty", "inc-1:trigger");
        let mut resolve = outgoing("pagerduty", "inc-1:resolve");
        let mut other = outgoing("slack", "inc-1:trigger:slack");
        for i in [&mut trigger, &mut resolve, &mut other] {
            i.subject = Some("inc_1".into());
        }
        let ids = store
            .enqueue(&[trigger, resolve, other], Timestamp(1_000))
            .await
            .unwrap();
        let first = store
            .claim_outbox(Timestamp(2_000), 10, 60_000)
            .await
            .unwrap();
        let got: Vec<_> = first.iter().map(|i| i.id.clone()).collect();
        assert_eq!(got.len(), 2, "{name}: the resolve waits behind its trigger");
        assert!(got.contains(&ids[0].0) && got.contains(&ids[2].0), "{name}");
        // The trigger fails and is retried later: the resolve still waits.
        store
            .finish_attempt(
                &ids[0].0,
                &attempt(1, 2_000, "retry", Some("503")),
                &AfterAttempt::RetryAt(Timestamp(5_000)),
            )
            .await
            .unwrap();
        assert!(
            store
                .claim_outbox(Timestamp(3_000), 10, 60_000)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let again = store
            .claim_outbox(Timestamp(5_000), 10, 60_000)
            .await
            .unwrap();
        assert_eq!(again.len(), 1, "{name}");
        assert_eq!(again[0].id, ids[0].0, "{name}");
        store
            .finish_attempt(
                &ids[0].0,
                &attempt(2, 5_000, "delivered", None),
                &AfterAttempt::Delivered { remote_id: None },
            )
            .await
            .unwrap();
        let last = store
            .claim_outbox(Timestamp(5_001), 10, 60_000)
            .await
            .unwrap();
        assert_eq!(last.len(), 1, "{name}");
        assert_eq!(last[0].id, ids[1].0, "{name}");
    }
}

#[tokio::test]
async fn a_reanalysis_replaces_enrichment_and_cases_follow() {
    for (name, store, _dir) in backends().await {
        let a = record("x", "ra1", "@ana", "meh");
        let b = record("x", "ra2", "@ana", "still meh");
        let unprocessed = record("x", "ra3", "@zed", "later");
        store
            .append_messages(&[a.clone(), b.clone(), unprocessed.clone()])
            .await
            .unwrap();
        process(store.as_ref(), &[a.id.clone(), b.id.clone()], 0.0)
            .await
            .unwrap();
        assert_eq!(
            store.recompute_case_aggregates().await.unwrap(),
            0,
            "{name}: consistent"
        );

        let page = store.processed_messages(None, 1).await.unwrap();
        assert_eq!(page.len(), 1, "{name}");
        let rest = store
            .processed_messages(Some(&page[0].id), 10)
            .await
            .unwrap();
        assert_eq!(rest.len(), 1, "{name}: the unprocessed one is not included");

        let mut e = enrichment(-0.8);
        e.watch = vec![sb_domain::WatchHit {
            list: "products".into(),
            term: "X200".into(),
            start: 0,
            end: 4,
        }];
        let changed = store
            .update_enrichments(&[(b.id.clone(), e.clone()), (unprocessed.id.clone(), e)])
            .await
            .unwrap();
        assert_eq!(
            changed, 1,
            "{name}: only processed messages are re-analysed"
        );
        let m = store.message(&b.id).await.unwrap().unwrap();
        let got = m.enrichment.unwrap();
        assert_eq!(
            (got.sentiment_compound, got.watch.len()),
            (-0.8, 1),
            "{name}"
        );
        assert_eq!(
            store.recompute_case_aggregates().await.unwrap(),
            1,
            "{name}"
        );
        let case = store
            .case(m.case_id.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.last_sentiment, Some(-0.8), "{name}");
        assert_eq!(case.message_count, 2, "{name}");
    }
}

#[tokio::test]
async fn status_facts_keep_the_latest_observation() {
    use sb_domain::{FactKind, OpsFact};
    for (name, store, _dir) in backends().await {
        let fact = |available: u64, observed: i64| OpsFact {
            kind: FactKind::Inventory,
            subject: "X200".into(),
            region: "eu-west".into(),
            value: json!({"available": available}),
            source: "erp".into(),
            source_time: Timestamp(observed),
            received_at: Timestamp(50_000),
        };
        let out = store.upsert_facts(&[fact(5, 10_000)]).await.unwrap();
        assert_eq!(out, vec![true], "{name}");
        // A late report of an older observation does not win.
        let out = store
            .upsert_facts(&[fact(99, 9_000), fact(0, 20_000)])
            .await
            .unwrap();
        assert_eq!(out, vec![false, true], "{name}");
        let other = OpsFact {
            kind: FactKind::ServiceStatus,
            subject: "checkout".into(),
            region: "*".into(),
            value: json!({"status": "outage"}),
            ..fact(0, 20_000)
        };
        store.upsert_facts(&[other]).await.unwrap();
        let held = store
            .facts(Some(FactKind::Inventory), None, None)
            .await
            .unwrap();
        assert_eq!(held.len(), 1, "{name}");
        assert_eq!(held[0].value["available"], 0, "{name}");
        assert_eq!(held[0].source_time, Timestamp(20_000), "{name}");
        assert_eq!(
            store.facts(None, None, None).await.unwrap().len(),
            2,
            "{name}"
        );
        assert_eq!(
            store
                .facts(None, Some("checkout"), Some("*"))
                .await
                .unwrap()
                .len(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn case_works_save_together_and_one_that_does_not_hold_leaves_nothing() {
    use sb_domain::CaseChange;
    use switchboard_store::CaseSave;
    for (name, store, _dir) in backends().await {
        let recs = [
            record("x", "b1", "@ana", "my order is late"),
            record("x", "b2", "@bob", "my parcel is lost"),
            record("x", "b3", "@cy", "refund please"),
        ];
        store.append_messages(&recs).await.unwrap();
        let ids: Vec<MessageId> = recs.iter().map(|r| r.id.clone()).collect();
        process(&*store, &ids, -0.5).await.unwrap();
        let items = store
            .claim_case_work(Timestamp(10_000), 10, 5_000)
            .await
            .unwrap();
        assert_eq!(items.len(), 3, "{name}");
        let mut works = Vec::new();
        for item in &items {
            works.push(store.case_work(&item.case_id).await.unwrap().unwrap());
        }
        let batch_change = |i: usize, version_of: &sb_domain::CaseWork| {
            let mut c = CaseChange::from_work(version_of, Timestamp(13_000));
            c.tags = vec!["batch".into()];
            c.done = vec![items[i].seq];
            c.event(
                "tagged",
                "system",
                Timestamp(13_000),
                json!({"tag": "batch"}),
            );
            c
        };
        // Case 2 moves on before the batch is saved: the batch's change was decided on an
        // older version.
        let mut moved = CaseChange::from_work(&works[1], Timestamp(12_000));
        moved.tags = vec!["agent".into()];
        assert_eq!(store.save_case_work(&moved).await.unwrap(), CaseSave::Saved);
        // Case 3's work item was carried out by someone else, at the version the batch reads:
        // its case row would update, so the savepoint must undo it.
        let mut done = CaseChange::from_work(&works[2], Timestamp(12_000));
        done.done = vec![items[2].seq];
        assert_eq!(store.save_case_work(&done).await.unwrap(), CaseSave::Saved);
        let third = store.case_work(&items[2].case_id).await.unwrap().unwrap();
        let changes = [
            batch_change(0, &works[0]),
            batch_change(1, &works[1]),
            batch_change(2, &third),
        ];
        assert_eq!(
            store.save_case_works(&changes).await.unwrap(),
            vec![CaseSave::Saved, CaseSave::Changed, CaseSave::AlreadyDone],
            "{name}"
        );
        let tags = |w: sb_domain::CaseWork| (w.version, w.case.tags);
        assert_eq!(
            tags(store.case_work(&items[0].case_id).await.unwrap().unwrap()),
            (1, vec!["batch".to_owned()]),
            "{name}"
        );
        assert_eq!(
            tags(store.case_work(&items[1].case_id).await.unwrap().unwrap()),
            (1, vec!["agent".to_owned()]),
            "{name}"
        );
        assert_eq!(
            tags(store.case_work(&items[2].case_id).await.unwrap().unwrap()),
            (1, Vec::<String>::new()),
            "{name}"
        );
        for (i, want) in [(0, 1), (1, 0), (2, 0)] {
            let events = store.case_events(&items[i].case_id).await.unwrap();
            let tagged = events.iter().filter(|e| e.kind == "tagged").count();
            assert_eq!(tagged, want, "{name}: case {i}: {events:?}");
        }
        // Case 2's item is still owed and is worked again from the case as it stands.
        assert_eq!(store.pending_case_work().await.unwrap(), 1, "{name}");
        assert!(store.save_case_works(&[]).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn case_work_is_leased_saved_once_and_guarded_by_version() {
    use sb_domain::CaseChange;
    use switchboard_store::CaseSave;
    for (name, store, _dir) in backends().await {
        let a = record("x", "w1", "@ana", "my order is late");
        let b = record("x", "w2", "@ana", "still late");
        store
            .append_messages(&[a.clone(), b.clone()])
            .await
            .unwrap();
        process(&*store, &[a.id.clone(), b.id.clone()], -0.5)
            .await
            .unwrap();
        assert_eq!(store.pending_case_work().await.unwrap(), 2, "{name}");
        // One process leases both items; a second sees none until the lease runs out.
        let items = store
            .claim_case_work(Timestamp(10_000), 10, 5_000)
            .await
            .unwrap();
        assert_eq!(items.len(), 2, "{name}");
        assert!(items[0].opened && !items[1].opened, "{name}");
        assert_eq!(items[0].case_id, items[1].case_id);
        assert!(
            store
                .claim_case_work(Timestamp(12_000), 10, 5_000)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let work = store.case_work(&items[0].case_id).await.unwrap().unwrap();
        assert_eq!((work.version, work.case.status), (0, CaseStatus::New));
        let mut change = CaseChange::from_work(&work, Timestamp(13_000));
        change.status = CaseStatus::Open;
        change.tags = vec!["late".into()];
        change.sla_due_at = Some(Timestamp(20_000));
        change.done = items.iter().map(|i| i.seq).collect();
        change.event(
            "status_changed",
            "agent",
            Timestamp(13_000),
            json!({"to": "open"}),
        );
        change.events[0].dedup = Some("k1".into());
        assert_eq!(
            store.save_case_work(&change).await.unwrap(),
            CaseSave::Saved
        );
        // The same change again: the case moved on, and its work is done.
        assert_eq!(
            store.save_case_work(&change).await.unwrap(),
            CaseSave::Changed
        );
        let again = store.case_work(&items[0].case_id).await.unwrap().unwrap();
        let mut late = CaseChange::from_work(&again, Timestamp(14_000));
        late.done = vec![items[0].seq];
        assert_eq!(
            store.save_case_work(&late).await.unwrap(),
            CaseSave::AlreadyDone
        );
        // A duplicate event key is stored once.
        let mut dup = CaseChange::from_work(&again, Timestamp(14_000));
        dup.event("status_changed", "agent", Timestamp(13_000), json!({}));
        dup.events[0].dedup = Some("k1".into());
        dup.sla_due_at = Some(Timestamp(20_000));
        assert_eq!(store.save_case_work(&dup).await.unwrap(), CaseSave::Saved);
        let events = store.case_events(&items[0].case_id).await.unwrap();
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        assert_eq!(store.pending_case_work().await.unwrap(), 0);
        let case = store.case(&items[0].case_id).await.unwrap().unwrap();
        assert_eq!(
            (case.status, case.tags.clone()),
            (CaseStatus::Open, vec!["late".to_owned()])
        );
        // The sweep finds it once due, not before.
        assert!(
            store
                .due_cases(Timestamp(19_999), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.due_cases(Timestamp(20_000), 10).await.unwrap(),
            vec![case.id.clone()]
        );
        // Waiting cases come most urgent first; assigned ones do not wait.
        assert_eq!(store.waiting_cases(10).await.unwrap().len(), 1, "{name}");
        let w = store.case_work(&case.id).await.unwrap().unwrap();
        let mut assign = CaseChange::from_work(&w, Timestamp(15_000));
        assign.assignee = Some("ana-agent".into());
        assert_eq!(
            store.save_case_work(&assign).await.unwrap(),
            CaseSave::Saved
        );
        assert!(store.waiting_cases(10).await.unwrap().is_empty());
        assert_eq!(
            store.agent_loads().await.unwrap(),
            vec![("ana-agent".to_owned(), 1)]
        );
        store
            .set_presence("ana-agent", "online", Timestamp(1))
            .await
            .unwrap();
        store
            .set_presence("ana-agent", "away", Timestamp(2))
            .await
            .unwrap();
        assert_eq!(
            store.presences().await.unwrap(),
            vec![("ana-agent".to_owned(), "away".to_owned())]
        );
        let queues = store
            .ensure_queues(&["de-night".into(), "general".into()])
            .await
            .unwrap();
        assert_eq!(
            queues.len(),
            2,
            "{name}: the default queue is not created twice"
        );
    }
}

#[tokio::test]
async fn label_corrections_are_one_per_message_and_task_and_counted() {
    use switchboard_store::{LabelCorrection, LabelPosition};
    for (name, store, _dir) in backends().await {
        let (a, b) = (MessageId::generate(), MessageId::generate());
        let fix = |m: &MessageId, task: &str, label: &str, at: i64| LabelCorrection {
            message_id: m.clone(),
            task: task.into(),
            label: label.into(),
            previous: (task == "intent").then(|| "other".to_owned()),
            corrected_by: "user:ana".into(),
            corrected_at: Timestamp(at),
        };
        store
            .put_label(&fix(&a, "intent", "praise", 1))
            .await
            .unwrap();
        store
            .put_label(&fix(&a, "topic", "billing", 2))
            .await
            .unwrap();
        store
            .put_label(&fix(&b, "topic", "delivery", 3))
            .await
            .unwrap();
        // A later correction of the same message and task replaces the earlier one.
        store
            .put_label(&fix(&a, "intent", "complaint", 4))
            .await
            .unwrap();
        assert_eq!(
            store.labels_of(&a).await.unwrap(),
            vec![
                fix(&a, "intent", "complaint", 4),
                fix(&a, "topic", "billing", 2)
            ],
            "{name}"
        );
        assert_eq!(
            store.labels_for_task("topic", None, 10).await.unwrap(),
            vec![
                fix(&a, "topic", "billing", 2),
                fix(&b, "topic", "delivery", 3)
            ],
            "{name}: oldest first"
        );
        let first = store.labels_for_task("topic", None, 1).await.unwrap();
        assert_eq!(first, vec![fix(&a, "topic", "billing", 2)], "{name}");
        let after = LabelPosition::of(&first[0]);
        assert_eq!(
            LabelPosition::parse_cursor(&after.to_cursor()),
            Some(after.clone())
        );
        assert_eq!(
            store
                .labels_for_task("topic", Some(&after), 10)
                .await
                .unwrap(),
            vec![fix(&b, "topic", "delivery", 3)],
            "{name}: the page after the first"
        );
        let last = LabelPosition::of(&fix(&b, "topic", "delivery", 3));
        assert!(
            store
                .labels_for_task("topic", Some(&last), 10)
                .await
                .unwrap()
                .is_empty(),
            "{name}: nothing after the last"
        );
        // Two corrections made in the same millisecond are told apart by their message.
        let twin = fix(&b, "topic", "delivery", 2);
        store.put_label(&twin).await.unwrap();
        let tied = store.labels_for_task("topic", None, 1).await.unwrap();
        let rest = store
            .labels_for_task("topic", Some(&LabelPosition::of(&tied[0])), 10)
            .await
            .unwrap();
        assert_eq!(tied.len() + rest.len(), 2, "{name}: {tied:?} {rest:?}");
        assert_ne!(tied[0].message_id, rest[0].message_id, "{name}");
        store
            .put_label(&fix(&b, "topic", "delivery", 3))
            .await
            .unwrap();
        let mut many: Vec<MessageId> = (0..1_200).map(|_| MessageId::generate()).collect();
        many.insert(700, b.clone());
        many.insert(3, a.clone());
        let mut expected = vec![
            fix(&a, "intent", "complaint", 4),
            fix(&a, "topic", "billing", 2),
            fix(&b, "topic", "delivery", 3),
        ];
        expected.sort_by(|x, y| {
            (x.message_id.as_str(), &x.task).cmp(&(y.message_id.as_str(), &y.task))
        });
        assert_eq!(
            store.labels_of_messages(&many).await.unwrap(),
            expected,
            "{name}: across chunks of the id list"
        );
        assert!(store.labels_of_messages(&[]).await.unwrap().is_empty());
        let counts: Vec<(String, String, u64)> = store
            .label_counts()
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.task, c.label, c.examples))
            .collect();
        assert_eq!(
            counts,
            vec![
                ("intent".into(), "complaint".into(), 1),
                ("topic".into(), "billing".into(), 1),
                ("topic".into(), "delivery".into(), 1),
            ],
            "{name}"
        );
        assert!(store.remove_label(&a, "topic").await.unwrap(), "{name}");
        assert!(!store.remove_label(&a, "topic").await.unwrap(), "{name}");
        assert_eq!(
            store.labels_for_task("topic", None, 10).await.unwrap(),
            vec![fix(&b, "topic", "delivery", 3)],
            "{name}"
        );
    }
}
