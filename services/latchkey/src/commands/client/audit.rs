//! `history`, `events` and `access-log`.

use latchkey_proto::v1 as pb;

use super::{Clients, Table, refused, terminal_safe, time, timestamp};

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
        "authorized" | "refreshed" | "imported" => format!(
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
        "api_key_created" => format!(
            "{} ({}, {}{})",
            text(&payload["key_id"]).unwrap_or_default(),
            text(&payload["tenant"])
                .map_or_else(|| "every tenant".to_owned(), |t| format!("tenant {t}")),
            text(&payload["role"]).unwrap_or_default(),
            text(&payload["expires_at"])
                .map(|t| format!(", until {t}"))
                .unwrap_or_default()
        ),
        "api_key_revoked" | "master_key_dropped" => text(&payload["key_id"]).unwrap_or_default(),
        "master_key_rotated" => format!(
            "{} active; {} data keys re-wrapped",
            text(&payload["active"]).unwrap_or_default(),
            payload["rewrapped"]
        ),
        "tokens_read" => {
            let reads = payload["reads"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let total: u64 = reads.iter().filter_map(|r| r["reads"].as_u64()).sum();
            format!(
                "{total} reads of {} (caller, connection, minute)",
                reads.len()
            )
        }
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

/// Which stream `latchkey history` reads: a stream id as events name it, else a connection id.
fn history_stream(name: String) -> pb::get_history_request::Stream {
    use pb::get_history_request::Stream;
    if let Some(id) = name.strip_prefix("connection-") {
        Stream::ConnectionId(id.to_owned())
    } else if let Some(id) = name.strip_prefix("integration-") {
        Stream::IntegrationId(id.to_owned())
    } else if let Some(id) = name.strip_prefix("connect_session-") {
        Stream::ConnectSessionId(id.to_owned())
    } else if let Some(system) = name.strip_prefix("system-") {
        Stream::SystemStream(system.to_owned())
    } else {
        Stream::ConnectionId(name)
    }
}

/// `latchkey history <connection|stream>`.
pub async fn history(clients: &Clients, connection: String, json: bool) -> anyhow::Result<()> {
    let mut stream = clients
        .audit()
        .get_history(pb::GetHistoryRequest {
            stream: Some(history_stream(connection)),
            from_version: 0,
        })
        .await
        .map_err(refused)?
        .into_inner();
    let mut table = Table::new(vec!["TIME", "VERSION", "TYPE", "ACTOR", "SUMMARY"]);
    while let Some(event) = stream.message().await.map_err(refused)? {
        if json {
            println!("{}", event_json(&event));
        } else {
            table.row(vec![
                time(&event.occurred_at),
                event.version.to_string(),
                event.r#type.clone(),
                event.actor.clone(),
                summary(&event),
            ]);
        }
    }
    if !json {
        table.print();
    }
    Ok(())
}

/// `latchkey events --from <position> [--follow]`: printed as they come (the stream may not end).
pub async fn events(
    clients: &Clients,
    from: i64,
    follow: bool,
    tenant: Option<String>,
    types: Vec<String>,
    json: bool,
) -> anyhow::Result<()> {
    let mut stream = clients
        .audit()
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
        .map_err(refused)?
        .into_inner();
    if !json {
        println!(
            "{:>8}  {:<20}  {:<50}  {:<24}  ACTOR",
            "POSITION", "TIME", "STREAM", "TYPE"
        );
    }
    while let Some(event) = stream.message().await.map_err(refused)? {
        if json {
            println!("{}", event_json(&event));
        } else {
            println!(
                "{:>8}  {:<20}  {:<50}  {:<24}  {}",
                event.position,
                time(&event.occurred_at),
                terminal_safe(event.stream_id),
                terminal_safe(event.r#type),
                terminal_safe(event.actor)
            );
        }
    }
    Ok(())
}

/// `latchkey access-log <connection> [--since T]`.
pub async fn access_log(
    clients: &Clients,
    connection: String,
    since: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let since = since.map(|t| timestamp(&t, "--since")).transpose()?;
    let reads = clients
        .audit()
        .get_access_log(pb::GetAccessLogRequest {
            connection_id: connection,
            since,
        })
        .await
        .map_err(refused)?
        .into_inner()
        .reads;
    let mut table = Table::new(vec!["MINUTE", "ACTOR", "READS"]);
    for read in &reads {
        if json {
            println!(
                "{}",
                serde_json::json!({"minute": time(&read.minute), "actor": read.actor, "reads": read.reads})
            );
        } else {
            table.row(vec![
                time(&read.minute),
                read.actor.clone(),
                read.reads.to_string(),
            ]);
        }
    }
    if !json {
        table.print();
    }
    Ok(())
}
