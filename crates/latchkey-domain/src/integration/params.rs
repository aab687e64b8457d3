//! Connection parameters and callback parameters: the values that make one integration's URLs
//! differ per connection (`https://{shop}.myshopify.com/...`, `.../company/{realmId}`).
//!
//! A connection parameter is declared by the integration with a pattern and given by whoever
//! creates the connection; a callback parameter is kept from the provider's redirect
//! (QuickBooks' `realmId`). Both are used as `{name}` in the integration's URLs. A value is
//! checked against its pattern, and against a fixed set of characters that could move a URL's
//! host or path, before any URL is built from it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::config::{AccountMapping, IntegrationConfig, RevocationShape, TokenValidation};
pub use crate::values::check_param_name;
use crate::{FieldViolation, ProviderUrl, ValidationErrors};

/// The values a connection fills its integration's URLs with.
pub type ParamValues = BTreeMap<String, String>;

/// A value an integration asks of each connection (a shop, a subdomain, a domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionParam {
    /// Used as `{name}` in the integration's URLs.
    pub name: String,
    /// A regular expression the whole value must match (anchored whether or not it says so).
    pub pattern: String,
    /// What the connect page calls it ("Shop name").
    #[serde(default)]
    pub label: String,
    /// Where the customer finds it, shown under the field.
    #[serde(default)]
    pub description: String,
}

impl ConnectionParam {
    pub const MAX_PARAMS: usize = 8;
    pub const MAX_VALUE_LEN: usize = 255;
    pub const MAX_PATTERN_LEN: usize = 512;

    fn regex(&self) -> Option<Regex> {
        Regex::new(&format!("^(?:{})$", self.pattern)).ok()
    }

    /// The violation of one value of this parameter, if any, reported under `field`.
    pub fn check_value(&self, value: &str, field: &str) -> Result<(), FieldViolation> {
        if value.is_empty() {
            return Err(FieldViolation::new(field, "must be set"));
        }
        if value.chars().count() > Self::MAX_VALUE_LEN {
            return Err(FieldViolation::new(
                field,
                format!("must be at most {} characters", Self::MAX_VALUE_LEN),
            ));
        }
        if let Some(c) = value.chars().find(|c| unsafe_in_url(*c)) {
            return Err(FieldViolation::new(
                field,
                format!("must not contain {c:?}: it would change the URL it is used in"),
            ));
        }
        if is_dot_segment(value) {
            return Err(FieldViolation::new(
                field,
                "must not be . or ..: it would move the URL it is used in up a path segment",
            ));
        }
        match self.regex() {
            Some(re) if re.is_match(value) => Ok(()),
            _ => Err(FieldViolation::new(
                field,
                format!("must match the pattern {}", self.pattern),
            )),
        }
    }
}

/// Characters no parameter value may hold, whatever its pattern: they end a host, start a path,
/// a query or a fragment, carry credentials, or escape.
fn unsafe_in_url(c: char) -> bool {
    c.is_whitespace() || c.is_control() || "/?#@\\:%{}[]<>\"'`^|".contains(c)
}

/// `.` and `..`: a path segment of either moves the URL it fills (the other characters that
/// could, `/` and `%`, are refused everywhere).
fn is_dot_segment(value: &str) -> bool {
    matches!(value, "." | "..")
}

/// The `{name}` placeholders of a URL template, in order.
pub fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// `template` with every `{name}` replaced by its value; `Err(name)` for the first one that has
/// none.
pub fn fill(template: &str, values: &ParamValues) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let name = &after[..close];
        match values.get(name) {
            Some(value) => out.push_str(value),
            // Filled per request, when the revocation request is sent.
            None if RevocationShape::PLACEHOLDERS.contains(&name) => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
            None => return Err(name.to_owned()),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses the caller's declarations, every violation named.
pub fn parse_connection_params(
    input: Vec<ConnectionParam>,
    field: &str,
    e: &mut ValidationErrors,
) -> Vec<ConnectionParam> {
    if input.len() > ConnectionParam::MAX_PARAMS {
        e.push(FieldViolation::new(
            field,
            format!("at most {} parameters", ConnectionParam::MAX_PARAMS),
        ));
    }
    let mut seen = Vec::new();
    for (i, param) in input.iter().enumerate() {
        let at = |sub: &str| format!("{field}[{i}].{sub}");
        e.check(check_param_name(&param.name, &at("name")));
        if RevocationShape::PLACEHOLDERS.contains(&param.name.as_str()) {
            e.push(FieldViolation::new(
                at("name"),
                "is filled by Latchkey in revocation requests",
            ));
        }
        if seen.contains(&param.name.as_str()) {
            e.push(FieldViolation::new(at("name"), "is declared twice"));
        }
        seen.push(param.name.as_str());
        if param.pattern.is_empty() || param.pattern.len() > ConnectionParam::MAX_PATTERN_LEN {
            e.push(FieldViolation::new(
                at("pattern"),
                format!(
                    "must be a regular expression of 1 to {} characters",
                    ConnectionParam::MAX_PATTERN_LEN
                ),
            ));
        } else if let Err(error) = Regex::new(&param.pattern) {
            e.push(FieldViolation::new(
                at("pattern"),
                format!(
                    "is not a regular expression ({})",
                    first_line(&error.to_string())
                ),
            ));
        }
        for (sub, text, max) in [
            ("label", &param.label, 100),
            ("description", &param.description, 500),
        ] {
            if text.chars().count() > max || text.chars().any(char::is_control) {
                e.push(FieldViolation::new(
                    at(sub),
                    format!("must be at most {max} characters, no control characters"),
                ));
            }
        }
    }
    input
}

fn first_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
}

