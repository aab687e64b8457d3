//! The hot path's opened credentials: a connection's access token as `GetToken` hands it out
//! (opened, in its placement, with the base URI filled), kept per version of the connection and
//! of its integration, so a read does not decrypt and format the same token on every call.
//! Bounded in bytes and age; the plaintext is zeroed when an entry goes (`secrecy`), and a
//! connection that is deleted or revoked has its entry dropped at its next read.

use std::sync::Arc;
use std::time::Duration;

use latchkey_domain::ConnectionId;
use secrecy::{ExposeSecret as _, SecretString};

use super::token::Placement;
use crate::bounded::{Bounded, Weigh};

/// What the opened credentials may hold in all (the hot set of a large deployment).
const BUDGET_BYTES: usize = 32 << 20;
/// How long an opened token stays in memory without being opened again.
const MAX_AGE: Duration = Duration::from_secs(300);

/// A connection's token as handed out, for one version of the connection and its integration.
#[derive(Debug)]
pub struct Opened {
    pub connection_version: u64,
    pub integration_version: u64,
    pub access_token: SecretString,
    pub placement: Placement,
    pub base_uri: Option<String>,
}

impl Weigh for Opened {
    fn weigh(&self) -> usize {
        let placed = match &self.placement {
            Placement::Header { name, value } => name.len() + value.expose_secret().len(),
            Placement::Query { param, value } => param.len() + value.expose_secret().len(),
        };
        std::mem::size_of::<Self>()
            + self.access_token.expose_secret().len()
            + placed
            + self.base_uri.as_ref().map_or(0, String::len)
            + 64
    }
}

#[derive(Debug)]
pub struct OpenedTokens {
    held: Bounded<ConnectionId, Opened>,
}

impl Default for OpenedTokens {
    fn default() -> Self {
        Self {
            held: Bounded::new(BUDGET_BYTES, MAX_AGE),
        }
    }
}

impl OpenedTokens {
    /// The held credential of `id` when it was opened from these versions.
    pub fn get(
        &self,
        id: ConnectionId,
        connection_version: u64,
        integration_version: u64,
    ) -> Option<Arc<Opened>> {
        self.held.get(&id).filter(|opened| {
            opened.connection_version == connection_version
                && opened.integration_version == integration_version
        })
    }

    pub fn keep(&self, id: ConnectionId, opened: Arc<Opened>) {
        self.held.insert(id, opened);
    }

    pub fn forget(&self, id: ConnectionId) {
        self.held.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(connection_version: u64, integration_version: u64) -> Arc<Opened> {
        Arc::new(Opened {
            connection_version,
            integration_version,
            access_token: SecretString::from("tok"),
            placement: Placement::Header {
                name: "Authorization".to_owned(),
                value: SecretString::from("Bearer tok"),
            },
            base_uri: None,
        })
    }

    /// A new version of the connection (a refresh) or of its integration (a new placement) is
    /// not answered from what was opened before.
    #[test]
    fn only_the_versions_it_was_opened_from_are_answered() {
        let tokens = OpenedTokens::default();
        let id = ConnectionId::new_v7();
        tokens.keep(id, opened(3, 7));
        assert!(tokens.get(id, 3, 7).is_some());
        assert!(tokens.get(id, 4, 7).is_none(), "refreshed since");
        assert!(tokens.get(id, 3, 8).is_none(), "integration changed since");
        tokens.forget(id);
        assert!(tokens.get(id, 3, 7).is_none());
    }
}
