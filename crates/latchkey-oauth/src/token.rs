//! Token requests (RFC 6749 §4, §6), their responses as providers really send them, and
//! revocation (RFC 7009).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use latchkey_domain::connection::{is_secret_name, without_secrets};
use latchkey_domain::{ClientAuthMethod, IntegrationConfig, ParamMap, Scope, TokenRequestFormat};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use crate::{OAuthError, ProviderClient};

pub use latchkey_domain::connection::RevocationOutcome;

/// The client a request authenticates as.
#[derive(Debug)]
pub struct ClientCredentials<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a SecretString>,
    pub method: ClientAuthMethod,
    /// A `private_key_jwt` client's key: each request carries a fresh assertion signed with it.
    pub assertion_key: Option<&'a crate::ClientAssertionKey>,
    /// The connection's DPoP key (RFC 9449): token requests carry a proof made with it.
    pub dpop: Option<&'a crate::DpopKey>,
    /// A mutual-TLS client (RFC 8705): the guarded client presenting its certificate, which its
    /// requests go through.
    pub tls: Option<&'a ProviderClient>,
}

/// `client_assertion_type` of RFC 7523 §2.2.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl ClientCredentials<'_> {
    /// A fresh client assertion when this client authenticates with `private_key_jwt`; refused
    /// before sending to `url` when it has no key.
    pub(crate) fn assertion(&self, url: &Url) -> Result<Option<SecretString>, OAuthError> {
        if self.method != ClientAuthMethod::PrivateKeyJwt {
            return Ok(None);
        }
        let refused = |reason: String| OAuthError::Refused {
            url: url.to_string(),
            reason,
        };
        let key = self.assertion_key.ok_or_else(|| {
            refused("the private_key_jwt client has no private key (its client_secret)".into())
        })?;
        key.sign(self.client_id)
            .map(Some)
            .map_err(|e| refused(format!("the client assertion cannot be signed: {e}")))
    }
}

/// The grant type of RFC 8693 §2.1 on the wire, and the type of the tokens it exchanges.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The grant type of RFC 8628 §3.4 on the wire.
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The grant type of RFC 7523 §2.1 on the wire.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A grant to run at the token endpoint.
#[derive(Debug)]
pub enum Grant<'a> {
    AuthorizationCode {
        code: &'a SecretString,
        redirect_uri: &'a str,
        code_verifier: Option<&'a SecretString>,
    },
    ClientCredentials {
        scopes: &'a [Scope],
    },
    Password {
        username: &'a str,
        password: &'a SecretString,
        scopes: &'a [Scope],
    },
    RefreshToken {
        refresh_token: &'a SecretString,
    },
    /// RFC 7523 §2.1: a signed assertion (its scopes, if any, are in it).
    JwtBearer {
        assertion: &'a SecretString,
    },
    /// RFC 8628 §3.4: asking whether the customer approved a device code.
    DeviceCode {
        device_code: &'a SecretString,
    },
    /// RFC 8693 §2.1: another connection's access token exchanged; `audience`, `resource` and
    /// `requested_token_type` come as the request's extra parameters.
    TokenExchange {
        subject_token: &'a SecretString,
        scopes: &'a [Scope],
    },
}

