//! Start-up and shutdown, shared by `serve` and the tests: the one composition root.
//! [`App::build`] opens the store, loads the keys, binds the listeners (so their addresses are
//! known before serving starts: port 0 in tests) and wires every service; [`App::run`] starts the
//! background work, serves (`servers`) until cancelled, then stops in order.

mod servers;

pub use servers::server_builder;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::vault::Vault;
use anyhow::Context;
use latchkey_crypto::Sealer;
use latchkey_oauth::{HttpPolicy, ProviderClient};
use latchkey_store::{EventStore, Migrations, PgStore, SqliteStore};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access::AccessLog;
use crate::audit::Audit;
use crate::auth::Authenticator;
use crate::cache::ProjectionCache;
use crate::config::{Config, Storage};
use crate::connections::revocations::run_revocation_retries;
use crate::connections::scheduler::{RefresherSettings, run_refresher, run_validator};
use crate::connections::{ConnectionSettings, Connections};
use crate::integrations::Integrations;
use crate::keys::load_keyring;
use crate::relay::{RelaySettings, RelayStatus, run_relay};

/// How long in-flight requests get to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Beyond the provider timeout, how long a refresh in flight at shutdown gets to commit.
pub const COMMIT_GRACE: Duration = Duration::from_secs(10);

/// The gRPC listener's TLS from its files (read at start; a bad file stops start-up).
fn tls_config(
    files: &crate::config::TlsFiles,
) -> anyhow::Result<tonic::transport::ServerTlsConfig> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let cert = std::fs::read(&files.cert)
        .with_context(|| format!("LATCHKEY_TLS_CERT: reading {}", files.cert.display()))?;
    let key = std::fs::read(&files.key)
        .with_context(|| format!("LATCHKEY_TLS_KEY: reading {}", files.key.display()))?;
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
    if let Some(ca) = &files.client_ca {
        let ca = std::fs::read(ca)
            .with_context(|| format!("LATCHKEY_TLS_CLIENT_CA: reading {}", ca.display()))?;
        tls = tls.client_ca_root(Certificate::from_pem(ca));
    }
    Ok(tls)
}

/// Whether connecting failed in the TLS handshake (a certificate refused, a CA file unreadable).
fn is_tls_failure(error: &latchkey_store::StoreError) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    ["certificate", "tls", "ssl", "handshake"]
        .iter()
        .any(|word| text.contains(word))
}

/// The opened store and its kind.
#[derive(Debug)]
pub struct OpenedStore {
    pub store: Arc<dyn EventStore>,
    pub kind: &'static str,
}

/// Opens the configured store. Postgres applies pending migrations or only checks that none is
/// pending (a role that may not change the schema); the embedded SQLite file is this process's
/// own and is always brought up to date.
pub async fn open_store(config: &Config, migrations: Migrations) -> anyhow::Result<OpenedStore> {
    match &config.storage {
        Storage::Sqlite { path } => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!(
                    "LATCHKEY_DATA_DIR: cannot create {}",
                    config.data_dir.display()
                )
            })?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))
                    .with_context(|| {
                        format!(
                            "LATCHKEY_DATA_DIR: cannot restrict {}",
                            config.data_dir.display()
                        )
                    })?;
            }
            let store = SqliteStore::open(path)
                .await
                .with_context(|| format!("opening SQLite database {}", path.display()))?;
            Ok(OpenedStore {
                store: Arc::new(store),
                kind: "sqlite",
            })
        }
        Storage::Postgres { url } => {
            let store = match PgStore::connect_with(
                url.expose_secret(),
                config.database_pool_size,
                migrations,
                config.events_partition_size,
            )
            .await
            {
                Ok(store) => store,
                // Said as it is: the fix is `latchkey migrate`.
                Err(e @ latchkey_store::StoreError::SchemaBehind { .. }) => return Err(e.into()),
                // Why the database cannot be reached, and which setting points at it.
                Err(latchkey_store::StoreError::Unreachable { cause, detail }) => {
                    anyhow::bail!("LATCHKEY_DATABASE_URL: {cause}: {detail}")
                }
                // A refused certificate deserves its own words: the fix is in the URL.
                Err(e) if is_tls_failure(&e) => anyhow::bail!(
                    "LATCHKEY_DATABASE_URL: TLS with the database failed ({e}); check its sslmode \
                     and sslrootcert (the CA that signed the server's certificate)"
                ),
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(match migrations {
                        Migrations::Apply => {
                            "connecting to LATCHKEY_DATABASE_URL and applying migrations"
                        }
                        Migrations::Check => "connecting to LATCHKEY_DATABASE_URL",
                    }));
                }
            };
            Ok(OpenedStore {
                store: Arc::new(store),
                kind: "postgres",
            })
        }
    }
}

