//! HTTP/JSON on the gRPC port: every RPC annotated with `google.api.http` in `proto/` answers
//! `curl` as well (AIP-127 routes, canonical proto3 JSON, errors as `google.rpc.Status` JSON).
//!
//! Table-driven: the routes are read from the API's descriptor set at start-up, a request is
//! transcoded into the RPC's message and handed, in process, to the very services the port
//! serves, with the caller's headers (its API key) and connection (its address, its client
//! certificate): a unary call to the service's typed method (`latchkey_proto::dispatch`,
//! generated from the proto), a server stream through the gRPC service itself. Authentication,
//! tenant scopes, limits and validation are therefore the gRPC calls', with nothing written
//! twice. Server streams (history, replay) answer one JSON object a line, `{"result": …}`, and
//! `{"error": …}` last when the stream fails.

mod json_out;
mod routes;
mod status;
mod template;
mod transcode;

use std::sync::Arc;

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse as _, Response};
use http_body_util::BodyExt as _;
use prost_reflect::{DescriptorPool, MessageDescriptor};
use tonic::service::Routes;
use tonic::{Code, Status};

pub use routes::Route;
use routes::markdown;

/// No request of the API needs more (as over gRPC); larger bodies are refused unread.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// The package whose annotated services are routed.
const PACKAGE: &str = "latchkey.v1";

/// A unary RPC called through its service's typed method, with the encoded request and reply:
/// what HTTP/JSON calls in process (no gRPC framing, codec or body). The composition root
/// implements it over the services the port serves, with `latchkey_proto::dispatch`.
pub trait Unary: Send + Sync + std::fmt::Debug {
    /// `None` when `service` has no unary `method`.
    fn call<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        request: tonic::Request<Vec<u8>>,
    ) -> UnaryFuture<'a>;
}

/// What [`Unary::call`] answers.
pub type UnaryFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Option<Result<Vec<u8>, Status>>> + Send + 'a>,
>;

/// The routes and the services they call: unary ones by their typed methods, server streams
/// through the gRPC services themselves.
#[derive(Debug)]
pub struct HttpJson {
    routes: Vec<Route>,
    unary: Arc<dyn Unary>,
    grpc: Routes,
    status_pool: DescriptorPool,
}

/// The routes of the API, read from its descriptor set.
pub fn api_routes() -> anyhow::Result<Vec<Route>> {
    let pool = DescriptorPool::decode(latchkey_proto::FILE_DESCRIPTOR_SET)
        .context("reading the API's descriptor set")?;
    routes::read(&pool, PACKAGE).map_err(|e| anyhow::anyhow!("HTTP/JSON routes: {e}"))
}

/// The routes as `docs/API.md`'s table.
pub fn routes_markdown() -> anyhow::Result<String> {
    Ok(markdown(&api_routes()?))
}

impl HttpJson {
    /// Routes to `unary` and, for streams, to the services of `grpc` (which must serve the
    /// API's services).
    pub fn new(unary: Arc<dyn Unary>, grpc: Routes) -> anyhow::Result<Self> {
        let status_pool = DescriptorPool::decode(latchkey_proto::STATUS_DESCRIPTOR_SET)
            .context("reading google.rpc.Status's descriptor set")?;
        Ok(Self {
            routes: api_routes()?,
            unary,
            grpc,
            status_pool,
        })
    }

    /// `router` (the gRPC services) with HTTP/JSON answering every path it does not route.
    pub fn beside(self, router: axum::Router) -> axum::Router {
        router.fallback_service(axum::handler::Handler::with_state(handle, Arc::new(self)))
    }

    fn error(&self, status: &Status) -> Response {
        status::response(status, &self.status_pool)
    }

    /// The route of `method path`, with the fields its path binds; else the error to answer.
    fn find(&self, method: &Method, path: &str) -> Result<(&Route, Bound<'_>), Status> {
        for route in self.routes.iter().filter(|r| r.method == method) {
            if let Some(bound) = route.template.matches(path) {
                return Ok((route, bound));
            }
        }
        let other_method = self
            .routes
            .iter()
            .any(|r| r.template.matches(path).is_some());
        Err(if other_method {
            Status::unimplemented(format!("{path} does not answer {method}"))
        } else {
            Status::not_found(format!("no route {method} {path}; docs/API.md lists them"))
        })
    }
}

/// The fields a route's path binds, with their values.
type Bound<'a> = Vec<(&'a str, String)>;

/// Hop-by-hop and framing headers, which the in-process gRPC request sets itself.
const NOT_FORWARDED: [HeaderName; 7] = [
    header::HOST,
    header::CONNECTION,
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::TE,
    header::ACCEPT_ENCODING,
];

async fn handle(State(json): State<Arc<HttpJson>>, request: Request) -> Response {
    let grpc = request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if grpc {
        // A gRPC call to a service this server lacks: what gRPC answers, not HTTP/JSON's 404.
        let path = request.uri().path().to_owned();
        return Status::unimplemented(format!("{path}: no such method")).into_http();
    }
    if request.headers().contains_key(header::ORIGIN)
        || request.headers().contains_key("sec-fetch-site")
    {
        // A browser's request (they send Origin on every POST, Sec-Fetch-* on every fetch): a
        // page on any site could otherwise make a form post to a Latchkey without keys on
        // loopback. The API is for servers; nothing here answers CORS.
        let status = Status::permission_denied(
            "HTTP/JSON does not serve browsers (the request has Origin or Sec-Fetch-Site): call \
             it from a server",
        );
        return json.error(&status);
    }
    let (parts, body) = request.into_parts();
    let (route, bound) = match json.find(&parts.method, parts.uri.path()) {
        Ok(found) => found,
        Err(status) if status.code() == Code::Unimplemented => {
            let mut response = json.error(&status);
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            return response;
        }
        Err(status) => return json.error(&status),
    };
    let body = if axum::body::HttpBody::is_end_stream(&body) {
        Bytes::new()
    } else {
        match read_body(&json, body).await {
            Ok(body) => body,
            Err(response) => return *response,
        }
    };
    let message = match transcode::request(route, bound, parts.uri.query(), &body) {
        Ok(message) => message,
        Err(status) => return json.error(&status),
    };
    call(&json, route, parts, message).await
}

