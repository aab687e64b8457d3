//! Provider templates: the catalogue of well-known providers, one file each under the
//! repository's `providers/` folder (compiled in), with the facts from each provider's own OAuth
//! documentation (the page is in the file): endpoints, scope separator, client authentication,
//! PKCE, refresh-token behaviour, revocation, validation, account mapping, and the values a
//! connection brings. The caller still brings the name, client id, secret and scopes; what the
//! caller sets wins over the template.
//!
//! `docs/PROVIDERS.md` is generated from the files ([`catalogue_markdown`]); a test fails when it
//! is stale.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::TokenPlacement;
use crate::integration::{ConnectionParam, IntegrationConfigInput, RevocationShape};

include!(concat!(env!("OUT_DIR"), "/providers.rs"));

/// How tokens are checked, as a provider file says it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationFacts {
    pub kind: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub expected_status: u32,
}

/// Where accounts come from, as a provider file says it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFacts {
    pub kind: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub pointer: String,
    #[serde(default)]
    pub method: String,
}

/// One provider file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The file's name (`providers/<name>.toml`).
    #[serde(skip)]
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// The provider's documentation page the facts come from.
    pub docs: String,
    #[serde(default = "authorization_code")]
    pub grant_type: String,
    #[serde(default)]
    pub authorization_url: String,
    /// RFC 8628's endpoint, for the device_code grant.
    #[serde(default)]
    pub device_authorization_url: String,
    /// RFC 9126's endpoint, for providers that require pushed authorization requests.
    #[serde(default)]
    pub pushed_authorization_url: String,
    pub token_url: String,
    #[serde(default)]
    pub revocation_url: String,
    #[serde(default)]
    pub base_uri: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default = "space")]
    pub scope_separator: String,
    /// `""` (Basic header), `request_body`, `json_body` or `private_key_jwt`.
    #[serde(default)]
    pub client_auth: String,
    /// `private_key_jwt` only: `RS256` (default), `PS256` or `ES256`.
    #[serde(default)]
    pub client_assertion_algorithm: String,
    /// `private_key_jwt` only: `issuer` or `token_url` (default: the issuer when known).
    #[serde(default)]
    pub client_assertion_audience: String,
    #[serde(default)]
    pub token_request_format: String,
    /// `None`: on (PKCE S256).
    #[serde(default)]
    pub pkce: Option<bool>,
    #[serde(default)]
    pub authorization_params: BTreeMap<String, String>,
    #[serde(default)]
    pub token_params: BTreeMap<String, String>,
    #[serde(default)]
    pub metadata_fields: Vec<String>,
    /// For providers whose token responses carry no `expires_in`.
    #[serde(default)]
    pub default_token_lifetime_secs: Option<u32>,
    /// What an in-doubt refresh token may do (`never`, `within` with the grace, `always`): from
    /// whether the provider rotates refresh tokens and what it does with a spent one. Required:
    /// every file says it.
    pub refresh_token_reuse: String,
    #[serde(default)]
    pub refresh_token_reuse_grace_secs: Option<u32>,
    #[serde(default)]
    pub refresh_token_max_idle_secs: Option<u32>,
    /// The refresh token's lifetime as the documentation words it (for the catalogue page).
    pub refresh_token_lifetime: String,
    #[serde(default)]
    pub token_placement: Option<TokenPlacement>,
    #[serde(default)]
    pub token_response: BTreeMap<String, String>,
    #[serde(default)]
    pub callback_params: Vec<String>,
    #[serde(default)]
    pub connection_params: Vec<ConnectionParam>,
    /// Where a host chosen by a connection parameter may lead (the provider's own domains).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub revocation: Option<RevocationShape>,
    #[serde(default)]
    pub validation: Option<ValidationFacts>,
    #[serde(default)]
    pub account: Option<AccountFacts>,
    /// How the provider's webhooks are verified, read and routed.
    #[serde(default)]
    pub webhook: Option<crate::webhook_facts::WebhookFacts>,
}

