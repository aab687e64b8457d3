//! The grants end to end: the real binary, the in-repo fake provider, and a "browser" that follows
//! redirects by hand.

use latchkey_fake_provider::{ClientAuth, ExpiresIn, FakeProvider, Iss, ProviderConfig, Quirks};
use latchkey_proto::v1::{
    ClientAuthMethod, CompleteAuthorizationRequest, ConnectClientCredentialsRequest,
    ConnectPasswordRequest, ConnectionStatus, CreateIntegrationRequest, GetHistoryRequest,
    GetTokenRequest, GrantType, IntegrationConfig, RevokeConnectionRequest,
    StartAuthorizationRequest, get_history_request, get_token_response,
};
use tonic::Code;

use crate::helpers::{Mode, Server, browser, password_request, until_after};

const LOOPBACK: (&str, &str) = ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true");

pub(crate) fn provider_config(provider: &FakeProvider, grant: GrantType) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("Fake {}", uuid::Uuid::new_v4().simple()),
        grant_type: grant as i32,
        authorization_url: provider.url("/authorize"),
        token_url: provider.url("/token"),
        revocation_url: provider.url("/revoke"),
        base_uri: "https://api.fake.example".to_owned(),
        client_id: provider.config().client_id.clone(),
        scopes: vec!["read".to_owned(), "write".to_owned()],
        issuer: provider.issuer(),
        client_auth: match provider.config().client_auth {
            ClientAuth::Basic => ClientAuthMethod::BasicHeader,
            ClientAuth::Body => ClientAuthMethod::RequestBody,
        } as i32,
        metadata_fields: vec!["instance_url".to_owned()],
        allow_password_grant: grant == GrantType::Password,
        ..Default::default()
    }
}

pub(crate) async fn create_integration(
    server: &Server,
    config: IntegrationConfig,
    secret: &str,
) -> String {
    server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(config),
            client_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .expect("create integration")
        .into_inner()
        .integration_id
}

/// The provider's authorization URL an authorization leads to, and the cookie that binds the
/// browser to it: an API-started authorization with the hosted callback answers Latchkey's start
/// link, opened first as a browser would (other authorizations go to the provider at once).
pub(crate) async fn through_start_link(authorization_url: &str) -> (String, Option<String>) {
    if !authorization_url.contains("/oauth/start/") {
        return (authorization_url.to_owned(), None);
    }
    let opened = browser().get(authorization_url).send().await.unwrap();
    assert_eq!(opened.status(), 303, "the start link leads to the provider");
    let cookie = opened.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let location = opened.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    (location, Some(cookie))
}

/// A GET with the browser's cookie, if it has one.
pub(crate) async fn get_with(url: &str, cookie: &Option<String>) -> reqwest::Response {
    let mut request = browser().get(url);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    request.send().await.unwrap()
}

/// Follows the authorization URL to the provider, and the provider's redirect to wherever it
/// points (Latchkey's callback), as a browser would. Returns the callback's response.
pub(crate) async fn consent(
    authorization_url: &str,
) -> (
    reqwest::StatusCode,
    reqwest::header::HeaderMap,
    String,
    String,
) {
    let (at_provider, cookie) = through_start_link(authorization_url).await;
    consent_at(&at_provider, &cookie).await
}

/// [`consent`] from the provider's URL on, in the browser that holds `cookie`.
pub(crate) async fn consent_at(
    provider_url: &str,
    cookie: &Option<String>,
) -> (
    reqwest::StatusCode,
    reqwest::header::HeaderMap,
    String,
    String,
) {
    let at_provider = browser().get(provider_url).send().await.unwrap();
    assert_eq!(at_provider.status(), 303, "the provider redirects back");
    let callback = at_provider.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let back = get_with(&callback, cookie).await;
    let status = back.status();
    let headers = back.headers().clone();
    (status, headers, back.text().await.unwrap(), callback)
}

pub(crate) async fn history_types(server: &Server, connection_id: &str) -> Vec<String> {
    let mut stream = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::ConnectionId(
                connection_id.to_owned(),
            )),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut types = Vec::new();
    while let Some(event) = stream.message().await.unwrap() {
        types.push(event.r#type);
    }
    types
}

