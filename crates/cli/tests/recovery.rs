//! The disaster-recovery drill, as an operator runs it: back up, lose the database, restore,
//! and find every message and case again — on SQLite always, and on PostgreSQL when
//! `SWITCHBOARD_TEST_PG_URL` names a server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::Connection;
use std::path::Path;
use std::process::{Command, Output};

fn bin(database_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SWITCHBOARD_") {
            c.env_remove(k);
        }
    }
    c.env("SWITCHBOARD_LOG", "warn")
        .env("SWITCHBOARD_DATABASE_URL", database_url);
    c
}

fn run(database_url: &str, args: &[&str]) -> Output {
    bin(database_url).args(args).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A refusal is one line on stderr and a non-zero exit.
fn refused(o: &Output) -> String {
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).trim().to_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

fn write_messages(dir: &Path, name: &str, from: usize, n: usize) -> String {
    let lines: Vec<String> = (from..from + n)
        .map(|i| {
            format!(
                r#"{{"source":"x","external_id":"dr-{i}","author":"@cust{}","text":"My order {i} is late, please help"}}"#,
                i % 7
            )
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n")).unwrap();
    path.to_str().unwrap().to_owned()
}

/// (messages, cases) as the product's own store reports them.
async fn counts(database_url: &str) -> (i64, i64) {
    let store = sb_store::open(database_url).await.unwrap();
    let c = store.counts().await.unwrap();
    (c.messages, c.cases)
}

#[tokio::test]
async fn sqlite_backup_and_restore_survive_losing_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", data.join("switchboard.db").display());
    let backup = dir.path().join("sb.backup");
    ok(&run(
        &url,
        &["import", &write_messages(dir.path(), "a.jsonl", 0, 40)],
    ));
    let before = counts(&url).await;
    assert_eq!(before.0, 40);
    assert!(before.1 > 0);

    let out = ok(&run(&url, &["backup", "--out", backup.to_str().unwrap()]));
    assert!(out.contains("40 messages"), "{out}");
    let err = refused(&run(&url, &["backup", "--out", backup.to_str().unwrap()]));
    assert!(err.contains("already exists"), "{err}");

    // Later work, then the disaster.
    ok(&run(
        &url,
        &["import", &write_messages(dir.path(), "b.jsonl", 40, 5)],
    ));
    std::fs::remove_dir_all(&data).unwrap();

    ok(&run(&url, &["restore", "--from", backup.to_str().unwrap()]));
    assert_eq!(counts(&url).await, before);
    // The restored database takes new work.
    ok(&run(
        &url,
        &["import", &write_messages(dir.path(), "b.jsonl", 40, 5)],
    ));
    assert_eq!(counts(&url).await.0, 45);

    // An existing database is replaced only on purpose; a bad backup never replaces it.
    let err = refused(&run(&url, &["restore", "--from", backup.to_str().unwrap()]));
    assert!(err.contains("--force"), "{err}");
    let junk = dir.path().join("junk.backup");
    std::fs::write(&junk, b"definitely not a database").unwrap();
    let err = refused(&run(
        &url,
        &["restore", "--from", junk.to_str().unwrap(), "--force"],
    ));
    assert!(
        err.contains("not a SQLite database") || err.contains("cannot open"),
        "{err}"
    );
    assert_eq!(counts(&url).await.0, 45);
    let err = refused(&run(
        &url,
        &[
            "restore",
            "--from",
            dir.path().join("nope").to_str().unwrap(),
        ],
    ));
    assert!(err.contains("no backup"), "{err}");

    ok(&run(
        &url,
        &["restore", "--from", backup.to_str().unwrap(), "--force"],
    ));
    assert_eq!(counts(&url).await, before);
}

#[tokio::test]
async fn postgres_backup_and_restore_roll_the_database_back() {
    let Ok(base) = std::env::var("SWITCHBOARD_TEST_PG_URL") else {
        eprintln!("SWITCHBOARD_TEST_PG_URL is not set; PostgreSQL drill skipped");
        return;
    };
    let name = format!(
        "sb_dr_{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("unexpected URL {base}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("pg.backup");

    ok(&run(
        &url,
        &["import", &write_messages(dir.path(), "a.jsonl", 0, 30)],
    ));
    let before = counts(&url).await;
    assert_eq!(before.0, 30);
    ok(&run(&url, &["backup", "--out", backup.to_str().unwrap()]));
    ok(&run(
        &url,
        &["import", &write_messages(dir.path(), "b.jsonl", 30, 10)],
    ));
    assert_eq!(counts(&url).await.0, 40);

    ok(&run(&url, &["restore", "--from", backup.to_str().unwrap()]));
    assert_eq!(counts(&url).await, before);
    // Restored, the redelivered later messages are new again and the schema still migrates.
    ok(&run(
        &url,
        &["import", &write_messages(dir.path(), "b.jsonl", 30, 10)],
    ));
    assert_eq!(counts(&url).await.0, 40);

    let junk = dir.path().join("junk.backup");
    std::fs::write(&junk, b"not a dump").unwrap();
    let err = refused(&run(&url, &["restore", "--from", junk.to_str().unwrap()]));
    assert!(err.contains("pg_restore failed"), "{err}");
    assert_eq!(counts(&url).await.0, 40);
}

#[tokio::test]
async fn rebuild_reanalyses_stored_messages_with_the_configuration_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("data/switchboard.db").display()
    );
    ok(&run(
        &url,
        &["import", &write_messages(dir.path(), "a.jsonl", 0, 20)],
    ));
    let watch = dir.path().join("watch.csv");
    std::fs::write(&watch, "complaints,late\n").unwrap();
    let rebuild = || {
        bin(&url)
            .arg("rebuild")
            .env("SWITCHBOARD_NLP_WATCHLIST", &watch)
            .output()
            .unwrap()
    };
    let out = ok(&rebuild());
    assert!(
        out.starts_with("re-analysed 20 messages (20 changed)"),
        "{out}"
    );
    let store = sb_store::open(&url).await.unwrap();
    let page = store.processed_messages(None, 100).await.unwrap();
    assert_eq!(page.len(), 20);
    for m in &page {
        let watch = &m.enrichment.as_ref().unwrap().watch;
        assert_eq!(watch.len(), 1, "{:?}", m.enrichment);
        assert_eq!(watch[0].term, "late");
    }
    // Nothing new to derive the second time.
    let out = ok(&rebuild());
    assert!(
        out.starts_with("re-analysed 20 messages (0 changed), corrected 0 cases"),
        "{out}"
    );
    // A broken configuration is one line and changes nothing.
    let err = refused(
        &bin(&url)
            .arg("rebuild")
            .env("SWITCHBOARD_NLP_WATCHLIST", dir.path().join("missing.csv"))
            .output()
            .unwrap(),
    );
    assert!(err.contains("missing.csv"), "{err}");
}
