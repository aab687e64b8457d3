//! Start-up and shutdown, shared by `main` and the tests. [`App::build`] opens the store, loads the
//! keys and binds both listeners, so the bound addresses are known before serving starts (port 0
//! in tests); [`App::run`] serves until cancelled, then stops in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::vault::Vault;
use anyhow::Context;
use latchkey_crypto::Sealer;
use latchkey_oauth::{HttpPolicy, ProviderClient};
use latchkey_proto::v1::audit_service_server::AuditServiceServer;
use latchkey_proto::v1::connection_service_server::ConnectionServiceServer;
use latchkey_proto::v1::integration_service_server::IntegrationServiceServer;
use latchkey_store::{EventStore, Migrations, PgStore, SqliteStore};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access::AccessLog;
use crate::api::{AuditApi, ConnectionApi, DeadlineLayer, IntegrationApi};
use crate::audit::Audit;
use crate::auth::Authenticator;
use crate::cache::ProjectionCache;
use crate::config::{AuthMode, Config, Storage};
use crate::connections::scheduler::{RefresherSettings, run_refresher, run_validator};
use crate::connections::{ConnectionSettings, Connections};
use crate::http::{HttpState, router};
use crate::integrations::Integrations;
use crate::keys::load_keyring;
use crate::relay::{RelaySettings, RelayStatus, run_relay};

/// No request of the API needs more; larger ones are refused before they are decoded.
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Unary calls that take longer are cancelled (streams are not unary: `follow` stays open).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// Postgres' pool, to listen for other replicas' appends.
    pub pg_pool: Option<sqlx::PgPool>,
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
                pg_pool: None,
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
                pg_pool: Some(store.pool().clone()),
                store: Arc::new(store),
                kind: "postgres",
            })
        }
    }
}

pub struct App {
    grpc_listener: TcpListener,
    http_listener: TcpListener,
    admin_listener: TcpListener,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    admin_addr: SocketAddr,
    metrics_connections: bool,
    metrics_provider_accounts: bool,
    return_url_origins: Vec<String>,
    caller_rate: Option<std::num::NonZeroU32>,
    public: crate::config::PublicConfig,
    callback_url: String,
    store: Arc<dyn EventStore>,
    storage: &'static str,
    vault: Arc<Vault>,
    provider: ProviderClient,
    authorization_ttl: Duration,
    refresh_concurrency: u32,
    validation_tick: Option<Duration>,
    cache_bytes: usize,
    refresh_rate: std::num::NonZeroU32,
    refresh_lease: Duration,
    provider_timeout: Duration,
    relay: Option<RelaySettings>,
    relay_status: Arc<RelayStatus>,
    auth: AuthMode,
    tls: Option<tonic::transport::ServerTlsConfig>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Keys first: a bad key stops start-up before a database file is created.
        let database_exists = match &config.storage {
            Storage::Sqlite { path } => path.exists(),
            Storage::Postgres { .. } => true,
        };
        let master_key = config.master_key.clone().context(
            "LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE: the server needs the master key",
        )?;
        let keyring = load_keyring(&master_key, database_exists)?;
        let sealer = Sealer::new(keyring);
        let provider = ProviderClient::new(HttpPolicy {
            allow_loopback: config.allow_loopback_providers,
            timeout: config.provider_timeout,
            ..HttpPolicy::default()
        })
        .context("building the provider HTTP client")?;
        if config.allow_loopback_providers {
            tracing::warn!(
                "LATCHKEY_ALLOW_LOOPBACK_PROVIDERS is on: providers may be reached over plain \
                 HTTP on loopback; never use this in production"
            );
        }
        let migrations = if config.migrate {
            Migrations::Apply
        } else {
            Migrations::Check
        };
        let opened = open_store(&config, migrations).await?;

