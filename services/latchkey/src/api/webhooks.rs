//! Webhooks on the wire: `VerifyWebhook`'s request, `ListWebhookDeliveries`,
//! `GetWebhookDelivery` and `SetWebhookSecret` checked, deliveries as records.

use std::collections::BTreeMap;

use latchkey_domain::{ConnectionId, FieldViolation, IntegrationId, ValidationErrors};
use latchkey_proto::v1 as pb;

use super::convert;
use crate::inbound::{DeliveryRecord, DeliverySource};
use crate::wire::{payload, timestamp};

/// The default and largest page of deliveries.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

/// A checked `ListWebhookDeliveriesRequest`.
#[derive(Debug)]
pub struct DeliveryQuery {
    pub source: DeliverySource,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub limit: u32,
    pub from_version: u64,
}

impl TryFrom<pb::ListWebhookDeliveriesRequest> for DeliveryQuery {
    type Error = ValidationErrors;

    fn try_from(req: pb::ListWebhookDeliveriesRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let source = match (req.connection_id.is_empty(), req.integration_id.is_empty()) {
            (false, true) => errors
                .check(ConnectionId::parse_field(
                    &req.connection_id,
                    "connection_id",
                ))
                .map(DeliverySource::Connection),
            (true, false) => errors
                .check(IntegrationId::parse_field(
                    &req.integration_id,
                    "integration_id",
                ))
                .map(DeliverySource::Integration),
            _ => {
                errors.push(FieldViolation::new(
                    "connection_id",
                    "give connection_id or integration_id (one of them)",
                ));
                None
            }
        };
        let since = req
            .since
            .as_ref()
            .and_then(|ts| errors.check(convert::from_timestamp(ts, "since")));
        if req.page_size > MAX_PAGE {
            errors.push(FieldViolation::new(
                "page_size",
                format!("must be at most {MAX_PAGE}"),
            ));
        }
        let from_version = if req.page_token.is_empty() {
            1
        } else {
            errors
                .check(req.page_token.parse::<u64>().map_err(|_| {
                    FieldViolation::new("page_token", "is not a token this API issued")
                }))
                .unwrap_or(1)
        };
        let limit = if req.page_size == 0 {
            DEFAULT_PAGE
        } else {
            req.page_size
        };
        match source {
            Some(source) if errors.is_empty() => Ok(Self {
                source,
                since,
                limit,
                from_version,
            }),
            _ => Err(errors),
        }
    }
}

pub fn record_to_pb(record: DeliveryRecord) -> pb::WebhookDeliveryRecord {
    let mut delivery = payload::delivery(&record.delivery);
    let body_unavailable = match record.body {
        Ok(body) => {
            delivery.body = body;
            String::new()
        }
        Err(why) => why,
    };
    pb::WebhookDeliveryRecord {
        event_id: record.event_id.to_string(),
        event_type: record.event_type,
        connection_id: record
            .connection_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        integration_id: record.integration_id.to_string(),
        tenant: record.tenant.map(|t| t.to_string()).unwrap_or_default(),
        received_at: Some(timestamp(record.received_at)),
        delivery: Some(delivery),
        body_unavailable,
        stream_id: record.stream_id.to_string(),
        version: record.version,
        position: record.position,
    }
}

/// A checked `SetWebhookSecretRequest`: the connection and the secret (`None`: clear it).
pub fn secret_request(
    req: pb::SetWebhookSecretRequest,
) -> Result<(ConnectionId, Option<secrecy::SecretString>), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let id = errors.check(ConnectionId::parse_field(
        &req.connection_id,
        "connection_id",
    ));
    let secret = match (req.clear, req.webhook_secret.is_empty()) {
        (true, true) => None,
        (true, false) => {
            errors.push(FieldViolation::new(
                "webhook_secret",
                "must be empty when clear is set",
            ));
            None
        }
        (false, true) => {
            errors.push(FieldViolation::new(
                "webhook_secret",
                "is required (or set clear to remove the secret)",
            ));
            None
        }
        (false, false) => errors
            .check(latchkey_domain::check_secret(
                &req.webhook_secret,
                "webhook_secret",
            ))
            .map(|()| secrecy::SecretString::from(req.webhook_secret)),
    };
    match id {
        Some(id) if errors.is_empty() => Ok((id, secret)),
        _ => Err(errors),
    }
}

/// A webhook to verify, within the limits of one request.
#[derive(Debug)]
pub struct WebhookRequest {
    pub integration_id: IntegrationId,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// `POST` unless given; the URL the provider called (request-line schemes).
    pub method: String,
    pub url: String,
}

impl TryFrom<pb::VerifyWebhookRequest> for WebhookRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::VerifyWebhookRequest) -> Result<Self, Self::Error> {
        let integration_id = IntegrationId::parse_field(&req.integration_id, "integration_id")?;
        if req.body.len() > 256 * 1024 || req.headers.len() > 100 {
            return Err(FieldViolation::new(
                "body",
                "webhooks are at most 256 KiB with 100 headers",
            )
            .into());
        }
        Ok(Self {
            integration_id,
            headers: req
                .headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            body: req.body,
            method: if req.method.is_empty() {
                "POST".to_owned()
            } else {
                req.method.to_ascii_uppercase()
            },
            url: req.url,
        })
    }
}
