//! `switchboard backup` and `switchboard restore` for both back ends (J5).
//!
//! SQLite: `VACUUM INTO` writes a consistent copy while the product runs; restore checks the
//! copy, then swaps it in with a rename, so a failed restore leaves the old database whole.
//! PostgreSQL: `pg_dump` in its custom format, and `pg_restore` in one transaction, so a failed
//! restore changes nothing.

use crate::config::Config;
use anyhow::{Context, bail};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::process::Command;

enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

fn backend(cfg: &Config) -> anyhow::Result<Backend> {
    let url = cfg.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Backend::Sqlite(PathBuf::from(path)))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres(url))
    } else {
        bail!("unsupported database URL `{url}`")
    }
}

/// Writes a backup of the configured database to `out`, which must not exist yet.
pub async fn backup(cfg: &Config, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!("{} already exists; choose a new file", out.display());
    }
    match backend(cfg)? {
        Backend::Sqlite(db) => {
            if !db.exists() {
                bail!("no database at {}", db.display());
            }
            let mut conn = open_sqlite(&db, false).await?;
            let target = out
                .to_str()
                .context("the backup path must be valid UTF-8")?;
            sqlx::query("VACUUM INTO $1")
                .bind(target)
                .execute(&mut conn)
                .await
                .with_context(|| format!("cannot write {}", out.display()))?;
            conn.close().await?;
            let counts = check_sqlite(out).await?;
            println!("backup written: {} ({counts})", out.display());
        }
        Backend::Postgres(url) => {
            run_tool(
                Command::new("pg_dump")
                    .arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--file")
                    .arg(out)
                    .arg("--dbname")
                    .arg(&url),
                "pg_dump",
            )?;
            run_tool(
                Command::new("pg_restore").arg("--list").arg(out),
                "pg_restore --list",
            )?;
            println!("backup written: {}", out.display());
        }
    }
    Ok(())
}

/// Replaces the configured database with the backup in `from`. Every process using the
/// database must be stopped first. An existing SQLite database is replaced only with `force`.
pub async fn restore(cfg: &Config, from: &Path, force: bool) -> anyhow::Result<()> {
    if !from.is_file() {
        bail!("no backup at {}", from.display());
    }
    match backend(cfg)? {
        Backend::Sqlite(db) => {
            let counts = check_sqlite(from).await?;
            if db.exists() && !force {
                bail!(
                    "{} exists; pass --force to replace it (stop every process using it first)",
                    db.display()
                );
            }
            if let Some(dir) = db.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let staging = db.with_extension("db.restoring");
            std::fs::copy(from, &staging)
                .with_context(|| format!("cannot copy to {}", staging.display()))?;
            for suffix in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{suffix}", db.display()));
                if side.exists() {
                    std::fs::remove_file(&side)
                        .with_context(|| format!("cannot remove {}", side.display()))?;
                }
            }
            std::fs::rename(&staging, &db)
                .with_context(|| format!("cannot move the backup into {}", db.display()))?;
            println!(
                "restored {} from {} ({counts})",
                db.display(),
                from.display()
            );
        }
        Backend::Postgres(url) => {
            run_tool(
                Command::new("pg_restore")
                    .arg("--clean")
                    .arg("--if-exists")
                    .arg("--no-owner")
                    .arg("--single-transaction")
                    .arg("--exit-on-error")
                    .arg("--dbname")
                    .arg(&url)
                    .arg(from),
                "pg_restore",
            )?;
            println!("restored the PostgreSQL database from {}", from.display());
        }
    }
    Ok(())
}

async fn open_sqlite(path: &Path, read_only: bool) -> anyhow::Result<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .journal_mode(if read_only {
            SqliteJournalMode::Delete
        } else {
            SqliteJournalMode::Wal
        })
        .connect()
        .await
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Proves a file is a whole Switchboard database: it opens, passes SQLite's integrity check and
/// has a migrated schema. Answers what it holds.
async fn check_sqlite(path: &Path) -> anyhow::Result<String> {
    let mut conn = open_sqlite(path, true).await?;
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    if ok != "ok" {
        bail!("{} is damaged: {ok}", path.display());
    }
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a Switchboard database", path.display()))?;
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&mut conn)
        .await?;
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(format!(
        "schema {}, {messages} messages, {cases} cases",
        version.unwrap_or(0)
    ))
}

fn run_tool(cmd: &mut Command, name: &str) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {name}; is the PostgreSQL client installed?"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{name} failed: {}", err.trim().replace('\n', " "));
    }
    Ok(())
}
