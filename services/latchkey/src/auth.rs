//! Caller authentication: API keys (`authorization: Bearer lk_<id>_<secret>`), stored only as a
//! hash of the secret, each scoped to admin or to one tenant. With authentication off (`none`,
//! allowed only on a loopback gRPC address) every caller is an anonymous admin.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use latchkey_domain::TenantId;
use latchkey_store::{ApiKeyRecord, ApiKeys};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tonic::{Request, Status};

use crate::callers::{Caller, Role, Scope};
use crate::config::AuthMode;

/// How long a looked-up key is trusted before it is read again (a revocation takes effect within
/// this time on every replica).
const CACHE_TTL: Duration = Duration::from_secs(1);

/// Failed authentications a client address may make per second (and in a burst) with one key id
/// (or with no well-formed key at all) before such requests are refused without a lookup, for a
/// second at a time. Counted per (address, key id), so failures from an address never lock out
/// another key used from it (behind NAT, a mesh or a proxy, every worker shares one address).
const FAILURES_PER_SECOND: u32 = 10;
const FAILURE_BURST: u32 = 20;

#[derive(Debug)]
pub struct Authenticator {
    mode: AuthMode,
    store: Arc<dyn ApiKeys>,
    cache: Mutex<HashMap<String, (Option<ApiKeyRecord>, Instant)>>,
    /// Requests per caller (`LATCHKEY_CALLER_RATE`); `None`: no limit.
    per_caller: Option<DefaultKeyedRateLimiter<String>>,
    /// Failed authentications per (client address, key id).
    failures: DefaultKeyedRateLimiter<Attempt>,
    /// Those that spent their failures, and until when they are refused unread.
    blocked: Mutex<HashMap<Attempt, Instant>>,
}

/// Who failed: a client address, and the id of the well-formed key it sent (`None`: no key, or
/// one of another shape).
type Attempt = (IpAddr, Option<String>);

/// `RESOURCE_EXHAUSTED` with its reason and when to try again.
fn exhausted(message: &str, retry_after: Duration) -> Status {
    crate::error::AppError::explained(crate::error::ErrorKind::Exhausted, "RATE_LIMITED", message)
        .retry_at(Some(
            Utc::now() + chrono::Duration::from_std(retry_after).unwrap_or_default(),
        ))
        .into()
}

fn hash(secret: &str) -> String {
    latchkey_crypto::sha256_hex(secret.as_bytes())
}

/// A new key: the full key (shown once) and its record (what is stored).
pub fn generate(
    name: &str,
    tenant: Option<TenantId>,
    role: Role,
    expires_at: Option<chrono::DateTime<Utc>>,
) -> (SecretString, ApiKeyRecord) {
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let record = ApiKeyRecord {
        id: id.clone(),
        name: name.to_owned(),
        tenant,
        secret_hash: hash(&secret),
        created_at: Utc::now(),
        revoked_at: None,
        role: role.as_str().to_owned(),
        expires_at,
    };
    (SecretString::from(format!("lk_{id}_{secret}")), record)
}

/// `lk_<12 hex>_<43 base64url>`, as [`generate`] makes them: anything else is refused before any
/// lookup.
fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("lk_")?;
    let (id, secret) = rest.split_at_checked(12)?;
    let secret = secret.strip_prefix('_')?;
    let id_ok = id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some((id, secret))
}

