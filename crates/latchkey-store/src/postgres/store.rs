//! The Postgres store: connecting, the schema, and what it supplies to the shared roles.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use latchkey_domain::{ConnectionId, StreamId, SystemStream};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::system::{self, SystemTx};
use super::write::{
    ConnectionArrays, ConnectionRow, PgAppend, append_alone, bind_connection_arrays,
    unnest_connections, upsert_connections,
};
use super::{listen, queries};
use crate::append::AppendTx;
use crate::roles::{Append, Backend, ConnectionRead, replayed_whole};
use crate::{
    Appended, ConnectionFilter, EventStore, HearingTask, Page, Projection, RecordedEvent, Replayed,
    StoreError, TokenReads, clamp_limit, to_json,
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
    pub(super) pool: PgPool,
    /// Positions per partition of the log created from now on (the database's setting if none).
    pub(super) partition_size: Option<i64>,
    pub(super) appended: crate::Appended,
    group: super::group::GroupCommit,
    pub(super) known: super::heads::KnownHeads,
    reads: super::reads::ConnectionReads,
}

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
        // One session first, to say why the database cannot be reached (the pool would retry
        // until its acquire timeout and answer only "pool timed out").
        probe(&options).await?;
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
                    if crate::sessions::check_before_use(meta.idle_for) {
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
        let appended = crate::Appended::new(false, true);
        let known = super::heads::KnownHeads::default();
        Self {
            group: super::group::GroupCommit::new(pool.clone(), appended.clone(), known.clone()),
            known,
            reads: super::reads::ConnectionReads::new(pool.clone()),
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
        super::archive::ensure_partitions(&self.pool, self.partition_size).await
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Backend for PgStore {
    type Db = PgPool;
    type SystemTx = SystemTx;

    const DUE_FOR_VALIDATION: &'static str = queries::DUE_FOR_VALIDATION;
    const ERROR_CODE: &'static str = "state::jsonb -> 'last_error' ->> 'code'";
    const RELAXED_COMMIT: &'static str =
        "(SELECT set_config('synchronous_commit', 'off', true) AS relaxed)";

    fn db(&self) -> &PgPool {
        &self.pool
    }

    fn signals(&self) -> &Appended {
        &self.appended
    }

    async fn append_events(&self, append: Append<'_>) -> Result<Vec<RecordedEvent>, StoreError> {
        let Append {
            stream,
            expected_version,
            mut events,
            context,
            seen,
        } = append;
        if let (1, StreamId::Connection(_)) = (events.len(), stream)
            && let Some(event) = events.pop()
        {
            // Refreshes, validations, expiries: committed together with the ones that overlap.
            return self
                .group
                .append(stream, expected_version, event, context, seen.cloned())
                .await;
        }
        let (pool, known) = (&self.pool, &self.known);
        let recorded = append_alone(
            pool,
            known,
            stream,
            expected_version,
            &events,
            context,
            seen,
        )
        .await?;
        self.appended.committed(stream);
        Ok(recorded)
    }

    async fn begin_system(&self, stream: SystemStream) -> Result<SystemTx, StoreError> {
        system::begin(&self.pool, stream).await
    }

    async fn commit_system(tx: SystemTx, stream: SystemStream) -> Result<(), StoreError> {
        system::commit(tx, stream).await
    }

    async fn add_token_reads(tx: &mut SystemTx, reads: &[TokenReads]) -> Result<(), StoreError> {
        system::add_token_reads(tx, reads).await
    }

    async fn read_connection(
        &self,
        id: ConnectionId,
        owner: Option<&str>,
    ) -> Result<ConnectionRead, StoreError> {
        self.reads.read(*id.as_uuid(), owner).await
    }

    async fn connection_page(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<String>, StoreError> {
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
            failing: filter.failing,
            failing_before: filter.failing_since_before.is_some(),
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
        if let Some(before) = filter.failing_since_before {
            query = query.bind(before);
        }
        Ok(query
            .bind(clamp_limit(page.limit))
            .fetch_all(&self.pool)
            .await?)
    }

    async fn swap_projections(&self, replayed: &Replayed, last: i64) -> Result<(), StoreError> {
        let mut tx = PgAppend::new(self.pool.begin().await?);
        // Appends take ROW EXCLUSIVE on events; this waits for them and holds new ones off.
        sqlx::query("LOCK TABLE events IN SHARE MODE")
            .execute(&mut *tx.conn)
            .await?;
        let found = sqlx::query_as("SELECT count(*), max(position) FROM events")
            .fetch_one(&mut *tx.conn)
            .await?;
        replayed_whole(replayed, last, found)?;
        for table in ["connections", "connection_schedule", "integrations"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx.conn)
                .await?;
        }
        for state in replayed.integrations.values() {
            tx.save_projection(&Projection::Integration(Some(state.clone())))
                .await?;
        }
        // A thousand rows a statement: the swap holds appends off while it runs.
        let states: Vec<&latchkey_domain::connection::State> =
            replayed.connections.values().collect();
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

    fn hear_others(&self) -> Option<HearingTask> {
        Some(Box::pin(listen::listen(
            self.pool.clone(),
            self.appended.clone(),
        )))
    }
}

#[async_trait]
impl crate::Archive for PgStore {
    async fn maintain_event_log(&self) -> Result<(), StoreError> {
        super::archive::ensure_partitions(&self.pool, self.partition_size).await
    }

    async fn archive_state(&self) -> Result<crate::ArchiveState, StoreError> {
        super::archive::state(&self.pool).await
    }

    async fn archive_oldest_events(
        &self,
        sink: &mut dyn crate::ArchiveSink,
    ) -> Result<Option<crate::ArchivedPart>, StoreError> {
        super::archive::archive_oldest(&self.pool, sink).await
    }
}

#[async_trait]
impl EventStore for PgStore {
    async fn close(&self) {
        self.pool.close().await;
    }

    fn pool_usage(&self) -> crate::PoolUsage {
        crate::PoolUsage {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn schema_current(&self) -> Result<(), StoreError> {
        self.check_schema().await
    }
}

/// How long the first session may take before the database is said not to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens and closes one session; a failure as [`StoreError::Unreachable`] with its cause.
async fn probe(options: &PgConnectOptions) -> Result<(), StoreError> {
    use sqlx::{ConnectOptions as _, Connection as _};
    let place = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
        Ok(Ok(session)) => {
            let _ = session.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(unreachable(&place, error)),
        Err(_) => Err(StoreError::Unreachable {
            cause: "no answer",
            detail: format!("{place} did not answer within {}s", PROBE_TIMEOUT.as_secs()),
        }),
    }
}

/// The cause of a failed first session, in the words an operator looks for.
fn unreachable(place: &str, error: sqlx::Error) -> StoreError {
    let cause = match &error {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused"
        }
        sqlx::Error::Io(io) if io.to_string().contains("lookup address") => {
            "host name not resolved"
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => "no answer",
        sqlx::Error::Tls(_) => "TLS failed",
        sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("28P01" | "28000")) => {
            "authentication failed"
        }
        sqlx::Error::Database(e) if e.code().as_deref() == Some("3D000") => {
            "database does not exist"
        }
        // Anything else (a schema error, say) is the database's own word.
        _ => return StoreError::from(error),
    };
    StoreError::Unreachable {
        cause,
        detail: format!("{place}: {error}"),
    }
}
