//! The token lifecycle end to end: refresh once under concurrency, across replicas, proactively
//! within a bound, with failures classified, and safely across a crash.

use std::time::Duration;

use futures_like::join_all;
use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::{
    ConnectionStatus, CreateIntegrationRequest, EventFilter, GetConnectionRequest, GetTokenRequest,
    GrantType, IntegrationConfig, RefreshTokenRequest, ReplayEventsRequest,
    StartAuthorizationRequest,
};
use tonic::Code;

use crate::helpers::{
    LOOPBACK, Mode, NO_REFRESHER, Server, connect, connect_many, integration, min_ttl,
    password_integration, until_after,
};

/// `join_all` over tokio tasks, so the tests need no futures crate.
mod futures_like {
    pub async fn join_all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(task.await.expect("task"));
        }
        out
    }
}

pub(crate) async fn event_types(server: &Server, connection_id: &str) -> Vec<(String, String)> {
    let mut stream = server
        .audit()
        .await
        .replay_events(ReplayEventsRequest {
            from_position: 0,
            filter: Some(EventFilter {
                connection_id: connection_id.to_owned(),
                ..Default::default()
            }),
            follow: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(e) = stream.message().await.unwrap() {
        out.push((e.r#type, e.payload_json));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_get_token_calls_cause_one_refresh() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(60),
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    let connection_id = connect(&server, &integration_id, &provider).await;
    provider.set_quirks(Quirks::default());

    let client = server.connections().await;
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let mut client = client.clone();
            let connection_id = connection_id.clone();
            tokio::spawn(async move {
                client
                    .get_token(GetTokenRequest {
                        connection_id,
                        min_ttl: min_ttl(600),
                        dpop: None,
                    })
                    .await
                    .map(|r| r.into_inner().access_token)
            })
        })
        .collect();
    let tokens = join_all(tasks).await;
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        1,
        "exactly one refresh"
    );
    let first = tokens[0].as_ref().expect("a token").clone();
    assert!(provider.accepts_access_token(&first));
    for token in &tokens {
        assert_eq!(token.as_ref().expect("every caller gets a token"), &first);
    }
    assert_eq!(provider.reuse_detected(), 0);
    let (_, metrics) = server.admin_get("/metrics").await.unwrap();
    assert!(
        metrics.contains("latchkey_get_token_seconds_count{outcome=\"ok\"} 1000"),
        "{metrics}"
    );
    assert!(
        metrics.contains("latchkey_refreshes_total{outcome=\"refreshed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("latchkey_connections{status=\"active\"} 1"),
        "{metrics}"
    );
    server.stop().await;
    mode.cleanup().await;
}

/// GetToken reads an in-memory projection; a revocation on one replica must reach every replica's
/// copy: 100 ms after `RevokeConnection` returns, no replica hands out the token. Replica `b` has
/// a pool of one session: listening for `a`'s appends must not take the session it works with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_revocation_no_replica_serves_the_token_100_ms_later() {
    use latchkey_proto::v1::RevokeConnectionRequest;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::postgres().await;
    let a = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let b = Server::start_with(
        &mode,
        &[LOOPBACK, NO_REFRESHER, ("LATCHKEY_DATABASE_POOL_SIZE", "1")],
    )
    .await;
    let integration_id = integration(&a, password_integration(&provider), &provider).await;
    let (ca, cb) = (a.connections().await, b.connections().await);
    let get = |client: &latchkey_proto::v1::connection_service_client::ConnectionServiceClient<
        tonic::transport::Channel,
    >,
               id: &str| {
        let mut client = client.clone();
        let request = GetTokenRequest {
            connection_id: id.to_owned(),
            min_ttl: None,
            dpop: None,
        };
        async move { client.get_token(request).await }
    };
    for round in 0..6 {
        let connection_id = connect(&a, &integration_id, &provider).await;
        // Both replicas serve it (and keep it in memory).
        for _ in 0..3 {
            get(&ca, &connection_id).await.unwrap();
            get(&cb, &connection_id).await.unwrap();
        }
        let (revoker, other) = if round % 2 == 0 {
            (&ca, &cb)
        } else {
            (&cb, &ca)
        };
        revoker
            .clone()
            .revoke_connection(RevokeConnectionRequest {
                connection_id: connection_id.clone(),
                reason: "coherence".to_owned(),
            })
            .await
            .unwrap();
        let revoked_at = tokio::time::Instant::now();
        // The replica that revoked knows at once.
        let refused = get(revoker, &connection_id).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition, "round {round}");
        tokio::time::sleep_until(revoked_at + Duration::from_millis(100)).await;
        let refused = get(other, &connection_id).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::FailedPrecondition,
            "round {round}: the other replica still served a revoked connection after 100 ms"
        );
    }
    a.stop().await;
    b.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_refresh_an_expiring_connection_once() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(60),
        ..Default::default()
    });
    let mode = Mode::postgres().await;
    let a = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let b = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let integration_id = integration(&a, password_integration(&provider), &provider).await;
    let connection_id = connect(&a, &integration_id, &provider).await;
    provider.set_quirks(Quirks {
        token_delay: Duration::from_millis(200),
        ..Default::default()
    });
    let (ca, cb) = (a.connections().await, b.connections().await);
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let mut client = if i % 2 == 0 { ca.clone() } else { cb.clone() };
            let connection_id = connection_id.clone();
            tokio::spawn(async move {
                client
                    .get_token(GetTokenRequest {
                        connection_id,
                        min_ttl: min_ttl(600),
                        dpop: None,
                    })
                    .await
                    .map(|r| r.into_inner().access_token)
            })
        })
        .collect();
    let tokens = join_all(tasks).await;
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        1,
        "one refresh across both replicas"
    );
    assert_eq!(
        provider.reuse_detected(),
        0,
        "no refresh token was sent twice"
    );
    if tokens.iter().any(|t| t.is_err()) {
        eprintln!("A:\n{}\nB:\n{}", a.stderr(), b.stderr());
    }
    let first = tokens[0].as_ref().unwrap().clone();
    assert!(tokens.iter().all(|t| t.as_ref().unwrap() == &first));
    a.stop().await;
    b.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_classified_and_recorded() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    let mut connections = server.connections().await;

    // invalid_grant: for good.
    let revoked_grant = connect(&server, &integration_id, &provider).await;
    provider.fail_next(
        400,
        r#"{"error":"invalid_grant","error_description":"token revoked"}"#,
        None,
    );
    let refused = connections
        .get_token(GetTokenRequest {
            connection_id: revoked_grant.clone(),
            min_ttl: min_ttl(7200),
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let again = connections
        .get_token(GetTokenRequest {
            connection_id: revoked_grant.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(again.message().contains("invalid_grant"), "{again:?}");
    let state = connections
        .get_connection(GetConnectionRequest {
            connection_id: revoked_grant.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.status(), ConnectionStatus::ReauthorizationRequired);
    let types: Vec<_> = event_types(&server, &revoked_grant)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        types.last().map(String::as_str),
        Some("reauthorization_required")
    );

    // A 503, then a success.
    let flaky = connect(&server, &integration_id, &provider).await;
    provider.fail_next(503, "<html>down</html>", None);
    let unavailable = connections
        .get_token(GetTokenRequest {
            connection_id: flaky.clone(),
            min_ttl: min_ttl(7200),
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(unavailable.code(), Code::Unavailable);
    let refreshed = connections
        .refresh_token(RefreshTokenRequest {
            connection_id: flaky.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refreshed.status(), ConnectionStatus::Active);
    assert!(refreshed.last_error.is_none(), "healthy again");
    assert!(refreshed.can_refresh && refreshed.next_refresh_at.is_some());
    let events = event_types(&server, &flaky).await;
    let types: Vec<_> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        &types[types.len() - 4..],
        [
            "refresh_failed",
            "connection_failing",
            "refreshed",
            "connection_recovered"
        ]
    );
    let failed: serde_json::Value = serde_json::from_str(&events[events.len() - 4].1).unwrap();
    assert_eq!(failed["retryable"], true);
    assert_eq!(failed["attempt"], 1);
    assert!(failed["retry_at"].is_string());

    // A 429 with Retry-After: 5 — no new attempt before five seconds.
    let limited = connect(&server, &integration_id, &provider).await;
    provider.fail_next(429, r#"{"error":"slow_down"}"#, Some(5));
    let before = provider.token_calls_of("refresh_token");
    let started = chrono::Utc::now();
    let first = connections
        .get_token(GetTokenRequest {
            connection_id: limited.clone(),
            min_ttl: min_ttl(7200),
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(first.code(), Code::Unavailable);
    assert_eq!(provider.token_calls_of("refresh_token"), before + 1);
    for _ in 0..3 {
        let waiting = connections
            .get_token(GetTokenRequest {
                connection_id: limited.clone(),
                min_ttl: min_ttl(7200),
                dpop: None,
            })
            .await
            .unwrap_err();
        assert_eq!(waiting.code(), Code::Unavailable);
        assert!(waiting.message().contains("next attempt"), "{waiting:?}");
    }
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        before + 1,
        "no attempt before Retry-After"
    );
    let events = event_types(&server, &limited).await;
    let (_, failed) = events
        .iter()
        .rev()
        .find(|(t, _)| t == "refresh_failed")
        .unwrap();
    let failed: serde_json::Value = serde_json::from_str(failed).unwrap();
    let retry_at: chrono::DateTime<chrono::Utc> =
        failed["retry_at"].as_str().unwrap().parse().unwrap();
    assert!(
        retry_at >= started + chrono::Duration::seconds(5),
        "{retry_at} honours Retry-After"
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_token_with_no_way_to_refresh_is_recorded_expired() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(2),
        no_refresh_token: true,
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let mut config = password_integration(&provider);
    config.grant_type = GrantType::AuthorizationCode as i32;
    config.allow_password_grant = false;
    let integration_id = integration(&server, config, &provider).await;
    let mut connections = server.connections().await;
    let started = connections
        .start_authorization(StartAuthorizationRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (provider_url, cookie) =
        crate::grants::through_start_link(&started.authorization_url).await;
    let to_callback = browser.get(&provider_url).send().await.unwrap();
    let callback = to_callback.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        crate::grants::get_with(&callback, &cookie).await.status(),
        200
    );
    let mut expired = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let state = connections
            .get_connection(GetConnectionRequest {
                connection_id: started.connection_id.clone(),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner();
        if state.status() == ConnectionStatus::Expired {
            expired = true;
            break;
        }
    }
    assert!(expired, "the refresher recorded `expired`");
    let state = connections
        .get_connection(GetConnectionRequest {
            connection_id: started.connection_id.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!state.can_refresh, "the state says it cannot refresh");
    assert!(state.next_refresh_at.is_none());
    let refused = connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id,
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("no refresh token"),
        "{refused:?}"
    );
    server.stop().await;
    mode.cleanup().await;
}

async fn count_events(server: &Server, event_type: &str) -> usize {
    let mut stream = server
        .audit()
        .await
        .replay_events(ReplayEventsRequest {
            from_position: 0,
            filter: Some(EventFilter {
                types: vec![event_type.to_owned()],
                ..Default::default()
            }),
            follow: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut n = 0;
    while stream.message().await.unwrap().is_some() {
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_expiring_soon_are_refreshed_in_time_within_the_bound() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    // First tokens live 30 s; with a 10 s margin each is due about 20 s after it was issued.
    // Refreshed ones live an hour, so a connection refreshed while others are still being
    // connected (a slow machine) is not due again within the test.
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(30),
        refreshed_expires_in: Some(ExpiresIn::Number(3600)),
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            LOOPBACK,
            ("LATCHKEY_REFRESH_CONCURRENCY", "8"),
            ("LATCHKEY_REFRESH_RATE", "1000"),
        ],
    )
    .await;
    let mut config = password_integration(&provider);
    config.refresh_margin_secs = Some(10);
    let integration_id = integration(&server, config, &provider).await;
    let created = std::time::Instant::now();
    let ids = connect_many(&server, &integration_id, &provider, 1000).await;
    assert_eq!(ids.len(), 1000);
    // From now on each refresh takes 20 ms at the provider, so concurrency is visible.
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(30),
        refreshed_expires_in: Some(ExpiresIn::Number(3600)),
        token_delay: Duration::from_millis(20),
        ..Default::default()
    });
    // The connects ran 50 at a time; only the refresher's concurrency is bounded.
    provider.reset_max_concurrent_token_requests();
    let deadline = created + Duration::from_secs(90);
    while provider.token_calls_of("refresh_token") < 1000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        1000,
        "every connection refreshed once"
    );
    assert!(
        provider.max_concurrent_token_requests() <= 8,
        "at most 8 refreshes at once, saw {}",
        provider.max_concurrent_token_requests()
    );
    assert_eq!(
        count_events(&server, "expired").await,
        0,
        "none expired first"
    );
    // The last answers' events may still be on their way to the log.
    let mut refreshed = count_events(&server, "refreshed").await;
    let settle = std::time::Instant::now() + Duration::from_secs(10);
    while refreshed < 1000 && std::time::Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
        refreshed = count_events(&server, "refreshed").await;
    }
    assert_eq!(refreshed, 1000);
    assert_eq!(provider.token_calls_of("refresh_token"), 1000);
    assert_eq!(provider.reuse_detected(), 0);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_a_refresh_storm_loses_nothing_and_reuses_no_refresh_token() {
    use latchkey_domain::{DomainEvent, EventMeta, connection};
    use latchkey_store::{EventLog, EventStore, PgStore, Projections};

    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(8),
        ..Default::default()
    });
    let mode = Mode::postgres().await;
    let settings = [
        LOOPBACK,
        ("LATCHKEY_REFRESH_CONCURRENCY", "8"),
        ("LATCHKEY_REFRESH_RATE", "1000"),
        ("LATCHKEY_REFRESH_LEASE", "3"),
        ("LATCHKEY_PROVIDER_TIMEOUT", "2"),
    ];
    let server = Server::start_with(&mode, &settings).await;
    let mut config = password_integration(&provider);
    config.refresh_margin_secs = Some(4);
    let integration_id = integration(&server, config, &provider).await;
    let ids = connect_many(&server, &integration_id, &provider, 200).await;
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(3600),
        token_delay: Duration::from_millis(150),
        ..Default::default()
    });
    // Kill the server in the middle of the storm, with refreshes in flight at the provider.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while provider.token_calls_of("refresh_token") < 40 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        provider.token_calls_of("refresh_token") >= 40,
        "the storm started"
    );
    server.kill().await;

    let server = Server::start_with(&mode, &settings).await;
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let store = PgStore::connect(&db.url, 4).await.unwrap();
    // Every connection ends refreshed, or, where a refresh was cut short after its token was
    // sent, asks for the customer; none stays in between.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut settled = 0;
        for id in &ids {
            let state = store
                .connection(id.parse().unwrap())
                .await
                .unwrap()
                .unwrap();
            let fresh = state.status == connection::Status::Active
                && state
                    .expires_at
                    .is_some_and(|at| at > chrono::Utc::now() + chrono::Duration::seconds(600));
            if fresh || state.status == connection::Status::ReauthorizationRequired {
                settled += 1;
            }
        }
        if settled == ids.len() || std::time::Instant::now() > deadline {
            let mut reauth = 0;
            for id in &ids {
                let state = store
                    .connection(id.parse().unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                if state.status == connection::Status::ReauthorizationRequired {
                    reauth += 1;
                }
            }
            eprintln!(
                "after the crash: {reauth} of {} connections ask for the customer",
                ids.len()
            );
            // Only refreshes in flight at the crash (at most the concurrency bound) are in doubt.
            assert!(reauth <= 8, "{reauth} connections lost to the crash");
            assert_eq!(settled, ids.len(), "every connection settled");
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    server.stop().await;
    assert_eq!(
        provider.reuse_detected(),
        0,
        "no refresh token was sent twice"
    );

    // The projection equals a replay of the log, byte for byte.
    let events = store.read_all(0, 100_000).await.unwrap();
    let mut replayed = std::collections::HashMap::new();
    for recorded in &events {
        if let DomainEvent::Connection(event) = recorded.event().unwrap() {
            let meta = EventMeta {
                version: recorded.version,
                occurred_at: recorded.occurred_at,
            };
            let key = recorded.stream_id.to_string();
            let state = replayed.remove(&key);
            if let Some(next) = connection::apply(state, &event, &meta) {
                replayed.insert(key, next);
            }
        }
    }
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id::text, state FROM connections")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), ids.len());
    for (id, stored) in rows {
        let replay = &replayed[&format!("connection-{id}")];
        assert_eq!(
            serde_json::to_string(replay).unwrap(),
            stored,
            "connection {id}"
        );
    }
    store.close().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_the_margin_the_current_token_is_served_while_one_refresh_runs_behind() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    // 6 s tokens with a 5 s margin (capped at half the lifetime): due after about 3 s, and then
    // still good for a 1 s min_ttl.
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(6),
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let mut config = password_integration(&provider);
    config.refresh_margin_secs = Some(5);
    let integration_id = integration(&server, config, &provider).await;
    let connection_id = connect(&server, &integration_id, &provider).await;
    provider.set_quirks(Quirks {
        token_delay: Duration::from_millis(300),
        ..Default::default()
    });
    let mut connections = server.connections().await;
    let due = connections
        .get_connection(GetConnectionRequest {
            connection_id: connection_id.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner()
        .next_refresh_at
        .expect("a refresh is planned");
    until_after(&due).await;
    let old = provider.issued_tokens()[0].clone();
    let request = || GetTokenRequest {
        connection_id: connection_id.clone(),
        min_ttl: min_ttl(1),
        dpop: None,
    };
    let started = std::time::Instant::now();
    let served = connections.get_token(request()).await.unwrap().into_inner();
    assert_eq!(served.access_token, old, "the current token, at once");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "not held up by the refresh"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while provider.token_calls_of("refresh_token") == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Once the background refresh commits, the next caller gets the new token.
    crate::helpers::wait_until(
        "the refreshed token served",
        Duration::from_secs(10),
        || {
            let mut connections = connections.clone();
            let (request, old) = (request(), old.clone());
            async move {
                let next = connections.get_token(request).await.unwrap().into_inner();
                next.access_token != old
            }
        },
    )
    .await;
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        1,
        "one background refresh"
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_connections_run_their_grant_again_to_refresh() {
    use latchkey_proto::v1::ConnectClientCredentialsRequest;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let mut config = password_integration(&provider);
    config.grant_type = GrantType::ClientCredentials as i32;
    config.allow_password_grant = false;
    let integration_id = integration(&server, config, &provider).await;
    let mut connections = server.connections().await;
    let connection = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(connection.can_refresh, "it can run its grant again");
    let refreshed = connections
        .refresh_token(RefreshTokenRequest {
            connection_id: connection.connection_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refreshed.status(), ConnectionStatus::Active);
    assert_eq!(provider.token_calls_of("client_credentials"), 2);
    assert_eq!(provider.token_calls_of("refresh_token"), 0);
    let types: Vec<_> = event_types(&server, &connection.connection_id)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(types, ["connection_created", "authorized", "refreshed"]);
    server.stop().await;
    mode.cleanup().await;
}

/// The connection's last validation, once there is one (waits up to 10 s).
async fn validated_soon(
    server: &Server,
    connection_id: &str,
) -> latchkey_proto::v1::LastValidation {
    let mut connections = server.connections().await;
    for _ in 0..100 {
        let state = connections
            .get_connection(GetConnectionRequest {
                connection_id: connection_id.to_owned(),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner();
        if let Some(v) = state.last_validation {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("connection {connection_id} was never validated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_runs_on_a_schedule_and_health_shows_in_metrics() {
    use latchkey_proto::v1::TokenValidation;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            LOOPBACK,
            NO_REFRESHER,
            ("LATCHKEY_VALIDATION_TICK", "1"),
            ("LATCHKEY_METRICS_CONNECTIONS", "true"),
            ("LATCHKEY_METRICS_PROVIDER_ACCOUNTS", "true"),
        ],
    )
    .await;
    let mut config = password_integration(&provider);
    config.validation = Some(TokenValidation {
        kind: "introspection".to_owned(),
        url: provider.url("/introspect"),
        ..Default::default()
    });
    config.validation_interval_secs = Some(10);
    // The account comes from the userinfo answer here (the ID token way is in grants.rs).
    config.account = Some(latchkey_proto::v1::AccountMapping {
        kind: "userinfo".to_owned(),
        url: provider.url("/userinfo"),
        ..Default::default()
    });
    let integration_id = integration(&server, config.clone(), &provider).await;
    let connection_id = connect(&server, &integration_id, &provider).await;
    // And from any endpoint, at a JSON pointer.
    let endpoint_integration = integration(
        &server,
        IntegrationConfig {
            account: Some(latchkey_proto::v1::AccountMapping {
                kind: "endpoint".to_owned(),
                url: provider.url("/api/me"),
                pointer: "/user".to_owned(),
                method: String::new(),
            }),
            ..password_integration(&provider)
        },
        &provider,
    )
    .await;
    let by_endpoint = connect(&server, &endpoint_integration, &provider).await;
    let mut connections = server.connections().await;
    for id in [&connection_id, &by_endpoint] {
        let state = connections
            .get_connection(GetConnectionRequest {
                connection_id: id.clone(),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(state.provider_account_id, provider.config().username);
    }
    // Too short an interval, or an interval without a validation, is refused by name.
    for (interval, validation, field) in [
        (
            Some(5),
            config.validation.clone(),
            "validation_interval_secs",
        ),
        (Some(60), None, "validation_interval_secs"),
    ] {
        let error = server
            .integrations()
            .await
            .create_integration(CreateIntegrationRequest {
                config: Some(IntegrationConfig {
                    validation_interval_secs: interval,
                    validation,
                    ..password_integration(&provider)
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(error.code(), Code::InvalidArgument);
        assert!(error.message().contains(field), "{}", error.message());
    }

    // One check after authorization, then one per interval: the second comes by itself.
    let first = validated_soon(&server, &connection_id).await;
    let validations = || async {
        event_types(&server, &connection_id)
            .await
            .into_iter()
            .filter(|(t, _)| t == "validated")
            .count()
    };
    let mut waited = Duration::ZERO;
    while validations().await < 2 {
        assert!(
            waited < Duration::from_secs(30),
            "no scheduled validation within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    let second = validated_soon(&server, &connection_id).await;
    let gap = second.at.unwrap().seconds - first.at.unwrap().seconds;
    assert!(gap >= 10, "the schedule keeps its interval: {gap} s");

    // The same health appears as metrics, per connection.
    let (status, metrics) = server.admin_get("/metrics").await.unwrap();
    assert_eq!(status, 200);
    let series = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains(&connection_id))
            .map(str::to_owned)
    };
    assert!(
        series("latchkey_connection_info{").is_some_and(|l| l.contains("status=\"active\"")
            && l.contains("provider_account_id=\"ada\"")
            && l.ends_with(" 1")),
        "{metrics}"
    );
    assert!(
        series("latchkey_connection_last_validation_valid{").is_some_and(|l| l.ends_with(" 1")),
        "{metrics}"
    );
    assert!(
        series("latchkey_connection_last_validation_timestamp_seconds{")
            .is_some_and(|l| l.ends_with(&format!(" {}", second.at.unwrap().seconds))),
        "{metrics}"
    );
    assert!(series("latchkey_connection_next_refresh_timestamp_seconds{").is_some());
    assert!(series("latchkey_connection_token_expiry_timestamp_seconds{").is_some());
    for token in provider.issued_tokens() {
        assert!(!metrics.contains(&token));
    }
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_detects_a_token_revoked_at_the_provider_and_ends_in_reauthorization() {
    use latchkey_proto::v1::{TokenValidation, ValidateConnectionRequest};
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let mut connections = server.connections().await;
    for (kind, path) in [("introspection", "/introspect"), ("userinfo", "/userinfo")] {
        let mut config = password_integration(&provider);
        config.validation = Some(TokenValidation {
            kind: kind.to_owned(),
            url: provider.url(path),
            ..Default::default()
        });
        let integration_id = integration(&server, config, &provider).await;
        let connection_id = connect(&server, &integration_id, &provider).await;
        // Validation runs by itself after authorization.
        let first = validated_soon(&server, &connection_id).await;
        assert!(first.valid, "{kind}: {first:?}");
        let validate = || ValidateConnectionRequest {
            connection_id: connection_id.clone(),
        };
        let live = connections
            .validate_connection(validate())
            .await
            .unwrap()
            .into_inner();
        assert!(
            live.last_validation.as_ref().is_some_and(|v| v.valid),
            "{kind}: {live:?}"
        );
        assert_eq!(live.status(), ConnectionStatus::Active);

        // The user revokes the app at the provider.
        provider.revoke_all_grants();
        let gone = connections
            .validate_connection(validate())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            gone.status(),
            ConnectionStatus::ReauthorizationRequired,
            "{kind}: {gone:?}"
        );
        assert!(gone.last_validation.as_ref().is_some_and(|v| !v.valid));
        let types: Vec<String> = event_types(&server, &connection_id)
            .await
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            &types[types.len() - 3..],
            ["validated", "validated", "reauthorization_required"],
            "{kind}: valid, then invalid, then the refresh found the grant gone"
        );
    }
    let unconfigured = connections
        .validate_connection(ValidateConnectionRequest {
            connection_id: {
                let id = integration(&server, password_integration(&provider), &provider).await;
                connect(&server, &id, &provider).await
            },
        })
        .await
        .unwrap_err();
    assert_eq!(unconfigured.code(), Code::FailedPrecondition);
    server.stop().await;
    mode.cleanup().await;
}
