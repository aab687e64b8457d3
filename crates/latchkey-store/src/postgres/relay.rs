//! The relay's lease and checkpoint on Postgres. Times are the database's, so replicas whose
//! clocks disagree still agree on when a lease runs out.

use std::time::Duration;

use sqlx::postgres::PgPool;

use crate::{Cursor, StoreError};

fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

pub(super) async fn acquire(
    pool: &PgPool,
    name: &str,
    owner: &str,
    ttl: Duration,
) -> Result<Option<u64>, StoreError> {
    let fence: Option<i64> = sqlx::query_scalar(
        "INSERT INTO relay_leases (name, owner, fence, expires_at) \
         VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond') \
         ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, \
         fence = relay_leases.fence + 1, expires_at = EXCLUDED.expires_at \
         WHERE relay_leases.expires_at < now() RETURNING fence",
    )
    .bind(name)
    .bind(owner)
    .bind(millis(ttl))
    .fetch_optional(pool)
    .await?;
    Ok(fence.map(|f| u64::try_from(f).unwrap_or_default()))
}

pub(super) async fn renew(
    pool: &PgPool,
    name: &str,
    owner: &str,
    fence: u64,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE relay_leases SET expires_at = now() + $4 * interval '1 millisecond' \
         WHERE name = $1 AND owner = $2 AND fence = $3",
    )
    .bind(name)
    .bind(owner)
    .bind(i64::try_from(fence).unwrap_or(i64::MAX))
    .bind(millis(ttl))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(done == 1)
}

pub(super) async fn release(
    pool: &PgPool,
    name: &str,
    owner: &str,
    fence: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE relay_leases SET expires_at = now() - interval '1 second' \
         WHERE name = $1 AND owner = $2 AND fence = $3",
    )
    .bind(name)
    .bind(owner)
    .bind(i64::try_from(fence).unwrap_or(i64::MAX))
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn save_checkpoint(
    pool: &PgPool,
    name: &str,
    cursor: Cursor,
    fence: u64,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    // The lease row is held for the write: a takeover waits for it, or this sees its new fence.
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
    .bind(i64::try_from(cursor.txid).unwrap_or(i64::MAX))
    .bind(cursor.position)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
