//! Where a customer's browser is sent for an authorization: the provider's authorization URL as
//! built, or, for an integration that pushes its authorization requests (RFC 9126, required by
//! FAPI 2.0 providers), the URL carrying only `client_id` and the `request_uri` the provider
//! answered. Pushed when the browser is about to go (the `request_uri` lives about a minute).

use latchkey_domain::{IntegrationConfig, integration};
use url::Url;

use super::Connections;
use crate::error::AppError;

impl Connections {
    /// `provider_url` (with its `state`), pushed first when `config` says so.
    pub(super) async fn browser_url(
        &self,
        integration: &integration::State,
        config: &IntegrationConfig,
        provider_url: Url,
    ) -> Result<Url, AppError> {
        let Some(endpoint) = &config.endpoints.pushed_authorization_url else {
            return Ok(provider_url);
        };
        let client = self.integration_client(integration, config).await?;
        let url = self
            .provider
            .push_authorization(&endpoint.url(), &client.credentials(), &provider_url)
            .await?;
        tracing::debug!(integration_id = %integration.id, "authorization request pushed");
        Ok(url)
    }
}
