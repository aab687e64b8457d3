//! The audit use cases: one stream's history, the global log from any position (optionally
//! following live appends), and the access log of a connection's token reads. What a caller may
//! read is decided here: a tenant key reads its own tenant's connections and events only, and an
//! integration's history needs an admin key.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use latchkey_domain::{ConnectionId, StreamId, TenantId};
use latchkey_store::{EventStore, RecordedEvent, TokenReads};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::callers::{Caller, Scope};
use crate::connections::Connections;
use crate::error::AppError;

/// Events are read and sent in pages of this size, so a long history never sits in memory whole.
const PAGE: u32 = 500;

/// The most token-read rows one access-log answer holds.
const MAX_READS: u32 = 10_000;

/// Events in log order, read page by page as the receiver takes them.
pub type Events = Pin<Box<dyn Stream<Item = Result<RecordedEvent, AppError>> + Send>>;

/// Which events of the log a caller wants.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub tenant: Option<TenantId>,
    /// Event types; empty: all.
    pub types: HashSet<String>,
    pub stream: Option<StreamId>,
}

impl EventFilter {
    fn matches(&self, event: &RecordedEvent) -> bool {
        self.tenant
            .as_ref()
            .is_none_or(|t| event.tenant.as_ref() == Some(t))
            && (self.types.is_empty() || self.types.contains(&event.event_type))
            && self.stream.is_none_or(|s| event.stream_id == s)
    }
}

#[derive(Debug, Clone)]
pub struct Audit {
    store: Arc<dyn EventStore>,
    connections: Connections,
    /// Readers run on the app's tracker and stop at shutdown.
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Audit {
    pub fn new(
        store: Arc<dyn EventStore>,
        connections: Connections,
        tasks: TaskTracker,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            store,
            connections,
            tasks,
            shutdown,
        }
    }

    /// Who read a connection's token, per minute, since `since` (default: the last 24 hours).
    pub async fn access_log(
        &self,
        caller: &Caller,
        id: ConnectionId,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<TokenReads>, AppError> {
        self.connections.get(caller, id).await?;
        let since = since.unwrap_or_else(|| Utc::now() - Duration::hours(24));
        Ok(self.store.token_reads(id, since, MAX_READS).await?)
    }

    /// One stream's events from `from_version`; `NOT_FOUND` for a stream with no events at all.
    pub async fn history(
        &self,
        caller: &Caller,
        stream: StreamId,
        from_version: u64,
    ) -> Result<Events, AppError> {
        match stream {
            StreamId::Connection(id) => {
                self.connections.get(caller, id).await?;
            }
            StreamId::Integration(_) => caller.require_admin("an integration's history")?,
            StreamId::System(_) => caller.require_admin("a system stream's history")?,
            // A session's tenant reads it as it reads a connection: else as if it did not exist.
            StreamId::Session(id) => {
                let session = self.connections.connect_session(id).await?;
                if !session.is_some_and(|s| caller.sees(&s.tenant)) {
                    return Err(AppError::NotFound(format!("connect session {id}")));
                }
            }
        }
        let from = from_version.max(1);
        let first = self.store.read_stream(stream, from, PAGE).await?;
        // Tell a missing stream from a history read past its end.
        if first.is_empty() && self.store.read_stream(stream, 1, 1).await?.is_empty() {
            return Err(AppError::NotFound(match stream {
                StreamId::Connection(id) => format!("connection {id}"),
                StreamId::Integration(id) => format!("integration {id}"),
                StreamId::System(s) => format!("events in system stream {}", s.as_str()),
                StreamId::Session(id) => format!("connect session {id}"),
            }));
        }
        let store = self.store.clone();
        Ok(self.pages(first, EventFilter::default(), move |last| {
            let store = store.clone();
            let from = last.version + 1;
            async move { Ok(store.read_stream(stream, from, PAGE).await?) }
        }))
    }

    /// The global log from `from_position`, filtered; with `follow`, then whatever commits, live.
    /// A tenant key replays its own tenant's events only.
    pub async fn replay(
        &self,
        caller: &Caller,
        from_position: i64,
        mut filter: EventFilter,
        follow: bool,
    ) -> Result<Events, AppError> {
        if let Scope::Tenant(own) = &caller.scope {
            filter.tenant = Some(caller.acting_for(filter.tenant.unwrap_or_else(|| own.clone()))?);
        }
        if follow {
            return Ok(self.follow(from_position, filter));
        }
        let first = self.store.read_all(from_position, PAGE).await?;
        let store = self.store.clone();
        Ok(self.pages(first, filter, move |last| {
            let store = store.clone();
            let from = last.position + 1;
            async move { Ok(store.read_all(from, PAGE).await?) }
        }))
    }

    /// Sends pages from `next` to the receiver until a short page, stopping early if it goes.
    fn pages<F, Fut>(&self, first: Vec<RecordedEvent>, filter: EventFilter, mut next: F) -> Events
    where
        F: FnMut(&RecordedEvent) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<Vec<RecordedEvent>, AppError>> + Send,
    {
        let (tx, rx) = mpsc::channel(64);
        self.tasks.spawn(async move {
            let mut page = first;
            loop {
                let full = page.len() == PAGE as usize;
                let last = page.last().cloned();
                for event in page.into_iter().filter(|e| filter.matches(e)) {
                    if tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
                let Some(last) = last.filter(|_| full) else {
                    return;
                };
                page = match next(&last).await {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
            }
        });
        Box::pin(ReceiverStream::new(rx))
    }

    /// Live tail: the gap-free reader from `from_position` on, then whatever commits, woken by
    /// appends (and a slow poll), so history turns into live events with no gap and no duplicate.
    fn follow(&self, from_position: i64, filter: EventFilter) -> Events {
        let (tx, rx) = mpsc::channel(64);
        let store = self.store.clone();
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            let appended = store.appended();
            let mut cursor = match store.cursor_for_position(from_position).await {
                Ok(cursor) => cursor,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
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
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                let full = batch.len() == PAGE as usize;
                for (at, event) in batch {
                    cursor = at;
                    if event.position < from_position || !filter.matches(&event) {
                        continue;
                    }
                    if tx.send(Ok(event)).await.is_err() {
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
}
