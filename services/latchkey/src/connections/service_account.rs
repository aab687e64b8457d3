//! Service accounts (RFC 7523 §2.1, JWT bearer): Latchkey signs an assertion with the account's
//! key and trades it for a token; a new assertion before each expiry is the connection's
//! "refresh". The key is sealed like every secret and opened only to sign.

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::connection::{self, GrantCredentials, GrantRequest, ServiceAccount};
use latchkey_domain::{ConnectionId, GrantType, IntegrationConfig, IntegrationId, Scope, TenantId};
use latchkey_oauth::{AssertionClaims, AssertionKey, Grant};
use secrecy::SecretString;

use super::Connections;
use super::connect::scope_names;
use crate::callers::Caller;
use crate::error::AppError;

/// `ConnectServiceAccount`'s input, checked (the key reads and signs with its algorithm).
#[derive(Debug)]
pub struct ServiceAccountRequest {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    /// The private key's PEM (taken out of a Google key file when one was given).
    pub key: SecretString,
    pub algorithm: String,
    pub key_id: Option<String>,
    pub issuer: String,
    pub subject: Option<String>,
    /// `None`: the integration's token URL.
    pub audience: Option<String>,
    pub scopes: Option<Vec<Scope>>,
    /// Further claims, a JSON object's text.
    pub extra_claims: Option<String>,
    pub profile: Option<connection::Profile>,
    /// The integration's connection parameters, as given (checked here, against it).
    pub params: Vec<(String, String)>,
    /// Set: the service account connection whose key this replaces (key rotation), once the new
    /// key has been traded for a token.
    pub connection_id: Option<ConnectionId>,
}

impl Connections {
    /// A service account connection: its first assertion traded for a token, then recorded
    /// with its sealed key in one append. With `connection_id`, that connection's key is
    /// replaced (and its tokens with the new key's), its history kept.
    pub async fn connect_service_account(
        &self,
        caller: &Caller,
        request: ServiceAccountRequest,
    ) -> Result<connection::State, AppError> {
        let tenant = caller.acting_for(request.tenant.clone())?;
        let integration_id = request.integration_id;
        let existing = match request.connection_id {
            Some(id) => Some(
                self.service_account_of(caller, id, &request, &tenant)
                    .await?,
            ),
            None => None,
        };
        let integration = self
            .integration_for(caller, integration_id, &tenant)
            .await?;
        let values = super::param_values(&integration.config, &request.params, existing.as_ref())?;
        let config = &*super::configured(&integration.config, &values)?;
        if config.grant_type != GrantType::JwtBearer {
            return Err(AppError::FailedPrecondition(format!(
                "integration {integration_id} uses the {} grant, not jwt_bearer",
                config.grant_type.as_str()
            )));
        }
        let scopes = request
            .scopes
            .clone()
            .unwrap_or_else(|| config.scopes.clone());
        super::within_allowed_scopes(config, &scopes)?;
        let id = existing
            .as_ref()
            .map_or_else(ConnectionId::new_v7, |s| s.id);
        let account = ServiceAccount {
            key: self
                .seal_connection_secret(id, Field::SigningKey, &request.key)
                .await?,
            algorithm: request.algorithm.clone(),
            key_id: request.key_id.clone(),
            issuer: request.issuer.clone(),
            subject: request.subject.clone(),
            audience: request
                .audience
                .clone()
                .unwrap_or_else(|| config.endpoints.token_url.url().to_string()),
            extra_claims: request.extra_claims.clone(),
        };
        let assertion = sign(&request.key, &account, &scopes, config)?;
        let client = self.integration_client(&integration, config).await?;
        let response = self
            .provider
            .request_token(
                config,
                &config.endpoints.token_url.url(),
                &client.credentials(),
                &Grant::JwtBearer {
                    assertion: &assertion,
                },
                &Default::default(),
            )
            .await?;
        let grant = GrantRequest {
            scopes: scope_names(&scopes),
            params: Default::default(),
        };
        let credentials = GrantCredentials::JwtBearer(Box::new(account));
        match existing {
            Some(state) => {
                self.rekey(caller, &state, config, response, credentials, grant)
                    .await
            }
            None => {
                self.connect(
                    caller,
                    (&integration, config, values),
                    tenant,
                    id,
                    GrantType::JwtBearer,
                    response,
                    Some(credentials),
                    grant,
                    request.profile,
                )
                .await
            }
        }
    }

