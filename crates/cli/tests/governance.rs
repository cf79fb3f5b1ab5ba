//! Governance from the command line, as an operator runs it on a data directory: users, the
//! audit trail and its signed exports, a customer's export and erasure, and retention.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sb_domain::case::{PlanMessage, plan_batch};
use sb_domain::{
    Clock, CustomerId, Enrichment, MessageId, NewMessage, Platform, SystemClock, Tier, Timestamp,
};
use sb_store::{GovernanceStore, MessageRecord, SettingsStore, SqliteStore, Store};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

mod common;
use common::bin;

/// Runs `switchboard ARGS` on the data directory `data`, from `data`'s parent.
fn run(args: &[&str], data: &Path) -> Output {
    bin()
        .args(args)
        .env("SWITCHBOARD_DATA_DIR", data)
        .current_dir(data.parent().unwrap())
        .output()
        .unwrap()
}

fn set_user(login: &str, role: &str, password: &str, data: &Path) -> Output {
    bin()
        .args(["users", "set", login, "--role", role])
        .env("SWITCHBOARD_DATA_DIR", data)
        .env("SWITCHBOARD_USER_PASSWORD", password)
        .current_dir(data.parent().unwrap())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn succeeds(o: &Output, what: &str) {
    assert!(o.status.success(), "{what}: {}", stderr(o));
}

/// Fails with exactly one line on stderr that contains `want`.
#[track_caller]
fn fails_with(o: &Output, want: &str, what: &str) {
    assert!(!o.status.success(), "{what} succeeded: {}", stdout(o));
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("switchboard: "), "{what}: {err}");
    assert!(err.contains(want), "{what}: wanted {want:?} in {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
}

/// A temporary directory and the data directory inside it (created by the first command).
fn data_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    (dir, data)
}

const STRONG: &str = "correct horse battery";

#[test]
fn every_governance_command_has_help() {
    let (_dir, data) = data_dir();
    std::fs::create_dir_all(&data).unwrap();
    for cmd in [
        vec!["audit", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["audit", "export", "--help"],
        vec!["audit", "check-export", "--help"],
        vec!["audit", "history", "--help"],
        vec!["privacy", "--help"],
        vec!["privacy", "erase", "--help"],
        vec!["privacy", "export", "--help"],
        vec!["retention", "--help"],
        vec!["retention", "run", "--help"],
        vec!["users", "--help"],
        vec!["users", "set", "--help"],
    ] {
        let o = run(&cmd, &data);
        succeeds(&o, &format!("{cmd:?}"));
        assert!(stdout(&o).contains("Usage"), "{cmd:?}");
    }
}

#[test]
fn an_admin_sets_a_supervisor_and_bad_roles_or_short_passwords_are_refused() {
    let (_dir, data) = data_dir();
    let o = set_user("alice", "supervisor", STRONG, &data);
    succeeds(&o, "users set");
    assert!(stdout(&o).contains("alice"), "{}", stdout(&o));

    fails_with(
        &set_user("alice", "wizard", STRONG, &data),
        "no role `wizard`",
        "a role that does not exist",
    );
    fails_with(
        &set_user("bob", "agent", "short", &data),
        "at least 12 characters",
        "a short password",
    );
    // Without the variable and with nothing on standard input there is no password either.
    let o = bin()
        .args(["users", "set", "carol", "--role", "agent"])
        .env("SWITCHBOARD_DATA_DIR", &data)
        .output()
        .unwrap();
    fails_with(&o, "at least 12 characters", "no password at all");
}

#[tokio::test]
async fn audit_verify_names_the_entry_edited_in_the_database() {
    let (_dir, data) = data_dir();
    let o = run(&["audit", "verify"], &data);
    succeeds(&o, "verify on a fresh data directory");
    assert!(stdout(&o).contains("0 entries"), "{}", stdout(&o));

    succeeds(&set_user("alice", "supervisor", STRONG, &data), "alice");
    succeeds(&set_user("bob", "agent", STRONG, &data), "bob");
    let o = run(&["audit", "verify"], &data);
    succeeds(&o, "verify after two users");
    assert!(stdout(&o).contains("2 entries"), "{}", stdout(&o));

    let db = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("switchboard.db")),
    )
    .await
    .unwrap();
    let done = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    db.close().await;

    let o = run(&["audit", "verify"], &data);
    fails_with(&o, "entry 1", "verify after tampering");
    assert!(stderr(&o).contains("edited"), "{}", stderr(&o));
}

