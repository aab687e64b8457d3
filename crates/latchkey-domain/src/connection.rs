//! The connection aggregate: one customer's grant through one integration, from the first
//! "Connect" click to revocation or deletion.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConnectionId, DomainError, EventMeta, GrantType, IntegrationId, Sealed, TenantId};

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created; waiting for the customer to consent (or for the first grant).
    Pending,
    /// Holds tokens that Latchkey keeps fresh.
    Active,
    /// The customer or the provider refused the authorization.
    AuthorizationFailed,
    /// The provider refused the grant for good (`invalid_grant`…): the customer must connect again.
    ReauthorizationRequired,
    /// The access token passed its expiry without a replacement.
    Expired,
    /// Revoked by a caller; tokens are no longer handed out.
    Revoked,
    /// Deleted; its data key is destroyed.
    Deleted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::AuthorizationFailed => "authorization_failed",
            Self::ReauthorizationRequired => "reauthorization_required",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Active,
            Self::AuthorizationFailed,
            Self::ReauthorizationRequired,
            Self::Expired,
            Self::Revoked,
            Self::Deleted,
        ]
        .into_iter()
        .find(|s| s.as_str() == input)
    }
}

/// What people call a connection: a name, a description and labels (key/value), set at creation
/// and changed with `UpdateConnection`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub labels: BTreeMap<String, String>,
}

impl Profile {
    pub const MAX_LABELS: usize = 32;

    /// Checks every field; label keys are 1 to 63 of `a-z 0-9 _ - . /`, values up to 256
    /// characters without control characters.
    pub fn parse(
        name: String,
        description: String,
        labels: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, crate::ValidationErrors> {
        use crate::FieldViolation;
        let mut errors = crate::ValidationErrors::default();
        if name.chars().count() > 200 || name.chars().any(char::is_control) {
            errors.push(FieldViolation::new(
                "name",
                "must be at most 200 characters, no control characters",
            ));
        }
        if description.chars().count() > 2000 {
            errors.push(FieldViolation::new(
                "description",
                "must be at most 2000 characters",
            ));
        }
        let labels: BTreeMap<String, String> = labels.into_iter().collect();
        if labels.len() > Self::MAX_LABELS {
            errors.push(FieldViolation::new(
                "labels",
                format!("at most {} labels", Self::MAX_LABELS),
            ));
        }
        for (key, value) in &labels {
            if key.is_empty()
                || key.len() > 63
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-./".contains(&b))
            {
                errors.push(FieldViolation::new(
                    format!("labels[{key}]"),
                    "label keys are 1 to 63 of a-z, 0-9, '_', '-', '.', '/'",
                ));
            } else if value.chars().count() > 256 || value.chars().any(char::is_control) {
                errors.push(FieldViolation::new(
                    format!("labels[{key}]"),
                    "label values are at most 256 characters, no control characters",
                ));
            }
        }
        errors.into_result(|| Self {
            name,
            description,
            labels,
        })
    }
}

/// Tokens from one grant or refresh, sealed, with the provider response's non-secret fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: Sealed,
    /// `None` on a refresh keeps the refresh token the connection has.
    pub refresh_token: Option<Sealed>,
    pub token_type: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Scopes the provider granted (which may differ from those asked for).
    pub scopes: Vec<String>,
    /// The raw response's other non-secret fields (`instance_url`, `expires_in` as sent…), kept so
    /// projections can be rebuilt when parsing rules change.
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// When Latchkey plans to refresh these tokens: before expiry by the integration's margin
    /// (with jitter), or sooner if the refresh token would die unused. `None`: never (the
    /// connection cannot refresh, and says so by expiring).
    #[serde(default)]
    pub refresh_at: Option<DateTime<Utc>>,
}

/// An authorization started and not yet completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// A digest of the one-time `state` parameter (the state itself is a bearer secret).
    pub state_digest: String,
    pub expires_at: DateTime<Utc>,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    /// The sealed PKCE code verifier, when PKCE is on.
    #[serde(default)]
    pub pkce_verifier: Option<Sealed>,
    /// Where the browser goes after the callback.
    #[serde(default)]
    pub return_url: Option<String>,
}

