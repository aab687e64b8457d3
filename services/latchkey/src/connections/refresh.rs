//! The one place a refresh runs: one per connection at a time (single-flight in the process, a
//! lease in the database across replicas), the provider call, and a rotation-safe commit.
//!
//! Rotation safety: before a refresh token is sent, the lease records its digest; the digest is
//! cleared only when the outcome is committed. An attempt cut short (a crash between the
//! provider's answer and the commit) leaves the digest behind, and whoever takes the lease next
//! will not send that token again: with rotation and reuse detection a second use would revoke the
//! whole grant, so the connection asks for the customer instead (`refresh_interrupted`).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::refresh::{self, Failure, Need};
use latchkey_domain::connection::{self, GrantCredentials};
use latchkey_domain::{ConnectionId, GrantType, ParamMap, integration};
use latchkey_oauth::{ClientCredentials, Grant, OAuthError, TokenResponse};
use latchkey_store::Lease;

use super::{Connections, jitter};
use crate::callers::Caller;
use crate::error::AppError;

fn digest(sealed: &latchkey_domain::Sealed) -> String {
    latchkey_crypto::sha256_hex(sealed.as_bytes())
}

impl Connections {
    /// Brings the connection to what `need` asks for, refreshing at most once, and returns its
    /// state. Concurrent callers in this process wait for one refresh; other replicas wait on the
    /// database lease and then read what it committed.
    #[tracing::instrument(name = "refresh", skip_all, fields(connection_id = %id))]
    pub async fn ensure_fresh(
        &self,
        id: ConnectionId,
        need: Need,
    ) -> Result<connection::State, AppError> {
        let refresh = &self.refresh;
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
        let owner = self.refresh.owner.clone();
        let lease_ttl = self.refresh.lease_ttl;
        let mut state = self.connection_state(id).await?;
        if refresh::satisfied(&state, need, Utc::now()) {
            return Ok(state);
        }
        // Another replica may be refreshing: wait for its lease, then use what it committed.
        let deadline = Utc::now() + lease_ttl + Duration::seconds(5);
        let previous_digest = loop {
            let now = Utc::now();
            match self
                .store
                .acquire_refresh_lease(id, &owner, now, now + lease_ttl)
                .await?
            {
                Lease::Acquired { previous_digest } => break previous_digest,
                Lease::Busy if now < deadline => {
                    tokio::time::sleep(StdDuration::from_millis(50)).await;
                    state = self.connection_state(id).await?;
                    if refresh::satisfied(&state, need, Utc::now()) {
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
                self.store.release_refresh_lease(id, &owner).await?;
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
        if refresh::satisfied(&state, need, now) {
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
        if let Some(at) = refresh::retry_not_before(&state, need, now) {
            let code = state.last_error.as_ref().map_or("", |e| e.code.as_str());
            return Err(AppError::Unavailable(format!(
                "refreshing connection {id} failed ({code}); the next attempt is at {at}"
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
                    .store
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
        self.refresh.limiter.until_key_ready(&host).await;
        let outcome = self
            .provider
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

    /// Records a failed refresh as the domain classifies it (and expires a token past its
    /// expiry).
    async fn record_failure(
        &self,
        state: &connection::State,
        error: &OAuthError,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
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
        let events = refresh::decide_failure(state, failure, error.to_string(), now, jitter())?;
        self.append_events(state.id, state.version, events, caller, now)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::num::NonZeroU32;
    use std::sync::Arc;

    use latchkey_crypto::{Keyring, MasterKey, Sealer};
    use latchkey_domain::connection::{Status, TokenSet};
    use latchkey_domain::integration::IntegrationConfigInput;
    use latchkey_domain::{DomainEvent, IntegrationId, Sealed, StreamId, TenantId};
    use latchkey_oauth::{HttpPolicy, ProviderClient};
    use latchkey_store::testing::TempDir;
    use latchkey_store::{EventContext, EventStore, SqliteStore};
    use secrecy::SecretString;
    use tokio_util::task::TaskTracker;

    use super::*;
    use crate::cache::ProjectionCache;
    use crate::config::MasterKeySource;
    use crate::connections::ConnectionSettings;
    use crate::vault::Vault;

    fn context() -> EventContext {
        EventContext {
            actor: "test".to_owned(),
            correlation_id: None,
            occurred_at: Utc::now(),
        }
    }

    fn tokens(refresh: u8, expires_in: Duration) -> TokenSet {
        TokenSet {
            access_token: Sealed::from_bytes(vec![1]),
            refresh_token: Some(Sealed::from_bytes(vec![refresh])),
            token_type: "Bearer".to_owned(),
            expires_at: Some(Utc::now() + expires_in),
            scopes: vec![],
            metadata: BTreeMap::new(),
            refresh_at: None,
        }
    }

    /// A store with one integration whose token endpoint no test may reach (an attempt to call it
    /// fails as a network error, not as what the tests expect), and one active connection.
    async fn given_a_connection(
        expires_in: Duration,
    ) -> (TempDir, Arc<dyn EventStore>, Connections, ConnectionId) {
        let dir = TempDir::create();
        let store: Arc<dyn EventStore> = Arc::new(
            SqliteStore::open(&dir.path.join("refresh.db"))
                .await
                .expect("store"),
        );
        let integration_id = IntegrationId::new_v7();
        let config = IntegrationConfigInput {
            name: "P".to_owned(),
            grant_type: "client_credentials".to_owned(),
            token_url: "https://token.invalid/token".to_owned(),
            client_id: "c".to_owned(),
            ..Default::default()
        }
        .parse()
        .expect("config");
        let created = integration::decide(
            None,
            integration::Command::Create {
                integration_id,
                config,
                client_secret: None,
                webhook_secret: None,
            },
        )
        .expect("integration");
        store
            .append(
                StreamId::Integration(integration_id),
                0,
                created.into_iter().map(DomainEvent::from).collect(),
                &context(),
            )
            .await
            .expect("append integration");
        let id = ConnectionId::new_v7();
        let mut events = connection::decide(
            None,
            connection::Command::Create {
                connection_id: id,
                integration_id,
                tenant: TenantId::parse("acme").expect("tenant"),
                grant_type: GrantType::ClientCredentials,
            },
        )
        .expect("create");
        let meta = latchkey_domain::EventMeta {
            version: 1,
            occurred_at: Utc::now(),
        };
        let state = connection::apply(None, &events[0], &meta);
        events.extend(
            connection::decide(
                state.as_ref(),
                connection::Command::Authorize {
                    grant_type: GrantType::ClientCredentials,
                    tokens: tokens(2, expires_in),
                    credentials: None,
                    now: Utc::now(),
                    provider_account_id: None,
                    via: None,
                },
            )
            .expect("authorize"),
        );
        store
            .append(
                StreamId::Connection(id),
                0,
                events.into_iter().map(DomainEvent::from).collect(),
                &context(),
            )
            .await
            .expect("append connection");
        let keyring = Keyring::from_keys(vec![MasterKey::generate()]).expect("keyring");
        let vault = Arc::new(Vault::new(
            store.clone(),
            MasterKeySource::Env(SecretString::from("unused")),
            Sealer::new(keyring),
        ));
        let connections = Connections::new(
            store.clone(),
            vault,
            ProviderClient::new(HttpPolicy::default()).expect("client"),
            ProjectionCache::of(store.as_ref()),
            TaskTracker::new(),
            ConnectionSettings {
                callback_url: "https://latchkey.example/oauth/callback".to_owned(),
                authorization_ttl: StdDuration::from_secs(600),
                refresh_rate: NonZeroU32::MIN,
                refresh_lease: StdDuration::from_secs(60),
            },
        );
        (dir, store, connections, id)
    }

    #[tokio::test]
    async fn a_refresh_token_sent_by_an_attempt_cut_short_is_not_sent_again() {
        let (dir, store, connections, id) = given_a_connection(Duration::hours(1)).await;
        // Another replica took the lease, sent refresh token 2 and died before committing.
        let then = Utc::now() - Duration::minutes(2);
        let lease = store
            .acquire_refresh_lease(id, "crashed", then, then + Duration::minutes(1))
            .await
            .expect("lease");
        assert!(matches!(lease, Lease::Acquired { .. }));
        let sent = digest(&Sealed::from_bytes(vec![2]));
        assert!(
            store
                .record_refresh_attempt(id, "crashed", &sent)
                .await
                .expect("attempt")
        );

        let answer = connections.ensure_fresh(id, Need::Force).await;

        match answer {
            Err(AppError::FailedPrecondition(message)) => {
                assert!(message.contains("refresh_interrupted"), "{message}")
            }
            other => panic!("expected refresh_interrupted, got {other:?}"),
        }
        let state = connections.connection_state(id).await.expect("state");
        assert_eq!(state.status, Status::ReauthorizationRequired);
        assert_eq!(
            state.last_error.as_ref().map(|e| e.code.as_str()),
            Some("refresh_interrupted")
        );
        store.close().await;
        dir.remove();
    }

    #[tokio::test]
    async fn a_refresh_waits_for_another_replicas_lease_and_uses_what_it_committed() {
        let (dir, store, connections, id) = given_a_connection(Duration::seconds(10)).await;
        let now = Utc::now();
        let lease = store
            .acquire_refresh_lease(id, "other", now, now + Duration::minutes(1))
            .await
            .expect("lease");
        assert!(matches!(lease, Lease::Acquired { .. }));
        let caller = connections.ensure_fresh(id, Need::MinTtl(Duration::minutes(5)));
        let other_replica = async {
            // The caller is in the lease loop (the token lasts 10 s, it asks for 5 minutes).
            tokio::time::sleep(StdDuration::from_millis(120)).await;
            assert!(
                connections.refreshing(id),
                "single-flight holds the connection"
            );
            // The other replica commits its refresh (new refresh token 3, an hour), lets go.
            let current = connections.connection_state(id).await.expect("state");
            let refreshed = connection::decide(
                Some(&current),
                connection::Command::Refresh {
                    tokens: tokens(3, Duration::hours(1)),
                },
            )
            .expect("refresh");
            store
                .append(
                    StreamId::Connection(id),
                    current.version,
                    refreshed.into_iter().map(DomainEvent::from).collect(),
                    &context(),
                )
                .await
                .expect("append refresh");
            store
                .release_refresh_lease(id, "other")
                .await
                .expect("release");
            current.version
        };
        let (answer, before) = tokio::join!(caller, other_replica);
        let state = answer.expect("fresh");

        assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![3])));
        assert_eq!(state.version, before + 1, "no second refresh");
        assert!(!connections.refreshing(id));
        store.close().await;
        dir.remove();
    }
}
