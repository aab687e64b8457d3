//! When a token says it ends, read from the token response itself.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// When a token says it ends: an `expires_at` field (epoch seconds, or RFC 3339), else the `exp`
/// of an access token that is a JWT (read, not verified: it only ever shortens the lifetime).
pub(crate) fn stated_end(root: &Value, access_token: &str) -> Option<DateTime<Utc>> {
    let epoch = |secs: i64| DateTime::from_timestamp(secs, 0);
    let field = match root.get("expires_at") {
        Some(Value::Number(n)) => n.as_i64().and_then(epoch),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| s.trim().parse::<i64>().ok().and_then(epoch)),
        _ => None,
    };
    field.or_else(|| {
        let mut parts = access_token.split('.');
        let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        claims.get("exp")?.as_i64().and_then(epoch)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_token_that_states_its_end_says_when_it_ends() {
        let at = |v: Option<DateTime<Utc>>| v.map(|t| t.timestamp());
        assert_eq!(
            at(stated_end(&json!({"expires_at": 1_893_456_000}), "a")),
            Some(1_893_456_000)
        );
        let text = json!({"expires_at": "2030-01-01T00:00:00Z"});
        assert_eq!(at(stated_end(&text, "a")), Some(1_893_456_000));
        let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"x","exp":1893456000}"#);
        let jwt = format!("eyJhbGciOiJub25lIn0.{claims}.sig");
        assert_eq!(at(stated_end(&json!({}), &jwt)), Some(1_893_456_000));
        assert_eq!(at(stated_end(&json!({}), "opaque.not-json.x")), None);
        assert_eq!(at(stated_end(&json!({}), "opaque")), None);
    }
}
