//! Provider reach through the real binary and the fake provider: per-connection URL parameters
//! (Shopify's `{shop}`) and callback parameters kept for the connection (QuickBooks' `realmId`).

use latchkey_fake_provider::{FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::{
    ConnectionParam, CreateIntegrationRequest, GetConnectionRequest, GetHistoryRequest,
    GetTokenRequest, GrantType, RefreshTokenRequest, StartAuthorizationRequest,
    get_history_request,
};
use tonic::Code;

use crate::grants::{consent, create_integration, provider_config};
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

async fn event_types(server: &Server, connection_id: &str) -> Vec<String> {
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
    assert!(
        started
            .authorization_url
            .starts_with(&provider.url("/shops/acme/authorize?")),
        "{}",
        started.authorization_url
    );
    let (status, _, page, _) = consent(&started.authorization_url).await;
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
    let types = event_types(&server, &started.connection_id).await;
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
    let types = event_types(&server, &id).await;
    let captured = types.iter().position(|t| t == "callback_captured").unwrap();
    assert_eq!(types[captured + 1], "authorized", "{types:?}");
}
