//! The background ticks: the proactive refresher, which claims due connections and refreshes them
//! a bounded number at a time, and scheduled validation: the active connections of every
//! integration that sets `validation_interval_secs` are checked at the provider once per interval
//! (besides the check after each authorization and `ValidateConnection` on demand).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Utc;
use latchkey_domain::ConnectionId;
use latchkey_domain::connection::refresh::Need;
use latchkey_store::{Claim, Page, StoreError};
use rand::Rng;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::Connections;
use crate::callers::Caller;
use crate::error::AppError;

/// Settings of the proactive refresher.
#[derive(Debug, Clone)]
pub struct RefresherSettings {
    /// Refreshes running at once.
    pub concurrency: usize,
    /// How often due connections are looked for.
    pub tick: StdDuration,
    /// Connections claimed per look.
    pub batch: u32,
}

/// Claims due connections and refreshes them, `concurrency` at a time, until `shutdown`. A look
/// claims only what this replica can start soon (its free places and as many again), so replicas
/// share the due work by how fast each gets through it; after a full claim the next look comes
/// as soon as a place is free, not a tick later.
pub async fn run_refresher(
    connections: Connections,
    settings: RefresherSettings,
    shutdown: CancellationToken,
) {
    let concurrency = settings.concurrency.max(1);
    let permits = Arc::new(Semaphore::new(concurrency));
    let queued: Arc<Mutex<HashSet<ConnectionId>>> = Arc::default();
    let owner = connections.refresh.owner.clone();
    let mut full = false;
    let gauge = |state: &str| crate::metrics::REFRESHER.with_label_values(&[state]);
    let (in_flight, waiting) = (gauge("in_flight"), gauge("queued"));
    gauge("capacity").set(i64::try_from(concurrency).unwrap_or(i64::MAX));
    loop {
        if full {
            if shutdown.is_cancelled() {
                break;
            }
        } else {
            let jitter = rand::thread_rng().gen_range(0..=settings.tick.as_millis() as u64 / 5);
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(settings.tick + StdDuration::from_millis(jitter)) => {}
            }
        }
        let want = (permits.available_permits() + concurrency).min(settings.batch as usize);
        let now = Utc::now();
        let claimed = match connections
            .store
            .claim_due_refreshes(
                now,
                &owner,
                now + connections.refresh.lease_ttl,
                u32::try_from(want).unwrap_or(u32::MAX),
            )
            .await
        {
            Ok(claimed) => claimed,
            Err(StoreError::Database(e)) => {
                tracing::warn!(error = %e, "refresher cannot claim due connections");
                full = false;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "refresher cannot claim due connections");
                full = false;
                continue;
            }
        };
        full = claimed.len() == want;
        crate::metrics::REFRESH_CLAIMS.inc_by(claimed.len() as u64);
        waiting.add(i64::try_from(claimed.len()).unwrap_or(0));
        let mut claims = claimed.into_iter();
        while let Some(claim) = claims.next() {
            let id = claim.id;
            if connections.refreshing(id)
                || !queued.lock().unwrap_or_else(|p| p.into_inner()).insert(id)
            {
                waiting.dec();
                continue;
            }
            // Stopping wins over a free place: nothing new starts once shutdown began.
            let permit = tokio::select! {
                biased;
                () = shutdown.cancelled() => None,
                permit = permits.clone().acquire_owned() => permit.ok(),
            };
            waiting.dec();
            let Some(permit) = permit else {
                // Stopping: what was claimed and not started goes back at once.
                let unstarted: Vec<Claim> = std::iter::once(claim).chain(claims).collect();
                if let Err(e) = connections.store.release_claims(&owner, &unstarted).await {
                    tracing::warn!(error = %e, "handing back unstarted refresh claims failed; they run out");
                }
                return;
            };
            let refreshing = connections.clone();
            let queued = queued.clone();
            let in_flight = in_flight.clone();
            in_flight.inc();
            connections.tasks.spawn(async move {
                refreshing.refresh_due(id).await;
                queued.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                in_flight.dec();
                drop(permit);
            });
        }
    }
    // The refreshes under way finish on the app's tracker, which shutdown waits for.
}

impl Connections {
    /// One scheduled refresh. A refresh that failed before it could record anything (a secret
    /// that does not open, say) is recorded as a retryable failure, so the connection leaves the
    /// due queue for its backoff instead of taking a place in every look.
    pub(super) async fn refresh_due(&self, id: ConnectionId) {
        match self.ensure_fresh(id, Need::Due).await {
            Ok(_) => {}
            Err(e @ AppError::Internal(_)) => {
                tracing::warn!(connection_id = %id, error = %e, "scheduled refresh failed before recording; deferring it");
                if let Err(e) = self.defer(id, &e).await {
                    tracing::warn!(connection_id = %id, error = %e, "deferring a failed refresh failed");
                }
            }
            Err(e) => {
                tracing::debug!(connection_id = %id, error = %e, "scheduled refresh did not succeed");
            }
        }
    }
}

/// Connections checked per integration and look; the rest wait for the next look.
const BATCH: u32 = 200;

/// Checks the tokens due for validation every `tick`, until `shutdown`.
pub async fn run_validator(
    connections: Connections,
    tick: StdDuration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
        match validate_due(&connections, &shutdown).await {
            Ok(0) => {}
            Ok(checked) => tracing::debug!(checked, "scheduled validation"),
            Err(e) => tracing::warn!(error = %e, "scheduled validation could not read the store"),
        }
    }
}

/// Checks every connection due now; answers how many were checked.
pub async fn validate_due(
    connections: &Connections,
    shutdown: &CancellationToken,
) -> Result<usize, AppError> {
    let caller = Caller::system("system:validator");
    let mut checked = 0;
    let mut page = Page::first(Page::MAX_LIMIT);
    loop {
        let integrations = connections.store.list_integrations(page).await?;
        for integration in &integrations {
            let config = &integration.config;
            let (Some(secs), Some(_)) = (
                config.checks.validation_interval_secs,
                &config.checks.validation,
            ) else {
                continue;
            };
            if integration.deleted {
                continue;
            }
            let before = Utc::now() - chrono::Duration::seconds(i64::from(secs));
            let due = connections
                .store
                .due_for_validation(integration.id, before, BATCH)
                .await?;
            for id in due {
                if shutdown.is_cancelled() {
                    return Ok(checked);
                }
                // One connection's trouble (provider down, a refused URL) is its own: recorded
                // or logged, and the others go on.
                if let Err(e) = connections.validate(&caller, id).await {
                    tracing::info!(connection_id = %id, error = %e, "scheduled validation did not complete");
                }
                checked += 1;
            }
        }
        match integrations.last() {
            Some(last) if integrations.len() == Page::MAX_LIMIT as usize => {
                page.after = Some(*last.id.as_uuid());
            }
            _ => return Ok(checked),
        }
    }
}
