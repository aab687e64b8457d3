//! `latchkey connect start|client-credentials|service-account|device|session`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use latchkey_proto::v1 as pb;

use super::{Clients, NewConnection, pairs, print_connection, read_secret, refused, time, usage};

#[derive(Debug, Clone, Subcommand)]
pub enum ConnectAction {
    /// Start the authorization-code flow: prints the URL to send the customer's browser to.
    Start {
        #[command(flatten)]
        new: NewConnection,
        /// Where the browser goes after the callback.
        #[arg(long)]
        return_url: Option<String>,
        /// Re-authorize this connection instead of creating one.
        #[arg(long)]
        connection: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run the client-credentials grant now: the integration's client, or the connection's own.
    ClientCredentials {
        #[command(flatten)]
        new: NewConnection,
        /// The connection's own client id (with --client-secret-file).
        #[arg(long, requires = "client_secret_file")]
        client_id: Option<String>,
        /// A file holding the connection's own client secret, `-` for standard input.
        #[arg(long, value_name = "FILE", requires = "client_id")]
        client_secret_file: Option<PathBuf>,
        /// An extra token request parameter, key=value (e.g. audience=…); repeat for several.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        #[arg(long)]
        json: bool,
        /// Print only the connection id.
        #[arg(long, short, conflicts_with = "json")]
        quiet: bool,
    },
    /// A service account (RFC 7523 JWT bearer): Latchkey signs assertions with its key and
    /// trades them for tokens, a new one before each expiry.
    ServiceAccount(ServiceAccountArgs),
    /// A device authorization (RFC 8628): prints the code the customer enters at the provider's
    /// verification page; Latchkey polls until they decide.
    Device(super::device::DeviceArgs),
    /// A hosted connect session: prints the one-time link to send the customer to, where they
    /// pick one of the integrations and connect.
    Session {
        /// An integration the customer may pick; repeat for several (in the order shown).
        #[arg(long = "integration", required = true)]
        integrations: Vec<String>,
        #[arg(long)]
        tenant: String,
        /// Where the browser goes at the end, with connection_id and status.
        #[arg(long)]
        return_url: Option<String>,
        /// Re-authorize this connection ("Reconnect").
        #[arg(long)]
        connection: Option<String>,
        /// Seconds the link works (60 to 86400). Default 1800.
        #[arg(long, value_name = "SECONDS")]
        ttl: Option<i64>,
        /// How many connections the link may make (1 to 100). Default 1: it ends with the first.
        #[arg(long, value_name = "N")]
        max_connections: Option<u32>,
        /// The pages' language (en, de, fr, es, ja). Default: the customer's browser's.
        #[arg(long, value_name = "TAG")]
        locale: Option<String>,
        /// The platform's name on the pages, for this session.
        #[arg(long, value_name = "NAME")]
        platform_name: Option<String>,
        /// The buttons' colour, #rrggbb, for this session.
        #[arg(long, value_name = "COLOUR")]
        accent_color: Option<String>,
        /// Where the customer asks for help (https: or mailto:), for this session.
        #[arg(long, value_name = "URL")]
        support_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// `latchkey connect service-account`.
#[derive(Debug, Clone, Args)]
pub struct ServiceAccountArgs {
    #[command(flatten)]
    pub new: NewConnection,
    /// A file holding the private key (PEM) or a Google service account JSON key file, `-` for
    /// standard input.
    #[arg(long, value_name = "FILE")]
    pub key_file: PathBuf,
    /// RS256 (default), PS256 or ES256.
    #[arg(long)]
    pub algorithm: Option<String>,
    /// The key's id at the provider (the assertion's kid).
    #[arg(long)]
    pub key_id: Option<String>,
    /// iss: the client id or service account (a Google key file gives it).
    #[arg(long)]
    pub issuer: Option<String>,
    /// sub: the user the token acts for (delegation).
    #[arg(long)]
    pub subject: Option<String>,
    /// aud: default the integration's token URL (a Google key file gives it).
    #[arg(long)]
    pub audience: Option<String>,
    /// A further claim of each assertion, name=value (e.g. box_sub_type=enterprise); repeat.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    pub claims: Vec<String>,
    /// Replace this service account connection's key (key rotation) instead of connecting.
    #[arg(long)]
    pub connection: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// Print only the connection id.
    #[arg(long, short, conflicts_with = "json")]
    pub quiet: bool,
}

async fn service_account(clients: &Clients, args: ServiceAccountArgs) -> anyhow::Result<()> {
    let key = read_secret(&args.key_file, "--key-file")?;
    let claims = pairs(&args.claims, "--claim")?;
    let extra_claims = (!claims.is_empty()).then(|| prost_types::Struct {
        fields: claims
            .into_iter()
            .map(|(name, value)| {
                let kind = prost_types::value::Kind::StringValue(value);
                (name, prost_types::Value { kind: Some(kind) })
            })
            .collect(),
    });
    let profile = args.new.profile()?;
    let connection = clients
        .connections()
        .connect_service_account(pb::ConnectServiceAccountRequest {
            integration_id: args.new.integration,
            tenant: args.new.tenant,
            key,
            algorithm: args.algorithm.unwrap_or_default(),
            key_id: args.key_id.unwrap_or_default(),
            issuer: args.issuer.unwrap_or_default(),
            subject: args.subject.unwrap_or_default(),
            audience: args.audience.unwrap_or_default(),
            scopes: args.new.scopes,
            extra_claims,
            profile,
            connection_params: pairs(&args.new.connection_params, "--connection-param")?,
            connection_id: args.connection.unwrap_or_default(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if args.quiet {
        println!("{}", connection.connection_id);
    } else {
        print_connection(&connection, args.json);
    }
    Ok(())
}

pub async fn run(clients: &Clients, action: ConnectAction) -> anyhow::Result<()> {
    let mut client = clients.connections();
    match action {
        ConnectAction::ServiceAccount(args) => service_account(clients, args).await?,
        ConnectAction::Device(args) => super::device::device(clients, args).await?,
        ConnectAction::Session {
            integrations,
            tenant,
            return_url,
            connection,
            ttl,
            max_connections,
            locale,
            platform_name,
            accent_color,
            support_url,
            json,
        } => {
            let appearance = appearance(locale, platform_name, accent_color, support_url);
            let created = client
                .create_connect_session(pb::CreateConnectSessionRequest {
                    tenant,
                    integration_ids: integrations,
                    return_url: return_url.unwrap_or_default(),
                    connection_id: connection.unwrap_or_default(),
                    ttl: ttl.map(|seconds| prost_types::Duration { seconds, nanos: 0 }),
                    profile: None,
                    max_connections: max_connections.unwrap_or_default(),
                    appearance,
                })
                .await
                .map_err(refused)?
                .into_inner();
            print_session(&created, json);
        }
        ConnectAction::Start {
            new,
            return_url,
            connection,
            json,
        } => {
            let profile = new.profile()?;
            let connection_params = pairs(&new.connection_params, "--connection-param")?;
            let started = client
                .start_authorization(pb::StartAuthorizationRequest {
                    integration_id: new.integration,
                    tenant: new.tenant,
                    connection_id: connection.unwrap_or_default(),
                    scopes: new.scopes,
                    extra_params: Default::default(),
                    return_url: return_url.unwrap_or_default(),
                    profile,
                    connection_params,
                })
                .await
                .map_err(refused)?
                .into_inner();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "connection_id": started.connection_id,
                        "authorization_url": started.authorization_url,
                        "expires_at": time(&started.expires_at),
                    })
                );
            } else {
                eprintln!(
                    "connection {} waits for the customer until {}; send their browser to:",
                    started.connection_id,
                    time(&started.expires_at)
                );
                println!("{}", started.authorization_url);
            }
        }
        ConnectAction::ClientCredentials {
            new,
            client_id,
            client_secret_file,
            params,
            json,
            quiet,
        } => {
            if client_id.as_deref() == Some("") {
                return Err(usage("--client-id: must not be empty"));
            }
            let client_secret = client_secret_file
                .map(|path| read_secret(&path, "--client-secret-file"))
                .transpose()?
                .unwrap_or_default();
            let profile = new.profile()?;
            let connection_params = pairs(&new.connection_params, "--connection-param")?;
            let connection = client
                .connect_client_credentials(pb::ConnectClientCredentialsRequest {
                    integration_id: new.integration,
                    tenant: new.tenant,
                    client_id: client_id.unwrap_or_default(),
                    client_secret,
                    scopes: new.scopes,
                    extra_params: pairs(&params, "--param")?,
                    profile,
                    connection_params,
                })
                .await
                .map_err(refused)?
                .into_inner();
            if quiet {
                println!("{}", connection.connection_id);
            } else {
                print_connection(&connection, json);
            }
        }
    }
    Ok(())
}

/// A new connect session: its link, alone on stdout (or as JSON).
fn print_session(created: &pb::CreateConnectSessionResponse, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "session_id": created.session_id,
                "connect_url": created.connect_url,
                "expires_at": time(&created.expires_at),
            })
        );
    } else {
        eprintln!(
            "session {} works once, until {}; send the customer to:",
            created.session_id,
            time(&created.expires_at)
        );
        println!("{}", created.connect_url);
    }
}

