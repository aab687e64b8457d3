//! The connection use cases, one file each, found by name: `authorize` (start, callback, complete,
//! account identification, same-account merge), `connect` (client credentials, password), `token`
//! (`GetToken`, placement), `refresh` (the one place a refresh runs: single-flight, lease, provider
//! call, commit), `scheduler` (the proactive refresher and validation ticks), `validate`, `revoke`
//! (revoke, delete), `queries` (get, list, `as_of`, the profile) and `start_link` (the link an
//! API-started authorization opens through, which binds it to one browser).
//!
//! One type, [`Connections`], owns them; it is defined here with what every use case shares:
//! reading states, opening and sealing secrets, appending. The rules (when to refresh, what a
//! failure means) are the domain's (`latchkey_domain::connection::refresh`); this module does the
//! IO around them. Background work a use case starts (a refresh behind a caller, a validation
//! after an authorization) runs on the app's task tracker, so shutdown drains it.

pub mod authorize;
mod callback;
mod callback_params;
mod client;
mod client_keys;
mod device;
mod dpop;
mod exchange;
pub use device::{DeviceStarted, StartDevice};
pub use dpop::ProofRequest;
pub use exchange::ExchangeRequest;
pub mod connect;
mod flight;
pub mod import;
mod in_doubt;
mod oauth_state;
mod opened;
mod pushed;
pub use opened::Opened;
pub mod queries;
pub mod refresh;
mod refusals;
pub mod rejected;
pub mod revocations;
mod revoke;
pub mod scheduler;
pub mod service_account;
pub mod sessions;
mod settle;
pub mod start_link;
pub mod token;
mod validate;

use std::borrow::Cow;
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::refresh::{self as rules, Jitter};
use latchkey_domain::connection::{self, PendingAuthorization, TokenSet};
use latchkey_domain::integration::{ParamValues, check_param_values};
use latchkey_domain::{
    ConnectionId, DomainEvent, IntegrationConfig, IntegrationId, Scope, Sealed, StreamId, TenantId,
    integration,
};
use latchkey_oauth::{ProviderClient, TokenResponse};
use latchkey_store::EventStore;
use rand::Rng;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cache::ProjectionCache;
use crate::callers::Caller;
use crate::error::AppError;
use crate::vault::Vault;
use flight::RefreshState;

/// What the connection use cases are configured with.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Latchkey's callback, the redirect URI of integrations that name none.
    pub callback_url: String,
    /// How long a started authorization waits for its callback.
    pub authorization_ttl: std::time::Duration,
    /// Refresh requests per second to one provider host, from this process.
    pub refresh_rate: NonZeroU32,
    /// How long a refresh lease lasts.
    pub refresh_lease: std::time::Duration,
    /// The longest a provider call takes (`LATCHKEY_PROVIDER_TIMEOUT`): a refresh token sent
    /// again within a grace window must have this much of it left.
    pub provider_timeout: std::time::Duration,
    /// Origins every integration may send browsers back to (`LATCHKEY_RETURN_URL_ORIGINS`).
    pub return_url_origins: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Connections {
    store: Arc<dyn EventStore>,
    vault: Arc<Vault>,
    provider: ProviderClient,
    callback_url: String,
    /// How long a started authorization waits for its callback.
    authorization_ttl: Duration,
    return_url_origins: Arc<[String]>,
    refresh: Arc<RefreshState>,
    /// What `GetToken` reads.
    cache: Arc<ProjectionCache>,
    /// The app's tracker, for work that outlives the request that started it.
    tasks: TaskTracker,
    /// Cancelled at shutdown: no refresh starts after it, those under way finish.
    shutdown: CancellationToken,
    /// OAuth callbacks completing, or recently completed, in this process.
    callbacks: Arc<callback::Callbacks>,
    /// Workers' reports of refused tokens: one check at a time per connection.
    reports: Arc<rejected::Reports>,
    /// Tokens as `GetToken` hands them out, opened once per version.
    opened: Arc<opened::OpenedTokens>,
    /// The `private_key_jwt` clients' public keys, derived once per integration version.
    client_keys: Arc<client_keys::ClientKeys>,
}

/// Asked scopes must lie within the integration's `allowed_scopes`, when it sets them.
/// The connection parameters of a request, checked against the integration's declarations. A
/// request on an existing connection that gives none keeps the connection's own.
fn param_values(
    config: &IntegrationConfig,
    given: &[(String, String)],
    existing: Option<&connection::State>,
) -> Result<ParamValues, AppError> {
    match existing {
        Some(state) if given.is_empty() => Ok(state.params.clone()),
        _ => {
            let values = check_param_values(
                &config.connect.connection_params,
                given,
                "connection_params",
            )?;
            config.check_param_hosts(&values)?;
            Ok(values)
        }
    }
}

