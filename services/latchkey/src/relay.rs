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

pub use crate::config::NatsConfig as RelaySettings;
use crate::config::{NatsLogin, StreamLimits};

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
        (latchkey_domain::StreamId::System(stream), _) => {
            format!("{prefix}._system.{}.{}", stream.as_str(), event.event_type)
        }
    }
}

async fn connect(settings: &RelaySettings) -> Result<jetstream::Context, String> {
    use secrecy::ExposeSecret as _;
    let mut options = async_nats::ConnectOptions::new()
        .name("latchkey-relay")
        // No retry on the first connect: a refused login surfaces here (and in /healthz), and
        // the relay's own loop retries with backoff without leaving a client behind.
        .connection_timeout(Duration::from_secs(5));
    options = match &settings.login {
        NatsLogin::Url => options,
        NatsLogin::CredsFile(path) => options.credentials_file(path).await.map_err(|e| {
            format!(
                "LATCHKEY_NATS_CREDS_FILE: cannot use {}: {e}",
                path.display()
            )
        })?,
        NatsLogin::NkeySeed(seed) => options.nkey(seed.expose_secret().to_owned()),
    };
    if let Some(ca) = &settings.tls_ca {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let Some((cert, key)) = &settings.tls_client {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    // The URL may hold a password: errors name the setting, not the value.
    let client = options
        .connect(settings.url.expose_secret())
        .await
        .map_err(|e| format!("connecting to NATS (LATCHKEY_NATS_URL): {e}"))?;
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_secs(5));
    keep_stream(&js, settings).await?;
    Ok(js)
}

/// Creates the stream, or brings an existing one to what the settings ask without undoing an
/// operator's choices: replicas are only ever raised, and age and size change only when set.
async fn keep_stream(js: &jetstream::Context, settings: &RelaySettings) -> Result<(), String> {
    let subjects = format!("{}.>", settings.subject_prefix);
    let limits = settings.stream_limits;
    let existing = match js.get_stream(&settings.stream).await {
        Ok(stream) => Some(stream.cached_info().config.clone()),
        Err(e)
            if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(ref err)
            if err.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            None
        }
        Err(e) => return Err(format!("reading JetStream stream {}: {e}", settings.stream)),
    };
    match existing {
        None => {
            js.create_stream(new_stream(&settings.stream, subjects, limits))
                .await
                .map_err(|e| format!("creating JetStream stream {}: {e}", settings.stream))?;
        }
        Some(current) => {
            let (wanted, lowered) = kept_stream(current.clone(), subjects, limits);
            if let Some(asked) = lowered {
                tracing::warn!(
                    stream = %settings.stream,
                    replicas = current.num_replicas,
                    asked,
                    "LATCHKEY_NATS_STREAM_REPLICAS is below the stream's replicas; they are kept"
                );
            }
            if wanted != current {
                js.update_stream(&wanted)
                    .await
                    .map_err(|e| format!("updating JetStream stream {}: {e}", settings.stream))?;
            }
        }
    }
    Ok(())
}

/// A new stream's configuration: the settings, else one replica, seven days, no size limit.
pub fn new_stream(name: &str, subjects: String, limits: StreamLimits) -> stream::Config {
    stream::Config {
        name: name.to_owned(),
        subjects: vec![subjects],
        max_age: limits.max_age.unwrap_or(RETENTION),
        max_bytes: limits.max_bytes.unwrap_or(-1),
        num_replicas: limits.replicas.unwrap_or(1),
        duplicate_window: DUPLICATE_WINDOW,
        storage: stream::StorageType::File,
        ..Default::default()
    }
}

/// An existing stream's configuration with the settings applied: the subjects added if missing,
/// replicas raised (never lowered: the second value is a lower ask that was ignored), age and
/// size only when set.
pub fn kept_stream(
    mut config: stream::Config,
    subjects: String,
    limits: StreamLimits,
) -> (stream::Config, Option<usize>) {
    if !config.subjects.contains(&subjects) {
        config.subjects.push(subjects);
    }
    let mut lowered = None;
    if let Some(replicas) = limits.replicas {
        if replicas > config.num_replicas {
            config.num_replicas = replicas;
        } else if replicas < config.num_replicas {
            lowered = Some(replicas);
        }
    }
    if let Some(age) = limits.max_age {
        config.max_age = age;
    }
    if let Some(bytes) = limits.max_bytes {
        config.max_bytes = bytes;
    }
    (config, lowered)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(replicas: usize) -> stream::Config {
        stream::Config {
            name: "EVENTS".to_owned(),
            subjects: vec!["latchkey.v1.>".to_owned()],
            num_replicas: replicas,
            max_age: Duration::from_secs(30 * 24 * 3600),
            max_bytes: 1 << 30,
            ..Default::default()
        }
    }

    #[test]
    fn an_existing_streams_replicas_are_raised_never_lowered_and_unset_limits_are_kept() {
        let subjects = "latchkey.v1.>".to_owned();
        let (kept, lowered) = kept_stream(existing(3), subjects.clone(), StreamLimits::default());
        assert_eq!(kept, existing(3), "nothing asked, nothing changed");
        assert_eq!(lowered, None);

        let asked_one = StreamLimits {
            replicas: Some(1),
            ..Default::default()
        };
        let (kept, lowered) = kept_stream(existing(3), subjects.clone(), asked_one);
        assert_eq!(kept.num_replicas, 3);
        assert_eq!(lowered, Some(1));

        let asked = StreamLimits {
            replicas: Some(5),
            max_age: Some(Duration::ZERO),
            max_bytes: Some(-1),
        };
        let (raised, _) = kept_stream(existing(3), "other.>".to_owned(), asked);
        assert_eq!(raised.num_replicas, 5);
        assert_eq!(raised.max_age, Duration::ZERO);
        assert_eq!(raised.max_bytes, -1);
        assert_eq!(raised.subjects, ["latchkey.v1.>", "other.>"]);

        let new = new_stream("EVENTS", subjects, StreamLimits::default());
        assert_eq!(
            (new.num_replicas, new.max_age, new.max_bytes),
            (1, RETENTION, -1)
        );
    }
}
