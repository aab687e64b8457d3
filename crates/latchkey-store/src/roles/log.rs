//! The log: appends go to the adapter; reads in stream and position order are the same SQL on
//! both databases.

use std::sync::Arc;

use async_trait::async_trait;
use latchkey_domain::{DomainEvent, StreamId};
use tokio::sync::Notify;

use super::{Append, Backend};
use crate::sql::{Columns, Db, args};
use crate::{
    AppendHook, EventContext, EventLog, HearingTask, RecordedEvent, StoreError, clamp_limit,
    parse_stream_id, parse_tenant, to_version,
};

/// The columns of an event row, in the order [`event_from`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "position, event_id, stream_id, version, tenant, \
     event_type, schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash";

/// `SELECT <columns> FROM events WHERE stream_id = $1 AND version >= $2 …`.
pub(crate) fn read_stream_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 \
         ORDER BY version LIMIT $3"
    )
}

/// `SELECT <columns> FROM events WHERE position >= $1 …`.
pub(crate) fn read_all_sql() -> String {
    format!("SELECT {EVENT_COLUMNS} FROM events WHERE position >= $1 ORDER BY position LIMIT $2")
}

/// The event whose [`EVENT_COLUMNS`] start at column `first` of `row`.
pub(crate) fn event_from(row: &impl Columns, first: usize) -> Result<RecordedEvent, StoreError> {
    let schema_version = row.int(first + 6)?;
    Ok(RecordedEvent {
        position: row.int(first)?,
        event_id: row.id(first + 1)?,
        stream_id: parse_stream_id(&row.text(first + 2)?)?,
        version: to_version(row.int(first + 3)?)?,
        tenant: parse_tenant(row.opt_text(first + 4)?)?,
        event_type: row.text(first + 5)?,
        schema_version: u32::try_from(schema_version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {schema_version}")))?,
        occurred_at: row.time(first + 7)?,
        actor: row.text(first + 8)?,
        correlation_id: row.opt_text(first + 9)?,
        payload: row.text(first + 10)?,
        prev_hash: row.bytes(first + 11)?,
        hash: row.bytes(first + 12)?,
    })
}

#[async_trait]
impl<B: Backend> EventLog for B {
    #[tracing::instrument(name = "store.append", skip_all, fields(stream = %stream, expected_version))]
    async fn append(
        &self,
        stream: StreamId,
        expected_version: u64,
        events: Vec<DomainEvent>,
        context: &EventContext,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let append = Append {
            stream,
            expected_version,
            events,
            context,
            seen: None,
        };
        self.append_events(append).await
    }

    async fn read_stream(
        &self,
        stream: StreamId,
        from_version: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let args = args![
            stream.to_string(),
            crate::from_version(from_version)?,
            clamp_limit(limit)
        ];
        let rows = self.db().rows(&read_stream_sql(), args).await?;
        rows.iter().map(|row| event_from(row, 0)).collect()
    }

    async fn read_all(
        &self,
        from_position: i64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let args = args![from_position, clamp_limit(limit)];
        let rows = self.db().rows(&read_all_sql(), args).await?;
        rows.iter().map(|row| event_from(row, 0)).collect()
    }

    async fn last_position(&self) -> Result<i64, StoreError> {
        let row = self
            .db()
            .row("SELECT max(position) FROM events", args![])
            .await?;
        Ok(match row {
            Some(row) => row.opt_int(0)?.unwrap_or(0),
            None => 0,
        })
    }

    fn appended(&self) -> Arc<Notify> {
        self.signals().notify.clone()
    }

    fn on_append(&self, hook: AppendHook) {
        self.signals().add(hook);
    }

    fn hears_every_append(&self) -> bool {
        self.signals().heard()
    }

    fn hears_route_changes(&self) -> bool {
        self.signals().hears_routes()
    }

    fn hear_other_replicas(&self) -> Option<HearingTask> {
        self.hear_others()
    }
}
