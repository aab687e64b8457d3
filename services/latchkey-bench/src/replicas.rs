//! The refresher across replicas: connections all due at once, refreshed by one replica, then
//! (another set) by two on the same Postgres, against a provider that answers at once. Each
//! replica claims disjoint due work, so the provider sees each connection once.

use std::time::{Duration, Instant};

use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};

use super::{Args, Database, Server, connect_many, password_integration, verdict};

pub(crate) async fn bench_replicas(args: &Args, db: &Database) -> anyhow::Result<()> {
    let n = args.replica_connections;
    println!("\n## The refresher on one and on two replicas: {n} connections due at once\n");
    // First tokens live a minute and are due half-way (the margin is capped at half a token's
    // life); refreshed ones last an hour, so each connection is refreshed once.
    let provider = FakeProvider::start(ProviderConfig::default()).await?;
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(60),
        refreshed_expires_in: Some(ExpiresIn::Number(3600)),
        ..Default::default()
    });
    let concurrency = 16;
    println!(
        "Each replica: {concurrency} refreshes at once, in this process (so the pair shares these \
         cores with the provider and the load); connections created with the refresher off, the replicas started once all are due.\n"
    );
    println!(
        "| replicas | connections due | provider refresh calls | all refreshed in | refreshes/s |"
    );
    println!("|---|---|---|---|---|");
    for replicas in [1usize, 2] {
        let setup =
            Server::start(&db.url, |s| s.refresh_concurrency = Some("0".to_owned())).await?;
        let channel = setup.channel().await?;
        let integration_id = password_integration(&channel, &provider, Some(300)).await?;
        connect_many(&channel, &integration_id, &provider, n).await?;
        setup.stop().await;
        // Until the last one created is due.
        tokio::time::sleep(Duration::from_secs(31)).await;
        let before = provider.token_calls_of("refresh_token");
        let started = Instant::now();
        let mut servers = Vec::new();
        for _ in 0..replicas {
            servers.push(
                Server::start(&db.url, |s| {
                    s.refresh_concurrency = Some(concurrency.to_string());
                    s.refresh_rate = Some("100000".to_owned());
                })
                .await?,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(300);
        while provider.token_calls_of("refresh_token") - before < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let took = started.elapsed();
        // Long enough for a second call for any connection to show.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let calls = provider.token_calls_of("refresh_token") - before;
        for server in servers {
            server.stop().await;
        }
        println!(
            "| {replicas} | {n} | {calls} {} | {:.1} s | {:.0} |",
            verdict(calls == n && provider.reuse_detected() == 0),
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64()
        );
    }
    Ok(())
}
