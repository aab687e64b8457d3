//! Callers' deadlines (the `grpc-timeout` header) answered as `DEADLINE_EXCEEDED`, as gRPC
//! specifies, a moment before tonic's own timer would answer `CANCELLED`. Only the caller's wait
//! ends: work it started that others depend on (a refresh) runs on by itself.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::Status;
use tonic::body::Body;

/// How much earlier than the caller's deadline the answer is sent (tonic's timer, which started
/// a little before ours, must not win the race, even on a busy machine where both timers are
/// polled late: a tenth of the deadline, at least 10 ms).
fn headroom(timeout: Duration) -> Duration {
    (timeout / 10).max(Duration::from_millis(10))
}

/// A `grpc-timeout` value: up to eight digits and a unit (H, M, S, m, u, n).
fn parse(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DeadlineLayer;

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
}

impl<S, B> tower::Service<axum::http::Request<B>> for Deadline<S>
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
        let timeout = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse);
        // The deadline is fixed now, as tonic fixes its own when the request comes in (not when
        // this future is first polled, which may be later on a busy runtime): ours always comes
        // first, and tonic polls the answer before its timer.
        let deadline = timeout
            .map(|timeout| tokio::time::Instant::now() + timeout.saturating_sub(headroom(timeout)));
        let answer = self.inner.call(request);
        Box::pin(async move {
            let Some(deadline) = deadline else {
                return answer.await;
            };
            match tokio::time::timeout_at(deadline, answer).await {
                Ok(answer) => answer,
                Err(_) => Ok(Status::deadline_exceeded(
                    "the caller's deadline passed; work it started runs on",
                )
                .into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use std::time::Duration;

    #[test]
    fn grpc_timeouts_are_read_in_every_unit_and_nonsense_is_ignored() {
        assert_eq!(parse("1S"), Some(Duration::from_secs(1)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "S", "123456789S", "12x", "-1S", "1.5S"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
