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

/// Which server an echo runs on.
#[derive(Clone, Copy)]
enum Stack {
    /// tonic's server as it comes.
    Bare,
    /// Latchkey's gRPC port's server (`server_builder`: its span, limits, deadline and HTTP/1.1)
    /// with its routes behind an axum router with a fallback, as the HTTP/JSON routes sit.
    Latchkey,
}

/// An echo on a port of its own, until `shutdown`: a channel to it and its task.
async fn start_echo(
    payload: Vec<u8>,
    stack: Stack,
    shutdown: CancellationToken,
) -> anyhow::Result<(
    Channel,
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // As Latchkey's own listener does (app/servers.rs): replies go out at once.
    let incoming = tokio_stream::StreamExt::map(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        |accepted| {
            accepted.inspect(|stream| {
                let _ = stream.set_nodelay(true);
            })
        },
    );
    let echo = echo::echo_server::EchoServer::new(EchoService { payload });
    let stop = shutdown.cancelled_owned();
    type Serving = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), tonic::transport::Error>> + Send>,
    >;
    let serving: Serving = match stack {
        Stack::Bare => Box::pin(
            tonic::transport::Server::builder()
                .add_service(echo)
                .serve_with_incoming_shutdown(incoming, stop),
        ),
        Stack::Latchkey => {
            let router = tonic::service::Routes::new(echo)
                .into_axum_router()
                .fallback(|| async { axum::http::StatusCode::NOT_FOUND });
            Box::pin(
                latchkey::app::server_builder()
                    .add_routes(tonic::service::Routes::from(router))
                    .serve_with_incoming_shutdown(incoming, stop),
            )
        }
    };
    let task = tokio::spawn(serving);
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    Ok((channel, task))
}

/// One echo call through `channel`, as the load generator makes it.
fn echo_caller(channel: &Channel, connection_id: &str) -> Side {
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

/// An echo call through `channel` whose payload (a `GetTokenResponse`'s bytes) the caller then
/// decodes as a `GetTokenResponse`: the client's work of a GetToken reply, over a bare echo.
fn decoding_echo_caller(channel: &Channel, connection_id: &str) -> Side {
    let channel = channel.clone();
    let id = connection_id.to_owned();
    Arc::new(move || {
        let mut client = echo::echo_client::EchoClient::new(channel.clone());
        let request = echo::EchoRequest {
            connection_id: id.clone(),
        };
        Box::pin(async move {
            let reply = client.echo(request).await?.into_inner();
            let decoded: pb::GetTokenResponse = prost::Message::decode(reply.payload.as_slice())?;
            anyhow::ensure!(!decoded.access_token.is_empty(), "the echo carries a reply");
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
        dpop: None,
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
    let (echo_channel, echo_task) =
        start_echo(payload.clone(), Stack::Bare, echo_shutdown.clone()).await?;
    let (control_channel, control_task) =
        start_echo(payload.clone(), Stack::Bare, echo_shutdown.clone()).await?;
    let (stacked_channel, stacked_task) =
        start_echo(payload, Stack::Latchkey, echo_shutdown.clone()).await?;
    // The reply itself, decoded by the echo's caller as the GetToken caller decodes it.
    let encoded = prost::Message::encode_to_vec(&reply);
    let (decoded_channel, decoded_task) =
        start_echo(encoded, Stack::Bare, echo_shutdown.clone()).await?;
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
        "| callers | echo calls/s | GetToken calls/s | ratio (≥ 0.9) | second echo ÷ echo (noise) | echo on Latchkey's server ÷ echo | GetToken ÷ echo on Latchkey's server | GetToken ÷ echo decoded as GetToken's reply | echo p50 / p99 | GetToken p50 / p99 | p99 ratio (≤ 1.2) | CPU per call, echo / GetToken |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &concurrency in &args.callers {
        // Interleaved rounds, pooled: a burst of noise lands on the three sides alike.
        let latchkey_call: Side = {
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
        let sides = [
            echo_caller(&echo_channel, &connection_id),
            echo_caller(&control_channel, &connection_id),
            echo_caller(&stacked_channel, &connection_id),
            decoding_echo_caller(&decoded_channel, &connection_id),
            latchkey_call,
        ];
        let [echo, control, stacked, decoded, latchkey] =
            interleaved_sides(concurrency, args.seconds, &sides).await?[..]
        else {
            anyhow::bail!("five sides measured, five points expected");
        };
        let ratio = latchkey.per_second / echo.per_second;
        let noise = control.per_second / echo.per_second;
        let stack = stacked.per_second / echo.per_second;
        let on_stack = latchkey.per_second / stacked.per_second;
        let decoded_alike = latchkey.per_second / decoded.per_second;
        let p99_ratio = latchkey.p99.as_secs_f64() / echo.p99.as_secs_f64().max(1e-9);
        println!(
            "| {concurrency} | {:.0} | {:.0} | {ratio:.2} {} | {noise:.2} | {stack:.2} | {on_stack:.2} | {decoded_alike:.2} | {} / {} | {} / {} | {p99_ratio:.2} {} | {:.1} / {:.1} µs |",
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
    let _ = stacked_task.await;
    let _ = decoded_task.await;
    server.stop().await;
    Ok(())
}
