//! Per-RPC metrics with the names gRPC dashboards read (go-grpc-prometheus's):
//! `grpc_server_started_total`, `grpc_server_handled_total` (with `grpc_code`) and
//! `grpc_server_handling_seconds`, labelled `grpc_type`, `grpc_service`, `grpc_method`. Only the
//! methods this server serves get series: a request for any other path is counted under
//! `grpc_service="unknown"`, so no caller can grow the label sets. A call is handled when its
//! response body ends (the status of a success is in its trailers), or when the caller goes away.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::Frame;
use prometheus::{Histogram, IntCounter};
use tonic::body::Body;

use crate::metrics::{GRPC_HANDLED, GRPC_HANDLING_SECONDS, GRPC_STARTED};

/// gRPC's status codes by number, as go-grpc-prometheus names them.
const CODES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// One method's series, looked up once (a label lookup hashes and locks).
struct MethodSeries {
    labels: [String; 3],
    started: IntCounter,
    seconds: Histogram,
    handled: [OnceLock<IntCounter>; 17],
}

impl MethodSeries {
    fn new(kind: &str, service: &str, method: &str) -> Self {
        let labels = [kind.to_owned(), service.to_owned(), method.to_owned()];
        let refs = [labels[0].as_str(), labels[1].as_str(), labels[2].as_str()];
        Self {
            started: GRPC_STARTED.with_label_values(&refs),
            seconds: GRPC_HANDLING_SECONDS.with_label_values(&refs),
            handled: std::array::from_fn(|_| OnceLock::new()),
            labels,
        }
    }

    fn handled(&self, code: usize) {
        let code = code.min(CODES.len() - 1);
        self.handled[code]
            .get_or_init(|| {
                let [kind, service, method] = &self.labels;
                GRPC_HANDLED.with_label_values(&[kind, service, method, CODES[code]])
            })
            .inc();
    }
}

/// Every method this server serves (Latchkey's services, health, reflection), by request path.
static METHODS: LazyLock<HashMap<String, Arc<MethodSeries>>> = LazyLock::new(|| {
    let mut methods = HashMap::new();
    let mut add = |service: &str, method: &str, client_streaming: bool, server_streaming: bool| {
        let kind = match (client_streaming, server_streaming) {
            (false, false) => "unary",
            (false, true) => "server_stream",
            (true, false) => "client_stream",
            (true, true) => "bidi_stream",
        };
        let series = MethodSeries::new(kind, service, method);
        // Each method's successes show at zero too (as go-grpc-prometheus initializes them).
        let _ = series.handled[0]
            .get_or_init(|| GRPC_HANDLED.with_label_values(&[kind, service, method, CODES[0]]));
        methods.insert(format!("/{service}/{method}"), Arc::new(series));
    };
    match prost_reflect::DescriptorPool::decode(latchkey_proto::FILE_DESCRIPTOR_SET) {
        Ok(pool) => {
            for service in pool.services() {
                for method in service.methods() {
                    add(
                        service.full_name(),
                        method.name(),
                        method.is_client_streaming(),
                        method.is_server_streaming(),
                    );
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "the API's descriptors do not decode"),
    }
    add("grpc.health.v1.Health", "Check", false, false);
    add("grpc.health.v1.Health", "Watch", false, true);
    for version in ["v1", "v1alpha"] {
        let service = format!("grpc.reflection.{version}.ServerReflection");
        add(&service, "ServerReflectionInfo", true, true);
    }
    methods
});

static UNKNOWN: LazyLock<Arc<MethodSeries>> =
    LazyLock::new(|| Arc::new(MethodSeries::new("unary", "unknown", "unknown")));

/// The series of a gRPC request's path; `None` for what is not gRPC (HTTP/JSON routes).
fn series_for(request: &axum::http::Request<impl Sized>) -> Option<Arc<MethodSeries>> {
    let grpc = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if !grpc {
        return None;
    }
    Some(
        METHODS
            .get(request.uri().path())
            .cloned()
            .unwrap_or_else(|| UNKNOWN.clone()),
    )
}

/// Creates every known method's started and OK-handled counters and latency histogram, so
/// dashboards see the methods at zero before their first call.
pub fn initialize() {
    LazyLock::force(&METHODS);
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RpcMetricsLayer;

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RpcMetrics<S> {
    inner: S,
}

impl<S, B> tower::Service<axum::http::Request<B>> for RpcMetrics<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = axum::http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let series = series_for(&request);
        let answer = self.inner.call(request);
        let Some(series) = series else {
            return Box::pin(answer);
        };
        series.started.inc();
        let started = Instant::now();
        Box::pin(async move {
            let mut call = Call {
                series,
                started,
                code: None,
                done: false,
            };
            let response = answer.await?;
            // A trailers-only answer (every refusal) carries its status in the headers.
            call.code = status_of(response.headers());
            let (parts, body) = response.into_parts();
            Ok(axum::http::Response::from_parts(
                parts,
                Body::new(Metered { body, call }),
            ))
        })
    }
}

fn status_of(headers: &axum::http::HeaderMap) -> Option<usize> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// One call, recorded once: when its body ends, or when it is dropped unfinished.
struct Call {
    series: Arc<MethodSeries>,
    started: Instant,
    code: Option<usize>,
    done: bool,
}

impl Call {
    fn finish(&mut self, code: usize) {
        if !self.done {
            self.done = true;
            self.series.handled(code);
            let seconds = self.started.elapsed().as_secs_f64();
            self.series.seconds.observe(seconds);
            let [_, service, method] = &self.series.labels;
            crate::telemetry::record_rpc(service, method, code, seconds);
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Dropped before its end: the caller went away (Canceled) unless a status was seen.
        let code = self.code.unwrap_or(1);
        self.finish(code);
    }
}

/// A response body that records its call's status when it ends.
struct Metered {
    body: Body,
    call: Call,
}

impl http_body::Body for Metered {
    type Data = tonic::codegen::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(status_of) {
                    this.call.code = Some(code);
                }
            }
            Poll::Ready(Some(Err(_))) => this.call.code = this.call.code.or(Some(2)),
            Poll::Ready(None) => {
                // The end: the status seen, else OK (a body that ends without trailers).
                let code = this.call.code.unwrap_or(0);
                this.call.finish(code);
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
