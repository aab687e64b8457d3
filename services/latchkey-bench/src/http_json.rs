//! `GET /v1/connections/{id}/token` (HTTP/JSON on the gRPC port) against a bare HTTP/JSON echo
//! on the same server stack (the gRPC port's server as Latchkey builds it, `server_builder`: its
//! span, limits and deadline layer, HTTP/1.1 on; an axum route answering a fixed JSON body of the
//! same size), same client.

#![allow(clippy::unwrap_used)]

use super::*;

/// A bare HTTP/JSON echo on a port of its own, until `shutdown`: its address and its task.
async fn start_http_echo(
    body: Vec<u8>,
    shutdown: CancellationToken,
) -> anyhow::Result<(
    std::net::SocketAddr,
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
)> {
    let body = axum::body::Bytes::from(body);
    let router = axum::Router::new().route(
        "/v1/connections/{id}/token",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(
        latchkey::app::server_builder()
            .add_routes(tonic::service::Routes::from(router))
            .serve_with_incoming_shutdown(
                tokio_stream::StreamExt::map(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    |accepted| {
                        accepted.inspect(|stream| {
                            let _ = stream.set_nodelay(true);
                        })
                    },
                ),
                shutdown.cancelled_owned(),
            ),
    );
    Ok((addr, task))
}

/// One GET of `url` with a pooled HTTP/1.1 client, its body read whole.
fn http_caller(
    client: &reqwest::Client,
    url: String,
) -> Arc<impl Fn() -> BoxedCall + Send + Sync + 'static> {
    let client = client.clone();
    Arc::new(move || {
        let request = client.get(&url);
        Box::pin(async move {
            let response = request.send().await?;
            anyhow::ensure!(response.status().is_success(), "{}", response.status());
            response.bytes().await?;
            anyhow::Ok(())
        }) as BoxedCall
    })
}

pub(crate) async fn bench_http_get_token(args: &Args, db: &Database) -> anyhow::Result<()> {
    println!(
        "\n## GetToken over HTTP/JSON against a bare HTTP/JSON echo (same server stack, same client, same body size)\n"
    );
    let provider = FakeProvider::start(ProviderConfig::default()).await?;
    let server = Server::start(&db.url, |_| {}).await?;
    let channel = server.channel().await?;
    let integration_id = password_integration_keeping(&channel, &provider, None, vec![]).await?;
    let connection_id = connect(&channel, &integration_id, &provider)
        .await?
        .connection_id;
    let client = reqwest::Client::new();
    let path = format!("/v1/connections/{connection_id}/token");
    let url = format!("http://{}{path}", server.addr);
    let body = client
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let shutdown = CancellationToken::new();
    let (echo_addr, echo_task) = start_http_echo(body.to_vec(), shutdown.clone()).await?;
    let (control_addr, control_task) = start_http_echo(body.to_vec(), shutdown.clone()).await?;
    println!("Body: {} bytes of JSON each.\n", body.len());
    println!(
        "| callers | echo calls/s | GetToken calls/s | ratio (≥ 0.7) | second echo ÷ echo (noise) | echo p50 / p99 | GetToken p50 / p99 | CPU per call, echo / GetToken |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &concurrency in &args.callers {
        let (echo, control, latchkey) = interleaved_with_control(
            concurrency,
            args.seconds,
            http_caller(&client, format!("http://{echo_addr}{path}")),
            http_caller(&client, format!("http://{control_addr}{path}")),
            http_caller(&client, url.clone()),
        )
        .await?;
        let ratio = latchkey.per_second / echo.per_second;
        let noise = control.per_second / echo.per_second;
        println!(
            "| {concurrency} | {:.0} | {:.0} | {ratio:.2} {} | {noise:.2} | {} / {} | {} / {} | {:.1} / {:.1} µs |",
            echo.per_second,
            latchkey.per_second,
            verdict(ratio >= 0.7),
            ms(echo.p50),
            ms(echo.p99),
            ms(latchkey.p50),
            ms(latchkey.p99),
            echo.cpu_per_call.as_secs_f64() * 1e6,
            latchkey.cpu_per_call.as_secs_f64() * 1e6,
        );
    }
    shutdown.cancel();
    let _ = echo_task.await;
    let _ = control_task.await;
    server.stop().await;
    Ok(())
}
