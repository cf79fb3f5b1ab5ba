//! Merging and splitting on every back end (D1, C2): a case merge or split happens whole or
//! not at all and leaves both cases' figures right; a stale or concurrent change saves
//! nothing; a customer merge moves everything the absorbed customer had and its undo puts
//! every record back exactly where it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::case::{PlanMessage, plan_batch};
use sb_domain::{
    CaseChange, CaseId, CaseStatus, Customer, CustomerId, Enrichment, Identity, MessageId,
    NewMessage, Platform, SentimentLabel, Tier, Timestamp,
};
use serde_json::{Value, json};
use switchboard_store::{
    CaseMerge, CaseSave, Consent, CustomerMergePlan, CustomerMerged, MergeUndo, MessageRecord,
    NewSuggestion, Page, Store,
};

/// SQLite always; PostgreSQL when `SWITCHBOARD_TEST_PG_URL` names a database. Each call gets
/// empty stores: a fresh file, and a fresh schema.
mod common;
use common::{backends, split_of};

const DAY: i64 = 86_400_000;
/// 2026-11-23T00:00:00Z.
const MONDAY: i64 = 1_795_392_000_000;

/// A message as a platform delivers it, written `day` days and `minute` minutes after Monday.
fn message(
    source: &str,
    author: Value,
    text: &str,
    region: Option<&str>,
    at: i64,
) -> MessageRecord {
    let created = Timestamp(at).to_rfc3339();
    let m = NewMessage::parse(json!({
        "source": source, "external_id": ulid::Ulid::generate().to_string(), "author": author,
        "text": text, "created_at": created, "region": region,
    }))
    .unwrap();
    MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(at),
        message: m,
    }
}

/// Stores and places one message the way the pipeline does; `mood` is its sentiment.
async fn arrive(store: &dyn Store, record: MessageRecord, mood: f64) -> MessageId {
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
        author_name: m.author.name.clone(),
        region: m.region.clone(),
        in_reply_to: m.in_reply_to.clone(),
        text: m.text.clone(),
        created_at: m.created_at,
        enrichment: Enrichment {
            language: "en".into(),
            language_confidence: 1.0,
            sentiment_compound: mood,
            sentiment_label: SentimentLabel::Neutral,
            ..Enrichment::default()
        },
    }];
    let ctx = store.case_context(&planned).await.unwrap();
    let q = store.default_queue().await.unwrap();
    let plan = plan_batch(&planned, ctx, &q.id, m.received_at);
    store.apply_case_plan(&plan, m.received_at).await.unwrap();
    record.id
}

async fn case_of(store: &dyn Store, id: &MessageId) -> CaseId {
    store.message(id).await.unwrap().unwrap().case_id.unwrap()
}

async fn customer_of(store: &dyn Store, id: &MessageId) -> CustomerId {
    store
        .message(id)
        .await
        .unwrap()
        .unwrap()
        .customer_id
        .unwrap()
}

/// Ana's complaint: two tweets on Monday, then — her e-mail linked — a mail on Wednesday
/// about the same order, which opens a second case. Answers (tweets, mail, x case, mail case).
async fn ana_writes_twice(store: &dyn Store) -> (Vec<MessageId>, MessageId, CaseId, CaseId) {
    let t1 = arrive(
        store,
        message("x", json!("@ana"), "order 1001 is late", None, MONDAY),
        -0.2,
    )
    .await;
    let t2 = arrive(
        store,
        message("x", json!("@ana"), "still nothing", None, MONDAY + 60_000),
        -0.6,
    )
    .await;
    let ana = customer_of(store, &t1).await;
    store
        .link_identity(&ana, Platform::Email, "ana@example.pt", Timestamp(MONDAY))
        .await
        .unwrap();
    let mail = arrive(
        store,
        message(
            "email",
            json!("ana@example.pt"),
            "Order 1001, again",
            None,
            MONDAY + 2 * DAY,
        ),
        -0.9,
    )
    .await;
    let (x_case, mail_case) = (case_of(store, &t1).await, case_of(store, &mail).await);
    assert_ne!(
        x_case, mail_case,
        "a mail two days later opens a case of its own"
    );
    (vec![t1, t2], mail, x_case, mail_case)
}