fn authorization_code() -> String {
    "authorization_code".to_owned()
}

fn space() -> String {
    " ".to_owned()
}

/// Parses one provider file.
pub fn parse_file(name: &str, text: &str) -> Result<Template, String> {
    let mut template: Template =
        toml::from_str(text).map_err(|e| format!("providers/{name}.toml: {e}"))?;
    template.name = name.to_owned();
    Ok(template)
}

static CATALOGUE: LazyLock<Vec<Template>> = LazyLock::new(|| {
    // Every file parses (a test says so); one that did not would be left out, not crash a server.
    FILES
        .iter()
        .filter_map(|(name, text)| parse_file(name, text).ok())
        .collect()
});

/// Every template, by name.
pub fn all() -> &'static [Template] {
    &CATALOGUE
}

pub fn find(name: &str) -> Option<&'static Template> {
    all().iter().find(|t| t.name == name)
}

impl Template {
    /// Fills what `input` leaves unset with this template's values; what the caller set wins.
    pub fn fill(&self, input: &mut IntegrationConfigInput) {
        let fill = |field: &mut String, value: &str| {
            if field.is_empty() {
                *field = value.to_owned();
            }
        };
        // Not the description: the template's is written for the platform's engineers
        // (ListTemplates shows it), while an integration's shows to customers on the connect page.
        fill(&mut input.grant_type, &self.grant_type);
        fill(
            &mut input.endpoints.authorization_url,
            &self.authorization_url,
        );
        fill(
            &mut input.endpoints.device_authorization_url,
            &self.device_authorization_url,
        );
        fill(
            &mut input.endpoints.pushed_authorization_url,
            &self.pushed_authorization_url,
        );
        fill(&mut input.endpoints.token_url, &self.token_url);
        fill(&mut input.endpoints.revocation_url, &self.revocation_url);
        fill(&mut input.endpoints.base_uri, &self.base_uri);
        fill(&mut input.endpoints.issuer, &self.issuer);
        fill(&mut input.client.client_auth, &self.client_auth);
        fill(
            &mut input.client.client_assertion_algorithm,
            &self.client_assertion_algorithm,
        );
        fill(
            &mut input.client.client_assertion_audience,
            &self.client_assertion_audience,
        );
        fill(
            &mut input.client.token_request_format,
            &self.token_request_format,
        );
        if input.scope_separator.is_none() {
            input.scope_separator = Some(self.scope_separator.clone());
        }
        if input.pkce.is_none() {
            input.pkce = self.pkce;
        }
        let merge = |params: &mut Vec<(String, String)>, defaults: &BTreeMap<String, String>| {
            for (key, value) in defaults {
                if !params.iter().any(|(k, _)| k == key) {
                    params.push((key.clone(), value.clone()));
                }
            }
            params.sort();
        };
        merge(&mut input.authorization_params, &self.authorization_params);
        merge(&mut input.token_params, &self.token_params);
        merge(&mut input.tokens.token_response, &self.token_response);
        if input.tokens.metadata_fields.is_empty() {
            input.tokens.metadata_fields = self.metadata_fields.clone();
        }
        if input.tokens.default_token_lifetime_secs.is_none() {
            input.tokens.default_token_lifetime_secs = self.default_token_lifetime_secs;
        }
        if input.refresh.refresh_token_reuse.is_empty() {
            input.refresh.refresh_token_reuse = self.refresh_token_reuse.clone();
            input.refresh.refresh_token_reuse_grace_secs = self.refresh_token_reuse_grace_secs;
        }
        if input.refresh.refresh_token_max_idle_secs.is_none() {
            input.refresh.refresh_token_max_idle_secs = self.refresh_token_max_idle_secs;
        }
        if input.tokens.token_placement.is_none() {
            input.tokens.token_placement = self.token_placement.clone();
        }
        if input.connect.callback_params.is_empty() {
            input.connect.callback_params = self.callback_params.clone();
        }
        if input.connect.connection_params.is_empty() {
            input.connect.connection_params = self.connection_params.clone();
        }
        if input.endpoints.allowed_hosts.is_empty() {
            input.endpoints.allowed_hosts = self.allowed_hosts.clone();
        }
        if input.endpoints.revocation.is_none()
            && input.endpoints.revocation_url == self.revocation_url
        {
            input.endpoints.revocation = self.revocation.clone();
        }
        if let Some(v) = self
            .validation
            .as_ref()
            .filter(|_| input.checks.validation_kind.is_empty())
        {
            input.checks.validation_kind = v.kind.clone();
            input.checks.validation_url = v.url.clone();
            input.checks.probe_method = v.method.clone();
            input.checks.probe_path = v.path.clone();
            input.checks.probe_status = v.expected_status;
        }
        if let Some(a) = self
            .account
            .as_ref()
            .filter(|_| input.checks.account_kind.is_empty())
        {
            input.checks.account_kind = a.kind.clone();
            input.checks.account_url = a.url.clone();
            input.checks.account_pointer = a.pointer.clone();
            input.checks.account_method = a.method.clone();
        }
        if let Some(w) = &self.webhook {
            let webhooks = &mut input.webhooks;
            if webhooks.webhook.is_none() {
                webhooks.webhook = Some(w.scheme());
            }
            if webhooks.webhook_routing == crate::delivery::WebhookRouting::default() {
                webhooks.webhook_routing = w.routing();
            }
        }
    }

