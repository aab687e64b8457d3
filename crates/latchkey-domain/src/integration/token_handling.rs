//! The token handling section of a configuration: where the token goes on API calls, where the
//! token response keeps its fields, the lifetime assumed when it says none, and what of it is kept
//! as metadata. Stored flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use super::config::{IntegrationConfig, TokenPlacement, TokenResponseMapping};
use crate::{FieldViolation, ValidationErrors};

/// How tokens are read from the provider's answers and handed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHandling {
    pub token_placement: TokenPlacement,
    /// Lifetime assumed when a token response has no usable `expires_in`.
    pub default_token_lifetime_secs: u32,
    /// Fields of the token response kept as the connection's metadata (Salesforce's
    /// `instance_url`…). Only these: an unknown field may be a secret.
    #[serde(default)]
    pub metadata_fields: Vec<String>,
    /// Where the token response keeps the tokens, when not at the standard names.
    #[serde(default, skip_serializing_if = "TokenResponseMapping::is_empty")]
    pub token_response: TokenResponseMapping,
    /// Sender-constrained tokens (RFC 9449): each connection holds a DPoP key that never leaves
    /// Latchkey; token requests carry a proof made with it, and `GetToken` makes proofs for the
    /// calls workers are about to make. Tokens go as `Authorization: DPoP <token>`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop: bool,
}

/// The token handling as a caller sent it.
#[derive(Debug, Clone, Default)]
pub struct TokenHandlingInput {
    /// `None` takes `Authorization: Bearer <token>`.
    pub token_placement: Option<TokenPlacement>,
    pub default_token_lifetime_secs: Option<u32>,
    pub metadata_fields: Vec<String>,
    /// `name → JSON pointer` for the token response's fields ([`TokenResponseMapping::NAMES`]).
    pub token_response: Vec<(String, String)>,
    pub dpop: bool,
}

impl TokenHandlingInput {
    /// The checked section; each violation goes to `e`.
    pub fn parse(self, e: &mut ValidationErrors) -> TokenHandling {
        // A DPoP-bound token is presented as `DPoP <token>` (RFC 9449 §7.1).
        let default_placement = || match self.dpop {
            true => TokenPlacement::Header {
                name: "Authorization".to_owned(),
                prefix: "DPoP".to_owned(),
            },
            false => TokenPlacement::bearer(),
        };
        let token_placement = self
            .token_placement
            .clone()
            .unwrap_or_else(default_placement)
            .validate("token_placement")
            .unwrap_or_else(|violation| {
                e.push(violation);
                TokenPlacement::bearer()
            });
        let default_token_lifetime_secs = self
            .default_token_lifetime_secs
            .unwrap_or(IntegrationConfig::DEFAULT_TOKEN_LIFETIME_SECS);
        if !(1..=IntegrationConfig::MAX_TOKEN_LIFETIME_SECS).contains(&default_token_lifetime_secs)
        {
            e.push(FieldViolation::new(
                "default_token_lifetime_secs",
                format!(
                    "must be between 1 and {} seconds",
                    IntegrationConfig::MAX_TOKEN_LIFETIME_SECS
                ),
            ));
        }
        check_metadata_fields(&self.metadata_fields, e);
        TokenHandling {
            token_placement,
            default_token_lifetime_secs,
            metadata_fields: self.metadata_fields,
            token_response: TokenResponseMapping::parse(&self.token_response, "token_response", e),
            dpop: self.dpop,
        }
    }
}

fn check_metadata_fields(fields: &[String], e: &mut ValidationErrors) {
    if fields.len() > IntegrationConfig::MAX_METADATA_FIELDS {
        e.push(FieldViolation::new(
            "metadata_fields",
            format!(
                "at most {} fields can be kept",
                IntegrationConfig::MAX_METADATA_FIELDS
            ),
        ));
    }
    for (i, field) in fields.iter().enumerate() {
        let name = format!("metadata_fields[{i}]");
        if field.is_empty()
            || field.len() > 64
            || !field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            e.push(FieldViolation::new(
                name,
                "field names are 1 to 64 ASCII letters, digits, '_', '-' or '.'",
            ));
        } else if IntegrationConfig::SECRET_FIELDS.contains(&field.as_str())
            || crate::connection::is_secret_name(field, None)
        {
            e.push(FieldViolation::new(
                name,
                "holds a secret and is never kept",
            ));
        }
    }
}
