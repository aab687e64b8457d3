//! Webhook signature schemes: enough for GitHub-, Slack- and Stripe-style signatures. Pure: the
//! caller passes the secret (opened from its sealed form), the headers, the body and the time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FieldViolation;

/// The most `v1=` signatures a Stripe-style header may carry.
pub const MAX_SIGNATURES: usize = 8;

/// How a provider signs its webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// HMAC-SHA256 over the body (GitHub: `X-Hub-Signature-256: sha256=<hex>`).
    HmacBody,
    /// HMAC-SHA256 over `<template>` with `{timestamp}` and `{body}` filled from a timestamp
    /// header (Slack: `v0:{timestamp}:{body}`, `X-Slack-Signature: v0=<hex>`).
    HmacTimestamped,
    /// Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=…]` over `{timestamp}.{body}`.
    Stripe,
    /// Standard Webhooks (standardwebhooks.com; Svix and those built on it): `webhook-signature:
    /// v1,<base64> [v1,<base64> …]` over `{id}.{timestamp}.{body}`, the id and timestamp from the
    /// headers named like the signature's (`webhook-id`, `webhook-timestamp`; `svix-…`), keyed
    /// with the base64 secret after `whsec_`.
    StandardWebhooks,
    /// HubSpot v3: base64 HMAC-SHA256 of `{method}{url}{body}{timestamp}` (the public URL the
    /// provider called; the timestamp in milliseconds, within the tolerance).
    HubspotV3,
    /// Twilio: base64 HMAC-SHA1 of the public URL followed by each form parameter's name and
    /// value, sorted by name.
    Twilio,
    /// A shared token echoed in each delivery (Microsoft Graph `clientState` in every
    /// notification, Google channels' `X-Goog-Channel-Token`), read at `token_from`; every
    /// value must be the secret.
    SharedToken,
    /// Google Pub/Sub push (and any OIDC-signed push): a bearer JWT in `Authorization`, checked
    /// against `jwks_url` for issuer, `audience`, expiry and signature; its `email` claim must
    /// be the webhook secret (the push service account).
    GoogleOidc,
    /// Ed25519 (Discord): the hex signature in `signature_header` over the timestamp header's
    /// value followed by the body, under the public key (hex) given as the webhook secret.
    Ed25519,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookScheme {
    pub kind: WebhookKind,
    /// Lower-case header name carrying the signature.
    pub signature_header: String,
    /// Text before the signature in its header (`sha256=`, `v0=`).
    pub prefix: String,
    /// `hex` or `base64`.
    pub encoding: String,
    /// Lower-case header name carrying the timestamp (timestamped kinds).
    pub timestamp_header: String,
    /// What is signed, for the timestamped kind.
    pub template: String,
    /// Older (or future) timestamps than this are refused as replays.
    pub tolerance_secs: u32,
    /// RFC 6901 pointer to the provider account id in the JSON body, for routing.
    pub account_pointer: String,
    /// The HMAC's hash: `sha256` (empty) or `sha1` (GitHub's legacy `X-Hub-Signature`,
    /// Twilio).
    #[serde(default)]
    pub algorithm: String,
    /// Where a shared token is read (a source, as routing reads them): `SharedToken` kind.
    #[serde(default)]
    pub token_from: String,
    /// The audience a pushed JWT must name: `GoogleOidc` kind; empty: the URL the provider
    /// called, without its query (Pub/Sub's default audience is the push endpoint).
    #[serde(default)]
    pub audience: String,
    /// The key set pushed JWTs are checked with; empty: Google's.
    #[serde(default)]
    pub jwks_url: String,
}

/// Google's OAuth 2.0 signing keys, which sign Pub/Sub push tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The issuer of Google-signed push tokens.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

impl WebhookScheme {
    pub fn github() -> Self {
        Self {
            kind: WebhookKind::HmacBody,
            signature_header: "x-hub-signature-256".to_owned(),
            prefix: "sha256=".to_owned(),
            encoding: "hex".to_owned(),
            timestamp_header: String::new(),
            template: String::new(),
            tolerance_secs: 0,
            account_pointer: String::new(),
            algorithm: String::new(),
            token_from: String::new(),
            audience: String::new(),
            jwks_url: String::new(),
        }
    }

