//! Operator commands that talk gRPC to a running server: integrations, connections, imports,
//! history, events and the access log. They need no local configuration and no master key.
//! Reads print aligned tables with headers, or one JSON object per line with `--json`.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::audit_service_client::AuditServiceClient;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use latchkey_proto::v1::integration_service_client::IntegrationServiceClient;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

mod audit;
mod connect;
mod connections;
mod device;
mod import;
mod integrations;
mod webhooks;

pub use connect::ConnectAction;
pub use connections::ConnectionsAction;
pub use import::LinesRefused;
pub use integrations::IntegrationsAction;
pub use webhooks::WebhooksAction;

/// Where the server is and who is asking.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The gRPC address of a running server: `host:port`, or a URL (`https://…` for TLS).
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_SERVER",
        value_name = "ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub server: String,
    /// Refused: a key on the command line stays in shell history and process lists. The API key
    /// comes from LATCHKEY_API_KEY or --api-key-file.
    #[arg(long = "api-key", global = true, hide = true, value_name = "KEY")]
    pub api_key_flag: Option<String>,
    /// A file holding the API key (`-`: standard input), instead of LATCHKEY_API_KEY.
    #[arg(
        long,
        global = true,
        env = "LATCHKEY_API_KEY_FILE",
        value_name = "FILE"
    )]
    pub api_key_file: Option<PathBuf>,
    /// A PEM CA certificate to trust, for a server on TLS (`https://…`).
    #[arg(long, global = true, env = "LATCHKEY_SERVER_CA")]
    pub ca: Option<PathBuf>,
}

