//! Configuration: defaults < file (`--config`, TOML) < `LATCHKEY_*` environment < flags.
//!
//! Everything is validated before anything is bound or opened, and every invalid setting is
//! reported, not only the first.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

mod brand;
mod local;
mod master_key;
mod nats;
mod public;
mod resolve;
mod sources;
mod tls;
pub use brand::{BrandConfig, BrandSettings};
pub use local::{KeySettings, StoreSettings};
pub use nats::{NatsConfig, NatsLogin, NatsSettings, StreamLimits};
pub use public::{PublicConfig, PublicSettings};
pub use sources::NeedsMasterKey;
pub use tls::TlsFiles;

pub const DEFAULT_DATA_DIR: &str = "./latchkey-data";
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:9090";
/// The projection cache's budget for connections, in MiB, when none is set.
pub const DEFAULT_CACHE_MB: u32 = 256;
/// The log filter when none is set (sqlx says routine notices, "relation exists", at info).
pub const DEFAULT_LOG: &str = "info,sqlx=warn";
/// How callers authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    None,
    ApiKeys,
    /// The TLS layer admits only clients with a certificate from the configured CA.
    Mtls,
}

/// Every setting, once: as given on the command line or in the environment (clap reads both; a
/// flag wins), and as the configuration file gives it (the same names, snake_case; serde reads
/// it, see `sources::read_file`), below both.
#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
pub struct Settings {
    /// A TOML file with any of the settings below (snake_case keys).
    #[arg(long, env = "LATCHKEY_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Directory of the embedded default: SQLite database and generated key file.
    #[arg(long, env = "LATCHKEY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Address of the gRPC API.
    #[arg(long, env = "LATCHKEY_GRPC_ADDR", value_name = "ADDR")]
    pub grpc_addr: Option<String>,
    /// Address of the HTTP listener (OAuth callback, /healthz).
    #[arg(long, env = "LATCHKEY_HTTP_ADDR", value_name = "ADDR")]
    pub http_addr: Option<String>,
    /// Address of the admin listener (/metrics, /livez, /readyz, detailed /healthz): loopback by
    /// default, never the public one.
    #[arg(long, env = "LATCHKEY_ADMIN_ADDR", value_name = "ADDR")]
    pub admin_addr: Option<String>,
    /// Per-connection series on /metrics (connection id, tenant, status, times). Default false.
    #[arg(long, env = "LATCHKEY_METRICS_CONNECTIONS", value_name = "BOOL")]
    pub metrics_connections: Option<String>,
    /// With per-connection series, also each connection's provider account id. Default false.
    #[arg(long, env = "LATCHKEY_METRICS_PROVIDER_ACCOUNTS", value_name = "BOOL")]
    pub metrics_provider_accounts: Option<String>,
    /// Origins (comma-separated, e.g. https://app.example.com) every integration may send a
    /// customer's browser back to after an authorization; integrations add their own.
    #[arg(long, env = "LATCHKEY_RETURN_URL_ORIGINS", value_name = "ORIGINS")]
    pub return_url_origins: Option<String>,
    /// Public base URL of the HTTP listener; the callback is <public url>/oauth/callback.
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Postgres URL. Unset: the embedded SQLite database in the data directory.
    #[arg(
        long,
        env = "LATCHKEY_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// File holding the Postgres URL (a mounted secret), instead of LATCHKEY_DATABASE_URL.
    #[arg(long, env = "LATCHKEY_DATABASE_URL_FILE", value_name = "FILE")]
    pub database_url_file: Option<PathBuf>,
    /// Postgres connections each replica keeps at most for its work (listening for other
    /// replicas' appends takes one more). Default: twice this machine's cores, at least 4.
    #[arg(long, env = "LATCHKEY_DATABASE_POOL_SIZE", value_name = "N")]
    pub database_pool_size: Option<String>,
    /// Positions per partition of the Postgres log for partitions created from now on (the
    /// database keeps it). Default: the database's, 50,000,000 unless changed.
    #[arg(long, env = "LATCHKEY_EVENTS_PARTITION_SIZE", value_name = "N")]
    pub events_partition_size: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub nats: NatsSettings,
    #[command(flatten)]
    #[serde(flatten)]
    pub public: PublicSettings,
    #[command(flatten)]
    #[serde(flatten)]
    pub brand: BrandSettings,
    /// Apply pending database migrations at start (default true). Off: the role may be DML-only
    /// or read-only, and a schema behind this build is refused; run `latchkey migrate` first.
    #[arg(long, env = "LATCHKEY_MIGRATE", value_name = "BOOL")]
    pub migrate: Option<String>,
    /// File holding the base64 master key (32 bytes). LATCHKEY_MASTER_KEY (environment only, so
    /// it never shows in a process list) gives the key itself.
    #[arg(long, env = "LATCHKEY_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Log filter (tracing's EnvFilter syntax), e.g. "info" or "latchkey=debug".
    #[arg(long, env = "LATCHKEY_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Log lines as `human` text (default) or `json`, one object per line.
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Development only: let providers be reached over plain HTTP on loopback (127.0.0.1, ::1,
    /// localhost). Private and link-local addresses stay refused.
    #[arg(long, env = "LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", value_name = "BOOL")]
    pub allow_loopback_providers: Option<String>,
    /// PEM file of certificate authorities trusted for provider calls besides the system's (a
    /// provider on a private PKI; mutual-TLS token endpoints).
    #[arg(long, env = "LATCHKEY_PROVIDER_CA_FILE", value_name = "FILE")]
    pub provider_ca_file: Option<PathBuf>,
    /// Seconds a started authorization (its one-time `state`) stays valid. Default 600.
    #[arg(long, env = "LATCHKEY_AUTHORIZATION_TTL", value_name = "SECONDS")]
    pub authorization_ttl: Option<String>,
    /// Proactive refreshes running at once in this process. Default 16; 0 turns the refresher off.
    #[arg(long, env = "LATCHKEY_REFRESH_CONCURRENCY", value_name = "N")]
    pub refresh_concurrency: Option<String>,
    /// Refresh requests per second to one provider (token URL host), per process. Default 50.
    #[arg(long, env = "LATCHKEY_REFRESH_RATE", value_name = "PER_SECOND")]
    pub refresh_rate: Option<String>,
    /// PEM certificate chain of the gRPC listener; with LATCHKEY_TLS_KEY it serves TLS.
    #[arg(long, env = "LATCHKEY_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the gRPC listener.
    #[arg(long, env = "LATCHKEY_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s) that sign client certificates; required with LATCHKEY_AUTH=mtls.
    #[arg(long, env = "LATCHKEY_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Caller authentication: `api-keys` (every gRPC call needs a key; create them with
    /// `latchkey apikeys create`), `mtls` (every caller presents a client certificate signed by
    /// LATCHKEY_TLS_CLIENT_CA; such callers are admins) or `none` (only on a loopback gRPC
    /// address). Default none.
    #[arg(long, env = "LATCHKEY_AUTH", value_name = "MODE")]
    pub auth: Option<String>,
    /// Requests per second each caller (API key, certificate, anonymous) may make; over it,
    /// RESOURCE_EXHAUSTED with the time to wait. 0: no limit. Default 5000.
    #[arg(long, env = "LATCHKEY_CALLER_RATE", value_name = "PER_SECOND")]
    pub caller_rate: Option<String>,
    /// Seconds a refresh lease lasts: it must cover a provider call and the commit after it, so
    /// it is longer than LATCHKEY_PROVIDER_TIMEOUT. Default 60.
    #[arg(long, env = "LATCHKEY_REFRESH_LEASE", value_name = "SECONDS")]
    pub refresh_lease: Option<String>,
    /// Seconds a call to a provider may take before it is given up. Default 20.
    #[arg(long, env = "LATCHKEY_PROVIDER_TIMEOUT", value_name = "SECONDS")]
    pub provider_timeout: Option<String>,
    /// Seconds between two looks for connections due for scheduled validation (integrations
    /// with validation_interval_secs); 0 turns scheduled validation off. Default 30.
    #[arg(long, env = "LATCHKEY_VALIDATION_TICK", value_name = "SECONDS")]
    pub validation_tick: Option<String>,
    /// Mebibytes of connections a replica keeps in memory for GetToken (the least recently used
    /// go first; one not held is one row read). Default 256.
    #[arg(long, env = "LATCHKEY_CACHE_MB", value_name = "MIB")]
    pub cache_mb: Option<String>,
}

#[derive(Debug)]
pub enum Storage {
    /// The embedded default: `<data dir>/latchkey.db`.
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        url: SecretString,
    },
}

