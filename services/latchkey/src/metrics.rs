//! Prometheus metrics, served at `/metrics`.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

fn register<C: prometheus::core::Collector + Clone + 'static>(collector: C) -> C {
    // Names are fixed and unique: registration fails only on a programming error.
    if let Err(e) = REGISTRY.register(Box::new(collector.clone())) {
        tracing::error!(error = %e, "metric registration failed");
    }
    collector
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub static GET_TOKEN_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new("latchkey_get_token_seconds", "GetToken latency, by outcome")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["outcome"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub static APPEND_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new(
                "latchkey_append_seconds",
                "Event append latency, by stream kind",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["stream"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub static REFRESHES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new("latchkey_refreshes_total", "Refreshes, by outcome"),
            &["outcome"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub static RELAY_LAG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new(
                "latchkey_relay_lag_events",
                "Events not yet published on NATS",
            ),
            &["stream"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub static CONNECTIONS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new("latchkey_connections", "Connections, by status"),
            &["status"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub fn observe_get_token(elapsed: Duration, ok: bool) {
    GET_TOKEN_SECONDS
        .with_label_values(&[if ok { "ok" } else { "error" }])
        .observe(elapsed.as_secs_f64());
}

pub fn observe_append(kind: &str, elapsed: Duration) {
    APPEND_SECONDS
        .with_label_values(&[kind])
        .observe(elapsed.as_secs_f64());
}

pub fn count_refresh(outcome: &str) {
    REFRESHES.with_label_values(&[outcome]).inc();
}

/// The text exposition of every metric.
pub fn render() -> String {
    // Every known series shows, at zero, before its first sample.
    for outcome in ["ok", "error"] {
        GET_TOKEN_SECONDS.with_label_values(&[outcome]);
    }
    for kind in ["connection", "integration"] {
        APPEND_SECONDS.with_label_values(&[kind]);
    }
    for outcome in [
        "refreshed",
        "failed_retryable",
        "failed",
        "reauthorization_required",
        "interrupted",
    ] {
        REFRESHES.with_label_values(&[outcome]);
    }
    LazyLock::force(&RELAY_LAG);
    if CONNECTIONS.with_label_values(&["active"]).get() == 0 {
        CONNECTIONS.with_label_values(&["active"]).set(0);
    }
    let mut buffer = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&REGISTRY.gather(), &mut buffer) {
        tracing::error!(error = %e, "encoding metrics failed");
    }
    String::from_utf8(buffer).unwrap_or_default()
}
