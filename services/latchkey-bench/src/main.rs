//! `latchkey-bench`: every figure of docs/BENCHMARKS.md beside its reference, measured in one run
//! on loopback (these machines are shared and noisy, so only same-run ratios count).
//!
//! - `GetToken` against a bare tonic unary echo with a reply of the same size, same client, at
//!   1, 16, 64 and 256 concurrent callers: throughput, p50, p99.
//! - Appends on Postgres with 1, 8 and 32 writers against plain single-row INSERTs of the same
//!   size through sqlx.
//! - Commit to NATS subscriber latency at 1,000 events per second.
//! - A refresh storm: N connections expiring within a minute against the fake provider.
//! - The refresher on one and on two replicas sharing one Postgres.
//! - A million connections: GetToken hit and miss, the due claim, list pages, memory.
//! - Resident memory per cached connection at 100,000 connections.
//!
//! Rebuilding projections is measured by `scripts/bench-rebuild`; `scripts/bench` runs both.
//! Postgres and NATS come from LATCHKEY_TEST_DATABASE_URL / LATCHKEY_TEST_NATS_URL, else
//! 127.0.0.1:5432 and 127.0.0.1:4222; a fresh database is created and dropped.

// A benchmark driver: a failure to set up is a failed run, reported with its context.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use latchkey_domain::{
    ConnectionId, DomainEvent, GrantType, IntegrationId, Sealed, StreamId, TenantId, connection,
};
use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1 as pb;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use latchkey_proto::v1::integration_service_client::IntegrationServiceClient;
use latchkey_store::{EventContext, EventLog, EventStore, PgStore, Projections};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

mod appends;
mod drain;
mod flood;
mod get_token;
mod http_json;
mod measure;
mod million;
mod replicas;
mod webhooks;

use measure::{
    BoxedCall, Side, closed_loop, interleaved, interleaved_sides, interleaved_with_control, ms,
    percentile, us, verdict,
};

/// The allocator the service's binary runs with (services/latchkey/src/main.rs), so the service
/// measured here is the one shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod echo {
    tonic::include_proto!("bench.v1");
}

#[derive(Debug, Parser)]
#[command(about = "Latchkey's benchmarks, each beside its same-run reference")]
struct Args {
    /// Seconds each measured point runs (after half a second of warm-up).
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Connections in the refresh storm.
    #[arg(long, default_value_t = 10_000)]
    storm_connections: usize,
    /// Connections in the million-connection part.
    #[arg(long, default_value_t = 1_000_000)]
    million_connections: usize,
    /// Of those, how many are made through `ConnectPassword` (the rest are bulk copies).
    #[arg(long, default_value_t = 10_000)]
    million_real: usize,
    /// Connections due at once for the one- and two-replica refresher.
    #[arg(long, default_value_t = 3_000)]
    replica_connections: usize,
    /// Connections held in the cache for the memory figure.
    #[arg(long, default_value_t = 100_000)]
    memory_connections: usize,
    /// Writers at each point of the appends part.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    writers: Vec<usize>,
    /// Callers at each point of the GetToken part.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    callers: Vec<usize>,
    /// Senders at each point of the webhooks part.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
    senders: Vec<usize>,
    /// Only these parts (comma-separated: get_token, get_token_metadata, get_token_http, flood, appends, webhooks, nats, storm, replicas, memory, million, drain).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl Args {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// A fresh Postgres database for the run, dropped at the end.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn create() -> anyhow::Result<Self> {
        let admin = std::env::var("LATCHKEY_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("latchkey_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .context("connecting to Postgres (LATCHKEY_TEST_DATABASE_URL)")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        let url = format!("{base}/{name}");
        Ok(Self { admin, name, url })
    }

