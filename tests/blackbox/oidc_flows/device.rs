//! Device authorization (RFC 8628), against oidc-provider: approved, denied, expired, from the
//! CLI, and followed again by the next replica to start.

use super::*;

#[tokio::test]
async fn a_device_authorization_connects_when_approved_and_fails_when_denied_or_expired() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let provider = OidcProvider::start(json!({ "clients": [device_client()] })).await;
    let integration_id = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(device_integration(&provider)),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut connections = server.connections().await;
    let start = |integration_id: &str| StartDeviceAuthorizationRequest {
        integration_id: integration_id.to_owned(),
        tenant: "acme".to_owned(),
        ..Default::default()
    };

    // Approved: the poller picks up the tokens; the provider calls them active.
    let started = connections
        .start_device_authorization(start(&integration_id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.verification_uri, provider.url("/device"));
    assert!(
        started.verification_uri_complete.contains("user_code="),
        "{}",
        started.verification_uri_complete
    );
    assert!(started.interval.is_some_and(|i| i.seconds >= 1));
    let pending = connection(&server, &started.connection_id).await;
    assert_eq!(pending.status, ConnectionStatus::Pending as i32);
    assert_eq!(pending.grant_type, GrantType::DeviceCode as i32);
    provider.decide_device_code(&started.user_code, true).await;
    let approved = settled(&server, &started.connection_id).await;
    assert_eq!(approved.status, ConnectionStatus::Active as i32);
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let introspection = provider.introspect(&token.access_token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["client_id"], "tv");
    // It refreshes like any connection: a new token, also active.
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: started.connection_id.clone(),
        })
        .await
        .unwrap();
    let refreshed = connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(refreshed.access_token, token.access_token);
    assert_eq!(
        provider.introspect(&refreshed.access_token).await["active"],
        true
    );

    // Denied: authorization_failed with the provider's access_denied.
    let started = connections
        .start_device_authorization(start(&integration_id))
        .await
        .unwrap()
        .into_inner();
    provider.decide_device_code(&started.user_code, false).await;
    let denied = settled(&server, &started.connection_id).await;
    assert_eq!(denied.status, ConnectionStatus::AuthorizationFailed as i32);
    assert_eq!(denied.last_error.unwrap().code, "access_denied");

    // Left alone until the code expires: authorization_failed, expired_token.
    let short =
        OidcProvider::start(json!({ "clients": [device_client()], "device_code_ttl": 2 })).await;
    let short_integration = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(device_integration(&short)),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let started = connections
        .start_device_authorization(start(&short_integration))
        .await
        .unwrap()
        .into_inner();
    let expired = settled(&server, &started.connection_id).await;
    assert_eq!(expired.status, ConnectionStatus::AuthorizationFailed as i32);
    assert_eq!(expired.last_error.unwrap().code, "expired_token");

    // The device codes are in no event and no log line.
    let (_, log) = server.stop().await;
    assert!(
        !log.contains("device_code\":\""),
        "a device code in the log"
    );
    mode.cleanup().await;
}

