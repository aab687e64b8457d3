//! The chaos run: three replicas on one Postgres with NATS, workers calling `GetToken` (some with
//! 1 s deadlines) and `RefreshToken`, while a seeded schedule kills (`kill -9`) and restarts
//! replicas, pauses them (`SIGSTOP` for 3–12 s), terminates every database session, and makes
//! the provider slow, fail (503, 502) or drop its answers after rotating. At the end: every
//! connection ACTIVE, every token handed out active at the provider and never one with less than
//! the caller's `min_ttl`, no reuse detected at the provider, `verify --projections` clean, and
//! NATS holding every event once, in order per stream.
//!
//! Runs when asked (`--ignored`): `scripts/test` for two minutes, `scripts/chaos` for longer.
//! `LATCHKEY_CHAOS_MINUTES` (default 2) and `LATCHKEY_CHAOS_SEED` (default: from the clock); the
//! seed fixes the schedule of faults and each worker's choices, not the interleaving with the
//! replicas, so a failure replays the same faults at the same moments.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use latchkey_proto::v1::{ConnectionStatus, GetTokenRequest, RefreshTokenRequest};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tonic::transport::Channel;

use crate::helpers::{LOOPBACK, Mode, Server, connect_many, integration, min_ttl};
use crate::helpers::{password_integration, wait_until};
use crate::relay::{Topic, assert_once_and_in_order, nats_url};

const REPLICAS: usize = 3;
const CONNECTIONS: usize = 16;
const WORKERS: u64 = 4;
/// Seconds a provider call may take; the provider's dropped answers come later than this.
const PROVIDER_TIMEOUT: u64 = 3;
/// The integration resends a refresh token in doubt within this long of its first send; the
/// provider honours a spent one for twice as long (while its successor is unused), so every
/// resend Latchkey allows is honoured and any other is a reuse the provider detects.
const REUSE_GRACE: u64 = 300;

struct Run {
    minutes: f64,
    seed: u64,
}

impl Run {
    fn from_env() -> Self {
        let minutes = std::env::var("LATCHKEY_CHAOS_MINUTES")
            .ok()
            .and_then(|m| m.parse().ok())
            .unwrap_or(2.0);
        let seed = std::env::var("LATCHKEY_CHAOS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64 % 1_000_000)
                    .unwrap_or(1)
            });
        Self { minutes, seed }
    }

    fn length(&self) -> Duration {
        Duration::from_secs_f64(self.minutes * 60.0)
    }

    fn replay(&self) -> String {
        format!(
            "seed {} (replay: scripts/chaos --minutes {} --seed {})",
            self.seed, self.minutes, self.seed
        )
    }
}

#[derive(Debug, Clone)]
enum Fault {
    Kill { replica: usize, down: Duration },
    Pause { replica: usize, pause: Duration },
    TerminateSessions,
    Slow { delay: Duration, window: Duration },
    Failing { status: u16, window: Duration },
    AnswerDropped { window: Duration },
}

impl Fault {
    fn kind(&self) -> &'static str {
        match self {
            Fault::Kill { .. } => "kill -9 and restart",
            Fault::Pause { .. } => "SIGSTOP",
            Fault::TerminateSessions => "database sessions terminated",
            Fault::Slow { .. } => "provider slow",
            Fault::Failing { status: 503, .. } => "provider 503",
            Fault::Failing { .. } => "provider 502",
            Fault::AnswerDropped { .. } => "answer dropped after rotating",
        }
    }

    /// How long the fault lasts once injected.
    fn length(&self) -> Duration {
        match self {
            Fault::Kill { down, .. } => *down,
            Fault::Pause { pause, .. } => *pause,
            Fault::TerminateSessions => Duration::ZERO,
            Fault::Slow { window, .. }
            | Fault::Failing { window, .. }
            | Fault::AnswerDropped { window } => *window,
        }
    }
}

fn secs(rng: &mut StdRng, low: f64, high: f64) -> Duration {
    Duration::from_secs_f64(rng.gen_range(low..high))
}

