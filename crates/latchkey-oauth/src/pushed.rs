//! Pushed authorization requests (RFC 9126): the authorization request's parameters are posted
//! to the provider with the client's authentication, and the browser carries only `client_id`
//! and the `request_uri` the provider answered: nothing of the request can be read or changed on
//! the way, and the provider knows the client before the customer sees a page.

use serde_json::Value;
use url::Url;

use crate::{ClientCredentials, OAuthError, ProviderClient};

impl ProviderClient {
    /// Pushes `authorization` (the full authorization URL as it would be sent, `state` included)
    /// to `endpoint` as `client`, and answers the URL to send the browser to: the authorization
    /// URL's origin and path with only `client_id` and `request_uri`.
    #[tracing::instrument(name = "provider.pushed_authorization", skip_all, fields(host = endpoint.host_str().unwrap_or_default()))]
    pub async fn push_authorization(
        &self,
        endpoint: &Url,
        client: &ClientCredentials<'_>,
        authorization: &Url,
    ) -> Result<Url, OAuthError> {
        let pairs: Vec<(String, String)> = authorization
            .query_pairs()
            .filter(|(key, _)| key != "client_id")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let form: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, json) = self.post_as_client(endpoint, client, form).await?;
        let request_uri = json
            .as_ref()
            .and_then(|j| j.get("request_uri"))
            .and_then(Value::as_str)
            .filter(|uri| !uri.is_empty())
            .ok_or_else(|| OAuthError::InvalidResponse {
                status,
                reason: "the pushed authorization response has no request_uri".to_owned(),
            })?;
        let mut url = authorization.clone();
        url.query_pairs_mut()
            .clear()
            .append_pair("client_id", client.client_id)
            .append_pair("request_uri", request_uri);
        Ok(url)
    }
}
