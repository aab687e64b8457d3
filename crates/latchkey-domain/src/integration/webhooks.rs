//! The webhooks section of a configuration: how the provider's webhooks to this integration are
//! verified. Stored flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use crate::delivery::WebhookRouting;
use crate::webhook::WebhookScheme;
use crate::{FieldViolation, ValidationErrors};

/// How the provider's webhooks are verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSettings {
    /// How the provider signs its webhooks, if they are verified here.
    #[serde(default)]
    pub webhook: Option<WebhookScheme>,
    /// The largest webhook body accepted, in bytes.
    #[serde(default = "default_max_body")]
    pub webhook_max_body_bytes: u32,
    /// How deliveries are read and routed to connections.
    #[serde(default)]
    pub webhook_routing: WebhookRouting,
}

impl WebhookSettings {
    pub const DEFAULT_MAX_BODY_BYTES: u32 = 1024 * 1024;
    pub const MAX_BODY_BYTES: std::ops::RangeInclusive<u32> = 1024..=16 * 1024 * 1024;
}

fn default_max_body() -> u32 {
    WebhookSettings::DEFAULT_MAX_BODY_BYTES
}

/// The webhook settings as a caller sent them.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettingsInput {
    pub webhook: Option<WebhookScheme>,
    /// `None` takes 1 MiB.
    pub webhook_max_body_bytes: Option<u32>,
    pub webhook_routing: WebhookRouting,
}

impl WebhookSettingsInput {
    /// The checked section; each violation goes to `e`.
    pub fn parse(self, e: &mut ValidationErrors) -> WebhookSettings {
        let webhook_max_body_bytes = self
            .webhook_max_body_bytes
            .unwrap_or(WebhookSettings::DEFAULT_MAX_BODY_BYTES);
        if !WebhookSettings::MAX_BODY_BYTES.contains(&webhook_max_body_bytes) {
            e.push(FieldViolation::new(
                "webhook_max_body_bytes",
                "must be 1 KiB (1024) to 16 MiB (16777216)",
            ));
        }
        WebhookSettings {
            webhook: self
                .webhook
                .and_then(|scheme| e.check(scheme.check("webhook"))),
            webhook_max_body_bytes,
            webhook_routing: self.webhook_routing.check("webhook_routing", &mut e.0),
        }
    }
}
