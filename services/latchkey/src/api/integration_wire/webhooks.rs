//! The webhooks section on the wire.

use latchkey_domain::delivery::{Handshake, WebhookRouting};
use latchkey_domain::integration::{WebhookSettings, WebhookSettingsInput};
use latchkey_domain::webhook::{WebhookKind, WebhookScheme};
use latchkey_domain::{FieldViolation, ValidationErrors};
use latchkey_proto::v1 as pb;

/// An enum value never seen is reported here, under `config.webhook.kind`.
pub(super) fn input(
    c: &pb::IntegrationConfig,
    errors: &mut ValidationErrors,
) -> WebhookSettingsInput {
    let webhook = match c.webhook.clone() {
        None => None,
        Some(w) => {
            let kind = match pb::WebhookKind::try_from(w.kind) {
                Ok(pb::WebhookKind::HmacBody) => Some(WebhookKind::HmacBody),
                Ok(pb::WebhookKind::HmacTimestamped) => Some(WebhookKind::HmacTimestamped),
                Ok(pb::WebhookKind::Stripe) => Some(WebhookKind::Stripe),
                Ok(pb::WebhookKind::StandardWebhooks) => Some(WebhookKind::StandardWebhooks),
                Ok(pb::WebhookKind::HubspotV3) => Some(WebhookKind::HubspotV3),
                Ok(pb::WebhookKind::Twilio) => Some(WebhookKind::Twilio),
                Ok(pb::WebhookKind::SharedToken) => Some(WebhookKind::SharedToken),
                Ok(pb::WebhookKind::GoogleOidc) => Some(WebhookKind::GoogleOidc),
                Ok(pb::WebhookKind::Ed25519) => Some(WebhookKind::Ed25519),
                _ => {
                    errors.push(FieldViolation::new(
                        "config.webhook.kind",
                        "must be HMAC_BODY, HMAC_TIMESTAMPED, STRIPE, STANDARD_WEBHOOKS, \
                         HUBSPOT_V3, TWILIO, SHARED_TOKEN, GOOGLE_OIDC or ED25519",
                    ));
                    None
                }
            };
            kind.map(|kind| WebhookScheme {
                kind,
                signature_header: w.signature_header.to_ascii_lowercase(),
                prefix: w.prefix,
                encoding: if w.encoding.is_empty() {
                    "hex".to_owned()
                } else {
                    w.encoding
                },
                timestamp_header: w.timestamp_header.to_ascii_lowercase(),
                template: w.template,
                tolerance_secs: w.tolerance_secs,
                account_pointer: w.account_pointer,
                algorithm: w.algorithm.to_ascii_lowercase(),
                token_from: w.token_from,
                audience: w.audience,
                jwks_url: w.jwks_url,
            })
        }
    };
    let routing = c.webhook_routing.clone().unwrap_or_default();
    let handshake = Handshake::parse(&routing.handshake).unwrap_or_else(|| {
        errors.push(FieldViolation::new(
            "config.webhook_routing.handshake",
            "must be empty, slack, microsoft_graph, zoom, dropbox, meta or asana",
        ));
        Handshake::None
    });
    WebhookSettingsInput {
        webhook,
        webhook_max_body_bytes: c.webhook_max_body_bytes,
        webhook_routing: WebhookRouting {
            event_type_from: routing.event_type_from,
            delivery_id_from: routing.delivery_id_from,
            routing_key_from: routing.routing_key_from,
            match_on: routing.match_on,
            handshake,
            form_bodies_are_actions: routing.form_bodies_are_actions,
            action_ack: routing.action_ack,
            rate_per_second: routing.rate_per_second,
        },
    }
}

pub(super) fn fill(p: &WebhookSettings, c: &mut pb::IntegrationConfig) {
    c.webhook = p.webhook.as_ref().map(|w| pb::WebhookScheme {
        kind: match w.kind {
            WebhookKind::HmacBody => pb::WebhookKind::HmacBody,
            WebhookKind::HmacTimestamped => pb::WebhookKind::HmacTimestamped,
            WebhookKind::Stripe => pb::WebhookKind::Stripe,
            WebhookKind::StandardWebhooks => pb::WebhookKind::StandardWebhooks,
            WebhookKind::HubspotV3 => pb::WebhookKind::HubspotV3,
            WebhookKind::Twilio => pb::WebhookKind::Twilio,
            WebhookKind::SharedToken => pb::WebhookKind::SharedToken,
            WebhookKind::GoogleOidc => pb::WebhookKind::GoogleOidc,
            WebhookKind::Ed25519 => pb::WebhookKind::Ed25519,
        } as i32,
        signature_header: w.signature_header.clone(),
        prefix: w.prefix.clone(),
        encoding: w.encoding.clone(),
        timestamp_header: w.timestamp_header.clone(),
        template: w.template.clone(),
        tolerance_secs: w.tolerance_secs,
        account_pointer: w.account_pointer.clone(),
        algorithm: w.algorithm.clone(),
        token_from: w.token_from.clone(),
        audience: w.audience.clone(),
        jwks_url: w.jwks_url.clone(),
    });
    c.webhook_max_body_bytes = Some(p.webhook_max_body_bytes);
    let r = &p.webhook_routing;
    c.webhook_routing = (*r != WebhookRouting::default()).then(|| pb::WebhookRouting {
        event_type_from: r.event_type_from.clone(),
        delivery_id_from: r.delivery_id_from.clone(),
        routing_key_from: r.routing_key_from.clone(),
        match_on: r.match_on.clone(),
        handshake: match r.handshake {
            Handshake::None => String::new(),
            other => other.as_str().to_owned(),
        },
        form_bodies_are_actions: r.form_bodies_are_actions,
        action_ack: r.action_ack.clone(),
        rate_per_second: r.rate_per_second,
    });
}
