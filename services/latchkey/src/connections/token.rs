//! `GetToken`: a token good for what the caller asks, in the integration's placement, refreshed
//! first when it would not last, or behind the caller when only its refresh is due.

use std::sync::Arc;

use chrono::{Duration, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::refresh::{Need, good_for, is_due};
use latchkey_domain::{ConnectionId, StreamId, TokenPlacement, connection, integration};
use secrecy::{ExposeSecret, SecretString};

use super::Connections;
use super::Opened;
use super::refusals::{deleted, needs_customer, not_now, too_short};
use crate::callers::Caller;
use crate::error::AppError;

/// What `GetToken` guarantees when the caller names no `min_ttl`.
pub const DEFAULT_MIN_TTL: Duration = Duration::seconds(30);

/// Where a token goes on an API call.
#[derive(Debug)]
pub enum Placement {
    Header { name: String, value: SecretString },
    Query { param: String, value: SecretString },
}

/// What `GetToken` hands out.
#[derive(Debug)]
pub struct Credential {
    /// The token, its placement and base URI, shared with the opened credentials' cache.
    pub opened: Arc<Opened>,
    /// The connection the token was read from (scopes, expiry, metadata, version), shared with
    /// the cache rather than copied.
    pub connection: Arc<connection::State>,
}

impl Connections {
    /// A token valid at least `min_ttl` (default [`DEFAULT_MIN_TTL`]) in the integration's
    /// placement. One with less left is refreshed first; one inside the refresh margin but good
    /// for `min_ttl` is returned at once while one background refresh starts. A connection that
    /// needs the customer again is refused with the reason, never given an expired token.
    pub async fn get_token(
        &self,
        caller: &Caller,
        id: ConnectionId,
        min_ttl: Option<Duration>,
    ) -> Result<Credential, AppError> {
        let span = crate::telemetry::get_token_span(id);
        tracing::Instrument::instrument(self.token(caller, id, min_ttl), span).await
    }

    async fn token(
        &self,
        caller: &Caller,
        id: ConnectionId,
        min_ttl: Option<Duration>,
    ) -> Result<Credential, AppError> {
        let min_ttl = min_ttl.unwrap_or(DEFAULT_MIN_TTL);
        // On a miss, the connection and (unless held) its data key in one read.
        let owner = StreamId::Connection(id);
        let load = async {
            if self.vault.holds(&owner) {
                return self.store.connection(id).await;
            }
            let (state, key) = self
                .store
                .connection_and_data_key(id, &owner.to_string())
                .await?;
            if let (Some(_), Some(key)) = (&state, key) {
                self.vault.keep(&owner, &key);
            }
            Ok(state)
        };
        let mut state = match self.cache.connection_or_load(id, load).await? {
            Some(state) if caller.sees(&state.tenant) => state,
            _ => return Err(AppError::NotFound(format!("connection {id}"))),
        };
        if state.status == connection::Status::Deleted {
            self.opened.forget(id);
            return Err(deleted(id));
        }
        let now = Utc::now();
        if !good_for(&state, min_ttl, now) {
            state = match state.status {
                connection::Status::Active | connection::Status::Expired => {
                    Arc::new(self.ensure_fresh(id, Need::MinTtl(min_ttl)).await?)
                }
                connection::Status::ReauthorizationRequired => {
                    return Err(needs_customer(&state));
                }
                other => {
                    self.opened.forget(id);
                    return Err(not_now(id, other, "has no token to hand out"));
                }
            };
            if !good_for(&state, min_ttl, Utc::now()) {
                return Err(too_short(&state, min_ttl));
            }
        } else if is_due(&state, now) && !self.refresh.busy(id) {
            // Stale while revalidate: this token is good enough; refresh behind the caller.
            let connections = self.clone();
            self.tasks.spawn(async move {
                if let Err(e) = connections.ensure_fresh(id, Need::Due).await {
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
        if let Some(opened) = self.opened.get(id, state.version, integration.version) {
            return Ok(Credential {
                opened,
                connection: state,
            });
        }
        let opened = Arc::new(self.open(&state, &integration).await?);
        self.opened.keep(id, opened.clone());
        Ok(Credential {
            opened,
            connection: state,
        })
    }

    /// `state`'s token opened, in `integration`'s placement, with its base URI filled.
    async fn open(
        &self,
        state: &connection::State,
        integration: &integration::State,
    ) -> Result<Opened, AppError> {
        let id = state.id;
        let config = &integration.config;
        let Some(sealed) = &state.access_token else {
            return Err(AppError::FailedPrecondition(format!(
                "connection {id} has no access token"
            )));
        };
        let access_token = self
            .open_connection_secret(id, Field::AccessToken, sealed)
            .await?;
        let placement = match &config.tokens.token_placement {
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
        Ok(Opened {
            connection_version: state.version,
            integration_version: integration.version,
            access_token,
            placement,
            base_uri: match &config.endpoints.base_uri {
                Some(uri) if uri.is_template() => super::filled(config, &state.url_values())?
                    .endpoints
                    .base_uri
                    .as_ref()
                    .map(|u| u.as_str().to_owned()),
                Some(uri) => Some(uri.as_str().to_owned()),
                None => None,
            },
        })
    }
}
