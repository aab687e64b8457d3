use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_domain::{IntegrationConfig, ParamMap, Scope};
use rand::RngCore;
use secrecy::SecretString;
use url::Url;

/// 32 random bytes from the operating system, base64url: for `state` and PKCE verifiers.
pub fn random_token() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes))
}

/// What one authorization request carries besides the integration's configuration.
#[derive(Debug)]
pub struct AuthorizationRequest<'a> {
    pub redirect_uri: &'a str,
    pub scopes: &'a [Scope],
    pub state: &'a str,
    /// The S256 challenge, when PKCE is on.
    pub code_challenge: Option<&'a str>,
    pub extra_params: &'a ParamMap,
}

/// The URL to send the browser to: the integration's authorization URL (its own query kept), then
/// the standard parameters, the integration's parameters and the request's extras.
pub fn authorization_url(
    config: &IntegrationConfig,
    authorization_url: &Url,
    request: &AuthorizationRequest<'_>,
) -> Url {
    let mut url = authorization_url.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", config.response_type.as_str())
            .append_pair("client_id", config.client.client_id.as_str())
            .append_pair("redirect_uri", request.redirect_uri);
        if !request.scopes.is_empty() {
            query.append_pair("scope", &config.scope_separator.join(request.scopes));
        }
        query.append_pair("state", request.state);
        if let Some(challenge) = request.code_challenge {
            query
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        for (key, value) in config.authorization_params.iter() {
            if request.extra_params.get(key).is_none() {
                query.append_pair(key, value);
            }
        }
        for (key, value) in request.extra_params.iter() {
            query.append_pair(key, value);
        }
    }
    url
}
