//! A real, small OAuth 2.0 provider for tests (not a mock that answers anything): authorization
//! code with PKCE (S256) verification, client authentication by Basic header or request body,
//! client credentials, password, refresh with rotation and reuse detection (a reused refresh token
//! revokes the whole grant, as real providers do), RFC 7009 revocation, RFC 8414 metadata, RFC 7662
//! introspection, OpenID userinfo, ES256 ID tokens (for the `openid` scope; the subject is the
//! authorization request's `login_hint`) with their JWKS, a protected resource to check tokens
//! against, and switches for the quirks of real providers.
//!
//! It listens on 127.0.0.1 only (port 0 in tests) and never leaves the machine. Test code, and
//! `latchkey dev-provider` for trying Latchkey with nothing but the repository.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

/// How the provider expects clients to authenticate at its token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Body,
}

/// How `expires_in` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiresIn {
    Number(u64),
    String(u64),
    Missing,
}

/// What `iss` the authorization response carries (RFC 9207).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Iss {
    Correct,
    Wrong,
    Omitted,
}

/// How the ID token (issued when the scope holds `openid`) is signed and addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdToken {
    /// ES256 with the key the JWKS publishes, `iss` the provider's issuer.
    Good,
    /// Signed with a key the JWKS does not publish (under the same `kid`).
    WrongKey,
    /// `iss` names another issuer.
    WrongIssuer,
}

/// Switches for the ways real providers bend the standard, and for failures.
#[derive(Debug, Clone)]
pub struct Quirks {
    pub expires_in: ExpiresIn,
    pub omit_token_type: bool,
    pub scope_as_list: bool,
    /// Issue a new refresh token on each refresh (the old one is then spent).
    pub rotate_refresh_tokens: bool,
    /// Extra fields in token responses (Salesforce's `instance_url`…).
    pub extra_fields: Vec<(String, Value)>,
    /// Answer the token endpoint with this status and body instead.
    pub token_override: Option<(u16, String)>,
    pub iss: Iss,
    /// The user refuses consent: the redirect carries `error=access_denied`.
    pub deny_consent: bool,
    /// Leave `code` out of the redirect.
    pub omit_code: bool,
    /// Issue no refresh tokens (authorization code and password grants).
    pub no_refresh_token: bool,
    /// How long each token request takes (to make concurrency observable).
    pub token_delay: std::time::Duration,
    /// How long the answer to a token request is held back after the request was processed
    /// (tokens issued, a refresh token rotated): a provider whose answers come late, or never
    /// for a client that gives up first.
    pub answer_delay: std::time::Duration,
    /// A spent (rotated) refresh token presented again within this long of its first use is
    /// honoured instead of revoking the grant (Xero's 30 minutes, Okta's leeway).
    pub reuse_grace: std::time::Duration,
    pub id_token: IdToken,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            expires_in: ExpiresIn::Number(3600),
            omit_token_type: false,
            scope_as_list: false,
            rotate_refresh_tokens: true,
            extra_fields: Vec::new(),
            token_override: None,
            iss: Iss::Correct,
            deny_consent: false,
            omit_code: false,
            no_refresh_token: false,
            token_delay: std::time::Duration::ZERO,
            answer_delay: std::time::Duration::ZERO,
            reuse_grace: std::time::Duration::ZERO,
            id_token: IdToken::Good,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub client_id: String,
    pub client_secret: String,
    pub client_auth: ClientAuth,
    pub username: String,
    pub password: String,
    /// Prefix of every token issued, so tests can look for them (canaries).
    pub token_prefix: String,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            client_id: "fake-client".to_owned(),
            client_secret: "fake-client-secret".to_owned(),
            client_auth: ClientAuth::Basic,
            username: "ada".to_owned(),
            password: "correct horse".to_owned(),
            token_prefix: "canary-".to_owned(),
        }
    }
}

/// One call to the token endpoint, as the provider saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCall {
    pub grant_type: String,
    pub client_auth: Option<ClientAuth>,
    pub client_id: Option<String>,
    pub params: Vec<(String, String)>,
}

#[derive(Debug)]
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    /// The user who consented: the authorization request's `login_hint`, else the configured
    /// username.
    subject: String,
}

#[derive(Debug)]
struct Grant {
    revoked: bool,
    scope: String,
    subject: String,
}

