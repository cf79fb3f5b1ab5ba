//! Governance on every back end (G1–G4): keys that rotate with an overlap, users whose sessions
//! end when they change, an audit chain that stays whole under concurrent writers and shows
//! where the database was tampered with, erasure that leaves nothing behind (not even in free
//! pages), and retention by data class, region and legal hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::{
    CaseChange, CustomerId, Enrichment, MessageId, NewMessage, NewOutboxItem, Platform, Revision,
    Timestamp,
};
use sb_governance::audit::{BreakReason, GENESIS, verify};
use sb_governance::{AuditEntry, AuditRecord};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use switchboard_store::{
    ApiKey, CaseSave, Erasure, ErasureCounts, GovernanceStore, MessageRecord, NewApiKey, Session,
    SqliteStore, Store, StoredReply, User,
};

/// SQLite always; PostgreSQL when `SWITCHBOARD_TEST_PG_URL` names a database. Each call gets
/// empty stores: a fresh file (`t.db` in the returned directory), and a fresh schema.
mod common;
use common::{append, backends, process};

const DAY: i64 = 86_400_000;

/// A message as a platform would deliver it, `received_at` when the ingest edge stamped it.
fn message(ext: &str, author: Value, text: &str, region: &str, received_at: i64) -> MessageRecord {
    let m = NewMessage::parse(json!({
        "source": "x", "external_id": ext, "author": author, "text": text, "region": region,
    }))
    .unwrap();
    MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(received_at),
        message: m,
    }
}

fn understood_as(data_class: &str) -> Enrichment {
    Enrichment {
        language: "en".into(),
        language_confidence: 1.0,
        data_class: data_class.into(),
        ..Enrichment::default()
    }
}

fn audit_record(n: i64, customer: Option<&str>, detail: Option<Value>) -> AuditRecord {
    AuditRecord {
        at_ms: 1_000 + n,
        actor: format!("user:agent-{n}"),
        role: Some("agent".into()),
        action: "PATCH /api/v1/cases/{id}".into(),
        subject: Some(format!("case:c{n}")),
        customer_id: customer.map(str::to_owned),
        origin: Some("10.0.0.7".into()),
        outcome: 200,
        detail,
    }
}

async fn whole_chain(store: &dyn Store) -> Vec<AuditEntry> {
    store.audit_entries(None, 0, 10_000).await.unwrap()
}

/// Verifies the whole stored chain against the stored head.
async fn chain_check(store: &dyn Store) -> Result<u64, sb_governance::ChainBreak> {
    let (seq, hash) = store.audit_head().await.unwrap();
    verify(whole_chain(store).await, Some((seq, &hash)))
}

fn new_key(name: &str, scopes: Option<&[&str]>, created: i64, expires: Option<i64>) -> NewApiKey {
    NewApiKey {
        name: name.into(),
        key_hash: switchboard_store::hash_api_key(&format!("sb_{name}_{created}")),
        role: "agent".into(),
        scopes: scopes.map(|s| s.iter().map(|p| (*p).to_owned()).collect()),
        created_at: Timestamp(created),
        expires_at: expires.map(Timestamp),
        // A key scoped to one region reads back with it.
        regions: scopes.map(|_| vec!["eu".to_owned()]),
    }
}

fn stored(id: &str, k: &NewApiKey) -> ApiKey {
    ApiKey {
        id: id.into(),
        name: k.name.clone(),
        role: k.role.clone(),
        scopes: k.scopes.clone(),
        created_at: k.created_at,
        expires_at: k.expires_at,
        revoked_at: None,
        rotated_to: None,
        regions: k.regions.clone(),
    }
}

// ---- keys ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_scoped_key_is_read_back_exactly_and_found_by_its_hash_only() {
    for (name, store, _dir) in backends().await {
        let narrow = new_key(
            "ci",
            Some(&["cases.read", "cases.write"]),
            1_000,
            Some(90 * DAY),
        );
        let nothing = new_key("locked", Some(&[]), 1_001, None);
        let broad = new_key("ops", None, 1_002, None);
        let a = store.create_api_key(&narrow).await.unwrap();
        let b = store.create_api_key(&nothing).await.unwrap();
        let c = store.create_api_key(&broad).await.unwrap();
        assert_eq!(
            store.api_key(&a).await.unwrap(),
            Some(stored(&a, &narrow)),
            "{name}"
        );
        assert_eq!(
            store.api_key(&b).await.unwrap(),
            Some(stored(&b, &nothing)),
            "{name}: an empty scope list is not the same as no narrowing"
        );
        assert_eq!(
            store.api_key_by_hash(&narrow.key_hash).await.unwrap(),
            Some(stored(&a, &narrow)),
            "{name}"
        );
        assert_eq!(store.api_key("key_nope").await.unwrap(), None, "{name}");
        assert_eq!(
            store.api_keys().await.unwrap(),
            vec![
                stored(&a, &narrow),
                stored(&b, &nothing),
                stored(&c, &broad)
            ],
            "{name}: oldest first"
        );
    }
}

