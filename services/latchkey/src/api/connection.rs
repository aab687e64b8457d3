use latchkey_domain::{ConnectionId, IntegrationId, TenantId, ValidationErrors};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::connection_service_server::ConnectionService;
use latchkey_store::ConnectionFilter;
use tonic::{Request, Response, Status};

use super::convert;
use crate::error::AppError;
use crate::service::Connections;

#[derive(Debug, Clone)]
pub struct ConnectionApi {
    connections: Connections,
}

impl ConnectionApi {
    pub fn new(connections: Connections) -> Self {
        Self { connections }
    }
}

/// RPCs of the contract whose capability has not been built yet answer this, honestly.
fn not_yet(rpc: &str) -> Status {
    Status::unimplemented(format!(
        "{rpc} is part of the latchkey.v1 contract but is not implemented in this version"
    ))
}

#[tonic::async_trait]
impl ConnectionService for ConnectionApi {
    async fn start_authorization(
        &self,
        _: Request<pb::StartAuthorizationRequest>,
    ) -> Result<Response<pb::StartAuthorizationResponse>, Status> {
        Err(not_yet("StartAuthorization"))
    }

    async fn complete_authorization(
        &self,
        _: Request<pb::CompleteAuthorizationRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        Err(not_yet("CompleteAuthorization"))
    }

    async fn connect_client_credentials(
        &self,
        _: Request<pb::ConnectClientCredentialsRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        Err(not_yet("ConnectClientCredentials"))
    }

    async fn connect_password(
        &self,
        _: Request<pb::ConnectPasswordRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        Err(not_yet("ConnectPassword"))
    }

    async fn get_token(
        &self,
        _: Request<pb::GetTokenRequest>,
    ) -> Result<Response<pb::GetTokenResponse>, Status> {
        Err(not_yet("GetToken"))
    }

    async fn refresh_token(
        &self,
        _: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        Err(not_yet("RefreshToken"))
    }

    async fn revoke_connection(
        &self,
        _: Request<pb::RevokeConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        Err(not_yet("RevokeConnection"))
    }

    async fn delete_connection(
        &self,
        _: Request<pb::DeleteConnectionRequest>,
    ) -> Result<Response<pb::DeleteConnectionResponse>, Status> {
        Err(not_yet("DeleteConnection"))
    }

    async fn get_connection(
        &self,
        request: Request<pb::GetConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
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
            Some(at) => self.connections.get_as_of(id, at).await?,
            None => self.connections.get(id).await?,
        };
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn list_connections(
        &self,
        request: Request<pb::ListConnectionsRequest>,
    ) -> Result<Response<pb::ListConnectionsResponse>, Status> {
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
        let Some(page) = page.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors).into());
        };
        let filter = ConnectionFilter {
            tenant,
            integration_id,
            status,
        };
        let states = self.connections.list(&filter, page).await?;
        let ids: Vec<_> = states.iter().map(|s| *s.id.as_uuid()).collect();
        Ok(Response::new(pb::ListConnectionsResponse {
            connections: states.iter().map(convert::connection_to_pb).collect(),
            next_page_token: convert::next_page_token(&ids, page),
        }))
    }
}
