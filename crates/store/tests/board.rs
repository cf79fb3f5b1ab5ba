//! The web UI's read models on every back end (I2): the inbox lists cases still being worked,
//! newest first, filtered by platform, sentiment, intent, status and assignment, with each
//! case's SLA clocks and latest intent; the dashboard counts messages per bucket by platform
//! and intent, averages sentiment, and gives the backlog and the cases' first responses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::case::{PlanMessage, plan_batch};
use sb_domain::{
    CaseChange, CaseId, CaseStatus, Enrichment, MessageId, NewMessage, Platform, SentimentLabel,
    Timestamp,
};
use serde_json::json;
use switchboard_store::{InboxFilter, MessageRecord, Page, SentimentBand, Store};

mod common;
use common::backends;

const HOUR: i64 = 3_600_000;
/// 2026-11-23T00:00:00Z.
const MONDAY: i64 = 1_795_392_000_000;

/// One message stored and placed as the pipeline places it, with its understanding.
async fn arrive(
    store: &dyn Store,
    source: &str,
    handle: &str,
    text: &str,
    at: i64,
    mood: f64,
    intent: &str,
) -> CaseId {
    let m = NewMessage::parse(json!({
        "source": source, "external_id": ulid::Ulid::generate().to_string(),
        "author": {"handle": handle}, "text": text, "created_at": Timestamp(at).to_rfc3339(),
    }))
    .unwrap();
    let record = MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(at),
        message: m,
    };
    store
        .append_messages(std::slice::from_ref(&record))
        .await
        .unwrap();
    let m = store
        .messages_for_processing(std::slice::from_ref(&record.id))
        .await
        .unwrap()
        .remove(0);
    let planned = [PlanMessage {
        reach: Default::default(),
        id: m.id.clone(),
        source: m.source,
        channel: m.channel.clone(),
        handle: m.author.handle.clone(),
        author_name: None,
        region: None,
        in_reply_to: None,
        text: m.text.clone(),
        created_at: m.created_at,
        enrichment: Enrichment {
            language: "en".into(),
            language_confidence: 1.0,
            sentiment_compound: mood,
            sentiment_label: SentimentLabel::Neutral,
            intent: intent.into(),
            ..Enrichment::default()
        },
    }];
    let ctx = store.case_context(&planned).await.unwrap();
    let q = store.default_queue().await.unwrap();
    let plan = plan_batch(&planned, ctx, &q.id, m.received_at);
    store.apply_case_plan(&plan, m.received_at).await.unwrap();
    store
        .message(&record.id)
        .await
        .unwrap()
        .unwrap()
        .case_id
        .unwrap()
}

fn page(limit: u32) -> Page {
    Page {
        before: None,
        limit,
    }
}

async fn ids(store: &dyn Store, filter: InboxFilter) -> Vec<CaseId> {
    store
        .inbox(&filter, &page(50))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.case.id)
        .collect()
}

