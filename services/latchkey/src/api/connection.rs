use std::sync::Arc;

use latchkey_proto::server;
use latchkey_proto::server::connection_service_server::ConnectionService;
use latchkey_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert;
use super::reply::EncodedReplies;
use super::requests::{
    ConnectionList, ConnectionQuery, ProfileUpdate, RevokeRequest, TokenRequest, connection_id,
};
use super::webhooks::{DeliveryQuery, record_to_pb};
use crate::access::AccessLog;
use crate::auth::Authenticator;
use crate::callers::Role;
use crate::connections::Connections;
use crate::connections::authorize::{CallbackOutcome, CallbackParams, StartRequest};
use crate::connections::connect::{ClientCredentialsRequest, PasswordRequest};
use crate::connections::import::ImportRequest;
use crate::connections::rejected::Rejection;
use crate::connections::service_account::ServiceAccountRequest;
use crate::connections::sessions::SessionRequest;
use crate::connections::{ExchangeRequest, StartDevice};
use crate::error::AppError;
use crate::inbound::Inbound;
use crate::integrations::Integrations;
use crate::integrations::mcp::McpRequest;
use latchkey_domain::connection::refresh::Need;
use secrecy::ExposeSecret as _;

#[derive(Debug, Clone)]
pub struct ConnectionApi {
    connections: Connections,
    /// `ConnectMcpServer` registers an integration before it starts the authorization.
    integrations: Integrations,
    inbound: Inbound,
    auth: Arc<Authenticator>,
    access: Arc<AccessLog>,
    replies: Arc<EncodedReplies>,
}

impl ConnectionApi {
    pub fn new(
        connections: Connections,
        integrations: Integrations,
        inbound: Inbound,
        auth: Arc<Authenticator>,
        access: Arc<AccessLog>,
    ) -> Self {
        Self {
            connections,
            integrations,
            inbound,
            auth,
            access,
            replies: Arc::default(),
        }
    }
}

/// The request's message, checked into the use case's input.
fn checked<P, T: TryFrom<P, Error = latchkey_domain::ValidationErrors>>(
    request: Request<P>,
) -> Result<T, AppError> {
    Ok(T::try_from(request.into_inner())?)
}

