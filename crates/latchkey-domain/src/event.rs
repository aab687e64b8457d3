use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::system::SystemStream;
use crate::{
    ConnectSessionId, ConnectionId, IntegrationId, connection, integration, session, system,
};

/// What the log knows of an event besides its payload, as `apply` needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMeta {
    /// 1, 2, 3… within the stream.
    pub version: u64,
    pub occurred_at: DateTime<Utc>,
}

#[cfg(test)]
impl EventMeta {
    pub(crate) fn at_version(version: u64) -> Self {
        let base = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        Self {
            version,
            occurred_at: base + chrono::Duration::seconds(version as i64),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    Integration,
    Connection,
    System,
    Session,
}

impl StreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integration => "integration",
            Self::Connection => "connection",
            Self::System => "system",
            Self::Session => "connect_session",
        }
    }
}

/// One stream per integration and one per connection: `integration-<uuid>`, `connection-<uuid>`;
/// and the system streams `system-keys` and `system-access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamId {
    Integration(IntegrationId),
    Connection(ConnectionId),
    System(SystemStream),
    /// `connect_session-<uuid>`: a hosted connect session.
    Session(ConnectSessionId),
}

impl StreamId {
    pub fn kind(&self) -> StreamKind {
        match self {
            Self::Integration(_) => StreamKind::Integration,
            Self::Connection(_) => StreamKind::Connection,
            Self::System(_) => StreamKind::System,
            Self::Session(_) => StreamKind::Session,
        }
    }

    /// Appends the stream id as its text (`connection-<uuid>`…, as `Display` writes it) without
    /// the formatting machinery: secrets are bound to it on every seal and open.
    pub fn push_text(&self, out: &mut Vec<u8>) {
        let mut id = |prefix: &[u8], id: &uuid::Uuid| {
            out.extend_from_slice(prefix);
            let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
            out.extend_from_slice(id.hyphenated().encode_lower(&mut text).as_bytes());
        };
        match self {
            Self::Integration(i) => id(b"integration-", i.as_uuid()),
            Self::Connection(c) => id(b"connection-", c.as_uuid()),
            Self::Session(s) => id(b"connect_session-", s.as_uuid()),
            Self::System(s) => {
                out.extend_from_slice(b"system-");
                out.extend_from_slice(s.as_str().as_bytes());
            }
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Integration(id) => write!(f, "integration-{id}"),
            Self::Connection(id) => write!(f, "connection-{id}"),
            Self::System(s) => write!(f, "system-{}", s.as_str()),
            Self::Session(id) => write!(f, "connect_session-{id}"),
        }
    }
}

impl FromStr for StreamId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a stream id: {s:?}");
        if let Some(rest) = s.strip_prefix("integration-") {
            rest.parse().map(Self::Integration).map_err(|_| bad())
        } else if let Some(rest) = s.strip_prefix("connection-") {
            rest.parse().map(Self::Connection).map_err(|_| bad())
        } else if let Some(rest) = s.strip_prefix("connect_session-") {
            rest.parse().map(Self::Session).map_err(|_| bad())
        } else if let Some(rest) = s.strip_prefix("system-") {
            SystemStream::parse(rest).map(Self::System).ok_or_else(bad)
        } else {
            Err(bad())
        }
    }
}

/// Every event type the log can hold.
pub const EVENT_TYPES: &[&str] = &[
    "integration_created",
    "integration_updated",
    "integration_deleted",
    "connection_created",
    "connection_updated",
    "validated",
    "authorization_started",
    "authorization_opened",
    "authorized",
    "imported",
    "merged_into",
    "authorization_failed",
    "refreshed",
    "refresh_failed",
    "reauthorization_required",
    "expired",
    "revoked",
    "deleted",
    "parameters_set",
    "callback_captured",
    "refresh_token_expiring",
    "connection_failing",
    "connection_recovered",
    "token_rejected",
    "refresh_token_still_active",
    "revocation_retried",
    "api_key_created",
    "api_key_revoked",
    "master_key_rotated",
    "master_key_dropped",
    "tokens_read",
    "connect_session_created",
    "connect_session_opened",
    "connect_session_connected",
    "webhook_received",
    "action_received",
    "webhook_unrouted",
    "webhook_handshake",
    "webhook_secret_set",
];

/// Any event of the log. The payload is the inner event's JSON, which carries its own `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
// Events travel a few at a time; boxing the integration's configuration would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum DomainEvent {
    Integration(integration::Event),
    Connection(connection::Event),
    System(system::Event),
    Session(session::Event),
}

impl DomainEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Integration(e) => e.event_type(),
            Self::Connection(e) => e.event_type(),
            Self::System(e) => e.event_type(),
            Self::Session(e) => e.event_type(),
        }
    }

    pub fn schema_version(&self) -> u32 {
        match self {
            Self::Integration(e) => e.schema_version(),
            Self::Connection(e) => e.schema_version(),
            Self::System(e) => e.schema_version(),
            Self::Session(e) => e.schema_version(),
        }
    }

    pub fn stream_kind(&self) -> StreamKind {
        match self {
            Self::Integration(_) => StreamKind::Integration,
            Self::Connection(_) => StreamKind::Connection,
            Self::System(_) => StreamKind::System,
            Self::Session(_) => StreamKind::Session,
        }
    }

    /// Reads a stored payload back, knowing which kind of stream it came from.
    pub fn from_payload(kind: StreamKind, payload: &str) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            StreamKind::Integration => Self::Integration(serde_json::from_str(payload)?),
            StreamKind::Connection => Self::Connection(serde_json::from_str(payload)?),
            StreamKind::System => Self::System(serde_json::from_str(payload)?),
            StreamKind::Session => Self::Session(serde_json::from_str(payload)?),
        })
    }
}

impl From<integration::Event> for DomainEvent {
    fn from(value: integration::Event) -> Self {
        Self::Integration(value)
    }
}

impl From<session::Event> for DomainEvent {
    fn from(value: session::Event) -> Self {
        Self::Session(value)
    }
}

impl From<system::Event> for DomainEvent {
    fn from(value: system::Event) -> Self {
        Self::System(value)
    }
}

impl From<connection::Event> for DomainEvent {
    fn from(value: connection::Event) -> Self {
        Self::Connection(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_round_trip_through_text() {
        let c = StreamId::Connection(ConnectionId::new_v7());
        let i = StreamId::Integration(IntegrationId::new_v7());
        assert_eq!(c.to_string().parse::<StreamId>().unwrap(), c);
        assert_eq!(i.to_string().parse::<StreamId>().unwrap(), i);
        let k = StreamId::System(SystemStream::Keys);
        assert_eq!(k.to_string(), "system-keys");
        assert_eq!("system-keys".parse::<StreamId>().unwrap(), k);
        assert!("system-other".parse::<StreamId>().is_err());
        let session = StreamId::Session(ConnectSessionId::new_v7());
        assert_eq!(session.to_string().parse::<StreamId>().unwrap(), session);
        assert!("connection-nope".parse::<StreamId>().is_err());
        assert!("other-1".parse::<StreamId>().is_err());
    }
}
