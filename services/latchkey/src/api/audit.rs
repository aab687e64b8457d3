use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use latchkey_domain::{
    ConnectionId, EVENT_TYPES, FieldViolation, IntegrationId, StreamId, TenantId, ValidationErrors,
};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::audit_service_server::AuditService;
use latchkey_store::{EventStore, RecordedEvent};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::convert;
use crate::auth::Authenticator;
use crate::error::AppError;
use crate::service::{Connections, Scope};

/// Events are read and sent in pages of this size, so a long history never sits in memory whole.
const PAGE: u32 = 500;

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

#[derive(Debug, Clone)]
pub struct AuditApi {
    store: Arc<dyn EventStore>,
    connections: Connections,
    shutdown: CancellationToken,
    auth: Arc<Authenticator>,
}

impl AuditApi {
    pub fn new(
        store: Arc<dyn EventStore>,
        shutdown: CancellationToken,
        auth: Arc<Authenticator>,
    ) -> Self {
        Self {
            connections: Connections::new(store.clone()),
            store,
            shutdown,
            auth,
        }
    }
}

/// Live tail: the gap-free reader from `from_position` on, then whatever commits, woken by appends
/// (and a slow poll), so history turns into live events with no gap and no duplicate.
fn follow(
    store: Arc<dyn EventStore>,
    from_position: i64,
    filter: Filter,
    shutdown: CancellationToken,
) -> EventStream {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let appended = store.appended();
        let mut cursor = match store.cursor_for_position(from_position).await {
            Ok(cursor) => cursor,
            Err(e) => {
                let _ = tx.send(Err(AppError::from(e).into())).await;
                return;
            }
        };
        loop {
            let woken = appended.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let batch = match store.read_committed(cursor, PAGE).await {
                Ok(batch) => batch,
                Err(e) => {
                    let _ = tx.send(Err(AppError::from(e).into())).await;
                    return;
                }
            };
            let full = batch.len() == PAGE as usize;
            for (at, event) in batch {
                cursor = at;
                if event.position < from_position || !filter.matches(&event) {
                    continue;
                }
                if tx.send(Ok(convert::event_to_pb(&event))).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tx.closed() => return,
                () = &mut woken => {}
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    });
    Box::pin(ReceiverStream::new(rx))
}

#[derive(Debug, Default)]
struct Filter {
    tenant: Option<TenantId>,
    types: HashSet<String>,
    stream: Option<StreamId>,
}

