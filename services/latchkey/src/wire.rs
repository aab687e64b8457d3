//! The protobuf form of what Latchkey both answers and publishes: events and timestamps. The API
//! and the relay share it, so a subscriber on NATS and a caller of `ReplayEvents` read the same
//! message.

use chrono::{DateTime, Utc};
use latchkey_proto::v1 as pb;
use latchkey_store::RecordedEvent;

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn event_to_pb(e: &RecordedEvent) -> pb::Event {
    pb::Event {
        event_id: e.event_id.to_string(),
        stream_id: e.stream_id.to_string(),
        version: e.version,
        position: e.position,
        r#type: e.event_type.clone(),
        schema_version: e.schema_version,
        occurred_at: Some(timestamp(e.occurred_at)),
        actor: e.actor.clone(),
        correlation_id: e.correlation_id.clone().unwrap_or_default(),
        tenant: e.tenant.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        payload_json: e.payload.clone(),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
        omitted: String::new(),
    }
}
