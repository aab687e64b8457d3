//! The three listeners' servers: gRPC (the API, health, reflection, with its limits), the public
//! HTTP listener (callback, start links, connect pages) and the admin listener (metrics, detailed
//! health), served together until the app stops.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use latchkey_proto::server::connection_service_server::ConnectionServiceServer;
use latchkey_proto::v1::audit_service_server::AuditServiceServer;
use latchkey_proto::v1::integration_service_server::IntegrationServiceServer;
use latchkey_store::EventStore;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

use super::{Listeners, Services};
use crate::api::{AuditApi, ConnectionApi, DeadlineLayer, IntegrationApi, RpcMetricsLayer};
use crate::http::{HttpState, router};
use crate::http_json::{HttpJson, Unary, UnaryFuture};
use crate::relay::RelayStatus;

/// No request of the API needs more; larger ones are refused before they are decoded.
const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Unary calls that take longer are cancelled (streams are not unary: `follow` stays open).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How the servers are set up.
#[derive(Debug)]
pub(super) struct Settings {
    pub(super) tls: Option<tonic::transport::ServerTlsConfig>,
    pub(super) public: crate::config::PublicConfig,
    pub(super) metrics_connections: bool,
    pub(super) metrics_provider_accounts: bool,
    /// The platform's face on the connect pages, its logo fetched.
    pub(super) brand: Arc<crate::public_state::Brand>,
}

/// What the servers read from the app beside its services.
pub(super) struct Shared {
    pub(super) store: Arc<dyn EventStore>,
    pub(super) storage: &'static str,
    pub(super) callback_url: String,
    pub(super) relay: Arc<RelayStatus>,
    pub(super) key_id: String,
    pub(super) vault: Arc<crate::vault::Vault>,
}

/// The gRPC port's server: its span per call, its limits against callers that hold or flood it,
/// HTTP/1.1 beside HTTP/2 (for HTTP/JSON), deadlines answered as gRPC has them. Public for the
/// benchmarks, whose HTTP/JSON echo runs on the same stack.
pub fn server_builder() -> tonic::transport::Server<
    tower::layer::util::Stack<
        DeadlineLayer,
        tower::layer::util::Stack<RpcMetricsLayer, tower::layer::util::Identity>,
    >,
> {
    crate::api::initialize_rpc_metrics();
    tonic::transport::Server::builder()
        .trace_fn(crate::telemetry::grpc_span)
        .timeout(REQUEST_TIMEOUT)
        .concurrency_limit_per_connection(256)
        // Streams one HTTP/2 connection may open at once (beyond: refused by the protocol).
        .max_concurrent_streams(Some(1024))
        // A peer that stops answering pings is dropped, as are dead TCP peers.
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .tcp_keepalive(Some(Duration::from_secs(60)))
        // HTTP/JSON's callers speak HTTP/1.1 as well.
        .accept_http1(true)
        // Per-RPC counts and latency, outside the deadline so its answers are counted too.
        .layer(RpcMetricsLayer)
        // A caller's deadline is answered DEADLINE_EXCEEDED (tonic says CANCELLED).
        .layer(DeadlineLayer)
}

