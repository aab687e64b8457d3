//! What checking a delivery takes, per kind of scheme: the HMAC's message and the signatures
//! offered, the shared tokens, the Ed25519 signature, or the pushed JWT. Pure: the caller holds
//! the secret and the keys.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::FieldViolation;
use crate::delivery;
use crate::webhook::{WebhookKind, WebhookScheme};

/// The request as the provider sent it.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// Lower-case names.
    pub headers: &'a BTreeMap<String, String>,
    pub body: &'a [u8],
    pub now_unix: i64,
    /// `POST`, `GET`.
    pub method: &'a str,
    /// The public URL the provider called, with its query.
    pub url: &'a str,
    /// The body as a document (JSON, or a form's fields).
    pub doc: Option<&'a Value>,
}

/// What must hold for the delivery to be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// One of `signatures` (hex or base64 text) is the HMAC of `message` under the secret.
    Hmac {
        message: Vec<u8>,
        signatures: Vec<String>,
        sha1: bool,
        base64: bool,
    },
    /// Standard Webhooks: `v1` HMACs of `message` and `v1a` Ed25519 signatures of it (base64);
    /// which count depends on the secret (`whpk_<base64>`: an Ed25519 public key, else the
    /// `whsec_` HMAC key).
    StandardWebhooks {
        message: Vec<u8>,
        v1: Vec<String>,
        v1a: Vec<String>,
    },
    /// Every value is the secret (at least one).
    SharedToken { values: Vec<String> },
    /// `signature` (hex) is the Ed25519 signature of `message` under the public key (the
    /// secret, hex).
    Ed25519 { message: Vec<u8>, signature: String },
    /// The bearer JWT verifies against the scheme's key set, issuer and audience, and names the
    /// secret as its `email`.
    Jwt { token: String },
}

impl WebhookScheme {
    /// The checks of the kinds beyond the body HMACs, at creation.
    pub(crate) fn check_more(&self, field: &str) -> Result<(), FieldViolation> {
        let bad =
            |name: &str, reason: &str| Err(FieldViolation::new(format!("{field}.{name}"), reason));
        if !matches!(self.algorithm.as_str(), "" | "sha256" | "sha1") {
            return bad("algorithm", "must be sha256 (or empty) or sha1");
        }
        match self.kind {
            WebhookKind::HubspotV3 | WebhookKind::Ed25519 if self.timestamp_header.is_empty() => {
                bad("timestamp_header", "is required for this kind")
            }
            WebhookKind::HubspotV3 | WebhookKind::Twilio if self.encoding != "base64" => {
                bad("encoding", "must be base64 for this kind")
            }
            WebhookKind::SharedToken => match delivery::check_sources(&self.token_from) {
                Ok(()) if !self.token_from.is_empty() => Ok(()),
                Ok(()) => bad("token_from", "is required: where the shared token is"),
                Err(why) => bad("token_from", &why),
            },
            WebhookKind::GoogleOidc
                if !self.jwks_url.is_empty()
                    && !self.jwks_url.starts_with("https://")
                    && !self.jwks_url.starts_with("http://") =>
            {
                bad("jwks_url", "must be an http(s) URL")
            }
            _ => Ok(()),
        }
    }

