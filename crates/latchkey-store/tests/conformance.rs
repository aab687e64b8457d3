//! One conformance suite for every event store adapter: the same tests, run against Postgres and
//! SQLite through the `EventStore` port.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used, clippy::large_enum_variant)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use latchkey_domain::connection::refresh_token::Sent;
use latchkey_domain::integration::{
    self, ClientAuthenticationInput, EndpointsInput, IntegrationConfigInput,
};
use latchkey_domain::{
    ConnectionId, DomainEvent, EventMeta, GrantType, IntegrationId, Sealed, SealedSecret, StreamId,
    SystemStream, TenantId, connection, system,
};
use latchkey_store::testing::{PgTestDatabase, TempDir};
use latchkey_store::{
    ApiKeyRecord, ArchiveSink, ConnectionFilter, Cursor, EventContext, EventLog, EventStore,
    GENESIS_HASH, Invalidation, Lease, Page, PgStore, Projections, RecordedEvent, RefreshSchedule,
    SqliteStore, StoreError, TokenReads,
};
use tokio::sync::Barrier;

/// A store under test, with raw SQL access to check what the database itself refuses.
struct Harness {
    store: Arc<dyn EventStore>,
    raw: Raw,
    cleanup: Cleanup,
}

enum Raw {
    Pg(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

enum Cleanup {
    Pg(PgTestDatabase),
    Dir(TempDir),
}

impl Raw {
    async fn execute(&self, sql: &str) -> Result<u64, String> {
        match self {
            Raw::Pg(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string()),
            Raw::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string()),
        }
    }

    async fn count_events(&self) -> i64 {
        let sql = "SELECT COUNT(*) FROM events";
        match self {
            Raw::Pg(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        }
    }

    async fn projection_json(&self, table: &str, id: &str) -> Option<String> {
        match self {
            Raw::Pg(pool) => {
                sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1::uuid"))
                    .bind(id)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
            }
            Raw::Sqlite(pool) => {
                sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
            }
        }
    }
}

impl Harness {
    async fn postgres() -> Self {
        let db = PgTestDatabase::create().await;
        let store = PgStore::connect(&db.url, 20)
            .await
            .expect("connect to test database");
        Self {
            raw: Raw::Pg(store.pool().clone()),
            store: Arc::new(store),
            cleanup: Cleanup::Pg(db),
        }
    }

    async fn sqlite() -> Self {
        let dir = TempDir::create();
        let store = SqliteStore::open(&dir.path.join("latchkey.db"))
            .await
            .expect("open sqlite");
        Self {
            raw: Raw::Sqlite(store.pool().clone()),
            store: Arc::new(store),
            cleanup: Cleanup::Dir(dir),
        }
    }

    async fn finish(self) {
        match (self.raw, self.cleanup) {
            (Raw::Pg(pool), Cleanup::Pg(db)) => {
                pool.close().await;
                db.drop_database().await;
            }
            (Raw::Sqlite(pool), Cleanup::Dir(dir)) => {
                pool.close().await;
                dir.remove();
            }
            _ => unreachable!(),
        }
    }
}

fn ctx() -> EventContext {
    EventContext {
        actor: "admin".to_owned(),
        correlation_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".to_owned()),
        occurred_at: Utc::now(),
    }
}

fn config(name: &str) -> latchkey_domain::IntegrationConfig {
    IntegrationConfigInput {
        name: name.to_owned(),
        grant_type: "authorization_code".to_owned(),
        scopes: vec!["read".to_owned()],
        endpoints: EndpointsInput {
            authorization_url: "https://provider.example/authorize".to_owned(),
            token_url: "https://provider.example/token".to_owned(),
            ..Default::default()
        },
        client: ClientAuthenticationInput {
            client_id: "client-1".to_owned(),
            ..Default::default()
        },
        ..Default::default()
    }
    .parse()
    .expect("valid config")
}

fn integration_created(id: IntegrationId, name: &str) -> DomainEvent {
    integration::Event::IntegrationCreated {
        integration_id: id,
        config: config(name),
        client_secret: Some(SealedSecret {
            sealed: Sealed::from_bytes(vec![9; 40]),
            fingerprint: "hmac-sha256:00".to_owned(),
        }),
        webhook_secret: None,
        owner: None,
    }
    .into()
}

fn connection_created(id: ConnectionId, tenant: &str) -> DomainEvent {
    connection::Event::ConnectionCreated {
        connection_id: id,
        integration_id: IntegrationId::new_v7(),
        tenant: TenantId::parse(tenant).unwrap(),
        grant_type: GrantType::ClientCredentials,
    }
    .into()
}

fn authorized(n: u8) -> DomainEvent {
    authorized_as(n, None)
}

fn authorized_as(n: u8, account: Option<&str>) -> DomainEvent {
    connection::Event::Authorized {
        grant_type: GrantType::ClientCredentials,
        tokens: connection::TokenSet {
            access_token: Sealed::from_bytes(vec![n; 32]),
            refresh_token: None,
            token_type: "Bearer".to_owned(),
            expires_at: Some(Utc::now() + Duration::hours(1)),
            scopes: vec!["read".to_owned()],
            metadata: BTreeMap::from([("instance_url".to_owned(), serde_json::json!("https://x"))]),
            refresh_at: None,
            refresh_token_expires_at: None,
        },
        credentials: None,
        provider_account_id: account.map(str::to_owned),
        via: None,
        grant: None,
    }
    .into()
}

fn refresh_failed() -> DomainEvent {
    connection::Event::RefreshFailed {
        error: "server_error".to_owned(),
        description: None,
        retryable: true,
        retry_at: None,
        attempt: 1,
    }
    .into()
}

async fn new_connection(store: &dyn EventStore, tenant: &str) -> ConnectionId {
    let id = ConnectionId::new_v7();
    store
        .append(
            StreamId::Connection(id),
            0,
            vec![connection_created(id, tenant)],
            &ctx(),
        )
        .await
        .expect("create connection");
    id
}

async fn appended_events_are_read_back_in_order_with_their_envelope(h: &Harness) {
    let id = ConnectionId::new_v7();
    let stream = StreamId::Connection(id);
    let context = ctx();
    let created = connection_created(id, "acme");
    let first = h
        .store
        .append(stream, 0, vec![created.clone(), authorized(1)], &context)
        .await
        .unwrap();
    let second = h
        .store
        .append(stream, 2, vec![refresh_failed()], &context)
        .await
        .unwrap();
    let read = h.store.read_stream(stream, 1, 100).await.unwrap();
    let appended: Vec<RecordedEvent> = first.into_iter().chain(second).collect();
    assert_eq!(read, appended);
    let versions: Vec<u64> = read.iter().map(|e| e.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    let types: Vec<&str> = read.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["connection_created", "authorized", "refresh_failed"]
    );
    assert!(read.windows(2).all(|w| w[0].position < w[1].position));
    let e = &read[0];
    assert_eq!(e.actor, "admin");
    assert_eq!(
        e.correlation_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(e.tenant.as_ref().map(|t| t.as_str()), Some("acme"));
    assert_eq!(e.schema_version, 1);
    assert_eq!(e.event_id.get_version_num(), 7);
    assert_eq!(e.event().unwrap(), created);
    let from_two = h.store.read_stream(stream, 2, 100).await.unwrap();
    assert_eq!(from_two.len(), 2);
    assert_eq!(h.store.read_stream(stream, 1, 1).await.unwrap().len(), 1);
}

async fn the_projection_is_updated_with_the_append(h: &Harness) {
    let id = new_connection(h.store.as_ref(), "acme").await;
    let state = h.store.connection(id).await.unwrap().expect("projected");
    assert_eq!(state.status, connection::Status::Pending);
    assert_eq!(state.version, 1);
    h.store
        .append(StreamId::Connection(id), 1, vec![authorized(7)], &ctx())
        .await
        .unwrap();
    let state = h.store.connection(id).await.unwrap().unwrap();
    assert_eq!(state.status, connection::Status::Active);
    assert_eq!(state.version, 2);
    assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![7; 32])));