    pub fn slack() -> Self {
        Self {
            kind: WebhookKind::HmacTimestamped,
            signature_header: "x-slack-signature".to_owned(),
            prefix: "v0=".to_owned(),
            encoding: "hex".to_owned(),
            timestamp_header: "x-slack-request-timestamp".to_owned(),
            template: "v0:{timestamp}:{body}".to_owned(),
            tolerance_secs: 300,
            account_pointer: "/team_id".to_owned(),
            algorithm: String::new(),
            token_from: String::new(),
            audience: String::new(),
            jwks_url: String::new(),
        }
    }

    pub fn check(self, field: &str) -> Result<Self, FieldViolation> {
        let header_ok = |h: &str| {
            !h.is_empty()
                && h.len() <= 64
                && h.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let signed_in_header = !matches!(
            self.kind,
            WebhookKind::SharedToken | WebhookKind::GoogleOidc
        );
        if signed_in_header && !header_ok(&self.signature_header) {
            return Err(FieldViolation::new(
                format!("{field}.signature_header"),
                "must be a lower-case header name",
            ));
        }
        if signed_in_header && !matches!(self.encoding.as_str(), "hex" | "base64") {
            return Err(FieldViolation::new(
                format!("{field}.encoding"),
                "must be hex or base64",
            ));
        }
        if self.kind == WebhookKind::HmacTimestamped {
            if !header_ok(&self.timestamp_header) {
                return Err(FieldViolation::new(
                    format!("{field}.timestamp_header"),
                    "is required for timestamped signatures",
                ));
            }
            if !self.template.contains("{body}") || !self.template.contains("{timestamp}") {
                return Err(FieldViolation::new(
                    format!("{field}.template"),
                    "must contain {timestamp} and {body}",
                ));
            }
        }
        if self.kind == WebhookKind::StandardWebhooks
            && (!self.signature_header.ends_with("-signature")
                || !header_ok(&self.timestamp_header))
        {
            return Err(FieldViolation::new(
                format!("{field}.signature_header"),
                "must be <name>-signature (the id comes from <name>-id) with a timestamp_header, \
                 for Standard Webhooks",
            ));
        }
        if self.kind == WebhookKind::StandardWebhooks && self.encoding != "base64" {
            return Err(FieldViolation::new(
                format!("{field}.encoding"),
                "must be base64 for Standard Webhooks",
            ));
        }
        self.check_more(field)?;
        let timestamped = matches!(
            self.kind,
            WebhookKind::HmacTimestamped
                | WebhookKind::Stripe
                | WebhookKind::StandardWebhooks
                | WebhookKind::HubspotV3
        );
        if timestamped && self.tolerance_secs == 0 {
            return Err(FieldViolation::new(
                format!("{field}.tolerance_secs"),
                "must be set for timestamped signatures",
            ));
        }
        if !self.account_pointer.is_empty() && !self.account_pointer.starts_with('/') {
            return Err(FieldViolation::new(
                format!("{field}.account_pointer"),
                "must be a JSON pointer such as /team_id",
            ));
        }
        Ok(self)
    }

    /// What to sign and the signatures offered, or why the request cannot be checked.
    /// `headers` keys are lower-case.
    pub fn signed_parts(
        &self,
        headers: &BTreeMap<String, String>,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(Vec<u8>, Vec<String>), String> {
        let header = |name: &str| {
            headers
                .get(name)
                .map(String::as_str)
                .ok_or_else(|| format!("the {name} header is missing"))
        };
        let fresh = |timestamp: &str| -> Result<(), String> {
            let ts: i64 = timestamp
                .trim()
                .parse()
                .map_err(|_| "the timestamp is not a number".to_owned())?;
            if (now_unix - ts).unsigned_abs() > u64::from(self.tolerance_secs) {
                return Err(format!(
                    "the timestamp is outside the {}s tolerance (a replay?)",
                    self.tolerance_secs
                ));
            }
            Ok(())
        };
        match self.kind {
            WebhookKind::HmacBody => {
                let signature = header(&self.signature_header)?;
                let signature = signature
                    .strip_prefix(self.prefix.as_str())
                    .ok_or_else(|| {
                        format!("the signature does not start with {:?}", self.prefix)
                    })?;
                Ok((body.to_vec(), vec![signature.to_owned()]))
            }
            WebhookKind::HmacTimestamped => {
                let timestamp = header(&self.timestamp_header)?;
                fresh(timestamp)?;
                let signature = header(&self.signature_header)?;
                let signature = signature
                    .strip_prefix(self.prefix.as_str())
                    .ok_or_else(|| {
                        format!("the signature does not start with {:?}", self.prefix)
                    })?;
                let (before, after) = self
                    .template
                    .split_once("{body}")
                    .unwrap_or((self.template.as_str(), ""));
                let mut signed = before.replace("{timestamp}", timestamp).into_bytes();
                signed.extend_from_slice(body);
                signed.extend_from_slice(after.replace("{timestamp}", timestamp).as_bytes());
                Ok((signed, vec![signature.to_owned()]))
            }
            WebhookKind::Stripe => {
                let value = header(&self.signature_header)?;
                let mut timestamp = None;
                let mut signatures = Vec::new();
                for part in value.split(',') {
                    match part.trim().split_once('=') {
                        Some(("t", t)) => timestamp = Some(t.to_owned()),
                        Some(("v1", s)) => {
                            // Stripe sends one per active secret (two while rolling one):
                            // more is an attack on the verifier's time, refused at once.
                            if signatures.len() == MAX_SIGNATURES {
                                return Err(format!(
                                    "the signature header carries more than {MAX_SIGNATURES} \
                                     signatures"
                                ));
                            }
                            signatures.push(s.to_owned());
                        }
                        _ => {}
                    }
                }
                let timestamp = timestamp.ok_or("the signature has no t=")?;
                fresh(&timestamp)?;
                let mut signed = format!("{timestamp}.").into_bytes();
                signed.extend_from_slice(body);
                Ok((signed, signatures))
            }
            WebhookKind::HubspotV3
            | WebhookKind::Twilio
            | WebhookKind::SharedToken
            | WebhookKind::GoogleOidc
            | WebhookKind::Ed25519 => {
                Err("this kind signs more than the headers and body: see check_request".to_owned())
            }
            WebhookKind::StandardWebhooks => {
                let id_header = self
                    .signature_header
                    .strip_suffix("-signature")
                    .map(|name| format!("{name}-id"))
                    .unwrap_or_default();
                let id = header(&id_header)?;
                let timestamp = header(&self.timestamp_header)?;
                fresh(timestamp)?;
                // Space-separated `<version>,<signature>`: `v1` (HMAC-SHA256) here, `v1a`
                // (Ed25519) through `check_request`.
                let (signatures, asymmetric) =
                    standard_signatures(header(&self.signature_header)?)?;
                if signatures.is_empty() && asymmetric.is_empty() {
                    return Err("the signature header has no v1 or v1a signature".to_owned());
                }
                let mut signed = format!("{id}.{timestamp}.").into_bytes();
                signed.extend_from_slice(body);
                Ok((signed, signatures))
            }
        }
    }

    /// Standard Webhooks' `v1a` (Ed25519) signatures of the request, at most [`MAX_SIGNATURES`].
    pub fn standard_v1a(&self, headers: &BTreeMap<String, String>) -> Vec<String> {
        headers
            .get(&self.signature_header)
            .and_then(|value| standard_signatures(value).ok())
            .map(|(_, asymmetric)| asymmetric)
            .unwrap_or_default()
    }

    /// The HMAC key from the webhook secret: its bytes, or for Standard Webhooks the base64 after
    /// `whsec_` (the prefix is optional, as in the reference libraries).
    pub fn key(&self, secret: &str) -> Result<Vec<u8>, String> {
        use base64::Engine;
        match self.kind {
            WebhookKind::StandardWebhooks => base64::engine::general_purpose::STANDARD
                .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
                .map_err(|_| {
                    "the webhook secret is not a Standard Webhooks secret (whsec_ and base64)"
                        .to_owned()
                }),
            _ => Ok(secret.as_bytes().to_vec()),
        }
    }
}

/// A Standard Webhooks signature header's `v1` and `v1a` signatures; more than
/// [`MAX_SIGNATURES`] in all is refused before any is checked.
fn standard_signatures(value: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut symmetric, mut asymmetric) = (Vec::new(), Vec::new());
    for entry in value.split_whitespace() {
        let (asymmetric_one, signature) = match entry.split_once(',') {
            Some(("v1", signature)) => (false, signature),
            Some(("v1a", signature)) => (true, signature),
            _ => continue,
        };
        if symmetric.len() + asymmetric.len() == MAX_SIGNATURES {
            return Err(format!(
                "the signature header carries more than {MAX_SIGNATURES} signatures"
            ));
        }
        if asymmetric_one {
            asymmetric.push(signature.to_owned());
        } else {
            symmetric.push(signature.to_owned());
        }
    }
    Ok((symmetric, asymmetric))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard() -> WebhookScheme {
        WebhookScheme {
            kind: WebhookKind::StandardWebhooks,
            signature_header: "webhook-signature".to_owned(),
            prefix: String::new(),
            encoding: "base64".to_owned(),
            timestamp_header: "webhook-timestamp".to_owned(),
            template: String::new(),
            tolerance_secs: 300,
            account_pointer: String::new(),
            ..WebhookScheme::github()
        }
    }

    /// The Standard Webhooks specification's published vector: what is signed, and the key.
    #[test]
    fn standard_webhooks_signs_id_timestamp_and_body_with_the_decoded_secret() {
        let scheme = standard().check("webhook").unwrap();
        let headers = BTreeMap::from([
            (
                "webhook-id".to_owned(),
                "msg_p5jXN8AQM9LWM0D4loKWxJek".to_owned(),
            ),
            ("webhook-timestamp".to_owned(), "1614265330".to_owned()),
            (
                "webhook-signature".to_owned(),
                "v1a,ignored v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned(),
            ),
        ]);
        let body = br#"{"test": 2432232314}"#;
        let (message, signatures) = scheme.signed_parts(&headers, body, 1614265330).unwrap();
        assert_eq!(
            message,
            br#"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}"#
        );
        assert_eq!(signatures, ["g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="]);
        let key = scheme
            .key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        assert_eq!(key, scheme.key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        assert_eq!(key.len(), 24);
        assert!(scheme.key("whsec_not base64!").is_err());
        let stale = scheme.signed_parts(&headers, body, 1614265330 + 301);
        assert!(stale.unwrap_err().contains("tolerance"));
    }

    fn stripe() -> WebhookScheme {
        WebhookScheme {
            kind: WebhookKind::Stripe,
            signature_header: "stripe-signature".to_owned(),
            prefix: String::new(),
            encoding: "hex".to_owned(),
            timestamp_header: String::new(),
            template: String::new(),
            tolerance_secs: 300,
            account_pointer: String::new(),
            ..WebhookScheme::github()
        }
    }

    #[test]
    fn a_stripe_header_with_thousands_of_signatures_is_refused_before_any_is_checked() {
        let mut value = "t=1000".to_owned();
        for i in 0..30_000 {
            value.push_str(&format!(",v1={i:064x}"));
        }
        let headers = BTreeMap::from([("stripe-signature".to_owned(), value)]);
        let refused = stripe().signed_parts(&headers, b"{}", 1000).unwrap_err();
        assert_eq!(
            refused,
            format!("the signature header carries more than {MAX_SIGNATURES} signatures")
        );
        // Stripe's own two (a secret being rolled) are fine.
        let two = BTreeMap::from([(
            "stripe-signature".to_owned(),
            format!("t=1000,v1={:064x},v1={:064x}", 1, 2),
        )]);
        let (message, signatures) = stripe().signed_parts(&two, b"{}", 1000).unwrap();
        assert_eq!(message, b"1000.{}");
        assert_eq!(signatures.len(), 2);
    }
}
