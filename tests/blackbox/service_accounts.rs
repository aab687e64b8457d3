//! Service accounts (RFC 7523 JWT bearer): a Google-format key file or a PEM key connects; the
//! provider checks each assertion's signature, issuer, subject, audience, expiry and `jti`; a
//! new assertion renews the token before it expires; the key is nowhere in clear.

use std::time::Duration;

use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::{
    ConnectServiceAccountRequest, GetTokenRequest, GrantType, IntegrationConfig,
    ListConnectionsRequest, RefreshTokenRequest,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{
    LOOPBACK, Mode, Server, contains_bytes, history, integration, min_ttl, pg_dump, wait_until,
};

const RSA_KEY: &str = include_str!("fixtures/service-account-rsa.pem");
const RSA_PUBLIC: &str = include_str!("fixtures/service-account-rsa.pub.pem");
const EC_KEY: &str = include_str!("fixtures/service-account-ec.pem");
const EC_PUBLIC: &str = include_str!("fixtures/service-account-ec.pub.pem");
const WRONG_KEY: &str = include_str!("fixtures/wrong-rsa.pem");

/// A JWT bearer integration at the fake provider (tokens renewed 5 s before expiry).
fn jwt_integration(provider: &FakeProvider) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("Service {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::JwtBearer as i32,
        token_url: provider.url("/token"),
        client_id: provider.config().client_id.clone(),
        scopes: vec!["read".to_owned()],
        refresh_margin_secs: Some(5),
        ..Default::default()
    }
}

/// A line from the middle of a PEM key: what a leak of the key would show.
fn key_line(pem: &str) -> &str {
    pem.lines().nth(3).unwrap_or_default()
}

