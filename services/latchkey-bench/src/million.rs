//! A million connections: `GetToken` on a cache hit and on a miss, the refresher's claim of due
//! connections, `ListConnections` pages, and what a replica's memory does when it reads every
//! connection once.
//!
//! Set-up: `--million-real` connections are made through `ConnectPassword` (their tokens are
//! sealed under their own data keys, so `GetToken` serves them); the rest are bulk copies of one
//! of them written straight into the projection and schedule tables (a fresh id each, a refresh
//! time spread over the next hour, about 0.5 % already due), which is what the hot queries and
//! the cache read. Copies have no events of their own: nothing measured here reads the log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_domain::{ConnectionId, TenantId};
use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use latchkey_store::{ConnectionFilter, EventStore, Page, PgStore, Projections, RefreshSchedule};

use super::{
    Args, Database, Server, closed_loop, connect_many, ms, password_integration, percentile,
    resident_bytes, us, verdict,
};

const CHUNK: i64 = 100_000;

pub(crate) async fn bench_million(args: &Args, db: &Database) -> anyhow::Result<()> {
    let n = args.million_connections;
    let real = args.million_real.min(n);
    println!("\n## A million connections\n");
    let provider = FakeProvider::start(ProviderConfig::default()).await?;
    let (ids, store) = seed(db, &provider, n, real).await?;
    get_tokens(args, db, &ids).await?;
    row_reads(args, db, &store, &ids).await?;
    queries(&store, n).await?;
    held_in_memory(&store).await?;
    store.close().await;
    Ok(())
}

/// `real` connections made through the API, copied to `n` straight into the tables, the tables
/// vacuumed and checkpointed: the ids of the real ones, and a store on the database.
async fn seed(
    db: &Database,
    provider: &FakeProvider,
    n: usize,
    real: usize,
) -> anyhow::Result<(Vec<String>, Arc<PgStore>)> {
    let started = Instant::now();
    let setup = Server::start(&db.url, |s| s.refresh_concurrency = Some("0".to_owned())).await?;
    let channel = setup.channel().await?;
    let integration_id = password_integration(&channel, provider, None).await?;
    let ids: Vec<String> = connect_many(&channel, &integration_id, provider, real)
        .await?
        .into_iter()
        .map(|c| c.connection_id)
        .collect();
    setup.stop().await;
    let made = started.elapsed();
    let store = Arc::new(PgStore::connect(&db.url, 20).await?);
    let pool = store.pool().clone();
    let template: uuid::Uuid = ids[0].parse()?;
    let copies = i64::try_from(n - real)?;
    let mut written = 0;
    while written < copies {
        let count = CHUNK.min(copies - written);
        sqlx::query(
            "WITH g AS (SELECT gen_random_uuid() AS id, random() AS r \
               FROM generate_series(1, $2)), \
             c AS (SELECT * FROM connections WHERE id = $1), \
             ins AS (INSERT INTO connections (id, integration_id, tenant, status, version, \
               updated_at, state, pending_state, labels, provider_account_id) \
               SELECT g.id, c.integration_id, c.tenant, c.status, c.version, c.updated_at, \
               replace(c.state, $1::text, g.id::text), NULL, c.labels, NULL FROM g, c) \
             INSERT INTO connection_schedule (connection_id, integration_id, status, refresh_at, \
               expires_at) \
             SELECT g.id, c.integration_id, c.status, \
               CASE WHEN g.r < 0.005 THEN now() - interval '1 minute' \
                    ELSE now() + g.r * interval '1 hour' END, \
               now() + interval '1 hour' + g.r * interval '1 hour' FROM g, c",
        )
        .bind(template)
        .bind(count)
        .execute(&pool)
        .await?;
        written += count;
    }
    // As a database that has lived with these rows would be: vacuumed (visibility map set,
    // statistics current) and checkpointed, so no autovacuum or checkpoint of the bulk load runs
    // under the measurements.
    for statement in [
        "VACUUM ANALYZE connections",
        "VACUUM ANALYZE connection_schedule",
        "CHECKPOINT",
    ] {
        sqlx::query(statement).execute(&pool).await?;
    }
    let size: i64 = sqlx::query_scalar(
        "SELECT pg_total_relation_size('connections') + pg_total_relation_size('connection_schedule')",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "Set-up: {real} connections through `ConnectPassword` in {:.1} s, then {copies} copies \
         written straight into the tables; {n} connections in {:.1} s, projections and schedule \
         {:.1} GiB on disk.\n",
        made.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        size as f64 / 1024.0 / 1024.0 / 1024.0
    );

    Ok((ids, store))
}