/// The credentials a client-credentials or password connection was granted with, kept (sealed)
/// so the grant can be run again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GrantCredentials {
    /// The connection's own client; `None` fields use the integration's.
    ClientCredentials {
        client_id: String,
        client_secret: Option<Sealed>,
    },
    Password {
        username: String,
        password: Sealed,
    },
}

/// What the provider said when asked to revoke one token (RFC 7009).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationOutcome {
    /// `refresh_token` or `access_token`.
    pub token_type_hint: String,
    /// The HTTP status, if the provider answered.
    pub status: Option<u16>,
    /// Why it failed, if it did (never a token).
    pub error: Option<String>,
}

/// The outcome of the last check of the token at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastValidation {
    pub valid: bool,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// The last thing that went wrong, as the provider said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub code: String,
    pub description: Option<String>,
    pub retryable: bool,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum Command {
    Create {
        connection_id: ConnectionId,
        integration_id: IntegrationId,
        tenant: TenantId,
        grant_type: GrantType,
    },
    UpdateProfile {
        profile: Profile,
    },
    RecordValidation {
        valid: bool,
        reason: Option<String>,
    },
    StartAuthorization {
        authorization: PendingAuthorization,
    },
    Authorize {
        grant_type: GrantType,
        tokens: TokenSet,
        credentials: Option<GrantCredentials>,
        now: DateTime<Utc>,
        /// Who the connection is at the provider, when the integration maps accounts.
        provider_account_id: Option<String>,
        /// The connection the authorization was started on, when it lands on this one because
        /// it is the same provider account (`reauthorize_same_account`).
        via: Option<ConnectionId>,
    },
    /// The authorization started on this connection landed on `into` (same provider account).
    MergeInto {
        into: ConnectionId,
    },
    FailAuthorization {
        error: String,
        description: Option<String>,
    },
    Refresh {
        tokens: TokenSet,
    },
    RecordRefreshFailure {
        error: String,
        description: Option<String>,
        retryable: bool,
        retry_at: Option<DateTime<Utc>>,
    },
    RequireReauthorization {
        error: String,
        description: Option<String>,
    },
    Expire {
        now: DateTime<Utc>,
    },
    Revoke {
        reason: String,
        provider: Vec<RevocationOutcome>,
    },
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    ConnectionCreated {
        connection_id: ConnectionId,
        integration_id: IntegrationId,
        tenant: TenantId,
        grant_type: GrantType,
    },
    ConnectionUpdated {
        profile: Profile,
    },
    Validated {
        valid: bool,
        reason: Option<String>,
    },
    AuthorizationStarted {
        authorization: PendingAuthorization,
    },
    Authorized {
        grant_type: GrantType,
        tokens: TokenSet,
        #[serde(default)]
        credentials: Option<GrantCredentials>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_account_id: Option<String>,
        /// The connection the customer started this authorization on (re-authorizing this one
        /// because it is the same provider account).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<ConnectionId>,
    },
    /// The authorization started here re-authorized `into`, the same provider account's
    /// connection; this one is closed (as deleted) and its data key destroyed.
    MergedInto {
        into: ConnectionId,
    },
    AuthorizationFailed {
        error: String,
        description: Option<String>,
    },
    Refreshed {
        tokens: TokenSet,
    },
    RefreshFailed {
        error: String,
        description: Option<String>,
        retryable: bool,
        retry_at: Option<DateTime<Utc>>,
        /// Failures in a row, this one included.
        #[serde(default)]
        attempt: u32,
    },
    ReauthorizationRequired {
        error: String,
        description: Option<String>,
    },
    Expired {},
    Revoked {
        reason: String,
        /// What the provider answered to each revocation request (RFC 7009).
        #[serde(default)]
        provider: Vec<RevocationOutcome>,
    },
    Deleted {},
}

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::ConnectionCreated { .. } => "connection_created",
            Self::ConnectionUpdated { .. } => "connection_updated",
            Self::Validated { .. } => "validated",
            Self::AuthorizationStarted { .. } => "authorization_started",
            Self::Authorized { .. } => "authorized",
            Self::MergedInto { .. } => "merged_into",
            Self::AuthorizationFailed { .. } => "authorization_failed",
            Self::Refreshed { .. } => "refreshed",
            Self::RefreshFailed { .. } => "refresh_failed",
            Self::ReauthorizationRequired { .. } => "reauthorization_required",
            Self::Expired { .. } => "expired",
            Self::Revoked { .. } => "revoked",
            Self::Deleted { .. } => "deleted",
        }
    }

    /// The payload schema of each event type; bumped when a type's payload changes shape.
    pub fn schema_version(&self) -> u32 {
        1
    }
}

