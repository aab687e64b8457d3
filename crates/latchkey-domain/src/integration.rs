//! The integration aggregate: one OAuth app at one provider, and every change to its
//! configuration as an event (configuration changes are audited like connections are).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    ClientId, DomainError, EventMeta, FieldViolation, IntegrationId, IntegrationName, ParamMap,
    ProviderUrl, ResponseType, Scope, ScopeSeparator, SealedSecret, ValidationErrors,
};

/// How a connection obtains its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// The customer consents at the provider and comes back with a code (RFC 6749 §4.1).
    AuthorizationCode,
    /// Machine to machine, with a client id and secret (RFC 6749 §4.4).
    ClientCredentials,
    /// Resource owner password credentials (RFC 6749 §4.3). Deprecated: only behind an explicit
    /// per-integration flag.
    Password,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
        }
    }

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        match input {
            "authorization_code" => Ok(Self::AuthorizationCode),
            "client_credentials" => Ok(Self::ClientCredentials),
            "password" => Ok(Self::Password),
            "" => Err(FieldViolation::new(field, "must be set")),
            _ => Err(FieldViolation::new(
                field,
                "must be one of authorization_code, client_credentials, password",
            )),
        }
    }
}

/// Where the client credentials go on a token request (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// `Authorization: Basic base64(client_id:client_secret)`, what the RFC recommends.
    BasicHeader,
    /// `client_id` and `client_secret` in the form body.
    RequestBody,
}

/// Where the access token goes on calls to the provider's API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenPlacement {
    /// `<name>: <prefix> <token>`, e.g. `Authorization: Bearer …`; an empty prefix sends the
    /// token alone.
    Header { name: String, prefix: String },
    /// `?<param>=<token>`.
    Query { param: String },
}

impl TokenPlacement {
    pub fn bearer() -> Self {
        Self::Header {
            name: "Authorization".to_owned(),
            prefix: "Bearer".to_owned(),
        }
    }

    fn validate(self, field: &str) -> Result<Self, FieldViolation> {
        let token_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        match &self {
            Self::Header { name, prefix } => {
                if name.is_empty() || name.len() > 64 || !name.bytes().all(token_char) {
                    return Err(FieldViolation::new(
                        format!("{field}.header_name"),
                        "must be a valid HTTP header name",
                    ));
                }
                if prefix.len() > 64 || !prefix.bytes().all(token_char) {
                    return Err(FieldViolation::new(
                        format!("{field}.header_prefix"),
                        "must be a single word such as \"Bearer\", or empty",
                    ));
                }
            }
            Self::Query { param } => {
                if param.is_empty()
                    || param.len() > 64
                    || !param
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                {
                    return Err(FieldViolation::new(
                        format!("{field}.query_param"),
                        "must be 1 to 64 ASCII letters, digits, '_', '-' or '.'",
                    ));
                }
            }
        }
        Ok(self)
    }
}