/// `GetToken` over the real connections, cached and not, at several pool sizes and callers.
async fn get_tokens(args: &Args, db: &Database, ids: &[String]) -> anyhow::Result<()> {
    // GetToken of the real ones, at 16 callers: with the default cache (every one held after a
    // first read), then with a 1 MiB cache (a few hundred held: almost every call reads its row
    // and, past the data keys' budget, its data key), with the default database pool and larger.
    // CPU: this process's (client, service and store client; Postgres is another process).
    // Last, the miss with the machine not saturated: what a miss costs a caller who does not
    // queue behind fifteen others for two cores.
    println!("| GetToken (16 callers unless said) | calls/s | p50 | p99 | target | CPU per call |");
    println!("|---|---|---|---|---|---|");
    for (label, cache_mb, pool, callers) in [
        ("cache hit", None, None, 16),
        ("cache miss (1 MiB cache)", Some("1"), None, 16),
        // Beside the default pool (twice the cores, at least 4), larger ones.
        ("cache miss, a pool of 8", Some("1"), Some("8"), 16),
        ("cache miss, a pool of 16", Some("1"), Some("16"), 16),
        ("cache miss, 1 caller", Some("1"), None, 1),
        ("cache miss, 4 callers", Some("1"), None, 4),
    ] {
        let server = Server::start(&db.url, |s| {
            s.refresh_concurrency = Some("0".to_owned());
            s.cache_mb = cache_mb.map(str::to_owned);
            s.database_pool_size = pool.map(str::to_owned);
        })
        .await?;
        let channel = server.channel().await?;
        let client = ConnectionServiceClient::new(channel);
        for id in ids {
            client
                .clone()
                .get_token(pb::GetTokenRequest {
                    connection_id: id.clone(),
                    min_ttl: None,
                    dpop: None,
                })
                .await?;
        }
        let ids = Arc::new(ids.to_vec());
        // Spread over all of them (a stride prime to the count), not one after another.
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let point = closed_loop(callers, args.seconds, move || {
            let mut client = client.clone();
            let i = next.fetch_add(7_919, std::sync::atomic::Ordering::Relaxed);
            let id = ids[i % ids.len()].clone();
            async move {
                client
                    .get_token(pb::GetTokenRequest {
                        connection_id: id,
                        min_ttl: None,
                        dpop: None,
                    })
                    .await?;
                Ok(())
            }
        })
        .await?;
        let target = if cache_mb.is_some() && callers == 16 {
            format!(
                "p99 ≤ 2 ms {}",
                verdict(point.p99 <= Duration::from_millis(2))
            )
        } else {
            "–".to_owned()
        };
        println!(
            "| {label} | {:.0} | {} | {} | {target} | {} |",
            point.per_second,
            ms(point.p50),
            ms(point.p99),
            us(point.cpu_per_call)
        );
        server.stop().await;
    }

    Ok(())
}

/// What a miss reads, by the store alone, through smaller pools and through a small cache.
async fn row_reads(
    args: &Args,
    db: &Database,
    store: &Arc<PgStore>,
    ids: &[String],
) -> anyhow::Result<()> {
    // What a miss reads: one connection's row, parsed, straight from the store (no gRPC), through
    // this pool (20 connections) and through smaller ones.
    let row_read = |store: Arc<PgStore>| {
        let real = Arc::new(ids.to_vec());
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        closed_loop(16, args.seconds, move || {
            let store = store.clone();
            let i = next.fetch_add(7_919, std::sync::atomic::Ordering::Relaxed);
            let id = real[i % real.len()].parse::<uuid::Uuid>();
            async move {
                store.connection(ConnectionId::from_uuid(id?)).await?;
                Ok(())
            }
        })
    };
    let read = row_read(store.clone()).await?;
    println!(
        "| (a connection's row read and parsed by the store alone) | {:.0} | {} | {} | – | {} |",
        read.per_second,
        ms(read.p50),
        ms(read.p99),
        us(read.cpu_per_call)
    );
    for size in [2u32, 4, 8] {
        let small = Arc::new(PgStore::connect(&db.url, size).await?);
        let point = row_read(small.clone()).await?;
        println!(
            "| (the same through a pool of {size}) | {:.0} | {} | {} | – | {} |",
            point.per_second,
            ms(point.p50),
            ms(point.p99),
            us(point.cpu_per_call)
        );
        small.close().await;
    }
    // The same through a 1 MiB projection cache (the miss's read, weighing and keeping).
    let through = {
        let (store, real) = (store.clone(), Arc::new(ids.to_vec()));
        let cache = latchkey::ProjectionCache::new(true, 1024 * 1024);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        closed_loop(16, args.seconds, move || {
            let (store, cache) = (store.clone(), cache.clone());
            let i = next.fetch_add(7_919, std::sync::atomic::Ordering::Relaxed);
            let id = real[i % real.len()].parse::<uuid::Uuid>();
            async move {
                cache
                    .connection(store.as_ref(), ConnectionId::from_uuid(id?))
                    .await?;
                Ok(())
            }
        })
        .await?
    };
    println!(
        "| (the same through a 1 MiB projection cache, no gRPC) | {:.0} | {} | {} | – | {} |",
        through.per_second,
        ms(through.p50),
        ms(through.p99),
        us(through.cpu_per_call)
    );

    Ok(())
}

