//! The values the port speaks in: events as recorded, errors, pages, filters, keys, claims.

use chrono::{DateTime, SubsecRound, Utc};
use latchkey_domain::connection::refresh_token::Sent;
use latchkey_domain::{ConnectionId, DomainEvent, IntegrationId, StreamId, TenantId, connection};
use uuid::Uuid;

use crate::chain::{self, event_hash};

/// Who and what caused the events of one append.
#[derive(Debug, Clone)]
pub struct EventContext {
    /// The caller identity (`admin`, `tenant:acme`, `system:refresher`…).
    pub actor: String,
    /// The trace id of the request, when there is one.
    pub correlation_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl EventContext {
    pub fn now(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            correlation_id: None,
            occurred_at: Utc::now(),
        }
    }
}

/// An event as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global and monotonic across all streams.
    pub position: i64,
    pub event_id: Uuid,
    pub stream_id: StreamId,
    /// 1, 2, 3… within the stream.
    pub version: u64,
    pub tenant: Option<TenantId>,
    pub event_type: String,
    pub schema_version: u32,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub correlation_id: Option<String>,
    /// The event's JSON exactly as hashed and stored.
    pub payload: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl RecordedEvent {
    pub fn event(&self) -> Result<DomainEvent, StoreError> {
        DomainEvent::from_payload(self.stream_id.kind(), &self.payload).map_err(|e| {
            StoreError::Corrupt(format!(
                "event at position {} does not parse: {e}",
                self.position
            ))
        })
    }

    /// Recomputes the hash from the stored fields.
    pub fn computed_hash(&self) -> Vec<u8> {
        event_hash(&chain::HashInput {
            stream_id: &self.stream_id.to_string(),
            version: self.version,
            event_id: &self.event_id,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            occurred_at: self.occurred_at,
            actor: &self.actor,
            correlation_id: self.correlation_id.as_deref(),
            payload: &self.payload,
            prev_hash: &self.prev_hash,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended first: the caller re-reads and decides again, or reports ABORTED.
    #[error("version conflict on {stream}: expected version {expected}, the stream is at {actual}")]
    Conflict {
        stream: String,
        expected: u64,
        actual: u64,
    },
    #[error("an integration named {0:?} already exists")]
    DuplicateName(String),
    #[error("events do not fit stream {stream}: {reason}")]
    InvalidEvents { stream: String, reason: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// An operation the store will not do now, and why (archiving a part still written…).
    #[error("{0}")]
    Refused(String),
    /// An append that records a webhook delivery's id found the id seen: nothing was appended
    /// (see `WebhookDeliveries::append_delivery`, which answers `None` instead).
    #[error("the webhook delivery was seen already")]
    DeliverySeen,
    /// The database could not be reached at all: `cause` is one of "connection refused", "host
    /// name not resolved", "no answer", "TLS failed", "authentication failed", "database does
    /// not exist"; `detail` names the host and port with the driver's words (never the URL, which
    /// may hold a password).
    #[error("{cause} ({detail})")]
    Unreachable { cause: &'static str, detail: String },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database schema is at migration {applied}, this build needs {wanted}: run \
         `latchkey migrate` with a role that may change the schema"
    )]
    SchemaBehind { applied: i64, wanted: i64 },
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        crate::sessions::note_failure(&error);
        Self::Database(error)
    }
}

/// One page of a listing, in id order (UUIDv7 ids: creation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl Page {
    pub const MAX_LIMIT: u32 = 1000;

    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ConnectionFilter {
    pub tenant: Option<TenantId>,
    pub integration_id: Option<IntegrationId>,
    pub status: Option<connection::Status>,
    /// Every one of these labels, with these values (keys as `Profile::parse` allows them).
    pub labels: std::collections::BTreeMap<String, String>,
    /// The connections of this provider account.
    pub provider_account_id: Option<String>,
    /// Only connections whose refreshes are failing (`Some(true)`) or not (`Some(false)`).
    pub failing: Option<bool>,
    /// Only connections failing since before this time.
    pub failing_since_before: Option<DateTime<Utc>>,
}

/// A place in the gap-free order of the log: the writing transaction (Postgres; 0 in SQLite) and
/// the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Cursor {
    pub txid: u64,
    pub position: i64,
}

/// How often one caller read one connection's token in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenReads {
    pub actor: String,
    pub connection: ConnectionId,
    pub minute: DateTime<Utc>,
    pub reads: u64,
}

/// A data key as stored: wrapped, with the id of the master key that wrapped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub wrapped: Vec<u8>,
    pub master_key_id: String,
}

/// A caller's API key as stored: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    /// `None`: admin.
    pub tenant: Option<TenantId>,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `reader`, `manager` or `admin`.
    pub role: String,
    /// After this the key is refused; `None`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A due connection claimed for one owner's refresher: `fence` grows with every claim of the
/// connection, so handing it back touches only this claim, never a later owner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: ConnectionId,
    pub fence: u64,
}

/// What taking a refresh lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// Another owner is refreshing this connection.
    Busy,
    /// Ours. `left` is the refresh token an earlier holder sent and never settled (no answer, or
    /// it died mid-call): the provider may have rotated it.
    Acquired { left: Option<Sent> },
}

pub(crate) fn parse_stream_id(text: &str) -> Result<StreamId, StoreError> {
    text.parse().map_err(StoreError::Corrupt)
}

pub(crate) fn parse_tenant(text: Option<String>) -> Result<Option<TenantId>, StoreError> {
    text.map(|t| TenantId::parse(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

pub(crate) fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, Page::MAX_LIMIT))
}

pub(crate) fn to_version(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative version {v}")))
}

pub(crate) fn from_version(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("version {v} out of range")))
}

/// The time stored for an append: microseconds, as Postgres keeps them and as the hash covers.
pub(crate) fn prepared_time(context: &EventContext) -> DateTime<Utc> {
    context.occurred_at.trunc_subsecs(6)
}