#[tokio::test]
async fn a_device_authorization_is_refused_for_another_grant_and_by_the_provider_without_a_trace() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let provider = OidcProvider::start(json!({ "clients": [device_client()] })).await;
    let mut integrations = server.integrations().await;
    // A device-code integration needs its endpoint.
    let refused = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                device_authorization_url: String::new(),
                ..device_integration(&provider)
            }),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("no endpoint");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("device_authorization_url"),
        "{}",
        refused.message()
    );
    // A client the provider does not know: its refusal is the answer, and nothing is recorded.
    let unknown = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                client_id: "nobody".to_owned(),
                ..device_integration(&provider)
            }),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut connections = server.connections().await;
    let error = connections
        .start_device_authorization(StartDeviceAuthorizationRequest {
            integration_id: unknown.clone(),
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("unknown client");
    assert_eq!(error.code(), Code::FailedPrecondition, "{error:?}");
    let listed = connections
        .list_connections(ListConnectionsRequest {
            integration_id: unknown,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.connections.is_empty());
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn the_cli_prints_a_device_code_and_waits_for_the_customer() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let provider = OidcProvider::start(json!({ "clients": [device_client()] })).await;
    let integration_id = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(device_integration(&provider)),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let env = [(
        "LATCHKEY_SERVER".to_owned(),
        format!("http://{}", server.grpc_addr),
    )];
    let args = [
        "connect",
        "device",
        "--integration",
        &integration_id,
        "--tenant",
        "acme",
        "--wait",
        "--json",
    ];
    let mut child = crate::helpers::command(&args, &env, &std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started: serde_json::Value =
        serde_json::from_str(&lines.next_line().await.unwrap().expect("the code")).unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    assert_eq!(started["verification_uri"], provider.url("/device"));
    provider.decide_device_code(user_code, true).await;
    let connected: serde_json::Value =
        serde_json::from_str(&lines.next_line().await.unwrap().expect("the connection")).unwrap();
    assert_eq!(connected["status"], "ACTIVE", "{connected}");
    assert_eq!(connected["connection_id"], started["connection_id"]);
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{status:?}");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn a_device_authorization_is_followed_again_by_the_next_replica_to_start() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let provider = OidcProvider::start(json!({ "clients": [device_client()] })).await;
    let integration_id = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(device_integration(&provider)),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let started = server
        .connections()
        .await
        .start_device_authorization(StartDeviceAuthorizationRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // The replica that started it is gone before the customer decides.
    server.kill().await;
    provider.decide_device_code(&started.user_code, true).await;
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let connected = settled(&server, &started.connection_id).await;
    assert_eq!(connected.status, ConnectionStatus::Active as i32);
    server.stop().await;
    mode.cleanup().await;
}

/// The hidden fields of the page's first form, as a form body (the values unescaped).
fn hidden_fields(page: &str) -> String {
    let unescape = |v: &str| {
        v.replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&#x2f;", "/")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
    };
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for input in page.split("<input type=\"hidden\" name=\"").skip(1) {
        let name = input.split('"').next().unwrap_or_default();
        let value = input
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or_default();
        pairs.append_pair(name, &unescape(value));
    }
    pairs.finish()
}

#[tokio::test]
async fn a_connect_page_shows_a_device_code_and_the_outcome_once_it_is_approved() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let provider = OidcProvider::start(json!({ "clients": [device_client()] })).await;
    let integration_id = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(device_integration(&provider)),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let created = server
        .connections()
        .await
        .create_connect_session(latchkey_proto::v1::CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id.clone()],
            ..Default::default()
        })
        .await
        .expect("a device-flow integration may be offered")
        .into_inner();
    let browser = crate::helpers::browser();
    let opened = crate::connect::open_link(&browser, &created.connect_url).await;
    let cookie = opened.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session_page = format!(
        "http://{}/connect/s/{}",
        server.http_addr, created.session_id
    );
    let post = |url: String, body: String| {
        browser
            .post(url)
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let list = browser
        .get(&session_page)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("with a code</button>"), "{list}");
    let csrf = crate::connect::csrf_of(&list);
    let page = post(
        format!("{session_page}/device"),
        format!("csrf={csrf}&integration_id={integration_id}"),
    )
    .await
    .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let user_code = page
        .split("id=\"device-code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the code on the page")
        .to_owned();
    assert!(page.contains(&provider.url("/device")), "{page}");
    assert!(page.contains("<svg"), "a QR code of the link: {page}");
    let status_url = format!(
        "http://{}{}",
        server.http_addr,
        page.split("<form method=\"post\" action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
    );
    let body = hidden_fields(&page);
    // Not approved yet: the code again.
    let waiting = post(status_url.clone(), body.clone()).await.unwrap();
    let waiting = waiting.text().await.unwrap();
    assert!(waiting.contains("Not approved yet"), "{waiting}");
    assert!(waiting.contains(&user_code), "{waiting}");
    // Approved at the provider: once Latchkey has the tokens, the page says so.
    provider.decide_device_code(&user_code, true).await;
    let connection_id = status_url.rsplit('/').next().unwrap().to_owned();
    settled(&server, &connection_id).await;
    let done = post(status_url.clone(), body.clone()).await.unwrap();
    let done = done.text().await.unwrap();
    // (The session made the one connection it was for: its pages now say so.)
    assert!(
        done.contains("Your account is connected.") || done.contains("You are connected"),
        "{done}"
    );
    let listed = server
        .connections()
        .await
        .list_connections(ListConnectionsRequest {
            integration_id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.connections.len(), 1);
    assert_eq!(
        listed.connections[0].status,
        ConnectionStatus::Active as i32
    );
    server.stop().await;
    mode.cleanup().await;
}