/// The provider's ID token signing keys: the published one and one it never publishes.
struct Keys {
    published: jsonwebtoken::EncodingKey,
    unpublished: jsonwebtoken::EncodingKey,
    jwks: Value,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys")
    }
}

const KID: &str = "fake-1";

fn new_key() -> std::io::Result<jsonwebtoken::EncodingKey> {
    use p256::pkcs8::EncodePrivateKey;
    let secret = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let der = secret
        .to_pkcs8_der()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()))
}

impl Keys {
    fn generate() -> std::io::Result<Self> {
        let published = new_key()?;
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&published, jsonwebtoken::Algorithm::ES256)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        jwk.common.key_id = Some(KID.to_owned());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        Ok(Self {
            published,
            unpublished: new_key()?,
            jwks: json!({ "keys": [jwk] }),
        })
    }
}

#[derive(Debug, Default)]
struct Inner {
    quirks: Quirks,
    codes: HashMap<String, Code>,
    grants: HashMap<String, Grant>,
    /// access token -> grant
    access: HashMap<String, String>,
    /// refresh token -> (grant, spent)
    refresh: HashMap<String, (String, bool)>,
    /// When each spent refresh token was first used.
    spent_at: HashMap<String, std::time::Instant>,
    token_calls: Vec<TokenCall>,
    revocations: Vec<(String, Option<String>)>,
    issued: Vec<String>,
    /// Answers to give the next token requests, first first: (status, body, Retry-After).
    scripted: std::collections::VecDeque<(u16, String, Option<u64>)>,
    in_flight: usize,
    max_in_flight: usize,
    reuse_detected: usize,
}

#[derive(Debug, Clone)]
struct Shared {
    config: Arc<ProviderConfig>,
    issuer: Arc<String>,
    keys: Arc<Keys>,
    inner: Arc<Mutex<Inner>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake provider.
#[derive(Debug, Clone)]
pub struct FakeProvider {
    addr: SocketAddr,
    shared: Shared,
}

impl FakeProvider {
    pub async fn start(config: ProviderConfig) -> std::io::Result<Self> {
        Self::start_on(config, 0).await
    }

    /// On this loopback port (0: any free one).
    pub async fn start_on(config: ProviderConfig, port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Shared {
            config: Arc::new(config),
            issuer: Arc::new(format!("http://{addr}")),
            keys: Arc::new(Keys::generate()?),
            inner: Arc::new(Mutex::new(Inner::default())),
        };
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/api/me", get(me))
            .route("/userinfo", get(me))
            .route("/introspect", post(introspect))
            .route("/jwks", get(jwks))
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn issuer(&self) -> String {
        self.shared.issuer.to_string()
    }

    pub fn config(&self) -> &ProviderConfig {
        &self.shared.config
    }

    pub fn set_quirks(&self, quirks: Quirks) {
        self.shared.lock().quirks = quirks;
    }

    pub fn token_calls(&self) -> Vec<TokenCall> {
        self.shared.lock().token_calls.clone()
    }

    /// Answers the next token request with this status, body and `Retry-After` (seconds), once;
    /// later calls answer normally again. Several queue up.
    pub fn fail_next(&self, status: u16, body: &str, retry_after: Option<u64>) {
        self.shared
            .lock()
            .scripted
            .push_back((status, body.to_owned(), retry_after));
    }

    /// The most token requests that were ever being answered at once.
    pub fn max_concurrent_token_requests(&self) -> usize {
        self.shared.lock().max_in_flight
    }

    /// Forgets the most concurrent token requests seen so far (to measure a later phase alone).
    pub fn reset_max_concurrent_token_requests(&self) {
        let mut inner = self.shared.lock();
        inner.max_in_flight = inner.in_flight;
    }

    /// How often a spent refresh token was presented (each revoked its whole grant).
    pub fn reuse_detected(&self) -> usize {
        self.shared.lock().reuse_detected
    }

    /// Token requests of one grant type so far.
    pub fn token_calls_of(&self, grant_type: &str) -> usize {
        self.shared
            .lock()
            .token_calls
            .iter()
            .filter(|c| c.grant_type == grant_type)
            .count()
    }

    /// Revocation requests so far.
    pub fn revocations(&self) -> usize {
        self.shared.lock().revocations.len()
    }

    /// Every token issued so far, access and refresh.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.lock().issued.clone()
    }

