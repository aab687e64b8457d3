//! Traces and metrics: OpenTelemetry over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or a
//! signal's own variable) is set, the standard `OTEL_*` variables configuring it; W3C
//! `traceparent` on gRPC metadata continues the caller's trace. The metrics exported are those of
//! `/metrics` (counters and gauges, read from the same registry at each export) and
//! `rpc.server.call.duration`, the per-RPC latency histogram under OpenTelemetry's own name.

use opentelemetry::global;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

fn set(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether the environment asks for traces.
pub fn enabled() -> bool {
    set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
}

/// Whether the environment asks for metrics over OTLP.
pub fn metrics_enabled() -> bool {
    set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").is_some()
}

/// Where a signal goes: its own variable, else the common one (the SDK's rule).
fn endpoint(signal: &str) -> Option<String> {
    set(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"))
        .or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

fn resource() -> Resource {
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "latchkey".to_owned());
    Resource::builder().with_service_name(service).build()
}

/// The OTLP (gRPC) tracer provider; build it inside the Tokio runtime.
pub fn otlp_provider() -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build())
}

/// The OTLP (gRPC) meter provider, exporting every `/metrics` counter and gauge and the per-RPC
/// latency histogram (every `OTEL_METRIC_EXPORT_INTERVAL`, default 60 s); build it inside the
/// Tokio runtime.
pub fn otlp_meter_provider() -> anyhow::Result<SdkMeterProvider> {
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_tonic()
        .build()?;
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .with_resource(resource())
        .build();
    let meter = provider.meter("latchkey");
    bridge_registry(&meter);
    let rpc = meter
        .f64_histogram("rpc.server.call.duration")
        .with_unit("s")
        .with_description("Duration of RPCs handled by the server")
        .build();
    let _ = RPC_DURATION.set(rpc);
    Ok(provider)
}

/// `rpc.server.call.duration`, once OTLP metrics are on.
static RPC_DURATION: std::sync::OnceLock<opentelemetry::metrics::Histogram<f64>> =
    std::sync::OnceLock::new();

/// Records one RPC's duration for OTLP, when it is on (nothing is built otherwise).
pub fn record_rpc(service: &str, method: &str, code: usize, seconds: f64) {
    if let Some(histogram) = RPC_DURATION.get() {
        histogram.record(
            seconds,
            &[
                opentelemetry::KeyValue::new("rpc.system", "grpc"),
                opentelemetry::KeyValue::new("rpc.service", service.to_owned()),
                opentelemetry::KeyValue::new("rpc.method", method.to_owned()),
                opentelemetry::KeyValue::new(
                    "rpc.grpc.status_code",
                    i64::try_from(code).unwrap_or(2),
                ),
            ],
        );
    }
}

/// Every counter and gauge of the Prometheus registry as an observable OpenTelemetry
/// instrument of the same name, read from the registry when an export runs.
fn bridge_registry(meter: &opentelemetry::metrics::Meter) {
    use prometheus::proto::MetricType;
    // Every family exists once rendered (the lazily created ones included).
    let _ = crate::metrics::render();
    for family in crate::metrics::REGISTRY.gather() {
        let name = family.name().to_owned();
        let help = family.help().to_owned();
        match family.get_field_type() {
            MetricType::COUNTER => {
                meter
                    .f64_observable_counter(name.clone())
                    .with_description(help)
                    .with_callback(move |observer| {
                        observe_family(&name, |value, labels| observer.observe(value, labels))
                    })
                    .build();
            }
            MetricType::GAUGE => {
                meter
                    .f64_observable_gauge(name.clone())
                    .with_description(help)
                    .with_callback(move |observer| {
                        observe_family(&name, |value, labels| observer.observe(value, labels))
                    })
                    .build();
            }
            // Histograms: the per-RPC one is recorded natively (`record_rpc`).
            _ => {}
        }
    }
}

/// Calls `observe` with each series of the family `name`, as it is now.
fn observe_family(name: &str, mut observe: impl FnMut(f64, &[opentelemetry::KeyValue])) {
    for family in crate::metrics::REGISTRY.gather() {
        if family.name() != name {
            continue;
        }
        for metric in family.get_metric() {
            let labels: Vec<opentelemetry::KeyValue> = metric
                .get_label()
                .iter()
                .map(|l| opentelemetry::KeyValue::new(l.name().to_owned(), l.value().to_owned()))
                .collect();
            let value = match family.get_field_type() {
                prometheus::proto::MetricType::COUNTER => metric.get_counter().get_value(),
                _ => metric.get_gauge().get_value(),
            };
            observe(value, &labels);
        }
    }
}