/// An integration's configuration, every field valid. The client secret is not part of it: it is
/// sealed and travels beside it as a [`SealedSecret`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationConfig {
    pub name: IntegrationName,
    pub description: String,
    pub grant_type: GrantType,
    /// Required for the authorization-code grant.
    pub authorization_url: Option<ProviderUrl>,
    pub token_url: ProviderUrl,
    /// RFC 7009 endpoint, if the provider has one.
    pub revocation_url: Option<ProviderUrl>,
    /// Base of the provider's API, handed to workers with each token.
    pub base_uri: Option<ProviderUrl>,
    pub client_id: ClientId,
    pub scopes: Vec<Scope>,
    pub scope_separator: ScopeSeparator,
    /// `None`: Latchkey's own callback (`<public url>/oauth/callback`).
    pub redirect_uri: Option<ProviderUrl>,
    pub response_type: ResponseType,
    pub authorization_params: ParamMap,
    pub token_params: ParamMap,
    pub client_auth: ClientAuthMethod,
    pub token_placement: TokenPlacement,
    /// Lifetime assumed when a token response has no usable `expires_in`.
    pub default_token_lifetime_secs: u32,
    /// How long before expiry a token is refreshed.
    pub refresh_margin_secs: u32,
    /// The deprecated password grant is refused unless this is set.
    pub allow_password_grant: bool,
    /// PKCE S256 on authorization requests; on by default, off only for a provider that rejects it.
    pub pkce: bool,
    /// The authorization server's issuer identifier (RFC 8414), to check the callback's `iss`.
    #[serde(default)]
    pub issuer: Option<ProviderUrl>,
    /// The provider always sends `iss` on its callback (RFC 9207): a callback without it is refused.
    #[serde(default)]
    pub require_iss: bool,
    /// Fields of the token response kept as the connection's metadata (Salesforce's
    /// `instance_url`…). Only these: an unknown field may be a secret.
    #[serde(default)]
    pub metadata_fields: Vec<String>,
    /// Refresh tokens die after this long unused at some providers; Latchkey refreshes before.
    #[serde(default)]
    pub refresh_token_max_idle_secs: Option<u32>,
    /// How the provider signs its webhooks, if they are verified here.
    #[serde(default)]
    pub webhook: Option<crate::webhook::WebhookScheme>,
    /// How a connection's token is checked at the provider (`ValidateConnection`).
    #[serde(default)]
    pub validation: Option<TokenValidation>,
    /// Check every active connection's token this often (besides after each authorization and
    /// on demand); `None`: no schedule.
    #[serde(default)]
    pub validation_interval_secs: Option<u32>,
    /// How Latchkey learns who a connection is at the provider after authorization.
    #[serde(default)]
    pub account: Option<AccountMapping>,
    /// Connecting a provider account that already has a connection (same tenant) re-authorizes
    /// that connection instead of making a twin.
    #[serde(default)]
    pub reauthorize_same_account: bool,
}

/// Where the provider account id comes from, after each authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccountMapping {
    /// The ID token's `sub`, its signature checked against the provider's JWKS at `jwks_url`,
    /// its `iss` against the integration's issuer and its `aud` against the client id.
    IdToken { jwks_url: ProviderUrl },
    /// `sub` of the OpenID userinfo answer, called with the access token.
    Userinfo { url: ProviderUrl },
    /// Any endpoint called with the access token, the id at an RFC 6901 pointer of its answer.
    Endpoint { url: ProviderUrl, pointer: String },
}

impl AccountMapping {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::IdToken { .. } => "id_token",
            Self::Userinfo { .. } => "userinfo",
            Self::Endpoint { .. } => "endpoint",
        }
    }
}

/// How to ask the provider whether a token still works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenValidation {
    /// RFC 7662 introspection with the integration's client credentials: `active`.
    Introspection { url: ProviderUrl },
    /// OpenID userinfo (or any endpoint) with the token: 2xx is valid, 401/403 is not.
    Userinfo { url: ProviderUrl },
    /// A request under the base URI that must answer `expected_status`.
    Probe {
        method: String,
        path: String,
        expected_status: u16,
    },
}

impl IntegrationConfig {
    pub const DEFAULT_TOKEN_LIFETIME_SECS: u32 = 3600;
    pub const DEFAULT_REFRESH_MARGIN_SECS: u32 = 300;
    pub const MAX_TOKEN_LIFETIME_SECS: u32 = 366 * 24 * 3600;
    pub const MAX_REFRESH_MARGIN_SECS: u32 = 24 * 3600;
    pub const MAX_SCOPES: usize = 100;
    pub const MAX_DESCRIPTION_LEN: usize = 2000;
    pub const MAX_METADATA_FIELDS: usize = 32;
    pub const MIN_VALIDATION_INTERVAL_SECS: u32 = 10;
    pub const MAX_VALIDATION_INTERVAL_SECS: u32 = 30 * 24 * 3600;
    /// Token response fields that hold secrets and are never kept as metadata.
    pub const SECRET_FIELDS: &'static [&'static str] =
        &["access_token", "refresh_token", "id_token"];
}

