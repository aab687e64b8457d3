//! Deliveries signed by the providers' own libraries (`tests/webhooks/sign.py`: slack_sdk,
//! stripe, standardwebhooks, twilio, hubspot-api-client; Shopify's and Zoom's documented
//! recipes), sent to integrations made from the templates: each valid one recorded on the right
//! connection and published on NATS with the same body; altered, wrongly keyed, stale or
//! unsigned ones refused with 401 and nothing recorded. Microsoft Graph's clientState and a
//! Pub/Sub push JWT signed by a local key set too.

use std::time::Duration;

use latchkey_proto::v1::event::Payload;
use latchkey_proto::v1::{
    CreateIntegrationRequest, ImportConnectionRequest, IntegrationConfig,
    ListWebhookDeliveriesRequest, WebhookKind, WebhookRouting, WebhookScheme,
};
use prost::Message as _;
use serde_json::{Value, json};

use crate::helpers::{LOOPBACK, Mode, Server, wait_until};
use crate::relay::{Topic, nats_url};

/// The Python with the providers' libraries: `LATCHKEY_TEST_PYTHON` (scripts/test sets it), or
/// the repository's venv.
fn python() -> String {
    let python = std::env::var("LATCHKEY_TEST_PYTHON").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/python-venv/bin/python"
        )
        .to_owned()
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "no Python with the providers' libraries at {python}: run scripts/test, or set \
         LATCHKEY_TEST_PYTHON to a Python with tests/webhooks/requirements.txt installed"
    );
    python
}

