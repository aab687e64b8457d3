//! The production adapter: Postgres, with migrations from `migrations/postgres`.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{
    ConnectionId, DomainEvent, IntegrationId, StreamId, StreamKind, connection, integration,
};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use tokio::sync::Notify;

use crate::append::AppendTx;
use crate::{
    ApiKeyRecord, Claim, ConnectionFilter, Cursor, EventContext, EventStore, Lease, Page,
    Projection, RecordedEvent, StoreError, WrappedKey, clamp_limit, parse_state, parse_stream_id,
    parse_tenant, to_json, to_version,
};
use crate::{Replayed, TokenReads};
use latchkey_domain::connection::refresh_token::Sent;

mod archive;
mod group;
mod heads;
mod leases;
mod listen;
mod queries;
mod reads;
mod relay;
mod system;
mod write;

use write::{
    ConnectionArrays, ConnectionRow, PgAppend, append_alone, bind_connection_arrays,
    unnest_connections, upsert_connections,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// What connecting does about the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// Apply pending migrations (needs a role that may change the schema).
    Apply,
    /// Only check that none is pending: for a DML-only or read-only role.
    Check,
}

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Positions per partition of the log created from now on (the database's setting if none).
    partition_size: Option<i64>,
    appended: crate::Appended,
    group: group::GroupCommit,
    known: heads::KnownHeads,
    reads: reads::ConnectionReads,
}

/// How long a pooled connection may sit idle before it is checked (a ping) on its next use.
const PING_WHEN_IDLE: Duration = Duration::from_secs(1);
/// After a statement failed as a lost session does (the database restarted, or killed it),
/// for this long every pooled connection is checked before use, so the others a restart broke
/// are replaced instead of failing a statement each.
const PING_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// When a statement last failed as a lost session does, in milliseconds since [`EPOCH`] (0:
/// never). One for the process: a restart breaks every pool's sessions alike.
static LAST_LOST_SESSION: AtomicU64 = AtomicU64::new(0);
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn since_epoch() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Notes an error that means the session is gone (IO, TLS or protocol failure; the server
/// shutting down or terminating the session; a connection exception).
pub(crate) fn note_failure(error: &sqlx::Error) {
    let lost = match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    };
    if lost {
        LAST_LOST_SESSION.store(since_epoch().max(1), Ordering::Relaxed);
    }
}

/// Whether a connection idle for `idle` is checked before use.
fn check_before_use(idle: Duration) -> bool {
    let failed = LAST_LOST_SESSION.load(Ordering::Relaxed);
    idle >= PING_WHEN_IDLE
        || (failed != 0
            && since_epoch().saturating_sub(failed) <= PING_AFTER_FAILURE.as_millis() as u64)
}

/// Other replicas hear of appends through this channel (`LISTEN latchkey_events`).
pub const NOTIFY_CHANNEL: &str = "latchkey_events";