async fn authorization_code_flow(client_auth: ClientAuth) {
    let provider = FakeProvider::start(ProviderConfig {
        client_auth,
        ..Default::default()
    })
    .await
    .unwrap();
    provider.set_quirks(Quirks {
        extra_fields: vec![(
            "instance_url".to_owned(),
            serde_json::json!("https://acme.my.fake"),
        )],
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &secret,
    )
    .await;
    let mut connections = server.connections().await;
    let started = connections
        .start_authorization(StartAuthorizationRequest {
            integration_id: integration_id.clone(),
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        started.authorization_url.contains("/oauth/start/"),
        "through Latchkey, which binds the browser: {}",
        started.authorization_url
    );
    let (at_provider, cookie) = through_start_link(&started.authorization_url).await;
    let url = url::Url::parse(&at_provider).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], "read write");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query["redirect_uri"].ends_with("/oauth/callback"));
    assert!(query["state"].len() >= 43);

    let (status, headers, page, _) = consent_at(&at_provider, &cookie).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Connected"));
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    for token in provider.issued_tokens() {
        assert!(!page.contains(&token), "the page shows no token");
    }

    let token = connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(provider.accepts_access_token(&token.access_token));
    let Some(get_token_response::Placement::Header(header)) = token.placement else {
        panic!("header placement expected");
    };
    assert_eq!(header.name, "Authorization");
    assert_eq!(header.value, format!("Bearer {}", token.access_token));
    assert_eq!(token.base_uri, "https://api.fake.example");
    assert_eq!(token.scopes, ["read", "write"]);
    let metadata = token.metadata.unwrap();
    assert_eq!(
        metadata.fields["instance_url"].kind,
        Some(prost_types::value::Kind::StringValue(
            "https://acme.my.fake".to_owned()
        ))
    );
    let calls = provider.token_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].grant_type, "authorization_code");
    assert_eq!(calls[0].client_auth, Some(client_auth));
    assert!(calls[0].params.iter().any(|(k, _)| k == "code_verifier"));
    assert_eq!(
        history_types(&server, &started.connection_id).await,
        [
            "connection_created",
            "authorization_started",
            "authorization_opened",
            "authorized"
        ]
    );
    let (_, log) = server.stop().await;
    for token in provider.issued_tokens() {
        assert!(!log.contains(&token), "a token leaked into the logs");
    }
    mode.cleanup().await;
}

#[tokio::test]
async fn authorization_code_with_pkce_end_to_end_with_basic_client_auth() {
    authorization_code_flow(ClientAuth::Basic).await;
}

#[tokio::test]
async fn authorization_code_with_pkce_end_to_end_with_body_client_auth() {
    authorization_code_flow(ClientAuth::Body).await;
}