impl Filter {
    fn parse(filter: Option<pb::EventFilter>) -> Result<Self, ValidationErrors> {
        let Some(f) = filter else {
            return Ok(Self::default());
        };
        let mut errors = ValidationErrors::default();
        let tenant = (!f.tenant.is_empty())
            .then(|| errors.check(TenantId::parse_field(&f.tenant, "filter.tenant")))
            .flatten();
        let stream = (!f.connection_id.is_empty())
            .then(|| {
                errors.check(ConnectionId::parse_field(
                    &f.connection_id,
                    "filter.connection_id",
                ))
            })
            .flatten()
            .map(StreamId::Connection);
        for (i, t) in f.types.iter().enumerate() {
            if !EVENT_TYPES.contains(&t.as_str()) {
                errors.push(FieldViolation::new(
                    format!("filter.types[{i}]"),
                    format!(
                        "{t:?} is not an event type; known types: {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
        }
        errors.into_result(|| Self {
            tenant,
            types: f.types.into_iter().collect(),
            stream,
        })
    }

    fn matches(&self, event: &RecordedEvent) -> bool {
        self.tenant
            .as_ref()
            .is_none_or(|t| event.tenant.as_ref() == Some(t))
            && (self.types.is_empty() || self.types.contains(&event.event_type))
            && self.stream.is_none_or(|s| event.stream_id == s)
    }
}

/// Streams pages from `read` to the caller until a short page, stopping early if the caller goes.
fn stream_pages<F, Fut>(first: Vec<RecordedEvent>, filter: Filter, mut next: F) -> EventStream
where
    F: FnMut(&RecordedEvent) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Vec<RecordedEvent>, AppError>> + Send,
{
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut page = first;
        loop {
            let full = page.len() == PAGE as usize;
            let last = page.last().cloned();
            for event in page.iter().filter(|e| filter.matches(e)) {
                if tx.send(Ok(convert::event_to_pb(event))).await.is_err() {
                    return;
                }
            }
            let Some(last) = last.filter(|_| full) else {
                return;
            };
            page = match next(&last).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
        }
    });
    Box::pin(ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn get_access_log(
        &self,
        request: Request<pb::GetAccessLogRequest>,
    ) -> Result<Response<pb::GetAccessLogResponse>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        let since = req
            .since
            .as_ref()
            .and_then(|ts| errors.check(convert::from_timestamp(ts, "since")));
        let Some(id) = id.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors).into());
        };
        self.connections.get(&caller, id).await?;
        let since = since.unwrap_or_else(|| chrono::Utc::now() - chrono::Duration::hours(24));
        let reads = self
            .store
            .token_reads(id, since, 10_000)
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::GetAccessLogResponse {
            reads: reads
                .into_iter()
                .map(|r| pb::TokenReads {
                    actor: r.actor,
                    minute: Some(convert::timestamp(r.minute)),
                    reads: r.reads,
                })
                .collect(),
        }))
    }

    type GetHistoryStream = EventStream;
    type ReplayEventsStream = EventStream;

    async fn get_history(
        &self,
        request: Request<pb::GetHistoryRequest>,
    ) -> Result<Response<Self::GetHistoryStream>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let stream = match req.stream {
            Some(pb::get_history_request::Stream::ConnectionId(id)) => StreamId::Connection(
                ConnectionId::parse_field(&id, "connection_id").map_err(AppError::from)?,
            ),
            Some(pb::get_history_request::Stream::IntegrationId(id)) => StreamId::Integration(
                IntegrationId::parse_field(&id, "integration_id").map_err(AppError::from)?,
            ),
            None => {
                return Err(AppError::from(FieldViolation::new(
                    "connection_id",
                    "connection_id or integration_id must be set",
                ))
                .into());
            }
        };
        match stream {
            StreamId::Connection(id) => {
                self.connections.get(&caller, id).await?;
            }
            StreamId::Integration(_) => caller.require_admin("an integration's history")?,
        }
        let from = req.from_version.max(1);
        let first = self
            .store
            .read_stream(stream, from, PAGE)
            .await
            .map_err(AppError::from)?;
        if first.is_empty() {
            // Tell a missing stream from a history read past its end.
            let exists = !self
                .store
                .read_stream(stream, 1, 1)
                .await
                .map_err(AppError::from)?
                .is_empty();
            if !exists {
                let what = match stream {
                    StreamId::Connection(id) => format!("connection {id}"),
                    StreamId::Integration(id) => format!("integration {id}"),
                };
                return Err(AppError::NotFound(what).into());
            }
        }
        let store = self.store.clone();
        Ok(Response::new(stream_pages(
            first,
            Filter::default(),
            move |last| {
                let store = store.clone();
                let from = last.version + 1;
                async move { Ok(store.read_stream(stream, from, PAGE).await?) }
            },
        )))
    }

    async fn replay_events(
        &self,
        request: Request<pb::ReplayEventsRequest>,
    ) -> Result<Response<Self::ReplayEventsStream>, Status> {
        let caller = self.auth.caller(&request).await?;
        let req = request.into_inner();
        let mut errors = ValidationErrors::default();
        if req.from_position < 0 {
            errors.push(FieldViolation::new("from_position", "must not be negative"));
        }
        let filter = match Filter::parse(req.filter) {
            Ok(filter) => Some(filter),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        let Some(mut filter) = filter.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors).into());
        };
        // A tenant key replays its own tenant's events only.
        if let Scope::Tenant(own) = &caller.scope {
            filter.tenant = Some(caller.acting_for(filter.tenant.unwrap_or_else(|| own.clone()))?);
        }
        if req.follow {
            return Ok(Response::new(follow(
                self.store.clone(),
                req.from_position,
                filter,
                self.shutdown.clone(),
            )));
        }
        let first = self
            .store
            .read_all(req.from_position, PAGE)
            .await
            .map_err(AppError::from)?;
        let store = self.store.clone();
        Ok(Response::new(stream_pages(first, filter, move |last| {
            let store = store.clone();
            let from = last.position + 1;
            async move { Ok(store.read_all(from, PAGE).await?) }
        })))
    }
}
