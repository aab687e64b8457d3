//! The public HTTP listener: the OAuth callback (the integrations' default redirect URI), the
//! hosted connect pages (`connect_pages`), the providers' webhook URLs (`public_webhooks`), the
//! `private_key_jwt` clients' public keys (`/.well-known/jwks.json`) and a bare `/healthz`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::callers::Caller;
use crate::connections::authorize::{CallbackOutcome, CallbackParams};
use crate::error::{AppError, ErrorKind};
pub use crate::public_state::HttpState;

/// The largest request body the public listener reads (its routes take none).
const MAX_BODY: usize = 16 * 1024;

/// The public listener: what browsers and load balancers reach. Nothing here names a tenant, a
/// connection or a provider account; `/metrics` and the detailed health are on the admin listener.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/oauth/callback",
            get(callback).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::connect_pages::look_middleware,
            )),
        )
        .route("/oauth/start/{state}", get(start_link))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/oauth/client-metadata.json", get(client_metadata))
        .merge(crate::connect_pages::routes(state.clone()))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Webhook bodies are read up to each integration's own limit.
        .merge(crate::public_webhooks::routes())
        .with_state(state)
}

/// 200 when the store answers, 503 otherwise; no detail (that is the admin listener's).
async fn healthz(State(state): State<HttpState>) -> (StatusCode, Json<Value>) {
    match state.store.read_all(i64::MAX, 1).await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable" })),
        ),
    }
}

/// The public keys of the `private_key_jwt` clients (RFC 7517 JWK Set), for authorization servers
/// to verify their client assertions. Cached by clients for five minutes.
async fn jwks(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !state.allow(peer) {
        return StatusCode::TOO_MANY_REQUESTS.into_response();
    }
    match state.connections.client_jwks().await {
        Ok(set) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response(),
        Err(error) => {
            tracing::warn!(%error, "the JWKS could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Latchkey's client metadata document: its client id at authorization servers that take one.
async fn client_metadata(State(state): State<HttpState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.connections.client_metadata()),
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// Headers of every callback answer: the URL that led here held a code, so nothing may leak it
/// onwards, and the page loads nothing.
fn guarded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn page(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{detail}</p></body></html>",
        title = escape(title),
        detail = escape(detail),
    );
    guarded(
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
    )
}

/// An address over its share of browser requests.
fn slow_down() -> Response {
    page(
        StatusCode::TOO_MANY_REQUESTS,
        "Slow down",
        "Too many requests from this address; wait a moment and reload.",
    )
}

/// Sends the browser back to the platform with the outcome in the query.
fn back_to(return_url: &str, outcome: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(return_url) else {
        return page(StatusCode::OK, "Done", "You can close this window.");
    };
    url.query_pairs_mut().extend_pairs(outcome);
    let location = HeaderValue::from_str(url.as_str())
        .unwrap_or_else(|_| HeaderValue::from_static("about:blank"));
    guarded((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

/// The start link of an authorization the API started: binds it to this browser and sends the
/// browser on to the provider. A `HEAD` (a link checker) binds nothing.
async fn start_link(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    axum::extract::Path(link): axum::extract::Path<String>,
    method: axum::http::Method,
) -> Response {
    if !state.allow(peer) {
        return slow_down();
    }
    if method == axum::http::Method::HEAD {
        return page(StatusCode::OK, "Connect", "Open this link in your browser.");
    }
    match state.connections.open_authorization(&link).await {
        Ok(opened) => {
            let cookie = format!(
                "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
                state
                    .connections
                    .authorization_cookie_name(opened.connection_id),
                secrecy::ExposeSecret::expose_secret(&opened.cookie),
                if state.connections.public_https() {
                    "; Secure"
                } else {
                    ""
                }
            );
            let mut response = guarded(StatusCode::SEE_OTHER.into_response());
            for (name, value) in [
                (header::LOCATION, opened.provider_url.as_str()),
                (header::SET_COOKIE, cookie.as_str()),
            ] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Err(AppError::Invalid(_)) => page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            "This authorization link is unknown, expired or already used. Please start again.",
        ),
        Err(AppError::FailedPrecondition(reason)) => page(
            StatusCode::GONE,
            "Already opened",
            &format!("Not connected: {reason}."),
        ),
        Err(other) => {
            tracing::warn!(error = %other, "opening an authorization link failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "The service could not answer just now. Reload the page in a moment.",
            )
        }
    }
}

async fn callback(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    if !state.allow(peer) {
        return slow_down();
    }
    let mut params = CallbackParams::from_query(query.as_deref().unwrap_or_default());
    params.cookies = crate::connect_pages::cookie_header(&headers);
    // The one-time `state` is the credential here, not an API key.
    let caller = Caller::system("oauth-callback");
    match state
        .connections
        .complete_authorization(&caller, params)
        .await
    {
        Ok(CallbackOutcome::Authorized {
            connection,
            return_url,
            connect_session,
        }) => {
            let id = connection.id.to_string();
            if let Some(session) = connect_session {
                crate::metrics::count_connect_page("connected");
                crate::connect_pages::refine_from_session(&state, session).await;
                return crate::connect_pages::result_page(
                    session,
                    &id,
                    None,
                    return_url.as_deref(),
                );
            }
            match return_url {
                Some(url) => back_to(&url, &[("connection_id", &id), ("status", "authorized")]),
                None => page(
                    StatusCode::OK,
                    "Connected",
                    "The connection is authorized. You can close this window.",
                ),
            }
        }
        Ok(CallbackOutcome::Failed {
            connection_id,
            error,
            description,
            return_url,
            connect_session,
        }) => {
            let id = connection_id.to_string();
            if let Some(session) = connect_session {
                crate::metrics::count_connect_page(if error == "access_denied" {
                    "denied"
                } else {
                    "failed"
                });
                crate::connect_pages::refine_from_session(&state, session).await;
                state
                    .connections
                    .record_session_failure(session, None, Some(connection_id), &error)
                    .await;
                return crate::connect_pages::result_page(
                    session,
                    &id,
                    Some(crate::connect_pages::Failure { code: &error }),
                    return_url.as_deref(),
                );
            }
            match return_url {
                Some(url) => back_to(
                    &url,
                    &[
                        ("connection_id", &id),
                        ("status", "failed"),
                        ("error", &error),
                    ],
                ),
                None => page(
                    StatusCode::BAD_REQUEST,
                    "Not connected",
                    &format!(
                        "The authorization was not completed: {error}{}",
                        description.map(|d| format!(" ({d})")).unwrap_or_default()
                    ),
                ),
            }
        }
        Err(AppError::Invalid(errors)) => page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            &format!("This authorization link cannot be used: {errors}."),
        ),
        // A session's authorization, come back to another browser than the one that opened
        // the session's link: the message says where to finish.
        Err(AppError::PermissionDenied(reason)) => page(
            StatusCode::FORBIDDEN,
            "Not connected",
            &format!("{}.", reason.trim_end_matches('.')),
        ),
        Err(other) => {
            let status = match other.kind() {
                ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::NotFound | ErrorKind::FailedPrecondition => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            tracing::warn!(error = %other, "oauth callback failed");
            page(
                status,
                "Not connected",
                "The authorization could not be completed. Please start again.",
            )
        }
    }
}
