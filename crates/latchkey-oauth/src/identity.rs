//! Who a connection is at the provider: the ID token's `sub`, its signature checked against the
//! provider's JWKS (OpenID Connect Core §3.1.3.7: issuer, audience, expiry), or a JSON pointer
//! into an endpoint's answer (userinfo, or a provider's own "who am I").

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{OAuthError, ProviderClient};

/// Signature algorithms accepted on ID tokens: asymmetric only, so a key from the JWKS can never be
/// used as an HMAC secret.
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 60;

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

fn refused(reason: impl Into<String>) -> OAuthError {
    OAuthError::InvalidIdToken {
        reason: reason.into(),
    }
}

/// Checks an ID token against a key set: an accepted algorithm, a key of the set (by `kid` when
/// the token names one), the signature, `iss` (with or without a trailing slash), `aud` holding
/// `client_id`, `exp` and `nbf`. Answers the `sub`. Errors never hold the token.
pub fn verify_id_token(
    id_token: &SecretString,
    keys: &JwkSet,
    issuer: &str,
    client_id: &str,
) -> Result<String, OAuthError> {
    let claims: Claims = verify_jwt(
        id_token.expose_secret(),
        keys,
        issuer,
        client_id,
        "ID token",
    )?;
    if claims.sub.is_empty() {
        return Err(refused("the ID token's sub is empty"));
    }
    Ok(claims.sub)
}

/// A pushed JWT (Google Pub/Sub push, any OIDC-signed webhook) checked as [`verify_id_token`]
/// checks an ID token, `audience` in place of the client id; answers its claims.
pub fn verify_push_token(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    audience: &str,
) -> Result<Value, OAuthError> {
    verify_jwt(token, keys, issuer, audience, "push token")
}

fn verify_jwt<C: serde::de::DeserializeOwned>(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    audience: &str,
    what: &str,
) -> Result<C, OAuthError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| refused(format!("the {what} is not a JWT ({e})")))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(refused(format!(
            "the {what} is signed with {:?}, not an asymmetric algorithm",
            header.alg
        )));
    }
    let candidates: Vec<&Jwk> = match &header.kid {
        Some(kid) => keys.find(kid).into_iter().collect(),
        None => keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(refused(format!(
            "no key of the provider's JWKS has the {what}'s kid {:?}",
            header.kid.unwrap_or_default()
        )));
    }
    let trimmed = issuer.trim_end_matches('/');
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[trimmed.to_owned(), format!("{trimmed}/")]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    let mut last = refused(format!(
        "the {what}'s signature matches no key of the provider's JWKS"
    ));
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        match jsonwebtoken::decode::<C>(token, &key, &validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind;
                let reason = match e.kind() {
                    ErrorKind::InvalidSignature => {
                        format!("the {what}'s signature matches no key of the provider's JWKS")
                    }
                    ErrorKind::InvalidIssuer => {
                        format!("the {what}'s iss is not the integration's issuer {issuer}")
                    }
                    ErrorKind::InvalidAudience if what == "ID token" => {
                        "the ID token's aud does not name the integration's client_id".to_owned()
                    }
                    ErrorKind::InvalidAudience => {
                        format!("the {what}'s aud is not the integration's audience")
                    }
                    ErrorKind::ExpiredSignature => format!("the {what} has expired"),
                    ErrorKind::ImmatureSignature => format!("the {what} is not valid yet"),
                    ErrorKind::MissingRequiredClaim(claim) => {
                        format!("the {what} has no {claim}")
                    }
                    other => format!("the {what} was refused ({other:?})"),
                };
                last = refused(reason);
                // Only a signature mismatch is worth trying the next key for.
                if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                    return Err(last);
                }
            }
        }
    }
    Err(last)
}

