//! Keeping tokens fresh: one refresh per connection at a time (single-flight in the process, a
//! lease in the database across replicas), rotation-safe commits, failures classified, and the
//! proactive refresher that claims due connections.
//!
//! Rotation safety: before a refresh token is sent, the lease records its digest; the digest is
//! cleared only when the outcome is committed. An attempt cut short (a crash between the
//! provider's answer and the commit) leaves the digest behind, and whoever takes the lease next
//! will not send that token again: with rotation and reuse detection a second use would revoke the
//! whole grant, so the connection asks for the customer instead (`refresh_interrupted`).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use latchkey_crypto::Field;
use latchkey_domain::connection::{self, GrantCredentials};
use latchkey_domain::{ConnectionId, GrantType, IntegrationConfig, ParamMap, integration};
use latchkey_oauth::{ClientCredentials, Grant, OAuthError, TokenResponse};
use latchkey_store::{Lease, StoreError};
use rand::Rng;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::AppError;
use crate::grants::Grants;
use crate::service::Caller;

/// OAuth error codes that no retry can fix: the customer must authorize again.
const PERMANENT: &[&str] = &[
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "invalid_scope",
    "unsupported_grant_type",
    "access_denied",
    "invalid_request",
];

/// What a caller needs from a refresh.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// A token valid at least this long (`GetToken`).
    MinTtl(Duration),
    /// Whatever is due now (the refresher, and background refreshes).
    Due,
    /// A refresh now, whatever the token's age (`RefreshToken`).
    Force,
}

/// Per-process refresh machinery shared by every clone of [`Grants`].
#[derive(Debug)]
pub struct RefreshState {
    /// This process's lease owner name.
    pub owner: String,
    /// How long a refresh lease lasts: longer than a provider call can take, or another replica
    /// could take over while the call is still under way.
    lease_ttl: Duration,
    inflight: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl RefreshState {
    pub fn new(rate_per_provider: NonZeroU32, lease_ttl: StdDuration) -> Self {
        Self {
            owner: format!("latchkey-{}", uuid::Uuid::new_v4().simple()),
            lease_ttl: Duration::from_std(lease_ttl).unwrap_or_else(|_| Duration::seconds(60)),
            inflight: Mutex::new(HashMap::new()),
            limiter: RateLimiter::keyed(Quota::per_second(rate_per_provider)),
        }
    }

    fn lock_for(&self, id: ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id).or_default().clone()
    }

    fn forget(&self, id: ConnectionId, lock: &Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and the caller's: nobody else is waiting.
        if Arc::strong_count(lock) <= 2 {
            map.remove(&id);
        }
    }

    /// Whether a refresh of this connection is under way in this process.
    pub fn busy(&self, id: ConnectionId) -> bool {
        let map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id).is_some_and(|lock| lock.try_lock().is_err())
    }
}

fn digest(sealed: &latchkey_domain::Sealed) -> String {
    latchkey_crypto::sha256_hex(sealed.as_bytes())
}

/// Exponential backoff with jitter: 2 s, 4 s, 8 s… up to 5 minutes, ±25 %.
pub fn backoff(attempt: u32) -> Duration {
    let base = 2f64 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    let capped = base.min(300.0);
    let jitter = rand::thread_rng().gen_range(0.75..=1.25);
    Duration::milliseconds((capped * jitter * 1000.0) as i64)
}

/// When to refresh tokens that expire at `expires_at`: before expiry by the margin (at most half
/// the lifetime, for short-lived tokens), less up to a tenth of it at random so a fleet spreads
/// out, and before the refresh token would die unused.
pub fn plan_refresh(
    config: &IntegrationConfig,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    has_refresh_token: bool,
) -> DateTime<Utc> {
    let lifetime = (expires_at - now).max(Duration::zero());
    let lead = Duration::seconds(i64::from(config.refresh_margin_secs)).min(lifetime / 2);
    let spread = lead.num_milliseconds() / 10;
    let jitter = if spread > 0 {
        Duration::milliseconds(rand::thread_rng().gen_range(0..=spread))
    } else {
        Duration::zero()
    };
    let mut at = expires_at - lead - jitter;
    if let (true, Some(idle)) = (has_refresh_token, config.refresh_token_max_idle_secs) {
        at = at.min(now + Duration::seconds(i64::from(idle) * 9 / 10));
    }
    at
}

