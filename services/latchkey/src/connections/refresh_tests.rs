//! Unit tests of the refresh path: the lease, the in-doubt token, single-flight.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use latchkey_crypto::{Keyring, MasterKey, Sealer};
use latchkey_domain::connection::{Status, TokenSet};
use latchkey_domain::integration::{
    ClientAuthenticationInput, EndpointsInput, IntegrationConfigInput,
};
use latchkey_domain::{DomainEvent, IntegrationId, Sealed, StreamId, TenantId};
use latchkey_oauth::{HttpPolicy, ProviderClient};
use latchkey_store::testing::TempDir;
use latchkey_store::{EventContext, EventStore, SqliteStore};
use secrecy::SecretString;
use tokio_util::task::TaskTracker;

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use latchkey_domain::connection::refresh;
use latchkey_domain::connection::refresh_token::Sent;
use latchkey_domain::{ConnectionId, GrantType, integration};
use latchkey_store::Lease;

use super::*;
use crate::cache::ProjectionCache;
use crate::config::MasterKeySource;
use crate::connections::ConnectionSettings;
use crate::vault::Vault;

fn context() -> EventContext {
    EventContext {
        actor: "test".to_owned(),
        correlation_id: None,
        occurred_at: Utc::now(),
    }
}

fn tokens(refresh: u8, expires_in: Duration) -> TokenSet {
    TokenSet {
        access_token: Sealed::from_bytes(vec![1]),
        refresh_token: Some(Sealed::from_bytes(vec![refresh])),
        token_type: "Bearer".to_owned(),
        expires_at: Some(Utc::now() + expires_in),
        scopes: vec![],
        metadata: BTreeMap::new(),
        refresh_at: None,
        refresh_token_expires_at: None,
    }
}

/// A store with one integration whose token endpoint no test may reach (an attempt to call it
/// fails as a network error, not as what the tests expect), and one active connection.
async fn given_a_connection(
    expires_in: Duration,
) -> (TempDir, Arc<dyn EventStore>, Connections, ConnectionId) {
    let dir = TempDir::create();
    let store: Arc<dyn EventStore> = Arc::new(
        SqliteStore::open(&dir.path.join("refresh.db"))
            .await
            .expect("store"),
    );
    let integration_id = IntegrationId::new_v7();
    let config = IntegrationConfigInput {
        name: "P".to_owned(),
        grant_type: "client_credentials".to_owned(),
        endpoints: EndpointsInput {
            token_url: "https://token.invalid/token".to_owned(),
            ..Default::default()
        },
        client: ClientAuthenticationInput {
            client_id: "c".to_owned(),
            ..Default::default()
        },
        ..Default::default()
    }
    .parse()
    .expect("config");
    let created = integration::decide(
        None,
        integration::Command::Create {
            integration_id,
            config,
            client_secret: None,
            webhook_secret: None,
            owner: None,
        },
    )
    .expect("integration");
    store
        .append(
            StreamId::Integration(integration_id),
            0,
            created.into_iter().map(DomainEvent::from).collect(),
            &context(),
        )
        .await
        .expect("append integration");
    let id = ConnectionId::new_v7();
    let mut events = connection::decide(
        None,
        connection::Command::Create {
            connection_id: id,
            integration_id,
            tenant: TenantId::parse("acme").expect("tenant"),
            grant_type: GrantType::ClientCredentials,
        },
    )
    .expect("create");
    let meta = latchkey_domain::EventMeta {
        version: 1,
        occurred_at: Utc::now(),
    };
    let state = connection::apply(None, &events[0], &meta);
    events.extend(
        connection::decide(
            state.as_ref(),
            connection::Command::Authorize {
                grant_type: GrantType::ClientCredentials,
                tokens: tokens(2, expires_in),
                credentials: None,
                now: Utc::now(),
                provider_account_id: None,
                via: None,
                grant: None,
            },
        )
        .expect("authorize"),
    );
    // Authorized an hour ago: the provider's tokens last long, whatever is left of this one.
    let an_hour_ago = EventContext {
        occurred_at: Utc::now() - Duration::hours(1),
        ..context()
    };
    store
        .append(
            StreamId::Connection(id),
            0,
            events.into_iter().map(DomainEvent::from).collect(),
            &an_hour_ago,
        )
        .await
        .expect("append connection");
    let keyring = Keyring::from_keys(vec![MasterKey::generate()]).expect("keyring");
    let vault = Arc::new(Vault::new(
        store.clone(),
        MasterKeySource::Env(SecretString::from("unused")),
        Sealer::new(keyring),
    ));
    // The connection's data key exists (its bogus sealed tokens then fail to open, as a
    // corrupted secret would).
    vault
        .seal(
            &StreamId::Connection(id),
            latchkey_crypto::Field::AccessToken,
            &SecretString::from("unused"),
        )
        .await
        .expect("data key");
    let connections = Connections::new(
        store.clone(),
        vault,
        ProviderClient::new(HttpPolicy::default()).expect("client"),
        ProjectionCache::of(store.as_ref(), crate::cache::DEFAULT_BUDGET_BYTES),
        TaskTracker::new(),
        tokio_util::sync::CancellationToken::new(),
        ConnectionSettings {
            callback_url: "https://latchkey.example/oauth/callback".to_owned(),
            authorization_ttl: StdDuration::from_secs(600),
            refresh_rate: NonZeroU32::MIN,
            refresh_lease: StdDuration::from_secs(60),
            provider_timeout: StdDuration::from_secs(10),
            return_url_origins: Vec::new(),
        },
    );
    (dir, store, connections, id)
}

