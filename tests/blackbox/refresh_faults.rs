//! A refresh never costs a customer their grant: against the fake provider with rotation and
//! reuse detection on, each fault scripted with the provider's delays, never a hoped-for race.

use std::net::SocketAddr;
use std::time::Duration;

use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use latchkey_proto::v1::{
    ConnectionHealth, ConnectionProfile, ConnectionStatus, GetConnectionRequest, GetTokenRequest,
    IntegrationConfig, ListConnectionsRequest, RefreshTokenRequest, UpdateConnectionRequest,
};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{LOOPBACK, NO_REFRESHER, connect, integration, min_ttl, password_integration};
use crate::helpers::{Mode, Server, until_after};

/// A provider whose tokens last an hour, rotating refresh tokens and revoking a grant on reuse.
async fn provider() -> FakeProvider {
    FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap()
}

/// A client of the server at `addr` (cheap on loopback; tasks make their own).
async fn client(addr: SocketAddr) -> ConnectionServiceClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    ConnectionServiceClient::new(channel)
}

/// A server in `mode` (no proactive refresher) with one password connection through an
/// integration that `adjust` may change.
async fn connected(
    mode: &Mode,
    provider: &FakeProvider,
    adjust: impl FnOnce(&mut IntegrationConfig),
) -> (Server, String) {
    let server = Server::start_with(mode, &[LOOPBACK, NO_REFRESHER]).await;
    let mut config = password_integration(provider);
    adjust(&mut config);
    let integration_id = integration(&server, config, provider).await;
    let id = connect(&server, &integration_id, provider).await;
    (server, id)
}