/// The projected connection: what `GetConnection` and `GetToken` read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub id: ConnectionId,
    pub integration_id: IntegrationId,
    pub tenant: TenantId,
    pub grant_type: GrantType,
    pub status: Status,
    pub access_token: Option<Sealed>,
    pub refresh_token: Option<Sealed>,
    pub token_type: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
    pub metadata: BTreeMap<String, serde_json::Value>,
    // Boxed: most connections have none of these, and a cache holds many states.
    pub pending_authorization: Option<Box<PendingAuthorization>>,
    #[serde(default)]
    pub credentials: Option<Box<GrantCredentials>>,
    #[serde(default)]
    pub profile: Profile,
    #[serde(default)]
    pub last_validation: Option<LastValidation>,
    /// Who the connection is at the provider (the integration's account mapping).
    #[serde(default)]
    pub provider_account_id: Option<String>,
    pub last_error: Option<Box<LastError>>,
    /// Refresh failures in a row since the last success.
    pub consecutive_failures: u32,
    /// When the next refresh is due (planned, or the retry after a failure); `None`: none planned.
    #[serde(default)]
    pub refresh_at: Option<DateTime<Utc>>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub authorized_at: Option<DateTime<Utc>>,
    pub refreshed_at: Option<DateTime<Utc>>,
}

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
        Command::RecordValidation { valid, reason } => match s.status {
            Active | Expired => Ok(vec![Event::Validated { valid, reason }]),
            _ => Err(refuse(s, "validate")),
        },
        Command::StartAuthorization { authorization } => {
            if s.grant_type != GrantType::AuthorizationCode {
                return Err(DomainError::InvalidTransition(format!(
                    "connection {} uses the {} grant, not authorization_code",
                    s.id,
                    s.grant_type.as_str()
                )));
            }
            if s.status == Revoked {
                return Err(refuse(s, "start an authorization"));
            }
            Ok(vec![Event::AuthorizationStarted { authorization }])
        }
        Command::Authorize {
            grant_type,
            tokens,
            credentials,
            now,
            provider_account_id,
            via,
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
            if grant_type == GrantType::AuthorizationCode && via.is_none() {
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
            Ok(vec![Event::Authorized {
                grant_type,
                tokens,
                credentials,
                provider_account_id,
                via,
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
        Command::FailAuthorization { error, description } => {
            if s.pending_authorization.is_none() {
                return Err(refuse(s, "fail an authorization that was not started"));
            }
            Ok(vec![Event::AuthorizationFailed { error, description }])
        }
        Command::Refresh { tokens } => match s.status {
            Active | Expired => Ok(vec![Event::Refreshed { tokens }]),
            _ => Err(refuse(s, "refresh")),
        },
        Command::RecordRefreshFailure {
            error,
            description,
            retryable,
            retry_at,
        } => match s.status {
            Active | Expired => Ok(vec![Event::RefreshFailed {
                error,
                description,
                retryable,
                retry_at,
                attempt: s.consecutive_failures.saturating_add(1),
            }]),
            _ => Err(refuse(s, "record a refresh failure")),
        },
        Command::RequireReauthorization { error, description } => match s.status {
            Active | Expired => Ok(vec![Event::ReauthorizationRequired { error, description }]),
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
        Command::Delete => Ok(vec![Event::Deleted {}]),
    }
}

fn take_tokens(s: &mut State, tokens: &TokenSet) {
    s.access_token = Some(tokens.access_token.clone());
    if let Some(refresh) = &tokens.refresh_token {
        s.refresh_token = Some(refresh.clone());
    }
    s.token_type = Some(tokens.token_type.clone());
    s.expires_at = tokens.expires_at;
    s.scopes = tokens.scopes.clone();
    s.metadata = tokens.metadata.clone();
    s.last_error = None;
    s.consecutive_failures = 0;
    s.refresh_at = tokens.refresh_at;
    s.status = Status::Active;
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
            return Some(State {
                id: *connection_id,
                integration_id: *integration_id,
                tenant: tenant.clone(),
                grant_type: *grant_type,
                status: Status::Pending,
                access_token: None,
                refresh_token: None,
                token_type: None,
                expires_at: None,
                scopes: Vec::new(),
                metadata: BTreeMap::new(),
                pending_authorization: None,
                credentials: None,
                profile: Profile::default(),
                last_validation: None,
                provider_account_id: None,
                last_error: None,
                consecutive_failures: 0,
                refresh_at: None,
                version: meta.version,
                created_at: meta.occurred_at,
                updated_at: meta.occurred_at,
                authorized_at: None,
                refreshed_at: None,
            });
        }
        (None, _) => return None,
        (Some(s), Event::ConnectionCreated { .. }) => return Some(s),
        (Some(s), _) => s,
    };
    match event {
        Event::ConnectionCreated { .. } => {}
        Event::ConnectionUpdated { profile } => s.profile = profile.clone(),
        Event::Validated { valid, reason } => {
            s.last_validation = Some(LastValidation {
                valid: *valid,
                reason: reason.clone(),
                at: meta.occurred_at,
            });
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
            ..
        } => {
            take_tokens(&mut s, tokens);
            if provider_account_id.is_some() {
                s.provider_account_id = provider_account_id.clone();
            }
            if credentials.is_some() {
                s.credentials = credentials.clone().map(Box::new);
            }
            s.pending_authorization = None;
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
        Event::Deleted {} | Event::MergedInto { .. } => {
            clear_tokens(&mut s);
            s.status = Status::Deleted;
        }
    }
    s.version = meta.version;
    s.updated_at = meta.occurred_at;
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn ids() -> (ConnectionId, IntegrationId) {
        (ConnectionId::new_v7(), IntegrationId::new_v7())
    }

    fn created_with(grant_type: GrantType) -> Event {
        let (connection_id, integration_id) = ids();
        Event::ConnectionCreated {
            connection_id,
            integration_id,
            tenant: TenantId::parse("acme").unwrap(),
            grant_type,
        }
    }

    fn created() -> Event {
        created_with(GrantType::AuthorizationCode)
    }

    fn now() -> DateTime<Utc> {
        EventMeta::at_version(100).occurred_at
    }

    fn tokens(access: u8, refresh: Option<u8>) -> TokenSet {
        TokenSet {
            access_token: Sealed::from_bytes(vec![access]),
            refresh_token: refresh.map(|r| Sealed::from_bytes(vec![r])),
            token_type: "Bearer".to_owned(),
            expires_at: Some(now() + Duration::hours(1)),
            scopes: vec!["api".to_owned()],
            metadata: BTreeMap::from([(
                "instance_url".to_owned(),
                serde_json::json!("https://acme.my.salesforce.com"),
            )]),
            refresh_at: Some(now() + Duration::minutes(55)),
        }
    }

    fn started() -> Event {
        Event::AuthorizationStarted {
            authorization: PendingAuthorization {
                state_digest: "digest".to_owned(),
                expires_at: now() + Duration::minutes(10),
                scopes: vec!["api".to_owned()],
                redirect_uri: "https://latchkey.example/oauth/callback".to_owned(),
                pkce_verifier: None,
                return_url: None,
            },
        }
    }

    fn authorized() -> Event {
        Event::Authorized {
            grant_type: GrantType::AuthorizationCode,
            tokens: tokens(1, Some(2)),
            credentials: None,
            provider_account_id: None,
            via: None,
        }
    }

    fn given(events: &[Event]) -> Option<State> {
        events.iter().enumerate().fold(None, |state, (i, e)| {
            apply(state, e, &EventMeta::at_version(i as u64 + 1))
        })
    }

    /// Given `history`, when `command`, then the events it decides, applied, give the state.
    fn when(history: &[Event], command: Command) -> Result<(Vec<Event>, State), DomainError> {
        let state = given(history);
        let events = decide(state.as_ref(), command)?;
        let mut all = history.to_vec();
        all.extend(events.iter().cloned());
        Ok((events, given(&all).expect("state after events")))
    }

    fn types(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(Event::event_type).collect()
    }

    fn assert_refused(history: &[Event], command: Command, fragment: &str) {
        match when(history, command) {
            Err(DomainError::InvalidTransition(message)) => {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}")
            }
            other => panic!("expected a refused transition, got {other:?}"),
        }
    }

    #[test]
    fn given_nothing_when_created_then_pending() {
        let (connection_id, integration_id) = ids();
        let (events, state) = when(
            &[],
            Command::Create {
                connection_id,
                integration_id,
                tenant: TenantId::parse("acme").unwrap(),
                grant_type: GrantType::AuthorizationCode,
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["connection_created"]);
        assert_eq!(state.id, connection_id);
        assert_eq!(state.status, Status::Pending);
        assert_eq!(state.version, 1);
    }

    #[test]
    fn given_created_when_created_again_then_already_exists() {
        let (connection_id, integration_id) = ids();
        let err = when(
            &[created()],
            Command::Create {
                connection_id,
                integration_id,
                tenant: TenantId::parse("acme").unwrap(),
                grant_type: GrantType::AuthorizationCode,
            },
        )
        .unwrap_err();
        assert!(matches!(err, DomainError::AlreadyExists(_)));
    }

    #[test]
    fn given_nothing_when_anything_else_then_not_found() {
        assert!(matches!(
            when(&[], Command::Delete),
            Err(DomainError::NotFound(_))
        ));
    }

    #[test]
    fn given_created_when_authorization_started_then_pending_with_the_state_digest() {
        let (events, state) = when(
            &[created()],
            Command::StartAuthorization {
                authorization: match started() {
                    Event::AuthorizationStarted { authorization } => authorization,
                    _ => unreachable!(),
                },
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["authorization_started"]);
        assert_eq!(state.status, Status::Pending);
        assert_eq!(
            state.pending_authorization.map(|p| p.state_digest),
            Some("digest".to_owned())
        );
    }

    #[test]
    fn given_client_credentials_when_authorization_started_then_refused() {
        let authorization = match started() {
            Event::AuthorizationStarted { authorization } => authorization,
            _ => unreachable!(),
        };
        assert_refused(
            &[created_with(GrantType::ClientCredentials)],
            Command::StartAuthorization { authorization },
            "client_credentials grant",
        );
    }

    #[test]
    fn given_started_when_authorized_then_active_with_tokens() {
        let (events, state) = when(
            &[created(), started()],
            Command::Authorize {
                grant_type: GrantType::AuthorizationCode,
                tokens: tokens(1, Some(2)),
                credentials: None,
                provider_account_id: None,
                via: None,
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["authorized"]);
        assert_eq!(state.status, Status::Active);
        assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![1])));
        assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![2])));
        assert_eq!(state.pending_authorization, None);
        assert!(state.authorized_at.is_some());
        assert_eq!(
            state.metadata.get("instance_url"),
            Some(&serde_json::json!("https://acme.my.salesforce.com"))
        );
    }

    #[test]
    fn given_an_account_when_authorized_again_via_another_connection_then_one_connection_holds_both()
     {
        let (_, first) = when(
            &[created(), started()],
            Command::Authorize {
                grant_type: GrantType::AuthorizationCode,
                tokens: tokens(1, Some(2)),
                credentials: None,
                provider_account_id: Some("user-42".to_owned()),
                via: None,
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(first.provider_account_id.as_deref(), Some("user-42"));
        // The customer connects the same account from a new connection: it lands on this one,
        // with no authorization started here.
        let twin = ConnectionId::new_v7();
        let history = [created(), started(), authorized()];
        let (events, state) = when(
            &history,
            Command::Authorize {
                grant_type: GrantType::AuthorizationCode,
                tokens: tokens(3, Some(4)),
                credentials: None,
                provider_account_id: Some("user-42".to_owned()),
                via: Some(twin),
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["authorized"]);
        assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![3])));
        assert_eq!(state.provider_account_id.as_deref(), Some("user-42"));
        // The twin closes, pointing at the connection that took its authorization.
        let (events, closed) = when(
            &[created(), started()],
            Command::MergeInto { into: state.id },
        )
        .unwrap();
        assert_eq!(types(&events), ["merged_into"]);
        assert_eq!(closed.status, Status::Deleted);
        assert_eq!(closed.pending_authorization, None);
        assert_refused(
            &[created()],
            Command::MergeInto { into: state.id },
            "not started here",
        );
    }

    #[test]
    fn given_created_when_authorized_without_a_started_authorization_then_refused() {
        assert_refused(
            &[created()],
            Command::Authorize {
                grant_type: GrantType::AuthorizationCode,
                tokens: tokens(1, None),
                credentials: None,
                provider_account_id: None,
                via: None,
                now: now(),
            },
            "without a started authorization",
        );
    }

    #[test]
    fn given_started_when_authorized_after_the_state_expired_then_refused() {
        assert_refused(
            &[created(), started()],
            Command::Authorize {
                grant_type: GrantType::AuthorizationCode,
                tokens: tokens(1, None),
                credentials: None,
                provider_account_id: None,
                via: None,
                now: now() + Duration::minutes(11),
            },
            "expired",
        );
    }

    #[test]
    fn given_client_credentials_when_authorized_then_active_without_consent() {
        let (_, state) = when(
            &[created_with(GrantType::ClientCredentials)],
            Command::Authorize {
                grant_type: GrantType::ClientCredentials,
                tokens: tokens(1, None),
                credentials: None,
                provider_account_id: None,
                via: None,
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(state.status, Status::Active);
        assert_eq!(state.refresh_token, None);
    }

    #[test]
    fn given_a_grant_type_when_authorized_with_another_then_refused() {
        assert_refused(
            &[created_with(GrantType::ClientCredentials)],
            Command::Authorize {
                grant_type: GrantType::Password,
                tokens: tokens(1, None),
                credentials: None,
                provider_account_id: None,
                via: None,
                now: now(),
            },
            "not password",
        );
    }

    #[test]
    fn given_started_when_authorization_fails_then_authorization_failed() {
        let (events, state) = when(
            &[created(), started()],
            Command::FailAuthorization {
                error: "access_denied".to_owned(),
                description: Some("user said no".to_owned()),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["authorization_failed"]);
        assert_eq!(state.status, Status::AuthorizationFailed);
        assert_eq!(
            state.last_error.map(|e| e.code),
            Some("access_denied".to_owned())
        );
    }

    #[test]
    fn given_created_when_authorization_fails_without_a_start_then_refused() {
        assert_refused(
            &[created()],
            Command::FailAuthorization {
                error: "access_denied".to_owned(),
                description: None,
            },
            "not started",
        );
    }

    #[test]
    fn given_active_when_reauthorization_started_then_stays_active() {
        let (_, state) = when(
            &[created(), started(), authorized()],
            Command::StartAuthorization {
                authorization: match started() {
                    Event::AuthorizationStarted { authorization } => authorization,
                    _ => unreachable!(),
                },
            },
        )
        .unwrap();
        assert_eq!(state.status, Status::Active);
        assert!(state.access_token.is_some());
    }

    #[test]
    fn given_active_when_refreshed_without_refresh_token_then_old_refresh_token_is_kept() {
        let (events, state) = when(
            &[created(), started(), authorized()],
            Command::Refresh {
                tokens: tokens(3, None),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["refreshed"]);
        assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![3])));
        assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![2])));
        assert!(state.refreshed_at.is_some());
    }

    #[test]
    fn given_active_when_refreshed_with_rotation_then_new_refresh_token() {
        let (_, state) = when(
            &[created(), started(), authorized()],
            Command::Refresh {
                tokens: tokens(3, Some(4)),
            },
        )
        .unwrap();
        assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![4])));
    }

    #[test]
    fn given_expired_when_refreshed_then_active_again() {
        let (_, state) = when(
            &[created(), started(), authorized(), Event::Expired {}],
            Command::Refresh {
                tokens: tokens(3, None),
            },
        )
        .unwrap();
        assert_eq!(state.status, Status::Active);
    }

    #[test]
    fn given_revoked_when_refreshed_then_refused() {
        assert_refused(
            &[
                created(),
                started(),
                authorized(),
                Event::Revoked {
                    reason: "offboarding".to_owned(),
                    provider: Vec::new(),
                },
            ],
            Command::Refresh {
                tokens: tokens(3, None),
            },
            "cannot refresh",
        );
    }

    #[test]
    fn given_pending_or_reauthorization_required_when_refreshed_then_refused() {
        assert_refused(
            &[created(), started()],
            Command::Refresh {
                tokens: tokens(3, None),
            },
            "is pending",
        );
        let reauth = Event::ReauthorizationRequired {
            error: "invalid_grant".to_owned(),
            description: None,
        };
        assert_refused(
            &[created(), started(), authorized(), reauth],
            Command::Refresh {
                tokens: tokens(3, None),
            },
            "is reauthorization_required",
        );
    }

    #[test]
    fn given_active_when_refresh_fails_retryably_then_still_active_with_the_error() {
        let history = [created(), started(), authorized()];
        let failure = || Command::RecordRefreshFailure {
            error: "server_error".to_owned(),
            description: Some("HTTP 503".to_owned()),
            retryable: true,
            retry_at: Some(now() + Duration::seconds(30)),
        };
        let (events, state) = when(&history, failure()).unwrap();
        assert_eq!(types(&events), ["refresh_failed"]);
        assert_eq!(state.status, Status::Active);
        assert_eq!(state.consecutive_failures, 1);
        assert_eq!(
            state.refresh_at,
            Some(now() + Duration::seconds(30)),
            "the retry is planned"
        );
        assert!(matches!(events[0], Event::RefreshFailed { attempt: 1, .. }));
        assert!(state.last_error.as_ref().is_some_and(|e| e.retryable));
        let mut twice = history.to_vec();
        twice.extend(events);
        let (events, state) = when(&twice, failure()).unwrap();
        assert_eq!(state.consecutive_failures, 2);
        assert!(matches!(events[0], Event::RefreshFailed { attempt: 2, .. }));
    }

    #[test]
    fn given_failures_when_refreshed_then_errors_are_cleared() {
        let failed = Event::RefreshFailed {
            error: "server_error".to_owned(),
            description: None,
            retryable: true,
            retry_at: None,
            attempt: 1,
        };
        let (_, state) = when(
            &[created(), started(), authorized(), failed],
            Command::Refresh {
                tokens: tokens(5, None),
            },
        )
        .unwrap();
        assert_eq!(state.consecutive_failures, 0);
        assert_eq!(state.last_error, None);
    }

    #[test]
    fn given_active_when_reauthorization_required_then_status_says_so() {
        let (events, state) = when(
            &[created(), started(), authorized()],
            Command::RequireReauthorization {
                error: "invalid_grant".to_owned(),
                description: Some("token revoked by user".to_owned()),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["reauthorization_required"]);
        assert_eq!(state.status, Status::ReauthorizationRequired);
        assert_eq!(
            state.last_error.map(|e| e.code),
            Some("invalid_grant".to_owned())
        );
    }

    #[test]
    fn given_pending_when_reauthorization_required_then_refused() {
        assert_refused(
            &[created()],
            Command::RequireReauthorization {
                error: "invalid_grant".to_owned(),
                description: None,
            },
            "cannot require reauthorization",
        );
    }

    #[test]
    fn given_active_past_expiry_when_expired_then_expired() {
        let (events, state) = when(
            &[created(), started(), authorized()],
            Command::Expire {
                now: now() + Duration::hours(2),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["expired"]);
        assert_eq!(state.status, Status::Expired);
    }

    #[test]
    fn given_active_before_expiry_when_expired_then_refused() {
        assert_refused(
            &[created(), started(), authorized()],
            Command::Expire { now: now() },
            "has not expired",
        );
        assert_refused(
            &[created()],
            Command::Expire { now: now() },
            "cannot expire",
        );
    }

    #[test]
    fn given_active_when_revoked_then_tokens_are_gone() {
        let (events, state) = when(
            &[created(), started(), authorized()],
            Command::Revoke {
                reason: "customer offboarded".to_owned(),
                provider: Vec::new(),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["revoked"]);
        assert_eq!(state.status, Status::Revoked);
        assert_eq!(state.access_token, None);
        assert_eq!(state.refresh_token, None);
    }

    #[test]
    fn given_revoked_when_revoked_or_reauthorized_then_refused() {
        let history = [
            created(),
            started(),
            authorized(),
            Event::Revoked {
                reason: "x".to_owned(),
                provider: Vec::new(),
            },
        ];
        assert_refused(
            &history,
            Command::Revoke {
                reason: "again".to_owned(),
                provider: Vec::new(),
            },
            "cannot revoke",
        );
        let authorization = match started() {
            Event::AuthorizationStarted { authorization } => authorization,
            _ => unreachable!(),
        };
        assert_refused(
            &history,
            Command::StartAuthorization { authorization },
            "cannot start an authorization",
        );
    }

    #[test]
    fn given_any_state_when_deleted_then_deleted_and_nothing_more_is_accepted() {
        let (events, state) = when(&[created(), started(), authorized()], Command::Delete).unwrap();
        assert_eq!(types(&events), ["deleted"]);
        assert_eq!(state.status, Status::Deleted);
        assert_eq!(state.access_token, None);
        let history = [created(), started(), authorized(), Event::Deleted {}];
        assert!(matches!(
            when(&history, Command::Delete),
            Err(DomainError::NotFound(_))
        ));
        assert!(matches!(
            when(
                &history,
                Command::Refresh {
                    tokens: tokens(9, None)
                }
            ),
            Err(DomainError::NotFound(_))
        ));
    }

    #[test]
    fn given_any_live_state_when_the_profile_changes_then_it_is_recorded() {
        let profile = Profile::parse(
            "Acme prod".to_owned(),
            "the main org".to_owned(),
            [("env".to_owned(), "prod".to_owned())],
        )
        .unwrap();
        let (events, state) = when(
            &[created(), started(), authorized()],
            Command::UpdateProfile {
                profile: profile.clone(),
            },
        )
        .unwrap();
        assert_eq!(types(&events), ["connection_updated"]);
        assert_eq!(state.profile, profile);
        assert_eq!(state.status, Status::Active, "the tokens are untouched");
        assert!(matches!(
            when(
                &[created(), Event::Deleted {}],
                Command::UpdateProfile { profile }
            ),
            Err(DomainError::NotFound(_))
        ));
        let bad = Profile::parse(
            String::new(),
            String::new(),
            [("Bad Key".to_owned(), "x".to_owned())],
        );
        assert_eq!(
            bad.unwrap_err().fields().collect::<Vec<_>>(),
            ["labels[Bad Key]"]
        );
    }

    #[test]
    fn apply_ignores_events_that_cannot_start_a_stream() {
        assert_eq!(given(&[authorized()]), None);
    }

    #[test]
    fn every_event_type_round_trips_through_json() {
        let events = [
            created(),
            started(),
            authorized(),
            Event::AuthorizationFailed {
                error: "access_denied".to_owned(),
                description: None,
            },
            Event::Refreshed {
                tokens: tokens(3, Some(4)),
            },
            Event::RefreshFailed {
                error: "temporarily_unavailable".to_owned(),
                description: None,
                retryable: true,
                retry_at: Some(now()),
                attempt: 1,
            },
            Event::ReauthorizationRequired {
                error: "invalid_grant".to_owned(),
                description: None,
            },
            Event::Expired {},
            Event::Revoked {
                reason: "r".to_owned(),
                provider: vec![RevocationOutcome {
                    token_type_hint: "refresh_token".to_owned(),
                    status: Some(200),
                    error: None,
                }],
            },
            Event::Deleted {},
        ];
        for event in events {
            let json = serde_json::to_string(&event).unwrap();
            assert!(json.contains(&format!("\"type\":\"{}\"", event.event_type())));
            assert!(crate::EVENT_TYPES.contains(&event.event_type()));
            let back: Event = serde_json::from_str(&json).unwrap();
            assert_eq!(back, event);
        }
    }
}
