//! The grants: starting and completing the authorization-code flow, client credentials, the
//! legacy password grant, handing out tokens, and revocation. Provider calls go through the
//! guarded [`ProviderClient`]; every secret is sealed before it reaches an event.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::{
    self, GrantCredentials, PendingAuthorization, RevocationOutcome, TokenSet,
};
use latchkey_domain::{
    AccountMapping, ConnectionId, DomainEvent, EventMeta, GrantType, IntegrationConfig,
    IntegrationId, ParamMap, Scope, Sealed, StreamId, TenantId, TokenPlacement, integration,
};
use latchkey_oauth::{
    AuthorizationRequest, ClientCredentials, Grant, Pkce, ProviderClient, TokenResponse,
    authorization_url, random_token,
};
use latchkey_store::{EventContext, EventStore};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::AppError;
use crate::refresh::{Need, RefreshState, plan_refresh};
use crate::service::Caller;
use crate::vault::Vault;

/// What `GetToken` guarantees when the caller names no `min_ttl`.
pub const DEFAULT_MIN_TTL: Duration = Duration::seconds(30);

#[derive(Debug, Clone)]
pub struct Grants {
    store: Arc<dyn EventStore>,
    vault: Arc<Vault>,
    provider: ProviderClient,
    callback_url: String,
    /// How long a started authorization waits for its callback.
    authorization_ttl: Duration,
    refresh: Arc<RefreshState>,
    /// What `GetToken` reads.
    cache: Arc<crate::cache::ProjectionCache>,
}

/// `StartAuthorization`'s input, checked.
#[derive(Debug)]
pub struct StartRequest {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    pub connection_id: Option<ConnectionId>,
    pub scopes: Option<Vec<Scope>>,
    pub extra: ParamMap,
    pub return_url: Option<Url>,
    pub profile: Option<connection::Profile>,
}

/// `ConnectClientCredentials`' input, checked: the connection's own client, or the integration's.
#[derive(Debug)]
pub struct ClientCredentialsRequest {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    pub own_client: Option<(String, SecretString)>,
    pub scopes: Option<Vec<Scope>>,
    pub extra: ParamMap,
    pub profile: Option<connection::Profile>,
}

/// `ConnectPassword`'s input, checked.
#[derive(Debug)]
pub struct PasswordRequest {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    pub username: String,
    pub password: SecretString,
    pub scopes: Option<Vec<Scope>>,
    pub profile: Option<connection::Profile>,
}

#[derive(Debug)]
pub struct Started {
    pub authorization_url: String,
    pub connection_id: ConnectionId,
    pub expires_at: DateTime<Utc>,
}

/// The query a provider redirects the browser back with.
#[derive(Debug, Default)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<SecretString>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

impl CallbackParams {
    /// Parses a query string (`code=…&state=…`); unknown parameters are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut params = Self::default();
        for (key, value) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "state" => params.state = Some(value),
                "code" => params.code = Some(SecretString::from(value)),
                "error" => params.error = Some(value),
                "error_description" => params.error_description = Some(value),
                "iss" => params.iss = Some(value),
                _ => {}
            }
        }
        params
    }
}

/// How a callback ended, once its `state` named a pending authorization.
#[derive(Debug)]
pub enum CallbackOutcome {
    Authorized {
        connection: Box<connection::State>,
        return_url: Option<String>,
    },
    Failed {
        connection_id: ConnectionId,
        error: String,
        description: Option<String>,
        return_url: Option<String>,
    },
}

/// Where a token goes on an API call.
#[derive(Debug)]
pub enum Placement {
    Header { name: String, value: SecretString },
    Query { param: String, value: SecretString },
}

/// What `GetToken` hands out.
#[derive(Debug)]
pub struct Credential {
    pub access_token: SecretString,
    pub placement: Placement,
    pub base_uri: Option<String>,
    /// The connection the token was read from (scopes, expiry, metadata, version), shared with
    /// the cache rather than copied.
    pub connection: Arc<connection::State>,
}

/// A digest of the one-time `state`: what the log keeps, so the log never holds the state itself.
fn state_digest(state: &str) -> String {
    latchkey_crypto::sha256_hex(state.as_bytes())
}

fn context(caller: &Caller, now: DateTime<Utc>) -> EventContext {
    EventContext {
        actor: caller.actor.clone(),
        correlation_id: caller.correlation_id.clone(),
        occurred_at: now,
    }
}

impl Grants {
    pub fn new(
        store: Arc<dyn EventStore>,
        vault: Arc<Vault>,
        provider: ProviderClient,
        callback_url: String,
        authorization_ttl: std::time::Duration,
        refresh: Arc<RefreshState>,
        cache: Arc<crate::cache::ProjectionCache>,
    ) -> Self {
        Self {
            store,
            vault,
            provider,
            callback_url,
            authorization_ttl: Duration::from_std(authorization_ttl)
                .unwrap_or_else(|_| Duration::minutes(10)),
            refresh,
            cache,
        }
    }

