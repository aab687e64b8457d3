//! The refresher's side: claims of due connections and the refresh lease. Claiming and taking a
//! lease lock differently on each database (the adapter's); noting, extending and ending a lease
//! are one statement each, the same on both.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::ConnectionId;
use latchkey_domain::connection::refresh_token::Sent;

use super::{Backend, Due};
use crate::sql::{Db, args};
use crate::{Claim, Lease, RefreshSchedule, StoreError};

const EXTEND: &str =
    "UPDATE refresh_leases SET lease_until = $3 WHERE connection_id = $1 AND owner = $2";

/// What each adapter supplies: claiming and taking a lease, which lock differently.
#[async_trait]
pub(crate) trait ScheduleHooks: Backend {
    /// See [`RefreshSchedule::claim_due_refreshes`].
    async fn claim_due(&self, due: Due<'_>) -> Result<Vec<Claim>, StoreError>;
    /// See [`RefreshSchedule::release_claims`].
    async fn hand_back(&self, owner: &str, claims: &[Claim]) -> Result<(), StoreError>;
    /// See [`RefreshSchedule::acquire_refresh_lease`].
    async fn take_lease(&self, due: Due<'_>, id: ConnectionId) -> Result<Lease, StoreError>;
}

#[async_trait]
impl<B: ScheduleHooks> RefreshSchedule for B {
    async fn claim_due_refreshes(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        let due = Due {
            now,
            owner,
            until,
            limit,
        };
        self.claim_due(due).await
    }

    async fn release_claims(&self, owner: &str, claims: &[Claim]) -> Result<(), StoreError> {
        self.hand_back(owner, claims).await
    }

    async fn acquire_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease, StoreError> {
        let due = Due {
            now,
            owner,
            until,
            limit: 1,
        };
        self.take_lease(due, id).await
    }

    async fn record_refresh_attempt(
        &self,
        id: ConnectionId,
        owner: &str,
        sent: &Sent,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE refresh_leases SET token_digest = $3, token_sent_at = $4, \
             lease_until = $5 WHERE connection_id = $1 AND owner = $2";
        let args = args![id, owner, &sent.digest, sent.since, until];
        Ok(self.db().run(sql, args).await? == 1)
    }

    async fn renew_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.db().run(EXTEND, args![id, owner, until]).await? == 1)
    }

    async fn release_refresh_lease(
        &self,
        id: ConnectionId,
        owner: &str,
        keep_sent: bool,
    ) -> Result<(), StoreError> {
        if keep_sent {
            // Run out at once, the sent token kept: the next holder finds it in doubt.
            let args = args![id, owner, DateTime::<Utc>::UNIX_EPOCH];
            self.db().run(EXTEND, args).await?;
        } else {
            let sql = "DELETE FROM refresh_leases WHERE connection_id = $1 AND owner = $2";
            self.db().run(sql, args![id, owner]).await?;
        }
        Ok(())
    }
}
