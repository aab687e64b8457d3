//! The store's port, by role: each caller takes the roles it uses (the refresher a
//! [`RefreshSchedule`], the relay a [`RelayCursor`], the vault [`DataKeys`]…), and
//! [`EventStore`] is all of them, for the composition root.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::connection::refresh_token::Sent;
use latchkey_domain::{
    ConnectionId, DomainEvent, IntegrationId, StreamId, StreamKind, connection, integration, system,
};

use crate::{
    ApiKeyRecord, AppendHook, ArchiveSink, ArchiveState, ArchivedPart, Claim, ConnectionFilter,
    Cursor, EventContext, HearingTask, Lease, Page, RecordedEvent, Replayed, StoreError,
    TokenReads, WrappedKey,
};

/// The log itself: appends, reads in stream and position order, and the signals after each append.
#[async_trait]
pub trait EventLog: Send + Sync + std::fmt::Debug + 'static {
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

    /// The highest position in the log (0 when empty).
    async fn last_position(&self) -> Result<i64, StoreError>;

    /// Signalled after every append commits in this process, and after each append of another
    /// replica that [`EventLog::hear_other_replicas`] hears.
    fn appended(&self) -> Arc<tokio::sync::Notify>;

    /// Runs `hook` with the stream of every append committed in this process, before `append`
    /// returns, and of every append of another replica that is heard (caches use it to drop what
    /// an append changed); told [`Invalidation::All`] when appends start or stop being heard.
    fn on_append(&self, hook: AppendHook);

    /// Whether every append that changes a stream reaches the hooks now: always where one process
    /// owns the store, and while [`EventLog::hear_other_replicas`] is listening where it is
    /// shared.
    fn hears_every_append(&self) -> bool;

    /// Whether the hooks are told [`Invalidation::Routes`] for every change of a connection's
    /// provider account, status or existence, here or by another replica, now: where the
    /// database notifies them (Postgres), while [`EventLog::hear_other_replicas`] is listening.
    fn hears_route_changes(&self) -> bool;

    /// Where other replicas append to the same database: the work of hearing their appends
    /// (Postgres `LISTEN`), which tells the hooks and wakes the `appended` waiters, reconnecting
    /// as needed until it is dropped. `None` where nobody else appends.
    fn hear_other_replicas(&self) -> Option<HearingTask>;
}

/// Current state: the projections of integrations and connections, as appends leave them, and their rebuild from a replay.
#[async_trait]
pub trait Projections: Send + Sync + std::fmt::Debug + 'static {
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

    /// Active connections of an integration whose token was never checked at the provider, or
    /// last checked at or before `validated_before`, longest unchecked first.
    async fn due_for_validation(
        &self,
        integration_id: IntegrationId,
        validated_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionId>, StoreError>;

    /// How many connections are in each status.
    async fn count_connections_by_status(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// How many live connections are failing, by integration (its id) and the last error's code,
    /// the most first.
    async fn count_failing(&self) -> Result<Vec<(String, String, i64)>, StoreError>;

    /// Every stored projection row of `kind`: (stream id, state JSON), in id order.
    async fn projection_rows(&self, kind: StreamKind) -> Result<Vec<(String, String)>, StoreError>;

    /// Replaces every projection row with `replayed`, in one transaction that holds off appends,
    /// provided the log still ends at `last_position` (else `Conflict`: replay the rest first).
    async fn replace_projections(
        &self,
        replayed: &Replayed,
        last_position: i64,
    ) -> Result<(), StoreError>;
}

/// The refresher's side: claims of due connections and the per-connection refresh lease.
#[async_trait]
pub trait RefreshSchedule: Send + Sync + std::fmt::Debug + 'static {
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
}

/// The relay's side: the log in commit order, the relay's checkpoint and its fenced lease.
#[async_trait]
pub trait RelayCursor: Send + Sync + std::fmt::Debug + 'static {
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
}

/// Callers' API keys, each change recorded in the `system-keys` stream with it.
#[async_trait]
pub trait ApiKeys: Send + Sync + std::fmt::Debug + 'static {
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
}

/// Data keys, wrapped by a master key: one per stream that seals secrets.
#[async_trait]
pub trait DataKeys: Send + Sync + std::fmt::Debug + 'static {
    /// The wrapped data key of `owner` (a stream id), and the master key that wrapped it.
    async fn data_key(&self, owner: &str) -> Result<Option<WrappedKey>, StoreError>;

    /// A connection's projection and the data key of `owner` (its stream id), read together:
    /// what a `GetToken` holding neither needs. Adapters may read both in one query.
    async fn connection_and_data_key(
        &self,
        id: ConnectionId,
        owner: &str,
    ) -> Result<(Option<connection::State>, Option<WrappedKey>), StoreError>;

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
}

/// Who read which token when, and the other system events.
#[async_trait]
pub trait AccessLog: Send + Sync + std::fmt::Debug + 'static {
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

    /// Records an event of a system stream with no table to change (master-key rotations), at
    /// the stream's head: system streams have many writers and no decision that depends on order.
    async fn record_system_event(
        &self,
        event: system::Event,
        context: &EventContext,
    ) -> Result<RecordedEvent, StoreError>;
}