/// A successful token response. `Debug` redacts the tokens.
#[derive(Debug)]
pub struct TokenResponse {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// `Bearer` when the provider sent none.
    pub token_type: String,
    /// Seconds, from a number or a numeric string; `None` when missing or unusable (the caller
    /// then uses the integration's default lifetime). Clamped to the integration maximum.
    pub expires_in: Option<u64>,
    /// Granted scopes, from a delimited string or a list; `None` when the provider did not say.
    pub scopes: Option<Vec<String>>,
    /// The raw non-secret standard fields (`token_type`, `expires_in`, `scope` as sent) and the
    /// fields the integration keeps (`instance_url`…).
    pub metadata: BTreeMap<String, Value>,
    /// The OpenID Connect ID token, when the provider sent one: read for the account, never kept.
    pub id_token: Option<SecretString>,
    /// How long the refresh token itself lives, when the provider says (seconds).
    pub refresh_token_expires_in: Option<u64>,
    /// The provider account id, when the integration reads it from the token response.
    pub account_id: Option<String>,
    /// When the request this answers was sent: `expires_in` counts from here, never from when
    /// the answer was read (a late answer would otherwise promise a token longer than it lives).
    /// `None` for a response not fetched by this client (an import).
    pub sent_at: Option<DateTime<Utc>>,
    /// When the token itself says it ends (a JWT access token's `exp`, an `expires_at` field):
    /// the earlier of this and `sent_at + expires_in` wins.
    pub ends_at: Option<DateTime<Utc>>,
}

/// `Basic base64(urlencode(id):urlencode(secret))`, RFC 6749 §2.3.1.
fn basic_header(client_id: &str, secret: &SecretString) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client_id), encode(secret.expose_secret()));
    format!("Basic {}", STANDARD.encode(pair))
}

pub(crate) fn parse_error(
    status: u16,
    retry_after: Option<Duration>,
    json: Option<&Value>,
) -> OAuthError {
    let text = |key: &str| {
        json.and_then(|j| j.get(key))
            .and_then(Value::as_str)
            .map(|s| s.chars().take(512).collect::<String>())
    };
    OAuthError::Provider {
        status,
        error: text("error"),
        description: text("error_description"),
        retry_after,
    }
}

/// A form-encoded answer (`access_token=…&scope=…`, GitHub's without an `Accept` header) as the
/// JSON object it stands for; `None` for anything else (an HTML page, plain text).
fn form_encoded(body: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() || text.starts_with(['<', '{', '[']) || !text.contains('=') {
        return None;
    }
    let object: serde_json::Map<String, Value> = url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    (object.contains_key("access_token") || object.contains_key("error"))
        .then_some(Value::Object(object))
}

/// Parses a token endpoint response. Lenient with the known deviations, strict about what makes
/// a response unusable.
pub fn parse_token_response(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
    config: &IntegrationConfig,
) -> Result<TokenResponse, OAuthError> {
    let json: Option<Value> = serde_json::from_slice(body)
        .ok()
        .or_else(|| form_encoded(body));
    if !(200..300).contains(&status) {
        return Err(parse_error(status, retry_after, json.as_ref()));
    }
    let Some(Value::Object(fields)) = json else {
        return Err(OAuthError::InvalidResponse {
            status,
            reason: "the body is not a JSON object".to_owned(),
        });
    };
    // Some providers (GitHub among them) answer 200 with an error object.
    if fields.get("error").is_some_and(Value::is_string) {
        return Err(parse_error(
            status,
            retry_after,
            Some(&Value::Object(fields)),
        ));
    }
    let root = Value::Object(fields);
    // A field at the integration's pointer, else at its standard name.
    let at = |name: &str| match config.tokens.token_response.get(name) {
        Some(pointer) => root.pointer(pointer),
        None => root.get(name),
    };
    let seconds = |value: Option<&Value>| {
        match value {
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            _ => None,
        }
        .filter(|&secs| secs > 0)
    };
    let access_token = match at("access_token") {
        Some(Value::String(token)) if !token.is_empty() => SecretString::from(token.clone()),
        _ => {
            return Err(OAuthError::InvalidResponse {
                status,
                reason: "no access_token in the response".to_owned(),
            });
        }
    };
    let refresh_token = match at("refresh_token") {
        Some(Value::String(token)) if !token.is_empty() => Some(SecretString::from(token.clone())),
        _ => None,
    };
    let token_type = match root.get("token_type") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => "Bearer".to_owned(),
    };
    let max = u64::from(IntegrationConfig::MAX_TOKEN_LIFETIME_SECS);
    let expires_in = seconds(at("expires_in")).map(|secs| secs.min(max));
    // QuickBooks says `x_refresh_token_expires_in`, GitHub Apps `refresh_token_expires_in`.
    let refresh_token_expires_in =
        seconds(at("refresh_token_expires_in").or_else(|| root.get("x_refresh_token_expires_in")))
            .map(|secs| secs.min(max * 10));
    let scope_field = match config.tokens.token_response.scope.as_deref() {
        Some(pointer) => root.pointer(pointer),
        None => root.get("scope").or_else(|| root.get("scopes")),
    };
    let scopes = match scope_field {
        Some(Value::String(s)) => {
            let separator = config.scope_separator.as_str();
            Some(
                s.split(|c: char| c.is_whitespace() || separator.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        }
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    let metadata = kept_metadata(&root, config);
    let account_id = match &config.checks.account {
        Some(latchkey_domain::AccountMapping::TokenResponse { pointer }) => {
            crate::identity::account_at(&root, pointer)
        }
        _ => None,
    };
    let id_token = match root.get("id_token") {
        Some(Value::String(token)) if !token.is_empty() => Some(SecretString::from(token.clone())),
        _ => None,
    };
    let ends_at = crate::stated_end::stated_end(&root, access_token.expose_secret());
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type,
        expires_in,
        scopes,
        metadata,
        id_token,
        refresh_token_expires_in,
        account_id,
        sent_at: None,
        ends_at,
    })
}

