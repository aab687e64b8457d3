//! Token validation at the provider (RFC 7662 introspection, userinfo, or a probe under the base
//! URI): `ValidateConnection`, and the check behind the caller after an authorization. A token
//! the provider calls invalid is refreshed at once.

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::connection::refresh::Need;
use latchkey_domain::{ConnectionId, IntegrationConfig, connection};

use super::Connections;
use crate::callers::Caller;
use crate::error::AppError;

impl Connections {
    /// Checks the token at the provider; records `validated`. A token called invalid is refreshed
    /// at once; a grant that is gone ends `reauthorization_required` through the refresh.
    pub async fn validate(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<connection::State, AppError> {
        let state = self.connection_state(id).await?;
        if !caller.sees(&state.tenant) {
            return Err(AppError::NotFound(format!("connection {id}")));
        }
        let integration = self.integration_state(state.integration_id).await?;
        let config = &*super::configured(&integration.config, &state.url_values())?;
        let Some(validation) = &config.checks.validation else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} has no token validation configured",
                integration.id
            )));
        };
        let Some(sealed) = &state.access_token else {
            return Err(AppError::FailedPrecondition(format!(
                "connection {id} has no token to validate"
            )));
        };
        let token = self
            .open_connection_secret(id, Field::AccessToken, sealed)
            .await?;
        let outcome: Result<(bool, Option<String>), latchkey_oauth::OAuthError> = match validation {
            latchkey_domain::TokenValidation::Introspection { url } => {
                let client = self.integration_client(&integration, config).await?;
                self.provider
                    .introspect(&url.url(), &client.credentials(), &token, "access_token")
                    .await
                    .map(|active| (active, (!active).then(|| "inactive".to_owned())))
            }
            latchkey_domain::TokenValidation::Userinfo { url } => self
                .provider
                .call_with_token("GET", &url.url(), &config.tokens.token_placement, &token)
                .await
                .map(|r| match r.status {
                    200..=299 => (true, None),
                    401 | 403 => (false, Some(format!("HTTP {}", r.status))),
                    other => (true, Some(format!("HTTP {other}, not a verdict"))),
                }),
            latchkey_domain::TokenValidation::Probe {
                method,
                path,
                expected_status,
            } => {
                let base = config
                    .endpoints
                    .base_uri
                    .as_ref()
                    .map(|u| u.url())
                    .ok_or_else(|| {
                        AppError::FailedPrecondition(
                            "a probe needs the integration's base_uri".to_owned(),
                        )
                    })?;
                let url = base
                    .join(path.trim_start_matches('/'))
                    .map_err(|e| AppError::FailedPrecondition(format!("probe path {path}: {e}")))?;
                self.provider
                    .call_with_token(method, &url, &config.tokens.token_placement, &token)
                    .await
                    .map(|r| {
                        let valid = r.status == *expected_status;
                        (valid, (!valid).then(|| format!("HTTP {}", r.status)))
                    })
            }
        };
        let (valid, reason) = outcome?;
        let mut current = state;
        let mut attempts = 0;
        let state = loop {
            let events = connection::decide(
                Some(&current),
                connection::Command::RecordValidation {
                    valid,
                    reason: reason.clone(),
                },
            )?;
            match self
                .append_events(id, current.version, events, caller, Utc::now())
                .await
            {
                // Another writer got there first: record the verdict on the new state, unless the
                // token it was about has been replaced meanwhile (then it says nothing).
                Err(AppError::Conflict(_)) if attempts < 3 => {
                    attempts += 1;
                    let latest = self.connection_state(id).await?;
                    if latest.access_token != current.access_token {
                        return Ok(latest);
                    }
                    current = latest;
                }
                other => break other?,
            }
        };
        tracing::info!(connection_id = %id, valid, "token validated at the provider");
        if valid {
            return Ok(state);
        }
        // Invalid: try a refresh. A permanent failure is recorded by the refresh itself.
        match self.ensure_fresh(id, Need::Force).await {
            Ok(state) => Ok(state),
            Err(e) if e.kind() == crate::error::ErrorKind::FailedPrecondition => {
                self.connection_state(id).await
            }
            Err(e) => Err(e),
        }
    }

    /// Checks a newly authorized connection's token behind the caller, when its integration
    /// validates tokens.
    pub(crate) fn validate_in_background(&self, config: &IntegrationConfig, id: ConnectionId) {
        if config.checks.validation.is_none() {
            return;
        }
        let connections = self.clone();
        self.tasks.spawn(async move {
            let caller = Caller::system("system:validator");
            if let Err(e) = connections.validate(&caller, id).await {
                tracing::warn!(connection_id = %id, error = %e, "validation after authorization did not complete");
            }
        });
    }
}