/// The bound listeners, and the addresses they got (port 0 in tests).
struct Listeners {
    grpc: TcpListener,
    http: TcpListener,
    admin: TcpListener,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    admin_addr: SocketAddr,
}

/// The use cases and what the API shares, wired once.
struct Services {
    connections: Connections,
    integrations: Integrations,
    audit: Audit,
    auth: Arc<Authenticator>,
    access: Arc<AccessLog>,
    /// Provider webhooks and action callbacks.
    inbound: crate::inbound::Inbound,
}

/// The background work `run` starts, and how.
struct Tasks {
    refresh_concurrency: u32,
    validation_tick: Option<Duration>,
    relay: Option<RelaySettings>,
    relay_status: Arc<RelayStatus>,
    /// How long the work under way at shutdown gets: a provider call and its commit.
    drain: Duration,
}

/// A replica, wired: [`App::build`] opens the store, loads the keys, binds the listeners and
/// builds every service; [`App::run`] starts the background work, serves and stops in order.
pub struct App {
    listeners: Listeners,
    store: Arc<dyn EventStore>,
    storage: &'static str,
    vault: Arc<Vault>,
    callback_url: String,
    services: Services,
    tasks: Tasks,
    servers: servers::Settings,
    /// Every background task runs on it, so shutdown drains them all.
    background: TaskTracker,
    /// The app's own stop: cancelled when `run`'s shutdown is.
    stop: CancellationToken,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("grpc_addr", &self.listeners.grpc_addr)
            .field("http_addr", &self.listeners.http_addr)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

/// Binds the three listeners, each refusal naming its setting.
async fn bind(config: &Config) -> anyhow::Result<Listeners> {
    let grpc = TcpListener::bind(config.grpc_addr)
        .await
        .with_context(|| format!("LATCHKEY_GRPC_ADDR: cannot bind {}", config.grpc_addr))?;
    let http = TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("LATCHKEY_HTTP_ADDR: cannot bind {}", config.http_addr))?;
    let admin = TcpListener::bind(config.admin_addr)
        .await
        .with_context(|| format!("LATCHKEY_ADMIN_ADDR: cannot bind {}", config.admin_addr))?;
    Ok(Listeners {
        grpc_addr: grpc.local_addr()?,
        http_addr: http.local_addr()?,
        admin_addr: admin.local_addr()?,
        grpc,
        http,
        admin,
    })
}

/// The sealer, from the master key: first, so a bad key stops start-up before a database file
/// is created.
fn sealer(config: &Config) -> anyhow::Result<(crate::config::MasterKeySource, Sealer)> {
    let database_exists = match &config.storage {
        Storage::Sqlite { path } => path.exists(),
        Storage::Postgres { .. } => true,
    };
    let master_key = config.master_key.clone().context(
        "LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE: the server needs the master key",
    )?;
    let keyring = load_keyring(&master_key, database_exists)?;
    Ok((master_key, Sealer::new(keyring)))
}