/// The value at `pointer` (RFC 6901) of a JSON document, as text: a string as is, a number
/// written out. Anything else is `None`.
pub fn account_at(json: &Value, pointer: &str) -> Option<String> {
    match json.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ProviderClient {
    /// Fetches the provider's JWKS and checks the ID token against it ([`verify_id_token`]).
    #[tracing::instrument(name = "provider.jwks", skip_all, fields(host = jwks_url.host_str().unwrap_or_default()))]
    pub async fn id_token_subject(
        &self,
        id_token: &SecretString,
        jwks_url: &Url,
        issuer: &str,
        client_id: &str,
    ) -> Result<String, OAuthError> {
        let response = self.get(jwks_url).await?;
        if !(200..300).contains(&response.status) {
            return Err(OAuthError::InvalidResponse {
                status: response.status,
                reason: "the JWKS endpoint did not answer 2xx".to_owned(),
            });
        }
        let keys: JwkSet =
            serde_json::from_slice(&response.body).map_err(|e| OAuthError::InvalidResponse {
                status: response.status,
                reason: format!("the JWKS is not a key set: {e}"),
            })?;
        verify_id_token(id_token, &keys, issuer, client_id)
    }

    /// Calls an endpoint (`GET` or `POST`) with the access token, placed as the integration
    /// places it, and reads the provider account id at `pointer` of its JSON answer.
    #[tracing::instrument(name = "provider.account", skip_all, fields(host = url.host_str().unwrap_or_default()))]
    pub async fn account_from_endpoint(
        &self,
        (method, url): (&str, &Url),
        placement: &latchkey_domain::TokenPlacement,
        access_token: &SecretString,
        pointer: &str,
    ) -> Result<String, OAuthError> {
        let response = self
            .call_with_token(method, url, placement, access_token)
            .await?;
        if !(200..300).contains(&response.status) {
            return Err(OAuthError::InvalidResponse {
                status: response.status,
                reason: "the account endpoint did not answer 2xx".to_owned(),
            });
        }
        let json: Value =
            serde_json::from_slice(&response.body).map_err(|_| OAuthError::InvalidResponse {
                status: response.status,
                reason: "the account endpoint's answer is not JSON".to_owned(),
            })?;
        account_at(&json, pointer).ok_or_else(|| OAuthError::InvalidResponse {
            status: response.status,
            reason: format!("the account endpoint's answer has no string or number at {pointer}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use p256::pkcs8::EncodePrivateKey;
    use serde_json::json;

    struct Signer {
        key: EncodingKey,
        jwk: Jwk,
    }

    fn signer(kid: &str) -> Signer {
        let secret = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let der = secret.to_pkcs8_der().expect("pkcs8");
        let key = EncodingKey::from_ec_der(der.as_bytes());
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).expect("jwk");
        jwk.common.key_id = Some(kid.to_owned());
        Signer { key, jwk }
    }

    fn token(signer: &Signer, kid: &str, claims: Value) -> SecretString {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        SecretString::from(jsonwebtoken::encode(&header, &claims, &signer.key).expect("sign"))
    }

    fn claims(iss: &str, aud: &str, exp_in: i64) -> Value {
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(0);
        json!({ "iss": iss, "aud": aud, "sub": "user-42", "iat": now, "exp": now + exp_in })
    }

    const ISS: &str = "https://id.example.com";

    #[test]
    fn a_good_id_token_answers_its_sub_and_every_bad_one_is_refused_with_the_reason() {
        let good = signer("k1");
        let other = signer("k1");
        let keys = JwkSet {
            keys: vec![good.jwk.clone()],
        };
        let ok = token(&good, "k1", claims(ISS, "client", 300));
        assert_eq!(
            verify_id_token(&ok, &keys, "https://id.example.com/", "client").expect("valid"),
            "user-42"
        );
        let cases = [
            (token(&other, "k1", claims(ISS, "client", 300)), "signature"),
            (
                token(&good, "k1", claims("https://evil.example", "client", 300)),
                "iss",
            ),
            (token(&good, "k1", claims(ISS, "someone-else", 300)), "aud"),
            (token(&good, "k1", claims(ISS, "client", -3600)), "expired"),
            (token(&good, "k2", claims(ISS, "client", 300)), "kid"),
            (SecretString::from("not-a-jwt".to_owned()), "not a JWT"),
        ];
        for (token, reason) in cases {
            let error = verify_id_token(&token, &keys, ISS, "client")
                .expect_err(reason)
                .to_string();
            assert!(error.contains(reason), "{reason}: {error}");
            assert!(!error.contains(token.expose_secret()), "{error}");
        }
    }

    #[test]
    fn an_hmac_signed_id_token_is_refused_even_when_it_names_a_known_kid() {
        let good = signer("k1");
        let keys = JwkSet {
            keys: vec![good.jwk.clone()],
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".to_owned());
        let forged = jsonwebtoken::encode(
            &header,
            &claims(ISS, "client", 300),
            &EncodingKey::from_secret(b"guess"),
        )
        .expect("sign");
        let error = verify_id_token(&SecretString::from(forged), &keys, ISS, "client")
            .expect_err("HS256 refused")
            .to_string();
        assert!(error.contains("asymmetric"), "{error}");
    }

    #[test]
    fn the_account_is_read_at_the_pointer_as_text() {
        let body = json!({ "sub": "abc", "team": { "id": 7 }, "empty": "", "list": [1] });
        assert_eq!(account_at(&body, "/sub").as_deref(), Some("abc"));
        assert_eq!(account_at(&body, "/team/id").as_deref(), Some("7"));
        assert_eq!(account_at(&body, "/empty"), None);
        assert_eq!(account_at(&body, "/list"), None);
        assert_eq!(account_at(&body, "/missing"), None);
    }

    mod hostile {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

            /// Any ID token text against any key set a provider could publish: refused with a
            /// reason or read, never a panic, and the reason never holds the token.
            #[test]
            fn any_id_token_and_key_set_give_a_reason_never_a_panic(
                token in prop_oneof![".{0,200}", "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,40}"],
                keys in prop_oneof![
                    Just(serde_json::json!({"keys": []})),
                    Just(serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]})),
                    Just(serde_json::json!({"keys": [{"kty": "RSA", "n": "", "e": "AQAB", "kid": "k"}]})),
                ],
            ) {
                let Ok(keys) = serde_json::from_value::<JwkSet>(keys) else { return Ok(()) };
                let secret = SecretString::from(format!("{token}canary"));
                match verify_id_token(&secret, &keys, "https://issuer.example", "client") {
                    Ok(sub) => prop_assert!(!sub.is_empty()),
                    Err(e) => prop_assert!(!e.to_string().contains("canary"), "{e}"),
                }
            }

            /// Any JSON answer (userinfo, an account endpoint) at any pointer: a value or none.
            #[test]
            fn any_answer_at_any_pointer_is_read_or_none(
                answer in prop_oneof![
                    Just(serde_json::json!(null)),
                    ".{0,20}".prop_map(|s| serde_json::json!(s)),
                    any::<f64>().prop_map(|n| serde_json::json!(n)),
                    proptest::collection::hash_map(".{0,6}", ".{0,6}", 0..4).prop_map(|m| serde_json::json!(m)),
                    proptest::collection::vec(any::<i64>(), 0..4).prop_map(|v| serde_json::json!({"id": v})),
                ],
                pointer in ".{0,12}",
            ) {
                if let Some(value) = account_at(&answer, &pointer) {
                    prop_assert!(!value.is_empty());
                }
            }
        }
    }
}
