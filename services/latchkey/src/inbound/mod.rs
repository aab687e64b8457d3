//! Inbound deliveries: provider webhooks and action callbacks sent to
//! `{LATCHKEY_PUBLIC_URL}/webhooks/{integration_id}[/{connection_id}]`. Each is verified against
//! the integration's scheme and secret (fail closed), answered as a handshake when it is one,
//! recorded once per delivery id on every connection it routes to (or as unrouted on the
//! integration) with its body sealed, and only then acknowledged.

mod accounts;
mod deliveries;
mod record;
mod routes;
mod secrets;
mod verify;

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use latchkey_crypto::Field;
use latchkey_domain::delivery::{self, HandshakeAnswer, HandshakeStep};
use latchkey_domain::webhook_check::SignedRequest;
use latchkey_domain::{ConnectionId, IntegrationId, StreamId, connection, integration};
use latchkey_store::EventStore;
use secrecy::{ExposeSecret, SecretString};
use tokio_util::task::TaskTracker;

pub(crate) use accounts::live_connections_of_account;
pub use deliveries::{DeliveryRecord, DeliverySource};
pub use verify::Verifier;

use crate::cache::ProjectionCache;
use crate::error::AppError;
use crate::vault::Vault;

/// One request to a webhook URL, as the listener read it.
#[derive(Debug)]
pub struct InboundRequest {
    pub connection_id: Option<ConnectionId>,
    /// `GET` or `POST`.
    pub method: String,
    /// The path and query the provider called (signed by some schemes with the public URL).
    pub path_and_query: String,
    /// The URL's decoded query.
    pub query: Vec<(String, String)>,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Why a delivery is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or bad signature, stale timestamp, no secret configured (401).
    Unauthorized,
    /// Unknown integration or connection (404).
    NotFound,
    /// Neither a delivery nor a handshake the integration expects (405).
    MethodNotAllowed,
    /// Over the integration's body limit (413).
    TooLarge,
    /// Over the integration's rate (429).
    TooMany,
    /// The same delivery is being recorded by another request (409: the provider sends it again).
    InFlight,
    /// The store could not record it (503: the provider sends it again).
    Unavailable,
}

/// What the provider is answered.
#[derive(Debug)]
pub enum Reply {
    /// 200 with this body (empty: none).
    Ok {
        content_type: &'static str,
        body: String,
        /// A header the answer carries (Asana's `X-Hook-Secret` echoed).
        header: Option<(&'static str, String)>,
    },
    Refused {
        refusal: Refusal,
        reason: String,
    },
}

impl Reply {
    fn empty() -> Self {
        Self::Ok {
            content_type: "text/plain; charset=utf-8",
            body: String::new(),
            header: None,
        }
    }

    fn refused(refusal: Refusal, reason: impl Into<String>) -> Self {
        Self::Refused {
            refusal,
            reason: reason.into(),
        }
    }

    fn answer(answer: HandshakeAnswer) -> Self {
        Self::Ok {
            content_type: answer.content_type,
            body: answer.body,
            header: None,
        }
    }
}

/// Deliveries refused for their signature or for want of a secret, for the admin health page:
/// a misconfigured integration shows there, not only in a counter.
#[derive(Debug, Default)]
pub struct WebhookHealth {
    refused: std::sync::atomic::AtomicU64,
    last: Mutex<Option<(chrono::DateTime<Utc>, IntegrationId, String)>>,
}

impl WebhookHealth {
    fn refused(&self, integration: IntegrationId, reason: &str) {
        self.refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Utc::now(), integration, reason.to_owned()));
    }

    /// `{"refused": n, "last_refused": {…}, "warning": …}`: a warning while the last refusal is
    /// under fifteen minutes old.
    pub fn json(&self) -> serde_json::Value {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let recent = last
            .as_ref()
            .is_some_and(|(at, ..)| Utc::now() - *at < chrono::Duration::minutes(15));
        serde_json::json!({
            "refused": self.refused.load(std::sync::atomic::Ordering::Relaxed),
            "last_refused": last.map(|(at, integration, reason)| serde_json::json!({
                "at": at.to_rfc3339(),
                "integration_id": integration.to_string(),
                "reason": reason,
            })),
            "warning": recent.then_some(
                "webhook deliveries were refused in the last 15 minutes (bad signature or no \
                 secret configured): check the integration's webhook scheme and secret"
            ),
        })
    }
}

