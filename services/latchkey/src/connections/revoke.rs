//! The end of a connection: `RevokeConnection` (RFC 7009 at the provider, refresh token first)
//! and `DeleteConnection` (revokes first, records `deleted`, then destroys the data key:
//! crypto-shredding).

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::connection::{self, RevocationOutcome, refresh};
use latchkey_domain::{ConnectionId, Sealed, StreamId, integration};

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
        let held = (state.refresh_token.as_ref(), state.access_token.as_ref());
        let outcomes = self.revoke_at_provider(&state, &integration, held).await?;
        if !connection::revocation_confirmed(&outcomes) {
            // In the outbox before the event: a crash between the two leaves a row whose
            // connection is not revoked (dropped when found), never a revocation not retried.
            let now = Utc::now();
            let first = now + refresh::retry_wait(1, None, super::jitter());
            self.store.revocation_pending(id, now, first).await?;
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
        self.revoke_derived(caller, &revoked).await;
        Ok(revoked)
    }

    /// Asks the provider to revoke `held` (refresh token, access token) as the integration says
    /// (RFC 7009: refresh token first, then access token; or the integration's own request
    /// shape): what it answered to each request. Nothing when it has no revocation endpoint.
    pub(super) async fn revoke_at_provider(
        &self,
        state: &connection::State,
        integration: &integration::State,
        (refresh_token, access_token): (Option<&Sealed>, Option<&Sealed>),
    ) -> Result<Vec<RevocationOutcome>, AppError> {
        let id = state.id;
        let config = &*super::configured(&integration.config, &state.url_values())?;
        let mut outcomes: Vec<RevocationOutcome> = Vec::new();
        let Some(revocation_url) = &config.endpoints.revocation_url else {
            return Ok(outcomes);
        };
        let client = self.connection_client(state, integration, config).await?;
        let url = revocation_url.url();
        if let Some(shape) = &config.endpoints.revocation {
            let (field, sealed) = match shape.token.as_str() {
                "refresh_token" => (Field::RefreshToken, refresh_token),
                _ => (Field::AccessToken, access_token),
            };
            if let Some(sealed) = sealed {
                let token = self.open_connection_secret(id, field, sealed).await?;
                let credentials = client.credentials();
                let shaped = revocation_url.as_str();
                outcomes.push(
                    self.provider
                        .revoke_shaped(shaped, shape, &credentials, &token)
                        .await,
                );
            }
            return Ok(outcomes);
        }
        for (field, hint, sealed) in [
            (Field::RefreshToken, "refresh_token", refresh_token),
            (Field::AccessToken, "access_token", access_token),
        ] {
            if let Some(sealed) = sealed {
                let token = self.open_connection_secret(id, field, sealed).await?;
                outcomes.push(
                    self.provider
                        .revoke(&url, &client.credentials(), &token, hint)
                        .await,
                );
            }
        }
        Ok(outcomes)
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
