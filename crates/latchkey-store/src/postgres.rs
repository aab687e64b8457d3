//! The production adapter: Postgres, with migrations from `migrations/postgres`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{
    ConnectionId, DomainEvent, IntegrationId, StreamId, StreamKind, connection, integration,
};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use tokio::sync::Notify;

use crate::append::{AppendTx, EventRow, append_in, duplicate_name};
use crate::{
    ApiKeyRecord, ConnectionFilter, Cursor, EventContext, EventStore, Lease, Page, Projection,
    RecordedEvent, RelayLock, StoreError, WrappedKey, clamp_limit, from_version, parse_projection,
    parse_state, parse_stream_id, parse_tenant, to_json, to_version,
};
use crate::{Replayed, TokenReads};

mod group;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    appended: crate::Appended,
    group: group::GroupCommit,
}

/// Other replicas hear of appends through this channel (`LISTEN latchkey_events`).
pub const NOTIFY_CHANNEL: &str = "latchkey_events";

/// The advisory lock key of the one active relay.
const RELAY_LOCK_KEY: i64 = 0x6c61_7463_686b_6579;

const EVENT_COLUMNS: &str = "position, event_id, stream_id, version, tenant, event_type, \
     schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash";

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("latchkey");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }

    pub fn from_pool(pool: PgPool) -> Self {
        let appended = crate::Appended::default();
        Self {
            group: group::GroupCommit::new(pool.clone(), appended.clone()),
            pool,
            appended,
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn event_from_row(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let stream_id: String = row.try_get("stream_id")?;
    let schema_version: i32 = row.try_get("schema_version")?;
    Ok(RecordedEvent {
        position: row.try_get("position")?,
        event_id: row.try_get("event_id")?,
        stream_id: parse_stream_id(&stream_id)?,
        version: to_version(row.try_get("version")?)?,
        tenant: parse_tenant(row.try_get("tenant")?)?,
        event_type: row.try_get("event_type")?,
        schema_version: u32::try_from(schema_version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {schema_version}")))?,
        occurred_at: row.try_get::<DateTime<Utc>, _>("occurred_at")?,
        actor: row.try_get("actor")?,
        correlation_id: row.try_get("correlation_id")?,
        payload: row.try_get("payload")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

#[async_trait]
impl EventStore for PgStore {
    #[tracing::instrument(name = "store.append", skip_all, fields(stream = %stream, expected_version))]
    async fn append(
        &self,
        stream: StreamId,
        expected_version: u64,
        events: Vec<DomainEvent>,
        context: &EventContext,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = events;
        if let (1, StreamId::Connection(_)) = (events.len(), stream)
            && let Some(event) = events.pop()
        {
            // Refreshes, validations, expiries: committed together with the ones that overlap.
            return self
                .group
                .append(stream, expected_version, event, context)
                .await;
        }
        let recorded = append_alone(&self.pool, stream, expected_version, &events, context).await?;
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
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        json.as_deref().map(parse_state).transpose()
    }

    async fn list_integrations(&self, page: Page) -> Result<Vec<integration::State>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT state FROM integrations WHERE NOT deleted AND ($1::uuid IS NULL OR id > $1) \
             ORDER BY id LIMIT $2",
        )
        .bind(page.after)
        .bind(clamp_limit(page.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|json| parse_state(json)).collect()
    }

    #[tracing::instrument(name = "store.read", skip_all, fields(connection_id = %id))]
    async fn connection(&self, id: ConnectionId) -> Result<Option<connection::State>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT state FROM connections WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        json.as_deref().map(parse_state).transpose()
    }

    async fn list_connections(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<connection::State>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT state FROM connections \
             WHERE ($1::text IS NULL OR tenant = $1) \
               AND ($2::uuid IS NULL OR integration_id = $2) \
               AND ($3::text IS NULL OR status = $3) \
               AND ($4::uuid IS NULL OR id > $4) \
               AND ($6::jsonb IS NULL OR labels::jsonb @> $6::jsonb) \
               AND ($7::text IS NULL OR provider_account_id = $7) \
             ORDER BY id LIMIT $5",
        )
        .bind(filter.tenant.as_ref().map(|t| t.as_str()))
        .bind(filter.integration_id.map(|i| *i.as_uuid()))
        .bind(filter.status.map(|s| s.as_str()))
        .bind(page.after)
        .bind(clamp_limit(page.limit))
        .bind(if filter.labels.is_empty() {
            None
        } else {
            Some(to_json(&filter.labels)?)
        })
        .bind(filter.provider_account_id.as_deref())
        .fetch_all(&self.pool)
        .await?;
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

    async fn due_for_refresh(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM connections \
             WHERE (status IN ('active', 'expired') AND refresh_at <= $1) \
                OR (status = 'active' AND expires_at <= $1) \
             ORDER BY LEAST(refresh_at, expires_at) LIMIT $2",
        )
        .bind(now)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(ConnectionId::from_uuid).collect())
    }

    async fn due_for_validation(
        &self,
        integration_id: IntegrationId,
        validated_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM connections \
             WHERE integration_id = $1 AND status = 'active' \
               AND (validated_at IS NULL OR validated_at <= $2) \
             ORDER BY validated_at NULLS FIRST LIMIT $3",
        )
        .bind(integration_id.as_uuid())
        .bind(validated_before)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(ConnectionId::from_uuid).collect())
    }

    async fn acquire_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease, StoreError> {
        // The holder may release (delete) the row between our insert and our read: try again.
        for _ in 0..5 {
            let mut tx = self.pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO refresh_leases (connection_id, owner, lease_until) VALUES ($1, $2, $3) \
                 ON CONFLICT (connection_id) DO NOTHING",
            )
            .bind(id.as_uuid())
            .bind(owner)
            .bind(until)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                tx.commit().await?;
                return Ok(Lease::Acquired {
                    previous_digest: None,
                });
            }
            let row: Option<(String, DateTime<Utc>, Option<String>)> = sqlx::query_as(
                "SELECT owner, lease_until, token_digest FROM refresh_leases \
                 WHERE connection_id = $1 FOR UPDATE",
            )
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((holder, lease_until, digest)) = row else {
                continue;
            };
            if holder != owner && lease_until > now {
                return Ok(Lease::Busy);
            }
            sqlx::query(
                "UPDATE refresh_leases SET owner = $2, lease_until = $3 WHERE connection_id = $1",
            )
            .bind(id.as_uuid())
            .bind(owner)
            .bind(until)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Lease::Acquired {
                previous_digest: digest,
            });
        }
        // Five releases in a row under our feet: someone else is clearly refreshing.
        Ok(Lease::Busy)
    }

    async fn record_refresh_attempt(
        &self,
        id: ConnectionId,
        owner: &str,
        token_digest: &str,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE refresh_leases SET token_digest = $3 WHERE connection_id = $1 AND owner = $2",
        )
        .bind(id.as_uuid())
        .bind(owner)
        .bind(token_digest)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn release_refresh_lease(&self, id: ConnectionId, owner: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM refresh_leases WHERE connection_id = $1 AND owner = $2")
            .bind(id.as_uuid())
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn read_committed(
        &self,
        after: Cursor,
        limit: u32,
    ) -> Result<Vec<(Cursor, RecordedEvent)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT txid::text AS txid_text, {EVENT_COLUMNS} FROM events \
             WHERE (txid, position) > ($1::text::xid8, $2) \
               AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY txid, position LIMIT $3"
        ))
        .bind(after.txid.to_string())
        .bind(after.position)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let txid: String = row.try_get("txid_text")?;
                let event = event_from_row(row)?;
                let txid = txid
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("transaction id {txid:?}")))?;
                Ok((
                    Cursor {
                        txid,
                        position: event.position,
                    },
                    event,
                ))
            })
            .collect()
    }

    async fn cursor_for_position(&self, position: i64) -> Result<Cursor, StoreError> {
        let first: Option<String> = sqlx::query_scalar(
            "SELECT txid::text FROM events WHERE position >= $1 ORDER BY txid LIMIT 1",
        )
        .bind(position)
        .fetch_optional(&self.pool)
        .await?;
        let txid = match first {
            Some(txid) => txid,
            // Nothing there yet: whatever comes is from a transaction at or past the horizon.
            None => {
                sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        let txid: u64 = txid
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("transaction id {txid:?}")))?;
        // Just before every event of that transaction.
        Ok(Cursor {
            txid,
            position: i64::MIN,
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

    async fn save_relay_checkpoint(&self, name: &str, cursor: Cursor) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO relay_checkpoints (name, txid, position, updated_at) \
             VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO UPDATE SET \
             txid = EXCLUDED.txid, position = EXCLUDED.position, updated_at = now()",
        )
        .bind(name)
        .bind(i64::try_from(cursor.txid).unwrap_or(i64::MAX))
        .bind(cursor.position)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn events_after(&self, cursor: Cursor, cap: u32) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM events \
             WHERE (txid, position) > ($1::text::xid8, $2) LIMIT $3) AS after",
        )
        .bind(cursor.txid.to_string())
        .bind(cursor.position)
        .bind(i64::from(cap))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn try_relay_lock(&self) -> Result<Option<RelayLock>, StoreError> {
        // A session lock on a connection of its own: it goes when the process does.
        let mut conn = self.pool.acquire().await?.detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(RELAY_LOCK_KEY)
            .fetch_one(&mut conn)
            .await?;
        if locked {
            Ok(Some(RelayLock(Box::new(std::sync::Mutex::new(conn)))))
        } else {
            let _ = sqlx::Connection::close(conn).await;
            Ok(None)
        }
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, tenant, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(key.tenant.as_ref().map(|t| t.as_str()))
        .bind(&key.secret_hash)
        .bind(key.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row: Option<ApiKeyRow> = sqlx::query_as(
            "SELECT id, name, tenant, secret_hash, created_at, revoked_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ApiKeyRow::record).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(
            "SELECT id, name, tenant, secret_hash, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ApiKeyRow::record).collect()
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(at)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(done == 1)
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
             VALUES ($1, $2, $3, now()) ON CONFLICT (owner) DO NOTHING",
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

    async fn record_token_reads(&self, reads: &[TokenReads]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for r in reads {
            sqlx::query(
                "INSERT INTO token_reads (actor, connection_id, minute, reads) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (connection_id, minute, actor) DO UPDATE SET reads = token_reads.reads + EXCLUDED.reads",
            )
            .bind(&r.actor)
            .bind(r.connection.as_uuid())
            .bind(r.minute)
            .bind(i64::try_from(r.reads).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn token_reads(
        &self,
        connection: ConnectionId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TokenReads>, StoreError> {
        let rows: Vec<(String, DateTime<Utc>, i64)> = sqlx::query_as(
            "SELECT actor, minute, reads FROM token_reads WHERE connection_id = $1 AND minute >= $2 \
             ORDER BY minute, actor LIMIT $3",
        )
        .bind(connection.as_uuid())
        .bind(since)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(actor, minute, reads)| TokenReads {
                actor,
                connection,
                minute,
                reads: u64::try_from(reads).unwrap_or_default(),
            })
            .collect())
    }

    async fn projection_rows(&self, kind: StreamKind) -> Result<Vec<(String, String)>, StoreError> {
        let (table, prefix) = match kind {
            StreamKind::Connection => ("connections", "connection"),
            StreamKind::Integration => ("integrations", "integration"),
        };
        let rows: Vec<(String, String)> =
            sqlx::query_as(&format!("SELECT id::text, state FROM {table} ORDER BY id"))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, state)| (format!("{prefix}-{id}"), state))
            .collect())
    }

    async fn replace_projections(
        &self,
        replayed: &Replayed,
        last_position: i64,
    ) -> Result<(), StoreError> {
        let mut tx = PgAppend(self.pool.begin().await?, false);
        // Appends take ROW EXCLUSIVE on events; this waits for them and holds new ones off.
        sqlx::query("LOCK TABLE events IN SHARE MODE")
            .execute(&mut *tx.0)
            .await?;
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
        // A thousand rows a statement: the swap holds appends off while it runs.
        let states: Vec<&connection::State> = replayed.connections.values().collect();
        let sql = upsert_connections(&unnest_connections(1));
        for chunk in states.chunks(1000) {
            let rows = chunk
                .iter()
                .map(|s| ConnectionRow::of(s))
                .collect::<Result<Vec<_>, _>>()?;
            let arrays = ConnectionArrays::of(chunk.iter().copied().zip(&rows));
            bind_connection_arrays!(sqlx::query(&sql), arrays)
                .execute(&mut *tx.0)
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

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// One append written on its own, not yet announced to the hooks.
async fn append_alone(
    pool: &PgPool,
    stream: StreamId,
    expected_version: u64,
    events: &[DomainEvent],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    if events.len() == 1 {
        // One event needs no transaction: the head is read, then one statement writes the
        // event, the projection and the notification, or nothing. A writer that appended in
        // between holds the stream version, so the statement fails on its unique key and the
        // append is a conflict; the projection read with the head is still the stream's.
        let mut direct = PgAppend(pool.acquire().await?, false);
        let recorded = append_in(&mut direct, stream, expected_version, events, context).await?;
        direct.notify(stream).await?;
        return Ok(recorded);
    }
    let mut tx = PgAppend(pool.begin().await?, false);
    let recorded = append_in(&mut tx, stream, expected_version, events, context).await?;
    tx.notify(stream).await?;
    tx.0.commit().await?;
    Ok(recorded)
}

/// An append on Postgres (in a transaction, or a single statement on a pooled connection), and
/// whether it already notified listeners.
struct PgAppend<C>(C, bool);

impl<C: std::ops::DerefMut<Target = sqlx::PgConnection>> PgAppend<C> {
    /// Tells other replicas (`LISTEN`) which stream changed, unless the write did. In a
    /// transaction it is delivered on commit, never for a rolled-back append.
    async fn notify(&mut self, stream: StreamId) -> Result<(), StoreError> {
        if !self.1 {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(stream.to_string())
                .execute(&mut *self.0)
                .await?;
            self.1 = true;
        }
        Ok(())
    }
}

const INSERT_EVENT: &str = "INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, \
     event_type, schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// Binds an [`EventRow`] to `$1`–`$13` of [`INSERT_EVENT`].
macro_rules! bind_event {
    ($query:expr, $row:expr) => {{
        let row = $row;
        let e = row.event;
        $query
            .bind(e.event_id)
            .bind(row.stream_id)
            .bind(row.stream.kind().as_str())
            .bind(e.version as i64)
            .bind(row.tenant)
            .bind(e.event_type)
            .bind(e.schema_version as i32)
            .bind(row.occurred_at)
            .bind(&row.context.actor)
            .bind(&row.context.correlation_id)
            .bind(&e.payload)
            .bind(&e.prev_hash)
            .bind(&e.hash)
    }};
}

/// The projection upsert of a connection, its parameters numbered from `$first`.
fn upsert_connection(first: usize) -> String {
    let p: Vec<String> = (first..first + 13).map(|i| format!("${i}")).collect();
    upsert_connections(&format!("VALUES ({})", p.join(", ")))
}

/// The projection upsert of the connections `source` yields (`VALUES …` or `SELECT …`), in the
/// column order of [`bind_connection!`].
fn upsert_connections(source: &str) -> String {
    format!(
        "INSERT INTO connections \
         (id, integration_id, tenant, status, version, expires_at, updated_at, state, \
         pending_state, refresh_at, labels, provider_account_id, validated_at) \
         {source} \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, \
         version = EXCLUDED.version, expires_at = EXCLUDED.expires_at, \
         updated_at = EXCLUDED.updated_at, state = EXCLUDED.state, \
         pending_state = EXCLUDED.pending_state, refresh_at = EXCLUDED.refresh_at, \
         labels = EXCLUDED.labels, provider_account_id = EXCLUDED.provider_account_id, \
         validated_at = EXCLUDED.validated_at"
    )
}

/// The projection upsert of an integration, its parameters numbered from `$first`.
fn upsert_integration(first: usize) -> String {
    let p: Vec<String> = (first..first + 6).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO integrations (id, name, deleted, version, updated_at, state) \
         VALUES ({}) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, \
         deleted = EXCLUDED.deleted, version = EXCLUDED.version, \
         updated_at = EXCLUDED.updated_at, state = EXCLUDED.state",
        p.join(", ")
    )
}

/// The values of [`upsert_connection`], serialized first (the binds borrow them).
struct ConnectionRow {
    version: i64,
    state: String,
    labels: String,
}

impl ConnectionRow {
    fn of(s: &connection::State) -> Result<Self, StoreError> {
        Ok(Self {
            version: from_version(s.version)?,
            state: to_json(s)?,
            labels: to_json(&s.profile.labels)?,
        })
    }
}

macro_rules! bind_connection {
    ($query:expr, $s:expr, $row:expr) => {{
        let (s, row) = ($s, $row);
        $query
            .bind(s.id.as_uuid())
            .bind(s.integration_id.as_uuid())
            .bind(s.tenant.as_str())
            .bind(s.status.as_str())
            .bind(row.version)
            .bind(s.expires_at)
            .bind(s.updated_at)
            .bind(&row.state)
            .bind(
                s.pending_authorization
                    .as_ref()
                    .map(|p| p.state_digest.as_str()),
            )
            .bind(s.refresh_at)
            .bind(&row.labels)
            .bind(s.provider_account_id.as_deref())
            .bind(s.last_validation.as_ref().map(|v| v.at))
    }};
}

/// The rows [`bind_connection_arrays!`] binds as arrays, parameters numbered from `$first`: the
/// source of [`upsert_connections`] for many connections in one statement.
fn unnest_connections(first: usize) -> String {
    let types = [
        "uuid",
        "uuid",
        "text",
        "text",
        "int8",
        "timestamptz",
        "timestamptz",
        "text",
        "text",
        "timestamptz",
        "text",
        "text",
        "timestamptz",
    ];
    let columns: Vec<String> = (first..)
        .zip(types)
        .map(|(i, t)| format!("${i}::{t}[]"))
        .collect();
    format!("SELECT * FROM unnest({})", columns.join(", "))
}

/// The values of [`upsert_connection`], a column each, for [`unnest_connections`].
#[derive(Default)]
struct ConnectionArrays<'a> {
    id: Vec<uuid::Uuid>,
    integration_id: Vec<uuid::Uuid>,
    tenant: Vec<&'a str>,
    status: Vec<&'a str>,
    version: Vec<i64>,
    expires_at: Vec<Option<DateTime<Utc>>>,
    updated_at: Vec<DateTime<Utc>>,
    state: Vec<&'a str>,
    pending_state: Vec<Option<&'a str>>,
    refresh_at: Vec<Option<DateTime<Utc>>>,
    labels: Vec<&'a str>,
    provider_account_id: Vec<Option<&'a str>>,
    validated_at: Vec<Option<DateTime<Utc>>>,
}

impl<'a> ConnectionArrays<'a> {
    fn of(items: impl IntoIterator<Item = (&'a connection::State, &'a ConnectionRow)>) -> Self {
        let mut a = Self::default();
        for (s, row) in items {
            a.id.push(*s.id.as_uuid());
            a.integration_id.push(*s.integration_id.as_uuid());
            a.tenant.push(s.tenant.as_str());
            a.status.push(s.status.as_str());
            a.version.push(row.version);
            a.expires_at.push(s.expires_at);
            a.updated_at.push(s.updated_at);
            a.state.push(&row.state);
            let pending = s.pending_authorization.as_ref();
            a.pending_state
                .push(pending.map(|p| p.state_digest.as_str()));
            a.refresh_at.push(s.refresh_at);
            a.labels.push(&row.labels);
            a.provider_account_id.push(s.provider_account_id.as_deref());
            a.validated_at
                .push(s.last_validation.as_ref().map(|v| v.at));
        }
        a
    }
}

/// Binds [`ConnectionArrays`] in the order of [`unnest_connections`].
macro_rules! bind_connection_arrays {
    ($query:expr, $arrays:expr) => {{
        let a = $arrays;
        $query
            .bind(a.id)
            .bind(a.integration_id)
            .bind(a.tenant)
            .bind(a.status)
            .bind(a.version)
            .bind(a.expires_at)
            .bind(a.updated_at)
            .bind(a.state)
            .bind(a.pending_state)
            .bind(a.refresh_at)
            .bind(a.labels)
            .bind(a.provider_account_id)
            .bind(a.validated_at)
    }};
}
use bind_connection_arrays;

macro_rules! bind_integration {
    ($query:expr, $s:expr, $version:expr, $state:expr) => {{
        let s = $s;
        $query
            .bind(s.id.as_uuid())
            .bind(s.config.name.as_str())
            .bind(s.deleted)
            .bind($version)
            .bind(s.updated_at)
            .bind($state)
    }};
}

#[async_trait]
impl<C> AppendTx for PgAppend<C>
where
    C: std::ops::DerefMut<Target = sqlx::PgConnection> + Send,
{
    async fn last_event(&mut self, stream_id: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT version, hash FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(stream_id)
        .fetch_optional(&mut *self.0)
        .await?)
    }

    async fn load_projection(&mut self, stream: StreamId) -> Result<Projection, StoreError> {
        let json: Option<String> = match stream {
            StreamId::Integration(id) => {
                sqlx::query_scalar("SELECT state FROM integrations WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *self.0)
                    .await?
            }
            StreamId::Connection(id) => {
                sqlx::query_scalar("SELECT state FROM connections WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *self.0)
                    .await?
            }
        };
        parse_projection(stream.kind(), json.as_deref())
    }

    async fn insert_event(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error> {
        let sql = format!("{INSERT_EVENT} RETURNING position");
        bind_event!(sqlx::query_scalar(&sql), row)
            .fetch_one(&mut *self.0)
            .await
    }

    async fn save_projection(&mut self, projection: &Projection) -> Result<(), StoreError> {
        match projection {
            Projection::Integration(Some(s)) => {
                let (version, state) = (from_version(s.version)?, to_json(s)?);
                let sql = upsert_integration(1);
                bind_integration!(sqlx::query(&sql), s, version, &state)
                    .execute(&mut *self.0)
                    .await
                    .map_err(|e| duplicate_name(e, s.config.name.as_str()))?;
            }
            Projection::Connection(Some(s)) => {
                let row = ConnectionRow::of(s)?;
                let sql = upsert_connection(1);
                bind_connection!(sqlx::query(&sql), s, &row)
                    .execute(&mut *self.0)
                    .await?;
            }
            Projection::Integration(None) | Projection::Connection(None) => {}
        }
        Ok(())
    }

    /// The last event and the projection in one round trip.
    async fn head(
        &mut self,
        stream: StreamId,
        stream_id: &str,
    ) -> Result<(Option<(i64, Vec<u8>)>, Projection), StoreError> {
        let (table, id) = match stream {
            StreamId::Integration(id) => ("integrations", *id.as_uuid()),
            StreamId::Connection(id) => ("connections", *id.as_uuid()),
        };
        let (version, hash, state): (Option<i64>, Option<Vec<u8>>, Option<String>) =
            sqlx::query_as(&format!(
                "SELECT last.version, last.hash, (SELECT state FROM {table} WHERE id = $2) \
                 FROM (SELECT 1) AS one LEFT JOIN LATERAL \
                 (SELECT version, hash FROM events WHERE stream_id = $1 \
                  ORDER BY version DESC LIMIT 1) AS last ON true"
            ))
            .bind(stream_id)
            .bind(id)
            .fetch_one(&mut *self.0)
            .await?;
        let projection = parse_projection(stream.kind(), state.as_deref())?;
        Ok((version.zip(hash), projection))
    }

    /// The event, the projection and the notification in one statement.
    async fn write_one(
        &mut self,
        row: &EventRow<'_>,
        projection: &Projection,
    ) -> Result<Option<i64>, sqlx::Error> {
        let encode = |e: StoreError| sqlx::Error::Encode(Box::new(e));
        // $1–$13 the event, $14–$15 the notification, $16… the projection.
        let statement = |upsert: String| {
            format!(
                "WITH e AS ({INSERT_EVENT} RETURNING position), p AS ({upsert}), \
                 n AS (SELECT pg_notify($14, $15)) SELECT e.position FROM e, n"
            )
        };
        let position = match projection {
            Projection::Connection(Some(s)) => {
                let values = ConnectionRow::of(s).map_err(encode)?;
                let sql = statement(upsert_connection(16));
                let query = bind_event!(sqlx::query_scalar(&sql), row)
                    .bind(NOTIFY_CHANNEL)
                    .bind(row.stream_id);
                bind_connection!(query, s, &values)
                    .fetch_one(&mut *self.0)
                    .await?
            }
            Projection::Integration(Some(s)) => {
                let version = from_version(s.version).map_err(encode)?;
                let state = to_json(s).map_err(encode)?;
                let sql = statement(upsert_integration(16));
                let query = bind_event!(sqlx::query_scalar(&sql), row)
                    .bind(NOTIFY_CHANNEL)
                    .bind(row.stream_id);
                bind_integration!(query, s, version, &state)
                    .fetch_one(&mut *self.0)
                    .await?
            }
            Projection::Integration(None) | Projection::Connection(None) => return Ok(None),
        };
        self.1 = true;
        Ok(Some(position))
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    name: String,
    tenant: Option<String>,
    secret_hash: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRow {
    fn record(self) -> Result<ApiKeyRecord, StoreError> {
        Ok(ApiKeyRecord {
            id: self.id,
            name: self.name,
            tenant: parse_tenant(self.tenant)?,
            secret_hash: self.secret_hash,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}
