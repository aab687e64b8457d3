//! `GetToken` against a bare tonic unary echo with a reply of the same size, same client.

#![allow(clippy::unwrap_used)]

use super::*;

#[derive(Debug)]
struct EchoService {
    payload: Vec<u8>,
}

#[tonic::async_trait]
impl echo::echo_server::Echo for EchoService {
    async fn echo(
        &self,
        _request: tonic::Request<echo::EchoRequest>,
    ) -> Result<tonic::Response<echo::EchoReply>, tonic::Status> {
        Ok(tonic::Response::new(echo::EchoReply {
            payload: self.payload.clone(),
        }))
    }
}

/// A bare tonic echo on a port of its own, until `shutdown`: a channel to it and its task.
async fn start_echo(
    payload: Vec<u8>,
    shutdown: CancellationToken,
) -> anyhow::Result<(
    Channel,
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(echo::echo_server::EchoServer::new(EchoService { payload }))
            .serve_with_incoming_shutdown(
                // As Latchkey's own listener does (app.rs): replies go out at once.
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
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    Ok((channel, task))
}

/// A call of the load generator, boxed so that two callers built alike have one type.
type BoxedCall = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;

/// One echo call through `channel`, as the load generator makes it.
fn echo_caller(
    channel: &Channel,
    connection_id: &str,
) -> Arc<impl Fn() -> BoxedCall + Send + Sync + 'static> {
    let channel = channel.clone();
    let id = connection_id.to_owned();
    Arc::new(move || {
        let mut client = echo::echo_client::EchoClient::new(channel.clone());
        let request = echo::EchoRequest {
            connection_id: id.clone(),
        };
        Box::pin(async move {
            client.echo(request).await?;
            anyhow::Ok(())
        }) as BoxedCall
    })
}

/// GetToken against the echo, for a connection carrying `fields` metadata fields (token response
/// fields the integration keeps, as Salesforce's `instance_url`): their `Struct` is in each reply.
pub(crate) async fn bench_get_token(
    args: &Args,
    db: &Database,
    fields: usize,
) -> anyhow::Result<()> {
    println!(
        "\n## GetToken against a bare tonic echo (same client, same reply size; {fields} metadata fields)\n"
    );
    let provider = FakeProvider::start(ProviderConfig::default()).await?;
    let kept: Vec<(String, serde_json::Value)> = (0..fields)
        .map(|i| {
            (
                format!("field_{i}"),
                serde_json::Value::String(format!("https://acme-{i}.example.com/services/data")),
            )
        })
        .collect();
    provider.set_quirks(Quirks {
        extra_fields: kept.clone(),
        ..Default::default()
    });
    let server = Server::start(&db.url, |_| {}).await?;
    let channel = server.channel().await?;
    let names = kept.into_iter().map(|(name, _)| name).collect();
    let integration_id = password_integration_keeping(&channel, &provider, None, names).await?;
    let connection_id = connect(&channel, &integration_id, &provider)
        .await?
        .connection_id;
    let request = pb::GetTokenRequest {
        connection_id: connection_id.clone(),
        min_ttl: None,
    };
    let reply = ConnectionServiceClient::new(channel.clone())
        .get_token(request.clone())
        .await?
        .into_inner();
    let size = prost::Message::encoded_len(&reply);
    // EchoReply is one bytes field: a tag, a length, the bytes.
    let payload = vec![7u8; size.saturating_sub(3)];
    // Two echoes alike: the second is the control, its ratio to the first the run's noise.
    let echo_shutdown = CancellationToken::new();
    let (echo_channel, echo_task) = start_echo(payload.clone(), echo_shutdown.clone()).await?;
    let (control_channel, control_task) = start_echo(payload, echo_shutdown.clone()).await?;
    let echo_size = prost::Message::encoded_len(
        &echo::echo_client::EchoClient::new(echo_channel.clone())
            .echo(echo::EchoRequest {
                connection_id: connection_id.clone(),
            })
            .await?
            .into_inner(),
    );
    println!("Reply sizes: GetToken {size} bytes, echo {echo_size} bytes.\n");
    println!(
        "| callers | echo calls/s | GetToken calls/s | ratio (≥ 0.9) | second echo ÷ echo (noise) | echo p50 / p99 | GetToken p50 / p99 | p99 ratio (≤ 1.2) | CPU per call, echo / GetToken |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &concurrency in &args.callers {
        // Interleaved rounds, pooled: a burst of noise lands on the three sides alike.
        let echo_call = echo_caller(&echo_channel, &connection_id);
        let control_call = echo_caller(&control_channel, &connection_id);
        let latchkey_call = {
            let channel = channel.clone();
            let request = request.clone();
            Arc::new(move || {
                let mut client = ConnectionServiceClient::new(channel.clone());
                let request = request.clone();
                // Boxed as the echo's calls are: the three sides pay alike.
                Box::pin(async move {
                    client.get_token(request).await?;
                    anyhow::Ok(())
                }) as BoxedCall
            })
        };
        let (echo, control, latchkey) = interleaved_with_control(
            concurrency,
            args.seconds,
            echo_call,
            control_call,
            latchkey_call,
        )
        .await?;
        let ratio = latchkey.per_second / echo.per_second;
        let noise = control.per_second / echo.per_second;
        let p99_ratio = latchkey.p99.as_secs_f64() / echo.p99.as_secs_f64().max(1e-9);
        println!(
            "| {concurrency} | {:.0} | {:.0} | {ratio:.2} {} | {noise:.2} | {} / {} | {} / {} | {p99_ratio:.2} {} | {:.1} / {:.1} µs |",
            echo.per_second,
            latchkey.per_second,
            verdict(ratio >= 0.9),
            ms(echo.p50),
            ms(echo.p99),
            ms(latchkey.p50),
            ms(latchkey.p99),
            verdict(p99_ratio <= 1.2),
            echo.cpu_per_call.as_secs_f64() * 1e6,
            latchkey.cpu_per_call.as_secs_f64() * 1e6,
        );
    }
    echo_shutdown.cancel();
    let _ = echo_task.await;
    let _ = control_task.await;
    server.stop().await;
    Ok(())
}
