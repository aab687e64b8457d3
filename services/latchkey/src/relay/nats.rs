//! The relay's one NATS client and its JetStream stream.
//!
//! The client is made once per relay and kept for the life of the process: with NATS away at
//! start it keeps trying in the background (one connection attempt at a time, at most one every
//! ten seconds once backing off), and every retry of the relay reuses it, so no client is ever
//! left behind reconnecting on its own.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_trait::async_trait;

use super::publish::{Ack, Failure, Outgoing, Publisher};
use super::{RelaySettings, RelayStatus};
use crate::config::{NatsLogin, StreamLimits};

/// How long JetStream keeps events, and remembers their ids to drop duplicates.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);
/// The longest pause between two connection attempts.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(10);

/// The relay's client, its JetStream context, and what the server told it about refusals.
pub struct Nats {
    client: async_nats::Client,
    js: jetstream::Context,
    /// Subjects the server said this login may not publish to.
    forbidden: Arc<Mutex<HashSet<String>>>,
    /// The stream's largest message, once read (`-1`: no limit of its own).
    stream_max: std::sync::atomic::AtomicI64,
    /// Why the connection last failed, as the client told it.
    problem: Arc<Mutex<Option<String>>>,
}

/// What the client reports: a refused login and client errors go to `/healthz`, a refused
/// subject is remembered so its messages become stubs.
fn on_event(
    event: async_nats::Event,
    status: &RelayStatus,
    forbidden: &Mutex<HashSet<String>>,
    problem: &Mutex<Option<String>>,
) {
    let tell = |text: String| {
        *problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.clone());
        status.fail(text);
    };
    match event {
        async_nats::Event::ServerError(async_nats::ServerError::AuthorizationViolation) => tell(
            "NATS refused the relay's login: authorization violation (LATCHKEY_NATS_URL, \
             LATCHKEY_NATS_CREDS_FILE or LATCHKEY_NATS_NKEY_SEED)"
                .to_owned(),
        ),
        async_nats::Event::ServerError(async_nats::ServerError::Other(text)) => {
            if let Some(subject) = forbidden_subject(&text) {
                forbidden
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(subject);
            }
            tracing::warn!(error = %text, "NATS server error");
        }
        async_nats::Event::ClientError(e) => tell(format!("NATS client: {e}")),
        async_nats::Event::Connected => {
            *problem.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        other => tracing::debug!(event = %other, "NATS connection event"),
    }
}

/// The subject of a `Permissions Violation for Publish to "<subject>"` error.
fn forbidden_subject(text: &str) -> Option<String> {
    let rest = text.split("Permissions Violation for Publish to").nth(1)?;
    let quoted = rest.trim().trim_start_matches('"');
    Some(quoted.split('"').next()?.to_owned())
}

/// `options` with the login and TLS the settings name (shared with `latchkey webhooks replay`).
pub(crate) async fn with_login(
    mut options: async_nats::ConnectOptions,
    settings: &RelaySettings,
) -> Result<async_nats::ConnectOptions, String> {
    use secrecy::ExposeSecret as _;
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
    Ok(options)
}

