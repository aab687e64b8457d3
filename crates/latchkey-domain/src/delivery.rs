//! Inbound deliveries (provider webhooks and action callbacks): how one is read (its document,
//! event type, delivery id and routing keys), which handshakes providers make before they send
//! any, and what the log keeps of one. Pure: the caller verifies signatures and seals the body.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{FieldViolation, Sealed};

/// What the log keeps of one delivery (`webhook_received`, `action_received`,
/// `webhook_unrouted`). The body is sealed with the stream's data key: deleting the connection
/// shreds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The provider's id of the delivery (or `sha256:<hex>` of the body when it gives none).
    pub delivery_id: String,
    /// The event type the integration's `event_type_from` read; empty when none.
    #[serde(default)]
    pub event_type: String,
    /// The routing key's values that matched (or, unrouted, were read).
    #[serde(default)]
    pub routing_keys: Vec<String>,
    /// How the delivery was verified (`hmac_body`, `stripe`… or `connection_secret:…`).
    pub scheme: String,
    /// The allow-listed request headers, names in lower case.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub content_type: String,
    pub body: Sealed,
    /// The body's length in bytes.
    pub size: u64,
}

/// The handshake a provider makes with a new webhook URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handshake {
    #[default]
    None,
    /// Slack Events API `url_verification`: echo `challenge` (the request is signed).
    Slack,
    /// Microsoft Graph: echo `validationToken` from the query as text (unsigned).
    MicrosoftGraph,
    /// Zoom `endpoint.url_validation`: `plainToken` and its HMAC under the secret (signed).
    Zoom,
    /// Dropbox: `GET ?challenge=` echoed as text (unsigned).
    Dropbox,
    /// Meta (Facebook, Instagram, WhatsApp): `GET ?hub.mode=subscribe&hub.verify_token=
    /// &hub.challenge=`: the challenge when the verify token is the webhook secret.
    Meta,
    /// Asana: the first request carries `X-Hook-Secret`, echoed in the answer and kept (sealed)
    /// as the connection's own webhook secret; taken only on a connection's URL that has none.
    Asana,
    /// Xero's intent to receive: a signed delivery with no events, answered with an empty 200
    /// (and 401 when the signature is bad), recorded as a handshake, not a delivery.
    Xero,
    /// Discord interactions: a signed `PING` (`"type": 1`) answered with `{"type":1}`.
    Discord,
    /// Notion: the subscription's first request carries `verification_token`, unsigned (it is
    /// the secret to come): kept sealed as an unrouted delivery for an admin to read and paste.
    Notion,
}

impl Handshake {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Slack => "slack",
            Self::MicrosoftGraph => "microsoft_graph",
            Self::Zoom => "zoom",
            Self::Dropbox => "dropbox",
            Self::Meta => "meta",
            Self::Asana => "asana",
            Self::Xero => "xero",
            Self::Discord => "discord",
            Self::Notion => "notion",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::None,
            Self::Slack,
            Self::MicrosoftGraph,
            Self::Zoom,
            Self::Dropbox,
            Self::Meta,
            Self::Asana,
            Self::Xero,
            Self::Discord,
            Self::Notion,
        ]
        .into_iter()
        .find(|h| h.as_str() == text || (text.is_empty() && *h == Self::None))
    }
}

/// How an integration's deliveries are read and routed (the Webhook Parser's settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRouting {
    /// Where the event type is: source expressions (see [`read`]) separated by `|`, the first
    /// that yields a value wins. Empty: no event type.
    #[serde(default)]
    pub event_type_from: String,
    /// Where the delivery id is, the same way. Empty (or nothing found): the body's digest.
    #[serde(default)]
    pub delivery_id_from: String,
    /// Where the routing key is; every value of a batched body counts. Empty: the scheme's
    /// `account_pointer`.
    #[serde(default)]
    pub routing_key_from: String,
    /// What a routing key is matched with: empty for the connection's provider account id, the
    /// name of a connection parameter or a captured callback value (`realmId`), or a text of
    /// `{name}` placeholders filled with them (`{shop}.myshopify.com`).
    #[serde(default)]
    pub match_on: String,
    #[serde(default)]
    pub handshake: Handshake,
    /// Form-encoded deliveries are action callbacks (Slack interactivity and slash commands).
    #[serde(default)]
    pub form_bodies_are_actions: bool,
    /// What an action callback is answered with (JSON); empty: an empty 200.
    #[serde(default)]
    pub action_ack: String,
    /// Deliveries per second taken for the integration; 0: [`WebhookRouting::DEFAULT_RATE`].
    #[serde(default)]
    pub rate_per_second: u32,
}

