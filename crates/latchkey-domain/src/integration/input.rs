//! The caller's form of a configuration and its parsing: every violation named, none left out.

use super::config::*;
use crate::{
    ClientId, FieldViolation, IntegrationName, ParamMap, ProviderUrl, ResponseType, Scope,
    ScopeSeparator, ValidationErrors,
};

/// An integration's configuration as a caller sent it: plain strings, not yet checked. Empty
/// strings and zeros mean "not set" (and take the default where there is one), as in proto3.
#[derive(Debug, Clone, Default)]
pub struct IntegrationConfigInput {
    pub name: String,
    pub description: String,
    pub grant_type: String,
    pub authorization_url: String,
    pub token_url: String,
    pub revocation_url: String,
    /// The provider's own revocation request (`method` set), else RFC 7009.
    pub revocation: Option<RevocationShape>,
    pub base_uri: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// `None` takes the standard space.
    pub scope_separator: Option<String>,
    pub redirect_uri: String,
    pub response_type: String,
    pub authorization_params: Vec<(String, String)>,
    pub token_params: Vec<(String, String)>,
    /// `""` (default: basic header), `basic_header` or `request_body`.
    pub client_auth: String,
    /// `""` or `form` (default), `json`.
    pub token_request_format: String,
    /// How tokens are read from the provider's answers and handed on.
    pub tokens: super::TokenHandlingInput,
    /// When tokens are refreshed and what a refresh may do.
    pub refresh: super::RefreshPolicyInput,
    /// How tokens and accounts are checked at the provider.
    pub checks: super::ProviderChecksInput,
    /// What a connection brings and may ask for.
    pub connect: super::ConnectFieldsInput,
    pub allow_password_grant: bool,
    /// `None` takes the default, on.
    pub pkce: Option<bool>,
    pub issuer: String,
    pub require_iss: bool,
    /// How the provider's webhooks are verified.
    pub webhooks: super::WebhookSettingsInput,
    pub allowed_hosts: Vec<String>,
}

impl IntegrationConfigInput {
    /// Checks every field and reports every invalid one.
    pub fn parse(self) -> Result<IntegrationConfig, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let optional_url = |e: &mut ValidationErrors, value: &str, field: &str| {
            if value.is_empty() {
                None
            } else {
                e.check(ProviderUrl::parse_field(value, field))
            }
        };
        let name = e.check(IntegrationName::parse_field(&self.name, "name"));
        if self.description.chars().count() > IntegrationConfig::MAX_DESCRIPTION_LEN {
            e.push(FieldViolation::new(
                "description",
                format!(
                    "must be at most {} characters",
                    IntegrationConfig::MAX_DESCRIPTION_LEN
                ),
            ));
        }
        let grant_type = e.check(GrantType::parse_field(&self.grant_type, "grant_type"));
        let authorization_url = optional_url(&mut e, &self.authorization_url, "authorization_url");
        if grant_type == Some(GrantType::AuthorizationCode) && self.authorization_url.is_empty() {
            e.push(FieldViolation::new(
                "authorization_url",
                "is required for the authorization_code grant",
            ));
        }
        let token_url = e.check(ProviderUrl::parse_field(&self.token_url, "token_url"));
        let revocation_url = optional_url(&mut e, &self.revocation_url, "revocation_url");
        let base_uri = optional_url(&mut e, &self.base_uri, "base_uri");
        let client_id = e.check(ClientId::parse_field(&self.client_id, "client_id"));
        let scopes = match Scope::parse_list(&self.scopes, "scopes", IntegrationConfig::MAX_SCOPES)
        {
            Ok(scopes) => Some(scopes),
            Err(errors) => {
                e.0.extend(errors.0);
                None
            }
        };
        let connect = self.connect.parse(&mut e);
        if let Some(scopes) = &scopes
            && !connect.allowed_scopes.is_empty()
        {
            for scope in scopes
                .iter()
                .filter(|s| !connect.allowed_scopes.contains(s))
            {
                e.push(FieldViolation::new(
                    "scopes",
                    format!("{} is not one of allowed_scopes", scope.as_str()),
                ));
            }
        }
        let scope_separator = match &self.scope_separator {
            None => Some(ScopeSeparator::space()),
            Some(sep) => e.check(ScopeSeparator::parse_field(sep, "scope_separator")),
        };
        let redirect_uri = optional_url(&mut e, &self.redirect_uri, "redirect_uri");
        let response_type = if self.response_type.is_empty() {
            Some(ResponseType::code())
        } else {
            e.check(ResponseType::parse_field(
                &self.response_type,
                "response_type",
            ))
        };
        let mut params = |entries: &[(String, String)], field: &str| match ParamMap::parse_field(
            entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            field,
        ) {
            Ok(map) => Some(map),
            Err(errors) => {
                e.0.extend(errors.0);
                None
            }
        };
        let authorization_params = params(&self.authorization_params, "authorization_params");
        let token_params = params(&self.token_params, "token_params");
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
        let token_request_format = if client_auth == Some(ClientAuthMethod::JsonBody) {
            TokenRequestFormat::Json
        } else {
            token_request_format
        };
        let tokens = self.tokens.parse(&mut e);
        let refresh = self.refresh.parse(&mut e);
        let issuer = optional_url(&mut e, &self.issuer, "issuer");
        if self.require_iss && self.issuer.is_empty() {
            e.push(FieldViolation::new(
                "issuer",
                "is required when require_iss is set",
            ));
        }
        let webhooks = self.webhooks.parse(&mut e);
        let checks = self
            .checks
            .parse(!self.base_uri.is_empty(), !self.issuer.is_empty(), &mut e);
        let revocation = match self.revocation {
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
        };
        let allowed_hosts = super::parse_allowed_hosts(self.allowed_hosts, &mut e);
        if grant_type == Some(GrantType::Password) && !self.allow_password_grant {
            e.push(FieldViolation::new(
                "allow_password_grant",
                "must be set to use the deprecated password grant",
            ));
        }
        if !e.is_empty() {
            return Err(e);
        }
        let config = match (
            name,
            grant_type,
            token_url,
            client_id,
            scopes,
            scope_separator,
            response_type,
            authorization_params,
            token_params,
            client_auth,
        ) {
            (
                Some(name),
                Some(grant_type),
                Some(token_url),
                Some(client_id),
                Some(scopes),
                Some(scope_separator),
                Some(response_type),
                Some(authorization_params),
                Some(token_params),
                Some(client_auth),
            ) => IntegrationConfig {
                name,
                description: self.description,
                grant_type,
                authorization_url,
                token_url,
                revocation_url,
                base_uri,
                client_id,
                scopes,
                scope_separator,
                redirect_uri,
                response_type,
                authorization_params,
                token_params,
                client_auth,
                token_request_format,
                tokens,
                refresh,
                checks,
                connect,
                allow_password_grant: self.allow_password_grant,
                pkce: self.pkce.unwrap_or(true),
                issuer,
                require_iss: self.require_iss,
                webhooks,
                revocation,
                allowed_hosts,
            },
            // Every `None` above pushed a violation, so `e` was not empty.
            _ => return Err(e),
        };
        super::check_url_placeholders(&config, &mut e);
        e.into_result(|| config)
    }
}
