//! The OAuth callback, delivered once or more (a double click, a browser prefetch, a proxy that
//! retries): the code is exchanged once, and every delivery gets the same outcome.
//!
//! In this process, deliveries of one `state` share one completion (remembered for
//! [`REMEMBERED`], so a late duplicate gets the same page); the completion runs on the app's
//! tracker, so a browser that goes away does not abort what the others wait for. Across
//! replicas, the completion claims the connection's lease before it reads the pending
//! authorization again; a delivery on another replica waits for the lease's holder to finish and
//! answers with what it recorded, never exchanging the code a second time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_domain::connection;
use latchkey_store::Lease;
use tokio::sync::watch;

use super::Connections;
use super::authorize::{CallbackOutcome, CallbackParams};
use super::oauth_state::{state_digest, unknown_state, well_formed};
use crate::callers::{Caller, Scope};
use crate::error::AppError;

/// How long the outcome of a callback is kept for a duplicate that comes late.
pub const REMEMBERED: Duration = Duration::from_secs(600);
/// How long a delivery waits for another replica's completion of the same callback.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);
/// Outcomes remembered at most (those under way are always kept).
const MAX_REMEMBERED: usize = 100_000;

type Outcome = Option<Result<CallbackOutcome, AppError>>;

/// The completions under way or recently ended in this process, by `state` digest.
#[derive(Debug, Default)]
pub struct Callbacks {
    flights: Mutex<HashMap<String, (Instant, watch::Receiver<Outcome>)>>,
}

impl Callbacks {
    fn join_or_start(
        &self,
        digest: &str,
        start: impl FnOnce() -> watch::Receiver<Outcome>,
    ) -> watch::Receiver<Outcome> {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        flights.retain(|_, (at, _)| at.elapsed() < REMEMBERED);
        if flights.len() >= MAX_REMEMBERED {
            // Many callbacks at once (or a flood of made-up states): keep those under way.
            flights.retain(|_, (_, outcome)| outcome.borrow().is_none());
        }
        // Errors are never remembered (a transient store error, a caller that may not see
        // the connection): the next delivery tries again.
        flights.retain(|_, (_, outcome)| !matches!(*outcome.borrow(), Some(Err(_))));
        if let Some((_, outcome)) = flights.get(digest) {
            return outcome.clone();
        }
        let outcome = start();
        flights.insert(digest.to_owned(), (Instant::now(), outcome.clone()));
        outcome
    }

    /// Forgets a completion that ended in an error.
    fn forget_error(&self, key: &str) {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights
            .get(key)
            .is_some_and(|(_, outcome)| matches!(*outcome.borrow(), Some(Err(_))))
        {
            flights.remove(key);
        }
    }
}

/// Who a completion is shared with: callers of one scope (the hosted callback and admin keys,
/// or one tenant's keys), and of one browser when it sent cookies.
fn flight_key(digest: &str, caller: &Caller, cookies: Option<&str>) -> String {
    let scope = match &caller.scope {
        Scope::Admin => "admin".to_owned(),
        Scope::Tenant(tenant) => format!("tenant:{tenant}"),
    };
    match cookies {
        Some(cookies) => format!(
            "{digest}:{scope}:{}",
            latchkey_crypto::sha256_hex(cookies.as_bytes())
        ),
        None => format!("{digest}:{scope}"),
    }
}