    /// What is notable about the provider, for the catalogue page.
    fn notes(&self) -> String {
        let mut notes = Vec::new();
        if !self.connection_params.is_empty() {
            let names: Vec<_> = self
                .connection_params
                .iter()
                .map(|p| format!("`{{{}}}`", p.name))
                .collect();
            notes.push(format!("per connection: {}", names.join(", ")));
        }
        let customer_host = [&self.token_url, &self.revocation_url, &self.base_uri]
            .iter()
            .any(|url| !crate::integration::host_choosing_params(url).is_empty());
        if customer_host && self.allowed_hosts.is_empty() {
            notes.push(
                "**the customer's host**: only with `allowed_hosts` or no client secret (each \
                 connection's own client)"
                    .to_owned(),
            );
        }
        if !self.callback_params.is_empty() {
            notes.push(format!(
                "keeps `{}` from the callback",
                self.callback_params.join("`, `")
            ));
        }
        if let Some(r) = &self.revocation {
            notes.push(format!("revokes with {} ({} auth)", r.method, r.auth));
        }
        if let Some(a) = &self.account {
            notes.push(format!("account: {}", a.kind));
        }
        if let Some(TokenPlacement::Header { name, prefix }) = &self.token_placement {
            notes.push(format!(
                "token in `{name}: {}`",
                if prefix.is_empty() {
                    "<token>".to_owned()
                } else {
                    format!("{prefix} <token>")
                }
            ));
        }
        if self.token_request_format == "json" || self.client_auth == "json_body" {
            notes.push("JSON token requests".to_owned());
        }
        if self.pkce == Some(false) {
            notes.push("no PKCE".to_owned());
        }
        if self.webhook.is_some() {
            notes.push("webhooks (see WEBHOOKS.md)".to_owned());
        }
        notes.join("; ")
    }
}

