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
use std::collections::BTreeMap;

use latchkey_domain::integration::check_param_values;
use latchkey_domain::session::{self, Refusal};
use latchkey_domain::{ConnectSessionId, IntegrationConfig, IntegrationId};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::public_state::HttpState;

mod device;
mod look;
mod pages;

pub use look::{load_brand, middleware as look_middleware};
use pages::*;
pub use pages::{Failure, cookie_header, result_page};

pub fn routes(state: HttpState) -> axum::Router<HttpState> {
    axum::Router::new()
        .route("/connect/assets/connect.css", get(stylesheet))
        .route("/connect/assets/connect.js", get(script))
        .route("/connect/assets/theme.css", get(look::theme))
        .route("/connect/assets/logo", get(look::logo))
        .route("/connect/{token}", get(landing).post(open))
        .route("/connect/s/{session}", get(session_page))
        .route("/connect/s/{session}/start", post(start))
        .route("/connect/s/{session}/credentials", post(credentials))
        .route("/connect/s/{session}/device", post(device::start))
        .route(
            "/connect/s/{session}/device/{connection}",
            post(device::status),
        )
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            framing,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            look::middleware,
        ))
}

/// Sets the page's language and brand from the session (its appearance, its way back), when the
/// session can be read.
pub async fn refine_from_session(state: &HttpState, id: ConnectSessionId) {
    if let Ok(Some(session)) = state.connections.connect_session(id).await {
        look::refine(session.appearance.as_ref(), session.return_url.as_deref());
    }
}

/// A link refused after its secret matched (used, expired, finished): the page in the session's
/// language, with the way back to the platform.
async fn refused_link(state: &HttpState, token: &str, refusal: Refusal) -> Response {
    if refusal != Refusal::Unknown
        && let Some(id) = session_of(token)
    {
        refine_from_session(state, id).await;
    }
    refused(refusal)
}

/// The session a link's token names (`<session id>.<secret>`), before its secret is checked.
fn session_of(token: &str) -> Option<ConnectSessionId> {
    let id = token.split('.').next()?;
    ConnectSessionId::parse_field(id, "session").ok()
}

/// The link, as a browser, a preview or a mail scanner first fetches it: a page with a Continue
/// button; nothing is spent.
async fn landing(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
) -> Response {
    if !state.allow(peer) {
        return too_many();
    }
    match state.connections.peek_connect_session(&token).await {
        Ok(Ok(())) => {
            if let Some(id) = session_of(&token) {
                refine_from_session(&state, id).await;
            }
            let page = Open {
                look: look::current(),
                token: &token,
            };
            guarded(html(StatusCode::OK, page.render()), &[])
        }
        Ok(Err(refusal)) => refused_link(&state, &token, refusal).await,
        Err(e) => {
            tracing::warn!(error = %e, "reading a connect session failed");
            unavailable()
        }
    }
}

/// Continue, clicked: the link is spent, once. The browser gets the cookie that owns the session
/// and goes to its page.
async fn open(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !state.allow(peer) {
        return too_many();
    }
    if !same_origin(&state, &headers) {
        return expired_form();
    }
    let opened = match state.connections.open_connect_session(&token).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(refusal)) => return refused_link(&state, &token, refusal).await,
        Err(e) => {
            tracing::warn!(error = %e, "opening a connect session failed");
            return unavailable();
        }
    };
    let secure = state.connections.public_https();
    // Path=/: the provider sends the browser back to /oauth/callback, which checks it too.
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
        state.connections.cookie_name(opened.id),
        opened.cookie.expose_secret(),
        if secure { "; Secure" } else { "" }
    );
    crate::metrics::count_connect_page("opened");
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
    let Some(cookie) = cookie_of(&state.connections, headers, id) else {
        return Err(refused(Refusal::Unknown));
    };
    match state.connections.owned_connect_session(id, &cookie).await {
        Ok(Ok(session)) => {
            look::refine(session.appearance.as_ref(), session.return_url.as_deref());
            Ok((session, cookie))
        }
        Ok(Err(refusal)) => {
            if refusal != Refusal::Unknown {
                refine_from_session(state, id).await;
            }
            Err(refused(refusal))
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading a connect session failed");
            Err(unavailable())
        }
    }
}

/// What a refused form had, to show again: the integration, the client ID and the connection
/// parameters it was for (never the secret).
struct Refill<'a> {
    integration_id: &'a str,
    client_id: &'a str,
    params: &'a [(String, String)],
}