/// Says at start-up where OTLP goes and which signals, and warns when the collector cannot be
/// reached (then every few minutes while it stays unreachable): export failures are otherwise
/// silent.
pub async fn announce_otlp(traces: bool, metrics: bool) -> std::convert::Infallible {
    let mut endpoints: Vec<(String, String)> = Vec::new();
    for (on, signal) in [(traces, "TRACES"), (metrics, "METRICS")] {
        if on {
            let at = endpoint(signal).unwrap_or_else(|| "http://localhost:4317".to_owned());
            endpoints.push((signal.to_ascii_lowercase(), at));
        }
    }
    for (signal, at) in &endpoints {
        tracing::info!(endpoint = %at, signal = %signal, "exporting over OTLP (gRPC)");
    }
    let mut warned = std::collections::HashSet::new();
    loop {
        for (signal, at) in &endpoints {
            match reach(at).await {
                Ok(()) => {
                    if warned.remove(at) {
                        tracing::info!(endpoint = %at, signal = %signal, "the OTLP collector answers again");
                    }
                }
                Err(e) => {
                    if warned.insert(at.clone()) {
                        tracing::warn!(endpoint = %at, signal = %signal, error = %e, "the OTLP collector cannot be reached; its data is dropped until it answers");
                    }
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}

/// Whether a TCP connection to the endpoint's host and port opens within 3 s.
async fn reach(endpoint: &str) -> Result<(), String> {
    let url = url::Url::parse(endpoint).map_err(|e| format!("not a URL: {e}"))?;
    let host = url.host_str().ok_or("no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(4317);
    match tokio::time::timeout(
        std::time::Duration::from_secs(3),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3s".to_owned()),
    }
}

pub fn tracer(provider: &SdkTracerProvider) -> SdkTracer {
    provider.tracer("latchkey")
}

/// The process's subscriber: `filter` (EnvFilter syntax, e.g. `LATCHKEY_LOG`) over log lines to
/// `writer`, human or JSON, and spans exported through `traces` when given. The benchmarks
/// install the same, so the service they run in-process logs as the binary does.
pub fn install_subscriber<W>(
    filter: &str,
    json: bool,
    traces: Option<&SdkTracerProvider>,
    writer: W,
) where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    type Base = tracing_subscriber::layer::Layered<
        tracing_subscriber::EnvFilter,
        tracing_subscriber::Registry,
    >;
    let mut layers: Vec<Box<dyn tracing_subscriber::Layer<Base> + Send + Sync>> = Vec::new();
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(colour_on_stderr())
        .with_writer(writer);
    layers.push(if json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    });
    if let Some(provider) = traces {
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(tracer(provider))
                .boxed(),
        );
    }
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(filter))
        .with(layers)
        .init();
}

/// Colour in human log lines only when standard error is a terminal and `NO_COLOR` is unset or
/// empty (no-color.org): a log file or a collector gets no escape codes.
pub fn colour_on_stderr() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether traces are exported: without them, no request pays for trace context.
static TRACING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn tracing_on() -> bool {
    TRACING.load(std::sync::atomic::Ordering::Relaxed)
}

/// W3C trace context in and out; call it when traces are exported.
pub fn install_propagator() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    TRACING.store(true, std::sync::atomic::Ordering::Relaxed);
}

struct Headers<'a>(&'a tonic::codegen::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The span of one gRPC call, a child of the caller's span when it sent `traceparent`.
pub fn grpc_span(request: &tonic::codegen::http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    if !tracing_on() {
        // Without exported traces the span only names the call in debug logs: at the default
        // level it costs nothing per request.
        return tracing::debug_span!("grpc", rpc = %path);
    }
    let span = tracing::info_span!("grpc", otel.name = %path, otel.kind = "server", rpc = %path);
    let parent = global::get_text_map_propagator(|p| p.extract(&Headers(request.headers())));
    let _ = span.set_parent(parent);
    span
}

/// The span of one `GetToken`: exported with traces; otherwise only in debug logs, so a call
/// at the default level does not build a span (the hottest call there is).
pub fn get_token_span(connection_id: latchkey_domain::ConnectionId) -> tracing::Span {
    if tracing_on() {
        tracing::info_span!("get_token", connection_id = %connection_id)
    } else {
        tracing::debug_span!("get_token", connection_id = %connection_id)
    }
}

/// The trace id of the current span, when it belongs to a trace (an OpenTelemetry layer is on).
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    if !tracing_on() {
        return None;
    }
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// The trace id of a `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`), unless it is invalid
/// or all zeros.
pub fn trace_id(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_owned())
}

#[cfg(test)]
mod tests {
    use super::trace_id;

    #[test]
    fn trace_ids_come_from_valid_traceparents_only() {
        assert_eq!(
            trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(
            trace_id("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(
            trace_id("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id("garbage"), None);
    }
}
