//! The rules (`decide`) and the fold (`apply`) of the connection aggregate.

use std::collections::BTreeMap;

use super::Metadata;
use super::types::*;
use crate::text::{MAX_DESCRIPTION, MAX_ERROR_CODE, inert, inert_opt};
use crate::{DomainError, EventMeta, GrantType};

fn refuse(state: &State, action: &str) -> DomainError {
    DomainError::InvalidTransition(format!(
        "cannot {action}: connection {} is {}",
        state.id,
        state.status.as_str()
    ))
}

/// All business rules of connections.
pub fn decide(state: Option<&State>, command: Command) -> Result<Vec<Event>, DomainError> {
    let state = match (state, command) {
        (
            None,
            Command::Create {
                connection_id,
                integration_id,
                tenant,
                grant_type,
            },
        ) => {
            return Ok(vec![Event::ConnectionCreated {
                connection_id,
                integration_id,
                tenant,
                grant_type,
            }]);
        }
        (Some(s), Command::Create { .. }) => {
            return Err(DomainError::AlreadyExists(format!("connection {}", s.id)));
        }
        (None, _) => return Err(DomainError::NotFound("connection".to_owned())),
        (Some(s), _) if s.status == Status::Deleted => {
            return Err(DomainError::NotFound(format!("connection {}", s.id)));
        }
        (Some(s), command) => (s, command),
    };
    let (s, command) = state;
    use Status::*;
    match command {
        Command::Create { .. } => unreachable!("handled above"),
        Command::UpdateProfile { profile } => Ok(vec![Event::ConnectionUpdated { profile }]),
        command @ (Command::RecordValidation { .. }
        | Command::ConfirmRefreshToken { .. }
        | Command::RecordTokenRejected { .. }
        | Command::Refresh { .. }
        | Command::RecordRefreshFailure { .. }) => upkeep(s, command),
        command @ (Command::StartAuthorization { .. }
        | Command::Authorize { .. }
        | Command::Import { .. }
        | Command::MergeInto { .. }
        | Command::OpenAuthorization { .. }
        | Command::FailAuthorization { .. }) => authorization(s, command),
        Command::RequireReauthorization { error, description } => match s.status {
            Active | Expired => Ok(vec![Event::ReauthorizationRequired {
                error: inert(&error, MAX_ERROR_CODE),
                description: inert_opt(description, MAX_DESCRIPTION),
            }]),
            _ => Err(refuse(s, "require reauthorization")),
        },
        Command::Expire { now } => match (s.status, s.expires_at) {
            (Active, Some(at)) if at <= now => Ok(vec![Event::Expired {}]),
            (Active, _) => Err(DomainError::InvalidTransition(format!(
                "connection {} has a token that has not expired",
                s.id
            ))),
            _ => Err(refuse(s, "expire")),
        },
        Command::Revoke { reason, provider } => match s.status {
            Revoked => Err(refuse(s, "revoke")),
            _ => Ok(vec![Event::Revoked { reason, provider }]),
        },
        Command::RecordRevocationRetry {
            provider,
            attempt,
            gave_up,
        } => match s.status {
            Revoked => Ok(vec![Event::RevocationRetried {
                confirmed: super::revocation_confirmed(&provider),
                provider,
                attempt,
                gave_up,
            }]),
            _ => Err(refuse(s, "retry a revocation")),
        },
        Command::Delete => Ok(vec![Event::Deleted {}]),
        Command::SetParameters { values } => match s.status {
            Revoked => Err(refuse(s, "set parameters")),
            _ if values == s.params => Ok(Vec::new()),
            _ => Ok(vec![Event::ParametersSet { values }]),
        },
        Command::WarnRefreshTokenExpiry { expires_at } => {
            if s.refresh_token_expiry_warned == Some(expires_at) {
                Ok(Vec::new())
            } else {
                Ok(vec![Event::RefreshTokenExpiring { expires_at }])
            }
        }
        Command::SetWebhookSecret { secret } => match s.status {
            Revoked => Err(refuse(s, "set a webhook secret")),
            _ if secret.is_none() && s.webhook_secret.is_none() => Ok(Vec::new()),
            _ => Ok(vec![Event::WebhookSecretSet { secret }]),
        },
        Command::CaptureCallback { values } => match s.status {
            Revoked => Err(refuse(s, "keep callback parameters")),
            _ if values.is_empty() => Ok(Vec::new()),
            _ => Ok(vec![Event::CallbackCaptured { values }]),
        },
    }
}

