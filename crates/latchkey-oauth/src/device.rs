//! Device authorization (RFC 8628 §3.1–3.2): the provider hands out a device code (kept, a bearer
//! secret) and a short user code the customer types at its verification page, elsewhere; the
//! token endpoint then answers `authorization_pending` until the customer decides.

use std::time::Duration;

use latchkey_domain::{IntegrationConfig, ParamMap, Scope};
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use crate::{ClientCredentials, OAuthError, ProviderClient};

/// What the device authorization endpoint answered. `Debug` redacts the device code.
#[derive(Debug)]
pub struct DeviceAuthorization {
    pub device_code: SecretString,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    /// How long to wait between polls; 5 s when the provider says nothing (§3.2).
    pub interval: Duration,
}

/// The longest a device code is kept waiting, whatever the provider says.
const MAX_EXPIRES_IN: u64 = 30 * 60;

fn read(status: u16, json: Option<Value>) -> Result<DeviceAuthorization, OAuthError> {
    let unusable = |reason: &str| OAuthError::InvalidResponse {
        status,
        reason: reason.to_owned(),
    };
    let json = json.ok_or_else(|| unusable("the device authorization answer is not JSON"))?;
    let text = |key: &str| {
        json.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let seconds = |key: &str| {
        json.get(key).and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    };
    let device_code = text("device_code").ok_or_else(|| unusable("no device_code"))?;
    let user_code = text("user_code").ok_or_else(|| unusable("no user_code"))?;
    // Google says `verification_url`.
    let verification_uri = text("verification_uri")
        .or_else(|| text("verification_url"))
        .ok_or_else(|| unusable("no verification_uri"))?;
    let expires_in = seconds("expires_in").ok_or_else(|| unusable("no expires_in"))?;
    Ok(DeviceAuthorization {
        device_code: SecretString::from(device_code),
        user_code,
        verification_uri,
        verification_uri_complete: text("verification_uri_complete"),
        expires_in: Duration::from_secs(expires_in.clamp(1, MAX_EXPIRES_IN)),
        interval: Duration::from_secs(seconds("interval").unwrap_or(5).clamp(1, 60)),
    })
}

impl ProviderClient {
    /// Asks `endpoint` for a device code for `scopes`, as `client`.
    #[tracing::instrument(name = "provider.device_authorization", skip_all, fields(host = endpoint.host_str().unwrap_or_default()))]
    pub async fn start_device_authorization(
        &self,
        config: &IntegrationConfig,
        endpoint: &Url,
        client: &ClientCredentials<'_>,
        scopes: &[Scope],
        extra: &ParamMap,
    ) -> Result<DeviceAuthorization, OAuthError> {
        let scope_text = config.scope_separator.join(scopes);
        let mut form: Vec<(&str, &str)> = Vec::new();
        if !scopes.is_empty() {
            form.push(("scope", &scope_text));
        }
        form.extend(extra.iter());
        let (status, json) = self.post_as_client(endpoint, client, form).await?;
        read(status, json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_with_its_defaults_and_a_missing_field_is_named() {
        let read_json = |v: Value| read(200, Some(v));
        let answer = read_json(serde_json::json!({
            "device_code": "d", "user_code": "BCDF-GHJK",
            "verification_url": "https://www.google.com/device", "expires_in": "1800",
        }))
        .expect("read");
        assert_eq!(answer.verification_uri, "https://www.google.com/device");
        assert_eq!(answer.interval, Duration::from_secs(5));
        assert_eq!(answer.expires_in, Duration::from_secs(1800));
        let error = read_json(serde_json::json!({"device_code": "d", "expires_in": 600}))
            .expect_err("no user code");
        assert!(error.to_string().contains("user_code"), "{error}");
        assert!(!format!("{answer:?}").contains("\"d\""));
    }
}
