use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::FieldViolation;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered id. Callers that need determinism pass ids in instead.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the canonical hyphenated form, reporting problems under `field`.
            pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
                if input.is_empty() {
                    return Err(FieldViolation::new(field, concat!("must not be empty (", $what, " id)")));
                }
                Uuid::try_parse(input)
                    .map(Self)
                    .map_err(|_| FieldViolation::new(field, concat!("is not a valid ", $what, " id (a UUID)")))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = FieldViolation;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse_field(s, stringify!($name))
            }
        }
    };
}

uuid_id!(
    /// Identifies an integration (one OAuth app at one provider).
    IntegrationId,
    "integration"
);
uuid_id!(
    /// Identifies a connection (one customer's grant through one integration).
    ConnectionId,
    "connection"
);
uuid_id!(
    /// Identifies a hosted connect session (one link a platform gives one customer).
    ConnectSessionId,
    "connect session"
);

/// A platform's customer. It appears in NATS subjects, so it is restricted to characters that are
/// safe there: ASCII letters, digits, `-` and `_`, 1 to 64 of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, FieldViolation> {
        Self::parse_field(input, "tenant")
    }

    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldViolation> {
        if input.is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        if input.len() > Self::MAX_LEN {
            return Err(FieldViolation::new(
                field,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(FieldViolation::new(
                field,
                "may hold only ASCII letters, digits, '-' and '_'",
            ));
        }
        // Subjects starting with `_` are Latchkey's own (`_integrations`).
        if !input.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(FieldViolation::new(
                field,
                "must start with an ASCII letter or digit",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TenantId {
    type Error = FieldViolation;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_refuse_subject_breaking_characters() {
        assert!(TenantId::parse("acme_corp-1").is_ok());
        for bad in [
            "",
            "a.b",
            "a b",
            "a*",
            "a>",
            &"x".repeat(65),
            "é",
            "_integrations",
            "-a",
        ] {
            let err = TenantId::parse(bad).expect_err(bad);
            assert_eq!(err.field, "tenant");
        }
    }

    #[test]
    fn connection_ids_name_the_field_they_came_from() {
        let err = ConnectionId::parse_field("nope", "connection_id").unwrap_err();
        assert_eq!(err.field, "connection_id");
        let id = ConnectionId::new_v7();
        assert_eq!(ConnectionId::parse_field(&id.to_string(), "x").unwrap(), id);
    }
}