/// The merge an agent asks for: `source` closed into `target`, both histories told.
async fn merge_of(store: &dyn Store, source: &CaseId, target: &CaseId, at: i64) -> CaseMerge {
    let (src, tgt) = (
        store.case_work(source).await.unwrap().unwrap(),
        store.case_work(target).await.unwrap().unwrap(),
    );
    let messages: Vec<MessageId> = store
        .case_messages(source)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    let ids: Vec<&str> = messages.iter().map(|m| m.as_str()).collect();
    let mut from = CaseChange::from_work(&src, Timestamp(at));
    from.status = CaseStatus::Closed;
    from.merged_into = Some(target.clone());
    from.event(
        "merged",
        "agent:rita",
        Timestamp(at),
        json!({ "into": target.as_str(), "messages": ids }),
    );
    let mut into = CaseChange::from_work(&tgt, Timestamp(at));
    into.event(
        "merged_from",
        "agent:rita",
        Timestamp(at),
        json!({ "from": source.as_str(), "messages": ids }),
    );
    CaseMerge {
        source: from,
        target: into,
        messages,
    }
}

/// Every case and message as stored, to compare before and after.
async fn cases_and_messages(
    store: &dyn Store,
    cases: &[&CaseId],
    messages: &[&MessageId],
) -> Value {
    let mut out = Vec::new();
    for c in cases {
        let w = store.case_work(c).await.unwrap().unwrap();
        out.push(json!({ "case": format!("{:?}", w), "events": store.case_events(c).await.unwrap().len() }));
    }
    for m in messages {
        out.push(json!(format!("{:?}", store.message(m).await.unwrap())));
    }
    Value::Array(out)
}

#[tokio::test]
async fn a_duplicate_case_merges_whole_and_both_cases_add_up() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let (tweets, mail, x_case, mail_case) = ana_writes_twice(store).await;
        let merge = merge_of(store, &mail_case, &x_case, MONDAY + 3 * DAY).await;
        assert_eq!(
            store.merge_cases(&merge).await.unwrap(),
            CaseSave::Saved,
            "{name}"
        );

        for m in tweets.iter().chain([&mail]) {
            assert_eq!(
                case_of(store, m).await,
                x_case,
                "{name}: every message is in the kept case"
            );
        }
        let kept = store.case_work(&x_case).await.unwrap().unwrap();
        assert_eq!(kept.case.message_count, 3, "{name}");
        assert_eq!(
            kept.case.last_message_at,
            Timestamp(MONDAY + 2 * DAY),
            "{name}"
        );
        assert_eq!(
            kept.case.last_sentiment,
            Some(-0.9),
            "{name}: the mail arrived last"
        );
        let gone = store.case_work(&mail_case).await.unwrap().unwrap();
        assert_eq!(gone.case.status, CaseStatus::Closed, "{name}");
        assert_eq!(gone.merged_into, Some(x_case.clone()), "{name}");
        assert_eq!(
            (gone.case.message_count, gone.case.last_sentiment),
            (0, None),
            "{name}"
        );
        assert_eq!(
            (gone.version, kept.version),
            (1, 1),
            "{name}: both saved once"
        );
        let told = |events: Vec<sb_domain::CaseEvent>, kind: &str| {
            events.into_iter().find(|e| e.kind == kind).map(|e| e.data)
        };
        let merged = told(store.case_events(&mail_case).await.unwrap(), "merged").unwrap();
        assert_eq!(merged["into"], x_case.as_str(), "{name}");
        assert_eq!(merged["messages"], json!([mail.as_str()]), "{name}");
        let from = told(store.case_events(&x_case).await.unwrap(), "merged_from").unwrap();
        assert_eq!(from["from"], mail_case.as_str(), "{name}");

        // Work the workflow still owed for the mail is owed on the kept case, as a follow-up.
        let owed = store
            .claim_case_work(Timestamp(MONDAY + 4 * DAY), 10, 1_000)
            .await
            .unwrap();
        let for_mail = owed.iter().find(|i| i.message_id == mail).unwrap();
        assert_eq!(
            (&for_mail.case_id, for_mail.opened),
            (&x_case, false),
            "{name}"
        );
        assert!(owed.iter().all(|i| i.case_id == x_case), "{name}");
    }
}