/// Connection parameters an authorization brings: a new connection takes them now (its events
/// appended to `events`); new values for one that exists wait in the pending authorization
/// (returned), applied only with the `authorized` they lead to.
fn params_to_apply(
    existing: Option<&connection::State>,
    state: Option<&connection::State>,
    values: ParamValues,
    events: &mut Vec<connection::Event>,
) -> Result<Option<ParamValues>, AppError> {
    Ok(match existing {
        Some(existing) if existing.params != values => Some(values),
        Some(_) => None,
        None => {
            events.extend(connection::decide(
                state,
                connection::Command::SetParameters { values },
            )?);
            None
        }
    })
}

/// The events of an authorization started on `state` (none: a connection created with it): the
/// pending authorization, and the profile the request gave.
fn started_events(
    state: Option<&connection::State>,
    pending: PendingAuthorization,
    profile: Option<connection::Profile>,
) -> Result<Vec<connection::Event>, AppError> {
    let mut events = connection::decide(
        state,
        connection::Command::StartAuthorization {
            authorization: pending,
        },
    )?;
    if let Some(profile) = profile {
        events.extend(connection::decide(
            state,
            connection::Command::UpdateProfile { profile },
        )?);
    }
    Ok(events)
}

/// The integration's configuration with its URLs filled for one connection (its parameters and
/// what its callback kept); borrowed when it has nothing to fill. For what Latchkey sends to the
/// provider: the filled hosts are held to `allowed_hosts` again (checked when the values were
/// given too, but the list may have shrunk since).
fn configured<'a>(
    config: &'a IntegrationConfig,
    values: &ParamValues,
) -> Result<Cow<'a, IntegrationConfig>, AppError> {
    config
        .check_param_hosts(values)
        .map_err(|errors| cannot_build(&errors))?;
    filled(config, values)
}

/// [`configured`] without the host check, for URLs Latchkey only hands out (`GetToken`'s
/// `base_uri`): nothing is sent there from here.
fn filled<'a>(
    config: &'a IntegrationConfig,
    values: &ParamValues,
) -> Result<Cow<'a, IntegrationConfig>, AppError> {
    config.for_connection(values).map_err(|v| cannot_build(&v))
}

fn cannot_build(why: &dyn std::fmt::Display) -> AppError {
    AppError::FailedPrecondition(format!(
        "the integration's URLs cannot be built for this connection: {why}"
    ))
}

fn within_allowed_scopes(config: &IntegrationConfig, asked: &[Scope]) -> Result<(), AppError> {
    if config.connect.allowed_scopes.is_empty() {
        return Ok(());
    }
    match asked
        .iter()
        .find(|s| !config.connect.allowed_scopes.contains(s))
    {
        Some(scope) => Err(latchkey_domain::FieldViolation::new(
            "scopes",
            format!(
                "{} is not one of the integration's allowed_scopes",
                scope.as_str()
            ),
        )
        .into()),
        None => Ok(()),
    }
}

/// What the lease notes of a refresh token: its digest, never the token.
fn digest(sealed: &Sealed) -> String {
    latchkey_crypto::sha256_hex(sealed.as_bytes())
}

/// A draw for the refresh rules' spreads.
fn jitter() -> Jitter {
    Jitter::new(rand::thread_rng().gen_range(0.0..=1.0))
}

impl Connections {
    pub fn new(
        store: Arc<dyn EventStore>,
        vault: Arc<Vault>,
        provider: ProviderClient,
        cache: Arc<ProjectionCache>,
        tasks: TaskTracker,
        shutdown: CancellationToken,
        settings: ConnectionSettings,
    ) -> Self {
        Self {
            store,
            vault,
            provider,
            callback_url: settings.callback_url,
            return_url_origins: settings.return_url_origins.into(),
            authorization_ttl: Duration::from_std(settings.authorization_ttl)
                .unwrap_or_else(|_| Duration::minutes(10)),
            refresh: Arc::new(RefreshState::new(
                settings.refresh_rate,
                settings.refresh_lease,
                settings.provider_timeout,
            )),
            cache,
            tasks,
            shutdown,
            callbacks: Arc::default(),
            reports: Arc::default(),
            opened: Arc::default(),
            client_keys: Arc::default(),
        }
    }

    /// Whether a refresh of this connection is under way in this process.
    pub fn refreshing(&self, id: ConnectionId) -> bool {
        self.refresh.busy(id)
    }

    async fn integration_state(&self, id: IntegrationId) -> Result<integration::State, AppError> {
        match self.store.integration(id).await? {
            Some(state) if !state.deleted => Ok(state),
            _ => Err(AppError::NotFound(format!("integration {id}"))),
        }
    }

