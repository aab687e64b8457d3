//! The standard flows against a real authorization server, panva's `oidc-provider`: clients that
//! authenticate with `private_key_jwt`, pushed authorization requests (PAR) and the device flow.
//! Each flow ends in a token the provider's own introspection calls active.

use std::time::Duration;

use latchkey_proto::v1::get_token_response::Placement;
use latchkey_proto::v1::{
    ClientAuthMethod, ConnectClientCredentialsRequest, ConnectMcpServerRequest,
    ConnectTokenExchangeRequest, ConnectionStatus, CreateIntegrationRequest, DpopRequest,
    GetIntegrationRequest, GetTokenRequest, GrantType, IntegrationConfig, ListConnectionsRequest,
    RefreshTokenRequest, RevokeConnectionRequest, StartAuthorizationRequest,
    StartDeviceAuthorizationRequest,
};
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{
    LOOPBACK, Mode, Server, connection, contains_bytes, history, http_get, pg_dump, wait_until,
};
use crate::oidc_provider::OidcProvider;

const EC_KEY: &str = include_str!("fixtures/service-account-ec.pem");
const RSA_KEY: &str = include_str!("fixtures/service-account-rsa.pem");

/// A line from the middle of a PEM key: what a leak of the key would show.
fn key_line(pem: &str) -> &str {
    pem.lines().nth(2).unwrap_or_default()
}

fn private_key_jwt_integration(provider: &OidcProvider, client_id: &str) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("Okta-like {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::ClientCredentials as i32,
        token_url: provider.url("/token"),
        revocation_url: provider.url("/token/revocation"),
        issuer: provider.issuer.clone(),
        client_id: client_id.to_owned(),
        client_auth: ClientAuthMethod::PrivateKeyJwt as i32,
        client_assertion_algorithm: "ES256".to_owned(),
        scopes: vec!["read".to_owned()],
        ..Default::default()
    }
}

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

fn device_integration(provider: &OidcProvider) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("TV app {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::DeviceCode as i32,
        device_authorization_url: provider.url("/device/auth"),
        token_url: provider.url("/token"),
        revocation_url: provider.url("/token/revocation"),
        client_id: "tv".to_owned(),
        scopes: vec!["openid".to_owned(), "offline_access".to_owned()],
        ..Default::default()
    }
}

fn device_client() -> serde_json::Value {
    json!({
        "client_id": "tv",
        "client_secret": "tv-secret",
        "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
        "response_types": [],
        "redirect_uris": [],
    })
}

/// Waits until the connection is no longer pending, and returns it.
async fn settled(server: &Server, id: &str) -> latchkey_proto::v1::Connection {
    wait_until(
        "the device authorization settles",
        Duration::from_secs(30),
        || async { connection(server, id).await.status != ConnectionStatus::Pending as i32 },
    )
    .await;
    connection(server, id).await
}

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

/// A CA, a server certificate for 127.0.0.1 and a client certificate (`CN=reports-bot`) it
/// issued, and a self-signed client certificate: (ca, server, client, self-signed), each
/// certificate with its key, PEM.
fn mtls_pki() -> (String, (String, String), String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap()
        .pem();
    let named = |cn: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, cn);
        params.distinguished_name = name;
        params
    };
    let client_key = KeyPair::generate().unwrap();
    let client = named("reports-bot")
        .signed_by(&client_key, &issuer)
        .unwrap()
        .pem();
    let own_key = KeyPair::generate().unwrap();
    let own = named("kiosk").self_signed(&own_key).unwrap().pem();
    (
        ca,
        (server, server_key.serialize_pem()),
        format!("{client}{}", client_key.serialize_pem()),
        format!("{own}{}", own_key.serialize_pem()),
    )
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
