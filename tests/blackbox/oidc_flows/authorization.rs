//! Authorizations: pushed authorization requests (RFC 9126) and MCP servers connected by their
//! URL alone (RFC 9728, dynamic registration, RFC 8707 resource), against oidc-provider.

use super::*;

/// An authorization-code integration at `provider` for client `crm`.
fn code_integration(provider: &OidcProvider, pushed: bool) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("FAPI bank {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::AuthorizationCode as i32,
        authorization_url: provider.url("/auth"),
        token_url: provider.url("/token"),
        issuer: provider.issuer.clone(),
        client_id: "crm".to_owned(),
        scopes: vec!["openid".to_owned(), "offline_access".to_owned()],
        pushed_authorization_url: if pushed {
            provider.url("/request")
        } else {
            String::new()
        },
        ..Default::default()
    }
}

fn code_client(server: &Server) -> serde_json::Value {
    json!({
        "client_id": "crm",
        "client_secret": "crm-secret",
        "redirect_uris": [format!("http://{}/oauth/callback", server.http_addr)],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "require_pushed_authorization_requests": true,
    })
}

#[tokio::test]
async fn a_client_that_must_push_its_authorization_requests_fails_without_par_and_connects_with_it()
{
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let provider = OidcProvider::start(json!({ "clients": [code_client(&server)] })).await;
    let mut integrations = server.integrations().await;
    let mut connections = server.connections().await;
    let create = |pushed: bool| CreateIntegrationRequest {
        config: Some(code_integration(&provider, pushed)),
        client_secret: "crm-secret".to_owned(),
        ..Default::default()
    };

    // Without PAR the provider refuses the authorization request: nothing connects.
    let unpushed = integrations
        .create_integration(create(false))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let started = connections
        .start_authorization(StartAuthorizationRequest {
            integration_id: unpushed,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (_, body, _) = provider.authorize(&started.authorization_url).await;
    let refused = connection(&server, &started.connection_id).await;
    assert_eq!(
        refused.status,
        ConnectionStatus::AuthorizationFailed as i32,
        "not refused without PAR: {body}"
    );
    assert_eq!(refused.last_error.unwrap().code, "invalid_request");

    // With PAR the browser carries only client_id and request_uri, and the connection is made.
    let pushed = integrations
        .create_integration(create(true))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let started = connections
        .start_authorization(StartAuthorizationRequest {
            integration_id: pushed,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (status, body, visited) = provider.authorize(&started.authorization_url).await;
    assert_eq!(status, 200, "{body}");
    let first = url::Url::parse(&visited[0]).unwrap();
    let mut names: Vec<String> = first.query_pairs().map(|(k, _)| k.into_owned()).collect();
    names.sort();
    assert_eq!(names, ["client_id", "request_uri"], "{first}");
    let connected = connection(&server, &started.connection_id).await;
    assert_eq!(connected.status, ConnectionStatus::Active as i32);
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
    assert_eq!(introspection["client_id"], "crm");

    // A provider that requires PAR of every client says so in its metadata; discovery reads it.
    let strict =
        OidcProvider::start(json!({ "require_par": true, "clients": [code_client(&server)] }))
            .await;
    let discovered = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Discovered bank".to_owned(),
                grant_type: GrantType::AuthorizationCode as i32,
                issuer: strict.issuer.clone(),
                client_id: "crm".to_owned(),
                ..Default::default()
            }),
            client_secret: "crm-secret".to_owned(),
            discover: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let config = discovered.config.unwrap();
    assert_eq!(config.pushed_authorization_url, strict.url("/request"));
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn an_mcp_server_is_connected_by_its_url_alone_through_dynamic_registration() {
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    // No client is registered: Latchkey registers one itself.
    let provider = OidcProvider::start(json!({ "clients": [] })).await;
    let mcp_url = provider.url("/mcp");
    let unauthorized = reqwest::Client::new().get(&mcp_url).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    let mut connections = server.connections().await;
    let connect = || ConnectMcpServerRequest {
        server_url: mcp_url.clone(),
        tenant: "acme".to_owned(),
        ..Default::default()
    };
    let started = connections
        .connect_mcp_server(connect())
        .await
        .expect("discovered, registered and started")
        .into_inner();
    let (status, body, visited) = provider.authorize(&started.authorization_url).await;
    assert_eq!(status, 200, "{body}");
    let asked = url::Url::parse(&visited[0]).unwrap();
    let resource: Vec<_> = asked
        .query_pairs()
        .filter(|(k, _)| k == "resource")
        .collect();
    assert_eq!(resource.len(), 1, "{asked}");
    assert_eq!(resource[0].1, mcp_url);
    let connected = connection(&server, &started.connection_id).await;
    assert_eq!(connected.status, ConnectionStatus::Active as i32);

    // The token is for that server: its audience, and the server takes it.
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
    assert_eq!(introspection["aud"], mcp_url.as_str(), "{introspection}");
    let answer = reqwest::Client::new()
        .get(&mcp_url)
        .bearer_auth(&token.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // A refresh asks for the same resource.
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: started.connection_id.clone(),
        })
        .await
        .unwrap();
    let renewed = connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(renewed.access_token, token.access_token);
    assert_eq!(
        provider.introspect(&renewed.access_token).await["aud"],
        mcp_url.as_str()
    );

    // The next connection to that server reuses the registration: one integration, the tenant's.
    let again = connections
        .connect_mcp_server(connect())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.integration_id, started.integration_id);
    let integration = server
        .integrations()
        .await
        .get_integration(GetIntegrationRequest {
            integration_id: started.integration_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(integration.has_client_secret);
    assert_eq!(integration.owner_tenant, "acme");
    let config = integration.config.unwrap();
    assert_eq!(config.token_params["resource"], mcp_url);
    assert_eq!(config.scopes, ["mcp:tools"]);

    // A URL that is not an MCP server is named.
    let refused = connections
        .connect_mcp_server(ConnectMcpServerRequest {
            server_url: provider.url("/nothing-here"),
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("no metadata");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn an_mcp_server_whose_authorization_server_takes_client_metadata_documents_gets_latchkeys() {
    let (ca, (front_cert, front_key), _, _) = mtls_pki();
    let dir = std::env::temp_dir().join(format!("latchkey-cimd-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let ca_path = file("ca.pem", &ca);
    let (cert_path, key_path) = (file("f.pem", &front_cert), file("k.pem", &front_key));
    // No registration endpoint is needed: the server reads Latchkey's document at its https URL.
    let provider = OidcProvider::start(json!({
        "cimd": true,
        "ca": ca_path,
        "front": { "cert": cert_path, "key": key_path },
        "clients": [],
    }))
    .await;
    let public = provider.front_origin.clone().expect("an https front");
    let mode = Mode::embedded();
    let server =
        Server::start_with(&mode, &[LOOPBACK, ("LATCHKEY_PUBLIC_URL", public.as_str())]).await;
    provider
        .front(&format!("http://{}", server.http_addr))
        .await;
    let document_url = format!("{public}/oauth/client-metadata.json");
    // The customer's browser reaches Latchkey over https too.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(
        &browser
            .get(&document_url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(document["client_id"], document_url.as_str());
    assert_eq!(
        document["redirect_uris"][0],
        format!("{public}/oauth/callback")
    );

    let mut connections = server.connections().await;
    let started = connections
        .connect_mcp_server(ConnectMcpServerRequest {
            server_url: provider.url("/mcp"),
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect("started with the document as client id")
        .into_inner();
    let integration = server
        .integrations()
        .await
        .get_integration(GetIntegrationRequest {
            integration_id: started.integration_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(integration.config.unwrap().client_id, document_url);
    assert!(
        !integration.has_client_secret,
        "a public client: nothing registered"
    );

    // The start link binds this browser; the provider sends it back to the callback over https.
    let opened = browser
        .get(&started.authorization_url)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 303);
    let cookie = opened.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut url = opened.headers()["location"].to_str().unwrap().to_owned();
    let mut jar = std::collections::BTreeMap::new();
    for _ in 0..12 {
        if url.starts_with(&public) {
            break;
        }
        let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let answer = browser
            .get(&url)
            .header("cookie", cookies.join("; "))
            .send()
            .await
            .unwrap();
        for set in answer.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap_or_default().split(';').next();
            if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = answer.headers().get("location").cloned();
        let Some(location) = location else {
            panic!(
                "the provider answered {}: {}",
                answer.status(),
                answer.text().await.unwrap()
            );
        };
        url = url::Url::parse(&url)
            .unwrap()
            .join(location.to_str().unwrap())
            .unwrap()
            .into();
    }
    let back = browser
        .get(&url)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 200, "{}", back.text().await.unwrap());
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
    assert_eq!(introspection["client_id"], document_url.as_str());
    assert_eq!(introspection["aud"], provider.url("/mcp").as_str());
    server.stop().await;
    mode.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}
