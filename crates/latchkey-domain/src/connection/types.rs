//! What a connection is: its state, the commands it takes and the events it records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConnectionId, GrantType, IntegrationId, Sealed, TenantId};

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
    /// When the refresh token itself dies, when the provider said (`refresh_token_expires_in`).
    /// `None` with `refresh_token: None` keeps what the connection knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
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
    /// The correlation id of the start (a request's trace, a connect session): the callback's
    /// events carry it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The hosted connect session it was started from: only the browser that owns that session
    /// may complete it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_session: Option<crate::ConnectSessionId>,
    /// New connection parameters a re-authorization asked for: applied only with the
    /// `authorized` they lead to, so an abandoned, expired or failed one changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<BTreeMap<String, String>>,
    /// For an authorization the API started with Latchkey's hosted callback: the provider's
    /// authorization URL without its `state` (public values only: PKCE's challenge, scopes). The
    /// customer's browser opens Latchkey's start link, which binds it and adds the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_url: Option<String>,
    /// The digest of the cookie of the browser that opened the start link: only it completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<String>,
    /// A device authorization (RFC 8628) Latchkey polls for, instead of a callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<PendingDevice>,
}

/// What polling a device authorization needs: the provider's device code (a bearer secret,
/// sealed) and how often it may be asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDevice {
    pub device_code: Sealed,
    pub interval_secs: u32,
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
    /// A service account's signing key and what its assertions say (RFC 7523).
    JwtBearer(Box<ServiceAccount>),
    /// A token exchange (RFC 8693): the connection whose token is exchanged (the subject); the
    /// audience, resource and token type asked for are the grant request's parameters.
    TokenExchange {
        subject: crate::ConnectionId,
    },
}

/// What a JWT bearer connection signs its assertions with and puts in them. The key is sealed;
/// the rest is public (it goes in every assertion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    /// The private key (PKCS#8 or PKCS#1 PEM), sealed.
    pub key: Sealed,
    /// `RS256`, `PS256` or `ES256`.
    pub algorithm: String,
    /// The key's id at the provider (`kid` in the header), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `iss`: the client or service account the assertion is from.
    pub issuer: String,
    /// `sub`: whom the token acts for (a user for delegation), if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `aud`: the authorization server (its token URL unless the provider names another).
    pub audience: String,
    /// Further claims, as JSON text of an object (`box_sub_type`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_claims: Option<String>,
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

/// Whether the provider confirmed every revocation request: it answered, and not with a 5xx or
/// a 429 (RFC 7009 §2.2: 200 even for a token already invalid; a 503 asks to try again). An
/// unconfirmed revocation is tried again until the provider confirms it or [`REVOCATION_HORIZON`]
/// passes.
pub fn revocation_confirmed(outcomes: &[RevocationOutcome]) -> bool {
    outcomes
        .iter()
        .all(|o| o.status.is_some_and(|s| s < 500 && s != 429))
}

/// How long an unconfirmed revocation is tried again.
pub const REVOCATION_HORIZON: chrono::Duration = chrono::Duration::hours(72);

/// The outcome of the last check of the token at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastValidation {
    pub valid: bool,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// What a client-credentials or password grant asks for, kept so that running it again to
