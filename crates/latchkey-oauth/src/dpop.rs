//! DPoP (RFC 9449): a token bound to a key its holder proves it has, with a short JWT signed for
//! each request (`htm`, `htu`, `iat`, a unique `jti`, the server's `nonce` when it asked, and
//! `ath`, the token's hash, when a token goes with it). The key stays here: workers get proofs,
//! never the key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey as _;
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::assertion::AssertionError;

/// One connection's DPoP key (P-256, ES256). `Debug` shows its thumbprint only.
pub struct DpopKey {
    key: EncodingKey,
    jwk: Jwk,
    thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DpopKey({})", self.thumbprint)
    }
}

fn failed(what: &str) -> AssertionError {
    AssertionError(format!("the DPoP key {what}"))
}

impl DpopKey {
    /// The key a 32-byte secret seed stands for (the same seed, the same key).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, AssertionError> {
        // A seed outside the curve's scalars (about one in 2^32) is hashed again.
        let mut material = *seed;
        let secret = loop {
            match p256::SecretKey::from_slice(&material) {
                Ok(secret) => break secret,
                Err(_) => material = Sha256::digest(material).into(),
            }
        };
        let pem = secret
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .map_err(|_| failed("cannot be encoded"))?;
        let key = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|_| failed("cannot be read"))?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .map_err(|_| failed("has no public half"))?;
        jwk.common.key_algorithm = None;
        let thumbprint = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| failed("has no thumbprint"))?;
        Ok(Self {
            key,
            jwk,
            thumbprint,
        })
    }

    /// The RFC 7638 thumbprint of the public key: the `jkt` tokens are bound to.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A proof for `method` on `url` (its query and fragment left out), with the server's
    /// `nonce` and, when the proof goes with an access token, that token's hash.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
        access_token: Option<&SecretString>,
    ) -> Result<String, AssertionError> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let mut jti = [0u8; 18];
        rand::rngs::OsRng.fill_bytes(&mut jti);
        let mut claims = Map::new();
        claims.insert("jti".into(), URL_SAFE_NO_PAD.encode(jti).into());
        claims.insert("htm".into(), method.to_ascii_uppercase().into());
        claims.insert("htu".into(), htu.as_str().into());
        claims.insert("iat".into(), chrono::Utc::now().timestamp().into());
        if let Some(nonce) = nonce.filter(|n| !n.is_empty()) {
            claims.insert("nonce".into(), nonce.into());
        }
        if let Some(token) = access_token {
            let hash = Sha256::digest(token.expose_secret().as_bytes());
            claims.insert("ath".into(), URL_SAFE_NO_PAD.encode(hash).into());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".to_owned());
        header.jwk = Some(self.jwk.clone());
        jsonwebtoken::encode(&header, &Value::Object(claims), &self.key)
            .map_err(|_| failed("cannot sign"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn a_seed_gives_one_key_whose_proofs_verify_with_the_key_they_carry() {
        let key = DpopKey::from_seed(&[7u8; 32]).expect("key");
        let again = DpopKey::from_seed(&[7u8; 32]).expect("key");
        assert_eq!(key.thumbprint(), again.thumbprint());
        assert_ne!(
            key.thumbprint(),
            DpopKey::from_seed(&[8u8; 32]).expect("key").thumbprint()
        );
        let url = Url::parse("https://api.example.com/v1/items?page=2#x").expect("url");
        let token = SecretString::from("access-token-1");
        let proof = key
            .proof("get", &url, Some("n-1"), Some(&token))
            .expect("proof");
        let header = jsonwebtoken::decode_header(&proof).expect("header");
        assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
        let jwk = header.jwk.expect("jwk");
        let json = serde_json::to_value(&jwk).expect("json");
        assert!(json.get("d").is_none(), "a private part: {json}");
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Value>(
            &proof,
            &DecodingKey::from_jwk(&jwk).expect("decoding key"),
            &validation,
        )
        .expect("verified")
        .claims;
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://api.example.com/v1/items");
        assert_eq!(claims["nonce"], "n-1");
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(b"access-token-1"));
        assert_eq!(claims["ath"], ath);
        assert!(!format!("{key:?}").contains("BEGIN"));
    }
}
