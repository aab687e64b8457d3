//! Resolving the settings: the file under the flags and environment, each group of settings
//! checked by its own function, every invalid setting reported (each naming the setting), and a
//! [`Config`] only when none is.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::sources::{read_file, secret_or_file};
use super::{
    AuthMode, Config, ConfigErrors, DEFAULT_ADMIN_ADDR, DEFAULT_CACHE_MB, DEFAULT_DATA_DIR,
    DEFAULT_GRPC_ADDR, DEFAULT_HTTP_ADDR, DEFAULT_LOG, NeedsMasterKey, PublicConfig, Settings,
    Storage, TlsFiles, default_database_pool_size, master_key, non_empty, tls,
};

/// The errors found so far, and how each kind of value is read.
#[derive(Default)]
struct Resolver {
    errors: Vec<String>,
}

impl Resolver {
    fn addr(&mut self, value: Option<String>, default: &str, name: &str) -> Option<SocketAddr> {
        let text = value.unwrap_or_else(|| default.to_owned());
        match text.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                self.errors.push(format!(
                    "{name}: {text:?} is not a socket address such as 127.0.0.1:8080"
                ));
                None
            }
        }
    }

    fn switch(&mut self, value: Option<String>, default: bool, name: &str) -> bool {
        match non_empty(value).as_deref() {
            None => default,
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => {
                self.errors
                    .push(format!("{name}: {other:?} is not true or false"));
                default
            }
        }
    }

    fn number(
        &mut self,
        value: Option<String>,
        default: u32,
        name: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> u32 {
        let parsed = match non_empty(value) {
            None => default,
            Some(text) => text.trim().parse::<u32>().unwrap_or(u32::MAX),
        };
        if range.contains(&parsed) {
            parsed
        } else {
            self.errors.push(format!(
                "{name}: must be a whole number from {} to {}",
                range.start(),
                range.end()
            ));
            default
        }
    }
}

/// Where the service listens and what its public side allows.
struct Listeners {
    grpc_addr: Option<SocketAddr>,
    http_addr: Option<SocketAddr>,
    admin_addr: Option<SocketAddr>,
    return_url_origins: Vec<String>,
    public: PublicConfig,
    public_url: Option<Url>,
}

fn listeners(r: &mut Resolver, s: &mut Settings) -> Listeners {
    let grpc_addr = r.addr(
        non_empty(s.grpc_addr.take()),
        DEFAULT_GRPC_ADDR,
        "LATCHKEY_GRPC_ADDR (--grpc-addr)",
    );
    let http_addr = r.addr(
        non_empty(s.http_addr.take()),
        DEFAULT_HTTP_ADDR,
        "LATCHKEY_HTTP_ADDR (--http-addr)",
    );
    let admin_addr = r.addr(
        non_empty(s.admin_addr.take()),
        DEFAULT_ADMIN_ADDR,
        "LATCHKEY_ADMIN_ADDR (--admin-addr)",
    );
    let return_url_origins: Vec<String> = non_empty(s.return_url_origins.take())
        .unwrap_or_default()
        .split(',')
        .filter(|o| !o.trim().is_empty())
        .filter_map(|o| {
            latchkey_domain::parse_origin(o, "LATCHKEY_RETURN_URL_ORIGINS (--return-url-origins)")
                .map_err(|v| r.errors.push(format!("{}: {o:?} {}", v.field, v.reason)))
                .ok()
        })
        .collect();
    let public = std::mem::take(&mut s.public).resolve(&mut r.errors);
    let public_url = match non_empty(s.public_url.take()) {
        None => None,
        Some(text) => match Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            _ => {
                r.errors.push(format!(
                    "LATCHKEY_PUBLIC_URL (--public-url): {text:?} is not an absolute http(s) URL"
                ));
                None
            }
        },
    };
    Listeners {
        grpc_addr,
        http_addr,
        admin_addr,
        return_url_origins,
        public,
        public_url,
    }
}

fn storage(r: &mut Resolver, s: &mut Settings, data_dir: &std::path::Path) -> Storage {
    let database_url = secret_or_file(
        non_empty(s.database_url.take()),
        s.database_url_file.take(),
        ("LATCHKEY_DATABASE_URL", "--database-url"),
        ("LATCHKEY_DATABASE_URL_FILE", "--database-url-file"),
        &mut r.errors,
    );
    match database_url {
        None => Storage::Sqlite {
            path: data_dir.join("latchkey.db"),
        },
        Some(url) => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                // The value may hold a password: name the setting, not the value.
                r.errors.push(
                    "LATCHKEY_DATABASE_URL (--database-url): must be a postgres:// or \
                     postgresql:// URL"
                        .to_owned(),
                );
            }
            Storage::Postgres {
                url: SecretString::from(url),
            }
        }
    }
}

