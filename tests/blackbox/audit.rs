use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use latchkey_domain::{
    ConnectionId, DomainEvent, GrantType, IntegrationId, Sealed, StreamId, TenantId, connection,
};
use latchkey_proto::v1::{
    ConnectionStatus, EventFilter, GetConnectionRequest, GetHistoryRequest, ListConnectionsRequest,
    ReplayEventsRequest, get_history_request,
};
use latchkey_store::{EventContext, EventStore, PgStore};
use tonic::Code;

use crate::helpers::{Mode, Server};

fn at(actor: &str, offset_secs: i64) -> EventContext {
    EventContext {
        actor: actor.to_owned(),
        correlation_id: None,
        occurred_at: Utc::now() - Duration::hours(1) + Duration::seconds(offset_secs),
    }
}

/// Writes a connection's life the way the grant and refresh machinery will: created,
/// authorized at +10s, revoked at +20s.
async fn connection_history(store: &dyn EventStore, tenant: &str) -> ConnectionId {
    let id = ConnectionId::new_v7();
    let stream = StreamId::Connection(id);
    let created: DomainEvent = connection::Event::ConnectionCreated {
        connection_id: id,
        integration_id: IntegrationId::new_v7(),
        tenant: TenantId::parse(tenant).unwrap(),
        grant_type: GrantType::ClientCredentials,
    }
    .into();
    store
        .append(stream, 0, vec![created], &at("tenant:acme", 0))
        .await
        .unwrap();
    let authorized: DomainEvent = connection::Event::Authorized {
        grant_type: GrantType::ClientCredentials,
        tokens: connection::TokenSet {
            access_token: Sealed::from_bytes(vec![1; 48]),
            refresh_token: None,
            token_type: "Bearer".to_owned(),
            expires_at: Some(Utc::now() + Duration::hours(1)),
            scopes: vec!["read".to_owned()],
            metadata: BTreeMap::from([(
                "instance_url".to_owned(),
                serde_json::json!("https://acme.example"),
            )]),
            refresh_at: None,
            refresh_token_expires_at: None,
        },
        credentials: None,
        provider_account_id: None,
        via: None,
        grant: None,
    }
    .into();
    store
        .append(stream, 1, vec![authorized], &at("system:grant", 10))
        .await
        .unwrap();
    let revoked: DomainEvent = connection::Event::Revoked {
        reason: "offboarded".to_owned(),
        provider: Vec::new(),
    }
    .into();
    store
        .append(stream, 2, vec![revoked], &at("admin", 20))
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn connections_and_their_history_are_read_from_the_log() {
    let mode = Mode::postgres().await;
    let server = Server::start(&mode).await;
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let store = PgStore::connect(&db.url, 4).await.unwrap();
    let first = connection_history(&store, "acme").await;
    let second = connection_history(&store, "acme").await;
    let other = connection_history(&store, "globex").await;

    let mut connections = server.connections().await;
    let now = connections
        .get_connection(GetConnectionRequest {
            connection_id: first.to_string(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now.status(), ConnectionStatus::Revoked);
    assert_eq!(now.tenant, "acme");
    assert_eq!(now.version, 3);

    let created_at = now.created_at.unwrap();
    let then = connections
        .get_connection(GetConnectionRequest {
            connection_id: first.to_string(),
            as_of: Some(prost_types::Timestamp {
                seconds: created_at.seconds + 15,
                nanos: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        then.status(),
        ConnectionStatus::Active,
        "as it was between authorize and revoke"
    );
    assert_eq!(then.version, 2);
    assert_eq!(then.scopes, ["read"]);
    let instance_url = &then.metadata.unwrap().fields["instance_url"];
    assert_eq!(
        instance_url.kind,
        Some(prost_types::value::Kind::StringValue(
            "https://acme.example".to_owned()
        ))
    );
    let before = connections
        .get_connection(GetConnectionRequest {
            connection_id: first.to_string(),
            as_of: Some(prost_types::Timestamp {
                seconds: created_at.seconds - 60,
                nanos: 0,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(before.code(), Code::NotFound);

    let page = connections
        .list_connections(ListConnectionsRequest {
            tenant: "acme".to_owned(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.connections.len(), 1);
    assert_eq!(page.connections[0].connection_id, first.to_string());
    let rest = connections
        .list_connections(ListConnectionsRequest {
            tenant: "acme".to_owned(),
            page_size: 1,
            page_token: page.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.connections[0].connection_id, second.to_string());
    let bad = connections
        .list_connections(ListConnectionsRequest {
            tenant: "a.b".to_owned(),
            status: 99,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("tenant") && bad.message().contains("status"),
        "{bad:?}"
    );

    let mut audit = server.audit().await;
    let mut history = audit
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::ConnectionId(first.to_string())),
            from_version: 2,
        })
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while let Some(e) = history.message().await.unwrap() {
        seen.push((e.version, e.r#type, e.actor));
    }
    assert_eq!(
        seen,
        [
            (2, "authorized".to_owned(), "system:grant".to_owned()),
            (3, "revoked".to_owned(), "admin".to_owned())
        ]
    );
    let unknown = audit
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::ConnectionId(
                ConnectionId::new_v7().to_string(),
            )),
            from_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let replay = |filter: EventFilter, from_position: i64| ReplayEventsRequest {
        from_position,
        filter: Some(filter),
        follow: false,
    };
    let mut all = audit
        .replay_events(replay(EventFilter::default(), 0))
        .await
        .unwrap()
        .into_inner();
    let mut positions = Vec::new();
    while let Some(e) = all.message().await.unwrap() {
        positions.push(e.position);
    }
    assert_eq!(positions.len(), 9);
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    let mut from_middle = audit
        .replay_events(replay(EventFilter::default(), positions[4]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        from_middle.message().await.unwrap().unwrap().position,
        positions[4]
    );
    let mut globex_revocations = audit
        .replay_events(replay(
            EventFilter {
                tenant: "globex".to_owned(),
                types: vec!["revoked".to_owned()],
                connection_id: String::new(),
            },
            0,
        ))
        .await
        .unwrap()
        .into_inner();
    let only = globex_revocations
        .message()
        .await
        .unwrap()
        .expect("one event");
    assert_eq!(only.stream_id, format!("connection-{other}"));
    assert!(globex_revocations.message().await.unwrap().is_none());

    let typo = audit
        .replay_events(replay(
            EventFilter {
                types: vec!["refreshd".to_owned()],
                ..Default::default()
            },
            0,
        ))
        .await
        .unwrap_err();
    assert_eq!(typo.code(), Code::InvalidArgument);
    assert!(typo.message().contains("filter.types[0]"));
    store.close().await;
    server.stop().await;
    mode.cleanup().await;
}
