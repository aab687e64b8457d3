//! Token exchange as a client (RFC 8693): a connection derived from another one (its subject) by
//! trading the subject's access token at a security token service for a token for another
//! audience or resource. The derived connection is exchanged again before it expires (with the
//! subject's token of that moment) and revoked with its subject.

use latchkey_domain::connection::{self, GrantCredentials, GrantRequest};
use latchkey_domain::{ConnectionId, GrantType, IntegrationId, ParamMap, Scope, TenantId};
use latchkey_oauth::Grant;
use latchkey_store::{ConnectionFilter, Page};
use secrecy::SecretString;

use super::Connections;
use crate::callers::Caller;
use crate::error::AppError;

/// A future of this module's that refers back to the calls that lead to it (a refresh, a
/// revocation), boxed so its type is known.
type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
type Pending<'a, T> = Boxed<'a, Result<T, AppError>>;

/// `ConnectTokenExchange`, checked.
#[derive(Debug)]
pub struct ExchangeRequest {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    /// The connection whose token is exchanged.
    pub subject: ConnectionId,
    pub scopes: Option<Vec<Scope>>,
    /// `audience`, `resource`, `requested_token_type`, as given.
    pub params: ParamMap,
    pub profile: Option<connection::Profile>,
}

impl Connections {
    pub async fn connect_token_exchange(
        &self,
        caller: &Caller,
        request: ExchangeRequest,
    ) -> Result<connection::State, AppError> {
        let tenant = caller.acting_for(request.tenant)?;
        let integration = self
            .integration_for(caller, request.integration_id, &tenant)
            .await?;
        if integration.config.grant_type != GrantType::TokenExchange {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} uses the {} grant; ConnectTokenExchange is for token_exchange",
                integration.id,
                integration.config.grant_type.as_str()
            )));
        }
        let subject = self.connection_state(request.subject).await?;
        if subject.tenant != tenant {
            // Another tenant's connection is answered as missing.
            return Err(AppError::NotFound(format!(
                "connection {}",
                request.subject
            )));
        }
        let config = &integration.config;
        let scopes = request.scopes.unwrap_or_else(|| config.scopes.clone());
        super::within_allowed_scopes(config, &scopes)?;
        caller.may_set(&request.params, &config.token_params, "audience")?;
        let subject_token = self.subject_token(subject.id).await?;
        let id = ConnectionId::new_v7();
        let client = self
            .integration_client(&integration, config)
            .await?
            .with_dpop(self.dpop_key(config, id).await?);
        let response = self
            .provider
            .request_token(
                config,
                &config.endpoints.token_url.url(),
                &client.credentials(),
                &Grant::TokenExchange {
                    subject_token: &subject_token,
                    scopes: &scopes,
                },
                &request.params,
            )
            .await?;
        let grant = GrantRequest {
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            params: request.params,
        };
        self.connect(
            caller,
            (&integration, config, Default::default()),
            tenant,
            id,
            GrantType::TokenExchange,
            response,
            Some(GrantCredentials::TokenExchange {
                subject: subject.id,
            }),
            grant,
            request.profile,
        )
        .await
    }

    /// The subject's access token as `GetToken` would hand it out (refreshed first if needed).
    /// Boxed as a `Send` future: a refresh asks for it, and it may refresh.
    pub(super) fn subject_token(&self, subject: ConnectionId) -> Pending<'_, SecretString> {
        Box::pin(async move {
            let caller = Caller::system("token-exchange");
            let credential = self.get_token(&caller, subject, None).await?;
            Ok(credential.opened.access_token.clone())
        })
    }

    /// Revokes the connections derived from `subject` (after the subject itself was revoked):
    /// those of the token-exchange integrations (few, and none in most deployments) in the
    /// subject's tenant.
    pub(super) fn revoke_derived<'a>(
        &'a self,
        caller: &'a Caller,
        subject: &'a connection::State,
    ) -> Boxed<'a, ()> {
        Box::pin(async move {
            let exchanges = match self.exchange_integrations().await {
                Ok(ids) => ids,
                Err(error) => {
                    tracing::warn!(connection_id = %subject.id, %error, "token-exchange integrations could not be listed");
                    return;
                }
            };
            for integration_id in exchanges {
                let filter = ConnectionFilter {
                    tenant: Some(subject.tenant.clone()),
                    integration_id: Some(integration_id),
                    ..Default::default()
                };
                let derived = match self.all_connections(&filter).await {
                    Ok(derived) => derived,
                    Err(error) => {
                        tracing::warn!(connection_id = %subject.id, %error, "derived connections could not be listed");
                        continue;
                    }
                };
                for derived in derived {
                    let of_subject = matches!(
                        derived.credentials.as_deref(),
                        Some(GrantCredentials::TokenExchange { subject: s }) if *s == subject.id
                    );
                    if of_subject && derived.status != connection::Status::Revoked {
                        let reason = format!("subject {} revoked", subject.id);
                        if let Err(error) = self.revoke(caller, derived.id, reason).await {
                            tracing::warn!(connection_id = %derived.id, %error, "a derived connection was not revoked");
                        }
                    }
                }
            }
        })
    }

    /// The live integrations of the token-exchange grant.
    async fn exchange_integrations(&self) -> Result<Vec<IntegrationId>, AppError> {
        let mut found = Vec::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = self.store.list_integrations(page).await?;
            found.extend(
                batch
                    .iter()
                    .filter(|i| !i.deleted && i.config.grant_type == GrantType::TokenExchange)
                    .map(|i| i.id),
            );
            match batch.last() {
                Some(last) if batch.len() == page.limit as usize => {
                    page.after = Some(*last.id.as_uuid());
                }
                _ => return Ok(found),
            }
        }
    }

    /// Every connection `filter` selects, page by page.
    pub(super) async fn all_connections(
        &self,
        filter: &ConnectionFilter,
    ) -> Result<Vec<connection::State>, AppError> {
        let mut found = Vec::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = self.store.list_connections(filter, page).await?;
            let next = match batch.last() {
                Some(last) if batch.len() == page.limit as usize => Some(*last.id.as_uuid()),
                _ => None,
            };
            found.extend(batch);
            match next {
                Some(after) => page.after = Some(after),
                None => return Ok(found),
            }
        }
    }
}