impl Authenticator {
    /// `per_caller`: requests per second each caller may make (`LATCHKEY_CALLER_RATE`).
    pub fn new(mode: AuthMode, store: Arc<dyn ApiKeys>, per_caller: Option<NonZeroU32>) -> Self {
        let burst = NonZeroU32::new(FAILURE_BURST).unwrap_or(NonZeroU32::MIN);
        let failures = NonZeroU32::new(FAILURES_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        Self {
            mode,
            store,
            cache: Mutex::new(HashMap::new()),
            per_caller: per_caller.map(|rate| RateLimiter::keyed(Quota::per_second(rate))),
            failures: RateLimiter::keyed(Quota::per_second(failures).allow_burst(burst)),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this attempt (address and key id) spent its failed authentications: refused
    /// without reading anything.
    fn refused_unread(&self, attempt: Option<&Attempt>) -> bool {
        let Some(attempt) = attempt else {
            return false;
        };
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        match blocked.get(attempt) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                blocked.remove(attempt);
                false
            }
            None => false,
        }
    }

    /// Counts a failed authentication of this attempt; past its budget it is blocked a second.
    fn failed(&self, attempt: Option<&Attempt>) {
        let Some(attempt) = attempt else {
            return;
        };
        if self.failures.check_key(attempt).is_err() {
            let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
            if blocked.len() > 100_000 {
                blocked.retain(|_, until| *until > Instant::now());
            }
            blocked.insert(attempt.clone(), Instant::now() + Duration::from_secs(1));
        }
        if self.failures.len() > 100_000 {
            self.failures.retain_recent();
        }
    }

    /// The caller's share of `LATCHKEY_CALLER_RATE`.
    fn within_rate(&self, caller: Caller) -> Result<Caller, Status> {
        let Some(limiter) = &self.per_caller else {
            return Ok(caller);
        };
        match limiter.check_key(&caller.actor) {
            Ok(()) => Ok(caller),
            Err(not_until) => Err(exhausted(
                "this caller is over LATCHKEY_CALLER_RATE; slow down",
                not_until.wait_time_from(DefaultClock::default().now()),
            )),
        }
    }

    async fn record(&self, id: &str) -> Result<Option<ApiKeyRecord>, Status> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((record, at)) = cache.get(id)
                && at.elapsed() < CACHE_TTL
            {
                return Ok(record.clone());
            }
        }
        let record = self.store.api_key(id).await.map_err(|e| {
            tracing::error!(error = %e, "reading an API key failed");
            Status::unavailable("cannot check the API key now")
        })?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(id.to_owned(), (record.clone(), Instant::now()));
        Ok(record)
    }

    /// Who is calling, if their role allows what they ask (`needs`). The trace id of a W3C
    /// `traceparent` header becomes the correlation id.
    pub async fn caller<T>(&self, request: &Request<T>, needs: Role) -> Result<Caller, Status> {
        let correlation_id = request
            .metadata()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::telemetry::trace_id)
            .or_else(crate::telemetry::current_trace_id);
        match self.mode {
            AuthMode::None => {
                return self.within_rate(Caller {
                    actor: "anonymous".to_owned(),
                    correlation_id,
                    scope: Scope::Admin,
                });
            }
            AuthMode::Mtls => {
                // The handshake already checked the chain; the certificate names the caller, and
                // a SAN URI its scope and role.
                let certs = request.peer_certs().ok_or_else(|| {
                    Status::unauthenticated(
                        "present a client certificate signed by the configured CA",
                    )
                })?;
                let first = certs.first().ok_or_else(|| {
                    Status::unauthenticated(
                        "present a client certificate signed by the configured CA",
                    )
                })?;
                let (scope, role) = certificate_role(first.as_ref()).ok_or_else(|| {
                    Status::unauthenticated(
                        "the client certificate names no Latchkey role: give it a SAN URI \
                         urn:latchkey:all:<role> or urn:latchkey:tenant:<tenant>:<role> \
                         (role reader, manager or admin)",
                    )
                })?;
                let digest = latchkey_crypto::sha256_hex(first.as_ref());
                let actor = format!("cert:{}", &digest[..16]);
                if role < needs {
                    return Err(Status::permission_denied(format!(
                        "certificate {actor} has the {} role; this call needs {}",
                        role.as_str(),
                        needs.as_str()
                    )));
                }
                return self.within_rate(Caller {
                    actor,
                    correlation_id,
                    scope,
                });
            }
            AuthMode::ApiKeys => {}
        }
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let key = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(|k| SecretString::from(k.trim().to_owned()));
        let parsed = key.as_ref().and_then(|k| parse(k.expose_secret()));
        let attempt = request
            .remote_addr()
            .map(|a| (a.ip(), parsed.map(|(id, _)| id.to_owned())));
        if self.refused_unread(attempt.as_ref()) {
            return Err(exhausted(
                "too many failed authentications from this address with this key; wait a second",
                Duration::from_secs(1),
            ));
        }
        let unauthenticated = || {
            self.failed(attempt.as_ref());
            Status::unauthenticated("send a valid API key as `authorization: Bearer <key>`")
        };
        let (id, secret) = parsed.ok_or_else(unauthenticated)?;
        let record = self.record(id).await?.ok_or_else(unauthenticated)?;
        // Hashes of 256-bit random secrets: comparing them leaks nothing usable.
        if record.revoked_at.is_some() || record.secret_hash != hash(secret) {
            return Err(unauthenticated());
        }
        if record.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(Status::unauthenticated(format!(
                "API key {} expired; create another with `latchkey apikeys create`",
                record.id
            )));
        }
        // A role this build does not know allows nothing more than reading.
        let role = Role::parse(&record.role).unwrap_or(Role::Reader);
        if role < needs {
            return Err(Status::permission_denied(format!(
                "API key {} has the {} role; this call needs {}",
                record.id,
                role.as_str(),
                needs.as_str()
            )));
        }
        self.within_rate(Caller {
            actor: format!("key:{}", record.id),
            correlation_id,
            scope: match record.tenant {
                Some(tenant) => Scope::Tenant(tenant),
                None => Scope::Admin,
            },
        })
    }
}

