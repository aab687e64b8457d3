//! Which client a request to the provider goes as: the connection's own, when it brought one
//! (client credentials the customer pasted), else the integration's. Owned, so it outlives the
//! reads it came from.

use latchkey_crypto::Field;
use latchkey_domain::connection::{self, GrantCredentials};
use latchkey_domain::{ClientAuthMethod, FieldViolation, IntegrationConfig, integration};
use latchkey_oauth::{ClientAssertionKey, ClientCredentials, DpopKey, ProviderClient};
use secrecy::SecretString;

use super::Connections;
use crate::error::AppError;

/// A client id, its secret (none for a public client; a `private_key_jwt` client's private key,
/// read once as its signing key) and how the provider wants them sent.
#[derive(Debug)]
pub(super) struct Client {
    id: String,
    secret: Option<SecretString>,
    method: ClientAuthMethod,
    assertion_key: Option<ClientAssertionKey>,
    /// The connection's DPoP key, for an integration whose tokens are DPoP-bound.
    dpop: Option<DpopKey>,
    /// A mutual-TLS client's own guarded HTTP client, presenting its certificate.
    tls: Option<ProviderClient>,
}

impl Client {
    /// `secret` as `config`'s client authentication reads it: a `private_key_jwt` client's is
    /// its PEM private key, a mutual-TLS client's its certificate and key (a TLS client of
    /// `provider`'s guard is built with them). One that cannot serve is refused, never quoted:
    /// `INVALID_ARGUMENT` on `field` when the request brought it, else `FAILED_PRECONDITION`
    /// naming `whose`.
    pub(super) fn new(
        provider: &ProviderClient,
        (id, secret): (&str, Option<SecretString>),
        config: &IntegrationConfig,
        (field, whose): (Option<&str>, &str),
    ) -> Result<Self, AppError> {
        let refuse = |e: String| match field {
            Some(field) => AppError::Invalid(
                FieldViolation::new(field, format!("cannot authenticate this client: {e}")).into(),
            ),
            None => AppError::FailedPrecondition(format!(
                "{whose} client secret cannot authenticate the client: {e}"
            )),
        };
        let assertion_key = match (&config.client.client_assertion, &secret) {
            (Some(settings), Some(pem)) => Some(
                ClientAssertionKey::from_pem(
                    pem,
                    &settings.algorithm,
                    config.client_assertion_audience().unwrap_or_default(),
                )
                .map_err(|e| refuse(e.to_string()))?,
            ),
            _ => None,
        };
        let tls = match (config.client.client_auth.is_mutual_tls(), &secret) {
            (true, Some(pem)) => Some(provider.with_identity(pem).map_err(refuse)?),
            (true, None) => return Err(refuse("it has no certificate and key".to_owned())),
            (false, _) => None,
        };
        Ok(Self {
            id: id.to_owned(),
            secret,
            method: config.client.client_auth,
            assertion_key,
            dpop: None,
            tls,
        })
    }

    /// This client, proving possession of `dpop` on token requests.
    pub(super) fn with_dpop(mut self, dpop: Option<DpopKey>) -> Self {
        self.dpop = dpop;
        self
    }

    /// A client the request brings itself.
    pub(super) fn own(
        provider: &ProviderClient,
        id: &str,
        secret: &SecretString,
        config: &IntegrationConfig,
    ) -> Result<Self, AppError> {
        Self::new(
            provider,
            (id, Some(secret.clone())),
            config,
            (Some("client_secret"), "the connection's"),
        )
    }

    /// As the OAuth client takes it.
    pub(super) fn credentials(&self) -> ClientCredentials<'_> {
        ClientCredentials {
            client_id: &self.id,
            client_secret: self.secret.as_ref(),
            method: self.method,
            assertion_key: self.assertion_key.as_ref(),
            dpop: self.dpop.as_ref(),
            tls: self.tls.as_ref(),
        }
    }
}

impl Connections {
    /// Connection `id`'s DPoP key when `config` binds tokens with DPoP.
    pub(super) async fn dpop_key(
        &self,
        config: &IntegrationConfig,
        id: latchkey_domain::ConnectionId,
    ) -> Result<Option<DpopKey>, AppError> {
        if !config.tokens.dpop {
            return Ok(None);
        }
        self.derived_dpop_key(id).await.map(Some)
    }

    /// The integration's own client (`config`: the integration's, filled for a connection).
    pub(super) async fn integration_client(
        &self,
        integration: &integration::State,
        config: &IntegrationConfig,
    ) -> Result<Client, AppError> {
        Client::new(
            &self.provider,
            (
                config.client.client_id.as_str(),
                self.open_integration_secret(integration).await?,
            ),
            config,
            (None, "the integration's"),
        )
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
            }) => {
                let secret = match client_secret {
                    Some(sealed) => Some(
                        self.open_connection_secret(state.id, Field::ClientSecret, sealed)
                            .await?,
                    ),
                    None => None,
                };
                Client::new(
                    &self.provider,
                    (client_id, secret),
                    config,
                    (None, "the connection's"),
                )
            }
            _ => self.integration_client(integration, config).await,
        }
    }
}
