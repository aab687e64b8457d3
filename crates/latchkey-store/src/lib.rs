//! Latchkey's event store: the port the application writes through, and its two adapters,
//! Postgres (production) and SQLite (the embedded default).
//!
//! An append names the version it expects; the events, their hash chain and the projection they
//! lead to are written in one transaction, so a reader never sees a state the log does not hold.
//! The projection is computed here, with the domain's `apply`, from the stored projection and the
//! new events, which is also how a rebuild replays the log. Both adapters run one conformance suite
//! (`tests/conformance.rs`).
//!
//! This crate must never see a secret in clear: the domain's events carry sealed bytes only. It
//! must not depend on the network API, the OAuth client or the crypto crate.
#![forbid(unsafe_code)]

mod append;
mod archive;
mod chain;
mod columns;
mod postgres;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use latchkey_domain::connection::refresh_token::Sent;
use latchkey_domain::{
    ConnectionId, DomainEvent, EventMeta, IntegrationId, StreamId, StreamKind, SystemStream,
    TenantId, connection, integration, session, system,
};
use uuid::Uuid;

pub use archive::{ArchiveSink, ArchiveState, ArchivedPart, KeptHead};
pub use chain::{GENESIS_HASH, event_hash};
pub use postgres::{Migrations, NOTIFY_CHANNEL, PgStore};
pub use sqlite::SqliteStore;

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
        postgres::note_failure(&error);
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
}

