//! The public webhook URLs: `{LATCHKEY_PUBLIC_URL}/webhooks/{integration_id}` and
//! `…/webhooks/{integration_id}/{connection_id}`, `POST` for deliveries and `GET` for the
//! providers that verify a URL with a GET challenge. The body is read up to the integration's
//! limit and no further; what happens to it is the `inbound` use case's.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use latchkey_domain::{ConnectionId, IntegrationId};

use crate::inbound::{InboundRequest, Refusal, Reply};
use crate::public_state::HttpState;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route(
            "/webhooks/{integration_id}",
            get(integration_url).post(integration_url),
        )
        .route(
            "/webhooks/{integration_id}/{connection_id}",
            get(connection_url).post(connection_url),
        )
}

async fn integration_url(
    State(state): State<HttpState>,
    Path(integration_id): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    receive(state, &integration_id, None, query, request).await
}

async fn connection_url(
    State(state): State<HttpState>,
    Path((integration_id, connection_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    receive(state, &integration_id, Some(&connection_id), query, request).await
}

async fn receive(
    state: HttpState,
    integration_id: &str,
    connection_id: Option<&str>,
    query: Option<String>,
    request: Request,
) -> Response {
    let not_found = || {
        answer(Reply::Refused {
            refusal: Refusal::NotFound,
            reason: "no such webhook URL".to_owned(),
        })
    };
    let Ok(integration_id) = integration_id.parse::<IntegrationId>() else {
        return not_found();
    };
    let connection_id = match connection_id.map(str::parse::<ConnectionId>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return not_found(),
    };
    let integration = match state.inbound.integration(integration_id).await {
        Ok(integration) => integration,
        Err(reply) => return answer(reply),
    };
    let (parts, body) = request.into_parts();
    let limit = integration.config.webhooks.webhook_max_body_bytes as usize;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return answer(state.inbound.too_large(&integration));
    }
    // Read no further than the limit, whatever the request declared.
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(e) if is_over_limit(&e) => return answer(state.inbound.too_large(&integration)),
        Err(_) => return (StatusCode::BAD_REQUEST, "the body could not be read").into_response(),
    };
    let request = InboundRequest {
        connection_id,
        method: if parts.method == Method::GET {
            "GET".to_owned()
        } else {
            "POST".to_owned()
        },
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        query: query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        headers: headers(&parts.headers),
        body: body.to_vec(),
    };
    answer(state.inbound.receive(&integration, request).await)
}

fn is_over_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The request's headers, lower-case names, the first value of each that is text.
fn headers(map: &HeaderMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in map {
        if let Ok(value) = value.to_str() {
            out.entry(name.as_str().to_owned())
                .or_insert_with(|| value.to_owned());
        }
    }
    out
}

fn answer(reply: Reply) -> Response {
    match reply {
        Reply::Ok {
            content_type,
            body,
            header: echoed,
        } => {
            let mut response = (StatusCode::OK, body).into_response();
            if let Some((name, value)) = echoed
                && let Ok(value) = HeaderValue::from_str(&value)
            {
                response
                    .headers_mut()
                    .insert(axum::http::HeaderName::from_static(name), value);
            }
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Reply::Refused { refusal, reason } => {
            let (status, retry_after) = match refusal {
                Refusal::Unauthorized => (StatusCode::UNAUTHORIZED, None),
                Refusal::NotFound => (StatusCode::NOT_FOUND, None),
                Refusal::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, None),
                Refusal::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, None),
                Refusal::TooMany => (StatusCode::TOO_MANY_REQUESTS, Some("1")),
                Refusal::InFlight => (StatusCode::CONFLICT, Some("5")),
                Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Some("5")),
            };
            let mut response = (status, reason).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
            }
            response
        }
    }
}
