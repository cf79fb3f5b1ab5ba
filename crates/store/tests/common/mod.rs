//! What every store contract test runs against: SQLite always, and PostgreSQL (in a schema of
//! its own) when `SWITCHBOARD_TEST_PG_URL` names a server.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use sb_domain::case::{PlanMessage, plan_batch};
use sb_domain::{Case, CaseChange, CaseId, CaseStatus, Enrichment, MessageId, Timestamp};
use serde_json::json;
use std::sync::Arc;
use switchboard_store::{CaseSplit, MessageRecord, Partition, PgStore, SqliteStore, Store};

/// Appends the records and answers their ids, in order.
pub async fn append(store: &dyn Store, records: &[MessageRecord]) -> Vec<MessageId> {
    store
        .append_messages(records)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect()
}

/// Runs the case stages the way the pipeline does, with one understanding for the batch.
pub async fn process(store: &dyn Store, ids: &[MessageId], e: Enrichment) {
    let msgs = store.messages_for_processing(ids).await.unwrap();
    let planned: Vec<PlanMessage> = msgs
        .iter()
        .map(|m| PlanMessage::from_message(m, e.clone()))
        .collect();
    let ctx = store.case_context(&planned).await.unwrap();
    let q = store.default_queue().await.unwrap();
    let plan = plan_batch(&planned, ctx, &q.id, Timestamp(2_000));
    store
        .apply_case_plan(&plan, Timestamp(2_000))
        .await
        .unwrap();
}

/// Each back end, named, with the directory its files live in (kept alive by the caller).
pub async fn backends() -> Vec<(String, Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let mut out: Vec<(String, Arc<dyn Store>, tempfile::TempDir)> =
        vec![("sqlite".into(), Arc::new(sqlite), dir)];
    if let Ok(url) = std::env::var("SWITCHBOARD_TEST_PG_URL") {
        let schema = format!("t_{}", ulid::Ulid::generate().to_string().to_lowercase());
        let pg = PgStore::open_in_schema(&url, &schema).await.unwrap();
        out.push((
            "postgres".into(),
            Arc::new(pg),
            tempfile::tempdir().unwrap(),
        ));
    }
    out
}

/// A store opened with region partitions, and where to look at its storage directly.
pub struct Partitioned {
    pub name: String,
    pub store: Arc<dyn Store>,
    /// SQLite: the directory of `t.db` and the region files.
    pub dir: tempfile::TempDir,
    /// PostgreSQL: the server's URL and the store's schema.
    pub pg: Option<(String, String)>,
}

/// Each back end, opened with a partition for each of `regions`.
pub async fn partitioned(regions: &[&str]) -> Vec<Partitioned> {
    let partitions: Vec<Partition> = regions.iter().map(|r| Partition::new(*r)).collect();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open_partitioned(&dir.path().join("t.db"), &partitions)
        .await
        .unwrap();
    let mut out = vec![Partitioned {
        name: "sqlite".into(),
        store: Arc::new(sqlite),
        dir,
        pg: None,
    }];
    if let Ok(url) = std::env::var("SWITCHBOARD_TEST_PG_URL") {
        let schema = format!("t_{}", ulid::Ulid::generate().to_string().to_lowercase());
        let pg = PgStore::open_in_schema_partitioned(&url, &schema, &partitions)
            .await
            .unwrap();
        out.push(Partitioned {
            name: "postgres".into(),
            store: Arc::new(pg),
            dir: tempfile::tempdir().unwrap(),
            pg: Some((url, schema)),
        });
    }
    out
}

/// The split an agent asks for: `messages` out of `source` into a new case.
pub async fn split_of(
    store: &dyn Store,
    source: &CaseId,
    messages: &[MessageId],
    at: i64,
) -> CaseSplit {
    let src = store.case_work(source).await.unwrap().unwrap();
    let first = store.message(&messages[0]).await.unwrap().unwrap();
    let new_case = Case {
        id: CaseId::generate(),
        subject: first.text.clone(),
        opened_at: first.created_at,
        last_message_at: first.created_at,
        tags: Vec::new(),
        assignee: None,
        ..src.case.clone()
    };
    let ids: Vec<&str> = messages.iter().map(|m| m.as_str()).collect();
    let mut from = CaseChange::from_work(&src, Timestamp(at));
    from.event(
        "split_to",
        "agent:rita",
        Timestamp(at),
        json!({ "to": new_case.id.as_str(), "messages": ids }),
    );
    let fresh = sb_domain::CaseWork {
        case: new_case.clone(),
        version: 0,
        sla: None,
        escalations: json!([]),
        first_response_at: None,
        first_resolved_at: None,
        resolved_at: None,
        merged_into: None,
    };
    let mut new_work = CaseChange::from_work(&fresh, Timestamp(at));
    new_work.status = CaseStatus::New;
    new_work.event(
        "split_from",
        "agent:rita",
        Timestamp(at),
        json!({ "from": source.as_str(), "messages": ids }),
    );
    CaseSplit {
        source: from,
        new_case,
        new_work,
        messages: messages.to_vec(),
    }
}

/// A disruption message drafted for `customer`.
pub fn disruption_recipient(
    customer: &sb_domain::CustomerId,
    text: &str,
    excluded: Option<&str>,
) -> switchboard_store::DisruptionRecipient {
    switchboard_store::DisruptionRecipient {
        customer_id: customer.clone(),
        case_id: None,
        target: Some("x".into()),
        locale: Some("en".into()),
        template_version: Some(1),
        text: text.into(),
        preview: text.replace("Ana", "[redacted]"),
        payload: json!({"type": "reply", "platform": "x", "kind": "dm", "account": "brand",
                        "recipient": "@someone", "text": text}),
        fallbacks: vec!["status.X200".into()],
        excluded: excluded.map(str::to_owned),
        outbox_id: None,
        delivery: None,
    }
}
