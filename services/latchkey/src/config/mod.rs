//! Configuration: defaults < file (`--config`, TOML) < `LATCHKEY_*` environment < flags.
//!
//! Everything is validated before anything is bound or opened, and every invalid setting is
//! reported, not only the first.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

mod master_key;
mod nats;
mod public;
mod sources;
mod tls;
pub use nats::{NatsConfig, NatsLogin, NatsSettings, StreamLimits};
pub use public::{PublicConfig, PublicSettings};
pub use sources::NeedsMasterKey;
use sources::{read_file, secret_or_file};
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

/// Settings as given on the command line or in the environment (clap reads both; a flag wins).
#[derive(Debug, Clone, Default, Args)]
pub struct Settings {
    /// A TOML file with any of the settings below (snake_case keys).
    #[arg(long, env = "LATCHKEY_CONFIG", value_name = "FILE")]
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
    /// Address of the admin listener (/metrics, detailed /healthz): loopback by default, never
    /// the public one.
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
    pub nats: NatsSettings,
    #[command(flatten)]
    pub public: PublicSettings,
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

/// The configuration file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<String>,
    grpc_addr: Option<String>,
    http_addr: Option<String>,
    admin_addr: Option<String>,
    return_url_origins: Option<Vec<String>>,
    http_header_timeout: Option<u32>,
    http_max_connections: Option<u32>,
    metrics_connections: Option<bool>,
    metrics_provider_accounts: Option<bool>,
    public_url: Option<String>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    database_pool_size: Option<u32>,
    events_partition_size: Option<u32>,
    nats_url: Option<String>,
    nats_url_file: Option<PathBuf>,
    nats_stream: Option<String>,
    nats_subject_prefix: Option<String>,
    nats_stream_replicas: Option<u64>,
    nats_stream_max_age: Option<u64>,
    nats_stream_max_bytes: Option<u64>,
    nats_creds_file: Option<PathBuf>,
    nats_nkey_seed_file: Option<PathBuf>,
    nats_tls_ca: Option<PathBuf>,
    nats_tls_cert: Option<PathBuf>,
    nats_tls_key: Option<PathBuf>,
    migrate: Option<bool>,
    master_key_file: Option<PathBuf>,
    log: Option<String>,
    log_format: Option<String>,
    allow_loopback_providers: Option<bool>,
    authorization_ttl: Option<u32>,
    refresh_concurrency: Option<u32>,
    refresh_rate: Option<u32>,
    refresh_lease: Option<u32>,
    caller_rate: Option<u32>,
    provider_timeout: Option<u32>,
    validation_tick: Option<u32>,
    cache_mb: Option<u32>,
    auth: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
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

    /// As [`Settings::resolve`]; with [`NeedsMasterKey::No`] (commands that open no secret) a
    /// missing master key is no error and none is generated.
    pub fn resolve_for(
        self,
        master_key_env: Option<SecretString>,
        needs: NeedsMasterKey,
    ) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let file = match &self.config {
            None => FileSettings::default(),
            Some(path) => match read_file(path) {
                Ok(file) => file,
                Err(message) => {
                    errors.push(message);
                    FileSettings::default()
                }
            },
        };
        let pick = |flag: Option<String>, file: Option<String>| non_empty(flag).or(non_empty(file));

