//! `ConnectServiceAccount`'s request, checked: the key must read and sign with its algorithm
//! (a Google service account file gives the key, its id, the issuer and the audience), the
//! standard claims are Latchkey's own.

use latchkey_domain::{ConnectionId, FieldViolation, IntegrationId, TenantId, ValidationErrors};
use latchkey_oauth::{ASSERTION_ALGORITHMS, AssertionKey, ServiceAccountFile};
use latchkey_proto::v1 as pb;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};

use super::convert;
use super::import::pb_to_json;
use super::requests::connection_params;
use crate::connections::service_account::ServiceAccountRequest;

/// A key (PEM or key file) larger than this is refused.
const MAX_KEY_BYTES: usize = 16 * 1024;
/// Claims Latchkey sets in every assertion; `extra_claims` may not name them.
const RESERVED_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "iat", "exp", "jti", "nbf"];

/// An optional text field: empty means "not given"; longer than 1,024 characters is refused.
fn text(value: String, field: &str, errors: &mut ValidationErrors) -> Option<String> {
    if value.len() > 1024 {
        errors.push(FieldViolation::new(
            field,
            "must be at most 1024 characters",
        ));
    }
    (!value.is_empty()).then_some(value)
}

impl TryFrom<pb::ConnectServiceAccountRequest> for ServiceAccountRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::ConnectServiceAccountRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let connection_id = if req.connection_id.is_empty() {
            None
        } else {
            errors.check(ConnectionId::parse_field(
                &req.connection_id,
                "connection_id",
            ))
        };
        let scopes = super::requests::scopes(&req.scopes, &mut errors);
        let mut key_id = text(req.key_id, "key_id", &mut errors);
        let mut issuer = text(req.issuer, "issuer", &mut errors);
        let subject = text(req.subject, "subject", &mut errors);
        let mut audience = text(req.audience, "audience", &mut errors);
        let algorithm = if req.algorithm.is_empty() {
            "RS256".to_owned()
        } else {
            req.algorithm
        };
        if !ASSERTION_ALGORITHMS.contains(&algorithm.as_str()) {
            errors.push(FieldViolation::new(
                "algorithm",
                format!("must be one of {}", ASSERTION_ALGORITHMS.join(", ")),
            ));
        }
        let given = SecretString::from(req.key);
        let key = read_key(&given, &mut errors).map(|(pem, file)| {
            if let Some(file) = file {
                // The file's own values, unless the request names others.
                key_id = key_id.take().or(file.private_key_id);
                issuer = issuer.take().or(Some(file.client_email));
                audience = audience.take().or(file.token_uri);
            }
            pem
        });
        if let Some(pem) = &key
            && ASSERTION_ALGORITHMS.contains(&algorithm.as_str())
            && let Err(e) = AssertionKey::from_pem(pem, &algorithm, key_id.as_deref())
        {
            errors.push(FieldViolation::new("key", e.0));
        }
        if issuer.is_none() {
            errors.push(FieldViolation::new(
                "issuer",
                "must be set (the client id or service account), unless the key is a service account file",
            ));
        }
        let extra_claims = extra_claims(req.extra_claims, &mut errors);
        let profile = convert::profile(req.profile, &mut errors);
        match (integration_id, tenant, key, issuer) {
            (Some(integration_id), Some(tenant), Some(key), Some(issuer)) if errors.is_empty() => {
                Ok(Self {
                    integration_id,
                    tenant,
                    key,
                    algorithm,
                    key_id,
                    issuer,
                    subject,
                    audience,
                    scopes,
                    extra_claims,
                    profile,
                    params: connection_params(req.connection_params),
                    connection_id,
                })
            }
            _ => Err(errors),
        }
    }
}

/// The PEM key `given` holds (itself, or a Google key file's `private_key`) and the file.
fn read_key(
    given: &SecretString,
    errors: &mut ValidationErrors,
) -> Option<(SecretString, Option<ServiceAccountFile>)> {
    let text = given.expose_secret();
    if text.trim().is_empty() {
        errors.push(FieldViolation::new(
            "key",
            "must be set (a PEM private key or a service account JSON file)",
        ));
        return None;
    }
    if text.len() > MAX_KEY_BYTES {
        errors.push(FieldViolation::new("key", "must be at most 16 KiB"));
        return None;
    }
    match ServiceAccountFile::parse(given) {
        Ok(Some(mut file)) => {
            let pem = std::mem::replace(&mut file.private_key, SecretString::from(String::new()));
            Some((pem, Some(file)))
        }
        Ok(None) => Some((given.clone(), None)),
        Err(e) => {
            errors.push(FieldViolation::new("key", e.0));
            None
        }
    }
}

/// `extra_claims` as a JSON object's text; standard claims refused.
fn extra_claims(
    claims: Option<prost_types::Struct>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let claims = claims.filter(|c| !c.fields.is_empty())?;
    let mut map = Map::new();
    for (name, value) in claims.fields {
        if RESERVED_CLAIMS.contains(&name.as_str()) {
            errors.push(FieldViolation::new(
                "extra_claims",
                format!("must not set {name}: Latchkey sets it in every assertion"),
            ));
        }
        map.insert(name, pb_to_json(value));
    }
    let text = Value::Object(map).to_string();
    if text.len() > 8 * 1024 {
        errors.push(FieldViolation::new(
            "extra_claims",
            "must be at most 8 KiB as JSON",
        ));
    }
    Some(text)
}
