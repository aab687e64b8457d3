//! What a refresh came to, recorded so that nothing the provider issued is lost: new tokens are
//! committed until they hold (a conflict is decided again on the latest state, an unavailable
//! database is waited out); a failure is recorded on the latest state; the lease ends keeping the
//! sent token only when it is in doubt; a connection whose integration is gone is closed.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use latchkey_domain::connection;
use latchkey_domain::connection::refresh::{self, Failure};
use latchkey_domain::{ConnectionId, IntegrationConfig, integration};
use latchkey_oauth::{OAuthError, TokenResponse};

use super::{Connections, jitter};
use crate::callers::Caller;
use crate::error::AppError;

/// The first wait before committing again; it doubles up to [`COMMIT_RETRY_CAP`].
const COMMIT_RETRY_FIRST: StdDuration = StdDuration::from_millis(100);
const COMMIT_RETRY_CAP: StdDuration = StdDuration::from_secs(5);

/// Waits `wait`, then doubles it for the next time (up to [`COMMIT_RETRY_CAP`]).
async fn pause(wait: &mut StdDuration) {
    tokio::time::sleep(*wait).await;
    *wait = (*wait * 2).min(COMMIT_RETRY_CAP);
}

/// How often a failure or a lease release is tried while the database is unavailable.
const RECORD_ATTEMPTS: u32 = 5;

/// How a refresh ends its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settle {
    /// The outcome is settled (committed, recorded, or nothing was sent): the lease goes with
    /// the token it noted.
    Release,
    /// The token sent got no answer and is in doubt: the lease ends and the token stays noted.
    KeepSent,
    /// Another holder took the lease over: it is not ours to end.
    NotOurs,
}