impl Connections {
    /// Completes an authorization from the provider's callback. An unknown, expired or used
    /// `state` changes nothing; any other failure is recorded as `authorization_failed`; a
    /// second delivery gets the first one's outcome.
    pub async fn complete_authorization(
        &self,
        caller: &Caller,
        params: CallbackParams,
    ) -> Result<CallbackOutcome, AppError> {
        let digest = match params.state.as_deref() {
            Some(state) if well_formed(state) => state_digest(state),
            _ => return Err(unknown_state()),
        };
        // Deliveries from one browser, by callers of one scope, share one completion; another
        // browser (a forwarded authorization of a connect session) or another tenant's key gets
        // its own, and its own answer.
        let flight = flight_key(&digest, caller, params.cookies.as_deref());
        let mut outcome = self.callbacks.join_or_start(&flight, || {
            let (done, outcome) = watch::channel(None);
            let this = self.clone();
            let caller = caller.clone();
            let digest = digest.clone();
            let flight = flight.clone();
            self.tasks.spawn(async move {
                let result = this.claim_and_complete(&caller, params, &digest).await;
                let failed = result.is_err();
                let _ = done.send(Some(result));
                if failed {
                    this.callbacks.forget_error(&flight);
                }
            });
            outcome
        });
        let ended = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| AppError::Internal("the callback ended without an outcome".to_owned()))?;
        let result = ended
            .clone()
            .unwrap_or_else(|| Err(AppError::Internal("no outcome".to_owned())));
        // Checked again against this caller, whoever started the completion.
        match result {
            Ok(CallbackOutcome::Authorized { connection, .. })
                if !caller.sees(&connection.tenant) =>
            {
                Err(unknown_state())
            }
            other => other,
        }
    }

    /// Claims the connection, then completes its authorization; or, when another replica holds
    /// the claim, waits for its outcome.
    async fn claim_and_complete(
        &self,
        caller: &Caller,
        params: CallbackParams,
        digest: &str,
    ) -> Result<CallbackOutcome, AppError> {
        let first = self
            .store
            .connection_by_state(digest)
            .await?
            .filter(|state| caller.sees(&state.tenant))
            .ok_or_else(unknown_state)?;
        let id = first.id;
        let pending = first.pending_authorization.as_deref();
        let started = Started {
            return_url: pending.and_then(|p| p.return_url.clone()),
            connect_session: pending.and_then(|p| p.connect_session),
        };
        if let Some(session) = started.connect_session {
            self.check_session_browser(session, params.cookies.as_deref())
                .await?;
        }
        if let Some(pending) = pending {
            self.check_authorization_browser(id, pending, params.cookies.as_deref())?;
        }
        // What the callback records carries the start's correlation id (a connect session's).
        let caller = &Caller {
            correlation_id: pending
                .and_then(|p| p.correlation_id.clone())
                .or_else(|| caller.correlation_id.clone()),
            ..caller.clone()
        };
        let owner = format!(
            "{}-callback-{}",
            self.refresh.owner,
            uuid::Uuid::new_v4().simple()
        );
        let waited_since = Instant::now();
        loop {
            let now = Utc::now();
            match self
                .store
                .acquire_refresh_lease(id, &owner, now, now + self.refresh.lease_ttl)
                .await?
            {
                Lease::Acquired { .. } => break,
                Lease::Busy => {
                    // Another delivery (or a refresh) holds the connection: once the pending
                    // authorization is gone, its outcome is this one's too.
                    let state = self.connection_state(id).await?;
                    if !pending_on(&state, digest) {
                        return Ok(recorded_outcome(state, started.clone()));
                    }
                    if waited_since.elapsed() > WAIT_FOR_OTHER {
                        return Err(AppError::Unavailable(
                            "this authorization is still being completed; reload the page"
                                .to_owned(),
                        ));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
        let result = async {
            let state = self.connection_state(id).await?;
            if !pending_on(&state, digest) {
                // Completed by another delivery between the lookup and the claim.
                return Ok(recorded_outcome(state, started.clone()));
            }
            self.complete_claimed(caller, params, state, digest).await
        }
        .await;
        if let Err(e) = self.store.release_refresh_lease(id, &owner, true).await {
            tracing::warn!(connection_id = %id, error = %e, "callback: lease not released; it expires");
        }
        if let Ok(CallbackOutcome::Authorized {
            connection,
            connect_session: Some(session),
            ..
        }) = &result
        {
            self.record_session_connection(*session, connection.id)
                .await;
        }
        result
    }
}

fn pending_on(state: &connection::State, digest: &str) -> bool {
    state
        .pending_authorization
        .as_deref()
        .is_some_and(|p| p.state_digest == digest)
}

/// Where a completed authorization leads the browser.
#[derive(Debug, Clone)]
struct Started {
    return_url: Option<String>,
    connect_session: Option<latchkey_domain::ConnectSessionId>,
}

/// What another delivery recorded, as this delivery's outcome.
fn recorded_outcome(state: connection::State, started: Started) -> CallbackOutcome {
    let Started {
        return_url,
        connect_session,
    } = started;
    match (&state.status, &state.last_error) {
        (connection::Status::Active, _) => CallbackOutcome::Authorized {
            connection: Box::new(state),
            return_url,
            connect_session,
        },
        (_, Some(error)) => CallbackOutcome::Failed {
            connection_id: state.id,
            error: error.code.clone(),
            description: error.description.clone(),
            return_url,
            connect_session,
        },
        _ => CallbackOutcome::Failed {
            connection_id: state.id,
            error: "authorization_failed".to_owned(),
            description: None,
            return_url,
            connect_session,
        },
    }
}
