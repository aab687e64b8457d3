//! Inbound webhooks through the real binary: deliveries to the public URL verified fail-closed,
//! recorded on each connection of their provider account (or as unrouted), once per delivery
//! id, published on NATS with their body, read back over gRPC, shredded with their connection;
//! and the providers' URL handshakes.

use std::time::Duration;

use latchkey_crypto::hmac_sha256_hex;
use latchkey_proto::v1::event::Payload;
use latchkey_proto::v1::{
    CreateIntegrationRequest, DeleteConnectionRequest, GetHistoryRequest,
    GetWebhookDeliveryRequest, ImportConnectionRequest, IntegrationConfig,
    ListWebhookDeliveriesRequest, WebhookKind, WebhookRouting, WebhookScheme,
};
use prost::Message as _;

use crate::helpers::{Mode, Server, integration_config, wait_until};
use crate::relay::{Topic, nats_url};

/// GitHub's documented test vector ("Validating webhook deliveries").
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_BODY: &str = "Hello, World!";
const GITHUB_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

/// A body canary: it must never reach a log line or a stored payload in clear.
const BODY_CANARY: &str = "body-canary-5d1f0c77";

fn github_scheme() -> WebhookScheme {
    WebhookScheme {
        kind: WebhookKind::HmacBody as i32,
        signature_header: "x-hub-signature-256".to_owned(),
        prefix: "sha256=".to_owned(),
        encoding: "hex".to_owned(),
        account_pointer: "/installation/id".to_owned(),
        ..Default::default()
    }
}

fn github_routing() -> WebhookRouting {
    WebhookRouting {
        event_type_from: "header:x-github-event".to_owned(),
        delivery_id_from: "header:x-github-delivery".to_owned(),
        ..Default::default()
    }
}

async fn create(
    server: &Server,
    name: &str,
    scheme: Option<WebhookScheme>,
    routing: Option<WebhookRouting>,
    secret: &str,
) -> String {
    server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                webhook: scheme,
                webhook_routing: routing,
                ..integration_config(name)
            }),
            webhook_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id
}

async fn import(server: &Server, integration_id: &str, tenant: &str, account: &str) -> String {
    server
        .connections()
        .await
        .import_connection(ImportConnectionRequest {
            integration_id: integration_id.to_owned(),
            tenant: tenant.to_owned(),
            access_token: format!("at-{tenant}-{account}"),
            provider_account_id: account.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap()
        .connection_id
}

/// POSTs a delivery to the public URL; the status and the answer's body.
async fn deliver(
    server: &Server,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("http://{}{path}", server.http_addr))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// A GitHub-style integration and a connection of tenant `acme` for each of the accounts `0` to
/// `accounts - 1`: the integration's id and the connections', by account.
async fn github_with_accounts(server: &Server, accounts: usize) -> (String, Vec<String>) {
    let github = create(
        server,
        "GitHub",
        Some(github_scheme()),
        Some(github_routing()),
        GITHUB_SECRET,
    )
    .await;
    let mut connections = Vec::new();
    for n in 0..accounts {
        connections.push(import(server, &github, "acme", &format!("{n}")).await);
    }
    (github, connections)
}

fn github_headers(delivery: &str, signature: String) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-github-event", "installation_repositories".to_owned()),
        ("x-github-delivery", delivery.to_owned()),
        ("x-hub-signature-256", signature),
    ]
}

fn signed(body: &str) -> String {
    format!(
        "sha256={}",
        hmac_sha256_hex(GITHUB_SECRET.as_bytes(), body.as_bytes())
    )
}

/// The deliveries of a connection, or with `integration` the unrouted ones of an integration.
async fn listed(
    server: &Server,
    id: &str,
    integration: bool,
) -> Vec<latchkey_proto::v1::WebhookDeliveryRecord> {
    let (connection_id, integration_id) = if integration {
        (String::new(), id.to_owned())
    } else {
        (id.to_owned(), String::new())
    };
    server
        .connections()
        .await
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            connection_id,
            integration_id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries
}

async fn deliveries(
    server: &Server,
    connection_id: &str,
) -> Vec<latchkey_proto::v1::WebhookDeliveryRecord> {
    listed(server, connection_id, false).await
}