#[tokio::test]
async fn a_merge_read_before_someone_else_changed_a_case_changes_nothing() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let (tweets, mail, x_case, mail_case) = ana_writes_twice(store).await;
        let all: Vec<&MessageId> = tweets.iter().chain([&mail]).collect();
        let stale = merge_of(store, &mail_case, &x_case, MONDAY + 3 * DAY).await;

        // A colleague tags the kept case meanwhile.
        let w = store.case_work(&x_case).await.unwrap().unwrap();
        let mut tag = CaseChange::from_work(&w, Timestamp(MONDAY + 3 * DAY));
        tag.tags.push("refund".into());
        assert_eq!(store.save_case_work(&tag).await.unwrap(), CaseSave::Saved);
        let before = cases_and_messages(store, &[&x_case, &mail_case], &all).await;
        assert_eq!(
            store.merge_cases(&stale).await.unwrap(),
            CaseSave::Changed,
            "{name}"
        );
        assert_eq!(
            cases_and_messages(store, &[&x_case, &mail_case], &all).await,
            before,
            "{name}"
        );

        // Ana mails again before the merge is saved: the merge read one mail, not two.
        let stale = merge_of(store, &mail_case, &x_case, MONDAY + 3 * DAY).await;
        let again = arrive(
            store,
            message(
                "email",
                json!("ana@example.pt"),
                "hello?",
                None,
                MONDAY + 2 * DAY + 3_600_000,
            ),
            -0.7,
        )
        .await;
        assert_eq!(case_of(store, &again).await, mail_case);
        let all: Vec<&MessageId> = tweets.iter().chain([&mail, &again]).collect();
        let before = cases_and_messages(store, &[&x_case, &mail_case], &all).await;
        assert_eq!(
            store.merge_cases(&stale).await.unwrap(),
            CaseSave::Changed,
            "{name}"
        );
        assert_eq!(
            cases_and_messages(store, &[&x_case, &mail_case], &all).await,
            before,
            "{name}"
        );

        // Read again, it goes through with both mails.
        let fresh = merge_of(store, &mail_case, &x_case, MONDAY + 3 * DAY).await;
        assert_eq!(fresh.messages.len(), 2);
        assert_eq!(
            store.merge_cases(&fresh).await.unwrap(),
            CaseSave::Saved,
            "{name}"
        );
        assert_eq!(
            store.case(&x_case).await.unwrap().unwrap().message_count,
            4,
            "{name}"
        );
    }
}

