//! The SQLite store: opening the file, and what it supplies to the shared roles.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use latchkey_domain::{ConnectionId, SystemStream};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::append::SqliteAppend;
use crate::append::{AppendTx, append_in};
use crate::roles::{Append, Backend, ConnectionRead, claim_in, replayed_whole};
use crate::sql::{Columns, Db, Tx, args, stored_count};
use crate::{
    Appended, ConnectionFilter, DataKeys, EventStore, Page, Projection, RecordedEvent, Replayed,
    StoreError, TokenReads, clamp_limit,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    appended: Appended,
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
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let store = Self {
            pool,
            appended: Appended::new(true, false),
        };
        MIGRATOR.run(&store.pool).await?;
        Ok(store)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin(&self) -> Result<SqliteAppend, StoreError> {
        Ok(SqliteAppend(self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }
}

/// The `WHERE` of a page of connections: each filter bound even when absent (one writer, no
/// planner to please), the labels as JSON paths. `None`: a label key no connection can have.
fn page_conditions(filter: &ConnectionFilter) -> Option<String> {
    let mut sql = "WHERE ($1 IS NULL OR tenant = $1) AND ($2 IS NULL OR integration_id = $2) \
         AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id > $4) \
         AND ($6 IS NULL OR provider_account_id = $6) \
         AND ($7 IS NULL OR (failing_since IS NOT NULL \
           AND status NOT IN ('revoked', 'deleted')) = $7) \
         AND ($8 IS NULL OR failing_since < $8)"
        .to_owned();
    // Label keys are restricted to `a-z 0-9 _ - . /` by the domain, so they are safe inside a
    // quoted JSON path; the values are bound.
    for (i, key) in filter.labels.keys().enumerate() {
        let safe = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-./".contains(&b);
        if !key.bytes().all(safe) {
            return None;
        }
        sql.push_str(&format!(
            " AND json_extract(labels, '$.\"{key}\"') = ${}",
            i + 9
        ));
    }
    Some(sql)
}

#[async_trait]
impl Backend for SqliteStore {
    type Db = SqlitePool;
    type SystemTx = SqliteAppend;

    const ERROR_CODE: &'static str = "json_extract(state, '$.last_error.code')";
    const DUE_FOR_VALIDATION: &'static str = "SELECT id FROM connections \
         WHERE integration_id = $1 AND status = 'active' \
           AND (validated_at IS NULL OR validated_at <= $2) \
         ORDER BY validated_at NULLS FIRST LIMIT $3";
    const RELAXED_COMMIT: &'static str = "(SELECT 1 AS relaxed)";

    fn db(&self) -> &SqlitePool {
        &self.pool
    }

    fn signals(&self) -> &Appended {
        &self.appended
    }

    async fn append_events(&self, append: Append<'_>) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut tx = self.begin().await?;
        if let Some(seen) = append.seen {
            claim_in(&mut tx, seen).await?;
        }
        let (stream, version) = (append.stream, append.expected_version);
        let recorded = append_in(&mut tx, stream, version, &append.events, append.context).await?;
        tx.0.commit().await?;
        self.appended.committed(stream);
        Ok(recorded)
    }

    async fn begin_system(&self, _stream: SystemStream) -> Result<SqliteAppend, StoreError> {
        // The write lock orders every writer.
        self.begin().await
    }

    async fn commit_system(tx: SqliteAppend, _stream: SystemStream) -> Result<(), StoreError> {
        Ok(tx.0.commit().await?)
    }

    async fn add_token_reads(
        tx: &mut SqliteAppend,
        reads: &[TokenReads],
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO token_reads (actor, connection_id, minute, reads) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (connection_id, minute, actor) \
             DO UPDATE SET reads = token_reads.reads + excluded.reads";
        for r in reads {
            let args = args![&r.actor, r.connection, r.minute, stored_count(r.reads)];
            tx.tx_run(sql, args).await?;
        }
        Ok(())
    }

    async fn read_connection(
        &self,
        id: ConnectionId,
        owner: Option<&str>,
    ) -> Result<ConnectionRead, StoreError> {
        let sql = "SELECT state FROM connections WHERE id = $1";
        let state = self.pool.row(sql, args![id]).await?;
        let key = match owner {
            Some(owner) => self.data_key(owner).await?,
            None => None,
        };
        Ok((state.map(|row| row.text(0)).transpose()?, key))
    }

    async fn connection_page(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<String>, StoreError> {
        let Some(conditions) = page_conditions(filter) else {
            return Ok(Vec::new());
        };
        let sql = format!("SELECT state FROM connections {conditions} ORDER BY id LIMIT $5");
        let mut args = args![
            filter.tenant.as_ref().map(|t| t.as_str()),
            filter.integration_id.map(|i| *i.as_uuid()),
            filter.status.map(|s| s.as_str()),
            page.after,
            clamp_limit(page.limit),
            filter.provider_account_id.clone(),
            crate::sql::Arg::Int(filter.failing.map(i64::from)),
            filter.failing_since_before,
        ];
        args.extend(filter.labels.values().map(crate::sql::Arg::from));
        let rows = self.pool.rows(&sql, args).await?;
        rows.iter().map(|row| row.text(0)).collect()
    }

    async fn swap_projections(&self, replayed: &Replayed, last: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let found = sqlx::query_as("SELECT count(*), max(position) FROM events")
            .fetch_one(&mut *tx.0)
            .await?;
        replayed_whole(replayed, last, found)?;
        tx.tx_run("DELETE FROM connections", args![]).await?;
        tx.tx_run("DELETE FROM integrations", args![]).await?;
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
}

/// The embedded log is one file, not partitioned: nothing to archive (the defaults say so).
impl crate::Archive for SqliteStore {}

#[async_trait]
impl EventStore for SqliteStore {
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
}
