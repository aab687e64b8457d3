//! Prometheus metrics, served at `/metrics`: the service's own (`latchkey_*`), per-RPC ones under
//! the names gRPC dashboards read (`grpc_server_*`, recorded by `api::rpc_metrics`), the process's
//! (`process_*`: CPU, memory, file descriptors, start time) and `latchkey_build_info`. Every label
//! takes values from a closed set or a bounded list (tested), never from what a caller sends.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

/// The name of every family registered, series or not.
static FAMILIES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn register<C: prometheus::core::Collector + Clone + 'static>(collector: C) -> C {
    register_boxed(Box::new(collector.clone()));
    collector
}

fn register_boxed(collector: Box<dyn prometheus::core::Collector>) {
    let names: Vec<String> = collector.desc().iter().map(|d| d.fq_name.clone()).collect();
    // Names are fixed and unique: registration fails only on a programming error.
    match REGISTRY.register(collector) {
        Ok(()) => FAMILIES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(names),
        Err(e) => tracing::error!(error = %e, "metric registration failed"),
    }
}

/// Every family this process exports (some show only once they have a series: a webhook
/// delivery, a failing connection): what dashboards may query.
pub fn family_names() -> Vec<String> {
    let _ = render();
    LazyLock::force(&GRPC_STARTED);
    LazyLock::force(&GRPC_HANDLED);
    LazyLock::force(&GRPC_HANDLING_SECONDS);
    LazyLock::force(&WEBHOOK_DELIVERIES);
    LazyLock::force(&WEBHOOK_INGEST_SECONDS);
    LazyLock::force(&CONNECTIONS_FAILING);
    LazyLock::force(&CONNECTION_HEALTH);
    LazyLock::force(&STORE_POOL);
    FAMILIES.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(
        IntCounterVec::new(Opts::new(name, help), labels)
            .unwrap_or_else(|_| unreachable!("valid metric")),
    )
}

fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    register(
        IntGaugeVec::new(Opts::new(name, help), labels)
            .unwrap_or_else(|_| unreachable!("valid metric")),
    )
}

const RPC_LABELS: [&str; 3] = ["grpc_type", "grpc_service", "grpc_method"];

pub static GRPC_STARTED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "grpc_server_started_total",
        "RPCs started on the server",
        &RPC_LABELS,
    )
});

pub static GRPC_HANDLED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "grpc_server_handled_total",
        "RPCs completed on the server, by status code",
        &["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    )
});

pub static GRPC_HANDLING_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new(
                "grpc_server_handling_seconds",
                "Response latency of RPCs handled by the server (to the end of the response)",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &RPC_LABELS,
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

/// 1, labelled with the build's version.
pub static BUILD_INFO: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    let info = gauge_vec(
        "latchkey_build_info",
        "1, labelled with the running build's version",
        &["version"],
    );
    info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
    info
});

/// The process's CPU, memory, file descriptors and start time (Linux), as Prometheus's own
/// clients name them.
static PROCESS: LazyLock<()> = LazyLock::new(|| {
    #[cfg(target_os = "linux")]
    {
        register_boxed(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ));
    }
});

pub static REFRESHER: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    gauge_vec(
        "latchkey_refresher",
        "This replica's refresher: refreshes running (in_flight), claimed and waiting for a \
         place (queued), places in all (capacity)",
        &["state"],
    )
});

pub static REFRESH_CLAIMS: LazyLock<prometheus::IntCounter> = LazyLock::new(|| {
    register(
        prometheus::IntCounter::new(
            "latchkey_refresh_claims_total",
            "Due connections this replica claimed a refresh lease on",
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub static STORE_POOL: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    gauge_vec(
        "latchkey_store_pool_connections",
        "Database connections of this replica's pool: in_use, idle, max",
        &["state"],
    )
});

pub static CONNECT_PAGES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter_vec(
        "latchkey_connect_page_outcomes_total",
        "Hosted connect pages: sessions opened, customers sent to a provider, connections made, \
         refusals by the provider or the customer, and pages refused (expired, already used, \
         invalid)",
        &["outcome"],
    )
});

/// The connect pages' outcomes, the only values of their label.
pub const CONNECT_OUTCOMES: [&str; 7] = [
    "opened",
    "redirected",
    "connected",
    "denied",
    "failed",
    "expired",
    "refused",
];

