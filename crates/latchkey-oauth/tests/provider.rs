//! The OAuth client against the in-repo fake provider, over real HTTP on loopback.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use latchkey_domain::integration::{
    ClientAuthenticationInput, EndpointsInput, IntegrationConfigInput,
};
use latchkey_domain::{ClientAuthMethod, IntegrationConfig, ParamMap};
use latchkey_fake_provider::{FakeProvider, ProviderConfig, Quirks};
use latchkey_oauth::{ClientCredentials, Grant, HttpPolicy, OAuthError, ProviderClient, discover};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

fn client() -> ProviderClient {
    ProviderClient::new(HttpPolicy {
        allow_loopback: true,
        ..HttpPolicy::default()
    })
    .unwrap()
}

fn config(provider: &FakeProvider) -> IntegrationConfig {
    IntegrationConfigInput {
        name: "Fake".to_owned(),
        grant_type: "client_credentials".to_owned(),
        endpoints: EndpointsInput {
            token_url: provider.url("/token"),
            ..Default::default()
        },
        client: ClientAuthenticationInput {
            client_id: provider.config().client_id.clone(),
            ..Default::default()
        },
        ..Default::default()
    }
    .parse()
    .unwrap()
}

#[tokio::test]
async fn errors_carry_the_status_the_oauth_code_and_retry_after() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let config = config(&provider);
    let secret = SecretString::from(provider.config().client_secret.clone());
    let credentials = ClientCredentials {
        client_id: &provider.config().client_id,
        client_secret: Some(&secret),
        method: ClientAuthMethod::BasicHeader,
        assertion_key: None,
        dpop: None,
        tls: None,
    };
    let token_url = Url::parse(&provider.url("/token")).unwrap();
    let grant = Grant::ClientCredentials { scopes: &[] };
    provider.set_quirks(Quirks {
        token_override: Some((429, r#"{"error":"slow_down"}"#.to_owned())),
        ..Default::default()
    });
    let limited = client()
        .request_token(
            &config,
            &token_url,
            &credentials,
            &grant,
            &ParamMap::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        limited,
        OAuthError::Provider {
            status: 429,
            error: Some("slow_down".to_owned()),
            description: None,
            retry_after: Some(Duration::from_secs(7)),
        }
    );
    provider.set_quirks(Quirks::default());
    let wrong = SecretString::from("wrong");
    let bad_client = client()
        .request_token(
            &config,
            &token_url,
            &ClientCredentials {
                client_secret: Some(&wrong),
                ..credentials
            },
            &grant,
            &ParamMap::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(bad_client.status(), Some(401));
    assert_eq!(bad_client.error_code(), Some("invalid_client"));
    let ok = client()
        .request_token(
            &config,
            &token_url,
            &credentials,
            &grant,
            &ParamMap::default(),
        )
        .await
        .unwrap();
    assert!(provider.accepts_access_token(ok.access_token.expose_secret()));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    // The authorization endpoint answers with a redirect; a provider call must not follow it.
    let url = Url::parse(&format!(
        "{}?response_type=code&client_id={}&redirect_uri=http://127.0.0.1:9/elsewhere",
        provider.url("/authorize"),
        provider.config().client_id
    ))
    .unwrap();
    let response = client().get(&url).await.unwrap();
    assert_eq!(response.status, 303);
}

#[tokio::test]
async fn discovery_reads_the_metadata_and_checks_the_issuer() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let issuer = Url::parse(&provider.issuer()).unwrap();
    let metadata = discover(&client(), &issuer).await.unwrap();
    assert_eq!(
        metadata.token_endpoint.as_deref(),
        Some(provider.url("/token").as_str())
    );
    assert!(metadata.authorization_response_iss_parameter_supported);
    // The same server named otherwise: its metadata names another issuer.
    let other = Url::parse(&provider.issuer().replace("127.0.0.1", "localhost")).unwrap();
    let err = discover(&client(), &other).await.unwrap_err();
    assert!(err.to_string().contains("names issuer"), "{err}");
}

#[tokio::test]
async fn the_fake_provider_rotates_refresh_tokens_and_revokes_the_grant_on_reuse() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mut config = config(&provider);
    config.grant_type = latchkey_domain::GrantType::Password;
    let secret = SecretString::from(provider.config().client_secret.clone());
    let credentials = ClientCredentials {
        client_id: &provider.config().client_id,
        client_secret: Some(&secret),
        method: ClientAuthMethod::BasicHeader,
        assertion_key: None,
        dpop: None,
        tls: None,
    };
    let token_url = Url::parse(&provider.url("/token")).unwrap();
    let password = SecretString::from(provider.config().password.clone());
    let client = client();
    let first = client
        .request_token(
            &config,
            &token_url,
            &credentials,
            &Grant::Password {
                username: &provider.config().username,
                password: &password,
                scopes: &[],
            },
            &ParamMap::default(),
        )
        .await
        .unwrap();
    let old = first.refresh_token.unwrap();
    let refresh = |token: &SecretString| {
        let client = client.clone();
        let (config, token_url, token) = (config.clone(), token_url.clone(), token.clone());
        let credentials = ClientCredentials {
            client_id: credentials.client_id,
            client_secret: credentials.client_secret,
            method: credentials.method,
            assertion_key: None,
            dpop: None,
            tls: None,
        };
        async move {
            client
                .request_token(
                    &config,
                    &token_url,
                    &credentials,
                    &Grant::RefreshToken {
                        refresh_token: &token,
                    },
                    &ParamMap::default(),
                )
                .await
        }
    };
    let rotated = refresh(&old).await.unwrap();
    let new = rotated.refresh_token.expect("a rotated refresh token");
    assert_ne!(new.expose_secret(), old.expose_secret());
    let reused = refresh(&old).await.unwrap_err();
    assert_eq!(reused.error_code(), Some("invalid_grant"));
    assert!(
        !provider.accepts_refresh_token(new.expose_secret()),
        "reuse of a spent refresh token revokes the whole grant"
    );
    assert!(!provider.accepts_access_token(rotated.access_token.expose_secret()));
}