/// `latchkey token <connection>`.
pub async fn token(
    clients: &Clients,
    connection: String,
    min_ttl: Option<u32>,
    json: bool,
) -> anyhow::Result<()> {
    let token = clients
        .connections()
        .get_token(pb::GetTokenRequest {
            connection_id: connection,
            min_ttl: min_ttl.map(|s| prost_types::Duration {
                seconds: i64::from(s),
                nanos: 0,
            }),
            dpop: None,
        })
        .await
        .map_err(refused)?
        .into_inner();
    let credential = match &token.placement {
        Some(pb::get_token_response::Placement::Header(h)) => format!("{}: {}", h.name, h.value),
        Some(pb::get_token_response::Placement::Query(q)) => format!("?{}={}", q.param, q.value),
        None => token.access_token.clone(),
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "credential": credential,
                "token_type": token.token_type,
                "expires_at": time(&token.expires_at),
                "scopes": token.scopes,
                "base_uri": token.base_uri,
            })
        );
    } else {
        println!("{credential}");
        eprintln!("valid until {}", time(&token.expires_at));
    }
    Ok(())
}

/// A session's appearance from its flags; `None` when none is given.
fn appearance(
    locale: Option<String>,
    platform_name: Option<String>,
    accent_color: Option<String>,
    support_url: Option<String>,
) -> Option<pb::ConnectAppearance> {
    let appearance = pb::ConnectAppearance {
        locale: locale.unwrap_or_default(),
        platform_name: platform_name.unwrap_or_default(),
        accent_color: accent_color.unwrap_or_default(),
        support_url: support_url.unwrap_or_default(),
    };
    (appearance != pb::ConnectAppearance::default()).then_some(appearance)
}
