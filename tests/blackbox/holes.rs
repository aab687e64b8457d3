//! The holes an outside attack found (issue 35), each closed and checked through the real binary:
//! where a platform's client secret may go, parameters changed only with consent, callbacks that
//! answer only their owner, lockouts that cannot be aimed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::{
    CompleteAuthorizationRequest, ConnectClientCredentialsRequest, ConnectionParam,
    CreateIntegrationRequest, GetConnectionRequest, GrantType, ListIntegrationsRequest,
    RefreshTokenRequest, StartAuthorizationRequest,
};
use tonic::Code;

use crate::access::{apikey, clients};
use crate::grants::{consent, create_integration, provider_config};
use crate::helpers::{Mode, Server};
use crate::reach::shop_config;

const LOOPBACK: (&str, &str) = ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true");

/// A TCP listener that counts the connections that reach it (and drops them).
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, seen)
}

fn host_param() -> ConnectionParam {
    ConnectionParam {
        name: "host".to_owned(),
        pattern: "[a-z0-9.]+".to_owned(),
        label: "Host".to_owned(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platforms_client_secret_goes_only_to_the_hosts_its_integration_lists() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let (port, seen) = counting_listener().await;
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let secret = provider.config().client_secret.clone();
    let mut config = provider_config(&provider, GrantType::ClientCredentials);
    config.token_url = format!("https://{{host}}:{port}/oauth/token");
    config.revocation_url = String::new();
    config.connection_params = vec![host_param()];
    let create = |config, secret: &str| CreateIntegrationRequest {
        config: Some(config),
        client_secret: secret.to_owned(),
        ..Default::default()
    };

    // Shared (the platform's secret), the host the customer's: refused, naming the setting.
    let refused = server
        .integrations()
        .await
        .create_integration(create(config.clone(), &secret))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("config.allowed_hosts") && refused.message().contains("{host}"),
        "{refused:?}"
    );

    // With allowed_hosts, a value outside the list is refused before anything is sent.
    let mut listed = config.clone();
    listed.allowed_hosts = vec!["127.0.0.1".to_owned()];
    let integration_id = create_integration(&server, listed, &secret).await;
    let mut connections = server.connections().await;
    let connect = |host: &str| ConnectClientCredentialsRequest {
        integration_id: integration_id.clone(),
        tenant: "acme".to_owned(),
        connection_params: [("host".to_owned(), host.to_owned())].into(),
        ..Default::default()
    };
    let refused = connections
        .connect_client_credentials(connect("localhost"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("connection_params.host")
            && refused.message().contains("allowed_hosts"),
        "{refused:?}"
    );
    assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing reached localhost");
    assert!(!refused.message().contains(&secret));
    // A listed host is reached (the listener speaks no TLS, so the grant then fails).
    let _ = connections
        .connect_client_credentials(connect("127.0.0.1"))
        .await
        .unwrap_err();
    assert!(
        seen.load(Ordering::SeqCst) >= 1,
        "the listed host was reached"
    );

    // No secret of the integration's own: each connection brings its client, any host goes.
    let before = seen.load(Ordering::SeqCst);
    let own = server
        .integrations()
        .await
        .create_integration(create(
            latchkey_proto::v1::IntegrationConfig {
                name: format!("{} (own clients)", config.name),
                ..config
            },
            "",
        ))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let _ = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: own,
            tenant: "acme".to_owned(),
            client_id: "customers-own".to_owned(),
            client_secret: "customers-own-secret".to_owned(),
            connection_params: [("host".to_owned(), "127.0.0.1".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(seen.load(Ordering::SeqCst) > before, "the customer's host");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_reauthorization_changes_no_parameter_of_the_active_connection() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(&server, shop_config(&provider), &secret).await;
    let mut connections = server.connections().await;
    let start = |connection_id: &str, shop: &str| StartAuthorizationRequest {
        integration_id: integration_id.clone(),
        tenant: "acme".to_owned(),
        connection_id: connection_id.to_owned(),
        connection_params: [("shop".to_owned(), shop.to_owned())].into(),
        ..Default::default()
    };
    let first = connections
        .start_authorization(start("", "acme"))
        .await
        .unwrap()
        .into_inner();
    let (status, _, page, _) = consent(&first.authorization_url).await;
    assert_eq!(status, 200, "{page}");
    let id = first.connection_id;

    // A re-authorization with another shop, never completed.
    let abandoned = connections
        .start_authorization(start(&id, "evil"))
        .await
        .unwrap()
        .into_inner();
    let (provider_url, _) = crate::grants::through_start_link(&abandoned.authorization_url).await;
    assert!(provider_url.contains("/shops/evil/"), "{provider_url}");
    let shop = |connections: &mut latchkey_proto::v1::connection_service_client::ConnectionServiceClient<_>| {
        let id = id.clone();
        let mut connections = connections.clone();
        async move {
            connections
                .get_connection(GetConnectionRequest {
                    connection_id: id,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .connection_params["shop"]
                .clone()
        }
    };
    assert_eq!(shop(&mut connections).await, "acme");
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: id.clone(),
        })
        .await
        .unwrap();
    let last = provider.requests().pop().unwrap();
    assert_eq!(last.target, "/shops/acme/token", "the refresh goes to A");

    // Completed, the new value is the connection's, in the append that authorizes it.
    let consented = connections
        .start_authorization(start(&id, "beta"))
        .await
        .unwrap()
        .into_inner();
    let (status, _, page, _) = consent(&consented.authorization_url).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(shop(&mut connections).await, "beta");
    let types = crate::grants::history_types(&server, &id).await;
    let n = types.len();
    assert_eq!(
        types[n - 2..],
        ["parameters_set", "authorized"],
        "{types:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_answers_only_the_tenant_that_started_it() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::postgres().await;
    let server = Server::start_with(&mode, &[LOOPBACK, ("LATCHKEY_AUTH", "api-keys")]).await;
    let admin = apikey(&mode, &["create", "--name", "platform"]).await;
    let key_a = apikey(&mode, &["create", "--name", "a", "--tenant", "acme"]).await;
    let key_b = apikey(&mode, &["create", "--name", "b", "--tenant", "globex"]).await;
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.redirect_uri = "https://platform.example/oauth/done".to_owned();
    let mut as_admin = clients(&server, Some(&admin)).await;
    let integration_id = as_admin
        .integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(config),
            client_secret: provider.config().client_secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut as_a = clients(&server, Some(&key_a)).await;
    let mut as_b = clients(&server, Some(&key_b)).await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let callback_query = |url: String| {
        let browser = browser.clone();
        async move {
            let at_provider = browser.get(&url).send().await.unwrap();
            let location = at_provider.headers()["location"]
                .to_str()
                .unwrap()
                .to_owned();
            url::Url::parse(&location)
                .unwrap()
                .query()
                .unwrap()
                .to_owned()
        }
    };
    for foreign_first in [true, false] {
        let started = as_a
            .connections
            .start_authorization(StartAuthorizationRequest {
                integration_id: integration_id.clone(),
                tenant: "acme".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let query = callback_query(started.authorization_url).await;
        let complete = || CompleteAuthorizationRequest {
            callback_query: query.clone(),
        };
        let foreign = |result: Result<tonic::Response<_>, tonic::Status>| {
            let refused: tonic::Status = result.unwrap_err();
            assert!(
                !refused.message().contains(&started.connection_id),
                "{refused:?}"
            );
        };
        if foreign_first {
            foreign(as_b.connections.complete_authorization(complete()).await);
        }
        let connection = as_a
            .connections
            .complete_authorization(complete())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(connection.connection_id, started.connection_id);
        foreign(as_b.connections.complete_authorization(complete()).await);
        // The owner's duplicate still gets its outcome.
        let again = as_a
            .connections
            .complete_authorization(complete())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.connection_id, started.connection_id);
    }
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_keys_from_one_address_never_lock_out_a_valid_key() {
    let mode = Mode::postgres().await;
    let server = Server::start_with(&mode, &[("LATCHKEY_AUTH", "api-keys")]).await;
    let admin = apikey(&mode, &["create", "--name", "platform"]).await;
    let mut attacker = clients(&server, Some("lk_not_a_key")).await;
    let mut guesser = clients(
        &server,
        Some(&format!("lk_{}_{}", "0".repeat(12), "A".repeat(43))),
    )
    .await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let flood = tokio::spawn(async move {
        let mut sent = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        while !flag.load(Ordering::SeqCst) {
            tick.tick().await;
            let client = if sent % 2 == 0 {
                &mut attacker
            } else {
                &mut guesser
            };
            let refused = client
                .integrations
                .list_integrations(ListIntegrationsRequest::default())
                .await
                .unwrap_err();
            assert!(
                matches!(
                    refused.code(),
                    Code::Unauthenticated | Code::ResourceExhausted
                ),
                "{refused:?}"
            );
            sent += 1;
        }
        sent
    });
    let mut valid = clients(&server, Some(&admin)).await;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    for call in 0..30 {
        tick.tick().await;
        if let Err(refused) = valid
            .integrations
            .list_integrations(ListIntegrationsRequest::default())
            .await
        {
            panic!("valid call {call} refused: {refused:?}");
        }
    }
    stop.store(true, Ordering::SeqCst);
    let sent = flood.await.unwrap();
    assert!(sent >= 250, "the flood ran at about 50/s for 6 s: {sent}");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_answer_does_not_lengthen_a_tokens_life() {
    use latchkey_fake_provider::{ExpiresIn, Quirks};
    use latchkey_proto::v1::GetTokenRequest;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(40),
        ..Default::default()
    });
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let integration_id = server
        .integrations()
        .await
        .create_integration(crate::helpers::cc_integration(&provider, "Late"))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut connections = server.connections().await;
    let id = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection_id;
    // The provider issues a 40 s token, and its answer arrives 8 s later.
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(40),
        answer_delay: Duration::from_secs(8),
        ..Default::default()
    });
    let sent = chrono::Utc::now();
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: id.clone(),
        })
        .await
        .unwrap();
    let connection = connections
        .get_connection(GetConnectionRequest {
            connection_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let expires = connection.expires_at.unwrap();
    let expires = chrono::DateTime::from_timestamp(expires.seconds, expires.nanos as u32).unwrap();
    // The request left just after `sent` (a second allowed for that), its answer 8 s later.
    assert!(
        expires <= sent + chrono::Duration::seconds(41),
        "expires {expires}, sent {sent}: counted from the request, not the answer"
    );
    // 32 s or so left: a caller asking for 35 s is not handed it.
    let refused = connections
        .get_token(GetTokenRequest {
            connection_id: id,
            min_ttl: Some(prost_types::Duration {
                seconds: 35,
                nanos: 0,
            }),
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("less than"), "{refused:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_own_integration_connects_only_that_tenant_whoever_asks() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    // Authentication off: every caller is an admin.
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let mut request = crate::helpers::cc_integration(&provider, "Acme's own");
    request.owner_tenant = "acme".to_owned();
    let cc = server
        .integrations()
        .await
        .create_integration(request)
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut connections = server.connections().await;
    let connect = |tenant: &str| ConnectClientCredentialsRequest {
        integration_id: cc.clone(),
        tenant: tenant.to_owned(),
        ..Default::default()
    };
    let refused = connections
        .connect_client_credentials(connect("globex"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    connections
        .connect_client_credentials(connect("acme"))
        .await
        .unwrap();
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.name = "Acme's own code".to_owned();
    let code = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(config),
            client_secret: provider.config().client_secret.clone(),
            owner_tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let refused = connections
        .start_authorization(StartAuthorizationRequest {
            integration_id: code,
            tenant: "globex".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_value_of_dot_dot_fails_the_authorization_with_its_reason() {
    use latchkey_fake_provider::Quirks;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        callback_params: vec![("realmId".to_owned(), "..".to_owned())],
        ..Default::default()
    });
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.base_uri = provider.url("/v3/company/{realmId}");
    config.callback_params = vec!["realmId".to_owned()];
    let integration_id =
        create_integration(&server, config, &provider.config().client_secret).await;
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
    let (_, _, page, _) = consent(&started.authorization_url).await;
    assert!(
        page.contains("Not connected") || page.contains("not connected"),
        "{page}"
    );
    let connection = connections
        .get_connection(GetConnectionRequest {
            connection_id: started.connection_id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let error = connection.last_error.unwrap();
    assert!(
        error.description.contains("realmId") && error.description.contains(". or .."),
        "{error:?}"
    );
    assert!(
        provider.token_calls().is_empty(),
        "no code was exchanged for a callback that would move a URL"
    );
    server.stop().await;
}

/// A fake provider, a server on the embedded store, and an authorization-code flow started there
/// through the API (with Latchkey's own callback).
async fn started_code_flow() -> (
    FakeProvider,
    Server,
    latchkey_proto::v1::StartAuthorizationResponse,
) {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &provider.config().client_secret,
    )
    .await;
    let started = server
        .connections()
        .await
        .start_authorization(StartAuthorizationRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (provider, server, started)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_hostile_error_text_is_stored_bounded_and_printed_inert() {
    let (_provider, server, started) = started_code_flow().await;
    let mut connections = server.connections().await;
    let (provider_url, cookie) =
        crate::grants::through_start_link(&started.authorization_url).await;
    let state = url::Url::parse(&provider_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    // What a provider (or anyone holding the state) can send back: 20,000 characters with
    // terminal escapes that would clear the screen and recolour it.
    let hostile = format!(
        "\u{1b}[2J\u{1b}[31mpwned\u{7}\r\n{}",
        "long description ".repeat(1_200)
    );
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("state", &state)
        .append_pair("error", "access_denied\u{1b}[0m")
        .append_pair("error_description", &hostile)
        .finish();
    let back = crate::grants::get_with(
        &format!("http://{}/oauth/callback?{query}", server.http_addr),
        &cookie,
    )
    .await;
    let status = back.status();
    assert!(status.as_u16() < 500, "{status}");
    let connection = connections
        .get_connection(GetConnectionRequest {
            connection_id: started.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let error = connection.last_error.unwrap();
    assert!(
        error.description.chars().count() <= 1_000,
        "{}",
        error.description.len()
    );
    assert!(error.description.contains("pwned"));
    for text in [&error.code, &error.description] {
        assert!(!text.chars().any(char::is_control), "{text:.80}");
    }
    let dir = latchkey_store::testing::TempDir::create();
    let env = [(
        "LATCHKEY_SERVER".to_owned(),
        format!("http://{}", server.grpc_addr),
    )];
    for args in [
        vec!["history", started.connection_id.as_str()],
        vec!["events", "--from", "0"],
        vec!["connections", "show", started.connection_id.as_str()],
    ] {
        let output = crate::helpers::command(&args, &env, &dir.path)
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        assert!(
            !output
                .stdout
                .iter()
                .any(|b| *b == 0x1b || *b == 0x07 || *b == b'\r'),
            "{args:?} printed a control character"
        );
    }
    dir.remove();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_token_in_a_kept_field_is_never_stored() {
    use latchkey_fake_provider::Quirks;
    const CANARY: &str = "xoxp-nested-canary-5e1f0c";
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        extra_fields: vec![
            (
                "authed_user".to_owned(),
                serde_json::json!({"id": "U1", "access_token": CANARY, "scope": "chat:write"}),
            ),
            (
                "incoming_webhook".to_owned(),
                serde_json::json!({"channel": "#general", "url": format!("https://hooks.example/{CANARY}")}),
            ),
        ],
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let mut config = provider_config(&provider, GrantType::ClientCredentials);
    config.metadata_fields = vec!["authed_user".to_owned(), "incoming_webhook".to_owned()];
    let integration_id =
        create_integration(&server, config, &provider.config().client_secret).await;
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
    let metadata = format!("{:?}", connection.metadata);
    assert!(
        metadata.contains("U1") && metadata.contains("#general"),
        "{metadata}"
    );
    assert!(!metadata.contains(CANARY), "{metadata}");
    let mut history = server
        .audit()
        .await
        .get_history(latchkey_proto::v1::GetHistoryRequest {
            stream: Some(
                latchkey_proto::v1::get_history_request::Stream::ConnectionId(
                    connection.connection_id.clone(),
                ),
            ),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    while let Some(event) = history.message().await.unwrap() {
        assert!(
            !event.payload_json.contains(CANARY),
            "{}",
            event.payload_json
        );
    }
    server.stop().await;
    for entry in std::fs::read_dir(mode.data_dir().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !crate::helpers::contains_bytes(&bytes, CANARY.as_bytes()),
                "{} holds the nested token",
                path.display()
            );
        }
    }
    mode.cleanup().await;
}

/// Every answer of the public listener, whatever made it: `nosniff`; on https, HSTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_answer_says_nosniff_and_https_adds_hsts() {
    let server = Server::start_with(
        &Mode::embedded(),
        &[("LATCHKEY_PUBLIC_URL", "https://connect.example")],
    )
    .await;
    let base = format!("http://{}", server.http_addr);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let session = "01939f3c-0000-7000-8000-000000000000";
    let answers = [
        client
            .get(format!("{base}/connect/assets/connect.css"))
            .send()
            .await
            .unwrap(),
        client.get(format!("{base}/healthz")).send().await.unwrap(),
        client
            .get(format!("{base}/no/such/page"))
            .send()
            .await
            .unwrap(),
        // A form that is not one (no fields): the 422 answer.
        client
            .post(format!("{base}/connect/s/{session}/start"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap(),
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(statuses[..3], [200, 200, 404], "{statuses:?}");
    for answer in &answers {
        let headers = answer.headers();
        assert_eq!(
            headers["x-content-type-options"],
            "nosniff",
            "{}",
            answer.url()
        );
        assert!(
            headers["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age="),
            "{}",
            answer.url()
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_from_one_address_do_not_hold_the_listener_from_others() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start_with(
        &Mode::embedded(),
        &[
            ("LATCHKEY_HTTP_MAX_CONNECTIONS", "100"),
            ("LATCHKEY_HTTP_REQUEST_TIMEOUT", "3"),
        ],
    )
    .await;
    let addr = server.http_addr;
    // 120 sockets from 127.0.0.1, each sending a form's head then dripping its body.
    let started = std::time::Instant::now();
    let mut slow = Vec::new();
    for _ in 0..120 {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /connect/s/x/start HTTP/1.1\r\nhost: {addr}\r\ncontent-type: \
             application/x-www-form-urlencoded\r\ncontent-length: 100000\r\n\r\na"
        );
        let _ = socket.write_all(head.as_bytes()).await;
        slow.push(socket);
    }
    let drip = tokio::spawn(async move {
        let mut closed_at = vec![None; slow.len()];
        let mut buf = [0u8; 256];
        while started.elapsed() < Duration::from_secs(7) {
            for (i, socket) in slow.iter_mut().enumerate() {
                if closed_at[i].is_some() {
                    continue;
                }
                let open = socket.write_all(b"a").await.is_ok()
                    && !matches!(
                        tokio::time::timeout(Duration::from_millis(1), socket.read(&mut buf)).await,
                        Ok(Ok(0) | Err(_))
                    );
                if !open {
                    closed_at[i] = Some(started.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        closed_at
    });
    // Meanwhile /healthz from another address answers within 2 s, every time.
    while started.elapsed() < Duration::from_secs(5) {
        let asked = std::time::Instant::now();
        let answered = tokio::time::timeout(Duration::from_secs(2), async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            let mut stream = socket.connect(addr).await.unwrap();
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            answer
        })
        .await
        .unwrap_or_else(|_| panic!("/healthz took over 2 s at {:?}", started.elapsed()));
        assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
        assert!(asked.elapsed() < Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Every slow socket was closed: at once (over the address's share) or at the deadline.
    let closed_at = drip.await.unwrap();
    for (i, at) in closed_at.iter().enumerate() {
        let at = at.unwrap_or_else(|| panic!("slow socket {i} still open after 7 s"));
        assert!(at < Duration::from_secs(5), "socket {i} closed at {at:?}");
    }
    server.stop().await;
}

/// A session for one client-credentials integration, its link opened by `browser`: the session's
/// page URL, the cookie, and the page.
async fn opened_session(
    server: &Server,
    integration_id: &str,
    browser: &reqwest::Client,
    base: &str,
) -> (String, String, String) {
    use latchkey_proto::v1::CreateConnectSessionRequest;
    let created = server
        .connections()
        .await
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id.to_owned()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let url = created.connect_url.replace("https://connect.example", base);
    // A mail scanner's HEAD and a preview's cookieless GET spend nothing.
    let head = browser.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let preview = browser.get(&url).send().await.unwrap();
    assert_eq!(preview.status(), 200);
    let opened = crate::connect::open_link(browser, &url).await;
    assert_eq!(opened.status(), 303, "the link still opens after them");
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
    let page_url = format!("{base}/connect/s/{}", created.session_id);
    let page = browser
        .get(&page_url)
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (page_url, cookie, page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_link_is_spent_by_a_click_and_ends_with_its_connection() {
    use latchkey_proto::v1::ListConnectionsRequest;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(
        &Mode::embedded(),
        &[LOOPBACK, ("LATCHKEY_PUBLIC_URL", "https://connect.example")],
    )
    .await;
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::ClientCredentials),
        &provider.config().client_secret,
    )
    .await;
    let base = format!("http://{}", server.http_addr);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (page_url, set_cookie, page) =
        opened_session(&server, &integration_id, &browser, &base).await;
    // On https: a __Host- cookie, Secure, for this host alone.
    assert!(set_cookie.starts_with("__Host-lk_connect_"), "{set_cookie}");
    assert!(set_cookie.contains("Secure") && set_cookie.contains("Path=/"));
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = crate::connect::csrf_of(&page);
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf)
        .append_pair("integration_id", &integration_id)
        .append_pair("client_id", &provider.config().client_id)
        .append_pair("client_secret", &provider.config().client_secret)
        .finish();
    let post = |origin: Option<&str>| {
        let mut request = browser
            .post(format!("{page_url}/credentials"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    // Posted from another site (the cookie rides along; the form token was stolen): refused.
    let forged = post(Some("https://evil.example")).await.unwrap();
    assert_eq!(forged.status(), 403);
    // A form that is not one: the 422 answer, nosniff like every other.
    let malformed = browser
        .post(format!("{page_url}/credentials"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=x")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 422);
    assert_eq!(malformed.headers()["x-content-type-options"], "nosniff");

    let connected = post(Some("https://connect.example")).await.unwrap();
    assert_eq!(connected.status(), 200);
    assert!(
        connected
            .text()
            .await
            .unwrap()
            .contains("<h1>Connected</h1>")
    );
    // The same form again (a double submit, a back button): nothing more.
    let again = post(None).await.unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("You are connected"));
    let listed = server
        .connections()
        .await
        .list_connections(ListConnectionsRequest {
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.connections.len(), 1, "one link, one connection");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_started_authorization_completes_only_in_the_browser_that_opened_it() {
    use latchkey_proto::v1::ConnectionStatus;
    let (provider, server, started) = started_code_flow().await;
    let mut connections = server.connections().await;
    let link = started.authorization_url.clone();
    assert!(
        link.starts_with(&format!("http://{}/oauth/start/", server.http_addr)),
        "{link}"
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // A link checker's HEAD binds nothing.
    assert_eq!(browser.head(&link).send().await.unwrap().status(), 200);
    let (provider_url, cookie) = crate::grants::through_start_link(&link).await;
    assert!(cookie.as_deref().unwrap().starts_with("lk_auth_"));
    // Opened again, by anyone: refused.
    assert_eq!(browser.get(&link).send().await.unwrap().status(), 410);
    // The provider's page, forwarded: whoever consents there comes back without the cookie.
    let at_provider = browser.get(&provider_url).send().await.unwrap();
    let callback = at_provider.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let elsewhere = browser.get(&callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), 403);
    assert!(
        elsewhere
            .text()
            .await
            .unwrap()
            .contains("finish it in the browser")
    );
    let state = |connections: &mut latchkey_proto::v1::connection_service_client::ConnectionServiceClient<_>| {
        let mut connections = connections.clone();
        let id = started.connection_id.clone();
        async move {
            connections
                .get_connection(GetConnectionRequest {
                    connection_id: id,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .status()
        }
    };
    assert_eq!(state(&mut connections).await, ConnectionStatus::Pending);
    assert!(provider.token_calls().is_empty(), "no code exchanged");
    // The browser that opened the link completes it.
    let back = crate::grants::get_with(&callback, &cookie).await;
    assert_eq!(back.status(), 200);
    assert!(back.text().await.unwrap().contains("Connected"));
    assert_eq!(state(&mut connections).await, ConnectionStatus::Active);
    server.stop().await;
}

/// What `verify` proves, and what `verify --projections` adds: a projection row edited by hand
/// (its state, or a column queries filter on) passes the chain check and is named by the replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_projections_names_a_row_edited_by_hand() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::postgres().await;
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let integration_id = server
        .integrations()
        .await
        .create_integration(crate::helpers::cc_integration(&provider, "Edited"))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = server
            .connections()
            .await
            .connect_client_credentials(ConnectClientCredentialsRequest {
                integration_id: integration_id.clone(),
                tenant: "acme".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .connection_id;
        ids.push(id);
    }
    server.stop().await;
    let verify = |args: &'static [&'static str]| {
        let env = mode.env();
        async move {
            let dir = latchkey_store::testing::TempDir::create();
            let output = crate::helpers::command(args, &env, &dir.path)
                .output()
                .await
                .unwrap();
            dir.remove();
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
            )
        }
    };
    let (code, out) = verify(&["verify", "--projections"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("every row is what the log says"), "{out}");

    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    // One row moved to another tenant's lists; another's scopes widened in its state.
    sqlx::query("UPDATE connections SET tenant = 'globex' WHERE id = $1::uuid")
        .bind(&ids[0])
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE connections SET state = replace(state, '\"scopes\":[]', '\"scopes\":[\"admin\"]') \
         WHERE id = $1::uuid",
    )
    .bind(&ids[1])
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let (code, out) = verify(&["verify"]).await;
    assert_eq!(code, Some(0), "the chains are intact: {out}");
    let (code, out) = verify(&["verify", "--projections"]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("connection-{}: column tenant", ids[0])),
        "{out}"
    );
    let line = out
        .lines()
        .find(|l| l.contains(&format!("connection-{}: ", ids[1])))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("scopes"), "{line}");
    mode.cleanup().await;
}
