//! The integration use cases: create (from a template or the issuer's metadata), read, list,
//! update and delete an integration, each change decided by the domain and appended to the
//! integration's stream; `webhooks` verifies a provider's webhook against it. Secrets are sealed
//! before they reach an event.

pub mod mcp;
pub mod webhooks;

use std::sync::Arc;

use latchkey_crypto::Field;

use crate::vault::Vault;
use latchkey_domain::integration::{self, IntegrationConfigInput, SecretChange};
use latchkey_domain::{
    ConnectionId, DomainEvent, FieldViolation, IntegrationConfig, IntegrationId, ProviderUrl,
    SealedSecret, StreamId, check_secret, connection,
};
use latchkey_oauth::ProviderClient;
use latchkey_store::{ConnectionFilter, EventStore, Page, RecordedEvent};
use secrecy::{ExposeSecret, SecretString};

use crate::callers::Caller;
use crate::connections::Connections;
use crate::error::AppError;

/// How often a command is decided again after another writer won the race.
const CONFLICT_RETRIES: usize = 3;

#[derive(Debug, Clone)]
pub struct Integrations {
    store: Arc<dyn EventStore>,
    vault: Arc<Vault>,
    provider: ProviderClient,
    /// To revoke an integration's connections when it is deleted with force.
    connections: Connections,
    /// Checks webhook deliveries (`VerifyWebhook`).
    verifier: Arc<crate::inbound::Verifier>,
}

impl Integrations {
    pub fn new(
        store: Arc<dyn EventStore>,
        vault: Arc<Vault>,
        provider: ProviderClient,
        connections: Connections,
        verifier: Arc<crate::inbound::Verifier>,
    ) -> Self {
        Self {
            store,
            vault,
            provider,
            connections,
            verifier,
        }
    }

    /// Fills unset endpoints from the issuer's metadata (RFC 8414 / OpenID), whose `issuer` must
    /// be the one configured; a provider that advertises `iss` on callbacks gets it required.
    pub async fn discover(&self, input: &mut IntegrationConfigInput) -> Result<(), AppError> {
        if input.endpoints.issuer.is_empty() {
            return Err(FieldViolation::new("config.issuer", "is required to discover").into());
        }
        let issuer = ProviderUrl::parse_field(&input.endpoints.issuer, "config.issuer")?;
        let metadata = latchkey_oauth::discover(&self.provider, &issuer.url()).await?;
        let fill = |field: &mut String, value: Option<String>| {
            if field.is_empty() {
                *field = value.unwrap_or_default();
            }
        };
        fill(
            &mut input.endpoints.authorization_url,
            metadata.authorization_endpoint.clone(),
        );
        fill(
            &mut input.endpoints.token_url,
            metadata.token_endpoint.clone(),
        );
        fill(
            &mut input.endpoints.revocation_url,
            metadata.revocation_endpoint.clone(),
        );
        input.endpoints.require_iss |= metadata.authorization_response_iss_parameter_supported;
        fill(
            &mut input.endpoints.device_authorization_url,
            metadata.device_authorization_endpoint.clone(),
        );
        if metadata.require_pushed_authorization_requests {
            fill(
                &mut input.endpoints.pushed_authorization_url,
                metadata.pushed_authorization_request_endpoint.clone(),
            );
        }
        if input.client.client_auth.is_empty()
            && let Some(method) = metadata.client_auth()
        {
            input.client.client_auth = method.to_owned();
        }
        // Token checks: introspection with the client's credentials, else userinfo.
        if input.checks.validation_kind.is_empty() {
            let (kind, url) = match (
                &metadata.introspection_endpoint,
                &metadata.userinfo_endpoint,
            ) {
                (Some(url), _) => ("introspection", Some(url)),
                (None, Some(url)) => ("userinfo", Some(url)),
                (None, None) => ("", None),
            };
            if let Some(url) = url {
                input.checks.validation_kind = kind.to_owned();
                input.checks.validation_url = url.clone();
            }
        }
        // Accounts: from the ID token (checked against the JWKS) when the scopes ask for one,
        // else from userinfo; neither without openid, which both need.
        let openid = input.scopes.iter().any(|s| s == "openid");
        if input.checks.account_kind.is_empty() && openid {
            if let Some(jwks) = metadata.jwks_uri.clone() {
                input.checks.account_kind = "id_token".to_owned();
                input.checks.account_url = jwks;
            } else if let Some(userinfo) = metadata.userinfo_endpoint.clone() {
                input.checks.account_kind = "userinfo".to_owned();
                input.checks.account_url = userinfo;
            }
        }
        Ok(())
    }