/// The request's body, within [`MAX_BODY_BYTES`]; else the answer to give.
async fn read_body(json: &HttpJson, body: Body) -> Result<Bytes, Box<Response>> {
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => Ok(body.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let status =
                Status::resource_exhausted(format!("the body is over {MAX_BODY_BYTES} bytes"));
            let mut response = json.error(&status);
            *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            Err(Box::new(response))
        }
        Err(e) => Err(Box::new(
            json.error(&Status::cancelled(format!("the body was cut short: {e}"))),
        )),
    }
}

/// Calls the route's RPC in process and answers its reply as JSON.
async fn call(json: &HttpJson, route: &Route, parts: Parts, message: Vec<u8>) -> Response {
    if route.server_streaming() {
        return call_grpc(json, route, parts, message).await;
    }
    let mut headers = parts.headers;
    for name in &NOT_FORWARDED {
        headers.remove(name);
    }
    let request = tonic::Request::from_parts(
        tonic::metadata::MetadataMap::from_headers(headers),
        parts.extensions,
        message,
    );
    let answer = json
        .unary
        .call(&route.service, route.rpc.name(), request)
        .await
        .unwrap_or_else(|| {
            Err(Status::unimplemented(format!(
                "{}: not unary",
                route.grpc_path
            )))
        })
        .and_then(|reply| transcode::reply(route.rpc.output(), &reply));
    match answer {
        Ok(reply) => ([(header::CONTENT_TYPE, "application/json")], reply).into_response(),
        Err(status) => json.error(&status),
    }
}

/// Calls a server stream through the gRPC service itself.
async fn call_grpc(json: &HttpJson, route: &Route, parts: Parts, message: Vec<u8>) -> Response {
    let request = match grpc_request(route, parts, message) {
        Ok(request) => request,
        Err(status) => return json.error(&status),
    };
    let mut grpc = json.grpc.clone();
    let Ok(response) = tower::Service::call(&mut grpc, request).await;
    let (head, body) = response.into_parts();
    // A call refused before it answered anything is "trailers-only": the status is a header.
    if let Some(status) = Status::from_header_map(&head.headers)
        && status.code() != Code::Ok
    {
        return json.error(&status);
    }
    stream(json, route.rpc.output(), body)
}

/// The gRPC request of an HTTP one: its headers (an API key, a trace context) and its
/// connection's extensions (address, client certificate) carried over.
fn grpc_request(route: &Route, parts: Parts, message: Vec<u8>) -> Result<Request, Status> {
    let length = u32::try_from(message.len())
        .map_err(|_| Status::resource_exhausted("the request is too large"))?;
    let mut framed = Vec::with_capacity(5 + message.len());
    framed.push(0);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(&message);
    let mut request = Request::new(Body::from(framed));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = route.grpc_uri.clone();
    *request.extensions_mut() = parts.extensions;
    let headers = request.headers_mut();
    for (name, value) in &parts.headers {
        if !NOT_FORWARDED.contains(name) {
            headers.append(name, value.clone());
        }
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    Ok(request)
}

/// The messages of a gRPC body (uncompressed frames: the server compresses nothing).
fn frames(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let header = bytes.get(..5)?;
        let length = usize::try_from(u32::from_be_bytes([
            header[1], header[2], header[3], header[4],
        ]))
        .ok()?;
        let message = bytes.get(5..5 + length)?;
        bytes = &bytes[5 + length..];
        Some(message)
    })
}

/// A server stream as newline-delimited JSON, each message as it comes.
fn stream(json: &HttpJson, output: MessageDescriptor, body: tonic::body::Body) -> Response {
    let pool = json.status_pool.clone();
    let mut pending: Vec<u8> = Vec::new();
    let lines = tokio_stream::StreamExt::map(
        http_body_util::BodyStream::new(body),
        move |frame| -> Result<Bytes, std::convert::Infallible> {
            let mut out = Vec::new();
            match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => {
                        pending.extend_from_slice(&data);
                        let mut used = 0;
                        for message in frames(&pending) {
                            used += 5 + message.len();
                            line(
                                &mut out,
                                "result",
                                transcode::reply(output.clone(), message),
                            );
                        }
                        pending.drain(..used);
                    }
                    Err(frame) => {
                        let failed = frame
                            .trailers_ref()
                            .and_then(Status::from_header_map)
                            .filter(|s| s.code() != Code::Ok);
                        if let Some(status) = failed {
                            line(&mut out, "error", Ok(status::json(&status, &pool)));
                        }
                    }
                },
                Err(e) => line(&mut out, "error", Ok(status::json(&e, &pool))),
            }
            Ok(Bytes::from(out))
        },
    );
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(lines),
    )
        .into_response()
}

/// `{"result": …}` or `{"error": …}` and a newline.
fn line(out: &mut Vec<u8>, key: &str, value: Result<Vec<u8>, Status>) {
    let (key, value) = match value {
        Ok(value) => (key, value),
        Err(status) => ("error", status::json(&status, &DescriptorPool::new())),
    };
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(&value);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests;