/// An integration's configuration as a caller sent it: plain strings, not yet checked. Empty
/// strings and zeros mean "not set" (and take the default where there is one), as in proto3.
#[derive(Debug, Clone, Default)]
pub struct IntegrationConfigInput {
    pub name: String,
    pub description: String,
    pub grant_type: String,
    pub authorization_url: String,
    pub token_url: String,
    pub revocation_url: String,
    pub base_uri: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// `None` takes the standard space.
    pub scope_separator: Option<String>,
    pub redirect_uri: String,
    pub response_type: String,
    pub authorization_params: Vec<(String, String)>,
    pub token_params: Vec<(String, String)>,
    /// `""` (default: basic header), `basic_header` or `request_body`.
    pub client_auth: String,
    /// `None` takes `Authorization: Bearer <token>`.
    pub token_placement: Option<TokenPlacement>,
    pub default_token_lifetime_secs: Option<u32>,
    pub refresh_margin_secs: Option<u32>,
    pub allow_password_grant: bool,
    /// `None` takes the default, on.
    pub pkce: Option<bool>,
    pub issuer: String,
    pub require_iss: bool,
    pub metadata_fields: Vec<String>,
    pub refresh_token_max_idle_secs: Option<u32>,
    pub webhook: Option<crate::webhook::WebhookScheme>,
    /// `introspection` or `userinfo` (with `validation_url`), `probe` (with the probe fields).
    pub validation_kind: String,
    pub validation_url: String,
    pub probe_method: String,
    pub probe_path: String,
    pub probe_status: u32,
    pub validation_interval_secs: Option<u32>,
    /// `id_token` (with `account_url`: the JWKS), `userinfo` (with `account_url`) or `endpoint`
    /// (with `account_url` and `account_pointer`); empty: no mapping.
    pub account_kind: String,
    pub account_url: String,
    pub account_pointer: String,
    pub reauthorize_same_account: bool,
}

