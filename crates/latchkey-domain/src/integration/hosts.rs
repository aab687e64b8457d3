//! Where credentials may go. A URL that receives the integration's client credentials, a refresh
//! token or an access token (token, revocation, introspection, account and API URLs) may take its
//! host from a connection parameter only when the integration lists the hosts it may reach
//! (`allowed_hosts`), or when it has no client secret of its own (each connection brings its own
//! client, or the grant is the customer's own, sent back only to the host they chose).

use super::config::IntegrationConfig;
use super::params::{ParamValues, fill, placeholders, url_fields};
use crate::{FieldViolation, ProviderUrl, ValidationErrors};

/// At most this many `allowed_hosts`.
pub const MAX_ALLOWED_HOSTS: usize = 32;

/// The connection parameters that choose the host of `template`: those in its authority, unless
/// a fixed domain of two labels or more follows the last of them (`{shop}.myshopify.com` stays
/// at Shopify whatever the shop; `{host}` and `{sub}.com` go wherever the value says).
pub fn host_choosing_params(template: &str) -> Vec<&str> {
    let rest = template.split_once("://").map_or(template, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some(last) = authority.rfind('}') else {
        return Vec::new();
    };
    let suffix = authority[last + 1..].split(':').next().unwrap_or_default();
    let fixed_domain = suffix
        .strip_prefix('.')
        .is_some_and(|domain| domain.split('.').filter(|l| !l.is_empty()).count() >= 2);
    if fixed_domain {
        Vec::new()
    } else {
        placeholders(authority).collect()
    }
}

/// One `allowed_hosts` entry: an exact host, or `*.example.com` for any name under it.
fn check_allowed_host(entry: &str, field: &str) -> Result<(), FieldViolation> {
    let name = entry.strip_prefix("*.").unwrap_or(entry);
    let labels: Vec<&str> = name.split('.').collect();
    let valid_label = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if entry.len() > 253 || !labels.iter().all(valid_label) {
        return Err(FieldViolation::new(
            field,
            "must be a lower-case host name or IPv4 address, or *.domain for the names under it",
        ));
    }
    if entry.starts_with("*.") && labels.len() < 2 {
        return Err(FieldViolation::new(
            field,
            "a wildcard must stand under a domain of two labels or more (*.example.com)",
        ));
    }
    Ok(())
}

/// Checks the caller's `allowed_hosts`, every violation named.
pub fn parse_allowed_hosts(input: Vec<String>, e: &mut ValidationErrors) -> Vec<String> {
    if input.len() > MAX_ALLOWED_HOSTS {
        e.push(FieldViolation::new(
            "allowed_hosts",
            format!("at most {MAX_ALLOWED_HOSTS} hosts"),
        ));
    }
    for (i, entry) in input.iter().enumerate() {
        e.check(check_allowed_host(entry, &format!("allowed_hosts[{i}]")));
    }
    input
}

/// Whether `host` is one of `allowed` (exactly, or under a `*.` entry).
fn host_allowed(allowed: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allowed.iter().any(|entry| match entry.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|under| under.len() > 1 && under.ends_with('.')),
        None => *entry == host,
    })
}

impl IntegrationConfig {
    /// The URLs Latchkey sends credentials or tokens to, with their field names.
    fn credential_urls(&self) -> Vec<(&'static str, &ProviderUrl)> {
        url_fields(self)
            .into_iter()
            .filter(|(field, _, _)| {
                !matches!(*field, "authorization_url" | "redirect_uri" | "issuer")
            })
            .map(|(field, url, _)| (field, url))
            .collect()
    }

    /// `(url field, parameter)` for each URL receiving credentials whose host a connection
    /// parameter chooses.
    pub fn host_choosing(&self) -> Vec<(&'static str, &str)> {
        let mut found = Vec::new();
        for (field, url) in self.credential_urls() {
            for name in host_choosing_params(url.as_str()) {
                if self
                    .connect
                    .connection_params
                    .iter()
                    .any(|p| p.name == name)
                {
                    found.push((field, name));
                }
            }
        }
        found
    }

    /// The rule of a shared client: an integration with a client secret of its own whose
    /// credential URLs take their host from a connection must list `allowed_hosts`.
    pub fn check_shared_client(&self, has_client_secret: bool) -> Result<(), ValidationErrors> {
        let Some((field, name)) = self.host_choosing().into_iter().next() else {
            return Ok(());
        };
        if !has_client_secret || !self.endpoints.allowed_hosts.is_empty() {
            return Ok(());
        }
        Err(FieldViolation::new(
            "allowed_hosts",
            format!(
                "must list the hosts {field} may reach: it takes its host from {{{name}}}, a \
                 connection parameter, and would receive this integration's client secret \
                 wherever a customer points it (or leave the client secret unset, so that each \
                 connection brings its own client)"
            ),
        )
        .into())
    }