/// gRPC: health, reflection and the three services, behind the limits against callers that hold
/// or flood the server.
async fn grpc(
    listener: tokio::net::TcpListener,
    services: &Services,
    tls: Option<tonic::transport::ServerTlsConfig>,
    callback_url: String,
    stop: CancellationToken,
) -> anyhow::Result<()> {
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
    let mut builder = server_builder();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .context("LATCHKEY_TLS_CERT: configuring TLS")?;
    }
    let auth = &services.auth;
    let integrations = Arc::new(IntegrationApi::new(
        services.integrations.clone(),
        callback_url,
        auth.clone(),
    ));
    let connections = Arc::new(ConnectionApi::new(
        services.connections.clone(),
        services.integrations.clone(),
        services.inbound.clone(),
        auth.clone(),
        services.access.clone(),
    ));
    let audit = Arc::new(AuditApi::new(services.audit.clone(), auth.clone()));
    let api = tonic::service::Routes::new(
        IntegrationServiceServer::from_arc(integrations.clone())
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        ConnectionServiceServer::from_arc(connections.clone())
            .max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .add_service(
        AuditServiceServer::from_arc(audit.clone()).max_decoding_message_size(MAX_REQUEST_BYTES),
    )
    .prepare();
    // HTTP/JSON (curl, low-code tools) calls the same services, on the same port.
    let typed = Arc::new(Typed {
        integrations,
        connections,
        audit,
    });
    let http_json = HttpJson::new(typed, api.clone()).context("HTTP/JSON routes")?;
    let routes = api
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    let routes = tonic::service::Routes::from(http_json.beside(routes.into_axum_router()));
    builder
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            // Small replies go out at once: without TCP_NODELAY, Nagle's algorithm and the
            // peer's delayed ACK hold some of them for 40 ms (seen as GetToken's p99).
            tokio_stream::StreamExt::map(TcpListenerStream::new(listener), |accepted| {
                accepted.inspect(|stream| {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY not set");
                    }
                })
            }),
            stop.cancelled_owned(),
        )
        .await
        .context("gRPC server")
}

/// The API's services, for HTTP/JSON's unary calls by their typed methods.
struct Typed {
    integrations: Arc<IntegrationApi>,
    connections: Arc<ConnectionApi>,
    audit: Arc<AuditApi>,
}

impl std::fmt::Debug for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Typed").finish_non_exhaustive()
    }
}

impl Unary for Typed {
    fn call<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        request: tonic::Request<Vec<u8>>,
    ) -> UnaryFuture<'a> {
        use latchkey_proto::dispatch;
        Box::pin(async move {
            match service {
                "latchkey.v1.ConnectionService" => {
                    dispatch::call_connection_service(&*self.connections, method, request).await
                }
                "latchkey.v1.IntegrationService" => {
                    dispatch::call_integration_service(&*self.integrations, method, request).await
                }
                "latchkey.v1.AuditService" => {
                    dispatch::call_audit_service(&*self.audit, method, request).await
                }
                _ => None,
            }
        })
    }
}

/// Serves the three listeners until `stop`.
pub(super) async fn serve(
    listeners: Listeners,
    services: &Services,
    settings: &Settings,
    shared: Shared,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let public = &settings.public;
    let limits = crate::public::PublicLimits {
        header_timeout: public.header_timeout,
        request_timeout: public.request_timeout,
        max_connections: public.max_connections,
        max_per_address: public.max_connections_per_address,
        trusted_proxies: public.trusted_proxies.clone().into(),
        hsts: services.connections.public_https(),
    };
    let http = crate::public::serve(
        listeners.http,
        router(HttpState::new(
            shared.store.clone(),
            services.connections.clone(),
            services.inbound.clone(),
            &public.frame_ancestors,
            settings.brand.clone(),
        )),
        limits,
        stop.clone(),
    );
    let admin = axum::serve(
        listeners.admin,
        crate::admin::router(crate::admin::AdminState {
            store: shared.store,
            storage: shared.storage,
            relay: shared.relay,
            per_connection: settings.metrics_connections,
            provider_accounts: settings.metrics_provider_accounts,
            series_read_at: Arc::default(),
            webhooks: services.inbound.health(),
            vault: shared.vault,
        }),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned());
    tracing::info!(
        grpc_addr = %listeners.grpc_addr,
        http_addr = %listeners.http_addr,
        admin_addr = %listeners.admin_addr,
        storage = shared.storage,
        callback_url = %shared.callback_url,
        key_id = %shared.key_id,
        "latchkey serving"
    );
    let grpc = grpc(
        listeners.grpc,
        services,
        settings.tls.clone(),
        shared.callback_url,
        stop,
    );
    let (grpc, (), admin) = tokio::join!(grpc, http, admin);
    grpc?;
    admin.context("admin HTTP server")
}
