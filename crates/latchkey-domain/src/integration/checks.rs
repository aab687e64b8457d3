//! The provider checks section of a configuration: how a connection's token is validated at the
//! provider (and how often), and how Latchkey learns which provider account a connection is.
//! Stored flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use super::config::{AccountMapping, IntegrationConfig, TokenValidation};
use crate::{FieldViolation, ProviderUrl, ValidationErrors};

/// How tokens and accounts are checked at the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChecks {
    /// How a connection's token is checked at the provider (`ValidateConnection`).
    #[serde(default)]
    pub validation: Option<TokenValidation>,
    /// Check every active connection's token this often (besides after each authorization and
    /// on demand); `None`: no schedule.
    #[serde(default)]
    pub validation_interval_secs: Option<u32>,
    /// How Latchkey learns who a connection is at the provider after authorization.
    #[serde(default)]
    pub account: Option<AccountMapping>,
    /// Connecting a provider account that already has a connection (same tenant) re-authorizes
    /// that connection instead of making a twin.
    #[serde(default)]
    pub reauthorize_same_account: bool,
}

/// The provider checks as a caller sent them.
#[derive(Debug, Clone, Default)]
pub struct ProviderChecksInput {
    /// `introspection` or `userinfo` (with `validation_url`), `probe` (with the probe fields).
    pub validation_kind: String,
    pub validation_url: String,
    pub probe_method: String,
    pub probe_path: String,
    pub probe_status: u32,
    pub validation_interval_secs: Option<u32>,
    /// `id_token` (with `account_url`: the JWKS), `userinfo` (with `account_url`) or `endpoint`
    /// (with `account_url` and `account_pointer`); empty: no mapping.
    pub account_kind: String,
    pub account_url: String,
    pub account_pointer: String,
    /// `GET` (or empty) or `POST`, for `endpoint`.
    pub account_method: String,
    pub reauthorize_same_account: bool,
}

impl ProviderChecksInput {
    /// The checked section; each violation goes to `e`. A probe needs the integration's base URI
    /// (`base_uri_set`), an ID-token account mapping its issuer (`issuer_set`).
    pub fn parse(
        self,
        base_uri_set: bool,
        issuer_set: bool,
        e: &mut ValidationErrors,
    ) -> ProviderChecks {
        let validation = self.validation(base_uri_set, e);
        let account = self.account(issuer_set, e);
        if self.reauthorize_same_account && self.account_kind.is_empty() {
            e.push(FieldViolation::new(
                "reauthorize_same_account",
                "needs an account mapping (account.kind) to know the account",
            ));
        }
        ProviderChecks {
            validation,
            validation_interval_secs: self.validation_interval_secs,
            account,
            reauthorize_same_account: self.reauthorize_same_account,
        }
    }

    fn validation(&self, base_uri_set: bool, e: &mut ValidationErrors) -> Option<TokenValidation> {
        let validation = match self.validation_kind.as_str() {
            "" => None,
            "introspection" | "userinfo" => e
                .check(ProviderUrl::parse_field(
                    &self.validation_url,
                    "validation.url",
                ))
                .map(|url| {
                    if self.validation_kind == "introspection" {
                        TokenValidation::Introspection { url }
                    } else {
                        TokenValidation::Userinfo { url }
                    }
                }),
            "probe" => {
                let method = self.probe_method.to_ascii_uppercase();
                if !matches!(method.as_str(), "GET" | "HEAD" | "POST") {
                    e.push(FieldViolation::new(
                        "validation.method",
                        "must be GET, HEAD or POST",
                    ));
                }
                if !self.probe_path.starts_with('/') || self.probe_path.len() > 512 {
                    e.push(FieldViolation::new(
                        "validation.path",
                        "must be a path starting with /",
                    ));
                }
                if !(100..600).contains(&self.probe_status) {
                    e.push(FieldViolation::new(
                        "validation.expected_status",
                        "must be an HTTP status",
                    ));
                }
                if !base_uri_set {
                    e.push(FieldViolation::new(
                        "base_uri",
                        "is required by a probe validation",
                    ));
                }
                Some(TokenValidation::Probe {
                    method,
                    path: self.probe_path.clone(),
                    expected_status: u16::try_from(self.probe_status).unwrap_or(200),
                })
            }
            _ => {
                e.push(FieldViolation::new(
                    "validation.kind",
                    "must be introspection, userinfo or probe",
                ));
                None
            }
        };
        if let Some(secs) = self.validation_interval_secs {
            if validation.is_none() && self.validation_kind.is_empty() {
                e.push(FieldViolation::new(
                    "validation_interval_secs",
                    "needs a validation (validation.kind)",
                ));
            }
            if !(IntegrationConfig::MIN_VALIDATION_INTERVAL_SECS
                ..=IntegrationConfig::MAX_VALIDATION_INTERVAL_SECS)
                .contains(&secs)
            {
                e.push(FieldViolation::new(
                    "validation_interval_secs",
                    "must be between 10 seconds and 30 days",
                ));
            }
        }
        validation
    }

    fn account(&self, issuer_set: bool, e: &mut ValidationErrors) -> Option<AccountMapping> {
        match self.account_kind.as_str() {
            "" => None,
            "id_token" => {
                if !issuer_set {
                    e.push(FieldViolation::new(
                        "issuer",
                        "is required to check ID tokens (account.kind id_token)",
                    ));
                }
                e.check(ProviderUrl::parse_field(&self.account_url, "account.url"))
                    .map(|jwks_url| AccountMapping::IdToken { jwks_url })
            }
            "userinfo" => e
                .check(ProviderUrl::parse_field(&self.account_url, "account.url"))
                .map(|url| AccountMapping::Userinfo { url }),
            "endpoint" => {
                if !self.account_pointer.starts_with('/') || self.account_pointer.len() > 256 {
                    e.push(FieldViolation::new(
                        "account.pointer",
                        "must be a JSON pointer (RFC 6901) such as /user/id",
                    ));
                }
                let method = match self.account_method.to_ascii_uppercase().as_str() {
                    "" | "GET" => "GET",
                    "POST" => "POST",
                    _ => {
                        e.push(FieldViolation::new("account.method", "must be GET or POST"));
                        "GET"
                    }
                };
                e.check(ProviderUrl::parse_field(&self.account_url, "account.url"))
                    .map(|url| AccountMapping::Endpoint {
                        url,
                        pointer: self.account_pointer.clone(),
                        method: method.to_owned(),
                    })
            }
            "token_response" => {
                if !self.account_pointer.starts_with('/') || self.account_pointer.len() > 256 {
                    e.push(FieldViolation::new(
                        "account.pointer",
                        "must be a JSON pointer (RFC 6901) such as /team/id",
                    ));
                }
                Some(AccountMapping::TokenResponse {
                    pointer: self.account_pointer.clone(),
                })
            }
            _ => {
                e.push(FieldViolation::new(
                    "account.kind",
                    "must be id_token, userinfo, endpoint or token_response",
                ));
                None
            }
        }
    }
}