/// Checks the values given for a connection against the integration's declarations: each
/// declared one set and matching, none undeclared.
pub fn check_param_values(
    declared: &[ConnectionParam],
    given: &[(String, String)],
    field: &str,
) -> Result<ParamValues, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let mut values = ParamValues::new();
    for (name, value) in given {
        let at = format!("{field}.{name}");
        match declared.iter().find(|p| &p.name == name) {
            None if declared.is_empty() => e.push(FieldViolation::new(
                at,
                "this integration takes no connection parameters",
            )),
            None => e.push(FieldViolation::new(
                at,
                format!(
                    "is not a parameter of this integration (it takes {})",
                    declared
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Some(param) => {
                if values.contains_key(name) {
                    e.push(FieldViolation::new(at, "is given twice"));
                } else if e.check(param.check_value(value, &at)).is_some() {
                    values.insert(name.clone(), value.clone());
                }
            }
        }
    }
    for param in declared {
        if !given.iter().any(|(name, _)| name == &param.name) {
            e.push(FieldViolation::new(
                format!("{field}.{}", param.name),
                "must be set",
            ));
        }
    }
    e.into_result(|| values)
}

/// The values captured from a callback: the integration's callback parameters present in it,
/// each held to the same safe characters as a connection parameter.
pub fn capture_callback_params(
    names: &[String],
    query: &[(String, String)],
) -> Result<ParamValues, FieldViolation> {
    let mut captured = ParamValues::new();
    for name in names {
        if let Some((_, value)) = query.iter().find(|(k, _)| k == name) {
            if value.is_empty()
                || value.chars().count() > ConnectionParam::MAX_VALUE_LEN
                || value.chars().any(unsafe_in_url)
                || is_dot_segment(value)
            {
                return Err(FieldViolation::new(
                    name.as_str(),
                    "the provider sent a value that cannot be used in a URL (empty, too long, \
                     . or .., or with a character that would move it)",
                ));
            }
            captured.insert(name.clone(), value.clone());
        }
    }
    Ok(captured)
}

/// Which URLs may use which names: the authorization and token URLs are needed before the
/// callback, so they may use connection parameters only.
pub(super) fn check_url_placeholders(config: &IntegrationConfig, e: &mut ValidationErrors) {
    let is_param = |n: &str| config.connect.connection_params.iter().any(|p| p.name == n);
    let is_callback = |n: &str| config.connect.callback_params.iter().any(|p| p == n);
    for (field, url, before_callback) in url_fields(config) {
        for name in placeholders(url.as_str()) {
            let per_request = field == "revocation_url"
                && config.endpoints.revocation.is_some()
                && RevocationShape::PLACEHOLDERS.contains(&name);
            if is_param(name) || per_request {
                continue;
            }
            let reason = if is_callback(name) && before_callback {
                format!(
                    "uses {{{name}}}, a callback parameter, which is known only after the \
                     authorization this URL starts"
                )
            } else if is_callback(name) {
                continue;
            } else {
                format!(
                    "uses {{{name}}}, which is neither a connection_params nor a \
                     callback_params name"
                )
            };
            e.push(FieldViolation::new(field, reason));
        }
    }
}

/// Every URL of a configuration, with its field name and whether it is used before a callback.
pub(super) fn url_fields(c: &IntegrationConfig) -> Vec<(&'static str, &ProviderUrl, bool)> {
    let validation = match &c.checks.validation {
        Some(TokenValidation::Introspection { url } | TokenValidation::Userinfo { url }) => {
            Some(url)
        }
        Some(TokenValidation::Probe { .. }) | None => None,
    };
    let account = match &c.checks.account {
        Some(AccountMapping::IdToken { jwks_url: url })
        | Some(AccountMapping::Userinfo { url })
        | Some(AccountMapping::Endpoint { url, .. }) => Some(url),
        Some(AccountMapping::TokenResponse { .. }) | None => None,
    };
    [
        (
            "authorization_url",
            c.endpoints.authorization_url.as_ref(),
            true,
        ),
        ("token_url", Some(&c.endpoints.token_url), true),
        (
            "pushed_authorization_url",
            c.endpoints.pushed_authorization_url.as_ref(),
            true,
        ),
        (
            "device_authorization_url",
            c.endpoints.device_authorization_url.as_ref(),
            true,
        ),
        ("redirect_uri", c.endpoints.redirect_uri.as_ref(), true),
        ("issuer", c.endpoints.issuer.as_ref(), true),
        ("revocation_url", c.endpoints.revocation_url.as_ref(), false),
        ("base_uri", c.endpoints.base_uri.as_ref(), false),
        ("validation.url", validation, false),
        ("account.url", account, false),
    ]
    .into_iter()
    .filter_map(|(field, url, early)| url.map(|url| (field, url, early)))
    .collect()
}

impl IntegrationConfig {
    /// Whether any of the URLs has a `{name}` to fill.
    pub fn has_url_params(&self) -> bool {
        url_fields(self)
            .iter()
            .any(|(_, url, _)| placeholders(url.as_str()).next().is_some())
    }

    /// This configuration with its URLs filled from one connection's values. A URL needed before
    /// the callback that cannot be filled is an error naming the parameter; a later one whose
    /// callback value has not arrived yet is left out (`None`) until it has. Borrowed when there
    /// is nothing to fill (the common case, on every `GetToken`).
    pub fn for_connection(&self, values: &ParamValues) -> Result<Cow<'_, Self>, FieldViolation> {
        if !self.has_url_params() {
            return Ok(Cow::Borrowed(self));
        }
        let required = |url: &ProviderUrl, field: &str| -> Result<ProviderUrl, FieldViolation> {
            let filled = fill(url.as_str(), values).map_err(|name| {
                FieldViolation::new(format!("connection_params.{name}"), "must be set")
            })?;
            ProviderUrl::parse_field(&filled, field)
        };
        let optional =
            |url: &ProviderUrl, field: &str| -> Result<Option<ProviderUrl>, FieldViolation> {
                match fill(url.as_str(), values) {
                    Ok(filled) => ProviderUrl::parse_field(&filled, field).map(Some),
                    Err(_) => Ok(None),
                }
            };
        let mut c = self.clone();
        c.endpoints.token_url = required(&self.endpoints.token_url, "token_url")?;
        if let Some(url) = &self.endpoints.authorization_url {
            c.endpoints.authorization_url = Some(required(url, "authorization_url")?);
        }
        if let Some(url) = &self.endpoints.device_authorization_url {
            c.endpoints.device_authorization_url = Some(required(url, "device_authorization_url")?);
        }
        if let Some(url) = &self.endpoints.pushed_authorization_url {
            c.endpoints.pushed_authorization_url = Some(required(url, "pushed_authorization_url")?);
        }
        if let Some(url) = &self.endpoints.redirect_uri {
            c.endpoints.redirect_uri = Some(required(url, "redirect_uri")?);
        }
        if let Some(url) = &self.endpoints.issuer {
            c.endpoints.issuer = Some(required(url, "issuer")?);
        }
        c.endpoints.revocation_url = match &self.endpoints.revocation_url {
            Some(url) => optional(url, "revocation_url")?,
            None => None,
        };
        c.endpoints.base_uri = match &self.endpoints.base_uri {
            Some(url) => optional(url, "base_uri")?,
            None => None,
        };
        c.checks.validation = match &self.checks.validation {
            Some(TokenValidation::Introspection { url }) => {
                optional(url, "validation.url")?.map(|url| TokenValidation::Introspection { url })
            }
            Some(TokenValidation::Userinfo { url }) => {
                optional(url, "validation.url")?.map(|url| TokenValidation::Userinfo { url })
            }
            other => other.clone(),
        };
        c.checks.account = match &self.checks.account {
            Some(AccountMapping::IdToken { jwks_url }) => optional(jwks_url, "account.url")?
                .map(|jwks_url| AccountMapping::IdToken { jwks_url }),
            Some(AccountMapping::Userinfo { url }) => {
                optional(url, "account.url")?.map(|url| AccountMapping::Userinfo { url })
            }
            Some(AccountMapping::Endpoint {
                url,
                pointer,
                method,
            }) => optional(url, "account.url")?.map(|url| AccountMapping::Endpoint {
                url,
                pointer: pointer.clone(),
                method: method.clone(),
            }),
            other => other.clone(),
        };
        Ok(Cow::Owned(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integration::tests::input;

    fn shop() -> ConnectionParam {
        ConnectionParam {
            name: "shop".to_owned(),
            pattern: "^[a-z0-9][a-z0-9-]{0,62}$".to_owned(),
            label: "Shop name".to_owned(),
            description: String::new(),
        }
    }

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn fields(result: Result<ParamValues, ValidationErrors>) -> Vec<String> {
        result.unwrap_err().0.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn values_are_checked_against_their_pattern_and_named_by_field() {
        let declared = [shop()];
        let ok = check_param_values(&declared, &given(&[("shop", "acme-2")]), "p").unwrap();
        assert_eq!(ok["shop"], "acme-2");
        for bad in ["acme.evil.com", "Acme", "", "-acme"] {
            assert_eq!(
                fields(check_param_values(&declared, &given(&[("shop", bad)]), "p")),
                ["p.shop"],
                "{bad:?}"
            );
        }
        assert_eq!(fields(check_param_values(&declared, &[], "p")), ["p.shop"]);
        assert_eq!(
            fields(check_param_values(
                &declared,
                &given(&[("shop", "acme"), ("region", "eu")]),
                "p"
            )),
            ["p.region"]
        );
    }

    #[test]
    fn a_permissive_pattern_still_cannot_move_the_url() {
        let anything = ConnectionParam {
            pattern: ".*".to_owned(),
            ..shop()
        };
        for bad in [
            "a/b", "a?b", "a#b", "a@b", "a:1", "a%2f", "a b", "a\\b", "{x}",
        ] {
            let e = anything.check_value(bad, "shop").unwrap_err();
            assert!(e.reason.contains("must not contain"), "{bad:?}: {e}");
        }
        // A dotted domain is a value some providers need (Okta, Salesforce My Domain).
        assert!(anything.check_value("dev-123.okta.com", "d").is_ok());
    }

    #[test]
    fn a_pattern_is_anchored_whatever_it_says() {
        let loose = ConnectionParam {
            pattern: "[a-z]+".to_owned(),
            ..shop()
        };
        assert!(loose.check_value("acme", "s").is_ok());
        assert!(loose.check_value("acme-1", "s").is_err());
    }

    #[test]
    fn templates_fill_and_name_what_is_missing() {
        let values: ParamValues = [("shop".to_owned(), "acme".to_owned())].into();
        assert_eq!(
            fill("https://{shop}.myshopify.com/admin/{shop}", &values).unwrap(),
            "https://acme.myshopify.com/admin/acme"
        );
        assert_eq!(fill("https://x/{realmId}", &values).unwrap_err(), "realmId");
        assert_eq!(
            placeholders("https://{a}.x/{b}?c={c}").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn urls_may_use_only_declared_names_and_callback_ones_only_after_the_callback() {
        let mut config = input();
        config.endpoints.authorization_url =
            "https://{shop}.myshopify.com/admin/oauth/authorize".into();
        config.endpoints.token_url = "https://{shop}.myshopify.com/admin/oauth/access_token".into();
        config.endpoints.base_uri = "https://api.example/v3/company/{realmId}".into();
        config.connect.connection_params = vec![shop()];
        config.connect.callback_params = vec!["realmId".to_owned()];
        let parsed = config.clone().parse().unwrap();
        assert!(parsed.has_url_params());

        let mut unknown = config.clone();
        unknown.endpoints.token_url = "https://{store}.myshopify.com/token".into();
        let e = unknown.parse().unwrap_err();
        assert_eq!(e.fields().collect::<Vec<_>>(), ["token_url"], "{e:?}");

        let mut early = config.clone();
        early.endpoints.authorization_url = "https://x.example/{realmId}/authorize".into();
        let e = early.parse().unwrap_err();
        assert_eq!(e.fields().collect::<Vec<_>>(), ["authorization_url"]);

        let mut clash = config;
        clash.connect.callback_params = vec!["shop".to_owned(), "state".to_owned()];
        let e = clash.parse().unwrap_err();
        assert_eq!(
            e.fields().collect::<Vec<_>>(),
            ["callback_params[0]", "callback_params[1]"]
        );
    }

    #[test]
    fn a_connection_fills_what_it_can_and_later_urls_wait_for_the_callback() {
        let mut config = input();
        config.endpoints.authorization_url = "https://{shop}.myshopify.com/authorize".into();
        config.endpoints.token_url = "https://{shop}.myshopify.com/token".into();
        config.endpoints.base_uri = "https://api.example/v3/company/{realmId}".into();
        config.connect.connection_params = vec![shop()];
        config.connect.callback_params = vec!["realmId".to_owned()];
        let config = config.parse().unwrap();
        let mut values: ParamValues = [("shop".to_owned(), "acme".to_owned())].into();
        let before = config.for_connection(&values).unwrap();
        assert_eq!(
            before.endpoints.token_url.as_str(),
            "https://acme.myshopify.com/token"
        );
        assert_eq!(before.endpoints.base_uri, None, "realmId is not known yet");
        values.insert("realmId".to_owned(), "9130".to_owned());
        let after = config.for_connection(&values).unwrap();
        assert_eq!(
            after.endpoints.base_uri.as_ref().map(ProviderUrl::as_str),
            Some("https://api.example/v3/company/9130")
        );
        let e = config.for_connection(&ParamValues::new()).unwrap_err();
        assert_eq!(e.field, "connection_params.shop");
        // An unfilled template goes nowhere.
        assert_eq!(
            config.endpoints.token_url.url().host_str(),
            Some("unfilled-url-parameter.invalid")
        );
        // Nothing to fill: borrowed, no copy on every GetToken.
        let plain = input().parse().unwrap();
        assert!(matches!(
            plain.for_connection(&values).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn form_action_sources_of_templates_stay_as_narrow_as_the_template_allows() {
        let source = |url: &str| ProviderUrl::parse_field(url, "u").unwrap().csp_source();
        assert_eq!(
            source("https://{shop}.myshopify.com/admin/oauth/authorize"),
            "https://*.myshopify.com"
        );
        assert_eq!(source("https://{domain}/oauth2/v1/authorize"), "https:");
        assert_eq!(
            source("http://127.0.0.1:8080/shops/{shop}/authorize"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            source("https://login.example.com/authorize"),
            "https://login.example.com"
        );
        for bad in [
            "https://{shop.example.com/",
            "https://x.example/{1a}",
            "https://x/}",
        ] {
            assert!(ProviderUrl::parse_field(bad, "u").is_err(), "{bad}");
        }
    }

    #[test]
    fn a_revocation_request_is_checked_and_only_it_may_use_token_and_client_id() {
        let mut config = input();
        config.endpoints.revocation_url =
            "https://api.github.com/applications/{client_id}/grant".into();
        let e = config.clone().parse().unwrap_err();
        assert_eq!(
            e.fields().collect::<Vec<_>>(),
            ["revocation_url"],
            "RFC 7009 has no {{client_id}}"
        );
        config.endpoints.revocation = Some(RevocationShape {
            method: "delete".to_owned(),
            body: r#"{"access_token":"{token}"}"#.to_owned(),
            body_format: "json".to_owned(),
            auth: "basic".to_owned(),
            token: "access_token".to_owned(),
        });
        let parsed = config.clone().parse().unwrap();
        assert_eq!(parsed.endpoints.revocation.unwrap().method, "DELETE");
        // {token} is filled per request, not per connection: the URL keeps it.
        let filled = parsed.endpoints.revocation_url.unwrap();
        assert!(filled.as_str().contains("{client_id}"));
        let mut bad = config;
        bad.endpoints.revocation = Some(RevocationShape {
            method: "PATCH".to_owned(),
            body: "{secret}".to_owned(),
            body_format: "xml".to_owned(),
            auth: "digest".to_owned(),
            token: "id_token".to_owned(),
        });
        let e = bad.parse().unwrap_err();
        assert_eq!(
            e.fields().collect::<Vec<_>>(),
            [
                "revocation.method",
                "revocation.auth",
                "revocation.token",
                "revocation.body_format",
                "revocation.body"
            ]
        );
    }

    #[test]
    fn callback_values_are_held_to_the_same_safe_characters() {
        let names = ["realmId".to_owned()];
        let kept = capture_callback_params(&names, &given(&[("realmId", "9130"), ("x", "y")]));
        assert_eq!(kept.unwrap().len(), 1);
        for bad in ["a/b", "..", "."] {
            assert!(capture_callback_params(&names, &given(&[("realmId", bad)])).is_err());
        }
        let anything = ConnectionParam {
            pattern: ".*".to_owned(),
            ..shop()
        };
        for bad in [".", ".."] {
            let e = anything.check_value(bad, "shop").unwrap_err();
            assert!(e.reason.contains("path segment"), "{bad:?}: {e}");
        }
    }
}
