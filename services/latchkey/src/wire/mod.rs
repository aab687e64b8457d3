//! The protobuf form of what Latchkey both answers and publishes: events and timestamps. The API
//! and the relay share it, so a subscriber on NATS and a caller of `ReplayEvents` read the same
//! message.

use chrono::{DateTime, Utc};
use latchkey_proto::v1 as pb;
use latchkey_store::RecordedEvent;

pub mod payload;

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
        // A payload this build cannot read (a newer type) travels as JSON only.
        payload: e.event().ok().map(|event| payload::payload(&event)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use latchkey_domain::connection::{Event, TokenSet};
    use latchkey_domain::{ConnectionId, DomainEvent, Sealed, StreamId};
    use pb::event::Payload;

    use super::*;

    fn recorded(event: DomainEvent, stream: StreamId) -> RecordedEvent {
        RecordedEvent {
            position: 7,
            event_id: uuid::Uuid::now_v7(),
            stream_id: stream,
            version: 3,
            tenant: None,
            event_type: event.event_type().to_owned(),
            schema_version: 1,
            occurred_at: Utc::now(),
            actor: "system:refresher".to_owned(),
            correlation_id: None,
            payload: serde_json::to_string(&event).unwrap(),
            prev_hash: vec![0; 32],
            hash: vec![1; 32],
        }
    }

    #[test]
    fn a_refreshed_event_carries_its_grant_typed_and_no_sealed_value() {
        let expires = Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap();
        let event = DomainEvent::Connection(Event::Refreshed {
            tokens: TokenSet {
                access_token: Sealed::from_bytes(b"SEALED-ACCESS".to_vec()),
                refresh_token: Some(Sealed::from_bytes(b"SEALED-REFRESH".to_vec())),
                token_type: "Bearer".to_owned(),
                expires_at: Some(expires),
                scopes: vec!["read".to_owned(), "write".to_owned()],
                metadata: Default::default(),
                refresh_at: None,
                refresh_token_expires_at: None,
            },
        });
        let pb = event_to_pb(&recorded(
            event,
            StreamId::Connection(ConnectionId::new_v7()),
        ));
        let Some(Payload::Refreshed(refreshed)) = &pb.payload else {
            panic!("not typed: {:?}", pb.payload);
        };
        let tokens = refreshed.tokens.as_ref().unwrap();
        assert_eq!(tokens.expires_at, Some(timestamp(expires)));
        assert_eq!(tokens.scopes, ["read", "write"]);
        assert!(tokens.refresh_token_issued);
        let typed = prost::Message::encode_to_vec(refreshed);
        assert!(
            !typed.windows(6).any(|w| w == b"SEALED"),
            "sealed values are left out"
        );
    }

    #[test]
    fn a_payload_this_build_cannot_read_travels_as_json_only() {
        let mut event = recorded(
            DomainEvent::System(latchkey_domain::system::Event::ApiKeyRevoked {
                key_id: "k1".to_owned(),
            }),
            StreamId::System(latchkey_domain::SystemStream::Keys),
        );
        let pb = event_to_pb(&event);
        assert!(matches!(pb.payload, Some(Payload::ApiKeyRevoked(ref k)) if k.key_id == "k1"));
        event.payload = r#"{"type":"from_a_newer_build"}"#.to_owned();
        let pb = event_to_pb(&event);
        assert_eq!(pb.payload, None);
        assert_eq!(pb.payload_json, event.payload);
    }
}
