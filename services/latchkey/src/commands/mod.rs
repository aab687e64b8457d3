//! Every command of the `latchkey` binary, with its own output: `serve` and `migrate`, the log's
//! (`verify`, `archive`, `rebuild-projections`, in `log`), the operator's (`keys`, `apikeys`, in
//! `operator`), the client commands that talk to a running server (`client`) and the development
//! provider. `main.rs` only calls [`main`].

pub mod client;
pub mod dev_provider;
pub mod log;
mod log_commands;
pub mod operator;
pub mod reference;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use latchkey_store::Migrations;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::app::{App, open_store};
use crate::config::{KeySettings, NeedsMasterKey, Settings, StoreSettings};

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

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (gRPC API and HTTP listener). With no configuration: the embedded
    /// default, SQLite under ./latchkey-data.
    Serve(Settings),
    /// Apply database migrations and exit (`serve` applies them too).
    Migrate {
        /// The outcome as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreSettings,
    },
    /// Walk every stream's hash chain; exit 1 at the first broken link.
    Verify {
        /// Write every stream's head (version and hash) to this file once the log is intact,
        /// to compare a later run against.
        #[arg(long, value_name = "FILE")]
        heads: Option<std::path::PathBuf>,
        /// Compare with heads an earlier run wrote: a stream gone, a tail cut or an event
        /// replaced since fails the check.
        #[arg(long, value_name = "FILE")]
        expect_heads: Option<std::path::PathBuf>,
        /// Also replay every stream and compare it with its projection row (what the service
        /// reads): a row edited by hand is named, with the fields that differ.
        #[arg(long)]
        projections: bool,
        /// The verdict as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreSettings,
    },
    /// Archive the oldest part of the log (Postgres: its oldest partition, once complete and
    /// published by every relay) to a file of JSON lines, keeping each stream's last event in it
    /// as the head `verify` continues from; then the part leaves the database.
    Archive {
        /// The file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// The outcome as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreSettings,
    },
    /// Replay the whole log into fresh projections and compare them with the live ones.
    RebuildProjections {
        /// Replace the live projections with the replay, in one transaction.
        #[arg(long)]
        swap: bool,
        /// The outcome as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreSettings,
    },
    #[command(flatten)]
    Client(client::ClientCommand),
    /// A small OAuth 2.0 provider on loopback, to try Latchkey with the repository alone.
    DevProvider(dev_provider::DevProviderArgs),
    /// Master keys: list them, rotate (re-wrap every data key onto the active key, while
    /// serving), drop a retired one, generate a new one.
    Keys {
        #[command(subcommand)]
        action: operator::KeysAction,
        #[command(flatten)]
        store: StoreSettings,
        #[command(flatten)]
        keys: KeySettings,
    },
    /// Manage the API keys callers authenticate with (`LATCHKEY_AUTH=api-keys`).
    Apikeys {
        #[command(subcommand)]
        action: operator::ApikeyAction,
        #[command(flatten)]
        store: StoreSettings,
    },
    /// Print the shell's completion script, e.g. `source <(latchkey completions bash)`.
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
}

/// A check that ran and found a problem (a broken chain, projections that differ): exit 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct CheckFailed(pub(super) String);

/// The command cannot do what was asked as asked (a key that does not exist): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Usage(pub(super) String);

/// Exit codes: 0 done, 1 a check failed, 2 usage or configuration, 3 could not run (the database
/// or the server unreachable, or anything else that stopped the command).
fn exit_code(error: &anyhow::Error) -> ExitCode {
    if error.downcast_ref::<CheckFailed>().is_some() {
        return ExitCode::from(1);
    }
    if error.downcast_ref::<Usage>().is_some() {
        return ExitCode::from(2);
    }
    if let Some(
        latchkey_store::StoreError::SchemaBehind { .. } | latchkey_store::StoreError::Refused(_),
    ) = error.downcast_ref()
    {
        return ExitCode::from(2);
    }
    if error.downcast_ref::<client::LinesRefused>().is_some() {
        return ExitCode::from(1);
    }
    if error.downcast_ref::<client::UsageError>().is_some() {
        return ExitCode::from(2);
    }
    if let Some(refused) = error.downcast_ref::<client::Refused>() {
        return ExitCode::from(refused.exit_code());
    }
    ExitCode::from(3)
}

