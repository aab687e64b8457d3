//! The relay: the log is the outbox. It reads committed events in gap-free order and publishes each
//! on JetStream (`<prefix>.<tenant>.<connection_id>.<type>`, integration events under
//! `<prefix>._integrations.<integration_id>.<type>`, system events under
//! `<prefix>._system.<keys|access>.<type>`), payload the protobuf `latchkey.v1.Event`,
//! `Nats-Msg-Id` the event id.
//!
//! The guarantees, exactly:
//! - One publisher: the relay publishes only while it holds the relay lease (a row with a fencing
//!   token, renewed every two seconds, lost after ten); the checkpoint is written only under the
//!   current fence and only forward. A relay that loses the lease (paused, cut off from the
//!   database) stops within seconds and cannot move the checkpoint.
//! - Order: per stream (a connection, an integration, a system stream) events are stored on
//!   JetStream in version order, under any failure ([`publish`]); across streams, in log order
//!   except after a failure, when a later event of another stream may come before an earlier one
//!   that is published again.
//! - Once: events published again (after a failure, a crash, a takeover) are dropped by
//!   JetStream's duplicate window (one hour), so a consumer sees each event once.
//! - No poison: an event NATS refuses for good becomes a stub (`omitted` says why) and
//!   publication goes on; `/healthz` and `latchkey_relay_stubbed_events_total` name it.

use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey_store::{EventStore, RecordedEvent};
use tokio_util::sync::CancellationToken;

mod nats;

pub(crate) use nats::with_login;
pub(crate) use publish::header_text;
pub mod publish;

const BATCH: u32 = 500;
/// The slow poll behind the wake-ups (in-process signal, Postgres NOTIFY).
const POLL: Duration = Duration::from_secs(1);
/// How long the relay lease lasts unless renewed; it is renewed every [`RENEW_EVERY`].
const LEASE: Duration = Duration::from_secs(10);
const RENEW_EVERY: Duration = Duration::from_secs(2);
/// Nothing is sent in the lease's last seconds before it is renewed.
const LEASE_MARGIN: Duration = Duration::from_secs(3);
/// How often a standby tries to take the lease.
const STANDBY_POLL: Duration = Duration::from_secs(2);
/// Stubbed events `/healthz` lists (the newest).
const STUBS_SHOWN: usize = 10;

pub use crate::config::NatsConfig as RelaySettings;
use crate::vault::Vault;

/// What `/healthz` shows of the relay.
#[derive(Debug, Default)]
pub struct RelayStatus {
    stream: Mutex<Option<String>>,
    state: AtomicU8,
    checkpoint_position: AtomicI64,
    lag: AtomicU64,
    published: AtomicU64,
    last_error: Mutex<Option<String>>,
    stubbed: Mutex<Vec<publish::Stubbed>>,
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
            "stubbed": self.stubbed.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|s| {
                serde_json::json!({ "position": s.position, "event_id": s.event_id, "reason": s.reason })
            }).collect::<Vec<_>>(),
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
        (latchkey_domain::StreamId::Session(id), _) => {
            format!("{prefix}._sessions.{id}.{}", event.event_type)
        }
    }
}

