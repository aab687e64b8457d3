//! The client authentication section of a configuration: who Latchkey is at the provider (the
//! client id; the secret is sealed beside the configuration) and how token requests carry it.
//! Stored flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use super::config::{
    ClientAssertionAudience, ClientAssertionSettings, ClientAuthMethod, TokenRequestFormat,
};
use crate::{ClientId, FieldViolation, ValidationErrors};

/// Who Latchkey is at the provider and how token requests say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuthentication {
    pub client_id: ClientId,
    pub client_auth: ClientAuthMethod,
    /// The body of token requests; `json_body` client authentication implies JSON.
    #[serde(default)]
    pub token_request_format: TokenRequestFormat,
    /// How a `private_key_jwt` client signs and addresses its assertions; set exactly then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_assertion: Option<ClientAssertionSettings>,
}

impl ClientAuthentication {
    /// Whether the client secret is PEM (in lines): a `private_key_jwt` client's private key, or
    /// a mutual-TLS client's certificate and key.
    pub fn secret_is_pem(&self) -> bool {
        self.client_assertion.is_some() || self.client_auth.is_mutual_tls()
    }
}

/// The algorithms a `private_key_jwt` client's key may sign with.
pub const CLIENT_ASSERTION_ALGORITHMS: [&str; 3] = ["RS256", "PS256", "ES256"];

/// The client authentication as a caller sent it.
#[derive(Debug, Clone, Default)]
pub struct ClientAuthenticationInput {
    pub client_id: String,
    /// `""` (default: basic header), `basic_header`, `request_body` or `json_body`.
    pub client_auth: String,
    /// `""` or `form` (default), `json`.
    pub token_request_format: String,
    /// `private_key_jwt` only: `""` (RS256), `RS256`, `PS256` or `ES256`.
    pub client_assertion_algorithm: String,
    /// `private_key_jwt` only: `""` (the issuer when known, else the token URL), `issuer` or
    /// `token_url`.
    pub client_assertion_audience: String,
}

impl ClientAuthenticationInput {
    /// The checked section; each violation goes to `e`. `None` when the client id or the method
    /// is not valid.
    pub fn parse(self, e: &mut ValidationErrors) -> Option<ClientAuthentication> {
        let client_id = e.check(ClientId::parse_field(&self.client_id, "client_id"));
        let client_auth = match self.client_auth.as_str() {
            "" | "basic_header" => Some(ClientAuthMethod::BasicHeader),
            "request_body" => Some(ClientAuthMethod::RequestBody),
            "json_body" => Some(ClientAuthMethod::JsonBody),
            "private_key_jwt" => Some(ClientAuthMethod::PrivateKeyJwt),
            "tls_client_auth" => Some(ClientAuthMethod::TlsClientAuth),
            "self_signed_tls_client_auth" => Some(ClientAuthMethod::SelfSignedTlsClientAuth),
            _ => {
                e.push(FieldViolation::new(
                    "client_auth",
                    format!("must be one of {}", ClientAuthMethod::NAMES.join(", ")),
                ));
                None
            }
        };
        let client_assertion = self.client_assertion(client_auth, e);
        let token_request_format = match self.token_request_format.as_str() {
            "" | "form" => TokenRequestFormat::Form,
            "json" => TokenRequestFormat::Json,
            _ => {
                e.push(FieldViolation::new(
                    "token_request_format",
                    "must be form or json",
                ));
                TokenRequestFormat::Form
            }
        };
        let client_auth = client_auth?;
        Some(ClientAuthentication {
            client_id: client_id?,
            client_auth,
            token_request_format: if client_auth == ClientAuthMethod::JsonBody {
                TokenRequestFormat::Json
            } else {
                token_request_format
            },
            client_assertion,
        })
    }

    /// The assertion settings: only for `private_key_jwt`, and always then.
    fn client_assertion(
        &self,
        client_auth: Option<ClientAuthMethod>,
        e: &mut ValidationErrors,
    ) -> Option<ClientAssertionSettings> {
        if client_auth != Some(ClientAuthMethod::PrivateKeyJwt) {
            for (field, value) in [
                (
                    "client_assertion_algorithm",
                    &self.client_assertion_algorithm,
                ),
                ("client_assertion_audience", &self.client_assertion_audience),
            ] {
                if !value.is_empty() {
                    e.push(FieldViolation::new(
                        field,
                        "is only for client_auth private_key_jwt",
                    ));
                }
            }
            return None;
        }
        let algorithm = match self.client_assertion_algorithm.as_str() {
            "" => "RS256",
            given if CLIENT_ASSERTION_ALGORITHMS.contains(&given) => given,
            _ => {
                e.push(FieldViolation::new(
                    "client_assertion_algorithm",
                    format!("must be one of {}", CLIENT_ASSERTION_ALGORITHMS.join(", ")),
                ));
                "RS256"
            }
        };
        let audience = match self.client_assertion_audience.as_str() {
            "" => None,
            "issuer" => Some(ClientAssertionAudience::Issuer),
            "token_url" => Some(ClientAssertionAudience::TokenUrl),
            _ => {
                e.push(FieldViolation::new(
                    "client_assertion_audience",
                    "must be issuer or token_url",
                ));
                None
            }
        };
        Some(ClientAssertionSettings {
            algorithm: algorithm.to_owned(),
            audience,
        })
    }
}

impl super::IntegrationConfig {
    /// The `aud` of this `private_key_jwt` client's assertions: the issuer (RFC 7523bis) unless
    /// the integration asks for its token URL or knows no issuer. `None` for other clients.
    pub fn client_assertion_audience(&self) -> Option<&str> {
        let settings = self.client.client_assertion.as_ref()?;
        let issuer = self.endpoints.issuer.as_ref().map(|i| i.as_str());
        Some(match (settings.audience, issuer) {
            (Some(ClientAssertionAudience::TokenUrl), _) | (_, None) => {
                self.endpoints.token_url.as_str()
            }
            (_, Some(issuer)) => issuer,
        })
    }
}
