//! How the public HTTP listener serves strangers: HTTP/1.1 only; each request's head within
//! `header_timeout` of the connection opening or of the answer before it (an idle keep-alive
//! connection is closed then), each request (body and handling) within `request_timeout` or it is
//! answered 408 and the connection closed; a connection older than [`KEEP_ALIVE_FOR`] is closed
//! after its next answer, and at shutdown idle connections close at once; at most
//! `max_connections` at once and `max_per_address` from one client address (more are closed as
//! they come, so a slowloris cannot take the process's file descriptors from gRPC, Postgres and
//! provider calls, nor one host the listener from everyone else), small bodies, and the client's
//! address for per-address limits: the connection's, or the one a trusted proxy names. Keep-alive
//! spares a provider sending webhooks a TCP handshake per delivery (a quarter of the receiver's
//! time, measured in `docs/BENCHMARKS.md`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// How long a connection is kept alive: its first answer after this says `Connection: close`.
pub const KEEP_ALIVE_FOR: Duration = Duration::from_secs(60);

/// The public listener's limits.
#[derive(Debug, Clone)]
pub struct PublicLimits {
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_per_address: usize,
    /// Proxies whose `Forwarded`/`X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[IpNet]>,
    /// `Strict-Transport-Security` on every answer (the public URL is https).
    pub hsts: bool,
}

/// Connections held per client address.
#[derive(Debug, Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One held connection of an address; released when dropped.
struct Held {
    table: Arc<PerAddress>,
    address: IpAddr,
}

impl PerAddress {
    fn take(table: &Arc<Self>, address: IpAddr, max: usize) -> Option<Held> {
        let mut held = table.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = held.entry(address).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Held {
            table: table.clone(),
            address,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = held.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.address);
            }
        }
    }
}

fn trusted(proxies: &[IpNet], ip: IpAddr) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client of a request that came through trusted proxies: the nearest address in
/// `X-Forwarded-For` (or `Forwarded: for=`) that is not itself a trusted proxy. `peer` when it is
/// not a trusted proxy, or the headers name nobody usable.
pub fn client_address(proxies: &[IpNet], peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
    if !trusted(proxies, peer.ip()) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("forwarded") {
        for element in value.to_str().unwrap_or_default().split(',') {
            for pair in element.split(';') {
                if let Some((key, value)) = pair.trim().split_once('=')
                    && key.trim().eq_ignore_ascii_case("for")
                {
                    let value = value.trim().trim_matches('"');
                    let value = value.strip_prefix('[').map_or(value, |v| {
                        v.split_once(']').map_or(v, |(address, _)| address)
                    });
                    let address = value.rsplit_once(':').map_or(value, |(a, port)| {
                        if port.bytes().all(|b| b.is_ascii_digit()) && !a.contains(':') {
                            a
                        } else {
                            value
                        }
                    });
                    hops.extend(address.parse::<IpAddr>().ok());
                }
            }
        }
    }
    if hops.is_empty() {
        for value in headers.get_all("x-forwarded-for") {
            hops.extend(
                value
                    .to_str()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|hop| hop.trim().parse::<IpAddr>().ok()),
            );
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !trusted(proxies, *ip))
        .map_or(peer, |ip| SocketAddr::new(ip, 0))
}

/// Headers on every public answer, whatever route (or none) made it.
fn harden(headers: &mut HeaderMap, hsts: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

/// One connection's service: each request handled within the request deadline (else 408 and the
/// connection closed), with the client's address and the hardening headers, and `Connection:
/// close` once the connection is older than [`KEEP_ALIVE_FOR`].
fn service(
    router: Router,
    limits: &PublicLimits,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone
+ Send
+ 'static {
    let (proxies, hsts) = (limits.trusted_proxies.clone(), limits.hsts);
    let request_timeout = limits.request_timeout;
    let opened = std::time::Instant::now();
    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let client = client_address(&proxies, peer, request.headers());
        request.extensions_mut().insert(ConnectInfo(client));
        let router = router.clone();
        async move {
            // The whole request, body included: a body dripped a byte at a time ends here.
            let handled = router.oneshot(request.map(axum::body::Body::new));
            let (mut response, close) = match tokio::time::timeout(request_timeout, handled).await {
                Ok(response) => (
                    response.unwrap_or_else(|never| match never {}),
                    opened.elapsed() >= KEEP_ALIVE_FOR,
                ),
                Err(_) => {
                    tracing::debug!(%peer, "public request closed at its deadline");
                    let message = "the request was not over within LATCHKEY_HTTP_REQUEST_TIMEOUT";
                    let timeout = (axum::http::StatusCode::REQUEST_TIMEOUT, message);
                    (axum::response::IntoResponse::into_response(timeout), true)
                }
            };
            if close {
                let headers = response.headers_mut();
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            harden(response.headers_mut(), hsts);
            Ok::<_, Infallible>(response)
        }
    })
}

/// Serves `router` until `shutdown`; then lets the requests under way finish (bounded by the
/// caller's own grace).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: PublicLimits,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted.
                    tracing::warn!(error = %e, "public listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // A trusted proxy carries every client: only the total cap applies to it.
        let held = if trusted(&limits.trusted_proxies, peer.ip()) {
            None
        } else {
            match PerAddress::take(&per_address, peer.ip(), limits.max_per_address) {
                Some(held) => Some(held),
                None => {
                    drop(stream);
                    continue;
                }
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            // Over the cap: closed at once.
            drop(stream);
            continue;
        };
        let (header_timeout, request_timeout) = (limits.header_timeout, limits.request_timeout);
        let service = service(router.clone(), &limits, peer);
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                // In hyper 1.x this also bounds the wait for each next request on the connection.
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            let served = async {
                let mut connection = std::pin::pin!(connection);
                let mut closing = false;
                loop {
                    tokio::select! {
                        served = connection.as_mut() => break served,
                        () = shutdown.cancelled(), if !closing => {
                            // Idle: closed now; mid-request: closed after its answer.
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            };
            // Past its keep-alive and its last request's deadline, a connection still open is
            // an answer a client does not read: closed here.
            match tokio::time::timeout(KEEP_ALIVE_FOR + request_timeout, served).await {
                Ok(Err(e)) => tracing::debug!(error = %e, %peer, "public connection ended"),
                Err(_) => tracing::debug!(%peer, "public connection closed at its deadline"),
                Ok(Ok(())) => {}
            }
            drop(permit);
            drop(held);
        });
    }
    connections.close();
    connections.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let xff = headers(&[("x-forwarded-for", "198.51.100.7, 10.9.9.9")]);
        assert_eq!(
            client_address(&proxies, proxy, &xff).ip().to_string(),
            "198.51.100.7"
        );
        // From anyone else the header is ignored: it could say anything.
        assert_eq!(client_address(&proxies, stranger, &xff), stranger);
        assert_eq!(client_address(&[], proxy, &xff), proxy);
        let forwarded = headers(&[(
            "forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https, for=192.0.2.60:8080",
        )]);
        assert_eq!(
            client_address(&proxies, proxy, &forwarded).ip().to_string(),
            "192.0.2.60"
        );
        let spoofed_first = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(
            client_address(&proxies, proxy, &spoofed_first)
                .ip()
                .to_string(),
            "198.51.100.7",
            "the nearest untrusted hop, not what the client wrote first"
        );
    }
}