#[tokio::test]
async fn two_agents_merging_one_case_at_once_save_exactly_one_merge() {
    for (name, store, _dir) in backends().await {
        let (tweets, mail, x_case, mail_case) = ana_writes_twice(store.as_ref()).await;
        // A third conversation, on Instagram four days later.
        let ana = customer_of(store.as_ref(), &mail).await;
        store
            .link_identity(&ana, Platform::Instagram, "ana.p", Timestamp(MONDAY))
            .await
            .unwrap();
        let insta = arrive(
            store.as_ref(),
            message(
                "instagram",
                json!("ana.p"),
                "any news?",
                None,
                MONDAY + 5 * DAY,
            ),
            0.1,
        )
        .await;
        let insta_case = case_of(store.as_ref(), &insta).await;
        let into_x = merge_of(store.as_ref(), &mail_case, &x_case, MONDAY + 6 * DAY).await;
        let into_insta = merge_of(store.as_ref(), &mail_case, &insta_case, MONDAY + 6 * DAY).await;
        let (s1, s2) = (store.clone(), store.clone());
        let (a, b) = tokio::join!(
            tokio::spawn(async move { s1.merge_cases(&into_x).await.unwrap() }),
            tokio::spawn(async move { s2.merge_cases(&into_insta).await.unwrap() }),
        );
        let mut outcomes = [a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(outcomes, [CaseSave::Changed, CaseSave::Saved], "{name}");
        let winner = store
            .case_work(&mail_case)
            .await
            .unwrap()
            .unwrap()
            .merged_into
            .unwrap();
        assert_eq!(case_of(store.as_ref(), &mail).await, winner, "{name}");
        let counts = (
            store.case(&x_case).await.unwrap().unwrap().message_count,
            store
                .case(&insta_case)
                .await
                .unwrap()
                .unwrap()
                .message_count,
        );
        let expected = if winner == x_case { (3, 1) } else { (2, 2) };
        assert_eq!(
            counts, expected,
            "{name}: the mail counted once, where it went"
        );
        for t in &tweets {
            assert_eq!(case_of(store.as_ref(), t).await, x_case);
        }
    }
}

#[tokio::test]
async fn a_second_topic_splits_into_a_new_case_and_nothing_else_does() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let order = arrive(
            store,
            message("x", json!("@ana"), "order 1001 is late", None, MONDAY),
            -0.4,
        )
        .await;
        let card = arrive(
            store,
            message(
                "x",
                json!("@ana"),
                "also my card was charged twice",
                None,
                MONDAY + 60_000,
            ),
            -0.8,
        )
        .await;
        let more = arrive(
            store,
            message("x", json!("@ana"), "and the order?", None, MONDAY + 120_000),
            -0.3,
        )
        .await;
        let case = case_of(store, &order).await;
        let all = [&order, &card, &more];

        // Bad splits change nothing: every message, a message of another case, a stale read.
        let before = cases_and_messages(store, &[&case], &all).await;
        let whole = split_of(
            store,
            &case,
            &[order.clone(), card.clone(), more.clone()],
            MONDAY + DAY,
        )
        .await;
        assert_eq!(
            store.split_case(&whole).await.unwrap(),
            CaseSave::Changed,
            "{name}"
        );
        assert!(
            store.case(&whole.new_case.id).await.unwrap().is_none(),
            "{name}"
        );
        let bob = arrive(store, message("x", json!("@bob"), "hi", None, MONDAY), 0.0).await;
        let foreign = split_of(store, &case, &[card.clone(), bob.clone()], MONDAY + DAY).await;
        assert_eq!(
            store.split_case(&foreign).await.unwrap(),
            CaseSave::Changed,
            "{name}"
        );
        assert!(
            store.case(&foreign.new_case.id).await.unwrap().is_none(),
            "{name}"
        );
        assert_ne!(case_of(store, &bob).await, case, "{name}");
        let stale = split_of(store, &case, std::slice::from_ref(&card), MONDAY + DAY).await;
        let w = store.case_work(&case).await.unwrap().unwrap();
        let mut note = CaseChange::from_work(&w, Timestamp(MONDAY + DAY));
        note.event(
            "note",
            "agent:rita",
            Timestamp(MONDAY + DAY),
            json!({ "text": "calling her" }),
        );
        assert_eq!(store.save_case_work(&note).await.unwrap(), CaseSave::Saved);
        let before_stale = cases_and_messages(store, &[&case], &all).await;
        assert_ne!(before, before_stale, "the note changed the case");
        assert_eq!(
            store.split_case(&stale).await.unwrap(),
            CaseSave::Changed,
            "{name}"
        );
        assert_eq!(
            cases_and_messages(store, &[&case], &all).await,
            before_stale,
            "{name}"
        );
        assert!(
            store.case(&stale.new_case.id).await.unwrap().is_none(),
            "{name}"
        );

        let split = split_of(store, &case, std::slice::from_ref(&card), MONDAY + DAY).await;
        assert_eq!(
            store.split_case(&split).await.unwrap(),
            CaseSave::Saved,
            "{name}"
        );
        let new = store.case_work(&split.new_case.id).await.unwrap().unwrap();
        let old = store.case(&case).await.unwrap().unwrap();
        assert_eq!(case_of(store, &card).await, new.case.id, "{name}");
        assert_eq!(case_of(store, &order).await, case, "{name}");
        assert_eq!(
            (new.case.customer_id.clone(), new.case.channel.clone()),
            (old.customer_id.clone(), old.channel.clone())
        );
        assert_eq!(
            (new.case.queue_id.clone(), new.case.priority),
            (old.queue_id.clone(), old.priority),
            "{name}"
        );
        assert_eq!(
            (new.version, new.case.status),
            (0, CaseStatus::New),
            "{name}"
        );
        assert_eq!(
            (new.case.message_count, new.case.last_sentiment),
            (1, Some(-0.8)),
            "{name}"
        );
        assert_eq!(
            (old.message_count, old.last_sentiment),
            (2, Some(-0.3)),
            "{name}"
        );
        assert_eq!(old.last_message_at, Timestamp(MONDAY + 120_000), "{name}");
        let kinds = |events: Vec<sb_domain::CaseEvent>| -> Vec<String> {
            events.into_iter().map(|e| e.kind).collect()
        };
        assert_eq!(
            kinds(store.case_events(&new.case.id).await.unwrap()),
            ["split_from"],
            "{name}"
        );
        assert!(
            kinds(store.case_events(&case).await.unwrap()).contains(&"split_to".to_owned()),
            "{name}"
        );
    }
}

