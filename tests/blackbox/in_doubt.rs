//! A refresh token left in doubt under `refresh_token_reuse = never`, where the integration
//! introspects tokens: the provider is asked before the customer is. Still active (the answer was
//! lost before the provider rotated it): sent, the connection stays active. Inactive (lost after
//! the rotation): re-authorization, saying so. Never sent twice either way.

use std::time::Duration;

use latchkey_fake_provider::{FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::{ConnectionStatus, RefreshTokenRequest, TokenValidation};
use tonic::Code;

use crate::helpers::{LOOPBACK, NO_REFRESHER, connect, integration, password_integration};
use crate::helpers::{Mode, Server, connection, history};

async fn refresh(server: &Server, id: &str) -> Result<(), tonic::Status> {
    server
        .connections()
        .await
        .refresh_token(RefreshTokenRequest {
            connection_id: id.to_owned(),
        })
        .await
        .map(|_| ())
}

async fn types(server: &Server, id: &str) -> Vec<String> {
    history(server, id)
        .await
        .into_iter()
        .map(|e| e.r#type)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_in_doubt_is_introspected_and_sent_only_if_the_provider_still_takes_it() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(Quirks {
        rotate_refresh_tokens: true,
        ..Default::default()
    });
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[LOOPBACK, NO_REFRESHER, ("LATCHKEY_PROVIDER_TIMEOUT", "1")],
    )
    .await;
    let mut config = password_integration(&provider);
    config.refresh_token_reuse = "never".to_owned();
    config.validation = Some(TokenValidation {
        kind: "introspection".to_owned(),
        url: provider.url("/introspect"),
        ..Default::default()
    });
    let integration_id = integration(&server, config, &provider).await;

    // Lost before the rotation: a gateway's 502 (the provider never saw it) leaves it in doubt.
    let kept = connect(&server, &integration_id, &provider).await;
    provider.fail_next(502, "<html>bad gateway</html>", None);
    let lost = refresh(&server, &kept).await.unwrap_err();
    assert_eq!(lost.code(), Code::Unavailable, "{lost:?}");
    refresh(&server, &kept).await.unwrap();
    let state = connection(&server, &kept).await;
    assert_eq!(state.status, ConnectionStatus::Active as i32);
    let seen = types(&server, &kept).await;
    let still = seen.iter().position(|t| t == "refresh_token_still_active");
    let refreshed = seen.iter().rposition(|t| t == "refreshed");
    assert!(
        still.is_some() && refreshed > still,
        "introspected, then refreshed: {seen:?}"
    );

    // Lost after the rotation: the provider took it and its answer came too late.
    let gone = connect(&server, &integration_id, &provider).await;
    provider.set_quirks(Quirks {
        rotate_refresh_tokens: true,
        answer_delay: Duration::from_secs(3),
        ..Default::default()
    });
    let lost = refresh(&server, &gone).await.unwrap_err();
    assert_eq!(lost.code(), Code::Unavailable, "{lost:?}");
    provider.set_quirks(Quirks {
        rotate_refresh_tokens: true,
        ..Default::default()
    });
    let sent = provider.token_calls_of("refresh_token");
    let refused = refresh(&server, &gone).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let state = connection(&server, &gone).await;
    assert_eq!(
        state.status,
        ConnectionStatus::ReauthorizationRequired as i32
    );
    let error = state.last_error.unwrap();
    assert_eq!(error.code, "refresh_interrupted");
    assert!(error.description.contains("introspection"), "{error:?}");
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        sent,
        "the rotated token is not sent again"
    );
    assert_eq!(provider.reuse_detected(), 0);
    server.stop().await;
    mode.cleanup().await;
}