/// A reader that closes the pipe early (`latchkey integrations templates | head -1`) ends a
/// command quietly with exit 0, as a Unix tool does: printing to a closed standard output is no
/// failure of the command. Not for the server, whose output closing is worth a trace; any other
/// panic is reported as before.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Parses the command line and runs the command; what the process exits with.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        quiet_on_closed_pipe();
    }
    if let Command::Completions { shell } = &cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(*shell, &mut command, "latchkey", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    if let Some(code) = client_command(&cli.command) {
        return code;
    }
    let settings = match &cli.command {
        Command::Serve(settings) => settings.clone(),
        Command::Keys { store, keys, .. } => store.clone().into_settings(Some(keys.clone())),
        Command::Migrate { store, .. }
        | Command::Verify { store, .. }
        | Command::Archive { store, .. }
        | Command::RebuildProjections { store, .. }
        | Command::Apikeys { store, .. } => store.clone().into_settings(None),
        Command::Client(_) | Command::DevProvider(_) | Command::Completions { .. } => {
            unreachable!("answered above")
        }
    };
    let master_key = std::env::var("LATCHKEY_MASTER_KEY")
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from);
    // Only the server and key rotation open secrets: the others run without the master key.
    let needs = match &cli.command {
        Command::Serve(_) | Command::Keys { .. } => NeedsMasterKey::Yes,
        _ => NeedsMasterKey::No,
    };
    let config = match settings.resolve_for(master_key, needs) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("latchkey: {errors}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("latchkey: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let serving = matches!(cli.command, Command::Serve(_));
    let otlp = match Otlp::start(&runtime, serving) {
        Ok(otlp) => otlp,
        Err(e) => {
            eprintln!("latchkey: OTEL_EXPORTER_OTLP_ENDPOINT: cannot set up OTLP export: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::install_subscriber(
        &config.log,
        config.log_json,
        otlp.traces.as_ref(),
        std::io::stderr,
    );
    let announce = (otlp.traces.is_some() || otlp.metrics.is_some())
        .then(|| crate::telemetry::announce_otlp(otlp.traces.is_some(), otlp.metrics.is_some()));
    let result = runtime.block_on(async move {
        let work = local_command(cli.command, config);
        // The collector is watched beside the command, for as long as it runs.
        match announce {
            Some(announce) => tokio::select! {
                result = work => result,
                never = announce => match never {},
            },
            None => work.await,
        }
    });
    otlp.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e:#}");
            exit_code(&e)
        }
    }
}

/// Runs a command on the local configuration (the server, the log's and the operator's).
async fn local_command(command: Command, config: crate::config::Config) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => serve(config).await,
        Command::Migrate { json, .. } => {
            let opened = open_store(&config, Migrations::Apply).await?;
            opened.store.close().await;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"storage": opened.kind, "migrated": true})
                );
            } else {
                println!("latchkey: {} migrations applied", opened.kind);
            }
            Ok(())
        }
        Command::Apikeys { action, .. } => operator::api_keys(&config, action).await,
        Command::Keys { action, .. } => operator::master_keys(&config, action).await,
        Command::Client(_) | Command::DevProvider(_) | Command::Completions { .. } => {
            unreachable!("answered above")
        }
        Command::Verify {
            heads,
            expect_heads,
            projections,
            json,
            ..
        } => log_commands::verify(&config, heads, expect_heads, projections, json).await,
        Command::Archive { out, json, .. } => log_commands::archive(&config, &out, json).await,
        Command::RebuildProjections { swap, json, .. } => {
            log_commands::rebuild(&config, swap, json).await
        }
    }
}

/// What is exported over OTLP: traces when the standard variables ask for them, and for the
/// server, metrics.
struct Otlp {
    traces: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
    metrics: Option<opentelemetry_sdk::metrics::SdkMeterProvider>,
}

impl Otlp {
    /// The exporters need the runtime.
    fn start(runtime: &tokio::runtime::Runtime, serving: bool) -> anyhow::Result<Self> {
        let _guard = runtime.enter();
        let traces = if crate::telemetry::enabled() {
            crate::telemetry::install_propagator();
            Some(crate::telemetry::otlp_provider()?)
        } else {
            None
        };
        let metrics = if serving && crate::telemetry::metrics_enabled() {
            // Every family exists before it is bridged: the per-RPC ones too.
            crate::api::initialize_rpc_metrics();
            Some(crate::telemetry::otlp_meter_provider()?)
        } else {
            None
        };
        Ok(Self { traces, metrics })
    }

    /// Flushes what is pending.
    fn shutdown(self) {
        if let Some(provider) = self.traces {
            let _ = provider.shutdown();
        }
        if let Some(provider) = self.metrics {
            let _ = provider.shutdown();
        }
    }
}

/// Runs the commands that talk to a server, which need no local configuration.
fn client_command(command: &Command) -> Option<ExitCode> {
    let future: std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>>>> =
        match command {
            Command::Client(command) => Box::pin(client::run(command.clone())),
            Command::DevProvider(args) => Box::pin(dev_provider::run(args.clone())),
            _ => return None,
        };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("latchkey: cannot start the async runtime: {e}");
            return Some(ExitCode::from(3));
        }
    };
    Some(match runtime.block_on(future) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e:#}");
            exit_code(&e)
        }
    })
}

async fn serve(config: crate::config::Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    // A stable line on stdout for scripts and tests that start on port 0.
    println!(
        "latchkey ready grpc={} http={} admin={} storage={}",
        app.grpc_addr(),
        app.http_addr(),
        app.admin_addr(),
        app.storage()
    );
    let shutdown = CancellationToken::new();
    // The signals are watched beside the app, on this task: while it drains, a second signal
    // still exits at once.
    tokio::select! {
        result = app.run(shutdown.clone()) => result.context("serving"),
        never = watch_signals(shutdown) => match never {},
    }
}

/// The first SIGINT/SIGTERM starts a graceful shutdown; a second one exits at once. Never ends.
async fn watch_signals(shutdown: CancellationToken) -> std::convert::Infallible {
    let mut signals = 0;
    loop {
        if wait_for_signal().await.is_err() {
            tracing::error!("cannot listen for shutdown signals");
            return std::future::pending().await;
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