#[tonic::async_trait]
impl ConnectionService for ConnectionApi {
    async fn start_authorization(
        &self,
        request: Request<pb::StartAuthorizationRequest>,
    ) -> Result<Response<pb::StartAuthorizationResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: StartRequest = checked(request)?;
        let started = self.connections.start_authorization(&caller, input).await?;
        Ok(Response::new(convert::started_to_pb(started)))
    }

    async fn complete_authorization(
        &self,
        request: Request<pb::CompleteAuthorizationRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let params = CallbackParams::from_query(&request.get_ref().callback_query);
        match self
            .connections
            .complete_authorization(&caller, params)
            .await?
        {
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
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: ClientCredentialsRequest = checked(request)?;
        let state = self
            .connections
            .connect_client_credentials(&caller, input)
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn import_connection(
        &self,
        request: Request<pb::ImportConnectionRequest>,
    ) -> Result<Response<pb::ImportConnectionResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: ImportRequest = checked(request)?;
        let (state, created) = self.connections.import(&caller, input).await?;
        Ok(Response::new(pb::ImportConnectionResponse {
            connection: Some(convert::connection_to_pb(&state)),
            created,
        }))
    }

    async fn create_connect_session(
        &self,
        request: Request<pb::CreateConnectSessionRequest>,
    ) -> Result<Response<pb::CreateConnectSessionResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: SessionRequest = checked(request)?;
        let created = self
            .connections
            .create_connect_session(&caller, input)
            .await?;
        Ok(Response::new(pb::CreateConnectSessionResponse {
            session_id: created.id.to_string(),
            connect_url: format!(
                "{}/connect/{}",
                self.connections.public_base(),
                created.link_token.expose_secret()
            ),
            expires_at: Some(crate::wire::timestamp(created.expires_at)),
        }))
    }

    async fn connect_password(
        &self,
        request: Request<pb::ConnectPasswordRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: PasswordRequest = checked(request)?;
        let state = self.connections.connect_password(&caller, input).await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn connect_service_account(
        &self,
        request: Request<pb::ConnectServiceAccountRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: ServiceAccountRequest = checked(request)?;
        let state = self
            .connections
            .connect_service_account(&caller, input)
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn connect_token_exchange(
        &self,
        request: Request<pb::ConnectTokenExchangeRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: ExchangeRequest = checked(request)?;
        let state = self
            .connections
            .connect_token_exchange(&caller, input)
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn connect_mcp_server(
        &self,
        request: Request<pb::ConnectMcpServerRequest>,
    ) -> Result<Response<pb::ConnectMcpServerResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Admin).await?;
        let input: McpRequest = checked(request)?;
        let started = self.integrations.connect_mcp_server(&caller, input).await?;
        Ok(Response::new(super::device::mcp_started_to_pb(started)))
    }

    async fn start_device_authorization(
        &self,
        request: Request<pb::StartDeviceAuthorizationRequest>,
    ) -> Result<Response<pb::StartDeviceAuthorizationResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: StartDevice = checked(request)?;
        let started = self
            .connections
            .start_device_authorization(&caller, input)
            .await?;
        Ok(Response::new(super::device::device_started_to_pb(started)))
    }

    async fn get_token(
        &self,
        request: Request<pb::GetTokenRequest>,
    ) -> Result<Response<latchkey_proto::encoded::Encoded>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let input: TokenRequest = checked(request)?;
        let started = std::time::Instant::now();
        let credential = self
            .connections
            .get_token(&caller, input.id, input.min_ttl)
            .await;
        crate::metrics::observe_get_token(started.elapsed(), credential.is_ok());
        // A connection that hands out no token now (deleted, revoked…) has its reply dropped.
        let credential = credential.inspect_err(|_| self.replies.forget(input.id))?;
        self.access.record(&caller.actor, input.id);
        let reply = self.replies.reply(&credential);
        match &input.dpop {
            None => Ok(Response::new(reply)),
            Some(request) => {
                let proof = self.connections.dpop_proof(&credential, request).await?;
                Ok(Response::new(EncodedReplies::with_proof(&reply, &proof)))
            }
        }
    }

    async fn report_token_rejected(
        &self,
        request: Request<pb::ReportTokenRejectedRequest>,
    ) -> Result<Response<server::ReportTokenRejectedResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let report: Rejection = checked(request)?;
        let id = report.id;
        let verdict = self.connections.report_rejected(&caller, report).await?;
        let credential = self.connections.get_token(&caller, id, None).await?;
        self.access.record(&caller.actor, id);
        Ok(Response::new(server::ReportTokenRejectedResponse {
            verdict: super::report::verdict_to_pb(verdict) as i32,
            credential: Some(self.replies.reply(&credential)),
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let id = connection_id(&request.get_ref().connection_id).map_err(AppError::from)?;
        self.connections.get(&caller, id).await?;
        let state = self.connections.ensure_fresh(id, Need::Force).await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn revoke_connection(
        &self,
        request: Request<pb::RevokeConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let input: RevokeRequest = checked(request)?;
        let state = self
            .connections
            .revoke(&caller, input.id, input.reason)
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn delete_connection(
        &self,
        request: Request<pb::DeleteConnectionRequest>,
    ) -> Result<Response<pb::DeleteConnectionResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let id = connection_id(&request.get_ref().connection_id).map_err(AppError::from)?;
        self.connections.delete(&caller, id).await?;
        Ok(Response::new(pb::DeleteConnectionResponse {}))
    }

    async fn get_connection(
        &self,
        request: Request<pb::GetConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let query: ConnectionQuery = checked(request)?;
        let state = match query.as_of {
            Some(at) => self.connections.get_as_of(&caller, query.id, at).await?,
            None => self.connections.get(&caller, query.id).await?,
        };
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn validate_connection(
        &self,
        request: Request<pb::ValidateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let id = connection_id(&request.get_ref().connection_id).map_err(AppError::from)?;
        let state = self.connections.validate(&caller, id).await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn update_connection(
        &self,
        request: Request<pb::UpdateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let update: ProfileUpdate = checked(request)?;
        let state = self
            .connections
            .update_profile(&caller, update.id, update.profile, update.expected_version)
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }

    async fn list_connections(
        &self,
        request: Request<pb::ListConnectionsRequest>,
    ) -> Result<Response<pb::ListConnectionsResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let list: ConnectionList = checked(request)?;
        let states = self
            .connections
            .list(&caller, list.filter, list.page)
            .await?;
        Ok(Response::new(convert::connections_to_pb(
            &states, list.page,
        )))
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<pb::ListWebhookDeliveriesRequest>,
    ) -> Result<Response<pb::ListWebhookDeliveriesResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let query: DeliveryQuery = checked(request)?;
        let (records, next) = self
            .inbound
            .list_deliveries(
                &caller,
                query.source,
                query.since,
                query.limit,
                query.from_version,
            )
            .await?;
        Ok(Response::new(pb::ListWebhookDeliveriesResponse {
            deliveries: records.into_iter().map(record_to_pb).collect(),
            next_page_token: next.map(|v| v.to_string()).unwrap_or_default(),
        }))
    }

    async fn get_webhook_delivery(
        &self,
        request: Request<pb::GetWebhookDeliveryRequest>,
    ) -> Result<Response<pb::WebhookDeliveryRecord>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let event_id = uuid::Uuid::try_parse(&request.get_ref().event_id).map_err(|_| {
            AppError::from(latchkey_domain::FieldViolation::new(
                "event_id",
                "is not an event id (a UUID)",
            ))
        })?;
        let record = self.inbound.get_delivery(&caller, event_id).await?;
        Ok(Response::new(record_to_pb(record)))
    }

    async fn set_webhook_secret(
        &self,
        request: Request<pb::SetWebhookSecretRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let caller = self.auth.caller(&request, Role::Manager).await?;
        let req = request.into_inner();
        let (id, secret) = super::webhooks::secret_request(req).map_err(AppError::from)?;
        let state = self
            .inbound
            .set_connection_secret(&caller, id, secret)
            .await?;
        Ok(Response::new(convert::connection_to_pb(&state)))
    }
}
