//! `latchkey connections list|failing|show|refresh|validate|label|revoke|delete|import`.

use std::path::PathBuf;

use clap::Subcommand;
use latchkey_proto::v1 as pb;

use super::{Clients, Table, connection_json, pairs, print_connection, refused, time, timestamp};

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
        /// Only connections with this label, key=value; repeat for several.
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Connections whose refreshes are failing, the longest failing first: since when, and why.
    Failing {
        #[arg(long)]
        integration: Option<String>,
        /// Only those failing since before this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        since_before: Option<String>,
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
    /// Refresh the token now.
    Refresh {
        connection: String,
        #[arg(long)]
        json: bool,
    },
    /// Check the token at the provider (the integration's validation).
    Validate {
        connection: String,
        #[arg(long)]
        json: bool,
    },
    /// Set labels (key=value), remove some, or rename.
    Label {
        connection: String,
        /// key=value; repeat for several.
        #[arg(value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A label key to remove; repeat for several.
        #[arg(long = "remove", value_name = "KEY")]
        remove: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke the grant, at the provider too.
    Revoke {
        connection: String,
        #[arg(long, default_value = "revoked by an operator")]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete: its data key is destroyed, no token of it can be read again; its history stays.
    Delete {
        connection: String,
        /// The outcome as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Import connections from a JSON-lines file (`-` for standard input); see the README.
    Import {
        file: PathBuf,
        /// The integration of lines that name none.
        #[arg(long)]
        integration: Option<String>,
        /// The counts as one JSON object (docs/CLI.md); refused lines still go to standard error.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(clients: &Clients, action: ConnectionsAction) -> anyhow::Result<()> {
    let mut client = clients.connections();
    match action {
        ConnectionsAction::List {
            tenant,
            integration,
            provider_account,
            labels,
            json,
        } => {
            list(
                clients,
                (tenant, integration, provider_account),
                &labels,
                json,
            )
            .await?
        }
        ConnectionsAction::Failing {
            integration,
            since_before,
            json,
        } => failing(clients, integration, since_before, json).await?,
        ConnectionsAction::Show {
            connection,
            as_of,
            json,
        } => {
            let as_of = as_of.map(|t| timestamp(&t, "--as-of")).transpose()?;
            let c = client
                .get_connection(pb::GetConnectionRequest {
                    connection_id: connection,
                    as_of,
                })
                .await
                .map_err(refused)?
                .into_inner();
            print_connection(&c, json);
        }
        ConnectionsAction::Refresh { connection, json } => {
            let c = client
                .refresh_token(pb::RefreshTokenRequest {
                    connection_id: connection,
                })
                .await
                .map_err(refused)?
                .into_inner();
            print_connection(&c, json);
        }
        ConnectionsAction::Validate { connection, json } => {
            let c = client
                .validate_connection(pb::ValidateConnectionRequest {
                    connection_id: connection,
                })
                .await
                .map_err(refused)?
                .into_inner();
            print_connection(&c, json);
        }
        ConnectionsAction::Label {
            connection,
            set,
            remove,
            name,
            description,
            json,
        } => {
            label(
                clients,
                connection,
                (set, remove),
                (name, description),
                json,
            )
            .await?
        }
        ConnectionsAction::Revoke {
            connection,
            reason,
            json,
        } => {
            let c = client
                .revoke_connection(pb::RevokeConnectionRequest {
                    connection_id: connection,
                    reason,
                })
                .await
                .map_err(refused)?
                .into_inner();
            print_connection(&c, json);
        }
        ConnectionsAction::Delete { connection, json } => {
            client
                .delete_connection(pb::DeleteConnectionRequest {
                    connection_id: connection.clone(),
                })
                .await
                .map_err(refused)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"connection_id": connection, "deleted": true})
                );
            } else {
                println!("deleted connection {connection}");
            }
        }
        ConnectionsAction::Import {
            file,
            integration,
            json,
        } => {
            super::import::run(clients, &file, integration, json).await?;
        }
    }
    Ok(())
}