/// The event store port.
#[async_trait]
pub trait EventStore: Send + Sync + std::fmt::Debug + 'static {
    /// Appends `events` to `stream` if it is at `expected_version` (0: the stream must not exist),
    /// and updates the stream's projection in the same transaction.
    async fn append(
        &self,
        stream: StreamId,
        expected_version: u64,
        events: Vec<DomainEvent>,
        context: &EventContext,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The stream's events from `from_version` (inclusive), at most `limit`.
    async fn read_stream(
        &self,
        stream: StreamId,
        from_version: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// All events from global `from_position` (inclusive), at most `limit`, in position order.
    async fn read_all(
        &self,
        from_position: i64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    async fn integration(
        &self,
        id: IntegrationId,
    ) -> Result<Option<integration::State>, StoreError>;

    /// Integrations that are not deleted.
    async fn list_integrations(&self, page: Page) -> Result<Vec<integration::State>, StoreError>;

    async fn connection(&self, id: ConnectionId) -> Result<Option<connection::State>, StoreError>;

    async fn list_connections(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<connection::State>, StoreError>;

    /// The connection whose pending authorization has this `state` digest.
    async fn connection_by_state(
        &self,
        state_digest: &str,
    ) -> Result<Option<connection::State>, StoreError>;

    /// Claims for `owner`, until `until`, at most `limit` connections whose refresh is due at
    /// `now` (planned or a retry) or whose active token has expired, earliest first, among those
    /// no live claim holds. Owners claiming at once get disjoint sets (rows another claimer is
    /// taking are skipped, not waited for); a claim that ran out is taken over with a higher
    /// fence. A change of the connection's schedule (it was refreshed, a retry was planned, its
    /// status changed) ends the claim, so the connection is claimable again when next due.
    async fn claim_due_refreshes(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError>;

    /// Hands back claims `owner` took and did not get to (a stopping replica), each only if it is
    /// still the one taken (same fence): another owner may claim them at once.
    async fn release_claims(&self, owner: &str, claims: &[Claim]) -> Result<(), StoreError>;

    /// Active connections of an integration whose token was never checked at the provider, or
    /// last checked at or before `validated_before`, longest unchecked first.
    async fn due_for_validation(
        &self,
        integration_id: IntegrationId,
        validated_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionId>, StoreError>;

    /// Takes the refresh lease of a connection until `until`, unless another owner holds a lease
    /// that has not run out. What an earlier holder sent and never settled comes with it.
    async fn acquire_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease, StoreError>;

    /// Right before the provider is called: notes the refresh token the attempt sends (its digest
    /// and first send) and extends the lease to `until`. `false` if the lease is no longer this
    /// owner's (another took it over): then nothing may be sent.
    async fn record_refresh_attempt(
        &self,
        id: ConnectionId,
        owner: &str,
        sent: &Sent,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Extends this owner's lease to `until` (before sending without a refresh token, and while
    /// committing); `false` if it is no longer this owner's.
    async fn renew_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Ends this owner's lease. `keep_sent`: the token sent is in doubt (no answer), so it stays
    /// for the next holder, who may take the lease at once; otherwise the outcome is settled and
    /// the lease goes with what it noted.
    async fn release_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        keep_sent: bool,
    ) -> Result<(), StoreError>;

    /// Committed events after `after`, in gap-free order: an event is returned only once no
    /// transaction that could still commit an earlier one is running, so a reader that resumes
    /// from the last cursor it saw never skips one. Per stream this is version order.
    async fn read_committed(
        &self,
        after: Cursor,
        limit: u32,
    ) -> Result<Vec<(Cursor, RecordedEvent)>, StoreError>;

    /// The first cursor from which [`Self::read_committed`] returns every event at or after
    /// `position` (and possibly some before it, which callers filter out).
    async fn cursor_for_position(&self, position: i64) -> Result<Cursor, StoreError>;

    async fn relay_checkpoint(&self, name: &str) -> Result<Cursor, StoreError>;

    /// Moves the checkpoint of `name` to `cursor` if the relay lease of `name` still has this
    /// `fence`, and only forward (an earlier cursor leaves it where it is). `false`: the lease
    /// was taken over and nothing was written; the caller has lost its right to publish.
    async fn save_relay_checkpoint(
        &self,
        name: &str,
        cursor: Cursor,
        fence: u64,
    ) -> Result<bool, StoreError>;

    /// Events after `cursor`, counted up to `cap`.
    async fn events_after(&self, cursor: Cursor, cap: u32) -> Result<u64, StoreError>;

    /// Takes the relay lease of `name` for `owner` for `ttl`, unless another owner holds one
    /// that has not run out: the fence returned is higher than any taken before. `None`: it is
    /// held.
    async fn acquire_relay_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<u64>, StoreError>;

    /// Extends the lease for `ttl` if `owner` still holds it under `fence`; `false`: it was
    /// taken over.
    async fn renew_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError>;

    /// Lets the lease run out now (a graceful stop), if it is still this owner's.
    async fn release_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
    ) -> Result<(), StoreError>;

    /// Stores a new API key and records `api_key_created` in the `system-keys` stream, together.
    async fn create_api_key(
        &self,
        key: &ApiKeyRecord,
        context: &EventContext,
    ) -> Result<RecordedEvent, StoreError>;

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Revokes a live key at the context's time and records `api_key_revoked`, together. `None`
    /// if there is no such live key (nothing is recorded).
    async fn revoke_api_key(
        &self,
        id: &str,
        context: &EventContext,
    ) -> Result<Option<RecordedEvent>, StoreError>;

    /// Records an event of a system stream with no table to change (master-key rotations), at
    /// the stream's head: system streams have many writers and no decision that depends on order.
    async fn record_system_event(
        &self,
        event: system::Event,
        context: &EventContext,
    ) -> Result<RecordedEvent, StoreError>;

    /// The wrapped data key of `owner` (a stream id), and the master key that wrapped it.
    async fn data_key(&self, owner: &str) -> Result<Option<WrappedKey>, StoreError>;

    /// A connection's projection and the data key of `owner` (its stream id), read together:
    /// what a `GetToken` holding neither needs. Adapters may read both in one query.
    async fn connection_and_data_key(
        &self,
        id: ConnectionId,
        owner: &str,
    ) -> Result<(Option<connection::State>, Option<WrappedKey>), StoreError> {
        Ok((self.connection(id).await?, self.data_key(owner).await?))
    }

    /// Stores `owner`'s data key unless it has one; returns the one stored (another writer's
    /// if it won the race).
    async fn insert_data_key(
        &self,
        owner: &str,
        key: &WrappedKey,
    ) -> Result<WrappedKey, StoreError>;

    /// Destroys `owner`'s data key (crypto-shredding). `false` if it had none.
    async fn delete_data_key(&self, owner: &str) -> Result<bool, StoreError>;

    /// Owners of data keys wrapped by `master_key_id`, at most `limit`.
    async fn data_keys_wrapped_by(
        &self,
        master_key_id: &str,
        limit: u32,
    ) -> Result<Vec<(String, WrappedKey)>, StoreError>;

    /// Replaces `owner`'s wrapped key if it is still `old` (compare and set).
    async fn rewrap_data_key(
        &self,
        owner: &str,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool, StoreError>;

    /// Adds counted token reads (per caller, connection and minute) to the `token_reads` table
    /// and records them as `tokens_read` events in the `system-access` stream, together.
    async fn record_token_reads(
        &self,
        reads: &[TokenReads],
        context: &EventContext,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// A connection's token reads, oldest first, from `since`.
    async fn token_reads(
        &self,
        connection: ConnectionId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TokenReads>, StoreError>;

    /// Every stored projection row of `kind`: (stream id, state JSON), in id order.
    async fn projection_rows(&self, kind: StreamKind) -> Result<Vec<(String, String)>, StoreError>;

    /// Replaces every projection row with `replayed`, in one transaction that holds off appends,
    /// provided the log still ends at `last_position` (else `Conflict`: replay the rest first).
    async fn replace_projections(
        &self,
        replayed: &Replayed,
        last_position: i64,
    ) -> Result<(), StoreError>;

    /// The highest position in the log (0 when empty).
    async fn last_position(&self) -> Result<i64, StoreError>;

    /// How many connections are in each status.
    async fn count_connections_by_status(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// Keeps the log ready for what comes (Postgres: its partitions created ahead of it).
    async fn maintain_event_log(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The parts of the log archived so far and the stream heads they kept.
    async fn archive_state(&self) -> Result<ArchiveState, StoreError> {
        Ok(ArchiveState::default())
    }

    /// Archives the oldest part of the log (Postgres: its oldest partition) once it is complete
    /// and every relay has published it: its events go to `sink`, each stream's last event among
    /// them is kept as a head, and the part leaves the log, all or nothing. `None`: nothing to
    /// archive.
    async fn archive_oldest_events(
        &self,
        _sink: &mut dyn ArchiveSink,
    ) -> Result<Option<ArchivedPart>, StoreError> {
        Err(StoreError::Refused(
            "archiving needs the Postgres store: the embedded SQLite log is one file, not \
             partitioned"
                .to_owned(),
        ))
    }

    /// Signalled after every append commits in this process, and after each append of another
    /// replica that [`EventStore::hear_other_replicas`] hears.
    fn appended(&self) -> Arc<tokio::sync::Notify>;

    /// Runs `hook` with the stream of every append committed in this process, before `append`
    /// returns, and of every append of another replica that is heard (caches use it to drop what
    /// an append changed); told [`Invalidation::All`] when appends start or stop being heard.
    fn on_append(&self, hook: AppendHook);

    /// Whether every append that changes a stream reaches the hooks now: always where one process
    /// owns the store, and while [`EventStore::hear_other_replicas`] is listening where it is
    /// shared.
    fn hears_every_append(&self) -> bool;

    /// Where other replicas append to the same database: the work of hearing their appends
    /// (Postgres `LISTEN`), which tells the hooks and wakes the `appended` waiters, reconnecting
    /// as needed until it is dropped. `None` where nobody else appends.
    fn hear_other_replicas(&self) -> Option<HearingTask>;

    /// Waits for in-flight queries and closes the connections; later calls fail.
    async fn close(&self);
}

/// A place in the gap-free order of the log: the writing transaction (Postgres; 0 in SQLite) and
/// the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Cursor {
    pub txid: u64,
    pub position: i64,
}

/// The `tokens_read` events that record `reads`, a bounded number of counts each.
pub(crate) fn tokens_read_events(reads: &[TokenReads]) -> Vec<DomainEvent> {
    reads
        .chunks(system::Event::MAX_READS_PER_EVENT)
        .map(|chunk| {
            DomainEvent::System(system::Event::TokensRead {
                reads: chunk
                    .iter()
                    .map(|r| system::TokenReadCount {
                        actor: r.actor.clone(),
                        connection_id: r.connection,
                        minute: r.minute,
                        reads: r.reads,
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The event that records a new key: its id and grants, never its secret or the secret's hash.
pub(crate) fn api_key_created(key: &ApiKeyRecord) -> system::Event {
    system::Event::ApiKeyCreated {
        key_id: key.id.clone(),
        name: key.name.clone(),
        tenant: key.tenant.clone(),
        role: key.role.clone(),
        expires_at: key.expires_at,
    }
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

/// What an [`AppendHook`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation {
    /// The stream was appended to, here or by another replica.
    Stream(StreamId),
    /// Anything may have changed: drop every copy. `heard` says whether every append reaches the
    /// hooks from now on (listening started) or not (it stopped).
    All { heard: bool },
}

/// See [`EventStore::on_append`].
pub type AppendHook = Arc<dyn Fn(Invalidation) + Send + Sync>;

/// See [`EventStore::hear_other_replicas`].
pub type HearingTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// An adapter's signals after a committed append: the hooks, then the waiters.
#[derive(Clone)]
pub(crate) struct Appended {
    pub(crate) notify: Arc<tokio::sync::Notify>,
    hooks: Arc<std::sync::RwLock<Vec<AppendHook>>>,
    heard: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Appended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appended").finish_non_exhaustive()
    }
}

impl Appended {
    /// `heard`: whether every append reaches the hooks from the start (one process owns the store).
    pub(crate) fn new(heard: bool) -> Self {
        Self {
            notify: Arc::default(),
            hooks: Arc::default(),
            heard: Arc::new(std::sync::atomic::AtomicBool::new(heard)),
        }
    }

    pub(crate) fn add(&self, hook: AppendHook) {
        self.hooks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(hook);
    }

    pub(crate) fn heard(&self) -> bool {
        self.heard.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn tell(&self, invalidation: Invalidation) {
        for hook in self.hooks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            hook(invalidation);
        }
        self.notify.notify_waiters();
    }

    pub(crate) fn committed(&self, stream: StreamId) {
        self.tell(Invalidation::Stream(stream));
    }

    /// Every copy is suspect; from now on appends are (`heard`) or are not all heard.
    pub(crate) fn everything(&self, heard: bool) {
        self.heard.store(heard, std::sync::atomic::Ordering::SeqCst);
        self.tell(Invalidation::All { heard });
    }
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

/// The tenant an event row carries (connection streams only).
pub(crate) fn projection_tenant(projection: &Projection) -> Option<&TenantId> {
    match projection {
        Projection::Connection(Some(s)) => Some(&s.tenant),
        _ => None,
    }
}

/// The time stored for an append: microseconds, as Postgres keeps them and as the hash covers.
pub(crate) fn prepared_time(context: &EventContext) -> DateTime<Utc> {
    context.occurred_at.trunc_subsecs(6)
}
