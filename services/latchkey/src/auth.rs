//! Caller authentication: API keys (`authorization: Bearer lk_<id>_<secret>`), stored only as a
//! hash of the secret, each scoped to admin or to one tenant. With authentication off (`none`,
//! allowed only on a loopback gRPC address) every caller is an anonymous admin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use latchkey_domain::TenantId;
use latchkey_store::{ApiKeyRecord, EventStore};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tonic::{Request, Status};

use crate::callers::{Caller, Scope};
use crate::config::AuthMode;

/// How long a looked-up key is trusted before it is read again (a revocation takes effect within
/// this time on every replica).
const CACHE_TTL: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Authenticator {
    mode: AuthMode,
    store: Arc<dyn EventStore>,
    cache: Mutex<HashMap<String, (Option<ApiKeyRecord>, Instant)>>,
}

fn hash(secret: &str) -> String {
    latchkey_crypto::sha256_hex(secret.as_bytes())
}

/// A new key: the full key (shown once) and its record (what is stored).
pub fn generate(name: &str, tenant: Option<TenantId>) -> (SecretString, ApiKeyRecord) {
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
    };
    (SecretString::from(format!("lk_{id}_{secret}")), record)
}

fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("lk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && !secret.is_empty()).then_some((id, secret))
}

impl Authenticator {
    pub fn new(mode: AuthMode, store: Arc<dyn EventStore>) -> Self {
        Self {
            mode,
            store,
            cache: Mutex::new(HashMap::new()),
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

    /// Who is calling. The trace id of a W3C `traceparent` header becomes the correlation id.
    pub async fn caller<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let correlation_id = request
            .metadata()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::telemetry::trace_id)
            .or_else(crate::telemetry::current_trace_id);
        match self.mode {
            AuthMode::None => {
                return Ok(Caller {
                    actor: "anonymous".to_owned(),
                    correlation_id,
                    scope: Scope::Admin,
                });
            }
            AuthMode::Mtls => {
                // The handshake already checked the chain; name the caller by its certificate.
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
                let digest = latchkey_crypto::sha256_hex(first.as_ref());
                return Ok(Caller {
                    actor: format!("cert:{}", &digest[..16]),
                    correlation_id,
                    scope: Scope::Admin,
                });
            }
            AuthMode::ApiKeys => {}
        }
        let unauthenticated =
            || Status::unauthenticated("send a valid API key as `authorization: Bearer <key>`");
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthenticated)?;
        let key = SecretString::from(
            header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .ok_or_else(unauthenticated)?
                .trim()
                .to_owned(),
        );
        let (id, secret) = parse(key.expose_secret()).ok_or_else(unauthenticated)?;
        let record = self.record(id).await?.ok_or_else(unauthenticated)?;
        // Hashes of 256-bit random secrets: comparing them leaks nothing usable.
        if record.revoked_at.is_some() || record.secret_hash != hash(secret) {
            return Err(unauthenticated());
        }
        Ok(Caller {
            actor: format!("key:{}", record.id),
            correlation_id,
            scope: match record.tenant {
                Some(tenant) => Scope::Tenant(tenant),
                None => Scope::Admin,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_shown_once_and_stored_as_hashes() {
        let (key, record) = generate("ci", None);
        let (id, secret) = parse(key.expose_secret()).unwrap();
        assert_eq!(id, record.id);
        assert_eq!(record.secret_hash, hash(secret));
        assert!(!record.secret_hash.contains(secret));
        assert!(parse("lk_short_x").is_none());
        assert!(parse("Bearer x").is_none());
    }
}