impl Connections {
    /// Ends this process's lease as `settle` says, trying again while the database is away (a
    /// release that never lands leaves the lease to run out).
    pub(super) async fn end_lease(&self, id: ConnectionId, settle: Settle) {
        let keep_sent = match settle {
            Settle::Release => false,
            Settle::KeepSent => true,
            Settle::NotOurs => return,
        };
        let mut wait = COMMIT_RETRY_FIRST;
        for attempt in 1..=RECORD_ATTEMPTS {
            match self
                .store
                .release_refresh_lease(id, &self.refresh.owner, keep_sent)
                .await
            {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(connection_id = %id, attempt, error = %e, "ending a refresh lease failed");
                    pause(&mut wait).await;
                }
            }
        }
    }

    /// Commits the tokens the provider issued. They are never dropped while the connection can
    /// take them: a conflict is decided again on the latest state, an unavailable database is
    /// waited out with backoff (the lease renewed meanwhile), until the commit holds or the
    /// process dies. Only the domain refusing them (the connection was revoked or deleted
    /// meanwhile) or a later refresh committed first (`refresh::superseded`) ends it without a
    /// commit.
    pub(super) async fn commit_refresh(
        &self,
        state: &connection::State,
        integration: &integration::State,
        response: TokenResponse,
        caller: &Caller,
    ) -> Result<connection::State, AppError> {
        let id = state.id;
        let now = Utc::now();
        let mut wait = COMMIT_RETRY_FIRST;
        let mut attempt = 0u32;
        // This refresh ran by some means (a refresh token, kept if not rotated, or a grant run
        // again), and the next one can run the same way.
        let tokens = loop {
            attempt += 1;
            match self
                .seal_tokens(id, &response, &integration.config, &state.scopes, now, true)
                .await
            {
                Ok(tokens) => break tokens,
                Err(e) => {
                    tracing::warn!(connection_id = %id, attempt, error = %e, "sealing refreshed tokens failed; trying again");
                    pause(&mut wait).await;
                }
            }
        };
        let mut current = state.clone();
        loop {
            attempt += 1;
            if refresh::superseded(state.refresh_token.as_ref(), &current) {
                // Another refresh (or a new consent) committed while this one waited: its tokens
                // are newer than these, which may hold a refresh token rotated since.
                tracing::warn!(connection_id = %id, "refreshed tokens are not taken: a later refresh committed first");
                return Ok(current);
            }
            let mut events = connection::decide(
                Some(&current),
                connection::Command::Refresh {
                    tokens: tokens.clone(),
                },
            )
            .inspect_err(|e| {
                tracing::warn!(connection_id = %id, error = %e, "refreshed tokens are not taken: the connection changed meanwhile");
            })?;
            let warning =
                refresh::expiry_warning(&integration.config, Some(&current), &tokens, now);
            if let Some(warning) = warning {
                events.extend(connection::decide(Some(&current), warning)?);
            }
            let failure = match self
                .append_events(id, current.version, events, caller, now)
                .await
            {
                Ok(state) => {
                    tracing::info!(connection_id = %id, version = state.version, "refreshed");
                    crate::metrics::count_refresh("refreshed");
                    return Ok(state);
                }
                Err(AppError::Conflict(_)) => None,
                Err(e @ (AppError::Unavailable(_) | AppError::Internal(_))) => Some(e),
                Err(e) => return Err(e),
            };
            if let Some(e) = failure {
                tracing::warn!(connection_id = %id, attempt, error = %e, "committing refreshed tokens failed; trying again");
                pause(&mut wait).await;
            }
            // The lease must outlast the commit: renewed before each try (best effort).
            let until = Utc::now() + self.refresh.lease_ttl;
            let _ = self
                .store
                .renew_refresh_lease(id, &self.refresh.owner, until)
                .await;
            match self.connection_state(id).await {
                Ok(latest) => current = latest,
                Err(AppError::NotFound(what)) => return Err(AppError::NotFound(what)),
                Err(e) => {
                    tracing::warn!(connection_id = %id, error = %e, "reading the connection to commit again failed");
                }
            }
        }
    }

    /// Records a failed refresh as the domain classifies it (`reauthorization_required`,
    /// `refresh_failed`, then `expired` past the token's expiry), deciding again on the latest
    /// state when another writer got there first. A token replaced meanwhile makes the failure
    /// moot: nothing is recorded.
    pub(super) async fn record_failure(
        &self,
        state: &connection::State,
        error: &OAuthError,
        config: &IntegrationConfig,
        caller: &Caller,
    ) -> Result<Option<String>, AppError> {
        let failure = refresh::classify(&error.attempt());
        let code = failure.error().to_owned();
        match &failure {
            Failure::Permanent { .. } => {
                crate::metrics::count_refresh("reauthorization_required");
                tracing::warn!(connection_id = %state.id, error = code, "refresh refused for good; reauthorization required");
            }
            Failure::Retryable { .. } => {
                crate::metrics::count_refresh("failed_retryable");
                let attempt = state.consecutive_failures.saturating_add(1);
                tracing::warn!(connection_id = %state.id, error = code, attempt, "refresh failed; will retry");
            }
            Failure::Stuck { .. } => {
                crate::metrics::count_refresh("failed");
                tracing::warn!(connection_id = %state.id, error = code, "refresh failed and will not be retried automatically");
            }
        }
        let description = error.to_string();
        let horizon = Duration::seconds(i64::from(config.refresh.refresh_failure_horizon_secs));
        self.record_on_latest(state, caller, |current, now| {
            refresh::decide_failure(
                current,
                failure.clone(),
                description.clone(),
                horizon,
                now,
                jitter(),
            )
        })
        .await
        .map(|events| {
            events.into_iter().find_map(|event| match event {
                connection::Event::ReauthorizationRequired { error, .. } => Some(error),
                _ => None,
            })
        })
    }

    /// Records that the refresh token is in doubt and may not be sent again.
    pub(super) async fn record_interrupted(
        &self,
        state: &connection::State,
        description: String,
        caller: &Caller,
    ) -> Result<(), AppError> {
        tracing::warn!(connection_id = %state.id, "refresh token in doubt; reauthorization required");
        crate::metrics::count_refresh("reauthorization_required");
        self.record_on_latest(state, caller, |current, _| {
            connection::decide(
                Some(current),
                connection::Command::RequireReauthorization {
                    error: "refresh_interrupted".to_owned(),
                    description: Some(description.clone()),
                },
            )
        })
        .await
        .map(drop)
    }

    /// Records a refresh that failed before recording anything as a retryable failure (with
    /// backoff, and the integration's horizon), while the connection is still due.
    pub(super) async fn defer(&self, id: ConnectionId, error: &AppError) -> Result<(), AppError> {
        let state = self.connection_state(id).await?;
        let now = Utc::now();
        let due = refresh::is_due(&state, now)
            || (state.status == connection::Status::Active
                && state.expires_at.is_some_and(|at| at <= now));
        if !due {
            return Ok(());
        }
        let horizon = match self.integration_state(state.integration_id).await {
            Ok(integration) => i64::from(integration.config.refresh.refresh_failure_horizon_secs),
            Err(_) => i64::from(IntegrationConfig::DEFAULT_FAILURE_HORIZON_SECS),
        };
        let caller = Caller::system("system:refresher");
        let description = error.to_string();
        self.record_on_latest(&state, &caller, |current, now| {
            refresh::decide_failure(
                current,
                Failure::Retryable {
                    error: "internal_error".to_owned(),
                    retry_after: None,
                },
                description.clone(),
                Duration::seconds(horizon),
                now,
                jitter(),
            )
        })
        .await
        .map(drop)
    }

    /// With nothing to refresh with: expires the token once its time is up.
    pub(super) async fn expire_if_due(
        &self,
        state: &connection::State,
        caller: &Caller,
    ) -> Result<(), AppError> {
        let now = Utc::now();
        if state.status != connection::Status::Active || state.expires_at.is_none_or(|at| at > now)
        {
            return Ok(());
        }
        self.record_on_latest(state, caller, |current, now| {
            connection::decide(Some(current), connection::Command::Expire { now })
        })
        .await
        .map(drop)
    }

    /// Closes a connection whose integration is gone: nothing can refresh or revoke it through
    /// Latchkey any more, so it is recorded `revoked` (reason `integration_deleted`) and leaves
    /// the refresher's queue.
    pub(super) async fn close_orphan(
        &self,
        state: &connection::State,
    ) -> Result<connection::State, AppError> {
        let caller = Caller::system("system:refresher");
        tracing::warn!(connection_id = %state.id, integration_id = %state.integration_id, "the connection's integration is gone; closing it");
        self.record_on_latest(state, &caller, |current, _| {
            connection::decide(
                Some(current),
                connection::Command::Revoke {
                    reason: "integration_deleted".to_owned(),
                    provider: Vec::new(),
                },
            )
        })
        .await?;
        let id = state.id;
        Err(AppError::FailedPrecondition(format!(
            "connection {id}'s integration {} was deleted; the connection is closed",
            state.integration_id
        )))
    }

    /// Appends what `decide` makes of the latest state: decided again after a conflict, tried
    /// again while the database is away. Stops without recording when the refresh token changed
    /// meanwhile (what was to be recorded is about a token the connection no longer holds).
    async fn record_on_latest(
        &self,
        state: &connection::State,
        caller: &Caller,
        decide: impl Fn(
            &connection::State,
            chrono::DateTime<Utc>,
        ) -> Result<Vec<connection::Event>, latchkey_domain::DomainError>,
    ) -> Result<Vec<connection::Event>, AppError> {
        let mut current = state.clone();
        let mut wait = COMMIT_RETRY_FIRST;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now = Utc::now();
            let events = decide(&current, now)?;
            if events.is_empty() {
                return Ok(events);
            }
            match self
                .append_events(current.id, current.version, events.clone(), caller, now)
                .await
            {
                Ok(_) => return Ok(events),
                Err(AppError::Conflict(_)) if attempt < RECORD_ATTEMPTS * 2 => {}
                Err(AppError::Unavailable(_) | AppError::Internal(_))
                    if attempt < RECORD_ATTEMPTS =>
                {
                    pause(&mut wait).await;
                }
                Err(e) => return Err(e),
            }
            let latest = self.connection_state(current.id).await?;
            if latest.refresh_token != state.refresh_token
                || latest.access_token != state.access_token
            {
                return Ok(Vec::new());
            }
            current = latest;
        }
    }
}
