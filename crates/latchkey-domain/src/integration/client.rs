//! The client authentication section of a configuration: who Latchkey is at the provider (the
//! client id; the secret is sealed beside the configuration) and how token requests carry it.
//! Stored flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use super::config::{ClientAuthMethod, TokenRequestFormat};
use crate::{ClientId, FieldViolation, ValidationErrors};

/// Who Latchkey is at the provider and how token requests say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAuthentication {
    pub client_id: ClientId,
    pub client_auth: ClientAuthMethod,
    /// The body of token requests; `json_body` client authentication implies JSON.
    #[serde(default)]
    pub token_request_format: TokenRequestFormat,
}

/// The client authentication as a caller sent it.
#[derive(Debug, Clone, Default)]
pub struct ClientAuthenticationInput {
    pub client_id: String,
    /// `""` (default: basic header), `basic_header`, `request_body` or `json_body`.
    pub client_auth: String,
    /// `""` or `form` (default), `json`.
    pub token_request_format: String,
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
            _ => {
                e.push(FieldViolation::new(
                    "client_auth",
                    "must be basic_header, request_body or json_body",
                ));
                None
            }
        };
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
        })
    }
}
