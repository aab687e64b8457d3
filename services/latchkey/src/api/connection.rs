use latchkey_domain::{
    ClientId, ConnectionId, FieldViolation, IntegrationConfig, IntegrationId, ParamMap, Scope,
    TenantId, ValidationErrors,
};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::connection_service_server::ConnectionService;
use latchkey_store::ConnectionFilter;
use tonic::{Request, Response, Status};

use secrecy::{ExposeSecret, SecretString};

use std::sync::Arc;

use super::convert;
use crate::access::AccessLog;
use crate::auth::Authenticator;
use crate::error::AppError;
use crate::grants::{
    CallbackOutcome, CallbackParams, ClientCredentialsRequest, Grants, PasswordRequest, Placement,
    StartRequest,
};
use crate::refresh::Need;
use crate::service::{Connections, check_secret};

#[derive(Debug, Clone)]
pub struct ConnectionApi {
    connections: Connections,
    grants: Grants,
    auth: Arc<Authenticator>,
    access: Arc<AccessLog>,
}

impl ConnectionApi {
    pub fn new(
        connections: Connections,
        grants: Grants,
        auth: Arc<Authenticator>,
        access: Arc<AccessLog>,
    ) -> Self {
        Self {
            connections,
            grants,
            auth,
            access,
        }
    }
}

fn scopes(input: &[String], errors: &mut ValidationErrors) -> Option<Vec<Scope>> {
    if input.is_empty() {
        return None;
    }
    match Scope::parse_list(input, "scopes", IntegrationConfig::MAX_SCOPES) {
        Ok(scopes) => Some(scopes),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    }
}

fn params(
    input: std::collections::HashMap<String, String>,
    field: &str,
    errors: &mut ValidationErrors,
) -> Option<ParamMap> {
    let sorted: std::collections::BTreeMap<_, _> = input.into_iter().collect();
    match ParamMap::parse_field(sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())), field) {
        Ok(map) => Some(map),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    }
}

