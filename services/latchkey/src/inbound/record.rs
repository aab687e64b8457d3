//! Recording a verified delivery: its connections found, one event on each (or one unrouted event
//! on the integration) with the body sealed under that stream's key, all before the provider hears
//! 2xx. Bound for one stream, the delivery id is written in the event's own transaction; fanned
//! out, it is claimed first and marked recorded after the appends.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::delivery::{self, Delivery};
use latchkey_domain::{ConnectionId, DomainEvent, StreamId, connection, integration};
use latchkey_store::{
    ConnectionFilter, DeliveryClaim, EventContext, EventStore, Page, RecordedEvent, SeenDelivery,
    StoreError,
};
use serde_json::Value;

use super::{CLAIM_SECONDS, DEDUPE_HOURS, Inbound, InboundRequest, Outcome, Refusal, Reply};
use crate::error::AppError;

/// The longest delivery id or event type kept as given (a longer one is kept as its digest or
/// cut).
const MAX_TEXT: usize = 256;
/// The most routing keys one delivery routes by.
const MAX_KEYS: usize = 100;
/// The most connections one delivery fans out to.
const MAX_TARGETS: usize = 1000;
/// Appends to one stream tried again after another writer moved it.
const APPEND_ATTEMPTS: usize = 20;

/// What was read from a delivery.
pub(super) struct Parsed {
    delivery_id: String,
    event_type: String,
    routing_keys: Vec<String>,
    action: bool,
    headers: BTreeMap<String, String>,
    content_type: String,
}

impl Parsed {
    pub(super) fn read(
        integration: &integration::State,
        content_type: &str,
        doc: Option<&Value>,
        request: &InboundRequest,
    ) -> Self {
        let routing = &integration.config.webhooks.webhook_routing;
        let headers = &request.headers;
        let delivery_id = delivery::read(&routing.delivery_id_from, doc, headers)
            .into_iter()
            .next()
            .map(|id| {
                if id.len() > MAX_TEXT {
                    format!("sha256:{}", latchkey_crypto::sha256_hex(id.as_bytes()))
                } else {
                    id
                }
            })
            .unwrap_or_else(|| format!("sha256:{}", latchkey_crypto::sha256_hex(&request.body)));
        let event_type = delivery::read(&routing.event_type_from, doc, headers)
            .into_iter()
            .next()
            .map(|t| cut(t, MAX_TEXT))
            .unwrap_or_default();
        let key_source = match (
            &routing.routing_key_from,
            &integration.config.webhooks.webhook,
        ) {
            (from, _) if !from.is_empty() => from.as_str(),
            (_, Some(scheme)) => scheme.account_pointer.as_str(),
            _ => "",
        };
        let mut routing_keys = delivery::read(key_source, doc, headers);
        routing_keys.truncate(MAX_KEYS);
        for key in &mut routing_keys {
            *key = cut(std::mem::take(key), MAX_TEXT);
        }
        let headers = headers
            .iter()
            .filter(|(name, _)| delivery::kept_header(name, routing))
            .map(|(k, v)| (k.clone(), cut(v.clone(), MAX_TEXT)))
            .collect();
        Self {
            delivery_id,
            event_type,
            routing_keys,
            // Slack's interactivity and slash commands come form-encoded; everything but a PING
            // to a Discord interactions endpoint is an interaction.
            action: (routing.form_bodies_are_actions && delivery::is_form(content_type))
                || routing.handshake == delivery::Handshake::Discord,
            headers,
            content_type: cut(content_type.to_owned(), MAX_TEXT),
        }
    }
}

fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

