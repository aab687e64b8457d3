//! The caller's form of a configuration and its parsing: every violation named, none left out.

use super::config::*;
use crate::{
    FieldViolation, IntegrationName, ParamMap, ResponseType, Scope, ScopeSeparator,
    ValidationErrors,
};

/// An integration's configuration as a caller sent it: plain strings, not yet checked. Empty
/// strings and zeros mean "not set" (and take the default where there is one), as in proto3.
#[derive(Debug, Clone, Default)]
pub struct IntegrationConfigInput {
    pub name: String,
    pub description: String,
    pub grant_type: String,
    /// Where the provider is.
    pub endpoints: super::EndpointsInput,
    /// Who Latchkey is at the provider and how token requests say so.
    pub client: super::ClientAuthenticationInput,
    pub scopes: Vec<String>,
    /// `None` takes the standard space.
    pub scope_separator: Option<String>,
    pub response_type: String,
    pub authorization_params: Vec<(String, String)>,
    pub token_params: Vec<(String, String)>,
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
    /// How the provider's webhooks are verified.
    pub webhooks: super::WebhookSettingsInput,
}

impl IntegrationConfigInput {
    /// Checks every field and reports every invalid one.
    pub fn parse(self) -> Result<IntegrationConfig, ValidationErrors> {
        let mut e = ValidationErrors::default();
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
        if grant_type == Some(GrantType::AuthorizationCode)
            && self.endpoints.authorization_url.is_empty()
        {
            e.push(FieldViolation::new(
                "authorization_url",
                "is required for the authorization_code grant",
            ));
        }
        if grant_type == Some(GrantType::DeviceCode)
            && self.endpoints.device_authorization_url.is_empty()
        {
            e.push(FieldViolation::new(
                "device_authorization_url",
                "is required for the device_code grant",
            ));
        }
        let base_uri_set = !self.endpoints.base_uri.is_empty();
        let issuer_set = !self.endpoints.issuer.is_empty();
        let endpoints = self.endpoints.parse(&mut e);
        let client = self.client.parse(&mut e);
        check_assertion_audience(client.as_ref(), issuer_set, &mut e);
        let connect = self.connect.parse(&mut e);
        let scopes = scopes_within(&self.scopes, &connect.allowed_scopes, &mut e);
        let scope_separator = match &self.scope_separator {
            None => Some(ScopeSeparator::space()),
            Some(sep) => e.check(ScopeSeparator::parse_field(sep, "scope_separator")),
        };
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
        let tokens = self.tokens.parse(&mut e);
        let refresh = self.refresh.parse(&mut e);
        let webhooks = self.webhooks.parse(&mut e);
        let checks = self.checks.parse(base_uri_set, issuer_set, &mut e);
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
            endpoints,
            client,
            scopes,
            scope_separator,
            response_type,
            authorization_params,
            token_params,
        ) {
            (
                Some(name),
                Some(grant_type),
                Some(endpoints),
                Some(client),
                Some(scopes),
                Some(scope_separator),
                Some(response_type),
                Some(authorization_params),
                Some(token_params),
            ) => IntegrationConfig {
                name,
                description: self.description,
                grant_type,
                endpoints,
                client,
                scopes,
                scope_separator,
                response_type,
                authorization_params,
                token_params,
                tokens,
                refresh,
                checks,
                connect,
                allow_password_grant: self.allow_password_grant,
                pkce: self.pkce.unwrap_or(true),
                webhooks,
            },
            // Every `None` above pushed a violation, so `e` was not empty.
            _ => return Err(e),
        };
        super::check_url_placeholders(&config, &mut e);
        e.into_result(|| config)
    }
}

/// A `private_key_jwt` client addressing its assertions to the issuer needs one.
fn check_assertion_audience(
    client: Option<&super::ClientAuthentication>,
    issuer_set: bool,
    e: &mut ValidationErrors,
) {
    let audience = client.and_then(|c| c.client_assertion.as_ref()?.audience);
    if !issuer_set && audience == Some(super::ClientAssertionAudience::Issuer) {
        e.push(FieldViolation::new(
            "client_assertion_audience",
            "issuer needs the integration's issuer",
        ));
    }
}

/// The integration's scopes, each one of `allowed` when that is set.
fn scopes_within(
    scopes: &[String],
    allowed: &[Scope],
    e: &mut ValidationErrors,
) -> Option<Vec<Scope>> {
    let scopes = match Scope::parse_list(scopes, "scopes", IntegrationConfig::MAX_SCOPES) {
        Ok(scopes) => scopes,
        Err(errors) => {
            e.0.extend(errors.0);
            return None;
        }
    };
    if !allowed.is_empty() {
        for scope in scopes.iter().filter(|s| !allowed.contains(s)) {
            e.push(FieldViolation::new(
                "scopes",
                format!("{} is not one of allowed_scopes", scope.as_str()),
            ));
        }
    }
    Some(scopes)
}