#[tokio::test]
async fn the_browser_returns_to_the_platform_with_the_outcome() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            LOOPBACK,
            ("LATCHKEY_RETURN_URL_ORIGINS", "https://platform.example"),
        ],
    )
    .await;
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &provider.config().client_secret,
    )
    .await;
    // A customer's own app may send its browsers back to its own origin too.
    let own_app = create_integration(
        &server,
        IntegrationConfig {
            name: "Own app".to_owned(),
            return_url_origins: vec!["https://tenant-app.example".to_owned()],
            ..provider_config(&provider, GrantType::AuthorizationCode)
        },
        &provider.config().client_secret,
    )
    .await;
    let mut connections = server.connections().await;
    let start_on = |integration_id: &str, return_url: &str| StartAuthorizationRequest {
        integration_id: integration_id.to_owned(),
        tenant: "acme".to_owned(),
        return_url: return_url.to_owned(),
        ..Default::default()
    };
    let start = |return_url: &str| start_on(&integration_id, return_url);
    // Anywhere else is refused before anything is recorded: no open redirect.
    for (integration, url) in [
        (integration_id.as_str(), "https://evil.example/connected"),
        (integration_id.as_str(), "https://tenant-app.example/done"),
        (own_app.as_str(), "http://platform.example/connected"),
    ] {
        let refused = connections
            .start_authorization(start_on(integration, url))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{url}");
        assert!(
            refused.message().contains("return_url")
                && refused.message().contains("LATCHKEY_RETURN_URL_ORIGINS"),
            "{}",
            refused.message()
        );
    }
    connections
        .start_authorization(start_on(&own_app, "https://tenant-app.example/done"))
        .await
        .unwrap();
    let started = connections
        .start_authorization(start("https://platform.example/connected?x=1"))
        .await
        .unwrap()
        .into_inner();
    let (status, headers, _, _) = consent(&started.authorization_url).await;
    assert_eq!(status, 303);
    let location = url::Url::parse(headers["location"].to_str().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(location.host_str(), Some("platform.example"));
    assert_eq!(query["x"], "1");
    assert_eq!(query["connection_id"], started.connection_id);
    assert_eq!(query["status"], "authorized");

    provider.set_quirks(Quirks {
        deny_consent: true,
        ..Default::default()
    });
    let denied = connections
        .start_authorization(start("https://platform.example/connected"))
        .await
        .unwrap()
        .into_inner();
    let (status, headers, _, _) = consent(&denied.authorization_url).await;
    assert_eq!(status, 303);
    let location = headers["location"].to_str().unwrap();
    assert!(
        location.contains("status=failed") && location.contains("error=access_denied"),
        "{location}"
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn refused_callbacks_give_a_clear_error_and_no_authorized_event() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, ("LATCHKEY_AUTHORIZATION_TTL", "1")]).await;
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &provider.config().client_secret,
    )
    .await;
    let mut connections = server.connections().await;
    let start = || StartAuthorizationRequest {
        integration_id: integration_id.clone(),
        tenant: "acme".to_owned(),
        ..Default::default()
    };

    // A replayed state: the first callback succeeds; the same one again (a reload, a retrying
    // proxy) shows the same outcome and exchanges nothing.
    let started = connections
        .start_authorization(start())
        .await
        .unwrap()
        .into_inner();
    let (provider_url, cookie) = through_start_link(&started.authorization_url).await;
    let (status, _, _, callback) = consent_at(&provider_url, &cookie).await;
    assert_eq!(status, 200);
    let replay = get_with(&callback, &cookie).await;
    assert_eq!(replay.status(), 200);
    assert!(replay.text().await.unwrap().contains("<h1>Connected</h1>"));
    assert_eq!(provider.token_calls_of("authorization_code"), 1);
    // A state that was never issued, or not in the form Latchkey issues, is refused at once.
    for state in ["x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let forged = callback.replace(
            callback
                .split("state=")
                .nth(1)
                .and_then(|s| s.split('&').next())
                .unwrap(),
            state,
        );
        let refused = browser().get(&forged).send().await.unwrap();
        assert_eq!(refused.status(), 400);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("unknown, expired or already used")
        );
    }
    assert_eq!(
        history_types(&server, &started.connection_id).await,
        [
            "connection_created",
            "authorization_started",
            "authorization_opened",
            "authorized"
        ],
        "the replay changed nothing"
    );

    // Each failure: a plain page, a recorded failure or nothing, never `authorized`.
    let cases: [(Quirks, &str); 3] = [
        (
            Quirks {
                iss: Iss::Wrong,
                ..Default::default()
            },
            "invalid_iss",
        ),
        (
            Quirks {
                deny_consent: true,
                ..Default::default()
            },
            "access_denied",
        ),
        (
            Quirks {
                omit_code: true,
                ..Default::default()
            },
            "no code",
        ),
    ];
    for (quirks, expected) in cases {
        provider.set_quirks(quirks);
        let started = connections
            .start_authorization(start())
            .await
            .unwrap()
            .into_inner();
        let (status, headers, page, _) = consent(&started.authorization_url).await;
        assert_eq!(status, 400, "{expected}: {page}");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(page.contains(expected), "{expected} not shown in {page}");
        let types = history_types(&server, &started.connection_id).await;
        assert_eq!(
            types.last().map(String::as_str),
            Some("authorization_failed"),
            "{expected}"
        );
        assert!(!types.iter().any(|t| t == "authorized"));
    }

    // An expired state (the TTL is one second here).
    provider.set_quirks(Quirks::default());
    let started = connections
        .start_authorization(start())
        .await
        .unwrap()
        .into_inner();
    until_after(started.expires_at.as_ref().unwrap()).await;
    // Its start link already says so, before the provider is reached.
    let late = browser()
        .get(&started.authorization_url)
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 400);
    let page = late.text().await.unwrap();
    assert!(page.contains("unknown, expired or already used"), "{page}");
    assert_eq!(
        history_types(&server, &started.connection_id).await,
        ["connection_created", "authorization_started"]
    );

    // The same checks for a platform that hosts its own callback.
    let unknown = connections
        .complete_authorization(CompleteAuthorizationRequest {
            callback_query: "code=abc&state=forged".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("state"));
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn a_platform_hosted_callback_completes_through_complete_authorization() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.redirect_uri = "https://platform.example/oauth/done".to_owned();
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
    let at_provider = browser()
        .get(&started.authorization_url)
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(at_provider.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.host_str(), Some("platform.example"));
    let connection = connections
        .complete_authorization(CompleteAuthorizationRequest {
            callback_query: location.query().unwrap().to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(connection.status(), ConnectionStatus::Active);
    assert!(connection.has_refresh_token);
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn client_credentials_and_password_grants_work_end_to_end() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let secret = provider.config().client_secret.clone();
    let cc = create_integration(
        &server,
        provider_config(&provider, GrantType::ClientCredentials),
        &secret,
    )
    .await;
    let mut connections = server.connections().await;
    let with_integration_client = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: cc.clone(),
            tenant: "acme".to_owned(),
            extra_params: [("audience".to_owned(), "https://api.fake.example".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(with_integration_client.status(), ConnectionStatus::Active);
    assert_eq!(
        with_integration_client.grant_type(),
        GrantType::ClientCredentials
    );
    let call = provider.token_calls().pop().unwrap();
    assert_eq!(call.grant_type, "client_credentials");
    assert!(
        call.params
            .contains(&("audience".to_owned(), "https://api.fake.example".to_owned()))
    );
    assert!(
        call.params
            .contains(&("scope".to_owned(), "read write".to_owned()))
    );

    let with_own_client = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: cc.clone(),
            tenant: "acme".to_owned(),
            client_id: provider.config().client_id.clone(),
            client_secret: secret.clone(),
            scopes: vec!["read".to_owned()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: with_own_client.connection_id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(provider.accepts_access_token(&token.access_token));

    let wrong_client = connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: cc.clone(),
            tenant: "acme".to_owned(),
            client_id: "someone-else".to_owned(),
            client_secret: "wrong".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(wrong_client.code(), Code::FailedPrecondition);
    assert!(
        wrong_client.message().contains("invalid_client"),
        "{wrong_client:?}"
    );
    assert!(wrong_client.message().contains("401"));

    // Password: refused on an integration without the legacy flag, works with it.
    let refused = connections
        .connect_password(ConnectPasswordRequest {
            integration_id: cc,
            tenant: "acme".to_owned(),
            username: "ada".to_owned(),
            password: provider.config().password.clone(),
            scopes: vec![],
            profile: None,
            connection_params: Default::default(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("password grant"));
    let password_integration = create_integration(
        &server,
        provider_config(&provider, GrantType::Password),
        &secret,
    )
    .await;
    let connection = connections
        .connect_password(password_request(&provider, password_integration))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(connection.grant_type(), GrantType::Password);
    assert!(connection.has_refresh_token);
    let mut history = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::ConnectionId(
                connection.connection_id,
            )),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut payloads = String::new();
    while let Some(event) = history.message().await.unwrap() {
        payloads.push_str(&event.payload_json);
    }
    assert!(payloads.contains("\"grant_type\":\"password\""));
    assert!(
        !payloads.contains(&provider.config().password),
        "the password is sealed"
    );
    let (_, log) = server.stop().await;
    assert!(log.contains("deprecated password grant used"));
    assert!(!log.contains(&provider.config().password));
    mode.cleanup().await;
}

#[tokio::test]
async fn token_responses_are_read_as_real_providers_send_them() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let mut config = provider_config(&provider, GrantType::ClientCredentials);
    config.default_token_lifetime_secs = Some(7200);
    let integration = create_integration(&server, config, &provider.config().client_secret).await;
    let mut connections = server.connections().await;
    let connect = || ConnectClientCredentialsRequest {
        integration_id: integration.clone(),
        tenant: "acme".to_owned(),
        ..Default::default()
    };
    let expires_in = |token: &latchkey_proto::v1::GetTokenResponse| {
        token.expires_at.as_ref().unwrap().seconds - chrono::Utc::now().timestamp()
    };

    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::String(1800),
        omit_token_type: true,
        scope_as_list: true,
        ..Default::default()
    });
    let connection = connections
        .connect_client_credentials(connect())
        .await
        .unwrap()
        .into_inner();
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id,
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        (1790..=1800).contains(&expires_in(&token)),
        "string expires_in"
    );
    assert_eq!(
        token.token_type, "Bearer",
        "missing token_type means Bearer"
    );
    assert_eq!(token.scopes, ["read", "write"], "scope as a list");

    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Missing,
        ..Default::default()
    });
    let connection = connections
        .connect_client_credentials(connect())
        .await
        .unwrap()
        .into_inner();
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: connection.connection_id,
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        (7190..=7200).contains(&expires_in(&token)),
        "the integration's default lifetime"
    );

    let failures = [
        (
            (200, "not json at all".to_owned()),
            Code::FailedPrecondition,
            "not a JSON object",
        ),
        (
            (200, r#"{"token_type":"Bearer"}"#.to_owned()),
            Code::FailedPrecondition,
            "no access_token",
        ),
        (
            (
                200,
                format!(r#"{{"access_token":"{}"}}"#, "x".repeat(300_000)),
            ),
            Code::FailedPrecondition,
            "byte limit",
        ),
        (
            (400, r#"{"error":"invalid_scope"}"#.to_owned()),
            Code::FailedPrecondition,
            "error=invalid_scope",
        ),
        (
            (503, "<html>down</html>".to_owned()),
            Code::Unavailable,
            "HTTP 503",
        ),
    ];
    for (override_, code, expected) in failures {
        provider.set_quirks(Quirks {
            token_override: Some(override_),
            ..Default::default()
        });
        let status = connections
            .connect_client_credentials(connect())
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{expected}: {status:?}");
        assert!(
            status.message().contains(expected),
            "{expected} in {:?}",
            status.message()
        );
    }
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn revocation_reaches_the_provider_and_the_tokens_stop_working() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &provider.config().client_secret,
    )
    .await;
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
    consent(&started.authorization_url).await;
    let issued = provider.issued_tokens();
    assert_eq!(issued.len(), 2, "an access and a refresh token");
    assert!(provider.accepts_access_token(&issued[0]));
    assert!(provider.accepts_refresh_token(&issued[1]));

    let revoke = || RevokeConnectionRequest {
        connection_id: started.connection_id.clone(),
        reason: "customer offboarded".to_owned(),
    };
    let revoked = connections
        .revoke_connection(revoke())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.status(), ConnectionStatus::Revoked);
    assert_eq!(
        provider.revocations(),
        2,
        "refresh token, then access token"
    );
    assert!(!provider.accepts_access_token(&issued[0]));
    assert!(!provider.accepts_refresh_token(&issued[1]));
    let after = connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::FailedPrecondition);
    assert!(after.message().contains("revoked"));

    let again = connections
        .revoke_connection(revoke())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again.version, revoked.version,
        "revoking twice changes nothing"
    );
    assert_eq!(provider.revocations(), 2);
    let types = history_types(&server, &started.connection_id).await;
    assert_eq!(types.last().map(String::as_str), Some("revoked"));
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn token_urls_on_private_link_local_or_loopback_addresses_are_refused() {
    let mode = Mode::embedded();
    // No LATCHKEY_ALLOW_LOOPBACK_PROVIDERS: production rules.
    let server = Server::start(&mode).await;
    let mut connections = server.connections().await;
    for token_url in [
        "https://10.0.0.1/token",
        "https://169.254.169.254/latest/token",
        "https://127.0.0.1:9/token",
        "https://localhost:9/token",
    ] {
        let config = IntegrationConfig {
            name: format!("Internal {}", uuid::Uuid::new_v4().simple()),
            grant_type: GrantType::ClientCredentials as i32,
            token_url: token_url.to_owned(),
            client_id: "c".to_owned(),
            ..Default::default()
        };
        let integration = create_integration(&server, config, "s").await;
        let refused = connections
            .connect_client_credentials(ConnectClientCredentialsRequest {
                integration_id: integration,
                tenant: "acme".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Code::FailedPrecondition,
            "{token_url}: {refused:?}"
        );
        assert!(
            refused.message().contains(token_url) && refused.message().contains("refused"),
            "{token_url} not named in {:?}",
            refused.message()
        );
    }
    let listed = connections
        .list_connections(latchkey_proto::v1::ListConnectionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.connections.is_empty(), "nothing was stored");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn no_token_reaches_a_log_line_even_at_trace_level() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, ("LATCHKEY_LOG", "trace")]).await;
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &secret,
    )
    .await;
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
    consent(&started.authorization_url).await;
    connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap();
    connections
        .refresh_token(latchkey_proto::v1::RefreshTokenRequest {
            connection_id: started.connection_id.clone(),
        })
        .await
        .unwrap();
    connections
        .revoke_connection(RevokeConnectionRequest {
            connection_id: started.connection_id.clone(),
            reason: String::new(),
        })
        .await
        .unwrap();
    connections
        .delete_connection(latchkey_proto::v1::DeleteConnectionRequest {
            connection_id: started.connection_id,
        })
        .await
        .unwrap();
    // The password grant too, with its refresh and deletion.
    let password = create_integration(
        &server,
        provider_config(&provider, GrantType::Password),
        &secret,
    )
    .await;
    let connection = connections
        .connect_password(password_request(&provider, password))
        .await
        .unwrap()
        .into_inner();
    connections
        .refresh_token(latchkey_proto::v1::RefreshTokenRequest {
            connection_id: connection.connection_id.clone(),
        })
        .await
        .unwrap();
    connections
        .delete_connection(latchkey_proto::v1::DeleteConnectionRequest {
            connection_id: connection.connection_id,
        })
        .await
        .unwrap();
    let (_, log) = server.stop().await;
    assert!(
        !log.contains(&provider.config().password),
        "the password was logged"
    );
    assert!(log.lines().count() > 50, "trace logging was on");
    assert!(log.contains("TRACE"));
    assert!(
        !log.contains(&provider.config().token_prefix),
        "a canary token was logged"
    );
    assert!(!log.contains(&secret), "the client secret was logged");
    mode.cleanup().await;
}

