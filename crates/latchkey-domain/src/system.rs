//! The system streams: what happens to the service's own credentials (API keys, master keys) and
//! who read which connection's token. Nothing here has a projection to fold into; the events are
//! the audit record itself. No event carries a secret or a secret's hash: keys are named by id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConnectionId, TenantId};

/// The system streams: `system-keys` and `system-access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SystemStream {
    /// API keys created and revoked, master keys rotated and dropped.
    Keys,
    /// Token reads, counted per caller, connection and minute.
    Access,
}

impl SystemStream {
    pub const ALL: [Self; 2] = [Self::Keys, Self::Access];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keys => "keys",
            Self::Access => "access",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The stream events of this type belong to.
    pub fn of(event: &Event) -> Self {
        match event {
            Event::TokensRead { .. } => Self::Access,
            _ => Self::Keys,
        }
    }
}

/// How often one caller read one connection's token in one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenReadCount {
    pub actor: String,
    pub connection_id: ConnectionId,
    pub minute: DateTime<Utc>,
    pub reads: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    ApiKeyCreated {
        key_id: String,
        name: String,
        /// `None`: a key for every tenant.
        tenant: Option<TenantId>,
        role: String,
        expires_at: Option<DateTime<Utc>>,
    },
    ApiKeyRevoked {
        key_id: String,
    },
    /// A new master key seals from now on; the data keys the old ones wrapped were re-wrapped.
    MasterKeyRotated {
        active: String,
        retired: Vec<String>,
        rewrapped: u64,
    },
    MasterKeyDropped {
        key_id: String,
    },
    /// Token reads since the last such event of this replica.
    TokensRead {
        reads: Vec<TokenReadCount>,
    },
}

impl Event {
    /// The most read counts one `tokens_read` event carries; more go into several events.
    pub const MAX_READS_PER_EVENT: usize = 500;

    pub fn event_type(&self) -> &'static str {
        match self {
            Self::ApiKeyCreated { .. } => "api_key_created",
            Self::ApiKeyRevoked { .. } => "api_key_revoked",
            Self::MasterKeyRotated { .. } => "master_key_rotated",
            Self::MasterKeyDropped { .. } => "master_key_dropped",
            Self::TokensRead { .. } => "tokens_read",
        }
    }

    pub fn schema_version(&self) -> u32 {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_their_stream_and_carry_their_type() {
        let read = Event::TokensRead { reads: vec![] };
        assert_eq!(SystemStream::of(&read), SystemStream::Access);
        let created = Event::ApiKeyCreated {
            key_id: "lk_1".into(),
            name: "worker".into(),
            tenant: None,
            role: "reader".into(),
            expires_at: None,
        };
        assert_eq!(SystemStream::of(&created), SystemStream::Keys);
        let json = serde_json::to_value(&created).unwrap();
        assert_eq!(json["type"], "api_key_created");
        for s in SystemStream::ALL {
            assert_eq!(SystemStream::parse(s.as_str()), Some(s));
        }
        assert_eq!(SystemStream::parse("other"), None);
    }
}