    let iid = IntegrationId::new_v7();
    h.store
        .append(
            StreamId::Integration(iid),
            0,
            vec![integration_created(iid, "Salesforce")],
            &ctx(),
        )
        .await
        .unwrap();
    let integration = h.store.integration(iid).await.unwrap().unwrap();
    assert_eq!(integration.config.name.as_str(), "Salesforce");
    assert_eq!(integration.version, 1);
    assert!(
        h.store
            .integration(IntegrationId::new_v7())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .connection(ConnectionId::new_v7())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_stale_expected_version_is_a_conflict_and_changes_nothing(h: &Harness) {
    let id = new_connection(h.store.as_ref(), "acme").await;
    let stream = StreamId::Connection(id);
    let before = h.raw.count_events().await;
    for expected in [0, 2, 5] {
        let err = h
            .store
            .append(stream, expected, vec![authorized(1)], &ctx())
            .await
            .unwrap_err();
        match err {
            StoreError::Conflict {
                expected: e,
                actual,
                ..
            } => {
                assert_eq!((e, actual), (expected, 1));
            }
            other => panic!("expected a conflict, got {other}"),
        }
    }
    assert_eq!(h.raw.count_events().await, before);
    assert_eq!(h.store.connection(id).await.unwrap().unwrap().version, 1);
}

async fn sixteen_concurrent_appends_at_one_version_have_exactly_one_winner(h: &Harness) {
    let id = new_connection(h.store.as_ref(), "acme").await;
    let stream = StreamId::Connection(id);
    for round in 1..=4u64 {
        let barrier = Arc::new(Barrier::new(16));
        let tasks: Vec<_> = (0..16u8)
            .map(|n| {
                let store = h.store.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .append(stream, round, vec![authorized(n)], &ctx())
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(events) => {
                    wins += 1;
                    assert_eq!(events[0].version, round + 1);
                }
                Err(StoreError::Conflict { .. }) => {}
                Err(other) => panic!("round {round}: unexpected error {other}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
    let events = h.store.read_stream(stream, 1, 100).await.unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(h.store.connection(id).await.unwrap().unwrap().version, 5);
}

async fn many_streams_written_in_parallel_keep_their_own_order(h: &Harness) {
    let streams = 12;
    let per_stream = 8u64;
    let tasks: Vec<_> = (0..streams)
        .map(|i| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let id = ConnectionId::new_v7();
                let stream = StreamId::Connection(id);
                let tenant = format!("tenant-{}", i % 3);
                store
                    .append(stream, 0, vec![connection_created(id, &tenant)], &ctx())
                    .await?;
                store.append(stream, 1, vec![authorized(1)], &ctx()).await?;
                for v in 2..per_stream {
                    store
                        .append(stream, v, vec![refresh_failed()], &ctx())
                        .await?;
                }
                Ok::<_, StoreError>(id)
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap());
    }
    let all = h.store.read_all(1, 1000).await.unwrap();
    assert_eq!(all.len(), streams * per_stream as usize);
    let positions: HashSet<i64> = all.iter().map(|e| e.position).collect();
    assert_eq!(positions.len(), all.len(), "positions are unique");
    assert!(all.windows(2).all(|w| w[0].position < w[1].position));
    for id in ids {
        let versions: Vec<u64> = all
            .iter()
            .filter(|e| e.stream_id == StreamId::Connection(id))
            .map(|e| e.version)
            .collect();
        assert_eq!(versions, (1..=per_stream).collect::<Vec<_>>());
    }
}

/// `n` new connections, each at version 1.
async fn new_connections(store: &dyn EventStore, n: usize) -> Vec<ConnectionId> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(new_connection(store, "acme").await);
    }
    ids
}

/// One append per connection, all let go at the same moment; each one's answer, in order.
/// `append` gives the expected version and the event for the i-th connection.
async fn append_at_once(
    store: &Arc<dyn EventStore>,
    ids: &[ConnectionId],
    append: impl Fn(usize) -> (u64, DomainEvent),
) -> Vec<Result<Vec<RecordedEvent>, StoreError>> {
    let barrier = Arc::new(Barrier::new(ids.len()));
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (store, barrier) = (store.clone(), barrier.clone());
            let (version, event) = append(i);
            let stream = StreamId::Connection(*id);
            tokio::spawn(async move {
                barrier.wait().await;
                store.append(stream, version, vec![event], &ctx()).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// Appends that overlap may be written together (Postgres commits them as a group): each still
/// gets its own answer, and a stale or unfitting one fails alone.
async fn overlapping_appends_to_many_streams_each_get_their_own_answer(h: &Harness) {
    let n = 48;
    let ids = new_connections(h.store.as_ref(), n).await;
    let results = append_at_once(&h.store, &ids, |i| match i % 6 {
        // Stale: the stream is at version 1.
        0 => (0, refresh_failed()),
        // Not an event of a connection stream.
        1 => (1, integration_created(IntegrationId::new_v7(), "x")),
        _ => (1, refresh_failed()),
    })
    .await;
    let mut written = 0;
    for (i, (result, id)) in results.into_iter().zip(&ids).enumerate() {
        let stored = h
            .store
            .read_stream(StreamId::Connection(*id), 1, 10)
            .await
            .unwrap();
        let projection = h.store.connection(*id).await.unwrap().unwrap();
        match (i % 6, result) {
            (
                0,
                Err(StoreError::Conflict {
                    expected: 0,
                    actual: 1,
                    ..
                }),
            )
            | (1, Err(StoreError::InvalidEvents { .. })) => {
                assert_eq!(stored.len(), 1, "stream {i}: nothing added");
                assert_eq!(projection.version, 1);
            }
            (2.., Ok(recorded)) => {
                written += 1;
                assert_eq!(stored.len(), 2, "stream {i}");
                assert_eq!(
                    recorded,
                    stored[1..],
                    "stream {i}: the answer is what is stored"
                );
                assert_eq!(recorded[0].prev_hash, stored[0].hash);
                assert_eq!(projection.version, 2);
                assert!(
                    projection.last_error.is_some(),
                    "stream {i}: projection updated"
                );
            }
            (_, other) => panic!("stream {i}: unexpected {other:?}"),
        }
    }
    assert_eq!(written, n / 6 * 4);
    assert_eq!(h.raw.count_events().await, (n + written) as i64);
}

async fn read_all_pages_from_any_position(h: &Harness) {
    for _ in 0..5 {
        new_connection(h.store.as_ref(), "acme").await;
    }
    let all = h.store.read_all(0, 1000).await.unwrap();
    assert_eq!(all.len(), 5);
    let page = h.store.read_all(all[2].position, 2).await.unwrap();
    assert_eq!(page, all[2..4].to_vec());
    assert!(
        h.store
            .read_all(all[4].position + 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn each_stream_is_hash_chained(h: &Harness) {
    let id = ConnectionId::new_v7();
    let stream = StreamId::Connection(id);
    h.store
        .append(
            stream,
            0,
            vec![connection_created(id, "acme"), authorized(1)],
            &ctx(),
        )
        .await
        .unwrap();
    h.store
        .append(stream, 2, vec![refresh_failed()], &ctx())
        .await
        .unwrap();
    let events = h.store.read_stream(stream, 1, 100).await.unwrap();
    assert_eq!(events[0].prev_hash, GENESIS_HASH.to_vec());
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    for event in &events {
        assert_eq!(
            event.computed_hash(),
            event.hash,
            "version {}",
            event.version
        );
    }
    let mut edited = events[1].clone();
    edited.payload = edited.payload.replace("Bearer", "bearer");
    assert_ne!(edited.computed_hash(), edited.hash);
}

async fn replaying_a_stream_gives_the_stored_projection_byte_for_byte(h: &Harness) {
    let id = ConnectionId::new_v7();
    let stream = StreamId::Connection(id);
    h.store
        .append(
            stream,
            0,
            vec![connection_created(id, "acme"), authorized(1)],
            &ctx(),
        )
        .await
        .unwrap();
    h.store
        .append(stream, 2, vec![refresh_failed(), authorized(2)], &ctx())
        .await
        .unwrap();
    let events = h.store.read_stream(stream, 1, 100).await.unwrap();
    let replayed = events.iter().fold(None, |state, recorded| {
        let meta = EventMeta {
            version: recorded.version,
            occurred_at: recorded.occurred_at,
        };
        match recorded.event().unwrap() {
            DomainEvent::Connection(e) => connection::apply(state, &e, &meta),
            DomainEvent::Integration(_) | DomainEvent::System(_) | DomainEvent::Session(_) => {
                unreachable!()
            }
        }
    });
    let stored = h
        .raw
        .projection_json("connections", &id.to_string())
        .await
        .unwrap();
    assert_eq!(serde_json::to_string(&replayed.unwrap()).unwrap(), stored);
}

async fn the_database_refuses_update_delete_and_truncate_of_events(h: &Harness) {
    new_connection(h.store.as_ref(), "acme").await;
    let before = h.raw.count_events().await;
    for sql in [
        "UPDATE events SET actor = 'mallory'",
        "DELETE FROM events",
        "DELETE FROM events WHERE version = 1",
        "TRUNCATE events",
    ] {
        let err = h.raw.execute(sql).await.expect_err(sql);
        assert!(
            err.contains("append-only") || sql.starts_with("TRUNCATE"),
            "{sql}: {err}"
        );
    }
    if let Raw::Pg(_) = h.raw {
        let err = h.raw.execute("TRUNCATE events").await.unwrap_err();
        assert!(err.contains("append-only: TRUNCATE refused"), "{err}");
    }
    assert_eq!(h.raw.count_events().await, before);
    let events = h.store.read_all(0, 10).await.unwrap();
    assert_eq!(events[0].actor, "admin");
}

async fn integration_names_are_unique_among_live_integrations(h: &Harness) {
    let first = IntegrationId::new_v7();
    h.store
        .append(
            StreamId::Integration(first),
            0,
            vec![integration_created(first, "Google")],
            &ctx(),
        )
        .await
        .unwrap();
    let second = IntegrationId::new_v7();
    let err = h
        .store
        .append(
            StreamId::Integration(second),
            0,
            vec![integration_created(second, "Google")],
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::DuplicateName(n) if n == "Google"),
        "{err}"
    );
    assert!(
        h.store
            .read_stream(StreamId::Integration(second), 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    h.store
        .append(
            StreamId::Integration(first),
            1,
            vec![integration::Event::IntegrationDeleted {}.into()],
            &ctx(),
        )
        .await
        .unwrap();
    h.store
        .append(
            StreamId::Integration(second),
            0,
            vec![integration_created(second, "Google")],
            &ctx(),
        )
        .await
        .expect("a deleted integration's name is free again");
    let listed = h.store.list_integrations(Page::first(10)).await.unwrap();
    assert_eq!(listed.iter().map(|i| i.id).collect::<Vec<_>>(), [second]);
}

async fn events_that_do_not_fit_the_stream_are_refused_and_nothing_is_stored(h: &Harness) {
    let id = ConnectionId::new_v7();
    let before = h.raw.count_events().await;
    let wrong_kind = h
        .store
        .append(
            StreamId::Connection(id),
            0,
            vec![integration_created(IntegrationId::new_v7(), "X")],
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(wrong_kind, StoreError::InvalidEvents { .. }),
        "{wrong_kind}"
    );
    let not_a_creation = h
        .store
        .append(StreamId::Connection(id), 0, vec![authorized(1)], &ctx())
        .await
        .unwrap_err();
    assert!(matches!(not_a_creation, StoreError::InvalidEvents { .. }));
    let other = ConnectionId::new_v7();
    let wrong_owner = h
        .store
        .append(
            StreamId::Connection(id),
            0,
            vec![connection_created(other, "acme")],
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(matches!(wrong_owner, StoreError::InvalidEvents { .. }));
    assert!(matches!(
        h.store
            .append(StreamId::Connection(id), 0, vec![], &ctx())
            .await,
        Err(StoreError::InvalidEvents { .. })
    ));
    assert_eq!(h.raw.count_events().await, before);
}

async fn connections_list_by_tenant_and_status_in_pages(h: &Harness) {
    let mut acme = Vec::new();
    for _ in 0..3 {
        acme.push(new_connection(h.store.as_ref(), "acme").await);
    }
    let globex = new_connection(h.store.as_ref(), "globex").await;
    h.store
        .append(
            StreamId::Connection(acme[1]),
            1,
            vec![authorized(1)],
            &ctx(),
        )
        .await
        .unwrap();
    let filter = ConnectionFilter {
        tenant: Some(TenantId::parse("acme").unwrap()),
        ..Default::default()
    };
    let all: Vec<_> = h
        .store
        .list_connections(&filter, Page::first(10))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(all, acme);
    let page = h
        .store
        .list_connections(
            &filter,
            Page {
                after: Some(*acme[0].as_uuid()),
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), [acme[1]]);
    let active = ConnectionFilter {
        status: Some(connection::Status::Active),
        ..Default::default()
    };
    let active: Vec<_> = h
        .store
        .list_connections(&active, Page::first(10))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(active, [acme[1]]);
    let everyone = h
        .store
        .list_connections(&ConnectionFilter::default(), Page::first(10))
        .await
        .unwrap();
    assert_eq!(everyone.len(), 4);
    assert!(everyone.iter().any(|c| c.id == globex));
}

async fn a_pending_authorization_is_found_by_its_state_digest_until_completed(h: &Harness) {
    let id = ConnectionId::new_v7();
    let stream = StreamId::Connection(id);
    let created: DomainEvent = connection::Event::ConnectionCreated {
        connection_id: id,
        integration_id: IntegrationId::new_v7(),
        tenant: TenantId::parse("acme").unwrap(),
        grant_type: GrantType::AuthorizationCode,
    }
    .into();
    let started: DomainEvent = connection::Event::AuthorizationStarted {
        authorization: connection::PendingAuthorization {
            state_digest: "digest-1".to_owned(),
            expires_at: Utc::now() + Duration::minutes(10),
            scopes: vec![],
            redirect_uri: "https://latchkey.example/oauth/callback".to_owned(),
            pkce_verifier: Some(Sealed::from_bytes(vec![3; 40])),
            return_url: None,
            correlation_id: None,
            connect_session: None,
            params: None,
            provider_url: None,
            opened_by: None,
            device: None,
        },
    }
    .into();
    h.store
        .append(stream, 0, vec![created, started], &ctx())
        .await
        .unwrap();
    let found = h
        .store
        .connection_by_state("digest-1")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.id, id);
    assert!(
        h.store
            .connection_by_state("digest-2")
            .await
            .unwrap()
            .is_none()
    );
    let failed: DomainEvent = connection::Event::AuthorizationFailed {
        error: "access_denied".to_owned(),
        description: None,
    }
    .into();
    h.store
        .append(stream, 2, vec![failed], &ctx())
        .await
        .unwrap();
    assert!(
        h.store
            .connection_by_state("digest-1")
            .await
            .unwrap()
            .is_none(),
        "a state is good for one callback"
    );
}

async fn refresh_leases_admit_one_owner_until_they_run_out(h: &Harness) {
    let id = new_connection(h.store.as_ref(), "acme").await;
    let now = Utc::now().trunc_subsecs(6);
    let until = now + Duration::seconds(30);
    let first = h
        .store
        .acquire_refresh_lease(id, "replica-a", now, until)
        .await
        .unwrap();
    assert_eq!(first, Lease::Acquired { left: None });
    let busy = h
        .store
        .acquire_refresh_lease(id, "replica-b", now, until)
        .await
        .unwrap();
    assert_eq!(busy, Lease::Busy);
    let sent = Sent {
        digest: "digest-1".to_owned(),
        since: now,
    };
    assert!(
        h.store
            .record_refresh_attempt(id, "replica-a", &sent, until)
            .await
            .unwrap()
    );
    assert!(
        !h.store
            .record_refresh_attempt(id, "replica-b", &sent, until)
            .await
            .unwrap()
    );
    assert!(
        h.store
            .renew_refresh_lease(id, "replica-a", until)
            .await
            .unwrap()
    );
    assert!(
        !h.store
            .renew_refresh_lease(id, "replica-b", until)
            .await
            .unwrap()
    );
    // replica-a dies mid-attempt: once its lease runs out, b takes over and learns of the attempt.
    let later = until + Duration::seconds(1);
    let taken = h
        .store
        .acquire_refresh_lease(id, "replica-b", later, later + Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        taken,
        Lease::Acquired {
            left: Some(sent.clone())
        }
    );
    h.store
        .release_refresh_lease(id, "replica-a", false)
        .await
        .unwrap();
    assert_eq!(
        h.store
            .acquire_refresh_lease(id, "replica-c", later, later)
            .await
            .unwrap(),
        Lease::Busy,
        "a stale owner's release does not free another's lease"
    );
    // b gets no answer: its lease ends at once and the token stays in doubt for the next holder.
    h.store
        .release_refresh_lease(id, "replica-b", true)
        .await
        .unwrap();
    assert_eq!(
        h.store
            .acquire_refresh_lease(id, "replica-c", later, later + Duration::seconds(30))
            .await
            .unwrap(),
        Lease::Acquired { left: Some(sent) }
    );
    // c settles it: the lease and what it noted go.
    h.store
        .release_refresh_lease(id, "replica-c", false)
        .await
        .unwrap();
    assert_eq!(
        h.store
            .acquire_refresh_lease(id, "replica-d", later, later)
            .await
            .unwrap(),
        Lease::Acquired { left: None }
    );
}

async fn sixteen_replicas_racing_for_one_lease_have_one_winner(h: &Harness) {
    let id = new_connection(h.store.as_ref(), "acme").await;
    let barrier = Arc::new(Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = h.store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let now = Utc::now();
                store
                    .acquire_refresh_lease(
                        id,
                        &format!("replica-{i}"),
                        now,
                        now + Duration::seconds(30),
                    )
                    .await
            })
        })
        .collect();
    let mut acquired = 0;
    for task in tasks {
        if let Lease::Acquired { .. } = task.await.unwrap().unwrap() {
            acquired += 1;
        }
    }
    assert_eq!(acquired, 1);
}

async fn connections_are_due_when_their_refresh_or_their_expiry_comes(h: &Harness) {
    let now = Utc::now();
    let with = |refresh_in: i64, expires_in: i64| {
        let id = ConnectionId::new_v7();
        let events: Vec<DomainEvent> = vec![
            connection_created(id, "acme"),
            connection::Event::Authorized {
                grant_type: GrantType::ClientCredentials,
                tokens: connection::TokenSet {
                    access_token: Sealed::from_bytes(vec![1; 32]),
                    refresh_token: None,
                    token_type: "Bearer".to_owned(),
                    expires_at: Some(now + Duration::seconds(expires_in)),
                    scopes: vec![],
                    metadata: BTreeMap::new(),
                    refresh_at: Some(now + Duration::seconds(refresh_in)),
                    refresh_token_expires_at: None,
                },
                credentials: None,
                provider_account_id: None,
                via: None,
                grant: None,
            }
            .into(),
        ];
        (id, events)
    };
    let (due, e1) = with(-5, 100);
    let (later, e2) = with(50, 100);
    let (expired, e3) = with(50, -1);
    for (id, events) in [(due, e1), (later, e2), (expired, e3)] {
        h.store
            .append(StreamId::Connection(id), 0, events, &ctx())
            .await
            .unwrap();
    }
    let until = now + Duration::minutes(1);
    let found = h
        .store
        .claim_due_refreshes(now, "replica-a", until, 10)
        .await
        .unwrap();
    let found: Vec<ConnectionId> = found.iter().map(|c| c.id).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.contains(&due) && found.contains(&expired));
    assert!(!found.contains(&later));
    // Claimed: another owner does not get them, a minute on (when all three are due) it gets
    // only the one never claimed.
    let other = h
        .store
        .claim_due_refreshes(now + Duration::seconds(55), "replica-b", until, 10)
        .await
        .unwrap();
    assert_eq!(other.iter().map(|c| c.id).collect::<Vec<_>>(), vec![later]);
}

fn token_set(now: DateTime<Utc>, refresh_in: i64) -> connection::TokenSet {
    connection::TokenSet {
        access_token: Sealed::from_bytes(vec![1; 32]),
        refresh_token: Some(Sealed::from_bytes(vec![2; 32])),
        token_type: "Bearer".to_owned(),
        expires_at: Some(now + Duration::seconds(refresh_in + 60)),
        scopes: vec![],
        metadata: BTreeMap::new(),
        refresh_at: Some(now + Duration::seconds(refresh_in)),
        refresh_token_expires_at: None,
    }
}

/// Creates `n` connections whose refresh was due a second before `now`.
async fn due_connections(h: &Harness, now: DateTime<Utc>, n: usize) -> Vec<ConnectionId> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let id = ConnectionId::new_v7();
        let events: Vec<DomainEvent> = vec![
            connection_created(id, "acme"),
            connection::Event::Authorized {
                grant_type: GrantType::ClientCredentials,
                tokens: token_set(now, -1),
                credentials: None,
                provider_account_id: None,
                via: None,
                grant: None,
            }
            .into(),
        ];
        h.store
            .append(StreamId::Connection(id), 0, events, &ctx())
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

async fn claims_run_out_are_taken_over_with_a_higher_fence_and_end_when_the_schedule_moves(
    h: &Harness,
) {
    let now = Utc::now();
    let ids = due_connections(h, now, 3).await;
    let until = now + Duration::seconds(30);
    let a = h
        .store
        .claim_due_refreshes(now, "replica-a", until, 10)
        .await
        .unwrap();
    assert_eq!(a.len(), 3);
    // The claims run out: another owner takes them over, each with a higher fence.
    let later = until + Duration::seconds(1);
    let b = h
        .store
        .claim_due_refreshes(later, "replica-b", later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(b.len(), 3);
    for claim in &b {
        let before = a.iter().find(|c| c.id == claim.id).unwrap();
        assert!(claim.fence > before.fence, "{claim:?} after {before:?}");
    }
    // The first owner's late hand-back touches nothing: the claims are the second's now.
    h.store.release_claims("replica-a", &a).await.unwrap();
    let c = h
        .store
        .claim_due_refreshes(later, "replica-c", later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert!(c.is_empty(), "{c:?}");
    // The second owner hands one back: it is claimable at once.
    let handed = b[0];
    h.store
        .release_claims("replica-b", &[handed])
        .await
        .unwrap();
    let c = h
        .store
        .claim_due_refreshes(later, "replica-c", later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), vec![handed.id]);
    // A refresh that plans the next one a second ago (a retry due now, say) ends the claim held
    // on the connection: it is due, and claimable, again.
    let refreshed = b[1].id;
    let version = h
        .store
        .read_stream(StreamId::Connection(refreshed), 1, 100)
        .await
        .unwrap()
        .len() as u64;
    h.store
        .append(
            StreamId::Connection(refreshed),
            version,
            vec![
                connection::Event::Refreshed {
                    tokens: token_set(now - Duration::seconds(5), 0),
                }
                .into(),
            ],
            &ctx(),
        )
        .await
        .unwrap();
    let d = h
        .store
        .claim_due_refreshes(later, "replica-d", later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(d.iter().map(|c| c.id).collect::<Vec<_>>(), vec![refreshed]);
    assert!(ids.contains(&refreshed));
}

async fn owners_claiming_at_once_get_disjoint_due_connections(h: &Harness) {
    let now = Utc::now();
    let ids = due_connections(h, now, 120).await;
    let until = now + Duration::minutes(1);
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = h.store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim_due_refreshes(now, &format!("replica-{i}"), until, 7)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|c| c.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: std::collections::HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a connection claimed twice");
    assert_eq!(distinct.len(), ids.len(), "every due connection claimed");
}

/// Reads the committed log until it holds `n` events: on Postgres an event shows once no older
/// transaction anywhere in the cluster is still running, which other tests' may briefly be.
async fn committed(
    store: &dyn EventStore,
    after: Cursor,
    n: usize,
) -> Vec<(Cursor, RecordedEvent)> {
    for _ in 0..200 {
        let read = store.read_committed(after, 1000).await.unwrap();
        if read.len() >= n {
            return read;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    store.read_committed(after, 1000).await.unwrap()
}

async fn the_committed_log_is_read_in_order_from_any_cursor_and_checkpoints_persist(h: &Harness) {
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id = new_connection(h.store.as_ref(), "acme").await;
        h.store
            .append(StreamId::Connection(id), 1, vec![authorized(1)], &ctx())
            .await
            .unwrap();
        ids.push(id);
    }
    let all = committed(h.store.as_ref(), Cursor::default(), 10).await;
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "cursors increase");
    for id in &ids {
        let versions: Vec<u64> = all
            .iter()
            .filter(|(_, e)| e.stream_id == StreamId::Connection(*id))
            .map(|(_, e)| e.version)
            .collect();
        assert_eq!(versions, [1, 2]);
    }
    let rest = h.store.read_committed(all[3].0, 100).await.unwrap();
    assert_eq!(rest.len(), 6);
    assert_eq!(rest[0].1, all[4].1);
    let page = h.store.read_committed(Cursor::default(), 3).await.unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(h.store.events_after(all[7].0, 100).await.unwrap(), 2);
    assert_eq!(
        h.store.events_after(Cursor::default(), 4).await.unwrap(),
        4,
        "capped"
    );

    let from = h
        .store
        .cursor_for_position(all[6].1.position)
        .await
        .unwrap();
    let tail: Vec<i64> = h
        .store
        .read_committed(from, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.position)
        .filter(|p| *p >= all[6].1.position)
        .collect();
    let expected: Vec<i64> = all[6..].iter().map(|(_, e)| e.position).collect();
    let mut sorted = tail.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "every event from that position on");

    assert_eq!(
        h.store.relay_checkpoint("relay-a").await.unwrap(),
        Cursor::default()
    );
    let ttl = std::time::Duration::from_secs(60);
    let fence = h
        .store
        .acquire_relay_lease("relay-a", "one", ttl)
        .await
        .unwrap()
        .unwrap();
    assert!(
        h.store
            .save_relay_checkpoint("relay-a", all[4].0, fence)
            .await
            .unwrap()
    );
    assert!(
        h.store
            .save_relay_checkpoint("relay-a", all[5].0, fence)
            .await
            .unwrap()
    );
    assert_eq!(h.store.relay_checkpoint("relay-a").await.unwrap(), all[5].0);
    // Never backwards.
    assert!(
        h.store
            .save_relay_checkpoint("relay-a", all[3].0, fence)
            .await
            .unwrap()
    );
    assert_eq!(h.store.relay_checkpoint("relay-a").await.unwrap(), all[5].0);
    assert_eq!(
        h.store.relay_checkpoint("relay-b").await.unwrap(),
        Cursor::default()
    );
}

async fn the_relay_lease_has_one_holder_and_fences_out_the_one_before(h: &Harness) {
    use std::time::Duration;
    let (name, long, short) = ("relay", Duration::from_secs(60), Duration::from_millis(200));
    let first = h
        .store
        .acquire_relay_lease(name, "one", short)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        h.store
            .acquire_relay_lease(name, "two", long)
            .await
            .unwrap(),
        None,
        "held"
    );
    assert!(
        h.store
            .renew_relay_lease(name, "one", first, short)
            .await
            .unwrap()
    );
    assert!(
        h.store
            .save_relay_checkpoint(
                name,
                Cursor {
                    txid: 1,
                    position: 1
                },
                first
            )
            .await
            .unwrap()
    );

    // The holder pauses past its lease; another takes it, with a higher fence.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = h
        .store
        .acquire_relay_lease(name, "two", long)
        .await
        .unwrap()
        .unwrap();
    assert!(second > first);
    // The one before can neither renew nor move the checkpoint.
    assert!(
        !h.store
            .renew_relay_lease(name, "one", first, long)
            .await
            .unwrap()
    );
    let stale = Cursor {
        txid: 9,
        position: 9,
    };
    assert!(
        !h.store
            .save_relay_checkpoint(name, stale, first)
            .await
            .unwrap()
    );
    assert_eq!(
        h.store.relay_checkpoint(name).await.unwrap(),
        Cursor {
            txid: 1,
            position: 1
        }
    );
    assert!(
        h.store
            .save_relay_checkpoint(
                name,
                Cursor {
                    txid: 2,
                    position: 2
                },
                second
            )
            .await
            .unwrap()
    );

    // A graceful stop hands over at once.
    h.store
        .release_relay_lease(name, "one", first)
        .await
        .unwrap();
    assert_eq!(
        h.store
            .acquire_relay_lease(name, "three", long)
            .await
            .unwrap(),
        None
    );
    h.store
        .release_relay_lease(name, "two", second)
        .await
        .unwrap();
    let third = h
        .store
        .acquire_relay_lease(name, "three", long)
        .await
        .unwrap()
        .unwrap();
    assert!(third > second);

    // Sixteen racing for a free lease: one wins.
    let other = "relay-race";
    let barrier = Arc::new(Barrier::new(16));
    let racers: Vec<_> = (0..16)
        .map(|i| {
            let (store, barrier) = (h.store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .acquire_relay_lease(other, &format!("r{i}"), long)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap().is_some());
    }
    assert_eq!(winners, 1);
}

async fn appends_wake_whoever_waits_for_them(h: &Harness) {
    let notify = h.store.appended();
    let waiter = tokio::spawn(async move { notify.notified().await });
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    new_connection(h.store.as_ref(), "acme").await;
    tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .expect("woken by the append")
        .unwrap();
}

async fn connections_filter_by_provider_account(h: &Harness) {
    let mut ids = Vec::new();
    let integration = IntegrationId::new_v7();
    for account in ["user-1", "user-2", "user-1"] {
        let id = ConnectionId::new_v7();
        let created = connection::Event::ConnectionCreated {
            connection_id: id,
            integration_id: integration,
            tenant: TenantId::parse("acme").unwrap(),
            grant_type: GrantType::ClientCredentials,
        };
        h.store
            .append(StreamId::Connection(id), 0, vec![created.into()], &ctx())
            .await
            .unwrap();
        h.store
            .append(
                StreamId::Connection(id),
                1,
                vec![authorized_as(1, Some(account))],
                &ctx(),
            )
            .await
            .unwrap();
        ids.push(id);
    }
    let of = |account: &str| ConnectionFilter {
        provider_account_id: Some(account.to_owned()),
        ..Default::default()
    };
    let list = |filter: ConnectionFilter| async move {
        h.store
            .list_connections(&filter, Page::first(10))
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.id, c.provider_account_id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(of("user-1")).await,
        [
            (ids[0], Some("user-1".to_owned())),
            (ids[2], Some("user-1".to_owned()))
        ]
    );
    assert_eq!(list(of("user-2")).await.len(), 1);
    assert!(list(of("user-3")).await.is_empty());
    // Within an integration, as webhook routing asks (on Postgres, lookups that overlap share a
    // statement): each gets its own account's, the first `limit` by id.
    let lookups: Vec<_> = (0..48)
        .map(|i| {
            let store = h.store.clone();
            let account = ["user-1", "user-2", "user-3"][i % 3];
            let filter = ConnectionFilter {
                integration_id: Some(integration),
                provider_account_id: Some(account.to_owned()),
                ..Default::default()
            };
            let limit = if i % 6 == 0 { 1 } else { 10 };
            tokio::spawn(async move {
                let found = store.list_connections(&filter, Page::first(limit)).await;
                let found: Vec<_> = found.unwrap().into_iter().map(|c| c.id).collect();
                (i, found)
            })
        })
        .collect();
    for lookup in lookups {
        let (i, found) = lookup.await.unwrap();
        let expected = match (i % 3, i % 6 == 0) {
            (0, true) => vec![ids[0]],
            (0, false) => vec![ids[0], ids[2]],
            (1, _) => vec![ids[1]],
            _ => vec![],
        };
        assert_eq!(found, expected, "lookup {i}");
    }
}

async fn connections_filter_by_failing(h: &Harness) {
    let failing = || -> Vec<DomainEvent> {
        vec![
            refresh_failed(),
            connection::Event::ConnectionFailing {
                error: "server_error".to_owned(),
                description: None,
            }
            .into(),
        ]
    };
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = new_connection(h.store.as_ref(), "acme").await;
        h.store
            .append(StreamId::Connection(id), 1, vec![authorized(1)], &ctx())
            .await
            .unwrap();
        ids.push(id);
    }
    h.store
        .append(StreamId::Connection(ids[0]), 2, failing(), &ctx())
        .await
        .unwrap();
    h.store
        .append(StreamId::Connection(ids[1]), 2, failing(), &ctx())
        .await
        .unwrap();
    let since = |id: ConnectionId| async move {
        h.store
            .connection(id)
            .await
            .unwrap()
            .unwrap()
            .failing_since
            .unwrap()
    };
    // The second failure is later (appends one after the other; at worst the same instant).
    let (first, second) = (since(ids[0]).await, since(ids[1]).await);
    assert!(first <= second);
    let list = |filter: ConnectionFilter| async move {
        let mut found: Vec<ConnectionId> = h
            .store
            .list_connections(&filter, Page::first(10))
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        found.sort();
        found
    };
    let failing_filter = |before: Option<DateTime<Utc>>| ConnectionFilter {
        failing: Some(true),
        failing_since_before: before,
        ..Default::default()
    };
    let mut both = vec![ids[0], ids[1]];
    both.sort();
    assert_eq!(list(failing_filter(None)).await, both);
    let before_second = list(failing_filter(Some(second))).await;
    if first < second {
        assert_eq!(before_second, [ids[0]], "failing since before");
    } else {
        assert!(before_second.is_empty(), "failing since before");
    }
    let healthy = ConnectionFilter {
        failing: Some(false),
        ..Default::default()
    };
    assert_eq!(list(healthy.clone()).await, [ids[2]]);

    // Refreshed: recovered, no longer failing.
    let recovered: Vec<DomainEvent> = vec![
        connection::Event::Refreshed {
            tokens: connection::TokenSet {
                access_token: Sealed::from_bytes(vec![3; 32]),
                refresh_token: None,
                token_type: "Bearer".to_owned(),
                expires_at: Some(Utc::now() + Duration::hours(1)),
                scopes: vec![],
                metadata: BTreeMap::new(),
                refresh_at: None,
                refresh_token_expires_at: None,
            },
        }
        .into(),
        connection::Event::ConnectionRecovered {
            failing_since: first,
        }
        .into(),
    ];
    h.store
        .append(StreamId::Connection(ids[0]), 4, recovered, &ctx())
        .await
        .unwrap();
    assert_eq!(list(failing_filter(None)).await, [ids[1]]);
    let mut now_healthy = vec![ids[0], ids[2]];
    now_healthy.sort();
    assert_eq!(list(healthy.clone()).await, now_healthy);
    assert_eq!(
        h.store
            .count_failing()
            .await
            .unwrap()
            .iter()
            .map(|(_, code, n)| (code.as_str(), *n))
            .collect::<Vec<_>>(),
        [("server_error", 1)],
        "counted by the last error's code"
    );

    // Deleted while failing: neither failing nor counted any more.
    h.store
        .append(
            StreamId::Connection(ids[1]),
            4,
            vec![connection::Event::Deleted {}.into()],
            &ctx(),
        )
        .await
        .unwrap();
    assert!(list(failing_filter(None)).await.is_empty());
    assert!(h.store.count_failing().await.unwrap().is_empty());
    assert_eq!(list(healthy).await.len(), 3);
}

async fn revocations_wait_in_the_outbox_until_done_one_taker_at_a_time(h: &Harness) {
    let (a, b) = (ConnectionId::new_v7(), ConnectionId::new_v7());
    let now = Utc::now().trunc_subsecs(6);
    h.store.revocation_pending(a, now, now).await.unwrap();
    h.store
        .revocation_pending(b, now, now + Duration::hours(1))
        .await
        .unwrap();
    let hold = now + Duration::seconds(30);
    let taken = h.store.take_due_revocations(now, hold, 10).await.unwrap();
    assert_eq!(taken, [(a, now, 1)], "the due one, its first attempt");
    assert!(
        h.store
            .take_due_revocations(now, hold, 10)
            .await
            .unwrap()
            .is_empty(),
        "held for its taker"
    );
    h.store.revocation_retry(a, now).await.unwrap();
    let again = h.store.take_due_revocations(now, hold, 10).await.unwrap();
    assert_eq!(again, [(a, now, 2)]);
    h.store.revocation_done(a).await.unwrap();
    let later = now + Duration::hours(2);
    let taken = h
        .store
        .take_due_revocations(later, later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(taken, [(b, now, 1)], "a is done; b came due");
}

async fn connections_are_due_for_validation_by_their_last_check(h: &Harness) {
    let integration = IntegrationId::new_v7();
    let create = |id: ConnectionId| -> DomainEvent {
        connection::Event::ConnectionCreated {
            connection_id: id,
            integration_id: integration,
            tenant: TenantId::parse("acme").unwrap(),
            grant_type: GrantType::ClientCredentials,
        }
        .into()
    };
    let validated: DomainEvent = connection::Event::Validated {
        valid: true,
        reason: None,
    }
    .into();
    let (never, checked, pending) = (
        ConnectionId::new_v7(),
        ConnectionId::new_v7(),
        ConnectionId::new_v7(),
    );
    for (id, events) in [
        (never, vec![create(never), authorized(1)]),
        (checked, vec![create(checked), authorized(2), validated]),
        (pending, vec![create(pending)]),
    ] {
        h.store
            .append(StreamId::Connection(id), 0, events, &ctx())
            .await
            .unwrap();
    }
    let due = |before: chrono::DateTime<Utc>, of: IntegrationId| {
        let store = h.store.clone();
        async move { store.due_for_validation(of, before, 10).await.unwrap() }
    };
    let now = Utc::now();
    assert_eq!(due(now - Duration::hours(1), integration).await, [never]);
    assert_eq!(
        due(now + Duration::minutes(1), integration).await,
        [never, checked],
        "never checked first, then the longest unchecked; a pending connection has no token"
    );
    assert!(
        due(now + Duration::minutes(1), IntegrationId::new_v7())
            .await
            .is_empty()
    );
}

async fn connections_filter_by_labels(h: &Harness) {
    let mut ids = Vec::new();
    for (env, team) in [("prod", "sales"), ("prod", "ops"), ("dev", "sales")] {
        let id = new_connection(h.store.as_ref(), "acme").await;
        let profile = connection::Profile::parse(
            format!("{env} {team}"),
            String::new(),
            [
                ("env".to_owned(), env.to_owned()),
                ("team/name".to_owned(), team.to_owned()),
            ],
        )
        .unwrap();
        h.store
            .append(
                StreamId::Connection(id),
                1,
                vec![connection::Event::ConnectionUpdated { profile }.into()],
                &ctx(),
            )
            .await
            .unwrap();
        ids.push(id);
    }
    let find = |labels: &[(&str, &str)]| ConnectionFilter {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let prod: Vec<_> = h
        .store
        .list_connections(&find(&[("env", "prod")]), Page::first(10))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(prod, [ids[0], ids[1]]);
    let prod_sales: Vec<_> = h
        .store
        .list_connections(
            &find(&[("env", "prod"), ("team/name", "sales")]),
            Page::first(10),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(prod_sales, [ids[0]]);
    assert!(
        h.store
            .list_connections(&find(&[("env", "qa")]), Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
}

fn api_key(id: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        name: "worker".to_owned(),
        tenant: Some(TenantId::parse("acme").unwrap()),
        secret_hash: "hash-that-must-not-be-logged".to_owned(),
        created_at: Utc::now().trunc_subsecs(6),
        revoked_at: None,
        role: "reader".to_owned(),
        expires_at: None,
    }
}

async fn api_keys_and_master_keys_leave_events_in_the_system_keys_stream(h: &Harness) {
    let keys = StreamId::System(SystemStream::Keys);
    let operator = EventContext::now("operator:alice");
    let created = h
        .store
        .create_api_key(&api_key("lk_one"), &operator)
        .await
        .unwrap();
    assert_eq!((created.stream_id, created.version), (keys, 1));
    assert_eq!(created.event_type, "api_key_created");
    assert!(!created.payload.contains("hash-that-must-not-be-logged"));
    assert!(h.store.api_key("lk_one").await.unwrap().is_some());

    let revoked = h
        .store
        .revoke_api_key("lk_one", &operator)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (revoked.version, revoked.event_type.as_str()),
        (2, "api_key_revoked")
    );
    assert!(
        h.store
            .api_key("lk_one")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    // Revoking again, or a key that never was, changes nothing and records nothing.
    assert!(
        h.store
            .revoke_api_key("lk_one", &operator)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        h.store
            .revoke_api_key("lk_none", &operator)
            .await
            .unwrap()
            .is_none()
    );

    let rotated = system::Event::MasterKeyRotated {
        active: "mk2".to_owned(),
        retired: vec!["mk1".to_owned()],
        rewrapped: 3,
    };
    let recorded = h
        .store
        .record_system_event(rotated, &operator)
        .await
        .unwrap();
    assert_eq!(recorded.version, 3);

    // A key whose id is taken is refused, and leaves no event.
    assert!(
        h.store
            .create_api_key(&api_key("lk_one"), &operator)
            .await
            .is_err()
    );
    let events = h.store.read_stream(keys, 1, 100).await.unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["api_key_created", "api_key_revoked", "master_key_rotated"]
    );
    assert!(
        events
            .iter()
            .all(|e| e.actor == "operator:alice" && e.tenant.is_none())
    );
    assert_eq!(events[0].prev_hash, GENESIS_HASH.to_vec());
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    for e in &events {
        assert_eq!(e.computed_hash(), e.hash);
        assert!(matches!(e.event().unwrap(), DomainEvent::System(_)));
    }
}

async fn token_reads_are_recorded_in_the_log_and_the_table_together(h: &Harness) {
    let access = StreamId::System(SystemStream::Access);
    let minute = Utc::now().trunc_subsecs(0) - Duration::minutes(1);
    let connection = ConnectionId::new_v7();
    // 501 counts: one for `connection`, 500 for others; a tokens_read event holds at most 500.
    let mut reads = vec![TokenReads {
        actor: "tenant:acme".to_owned(),
        connection,
        minute,
        reads: 7,
    }];
    reads.extend((0..500).map(|_| TokenReads {
        actor: "tenant:acme".to_owned(),
        connection: ConnectionId::new_v7(),
        minute,
        reads: 1,
    }));
    let context = EventContext::now("system:access-log");
    let recorded = h.store.record_token_reads(&reads, &context).await.unwrap();
    assert_eq!(recorded.len(), 2);
    assert!(
        recorded
            .iter()
            .all(|e| e.stream_id == access && e.event_type == "tokens_read")
    );
    let again = [TokenReads {
        reads: 2,
        ..reads[0].clone()
    }];
    h.store.record_token_reads(&again, &context).await.unwrap();
    assert!(
        h.store
            .record_token_reads(&[], &context)
            .await
            .unwrap()
            .is_empty()
    );

    let table = h.store.token_reads(connection, minute, 10).await.unwrap();
    assert_eq!(table.len(), 1);
    assert_eq!(table[0].reads, 9);
    let logged: u64 = h
        .store
        .read_stream(access, 1, 100)
        .await
        .unwrap()
        .iter()
        .flat_map(|e| match e.event().unwrap() {
            DomainEvent::System(system::Event::TokensRead { reads }) => reads,
            other => panic!("not a tokens_read event: {other:?}"),
        })
        .filter(|r| r.connection_id == connection)
        .map(|r| r.reads)
        .sum();
    assert_eq!(logged, 9, "the log holds every read the table counts");
}

async fn concurrent_writers_of_a_system_stream_append_one_after_another(h: &Harness) {
    let barrier = Arc::new(Barrier::new(8));
    let writers = (0..8).map(|i| {
        let (store, barrier) = (h.store.clone(), barrier.clone());
        tokio::spawn(async move {
            let reads = [TokenReads {
                actor: format!("replica-{i}"),
                connection: ConnectionId::new_v7(),
                minute: Utc::now().trunc_subsecs(0),
                reads: 1,
            }];
            barrier.wait().await;
            store
                .record_token_reads(&reads, &EventContext::now("system:access-log"))
                .await
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        assert_eq!(writer.await.unwrap().unwrap().len(), 1);
    }
    let events = h
        .store
        .read_stream(StreamId::System(SystemStream::Access), 1, 100)
        .await
        .unwrap();
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
}

async fn connect_session_streams_hold_their_creation_first_and_nothing_else_first(h: &Harness) {
    use latchkey_domain::{ConnectSessionId, session};
    let id = ConnectSessionId::new_v7();
    let created = |session_id| -> DomainEvent {
        session::Event::ConnectSessionCreated {
            session_id,
            tenant: TenantId::parse("acme").unwrap(),
            integration_ids: vec![IntegrationId::new_v7()],
            return_url: None,
            connection_id: None,
            expires_at: Utc::now() + Duration::minutes(30),
            link_digest: "ab".repeat(32),
            profile: None,
            max_connections: 1,
            appearance: None,
        }
        .into()
    };
    let opened: DomainEvent = session::Event::ConnectSessionOpened {
        browser_digest: "cd".repeat(32),
    }
    .into();
    let stream = StreamId::Session(id);
    // Opened before created, or created under another session's id: refused, nothing stored.
    for wrong in [opened.clone(), created(ConnectSessionId::new_v7())] {
        let refused = h.store.append(stream, 0, vec![wrong], &ctx()).await;
        assert!(
            matches!(refused, Err(StoreError::InvalidEvents { .. })),
            "{refused:?}"
        );
    }
    h.store
        .append(stream, 0, vec![created(id)], &ctx())
        .await
        .unwrap();
    let again = h.store.append(stream, 1, vec![created(id)], &ctx()).await;
    assert!(
        matches!(again, Err(StoreError::InvalidEvents { .. })),
        "{again:?}"
    );
    h.store
        .append(stream, 1, vec![opened.clone()], &ctx())
        .await
        .unwrap();
    // A second opening at the version it read loses to the first.
    let late = h.store.append(stream, 1, vec![opened], &ctx()).await;
    assert!(matches!(late, Err(StoreError::Conflict { .. })), "{late:?}");
    let events = h.store.read_stream(stream, 1, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].stream_id.to_string(),
        format!("connect_session-{id}")
    );
}

async fn a_connection_and_its_data_key_are_read_together(h: &Harness) {
    let id = new_connection(h.store.as_ref(), "acme").await;
    let owner = StreamId::Connection(id).to_string();
    let (state, key) = h.store.connection_and_data_key(id, &owner).await.unwrap();
    assert_eq!(state, h.store.connection(id).await.unwrap());
    assert!(state.is_some());
    assert_eq!(key, None, "no data key yet");
    let wrapped = latchkey_store::WrappedKey {
        wrapped: vec![7; 60],
        master_key_id: "k1".to_owned(),
    };
    h.store.insert_data_key(&owner, &wrapped).await.unwrap();
    let (state, key) = h.store.connection_and_data_key(id, &owner).await.unwrap();
    assert_eq!(state.map(|s| s.id), Some(id));
    assert_eq!(key, Some(wrapped.clone()));
    // A connection that does not exist, and another owner's key: each read for what it is.
    let missing = ConnectionId::new_v7();
    let (state, key) = h
        .store
        .connection_and_data_key(missing, &owner)
        .await
        .unwrap();
    assert_eq!((state, key), (None, Some(wrapped)));
    let other = StreamId::Connection(missing).to_string();
    let (state, key) = h.store.connection_and_data_key(id, &other).await.unwrap();
    assert_eq!((state.map(|s| s.id), key), (Some(id), None));
}

/// Reads at once (Postgres shares one query among those that overlap): each gets its own
/// connection and key, callers that go away mid-read take nothing with them, and reads go on.
async fn reads_at_once_each_get_their_own_connection_and_key(h: &Harness) {
    let ids = new_connections(h.store.as_ref(), 24).await;
    let key = |i: usize| latchkey_store::WrappedKey {
        wrapped: vec![i as u8; 60],
        master_key_id: format!("k{i}"),
    };
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let owner = StreamId::Connection(*id).to_string();
        h.store.insert_data_key(&owner, &key(i)).await.unwrap();
    }
    let missing = ConnectionId::new_v7();
    let reads = 96;
    let barrier = Arc::new(Barrier::new(reads));
    let tasks: Vec<_> = (0..reads)
        .map(|r| {
            let (store, barrier) = (h.store.clone(), barrier.clone());
            let (i, id) = (r % ids.len(), ids[r % ids.len()]);
            tokio::spawn(async move {
                barrier.wait().await;
                match r % 4 {
                    // A connection alone.
                    0 => {
                        let state = store.connection(id).await.unwrap();
                        assert_eq!(state.map(|s| s.id), Some(id), "read {r}");
                    }
                    // One that does not exist, with a key that does (or not).
                    1 => {
                        let owner = StreamId::Connection(id).to_string();
                        let (state, got) = store
                            .connection_and_data_key(missing, &owner)
                            .await
                            .unwrap();
                        assert_eq!(state, None, "read {r}");
                        assert_eq!(got, (i % 2 == 0).then(|| key(i)), "read {r}");
                    }
                    _ => {
                        let owner = StreamId::Connection(id).to_string();
                        let (state, got) = store.connection_and_data_key(id, &owner).await.unwrap();
                        assert_eq!(state.map(|s| s.id), Some(id), "read {r}");
                        assert_eq!(got, (i % 2 == 0).then(|| key(i)), "read {r}");
                    }
                }
            })
        })
        .collect();
    // A third of the readers go away while their reads are in flight or queued.
    let mut finished = 0;
    for (r, task) in tasks.into_iter().enumerate() {
        if r % 3 == 2 {
            task.abort();
            let _ = task.await;
        } else {
            task.await.expect("a read answered wrongly");
            finished += 1;
        }
    }
    assert_eq!(finished, reads - reads / 3);
    // Nothing was left holding a query: reads at once still get their answers.
    let again: Vec<_> = ids
        .iter()
        .map(|id| {
            let (store, id) = (h.store.clone(), *id);
            tokio::spawn(async move { store.connection(id).await.unwrap().map(|s| s.id) })
        })
        .collect();
    let answers = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut answers = Vec::new();
        for task in again {
            answers.push(task.await.unwrap());
        }
        answers
    })
    .await
    .expect("reads after the cancelled ones still end");
    assert_eq!(answers, ids.iter().map(|id| Some(*id)).collect::<Vec<_>>());
}

/// Inbound deliveries: one claim wins, a recorded id is a duplicate within the window and fresh
/// after it, a lapsed or released claim is taken again, and a recorded event is found by its id.
async fn a_delivery_id_is_recorded_once_within_its_window(h: &Harness) {
    use latchkey_store::DeliveryClaim;
    let integration = IntegrationId::new_v7();
    let now = Utc::now().trunc_subsecs(3);
    let window = now - Duration::hours(72);
    let lapsed = now - Duration::seconds(30);
    let claim = |id: &'static str, at: DateTime<Utc>, seen_after, lapsed_before| {
        let store = h.store.clone();
        async move {
            store
                .claim_delivery(integration, id, at, seen_after, lapsed_before)
                .await
                .unwrap()
        }
    };
    // Sixteen at once: one records, the others hear it is under way.
    let barrier = Arc::new(Barrier::new(16));
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let (store, barrier) = (h.store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .claim_delivery(integration, "d-1", now, window, lapsed)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut fresh = 0;
    for racer in racers {
        match racer.await.unwrap() {
            DeliveryClaim::Fresh => fresh += 1,
            other => assert_eq!(other, DeliveryClaim::InFlight),
        }
    }
    assert_eq!(fresh, 1);
    // Recorded with its event: a duplicate from then on, found by the event's id.
    let connection = new_connection(&*h.store, "acme").await;
    let recorded = h
        .store
        .append(
            StreamId::Connection(connection),
            1,
            vec![refresh_failed()],
            &ctx(),
        )
        .await
        .unwrap();
    h.store.delivery_recorded(integration, "d-1").await.unwrap();
    assert_eq!(
        claim("d-1", now, window, lapsed).await,
        DeliveryClaim::Recorded
    );
    assert_eq!(
        h.store.event_by_id(recorded[0].event_id).await.unwrap(),
        Some(recorded[0].clone())
    );
    assert_eq!(
        h.store.event_by_id(uuid::Uuid::now_v7()).await.unwrap(),
        None
    );
    // Another integration's id of the same text is its own.
    let other = h
        .store
        .claim_delivery(IntegrationId::new_v7(), "d-1", now, window, lapsed)
        .await
        .unwrap();
    assert_eq!(other, DeliveryClaim::Fresh);
    // After the window, the same id is a new delivery.
    let later = now + Duration::hours(73);
    let fresh_again = claim("d-1", later, later - Duration::hours(72), later).await;
    assert_eq!(fresh_again, DeliveryClaim::Fresh);
    // A claim never recorded lapses; a released one is free at once.
    assert_eq!(
        claim("d-2", now, window, lapsed).await,
        DeliveryClaim::Fresh
    );
    let soon = now + Duration::seconds(31);
    assert_eq!(
        claim("d-2", soon, window, soon - Duration::seconds(30)).await,
        DeliveryClaim::Fresh
    );
    h.store.release_delivery(integration, "d-2").await.unwrap();
    assert_eq!(
        claim("d-2", soon, window, lapsed).await,
        DeliveryClaim::Fresh
    );
    // Purging forgets what was claimed before.
    let purged = h
        .store
        .purge_deliveries(later + Duration::seconds(1))
        .await
        .unwrap();
    assert!(purged >= 3, "{purged}");
}

/// A delivery appended with its id: recorded exactly when its event is (one of sixteen racers on
/// sixteen streams wins, the rest append nothing), seen as under way while an older-style claim
/// holds it, appended again after the window, and not seen when its append failed.
async fn a_delivery_appended_with_its_id_is_recorded_with_its_event(h: &Harness) {
    use latchkey_store::{DeliveryClaim, SeenDelivery};
    let integration = IntegrationId::new_v7();
    let now = Utc::now().trunc_subsecs(3);
    let seen = |id: &str, at: DateTime<Utc>| SeenDelivery {
        integration,
        delivery_id: id.to_owned(),
        at,
        seen_after: at - Duration::hours(72),
        lapsed_before: at - Duration::seconds(30),
    };
    let mut streams = Vec::new();
    for _ in 0..16 {
        streams.push(StreamId::Connection(
            new_connection(&*h.store, "acme").await,
        ));
    }
    let barrier = Arc::new(Barrier::new(16));
    let racers: Vec<_> = streams
        .iter()
        .map(|&stream| {
            let (store, barrier, seen) = (h.store.clone(), barrier.clone(), seen("d-1", now));
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .append_delivery(&seen, stream, 1, vec![refresh_failed()], &ctx())
                    .await
                    .unwrap()
                    .map(|recorded| recorded.len())
            })
        })
        .collect();
    let mut appended = Vec::new();
    for racer in racers {
        appended.extend(racer.await.unwrap());
    }
    assert_eq!(appended, vec![1], "one racer appends its one event");
    let mut versions = Vec::new();
    for &stream in &streams {
        versions.push(h.store.read_stream(stream, 1, 1000).await.unwrap().len());
    }
    versions.sort_unstable();
    assert_eq!(versions[..15], [1; 15], "the others appended nothing");
    assert_eq!(versions[15], 2);
    assert_eq!(
        h.store.delivery_seen(integration, "d-1").await.unwrap(),
        DeliveryClaim::Recorded
    );
    // Sixteen different ids at once (a batch, on Postgres), one of them seen: fifteen appended.
    let barrier = Arc::new(Barrier::new(16));
    let racers: Vec<_> = streams
        .iter()
        .enumerate()
        .map(|(i, &stream)| {
            let (store, barrier) = (h.store.clone(), barrier.clone());
            let seen = seen(
                &if i == 0 {
                    "d-1".to_owned()
                } else {
                    format!("r-{i}")
                },
                now,
            );
            tokio::spawn(async move {
                let version = store.read_stream(stream, 1, 1000).await.unwrap().len() as u64;
                barrier.wait().await;
                let events = vec![refresh_failed()];
                let context = ctx();
                let appended = store.append_delivery(&seen, stream, version, events, &context);
                (seen.delivery_id.clone(), appended.await.unwrap().is_some())
            })
        })
        .collect();
    for racer in racers {
        let (id, appended) = racer.await.unwrap();
        assert_eq!(appended, id != "d-1", "{id}");
    }
    // Several events at once take the transaction path: the same rule.
    let (one, two) = (streams[0], streams[1]);
    let version = |stream| {
        let store = h.store.clone();
        async move { store.read_stream(stream, 1, 1000).await.unwrap().len() as u64 }
    };
    let v = version(one).await;
    let twice = vec![refresh_failed(), refresh_failed()];
    let again = h
        .store
        .append_delivery(&seen("d-1", now), one, v, twice.clone(), &ctx())
        .await
        .unwrap();
    assert_eq!(again, None);
    let fresh = h
        .store
        .append_delivery(&seen("d-2", now), one, v, twice, &ctx())
        .await
        .unwrap();
    assert_eq!(fresh.map(|r| r.len()), Some(2));
    // An append that failed (a stale version) leaves its id unseen.
    let stale = h
        .store
        .append_delivery(&seen("d-3", now), two, 0, vec![refresh_failed()], &ctx())
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "{stale:?}"
    );
    let v = version(two).await;
    let after_failure = h
        .store
        .append_delivery(&seen("d-3", now), two, v, vec![refresh_failed()], &ctx())
        .await
        .unwrap();
    assert!(after_failure.is_some());
    // A claim of the fanned-out kind holds the id: under way, nothing appended.
    let claim = h
        .store
        .claim_delivery(integration, "d-4", now, now - Duration::hours(72), now)
        .await
        .unwrap();
    assert_eq!(claim, DeliveryClaim::Fresh);
    let v = version(two).await;
    let held = h
        .store
        .append_delivery(&seen("d-4", now), two, v, vec![refresh_failed()], &ctx())
        .await
        .unwrap();
    assert_eq!(held, None);
    assert_eq!(
        h.store.delivery_seen(integration, "d-4").await.unwrap(),
        DeliveryClaim::InFlight
    );
    // After the window the same id is a new delivery.
    let later = now + Duration::hours(73);
    let anew = h
        .store
        .append_delivery(&seen("d-1", later), two, v, vec![refresh_failed()], &ctx())
        .await
        .unwrap();
    assert!(anew.is_some());
}

macro_rules! conformance_suite {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let h = super::Harness::postgres().await;
                    super::$test(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let h = super::Harness::sqlite().await;
                    super::$test(&h).await;
                    h.finish().await;
                }
            )*
        }
    };
}

conformance_suite!(
    appended_events_are_read_back_in_order_with_their_envelope,
    the_projection_is_updated_with_the_append,
    a_stale_expected_version_is_a_conflict_and_changes_nothing,
    sixteen_concurrent_appends_at_one_version_have_exactly_one_winner,
    many_streams_written_in_parallel_keep_their_own_order,
    overlapping_appends_to_many_streams_each_get_their_own_answer,
    read_all_pages_from_any_position,
    each_stream_is_hash_chained,
    replaying_a_stream_gives_the_stored_projection_byte_for_byte,
    the_database_refuses_update_delete_and_truncate_of_events,
    integration_names_are_unique_among_live_integrations,
    events_that_do_not_fit_the_stream_are_refused_and_nothing_is_stored,
    connections_list_by_tenant_and_status_in_pages,
    a_pending_authorization_is_found_by_its_state_digest_until_completed,
    refresh_leases_admit_one_owner_until_they_run_out,
    sixteen_replicas_racing_for_one_lease_have_one_winner,
    connections_are_due_when_their_refresh_or_their_expiry_comes,
    claims_run_out_are_taken_over_with_a_higher_fence_and_end_when_the_schedule_moves,
    owners_claiming_at_once_get_disjoint_due_connections,
    the_committed_log_is_read_in_order_from_any_cursor_and_checkpoints_persist,
    appends_wake_whoever_waits_for_them,
    connections_filter_by_labels,
    connections_filter_by_provider_account,
    connections_filter_by_failing,
    revocations_wait_in_the_outbox_until_done_one_taker_at_a_time,
    connections_are_due_for_validation_by_their_last_check,
    api_keys_and_master_keys_leave_events_in_the_system_keys_stream,
    token_reads_are_recorded_in_the_log_and_the_table_together,
    concurrent_writers_of_a_system_stream_append_one_after_another,
    the_relay_lease_has_one_holder_and_fences_out_the_one_before,
    connect_session_streams_hold_their_creation_first_and_nothing_else_first,
    a_connection_and_its_data_key_are_read_together,
    reads_at_once_each_get_their_own_connection_and_key,
    a_delivery_id_is_recorded_once_within_its_window,
    a_delivery_appended_with_its_id_is_recorded_with_its_event,
);

/// The interleaving that breaks a "highest position seen" relay: the event with the lower
/// position commits after the one with the higher position. Postgres only: SQLite admits one
/// writer at a time, so its commit order is its position order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_late_committing_lower_position_is_not_skipped() {
    let h = Harness::postgres().await;
    let Raw::Pg(pool) = &h.raw else {
        unreachable!()
    };
    let insert = "INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, event_type, \
                  schema_version, occurred_at, actor, payload, prev_hash, hash) \
                  VALUES ($1, $2, 'connection', 1, 'acme', 'deleted', 1, now(), 'test', '{}', '\\x00', '\\x00') \
                  RETURNING position";
    let stream = |n: u8| format!("connection-00000000-0000-7000-8000-00000000000{n}");
    let mut slow = pool.begin().await.unwrap();
    let low: i64 = sqlx::query_scalar(insert)
        .bind(uuid::Uuid::now_v7())
        .bind(stream(1))
        .fetch_one(&mut *slow)
        .await
        .unwrap();
    let mut fast = pool.begin().await.unwrap();
    let high: i64 = sqlx::query_scalar(insert)
        .bind(uuid::Uuid::now_v7())
        .bind(stream(2))
        .fetch_one(&mut *fast)
        .await
        .unwrap();
    assert!(low < high);
    fast.commit().await.unwrap();

    // A position reader sees the higher one alone, and would move past the lower one for good.
    let by_position: Vec<i64> = h
        .store
        .read_all(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(by_position, [high]);
    // The gap-free reader holds the higher one back while the lower one may still commit.
    assert!(
        h.store
            .read_committed(Cursor::default(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    slow.commit().await.unwrap();
    let read: Vec<i64> = committed(h.store.as_ref(), Cursor::default(), 2)
        .await
        .iter()
        .map(|(_, e)| e.position)
        .collect();
    assert_eq!(read, [low, high], "both, none skipped");
    h.finish().await;
}

/// A group of appends the database refuses as a whole (here a trigger refuses one stream's
/// events) is written again append by append: the others commit, the refused one fails alone
/// and leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_refused_group_is_written_again_append_by_append() {
    let h = Harness::postgres().await;
    let ids = new_connections(h.store.as_ref(), 32).await;
    let refused = StreamId::Connection(ids[7]).to_string();
    h.raw
        .execute(&format!(
            "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.stream_id = '{refused}' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; END; $$"
        ))
        .await
        .unwrap();
    h.raw
        .execute(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON events \
             FOR EACH ROW EXECUTE FUNCTION refuse_one()",
        )
        .await
        .unwrap();
    let results = append_at_once(&h.store, &ids, |_| (1, refresh_failed())).await;
    for (result, id) in results.into_iter().zip(&ids) {
        let stored = h
            .store
            .read_stream(StreamId::Connection(*id), 1, 10)
            .await
            .unwrap();
        if StreamId::Connection(*id).to_string() == refused {
            let error = result.unwrap_err().to_string();
            assert!(error.contains("refused by the test"), "{error}");
            assert_eq!(stored.len(), 1);
            assert_eq!(h.store.connection(*id).await.unwrap().unwrap().version, 1);
        } else {
            assert_eq!(result.unwrap(), stored[1..]);
        }
    }
    assert_eq!(h.raw.count_events().await, 32 + 31);
    h.finish().await;
}

/// Every replica is told which integration's routes changed (a connection added or removed, its
/// provider account or status changed), whoever wrote; an append that leaves them as they were
/// tells nothing. SQLite tells none, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_route_changes_are_told_to_every_replica_and_nothing_else_is() {
    let sqlite = Harness::sqlite().await;
    assert!(!sqlite.store.hears_route_changes());
    sqlite.finish().await;

    let h = Harness::postgres().await;
    let Cleanup::Pg(db) = &h.cleanup else {
        unreachable!()
    };
    let other = PgStore::connect(&db.url, 4).await.unwrap();
    let (tell, mut told) = tokio::sync::mpsc::unbounded_channel();
    other.on_append(Arc::new(move |invalidation| {
        if let Invalidation::Routes(integration) = invalidation {
            let _ = tell.send(integration);
        }
    }));
    assert!(!other.hears_route_changes(), "not before it listens");
    let hearing = tokio::spawn(other.hear_other_replicas().unwrap());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !other.hears_route_changes() {
        assert!(tokio::time::Instant::now() < deadline, "never listened");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    async fn next(told: &mut tokio::sync::mpsc::UnboundedReceiver<IntegrationId>) -> IntegrationId {
        tokio::time::timeout(std::time::Duration::from_secs(10), told.recv())
            .await
            .expect("told within 10 s")
            .expect("the hook is kept")
    }
    let (a, b) = (IntegrationId::new_v7(), IntegrationId::new_v7());
    let create = |integration: IntegrationId| {
        let store = h.store.clone();
        async move {
            let id = ConnectionId::new_v7();
            let created = connection::Event::ConnectionCreated {
                connection_id: id,
                integration_id: integration,
                tenant: TenantId::parse("acme").unwrap(),
                grant_type: GrantType::ClientCredentials,
            };
            store
                .append(StreamId::Connection(id), 0, vec![created.into()], &ctx())
                .await
                .unwrap();
            StreamId::Connection(id)
        }
    };
    let stream = create(a).await;
    assert_eq!(next(&mut told).await, a, "a connection added");
    h.store
        .append(stream, 1, vec![authorized_as(1, Some("user-1"))], &ctx())
        .await
        .unwrap();
    assert_eq!(next(&mut told).await, a, "its account and status set");
    let validated = connection::Event::Validated {
        valid: true,
        reason: None,
    };
    h.store
        .append(stream, 2, vec![validated.into()], &ctx())
        .await
        .unwrap();
    create(b).await;
    assert_eq!(
        next(&mut told).await,
        b,
        "the validation told nothing; the next connection did"
    );
    h.store
        .append(
            stream,
            3,
            vec![connection::Event::Deleted {}.into()],
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(next(&mut told).await, a, "a connection deleted");
    hearing.abort();
    h.finish().await;
}

/// A store appends from the head it wrote last, without reading it again; another replica's
/// append in between makes that head stale, and the database refuses an event that does not
/// follow the stream's real head (its version and hash), so the append is a conflict, nothing is
/// written, and the next append reads the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_append_from_a_stale_kept_head_is_a_conflict() {
    let h = Harness::postgres().await;
    let Cleanup::Pg(db) = &h.cleanup else {
        unreachable!()
    };
    let other = PgStore::connect(&db.url, 4).await.unwrap();
    let id = new_connection(h.store.as_ref(), "acme").await;
    let stream = StreamId::Connection(id);
    h.store
        .append(stream, 1, vec![refresh_failed()], &ctx())
        .await
        .unwrap();
    other
        .append(stream, 2, vec![refresh_failed()], &ctx())
        .await
        .unwrap();
    let stale = h
        .store
        .append(stream, 2, vec![refresh_failed()], &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(stale, StoreError::Conflict { actual: 3, .. }),
        "{stale:?}"
    );
    assert_eq!(h.store.read_stream(stream, 1, 100).await.unwrap().len(), 3);
    let fourth = h
        .store
        .append(stream, 3, vec![refresh_failed()], &ctx())
        .await
        .unwrap();
    let events = h.store.read_stream(stream, 1, 100).await.unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[3], fourth[0]);
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let projection = h.store.connection(id).await.unwrap().unwrap();
    assert_eq!(projection.version, 4);
    assert_eq!(
        other.connection(id).await.unwrap().unwrap(),
        projection,
        "both replicas read the same projection"
    );
    // The database itself: the next version, from a hash that is not the head's.
    let forged = h
        .raw
        .execute(
            "INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, event_type, \
             schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash) \
             SELECT gen_random_uuid(), stream_id, stream_kind, 5, tenant, event_type, \
             schema_version, occurred_at, actor, correlation_id, payload, \
             '\\x00'::bytea, hash FROM events ORDER BY position DESC LIMIT 1",
        )
        .await
        .unwrap_err();
    assert!(forged.contains("events_stream_version_key"), "{forged}");
    assert_eq!(h.raw.count_events().await, 4);
    other.close().await;
    h.finish().await;
}

/// Pooled connections in steady use are not pinged before each statement; after one statement
/// failed because its session was gone (the database restarted or killed it), the others are
/// checked before use, so a restart costs one failed statement, not one per pooled connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_after_a_lost_session_the_pool_replaces_the_others_before_use() {
    let h = Harness::postgres().await;
    let Cleanup::Pg(db) = &h.cleanup else {
        unreachable!()
    };
    let store = PgStore::connect(&db.url, 4).await.unwrap();
    let id = new_connection(&store, "acme").await;
    // Four sessions open, each used a moment ago (held at once: reads that overlap would share
    // one query, and a session).
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let mut session = store.pool().acquire().await.unwrap();
        sqlx::query("SELECT 1")
            .execute(&mut *session)
            .await
            .unwrap();
        sessions.push(session);
    }
    drop(sessions);
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND application_name = 'latchkey'",
    )
    .fetch_all(match &h.raw {
        Raw::Pg(pool) => pool,
        Raw::Sqlite(_) => unreachable!(),
    })
    .await
    .unwrap();
    assert!(killed.len() >= 4, "the store's sessions: {killed:?}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut failed = 0;
    for _ in 0..8 {
        match store.connection(id).await {
            Ok(state) => assert!(state.is_some()),
            Err(StoreError::Database(_)) => failed += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(
        failed <= 1,
        "{failed} of 8 reads failed after the sessions were killed"
    );
    store.close().await;
    h.finish().await;
}

/// A table's updates and HOT updates so far, this session's statistics flushed first (the
/// store under test has one session, so they are all of its statistics).
async fn updates_and_hot_updates(pool: &sqlx::PgPool, table: &str) -> (i64, i64) {
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query_as("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = $1")
        .bind(table)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A refresh changes no indexed column of `connections` (the schedule lives in its own narrow
/// table), so Postgres rewrites the projection row in place: a HOT update, no index entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refreshes_rewrite_the_projection_as_hot_updates() {
    let db = PgTestDatabase::create().await;
    // One session: its statistics are flushed on demand below.
    let store = PgStore::connect(&db.url, 1).await.unwrap();
    let h = Harness {
        raw: Raw::Pg(store.pool().clone()),
        store: Arc::new(store),
        cleanup: Cleanup::Pg(db),
    };
    let now = Utc::now();
    let ids = due_connections(&h, now, 2).await;
    let Raw::Pg(pool) = &h.raw else {
        unreachable!()
    };
    let counts = || updates_and_hot_updates(pool, "connections");
    let (updates_before, hot_before) = counts().await;
    for (n, id) in ids.iter().cycle().take(40).enumerate() {
        let version = 2 + (n / 2) as u64;
        h.store
            .append(
                StreamId::Connection(*id),
                version,
                vec![
                    connection::Event::Refreshed {
                        tokens: token_set(now, 60 + n as i64),
                    }
                    .into(),
                ],
                &ctx(),
            )
            .await
            .unwrap();
    }
    let (updates, hot) = counts().await;
    let (updates, hot) = (updates - updates_before, hot - hot_before);
    assert_eq!(updates, 40, "one projection update a refresh");
    // A HOT update needs room on the row's page; when the page is full Postgres first prunes
    // the dead versions, which it skips while another backend (the checkpointer, autovacuum)
    // holds the page pinned. So on a busy server an update now and then is not HOT. With an
    // indexed column changing on every refresh (the schedule inside `connections`), none is.
    assert!(
        hot * 4 >= updates * 3,
        "a refresh's projection update is HOT, but for the odd full page: {hot} of {updates}"
    );
    h.finish().await;
}

/// A refresher's claim changes no indexed column of the schedule, and its pages keep room for
/// a row's next version, so the claim is a HOT update even where the table was written full (a
/// bulk load, a restore): no entry in the schedule's four indexes for the due query to walk past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_claims_are_hot_updates_of_the_schedule() {
    let db = PgTestDatabase::create().await;
    // One session: its statistics are flushed on demand below.
    let store = PgStore::connect(&db.url, 1).await.unwrap();
    let pool = store.pool().clone();
    let now = Utc::now();
    // 3,000 rows written in one go (about 45 pages), one in ten due, spread over the pages.
    sqlx::query(
        "INSERT INTO connection_schedule \
           (connection_id, integration_id, status, refresh_at, expires_at, validated_at) \
         SELECT gen_random_uuid(), gen_random_uuid(), 'active', \
                CASE WHEN n % 10 = 0 THEN $1 - interval '1 minute' ELSE $1 + interval '1 hour' END, \
                $1 + interval '2 hours', $1 \
           FROM generate_series(1, 3000) AS n",
    )
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    let counts = || updates_and_hot_updates(&pool, "connection_schedule");
    let (updates_before, hot_before) = counts().await;
    let claimed = store
        .claim_due_refreshes(now, "replica-a", now + Duration::seconds(30), 500)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 300, "every due row claimed");
    let (updates, hot) = counts().await;
    let (updates, hot) = (updates - updates_before, hot - hot_before);
    assert_eq!(updates, 300, "one schedule update a claim");
    // As for the projection: on a busy server a page pinned by another backend now and then
    // cannot be pruned; a schedule written full (fillfactor 100) makes none of these HOT.
    assert!(
        hot * 4 >= updates * 3,
        "a claim is a HOT update of the schedule: {hot} of {updates}"
    );
    store.close().await;
    db.drop_database().await;
}

/// Every hot query is served by an index: planned as it runs (a generic plan) with sequential
/// scans priced out, none scans `connections` or `events` whole, and none walks a whole index
/// either (every index scan of them has an index condition). Postgres only: SQLite is the
/// single-node default, and its planner has no such switch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_no_hot_query_scans_connections_or_events_whole() {
    let db = PgTestDatabase::create().await;
    let store = PgStore::connect(&db.url, 2).await.unwrap();
    let plans = store.explain_hot_queries().await.unwrap();
    assert!(plans.len() >= 12, "{} plans", plans.len());
    let mut whole = Vec::new();
    for (query, plan) in &plans {
        let walks_all = plan.split("->").any(|node| {
            let scans_hot = node.contains(" on connections")
                || node.contains(" on connection_schedule")
                || node.contains(" on events");
            let seq = node.contains("Seq Scan");
            let unbounded = node.contains("Index Scan") && !node.contains("Index Cond");
            scans_hot && (seq || unbounded)
        });
        if walks_all {
            whole.push(format!("{query}:\n{plan}"));
        }
    }
    assert!(whole.is_empty(), "{}", whole.join("\n\n"));
    drop(store);
    db.drop_database().await;
}

/// GetToken's misses that overlap share one read; Postgres plans that statement once per
/// session, not on every batch (planning a batch of 8 cost 2–4 times its execution). With a few
/// thousand connections or fewer Postgres keeps one plan whatever the statement's form; past
/// that (here 20,000, copies of one written straight into the table) only a form whose plans do
/// not depend on the batch's size is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_shared_read_keeps_one_plan() {
    let db = PgTestDatabase::create().await;
    let store = Arc::new(PgStore::connect(&db.url, 1).await.unwrap());
    let h = Harness {
        raw: Raw::Pg(store.pool().clone()),
        store: store.clone(),
        cleanup: Cleanup::Pg(db),
    };
    let ids = due_connections(&h, Utc::now(), 1).await;
    let Raw::Pg(pool) = &h.raw else {
        unreachable!()
    };
    sqlx::query(
        "INSERT INTO connections (id, integration_id, tenant, status, version, updated_at, \
           state, pending_state, labels, provider_account_id) \
         SELECT gen_random_uuid(), c.integration_id, c.tenant, c.status, c.version, \
           c.updated_at, c.state, NULL, c.labels, NULL \
         FROM connections c, generate_series(1, 20000) WHERE c.id = $1",
    )
    .bind(ids[0].as_uuid())
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE connections")
        .execute(pool)
        .await
        .unwrap();
    let (generic, custom) = store.plans_of_the_shared_read(40).await.unwrap();
    assert!(
        generic >= 30 && custom <= 10,
        "40 reads of batches of 1 to 8: {generic} with the kept plan, {custom} planned afresh"
    );
    h.finish().await;
}