/// Runs until `shutdown`: makes its NATS client, keeps the stream, takes the lease when it is
/// free, and publishes while it holds it.
pub async fn run_relay(
    store: Arc<dyn EventStore>,
    vault: Arc<Vault>,
    settings: RelaySettings,
    status: Arc<RelayStatus>,
    shutdown: CancellationToken,
) {
    *status.stream.lock().unwrap_or_else(|p| p.into_inner()) = Some(settings.stream.clone());
    status.set(RelayState::Connecting);
    let nats = match nats::Nats::new(&settings, status.clone()).await {
        Ok(nats) => nats,
        Err(e) => {
            tracing::error!(error = %e, "the relay cannot start; events are kept and published once it can");
            status.fail(e);
            return;
        }
    };
    let owner = format!("relay-{}", uuid::Uuid::now_v7());
    let mut backoff = Duration::from_millis(250);
    let mut stream_ready = false;
    let appended = store.appended();
    while !shutdown.is_cancelled() {
        let retry = |backoff: &mut Duration| {
            let wait = *backoff;
            *backoff = (*backoff * 2).min(Duration::from_secs(15));
            wait
        };
        let pause = if !stream_ready {
            match nats.ensure_stream(&settings).await {
                Ok(()) => {
                    stream_ready = true;
                    Duration::ZERO
                }
                Err(e) => {
                    tracing::warn!(error = %e, "relay cannot reach NATS; writes go on, publication will catch up");
                    status.fail(e);
                    retry(&mut backoff)
                }
            }
        } else {
            match store
                .acquire_relay_lease(&settings.stream, &owner, LEASE)
                .await
            {
                Ok(Some(fence)) => {
                    tracing::info!(stream = %settings.stream, fence, "this replica is the active relay");
                    let lease = Lease {
                        store: &*store,
                        vault: &vault,
                        name: &settings.stream,
                        owner: &owner,
                        fence,
                        renewed: Instant::now(),
                    };
                    let result =
                        publish_while_held(lease, &nats, &settings, &status, &appended, &shutdown)
                            .await;
                    match result {
                        Ok(Held::Stopped) => {
                            let _ = store
                                .release_relay_lease(&settings.stream, &owner, fence)
                                .await;
                            break;
                        }
                        Ok(Held::Lost) => {
                            tracing::warn!(stream = %settings.stream, "the relay lease was taken over; this replica stands by");
                            status.set(RelayState::Standby);
                            STANDBY_POLL
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "relay publication failed; will retry");
                            status.fail(e);
                            // Let another replica take over if this one keeps failing.
                            let _ = store
                                .release_relay_lease(&settings.stream, &owner, fence)
                                .await;
                            if !nats.connected() {
                                stream_ready = false;
                            }
                            retry(&mut backoff)
                        }
                    }
                }
                Ok(None) => {
                    status.set(RelayState::Standby);
                    STANDBY_POLL
                }
                Err(e) => {
                    status.fail(format!("taking the relay lease: {e}"));
                    retry(&mut backoff)
                }
            }
        };
        if pause > Duration::ZERO {
            refresh_lag(&*store, &settings.stream, &status).await;
            tokio::select! { () = shutdown.cancelled() => break, () = tokio::time::sleep(pause) => {} }
        }
    }
    nats.close().await;
}

/// The relay lease this replica holds.
struct Lease<'a> {
    store: &'a dyn EventStore,
    /// Opens deliveries' bodies for the feed.
    vault: &'a Vault,
    name: &'a str,
    owner: &'a str,
    fence: u64,
    renewed: Instant,
}

impl Lease<'_> {
    /// Renews the lease when it is due; `false` when it was taken over.
    async fn keep(&mut self) -> Result<bool, String> {
        if self.renewed.elapsed() < RENEW_EVERY {
            return Ok(true);
        }
        let at = Instant::now();
        let held = self
            .store
            .renew_relay_lease(self.name, self.owner, self.fence, LEASE)
            .await
            .map_err(|e| format!("renewing the relay lease: {e}"))?;
        self.renewed = at;
        Ok(held)
    }
}

enum Held {
    /// Shut down.
    Stopped,
    /// Another replica holds the lease now.
    Lost,
}