impl IntegrationConfigInput {
    /// Checks every field and reports every invalid one.
    pub fn parse(self) -> Result<IntegrationConfig, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let optional_url = |e: &mut ValidationErrors, value: &str, field: &str| {
            if value.is_empty() {
                None
            } else {
                e.check(ProviderUrl::parse_field(value, field))
            }
        };
        let name = e.check(IntegrationName::parse_field(&self.name, "name"));
        if self.description.chars().count() > IntegrationConfig::MAX_DESCRIPTION_LEN {
            e.push(FieldViolation::new(
                "description",
                format!(
                    "must be at most {} characters",
                    IntegrationConfig::MAX_DESCRIPTION_LEN
                ),
            ));
        }
        let grant_type = e.check(GrantType::parse_field(&self.grant_type, "grant_type"));
        let authorization_url = optional_url(&mut e, &self.authorization_url, "authorization_url");
        if grant_type == Some(GrantType::AuthorizationCode) && self.authorization_url.is_empty() {
            e.push(FieldViolation::new(
                "authorization_url",
                "is required for the authorization_code grant",
            ));
        }
        let token_url = e.check(ProviderUrl::parse_field(&self.token_url, "token_url"));
        let revocation_url = optional_url(&mut e, &self.revocation_url, "revocation_url");
        let base_uri = optional_url(&mut e, &self.base_uri, "base_uri");
        let client_id = e.check(ClientId::parse_field(&self.client_id, "client_id"));
        let scopes = match Scope::parse_list(&self.scopes, "scopes", IntegrationConfig::MAX_SCOPES)
        {
            Ok(scopes) => Some(scopes),
            Err(errors) => {
                e.0.extend(errors.0);
                None
            }
        };
        let scope_separator = match &self.scope_separator {
            None => Some(ScopeSeparator::space()),
            Some(sep) => e.check(ScopeSeparator::parse_field(sep, "scope_separator")),
        };
        let redirect_uri = optional_url(&mut e, &self.redirect_uri, "redirect_uri");
        let response_type = if self.response_type.is_empty() {
            Some(ResponseType::code())
        } else {
            e.check(ResponseType::parse_field(
                &self.response_type,
                "response_type",
            ))
        };
        let mut params = |entries: &[(String, String)], field: &str| match ParamMap::parse_field(
            entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            field,
        ) {
            Ok(map) => Some(map),
            Err(errors) => {
                e.0.extend(errors.0);
                None
            }
        };
        let authorization_params = params(&self.authorization_params, "authorization_params");
        let token_params = params(&self.token_params, "token_params");
        let client_auth = match self.client_auth.as_str() {
            "" | "basic_header" => Some(ClientAuthMethod::BasicHeader),
            "request_body" => Some(ClientAuthMethod::RequestBody),
            _ => {
                e.push(FieldViolation::new(
                    "client_auth",
                    "must be basic_header or request_body",
                ));
                None
            }
        };
        let token_placement = e.check(
            self.token_placement
                .unwrap_or_else(TokenPlacement::bearer)
                .validate("token_placement"),
        );
        let default_token_lifetime_secs = self
            .default_token_lifetime_secs
            .unwrap_or(IntegrationConfig::DEFAULT_TOKEN_LIFETIME_SECS);
        if !(1..=IntegrationConfig::MAX_TOKEN_LIFETIME_SECS).contains(&default_token_lifetime_secs)
        {
            e.push(FieldViolation::new(
                "default_token_lifetime_secs",
                format!(
                    "must be between 1 and {} seconds",
                    IntegrationConfig::MAX_TOKEN_LIFETIME_SECS
                ),
            ));
        }
        let refresh_margin_secs = self
            .refresh_margin_secs
            .unwrap_or(IntegrationConfig::DEFAULT_REFRESH_MARGIN_SECS);
        if refresh_margin_secs > IntegrationConfig::MAX_REFRESH_MARGIN_SECS {
            e.push(FieldViolation::new(
                "refresh_margin_secs",
                format!(
                    "must be at most {} seconds",
                    IntegrationConfig::MAX_REFRESH_MARGIN_SECS
                ),
            ));
        }
        let issuer = optional_url(&mut e, &self.issuer, "issuer");
        if self.require_iss && self.issuer.is_empty() {
            e.push(FieldViolation::new(
                "issuer",
                "is required when require_iss is set",
            ));
        }
        if self.metadata_fields.len() > IntegrationConfig::MAX_METADATA_FIELDS {
            e.push(FieldViolation::new(
                "metadata_fields",
                format!(
                    "at most {} fields can be kept",
                    IntegrationConfig::MAX_METADATA_FIELDS
                ),
            ));
        }
        for (i, field) in self.metadata_fields.iter().enumerate() {
            let name = format!("metadata_fields[{i}]");
            if field.is_empty()
                || field.len() > 64
                || !field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                e.push(FieldViolation::new(
                    name,
                    "field names are 1 to 64 ASCII letters, digits, '_', '-' or '.'",
                ));
            } else if IntegrationConfig::SECRET_FIELDS.contains(&field.as_str()) {
                e.push(FieldViolation::new(
                    name,
                    "holds a secret and is never kept",
                ));
            }
        }
        if let Some(idle) = self.refresh_token_max_idle_secs
            && !(3600..=IntegrationConfig::MAX_TOKEN_LIFETIME_SECS * 10).contains(&idle)
        {
            e.push(FieldViolation::new(
                "refresh_token_max_idle_secs",
                "must be between one hour and ten years",
            ));
        }
        let webhook = match self.webhook {
            None => None,
            Some(scheme) => e.check(scheme.check("webhook")),
        };
        let validation = match self.validation_kind.as_str() {
            "" => None,
            "introspection" | "userinfo" => e
                .check(ProviderUrl::parse_field(
                    &self.validation_url,
                    "validation.url",
                ))
                .map(|url| {
                    if self.validation_kind == "introspection" {
                        TokenValidation::Introspection { url }
                    } else {
                        TokenValidation::Userinfo { url }
                    }
                }),
            "probe" => {
                let method = self.probe_method.to_ascii_uppercase();
                if !matches!(method.as_str(), "GET" | "HEAD" | "POST") {
                    e.push(FieldViolation::new(
                        "validation.method",
                        "must be GET, HEAD or POST",
                    ));
                }
                if !self.probe_path.starts_with('/') || self.probe_path.len() > 512 {
                    e.push(FieldViolation::new(
                        "validation.path",
                        "must be a path starting with /",
                    ));
                }
                if !(100..600).contains(&self.probe_status) {
                    e.push(FieldViolation::new(
                        "validation.expected_status",
                        "must be an HTTP status",
                    ));
                }
                if self.base_uri.is_empty() {
                    e.push(FieldViolation::new(
                        "base_uri",
                        "is required by a probe validation",
                    ));
                }
                Some(TokenValidation::Probe {
                    method,
                    path: self.probe_path.clone(),
                    expected_status: u16::try_from(self.probe_status).unwrap_or(200),
                })
            }
            _ => {
                e.push(FieldViolation::new(
                    "validation.kind",
                    "must be introspection, userinfo or probe",
                ));
                None
            }
        };
        if let Some(secs) = self.validation_interval_secs {
            if validation.is_none() && self.validation_kind.is_empty() {
                e.push(FieldViolation::new(
                    "validation_interval_secs",
                    "needs a validation (validation.kind)",
                ));
            }
            if !(IntegrationConfig::MIN_VALIDATION_INTERVAL_SECS
                ..=IntegrationConfig::MAX_VALIDATION_INTERVAL_SECS)
                .contains(&secs)
            {
                e.push(FieldViolation::new(
                    "validation_interval_secs",
                    "must be between 10 seconds and 30 days",
                ));
            }
        }
        let account = match self.account_kind.as_str() {
            "" => None,
            "id_token" => {
                if self.issuer.is_empty() {
                    e.push(FieldViolation::new(
                        "issuer",
                        "is required to check ID tokens (account.kind id_token)",
                    ));
                }
                e.check(ProviderUrl::parse_field(&self.account_url, "account.url"))
                    .map(|jwks_url| AccountMapping::IdToken { jwks_url })
            }
            "userinfo" => e
                .check(ProviderUrl::parse_field(&self.account_url, "account.url"))
                .map(|url| AccountMapping::Userinfo { url }),
            "endpoint" => {
                if !self.account_pointer.starts_with('/') || self.account_pointer.len() > 256 {
                    e.push(FieldViolation::new(
                        "account.pointer",
                        "must be a JSON pointer (RFC 6901) such as /user/id",
                    ));
                }
                e.check(ProviderUrl::parse_field(&self.account_url, "account.url"))
                    .map(|url| AccountMapping::Endpoint {
                        url,
                        pointer: self.account_pointer.clone(),
                    })
            }
            _ => {
                e.push(FieldViolation::new(
                    "account.kind",
                    "must be id_token, userinfo or endpoint",
                ));
                None
            }
        };
        if self.reauthorize_same_account && self.account_kind.is_empty() {
            e.push(FieldViolation::new(
                "reauthorize_same_account",
                "needs an account mapping (account.kind) to know the account",
            ));
        }
        if grant_type == Some(GrantType::Password) && !self.allow_password_grant {
            e.push(FieldViolation::new(
                "allow_password_grant",
                "must be set to use the deprecated password grant",
            ));
        }
        if !e.is_empty() {
            return Err(e);
        }
        match (
            name,
            grant_type,
            token_url,
            client_id,
            scopes,
            scope_separator,
            response_type,
            authorization_params,
            token_params,
            client_auth,
            token_placement,
        ) {
            (
                Some(name),
                Some(grant_type),
                Some(token_url),
                Some(client_id),
                Some(scopes),
                Some(scope_separator),
                Some(response_type),
                Some(authorization_params),
                Some(token_params),
                Some(client_auth),
                Some(token_placement),
            ) => Ok(IntegrationConfig {
                name,
                description: self.description,
                grant_type,
                authorization_url,
                token_url,
                revocation_url,
                base_uri,
                client_id,
                scopes,
                scope_separator,
                redirect_uri,
                response_type,
                authorization_params,
                token_params,
                client_auth,
                token_placement,
                default_token_lifetime_secs,
                refresh_margin_secs,
                allow_password_grant: self.allow_password_grant,
                pkce: self.pkce.unwrap_or(true),
                issuer,
                require_iss: self.require_iss,
                metadata_fields: self.metadata_fields,
                refresh_token_max_idle_secs: self.refresh_token_max_idle_secs,
                webhook,
                validation,
                validation_interval_secs: self.validation_interval_secs,
                account,
                reauthorize_same_account: self.reauthorize_same_account,
            }),
            // Every `None` above pushed a violation, so `e` was not empty.
            _ => Err(e),
        }
    }
}