impl Inbound {
    pub(super) async fn record(
        &self,
        integration: &integration::State,
        target: Option<connection::State>,
        parsed: Parsed,
        scheme: &str,
        body: &[u8],
    ) -> Result<(Reply, Outcome), AppError> {
        let id = integration.id;
        let ack = || acknowledgement(integration, parsed.action);
        let key = (id, parsed.delivery_id.clone());
        if self
            .marking
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            // Recorded here a moment ago; its mark is on its way to the database.
            return Ok((ack(), "duplicate"));
        }
        let mut targets = match target {
            Some(one) => vec![one.id],
            None => self.route(integration, &parsed.routing_keys).await?,
        };
        let now = Utc::now();
        if targets.len() <= 1 {
            // One stream: its id is seen in the same transaction as its event.
            let seen = SeenDelivery {
                integration: id,
                delivery_id: parsed.delivery_id.clone(),
                at: now,
                seen_after: now - chrono::Duration::hours(DEDUPE_HOURS),
                lapsed_before: now - chrono::Duration::seconds(CLAIM_SECONDS),
            };
            let target = targets.pop();
            let unrouted = target.is_none();
            let (owner, event) = self
                .event_for(integration, target, &parsed, scheme, body)
                .await?;
            return match self
                .streams
                .append(&*self.store, owner, event, Some(&seen))
                .await?
            {
                Some(_) if unrouted => Ok((ack(), "unrouted")),
                Some(_) => Ok((ack(), "recorded")),
                None => match self.store.delivery_seen(id, &parsed.delivery_id).await? {
                    DeliveryClaim::InFlight => Ok(in_flight()),
                    _ => Ok((ack(), "duplicate")),
                },
            };
        }
        // Fanned out: claimed first, appended stream by stream, then marked.
        let claim = self
            .store
            .claim_delivery(
                id,
                &parsed.delivery_id,
                now,
                now - chrono::Duration::hours(DEDUPE_HOURS),
                now - chrono::Duration::seconds(CLAIM_SECONDS),
            )
            .await?;
        match claim {
            DeliveryClaim::Recorded => return Ok((ack(), "duplicate")),
            DeliveryClaim::InFlight => return Ok(in_flight()),
            DeliveryClaim::Fresh => {}
        }
        match self
            .fan_out(integration, targets, &parsed, scheme, body)
            .await
        {
            Ok(()) => {
                // The events are committed: the provider may hear so now. The mark follows off
                // the answer's path (until it lands, this process answers a repeat itself; lost,
                // the claim lapses, see `WebhookDeliveries`).
                self.marking
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key.clone());
                let (store, marking) = (self.store.clone(), self.marking.clone());
                self.tasks.spawn(async move {
                    if let Err(e) = store.delivery_recorded(key.0, &key.1).await {
                        tracing::warn!(error = %e, "a delivery's mark was not stored; its claim will lapse");
                    }
                    marking.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
                });
                Ok((ack(), "recorded"))
            }
            Err(e) => {
                // The provider sends it again; that attempt must find the id free.
                if let Err(release) = self.store.release_delivery(id, &parsed.delivery_id).await {
                    tracing::warn!(error = %release, "a failed delivery's claim stays until it lapses");
                }
                Err(e)
            }
        }
    }

    /// One event on each target's stream, one after the other.
    async fn fan_out(
        &self,
        integration: &integration::State,
        targets: Vec<ConnectionId>,
        parsed: &Parsed,
        scheme: &str,
        body: &[u8],
    ) -> Result<(), AppError> {
        for target in targets {
            let (owner, event) = self
                .event_for(integration, Some(target), parsed, scheme, body)
                .await?;
            self.streams
                .append(&*self.store, owner, event, None)
                .await?;
        }
        Ok(())
    }

    /// The event a delivery leaves on `target`'s stream (or, with none, the integration's),
    /// its body sealed under that stream's key.
    async fn event_for(
        &self,
        integration: &integration::State,
        target: Option<ConnectionId>,
        parsed: &Parsed,
        scheme: &str,
        body: &[u8],
    ) -> Result<(StreamId, DomainEvent), AppError> {
        let owner = match target {
            Some(target) => StreamId::Connection(target),
            None => StreamId::Integration(integration.id),
        };
        let sealed = self
            .vault
            .seal_bytes(&owner, Field::WebhookBody, body)
            .await?;
        let delivery = Delivery {
            delivery_id: parsed.delivery_id.clone(),
            event_type: parsed.event_type.clone(),
            routing_keys: parsed.routing_keys.clone(),
            scheme: scheme.to_owned(),
            headers: parsed.headers.clone(),
            content_type: parsed.content_type.clone(),
            body: sealed,
            size: body.len() as u64,
        };
        let event: DomainEvent = match target {
            None => integration::Event::WebhookUnrouted { delivery }.into(),
            Some(_) if parsed.action => connection::Event::ActionReceived { delivery }.into(),
            Some(_) => connection::Event::WebhookReceived { delivery }.into(),
        };
        Ok((owner, event))
    }

    /// The live connections the routing keys name, every tenant's.
    async fn route(
        &self,
        integration: &integration::State,
        keys: &[String],
    ) -> Result<Vec<ConnectionId>, AppError> {
        let match_on = &integration.config.webhooks.webhook_routing.match_on;
        let mut found: Vec<ConnectionId> = Vec::new();
        if keys.is_empty() {
            return Ok(found);
        }
        if match_on.is_empty() {
            for key in keys {
                let store = self.store.as_ref();
                for id in self
                    .routes
                    .of_account(store, integration.id, key)
                    .await?
                    .iter()
                {
                    if !found.contains(id) {
                        found.push(*id);
                    }
                }
            }
        } else {
            // A parameter or a captured value: read through the integration's connections.
            let filter = ConnectionFilter {
                integration_id: Some(integration.id),
                ..Default::default()
            };
            let mut page = Page::first(Page::MAX_LIMIT);
            loop {
                let batch = self.store.list_connections(&filter, page).await?;
                let last = batch.last().map(|c| c.id);
                found.extend(
                    batch
                        .into_iter()
                        .filter(|c| {
                            !matches!(
                                c.status,
                                connection::Status::Deleted | connection::Status::Revoked
                            ) && delivery::match_value(match_on, &c.url_values())
                                .is_some_and(|value| keys.contains(&value))
                        })
                        .map(|c| c.id),
                );
                match last {
                    Some(after) if found.len() < MAX_TARGETS => {
                        page = Page {
                            after: Some(*after.as_uuid()),
                            limit: Page::MAX_LIMIT,
                        }
                    }
                    _ => break,
                }
            }
        }
        found.truncate(MAX_TARGETS);
        Ok(found)
    }
}

