//! The refresher's claims and the per-connection refresh leases on Postgres: claims lock the
//! schedule rows they take and skip those another claimer holds, so replicas get disjoint work.

use chrono::{DateTime, Utc};
use latchkey_domain::ConnectionId;
use latchkey_domain::connection::refresh_token::Sent;

use super::queries;
use super::store::PgStore;
use crate::roles::{Due, ScheduleHooks};
use crate::{Claim, Lease, StoreError, clamp_limit};

#[async_trait::async_trait]
impl ScheduleHooks for PgStore {
    async fn claim_due(&self, due: Due<'_>) -> Result<Vec<Claim>, StoreError> {
        let pool = &self.pool;
        let (now, owner, until, limit) = (due.now, due.owner, due.until, due.limit);
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

    async fn hand_back(&self, owner: &str, claims: &[Claim]) -> Result<(), StoreError> {
        let pool = &self.pool;
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

    async fn take_lease(&self, due: Due<'_>, id: ConnectionId) -> Result<Lease, StoreError> {
        let (pool, now, owner, until) = (&self.pool, due.now, due.owner, due.until);
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
}