async fn status(addr: SocketAddr, id: &str) -> latchkey_proto::v1::Connection {
    client(addr)
        .await
        .get_connection(GetConnectionRequest {
            connection_id: id.to_owned(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner()
}

async fn token(addr: SocketAddr, id: &str, secs: i64) -> Result<String, tonic::Status> {
    client(addr)
        .await
        .get_token(GetTokenRequest {
            connection_id: id.to_owned(),
            min_ttl: min_ttl(secs),
            dpop: None,
        })
        .await
        .map(|r| r.into_inner().access_token)
}

async fn refresh(addr: SocketAddr, id: &str) -> Result<(), tonic::Status> {
    client(addr)
        .await
        .refresh_token(RefreshTokenRequest {
            connection_id: id.to_owned(),
        })
        .await
        .map(|_| ())
}

/// A RefreshToken on a task of its own, to act while it waits.
fn refresh_behind(
    addr: SocketAddr,
    id: &str,
) -> tokio::task::JoinHandle<Result<(), tonic::Status>> {
    let id = id.to_owned();
    tokio::spawn(async move { refresh(addr, &id).await })
}

/// A GetToken that asks for more than the current token has left, so it must refresh, with the
/// caller's deadline.
async fn token_within(addr: SocketAddr, id: &str, deadline: Duration) -> Result<String, Code> {
    let mut request = tonic::Request::new(GetTokenRequest {
        connection_id: id.to_owned(),
        min_ttl: min_ttl(3599),
        dpop: None,
    });
    request.set_timeout(deadline);
    client(addr)
        .await
        .get_token(request)
        .await
        .map(|r| r.into_inner().access_token)
        .map_err(|s| s.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_give_up_during_a_slow_refresh_do_not_cost_the_grant() {
    let provider = provider().await;
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    for callers in [1usize, 20] {
        let id = connect(&server, &integration_id, &provider).await;
        let before = token(server.grpc_addr, &id, 1).await.unwrap();
        // Tokens last an hour; a refresh now takes 3 s at the provider, which rotates at once.
        // Once the token has less than the 3,599 s callers ask for, each call wants a refresh.
        let mut short = status(server.grpc_addr, &id).await.expires_at.unwrap();
        short.seconds -= 3599;
        until_after(&short).await;
        provider.set_quirks(Quirks {
            answer_delay: Duration::from_secs(3),
            ..Default::default()
        });
        let calls = provider.token_calls_of("refresh_token");
        let waiting: Vec<_> = (0..callers)
            .map(|_| {
                let (addr, id) = (server.grpc_addr, id.clone());
                tokio::spawn(async move { token_within(addr, &id, Duration::from_secs(1)).await })
            })
            .collect();
        for caller in waiting {
            let answer = caller.await.unwrap();
            assert_eq!(answer, Err(Code::DeadlineExceeded), "{callers} callers");
        }
        // The refresh goes on without its callers and commits (the provider answers at 3 s).
        provider.set_quirks(Quirks::default());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let after = loop {
            let current = token(server.grpc_addr, &id, 1).await.unwrap();
            if current != before {
                break current;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the refresh was not committed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_ne!(after, before, "the refreshed token is served");
        assert_eq!(
            provider.token_calls_of("refresh_token"),
            calls + 1,
            "one refresh for {callers} callers"
        );
        assert_eq!(provider.reuse_detected(), 0, "no refresh token sent twice");
        assert_eq!(
            status(server.grpc_addr, &id).await.status,
            ConnectionStatus::Active as i32
        );
    }
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_the_provider_rotated_without_answering_is_resent_only_as_the_integration_allows()
 {
    // (reuse setting, grace, provider rotates, provider's reuse grace) -> the retry works?
    let cases = [
        ("never", None, true, Duration::ZERO, false),
        ("within", Some(60), true, Duration::from_secs(60), true),
        ("always", None, false, Duration::ZERO, true),
    ];
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[LOOPBACK, NO_REFRESHER, ("LATCHKEY_PROVIDER_TIMEOUT", "1")],
    )
    .await;
    for (reuse, grace, rotates, reuse_grace, retry_works) in cases {
        let provider = provider().await;
        let normal = Quirks {
            rotate_refresh_tokens: rotates,
            reuse_grace,
            ..Default::default()
        };
        provider.set_quirks(normal.clone());
        let mut config = password_integration(&provider);
        config.refresh_token_reuse = reuse.to_owned();
        config.refresh_token_reuse_grace_secs = grace;
        let integration_id = integration(&server, config, &provider).await;
        let id = connect(&server, &integration_id, &provider).await;
        // The provider takes the refresh token and never answers in time.
        provider.set_quirks(Quirks {
            answer_delay: Duration::from_secs(3),
            ..normal.clone()
        });
        let lost = refresh(server.grpc_addr, &id).await.unwrap_err();
        assert_eq!(lost.code(), Code::Unavailable, "{reuse}: {lost:?}");
        provider.set_quirks(normal);
        let sent = provider.token_calls_of("refresh_token");
        let retry = refresh(server.grpc_addr, &id).await;
        let state = status(server.grpc_addr, &id).await;
        if retry_works {
            assert!(retry.is_ok(), "{reuse}: {retry:?}");
            assert_eq!(state.status, ConnectionStatus::Active as i32, "{reuse}");
            assert_eq!(provider.token_calls_of("refresh_token"), sent + 1);
        } else {
            let refused = retry.unwrap_err();
            assert_eq!(refused.code(), Code::FailedPrecondition, "{reuse}");
            assert!(
                refused.message().contains("refresh_interrupted"),
                "{refused:?}"
            );
            assert_eq!(
                state.status,
                ConnectionStatus::ReauthorizationRequired as i32
            );
            assert_eq!(
                provider.token_calls_of("refresh_token"),
                sent,
                "{reuse}: the token in doubt is never sent again"
            );
        }
        assert_eq!(provider.reuse_detected(), 0, "{reuse}");
    }
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_under_way_at_sigterm_commits_before_the_process_exits() {
    let provider = provider().await;
    let mode = Mode::embedded();
    let (server, id) = connected(&mode, &provider, |_| {}).await;
    let before = status(server.grpc_addr, &id).await.version;
    provider.set_quirks(Quirks {
        answer_delay: Duration::from_secs(5),
        ..Default::default()
    });
    let caller = refresh_behind(server.grpc_addr, &id);
    // The refresh is at the provider when the signal comes.
    crate::helpers::wait_until(
        "the refresh at the provider",
        Duration::from_secs(5),
        || {
            let calls = provider.token_calls_of("refresh_token");
            async move { calls == 1 }
        },
    )
    .await;
    let (exit, stderr) = server.stop().await;
    assert!(exit.success(), "{stderr}");
    let _ = caller.await;
    provider.set_quirks(Quirks::default());
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let after = status(server.grpc_addr, &id).await;
    assert_eq!(after.status, ConnectionStatus::Active as i32);
    assert_eq!(after.version, before + 1, "the refresh was committed");
    token(server.grpc_addr, &id, 60).await.unwrap();
    assert_eq!(provider.reuse_detected(), 0);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_token_can_last_costs_at_most_one_provider_call_a_minute() {
    let provider = provider().await;
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(600),
        ..Default::default()
    });
    let mode = Mode::embedded();
    let (server, id) = connected(&mode, &provider, |_| {}).await;
    for _ in 0..10 {
        let refused = token(server.grpc_addr, &id, 3600).await.unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(refused.message().contains("(600s)"), "{refused:?}");
    }
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        1,
        "one refresh learns the provider's lifetime; for a minute nothing is asked again"
    );
    assert!(token(server.grpc_addr, &id, 300).await.is_ok());
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_refresh_token_calls_share_one_refresh_at_the_provider() {
    let provider = provider().await;
    let mode = Mode::embedded();
    // One refresh a second to this provider: the first of the fifty waits for the limit (before
    // its lease, before sending), so all fifty are there before anything is sent.
    let server = Server::start_with(
        &mode,
        &[LOOPBACK, NO_REFRESHER, ("LATCHKEY_REFRESH_RATE", "1")],
    )
    .await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    let warm = connect(&server, &integration_id, &provider).await;
    let id = connect(&server, &integration_id, &provider).await;
    refresh(server.grpc_addr, &warm).await.unwrap();
    let earlier = provider.token_calls_of("refresh_token");
    let addr = server.grpc_addr;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let (id, barrier) = (id.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut client = client(addr).await;
                barrier.wait().await;
                client
                    .refresh_token(RefreshTokenRequest { connection_id: id })
                    .await
                    .map(|r| r.into_inner().version)
            })
        })
        .collect();
    let mut versions = std::collections::BTreeSet::new();
    for caller in callers {
        versions.insert(caller.await.unwrap().unwrap());
    }
    assert_eq!(
        provider.token_calls_of("refresh_token") - earlier,
        1,
        "one refresh for fifty callers"
    );
    assert_eq!(
        versions.len(),
        1,
        "all fifty see the same refresh: {versions:?}"
    );
    assert_eq!(provider.reuse_detected(), 0);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_during_a_failing_refresh_is_decided_again_and_the_next_refresh_succeeds() {
    let provider = provider().await;
    let mode = Mode::embedded();
    let (server, id) = connected(&mode, &provider, |_| {}).await;
    provider.set_quirks(Quirks {
        token_delay: Duration::from_secs(1),
        ..Default::default()
    });
    provider.fail_next(503, r#"{"error":"temporarily_unavailable"}"#, None);
    let failing = refresh_behind(server.grpc_addr, &id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A change to the connection while the provider is thinking: the failure lands after it.
    server
        .connections()
        .await
        .update_connection(UpdateConnectionRequest {
            connection_id: id.clone(),
            profile: Some(ConnectionProfile {
                name: "renamed mid-refresh".to_owned(),
                ..Default::default()
            }),
            expected_version: None,
        })
        .await
        .unwrap();
    let failed = failing.await.unwrap().unwrap_err();
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    let state = status(server.grpc_addr, &id).await;
    assert_eq!(state.name, "renamed mid-refresh");
    assert_eq!(
        state.last_error.map(|e| e.code).as_deref(),
        Some("temporarily_unavailable")
    );
    provider.set_quirks(Quirks::default());
    refresh(server.grpc_addr, &id).await.unwrap();
    assert_eq!(
        status(server.grpc_addr, &id).await.status,
        ConnectionStatus::Active as i32
    );
    assert_eq!(provider.reuse_detected(), 0);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_retry_after_is_clamped_and_the_valid_token_is_still_served() {
    let provider = provider().await;
    let mode = Mode::embedded();
    let (server, id) = connected(&mode, &provider, |_| {}).await;
    let current = token(server.grpc_addr, &id, 1).await.unwrap();
    provider.fail_next(429, r#"{"error":"slow_down"}"#, Some(10_000_000_000_000));
    let busy = refresh(server.grpc_addr, &id).await.unwrap_err();
    assert_eq!(busy.code(), Code::Unavailable);
    let state = status(server.grpc_addr, &id).await;
    let next = state.next_refresh_at.unwrap().seconds;
    let day_from_now = chrono::Utc::now().timestamp() + 24 * 3600;
    assert!(
        next <= day_from_now + 5 && next >= day_from_now - 60,
        "{next}"
    );
    assert_eq!(token(server.grpc_addr, &id, 1).await.unwrap(), current);
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_failing_past_the_integrations_horizon_ask_for_the_customer() {
    let provider = provider().await;
    let mode = Mode::embedded();
    let (server, id) = connected(&mode, &provider, |config| {
        config.refresh_failure_horizon_secs = Some(2);
    })
    .await;
    provider.set_quirks(Quirks {
        token_override: Some((503, r#"{"error":"temporarily_unavailable"}"#.to_owned())),
        ..Default::default()
    });
    assert_eq!(
        refresh(server.grpc_addr, &id).await.unwrap_err().code(),
        Code::Unavailable
    );
    let failing = status(server.grpc_addr, &id).await;
    assert!(failing.failing_since.is_some());
    assert_eq!(failing.status, ConnectionStatus::Active as i32);
    // The horizon (2 s) counts from the first failure.
    let mut horizon = failing.failing_since.unwrap();
    horizon.seconds += 2;
    until_after(&horizon).await;
    let _ = refresh(server.grpc_addr, &id).await;
    let ended = status(server.grpc_addr, &id).await;
    assert_eq!(
        ended.status,
        ConnectionStatus::ReauthorizationRequired as i32
    );
    assert_eq!(
        ended.last_error.map(|e| e.code).as_deref(),
        Some("refresh_failing")
    );
    let refused = token(server.grpc_addr, &id, 1).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("refresh_failing"), "{refused:?}");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_gone_for_two_seconds_while_refreshed_tokens_are_committed_loses_nothing() {
    let provider = provider().await;
    let mode = Mode::postgres().await;
    let (server, id) = connected(&mode, &provider, |_| {}).await;
    let before = status(server.grpc_addr, &id).await.version;
    provider.set_quirks(Quirks {
        answer_delay: Duration::from_secs(1),
        ..Default::default()
    });
    let caller = refresh_behind(server.grpc_addr, &id);
    // While the provider's answer is on its way, the database turns every session away and
    // kills those open (a failover, a restart): the commit cannot land until it is back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let admin = sqlx::PgPool::connect(&latchkey_store::testing::admin_url())
        .await
        .unwrap();
    let database = format!("\"{}\"", db.name);
    sqlx::query(&format!(
        "ALTER DATABASE {database} WITH ALLOW_CONNECTIONS false"
    ))
    .execute(&admin)
    .await
    .unwrap();
    let killed: Vec<(bool,)> =
        sqlx::query_as("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db.name)
            .fetch_all(&admin)
            .await
            .unwrap();
    assert!(!killed.is_empty(), "the service had sessions to kill");
    tokio::time::sleep(Duration::from_secs(2)).await;
    sqlx::query(&format!(
        "ALTER DATABASE {database} WITH ALLOW_CONNECTIONS true"
    ))
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;
    caller.await.unwrap().unwrap();
    let after = status(server.grpc_addr, &id).await;
    assert_eq!(after.status, ConnectionStatus::Active as i32);
    assert_eq!(after.version, before + 1);
    assert!(
        server
            .stderr()
            .contains("committing refreshed tokens failed; trying again"),
        "the commit was tried again while the database was away"
    );
    provider.set_quirks(Quirks::default());
    refresh(server.grpc_addr, &id).await.unwrap();
    assert_eq!(
        provider.reuse_detected(),
        0,
        "the new refresh token was kept"
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_credentials_grant_is_run_again_with_the_scopes_and_parameters_it_was_created_with()
 {
    use latchkey_proto::v1::{ConnectClientCredentialsRequest, GrantType};
    let provider = provider().await;
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let mut config = password_integration(&provider);
    config.grant_type = GrantType::ClientCredentials as i32;
    config.allow_password_grant = false;
    config.scopes = vec!["a".to_owned()];
    let integration_id = integration(&server, config, &provider).await;
    let connection = client(server.grpc_addr)
        .await
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            scopes: vec!["b".to_owned()],
            extra_params: [("audience".to_owned(), "x".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    refresh(server.grpc_addr, &connection.connection_id)
        .await
        .unwrap();
    let calls = provider.token_calls();
    let grants: Vec<_> = calls
        .iter()
        .filter(|c| c.grant_type == "client_credentials")
        .collect();
    assert_eq!(grants.len(), 2, "created, then run again");
    for call in grants {
        let param = |name: &str| {
            call.params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(param("scope"), Some("b"), "{:?}", call.params);
        assert_eq!(param("audience"), Some("x"), "{:?}", call.params);
    }
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_with_live_connections_is_deleted_only_with_force_which_revokes_them() {
    use latchkey_proto::v1::DeleteIntegrationRequest;
    use latchkey_proto::v1::integration_service_client::IntegrationServiceClient;
    let provider = provider().await;
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    let first = connect(&server, &integration_id, &provider).await;
    let second = connect(&server, &integration_id, &provider).await;
    let mut integrations: IntegrationServiceClient<Channel> = server.integrations().await;
    let delete = |force| DeleteIntegrationRequest {
        integration_id: integration_id.clone(),
        expected_version: None,
        force,
    };
    let refused = integrations
        .delete_integration(delete(false))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("2 live connection"),
        "{refused:?}"
    );
    assert_eq!(provider.revocations(), 0, "refusing changes nothing");
    integrations.delete_integration(delete(true)).await.unwrap();
    for id in [&first, &second] {
        let state = status(server.grpc_addr, id).await;
        assert_eq!(state.status, ConnectionStatus::Revoked as i32);
        let gone = token(server.grpc_addr, id, 1).await.unwrap_err();
        assert_eq!(gone.code(), Code::FailedPrecondition);
    }
    // Each connection's refresh and access tokens, revoked at the provider.
    assert_eq!(provider.revocations(), 4);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_connections_of_a_deleted_integration_do_not_delay_another_integrations_refresh()
 {
    use latchkey_domain::{DomainEvent, StreamId, integration as domain};
    use latchkey_store::{EventContext, EventLog, EventStore, PgStore, Projections};

    let provider = provider().await;
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(8),
        ..Default::default()
    });
    let mode = Mode::postgres().await;
    // Connections are made with the refresher off (however long 600 take on a busy machine,
    // none is refreshed while its integration still exists).
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let mut config = password_integration(&provider);
    config.refresh_margin_secs = Some(4);
    let deleted = integration(&server, config.clone(), &provider).await;
    let orphans = crate::helpers::connect_many(&server, &deleted, &provider, 600).await;
    config.name = format!("Other {}", uuid::Uuid::new_v4().simple());
    let other = integration(&server, config, &provider).await;
    let id = connect(&server, &other, &provider).await;
    provider.set_quirks(Quirks::default());
    // The first integration is deleted behind the API's back (as an older version allowed):
    // its connections are orphans, all due within seconds, ahead of the other one.
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let store = PgStore::connect(&db.url, 2).await.unwrap();
    let integration_id = deleted.parse().unwrap();
    let state = store.integration(integration_id).await.unwrap().unwrap();
    let events = domain::decide(Some(&state), domain::Command::Delete).unwrap();
    store
        .append(
            StreamId::Integration(integration_id),
            state.version,
            events.into_iter().map(DomainEvent::from).collect(),
            &EventContext {
                actor: "test".to_owned(),
                correlation_id: None,
                occurred_at: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
    server.stop().await;
    let server = Server::start_with(
        &mode,
        &[
            LOOPBACK,
            ("LATCHKEY_REFRESH_CONCURRENCY", "8"),
            ("LATCHKEY_REFRESH_RATE", "1000"),
        ],
    )
    .await;
    // The other connection is refreshed within seconds, behind 600 orphans due before it.
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    loop {
        let state = status(server.grpc_addr, &id).await;
        let expires = state.expires_at.map_or(0, |t| t.seconds);
        if expires > chrono::Utc::now().timestamp() + 600 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other integration's connection was not refreshed in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The orphans are closed, each with an event, and never sent to the provider.
    for orphan in orphans.iter().step_by(60) {
        crate::helpers::wait_until(orphan, Duration::from_secs(10), || async {
            status(server.grpc_addr, orphan).await.status == ConnectionStatus::Revoked as i32
        })
        .await;
    }
    assert_eq!(provider.token_calls_of("refresh_token"), 1);
    store.close().await;
    server.stop().await;
    mode.cleanup().await;
}

/// The stable reason and metadata a refusal carries (`google.rpc.ErrorInfo`).
fn error_info(status: &tonic::Status) -> (String, std::collections::HashMap<String, String>) {
    use tonic_types::StatusExt;
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo on {status:?}"));
    assert_eq!(info.domain, "latchkey.dev");
    (info.reason, info.metadata)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_a_stable_reason_and_unavailable_a_time_to_try_again() {
    use latchkey_proto::v1::{DeleteConnectionRequest, RevokeConnectionRequest};
    use tonic_types::StatusExt;
    let provider = provider().await;
    let mode = Mode::embedded();
    let (server, revoked) = connected(&mode, &provider, |_| {}).await;
    let addr = server.grpc_addr;
    let integration_id = status(addr, &revoked).await.integration_id;
    let deleted = connect(&server, &integration_id, &provider).await;
    let reauthorize = connect(&server, &integration_id, &provider).await;
    let backing_off = connect(&server, &integration_id, &provider).await;
    let mut connections = client(addr).await;
    connections
        .revoke_connection(RevokeConnectionRequest {
            connection_id: revoked.clone(),
            reason: "test".to_owned(),
        })
        .await
        .unwrap();
    connections
        .delete_connection(DeleteConnectionRequest {
            connection_id: deleted.clone(),
        })
        .await
        .unwrap();
    provider.fail_next(400, r#"{"error":"invalid_grant"}"#, None);
    // The call whose refresh cost the grant says so itself, as every later call does.
    let lost = refresh(addr, &reauthorize).await.unwrap_err();
    assert_eq!(lost.code(), Code::FailedPrecondition, "{lost:?}");
    let (reason, metadata) = error_info(&lost);
    assert_eq!(reason, "REAUTHORIZATION_REQUIRED", "{lost:?}");
    assert_eq!(metadata.get("connection_id"), Some(&reauthorize));
    assert_eq!(
        metadata.get("error").map(String::as_str),
        Some("invalid_grant")
    );
    provider.fail_next(503, r#"{"error":"temporarily_unavailable"}"#, Some(120));
    let unavailable = refresh(addr, &backing_off).await.unwrap_err();
    assert_eq!(unavailable.code(), Code::Unavailable);
    assert_eq!(error_info(&unavailable).0, "PROVIDER_UNAVAILABLE");

    let refused = token(addr, &revoked, 1).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let (reason, metadata) = error_info(&refused);
    assert_eq!(reason, "REVOKED");
    assert_eq!(metadata.get("connection_id"), Some(&revoked));

    let gone = token(addr, &deleted, 1).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    assert_eq!(error_info(&gone).0, "DELETED");

    let again = token(addr, &reauthorize, 1).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    let (reason, metadata) = error_info(&again);
    assert_eq!(reason, "REAUTHORIZATION_REQUIRED");
    assert_eq!(
        metadata.get("error").map(String::as_str),
        Some("invalid_grant")
    );

    // Asking for more than is left while the refresh backs off: the wait, and when it ends.
    let waiting = token(addr, &backing_off, 3600).await.unwrap_err();
    assert_eq!(waiting.code(), Code::Unavailable);
    let (reason, metadata) = error_info(&waiting);
    assert_eq!(reason, "REFRESH_BACKOFF");
    assert_eq!(
        metadata.get("error").map(String::as_str),
        Some("temporarily_unavailable")
    );
    let retry = waiting
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(
        (Duration::from_secs(60)..=Duration::from_secs(121)).contains(&retry),
        "{retry:?}"
    );
    server.stop().await;
    mode.cleanup().await;
}

/// A replica killed mid-refresh leaves its lease until it runs out; another replica asked to
/// refresh the connection waits for that lease, but a SIGTERM does not: it exits within the
/// provider timeout, and the waiting caller is told to try again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_does_not_wait_on_a_dead_replicas_lease() {
    let provider = provider().await;
    let mode = Mode::postgres().await;
    let env = [
        LOOPBACK,
        NO_REFRESHER,
        ("LATCHKEY_PROVIDER_TIMEOUT", "5"),
        ("LATCHKEY_REFRESH_LEASE", "120"),
    ];
    let one = Server::start_with(&mode, &env).await;
    let integration_id = integration(&one, password_integration(&provider), &provider).await;
    let id = connect(&one, &integration_id, &provider).await;
    provider.set_quirks(Quirks {
        answer_delay: Duration::from_secs(30),
        ..Default::default()
    });
    let _lost = refresh_behind(one.grpc_addr, &id);
    crate::helpers::wait_until(
        "replica one's refresh at the provider",
        Duration::from_secs(10),
        || {
            let calls = provider.token_calls_of("refresh_token");
            async move { calls == 1 }
        },
    )
    .await;
    one.kill().await;
    provider.set_quirks(Quirks::default());

    let two = Server::start_with(&mode, &env).await;
    let waiting = refresh_behind(two.grpc_addr, &id);
    crate::helpers::wait_until(
        "replica two waiting for the dead replica's lease",
        Duration::from_secs(10),
        || {
            let waits = two
                .stderr()
                .contains("waiting for another replica's refresh");
            async move { waits }
        },
    )
    .await;
    let signalled = std::time::Instant::now();
    let (exit, stderr) = two.stop().await;
    let took = signalled.elapsed();
    assert!(exit.success(), "{stderr}");
    assert!(
        took < Duration::from_secs(5),
        "exited {took:?} after SIGTERM; the dead replica's lease lasts 120 s"
    );
    let answer = waiting.await.unwrap().unwrap_err();
    assert_eq!(answer.code(), Code::Unavailable, "{answer:?}");
    mode.cleanup().await;
}

/// The event types of a connection's stream, in order.
async fn types(server: &Server, id: &str) -> Vec<String> {
    crate::helpers::history(server, id)
        .await
        .into_iter()
        .map(|e| e.r#type)
        .collect()
}

async fn by_health(
    server: &Server,
    health: ConnectionHealth,
    before: Option<prost_types::Timestamp>,
) -> Result<Vec<String>, tonic::Status> {
    let listed = client(server.grpc_addr)
        .await
        .list_connections(ListConnectionsRequest {
            health: health as i32,
            failing_since_before: before,
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(listed
        .connections
        .into_iter()
        .map(|c| c.connection_id)
        .collect())
}

/// A provider outage: the first failed refresh records `connection_failing` (once, however many
/// fail), the first refresh after it `connection_recovered`; meanwhile `ListConnections` by
/// health, `latchkey connections failing` and the metrics name exactly the failing connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_outage_is_told_as_failing_then_recovered_and_listed_by_health() {
    let provider = provider().await;
    let mode = Mode::embedded();
    let (server, id) = connected(&mode, &provider, |_| {}).await;
    let integration_id = status(server.grpc_addr, &id).await.integration_id;
    let healthy = connect(&server, &integration_id, &provider).await;

    provider.set_quirks(Quirks {
        token_override: Some((503, r#"{"error":"temporarily_unavailable"}"#.to_owned())),
        ..Default::default()
    });
    for _ in 0..2 {
        let refused = refresh(server.grpc_addr, &id).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unavailable);
    }
    let failing = status(server.grpc_addr, &id).await;
    let since = failing.failing_since.unwrap();
    assert_eq!(
        by_health(&server, ConnectionHealth::Failing, None)
            .await
            .unwrap(),
        std::slice::from_ref(&id)
    );
    assert_eq!(
        by_health(&server, ConnectionHealth::Healthy, None)
            .await
            .unwrap(),
        std::slice::from_ref(&healthy)
    );
    let mut later = since;
    later.seconds += 1;
    assert_eq!(
        by_health(&server, ConnectionHealth::Unspecified, Some(later))
            .await
            .unwrap(),
        std::slice::from_ref(&id),
        "failing since before a time implies failing"
    );
    assert!(
        by_health(&server, ConnectionHealth::Failing, Some(since))
            .await
            .unwrap()
            .is_empty(),
        "not failing since before its own first failure"
    );
    let contradiction = by_health(&server, ConnectionHealth::Healthy, Some(later))
        .await
        .unwrap_err();
    assert_eq!(contradiction.code(), Code::InvalidArgument);
    assert!(
        contradiction.message().contains("failing_since_before"),
        "{contradiction:?}"
    );

    let (_, metrics) = server.admin_get("/metrics").await.unwrap();
    let series = format!(
        "latchkey_connections_failing{{integration_id=\"{integration_id}\",reason=\"temporarily_unavailable\"}} 1"
    );
    assert!(metrics.contains(&series), "{series} in:\n{metrics}");
    let dir = latchkey_store::testing::TempDir::create();
    let env = [(
        "LATCHKEY_SERVER".to_owned(),
        format!("http://{}", server.grpc_addr),
    )];
    let out = crate::helpers::command(&["connections", "failing"], &env, &dir.path)
        .output()
        .await
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{table}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<&str> = table.lines().collect();
    assert!(
        rows[0].starts_with("CONNECTION") && rows[0].contains("FAILING SINCE"),
        "{table}"
    );
    assert_eq!(rows.len(), 2, "{table}");
    assert!(
        rows[1].contains(&id) && rows[1].contains("temporarily_unavailable"),
        "{table}"
    );

    provider.set_quirks(Quirks::default());
    refresh(server.grpc_addr, &id).await.unwrap();
    let seen = types(&server, &id).await;
    let tail: Vec<&str> = seen
        .iter()
        .rev()
        .take(5)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "refresh_failed",
            "connection_failing",
            "refresh_failed",
            "refreshed",
            "connection_recovered"
        ],
        "{seen:?}"
    );
    assert!(
        by_health(&server, ConnectionHealth::Failing, None)
            .await
            .unwrap()
            .is_empty()
    );
    let (_, metrics) = server.admin_get("/metrics").await.unwrap();
    assert!(
        !metrics.contains("latchkey_connections_failing{"),
        "{metrics}"
    );
    server.stop().await;
    mode.cleanup().await;
}