/// The log filter and whether lines are JSON.
fn logging(r: &mut Resolver, s: &mut Settings) -> (String, bool) {
    let log = non_empty(s.log.take()).unwrap_or_else(|| DEFAULT_LOG.to_owned());
    let log_json = match non_empty(s.log_format.take()).as_deref() {
        None | Some("human") => false,
        Some("json") => true,
        Some(other) => {
            r.errors.push(format!(
                "LATCHKEY_LOG_FORMAT (--log-format): {other:?} is not human or json"
            ));
            false
        }
    };
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log) {
        r.errors.push(format!("LATCHKEY_LOG (--log): {e}"));
    }
    (log, log_json)
}

/// The numbers that bound the work: lifetimes, rates, concurrency, sizes.
struct Limits {
    authorization_ttl: u32,
    refresh_concurrency: u32,
    refresh_rate: u32,
    refresh_lease: u32,
    caller_rate: u32,
    database_pool_size: u32,
    events_partition_size: Option<i64>,
    provider_timeout: u32,
    validation_tick: u32,
    cache_mb: u32,
}

fn limits(r: &mut Resolver, s: &mut Settings) -> Limits {
    let authorization_ttl = match non_empty(s.authorization_ttl.take()) {
        None => 600,
        Some(text) => text.trim().parse::<u32>().unwrap_or_else(|_| {
            r.errors.push(format!(
                "LATCHKEY_AUTHORIZATION_TTL (--authorization-ttl): {text:?} is not a number of \
                 seconds"
            ));
            600
        }),
    };
    if !(1..=3600).contains(&authorization_ttl) {
        r.errors.push(
            "LATCHKEY_AUTHORIZATION_TTL (--authorization-ttl): must be 1 to 3600 seconds"
                .to_owned(),
        );
    }
    let limits = Limits {
        authorization_ttl,
        refresh_concurrency: r.number(
            s.refresh_concurrency.take(),
            16,
            "LATCHKEY_REFRESH_CONCURRENCY (--refresh-concurrency)",
            0..=1024,
        ),
        refresh_rate: r.number(
            s.refresh_rate.take(),
            50,
            "LATCHKEY_REFRESH_RATE (--refresh-rate)",
            1..=100_000,
        ),
        refresh_lease: r.number(
            s.refresh_lease.take(),
            60,
            "LATCHKEY_REFRESH_LEASE (--refresh-lease)",
            1..=3600,
        ),
        caller_rate: r.number(
            s.caller_rate.take(),
            5000,
            "LATCHKEY_CALLER_RATE (--caller-rate)",
            0..=1_000_000,
        ),
        database_pool_size: r.number(
            s.database_pool_size.take(),
            default_database_pool_size(),
            "LATCHKEY_DATABASE_POOL_SIZE (--database-pool-size)",
            1..=1000,
        ),
        events_partition_size: s.events_partition_size.is_some().then(|| {
            i64::from(r.number(
                s.events_partition_size.take(),
                50_000_000,
                "LATCHKEY_EVENTS_PARTITION_SIZE (--events-partition-size)",
                100..=4_000_000_000,
            ))
        }),
        provider_timeout: r.number(
            s.provider_timeout.take(),
            20,
            "LATCHKEY_PROVIDER_TIMEOUT (--provider-timeout)",
            1..=300,
        ),
        validation_tick: r.number(
            s.validation_tick.take(),
            30,
            "LATCHKEY_VALIDATION_TICK (--validation-tick)",
            0..=3600,
        ),
        cache_mb: r.number(
            s.cache_mb.take(),
            DEFAULT_CACHE_MB,
            "LATCHKEY_CACHE_MB (--cache-mb)",
            1..=1024 * 1024,
        ),
    };
    if limits.refresh_lease <= limits.provider_timeout {
        r.errors.push(format!(
            "LATCHKEY_REFRESH_LEASE (--refresh-lease): {} s must be longer than \
             LATCHKEY_PROVIDER_TIMEOUT (--provider-timeout, {} s), so a lease covers a provider \
             call and its commit",
            limits.refresh_lease, limits.provider_timeout
        ));
    }
    limits
}