#[tokio::test]
async fn integrations_start_from_a_template_or_from_discovery() {
    use latchkey_proto::v1::ListTemplatesRequest;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let mut integrations = server.integrations().await;
    let templates = integrations
        .list_templates(ListTemplatesRequest {})
        .await
        .unwrap()
        .into_inner()
        .templates;
    assert!(templates.len() >= 50, "{} templates", templates.len());
    assert!(templates.iter().any(|t| t.name == "google"));
    // A template's facts as its file says them: Shopify's shop and header, QuickBooks' realmId.
    let shopify = templates.iter().find(|t| t.name == "shopify").unwrap();
    let config = shopify.config.as_ref().unwrap();
    assert_eq!(
        config.token_url,
        "https://{shop}.myshopify.com/admin/oauth/access_token"
    );
    assert_eq!(config.connection_params[0].name, "shop");
    let quickbooks = templates.iter().find(|t| t.name == "quickbooks").unwrap();
    assert_eq!(
        quickbooks.config.as_ref().unwrap().callback_params,
        ["realmId"]
    );

    let salesforce = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Salesforce".to_owned(),
                client_id: "3MVG9".to_owned(),
                scopes: vec!["api".to_owned(), "refresh_token".to_owned()],
                ..Default::default()
            }),
            template: "salesforce".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let config = salesforce.config.unwrap();
    assert_eq!(
        config.token_url,
        "https://login.salesforce.com/services/oauth2/token"
    );
    assert_eq!(config.grant_type(), GrantType::AuthorizationCode);
    assert_eq!(config.metadata_fields, ["instance_url", "id", "issued_at"]);
    let unknown = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "X".to_owned(),
                client_id: "x".to_owned(),
                ..Default::default()
            }),
            template: "myspace".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("template") && unknown.message().contains("google"));

    let discovered = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Discovered".to_owned(),
                grant_type: GrantType::AuthorizationCode as i32,
                client_id: "c".to_owned(),
                issuer: provider.issuer(),
                ..Default::default()
            }),
            discover: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let config = discovered.config.unwrap();
    assert_eq!(config.authorization_url, provider.url("/authorize"));
    assert_eq!(config.token_url, provider.url("/token"));
    assert_eq!(config.revocation_url, provider.url("/revoke"));
    assert!(
        config.require_iss,
        "the provider advertises iss on callbacks"
    );
    let validation = config.validation.unwrap();
    assert_eq!(
        (validation.kind.as_str(), validation.url),
        ("introspection", provider.url("/introspect"))
    );
    assert_eq!(config.client_auth, ClientAuthMethod::BasicHeader as i32);
    assert_eq!(config.account, None, "no openid scope: no account mapping");
    // With openid asked for, the ID token (checked against the JWKS) maps accounts; a provider
    // that takes only client_secret_post gets the credentials in the body.
    let body_provider = FakeProvider::start(ProviderConfig {
        client_auth: ClientAuth::Body,
        ..Default::default()
    })
    .await
    .unwrap();
    let config = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Discovered OpenID".to_owned(),
                grant_type: GrantType::AuthorizationCode as i32,
                client_id: "c".to_owned(),
                issuer: body_provider.issuer(),
                scopes: vec!["openid".to_owned(), "read".to_owned()],
                ..Default::default()
            }),
            discover: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap();
    let account = config.account.unwrap();
    assert_eq!(
        (account.kind.as_str(), account.url),
        ("id_token", body_provider.url("/jwks"))
    );
    assert_eq!(config.client_auth, ClientAuthMethod::RequestBody as i32);
    let mismatch = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Mismatch".to_owned(),
                grant_type: GrantType::AuthorizationCode as i32,
                client_id: "c".to_owned(),
                issuer: provider.issuer().replace("127.0.0.1", "localhost"),
                ..Default::default()
            }),
            discover: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(mismatch.code(), Code::FailedPrecondition);
    assert!(mismatch.message().contains("names issuer"), "{mismatch:?}");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn connections_carry_a_name_a_description_and_labels_that_filter_and_change() {
    use latchkey_proto::v1::{ConnectionProfile, ListConnectionsRequest, UpdateConnectionRequest};
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let integration = create_integration(
        &server,
        provider_config(&provider, GrantType::ClientCredentials),
        &provider.config().client_secret,
    )
    .await;
    let mut connections = server.connections().await;
    let profile = |name: &str, env: &str| ConnectionProfile {
        name: name.to_owned(),
        description: format!("{name} in {env}"),
        labels: [
            ("env".to_owned(), env.to_owned()),
            ("team".to_owned(), "sales".to_owned()),
        ]
        .into(),
    };
    let connect = |p: ConnectionProfile| ConnectClientCredentialsRequest {
        integration_id: integration.clone(),
        tenant: "acme".to_owned(),
        profile: Some(p),
        ..Default::default()
    };
    let prod = connections
        .connect_client_credentials(connect(profile("Acme prod", "prod")))
        .await
        .unwrap()
        .into_inner();
    let dev = connections
        .connect_client_credentials(connect(profile("Acme dev", "dev")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(prod.name, "Acme prod");
    assert_eq!(prod.labels["env"], "prod");

    let by_label = |env: &str| ListConnectionsRequest {
        labels: [("env".to_owned(), env.to_owned())].into(),
        ..Default::default()
    };
    let listed = connections
        .list_connections(by_label("prod"))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = listed
        .connections
        .iter()
        .map(|c| c.connection_id.as_str())
        .collect();
    assert_eq!(ids, [prod.connection_id.as_str()]);

    let moved = connections
        .update_connection(UpdateConnectionRequest {
            connection_id: dev.connection_id.clone(),
            profile: Some(profile("Acme staging", "staging")),
            expected_version: Some(dev.version),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.name, "Acme staging");
    assert_eq!(
        moved.status(),
        ConnectionStatus::Active,
        "the tokens are untouched"
    );
    assert_eq!(
        connections
            .list_connections(by_label("staging"))
            .await
            .unwrap()
            .into_inner()
            .connections
            .len(),
        1
    );
    assert!(
        connections
            .list_connections(by_label("dev"))
            .await
            .unwrap()
            .into_inner()
            .connections
            .is_empty()
    );
    let stale = connections
        .update_connection(UpdateConnectionRequest {
            connection_id: dev.connection_id.clone(),
            profile: Some(profile("again", "dev")),
            expected_version: Some(dev.version),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let bad = connections
        .update_connection(UpdateConnectionRequest {
            connection_id: dev.connection_id.clone(),
            profile: Some(ConnectionProfile {
                labels: [("Bad Key".to_owned(), "x".to_owned())].into(),
                ..Default::default()
            }),
            expected_version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("profile.labels[Bad Key]"), "{bad:?}");
    let types = history_types(&server, &dev.connection_id).await;
    assert_eq!(
        types,
        [
            "connection_created",
            "authorized",
            "connection_updated",
            "connection_updated"
        ]
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_accounts_come_from_checked_id_tokens_and_one_account_keeps_one_connection() {
    use latchkey_fake_provider::IdToken;
    use latchkey_proto::v1::{
        AccountMapping, GetConnectionRequest, ListConnectionsRequest, VerifyWebhookRequest,
        WebhookKind, WebhookScheme,
    };
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let webhook_secret = "account-webhook-secret";
    let integration_id = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                scopes: vec!["openid".to_owned(), "read".to_owned()],
                account: Some(AccountMapping {
                    kind: "id_token".to_owned(),
                    url: provider.url("/jwks"),
                    ..Default::default()
                }),
                reauthorize_same_account: true,
                webhook: Some(WebhookScheme {
                    kind: WebhookKind::HmacBody as i32,
                    signature_header: "x-signature".to_owned(),
                    prefix: "sha256=".to_owned(),
                    account_pointer: "/user".to_owned(),
                    ..Default::default()
                }),
                ..provider_config(&provider, GrantType::AuthorizationCode)
            }),
            client_secret: provider.config().client_secret.clone(),
            webhook_secret: webhook_secret.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut connections = server.connections().await;
    // The customer consents as `user` at the provider; returns the started connection's id.
    let client = connections.clone();
    let connect_as = async |user: &str| -> String {
        let started = client
            .clone()
            .start_authorization(StartAuthorizationRequest {
                integration_id: integration_id.clone(),
                tenant: "acme".to_owned(),
                extra_params: [("login_hint".to_owned(), user.to_owned())].into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        consent(&started.authorization_url).await;
        started.connection_id
    };
    let get = |id: &str| GetConnectionRequest {
        connection_id: id.to_owned(),
        as_of: None,
    };

    // A good ID token: the connection knows its account.
    let alice = connect_as("alice").await;
    let state = connections
        .get_connection(get(&alice))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.status(), ConnectionStatus::Active);
    assert_eq!(state.provider_account_id, "alice");

    // A bad signature and a wrong issuer are refused: the authorization fails with the reason,
    // and no tokens are kept.
    for (quirk, reason) in [
        (IdToken::WrongKey, "signature"),
        (IdToken::WrongIssuer, "iss"),
    ] {
        provider.set_quirks(Quirks {
            id_token: quirk,
            ..Default::default()
        });
        let refused = connect_as("mallory").await;
        let state = connections
            .get_connection(get(&refused))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(state.status(), ConnectionStatus::AuthorizationFailed);
        let error = state.last_error.unwrap();
        assert_eq!(error.code, "invalid_id_token");
        assert!(error.description.contains(reason), "{}", error.description);
        assert!(state.provider_account_id.is_empty());
        assert_eq!(
            history_types(&server, &refused).await,
            [
                "connection_created",
                "authorization_started",
                "authorization_opened",
                "authorization_failed"
            ]
        );
    }
    provider.set_quirks(Quirks::default());

    // Alice connects again from a new "Connect" click: her connection is re-authorized, and the
    // started one closes pointing at it.
    let again = connect_as("alice").await;
    let closed = connections
        .get_connection(get(&again))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.status(), ConnectionStatus::Deleted);
    assert_eq!(
        history_types(&server, &again).await,
        [
            "connection_created",
            "authorization_started",
            "authorization_opened",
            "merged_into"
        ]
    );
    let history = history_types(&server, &alice).await;
    assert_eq!(
        history.iter().filter(|t| *t == "authorized").count(),
        2,
        "{history:?}"
    );
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: alice.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        provider.issued_tokens().iter().rev().nth(1),
        Some(&token.access_token),
        "the connection holds the second authorization's token"
    );
    let bob = connect_as("bob").await;
    let of = |account: &str| ListConnectionsRequest {
        integration_id: integration_id.clone(),
        provider_account_id: account.to_owned(),
        ..Default::default()
    };
    let listed: Vec<String> = connections
        .list_connections(of("alice"))
        .await
        .unwrap()
        .into_inner()
        .connections
        .into_iter()
        .map(|c| c.connection_id)
        .collect();
    assert_eq!(listed, [alice.as_str()], "one connection for alice");
    let listed = connections
        .list_connections(of("bob"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.connections.len(), 1);
    assert_eq!(listed.connections[0].connection_id, bob);

    // A webhook about alice is routed to her connection; one about nobody to none.
    let mut integrations = server.integrations().await;
    for (user, expected) in [("alice", alice.as_str()), ("nobody", "")] {
        let body = format!(r#"{{"user":"{user}","event":"changed"}}"#);
        let signature = format!(
            "sha256={}",
            latchkey_crypto::hmac_sha256_hex(webhook_secret.as_bytes(), body.as_bytes())
        );
        let answer = integrations
            .verify_webhook(VerifyWebhookRequest {
                integration_id: integration_id.clone(),
                headers: [("x-signature".to_owned(), signature)].into(),
                body: body.into_bytes(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(answer.valid, "{}", answer.reason);
        assert_eq!(answer.provider_account_id, user);
        assert_eq!(answer.connection_id, expected);
    }
    let (_, log) = server.stop().await;
    for token in provider.issued_tokens() {
        assert!(!log.contains(&token), "a token leaked into the logs");
    }
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_delivered_twice_exchanges_its_code_once_and_both_deliveries_say_connected() {
    use latchkey_proto::v1::{AccountMapping, ListConnectionsRequest};
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    // The provider answers late: the second delivery comes while the first waits.
    provider.set_quirks(Quirks {
        answer_delay: std::time::Duration::from_millis(300),
        ..Quirks::default()
    });
    let mode = Mode::postgres().await;
    let first = Server::start_with(&mode, &[LOOPBACK]).await;
    let second = Server::start_with(&mode, &[LOOPBACK]).await;
    let integration_id = create_integration(
        &first,
        IntegrationConfig {
            scopes: vec!["openid".to_owned(), "read".to_owned()],
            account: Some(AccountMapping {
                kind: "id_token".to_owned(),
                url: provider.url("/jwks"),
                ..Default::default()
            }),
            ..provider_config(&provider, GrantType::AuthorizationCode)
        },
        &provider.config().client_secret,
    )
    .await;
    let browser = browser();
    for i in 0..20 {
        let started = first
            .connections()
            .await
            .start_authorization(StartAuthorizationRequest {
                integration_id: integration_id.clone(),
                tenant: "acme".to_owned(),
                extra_params: [("login_hint".to_owned(), format!("user-{i}"))].into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let (provider_url, cookie) = through_start_link(&started.authorization_url).await;
        let cookie = cookie.unwrap();
        let at_provider = browser.get(&provider_url).send().await.unwrap();
        let callback = at_provider.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        // Half the time the duplicate reaches the same replica, half the time the other one.
        let duplicate = if i % 2 == 0 {
            callback.clone()
        } else {
            callback.replace(&first.http_addr.to_string(), &second.http_addr.to_string())
        };
        let (a, b) = tokio::join!(
            browser.get(&callback).header("cookie", &cookie).send(),
            browser.get(&duplicate).header("cookie", &cookie).send()
        );
        for response in [a.unwrap(), b.unwrap()] {
            assert_eq!(response.status(), 200, "delivery {i}");
            let page = response.text().await.unwrap();
            assert!(page.contains("<h1>Connected</h1>"), "delivery {i}: {page}");
        }
        // A late duplicate (a reload) gets the same page and changes nothing.
        let late = browser
            .get(&callback)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert!(late.text().await.unwrap().contains("<h1>Connected</h1>"));
    }
    assert_eq!(
        provider.token_calls_of("authorization_code"),
        20,
        "one exchange each"
    );
    let listed = first
        .connections()
        .await
        .list_connections(ListConnectionsRequest {
            tenant: "acme".to_owned(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connections;
    assert_eq!(listed.len(), 20);
    assert!(
        listed
            .iter()
            .all(|c| c.status() == ConnectionStatus::Active)
    );
    for c in &listed {
        let types = history_types(&first, &c.connection_id).await;
        assert_eq!(
            types,
            [
                "connection_created",
                "authorization_started",
                "authorization_opened",
                "authorized"
            ],
            "{}",
            c.connection_id
        );
    }
    first.stop().await;
    second.stop().await;
    mode.cleanup().await;
}
