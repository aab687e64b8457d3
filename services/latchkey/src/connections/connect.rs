//! Connections without a consent screen: client credentials (the integration's client, or the
//! connection's own) and the deprecated password grant, each recorded with its first tokens in
//! one append.

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::connection::{self, GrantCredentials, GrantRequest};
use latchkey_domain::integration::ParamValues;
use latchkey_domain::{
    ConnectionId, GrantType, IntegrationConfig, IntegrationId, ParamMap, Scope, TenantId,
    integration,
};
use latchkey_oauth::{Grant, TokenResponse};

use super::client::Client;
use secrecy::SecretString;

use super::Connections;
use crate::callers::Caller;
use crate::error::AppError;

/// `ConnectClientCredentials`' input, checked: the connection's own client, or the integration's.
#[derive(Debug)]
pub struct ClientCredentialsRequest {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    pub own_client: Option<(String, SecretString)>,
    pub scopes: Option<Vec<Scope>>,
    pub extra: ParamMap,
    pub profile: Option<connection::Profile>,
    /// The integration's connection parameters, as given (checked here, against it).
    pub params: Vec<(String, String)>,
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
    /// The integration's connection parameters, as given (checked here, against it).
    pub params: Vec<(String, String)>,
}

impl Connections {
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
            params,
        } = request;
        let tenant = caller.acting_for(tenant)?;
        let integration = self
            .integration_for(caller, integration_id, &tenant)
            .await?;
        let values = super::param_values(&integration.config, &params, None)?;
        let config = &*super::configured(&integration.config, &values)?;
        if config.grant_type != GrantType::ClientCredentials {
            return Err(AppError::FailedPrecondition(format!(
                "integration {integration_id} uses the {} grant, not client_credentials",
                config.grant_type.as_str()
            )));
        }
        let scopes = scopes.unwrap_or_else(|| config.scopes.clone());
        super::within_allowed_scopes(config, &scopes)?;
        caller.may_set(&extra, &config.token_params, "extra_params")?;
        let id = ConnectionId::new_v7();
        let client = match &own_client {
            Some((client_id, secret)) => Client::own(&self.provider, client_id, secret, config)?,
            None => self.integration_client(&integration, config).await?,
        }
        .with_dpop(self.dpop_key(config, id).await?);
        let response = self
            .provider
            .request_token(
                config,
                &config.endpoints.token_url.url(),
                &client.credentials(),
                &Grant::ClientCredentials { scopes: &scopes },
                &extra,
            )
            .await?;
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
            (&integration, config, values),
            tenant,
            id,
            GrantType::ClientCredentials,
            response,
            credentials,
            GrantRequest {
                scopes: scope_names(&scopes),
                params: extra,
            },
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
            params,
        } = request;
        let tenant = caller.acting_for(tenant)?;
        let integration = self
            .integration_for(caller, integration_id, &tenant)
            .await?;
        let values = super::param_values(&integration.config, &params, None)?;
        let config = &*super::configured(&integration.config, &values)?;
        if config.grant_type != GrantType::Password || !config.allow_password_grant {
            return Err(AppError::FailedPrecondition(format!(
                "integration {integration_id} does not allow the deprecated password grant \
                 (it needs grant_type password and allow_password_grant)"
            )));
        }
        let scopes = scopes.unwrap_or_else(|| config.scopes.clone());
        super::within_allowed_scopes(config, &scopes)?;
        let id = ConnectionId::new_v7();
        let client = self
            .integration_client(&integration, config)
            .await?
            .with_dpop(self.dpop_key(config, id).await?);
        let grant = Grant::Password {
            username: &username,
            password: &password,
            scopes: &scopes,
        };
        let response = self
            .provider
            .request_token(
                config,
                &config.endpoints.token_url.url(),
                &client.credentials(),
                &grant,
                &ParamMap::default(),
            )
            .await?;
        let credentials = GrantCredentials::Password {
            password: self
                .seal_connection_secret(id, Field::Password, &password)
                .await?,
            username,
        };
        tracing::warn!(connection_id = %id, integration_id = %integration_id, actor = %caller.actor, "deprecated password grant used");
        self.connect(
            caller,
            (&integration, config, values),
            tenant,
            id,
            GrantType::Password,
            response,
            Some(credentials),
            GrantRequest {
                scopes: scope_names(&scopes),
                params: ParamMap::default(),
            },
            profile,
        )
        .await
    }

    /// Records a new connection and its first tokens in one append.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn connect(
        &self,
        caller: &Caller,
        (integration, config, values): (&integration::State, &IntegrationConfig, ParamValues),
        tenant: TenantId,
        id: ConnectionId,
        grant_type: GrantType,
        response: TokenResponse,
        credentials: Option<GrantCredentials>,
        request: GrantRequest,
        profile: Option<connection::Profile>,
    ) -> Result<connection::State, AppError> {
        let now = Utc::now();
        let requested = request.scopes.clone();
        let provider_account_id = self.identify_account(config, &response).await?;
        let tokens = self
            .seal_tokens(id, &response, config, &requested, now, true)
            .await?;
        let tokens_for_warning = tokens.clone();
        let mut then = vec![
            connection::Command::SetParameters { values },
            connection::Command::Authorize {
                grant_type,
                tokens,
                credentials,
                now,
                provider_account_id,
                via: None,
                grant: Some(request),
            },
        ];
        then.extend(profile.map(|profile| connection::Command::UpdateProfile { profile }));
        then.extend(latchkey_domain::connection::refresh::expiry_warning(
            config,
            None,
            &tokens_for_warning,
            now,
        ));
        let events = connection::decide_new(
            connection::Command::Create {
                connection_id: id,
                integration_id: integration.id,
                tenant,
                grant_type,
            },
            then,
            now,
        )?;
        let state = self.append_events(id, 0, events, caller, now).await?;
        tracing::info!(connection_id = %id, integration_id = %integration.id, grant = grant_type.as_str(), "connection authorized");
        self.validate_in_background(&integration.config, id);
        Ok(state)
    }
}

pub(super) fn scope_names(scopes: &[Scope]) -> Vec<String> {
    scopes.iter().map(|s| s.as_str().to_owned()).collect()
}
