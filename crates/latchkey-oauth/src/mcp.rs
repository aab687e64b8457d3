//! Connecting an MCP server by its URL alone, as the MCP authorization specification has clients
//! do: the server's protected-resource metadata (RFC 9728), found through the `resource_metadata`
//! of its 401 challenge or at its well-known location, names its authorization server; a client
//! is registered there without a human (RFC 7591); tokens are asked for that resource (RFC 8707).

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{OAuthError, ProviderClient};

/// What a protected resource says of itself (RFC 9728 §2).
#[derive(Debug, Clone, Deserialize)]
pub struct ProtectedResource {
    pub resource: String,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
}

/// A client registered at an authorization server (RFC 7591 §3.2.1). `Debug` redacts the secret.
#[derive(Debug)]
pub struct RegisteredClient {
    pub client_id: String,
    /// `None` for a public client (`token_endpoint_auth_method: none`).
    pub client_secret: Option<SecretString>,
}

/// `resource_metadata="…"` of a `WWW-Authenticate` challenge.
fn resource_metadata(challenge: &str) -> Option<String> {
    let at = challenge.find("resource_metadata=")? + "resource_metadata=".len();
    let rest = challenge[at..].trim_start();
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split([',', ' ']).next()?,
    };
    (!value.is_empty()).then(|| value.to_owned())
}

/// The well-known locations of `server`'s metadata: with its path, then at its origin.
fn well_known(server: &Url) -> Vec<Url> {
    let path = server.path().trim_end_matches('/');
    let mut located = Vec::new();
    for suffix in [path, ""] {
        let mut url = server.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(&format!("/.well-known/oauth-protected-resource{suffix}"));
        if !located.contains(&url) {
            located.push(url);
        }
    }
    located
}

fn same_resource(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl ProviderClient {
    /// The metadata of the protected resource at `server`, whose `resource` must be `server`
    /// (RFC 9728 §3.3: metadata for another resource is not this one's).
    pub async fn protected_resource(&self, server: &Url) -> Result<ProtectedResource, OAuthError> {
        let probe = self.get(server).await?;
        let named = match (probe.status, &probe.www_authenticate) {
            (401, Some(challenge)) => resource_metadata(challenge),
            _ => None,
        };
        let candidates = match named {
            Some(url) => vec![Url::parse(&url).map_err(|_| OAuthError::InvalidResponse {
                status: 401,
                reason: "the challenge's resource_metadata is not a URL".to_owned(),
            })?],
            None => well_known(server),
        };
        let mut last = None;
        for url in candidates {
            let response = self.get(&url).await?;
            if !(200..300).contains(&response.status) {
                last = Some(OAuthError::InvalidResponse {
                    status: response.status,
                    reason: format!("no protected resource metadata at {url}"),
                });
                continue;
            }
            let metadata: ProtectedResource =
                serde_json::from_slice(&response.body).map_err(|e| {
                    OAuthError::InvalidResponse {
                        status: response.status,
                        reason: format!(
                            "the protected resource metadata at {url} is not valid: {e}"
                        ),
                    }
                })?;
            if !same_resource(&metadata.resource, server.as_str()) {
                return Err(OAuthError::InvalidResponse {
                    status: response.status,
                    reason: format!(
                        "the metadata at {url} is for {:?}, not {server}",
                        metadata.resource
                    ),
                });
            }
            return Ok(metadata);
        }
        Err(last.unwrap_or(OAuthError::InvalidResponse {
            status: probe.status,
            reason: format!("{server} names no protected resource metadata"),
        }))
    }

    /// Registers a client at `endpoint` (RFC 7591) with `metadata`; the answer's id and secret.
    pub async fn register_client(
        &self,
        endpoint: &Url,
        metadata: &Value,
    ) -> Result<RegisteredClient, OAuthError> {
        let (status, json) =
            crate::token::json_answer(self.post_json(endpoint, metadata, None).await?)?;
        let text = |key: &str| {
            json.as_ref()
                .and_then(|j| j.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let client_id = text("client_id").ok_or_else(|| OAuthError::InvalidResponse {
            status,
            reason: "the registration answer has no client_id".to_owned(),
        })?;
        Ok(RegisteredClient {
            client_id,
            client_secret: text("client_secret").map(SecretString::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_and_the_well_known_locations_are_read() {
        assert_eq!(
            resource_metadata(
                r#"Bearer error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#
            )
            .as_deref(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(resource_metadata("Bearer realm=\"x\""), None);
        let located = well_known(&Url::parse("https://mcp.example.com/v1/mcp?x=1").unwrap());
        assert_eq!(
            located[0].as_str(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp"
        );
        assert_eq!(
            located[1].as_str(),
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
    }
}