impl WebhookRouting {
    pub const DEFAULT_RATE: u32 = 1000;

    pub fn rate(&self) -> u32 {
        if self.rate_per_second == 0 {
            Self::DEFAULT_RATE
        } else {
            self.rate_per_second
        }
    }

    /// The checked settings, violations named under `field`.
    pub fn check(self, field: &str, e: &mut Vec<FieldViolation>) -> Self {
        for (name, value) in [
            ("event_type_from", &self.event_type_from),
            ("delivery_id_from", &self.delivery_id_from),
            ("routing_key_from", &self.routing_key_from),
        ] {
            if let Err(why) = check_sources(value) {
                e.push(FieldViolation::new(format!("{field}.{name}"), why));
            }
        }
        if self.match_on.len() > 128
            || !self
                .match_on
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'{' | b'}'))
        {
            e.push(FieldViolation::new(
                format!("{field}.match_on"),
                "must be empty (the provider account id), a connection parameter's name, or a \
                 text of {name} placeholders ({shop}.myshopify.com)",
            ));
        }
        if !self.action_ack.is_empty() && serde_json::from_str::<Value>(&self.action_ack).is_err() {
            e.push(FieldViolation::new(
                format!("{field}.action_ack"),
                "must be JSON (or empty for an empty 200)",
            ));
        }
        self
    }
}

/// Checks `|`-separated source expressions.
pub fn check_sources(sources: &str) -> Result<(), String> {
    if sources.len() > 512 {
        return Err("is longer than 512 characters".to_owned());
    }
    for source in sources.split('|').filter(|s| !s.is_empty()) {
        let ok = if let Some(name) = source.strip_prefix("header:") {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        } else if let Some(rest) = source.strip_prefix("base64:") {
            let (outer, inner) = rest.split_once('#').unwrap_or((rest, ""));
            outer.starts_with('/') && (inner.is_empty() || inner.starts_with('/'))
        } else {
            source.starts_with('/')
        };
        if !ok {
            return Err(format!(
                "{source:?} is not a source: a JSON pointer (/team_id, /events/*/tenantId), \
                 header:<lower-case name> or base64:/pointer#/pointer"
            ));
        }
    }
    Ok(())
}

/// The body as a document to read from: JSON, or a form whose fields become an object (a field
/// holding a JSON object or array, like Slack's `payload`, is that value). `None`: neither.
pub fn document(content_type: &str, body: &[u8]) -> Option<Value> {
    let form = content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    if form {
        let mut fields = serde_json::Map::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            let parsed = match value.trim_start().as_bytes().first() {
                Some(b'{' | b'[') => serde_json::from_str(&value).ok(),
                _ => None,
            };
            fields.insert(
                name.into_owned(),
                parsed.unwrap_or_else(|| Value::String(value.into_owned())),
            );
        }
        return Some(Value::Object(fields));
    }
    serde_json::from_slice(body).ok()
}

