//! `audit`, `privacy`, `retention` and `users`: governance from the command line, on the
//! configured database, without a running server. Every command here leaves an entry in the
//! audit trail under the actor `cli`.

use crate::app::open_store;
use crate::config::{Config, RetentionPolicy};
use anyhow::{Context, bail};
use clap::Subcommand;
use sb_domain::{Clock, CustomerId, Role, SystemClock, Timestamp};
use sb_governance::{AuditEntry, AuditRecord, ExportSigner};
use sb_store::Store;
use sb_web::privacy::{self, Requester};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const CLI: Requester<'static> = Requester {
    actor: "cli",
    role: Some("admin"),
    origin: None,
};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit chain; exit 0 when intact, else name the first bad entry.
    Verify,
    /// Write the chain (or one customer's entries) as signed JSONL for a regulator.
    Export {
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
        /// Only entries concerning this customer.
        #[arg(long)]
        customer: Option<String>,
    },
    /// Check a signed export: its signature, its digest and each entry's hash.
    CheckExport {
        file: PathBuf,
        /// The public key (hex) the export must be signed with.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print one customer's history as the audit trail records it, one JSON line per entry.
    History {
        #[arg(long)]
        customer: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Erase the customer's personal data everywhere it is stored (right to erasure).
    Erase {
        #[arg(long)]
        customer: String,
    },
    /// Write everything held about the customer as one JSON document (right of access).
    Export {
        #[arg(long)]
        customer: String,
        /// The file to write (standard output when absent); it must not exist.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Apply the configured retention policies now.
    Run,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user or set their role and password; the password is read from
    /// `SWITCHBOARD_USER_PASSWORD`, or from the first line of standard input.
    Set {
        login: String,
        #[arg(long)]
        role: String,
        /// Regions whose customers the user may read, comma-separated (every region if absent).
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
    },
}

fn customer_id(s: &str) -> anyhow::Result<CustomerId> {
    CustomerId::parse(s).with_context(|| format!("`{s}` is not a customer id"))
}

fn create_new(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))
}

