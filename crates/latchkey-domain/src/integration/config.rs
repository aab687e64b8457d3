//! An integration's checked configuration: what every provider call reads.

use serde::{Deserialize, Serialize};

use crate::{
    FieldViolation, IntegrationName, ParamMap, ProviderUrl, ResponseType, Scope, ScopeSeparator,
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
    /// A service account signs a JWT and trades it for a token (RFC 7523 §2.1): Google service
    /// accounts, Salesforce, DocuSign, Box. "Refreshed" by signing a new assertion.
    JwtBearer,
    /// Device authorization (RFC 8628): the customer approves a short code on another device
    /// (a CLI, a TV, a kiosk) while Latchkey polls; then refreshed like an authorization code.
    DeviceCode,
    /// Token exchange (RFC 8693): a connection derived from another one's token, for another
    /// audience or resource; exchanged again before it expires.
    TokenExchange,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::JwtBearer => "jwt_bearer",
            Self::DeviceCode => "device_code",
            Self::TokenExchange => "token_exchange",
        }
    }

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        match input {
            "authorization_code" => Ok(Self::AuthorizationCode),
            "client_credentials" => Ok(Self::ClientCredentials),
            "password" => Ok(Self::Password),
            "jwt_bearer" => Ok(Self::JwtBearer),
            "device_code" => Ok(Self::DeviceCode),
            "token_exchange" => Ok(Self::TokenExchange),
            "" => Err(FieldViolation::new(field, "must be set")),
            _ => Err(FieldViolation::new(
                field,
                "must be one of authorization_code, client_credentials, password, jwt_bearer, \
                 device_code, token_exchange",
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
    /// The grant and the credentials as one JSON object in the body.
    JsonBody,
    /// A JWT the client signs with its private key for each request (RFC 7523 §2.2, OpenID
    /// Connect's `private_key_jwt`): no shared secret; the key is sealed as the client secret and
    /// its public half served at `{public url}/.well-known/jwks.json`.
    PrivateKeyJwt,
    /// Mutual TLS with a certificate a CA issued (RFC 8705 §2.1): the client's certificate and
    /// key (one PEM) are sealed as the client secret; requests carry only the client id.
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate registered at the provider (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
}

impl ClientAuthMethod {
    pub const NAMES: [&'static str; 6] = [
        "basic_header",
        "request_body",
        "json_body",
        "private_key_jwt",
        "tls_client_auth",
        "self_signed_tls_client_auth",
    ];

    /// Whether the client authenticates with a TLS client certificate.
    pub fn is_mutual_tls(self) -> bool {
        matches!(self, Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BasicHeader => "basic_header",
            Self::RequestBody => "request_body",
            Self::JsonBody => "json_body",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }
}

/// What a `private_key_jwt` client's assertions are signed with and addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAssertionSettings {
    /// `RS256`, `PS256` or `ES256`.
    pub algorithm: String,
    /// `aud`: `None` is the authorization server's issuer when the integration knows it (RFC
    /// 7523bis), else its token endpoint.
    pub audience: Option<ClientAssertionAudience>,
}

/// Who a client assertion is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAssertionAudience {
    /// The issuer identifier (RFC 7523bis).
    Issuer,
    /// The token endpoint URL (Okta, Microsoft's identity platform).
    TokenUrl,
}

impl ClientAssertionAudience {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issuer => "issuer",
            Self::TokenUrl => "token_url",
        }
    }
}

/// How a token request's body is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRequestFormat {
    /// `application/x-www-form-urlencoded`, as RFC 6749 says.
    #[default]
    Form,
    /// `application/json` (Notion: Basic credentials and a JSON body).
    Json,
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

    pub(super) fn validate(self, field: &str) -> Result<Self, FieldViolation> {
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
    /// Where the provider is.
    #[serde(flatten)]
    pub endpoints: super::Endpoints,
    /// Who Latchkey is at the provider and how token requests say so.
    #[serde(flatten)]
    pub client: super::ClientAuthentication,
    pub scopes: Vec<Scope>,
    pub scope_separator: ScopeSeparator,
    pub response_type: ResponseType,
    pub authorization_params: ParamMap,
    pub token_params: ParamMap,
    /// How tokens are read from the provider's answers and handed on.
    #[serde(flatten)]
    pub tokens: super::TokenHandling,
    /// When tokens are refreshed and what a refresh may do.
    #[serde(flatten)]
    pub refresh: super::RefreshPolicy,
    /// The deprecated password grant is refused unless this is set.
    pub allow_password_grant: bool,
    /// PKCE S256 on authorization requests; on by default, off only for a provider that rejects it.
    pub pkce: bool,
    /// How the provider's webhooks are verified.
    #[serde(flatten)]
    pub webhooks: super::WebhookSettings,
    /// How tokens and accounts are checked at the provider.
    #[serde(flatten)]
    pub checks: super::ProviderChecks,
    /// What a connection brings and may ask for.
    #[serde(flatten)]
    pub connect: super::ConnectFields,
}