/// How a failed refresh is recorded.
enum Failure {
    Permanent {
        error: String,
        description: String,
    },
    Retryable {
        error: String,
        description: String,
        retry_after: Option<Duration>,
    },
    Stuck {
        error: String,
        description: String,
    },
}

fn classify(error: &OAuthError) -> Failure {
    let description = error.to_string();
    match error {
        OAuthError::Provider {
            error: Some(code), ..
        } if PERMANENT.contains(&code.as_str()) => Failure::Permanent {
            error: code.clone(),
            description,
        },
        OAuthError::Provider {
            status,
            retry_after,
            error: code,
            ..
        } if *status >= 500 || *status == 429 => Failure::Retryable {
            error: code.clone().unwrap_or_else(|| format!("http_{status}")),
            description,
            retry_after: retry_after.and_then(|d| Duration::from_std(d).ok()),
        },
        OAuthError::Timeout { .. } => Failure::Retryable {
            error: "timeout".to_owned(),
            description,
            retry_after: None,
        },
        OAuthError::Network { .. } => Failure::Retryable {
            error: "network".to_owned(),
            description,
            retry_after: None,
        },
        OAuthError::InvalidResponse { .. } => Failure::Retryable {
            error: "invalid_response".to_owned(),
            description,
            retry_after: None,
        },
        OAuthError::Provider {
            status,
            error: code,
            ..
        } => Failure::Stuck {
            error: code.clone().unwrap_or_else(|| format!("http_{status}")),
            description,
        },
        OAuthError::Refused { .. } => Failure::Stuck {
            error: "refused".to_owned(),
            description,
        },
        OAuthError::InvalidIdToken { .. } => Failure::Stuck {
            error: "invalid_id_token".to_owned(),
            description,
        },
    }
}

fn satisfied(state: &connection::State, need: Need, now: DateTime<Utc>) -> bool {
    let active = state.status == connection::Status::Active;
    match need {
        Need::MinTtl(min_ttl) => active && state.expires_at.is_some_and(|at| at - now >= min_ttl),
        Need::Due => {
            let expired = active && state.expires_at.is_some_and(|at| at <= now);
            !expired && state.refresh_at.is_none_or(|at| at > now)
        }
        Need::Force => false,
    }
}

impl Grants {
    /// Brings the connection to what `need` asks for, refreshing at most once, and returns its
    /// state. Concurrent callers in this process wait for one refresh; other replicas wait on the
    /// database lease and then read what it committed.
    #[tracing::instrument(name = "refresh", skip_all, fields(connection_id = %id))]
    pub async fn ensure_fresh(
        &self,
        id: ConnectionId,
        need: Need,
    ) -> Result<connection::State, AppError> {
        let refresh = self.refresh_state();
        let lock = refresh.lock_for(id);
        let result = {
            let _guard = lock.lock().await;
            self.refresh_locked(id, need).await
        };
        refresh.forget(id, &lock);
        result
    }