        let grpc_listener = TcpListener::bind(config.grpc_addr)
            .await
            .with_context(|| format!("LATCHKEY_GRPC_ADDR: cannot bind {}", config.grpc_addr))?;
        let http_listener = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("LATCHKEY_HTTP_ADDR: cannot bind {}", config.http_addr))?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;
        let admin_listener = TcpListener::bind(config.admin_addr)
            .await
            .with_context(|| format!("LATCHKEY_ADMIN_ADDR: cannot bind {}", config.admin_addr))?;
        let admin_addr = admin_listener.local_addr()?;
        let public = config
            .public_url
            .as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{http_addr}"));
        Ok(Self {
            grpc_listener,
            http_listener,
            admin_listener,
            grpc_addr,
            http_addr,
            admin_addr,
            metrics_connections: config.metrics_connections,
            return_url_origins: config.return_url_origins.clone(),
            caller_rate: config.caller_rate,
            public: config.public,
            metrics_provider_accounts: config.metrics_provider_accounts,
            callback_url: format!("{public}/oauth/callback"),
            relay: config.nats.clone(),
            relay_status: Arc::new(RelayStatus::default()),
            auth: config.auth,
            tls: config.tls.as_ref().map(tls_config).transpose()?,
            vault: Arc::new(Vault::new(opened.store.clone(), master_key, sealer)),
            store: opened.store,
            storage: opened.kind,

            provider,
            authorization_ttl: config.authorization_ttl,
            refresh_concurrency: config.refresh_concurrency,
            validation_tick: config.validation_tick,
            cache_bytes: config.cache_bytes,
            refresh_rate: config.refresh_rate,
            refresh_lease: config.refresh_lease,
            provider_timeout: config.provider_timeout,
        })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    pub fn storage(&self) -> &'static str {
        self.storage
    }

    /// Serves until `shutdown` is cancelled; then stops accepting, lets in-flight requests finish
    /// (bounded by [`SHUTDOWN_GRACE`]) and closes the store.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Every background task runs on this tracker, so shutdown drains them all.
        let background = TaskTracker::new();
        // On its own store the cache hears every append at once; on Postgres, once the store
        // hears the other replicas.
        let cache = ProjectionCache::of(self.store.as_ref(), self.cache_bytes);
        let connections = Connections::new(
            self.store.clone(),
            self.vault.clone(),
            self.provider.clone(),
            cache,
            background.clone(),
            shutdown.clone(),
            ConnectionSettings {
                callback_url: self.callback_url.clone(),
                authorization_ttl: self.authorization_ttl,
                refresh_rate: self.refresh_rate,
                refresh_lease: self.refresh_lease,
                return_url_origins: self.return_url_origins.clone(),
            },
        );
        if self.refresh_concurrency > 0 {
            background.spawn(run_refresher(
                connections.clone(),
                RefresherSettings {
                    concurrency: self.refresh_concurrency as usize,
                    tick: Duration::from_secs(1),
                    batch: 500,
                },
                shutdown.clone(),
            ));
        }
        if let Some(tick) = self.validation_tick {
            background.spawn(run_validator(connections.clone(), tick, shutdown.clone()));
        }
        if let Some(hearing) = self.store.hear_other_replicas() {
            let shutdown = shutdown.clone();
            background.spawn(async move {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = hearing => {}
                }
            });
        }
        if let Some(settings) = self.relay.clone() {
            background.spawn(run_relay(
                self.store.clone(),
                settings,
                self.relay_status.clone(),
                shutdown.clone(),
            ));
        }
        background.spawn(maintain_event_log(self.store.clone(), shutdown.clone()));
        background.spawn(self.vault.clone().watch(shutdown.clone()));
        let integrations = Integrations::new(
            self.store.clone(),
            self.vault.clone(),
            self.provider.clone(),
            connections.clone(),
        );
        let audit = Audit::new(
            self.store.clone(),
            connections.clone(),
            background.clone(),
            shutdown.clone(),
        );

        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<IntegrationServiceServer<IntegrationApi>>()
            .await;
        health
            .set_serving::<ConnectionServiceServer<ConnectionApi>>()
            .await;
        health.set_serving::<AuditServiceServer<AuditApi>>().await;
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(latchkey_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection().build_v1().context("building reflection v1")?;
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .context("building reflection v1alpha")?;

        let auth = Arc::new(Authenticator::new(
            self.auth,
            self.store.clone(),
            self.caller_rate,
        ));
        let access = Arc::new(AccessLog::default());
        // The last access counts are written once the servers have stopped.
        background.spawn(access.clone().run(self.store.clone(), shutdown.clone()));
        background.close();
        let mut builder = tonic::transport::Server::builder().trace_fn(crate::telemetry::grpc_span);
        if let Some(tls) = self.tls.clone() {
            builder = builder
                .tls_config(tls)
                .context("LATCHKEY_TLS_CERT: configuring TLS")?;
        }
        let grpc = builder
            // Limits against callers that hold or flood the server.
            .timeout(REQUEST_TIMEOUT)
            .concurrency_limit_per_connection(256)
            // Streams one HTTP/2 connection may open at once (beyond: refused by the protocol).
            .max_concurrent_streams(Some(1024))
            // A peer that stops answering pings is dropped, as are dead TCP peers.
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_keepalive_timeout(Some(Duration::from_secs(10)))
            .tcp_keepalive(Some(Duration::from_secs(60)))
            // A caller's deadline is answered DEADLINE_EXCEEDED (tonic says CANCELLED).
            .layer(DeadlineLayer)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(
                IntegrationServiceServer::new(IntegrationApi::new(
                    integrations,
                    self.callback_url.clone(),
                    auth.clone(),
                ))
                .max_decoding_message_size(MAX_REQUEST_BYTES),
            )
            .add_service(
                ConnectionServiceServer::new(ConnectionApi::new(
                    connections.clone(),
                    auth.clone(),
                    access,
                ))
                .max_decoding_message_size(MAX_REQUEST_BYTES),
            )
            .add_service(
                AuditServiceServer::new(AuditApi::new(audit, auth.clone()))
                    .max_decoding_message_size(MAX_REQUEST_BYTES),
            )
            .serve_with_incoming_shutdown(
                // Small replies go out at once: without TCP_NODELAY, Nagle's algorithm and the
                // peer's delayed ACK hold some of them for 40 ms (seen as GetToken's p99).
                tokio_stream::StreamExt::map(
                    TcpListenerStream::new(self.grpc_listener),
                    |accepted| {
                        accepted.inspect(|stream| {
                            if let Err(e) = stream.set_nodelay(true) {
                                tracing::debug!(error = %e, "TCP_NODELAY not set");
                            }
                        })
                    },
                ),
                shutdown.clone().cancelled_owned(),
            );
        let limits = crate::public::PublicLimits {
            header_timeout: self.public.header_timeout,
            request_timeout: self.public.request_timeout,
            max_connections: self.public.max_connections,
            max_per_address: self.public.max_connections_per_address,
            trusted_proxies: self.public.trusted_proxies.clone().into(),
            hsts: connections.public_https(),
        };
        let http = crate::public::serve(
            self.http_listener,
            router(HttpState::new(
                self.store.clone(),
                connections,
                &self.public.frame_ancestors,
            )),
            limits,
            shutdown.clone(),
        );
        let admin = axum::serve(
            self.admin_listener,
            crate::admin::router(crate::admin::AdminState {
                store: self.store.clone(),
                storage: self.storage,
                relay: self.relay_status.clone(),
                per_connection: self.metrics_connections,
                provider_accounts: self.metrics_provider_accounts,
                series_read_at: Arc::default(),
            }),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());

        tracing::info!(
            grpc_addr = %self.grpc_addr,
            http_addr = %self.http_addr,
            admin_addr = %self.admin_addr,
            storage = self.storage,
            callback_url = %self.callback_url,
            key_id = %self.vault.active_key_id(),
            "latchkey serving"
        );
        let serve = async {
            let (grpc, http, admin) = tokio::join!(grpc, http, admin);
            grpc.context("gRPC server")?;
            let () = http;
            admin.context("admin HTTP server")?;
            anyhow::Ok(())
        };
        tokio::pin!(serve);
        let result = tokio::select! {
            result = &mut serve => result,
            () = async {
                shutdown.cancelled().await;
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
        let drain = self.provider_timeout + COMMIT_GRACE;
        if tokio::time::timeout(drain, background.wait())
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