impl Nats {
    /// Makes the client; it connects in the background. Fails only on settings it cannot use.
    pub async fn new(settings: &RelaySettings, status: Arc<RelayStatus>) -> Result<Self, String> {
        use secrecy::ExposeSecret as _;
        let forbidden: Arc<Mutex<HashSet<String>>> = Arc::default();
        let problem: Arc<Mutex<Option<String>>> = Arc::default();
        let (heard, told) = (forbidden.clone(), problem.clone());
        let mut options = async_nats::ConnectOptions::new()
            .name("latchkey-relay")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .reconnect_delay_callback(|attempts| {
                let exponent = u32::try_from(attempts.min(6)).unwrap_or(6);
                (Duration::from_millis(250) * 2u32.pow(exponent)).min(MAX_RECONNECT_DELAY)
            })
            .event_callback(move |event| {
                let (status, heard, told) = (status.clone(), heard.clone(), told.clone());
                async move { on_event(event, &status, &heard, &told) }
            });
        options = with_login(options, settings).await?;
        // The URL may hold a password: errors name the setting, not the value.
        let client = options
            .connect(settings.url.expose_secret())
            .await
            .map_err(|e| format!("LATCHKEY_NATS_URL: {e}"))?;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(Duration::from_secs(5));
        Ok(Self {
            client,
            js,
            forbidden,
            stream_max: std::sync::atomic::AtomicI64::new(-1),
            problem,
        })
    }

    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Creates or updates the stream (see [`keep_stream`]) and notes its message size limit.
    pub async fn ensure_stream(&self, settings: &RelaySettings) -> Result<(), String> {
        // A client just made (or reconnecting) gets a moment before NATS is called away.
        for _ in 0..40 {
            if self.connected() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !self.connected() {
            let problem = self
                .problem
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            return Err(match problem {
                Some(problem) => format!("NATS is not reachable: {problem}; retrying"),
                None => "NATS is not reachable (LATCHKEY_NATS_URL); retrying".to_owned(),
            });
        }
        let config = keep_stream(&self.js, settings).await?;
        self.stream_max.store(
            i64::from(config.max_message_size),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(())
    }

    /// Closes the connection (a graceful stop).
    pub async fn close(self) {
        let _ = self.client.drain().await;
    }
}

#[async_trait]
impl Publisher for Nats {
    async fn send(&self, message: Outgoing) -> Result<Ack, Failure> {
        let mut headers = async_nats::HeaderMap::new();
        for (name, value) in &message.headers {
            headers.insert(*name, value.as_str());
        }
        let subject = message.subject.clone();
        let ack = self
            .js
            .publish_with_headers(message.subject, headers, message.payload.into())
            .await
            .map_err(|e| classify(e.kind(), e.to_string()))?;
        let forbidden = self.forbidden.clone();
        Ok(Box::pin(async move {
            ack.await.map(drop).map_err(|e| {
                let refused = forbidden
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(&subject);
                if refused {
                    Failure::Refused(format!("the relay may not publish to {subject}"))
                } else {
                    classify(e.kind(), e.to_string())
                }
            })
        }))
    }

    fn max_message(&self) -> usize {
        let server = self.client.server_info().max_payload;
        let stream = self.stream_max.load(std::sync::atomic::Ordering::Relaxed);
        match usize::try_from(stream) {
            Ok(limit) if limit > 0 => limit.min(server),
            _ => server,
        }
    }
}

/// Which publish errors no retry can cure.
fn classify(kind: jetstream::context::PublishErrorKind, text: String) -> Failure {
    use jetstream::context::PublishErrorKind as Kind;
    match kind {
        Kind::MaxPayloadExceeded => Failure::Refused(text),
        // JetStream's "message size exceeds maximum allowed" (10054).
        Kind::Other if text.contains("10054") || text.contains("exceeds maximum") => {
            Failure::Refused(text)
        }
        _ => Failure::Transient(text),
    }
}

/// Creates the stream, or brings an existing one to what the settings ask without undoing an
/// operator's choices: replicas are only ever raised, and age and size change only when set.
async fn keep_stream(
    js: &jetstream::Context,
    settings: &RelaySettings,
) -> Result<stream::Config, String> {
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
            let config = new_stream(&settings.stream, subjects, limits);
            js.create_stream(config.clone())
                .await
                .map_err(|e| format!("creating JetStream stream {}: {e}", settings.stream))?;
            Ok(config)
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
            Ok(wanted)
        }
    }
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

    #[test]
    fn a_permissions_violation_names_its_subject() {
        assert_eq!(
            forbidden_subject(
                "Permissions Violation for Publish to \"latchkey.v1.acme.x.refreshed\""
            ),
            Some("latchkey.v1.acme.x.refreshed".to_owned())
        );
        assert_eq!(forbidden_subject("Authorization Violation"), None);
    }
}