fn keep() -> SecretChange {
    SecretChange::Keep
}

/// What an update does to a stored secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SecretChange {
    Keep,
    Set { secret: SealedSecret },
    Clear,
}

#[derive(Debug, Clone)]
pub enum Command {
    Create {
        integration_id: IntegrationId,
        config: IntegrationConfig,
        client_secret: Option<SealedSecret>,
        webhook_secret: Option<SealedSecret>,
    },
    Update {
        config: IntegrationConfig,
        client_secret: SecretChange,
        webhook_secret: SecretChange,
    },
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    IntegrationCreated {
        integration_id: IntegrationId,
        config: IntegrationConfig,
        client_secret: Option<SealedSecret>,
        #[serde(default)]
        webhook_secret: Option<SealedSecret>,
    },
    IntegrationUpdated {
        config: IntegrationConfig,
        client_secret: SecretChange,
        #[serde(default = "keep")]
        webhook_secret: SecretChange,
    },
    IntegrationDeleted {},
}

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::IntegrationCreated { .. } => "integration_created",
            Self::IntegrationUpdated { .. } => "integration_updated",
            Self::IntegrationDeleted { .. } => "integration_deleted",
        }
    }

    /// The payload schema of each event type; bumped when a type's payload changes shape.
    pub fn schema_version(&self) -> u32 {
        1
    }
}

