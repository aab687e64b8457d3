//! Device authorization (RFC 8628): a customer connecting from a CLI, a TV or a kiosk, where no
//! redirect comes back. The provider hands out a user code the customer types elsewhere; Latchkey
//! keeps the device code sealed on the pending authorization and polls the token endpoint in the
//! background (at the provider's interval, five seconds slower after each `slow_down`), under the
//! connection's refresh lease so that one replica polls at a time, until the customer approves
//! (`authorized`), refuses or lets the code expire (`authorization_failed`). A replica that starts
//! follows again the authorizations still waiting.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use latchkey_crypto::Field;
use latchkey_domain::connection::{self, PendingAuthorization, PendingDevice};
use latchkey_domain::{ConnectionId, GrantType, IntegrationId, ParamMap, Scope, TenantId};
use latchkey_oauth::{Grant, OAuthError, random_token};
use latchkey_store::{ConnectionFilter, Lease};
use secrecy::ExposeSecret as _;

use super::Connections;
use super::oauth_state::state_digest;
use crate::callers::Caller;
use crate::error::AppError;

/// `StartDeviceAuthorization`, checked.
#[derive(Debug)]
pub struct StartDevice {
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    pub connection_id: Option<ConnectionId>,
    pub scopes: Option<Vec<Scope>>,
    pub profile: Option<connection::Profile>,
    pub params: Vec<(String, String)>,
    /// Started from this hosted connect session's page: its connection once approved.
    pub connect_session: Option<latchkey_domain::ConnectSessionId>,
}

/// What the customer is shown.
#[derive(Debug)]
pub struct DeviceStarted {
    pub connection_id: ConnectionId,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub interval: StdDuration,
}

/// What one poll learned.
enum Poll {
    /// Not decided yet: ask again after this long.
    Wait(StdDuration),
    /// Settled (authorized or failed), or no longer this poller's to follow.
    Done,
}

impl Connections {
    pub async fn start_device_authorization(
        &self,
        caller: &Caller,
        mut request: StartDevice,
    ) -> Result<DeviceStarted, AppError> {
        request.tenant = caller.acting_for(request.tenant)?;
        let integration = self
            .integration_for(caller, request.integration_id, &request.tenant)
            .await?;
        if integration.config.grant_type != GrantType::DeviceCode {
            return Err(AppError::FailedPrecondition(format!(
                "integration {} uses the {} grant; StartDeviceAuthorization is for device_code",
                integration.id,
                integration.config.grant_type.as_str()
            )));
        }
        let now = Utc::now();
        let (connection_id, mut events, expected, state) = self
            .connection_to_authorize(request.connection_id, &integration, &request.tenant, now)
            .await?;
        let existing = state.as_ref().filter(|_| request.connection_id.is_some());
        let values = super::param_values(&integration.config, &request.params, existing)?;
        let config = &*super::configured(&integration.config, &values)?;
        let endpoint = config
            .endpoints
            .device_authorization_url
            .as_ref()
            .ok_or_else(|| {
                AppError::FailedPrecondition(format!(
                    "integration {} has no device_authorization_url",
                    integration.id
                ))
            })?;
        let scopes = request.scopes.unwrap_or_else(|| config.scopes.clone());
        super::within_allowed_scopes(config, &scopes)?;
        let client = self.integration_client(&integration, config).await?;
        // Asked before anything is recorded: a refusal leaves no connection behind.
        let answer = self
            .provider
            .start_device_authorization(
                config,
                &endpoint.url(),
                &client.credentials(),
                &scopes,
                &ParamMap::default(),
            )
            .await?;
        let device_code = self
            .seal_connection_secret(connection_id, Field::DeviceCode, &answer.device_code)
            .await?;
        let expires_at = now
            + chrono::Duration::from_std(answer.expires_in)
                .unwrap_or_else(|_| chrono::Duration::minutes(10));
        let pending_params = super::params_to_apply(existing, state.as_ref(), values, &mut events)?;
        let pending = PendingAuthorization {
            // No callback ever names it: a digest of a value nobody holds.
            state_digest: state_digest(random_token().expose_secret()),
            expires_at,
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            redirect_uri: String::new(),
            pkce_verifier: None,
            return_url: None,
            correlation_id: caller.correlation_id.clone(),
            connect_session: request.connect_session,
            params: pending_params,
            provider_url: None,
            opened_by: None,
            device: Some(PendingDevice {
                device_code,
                interval_secs: u32::try_from(answer.interval.as_secs()).unwrap_or(5),
            }),
        };
        events.extend(super::started_events(
            state.as_ref(),
            pending,
            request.profile,
        )?);
        self.append_events(connection_id, expected, events, caller, now)
            .await?;
        tracing::info!(%connection_id, integration_id = %integration.id, "device authorization started");
        self.poll_in_background(connection_id);
        Ok(DeviceStarted {
            connection_id,
            user_code: answer.user_code,
            verification_uri: answer.verification_uri,
            verification_uri_complete: answer.verification_uri_complete,
            expires_at,
            interval: answer.interval,
        })
    }

    /// At start: follows again every device authorization still waiting (a replica that stopped
    /// was following it); the refresh lease keeps it to one poller.
    pub async fn resume_device_authorizations(self) {
        let filter = ConnectionFilter {
            status: Some(connection::Status::Pending),
            ..Default::default()
        };
        let waiting = match self.all_connections(&filter).await {
            Ok(waiting) => waiting,
            Err(error) => {
                tracing::warn!(%error, "waiting device authorizations could not be listed");
                return;
            }
        };
        for state in waiting {
            if state
                .pending_authorization
                .as_ref()
                .is_some_and(|p| p.device.is_some())
            {
                self.poll_in_background(state.id);
            }
        }
    }