#[test]
fn a_signed_export_checks_out_and_any_change_to_it_does_not() {
    let (dir, data) = data_dir();
    succeeds(&set_user("alice", "supervisor", STRONG, &data), "alice");
    succeeds(&set_user("bob", "agent", STRONG, &data), "bob");
    let file = dir.path().join("audit.jsonl");
    let o = run(&["audit", "export", "--out", file.to_str().unwrap()], &data);
    succeeds(&o, "export");
    let out = stdout(&o);
    assert!(out.contains("wrote 2 entries"), "{out}");
    let public_key = out.rsplit("public key ").next().unwrap().trim().to_owned();
    assert_eq!(public_key.len(), 64, "{out}");
    assert!(data.join("audit-signing.key").exists());

    let path = file.to_str().unwrap();
    let o = run(&["audit", "check-export", path], &data);
    succeeds(&o, "check-export");
    assert!(stdout(&o).contains("2 entries"), "{}", stdout(&o));
    succeeds(
        &run(
            &["audit", "check-export", path, "--public-key", &public_key],
            &data,
        ),
        "check-export against our key",
    );
    fails_with(
        &run(
            &[
                "audit",
                "check-export",
                path,
                "--public-key",
                &"0".repeat(64),
            ],
            &data,
        ),
        "does not verify",
        "check-export against someone else's key",
    );

    // One byte changed inside the first entry: `alice` becomes `alicf`.
    let text = std::fs::read_to_string(&file).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.contains("user:alice"), "{first}");
    let forged = dir.path().join("forged.jsonl");
    std::fs::write(&forged, text.replacen("user:alice", "user:alicf", 1)).unwrap();
    fails_with(
        &run(&["audit", "check-export", forged.to_str().unwrap()], &data),
        "does not verify",
        "check-export of an edited file",
    );

    fails_with(
        &run(&["audit", "export", "--out", path], &data),
        "must not exist",
        "export over an existing file",
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "the earlier export is left as it was"
    );
}

fn understood_as(data_class: &str) -> Enrichment {
    Enrichment {
        language: "en".into(),
        language_confidence: 1.0,
        data_class: data_class.into(),
        ..Enrichment::default()
    }
}

fn message(ext: &str, handle: &str, text: &str, received_at: i64) -> MessageRecord {
    MessageRecord {
        id: MessageId::generate(),
        received_at: Timestamp(received_at),
        message: NewMessage::parse(
            json!({"source": "x", "external_id": ext, "author": handle, "text": text}),
        )
        .unwrap(),
    }
}

/// Places stored messages in cases the way the pipeline does.
async fn process(store: &dyn Store, ids: &[MessageId], e: Enrichment) {
    let msgs = store.messages_for_processing(ids).await.unwrap();
    let planned: Vec<PlanMessage> = msgs
        .iter()
        .map(|m| PlanMessage::from_message(m, e.clone()))
        .collect();
    let ctx = store.case_context(&planned).await.unwrap();
    let q = store.default_queue().await.unwrap();
    let now = SystemClock.now();
    let plan = plan_batch(&planned, ctx, &q.id, now);
    store.apply_case_plan(&plan, now).await.unwrap();
}

/// A CRM-imported customer `@quinn` in the data directory; `processed` of their messages have
/// been through the pipeline, the rest are still waiting for it.
async fn quinn(data: &Path, processed: &[&str], waiting: &[&str]) -> CustomerId {
    let store = SqliteStore::open(&data.join("switchboard.db"))
        .await
        .unwrap();
    let id = store
        .upsert_customer(
            Platform::X,
            "@quinn",
            Some("Quinn"),
            Tier::Vip,
            1200.0,
            Timestamp(1),
            None,
        )
        .await
        .unwrap();
    let now = SystemClock.now().millis();
    let records: Vec<_> = processed
        .iter()
        .enumerate()
        .map(|(i, t)| message(&format!("q{i}"), "@quinn", t, now))
        .collect();
    let ids: Vec<_> = store
        .append_messages(&records)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    process(&store, &ids, understood_as("personal")).await;
    let records: Vec<_> = waiting
        .iter()
        .enumerate()
        .map(|(i, t)| message(&format!("w{i}"), "@quinn", t, now))
        .collect();
    store.append_messages(&records).await.unwrap();
    id
}

async fn texts_of(data: &Path, customer: &CustomerId) -> Vec<String> {
    let store = SqliteStore::open(&data.join("switchboard.db"))
        .await
        .unwrap();
    store
        .customer_messages(customer)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect()
}