/// `connections list`: every page, as a table or one JSON object a line.
async fn list(
    clients: &Clients,
    (tenant, integration, provider_account): (Option<String>, Option<String>, Option<String>),
    labels: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let mut client = clients.connections();
    let labels = pairs(labels, "--label")?;
    let mut table = Table::new(vec![
        "CONNECTION",
        "TENANT",
        "STATUS",
        "GRANT",
        "EXPIRES",
        "NEXT REFRESH",
        "NAME",
    ]);
    let mut page_token = String::new();
    loop {
        let page = client
            .list_connections(pb::ListConnectionsRequest {
                tenant: tenant.clone().unwrap_or_default(),
                integration_id: integration.clone().unwrap_or_default(),
                provider_account_id: provider_account.clone().unwrap_or_default(),
                labels: labels.clone(),
                page_size: 1000,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .map_err(refused)?
            .into_inner();
        for c in &page.connections {
            if json {
                println!("{}", connection_json(c));
                continue;
            }
            let value = connection_json(c);
            let text = |k: &str| value[k].as_str().unwrap_or("-").to_owned();
            table.row(vec![
                c.connection_id.clone(),
                c.tenant.clone(),
                text("status"),
                text("grant_type"),
                time(&c.expires_at),
                time(&c.next_refresh_at),
                c.name.clone(),
            ]);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    if !json {
        table.print();
    }
    Ok(())
}

/// `connections failing`: every failing connection, the longest failing first, as a table or
/// one JSON object a line.
async fn failing(
    clients: &Clients,
    integration: Option<String>,
    since_before: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let mut client = clients.connections();
    let before = since_before
        .map(|t| timestamp(&t, "--since-before"))
        .transpose()?;
    let mut found = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_connections(pb::ListConnectionsRequest {
                integration_id: integration.clone().unwrap_or_default(),
                health: pb::ConnectionHealth::Failing as i32,
                failing_since_before: before,
                page_size: 1000,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .map_err(refused)?
            .into_inner();
        found.extend(page.connections);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    found.sort_by_key(|c| c.failing_since.map(|t| (t.seconds, t.nanos)));
    if json {
        for c in &found {
            println!("{}", connection_json(c));
        }
        return Ok(());
    }
    let mut table = Table::new(vec![
        "CONNECTION",
        "INTEGRATION",
        "TENANT",
        "STATUS",
        "FAILING SINCE",
        "ERROR",
    ]);
    for c in &found {
        let value = connection_json(c);
        let error = c.last_error.as_ref().map_or("-", |e| e.code.as_str());
        table.row(vec![
            c.connection_id.clone(),
            c.integration_id.clone(),
            c.tenant.clone(),
            value["status"].as_str().unwrap_or("-").to_owned(),
            time(&c.failing_since),
            error.to_owned(),
        ]);
    }
    table.print();
    Ok(())
}

/// `connections label`: the labels, name or description changed on the version read.
async fn label(
    clients: &Clients,
    connection: String,
    (set, remove): (Vec<String>, Vec<String>),
    (name, description): (Option<String>, Option<String>),
    json: bool,
) -> anyhow::Result<()> {
    let mut client = clients.connections();
    let set = pairs(&set, "KEY=VALUE")?;
    let current = client
        .get_connection(pb::GetConnectionRequest {
            connection_id: connection.clone(),
            as_of: None,
        })
        .await
        .map_err(refused)?
        .into_inner();
    let mut labels = current.labels.clone();
    for key in &remove {
        labels.remove(key);
    }
    labels.extend(set);
    let c = client
        .update_connection(pb::UpdateConnectionRequest {
            connection_id: connection,
            profile: Some(pb::ConnectionProfile {
                name: name.unwrap_or(current.name),
                description: description.unwrap_or(current.description),
                labels,
            }),
            // Refused if someone else changed it since it was read.
            expected_version: Some(current.version),
        })
        .await
        .map_err(refused)?
        .into_inner();
    print_connection(&c, json);
    Ok(())
}