/// How long a delivery id is remembered.
const DEDUPE_HOURS: i64 = 72;
/// How long a claim not recorded holds off another request for the same delivery.
const CLAIM_SECONDS: i64 = 30;
/// How often this process forgets delivery ids older than the window.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

#[derive(Clone)]
pub struct Inbound {
    store: Arc<dyn EventStore>,
    vault: Arc<Vault>,
    verifier: Arc<Verifier>,
    /// The integrations (and connections) as `GetToken` reads them.
    cache: Arc<ProjectionCache>,
    /// `LATCHKEY_PUBLIC_URL` without a trailing slash: what the providers call.
    public_base: Arc<str>,
    /// Per integration: its rate and the limiter at that rate.
    limiters: Arc<Mutex<HashMap<IntegrationId, RateAt>>>,
    /// One append at a time per stream from this process, with the version it left.
    streams: Arc<record::StreamLocks>,
    /// Each provider account's live connections, while the store tells their changes.
    routes: Arc<routes::Routes>,
    purged: Arc<Mutex<Option<Instant>>>,
    /// Deliveries recorded whose mark is being stored.
    marking: Arc<Mutex<std::collections::HashSet<(IntegrationId, String)>>>,
    /// Where the marks are stored from, drained at shutdown.
    tasks: TaskTracker,
    health: Arc<WebhookHealth>,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound").finish_non_exhaustive()
    }
}

/// An integration's delivery rate and the limiter set to it.
type RateAt = (u32, Arc<DefaultDirectRateLimiter>);

/// What a request came to, for the deliveries counter.
type Outcome = &'static str;

impl Inbound {
    pub fn new(
        store: Arc<dyn EventStore>,
        vault: Arc<Vault>,
        verifier: Arc<Verifier>,
        cache: Arc<ProjectionCache>,
        tasks: TaskTracker,
        public_base: &str,
    ) -> Self {
        Self {
            routes: routes::Routes::of(store.as_ref()),
            store,
            vault,
            verifier,
            cache,
            public_base: public_base.trim_end_matches('/').into(),
            limiters: Arc::default(),
            streams: Arc::default(),
            purged: Arc::default(),
            marking: Arc::default(),
            tasks,
            health: Arc::default(),
        }
    }

    /// What the admin health page shows of deliveries.
    pub fn health(&self) -> Arc<WebhookHealth> {
        self.health.clone()
    }

    /// The live integration a webhook URL names, read before its body (whose limit it sets).
    pub async fn integration(&self, id: IntegrationId) -> Result<Arc<integration::State>, Reply> {
        match self.cache.integration(self.store.as_ref(), id).await {
            Ok(Some(state)) if !state.deleted => Ok(state),
            Ok(_) => Err(Reply::refused(Refusal::NotFound, "no such integration")),
            Err(e) => {
                tracing::warn!(error = %e, "reading an integration for a webhook failed");
                Err(Reply::refused(Refusal::Unavailable, "try again later"))
            }
        }
    }

    /// Counts a body refused for its size.
    pub fn too_large(&self, integration: &integration::State) -> Reply {
        count(integration, "too_large");
        Reply::refused(
            Refusal::TooLarge,
            format!(
                "the body is over this integration's webhook_max_body_bytes ({})",
                integration.config.webhooks.webhook_max_body_bytes
            ),
        )
    }