/// A customer's records as stored: the profile with its identities and consents, and the
/// owner and case of each message and case.
async fn customer_snapshot(
    store: &dyn Store,
    customers: &[&CustomerId],
    messages: &[&MessageId],
    cases: &[&CaseId],
) -> Value {
    let mut out = Vec::new();
    for c in customers {
        let consents: Vec<Consent> = store.consents(c).await.unwrap();
        out.push(json!({ "customer": format!("{:?}", store.customer(c).await.unwrap()), "consents": consents }));
    }
    for m in messages {
        let m = store.message(m).await.unwrap().unwrap();
        out.push(json!([
            m.id.as_str(),
            m.customer_id.map(|c| c.to_string()),
            m.case_id.map(|c| c.to_string())
        ]));
    }
    for c in cases {
        out.push(json!(format!("{:?}", store.case(c).await.unwrap())));
    }
    Value::Array(out)
}

fn identity_keys(c: &Customer) -> Vec<String> {
    c.identities
        .iter()
        .map(|i| Identity::key(i.platform, &i.handle))
        .collect()
}

fn plan(
    survivor: &Customer,
    absorbed: &Customer,
    suggestion: Option<String>,
    at: i64,
) -> CustomerMergePlan {
    CustomerMergePlan {
        survivor: survivor.id.clone(),
        absorbed: absorbed.id.clone(),
        absorbed_identities: identity_keys(absorbed),
        suggestion,
        record: json!({ "survivor": { "id": survivor.id.as_str() }, "absorbed": { "id": absorbed.id.as_str() } }),
        result: json!({ "decision": "review", "weight": 6.57, "fields": [{ "field": "name", "agreement": "agree", "weight": 6.57 }] }),
        by: "user:sam".into(),
        at: Timestamp(at),
    }
}

fn consent(c: &CustomerId, channel: &str, opted_out: bool, at: i64) -> Consent {
    Consent {
        customer_id: c.clone(),
        channel: channel.into(),
        opted_out,
        source: Some("customer reply".into()),
        updated_at: Timestamp(at),
    }
}

