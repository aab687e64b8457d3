use latchkey_proto::v1::GetConnectionRequest;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::helpers::{Mode, Server, cc_integration};

#[tokio::test]
async fn health_is_served_over_grpc_and_http() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut health = HealthClient::new(server.channel().await);
    for service in [
        "",
        "latchkey.v1.IntegrationService",
        "latchkey.v1.ConnectionService",
        "latchkey.v1.AuditService",
    ] {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap_or_else(|e| panic!("{service}: {e}"))
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service}");
    }
    // The public listener says only whether it is up, and has no /metrics.
    let (status, body) = server.http_get("/healthz").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"ok"}"#);
    let (status, _) = server.http_get("/metrics").await.unwrap();
    assert_eq!(status, 404, "no metrics on the public listener");
    // The admin listener has the details.
    let (status, body) = server.admin_get("/healthz").await.unwrap();
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"]["kind"], "sqlite");
    let (status, metrics) = server.admin_get("/metrics").await.unwrap();
    assert_eq!(status, 200);
    for family in [
        "latchkey_get_token_seconds",
        "latchkey_refreshes_total",
        "latchkey_append_seconds",
        "latchkey_relay_lag_events",
        "latchkey_connections",
    ] {
        assert!(
            metrics.contains(family),
            "{family} missing from /metrics:\n{metrics}"
        );
    }
    let (missing, _) = server.http_get("/nope").await.unwrap();
    assert_eq!(missing, 404);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn server_reflection_lists_the_api_in_v1_and_v1alpha() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let expected = [
        "grpc.health.v1.Health",
        "latchkey.v1.AuditService",
        "latchkey.v1.ConnectionService",
        "latchkey.v1.IntegrationService",
    ];
    {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(server.channel().await);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = responses.message().await.unwrap().expect("a response");
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("unexpected reflection response {response:?}");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for name in expected {
            assert!(
                names.iter().any(|n| n == name),
                "v1 lacks {name}: {names:?}"
            );
        }
    }
    {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let mut client = ServerReflectionClient::new(server.channel().await);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "latchkey.v1.ConnectionService".to_owned(),
            )),
        };
        let mut responses = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = responses.message().await.unwrap().expect("a response");
        let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
            panic!("unexpected reflection response {response:?}");
        };
        assert!(!files.file_descriptor_proto.is_empty());
    }
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn connection_ids_are_checked_and_missing_ones_are_not_found() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut c = server.connections().await;
    let bad = c
        .get_connection(GetConnectionRequest {
            connection_id: "x".to_owned(),
            as_of: None,
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("connection_id"));
    let missing = c
        .get_connection(GetConnectionRequest {
            connection_id: uuid::Uuid::now_v7().to_string(),
            as_of: None,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_name_no_tenant_or_account_unless_asked_and_only_on_the_admin_listener() {
    use latchkey_fake_provider::{FakeProvider, ProviderConfig};
    use latchkey_proto::v1::ConnectClientCredentialsRequest;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    for per_connection in [false, true] {
        let flag = per_connection.to_string();
        let server = Server::start_with(
            &mode,
            &[
                ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
                ("LATCHKEY_METRICS_CONNECTIONS", flag.as_str()),
            ],
        )
        .await;
        if !per_connection {
            let integration = server
                .integrations()
                .await
                .create_integration(cc_integration(&provider, "Metered"))
                .await
                .unwrap()
                .into_inner();
            server
                .connections()
                .await
                .connect_client_credentials(ConnectClientCredentialsRequest {
                    integration_id: integration.integration_id,
                    tenant: "tenant-canary".to_owned(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let (public, _) = server.http_get("/metrics").await.unwrap();
        assert_eq!(public, 404);
        let (status, metrics) = server.admin_get("/metrics").await.unwrap();
        assert_eq!(status, 200);
        assert!(
            metrics.contains("latchkey_connections{status=\"active\"} 1"),
            "{metrics}"
        );
        let info = metrics
            .lines()
            .find(|l| l.starts_with("latchkey_connection_info{"));
        if per_connection {
            let info = info.unwrap_or_else(|| panic!("asked for: {metrics}"));
            assert!(info.contains("tenant=\"tenant-canary\""), "{info}");
            assert!(
                info.contains("provider_account_id=\"\""),
                "accounts not asked: {info}"
            );
        } else {
            assert!(info.is_none(), "not asked: {metrics}");
            assert!(!metrics.contains("tenant-canary"), "{metrics}");
        }
        server.stop().await;
    }
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_to_the_public_port_are_closed_and_grpc_keeps_answering() {
    use latchkey_fake_provider::{FakeProvider, ProviderConfig};
    use latchkey_proto::v1::{ConnectClientCredentialsRequest, GetTokenRequest};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
            ("LATCHKEY_HTTP_HEADER_TIMEOUT", "2"),
            ("LATCHKEY_HTTP_MAX_CONNECTIONS", "500"),
        ],
    )
    .await;
    let integration = server
        .integrations()
        .await
        .create_integration(cc_integration(&provider, "Busy"))
        .await
        .unwrap()
        .into_inner();
    let mut connections = server.connections().await;
    let connection_id = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: integration.integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection_id;

    // 2,000 clients that start a request and never finish its head.
    let opened = std::time::Instant::now();
    let mut sockets = Vec::new();
    for _ in 0..2000 {
        let mut socket = tokio::net::TcpStream::connect(server.http_addr)
            .await
            .unwrap();
        let _ = socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await;
        sockets.push(socket);
    }
    // Meanwhile workers get their tokens.
    for _ in 0..200 {
        connections
            .get_token(GetTokenRequest {
                connection_id: connection_id.clone(),
                min_ttl: None,
                dpop: None,
            })
            .await
            .expect("gRPC answers while the public port is flooded");
    }
    // Every one of them is closed by the server: over the cap at once, the others when the
    // header timeout (2 s) passes.
    let mut closed = tokio::task::JoinSet::new();
    for mut socket in sockets {
        closed.spawn(async move {
            let mut buf = [0u8; 512];
            loop {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => continue,
                }
            }
        });
    }
    let all_closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut n = 0;
        while let Some(done) = closed.join_next().await {
            assert!(done.unwrap());
            n += 1;
        }
        n
    })
    .await
    .expect("every idle connection closed within the header timeout and some slack");
    assert_eq!(all_closed, 2000);
    assert!(opened.elapsed() < std::time::Duration::from_secs(12));
    let (status, _) = server.http_get("/healthz").await.unwrap();
    assert_eq!(status, 200, "the public port serves again");
    server.stop().await;
    mode.cleanup().await;
}

/// One answer read off a kept-alive connection: the head, then as many body bytes as it says.
async fn read_answer(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&answer).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                return text;
            }
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed mid-answer: {text}");
        answer.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_public_connection_answers_in_turn_and_is_closed_once_idle() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[("LATCHKEY_HTTP_HEADER_TIMEOUT", "1")]).await;
    let mut stream = tokio::net::TcpStream::connect(server.http_addr)
        .await
        .unwrap();
    // Two requests, one after the other, on one connection: both answered, none closes it.
    for _ in 0..2 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
    // Idle past the header timeout: the listener closes it.
    let idle = std::time::Instant::now();
    let mut rest = [0u8; 64];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut rest))
        .await
        .expect("an idle kept-alive connection is closed within the header timeout");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(idle.elapsed() >= std::time::Duration::from_millis(900));
    server.stop().await;
    mode.cleanup().await;
}