    /// Whether the protected resource accepts this access token.
    pub fn accepts_access_token(&self, token: &str) -> bool {
        let inner = self.shared.lock();
        inner
            .access
            .get(token)
            .and_then(|grant| inner.grants.get(grant))
            .is_some_and(|g| !g.revoked)
    }

    /// The user revokes every grant at the provider (from the provider's own settings page).
    pub fn revoke_all_grants(&self) {
        for grant in self.shared.lock().grants.values_mut() {
            grant.revoked = true;
        }
    }

    /// A grant a customer made through another client's token store: its access and refresh
    /// token, as an import brings them (both honoured here, like any other).
    pub fn grant_elsewhere(&self, scope: &str) -> (String, String) {
        let mut inner = self.shared.lock();
        let grant_id = Uuid::new_v4().simple().to_string();
        inner.grants.insert(
            grant_id.clone(),
            Grant {
                revoked: false,
                scope: scope.to_owned(),
                subject: "imported-user".to_owned(),
            },
        );
        let prefix = &self.shared.config.token_prefix;
        let access = format!("{prefix}at-{}", Uuid::new_v4().simple());
        let refresh = format!("{prefix}rt-{}", Uuid::new_v4().simple());
        inner.access.insert(access.clone(), grant_id.clone());
        inner.refresh.insert(refresh.clone(), (grant_id, false));
        inner.issued.push(access.clone());
        inner.issued.push(refresh.clone());
        (access, refresh)
    }