/// refresh asks for the same: the scopes and the extra token parameters (e.g. `audience`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRequest {
    pub scopes: Vec<String>,
    #[serde(default)]
    pub params: crate::ParamMap,
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
    /// The refresh token in doubt since `sent_at` was introspected and the provider still takes it.
    ConfirmRefreshToken {
        sent_at: DateTime<Utc>,
    },
    /// A worker reported that the provider refused the token of `token_version`.
    RecordTokenRejected {
        http_status: u16,
        provider_error: Option<String>,
        token_version: u64,
        verdict: String,
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
        /// What a grant run again asks for (client credentials, password).
        grant: Option<GrantRequest>,
    },
    /// Tokens brought from another store: the customer consented there, not here.
    Import {
        tokens: TokenSet,
        provider_account_id: Option<String>,
        source_id: Option<String>,
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
    /// A revocation the provider had not confirmed, tried again (attempt `attempt`).
    RecordRevocationRetry {
        provider: Vec<RevocationOutcome>,
        attempt: u32,
        gave_up: bool,
    },
    Delete,
    /// The connection's parameters (`{shop}`…), checked against the integration's declarations
    /// by the caller of `decide`.
    SetParameters {
        values: BTreeMap<String, String>,
    },
    /// The callback parameters the integration keeps (`realmId`), from the provider's redirect.
    CaptureCallback {
        values: BTreeMap<String, String>,
    },
    /// The refresh token dies at `expires_at`, within the integration's warning: say so, once.
    WarnRefreshTokenExpiry {
        expires_at: DateTime<Utc>,
    },
    /// The connection's own webhook secret (a per-account registration: Stripe endpoint, Asana
    /// hook): set, replaced, or cleared with `None`.
    SetWebhookSecret {
        secret: Option<crate::SealedSecret>,
    },
    /// A browser opened the start link of the pending authorization `state_digest` names: it
    /// alone may complete it.
    OpenAuthorization {
        state_digest: String,
        browser_digest: String,
        now: DateTime<Utc>,
    },
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
        /// For a grant Latchkey runs again to refresh (client credentials, password): what it
        /// asked for, so every run asks for the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant: Option<GrantRequest>,
    },
    /// Tokens brought from another token store (`ImportConnection`): sealed here, refreshed on
    /// schedule like any other; the customer consented at the provider before, not through us.
    Imported {
        tokens: TokenSet,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_account_id: Option<String>,
        /// What the connection was called in the store it came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_id: Option<String>,
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
    /// The values of the integration's connection parameters, used as `{name}` in its URLs.
    ParametersSet {
        values: BTreeMap<String, String>,
    },
    /// Parameters of the provider's redirect kept for this connection (`realmId`): in its
    /// metadata, and usable as `{name}` in the integration's URLs.
    CallbackCaptured {
        values: BTreeMap<String, String>,
    },
    /// The refresh token dies at `expires_at` (the provider said so) and nothing has renewed
    /// it: the customer will have to connect again unless the platform asks them first.
    RefreshTokenExpiring {
        expires_at: DateTime<Utc>,
    },
    /// The first refresh failure of a run of them: the connection is failing from now on (its
    /// `failing_since`), for the reason given, until a refresh or a new consent succeeds.
    ConnectionFailing {
        error: String,
        description: Option<String>,
    },
    /// A refresh or a new consent succeeded after refreshes had failed since `failing_since`.
    ConnectionRecovered {
        failing_since: DateTime<Utc>,
    },
    /// The refresh token left in doubt by a send at `sent_at` (its answer lost) was introspected
    /// at the provider, which still takes it: it is sent again instead of asking the customer.
    RefreshTokenStillActive {
        sent_at: DateTime<Utc>,
    },
    /// A revocation the provider had not confirmed was tried again: its answers, whether they
    /// confirm it, and whether the horizon passed with no confirmation (no more tries).
    RevocationRetried {
        provider: Vec<RevocationOutcome>,
        attempt: u32,
        confirmed: bool,
        gave_up: bool,
    },
    /// A worker (the event's actor) reported that the provider refused the token handed out at
    /// `token_version`, with `http_status` and the provider's error; `verdict` is what Latchkey
    /// found: `confirmed` (the provider no longer takes it: refreshed or marked), `not_confirmed`
    /// (the provider takes it: nothing changed), or `refreshed` (no check configured: refreshed).
    TokenRejected {
        http_status: u16,
        provider_error: Option<String>,
        token_version: u64,
        verdict: String,
    },
    /// The authorization's start link was opened; the browser that opened it (its cookie's
    /// digest) alone may complete it.
    AuthorizationOpened {
        browser_digest: String,
    },
    /// A provider's webhook delivery routed to this connection (its body sealed here).
    WebhookReceived {
        delivery: crate::delivery::Delivery,
    },
    /// An action callback (Slack interactivity, a slash command) routed to this connection.
    ActionReceived {
        delivery: crate::delivery::Delivery,
    },
    /// The connection's own webhook secret set (sealed) or, with none, cleared.
    WebhookSecretSet {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<crate::SealedSecret>,
    },
}

impl State {
    /// What the integration's `{name}` placeholders are filled with for this connection: its
    /// parameters and what its callback captured.
    pub fn url_values(&self) -> BTreeMap<String, String> {
        let mut values = self.params.clone();
        values.extend(self.captured.iter().map(|(k, v)| (k.clone(), v.clone())));
        values
    }
}

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::ConnectionCreated { .. } => "connection_created",
            Self::ConnectionUpdated { .. } => "connection_updated",
            Self::Validated { .. } => "validated",
            Self::AuthorizationStarted { .. } => "authorization_started",
            Self::Authorized { .. } => "authorized",
            Self::Imported { .. } => "imported",
            Self::MergedInto { .. } => "merged_into",
            Self::AuthorizationFailed { .. } => "authorization_failed",
            Self::Refreshed { .. } => "refreshed",
            Self::RefreshFailed { .. } => "refresh_failed",
            Self::ReauthorizationRequired { .. } => "reauthorization_required",
            Self::Expired { .. } => "expired",
            Self::Revoked { .. } => "revoked",
            Self::Deleted { .. } => "deleted",
            Self::ParametersSet { .. } => "parameters_set",
            Self::CallbackCaptured { .. } => "callback_captured",
            Self::RefreshTokenExpiring { .. } => "refresh_token_expiring",
            Self::ConnectionFailing { .. } => "connection_failing",
            Self::ConnectionRecovered { .. } => "connection_recovered",
            Self::TokenRejected { .. } => "token_rejected",
            Self::RevocationRetried { .. } => "revocation_retried",
            Self::RefreshTokenStillActive { .. } => "refresh_token_still_active",
            Self::AuthorizationOpened { .. } => "authorization_opened",
            Self::WebhookReceived { .. } => "webhook_received",
            Self::ActionReceived { .. } => "action_received",
            Self::WebhookSecretSet { .. } => "webhook_secret_set",
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
    pub metadata: super::Metadata,
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
    /// When the refresh failures in a row began (the first of them); `None` while refreshes work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// What a grant run again to refresh asks for: the scopes and token parameters the
    /// connection was created with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_request: Option<Box<GrantRequest>>,
    /// When the next refresh is due (planned, or the retry after a failure); `None`: none planned.
    #[serde(default)]
    pub refresh_at: Option<DateTime<Utc>>,
    /// The connection parameters' values (`parameters_set`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// When the refresh token dies, when the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// The connection's own webhook secret, which verifies deliveries to its own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<Box<crate::SealedSecret>>,
    /// The refresh-token expiry a `refresh_token_expiring` event announced (once per expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expiry_warned: Option<DateTime<Utc>>,
    /// The callback parameters kept from the last authorization (`callback_captured`); also in
    /// `metadata`, where each token response's fields would otherwise replace them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub captured: BTreeMap<String, String>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub authorized_at: Option<DateTime<Utc>>,
    pub refreshed_at: Option<DateTime<Utc>>,
}
