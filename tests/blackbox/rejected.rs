//! Workers report a token the provider refused (`ReportTokenRejected`): checked at the provider
//! at once, refreshed or marked when the provider no longer takes it, a false report changing
//! nothing but the record, and a hundred reports costing one check.

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::report_token_rejected_response::Verdict;
use latchkey_proto::v1::{
    ConnectionStatus, GetTokenRequest, ReportTokenRejectedRequest, TokenValidation,
};
use tonic::Code;

use crate::helpers::{LOOPBACK, NO_REFRESHER, connect, integration, password_integration};
use crate::helpers::{Mode, Server, connection, history};

async fn token(server: &Server, id: &str) -> (String, u64) {
    let credential = server
        .connections()
        .await
        .get_token(GetTokenRequest {
            connection_id: id.to_owned(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    (credential.access_token, credential.version)
}

async fn report(
    server: &Server,
    id: &str,
    token_version: u64,
) -> Result<(Verdict, String), tonic::Status> {
    let answer = server
        .connections()
        .await
        .report_token_rejected(ReportTokenRejectedRequest {
            connection_id: id.to_owned(),
            http_status: 401,
            provider_error: "invalid_token".to_owned(),
            token_version,
        })
        .await?
        .into_inner();
    let verdict = Verdict::try_from(answer.verdict).unwrap();
    Ok((verdict, answer.credential.unwrap().access_token))
}

/// The types of a connection's events, with `token_rejected`'s verdict.
async fn types(server: &Server, id: &str) -> Vec<String> {
    history(server, id)
        .await
        .into_iter()
        .map(|e| {
            if e.r#type != "token_rejected" {
                return e.r#type;
            }
            let payload: serde_json::Value = serde_json::from_str(&e.payload_json).unwrap();
            format!("token_rejected:{}", payload["verdict"].as_str().unwrap())
        })
        .collect()
}

fn introspections(provider: &FakeProvider) -> usize {
    provider
        .requests()
        .iter()
        .filter(|r| r.target.starts_with("/introspect"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_reported_by_a_worker_is_checked_once_and_replaced_or_marked() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK, NO_REFRESHER]).await;
    let mut config = password_integration(&provider);
    config.validation = Some(TokenValidation {
        kind: "introspection".to_owned(),
        url: provider.url("/introspect"),
        ..Default::default()
    });
    let integration_id = integration(&server, config, &provider).await;
    let id = connect(&server, &integration_id, &provider).await;
    // A new connection is validated in the background: counted once that check is recorded.
    crate::helpers::wait_until(
        "the first validation",
        std::time::Duration::from_secs(10),
        || async { types(&server, &id).await.iter().any(|t| t == "validated") },
    )
    .await;
    let (first, version) = token(&server, &id).await;
    let checks = introspections(&provider);

    // A hundred workers report the good token at once (over one channel, as a worker pool's
    // client would send them): one check, one record, nothing changed.
    let client = server.connections().await;
    let reports: Vec<_> = (0..100)
        .map(|_| {
            let (mut client, id) = (client.clone(), id.clone());
            tokio::spawn(async move {
                client
                    .report_token_rejected(ReportTokenRejectedRequest {
                        connection_id: id,
                        http_status: 401,
                        provider_error: String::new(),
                        token_version: version,
                    })
                    .await
                    .map(|r| r.into_inner())
            })
        })
        .collect();
    for answer in reports {
        let answer = answer.await.unwrap().unwrap();
        assert_eq!(answer.verdict, Verdict::NotConfirmed as i32);
        assert_eq!(answer.credential.unwrap().access_token, first);
    }
    assert_eq!(
        introspections(&provider),
        checks + 1,
        "one check for a hundred reports"
    );
    let seen = types(&server, &id).await;
    assert_eq!(
        seen.iter()
            .filter(|t| t.starts_with("token_rejected"))
            .count(),
        1,
        "{seen:?}"
    );
    assert!(
        seen.ends_with(&[
            "validated".to_owned(),
            "token_rejected:not_confirmed".to_owned()
        ]),
        "{seen:?}"
    );

    // The provider stops taking it: the report refreshes the connection, the worker gets the new
    // token, and a report about the old one is answered without another check.
    provider.invalidate_access_token(&first);
    let (verdict, second) = report(&server, &id, version).await.unwrap();
    assert_eq!(
        verdict,
        Verdict::NotConfirmed,
        "the same token within seconds shares the verdict"
    );
    assert_eq!(second, first);
    // Once the shared verdict lapses (2 s), the next report is checked: refused, refreshed.
    crate::helpers::wait_until(
        "a fresh check of the refused token",
        std::time::Duration::from_secs(10),
        || async {
            report(&server, &id, version)
                .await
                .is_ok_and(|(v, _)| v == Verdict::Confirmed)
        },
    )
    .await;
    let (replacement, newer) = token(&server, &id).await;
    assert_ne!(replacement, first);
    assert!(provider.accepts_access_token(&replacement));
    let checks = introspections(&provider);
    let (verdict, answered) = report(&server, &id, version).await.unwrap();
    assert_eq!(
        (verdict, answered.as_str()),
        (Verdict::Replaced, replacement.as_str())
    );
    assert_eq!(
        introspections(&provider),
        checks,
        "no check for a replaced token"
    );
    let seen = types(&server, &id).await;
    let tail: Vec<&str> = seen
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        ["validated", "refreshed", "token_rejected:confirmed"],
        "{seen:?}"
    );

    // The grant gone at the provider: the report marks the connection within the call.
    provider.revoke_all_grants();
    let refused = report(&server, &id, newer).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let state = connection(&server, &id).await;
    assert_eq!(
        state.status,
        ConnectionStatus::ReauthorizationRequired as i32
    );
    assert!(
        types(&server, &id)
            .await
            .ends_with(&["token_rejected:confirmed".to_owned()])
    );

    // Bad input changes nothing and names the field.
    let bad = server
        .connections()
        .await
        .report_token_rejected(ReportTokenRejectedRequest {
            connection_id: id.clone(),
            http_status: 200,
            provider_error: String::new(),
            token_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("http_status") && bad.message().contains("token_version"),
        "{bad:?}"
    );
    server.stop().await;
    mode.cleanup().await;
}