/// The faults of one lane, each with when it starts: the replicas' lane (one replica faulted at a
/// time, so two always serve) and the provider's, drawn from `seed` alone.
fn schedule(seed: u64, length: Duration, provider: bool) -> Vec<(Duration, Fault)> {
    let mut rng = StdRng::seed_from_u64(seed ^ if provider { 0x9e37_79b9 } else { 0 });
    let mut at = secs(&mut rng, 2.0, 5.0);
    let mut plan = Vec::new();
    while at < length {
        let pick = rng.gen_range(0..100);
        let replica = rng.gen_range(0..REPLICAS);
        let fault = match (provider, pick) {
            (false, 0..40) => Fault::Kill {
                replica,
                down: secs(&mut rng, 0.0, 3.0),
            },
            (false, 40..75) => Fault::Pause {
                replica,
                pause: secs(&mut rng, 3.0, 12.0),
            },
            (false, _) => Fault::TerminateSessions,
            (true, 0..25) => Fault::Slow {
                delay: secs(&mut rng, 0.5, 4.0),
                window: secs(&mut rng, 3.0, 10.0),
            },
            (true, 25..50) => Fault::Failing {
                status: 503,
                window: secs(&mut rng, 2.0, 8.0),
            },
            (true, 50..70) => Fault::Failing {
                status: 502,
                window: secs(&mut rng, 2.0, 6.0),
            },
            (true, _) => Fault::AnswerDropped {
                window: secs(&mut rng, 2.0, 6.0),
            },
        };
        let next = at + fault.length() + secs(&mut rng, 1.0, 4.0);
        plan.push((at, fault));
        at = next;
    }
    plan
}

/// The replicas' gRPC addresses, `None` while one is down.
#[derive(Clone, Default)]
struct Replicas(Arc<Mutex<Vec<Option<SocketAddr>>>>);

impl Replicas {
    fn set(&self, replica: usize, addr: Option<SocketAddr>) {
        self.0.lock().unwrap()[replica] = addr;
    }

    fn pick(&self, rng: &mut StdRng) -> Option<SocketAddr> {
        let up: Vec<SocketAddr> = self.0.lock().unwrap().iter().flatten().copied().collect();
        (!up.is_empty()).then(|| up[rng.gen_range(0..up.len())])
    }
}

/// What the workers saw.
#[derive(Default)]
struct Tally {
    calls: u64,
    by_code: BTreeMap<String, u64>,
    handed_out: HashSet<String>,
    /// Tokens handed out with less than the caller's `min_ttl` left.
    short: Vec<String>,
}

type Shared = Arc<Mutex<Tally>>;

fn env(topic: &Topic) -> Vec<(String, String)> {
    let mut env = topic.env(&nats_url());
    for (key, value) in [
        LOOPBACK,
        ("LATCHKEY_LOG", "info,sqlx=warn"),
        ("LATCHKEY_PROVIDER_TIMEOUT", "3"),
        ("LATCHKEY_REFRESH_LEASE", "6"),
        ("LATCHKEY_REFRESH_CONCURRENCY", "4"),
    ] {
        env.push((key.to_owned(), value.to_owned()));
    }
    env
}

async fn start(mode: &Mode, env: &[(String, String)]) -> Server {
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start_with(mode, &extra).await
}

/// The provider as the run wants it between faults: tokens for 30 s, rotated on each refresh,
/// a spent refresh token honoured for twice the integration's grace while no refresh token
/// issued in its place was used (an answer lost), and the grant revoked on any other reuse (a
/// rotated token put back, a token sent after the grace).
fn normal() -> Quirks {
    Quirks {
        expires_in: ExpiresIn::Number(30),
        reuse_grace: Duration::from_secs(2 * REUSE_GRACE),
        grace_until_successor_used: true,
        ..Default::default()
    }
}

