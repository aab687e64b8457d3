//! The JWT bearer grant (RFC 7523 §2.1) as a provider checks it: the assertion's signature with
//! a service account's public key the test registered, `iss`, `aud` (the token URL or the
//! issuer), `exp` (at most an hour after `iat`) and `jti` never seen before; `sub` is whom the
//! token is for.

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::*;

/// A service account the provider trusts: its issuer and public key (PEM).
#[derive(Debug, Clone)]
pub(crate) struct TrustedAccount {
    pub(crate) issuer: String,
    pub(crate) public_pem: String,
}

/// What the provider holds for the grant.
#[derive(Debug, Default)]
pub(crate) struct Assertions {
    pub(crate) trusted: Vec<TrustedAccount>,
    pub(crate) seen_jti: HashSet<String>,
    /// The claims of each accepted assertion, in order.
    pub(crate) accepted: Vec<Value>,
}

/// `assertion`'s claims when `account`'s key verifies it and its issuer, audience and expiry
/// hold; else why not.
fn verify(
    s: &Shared,
    assertion: &str,
    alg: Algorithm,
    account: &TrustedAccount,
) -> Result<Value, String> {
    let key = match alg {
        Algorithm::RS256 | Algorithm::PS256 => {
            DecodingKey::from_rsa_pem(account.public_pem.as_bytes())
        }
        Algorithm::ES256 => DecodingKey::from_ec_pem(account.public_pem.as_bytes()),
        _ => return Err("algorithm not accepted".to_owned()),
    }
    .map_err(|_| "the account's key is unusable".to_owned())?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[&account.issuer]);
    let base = s.issuer.as_str();
    validation.set_audience(&[format!("{base}/token"), base.to_owned()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| format!("assertion refused: {:?}", e.kind()))
}

fn refused(description: &str) -> Box<Response> {
    Box::new(oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        description,
    ))
}

/// Checks `form`'s assertion and issues a token for its subject.
pub(crate) fn jwt_bearer_grant(
    s: &Shared,
    inner: &mut Inner,
    form: &HashMap<String, String>,
) -> Result<Value, Box<Response>> {
    let assertion = form
        .get("assertion")
        .ok_or_else(|| refused("assertion missing"))?;
    let header =
        jsonwebtoken::decode_header(assertion).map_err(|_| refused("assertion unreadable"))?;
    let unverified: Value = assertion
        .split('.')
        .nth(1)
        .and_then(|body| URL_SAFE_NO_PAD.decode(body).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| refused("assertion unreadable"))?;
    let issuer = unverified
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let accounts: Vec<TrustedAccount> = inner
        .assertions
        .trusted
        .iter()
        .filter(|a| a.issuer == issuer)
        .cloned()
        .collect();
    if accounts.is_empty() {
        return Err(refused("unknown issuer"));
    }
    // Any of the issuer's keys (a rotation trusts the new key beside the old).
    let mut claims = None;
    let mut why = String::from("no key of the issuer verifies it");
    for account in &accounts {
        match verify(s, assertion, header.alg, account) {
            Ok(verified) => {
                claims = Some(verified);
                break;
            }
            Err(e) => why = e,
        }
    }
    let claims = claims.ok_or_else(|| refused(&why))?;
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    match (number("iat"), number("exp")) {
        (Some(iat), Some(exp)) if exp - iat <= 3600 => {}
        _ => return Err(refused("exp must be at most an hour after iat")),
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or_else(|| refused("jti missing"))?;
    if !inner.assertions.seen_jti.insert(jti.to_owned()) {
        return Err(refused("jti already used"));
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or(issuer)
        .to_owned();
    let scope = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    inner.assertions.accepted.push(claims);
    let grant = new_grant(inner, &scope, &subject);
    Ok(issue(s, inner, &grant, false, false))
}
