//! A connection's own webhook secret: set, rotated or cleared by a manager, or kept from an
//! Asana-style handshake (the provider sends the secret once, in `X-Hook-Secret`).

use latchkey_crypto::Field;
use latchkey_domain::{ConnectionId, DomainEvent, StreamId, connection, integration};
use latchkey_store::{EventContext, StoreError};
use secrecy::SecretString;

use super::{Inbound, Outcome, Refusal, Reply};
use crate::callers::Caller;
use crate::error::AppError;

/// Decisions tried again after another writer moved the connection.
const ATTEMPTS: usize = 10;

impl Inbound {
    /// Sets (or with `None` clears) the connection's own webhook secret; the connection after.
    pub async fn set_connection_secret(
        &self,
        caller: &Caller,
        id: ConnectionId,
        secret: Option<SecretString>,
    ) -> Result<connection::State, AppError> {
        let visible = self
            .store
            .connection(id)
            .await?
            .filter(|state| caller.sees(&state.tenant));
        if visible.is_none() {
            return Err(AppError::NotFound(format!("connection {id}")));
        }
        self.keep_connection_secret(id, secret, caller.context())
            .await
    }

    /// Seals and records the connection's secret, deciding again after a conflict.
    pub(super) async fn keep_connection_secret(
        &self,
        id: ConnectionId,
        secret: Option<SecretString>,
        context: EventContext,
    ) -> Result<connection::State, AppError> {
        let owner = StreamId::Connection(id);
        let sealed = match &secret {
            Some(secret) => Some(
                self.vault
                    .seal_secret(&owner, Field::WebhookSecret, secret)
                    .await?,
            ),
            None => None,
        };
        for _ in 0..ATTEMPTS {
            let state = self
                .store
                .connection(id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("connection {id}")))?;
            let command = connection::Command::SetWebhookSecret {
                secret: sealed.clone(),
            };
            let events = connection::decide(Some(&state), command)?;
            if events.is_empty() {
                return Ok(state);
            }
            let events = events.into_iter().map(DomainEvent::from).collect();
            match self
                .store
                .append(owner, state.version, events, &context)
                .await
            {
                Ok(_) => {
                    return self
                        .store
                        .connection(id)
                        .await?
                        .ok_or_else(|| AppError::NotFound(format!("connection {id}")));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable(format!(
            "connection {id} kept changing; its webhook secret was not set"
        )))
    }
}

impl Inbound {
    /// Asana's handshake: the secret it sends once becomes the connection's own, echoed back.
    /// Only on a connection's own URL, and only while the connection has none: anyone may send
    /// this request, so a secret once kept is replaced only through the API (cleared first).
    pub(super) async fn keep_handshake_secret(
        &self,
        integration: &integration::State,
        target: Option<&connection::State>,
        secret: String,
    ) -> Result<(Reply, Outcome), AppError> {
        let refused = |reason: &str| {
            Ok((
                Reply::refused(Refusal::Unauthorized, reason),
                "refused_signature",
            ))
        };
        let Some(connection) = target else {
            return refused("this handshake is taken on a connection's own webhook URL only");
        };
        if connection.webhook_secret.is_some() {
            return refused(
                "the connection has a webhook secret already; clear it with SetWebhookSecret first",
            );
        }
        if let Err(violation) = latchkey_domain::check_secret(&secret, "x-hook-secret") {
            return refused(&violation.to_string());
        }
        let context = EventContext::now("system:webhooks");
        let secret_text = SecretString::from(secret.clone());
        self.keep_connection_secret(connection.id, Some(secret_text), context.clone())
            .await?;
        let event = integration::Event::WebhookHandshake {
            handshake: latchkey_domain::delivery::Handshake::Asana,
            connection_id: Some(connection.id),
        };
        self.streams
            .append(
                self.store.as_ref(),
                StreamId::Integration(integration.id),
                event.into(),
                None,
            )
            .await?;
        Ok((
            Reply::Ok {
                content_type: "text/plain; charset=utf-8",
                body: String::new(),
                header: Some(("x-hook-secret", secret)),
            },
            "handshake",
        ))
    }
}

impl Inbound {
    /// Notion's verification request: unverified by nature (it carries the secret to come), so
    /// kept sealed as an unrouted delivery of the integration, for an admin to read
    /// (`ListWebhookDeliveries`) and paste as the webhook secret; never routed to a connection.
    pub(super) async fn keep_for_admin(
        &self,
        integration: &integration::State,
        request: &super::InboundRequest,
    ) -> Result<(Reply, Outcome), AppError> {
        let owner = StreamId::Integration(integration.id);
        let sealed = self
            .vault
            .seal_bytes(&owner, Field::WebhookBody, &request.body)
            .await?;
        let delivery = latchkey_domain::delivery::Delivery {
            delivery_id: format!("sha256:{}", latchkey_crypto::sha256_hex(&request.body)),
            event_type: "verification_token".to_owned(),
            routing_keys: Vec::new(),
            scheme: "unverified:notion_verification".to_owned(),
            headers: Default::default(),
            content_type: request
                .headers
                .get("content-type")
                .cloned()
                .unwrap_or_default(),
            body: sealed,
            size: request.body.len() as u64,
        };
        let event = integration::Event::WebhookUnrouted { delivery };
        self.streams
            .append(self.store.as_ref(), owner, event.into(), None)
            .await?;
        Ok((Reply::empty(), "handshake"))
    }
}
