//! Application services: load state, let the domain decide, seal what must be sealed, append.
//! Transport-free, so the gRPC handlers, the HTTP callback and the CLI share them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use latchkey_crypto::Field;

use crate::vault::Vault;
use latchkey_domain::integration::{self, IntegrationConfigInput, SecretChange};
use latchkey_domain::{
    ConnectionId, DomainEvent, EventMeta, FieldViolation, IntegrationConfig, IntegrationId,
    ProviderUrl, SealedSecret, StreamId, TenantId, connection,
};
use latchkey_oauth::ProviderClient;
use latchkey_store::{ConnectionFilter, EventContext, EventStore, Page, RecordedEvent};
use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;

/// What a caller may see and touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Admin,
    Tenant(TenantId),
}

/// Who is asking and under which trace: becomes the events' `actor` and `correlation_id`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: String,
    pub correlation_id: Option<String>,
    pub scope: Scope,
}

impl Caller {
    /// Latchkey itself (the refresher, the hosted callback).
    pub fn system(actor: &str) -> Self {
        Self {
            actor: actor.to_owned(),
            correlation_id: crate::telemetry::current_trace_id(),
            scope: Scope::Admin,
        }
    }

    /// Whether this caller may see a connection of `tenant`. Callers that may not are answered
    /// exactly as for a connection that does not exist.
    pub fn sees(&self, tenant: &TenantId) -> bool {
        match &self.scope {
            Scope::Admin => true,
            Scope::Tenant(own) => own == tenant,
        }
    }

    pub fn require_admin(&self, what: &str) -> Result<(), AppError> {
        match self.scope {
            Scope::Admin => Ok(()),
            Scope::Tenant(_) => Err(AppError::PermissionDenied(format!(
                "{what} needs an admin key; this key is scoped to one tenant"
            ))),
        }
    }

    /// The tenant a request acts for: the one it names, which a tenant key must own.
    pub fn acting_for(&self, requested: TenantId) -> Result<TenantId, AppError> {
        match &self.scope {
            Scope::Tenant(own) if *own != requested => Err(AppError::PermissionDenied(format!(
                "this key is scoped to tenant {own}, not {requested}"
            ))),
            _ => Ok(requested),
        }
    }

    fn context(&self) -> EventContext {
        EventContext {
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.clone(),
            occurred_at: Utc::now(),
        }
    }
}

/// How often a command is decided again after another writer won the race.
const CONFLICT_RETRIES: usize = 3;

const MAX_SECRET_LEN: usize = 4096;

/// Checks a secret's shape without ever putting its value in the error.
pub fn check_secret(secret: &SecretString, field: &str) -> Result<(), FieldViolation> {
    let value = secret.expose_secret();
    if value.len() > MAX_SECRET_LEN {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {MAX_SECRET_LEN} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldViolation::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// The live (neither deleted nor revoked) connections of a provider account in an integration,
/// of one tenant or of all, oldest first.
pub(crate) async fn live_connections_of_account(
    store: &dyn EventStore,
    tenant: Option<TenantId>,
    integration_id: IntegrationId,
    account: &str,
) -> Result<Vec<connection::State>, AppError> {
    let filter = ConnectionFilter {
        tenant,
        integration_id: Some(integration_id),
        provider_account_id: Some(account.to_owned()),
        ..Default::default()
    };
    let mut found = store.list_connections(&filter, Page::first(100)).await?;
    found.retain(|c| {
        !matches!(
            c.status,
            connection::Status::Deleted | connection::Status::Revoked
        )
    });
    Ok(found)
}

/// What `VerifyWebhook` answers.
#[derive(Debug)]
pub struct WebhookVerdict {
    /// `Err` says why the signature does not hold.
    pub verdict: Result<(), String>,
    pub provider_account_id: Option<String>,
    pub connection_id: Option<ConnectionId>,
}

#[derive(Debug, Clone)]
pub struct Integrations {
    store: Arc<dyn EventStore>,
    vault: Arc<Vault>,
    provider: ProviderClient,
}

impl Integrations {
    pub fn new(store: Arc<dyn EventStore>, vault: Arc<Vault>, provider: ProviderClient) -> Self {
        Self {
            store,
            vault,
            provider,
        }
    }

    /// Fills unset endpoints from the issuer's metadata (RFC 8414 / OpenID), whose `issuer` must
    /// be the one configured; a provider that advertises `iss` on callbacks gets it required.
    pub async fn discover(&self, input: &mut IntegrationConfigInput) -> Result<(), AppError> {
        if input.issuer.is_empty() {
            return Err(FieldViolation::new("config.issuer", "is required to discover").into());
        }
        let issuer = ProviderUrl::parse_field(&input.issuer, "config.issuer")?;
        let metadata = latchkey_oauth::discover(&self.provider, &issuer.url()).await?;
        let fill = |field: &mut String, value: Option<String>| {
            if field.is_empty() {
                *field = value.unwrap_or_default();
            }
        };
        fill(
            &mut input.authorization_url,
            metadata.authorization_endpoint,
        );
        fill(&mut input.token_url, metadata.token_endpoint);
        fill(&mut input.revocation_url, metadata.revocation_endpoint);
        input.require_iss |= metadata.authorization_response_iss_parameter_supported;
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
    ) -> Result<integration::State, AppError> {
        if let Some(secret) = &client_secret {
            check_secret(secret, "client_secret")?;
        }
        if let Some(secret) = &webhook_secret {
            check_secret(secret, "webhook_secret")?;
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
            SecretUpdate::Clear => SecretChange::Clear,
            SecretUpdate::Set(secret) => {
                check_secret(&secret, "client_secret")?;
                SecretChange::Set {
                    secret: self.seal(id, &secret).await?,
                }
            }
        };
        let webhook_change = match webhook_secret {
            SecretUpdate::Keep => SecretChange::Keep,
            SecretUpdate::Clear => SecretChange::Clear,
            SecretUpdate::Set(secret) => {
                check_secret(&secret, "webhook_secret")?;
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

    /// Checks a webhook against the integration's scheme and secret: whether its signature holds
    /// (and its timestamp is fresh), which provider account it is about, and that account's
    /// connection among those the caller sees.
    pub async fn verify_webhook(
        &self,
        caller: &Caller,
        id: IntegrationId,
        headers: &std::collections::BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<WebhookVerdict, AppError> {
        let integration = self.get(id).await?;
        let Some(scheme) = integration.config.webhook.as_ref() else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {id} has no webhook scheme"
            )));
        };
        let Some(sealed) = integration.webhook_secret.as_ref() else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {id} has no webhook secret"
            )));
        };
        let secret = self
            .vault
            .open(
                &StreamId::Integration(id),
                Field::WebhookSecret,
                &sealed.sealed,
            )
            .await?;
        let verdict = scheme
            .signed_parts(headers, body, Utc::now().timestamp())
            .and_then(|(message, signatures)| {
                let base64 = scheme.encoding == "base64";
                signatures
                    .iter()
                    .any(|s| {
                        latchkey_crypto::verify_hmac_sha256(
                            secret.expose_secret().as_bytes(),
                            &message,
                            s,
                            base64,
                        )
                    })
                    .then_some(())
                    .ok_or_else(|| "the signature does not match".to_owned())
            });
        let account = (verdict.is_ok() && !scheme.account_pointer.is_empty())
            .then(|| serde_json::from_slice::<serde_json::Value>(body).ok())
            .flatten()
            .and_then(|json| {
                json.pointer(&scheme.account_pointer).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            });
        let connection_id = match &account {
            Some(account) => {
                let tenant = match &caller.scope {
                    Scope::Tenant(own) => Some(own.clone()),
                    Scope::Admin => None,
                };
                // An active one before one that needs the customer again.
                live_connections_of_account(self.store.as_ref(), tenant, id, account)
                    .await?
                    .iter()
                    .min_by_key(|c| c.status != connection::Status::Active)
                    .map(|c| c.id)
            }
            None => None,
        };
        Ok(WebhookVerdict {
            verdict,
            provider_account_id: account,
            connection_id,
        })
    }

    pub async fn delete(
        &self,
        caller: &Caller,
        id: IntegrationId,
        expected_version: Option<u64>,
    ) -> Result<(), AppError> {
        self.change(caller, id, expected_version, || {
            integration::Command::Delete
        })
        .await
    }
}

