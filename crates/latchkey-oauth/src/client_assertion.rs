//! `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core §9): instead of a
//! shared secret, the client signs a short-lived JWT for each request with its private key, and
//! the authorization server checks it against the client's public key (registered, or fetched
//! from Latchkey's `/.well-known/jwks.json`).

use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use secrecy::SecretString;

use crate::assertion::{AssertionClaims, AssertionError, AssertionKey};

/// A client's signing key and who its assertions are addressed to. `Debug` never shows the key.
#[derive(Debug)]
pub struct ClientAssertionKey {
    key: AssertionKey,
    audience: String,
}

impl ClientAssertionKey {
    /// The key from PEM, its key id the RFC 7638 thumbprint of its public half (so a provider
    /// reading Latchkey's JWKS finds it), addressed to `audience`.
    pub fn from_pem(
        pem: &SecretString,
        algorithm: &str,
        audience: &str,
    ) -> Result<Self, AssertionError> {
        let unnamed = AssertionKey::from_pem(pem, algorithm, None)?;
        let key_id = unnamed.thumbprint()?;
        Ok(Self {
            key: AssertionKey::from_pem(pem, algorithm, Some(&key_id))?,
            audience: audience.to_owned(),
        })
    }

    /// A fresh assertion for `client_id`: `iss` = `sub` = the client id, this key's `aud`, a
    /// 60-second lifetime and a unique `jti`.
    pub fn sign(&self, client_id: &str) -> Result<SecretString, AssertionError> {
        self.key.sign(
            &AssertionClaims {
                issuer: client_id,
                subject: Some(client_id),
                audience: &self.audience,
                scope: None,
                extra: None,
            },
            chrono::Utc::now().timestamp(),
        )
    }

    /// The public key as a JWK (`kid`, `alg`, `use: sig`), to publish.
    pub fn public_jwk(&self) -> Result<Jwk, AssertionError> {
        self.key.public_jwk()
    }
}

impl AssertionKey {
    /// The public half of this key as a JWK, with its key id, algorithm and `use: sig`.
    pub fn public_jwk(&self) -> Result<Jwk, AssertionError> {
        let mut jwk = Jwk::from_encoding_key(self.encoding_key(), self.algorithm())
            .map_err(|_| AssertionError("the public key cannot be derived".into()))?;
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_id = self.key_id().map(str::to_owned);
        Ok(jwk)
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key.
    pub fn thumbprint(&self) -> Result<String, AssertionError> {
        self.public_jwk()?
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| AssertionError("the key's thumbprint cannot be computed".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};
    use secrecy::ExposeSecret as _;

    const EC_KEY: &str = include_str!("../../../tests/blackbox/fixtures/service-account-ec.pem");

    #[test]
    fn an_assertion_verifies_with_the_published_key_and_names_it() {
        let key = ClientAssertionKey::from_pem(
            &SecretString::from(EC_KEY),
            "ES256",
            "https://as.example.com",
        )
        .expect("key");
        let jwk = key.public_jwk().expect("jwk");
        let json = serde_json::to_value(&jwk).expect("json");
        assert_eq!(json["kty"], "EC");
        assert_eq!(json["use"], "sig");
        assert!(json.get("d").is_none(), "no private part: {json}");
        let signed = key.sign("client-1").expect("signed");
        let header = jsonwebtoken::decode_header(signed.expose_secret()).expect("header");
        assert_eq!(header.kid, jwk.common.key_id);
        let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&["https://as.example.com"]);
        validation.set_issuer(&["client-1"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            signed.expose_secret(),
            &DecodingKey::from_jwk(&jwk).expect("decoding key"),
            &validation,
        )
        .expect("verified")
        .claims;
        assert_eq!(claims["sub"], "client-1");
        assert!(claims["exp"].as_i64() <= claims["iat"].as_i64().map(|iat| iat + 60));
        assert_ne!(
            claims["jti"],
            jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(
                key.sign("client-1").expect("again").expose_secret()
            )
            .expect("decoded")
            .claims["jti"]
        );
    }
}
