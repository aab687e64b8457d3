//! The relay's side on SQLite: one writer at a time (`BEGIN IMMEDIATE`), so commit order is
//! position order and each lease change is one statement or one transaction.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::SqliteStore;
use crate::roles::checkpoint;
use crate::sql::{Columns, Db, args, stored_count};
use crate::{Cursor, EventLog, RecordedEvent, RelayCursor, StoreError};

fn until(ttl: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX)
}

#[async_trait]
impl RelayCursor for SqliteStore {
    async fn read_committed(
        &self,
        after: Cursor,
        limit: u32,
    ) -> Result<Vec<(Cursor, RecordedEvent)>, StoreError> {
        // One writer at a time (BEGIN IMMEDIATE): commit order is position order.
        let events = self
            .read_all(after.position.saturating_add(1), limit)
            .await?;
        Ok(events
            .into_iter()
            .map(|e| {
                let cursor = Cursor {
                    txid: 0,
                    position: e.position,
                };
                (cursor, e)
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
        checkpoint(&self.pool, name).await
    }

    async fn save_relay_checkpoint(
        &self,
        name: &str,
        cursor: Cursor,
        fence: u64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT fence FROM relay_leases WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if current != Some(stored_count(fence)) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO relay_checkpoints (name, txid, position, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET \
             txid = excluded.txid, position = excluded.position, updated_at = excluded.updated_at \
             WHERE relay_checkpoints.position <= excluded.position",
        )
        .bind(name)
        .bind(stored_count(cursor.txid))
        .bind(cursor.position)
        .bind(super::db::time_text(Utc::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn events_after(&self, cursor: Cursor, cap: u32) -> Result<u64, StoreError> {
        let sql = "SELECT count(*) FROM (SELECT 1 FROM events WHERE position > $1 LIMIT $2)";
        let args = args![cursor.position, i64::from(cap)];
        let count = self.pool.row(sql, args).await?.map(|row| row.int(0));
        Ok(u64::try_from(count.transpose()?.unwrap_or(0)).unwrap_or_default())
    }

    async fn acquire_relay_lease(
        &self,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let sql = "INSERT INTO relay_leases (name, owner, fence, expires_at) \
             VALUES ($1, $2, 1, $3) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, \
             fence = relay_leases.fence + 1, expires_at = excluded.expires_at \
             WHERE relay_leases.expires_at < $4 RETURNING fence";
        let args = args![name, owner, until(ttl), Utc::now()];
        let fence = self.pool.row(sql, args).await?.map(|row| row.int(0));
        Ok(fence
            .transpose()?
            .map(|f| u64::try_from(f).unwrap_or_default()))
    }

    async fn renew_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE relay_leases SET expires_at = $4 \
             WHERE name = $1 AND owner = $2 AND fence = $3";
        let args = args![name, owner, stored_count(fence), until(ttl)];
        Ok(self.pool.run(sql, args).await? == 1)
    }

    async fn release_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE relay_leases SET expires_at = $4 \
             WHERE name = $1 AND owner = $2 AND fence = $3";
        let past = Utc::now() - chrono::Duration::seconds(1);
        let args = args![name, owner, stored_count(fence), past];
        self.pool.run(sql, args).await?;
        Ok(())
    }
}
