//! The authorization-code flow: `StartAuthorization` (PKCE, a one-time `state`), the provider's
//! callback (hosted, or `CompleteAuthorization`), the code exchange, who the account is at the
//! provider, and folding a second connection of the same account into the first.

use chrono::{DateTime, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::{self, PendingAuthorization};
use latchkey_domain::integration::capture_callback_params;
use latchkey_domain::{
    AccountMapping, ConnectionId, EventMeta, GrantType, IntegrationConfig, IntegrationId, ParamMap,
    Scope, StreamId, TenantId, integration,
};
use latchkey_oauth::{
    AuthorizationRequest, Grant, Pkce, TokenResponse, authorization_url, random_token,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::Connections;
pub use super::callback_params::CallbackParams;
use super::callback_params::callback_failure;
use super::oauth_state::{state_digest, unknown_state};
use crate::callers::Caller;
use crate::error::AppError;
use crate::inbound::live_connections_of_account;

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
    /// Started from this hosted connect session (its browser alone may complete it).
    pub connect_session: Option<latchkey_domain::ConnectSessionId>,
    /// The integration's connection parameters, as given (checked here, against it).
    pub params: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Started {
    pub authorization_url: String,
    pub connection_id: ConnectionId,
    pub expires_at: DateTime<Utc>,
}

/// How a callback ended, once its `state` named a pending authorization.
#[derive(Debug, Clone)]
pub enum CallbackOutcome {
    Authorized {
        connection: Box<connection::State>,
        return_url: Option<String>,
        /// Started from this hosted connect session.
        connect_session: Option<latchkey_domain::ConnectSessionId>,
    },
    Failed {
        connection_id: ConnectionId,
        error: String,
        description: Option<String>,
        return_url: Option<String>,
        connect_session: Option<latchkey_domain::ConnectSessionId>,
    },
}

impl Connections {
    /// The browser goes back only where the platform said it may (an open redirect otherwise):
    /// an origin in `LATCHKEY_RETURN_URL_ORIGINS`, or in the `return_url_origins` of every one of
    /// `configs`.
    pub(super) fn check_return_url(
        &self,
        configs: &[&IntegrationConfig],
        url: &Url,
    ) -> Result<(), AppError> {
        let origin = latchkey_domain::origin_of(url);
        let allowed = self.return_url_origins.contains(&origin)
            || (!configs.is_empty()
                && configs
                    .iter()
                    .all(|c| c.connect.return_url_origins.contains(&origin)));
        if allowed {
            return Ok(());
        }
        Err(latchkey_domain::FieldViolation::new(
            "return_url",
            format!(
                "its origin {origin} is not allowed: add it to the integration's \
                 return_url_origins or to LATCHKEY_RETURN_URL_ORIGINS"
            ),
        )
        .into())
    }

    /// The connection an authorization starts on: the one named (of this integration and
    /// tenant), or a new one with the events that create it. With the version to append at.
    pub(super) async fn connection_to_authorize(
        &self,
        connection_id: Option<ConnectionId>,
        integration: &integration::State,
        tenant: &TenantId,
        now: DateTime<Utc>,
    ) -> Result<
        (
            ConnectionId,
            Vec<connection::Event>,
            u64,
            Option<connection::State>,
        ),
        AppError,
    > {
        Ok(match connection_id {
            Some(id) => {
                let state = self.connection_state(id).await?;
                if state.integration_id != integration.id || state.tenant != *tenant {
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
                        tenant: tenant.clone(),
                        // Authorization code, or device code for a device authorization.
                        grant_type: integration.config.grant_type,
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
        })
    }

    /// What an authorization starts from: an authorization-code integration, and a return URL
    /// the platform allows.
    fn check_start(
        &self,
        integration: &integration::State,
        return_url: Option<&Url>,
    ) -> Result<(), AppError> {
        let declared = &integration.config;
        if declared.grant_type != GrantType::AuthorizationCode {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} uses the {} grant; StartAuthorization is for authorization_code",
                integration.id,
                declared.grant_type.as_str()
            )));
        }
        match return_url {
            Some(url) => self.check_return_url(&[declared], url),
            None => Ok(()),
        }
    }

    /// Where the provider sends the browser back: the integration's own redirect URI, else
    /// Latchkey's callback.
    fn redirect_uri(&self, config: &IntegrationConfig) -> String {
        config
            .endpoints
            .redirect_uri
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_else(|| self.callback_url.clone())
    }

    pub async fn start_authorization(
        &self,
        caller: &Caller,
        mut request: StartRequest,
    ) -> Result<Started, AppError> {
        request.tenant = caller.acting_for(request.tenant)?;
        let integration = self
            .integration_for(caller, request.integration_id, &request.tenant)
            .await?;
        let declared = &integration.config;
        self.check_start(&integration, request.return_url.as_ref())?;
        let now = Utc::now();
        let (connection_id, mut events, expected, state) = self
            .connection_to_authorize(request.connection_id, &integration, &request.tenant, now)
            .await?;
        let existing = state.as_ref().filter(|_| request.connection_id.is_some());
        let values = super::param_values(declared, &request.params, existing)?;
        let config = &*super::configured(declared, &values)?;
        let Some(authorize_at) = &config.endpoints.authorization_url else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} has no authorization_url",
                integration.id
            )));
        };
        // A new connection takes its values now; new values for one that exists wait in the
        // pending authorization, applied only with the `authorized` they lead to.
        let pending_params = super::params_to_apply(existing, state.as_ref(), values, &mut events)?;
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
        let redirect_uri = self.redirect_uri(config);
        let scopes = request.scopes.unwrap_or_else(|| config.scopes.clone());
        super::within_allowed_scopes(config, &scopes)?;
        caller.may_set(&request.extra, &config.authorization_params, "extra_params")?;
        let expires_at = now + self.authorization_ttl;
        let provider_url = authorization_url(
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
        // Started by the API for Latchkey's own callback: the browser goes through Latchkey's
        // start link, which binds the flow to it (a connect session's browser is bound already;
        // a platform hosting its own callback binds it itself).
        let bound = request.connect_session.is_none() && redirect_uri == self.callback_url;
        // An unbound authorization goes to the provider now: pushed now, when it is pushed (a
        // refusal then records nothing); a bound one is pushed when its start link is opened.
        let browser_url = if bound {
            None
        } else {
            Some(
                self.browser_url(&integration, config, provider_url.clone())
                    .await?,
            )
        };
        let pending = PendingAuthorization {
            state_digest: state_digest(state_token.expose_secret()),
            expires_at,
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            redirect_uri: redirect_uri.clone(),
            pkce_verifier: verifier,
            return_url: request.return_url.map(String::from),
            correlation_id: caller.correlation_id.clone(),
            connect_session: request.connect_session,
            params: pending_params,
            provider_url: bound.then(|| super::start_link::without_state(&provider_url)),
            opened_by: None,
            device: None,
        };
        events.extend(super::started_events(
            state.as_ref(),
            pending,
            request.profile,
        )?);
        self.append_events(connection_id, expected, events, caller, now)
            .await?;
        let url = match browser_url {
            Some(url) => url.into(),
            None => format!(
                "{}/oauth/start/{}",
                self.public_base(),
                state_token.expose_secret()
            ),
        };
        tracing::info!(connection_id = %connection_id, integration_id = %integration.id, "authorization started");
        Ok(Started {
            authorization_url: url,
            connection_id,
            expires_at,
        })
    }

    /// Completes a claimed authorization (`callback.rs` claims it): exchanges the code, or
    /// records why not. `state` is the connection as read after the claim, still pending on
    /// `digest`.
    pub(super) async fn complete_claimed(
        &self,
        caller: &Caller,
        params: CallbackParams,
        state: connection::State,
        digest: &str,
    ) -> Result<CallbackOutcome, AppError> {
        let now = Utc::now();
        let Some(pending) = state
            .pending_authorization
            .as_deref()
            .filter(|p| p.state_digest == digest)
            .cloned()
        else {
            return Err(unknown_state());
        };
        if pending.expires_at <= now {
            return Err(unknown_state());
        }
        let integration = self.integration_state(state.integration_id).await?;
        let captured =
            capture_callback_params(&integration.config.connect.callback_params, &params.others);
        let mut values = pending
            .params
            .clone()
            .unwrap_or_else(|| state.params.clone());
        if let Ok(captured) = &captured {
            values.extend(captured.clone());
        }
        let config = &*super::configured(&integration.config, &values)?;
        let failure = callback_failure(&params, captured.as_ref().err(), config);
        let outcome = match (failure, &params.code) {
            (None, Some(code)) => {
                let response = self
                    .exchange_code(&state, (&integration, config), &pending, code)
                    .await;
                match response {
                    Ok(response) => self.identified(config, response).await,
                    Err(failure) => Err(failure),
                }
            }
            (Some(failure), _) => Err(failure),
            (None, None) => Err(("invalid_request".to_owned(), None)),
        };
        match outcome {
            Ok((response, account)) => {
                // Connecting an account that already has a connection re-authorizes that one,
                // when the integration says so; only a fresh connection is folded into it.
                let twin = match (&account, config.checks.reauthorize_same_account) {
                    (Some(account), true) if state.authorized_at.is_none() => {
                        self.connection_of_account(&state.tenant, integration.id, account, state.id)
                            .await?
                    }
                    _ => None,
                };
                let captured = connection::Command::CaptureCallback {
                    values: captured.unwrap_or_default(),
                };
                let connection = match (twin, account) {
                    (Some(twin), Some(account)) => {
                        self.authorize_twin(
                            caller,
                            &state,
                            twin,
                            response,
                            account,
                            (config, captured),
                            &pending.scopes,
                            now,
                        )
                        .await?
                    }
                    (_, account) => {
                        self.authorize_here(
                            caller,
                            &state,
                            response,
                            account,
                            (config, captured),
                            &pending,
                            now,
                        )
                        .await?
                    }
                };
                self.validate_in_background(config, connection.id);
                Ok(CallbackOutcome::Authorized {
                    connection: Box::new(connection),
                    return_url: pending.return_url,
                    connect_session: pending.connect_session,
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
                    connect_session: pending.connect_session,
                })
            }
        }
    }

    /// Authorizes the connection the callback came for: its tokens sealed, the values it brought
    /// and captured set, and a warning when its refresh token's end is near.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn authorize_here(
        &self,
        caller: &Caller,
        state: &connection::State,
        response: TokenResponse,
        account: Option<String>,
        (config, captured): (&IntegrationConfig, connection::Command),
        pending: &PendingAuthorization,
        now: DateTime<Utc>,
    ) -> Result<connection::State, AppError> {
        let tokens = self
            .seal_tokens(state.id, &response, config, &pending.scopes, now, false)
            .await?;
        let warning =
            latchkey_domain::connection::refresh::expiry_warning(config, None, &tokens, now);
        let mut events = match pending.params.clone() {
            Some(values) => {
                connection::decide(Some(state), connection::Command::SetParameters { values })?
            }
            None => Vec::new(),
        };
        events.extend(connection::decide(Some(state), captured)?);
        events.extend(connection::decide(
            Some(state),
            connection::Command::Authorize {
                grant_type: state.grant_type,
                tokens,
                credentials: None,
                now,
                provider_account_id: account,
                via: None,
                grant: None,
            },
        )?);
        if let Some(warning) = warning {
            events.extend(connection::decide(Some(state), warning)?);
        }
        let connection = self
            .append_events(state.id, state.version, events, caller, now)
            .await?;
        tracing::info!(connection_id = %state.id, "authorization completed");
        Ok(connection)
    }

    async fn exchange_code(
        &self,
        state: &connection::State,
        (integration, config): (&integration::State, &IntegrationConfig),
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
        let client = self
            .integration_client(integration, config)
            .await
            .map_err(internal)?
            .with_dpop(self.dpop_key(config, state.id).await.map_err(internal)?);
        let grant = Grant::AuthorizationCode {
            code,
            redirect_uri: &pending.redirect_uri,
            code_verifier: verifier.as_ref(),
        };
        self.provider
            .request_token(
                config,
                &config.endpoints.token_url.url(),
                &client.credentials(),
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
    /// The provider account a token response is about, or why it cannot be known (an ID token
    /// that does not check out, an account endpoint that does not say).
    pub(super) async fn identified(
        &self,
        config: &IntegrationConfig,
        response: TokenResponse,
    ) -> Result<(TokenResponse, Option<String>), (String, Option<String>)> {
        match self.identify_account(config, &response).await {
            Ok(account) => Ok((response, account)),
            Err(e) => {
                let error = match e {
                    latchkey_oauth::OAuthError::InvalidIdToken { .. } => "invalid_id_token",
                    _ => "account_unknown",
                };
                Err((error.to_owned(), Some(e.to_string())))
            }
        }
    }

    pub(crate) async fn identify_account(
        &self,
        config: &IntegrationConfig,
        response: &TokenResponse,
    ) -> Result<Option<String>, latchkey_oauth::OAuthError> {
        let Some(mapping) = &config.checks.account else {
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
                let issuer = config
                    .endpoints
                    .issuer
                    .as_ref()
                    .map(|i| i.as_str())
                    .unwrap_or("");
                self.provider
                    .id_token_subject(
                        id_token,
                        &jwks_url.url(),
                        issuer,
                        config.client.client_id.as_str(),
                    )
                    .await?
            }
            AccountMapping::Userinfo { url } => {
                self.provider
                    .account_from_endpoint(
                        ("GET", &url.url()),
                        &config.tokens.token_placement,
                        &response.access_token,
                        "/sub",
                    )
                    .await?
            }
            AccountMapping::Endpoint {
                url,
                pointer,
                method,
            } => {
                self.provider
                    .account_from_endpoint(
                        (method, &url.url()),
                        &config.tokens.token_placement,
                        &response.access_token,
                        pointer,
                    )
                    .await?
            }
            AccountMapping::TokenResponse { pointer } => {
                response.account_id.clone().ok_or_else(|| {
                    latchkey_oauth::OAuthError::InvalidResponse {
                        status: 200,
                        reason: format!("the token response has no string or number at {pointer}"),
                    }
                })?
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
        let live = live_connections_of_account(
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
        (config, captured): (&IntegrationConfig, connection::Command),
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<connection::State, AppError> {
        let tokens = self
            .seal_tokens(twin.id, &response, config, scopes, now, false)
            .await?;
        let mut attempts = 0;
        let connection = loop {
            let mut events = connection::decide(Some(&twin), captured.clone())?;
            events.extend(connection::decide(
                Some(&twin),
                connection::Command::Authorize {
                    grant_type: GrantType::AuthorizationCode,
                    tokens: tokens.clone(),
                    credentials: None,
                    now,
                    provider_account_id: Some(account.clone()),
                    via: Some(started.id),
                    grant: None,
                },
            )?);
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
}
