//! The relay's lease and checkpoint on SQLite (one writer at a time: each is one statement or
//! one `BEGIN IMMEDIATE` transaction).

use std::time::Duration;

use chrono::Utc;
use sqlx::sqlite::SqlitePool;

use super::time_text;
use crate::{Cursor, StoreError};

fn until(ttl: Duration) -> String {
    time_text(Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX))
}

fn fence_value(fence: u64) -> i64 {
    i64::try_from(fence).unwrap_or(i64::MAX)
}

pub(super) async fn acquire(
    pool: &SqlitePool,
    name: &str,
    owner: &str,
    ttl: Duration,
) -> Result<Option<u64>, StoreError> {
    let fence: Option<i64> = sqlx::query_scalar(
        "INSERT INTO relay_leases (name, owner, fence, expires_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, \
         fence = relay_leases.fence + 1, expires_at = excluded.expires_at \
         WHERE relay_leases.expires_at < $4 RETURNING fence",
    )
    .bind(name)
    .bind(owner)
    .bind(until(ttl))
    .bind(time_text(Utc::now()))
    .fetch_optional(pool)
    .await?;
    Ok(fence.map(|f| u64::try_from(f).unwrap_or_default()))
}

pub(super) async fn renew(
    pool: &SqlitePool,
    name: &str,
    owner: &str,
    fence: u64,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE relay_leases SET expires_at = $4 WHERE name = $1 AND owner = $2 AND fence = $3",
    )
    .bind(name)
    .bind(owner)
    .bind(fence_value(fence))
    .bind(until(ttl))
    .execute(pool)
    .await?
    .rows_affected();
    Ok(done == 1)
}

pub(super) async fn release(
    pool: &SqlitePool,
    name: &str,
    owner: &str,
    fence: u64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE relay_leases SET expires_at = $4 WHERE name = $1 AND owner = $2 AND fence = $3",
    )
    .bind(name)
    .bind(owner)
    .bind(fence_value(fence))
    .bind(time_text(Utc::now() - chrono::Duration::seconds(1)))
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn save_checkpoint(
    pool: &SqlitePool,
    name: &str,
    cursor: Cursor,
    fence: u64,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let current: Option<i64> = sqlx::query_scalar("SELECT fence FROM relay_leases WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    if current != Some(fence_value(fence)) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO relay_checkpoints (name, txid, position, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET \
         txid = excluded.txid, position = excluded.position, updated_at = excluded.updated_at \
         WHERE relay_checkpoints.position <= excluded.position",
    )
    .bind(name)
    .bind(i64::try_from(cursor.txid).unwrap_or(i64::MAX))
    .bind(cursor.position)
    .bind(time_text(Utc::now()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