#[tokio::test]
async fn a_customer_is_exported_then_erased_and_their_history_shows_both() {
    let (dir, data) = data_dir();
    let q = quinn(&data, &["my card ends 4242, where is my refund?"], &[]).await;
    let file = dir.path().join("quinn.json");
    let id = q.to_string();
    let o = run(
        &[
            "privacy",
            "export",
            "--customer",
            &id,
            "--out",
            file.to_str().unwrap(),
        ],
        &data,
    );
    succeeds(&o, "privacy export");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(bundle["format"], "switchboard.customer-export.v1");
    assert_eq!(bundle["customer"]["id"], id.as_str());
    let messages = bundle["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{bundle}");
    assert_eq!(
        messages[0]["message"]["text"],
        "my card ends 4242, where is my refund?"
    );
    assert_eq!(bundle["cases"].as_array().unwrap().len(), 1, "{bundle}");

    let o = run(&["privacy", "erase", "--customer", &id], &data);
    succeeds(&o, "privacy erase");
    assert!(stdout(&o).contains("1 messages"), "{}", stdout(&o));
    assert_eq!(texts_of(&data, &q).await, [""]);

    let o = run(&["audit", "history", "--customer", &id], &data);
    succeeds(&o, "audit history");
    let actions: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            let e: Value = serde_json::from_str(l).unwrap();
            assert_eq!(e["customer_id"], id.as_str(), "{l}");
            e["action"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(actions, ["privacy.export", "privacy.erase"]);
    succeeds(&run(&["audit", "verify"], &data), "the chain after erasure");
}

#[tokio::test]
async fn a_customer_under_legal_hold_is_not_erased() {
    let (_dir, data) = data_dir();
    let q = quinn(&data, &["my card ends 4242"], &[]).await;
    {
        let store = SqliteStore::open(&data.join("switchboard.db"))
            .await
            .unwrap();
        assert!(
            store
                .set_legal_hold(&q, Some("litigation 42"))
                .await
                .unwrap()
        );
    }
    fails_with(
        &run(&["privacy", "erase", "--customer", &q.to_string()], &data),
        "litigation 42",
        "erasing a held customer",
    );
    assert_eq!(texts_of(&data, &q).await, ["my card ends 4242"]);
}

/// The right of access covers every message held about the customer, including one that
/// arrived but has not been through the pipeline yet (which erasure does find by its handle).
#[tokio::test]
async fn an_export_includes_messages_still_in_the_pipeline() {
    let (dir, data) = data_dir();
    let q = quinn(&data, &["first, processed"], &["second, still waiting"]).await;
    let file = dir.path().join("quinn.json");
    let o = run(
        &[
            "privacy",
            "export",
            "--customer",
            &q.to_string(),
            "--out",
            file.to_str().unwrap(),
        ],
        &data,
    );
    succeeds(&o, "privacy export");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let texts: Vec<&str> = bundle["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["first, processed", "second, still waiting"],
        "the export leaves out what erasure would remove"
    );
}

#[test]
fn privacy_commands_refuse_bad_and_unknown_customers_in_one_line() {
    let (_dir, data) = data_dir();
    fails_with(
        &run(&["privacy", "erase", "--customer", "not-an-id"], &data),
        "not a customer id",
        "a malformed id",
    );
    let unknown = CustomerId::generate().to_string();
    fails_with(
        &run(&["privacy", "erase", "--customer", &unknown], &data),
        "no customer",
        "an unknown customer",
    );
    fails_with(
        &run(&["privacy", "export", "--customer", &unknown], &data),
        "no customer",
        "exporting an unknown customer",
    );
    fails_with(
        &run(&["audit", "history", "--customer", "not-an-id"], &data),
        "not a customer id",
        "history of a malformed id",
    );
}

#[tokio::test]
async fn retention_runs_each_configured_policy_and_needs_at_least_one() {
    let (dir, data) = data_dir();
    fails_with(
        &run(&["retention", "run"], &data),
        "no retention policies",
        "retention without policies",
    );

    // An old personal message and a fresh one.
    let old = {
        let store = SqliteStore::open(&data.join("switchboard.db"))
            .await
            .unwrap();
        let now = SystemClock.now().millis();
        let recs = [
            message("old", "@ana", "call me on 0151 000", now - 40 * 86_400_000),
            message("new", "@bo", "mail me at bo@example.com", now),
        ];
        let ids: Vec<_> = store
            .append_messages(&recs)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        process(&store, &ids, understood_as("personal")).await;
        ids
    };

    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        "[privacy]\nretention = [{ class = \"personal\", days = 30 }, \
         { class = \"sensitive\", days = 7, region = \"eu\" }]\n",
    )
    .unwrap();
    let o = run(
        &["--config", config.to_str().unwrap(), "retention", "run"],
        &data,
    );
    succeeds(&o, "retention run");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "personal messages older than 30 days: 1 erased",
            "sensitive messages older than 7 days in eu: 0 erased",
        ],
        "{out}"
    );

    let store = SqliteStore::open(&data.join("switchboard.db"))
        .await
        .unwrap();
    assert_eq!(store.message(&old[0]).await.unwrap().unwrap().text, "");
    assert_eq!(
        store.message(&old[1]).await.unwrap().unwrap().text,
        "mail me at bo@example.com"
    );
    let (seq, _) = store.audit_head().await.unwrap();
    let last = store.audit_entries(None, seq - 1, 1).await.unwrap();
    assert_eq!(last[0].record.action, "retention.run");
    drop(store);
    succeeds(
        &run(&["audit", "verify"], &data),
        "the chain after retention",
    );

    // A set saved at run time (the API's `PUT /api/v1/retention/policies`) wins over the file.
    let store = SqliteStore::open(&data.join("switchboard.db"))
        .await
        .unwrap();
    store
        .save_settings_document(
            sb_store::settings::RETENTION,
            0,
            r#"[{"class": "standard", "days": 90, "region": null}]"#,
            "user:root",
            SystemClock.now(),
        )
        .await
        .unwrap();
    drop(store);
    let o = run(
        &["--config", config.to_str().unwrap(), "retention", "run"],
        &data,
    );
    succeeds(&o, "retention run with saved policies");
    assert_eq!(
        stdout(&o).lines().collect::<Vec<_>>(),
        ["standard messages older than 90 days: 0 erased"]
    );
}
