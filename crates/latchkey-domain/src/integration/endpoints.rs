//! The endpoints section of a configuration: where the provider is (authorization, token,
//! revocation, its API, its issuer) and which hosts URLs chosen per connection may reach. Stored
//! flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use super::config::RevocationShape;
use crate::{FieldViolation, ProviderUrl, ValidationErrors};

/// Where the provider is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    /// Required for the authorization-code grant.
    pub authorization_url: Option<ProviderUrl>,
    /// RFC 9126: when set, every authorization request is pushed here first and the browser
    /// carries only `client_id` and the `request_uri` the provider answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_url: Option<ProviderUrl>,
    /// RFC 8628's device authorization endpoint: required for the device_code grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_url: Option<ProviderUrl>,
    pub token_url: ProviderUrl,
    /// RFC 7009 endpoint, if the provider has one; with `revocation`, where that request goes.
    pub revocation_url: Option<ProviderUrl>,
    /// The provider's own revocation request, when it is not RFC 7009's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationShape>,
    /// Base of the provider's API, handed to workers with each token.
    pub base_uri: Option<ProviderUrl>,
    /// `None`: Latchkey's own callback (`<public url>/oauth/callback`).
    pub redirect_uri: Option<ProviderUrl>,
    /// The authorization server's issuer identifier (RFC 8414), to check the callback's `iss`.
    #[serde(default)]
    pub issuer: Option<ProviderUrl>,
    /// The provider always sends `iss` on its callback (RFC 9207): a callback without it is refused.
    #[serde(default)]
    pub require_iss: bool,
    /// The hosts a URL whose host a connection parameter chooses may reach (exact names and
    /// `*.example.com`); required when such a URL would receive this integration's own client
    /// secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
}

/// The endpoints as a caller sent them.
#[derive(Debug, Clone, Default)]
pub struct EndpointsInput {
    pub authorization_url: String,
    pub pushed_authorization_url: String,
    pub device_authorization_url: String,
    pub token_url: String,
    pub revocation_url: String,
    /// The provider's own revocation request (`method` set), else RFC 7009.
    pub revocation: Option<RevocationShape>,
    pub base_uri: String,
    pub redirect_uri: String,
    pub issuer: String,
    pub require_iss: bool,
    pub allowed_hosts: Vec<String>,
}

fn optional_url(e: &mut ValidationErrors, value: &str, field: &str) -> Option<ProviderUrl> {
    if value.is_empty() {
        None
    } else {
        e.check(ProviderUrl::parse_field(value, field))
    }
}

impl EndpointsInput {
    /// The checked section; each violation goes to `e`. `None` when the token URL is not valid.
    pub fn parse(self, e: &mut ValidationErrors) -> Option<Endpoints> {
        let authorization_url = optional_url(e, &self.authorization_url, "authorization_url");
        let device_authorization_url = optional_url(
            e,
            &self.device_authorization_url,
            "device_authorization_url",
        );
        let pushed_authorization_url = optional_url(
            e,
            &self.pushed_authorization_url,
            "pushed_authorization_url",
        );
        let token_url = e.check(ProviderUrl::parse_field(&self.token_url, "token_url"));
        let revocation_url = optional_url(e, &self.revocation_url, "revocation_url");
        let base_uri = optional_url(e, &self.base_uri, "base_uri");
        let redirect_uri = optional_url(e, &self.redirect_uri, "redirect_uri");
        let issuer = optional_url(e, &self.issuer, "issuer");
        if self.require_iss && self.issuer.is_empty() {
            e.push(FieldViolation::new(
                "issuer",
                "is required when require_iss is set",
            ));
        }
        let revocation = self.revocation(e);
        let allowed_hosts = super::parse_allowed_hosts(self.allowed_hosts, e);
        Some(Endpoints {
            authorization_url,
            pushed_authorization_url,
            device_authorization_url,
            token_url: token_url?,
            revocation_url,
            revocation,
            base_uri,
            redirect_uri,
            issuer,
            require_iss: self.require_iss,
            allowed_hosts,
        })
    }

    fn revocation(&self, e: &mut ValidationErrors) -> Option<RevocationShape> {
        match self.revocation.clone() {
            None => None,
            Some(shape) => {
                let method = shape.method.to_ascii_uppercase();
                if !matches!(method.as_str(), "POST" | "DELETE" | "GET") {
                    e.push(FieldViolation::new(
                        "revocation.method",
                        "must be POST, DELETE or GET",
                    ));
                }
                if !matches!(shape.auth.as_str(), "none" | "basic" | "bearer") {
                    e.push(FieldViolation::new(
                        "revocation.auth",
                        "must be none, basic or bearer",
                    ));
                }
                if !matches!(shape.token.as_str(), "access_token" | "refresh_token") {
                    e.push(FieldViolation::new(
                        "revocation.token",
                        "must be access_token or refresh_token",
                    ));
                }
                match (shape.body.is_empty(), shape.body_format.as_str()) {
                    (true, "") | (false, "json" | "form") => {}
                    (true, _) => e.push(FieldViolation::new(
                        "revocation.body_format",
                        "goes only with a body",
                    )),
                    (false, _) => e.push(FieldViolation::new(
                        "revocation.body_format",
                        "must be json or form with a body",
                    )),
                }
                if shape.body.len() > 2048 {
                    e.push(FieldViolation::new(
                        "revocation.body",
                        "must be at most 2048 characters",
                    ));
                }
                for name in super::placeholders(&shape.body) {
                    if !RevocationShape::PLACEHOLDERS.contains(&name) {
                        e.push(FieldViolation::new(
                            "revocation.body",
                            format!("uses {{{name}}}; a body may use {{token}} and {{client_id}}"),
                        ));
                    }
                }
                if self.revocation_url.is_empty() {
                    e.push(FieldViolation::new(
                        "revocation_url",
                        "is required where the revocation request is sent",
                    ));
                }
                Some(RevocationShape { method, ..shape })
            }
        }
    }
}