    pub(crate) fn refresh_state(&self) -> &RefreshState {
        &self.refresh
    }

    pub(crate) fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub(crate) fn provider(&self) -> &ProviderClient {
        &self.provider
    }

    pub(crate) async fn integration_state(
        &self,
        id: IntegrationId,
    ) -> Result<integration::State, AppError> {
        match self.store.integration(id).await? {
            Some(state) if !state.deleted => Ok(state),
            _ => Err(AppError::NotFound(format!("integration {id}"))),
        }
    }

    pub(crate) async fn connection_state(
        &self,
        id: ConnectionId,
    ) -> Result<connection::State, AppError> {
        match self.store.connection(id).await? {
            Some(state) if state.status != connection::Status::Deleted => Ok(state),
            _ => Err(AppError::NotFound(format!("connection {id}"))),
        }
    }

    pub(crate) async fn open_connection_secret(
        &self,
        id: ConnectionId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<SecretString, AppError> {
        self.vault
            .open(&StreamId::Connection(id), field, sealed)
            .await
    }

    pub(crate) async fn seal_connection_secret(
        &self,
        id: ConnectionId,
        field: Field,
        secret: &SecretString,
    ) -> Result<Sealed, AppError> {
        self.vault
            .seal(&StreamId::Connection(id), field, secret)
            .await
    }

    pub(crate) async fn open_integration_secret(
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

    pub(crate) async fn append_events(
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
                &context(caller, now),
            )
            .await?;
        crate::metrics::observe_append("connection", started.elapsed());
        self.connection_state(id).await
    }

    /// Seals a token response into the event's token set, with its refresh planned when the
    /// connection can refresh at all (a refresh token, or a grant it can run again).
    pub(crate) async fn seal_tokens(
        &self,
        id: ConnectionId,
        response: TokenResponse,
        config: &IntegrationConfig,
        requested: &[String],
        now: DateTime<Utc>,
        can_run_grant_again: bool,
    ) -> Result<TokenSet, AppError> {
        let owner = StreamId::Connection(id);
        let lifetime = response
            .expires_in
            .unwrap_or(u64::from(config.default_token_lifetime_secs));
        let expires_at = now + Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX / 2));
        let has_refresh_token = response.refresh_token.is_some();
        let refresh_at = (has_refresh_token || can_run_grant_again)
            .then(|| plan_refresh(config, now, expires_at, has_refresh_token));
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
            token_type: response.token_type,
            expires_at: Some(expires_at),
            scopes: response.scopes.unwrap_or_else(|| requested.to_vec()),
            metadata: response.metadata,
            refresh_at,
        })
    }

    pub async fn start_authorization(
        &self,
        caller: &Caller,
        mut request: StartRequest,
    ) -> Result<Started, AppError> {
        request.tenant = caller.acting_for(request.tenant)?;
        let integration = self.integration_state(request.integration_id).await?;
        let config = &integration.config;
        if config.grant_type != GrantType::AuthorizationCode {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} uses the {} grant; StartAuthorization is for authorization_code",
                integration.id,
                config.grant_type.as_str()
            )));
        }
        let Some(authorize_at) = &config.authorization_url else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} has no authorization_url",
                integration.id
            )));
        };
        let now = Utc::now();
        let (connection_id, mut events, expected, state) = match request.connection_id {
            Some(id) => {
                let state = self.connection_state(id).await?;
                if state.integration_id != integration.id || state.tenant != request.tenant {
                    // Same answer as a missing one: no probing of other tenants' connections.
                    return Err(AppError::NotFound(format!("connection {id}")));
                }
                let version = state.version;
                (id, Vec::new(), version, Some(state))
            }
            None => {
                let id = ConnectionId::new_v7();
                let created = connection::decide(
                    None,
                    connection::Command::Create {
                        connection_id: id,
                        integration_id: integration.id,
                        tenant: request.tenant.clone(),
                        grant_type: GrantType::AuthorizationCode,
                    },
                )?;
                let meta = EventMeta {
                    version: 1,
                    occurred_at: now,
                };
                let state = created
                    .iter()
                    .fold(None, |s, e| connection::apply(s, e, &meta));
                (id, created, 0, state)
            }
        };
        let state_token = random_token();
        let pkce = config.pkce.then(Pkce::generate);
        let owner = StreamId::Connection(connection_id);
        let verifier = match &pkce {
            Some(p) => Some(
                self.vault
                    .seal(&owner, Field::PkceVerifier, &p.verifier)
                    .await?,
            ),
            None => None,
        };
        let redirect_uri = config
            .redirect_uri
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_else(|| self.callback_url.clone());
        let scopes = request.scopes.unwrap_or_else(|| config.scopes.clone());
        let expires_at = now + self.authorization_ttl;
        let pending = PendingAuthorization {
            state_digest: state_digest(state_token.expose_secret()),
            expires_at,
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            redirect_uri: redirect_uri.clone(),
            pkce_verifier: verifier,
            return_url: request.return_url.map(String::from),
        };
        events.extend(connection::decide(
            state.as_ref(),
            connection::Command::StartAuthorization {
                authorization: pending,
            },
        )?);
        if let Some(profile) = request.profile {
            events.extend(connection::decide(
                state.as_ref(),
                connection::Command::UpdateProfile { profile },
            )?);
        }
        self.append_events(connection_id, expected, events, caller, now)
            .await?;
        let url = authorization_url(
            config,
            &authorize_at.url(),
            &AuthorizationRequest {
                redirect_uri: &redirect_uri,
                scopes: &scopes,
                state: state_token.expose_secret(),
                code_challenge: pkce.as_ref().map(|p| p.challenge.as_str()),
                extra_params: &request.extra,
            },
        );
        tracing::info!(connection_id = %connection_id, integration_id = %integration.id, "authorization started");
        Ok(Started {
            authorization_url: url.into(),
            connection_id,
            expires_at,
        })
    }

    /// Completes an authorization from the provider's callback. An unknown, expired or used
    /// `state` changes nothing; any other failure is recorded as `authorization_failed`.
    pub async fn complete_authorization(
        &self,
        caller: &Caller,
        params: CallbackParams,
    ) -> Result<CallbackOutcome, AppError> {
        let unknown = || {
            AppError::from(latchkey_domain::FieldViolation::new(
                "state",
                "is unknown, expired or already used; start the authorization again",
            ))
        };
        let state_param = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(unknown)?;
        let digest = state_digest(state_param);
        let state = self
            .store
            .connection_by_state(&digest)
            .await?
            .filter(|state| caller.sees(&state.tenant))
            .ok_or_else(unknown)?;
        let now = Utc::now();
        let Some(pending) = state
            .pending_authorization
            .clone()
            .filter(|p| p.state_digest == digest)
        else {
            return Err(unknown());
        };
        if pending.expires_at <= now {
            return Err(unknown());
        }
        let integration = self.integration_state(state.integration_id).await?;
        let config = &integration.config;
        let failed = |error: &str, description: Option<String>| (error.to_owned(), description);
        let failure = if let Some(error) = &params.error {
            Some(failed(error, params.error_description.clone()))
        } else {
            match (&params.iss, &config.issuer) {
                (Some(iss), Some(issuer))
                    if iss.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') =>
                {
                    Some(failed(
                        "invalid_iss",
                        Some(format!(
                            "the callback's iss {iss:?} is not the integration's issuer"
                        )),
                    ))
                }
                (None, _) if config.require_iss => Some(failed(
                    "invalid_iss",
                    Some("the provider sends iss on callbacks, and this one has none".to_owned()),
                )),
                _ if params.code.is_none() => Some(failed(
                    "invalid_request",
                    Some("the callback has no code".to_owned()),
                )),
                _ => None,
            }
        };
        let outcome = match (failure, &params.code) {
            (None, Some(code)) => {
                match self
                    .exchange_code(&state, &integration, &pending, code)
                    .await
                {
                    Ok(response) => match self.identify_account(config, &response).await {
                        Ok(account) => Ok((response, account)),
                        Err(e) => Err((
                            match e {
                                latchkey_oauth::OAuthError::InvalidIdToken { .. } => {
                                    "invalid_id_token"
                                }
                                _ => "account_unknown",
                            }
                            .to_owned(),
                            Some(e.to_string()),
                        )),
                    },
                    Err(failure) => Err(failure),
                }
            }
            (Some(failure), _) => Err(failure),
            (None, None) => Err(failed("invalid_request", None)),
        };
        match outcome {
            Ok((response, account)) => {
                // Connecting an account that already has a connection re-authorizes that one,
                // when the integration says so; only a fresh connection is folded into it.
                let twin = match (&account, config.reauthorize_same_account) {
                    (Some(account), true) if state.authorized_at.is_none() => {
                        self.connection_of_account(&state.tenant, integration.id, account, state.id)
                            .await?
                    }
                    _ => None,
                };
                let connection = match (twin, account) {
                    (Some(twin), Some(account)) => {
                        self.authorize_twin(
                            caller,
                            &state,
                            twin,
                            response,
                            account,
                            config,
                            &pending.scopes,
                            now,
                        )
                        .await?
                    }
                    (_, account) => {
                        let tokens = self
                            .seal_tokens(state.id, response, config, &pending.scopes, now, false)
                            .await?;
                        let events = connection::decide(
                            Some(&state),
                            connection::Command::Authorize {
                                grant_type: GrantType::AuthorizationCode,
                                tokens,
                                credentials: None,
                                now,
                                provider_account_id: account,
                                via: None,
                            },
                        )?;
                        let connection = self
                            .append_events(state.id, state.version, events, caller, now)
                            .await?;
                        tracing::info!(connection_id = %state.id, "authorization completed");
                        connection
                    }
                };
                self.validate_in_background(config, connection.id);
                Ok(CallbackOutcome::Authorized {
                    connection: Box::new(connection),
                    return_url: pending.return_url,
                })
            }
            Err((error, description)) => {
                let events = connection::decide(
                    Some(&state),
                    connection::Command::FailAuthorization {
                        error: error.clone(),
                        description: description.clone(),
                    },
                )?;
                self.append_events(state.id, state.version, events, caller, now)
                    .await?;
                tracing::info!(connection_id = %state.id, error, "authorization failed");
                Ok(CallbackOutcome::Failed {
                    connection_id: state.id,
                    error,
                    description,
                    return_url: pending.return_url,
                })
            }
        }
    }

    async fn exchange_code(
        &self,
        state: &connection::State,
        integration: &integration::State,
        pending: &PendingAuthorization,
        code: &SecretString,
    ) -> Result<TokenResponse, (String, Option<String>)> {
        let internal = |e: AppError| ("server_error".to_owned(), Some(e.to_string()));
        let verifier = match &pending.pkce_verifier {
            Some(v) => Some(
                self.open_connection_secret(state.id, Field::PkceVerifier, v)
                    .await
                    .map_err(internal)?,
            ),
            None => None,
        };
        let secret = self
            .open_integration_secret(integration)
            .await
            .map_err(internal)?;
        let config = &integration.config;
        let client = ClientCredentials {
            client_id: config.client_id.as_str(),
            client_secret: secret.as_ref(),
            method: config.client_auth,
        };
        let grant = Grant::AuthorizationCode {
            code,
            redirect_uri: &pending.redirect_uri,
            code_verifier: verifier.as_ref(),
        };
        self.provider
            .request_token(
                config,
                &config.token_url.url(),
                &client,
                &grant,
                &ParamMap::default(),
            )
            .await
            .map_err(|e| {
                (
                    e.error_code().unwrap_or("token_exchange_failed").to_owned(),
                    Some(e.to_string()),
                )
            })
    }

    /// Who the tokens belong to at the provider, by the integration's account mapping; `None`
    /// when it maps no accounts.
    pub(crate) async fn identify_account(
        &self,
        config: &IntegrationConfig,
        response: &TokenResponse,
    ) -> Result<Option<String>, latchkey_oauth::OAuthError> {
        let Some(mapping) = &config.account else {
            return Ok(None);
        };
        let account = match mapping {
            AccountMapping::IdToken { jwks_url } => {
                let Some(id_token) = &response.id_token else {
                    return Err(latchkey_oauth::OAuthError::InvalidIdToken {
                        reason: "the token response has no id_token (does the authorization ask \
                                 for the openid scope?)"
                            .to_owned(),
                    });
                };
                let issuer = config.issuer.as_ref().map(|i| i.as_str()).unwrap_or("");
                self.provider
                    .id_token_subject(id_token, &jwks_url.url(), issuer, config.client_id.as_str())
                    .await?
            }
            AccountMapping::Userinfo { url } => {
                self.provider
                    .account_from_endpoint(&url.url(), &response.access_token, "/sub")
                    .await?
            }
            AccountMapping::Endpoint { url, pointer } => {
                self.provider
                    .account_from_endpoint(&url.url(), &response.access_token, pointer)
                    .await?
            }
        };
        Ok(Some(account))
    }

    /// The live connection of a provider account for a tenant and integration, other than
    /// `except`: the oldest one, when there are several.
    async fn connection_of_account(
        &self,
        tenant: &TenantId,
        integration_id: IntegrationId,
        account: &str,
        except: ConnectionId,
    ) -> Result<Option<connection::State>, AppError> {
        let live = crate::service::live_connections_of_account(
            self.store.as_ref(),
            Some(tenant.clone()),
            integration_id,
            account,
        )
        .await?;
        Ok(live.into_iter().find(|c| c.id != except))
    }

    /// The authorization started on `started` is the same provider account as `twin`'s: the
    /// tokens go to `twin` (`authorized` with `via`), and `started` closes (`merged_into`) with
    /// its data key destroyed. `twin` is written first, so a crash in between loses no
    /// authorization; the started connection then simply expires pending.
    #[allow(clippy::too_many_arguments)]
    async fn authorize_twin(
        &self,
        caller: &Caller,
        started: &connection::State,
        mut twin: connection::State,
        response: TokenResponse,
        account: String,
        config: &IntegrationConfig,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<connection::State, AppError> {
        let tokens = self
            .seal_tokens(twin.id, response, config, scopes, now, false)
            .await?;
        let mut attempts = 0;
        let connection = loop {
            let events = connection::decide(
                Some(&twin),
                connection::Command::Authorize {
                    grant_type: GrantType::AuthorizationCode,
                    tokens: tokens.clone(),
                    credentials: None,
                    now,
                    provider_account_id: Some(account.clone()),
                    via: Some(started.id),
                },
            )?;
            match self
                .append_events(twin.id, twin.version, events, caller, now)
                .await
            {
                // The twin moved on meanwhile (a refresh): decide again on its new state.
                Err(AppError::Conflict(_)) if attempts < 3 => {
                    attempts += 1;
                    twin = self.connection_state(twin.id).await?;
                }
                other => break other?,
            }
        };
        let closing = connection::decide(
            Some(started),
            connection::Command::MergeInto { into: twin.id },
        )?;
        self.append_events_any(started.id, started.version, closing, caller)
            .await?;
        self.vault.shred(&StreamId::Connection(started.id)).await?;
        tracing::info!(connection_id = %twin.id, via = %started.id, "same provider account: the existing connection was re-authorized");
        Ok(connection)
    }

    /// Checks a newly authorized connection's token behind the caller, when its integration
    /// validates tokens.
    pub(crate) fn validate_in_background(&self, config: &IntegrationConfig, id: ConnectionId) {
        if config.validation.is_none() {
            return;
        }
        let grants = self.clone();
        tokio::spawn(async move {
            let caller = Caller::system("system:validator");
            if let Err(e) = grants.validate(&caller, id).await {
                tracing::warn!(connection_id = %id, error = %e, "validation after authorization did not complete");
            }
        });
    }

    /// Client credentials: the connection's own client, or the integration's.
    pub async fn connect_client_credentials(
        &self,
        caller: &Caller,
        request: ClientCredentialsRequest,
    ) -> Result<connection::State, AppError> {
        let ClientCredentialsRequest {
            integration_id,
            tenant,
            own_client,
            scopes,
            extra,
            profile,
        } = request;
        let tenant = caller.acting_for(tenant)?;
        let integration = self.integration_state(integration_id).await?;
        let config = &integration.config;
        if config.grant_type != GrantType::ClientCredentials {
            return Err(AppError::FailedPrecondition(format!(
                "integration {integration_id} uses the {} grant, not client_credentials",
                config.grant_type.as_str()
            )));
        }
        let scopes = scopes.unwrap_or_else(|| config.scopes.clone());
        let integration_secret = self.open_integration_secret(&integration).await?;
        let (client_id, secret) = match &own_client {
            Some((id, secret)) => (id.as_str(), Some(secret)),
            None => (config.client_id.as_str(), integration_secret.as_ref()),
        };
        let client = ClientCredentials {
            client_id,
            client_secret: secret,
            method: config.client_auth,
        };
        let response = self
            .provider
            .request_token(
                config,
                &config.token_url.url(),
                &client,
                &Grant::ClientCredentials { scopes: &scopes },
                &extra,
            )
            .await?;
        let id = ConnectionId::new_v7();
        let credentials = match own_client {
            Some((client_id, secret)) => Some(GrantCredentials::ClientCredentials {
                client_secret: Some(
                    self.seal_connection_secret(id, Field::ClientSecret, &secret)
                        .await?,
                ),
                client_id,
            }),
            None => None,
        };
        self.connect(
            caller,
            &integration,
            tenant,
            id,
            GrantType::ClientCredentials,
            response,
            credentials,
            &scopes,
            profile,
        )
        .await
    }

    /// The deprecated password grant, only where the integration allows it.
    pub async fn connect_password(
        &self,
        caller: &Caller,
        request: PasswordRequest,
    ) -> Result<connection::State, AppError> {
        let PasswordRequest {
            integration_id,
            tenant,
            username,
            password,
            scopes,
            profile,
        } = request;
        let tenant = caller.acting_for(tenant)?;
        let integration = self.integration_state(integration_id).await?;
        let config = &integration.config;
        if config.grant_type != GrantType::Password || !config.allow_password_grant {
            return Err(AppError::FailedPrecondition(format!(
                "integration {integration_id} does not allow the deprecated password grant \
                 (it needs grant_type password and allow_password_grant)"
            )));
        }
        let scopes = scopes.unwrap_or_else(|| config.scopes.clone());
        let secret = self.open_integration_secret(&integration).await?;
        let client = ClientCredentials {
            client_id: config.client_id.as_str(),
            client_secret: secret.as_ref(),
            method: config.client_auth,
        };
        let grant = Grant::Password {
            username: &username,
            password: &password,
            scopes: &scopes,
        };
        let response = self
            .provider
            .request_token(
                config,
                &config.token_url.url(),
                &client,
                &grant,
                &ParamMap::default(),
            )
            .await?;
        let id = ConnectionId::new_v7();
        let credentials = GrantCredentials::Password {
            password: self
                .seal_connection_secret(id, Field::Password, &password)
                .await?,
            username,
        };
        tracing::warn!(connection_id = %id, integration_id = %integration_id, actor = %caller.actor, "deprecated password grant used");
        self.connect(
            caller,
            &integration,
            tenant,
            id,
            GrantType::Password,
            response,
            Some(credentials),
            &scopes,
            profile,
        )
        .await
    }

    /// Records a new connection and its first tokens in one append.
    #[allow(clippy::too_many_arguments)]
    async fn connect(
        &self,
        caller: &Caller,
        integration: &integration::State,
        tenant: TenantId,
        id: ConnectionId,
        grant_type: GrantType,
        response: TokenResponse,
        credentials: Option<GrantCredentials>,
        scopes: &[Scope],
        profile: Option<connection::Profile>,
    ) -> Result<connection::State, AppError> {
        let now = Utc::now();
        let requested: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
        let provider_account_id = self
            .identify_account(&integration.config, &response)
            .await?;
        let tokens = self
            .seal_tokens(id, response, &integration.config, &requested, now, true)
            .await?;
        let mut events = connection::decide(
            None,
            connection::Command::Create {
                connection_id: id,
                integration_id: integration.id,
                tenant,
                grant_type,
            },
        )?;
        let meta = EventMeta {
            version: 1,
            occurred_at: now,
        };
        let created = events
            .iter()
            .fold(None, |s, e| connection::apply(s, e, &meta));
        events.extend(connection::decide(
            created.as_ref(),
            connection::Command::Authorize {
                grant_type,
                tokens,
                credentials,
                now,
                provider_account_id,
                via: None,
            },
        )?);
        if let Some(profile) = profile {
            events.extend(connection::decide(
                created.as_ref(),
                connection::Command::UpdateProfile { profile },
            )?);
        }
        let state = self.append_events(id, 0, events, caller, now).await?;
        tracing::info!(connection_id = %id, integration_id = %integration.id, grant = grant_type.as_str(), "connection authorized");
        self.validate_in_background(&integration.config, id);
        Ok(state)
    }

    /// A token valid at least `min_ttl` (default [`DEFAULT_MIN_TTL`]) in the integration's
    /// placement. One with less left is refreshed first; one inside the refresh margin but good
    /// for `min_ttl` is returned at once while one background refresh starts. A connection that
    /// needs the customer again is refused with the reason, never given an expired token.
    #[tracing::instrument(name = "get_token", skip_all, fields(connection_id = %id))]
    pub async fn get_token(
        &self,
        caller: &Caller,
        id: ConnectionId,
        min_ttl: Option<Duration>,
    ) -> Result<Credential, AppError> {
        let min_ttl = min_ttl.unwrap_or(DEFAULT_MIN_TTL);
        let mut state = match self.cache.connection(self.store.as_ref(), id).await? {
            Some(state) if state.status != connection::Status::Deleted => state,
            _ => return Err(AppError::NotFound(format!("connection {id}"))),
        };
        if !caller.sees(&state.tenant) {
            return Err(AppError::NotFound(format!("connection {id}")));
        }
        let now = Utc::now();
        let fresh_enough = |s: &connection::State| {
            s.status == connection::Status::Active
                && s.expires_at.is_some_and(|at| at - Utc::now() >= min_ttl)
        };
        if !fresh_enough(&state) {
            state = match state.status {
                connection::Status::Active | connection::Status::Expired => {
                    Arc::new(self.ensure_fresh(id, Need::MinTtl(min_ttl)).await?)
                }
                connection::Status::ReauthorizationRequired => {
                    let reason = state
                        .last_error
                        .as_ref()
                        .map(|e| {
                            format!(
                                ": {}{}",
                                e.code,
                                e.description
                                    .as_ref()
                                    .map(|d| format!(" ({d})"))
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_default();
                    return Err(AppError::FailedPrecondition(format!(
                        "connection {id} needs the customer to authorize again{reason}"
                    )));
                }
                other => {
                    return Err(AppError::FailedPrecondition(format!(
                        "connection {id} is {} and has no token to hand out",
                        other.as_str()
                    )));
                }
            };
            if !fresh_enough(&state) {
                return Err(AppError::FailedPrecondition(format!(
                    "connection {id}'s provider issues tokens that last less than the {}s asked \
                     for",
                    min_ttl.num_seconds()
                )));
            }
        } else if state.refresh_at.is_some_and(|at| at <= now) && !self.refresh.busy(id) {
            // Stale while revalidate: this token is good enough; refresh behind the caller.
            let grants = self.clone();
            tokio::spawn(async move {
                if let Err(e) = grants.ensure_fresh(id, Need::Due).await {
                    tracing::debug!(connection_id = %id, error = %e, "background refresh did not succeed");
                }
            });
        }
        let integration = match self
            .cache
            .integration(self.store.as_ref(), state.integration_id)
            .await?
        {
            Some(integration) if !integration.deleted => integration,
            _ => {
                return Err(AppError::NotFound(format!(
                    "integration {}",
                    state.integration_id
                )));
            }
        };
        let config = &integration.config;
        let Some(sealed) = &state.access_token else {
            return Err(AppError::FailedPrecondition(format!(
                "connection {id} has no access token"
            )));
        };
        let access_token = self
            .open_connection_secret(id, Field::AccessToken, sealed)
            .await?;
        let placement = match &config.token_placement {
            TokenPlacement::Header { name, prefix } => Placement::Header {
                name: name.clone(),
                value: SecretString::from(if prefix.is_empty() {
                    access_token.expose_secret().to_owned()
                } else {
                    format!("{prefix} {}", access_token.expose_secret())
                }),
            },
            TokenPlacement::Query { param } => Placement::Query {
                param: param.clone(),
                value: access_token.clone(),
            },
        };
        Ok(Credential {
            access_token,
            placement,
            base_uri: config.base_uri.as_ref().map(|u| u.as_str().to_owned()),
            connection: state,
        })
    }

    /// Checks the token at the provider; records `validated`. A token called invalid is refreshed
    /// at once; a grant that is gone ends `reauthorization_required` through the refresh.
    pub async fn validate(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<connection::State, AppError> {
        let state = self.connection_state(id).await?;
        if !caller.sees(&state.tenant) {
            return Err(AppError::NotFound(format!("connection {id}")));
        }
        let integration = self.integration_state(state.integration_id).await?;
        let config = &integration.config;
        let Some(validation) = &config.validation else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} has no token validation configured",
                integration.id
            )));
        };
        let Some(sealed) = &state.access_token else {
            return Err(AppError::FailedPrecondition(format!(
                "connection {id} has no token to validate"
            )));
        };
        let token = self
            .open_connection_secret(id, Field::AccessToken, sealed)
            .await?;
        let bearer = SecretString::from(format!("Bearer {}", token.expose_secret()));
        let outcome: Result<(bool, Option<String>), latchkey_oauth::OAuthError> = match validation {
            latchkey_domain::TokenValidation::Introspection { url } => {
                let secret = self.open_integration_secret(&integration).await?;
                let client = ClientCredentials {
                    client_id: config.client_id.as_str(),
                    client_secret: secret.as_ref(),
                    method: config.client_auth,
                };
                self.provider
                    .introspect(&url.url(), &client, &token)
                    .await
                    .map(|active| (active, (!active).then(|| "inactive".to_owned())))
            }
            latchkey_domain::TokenValidation::Userinfo { url } => self
                .provider
                .call_with_header("GET", &url.url(), "authorization", &bearer)
                .await
                .map(|r| match r.status {
                    200..=299 => (true, None),
                    401 | 403 => (false, Some(format!("HTTP {}", r.status))),
                    other => (true, Some(format!("HTTP {other}, not a verdict"))),
                }),
            latchkey_domain::TokenValidation::Probe {
                method,
                path,
                expected_status,
            } => {
                let base = config.base_uri.as_ref().map(|u| u.url()).ok_or_else(|| {
                    AppError::FailedPrecondition(
                        "a probe needs the integration's base_uri".to_owned(),
                    )
                })?;
                let url = base
                    .join(path.trim_start_matches('/'))
                    .map_err(|e| AppError::FailedPrecondition(format!("probe path {path}: {e}")))?;
                self.provider
                    .call_with_header(method, &url, "authorization", &bearer)
                    .await
                    .map(|r| {
                        let valid = r.status == *expected_status;
                        (valid, (!valid).then(|| format!("HTTP {}", r.status)))
                    })
            }
        };
        let (valid, reason) = outcome?;
        let mut current = state;
        let mut attempts = 0;
        let state = loop {
            let events = connection::decide(
                Some(&current),
                connection::Command::RecordValidation {
                    valid,
                    reason: reason.clone(),
                },
            )?;
            match self
                .append_events(id, current.version, events, caller, Utc::now())
                .await
            {
                // Another writer got there first: record the verdict on the new state, unless the
                // token it was about has been replaced meanwhile (then it says nothing).
                Err(AppError::Conflict(_)) if attempts < 3 => {
                    attempts += 1;
                    let latest = self.connection_state(id).await?;
                    if latest.access_token != current.access_token {
                        return Ok(latest);
                    }
                    current = latest;
                }
                other => break other?,
            }
        };
        tracing::info!(connection_id = %id, valid, "token validated at the provider");
        if valid {
            return Ok(state);
        }
        // Invalid: try a refresh. A permanent failure is recorded by the refresh itself.
        match self.ensure_fresh(id, Need::Force).await {
            Ok(state) => Ok(state),
            Err(AppError::FailedPrecondition(_)) => self.connection_state(id).await,
            Err(e) => Err(e),
        }
    }

    /// Deletes a connection: records `deleted`, then destroys its data key, so no token it ever
    /// held can be decrypted again by anyone; its history stays. Deleting again finishes a
    /// deletion that was cut short.
    pub async fn delete(&self, caller: &Caller, id: ConnectionId) -> Result<(), AppError> {
        let state = self
            .store
            .connection(id)
            .await?
            .filter(|state| caller.sees(&state.tenant))
            .ok_or_else(|| AppError::NotFound(format!("connection {id}")))?;
        if state.status != connection::Status::Deleted {
            let events = connection::decide(Some(&state), connection::Command::Delete)?;
            self.append_events_any(id, state.version, events, caller)
                .await?;
        }
        self.vault.shred(&StreamId::Connection(id)).await?;
        tracing::info!(connection_id = %id, "connection deleted and its data key destroyed");
        Ok(())
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
                &context(caller, Utc::now()),
            )
            .await?;
        Ok(())
    }

    /// Revokes at the provider (RFC 7009: refresh token first, then access token) when it has a
    /// revocation endpoint, and records `revoked` with its answers. Revoking a revoked connection
    /// changes nothing.
    pub async fn revoke(
        &self,
        caller: &Caller,
        id: ConnectionId,
        reason: String,
    ) -> Result<connection::State, AppError> {
        let state = self.connection_state(id).await?;
        if !caller.sees(&state.tenant) {
            return Err(AppError::NotFound(format!("connection {id}")));
        }
        if state.status == connection::Status::Revoked {
            return Ok(state);
        }
        let integration = self.integration_state(state.integration_id).await?;
        let config = &integration.config;
        let mut outcomes: Vec<RevocationOutcome> = Vec::new();
        if let Some(revocation_url) = &config.revocation_url {
            let integration_secret = self.open_integration_secret(&integration).await?;
            let own_secret;
            let (client_id, secret) = match state.credentials.as_deref() {
                Some(GrantCredentials::ClientCredentials {
                    client_id,
                    client_secret,
                }) => {
                    own_secret = match client_secret {
                        Some(s) => Some(
                            self.open_connection_secret(id, Field::ClientSecret, s)
                                .await?,
                        ),
                        None => None,
                    };
                    (client_id.as_str(), own_secret.as_ref())
                }
                _ => (config.client_id.as_str(), integration_secret.as_ref()),
            };
            let client = ClientCredentials {
                client_id,
                client_secret: secret,
                method: config.client_auth,
            };
            let url = revocation_url.url();
            if let Some(sealed) = &state.refresh_token {
                let token = self
                    .open_connection_secret(id, Field::RefreshToken, sealed)
                    .await?;
                outcomes.push(
                    self.provider
                        .revoke(&url, &client, &token, "refresh_token")
                        .await,
                );
            }
            if let Some(sealed) = &state.access_token {
                let token = self
                    .open_connection_secret(id, Field::AccessToken, sealed)
                    .await?;
                outcomes.push(
                    self.provider
                        .revoke(&url, &client, &token, "access_token")
                        .await,
                );
            }
        }
        let now = Utc::now();
        let events = connection::decide(
            Some(&state),
            connection::Command::Revoke {
                reason,
                provider: outcomes,
            },
        )?;
        let revoked = self
            .append_events(id, state.version, events, caller, now)
            .await?;
        tracing::info!(connection_id = %id, "connection revoked");
        Ok(revoked)
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_callback_query_parses_never_a_panic(query in ".{0,300}") {
            let params = CallbackParams::from_query(&query);
            if let Some(state) = params.state {
                prop_assert!(query.contains("state"), "{state}");
            }
        }
    }
}