    /// Checks one connection's values against `allowed_hosts`: every URL receiving credentials
    /// whose host a parameter chooses must land on an allowed host. Nothing to check without
    /// `allowed_hosts` (the integration then has no client secret of its own).
    pub fn check_param_hosts(&self, values: &ParamValues) -> Result<(), ValidationErrors> {
        if self.endpoints.allowed_hosts.is_empty() {
            return Ok(());
        }
        let mut e = ValidationErrors::default();
        for (_, url) in self.credential_urls() {
            let names = host_choosing_params(url.as_str());
            let Some(name) = names.first() else { continue };
            let Ok(filled) = fill(url.as_str(), values) else {
                continue;
            };
            let host = url::Url::parse(&filled)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned));
            let field = format!("connection_params.{name}");
            if !host.is_some_and(|h| host_allowed(&self.endpoints.allowed_hosts, &h))
                && !e.fields().any(|f| f == field)
            {
                e.push(FieldViolation::new(
                    field,
                    format!(
                        "leads to a host that is not one of the integration's allowed_hosts ({})",
                        self.endpoints.allowed_hosts.join(", ")
                    ),
                ));
            }
        }
        e.into_result(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integration::ConnectionParam;
    use crate::integration::tests::input;

    fn host_param() -> ConnectionParam {
        ConnectionParam {
            name: "host".to_owned(),
            pattern: "[a-z0-9.-]+".to_owned(),
            label: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn a_parameter_chooses_the_host_unless_a_fixed_domain_follows_it() {
        for (template, chosen) in [
            ("https://{host}/oauth/token", vec!["host"]),
            ("https://{host}:8443/oauth/token", vec!["host"]),
            ("https://{sub}.com/token", vec!["sub"]),
            ("https://{a}.{b}/token", vec!["a", "b"]),
            ("https://{shop}.myshopify.com/admin/oauth", vec![]),
            ("https://{sub}.zendesk.com:443/oauth/tokens", vec![]),
            ("https://api.example.com/{realmId}/token", vec![]),
            ("https://login.example.com/token", vec![]),
        ] {
            assert_eq!(host_choosing_params(template), chosen, "{template}");
        }
    }

    #[test]
    fn allowed_hosts_are_names_or_wildcards_under_a_real_domain() {
        let mut e = ValidationErrors::default();
        parse_allowed_hosts(
            ["gitlab.acme.com", "*.gitlab.example", "127.0.0.1"]
                .map(String::from)
                .to_vec(),
            &mut e,
        );
        assert!(e.is_empty(), "{e}");
        let mut e = ValidationErrors::default();
        parse_allowed_hosts(
            ["*.com", "Gitlab.acme.com", "a/b", "", "*"]
                .map(String::from)
                .to_vec(),
            &mut e,
        );
        assert_eq!(e.0.len(), 5, "{e}");
        let allowed = ["gitlab.acme.com".to_owned(), "*.acme.dev".to_owned()];
        assert!(host_allowed(&allowed, "gitlab.acme.com"));
        assert!(host_allowed(&allowed, "GITLAB.acme.com."));
        assert!(host_allowed(&allowed, "eu.git.acme.dev"));
        assert!(!host_allowed(&allowed, "acme.dev"));
        assert!(!host_allowed(&allowed, "evilacme.dev"));
        assert!(!host_allowed(&allowed, "gitlab.acme.com.evil.example"));
    }

    #[test]
    fn a_shared_client_needs_allowed_hosts_and_values_must_land_on_them() {
        let mut config = input();
        config.endpoints.authorization_url = "https://{host}/oauth/authorize".into();
        config.endpoints.token_url = "https://{host}/oauth/token".into();
        config.connect.connection_params = vec![host_param()];
        let open = config.clone().parse().unwrap();
        let e = open.check_shared_client(true).unwrap_err();
        assert_eq!(e.fields().collect::<Vec<_>>(), ["allowed_hosts"]);
        assert!(e.to_string().contains("token_url"), "{e}");
        assert!(
            open.check_shared_client(false).is_ok(),
            "the customer's own client"
        );

        config.endpoints.allowed_hosts =
            vec!["127.0.0.1".to_owned(), "*.gitlab.example".to_owned()];
        let listed = config.parse().unwrap();
        assert!(listed.check_shared_client(true).is_ok());
        let values = |host: &str| -> ParamValues { [("host".to_owned(), host.to_owned())].into() };
        assert!(listed.check_param_hosts(&values("127.0.0.1")).is_ok());
        assert!(
            listed
                .check_param_hosts(&values("eu.gitlab.example"))
                .is_ok()
        );
        let e = listed.check_param_hosts(&values("localhost")).unwrap_err();
        assert_eq!(e.fields().collect::<Vec<_>>(), ["connection_params.host"]);
    }
}