#[tokio::test]
async fn a_customer_merge_then_undo_puts_every_record_back() {
    for (name, store, _dir) in backends().await {
        let store = store.as_ref();
        let on_x = arrive(
            store,
            message(
                "x",
                json!({ "handle": "@ana_p", "name": "Ana Pereira" }),
                "my order is late",
                None,
                MONDAY,
            ),
            -0.5,
        )
        .await;
        let on_insta = arrive(
            store,
            message(
                "instagram",
                json!({ "handle": "ana.p", "name": "Ana Pereira" }),
                "where is order 1001",
                Some("Lisbon"),
                MONDAY + DAY,
            ),
            -0.6,
        )
        .await;
        let (s_id, a_id) = (
            customer_of(store, &on_x).await,
            customer_of(store, &on_insta).await,
        );
        let (x_case, insta_case) = (case_of(store, &on_x).await, case_of(store, &on_insta).await);
        store
            .set_consent(&consent(&s_id, "x", false, MONDAY))
            .await
            .unwrap();
        store
            .set_consent(&consent(&a_id, "x", true, MONDAY + 10))
            .await
            .unwrap();
        store
            .set_consent(&consent(&a_id, "instagram", true, MONDAY + 20))
            .await
            .unwrap();
        let survivor = store.customer(&s_id).await.unwrap().unwrap();
        let absorbed = store.customer(&a_id).await.unwrap().unwrap();
        assert_eq!(survivor.region, None);
        let before = customer_snapshot(
            store,
            &[&s_id, &a_id],
            &[&on_x, &on_insta],
            &[&x_case, &insta_case],
        )
        .await;

        // Read, then a handle is linked to the absorbed customer: the merge read too little.
        let stale = plan(&survivor, &absorbed, None, MONDAY + 2 * DAY);
        store
            .link_identity(
                &a_id,
                Platform::Tiktok,
                "@ana.tt",
                Timestamp(MONDAY + 2 * DAY),
            )
            .await
            .unwrap();
        let linked = customer_snapshot(
            store,
            &[&s_id, &a_id],
            &[&on_x, &on_insta],
            &[&x_case, &insta_case],
        )
        .await;
        assert_eq!(
            store.merge_customers(&stale).await.unwrap(),
            CustomerMerged::Changed,
            "{name}"
        );
        assert_eq!(
            customer_snapshot(
                store,
                &[&s_id, &a_id],
                &[&on_x, &on_insta],
                &[&x_case, &insta_case]
            )
            .await,
            linked,
            "{name}"
        );
        assert!(store.suggestion_pairs().await.unwrap().is_empty(), "{name}");
        assert_ne!(before, linked, "the snapshot sees a linked handle");
        let absorbed = store.customer(&a_id).await.unwrap().unwrap();
        let before = linked;

        let merged = match store
            .merge_customers(&plan(&survivor, &absorbed, None, MONDAY + 2 * DAY))
            .await
            .unwrap()
        {
            CustomerMerged::Merged(m) => m,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            (
                merged.moved.identities,
                merged.moved.messages.len(),
                merged.moved.cases.len()
            ),
            (2, 1, 1),
            "{name}"
        );
        let now_one = store.customer(&s_id).await.unwrap().unwrap();
        assert_eq!(
            now_one.identities.len(),
            3,
            "{name}: {:?}",
            now_one.identities
        );
        assert_eq!(
            now_one.region.as_deref(),
            Some("lisbon"),
            "{name}: a gap filled from the absorbed profile"
        );
        assert!(
            store
                .customer(&a_id)
                .await
                .unwrap()
                .unwrap()
                .identities
                .is_empty(),
            "{name}"
        );
        assert_eq!(customer_of(store, &on_insta).await, s_id, "{name}");
        assert_eq!(
            store.case(&insta_case).await.unwrap().unwrap().customer_id,
            s_id,
            "{name}"
        );
        let consents = store.consents(&s_id).await.unwrap();
        assert!(
            consents.iter().all(|c| c.opted_out),
            "{name}: her opt-outs hold for the merged profile: {consents:?}"
        );
        assert_eq!(consents.len(), 2, "{name}");
        assert!(
            !store
                .mergeable_customers()
                .await
                .unwrap()
                .iter()
                .any(|c| c.id == a_id),
            "{name}"
        );
        assert!(
            matches!(
                store.merge_customers(&plan(&now_one, &absorbed, None, MONDAY + 2 * DAY)).await.unwrap(),
                CustomerMerged::AlreadyMerged { ref merge, .. } if *merge == merged.id
            ),
            "{name}"
        );
        let stored = store.customer_merge(&merged.id).await.unwrap().unwrap();
        assert_eq!(stored, *merged, "{name}");

        // After the merge she closes the Instagram case and writes there again: a new case.
        let w = store.case_work(&insta_case).await.unwrap().unwrap();
        let mut close = CaseChange::from_work(&w, Timestamp(MONDAY + 3 * DAY));
        close.status = CaseStatus::Closed;
        assert_eq!(store.save_case_work(&close).await.unwrap(), CaseSave::Saved);
        let later = arrive(
            store,
            message(
                "instagram",
                json!("ana.p"),
                "new order, new problem",
                None,
                MONDAY + 4 * DAY,
            ),
            0.0,
        )
        .await;
        let later_case = case_of(store, &later).await;
        assert_eq!(
            customer_of(store, &later).await,
            s_id,
            "{name}: the handle is hers now"
        );
        assert_ne!(later_case, insta_case);

        let keys = identity_keys(&absorbed);
        let undone = store
            .undo_customer_merge(&merged.id, &keys, "user:sam", Timestamp(MONDAY + 5 * DAY))
            .await
            .unwrap();
        let MergeUndo::Undone { returned, merge } = undone else {
            panic!("{name}: {undone:?}")
        };
        assert_eq!(merge.undone_at, Some(Timestamp(MONDAY + 5 * DAY)));
        assert_eq!(returned.identities, 2, "{name}");
        assert_eq!(
            returned.messages,
            [on_insta.to_string(), later.to_string()],
            "{name}"
        );
        assert!(returned.cases.contains(&later_case.to_string()), "{name}");
        // What arrived under her handle after the merge went back with her.
        assert_eq!(customer_of(store, &later).await, a_id, "{name}");
        assert_eq!(
            store.case(&later_case).await.unwrap().unwrap().customer_id,
            a_id,
            "{name}"
        );
        // Everything else is exactly as it was, but for the case she closed meanwhile, which
        // is hers again too.
        let after =
            customer_snapshot(store, &[&s_id, &a_id], &[&on_x, &on_insta], &[&x_case]).await;
        let mut before_but_closed = before.as_array().unwrap().clone();
        before_but_closed.pop();
        assert_eq!(after, Value::Array(before_but_closed), "{name}");
        assert_eq!(
            store.case(&insta_case).await.unwrap().unwrap().customer_id,
            a_id,
            "{name}"
        );

        assert!(
            matches!(
                store.undo_customer_merge(&merged.id, &keys, "user:sam", Timestamp(MONDAY + 6 * DAY)).await.unwrap(),
                MergeUndo::AlreadyUndone(t) if t == Timestamp(MONDAY + 5 * DAY)
            ),
            "{name}"
        );
        assert!(matches!(
            store
                .undo_customer_merge("mrg_nothing", &keys, "user:sam", Timestamp(1))
                .await
                .unwrap(),
            MergeUndo::Unknown
        ));
        let decided = store
            .suggestions(
                Some("undone"),
                &Page {
                    before: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(decided.len(), 1, "{name}");
        assert_eq!(
            decided[0].merge_id.as_deref(),
            Some(merged.id.as_str()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_review_queue_holds_one_suggestion_per_pair_and_each_is_decided_once() {
    for (name, store, _dir) in backends().await {
        let customer = |handle: &'static str| {
            let store = store.clone();
            async move {
                let id = store
                    .upsert_customer(
                        Platform::X,
                        handle,
                        Some("Ana Pereira"),
                        Tier::Standard,
                        0.0,
                        Timestamp(1),
                        None,
                    )
                    .await
                    .unwrap();
                store.customer(&id).await.unwrap().unwrap()
            }
        };
        let (a, b, c) = (
            customer("@ana1").await,
            customer("@ana2").await,
            customer("@ana3").await,
        );
        let result =
            json!({ "decision": "review", "fields": [{ "field": "name", "weight": 6.57 }] });
        let suggest = |x: &Customer, y: &Customer| NewSuggestion {
            customer_a: x.id.clone(),
            customer_b: y.id.clone(),
            result: result.clone(),
        };
        let added = store
            .add_suggestions(
                &[suggest(&b, &a), suggest(&a, &b), suggest(&a, &c)],
                Timestamp(5),
            )
            .await
            .unwrap();
        assert_eq!(added, 2, "{name}: one per pair, whichever way round");
        assert_eq!(
            store
                .add_suggestions(&[suggest(&a, &b)], Timestamp(6))
                .await
                .unwrap(),
            0
        );
        let page = Page {
            before: None,
            limit: 10,
        };
        let pending = store.suggestions(Some("pending"), &page).await.unwrap();
        assert_eq!(pending.len(), 2, "{name}");
        // Ids sort by creation time; within one millisecond either may come first.
        let (older, newer) = if a.id < b.id { (&a, &b) } else { (&b, &a) };
        let ab = pending
            .iter()
            .find(|s| s.customer_a == older.id && s.customer_b == newer.id)
            .unwrap()
            .clone();
        assert_eq!(
            (&ab.result, ab.created_at),
            (&result, Timestamp(5)),
            "{name}"
        );
        let first = store
            .suggestions(
                None,
                &Page {
                    before: None,
                    limit: 1,
                },
            )
            .await
            .unwrap();
        let second = store
            .suggestions(
                None,
                &Page {
                    before: Some(first[0].id.clone()),
                    limit: 1,
                },
            )
            .await
            .unwrap();
        assert_ne!(first[0].id, second[0].id, "{name}: pages go on");

        let ac = pending.iter().find(|s| s.id != ab.id).unwrap().clone();
        assert!(
            store
                .reject_suggestion(&ac.id, "user:sam", Timestamp(7))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .reject_suggestion(&ac.id, "user:sam", Timestamp(8))
                .await
                .unwrap(),
            "{name}"
        );
        let rejected = store.suggestion(&ac.id).await.unwrap().unwrap();
        assert_eq!(
            (rejected.status.as_str(), rejected.decided_by.as_deref()),
            ("rejected", Some("user:sam"))
        );
        assert!(
            matches!(
                store
                    .merge_customers(&plan(&a, &c, Some(ac.id.clone()), 9))
                    .await
                    .unwrap(),
                CustomerMerged::SuggestionDecided
            ),
            "{name}: a rejected pair is not merged on its suggestion"
        );
        assert!(
            matches!(
                store.merge_customers(&plan(&a, &c, None, 9)).await.unwrap(),
                CustomerMerged::SuggestionDecided
            ),
            "{name}: nor automatically"
        );

        let merged = store
            .merge_customers(&plan(&a, &b, Some(ab.id.clone()), 10))
            .await
            .unwrap();
        assert!(
            matches!(merged, CustomerMerged::Merged(_)),
            "{name}: {merged:?}"
        );
        let decided = store.suggestion(&ab.id).await.unwrap().unwrap();
        assert_eq!(
            (decided.status.as_str(), decided.decided_at),
            ("merged", Some(Timestamp(10))),
            "{name}"
        );
        assert!(
            matches!(
                store
                    .merge_customers(&plan(&a, &b, Some(ab.id.clone()), 11))
                    .await
                    .unwrap(),
                CustomerMerged::AlreadyMerged { .. }
            ),
            "{name}"
        );
    }
}

#[tokio::test]
async fn an_undo_waits_for_the_merge_that_absorbed_its_survivor() {
    for (name, store, _dir) in backends().await {
        let mut people = Vec::new();
        for handle in ["@ana1", "@ana2", "@ana3"] {
            let id = store
                .upsert_customer(
                    Platform::X,
                    handle,
                    Some("Ana Pereira"),
                    Tier::Standard,
                    0.0,
                    Timestamp(1),
                    None,
                )
                .await
                .unwrap();
            people.push(store.customer(&id).await.unwrap().unwrap());
        }
        let [a, b, c] = [people[0].clone(), people[1].clone(), people[2].clone()];
        let CustomerMerged::Merged(first) = store
            .merge_customers(&plan(&b, &c, None, 10))
            .await
            .unwrap()
        else {
            panic!("{name}")
        };
        let b_now = store.customer(&b.id).await.unwrap().unwrap();
        let CustomerMerged::Merged(second) = store
            .merge_customers(&plan(&a, &b_now, None, 20))
            .await
            .unwrap()
        else {
            panic!("{name}")
        };
        let c_keys = identity_keys(&c);
        let b_keys = identity_keys(&b_now);
        assert_eq!(
            store
                .undo_customer_merge(&first.id, &c_keys, "user:sam", Timestamp(30))
                .await
                .unwrap(),
            MergeUndo::Superseded(second.id.clone()),
            "{name}"
        );
        assert!(matches!(
            store
                .undo_customer_merge(&second.id, &b_keys, "user:sam", Timestamp(31))
                .await
                .unwrap(),
            MergeUndo::Undone { .. }
        ));
        assert!(matches!(
            store
                .undo_customer_merge(&first.id, &c_keys, "user:sam", Timestamp(32))
                .await
                .unwrap(),
            MergeUndo::Undone { .. }
        ));
        for p in [&a, &b, &c] {
            assert_eq!(
                &store.customer(&p.id).await.unwrap().unwrap(),
                p,
                "{name}: everyone is back as they were"
            );
        }
    }
}