/// The scope and role a client certificate's SAN URI gives: `urn:latchkey:all:<role>` (every
/// tenant) or `urn:latchkey:tenant:<tenant>:<role>`.
fn certificate_role(der: &[u8]) -> Option<(Scope, Role)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let names = cert.subject_alternative_name().ok()??;
    names
        .value
        .general_names
        .iter()
        .find_map(|name| match name {
            x509_parser::extensions::GeneralName::URI(uri) => role_from_uri(uri),
            _ => None,
        })
}

fn role_from_uri(uri: &str) -> Option<(Scope, Role)> {
    let rest = uri.strip_prefix("urn:latchkey:")?;
    match rest.split(':').collect::<Vec<_>>().as_slice() {
        ["all", role] => Some((Scope::Admin, Role::parse(role)?)),
        ["tenant", tenant, role] => Some((
            Scope::Tenant(TenantId::parse(tenant).ok()?),
            Role::parse(role)?,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificates_uri_names_its_scope_and_role() {
        assert_eq!(
            role_from_uri("urn:latchkey:all:admin"),
            Some((Scope::Admin, Role::Admin))
        );
        assert_eq!(
            role_from_uri("urn:latchkey:tenant:acme:reader"),
            Some((
                Scope::Tenant(TenantId::parse("acme").unwrap()),
                Role::Reader
            ))
        );
        for other in [
            "urn:latchkey:all:root",
            "urn:latchkey:tenant:acme",
            "urn:latchkey:tenant:a b:reader",
            "https://latchkey/all/admin",
            "urn:latchkey:all:admin:extra",
        ] {
            assert_eq!(role_from_uri(other), None, "{other}");
        }
    }

    #[test]
    fn keys_are_shown_once_and_stored_as_hashes() {
        let (key, record) = generate("ci", None, Role::Admin, None);
        let (id, secret) = parse(key.expose_secret()).unwrap();
        assert_eq!(id, record.id);
        assert_eq!(record.secret_hash, hash(secret));
        assert!(!record.secret_hash.contains(secret));
        assert!(parse("lk_short_x").is_none());
        assert!(parse("Bearer x").is_none());
        // Only the exact shape reaches a lookup.
        let text = key.expose_secret();
        assert!(parse(&text.to_uppercase()).is_none());
        assert!(parse(&format!("{text}x")).is_none());
        assert!(parse(&text.replace('_', "-")).is_none());
    }
}
