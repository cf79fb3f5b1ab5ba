//! Listening on every back end. Disruption messaging (F2, F3): the customers an incident concerns are
//! found by region or by open cases mentioning a product (wildcards in the term taken
//! literally); a draft keeps one row per customer; approving queues each customer's message
//! once, in the same transaction as the decision, so a second decision — a retry, another
//! approver — queues nothing; and erasure blanks what a customer was told. Alert silences (E4)
//! are listed until they end, and ending one early keeps its record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::case::{PlanMessage, plan_batch};
use sb_domain::{
    CustomerId, DisruptionId, Enrichment, IncidentId, MessageId, NewMessage, NewOutboxItem,
    OutboxStatus, Timestamp,
};
use serde_json::{Value, json};
use switchboard_store::{
    AudienceQuery, Erasure, MessageRecord, Release, Store, StoredDisruption, StoredSilence,
};

mod common;
use common::{backends, disruption_recipient};

fn message(handle: &str, text: &str, region: &str) -> MessageRecord {
    let m = NewMessage::parse(json!({
        "source": "x", "external_id": format!("m-{handle}-{}", ulid::Ulid::generate()),
        "author": handle, "text": text, "region": region,
    }))
    .unwrap();
    MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(1_000),
        message: m,
    }
}

/// Stores and processes the messages as the pipeline does; answers each author's customer.
async fn customers(store: &dyn Store, records: Vec<MessageRecord>) -> Vec<CustomerId> {
    let ids: Vec<MessageId> = store
        .append_messages(&records)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    let msgs = store.messages_for_processing(&ids).await.unwrap();
    let planned: Vec<PlanMessage> = msgs
        .iter()
        .map(|m| {
            PlanMessage::from_message(
                m,
                Enrichment {
                    language: "en".into(),
                    ..Enrichment::default()
                },
            )
        })
        .collect();
    let ctx = store.case_context(&planned).await.unwrap();
    let q = store.default_queue().await.unwrap();
    let plan = plan_batch(&planned, ctx, &q.id, Timestamp(2_000));
    store
        .apply_case_plan(&plan, Timestamp(2_000))
        .await
        .unwrap();
    let mut out = Vec::new();
    for id in ids {
        out.push(
            store
                .message(&id)
                .await
                .unwrap()
                .unwrap()
                .customer_id
                .unwrap(),
        );
    }
    out
}