/// The value a connection's routing key must have under `match_on` (a name, or a text of
/// `{name}` placeholders) given its parameters and captured values; `None` when one is missing.
pub fn match_value(match_on: &str, values: &BTreeMap<String, String>) -> Option<String> {
    if !match_on.contains('{') {
        return values.get(match_on).cloned();
    }
    let mut out = String::new();
    let mut rest = match_on;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        out.push_str(values.get(&rest[open + 1..close])?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Whether the body is form-encoded.
pub fn is_form(content_type: &str) -> bool {
    content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
}

/// The values `sources` reads from a delivery: the first alternative that yields any. A JSON
/// pointer may hold `*` segments (every element of an array, or every member of an object).
pub fn read(sources: &str, doc: Option<&Value>, headers: &BTreeMap<String, String>) -> Vec<String> {
    for source in sources.split('|').filter(|s| !s.is_empty()) {
        let values = if let Some(name) = source.strip_prefix("header:") {
            headers.get(name).cloned().into_iter().collect()
        } else if let Some(rest) = source.strip_prefix("base64:") {
            let (outer, inner) = rest.split_once('#').unwrap_or((rest, ""));
            let mut values = Vec::new();
            for encoded in doc.map(|d| select(d, outer)).unwrap_or_default() {
                let Value::String(text) = encoded else {
                    continue;
                };
                let engine = base64::engine::general_purpose::STANDARD;
                let Ok(decoded) = engine.decode(text.trim()) else {
                    continue;
                };
                match serde_json::from_slice::<Value>(&decoded) {
                    Ok(json) if !inner.is_empty() => {
                        values.extend(select(&json, inner).into_iter().filter_map(as_text))
                    }
                    _ if inner.is_empty() => {
                        values.extend(String::from_utf8(decoded).ok());
                    }
                    _ => {}
                }
            }
            values
        } else {
            doc.map(|d| select(d, source).into_iter().filter_map(as_text).collect())
                .unwrap_or_default()
        };
        if !values.is_empty() {
            let mut unique: Vec<String> = Vec::with_capacity(values.len());
            for value in values {
                if !unique.contains(&value) {
                    unique.push(value);
                }
            }
            return unique;
        }
    }
    Vec::new()
}

/// Every value `sources` reads, as [`read`] but each occurrence kept (a shared token must hold
/// in every notification of a batch, even one repeated).
pub fn read_all(
    sources: &str,
    doc: Option<&Value>,
    headers: &BTreeMap<String, String>,
) -> Vec<String> {
    for source in sources.split('|').filter(|s| !s.is_empty()) {
        let values: Vec<String> = if let Some(name) = source.strip_prefix("header:") {
            headers.get(name).cloned().into_iter().collect()
        } else {
            doc.map(|d| {
                select(d, source)
                    .into_iter()
                    .map(|v| as_text(v).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
        };
        if !values.is_empty() {
            return values;
        }
    }
    Vec::new()
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The values at an RFC 6901 pointer whose `*` segments fan out.
fn select<'a>(doc: &'a Value, pointer: &str) -> Vec<&'a Value> {
    let mut current = vec![doc];
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let mut next = Vec::new();
        for value in current {
            match (value, segment.as_str()) {
                (Value::Array(items), "*") => next.extend(items.iter()),
                (Value::Object(members), "*") => next.extend(members.values()),
                (Value::Array(items), index) => {
                    next.extend(index.parse::<usize>().ok().and_then(|i| items.get(i)))
                }
                (Value::Object(members), name) => next.extend(members.get(name)),
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// Request headers the log keeps: the providers' event, delivery and topic headers and those
/// the integration reads from; never a signature, a cookie or credentials.
pub fn kept_header(name: &str, routing: &WebhookRouting) -> bool {
    const KEPT: &[&str] = &[
        "content-type",
        "user-agent",
        "x-github-event",
        "x-github-delivery",
        "x-github-hook-id",
        "x-github-hook-installation-target-id",
        "x-shopify-topic",
        "x-shopify-shop-domain",
        "x-shopify-webhook-id",
        "x-shopify-event-id",
        "x-shopify-triggered-at",
        "webhook-id",
        "webhook-timestamp",
        "svix-id",
        "svix-timestamp",
        "x-slack-request-timestamp",
        "x-slack-retry-num",
        "x-slack-retry-reason",
        "x-goog-channel-id",
        "x-goog-resource-id",
        "x-goog-resource-state",
        "x-goog-message-number",
        "x-zm-request-timestamp",
        "x-hubspot-request-timestamp",
        "x-request-id",
    ];
    if KEPT.contains(&name) {
        return true;
    }
    let named = |sources: &str| {
        sources
            .split('|')
            .any(|s| s.strip_prefix("header:") == Some(name))
    };
    let secretive = name.contains("signature")
        || name.contains("token")
        || name == "authorization"
        || name == "cookie";
    !secretive
        && (named(&routing.event_type_from)
            || named(&routing.delivery_id_from)
            || named(&routing.routing_key_from))
}

/// What a handshake is answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeAnswer {
    pub content_type: &'static str,
    pub body: String,
}

/// A handshake as the request shows it, and what must hold before it is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeStep {
    /// The provider does not sign it: answer at once.
    Unsigned(HandshakeAnswer),
    /// Answer once the request's signature holds.
    Signed(HandshakeAnswer),
    /// Answer when `given` is the webhook secret (Meta's verify token), else refuse.
    TokenEcho {
        given: String,
        answer: HandshakeAnswer,
    },
    /// Zoom: once the signature holds, `{"plainToken": …, "encryptedToken": hex HMAC-SHA256
    /// of the plain token under the secret}`.
    ZoomValidation { plain_token: String },
    /// Asana: keep `secret` as the connection's webhook secret, and echo it in `X-Hook-Secret`.
    KeepSecret { secret: String },
    /// Notion: keep the request (sealed) for an admin, unverified, and answer 200.
    KeepForAdmin,
}

fn text_answer(body: &str) -> HandshakeAnswer {
    HandshakeAnswer {
        content_type: "text/plain; charset=utf-8",
        body: body.to_owned(),
    }
}

/// The handshake this request makes, if it is one. `query` is the URL's decoded query,
/// `headers` lower-case.
pub fn handshake(
    kind: Handshake,
    method: &str,
    query: &[(String, String)],
    headers: &BTreeMap<String, String>,
    doc: Option<&Value>,
) -> Option<HandshakeStep> {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let field = |pointer: &str| doc.and_then(|d| d.pointer(pointer)).and_then(Value::as_str);
    match (kind, method) {
        (Handshake::Slack, "POST") if field("/type") == Some("url_verification") => {
            Some(HandshakeStep::Signed(text_answer(field("/challenge")?)))
        }
        (Handshake::MicrosoftGraph, "POST") => {
            param("validationToken").map(|t| HandshakeStep::Unsigned(text_answer(t)))
        }
        (Handshake::Zoom, "POST") if field("/event") == Some("endpoint.url_validation") => {
            Some(HandshakeStep::ZoomValidation {
                plain_token: field("/payload/plainToken")?.to_owned(),
            })
        }
        (Handshake::Dropbox, "GET") => {
            param("challenge").map(|c| HandshakeStep::Unsigned(text_answer(c)))
        }
        (Handshake::Meta, "GET") if param("hub.mode") == Some("subscribe") => {
            Some(HandshakeStep::TokenEcho {
                given: param("hub.verify_token")?.to_owned(),
                answer: text_answer(param("hub.challenge")?),
            })
        }
        (Handshake::Xero, "POST")
            if doc
                .and_then(|d| d.pointer("/events"))
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty) =>
        {
            Some(HandshakeStep::Signed(HandshakeAnswer {
                content_type: "text/plain; charset=utf-8",
                body: String::new(),
            }))
        }
        (Handshake::Discord, "POST")
            if doc.and_then(|d| d.pointer("/type")).and_then(Value::as_u64) == Some(1) =>
        {
            Some(HandshakeStep::Signed(HandshakeAnswer {
                content_type: "application/json",
                body: r#"{"type":1}"#.to_owned(),
            }))
        }
        (Handshake::Notion, "POST") if field("/verification_token").is_some() => {
            Some(HandshakeStep::KeepForAdmin)
        }
        (Handshake::Asana, "POST") => {
            headers
                .get("x-hook-secret")
                .map(|secret| HandshakeStep::KeepSecret {
                    secret: secret.clone(),
                })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_bodies_yield_every_routing_key_once() {
        let doc = serde_json::json!({
            "events": [
                {"tenantId": "t-1", "eventId": 7},
                {"tenantId": "t-2"},
                {"tenantId": "t-1"}
            ]
        });
        let none = BTreeMap::new();
        assert_eq!(
            read("/events/*/tenantId", Some(&doc), &none),
            ["t-1", "t-2"]
        );
        assert_eq!(read("/missing|/events/0/eventId", Some(&doc), &none), ["7"]);
        assert!(read("/events/9/tenantId", Some(&doc), &none).is_empty());
    }

    #[test]
    fn form_bodies_read_their_fields_and_a_json_payload_field() {
        let body = b"payload=%7B%22type%22%3A%22block_actions%22%2C%22team%22%3A%7B%22id%22%3A%22T1%22%7D%7D";
        let doc = document("application/x-www-form-urlencoded", body).unwrap();
        let none = BTreeMap::new();
        assert_eq!(read("/payload/type", Some(&doc), &none), ["block_actions"]);
        assert_eq!(read("/payload/team/id|/team_id", Some(&doc), &none), ["T1"]);
        let slash = document(
            "application/x-www-form-urlencoded; charset=utf-8",
            b"command=%2Fdeploy&team_id=T2&text=now",
        )
        .unwrap();
        assert_eq!(
            read("/payload/team/id|/team_id", Some(&slash), &none),
            ["T2"]
        );
    }

    #[test]
    fn headers_and_base64_fields_are_sources_too() {
        let headers = BTreeMap::from([("x-github-delivery".to_owned(), "d-1".to_owned())]);
        assert_eq!(read("header:x-github-delivery", None, &headers), ["d-1"]);
        let data = base64::engine::general_purpose::STANDARD.encode(br#"{"emailAddress":"a@b"}"#);
        let doc = serde_json::json!({"message": {"data": data, "messageId": "m-1"}});
        assert_eq!(
            read("base64:/message/data#/emailAddress", Some(&doc), &headers),
            ["a@b"]
        );
        assert!(check_sources("header:X-Bad").is_err());
        assert!(check_sources("team_id").is_err());
        assert!(check_sources("/a|header:x-a|base64:/m/data#/x").is_ok());
    }

    #[test]
    fn handshakes_are_recognised_as_each_provider_makes_them() {
        let none = BTreeMap::new();
        let asana = BTreeMap::from([("x-hook-secret".to_owned(), "s-1".to_owned())]);
        assert_eq!(
            handshake(Handshake::Asana, "POST", &[], &asana, None),
            Some(HandshakeStep::KeepSecret {
                secret: "s-1".to_owned()
            })
        );
        let slack = serde_json::json!({"type": "url_verification", "challenge": "c-1"});
        assert_eq!(
            handshake(Handshake::Slack, "POST", &[], &none, Some(&slack)),
            Some(HandshakeStep::Signed(text_answer("c-1")))
        );
        let graph = [("validationToken".to_owned(), "v <1>".to_owned())];
        assert_eq!(
            handshake(Handshake::MicrosoftGraph, "POST", &graph, &none, None),
            Some(HandshakeStep::Unsigned(text_answer("v <1>")))
        );
        let meta = [
            ("hub.mode".to_owned(), "subscribe".to_owned()),
            ("hub.verify_token".to_owned(), "vt".to_owned()),
            ("hub.challenge".to_owned(), "123".to_owned()),
        ];
        assert!(matches!(
            handshake(Handshake::Meta, "GET", &meta, &none, None),
            Some(HandshakeStep::TokenEcho { given, .. }) if given == "vt"
        ));
        let zoom =
            serde_json::json!({"event": "endpoint.url_validation", "payload": {"plainToken": "p"}});
        assert_eq!(
            handshake(Handshake::Zoom, "POST", &[], &none, Some(&zoom)),
            Some(HandshakeStep::ZoomValidation {
                plain_token: "p".to_owned()
            })
        );
        let intent = serde_json::json!({"events": [], "firstEventSequence": 0});
        assert!(matches!(
            handshake(Handshake::Xero, "POST", &[], &none, Some(&intent)),
            Some(HandshakeStep::Signed(a)) if a.body.is_empty()
        ));
        let ping = serde_json::json!({"type": 1});
        assert!(matches!(
            handshake(Handshake::Discord, "POST", &[], &none, Some(&ping)),
            Some(HandshakeStep::Signed(a)) if a.body == r#"{"type":1}"#
        ));
        let command = serde_json::json!({"type": 2});
        assert_eq!(
            handshake(Handshake::Discord, "POST", &[], &none, Some(&command)),
            None
        );
        let notion = serde_json::json!({"verification_token": "t"});
        assert_eq!(
            handshake(Handshake::Notion, "POST", &[], &none, Some(&notion)),
            Some(HandshakeStep::KeepForAdmin)
        );
        // An ordinary event is no handshake.
        let event = serde_json::json!({"type": "event_callback"});
        assert_eq!(
            handshake(Handshake::Slack, "POST", &[], &none, Some(&event)),
            None
        );
    }

    #[test]
    fn match_on_names_a_value_or_fills_a_text() {
        let values = BTreeMap::from([("shop".to_owned(), "acme".to_owned())]);
        assert_eq!(match_value("shop", &values).as_deref(), Some("acme"));
        assert_eq!(
            match_value("{shop}.myshopify.com", &values).as_deref(),
            Some("acme.myshopify.com")
        );
        assert_eq!(match_value("{realmId}", &values), None);
        assert_eq!(match_value("realmId", &values), None);
    }

    #[test]
    fn secrets_in_headers_are_never_kept() {
        let routing = WebhookRouting {
            delivery_id_from: "header:x-token-id|header:x-event-id".to_owned(),
            ..Default::default()
        };
        assert!(kept_header("x-github-delivery", &routing));
        assert!(kept_header("x-event-id", &routing));
        assert!(!kept_header("x-token-id", &routing));
        assert!(!kept_header("x-hub-signature-256", &routing));
        assert!(!kept_header("authorization", &routing));
    }
}
