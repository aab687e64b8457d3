//! A revocation during a provider outage reaches the provider once it is back: the connection is
//! revoked at once in Latchkey, and the outbox tries the provider again with backoff until it
//! confirms, each attempt recorded.

use latchkey_fake_provider::{FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::{ConnectionStatus, RevokeConnectionRequest};

use crate::helpers::{LOOPBACK, NO_REFRESHER, connect, integration, password_integration};
use crate::helpers::{Mode, Server, connection, history, wait_until};

/// `revocation_retried` events: (attempt, confirmed).
async fn retries(server: &Server, id: &str) -> Vec<(u64, bool)> {
    history(server, id)
        .await
        .iter()
        .filter(|e| e.r#type == "revocation_retried")
        .map(|e| {
            let payload: serde_json::Value = serde_json::from_str(&e.payload_json).unwrap();
            let attempt = payload["attempt"].as_u64().unwrap();
            (attempt, payload["confirmed"].as_bool().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_during_a_provider_outage_reaches_the_provider_once_it_is_back() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::postgres().await;
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    let id = connect(&server, &integration_id, &provider).await;
    let refresh_token = provider
        .issued_tokens()
        .into_iter()
        .rfind(|t| t.contains("rt-"))
        .unwrap();
    provider.set_quirks(Quirks {
        revocation_status: Some(503),
        ..Default::default()
    });
    let revoked = server
        .connections()
        .await
        .revoke_connection(RevokeConnectionRequest {
            connection_id: id.clone(),
            reason: "offboarded".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.status, ConnectionStatus::Revoked as i32);
    assert!(
        provider.accepts_refresh_token(&refresh_token),
        "the outage kept it alive"
    );

    // Still down for the first retries (2 s, then 4 s): recorded, not confirmed.
    wait_until(
        "a retry during the outage",
        std::time::Duration::from_secs(15),
        || async { !retries(&server, &id).await.is_empty() },
    )
    .await;
    assert_eq!(retries(&server, &id).await[0], (1, false));
    assert!(provider.accepts_refresh_token(&refresh_token));

    // Back: the next retry revokes it there, and the retries end.
    provider.set_quirks(Quirks::default());
    wait_until(
        "the revocation at the provider",
        std::time::Duration::from_secs(20),
        || async { !provider.accepts_refresh_token(&refresh_token) },
    )
    .await;
    wait_until(
        "the confirmed retry recorded",
        std::time::Duration::from_secs(5),
        || async {
            retries(&server, &id)
                .await
                .last()
                .is_some_and(|(_, confirmed)| *confirmed)
        },
    )
    .await;
    let state = connection(&server, &id).await;
    assert_eq!(state.status, ConnectionStatus::Revoked as i32);
    let seen = retries(&server, &id).await;
    assert!(
        seen.iter().rev().skip(1).all(|(_, confirmed)| !confirmed),
        "one confirmed attempt, the last: {seen:?}"
    );
    server.stop().await;
    mode.cleanup().await;
}