    async fn refresh_locked(
        &self,
        id: ConnectionId,
        need: Need,
    ) -> Result<connection::State, AppError> {
        let owner = self.refresh_state().owner.clone();
        let lease_ttl = self.refresh_state().lease_ttl;
        let mut state = self.connection_state(id).await?;
        if satisfied(&state, need, Utc::now()) {
            return Ok(state);
        }
        // Another replica may be refreshing: wait for its lease, then use what it committed.
        let deadline = Utc::now() + lease_ttl + Duration::seconds(5);
        let previous_digest = loop {
            let now = Utc::now();
            match self
                .store()
                .acquire_refresh_lease(id, &owner, now, now + lease_ttl)
                .await?
            {
                Lease::Acquired { previous_digest } => break previous_digest,
                Lease::Busy if now < deadline => {
                    tokio::time::sleep(StdDuration::from_millis(50)).await;
                    state = self.connection_state(id).await?;
                    if satisfied(&state, need, Utc::now()) {
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
        let result = self.refresh_leased(id, need, previous_digest, &owner).await;
        match &result {
            // The outcome is committed (or nothing was sent): the lease and its digest can go.
            Ok(_) | Err(AppError::FailedPrecondition(_) | AppError::Unavailable(_)) => {
                self.store().release_refresh_lease(id, &owner).await?;
            }
            // Not committed: keep the digest, so the token is not sent again.
            Err(_) => {}
        }
        result
    }

    async fn refresh_leased(
        &self,
        id: ConnectionId,
        need: Need,
        previous_digest: Option<String>,
        owner: &str,
    ) -> Result<connection::State, AppError> {
        let caller = Caller::system("system:refresher");
        // Re-read under the lease: a refresh another replica just finished is used, not repeated.
        let state = self.connection_state(id).await?;
        let now = Utc::now();
        if satisfied(&state, need, now) {
            return Ok(state);
        }
        use connection::Status::*;
        match state.status {
            Active | Expired => {}
            ReauthorizationRequired => {
                return Err(AppError::FailedPrecondition(format!(
                    "connection {id} needs the customer to authorize again: {}",
                    state
                        .last_error
                        .as_ref()
                        .map(|e| e.code.as_str())
                        .unwrap_or("reauthorization_required")
                )));
            }
            other => {
                return Err(AppError::FailedPrecondition(format!(
                    "connection {id} is {} and cannot be refreshed",
                    other.as_str()
                )));
            }
        }
        // In backoff after a failure, inline callers get the wait, not another attempt.
        if let (Need::MinTtl(_), Some(at), Some(error)) =
            (need, state.refresh_at, state.last_error.as_ref())
            && error.retryable
            && at > now
        {
            return Err(AppError::Unavailable(format!(
                "refreshing connection {id} failed ({}); the next attempt is at {at}",
                error.code
            )));
        }
        let integration = self.integration_state(state.integration_id).await?;
        let config = &integration.config;

        let grant_secret;
        let rt_plain;
        let password_plain;
        let integration_secret = self.open_integration_secret(&integration).await?;
        let (grant, client) = match (
            &state.refresh_token,
            state.credentials.as_deref(),
            state.grant_type,
        ) {
            (Some(sealed), credentials, _) => {
                let rt_digest = digest(sealed);
                if previous_digest.as_deref() == Some(rt_digest.as_str()) {
                    let events = connection::decide(
                        Some(&state),
                        connection::Command::RequireReauthorization {
                            error: "refresh_interrupted".to_owned(),
                            description: Some(
                                "an earlier refresh was cut short after its refresh token was \
                                 sent; that token may have been rotated, so it is not sent again"
                                    .to_owned(),
                            ),
                        },
                    )?;
                    self.append_events(id, state.version, events, &caller, now)
                        .await?;
                    return Err(AppError::FailedPrecondition(format!(
                        "connection {id} needs the customer to authorize again: refresh_interrupted"
                    )));
                }
                if !self
                    .store()
                    .record_refresh_attempt(id, owner, &rt_digest)
                    .await?
                {
                    return Err(AppError::Unavailable(format!(
                        "lost the refresh lease of connection {id}; try again"
                    )));
                }
                rt_plain = self
                    .open_connection_secret(id, Field::RefreshToken, sealed)
                    .await?;
                let client = match credentials {
                    Some(GrantCredentials::ClientCredentials {
                        client_id,
                        client_secret: Some(secret),
                    }) => {
                        grant_secret = Some(
                            self.open_connection_secret(id, Field::ClientSecret, secret)
                                .await?,
                        );
                        (client_id.clone(), grant_secret.as_ref())
                    }
                    _ => (
                        config.client_id.as_str().to_owned(),
                        integration_secret.as_ref(),
                    ),
                };
                (
                    Grant::RefreshToken {
                        refresh_token: &rt_plain,
                    },
                    client,
                )
            }
            (
                None,
                Some(GrantCredentials::ClientCredentials {
                    client_id,
                    client_secret,
                }),
                _,
            ) => {
                grant_secret = match client_secret {
                    Some(s) => Some(
                        self.open_connection_secret(id, Field::ClientSecret, s)
                            .await?,
                    ),
                    None => None,
                };
                (
                    Grant::ClientCredentials {
                        scopes: &config.scopes,
                    },
                    (client_id.clone(), grant_secret.as_ref()),
                )
            }
            (None, None, GrantType::ClientCredentials) => (
                Grant::ClientCredentials {
                    scopes: &config.scopes,
                },
                (
                    config.client_id.as_str().to_owned(),
                    integration_secret.as_ref(),
                ),
            ),
            (None, Some(GrantCredentials::Password { username, password }), _) => {
                password_plain = self
                    .open_connection_secret(id, Field::Password, password)
                    .await?;
                (
                    Grant::Password {
                        username,
                        password: &password_plain,
                        scopes: &config.scopes,
                    },
                    (
                        config.client_id.as_str().to_owned(),
                        integration_secret.as_ref(),
                    ),
                )
            }
            _ => {
                // Nothing to refresh with: say so, and expire the token when its time is up.
                if state.status == Active && state.expires_at.is_some_and(|at| at <= now) {
                    let events =
                        connection::decide(Some(&state), connection::Command::Expire { now })?;
                    self.append_events(id, state.version, events, &caller, now)
                        .await?;
                }
                return Err(AppError::FailedPrecondition(format!(
                    "connection {id} has no refresh token; the customer must authorize again \
                     when its token expires"
                )));
            }
        };
        let (client_id, client_secret) = client;
        let client = ClientCredentials {
            client_id: &client_id,
            client_secret,
            method: config.client_auth,
        };
        let token_url = config.token_url.url();
        let host = token_url.host_str().unwrap_or_default().to_owned();
        self.refresh_state().limiter.until_key_ready(&host).await;
        let outcome = self
            .provider()
            .request_token(config, &token_url, &client, &grant, &ParamMap::default())
            .await;
        let now = Utc::now();
        match outcome {
            Ok(response) => {
                self.commit_refresh(&state, &integration, response, &caller)
                    .await
            }
            Err(error) => {
                self.record_failure(&state, &error, &caller, now).await?;
                Err(AppError::from(error))
            }
        }
    }

    /// Commits new tokens, retrying the append (never the provider call) on conflicts and
    /// transient database errors.
    async fn commit_refresh(
        &self,
        state: &connection::State,
        integration: &integration::State,
        response: TokenResponse,
        caller: &Caller,
    ) -> Result<connection::State, AppError> {
        let now = Utc::now();
        // This refresh ran by some means (a refresh token, kept if not rotated, or a grant run
        // again), and the next one can run the same way.
        let tokens = self
            .seal_tokens(
                state.id,
                response,
                &integration.config,
                &state.scopes,
                now,
                true,
            )
            .await?;
        let mut current = state.clone();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let events = connection::decide(
                Some(&current),
                connection::Command::Refresh {
                    tokens: tokens.clone(),
                },
            )?;
            match self
                .append_events(current.id, current.version, events, caller, now)
                .await
            {
                Ok(state) => {
                    tracing::info!(connection_id = %state.id, version = state.version, "refreshed");
                    crate::metrics::count_refresh("refreshed");
                    return Ok(state);
                }
                Err(AppError::Conflict(_)) if attempt < 5 => {
                    current = self.connection_state(state.id).await?;
                }
                Err(AppError::Internal(e)) if attempt < 5 => {
                    tracing::warn!(connection_id = %state.id, attempt, error = %e, "committing a refresh failed; retrying the append");
                    tokio::time::sleep(StdDuration::from_millis(100 * u64::from(attempt))).await;
                    current = self.connection_state(state.id).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn record_failure(
        &self,
        state: &connection::State,
        error: &OAuthError,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let failure = classify(error);
        crate::metrics::count_refresh(match &failure {
            Failure::Permanent { .. } => "reauthorization_required",
            Failure::Retryable { .. } => "failed_retryable",
            Failure::Stuck { .. } => "failed",
        });
        let command = match failure {
            Failure::Permanent { error, description } => {
                tracing::warn!(connection_id = %state.id, error, "refresh refused for good; reauthorization required");
                connection::Command::RequireReauthorization {
                    error,
                    description: Some(description),
                }
            }
            Failure::Retryable {
                error,
                description,
                retry_after,
            } => {
                let attempt = state.consecutive_failures.saturating_add(1);
                let wait = backoff(attempt).max(retry_after.unwrap_or_else(Duration::zero));
                tracing::warn!(connection_id = %state.id, error, attempt, "refresh failed; will retry");
                connection::Command::RecordRefreshFailure {
                    error,
                    description: Some(description),
                    retryable: true,
                    retry_at: Some(now + wait),
                }
            }
            Failure::Stuck { error, description } => {
                tracing::warn!(connection_id = %state.id, error, "refresh failed and will not be retried automatically");
                connection::Command::RecordRefreshFailure {
                    error,
                    description: Some(description),
                    retryable: false,
                    retry_at: None,
                }
            }
        };
        let mut events = connection::decide(Some(state), command)?;
        // A token past its expiry with no replacement is expired.
        if state.status == connection::Status::Active
            && state.expires_at.is_some_and(|at| at <= now)
        {
            let meta = latchkey_domain::EventMeta {
                version: state.version + 1,
                occurred_at: now,
            };
            let after = events
                .iter()
                .try_fold(state.clone(), |s, e| connection::apply(Some(s), e, &meta));
            if after
                .as_ref()
                .is_some_and(|s| s.status == connection::Status::Active)
            {
                events.extend(connection::decide(
                    after.as_ref(),
                    connection::Command::Expire { now },
                )?);
            }
        }
        self.append_events(state.id, state.version, events, caller, now)
            .await?;
        Ok(())
    }
}

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

/// Claims due connections and refreshes them, `concurrency` at a time, until `shutdown`; then
/// lets the refreshes under way finish.
pub async fn run_refresher(
    grants: Grants,
    settings: RefresherSettings,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let queued: Arc<Mutex<HashSet<ConnectionId>>> = Arc::default();
    let tracker = TaskTracker::new();
    loop {
        let jitter = rand::thread_rng().gen_range(0..=settings.tick.as_millis() as u64 / 5);
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(settings.tick + StdDuration::from_millis(jitter)) => {}
        }
        let due = match grants
            .store()
            .due_for_refresh(Utc::now(), settings.batch)
            .await
        {
            Ok(due) => due,
            Err(StoreError::Database(e)) => {
                tracing::warn!(error = %e, "refresher cannot read due connections");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "refresher cannot read due connections");
                continue;
            }
        };
        for id in due {
            if grants.refresh_state().busy(id)
                || !queued.lock().unwrap_or_else(|p| p.into_inner()).insert(id)
            {
                continue;
            }
            let permit = tokio::select! {
                () = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let grants = grants.clone();
            let queued = queued.clone();
            tracker.spawn(async move {
                if let Err(e) = grants.ensure_fresh(id, Need::Due).await {
                    tracing::debug!(connection_id = %id, error = %e, "scheduled refresh did not succeed");
                }
                queued.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                drop(permit);
            });
        }
    }
    tracker.close();
    tracker.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for (attempt, base) in [(1u32, 2_000i64), (2, 4_000), (3, 8_000), (20, 300_000)] {
            let wait = backoff(attempt).num_milliseconds();
            assert!(
                (base * 3 / 4..=base * 5 / 4).contains(&wait),
                "attempt {attempt}: {wait} ms"
            );
        }
    }

    #[test]
    fn failures_are_classified_as_providers_mean_them() {
        let provider = |status, code: Option<&str>| OAuthError::Provider {
            status,
            error: code.map(str::to_owned),
            description: None,
            retry_after: Some(StdDuration::from_secs(5)),
        };
        assert!(matches!(
            classify(&provider(400, Some("invalid_grant"))),
            Failure::Permanent { .. }
        ));
        assert!(matches!(
            classify(&provider(401, Some("invalid_client"))),
            Failure::Permanent { .. }
        ));
        assert!(matches!(
            classify(&provider(429, None)),
            Failure::Retryable { retry_after: Some(d), .. } if d == Duration::seconds(5)
        ));
        assert!(matches!(
            classify(&provider(503, None)),
            Failure::Retryable { .. }
        ));
        assert!(matches!(
            classify(&OAuthError::Timeout {
                url: "https://x".to_owned()
            }),
            Failure::Retryable { .. }
        ));
        assert!(matches!(
            classify(&provider(404, None)),
            Failure::Stuck { .. }
        ));
    }

    #[test]
    fn refreshes_are_planned_before_expiry_and_before_idle_death() {
        use latchkey_domain::integration::IntegrationConfigInput;
        let config = |idle: Option<u32>| {
            IntegrationConfigInput {
                name: "P".to_owned(),
                grant_type: "client_credentials".to_owned(),
                token_url: "https://p.example/token".to_owned(),
                client_id: "c".to_owned(),
                refresh_margin_secs: Some(300),
                refresh_token_max_idle_secs: idle,
                ..Default::default()
            }
            .parse()
            .unwrap()
        };
        let now = Utc::now();
        let hour = now + Duration::hours(1);
        let at = plan_refresh(&config(None), now, hour, true);
        assert!(
            at <= hour - Duration::seconds(300) && at >= hour - Duration::seconds(330),
            "{at}"
        );
        let short = plan_refresh(&config(None), now, now + Duration::seconds(60), true);
        assert!(
            short <= now + Duration::seconds(30) && short > now,
            "half the lifetime: {short}"
        );
        let year = now + Duration::days(365);
        let idle = plan_refresh(&config(Some(7 * 24 * 3600)), now, year, true);
        assert!(
            idle < now + Duration::days(7),
            "before the refresh token dies unused"
        );
    }
}
