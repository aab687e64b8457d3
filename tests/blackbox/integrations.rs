use latchkey_proto::v1::{
    CreateIntegrationRequest, DeleteIntegrationRequest, GetHistoryRequest, GetIntegrationRequest,
    GrantType, IntegrationConfig, ListIntegrationsRequest, ReplayEventsRequest,
    UpdateIntegrationRequest, get_history_request,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{CANARY_SECRET, Mode, Server, contains_bytes, integration_config, pg_dump};

/// Creates an integration with a canary secret, restarts, reads it back: same configuration, no
/// secret, and the canary nowhere in what the caller, the logs or the storage hold.
async fn an_integration_survives_a_restart_without_its_secret(mode: &Mode) -> String {
    let server = Server::start(mode).await;
    let mut client = server.integrations().await;
    let created = client
        .create_integration(CreateIntegrationRequest {
            config: Some(integration_config("Salesforce")),
            client_secret: CANARY_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    assert!(created.has_client_secret);
    assert!(
        created
            .client_secret_fingerprint
            .starts_with("hmac-sha256:")
    );
    assert_eq!(created.version, 1);
    assert!(!format!("{created:?}").contains(CANARY_SECRET));
    let id = created.integration_id.clone();
    let (status, first_log) = server.stop().await;
    assert!(status.success(), "graceful exit: {status:?}");

    let server = Server::start(mode).await;
    let mut client = server.integrations().await;
    let read = client
        .get_integration(GetIntegrationRequest {
            integration_id: id.clone(),
        })
        .await
        .expect("get after restart")
        .into_inner();
    assert_eq!(read.config, created.config);
    let config = read.config.as_ref().expect("config");
    assert_eq!(config.name, "Salesforce");
    assert_eq!(config.scope_separator.as_deref(), Some(" "));
    assert_eq!(config.pkce, Some(true));
    assert!(read.has_client_secret);
    assert_eq!(
        read.client_secret_fingerprint,
        created.client_secret_fingerprint
    );
    assert!(read.effective_redirect_uri.ends_with("/oauth/callback"));
    assert!(!format!("{read:?}").contains(CANARY_SECRET));
    let listed = client
        .list_integrations(ListIntegrationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.integrations, vec![read]);

    let mut audit = server.audit().await;
    let mut history = audit
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::IntegrationId(id.clone())),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let event = history.message().await.unwrap().expect("one event");
    assert_eq!(event.r#type, "integration_created");
    assert_eq!(event.actor, "anonymous");
    assert!(event.payload_json.contains("client_secret"));
    assert!(!event.payload_json.contains(CANARY_SECRET));
    assert!(history.message().await.unwrap().is_none());

    let (status, second_log) = server.stop().await;
    assert!(status.success());
    for log in [first_log, second_log] {
        assert!(log.contains("latchkey serving"), "logs were captured");
        assert!(
            !log.contains(CANARY_SECRET),
            "the secret leaked into the logs"
        );
    }
    id
}

#[tokio::test]
async fn embedded_default_keeps_integrations_across_restarts_and_never_stores_the_secret() {
    let mode = Mode::embedded();
    an_integration_survives_a_restart_without_its_secret(&mode).await;
    let data = mode.data_dir().expect("embedded");
    let mut checked = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !contains_bytes(&bytes, CANARY_SECRET.as_bytes()),
            "{} holds the secret in clear",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 2, "database and key file were checked");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    mode.cleanup().await;
}

#[tokio::test]
async fn postgres_keeps_integrations_across_restarts_and_pg_dump_never_shows_the_secret() {
    let mode = Mode::postgres().await;
    let id = an_integration_survives_a_restart_without_its_secret(&mode).await;
    let dump = pg_dump(&mode).await;
    assert!(
        contains_bytes(&dump, id.as_bytes()),
        "the dump holds the integration"
    );
    assert!(!contains_bytes(&dump, CANARY_SECRET.as_bytes()));
    mode.cleanup().await;
}

#[tokio::test]
async fn invalid_integrations_are_refused_naming_the_field_and_nothing_is_stored() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut client = server.integrations().await;
    let cases: Vec<(&str, IntegrationConfig)> = vec![
        (
            "config.token_url",
            IntegrationConfig {
                token_url: "not a url".to_owned(),
                ..integration_config("A")
            },
        ),
        (
            "config.client_id",
            IntegrationConfig {
                client_id: String::new(),
                ..integration_config("B")
            },
        ),
        (
            "config.grant_type",
            IntegrationConfig {
                grant_type: 42,
                ..integration_config("C")
            },
        ),
        (
            "config.scope_separator",
            IntegrationConfig {
                scope_separator: Some(String::new()),
                ..integration_config("D")
            },
        ),
        (
            "config.scopes[1]",
            IntegrationConfig {
                scopes: vec!["ok".to_owned(), "not ok".to_owned()],
                ..integration_config("E")
            },
        ),
        (
            "config.authorization_params[state]",
            IntegrationConfig {
                authorization_params: [("state".to_owned(), "x".to_owned())].into(),
                ..integration_config("F")
            },
        ),
    ];
    for (field, config) in cases {
        let status = client
            .create_integration(CreateIntegrationRequest {
                config: Some(config),
                client_secret: CANARY_SECRET.to_owned(),
                ..Default::default()
            })
            .await
            .expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(
            status.message().contains(&format!("{field}:")),
            "{field} not named in {:?}",
            status.message()
        );
        assert!(!status.message().contains(CANARY_SECRET));
    }
    let missing = client
        .create_integration(CreateIntegrationRequest::default())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(missing.message().contains("config: must be set"));
    let several = client
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                token_url: "nope".to_owned(),
                client_id: String::new(),
                grant_type: GrantType::Unspecified as i32,
                ..integration_config("G")
            }),
            client_secret: "bad\u{7}secret".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    for field in [
        "config.grant_type",
        "config.token_url",
        "config.client_id",
        "client_secret",
    ] {
        assert!(
            several.message().contains(field),
            "{field} in {:?}",
            several.message()
        );
    }
    let bad_request = several
        .get_details_bad_request()
        .expect("google.rpc.BadRequest details");
    let fields: Vec<&str> = bad_request
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "config.grant_type",
            "config.token_url",
            "config.client_id",
            "client_secret"
        ]
    );

    let listed = client
        .list_integrations(ListIntegrationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.integrations.is_empty());
    let mut audit = server.audit().await;
    let mut events = audit
        .replay_events(ReplayEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        events.message().await.unwrap().is_none(),
        "no event was written"
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn updates_are_audited_keep_the_secret_and_refuse_a_stale_version() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut client = server.integrations().await;
    let created = client
        .create_integration(CreateIntegrationRequest {
            config: Some(integration_config("Google")),
            client_secret: CANARY_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = created.integration_id.clone();
    let mut changed = integration_config("Google");
    changed.scopes.push("email".to_owned());
    changed.scope_separator = Some(",".to_owned());
    let updated = client
        .update_integration(UpdateIntegrationRequest {
            integration_id: id.clone(),
            config: Some(changed.clone()),
            expected_version: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.version, 2);
    assert_eq!(
        updated.config.as_ref().unwrap().scopes,
        ["api", "refresh_token", "email"]
    );
    assert_eq!(
        updated.client_secret_fingerprint,
        created.client_secret_fingerprint
    );

    let stale = client
        .update_integration(UpdateIntegrationRequest {
            integration_id: id.clone(),
            config: Some(changed.clone()),
            expected_version: Some(1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");

    let rotated = client
        .update_integration(UpdateIntegrationRequest {
            integration_id: id.clone(),
            config: Some(changed.clone()),
            client_secret: Some("another-secret".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(rotated.has_client_secret);
    assert_ne!(
        rotated.client_secret_fingerprint,
        created.client_secret_fingerprint
    );
    let cleared = client
        .update_integration(UpdateIntegrationRequest {
            integration_id: id.clone(),
            config: Some(changed),
            clear_client_secret: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!cleared.has_client_secret);
    assert_eq!(cleared.client_secret_fingerprint, "");

    client
        .delete_integration(DeleteIntegrationRequest {
            integration_id: id.clone(),
            expected_version: None,
            force: false,
        })
        .await
        .unwrap();
    let gone = client
        .get_integration(GetIntegrationRequest {
            integration_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let again = client
        .delete_integration(DeleteIntegrationRequest {
            integration_id: id.clone(),
            expected_version: None,
            force: false,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    let bad_id = client
        .get_integration(GetIntegrationRequest {
            integration_id: "salesforce".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_id.code(), Code::InvalidArgument);
    assert!(bad_id.message().contains("integration_id"));

    let mut audit = server.audit().await;
    let mut history = audit
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::IntegrationId(id)),
            from_version: 1,
        })
        .await
        .unwrap()
        .into_inner();
    let mut types = Vec::new();
    while let Some(event) = history.message().await.unwrap() {
        assert!(!event.payload_json.contains(CANARY_SECRET));
        assert!(!event.payload_json.contains("another-secret"));
        types.push(event.r#type);
    }
    assert_eq!(
        types,
        [
            "integration_created",
            "integration_updated",
            "integration_updated",
            "integration_updated",
            "integration_deleted"
        ]
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn a_second_integration_with_the_same_name_already_exists() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut client = server.integrations().await;
    let request = || CreateIntegrationRequest {
        config: Some(integration_config("Slack")),
        client_secret: String::new(),
        ..Default::default()
    };
    let first = client
        .create_integration(request())
        .await
        .unwrap()
        .into_inner();
    assert!(!first.has_client_secret);
    let second = client.create_integration(request()).await.unwrap_err();
    assert_eq!(second.code(), Code::AlreadyExists);
    assert!(second.message().contains("Slack"));
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test]
async fn webhooks_are_verified_github_and_slack_style_and_routed_by_account() {
    use latchkey_crypto::hmac_sha256_hex;
    use latchkey_proto::v1::{VerifyWebhookRequest, WebhookKind, WebhookScheme};
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut client = server.integrations().await;
    let create = |name: &str, scheme: WebhookScheme, secret: &str| CreateIntegrationRequest {
        config: Some(IntegrationConfig {
            webhook: Some(scheme),
            ..integration_config(name)
        }),
        webhook_secret: secret.to_owned(),
        ..Default::default()
    };
    let github = client
        .create_integration(create(
            "GitHub",
            WebhookScheme {
                kind: WebhookKind::HmacBody as i32,
                signature_header: "X-Hub-Signature-256".to_owned(),
                prefix: "sha256=".to_owned(),
                account_pointer: "/installation/id".to_owned(),
                ..Default::default()
            },
            "gh-webhook-secret",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(github.has_webhook_secret);
    let slack = client
        .create_integration(create(
            "Slack",
            WebhookScheme {
                kind: WebhookKind::HmacTimestamped as i32,
                signature_header: "x-slack-signature".to_owned(),
                prefix: "v0=".to_owned(),
                timestamp_header: "x-slack-request-timestamp".to_owned(),
                template: "v0:{timestamp}:{body}".to_owned(),
                tolerance_secs: 300,
                account_pointer: "/team_id".to_owned(),
                ..Default::default()
            },
            "slack-signing-secret",
        ))
        .await
        .unwrap()
        .into_inner();

    let verify =
        |integration: &str, headers: Vec<(&str, String)>, body: &str| VerifyWebhookRequest {
            integration_id: integration.to_owned(),
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            body: body.as_bytes().to_vec(),
            ..Default::default()
        };
    let body = r#"{"action":"created","installation":{"id":4242}}"#;
    let signature = format!(
        "sha256={}",
        hmac_sha256_hex(b"gh-webhook-secret", body.as_bytes())
    );
    let ok = client
        .verify_webhook(verify(
            &github.integration_id,
            vec![("X-Hub-Signature-256", signature.clone())],
            body,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.valid, "{ok:?}");
    assert_eq!(ok.provider_account_id, "4242", "routed to the installation");
    let tampered = client
        .verify_webhook(verify(
            &github.integration_id,
            vec![("X-Hub-Signature-256", signature)],
            &body.replace("4242", "4243"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!tampered.valid);
    assert!(tampered.reason.contains("does not match"));
    assert!(
        tampered.provider_account_id.is_empty(),
        "an invalid webhook is routed nowhere"
    );
    let wrong_secret = format!("sha256={}", hmac_sha256_hex(b"guess", body.as_bytes()));
    let wrong = client
        .verify_webhook(verify(
            &github.integration_id,
            vec![("X-Hub-Signature-256", wrong_secret)],
            body,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!wrong.valid);

    let body = r#"{"team_id":"T024BE7LD","event":{"type":"app_mention"}}"#;
    let now = chrono::Utc::now().timestamp();
    let slack_headers = |ts: i64| {
        let signed = format!("v0:{ts}:{body}");
        vec![
            ("X-Slack-Request-Timestamp", ts.to_string()),
            (
                "X-Slack-Signature",
                format!(
                    "v0={}",
                    hmac_sha256_hex(b"slack-signing-secret", signed.as_bytes())
                ),
            ),
        ]
    };
    let fresh = client
        .verify_webhook(verify(&slack.integration_id, slack_headers(now), body))
        .await
        .unwrap()
        .into_inner();
    assert!(fresh.valid, "{fresh:?}");
    assert_eq!(fresh.provider_account_id, "T024BE7LD");
    let stale = client
        .verify_webhook(verify(
            &slack.integration_id,
            slack_headers(now - 600),
            body,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!stale.valid);
    assert!(stale.reason.contains("tolerance"), "{stale:?}");
    let unsigned = client
        .verify_webhook(verify(&slack.integration_id, vec![], body))
        .await
        .unwrap()
        .into_inner();
    assert!(!unsigned.valid && unsigned.reason.contains("missing"));
    let (_, log) = server.stop().await;
    assert!(!log.contains("slack-signing-secret") && !log.contains("gh-webhook-secret"));
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_body_over_the_integrations_limit_is_refused_unread() {
    use latchkey_crypto::hmac_sha256_hex;
    use latchkey_proto::v1::{
        GetIntegrationRequest, VerifyWebhookRequest, WebhookKind, WebhookScheme,
    };
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut client = server.integrations().await;
    let scheme = WebhookScheme {
        kind: WebhookKind::HmacBody as i32,
        signature_header: "X-Hub-Signature-256".to_owned(),
        prefix: "sha256=".to_owned(),
        ..Default::default()
    };
    let request = |name: &str, limit: Option<u32>| CreateIntegrationRequest {
        config: Some(IntegrationConfig {
            webhook: Some(scheme.clone()),
            webhook_max_body_bytes: limit,
            ..integration_config(name)
        }),
        webhook_secret: "hook-secret".to_owned(),
        ..Default::default()
    };
    let too_small = client
        .create_integration(request("Tiny", Some(10)))
        .await
        .unwrap_err();
    assert_eq!(too_small.code(), Code::InvalidArgument);
    assert!(
        too_small
            .message()
            .contains("config.webhook_max_body_bytes"),
        "{too_small:?}"
    );
    let defaulted = client
        .create_integration(request("Default", None))
        .await
        .unwrap()
        .into_inner();
    let read = client
        .get_integration(GetIntegrationRequest {
            integration_id: defaulted.integration_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        read.config.unwrap().webhook_max_body_bytes,
        Some(1024 * 1024),
        "1 MiB unless set"
    );
    let small = client
        .create_integration(request("Small", Some(2048)))
        .await
        .unwrap()
        .into_inner();
    let verify = |body: &str| VerifyWebhookRequest {
        integration_id: small.integration_id.clone(),
        headers: [(
            "X-Hub-Signature-256".to_owned(),
            format!(
                "sha256={}",
                hmac_sha256_hex(b"hook-secret", body.as_bytes())
            ),
        )]
        .into_iter()
        .collect(),
        body: body.as_bytes().to_vec(),
        ..Default::default()
    };
    let fits = format!("{{\"pad\":\"{}\"}}", "x".repeat(2000));
    assert!(
        client
            .verify_webhook(verify(&fits))
            .await
            .unwrap()
            .into_inner()
            .valid
    );
    let over = format!("{{\"pad\":\"{}\"}}", "x".repeat(2100));
    let refused = client.verify_webhook(verify(&over)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("body") && refused.message().contains("2048"),
        "{refused:?}"
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_webhooks_deliveries_verify_with_a_whsec_secret() {
    use base64::Engine;
    use latchkey_crypto::hmac_sha256_hex;
    use latchkey_proto::v1::{VerifyWebhookRequest, WebhookKind, WebhookScheme};
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let mut client = server.integrations().await;
    // The specification's example secret; the signature below is made as its libraries make it.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let created = client
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                webhook: Some(WebhookScheme {
                    kind: WebhookKind::StandardWebhooks as i32,
                    signature_header: "webhook-signature".to_owned(),
                    timestamp_header: "webhook-timestamp".to_owned(),
                    encoding: "base64".to_owned(),
                    tolerance_secs: 300,
                    account_pointer: "/account".to_owned(),
                    ..Default::default()
                }),
                ..integration_config("Standard")
            }),
            webhook_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(&secret["whsec_".len()..]).unwrap();
    let sign = |id: &str, ts: i64, body: &str| {
        let hex = hmac_sha256_hex(&key, format!("{id}.{ts}.{body}").as_bytes());
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        format!("v1,{}", b64.encode(bytes))
    };
    let verify = |id: &str, ts: i64, signature: String, body: &str| VerifyWebhookRequest {
        integration_id: created.integration_id.clone(),
        headers: [
            ("webhook-id".to_owned(), id.to_owned()),
            ("webhook-timestamp".to_owned(), ts.to_string()),
            ("webhook-signature".to_owned(), signature),
        ]
        .into_iter()
        .collect(),
        body: body.as_bytes().to_vec(),
        ..Default::default()
    };
    let now = chrono::Utc::now().timestamp();
    let body = r#"{"account":"acct_1","type":"invoice.paid"}"#;
    // A rolled secret's old signature first, then the current one: either may match.
    let signature = format!("v1,AAAA {}", sign("msg_1", now, body));
    let ok = client
        .verify_webhook(verify("msg_1", now, signature.clone(), body))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.valid, "{ok:?}");
    assert_eq!(ok.provider_account_id, "acct_1");
    let other_id = client
        .verify_webhook(verify("msg_2", now, signature, body))
        .await
        .unwrap()
        .into_inner();
    assert!(!other_id.valid, "the id is signed too");
    let stale = client
        .verify_webhook(verify(
            "msg_1",
            now - 600,
            sign("msg_1", now - 600, body),
            body,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !stale.valid && stale.reason.contains("tolerance"),
        "{stale:?}"
    );
    server.stop().await;
    mode.cleanup().await;
}