/// The commands that talk to a server.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// Integrations: OAuth apps at providers.
    Integrations {
        #[command(subcommand)]
        action: IntegrationsAction,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Start a connection: an authorization link, or the client-credentials grant.
    Connect {
        #[command(subcommand)]
        action: ConnectAction,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Connections: list, show, refresh, validate, label, revoke, delete, import.
    Connections {
        #[command(subcommand)]
        action: ConnectionsAction,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Inbound webhook deliveries: list a connection's (or an integration's unrouted ones),
    /// show one with its body.
    Webhooks {
        #[command(subcommand)]
        action: WebhooksAction,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A connection's events, oldest first; or any stream's: `integration-<id>`, `system-keys`
    /// (API and master keys), `system-access` (token reads).
    History {
        #[arg(value_name = "CONNECTION|STREAM")]
        connection: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// The log from a position, optionally following live events.
    Events {
        #[arg(long, default_value_t = 0)]
        from: i64,
        #[arg(long)]
        follow: bool,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long = "type")]
        types: Vec<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A connection's credential, as a worker gets it (`GetToken`): `Header: value`, or
    /// `?param=value` for a query placement. The read is in the access log.
    Token {
        connection: String,
        /// Seconds the token must stay valid at least (refreshed first if not). Default 30.
        #[arg(long)]
        min_ttl: Option<u32>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Who read a connection's token, per caller and minute.
    AccessLog {
        connection: String,
        /// From this time (RFC 3339). Default: the last 24 hours.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Runs one client command.
pub async fn run(command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Integrations { action, client } => {
            integrations::run(&Clients::connect(&client).await?, action).await
        }
        ClientCommand::Connect { action, client } => {
            connect::run(&Clients::connect(&client).await?, action).await
        }
        ClientCommand::Connections { action, client } => {
            connections::run(&Clients::connect(&client).await?, action).await
        }
        ClientCommand::Webhooks { action, client } => {
            webhooks::run(&Clients::connect(&client).await?, action).await
        }
        ClientCommand::History {
            connection,
            json,
            client,
        } => audit::history(&Clients::connect(&client).await?, connection, json).await,
        ClientCommand::Events {
            from,
            follow,
            tenant,
            types,
            json,
            client,
        } => {
            let clients = Clients::connect(&client).await?;
            audit::events(&clients, from, follow, tenant, types, json).await
        }
        ClientCommand::Token {
            connection,
            min_ttl,
            json,
            client,
        } => connect::token(&Clients::connect(&client).await?, connection, min_ttl, json).await,
        ClientCommand::AccessLog {
            connection,
            since,
            json,
            client,
        } => audit::access_log(&Clients::connect(&client).await?, connection, since, json).await,
    }
}

type Bearer =
    Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send + Sync>;
type Authed = InterceptedService<Channel, Bearer>;

/// The three services on one channel, each request carrying the API key.
pub(crate) struct Clients {
    channel: Channel,
    header: Option<MetadataValue<tonic::metadata::Ascii>>,
}

/// A usage mistake in a client command (exit 2), said with the flag it is about.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// What the server refused, said as its code and message (which never hold a secret).
#[derive(Debug, thiserror::Error)]
#[error("{:?}: {}", .0.code(), .0.message())]
pub struct Refused(pub tonic::Status);

impl Refused {
    /// 2 for a request the server cannot do as asked, 3 when it could not run.
    pub fn exit_code(&self) -> u8 {
        use tonic::Code::*;
        match self.0.code() {
            InvalidArgument | NotFound | AlreadyExists | PermissionDenied | Unauthenticated
            | FailedPrecondition | OutOfRange => 2,
            _ => 3,
        }
    }
}

pub(crate) fn refused(status: tonic::Status) -> anyhow::Error {
    Refused(status).into()
}

impl Clients {
    async fn connect(args: &ClientArgs) -> anyhow::Result<Self> {
        if args.api_key_flag.is_some() {
            return Err(usage(
                "--api-key: a key on the command line stays in shell history and process lists; \
                 set LATCHKEY_API_KEY, or pass --api-key-file FILE (`-` reads standard input)",
            ));
        }
        let server = server_url(&args.server, args.ca.is_some())?;
        let mut endpoint = Channel::from_shared(server.clone())
            .map_err(|e| usage(format!("--server / LATCHKEY_SERVER: {e}")))?;
        if let Some(ca) = &args.ca {
            let pem = std::fs::read(ca)
                .map_err(|e| usage(format!("--ca / LATCHKEY_SERVER_CA {}: {e}", ca.display())))?;
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?;
        }
        let api_key = std::env::var("LATCHKEY_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty());
        let key = match (&api_key, &args.api_key_file) {
            (Some(_), Some(_)) => {
                return Err(usage(
                    "--api-key-file / LATCHKEY_API_KEY_FILE: set either it or LATCHKEY_API_KEY, \
                     not both",
                ));
            }
            (Some(key), None) => Some(key.trim().to_owned()),
            (None, Some(path)) => {
                Some(read_secret(path, "--api-key-file / LATCHKEY_API_KEY_FILE")?)
            }
            (None, None) => None,
        };
        let header = match key {
            Some(key) => Some(format!("Bearer {key}").parse().map_err(|_| {
                usage("LATCHKEY_API_KEY / --api-key-file: not a valid header value")
            })?),
            None => None,
        };
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| unreachable_server(&server, &e))?;
        Ok(Self { channel, header })
    }

    fn bearer(&self) -> Bearer {
        let header = self.header.clone();
        Box::new(move |mut request: tonic::Request<()>| {
            if let Some(header) = &header {
                request
                    .metadata_mut()
                    .insert("authorization", header.clone());
            }
            Ok(request)
        })
    }

    pub fn integrations(&self) -> IntegrationServiceClient<Authed> {
        IntegrationServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    pub fn connections(&self) -> ConnectionServiceClient<Authed> {
        ConnectionServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    pub fn audit(&self) -> AuditServiceClient<Authed> {
        AuditServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }
}

/// The server's URL: `host:port` gets `http://` (`https://` with `--ca`); a URL stays.
fn server_url(server: &str, tls: bool) -> anyhow::Result<String> {
    let server = server.trim();
    if server.is_empty() {
        return Err(usage("--server / LATCHKEY_SERVER: empty; give host:port"));
    }
    if server.contains("://") {
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(usage(format!(
                "--server / LATCHKEY_SERVER: {server:?}: use host:port, http://host:port or \
                 https://host:port"
            )));
        }
        return Ok(server.to_owned());
    }
    let scheme = if tls { "https" } else { "http" };
    let url = format!("{scheme}://{server}");
    match url.parse::<axum::http::Uri>() {
        Ok(uri) if uri.port().is_some() => Ok(url),
        _ => Err(usage(format!(
            "--server / LATCHKEY_SERVER: {server:?} is not host:port (e.g. 127.0.0.1:50051)"
        ))),
    }
}

/// Why the server could not be reached, with the cause tonic keeps under "transport error".
fn unreachable_server(server: &str, error: &tonic::transport::Error) -> anyhow::Error {
    let mut cause = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    anyhow::anyhow!("cannot reach the server at {server} (--server / LATCHKEY_SERVER): {cause}")
}

/// A secret from a file, or from standard input for `-`; never from the command line.
pub(crate) fn read_secret(path: &Path, flag: &str) -> anyhow::Result<String> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| usage(format!("{flag}: cannot read standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| usage(format!("{flag}: cannot read {}: {e}", path.display())))?
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(usage(format!("{flag}: {} is empty", path.display())));
    }
    Ok(text)
}

/// `key=value` pairs of a repeated flag.
pub(crate) fn pairs(values: &[String], flag: &str) -> anyhow::Result<HashMap<String, String>> {
    values
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(usage(format!("{flag}: {pair:?} is not key=value"))),
        })
        .collect()
}

pub(crate) fn timestamp(text: &str, flag: &str) -> anyhow::Result<prost_types::Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| prost_types::Timestamp {
            seconds: t.timestamp(),
            nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
        })
        .map_err(|e| usage(format!("{flag}: {text:?} is not an RFC 3339 time ({e})")))
}

pub(crate) fn time(ts: &Option<prost_types::Timestamp>) -> String {
    ts.as_ref()
        .and_then(|t| {
            chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        })
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| "-".to_owned())
}

