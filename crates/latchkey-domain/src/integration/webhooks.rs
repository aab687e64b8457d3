//! The webhooks section of a configuration: how the provider's webhooks to this integration are
//! verified. Stored flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use crate::ValidationErrors;
use crate::webhook::WebhookScheme;

/// How the provider's webhooks are verified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSettings {
    /// How the provider signs its webhooks, if they are verified here.
    #[serde(default)]
    pub webhook: Option<WebhookScheme>,
}

/// The webhook settings as a caller sent them.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettingsInput {
    pub webhook: Option<WebhookScheme>,
}

impl WebhookSettingsInput {
    /// The checked section; each violation goes to `e`.
    pub fn parse(self, e: &mut ValidationErrors) -> WebhookSettings {
        WebhookSettings {
            webhook: self
                .webhook
                .and_then(|scheme| e.check(scheme.check("webhook"))),
        }
    }
}
