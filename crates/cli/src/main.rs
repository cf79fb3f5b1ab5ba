//! The `switchboard` binary: commands, configuration, start-up and shutdown.

mod alerts;
mod app;
mod backup;
mod config;
mod demo;
mod governance;
mod import;
mod nlp;
mod rebuild;
mod secrets;
mod sim;
mod simulate;

/// mimalloc: the request path allocates many small, short-lived objects across threads,
/// which it serves markedly faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Social customer care and operations hub"
)]
struct Cli {
    /// Configuration file (TOML); SWITCHBOARD_* environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and live events.
    Serve,
    /// Run pipeline stages only (scaled deployments).
    Worker,
    /// Serve the full product on the embedded store and feed it a simulated stream.
    Demo {
        /// Where the embedded database lives.
        #[arg(long, default_value = "./switchboard-data")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Messages in the first quick wave of the simulated stream.
        #[arg(long, default_value_t = 300)]
        initial: u32,
        /// Seconds until order tracking first goes down (then every 30 minutes, for 4).
        #[arg(long, default_value_t = 240)]
        outage_after: u64,
    },
    /// Import messages from a JSONL or CSV file.
    Import {
        /// A .jsonl or .csv file of messages.
        file: PathBuf,
        /// Data directory of the embedded store (overrides configuration).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Send realistic traffic to a running server and report rate and latency.
    Simulate {
        /// Base URL of the server, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        /// Messages per second (0: as fast as the server answers).
        #[arg(long)]
        rate: u32,
        /// Seconds to run.
        #[arg(long)]
        duration: f64,
        #[arg(long, value_enum, default_value = "steady")]
        scenario: sim::Scenario,
        /// API key to send (not needed with --meta-secret).
        #[arg(long, env = "SWITCHBOARD_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Write `external_id id` for every acknowledged message to this file.
        #[arg(long)]
        ack_log: Option<PathBuf>,
        /// Random seed, for repeatable traffic.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Size of the simulated customer pool.
        #[arg(long, default_value_t = 5000)]
        customers: u32,
        /// Stop after sending this many messages (or when the duration ends, if sooner).
        #[arg(long)]
        messages: Option<u64>,
        /// Send signed Meta webhook deliveries to /webhooks/meta instead, signed with this
        /// app secret (the server's SWITCHBOARD_META_APP_SECRET).
        #[arg(long, env = "SWITCHBOARD_SIM_META_SECRET", hide_env_values = true)]
        meta_secret: Option<String>,
    },
    /// Anomaly detection on series: the live detectors, offline.
    Alerts {
        #[command(subcommand)]
        command: alerts::AlertsCommand,
    },
    /// Derive again, from the stored messages, each message's understanding (with the NLP
    /// configuration in force now) and each case's counts.
    Rebuild,
    /// Write a consistent backup of the configured database to a new file.
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the configured database with a backup. Stop every process using it first.
    Restore {
        /// A file written by `switchboard backup`.
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing SQLite database.
        #[arg(long)]
        force: bool,
    },
    /// Message analysis, training and evaluation of classifiers.
    #[command(subcommand)]
    Nlp(nlp::NlpCommand),
    /// The tamper-evident audit trail: verify, export signed, one customer's history.
    #[command(subcommand)]
    Audit(governance::AuditCommand),
    /// Privacy rights: erase or export a customer's personal data.
    #[command(subcommand)]
    Privacy(governance::PrivacyCommand),
    /// Retention of message content, by data class and region.
    #[command(subcommand)]
    Retention(governance::RetentionCommand),
    /// Users who sign in to the UI.
    #[command(subcommand)]
    Users(governance::UsersCommand),
    /// Seal configuration secrets at rest, and rotate the key that seals them.
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!("{filter},sqlx=warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut cfg = Config::load(cli.config.as_deref())?;
    init_logging(&cfg.log);
    match cli.command {
        Command::Serve => app::serve(cfg).await,
        Command::Worker => app::worker(cfg).await,
        Command::Demo {
            data_dir,
            listen,
            initial,
            outage_after,
        } => {
            cfg.data_dir = data_dir;
            cfg.listen = listen;
            demo::run(cfg, initial, std::time::Duration::from_secs(outage_after)).await
        }
        Command::Import { file, data_dir } => {
            if let Some(d) = data_dir {
                cfg.data_dir = d;
            }
            import::run(&cfg, &file).await.map(|_| ())
        }
        Command::Simulate {
            url,
            rate,
            duration,
            scenario,
            api_key,
            concurrency,
            ack_log,
            seed,
            customers,
            messages,
            meta_secret,
        } => simulate::run(simulate::SimulateArgs {
            url,
            rate,
            duration,
            scenario,
            api_key,
            concurrency,
            ack_log,
            seed,
            customers,
            messages,
            meta_secret,
        })
        .await
        .map(|_| ()),
        Command::Rebuild => rebuild::run(&cfg).await,
        Command::Backup { out } => backup::backup(&cfg, &out).await,
        Command::Restore { from, force } => backup::restore(&cfg, &from, force).await,
        Command::Alerts { command } => alerts::run(command),
        Command::Nlp(cmd) => nlp::run(cmd),
        Command::Audit(cmd) => governance::audit(&cfg, cmd).await,
        Command::Privacy(cmd) => governance::privacy(&cfg, cmd).await,
        Command::Retention(cmd) => governance::retention(&cfg, cmd).await,
        Command::Users(cmd) => governance::users(&cfg, cmd).await,
        Command::Secrets(cmd) => secrets::run(cmd),
    }
}

/// Help and version go out as the argument parser writes them; a wrong argument is one line,
/// as every other error, with the parser's exit code (2).
fn argument_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("switchboard: {first} (see --help)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // Every HTTPS client in the process (outbound targets, `simulate`) uses rustls with the
    // ring provider; installing it once here is all they need.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(&e),
    };
    // Sealing secrets needs no configuration (it may not open without them).
    if let Command::Secrets(cmd) = cli.command {
        return match secrets::run(cmd) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("switchboard: {}", format!("{e:#}").replace('\n', " "));
                ExitCode::FAILURE
            }
        };
    }
    // Analysis and training are synchronous CPU work: no runtime, no configuration.
    if let Command::Nlp(cmd) = cli.command {
        return match nlp::run(cmd) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("switchboard: {}", format!("{e:#}").replace('\n', " "));
                ExitCode::FAILURE
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