    async fn seal(
        &self,
        id: IntegrationId,
        secret: &SecretString,
    ) -> Result<SealedSecret, AppError> {
        self.vault
            .seal_secret(&StreamId::Integration(id), Field::ClientSecret, secret)
            .await
    }

    pub async fn create(
        &self,
        caller: &Caller,
        config: IntegrationConfig,
        client_secret: Option<SecretString>,
        webhook_secret: Option<SecretString>,
        owner: Option<latchkey_domain::TenantId>,
    ) -> Result<integration::State, AppError> {
        let owner = caller.owner_of_new(owner)?;
        // A private_key_jwt or mutual-TLS client's secret is PEM (lines); it is read as such.
        match &client_secret {
            Some(secret) if !config.client.secret_is_pem() => {
                check_secret(secret.expose_secret(), "client_secret")?;
            }
            _ => check_client_key(&self.provider, &config, client_secret.as_ref())?,
        }
        if let Some(secret) = &webhook_secret {
            check_secret(secret.expose_secret(), "webhook_secret")?;
        }
        let id = IntegrationId::new_v7();
        let client_secret = match &client_secret {
            Some(secret) => Some(self.seal(id, secret).await?),
            None => None,
        };
        let webhook_secret = match &webhook_secret {
            Some(secret) => Some(
                self.vault
                    .seal_secret(&StreamId::Integration(id), Field::WebhookSecret, secret)
                    .await?,
            ),
            None => None,
        };
        let events = integration::decide(
            None,
            integration::Command::Create {
                integration_id: id,
                config,
                client_secret,
                webhook_secret,
                owner,
            },
        )?;
        self.append(id, 0, events, caller).await?;
        tracing::info!(integration_id = %id, actor = %caller.actor, "integration created");
        self.get(id).await
    }

    async fn append(
        &self,
        id: IntegrationId,
        expected: u64,
        events: Vec<integration::Event>,
        caller: &Caller,
    ) -> Result<Vec<RecordedEvent>, AppError> {
        let events = events.into_iter().map(DomainEvent::from).collect();
        Ok(self
            .store
            .append(
                StreamId::Integration(id),
                expected,
                events,
                &caller.context(),
            )
            .await?)
    }

    pub async fn get(&self, id: IntegrationId) -> Result<integration::State, AppError> {
        match self.store.integration(id).await? {
            Some(state) if !state.deleted => Ok(state),
            _ => Err(AppError::NotFound(format!("integration {id}"))),
        }
    }

    /// An integration the caller may see: another tenant's own is answered as missing.
    pub async fn get_for(
        &self,
        caller: &Caller,
        id: IntegrationId,
    ) -> Result<integration::State, AppError> {
        let state = self.get(id).await?;
        if caller.uses(&state) {
            Ok(state)
        } else {
            Err(AppError::NotFound(format!("integration {id}")))
        }
    }

    pub async fn list(&self, page: Page) -> Result<Vec<integration::State>, AppError> {
        Ok(self.store.list_integrations(page).await?)
    }