fn ids(found: &[switchboard_store::AudienceCandidate]) -> Vec<String> {
    found.iter().map(|c| c.customer.id.to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn the_audience_is_found_by_region_or_by_open_cases_about_a_product() {
    for (name, store, _dir) in backends().await {
        let c = customers(
            store.as_ref(),
            vec![
                message("@ana", "My X200 burnt the counter", "eu-west"),
                message("@jo", "x200 smoking!!", "us-east"),
                message("@bea", "Z9 blender cracked", "eu-west"),
                message("@pct", "50% off the X2000? no: 50_off", "eu-west"),
            ],
        )
        .await;
        let (ana, jo, bea, pct) = (&c[0], &c[1], &c[2], &c[3]);
        let q = |regions: &[&str], about: &[&str]| AudienceQuery {
            regions: regions.iter().map(|s| (*s).to_owned()).collect(),
            about: about.iter().map(|s| (*s).to_owned()).collect(),
            limit: 100,
        };
        let found = store.audience(&q(&[], &["X200"])).await.unwrap();
        assert_eq!(
            sorted(ids(&found)),
            sorted(vec![ana.to_string(), jo.to_string(), pct.to_string()]),
            "{name}: case-insensitive, and X2000 mentions X200"
        );
        let found = store.audience(&q(&["EU-West"], &["X200"])).await.unwrap();
        assert_eq!(
            sorted(ids(&found)),
            sorted(vec![ana.to_string(), pct.to_string()]),
            "{name}"
        );
        let found = store.audience(&q(&["eu-west"], &[])).await.unwrap();
        assert_eq!(
            sorted(ids(&found)),
            sorted(vec![ana.to_string(), bea.to_string(), pct.to_string()]),
            "{name}"
        );
        let reach = found
            .iter()
            .find(|c| &c.customer.id == ana)
            .unwrap()
            .reach
            .clone()
            .unwrap();
        assert_eq!(
            (
                reach.handle.as_str(),
                reach.source.as_str(),
                reach.region.as_deref()
            ),
            ("@ana", "x", Some("eu-west")),
            "{name}"
        );
        assert!(reach.case_id.is_some(), "{name}");
        // `%` and `_` are literal, not wildcards.
        let found = store.audience(&q(&[], &["50%"])).await.unwrap();
        assert_eq!(ids(&found), [pct.to_string()], "{name}");
        let found = store.audience(&q(&[], &["z_"])).await.unwrap();
        assert!(found.is_empty(), "{name}: {:?}", ids(&found));
        let found = store.audience(&q(&["eu-west"], &[])).await.unwrap();
        let limited = store
            .audience(&AudienceQuery {
                limit: 2,
                ..q(&["eu-west"], &[])
            })
            .await
            .unwrap();
        assert_eq!((found.len(), limited.len()), (3, 2), "{name}");
        // Erased customers are nobody's audience.
        assert!(matches!(
            store.erase_customer(bea, Timestamp(3_000)).await.unwrap(),
            Erasure::Done(_)
        ));
        let found = store.audience(&q(&["eu-west"], &[])).await.unwrap();
        assert!(!ids(&found).contains(&bea.to_string()), "{name}");
        let _ = jo;
    }
}

#[tokio::test]
async fn approving_queues_each_message_once_with_the_decision() {
    for (name, store, _dir) in backends().await {
        let c = customers(
            store.as_ref(),
            vec![
                message("@ana", "X200 burnt", "eu-west"),
                message("@olga", "X200 smoke", "eu-west"),
            ],
        )
        .await;
        let (ana, olga) = (&c[0], &c[1]);
        let incident = IncidentId::generate();
        let d = StoredDisruption {
            id: DisruptionId::generate(),
            incident_id: incident.clone(),
            status: "pending_approval".into(),
            created_by: "key:ops".into(),
            created_at: Timestamp(5_000),
            updated_at: Timestamp(5_000),
            version: 1,
            doc: json!({"template": "x200_recall", "decisions": []}),
        };
        store
            .insert_disruption(
                &d,
                &[
                    disruption_recipient(ana, "Hi Ana, the X200 is recalled.", None),
                    disruption_recipient(olga, "", Some("opted_out")),
                ],
            )
            .await
            .unwrap();
        assert_eq!(store.disruption(&d.id).await.unwrap().unwrap(), d, "{name}");
        let held = store.disruption_recipients(&d.id).await.unwrap();
        assert_eq!(held.len(), 2, "{name}");
        assert_eq!(
            held.iter()
                .find(|r| &r.customer_id == ana)
                .unwrap()
                .fallbacks,
            ["status.X200"]
        );
        assert!(
            store
                .notified_customers(&incident)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );

        let mut approved = d.clone();
        approved.status = "approved".into();
        approved.doc["decisions"] = json!([{"by": "key:lead", "outcome": "approved"}]);
        let release = Release {
            customer_id: ana.clone(),
            item: NewOutboxItem {
                target: "x".into(),
                dedup_key: format!("disruption:{}:{ana}", d.id),
                payload: held[0].payload.clone(),
                subject: Some("case_x".into()),
            },
        };
        assert!(
            store
                .decide_disruption(
                    &approved,
                    1,
                    std::slice::from_ref(&release),
                    &[],
                    Timestamp(6_000)
                )
                .await
                .unwrap(),
            "{name}"
        );
        // The same decision again (a retry, a second approver): refused, nothing queued twice.
        assert!(
            !store
                .decide_disruption(&approved, 1, &[release], &[], Timestamp(6_500))
                .await
                .unwrap(),
            "{name}"
        );
        let queued = store.outbox_for_subject("case_x").await.unwrap();
        assert_eq!(queued.len(), 1, "{name}");
        assert_eq!(queued[0].status, OutboxStatus::Pending);
        let after = store.disruption(&d.id).await.unwrap().unwrap();
        assert_eq!(
            (after.status.as_str(), after.version),
            ("approved", 2),
            "{name}"
        );
        let held = store.disruption_recipients(&d.id).await.unwrap();
        let ana_row = held.iter().find(|r| &r.customer_id == ana).unwrap();
        assert_eq!(ana_row.outbox_id.as_ref(), Some(&queued[0].id), "{name}");
        assert_eq!(ana_row.delivery, Some(OutboxStatus::Pending), "{name}");
        assert_eq!(
            store.notified_customers(&incident).await.unwrap(),
            std::slice::from_ref(ana),
            "{name}"
        );
        assert_eq!(
            store.incident_disruptions(&incident).await.unwrap().len(),
            1
        );

        // A stale decision with exclusions changes nothing either.
        let mut rejected = d.clone();
        rejected.status = "rejected".into();
        assert!(
            !store
                .decide_disruption(
                    &rejected,
                    1,
                    &[],
                    &[(ana.clone(), "opted_out".into())],
                    Timestamp(7_000)
                )
                .await
                .unwrap(),
            "{name}"
        );
        let held = store.disruption_recipients(&d.id).await.unwrap();
        assert_eq!(
            held.iter()
                .find(|r| &r.customer_id == ana)
                .unwrap()
                .excluded,
            None
        );

        // Erasure blanks what Ana was told; the export finds her row until then.
        let mine = store.customer_disruptions(ana).await.unwrap();
        assert_eq!(mine.len(), 1, "{name}");
        assert_eq!(mine[0].0, d.id);
        let Erasure::Done(counts) = store.erase_customer(ana, Timestamp(8_000)).await.unwrap()
        else {
            panic!("{name}: erasure did not run");
        };
        assert_eq!(counts.disruption_messages, 1, "{name}");
        let mine = store.customer_disruptions(ana).await.unwrap();
        assert_eq!(
            (mine[0].1.text.as_str(), &mine[0].1.payload),
            ("", &Value::Object(Default::default())),
            "{name}"
        );
    }
}

fn silence(id: &str, starts: i64, ends: i64) -> StoredSilence {
    StoredSilence {
        id: id.into(),
        series: Some("watch:products:*".into()),
        rule_id: Some("x200-eu".into()),
        starts_at: Timestamp(starts),
        ends_at: Timestamp(ends),
        reason: "recall announced, status page is up".into(),
        created_by: "key:ops".into(),
        created_at: Timestamp(1_000),
        ended_by: None,
    }
}

#[tokio::test]
async fn silences_are_kept_listed_until_they_end_and_ending_early_keeps_the_record() {
    for (name, store, _dir) in backends().await {
        let now = Timestamp(10_000);
        for s in [
            silence("sil_past", 1_000, 5_000),
            silence("sil_now", 5_000, 20_000),
            silence("sil_later", 15_000, 30_000),
        ] {
            assert!(store.insert_silence(&s).await.unwrap(), "{name}");
        }
        assert!(
            !store
                .insert_silence(&silence("sil_now", 0, 1))
                .await
                .unwrap(),
            "{name}: ids are unique"
        );
        let ids = |v: Vec<StoredSilence>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.silences(Some(now), 100).await.unwrap()),
            ["sil_now", "sil_later"],
            "{name}"
        );
        assert_eq!(
            ids(store.silences(None, 100).await.unwrap()),
            ["sil_past", "sil_now", "sil_later"],
            "{name}"
        );
        assert_eq!(
            store.silence("sil_now").await.unwrap(),
            Some(silence("sil_now", 5_000, 20_000)),
            "{name}"
        );

        let ended = store
            .end_silence("sil_now", "key:lead", now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (ended.ends_at, ended.ended_by.as_deref()),
            (now, Some("key:lead")),
            "{name}"
        );
        // Ending again changes nothing; a scheduled one becomes an empty window.
        let again = store
            .end_silence("sil_now", "key:other", Timestamp(12_000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again, ended, "{name}");
        let later = store
            .end_silence("sil_later", "key:lead", now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((later.starts_at, later.ends_at), (now, now), "{name}");
        assert!(
            store.silences(Some(now), 100).await.unwrap().is_empty(),
            "{name}"
        );
        assert_eq!(store.silences(None, 100).await.unwrap().len(), 3, "{name}");
        assert_eq!(
            store
                .end_silence("sil_nope", "key:lead", now)
                .await
                .unwrap(),
            None,
            "{name}"
        );
    }
}

#[tokio::test]
async fn churn_histories_hold_the_valuable_customers_messages_in_order() {
    for (name, store, _dir) in backends().await {
        let c = customers(
            store.as_ref(),
            vec![
                message("@vip", "first", "eu-west"),
                message("@vip", "second", "eu-west"),
                message("@rich", "hello", "eu-west"),
                message("@plain", "hi", "eu-west"),
            ],
        )
        .await;
        let (vip, rich, plain) = (&c[0], &c[2], &c[3]);
        store
            .upsert_customer(
                sb_domain::Platform::X,
                "@vip",
                None,
                sb_domain::Tier::Vip,
                0.0,
                Timestamp(1),
                None,
            )
            .await
            .unwrap();
        store
            .upsert_customer(
                sb_domain::Platform::X,
                "@rich",
                None,
                sb_domain::Tier::Standard,
                5_000.0,
                Timestamp(1),
                None,
            )
            .await
            .unwrap();
        let found = store.churn_histories(Timestamp(0), 1_000.0).await.unwrap();
        let ids: Vec<&CustomerId> = found.iter().map(|h| &h.customer_id).collect();
        assert_eq!(ids.len(), 2, "{name}: {ids:?}");
        assert!(
            ids.contains(&vip) && ids.contains(&rich) && !ids.contains(&plain),
            "{name}"
        );
        let v = found.iter().find(|h| &h.customer_id == vip).unwrap();
        assert_eq!(
            (v.tier, v.messages.len()),
            (sb_domain::Tier::Vip, 2),
            "{name}"
        );
        assert!(v.messages[0].0 <= v.messages[1].0, "{name}");
        // Only messages since the window's start.
        let future = Timestamp(i64::MAX / 2);
        assert!(
            store.churn_histories(future, 0.0).await.unwrap().is_empty(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn contacts_are_counted_per_hour_of_their_own_time() {
    for (name, store, _dir) in backends().await {
        let hour = 3_600_000_i64;
        let base = 500_000 * hour;
        let records: Vec<MessageRecord> = [0, 10, 59 * 60_000, hour + 1, 3 * hour]
            .iter()
            .enumerate()
            .map(|(i, off)| {
                let m = NewMessage::parse(json!({
                    "source": "x", "external_id": format!("h-{i}"), "author": format!("@h{i}"),
                    "text": "hello", "created_at": Timestamp(base + off).to_rfc3339(),
                }))
                .unwrap();
                MessageRecord {
                    id: MessageId::generate(),
                    received_at: Timestamp(base + off),
                    message: m,
                }
            })
            .collect();
        store.append_messages(&records).await.unwrap();
        let v = store
            .hourly_volume(Timestamp(base), Timestamp(base + 3 * hour))
            .await
            .unwrap();
        assert_eq!(
            v,
            [(base, 3), (base + hour, 1)],
            "{name}: the end is exclusive"
        );
    }
}

/// Watchlist terms added at run time: unique per list ignoring case, removed in any case,
/// and every change moves the version each process watches.
#[tokio::test]
async fn watch_terms_are_unique_per_list_ignoring_case_and_each_change_moves_the_version() {
    for (name, store, _dir) in backends().await {
        let v0 = store.watch_terms_version().await.unwrap();
        let added = store
            .add_watch_terms(
                "products",
                &["X200".into(), "x200".into(), "#Recall".into()],
                "key:ops",
                Timestamp(5_000),
            )
            .await
            .unwrap();
        assert_eq!(added, ["X200", "#Recall"], "{name}");
        let v1 = store.watch_terms_version().await.unwrap();
        assert!(v1 > v0, "{name}");
        // Nothing new: the version stays.
        let again = store
            .add_watch_terms("products", &["X200".into()], "key:ops", Timestamp(6_000))
            .await
            .unwrap();
        assert!(again.is_empty(), "{name}");
        assert_eq!(store.watch_terms_version().await.unwrap(), v1, "{name}");
        // Another list may hold the same term.
        store
            .add_watch_terms("competitors", &["x200".into()], "key:ops", Timestamp(7_000))
            .await
            .unwrap();
        let all: Vec<(String, String)> = store
            .watch_terms()
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.list, t.term))
            .collect();
        assert_eq!(
            all,
            [
                ("competitors".to_owned(), "x200".to_owned()),
                ("products".to_owned(), "#Recall".to_owned()),
                ("products".to_owned(), "X200".to_owned()),
            ],
            "{name}"
        );
        assert!(
            store
                .remove_watch_term("products", "#RECALL")
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .remove_watch_term("products", "#recall")
                .await
                .unwrap(),
            "{name}"
        );
        assert!(store.watch_terms_version().await.unwrap() > v1, "{name}");
        assert_eq!(store.watch_terms().await.unwrap().len(), 2, "{name}");
    }
}