async fn unrouted(
    server: &Server,
    integration_id: &str,
) -> Vec<latchkey_proto::v1::WebhookDeliveryRecord> {
    listed(server, integration_id, true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_recorded_per_connection_once_published_with_their_body_and_shredded_with_it()
 {
    let url = nats_url();
    let topic = Topic::new();
    let mode = Mode::embedded();
    let env = topic.env(&url);
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let github = create(
        &server,
        "GitHub",
        Some(github_scheme()),
        Some(github_routing()),
        GITHUB_SECRET,
    )
    .await;
    let path = format!("/webhooks/{github}");
    // One installation connected by two tenants, another by one.
    let acme = import(&server, &github, "acme", "4242").await;
    let globex = import(&server, &github, "globex", "4242").await;
    let other = import(&server, &github, "acme", "777").await;

    // GitHub's own test vector verifies; its body names no installation: unrouted.
    let (status, _) = deliver(
        &server,
        &path,
        &github_headers("vector-1", GITHUB_SIGNATURE.to_owned()),
        GITHUB_BODY,
    )
    .await;
    assert_eq!(status, 200);
    let stray = unrouted(&server, &github).await;
    assert_eq!(stray.len(), 1);
    assert_eq!(stray[0].event_type, "webhook_unrouted");
    assert_eq!(
        stray[0].delivery.as_ref().unwrap().body,
        GITHUB_BODY.as_bytes()
    );

    // A delivery for installation 4242: one event on each of its two connections.
    let body =
        format!(r#"{{"action":"added","installation":{{"id":4242}},"note":"{BODY_CANARY}"}}"#);
    let headers = github_headers("d-4242-1", signed(&body));
    assert_eq!(deliver(&server, &path, &headers, &body).await.0, 200);
    for connection in [&acme, &globex] {
        let got = deliveries(&server, connection).await;
        assert_eq!(got.len(), 1, "{connection}");
        let delivery = got[0].delivery.as_ref().unwrap();
        assert_eq!(delivery.body, body.as_bytes());
        assert_eq!(delivery.delivery_id, "d-4242-1");
        assert_eq!(delivery.event_type, "installation_repositories");
        assert_eq!(delivery.routing_keys, ["4242"]);
        assert_eq!(delivery.scheme, "hmac_body");
        assert!(!delivery.headers.contains_key("x-hub-signature-256"));
    }
    assert!(deliveries(&server, &other).await.is_empty());
    // The same delivery again (GitHub's redelivery): answered, not recorded twice.
    assert_eq!(deliver(&server, &path, &headers, &body).await.0, 200);
    assert_eq!(deliveries(&server, &acme).await.len(), 1);

    // Refused, and nothing recorded: altered body, wrong secret, missing header.
    let altered = body.replace("added", "removed");
    let wrong = format!(
        "sha256={}",
        hmac_sha256_hex(b"not the secret", body.as_bytes())
    );
    for (headers, body) in [
        (github_headers("d-x-1", signed(&body)), altered.as_str()),
        (github_headers("d-x-2", wrong), body.as_str()),
        (
            github_headers("d-x-3", String::new())[..3].to_vec(),
            body.as_str(),
        ),
    ] {
        let (status, reason) = deliver(&server, &path, &headers, body).await;
        assert_eq!(status, 401, "{reason}");
    }
    // An integration with no webhook secret refuses every delivery.
    let bare = create(&server, "Bare", Some(github_scheme()), None, "").await;
    let (status, reason) = deliver(
        &server,
        &format!("/webhooks/{bare}"),
        &github_headers("d-bare", signed(&body)),
        &body,
    )
    .await;
    assert_eq!(status, 401);
    assert!(reason.contains("no webhook scheme and secret"), "{reason}");
    assert_eq!(deliveries(&server, &acme).await.len(), 1);
    assert_eq!(unrouted(&server, &github).await.len(), 1);
    // Unknown integration, unknown connection: 404. Over the body limit: 413.
    let nowhere = format!("/webhooks/{}", uuid::Uuid::now_v7());
    assert_eq!(deliver(&server, &nowhere, &headers, &body).await.0, 404);
    let wrong_connection = format!("{path}/{}", uuid::Uuid::now_v7());
    assert_eq!(
        deliver(&server, &wrong_connection, &headers, &body).await.0,
        404
    );
    // A large body (hashed off the async workers) well over the listener's 16 KiB for its other
    // routes, under the integration's 1 MiB: taken.
    let large = format!(
        r#"{{"installation":{{"id":777}},"pad":"{}"}}"#,
        "y".repeat(200 * 1024)
    );
    let headers_large = github_headers("d-large", signed(&large));
    assert_eq!(deliver(&server, &path, &headers_large, &large).await.0, 200);
    assert_eq!(
        deliveries(&server, &other).await[0]
            .delivery
            .as_ref()
            .unwrap()
            .body,
        large.as_bytes()
    );
    let huge = "x".repeat(1024 * 1024 + 1);
    assert_eq!(deliver(&server, &path, &headers, &huge).await.0, 413);

    // The per-connection URL records on that connection only.
    let only = format!("{path}/{other}");
    let headers = github_headers("d-777-1", signed(&body));
    assert_eq!(deliver(&server, &only, &headers, &body).await.0, 200);
    assert_eq!(deliveries(&server, &other).await.len(), 2);
    assert_eq!(deliveries(&server, &acme).await.len(), 1);

    // On NATS: each tenant's subject carries its own event, with the opened body and headers.
    let expected = [
        format!("{}._integrations.{github}.webhook_unrouted", topic.prefix),
        format!("{}.acme.{acme}.webhook_received", topic.prefix),
        format!("{}.globex.{globex}.webhook_received", topic.prefix),
        format!("{}.acme.{other}.webhook_received", topic.prefix),
    ];
    wait_until(
        "the deliveries on NATS",
        Duration::from_secs(30),
        || async {
            let subjects: Vec<String> = topic
                .messages(&url)
                .await
                .iter()
                .map(|m| m.subject.to_string())
                .collect();
            expected.iter().all(|e| subjects.contains(e))
        },
    )
    .await;
    let messages = topic.messages(&url).await;
    let on_acme: Vec<_> = messages
        .iter()
        .filter(|m| m.subject.as_str() == expected[1])
        .collect();
    assert_eq!(on_acme.len(), 1, "recorded once, published once");
    let header = |name: &str| on_acme[0].headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(header("Latchkey-Delivery-Id").as_deref(), Some("d-4242-1"));
    assert_eq!(
        header("Latchkey-Webhook-Type").as_deref(),
        Some("installation_repositories")
    );
    let event = latchkey_proto::v1::Event::decode(on_acme[0].payload.clone()).unwrap();
    let Some(Payload::WebhookReceived(published)) = event.payload else {
        panic!("not a delivery: {event:?}");
    };
    assert_eq!(published.body, body.as_bytes());
    assert!(
        !event.payload_json.contains(BODY_CANARY),
        "sealed in the log"
    );

    // An operator replays it: published again on the same subject, under a new message id, with
    // the event it repeats named.
    let event_id = deliveries(&server, &acme).await[0].event_id.clone();
    let cli_env = vec![
        (
            "LATCHKEY_SERVER".to_owned(),
            format!("http://{}", server.grpc_addr),
        ),
        ("LATCHKEY_NATS_URL".to_owned(), url.clone()),
        (
            "LATCHKEY_NATS_SUBJECT_PREFIX".to_owned(),
            topic.prefix.clone(),
        ),
    ];
    let out = crate::helpers::command(
        &["webhooks", "replay", &event_id],
        &cli_env,
        &std::env::temp_dir(),
    )
    .output()
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("replayed {event_id} as message")),
        "{said}"
    );
    let replays = || async {
        topic
            .messages(&url)
            .await
            .into_iter()
            .filter(|m| m.subject.as_str() == expected[1])
            .collect::<Vec<_>>()
    };
    wait_until("the replay on NATS", Duration::from_secs(10), || async {
        replays().await.len() == 2
    })
    .await;
    let again = replays().await.pop().unwrap();
    let named = |name: &str| again.headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(
        named("Latchkey-Replay-Of").as_deref(),
        Some(event_id.as_str())
    );
    assert_ne!(named("Nats-Msg-Id").as_deref(), Some(event_id.as_str()));
    let replayed = latchkey_proto::v1::Event::decode(again.payload.clone()).unwrap();
    let Some(Payload::WebhookReceived(replayed)) = replayed.payload else {
        panic!("not a delivery");
    };
    assert_eq!(replayed.body, body.as_bytes());

    // The stored event holds the body sealed; history shows no body.
    let mut history = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(
                latchkey_proto::v1::get_history_request::Stream::ConnectionId(acme.clone()),
            ),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    while let Some(event) = history.message().await.unwrap() {
        assert!(!event.payload_json.contains(BODY_CANARY));
        if let Some(Payload::WebhookReceived(d)) = event.payload {
            assert!(d.body.is_empty());
        }
    }

    // Deleting the connection shreds its deliveries' bodies.
    let event_id = deliveries(&server, &acme).await[0].event_id.clone();
    server
        .connections()
        .await
        .delete_connection(DeleteConnectionRequest {
            connection_id: acme.clone(),
        })
        .await
        .unwrap();
    let gone = server
        .connections()
        .await
        .get_webhook_delivery(GetWebhookDeliveryRequest { event_id })
        .await
        .unwrap()
        .into_inner();
    assert!(gone.delivery.unwrap().body.is_empty());
    assert!(
        gone.body_unavailable.contains("deleted"),
        "{}",
        gone.body_unavailable
    );
    // The other tenant's copy is still readable.
    assert_eq!(
        deliveries(&server, &globex).await[0]
            .delivery
            .as_ref()
            .unwrap()
            .body,
        body.as_bytes()
    );

    let metrics = server.admin_get("/metrics").await.unwrap().1;
    assert!(
        metrics.contains("outcome=\"refused_signature\""),
        "{metrics}"
    );
    let (_, log) = server.stop().await;
    assert!(!log.contains(BODY_CANARY), "a body reached the log");
    assert!(!log.contains(GITHUB_SECRET));
    topic.delete(&url).await;
    mode.cleanup().await;
}

/// Slack's documented signing example ("Verifying requests from Slack"): a slash command.
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TIMESTAMP: &str = "1531420618";
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

fn slack_scheme(tolerance_secs: u32) -> WebhookScheme {
    WebhookScheme {
        kind: WebhookKind::HmacTimestamped as i32,
        signature_header: "x-slack-signature".to_owned(),
        prefix: "v0=".to_owned(),
        encoding: "hex".to_owned(),
        timestamp_header: "x-slack-request-timestamp".to_owned(),
        template: "v0:{timestamp}:{body}".to_owned(),
        tolerance_secs,
        ..Default::default()
    }
}

fn slack_routing() -> WebhookRouting {
    WebhookRouting {
        event_type_from: "/event/type|/payload/type|/type|/command".to_owned(),
        delivery_id_from: "/event_id|/payload/trigger_id|/trigger_id".to_owned(),
        routing_key_from: "/team_id|/payload/team/id".to_owned(),
        handshake: "slack".to_owned(),
        form_bodies_are_actions: true,
        ..Default::default()
    }
}

fn slack_headers(timestamp: &str, signature: String, form: bool) -> Vec<(&'static str, String)> {
    let content_type = if form {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    vec![
        ("content-type", content_type.to_owned()),
        ("x-slack-request-timestamp", timestamp.to_owned()),
        ("x-slack-signature", signature),
    ]
}

fn slack_signed(body: &str) -> (String, String) {
    let now = chrono::Utc::now().timestamp().to_string();
    let signature = hmac_sha256_hex(
        SLACK_SECRET.as_bytes(),
        format!("v0:{now}:{body}").as_bytes(),
    );
    (now, format!("v0={signature}"))
}

async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{}{path}", server.http_addr))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_actions_are_recorded_with_their_secrets_sealed_and_answered_at_once() {
    let url = nats_url();
    let topic = Topic::new();
    let mode = Mode::embedded();
    let env = topic.env(&url);
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    // Slack's example is from 2018: a five-minute tolerance refuses it as a replay...
    let strict = create(
        &server,
        "Slack",
        Some(slack_scheme(300)),
        Some(slack_routing()),
        SLACK_SECRET,
    )
    .await;
    let (status, reason) = deliver(
        &server,
        &format!("/webhooks/{strict}"),
        &slack_headers(SLACK_TIMESTAMP, SLACK_SIGNATURE.to_owned(), true),
        SLACK_BODY,
    )
    .await;
    assert_eq!(status, 401);
    assert!(reason.contains("tolerance"), "{reason}");
    // ...and one wide enough to reach back to it takes Slack's own signature.
    let lenient = create(
        &server,
        "Slack archive",
        Some(slack_scheme(400_000_000)),
        Some(slack_routing()),
        SLACK_SECRET,
    )
    .await;
    let team = import(&server, &lenient, "acme", "T1DC2JH3J").await;
    let started = std::time::Instant::now();
    let (status, answer) = deliver(
        &server,
        &format!("/webhooks/{lenient}"),
        &slack_headers(SLACK_TIMESTAMP, SLACK_SIGNATURE.to_owned(), true),
        SLACK_BODY,
    )
    .await;
    assert_eq!((status, answer.as_str()), (200, ""));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "Slack waits 3 s"
    );
    let got = deliveries(&server, &team).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event_type, "action_received");
    let action = got[0].delivery.as_ref().unwrap();
    assert_eq!(action.event_type, "/webhook-collect");
    assert_eq!(
        action.delivery_id,
        "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    );
    assert_eq!(action.body, SLACK_BODY.as_bytes());

    // A block action (interactivity: the JSON in a form field), signed now, on the strict one.
    let strict_team = import(&server, &strict, "globex", "T9TEAM").await;
    let payload = serde_json::json!({
        "type": "block_actions",
        "team": {"id": "T9TEAM"},
        "trigger_id": "trigger-9",
        "response_url": "https://hooks.slack.com/actions/T9TEAM/response-url-canary",
        "actions": [{"action_id": "approve"}],
    });
    let body = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let (now, signature) = slack_signed(&body);
    let path = format!("/webhooks/{strict}");
    let (status, _) = deliver(&server, &path, &slack_headers(&now, signature, true), &body).await;
    assert_eq!(status, 200);
    let got = deliveries(&server, &strict_team).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].delivery.as_ref().unwrap().event_type,
        "block_actions"
    );
    // The response URL is nowhere in clear: not in the stored payload, not in NATS headers.
    let mut history = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(
                latchkey_proto::v1::get_history_request::Stream::ConnectionId(strict_team.clone()),
            ),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut types = Vec::new();
    while let Some(event) = history.message().await.unwrap() {
        assert!(!event.payload_json.contains("response-url-canary"));
        types.push(event.r#type);
    }
    assert!(types.contains(&"action_received".to_owned()), "{types:?}");
    let subject = format!("{}.globex.{strict_team}.action_received", topic.prefix);
    wait_until("the action on NATS", Duration::from_secs(30), || async {
        topic
            .messages(&url)
            .await
            .iter()
            .any(|m| m.subject.as_str() == subject)
    })
    .await;
    for message in topic.messages(&url).await {
        for (_, values) in message.headers.iter() {
            for value in values {
                assert!(!value.as_str().contains("response-url-canary"));
            }
        }
    }

    // Slack's url_verification: signed, answered with the challenge, recorded on the integration.
    let challenge = r#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let (now, signature) = slack_signed(challenge);
    let (status, echoed) = deliver(
        &server,
        &path,
        &slack_headers(&now, signature, false),
        challenge,
    )
    .await;
    assert_eq!(
        (status, echoed.as_str()),
        (200, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    );
    let (status, _) = deliver(
        &server,
        &path,
        &slack_headers(&now, "v0=00".to_owned(), false),
        challenge,
    )
    .await;
    assert_eq!(status, 401, "an unsigned challenge is not answered");
    // A GET where Slack makes none.
    assert_eq!(get(&server, &path).await.0, 405);
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_handshakes_are_answered_as_each_provider_documents_them() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let with = |handshake: &str| {
        Some(WebhookRouting {
            handshake: handshake.to_owned(),
            ..Default::default()
        })
    };
    let scheme = || Some(github_scheme());
    // Microsoft Graph: POST ?validationToken=…, answered as text within 10 s, unsigned.
    let graph = create(
        &server,
        "Graph",
        scheme(),
        with("microsoft_graph"),
        "client-state",
    )
    .await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!(
            "http://{}/webhooks/{graph}?validationToken=Validation%3A%20Testing%20client%20application%20reachability",
            server.http_addr
        ))
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        response.text().await.unwrap(),
        "Validation: Testing client application reachability"
    );
    // Dropbox: GET ?challenge=…, echoed.
    let dropbox = create(&server, "Dropbox", scheme(), with("dropbox"), "app-secret").await;
    let (status, body) = get(&server, &format!("/webhooks/{dropbox}?challenge=abc123")).await;
    assert_eq!((status, body.as_str()), (200, "abc123"));
    // Meta: the challenge only for the right verify token (the webhook secret).
    let meta = create(&server, "Meta", scheme(), with("meta"), "meta-verify").await;
    let subscribe = |token: &str| {
        format!(
            "/webhooks/{meta}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        )
    };
    let (status, body) = get(&server, &subscribe("meta-verify")).await;
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    assert_eq!(get(&server, &subscribe("guess")).await.0, 401);
    // Zoom: endpoint.url_validation, signed; the plain token and its HMAC under the secret.
    let zoom_scheme = WebhookScheme {
        signature_header: "x-zm-signature".to_owned(),
        timestamp_header: "x-zm-request-timestamp".to_owned(),
        ..slack_scheme(300)
    };
    let zoom = create(
        &server,
        "Zoom",
        Some(zoom_scheme),
        with("zoom"),
        "zoom-secret",
    )
    .await;
    let body = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let now = chrono::Utc::now().timestamp().to_string();
    let signature = format!(
        "v0={}",
        hmac_sha256_hex(b"zoom-secret", format!("v0:{now}:{body}").as_bytes())
    );
    let (status, answer) = deliver(
        &server,
        &format!("/webhooks/{zoom}"),
        &[
            ("content-type", "application/json".to_owned()),
            ("x-zm-request-timestamp", now),
            ("x-zm-signature", signature),
        ],
        body,
    )
    .await;
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        answer["encryptedToken"],
        hmac_sha256_hex(b"zoom-secret", b"qgg8vlvZRS6UYooatFL8Aw")
    );
    // Each answered handshake is an event of its integration.
    let mut history = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(
                latchkey_proto::v1::get_history_request::Stream::IntegrationId(meta.clone()),
            ),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut handshakes = 0;
    while let Some(event) = history.message().await.unwrap() {
        if let Some(Payload::WebhookHandshake(h)) = event.payload {
            assert_eq!(h.handshake, "meta");
            handshakes += 1;
        }
    }
    assert_eq!(handshakes, 1, "the refused one is not recorded");
    server.stop().await;
    mode.cleanup().await;
}