    /// Decides `command` against the current state and appends, deciding again (up to a few
    /// times) when another writer got there first, unless the caller named the version it saw.
    async fn change(
        &self,
        caller: &Caller,
        id: IntegrationId,
        expected_version: Option<u64>,
        command: impl Fn() -> integration::Command,
    ) -> Result<(), AppError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let state = self.store.integration(id).await?;
            let state = state.filter(|s| !s.deleted);
            let Some(current) = &state else {
                return Err(AppError::NotFound(format!("integration {id}")));
            };
            if let Some(expected) = expected_version
                && expected != current.version
            {
                return Err(AppError::Conflict(format!(
                    "integration {id} is at version {}, not {expected}",
                    current.version
                )));
            }
            let events = integration::decide(state.as_ref(), command())?;
            let kind = events.first().map(integration::Event::event_type);
            match self.append(id, current.version, events, caller).await {
                Ok(recorded) => {
                    let version = recorded.last().map(|e| e.version);
                    tracing::info!(integration_id = %id, actor = %caller.actor, event = kind, version, "integration changed");
                    return Ok(());
                }
                Err(AppError::Conflict(_))
                    if expected_version.is_none() && attempt < CONFLICT_RETRIES =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn update(
        &self,
        caller: &Caller,
        id: IntegrationId,
        config: IntegrationConfig,
        secret: SecretUpdate,
        webhook_secret: SecretUpdate,
        expected_version: Option<u64>,
    ) -> Result<integration::State, AppError> {
        let change = match secret {
            SecretUpdate::Keep => SecretChange::Keep,
            SecretUpdate::Clear => {
                check_client_key(&self.provider, &config, None)?;
                SecretChange::Clear
            }
            SecretUpdate::Set(secret) => {
                if config.client.secret_is_pem() {
                    check_client_key(&self.provider, &config, Some(&secret))?;
                } else {
                    check_secret(secret.expose_secret(), "client_secret")?;
                }
                SecretChange::Set {
                    secret: self.seal(id, &secret).await?,
                }
            }
        };
        let webhook_change = match webhook_secret {
            SecretUpdate::Keep => SecretChange::Keep,
            SecretUpdate::Clear => SecretChange::Clear,
            SecretUpdate::Set(secret) => {
                check_secret(secret.expose_secret(), "webhook_secret")?;
                SecretChange::Set {
                    secret: self
                        .vault
                        .seal_secret(&StreamId::Integration(id), Field::WebhookSecret, &secret)
                        .await?,
                }
            }
        };
        self.change(caller, id, expected_version, || {
            integration::Command::Update {
                config: config.clone(),
                client_secret: change.clone(),
                webhook_secret: webhook_change.clone(),
            }
        })
        .await?;
        self.get(id).await
    }

    /// Deletes an integration. One with live connections (neither revoked nor deleted) is
    /// refused, naming how many, unless `force`: then each is revoked first, at the provider too,
    /// so no grant outlives the app that holds it.
    pub async fn delete(
        &self,
        caller: &Caller,
        id: IntegrationId,
        expected_version: Option<u64>,
        force: bool,
    ) -> Result<(), AppError> {
        self.get(id).await?;
        let live = self.live_connections(id).await?;
        if !live.is_empty() && !force {
            return Err(AppError::FailedPrecondition(format!(
                "integration {id} has {} live connection(s); revoke or delete them first, or \
                 delete with force, which revokes each at the provider",
                live.len()
            )));
        }
        for connection in live {
            self.connections
                .revoke(caller, connection, "integration_deleted".to_owned())
                .await?;
        }
        self.change(caller, id, expected_version, || {
            integration::Command::Delete
        })
        .await
    }

    /// The ids of the integration's connections that are neither revoked nor deleted.
    async fn live_connections(&self, id: IntegrationId) -> Result<Vec<ConnectionId>, AppError> {
        let filter = ConnectionFilter {
            integration_id: Some(id),
            ..Default::default()
        };
        let mut page = Page::first(Page::MAX_LIMIT);
        let mut live = Vec::new();
        loop {
            let found = self.store.list_connections(&filter, page).await?;
            live.extend(
                found
                    .iter()
                    .filter(|c| {
                        !matches!(
                            c.status,
                            connection::Status::Revoked | connection::Status::Deleted
                        )
                    })
                    .map(|c| c.id),
            );
            match found.last() {
                Some(last) if found.len() == Page::MAX_LIMIT as usize => {
                    page.after = Some(*last.id.as_uuid());
                }
                _ => return Ok(live),
            }
        }
    }
}

/// What an update does to the client secret.
#[derive(Debug)]
pub enum SecretUpdate {
    Keep,
    Set(SecretString),
    Clear,
}

/// A `private_key_jwt` client's secret is its private key, a mutual-TLS client's its certificate
/// and key: required, and one that serves (signs with the configured algorithm; makes a TLS
/// client). Refused naming `client_secret`, never quoting it.
fn check_client_key(
    provider: &latchkey_oauth::ProviderClient,
    config: &IntegrationConfig,
    secret: Option<&SecretString>,
) -> Result<(), AppError> {
    if !config.client.secret_is_pem() {
        return Ok(());
    }
    let method = config.client.client_auth.as_str();
    let refuse = |why: String| {
        AppError::Invalid(latchkey_domain::FieldViolation::new("client_secret", why).into())
    };
    let Some(pem) = secret else {
        return Err(refuse(format!(
            "is required for client_auth {method}: the client's PEM private key{}",
            if config.client.client_auth.is_mutual_tls() {
                " and certificate"
            } else {
                ""
            }
        )));
    };
    let checked = match &config.client.client_assertion {
        Some(settings) => {
            latchkey_oauth::ClientAssertionKey::from_pem(pem, &settings.algorithm, "")
                .map(drop)
                .map_err(|e| e.to_string())
        }
        None => provider.with_identity(pem).map(drop),
    };
    checked.map_err(|e| refuse(format!("does not serve client_auth {method}: {e}")))
}