/// Moving the oldest part of the log out (Postgres only).
#[async_trait]
pub trait Archive: Send + Sync + std::fmt::Debug + 'static {
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
}

/// What a claim on an inbound delivery id found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryClaim {
    /// Not seen within the window (or a claim that lapsed): this caller records it.
    Fresh,
    /// Recorded already: answer the provider, record nothing.
    Recorded,
    /// Another request is recording it now: the provider should send it again later.
    InFlight,
}

/// A delivery id to record as seen in the same transaction as its events (see
/// [`WebhookDeliveries::append_delivery`]), with the times its window is judged by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenDelivery {
    pub integration: IntegrationId,
    pub delivery_id: String,
    /// When it was seen.
    pub at: DateTime<Utc>,
    /// Seen before this, the id counts as new again (the end of the dedupe window).
    pub seen_after: DateTime<Utc>,
    /// A claim not recorded (of [`WebhookDeliveries::claim_delivery`]) taken before this has
    /// lapsed.
    pub lapsed_before: DateTime<Utc>,
}

/// Inbound webhook deliveries: each delivery id recorded once per integration within a window.
///
/// A delivery bound for one stream is appended with its id in one transaction
/// ([`Self::append_delivery`]): the id is seen exactly when the events are recorded. One fanned out
/// to several streams is claimed first, appended stream by stream, then marked. The claim and the
/// mark are committed without waiting for the disk (Postgres: `synchronous_commit = off` for them
/// alone): the delivery's events, appended in between, are committed durably, which makes the
/// claim before them durable too; a mark lost to a database crash leaves a claim that lapses, and
/// the provider's next attempt is recorded again.
/// Revocations to try again: the provider did not confirm them (no answer, 5xx, 429).
#[async_trait]
pub trait RevocationOutbox: Send + Sync + std::fmt::Debug + 'static {
    /// Puts `connection` in the outbox (or keeps it there), first due at `next_at`.
    async fn revocation_pending(
        &self,
        connection: ConnectionId,
        now: DateTime<Utc>,
        next_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Takes up to `limit` revocations due at `now`, each pushed to `hold_until` so no other
    /// replica takes it meanwhile: (connection, since, attempts so far).
    async fn take_due_revocations(
        &self,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(ConnectionId, DateTime<Utc>, u32)>, StoreError>;

    /// One more attempt failed: next due at `next_at`.
    async fn revocation_retry(
        &self,
        connection: ConnectionId,
        next_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Confirmed, or given up: out of the outbox.
    async fn revocation_done(&self, connection: ConnectionId) -> Result<(), StoreError>;
}

#[async_trait]
pub trait WebhookDeliveries: Send + Sync + std::fmt::Debug + 'static {
    /// Claims `delivery_id` of `integration` at `now`: fresh when unseen since `seen_after`, or
    /// when a claim not recorded was taken before `lapsed_before`.
    async fn claim_delivery(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
        lapsed_before: DateTime<Utc>,
    ) -> Result<DeliveryClaim, StoreError>;

    /// Appends `events` to `stream` at `expected_version` and records `seen`'s id in the same
    /// transaction. `None`, and nothing appended, when the id was seen already: recorded within
    /// the window, or claimed by a recording under way ([`Self::delivery_seen`] tells which).
    async fn append_delivery(
        &self,
        seen: &SeenDelivery,
        stream: StreamId,
        expected_version: u64,
        events: Vec<DomainEvent>,
        context: &EventContext,
    ) -> Result<Option<Vec<RecordedEvent>>, StoreError>;

    /// What became of a delivery id found seen: [`DeliveryClaim::Recorded`] (or forgotten since),
    /// or [`DeliveryClaim::InFlight`] while a claim is not yet marked.
    async fn delivery_seen(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
    ) -> Result<DeliveryClaim, StoreError>;

    /// Marks a claimed delivery recorded (once its events are committed).
    async fn delivery_recorded(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
    ) -> Result<(), StoreError>;

    /// Gives a claim up (recording failed): the provider's next attempt records it.
    async fn release_delivery(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
    ) -> Result<(), StoreError>;

    /// Forgets delivery ids claimed before `before`; how many.
    async fn purge_deliveries(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The event with this id (a recorded delivery's, for `GetWebhookDelivery`).
    async fn event_by_id(&self, event_id: uuid::Uuid) -> Result<Option<RecordedEvent>, StoreError>;
}

/// Every role of the store: what the composition root opens and hands out by role.
#[async_trait]
pub trait EventStore:
    EventLog
    + Projections
    + RefreshSchedule
    + RelayCursor
    + ApiKeys
    + DataKeys
    + AccessLog
    + Archive
    + WebhookDeliveries
    + RevocationOutbox
{
    /// Waits for in-flight queries and closes the connections; later calls fail.
    async fn close(&self);

    /// Whether every migration this build knows is applied ([`StoreError::SchemaBehind`] if
    /// not), changing nothing: readiness asks it. The embedded store migrates itself at open.
    async fn schema_current(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The connection pool's figures now, for `/metrics`.
    fn pool_usage(&self) -> PoolUsage;
}

/// A connection pool's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open (in use and idle).
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}