/// The projected integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub id: IntegrationId,
    pub config: IntegrationConfig,
    pub client_secret: Option<SealedSecret>,
    #[serde(default)]
    pub webhook_secret: Option<SealedSecret>,
    pub deleted: bool,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// All business rules of integrations.
pub fn decide(state: Option<&State>, command: Command) -> Result<Vec<Event>, DomainError> {
    let live = state.filter(|s| !s.deleted);
    match command {
        Command::Create {
            integration_id,
            config,
            client_secret,
            webhook_secret,
        } => match state {
            Some(_) => Err(DomainError::AlreadyExists(format!(
                "integration {integration_id}"
            ))),
            None => Ok(vec![Event::IntegrationCreated {
                integration_id,
                config,
                client_secret,
                webhook_secret,
            }]),
        },
        Command::Update {
            config,
            client_secret,
            webhook_secret,
        } => match live {
            None => Err(DomainError::NotFound("integration".to_owned())),
            Some(_) => Ok(vec![Event::IntegrationUpdated {
                config,
                client_secret,
                webhook_secret,
            }]),
        },
        Command::Delete => match live {
            None => Err(DomainError::NotFound("integration".to_owned())),
            Some(_) => Ok(vec![Event::IntegrationDeleted {}]),
        },
    }
}