/// The headers the provider's library signs `body` with.
async fn sign(
    provider: &str,
    secret: &str,
    body: &str,
    url: &str,
    timestamp: i64,
) -> Vec<(String, String)> {
    use tokio::io::AsyncWriteExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/webhooks/sign.py");
    let mut child = tokio::process::Command::new(python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let request = json!({
        "provider": provider, "secret": secret, "body": body, "url": url,
        "method": "POST", "timestamp": timestamp, "id": format!("msg_{timestamp}"),
    });
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(request.to_string().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "sign.py {provider}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    answer["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// One provider's case.
struct Case {
    provider: &'static str,
    /// The template the integration starts from, or a scheme and routing of its own.
    template: &'static str,
    scheme: Option<WebhookScheme>,
    routing: Option<WebhookRouting>,
    secret: &'static str,
    /// Another secret of the same shape.
    wrong_secret: &'static str,
    content_type: &'static str,
    body: String,
    /// Headers the provider sends besides its signature.
    extra: Vec<(&'static str, &'static str)>,
    /// The connection: its provider account and parameters.
    account: &'static str,
    params: Vec<(&'static str, &'static str)>,
    /// Whether the provider's signature carries a timestamp.
    timestamped: bool,
    /// The header that carries the signature.
    signature_header: &'static str,
}

fn cases() -> Vec<Case> {
    let now = chrono::Utc::now().timestamp();
    vec![
        Case {
            provider: "slack",
            template: "slack",
            scheme: None,
            routing: None,
            secret: "8f742231b10e8888abcd99yyyzzz85a5",
            wrong_secret: "8f742231b10e8888abcd99yyyzzz85a6",
            content_type: "application/json",
            body: json!({"token": "t", "team_id": "T0SLACK", "api_app_id": "A1", "type": "event_callback",
                "event_id": format!("Ev{now}"), "event": {"type": "app_mention", "text": "hi"}})
            .to_string(),
            extra: vec![],
            account: "T0SLACK",
            params: vec![],
            timestamped: true,
            signature_header: "x-slack-signature",
        },
        Case {
            provider: "stripe",
            template: "stripe-connect",
            scheme: None,
            routing: None,
            secret: "whsec_test_stripe_endpoint_secret",
            wrong_secret: "whsec_test_other_endpoint_secret",
            content_type: "application/json",
            body: json!({"id": format!("evt_{now}"), "object": "event", "account": "acct_1STRIPE",
                "type": "invoice.paid", "data": {"object": {"id": "in_1"}}})
            .to_string(),
            extra: vec![],
            account: "acct_1STRIPE",
            params: vec![],
            timestamped: true,
            signature_header: "stripe-signature",
        },
        Case {
            provider: "shopify",
            template: "shopify",
            scheme: None,
            routing: None,
            secret: "shpss_app_client_secret",
            wrong_secret: "shpss_other_client_secret",
            content_type: "application/json",
            body: json!({"id": 820982911946154508_u64, "name": "#9999", "email": "jon@example.com"})
                .to_string(),
            extra: vec![
                ("x-shopify-topic", "orders/create"),
                ("x-shopify-shop-domain", "acme-store.myshopify.com"),
                ("x-shopify-event-id", "98880550-7158-44d4-b7cd-2c97c8a091b5"),
            ],
            account: "",
            params: vec![("shop", "acme-store")],
            timestamped: false,
            signature_header: "x-shopify-hmac-sha256",
        },
        Case {
            provider: "hubspot",
            template: "hubspot",
            scheme: None,
            routing: None,
            secret: "hubspot-client-secret-1",
            wrong_secret: "hubspot-client-secret-2",
            content_type: "application/json",
            body: json!([{"eventId": now, "subscriptionId": 2, "portalId": 62515, "appId": 3,
                "occurredAt": now * 1000, "subscriptionType": "contact.creation",
                "attemptNumber": 0, "objectId": 123, "changeSource": "CRM"}])
            .to_string(),
            extra: vec![],
            account: "62515",
            params: vec![],
            timestamped: true,
            signature_header: "x-hubspot-signature-v3",
        },
        Case {
            provider: "zoom",
            template: "zoom",
            scheme: None,
            routing: None,
            secret: "zoom-secret-token",
            wrong_secret: "zoom-other-token",
            content_type: "application/json",
            body: json!({"event": "meeting.started", "event_ts": now * 1000,
                "payload": {"account_id": "ZoomAcct1", "object": {"id": "85"}}})
            .to_string(),
            extra: vec![],
            account: "ZoomAcct1",
            params: vec![],
            timestamped: true,
            signature_header: "x-zm-signature",
        },
        Case {
            provider: "standard-webhooks",
            template: "",
            scheme: Some(WebhookScheme {
                kind: WebhookKind::StandardWebhooks as i32,
                signature_header: "webhook-signature".to_owned(),
                timestamp_header: "webhook-timestamp".to_owned(),
                encoding: "base64".to_owned(),
                tolerance_secs: 300,
                ..Default::default()
            }),
            routing: Some(WebhookRouting {
                event_type_from: "/type".to_owned(),
                delivery_id_from: "header:webhook-id".to_owned(),
                routing_key_from: "/account".to_owned(),
                ..Default::default()
            }),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            wrong_secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            content_type: "application/json",
            body: json!({"type": "invoice.paid", "account": "acct_std"}).to_string(),
            extra: vec![],
            account: "acct_std",
            params: vec![],
            timestamped: true,
            signature_header: "webhook-signature",
        },
        Case {
            provider: "twilio",
            template: "",
            scheme: Some(WebhookScheme {
                kind: WebhookKind::Twilio as i32,
                signature_header: "x-twilio-signature".to_owned(),
                encoding: "base64".to_owned(),
                ..Default::default()
            }),
            routing: Some(WebhookRouting {
                delivery_id_from: "/MessageSid".to_owned(),
                event_type_from: "/SmsStatus".to_owned(),
                routing_key_from: "/AccountSid".to_owned(),
                ..Default::default()
            }),
            secret: "twilio-auth-token-12345",
            wrong_secret: "twilio-auth-token-54321",
            content_type: "application/x-www-form-urlencoded",
            body: format!(
                "MessageSid=SM{now}&SmsStatus=received&AccountSid=AC0TWILIO&From=%2B15005550006&To=%2B15005550001&Body=Hello+there"
            ),
            extra: vec![],
            account: "AC0TWILIO",
            params: vec![],
            timestamped: false,
            signature_header: "x-twilio-signature",
        },
    ]
}

async fn create(server: &Server, case: &Case) -> String {
    server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            template: case.template.to_owned(),
            config: Some(IntegrationConfig {
                name: format!("{} webhooks", case.provider),
                client_id: "client-id".to_owned(),
                token_url: if case.template.is_empty() {
                    "https://provider.example/token".to_owned()
                } else {
                    String::new()
                },
                authorization_url: if case.template.is_empty() {
                    "https://provider.example/authorize".to_owned()
                } else {
                    String::new()
                },
                grant_type: if case.template.is_empty() {
                    latchkey_proto::v1::GrantType::AuthorizationCode as i32
                } else {
                    0
                },
                webhook: case.scheme.clone(),
                webhook_routing: case.routing.clone(),
                ..Default::default()
            }),
            webhook_secret: case.secret.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", case.provider))
        .into_inner()
        .integration_id
}

async fn import(server: &Server, integration_id: &str, case: &Case) -> String {
    server
        .connections()
        .await
        .import_connection(ImportConnectionRequest {
            integration_id: integration_id.to_owned(),
            tenant: "acme".to_owned(),
            access_token: format!("at-{}", case.provider),
            provider_account_id: case.account.to_owned(),
            connection_params: case
                .params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", case.provider))
        .into_inner()
        .connection
        .unwrap()
        .connection_id
}

async fn post(url: &str, headers: &[(String, String)], body: &str) -> u16 {
    post_answer(url, headers, body).await.0
}

/// The status and the body of the answer to a POST.
async fn post_answer(url: &str, headers: &[(String, String)], body: &str) -> (u16, String) {
    let mut request = reqwest::Client::new().post(url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn recorded(server: &Server, connection_id: &str) -> Vec<Vec<u8>> {
    server
        .connections()
        .await
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            connection_id: connection_id.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries
        .into_iter()
        .map(|d| d.delivery.unwrap().body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_made_by_the_providers_libraries_are_taken_and_tampering_is_refused() {
    let url = nats_url();
    let topic = Topic::new();
    let mode = Mode::embedded();
    let env = topic.env(&url);
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start_with(&mode, &extra).await;
    let now = chrono::Utc::now().timestamp();
    let mut expected = Vec::new();
    for case in cases() {
        let who = case.provider;
        let integration = create(&server, &case).await;
        let connection = import(&server, &integration, &case).await;
        let target = format!("http://{}/webhooks/{integration}", server.http_addr);
        let with = |mut signed: Vec<(String, String)>| {
            signed.push(("content-type".to_owned(), case.content_type.to_owned()));
            signed.extend(
                case.extra
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            );
            signed
        };
        // Refused, nothing recorded: altered body, another secret, stale, unsigned.
        let good = with(sign(who, case.secret, &case.body, &target, now).await);
        let altered = format!("{} ", case.body);
        assert_eq!(
            post(&target, &good, &altered).await,
            401,
            "{who}: altered body"
        );
        let wrong = with(sign(who, case.wrong_secret, &case.body, &target, now).await);
        assert_eq!(
            post(&target, &wrong, &case.body).await,
            401,
            "{who}: wrong secret"
        );
        if case.timestamped {
            let stale = with(sign(who, case.secret, &case.body, &target, now - 3600).await);
            assert_eq!(post(&target, &stale, &case.body).await, 401, "{who}: stale");
        }
        let unsigned: Vec<_> = good
            .iter()
            .filter(|(k, _)| k != case.signature_header)
            .cloned()
            .collect();
        assert_eq!(
            post(&target, &unsigned, &case.body).await,
            401,
            "{who}: unsigned"
        );
        assert!(recorded(&server, &connection).await.is_empty(), "{who}");
        // The provider's own signature: taken, recorded on its connection with the same body.
        assert_eq!(post(&target, &good, &case.body).await, 200, "{who}");
        assert_eq!(
            recorded(&server, &connection).await,
            vec![case.body.as_bytes().to_vec()],
            "{who}"
        );
        expected.push((who, connection, case.body.clone()));
    }
    // On NATS: each on its connection's subject, once, with the same body.
    wait_until(
        "every delivery on NATS",
        Duration::from_secs(30),
        || async {
            let messages = topic.messages(&url).await;
            expected.iter().all(|(_, connection, _)| {
                messages.iter().any(|m| {
                    m.subject
                        .as_str()
                        .ends_with(&format!("{connection}.webhook_received"))
                })
            })
        },
    )
    .await;
    let messages = topic.messages(&url).await;
    for (who, connection, body) in &expected {
        let subject = format!("{}.acme.{connection}.webhook_received", topic.prefix);
        let on: Vec<_> = messages
            .iter()
            .filter(|m| m.subject.as_str() == subject)
            .collect();
        assert_eq!(on.len(), 1, "{who}");
        let event = latchkey_proto::v1::Event::decode(on[0].payload.clone()).unwrap();
        let Some(Payload::WebhookReceived(delivery)) = event.payload else {
            panic!("{who}: {event:?}")
        };
        assert_eq!(delivery.body, body.as_bytes(), "{who}");
    }
    server.stop().await;
    topic.delete(&url).await;
    mode.cleanup().await;
}

/// Microsoft Graph: the validation request answered, then notifications whose every
/// `clientState` is the connection's secret recorded on the connection of the URL; one with a
/// wrong `clientState` anywhere in the batch refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_notifications_carry_their_client_state_and_pubsub_pushes_a_signed_jwt() {
    let provider = latchkey_fake_provider::FakeProvider::start(Default::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let graph = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            template: "microsoft".to_owned(),
            config: Some(IntegrationConfig {
                name: "Graph".to_owned(),
                client_id: "client-id".to_owned(),
                ..Default::default()
            }),
            webhook_secret: "integration-client-state".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mailbox = server
        .connections()
        .await
        .import_connection(ImportConnectionRequest {
            integration_id: graph.clone(),
            tenant: "acme".to_owned(),
            access_token: "at-graph".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap()
        .connection_id;
    let target = format!("http://{}/webhooks/{graph}/{mailbox}", server.http_addr);
    let client = reqwest::Client::new();
    let validation = client
        .post(format!("{target}?validationToken=Validation%3A%20Testing"))
        .send()
        .await
        .unwrap();
    assert_eq!(validation.status().as_u16(), 200);
    assert_eq!(validation.text().await.unwrap(), "Validation: Testing");
    let notification = |state: &str| {
        json!({"value": [
            {"subscriptionId": "s-1", "clientState": "integration-client-state", "changeType": "created",
             "resource": "Users/u/Messages/m1", "tenantId": "tid"},
            {"subscriptionId": "s-1", "clientState": state, "changeType": "created",
             "resource": "Users/u/Messages/m2", "tenantId": "tid"}
        ]})
        .to_string()
    };
    let json = [("content-type".to_owned(), "application/json".to_owned())];
    assert_eq!(post(&target, &json, &notification("guess")).await, 401);
    let good = notification("integration-client-state");
    assert_eq!(post(&target, &json, &good).await, 200);
    assert_eq!(recorded(&server, &mailbox).await, vec![good.into_bytes()]);

    // Pub/Sub push: a JWT from the key set the integration names.
    let pubsub = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            template: "google".to_owned(),
            config: Some(IntegrationConfig {
                name: "Gmail push".to_owned(),
                client_id: "client-id".to_owned(),
                webhook: Some(WebhookScheme {
                    kind: WebhookKind::GoogleOidc as i32,
                    jwks_url: provider.url("/jwks"),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            webhook_secret: "push@project.iam.gserviceaccount.com".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let gmail = server
        .connections()
        .await
        .import_connection(ImportConnectionRequest {
            integration_id: pubsub.clone(),
            tenant: "acme".to_owned(),
            access_token: "at-gmail".to_owned(),
            provider_account_id: "user@example.com".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap()
        .connection_id;
    let push_url = format!("http://{}/webhooks/{pubsub}", server.http_addr);
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD
        .encode(br#"{"emailAddress":"user@example.com","historyId":"9876"}"#);
    let body = json!({"message": {"data": data, "messageId": "2070443601311540", "publishTime": "2026-12-06T10:00:00Z"},
        "subscription": "projects/p/subscriptions/gmail"})
    .to_string();
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, email: &str| {
        json!({"iss": "https://accounts.google.com", "aud": aud, "email": email,
            "email_verified": true, "sub": "1234567890", "iat": now, "exp": now + 3600})
    };
    let bearer = |token: String| {
        vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("authorization".to_owned(), format!("Bearer {token}")),
        ]
    };
    let service_account = "push@project.iam.gserviceaccount.com";
    for (token, why) in [
        (
            provider.sign_jwt(&claims(&push_url, service_account), false),
            "unpublished key",
        ),
        (
            provider.sign_jwt(&claims("https://elsewhere.example/", service_account), true),
            "audience",
        ),
        (
            provider.sign_jwt(
                &claims(&push_url, "other@project.iam.gserviceaccount.com"),
                true,
            ),
            "email",
        ),
    ] {
        assert_eq!(post(&push_url, &bearer(token), &body).await, 401, "{why}");
    }
    assert_eq!(post(&push_url, &json, &body).await, 401, "no token");
    let token = provider.sign_jwt(&claims(&push_url, service_account), true);
    assert_eq!(post(&push_url, &bearer(token), &body).await, 200);
    assert_eq!(recorded(&server, &gmail).await, vec![body.into_bytes()]);
    server.stop().await;
    mode.cleanup().await;
}

async fn from_template(server: &Server, template: &str, secret: &str) -> String {
    server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            template: template.to_owned(),
            config: Some(IntegrationConfig {
                name: format!("{template} handshakes"),
                client_id: "client-id".to_owned(),
                ..Default::default()
            }),
            webhook_secret: secret.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id
}

async fn account(server: &Server, integration_id: &str, account: &str) -> String {
    server
        .connections()
        .await
        .import_connection(ImportConnectionRequest {
            integration_id: integration_id.to_owned(),
            tenant: "acme".to_owned(),
            access_token: format!("at-{account}"),
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

/// Xero's intent to receive, Discord's PING (signed with PyNaCl, as Discord's documentation
/// verifies), Notion's verification request: each answered as documented, then a real delivery
/// of each recorded (a Discord interaction as an action, answered with the template's deferral).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xero_discord_and_notion_handshakes_are_answered_as_documented() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let now = chrono::Utc::now().timestamp();
    let json = ("content-type".to_owned(), "application/json".to_owned());
    // Xero: an empty, signed batch is the intent to receive: 200 when signed, 401 when not.
    let xero = from_template(&server, "xero", "xero-webhooks-key").await;
    let org = account(&server, &xero, "t-xero-1").await;
    let target = format!("http://{}/webhooks/{xero}", server.http_addr);
    let intent =
        r#"{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0MEENTR0PY"}"#;
    let mut signed = sign("xero", "xero-webhooks-key", intent, &target, now).await;
    signed.push(json.clone());
    let mut wrong = sign("xero", "not-the-key", intent, &target, now).await;
    wrong.push(json.clone());
    assert_eq!(post(&target, &wrong, intent).await, 401);
    let response = post_answer(&target, &signed, intent).await;
    assert_eq!(response.0, 200);
    assert_eq!(response.1, "", "an empty body, as Xero asks");
    assert!(
        recorded(&server, &org).await.is_empty(),
        "a handshake, not a delivery"
    );
    let unrouted = server
        .connections()
        .await
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            integration_id: xero.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert!(
        unrouted.is_empty(),
        "not an unrouted delivery either: {unrouted:?}"
    );
    let event =
        json!({"events": [{"resourceId": "r-1", "eventType": "UPDATE", "eventCategory": "INVOICE",
        "tenantId": "t-xero-1", "tenantType": "ORGANISATION"}], "firstEventSequence": 1,
        "lastEventSequence": 1, "entropy": "X"})
        .to_string();
    let mut signed = sign("xero", "xero-webhooks-key", &event, &target, now).await;
    signed.push(json.clone());
    assert_eq!(post(&target, &signed, &event).await, 200);
    assert_eq!(recorded(&server, &org).await, vec![event.into_bytes()]);

    // Discord: the application's public key is the secret; PING answered {"type":1}.
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let discord = from_template(&server, "discord", public).await;
    let guild = account(&server, &discord, "g-1").await;
    let target = format!("http://{}/webhooks/{discord}", server.http_addr);
    let ping = r#"{"type":1,"id":"p-1","application_id":"a-1"}"#;
    let mut signed = sign("discord", seed, ping, &target, now).await;
    signed.push(json.clone());
    let response = post_answer(&target, &signed, ping).await;
    assert_eq!(response.0, 200);
    assert_eq!(response.1, r#"{"type":1}"#);
    assert_eq!(
        post(&target, &signed, r#"{"type":1,"id":"p-2"}"#).await,
        401,
        "altered"
    );
    let command = r#"{"type":2,"id":"i-1","guild_id":"g-1","data":{"name":"deploy"}}"#;
    let mut signed = sign("discord", seed, command, &target, now).await;
    signed.push(json.clone());
    let response = post_answer(&target, &signed, command).await;
    assert_eq!(response.0, 200);
    assert_eq!(response.1, r#"{"type":5}"#, "deferred");
    let got = server
        .connections()
        .await
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            connection_id: guild,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event_type, "action_received");
    assert_eq!(got[0].delivery.as_ref().unwrap().event_type, "deploy");

    // Notion: the verification token comes unsigned before any secret is set; it is kept for an
    // admin to read, and nothing else is taken without a secret.
    let notion = from_template(&server, "notion", "").await;
    let target = format!("http://{}/webhooks/{notion}", server.http_addr);
    let verification = r#"{"verification_token":"secret_notion_verification_123"}"#;
    assert_eq!(
        post(&target, std::slice::from_ref(&json), verification).await,
        200
    );
    let kept = server
        .connections()
        .await
        .list_webhook_deliveries(ListWebhookDeliveriesRequest {
            integration_id: notion.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].delivery.as_ref().unwrap().body,
        verification.as_bytes()
    );
    assert_eq!(
        kept[0].delivery.as_ref().unwrap().scheme,
        "unverified:notion_verification"
    );
    let page_event = r#"{"id":"e-1","type":"page.created","workspace_id":"w-1"}"#;
    assert_eq!(
        post(&target, std::slice::from_ref(&json), page_event).await,
        401
    );
    let (_, log) = server.stop().await;
    assert!(!log.contains("secret_notion_verification_123"));
    mode.cleanup().await;
}

/// Standard Webhooks' asymmetric signatures: `v1a` (Ed25519) verified with the `whpk_` public
/// key given as the secret; a tampered body, or a `v1` HMAC under that key, refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_webhooks_v1a_signatures_verify_with_the_public_key() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let now = chrono::Utc::now().timestamp();
    let body = json!({"type": "invoice.paid", "account": "acct_v1a"}).to_string();
    let signed = sign("standard-webhooks-v1a", seed, &body, "", now).await;
    let public = signed
        .iter()
        .find(|(k, _)| k == "x-public-key")
        .map(|(_, v)| v.clone())
        .unwrap();
    let case = Case {
        provider: "standard-webhooks-v1a",
        template: "",
        scheme: Some(WebhookScheme {
            kind: WebhookKind::StandardWebhooks as i32,
            signature_header: "webhook-signature".to_owned(),
            timestamp_header: "webhook-timestamp".to_owned(),
            encoding: "base64".to_owned(),
            tolerance_secs: 300,
            ..Default::default()
        }),
        routing: Some(WebhookRouting {
            routing_key_from: "/account".to_owned(),
            ..Default::default()
        }),
        secret: "unused",
        wrong_secret: "unused",
        content_type: "application/json",
        body: body.clone(),
        extra: vec![],
        account: "acct_v1a",
        params: vec![],
        timestamped: true,
        signature_header: "webhook-signature",
    };
    let integration = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "v1a".to_owned(),
                client_id: "client-id".to_owned(),
                token_url: "https://provider.example/token".to_owned(),
                authorization_url: "https://provider.example/authorize".to_owned(),
                grant_type: latchkey_proto::v1::GrantType::AuthorizationCode as i32,
                webhook: case.scheme.clone(),
                webhook_routing: case.routing.clone(),
                ..Default::default()
            }),
            webhook_secret: public.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let connection = import(&server, &integration, &case).await;
    let target = format!("http://{}/webhooks/{integration}", server.http_addr);
    let mut headers = signed.clone();
    headers.push(("content-type".to_owned(), "application/json".to_owned()));
    assert_eq!(
        post(&target, &headers, &format!("{body} ")).await,
        401,
        "tampered"
    );
    // A v1 HMAC keyed with the public key's text proves nothing.
    let mut hmac = headers.clone();
    for (name, value) in &mut hmac {
        if name == "webhook-signature" {
            use base64::Engine as _;
            let id = format!("msg_{now}");
            let hex = latchkey_crypto::hmac_sha256_hex(
                public.as_bytes(),
                format!("{id}.{now}.{body}").as_bytes(),
            );
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            *value = format!(
                "v1,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            );
        }
    }
    assert_eq!(
        post(&target, &hmac, &body).await,
        401,
        "v1 under a public key"
    );
    assert_eq!(post(&target, &headers, &body).await, 200);
    assert_eq!(
        recorded(&server, &connection).await,
        vec![body.into_bytes()]
    );
    server.stop().await;
    mode.cleanup().await;
}
