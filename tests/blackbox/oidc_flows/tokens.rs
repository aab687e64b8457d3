//! What tokens are bound to and derived from: DPoP (RFC 9449) checked at a protected resource,
//! and token exchange (RFC 8693), against oidc-provider.

use super::*;

/// `GET /resource` at the provider with `token` as `Authorization: <scheme> <token>` and, when
/// given, a DPoP proof: the status and body.
async fn call_resource(
    provider: &OidcProvider,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .get(provider.url("/resource"))
        .header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_dpop_bound_token_is_refused_without_a_proof_and_accepted_with_the_one_get_token_made() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    // The provider binds every token of this client and asks for its nonce in each proof.
    let provider = OidcProvider::start(json!({ "dpop_nonce": true, "clients": [{
        "client_id": "ledger",
        "client_secret": "ledger-secret",
        "grant_types": ["client_credentials"],
        "dpop_bound_access_tokens": true,
        "redirect_uris": [],
        "response_types": [],
    }]}))
    .await;
    let integration_id = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Ledger API".to_owned(),
                grant_type: GrantType::ClientCredentials as i32,
                token_url: provider.url("/token"),
                client_id: "ledger".to_owned(),
                dpop: true,
                ..Default::default()
            }),
            client_secret: "ledger-secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut connections = server.connections().await;
    let connection = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect("the token request carries a proof with the provider's nonce")
        .into_inner();
    let resource = DpopRequest {
        method: "GET".to_owned(),
        url: provider.url("/resource?page=1"),
        nonce: String::new(),
    };
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id.clone(),
            dpop: Some(resource.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(token.token_type, "DPoP");
    let introspection = provider.introspect(&token.access_token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert!(introspection["cnf"]["jkt"].is_string(), "{introspection}");
    let Some(Placement::Header(header)) = &token.placement else {
        panic!("a header credential: {token:?}");
    };
    assert_eq!(header.value, format!("DPoP {}", token.access_token));

    // Without a proof, or as a bearer token, the resource refuses it; with GetToken's, it serves.
    let (status, body) = call_resource(&provider, "DPoP", &token.access_token, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = call_resource(&provider, "Bearer", &token.access_token, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = call_resource(
        &provider,
        "DPoP",
        &token.access_token,
        Some(&token.dpop_proof),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // A proof made for another request does not serve this one.
    let other = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id.clone(),
            dpop: Some(DpopRequest {
                method: "POST".to_owned(),
                ..resource.clone()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (status, _) = call_resource(
        &provider,
        "DPoP",
        &token.access_token,
        Some(&other.dpop_proof),
    )
    .await;
    assert_eq!(status, 401);

    // A refresh (client credentials run again) is bound to the same key.
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: connection.connection_id.clone(),
        })
        .await
        .unwrap();
    let renewed = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id.clone(),
            dpop: Some(resource.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(renewed.access_token, token.access_token);
    let (status, body) = call_resource(
        &provider,
        "DPoP",
        &renewed.access_token,
        Some(&renewed.dpop_proof),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A bad request is named; a bearer connection has no proof to give.
    let refused = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id.clone(),
            dpop: Some(DpopRequest {
                method: "GET".to_owned(),
                url: "not a url".to_owned(),
                nonce: String::new(),
            }),
            ..Default::default()
        })
        .await
        .expect_err("bad url");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("dpop.url"),
        "{}",
        refused.message()
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn a_connection_derived_by_token_exchange_is_exchanged_again_and_revoked_with_its_subject() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let provider = OidcProvider::start(json!({ "clients": [{
        "client_id": "crm",
        "client_secret": "crm-secret",
        "grant_types": ["client_credentials"],
        "redirect_uris": [],
        "response_types": [],
    }, {
        "client_id": "gateway",
        "client_secret": "gateway-secret",
        "grant_types": ["urn:ietf:params:oauth:grant-type:token-exchange"],
        "redirect_uris": [],
        "response_types": [],
    }]}))
    .await;
    let mut integrations = server.integrations().await;
    let mut create = async |name: &str, grant: GrantType, client: &str| {
        integrations
            .create_integration(CreateIntegrationRequest {
                config: Some(IntegrationConfig {
                    name: name.to_owned(),
                    grant_type: grant as i32,
                    token_url: provider.url("/token"),
                    revocation_url: provider.url("/token/revocation"),
                    client_id: client.to_owned(),
                    ..Default::default()
                }),
                client_secret: format!("{client}-secret"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .integration_id
    };
    let crm = create("CRM", GrantType::ClientCredentials, "crm").await;
    let gateway = create("Partner gateway", GrantType::TokenExchange, "gateway").await;
    let mut connections = server.connections().await;
    let subject = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: crm,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let exchange = |tenant: &str, subject: &str| ConnectTokenExchangeRequest {
        integration_id: gateway.clone(),
        tenant: tenant.to_owned(),
        subject_connection_id: subject.to_owned(),
        audience: "https://api.partner.example".to_owned(),
        ..Default::default()
    };
    let derived = connections
        .connect_token_exchange(exchange("acme", &subject.connection_id))
        .await
        .expect("exchanged")
        .into_inner();
    assert_eq!(derived.status, ConnectionStatus::Active as i32);
    assert_eq!(derived.grant_type, GrantType::TokenExchange as i32);
    let token_of = async |connections: &mut latchkey_proto::v1::connection_service_client::ConnectionServiceClient<tonic::transport::Channel>, id: &str| {
        connections
            .get_token(GetTokenRequest {
                connection_id: id.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .access_token
    };
    let token = token_of(&mut connections, &derived.connection_id).await;
    let introspection = provider.introspect(&token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["client_id"], "gateway");
    assert_eq!(introspection["aud"], "https://api.partner.example");
    // Exchanged again (the refresh of a derived connection), for the same audience.
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: derived.connection_id.clone(),
        })
        .await
        .unwrap();
    let again = token_of(&mut connections, &derived.connection_id).await;
    assert_ne!(again, token);
    assert_eq!(
        provider.introspect(&again).await["aud"],
        "https://api.partner.example"
    );

    // Another tenant's connection is no subject; a malformed id is named.
    let refused = connections
        .connect_token_exchange(exchange("globex", &subject.connection_id))
        .await
        .expect_err("another tenant's");
    assert_eq!(refused.code(), Code::NotFound);
    let refused = connections
        .connect_token_exchange(exchange("acme", "not-an-id"))
        .await
        .expect_err("malformed");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("subject_connection_id"),
        "{}",
        refused.message()
    );

    // Revoking the subject revokes what was derived from it.
    connections
        .revoke_connection(RevokeConnectionRequest {
            connection_id: subject.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let derived = connection(&server, &derived.connection_id).await;
    assert_eq!(derived.status, ConnectionStatus::Revoked as i32);
    server.stop().await;
    mode.cleanup().await;
}
