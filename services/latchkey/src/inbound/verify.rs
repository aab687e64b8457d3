//! Whether a delivery's signature holds under an integration's scheme and secret: shared by the
//! public receiver and `VerifyWebhook`.

use std::collections::BTreeMap;

use latchkey_domain::webhook::WebhookScheme;
use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;

/// Bodies larger than this are hashed on the blocking pool.
const LARGE_BODY: usize = 64 * 1024;

/// `Ok(Err(why))` when the signature does not hold (or the timestamp is stale, or a header is
/// missing); `Err` only when the check itself could not run.
pub async fn signature_holds(
    scheme: &WebhookScheme,
    secret: &SecretString,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    now_unix: i64,
) -> Result<Result<(), String>, AppError> {
    let (message, signatures) = match scheme.signed_parts(headers, body, now_unix) {
        Ok(parts) => parts,
        Err(reason) => return Ok(Err(reason)),
    };
    let key = match scheme.key(secret.expose_secret()) {
        Ok(key) => key,
        // Why the secret cannot key this scheme.
        Err(reason) => return Ok(Err(reason)),
    };
    let base64 = scheme.encoding == "base64";
    let check = move || {
        latchkey_crypto::hmac_sha256_matches_any(&key, &message, &signatures, base64)
            .then_some(())
            .ok_or_else(|| "the signature does not match".to_owned())
    };
    // A large body is hashed off the async workers, which other callers share.
    if body.len() > LARGE_BODY {
        tokio::task::spawn_blocking(check)
            .await
            .map_err(|e| AppError::Internal(format!("webhook check: {e}")))
    } else {
        Ok(check())
    }
}