    /// The public listener's base URL (`LATCHKEY_PUBLIC_URL`), without a trailing slash.
    pub fn public_base(&self) -> &str {
        self.callback_url
            .strip_suffix("/oauth/callback")
            .unwrap_or(&self.callback_url)
    }

    /// An integration this caller may connect `tenant` through: a shared one, or that tenant's
    /// own (whoever asks, an admin key included); another tenant's own is answered as missing.
    async fn integration_for(
        &self,
        caller: &Caller,
        id: IntegrationId,
        tenant: &TenantId,
    ) -> Result<integration::State, AppError> {
        let state = self.integration_state(id).await?;
        let owners_tenant = state.owner.as_ref().is_none_or(|owner| owner == tenant);
        if caller.uses(&state) && owners_tenant {
            Ok(state)
        } else {
            Err(AppError::NotFound(format!("integration {id}")))
        }
    }

    async fn connection_state(&self, id: ConnectionId) -> Result<connection::State, AppError> {
        match self.store.connection(id).await? {
            Some(state) if state.status != connection::Status::Deleted => Ok(state),
            _ => Err(AppError::NotFound(format!("connection {id}"))),
        }
    }

    async fn open_connection_secret(
        &self,
        id: ConnectionId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<SecretString, AppError> {
        self.vault
            .open(&StreamId::Connection(id), field, sealed)
            .await
    }

    async fn seal_connection_secret(
        &self,
        id: ConnectionId,
        field: Field,
        secret: &SecretString,
    ) -> Result<Sealed, AppError> {
        self.vault
            .seal(&StreamId::Connection(id), field, secret)
            .await
    }

    async fn open_integration_secret(
        &self,
        integration: &integration::State,
    ) -> Result<Option<SecretString>, AppError> {
        match &integration.client_secret {
            Some(secret) => Ok(Some(
                self.vault
                    .open(
                        &StreamId::Integration(integration.id),
                        Field::ClientSecret,
                        &secret.sealed,
                    )
                    .await?,
            )),
            None => Ok(None),
        }
    }

    async fn append_events(
        &self,
        id: ConnectionId,
        expected: u64,
        events: Vec<connection::Event>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<connection::State, AppError> {
        let events = events.into_iter().map(DomainEvent::from).collect();
        let started = std::time::Instant::now();
        self.store
            .append(
                StreamId::Connection(id),
                expected,
                events,
                &caller.context_at(now),
            )
            .await?;
        crate::metrics::observe_append("connection", started.elapsed());
        self.connection_state(id).await
    }

    async fn append_events_any(
        &self,
        id: ConnectionId,
        expected: u64,
        events: Vec<connection::Event>,
        caller: &Caller,
    ) -> Result<(), AppError> {
        let events = events.into_iter().map(DomainEvent::from).collect();
        self.store
            .append(
                StreamId::Connection(id),
                expected,
                events,
                &caller.context(),
            )
            .await?;
        Ok(())
    }

    /// Seals a token response into the event's token set, with its refresh planned when the
    /// connection can refresh at all (a refresh token, or a grant it can run again).
    async fn seal_tokens(
        &self,
        id: ConnectionId,
        response: &TokenResponse,
        config: &IntegrationConfig,
        requested: &[String],
        now: DateTime<Utc>,
        can_run_grant_again: bool,
    ) -> Result<TokenSet, AppError> {
        let owner = StreamId::Connection(id);
        // Counted from when the request left, never from when its answer was read.
        let sent = response.sent_at.unwrap_or(now).min(now);
        let expires_at =
            rules::token_expires_at(config, sent, response.expires_in, response.ends_at);
        let has_refresh_token = response.refresh_token.is_some();
        let refresh_at = (has_refresh_token || can_run_grant_again)
            .then(|| rules::refresh_at(config, now, expires_at, has_refresh_token, jitter()));
        let refresh_token_expires_at = response
            .refresh_token_expires_in
            .and_then(|secs| i64::try_from(secs).ok())
            .map(|secs| sent + Duration::seconds(secs));
        // Awake by the warning before the refresh token dies, to announce it in time.
        let refresh_at = rules::wake_at(config, refresh_at, refresh_token_expires_at, now);
        let refresh_token = match &response.refresh_token {
            Some(token) => Some(self.vault.seal(&owner, Field::RefreshToken, token).await?),
            None => None,
        };
        Ok(TokenSet {
            access_token: self
                .vault
                .seal(&owner, Field::AccessToken, &response.access_token)
                .await?,
            refresh_token,
            token_type: response.token_type.clone(),
            expires_at: Some(expires_at),
            scopes: response
                .scopes
                .clone()
                .unwrap_or_else(|| requested.to_vec()),
            metadata: response.metadata.clone(),
            refresh_at,
            refresh_token_expires_at,
        })
    }
}
