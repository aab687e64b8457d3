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
mod appended;
mod archive;
mod chain;
mod columns;
mod port;
mod postgres;
mod projection;
mod roles;
mod sessions;
mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use appended::{AppendHook, HearingTask, Invalidation};
pub use archive::{ArchiveSink, ArchiveState, ArchivedPart, KeptHead};
pub use chain::{GENESIS_HASH, event_hash};
pub use port::{
    AccessLog, ApiKeys, Archive, DataKeys, DeliveryClaim, EventLog, EventStore, PoolUsage,
    Projections, RefreshSchedule, RelayCursor, RevocationOutbox, SeenDelivery, WebhookDeliveries,
};
pub use postgres::{Migrations, NOTIFY_CHANNEL, PgStore, ROUTES_CHANNEL};
pub use projection::Replayed;
pub use sqlite::SqliteStore;
pub use types::{
    ApiKeyRecord, Claim, ConnectionFilter, Cursor, EventContext, Lease, Page, RecordedEvent,
    StoreError, TokenReads, WrappedKey,
};

pub(crate) use appended::Appended;
pub(crate) use projection::{
    Prepared, Projection, parse_projection, parse_state, prepare, projection_tenant, to_json,
};
pub(crate) use types::{
    clamp_limit, from_version, parse_stream_id, parse_tenant, prepared_time, to_version,
};
