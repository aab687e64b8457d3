//! Traces: OpenTelemetry over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-specific
//! variable) is set, the standard `OTEL_*` variables configuring it; W3C `traceparent` on gRPC
//! metadata continues the caller's trace.

use opentelemetry::global;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Whether the environment asks for traces.
pub fn enabled() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()))
}

/// The OTLP (gRPC) tracer provider; build it inside the Tokio runtime.
pub fn otlp_provider() -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "latchkey".to_owned());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
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