/// What a refresh token may do once it is in doubt: sent, with no answer (a timeout, a reset, a
/// crash), so the provider may or may not have rotated it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefreshTokenReuse {
    /// Strict rotation with reuse detection: sending it again could revoke the grant, so the
    /// connection asks for the customer (`refresh_interrupted`).
    #[default]
    Never,
    /// The provider accepts a rotated refresh token again for a while after its first use
    /// (Xero: 30 minutes): sent again within that window, counted from the first send.
    Within { grace_secs: u32 },
    /// The provider does not rotate refresh tokens (or never revokes on reuse): sent again freely.
    Always,
}

impl RefreshTokenReuse {
    /// The names `refresh_token_reuse` takes on the wire.
    pub const NAMES: [&'static str; 3] = ["never", "within", "always"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Within { .. } => "within",
            Self::Always => "always",
        }
    }

    /// The grace of `within`, else 0.
    pub fn grace_secs(self) -> u32 {
        match self {
            Self::Within { grace_secs } => grace_secs,
            _ => 0,
        }
    }
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
    /// Any endpoint called with the access token (placed as the integration places it), the id
    /// at an RFC 6901 pointer of its answer; `method` GET or POST (Dropbox).
    Endpoint {
        url: ProviderUrl,
        pointer: String,
        #[serde(default = "get")]
        method: String,
    },
    /// In the token response itself, at an RFC 6901 pointer (Slack's `/team/id`, Notion's
    /// `/workspace_id`).
    TokenResponse { pointer: String },
}

fn get() -> String {
    "GET".to_owned()
}

/// Where a token response keeps what Latchkey reads, when not at the standard top-level names:
/// RFC 6901 pointers (Slack's user token at `/authed_user/access_token`). `None`: the standard
/// field (`refresh_token_expires_in` falls back to `x_refresh_token_expires_in`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponseMapping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in: Option<String>,
}

impl TokenResponseMapping {
    /// The names a mapping may set.
    pub const NAMES: [&'static str; 5] = [
        "access_token",
        "refresh_token",
        "expires_in",
        "scope",
        "refresh_token_expires_in",
    ];

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The pointer set for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        match name {
            "access_token" => self.access_token.as_deref(),
            "refresh_token" => self.refresh_token.as_deref(),
            "expires_in" => self.expires_in.as_deref(),
            "scope" => self.scope.as_deref(),
            "refresh_token_expires_in" => self.refresh_token_expires_in.as_deref(),
            _ => None,
        }
    }

    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "access_token" => Some(&mut self.access_token),
            "refresh_token" => Some(&mut self.refresh_token),
            "expires_in" => Some(&mut self.expires_in),
            "scope" => Some(&mut self.scope),
            "refresh_token_expires_in" => Some(&mut self.refresh_token_expires_in),
            _ => None,
        }
    }

    /// Parses `name → pointer` pairs, every violation named under `field.name`.
    pub fn parse(pairs: &[(String, String)], field: &str, e: &mut crate::ValidationErrors) -> Self {
        let mut mapping = Self::default();
        for (name, pointer) in pairs {
            let at = format!("{field}.{name}");
            if !pointer.starts_with('/') || pointer.len() > 256 {
                e.push(FieldViolation::new(
                    at,
                    "must be a JSON pointer (RFC 6901) such as /authed_user/access_token",
                ));
                continue;
            }
            match mapping.slot(name) {
                Some(slot) => *slot = Some(pointer.clone()),
                None => e.push(FieldViolation::new(
                    at,
                    format!("is not one of {}", Self::NAMES.join(", ")),
                )),
            }
        }
        mapping
    }
}

impl AccountMapping {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::IdToken { .. } => "id_token",
            Self::Userinfo { .. } => "userinfo",
            Self::Endpoint { .. } => "endpoint",
            Self::TokenResponse { .. } => "token_response",
        }
    }
}

/// A provider's own revocation request, for those that do not speak RFC 7009 (HubSpot, GitHub,
/// Slack, Dropbox). Sent to the integration's `revocation_url`, whose `{token}` and
/// `{client_id}` are filled (percent-encoded), as is the body's (escaped for its format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationShape {
    /// `POST`, `DELETE` or `GET`.
    pub method: String,
    /// Empty: no body.
    #[serde(default)]
    pub body: String,
    /// `json` or `form`, with a body.
    #[serde(default)]
    pub body_format: String,
    /// `none`, `basic` (the client's id and secret) or `bearer` (the token being revoked).
    pub auth: String,
    /// Which token is sent: `access_token` or `refresh_token`.
    pub token: String,
}

impl RevocationShape {
    /// The placeholders a revocation request may use besides the connection's parameters.
    pub const PLACEHOLDERS: [&'static str; 2] = ["token", "client_id"];
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
    /// Three days of failed refreshes, then the customer is asked.
    pub const DEFAULT_FAILURE_HORIZON_SECS: u32 = 3 * 24 * 3600;
    pub const MAX_FAILURE_HORIZON_SECS: u32 = 366 * 24 * 3600;
    /// A week's notice before a refresh token dies.
    pub const DEFAULT_EXPIRY_WARNING_SECS: u32 = 7 * 24 * 3600;
    /// The longest `within` grace accepted.
    pub const MAX_REUSE_GRACE_SECS: u32 = 24 * 3600;
    /// Token response fields that hold secrets and are never kept as metadata.
    pub const SECRET_FIELDS: &'static [&'static str] =
        &["access_token", "refresh_token", "id_token"];
}
