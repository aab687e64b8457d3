//! The feed under faults a deployment meets: the relay's database sessions killed, an event NATS
//! will not take, NATS away when the service starts.

use std::time::{Duration, Instant};

use latchkey_proto::v1::{CreateIntegrationRequest, IntegrationConfig, UpdateIntegrationRequest};
use prost::Message as _;

use crate::helpers::{Mode, Server, integration_config};
use crate::relay::{OwnNats, Topic, assert_once_and_in_order, integration_updates, nats_url};

async fn relay_health(server: &Server) -> serde_json::Value {
    let (_, body) = server.admin_get("/healthz").await.unwrap();
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["relay"].clone()
}

fn database_url(mode: &Mode) -> String {
    mode.env()
        .into_iter()
        .find(|(k, _)| k == "LATCHKEY_DATABASE_URL")
        .map(|(_, v)| v)
        .unwrap()
}

/// Integration updates that ride out a database blip: each retried until it lands.
async fn updates_through_blips(server: &Server, n: usize) -> usize {
    let mut client = server.integrations().await;
    let created = loop {
        let request = CreateIntegrationRequest {
            config: Some(integration_config(&format!(
                "B {}",
                uuid::Uuid::new_v4().simple()
            ))),
            ..Default::default()
        };
        if let Ok(created) = client.create_integration(request).await {
            break created.into_inner();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut done = 1;
    while done < n {
        let config = IntegrationConfig {
            description: format!("update {done}"),
            ..created.config.clone().unwrap()
        };
        let request = UpdateIntegrationRequest {
            integration_id: created.integration_id.clone(),
            config: Some(config),
            ..Default::default()
        };
        match client.update_integration(request).await {
            Ok(_) => done += 1,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_relays_database_sessions_leaves_one_publisher_and_every_event_once() {
    let topic = Topic::new();
    let mode = Mode::postgres().await;
    let env = topic.env(&nats_url());
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = Server::start_with(&mode, &extra).await;
    let b = Server::start_with(&mode, &extra).await;
    let mut written = integration_updates(&a, 10).await + integration_updates(&b, 10).await;
    assert_eq!(
        topic
            .wait_for(&nats_url(), 20, Duration::from_secs(20))
            .await,
        20
    );

    let admin = sqlx::PgPool::connect(&database_url(&mode)).await.unwrap();
    let checkpoint = || async {
        sqlx::query_scalar::<_, i64>("SELECT position FROM relay_checkpoints")
            .fetch_optional(&admin)
            .await
            .unwrap()
            .unwrap_or_default()
    };
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(killed.len() >= 2, "both replicas had sessions");

    // Writes go on through both replicas while the relays find their footing.
    let writers =
        async { updates_through_blips(&a, 15).await + updates_through_blips(&b, 15).await };
    let watch = async {
        let started = Instant::now();
        let mut last = 0;
        let mut publishing_at_ten = None;
        while started.elapsed() < Duration::from_secs(12) {
            let now = checkpoint().await;
            assert!(
                now >= last,
                "the checkpoint moved back from {last} to {now}"
            );
            last = now;
            let states = [
                relay_health(&a).await["status"].clone(),
                relay_health(&b).await["status"].clone(),
            ];
            let publishing = states.iter().filter(|s| *s == "ok").count();
            assert!(publishing <= 1, "two relays report publishing: {states:?}");
            if started.elapsed() >= Duration::from_secs(10) && publishing_at_ten.is_none() {
                publishing_at_ten = Some(states);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        publishing_at_ten.unwrap()
    };
    let (more, states) = tokio::join!(writers, watch);
    written += more;
    assert_eq!(
        states.iter().filter(|s| *s == "ok").count(),
        1,
        "one relay publishes, the other stands by: {states:?}"
    );
    assert!(states.iter().any(|s| s == "standby"), "{states:?}");
    assert_eq!(
        topic
            .wait_for(&nats_url(), written as u64, Duration::from_secs(30))
            .await,
        written as u64
    );
    assert_once_and_in_order(&topic.messages(&nats_url()).await, written);
    admin.close().await;
    a.stop().await;
    b.stop().await;
    topic.delete(&nats_url()).await;
    mode.cleanup().await;
}

/// Polls `server`'s relay until its status is `want`, for up to `within`.
async fn relay_becomes(server: &Server, want: &str, within: Duration) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let relay = relay_health(server).await;
        if relay["status"] == want || started.elapsed() > within {
            return relay;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_relay_loses_its_lease_and_stands_by_when_it_wakes() {
    let topic = Topic::new();
    let mode = Mode::postgres().await;
    let env = topic.env(&nats_url());
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = Server::start_with(&mode, &extra).await;
    let b = Server::start_with(&mode, &extra).await;
    let mut written = integration_updates(&a, 10).await;
    assert_eq!(
        topic
            .wait_for(&nats_url(), 10, Duration::from_secs(20))
            .await,
        10
    );
    // The active relay says "ok" once its first round is saved, a moment after its messages
    // arrive: until then it may still say "connecting", as the other may.
    let started = Instant::now();
    let (active, standby) = loop {
        if relay_health(&a).await["status"] == "ok" {
            break (&a, &b);
        }
        if relay_health(&b).await["status"] == "ok" {
            break (&b, &a);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "neither relay says ok: {} / {}",
            relay_health(&a).await,
            relay_health(&b).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The other replica's relay may still be connecting to NATS; then it stands by.
    let relay = relay_becomes(standby, "standby", Duration::from_secs(10)).await;
    assert_eq!(relay["status"], "standby", "{relay}");

    // The active relay's process freezes (a long GC pause, a stopped container)…
    active.signal("STOP").await;
    written += integration_updates(standby, 10).await;
    // …and once its lease runs out (10 s) the other takes over and publishes.
    let relay = relay_becomes(standby, "ok", Duration::from_secs(20)).await;
    assert_eq!(relay["status"], "ok", "{relay}");
    assert_eq!(
        topic
            .wait_for(&nats_url(), written as u64, Duration::from_secs(20))
            .await,
        written as u64
    );
    // Woken, the old one finds its lease taken and stands by within seconds.
    active.signal("CONT").await;
    let relay = relay_becomes(active, "standby", Duration::from_secs(5)).await;
    assert_eq!(relay["status"], "standby", "{relay}");
    assert_eq!(relay_health(standby).await["status"], "ok");
    written += integration_updates(active, 10).await;
    assert_eq!(
        topic
            .wait_for(&nats_url(), written as u64, Duration::from_secs(20))
            .await,
        written as u64
    );
    assert_once_and_in_order(&topic.messages(&nats_url()).await, written);
    a.stop().await;
    b.stop().await;
    topic.delete(&nats_url()).await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_larger_than_the_stream_takes_becomes_a_stub_and_the_ones_after_arrive() {
    let topic = Topic::new();
    let url = nats_url();
    // An operator's stream that takes messages up to 3,000 bytes.
    let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: topic.stream.clone(),
        subjects: vec![format!("{}.>", topic.prefix)],
        max_message_size: 3000,
        duplicate_window: Duration::from_secs(3600),
        ..Default::default()
    })
    .await
    .unwrap();
    let mode = Mode::embedded();
    let env = topic.env(&url);
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let mut client = server.integrations().await;
    let created = client
        .create_integration(CreateIntegrationRequest {
            config: Some(integration_config("Stubbed")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for description in ["x".repeat(2000), "small again".to_owned()] {
        let config = IntegrationConfig {
            description,
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
    assert_eq!(topic.wait_for(&url, 3, Duration::from_secs(20)).await, 3);
    let messages = topic.messages(&url).await;
    assert_once_and_in_order(&messages, 3);
    let events: Vec<latchkey_proto::v1::Event> = messages
        .iter()
        .map(|m| latchkey_proto::v1::Event::decode(m.payload.as_ref()).unwrap())
        .collect();
    assert!(events[0].omitted.is_empty() && events[2].omitted.is_empty());
    assert!(
        events[1].payload_json.is_empty(),
        "the stub carries no payload"
    );
    assert!(
        events[1].omitted.contains("GetHistory"),
        "{}",
        events[1].omitted
    );
    assert_eq!(events[1].version, 2);
    let relay = relay_health(&server).await;
    assert_eq!(relay["status"], "ok", "{relay}");
    assert_eq!(
        relay["stubbed"][0]["position"], events[1].position,
        "{relay}"
    );
    let (_, metrics) = server.admin_get("/metrics").await.unwrap();
    assert!(
        metrics.contains("latchkey_relay_stubbed_events_total"),
        "{metrics}"
    );
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_away_for_a_minute_at_start_then_up_one_relay_connection_and_every_event() {
    let mut nats = OwnNats::start_empty();
    let topic = Topic::new();
    let mode = Mode::embedded();
    let env = topic.env(&nats.url());
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let written = integration_updates(&server, 20).await;
    // A minute away: a relay that made a client per retry would have made a dozen by now.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let relay = relay_health(&server).await;
    assert_eq!(relay["status"], "failing", "{relay}");
    assert_eq!(relay["lag_events"], written as u64, "{relay}");

    nats.restart().await;
    assert_eq!(
        topic
            .wait_for(&nats.url(), written as u64, Duration::from_secs(30))
            .await,
        written as u64
    );
    assert_once_and_in_order(&topic.messages(&nats.url()).await, written);
    assert_eq!(nats.connections_named("latchkey-relay").await, 1);
    server.stop().await;
    nats.stop().await;
    mode.cleanup().await;
}