#[tonic::async_trait]
impl ConnectionService for ConnectionApi {
    async fn start_authorization(
        &self,
        request: Request<pb::StartAuthorizationRequest>,
    ) -> Result<Response<pb::StartAuthorizationResponse>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let connection_id = (!req.connection_id.is_empty())
            .then(|| {
                errors.check(ConnectionId::parse_field(
                    &req.connection_id,
                    "connection_id",
                ))
            })
            .flatten();
        let scopes = scopes(&req.scopes, &mut errors);
        let extra = params(req.extra_params, "extra_params", &mut errors);
        let return_url = (!req.return_url.is_empty())
            .then(|| {
                errors.check(
                    url::Url::parse(&req.return_url)
                        .ok()
                        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                        .ok_or_else(|| {
                            FieldViolation::new("return_url", "is not an absolute http(s) URL")
                        }),
                )
            })
            .flatten();
        let profile = convert::profile(req.profile, &mut errors);
        let (Some(integration_id), Some(tenant), Some(extra)) = (integration_id, tenant, extra)
        else {
            return Err(AppError::Invalid(errors).into());
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors).into());
        }
        let started = self
            .grants
            .start_authorization(
                &caller,
                StartRequest {
                    integration_id,
                    tenant,
                    connection_id,
                    scopes,
                    extra,
                    return_url,
                    profile,
                },
            )
            .await?;
        Ok(Response::new(pb::StartAuthorizationResponse {
            authorization_url: started.authorization_url,
            connection_id: started.connection_id.to_string(),
            expires_at: Some(convert::timestamp(started.expires_at)),
        }))
    }

    async fn complete_authorization(
        &self,
        request: Request<pb::CompleteAuthorizationRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let params = CallbackParams::from_query(&request.get_ref().callback_query);
        match self.grants.complete_authorization(&caller, params).await? {
            CallbackOutcome::Authorized { connection, .. } => {
                Ok(Response::new(convert::connection_to_pb(&connection)))
            }
            CallbackOutcome::Failed {
                connection_id,
                error,
                description,
                ..
            } => Err(AppError::FailedPrecondition(format!(
                "authorization of connection {connection_id} failed: {error}{}",
                description.map(|d| format!(" ({d})")).unwrap_or_default()
            ))
            .into()),
        }
    }

    async fn connect_client_credentials(
        &self,
        request: Request<pb::ConnectClientCredentialsRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let scopes = scopes(&req.scopes, &mut errors);
        let extra = params(req.extra_params, "extra_params", &mut errors);
        let own_client = match (req.client_id.is_empty(), req.client_secret.is_empty()) {
            (true, true) => None,
            (false, false) => {
                let secret = SecretString::from(req.client_secret);
                errors.check(check_secret(&secret, "client_secret"));
                errors.check(ClientId::parse_field(&req.client_id, "client_id"));
                Some((req.client_id, secret))
            }
            (true, false) => {
                errors.push(FieldViolation::new(
                    "client_id",
                    "is required with client_secret",
                ));
                None
            }
            (false, true) => {
                errors.push(FieldViolation::new(
                    "client_secret",
                    "is required with client_id",
                ));
                None
            }
        };
        let profile = convert::profile(req.profile, &mut errors);
        let (Some(integration_id), Some(tenant), Some(extra)) = (integration_id, tenant, extra)
        else {
            return Err(AppError::Invalid(errors).into());
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors).into());
        }
        let state = self
            .grants
            .connect_client_credentials(
                &caller,
                ClientCredentialsRequest {
                    integration_id,
                    tenant,
                    own_client,
                    scopes,
                    extra,
                    profile,
                },
            )
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn connect_password(
        &self,
        request: Request<pb::ConnectPasswordRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let scopes = scopes(&req.scopes, &mut errors);
        if req.username.is_empty() || req.username.len() > 512 {
            errors.push(FieldViolation::new(
                "username",
                "must be 1 to 512 characters",
            ));
        }
        let password = SecretString::from(req.password);
        if password.expose_secret().is_empty() {
            errors.push(FieldViolation::new("password", "must not be empty"));
        }
        errors.check(check_secret(&password, "password"));
        let profile = convert::profile(req.profile, &mut errors);
        let (Some(integration_id), Some(tenant)) = (integration_id, tenant) else {
            return Err(AppError::Invalid(errors).into());
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors).into());
        }
        let state = self
            .grants
            .connect_password(
                &caller,
                PasswordRequest {
                    integration_id,
                    tenant,
                    username: req.username,
                    password,
                    scopes,
                    profile,
                },
            )
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn get_token(
        &self,
        request: Request<pb::GetTokenRequest>,
    ) -> Result<Response<pb::GetTokenResponse>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        let min_ttl = match req.min_ttl {
            None => None,
            Some(d) if d.seconds < 0 || d.nanos < 0 || d.seconds > 366 * 24 * 3600 => {
                errors.push(FieldViolation::new(
                    "min_ttl",
                    "must be between 0 and 366 days",
                ));
                None
            }
            Some(d) => Some(
                chrono::Duration::seconds(d.seconds)
                    + chrono::Duration::nanoseconds(i64::from(d.nanos)),
            ),
        };
        let Some(id) = id.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors).into());
        };
        let started = std::time::Instant::now();
        let credential = self.grants.get_token(&caller, id, min_ttl).await;
        crate::metrics::observe_get_token(started.elapsed(), credential.is_ok());
        let credential = credential?;
        self.access.record(&caller.actor, id);
        let placement = match credential.placement {
            Placement::Header { name, value } => {
                pb::get_token_response::Placement::Header(pb::HeaderCredential {
                    name,
                    value: value.expose_secret().to_owned(),
                })
            }
            Placement::Query { param, value } => {
                pb::get_token_response::Placement::Query(pb::QueryCredential {
                    param,
                    value: value.expose_secret().to_owned(),
                })
            }
        };
        Ok(Response::new(pb::GetTokenResponse {
            access_token: credential.access_token.expose_secret().to_owned(),
            token_type: credential
                .connection
                .token_type
                .clone()
                .unwrap_or_else(|| "Bearer".to_owned()),
            expires_at: credential.connection.expires_at.map(convert::timestamp),
            scopes: credential.connection.scopes.clone(),
            placement: Some(placement),
            base_uri: credential.base_uri.unwrap_or_default(),
            metadata: Some(convert::metadata_to_pb(&credential.connection.metadata)),
            version: credential.connection.version,
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let id = ConnectionId::parse_field(&request.get_ref().connection_id, "connection_id")
            .map_err(AppError::from)?;
        self.connections.get(&caller, id).await?;
        let state = self.grants.ensure_fresh(id, Need::Force).await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn revoke_connection(
        &self,
        request: Request<pb::RevokeConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let id = ConnectionId::parse_field(&req.connection_id, "connection_id")
            .map_err(AppError::from)?;
        if req.reason.chars().count() > 500 {
            return Err(AppError::from(FieldViolation::new(
                "reason",
                "must be at most 500 characters",
            ))
            .into());
        }
        let state = self.grants.revoke(&caller, id, req.reason).await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn delete_connection(
        &self,
        request: Request<pb::DeleteConnectionRequest>,
    ) -> Result<Response<pb::DeleteConnectionResponse>, Status> {
        let caller = self.auth.caller(&request).await?;
        let id = ConnectionId::parse_field(&request.get_ref().connection_id, "connection_id")
            .map_err(AppError::from)?;
        self.grants.delete(&caller, id).await?;
        Ok(Response::new(pb::DeleteConnectionResponse {}))
    }

    async fn get_connection(
        &self,
        request: Request<pb::GetConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        let as_of = req
            .as_of
            .as_ref()
            .and_then(|ts| errors.check(convert::from_timestamp(ts, "as_of")));
        let Some(id) = id.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors).into());
        };
        let state = match as_of {
            Some(at) => self.connections.get_as_of(&caller, id, at).await?,
            None => self.connections.get(&caller, id).await?,
        };
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn validate_connection(
        &self,
        request: Request<pb::ValidateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let id = ConnectionId::parse_field(&request.get_ref().connection_id, "connection_id")
            .map_err(AppError::from)?;
        let state = self.grants.validate(&caller, id).await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn update_connection(
        &self,
        request: Request<pb::UpdateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        if req.profile.is_none() {
            errors.push(FieldViolation::new("profile", "must be set"));
        }
        let profile = convert::profile(req.profile, &mut errors);
        let (Some(id), Some(profile)) = (id, profile.filter(|_| errors.is_empty())) else {
            return Err(AppError::Invalid(errors).into());
        };
        let state = self
            .connections
            .update_profile(&caller, id, profile, req.expected_version)
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn list_connections(
        &self,
        request: Request<pb::ListConnectionsRequest>,
    ) -> Result<Response<pb::ListConnectionsResponse>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let tenant = (!req.tenant.is_empty())
            .then(|| errors.check(TenantId::parse_field(&req.tenant, "tenant")))
            .flatten();
        let integration_id = (!req.integration_id.is_empty())
            .then(|| {
                errors.check(IntegrationId::parse_field(
                    &req.integration_id,
                    "integration_id",
                ))
            })
            .flatten();
        let status = errors
            .check(convert::status_from_pb(req.status, "status"))
            .flatten();
        let page = match convert::page(req.page_size, &req.page_token) {
            Ok(page) => Some(page),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        // The same rules as labels on connections, so a filter can only name a possible label.
        let labels = match latchkey_domain::connection::Profile::parse(
            String::new(),
            String::new(),
            req.labels,
        ) {
            Ok(profile) => Some(profile.labels),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        let (Some(page), Some(labels)) = (page.filter(|_| errors.is_empty()), labels) else {
            return Err(AppError::Invalid(errors).into());
        };
        let provider_account_id =
            Some(req.provider_account_id).filter(|account| !account.is_empty());
        let filter = ConnectionFilter {
            tenant,
            integration_id,
            status,
            labels,
            provider_account_id,
        };
        let states = self.connections.list(&caller, filter, page).await?;
        let ids: Vec<_> = states.iter().map(|s| *s.id.as_uuid()).collect();
        Ok(Response::new(pb::ListConnectionsResponse {
            connections: states.iter().map(convert::connection_to_pb).collect(),
            next_page_token: convert::next_page_token(&ids, page),
        }))
    }
}
