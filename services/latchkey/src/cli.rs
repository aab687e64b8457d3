//! Operator commands that talk gRPC to a running server: history, events, connections.

use clap::{Args, Subcommand};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::audit_service_client::AuditServiceClient;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// Where the server is and who is asking.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The gRPC address of a running server.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    pub server: String,
    /// An API key (`latchkey apikeys create`), when the server asks for one.
    #[arg(long, global = true, env = "LATCHKEY_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// A PEM CA certificate to trust, for a server on TLS (`https://…`).
    #[arg(long, global = true, env = "LATCHKEY_SERVER_CA")]
    pub ca: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ConnectionsAction {
    /// Connections, optionally of one tenant, integration or provider account.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        integration: Option<String>,
        /// The connections of this account at the provider.
        #[arg(long)]
        provider_account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One connection, now or as it was at a time (RFC 3339), rebuilt from the log.
    Show {
        connection: String,
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

type Bearer =
    Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>;

async fn channel(args: &ClientArgs) -> anyhow::Result<(Channel, Bearer)> {
    let mut endpoint = Channel::from_shared(args.server.clone())
        .map_err(|e| anyhow::anyhow!("--server / LATCHKEY_SERVER: {e}"))?;
    if let Some(ca) = &args.ca {
        let pem = std::fs::read(ca).map_err(|e| anyhow::anyhow!("--ca {}: {e}", ca.display()))?;
        endpoint = endpoint
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {}: {e}", args.server))?;
    let header: Option<MetadataValue<_>> = match &args.api_key {
        Some(key) => Some(format!("Bearer {key}").parse().map_err(|_| {
            anyhow::anyhow!("--api-key / LATCHKEY_API_KEY is not a valid header value")
        })?),
        None => None,
    };
    let bearer: Bearer = Box::new(move |mut request: tonic::Request<()>| {
        if let Some(header) = &header {
            request
                .metadata_mut()
                .insert("authorization", header.clone());
        }
        Ok(request)
    });
    Ok((channel, bearer))
}

fn status(e: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code(), e.message())
}

fn time(ts: &Option<prost_types::Timestamp>) -> String {
    ts.as_ref()
        .and_then(|t| {
            chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        })
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}

/// A short, secret-free summary of an event's payload.
fn summary(event: &pb::Event) -> String {
    let payload: serde_json::Value = serde_json::from_str(&event.payload_json).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match event.r#type.as_str() {
        "connection_created" => format!(
            "tenant {} via {} ({})",
            text(&payload["tenant"]).unwrap_or_default(),
            text(&payload["integration_id"]).unwrap_or_default(),
            text(&payload["grant_type"]).unwrap_or_default()
        ),
        "authorized" | "refreshed" => format!(
            "token until {}{}",
            text(&payload["tokens"]["expires_at"]).unwrap_or_else(|| "?".to_owned()),
            if payload["tokens"]["refresh_token"].is_string() {
                ", new refresh token"
            } else {
                ""
            }
        ),
        "refresh_failed" => format!(
            "{} (attempt {}, retry at {})",
            text(&payload["error"]).unwrap_or_default(),
            payload["attempt"],
            text(&payload["retry_at"]).unwrap_or_else(|| "-".to_owned())
        ),
        "reauthorization_required" | "authorization_failed" => {
            text(&payload["error"]).unwrap_or_default()
        }
        "revoked" => format!("reason: {}", text(&payload["reason"]).unwrap_or_default()),
        "authorization_started" => format!(
            "until {}",
            text(&payload["authorization"]["expires_at"]).unwrap_or_default()
        ),
        _ => String::new(),
    }
}

fn event_json(e: &pb::Event) -> serde_json::Value {
    serde_json::json!({
        "position": e.position,
        "stream_id": e.stream_id,
        "version": e.version,
        "type": e.r#type,
        "occurred_at": time(&e.occurred_at),
        "actor": e.actor,
        "correlation_id": e.correlation_id,
        "tenant": e.tenant,
        "event_id": e.event_id,
        "payload": serde_json::from_str::<serde_json::Value>(&e.payload_json).unwrap_or_default(),
    })
}

fn print_event(e: &pb::Event, json: bool) {
    if json {
        println!("{}", event_json(e));
    } else {
        println!(
            "{:<24}  {:>4}  {:<24}  {:<20}  {}",
            time(&e.occurred_at),
            e.version,
            e.r#type,
            e.actor,
            summary(e)
        );
    }
}

/// `latchkey history <connection>`.
pub async fn history(args: &ClientArgs, connection: String, json: bool) -> anyhow::Result<()> {
    let (channel, bearer) = channel(args).await?;
    let mut client = AuditServiceClient::with_interceptor(channel, bearer);
    let mut stream = client
        .get_history(pb::GetHistoryRequest {
            stream: Some(pb::get_history_request::Stream::ConnectionId(connection)),
            from_version: 0,
        })
        .await
        .map_err(status)?
        .into_inner();
    if !json {
        println!(
            "{:<24}  {:>4}  {:<24}  {:<20}  SUMMARY",
            "TIME", "VER", "TYPE", "ACTOR"
        );
    }
    while let Some(event) = stream.message().await.map_err(status)? {
        print_event(&event, json);
    }
    Ok(())
}

/// `latchkey events --from <position> [--follow]`.
pub async fn events(
    args: &ClientArgs,
    from: i64,
    follow: bool,
    tenant: Option<String>,
    types: Vec<String>,
    json: bool,
) -> anyhow::Result<()> {
    let (channel, bearer) = channel(args).await?;
    let mut client: AuditServiceClient<InterceptedService<Channel, Bearer>> =
        AuditServiceClient::with_interceptor(channel, bearer);
    let mut stream = client
        .replay_events(pb::ReplayEventsRequest {
            from_position: from,
            filter: Some(pb::EventFilter {
                tenant: tenant.unwrap_or_default(),
                types,
                connection_id: String::new(),
            }),
            follow,
        })
        .await
        .map_err(status)?
        .into_inner();
    while let Some(event) = stream.message().await.map_err(status)? {
        if json {
            println!("{}", event_json(&event));
        } else {
            println!(
                "{:>8}  {:<24}  {:<50}  {:<24}  {}",
                event.position,
                time(&event.occurred_at),
                event.stream_id,
                event.r#type,
                event.actor
            );
        }
    }
    Ok(())
}

fn connection_json(c: &pb::Connection) -> serde_json::Value {
    serde_json::json!({
        "connection_id": c.connection_id,
        "integration_id": c.integration_id,
        "tenant": c.tenant,
        "status": c.status().as_str_name(),
        "grant_type": c.grant_type().as_str_name(),
        "scopes": c.scopes,
        "expires_at": time(&c.expires_at),
        "next_refresh_at": time(&c.next_refresh_at),
        "can_refresh": c.can_refresh,
        "name": c.name,
        "provider_account_id": c.provider_account_id,
        "last_validation": c.last_validation.as_ref().map(|v| serde_json::json!({"valid": v.valid, "reason": v.reason, "at": time(&v.at)})),
        "last_error": c.last_error.as_ref().map(|e| serde_json::json!({"code": e.code, "description": e.description, "retryable": e.retryable})),
        "version": c.version,
        "created_at": time(&c.created_at),
        "updated_at": time(&c.updated_at),
    })
}

/// `latchkey connections list|show`.
pub async fn connections(args: &ClientArgs, action: ConnectionsAction) -> anyhow::Result<()> {
    let (channel, bearer) = channel(args).await?;
    let mut client = ConnectionServiceClient::with_interceptor(channel, bearer);
    match action {
        ConnectionsAction::List {
            tenant,
            integration,
            provider_account,
            json,
        } => {
            let mut page_token = String::new();
            loop {
                let page = client
                    .list_connections(pb::ListConnectionsRequest {
                        tenant: tenant.clone().unwrap_or_default(),
                        integration_id: integration.clone().unwrap_or_default(),
                        provider_account_id: provider_account.clone().unwrap_or_default(),
                        page_size: 500,
                        page_token: page_token.clone(),
                        ..Default::default()
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                for c in &page.connections {
                    if json {
                        println!("{}", connection_json(c));
                    } else {
                        println!(
                            "{}  {:<16}  {:<40}  expires {}",
                            c.connection_id,
                            c.tenant,
                            c.status().as_str_name(),
                            time(&c.expires_at)
                        );
                    }
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        ConnectionsAction::Show {
            connection,
            as_of,
            json,
        } => {
            let as_of = as_of
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(&t)
                        .map(|t| prost_types::Timestamp {
                            seconds: t.timestamp(),
                            nanos: t.timestamp_subsec_nanos() as i32,
                        })
                        .map_err(|e| {
                            anyhow::anyhow!("--as-of: {t:?} is not an RFC 3339 time ({e})")
                        })
                })
                .transpose()?;
            let c = client
                .get_connection(pb::GetConnectionRequest {
                    connection_id: connection,
                    as_of,
                })
                .await
                .map_err(status)?
                .into_inner();
            let value = connection_json(&c);
            if json {
                println!("{value}");
            } else {
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
        }
    }
    Ok(())
}
