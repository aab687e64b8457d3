//! RFC 7523 §2.1: a JWT a service account signs and trades for a token (Google service accounts,
//! Salesforce, DocuSign, Box). Signed anew for each token request, short-lived, with a unique
//! `jti`; the key never leaves this process and no error names it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};

/// How long an assertion is good for: Box takes at most 60 seconds, Salesforce 3 minutes,
/// Google and DocuSign an hour.
pub const ASSERTION_LIFETIME_SECS: i64 = 60;

/// The algorithms a service account's key may sign with.
pub const ASSERTION_ALGORITHMS: [&str; 3] = ["RS256", "PS256", "ES256"];

/// What an assertion says, besides its times and `jti`.
#[derive(Debug, Clone)]
pub struct AssertionClaims<'a> {
    pub issuer: &'a str,
    pub subject: Option<&'a str>,
    pub audience: &'a str,
    /// The scopes as the provider reads them in the assertion (`scope`), if any.
    pub scope: Option<&'a str>,
    /// Further claims (a JSON object); they never replace the standard ones above.
    pub extra: Option<&'a Map<String, Value>>,
}

/// Why a key cannot sign (the key itself is never in the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AssertionError(pub String);

/// A service account's private key, read from PEM (PKCS#8, or PKCS#1 for RSA) for `algorithm`.
pub struct AssertionKey {
    key: EncodingKey,
    algorithm: Algorithm,
    key_id: Option<String>,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl AssertionKey {
    pub fn from_pem(
        pem: &SecretString,
        algorithm: &str,
        key_id: Option<&str>,
    ) -> Result<Self, AssertionError> {
        let (algorithm, key) = match algorithm {
            "RS256" => (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()),
            ),
            "PS256" => (
                Algorithm::PS256,
                EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()),
            ),
            "ES256" => (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(pem.expose_secret().as_bytes()),
            ),
            other => {
                return Err(AssertionError(format!(
                    "algorithm {other:?} is not one of {}",
                    ASSERTION_ALGORITHMS.join(", ")
                )));
            }
        };
        let key = key.map_err(|e| {
            AssertionError(format!(
                "the key is not a PEM private key for {algorithm:?}: {}",
                e.kind_name()
            ))
        })?;
        let key = Self {
            key,
            algorithm,
            key_id: key_id.filter(|k| !k.is_empty()).map(str::to_owned),
        };
        // A key that reads but cannot sign (an RSA key for ES256) is refused here, not at the
        // provider.
        key.sign(
            &AssertionClaims {
                issuer: "check",
                subject: None,
                audience: "check",
                scope: None,
                extra: None,
            },
            0,
        )?;
        Ok(key)
    }

    /// An assertion for `claims`, issued at `now` (Unix seconds).
    pub fn sign(
        &self,
        claims: &AssertionClaims<'_>,
        now: i64,
    ) -> Result<SecretString, AssertionError> {
        let mut body = Map::new();
        if let Some(extra) = claims.extra {
            body.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        body.insert("iss".into(), claims.issuer.into());
        if let Some(subject) = claims.subject {
            body.insert("sub".into(), subject.into());
        }
        body.insert("aud".into(), claims.audience.into());
        if let Some(scope) = claims.scope {
            body.insert("scope".into(), scope.into());
        }
        body.insert("iat".into(), now.into());
        body.insert("exp".into(), (now + ASSERTION_LIFETIME_SECS).into());
        body.insert("jti".into(), jti().into());
        let mut header = Header::new(self.algorithm);
        header.kid.clone_from(&self.key_id);
        jsonwebtoken::encode(&header, &Value::Object(body), &self.key)
            .map(SecretString::from)
            .map_err(|e| AssertionError(format!("signing the assertion failed: {}", e.kind_name())))
    }
}

impl AssertionKey {
    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.key
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }
}

/// A unique id for one assertion (providers refuse one seen before).
fn jti() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What a Google service account key file says (the fields Latchkey reads).
#[derive(Debug)]
pub struct ServiceAccountFile {
    pub private_key: SecretString,
    pub private_key_id: Option<String>,
    pub client_email: String,
    pub token_uri: Option<String>,
}

impl ServiceAccountFile {
    /// The file's JSON, when `text` is one (`"type": "service_account"`); `None` for anything else
    /// (a PEM key).
    pub fn parse(text: &SecretString) -> Result<Option<Self>, AssertionError> {
        let trimmed = text.expose_secret().trim_start();
        if !trimmed.starts_with('{') {
            return Ok(None);
        }
        let value: Value = serde_json::from_str(trimmed).map_err(|_| {
            AssertionError("the key is neither PEM nor a service account JSON file".into())
        })?;
        let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        if field("type").as_deref() != Some("service_account") {
            return Err(AssertionError(
                "the JSON key file is not a service account's (\"type\": \"service_account\")"
                    .into(),
            ));
        }
        let private_key = field("private_key")
            .ok_or_else(|| AssertionError("the service account file has no private_key".into()))?;
        let client_email = field("client_email")
            .ok_or_else(|| AssertionError("the service account file has no client_email".into()))?;
        Ok(Some(Self {
            private_key: SecretString::from(private_key),
            private_key_id: field("private_key_id"),
            client_email,
            token_uri: field("token_uri"),
        }))
    }
}

/// `e`'s kind without its details (which for a key error may quote the input).
trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for jsonwebtoken::errors::Error {
    fn kind_name(&self) -> String {
        use jsonwebtoken::errors::ErrorKind;
        match self.kind() {
            ErrorKind::InvalidKeyFormat => "invalid key format".into(),
            ErrorKind::InvalidRsaKey(_) => "invalid RSA key".into(),
            ErrorKind::InvalidEcdsaKey => "invalid ECDSA key".into(),
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm => "the key does not fit the algorithm".into(),
            ErrorKind::RsaFailedSigning | ErrorKind::Signing(_) => "the key cannot sign".into(),
            _ => "unreadable key".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_pem_is_refused_without_being_quoted() {
        let canary = SecretString::from("canary-not-a-key-7f3a");
        let error = AssertionKey::from_pem(&canary, "RS256", None).expect_err("refused");
        assert!(!error.0.contains("canary"), "{error}");
        let error = AssertionKey::from_pem(&canary, "HS256", None).expect_err("refused");
        assert!(error.0.contains("RS256"), "{error}");
    }

    #[test]
    fn a_service_account_file_is_read_and_anything_else_is_named() {
        let file = SecretString::from(
            serde_json::json!({
                "type": "service_account",
                "private_key": "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n",
                "private_key_id": "k1",
                "client_email": "bot@project.iam.gserviceaccount.com",
                "token_uri": "https://oauth2.googleapis.com/token",
            })
            .to_string(),
        );
        let read = ServiceAccountFile::parse(&file)
            .expect("read")
            .expect("a file");
        assert_eq!(read.client_email, "bot@project.iam.gserviceaccount.com");
        assert_eq!(read.private_key_id.as_deref(), Some("k1"));
        assert!(
            ServiceAccountFile::parse(&SecretString::from("-----BEGIN"))
                .expect("pem")
                .is_none()
        );
        let other = SecretString::from(r#"{"type":"authorized_user"}"#);
        assert!(ServiceAccountFile::parse(&other).is_err());
    }
}