/// Folds one event into the state. No rules and no failure: the log is the truth. An event that
/// cannot follow the state (only possible in a log that `decide` did not write) leaves it as is.
pub fn apply(state: Option<State>, event: &Event, meta: &EventMeta) -> Option<State> {
    match (state, event) {
        (
            None,
            Event::IntegrationCreated {
                integration_id,
                config,
                client_secret,
                webhook_secret,
            },
        ) => Some(State {
            id: *integration_id,
            config: config.clone(),
            client_secret: client_secret.clone(),
            webhook_secret: webhook_secret.clone(),
            deleted: false,
            version: meta.version,
            created_at: meta.occurred_at,
            updated_at: meta.occurred_at,
        }),
        (Some(mut s), event) => {
            match event {
                Event::IntegrationCreated { .. } => return Some(s),
                Event::IntegrationUpdated {
                    config,
                    client_secret,
                    webhook_secret,
                } => {
                    s.config = config.clone();
                    for (change, slot) in [
                        (client_secret, &mut s.client_secret),
                        (webhook_secret, &mut s.webhook_secret),
                    ] {
                        match change {
                            SecretChange::Keep => {}
                            SecretChange::Set { secret } => *slot = Some(secret.clone()),
                            SecretChange::Clear => *slot = None,
                        }
                    }
                }
                Event::IntegrationDeleted {} => s.deleted = true,
            }
            s.version = meta.version;
            s.updated_at = meta.occurred_at;
            Some(s)
        }
        (None, _) => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Sealed;

    pub(crate) fn input() -> IntegrationConfigInput {
        IntegrationConfigInput {
            name: "Salesforce".to_owned(),
            grant_type: "authorization_code".to_owned(),
            authorization_url: "https://login.salesforce.com/services/oauth2/authorize".to_owned(),
            token_url: "https://login.salesforce.com/services/oauth2/token".to_owned(),
            client_id: "3MVG9".to_owned(),
            scopes: vec!["api".to_owned(), "refresh_token".to_owned()],
            ..Default::default()
        }
    }

    fn secret() -> SealedSecret {
        SealedSecret {
            sealed: Sealed::from_bytes(vec![1, 2, 3]),
            fingerprint: "hmac-sha256:0102".to_owned(),
        }
    }

    fn given(events: &[Event]) -> Option<State> {
        events.iter().enumerate().fold(None, |state, (i, e)| {
            apply(state, e, &EventMeta::at_version(i as u64 + 1))
        })
    }

    fn created() -> Event {
        Event::IntegrationCreated {
            integration_id: IntegrationId::new_v7(),
            config: input().parse().unwrap(),
            client_secret: Some(secret()),
            webhook_secret: None,
        }
    }

    #[test]
    fn defaults_are_what_a_provider_expects() {
        let config = input().parse().unwrap();
        assert_eq!(config.scope_separator.as_str(), " ");
        assert_eq!(config.response_type.as_str(), "code");
        assert_eq!(config.client_auth, ClientAuthMethod::BasicHeader);
        assert_eq!(config.token_placement, TokenPlacement::bearer());
        assert!(config.pkce);
        assert_eq!(config.default_token_lifetime_secs, 3600);
        assert_eq!(config.refresh_margin_secs, 300);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let bad = IntegrationConfigInput {
            name: String::new(),
            grant_type: "implicit".to_owned(),
            token_url: "not a url".to_owned(),
            client_id: String::new(),
            scope_separator: Some(String::new()),
            client_auth: "jwt".to_owned(),
            refresh_margin_secs: Some(10 * 24 * 3600),
            ..input()
        };
        let err = bad.parse().unwrap_err();
        let fields: Vec<_> = err.fields().collect();
        assert_eq!(
            fields,
            [
                "name",
                "grant_type",
                "token_url",
                "client_id",
                "scope_separator",
                "client_auth",
                "refresh_margin_secs"
            ]
        );
    }

    #[test]
    fn account_mappings_are_checked_and_the_same_account_setting_needs_one() {
        let jwks = "https://login.salesforce.com/id/keys";
        let config = IntegrationConfigInput {
            account_kind: "id_token".to_owned(),
            account_url: jwks.to_owned(),
            issuer: "https://login.salesforce.com".to_owned(),
            reauthorize_same_account: true,
            ..input()
        }
        .parse()
        .unwrap();
        assert!(matches!(
            &config.account,
            Some(AccountMapping::IdToken { jwks_url }) if jwks_url.as_str() == jwks
        ));
        assert!(config.reauthorize_same_account);
        let cases = [
            (
                IntegrationConfigInput {
                    account_kind: "id_token".to_owned(),
                    account_url: jwks.to_owned(),
                    ..input()
                },
                vec!["issuer"],
            ),
            (
                IntegrationConfigInput {
                    account_kind: "endpoint".to_owned(),
                    account_url: "https://api.example.com/me".to_owned(),
                    account_pointer: "user.id".to_owned(),
                    ..input()
                },
                vec!["account.pointer"],
            ),
            (
                IntegrationConfigInput {
                    account_kind: "cookie".to_owned(),
                    ..input()
                },
                vec!["account.kind"],
            ),
            (
                IntegrationConfigInput {
                    reauthorize_same_account: true,
                    ..input()
                },
                vec!["reauthorize_same_account"],
            ),
            (
                IntegrationConfigInput {
                    account_kind: "userinfo".to_owned(),
                    account_url: "http://10.0.0.1/userinfo".to_owned(),
                    ..input()
                },
                vec!["account.url"],
            ),
        ];
        for (input, fields) in cases {
            let err = input.parse().unwrap_err();
            assert_eq!(err.fields().collect::<Vec<_>>(), fields);
        }
    }

    #[test]
    fn authorization_code_needs_an_authorization_url() {
        let err = IntegrationConfigInput {
            authorization_url: String::new(),
            ..input()
        }
        .parse()
        .unwrap_err();
        assert_eq!(err.fields().collect::<Vec<_>>(), ["authorization_url"]);
        let cc = IntegrationConfigInput {
            grant_type: "client_credentials".to_owned(),
            authorization_url: String::new(),
            ..input()
        };
        assert!(cc.parse().is_ok());
    }

    #[test]
    fn password_grant_needs_the_legacy_flag() {
        let password = IntegrationConfigInput {
            grant_type: "password".to_owned(),
            ..input()
        };
        let err = password.clone().parse().unwrap_err();
        assert_eq!(err.fields().collect::<Vec<_>>(), ["allow_password_grant"]);
        let allowed = IntegrationConfigInput {
            allow_password_grant: true,
            ..password
        };
        assert!(allowed.parse().is_ok());
    }

    #[test]
    fn token_placement_is_checked() {
        let err = IntegrationConfigInput {
            token_placement: Some(TokenPlacement::Header {
                name: "Bad Header".to_owned(),
                prefix: "Bearer".to_owned(),
            }),
            ..input()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            err.fields().collect::<Vec<_>>(),
            ["token_placement.header_name"]
        );
    }

    #[test]
    fn given_nothing_when_created_then_integration_created() {
        let id = IntegrationId::new_v7();
        let events = decide(
            None,
            Command::Create {
                integration_id: id,
                config: input().parse().unwrap(),
                client_secret: Some(secret()),
                webhook_secret: None,
            },
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type(), "integration_created");
        let state = given(&events).unwrap();
        assert_eq!(state.id, id);
        assert_eq!(state.client_secret, Some(secret()));
        assert_eq!(state.version, 1);
    }

    #[test]
    fn given_created_when_created_again_then_already_exists() {
        let state = given(&[created()]);
        let err = decide(
            state.as_ref(),
            Command::Create {
                integration_id: IntegrationId::new_v7(),
                config: input().parse().unwrap(),
                client_secret: None,
                webhook_secret: None,
            },
        )
        .unwrap_err();
        assert!(matches!(err, DomainError::AlreadyExists(_)));
    }

    #[test]
    fn given_created_when_updated_keeping_secret_then_secret_stays() {
        let state = given(&[created()]);
        let mut config = input().parse().unwrap();
        config.description = "prod org".to_owned();
        let events = decide(
            state.as_ref(),
            Command::Update {
                config,
                client_secret: SecretChange::Keep,
                webhook_secret: SecretChange::Keep,
            },
        )
        .unwrap();
        let state = given(&[created(), events[0].clone()]).unwrap();
        assert_eq!(state.config.description, "prod org");
        assert_eq!(state.client_secret, Some(secret()));
        assert_eq!(state.version, 2);
    }

    #[test]
    fn given_created_when_secret_cleared_then_none_is_left() {
        let state = given(&[
            created(),
            Event::IntegrationUpdated {
                config: input().parse().unwrap(),
                client_secret: SecretChange::Clear,
                webhook_secret: SecretChange::Keep,
            },
        ])
        .unwrap();
        assert_eq!(state.client_secret, None);
    }

    #[test]
    fn given_deleted_when_updated_or_deleted_then_not_found() {
        let state = given(&[created(), Event::IntegrationDeleted {}]);
        assert!(state.as_ref().unwrap().deleted);
        let update = decide(
            state.as_ref(),
            Command::Update {
                config: input().parse().unwrap(),
                client_secret: SecretChange::Keep,
                webhook_secret: SecretChange::Keep,
            },
        );
        assert!(matches!(update, Err(DomainError::NotFound(_))));
        assert!(matches!(
            decide(state.as_ref(), Command::Delete),
            Err(DomainError::NotFound(_))
        ));
        assert!(matches!(
            decide(None, Command::Delete),
            Err(DomainError::NotFound(_))
        ));
    }

    #[test]
    fn events_round_trip_through_json_without_change() {
        let event = created();
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.starts_with("{\"type\":\"integration_created\""));
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_input_is_checked_never_a_panic(
            name in ".{0,120}", grant in ".{0,30}", url in ".{0,80}", client in ".{0,40}",
            scopes in proptest::collection::vec(".{0,20}", 0..5), sep in proptest::option::of(".{0,6}"),
            params in proptest::collection::vec((".{0,10}", ".{0,20}"), 0..5),
            lifetime in proptest::option::of(any::<u32>()), margin in proptest::option::of(any::<u32>()),
        ) {
            let input = IntegrationConfigInput {
                name, grant_type: grant, authorization_url: url.clone(), token_url: url, client_id: client,
                scopes, scope_separator: sep, authorization_params: params.clone(), token_params: params,
                default_token_lifetime_secs: lifetime, refresh_margin_secs: margin,
                ..Default::default()
            };
            if let Ok(config) = input.parse() {
                // What is accepted round-trips through an event unchanged.
                let json = serde_json::to_string(&config).unwrap();
                prop_assert_eq!(serde_json::from_str::<IntegrationConfig>(&json).unwrap(), config);
            }
        }
    }
}
