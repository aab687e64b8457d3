//! The refresher's claims and the per-connection refresh leases on SQLite (one writer at a time:
//! each is one statement or one `BEGIN IMMEDIATE` transaction, so claims are disjoint by
//! construction).

use latchkey_domain::ConnectionId;
use latchkey_domain::connection::refresh_token::Sent;

use super::db::{parse_time, parse_uuid, time_text};
use super::store::SqliteStore;
use crate::roles::{Due, ScheduleHooks};
use crate::{Claim, Lease, StoreError, clamp_limit};

#[async_trait::async_trait]
impl ScheduleHooks for SqliteStore {
    async fn claim_due(&self, due: Due<'_>) -> Result<Vec<Claim>, StoreError> {
        let pool = &self.pool;
        let (now, owner, until, limit) = (due.now, due.owner, due.until, due.limit);
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "UPDATE connections SET claimed_by = $3, claimed_until = $4, \
               claim_fence = claim_fence + 1 \
             WHERE id IN (SELECT id FROM connections \
               WHERE ((status IN ('active', 'expired') AND refresh_at <= $1) \
                  OR (status = 'active' AND expires_at <= $1)) \
                 AND (claimed_until IS NULL OR claimed_until <= $1) \
               ORDER BY MIN(COALESCE(refresh_at, expires_at), COALESCE(expires_at, refresh_at)) \
               LIMIT $2) \
             RETURNING id, claim_fence, \
               MIN(COALESCE(refresh_at, expires_at), COALESCE(expires_at, refresh_at))",
        )
        .bind(time_text(now))
        .bind(clamp_limit(limit))
        .bind(owner)
        .bind(time_text(until))
        .fetch_all(pool)
        .await?;
        let mut claims = rows
            .into_iter()
            .map(|(id, fence, due)| {
                let claim = Claim {
                    id: ConnectionId::from_uuid(parse_uuid(&id)?),
                    fence: u64::try_from(fence).unwrap_or_default(),
                };
                Ok((due, claim))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // RETURNING comes in no particular order: earliest due first, as the trait promises.
        claims.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(claims.into_iter().map(|(_, claim)| claim).collect())
    }

    async fn hand_back(&self, owner: &str, claims: &[Claim]) -> Result<(), StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        for claim in claims {
            sqlx::query(
                "UPDATE connections SET claimed_until = NULL \
                 WHERE id = $1 AND claimed_by = $2 AND claim_fence = $3",
            )
            .bind(claim.id.to_string())
            .bind(owner)
            .bind(i64::try_from(claim.fence).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn take_lease(&self, due: Due<'_>, id: ConnectionId) -> Result<Lease, StoreError> {
        let (pool, now, owner, until) = (&self.pool, due.now, due.owner, due.until);
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT owner, lease_until, token_digest, token_sent_at FROM refresh_leases \
             WHERE connection_id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let left = match existing {
            Some((holder, lease_until, _, _))
                if holder != owner && parse_time(&lease_until)? > now =>
            {
                return Ok(Lease::Busy);
            }
            Some((_, _, Some(digest), sent_at)) => Some(Sent {
                digest,
                since: sent_at
                    .as_deref()
                    .map(parse_time)
                    .transpose()?
                    .unwrap_or(now),
            }),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO refresh_leases (connection_id, owner, lease_until) VALUES ($1, $2, $3) \
             ON CONFLICT (connection_id) DO UPDATE SET owner = excluded.owner, \
             lease_until = excluded.lease_until",
        )
        .bind(id.to_string())
        .bind(owner)
        .bind(time_text(until))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Lease::Acquired { left })
    }
}
