//! The relay: the log is the outbox. It reads committed events in gap-free order and publishes each
//! on JetStream (`<prefix>.<tenant>.<connection_id>.<type>`, integration events under
//! `<prefix>._integrations.<integration_id>.<type>`), payload the protobuf `latchkey.v1.Event`,
//! `Nats-Msg-Id` the event id. The checkpoint moves only past events JetStream acknowledged;
//! events published again after a crash are dropped by JetStream's duplicate window.
//!
//! One relay is active per database (a session advisory lock in Postgres; the embedded default is
//! one process); the others stand by and take over when its process goes. Publication is one
//! event at a time, acknowledged before the next, so a failure can never let a later event of a
//! connection overtake an earlier one on the stream.

use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use latchkey_store::{EventStore, RecordedEvent};
use prost::Message as _;
use tokio_util::sync::CancellationToken;

use crate::wire;

/// How long JetStream keeps events, and remembers their ids to drop duplicates.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);
const BATCH: u32 = 500;
/// The slow poll behind the wake-ups (in-process signal, Postgres NOTIFY).
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub url: String,
    pub stream: String,
    pub subject_prefix: String,
}

/// What `/healthz` shows of the relay.
#[derive(Debug, Default)]
pub struct RelayStatus {
    stream: Mutex<Option<String>>,
    state: AtomicU8,
    checkpoint_position: AtomicI64,
    lag: AtomicU64,
    published: AtomicU64,
    last_error: Mutex<Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RelayState {
    Off = 0,
    Connecting = 1,
    Standby = 2,
    Publishing = 3,
    Failing = 4,
}

impl RelayStatus {
    fn set(&self, state: RelayState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    fn fail(&self, error: String) {
        self.set(RelayState::Failing);
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
    }

    pub fn lag(&self) -> u64 {
        self.lag.load(Ordering::Relaxed)
    }

    /// The JetStream stream published to, once the relay runs.
    pub fn stream(&self) -> Option<String> {
        self.stream
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn state(&self) -> RelayState {
        match self.state.load(Ordering::Relaxed) {
            1 => RelayState::Connecting,
            2 => RelayState::Standby,
            3 => RelayState::Publishing,
            4 => RelayState::Failing,
            _ => RelayState::Off,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let state = match self.state() {
            RelayState::Off => "off",
            RelayState::Connecting => "connecting",
            RelayState::Standby => "standby",
            RelayState::Publishing => "ok",
            RelayState::Failing => "failing",
        };
        serde_json::json!({
            "status": state,
            "checkpoint_position": self.checkpoint_position.load(Ordering::Relaxed),
            "lag_events": self.lag.load(Ordering::Relaxed),
            "published": self.published.load(Ordering::Relaxed),
            "last_error": self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        })
    }
}

/// The subject of an event.
pub fn subject(prefix: &str, event: &RecordedEvent) -> String {
    match (&event.stream_id, &event.tenant) {
        (latchkey_domain::StreamId::Connection(id), Some(tenant)) => {
            format!("{prefix}.{tenant}.{id}.{}", event.event_type)
        }
        (latchkey_domain::StreamId::Connection(id), None) => {
            format!("{prefix}._unknown.{id}.{}", event.event_type)
        }
        (latchkey_domain::StreamId::Integration(id), _) => {
            format!("{prefix}._integrations.{id}.{}", event.event_type)
        }
    }
}

async fn connect(settings: &RelaySettings) -> Result<jetstream::Context, String> {
    let client = async_nats::ConnectOptions::new()
        .name("latchkey-relay")
        .connection_timeout(Duration::from_secs(5))
        .retry_on_initial_connect()
        .connect(settings.url.as_str())
        .await
        .map_err(|e| format!("connecting to NATS: {e}"))?;
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_secs(5));
    js.create_or_update_stream(stream::Config {
        name: settings.stream.clone(),
        subjects: vec![format!("{}.>", settings.subject_prefix)],
        max_age: RETENTION,
        duplicate_window: DUPLICATE_WINDOW,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("creating JetStream stream {}: {e}", settings.stream))?;
    Ok(js)
}

/// Sends one event; the returned future is its acknowledgement.
async fn send(
    js: &jetstream::Context,
    prefix: &str,
    event: &RecordedEvent,
) -> Result<jetstream::context::PublishAckFuture, String> {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", event.event_id.to_string().as_str());
    headers.insert("Latchkey-Event-Type", event.event_type.as_str());
    headers.insert("Latchkey-Position", event.position.to_string().as_str());
    headers.insert("Latchkey-Stream", event.stream_id.to_string().as_str());
    headers.insert("Latchkey-Version", event.version.to_string().as_str());
    let payload = wire::event_to_pb(event).encode_to_vec();
    js.publish_with_headers(subject(prefix, event), headers, payload.into())
        .await
        .map_err(|e| format!("publishing event {}: {e}", event.position))
}

/// Runs until `shutdown`: connects (retrying), becomes the active relay, and publishes.
pub async fn run_relay(
    store: Arc<dyn EventStore>,
    settings: RelaySettings,
    status: Arc<RelayStatus>,
    shutdown: CancellationToken,
) {
    *status.stream.lock().unwrap_or_else(|p| p.into_inner()) = Some(settings.stream.clone());
    let mut backoff = Duration::from_millis(250);
    let mut js = None;
    let mut lock = None;
    let appended = store.appended();
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let retry = |backoff: &mut Duration| {
            let wait = *backoff;
            *backoff = (*backoff * 2).min(Duration::from_secs(15));
            wait
        };
        if js.is_none() {
            status.set(RelayState::Connecting);
            match connect(&settings).await {
                Ok(context) => js = Some(context),
                Err(e) => {
                    tracing::warn!(error = %e, "relay cannot reach NATS; writes go on, publication will catch up");
                    status.fail(e);
                    let wait = retry(&mut backoff);
                    tokio::select! { () = shutdown.cancelled() => return, () = tokio::time::sleep(wait) => {} }
                    continue;
                }
            }
        }
        if lock.is_none() {
            match store.try_relay_lock().await {
                Ok(Some(guard)) => {
                    tracing::info!(stream = %settings.stream, "this replica is the active relay");
                    lock = Some(guard);
                }
                Ok(None) => {
                    status.set(RelayState::Standby);
                    tokio::select! { () = shutdown.cancelled() => return, () = tokio::time::sleep(Duration::from_secs(5)) => {} }
                    continue;
                }
                Err(e) => {
                    status.fail(format!("taking the relay lock: {e}"));
                    let wait = retry(&mut backoff);
                    tokio::select! { () = shutdown.cancelled() => return, () = tokio::time::sleep(wait) => {} }
                    continue;
                }
            }
        }
        let Some(context) = js.as_ref() else { continue };
        match publish_pending(&*store, context, &settings, &status, &appended, &shutdown).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "relay publication failed; will retry");
                status.fail(e);
                let wait = retry(&mut backoff);
                tokio::select! { () = shutdown.cancelled() => return, () = tokio::time::sleep(wait) => {} }
            }
        }
    }
}

