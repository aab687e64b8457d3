//! Reading recorded deliveries back (`ListWebhookDeliveries`, `GetWebhookDelivery`), bodies
//! opened for callers who may see the connection.

use chrono::{DateTime, Utc};
use latchkey_crypto::Field;
use latchkey_domain::delivery::Delivery;
use latchkey_domain::{
    ConnectionId, DomainEvent, IntegrationId, StreamId, TenantId, connection, integration,
};
use latchkey_store::{Page, RecordedEvent};

use super::Inbound;
use crate::callers::{Caller, Scope};
use crate::error::AppError;

/// One recorded delivery.
#[derive(Debug)]
pub struct DeliveryRecord {
    pub event_id: uuid::Uuid,
    /// `webhook_received`, `action_received` or `webhook_unrouted`.
    pub event_type: String,
    pub connection_id: Option<ConnectionId>,
    pub integration_id: IntegrationId,
    pub tenant: Option<TenantId>,
    pub received_at: DateTime<Utc>,
    /// Where the event is in the log.
    pub stream_id: StreamId,
    pub version: u64,
    pub position: i64,
    pub delivery: Delivery,
    /// The opened body, or why it cannot be read.
    pub body: Result<Vec<u8>, String>,
}

/// Whose deliveries to list.
#[derive(Debug, Clone, Copy)]
pub enum DeliverySource {
    Connection(ConnectionId),
    /// The integration's unrouted deliveries.
    Integration(IntegrationId),
}

/// The most events one listing reads past before it answers with what it found.
const SCAN_LIMIT: u32 = 5000;

impl Inbound {
    /// Deliveries of a connection (or an integration's unrouted ones) from `from_version` of
    /// its stream, received at or after `since`; and where the next page starts.
    pub async fn list_deliveries(
        &self,
        caller: &Caller,
        source: DeliverySource,
        since: Option<DateTime<Utc>>,
        limit: u32,
        from_version: u64,
    ) -> Result<(Vec<DeliveryRecord>, Option<u64>), AppError> {
        let (stream, integration_id) = self.visible_stream(caller, source).await?;
        let mut found = Vec::new();
        let mut next = from_version.max(1);
        let mut scanned = 0;
        loop {
            let page = self
                .store
                .read_stream(stream, next, Page::MAX_LIMIT)
                .await?;
            let Some(last) = page.last().map(|e| e.version) else {
                return Ok((found, None));
            };
            for event in page {
                next = event.version + 1;
                if since.is_some_and(|since| event.occurred_at < since) {
                    continue;
                }
                if let Some(record) = self.record_of(&event, integration_id).await? {
                    found.push(record);
                    if found.len() >= limit as usize {
                        return Ok((found, Some(next)));
                    }
                }
            }
            scanned += Page::MAX_LIMIT;
            if scanned >= SCAN_LIMIT {
                return Ok((found, Some(last + 1)));
            }
        }
    }

    /// One delivery by its event id.
    pub async fn get_delivery(
        &self,
        caller: &Caller,
        event_id: uuid::Uuid,
    ) -> Result<DeliveryRecord, AppError> {
        let missing = || AppError::NotFound(format!("webhook delivery {event_id}"));
        let event = self
            .store
            .event_by_id(event_id)
            .await?
            .ok_or_else(missing)?;
        let source = match event.stream_id {
            StreamId::Connection(id) => DeliverySource::Connection(id),
            StreamId::Integration(id) => DeliverySource::Integration(id),
            _ => return Err(missing()),
        };
        let integration_id = match self.visible_stream(caller, source).await {
            Ok((_, integration_id)) => integration_id,
            Err(AppError::NotFound(_) | AppError::PermissionDenied(_)) => return Err(missing()),
            Err(e) => return Err(e),
        };
        self.record_of(&event, integration_id)
            .await?
            .ok_or_else(missing)
    }

    /// The stream to read and its integration, when the caller may read it.
    async fn visible_stream(
        &self,
        caller: &Caller,
        source: DeliverySource,
    ) -> Result<(StreamId, IntegrationId), AppError> {
        match source {
            DeliverySource::Connection(id) => {
                let state = self
                    .store
                    .connection(id)
                    .await?
                    .filter(|state| caller.sees(&state.tenant))
                    .ok_or_else(|| AppError::NotFound(format!("connection {id}")))?;
                Ok((StreamId::Connection(id), state.integration_id))
            }
            DeliverySource::Integration(id) => {
                let state = self
                    .store
                    .integration(id)
                    .await?
                    .filter(|state| caller.uses(state))
                    .ok_or_else(|| AppError::NotFound(format!("integration {id}")))?;
                // Unrouted deliveries belong to no tenant: only admins, or the tenant whose own
                // app the integration is, read them.
                let owns = match (&caller.scope, &state.owner) {
                    (Scope::Admin, _) => true,
                    (Scope::Tenant(own), Some(owner)) => own == owner,
                    (Scope::Tenant(_), None) => false,
                };
                if !owns {
                    return Err(AppError::PermissionDenied(
                        "an integration's unrouted deliveries are for admin keys (or the tenant \
                         whose own integration it is)"
                            .to_owned(),
                    ));
                }
                Ok((StreamId::Integration(id), id))
            }
        }
    }

    async fn record_of(
        &self,
        event: &RecordedEvent,
        integration_id: IntegrationId,
    ) -> Result<Option<DeliveryRecord>, AppError> {
        let delivery = match event.event() {
            Ok(DomainEvent::Connection(
                connection::Event::WebhookReceived { delivery }
                | connection::Event::ActionReceived { delivery },
            )) => delivery,
            Ok(DomainEvent::Integration(integration::Event::WebhookUnrouted { delivery })) => {
                delivery
            }
            _ => return Ok(None),
        };
        let body = match self
            .vault
            .open_bytes(&event.stream_id, Field::WebhookBody, &delivery.body)
            .await
        {
            Ok(body) => Ok(body),
            Err(AppError::FailedPrecondition(_)) => Err(
                "the body was destroyed with its connection's key (the connection was deleted)"
                    .to_owned(),
            ),
            Err(e) => return Err(e),
        };
        Ok(Some(DeliveryRecord {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            connection_id: match event.stream_id {
                StreamId::Connection(id) => Some(id),
                _ => None,
            },
            integration_id,
            tenant: event.tenant.clone(),
            received_at: event.occurred_at,
            stream_id: event.stream_id,
            version: event.version,
            position: event.position,
            delivery,
            body,
        }))
    }
}
