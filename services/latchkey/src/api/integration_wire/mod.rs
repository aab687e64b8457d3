//! Integrations on the wire: configurations in (with templates and discovery filling them),
//! integrations, templates and webhook verdicts out.

use std::collections::BTreeMap;

use latchkey_domain::integration::{self, ClientAuthenticationInput, IntegrationConfigInput};
use latchkey_domain::{FieldViolation, IntegrationConfig, ValidationErrors};
use latchkey_proto::v1 as pb;
use latchkey_store::Page;
use secrecy::{ExposeSecret as _, SecretString};

mod checks;
mod client;
mod connect;
mod endpoints;
mod refresh;
mod tokens;
mod webhooks;

use super::convert::{grant_type_from_pb, grant_type_to_pb, next_page_token, timestamp};
use crate::integrations::webhooks::WebhookVerdict;

/// The wire config, checked: enum values never seen are reported here, the rest by the domain's
/// parser, all under `config.<field>`, into `errors`.
pub fn config(
    config: Option<pb::IntegrationConfig>,
    errors: &mut ValidationErrors,
) -> Option<IntegrationConfig> {
    let input = config_input(config, errors)?;
    parse_config(input, errors)
}

/// Parses a (possibly template-filled) input, reporting under `config.<field>`.
pub fn parse_config(
    input: IntegrationConfigInput,
    errors: &mut ValidationErrors,
) -> Option<IntegrationConfig> {
    // The domain reports field names without the `config.` prefix; callers send them nested.
    match input.parse() {
        Ok(config) => Some(config),
        Err(domain) => {
            errors
                .0
                .extend(domain.0.into_iter().map(|v| v.within("config")));
            None
        }
    }
}

/// The wire config as unchecked domain input; enum values never seen are reported here.
pub fn config_input(
    config: Option<pb::IntegrationConfig>,
    errors: &mut ValidationErrors,
) -> Option<IntegrationConfigInput> {
    let Some(c) = config else {
        errors.push(FieldViolation::new("config", "must be set"));
        return None;
    };
    let endpoints = endpoints::input(&c);
    let client = client::input(&c, errors);
    let tokens = tokens::input(&c);
    let refresh = refresh::input(&c);
    let checks = checks::input(&c);
    let connect = connect::input(&c);
    let webhooks = webhooks::input(&c, errors);
    let grant_type = match errors.check(grant_type_from_pb(c.grant_type, "config.grant_type")) {
        Some(Some(grant)) => grant.as_str().to_owned(),
        _ => String::new(),
    };
    let input = IntegrationConfigInput {
        refresh,
        name: c.name,
        description: c.description,
        grant_type,
        scopes: c.scopes,
        scope_separator: c.scope_separator,
        response_type: c.response_type,
        authorization_params: sorted(c.authorization_params),
        token_params: sorted(c.token_params),
        allow_password_grant: c.allow_password_grant,
        pkce: c.pkce,
        endpoints,
        client,
        tokens,
        checks,
        connect,
        webhooks,
    };
    Some(input)
}

/// A map's entries in key order.
fn sorted(map: std::collections::HashMap<String, String>) -> Vec<(String, String)> {
    let sorted: BTreeMap<String, String> = map.into_iter().collect();
    sorted.into_iter().collect()
}

/// A template as the configuration it fills (name and client id left for the caller).
pub fn template_to_pb(template: &latchkey_domain::templates::Template) -> pb::Template {
    let mut input = IntegrationConfigInput {
        name: template.display_name.clone(),
        client: ClientAuthenticationInput {
            client_id: "client".to_owned(),
            ..Default::default()
        },
        ..Default::default()
    };
    template.fill(&mut input);
    // Every template parses (the catalogue's test says so); one that did not shows its fields
    // unset rather than fail the listing.
    let config = input.parse().ok().map(|c| pb::IntegrationConfig {
        name: String::new(),
        client_id: String::new(),
        ..config_to_pb(&c)
    });
    pb::Template {
        name: template.name.clone(),
        description: template.description.clone(),
        config,
    }
}

pub fn config_to_pb(c: &IntegrationConfig) -> pb::IntegrationConfig {
    let mut out = pb::IntegrationConfig {
        name: c.name.as_str().to_owned(),
        description: c.description.clone(),
        grant_type: grant_type_to_pb(c.grant_type) as i32,
        scopes: c.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        scope_separator: Some(c.scope_separator.as_str().to_owned()),
        response_type: c.response_type.as_str().to_owned(),
        authorization_params: c
            .authorization_params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        token_params: c
            .token_params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        allow_password_grant: c.allow_password_grant,
        pkce: Some(c.pkce),
        ..Default::default()
    };
    endpoints::fill(&c.endpoints, &mut out);
    client::fill(&c.client, &mut out);
    tokens::fill(&c.tokens, &mut out);
    refresh::fill(&c.refresh, &mut out);
    checks::fill(&c.checks, &mut out);
    connect::fill(&c.connect, &mut out);
    webhooks::fill(&c.webhooks, &mut out);
    out
}

pub fn integration_to_pb(state: &integration::State, callback_url: &str) -> pb::Integration {
    pb::Integration {
        integration_id: state.id.to_string(),
        config: Some(config_to_pb(&state.config)),
        has_client_secret: state.client_secret.is_some(),
        client_secret_fingerprint: state
            .client_secret
            .as_ref()
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default(),
        has_webhook_secret: state.webhook_secret.is_some(),
        owner_tenant: state
            .owner
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        version: state.version,
        created_at: Some(timestamp(state.created_at)),
        updated_at: Some(timestamp(state.updated_at)),
        effective_redirect_uri: state
            .config
            .endpoints
            .redirect_uri
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_else(|| callback_url.to_owned()),
    }
}

/// A page of integrations, with the token of the next page.
/// A page of integrations, those the caller may not see left out (the page token still follows
/// the whole page, so a short page is not the last).
pub fn integrations_to_pb(
    states: &[integration::State],
    visible: impl Fn(&integration::State) -> bool,
    page: Page,
    callback_url: &str,
) -> pb::ListIntegrationsResponse {
    let ids: Vec<_> = states.iter().map(|s| *s.id.as_uuid()).collect();
    pb::ListIntegrationsResponse {
        integrations: states
            .iter()
            .filter(|s| visible(s))
            .map(|s| integration_to_pb(s, callback_url))
            .collect(),
        next_page_token: next_page_token(&ids, page),
    }
}

/// `VerifyWebhook`'s answer.
pub fn webhook_verdict_to_pb(answer: WebhookVerdict) -> pb::VerifyWebhookResponse {
    pb::VerifyWebhookResponse {
        valid: answer.verdict.is_ok(),
        reason: answer.verdict.err().unwrap_or_default(),
        provider_account_id: answer.provider_account_id.unwrap_or_default(),
        connection_id: answer
            .connection_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}

/// The client secret as `config` reads it: a `private_key_jwt` client's PEM private key or a
/// mutual-TLS client's PEM certificate and key (in lines), which the integrations' use case reads
/// as such; any other is a one-line secret.
pub(crate) fn client_secret(
    value: String,
    config: Option<&IntegrationConfig>,
    errors: &mut ValidationErrors,
) -> Option<SecretString> {
    if value.is_empty() {
        return None;
    }
    let secret = SecretString::from(value);
    if config.is_none_or(|c| !c.client.secret_is_pem()) {
        errors.check(latchkey_domain::check_secret(
            secret.expose_secret(),
            "client_secret",
        ))?;
    }
    Some(secret)
}
