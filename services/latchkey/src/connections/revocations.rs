//! Revocations the provider did not confirm (no answer, a 5xx, a 429), tried again from the
//! store's outbox with backoff (2 s doubling to 5 minutes, jittered) until the provider confirms
//! them or [`REVOCATION_HORIZON`] passes; each attempt is recorded as `revocation_retried`. A
//! replica takes due rows for itself for a while (past a provider call), so two replicas do not
//! try the same one at once; one that dies mid-attempt leaves its rows due again after that.
//! The tokens come from the connection's history: the revocation cleared them from its state,
//! not from its log, and its data key stays until it is deleted.

use std::time::Duration as StdDuration;

use chrono::Utc;
use latchkey_domain::connection::{self, REVOCATION_HORIZON, refresh};
use latchkey_domain::{ConnectionId, DomainEvent, Sealed, StreamId};
use tokio_util::sync::CancellationToken;

use super::{Connections, jitter};
use crate::callers::Caller;
use crate::error::AppError;

/// Rows taken per look.
const BATCH: u32 = 20;

/// Tries due revocations every `tick`, until `shutdown`.
pub async fn run_revocation_retries(
    connections: Connections,
    tick: StdDuration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
        if let Err(e) = connections.retry_due_revocations(&shutdown).await {
            tracing::warn!(error = %e, "revocations to retry could not be read");
        }
    }
}

impl Connections {
    /// Tries every revocation due now; one's trouble is its own.
    pub async fn retry_due_revocations(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<usize, AppError> {
        let now = Utc::now();
        // Held past a provider call (twice: a shaped request and a second token) and its record.
        let hold = self.refresh.call_timeout * 2 + chrono::Duration::seconds(30);
        let due = self
            .store
            .take_due_revocations(now, now + hold, BATCH)
            .await?;
        let tried = due.len();
        for (id, since, attempt) in due {
            if shutdown.is_cancelled() {
                break;
            }
            if let Err(e) = self.retry_revocation(id, since, attempt).await {
                tracing::warn!(connection_id = %id, attempt, error = %e, "retrying a revocation failed; it is tried again later");
            }
        }
        Ok(tried)
    }

    async fn retry_revocation(
        &self,
        id: ConnectionId,
        since: chrono::DateTime<Utc>,
        attempt: u32,
    ) -> Result<(), AppError> {
        let state = match self.store.connection(id).await? {
            Some(state) if state.status == connection::Status::Revoked => state,
            // Not revoked (the event never came) or deleted (its keys are gone): nothing to do.
            _ => return Ok(self.store.revocation_done(id).await?),
        };
        let integration = match self.integration_state(state.integration_id).await {
            Ok(integration) => integration,
            Err(AppError::NotFound(_)) => return Ok(self.store.revocation_done(id).await?),
            Err(e) => return Err(e),
        };
        let (refresh_token, access_token) = self.last_tokens(id).await?;
        let held = (refresh_token.as_ref(), access_token.as_ref());
        let outcomes = self.revoke_at_provider(&state, &integration, held).await?;
        let confirmed = connection::revocation_confirmed(&outcomes);
        let gave_up = !confirmed && Utc::now() - since >= REVOCATION_HORIZON;
        let command = connection::Command::RecordRevocationRetry {
            provider: outcomes,
            attempt,
            gave_up,
        };
        let events = connection::decide(Some(&state), command)?;
        let caller = Caller::system("system:revoker");
        match self
            .append_events(id, state.version, events, &caller, Utc::now())
            .await
        {
            // Another writer moved the stream: the attempt is made again at once, to be recorded.
            Err(AppError::Conflict(_)) => {
                return Ok(self.store.revocation_retry(id, Utc::now()).await?);
            }
            other => {
                other?;
            }
        }
        if confirmed || gave_up {
            tracing::info!(connection_id = %id, attempt, confirmed, "revocation retried for the last time");
            self.store.revocation_done(id).await?;
        } else {
            let next = Utc::now() + refresh::retry_wait(attempt + 1, None, jitter());
            self.store.revocation_retry(id, next).await?;
        }
        Ok(())
    }

    /// The last refresh and access tokens the connection held, from its log.
    async fn last_tokens(
        &self,
        id: ConnectionId,
    ) -> Result<(Option<Sealed>, Option<Sealed>), AppError> {
        let stream = StreamId::Connection(id);
        let (mut refresh_token, mut access_token) = (None, None);
        let mut from = 1;
        loop {
            let events = self.store.read_stream(stream, from, 500).await?;
            let Some(last) = events.last() else {
                return Ok((refresh_token, access_token));
            };
            from = last.version + 1;
            for recorded in &events {
                let tokens = match recorded.event()? {
                    DomainEvent::Connection(
                        connection::Event::Authorized { tokens, .. }
                        | connection::Event::Imported { tokens, .. }
                        | connection::Event::Refreshed { tokens },
                    ) => tokens,
                    _ => continue,
                };
                access_token = Some(tokens.access_token);
                if tokens.refresh_token.is_some() {
                    refresh_token = tokens.refresh_token;
                }
            }
        }
    }
}
