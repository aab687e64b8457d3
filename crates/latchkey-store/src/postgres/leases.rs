//! The refresher's claims and the per-connection refresh leases on Postgres: claims lock the
//! schedule rows they take and skip those another claimer holds, so replicas get disjoint work.

use chrono::{DateTime, Utc};
use latchkey_domain::ConnectionId;
use latchkey_domain::connection::refresh_token::Sent;
use sqlx::postgres::PgPool;

use super::queries;
use crate::{Claim, Lease, StoreError, clamp_limit};

pub(super) async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    owner: &str,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Claim>, StoreError> {
    let mut rows: Vec<(uuid::Uuid, i64, DateTime<Utc>)> = sqlx::query_as(queries::CLAIM_DUE)
        .bind(now)
        .bind(clamp_limit(limit))
        .bind(owner)
        .bind(until)
        .fetch_all(pool)
        .await?;
    // RETURNING comes in no particular order: earliest due first, as the trait promises.
    rows.sort_by_key(|(_, _, due)| *due);
    Ok(rows
        .into_iter()
        .map(|(id, fence, _)| Claim {
            id: ConnectionId::from_uuid(id),
            fence: u64::try_from(fence).unwrap_or_default(),
        })
        .collect())
}

pub(super) async fn release_claims(
    pool: &PgPool,
    owner: &str,
    claims: &[Claim],
) -> Result<(), StoreError> {
    let ids: Vec<uuid::Uuid> = claims.iter().map(|c| *c.id.as_uuid()).collect();
    let fences: Vec<i64> = claims
        .iter()
        .map(|c| i64::try_from(c.fence).unwrap_or(i64::MAX))
        .collect();
    sqlx::query(queries::RELEASE_CLAIMS)
        .bind(owner)
        .bind(ids)
        .bind(fences)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn acquire(
    pool: &PgPool,
    id: ConnectionId,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Lease, StoreError> {
    // The holder may release (delete) the row between our insert and our read: try again.
    for _ in 0..5 {
        let mut tx = pool.begin().await?;
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
            return Ok(Lease::Acquired { left: None });
        }
        type Row = (String, DateTime<Utc>, Option<String>, Option<DateTime<Utc>>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT owner, lease_until, token_digest, token_sent_at FROM refresh_leases \
             WHERE connection_id = $1 FOR UPDATE",
        )
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((holder, lease_until, digest, sent_at)) = row else {
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
            left: digest.map(|digest| Sent {
                digest,
                since: sent_at.unwrap_or(now),
            }),
        });
    }
    // Five releases in a row under our feet: someone else is clearly refreshing.
    Ok(Lease::Busy)
}

pub(super) async fn record_attempt(
    pool: &PgPool,
    id: ConnectionId,
    owner: &str,
    sent: &Sent,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE refresh_leases SET token_digest = $3, token_sent_at = $4, lease_until = $5 \
         WHERE connection_id = $1 AND owner = $2",
    )
    .bind(id.as_uuid())
    .bind(owner)
    .bind(&sent.digest)
    .bind(sent.since)
    .bind(until)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub(super) async fn renew(
    pool: &PgPool,
    id: ConnectionId,
    owner: &str,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE refresh_leases SET lease_until = $3 WHERE connection_id = $1 AND owner = $2",
    )
    .bind(id.as_uuid())
    .bind(owner)
    .bind(until)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub(super) async fn release(
    pool: &PgPool,
    id: ConnectionId,
    owner: &str,
    keep_sent: bool,
) -> Result<(), StoreError> {
    let query = if keep_sent {
        // Run out at once, the sent token kept: the next holder finds it in doubt.
        sqlx::query(
            "UPDATE refresh_leases SET lease_until = $3 WHERE connection_id = $1 AND owner = $2",
        )
        .bind(id.as_uuid())
        .bind(owner)
        .bind(DateTime::<Utc>::UNIX_EPOCH)
    } else {
        sqlx::query("DELETE FROM refresh_leases WHERE connection_id = $1 AND owner = $2")
            .bind(id.as_uuid())
            .bind(owner)
    };
    query.execute(pool).await?;
    Ok(())
}