/// The rules of keeping a connection's tokens: validations, workers' reports of refused tokens,
/// refreshes and their failures (with the health events they start and end).
fn upkeep(s: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    use Status::*;
    match command {
        Command::RecordValidation { valid, reason } => match s.status {
            Active | Expired => Ok(vec![Event::Validated {
                valid,
                reason: inert_opt(reason, MAX_DESCRIPTION),
            }]),
            _ => Err(refuse(s, "validate")),
        },
        Command::ConfirmRefreshToken { sent_at } => match s.status {
            Active | Expired => Ok(vec![Event::RefreshTokenStillActive { sent_at }]),
            _ => Err(refuse(s, "confirm a refresh token")),
        },
        Command::RecordTokenRejected {
            http_status,
            provider_error,
            token_version,
            verdict,
        } => match s.status {
            Revoked | Deleted => Err(refuse(s, "record a rejected token")),
            _ => Ok(vec![Event::TokenRejected {
                http_status,
                provider_error: inert_opt(provider_error, MAX_DESCRIPTION),
                token_version,
                verdict: inert(&verdict, MAX_ERROR_CODE),
            }]),
        },
        Command::Refresh { tokens } => match s.status {
            Active | Expired => Ok(recovered(s, vec![Event::Refreshed { tokens }])),
            _ => Err(refuse(s, "refresh")),
        },
        Command::RecordRefreshFailure {
            error,
            description,
            retryable,
            retry_at,
        } => match s.status {
            Active | Expired => {
                let error = inert(&error, MAX_ERROR_CODE);
                let description = inert_opt(description, MAX_DESCRIPTION);
                let mut events = vec![Event::RefreshFailed {
                    error: error.clone(),
                    description: description.clone(),
                    retryable,
                    retry_at,
                    attempt: s.consecutive_failures.saturating_add(1),
                }];
                if s.failing_since.is_none() {
                    events.push(Event::ConnectionFailing { error, description });
                }
                Ok(events)
            }
            _ => Err(refuse(s, "record a refresh failure")),
        },
        _ => Err(DomainError::InvalidTransition(
            "not an upkeep command".to_owned(),
        )),
    }
}

/// Starting an authorization: by callback (authorization code) or by device code, as the
/// connection's grant says, on any connection not revoked.
fn start(s: &State, authorization: PendingAuthorization) -> Result<Vec<Event>, DomainError> {
    use Status::*;
    let grant = match authorization.device {
        Some(_) => GrantType::DeviceCode,
        None => GrantType::AuthorizationCode,
    };
    if s.grant_type != grant {
        return Err(DomainError::InvalidTransition(format!(
            "connection {} uses the {} grant, not {}",
            s.id,
            s.grant_type.as_str(),
            grant.as_str()
        )));
    }
    if s.status == Revoked {
        return Err(refuse(s, "start an authorization"));
    }
    Ok(vec![Event::AuthorizationStarted { authorization }])
}

/// The rules of authorizing a connection: starting, opening, completing, failing, importing and
/// merging an authorization.
fn authorization(s: &State, command: Command) -> Result<Vec<Event>, DomainError> {
    use Status::*;
    match command {
        Command::StartAuthorization { authorization } => start(s, authorization),
        Command::Authorize {
            grant_type,
            tokens,
            credentials,
            now,
            provider_account_id,
            via,
            grant,
        } => {
            if grant_type != s.grant_type {
                return Err(DomainError::InvalidTransition(format!(
                    "connection {} uses the {} grant, not {}",
                    s.id,
                    s.grant_type.as_str(),
                    grant_type.as_str()
                )));
            }
            if s.status == Revoked {
                return Err(refuse(s, "authorize"));
            }
            if matches!(
                grant_type,
                GrantType::AuthorizationCode | GrantType::DeviceCode
            ) && via.is_none()
            {
                match &s.pending_authorization {
                    None => return Err(refuse(s, "authorize without a started authorization")),
                    Some(p) if p.expires_at <= now => {
                        return Err(DomainError::InvalidTransition(format!(
                            "the authorization of connection {} expired at {}",
                            s.id, p.expires_at
                        )));
                    }
                    Some(_) => {}
                }
            }
            let authorized = Event::Authorized {
                grant_type,
                tokens,
                credentials,
                provider_account_id,
                via,
                grant,
            };
            Ok(recovered(s, vec![authorized]))
        }
        Command::Import {
            tokens,
            provider_account_id,
            source_id,
        } => {
            // Only into a connection that has never held tokens: an import never overwrites.
            if s.status != Pending || s.access_token.is_some() || s.pending_authorization.is_some()
            {
                return Err(refuse(s, "import tokens into a connection that exists"));
            }
            Ok(vec![Event::Imported {
                tokens,
                provider_account_id,
                source_id,
            }])
        }
        Command::MergeInto { into } => {
            if s.pending_authorization.is_none() || into == s.id {
                return Err(refuse(
                    s,
                    "merge an authorization that was not started here",
                ));
            }
            Ok(vec![Event::MergedInto { into }])
        }
        Command::OpenAuthorization {
            state_digest,
            browser_digest,
            now,
        } => match s.pending_authorization.as_deref() {
            Some(p)
                if p.state_digest == state_digest
                    && p.provider_url.is_some()
                    && p.opened_by.is_none()
                    && p.expires_at > now =>
            {
                Ok(vec![Event::AuthorizationOpened { browser_digest }])
            }
            _ => Err(refuse(s, "open an authorization link that is not waiting")),
        },
        Command::FailAuthorization { error, description } => {
            if s.pending_authorization.is_none() {
                return Err(refuse(s, "fail an authorization that was not started"));
            }
            Ok(vec![Event::AuthorizationFailed {
                error: inert(&error, MAX_ERROR_CODE),
                description: inert_opt(description, MAX_DESCRIPTION),
            }])
        }
        _ => Err(DomainError::InvalidTransition(
            "not an authorization command".to_owned(),
        )),
    }
}

