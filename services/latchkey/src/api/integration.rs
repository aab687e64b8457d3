use std::sync::Arc;

use latchkey_domain::{IntegrationId, templates};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::integration_service_server::IntegrationService;
use tonic::{Request, Response, Status};

use super::requests::{IntegrationDraft, IntegrationUpdate};
use super::webhooks::WebhookRequest;
use super::{convert, integration_wire};
use crate::auth::Authenticator;
use crate::callers::Role;
use crate::error::AppError;
use crate::integrations::Integrations;

#[derive(Debug, Clone)]
pub struct IntegrationApi {
    integrations: Integrations,
    callback_url: String,
    auth: Arc<Authenticator>,
}

impl IntegrationApi {
    pub fn new(integrations: Integrations, callback_url: String, auth: Arc<Authenticator>) -> Self {
        Self {
            integrations,
            callback_url,
            auth,
        }
    }

    fn reply(&self, state: &latchkey_domain::integration::State) -> Response<pb::Integration> {
        Response::new(integration_wire::integration_to_pb(
            state,
            &self.callback_url,
        ))
    }
}

fn integration_id(value: &str) -> Result<IntegrationId, AppError> {
    Ok(IntegrationId::parse_field(value, "integration_id")?)
}

#[tonic::async_trait]
impl IntegrationService for IntegrationApi {
    async fn create_integration(
        &self,
        request: Request<pb::CreateIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self.auth.caller(&request, Role::Admin).await?;
        let mut draft = IntegrationDraft::try_from(request.into_inner()).map_err(AppError::from)?;
        if draft.discover && draft.errors.is_empty() {
            self.integrations.discover(&mut draft.input).await?;
        }
        let new = draft.finish().map_err(AppError::from)?;
        let state = self
            .integrations
            .create(
                &caller,
                new.config,
                new.client_secret,
                new.webhook_secret,
                new.owner,
            )
            .await?;
        Ok(self.reply(&state))
    }

    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        self.auth.caller(&request, Role::Reader).await?;
        Ok(Response::new(pb::ListTemplatesResponse {
            templates: templates::all()
                .iter()
                .map(integration_wire::template_to_pb)
                .collect(),
        }))
    }

    async fn verify_webhook(
        &self,
        request: Request<pb::VerifyWebhookRequest>,
    ) -> Result<Response<pb::VerifyWebhookResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let webhook = WebhookRequest::try_from(request.into_inner()).map_err(AppError::from)?;
        let answer = self
            .integrations
            .verify_webhook(
                &caller,
                webhook.integration_id,
                &webhook.headers,
                &webhook.body,
                (&webhook.method, &webhook.url),
            )
            .await?;
        Ok(Response::new(integration_wire::webhook_verdict_to_pb(
            answer,
        )))
    }

    async fn get_integration(
        &self,
        request: Request<pb::GetIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let id = integration_id(&request.get_ref().integration_id)?;
        let state = self.integrations.get_for(&caller, id).await?;
        Ok(self.reply(&state))
    }

    async fn list_integrations(
        &self,
        request: Request<pb::ListIntegrationsRequest>,
    ) -> Result<Response<pb::ListIntegrationsResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Reader).await?;
        let req = request.into_inner();
        let page = convert::page(req.page_size, &req.page_token).map_err(AppError::from)?;
        let states = self.integrations.list(page).await?;
        Ok(Response::new(integration_wire::integrations_to_pb(
            &states,
            |state| caller.uses(state),
            page,
            &self.callback_url,
        )))
    }

    async fn update_integration(
        &self,
        request: Request<pb::UpdateIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self.auth.caller(&request, Role::Admin).await?;
        let update = IntegrationUpdate::try_from(request.into_inner()).map_err(AppError::from)?;
        caller.may_change(&self.integrations.get(update.id).await?)?;
        let state = self
            .integrations
            .update(
                &caller,
                update.id,
                update.config,
                update.client_secret,
                update.webhook_secret,
                update.expected_version,
            )
            .await?;
        Ok(self.reply(&state))
    }

    async fn delete_integration(
        &self,
        request: Request<pb::DeleteIntegrationRequest>,
    ) -> Result<Response<pb::DeleteIntegrationResponse>, Status> {
        let caller = self.auth.caller(&request, Role::Admin).await?;
        let req = request.into_inner();
        let id = integration_id(&req.integration_id)?;
        caller.may_change(&self.integrations.get(id).await?)?;
        self.integrations
            .delete(&caller, id, req.expected_version, req.force)
            .await?;
        Ok(Response::new(pb::DeleteIntegrationResponse {}))
    }
}
