//! GetToken while the public port is flooded with connections that never finish a request.

use std::sync::Arc;
use std::time::Duration;

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;

use crate::measure::{ROUNDS, Sample, ms, run_loop, verdict};
use crate::{Args, Database, Server, connect, password_integration};

/// GetToken while 2,000 clients hold the public port with requests they never finish, against
/// the same figure without them.
pub(crate) async fn bench_flood(args: &Args, db: &Database) -> anyhow::Result<()> {
    println!("\n## GetToken while 2,000 idle connections hold the public port\n");
    let provider = FakeProvider::start(ProviderConfig::default()).await?;
    let server = Server::start(&db.url, |_| {}).await?;
    let channel = server.channel().await?;
    let integration_id = password_integration(&channel, &provider, None).await?;
    let connection_id = connect(&channel, &integration_id, &provider)
        .await?
        .connection_id;
    let call = {
        let channel = channel.clone();
        let request = pb::GetTokenRequest {
            connection_id,
            min_ttl: None,
            dpop: None,
        };
        Arc::new(move || {
            let mut client = ConnectionServiceClient::new(channel.clone());
            let request = request.clone();
            async move {
                client.get_token(request).await?;
                anyhow::Ok(())
            }
        })
    };
    let round = Duration::from_secs(args.seconds).div_f64(ROUNDS as f64);
    let mut idle = Sample::default();
    for _ in 0..ROUNDS {
        idle.add(run_loop(16, round, call.clone()).await?);
    }
    let idle = idle.point();
    // 2,000 clients each start a request and never finish it (the default 10 s header timeout
    // outlasts the measurement); those over the connection cap are closed at once.
    let mut held = Vec::with_capacity(2000);
    for _ in 0..2000 {
        use tokio::io::AsyncWriteExt;
        if let Ok(mut socket) = tokio::net::TcpStream::connect(server.http).await {
            let _ = socket
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await;
            held.push(socket);
        }
    }
    let mut flooded = Sample::default();
    for _ in 0..ROUNDS {
        flooded.add(run_loop(16, round, call.clone()).await?);
    }
    let flooded = flooded.point();
    drop(held);
    let ratio = flooded.p99.as_secs_f64() / idle.p99.as_secs_f64().max(1e-9);
    println!("| 16 callers | calls/s | p50 | p99 |");
    println!("|---|---|---|---|");
    println!(
        "| idle public port | {:.0} | {} | {} |",
        idle.per_second,
        ms(idle.p50),
        ms(idle.p99)
    );
    println!(
        "| 2,000 idle connections held | {:.0} | {} | {} |",
        flooded.per_second,
        ms(flooded.p50),
        ms(flooded.p99)
    );
    println!("\np99 ratio {ratio:.2} (≤ 2) {}", verdict(ratio <= 2.0));
    server.stop().await;
    Ok(())
}
