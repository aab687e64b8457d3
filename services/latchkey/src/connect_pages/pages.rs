//! What the connect pages look like: the templates, the headers every page carries (CSP, no
//! referrer, no caching, no framing), and the pages every handler may answer with (refused,
//! unavailable, slow down, the outcome).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::ConnectSessionId;
use latchkey_domain::session::Refusal;

use super::look::{self, Look};
use crate::connections::Connections;
use crate::public_state::HttpState;

pub(super) const STYLESHEET: &str = include_str!("../../templates/connect/connect.css");
pub(super) const SCRIPT: &str = include_str!("../../templates/connect/connect.js");

#[derive(Template)]
#[template(path = "connect/message.html")]
pub(super) struct Message<'a> {
    pub(super) look: Look,
    pub(super) title: &'a str,
    pub(super) detail: &'a str,
    /// "Back to <platform>": the session's return URL or the platform's home.
    pub(super) back: Option<String>,
}

pub(super) struct Offered {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) description: String,
    /// `code` (a button to the provider), `credentials` (the customer's own client ID and
    /// secret) or `password` (username and password).
    pub(super) kind: &'static str,
    /// The client ID or username to show again after a refused attempt (never the secret).
    pub(super) client_id: String,
    /// The integration's connection parameters (a shop, a subdomain), with what was typed.
    pub(super) params: Vec<OfferedParam>,
    /// Its mark (inline SVG made here).
    pub(super) mark: String,
}

/// One connection parameter's field.
pub(super) struct OfferedParam {
    pub(super) name: String,
    pub(super) label: String,
    pub(super) description: String,
    pub(super) value: String,
}

/// The page a connect link opens: a Continue button. Only its click (a POST) spends the link and
/// binds this browser, so a HEAD, a link preview or a mail scanner's GET spends nothing.
#[derive(Template)]
#[template(path = "connect/open.html")]
pub(super) struct Open<'a> {
    pub(super) look: Look,
    pub(super) token: &'a str,
}

#[derive(Template)]
#[template(path = "connect/device.html")]
pub(super) struct DevicePage<'a> {
    pub(super) look: Look,
    pub(super) session_id: String,
    pub(super) connection_id: String,
    pub(super) integration_id: String,
    pub(super) csrf: String,
    pub(super) name: &'a str,
    pub(super) user_code: &'a str,
    pub(super) verification_uri: &'a str,
    /// `verification_uri_complete` when the provider gave one, else the URI.
    pub(super) link: &'a str,
    pub(super) expires_at: &'a str,
    /// The link as a QR code (inline SVG made here, from the link's bytes).
    pub(super) qr: Option<String>,
    /// Shown again after "I have approved it": the customer has not approved yet.
    pub(super) waiting: bool,
}

#[derive(Template)]
#[template(path = "connect/result.html")]
pub(super) struct Outcome<'a> {
    pub(super) look: Look,
    /// What support looks up (`GetHistory` of the connect session), on a failure.
    pub(super) reference: Option<String>,
    pub(super) title: &'a str,
    pub(super) detail: &'a str,
    pub(super) continue_url: Option<String>,
    pub(super) retry_url: Option<String>,
    /// Where a popup reports the outcome (`postMessage`): the return URL's origin.
    pub(super) opener_origin: Option<String>,
    pub(super) connection_id: &'a str,
    pub(super) status: &'a str,
}

#[derive(Template)]
#[template(path = "connect/list.html")]
pub(super) struct List {
    pub(super) look: Look,
    pub(super) session_id: String,
    pub(super) csrf: String,
    pub(super) integrations: Vec<Offered>,
    pub(super) error: Option<String>,
    /// What support looks up, with an error.
    pub(super) reference: Option<String>,
}

/// Who may frame the pages: `frame-ancestors 'none'` and `X-Frame-Options: DENY` unless
/// `LATCHKEY_CONNECT_FRAME_ANCESTORS` names origins.
pub(super) async fn framing(State(state): State<HttpState>, mut response: Response) -> Response {
    if &*state.frame_ancestors == "'none'" {
        return response;
    }
    let headers = response.headers_mut();
    headers.remove(header::X_FRAME_OPTIONS);
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.replace(
                "frame-ancestors 'none'",
                &format!("frame-ancestors {}", state.frame_ancestors),
            )
        });
    if let Some(value) = csp.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The headers of every page: nothing from another origin, no referrer, no caching, no framing.
