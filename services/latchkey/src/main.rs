//! `latchkey`: the server and its operator commands.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use latchkey::app::{App, open_store};
use latchkey::config::Settings;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Keeps OAuth 2.0 connections alive"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (gRPC API and HTTP listener). With no configuration: the embedded
    /// default, SQLite under ./latchkey-data.
    Serve(Settings),
    /// Apply database migrations and exit (`serve` applies them too).
    Migrate(Settings),
    /// Manage the API keys callers authenticate with (`LATCHKEY_AUTH=api-keys`).
    Apikeys {
        #[command(subcommand)]
        action: ApikeyAction,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Debug, Subcommand)]
enum ApikeyAction {
    /// Create a key and print it once; only its hash is stored.
    Create {
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// The one tenant the key may see; without it the key is an admin key.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id; it stops working within a second.
    Revoke { id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (Command::Serve(settings) | Command::Migrate(settings) | Command::Apikeys { settings, .. }) =
        &cli.command;
    let master_key = std::env::var("LATCHKEY_MASTER_KEY")
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from);
    let config = match settings.clone().resolve(master_key) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("latchkey: {errors}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(&config.log))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("latchkey: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(_) => serve(config).await,
            Command::Migrate(_) => {
                let opened = open_store(&config).await?;
                opened.store.close().await;
                println!("latchkey: {} migrations applied", opened.kind);
                Ok(())
            }
            Command::Apikeys { action, .. } => apikeys(&config, action).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn apikeys(config: &latchkey::config::Config, action: ApikeyAction) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let opened = open_store(config).await?;
    let store = opened.store;
    let result = match action {
        ApikeyAction::Create { name, tenant } => {
            let tenant = tenant
                .map(|t| latchkey_domain::TenantId::parse_field(&t, "--tenant"))
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (key, record) = latchkey::auth::generate(&name, tenant);
            store.create_api_key(&record).await?;
            let scope = record
                .tenant
                .as_ref()
                .map(|t| format!("tenant {t}"))
                .unwrap_or_else(|| "admin".to_owned());
            eprintln!("created key {} ({scope}); it is shown once:", record.id);
            println!("{}", key.expose_secret());
            Ok(())
        }
        ApikeyAction::List => {
            for key in store.list_api_keys().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    key.id,
                    key.name,
                    key.tenant
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "admin".to_owned()),
                    key.created_at.to_rfc3339(),
                    key.revoked_at
                        .map(|at| format!("revoked {}", at.to_rfc3339()))
                        .unwrap_or_else(|| "active".to_owned())
                );
            }
            Ok(())
        }
        ApikeyAction::Revoke { id } => {
            if store.revoke_api_key(&id, chrono::Utc::now()).await? {
                println!("revoked key {id}");
                Ok(())
            } else {
                Err(anyhow::anyhow!("no active key {id}"))
            }
        }
    };
    store.close().await;
    result
}

async fn serve(config: latchkey::config::Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    // A stable line on stdout for scripts and tests that start on port 0.
    println!(
        "latchkey ready grpc={} http={} storage={}",
        app.grpc_addr(),
        app.http_addr(),
        app.storage()
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(watch_signals(shutdown.clone()));
    app.run(shutdown).await.context("serving")
}

/// The first SIGINT/SIGTERM starts a graceful shutdown; a second one exits at once.
async fn watch_signals(shutdown: CancellationToken) {
    let mut signals = 0;
    loop {
        if wait_for_signal().await.is_err() {
            tracing::error!("cannot listen for shutdown signals");
            return;
        }
        signals += 1;
        if signals == 1 {
            tracing::info!("shutting down; send the signal again to exit at once");
            shutdown.cancel();
        } else {
            tracing::warn!("second signal: exiting at once");
            std::process::exit(130);
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}