    /// Follows a device authorization until it settles, on the app's tracker (a stopping
    /// process ends the wait, never a poll under way).
    pub(super) fn poll_in_background(&self, id: ConnectionId) {
        let this = self.clone();
        self.tasks.spawn(async move {
            let mut wait = StdDuration::ZERO;
            loop {
                tokio::select! {
                    () = this.shutdown.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
                match this.poll_device(id).await {
                    Ok(Poll::Wait(next)) => wait = next,
                    Ok(Poll::Done) => return,
                    Err(error) => {
                        tracing::warn!(connection_id = %id, %error, "device authorization poll failed; asking again");
                        wait = StdDuration::from_secs(5);
                    }
                }
            }
        });
    }

    /// One poll: under the connection's refresh lease, asks the provider about the device code
    /// and records the outcome once it is known.
    async fn poll_device(&self, id: ConnectionId) -> Result<Poll, AppError> {
        let state = self.connection_state(id).await?;
        let Some(pending) = state.pending_authorization.as_deref() else {
            return Ok(Poll::Done);
        };
        let Some(device) = &pending.device else {
            return Ok(Poll::Done);
        };
        let interval = StdDuration::from_secs(u64::from(device.interval_secs.max(1)));
        let now = Utc::now();
        let caller = Caller::system("device-authorization");
        if pending.expires_at <= now {
            self.fail_device(&caller, &state, "expired_token", "the device code expired")
                .await?;
            return Ok(Poll::Done);
        }
        let owner = &self.refresh.owner;
        let until = now
            + chrono::Duration::from_std(interval).unwrap_or_default()
            + self.refresh.call_timeout;
        if let Lease::Busy = self
            .store
            .acquire_refresh_lease(id, owner, now, until)
            .await?
        {
            return Ok(Poll::Wait(interval));
        }
        let outcome = self
            .ask_about_device(&caller, &state, pending, device)
            .await;
        self.store.release_refresh_lease(id, owner, false).await?;
        outcome.map(|slower| match slower {
            Some(next) => Poll::Wait(next),
            None => Poll::Done,
        })
    }

    /// Asks the token endpoint about `device`'s code: `Some(wait)` while the customer has not
    /// decided (longer after `slow_down`, recorded for every poller); `None` once recorded.
    async fn ask_about_device(
        &self,
        caller: &Caller,
        state: &connection::State,
        pending: &PendingAuthorization,
        device: &PendingDevice,
    ) -> Result<Option<StdDuration>, AppError> {
        let interval = StdDuration::from_secs(u64::from(device.interval_secs.max(1)));
        let integration = self.integration_state(state.integration_id).await?;
        let values = pending.params.as_ref().unwrap_or(&state.params);
        let config = &*super::configured(&integration.config, values)?;
        let client = self
            .connection_client(state, &integration, config)
            .await?
            .with_dpop(self.dpop_key(config, state.id).await?);
        let device_code = self
            .open_connection_secret(state.id, Field::DeviceCode, &device.device_code)
            .await?;
        let answer = self
            .provider
            .request_token(
                config,
                &config.endpoints.token_url.url(),
                &client.credentials(),
                &Grant::DeviceCode {
                    device_code: &device_code,
                },
                &ParamMap::default(),
            )
            .await;
        match answer {
            Ok(response) => {
                let now = Utc::now();
                match self.identified(config, response).await {
                    Ok((response, account)) => {
                        let captured = connection::Command::CaptureCallback {
                            values: Default::default(),
                        };
                        let connection = self
                            .authorize_here(
                                caller,
                                state,
                                response,
                                account,
                                (config, captured),
                                pending,
                                now,
                            )
                            .await?;
                        self.validate_in_background(config, connection.id);
                        if let Some(session) = pending.connect_session {
                            self.record_session_connection(session, connection.id).await;
                        }
                    }
                    Err((error, description)) => {
                        let description = description.unwrap_or_default();
                        self.fail_device(caller, state, &error, &description)
                            .await?;
                    }
                }
                Ok(None)
            }
            Err(OAuthError::Provider { error, .. })
                if error.as_deref() == Some("authorization_pending") =>
            {
                Ok(Some(interval))
            }
            Err(OAuthError::Provider { error, .. }) if error.as_deref() == Some("slow_down") => {
                Ok(Some(interval + StdDuration::from_secs(5)))
            }
            Err(OAuthError::Provider {
                error: Some(error),
                description,
                ..
            }) => {
                let description = description.unwrap_or_default();
                self.fail_device(caller, state, &error, &description)
                    .await?;
                Ok(None)
            }
            // No answer, or an unusable one: asked again until the code expires.
            Err(other) => {
                tracing::info!(connection_id = %state.id, error = %other, "device authorization poll got no answer");
                Ok(Some(interval))
            }
        }
    }

    async fn fail_device(
        &self,
        caller: &Caller,
        state: &connection::State,
        error: &str,
        description: &str,
    ) -> Result<(), AppError> {
        let events = connection::decide(
            Some(state),
            connection::Command::FailAuthorization {
                error: error.to_owned(),
                description: (!description.is_empty()).then(|| description.to_owned()),
            },
        )?;
        self.append_events(state.id, state.version, events, caller, Utc::now())
            .await?;
        tracing::info!(connection_id = %state.id, error, "device authorization failed");
        Ok(())
    }
}