#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// `LATCHKEY_MASTER_KEY`, checked to be base64 of 32 bytes.
    Env(SecretString),
    File(PathBuf),
    /// Embedded default: `<data dir>/master.key`, generated (mode 0600) on first start.
    Generated(PathBuf),
}

/// A valid configuration.
#[derive(Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    /// Where browsers may return after an authorization, for every integration.
    pub return_url_origins: Vec<String>,
    pub public: PublicConfig,
    /// The platform's face on the connect pages.
    pub brand: BrandConfig,
    /// Per-connection series on /metrics, and whether they name the provider account.
    pub metrics_connections: bool,
    pub metrics_provider_accounts: bool,
    /// `None`: derived from the bound HTTP address.
    pub public_url: Option<Url>,
    pub storage: Storage,
    /// `None`: no publication.
    pub nats: Option<NatsConfig>,
    /// `None` only for commands that open no secret.
    pub master_key: Option<MasterKeySource>,
    /// Apply pending migrations at start; off: only check that none is pending.
    pub migrate: bool,
    pub log: String,
    pub log_json: bool,
    pub allow_loopback_providers: bool,
    /// Extra certificate authorities for provider calls (PEM).
    pub provider_ca_file: Option<PathBuf>,
    pub authorization_ttl: std::time::Duration,
    pub refresh_concurrency: u32,
    pub refresh_rate: std::num::NonZeroU32,
    pub refresh_lease: std::time::Duration,
    /// How long one call to a provider may take.
    pub provider_timeout: std::time::Duration,
    /// Requests per second per caller; `None`: no limit.
    pub caller_rate: Option<std::num::NonZeroU32>,
    /// Postgres connections per replica.
    pub database_pool_size: u32,
    /// Positions per partition of the log created from now on; `None`: the database's.
    pub events_partition_size: Option<i64>,
    /// `None`: no scheduled validation.
    pub validation_tick: Option<std::time::Duration>,
    /// Bytes of connections the projection cache holds.
    pub cache_bytes: usize,
    pub auth: AuthMode,
    pub tls: Option<TlsFiles>,
}

/// Every invalid setting, each naming the setting.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for error in &self.0 {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Merges the file under these settings and validates the result. `master_key_env` is the
    /// value of `LATCHKEY_MASTER_KEY`, passed in so tests need not touch the process environment.
    pub fn resolve(self, master_key_env: Option<SecretString>) -> Result<Config, ConfigErrors> {
        self.resolve_for(master_key_env, NeedsMasterKey::Yes)
    }
}

#[cfg(test)]
mod tests;

/// Postgres sessions a replica opens when not told: twice its cores, at least 4; more wait in the
/// kernel's run queue, not the pool's, and lengthen the tail (docs/benchmarks/log-2026-12.md).
pub fn default_database_pool_size() -> u32 {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .saturating_mul(2)
        .clamp(4, 1000)
        .try_into()
        .unwrap_or(4)
}
