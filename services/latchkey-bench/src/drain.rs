//! How fast the relay drains a backlog: 100,000 and 1,000,000 events written while NATS was not
//! configured, then a server started with NATS; the rate is events on the stream per second of
//! draining (from the first event stored to the last), and the two rates are compared (a catch-up that does work per batch in proportion to
//! the backlog would fall behind at the larger one).

use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::{Args, Database, Server};

async fn write_backlog(url: &str, events: u64) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(url).await?;
    // 10 events per connection stream, the connections interleaved as refreshes are in a log
    // (version 1 of each, then version 2…); the relay reads rows, not payloads.
    let connections = events / 10;
    sqlx::query(
        "INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, event_type, \
         schema_version, occurred_at, actor, payload, prev_hash, hash) \
         SELECT gen_random_uuid(), 'connection-' || c.id, 'connection', v, 'acme', 'refreshed', \
                1, now(), 'bench', '{\"type\":\"refreshed\"}', '\\x00', '\\x00' \
         FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $1) AS n) AS c, \
              generate_series(1, 10) AS v ORDER BY v, c.n",
    )
    .bind(i64::try_from(connections)?)
    .execute(&pool)
    .await?;
    pool.close().await;
    Ok(())
}

async fn drain(backlog: u64, nats_url: &str) -> anyhow::Result<f64> {
    let db = Database::create().await?;
    let result = async {
        // Migrate with a server that has no NATS, then write the backlog behind its back.
        Server::start(&db.url, |_| {}).await?.stop().await;
        write_backlog(&db.url, backlog).await?;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let (stream, prefix) = (format!("DRAIN_{unique}"), format!("drain.{unique}"));
        let js = async_nats::jetstream::new(async_nats::connect(nats_url).await?);
        // In memory, so the figure is the relay's and not the disk's.
        js.create_stream(async_nats::jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![format!("{prefix}.>")],
            storage: async_nats::jetstream::stream::StorageType::Memory,
            duplicate_window: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .context("creating the bench stream")?;
        let server = Server::start(&db.url, |s| {
            s.nats.nats_url = Some(nats_url.to_owned());
            s.nats.nats_stream = Some(stream.clone());
            s.nats.nats_subject_prefix = Some(prefix.clone());
        })
        .await?;
        // From the first event on the stream to the last: the draining itself, without the
        // relay's start (connecting, taking the lease), which is the same at either size.
        let deadline = Instant::now() + Duration::from_secs(900);
        let mut started = None;
        let (took, drained) = loop {
            let mut info = js.get_stream(&stream).await?;
            let stored = info.info().await?.state.messages;
            if stored > 0 && started.is_none() {
                started = Some((Instant::now(), stored));
            }
            if stored >= backlog {
                let (at, first) = started.unwrap_or((Instant::now(), 0));
                break (at.elapsed(), backlog - first);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the backlog did not drain in 15 minutes"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        server.stop().await;
        let _ = js.delete_stream(&stream).await;
        anyhow::Ok(drained as f64 / took.as_secs_f64().max(0.001))
    }
    .await;
    db.drop().await;
    result
}

pub async fn bench_drain(_args: &Args) -> anyhow::Result<()> {
    println!("\n## Relay catch-up: draining a backlog onto NATS\n");
    let nats_url = std::env::var("LATCHKEY_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    println!("| backlog | events/s | against 100,000 |");
    println!("|---|---|---|");
    let small = drain(100_000, &nats_url).await?;
    println!("| 100,000 | {small:.0} | 1.00 |");
    let large = drain(1_000_000, &nats_url).await?;
    println!("| 1,000,000 | {large:.0} | {:.2} |", large / small);
    Ok(())
}
