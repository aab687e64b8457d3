//! `VerifyWebhook`: whether a provider's webhook signature holds under the integration's scheme
//! and secret, which provider account it is about, and that account's connection.

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::{
    ConnectionId, FieldViolation, IntegrationId, StreamId, ValidationErrors, connection,
};

use super::Integrations;
use crate::callers::{Caller, Scope};
use crate::error::AppError;
use crate::inbound::live_connections_of_account;

/// What `VerifyWebhook` answers.
#[derive(Debug)]
pub struct WebhookVerdict {
    /// `Err` says why the signature does not hold.
    pub verdict: Result<(), String>,
    pub provider_account_id: Option<String>,
    pub connection_id: Option<ConnectionId>,
}

impl Integrations {
    /// Checks a webhook against the integration's scheme and secret: whether its signature holds
    /// (and its timestamp is fresh), which provider account it is about, and that account's
    /// connection among those the caller sees.
    pub async fn verify_webhook(
        &self,
        caller: &Caller,
        id: IntegrationId,
        headers: &std::collections::BTreeMap<String, String>,
        body: &[u8],
        (method, url): (&str, &str),
    ) -> Result<WebhookVerdict, AppError> {
        let integration = self.get_for(caller, id).await?;
        let limit = integration.config.webhooks.webhook_max_body_bytes;
        if body.len() > limit as usize {
            return Err(AppError::Invalid(ValidationErrors(vec![
                FieldViolation::new(
                    "body",
                    format!(
                        "is {} bytes, over the integration's webhook_max_body_bytes ({limit})",
                        body.len()
                    ),
                ),
            ])));
        }
        let Some(scheme) = integration.config.webhooks.webhook.as_ref() else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {id} has no webhook scheme"
            )));
        };
        let Some(sealed) = integration.webhook_secret.as_ref() else {
            return Err(AppError::FailedPrecondition(format!(
                "integration {id} has no webhook secret"
            )));
        };
        let secret = self
            .vault
            .open(
                &StreamId::Integration(id),
                Field::WebhookSecret,
                &sealed.sealed,
            )
            .await?;
        let content_type = headers.get("content-type").map_or("", |v| v);
        let doc = latchkey_domain::delivery::document(content_type, body);
        let request = latchkey_domain::webhook_check::SignedRequest {
            headers,
            body,
            now_unix: Utc::now().timestamp(),
            method,
            url,
            doc: doc.as_ref(),
        };
        let verdict = self.verifier.holds(scheme, &secret, &request).await?;
        let account = (verdict.is_ok() && !scheme.account_pointer.is_empty())
            .then(|| serde_json::from_slice::<serde_json::Value>(body).ok())
            .flatten()
            .and_then(|json| {
                json.pointer(&scheme.account_pointer).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            });
        let connection_id = match &account {
            Some(account) => {
                let tenant = match &caller.scope {
                    Scope::Tenant(own) => Some(own.clone()),
                    Scope::Admin => None,
                };
                // An active one before one that needs the customer again.
                live_connections_of_account(self.store.as_ref(), tenant, id, account)
                    .await?
                    .iter()
                    .min_by_key(|c| c.status != connection::Status::Active)
                    .map(|c| c.id)
            }
            None => None,
        };
        Ok(WebhookVerdict {
            verdict,
            provider_account_id: account,
            connection_id,
        })
    }
}
