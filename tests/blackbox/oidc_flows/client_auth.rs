//! Clients without a shared secret: `private_key_jwt` (the key served as Latchkey's JWKS) and
//! mutual TLS (RFC 8705), against oidc-provider.

use super::*;

#[tokio::test]
async fn a_private_key_jwt_client_is_known_by_the_jwks_latchkey_serves_and_its_tokens_are_active() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    // The provider knows the client only by the URL of Latchkey's JWKS.
    let provider = OidcProvider::start(json!({ "clients": [{
        "client_id": "reports-bot",
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks_uri": format!("http://{}/.well-known/jwks.json", server.http_addr),
        "grant_types": ["client_credentials"],
        "redirect_uris": [],
        "response_types": [],
    }]}))
    .await;
    let mut integrations = server.integrations().await;

    // A key that cannot sign is refused by name, never quoted.
    let refused = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(private_key_jwt_integration(&provider, "reports-bot")),
            client_secret: "canary-not-a-key-5d1e".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("not a key");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let violations = refused.get_details_bad_request().expect("BadRequest");
    assert_eq!(violations.field_violations[0].field, "client_secret");
    assert!(
        !refused.message().contains("canary"),
        "{}",
        refused.message()
    );
    // An RSA key for ES256 does not fit either.
    let refused = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(private_key_jwt_integration(&provider, "reports-bot")),
            client_secret: RSA_KEY.to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("wrong algorithm");
    assert_eq!(refused.code(), Code::InvalidArgument);

    let integration_id = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(private_key_jwt_integration(&provider, "reports-bot")),
            client_secret: EC_KEY.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;

    // The JWKS holds the public half only.
    let (status, body) = http_get(server.http_addr, "/.well-known/jwks.json")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let jwks: serde_json::Value = serde_json::from_str(&body).unwrap();
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(keys[0]["kty"], "EC");
    assert_eq!(keys[0]["alg"], "ES256");
    assert!(
        keys[0]["kid"].as_str().is_some_and(|k| k.len() >= 43),
        "{jwks}"
    );
    assert!(
        keys[0].get("d").is_none(),
        "a private part is published: {jwks}"
    );

    let mut connections = server.connections().await;
    let connection = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: integration_id.clone(),
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect("the provider accepts the client's assertion")
        .into_inner();
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let introspection = provider.introspect(&token.access_token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["client_id"], "reports-bot");
    assert_eq!(introspection["scope"], "read");

    // Revocation authenticates the same way: the provider then calls the token inactive.
    connections
        .revoke_connection(RevokeConnectionRequest {
            connection_id: connection.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let introspection = provider.introspect(&token.access_token).await;
    assert_eq!(introspection["active"], false, "{introspection}");

    // The key is nowhere in clear: not in the history, not in the log.
    let events = format!("{:?}", history(&server, &connection.connection_id).await);
    assert!(!events.contains(key_line(EC_KEY)));
    let (_, log) = server.stop().await;
    assert!(!log.contains(key_line(EC_KEY)), "the key is in the log");
    mode.cleanup().await;
}

#[tokio::test]
async fn mutual_tls_clients_get_tokens_with_their_certificate_and_a_stranger_is_refused() {
    let (ca, (server_cert, server_key), client, self_signed) = mtls_pki();
    let dir = std::env::temp_dir().join(format!("latchkey-mtls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let ca_path = file("ca.pem", &ca);
    let cert_path = file("server.pem", &server_cert);
    let key_path = file("server-key.pem", &server_key);
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[LOOPBACK, ("LATCHKEY_PROVIDER_CA_FILE", ca_path.as_str())],
    )
    .await;
    let provider = OidcProvider::start(json!({
        "mtls": { "cert": cert_path, "key": key_path, "ca": ca_path },
        "clients": [{
            "client_id": "reports-bot",
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": "CN=reports-bot",
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        }, {
            "client_id": "kiosk",
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            // Registered as a JWK with its x5c, as RFC 8705 §2.2 says (the harness makes it).
            "self_signed_certificate": self_signed,
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        }],
    }))
    .await;
    let tls = provider.tls_origin.clone().expect("a TLS port");
    let mut integrations = server.integrations().await;
    let integration = |client_id: &str, method: ClientAuthMethod| IntegrationConfig {
        name: format!("Payroll {client_id}"),
        grant_type: GrantType::ClientCredentials as i32,
        token_url: format!("{tls}/token"),
        client_id: client_id.to_owned(),
        client_auth: method as i32,
        ..Default::default()
    };
    let mut connections = server.connections().await;
    for (client_id, method, pem) in [
        ("reports-bot", ClientAuthMethod::TlsClientAuth, &client),
        (
            "kiosk",
            ClientAuthMethod::SelfSignedTlsClientAuth,
            &self_signed,
        ),
    ] {
        let integration_id = integrations
            .create_integration(CreateIntegrationRequest {
                config: Some(integration(client_id, method)),
                client_secret: pem.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .integration_id;
        let connection = connections
            .connect_client_credentials(ConnectClientCredentialsRequest {
                integration_id,
                tenant: "acme".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{client_id}: {e:?}"))
            .into_inner();
        let token = connections
            .get_token(GetTokenRequest {
                connection_id: connection.connection_id,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let introspection = provider.introspect(&token.access_token).await;
        assert_eq!(introspection["active"], true, "{introspection}");
        assert_eq!(introspection["client_id"], client_id);
    }

    // The kiosk's self-signed certificate is not the reports bot's, whatever it claims.
    let stranger = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Payroll impostor".to_owned(),
                ..integration("reports-bot", ClientAuthMethod::TlsClientAuth)
            }),
            client_secret: self_signed.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let refused = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: stranger,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("another certificate");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().contains("invalid_client"),
        "{}",
        refused.message()
    );
    // A secret that is no certificate and key is named, never quoted.
    let bad = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(integration("reports-bot", ClientAuthMethod::TlsClientAuth)),
            client_secret: "canary-not-a-certificate-9c2".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("not PEM");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("client_secret"), "{}", bad.message());
    assert!(!bad.message().contains("canary"), "{}", bad.message());
    let (_, log) = server.stop().await;
    assert!(
        !log.contains(key_line(&client)),
        "the client key is in the log"
    );
    mode.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}