    /// Whether this refresh token would still be honoured.
    pub fn accepts_refresh_token(&self, token: &str) -> bool {
        let inner = self.shared.lock();
        inner.refresh.get(token).is_some_and(|(grant, spent)| {
            !spent && inner.grants.get(grant).is_some_and(|g| !g.revoked)
        })
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn metadata(State(s): State<Shared>) -> Json<Value> {
    let base = s.issuer.as_str();
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "revocation_endpoint": format!("{base}/revoke"),
        "jwks_uri": format!("{base}/jwks"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "scopes_supported": ["read", "write", "offline_access"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let (Some(redirect_uri), Some(client_id)) = (q.get("redirect_uri"), q.get("client_id")) else {
        return (
            StatusCode::BAD_REQUEST,
            "redirect_uri and client_id are required",
        )
            .into_response();
    };
    if *client_id != s.config.client_id {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let Ok(mut target) = Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not a URL").into_response();
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return (StatusCode::BAD_REQUEST, "response_type must be code").into_response();
    }
    if let Some(method) = q.get("code_challenge_method")
        && method != "S256"
    {
        return (StatusCode::BAD_REQUEST, "only S256 is supported").into_response();
    }
    let quirks = s.lock().quirks.clone();
    {
        let mut query = target.query_pairs_mut();
        if quirks.deny_consent {
            query
                .append_pair("error", "access_denied")
                .append_pair("error_description", "The user denied access");
        } else if !quirks.omit_code {
            let code = format!("code-{}", Uuid::new_v4().simple());
            s.lock().codes.insert(
                code.clone(),
                Code {
                    client_id: client_id.clone(),
                    redirect_uri: redirect_uri.clone(),
                    challenge: q.get("code_challenge").cloned(),
                    scope: q.get("scope").cloned().unwrap_or_default(),
                    subject: q
                        .get("login_hint")
                        .cloned()
                        .unwrap_or_else(|| s.config.username.clone()),
                },
            );
            query.append_pair("code", &code);
        }
        if let Some(state) = q.get("state") {
            query.append_pair("state", state);
        }
        match quirks.iss {
            Iss::Correct => {
                query.append_pair("iss", &s.issuer);
            }
            Iss::Wrong => {
                query.append_pair("iss", "https://evil.example");
            }
            Iss::Omitted => {}
        }
    }
    Redirect::to(target.as_str()).into_response()
}

/// The client the request authenticated as, and how.
#[allow(clippy::result_large_err)] // test code: the error is the response to send
fn client_auth(
    s: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<ClientAuth, Response> {
    let invalid = || {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
    };
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let decoded = value
            .strip_prefix("Basic ")
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
        let decode = |v: &str| {
            url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        if s.config.client_auth != ClientAuth::Basic
            || decode(id) != s.config.client_id
            || decode(secret) != s.config.client_secret
        {
            return Err(invalid());
        }
        return Ok(ClientAuth::Basic);
    }
    if s.config.client_auth == ClientAuth::Body
        && form.get("client_id") == Some(&s.config.client_id)
        && form.get("client_secret") == Some(&s.config.client_secret)
    {
        return Ok(ClientAuth::Body);
    }
    Err(invalid())
}

fn issue(s: &Shared, inner: &mut Inner, grant_id: &str, with_refresh: bool) -> Value {
    let prefix = &s.config.token_prefix;
    let access = format!("{prefix}at-{}", Uuid::new_v4().simple());
    inner.access.insert(access.clone(), grant_id.to_owned());
    inner.issued.push(access.clone());
    let scope = inner
        .grants
        .get(grant_id)
        .map(|g| g.scope.clone())
        .unwrap_or_default();
    let q = &inner.quirks;
    let mut body = json!({ "access_token": access });
    if !q.omit_token_type {
        body["token_type"] = json!("Bearer");
    }
    match q.expires_in {
        ExpiresIn::Number(n) => body["expires_in"] = json!(n),
        ExpiresIn::String(n) => body["expires_in"] = json!(n.to_string()),
        ExpiresIn::Missing => {}
    }
    if !scope.is_empty() {
        body["scope"] = if q.scope_as_list {
            json!(scope.split(' ').collect::<Vec<_>>())
        } else {
            json!(scope)
        };
    }
    for (key, value) in &q.extra_fields {
        body[key] = value.clone();
    }
    if with_refresh {
        let refresh = format!("{prefix}rt-{}", Uuid::new_v4().simple());
        inner
            .refresh
            .insert(refresh.clone(), (grant_id.to_owned(), false));
        inner.issued.push(refresh.clone());
        body["refresh_token"] = json!(refresh);
    }
    body
}

fn new_grant(inner: &mut Inner, scope: &str, subject: &str) -> String {
    let id = Uuid::new_v4().to_string();
    inner.grants.insert(
        id.clone(),
        Grant {
            revoked: false,
            scope: scope.to_owned(),
            subject: subject.to_owned(),
        },
    );
    id
}

/// An OpenID Connect ID token for `subject`, signed and addressed as the quirk says.
fn id_token(s: &Shared, quirk: IdToken, subject: &str) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let issuer = match quirk {
        IdToken::WrongIssuer => "https://evil.example".to_owned(),
        IdToken::Good | IdToken::WrongKey => s.issuer.to_string(),
    };
    let key = match quirk {
        IdToken::WrongKey => &s.keys.unpublished,
        IdToken::Good | IdToken::WrongIssuer => &s.keys.published,
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(KID.to_owned());
    let claims = json!({
        "iss": issuer,
        "sub": subject,
        "aud": s.config.client_id,
        "iat": now,
        "exp": now + 3600,
    });
    jsonwebtoken::encode(&header, &claims, key).map_err(|e| e.to_string())
}

async fn jwks(State(s): State<Shared>) -> Json<Value> {
    Json(s.keys.jwks.clone())
}

/// Counts a token request as in flight for as long as it lives.
struct InFlight(Shared);

impl InFlight {
    fn start(s: &Shared) -> Self {
        let mut inner = s.lock();
        inner.in_flight += 1;
        inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        Self(s.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
    }
}

async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let _in_flight = InFlight::start(&s);
    let delay = s.lock().quirks.token_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let auth = client_auth(&s, &headers, &form);
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    {
        let mut params: Vec<(String, String)> =
            form.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        params.sort();
        s.lock().token_calls.push(TokenCall {
            grant_type: grant_type.clone(),
            client_auth: auth.as_ref().ok().copied(),
            client_id: form.get("client_id").cloned(),
            params,
        });
    }
    if let Some((status, body)) = s.lock().quirks.token_override.clone() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, [(header::RETRY_AFTER, "7")], body).into_response();
    }
    let scripted = s.lock().scripted.pop_front();
    if let Some((status, body, retry_after)) = scripted {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        if let Some(secs) = retry_after
            && let Ok(value) = header::HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if let Err(response) = auth {
        return response;
    }
    let (body, answer_delay) = {
        let mut inner = s.lock();
        let body = match grant_type.as_str() {
            "authorization_code" => {
                let Some(code) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "unknown or used code",
                    );
                };
                if code.client_id != s.config.client_id
                    || form.get("redirect_uri") != Some(&code.redirect_uri)
                {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "redirect_uri mismatch",
                    );
                }
                if let Some(challenge) = &code.challenge {
                    let Some(verifier) = form.get("code_verifier") else {
                        return oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "code_verifier required",
                        );
                    };
                    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
                        return oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "PKCE verification failed",
                        );
                    }
                }
                let grant = new_grant(&mut inner, &code.scope, &code.subject);
                let refresh = !inner.quirks.no_refresh_token;
                let mut body = issue(&s, &mut inner, &grant, refresh);
                if code.scope.split(' ').any(|scope| scope == "openid") {
                    match id_token(&s, inner.quirks.id_token, &code.subject) {
                        Ok(token) => body["id_token"] = json!(token),
                        Err(e) => {
                            return oauth_error(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "server_error",
                                &e,
                            );
                        }
                    }
                }
                body
            }
            "client_credentials" => {
                let scope = form.get("scope").cloned().unwrap_or_default();
                let grant = new_grant(&mut inner, &scope, &s.config.client_id);
                issue(&s, &mut inner, &grant, false)
            }
            "password" => {
                if form.get("username") != Some(&s.config.username)
                    || form.get("password") != Some(&s.config.password)
                {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "bad credentials",
                    );
                }
                let scope = form.get("scope").cloned().unwrap_or_default();
                let grant = new_grant(&mut inner, &scope, &s.config.username);
                let refresh = !inner.quirks.no_refresh_token;
                issue(&s, &mut inner, &grant, refresh)
            }
            "refresh_token" => {
                let presented = form.get("refresh_token").cloned().unwrap_or_default();
                let Some((grant, spent)) = inner.refresh.get(&presented).cloned() else {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "unknown refresh token",
                    );
                };
                let in_grace = inner
                    .spent_at
                    .get(&presented)
                    .is_some_and(|at| at.elapsed() <= inner.quirks.reuse_grace);
                if spent && !in_grace {
                    // Reuse detection: a spent refresh token revokes the whole grant.
                    inner.reuse_detected += 1;
                    if let Some(g) = inner.grants.get_mut(&grant) {
                        g.revoked = true;
                    }
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "refresh token reused; grant revoked",
                    );
                }
                if inner.grants.get(&grant).is_none_or(|g| g.revoked) {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "grant revoked");
                }
                let rotate = inner.quirks.rotate_refresh_tokens;
                if rotate && let Some(entry) = inner.refresh.get_mut(&presented) {
                    entry.1 = true;
                    inner
                        .spent_at
                        .entry(presented.clone())
                        .or_insert_with(std::time::Instant::now);
                }
                issue(&s, &mut inner, &grant, rotate)
            }
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "unsupported grant_type",
                );
            }
        };
        (body, inner.quirks.answer_delay)
    };
    if !answer_delay.is_zero() {
        tokio::time::sleep(answer_delay).await;
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

async fn revoke(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(response) = client_auth(&s, &headers, &form) {
        return response;
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let mut inner = s.lock();
    inner
        .revocations
        .push((token.clone(), form.get("token_type_hint").cloned()));
    let grant = inner
        .refresh
        .get(&token)
        .map(|(g, _)| g.clone())
        .or_else(|| inner.access.get(&token).cloned());
    if let Some(grant) = grant.and_then(|g| inner.grants.get_mut(&g)) {
        grant.revoked = true;
    }
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    StatusCode::OK.into_response()
}

async fn introspect(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(response) = client_auth(&s, &headers, &form) {
        return response;
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let provider = FakeProvider {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        shared: s,
    };
    Json(json!({ "active": provider.accepts_access_token(&token) })).into_response()
}

async fn me(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let provider = FakeProvider {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        shared: s,
    };
    let subject = {
        let inner = provider.shared.lock();
        inner
            .access
            .get(&token)
            .and_then(|grant| inner.grants.get(grant))
            .map(|g| g.subject.clone())
    };
    if provider.accepts_access_token(&token) {
        Json(json!({
            "sub": subject.unwrap_or_default(),
            "user": provider.config().username,
        }))
        .into_response()
    } else {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "token unknown or revoked",
        )
    }
}