/// The replicas' lane: kills, pauses, terminated sessions, one at a time.
async fn replica_lane(
    plan: Vec<(Duration, Fault)>,
    mut servers: Vec<Server>,
    mode: &Mode,
    env: &[(String, String)],
    replicas: &Replicas,
    started: Instant,
) -> Vec<Server> {
    let admin = sqlx::PgPool::connect(&database_url(mode)).await.unwrap();
    for (at, fault) in plan {
        tokio::time::sleep_until((started + at).into()).await;
        eprintln!("chaos: {:>7.1}s {fault:?}", started.elapsed().as_secs_f64());
        match fault {
            Fault::Kill { replica, down } => {
                replicas.set(replica, None);
                let killed = servers.remove(replica);
                killed.kill().await;
                tokio::time::sleep(down).await;
                let restarted = start(mode, env).await;
                replicas.set(replica, Some(restarted.grpc_addr));
                servers.insert(replica, restarted);
            }
            Fault::Pause { replica, pause } => {
                servers[replica].signal("STOP").await;
                tokio::time::sleep(pause).await;
                servers[replica].signal("CONT").await;
            }
            Fault::TerminateSessions => {
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .execute(&admin)
                .await
                .unwrap();
            }
            other => unreachable!("not a replica fault: {other:?}"),
        }
    }
    admin.close().await;
    servers
}

/// The provider's lane: slow, failing, or dropping answers after rotating, one at a time.
async fn provider_lane(plan: Vec<(Duration, Fault)>, provider: &FakeProvider, started: Instant) {
    for (at, fault) in plan {
        tokio::time::sleep_until((started + at).into()).await;
        eprintln!("chaos: {:>7.1}s {fault:?}", started.elapsed().as_secs_f64());
        let quirks = match &fault {
            Fault::Slow { delay, .. } => Quirks {
                token_delay: *delay,
                ..normal()
            },
            Fault::Failing { status, .. } => Quirks {
                token_override: Some((*status, "upstream unavailable".to_owned())),
                ..normal()
            },
            Fault::AnswerDropped { .. } => Quirks {
                answer_delay: Duration::from_secs(PROVIDER_TIMEOUT + 2),
                ..normal()
            },
            other => unreachable!("not a provider fault: {other:?}"),
        };
        provider.set_quirks(quirks);
        tokio::time::sleep(fault.length()).await;
        provider.set_quirks(normal());
    }
}

fn database_url(mode: &Mode) -> String {
    mode.env()
        .into_iter()
        .find_map(|(k, v)| (k == "LATCHKEY_DATABASE_URL").then_some(v))
        .expect("a Postgres mode")
}

/// One worker: until `stop`, a call every 20–120 ms to a replica that is up (paused ones
/// included: their callers time out), 94 % `GetToken` with a `min_ttl` of 0–20 s, the rest
/// `RefreshToken`; a fifth with a 1 s deadline, the others 5 s.
async fn worker(
    seed: u64,
    ids: Arc<Vec<String>>,
    replicas: Replicas,
    tally: Shared,
    stop: Arc<AtomicBool>,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut channels: BTreeMap<SocketAddr, Channel> = BTreeMap::new();
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(20..120))).await;
        let id = ids[rng.gen_range(0..ids.len())].clone();
        let deadline = if rng.gen_bool(0.2) { 1 } else { 5 };
        let get = rng.gen_range(0..100) < 94;
        let ttl = rng.gen_range(0..=20);
        let Some(addr) = replicas.pick(&mut rng) else {
            continue;
        };
        let channel = channels.entry(addr).or_insert_with(|| {
            Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect_timeout(Duration::from_secs(1))
                .connect_lazy()
        });
        let mut client = ConnectionServiceClient::new(channel.clone());
        let deadline = Duration::from_secs(deadline);
        let asked = chrono::Utc::now();
        let answer = if get {
            let mut request = tonic::Request::new(GetTokenRequest {
                connection_id: id.clone(),
                min_ttl: min_ttl(ttl),
                dpop: None,
            });
            request.set_timeout(deadline);
            tokio::time::timeout(deadline, client.get_token(request))
                .await
                .map(|r| r.map(|r| Some(r.into_inner())))
        } else {
            let mut request = tonic::Request::new(RefreshTokenRequest {
                connection_id: id.clone(),
            });
            request.set_timeout(deadline);
            tokio::time::timeout(deadline, client.refresh_token(request))
                .await
                .map(|r| r.map(|_| None))
        };
        let code = match &answer {
            Err(_) => "DeadlineExceeded (client)".to_owned(),
            Ok(Err(status)) => format!("{:?}", status.code()),
            Ok(Ok(_)) => "Ok".to_owned(),
        };
        let mut tally = tally.lock().unwrap();
        tally.calls += 1;
        *tally.by_code.entry(code).or_default() += 1;
        if let Ok(Ok(Some(token))) = answer {
            let expires = token.expires_at.unwrap_or_default();
            let expires = chrono::DateTime::from_timestamp(expires.seconds, expires.nanos as u32)
                .unwrap_or_default();
            if expires < asked + chrono::Duration::seconds(ttl) {
                tally.short.push(format!(
                    "{id}: asked at {asked} for {ttl}s, handed a token expiring at {expires}"
                ));
            }
            tally.handed_out.insert(token.access_token);
        }
    }
}

