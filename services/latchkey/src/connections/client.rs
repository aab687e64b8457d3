//! Which client a request to the provider goes as: the connection's own, when it brought one
//! (client credentials the customer pasted), else the integration's. Owned, so it outlives the
//! reads it came from.

use latchkey_crypto::Field;
use latchkey_domain::connection::{self, GrantCredentials};
use latchkey_domain::{ClientAuthMethod, IntegrationConfig, integration};
use latchkey_oauth::ClientCredentials;
use secrecy::SecretString;

use super::Connections;
use crate::error::AppError;

/// A client id, its secret (none for a public client) and how the provider wants them sent.
#[derive(Debug)]
pub(super) struct Client {
    id: String,
    secret: Option<SecretString>,
    method: ClientAuthMethod,
}

impl Client {
    /// A client the request brings itself.
    pub(super) fn own(id: &str, secret: &SecretString, config: &IntegrationConfig) -> Self {
        Self {
            id: id.to_owned(),
            secret: Some(secret.clone()),
            method: config.client.client_auth,
        }
    }

    /// As the OAuth client takes it.
    pub(super) fn credentials(&self) -> ClientCredentials<'_> {
        ClientCredentials {
            client_id: &self.id,
            client_secret: self.secret.as_ref(),
            method: self.method,
        }
    }
}

impl Connections {
    /// The integration's own client (`config`: the integration's, filled for a connection).
    pub(super) async fn integration_client(
        &self,
        integration: &integration::State,
        config: &IntegrationConfig,
    ) -> Result<Client, AppError> {
        Ok(Client {
            id: config.client.client_id.as_str().to_owned(),
            secret: self.open_integration_secret(integration).await?,
            method: config.client.client_auth,
        })
    }

    /// The client `state` was connected with: its own, when it brought one (with its secret, or
    /// none for a public client), else the integration's.
    pub(super) async fn connection_client(
        &self,
        state: &connection::State,
        integration: &integration::State,
        config: &IntegrationConfig,
    ) -> Result<Client, AppError> {
        match state.credentials.as_deref() {
            Some(GrantCredentials::ClientCredentials {
                client_id,
                client_secret,
            }) => Ok(Client {
                id: client_id.clone(),
                secret: match client_secret {
                    Some(sealed) => Some(
                        self.open_connection_secret(state.id, Field::ClientSecret, sealed)
                            .await?,
                    ),
                    None => None,
                },
                method: config.client.client_auth,
            }),
            _ => self.integration_client(integration, config).await,
        }
    }
}
