//! The append algorithm, once for every adapter: check the expected version, fold the events into
//! the projection, chain their hashes, insert them and save the projection, all inside the
//! adapter's transaction. Adapters only supply the statements ([`AppendTx`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{DomainEvent, StreamId, SystemStream};

use crate::{
    EventContext, Prepared, Projection, RecordedEvent, StoreError, prepare, prepared_time,
    projection_tenant, to_version,
};

/// One event row as an adapter inserts it.
#[derive(Debug)]
pub(crate) struct EventRow<'a> {
    pub stream_id: &'a str,
    pub stream: StreamId,
    pub tenant: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    pub context: &'a EventContext,
    pub event: &'a Prepared,
}

/// The statements an adapter runs inside its append transaction.
#[async_trait]
pub(crate) trait AppendTx: Send {
    /// The stream's last version and hash, if it has events.
    async fn last_event(&mut self, stream_id: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError>;
    /// The stream's stored projection (JSON), if any.
    async fn load_projection(&mut self, stream: StreamId) -> Result<Projection, StoreError>;
    /// Inserts one event and returns its global position.
    async fn insert_event(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error>;
    async fn save_projection(&mut self, projection: &Projection) -> Result<(), StoreError>;

    /// The stream's last version and hash, and its projection. Adapters may read both at once.
    async fn head(
        &mut self,
        stream: StreamId,
        stream_id: &str,
    ) -> Result<(Option<(i64, Vec<u8>)>, Projection), StoreError> {
        let last = self.last_event(stream_id).await?;
        let projection = self.load_projection(stream).await?;
        Ok((last, projection))
    }

    /// Inserts one event and saves the projection in one statement, when the adapter can;
    /// `Ok(None)` when it cannot (the caller then uses the statements above).
    async fn write_one(
        &mut self,
        _row: &EventRow<'_>,
        _projection: &Projection,
    ) -> Result<Option<i64>, sqlx::Error> {
        Ok(None)
    }
}

/// Whether an insert failed because another writer committed the same stream version first.
fn version_taken(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|e| {
        e.is_unique_violation()
            && (e.constraint() == Some("events_stream_version_key")
                || e.message().contains("events.stream_id"))
    })
}

/// Whether a projection write failed on the unique name of live integrations.
pub(crate) fn duplicate_name(error: sqlx::Error, name: &str) -> StoreError {
    let duplicate = error.as_database_error().is_some_and(|e| {
        e.is_unique_violation()
            && (e.constraint() == Some("integrations_live_name_key")
                || e.message().contains("integrations.name"))
    });
    if duplicate {
        StoreError::DuplicateName(name.to_owned())
    } else {
        StoreError::from(error)
    }
}

pub(crate) async fn append_in(
    tx: &mut impl AppendTx,
    stream: StreamId,
    expected_version: u64,
    events: &[DomainEvent],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let stream_id = stream.to_string();
    let conflict = |actual: u64| StoreError::Conflict {
        stream: stream_id.clone(),
        expected: expected_version,
        actual,
    };
    let (last, projection) = tx.head(stream, &stream_id).await?;
    let (current, last_hash) = match last {
        Some((version, hash)) => (to_version(version)?, hash),
        None => (0, crate::GENESIS_HASH.to_vec()),
    };
    if current != expected_version {
        return Err(conflict(current));
    }
    let (prepared, projection) = prepare(
        stream,
        expected_version,
        last_hash,
        events,
        context,
        projection,
    )?;
    let tenant = projection_tenant(&projection).cloned();
    let occurred_at = prepared_time(context);
    let mut recorded = Vec::with_capacity(prepared.len());
    let single = prepared.len() == 1;
    let mut projection_saved = false;
    for event in prepared {
        let row = EventRow {
            stream_id: &stream_id,
            stream,
            tenant: tenant.as_ref().map(|t| t.as_str()),
            occurred_at,
            context,
            event: &event,
        };
        let map = |e: sqlx::Error| {
            if version_taken(&e) {
                // Another writer committed this version after we read the stream.
                conflict(expected_version + 1)
            } else if let Projection::Integration(Some(s)) = &projection {
                duplicate_name(e, s.config.name.as_str())
            } else {
                StoreError::from(e)
            }
        };
        let shortcut = if single {
            tx.write_one(&row, &projection).await.map_err(map)?
        } else {
            None
        };
        let position = match shortcut {
            Some(position) => {
                projection_saved = true;
                position
            }
            None => tx.insert_event(&row).await.map_err(map)?,
        };
        recorded.push(RecordedEvent {
            position,
            event_id: event.event_id,
            stream_id: stream,
            version: event.version,
            tenant: tenant.clone(),
            event_type: event.event_type.to_owned(),
            schema_version: event.schema_version,
            occurred_at,
            actor: context.actor.clone(),
            correlation_id: context.correlation_id.clone(),
            payload: event.payload,
            prev_hash: event.prev_hash,
            hash: event.hash,
        });
    }
    if !projection_saved {
        tx.save_projection(&projection).await?;
    }
    Ok(recorded)
}

/// Appends to a system stream at whatever version it has reached. The adapter serializes the
/// writers of system streams (a lock for the transaction) so the head read here stays the head.
pub(crate) async fn append_at_head(
    tx: &mut impl AppendTx,
    stream: SystemStream,
    events: &[DomainEvent],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let stream = StreamId::System(stream);
    let current = match tx.last_event(&stream.to_string()).await? {
        Some((version, _)) => to_version(version)?,
        None => 0,
    };
    append_in(tx, stream, current, events, context).await
}

/// The one event an append of one event recorded.
pub(crate) fn one(mut recorded: Vec<RecordedEvent>) -> Result<RecordedEvent, StoreError> {
    recorded
        .pop()
        .ok_or_else(|| StoreError::Corrupt("an append recorded no event".to_owned()))
}
