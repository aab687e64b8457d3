//! Projections: a stream's state folded from its events, as an append computes it and as a
//! replay of the log rebuilds it.

use latchkey_domain::{
    ConnectionId, DomainEvent, EventMeta, IntegrationId, StreamId, StreamKind, SystemStream,
    TenantId, connection, integration, session,
};
use uuid::Uuid;

use crate::chain::{self, event_hash};
use crate::types::{EventContext, RecordedEvent, StoreError, prepared_time};

/// Projections rebuilt from the log, as `replace_projections` writes them.
#[derive(Debug, Default)]
pub struct Replayed {
    pub connections: std::collections::BTreeMap<ConnectionId, connection::State>,
    pub integrations: std::collections::BTreeMap<IntegrationId, integration::State>,
    pub events: u64,
}

impl Replayed {
    /// Folds one event into the rebuilt projections, with the same `apply` as appends use.
    pub fn apply(&mut self, recorded: &RecordedEvent) -> Result<(), StoreError> {
        let meta = EventMeta {
            version: recorded.version,
            occurred_at: recorded.occurred_at,
        };
        match (recorded.stream_id, recorded.event()?) {
            (StreamId::Connection(id), DomainEvent::Connection(event)) => {
                let state = self.connections.remove(&id);
                if let Some(next) = connection::apply(state, &event, &meta) {
                    self.connections.insert(id, next);
                }
            }
            (StreamId::Integration(id), DomainEvent::Integration(event)) => {
                let state = self.integrations.remove(&id);
                if let Some(next) = integration::apply(state, &event, &meta) {
                    self.integrations.insert(id, next);
                }
            }
            // The audit record itself: no projection to rebuild (the key and access tables
            // are written with these events and are not projections of connections).
            (StreamId::System(stream), DomainEvent::System(event))
                if SystemStream::of(&event) == stream => {}
            (stream @ StreamId::Session(_), DomainEvent::Session(event))
                if session_event_fits(stream, recorded.version, &event) => {}
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "event at position {} does not fit its stream",
                    recorded.position
                )));
            }
        }
        self.events += 1;
        Ok(())
    }

    /// The rebuilt rows of `kind` as stored: (stream id, state JSON), in id order.
    pub fn rows(&self, kind: StreamKind) -> Result<Vec<(String, String)>, StoreError> {
        match kind {
            StreamKind::Connection => self
                .connections
                .iter()
                .map(|(id, s)| Ok((StreamId::Connection(*id).to_string(), to_json(s)?)))
                .collect(),
            StreamKind::Integration => self
                .integrations
                .iter()
                .map(|(id, s)| Ok((StreamId::Integration(*id).to_string(), to_json(s)?)))
                .collect(),
            StreamKind::System | StreamKind::Session => Ok(Vec::new()),
        }
    }
}

/// A stream's projection, before or after an append.
#[derive(Debug, Clone)]
// One lives only for the length of an append; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Projection {
    Integration(Option<integration::State>),
    Connection(Option<connection::State>),
    /// A system or connect-session stream's: nothing stored to fold into.
    Unfolded,
}

/// One event ready to insert.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub event_id: Uuid,
    pub version: u64,
    pub event_type: &'static str,
    pub schema_version: u32,
    pub payload: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// The adapter-independent part of an append: payloads, hash chain, and the new projection.
