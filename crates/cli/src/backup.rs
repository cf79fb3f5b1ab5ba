//! `switchboard backup` and `switchboard restore` for both back ends (J5).
//!
//! SQLite: `VACUUM INTO` writes a consistent copy while the product runs; restore checks the
//! copy, then swaps it in with a rename, so a failed restore leaves the old database whole.
//! Each region partition's file (G5) is copied after the main file, to `OUT.region-<name>`:
//! content placed after the main copy was taken is then in the region copy too, and the
//! central copy of it, still in the main file, is placed again at the next start.
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
    for p in &cfg.privacy.partitions {
        let copy = region_copy(out, &p.region);
        if copy.exists() {
            bail!("{} already exists; choose a new file", copy.display());
        }
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
            for (region, file) in region_files(cfg, &db) {
                if !file.exists() {
                    println!("region {region}: no partition file yet, nothing to copy");
                    continue;
                }
                let copy = region_copy(out, &region);
                let mut conn = open_sqlite(&file, false).await?;
                sqlx::query("VACUUM INTO $1")
                    .bind(copy.to_string_lossy().into_owned())
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("cannot write {}", copy.display()))?;
                conn.close().await?;
                let held = check_region(&copy).await?;
                println!("region {region}: written {} ({held})", copy.display());
            }
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
            // Every region the backup placed content in must come back with it.
            let configured = region_files(cfg, &db);
            let mut swaps: Vec<(PathBuf, PathBuf)> = Vec::new();
            for region in placed_regions(from).await? {
                let Some((_, file)) = configured.iter().find(|(r, _)| *r == region) else {
                    bail!(
                        "the backup holds content in the partition of region `{region}`, which is not configured (privacy.partitions)"
                    );
                };
                let copy = region_copy(from, &region);
                if !copy.is_file() {
                    bail!("no backup of region `{region}` at {}", copy.display());
                }
                check_region(&copy).await?;
                swaps.push((copy, file.clone()));
            }
            swaps.push((from.to_path_buf(), db.clone()));
            let mut staged = Vec::with_capacity(swaps.len());
            for (copy, target) in &swaps {
                if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                let staging = target.with_extension("db.restoring");
                std::fs::copy(copy, &staging)
                    .with_context(|| format!("cannot copy to {}", staging.display()))?;
                staged.push((staging, target));
            }
            // The region files first, the main file last: until it is in place, the old
            // database stays whole except for content it never placed in a region.
            for (staging, target) in staged {
                for suffix in ["-wal", "-shm"] {
                    let side = PathBuf::from(format!("{}{suffix}", target.display()));
                    if side.exists() {
                        std::fs::remove_file(&side)
                            .with_context(|| format!("cannot remove {}", side.display()))?;
                    }
                }
                std::fs::rename(&staging, target)
                    .with_context(|| format!("cannot move the backup into {}", target.display()))?;
            }
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

/// Opens a SQLite file read-only once it has passed SQLite's integrity check.
async fn open_checked(path: &Path) -> anyhow::Result<SqliteConnection> {
    let mut conn = open_sqlite(path, true).await?;
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    if ok != "ok" {
        bail!("{} is damaged: {ok}", path.display());
    }
    Ok(conn)
}

/// Proves a file is a whole Switchboard database: it opens, passes SQLite's integrity check and
/// has a migrated schema. Answers what it holds.
async fn check_sqlite(path: &Path) -> anyhow::Result<String> {
    let mut conn = open_checked(path).await?;
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

/// Each configured region with its SQLite file, for the main database file `db`.
fn region_files(cfg: &Config, db: &Path) -> Vec<(String, PathBuf)> {
    cfg.privacy
        .store_partitions()
        .iter()
        .map(|p| (p.region.clone(), p.sqlite_file(db)))
        .collect()
}

/// Where the copy of `region`'s file goes beside the main backup `out`.
fn region_copy(out: &Path, region: &str) -> PathBuf {
    PathBuf::from(format!("{}.region-{region}", out.display()))
}

/// The regions a (backed-up) main database placed content in; none before migration 21.
async fn placed_regions(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut conn = open_sqlite(path, true).await?;
    let regions = sqlx::query_scalar("SELECT region FROM placed_regions ORDER BY region")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    conn.close().await?;
    Ok(regions)
}

/// Proves a file is a whole region partition: it passes SQLite's integrity check and holds
/// the partition's tables. Answers what it holds.
async fn check_region(path: &Path) -> anyhow::Result<String> {
    let mut conn = open_checked(path).await?;
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM message_content")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a Switchboard region partition", path.display()))?;
    conn.close().await?;
    Ok(format!("content of {messages} messages"))
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