/// Publishes from the checkpoint on while the lease is held; returns on shutdown, when the
/// lease is lost, or with the first error (the checkpoint stays at the last acknowledged event).
async fn publish_while_held(
    mut lease: Lease<'_>,
    publisher: &dyn publish::Publisher,
    settings: &RelaySettings,
    status: &RelayStatus,
    appended: &tokio::sync::Notify,
    shutdown: &CancellationToken,
) -> Result<Held, String> {
    let store = lease.store;
    let mut cursor = store
        .relay_checkpoint(&settings.stream)
        .await
        .map_err(|e| format!("reading the relay checkpoint: {e}"))?;
    let mut lag_read = None::<Instant>;
    loop {
        if !lease.keep().await? {
            return Ok(Held::Lost);
        }
        // Register for the wake-up before reading, so an append in between is not missed.
        let woken = appended.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let batch = store
            .read_committed(cursor, BATCH)
            .await
            .map_err(|e| format!("reading the log: {e}"))?;
        let full = batch.len() == BATCH as usize;
        // Sending stops short of the lease's end (less a margin for the clocks' disagreement).
        let send_until = lease.renewed + LEASE - LEASE_MARGIN;
        let opened = open_bodies(lease.vault, &batch).await?;
        let outcome = publish::publish_batch(
            publisher,
            &settings.subject_prefix,
            &batch,
            &opened,
            send_until,
        )
        .await;
        if !outcome.stubbed.is_empty() {
            crate::metrics::RELAY_STUBBED
                .with_label_values(&[settings.stream.as_str()])
                .inc_by(outcome.stubbed.len() as u64);
            let mut shown = status.stubbed.lock().unwrap_or_else(|p| p.into_inner());
            shown.extend(outcome.stubbed.iter().cloned());
            let excess = shown.len().saturating_sub(STUBS_SHOWN);
            shown.drain(..excess);
        }
        if let Some(acknowledged) = outcome.acknowledged {
            cursor = acknowledged;
            status
                .published
                .fetch_add(outcome.published, Ordering::Relaxed);
            status
                .checkpoint_position
                .store(cursor.position, Ordering::Relaxed);
            let saved = store
                .save_relay_checkpoint(&settings.stream, cursor, lease.fence)
                .await
                .map_err(|e| format!("saving the relay checkpoint: {e}"))?;
            if !saved {
                return Ok(Held::Lost);
            }
        }
        if let Some(e) = outcome.failure {
            return Err(e);
        }
        status.set(RelayState::Publishing);
        // The backlog, from the log's last position: one indexed read, at most once a second
        // (counting the events after the cursor would make a catch-up quadratic).
        if lag_read.is_none_or(|at| at.elapsed() >= POLL) {
            if let Ok(last) = store.last_position().await {
                let lag = u64::try_from(last - cursor.position).unwrap_or_default();
                status.lag.store(lag, Ordering::Relaxed);
            }
            lag_read = Some(Instant::now());
        }
        if full || outcome.cut_short {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(Held::Stopped),
            () = &mut woken => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// The bodies of the batch's deliveries, opened for the feed. A body whose key was destroyed
/// (its connection deleted before the relay got to it) goes out without its body.
async fn open_bodies(
    vault: &Vault,
    batch: &[(latchkey_store::Cursor, latchkey_store::RecordedEvent)],
) -> Result<publish::Opened, String> {
    use latchkey_domain::{DomainEvent, connection, integration};
    let mut opened = publish::Opened::new();
    for (_, event) in batch {
        if !matches!(
            event.event_type.as_str(),
            "webhook_received" | "action_received" | "webhook_unrouted"
        ) {
            continue;
        }
        let delivery = match event.event() {
            Ok(DomainEvent::Connection(
                connection::Event::WebhookReceived { delivery }
                | connection::Event::ActionReceived { delivery },
            ))
            | Ok(DomainEvent::Integration(integration::Event::WebhookUnrouted { delivery })) => {
                delivery
            }
            _ => continue,
        };
        let field = latchkey_crypto::Field::WebhookBody;
        match vault
            .open_bytes(&event.stream_id, field, &delivery.body)
            .await
        {
            Ok(body) => {
                opened.insert(event.position, body);
            }
            Err(crate::error::AppError::FailedPrecondition(_)) => {}
            Err(e) => return Err(format!("opening a delivery's body: {e}")),
        }
    }
    Ok(opened)
}

/// The backlog while this replica does not publish (failing, standing by): from the saved
/// checkpoint and the log's last position.
async fn refresh_lag(store: &dyn EventStore, name: &str, status: &RelayStatus) {
    if let (Ok(checkpoint), Ok(last)) = (
        store.relay_checkpoint(name).await,
        store.last_position().await,
    ) {
        status
            .checkpoint_position
            .store(checkpoint.position, Ordering::Relaxed);
        let lag = u64::try_from(last - checkpoint.position).unwrap_or_default();
        status.lag.store(lag, Ordering::Relaxed);
    }
}