/// The token response's fields kept as the connection's metadata: its type, lifetime and scope
/// and the integration's `metadata_fields`, never a secret (an object kept whole keeps none of
/// its secrets).
fn kept_metadata(root: &Value, config: &IntegrationConfig) -> BTreeMap<String, Value> {
    let mut metadata = BTreeMap::new();
    let kept = ["token_type", "expires_in", "scope"]
        .into_iter()
        .chain(config.tokens.metadata_fields.iter().map(String::as_str));
    for key in kept {
        if IntegrationConfig::SECRET_FIELDS.contains(&key) || is_secret_name(key, None) {
            continue;
        }
        if let Some(value) = root.get(key) {
            // An object kept whole keeps none of its secrets (Slack's authed_user.access_token).
            metadata.insert(key.to_owned(), without_secrets(value.clone(), Some(key)));
        }
    }
    metadata
}

impl ProviderClient {
    /// Runs `grant` at `token_url` as `client`, with the integration's token parameters and the
    /// request's extras.
    #[tracing::instrument(name = "provider.token", skip_all, fields(host = token_url.host_str().unwrap_or_default()))]
    pub async fn request_token(
        &self,
        config: &IntegrationConfig,
        token_url: &Url,
        client: &ClientCredentials<'_>,
        grant: &Grant<'_>,
        extra: &ParamMap,
    ) -> Result<TokenResponse, OAuthError> {
        let scope_text;
        let mut form: Vec<(&str, &str)> = Vec::new();
        match grant {
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                form.push(("grant_type", "authorization_code"));
                form.push(("code", code.expose_secret()));
                form.push(("redirect_uri", redirect_uri));
                if let Some(verifier) = code_verifier {
                    form.push(("code_verifier", verifier.expose_secret()));
                }
            }
            Grant::ClientCredentials { scopes } => {
                form.push(("grant_type", "client_credentials"));
                scope_text = config.scope_separator.join(scopes);
                if !scopes.is_empty() {
                    form.push(("scope", &scope_text));
                }
            }
            Grant::Password {
                username,
                password,
                scopes,
            } => {
                form.push(("grant_type", "password"));
                form.push(("username", username));
                form.push(("password", password.expose_secret()));
                scope_text = config.scope_separator.join(scopes);
                if !scopes.is_empty() {
                    form.push(("scope", &scope_text));
                }
            }
            Grant::RefreshToken { refresh_token } => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", refresh_token.expose_secret()));
            }
            Grant::JwtBearer { assertion } => {
                form.push(("grant_type", JWT_BEARER));
                form.push(("assertion", assertion.expose_secret()));
            }
            Grant::DeviceCode { device_code } => {
                form.push(("grant_type", DEVICE_CODE));
                form.push(("device_code", device_code.expose_secret()));
            }
            Grant::TokenExchange {
                subject_token,
                scopes,
            } => {
                form.push(("grant_type", TOKEN_EXCHANGE));
                form.push(("subject_token", subject_token.expose_secret()));
                form.push(("subject_token_type", ACCESS_TOKEN_TYPE));
                scope_text = config.scope_separator.join(scopes);
                if !scopes.is_empty() {
                    form.push(("scope", &scope_text));
                }
            }
        }
        for (key, value) in config.token_params.iter() {
            if extra.get(key).is_none() {
                form.push((key, value));
            }
        }
        form.extend(extra.iter());
        let sent_at = Utc::now();
        let response = match config.client.token_request_format {
            TokenRequestFormat::Form => self.post_token_form(token_url, client, &form).await?,
            TokenRequestFormat::Json => {
                let assertion = client.assertion(token_url)?;
                let basic = self.client_auth(client, assertion.as_ref(), &mut form);
                let object: serde_json::Map<String, Value> = form
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                    .collect();
                client
                    .tls
                    .unwrap_or(self)
                    .post_json(token_url, &Value::Object(object), basic)
                    .await?
            }
        };
        let mut answer = parse_token_response(
            response.status,
            response.retry_after,
            &response.body,
            config,
        )?;
        answer.sent_at = Some(sent_at);
        Ok(answer)
    }

    /// Posts `form` to `url` as `client` (its credentials added, `client_id` always, over its TLS
    /// client when it has one) and reads the answer: a 2xx one as its JSON (`None` when it is
    /// not JSON), any other as the provider's error.
    pub(crate) async fn post_as_client(
        &self,
        url: &Url,
        client: &ClientCredentials<'_>,
        mut form: Vec<(&str, &str)>,
    ) -> Result<(u16, Option<Value>), OAuthError> {
        let assertion = client.assertion(url)?;
        let basic = self.client_auth(client, assertion.as_ref(), &mut form);
        if !form.iter().any(|(key, _)| *key == "client_id") {
            form.push(("client_id", client.client_id));
        }
        let response = client
            .tls
            .unwrap_or(self)
            .post_form(url, &form, basic)
            .await?;
        json_answer(response)
    }

    /// Posts a token request's `form` with the client's credentials and, for a DPoP client, a
    /// proof; a server that answers `use_dpop_nonce` (RFC 9449 §8) is asked once more with its
    /// nonce (and a client assertion of its own: each is used once).
    async fn post_token_form(
        &self,
        url: &Url,
        client: &ClientCredentials<'_>,
        form: &[(&str, &str)],
    ) -> Result<crate::ProviderResponse, OAuthError> {
        let mut nonce: Option<String> = None;
        loop {
            let assertion = client.assertion(url)?;
            let mut sent = form.to_vec();
            let basic = self.client_auth(client, assertion.as_ref(), &mut sent);
            let proof = match client.dpop {
                Some(key) => Some(
                    key.proof("POST", url, nonce.as_deref(), None)
                        .map_err(|e| OAuthError::Refused {
                            url: url.to_string(),
                            reason: e.to_string(),
                        })?,
                ),
                None => None,
            };
            let response = client
                .tls
                .unwrap_or(self)
                .post_form_with_proof(url, &sent, basic, proof.as_deref())
                .await?;
            let asks_nonce = matches!(response.status, 400 | 401)
                && serde_json::from_slice::<Value>(&response.body)
                    .ok()
                    .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_owned))
                    .as_deref()
                    == Some("use_dpop_nonce");
            match (&response.dpop_nonce, asks_nonce, &nonce, client.dpop) {
                (Some(given), true, None, Some(_)) => nonce = Some(given.clone()),
                _ => return Ok(response),
            }
        }
    }

    /// Adds the client's credentials to `form` (with its signed `assertion` for
    /// `private_key_jwt`) or returns them as a Basic header.
    pub(crate) fn client_auth<'a>(
        &self,
        client: &'a ClientCredentials<'a>,
        assertion: Option<&'a SecretString>,
        form: &mut Vec<(&'a str, &'a str)>,
    ) -> Option<String> {
        if let Some(assertion) = assertion {
            form.push(("client_id", client.client_id));
            form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE));
            form.push(("client_assertion", assertion.expose_secret()));
            return None;
        }
        match (client.method, client.client_secret) {
            (ClientAuthMethod::BasicHeader, Some(secret)) => {
                Some(basic_header(client.client_id, secret))
            }
            (ClientAuthMethod::RequestBody | ClientAuthMethod::JsonBody, Some(secret)) => {
                form.push(("client_id", client.client_id));
                form.push(("client_secret", secret.expose_secret()));
                None
            }
            // A public client identifies itself in the body (RFC 6749 §4.1.3); a
            // `private_key_jwt` client's key and a mutual-TLS client's certificate and key (its
            // "secret") are never sent (RFC 8705 §2: the client id goes in the body).
            (_, None)
            | (
                ClientAuthMethod::PrivateKeyJwt
                | ClientAuthMethod::TlsClientAuth
                | ClientAuthMethod::SelfSignedTlsClientAuth,
                Some(_),
            ) => {
                form.push(("client_id", client.client_id));
                None
            }
        }
    }

    /// RFC 7662 introspection: whether the provider calls the access token active.
    pub async fn introspect(
        &self,
        url: &Url,
        client: &ClientCredentials<'_>,
        token: &SecretString,
        hint: &str,
    ) -> Result<bool, OAuthError> {
        let assertion = client.assertion(url)?;
        let mut form = vec![("token", token.expose_secret()), ("token_type_hint", hint)];
        let basic = self.client_auth(client, assertion.as_ref(), &mut form);
        let response = client
            .tls
            .unwrap_or(self)
            .post_form(url, &form, basic)
            .await?;
        read_introspection(response.status, response.retry_after, &response.body)
    }

    /// Revokes one token with the provider's own request (`shape`), sent to `url_template`
    /// (the integration's revocation URL, the connection's parameters filled) with `{token}` and
    /// `{client_id}` filled. Errors name the URL with `{token}` left in.
    pub async fn revoke_shaped(
        &self,
        url_template: &str,
        shape: &latchkey_domain::integration::RevocationShape,
        client: &ClientCredentials<'_>,
        token: &SecretString,
    ) -> RevocationOutcome {
        let outcome = |status: Option<u16>, error: Option<String>| RevocationOutcome {
            token_type_hint: shape.token.clone(),
            status,
            error,
        };
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let fill = |template: &str, escape: &dyn Fn(&str) -> String| {
            template
                .replace("{token}", &escape(token.expose_secret()))
                .replace("{client_id}", &escape(client.client_id))
        };
        let shown = url_template.replace("{client_id}", &encode(client.client_id));
        let (Ok(shown), Ok(url)) = (Url::parse(&shown), Url::parse(&fill(url_template, &encode)))
        else {
            return outcome(None, Some("the revocation URL is not a URL".to_owned()));
        };
        let json_escape = |s: &str| {
            let quoted = Value::String(s.to_owned()).to_string();
            quoted[1..quoted.len() - 1].to_owned()
        };
        let body = match shape.body_format.as_str() {
            "json" => Some(("application/json", fill(&shape.body, &json_escape))),
            "form" => Some((
                "application/x-www-form-urlencoded",
                fill(&shape.body, &encode),
            )),
            _ => None,
        };
        let auth = match (shape.auth.as_str(), client.client_secret) {
            // A private_key_jwt client's "secret" is its private key: never sent.
            ("basic", Some(secret))
                if !matches!(client.method, ClientAuthMethod::PrivateKeyJwt)
                    && !client.method.is_mutual_tls() =>
            {
                Some(basic_header(client.client_id, secret))
            }
            ("bearer", _) => Some(format!("Bearer {}", token.expose_secret())),
            _ => None,
        };
        match self
            .send_shaped(&shape.method, (&shown, &url), auth, body)
            .await
        {
            Ok(response) if (200..300).contains(&response.status) => {
                outcome(Some(response.status), None)
            }
            Ok(response) => {
                let json: Option<Value> = serde_json::from_slice(&response.body).ok();
                let error = parse_error(response.status, response.retry_after, json.as_ref());
                outcome(Some(response.status), Some(error.to_string()))
            }
            Err(error) => outcome(error.status(), Some(error.to_string())),
        }
    }

    /// Revokes one token (RFC 7009). The outcome is recorded whatever it is; a 200 means the token
    /// is no longer valid (the RFC also answers 200 for tokens that already were not).
    pub async fn revoke(
        &self,
        revocation_url: &Url,
        client: &ClientCredentials<'_>,
        token: &SecretString,
        token_type_hint: &str,
    ) -> RevocationOutcome {
        let assertion = match client.assertion(revocation_url) {
            Ok(assertion) => assertion,
            Err(error) => {
                return RevocationOutcome {
                    token_type_hint: token_type_hint.to_owned(),
                    status: None,
                    error: Some(error.to_string()),
                };
            }
        };
        let mut form = vec![
            ("token", token.expose_secret()),
            ("token_type_hint", token_type_hint),
        ];
        let basic = self.client_auth(client, assertion.as_ref(), &mut form);
        let result = client
            .tls
            .unwrap_or(self)
            .post_form(revocation_url, &form, basic)
            .await;
        match result {
            Ok(response) if (200..300).contains(&response.status) => RevocationOutcome {
                token_type_hint: token_type_hint.to_owned(),
                status: Some(response.status),
                error: None,
            },
            Ok(response) => {
                let json: Option<Value> = serde_json::from_slice(&response.body).ok();
                let error = parse_error(response.status, response.retry_after, json.as_ref());
                RevocationOutcome {
                    token_type_hint: token_type_hint.to_owned(),
                    status: Some(response.status),
                    error: Some(error.to_string()),
                }
            }
            Err(error) => RevocationOutcome {
                token_type_hint: token_type_hint.to_owned(),
                status: error.status(),
                error: Some(error.to_string()),
            },
        }
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;

/// A 2xx answer as its JSON (`None` when it is not JSON); any other as the provider's error.
pub(crate) fn json_answer(
    response: crate::ProviderResponse,
) -> Result<(u16, Option<Value>), OAuthError> {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    if !(200..300).contains(&response.status) {
        return Err(parse_error(
            response.status,
            response.retry_after,
            json.as_ref(),
        ));
    }
    Ok((response.status, json))
}

/// Reads an RFC 7662 introspection answer: `active` when the provider says so, else an error that
/// names what is wrong and never repeats the body (which may carry the token).
pub fn read_introspection(
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<bool, OAuthError> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        return Err(parse_error(status, retry_after, json.as_ref()));
    }
    let reason = match &json {
        None => "the introspection answer is not JSON".to_owned(),
        Some(Value::Object(fields)) => match fields.get("active") {
            Some(Value::Bool(active)) => return Ok(*active),
            None => "the introspection answer has no `active`".to_owned(),
            Some(_) => "the introspection answer's `active` is not a boolean".to_owned(),
        },
        Some(_) => "the introspection answer is not a JSON object".to_owned(),
    };
    Err(OAuthError::InvalidResponse { status, reason })
}

#[cfg(test)]
#[path = "token_properties.rs"]
mod properties;
