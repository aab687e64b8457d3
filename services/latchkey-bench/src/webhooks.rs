//! Inbound webhook deliveries through the public listener (verified, routed, sealed, appended with
//! their delivery id in the group commit's transaction, then answered) against the store's plain
//! appends of an event to a connection's stream, in the same run.

use super::*;

/// A delivery's body: about a kilobyte, as a provider's event would be.
fn body(account: usize, n: u64) -> String {
    format!(
        r#"{{"action":"created","installation":{{"id":{account}}},"n":{n},"pad":"{}"}}"#,
        "x".repeat(900)
    )
}

const SECRET: &str = "bench-webhook-secret";
/// Deliveries spread over this many accounts, one connection each.
const ACCOUNTS: usize = 256;

/// One call of a part, boxed: the store's append, the HTTP reference and a delivery alike.
type Call = Box<dyn Fn() -> super::appends::BoxedAppend + Send + Sync>;

/// The HTTP reference: an axum server in this process whose one route reads the POSTed body and
/// makes one plain append (as the appends part) before answering 200 — the same HTTP round trip
/// and the same durable append as a delivery, without verifying, routing or sealing. Its address;
/// it serves on `servers` (until they are dropped).
async fn http_reference(
    append: Arc<Call>,
    servers: &mut tokio::task::JoinSet<()>,
) -> anyhow::Result<std::net::SocketAddr> {
    let route = axum::routing::post(move |_body: axum::body::Bytes| {
        let append = append.clone();
        async move {
            match append().await {
                Ok(()) => axum::http::StatusCode::OK,
                Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = axum::Router::new().route("/append", route);
    servers.spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("the HTTP reference stopped: {e}");
        }
    });
    Ok(addr)
}

/// The integration deliveries go to, and a connection for each account; its id.
async fn setup(channel: &Channel) -> anyhow::Result<String> {
    let secret = SECRET;
    let config = pb::IntegrationConfig {
        name: format!("bench webhooks {}", uuid::Uuid::new_v4().simple()),
        grant_type: pb::GrantType::AuthorizationCode as i32,
        authorization_url: "https://provider.example/authorize".to_owned(),
        token_url: "https://provider.example/token".to_owned(),
        client_id: "bench".to_owned(),
        webhook: Some(pb::WebhookScheme {
            kind: pb::WebhookKind::HmacBody as i32,
            signature_header: "x-hub-signature-256".to_owned(),
            prefix: "sha256=".to_owned(),
            encoding: "hex".to_owned(),
            ..Default::default()
        }),
        webhook_routing: Some(pb::WebhookRouting {
            delivery_id_from: "header:x-github-delivery".to_owned(),
            event_type_from: "header:x-github-event".to_owned(),
            routing_key_from: "/installation/id".to_owned(),
            rate_per_second: 1_000_000,
            ..Default::default()
        }),
        ..Default::default()
    };
    let integration_id = IntegrationServiceClient::new(channel.clone())
        .create_integration(pb::CreateIntegrationRequest {
            config: Some(config),
            webhook_secret: secret.to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .integration_id;
    for account in 0..ACCOUNTS {
        ConnectionServiceClient::new(channel.clone())
            .import_connection(pb::ImportConnectionRequest {
                integration_id: integration_id.clone(),
                tenant: "acme".to_owned(),
                access_token: format!("at-{account}"),
                provider_account_id: account.to_string(),
                ..Default::default()
            })
            .await?;
    }
    Ok(integration_id)
}

pub(crate) async fn bench_webhooks(args: &Args, db: &Database) -> anyhow::Result<()> {
    println!(
        "\n## Inbound webhook deliveries against the store's plain appends (same database, same \
         run)\n"
    );
    let server = Server::start(&db.url, |settings| {
        settings.public.http_max_connections = Some("2048".to_owned());
        settings.public.http_max_connections_per_address = Some("1024".to_owned());
    })
    .await?;
    let channel = server.channel().await?;
    let secret = SECRET;
    let integration_id = setup(&channel).await?;
    let store = Arc::new(PgStore::connect(&db.url, 40).await?);
    let integration = IntegrationId::new_v7();
    let url = Arc::new(format!("http://{}/webhooks/{integration_id}", server.http));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    println!(
        "Each delivery: a signed ~1 KiB JSON body POSTed to the integration's URL (kept-alive \
         connections), verified (HMAC-SHA256), routed to one of {ACCOUNTS} connections, sealed, \
         and appended with its delivery id in the same transaction before the 200. Each append: one `validated` event on a \
         connection's stream through the store, as in the appends part. The HTTP reference: the \
         same body POSTed with the same client to a bare axum route in the load generator that \
         makes one such append before its 200 (the round trip and the append, nothing else).\n"
    );
    println!(
        "| senders | appends/s | HTTP + append/s | deliveries/s | ratio (≥ 0.5 at 32) | of the HTTP reference | append p50 / p99 | HTTP + append p50 / p99 | delivery p50 / p99 | p99 ratio (≤ 4) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // The HTTP references' servers, stopped when this part ends.
    let mut servers = tokio::task::JoinSet::new();
    for &senders in &args.senders {
        let plain = super::appends::append_caller(&store, senders, integration).await?;
        let append_call: Arc<Call> = Arc::new(Box::new(move || plain()));
        let reference = {
            let plain = super::appends::append_caller(&store, senders, integration).await?;
            let addr = http_reference(Arc::new(Box::new(move || plain())), &mut servers).await?;
            let (client, url) = (client.clone(), format!("http://{addr}/append"));
            let sent = sent.clone();
            let reference: Call = Box::new(move || {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                let request = client
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .body(body(n as usize % ACCOUNTS, n));
                Box::pin(async move {
                    let status = request.send().await?.status();
                    anyhow::ensure!(status.is_success(), "the reference answered {status}");
                    Ok(())
                })
            });
            Arc::new(reference)
        };
        let delivery_call = {
            let (client, url, sent) = (client.clone(), url.clone(), sent.clone());
            Arc::new(move || {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                let body = body(n as usize % ACCOUNTS, n);
                let signature = format!(
                    "sha256={}",
                    latchkey_crypto::hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
                );
                let request = client
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header("x-github-event", "installation")
                    .header("x-github-delivery", format!("bench-{n}"))
                    .header("x-hub-signature-256", signature)
                    .body(body);
                async move {
                    let status = request.send().await?.status();
                    anyhow::ensure!(status.is_success(), "a delivery was answered {status}");
                    Ok(())
                }
            })
        };
        let (appends, http, deliveries) =
            interleaved_with_control(senders, args.seconds, append_call, reference, delivery_call)
                .await?;
        let ratio = deliveries.per_second / appends.per_second;
        let of_http = deliveries.per_second / http.per_second;
        let p99_ratio = deliveries.p99.as_secs_f64() / appends.p99.as_secs_f64().max(1e-9);
        println!(
            "| {senders} | {:.0} | {:.0} | {:.0} | {ratio:.2} {} | {of_http:.2} | {} / {} | {} / {} | {} / {} | {p99_ratio:.1} {} |",
            appends.per_second,
            http.per_second,
            deliveries.per_second,
            if senders == 32 {
                verdict(ratio >= 0.5)
            } else {
                ""
            },
            ms(appends.p50),
            ms(appends.p99),
            ms(http.p50),
            ms(http.p99),
            ms(deliveries.p50),
            ms(deliveries.p99),
            if senders == 32 {
                verdict(p99_ratio <= 4.0)
            } else {
                ""
            },
        );
    }
    store.close().await;
    server.stop().await;
    Ok(())
}
