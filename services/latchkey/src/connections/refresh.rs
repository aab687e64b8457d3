//! The one place a refresh runs. A refresh runs apart from its callers: a task on the app's
//! tracker owns it from the lease to the commit, and callers wait for its answer within their own
//! deadlines, so a caller that gives up only stops waiting. One refresh per connection at a time:
//! a flight in the process, a lease in the database across replicas.
//!
//! The order of one refresh: the per-provider rate limit (before the lease, so waiting never eats
//! into it); the lease; the state read again under it; the refresh token's state machine
//! (`latchkey_domain::connection::refresh_token`: a token sent earlier with no answer is in doubt,
//! and sent again only as the integration's `refresh_token_reuse` allows); the lease checked and
//! extended over the call and the commit as the token's digest is noted; the provider call; and
//! what it came to, settled in `settle`: new tokens committed until they hold, a failure recorded
//! on the latest state, the digest released on a definite answer and kept on none.

use std::time::Instant;

use chrono::{Duration, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::refresh::{self, Need};
use latchkey_domain::connection::refresh_token::{Sent, TokenState};
use latchkey_domain::connection::{self, GrantCredentials};
use latchkey_domain::{ConnectionId, GrantType, IntegrationConfig, ParamMap, integration};
use latchkey_oauth::{Grant, OAuthError};

use super::client::Client;
use latchkey_store::Lease;
use secrecy::SecretString;
use tokio::sync::oneshot;

use super::flight::Flight;
use super::refusals::{
    not_now, reauthorization_required, refresh_backoff, refresh_interrupted, refused_for_good,
};
use super::settle::Settle;
use super::{Connections, digest};
use crate::callers::Caller;
use crate::error::AppError;

/// How often a caller looks again while another replica holds the lease.
const LEASE_POLL: std::time::Duration = std::time::Duration::from_millis(50);

impl Connections {
    /// Brings the connection to what `need` asks for, refreshing at most once, and returns its
    /// state. Concurrent callers in this process share one refresh; other replicas wait on the
    /// database lease and then read what it committed. The refresh is not this caller's: if the
    /// caller goes away (a deadline, a cancelled request) it runs on to its commit.
    #[tracing::instrument(name = "refresh", skip_all, fields(connection_id = %id))]
    pub async fn ensure_fresh(
        &self,
        id: ConnectionId,
        need: Need,
    ) -> Result<connection::State, AppError> {
        if self.shutdown.is_cancelled() {
            return Err(shutting_down());
        }
        let arrived = Instant::now();
        let (answer, wait) = oneshot::channel();
        let connections = self.clone();
        let span = tracing::Span::current();
        self.tasks.spawn(tracing::Instrument::instrument(
            async move {
                let _ = answer.send(connections.refresh_in_turn(id, need, arrived).await);
            },
            span,
        ));
        wait.await.unwrap_or_else(|_| {
            Err(AppError::Internal(
                "the refresh task ended without an answer".to_owned(),
            ))
        })
    }

    /// Waits for this connection's turn in the process, then refreshes if still needed.
    async fn refresh_in_turn(
        &self,
        id: ConnectionId,
        need: Need,
        arrived: Instant,
    ) -> Result<connection::State, AppError> {
        let flight = self.refresh.flight(id);
        let result = {
            let _turn = flight.turn.lock().await;
            self.refresh_locked(id, need, arrived, &flight).await
        };
        self.refresh.forget(id, &flight);
        result
    }

    /// Whether the connection already answers the caller: its need is met, a refresh was sent
    /// after a `RefreshToken` caller came, or the provider's tokens cannot last what is asked.
    fn answered(
        &self,
        state: &connection::State,
        need: Need,
        arrived: Instant,
        flight: &Flight,
    ) -> bool {
        let now = Utc::now();
        refresh::satisfied(state, need, now)
            || match need {
                Need::Force => flight.sent_since(arrived),
                Need::MinTtl(min_ttl) => refresh::too_short_for(state, min_ttl, now).is_some(),
                Need::Due => false,
            }
    }

    async fn refresh_locked(
        &self,
        id: ConnectionId,
        need: Need,
        arrived: Instant,
        flight: &Flight,
    ) -> Result<connection::State, AppError> {
        let mut state = self.connection_state(id).await?;
        if self.answered(&state, need, arrived, flight) {
            return Ok(state);
        }
        if self.shutdown.is_cancelled() {
            return Err(shutting_down());
        }
        let integration = match self.integration_state(state.integration_id).await {
            Ok(integration) => integration,
            Err(AppError::NotFound(_)) => return self.close_orphan(&state).await,
            Err(e) => return Err(e),
        };
        // The rate limit first: waiting for it never eats into a lease. Per host, as this
        // connection's token URL names it.
        let host = super::configured(&integration.config, &state.url_values())?
            .endpoints
            .token_url
            .url()
            .host_str()
            .unwrap_or_default()
            .to_owned();
        self.refresh.limiter.until_key_ready(&host).await;
        // Another replica may be refreshing: wait for its lease, then use what it committed.
        let owner = self.refresh.owner.clone();
        let lease_ttl = self.refresh.lease_ttl;
        let deadline = Utc::now() + lease_ttl + Duration::seconds(5);
        let mut told = false;
        let left = loop {
            let now = Utc::now();
            match self
                .store
                .acquire_refresh_lease(id, &owner, now, now + lease_ttl)
                .await?
            {
                Lease::Acquired { left } => break left,
                Lease::Busy if now < deadline => {
                    if !told {
                        told = true;
                        tracing::info!(connection_id = %id, "waiting for another replica's refresh of this connection (its lease)");
                    }
                    // Shutdown never waits on another replica's lease (it may be a dead one's,
                    // held until it runs out): nothing was sent here, so nothing is lost.
                    tokio::select! {
                        () = tokio::time::sleep(LEASE_POLL) => {}
                        () = self.shutdown.cancelled() => return Err(shutting_down()),
                    }
                    state = self.connection_state(id).await?;
                    if self.answered(&state, need, arrived, flight) {
                        return Ok(state);
                    }
                }
                Lease::Busy => {
                    return Err(AppError::Unavailable(format!(
                        "connection {id} is being refreshed elsewhere; try again"
                    )));
                }
            }
        };
        let (result, settle) = self
            .refresh_leased(id, need, arrived, flight, &integration, left)
            .await;
        self.end_lease(id, settle).await;
        result
    }

    /// Under the lease: reads the state again, decides whether and how to refresh, calls the
    /// provider and settles what came of it. Answers how the lease ends.
    async fn refresh_leased(
        &self,
        id: ConnectionId,
        need: Need,
        arrived: Instant,
        flight: &Flight,
        integration: &integration::State,
        left: Option<Sent>,
    ) -> (Result<connection::State, AppError>, Settle) {
        // Whatever ends this early leaves the token state as it was found (an in-doubt token
        // the connection still holds stays in doubt).
        let untouched = |state: &connection::State| {
            let still_held = left.as_ref().is_some_and(|sent| {
                state
                    .refresh_token
                    .as_ref()
                    .is_some_and(|rt| digest(rt) == sent.digest)
            });
            if still_held {
                Settle::KeepSent
            } else {
                Settle::Release
            }
        };
        // Re-read under the lease: a refresh another replica just finished is used, not repeated.
        let state = match self.connection_state(id).await {
            Ok(state) => state,
            Err(e) => return (Err(e), Settle::KeepSent),
        };
        if self.answered(&state, need, arrived, flight) {
            return (Ok(state.clone()), untouched(&state));
        }
        if let Err(refusal) = refreshable(&state, need) {
            return (Err(refusal), untouched(&state));
        }
        let caller = Caller::system("system:refresher");
        let config = match super::configured(&integration.config, &state.url_values()) {
            Ok(config) => config,
            Err(e) => return (Err(e), untouched(&state)),
        };
        let config = &*config;
        let prepared = match self.prepare(&state, integration, left.clone()).await {
            Ok(prepared) => prepared,
            Err(Unprepared::Interrupted(description)) => {
                let recorded = self
                    .record_interrupted(&state, description, &caller)
                    .await
                    .and_then(|()| Err(refresh_interrupted(id)));
                return (recorded, Settle::Release);
            }
            Err(Unprepared::Nothing) => {
                let expired = self.expire_if_due(&state, &caller).await;
                let answer = expired.and_then(|()| {
                    Err(AppError::FailedPrecondition(format!(
                        "connection {id} has no refresh token; the customer must authorize \
                         again when its token expires"
                    )))
                });
                return (answer, Settle::Release);
            }
            Err(Unprepared::Failed(e)) => return (Err(e), untouched(&state)),
        };
        // Right before sending: the lease is still ours and lasts over the call and the commit;
        // the token sent is noted first, so a crash from here on leaves it in doubt.
        let until = Utc::now() + self.refresh.lease_ttl;
        let owner = &self.refresh.owner;
        let held = match prepared.sending.sent() {
            Some(sent) => {
                self.store
                    .record_refresh_attempt(id, owner, sent, until)
                    .await
            }
            None => self.store.renew_refresh_lease(id, owner, until).await,
        };
        match held {
            Ok(true) => {}
            Ok(false) => {
                return (
                    Err(AppError::Unavailable(format!(
                        "lost the refresh lease of connection {id}; try again"
                    ))),
                    Settle::NotOurs,
                );
            }
            Err(e) => return (Err(e.into()), untouched(&state)),
        }
        flight.sent_now();
        let client = prepared.client.credentials();
        let outcome = self
            .provider
            .request_token(
                config,
                &config.endpoints.token_url.url(),
                &client,
                &prepared.grant(),
                &prepared.params,
            )
            .await;
        match outcome {
            Ok(response) => {
                let committed = self
                    .commit_refresh(&state, integration, response, &caller)
                    .await;
                (committed, Settle::Release)
            }
            Err(error) => {
                self.settle_failure(&state, &prepared, error, config, &caller)
                    .await
            }
        }
    }

    /// A refresh the provider did not answer with tokens: recorded, and the token sent settled
    /// by the domain's rule (refused once: free again; no answer, or sent again in doubt and not
    /// answered with tokens: still noted). The caller is told what the connection now is: a
    /// refusal that cost the grant needs the customer, as every later call will say.
    async fn settle_failure(
        &self,
        state: &connection::State,
        prepared: &Prepared,
        error: OAuthError,
        config: &IntegrationConfig,
        caller: &Caller,
    ) -> (Result<connection::State, AppError>, Settle) {
        let call = error.attempt().outcome();
        let recorded = self.record_failure(state, &error, config, caller).await;
        let settle = match prepared.sending.clone().settle(call).sent() {
            Some(_) => Settle::KeepSent,
            None => Settle::Release,
        };
        let answer = match recorded {
            Ok(Some(code)) => refused_for_good(state.id, &code, &error),
            Ok(None) => AppError::from(error),
            Err(e) => e,
        };
        (Err(answer), settle)
    }

    /// What a refresh sends: the refresh token (if the token state machine lets it go) or the
    /// grant run again, and the client it authenticates as.
    async fn prepare(
        &self,
        state: &connection::State,
        integration: &integration::State,
        left: Option<Sent>,
    ) -> Result<Prepared, Unprepared> {
        let config = &integration.config;
        let id = state.id;
        let client = self
            .connection_client(state, integration, config)
            .await
            .map_err(Unprepared::Failed)?
            .with_dpop(
                self.dpop_key(config, id)
                    .await
                    .map_err(Unprepared::Failed)?,
            );
        // A grant run again asks for what the connection was created with; older connections,
        // which did not record it, for the integration's scopes.
        let (scopes, params) = match state.grant_request.as_deref() {
            Some(request) => (
                latchkey_domain::Scope::parse_list(
                    &request.scopes,
                    "scopes",
                    latchkey_domain::IntegrationConfig::MAX_SCOPES,
                )
                .map_err(|e| Unprepared::Failed(AppError::Internal(e.to_string())))?,
                request.params.clone(),
            ),
            None => (config.scopes.clone(), ParamMap::default()),
        };
        let (kind, sending) = match (
            &state.refresh_token,
            state.credentials.as_deref(),
            state.grant_type,
        ) {
            (Some(sealed), _, _) => {
                let found = TokenState::found(left);
                let held = digest(sealed);
                let sending = match found.send(
                    &held,
                    config.refresh.refresh_token_reuse,
                    Utc::now(),
                    self.refresh.call_timeout,
                ) {
                    Ok(sending) => sending,
                    // In doubt and not to be sent blindly: the provider may say whether it
                    // still takes it.
                    Err(interrupted) => {
                        let doubt = (&found, held.as_str(), sealed, interrupted);
                        self.ask_about_doubt(state, integration, &client, doubt)
                            .await?
                    }
                };
                let token = self
                    .open_connection_secret(id, Field::RefreshToken, sealed)
                    .await
                    .map_err(Unprepared::Failed)?;
                (GrantKind::RefreshToken(token), sending)
            }
            (None, Some(GrantCredentials::ClientCredentials { .. }), _)
            | (None, None, GrantType::ClientCredentials) => {
                (GrantKind::ClientCredentials, TokenState::Idle)
            }
            (None, Some(GrantCredentials::Password { username, password }), _) => {
                let password = self
                    .open_connection_secret(id, Field::Password, password)
                    .await
                    .map_err(Unprepared::Failed)?;
                (
                    GrantKind::Password(username.clone(), password),
                    TokenState::Idle,
                )
            }
            (None, Some(GrantCredentials::TokenExchange { subject }), _) => {
                let token = self
                    .subject_token(*subject)
                    .await
                    .map_err(Unprepared::Failed)?;
                (GrantKind::TokenExchange(token), TokenState::Idle)
            }
            (None, Some(GrantCredentials::JwtBearer(account)), _) => {
                let assertion = self
                    .sign_assertion(id, account, &scopes, config)
                    .await
                    .map_err(Unprepared::Failed)?;
                (GrantKind::JwtBearer(assertion), TokenState::Idle)
            }
            _ => return Err(Unprepared::Nothing),
        };
        let params = match kind {
            GrantKind::RefreshToken(_) => ParamMap::default(),
            _ => params,
        };
        Ok(Prepared {
            kind,
            scopes,
            params,
            client,
            sending,
        })
    }
}

/// Whether a connection in this state may be refreshed for `need` now.
fn refreshable(state: &connection::State, need: Need) -> Result<(), AppError> {
    use connection::Status::*;
    let id = state.id;
    match state.status {
        Active | Expired => {}
        ReauthorizationRequired => {
            let code = state
                .last_error
                .as_ref()
                .map_or("reauthorization_required", |e| e.code.as_str());
            return Err(reauthorization_required(state, format!(": {code}")));
        }
        other => return Err(not_now(id, other, "cannot be refreshed")),
    }
    // In backoff after a failure, inline callers get the wait, not another attempt.
    if let Some(at) = refresh::retry_not_before(state, need, Utc::now()) {
        let code = state.last_error.as_ref().map_or("", |e| e.code.as_str());
        return Err(refresh_backoff(id, code, at));
    }
    Ok(())
}

fn shutting_down() -> AppError {
    AppError::Unavailable("Latchkey is shutting down and starts no refresh; try again".to_owned())
}

/// How a refresh is sent.
enum GrantKind {
    RefreshToken(SecretString),
    ClientCredentials,
    Password(String, SecretString),
    JwtBearer(SecretString),
    /// The subject's access token, exchanged again.
    TokenExchange(SecretString),
}

/// A refresh ready to send.
struct Prepared {
    kind: GrantKind,
    scopes: Vec<latchkey_domain::Scope>,
    /// Extra token parameters of a grant run again (e.g. `audience`).
    params: ParamMap,
    client: Client,
    /// The refresh token's state as it is sent (`Idle` when none is): how the call settles it
    /// says whether the lease keeps it noted.
    sending: TokenState,
}

impl Prepared {
    fn grant(&self) -> Grant<'_> {
        match &self.kind {
            GrantKind::RefreshToken(token) => Grant::RefreshToken {
                refresh_token: token,
            },
            GrantKind::ClientCredentials => Grant::ClientCredentials {
                scopes: &self.scopes,
            },
            GrantKind::Password(username, password) => Grant::Password {
                username,
                password,
                scopes: &self.scopes,
            },
            GrantKind::JwtBearer(assertion) => Grant::JwtBearer { assertion },
            GrantKind::TokenExchange(subject_token) => Grant::TokenExchange {
                subject_token,
                scopes: &self.scopes,
            },
        }
    }
}

/// Why nothing is sent.
pub(super) enum Unprepared {
    /// The refresh token is in doubt and may not be sent again.
    Interrupted(String),
    /// There is nothing to refresh with.
    Nothing,
    Failed(AppError),
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
