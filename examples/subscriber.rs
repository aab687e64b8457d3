//! A worker that reacts to Latchkey's events on NATS JetStream: it drops its cached credential
//! when a connection is refreshed, and tells someone when a connection needs its customer again.
//!
//! ```sh
//! LATCHKEY_NATS_URL=nats://127.0.0.1:4222 cargo run -p latchkey --example subscriber
//! ```
//!
//! It uses a durable consumer, so it resumes where it stopped and sees every event at least once;
//! events carry their id (`Nats-Msg-Id`) and per-connection version for de-duplication.

use async_nats::jetstream::{self, consumer::pull};
use latchkey_proto::v1::Event;
use prost::Message as _;
use tokio_stream::StreamExt as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = std::env::var("LATCHKEY_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let stream_name =
        std::env::var("LATCHKEY_NATS_STREAM").unwrap_or_else(|_| "LATCHKEY_EVENTS".into());
    let prefix =
        std::env::var("LATCHKEY_NATS_SUBJECT_PREFIX").unwrap_or_else(|_| "latchkey.v1".into());

    let js = jetstream::new(async_nats::connect(&url).await?);
    let stream = js.get_stream(&stream_name).await?;
    let consumer = stream
        .get_or_create_consumer(
            "example-worker",
            pull::Config {
                durable_name: Some("example-worker".into()),
                filter_subjects: vec![
                    format!("{prefix}.*.*.refreshed"),
                    format!("{prefix}.*.*.reauthorization_required"),
                ],
                ..Default::default()
            },
        )
        .await?;
    println!("listening on {stream_name} for refreshed and reauthorization_required");
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let event = Event::decode(message.payload.clone())?;
        match event.r#type.as_str() {
            "refreshed" => println!(
                "tenant {} connection {}: refreshed (version {}); drop cached credentials",
                event.tenant, event.stream_id, event.version
            ),
            "reauthorization_required" => println!(
                "tenant {} connection {}: needs the customer to connect again: {}",
                event.tenant, event.stream_id, event.payload_json
            ),
            other => println!("{other}"),
        }
        message.ack().await?;
    }
    Ok(())
}