async fn all_entries(
    store: &dyn Store,
    customer: Option<&CustomerId>,
) -> anyhow::Result<Vec<AuditEntry>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_entries(customer, after, 2000).await?;
        let full = page.len() == 2000;
        after = page.last().map_or(after, |e| e.seq);
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// The export signing key, created (readable only by its owner) on first use.
fn signer(path: &Path) -> anyhow::Result<ExportSigner> {
    if path.exists() {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        return ExportSigner::from_pkcs8(&bytes)
            .with_context(|| format!("{} is not an Ed25519 PKCS#8 key", path.display()));
    }
    let (signer, document) = ExportSigner::generate()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = create_new(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(&document)?;
    Ok(signer)
}

fn cli_record(action: &str, subject: Option<String>, detail: serde_json::Value) -> AuditRecord {
    AuditRecord {
        at_ms: SystemClock.now().millis(),
        actor: CLI.actor.into(),
        role: CLI.role.map(str::to_owned),
        action: action.into(),
        subject,
        customer_id: None,
        origin: None,
        outcome: 0,
        detail: Some(serde_json::json!({ "after": detail })),
    }
}

pub async fn audit(cfg: &Config, command: AuditCommand) -> anyhow::Result<()> {
    if let AuditCommand::CheckExport { file, public_key } = &command {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let n = sb_governance::verify_export(&text, public_key.as_deref())
            .with_context(|| format!("{} does not verify", file.display()))?;
        println!("export intact: {n} entries, signature valid");
        return Ok(());
    }
    let store = open_store(cfg).await?;
    match command {
        AuditCommand::Verify => {
            let report = sb_web::check_audit_chain(store.as_ref()).await?;
            if !report.intact {
                bail!("audit chain broken: {}", report.problem.unwrap_or_default());
            }
            println!(
                "audit chain intact: {} entries, head {}",
                report.entries, report.head_seq
            );
        }
        AuditCommand::Export { out, customer } => {
            let customer = customer.as_deref().map(customer_id).transpose()?;
            let signer = signer(&cfg.audit_signing_key())?;
            let entries = all_entries(store.as_ref(), customer.as_ref()).await?;
            let file = create_new(&out)?;
            let n = sb_governance::write_signed_export(
                std::io::BufWriter::new(file),
                entries,
                &signer,
            )?;
            store
                .append_audit(vec![cli_record(
                    "audit.export",
                    customer.map(|c| format!("customer:{c}")),
                    serde_json::json!({ "entries": n, "file": out.display().to_string() }),
                )])
                .await?;
            println!(
                "wrote {n} entries to {}; public key {}",
                out.display(),
                signer.public_key_hex()
            );
        }
        AuditCommand::History { customer } => {
            let customer = customer_id(&customer)?;
            let mut stdout = std::io::stdout().lock();
            for e in all_entries(store.as_ref(), Some(&customer)).await? {
                serde_json::to_writer(&mut stdout, &e)?;
                writeln!(stdout)?;
            }
        }
        AuditCommand::CheckExport { .. } => {}
    }
    Ok(())
}

pub async fn privacy(cfg: &Config, command: PrivacyCommand) -> anyhow::Result<()> {
    let store = open_store(cfg).await?;
    match command {
        PrivacyCommand::Erase { customer } => {
            let customer = customer_id(&customer)?;
            let counts = privacy::erase(store.as_ref(), &customer, &CLI).await?;
            println!(
                "erased customer {customer}: {} messages, {} identities, {} cases ({} events, {} replies, {} outbox items), {} audit details",
                counts.messages,
                counts.identities,
                counts.cases,
                counts.case_events,
                counts.replies,
                counts.outbox,
                counts.audit_details
            );
        }
        PrivacyCommand::Export { customer, out } => {
            let customer = customer_id(&customer)?;
            let bundle = privacy::export(store.as_ref(), &customer, &CLI).await?;
            let text = serde_json::to_string_pretty(&bundle)?;
            match out {
                Some(path) => {
                    create_new(&path)?.write_all(text.as_bytes())?;
                    eprintln!("wrote the export of {customer} to {}", path.display());
                }
                None => println!("{text}"),
            }
        }
    }
    Ok(())
}

/// Applies each policy in batches until nothing older is left; returns the count per policy.
pub async fn apply_retention(
    store: &dyn Store,
    policies: &[RetentionPolicy],
    now: Timestamp,
) -> anyhow::Result<Vec<u64>> {
    Ok(privacy::apply_retention(store, policies, now, &CLI).await?)
}

pub async fn retention(
    cfg: &Config,
    RetentionCommand::Run: RetentionCommand,
) -> anyhow::Result<()> {
    let store = open_store(cfg).await?;
    let in_force = privacy::retention_in_force(store.as_ref(), &cfg.privacy.retention).await?;
    if in_force.policies.is_empty() {
        bail!("no retention policies are configured ([[privacy.retention]] or the Retention page)");
    }
    let counts = apply_retention(store.as_ref(), &in_force.policies, SystemClock.now()).await?;
    for (p, n) in in_force.policies.iter().zip(counts) {
        println!(
            "{} messages older than {} days{}: {n} erased",
            p.class,
            p.days,
            p.region
                .as_deref()
                .map(|r| format!(" in {r}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// `serve`'s scheduled retention: runs at start and then every `every`, with the policies in
/// force at each run (saved at run time, else the configuration file's `file`).
pub async fn retention_schedule(
    store: Arc<dyn Store>,
    file: Vec<RetentionPolicy>,
    every: std::time::Duration,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let policies = match privacy::retention_in_force(store.as_ref(), &file).await {
            Ok(p) => p.policies,
            Err(e) => {
                tracing::error!(error = %e, "reading the retention policies failed; no run");
                continue;
            }
        };
        if policies.is_empty() {
            continue;
        }
        if let Err(e) = apply_retention(store.as_ref(), &policies, SystemClock.now()).await {
            tracing::error!(error = %e, "retention run failed");
        }
    }
}

pub async fn users(cfg: &Config, command: UsersCommand) -> anyhow::Result<()> {
    let UsersCommand::Set {
        login,
        role,
        regions,
    } = command;
    let role = Role::parse(&role).with_context(|| format!("no role `{role}`"))?;
    let password = match std::env::var("SWITCHBOARD_USER_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.chars().count() < 12 {
        bail!("a password has at least 12 characters");
    }
    let hash = sb_web::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
    let store = open_store(cfg).await?;
    store
        .upsert_user(&login, &hash, role.as_str(), SystemClock.now())
        .await?;
    let regions: Vec<String> = regions
        .into_iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    store
        .set_user_regions(&login, (!regions.is_empty()).then_some(regions.as_slice()))
        .await?;
    store
        .append_audit(vec![cli_record(
            "user.set",
            Some(format!("user:{login}")),
            serde_json::json!({ "role": role, "regions": regions }),
        )])
        .await?;
    println!("user {login} is now {role}");
    Ok(())
}