    /// What must hold for this request to be taken, or why it cannot be.
    pub fn check_request(&self, request: &SignedRequest<'_>) -> Result<Check, String> {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .map(String::as_str)
                .ok_or_else(|| format!("the {name} header is missing"))
        };
        let sha1 = self.algorithm == "sha1" || self.kind == WebhookKind::Twilio;
        let base64 = self.encoding == "base64";
        match self.kind {
            WebhookKind::StandardWebhooks => {
                let (message, v1) =
                    self.signed_parts(request.headers, request.body, request.now_unix)?;
                Ok(Check::StandardWebhooks {
                    message,
                    v1,
                    v1a: self.standard_v1a(request.headers),
                })
            }
            WebhookKind::HmacBody | WebhookKind::HmacTimestamped | WebhookKind::Stripe => {
                let (message, signatures) =
                    self.signed_parts(request.headers, request.body, request.now_unix)?;
                Ok(Check::Hmac {
                    message,
                    signatures,
                    sha1,
                    base64,
                })
            }
            WebhookKind::HubspotV3 => {
                let timestamp = header(&self.timestamp_header)?;
                let millis: i64 = timestamp
                    .trim()
                    .parse()
                    .map_err(|_| "the timestamp is not a number".to_owned())?;
                let age = request.now_unix - millis / 1000;
                if age.unsigned_abs() > u64::from(self.tolerance_secs) {
                    return Err(format!(
                        "the timestamp is outside the {}s tolerance (a replay?)",
                        self.tolerance_secs
                    ));
                }
                let mut message = format!("{}{}", request.method, request.url).into_bytes();
                message.extend_from_slice(request.body);
                message.extend_from_slice(timestamp.trim().as_bytes());
                Ok(Check::Hmac {
                    message,
                    signatures: vec![header(&self.signature_header)?.to_owned()],
                    sha1,
                    base64,
                })
            }
            WebhookKind::Twilio => {
                let mut message = request.url.to_owned();
                if delivery::is_form(request.headers.get("content-type").map_or("", |v| v)) {
                    let mut params: Vec<(String, String)> =
                        url::form_urlencoded::parse(request.body)
                            .into_owned()
                            .collect();
                    params.sort();
                    params.dedup();
                    for (name, value) in params {
                        message.push_str(&name);
                        message.push_str(&value);
                    }
                }
                Ok(Check::Hmac {
                    message: message.into_bytes(),
                    signatures: vec![header(&self.signature_header)?.to_owned()],
                    sha1: true,
                    base64: true,
                })
            }
            WebhookKind::SharedToken => {
                let values = delivery::read_all(&self.token_from, request.doc, request.headers);
                if values.is_empty() {
                    return Err(format!("no shared token at {}", self.token_from));
                }
                Ok(Check::SharedToken { values })
            }
            WebhookKind::Ed25519 => {
                let timestamp = header(&self.timestamp_header)?;
                if self.tolerance_secs > 0 {
                    let ts: i64 = timestamp
                        .trim()
                        .parse()
                        .map_err(|_| "the timestamp is not a number".to_owned())?;
                    if (request.now_unix - ts).unsigned_abs() > u64::from(self.tolerance_secs) {
                        return Err(format!(
                            "the timestamp is outside the {}s tolerance (a replay?)",
                            self.tolerance_secs
                        ));
                    }
                }
                let mut message = timestamp.as_bytes().to_vec();
                message.extend_from_slice(request.body);
                Ok(Check::Ed25519 {
                    message,
                    signature: header(&self.signature_header)?.trim().to_owned(),
                })
            }
            WebhookKind::GoogleOidc => {
                let authorization = header("authorization")?;
                let token = authorization
                    .strip_prefix("Bearer ")
                    .or_else(|| authorization.strip_prefix("bearer "))
                    .ok_or("the authorization header is not a bearer token")?;
                Ok(Check::Jwt {
                    token: token.trim().to_owned(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(
        headers: &'a BTreeMap<String, String>,
        body: &'a [u8],
        url: &'a str,
    ) -> SignedRequest<'a> {
        SignedRequest {
            headers,
            body,
            now_unix: 1_700_000_000,
            method: "POST",
            url,
            doc: None,
        }
    }

    #[test]
    fn hubspot_v3_signs_the_method_url_body_and_millisecond_timestamp() {
        let scheme = WebhookScheme {
            kind: WebhookKind::HubspotV3,
            signature_header: "x-hubspot-signature-v3".to_owned(),
            encoding: "base64".to_owned(),
            timestamp_header: "x-hubspot-request-timestamp".to_owned(),
            tolerance_secs: 300,
            ..WebhookScheme::github()
        }
        .check("webhook")
        .unwrap();
        let headers = BTreeMap::from([
            ("x-hubspot-signature-v3".to_owned(), "c2ln".to_owned()),
            (
                "x-hubspot-request-timestamp".to_owned(),
                "1700000000123".to_owned(),
            ),
        ]);
        let check = scheme
            .check_request(&request(&headers, b"[]", "https://h.example/webhooks/1"))
            .unwrap();
        let Check::Hmac { message, sha1, .. } = check else {
            panic!("{check:?}")
        };
        assert_eq!(message, b"POSThttps://h.example/webhooks/1[]1700000000123");
        assert!(!sha1);
        let stale = BTreeMap::from([
            ("x-hubspot-signature-v3".to_owned(), "c2ln".to_owned()),
            (
                "x-hubspot-request-timestamp".to_owned(),
                "1699999000000".to_owned(),
            ),
        ]);
        let refused = scheme.check_request(&request(&stale, b"[]", "https://h.example/"));
        assert!(refused.unwrap_err().contains("tolerance"));
    }

    #[test]
    fn twilio_signs_the_url_and_the_sorted_form_parameters_with_sha1() {
        let scheme = WebhookScheme {
            kind: WebhookKind::Twilio,
            signature_header: "x-twilio-signature".to_owned(),
            encoding: "base64".to_owned(),
            ..WebhookScheme::github()
        }
        .check("webhook")
        .unwrap();
        let headers = BTreeMap::from([
            ("x-twilio-signature".to_owned(), "c2ln".to_owned()),
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ]);
        let check = scheme
            .check_request(&request(
                &headers,
                b"To=%2B1&From=%2B2&Body=hi",
                "https://h.example/sms?x=1",
            ))
            .unwrap();
        assert_eq!(
            check,
            Check::Hmac {
                message: b"https://h.example/sms?x=1Bodyhi From+2To+1"
                    .iter()
                    .filter(|b| **b != b' ')
                    .copied()
                    .collect(),
                signatures: vec!["c2ln".to_owned()],
                sha1: true,
                base64: true,
            }
        );
    }

    #[test]
    fn shared_tokens_are_read_from_every_notification() {
        let scheme = WebhookScheme {
            kind: WebhookKind::SharedToken,
            signature_header: String::new(),
            token_from: "/value/*/clientState".to_owned(),
            ..WebhookScheme::github()
        }
        .check("webhook")
        .unwrap();
        let doc = serde_json::json!({"value": [{"clientState": "a"}, {"clientState": "b"}]});
        let headers = BTreeMap::new();
        let mut req = request(&headers, b"", "https://h.example/");
        req.doc = Some(&doc);
        assert_eq!(
            scheme.check_request(&req).unwrap(),
            Check::SharedToken {
                values: vec!["a".to_owned(), "b".to_owned()]
            }
        );
        let without = WebhookScheme {
            token_from: String::new(),
            ..scheme
        };
        assert!(without.check("webhook").is_err());
    }
}
