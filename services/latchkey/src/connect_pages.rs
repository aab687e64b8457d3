//! The hosted connect pages on the public listener: a one-time link (`/connect/<token>`) that
//! hands the browser the session's cookie, the session's page listing its integrations, and the
//! form that sends the customer to the provider. Server-rendered from templates compiled into the
//! binary; nothing is loaded from another origin, and every answer says so in its CSP.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use latchkey_domain::session::{self, Refusal};
use latchkey_domain::{ConnectSessionId, IntegrationId};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::connections::Connections;
use crate::public_state::HttpState;

const STYLESHEET: &str = include_str!("../templates/connect/connect.css");
const SCRIPT: &str = include_str!("../templates/connect/connect.js");

#[derive(Template)]
#[template(path = "connect/message.html")]
struct Message<'a> {
    title: &'a str,
    detail: &'a str,
}

struct Offered {
    id: String,
    name: String,
    description: String,
    /// `code` (a button to the provider), `credentials` (the customer's own client ID and
    /// secret) or `password` (username and password).
    kind: &'static str,
    /// The client ID or username to show again after a refused attempt (never the secret).
    client_id: String,
}

#[derive(Template)]
#[template(path = "connect/result.html")]
struct Outcome<'a> {
    title: &'a str,
    detail: &'a str,
    continue_url: Option<String>,
    retry_url: Option<String>,
    /// Where a popup reports the outcome (`postMessage`): the return URL's origin.
    opener_origin: Option<String>,
    connection_id: &'a str,
    status: &'a str,
}

#[derive(Template)]
#[template(path = "connect/list.html")]
struct List {
    session_id: String,
    csrf: String,
    integrations: Vec<Offered>,
    error: Option<String>,
}

pub fn routes(state: HttpState) -> axum::Router<HttpState> {
    axum::Router::new()
        .route("/connect/assets/connect.css", get(stylesheet))
        .route("/connect/assets/connect.js", get(script))
        .route("/connect/{token}", get(open))
        .route("/connect/s/{session}", get(session_page))
        .route("/connect/s/{session}/start", post(start))
        .route("/connect/s/{session}/credentials", post(credentials))
        .layer(axum::middleware::map_response_with_state(state, framing))
}

/// Who may frame the pages: `frame-ancestors 'none'` and `X-Frame-Options: DENY` unless
/// `LATCHKEY_CONNECT_FRAME_ANCESTORS` names origins.
async fn framing(State(state): State<HttpState>, mut response: Response) -> Response {
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
fn guarded(mut response: Response, form_targets: &[String]) -> Response {
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

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
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

fn message(status: StatusCode, title: &str, detail: &str) -> Response {
    guarded(html(status, Message { title, detail }.render()), &[])
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::AlreadyUsed => message(
            StatusCode::GONE,
            "This link was already used",
            "Each connect link works once. Ask for a new link where you started.",
        ),
        Refusal::Expired => message(
            StatusCode::GONE,
            "This link has expired",
            "Ask for a new link where you started.",
        ),
        Refusal::Unknown => message(
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "Open the link exactly as you were given it, in the browser you first opened it in.",
        ),
    }
}

fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "The service could not answer just now. Reload the page in a moment.",
    )
}

fn too_many() -> Response {
    message(
        StatusCode::TOO_MANY_REQUESTS,
        "Slow down",
        "Too many requests from this address; wait a moment and reload.",
    )
}

