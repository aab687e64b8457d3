//! Events on NATS JetStream, through the real binary: every event once, in order per stream,
//! through outages and crashes; and the live tail over gRPC.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use latchkey_domain::{
    ConnectionId, DomainEvent, GrantType, IntegrationId, StreamId, TenantId, connection,
};
use latchkey_proto::v1::{
    CreateIntegrationRequest, IntegrationConfig, ReplayEventsRequest, UpdateIntegrationRequest,
};
use latchkey_store::{EventContext, EventStore};
use prost::Message as _;

use crate::helpers::{Mode, Server, integration_config};

pub fn nats_url() -> String {
    std::env::var("LATCHKEY_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A stream and subject prefix of this test's own.
pub struct Topic {
    pub stream: String,
    pub prefix: String,
}

impl Topic {
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            stream: format!("LK_TEST_{id}"),
            prefix: format!("lktest.{id}"),
        }
    }

    pub fn env(&self, url: &str) -> Vec<(String, String)> {
        vec![
            ("LATCHKEY_NATS_URL".to_owned(), url.to_owned()),
            ("LATCHKEY_NATS_STREAM".to_owned(), self.stream.clone()),
            (
                "LATCHKEY_NATS_SUBJECT_PREFIX".to_owned(),
                self.prefix.clone(),
            ),
        ]
    }

    /// Every message of the stream, in stream order.
    pub async fn messages(&self, url: &str) -> Vec<async_nats::jetstream::message::StreamMessage> {
        let client = async_nats::connect(url).await.expect("NATS for tests");
        let js = async_nats::jetstream::new(client);
        let Ok(mut stream) = js.get_stream(&self.stream).await else {
            return Vec::new();
        };
        let info = stream.info().await.unwrap().state.clone();
        let mut out = Vec::new();
        for seq in info.first_sequence..=info.last_sequence {
            if info.messages == 0 {
                break;
            }
            if let Ok(message) = stream.get_raw_message(seq).await {
                out.push(message);
            }
        }
        out
    }

    pub async fn count(&self, url: &str) -> u64 {
        let Ok(client) = async_nats::connect(url).await else {
            return 0;
        };
        let js = async_nats::jetstream::new(client);
        match js.get_stream(&self.stream).await {
            Ok(mut stream) => stream.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        }
    }

    pub async fn wait_for(&self, url: &str, n: u64, within: Duration) -> u64 {
        let deadline = std::time::Instant::now() + within;
        loop {
            let count = self.count(url).await;
            if count >= n || std::time::Instant::now() > deadline {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn delete(&self, url: &str) {
        if let Ok(client) = async_nats::connect(url).await {
            let _ = async_nats::jetstream::new(client)
                .delete_stream(&self.stream)
                .await;
        }
    }
}

fn header(message: &async_nats::jetstream::message::StreamMessage, name: &str) -> String {
    message
        .headers
        .get(name)
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default()
}

/// Each message once (by Nats-Msg-Id), and per stream in version order.
pub(crate) fn assert_once_and_in_order(
    messages: &[async_nats::jetstream::message::StreamMessage],
    expected: usize,
) {
    let ids: HashSet<String> = messages.iter().map(|m| header(m, "Nats-Msg-Id")).collect();
    assert_eq!(ids.len(), expected, "distinct events");
    assert_eq!(messages.len(), expected, "no duplicate reached the stream");
    let mut last: HashMap<String, u64> = HashMap::new();
    for m in messages {
        let stream = header(m, "Latchkey-Stream");
        let version: u64 = header(m, "Latchkey-Version").parse().unwrap();
        let previous = last.insert(stream.clone(), version).unwrap_or(0);
        assert_eq!(
            version,
            previous + 1,
            "{stream}: version {version} after {previous}"
        );
    }
}

fn events_for(id: ConnectionId, n: usize) -> Vec<Vec<DomainEvent>> {
    let created: DomainEvent = connection::Event::ConnectionCreated {
        connection_id: id,
        integration_id: IntegrationId::new_v7(),
        tenant: TenantId::parse("acme").unwrap(),
        grant_type: GrantType::ClientCredentials,
    }
    .into();
    let authorized: DomainEvent = connection::Event::Authorized {
        grant_type: GrantType::ClientCredentials,
        tokens: connection::TokenSet {
            access_token: latchkey_domain::Sealed::from_bytes(vec![1; 40]),
            refresh_token: None,
            token_type: "Bearer".to_owned(),
            expires_at: None,
            scopes: vec![],
            metadata: Default::default(),
            refresh_at: None,
            refresh_token_expires_at: None,
        },
        credentials: None,
        provider_account_id: None,
        via: None,
        grant: None,
    }
    .into();
    let failed = || -> DomainEvent {
        connection::Event::RefreshFailed {
            error: "server_error".to_owned(),
            description: None,
            retryable: true,
            retry_at: None,
            attempt: 1,
        }
        .into()
    };
    let mut appends = vec![vec![created], vec![authorized]];
    appends.extend((2..n).map(|_| vec![failed()]));
    appends
}

pub(crate) async fn write_connection(
    store: std::sync::Arc<dyn EventStore>,
    events: usize,
) -> ConnectionId {
    let id = ConnectionId::new_v7();
    for (v, batch) in events_for(id, events).into_iter().enumerate() {
        store
            .append(
                StreamId::Connection(id),
                v as u64,
                batch,
                &EventContext::now("test"),
            )
            .await
            .unwrap();
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_from_fifty_writers_reach_the_stream_once_each_in_order() {
    let url = nats_url();
    let topic = Topic::new();
    let mode = Mode::postgres().await;
    let env: Vec<(String, String)> = topic.env(&url);
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let store: std::sync::Arc<dyn EventStore> =
        std::sync::Arc::new(latchkey_store::PgStore::connect(&db.url, 20).await.unwrap());
    let writers: Vec<_> = (0..50)
        .map(|_| tokio::spawn(write_connection(store.clone(), 200)))
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let published = topic.wait_for(&url, 10_000, Duration::from_secs(120)).await;
    assert_eq!(published, 10_000);
    let messages = topic.messages(&url).await;
    assert_once_and_in_order(&messages, 10_000);
    let subject = messages[0].subject.to_string();
    assert!(
        subject.starts_with(&format!("{}.acme.", topic.prefix)),
        "{subject}"
    );
    assert!(subject.ends_with(".connection_created"), "{subject}");
    let event = latchkey_proto::v1::Event::decode(messages[0].payload.clone()).unwrap();
    assert_eq!(event.r#type, "connection_created");
    assert_eq!(event.event_id, header(&messages[0], "Nats-Msg-Id"));
    let (_, body) = server.admin_get("/healthz").await.unwrap();
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["relay"]["status"], "ok", "{health}");
    store.close().await;
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

/// A nats-server of this test's own, to stop and start.
pub(crate) struct OwnNats {
    port: u16,
    monitor: u16,
    dir: latchkey_store::testing::TempDir,
    child: Option<tokio::process::Child>,
    config: Option<std::path::PathBuf>,
}

impl OwnNats {
    pub(crate) async fn start() -> Self {
        let mut nats = Self::start_empty();
        nats.restart().await;
        nats
    }

    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A server that admits only the user with this NKey.
    async fn start_with_nkey(public_key: &str) -> Self {
        let mut nats = Self::start_empty();
        let conf = nats.dir.path.join("nats.conf");
        std::fs::write(
            &conf,
            format!("authorization {{ users = [ {{ nkey: {public_key} }} ] }}\n"),
        )
        .unwrap();
        nats.config = Some(conf);
        nats.restart().await;
        nats
    }

    pub(crate) fn start_empty() -> Self {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        Self {
            port: free(),
            monitor: free(),
            dir: latchkey_store::testing::TempDir::create(),
            child: None,
            config: None,
        }
    }

    pub(crate) async fn restart(&mut self) {
        let mut command = tokio::process::Command::new("nats-server");
        if let Some(conf) = &self.config {
            command.arg("-c").arg(conf);
        }
        let child = command
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-m",
                &self.monitor.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.dir.path)
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server is installed (scripts/test installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not start");
    }

    /// How many client connections carry this name (the server's `/connz`).
    pub(crate) async fn connections_named(&self, name: &str) -> usize {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.monitor));
        let (_, body) = crate::helpers::http_get(addr, "/connz?limit=1000")
            .await
            .unwrap();
        let connz: serde_json::Value = serde_json::from_str(&body).unwrap();
        connz["connections"]
            .as_array()
            .map(|all| all.iter().filter(|c| c["name"] == name).count())
            .unwrap_or_default()
    }

    pub(crate) async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

pub(crate) async fn integration_updates(server: &Server, n: usize) -> usize {
    let mut client = server.integrations().await;
    let created = client
        .create_integration(CreateIntegrationRequest {
            config: Some(integration_config(&format!(
                "I {}",
                uuid::Uuid::new_v4().simple()
            ))),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for i in 1..n {
        let config = IntegrationConfig {
            description: format!("update {i}"),
            ..created.config.clone().unwrap()
        };
        client
            .update_integration(UpdateIntegrationRequest {
                integration_id: created.integration_id.clone(),
                config: Some(config),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_for_thirty_seconds_then_everything_arrives_once_in_order() {
    let mut nats = OwnNats::start().await;
    let topic = Topic::new();
    let mode = Mode::embedded();
    let env = topic.env(&nats.url());
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let mut written = integration_updates(&server, 20).await;
    assert_eq!(
        topic
            .wait_for(&nats.url(), 20, Duration::from_secs(20))
            .await,
        20
    );

    nats.stop().await;
    // Writes go on while NATS is down.
    written += integration_updates(&server, 30).await;
    // A publish waits up to 5 s for its acknowledgement before the relay calls it failed.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (status, body) = server.admin_get("/healthz").await.unwrap();
    assert_eq!(status, 200, "the service keeps serving");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["relay"]["status"], "failing", "{health}");
    assert!(
        health["relay"]["lag_events"].as_u64().unwrap() > 0,
        "{health}"
    );
    tokio::time::sleep(Duration::from_secs(20)).await;
    written += integration_updates(&server, 10).await;

    nats.restart().await;
    assert_eq!(
        topic
            .wait_for(&nats.url(), written as u64, Duration::from_secs(60))
            .await,
        written as u64
    );
    assert_once_and_in_order(&topic.messages(&nats.url()).await, written);
    server.stop().await;
    nats.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_the_middle_of_publishing_loses_nothing_and_duplicates_are_absorbed() {
    let url = nats_url();
    let topic = Topic::new();
    let mode = Mode::embedded();
    // Write the log first, with no server running, so the relay has a long way to go.
    let data = mode.data_dir().unwrap();
    std::fs::create_dir_all(&data).unwrap();
    {
        let store: std::sync::Arc<dyn EventStore> = std::sync::Arc::new(
            latchkey_store::SqliteStore::open(&data.join("latchkey.db"))
                .await
                .unwrap(),
        );
        let writers: Vec<_> = (0..20)
            .map(|_| tokio::spawn(write_connection(store.clone(), 150)))
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        store.close().await;
    }
    let mut env = topic.env(&url);
    env.push(("LATCHKEY_MASTER_KEY".to_owned(), {
        use secrecy::ExposeSecret;
        latchkey_crypto::MasterKey::generate()
            .to_base64()
            .expose_secret()
            .to_owned()
    }));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while topic.count(&url).await < 200 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().await;
    let at_crash = topic.count(&url).await;
    assert!(
        at_crash > 0 && at_crash < 3000,
        "killed mid-way: {at_crash} of 3000"
    );

    let server = Server::start_with(&mode, &extra).await;
    assert_eq!(
        topic.wait_for(&url, 3000, Duration::from_secs(60)).await,
        3000
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_once_and_in_order(&topic.messages(&url).await, 3000);
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_hears_refreshed_within_a_second_and_no_payload_holds_a_token() {
    use crate::helpers::{connect, integration, password_integration};
    use latchkey_fake_provider::{FakeProvider, ProviderConfig};
    use latchkey_proto::v1::RefreshTokenRequest;
    let url = nats_url();
    let topic = Topic::new();
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let mut env = topic.env(&url);
    env.push((
        "LATCHKEY_ALLOW_LOOPBACK_PROVIDERS".to_owned(),
        "true".to_owned(),
    ));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    let connection_id = connect(&server, &integration_id, &provider).await;
    let mut connections = server.connections().await;
    let client = async_nats::connect(&url).await.unwrap();
    let mut refreshed = client
        .subscribe(format!("{}.acme.*.refreshed", topic.prefix))
        .await
        .unwrap();
    let mut everything = client
        .subscribe(format!("{}.>", topic.prefix))
        .await
        .unwrap();
    client.flush().await.unwrap();
    let started = std::time::Instant::now();
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: connection_id.clone(),
        })
        .await
        .unwrap();
    use tokio_stream::StreamExt as _;
    let message = tokio::time::timeout(Duration::from_secs(1), refreshed.next())
        .await
        .expect("within a second")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        message.subject.to_string(),
        format!("{}.acme.{}.refreshed", topic.prefix, connection_id)
    );
    let event = latchkey_proto::v1::Event::decode(message.payload.clone()).unwrap();
    assert_eq!(event.r#type, "refreshed");
    // Nothing on the wire holds a token or a secret in clear.
    let mut payloads = Vec::new();
    while let Ok(Some(m)) =
        tokio::time::timeout(Duration::from_millis(300), everything.next()).await
    {
        payloads.push(m.payload);
    }
    assert!(!payloads.is_empty());
    for payload in payloads {
        let text = String::from_utf8_lossy(&payload);
        assert!(
            !text.contains(&provider.config().token_prefix),
            "a token in a payload"
        );
        assert!(!text.contains(&provider.config().password));
        assert!(!text.contains(&provider.config().client_secret));
    }
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_with_follow_turns_history_into_live_events_without_a_gap() {
    let mode = Mode::postgres().await;
    let server = Server::start(&mode).await;
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let store: std::sync::Arc<dyn EventStore> =
        std::sync::Arc::new(latchkey_store::PgStore::connect(&db.url, 10).await.unwrap());
    for _ in 0..10 {
        write_connection(store.clone(), 5).await;
    }
    let mut audit = server.audit().await;
    let mut stream = audit
        .replay_events(ReplayEventsRequest {
            from_position: 0,
            filter: None,
            follow: true,
        })
        .await
        .unwrap()
        .into_inner();
    // Live writers while the follower reads its history.
    let writers: Vec<_> = (0..10)
        .map(|_| tokio::spawn(write_connection(store.clone(), 5)))
        .collect();
    let mut seen = Vec::new();
    while seen.len() < 100 {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("live events keep coming")
            .unwrap()
            .expect("the stream stays open");
        seen.push(event);
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let positions: HashSet<i64> = seen.iter().map(|e| e.position).collect();
    assert_eq!(positions.len(), 100, "no duplicate");
    let all: HashSet<i64> = store
        .read_all(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(positions, all, "no gap");
    let mut per_stream: HashMap<String, u64> = HashMap::new();
    for e in &seen {
        let previous = per_stream
            .insert(e.stream_id.clone(), e.version)
            .unwrap_or(0);
        assert_eq!(e.version, previous + 1, "in order per connection");
    }
    store.close().await;
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_logs_in_with_an_nkey_and_keeps_an_operators_stream_limits() {
    let user = nkeys::KeyPair::new_user();
    let seed = user.seed().unwrap();
    let mut nats = OwnNats::start_with_nkey(&user.public_key()).await;
    let url = nats.url();
    let topic = Topic::new();
    let admin = async_nats::ConnectOptions::new()
        .nkey(seed.clone())
        .connect(&url)
        .await
        .unwrap();
    let js = async_nats::jetstream::new(admin);
    // An operator made the stream first, with limits of their own.
    js.create_stream(async_nats::jetstream::stream::Config {
        name: topic.stream.clone(),
        subjects: vec![format!("{}.>", topic.prefix)],
        max_age: Duration::from_secs(3 * 24 * 3600),
        max_bytes: 64 * 1024 * 1024,
        ..Default::default()
    })
    .await
    .unwrap();

    let mode = Mode::embedded();
    let dir = latchkey_store::testing::TempDir::create();
    let seed_file = dir.path.join("nats.seed");
    std::fs::write(&seed_file, &seed).unwrap();
    let mut env = topic.env(&url);
    env.push((
        "LATCHKEY_NATS_NKEY_SEED_FILE".to_owned(),
        seed_file.display().to_string(),
    ));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &env).await;
    assert_eq!(integration_updates(&server, 3).await, 3);
    let count = async {
        loop {
            let mut stream = js.get_stream(&topic.stream).await.unwrap();
            let messages = stream.info().await.unwrap().state.messages;
            if messages >= 3 {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let published = tokio::time::timeout(Duration::from_secs(20), count)
        .await
        .unwrap_or_else(|_| panic!("no events over the NKey login: {}", server.stderr()));
    assert_eq!(published, 3);
    let config = js
        .get_stream(&topic.stream)
        .await
        .unwrap()
        .cached_info()
        .config
        .clone();
    assert_eq!(config.max_age, Duration::from_secs(3 * 24 * 3600), "kept");
    assert_eq!(config.max_bytes, 64 * 1024 * 1024, "kept");
    assert!(!server.stderr().contains(&seed), "the seed is never logged");
    server.stop().await;

    // A wrong seed: the relay says why, and names no secret.
    let stranger = nkeys::KeyPair::new_user().seed().unwrap();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_NATS_URL", &url),
            ("LATCHKEY_NATS_STREAM", &topic.stream),
            ("LATCHKEY_NATS_SUBJECT_PREFIX", &topic.prefix),
            ("LATCHKEY_NATS_NKEY_SEED", &stranger),
        ],
    )
    .await;
    let health = async {
        loop {
            let (_, body) = server.admin_get("/healthz").await.unwrap();
            if body.contains("authorization") {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let body = tokio::time::timeout(Duration::from_secs(20), health)
        .await
        .unwrap_or_else(|_| panic!("no authorization error in /healthz: {}", server.stderr()));
    assert!(!body.contains(&stranger) && !server.stderr().contains(&stranger));
    server.stop().await;
    nats.stop().await;
    dir.remove();
    mode.cleanup().await;
}