/// The connection parameters a form carries (`param.<name>` fields), trimmed.
fn form_params(fields: &BTreeMap<String, String>) -> Vec<(String, String)> {
    fields
        .iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix("param.")?;
            Some((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// What is wrong with the connection parameters of a form, in the page's words ("Shop name:
/// must be set."), before anything is sent anywhere.
fn params_problem(config: &IntegrationConfig, given: &[(String, String)]) -> Option<String> {
    let given: Vec<(String, String)> = given
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .cloned()
        .collect();
    let errors = check_param_values(
        &config.connect.connection_params,
        &given,
        "connection_params",
    )
    .and_then(|values| config.check_param_hosts(&values))
    .err()?;
    let lines: Vec<String> = errors
        .0
        .iter()
        .map(|violation| {
            let name = violation
                .field
                .strip_prefix("connection_params.")
                .unwrap_or(&violation.field);
            let label = config
                .connect
                .connection_params
                .iter()
                .find(|p| p.name == name)
                .map(|p| param_label(p).to_owned())
                .unwrap_or_else(|| name.to_owned());
            format!("{label}: {}.", violation.reason)
        })
        .collect();
    Some(lines.join(" "))
}

/// The integration a form names, if the session offers it.
async fn offered(
    state: &HttpState,
    session: &session::State,
    integration_id: &str,
) -> Option<latchkey_domain::integration::State> {
    let id = IntegrationId::parse_field(integration_id, "integration_id").ok()?;
    state
        .connections
        .session_integrations(session)
        .await
        .ok()?
        .into_iter()
        .find(|i| i.id == id)
}

fn param_label(param: &latchkey_domain::integration::ConnectionParam) -> &str {
    if param.label.is_empty() {
        &param.name
    } else {
        &param.label
    }
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
        .filter_map(|i| i.config.endpoints.authorization_url.as_ref())
        .map(|url| url.csp_source())
        .collect();
    let reference = error.as_ref().map(|_| session.id.to_string());
    let page = List {
        look: look::current(),
        reference,
        session_id: session.id.to_string(),
        csrf: csrf_token(cookie),
        integrations: integrations
            .into_iter()
            .map(|i| {
                let id = i.id.to_string();
                let refilled = refill.as_ref().filter(|r| r.integration_id == id);
                let client_id = refilled.map(|r| r.client_id.to_owned()).unwrap_or_default();
                let params = i
                    .config
                    .connect
                    .connection_params
                    .iter()
                    .map(|p| OfferedParam {
                        name: p.name.clone(),
                        label: param_label(p).to_owned(),
                        description: p.description.clone(),
                        value: refilled
                            .and_then(|r| r.params.iter().find(|(n, _)| n == &p.name))
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default(),
                    })
                    .collect();
                Offered {
                    id,
                    mark: look::mark(i.config.name.as_str()),
                    name: i.config.name.as_str().to_owned(),
                    description: i.config.description.clone(),
                    kind: match i.config.grant_type {
                        latchkey_domain::GrantType::AuthorizationCode => "code",
                        latchkey_domain::GrantType::ClientCredentials => "credentials",
                        latchkey_domain::GrantType::Password => "password",
                        // Refused when the session is created (the platform connects those).
                        latchkey_domain::GrantType::JwtBearer => "service_account",
                        latchkey_domain::GrantType::DeviceCode => "device",
                        latchkey_domain::GrantType::TokenExchange => "exchange",
                    },
                    client_id,
                    params,
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

/// Whether a form comes from a page of this listener: its `Origin` names this host (or the public
/// URL's), or, where a browser sends no usable `Origin` (`null` under a no-referrer policy),
/// `Sec-Fetch-Site` says same-origin. A browser that sends neither is left to the form token.
fn same_origin(state: &HttpState, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = text("origin").filter(|o| *o != "null") {
        let public = url::Url::parse(state.connections.public_base())
            .map(|u| latchkey_domain::origin_of(&u))
            .unwrap_or_default();
        let authority = url::Url::parse(origin).ok().map(|u| match u.port() {
            Some(port) => format!("{}:{port}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_owned(),
        });
        return origin == public || (authority.is_some() && authority.as_deref() == text("host"));
    }
    match text("sec-fetch-site") {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

/// A form posted to a session's page: within the address's rate, from a page of this listener,
/// from the browser that owns the session, with the form token made for it; else the page that
/// says why not. The body is read only after the checks that need none of it.
async fn posted<F: serde::de::DeserializeOwned>(
    state: &HttpState,
    peer: SocketAddr,
    session: &str,
    request: axum::extract::Request,
    csrf: fn(&F) -> &str,
) -> Result<(session::State, String, F), Response> {
    use axum::extract::FromRequest as _;
    if !state.allow(peer) {
        return Err(too_many());
    }
    if !same_origin(state, request.headers()) {
        return Err(expired_form());
    }
    let (session, cookie) = owned(state, session, request.headers()).await?;
    let Form(form) = Form::<F>::from_request(request, state)
        .await
        .map_err(IntoResponse::into_response)?;
    if !csrf_matches(csrf(&form), &cookie) {
        return Err(expired_form());
    }
    Ok((session, cookie, form))
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
    /// The connection parameters, as `param.<name>`.
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}

fn form_csrf(form: &CredentialsForm) -> &str {
    &form.csrf
}

fn start_csrf(form: &StartForm) -> &str {
    &form.csrf
}

/// The customer's own client ID and secret (client credentials) or username and password
/// (password grant): checked with the provider at once; a refused pair is shown the provider's
/// answer and stores nothing; the secret is never shown back.
async fn credentials(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(session): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (session, cookie, form) = match posted(&state, peer, &session, request, form_csrf).await {
        Ok(owned) => owned,
        Err(page) => return page,
    };
    let secret = secrecy::SecretString::from(form.client_secret);
    let login = form.client_id.trim().to_owned();
    let params = form_params(&form.fields);
    let refill = Refill {
        integration_id: &form.integration_id,
        client_id: &login,
        params: &params,
    };
    let integration = offered(&state, &session, &form.integration_id).await;
    let password = integration
        .as_ref()
        .is_some_and(|i| i.config.grant_type == latchkey_domain::GrantType::Password);
    let problem = match (
        &integration,
        login.is_empty(),
        secret.expose_secret().is_empty(),
    ) {
        (None, _, _) => Some("choose-service"),
        (_, true, _) if password => Some("enter-username"),
        (_, true, _) => Some("enter-client-id"),
        (_, _, true) if password => Some("enter-password"),
        (_, _, true) => Some("enter-client-secret"),
        (Some(_), false, false) => None,
    };
    let look = look::current();
    let problem = problem.map(|key| look.t(key)).or_else(|| {
        integration
            .as_ref()
            .and_then(|i| params_problem(&i.config, &params))
            .map(|problem| look.t1("error-details", "problem", &problem))
    });
    let (Some(integration), None) = (integration, &problem) else {
        let problem = problem.unwrap_or_default();
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
    let integration_name = integration.config.name.as_str().to_owned();
    let integration_id = integration.id;
    let connected = if password {
        state
            .connections
            .connect_from_session_password(
                &session,
                integration.id,
                login.clone(),
                secret,
                params.clone(),
            )
            .await
    } else {
        state
            .connections
            .connect_from_session_credentials(
                &session,
                integration.id,
                login.clone(),
                secret,
                params.clone(),
            )
            .await
    };
    crate::metrics::count_connect_page(if connected.is_ok() {
        "connected"
    } else {
        "failed"
    });
    match connected {
        Ok(connection) => result_page(
            session.id,
            &connection.id.to_string(),
            None,
            session.return_url.as_deref(),
        ),
        Err(e) => {
            tracing::info!(session = %session.id, error = %e, "connect session credentials refused");
            let code = customer_code(&e);
            state
                .connections
                .record_session_failure(session.id, Some(integration_id), None, &code)
                .await;
            let error = look::current().t2(
                "error-credentials",
                "name",
                &integration_name,
                "code",
                &code,
            );
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
    /// The connection parameters, as `param.<name>`.
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}

/// The integration a start form chose, its parameters checked; else the list again, saying what
/// is wrong and keeping what was typed.
async fn chosen(
    state: &HttpState,
    session: &session::State,
    cookie: &str,
    (integration_id, params): (&str, &[(String, String)]),
) -> Result<latchkey_domain::integration::State, Response> {
    let integration = offered(state, session, integration_id).await;
    let problem = match &integration {
        None => Some("Choose one of the services listed.".to_owned()),
        Some(integration) => params_problem(&integration.config, params),
    };
    match (integration, problem) {
        (Some(integration), None) => Ok(integration),
        (_, problem) => {
            let refill = Refill {
                integration_id,
                client_id: "",
                params,
            };
            Err(list_page_with(
                state,
                session,
                cookie,
                StatusCode::BAD_REQUEST,
                problem,
                Some(refill),
            )
            .await)
        }
    }
}

/// "Connect to X": the authorization starts and the browser goes to the provider.
async fn start(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(session): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (session, cookie, form) = match posted(&state, peer, &session, request, start_csrf).await {
        Ok(owned) => owned,
        Err(page) => return page,
    };
    let params = form_params(&form.fields);
    let integration = match chosen(&state, &session, &cookie, (&form.integration_id, &params)).await
    {
        Ok(integration) => integration,
        Err(page) => return page,
    };
    match state
        .connections
        .start_from_session(&session, integration.id, params.clone())
        .await
    {
        Ok(started) => {
            crate::metrics::count_connect_page("redirected");
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
            crate::metrics::count_connect_page("failed");
            state
                .connections
                .record_session_failure(session.id, Some(integration.id), None, &customer_code(&e))
                .await;
            let error = look::current().t1("error-start", "name", integration.config.name.as_str());
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

/// The code a customer (and support) is told for a refused attempt: the provider's OAuth error
/// when the refusal names one (`invalid_client`), else what kind of refusal it was.
pub(super) fn customer_code(error: &crate::error::AppError) -> String {
    const OAUTH: [&str; 8] = [
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "invalid_scope",
        "invalid_request",
        "access_denied",
        "temporarily_unavailable",
        "server_error",
    ];
    let text = error.to_string();
    if let Some(code) = OAUTH.iter().find(|code| text.contains(*code)) {
        return (*code).to_owned();
    }
    match error {
        crate::error::AppError::Unavailable(_) => "unavailable",
        crate::error::AppError::Invalid(_) => "invalid_request",
        _ => "refused",
    }
    .to_owned()
}