    async fn drop(self) {
        if let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
}

/// A Latchkey server in this process, on loopback port 0.
struct Server {
    addr: std::net::SocketAddr,
    /// The public HTTP listener.
    http: std::net::SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start(
        database_url: &str,
        extra: impl FnOnce(&mut latchkey::Settings),
    ) -> anyhow::Result<Self> {
        let mut settings = latchkey::Settings {
            grpc_addr: Some("127.0.0.1:0".to_owned()),
            http_addr: Some("127.0.0.1:0".to_owned()),
            admin_addr: Some("127.0.0.1:0".to_owned()),
            caller_rate: Some("0".to_owned()),
            database_url: Some(database_url.to_owned()),
            allow_loopback_providers: Some("true".to_owned()),
            log: Some("warn".to_owned()),
            ..Default::default()
        };
        extra(&mut settings);
        let key =
            secrecy::SecretString::from("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned());
        let config = settings
            .resolve(Some(key))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let app = latchkey::App::build(config).await?;
        let addr = app.grpc_addr();
        let http = app.http_addr();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run(shutdown.clone()));
        Ok(Self {
            addr,
            http,
            shutdown,
            task,
        })
    }

    async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Channel::from_shared(format!("http://{}", self.addr))?
            .connect()
            .await?)
    }

    async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

async fn password_integration(
    channel: &Channel,
    provider: &FakeProvider,
    margin: Option<u32>,
) -> anyhow::Result<String> {
    password_integration_keeping(channel, provider, margin, Vec::new()).await
}