/// How callers authenticate, and the TLS that carries it.
fn access(
    r: &mut Resolver,
    s: &mut Settings,
    grpc_addr: Option<SocketAddr>,
) -> (Option<AuthMode>, Option<TlsFiles>) {
    let auth = match non_empty(s.auth.take()).as_deref() {
        None | Some("none") => Some(AuthMode::None),
        Some("api-keys") => Some(AuthMode::ApiKeys),
        Some("mtls") => Some(AuthMode::Mtls),
        Some(other) => {
            r.errors.push(format!(
                "LATCHKEY_AUTH (--auth): {other:?} is not api-keys, mtls or none"
            ));
            None
        }
    };
    let tls = tls::resolve(
        s.tls_cert.take(),
        s.tls_key.take(),
        s.tls_client_ca.take(),
        &mut r.errors,
    );
    if auth == Some(AuthMode::Mtls) && tls.as_ref().is_none_or(|t| t.client_ca.is_none()) {
        r.errors.push(
            "LATCHKEY_AUTH=mtls needs LATCHKEY_TLS_CERT, LATCHKEY_TLS_KEY and LATCHKEY_TLS_CLIENT_CA"
                .to_owned(),
        );
    }
    if let (Some(AuthMode::None), Some(addr)) = (auth, grpc_addr)
        && !addr.ip().is_loopback()
    {
        r.errors.push(format!(
            "LATCHKEY_GRPC_ADDR ({addr}) is not a loopback address and LATCHKEY_AUTH is none: \
             anyone who reaches it could read every token. Set LATCHKEY_AUTH=api-keys (and \
             create keys with `latchkey apikeys create`) or bind to 127.0.0.1"
        ));
    }
    (auth, tls)
}

fn seconds(secs: u32) -> Duration {
    Duration::from_secs(u64::from(secs))
}

impl Settings {
    /// As [`Settings::resolve`]; with [`NeedsMasterKey::No`] (commands that open no secret) a
    /// missing master key is no error and none is generated.
    pub fn resolve_for(
        self,
        master_key_env: Option<SecretString>,
        needs: NeedsMasterKey,
    ) -> Result<Config, ConfigErrors> {
        let mut r = Resolver::default();
        let file = match &self.config {
            None => Settings::default(),
            Some(path) => read_file(path).unwrap_or_else(|message| {
                r.errors.push(message);
                Settings::default()
            }),
        };
        let mut settings = self.over(file).map_err(|e| ConfigErrors(vec![e]))?;
        let data_dir = PathBuf::from(
            non_empty(settings.data_dir.take()).unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()),
        );
        let listeners = listeners(&mut r, &mut settings);
        let storage = storage(&mut r, &mut settings, &data_dir);
        let nats = std::mem::take(&mut settings.nats).resolve(&mut r.errors);
        let master_key = master_key::resolve(
            master_key_env,
            settings.master_key_file.take(),
            &storage,
            &data_dir,
            needs,
            &mut r.errors,
        );
        let (log, log_json) = logging(&mut r, &mut settings);
        let allow_loopback_providers = r.switch(
            settings.allow_loopback_providers.take(),
            false,
            "LATCHKEY_ALLOW_LOOPBACK_PROVIDERS (--allow-loopback-providers)",
        );
        let migrate = r.switch(
            settings.migrate.take(),
            true,
            "LATCHKEY_MIGRATE (--migrate)",
        );
        let metrics_connections = r.switch(
            settings.metrics_connections.take(),
            false,
            "LATCHKEY_METRICS_CONNECTIONS (--metrics-connections)",
        );
        let metrics_provider_accounts = r.switch(
            settings.metrics_provider_accounts.take(),
            false,
            "LATCHKEY_METRICS_PROVIDER_ACCOUNTS (--metrics-provider-accounts)",
        );
        let limits = limits(&mut r, &mut settings);
        let brand = std::mem::take(&mut settings.brand).resolve(&mut r.errors);
        let (auth, tls) = access(&mut r, &mut settings, listeners.grpc_addr);
        let Listeners {
            grpc_addr: Some(grpc_addr),
            http_addr: Some(http_addr),
            admin_addr: Some(admin_addr),
            return_url_origins,
            public,
            public_url,
        } = listeners
        else {
            return Err(ConfigErrors(r.errors));
        };
        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        Ok(Config {
            data_dir,
            grpc_addr,
            http_addr,
            admin_addr,
            return_url_origins,
            public,
            brand,
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
            provider_ca_file: settings.provider_ca_file.take(),
            authorization_ttl: seconds(limits.authorization_ttl),
            refresh_concurrency: limits.refresh_concurrency,
            refresh_rate: NonZeroU32::new(limits.refresh_rate).unwrap_or(NonZeroU32::MIN),
            refresh_lease: seconds(limits.refresh_lease),
            provider_timeout: seconds(limits.provider_timeout),
            database_pool_size: limits.database_pool_size,
            events_partition_size: limits.events_partition_size,
            caller_rate: NonZeroU32::new(limits.caller_rate),
            validation_tick: (limits.validation_tick > 0).then(|| seconds(limits.validation_tick)),
            cache_bytes: usize::try_from(limits.cache_mb)
                .unwrap_or(usize::MAX / (1024 * 1024))
                .saturating_mul(1024 * 1024),
            auth: auth.unwrap_or(AuthMode::ApiKeys),
            tls,
        })
    }
}
