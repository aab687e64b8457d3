//! The revocation outbox, in the SQL both stores share.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::ConnectionId;

use super::Backend;
use crate::sql::{Columns, Db, args};
use crate::{RevocationOutbox, StoreError};

#[async_trait]
impl<B: Backend> RevocationOutbox for B {
    async fn revocation_pending(
        &self,
        connection: ConnectionId,
        now: DateTime<Utc>,
        next_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO revocation_outbox (connection_id, since, next_at, attempts) \
                   VALUES ($1, $2, $3, 0) \
                   ON CONFLICT (connection_id) DO UPDATE SET next_at = excluded.next_at";
        self.db().run(sql, args![connection, now, next_at]).await?;
        Ok(())
    }

    async fn take_due_revocations(
        &self,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(ConnectionId, DateTime<Utc>, u32)>, StoreError> {
        let sql = "UPDATE revocation_outbox SET next_at = $2, attempts = attempts + 1 \
                   WHERE connection_id IN (SELECT connection_id FROM revocation_outbox \
                     WHERE next_at <= $1 ORDER BY next_at LIMIT $3) AND next_at <= $1 \
                   RETURNING connection_id, since, attempts";
        let rows = self
            .db()
            .rows(sql, args![now, hold_until, i64::from(limit)])
            .await?;
        rows.iter()
            .map(|row| {
                let attempts = u32::try_from(row.int(2)?).unwrap_or(u32::MAX);
                Ok((ConnectionId::from_uuid(row.id(0)?), row.time(1)?, attempts))
            })
            .collect()
    }

    async fn revocation_retry(
        &self,
        connection: ConnectionId,
        next_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE revocation_outbox SET next_at = $2 WHERE connection_id = $1";
        self.db().run(sql, args![connection, next_at]).await?;
        Ok(())
    }

    async fn revocation_done(&self, connection: ConnectionId) -> Result<(), StoreError> {
        let sql = "DELETE FROM revocation_outbox WHERE connection_id = $1";
        self.db().run(sql, args![connection]).await?;
        Ok(())
    }
}