/// The refresher's claim and a tenant's pages, at `n` connections.
async fn queries(store: &Arc<PgStore>, n: usize) -> anyhow::Result<()> {
    // The refresher's claim of due connections (about 5,000 are due), handed back after each so
    // every round finds the same work: 32 is what a replica at the default concurrency (16) takes
    // in one look, 500 the most one look may take.
    let mut claim_rounds = Vec::new();
    for size in [32u32, 500] {
        let mut times = Vec::new();
        for round in 0..31 {
            let now = Utc::now();
            let t = Instant::now();
            let claimed = store
                .claim_due_refreshes(now, "bench", now + chrono::Duration::minutes(1), size)
                .await?;
            // The first round plans the statement: not counted.
            if round > 0 {
                times.push(t.elapsed());
            }
            anyhow::ensure!(!claimed.is_empty(), "nothing was due");
            store.release_claims("bench", &claimed).await?;
        }
        times.sort_unstable();
        claim_rounds.push((size, times));
    }
    let tenant = TenantId::parse("acme")?;
    let filter = ConnectionFilter {
        tenant: Some(tenant),
        ..Default::default()
    };
    let mut pages = Vec::new();
    let mut after = None;
    for _ in 0..200 {
        let t = Instant::now();
        let page = store
            .list_connections(&filter, Page { after, limit: 100 })
            .await?;
        pages.push(t.elapsed());
        after = page.last().map(|c| *c.id.as_uuid());
    }
    pages.sort_unstable();
    println!();
    println!("| query at {n} connections | p50 | p99 | target |");
    println!("|---|---|---|---|");
    for (size, times) in &claim_rounds {
        println!(
            "| claim up to {size} due connections (the refresher) | {} | {} | ≤ 10 ms {} |",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.99)),
            verdict(percentile(times, 0.99) <= Duration::from_millis(10))
        );
    }
    println!(
        "| ListConnections of a tenant, a page of 100 (200 pages in a row) | {} | {} | – |",
        ms(percentile(&pages, 0.5)),
        ms(percentile(&pages, 0.99)),
    );

    Ok(())
}

/// Every connection read once through a cache of the default budget: what the process holds.
async fn held_in_memory(store: &Arc<PgStore>) -> anyhow::Result<()> {
    let pool = store.pool().clone();
    // Every connection read once through a projection cache of the default budget, as a
    // replica serving all of them would: the cache keeps what its budget allows.
    let all: Vec<ConnectionId> = sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM connections")
        .fetch_all(&pool)
        .await?
        .into_iter()
        .map(ConnectionId::from_uuid)
        .collect();
    let all = Arc::new(all);
    let budget = latchkey::DEFAULT_BUDGET_BYTES;
    let cache = latchkey::ProjectionCache::new(true, budget);
    let before = resident_bytes();
    let read_started = Instant::now();
    let readers: Vec<_> = (0..16)
        .map(|r| {
            let (store, all, cache) = (store.clone(), all.clone(), cache.clone());
            tokio::spawn(async move {
                for i in (r..all.len()).step_by(16) {
                    cache.connection(store.as_ref(), all[i]).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for r in readers {
        r.await??;
    }
    let after_read = resident_bytes();
    let mib = |b: u64| b as f64 / 1048576.0;
    let allowed = budget as u64 + 200 * 1024 * 1024;
    println!();
    println!(
        "| connections read | in | held | held bytes | resident before | resident after (≤ budget {:.0} MiB + 200 MiB) | growth |",
        mib(budget as u64)
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {:.1} s | {} | {:.1} MiB | {:.1} MiB | {:.1} MiB {} | {:.1} MiB |",
        all.len(),
        read_started.elapsed().as_secs_f64(),
        cache.len(),
        mib(cache.bytes() as u64),
        mib(before),
        mib(after_read),
        verdict(after_read <= allowed),
        mib(after_read.saturating_sub(before)),
    );
    Ok(())
}
