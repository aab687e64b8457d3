//! MCP servers connected by their URL alone (the MCP authorization specification): the server's
//! protected-resource metadata (RFC 9728) names its authorization server, whose metadata
//! (RFC 8414) gives the endpoints; a client is registered there by dynamic registration (RFC
//! 7591) and kept as an integration of the tenant's own (its secret sealed), reused for every
//! connection to that server; authorizations and refreshes ask for tokens for that resource
//! (RFC 8707 `resource`). The connection is then started like any authorization-code one.

use latchkey_domain::integration::IntegrationConfigInput;
use latchkey_domain::{FieldViolation, IntegrationId, TenantId, integration};
use latchkey_store::Page;
use secrecy::SecretString;
use url::Url;

use super::Integrations;
use crate::callers::Caller;
use crate::connections::authorize::{StartRequest, Started};
use crate::error::AppError;

/// `ConnectMcpServer`, checked.
#[derive(Debug)]
pub struct McpRequest {
    pub server_url: Url,
    pub tenant: TenantId,
    /// Unset: what the server's metadata lists (`scopes_supported`).
    pub scopes: Option<Vec<latchkey_domain::Scope>>,
    pub return_url: Option<Url>,
    pub profile: Option<latchkey_domain::connection::Profile>,
}

/// The authorization started, and the integration that holds the server's registration.
#[derive(Debug)]
pub struct McpStarted {
    pub integration_id: IntegrationId,
    pub started: Started,
}

/// What an integration's name may hold of a server's name or URL.
fn integration_name(resource_name: Option<&str>, server: &Url) -> String {
    let shown = resource_name
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}{}", server.host_str().unwrap_or_default(), server.path()));
    let name: String = format!("MCP {shown}")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    name.trim().to_owned()
}

impl Integrations {
    pub async fn connect_mcp_server(
        &self,
        caller: &Caller,
        request: McpRequest,
    ) -> Result<McpStarted, AppError> {
        let tenant = caller.acting_for(request.tenant.clone())?;
        let resource = self
            .provider
            .protected_resource(&request.server_url)
            .await?;
        let Some(issuer) = resource.authorization_servers.first() else {
            return Err(AppError::FailedPrecondition(format!(
                "the MCP server {} names no authorization server in its metadata",
                request.server_url
            )));
        };
        let issuer = Url::parse(issuer).map_err(|_| {
            AppError::FailedPrecondition(format!(
                "the MCP server's authorization server {issuer:?} is not a URL"
            ))
        })?;
        let integration = match self
            .mcp_integration(&tenant, &issuer, &resource.resource)
            .await?
        {
            Some(known) => known,
            None => {
                self.register_mcp_integration(caller, &tenant, &issuer, &resource, &request)
                    .await?
            }
        };
        let started = self
            .connections
            .start_authorization(
                caller,
                StartRequest {
                    integration_id: integration.id,
                    tenant,
                    connection_id: None,
                    scopes: request.scopes,
                    extra: Default::default(),
                    return_url: request.return_url,
                    profile: request.profile,
                    connect_session: None,
                    params: Vec::new(),
                },
            )
            .await?;
        Ok(McpStarted {
            integration_id: integration.id,
            started,
        })
    }

    /// The tenant's integration for this resource at this authorization server, if one was
    /// registered before.
    async fn mcp_integration(
        &self,
        tenant: &TenantId,
        issuer: &Url,
        resource: &str,
    ) -> Result<Option<integration::State>, AppError> {
        let mut page = Page::first(Page::MAX_LIMIT);
        loop {
            let batch = self.store.list_integrations(page).await?;
            let found = batch.iter().find(|i| {
                !i.deleted
                    && i.owner.as_ref() == Some(tenant)
                    && i.config.endpoints.issuer.as_ref().map(|u| u.as_str())
                        == Some(issuer.as_str())
                    && i.config.authorization_params.get("resource") == Some(resource)
            });
            if let Some(found) = found {
                return Ok(Some(found.clone()));
            }
            match batch.last() {
                Some(last) if batch.len() == page.limit as usize => {
                    page.after = Some(*last.id.as_uuid());
                }
                _ => return Ok(None),
            }
        }
    }

    /// The client Latchkey is at `issuer`: its client metadata document when the server takes
    /// one and Latchkey is reached over https (a public client, PKCE; nothing to register),
    /// else a client registered there by dynamic registration.
    async fn register_at(
        &self,
        issuer: &Url,
        metadata: &latchkey_oauth::ServerMetadata,
        name: &str,
        request: &McpRequest,
        resource: &str,
    ) -> Result<latchkey_oauth::RegisteredClient, AppError> {
        if metadata.client_id_metadata_document_supported && self.connections.public_https() {
            return Ok(latchkey_oauth::RegisteredClient {
                client_id: self.connections.client_metadata_url(),
                client_secret: None,
            });
        }
        let Some(endpoint) = metadata.registration_endpoint.as_deref() else {
            return Err(AppError::FailedPrecondition(format!(
                "the authorization server {issuer} of {} takes neither client metadata documents \
                 (or Latchkey is not reached over https: LATCHKEY_PUBLIC_URL) nor dynamic client \
                 registration: register a client there and create an integration for it \
                 (CreateIntegration with issuer, discover, and authorization_params and \
                 token_params resource={resource})",
                request.server_url
            )));
        };
        let endpoint = Url::parse(endpoint).map_err(|_| {
            AppError::FailedPrecondition(format!(
                "the registration endpoint of {issuer} is not a URL"
            ))
        })?;
        Ok(self
            .provider
            .register_client(
                &endpoint,
                &serde_json::json!({
                    "client_name": format!("Latchkey: {name}"),
                    "redirect_uris": [self.connections.public_base().to_owned() + "/oauth/callback"],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_basic",
                }),
            )
            .await?)
    }

    /// Registers a client for the tenant at `issuer` and keeps it as an integration.
    async fn register_mcp_integration(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        issuer: &Url,
        resource: &latchkey_oauth::ProtectedResource,
        request: &McpRequest,
    ) -> Result<integration::State, AppError> {
        let metadata = latchkey_oauth::discover(&self.provider, issuer).await?;
        let name = integration_name(resource.resource_name.as_deref(), &request.server_url);
        let registered = self
            .register_at(issuer, &metadata, &name, request, &resource.resource)
            .await?;
        let pairs = vec![("resource".to_owned(), resource.resource.clone())];
        let mut input = IntegrationConfigInput {
            name,
            description: format!(
                "MCP server {} (its authorization server {issuer}), registered by Latchkey",
                resource.resource
            ),
            grant_type: "authorization_code".to_owned(),
            scopes: resource.scopes_supported.clone(),
            authorization_params: pairs.clone(),
            token_params: pairs,
            ..Default::default()
        };
        input.endpoints.issuer = issuer.to_string();
        input.client.client_id = registered.client_id;
        self.discover(&mut input).await?;
        let config = input.parse().map_err(|errors| {
            AppError::FailedPrecondition(format!(
                "the MCP server's metadata does not make an integration: {errors}"
            ))
        })?;
        let secret: Option<SecretString> = registered.client_secret;
        let state = self
            .create(caller, config, secret, None, Some(tenant.clone()))
            .await?;
        tracing::info!(integration_id = %state.id, resource = %resource.resource, "MCP server registered");
        Ok(state)
    }
}

/// `server_url` as a caller gave it: an absolute http(s) URL.
pub fn server_url(value: &str) -> Result<Url, FieldViolation> {
    Url::parse(value)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
        .ok_or_else(|| FieldViolation::new("server_url", "must be an absolute http(s) URL"))
}
