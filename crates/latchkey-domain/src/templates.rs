//! Provider templates: the facts of well-known providers (endpoints, scope separator, required
//! parameters, fields worth keeping), so an integration starts right. Each is from the provider's
//! own OAuth documentation; the caller still brings the name, client id, secret and scopes.

use crate::integration::IntegrationConfigInput;

#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    pub description: &'static str,
    pub grant_type: &'static str,
    pub authorization_url: &'static str,
    pub token_url: &'static str,
    pub revocation_url: &'static str,
    pub base_uri: &'static str,
    pub issuer: &'static str,
    pub scope_separator: &'static str,
    pub authorization_params: &'static [(&'static str, &'static str)],
    pub token_params: &'static [(&'static str, &'static str)],
    /// `""`: the default (Basic header).
    pub client_auth: &'static str,
    pub metadata_fields: &'static [&'static str],
    /// For providers whose token responses carry no `expires_in`.
    pub default_token_lifetime_secs: Option<u32>,
    /// What an in-doubt refresh token may do (`never`, `within` with the grace, `always`): from
    /// whether the provider rotates refresh tokens and what it does with a spent one.
    pub refresh_token_reuse: &'static str,
    pub refresh_token_reuse_grace_secs: Option<u32>,
}

const BASE: Template = Template {
    name: "",
    description: "",
    grant_type: "authorization_code",
    authorization_url: "",
    token_url: "",
    revocation_url: "",
    base_uri: "",
    issuer: "",
    scope_separator: " ",
    authorization_params: &[],
    token_params: &[],
    client_auth: "",
    metadata_fields: &[],
    default_token_lifetime_secs: None,
    // Unknown or rotating with reuse detection: never sent again once in doubt.
    refresh_token_reuse: "never",
    refresh_token_reuse_grace_secs: None,
};

pub const TEMPLATES: &[Template] = &[
    Template {
        name: "google",
        description: "Google APIs; offline access and a consent prompt, so a refresh token is issued",
        authorization_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        revocation_url: "https://oauth2.googleapis.com/revoke",
        base_uri: "https://www.googleapis.com",
        issuer: "https://accounts.google.com",
        authorization_params: &[("access_type", "offline"), ("prompt", "consent")],
        // Refresh tokens are not rotated: the same one stays valid.
        refresh_token_reuse: "always",
        ..BASE
    },
    Template {
        name: "microsoft",
        description: "Microsoft Entra ID (multi-tenant `common` endpoint); ask for offline_access to get a refresh token",
        authorization_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        base_uri: "https://graph.microsoft.com",
        client_auth: "request_body",
        ..BASE
    },
    Template {
        name: "salesforce",
        description: "Salesforce production orgs; the API base is the connection's instance_url",
        authorization_url: "https://login.salesforce.com/services/oauth2/authorize",
        token_url: "https://login.salesforce.com/services/oauth2/token",
        revocation_url: "https://login.salesforce.com/services/oauth2/revoke",
        issuer: "https://login.salesforce.com",
        metadata_fields: &["instance_url", "id", "issued_at"],
        // Salesforce sends no expires_in; sessions default to two hours.
        default_token_lifetime_secs: Some(7200),
        // Refresh tokens are not rotated: the same one stays valid.
        refresh_token_reuse: "always",
        ..BASE
    },
    Template {
        name: "hubspot",
        description: "HubSpot; client credentials go in the request body",
        authorization_url: "https://app.hubspot.com/oauth/authorize",
        token_url: "https://api.hubapi.com/oauth/v1/token",
        base_uri: "https://api.hubapi.com",
        client_auth: "request_body",
        // Refresh tokens are not rotated: the same one stays valid.
        refresh_token_reuse: "always",
        ..BASE
    },
    Template {
        name: "slack",
        description: "Slack apps (OAuth v2); scopes are comma-separated",
        authorization_url: "https://slack.com/oauth/v2/authorize",
        token_url: "https://slack.com/api/oauth.v2.access",
        base_uri: "https://slack.com/api",
        scope_separator: ",",
        client_auth: "request_body",
        metadata_fields: &[
            "team",
            "enterprise",
            "app_id",
            "bot_user_id",
            "is_enterprise_install",
        ],
        ..BASE
    },
    Template {
        name: "github",
        description: "GitHub OAuth apps; scopes are comma-separated in responses",
        authorization_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        base_uri: "https://api.github.com",
        scope_separator: ",",
        client_auth: "request_body",
        ..BASE
    },
    Template {
        name: "atlassian",
        description: "Atlassian Cloud (Jira, Confluence) OAuth 2.0 (3LO)",
        authorization_url: "https://auth.atlassian.com/authorize",
        token_url: "https://auth.atlassian.com/oauth/token",
        base_uri: "https://api.atlassian.com",
        authorization_params: &[("audience", "api.atlassian.com"), ("prompt", "consent")],
        client_auth: "request_body",
        ..BASE
    },
    Template {
        name: "dropbox",
        description: "Dropbox; token_access_type=offline for a refresh token",
        authorization_url: "https://www.dropbox.com/oauth2/authorize",
        token_url: "https://api.dropboxapi.com/oauth2/token",
        base_uri: "https://api.dropboxapi.com",
        authorization_params: &[("token_access_type", "offline")],
        metadata_fields: &["account_id", "uid"],
        // Refresh tokens are not rotated: the same one stays valid.
        refresh_token_reuse: "always",
        ..BASE
    },
    Template {
        name: "zoom",
        description: "Zoom OAuth apps",
        authorization_url: "https://zoom.us/oauth/authorize",
        token_url: "https://zoom.us/oauth/token",
        revocation_url: "https://zoom.us/oauth/revoke",
        base_uri: "https://api.zoom.us/v2",
        ..BASE
    },
    Template {
        name: "xero",
        description: "Xero; ask for offline_access to get a refresh token",
        authorization_url: "https://login.xero.com/identity/connect/authorize",
        token_url: "https://identity.xero.com/connect/token",
        revocation_url: "https://identity.xero.com/connect/revocation",
        base_uri: "https://api.xero.com",
        issuer: "https://identity.xero.com",
        // Rotated, and a spent refresh token is accepted again for 30 minutes.
        refresh_token_reuse: "within",
        refresh_token_reuse_grace_secs: Some(1800),
        ..BASE
    },
    Template {
        name: "box",
        description: "Box; client credentials go in the request body",
        authorization_url: "https://account.box.com/api/oauth2/authorize",
        token_url: "https://api.box.com/oauth2/token",
        revocation_url: "https://api.box.com/oauth2/revoke",
        base_uri: "https://api.box.com/2.0",
        client_auth: "request_body",
        ..BASE
    },
    Template {
        name: "linkedin",
        description: "LinkedIn; client credentials go in the request body",
        authorization_url: "https://www.linkedin.com/oauth/v2/authorization",
        token_url: "https://www.linkedin.com/oauth/v2/accessToken",
        revocation_url: "https://www.linkedin.com/oauth/v2/revoke",
        base_uri: "https://api.linkedin.com",
        client_auth: "request_body",
        // Refresh tokens are not rotated: the same one stays valid.
        refresh_token_reuse: "always",
        ..BASE
    },
];

pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

impl Template {
    /// Fills what `input` leaves unset with this template's values; what the caller set wins.
    pub fn fill(&self, input: &mut IntegrationConfigInput) {
        let fill = |field: &mut String, value: &str| {
            if field.is_empty() {
                *field = value.to_owned();
            }
        };
        fill(&mut input.grant_type, self.grant_type);
        fill(&mut input.authorization_url, self.authorization_url);
        fill(&mut input.token_url, self.token_url);
        fill(&mut input.revocation_url, self.revocation_url);
        fill(&mut input.base_uri, self.base_uri);
        fill(&mut input.issuer, self.issuer);
        fill(&mut input.client_auth, self.client_auth);
        if input.scope_separator.is_none() {
            input.scope_separator = Some(self.scope_separator.to_owned());
        }
        let merge = |params: &mut Vec<(String, String)>, defaults: &[(&str, &str)]| {
            for (key, value) in defaults {
                if !params.iter().any(|(k, _)| k == key) {
                    params.push(((*key).to_owned(), (*value).to_owned()));
                }
            }
            params.sort();
        };
        merge(&mut input.authorization_params, self.authorization_params);
        merge(&mut input.token_params, self.token_params);
        if input.metadata_fields.is_empty() {
            input.metadata_fields = self
                .metadata_fields
                .iter()
                .map(|f| (*f).to_owned())
                .collect();
        }
        if input.default_token_lifetime_secs.is_none() {
            input.default_token_lifetime_secs = self.default_token_lifetime_secs;
        }
        if input.refresh_token_reuse.is_empty() {
            input.refresh_token_reuse = self.refresh_token_reuse.to_owned();
            input.refresh_token_reuse_grace_secs = self.refresh_token_reuse_grace_secs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_makes_a_valid_integration() {
        assert!(TEMPLATES.len() >= 10);
        for template in TEMPLATES {
            let mut input = IntegrationConfigInput {
                name: template.name.to_owned(),
                client_id: "client".to_owned(),
                ..Default::default()
            };
            template.fill(&mut input);
            let config = input
                .parse()
                .unwrap_or_else(|e| panic!("template {}: {e}", template.name));
            assert!(
                config.token_url.as_str().starts_with("https://"),
                "{}",
                template.name
            );
            assert!(config.authorization_url.is_some(), "{}", template.name);
        }
    }

    #[test]
    fn what_the_caller_sets_wins_over_the_template() {
        let mut input = IntegrationConfigInput {
            name: "Google".to_owned(),
            client_id: "client".to_owned(),
            token_url: "https://oauth2.example.com/token".to_owned(),
            authorization_params: vec![("prompt".to_owned(), "select_account".to_owned())],
            ..Default::default()
        };
        find("google").unwrap().fill(&mut input);
        let config = input.parse().unwrap();
        assert_eq!(
            config.token_url.as_str(),
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
}
