//! Whether a delivery holds under an integration's scheme and secret: shared by the public
//! receiver and `VerifyWebhook`. HMACs of large bodies run off the async workers; pushed JWTs
//! are checked against key sets fetched (and kept for a while) with the provider client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey_domain::webhook::{GOOGLE_ISSUER, GOOGLE_JWKS_URL, WebhookScheme};
use latchkey_domain::webhook_check::{Check, SignedRequest};
use latchkey_oauth::{JwkSet, ProviderClient};
use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;

/// Bodies larger than this are hashed on the blocking pool.
const LARGE_BODY: usize = 64 * 1024;
/// How long a fetched key set is used before it is fetched again.
const KEYS_KEPT: Duration = Duration::from_secs(600);
/// A token naming a key the kept set lacks fetches the set again, at most this often.
const KEYS_REFETCH: Duration = Duration::from_secs(30);

/// Checks deliveries; holds the key sets pushed JWTs are checked with.
#[derive(Debug)]
pub struct Verifier {
    provider: ProviderClient,
    keys: Mutex<HashMap<String, (Instant, Arc<JwkSet>)>>,
}

impl Verifier {
    pub fn new(provider: ProviderClient) -> Self {
        Self {
            provider,
            keys: Mutex::default(),
        }
    }

    /// `Ok(Err(why))` when the delivery does not hold (bad or missing signature, stale
    /// timestamp, wrong token); `Err` only when the check itself could not run.
    pub async fn holds(
        &self,
        scheme: &WebhookScheme,
        secret: &SecretString,
        request: &SignedRequest<'_>,
    ) -> Result<Result<(), String>, AppError> {
        let check = match scheme.check_request(request) {
            Ok(check) => check,
            Err(reason) => return Ok(Err(reason)),
        };
        self.check(scheme, secret, check, request).await
    }

    async fn check(
        &self,
        scheme: &WebhookScheme,
        secret: &SecretString,
        check: Check,
        request: &SignedRequest<'_>,
    ) -> Result<Result<(), String>, AppError> {
        match check {
            Check::Hmac {
                message,
                signatures,
                sha1,
                base64,
            } => hmac_holds(scheme, secret, message, signatures, (sha1, base64)).await,
            Check::StandardWebhooks { message, v1, v1a } => {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::STANDARD;
                let Some(public) = secret.expose_secret().strip_prefix("whpk_") else {
                    if v1.is_empty() {
                        return Ok(Err("the signature header has no v1 signature".to_owned()));
                    }
                    return hmac_holds(scheme, secret, message, v1, (false, true)).await;
                };
                let Ok(public) = b64.decode(public) else {
                    return Ok(Err(
                        "the webhook secret is not a Standard Webhooks public key (whpk_ and \
                         base64)"
                            .to_owned(),
                    ));
                };
                let verified = v1a.iter().any(|signature| {
                    b64.decode(signature.trim()).is_ok_and(|signature| {
                        latchkey_crypto::ed25519_verifies_bytes(&public, &message, &signature)
                    })
                });
                Ok(verified
                    .then_some(())
                    .ok_or_else(|| "no v1a signature matches the public key".to_owned()))
            }
            Check::SharedToken { values } => {
                let expected = secret.expose_secret().as_bytes();
                let all = values
                    .iter()
                    .all(|value| latchkey_crypto::same_secret(value.as_bytes(), expected));
                Ok(all
                    .then_some(())
                    .ok_or_else(|| "the shared token is not the secret".to_owned()))
            }
            Check::Ed25519 { message, signature } => {
                let verified =
                    latchkey_crypto::ed25519_verifies(secret.expose_secret(), &message, &signature);
                Ok(verified
                    .then_some(())
                    .ok_or_else(|| "the signature does not match".to_owned()))
            }
            Check::Jwt { token } => {
                let audience = if scheme.audience.is_empty() {
                    request.url.split('?').next().unwrap_or_default()
                } else {
                    scheme.audience.as_str()
                };
                self.jwt_holds(scheme, secret, &token, audience).await
            }
        }
    }