#[tokio::test]
async fn a_rotated_key_overlaps_with_its_successor_and_rotates_once() {
    for (name, store, _dir) in backends().await {
        let old = new_key("ci", Some(&["cases.read"]), 1_000, Some(90 * DAY));
        let id = store.create_api_key(&old).await.unwrap();
        let next = new_key("ci", Some(&["cases.read"]), 2_000, Some(180 * DAY));
        let overlap_end = Timestamp(2_000 + DAY);
        let new_id = store
            .rotate_api_key(&id, &next, overlap_end)
            .await
            .unwrap()
            .expect("a live key rotates");
        assert_ne!(new_id, id, "{name}");
        assert_eq!(
            store.api_key(&new_id).await.unwrap(),
            Some(stored(&new_id, &next)),
            "{name}: the successor is stored as given"
        );
        let before = store.api_key(&id).await.unwrap().unwrap();
        assert_eq!(
            before,
            ApiKey {
                expires_at: Some(overlap_end),
                rotated_to: Some(new_id.clone()),
                ..stored(&id, &old)
            },
            "{name}: the old key works until the overlap ends"
        );

        // Rotating the same key again, e.g. a retried request, stores nothing.
        let retry = new_key("ci", None, 3_000, None);
        assert_eq!(
            store
                .rotate_api_key(&id, &retry, overlap_end)
                .await
                .unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            store.api_key_by_hash(&retry.key_hash).await.unwrap(),
            None,
            "{name}"
        );
        assert_eq!(store.api_key(&id).await.unwrap(), Some(before), "{name}");
        assert_eq!(store.api_keys().await.unwrap().len(), 2, "{name}");

        // The successor is live and rotates in its turn.
        let third = new_key("ci", None, 4_000, None);
        assert!(
            store
                .rotate_api_key(&new_id, &third, Timestamp(5_000))
                .await
                .unwrap()
                .is_some(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn rotation_never_extends_a_key_that_expires_sooner() {
    for (name, store, _dir) in backends().await {
        let soon = new_key("soon", None, 1_000, Some(5_000));
        let id = store.create_api_key(&soon).await.unwrap();
        let next = new_key("soon", None, 2_000, None);
        let new_id = store
            .rotate_api_key(&id, &next, Timestamp(2_000 + DAY))
            .await
            .unwrap()
            .unwrap();
        let k = store.api_key(&id).await.unwrap().unwrap();
        assert_eq!(
            (k.expires_at, k.rotated_to),
            (Some(Timestamp(5_000)), Some(new_id)),
            "{name}: the earlier expiry stays"
        );

        let forever = new_key("forever", None, 3_000, None);
        let id = store.create_api_key(&forever).await.unwrap();
        let next = new_key("forever", None, 4_000, None);
        store
            .rotate_api_key(&id, &next, Timestamp(9_000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store.api_key(&id).await.unwrap().unwrap().expires_at,
            Some(Timestamp(9_000)),
            "{name}: a key without expiry gets the overlap's end"
        );
    }
}

#[tokio::test]
async fn unknown_and_revoked_keys_do_not_rotate_and_revoking_is_done_once() {
    for (name, store, _dir) in backends().await {
        let next = new_key("next", None, 2_000, None);
        assert_eq!(
            store
                .rotate_api_key("key_01UNKNOWN", &next, Timestamp(9_000))
                .await
                .unwrap(),
            None,
            "{name}"
        );
        let k = new_key("leaked", None, 1_000, None);
        let id = store.create_api_key(&k).await.unwrap();
        assert!(
            store.revoke_api_key(&id, Timestamp(1_500)).await.unwrap(),
            "{name}"
        );
        assert!(
            !store.revoke_api_key(&id, Timestamp(1_600)).await.unwrap(),
            "{name}: the second revoke changes nothing"
        );
        assert_eq!(
            store.api_key(&id).await.unwrap().unwrap().revoked_at,
            Some(Timestamp(1_500)),
            "{name}: the first revocation time stays"
        );
        assert_eq!(
            store
                .rotate_api_key(&id, &next, Timestamp(9_000))
                .await
                .unwrap(),
            None,
            "{name}: a revoked key is not brought back by rotating it"
        );
        assert_eq!(
            store.api_key_by_hash(&next.key_hash).await.unwrap(),
            None,
            "{name}"
        );
        assert!(
            !store
                .revoke_api_key("key_01UNKNOWN", Timestamp(1))
                .await
                .unwrap(),
            "{name}"
        );
    }
}

// ---- users and sessions ----------------------------------------------------------------------

fn session(token: &str, login: &str) -> Session {
    Session {
        token_hash: token.into(),
        login: login.into(),
        csrf: format!("csrf-{token}"),
        created_at: Timestamp(1_000),
        expires_at: Timestamp(1_000 + DAY),
    }
}

#[tokio::test]
async fn a_new_role_ends_the_users_sessions_but_not_anyone_elses() {
    for (name, store, _dir) in backends().await {
        store
            .upsert_user("zoe", "$argon2id$one", "agent", Timestamp(1))
            .await
            .unwrap();
        store
            .upsert_user("amy", "$argon2id$amy", "analyst", Timestamp(1))
            .await
            .unwrap();
        assert_eq!(
            store.user("zoe").await.unwrap(),
            Some(User {
                login: "zoe".into(),
                password_hash: "$argon2id$one".into(),
                role: "agent".into(),
                disabled_at: None,
                regions: None,
            }),
            "{name}"
        );
        assert_eq!(store.user("nobody").await.unwrap(), None, "{name}");
        store
            .create_session(&session("t-zoe", "zoe"))
            .await
            .unwrap();
        store
            .create_session(&session("t-amy", "amy"))
            .await
            .unwrap();
        assert_eq!(
            store.session("t-zoe").await.unwrap(),
            Some(session("t-zoe", "zoe")),
            "{name}"
        );

        store
            .upsert_user("zoe", "$argon2id$two", "supervisor", Timestamp(2))
            .await
            .unwrap();
        let zoe = store.user("zoe").await.unwrap().unwrap();
        assert_eq!(
            (zoe.role.as_str(), zoe.password_hash.as_str()),
            ("supervisor", "$argon2id$two"),
            "{name}"
        );
        assert_eq!(
            store.session("t-zoe").await.unwrap(),
            None,
            "{name}: signed in under the old role"
        );
        assert!(store.session("t-amy").await.unwrap().is_some(), "{name}");

        store.delete_session("t-amy").await.unwrap();
        assert_eq!(
            store.session("t-amy").await.unwrap(),
            None,
            "{name}: signed out"
        );
    }
}

#[tokio::test]
async fn a_disabled_user_loses_their_sessions_until_set_again() {
    for (name, store, _dir) in backends().await {
        store
            .upsert_user("zoe", "$argon2id$one", "agent", Timestamp(1))
            .await
            .unwrap();
        store.create_session(&session("t-1", "zoe")).await.unwrap();
        store.create_session(&session("t-2", "zoe")).await.unwrap();
        assert!(
            store.disable_user("zoe", Timestamp(50)).await.unwrap(),
            "{name}"
        );
        assert_eq!(
            store.user("zoe").await.unwrap().unwrap().disabled_at,
            Some(Timestamp(50)),
            "{name}"
        );
        assert_eq!(store.session("t-1").await.unwrap(), None, "{name}");
        assert_eq!(store.session("t-2").await.unwrap(), None, "{name}");
        assert!(
            !store.disable_user("zoe", Timestamp(60)).await.unwrap(),
            "{name}: already disabled"
        );
        assert_eq!(
            store.user("zoe").await.unwrap().unwrap().disabled_at,
            Some(Timestamp(50)),
            "{name}: the first time stays"
        );
        assert!(
            !store.disable_user("nobody", Timestamp(60)).await.unwrap(),
            "{name}"
        );
        store
            .upsert_user("zoe", "$argon2id$new", "agent", Timestamp(70))
            .await
            .unwrap();
        assert_eq!(
            store.user("zoe").await.unwrap().unwrap().disabled_at,
            None,
            "{name}: setting a user again enables them"
        );
    }
}

#[tokio::test]
async fn users_are_listed_by_login() {
    for (name, store, _dir) in backends().await {
        for login in ["mia", "amy", "zoe", "bo"] {
            store
                .upsert_user(login, "$argon2id$x", "agent", Timestamp(1))
                .await
                .unwrap();
        }
        let logins: Vec<_> = store
            .users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.login)
            .collect();
        assert_eq!(logins, ["amy", "bo", "mia", "zoe"], "{name}");
    }
}

// ---- the audit chain -------------------------------------------------------------------------

#[tokio::test]
async fn batches_extend_one_contiguous_chain_that_verifies_against_its_head() {
    for (name, store, _dir) in backends().await {
        assert_eq!(
            store.audit_head().await.unwrap(),
            (0, GENESIS.to_owned()),
            "{name}: an empty chain"
        );
        assert_eq!(chain_check(store.as_ref()).await, Ok(0), "{name}");
        assert!(
            store.append_audit(Vec::new()).await.unwrap().is_empty(),
            "{name}"
        );

        let ana = CustomerId::generate().to_string();
        let bob = CustomerId::generate().to_string();
        // Who each record concerns: ana, bob or nobody.
        let owners = [
            Some(&ana),
            None,
            Some(&bob),
            Some(&ana),
            None,
            Some(&bob),
            Some(&ana),
            None,
        ];
        let records: Vec<AuditRecord> = owners
            .iter()
            .zip(1..)
            .map(|(c, n)| {
                audit_record(
                    n,
                    c.map(String::as_str),
                    (n % 2 == 0).then(|| json!({"before": {"status": "new"}, "after": {"n": n}})),
                )
            })
            .collect();
        let mut seqs = Vec::new();
        for batch in [&records[0..1], &records[1..6], &records[6..8]] {
            seqs.push(store.append_audit(batch.to_vec()).await.unwrap());
        }
        assert_eq!(
            seqs,
            vec![vec![1], vec![2, 3, 4, 5, 6], vec![7, 8]],
            "{name}"
        );

        let entries = whole_chain(store.as_ref()).await;
        let got: Vec<AuditRecord> = entries.iter().map(|e| e.record.clone()).collect();
        assert_eq!(got, records, "{name}: every record is stored as given");
        let head = store.audit_head().await.unwrap();
        assert_eq!(head, (8, entries[7].hash.clone()), "{name}");
        assert_eq!(
            verify(entries.clone(), Some((head.0, &head.1))),
            Ok(8),
            "{name}"
        );

        let anas: Vec<i64> = store
            .audit_entries(Some(&CustomerId::parse(&ana).unwrap()), 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(anas, [1, 4, 7], "{name}: only ana's, in chain order");
        let anas_later: Vec<i64> = store
            .audit_entries(Some(&CustomerId::parse(&ana).unwrap()), 4, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(anas_later, [7], "{name}");

        let page: Vec<i64> = store
            .audit_entries(None, 3, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(page, [4, 5], "{name}: after seq 3, two entries");
        assert!(
            store.audit_entries(None, 8, 10).await.unwrap().is_empty(),
            "{name}: nothing after the head"
        );
    }
}

/// Eight writers appending at once never fork the chain or reuse a sequence number: the head
/// row lock on PostgreSQL and the single writer connection on SQLite serialise them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_extend_one_unbroken_chain() {
    for (name, store, _dir) in backends().await {
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut seqs = Vec::new();
                    for i in 0..25 {
                        let r = audit_record(w * 100 + i, None, Some(json!({"w": w, "i": i})));
                        seqs.extend(store.append_audit(vec![r]).await.unwrap());
                    }
                    seqs
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for w in writers {
            seqs.extend(w.await.unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<i64>>(), "{name}");
        let entries = whole_chain(store.as_ref()).await;
        assert_eq!(entries.len(), 200, "{name}");
        assert_eq!(store.audit_head().await.unwrap().0, 200, "{name}");
        assert_eq!(chain_check(store.as_ref()).await, Ok(200), "{name}");
    }
}

/// A SQLite store with a chain of five entries, and a second connection to its file, as
/// someone with access to the database would have.
async fn sqlite_chain_of_five() -> (SqliteStore, sqlx::SqlitePool, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let records = (1..=5)
        .map(|n| audit_record(n, None, Some(json!({"after": {"tags": ["late"]}}))))
        .collect();
    store.append_audit(records).await.unwrap();
    let raw =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
            .await
            .unwrap();
    (store, raw, dir)
}

async fn tamper(raw: &sqlx::SqlitePool, sql: &'static str) {
    let done = sqlx::query(sql).execute(raw).await.unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

#[tokio::test]
async fn an_actor_rewritten_in_the_database_is_found_at_its_entry() {
    let (store, raw, _dir) = sqlite_chain_of_five().await;
    tamper(&raw, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3").await;
    let err = chain_check(&store).await.unwrap_err();
    assert_eq!((err.seq, err.reason), (3, BreakReason::Edited));
}

#[tokio::test]
async fn a_detail_rewritten_in_the_database_is_found_at_its_entry() {
    let (store, raw, _dir) = sqlite_chain_of_five().await;
    tamper(
        &raw,
        "UPDATE audit_log SET detail = '{\"after\":{\"tags\":[]}}' WHERE seq = 2",
    )
    .await;
    let err = chain_check(&store).await.unwrap_err();
    assert_eq!((err.seq, err.reason), (2, BreakReason::DetailEdited));
}

#[tokio::test]
async fn an_entry_deleted_from_the_middle_shows_as_missing() {
    let (store, raw, _dir) = sqlite_chain_of_five().await;
    tamper(&raw, "DELETE FROM audit_log WHERE seq = 3").await;
    let err = chain_check(&store).await.unwrap_err();
    assert_eq!(
        (err.seq, err.reason),
        (4, BreakReason::Missing { expected_seq: 3 })
    );
}

#[tokio::test]
async fn a_cut_tail_disagrees_with_the_recorded_head() {
    let (store, raw, _dir) = sqlite_chain_of_five().await;
    tamper(&raw, "DELETE FROM audit_log WHERE seq = 5").await;
    let err = chain_check(&store).await.unwrap_err();
    assert_eq!(
        (err.seq, err.position, err.reason),
        (4, 4, BreakReason::HeadMismatch)
    );
}

// ---- erasure ---------------------------------------------------------------------------------

const MARKER: &str = "Quokka7731Marker";

fn holds_marker(v: &impl serde::Serialize) -> bool {
    serde_json::to_string(v).unwrap().contains(MARKER)
}

fn bytes_hold(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Which of the SQLite files (`t.db`, `t.db-wal`, `t.db-shm`) hold `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    ["t.db", "t.db-wal", "t.db-shm"]
        .into_iter()
        .filter(|f| {
            std::fs::read(dir.join(f))
                .map(|bytes| bytes_hold(&bytes, needle))
                .unwrap_or(false)
        })
        .map(str::to_owned)
        .collect()
}

/// What a care team holds about Quinn: three messages (one still in the pipeline, one edited),
/// a case with a note, a reply and its outbox item, and audit entries about them.
struct Quinn {
    customer: CustomerId,
    case: sb_domain::CaseId,
    messages: Vec<MessageId>,
    reply: String,
    bob: MessageId,
}

async fn quinn_and_bob(store: &dyn Store) -> Quinn {
    let quinn = json!({"handle": "@quinn", "name": format!("Quinn {MARKER}")});
    let first = message(
        "q1",
        quinn.clone(),
        &format!("my card ends {MARKER}, where is my refund?"),
        "eu",
        1_000,
    );
    let second = message("q2", quinn, &format!("{MARKER} again"), "eu", 1_100);
    let bob = message("b1", json!("@bob"), "bob's own words", "eu", 1_200);
    let ids = append(store, &[first, second, bob]).await;
    process(store, &ids, understood_as("personal")).await;
    store
        .revise_message(
            Platform::X,
            "q1",
            &Revision::Edit {
                text: format!("edited: {MARKER}"),
            },
            Timestamp(1_500),
        )
        .await
        .unwrap();
    // Arrived, not yet processed: it carries no customer, only the handle.
    let pending = append(
        store,
        &[message(
            "q3",
            json!("@QUINN"),
            &format!("{MARKER} pending"),
            "eu",
            1_600,
        )],
    )
    .await;

    let m = store.message(&ids[0]).await.unwrap().unwrap();
    let customer = m.customer_id.unwrap();
    let case = m.case_id.unwrap();
    let work = store.case_work(&case).await.unwrap().unwrap();
    let mut note = CaseChange::from_work(&work, Timestamp(3_000));
    note.event(
        "note",
        "user:sam",
        Timestamp(3_000),
        json!({"text": format!("called back, {MARKER} confirmed")}),
    );
    assert_eq!(store.save_case_work(&note).await.unwrap(), CaseSave::Saved);

    let reply = format!("rep_{}", ulid::Ulid::generate());
    store
        .insert_reply(&StoredReply {
            id: reply.clone(),
            case_id: case.clone(),
            author: "user:sam".into(),
            automated: false,
            status: "queued".into(),
            doc: json!({
                "target": "x",
                "versions": [{"text": format!("Hi Quinn, about {MARKER}"), "by": "user:sam"}],
                "to": {"handle": "@quinn"},
            }),
            created_at: Timestamp(3_100),
            updated_at: Timestamp(3_100),
            version: 0,
        })
        .await
        .unwrap();
    store
        .enqueue(
            &[NewOutboxItem {
                target: "x".into(),
                dedup_key: format!("reply:{case}:k1:0"),
                payload: json!({"kind": "reply", "text": format!("Hi Quinn, about {MARKER}")}),
                subject: Some(case.to_string()),
            }],
            Timestamp(3_200),
        )
        .await
        .unwrap();

    let about_quinn = AuditRecord {
        customer_id: Some(customer.to_string()),
        ..audit_record(1, None, Some(json!({"before": {"text": MARKER}})))
    };
    let about_the_case = AuditRecord {
        subject: Some(format!("case:{case}")),
        ..audit_record(2, None, Some(json!({"after": {"note": MARKER}})))
    };
    let bob_customer = store
        .message(&ids[2])
        .await
        .unwrap()
        .unwrap()
        .customer_id
        .unwrap();
    let about_bob = AuditRecord {
        customer_id: Some(bob_customer.to_string()),
        ..audit_record(3, None, Some(json!({"before": {"text": "bob detail"}})))
    };
    store
        .append_audit(vec![about_quinn, about_the_case, about_bob])
        .await
        .unwrap();

    Quinn {
        customer,
        case,
        messages: vec![ids[0].clone(), ids[1].clone(), pending[0].clone()],
        reply,
        bob: ids[2].clone(),
    }
}

#[tokio::test]
async fn a_legal_hold_blocks_erasure_and_changes_nothing() {
    for (name, store, _dir) in backends().await {
        let q = quinn_and_bob(store.as_ref()).await;
        assert!(
            store
                .set_legal_hold(&q.customer, Some("litigation 42"))
                .await
                .unwrap(),
            "{name}"
        );
        assert_eq!(
            store.legal_hold(&q.customer).await.unwrap(),
            Some(Some("litigation 42".to_owned())),
            "{name}"
        );
        assert_eq!(
            store
                .erase_customer(&q.customer, Timestamp(9_000))
                .await
                .unwrap(),
            Erasure::Held("litigation 42".into()),
            "{name}"
        );
        for m in &q.messages {
            let m = store.message(m).await.unwrap().unwrap();
            assert!(m.text.contains(MARKER), "{name}: {}", m.text);
        }
        assert_eq!(
            store.message_revisions(&q.messages[0]).await.unwrap().len(),
            1,
            "{name}"
        );
        let c = store.customer(&q.customer).await.unwrap().unwrap();
        assert_eq!(c.identities.len(), 1, "{name}");
        assert!(
            holds_marker(&store.case_events(&q.case).await.unwrap()),
            "{name}"
        );
        assert!(
            holds_marker(&store.reply(&q.reply).await.unwrap().unwrap().doc),
            "{name}"
        );
        assert!(
            holds_marker(&store.outbox_for_subject(q.case.as_str()).await.unwrap()),
            "{name}"
        );
        assert!(
            whole_chain(store.as_ref())
                .await
                .iter()
                .all(|e| e.record.detail.is_some()),
            "{name}"
        );
        assert!(
            !store
                .set_legal_hold(&CustomerId::generate(), Some("x"))
                .await
                .unwrap(),
            "{name}: no such customer"
        );
        assert_eq!(
            store.legal_hold(&CustomerId::generate()).await.unwrap(),
            None,
            "{name}"
        );
    }
}

#[tokio::test]
async fn erasure_removes_a_customers_words_everywhere_and_the_chain_still_verifies() {
    for (name, store, dir) in backends().await {
        let q = quinn_and_bob(store.as_ref()).await;
        if name == "sqlite" {
            assert!(
                !files_holding(dir.path(), MARKER).is_empty(),
                "the file check below can see the marker while it is stored"
            );
        }
        store
            .set_legal_hold(&q.customer, Some("litigation 42"))
            .await
            .unwrap();
        assert!(store.set_legal_hold(&q.customer, None).await.unwrap());
        assert_eq!(
            store.legal_hold(&q.customer).await.unwrap(),
            Some(None),
            "{name}: the hold is lifted"
        );

        let Erasure::Done(counts) = store
            .erase_customer(&q.customer, Timestamp(9_000))
            .await
            .unwrap()
        else {
            panic!("{name}: erasure did not run");
        };
        assert_eq!(
            counts,
            ErasureCounts {
                messages: 3,
                identities: 1,
                cases: 1,
                case_events: 1,
                replies: 1,
                outbox: 1,
                audit_details: 2,
                disruption_messages: 0,
            },
            "{name}"
        );

        for id in &q.messages {
            let m = store.message(id).await.unwrap().unwrap();
            assert_eq!(
                (
                    m.text.as_str(),
                    m.author.handle.as_str(),
                    m.author.name.as_deref()
                ),
                ("", "", None),
                "{name}: {id}"
            );
            assert_eq!(store.message_raw(id).await.unwrap(), Some(json!({})));
            assert!(
                store.message_revisions(id).await.unwrap().is_empty(),
                "{name}"
            );
        }
        let texts: Vec<String> = store
            .customer_messages(&q.customer)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["", ""], "{name}: the processed two");
        let c = store.customer(&q.customer).await.unwrap().unwrap();
        assert!(c.identities.is_empty(), "{name}");
        assert_eq!(c.display_name, None, "{name}");
        assert_eq!(
            store.case(&q.case).await.unwrap().unwrap().subject,
            "",
            "{name}"
        );
        let events = store.case_events(&q.case).await.unwrap();
        assert_eq!(events.len(), 1, "{name}: the note stays, without its text");
        assert!(!holds_marker(&events), "{name}: {events:?}");
        let reply = store.reply(&q.reply).await.unwrap().unwrap();
        assert!(!holds_marker(&reply.doc), "{name}: {}", reply.doc);
        assert_eq!(reply.doc["target"], "x", "{name}: labels stay");
        let outbox = store.outbox_for_subject(q.case.as_str()).await.unwrap();
        assert_eq!(outbox.len(), 1, "{name}");
        assert!(!holds_marker(&outbox), "{name}: {outbox:?}");

        let chain = whole_chain(store.as_ref()).await;
        assert_eq!(
            chain
                .iter()
                .map(|e| e.record.detail.is_some())
                .collect::<Vec<_>>(),
            [false, false, true],
            "{name}: quinn's and the case's details are gone, bob's stays"
        );
        assert!(!holds_marker(&chain), "{name}");
        assert_eq!(
            chain_check(store.as_ref()).await,
            Ok(3),
            "{name}: erasing a detail keeps the chain"
        );

        // Bob is untouched.
        let bob = store.message(&q.bob).await.unwrap().unwrap();
        assert_eq!(bob.text, "bob's own words", "{name}");
        let bob = store
            .customer(bob.customer_id.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bob.identities.len(), 1, "{name}");

        assert_eq!(
            store
                .erase_customer(&CustomerId::generate(), Timestamp(9_000))
                .await
                .unwrap(),
            Erasure::Unknown,
            "{name}"
        );

        store.compact().await.unwrap();
        if name == "sqlite" {
            assert_eq!(
                files_holding(dir.path(), MARKER),
                Vec::<String>::new(),
                "not even in free pages or the write-ahead log"
            );
            assert!(
                !files_holding(dir.path(), "bob's own words").is_empty(),
                "the file check still sees what was not erased"
            );
        }
    }
}

/// The API reads while an erasure runs. A reader holding a snapshot keeps the checkpoint from
/// emptying the write-ahead log; compaction must then say it did not finish rather than report
/// success with the erased words still in the files.
#[tokio::test]
async fn compaction_under_an_open_reader_does_not_claim_what_it_did_not_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let q = quinn_and_bob(&store).await;
    let reader = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .read_only(true),
    )
    .await
    .unwrap();
    let mut snapshot = reader.begin().await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM messages")
        .fetch_one(&mut *snapshot)
        .await
        .unwrap();
    assert_eq!(n, 4);

    assert!(matches!(
        store
            .erase_customer(&q.customer, Timestamp(9_000))
            .await
            .unwrap(),
        Erasure::Done(_)
    ));
    let compacted = store.compact().await;
    let lingering = files_holding(dir.path(), MARKER);
    snapshot.rollback().await.unwrap();
    reader.close().await;
    if compacted.is_ok() {
        assert_eq!(
            lingering,
            Vec::<String>::new(),
            "compact() succeeded while the erased words were still in these files"
        );
    }
}

/// SQLite's `lower()` folds ASCII only, while identity keys are lowercased by Rust: a pending
/// message from `@ZOË` must still be found through the identity `x:@zoë`.
#[tokio::test]
async fn a_pending_message_under_a_non_ascii_handle_is_erased_too() {
    let mut missed = Vec::new();
    for (name, store, _dir) in backends().await {
        let zoe = store
            .upsert_customer(
                Platform::X,
                "@Zoë",
                Some("Zoë"),
                sb_domain::Tier::Standard,
                0.0,
                Timestamp(1),
                None,
            )
            .await
            .unwrap();
        let pending = append(
            store.as_ref(),
            &[message("z1", json!("@ZOË"), "Zoë writes", "eu", 1_000)],
        )
        .await;
        let Erasure::Done(counts) = store.erase_customer(&zoe, Timestamp(9_000)).await.unwrap()
        else {
            panic!("{name}: erasure did not run");
        };
        let m = store.message(&pending[0]).await.unwrap().unwrap();
        if (counts.messages, m.text.as_str()) != (1, "") {
            missed.push(format!(
                "{name}: {} erased, text {:?}",
                counts.messages, m.text
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "the pending message from the erased customer's handle survives: {missed:?}"
    );
}

// ---- retention -------------------------------------------------------------------------------

async fn erased_at(dir: &Path, id: &MessageId) -> Option<i64> {
    let raw = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("t.db")),
    )
    .await
    .unwrap();
    let (at,): (Option<i64>,) = sqlx::query_as("SELECT erased_at FROM messages WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(&raw)
        .await
        .unwrap();
    raw.close().await;
    at
}

#[tokio::test]
async fn retention_erases_old_messages_of_one_class_by_region_and_spares_legal_holds() {
    let now = Timestamp(100 * DAY);
    let cutoff = Timestamp(70 * DAY);
    let (old, new) = (10 * DAY, 90 * DAY);
    for (name, store, dir) in backends().await {
        let person = |h: &str| json!({"handle": h, "name": format!("Name of {h}")});
        let personal = append(
            store.as_ref(),
            &[
                message("p-eu", person("@pe"), "call me on 0151 000", "eu", old),
                message("p-us1", person("@pu1"), "mail me at a@b.c", "us", old),
                message("p-us2", person("@pu2"), "mail me at c@d.e", "us", old),
                message("p-new", person("@pn"), "my number is 0170", "eu", new),
                message("p-held", person("@ph"), "sue you, 0152 111", "eu", old),
            ],
        )
        .await;
        process(store.as_ref(), &personal, understood_as("personal")).await;
        let [p_eu, p_us1, p_us2, p_new, p_held] = <[MessageId; 5]>::try_from(personal).unwrap();
        let standard = append(
            store.as_ref(),
            &[message("s-old", person("@so"), "nice shop", "eu", old)],
        )
        .await;
        process(store.as_ref(), &standard, understood_as("standard")).await;
        let s_old = standard[0].clone();
        // Still in the pipeline: stored as `standard` until understood.
        let r_old = append(
            store.as_ref(),
            &[message("r-old", person("@ro"), "not yet read", "eu", old)],
        )
        .await[0]
            .clone();
        let held = store
            .message(&p_held)
            .await
            .unwrap()
            .unwrap()
            .customer_id
            .unwrap();
        store
            .set_legal_hold(&held, Some("regulator inquiry"))
            .await
            .unwrap();

        let text = |id: MessageId| {
            let store = Arc::clone(&store);
            async move { store.message(&id).await.unwrap().unwrap().text }
        };

        assert_eq!(
            store
                .apply_retention("personal", Some("eu"), cutoff, now, 1000)
                .await
                .unwrap(),
            1,
            "{name}: only the old personal message in eu that is not held"
        );
        assert_eq!(text(p_eu.clone()).await, "", "{name}");
        assert_eq!(text(p_us1.clone()).await, "mail me at a@b.c", "{name}");

        assert_eq!(
            store
                .apply_retention("personal", None, cutoff, now, 1)
                .await
                .unwrap(),
            1,
            "{name}: the limit holds"
        );
        assert_eq!(
            (text(p_us1.clone()).await, text(p_us2.clone()).await),
            (String::new(), "mail me at c@d.e".to_owned()),
            "{name}: oldest first"
        );
        assert_eq!(
            store
                .apply_retention("personal", None, cutoff, now, 1)
                .await
                .unwrap(),
            1,
            "{name}"
        );
        assert_eq!(
            store
                .apply_retention("personal", None, cutoff, now, 1000)
                .await
                .unwrap(),
            0,
            "{name}: erased messages are not erased again"
        );
        assert_eq!(text(p_new.clone()).await, "my number is 0170", "{name}");
        assert_eq!(text(p_held.clone()).await, "sue you, 0152 111", "{name}");
        assert_eq!(text(s_old.clone()).await, "nice shop", "{name}");

        assert_eq!(
            store
                .apply_retention("standard", None, cutoff, now, 1000)
                .await
                .unwrap(),
            1,
            "{name}: the message still in the pipeline is left for it"
        );
        assert_eq!(text(s_old.clone()).await, "", "{name}");
        assert_eq!(text(r_old.clone()).await, "not yet read", "{name}");

        for id in [&p_eu, &p_us1, &p_us2, &s_old] {
            let m = store.message(id).await.unwrap().unwrap();
            assert_eq!(m.author.name, None, "{name}: {id}");
            assert_eq!(store.message_raw(id).await.unwrap(), Some(json!({})));
        }

        store.set_legal_hold(&held, None).await.unwrap();
        assert_eq!(
            store
                .apply_retention("personal", None, cutoff, now, 1000)
                .await
                .unwrap(),
            1,
            "{name}: once the hold is lifted"
        );
        assert_eq!(text(p_held.clone()).await, "", "{name}");

        if name == "sqlite" {
            for id in [&p_eu, &p_us1, &p_us2, &s_old, &p_held] {
                assert_eq!(erased_at(dir.path(), id).await, Some(now.millis()), "{id}");
            }
            for id in [&p_new, &r_old] {
                assert_eq!(erased_at(dir.path(), id).await, None, "{id}");
            }
        }
    }
}

/// A case's subject is the first line of its first message: retention that erases the
/// message must not leave its words in the case.
#[tokio::test]
async fn retention_leaves_no_copy_of_an_erased_text_in_its_case() {
    let mut kept = Vec::new();
    for (name, store, _dir) in backends().await {
        let ids = append(
            store.as_ref(),
            &[message(
                "p1",
                json!("@pat"),
                "call me on +44 20 7946 0958",
                "eu",
                DAY,
            )],
        )
        .await;
        process(store.as_ref(), &ids, understood_as("personal")).await;
        let n = store
            .apply_retention(
                "personal",
                None,
                Timestamp(30 * DAY),
                Timestamp(60 * DAY),
                10,
            )
            .await
            .unwrap();
        assert_eq!(n, 1, "{name}");
        let m = store.message(&ids[0]).await.unwrap().unwrap();
        let case = store
            .case(m.case_id.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.text, "", "{name}");
        if case.subject.contains("7946") {
            kept.push(format!("{name}: {:?}", case.subject));
        }
    }
    assert!(
        kept.is_empty(),
        "the erased text lives on as the case subject: {kept:?}"
    );
}