/// [`password_integration`] keeping these token response fields as connection metadata.
async fn password_integration_keeping(
    channel: &Channel,
    provider: &FakeProvider,
    margin: Option<u32>,
    metadata_fields: Vec<String>,
) -> anyhow::Result<String> {
    let config = pb::IntegrationConfig {
        metadata_fields,
        name: format!("bench {}", uuid::Uuid::new_v4().simple()),
        grant_type: pb::GrantType::Password as i32,
        token_url: provider.url("/token"),
        client_id: provider.config().client_id.clone(),
        scopes: vec!["read".to_owned()],
        allow_password_grant: true,
        refresh_margin_secs: margin,
        ..Default::default()
    };
    Ok(IntegrationServiceClient::new(channel.clone())
        .create_integration(pb::CreateIntegrationRequest {
            config: Some(config),
            client_secret: provider.config().client_secret.clone(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .integration_id)
}

/// `n` connections through `ConnectPassword`, 16 at a time.
async fn connect_many(
    channel: &Channel,
    integration_id: &str,
    provider: &FakeProvider,
    n: usize,
) -> anyhow::Result<Vec<pb::Connection>> {
    let mut made = Vec::with_capacity(n);
    let mut pending = tokio::task::JoinSet::new();
    let mut issued = 0;
    while made.len() < n {
        while issued < n && pending.len() < 16 {
            let (channel, integration_id, provider) =
                (channel.clone(), integration_id.to_owned(), provider.clone());
            pending.spawn(async move { connect(&channel, &integration_id, &provider).await });
            issued += 1;
        }
        match pending.join_next().await {
            Some(done) => made.push(done??),
            None => break,
        }
    }
    Ok(made)
}

async fn connect(
    channel: &Channel,
    integration_id: &str,
    provider: &FakeProvider,
) -> anyhow::Result<pb::Connection> {
    Ok(ConnectionServiceClient::new(channel.clone())
        .connect_password(pb::ConnectPasswordRequest {
            integration_id: integration_id.to_owned(),
            tenant: "acme".to_owned(),
            username: provider.config().username.clone(),
            password: provider.config().password.clone(),
            ..Default::default()
        })
        .await?
        .into_inner())
}

async fn bench_nats(args: &Args) -> anyhow::Result<()> {
    println!("\n## Commit to NATS subscriber, at 1,000 events per second\n");
    // A database of its own: the relay starts from the beginning of the log, and the other
    // parts' events would be a backlog in front of these.
    let db = Database::create().await?;
    let result = nats_latency(args, &db).await;
    db.drop().await;
    result
}

async fn nats_latency(args: &Args, db: &Database) -> anyhow::Result<()> {
    let nats_url = std::env::var("LATCHKEY_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let stream_name = format!("BENCH_{unique}");
    let prefix = format!("bench.{unique}");
    let server = Server::start(&db.url, |s| {
        s.nats.nats_url = Some(nats_url.clone());
        s.nats.nats_stream = Some(stream_name.clone());
        s.nats.nats_subject_prefix = Some(prefix.clone());
    })
    .await?;
    let client = async_nats::connect(&nats_url).await?;
    let mut subscription = client.subscribe(format!("{prefix}.>")).await?;
    let store = Arc::new(PgStore::connect(&db.url, 8).await?);
    let committed: Arc<std::sync::Mutex<HashMap<String, Instant>>> = Arc::default();
    let integration = IntegrationId::new_v7();
    // Let the relay catch up with what the set-up wrote.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let total = 1000 * args.seconds.max(3) as usize;
    let writer = {
        let (store, committed) = (store.clone(), committed.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            for _ in 0..total {
                tick.tick().await;
                let id = ConnectionId::new_v7();
                let mut events = connection_events(id, integration);
                events.truncate(1);
                let recorded = store
                    .append(StreamId::Connection(id), 0, events, &context())
                    .await?;
                let now = Instant::now();
                committed
                    .lock()
                    .unwrap()
                    .insert(recorded[0].event_id.to_string(), now);
            }
            anyhow::Ok(())
        })
    };
    let mut latencies = Vec::with_capacity(total);
    let deadline = Instant::now() + Duration::from_secs(args.seconds.max(3) + 30);
    while latencies.len() < total && Instant::now() < deadline {
        let Ok(Some(message)) = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_stream::StreamExt::next(&mut subscription),
        )
        .await
        else {
            break;
        };
        let received = Instant::now();
        let Some(id) = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
        else {
            continue;
        };
        // The append returns a moment after its commit: a message can come first.
        let at = loop {
            if let Some(at) = committed.lock().unwrap().get(&id).copied() {
                break Some(at);
            }
            if writer.is_finished() {
                break None;
            }
            tokio::task::yield_now().await;
        };
        if let Some(at) = at {
            latencies.push(received.saturating_duration_since(at));
        }
    }
    writer.await??;
    latencies.sort_unstable();
    let p99 = percentile(&latencies, 0.99);
    println!("| events | received | p50 | p99 (≤ 25 ms) |");
    println!("|---|---|---|---|");
    println!(
        "| {total} | {} | {} | {} {} |",
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(p99),
        verdict(p99 <= Duration::from_millis(25) && latencies.len() == total)
    );
    store.close().await;
    server.stop().await;
    let js = async_nats::jetstream::new(client);
    let _ = js.delete_stream(&stream_name).await;
    Ok(())
}

async fn bench_storm(args: &Args, db: &Database) -> anyhow::Result<()> {
    let n = args.storm_connections;
    println!("\n## Refresh storm: {n} connections expiring within a minute\n");
    let provider = FakeProvider::start(ProviderConfig::default()).await?;
    let lifetime = 90u64;
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(lifetime),
        ..Default::default()
    });
    let concurrency = 16u32;
    let server = Server::start(&db.url, |s| {
        s.refresh_concurrency = Some(concurrency.to_string());
        s.refresh_rate = Some("1000".to_owned());
    })
    .await?;
    let channel = server.channel().await?;
    let integration_id = password_integration(&channel, &provider, Some(300)).await?;
    let started = Instant::now();
    let expiries: HashMap<String, i64> = connect_many(&channel, &integration_id, &provider, n)
        .await?
        .into_iter()
        .map(|c| {
            let expires = c.expires_at.map(|t| t.seconds).unwrap_or_default();
            (c.connection_id, expires)
        })
        .collect();
    let created_in = started.elapsed();
    let first = expiries.values().min().copied().unwrap_or_default();
    let last = expiries.values().max().copied().unwrap_or_default();
    provider.reset_max_concurrent_token_requests();
    // Wait for every connection's refresh (or for the last expiry to pass).
    let deadline = Instant::now() + Duration::from_secs(lifetime + 60);
    while provider.token_calls_of("refresh_token") < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut client = ConnectionServiceClient::new(channel.clone());
    let (mut in_time, mut late, mut missing) = (0usize, 0usize, 0usize);
    let mut page_token = String::new();
    loop {
        let page = client
            .list_connections(pb::ListConnectionsRequest {
                integration_id: integration_id.clone(),
                page_size: 1000,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        for c in &page.connections {
            match (c.refreshed_at.as_ref(), expiries.get(&c.connection_id)) {
                (Some(at), Some(expiry)) if at.seconds < *expiry => in_time += 1,
                (Some(_), Some(_)) => late += 1,
                _ => missing += 1,
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let max = provider.max_concurrent_token_requests();
    println!(
        "| connections | created in | expiries span | refreshed before expiry | late | not refreshed | most at the provider at once (bound {concurrency}) |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {n} | {:.1} s | {} s | {in_time} {} | {late} | {missing} | {max} {} |",
        created_in.as_secs_f64(),
        last - first,
        verdict(in_time == n),
        verdict(max <= concurrency as usize)
    );
    server.stop().await;
    Ok(())
}

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

async fn bench_memory(args: &Args, db: &Database) -> anyhow::Result<()> {
    let n = args.memory_connections;
    println!("\n## Memory per cached connection, at {n} connections\n");
    let store = Arc::new(PgStore::connect(&db.url, 40).await?);
    let integration = IntegrationId::new_v7();
    let ids: Arc<Vec<ConnectionId>> = Arc::new((0..n).map(|_| ConnectionId::new_v7()).collect());
    let write = |from: usize, step: usize| {
        let (store, ids) = (store.clone(), ids.clone());
        tokio::spawn(async move {
            for i in (from..ids.len()).step_by(step) {
                let id = ids[i];
                store
                    .append(
                        StreamId::Connection(id),
                        0,
                        connection_events(id, integration),
                        &context(),
                    )
                    .await?;
            }
            anyhow::Ok(())
        })
    };
    let started = Instant::now();
    let writers: Vec<_> = (0..32).map(|w| write(w, 32)).collect();
    for w in writers {
        w.await??;
    }
    println!(
        "Set-up: {n} connections (created + authorized) appended by 32 writers in {:.1} s.\n",
        started.elapsed().as_secs_f64()
    );
    // Every connection is read once and dropped first, so the allocator has grown for the reads
    // themselves (rows, JSON) before `before` is taken; the difference is what the cache keeps.
    let cache = latchkey::ProjectionCache::new(true, latchkey::DEFAULT_BUDGET_BYTES);
    let read = |from: usize, step: usize, keep: bool| {
        let (store, ids, cache) = (store.clone(), ids.clone(), cache.clone());
        tokio::spawn(async move {
            for i in (from..ids.len()).step_by(step) {
                if keep {
                    cache.connection(store.as_ref(), ids[i]).await?;
                } else {
                    store.connection(ids[i]).await?;
                }
            }
            anyhow::Ok(())
        })
    };
    let mut before = 0;
    for keep in [false, true] {
        if keep {
            before = resident_bytes();
        }
        let readers: Vec<_> = (0..16).map(|r| read(r, 16, keep)).collect();
        for r in readers {
            r.await??;
        }
    }
    let after = resident_bytes();
    let per = (after.saturating_sub(before)) as f64 / n as f64;
    println!(
        "| connections cached | resident before | resident after | per connection (≤ 2 KiB) |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {} | {:.1} MiB | {:.1} MiB | {:.0} bytes {} |",
        cache.len(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per,
        verdict(per <= 2048.0)
    );
    store.close().await;
    Ok(())
}

fn context() -> EventContext {
    EventContext {
        actor: "bench".to_owned(),
        correlation_id: None,
        occurred_at: chrono::Utc::now(),
    }
}

/// A connection as a real authorization leaves it: created and authorized, with sealed tokens
/// of real sizes and a token response's metadata.
fn connection_events(id: ConnectionId, integration: IntegrationId) -> Vec<DomainEvent> {
    let sealed = |n: usize| Sealed::from_bytes((0..n).map(|i| i as u8).collect());
    vec![
        connection::Event::ConnectionCreated {
            connection_id: id,
            integration_id: integration,
            tenant: TenantId::parse("acme").unwrap(),
            grant_type: GrantType::AuthorizationCode,
        }
        .into(),
        connection::Event::Authorized {
            grant_type: GrantType::AuthorizationCode,
            tokens: connection::TokenSet {
                access_token: sealed(2 + 12 + 180 + 16),
                refresh_token: Some(sealed(2 + 12 + 100 + 16)),
                token_type: "Bearer".to_owned(),
                expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
                scopes: vec!["api".to_owned(), "refresh_token".to_owned()],
                metadata: [
                    ("token_type".to_owned(), serde_json::json!("Bearer")),
                    ("expires_in".to_owned(), serde_json::json!(3600)),
                    ("scope".to_owned(), serde_json::json!("api refresh_token")),
                    (
                        "instance_url".to_owned(),
                        serde_json::json!("https://acme.my.salesforce.com"),
                    ),
                ]
                .into(),
                refresh_at: Some(chrono::Utc::now() + chrono::Duration::minutes(55)),
                refresh_token_expires_at: None,
            },
            credentials: None,
            provider_account_id: Some("0051x000001AbCdAAK".to_owned()),
            via: None,
            grant: None,
        }
        .into(),
    ]
}

fn validated() -> DomainEvent {
    connection::Event::Validated {
        valid: true,
        reason: None,
    }
    .into()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The service runs in this process: it logs as the binary does by default (a subscriber at
    // its default filter), so every span and event costs here what it costs there.
    latchkey::telemetry::install_subscriber(
        latchkey::config::DEFAULT_LOG,
        false,
        None,
        std::io::stderr,
    );
    println!("# latchkey-bench\n");
    println!(
        "{} cores; each point: 0.5 s warm-up, {} s measured; run at {}.",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        args.seconds,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    // Each part in a database of its own: one part's connections (the memory part's 100,000,
    // the storm's, due again a minute later) are not read, claimed or refreshed by the next.
    for (part, run) in PARTS {
        if args.wants(part) {
            let db = Database::create().await?;
            let result = run(&args, &db).await;
            db.drop().await;
            result?;
        }
    }
    Ok(())
}

type Part = for<'a> fn(
    &'a Args,
    &'a Database,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = anyhow::Result<()>> + 'a>,
>;

/// The parts, in the order they run.
const PARTS: [(&str, Part); 12] = [
    ("get_token", |args, db| {
        Box::pin(get_token::bench_get_token(args, db, 0))
    }),
    ("get_token_metadata", |args, db| {
        Box::pin(get_token::bench_get_token(args, db, 10))
    }),
    ("get_token_http", |args, db| {
        Box::pin(http_json::bench_http_get_token(args, db))
    }),
    ("flood", |args, db| Box::pin(flood::bench_flood(args, db))),
    ("appends", |args, db| {
        Box::pin(appends::bench_appends(args, db))
    }),
    ("webhooks", |args, db| {
        Box::pin(webhooks::bench_webhooks(args, db))
    }),
    ("nats", |args, _| Box::pin(bench_nats(args))),
    ("memory", |args, db| Box::pin(bench_memory(args, db))),
    ("storm", |args, db| Box::pin(bench_storm(args, db))),
    ("million", |args, db| {
        Box::pin(million::bench_million(args, db))
    }),
    ("replicas", |args, db| {
        Box::pin(replicas::bench_replicas(args, db))
    }),
    ("drain", |args, _| Box::pin(drain::bench_drain(args))),
];