    /// Connection `id`, when it is a service account of `request`'s integration and tenant.
    async fn service_account_of(
        &self,
        caller: &Caller,
        id: ConnectionId,
        request: &ServiceAccountRequest,
        tenant: &TenantId,
    ) -> Result<connection::State, AppError> {
        let state = self.connection_state(id).await?;
        if !caller.sees(&state.tenant) || &state.tenant != tenant {
            return Err(AppError::NotFound(format!("connection {id}")));
        }
        if state.integration_id != request.integration_id {
            return Err(AppError::FailedPrecondition(format!(
                "connection {id} belongs to integration {}, not {}",
                state.integration_id, request.integration_id
            )));
        }
        if state.grant_type != GrantType::JwtBearer {
            return Err(AppError::FailedPrecondition(format!(
                "connection {id} uses the {} grant: only a service account's key is replaced",
                state.grant_type.as_str()
            )));
        }
        Ok(state)
    }

    /// Records `state`'s new key with the tokens it was just traded for, in one append.
    async fn rekey(
        &self,
        caller: &Caller,
        state: &connection::State,
        config: &IntegrationConfig,
        response: latchkey_oauth::TokenResponse,
        credentials: GrantCredentials,
        grant: GrantRequest,
    ) -> Result<connection::State, AppError> {
        let now = Utc::now();
        let provider_account_id = self.identify_account(config, &response).await?;
        let tokens = self
            .seal_tokens(state.id, &response, config, &grant.scopes, now, true)
            .await?;
        let events = connection::decide(
            Some(state),
            connection::Command::Authorize {
                grant_type: GrantType::JwtBearer,
                tokens,
                credentials: Some(credentials),
                now,
                provider_account_id,
                via: None,
                grant: Some(grant),
            },
        )?;
        let updated = self
            .append_events(state.id, state.version, events, caller, now)
            .await?;
        tracing::info!(connection_id = %state.id, actor = %caller.actor, "service account key replaced");
        Ok(updated)
    }

    /// A new assertion for connection `id`'s service account, for `scopes`.
    pub(super) async fn sign_assertion(
        &self,
        id: ConnectionId,
        account: &ServiceAccount,
        scopes: &[Scope],
        config: &IntegrationConfig,
    ) -> Result<SecretString, AppError> {
        let key = self
            .open_connection_secret(id, Field::SigningKey, &account.key)
            .await?;
        sign(&key, account, scopes, config)
    }
}

/// An assertion of `account` signed with `key` (its PEM), carrying `scopes` in its `scope`
/// claim when there are any.
fn sign(
    key: &SecretString,
    account: &ServiceAccount,
    scopes: &[Scope],
    config: &IntegrationConfig,
) -> Result<SecretString, AppError> {
    let signer = AssertionKey::from_pem(key, &account.algorithm, account.key_id.as_deref())
        .map_err(|e| AppError::FailedPrecondition(format!("the service account's key: {e}")))?;
    let extra = match account.extra_claims.as_deref() {
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Some(map),
            _ => {
                return Err(AppError::Internal(
                    "a service account's extra claims are not a JSON object".into(),
                ));
            }
        },
        None => None,
    };
    let scope = config.scope_separator.join(scopes);
    let claims = AssertionClaims {
        issuer: &account.issuer,
        subject: account.subject.as_deref(),
        audience: &account.audience,
        scope: (!scope.is_empty()).then_some(scope.as_str()),
        extra: extra.as_ref(),
    };
    signer
        .sign(&claims, Utc::now().timestamp())
        .map_err(|e| AppError::Internal(format!("the service account's assertion: {e}")))
}