        let data_dir = PathBuf::from(
            pick(self.data_dir, file.data_dir).unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()),
        );
        let mut addr = |value: Option<String>, default: &str, name: &str, flag: &str| {
            let text = value.unwrap_or_else(|| default.to_owned());
            match text.parse::<SocketAddr>() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    errors.push(format!(
                        "{name} ({flag}): {text:?} is not a socket address such as 127.0.0.1:8080"
                    ));
                    None
                }
            }
        };
        let grpc_addr = addr(
            pick(self.grpc_addr, file.grpc_addr),
            DEFAULT_GRPC_ADDR,
            "LATCHKEY_GRPC_ADDR",
            "--grpc-addr",
        );
        let http_addr = addr(
            pick(self.http_addr, file.http_addr),
            DEFAULT_HTTP_ADDR,
            "LATCHKEY_HTTP_ADDR",
            "--http-addr",
        );
        let admin_addr = addr(
            pick(self.admin_addr, file.admin_addr),
            DEFAULT_ADMIN_ADDR,
            "LATCHKEY_ADMIN_ADDR",
            "--admin-addr",
        );

        let return_url_origins: Vec<String> = match non_empty(self.return_url_origins) {
            Some(text) => text.split(',').map(str::to_owned).collect(),
            None => file.return_url_origins.unwrap_or_default(),
        }
        .iter()
        .filter(|o| !o.trim().is_empty())
        .filter_map(|o| {
            latchkey_domain::parse_origin(o, "LATCHKEY_RETURN_URL_ORIGINS (--return-url-origins)")
                .map_err(|v| errors.push(format!("{}: {o:?} {}", v.field, v.reason)))
                .ok()
        })
        .collect();

        let public = self.public.resolve(
            (file.http_header_timeout, file.http_max_connections),
            &mut errors,
        );
        let public_url = match pick(self.public_url, file.public_url) {
            None => None,
            Some(text) => match Url::parse(&text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                    Some(url)
                }
                _ => {
                    errors.push(format!(
                        "LATCHKEY_PUBLIC_URL (--public-url): {text:?} is not an absolute http(s) URL"
                    ));
                    None
                }
            },
        };

        let database_url = secret_or_file(
            pick(self.database_url, file.database_url),
            self.database_url_file.or(file.database_url_file),
            ("LATCHKEY_DATABASE_URL", "--database-url"),
            ("LATCHKEY_DATABASE_URL_FILE", "--database-url-file"),
            &mut errors,
        );
        let storage = match database_url {
            None => Storage::Sqlite {
                path: data_dir.join("latchkey.db"),
            },
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    // The value may hold a password: name the setting, not the value.
                    errors.push(
                        "LATCHKEY_DATABASE_URL (--database-url): must be a postgres:// or \
                         postgresql:// URL"
                            .to_owned(),
                    );
                }
                Storage::Postgres {
                    url: SecretString::from(url),
                }
            }
        };

        let number_text = |n: Option<u64>| n.map(|n| n.to_string());
        let nats = self
            .nats
            .or(NatsSettings {
                nats_url: file.nats_url,
                nats_url_file: file.nats_url_file,
                nats_stream: file.nats_stream,
                nats_subject_prefix: file.nats_subject_prefix,
                nats_stream_replicas: number_text(file.nats_stream_replicas),
                nats_stream_max_age: number_text(file.nats_stream_max_age),
                nats_stream_max_bytes: number_text(file.nats_stream_max_bytes),
                nats_creds_file: file.nats_creds_file,
                nats_nkey_seed: None,
                nats_nkey_seed_file: file.nats_nkey_seed_file,
                nats_tls_ca: file.nats_tls_ca,
                nats_tls_cert: file.nats_tls_cert,
                nats_tls_key: file.nats_tls_key,
            })
            .resolve(&mut errors);

        let master_key = master_key::resolve(
            master_key_env,
            self.master_key_file.or(file.master_key_file),
            &storage,
            &data_dir,
            needs,
            &mut errors,
        );

        let log = pick(self.log, file.log).unwrap_or_else(|| DEFAULT_LOG.to_owned());
        let log_json = match pick(self.log_format, file.log_format).as_deref() {
            None | Some("human") => false,
            Some("json") => true,
            Some(other) => {
                errors.push(format!(
                    "LATCHKEY_LOG_FORMAT (--log-format): {other:?} is not human or json"
                ));
                false
            }
        };
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log) {
            errors.push(format!("LATCHKEY_LOG (--log): {e}"));
        }

        let mut flag =
            |value: Option<String>, from_file: Option<bool>, default: bool, name: &str| {
                match non_empty(value).as_deref() {
                    None => from_file.unwrap_or(default),
                    Some("true" | "1" | "yes") => true,
                    Some("false" | "0" | "no") => false,
                    Some(other) => {
                        errors.push(format!("{name}: {other:?} is not true or false"));
                        default
                    }
                }
            };
        let allow_loopback_providers = flag(
            self.allow_loopback_providers,
            file.allow_loopback_providers,
            false,
            "LATCHKEY_ALLOW_LOOPBACK_PROVIDERS (--allow-loopback-providers)",
        );
        let migrate = flag(
            self.migrate,
            file.migrate,
            true,
            "LATCHKEY_MIGRATE (--migrate)",
        );
        let metrics_connections = flag(
            self.metrics_connections,
            file.metrics_connections,
            false,
            "LATCHKEY_METRICS_CONNECTIONS (--metrics-connections)",
        );
        let metrics_provider_accounts = flag(
            self.metrics_provider_accounts,
            file.metrics_provider_accounts,
            false,
            "LATCHKEY_METRICS_PROVIDER_ACCOUNTS (--metrics-provider-accounts)",
        );

        let authorization_ttl = match non_empty(self.authorization_ttl) {
            None => file.authorization_ttl.unwrap_or(600),
            Some(text) => match text.trim().parse::<u32>() {
                Ok(secs) => secs,
                Err(_) => {
                    errors.push(format!(
                        "LATCHKEY_AUTHORIZATION_TTL (--authorization-ttl): {text:?} is not a \
                         number of seconds"
                    ));
                    600
                }
            },
        };
        if !(1..=3600).contains(&authorization_ttl) {
            errors.push(
                "LATCHKEY_AUTHORIZATION_TTL (--authorization-ttl): must be 1 to 3600 seconds"
                    .to_owned(),
            );
        }

        let mut number = |value: Option<String>,
                          from_file: Option<u32>,
                          default: u32,
                          name: &str,
                          range: std::ops::RangeInclusive<u32>| {
            let parsed = match non_empty(value) {
                None => from_file.unwrap_or(default),
                Some(text) => text.trim().parse::<u32>().unwrap_or(u32::MAX),
            };
            if range.contains(&parsed) {
                parsed
            } else {
                errors.push(format!(
                    "{name}: must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ));
                default
            }
        };
        let refresh_concurrency = number(
            self.refresh_concurrency,
            file.refresh_concurrency,
            16,
            "LATCHKEY_REFRESH_CONCURRENCY (--refresh-concurrency)",
            0..=1024,
        );
        let refresh_rate = number(
            self.refresh_rate,
            file.refresh_rate,
            50,
            "LATCHKEY_REFRESH_RATE (--refresh-rate)",
            1..=100_000,
        );

        let refresh_lease = number(
            self.refresh_lease,
            file.refresh_lease,
            60,
            "LATCHKEY_REFRESH_LEASE (--refresh-lease)",
            1..=3600,
        );
        let caller_rate = number(
            self.caller_rate,
            file.caller_rate,
            5000,
            "LATCHKEY_CALLER_RATE (--caller-rate)",
            0..=1_000_000,
        );
        let database_pool_size = number(
            self.database_pool_size,
            file.database_pool_size,
            default_database_pool_size(),
            "LATCHKEY_DATABASE_POOL_SIZE (--database-pool-size)",
            1..=1000,
        );
        let events_partition_size = (self.events_partition_size.is_some()
            || file.events_partition_size.is_some())
        .then(|| {
            i64::from(number(
                self.events_partition_size,
                file.events_partition_size,
                50_000_000,
                "LATCHKEY_EVENTS_PARTITION_SIZE (--events-partition-size)",
                100..=4_000_000_000,
            ))
        });
        let provider_timeout = number(
            self.provider_timeout,
            file.provider_timeout,
            20,
            "LATCHKEY_PROVIDER_TIMEOUT (--provider-timeout)",
            1..=300,
        );

        let validation_tick = number(
            self.validation_tick,
            file.validation_tick,
            30,
            "LATCHKEY_VALIDATION_TICK (--validation-tick)",
            0..=3600,
        );
        let cache_mb = number(
            self.cache_mb,
            file.cache_mb,
            DEFAULT_CACHE_MB,
            "LATCHKEY_CACHE_MB (--cache-mb)",
            1..=1024 * 1024,
        );

        if refresh_lease <= provider_timeout {
            errors.push(format!(
                "LATCHKEY_REFRESH_LEASE (--refresh-lease): {refresh_lease} s must be longer than \
                 LATCHKEY_PROVIDER_TIMEOUT (--provider-timeout, {provider_timeout} s), so a lease \
                 covers a provider call and its commit"
            ));
        }

        let auth = match pick(self.auth, file.auth).as_deref() {
            None | Some("none") => Some(AuthMode::None),
            Some("api-keys") => Some(AuthMode::ApiKeys),
            Some("mtls") => Some(AuthMode::Mtls),
            Some(other) => {
                errors.push(format!(
                    "LATCHKEY_AUTH (--auth): {other:?} is not api-keys, mtls or none"
                ));
                None
            }
        };
        let tls = tls::resolve(
            self.tls_cert.or(file.tls_cert),
            self.tls_key.or(file.tls_key),
            self.tls_client_ca.or(file.tls_client_ca),
            &mut errors,
        );
        if auth == Some(AuthMode::Mtls) && tls.as_ref().is_none_or(|t| t.client_ca.is_none()) {
            errors.push(
                "LATCHKEY_AUTH=mtls needs LATCHKEY_TLS_CERT, LATCHKEY_TLS_KEY and LATCHKEY_TLS_CLIENT_CA"
                    .to_owned(),
            );
        }
        if let (Some(AuthMode::None), Some(addr)) = (auth, grpc_addr)
            && !addr.ip().is_loopback()
        {
            errors.push(format!(
                "LATCHKEY_GRPC_ADDR ({addr}) is not a loopback address and LATCHKEY_AUTH is none: \
                 anyone who reaches it could read every token. Set LATCHKEY_AUTH=api-keys (and \
                 create keys with `latchkey apikeys create`) or bind to 127.0.0.1"
            ));
        }

        match (grpc_addr, http_addr, admin_addr) {
            (Some(grpc_addr), Some(http_addr), Some(admin_addr)) if errors.is_empty() => {
                Ok(Config {
                    data_dir,
                    grpc_addr,
                    http_addr,
                    admin_addr,
                    return_url_origins,
                    public,
                    metrics_connections,
                    metrics_provider_accounts,
                    public_url,
                    storage,
                    nats,
                    master_key,
                    migrate,
                    log,
                    log_json,
                    allow_loopback_providers,
                    authorization_ttl: std::time::Duration::from_secs(u64::from(authorization_ttl)),
                    refresh_concurrency,
                    refresh_rate: std::num::NonZeroU32::new(refresh_rate)
                        .unwrap_or(std::num::NonZeroU32::MIN),
                    refresh_lease: std::time::Duration::from_secs(u64::from(refresh_lease)),
                    provider_timeout: std::time::Duration::from_secs(u64::from(provider_timeout)),
                    database_pool_size,
                    events_partition_size,
                    caller_rate: std::num::NonZeroU32::new(caller_rate),
                    validation_tick: (validation_tick > 0)
                        .then(|| std::time::Duration::from_secs(u64::from(validation_tick))),
                    cache_bytes: usize::try_from(cache_mb)
                        .unwrap_or(usize::MAX / (1024 * 1024))
                        .saturating_mul(1024 * 1024),
                    auth: auth.unwrap_or(AuthMode::ApiKeys),
                    tls,
                })
            }
            _ => Err(ConfigErrors(errors)),
        }
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