#[tokio::test]
async fn the_inbox_filters_cases_being_worked_and_carries_their_clocks_and_intent() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let late = arrive(
            store,
            "x",
            "@ana",
            "Where is my parcel?!",
            MONDAY,
            -0.6,
            "complaint",
        )
        .await;
        let praise = arrive(
            store,
            "email",
            "bo@example.com",
            "Great service",
            MONDAY + HOUR,
            0.7,
            "praise",
        )
        .await;
        let question = arrive(
            store,
            "x",
            "@cy",
            "Do you ship to Oslo?",
            MONDAY + 2 * HOUR,
            0.0,
            "inquiry",
        )
        .await;

        let all = ids(store, InboxFilter::default()).await;
        assert_eq!(
            all,
            vec![question.clone(), praise.clone(), late.clone()],
            "{name}: newest first"
        );
        let on_x = ids(
            store,
            InboxFilter {
                source: Some(Platform::X),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(on_x, vec![question.clone(), late.clone()], "{name}");
        let negative = ids(
            store,
            InboxFilter {
                sentiment: Some(SentimentBand::Negative),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(negative, vec![late.clone()], "{name}");
        let neutral = ids(
            store,
            InboxFilter {
                sentiment: Some(SentimentBand::Neutral),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(neutral, vec![question.clone()], "{name}");
        let praised = ids(
            store,
            InboxFilter {
                intent: Some("praise".into()),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(praised, vec![praise.clone()], "{name}");
        let english = ids(
            store,
            InboxFilter {
                language: Some("en".into()),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(english.len(), 3, "{name}");

        // Paging: the cursor is the last id of the previous page.
        let first = store
            .inbox(&InboxFilter::default(), &page(2))
            .await
            .unwrap();
        let rest = store
            .inbox(
                &InboxFilter::default(),
                &Page {
                    before: Some(first[1].case.id.to_string()),
                    limit: 2,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            rest.iter().map(|r| r.case.id.clone()).collect::<Vec<_>>(),
            vec![late.clone()],
            "{name}"
        );
        assert_eq!(first[0].intent.as_deref(), Some("inquiry"), "{name}");

        // A worked case: assigned, with clocks; a resolved one leaves the default inbox.
        let clocks = json!({"policy": "social", "clocks": []});
        let work = store.case_work(&late).await.unwrap().unwrap();
        let mut change = CaseChange::from_work(&work, Timestamp(MONDAY + 3 * HOUR));
        change.assignee = Some("ana".into());
        change.sla = Some(clocks.clone());
        store.save_case_work(&change).await.unwrap();
        let work = store.case_work(&praise).await.unwrap().unwrap();
        let mut change = CaseChange::from_work(&work, Timestamp(MONDAY + 3 * HOUR));
        change.status = CaseStatus::Resolved;
        store.save_case_work(&change).await.unwrap();

        let rows = store
            .inbox(&InboxFilter::default(), &page(50))
            .await
            .unwrap();
        assert_eq!(rows.len(), 2, "{name}: the resolved case left");
        let row = rows.iter().find(|r| r.case.id == late).unwrap();
        assert_eq!(row.sla.as_ref(), Some(&clocks), "{name}");
        let mine = ids(
            store,
            InboxFilter {
                assignee: Some(Some("ana".into())),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(mine, vec![late.clone()], "{name}");
        let nobody = ids(
            store,
            InboxFilter {
                assignee: Some(None),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(nobody, vec![question.clone()], "{name}");
        let resolved = ids(
            store,
            InboxFilter {
                status: Some(CaseStatus::Resolved),
                ..InboxFilter::default()
            },
        )
        .await;
        assert_eq!(resolved, vec![praise.clone()], "{name}");
    }
}

#[tokio::test]
async fn the_dashboard_counts_by_bucket_platform_and_intent() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        arrive(
            store,
            "x",
            "@ana",
            "Late again",
            MONDAY + 10 * 60_000,
            -0.8,
            "complaint",
        )
        .await;
        arrive(
            store,
            "x",
            "@bo",
            "Still late",
            MONDAY + 20 * 60_000,
            -0.4,
            "complaint",
        )
        .await;
        arrive(
            store,
            "email",
            "cy@example.com",
            "Lovely",
            MONDAY + HOUR + 60_000,
            0.6,
            "praise",
        )
        .await;
        arrive(
            store,
            "x",
            "@old",
            "Long ago",
            MONDAY - 5 * HOUR,
            0.1,
            "other",
        )
        .await;

        let d = store.dashboard(Timestamp(MONDAY), HOUR).await.unwrap();
        let by: Vec<(i64, String, i64)> = d
            .by_platform
            .iter()
            .map(|b| (b.bucket.millis() - MONDAY, b.label.clone(), b.count))
            .collect();
        assert_eq!(
            by,
            vec![(0, "x".into(), 2), (HOUR, "email".into(), 1)],
            "{name}"
        );
        let intents: Vec<(i64, String, i64)> = d
            .by_intent
            .iter()
            .map(|b| (b.bucket.millis() - MONDAY, b.label.clone(), b.count))
            .collect();
        assert_eq!(
            intents,
            vec![(0, "complaint".into(), 2), (HOUR, "praise".into(), 1)],
            "{name}"
        );
        assert_eq!(d.sentiment.len(), 2, "{name}");
        assert!(
            (d.sentiment[0].1 - (-0.6)).abs() < 1e-9,
            "{name}: {:?}",
            d.sentiment
        );
        assert_eq!(d.cases.len(), 3, "{name}: cases opened since");
        assert!(
            d.cases.iter().all(|(_, first, _)| first.is_none()),
            "{name}"
        );
        let open: i64 = d.backlog.iter().map(|(_, n)| n).sum();
        assert_eq!(open, 4, "{name}: the backlog counts every open case");
        assert_eq!(
            d.backlog_by_queue.iter().map(|(_, n)| n).sum::<i64>(),
            4,
            "{name}"
        );
    }
}
