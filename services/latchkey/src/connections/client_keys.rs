//! What Latchkey publishes of itself as an OAuth client: the public keys of the integrations'
//! `private_key_jwt` clients, as one JWK Set at `{public url}/.well-known/jwks.json` (so an
//! authorization server can fetch the key a client assertion names: `kid`, the RFC 7638
//! thumbprint; each derived once per version of its integration, a deleted integration's key
//! leaving the set), and its client metadata document at `{public url}/oauth/client-metadata.json`,
//! whose URL is its client id at servers that take one (MCP servers' authorization servers).

use std::collections::HashMap;
use std::sync::Mutex;

use latchkey_domain::{IntegrationId, integration};
use latchkey_oauth::{ClientAssertionKey, Jwk, JwkSet};
use latchkey_store::Page;

use super::Connections;
use crate::error::AppError;

/// Public keys by integration, with the version they were derived at (`None`: that version's
/// key could not be read, and is left out until the integration changes).
#[derive(Debug, Default)]
pub(super) struct ClientKeys(Mutex<HashMap<IntegrationId, (u64, Option<Jwk>)>>);

impl Connections {
    /// The URL of Latchkey's client metadata document: its client id where one is taken.
    pub fn client_metadata_url(&self) -> String {
        format!("{}/oauth/client-metadata.json", self.public_base())
    }

    /// Latchkey's client metadata document (draft-ietf-oauth-client-id-metadata-document): a
    /// public client (PKCE) whose only redirect URI is Latchkey's callback.
    pub fn client_metadata(&self) -> serde_json::Value {
        serde_json::json!({
            "client_id": self.client_metadata_url(),
            "client_name": "Latchkey",
            "client_uri": self.public_base(),
            "redirect_uris": [format!("{}/oauth/callback", self.public_base())],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })
    }

    /// Every live `private_key_jwt` client's public key.
    pub async fn client_jwks(&self) -> Result<JwkSet, AppError> {
        let mut keys = Vec::new();
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = self.store.list_integrations(page).await?;
            for integration in batch.iter().filter(|i| !i.deleted) {
                if integration.config.client.client_assertion.is_some()
                    && let Some(jwk) = self.client_key(integration).await
                {
                    keys.push(jwk);
                }
            }
            match batch.last() {
                Some(last) if batch.len() == page.limit as usize => {
                    page.after = Some(*last.id.as_uuid());
                }
                _ => break,
            }
        }
        Ok(JwkSet { keys })
    }

    async fn client_key(&self, integration: &integration::State) -> Option<Jwk> {
        let known = self
            .client_keys
            .0
            .lock()
            .ok()?
            .get(&integration.id)
            .cloned();
        if let Some((version, jwk)) = known
            && version == integration.version
        {
            return jwk;
        }
        let jwk = self.derive_client_key(integration).await;
        if let Ok(mut keys) = self.client_keys.0.lock() {
            keys.insert(integration.id, (integration.version, jwk.clone()));
        }
        jwk
    }

    async fn derive_client_key(&self, integration: &integration::State) -> Option<Jwk> {
        let settings = integration.config.client.client_assertion.as_ref()?;
        let derived = match self.open_integration_secret(integration).await {
            Ok(Some(pem)) => ClientAssertionKey::from_pem(&pem, &settings.algorithm, "")
                .and_then(|key| key.public_jwk())
                .map_err(|e| e.to_string()),
            Ok(None) => Err("it has no private key".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        derived
            .inspect_err(|reason| {
                tracing::warn!(integration_id = %integration.id, reason, "a private_key_jwt client's public key is left out of the JWKS");
            })
            .ok()
    }
}