/// A new connection and what happens to it in the same append (its first tokens, its profile):
/// `create` decided on nothing, each of `then` on the created connection.
pub fn decide_new(
    create: Command,
    then: impl IntoIterator<Item = Command>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Event>, DomainError> {
    let mut events = decide(None, create)?;
    let meta = EventMeta {
        version: 1,
        occurred_at: now,
    };
    let created = events.iter().fold(None, |s, e| apply(s, e, &meta));
    for command in then {
        events.extend(decide(created.as_ref(), command)?);
    }
    Ok(events)
}

/// `events` (new tokens), followed by `connection_recovered` when refreshes had been failing.
fn recovered(s: &State, mut events: Vec<Event>) -> Vec<Event> {
    if let Some(failing_since) = s.failing_since {
        events.push(Event::ConnectionRecovered { failing_since });
    }
    events
}

fn take_tokens(s: &mut State, tokens: &TokenSet) {
    s.access_token = Some(tokens.access_token.clone());
    if let Some(refresh) = &tokens.refresh_token {
        s.refresh_token = Some(refresh.clone());
        s.refresh_token_expires_at = tokens.refresh_token_expires_at;
    } else if tokens.refresh_token_expires_at.is_some() {
        s.refresh_token_expires_at = tokens.refresh_token_expires_at;
    }
    s.token_type = Some(tokens.token_type.clone());
    s.expires_at = tokens.expires_at;
    s.scopes = tokens.scopes.clone();
    s.metadata = Metadata::from(&tokens.metadata);
    keep_captured(s);
    s.last_error = None;
    s.consecutive_failures = 0;
    s.failing_since = None;
    s.refresh_at = tokens.refresh_at;
    s.status = Status::Active;
}

/// The callback's kept parameters stay in the metadata whatever a token response brings.
fn keep_captured(s: &mut State) {
    for (name, value) in &s.captured {
        s.metadata
            .insert(name.clone(), serde_json::Value::String(value.clone()));
    }
}

fn clear_tokens(s: &mut State) {
    s.refresh_at = None;
    s.access_token = None;
    s.refresh_token = None;
    s.pending_authorization = None;
    s.credentials = None;
}

/// Folds one event into the state. No rules and no failure: the log is the truth. An event that
/// cannot follow the state (only possible in a log that `decide` did not write) leaves it as is.
pub fn apply(state: Option<State>, event: &Event, meta: &EventMeta) -> Option<State> {
    let mut s = match (state, event) {
        (
            None,
            Event::ConnectionCreated {
                connection_id,
                integration_id,
                tenant,
                grant_type,
            },
        ) => {
            return Some(created(
                *connection_id,
                *integration_id,
                tenant,
                *grant_type,
                meta,
            ));
        }
        (None, _) => return None,
        (Some(s), Event::ConnectionCreated { .. }) => return Some(s),
        // Deliveries are kept in the stream, not in the state: only its version moves.
        (Some(mut s), Event::WebhookReceived { .. } | Event::ActionReceived { .. }) => {
            s.version = meta.version;
            return Some(s);
        }
        (Some(s), _) => s,
    };
    match event {
        Event::ConnectionCreated { .. }
        | Event::WebhookReceived { .. }
        | Event::ActionReceived { .. } => {}
        Event::ConnectionUpdated { profile } => s.profile = profile.clone(),
        Event::Validated { valid, reason } => {
            s.last_validation = Some(LastValidation {
                valid: *valid,
                reason: reason.clone(),
                at: meta.occurred_at,
            });
        }
        Event::AuthorizationOpened { .. }
        | Event::AuthorizationStarted { .. }
        | Event::Authorized { .. }
        | Event::Imported { .. }
        | Event::AuthorizationFailed { .. } => apply_authorization(&mut s, event, meta),
        Event::Refreshed { tokens } => {
            take_tokens(&mut s, tokens);
            s.refreshed_at = Some(meta.occurred_at);
        }
        Event::RefreshFailed {
            error,
            description,
            retryable,
            retry_at,
            ..
        } => {
            s.last_error = Some(Box::new(LastError {
                code: error.clone(),
                description: description.clone(),
                retryable: *retryable,
                at: meta.occurred_at,
            }));
            s.consecutive_failures = s.consecutive_failures.saturating_add(1);
            s.failing_since.get_or_insert(meta.occurred_at);
            s.refresh_at = if *retryable { *retry_at } else { None };
        }
        Event::ReauthorizationRequired { error, description } => {
            s.last_error = Some(Box::new(LastError {
                code: error.clone(),
                description: description.clone(),
                retryable: false,
                at: meta.occurred_at,
            }));
            s.status = Status::ReauthorizationRequired;
            s.refresh_at = None;
        }
        Event::Expired {} => s.status = Status::Expired,
        Event::Revoked { .. } => {
            clear_tokens(&mut s);
            s.status = Status::Revoked;
        }
        Event::ParametersSet { values } => s.params = values.clone(),
        Event::WebhookSecretSet { secret } => s.webhook_secret = secret.clone().map(Box::new),
        Event::RefreshTokenExpiring { expires_at } => {
            s.refresh_token_expiry_warned = Some(*expires_at);
        }
        Event::ConnectionFailing { .. } => {
            s.failing_since.get_or_insert(meta.occurred_at);
        }
        Event::ConnectionRecovered { .. } => s.failing_since = None,
        // A report is kept in the log; what it led to is in the events after it.
        Event::TokenRejected { .. }
        | Event::RefreshTokenStillActive { .. }
        | Event::RevocationRetried { .. } => {}
        Event::CallbackCaptured { values } => {
            s.captured = values.clone();
            keep_captured(&mut s);
        }
        Event::Deleted {} | Event::MergedInto { .. } => {
            clear_tokens(&mut s);
            s.status = Status::Deleted;
        }
    }
    s.version = meta.version;
    s.updated_at = meta.occurred_at;
    Some(s)
}

/// A connection as its creation leaves it.
fn created(
    connection_id: crate::ConnectionId,
    integration_id: crate::IntegrationId,
    tenant: &crate::TenantId,
    grant_type: GrantType,
    meta: &EventMeta,
) -> State {
    State {
        id: connection_id,
        integration_id,
        tenant: tenant.clone(),
        grant_type,
        status: Status::Pending,
        access_token: None,
        refresh_token: None,
        token_type: None,
        expires_at: None,
        scopes: Vec::new(),
        metadata: Metadata::new(),
        pending_authorization: None,
        credentials: None,
        profile: Profile::default(),
        last_validation: None,
        provider_account_id: None,
        last_error: None,
        consecutive_failures: 0,
        failing_since: None,
        grant_request: None,
        refresh_at: None,
        version: meta.version,
        created_at: meta.occurred_at,
        updated_at: meta.occurred_at,
        authorized_at: None,
        refreshed_at: None,
        params: BTreeMap::new(),
        captured: BTreeMap::new(),
        refresh_token_expires_at: None,
        refresh_token_expiry_warned: None,
        webhook_secret: None,
    }
}

/// The fold of the authorization events.
fn apply_authorization(s: &mut State, event: &Event, meta: &EventMeta) {
    match event {
        Event::AuthorizationOpened { browser_digest } => {
            if let Some(pending) = s.pending_authorization.as_deref_mut() {
                pending.opened_by = Some(browser_digest.clone());
            }
        }
        Event::AuthorizationStarted { authorization } => {
            s.pending_authorization = Some(Box::new(authorization.clone()));
            if s.status != Status::Active {
                s.status = Status::Pending;
            }
        }
        Event::Authorized {
            tokens,
            credentials,
            provider_account_id,
            grant,
            ..
        } => {
            take_tokens(s, tokens);
            if grant.is_some() {
                s.grant_request = grant.clone().map(Box::new);
            }
            if provider_account_id.is_some() {
                s.provider_account_id = provider_account_id.clone();
            }
            if credentials.is_some() {
                s.credentials = credentials.clone().map(Box::new);
            }
            s.pending_authorization = None;
            s.authorized_at = Some(meta.occurred_at);
        }
        Event::Imported {
            tokens,
            provider_account_id,
            ..
        } => {
            take_tokens(s, tokens);
            if provider_account_id.is_some() {
                s.provider_account_id = provider_account_id.clone();
            }
            s.authorized_at = Some(meta.occurred_at);
        }
        Event::AuthorizationFailed { error, description } => {
            s.pending_authorization = None;
            s.last_error = Some(Box::new(LastError {
                code: error.clone(),
                description: description.clone(),
                retryable: false,
                at: meta.occurred_at,
            }));
            if s.status != Status::Active {
                s.status = Status::AuthorizationFailed;
            }
        }
        _ => {}
    }
}
