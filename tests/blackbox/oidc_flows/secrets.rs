//! The new secrets (keys, certificates, device codes, registrations) in no database row, NATS
//! message or log line.

use super::*;

#[tokio::test]
async fn the_new_secrets_are_in_no_database_row_no_nats_message_and_no_log_line() {
    use crate::relay::{Topic, nats_url};
    let url = nats_url();
    let topic = Topic::new();
    let (ca, (server_cert, server_key), client_pem, _) = mtls_pki();
    let dir =
        std::env::temp_dir().join(format!("latchkey-canary-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let ca_path = file("ca.pem", &ca);
    let (cert_path, key_path) = (file("s.pem", &server_cert), file("k.pem", &server_key));
    let mode = Mode::postgres().await;
    let mut env = topic.env(&url);
    env.push((LOOPBACK.0.to_owned(), LOOPBACK.1.to_owned()));
    env.push(("LATCHKEY_PROVIDER_CA_FILE".to_owned(), ca_path.clone()));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let provider = OidcProvider::start(json!({
        "mtls": { "cert": cert_path, "key": key_path, "ca": ca_path },
        "clients": [{
            "client_id": "reports-bot",
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "ES256",
            "jwks_uri": format!("http://{}/.well-known/jwks.json", server.http_addr),
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        }, {
            "client_id": "payroll",
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "CN=reports-bot",
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        }, device_client()],
    }))
    .await;
    let mut integrations = server.integrations().await;
    let mut connections = server.connections().await;
    let tls = provider.tls_origin.clone().unwrap();
    let configs = [
        (
            private_key_jwt_integration(&provider, "reports-bot"),
            EC_KEY.to_owned(),
        ),
        (
            IntegrationConfig {
                name: "Payroll".to_owned(),
                grant_type: GrantType::ClientCredentials as i32,
                token_url: format!("{tls}/token"),
                client_id: "payroll".to_owned(),
                client_auth: ClientAuthMethod::TlsClientAuth as i32,
                ..Default::default()
            },
            client_pem.clone(),
        ),
    ];
    for (config, secret) in configs {
        let integration_id = integrations
            .create_integration(CreateIntegrationRequest {
                config: Some(config),
                client_secret: secret,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .integration_id;
        connections
            .connect_client_credentials(ConnectClientCredentialsRequest {
                integration_id,
                tenant: "acme".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    // A device authorization waiting: its device code is sealed on the connection.
    let device_integration_id = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(device_integration(&provider)),
            client_secret: "tv-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let started = connections
        .start_device_authorization(StartDeviceAuthorizationRequest {
            integration_id: device_integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let device_code = provider
        .secret(("user_code", &started.user_code), "device_code")
        .await;
    // An MCP server's registration: its client secret is sealed on the tenant's integration.
    let mcp = connections
        .connect_mcp_server(ConnectMcpServerRequest {
            server_url: provider.url("/mcp"),
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let registered = server
        .integrations()
        .await
        .get_integration(GetIntegrationRequest {
            integration_id: mcp.integration_id,
        })
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap()
        .client_id;
    let registration_secret = provider
        .secret(("client_id", &registered), "client_secret")
        .await;

    let canaries = [
        ("the private_key_jwt key", key_line(EC_KEY).to_owned()),
        (
            "the mTLS client key",
            key_line(
                client_pem
                    .split("-----END CERTIFICATE-----")
                    .nth(1)
                    .unwrap()
                    .trim(),
            )
            .to_owned(),
        ),
        ("a device code", device_code),
        ("a registered client's secret", registration_secret),
    ];
    assert!(topic.wait_for(&url, 8, Duration::from_secs(10)).await >= 8);
    let messages = topic.messages(&url).await;
    let dump = pg_dump(&mode).await;
    assert!(
        contains_bytes(&dump, registered.as_bytes()),
        "the dump holds the registration"
    );
    let (_, log) = server.stop().await;
    for (what, canary) in &canaries {
        assert!(
            canary.len() >= 16,
            "{what} is too short to check: {canary:?}"
        );
        assert!(
            !contains_bytes(&dump, canary.as_bytes()),
            "{what} is in the database"
        );
        assert!(!log.contains(canary.as_str()), "{what} is in the log");
        for message in &messages {
            assert!(
                !contains_bytes(&message.payload, canary.as_bytes()),
                "{what} is in a NATS message"
            );
        }
    }
    topic.delete(&url).await;
    mode.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}