/// What the provider was told (2xx) is in the log: 200 deliveries at once, the service killed
/// (SIGKILL) the moment the last is answered; after a restart every one is there and reaches
/// NATS exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_answered_2xx_survives_a_kill_and_reaches_nats_once() {
    let url = nats_url();
    let topic = Topic::new();
    let mode = Mode::postgres().await;
    let mut env = topic.env(&url);
    env.push((
        "LATCHKEY_HTTP_MAX_CONNECTIONS_PER_ADDRESS".to_owned(),
        "256".to_owned(),
    ));
    env.push((
        "LATCHKEY_HTTP_MAX_CONNECTIONS".to_owned(),
        "1024".to_owned(),
    ));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let (github, connections) = github_with_accounts(&server, 4).await;
    let client = reqwest::Client::new();
    let base = format!("http://{}/webhooks/{github}", server.http_addr);
    let sends: Vec<_> = (0..200)
        .map(|i| {
            let (client, base) = (client.clone(), base.clone());
            let body = format!(r#"{{"installation":{{"id":{}}},"n":{i}}}"#, i % 4);
            tokio::spawn(async move {
                let mut request = client.post(&base).body(body.clone());
                for (name, value) in github_headers(&format!("burst-{i}"), signed(&body)) {
                    request = request.header(name, value);
                }
                request.send().await.map(|r| r.status().as_u16())
            })
        })
        .collect();
    let mut answered = Vec::new();
    for send in sends {
        answered.push(send.await.unwrap().unwrap());
    }
    server.kill().await;
    assert!(answered.iter().all(|s| *s == 200), "{answered:?}");

    let server = Server::start_with(&mode, &extra).await;
    let mut recorded = 0;
    for connection in &connections {
        let mut token = String::new();
        loop {
            let page = server
                .connections()
                .await
                .list_webhook_deliveries(ListWebhookDeliveriesRequest {
                    connection_id: connection.clone(),
                    page_size: 500,
                    page_token: token.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            recorded += page.deliveries.len();
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
    }
    assert_eq!(recorded, 200);
    let published = || async {
        topic
            .messages(&url)
            .await
            .iter()
            .filter(|m| m.subject.as_str().ends_with(".webhook_received"))
            .filter_map(|m| {
                m.headers
                    .get("Latchkey-Delivery-Id")
                    .map(|v| v.as_str().to_owned())
            })
            .collect::<Vec<_>>()
    };
    wait_until(
        "200 deliveries on NATS",
        Duration::from_secs(60),
        || async { published().await.len() >= 200 },
    )
    .await;
    let ids = published().await;
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (200, 200), "each once");
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

/// A connection's own secret verifies deliveries to its own URL (set through the API, or kept
/// from Asana's handshake), and only there; the integration's does not stand in for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connections_own_webhook_secret_verifies_its_own_url() {
    use latchkey_proto::v1::SetWebhookSecretRequest;
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let asana_scheme = WebhookScheme {
        kind: WebhookKind::HmacBody as i32,
        signature_header: "x-hook-signature".to_owned(),
        encoding: "hex".to_owned(),
        ..Default::default()
    };
    let asana = create(
        &server,
        "Asana",
        Some(asana_scheme),
        Some(WebhookRouting {
            handshake: "asana".to_owned(),
            ..Default::default()
        }),
        "integration-level",
    )
    .await;
    let first = import(&server, &asana, "acme", "ws-1").await;
    let second = import(&server, &asana, "acme", "ws-2").await;
    let url = |connection: &str| format!("/webhooks/{asana}/{connection}");
    let sign = |secret: &str, body: &str| {
        vec![
            ("content-type", "application/json".to_owned()),
            (
                "x-hook-signature",
                hmac_sha256_hex(secret.as_bytes(), body.as_bytes()),
            ),
        ]
    };
    // Asana's handshake: the secret echoed, and kept as the connection's.
    let response = reqwest::Client::new()
        .post(format!("http://{}{}", server.http_addr, url(&first)))
        .header("x-hook-secret", "asana-hook-secret-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-hook-secret"], "asana-hook-secret-1");
    // A second handshake cannot replace it.
    let again = reqwest::Client::new()
        .post(format!("http://{}{}", server.http_addr, url(&first)))
        .header("x-hook-secret", "attacker-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 401);
    let body = r#"{"events":[{"action":"changed"}]}"#;
    assert_eq!(
        deliver(
            &server,
            &url(&first),
            &sign("asana-hook-secret-1", body),
            body
        )
        .await
        .0,
        200
    );
    assert_eq!(
        deliver(&server, &url(&first), &sign("attacker-secret", body), body)
            .await
            .0,
        401
    );
    assert_eq!(
        deliver(
            &server,
            &url(&first),
            &sign("integration-level", body),
            body
        )
        .await
        .0,
        401,
        "the connection's own secret, not the integration's"
    );
    let got = deliveries(&server, &first).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].delivery.as_ref().unwrap().scheme,
        "connection:hmac_body"
    );
    // The operator's view: `latchkey webhooks list` and `show`.
    let env = vec![(
        "LATCHKEY_SERVER".to_owned(),
        format!("http://{}", server.grpc_addr),
    )];
    let cli = |args: Vec<String>| {
        let env = env.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = crate::helpers::command(&args, &env, &std::env::temp_dir())
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
    };
    let listed = cli(vec!["webhooks".into(), "list".into(), first.clone()]).await;
    assert!(listed.starts_with("RECEIVED"), "{listed}");
    assert!(listed.contains(&got[0].event_id) && listed.contains("connection:hmac_body"));
    let shown = cli(vec![
        "webhooks".into(),
        "show".into(),
        "--json".into(),
        got[0].event_id.clone(),
    ])
    .await;
    let shown: serde_json::Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(shown["body"], body);
    assert_eq!(shown["connection_id"], first.as_str());

    // Set, rotate and clear through the API; the fingerprint shows, the secret never does.
    let mut client = server.connections().await;
    let set = client
        .set_webhook_secret(SetWebhookSecretRequest {
            connection_id: second.clone(),
            webhook_secret: "per-account-1".to_owned(),
            clear: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(set.webhook_secret_fingerprint.starts_with("hmac-sha256:"));
    let other = r#"{"n":2}"#;
    assert_eq!(
        deliver(&server, &url(&second), &sign("per-account-1", other), other)
            .await
            .0,
        200
    );
    let rotated = client
        .set_webhook_secret(SetWebhookSecretRequest {
            connection_id: second.clone(),
            webhook_secret: "per-account-2".to_owned(),
            clear: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        rotated.webhook_secret_fingerprint,
        set.webhook_secret_fingerprint
    );
    let third = r#"{"n":3}"#;
    assert_eq!(
        deliver(&server, &url(&second), &sign("per-account-1", third), third)
            .await
            .0,
        401
    );
    let cleared = client
        .set_webhook_secret(SetWebhookSecretRequest {
            connection_id: second.clone(),
            webhook_secret: String::new(),
            clear: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(cleared.webhook_secret_fingerprint.is_empty());
    // Cleared: the integration's secret verifies its URL again.
    assert_eq!(
        deliver(
            &server,
            &url(&second),
            &sign("integration-level", third),
            third
        )
        .await
        .0,
        200
    );
    let missing = client
        .set_webhook_secret(SetWebhookSecretRequest {
            connection_id: second.clone(),
            webhook_secret: String::new(),
            clear: false,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::InvalidArgument);
    assert!(missing.message().contains("webhook_secret"));
    let (_, log) = server.stop().await;
    for secret in ["asana-hook-secret-1", "per-account-1", "per-account-2"] {
        assert!(!log.contains(secret), "{secret} reached the log");
    }
    mode.cleanup().await;
}

/// A provider's retry racing its original on another replica: two replicas on one database each
/// get the same 40 deliveries at the same moment (and one of them every one again after): every
/// request is answered 200, and each delivery is recorded once, on its connection, routed or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_delivery_at_two_replicas_at_once_is_recorded_once_and_answered_200_by_both() {
    let mode = Mode::postgres().await;
    let one = Server::start(&mode).await;
    let two = Server::start(&mode).await;
    let (github, connections) = github_with_accounts(&one, 4).await;
    let path = format!("/webhooks/{github}");
    // Accounts 0–3 are connected; 4 is not (unrouted, on the integration's stream).
    let body = |i: usize| format!(r#"{{"installation":{{"id":{}}},"n":{i}}}"#, i % 5);
    let sends: Vec<_> = (0..40)
        .flat_map(|i| [(i, one.http_addr), (i, two.http_addr)])
        .map(|(i, addr)| {
            let body = body(i);
            let headers = github_headers(&format!("race-{i}"), signed(&body));
            let url = format!("http://{addr}{path}");
            tokio::spawn(async move {
                let mut request = reqwest::Client::new().post(url).body(body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                request.send().await.map(|r| r.status().as_u16())
            })
        })
        .collect();
    for send in sends {
        assert_eq!(send.await.unwrap().unwrap(), 200);
    }
    for i in 0..40 {
        let headers = github_headers(&format!("race-{i}"), signed(&body(i)));
        assert_eq!(deliver(&two, &path, &headers, &body(i)).await.0, 200);
    }
    let mut ids = Vec::new();
    for connection in &connections {
        ids.extend(
            deliveries(&one, connection)
                .await
                .into_iter()
                .filter_map(|d| d.delivery.map(|d| d.delivery_id)),
        );
    }
    ids.extend(
        unrouted(&one, &github)
            .await
            .into_iter()
            .filter_map(|d| d.delivery.map(|d| d.delivery_id)),
    );
    ids.sort();
    let mut expected: Vec<String> = (0..40).map(|i| format!("race-{i}")).collect();
    expected.sort();
    assert_eq!(ids, expected, "each delivery recorded once");
    one.stop().await;
    two.stop().await;
    mode.cleanup().await;
}

/// Each replica holds where an account's deliveries route; a connection added or deleted at
/// another replica reaches its routing within moments (the database's notice), not after the
/// held routes' age runs out (a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_added_or_deleted_at_one_replica_is_routed_to_by_the_other_at_once() {
    let mode = Mode::postgres().await;
    let one = Server::start(&mode).await;
    let two = Server::start(&mode).await;
    let (github, first) = github_with_accounts(&one, 1).await;
    let first = first[0].clone();
    let path = format!("/webhooks/{github}");
    let body = r#"{"installation":{"id":0}}"#;
    let sent = std::sync::atomic::AtomicUsize::new(0);
    // Sends a new delivery of account 0 to replica two; its id.
    let send = || async {
        let id = format!(
            "route-{}",
            sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let (status, _) = deliver(&two, &path, &github_headers(&id, signed(body)), body).await;
        assert_eq!(status, 200);
        id
    };
    // Whether a delivery was recorded on a connection (the sends stay under one page of 500).
    let landed = |connection_id: String, id: String| {
        let one = &one;
        async move {
            let listed = one
                .connections()
                .await
                .list_webhook_deliveries(ListWebhookDeliveriesRequest {
                    connection_id,
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .deliveries;
            assert!(listed.len() < 500, "more sends than one page shows");
            listed
                .iter()
                .any(|d| d.delivery.as_ref().is_some_and(|d| d.delivery_id == id))
        }
    };
    // Replica two routes account 0 to the first connection, and holds that.
    let id = send().await;
    assert!(landed(first.clone(), id).await);

    // A second connection of the same account, made at replica one: two fans out to both.
    let second = import(&one, &github, "globex", "0").await;
    wait_until(
        "a delivery at replica two reaches the new connection",
        Duration::from_secs(10),
        || async {
            let id = send().await;
            landed(second.clone(), id.clone()).await && landed(first.clone(), id).await
        },
    )
    .await;

    // The first deleted at replica one: two routes to the second alone.
    one.connections()
        .await
        .delete_connection(DeleteConnectionRequest {
            connection_id: first.clone(),
        })
        .await
        .unwrap();
    wait_until(
        "a delivery at replica two passes the deleted connection by",
        Duration::from_secs(10),
        || async {
            let id = send().await;
            landed(second.clone(), id.clone()).await && !landed(first.clone(), id).await
        },
    )
    .await;
    assert!(
        landed(first.clone(), "route-0".to_owned()).await,
        "the deleted connection's deliveries are still listed (the check above could see one)"
    );
    one.stop().await;
    two.stop().await;
    mode.cleanup().await;
}