pub(crate) fn prepare(
    stream: StreamId,
    expected_version: u64,
    last_hash: Vec<u8>,
    events: &[DomainEvent],
    context: &EventContext,
    mut projection: Projection,
) -> Result<(Vec<Prepared>, Projection), StoreError> {
    let invalid = |reason: String| StoreError::InvalidEvents {
        stream: stream.to_string(),
        reason,
    };
    if events.is_empty() {
        return Err(invalid("an append needs at least one event".to_owned()));
    }
    let occurred_at = prepared_time(context);
    let stream_text = stream.to_string();
    let mut prev_hash = last_hash;
    let mut prepared = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        if event.stream_kind() != stream.kind() {
            return Err(invalid(format!(
                "{} is not an event of a {} stream",
                event.event_type(),
                stream.kind().as_str()
            )));
        }
        let version = expected_version + i as u64 + 1;
        let meta = EventMeta {
            version,
            occurred_at,
        };
        projection = match (projection, event) {
            (Projection::Integration(state), DomainEvent::Integration(e)) => {
                Projection::Integration(integration::apply(state, e, &meta))
            }
            (Projection::Connection(state), DomainEvent::Connection(e)) => {
                Projection::Connection(connection::apply(state, e, &meta))
            }
            (Projection::Unfolded, DomainEvent::System(e))
                if stream == StreamId::System(SystemStream::of(e)) =>
            {
                Projection::Unfolded
            }
            (Projection::Unfolded, DomainEvent::Session(e))
                if session_event_fits(stream, version, e) =>
            {
                Projection::Unfolded
            }
            _ => return Err(invalid("event kind does not match the stream".to_owned())),
        };
        let payload = serde_json::to_string(event)
            .map_err(|e| invalid(format!("event does not serialize: {e}")))?;
        let event_id = Uuid::now_v7();
        let hash = event_hash(&chain::HashInput {
            stream_id: &stream_text,
            version,
            event_id: &event_id,
            event_type: event.event_type(),
            schema_version: event.schema_version(),
            occurred_at,
            actor: &context.actor,
            correlation_id: context.correlation_id.as_deref(),
            payload: &payload,
            prev_hash: &prev_hash,
        });
        prepared.push(Prepared {
            event_id,
            version,
            event_type: event.event_type(),
            schema_version: event.schema_version(),
            payload,
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        });
    }
    // The projection must exist and belong to this stream, or the events were not a valid history.
    let owner_matches = match (&projection, stream) {
        (Projection::Integration(Some(s)), StreamId::Integration(id)) => s.id == id,
        (Projection::Connection(Some(s)), StreamId::Connection(id)) => s.id == id,
        (Projection::Unfolded, StreamId::System(_) | StreamId::Session(_)) => true,
        _ => false,
    };
    if !owner_matches {
        return Err(invalid(
            "the events do not create the stream or name another aggregate".to_owned(),
        ));
    }
    Ok((prepared, projection))
}

/// A session stream begins with its creation, naming it, and holds no second one.
fn session_event_fits(stream: StreamId, version: u64, event: &session::Event) -> bool {
    match event {
        session::Event::ConnectSessionCreated { session_id, .. } => {
            version == 1 && stream == StreamId::Session(*session_id)
        }
        _ => version > 1,
    }
}

pub(crate) fn empty_projection(kind: StreamKind) -> Projection {
    match kind {
        StreamKind::Integration => Projection::Integration(None),
        StreamKind::Connection => Projection::Connection(None),
        StreamKind::System | StreamKind::Session => Projection::Unfolded,
    }
}

pub(crate) fn parse_projection(
    kind: StreamKind,
    json: Option<&str>,
) -> Result<Projection, StoreError> {
    let corrupt =
        |e: serde_json::Error| StoreError::Corrupt(format!("projection does not parse: {e}"));
    Ok(match (kind, json) {
        (kind, None) | (kind @ (StreamKind::System | StreamKind::Session), _) => {
            empty_projection(kind)
        }
        (StreamKind::Integration, Some(json)) => {
            Projection::Integration(Some(serde_json::from_str(json).map_err(corrupt)?))
        }
        (StreamKind::Connection, Some(json)) => {
            Projection::Connection(Some(serde_json::from_str(json).map_err(corrupt)?))
        }
    })
}

pub(crate) fn parse_state<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("projection does not parse: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("projection does not serialize: {e}")))
}

/// The tenant an event row carries (connection streams only).
pub(crate) fn projection_tenant(projection: &Projection) -> Option<&TenantId> {
    match projection {
        Projection::Connection(Some(s)) => Some(&s.tenant),
        _ => None,
    }
}