/// Rows printed under a header, each column as wide as its widest cell.
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    /// A row; control characters in a cell (a provider's text, say) are printed as escapes.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(terminal_safe).collect());
    }

    pub fn print(&self) {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: Vec<&str>| {
            let last = cells.len().saturating_sub(1);
            let text: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        (*c).to_owned()
                    } else {
                        format!("{c:<width$}", width = widths[i])
                    }
                })
                .collect();
            println!("{}", text.join("  "));
        };
        line(self.header.clone());
        for row in &self.rows {
            line(row.iter().map(String::as_str).collect());
        }
    }
}

/// A connection as one JSON object (never a token).
pub(crate) fn connection_json(c: &pb::Connection) -> serde_json::Value {
    serde_json::json!({
        "connection_id": c.connection_id,
        "integration_id": c.integration_id,
        "tenant": c.tenant,
        "status": c.status().as_str_name().trim_start_matches("CONNECTION_STATUS_"),
        "grant_type": c.grant_type().as_str_name().trim_start_matches("GRANT_TYPE_"),
        "scopes": c.scopes,
        "expires_at": time(&c.expires_at),
        "next_refresh_at": time(&c.next_refresh_at),
        "can_refresh": c.can_refresh,
        "has_refresh_token": c.has_refresh_token,
        "name": c.name,
        "description": c.description,
        "labels": c.labels,
        "provider_account_id": c.provider_account_id,
        "last_validation": c.last_validation.as_ref().map(|v| serde_json::json!({"valid": v.valid, "reason": v.reason, "at": time(&v.at)})),
        "last_error": c.last_error.as_ref().map(|e| serde_json::json!({"code": e.code, "description": e.description, "retryable": e.retryable})),
        "version": c.version,
        "created_at": time(&c.created_at),
        "updated_at": time(&c.updated_at),
    })
}

/// One connection, as JSON or as `field  value` lines.
pub(crate) fn print_connection(c: &pb::Connection, json: bool) {
    let value = connection_json(c);
    if json {
        println!("{value}");
        return;
    }
    print_fields(&value);
}

/// An object's fields, one per line, aligned.
pub(crate) fn print_fields(value: &serde_json::Value) {
    let Some(map) = value.as_object() else {
        println!("{value}");
        return;
    };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    for (key, value) in map {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "-".to_owned(),
            other => other.to_string(),
        };
        println!("{key:<width$}  {}", terminal_safe(text));
    }
}

/// Text from the log for a terminal: its control characters as escapes, never raw.
pub(crate) fn terminal_safe(text: String) -> String {
    match latchkey_domain::text::escaped_for_terminal(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// Who the connection is for and what people call it.
#[derive(Debug, Clone, Args)]
pub struct NewConnection {
    #[arg(long)]
    pub integration: String,
    #[arg(long)]
    pub tenant: String,
    /// A scope to ask for; repeat for several. Default: the integration's.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// What people call the connection.
    #[arg(long)]
    pub name: Option<String>,
    /// A label, key=value; repeat for several.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A value of the integration's connection parameters (its URLs' {name}), name=value, e.g.
    /// shop=acme; repeat for several.
    #[arg(long = "connection-param", value_name = "NAME=VALUE")]
    pub connection_params: Vec<String>,
}

impl NewConnection {
    pub(crate) fn profile(&self) -> anyhow::Result<Option<pb::ConnectionProfile>> {
        if self.name.is_none() && self.labels.is_empty() {
            return Ok(None);
        }
        Ok(Some(pb::ConnectionProfile {
            name: self.name.clone().unwrap_or_default(),
            description: String::new(),
            labels: pairs(&self.labels, "--label")?,
        }))
    }
}