/// Every connection ACTIVE and able to hand out a token with 10 s left, through each replica.
/// A connection that needs its customer (or was revoked) never comes back by itself: that ends
/// the run at once, with why.
async fn all_active(servers: &[Server], ids: &[String], run: &Run) -> bool {
    for server in servers {
        let mut client = server.connections().await;
        for id in ids {
            let state = crate::helpers::connection(server, id).await;
            let status = state.status();
            assert!(
                !matches!(
                    status,
                    ConnectionStatus::ReauthorizationRequired | ConnectionStatus::Revoked
                ),
                "connection {id} is {status:?} ({:?}), {}",
                state.last_error,
                run.replay()
            );
            if status != ConnectionStatus::Active {
                return false;
            }
            let token = client
                .get_token(GetTokenRequest {
                    connection_id: id.clone(),
                    min_ttl: min_ttl(10),
                    dpop: None,
                })
                .await;
            if token.is_err() {
                return false;
            }
        }
    }
    true
}

async fn count_events(mode: &Mode) -> (u64, BTreeMap<String, i64>) {
    let pool = sqlx::PgPool::connect(&database_url(mode)).await.unwrap();
    let by_type: Vec<(String, i64)> =
        sqlx::query_as("SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let total = by_type.iter().map(|(_, n)| *n as u64).sum();
    (total, by_type.into_iter().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the chaos run: scripts/test runs it for two minutes, scripts/chaos for longer"]
async fn chaos_keeps_every_grant_through_a_seeded_schedule_of_faults() {
    let run = Run::from_env();
    eprintln!("chaos: {} minutes, {}", run.minutes, run.replay());
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    provider.set_quirks(normal());
    let topic = Topic::new();
    let mode = Mode::postgres().await;
    let env = env(&topic);
    let mut servers = Vec::new();
    for _ in 0..REPLICAS {
        servers.push(start(&mode, &env).await);
    }
    let mut config = password_integration(&provider);
    config.refresh_token_reuse = "within".to_owned();
    config.refresh_token_reuse_grace_secs = Some(REUSE_GRACE as u32);
    let integration_id = integration(&servers[0], config, &provider).await;
    let ids = Arc::new(connect_many(&servers[0], &integration_id, &provider, CONNECTIONS).await);
    let replicas = Replicas::default();
    *replicas.0.lock().unwrap() = servers.iter().map(|s| Some(s.grpc_addr)).collect();

    let started = Instant::now();
    let tally = Shared::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (ids, replicas, tally, stop) =
                (ids.clone(), replicas.clone(), tally.clone(), stop.clone());
            tokio::spawn(worker(run.seed + w + 1, ids, replicas, tally, stop))
        })
        .collect();
    let replica_plan = schedule(run.seed, run.length(), false);
    let provider_plan = schedule(run.seed, run.length(), true);
    let mut faults: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, fault) in replica_plan.iter().chain(&provider_plan) {
        *faults.entry(fault.kind()).or_default() += 1;
    }
    let (servers, ()) = tokio::join!(
        replica_lane(replica_plan, servers, &mode, &env, &replicas, started),
        provider_lane(provider_plan, &provider, started),
    );
    let faulted_for = started.elapsed();

    // The faults are over, the workers go on: every connection comes back ACTIVE at every
    // replica, within the longest backoff after a failed refresh (5 minutes, ±25 %).
    let settled = Instant::now();
    let (ids_ref, servers_ref) = (ids.as_slice(), servers.as_slice());
    wait_until(
        &format!("every connection ACTIVE after the faults, {}", run.replay()),
        Duration::from_secs(420),
        || all_active(servers_ref, ids_ref, &run),
    )
    .await;
    let settled = settled.elapsed();
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let mut exits = Vec::new();
    for server in servers {
        let (status, stderr) = server.stop().await;
        if !status.success() {
            exits.push(format!("{status}: {}", tail(&stderr)));
        }
    }
    let audit = audit(&mode, &topic).await;
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let dead: Vec<&String> = tally
        .handed_out
        .iter()
        .filter(|t| !provider.accepts_access_token(t))
        .collect();
    eprintln!(
        "chaos figures ({}): {:.0} s of faults, every connection ACTIVE {:.1} s later\n  \
         faults injected: {} {faults:?}\n  calls: {} by code {:?}\n  tokens handed out: {}\n  \
         refresh requests at the provider: {} (a spent refresh token resent within the grace: {})\n  events: {} {:?}\n  published on NATS: {}",
        run.replay(),
        faulted_for.as_secs_f64(),
        settled.as_secs_f64(),
        faults.values().sum::<u64>(),
        tally.calls,
        tally.by_code,
        tally.handed_out.len(),
        provider.token_calls_of("refresh_token"),
        provider.reuse_honoured(),
        audit.events,
        audit.by_type,
        audit.published,
    );
    let failed = |what: &str| format!("{what}, {}", run.replay());
    assert_eq!(
        provider.reuse_detected(),
        0,
        "{}",
        failed("reuse detected at the provider")
    );
    assert!(
        dead.is_empty(),
        "{}: {dead:?}",
        failed("tokens handed out that the provider refuses")
    );
    assert!(
        tally.short.is_empty(),
        "{}: {:?}",
        failed("tokens with less than min_ttl"),
        tally.short
    );
    assert!(
        exits.is_empty(),
        "{}: {exits:?}",
        failed("replicas that did not stop cleanly")
    );
    assert!(
        audit.verified.is_ok(),
        "{}: {:?}",
        failed("verify --projections"),
        audit.verified
    );
    assert_eq!(
        audit.published,
        audit.events,
        "{}",
        failed("events published on NATS")
    );
    assert_once_and_in_order(&topic.messages(&nats_url()).await, audit.events as usize);
    topic.delete(&nats_url()).await;
    mode.cleanup().await;
}

/// What the log and the feed hold once the run is over.
struct Audit {
    events: u64,
    by_type: BTreeMap<String, i64>,
    published: u64,
    /// `verify --projections`: its output when it did not pass.
    verified: Result<(), String>,
}

/// With the replicas stopped, one more with no refresher publishes what the relay had left;
/// then the log is counted against NATS and verified, projections replayed.
async fn audit(mode: &Mode, topic: &Topic) -> Audit {
    let mut quiet = env(topic);
    quiet.push(("LATCHKEY_REFRESH_CONCURRENCY".to_owned(), "0".to_owned()));
    quiet.push(("LATCHKEY_VALIDATION_TICK".to_owned(), "0".to_owned()));
    let auditor = start(mode, &quiet).await;
    let (events, by_type) = count_events(mode).await;
    let published = topic
        .wait_for(&nats_url(), events, Duration::from_secs(60))
        .await;
    auditor.stop().await;
    let verify = crate::helpers::command(
        &["verify", "--projections"],
        &mode.env(),
        &std::env::temp_dir(),
    )
    .output()
    .await
    .unwrap();
    let verified = if verify.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&verify.stdout).into_owned())
    };
    Audit {
        events,
        by_type,
        published,
        verified,
    }
}

fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
