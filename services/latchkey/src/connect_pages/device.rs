//! A device-flow integration on a connect session's page (RFC 8628): "Connect to X with a code"
//! starts a device authorization and shows the code and the provider's verification link; "I have
//! approved it" shows the outcome once Latchkey's poller has it, or the code again. What the page
//! shows again comes back in its own form, which only this session's browser can post (the same
//! origin, cookie and form-token checks as every form here).

use std::net::SocketAddr;

use askama::Template as _;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use latchkey_domain::connection::Status;
use latchkey_domain::{ConnectionId, session};
use serde::Deserialize;

use super::pages::{DevicePage, Failure, csrf_token, guarded, html, result_page};
use super::{chosen, form_params, list_page, offered, posted};
use crate::public_state::HttpState;

#[derive(Deserialize)]
pub(super) struct DeviceForm {
    csrf: String,
    integration_id: String,
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    verification_uri: String,
    #[serde(default)]
    link: String,
    #[serde(default)]
    expires_at: String,
    /// The connection parameters, as `param.<name>`.
    #[serde(flatten)]
    fields: std::collections::BTreeMap<String, String>,
}

fn device_csrf(form: &DeviceForm) -> &str {
    &form.csrf
}

/// What the page shows, from the provider's answer or from its own form.
struct Shown<'a> {
    user_code: &'a str,
    verification_uri: &'a str,
    link: &'a str,
    expires_at: &'a str,
}

/// The link as a QR code (inline SVG, black on white, without the XML declaration), to scan with
/// a phone; `None` for a link too long to encode.
fn qr_svg(link: &str) -> Option<String> {
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(176, 176)
        .build();
    let start = svg.find("<svg")?;
    Some(svg[start..].to_owned())
}

fn device_page(
    session: &session::State,
    cookie: &str,
    (connection, integration_id, name): (&str, &str, &str),
    shown: &Shown<'_>,
    waiting: bool,
) -> Response {
    let page = DevicePage {
        look: super::look::current(),
        session_id: session.id.to_string(),
        connection_id: connection.to_owned(),
        integration_id: integration_id.to_owned(),
        csrf: csrf_token(cookie),
        name,
        user_code: shown.user_code,
        verification_uri: shown.verification_uri,
        link: shown.link,
        expires_at: shown.expires_at,
        qr: qr_svg(shown.link),
        waiting,
    };
    guarded(html(StatusCode::OK, page.render()), &[])
}

/// "Connect to X with a code".
pub(super) async fn start(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(session): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (session, cookie, form) = match posted(&state, peer, &session, request, device_csrf).await {
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
        .start_device_from_session(&session, integration.id, params)
        .await
    {
        Ok(started) => {
            let expires_at = started.expires_at.format("%H:%M UTC").to_string();
            let link = started
                .verification_uri_complete
                .as_deref()
                .unwrap_or(&started.verification_uri);
            let shown = Shown {
                user_code: &started.user_code,
                verification_uri: &started.verification_uri,
                link,
                expires_at: &expires_at,
            };
            let ids = (
                started.connection_id.to_string(),
                integration.id.to_string(),
            );
            let name = integration.config.name.as_str();
            device_page(&session, &cookie, (&ids.0, &ids.1, name), &shown, false)
        }
        Err(e) => {
            tracing::info!(session = %session.id, error = %e, "a connect session's device authorization could not start");
            state
                .connections
                .record_session_failure(
                    session.id,
                    Some(integration.id),
                    None,
                    &super::customer_code(&e),
                )
                .await;
            let error =
                super::look::current().t1("error-start", "name", integration.config.name.as_str());
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

/// "I have approved it": the outcome, or the code again while the customer has not decided.
pub(super) async fn status(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((session, connection)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Response {
    let (session, cookie, form) = match posted(&state, peer, &session, request, device_csrf).await {
        Ok(owned) => owned,
        Err(page) => return page,
    };
    let found = match ConnectionId::parse_field(&connection, "connection") {
        Ok(id) => state.connections.session_connection(&session, id).await,
        Err(e) => Err(e.into()),
    };
    let Ok(found) = found else {
        return list_page(
            &state,
            &session,
            &cookie,
            StatusCode::NOT_FOUND,
            Some("That connection was not started here.".to_owned()),
        )
        .await;
    };
    let id = found.id.to_string();
    match found.status {
        Status::Pending => {
            let name = offered(&state, &session, &form.integration_id)
                .await
                .map(|i| i.config.name.as_str().to_owned())
                .unwrap_or_else(|| "the service".to_owned());
            let shown = Shown {
                user_code: &form.user_code,
                verification_uri: &form.verification_uri,
                link: &form.link,
                expires_at: &form.expires_at,
            };
            device_page(
                &session,
                &cookie,
                (&id, &form.integration_id, &name),
                &shown,
                true,
            )
        }
        Status::Active => result_page(session.id, &id, None, session.return_url.as_deref()),
        _ => {
            let code = found
                .last_error
                .as_ref()
                .map_or("incomplete", |e| e.code.as_str());
            state
                .connections
                .record_session_failure(
                    session.id,
                    Some(found.integration_id),
                    Some(found.id),
                    code,
                )
                .await;
            result_page(
                session.id,
                &id,
                Some(Failure { code }),
                session.return_url.as_deref(),
            )
        }
    }
}
