//! The roles both stores share, written once over [`Backend`]: what an adapter supplies (its
//! database, its signals, and the few operations whose SQL or locking differs), and from which
//! every shared role is implemented.

mod access;
mod deliveries;
mod keys;
mod log;
mod projections;
mod relay;
mod revocations;
mod schedule;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{ConnectionId, DomainEvent, StreamId, SystemStream};

pub(crate) use access::TOKEN_READS;
pub(crate) use deliveries::{SEEN_COLUMNS, claim_in, seen_where};
pub(crate) use log::{EVENT_COLUMNS, event_from, read_all_sql, read_stream_sql};
pub(crate) use projections::{CONNECTION_BY_STATE, INTEGRATION_BY_ID};
pub(crate) use relay::checkpoint;
pub(crate) use schedule::ScheduleHooks;

use crate::append::AppendTx;
use crate::sql::{Db, Tx};
use crate::{
    Appended, ConnectionFilter, EventContext, HearingTask, Page, RecordedEvent, Replayed,
    SeenDelivery, StoreError, TokenReads, WrappedKey,
};

/// A connection's state (JSON, unparsed) and, when asked for, its owner's wrapped data key.
pub(crate) type ConnectionRead = (Option<String>, Option<WrappedKey>);

/// What an adapter supplies to the shared roles.
#[async_trait]
pub(crate) trait Backend: Send + Sync + std::fmt::Debug + 'static {
    type Db: Db;
    /// A transaction that writes a system stream's table and its events together.
    type SystemTx: AppendTx + Tx;

    /// Active connections of an integration by last validation (`$1` integration, `$2` validated
    /// before, `$3` limit): the table differs (Postgres keeps a narrow schedule table).
    const DUE_FOR_VALIDATION: &'static str;
    /// A one-row table whose reading lets the statement's own commit skip the wait for the disk
    /// (Postgres: `synchronous_commit` off for that transaction alone; SQLite: nothing).
    const RELAXED_COMMIT: &'static str;
    /// The last error's code of a connection row, from its `state` JSON.
    const ERROR_CODE: &'static str;

    fn db(&self) -> &Self::Db;
    fn signals(&self) -> &Appended;

    /// Appends, and tells the hooks once it committed.
    async fn append_events(&self, append: Append<'_>) -> Result<Vec<RecordedEvent>, StoreError>;
    /// Opens the transaction of a write to `stream`, ordered with the stream's other writers.
    async fn begin_system(&self, stream: SystemStream) -> Result<Self::SystemTx, StoreError>;
    /// Commits a system write (telling other replicas where they listen).
    async fn commit_system(tx: Self::SystemTx, stream: SystemStream) -> Result<(), StoreError>;
    /// Adds counted token reads to the `token_reads` table inside `tx`.
    async fn add_token_reads(
        tx: &mut Self::SystemTx,
        reads: &[TokenReads],
    ) -> Result<(), StoreError>;

    /// A connection's state and, with `owner`, that owner's data key.
    async fn read_connection(
        &self,
        id: ConnectionId,
        owner: Option<&str>,
    ) -> Result<ConnectionRead, StoreError>;
    /// A page of connections' states (JSON) that match `filter`.
    async fn connection_page(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<String>, StoreError>;
    /// Writes `replayed` as every projection row, in one transaction that holds appends off,
    /// after [`replayed_whole`] found the log as replayed.
    async fn swap_projections(&self, replayed: &Replayed, last: i64) -> Result<(), StoreError>;

    /// See [`crate::EventLog::hear_other_replicas`].
    fn hear_others(&self) -> Option<HearingTask> {
        None
    }
}

/// One append, as [`Backend::append_events`] takes it.
#[derive(Debug)]
pub(crate) struct Append<'a> {
    pub stream: StreamId,
    pub expected_version: u64,
    pub events: Vec<DomainEvent>,
    pub context: &'a EventContext,
    /// A webhook delivery's id, recorded in the append's transaction; the append fails with
    /// [`StoreError::DeliverySeen`], nothing written, when it was seen already.
    pub seen: Option<&'a SeenDelivery>,
}

/// A claim's or lease's owner and times: taken at `now` until `until`, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Due<'a> {
    pub now: DateTime<Utc>,
    pub owner: &'a str,
    pub until: DateTime<Utc>,
    pub limit: u32,
}

/// Whether the log still holds exactly what was replayed (`count` events, the last at `last`):
/// a late-committing event the replay could not see would show as a count that does not match.
pub(crate) fn replayed_whole(
    replayed: &Replayed,
    last_position: i64,
    (count, last): (i64, Option<i64>),
) -> Result<(), StoreError> {
    if last.unwrap_or(0) != last_position || u64::try_from(count).ok() != Some(replayed.events) {
        return Err(StoreError::Conflict {
            stream: "events".to_owned(),
            expected: u64::try_from(last_position).unwrap_or_default(),
            actual: u64::try_from(last.unwrap_or(0)).unwrap_or_default(),
        });
    }
    Ok(())
}
