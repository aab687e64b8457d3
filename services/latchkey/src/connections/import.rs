//! Connections brought from another token store: the customer consented at the provider before,
//! so the tokens are sealed at once and recorded as `imported`, then refreshed like any other.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::refresh as rules;
use latchkey_domain::connection::{self, TokenSet};
use latchkey_domain::{ConnectionId, GrantType, IntegrationConfig, IntegrationId, Scope, TenantId};
use latchkey_store::StoreError;
use secrecy::SecretString;
use uuid::Uuid;

use super::{Connections, jitter};
use crate::callers::Caller;
use crate::error::AppError;

/// The namespace of connection ids derived from an import id (UUIDv5).
const IMPORT_NAMESPACE: Uuid = Uuid::from_u128(0x6c61_7463_686b_6579_8000_696d_706f_7274);

/// `ImportConnection`'s input, checked.
#[derive(Debug)]
pub struct ImportRequest {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub token_type: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Option<Vec<Scope>>,
    pub metadata: BTreeMap<String, serde_json::Value>,
    pub profile: Option<connection::Profile>,
    pub import_id: Option<String>,
    pub provider_account_id: Option<String>,
    /// The integration's connection parameters, as given (checked here, against it).
    pub params: Vec<(String, String)>,
}

/// The connection an import id makes: the same id, integration and tenant give the same one.
pub fn imported_connection_id(
    integration_id: IntegrationId,
    tenant: &TenantId,
    import_id: &str,
) -> ConnectionId {
    let name = format!("{integration_id}/{tenant}/{import_id}");
    ConnectionId::from_uuid(Uuid::new_v5(&IMPORT_NAMESPACE, name.as_bytes()))
}

impl Connections {
    /// Imports one connection; `false` when its import id was imported before (nothing changed).
    pub async fn import(
        &self,
        caller: &Caller,
        request: ImportRequest,
    ) -> Result<(connection::State, bool), AppError> {
        let tenant = caller.acting_for(request.tenant.clone())?;
        let integration = self
            .integration_for(caller, request.integration_id, &tenant)
            .await?;
        let values = super::param_values(&integration.config, &request.params, None)?;
        let config = &integration.config;
        // What the callback would have kept, from the metadata the other store kept (realmId).
        let kept: Vec<(String, String)> = request
            .metadata
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
        let captured = latchkey_domain::integration::capture_callback_params(
            &config.connect.callback_params,
            &kept,
        )
        .map_err(|v| v.within("metadata"))?;
        super::configured(config, &values)?;
        if config.grant_type != GrantType::AuthorizationCode {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} uses the {} grant; imports are for authorization_code \
                 integrations (the other grants are run again with ConnectClientCredentials or \
                 ConnectPassword)",
                integration.id,
                config.grant_type.as_str()
            )));
        }
        if let Some(scopes) = &request.scopes {
            super::within_allowed_scopes(config, scopes)?;
        }
        let id = match &request.import_id {
            Some(key) => imported_connection_id(integration.id, &tenant, key),
            None => ConnectionId::new_v7(),
        };
        if request.import_id.is_some()
            && let Some(existing) = self.store.connection(id).await?
        {
            return Ok((existing, false));
        }
        let now = Utc::now();
        let tokens = self.seal_imported(id, &request, config, now).await?;
        let mut then = vec![
            connection::Command::SetParameters { values },
            connection::Command::CaptureCallback { values: captured },
            connection::Command::Import {
                tokens,
                provider_account_id: request.provider_account_id,
                source_id: request.import_id.clone(),
            },
        ];
        then.extend(
            request
                .profile
                .map(|profile| connection::Command::UpdateProfile { profile }),
        );
        let events = connection::decide_new(
            connection::Command::Create {
                connection_id: id,
                integration_id: integration.id,
                tenant,
                grant_type: GrantType::AuthorizationCode,
            },
            then,
            now,
        )?;
        let events: Vec<_> = events
            .into_iter()
            .map(latchkey_domain::DomainEvent::from)
            .collect();
        match self
            .store
            .append(
                latchkey_domain::StreamId::Connection(id),
                0,
                events,
                &caller.context_at(now),
            )
            .await
        {
            Ok(_) => {}
            // The same import id, imported at the same moment by another caller.
            Err(StoreError::Conflict { .. }) if request.import_id.is_some() => {
                return Ok((self.connection_state(id).await?, false));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(connection_id = %id, integration_id = %integration.id, "connection imported");
        Ok((self.connection_state(id).await?, true))
    }

    async fn seal_imported(
        &self,
        id: ConnectionId,
        request: &ImportRequest,
        config: &IntegrationConfig,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, AppError> {
        // A token said to live longer than any token may is treated as living that long.
        let longest =
            now + Duration::seconds(i64::from(IntegrationConfig::MAX_TOKEN_LIFETIME_SECS));
        let expires_at = request
            .expires_at
            .unwrap_or_else(|| rules::expires_at(config, now, None))
            .min(longest);
        let has_refresh_token = request.refresh_token.is_some();
        // Already due (or past) when the token is about to expire: the refresher takes it at once.
        let refresh_at =
            has_refresh_token.then(|| rules::refresh_at(config, now, expires_at, true, jitter()));
        let refresh_token = match &request.refresh_token {
            Some(token) => Some(
                self.seal_connection_secret(id, Field::RefreshToken, token)
                    .await?,
            ),
            None => None,
        };
        Ok(TokenSet {
            access_token: self
                .seal_connection_secret(id, Field::AccessToken, &request.access_token)
                .await?,
            refresh_token,
            token_type: request.token_type.clone(),
            expires_at: Some(expires_at),
            scopes: request
                .scopes
                .as_ref()
                .unwrap_or(&config.scopes)
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            metadata: request.metadata.clone(),
            refresh_at,
            refresh_token_expires_at: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_id_names_one_connection_per_integration_and_tenant() {
        let integration = IntegrationId::new_v7();
        let acme = TenantId::parse("acme").unwrap();
        let globex = TenantId::parse("globex").unwrap();
        let a = imported_connection_id(integration, &acme, "nango-1");
        assert_eq!(a, imported_connection_id(integration, &acme, "nango-1"));
        assert_ne!(a, imported_connection_id(integration, &acme, "nango-2"));
        assert_ne!(a, imported_connection_id(integration, &globex, "nango-1"));
        assert_ne!(
            a,
            imported_connection_id(IntegrationId::new_v7(), &acme, "nango-1")
        );
    }
}
