//! The relay's side on Postgres: the log in commit order (by transaction id, up to the oldest
//! transaction still running), and the relay's lease and checkpoint. Times are the database's, so
//! replicas whose clocks disagree still agree on when a lease runs out.

use std::time::Duration;

use async_trait::async_trait;

use super::store::PgStore;
use crate::roles::{EVENT_COLUMNS, checkpoint, event_from};
use crate::sql::{Columns, Db, args, stored_count};
use crate::{Cursor, RecordedEvent, RelayCursor, StoreError, clamp_limit};

fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

fn txid(text: &str) -> Result<u64, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("transaction id {text:?}")))
}

#[async_trait]
impl RelayCursor for PgStore {
    async fn read_committed(
        &self,
        after: Cursor,
        limit: u32,
    ) -> Result<Vec<(Cursor, RecordedEvent)>, StoreError> {
        let sql = format!(
            "SELECT txid::text AS txid_text, {EVENT_COLUMNS} FROM events \
             WHERE (txid, position) > ($1::text::xid8, $2) \
               AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY txid, position LIMIT $3"
        );
        let args = args![after.txid.to_string(), after.position, clamp_limit(limit)];
        let rows = self.pool.rows(&sql, args).await?;
        rows.iter()
            .map(|row| {
                let event = event_from(row, 1)?;
                let cursor = Cursor {
                    txid: txid(&row.text(0)?)?,
                    position: event.position,
                };
                Ok((cursor, event))
            })
            .collect()
    }

    async fn cursor_for_position(&self, position: i64) -> Result<Cursor, StoreError> {
        let sql = "SELECT txid::text FROM events WHERE position >= $1 ORDER BY txid LIMIT 1";
        let first = match self.pool.row(sql, args![position]).await? {
            Some(row) => row.text(0)?,
            // Nothing there yet: whatever comes is from a transaction at or past the horizon.
            None => {
                sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        // Just before every event of that transaction.
        Ok(Cursor {
            txid: txid(&first)?,
            position: i64::MIN,
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
        let mut tx = self.pool.begin().await?;
        // The lease row is held for the write: a takeover waits for it, or this sees its new
        // fence.
        let current: Option<i64> =
            sqlx::query_scalar("SELECT fence FROM relay_leases WHERE name = $1 FOR SHARE")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if current != i64::try_from(fence).ok() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO relay_checkpoints (name, txid, position, updated_at) \
             VALUES ($1, $2, $3, now()) ON CONFLICT (name) DO UPDATE SET \
             txid = EXCLUDED.txid, position = EXCLUDED.position, updated_at = now() \
             WHERE (relay_checkpoints.txid, relay_checkpoints.position) \
                <= (EXCLUDED.txid, EXCLUDED.position)",
        )
        .bind(name)
        .bind(stored_count(cursor.txid))
        .bind(cursor.position)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn events_after(&self, cursor: Cursor, cap: u32) -> Result<u64, StoreError> {
        let sql = "SELECT count(*) FROM (SELECT 1 FROM events \
             WHERE (txid, position) > ($1::text::xid8, $2) LIMIT $3) AS after";
        let args = args![cursor.txid.to_string(), cursor.position, i64::from(cap)];
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
             VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond') \
             ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, \
             fence = relay_leases.fence + 1, expires_at = EXCLUDED.expires_at \
             WHERE relay_leases.expires_at < now() RETURNING fence";
        let row = self.pool.row(sql, args![name, owner, millis(ttl)]).await?;
        let fence = row.map(|row| row.int(0)).transpose()?;
        Ok(fence.map(|f| u64::try_from(f).unwrap_or_default()))
    }

    async fn renew_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE relay_leases SET expires_at = now() + $4 * interval '1 millisecond' \
             WHERE name = $1 AND owner = $2 AND fence = $3";
        let args = args![name, owner, stored_count(fence), millis(ttl)];
        Ok(self.pool.run(sql, args).await? == 1)
    }

    async fn release_relay_lease(
        &self,
        name: &str,
        owner: &str,
        fence: u64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE relay_leases SET expires_at = now() - interval '1 second' \
             WHERE name = $1 AND owner = $2 AND fence = $3";
        self.pool
            .run(sql, args![name, owner, stored_count(fence)])
            .await?;
        Ok(())
    }
}