/// What an update does to the client secret.
#[derive(Debug)]
pub enum SecretUpdate {
    Keep,
    Set(SecretString),
    Clear,
}

#[derive(Debug, Clone)]
pub struct Connections {
    store: Arc<dyn EventStore>,
}

impl Connections {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }

    /// A connection the caller may see. A deleted one is still shown (status deleted, no tokens):
    /// its history is audited. Another tenant's answers exactly as a missing one.
    pub async fn get(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<connection::State, AppError> {
        self.store
            .connection(id)
            .await?
            .filter(|state| caller.sees(&state.tenant))
            .ok_or_else(|| AppError::NotFound(format!("connection {id}")))
    }

    /// The connection as it was at `as_of`, rebuilt from its log.
    pub async fn get_as_of(
        &self,
        caller: &Caller,
        id: ConnectionId,
        as_of: DateTime<Utc>,
    ) -> Result<connection::State, AppError> {
        self.get(caller, id).await?;
        let mut state = None;
        let mut from = 1;
        'pages: loop {
            let page = self
                .store
                .read_stream(StreamId::Connection(id), from, Page::MAX_LIMIT)
                .await?;
            let Some(last) = page.last() else { break };
            from = last.version + 1;
            let full = page.len() == Page::MAX_LIMIT as usize;
            for recorded in page {
                if recorded.occurred_at > as_of {
                    break 'pages;
                }
                if let DomainEvent::Connection(event) = recorded.event()? {
                    let meta = EventMeta {
                        version: recorded.version,
                        occurred_at: recorded.occurred_at,
                    };
                    state = connection::apply(state, &event, &meta);
                }
            }
            if !full {
                break;
            }
        }
        state.ok_or_else(|| AppError::NotFound(format!("connection {id} at {as_of}")))
    }

    /// Replaces a connection's profile (name, description, labels), recording `connection_updated`.
    pub async fn update_profile(
        &self,
        caller: &Caller,
        id: ConnectionId,
        profile: connection::Profile,
        expected_version: Option<u64>,
    ) -> Result<connection::State, AppError> {
        let state = self.get(caller, id).await?;
        if let Some(expected) = expected_version
            && expected != state.version
        {
            return Err(AppError::Conflict(format!(
                "connection {id} is at version {}, not {expected}",
                state.version
            )));
        }
        let events =
            connection::decide(Some(&state), connection::Command::UpdateProfile { profile })?;
        self.store
            .append(
                StreamId::Connection(id),
                state.version,
                events.into_iter().map(DomainEvent::from).collect(),
                &caller.context(),
            )
            .await?;
        self.get(caller, id).await
    }

    /// A tenant key lists its own tenant's connections only.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: ConnectionFilter,
        page: Page,
    ) -> Result<Vec<connection::State>, AppError> {
        if let Scope::Tenant(own) = &caller.scope {
            filter.tenant = Some(caller.acting_for(filter.tenant.unwrap_or_else(|| own.clone()))?);
        }
        Ok(self.store.list_connections(&filter, page).await?)
    }
}