pub fn count_connect_page(outcome: &'static str) {
    debug_assert!(CONNECT_OUTCOMES.contains(&outcome), "{outcome}");
    CONNECT_PAGES.with_label_values(&[outcome]).inc();
}

/// The pool's figures, set at each scrape.
pub fn set_store_pool(usage: latchkey_store::PoolUsage) {
    STORE_POOL
        .with_label_values(&["in_use"])
        .set(i64::from(usage.size.saturating_sub(usage.idle)));
    STORE_POOL
        .with_label_values(&["idle"])
        .set(i64::from(usage.idle));
    STORE_POOL
        .with_label_values(&["max"])
        .set(i64::from(usage.max));
}

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

pub static RELAY_STUBBED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new(
                "latchkey_relay_stubbed_events_total",
                "Events NATS refused for good, published as stubs (read them with GetHistory)",
            ),
            &["stream"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub static WEBHOOK_DELIVERIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register(
        IntCounterVec::new(
            Opts::new(
                "latchkey_webhook_deliveries_total",
                "Inbound webhook deliveries, by integration, scheme and outcome (recorded, \
                 unrouted, duplicate, handshake, refused_signature, refused_unconfigured, \
                 rate_limited, too_large, failed)",
            ),
            &["integration", "scheme", "outcome"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

pub static WEBHOOK_INGEST_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register(
        HistogramVec::new(
            HistogramOpts::new(
                "latchkey_webhook_ingest_seconds",
                "From a delivery's body read to its answer, recorded deliveries only",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["integration"],
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

pub static CONNECTIONS_FAILING: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register(
        IntGaugeVec::new(
            Opts::new(
                "latchkey_connections_failing",
                "Live connections whose refreshes are failing, by integration and the last error's \
                 code (the most common series; the rest summed under \"other\")",
            ),
            &["integration_id", "reason"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric")),
    )
});

/// The most series `latchkey_connections_failing` shows; error codes come from providers.
pub const FAILING_SERIES: usize = 200;

/// Sets `latchkey_connections_failing` from the store's counts (the most first): the first
/// [`FAILING_SERIES`] as they are, the rest summed under `other`/`other`.
pub fn set_failing(counts: Vec<(String, String, i64)>) {
    CONNECTIONS_FAILING.reset();
    let mut rest = 0;
    for (n, (integration, reason, count)) in counts.into_iter().enumerate() {
        if n < FAILING_SERIES {
            CONNECTIONS_FAILING
                .with_label_values(&[integration.as_str(), reason.as_str()])
                .set(count);
        } else {
            rest += count;
        }
    }
    if rest > 0 {
        CONNECTIONS_FAILING
            .with_label_values(&["other", "other"])
            .set(rest);
    }
}

fn connection_gauge(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    register(
        IntGaugeVec::new(Opts::new(name, help), labels)
            .unwrap_or_else(|_| unreachable!("valid metric")),
    )
}

/// Connections beyond this many get no per-connection series (the counts by status still hold
/// them all); `latchkey_connection_series_truncated` says when that happens.
pub const MAX_CONNECTION_SERIES: usize = 10_000;

/// Per-connection health, read from the projection at scrape time: what `GetConnection` shows.
#[derive(Debug)]
pub struct ConnectionHealth {
    info: IntGaugeVec,
    valid: IntGaugeVec,
    validated_at: IntGaugeVec,
    next_refresh: IntGaugeVec,
    expires: IntGaugeVec,
    last_error: IntGaugeVec,
    truncated: IntGaugeVec,
}

pub static CONNECTION_HEALTH: LazyLock<ConnectionHealth> = LazyLock::new(|| ConnectionHealth {
    info: connection_gauge(
        "latchkey_connection_info",
        "1 per live connection, with its integration, tenant, status and provider account",
        &[
            "connection_id",
            "integration_id",
            "tenant",
            "status",
            "provider_account_id",
        ],
    ),
    valid: connection_gauge(
        "latchkey_connection_last_validation_valid",
        "1 when the provider called the token valid at the last validation, 0 when not",
        &["connection_id"],
    ),
    validated_at: connection_gauge(
        "latchkey_connection_last_validation_timestamp_seconds",
        "When the token was last checked at the provider",
        &["connection_id"],
    ),
    next_refresh: connection_gauge(
        "latchkey_connection_next_refresh_timestamp_seconds",
        "When Latchkey will refresh next (planned, or the retry after a failure)",
        &["connection_id"],
    ),
    expires: connection_gauge(
        "latchkey_connection_token_expiry_timestamp_seconds",
        "When the current access token expires",
        &["connection_id"],
    ),
    last_error: connection_gauge(
        "latchkey_connection_last_error_timestamp_seconds",
        "When the last error happened, with its code",
        &["connection_id", "code"],
    ),
    truncated: connection_gauge(
        "latchkey_connection_series_truncated",
        "1 when there are more live connections than per-connection series are kept for",
        &[],
    ),
});

impl ConnectionHealth {
    /// Replaces every per-connection series with these connections' (deleted ones are left out).
    /// Provider account ids only with `with_accounts` (they identify the customer at the provider).
    pub fn set(
        &self,
        connections: &[latchkey_domain::connection::State],
        truncated: bool,
        with_accounts: bool,
    ) {
        for gauge in [
            &self.info,
            &self.valid,
            &self.validated_at,
            &self.next_refresh,
            &self.expires,
            &self.last_error,
        ] {
            gauge.reset();
        }
        self.truncated
            .with_label_values::<&str>(&[])
            .set(i64::from(truncated));
        for c in connections {
            if c.status == latchkey_domain::connection::Status::Deleted {
                continue;
            }
            let id = c.id.to_string();
            self.info
                .with_label_values(&[
                    id.as_str(),
                    &c.integration_id.to_string(),
                    c.tenant.as_str(),
                    c.status.as_str(),
                    c.provider_account_id
                        .as_deref()
                        .filter(|_| with_accounts)
                        .unwrap_or(""),
                ])
                .set(1);
            if let Some(v) = &c.last_validation {
                self.valid.with_label_values(&[&id]).set(i64::from(v.valid));
                self.validated_at
                    .with_label_values(&[&id])
                    .set(v.at.timestamp());
            }
            if let Some(at) = c.refresh_at {
                self.next_refresh
                    .with_label_values(&[&id])
                    .set(at.timestamp());
            }
            if let Some(at) = c.expires_at {
                self.expires.with_label_values(&[&id]).set(at.timestamp());
            }
            if let Some(e) = &c.last_error {
                self.last_error
                    .with_label_values(&[id.as_str(), e.code.as_str()])
                    .set(e.at.timestamp());
            }
        }
    }
}

/// GetToken's two series, looked up once (a label lookup hashes and locks on every call).
static GET_TOKEN_OUTCOMES: LazyLock<[prometheus::Histogram; 2]> = LazyLock::new(|| {
    [
        GET_TOKEN_SECONDS.with_label_values(&["ok"]),
        GET_TOKEN_SECONDS.with_label_values(&["error"]),
    ]
});

pub fn observe_get_token(elapsed: Duration, ok: bool) {
    GET_TOKEN_OUTCOMES[usize::from(!ok)].observe(elapsed.as_secs_f64());
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
    LazyLock::force(&RELAY_STUBBED);
    LazyLock::force(&BUILD_INFO);
    LazyLock::force(&PROCESS);
    LazyLock::force(&REFRESH_CLAIMS);
    for state in ["in_flight", "queued", "capacity"] {
        REFRESHER.with_label_values(&[state]);
    }
    for outcome in CONNECT_OUTCOMES {
        CONNECT_PAGES.with_label_values(&[outcome]);
    }
    if CONNECTIONS.with_label_values(&["active"]).get() == 0 {
        CONNECTIONS.with_label_values(&["active"]).set(0);
    }
    let mut buffer = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&REGISTRY.gather(), &mut buffer) {
        tracing::error!(error = %e, "encoding metrics failed");
    }
    String::from_utf8(buffer).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_series_are_bounded_and_the_rest_summed_as_other() {
        let counts: Vec<(String, String, i64)> = (0..FAILING_SERIES + 5)
            .map(|n| (format!("integration-{n}"), "http_503".to_owned(), 1))
            .collect();
        set_failing(counts);
        let text = render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("latchkey_connections_failing{"))
            .count();
        assert_eq!(series, FAILING_SERIES + 1, "{text}");
        assert!(
            text.contains(
                r#"latchkey_connections_failing{integration_id="other",reason="other"} 5"#
            ),
            "{text}"
        );
        set_failing(Vec::new());
        assert!(!render().contains("latchkey_connections_failing{"));
    }
}