/// Publishes from the checkpoint on, then waits for more; returns on shutdown, or with the
/// first error (the checkpoint stays at the last acknowledged event).
async fn publish_pending(
    store: &dyn EventStore,
    js: &jetstream::Context,
    settings: &RelaySettings,
    status: &RelayStatus,
    appended: &tokio::sync::Notify,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let mut cursor = store
        .relay_checkpoint(&settings.stream)
        .await
        .map_err(|e| format!("reading the relay checkpoint: {e}"))?;
    loop {
        // Register for the wake-up before reading, so an append in between is not missed.
        let woken = appended.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let batch = store
            .read_committed(cursor, BATCH)
            .await
            .map_err(|e| format!("reading the log: {e}"))?;
        let full = batch.len() == BATCH as usize;
        if !batch.is_empty() {
            // The backlog shows while a batch is under way (or stuck on NATS).
            let lag = store
                .events_after(cursor, 1_000_000)
                .await
                .unwrap_or_default();
            status.lag.store(lag, Ordering::Relaxed);
        }
        // The batch goes out at once and its acknowledgements are awaited in order (one round
        // trip per batch, not per event); the checkpoint moves to the last event acknowledged
        // with all before it.
        let mut progressed = false;
        let mut failure = None;
        let mut acks = Vec::with_capacity(batch.len());
        for (at, event) in &batch {
            match send(js, &settings.subject_prefix, event).await {
                Ok(ack) => acks.push((*at, event.position, ack)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        for (at, position, ack) in acks {
            if let Err(e) = ack.await {
                failure = Some(format!("no acknowledgement for event {position}: {e}"));
                break;
            }
            cursor = at;
            progressed = true;
            status.published.fetch_add(1, Ordering::Relaxed);
            status
                .lag
                .fetch_sub(1.min(status.lag.load(Ordering::Relaxed)), Ordering::Relaxed);
            status
                .checkpoint_position
                .store(at.position, Ordering::Relaxed);
        }
        if let Some(e) = failure {
            if progressed {
                store
                    .save_relay_checkpoint(&settings.stream, cursor)
                    .await
                    .map_err(|e| format!("saving the relay checkpoint: {e}"))?;
            }
            return Err(e);
        }
        if progressed {
            store
                .save_relay_checkpoint(&settings.stream, cursor)
                .await
                .map_err(|e| format!("saving the relay checkpoint: {e}"))?;
        }
        status.set(RelayState::Publishing);
        let lag = store
            .events_after(cursor, 1_000_000)
            .await
            .unwrap_or_default();
        status.lag.store(lag, Ordering::Relaxed);
        if full {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = &mut woken => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
