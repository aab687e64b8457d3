//! A connection's metadata: the token response's non-secret fields and the callback's kept
//! parameters, as a small map.
//!
//! A connection keeps a handful of these (`instance_url`, `scope`, `expires_in`…), and a replica
//! caches hundreds of thousands of connections. A `BTreeMap` allocates a whole node (eleven
//! slots, about 640 bytes) for its first entry; this map holds its pairs in one boxed slice,
//! sorted by name, at 56 bytes a pair. Its JSON is the same: an object, names in order.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Names to JSON values, sorted by name, each name once.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Metadata(Box<[(String, Value)]>);

impl Metadata {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// Sets `name` to `value`, replacing what it held.
    pub fn insert(&mut self, name: String, value: Value) {
        match self.find(&name) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => {
                let mut pairs = std::mem::take(&mut self.0).into_vec();
                pairs.insert(i, (name, value));
                self.0 = pairs.into_boxed_slice();
            }
        }
    }

    /// The pairs in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &Value)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }
}

impl FromIterator<(String, Value)> for Metadata {
    /// As a map would: a name given twice keeps its last value.
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(pairs: I) -> Self {
        let mut pairs: Vec<_> = pairs.into_iter().collect();
        // Stable: equal names keep their order, and the last of each run wins below.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(String, Value)> = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match kept.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => kept.push(pair),
            }
        }
        Self(kept.into_boxed_slice())
    }
}

impl From<&BTreeMap<String, Value>> for Metadata {
    fn from(map: &BTreeMap<String, Value>) -> Self {
        // Already sorted and unique.
        Self(
            map.iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        )
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Metadata;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of metadata fields")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metadata, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// Whether a member named `name` (inside an object named `parent`) holds a secret: a name with
/// `token` (but `token_type`), `secret`, `password` or `credential` in it, `key` or a name ending
/// in `_key`/`-key` (but a `publishable_key`, public by design), and a webhook's `url` (Slack's `incoming_webhook.url` posts as the
/// customer). Matched without regard to case.
pub fn is_secret_name(name: &str, parent: Option<&str>) -> bool {
    let name = name.to_ascii_lowercase();
    let in_webhook = parent.is_some_and(|p| p.to_ascii_lowercase().contains("webhook"));
    (name.contains("token") && name != "token_type")
        || ["secret", "password", "passwd", "credential"]
            .iter()
            .any(|word| name.contains(word))
        || name == "key"
        || ((name.ends_with("_key") || name.ends_with("-key"))
            && !name.ends_with("publishable_key"))
        || name.contains("webhook_url")
        || (in_webhook && name == "url")
}

/// `value` with every member that [`is_secret_name`] marks left out, at any depth (objects
/// within objects and arrays), so a kept field never carries a token in clear.
pub fn without_secrets(value: Value, parent: Option<&str>) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(name, _)| !is_secret_name(name, parent))
                .map(|(name, value)| {
                    let kept = without_secrets(value, Some(&name));
                    (name, kept)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| without_secrets(item, parent))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn reads_and_writes_the_json_a_map_would() {
        let map = map(&[
            ("scope", json!("api refresh_token")),
            ("expires_in", json!(3600)),
            ("instance_url", json!("https://acme.my.salesforce.com")),
        ]);
        let metadata = Metadata::from(&map);
        let json = serde_json::to_string(&metadata).unwrap();
        assert_eq!(json, serde_json::to_string(&map).unwrap());
        let back: Metadata = serde_json::from_str(&json).unwrap();
        assert_eq!(back, metadata);
        assert_eq!(back.get("expires_in"), Some(&json!(3600)));
        assert_eq!(back.get("missing"), None);
        assert_eq!(
            back.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["expires_in", "instance_url", "scope"]
        );
    }

    #[test]
    fn a_name_given_twice_keeps_its_last_value_as_a_map_does() {
        let json = r#"{"b":1,"a":2,"b":3}"#;
        let metadata: Metadata = serde_json::from_str(json).unwrap();
        let map: BTreeMap<String, Value> = serde_json::from_str(json).unwrap();
        assert_eq!(metadata, Metadata::from(&map));
        assert_eq!(metadata.get("b"), Some(&json!(3)));
        assert_eq!(metadata.len(), 2);
    }

    #[test]
    fn insert_replaces_or_adds_in_order() {
        let mut metadata = Metadata::new();
        assert!(metadata.is_empty());
        metadata.insert("realmId".to_owned(), json!("1"));
        metadata.insert("instance_url".to_owned(), json!("x"));
        metadata.insert("realmId".to_owned(), json!("2"));
        assert_eq!(
            serde_json::to_string(&metadata).unwrap(),
            r#"{"instance_url":"x","realmId":"2"}"#
        );
    }

    #[test]
    fn secrets_are_left_out_at_any_depth() {
        let slack = json!({
            "id": "T1",
            "authed_user": {"id": "U1", "access_token": "xoxp-canary", "token_type": "user",
                            "refresh_token": "xoxe-canary", "scope": "chat:write"},
            "incoming_webhook": {"channel": "#general", "url": "https://hooks.slack.com/canary"},
            "installs": [{"bot": {"bot_access_token": "xoxb-canary", "api_key": "k",
                                  "client_secret": "s", "Password": "p", "signing-key": "x"}}]
        });
        let kept = without_secrets(slack, None).to_string();
        assert!(!kept.contains("canary"), "{kept}");
        for gone in [
            "api_key",
            "client_secret",
            "Password",
            "signing-key",
            "\"url\"",
        ] {
            assert!(!kept.contains(gone), "{gone}: {kept}");
        }
        for stays in ["U1", "chat:write", "#general", "token_type", "T1"] {
            assert!(kept.contains(stays), "{stays}: {kept}");
        }
        assert!(is_secret_name("url", Some("incoming_webhook")));
        assert!(!is_secret_name("url", Some("team")));
        assert!(!is_secret_name("instance_url", None));
        assert!(!is_secret_name("stripe_publishable_key", None));
    }

    #[test]
    fn not_an_object_is_refused() {
        assert!(serde_json::from_str::<Metadata>("[1]").is_err());
    }
}