const EVENT_COLUMNS: &str = "position, event_id, stream_id, version, tenant, event_type, \
     schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash";

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Self::connect_with(url, max_connections, Migrations::Apply, None).await
    }

    /// Connects, then applies pending migrations or only checks that none is pending (for a role
    /// that may not change the schema). `partition_size`: positions per partition of the log
    /// created from now on (else the database's setting).
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        migrations: Migrations,
        partition_size: Option<i64>,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("latchkey");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // A connection in steady use is not pinged before each use (sqlx's default, a round
            // trip as long as a primary-key read); one idle for a while is, since that is where a
            // restart or a dropped session hides, and so is every one for a while after a
            // statement failed as a lost session does (the others a restart broke are replaced
            // before use). Writes that must land are tried again (the refresh's commit).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if check_before_use(meta.idle_for) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        let mut store = Self::from_pool(pool);
        store.partition_size = partition_size;
        match migrations {
            Migrations::Apply => store.migrate().await?,
            Migrations::Check => store.check_schema().await?,
        }
        Ok(store)
    }

    /// Whether every migration this build knows has been applied, without changing anything.
    pub async fn check_schema(&self) -> Result<(), StoreError> {
        let wanted = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            match sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
            {
                Ok(version) => version,
                // No migration table: nothing was ever applied.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => None,
                Err(e) => return Err(e.into()),
            };
        match applied {
            Some(applied) if applied >= wanted => Ok(()),
            applied => Err(StoreError::SchemaBehind {
                applied: applied.unwrap_or(0),
                wanted,
            }),
        }
    }

    pub fn from_pool(pool: PgPool) -> Self {
        let appended = crate::Appended::new(false);
        let known = heads::KnownHeads::default();
        Self {
            group: group::GroupCommit::new(pool.clone(), appended.clone(), known.clone()),
            known,
            reads: reads::ConnectionReads::new(pool.clone()),
            partition_size: None,
            pool,
            appended,
        }
    }

    /// Sets the positions per partition of the log for partitions created from now on (the
    /// database keeps it): before [`PgStore::migrate`], it sizes the first ones too.
    pub fn with_event_partition_size(mut self, size: i64) -> Self {
        self.partition_size = Some(size);
        self
    }

    /// Applies pending migrations and creates the log's partitions ahead of it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        archive::ensure_partitions(&self.pool, self.partition_size).await
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
        let recorded = append_alone(
            &self.pool,
            &self.known,
            stream,
            expected_version,
            &events,
            context,
        )
        .await?;
        self.appended.committed(stream);
        Ok(recorded)
    }

    async fn read_stream(
        &self,
        stream: StreamId,
        from_version: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&queries::read_stream(EVENT_COLUMNS))
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
        let rows = sqlx::query(&queries::read_all(EVENT_COLUMNS))
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
        let json: Option<String> = sqlx::query_scalar(queries::INTEGRATION_BY_ID)
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
        let (json, _) = self.reads.read(*id.as_uuid(), None).await?;
        json.as_deref().map(parse_state).transpose()
    }

    async fn list_connections(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<connection::State>, StoreError> {
        let labels = if filter.labels.is_empty() {
            None
        } else {
            Some(to_json(&filter.labels)?)
        };
        let shape = queries::ListShape {
            tenant: filter.tenant.is_some(),
            integration: filter.integration_id.is_some(),
            status: filter.status.is_some(),
            after: page.after.is_some(),
            labels: labels.is_some(),
            account: filter.provider_account_id.is_some(),
        };
        let sql = queries::list_connections(shape);
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        if let Some(tenant) = &filter.tenant {
            query = query.bind(tenant.as_str());
        }
        if let Some(integration) = filter.integration_id {
            query = query.bind(*integration.as_uuid());
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
        }
        if let Some(after) = page.after {
            query = query.bind(after);
        }
        if let Some(labels) = labels {
            query = query.bind(labels);
        }
        if let Some(account) = &filter.provider_account_id {
            query = query.bind(account.as_str());
        }
        let rows = query
            .bind(clamp_limit(page.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|json| parse_state(json)).collect()
    }

    async fn connection_by_state(
        &self,
        state_digest: &str,
    ) -> Result<Option<connection::State>, StoreError> {
        let json: Option<String> = sqlx::query_scalar(queries::CONNECTION_BY_STATE)
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
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(queries::DUE_FOR_VALIDATION)
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
        let row: Option<ApiKeyRow> = sqlx::query_as(
            "SELECT id, name, tenant, secret_hash, created_at, revoked_at, role, expires_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ApiKeyRow::record).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(
            "SELECT id, name, tenant, secret_hash, created_at, revoked_at, role, expires_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ApiKeyRow::record).collect()
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

    async fn connection_and_data_key(
        &self,
        id: ConnectionId,
        owner: &str,
    ) -> Result<(Option<connection::State>, Option<WrappedKey>), StoreError> {
        let (state, key) = self.reads.read(*id.as_uuid(), Some(owner)).await?;
        Ok((state.as_deref().map(parse_state).transpose()?, key))
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
        let rows: Vec<(String, DateTime<Utc>, i64)> = sqlx::query_as(queries::TOKEN_READS)
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
        let prefix = match kind {
            StreamKind::Connection => "connection",
            StreamKind::Integration => "integration",
            StreamKind::System | StreamKind::Session => return Ok(Vec::new()),
        };
        let (columns, sql) = match kind {
            StreamKind::Connection => (
                &crate::columns::CONNECTION[..],
                "SELECT id::text, state, tenant, integration_id::text, status, version::text \
                 FROM connections ORDER BY id",
            ),
            _ => (
                &crate::columns::INTEGRATION[..],
                "SELECT id::text, state, name, CASE WHEN deleted THEN 'true' ELSE 'false' END, \
                 version::text, '' FROM integrations ORDER BY id",
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
        let mut tx = PgAppend::new(self.pool.begin().await?);
        // Appends take ROW EXCLUSIVE on events; this waits for them and holds new ones off.
        sqlx::query("LOCK TABLE events IN SHARE MODE")
            .execute(&mut *tx.conn)
            .await?;
        let (count, last): (i64, Option<i64>) =
            sqlx::query_as("SELECT count(*), max(position) FROM events")
                .fetch_one(&mut *tx.conn)
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
            .execute(&mut *tx.conn)
            .await?;
        sqlx::query("DELETE FROM connection_schedule")
            .execute(&mut *tx.conn)
            .await?;
        sqlx::query("DELETE FROM integrations")
            .execute(&mut *tx.conn)
            .await?;
        for state in replayed.integrations.values() {
            tx.save_projection(&Projection::Integration(Some(state.clone())))
                .await?;
        }
        // A thousand rows a statement: the swap holds appends off while it runs.
        let states: Vec<&connection::State> = replayed.connections.values().collect();
        let sql = format!(
            "WITH {} SELECT 1",
            upsert_connections(&unnest_connections(1))
        );
        for chunk in states.chunks(1000) {
            let rows = chunk
                .iter()
                .map(|s| ConnectionRow::of(s))
                .collect::<Result<Vec<_>, _>>()?;
            let arrays = ConnectionArrays::of(chunk.iter().copied().zip(&rows));
            bind_connection_arrays!(sqlx::query(&sql), arrays)
                .execute(&mut *tx.conn)
                .await?;
        }
        tx.conn.commit().await?;
        self.known.clear();
        Ok(())
    }

    async fn maintain_event_log(&self) -> Result<(), StoreError> {
        archive::ensure_partitions(&self.pool, self.partition_size).await
    }

    async fn archive_state(&self) -> Result<crate::ArchiveState, StoreError> {
        archive::state(&self.pool).await
    }

    async fn archive_oldest_events(
        &self,
        sink: &mut dyn crate::ArchiveSink,
    ) -> Result<Option<crate::ArchivedPart>, StoreError> {
        archive::archive_oldest(&self.pool, sink).await
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
        self.appended.heard()
    }

    fn hear_other_replicas(&self) -> Option<crate::HearingTask> {
        Some(Box::pin(listen::listen(
            self.pool.clone(),
            self.appended.clone(),
        )))
    }

    async fn close(&self) {
        self.pool.close().await;
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
    role: String,
    expires_at: Option<DateTime<Utc>>,
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
            role: self.role,
            expires_at: self.expires_at,
        })
    }
}
