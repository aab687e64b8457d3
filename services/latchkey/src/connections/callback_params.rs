//! The query a provider sends the browser back with, and why one cannot be exchanged: both read
//! before anything is sent to the provider.

use latchkey_domain::IntegrationConfig;
use secrecy::SecretString;

/// The query a provider redirects the browser back with.
#[derive(Debug, Default)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<SecretString>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
    /// The browser's `Cookie` header, on the hosted callback: what proves, for an authorization
    /// started from a connect session, that this is the browser that owns the session.
    pub cookies: Option<String>,
    /// The other parameters, for the integration's callback parameters (`realmId`); at most
    /// [`CallbackParams::MAX_OTHERS`].
    pub others: Vec<(String, String)>,
}

impl CallbackParams {
    /// Parses a query string (`code=…&state=…`); unknown parameters are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut params = Self::default();
        for (key, value) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "state" => params.state = Some(value),
                "code" => params.code = Some(SecretString::from(value)),
                "error" => params.error = Some(value),
                "error_description" => params.error_description = Some(value),
                "iss" => params.iss = Some(value),
                other if params.others.len() < Self::MAX_OTHERS => {
                    params.others.push((other.to_owned(), value));
                }
                _ => {}
            }
        }
        params
    }

    pub const MAX_OTHERS: usize = 32;
}

/// Why a callback cannot be exchanged, before anything is sent: the provider's error, a captured
/// value that cannot be used, an `iss` that is not the integration's (or missing where required),
/// no code.
pub(super) fn callback_failure(
    params: &CallbackParams,
    captured: Option<&latchkey_domain::FieldViolation>,
    config: &IntegrationConfig,
) -> Option<(String, Option<String>)> {
    let failed = |error: &str, description: Option<String>| (error.to_owned(), description);
    if let Some(error) = &params.error {
        Some(failed(error, params.error_description.clone()))
    } else if let Some(violation) = captured {
        Some(failed(
            "invalid_request",
            Some(format!("the callback's {violation}")),
        ))
    } else {
        match (&params.iss, &config.endpoints.issuer) {
            (Some(iss), Some(issuer))
                if iss.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') =>
            {
                Some(failed(
                    "invalid_iss",
                    Some(format!(
                        "the callback's iss {iss:?} is not the integration's issuer"
                    )),
                ))
            }
            (None, _) if config.endpoints.require_iss => Some(failed(
                "invalid_iss",
                Some("the provider sends iss on callbacks, and this one has none".to_owned()),
            )),
            _ if params.code.is_none() => Some(failed(
                "invalid_request",
                Some("the callback has no code".to_owned()),
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_callback_query_parses_never_a_panic(query in ".{0,300}") {
            let params = CallbackParams::from_query(&query);
            if let Some(state) = params.state {
                prop_assert!(query.contains("state"), "{state}");
            }
        }
    }
}