/// Where an archive's events go in these tests: kept in memory, or refused at the `fail_at`-th.
#[derive(Default)]
struct Kept {
    events: Vec<RecordedEvent>,
    finished: bool,
    fail_at: Option<usize>,
}

impl ArchiveSink for Kept {
    fn event(&mut self, event: &RecordedEvent) -> Result<(), String> {
        if self.fail_at == Some(self.events.len()) {
            return Err("the archive file is full".to_owned());
        }
        self.events.push(event.clone());
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        self.finished = true;
        Ok(())
    }
}

/// The log's oldest partition is archived only when it is complete and every relay published
/// it; then its events go to the sink in order, each stream's last event among them is kept as
/// its head, the partition leaves the log, and the streams go on from the kept heads (a taken
/// version still a conflict). A failing sink, a relay behind or a partition still written
/// change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_archiving_the_oldest_partition_keeps_its_streams_heads() {
    let db = PgTestDatabase::create().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&db.url)
        .await
        .unwrap();
    let store = PgStore::from_pool(pool.clone()).with_event_partition_size(100);
    store.migrate().await.unwrap();
    let h = Harness {
        raw: Raw::Pg(pool.clone()),
        store: Arc::new(store),
        cleanup: Cleanup::Pg(db),
    };
    let now = Utc::now();
    // A stream that begins in the first partition and goes on after it.
    let early = due_connections(&h, now, 1).await[0];
    let refused = h.store.archive_oldest_events(&mut Kept::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(m)) if m.contains("still being written")
            && m.contains("positions 1 to 100")),
        "{refused:?}"
    );
    while h.store.last_position().await.unwrap() < 130 {
        due_connections(&h, now, 1).await;
        h.store.maintain_event_log().await.unwrap();
    }
    let first: Vec<RecordedEvent> = h.store.read_all(0, 1000).await.unwrap();
    let in_first: Vec<&RecordedEvent> = first.iter().filter(|e| e.position <= 100).collect();
    assert_eq!(in_first.len(), 100);

    // A sink that fails half way: nothing archived.
    let mut failing = Kept {
        fail_at: Some(50),
        ..Kept::default()
    };
    let refused = h.store.archive_oldest_events(&mut failing).await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(m)) if m.contains("file is full")),
        "{refused:?}"
    );
    // A relay that has not published all of it: nothing archived, the relay named.
    sqlx::query(
        "INSERT INTO relay_checkpoints (name, txid, position, updated_at) \
         VALUES ('latchkey-nats', 0, 0, now())",
    )
    .execute(&pool)
    .await
    .unwrap();
    let refused = h.store.archive_oldest_events(&mut Kept::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(m)) if m.contains("\"latchkey-nats\"")),
        "{refused:?}"
    );
    assert_eq!(h.store.archive_state().await.unwrap(), Default::default());
    assert_eq!(h.store.read_all(0, 1000).await.unwrap(), first);

    // Once the relay has published past it, the partition is archived.
    sqlx::query(
        "UPDATE relay_checkpoints SET txid = txid_current(), position = 1000 \
         WHERE name = 'latchkey-nats'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut sink = Kept::default();
    let part = h
        .store
        .archive_oldest_events(&mut sink)
        .await
        .unwrap()
        .expect("a partition to archive");
    assert_eq!(
        (part.first_position, part.last_position, part.events),
        (1, 100, 100)
    );
    assert!(sink.finished);
    assert_eq!(
        sink.events.iter().collect::<Vec<_>>(),
        in_first,
        "every event of the partition, in order"
    );
    let state = h.store.archive_state().await.unwrap();
    assert_eq!(state.parts, vec![part.clone()]);
    let mut last: BTreeMap<String, &RecordedEvent> = BTreeMap::new();
    for event in &in_first {
        last.insert(event.stream_id.to_string(), event);
    }
    assert_eq!(state.heads.len(), last.len(), "one head a stream");
    for head in &state.heads {
        let event = last[&head.stream_id];
        assert_eq!(
            (
                head.version,
                &head.hash,
                head.position,
                head.tenant.as_deref()
            ),
            (event.version, &event.hash, event.position, Some("acme"))
        );
    }
    let rest = h.store.read_all(0, 1000).await.unwrap();
    assert_eq!(rest.first().map(|e| e.position), Some(101));
    assert_eq!(rest.len(), first.len() - 100);

    // The early stream goes on from its kept head; its taken version is still a conflict.
    let kept = state
        .heads
        .iter()
        .find(|head| head.stream_id == StreamId::Connection(early).to_string())
        .expect("the early stream's head");
    let refreshed = || -> DomainEvent {
        connection::Event::Refreshed {
            tokens: token_set(now, 3600),
        }
        .into()
    };
    let next = h
        .store
        .append(StreamId::Connection(early), 2, vec![refreshed()], &ctx())
        .await
        .unwrap();
    assert_eq!((next[0].version, &next[0].prev_hash), (3, &kept.hash));
    let again = h
        .store
        .append(StreamId::Connection(early), 2, vec![refreshed()], &ctx())
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { actual: 3, .. })),
        "{again:?}"
    );
    assert_eq!(
        h.store
            .read_stream(StreamId::Connection(early), 1, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.version)
            .collect::<Vec<_>>(),
        vec![3]
    );
    // The next partition is still being written.
    let refused = h.store.archive_oldest_events(&mut Kept::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(m)) if m.contains("positions 101 to 200")),
        "{refused:?}"
    );
    h.finish().await;
}

/// SQLite's log is one file: archiving is refused, saying why, and changes nothing.
#[tokio::test]
async fn sqlite_refuses_to_archive() {
    let h = Harness::sqlite().await;
    due_connections(&h, Utc::now(), 1).await;
    let refused = h.store.archive_oldest_events(&mut Kept::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(m)) if m.contains("Postgres")),
        "{refused:?}"
    );
    assert_eq!(h.store.read_all(0, 10).await.unwrap().len(), 2);
    h.finish().await;
}