/// The one client every provider call goes through.
fn provider_client(config: &Config) -> anyhow::Result<ProviderClient> {
    if config.allow_loopback_providers {
        tracing::warn!(
            "LATCHKEY_ALLOW_LOOPBACK_PROVIDERS is on: providers may be reached over plain HTTP \
             on loopback; never use this in production"
        );
    }
    let extra_roots = match &config.provider_ca_file {
        Some(path) => vec![std::fs::read(path).with_context(|| {
            format!("LATCHKEY_PROVIDER_CA_FILE: cannot read {}", path.display())
        })?],
        None => Vec::new(),
    };
    ProviderClient::new(HttpPolicy {
        allow_loopback: config.allow_loopback_providers,
        timeout: config.provider_timeout,
        extra_roots,
        ..HttpPolicy::default()
    })
    .context("building the provider HTTP client (LATCHKEY_PROVIDER_CA_FILE: PEM certificates)")
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (master_key, sealer) = sealer(&config)?;
        let provider = provider_client(&config)?;
        let migrations = if config.migrate {
            Migrations::Apply
        } else {
            Migrations::Check
        };
        let opened = open_store(&config, migrations).await?;
        let listeners = bind(&config).await?;
        let public = config
            .public_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{}", listeners.http_addr));
        let callback_url = format!("{public}/oauth/callback");
        let store = opened.store;
        let vault = Arc::new(Vault::new(store.clone(), master_key, sealer));
        let background = TaskTracker::new();
        let stop = CancellationToken::new();
        // On its own store the cache hears every append at once; on Postgres, once the store
        // hears the other replicas.
        let cache = ProjectionCache::of(store.as_ref(), config.cache_bytes);
        let connections = Connections::new(
            store.clone(),
            vault.clone(),
            provider.clone(),
            cache.clone(),
            background.clone(),
            stop.clone(),
            ConnectionSettings {
                callback_url: callback_url.clone(),
                authorization_ttl: config.authorization_ttl,
                refresh_rate: config.refresh_rate,
                refresh_lease: config.refresh_lease,
                provider_timeout: config.provider_timeout,
                return_url_origins: config.return_url_origins.clone(),
            },
        );
        let verifier = Arc::new(crate::inbound::Verifier::new(provider.clone()));
        let services = Services {
            integrations: Integrations::new(
                store.clone(),
                vault.clone(),
                provider,
                connections.clone(),
                verifier.clone(),
            ),
            audit: Audit::new(
                store.clone(),
                connections.clone(),
                background.clone(),
                stop.clone(),
            ),
            auth: Arc::new(Authenticator::new(
                config.auth,
                store.clone(),
                config.caller_rate,
            )),
            access: Arc::new(AccessLog::default()),
            inbound: crate::inbound::Inbound::new(
                store.clone(),
                vault.clone(),
                verifier.clone(),
                cache.clone(),
                background.clone(),
                &public,
            ),
            connections,
        };
        Ok(Self {
            tasks: Tasks {
                refresh_concurrency: config.refresh_concurrency,
                validation_tick: config.validation_tick,
                relay: config.nats.clone(),
                relay_status: Arc::new(RelayStatus::default()),
                drain: config.provider_timeout + COMMIT_GRACE,
            },
            servers: servers::Settings {
                tls: config.tls.as_ref().map(tls_config).transpose()?,
                public: config.public,
                metrics_connections: config.metrics_connections,
                metrics_provider_accounts: config.metrics_provider_accounts,
                brand: Arc::new(
                    crate::connect_pages::load_brand(
                        &config.brand,
                        config.allow_loopback_providers,
                    )
                    .await,
                ),
            },
            listeners,
            store,
            storage: opened.kind,
            vault,
            callback_url,
            services,
            background,
            stop,
        })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.listeners.grpc_addr
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.listeners.http_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.listeners.admin_addr
    }

    pub fn storage(&self) -> &'static str {
        self.storage
    }

    /// The background work: the refresher, the validator, hearing the other replicas, the relay,
    /// the log's upkeep, the key file's watch and the token-read log.
    fn start_tasks(&self) {
        let (background, stop, store) = (&self.background, &self.stop, &self.store);
        let connections = &self.services.connections;
        if self.tasks.refresh_concurrency > 0 {
            let settings = RefresherSettings {
                concurrency: self.tasks.refresh_concurrency as usize,
                tick: Duration::from_secs(1),
                batch: 500,
            };
            background.spawn(run_refresher(connections.clone(), settings, stop.clone()));
            background.spawn(connections.clone().resume_device_authorizations());
        }
        if let Some(tick) = self.tasks.validation_tick {
            background.spawn(run_validator(connections.clone(), tick, stop.clone()));
        }
        background.spawn(run_revocation_retries(
            connections.clone(),
            Duration::from_secs(1),
            stop.clone(),
        ));
        if let Some(hearing) = store.hear_other_replicas() {
            let stop = stop.clone();
            background.spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = hearing => {}
                }
            });
        }
        if let Some(settings) = self.tasks.relay.clone() {
            let status = self.tasks.relay_status.clone();
            background.spawn(run_relay(
                store.clone(),
                self.vault.clone(),
                settings,
                status,
                stop.clone(),
            ));
        }
        background.spawn(maintain_event_log(store.clone(), stop.clone()));
        background.spawn(self.vault.clone().watch(stop.clone()));
        // The last access counts are written once the servers have stopped.
        let access = self.services.access.clone();
        background.spawn(access.run(store.clone(), stop.clone()));
        background.close();
    }

    /// Serves until `shutdown` is cancelled; then stops accepting, lets in-flight requests finish
    /// (bounded by [`SHUTDOWN_GRACE`]), lets the background work finish (bounded by a provider
    /// call and its commit) and closes the store.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let stop = self.stop.clone();
        // The caller's shutdown stops the app; polled beside the servers, it never ends itself.
        let link = async {
            shutdown.cancelled().await;
            stop.cancel();
            std::future::pending::<()>().await;
        };
        self.start_tasks();
        let serve = servers::serve(
            self.listeners,
            &self.services,
            &self.servers,
            servers::Shared {
                store: self.store.clone(),
                storage: self.storage,
                callback_url: self.callback_url.clone(),
                relay: self.tasks.relay_status.clone(),
                key_id: self.vault.active_key_id(),
                vault: self.vault.clone(),
            },
            stop.clone(),
        );
        tokio::pin!(serve);
        let result = tokio::select! {
            result = &mut serve => result,
            () = link => Ok(()),
            () = async {
                stop.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "in-flight requests did not finish in time");
                Ok(())
            }
        };
        // No refresh starts after the signal; those under way finish before the store closes: a
        // provider call and its commit (whose retries outlast a short database blip), and the
        // access log writes its last counts. Past that, an interrupted refresh leaves its token in
        // doubt, as a crash would.
        let drain = self.tasks.drain;
        if tokio::time::timeout(drain, self.background.wait())
            .await
            .is_err()
        {
            tracing::warn!(?drain, "background work did not finish in time");
        }
        self.store.close().await;
        tracing::info!("latchkey stopped");
        result
    }
}

/// How often a replica makes sure the log's next partitions exist.
const MAINTAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps the log ready (Postgres: partitions created ahead of it, a whole one at least), every
/// ten seconds until shutdown. A role that may not create tables cannot: said at most every ten
/// minutes, with the fix, while the partitions made earlier still last.
pub async fn maintain_event_log(
    store: Arc<dyn EventStore>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    const WARN_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
    let mut warned: Option<std::time::Instant> = None;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(MAINTAIN_EVERY) => {}
        }
        match store.maintain_event_log().await {
            Ok(()) => warned = None,
            Err(e) if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) => {
                warned = Some(std::time::Instant::now());
                tracing::warn!(
                    error = %e,
                    "cannot create the log's next partitions; run `latchkey migrate` (it creates \
                     them) or let the database role create tables"
                );
            }
            Err(e) => tracing::debug!(error = %e, "the log's next partitions: still failing"),
        }
    }
}
