//! The end of a connection: `RevokeConnection` (RFC 7009 at the provider, refresh token first)
//! and `DeleteConnection` (revokes first, records `deleted`, then destroys the data key:
//! crypto-shredding).

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::connection::{self, RevocationOutcome};
use latchkey_domain::{ConnectionId, StreamId};

use super::Connections;
use crate::callers::Caller;
use crate::error::AppError;

impl Connections {
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
        let config = &*super::configured(&integration.config, &state.url_values())?;
        let mut outcomes: Vec<RevocationOutcome> = Vec::new();
        if let Some(revocation_url) = &config.endpoints.revocation_url {
            let client = self.connection_client(&state, &integration, config).await?;
            let url = revocation_url.url();
            if let Some(shape) = &config.endpoints.revocation {
                let (field, sealed) = match shape.token.as_str() {
                    "refresh_token" => (Field::RefreshToken, state.refresh_token.as_ref()),
                    _ => (Field::AccessToken, state.access_token.as_ref()),
                };
                if let Some(sealed) = sealed {
                    let token = self.open_connection_secret(id, field, sealed).await?;
                    outcomes.push(
                        self.provider
                            .revoke_shaped(
                                revocation_url.as_str(),
                                shape,
                                &client.credentials(),
                                &token,
                            )
                            .await,
                    );
                }
            } else if let Some(sealed) = &state.refresh_token {
                let token = self
                    .open_connection_secret(id, Field::RefreshToken, sealed)
                    .await?;
                outcomes.push(
                    self.provider
                        .revoke(&url, &client.credentials(), &token, "refresh_token")
                        .await,
                );
            }
            if let Some(sealed) = state
                .access_token
                .as_ref()
                .filter(|_| config.endpoints.revocation.is_none())
            {
                let token = self
                    .open_connection_secret(id, Field::AccessToken, sealed)
                    .await?;
                outcomes.push(
                    self.provider
                        .revoke(&url, &client.credentials(), &token, "access_token")
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

    /// Deletes a connection: revokes its grant at the provider first (where it has tokens and the
    /// integration a revocation endpoint: once the data key is gone it never could again), records
    /// `deleted`, then destroys its data key, so no token it ever held can be decrypted again by
    /// anyone; its history stays. Deleting again finishes a deletion that was cut short.
    pub async fn delete(&self, caller: &Caller, id: ConnectionId) -> Result<(), AppError> {
        let mut state = self
            .store
            .connection(id)
            .await?
            .filter(|state| caller.sees(&state.tenant))
            .ok_or_else(|| AppError::NotFound(format!("connection {id}")))?;
        let holds_tokens = state.access_token.is_some() || state.refresh_token.is_some();
        if holds_tokens
            && !matches!(
                state.status,
                connection::Status::Revoked | connection::Status::Deleted
            )
        {
            match self.revoke(caller, id, "deleted".to_owned()).await {
                Ok(revoked) => state = revoked,
                // Nothing written: the caller can try again.
                Err(e @ AppError::Unavailable(_)) => return Err(e),
                // An integration that is gone, a secret that cannot be opened: the deletion
                // still happens, without the revocation.
                Err(e) => {
                    tracing::warn!(connection_id = %id, error = %e, "deleting without revoking at the provider");
                }
            }
        }
        if state.status != connection::Status::Deleted {
            let events = connection::decide(Some(&state), connection::Command::Delete)?;
            self.append_events_any(id, state.version, events, caller)
                .await?;
        }
        self.vault.shred(&StreamId::Connection(id)).await?;
        tracing::info!(connection_id = %id, "connection deleted and its data key destroyed");
        Ok(())
    }
}
