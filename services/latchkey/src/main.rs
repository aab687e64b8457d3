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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (Command::Serve(settings) | Command::Migrate(settings)) = &cli.command;
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
