//! Values that are valid by construction: each has one `parse_field` that names the field it was
//! given for in its error, and serde goes through the same parser.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::{FieldViolation, ValidationErrors};

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldViolation;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse_field(&value, stringify!($name))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.as_str().to_owned()
            }
        }
    };
}

fn check_len(input: &str, field: &str, max: usize) -> Result<(), FieldViolation> {
    if input.trim().is_empty() {
        return Err(FieldViolation::new(field, "must not be empty"));
    }
    if input.chars().count() > max {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if input.chars().any(char::is_control) {
        return Err(FieldViolation::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// An absolute URL of a provider endpoint: `https`, or `http` to a loopback host (for local
/// development and tests; the outbound HTTP guard decides whether such a provider may be called).
/// No credentials in it and no fragment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProviderUrl(String);

impl ProviderUrl {
    pub const MAX_LEN: usize = 2048;

    /// A URL, or a URL template whose `{name}` placeholders (connection and callback
    /// parameters) are filled per connection: a template is checked with each placeholder
    /// standing for a plain word, and kept as written.
    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        if !input.contains(['{', '}']) {
            return Self::parse_plain(input, field);
        }
        let mut sample = String::with_capacity(input.len());
        let mut rest = input;
        while let Some(open) = rest.find(['{', '}']) {
            let after = &rest[open + 1..];
            let close = match after.find('}') {
                Some(close) if rest.as_bytes()[open] == b'{' && !after[..close].contains('{') => {
                    close
                }
                _ => {
                    return Err(FieldViolation::new(
                        field,
                        "has an unmatched '{' or '}' (a parameter is written {name})",
                    ));
                }
            };
            check_param_name(&after[..close], field).map_err(|_| {
                FieldViolation::new(
                    field,
                    format!("has {{{}}}, which is not a parameter name", &after[..close]),
                )
            })?;
            sample.push_str(&rest[..open]);
            sample.push_str("x0");
            rest = &after[close + 1..];
        }
        sample.push_str(rest);
        Self::parse_plain(&sample, field)?;
        Ok(Self(input.to_owned()))
    }

    /// The CSP source a page's `form-action` needs to lead here: the origin; for a template, a
    /// host wildcard (`https://*.myshopify.com`) when only its first label is a parameter, else
    /// the scheme alone.
    pub fn csp_source(&self) -> String {
        if !self.is_template() {
            return origin_of(&self.url());
        }
        let (scheme, rest) = self.0.split_once("://").unwrap_or(("https", ""));
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        match authority.split_once('.') {
            Some((first, others)) if first.contains('{') && !others.contains('{') => {
                format!("{scheme}://*.{others}")
            }
            _ if !authority.contains('{') => format!("{scheme}://{authority}"),
            _ => format!("{scheme}:"),
        }
    }

    /// Whether it has `{name}` placeholders still to fill.
    pub fn is_template(&self) -> bool {
        self.0.contains('{')
    }

    fn parse_plain(input: &str, field: &str) -> Result<Self, FieldViolation> {
        if input.is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        if input.len() > Self::MAX_LEN {
            return Err(FieldViolation::new(
                field,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        let url = Url::parse(input)
            .map_err(|e| FieldViolation::new(field, format!("is not an absolute URL ({e})")))?;
        let Some(host) = url.host_str() else {
            return Err(FieldViolation::new(field, "must name a host"));
        };
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => {
                return Err(FieldViolation::new(
                    field,
                    "must use https (plain http is allowed only to a loopback host)",
                ));
            }
            other => {
                return Err(FieldViolation::new(
                    field,
                    format!("must use https, not '{other}'"),
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldViolation::new(
                field,
                "must not carry credentials; use the client id and secret",
            ));
        }
        if url.fragment().is_some() {
            return Err(FieldViolation::new(field, "must not have a fragment"));
        }
        Ok(Self(input.to_owned()))
    }

    /// The URL; a template's placeholders are in it unfilled (fill it with
    /// [`IntegrationConfig::for_connection`](crate::integration::IntegrationConfig::for_connection) first).
    pub fn url(&self) -> Url {
        // Parsed once in `parse_field`; the string is never changed after.
        // An unfilled template goes nowhere: `.invalid` never resolves (RFC 2606).
        let unfilled = || Url::parse("https://unfilled-url-parameter.invalid/");
        if self.is_template() {
            return unfilled().unwrap_or_else(|_| unreachable!("a constant URL"));
        }
        Url::parse(&self.0)
            .or_else(|_| unfilled())
            .unwrap_or_else(|_| unreachable!("ProviderUrl holds a valid URL"))
    }
}

/// A name usable as `{name}`: a letter or `_`, then letters, digits or `_`, at most 64.
pub fn check_param_name(name: &str, field: &str) -> Result<(), FieldViolation> {
    let mut bytes = name.bytes();
    let valid = name.len() <= 64
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(FieldViolation::new(
            field,
            "must be 1 to 64 ASCII letters, digits or '_', not starting with a digit",
        ))
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

string_value!(ProviderUrl);

/// An integration's display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntegrationName(String);

impl IntegrationName {
    pub const MAX_LEN: usize = 100;

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        check_len(input, field, Self::MAX_LEN)?;
        if input.trim() != input {
            return Err(FieldViolation::new(
                field,
                "must not start or end with whitespace",
            ));
        }
        Ok(Self(input.to_owned()))
    }
}

string_value!(IntegrationName);

/// An OAuth client id as the provider issued it (RFC 6749 §2.2: printable characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 512;

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        check_len(input, field, Self::MAX_LEN)?;
        Ok(Self(input.to_owned()))
    }
}

string_value!(ClientId);

/// One OAuth scope token (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`, so no space, quote or
/// backslash). Providers that use another separator (`,`) still never put it inside a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    pub const MAX_LEN: usize = 512;

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        if input.is_empty() {
            return Err(FieldViolation::new(field, "a scope must not be empty"));
        }
        if input.len() > Self::MAX_LEN {
            return Err(FieldViolation::new(
                field,
                format!("a scope must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if let Some(bad) = input
            .chars()
            .find(|&c| !matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
        {
            return Err(FieldViolation::new(
                field,
                format!("scope {input:?} holds {bad:?}, which RFC 6749 does not allow in a scope"),
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// Parses a list of scopes, naming the index of a bad one (`scopes[2]`).
    pub fn parse_list<S: AsRef<str>>(
        inputs: &[S],
        field: &str,
        max: usize,
    ) -> Result<Vec<Scope>, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if inputs.len() > max {
            errors.push(FieldViolation::new(
                field,
                format!("at most {max} scopes are allowed"),
            ));
            return Err(errors);
        }
        let scopes: Vec<Scope> = inputs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                errors.check(Scope::parse_field(s.as_ref(), &format!("{field}[{i}]")))
            })
            .collect();
        errors.into_result(|| scopes)
    }
}

string_value!(Scope);

/// What joins scopes in an authorization request: a space by the standard, `,` or `+` at some
/// providers. 1 to 4 characters, none of them a letter or digit (so it cannot occur in a scope
/// by accident in a way that changes meaning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeSeparator(String);

impl ScopeSeparator {
    pub fn space() -> Self {
        Self(" ".to_owned())
    }

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        if input.is_empty() {
            return Err(FieldViolation::new(
                field,
                "must not be empty (use \" \", the standard, if unsure)",
            ));
        }
        if input.chars().count() > 4 {
            return Err(FieldViolation::new(field, "must be at most 4 characters"));
        }
        if input.chars().any(|c| c.is_alphanumeric() || c.is_control()) {
            return Err(FieldViolation::new(
                field,
                "must not contain letters, digits or control characters",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn join(&self, scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(&self.0)
    }
}

string_value!(ScopeSeparator);

/// The `response_type` sent in an authorization request (`code` unless a provider wants more,
/// such as `code id_token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResponseType(String);

impl ResponseType {
    pub fn code() -> Self {
        Self("code".to_owned())
    }

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        if input.is_empty() || input.len() > 64 {
            return Err(FieldViolation::new(field, "must be 1 to 64 characters"));
        }
        if !input.split(' ').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        }) {
            return Err(FieldViolation::new(
                field,
                "must be space-separated lowercase words such as \"code\"",
            ));
        }
        Ok(Self(input.to_owned()))
    }
}

string_value!(ResponseType);

/// Extra parameters an integration adds to its authorization or token requests (Google's
/// `access_type=offline`, `prompt=consent`, Auth0's `audience`…). Keys are URL-query-safe names;
/// the ones Latchkey itself sets (`state`, `code_challenge`…) are refused so they cannot be
/// overridden. Sorted, so requests and events are deterministic.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct ParamMap(BTreeMap<String, String>);

impl ParamMap {
    pub const MAX_ENTRIES: usize = 32;
    pub const MAX_VALUE_LEN: usize = 1024;
    const RESERVED: &'static [&'static str] = &[
        "client_id",
        "client_secret",
        "code",
        "code_challenge",
        "code_challenge_method",
        "code_verifier",
        "grant_type",
        "password",
        "redirect_uri",
        "refresh_token",
        "response_type",
        "state",
        "username",
    ];

    pub fn parse_field<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
        field: &str,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut map = BTreeMap::new();
        for (key, value) in entries {
            let name = format!("{field}[{key}]");
            if key.is_empty()
                || key.len() > 64
                || !key.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']')
                })
            {
                errors.push(FieldViolation::new(
                    name,
                    "parameter names are 1 to 64 ASCII letters, digits, '_', '-', '.', '[' or ']'",
                ));
                continue;
            }
            if Self::RESERVED.contains(&key) {
                errors.push(FieldViolation::new(
                    name,
                    "is set by Latchkey itself and cannot be overridden",
                ));
                continue;
            }
            if value.len() > Self::MAX_VALUE_LEN || value.chars().any(char::is_control) {
                errors.push(FieldViolation::new(
                    name,
                    format!(
                        "values are at most {} characters, without control characters",
                        Self::MAX_VALUE_LEN
                    ),
                ));
                continue;
            }
            map.insert(key.to_owned(), value.to_owned());
        }
        if map.len() > Self::MAX_ENTRIES {
            errors.push(FieldViolation::new(
                field,
                format!("at most {} parameters are allowed", Self::MAX_ENTRIES),
            ));
        }
        errors.into_result(|| Self(map))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl TryFrom<BTreeMap<String, String>> for ParamMap {
    type Error = ValidationErrors;
    fn try_from(value: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        Self::parse_field(
            value.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            "params",
        )
    }
}

impl From<ParamMap> for BTreeMap<String, String> {
    fn from(value: ParamMap) -> Self {
        value.0
    }
}

/// The longest secret (client secret, password, webhook secret) accepted.
pub const MAX_SECRET_LEN: usize = 4096;

/// Checks a secret's shape without ever putting its value in the error.
pub fn check_secret(value: &str, field: &str) -> Result<(), FieldViolation> {
    if value.len() > MAX_SECRET_LEN {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {MAX_SECRET_LEN} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldViolation::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// An origin browsers may be sent back to after an authorization (`return_url`): `https://host`
/// with an optional port (`http://` only for localhost and loopback addresses), nothing after it.
/// Normalized as the browser's origin is (`https://app.example.com:8443`).
pub fn parse_origin(text: &str, field: &str) -> Result<String, FieldViolation> {
    let bad = || {
        FieldViolation::new(
            field,
            "is not an origin such as https://app.example.com (scheme, host and port only; http \
             only for localhost)",
        )
    };
    let url = Url::parse(text.trim()).map_err(|_| bad())?;
    let host = url.host_str().ok_or_else(bad)?;
    let local = host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && local);
    if !scheme_ok
        || !url.username().is_empty()
        || url.password().is_some()
        || !matches!(url.path(), "" | "/")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

/// The origin of a URL, as [`parse_origin`] normalizes it.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origin("https://App.Example.com/", "o").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            parse_origin("https://app.example.com:8443", "o").unwrap(),
            "https://app.example.com:8443"
        );
        assert_eq!(
            parse_origin("http://localhost:3000", "o").unwrap(),
            "http://localhost:3000"
        );
        for bad in [
            "http://app.example.com",
            "https://app.example.com/done",
            "https://user@app.example.com",
            "https://app.example.com?x=1",
            "app.example.com",
            "javascript:alert(1)",
        ] {
            assert!(parse_origin(bad, "o").is_err(), "{bad}");
        }
        let url = Url::parse("https://app.example.com:443/connected?x=1").unwrap();
        assert_eq!(origin_of(&url), "https://app.example.com");
    }

    #[test]
    fn provider_urls_must_be_https_or_loopback_http() {
        for ok in [
            "https://login.salesforce.com/services/oauth2/token",
            "http://127.0.0.1:8080/token",
            "http://localhost/token",
            "http://[::1]:9/token",
        ] {
            assert!(ProviderUrl::parse_field(ok, "token_url").is_ok(), "{ok}");
        }
        for bad in [
            "",
            "not a url",
            "/relative/path",
            "http://example.com/token",
            "ftp://example.com/token",
            "https://user:pw@example.com/token",
            "https://example.com/token#frag",
        ] {
            let err = ProviderUrl::parse_field(bad, "token_url").expect_err(bad);
            assert_eq!(err.field, "token_url");
        }
    }

    #[test]
    fn scopes_follow_rfc_6749_and_lists_name_the_bad_index() {
        assert!(Scope::parse_field("https://www.googleapis.com/auth/drive", "s").is_ok());
        assert!(Scope::parse_field("read write", "s").is_err());
        assert!(Scope::parse_field("a\"b", "s").is_err());
        let err = Scope::parse_list(&["ok", "", "also ok"], "scopes", 10).unwrap_err();
        let fields: Vec<_> = err.fields().collect();
        assert_eq!(fields, ["scopes[1]", "scopes[2]"]);
    }

    #[test]
    fn scope_separator_joins_and_refuses_empty() {
        let sep = ScopeSeparator::parse_field(",", "scope_separator").unwrap();
        let scopes = Scope::parse_list(&["a", "b"], "scopes", 10).unwrap();
        assert_eq!(sep.join(&scopes), "a,b");
        let err = ScopeSeparator::parse_field("", "scope_separator").unwrap_err();
        assert_eq!(err.field, "scope_separator");
        assert!(ScopeSeparator::parse_field("x", "s").is_err());
    }

    #[test]
    fn param_maps_refuse_reserved_and_malformed_names() {
        let ok = ParamMap::parse_field([("access_type", "offline"), ("prompt", "consent")], "p")
            .unwrap();
        assert_eq!(ok.get("prompt"), Some("consent"));
        let err = ParamMap::parse_field([("state", "x"), ("bad key", "y"), ("k", "a\nb")], "p")
            .unwrap_err();
        let fields: Vec<_> = err.fields().collect();
        assert_eq!(fields, ["p[state]", "p[bad key]", "p[k]"]);
    }

    #[test]
    fn names_and_client_ids_refuse_empty_and_oversized() {
        assert_eq!(
            IntegrationName::parse_field(" ", "name").unwrap_err().field,
            "name"
        );
        assert!(IntegrationName::parse_field(&"n".repeat(101), "name").is_err());
        assert_eq!(
            ClientId::parse_field("", "client_id").unwrap_err().field,
            "client_id"
        );
        assert!(ResponseType::parse_field("code id_token", "r").is_ok());
        assert!(ResponseType::parse_field("Code", "r").is_err());
    }
}
