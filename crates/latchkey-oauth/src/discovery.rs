//! Authorization server metadata (RFC 8414) and OpenID Provider metadata discovery.

use serde::Deserialize;
use url::Url;

use crate::{OAuthError, ProviderClient};

/// The parts of the metadata Latchkey uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9207: the provider sends `iss` on authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 7662.
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// OpenID Connect.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// `client_secret_basic`, `client_secret_post`…; empty: not said (RFC 8414 then means Basic).
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// RFC 9126.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 8628.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 7591 dynamic client registration.
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    /// The server takes an https URL naming a client metadata document as a client id
    /// (draft-ietf-oauth-client-id-metadata-document; the MCP specification's first choice).
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
    /// RFC 9126 §5: the server takes authorization requests only pushed.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
}

impl ServerMetadata {
    /// The client authentication to use at the token endpoint: Basic when the server takes it
    /// (or says nothing, which RFC 8414 §2 reads as Basic), else the form body; `None` when it
    /// names only methods Latchkey does not do (private_key_jwt…).
    pub fn client_auth(&self) -> Option<&'static str> {
        let supports = |m: &str| {
            self.token_endpoint_auth_methods_supported
                .iter()
                .any(|s| s == m)
        };
        if self.token_endpoint_auth_methods_supported.is_empty() || supports("client_secret_basic")
        {
            Some("basic_header")
        } else if supports("client_secret_post") {
            Some("request_body")
        } else {
            None
        }
    }
}

/// The RFC 8414 location (`/.well-known/oauth-authorization-server` inserted before the issuer's
/// path), then the OpenID one (`/.well-known/openid-configuration` appended).
fn candidates(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut rfc8414 = issuer.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    let mut openid = issuer.clone();
    openid.set_path(&format!("{path}/.well-known/openid-configuration"));
    vec![rfc8414, openid]
}

/// Reads the issuer's metadata; its `issuer` must be the one asked for (RFC 8414 §3.3).
pub async fn discover(client: &ProviderClient, issuer: &Url) -> Result<ServerMetadata, OAuthError> {
    let mut last_error = None;
    for url in candidates(issuer) {
        let response = match client.get(&url).await {
            Ok(response) => response,
            Err(e @ OAuthError::Refused { .. }) => return Err(e),
            Err(e) => {
                last_error = Some(e);
                continue;
            }
        };
        if response.status == 404 {
            last_error = Some(OAuthError::InvalidResponse {
                status: 404,
                reason: format!("no metadata at {url}"),
            });
            continue;
        }
        if !(200..300).contains(&response.status) {
            return Err(OAuthError::Provider {
                status: response.status,
                error: None,
                description: Some(format!("metadata at {url}")),
                retry_after: response.retry_after,
            });
        }
        let metadata: ServerMetadata =
            serde_json::from_slice(&response.body).map_err(|e| OAuthError::InvalidResponse {
                status: response.status,
                reason: format!("metadata at {url} is not valid: {e}"),
            })?;
        let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
        if !same(&metadata.issuer, issuer.as_str()) {
            return Err(OAuthError::InvalidResponse {
                status: response.status,
                reason: format!(
                    "metadata at {url} names issuer {:?}, not {issuer}",
                    metadata.issuer
                ),
            });
        }
        return Ok(metadata);
    }
    Err(last_error.unwrap_or(OAuthError::InvalidResponse {
        status: 0,
        reason: format!("no metadata found for {issuer}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_locations_follow_rfc_8414_and_openid() {
        let with_path = candidates(&Url::parse("https://login.example.com/tenant-1").unwrap());
        assert_eq!(
            with_path[0].as_str(),
            "https://login.example.com/.well-known/oauth-authorization-server/tenant-1"
        );
        assert_eq!(
            with_path[1].as_str(),
            "https://login.example.com/tenant-1/.well-known/openid-configuration"
        );
        let bare = candidates(&Url::parse("https://accounts.google.com").unwrap());
        assert_eq!(
            bare[1].as_str(),
            "https://accounts.google.com/.well-known/openid-configuration"
        );
    }
}
