//! `latchkey connect device`: a device authorization (RFC 8628) from the terminal. Prints where
//! the customer goes and the code they type; with `--wait`, follows the connection until they
//! decide and prints it (exit 1 when they refuse or the code expires).

use std::time::Duration;

use clap::Args;
use latchkey_proto::v1 as pb;

use super::{Clients, NewConnection, pairs, print_connection, refused, time};

/// `latchkey connect device`.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    #[command(flatten)]
    pub new: NewConnection,
    /// Re-authorize this connection instead of creating one.
    #[arg(long)]
    pub connection: Option<String>,
    /// Wait until the customer approves or refuses, then print the connection.
    #[arg(long)]
    pub wait: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn device(clients: &Clients, args: DeviceArgs) -> anyhow::Result<()> {
    let mut client = clients.connections();
    let profile = args.new.profile()?;
    let started = client
        .start_device_authorization(pb::StartDeviceAuthorizationRequest {
            integration_id: args.new.integration.clone(),
            tenant: args.new.tenant.clone(),
            scopes: args.new.scopes.clone(),
            profile,
            connection_params: pairs(&args.new.connection_params, "--connection-param")?,
            connection_id: args.connection.clone().unwrap_or_default(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "connection_id": started.connection_id,
                "user_code": started.user_code,
                "verification_uri": started.verification_uri,
                "verification_uri_complete": started.verification_uri_complete,
                "expires_at": time(&started.expires_at),
            })
        );
    } else {
        eprintln!(
            "connection {} waits for the customer until {}: at {} they enter",
            started.connection_id,
            time(&started.expires_at),
            started.verification_uri
        );
        println!("{}", started.user_code);
        if !started.verification_uri_complete.is_empty() {
            eprintln!("(or they open {})", started.verification_uri_complete);
        }
    }
    if !args.wait {
        return Ok(());
    }
    let interval = started
        .interval
        .and_then(|d| u64::try_from(d.seconds).ok())
        .unwrap_or(5)
        .max(1);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let connection = client
            .get_connection(pb::GetConnectionRequest {
                connection_id: started.connection_id.clone(),
                as_of: None,
            })
            .await
            .map_err(refused)?
            .into_inner();
        if connection.status() == pb::ConnectionStatus::Pending {
            continue;
        }
        print_connection(&connection, args.json);
        if connection.status() != pb::ConnectionStatus::Active {
            let code = connection.last_error.map(|e| e.code).unwrap_or_default();
            anyhow::bail!("the device authorization failed: {code}");
        }
        return Ok(());
    }
}
