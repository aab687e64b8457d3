//! Measuring one point: closed-loop callers for a fixed time, and the figures a run prints
//! (throughput, percentiles, whether a target was met).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Throughput and latency of one measured point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub(crate) per_second: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    /// This process's CPU time (user and system, every thread) per call while measuring.
    pub(crate) cpu_per_call: Duration,
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// What one closed-loop run measured.
#[derive(Debug, Default)]
pub(crate) struct Sample {
    pub(crate) elapsed: Duration,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) cpu: Duration,
}

impl Sample {
    /// Pools runs (interleaved with their reference's, so noise hits both alike).
    pub(crate) fn add(&mut self, other: Sample) {
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.cpu += other.cpu;
    }

    pub(crate) fn point(mut self) -> Point {
        self.latencies.sort_unstable();
        let calls = u32::try_from(self.latencies.len().max(1)).unwrap_or(u32::MAX);
        Point {
            cpu_per_call: self.cpu / calls,
            per_second: self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9),
            p50: percentile(&self.latencies, 0.50),
            p99: percentile(&self.latencies, 0.99),
        }
    }
}

/// Runs `call` from `concurrency` tasks for half a second of warm-up and then `seconds`.
pub(crate) async fn closed_loop<F, Fut>(
    concurrency: usize,
    seconds: u64,
    call: F,
) -> anyhow::Result<Point>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    Ok(
        run_loop(concurrency, Duration::from_secs(seconds), Arc::new(call))
            .await?
            .point(),
    )
}

pub(crate) async fn run_loop<F, Fut>(
    concurrency: usize,
    measured: Duration,
    call: Arc<F>,
) -> anyhow::Result<Sample>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (call, measuring, stop) = (call.clone(), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(100_000);
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                call().await?;
                if measuring.load(Ordering::Relaxed) {
                    latencies.push(started.elapsed());
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let cpu_before = process_cpu();
    tokio::time::sleep(measured).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Sample {
        elapsed,
        latencies,
        cpu,
    })
}

/// This process's CPU time so far, user and system (`/proc/self/stat`, in clock ticks of 10 ms:
/// over a measured second, within a percent or two).
fn process_cpu() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // After the command name (which may hold spaces), fields 14 and 15: utime, stime.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Rounds per side of a comparison with its reference.
pub(crate) const ROUNDS: u32 = 3;

/// A subject and its reference measured in [`ROUNDS`] alternating rounds, `seconds` in all for
/// each, so the machine's and the disk's moods hit both alike: (reference, subject).
pub(crate) async fn interleaved<F, Fut, G, Gut>(
    concurrency: usize,
    seconds: u64,
    reference: Arc<F>,
    subject: Arc<G>,
) -> anyhow::Result<(Point, Point)>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
    G: Fn() -> Gut + Send + Sync + 'static,
    Gut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let (mut a, mut b) = (Sample::default(), Sample::default());
    let round = Duration::from_secs(seconds).div_f64(ROUNDS as f64);
    for _ in 0..ROUNDS {
        a.add(run_loop(concurrency, round, reference.clone()).await?);
        b.add(run_loop(concurrency, round, subject.clone()).await?);
    }
    Ok((a.point(), b.point()))
}

/// A subject, its reference and a control (a second copy of the reference), each measured in
/// [`ROUNDS`] rounds whose order turns each round (each goes first, second and last once), so
/// the machine's moods and the order hit all three alike: (reference, control, subject). The
/// control's ratio to the reference is what the comparison reads as a difference when there is
/// none: the noise a ratio of that run carries.
pub(crate) async fn interleaved_with_control<F, Fut, G, Gut>(
    concurrency: usize,
    seconds: u64,
    reference: Arc<F>,
    control: Arc<F>,
    subject: Arc<G>,
) -> anyhow::Result<(Point, Point, Point)>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
    G: Fn() -> Gut + Send + Sync + 'static,
    Gut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let mut samples: [Sample; 3] = Default::default();
    let round = Duration::from_secs(seconds).div_f64(ROUNDS as f64);
    for first in 0..ROUNDS as usize {
        for turn in 0..3 {
            let which = (first + turn) % 3;
            let sample = match which {
                0 => run_loop(concurrency, round, reference.clone()).await?,
                1 => run_loop(concurrency, round, control.clone()).await?,
                _ => run_loop(concurrency, round, subject.clone()).await?,
            };
            samples[which].add(sample);
        }
    }
    let [reference, control, subject] = samples;
    Ok((reference.point(), control.point(), subject.point()))
}

/// A call of the load generator, boxed so that sides built alike have one type.
pub(crate) type BoxedCall =
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;

/// One side of a comparison: how it makes a call.
pub(crate) type Side = Arc<dyn Fn() -> BoxedCall + Send + Sync>;

/// Sides measured in [`ROUNDS`] rounds whose order turns each round, `seconds` in all for each,
/// so the machine's moods and the order hit them alike: their points, in their order.
pub(crate) async fn interleaved_sides(
    concurrency: usize,
    seconds: u64,
    sides: &[Side],
) -> anyhow::Result<Vec<Point>> {
    let mut samples: Vec<Sample> = sides.iter().map(|_| Sample::default()).collect();
    let round = Duration::from_secs(seconds).div_f64(ROUNDS as f64);
    for first in 0..ROUNDS as usize {
        for turn in 0..sides.len() {
            let which = (first + turn) % sides.len();
            let side = sides[which].clone();
            let call = Arc::new(move || side());
            samples[which].add(run_loop(concurrency, round, call).await?);
        }
    }
    Ok(samples.into_iter().map(Sample::point).collect())
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
