//! A real, small OAuth 2.0 provider for tests (not a mock that answers anything): authorization
//! code with PKCE (S256) verification, client authentication by Basic header or request body,
//! client credentials, password, JWT bearer assertions of trusted service accounts (RFC 7523:
//! signature, issuer, audience, expiry, `jti` reuse), refresh with rotation and reuse detection
//! (a reused refresh token revokes the whole grant, as real providers do), RFC 7009 revocation,
//! RFC 8414 metadata, RFC 7662
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

mod assertions;
mod handlers;
use handlers::*;

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

/// Where the provider's API (`/api/me`, `/userinfo`) takes access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiToken {
    /// `<name>: <prefix> <token>` (`Authorization: Bearer …` by default).
    Header { name: String, prefix: String },
    /// `?<param>=<token>`.
    Query { param: String },
}

impl Default for ApiToken {
    fn default() -> Self {
        Self::Header {
            name: "authorization".to_owned(),
            prefix: "Bearer".to_owned(),
        }
    }
}

/// Switches for the ways real providers bend the standard, and for failures.
#[derive(Debug, Clone)]
pub struct Quirks {
    pub expires_in: ExpiresIn,
    /// How `expires_in` is sent in answers to a refresh, when not as `expires_in` says (first
    /// tokens short-lived, refreshed ones long-lived, with no switch racing the refresher).
    pub refreshed_expires_in: Option<ExpiresIn>,
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
    /// Answer revocation requests with this status and revoke nothing (an outage).
    pub revocation_status: Option<u16>,
    /// How long each token request takes (to make concurrency observable).
    pub token_delay: std::time::Duration,
    /// How long the answer to a token request is held back after the request was processed
    /// (tokens issued, a refresh token rotated): a provider whose answers come late, or never
    /// for a client that gives up first.
    pub answer_delay: std::time::Duration,
    /// A spent (rotated) refresh token presented again within this long of its first use is
    /// honoured instead of revoking the grant (Xero's 30 minutes, Okta's leeway).
    pub reuse_grace: std::time::Duration,
    /// The reuse grace honours a spent refresh token only while no refresh token issued in its
    /// place has been used: the grace covers an answer that was lost, not a client that put an
    /// old refresh token back after it went on with the new one.
    pub grace_until_successor_used: bool,
    pub id_token: IdToken,
    /// Extra parameters on the redirect back (QuickBooks' `realmId`).
    pub callback_params: Vec<(String, String)>,
    /// Sent beside each new refresh token: how long it lives (QuickBooks, GitHub Apps).
    pub refresh_token_expires_in: Option<u64>,
    /// Token requests must be JSON objects (Notion), a form is refused.
    pub json_requests: bool,
    /// Token answers are form-encoded (GitHub without `Accept: application/json`).
    pub form_encoded_answers: bool,
    /// The tokens go inside an object under this key (Slack's `authed_user`), beside a top
    /// level `access_token` that is not the user's.
    pub nest_tokens_under: Option<String>,
    /// Where the API takes tokens.
    pub api_token: ApiToken,
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            expires_in: ExpiresIn::Number(3600),
            refreshed_expires_in: None,
            omit_token_type: false,
            scope_as_list: false,
            rotate_refresh_tokens: true,
            extra_fields: Vec::new(),
            token_override: None,
            iss: Iss::Correct,
            deny_consent: false,
            omit_code: false,
            no_refresh_token: false,
            revocation_status: None,
            token_delay: std::time::Duration::ZERO,
            answer_delay: std::time::Duration::ZERO,
            reuse_grace: std::time::Duration::ZERO,
            grace_until_successor_used: false,
            id_token: IdToken::Good,
            callback_params: Vec::new(),
            refresh_token_expires_in: None,
            json_requests: false,
            form_encoded_answers: false,
            nest_tokens_under: None,
            api_token: ApiToken::default(),
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
    /// The refresh tokens issued from each refresh token (more than one after a grace resend).
    successors: HashMap<String, Vec<String>>,
    token_calls: Vec<TokenCall>,
    revocations: Vec<(String, Option<String>)>,
    issued: Vec<String>,
    /// Answers to give the next token requests, first first: (status, body, Retry-After).
    scripted: std::collections::VecDeque<(u16, String, Option<u64>)>,
    in_flight: usize,
    max_in_flight: usize,
    reuse_detected: usize,
    reuse_honoured: usize,
    requests: Vec<SeenRequest>,
    /// The JWT bearer grant's trusted accounts and what it accepted.
    assertions: assertions::Assertions,
}

/// One request the provider received, as it came: to check what a client sent where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    /// The path and query.
    pub target: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
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
        let endpoints = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/api/me", get(me).post(me))
            .route("/userinfo", get(me))
            .route("/introspect", post(introspect))
            .route("/jwks", get(jwks))
            .route("/.well-known/oauth-authorization-server", get(metadata))
            // A provider's own API (revocation requests that are not RFC 7009's): any method,
            // answered 200 and kept in the request log.
            .route("/custom/{*rest}", axum::routing::any(custom));
        // The same endpoints under a per-customer path, for providers whose URLs hold the
        // customer's shop or subdomain (`/shops/acme/token`).
        let app = Router::new()
            .merge(endpoints.clone())
            .nest("/shops/{shop}", endpoints)
            .layer(axum::middleware::from_fn_with_state(shared.clone(), record))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A JWT of `claims` signed ES256 with the key `/jwks` publishes (`published`), or with one
    /// it never publishes: a push token as Google's would be, for webhook tests.
    pub fn sign_jwt(&self, claims: &Value, published: bool) -> String {
        let key = if published {
            &self.shared.keys.published
        } else {
            &self.shared.keys.unpublished
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(KID.to_owned());
        jsonwebtoken::encode(&header, claims, key).unwrap_or_default()
    }

    /// Trusts a service account: JWT bearer assertions from `issuer` signed with the private
    /// half of `public_pem` (RSA or P-256, PEM) are traded for tokens.
    pub fn trust_service_account(&self, issuer: &str, public_pem: &str) {
        self.shared
            .lock()
            .assertions
            .trusted
            .push(assertions::TrustedAccount {
                issuer: issuer.to_owned(),
                public_pem: public_pem.to_owned(),
            });
    }

    /// Trusts no service account any more (their keys revoked at the provider).
    pub fn distrust_service_accounts(&self) {
        self.shared.lock().assertions.trusted.clear();
    }

    /// The claims of every assertion the JWT bearer grant accepted, first first.
    pub fn accepted_assertions(&self) -> Vec<Value> {
        self.shared.lock().assertions.accepted.clone()
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

    /// Every request received so far, first first.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.lock().requests.clone()
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

    /// How often a spent refresh token was presented again within the reuse grace (and honoured):
    /// a client resending a refresh token whose answer it never got.
    pub fn reuse_honoured(&self) -> usize {
        self.shared.lock().reuse_honoured
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

    /// The provider stops taking one access token (its grant, and a refresh, still work): what a
    /// worker's 401 looks like when a token was invalidated early.
    pub fn invalidate_access_token(&self, token: &str) {
        self.shared.lock().access.remove(token);
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