/// The answer to a delivery another request is recording now.
fn in_flight() -> (Reply, Outcome) {
    let reply = Reply::refused(
        Refusal::InFlight,
        "this delivery is being recorded; send it again later",
    );
    (reply, "in_flight")
}

/// What a recorded (or already recorded) delivery is answered with.
fn acknowledgement(integration: &integration::State, action: bool) -> Reply {
    let ack = &integration.config.webhooks.webhook_routing.action_ack;
    if action && !ack.is_empty() {
        Reply::Ok {
            content_type: "application/json",
            body: ack.clone(),
            header: None,
        }
    } else {
        Reply::empty()
    }
}

/// One append at a time per stream from this process, each at the version the last one left
/// (read again after another writer moved it): deliveries to one connection queue here instead
/// of racing for its next version, and do not read the version before each append.
#[derive(Default)]
pub(super) struct StreamLocks {
    streams: Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<Option<u64>>>>>,
}

/// Streams whose last version is kept; past it the map starts again (versions are read anew).
const KEPT_STREAMS: usize = 100_000;

impl StreamLocks {
    /// Appends `event` (with `seen`, the delivery id it records; `None` when that id was seen).
    pub(super) async fn append(
        &self,
        store: &dyn EventStore,
        stream: StreamId,
        event: DomainEvent,
        seen: Option<&SeenDelivery>,
    ) -> Result<Option<Vec<RecordedEvent>>, AppError> {
        let lock = {
            let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
            if streams.len() >= KEPT_STREAMS && !streams.contains_key(&stream) {
                streams.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            streams.entry(stream).or_default().clone()
        };
        let mut version = lock.lock().await;
        append_at_latest(store, stream, event, seen, &mut version).await
    }
}

async fn append_at_latest(
    store: &dyn EventStore,
    stream: StreamId,
    event: DomainEvent,
    seen: Option<&SeenDelivery>,
    known: &mut Option<u64>,
) -> Result<Option<Vec<RecordedEvent>>, AppError> {
    let context = EventContext::now("system:webhooks");
    for _ in 0..APPEND_ATTEMPTS {
        let version = match *known {
            Some(version) => version,
            None => current_version(store, stream).await?,
        };
        let events = vec![event.clone()];
        let appended = match seen {
            Some(seen) => {
                store
                    .append_delivery(seen, stream, version, events, &context)
                    .await
            }
            None => store
                .append(stream, version, events, &context)
                .await
                .map(Some),
        };
        match appended {
            Ok(None) => return Ok(None),
            Ok(Some(recorded)) => {
                *known = recorded.last().map(|e| e.version);
                return Ok(Some(recorded));
            }
            Err(StoreError::Conflict { .. }) => *known = None,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Unavailable(format!(
        "{stream} kept moving; the delivery was not recorded"
    )))
}

async fn current_version(store: &dyn EventStore, stream: StreamId) -> Result<u64, AppError> {
    let version = match stream {
        StreamId::Connection(id) => store.connection(id).await?.map(|s| s.version),
        StreamId::Integration(id) => store.integration(id).await?.map(|s| s.version),
        _ => None,
    };
    version.ok_or_else(|| AppError::NotFound(stream.to_string()))
}
