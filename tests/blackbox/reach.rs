//! Provider reach through the real binary and the fake provider: per-connection URL parameters
//! (Shopify's `{shop}`) and callback parameters kept for the connection (QuickBooks' `realmId`).

use latchkey_fake_provider::{FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::{
    ConnectionParam, CreateIntegrationRequest, GetConnectionRequest, GetHistoryRequest,
    GetTokenRequest, GrantType, RefreshTokenRequest, StartAuthorizationRequest,
    get_history_request,
};
use tonic::Code;

use crate::grants::{consent, create_integration, history_types, provider_config};
use crate::helpers::{Mode, Server};

const LOOPBACK: (&str, &str) = ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true");

pub(crate) fn shop_param() -> ConnectionParam {
    ConnectionParam {
        name: "shop".to_owned(),
        pattern: "^[a-z0-9][a-z0-9-]{0,62}$".to_owned(),
        label: "Shop name".to_owned(),
        description: "The part before .myshopify.com in your shop's address.".to_owned(),
    }
}

/// A Shopify-style integration: the customer's shop in the authorization, token and API URLs.
pub(crate) fn shop_config(provider: &FakeProvider) -> latchkey_proto::v1::IntegrationConfig {
    latchkey_proto::v1::IntegrationConfig {
        authorization_url: provider.url("/shops/{shop}/authorize"),
        token_url: provider.url("/shops/{shop}/token"),
        revocation_url: provider.url("/shops/{shop}/revoke"),
        base_uri: "https://{shop}.api.fake.example/admin".to_owned(),
        connection_params: vec![shop_param()],
        ..provider_config(provider, GrantType::AuthorizationCode)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_parameter_is_checked_and_builds_the_authorization_token_and_api_urls() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let secret = provider.config().client_secret.clone();

    // A URL naming a parameter nobody declared is refused when the integration is made.
    let mut undeclared = shop_config(&provider);
    undeclared.token_url = provider.url("/shops/{store}/token");
    let refused = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(undeclared),
            client_secret: secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("config.token_url"),
        "{refused:?}"
    );
    assert!(refused.message().contains("{store}"), "{refused:?}");

    let integration_id = create_integration(&server, shop_config(&provider), &secret).await;
    let mut connections = server.connections().await;
    let start = |shop: Option<&str>| StartAuthorizationRequest {
        integration_id: integration_id.clone(),
        tenant: "acme".to_owned(),
        connection_params: shop
            .map(|s| [("shop".to_owned(), s.to_owned())].into())
            .unwrap_or_default(),
        ..Default::default()
    };

    // A value that would move the URL, one the pattern refuses, none at all, an unknown one:
    // each refused naming the field, before anything is sent anywhere.
    for (shop, why) in [
        (Some("acme.evil.example"), "must match"),
        (Some("acme/../admin"), "must not contain '/'"),
        (Some("Acme"), "must match"),
        (None, "must be set"),
    ] {
        let refused = connections
            .start_authorization(start(shop))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{shop:?}");
        assert!(
            refused.message().contains("connection_params.shop"),
            "{shop:?}: {refused:?}"
        );
        assert!(refused.message().contains(why), "{shop:?}: {refused:?}");
    }
    let mut unknown = start(Some("acme"));
    unknown
        .connection_params
        .insert("region".to_owned(), "eu".to_owned());
    let refused = connections.start_authorization(unknown).await.unwrap_err();
    assert!(
        refused.message().contains("connection_params.region"),
        "{refused:?}"
    );
    assert!(
        provider.requests().is_empty(),
        "nothing reached the provider"
    );

    let started = connections
        .start_authorization(start(Some("acme")))
        .await
        .unwrap()
        .into_inner();
    let (provider_url, cookie) =
        crate::grants::through_start_link(&started.authorization_url).await;
    assert!(
        provider_url.starts_with(&provider.url("/shops/acme/authorize?")),
        "{provider_url}"
    );
    let (status, _, page, _) = crate::grants::consent_at(&provider_url, &cookie).await;
    assert_eq!(status, 200, "{page}");
    let token_calls: Vec<_> = provider
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.target)
        .collect();
    assert_eq!(token_calls, ["/shops/acme/token"]);

    let token = connections
        .get_token(GetTokenRequest {
            connection_id: started.connection_id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(token.base_uri, "https://acme.api.fake.example/admin");
    let connection = connections
        .get_connection(GetConnectionRequest {
            connection_id: started.connection_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(connection.connection_params["shop"], "acme");
    // A refresh goes to the shop's token URL too.
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: started.connection_id.clone(),
        })
        .await
        .unwrap();
    let last = provider.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("POST", "/shops/acme/token")
    );
    let types = history_types(&server, &started.connection_id).await;
    assert_eq!(
        types[..3],
        [
            "connection_created",
            "parameters_set",
            "authorization_started"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_parameter_is_kept_in_the_metadata_and_the_base_uri_across_refreshes() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        callback_params: vec![("realmId".to_owned(), "9130357".to_owned())],
        ..Default::default()
    });
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let secret = provider.config().client_secret.clone();
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.base_uri = provider.url("/v3/company/{realmId}");
    config.callback_params = vec!["realmId".to_owned()];

    // A callback parameter is not known when the authorization starts: not in its URL.
    let mut too_early = config.clone();
    too_early.authorization_url = provider.url("/authorize/{realmId}");
    let refused = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(too_early),
            client_secret: secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        refused.message().contains("config.authorization_url"),
        "{refused:?}"
    );

    let integration_id = create_integration(&server, config, &secret).await;
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
    let (status, _, page, _) = consent(&started.authorization_url).await;
    assert_eq!(status, 200, "{page}");
    let id = started.connection_id.clone();
    let metadata_realm = |connection: &latchkey_proto::v1::Connection| {
        connection
            .metadata
            .as_ref()
            .and_then(|m| m.fields.get("realmId"))
            .and_then(|v| match &v.kind {
                Some(prost_types::value::Kind::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
    };
    let connection = connections
        .get_connection(GetConnectionRequest {
            connection_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata_realm(&connection).as_deref(), Some("9130357"));
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(token.base_uri, provider.url("/v3/company/9130357"));

    // A refresh's token response does not carry it; the connection keeps it.
    let refreshed = connections
        .refresh_token(RefreshTokenRequest {
            connection_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(refreshed.refreshed_at.is_some());
    assert_eq!(metadata_realm(&refreshed).as_deref(), Some("9130357"));
    let types = history_types(&server, &id).await;
    let captured = types.iter().position(|t| t == "callback_captured").unwrap();
    assert_eq!(types[captured + 1], "authorized", "{types:?}");
}

async fn connect_through(
    server: &Server,
    config: latchkey_proto::v1::IntegrationConfig,
    provider: &FakeProvider,
) -> String {
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(server, config, &secret).await;
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
    let (status, _, page, _) = consent(&started.authorization_url).await;
    assert_eq!(status, 200, "{page}");
    started.connection_id
}

async fn connection(server: &Server, id: &str) -> latchkey_proto::v1::Connection {
    server
        .connections()
        .await
        .get_connection(GetConnectionRequest {
            connection_id: id.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn access_token(server: &Server, id: &str) -> latchkey_proto::v1::GetTokenResponse {
    server
        .connections()
        .await
        .get_token(GetTokenRequest {
            connection_id: id.to_owned(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner()
}

/// GetToken's hot path keeps the token it opened: a refresh (a new token) and an integration
/// edit (a new placement) are served at once, never what was opened before them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_token_follows_a_refresh_and_a_placement_change_at_once() {
    use latchkey_proto::v1::get_token_response::Placement as Served;
    use latchkey_proto::v1::{
        GetIntegrationRequest, QueryPlacement, TokenPlacement, UpdateIntegrationRequest,
        token_placement::Placement,
    };
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let config = provider_config(&provider, GrantType::AuthorizationCode);
    let id = connect_through(&server, config, &provider).await;
    let first = access_token(&server, &id).await;
    assert_eq!(
        access_token(&server, &id).await.access_token,
        first.access_token
    );
    let Some(Served::Header(header)) = &first.placement else {
        panic!("a header placement: {first:?}");
    };
    assert_eq!(header.value, format!("Bearer {}", first.access_token));

    server
        .connections()
        .await
        .refresh_token(RefreshTokenRequest {
            connection_id: id.clone(),
        })
        .await
        .unwrap();
    let refreshed = access_token(&server, &id).await;
    assert_ne!(refreshed.access_token, first.access_token);
    let Some(Served::Header(header)) = &refreshed.placement else {
        panic!("a header placement: {refreshed:?}");
    };
    assert_eq!(header.value, format!("Bearer {}", refreshed.access_token));

    let integration_id = connection(&server, &id).await.integration_id;
    let mut integrations = server.integrations().await;
    let integration = integrations
        .get_integration(GetIntegrationRequest {
            integration_id: integration_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut config = integration.config.unwrap();
    config.token_placement = Some(TokenPlacement {
        placement: Some(Placement::Query(QueryPlacement {
            param: "access_token".to_owned(),
        })),
    });
    integrations
        .update_integration(UpdateIntegrationRequest {
            integration_id,
            config: Some(config),
            ..Default::default()
        })
        .await
        .unwrap();
    let placed = access_token(&server, &id).await;
    assert_eq!(placed.access_token, refreshed.access_token);
    let Some(Served::Query(query)) = &placed.placement else {
        panic!("the query placement the integration now says: {placed:?}");
    };
    assert_eq!(
        (query.param.as_str(), query.value.as_str()),
        ("access_token", refreshed.access_token.as_str())
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_and_form_encoded_answers_end_to_end() {
    use latchkey_fake_provider::ClientAuth;
    use latchkey_proto::v1::ClientAuthMethod;
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    // The credentials inside a JSON body (json_body); the answer form-encoded.
    let provider = FakeProvider::start(ProviderConfig {
        client_auth: ClientAuth::Body,
        ..Default::default()
    })
    .await
    .unwrap();
    provider.set_quirks(Quirks {
        json_requests: true,
        form_encoded_answers: true,
        ..Default::default()
    });
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.client_auth = ClientAuthMethod::JsonBody as i32;
    let id = connect_through(&server, config, &provider).await;
    let token = access_token(&server, &id).await;
    assert!(provider.accepts_access_token(&token.access_token));
    let sent = provider
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(sent.content_type.as_deref(), Some("application/json"));
    assert_eq!(sent.authorization, None);
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["grant_type"], "authorization_code");
    assert_eq!(body["client_id"], provider.config().client_id);
    assert_eq!(body["client_secret"], provider.config().client_secret);
    // A refresh, form-encoded answer and all, rotates the token.
    let refreshed = server
        .connections()
        .await
        .refresh_token(RefreshTokenRequest {
            connection_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(refreshed.has_refresh_token);
    assert_ne!(
        access_token(&server, &id).await.access_token,
        token.access_token
    );

    // Notion's shape: Basic credentials and a JSON body.
    let notion = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    notion.set_quirks(Quirks {
        json_requests: true,
        ..Default::default()
    });
    let mut config = provider_config(&notion, GrantType::AuthorizationCode);
    config.token_request_format = "json".to_owned();
    let id = connect_through(&server, config, &notion).await;
    assert!(notion.accepts_access_token(&access_token(&server, &id).await.access_token));
    let sent = notion
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(sent.content_type.as_deref(), Some("application/json"));
    assert!(sent.authorization.unwrap().starts_with("Basic "));
    assert!(!sent.body.contains("client_secret"), "{}", sent.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_style_answer_gives_the_nested_user_token_and_the_team_as_the_account() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        nest_tokens_under: Some("authed_user".to_owned()),
        extra_fields: vec![(
            "team".to_owned(),
            serde_json::json!({ "id": "T0123", "name": "Acme" }),
        )],
        ..Default::default()
    });
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.token_response = [
        ("access_token", "/authed_user/access_token"),
        ("refresh_token", "/authed_user/refresh_token"),
        ("expires_in", "/authed_user/expires_in"),
        ("scope", "/authed_user/scope"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    config.account = Some(latchkey_proto::v1::AccountMapping {
        kind: "token_response".to_owned(),
        pointer: "/team/id".to_owned(),
        ..Default::default()
    });
    let id = connect_through(&server, config, &provider).await;
    let token = access_token(&server, &id).await;
    assert_ne!(token.access_token, "xoxb-not-the-users");
    assert!(provider.accepts_access_token(&token.access_token));
    assert_eq!(token.scopes, ["read", "write"]);
    let state = connection(&server, &id).await;
    assert_eq!(state.provider_account_id, "T0123");
    assert!(state.has_refresh_token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_tokens_own_expiry_is_recorded_and_announced_before_it() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    // A refresh token that lives an hour and three seconds and is never renewed (no rotation,
    // and a refresh answer does not extend it).
    provider.set_quirks(Quirks {
        rotate_refresh_tokens: false,
        refresh_token_expires_in: Some(3603),
        ..Default::default()
    });
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.refresh_token_expiry_warning_secs = Some(3600);
    let id = connect_through(&server, config, &provider).await;
    let state = connection(&server, &id).await;
    let dies_at = state.refresh_token_expires_at.unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((dies_at.seconds - now - 3603).abs() <= 5, "{dies_at:?}");
    // The schedule wakes for the warning, an hour before, three seconds from now.
    let wake = state.next_refresh_at.unwrap().seconds;
    assert!(wake - now <= 4, "next refresh at {wake}, now {now}");

    let mut waited = 0;
    let announced = loop {
        let mut events = server
            .audit()
            .await
            .get_history(GetHistoryRequest {
                stream: Some(get_history_request::Stream::ConnectionId(id.clone())),
                from_version: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let mut found = Vec::new();
        while let Some(event) = events.message().await.unwrap() {
            if event.r#type == "refresh_token_expiring" {
                found.push(event);
            }
        }
        if !found.is_empty() {
            break found;
        }
        assert!(waited < 40, "no refresh_token_expiring within 20 s");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        waited += 1;
    };
    assert_eq!(announced.len(), 1);
    let Some(latchkey_proto::v1::event::Payload::RefreshTokenExpiring(payload)) =
        &announced[0].payload
    else {
        panic!("typed payload expected");
    };
    assert_eq!(
        payload.expires_at.as_ref().unwrap().seconds,
        dies_at.seconds
    );
    // Announced once: the next wake is the ordinary refresh, about an hour away.
    let after = connection(&server, &id).await;
    assert!(after.next_refresh_at.unwrap().seconds - now > 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_placed_token_and_a_custom_header_prefix_pass_validation_and_the_account_lookup() {
    use latchkey_fake_provider::ApiToken;
    use latchkey_proto::v1::{
        HeaderPlacement, QueryPlacement, TokenPlacement, TokenValidation,
        ValidateConnectionRequest, token_placement::Placement,
    };
    let server = Server::start_with(
        &Mode::embedded(),
        &[LOOPBACK, ("LATCHKEY_VALIDATION_TICK", "1")],
    )
    .await;
    let mut ids = Vec::new();
    for (api, placement) in [
        (
            ApiToken::Query {
                param: "access_token".to_owned(),
            },
            Placement::Query(QueryPlacement {
                param: "access_token".to_owned(),
            }),
        ),
        (
            ApiToken::Header {
                name: "authorization".to_owned(),
                prefix: "token".to_owned(),
            },
            Placement::Header(HeaderPlacement {
                name: "Authorization".to_owned(),
                prefix: "token".to_owned(),
            }),
        ),
    ] {
        let provider = FakeProvider::start(ProviderConfig::default())
            .await
            .unwrap();
        provider.set_quirks(Quirks {
            api_token: api,
            ..Default::default()
        });
        let mut config = provider_config(&provider, GrantType::AuthorizationCode);
        config.token_placement = Some(TokenPlacement {
            placement: Some(placement),
        });
        config.validation = Some(TokenValidation {
            kind: "userinfo".to_owned(),
            url: provider.url("/userinfo"),
            ..Default::default()
        });
        config.validation_interval_secs = Some(10);
        // Dropbox-style: the account from a POST.
        config.account = Some(latchkey_proto::v1::AccountMapping {
            kind: "endpoint".to_owned(),
            url: provider.url("/api/me"),
            pointer: "/user".to_owned(),
            method: "POST".to_owned(),
        });
        let id = connect_through(&server, config, &provider).await;
        let state = connection(&server, &id).await;
        assert_eq!(state.provider_account_id, provider.config().username);
        let validated = server
            .connections()
            .await
            .validate_connection(ValidateConnectionRequest {
                connection_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let verdict = validated.last_validation.unwrap();
        assert!(verdict.valid, "{verdict:?}");
        ids.push((id, provider));
    }
    // Scheduled validations come by themselves and keep calling the tokens valid; no refresh is
    // forced by a validation that looked in the wrong place.
    let userinfo_calls = |provider: &FakeProvider| {
        provider
            .requests()
            .into_iter()
            .filter(|r| r.target.starts_with("/userinfo"))
            .count()
    };
    let mut waited = 0;
    while ids.iter().any(|(_, provider)| userinfo_calls(provider) < 3) {
        assert!(
            waited < 60,
            "no scheduled validation within 30 s (interval 10 s)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        waited += 1;
    }
    for (id, provider) in &ids {
        let state = connection(&server, id).await;
        let verdict = state.last_validation.unwrap();
        assert!(verdict.valid, "{verdict:?}");
        assert_eq!(provider.token_calls_of("refresh_token"), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_revocation_shape_reaches_the_provider_with_its_method_url_body_and_auth() {
    use base64::Engine as _;
    use latchkey_proto::v1::{RevocationRequest, RevokeConnectionRequest};
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let shape = |method: &str, body: &str, format: &str, auth: &str, token: &str| {
        Some(RevocationRequest {
            method: method.to_owned(),
            body: body.to_owned(),
            body_format: format.to_owned(),
            auth: auth.to_owned(),
            token: token.to_owned(),
        })
    };
    // HubSpot, GitHub, Slack, Dropbox, as their documentation says (under /custom here).
    let shapes = [
        (
            "/custom/oauth/v1/refresh-tokens/{token}",
            shape("DELETE", "", "", "none", "refresh_token"),
        ),
        (
            "/custom/applications/{client_id}/grant",
            shape(
                "DELETE",
                r#"{"access_token":"{token}"}"#,
                "json",
                "basic",
                "access_token",
            ),
        ),
        (
            "/custom/api/auth.revoke",
            shape("POST", "", "", "bearer", "access_token"),
        ),
        (
            "/custom/2/auth/token/revoke",
            shape("POST", "", "", "bearer", "access_token"),
        ),
    ];
    for (path, revocation) in shapes {
        let provider = FakeProvider::start(ProviderConfig::default())
            .await
            .unwrap();
        let mut config = provider_config(&provider, GrantType::AuthorizationCode);
        config.revocation_url = provider.url(path);
        config.revocation = revocation.clone();
        let id = connect_through(&server, config, &provider).await;
        let access = access_token(&server, &id).await.access_token;
        let refresh = provider
            .issued_tokens()
            .into_iter()
            .find(|t| t.contains("rt-"))
            .unwrap();
        server
            .connections()
            .await
            .revoke_connection(RevokeConnectionRequest {
                connection_id: id.clone(),
                reason: "customer left".to_owned(),
            })
            .await
            .unwrap();
        let sent: Vec<_> = provider
            .requests()
            .into_iter()
            .filter(|r| r.target.starts_with("/custom/"))
            .collect();
        assert_eq!(sent.len(), 1, "one request, this shape's: {sent:?}");
        let sent = &sent[0];
        let shape = revocation.unwrap();
        assert_eq!(sent.method, shape.method, "{path}");
        let client = provider.config();
        let expected_target = path
            .replace("{token}", &refresh)
            .replace("{client_id}", &client.client_id);
        assert_eq!(sent.target, expected_target);
        match shape.auth.as_str() {
            "basic" => {
                let pair = format!("{}:{}", client.client_id, client.client_secret);
                let basic = base64::engine::general_purpose::STANDARD.encode(pair);
                assert_eq!(sent.authorization, Some(format!("Basic {basic}")));
                assert_eq!(sent.content_type.as_deref(), Some("application/json"));
                let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
                assert_eq!(body, serde_json::json!({ "access_token": access }));
            }
            "bearer" => {
                assert_eq!(sent.authorization, Some(format!("Bearer {access}")));
                assert_eq!(sent.body, "");
            }
            _ => {
                assert_eq!(sent.authorization, None);
                assert_eq!(sent.body, "");
            }
        }
        // The outcome is in the log, and no token is.
        let mut events = server
            .audit()
            .await
            .get_history(GetHistoryRequest {
                stream: Some(get_history_request::Stream::ConnectionId(id.clone())),
                from_version: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let mut revoked = None;
        while let Some(event) = events.message().await.unwrap() {
            assert!(!event.payload_json.contains(&access));
            assert!(!event.payload_json.contains(&refresh));
            if event.r#type == "revoked" {
                revoked = Some(event.payload_json);
            }
        }
        let revoked = revoked.unwrap();
        assert!(revoked.contains(r#""status":200"#), "{revoked}");
        assert!(revoked.contains(&shape.token), "{revoked}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filled_url_still_goes_through_the_guard_against_internal_addresses() {
    use latchkey_proto::v1::ConnectClientCredentialsRequest;
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(&Mode::embedded(), &[LOOPBACK]).await;
    let mut config = provider_config(&provider, GrantType::ClientCredentials);
    // An integration that trusts any host its connections name, each with its own client.
    config.token_url = "https://{host}/oauth/token".to_owned();
    config.revocation_url = String::new();
    config.connection_params = vec![ConnectionParam {
        name: "host".to_owned(),
        pattern: ".*".to_owned(),
        ..Default::default()
    }];
    let integration_id = create_integration(&server, config, "").await;
    let refused = server
        .connections()
        .await
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            client_id: "own".to_owned(),
            client_secret: "own-secret".to_owned(),
            connection_params: [("host".to_owned(), "169.254.169.254".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        refused.message().contains("link-local"),
        "the metadata address is refused after filling: {refused:?}"
    );
}