    async fn jwt_holds(
        &self,
        scheme: &WebhookScheme,
        secret: &SecretString,
        token: &str,
        audience: &str,
    ) -> Result<Result<(), String>, AppError> {
        let url = if scheme.jwks_url.is_empty() {
            GOOGLE_JWKS_URL
        } else {
            scheme.jwks_url.as_str()
        };
        let mut keys = self.keys(url, false).await?;
        let kid = jsonwebtoken_kid(token);
        if kid.as_deref().is_some_and(|kid| keys.find(kid).is_none()) {
            // A rotated key: fetch the set again (not more often than KEYS_REFETCH).
            keys = self.keys(url, true).await?;
        }
        let claims = match latchkey_oauth::verify_push_token(token, &keys, GOOGLE_ISSUER, audience)
        {
            Ok(claims) => claims,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let email = claims
            .get("email")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let verified = claims
            .get("email_verified")
            .is_none_or(|v| v.as_bool() == Some(true));
        if verified
            && latchkey_crypto::same_secret(email.as_bytes(), secret.expose_secret().as_bytes())
        {
            Ok(Ok(()))
        } else {
            Ok(Err(
                "the push token's email is not the integration's service account".to_owned(),
            ))
        }
    }

    async fn keys(&self, url: &str, again: bool) -> Result<Arc<JwkSet>, AppError> {
        {
            let kept = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, keys)) = kept.get(url) {
                let fresh = if again {
                    at.elapsed() < KEYS_REFETCH
                } else {
                    at.elapsed() < KEYS_KEPT
                };
                if fresh {
                    return Ok(keys.clone());
                }
            }
        }
        let parsed = url::Url::parse(url)
            .map_err(|e| AppError::FailedPrecondition(format!("the jwks_url is not a URL: {e}")))?;
        let response = self
            .provider
            .get(&parsed)
            .await
            .map_err(|e| AppError::Unavailable(format!("fetching the webhook key set: {e}")))?;
        if !(200..300).contains(&response.status) {
            return Err(AppError::Unavailable(format!(
                "the webhook key set answered {}",
                response.status
            )));
        }
        let keys: JwkSet = serde_json::from_slice(&response.body).map_err(|e| {
            AppError::Unavailable(format!("the webhook key set is not a JWKS: {e}"))
        })?;
        let keys = Arc::new(keys);
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(url.to_owned(), (Instant::now(), keys.clone()));
        Ok(keys)
    }
}

/// Whether one of `signatures` is the HMAC (SHA-1 or SHA-256; hex or base64) of `message` under
/// the scheme's key from `secret`; a large message is hashed on the blocking pool.
async fn hmac_holds(
    scheme: &WebhookScheme,
    secret: &SecretString,
    message: Vec<u8>,
    signatures: Vec<String>,
    (sha1, base64): (bool, bool),
) -> Result<Result<(), String>, AppError> {
    let key = match scheme.key(secret.expose_secret()) {
        Ok(key) => key,
        // Why the secret cannot key this scheme.
        Err(reason) => return Ok(Err(reason)),
    };
    let large = message.len() > LARGE_BODY;
    let check = move || {
        let matches = if sha1 {
            latchkey_crypto::hmac_sha1_matches_any(&key, &message, &signatures, base64)
        } else {
            latchkey_crypto::hmac_sha256_matches_any(&key, &message, &signatures, base64)
        };
        matches
            .then_some(())
            .ok_or_else(|| "the signature does not match".to_owned())
    };
    // A large body is hashed off the async workers, which other callers share.
    if large {
        tokio::task::spawn_blocking(check)
            .await
            .map_err(|e| AppError::Internal(format!("webhook check: {e}")))
    } else {
        Ok(check())
    }
}

/// The `kid` a JWT's header names, if it parses.
fn jsonwebtoken_kid(token: &str) -> Option<String> {
    use base64::Engine as _;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json.get("kid")?.as_str().map(str::to_owned)
}
