//! `webhooks list` and `webhooks show`: the deliveries a connection received (or an
//! integration's unrouted ones), and one delivery with its body.

use std::io::Write as _;

use clap::Subcommand;
use latchkey_proto::v1 as pb;

use super::{Clients, Table, refused, terminal_safe, time, timestamp};
use crate::relay::header_text;

#[derive(Debug, Clone, Subcommand)]
pub enum WebhooksAction {
    /// A connection's deliveries (or, with `--integration`, an integration's unrouted ones),
    /// oldest first.
    List {
        /// The connection (or the integration, with `--integration`).
        id: String,
        /// The id is an integration's: list the deliveries that matched no connection.
        #[arg(long)]
        integration: bool,
        /// Only those received at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One delivery by its event id: what was recorded, then its body as the provider sent it.
    Show {
        event_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Publish recorded deliveries on NATS again, as the relay did (same subject, typed payload
    /// with the opened body), each under a new message id with `Latchkey-Replay-Of` naming the
    /// event it repeats. Uses the same NATS settings as `serve`.
    Replay {
        /// Event ids (`webhooks list`).
        #[arg(required = true, value_name = "EVENT_ID")]
        event_ids: Vec<String>,
        /// One JSON object per replayed delivery (docs/CLI.md).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        nats: Box<crate::config::NatsSettings>,
    },
}

pub async fn run(clients: &Clients, action: WebhooksAction) -> anyhow::Result<()> {
    match action {
        WebhooksAction::List {
            id,
            integration,
            since,
            json,
        } => list(clients, id, integration, since, json).await,
        WebhooksAction::Show { event_id, json } => show(clients, event_id, json).await,
        WebhooksAction::Replay {
            event_ids,
            json,
            nats,
        } => replay(clients, event_ids, *nats, json).await,
    }
}

fn record_json(r: &pb::WebhookDeliveryRecord, with_body: bool) -> serde_json::Value {
    let d = r.delivery.clone().unwrap_or_default();
    let mut value = serde_json::json!({
        "event_id": r.event_id,
        "type": r.event_type,
        "connection_id": r.connection_id,
        "integration_id": r.integration_id,
        "tenant": r.tenant,
        "received_at": time(&r.received_at),
        "delivery_id": d.delivery_id,
        "event_type": d.event_type,
        "routing_keys": d.routing_keys,
        "scheme": d.scheme,
        "headers": d.headers,
        "content_type": d.content_type,
        "size": d.size,
    });
    if with_body {
        value["body"] = String::from_utf8_lossy(&d.body).into_owned().into();
        value["body_unavailable"] = r.body_unavailable.clone().into();
    }
    value
}

async fn list(
    clients: &Clients,
    id: String,
    integration: bool,
    since: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let since = since.map(|t| timestamp(&t, "--since")).transpose()?;
    let mut table = Table::new(vec![
        "RECEIVED",
        "EVENT ID",
        "TYPE",
        "EVENT TYPE",
        "DELIVERY ID",
        "SCHEME",
        "BYTES",
    ]);
    let mut page_token = String::new();
    loop {
        let (connection_id, integration_id) = if integration {
            (String::new(), id.clone())
        } else {
            (id.clone(), String::new())
        };
        let page = clients
            .connections()
            .list_webhook_deliveries(pb::ListWebhookDeliveriesRequest {
                connection_id,
                integration_id,
                since,
                page_size: 500,
                page_token: page_token.clone(),
            })
            .await
            .map_err(refused)?
            .into_inner();
        for r in &page.deliveries {
            if json {
                println!("{}", record_json(r, false));
            } else {
                let d = r.delivery.clone().unwrap_or_default();
                table.row(vec![
                    time(&r.received_at),
                    r.event_id.clone(),
                    r.event_type.clone(),
                    terminal_safe(d.event_type.clone()),
                    terminal_safe(d.delivery_id.clone()),
                    d.scheme.clone(),
                    d.size.to_string(),
                ]);
            }
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

async fn show(clients: &Clients, event_id: String, json: bool) -> anyhow::Result<()> {
    let record = clients
        .connections()
        .get_webhook_delivery(pb::GetWebhookDeliveryRequest { event_id })
        .await
        .map_err(refused)?
        .into_inner();
    if json {
        println!("{}", record_json(&record, true));
        return Ok(());
    }
    let fields = record_json(&record, false);
    super::print_fields(&fields);
    let body = record.delivery.map(|d| d.body).unwrap_or_default();
    if !record.body_unavailable.is_empty() {
        println!("body: unavailable: {}", record.body_unavailable);
    } else {
        println!();
        // The provider's bytes as they came; escapes shown, not run, on a terminal.
        let text = String::from_utf8_lossy(&body);
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", terminal_safe(text.into_owned()))?;
    }
    Ok(())
}

/// The message the relay published for a delivery, rebuilt from its record: the event's subject
/// and `latchkey.v1.Event` with the opened body.
fn republished(prefix: &str, r: pb::WebhookDeliveryRecord) -> (String, pb::Event) {
    use pb::event::Payload;
    let subject = if r.connection_id.is_empty() {
        format!(
            "{prefix}._integrations.{}.{}",
            r.integration_id, r.event_type
        )
    } else {
        let tenant = if r.tenant.is_empty() {
            "_unknown"
        } else {
            &r.tenant
        };
        format!("{prefix}.{tenant}.{}.{}", r.connection_id, r.event_type)
    };
    let delivery = r.delivery.unwrap_or_default();
    let payload = match r.event_type.as_str() {
        "action_received" => Payload::ActionReceived(delivery),
        "webhook_unrouted" => Payload::WebhookUnrouted(delivery),
        _ => Payload::WebhookReceived(delivery),
    };
    let event = pb::Event {
        event_id: r.event_id,
        stream_id: r.stream_id,
        version: r.version,
        position: r.position,
        r#type: r.event_type,
        schema_version: 1,
        occurred_at: r.received_at,
        tenant: r.tenant,
        payload: Some(payload),
        ..Default::default()
    };
    (subject, event)
}

async fn replay(
    clients: &Clients,
    event_ids: Vec<String>,
    nats: crate::config::NatsSettings,
    json: bool,
) -> anyhow::Result<()> {
    use prost::Message as _;
    use secrecy::ExposeSecret as _;
    let config = nats.resolve_alone().map_err(super::usage)?;
    let options = async_nats::ConnectOptions::new().name("latchkey-webhooks-replay");
    let options = crate::relay::with_login(options, &config)
        .await
        .map_err(super::usage)?;
    let client = options
        .connect(config.url.expose_secret())
        .await
        .map_err(|e| anyhow::anyhow!("LATCHKEY_NATS_URL: cannot connect: {e}"))?;
    let js = async_nats::jetstream::new(client);
    for event_id in event_ids {
        let record = clients
            .connections()
            .get_webhook_delivery(pb::GetWebhookDeliveryRequest {
                event_id: event_id.clone(),
            })
            .await
            .map_err(refused)?
            .into_inner();
        if !record.body_unavailable.is_empty() {
            return Err(super::usage(format!(
                "{event_id}: not replayed: {}",
                record.body_unavailable
            )));
        }
        let (subject, event) = republished(&config.subject_prefix, record);
        let delivery = match &event.payload {
            Some(
                pb::event::Payload::WebhookReceived(d)
                | pb::event::Payload::ActionReceived(d)
                | pb::event::Payload::WebhookUnrouted(d),
            ) => d.clone(),
            _ => pb::WebhookDelivery::default(),
        };
        let message_id = uuid::Uuid::now_v7().to_string();
        let mut headers = async_nats::HeaderMap::new();
        for (name, value) in [
            ("Nats-Msg-Id", message_id.clone()),
            ("Latchkey-Replay-Of", event.event_id.clone()),
            ("Latchkey-Event-Type", event.r#type.clone()),
            ("Latchkey-Stream", event.stream_id.clone()),
            ("Latchkey-Version", event.version.to_string()),
            ("Latchkey-Position", event.position.to_string()),
            ("Latchkey-Delivery-Id", header_text(&delivery.delivery_id)),
            ("Latchkey-Webhook-Type", header_text(&delivery.event_type)),
        ] {
            headers.insert(name, value.as_str());
        }
        js.publish_with_headers(subject.clone(), headers, event.encode_to_vec().into())
            .await
            .map_err(|e| anyhow::anyhow!("publishing {event_id}: {e}"))?
            .await
            .map_err(|e| anyhow::anyhow!("publishing {event_id}: no acknowledgement: {e}"))?;
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "event_id": event_id, "message_id": message_id, "subject": subject
                })
            );
        } else {
            println!("replayed {event_id} as message {message_id} on {subject}");
        }
    }
    Ok(())
}
