//! The embedded default: one SQLite file, with migrations from `migrations/sqlite`.
//!
//! Appends take the write lock up front (`BEGIN IMMEDIATE`), so two writers never both read a
//! stream and then race to upgrade; the loser waits (busy timeout) and then sees the new version.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use latchkey_domain::{
    ConnectionId, DomainEvent, IntegrationId, StreamId, StreamKind, connection, integration,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::append::{AppendTx, EventRow, append_in, duplicate_name};
use crate::{
    ApiKeyRecord, Claim, ConnectionFilter, Cursor, EventContext, EventStore, Lease, Page,
    Projection, RecordedEvent, StoreError, WrappedKey, clamp_limit, from_version, parse_projection,
    parse_state, parse_stream_id, parse_tenant, to_json, to_version,
};
use crate::{Replayed, TokenReads};
use latchkey_domain::connection::refresh_token::Sent;

mod leases;
mod relay;
mod system;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    appended: crate::Appended,
}

const EVENT_COLUMNS: &str = "position, event_id, stream_id, version, tenant, event_type, \
     schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash";

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::try_parse(text).map_err(|e| StoreError::Corrupt(format!("uuid {text:?}: {e}")))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        Self::with_options(options, 8).await
    }

    async fn with_options(
        options: SqliteConnectOptions,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await?;
        let store = Self {
            pool,
            appended: crate::Appended::new(true),
        };
        MIGRATOR.run(&store.pool).await?;
        Ok(store)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn event_from_row(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let stream_id: String = row.try_get("stream_id")?;
    let event_id: String = row.try_get("event_id")?;
    let occurred_at: String = row.try_get("occurred_at")?;
    let schema_version: i64 = row.try_get("schema_version")?;
    Ok(RecordedEvent {
        position: row.try_get("position")?,
        event_id: parse_uuid(&event_id)?,
        stream_id: parse_stream_id(&stream_id)?,
        version: to_version(row.try_get("version")?)?,
        tenant: parse_tenant(row.try_get("tenant")?)?,
        event_type: row.try_get("event_type")?,
        schema_version: u32::try_from(schema_version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {schema_version}")))?,
        occurred_at: parse_time(&occurred_at)?,
        actor: row.try_get("actor")?,
        correlation_id: row.try_get("correlation_id")?,
        payload: row.try_get("payload")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

#[async_trait]
impl EventStore for SqliteStore {
    #[tracing::instrument(name = "store.append", skip_all, fields(stream = %stream, expected_version))]
    async fn append(
        &self,
        stream: StreamId,
        expected_version: u64,
        events: Vec<DomainEvent>,
        context: &EventContext,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut tx = SqliteAppend(self.pool.begin_with("BEGIN IMMEDIATE").await?);
        let recorded = append_in(&mut tx, stream, expected_version, &events, context).await?;
        tx.0.commit().await?;
        self.appended.committed(stream);
        Ok(recorded)
    }

    async fn read_stream(
        &self,
        stream: StreamId,
        from_version: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 \
             ORDER BY version LIMIT $3"
        ))
        .bind(stream.to_string())
        .bind(crate::from_version(from_version)?)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn read_all(
        &self,
        from_position: i64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE position >= $1 ORDER BY position LIMIT $2"
        ))
        .bind(from_position)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn integration(
        &self,
        id: IntegrationId,
    ) -> Result<Option<integration::State>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT state FROM integrations WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        json.as_deref().map(parse_state).transpose()
    }

    async fn list_integrations(&self, page: Page) -> Result<Vec<integration::State>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT state FROM integrations WHERE deleted = 0 AND ($1 IS NULL OR id > $1) \
             ORDER BY id LIMIT $2",
        )
        .bind(page.after.map(|u| u.to_string()))
        .bind(clamp_limit(page.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|json| parse_state(json)).collect()
    }

    #[tracing::instrument(name = "store.read", skip_all, fields(connection_id = %id))]
    async fn connection(&self, id: ConnectionId) -> Result<Option<connection::State>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT state FROM connections WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        json.as_deref().map(parse_state).transpose()
    }

    async fn list_connections(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<connection::State>, StoreError> {
        // Label keys are restricted to `a-z 0-9 _ - . /` by the domain, so they are safe inside a
        // quoted JSON path; the values are bound.
        let mut sql = "SELECT state FROM connections \
             WHERE ($1 IS NULL OR tenant = $1) \
               AND ($2 IS NULL OR integration_id = $2) \
               AND ($3 IS NULL OR status = $3) \
               AND ($4 IS NULL OR id > $4) \
               AND ($6 IS NULL OR provider_account_id = $6)"
            .to_owned();
        for (i, key) in filter.labels.keys().enumerate() {
            if !key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-./".contains(&b))
            {
                return Ok(Vec::new());
            }
            sql.push_str(&format!(
                " AND json_extract(labels, '$.\"{key}\"') = ${}",
                i + 7
            ));
        }
        sql.push_str(" ORDER BY id LIMIT $5");
        let mut query = sqlx::query_scalar(&sql)
            .bind(filter.tenant.as_ref().map(|t| t.as_str().to_owned()))
            .bind(filter.integration_id.map(|i| i.to_string()))
            .bind(filter.status.map(|s| s.as_str()))
            .bind(page.after.map(|u| u.to_string()))
            .bind(clamp_limit(page.limit))
            .bind(filter.provider_account_id.clone());
        for value in filter.labels.values() {
            query = query.bind(value.clone());
        }
        let rows: Vec<String> = query.fetch_all(&self.pool).await?;
        rows.iter().map(|json| parse_state(json)).collect()
    }

    async fn connection_by_state(
        &self,
        state_digest: &str,
    ) -> Result<Option<connection::State>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT state FROM connections WHERE pending_state = $1")
                .bind(state_digest)
                .fetch_optional(&self.pool)
                .await?;
        json.as_deref().map(parse_state).transpose()
    }

    async fn claim_due_refreshes(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        leases::claim_due(&self.pool, now, owner, until, limit).await
    }

    async fn release_claims(&self, owner: &str, claims: &[Claim]) -> Result<(), StoreError> {
        leases::release_claims(&self.pool, owner, claims).await
    }

    async fn due_for_validation(
        &self,
        integration_id: IntegrationId,
        validated_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM connections \
             WHERE integration_id = $1 AND status = 'active' \
               AND (validated_at IS NULL OR validated_at <= $2) \
             ORDER BY validated_at NULLS FIRST LIMIT $3",
        )
        .bind(integration_id.to_string())
        .bind(time_text(validated_before))
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        ids.iter()
            .map(|id| parse_uuid(id).map(ConnectionId::from_uuid))
            .collect()
    }

    async fn acquire_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease, StoreError> {
        leases::acquire(&self.pool, id, owner, now, until).await
    }

    async fn record_refresh_attempt(
        &self,
        id: ConnectionId,
        owner: &str,
        sent: &Sent,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        leases::record_attempt(&self.pool, id, owner, sent, until).await
    }

    async fn renew_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        leases::renew(&self.pool, id, owner, until).await
    }

    async fn release_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        keep_sent: bool,
    ) -> Result<(), StoreError> {
        leases::release(&self.pool, id, owner, keep_sent).await
    }

    async fn read_committed(
        &self,
        after: Cursor,
        limit: u32,
    ) -> Result<Vec<(Cursor, RecordedEvent)>, StoreError> {
        // One writer at a time (BEGIN IMMEDIATE): commit order is position order.
        Ok(self
            .read_all(after.position.saturating_add(1), limit)
            .await?
            .into_iter()
            .map(|e| {
                (
                    Cursor {
                        txid: 0,
                        position: e.position,
                    },
                    e,
                )
            })
            .collect())
    }

    async fn cursor_for_position(&self, position: i64) -> Result<Cursor, StoreError> {
        Ok(Cursor {
            txid: 0,
            position: position.saturating_sub(1),
        })
    }

    async fn relay_checkpoint(&self, name: &str) -> Result<Cursor, StoreError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT txid, position FROM relay_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row
            .map(|(txid, position)| Cursor {
                txid: u64::try_from(txid).unwrap_or_default(),
                position,
            })
            .unwrap_or_default())
    }

    async fn save_relay_checkpoint(
        &self,
        name: &str,
        cursor: Cursor,
        fence: u64,
    ) -> Result<bool, StoreError> {
        relay::save_checkpoint(&self.pool, name, cursor, fence).await
    }

    async fn events_after(&self, cursor: Cursor, cap: u32) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE position > $1 LIMIT $2)",
        )
        .bind(cursor.position)
        .bind(i64::from(cap))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn acquire_relay_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        relay::acquire(&self.pool, name, owner, ttl).await
    }

    async fn renew_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        relay::renew(&self.pool, name, owner, fence, ttl).await
    }

    async fn release_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
    ) -> Result<(), StoreError> {
        relay::release(&self.pool, name, owner, fence).await
    }

    async fn create_api_key(
        &self,
        key: &ApiKeyRecord,
        context: &EventContext,
    ) -> Result<RecordedEvent, StoreError> {
        let recorded = system::create_api_key(&self.pool, key, context).await?;
        self.appended.committed(recorded.stream_id);
        Ok(recorded)
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row: Option<ApiKeyColumns> = sqlx::query_as(
            "SELECT id, name, tenant, secret_hash, created_at, revoked_at, role, expires_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(api_key_record).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<ApiKeyColumns> = sqlx::query_as(
            "SELECT id, name, tenant, secret_hash, created_at, revoked_at, role, expires_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(api_key_record).collect()
    }

    async fn revoke_api_key(
        &self,
        id: &str,
        context: &EventContext,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        let recorded = system::revoke_api_key(&self.pool, id, context).await?;
        if let Some(r) = &recorded {
            self.appended.committed(r.stream_id);
        }
        Ok(recorded)
    }

    async fn record_system_event(
        &self,
        event: latchkey_domain::system::Event,
        context: &EventContext,
    ) -> Result<RecordedEvent, StoreError> {
        let recorded = system::record_event(&self.pool, event, context).await?;
        self.appended.committed(recorded.stream_id);
        Ok(recorded)
    }

    async fn data_key(&self, owner: &str) -> Result<Option<WrappedKey>, StoreError> {
        let row: Option<(Vec<u8>, String)> =
            sqlx::query_as("SELECT wrapped, master_key_id FROM data_keys WHERE owner = $1")
                .bind(owner)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(wrapped, master_key_id)| WrappedKey {
            wrapped,
            master_key_id,
        }))
    }

    async fn insert_data_key(
        &self,
        owner: &str,
        key: &WrappedKey,
    ) -> Result<WrappedKey, StoreError> {
        sqlx::query(
            "INSERT INTO data_keys (owner, wrapped, master_key_id, created_at) \
             VALUES ($1, $2, $3, strftime('%Y-%m-%dT%H:%M:%fZ','now')) ON CONFLICT (owner) DO NOTHING",
        )
        .bind(owner)
        .bind(&key.wrapped)
        .bind(&key.master_key_id)
        .execute(&self.pool)
        .await?;
        self.data_key(owner)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("data key of {owner} vanished")))
    }

    async fn delete_data_key(&self, owner: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM data_keys WHERE owner = $1")
            .bind(owner)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(done == 1)
    }

    async fn data_keys_wrapped_by(
        &self,
        master_key_id: &str,
        limit: u32,
    ) -> Result<Vec<(String, WrappedKey)>, StoreError> {
        let rows: Vec<(String, Vec<u8>, String)> = sqlx::query_as(
            "SELECT owner, wrapped, master_key_id FROM data_keys WHERE master_key_id = $1 \
             ORDER BY owner LIMIT $2",
        )
        .bind(master_key_id)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(owner, wrapped, master_key_id)| {
                (
                    owner,
                    WrappedKey {
                        wrapped,
                        master_key_id,
                    },
                )
            })
            .collect())
    }

    async fn rewrap_data_key(
        &self,
        owner: &str,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE data_keys SET wrapped = $3, master_key_id = $4 WHERE owner = $1 AND wrapped = $2",
        )
        .bind(owner)
        .bind(&old.wrapped)
        .bind(&new.wrapped)
        .bind(&new.master_key_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    async fn record_token_reads(
        &self,
        reads: &[TokenReads],
        context: &EventContext,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let recorded = system::record_token_reads(&self.pool, reads, context).await?;
        if let Some(r) = recorded.first() {
            self.appended.committed(r.stream_id);
        }
        Ok(recorded)
    }

    async fn token_reads(
        &self,
        connection: ConnectionId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TokenReads>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT actor, minute, reads FROM token_reads WHERE connection_id = $1 AND minute >= $2 \
             ORDER BY minute, actor LIMIT $3",
        )
        .bind(connection.to_string())
        .bind(time_text(since))
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(actor, minute, reads)| {
                Ok(TokenReads {
                    actor,
                    connection,
                    minute: parse_time(&minute)?,
                    reads: u64::try_from(reads).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn projection_rows(&self, kind: StreamKind) -> Result<Vec<(String, String)>, StoreError> {
        let prefix = match kind {
            StreamKind::Connection => "connection",
            StreamKind::Integration => "integration",
            StreamKind::System | StreamKind::Session => return Ok(Vec::new()),
        };
        let (columns, sql) = match kind {
            StreamKind::Connection => (
                &crate::columns::CONNECTION[..],
                "SELECT id, state, tenant, integration_id, status, CAST(version AS TEXT) \
                 FROM connections ORDER BY id",
            ),
            _ => (
                &crate::columns::INTEGRATION[..],
                "SELECT id, state, name, CASE WHEN deleted THEN 'true' ELSE 'false' END, \
                 CAST(version AS TEXT), '' FROM integrations ORDER BY id",
            ),
        };
        let rows: Vec<(String, String, String, String, String, String)> =
            sqlx::query_as(sql).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(id, state, a, b, c, d)| {
                let state = crate::columns::checked(state, columns, &[a, b, c, d]);
                (format!("{prefix}-{id}"), state)
            })
            .collect())
    }

    async fn replace_projections(
        &self,
        replayed: &Replayed,
        last_position: i64,
    ) -> Result<(), StoreError> {
        let mut tx = SqliteAppend(self.pool.begin_with("BEGIN IMMEDIATE").await?);
        let (count, last): (i64, Option<i64>) =
            sqlx::query_as("SELECT count(*), max(position) FROM events")
                .fetch_one(&mut *tx.0)
                .await?;
        // Every event replayed, and none after: a late-committing event the replay could not see
        // would show as a count that does not match.
        if last.unwrap_or(0) != last_position || u64::try_from(count).ok() != Some(replayed.events)
        {
            return Err(StoreError::Conflict {
                stream: "events".to_owned(),
                expected: u64::try_from(last_position).unwrap_or_default(),
                actual: u64::try_from(last.unwrap_or(0)).unwrap_or_default(),
            });
        }
        sqlx::query("DELETE FROM connections")
            .execute(&mut *tx.0)
            .await?;
        sqlx::query("DELETE FROM integrations")
            .execute(&mut *tx.0)
            .await?;
        for state in replayed.integrations.values() {
            tx.save_projection(&Projection::Integration(Some(state.clone())))
                .await?;
        }
        for state in replayed.connections.values() {
            tx.save_projection(&Projection::Connection(Some(state.clone())))
                .await?;
        }
        tx.0.commit().await?;
        Ok(())
    }

    async fn last_position(&self) -> Result<i64, StoreError> {
        let last: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(last.unwrap_or(0))
    }

    async fn count_connections_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT status, count(*) FROM connections GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    fn appended(&self) -> Arc<Notify> {
        self.appended.notify.clone()
    }

    fn on_append(&self, hook: crate::AppendHook) {
        self.appended.add(hook);
    }

    fn hears_every_append(&self) -> bool {
        true
    }

    fn hear_other_replicas(&self) -> Option<crate::HearingTask> {
        None
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// An append transaction on SQLite, holding the write lock from its start.
struct SqliteAppend(Transaction<'static, Sqlite>);

#[async_trait]
impl AppendTx for SqliteAppend {
    async fn last_event(&mut self, stream_id: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT version, hash FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(stream_id)
        .fetch_optional(&mut *self.0)
        .await?)
    }

    async fn load_projection(&mut self, stream: StreamId) -> Result<Projection, StoreError> {
        let (table, id) = match stream {
            StreamId::Integration(id) => ("integrations", id.to_string()),
            StreamId::Connection(id) => ("connections", id.to_string()),
            StreamId::System(_) | StreamId::Session(_) => return Ok(Projection::Unfolded),
        };
        let json: Option<String> =
            sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *self.0)
                .await?;
        parse_projection(stream.kind(), json.as_deref())
    }

    async fn insert_event(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error> {
        let e = row.event;
        sqlx::query_scalar(
            "INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, event_type, \
             schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING position",
        )
        .bind(e.event_id.to_string())
        .bind(row.stream_id)
        .bind(row.stream.kind().as_str())
        .bind(e.version as i64)
        .bind(row.tenant)
        .bind(e.event_type)
        .bind(i64::from(e.schema_version))
        .bind(time_text(row.occurred_at))
        .bind(&row.context.actor)
        .bind(&row.context.correlation_id)
        .bind(&e.payload)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .fetch_one(&mut *self.0)
        .await
    }

    async fn save_projection(&mut self, projection: &Projection) -> Result<(), StoreError> {
        match projection {
            Projection::Integration(Some(s)) => {
                sqlx::query(
                    "INSERT INTO integrations (id, name, deleted, version, updated_at, state) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     deleted = excluded.deleted, version = excluded.version, \
                     updated_at = excluded.updated_at, state = excluded.state",
                )
                .bind(s.id.to_string())
                .bind(s.config.name.as_str())
                .bind(s.deleted)
                .bind(from_version(s.version)?)
                .bind(time_text(s.updated_at))
                .bind(to_json(s)?)
                .execute(&mut *self.0)
                .await
                .map_err(|e| duplicate_name(e, s.config.name.as_str()))?;
            }
            Projection::Connection(Some(s)) => {
                sqlx::query(
                    "INSERT INTO connections \
                     (id, integration_id, tenant, status, version, expires_at, updated_at, state, \
                     pending_state, refresh_at, labels, provider_account_id, validated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
                     version = excluded.version, expires_at = excluded.expires_at, \
                     updated_at = excluded.updated_at, state = excluded.state, \
                     pending_state = excluded.pending_state, refresh_at = excluded.refresh_at, \
                     labels = excluded.labels, provider_account_id = excluded.provider_account_id, \
                     validated_at = excluded.validated_at, \
                     claimed_until = CASE WHEN connections.status IS NOT excluded.status \
                       OR connections.refresh_at IS NOT excluded.refresh_at \
                       OR connections.expires_at IS NOT excluded.expires_at \
                     THEN NULL ELSE connections.claimed_until END",
                )
                .bind(s.id.to_string())
                .bind(s.integration_id.to_string())
                .bind(s.tenant.as_str())
                .bind(s.status.as_str())
                .bind(from_version(s.version)?)
                .bind(s.expires_at.map(time_text))
                .bind(time_text(s.updated_at))
                .bind(to_json(s)?)
                .bind(
                    s.pending_authorization
                        .as_ref()
                        .map(|p| p.state_digest.as_str()),
                )
                .bind(s.refresh_at.map(time_text))
                .bind(to_json(&s.profile.labels)?)
                .bind(s.provider_account_id.as_deref())
                .bind(s.last_validation.as_ref().map(|v| time_text(v.at)))
                .execute(&mut *self.0)
                .await?;
            }
            Projection::Integration(None) | Projection::Connection(None) | Projection::Unfolded => {
            }
        }
        Ok(())
    }
}

type ApiKeyColumns = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

fn api_key_record(
    (id, name, tenant, secret_hash, created_at, revoked_at, role, expires_at): ApiKeyColumns,
) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id,
        name,
        tenant: parse_tenant(tenant)?,
        secret_hash,
        created_at: parse_time(&created_at)?,
        revoked_at: revoked_at.as_deref().map(parse_time).transpose()?,
        role,
        expires_at: expires_at.as_deref().map(parse_time).transpose()?,
    })
}