/// `docs/PROVIDERS.md`, as the files say it.
pub fn catalogue_markdown(templates: &[Template]) -> String {
    let mut out = String::from(
        "# Provider catalogue\n\n\
         Generated from `providers/*.toml` by `crates/latchkey-domain` (a test fails when this page \
         is stale; regenerate with `LATCHKEY_WRITE_PROVIDERS_MD=1 cargo test -p latchkey-domain \
         providers_md`). Each file holds the facts of one provider from its own OAuth \
         documentation, linked below. Use one with `CreateIntegration(template: \"<name>\")` or \
         `latchkey integrations create --template <name>`; what you set wins.\n\n",
    );
    out.push_str(&format!("{} providers.\n\n", templates.len()));
    out.push_str("| name | provider | grant | client auth | refresh tokens | reuse when in doubt | notes | source |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for t in templates {
        let auth = match t.client_auth.as_str() {
            "" => "Basic",
            "request_body" => "body",
            other => other,
        };
        let grant = match t.grant_type.as_str() {
            "" | "authorization_code" => "authorization code",
            "client_credentials" => "client credentials",
            "jwt_bearer" => "service account (JWT bearer)",
            "device_code" => "device authorization",
            other => other,
        };
        let reuse = match t.refresh_token_reuse_grace_secs {
            Some(grace) => format!("{} {grace} s", t.refresh_token_reuse),
            None => t.refresh_token_reuse.clone(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | [docs]({}) |\n",
            t.name,
            t.display_name,
            grant,
            auth,
            t.refresh_token_lifetime.replace('|', "/"),
            reuse,
            t.notes().replace('|', "/"),
            t.docs
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integration::{ClientAuthenticationInput, EndpointsInput};

    fn every() -> Vec<Template> {
        FILES
            .iter()
            .map(|(name, text)| parse_file(name, text).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    #[test]
    fn every_provider_file_is_well_formed_and_makes_a_valid_integration() {
        let templates = every();
        assert!(templates.len() >= 50, "{} providers", templates.len());
        assert_eq!(all().len(), templates.len(), "none left out");
        for t in &templates {
            let name = &t.name;
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}: file names are lowercase words with dashes"
            );
            assert!(t.docs.starts_with("https://"), "{name}: docs link is https");
            assert!(
                !t.description.is_empty() && !t.display_name.is_empty(),
                "{name}"
            );
            assert!(!t.refresh_token_lifetime.is_empty(), "{name}");
            let mut input = IntegrationConfigInput {
                name: t.display_name.clone(),
                client: ClientAuthenticationInput {
                    client_id: "client".to_owned(),
                    ..Default::default()
                },
                ..Default::default()
            };
            t.fill(&mut input);
            // The domain's own checks: https, every {name} declared, consistent quirks.
            let config = input
                .parse()
                .unwrap_or_else(|e| panic!("providers/{name}.toml: {e}"));
            assert!(
                config.endpoints.token_url.as_str().starts_with("https://"),
                "{name}"
            );
            // A platform's shared client goes only where the provider is, unless the template
            // says the customer's host is the provider (usable with the customer's own client).
            let shared = config.check_shared_client(true);
            assert_eq!(
                shared.is_err(),
                t.notes().contains("the customer's host"),
                "{name}: {shared:?}"
            );
            if config.grant_type == crate::GrantType::AuthorizationCode {
                assert!(config.endpoints.authorization_url.is_some(), "{name}");
            }
            // A quirk that contradicts another: a grace only with "within".
            assert_eq!(
                t.refresh_token_reuse == "within",
                t.refresh_token_reuse_grace_secs.is_some(),
                "{name}: refresh_token_reuse_grace_secs goes with within, and only with it"
            );
        }
    }

    #[test]
    fn the_issues_providers_are_all_there() {
        for name in [
            "quickbooks",
            "notion",
            "shopify",
            "zendesk",
            "okta",
            "salesforce",
            "salesforce-sandbox",
            "salesforce-mydomain",
            "stripe-connect",
            "asana",
            "airtable",
            "pipedrive",
            "intercom",
            "linear",
            "discord",
            "figma",
            "miro",
            "monday",
            "clickup",
            "calendly",
            "docusign",
            "mailchimp",
            "zoho",
            "freshdesk",
            "gitlab",
            "bitbucket",
            "webex",
            "gusto",
            "spotify",
            "twitch",
            "reddit",
            "typeform",
            "smartsheet",
            "google",
            "microsoft",
            "hubspot",
            "slack",
            "github",
            "atlassian",
            "dropbox",
            "zoom",
            "xero",
            "box",
            "linkedin",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn providers_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROVIDERS.md");
        let expected = catalogue_markdown(all());
        if std::env::var_os("LATCHKEY_WRITE_PROVIDERS_MD").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            current == expected,
            "docs/PROVIDERS.md is stale: run LATCHKEY_WRITE_PROVIDERS_MD=1 cargo test -p \
             latchkey-domain providers_md"
        );
    }

    #[test]
    fn webhooks_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/WEBHOOKS.md");
        let (start, end) = ("<!-- providers:start -->\n", "<!-- providers:end -->");
        let with: Vec<_> = all()
            .iter()
            .filter_map(|t| {
                let w = t.webhook.as_ref()?;
                Some((t.name.as_str(), t.display_name.as_str(), w))
            })
            .collect();
        let generated = crate::webhook_facts::webhooks_markdown(&with);
        let current = std::fs::read_to_string(path).unwrap_or_default();
        let (Some(from), Some(to)) = (current.find(start), current.find(end)) else {
            panic!("docs/WEBHOOKS.md has no {start:?} … {end:?} section");
        };
        let expected = format!("{}{start}{generated}{}", &current[..from], &current[to..]);
        if std::env::var_os("LATCHKEY_WRITE_WEBHOOKS_MD").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        assert!(
            current == expected,
            "docs/WEBHOOKS.md is stale: run LATCHKEY_WRITE_WEBHOOKS_MD=1 cargo test -p \
             latchkey-domain webhooks_md"
        );
        // Each template's webhook settings make a valid webhook section.
        for t in all() {
            let Some(w) = &t.webhook else { continue };
            assert!(w.docs.starts_with("https://"), "{}", t.name);
            let mut errors = crate::ValidationErrors::default();
            crate::integration::WebhookSettingsInput {
                webhook: Some(w.scheme()),
                webhook_max_body_bytes: None,
                webhook_routing: w.routing(),
            }
            .parse(&mut errors);
            assert!(errors.is_empty(), "providers/{}.toml: {errors}", t.name);
        }
    }

    #[test]
    fn what_the_caller_sets_wins_over_the_template() {
        let mut input = IntegrationConfigInput {
            name: "Google".to_owned(),
            authorization_params: vec![("prompt".to_owned(), "select_account".to_owned())],
            endpoints: EndpointsInput {
                token_url: "https://oauth2.example.com/token".to_owned(),
                ..Default::default()
            },
            client: ClientAuthenticationInput {
                client_id: "client".to_owned(),
                ..Default::default()
            },
            ..Default::default()
        };
        find("google").unwrap().fill(&mut input);
        let config = input.parse().unwrap();
        assert_eq!(
            config.endpoints.token_url.as_str(),
            "https://oauth2.example.com/token"
        );
        assert_eq!(
            config.authorization_params.get("prompt"),
            Some("select_account")
        );
        assert_eq!(
            config.authorization_params.get("access_type"),
            Some("offline")
        );
        assert!(find("nope").is_none());
    }

    #[test]
    fn a_shops_template_asks_each_connection_for_its_shop() {
        let mut input = IntegrationConfigInput {
            name: "Shopify".to_owned(),
            client: ClientAuthenticationInput {
                client_id: "client".to_owned(),
                ..Default::default()
            },
            ..Default::default()
        };
        find("shopify").unwrap().fill(&mut input);
        let config = input.parse().unwrap();
        assert_eq!(config.connect.connection_params[0].name, "shop");
        let values = [("shop".to_owned(), "acme".to_owned())].into();
        let filled = config.for_connection(&values).unwrap();
        assert_eq!(
            filled.endpoints.token_url.as_str(),
            "https://acme.myshopify.com/admin/oauth/access_token"
        );
    }
}