#[tokio::test]
async fn a_service_account_file_connects_and_a_new_assertion_renews_the_token_before_expiry() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let issuer = "bot@acme-project.iam.gserviceaccount.com";
    provider.trust_service_account(issuer, RSA_PUBLIC);
    // Tokens live 8 s: with a 5 s margin, the refresher signs anew within about 3 s.
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(8),
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let integration_id = integration(&server, jwt_integration(&provider), &provider).await;
    let key_file = serde_json::json!({
        "type": "service_account",
        "project_id": "acme-project",
        "private_key_id": "key-1",
        "private_key": RSA_KEY,
        "client_email": issuer,
        "token_uri": provider.url("/token"),
    })
    .to_string();
    let mut connections = server.connections().await;
    let connection = connections
        .connect_service_account(ConnectServiceAccountRequest {
            integration_id: integration_id.clone(),
            tenant: "acme".to_owned(),
            key: key_file,
            subject: "ada@acme.example".to_owned(),
            extra_claims: Some(prost_types::Struct {
                fields: [(
                    "box_sub_type".to_owned(),
                    prost_types::Value {
                        kind: Some(prost_types::value::Kind::StringValue("enterprise".into())),
                    },
                )]
                .into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(connection.grant_type(), GrantType::JwtBearer);
    assert!(connection.can_refresh, "a new assertion renews it");
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id.clone(),
            min_ttl: min_ttl(1),
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(provider.accepts_access_token(&token.access_token));

    let accepted = provider.accepted_assertions();
    let first = &accepted[0];
    assert_eq!(first["iss"], issuer, "the file's client_email");
    assert_eq!(first["sub"], "ada@acme.example");
    assert_eq!(first["aud"], provider.url("/token"), "the file's token_uri");
    assert_eq!(
        first["scope"], "read",
        "the integration's scopes, in the claim"
    );
    assert_eq!(first["box_sub_type"], "enterprise");
    assert_eq!(
        first["exp"].as_i64().unwrap() - first["iat"].as_i64().unwrap(),
        60
    );

    // Renewed by the refresher before expiry: a second assertion (a new jti), a new token.
    wait_until("a second assertion", Duration::from_secs(20), || async {
        provider.accepted_assertions().len() >= 2
    })
    .await;
    let accepted = provider.accepted_assertions();
    assert_ne!(accepted[0]["jti"], accepted[1]["jti"]);
    wait_until("the renewed token served", Duration::from_secs(10), || {
        let mut connections = connections.clone();
        let id = connection.connection_id.clone();
        let old = token.access_token.clone();
        async move {
            connections
                .get_token(GetTokenRequest {
                    connection_id: id,
                    min_ttl: min_ttl(1),
                    dpop: None,
                })
                .await
                .is_ok_and(|t| t.into_inner().access_token != old)
        }
    })
    .await;

    // The key is nowhere in clear: not in the history, not in the log.
    let events = history(&server, &connection.connection_id).await;
    let payloads: String = events.iter().map(|e| e.payload_json.as_str()).collect();
    assert!(payloads.contains("\"jwt_bearer\""), "{payloads}");
    assert!(payloads.contains(issuer), "the issuer is public");
    assert!(!payloads.contains(key_line(RSA_KEY)), "the key is sealed");
    let (_, log) = server.stop().await;
    assert!(!log.contains(key_line(RSA_KEY)));
    mode.cleanup().await;
}

#[tokio::test]
async fn a_pem_key_connects_and_a_wrong_or_unreadable_key_is_named() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.trust_service_account("salesforce-consumer-key", EC_PUBLIC);
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let integration_id = integration(&server, jwt_integration(&provider), &provider).await;
    let mut connections = server.connections().await;
    let request = |key: &str, algorithm: &str| ConnectServiceAccountRequest {
        integration_id: integration_id.clone(),
        tenant: "acme".to_owned(),
        key: key.to_owned(),
        algorithm: algorithm.to_owned(),
        issuer: "salesforce-consumer-key".to_owned(),
        subject: "ada@acme.example".to_owned(),
        // Salesforce's audience is its login host, not the token URL.
        audience: provider.issuer(),
        ..Default::default()
    };

    // ES256 with a PKCS#8 P-256 key, the audience as given.
    let connection = connections
        .connect_service_account(request(EC_KEY, "ES256"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(connection.grant_type(), GrantType::JwtBearer);
    assert_eq!(provider.accepted_assertions()[0]["aud"], provider.issuer());

    // Key rotation: the connection takes a new key (the provider trusts both) and keeps its id.
    provider.trust_service_account("salesforce-consumer-key", RSA_PUBLIC);
    let mut rotate = request(RSA_KEY, "RS256");
    rotate.connection_id = connection.connection_id.clone();
    let rotated = connections
        .connect_service_account(rotate)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rotated.connection_id, connection.connection_id);
    assert!(rotated.version > connection.version, "{rotated:?}");
    // A key the provider refuses changes nothing; the rotated key still renews.
    let mut refused_rotation = request(WRONG_KEY, "RS256");
    refused_rotation.connection_id = connection.connection_id.clone();
    let refused = connections
        .connect_service_account(refused_rotation)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let renewed = connections
        .refresh_token(RefreshTokenRequest {
            connection_id: connection.connection_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        renewed.version,
        rotated.version + 1,
        "one refresh, nothing between"
    );
    assert_eq!(provider.accepted_assertions().len(), 3);

    // A key the provider does not trust: the provider's refusal, and no connection.
    let wrong = connections
        .connect_service_account(request(WRONG_KEY, "RS256"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::FailedPrecondition, "{wrong:?}");
    assert!(wrong.message().contains("invalid_grant"), "{wrong:?}");

    // Refused before anything is sent, each naming its field; the key never quoted.
    for (key, algorithm, field) in [
        ("not a key at all", "RS256", "key"),
        (RSA_KEY, "ES256", "key"),
        (EC_KEY, "HS256", "algorithm"),
        ("", "RS256", "key"),
    ] {
        let refused = connections
            .connect_service_account(request(key, algorithm))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        let fields: Vec<String> = refused
            .get_details_bad_request()
            .expect("google.rpc.BadRequest")
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
        assert!(!refused.message().contains(key_line(RSA_KEY)));
    }
    let mut reserved = request(EC_KEY, "ES256");
    reserved.extra_claims = Some(prost_types::Struct {
        fields: [(
            "iss".to_owned(),
            prost_types::Value {
                kind: Some(prost_types::value::Kind::StringValue("someone".into())),
            },
        )]
        .into(),
    });
    let refused = connections
        .connect_service_account(reserved)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("extra_claims"), "{refused:?}");
    let listed = connections
        .list_connections(ListConnectionsRequest {
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.connections.len(), 1, "only the first connected");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_accounts_key_is_in_no_database_row_and_no_nats_message() {
    use crate::relay::{Topic, nats_url};
    let url = nats_url();
    let topic = Topic::new();
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let issuer = "dump-check@acme-project.iam.gserviceaccount.com";
    provider.trust_service_account(issuer, RSA_PUBLIC);
    let mode = Mode::postgres().await;
    let mut env = topic.env(&url);
    env.push((LOOPBACK.0.to_owned(), LOOPBACK.1.to_owned()));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let integration_id = integration(&server, jwt_integration(&provider), &provider).await;
    let mut connections = server.connections().await;
    let connection = connections
        .connect_service_account(ConnectServiceAccountRequest {
            integration_id,
            tenant: "acme".to_owned(),
            key: RSA_KEY.to_owned(),
            issuer: issuer.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: connection.connection_id.clone(),
        })
        .await
        .unwrap();
    // Created, authorized, refreshed (and the integration's own events) reach the stream.
    assert!(topic.wait_for(&url, 4, Duration::from_secs(10)).await >= 4);
    let messages = topic.messages(&url).await;
    for message in &messages {
        assert!(
            !contains_bytes(&message.payload, key_line(RSA_KEY).as_bytes()),
            "the key in a NATS payload"
        );
    }
    let dump = pg_dump(&mode).await;
    assert!(
        contains_bytes(&dump, issuer.as_bytes()),
        "the dump holds the connection"
    );
    assert!(!contains_bytes(&dump, key_line(RSA_KEY).as_bytes()));
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

#[tokio::test]
async fn a_key_the_provider_stops_accepting_asks_for_a_new_key_and_a_rotation_recovers() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let issuer = "docusign-integration-key";
    provider.trust_service_account(issuer, RSA_PUBLIC);
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let integration_id = integration(&server, jwt_integration(&provider), &provider).await;
    let mut connections = server.connections().await;
    let request = |key: &str, connection_id: &str| ConnectServiceAccountRequest {
        integration_id: integration_id.clone(),
        tenant: "acme".to_owned(),
        key: key.to_owned(),
        issuer: issuer.to_owned(),
        subject: "user-4711".to_owned(),
        connection_id: connection_id.to_owned(),
        ..Default::default()
    };
    let connection = connections
        .connect_service_account(request(RSA_KEY, ""))
        .await
        .unwrap()
        .into_inner();
    let id = connection.connection_id.clone();

    // The provider revokes the key: the next renewal is refused for good.
    provider.distrust_service_accounts();
    let refused = connections
        .refresh_token(RefreshTokenRequest {
            connection_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(
        refused.get_details_error_info().map(|i| i.reason),
        Some("REAUTHORIZATION_REQUIRED".to_owned()),
        "{refused:?}"
    );
    let state = crate::helpers::connection(&server, &id).await;
    assert_eq!(
        state.status(),
        latchkey_proto::v1::ConnectionStatus::ReauthorizationRequired
    );

    // A new key, trusted at the provider, brings the same connection back.
    provider.trust_service_account(issuer, EC_PUBLIC);
    let mut rotate = request(EC_KEY, &id);
    rotate.algorithm = "ES256".to_owned();
    let recovered = connections
        .connect_service_account(rotate)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recovered.connection_id, id);
    assert_eq!(
        recovered.status(),
        latchkey_proto::v1::ConnectionStatus::Active
    );
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: id,
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(provider.accepts_access_token(&token.access_token));
    server.stop().await;
    mode.cleanup().await;
}