/// The form token of the browser that holds `cookie`: a form without it was not made here.
fn csrf_token(cookie: &str) -> String {
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

fn cookie_of(headers: &HeaderMap, id: ConnectSessionId) -> Option<String> {
    Connections::cookie_in(&cookie_header(headers)?, id)
}

/// The page a session's browser sees when the provider sent it back: the outcome, "Continue" to
/// the platform (with `connection_id` and `status`) and, when it failed, "Try again".
pub fn result_page(
    session: ConnectSessionId,
    connection_id: &str,
    failure: Option<&str>,
    return_url: Option<&str>,
) -> Response {
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
    let detail = match failure {
        None => "Your account is connected.".to_owned(),
        Some(reason) => format!("Not connected: {reason}."),
    };
    let page = Outcome {
        title: if failure.is_some() {
            "Not connected"
        } else {
            "Connected"
        },
        detail: &detail,
        continue_url,
        retry_url: failure.map(|_| format!("/connect/s/{session}")),
        opener_origin,
        connection_id,
        status,
    };
    let code = if failure.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    guarded(html(code, page.render()), &[])
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Opening the link: once. The browser gets the cookie that owns the session and goes to its page.
async fn open(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
) -> Response {
    if !state.allow(peer) {
        return too_many();
    }
    let opened = match state.connections.open_connect_session(&token).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(refusal)) => return refused(refusal),
        Err(e) => {
            tracing::warn!(error = %e, "opening a connect session failed");
            return unavailable();
        }
    };
    let secure = state.connections.public_base().starts_with("https://");
    // Path=/: the provider sends the browser back to /oauth/callback, which checks it too.
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
        Connections::cookie_name(opened.id),
        opened.cookie.expose_secret(),
        if secure { "; Secure" } else { "" }
    );
    let location = format!("/connect/s/{}", opened.id);
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    guarded(response, &[])
}

/// The session this request's cookie owns, or the page that says why not.
async fn owned(
    state: &HttpState,
    session: &str,
    headers: &HeaderMap,
) -> Result<(session::State, String), Response> {
    let Ok(id) = ConnectSessionId::parse_field(session, "session") else {
        return Err(refused(Refusal::Unknown));
    };
    let Some(cookie) = cookie_of(headers, id) else {
        return Err(refused(Refusal::Unknown));
    };
    match state.connections.owned_connect_session(id, &cookie).await {
        Ok(Ok(session)) => Ok((session, cookie)),
        Ok(Err(refusal)) => Err(refused(refusal)),
        Err(e) => {
            tracing::warn!(error = %e, "reading a connect session failed");
            Err(unavailable())
        }
    }
}

/// What a refused form had, to show again: the integration and the client ID it was for.
struct Refill<'a> {
    integration_id: &'a str,
    client_id: &'a str,
}

async fn list_page(
    state: &HttpState,
    session: &session::State,
    cookie: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    list_page_with(state, session, cookie, status, error, None).await
}

async fn list_page_with(
    state: &HttpState,
    session: &session::State,
    cookie: &str,
    status: StatusCode,
    error: Option<String>,
    refill: Option<Refill<'_>>,
) -> Response {
    let integrations = match state.connections.session_integrations(session).await {
        Ok(integrations) => integrations,
        Err(e) => {
            tracing::warn!(error = %e, "reading a session's integrations failed");
            return unavailable();
        }
    };
    let targets: Vec<String> = integrations
        .iter()
        .filter_map(|i| i.config.authorization_url.as_ref())
        .map(|url| latchkey_domain::origin_of(&url.url()))
        .collect();
    let page = List {
        session_id: session.id.to_string(),
        csrf: csrf_token(cookie),
        integrations: integrations
            .into_iter()
            .map(|i| {
                let id = i.id.to_string();
                let client_id = refill
                    .as_ref()
                    .filter(|r| r.integration_id == id)
                    .map(|r| r.client_id.to_owned())
                    .unwrap_or_default();
                Offered {
                    id,
                    name: i.config.name.as_str().to_owned(),
                    description: i.config.description.clone(),
                    kind: match i.config.grant_type {
                        latchkey_domain::GrantType::AuthorizationCode => "code",
                        latchkey_domain::GrantType::ClientCredentials => "credentials",
                        latchkey_domain::GrantType::Password => "password",
                    },
                    client_id,
                }
            })
            .collect(),
        error,
    };
    guarded(html(status, page.render()), &targets)
}

async fn session_page(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(session): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !state.allow(peer) {
        return too_many();
    }
    match owned(&state, &session, &headers).await {
        Ok((session, cookie)) => list_page(&state, &session, &cookie, StatusCode::OK, None).await,
        Err(page) => page,
    }
}

fn csrf_matches(form: &str, cookie: &str) -> bool {
    latchkey_domain::session::same_digest(form, &csrf_token(cookie))
}

fn expired_form() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "Go back, reload the page and choose again.",
    )
}