#[tokio::test]
async fn a_refresh_token_sent_by_an_attempt_cut_short_is_not_sent_again() {
    let (dir, store, connections, id) = given_a_connection(Duration::hours(1)).await;
    // Another replica took the lease, sent refresh token 2 and died before committing.
    let then = Utc::now() - Duration::minutes(2);
    let lease = store
        .acquire_refresh_lease(id, "crashed", then, then + Duration::minutes(1))
        .await
        .expect("lease");
    assert!(matches!(lease, Lease::Acquired { .. }));
    let sent = Sent {
        digest: super::super::digest(&Sealed::from_bytes(vec![2])),
        since: then,
    };
    assert!(
        store
            .record_refresh_attempt(id, "crashed", &sent, then + Duration::minutes(1))
            .await
            .expect("attempt")
    );

    let answer = connections.ensure_fresh(id, Need::Force).await;

    match answer {
        Err(e) if e.kind() == crate::error::ErrorKind::FailedPrecondition => {
            assert!(e.to_string().contains("refresh_interrupted"), "{e}")
        }
        other => panic!("expected refresh_interrupted, got {other:?}"),
    }
    let state = connections.connection_state(id).await.expect("state");
    assert_eq!(state.status, Status::ReauthorizationRequired);
    assert_eq!(
        state.last_error.as_ref().map(|e| e.code.as_str()),
        Some("refresh_interrupted")
    );
    store.close().await;
    dir.remove();
}

#[tokio::test]
async fn a_refresh_waits_for_another_replicas_lease_and_uses_what_it_committed() {
    let (dir, store, connections, id) = given_a_connection(Duration::seconds(10)).await;
    let now = Utc::now();
    let lease = store
        .acquire_refresh_lease(id, "other", now, now + Duration::minutes(1))
        .await
        .expect("lease");
    assert!(matches!(lease, Lease::Acquired { .. }));
    let caller = connections.ensure_fresh(id, Need::MinTtl(Duration::minutes(5)));
    let other_replica = async {
        // The caller is in the lease loop (the token lasts 10 s, it asks for 5 minutes).
        tokio::time::sleep(StdDuration::from_millis(120)).await;
        assert!(
            connections.refreshing(id),
            "single-flight holds the connection"
        );
        // The other replica commits its refresh (new refresh token 3, an hour), lets go.
        let current = connections.connection_state(id).await.expect("state");
        let refreshed = connection::decide(
            Some(&current),
            connection::Command::Refresh {
                tokens: tokens(3, Duration::hours(1)),
            },
        )
        .expect("refresh");
        store
            .append(
                StreamId::Connection(id),
                current.version,
                refreshed.into_iter().map(DomainEvent::from).collect(),
                &context(),
            )
            .await
            .expect("append refresh");
        store
            .release_refresh_lease(id, "other", false)
            .await
            .expect("release");
        current.version
    };
    let (answer, before) = tokio::join!(caller, other_replica);
    let state = answer.expect("fresh");

    assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![3])));
    assert_eq!(state.version, before + 1, "no second refresh");
    assert!(!connections.refreshing(id));
    store.close().await;
    dir.remove();
}

#[tokio::test]
async fn a_scheduled_refresh_that_fails_before_recording_leaves_the_due_queue_for_its_backoff() {
    // Expired, so due; its refresh token does not open, so the refresh fails before any answer.
    let (dir, store, connections, id) = given_a_connection(Duration::seconds(-1)).await;
    let due = connections.connection_state(id).await.expect("state");
    assert!(!refresh::satisfied(&due, Need::Due, Utc::now()), "due");

    connections.refresh_due(id).await;

    let deferred = connections.connection_state(id).await.expect("state");
    assert!(
        refresh::satisfied(&deferred, Need::Due, Utc::now()),
        "not due again until its backoff: {:?}",
        deferred.refresh_at
    );
    let error = deferred.last_error.as_ref().expect("recorded");
    assert_eq!(error.code, "internal_error");
    assert!(error.retryable);
    assert_eq!(
        deferred.status,
        Status::Expired,
        "and expired, past its expiry"
    );
    store.close().await;
    dir.remove();
}