/// `form_targets`: the origins a form on the page may lead to (the providers, after a redirect).
pub(super) fn guarded(mut response: Response, form_targets: &[String]) -> Response {
    let mut form_action = String::from("'self'");
    for origin in form_targets {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let csp = format!(
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action {form_action}"
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    for (name, value) in [
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

pub(super) fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a connect page did not render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A page of one message, in the customer's language (`title` and `detail` are catalog keys).
pub(super) fn message(status: StatusCode, title: &str, detail: &str) -> Response {
    message_with(status, title, detail, false)
}

/// [`message`], with "Back to <platform>" when `back` and the way back is known.
pub(super) fn message_with(status: StatusCode, title: &str, detail: &str, back: bool) -> Response {
    let look = look::current();
    let page = Message {
        title: &look.t(title),
        detail: &look.t(detail),
        back: back.then(|| look.back_url().map(str::to_owned)).flatten(),
        look: look.clone(),
    };
    guarded(html(status, page.render()), &[])
}

pub(super) fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Expired => crate::metrics::count_connect_page("expired"),
        Refusal::AlreadyUsed | Refusal::Unknown => crate::metrics::count_connect_page("refused"),
        Refusal::Finished => {}
    }
    match refusal {
        Refusal::AlreadyUsed => message_with(StatusCode::GONE, "used-title", "used-text", true),
        Refusal::Expired => message_with(StatusCode::GONE, "expired-title", "expired-text", true),
        Refusal::Finished => {
            message_with(StatusCode::GONE, "finished-title", "finished-text", true)
        }
        Refusal::Unknown => message(StatusCode::NOT_FOUND, "unknown-title", "unknown-text"),
    }
}

pub(super) fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable-title",
        "unavailable-text",
    )
}

pub(super) fn too_many() -> Response {
    message(StatusCode::TOO_MANY_REQUESTS, "slow-title", "slow-text")
}

/// The form token of the browser that holds `cookie`: a form without it was not made here.
pub(super) fn csrf_token(cookie: &str) -> String {
    latchkey_crypto::sha256_hex(format!("csrf:{cookie}").as_bytes())
}

/// The request's `Cookie` headers, as one.
pub fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let all: Vec<&str> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!all.is_empty()).then(|| all.join("; "))
}

pub(super) fn cookie_of(
    connections: &Connections,
    headers: &HeaderMap,
    id: ConnectSessionId,
) -> Option<String> {
    connections.cookie_in(&cookie_header(headers)?, id)
}

/// Why a session's connection failed, as the customer is told it.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// The provider's (or Latchkey's) error code: `access_denied`, `invalid_client`…
    pub code: &'a str,
}

/// The page a session's browser sees when the provider sent it back: the outcome in the
/// customer's words (with the reference support looks up), "Continue" to the platform (with
/// `connection_id` and `status`) and, when it failed, "Try again".
pub fn result_page(
    session: ConnectSessionId,
    connection_id: &str,
    failure: Option<Failure<'_>>,
    return_url: Option<&str>,
) -> Response {
    let look = look::current();
    let status = if failure.is_some() {
        "failed"
    } else {
        "authorized"
    };
    let opener_origin = return_url
        .and_then(|url| url::Url::parse(url).ok())
        .map(|url| latchkey_domain::origin_of(&url));
    let continue_url = return_url
        .and_then(|url| url::Url::parse(url).ok())
        .map(|mut url| {
            url.query_pairs_mut()
                .append_pair("connection_id", connection_id)
                .append_pair("status", status);
            url.to_string()
        });
    let (title, detail) = match failure {
        None => (look.t("result-connected-title"), look.t("result-connected")),
        Some(Failure {
            code: "access_denied",
        }) => (look.t("result-failed-title"), look.t("result-denied")),
        Some(Failure { code }) => (
            look.t("result-failed-title"),
            look.t1("result-failed", "code", code),
        ),
    };
    let page = Outcome {
        reference: failure.map(|_| session.to_string()),
        title: &title,
        detail: &detail,
        continue_url,
        retry_url: failure.map(|_| format!("/connect/s/{session}")),
        opener_origin,
        connection_id,
        status,
        look,
    };
    let code = if failure.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    guarded(html(code, page.render()), &[])
}

pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

pub(super) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

pub(super) fn csrf_matches(form: &str, cookie: &str) -> bool {
    latchkey_domain::session::same_digest(form, &csrf_token(cookie))
}

pub(super) fn expired_form() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "form-expired-title",
        "form-expired-text",
    )
}