#[derive(Deserialize)]
struct CredentialsForm {
    csrf: String,
    integration_id: String,
    /// The client ID (client credentials) or the username (password).
    #[serde(default)]
    client_id: String,
    /// The client secret or the password.
    #[serde(default)]
    client_secret: String,
}

/// The customer's own client ID and secret (client credentials) or username and password
/// (password grant): checked with the provider at once; a refused pair is shown the provider's
/// answer and stores nothing; the secret is never shown back.
async fn credentials(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(session): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    if !state.allow(peer) {
        return too_many();
    }
    let (session, cookie) = match owned(&state, &session, &headers).await {
        Ok(owned) => owned,
        Err(page) => return page,
    };
    if !csrf_matches(&form.csrf, &cookie) {
        return expired_form();
    }
    let secret = secrecy::SecretString::from(form.client_secret);
    let login = form.client_id.trim().to_owned();
    let refill = Refill {
        integration_id: &form.integration_id,
        client_id: &login,
    };
    let integration = match IntegrationId::parse_field(&form.integration_id, "integration_id") {
        Ok(id) => state
            .connections
            .session_integrations(&session)
            .await
            .ok()
            .and_then(|all| all.into_iter().find(|i| i.id == id)),
        Err(_) => None,
    };
    let password = integration
        .as_ref()
        .is_some_and(|i| i.config.grant_type == latchkey_domain::GrantType::Password);
    let problem = match (
        &integration,
        login.is_empty(),
        secret.expose_secret().is_empty(),
    ) {
        (None, _, _) => Some("Choose one of the services listed."),
        (_, true, _) if password => Some("Enter your username."),
        (_, true, _) => Some("Enter the client ID."),
        (_, _, true) if password => Some("Enter your password."),
        (_, _, true) => Some("Enter the client secret."),
        (Some(_), false, false) => None,
    };
    let (Some(integration), None) = (integration, problem) else {
        let problem = problem.unwrap_or_default().to_owned();
        return list_page_with(
            &state,
            &session,
            &cookie,
            StatusCode::BAD_REQUEST,
            Some(problem),
            Some(refill),
        )
        .await;
    };
    let connected = if password {
        state
            .connections
            .connect_from_session_password(&session, integration.id, login.clone(), secret)
            .await
    } else {
        state
            .connections
            .connect_from_session_credentials(&session, integration.id, login.clone(), secret)
            .await
    };
    match connected {
        Ok(connection) => result_page(
            session.id,
            &connection.id.to_string(),
            None,
            session.return_url.as_deref(),
        ),
        Err(e) => {
            tracing::info!(session = %session.id, error = %e, "connect session credentials refused");
            let error = format!("These credentials were not accepted: {e}.");
            list_page_with(
                &state,
                &session,
                &cookie,
                StatusCode::BAD_REQUEST,
                Some(error),
                Some(refill),
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
struct StartForm {
    csrf: String,
    integration_id: String,
}

/// "Connect to X": the authorization starts and the browser goes to the provider.
async fn start(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(session): Path<String>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Response {
    if !state.allow(peer) {
        return too_many();
    }
    let (session, cookie) = match owned(&state, &session, &headers).await {
        Ok(owned) => owned,
        Err(page) => return page,
    };
    if !csrf_matches(&form.csrf, &cookie) {
        return expired_form();
    }
    let Ok(integration_id) = IntegrationId::parse_field(&form.integration_id, "integration_id")
    else {
        let error = "Choose one of the services listed.".to_owned();
        return list_page(
            &state,
            &session,
            &cookie,
            StatusCode::BAD_REQUEST,
            Some(error),
        )
        .await;
    };
    match state
        .connections
        .start_from_session(&session, integration_id)
        .await
    {
        Ok(started) => {
            let origin = url::Url::parse(&started.authorization_url)
                .map(|u| latchkey_domain::origin_of(&u))
                .unwrap_or_default();
            let response = (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, started.authorization_url)],
            )
                .into_response();
            guarded(response, &[origin])
        }
        Err(e) => {
            tracing::info!(session = %session.id, error = %e, "a connect session could not start");
            let error = format!("This service cannot be connected now: {e}");
            list_page(
                &state,
                &session,
                &cookie,
                StatusCode::BAD_REQUEST,
                Some(error),
            )
            .await
        }
    }
}
