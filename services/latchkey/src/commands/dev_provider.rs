//! `latchkey dev-provider`: a small, real OAuth 2.0 provider on loopback, to try Latchkey with
//! nothing but the repository (the one the tests use: authorization code with PKCE, client
//! credentials, refresh with rotation, revocation). Never for production: it keeps everything in
//! memory and listens on 127.0.0.1 only.

use std::path::PathBuf;

use clap::Args;
use latchkey_fake_provider::{FakeProvider, ProviderConfig};

use super::client::usage;

#[derive(Debug, Clone, Args)]
pub struct DevProviderArgs {
    /// The loopback port to listen on.
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// The client id it accepts.
    #[arg(long, default_value = "demo")]
    pub client_id: String,
    /// The client secret's file: read when it exists, else a random secret is written there
    /// (mode 0600), so it is never on a command line.
    #[arg(long, value_name = "FILE")]
    pub secret_file: PathBuf,
}

fn secret(path: &PathBuf) -> anyhow::Result<String> {
    if path.exists() {
        return super::client::read_secret(path, "--secret-file");
    }
    let secret = format!("dev-{}", uuid::Uuid::new_v4().simple());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        usage(format!(
            "--secret-file: cannot create {}: {e}",
            path.display()
        ))
    })?;
    std::io::Write::write_all(&mut file, format!("{secret}\n").as_bytes())?;
    Ok(secret)
}

/// Runs until interrupted.
pub async fn run(args: DevProviderArgs) -> anyhow::Result<()> {
    let config = ProviderConfig {
        client_id: args.client_id.clone(),
        client_secret: secret(&args.secret_file)?,
        token_prefix: "dev-".to_owned(),
        ..ProviderConfig::default()
    };
    let provider = FakeProvider::start_on(config, args.port)
        .await
        .map_err(|e| anyhow::anyhow!("--port {}: cannot listen on 127.0.0.1: {e}", args.port))?;
    println!(
        "dev provider at {} (token endpoint {}, authorization {}, revocation {}); client {}, secret \
         in {}. Not for production.",
        provider.issuer(),
        provider.url("/token"),
        provider.url("/authorize"),
        provider.url("/revoke"),
        args.client_id,
        args.secret_file.display()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