    /// Takes one request to the integration's webhook URL.
    pub async fn receive(
        &self,
        integration: &integration::State,
        request: InboundRequest,
    ) -> Reply {
        let started = Instant::now();
        if !self.admit(integration) {
            count(integration, "rate_limited");
            return Reply::refused(
                Refusal::TooMany,
                "over this integration's webhook rate; send it again later",
            );
        }
        let (reply, outcome) = match self.handle(integration, request).await {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(integration = %integration.id, error = %e, "a webhook delivery could not be recorded");
                (
                    Reply::refused(Refusal::Unavailable, "not recorded; send it again later"),
                    "failed",
                )
            }
        };
        count(integration, outcome);
        if let (Reply::Refused { reason, .. }, "refused_signature" | "refused_unconfigured") =
            (&reply, outcome)
        {
            self.health.refused(integration.id, reason);
        }
        if matches!(outcome, "recorded" | "unrouted") {
            crate::metrics::WEBHOOK_INGEST_SECONDS
                .with_label_values(&[integration.id.to_string().as_str()])
                .observe(started.elapsed().as_secs_f64());
        }
        self.purge_now_and_then();
        reply
    }

    fn admit(&self, integration: &integration::State) -> bool {
        let rate = integration.config.webhooks.webhook_routing.rate();
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            let entry = limiters
                .entry(integration.id)
                .or_insert_with(|| (0, limiter(1)));
            if entry.0 != rate {
                *entry = (rate, limiter(rate));
            }
            entry.1.clone()
        };
        limiter.check().is_ok()
    }

    async fn handle(
        &self,
        integration: &integration::State,
        request: InboundRequest,
    ) -> Result<(Reply, Outcome), AppError> {
        let target = match request.connection_id {
            Some(id) => match self.store.connection(id).await? {
                Some(state)
                    if state.integration_id == integration.id
                        && state.status != connection::Status::Deleted =>
                {
                    Some(state)
                }
                _ => {
                    return Ok((
                        Reply::refused(Refusal::NotFound, "no such connection"),
                        "not_found",
                    ));
                }
            },
            None => None,
        };
        let routing = &integration.config.webhooks.webhook_routing;
        let content_type = request
            .headers
            .get("content-type")
            .cloned()
            .unwrap_or_default();
        let doc = delivery::document(&content_type, &request.body);
        let step = delivery::handshake(
            routing.handshake,
            &request.method,
            &request.query,
            &request.headers,
            doc.as_ref(),
        );
        if let Some(step) = step {
            return self
                .handshake(integration, target.as_ref(), &request, doc.as_ref(), step)
                .await;
        }
        if request.method != "POST" {
            return Ok((
                Reply::refused(
                    Refusal::MethodNotAllowed,
                    "this URL takes POST deliveries (and the handshake its integration names)",
                ),
                "not_allowed",
            ));
        }
        let scheme = match self
            .verified(integration, target.as_ref(), &request, doc.as_ref())
            .await?
        {
            Ok((_, scheme)) => scheme,
            Err(refused) => return Ok(refused),
        };
        let parsed = record::Parsed::read(integration, &content_type, doc.as_ref(), &request);
        self.record(integration, target, parsed, &scheme, &request.body)
            .await
    }

    /// The secret that verified the request (the connection's own for its own URL, else the
    /// integration's) and the scheme's name; else the refusal (nothing is recorded).
    async fn verified(
        &self,
        integration: &integration::State,
        target: Option<&connection::State>,
        request: &InboundRequest,
        doc: Option<&serde_json::Value>,
    ) -> Result<Result<(SecretString, String), (Reply, Outcome)>, AppError> {
        let refused = |reason: &str| {
            Ok(Err((
                Reply::refused(Refusal::Unauthorized, reason),
                "refused_unconfigured",
            )))
        };
        let Some(scheme) = integration.config.webhooks.webhook.as_ref() else {
            return refused(
                "this integration has no webhook scheme and secret: deliveries are refused",
            );
        };
        let (secret, name) = match target.and_then(|c| c.webhook_secret.as_ref().map(|s| (c, s))) {
            Some((connection, sealed)) => {
                let owner = StreamId::Connection(connection.id);
                let secret = self
                    .vault
                    .open(&owner, Field::WebhookSecret, &sealed.sealed)
                    .await?;
                (secret, format!("connection:{}", scheme_name(scheme)))
            }
            None => match self.secret(integration).await? {
                Some(secret) => (secret, scheme_name(scheme).to_owned()),
                None => {
                    return refused(
                        "this integration has no webhook scheme and secret: deliveries are \
                         refused",
                    );
                }
            },
        };
        let url = format!("{}{}", self.public_base, request.path_and_query);
        let signed = SignedRequest {
            headers: &request.headers,
            body: &request.body,
            now_unix: Utc::now().timestamp(),
            method: &request.method,
            url: &url,
            doc,
        };
        match self.verifier.holds(scheme, &secret, &signed).await? {
            Ok(()) => Ok(Ok((secret, name))),
            Err(reason) => Ok(Err((
                Reply::refused(Refusal::Unauthorized, reason),
                "refused_signature",
            ))),
        }
    }

    async fn secret(
        &self,
        integration: &integration::State,
    ) -> Result<Option<SecretString>, AppError> {
        let (Some(_), Some(sealed)) = (
            integration.config.webhooks.webhook.as_ref(),
            integration.webhook_secret.as_ref(),
        ) else {
            return Ok(None);
        };
        let owner = StreamId::Integration(integration.id);
        Ok(Some(
            self.vault
                .open(&owner, Field::WebhookSecret, &sealed.sealed)
                .await?,
        ))
    }

    async fn handshake(
        &self,
        integration: &integration::State,
        target: Option<&connection::State>,
        request: &InboundRequest,
        doc: Option<&serde_json::Value>,
        step: HandshakeStep,
    ) -> Result<(Reply, Outcome), AppError> {
        let answer = match step {
            HandshakeStep::Unsigned(answer) => answer,
            HandshakeStep::KeepSecret { secret } => {
                return self
                    .keep_handshake_secret(integration, target, secret)
                    .await;
            }
            HandshakeStep::KeepForAdmin => return self.keep_for_admin(integration, request).await,
            HandshakeStep::TokenEcho { given, answer } => {
                let secret = self.secret(integration).await?;
                let holds = secret.as_ref().is_some_and(|secret| {
                    latchkey_crypto::same_secret(
                        given.as_bytes(),
                        secret.expose_secret().as_bytes(),
                    )
                });
                if !holds {
                    return Ok((
                        Reply::refused(Refusal::Unauthorized, "the verify token is not the secret"),
                        "refused_signature",
                    ));
                }
                answer
            }
            HandshakeStep::Signed(answer) => {
                match self.verified(integration, target, request, doc).await? {
                    Ok(_) => answer,
                    Err(refused) => return Ok(refused),
                }
            }
            HandshakeStep::ZoomValidation { plain_token } => {
                match self.verified(integration, target, request, doc).await? {
                    Ok((secret, _)) => HandshakeAnswer {
                        content_type: "application/json",
                        body: serde_json::json!({
                            "plainToken": plain_token,
                            "encryptedToken": latchkey_crypto::hmac_sha256_hex(
                                secret.expose_secret().as_bytes(),
                                plain_token.as_bytes(),
                            ),
                        })
                        .to_string(),
                    },
                    Err(refused) => return Ok(refused),
                }
            }
        };
        let event = integration::Event::WebhookHandshake {
            handshake: integration.config.webhooks.webhook_routing.handshake,
            connection_id: target.map(|c| c.id),
        };
        self.streams
            .append(
                self.store.as_ref(),
                StreamId::Integration(integration.id),
                event.into(),
                None,
            )
            .await?;
        Ok((Reply::answer(answer), "handshake"))
    }

    /// Forgets delivery ids older than the window, at most every [`PURGE_EVERY`], off the
    /// answer's path.
    fn purge_now_and_then(&self) {
        {
            let mut purged = self.purged.lock().unwrap_or_else(|p| p.into_inner());
            if purged.is_some_and(|at| at.elapsed() < PURGE_EVERY) {
                return;
            }
            *purged = Some(Instant::now());
        }
        let store = self.store.clone();
        self.tasks.spawn(async move {
            let before = Utc::now() - chrono::Duration::hours(DEDUPE_HOURS);
            if let Err(e) = store.purge_deliveries(before).await {
                tracing::warn!(error = %e, "forgetting old webhook delivery ids failed");
            }
        });
    }
}

fn limiter(rate: u32) -> Arc<DefaultDirectRateLimiter> {
    let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(Quota::per_second(rate)))
}

fn scheme_name(scheme: &latchkey_domain::webhook::WebhookScheme) -> &'static str {
    use latchkey_domain::webhook::WebhookKind;
    match scheme.kind {
        WebhookKind::HmacBody => "hmac_body",
        WebhookKind::HmacTimestamped => "hmac_timestamped",
        WebhookKind::Stripe => "stripe",
        WebhookKind::StandardWebhooks => "standard_webhooks",
        WebhookKind::HubspotV3 => "hubspot_v3",
        WebhookKind::Twilio => "twilio",
        WebhookKind::SharedToken => "shared_token",
        WebhookKind::GoogleOidc => "google_oidc",
        WebhookKind::Ed25519 => "ed25519",
    }
}

fn count(integration: &integration::State, outcome: Outcome) {
    let scheme = integration
        .config
        .webhooks
        .webhook
        .as_ref()
        .map(scheme_name)
        .unwrap_or("none");
    crate::metrics::WEBHOOK_DELIVERIES
        .with_label_values(&[integration.id.to_string().as_str(), scheme, outcome])
        .inc();
}
