use latchkey_domain::{FieldViolation, IntegrationId, ValidationErrors, check_secret, templates};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::integration_service_server::IntegrationService;
use secrecy::ExposeSecret;
use secrecy::SecretString;
use tonic::{Request, Response, Status};

use std::sync::Arc;

use super::convert;
use crate::auth::Authenticator;
use crate::error::AppError;
use crate::integrations::{Integrations, SecretUpdate};

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
        Response::new(convert::integration_to_pb(state, &self.callback_url))
    }
}

fn secret(value: String, errors: &mut ValidationErrors) -> Option<SecretString> {
    if value.is_empty() {
        return None;
    }
    let secret = SecretString::from(value);
    errors.check(check_secret(secret.expose_secret(), "client_secret"))?;
    Some(secret)
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
        let caller = self.auth.caller(&request).await?;
        caller.require_admin("CreateIntegration")?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let input = convert::config_input(req.config, &mut errors);
        let template = match req.template.as_str() {
            "" => None,
            name => {
                let found = templates::find(name);
                if found.is_none() {
                    let known: Vec<_> = templates::TEMPLATES.iter().map(|t| t.name).collect();
                    errors.push(FieldViolation::new(
                        "template",
                        format!("{name:?} is not a template; known: {}", known.join(", ")),
                    ));
                }
                found
            }
        };
        let Some(mut input) = input else {
            return Err(AppError::Invalid(errors).into());
        };
        if let Some(template) = template {
            template.fill(&mut input);
        }
        if req.discover && errors.is_empty() {
            self.integrations.discover(&mut input).await?;
        }
        let config = convert::parse_config(input, &mut errors);
        let client_secret = secret(req.client_secret, &mut errors);
        let webhook_secret = secret(req.webhook_secret, &mut errors);
        let Some(config) = config.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors).into());
        };
        let state = self
            .integrations
            .create(&caller, config, client_secret, webhook_secret)
            .await?;
        Ok(self.reply(&state))
    }

    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        self.auth.caller(&request).await?;
        Ok(Response::new(pb::ListTemplatesResponse {
            templates: templates::TEMPLATES
                .iter()
                .map(convert::template_to_pb)
                .collect(),
        }))
    }

    async fn verify_webhook(
        &self,
        request: Request<pb::VerifyWebhookRequest>,
    ) -> Result<Response<pb::VerifyWebhookResponse>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let id = integration_id(&req.integration_id)?;
        if req.body.len() > 256 * 1024 || req.headers.len() > 100 {
            return Err(AppError::from(FieldViolation::new(
                "body",
                "webhooks are at most 256 KiB with 100 headers",
            ))
            .into());
        }
        let headers: std::collections::BTreeMap<String, String> = req
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let answer = self
            .integrations
            .verify_webhook(&caller, id, &headers, &req.body)
            .await?;
        Ok(Response::new(pb::VerifyWebhookResponse {
            valid: answer.verdict.is_ok(),
            reason: answer.verdict.err().unwrap_or_default(),
            provider_account_id: answer.provider_account_id.unwrap_or_default(),
            connection_id: answer
                .connection_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn get_integration(
        &self,
        request: Request<pb::GetIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        self.auth.caller(&request).await?;
        let id = integration_id(&request.get_ref().integration_id)?;
        let state = self.integrations.get(id).await?;
        Ok(self.reply(&state))
    }

    async fn list_integrations(
        &self,
        request: Request<pb::ListIntegrationsRequest>,
    ) -> Result<Response<pb::ListIntegrationsResponse>, Status> {
        self.auth.caller(&request).await?;
        let req = request.into_inner();
        let page = convert::page(req.page_size, &req.page_token).map_err(AppError::from)?;
        let states = self.integrations.list(page).await?;
        let ids: Vec<_> = states.iter().map(|s| *s.id.as_uuid()).collect();
        Ok(Response::new(pb::ListIntegrationsResponse {
            integrations: states
                .iter()
                .map(|s| convert::integration_to_pb(s, &self.callback_url))
                .collect(),
            next_page_token: convert::next_page_token(&ids, page),
        }))
    }

    async fn update_integration(
        &self,
        request: Request<pb::UpdateIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let caller = self.auth.caller(&request).await?;
        caller.require_admin("UpdateIntegration")?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let config = convert::config(req.config, &mut errors);
        let update = match (req.client_secret, req.clear_client_secret) {
            (Some(_), true) => {
                errors.push(FieldViolation::new(
                    "clear_client_secret",
                    "cannot be set together with client_secret",
                ));
                SecretUpdate::Keep
            }
            (Some(value), false) if value.is_empty() => {
                errors.push(FieldViolation::new(
                    "client_secret",
                    "must not be empty when set; use clear_client_secret to remove it",
                ));
                SecretUpdate::Keep
            }
            (Some(value), false) => match secret(value, &mut errors) {
                Some(secret) => SecretUpdate::Set(secret),
                None => SecretUpdate::Keep,
            },
            (None, true) => SecretUpdate::Clear,
            (None, false) => SecretUpdate::Keep,
        };
        let webhook_update = match (req.webhook_secret, req.clear_webhook_secret) {
            (Some(_), true) => {
                errors.push(FieldViolation::new(
                    "clear_webhook_secret",
                    "cannot be set together with webhook_secret",
                ));
                SecretUpdate::Keep
            }
            (Some(value), false) => match secret(value, &mut errors) {
                Some(secret) => SecretUpdate::Set(secret),
                None => SecretUpdate::Keep,
            },
            (None, true) => SecretUpdate::Clear,
            (None, false) => SecretUpdate::Keep,
        };
        let (Some(id), Some(config)) = (id, config.filter(|_| errors.is_empty())) else {
            return Err(AppError::Invalid(errors).into());
        };
        let state = self
            .integrations
            .update(
                &caller,
                id,
                config,
                update,
                webhook_update,
                req.expected_version,
            )
            .await?;
        Ok(self.reply(&state))
    }

    async fn delete_integration(
        &self,
        request: Request<pb::DeleteIntegrationRequest>,
    ) -> Result<Response<pb::DeleteIntegrationResponse>, Status> {
        let caller = self.auth.caller(&request).await?;
        caller.require_admin("DeleteIntegration")?;
        let req = request.into_inner();
        let id = integration_id(&req.integration_id)?;
        self.integrations
            .delete(&caller, id, req.expected_version)
            .await?;
        Ok(Response::new(pb::DeleteIntegrationResponse {}))
    }
}
