//! Hosted connect sessions: a platform creates one for a customer and sends them the link; the
//! link is one-time, and opening it hands this browser a cookie that owns the session. Secrets
//! (the link's, the cookie's) are random, shown once, and stored as SHA-256 digests in the
//! session's events (`connect_session-<uuid>`).

use chrono::{DateTime, Utc};
use latchkey_domain::session::{self, Refusal};
use latchkey_domain::{
    ConnectSessionId, ConnectionId, EventMeta, FieldViolation, GrantType, IntegrationId, ParamMap,
    StreamId, TenantId,
};
use latchkey_store::{EventContext, Page};
use secrecy::{ExposeSecret, SecretString};

use super::Connections;
use crate::callers::Caller;
use crate::error::AppError;

/// The most integrations one session offers.
pub const MAX_SESSION_INTEGRATIONS: usize = 50;

/// What a platform asks for.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    pub tenant: TenantId,
    pub integration_ids: Vec<IntegrationId>,
    pub return_url: Option<url::Url>,
    pub connection_id: Option<ConnectionId>,
    pub ttl_secs: Option<u64>,
    pub profile: Option<latchkey_domain::connection::Profile>,
    /// How many connections it may make (`None`: one).
    pub max_connections: Option<u32>,
    /// Its language and face on the connect pages, checked.
    pub appearance: Option<latchkey_domain::session::Appearance>,
}

/// A created session: its link's token (shown once) and when it stops working.
#[derive(Debug)]
pub struct CreatedSession {
    pub id: ConnectSessionId,
    /// `<session id>.<secret>`: the last path segment of the connect URL.
    pub link_token: SecretString,
    pub expires_at: DateTime<Utc>,
}

/// An opened session and the cookie that now owns it (`<session id>.<secret>`).
#[derive(Debug)]
pub struct OpenedSession {
    pub id: ConnectSessionId,
    pub cookie: SecretString,
}

fn digest(secret: &str) -> String {
    latchkey_crypto::sha256_hex(secret.as_bytes())
}

/// Splits `<session id>.<secret>`; `None` for anything else (refused before any lookup).
fn split_token(token: &str) -> Option<(ConnectSessionId, &str)> {
    let (id, secret) = token.split_once('.')?;
    let well_formed = (32..=64).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return None;
    }
    Some((ConnectSessionId::parse_field(id, "session").ok()?, secret))
}

/// The session acting: its tenant's scope, its id as correlation id.
fn session_caller(state: &session::State) -> Caller {
    Caller {
        actor: format!("connect-session:{}", state.id),
        correlation_id: Some(state.id.to_string()),
        scope: crate::callers::Scope::Tenant(state.tenant.clone()),
    }
}

fn context(actor: &str, id: ConnectSessionId) -> EventContext {
    EventContext {
        correlation_id: Some(id.to_string()),
        ..EventContext::now(actor)
    }
}

impl Connections {
    /// `CreateConnectSession`: checks the tenant, the integrations (each usable by the caller,
    /// and by the tenant) and the return URL, then records the session.
    pub async fn create_connect_session(
        &self,
        caller: &Caller,
        request: SessionRequest,
    ) -> Result<CreatedSession, AppError> {
        let tenant = caller.acting_for(request.tenant)?;
        let lifetime = session::lifetime(request.ttl_secs)?;
        let max_connections = session::max_connections(request.max_connections)?;
        if request.integration_ids.is_empty() {
            return Err(
                FieldViolation::new("integration_ids", "name at least one integration").into(),
            );
        }
        if request.integration_ids.len() > MAX_SESSION_INTEGRATIONS {
            return Err(FieldViolation::new(
                "integration_ids",
                format!("at most {MAX_SESSION_INTEGRATIONS} integrations per session"),
            )
            .into());
        }
        let mut integrations = Vec::with_capacity(request.integration_ids.len());
        for (i, id) in request.integration_ids.iter().enumerate() {
            let integration = self.integration_for(caller, *id, &tenant).await?;
            if integration.config.grant_type == GrantType::Password
                && !integration.config.allow_password_grant
            {
                return Err(FieldViolation::new(
                    format!("integration_ids[{i}]"),
                    format!("integration {id} does not allow the password grant"),
                )
                .into());
            }
            if integration.config.grant_type == GrantType::JwtBearer {
                return Err(FieldViolation::new(
                    format!("integration_ids[{i}]"),
                    format!(
                        "integration {id} connects service accounts, which the platform does \
                         with ConnectServiceAccount, not a customer on a connect page"
                    ),
                )
                .into());
            }
            if integration.config.grant_type == GrantType::TokenExchange {
                return Err(FieldViolation::new(
                    format!("integration_ids[{i}]"),
                    format!(
                        "integration {id} derives connections from others' tokens \
                         (ConnectTokenExchange), which no customer does on a connect page"
                    ),
                )
                .into());
            }
            integrations.push(integration);
        }
        if let Some(url) = &request.return_url {
            let configs: Vec<_> = integrations.iter().map(|i| &i.config).collect();
            self.check_return_url(&configs, url)?;
        }
        if let Some(id) = request.connection_id {
            let connection = self.connection_state(id).await?;
            if connection.tenant != tenant {
                return Err(AppError::NotFound(format!("connection {id}")));
            }
            if !request.integration_ids.contains(&connection.integration_id) {
                return Err(FieldViolation::new(
                    "connection_id",
                    "its integration is not among integration_ids",
                )
                .into());
            }
        }
        let id = ConnectSessionId::new_v7();
        let secret = latchkey_oauth::random_token();
        let expires_at = Utc::now() + lifetime;
        let event = session::Event::ConnectSessionCreated {
            session_id: id,
            tenant,
            integration_ids: request.integration_ids,
            return_url: request.return_url.map(String::from),
            connection_id: request.connection_id,
            expires_at,
            link_digest: digest(secret.expose_secret()),
            profile: request.profile,
            max_connections,
            appearance: request.appearance,
        };
        self.store
            .append(
                StreamId::Session(id),
                0,
                vec![event.into()],
                &context(&caller.actor, id),
            )
            .await?;
        Ok(CreatedSession {
            id,
            link_token: SecretString::from(format!("{id}.{}", secret.expose_secret())),
            expires_at,
        })
    }

    /// A session as its events say, if it exists.
    pub async fn connect_session(
        &self,
        id: ConnectSessionId,
    ) -> Result<Option<session::State>, AppError> {
        let events = self
            .store
            .read_stream(StreamId::Session(id), 1, Page::MAX_LIMIT)
            .await?;
        let mut state = None;
        for recorded in &events {
            if let latchkey_domain::DomainEvent::Session(event) = recorded.event()? {
                let meta = EventMeta {
                    version: recorded.version,
                    occurred_at: recorded.occurred_at,
                };
                state = session::apply(state, &event, &meta);
            }
        }
        Ok(state)
    }

    /// Opening the link: once, before it expires. The browser gets the cookie that owns the
    /// session; a second opening (a forwarded link, a second tab) is refused, and of two at the
    /// same moment one wins (the append names the version it read).
    pub async fn open_connect_session(
        &self,
        link_token: &str,
    ) -> Result<Result<OpenedSession, Refusal>, AppError> {
        let Some((id, secret)) = split_token(link_token) else {
            return Ok(Err(Refusal::Unknown));
        };
        let state = self.connect_session(id).await?;
        let cookie_secret = latchkey_oauth::random_token();
        let opened = match session::open(
            state.as_ref(),
            &digest(secret),
            digest(cookie_secret.expose_secret()),
            Utc::now(),
        ) {
            Ok(event) => event,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let version = state.map(|s| s.version).unwrap_or_default();
        match self
            .store
            .append(
                StreamId::Session(id),
                version,
                vec![opened.into()],
                &context("browser", id),
            )
            .await
        {
            Ok(_) => Ok(Ok(OpenedSession {
                id,
                cookie: SecretString::from(format!("{id}.{}", cookie_secret.expose_secret())),
            })),
            Err(latchkey_store::StoreError::Conflict { .. }) => Ok(Err(Refusal::AlreadyUsed)),
            Err(e) => Err(e.into()),
        }
    }

    /// The session `cookie` owns, while it is live.
    pub async fn owned_connect_session(
        &self,
        id: ConnectSessionId,
        cookie: &str,
    ) -> Result<Result<session::State, Refusal>, AppError> {
        let Some((cookie_id, secret)) = split_token(cookie) else {
            return Ok(Err(Refusal::Unknown));
        };
        if cookie_id != id {
            return Ok(Err(Refusal::Unknown));
        }
        let Some(state) = self.connect_session(id).await? else {
            return Ok(Err(Refusal::Unknown));
        };
        // A session that made its connections is over for its browser too.
        Ok(session::owned_by(&state, &digest(secret), Utc::now())
            .and_then(|()| session::may_connect(&state))
            .map(|()| state))
    }

    /// The customer picked `integration_id` on the session's page: the authorization starts as
    /// the session's tenant, under the session's id as correlation id, and the browser goes to
    /// the provider. A session with a connection re-authorizes it.
    pub async fn start_from_session(
        &self,
        state: &session::State,
        integration_id: IntegrationId,
        params: Vec<(String, String)>,
    ) -> Result<super::authorize::Started, AppError> {
        if !state.integration_ids.contains(&integration_id) {
            return Err(AppError::NotFound(format!("integration {integration_id}")));
        }
        let caller = session_caller(state);
        let connection_id = match state.connection_id {
            Some(id) => match self.connection_state(id).await {
                Ok(c) if c.integration_id == integration_id => Some(id),
                _ => None,
            },
            None => None,
        };
        let request = super::authorize::StartRequest {
            integration_id,
            tenant: state.tenant.clone(),
            connection_id,
            scopes: None,
            extra: ParamMap::default(),
            return_url: state
                .return_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok()),
            profile: state.profile.clone(),
            connect_session: Some(state.id),
            params,
        };
        self.start_authorization(&caller, request).await
    }

    /// A device authorization started from a session's page: the code to show.
    pub async fn start_device_from_session(
        &self,
        state: &session::State,
        integration_id: IntegrationId,
        params: Vec<(String, String)>,
    ) -> Result<super::DeviceStarted, AppError> {
        if !state.integration_ids.contains(&integration_id) {
            return Err(AppError::NotFound(format!("integration {integration_id}")));
        }
        let request = super::StartDevice {
            integration_id,
            tenant: state.tenant.clone(),
            connection_id: None,
            scopes: None,
            profile: state.profile.clone(),
            params,
            connect_session: Some(state.id),
        };
        self.start_device_authorization(&session_caller(state), request)
            .await
    }

    /// A connection a session's page may show: started from it or made through it.
    pub async fn session_connection(
        &self,
        state: &session::State,
        id: ConnectionId,
    ) -> Result<latchkey_domain::connection::State, AppError> {
        let connection = self.connection_state(id).await?;
        let started_here = connection
            .pending_authorization
            .as_ref()
            .is_some_and(|p| p.connect_session == Some(state.id));
        if started_here || state.connected.contains(&id) {
            Ok(connection)
        } else {
            Err(AppError::NotFound(format!("connection {id}")))
        }
    }

    /// Whether the public listener is reached over https (`LATCHKEY_PUBLIC_URL`).
    pub fn public_https(&self) -> bool {
        self.public_base().starts_with("https://")
    }

    /// The cookie that carries a session's browser secret (one per session, so two sessions in
    /// one browser do not overwrite each other). On https it is a `__Host-` cookie: Secure, for
    /// this host alone, never set by a sibling subdomain.
    pub fn cookie_name(&self, id: ConnectSessionId) -> String {
        let prefix = if self.public_https() { "__Host-" } else { "" };
        format!("{prefix}lk_connect_{}", id.as_uuid().simple())
    }

    /// The value of the session's cookie in a `Cookie` header, if the browser sent it.
    pub fn cookie_in(&self, header: &str, id: ConnectSessionId) -> Option<String> {
        let name = self.cookie_name(id);
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// On the callback of an authorization started from `session`: the browser must be the one
    /// that opened the session's link (a forwarded authorization URL completes nowhere else).
    /// The session's expiry does not matter here: the customer may have been slow at the provider.
    pub(super) async fn check_session_browser(
        &self,
        session: ConnectSessionId,
        cookies: Option<&str>,
    ) -> Result<(), AppError> {
        let refused = || {
            AppError::PermissionDenied(
                "this authorization was started from a connect link opened in another browser; \
                 finish it in that browser"
                    .to_owned(),
            )
        };
        let cookie = cookies
            .and_then(|header| self.cookie_in(header, session))
            .ok_or_else(refused)?;
        let (cookie_id, secret) = split_token(&cookie).ok_or_else(refused)?;
        let state = self.connect_session(session).await?.ok_or_else(refused)?;
        let owner = state.browser_digest.as_deref().unwrap_or_default();
        if cookie_id != session || !session::same_digest(owner, &digest(secret)) {
            return Err(refused());
        }
        Ok(())
    }

    /// The customer pasted their own client ID and secret for `integration_id` (client
    /// credentials): the grant runs at once, as the session's tenant and under its id.
    pub async fn connect_from_session_credentials(
        &self,
        state: &session::State,
        integration_id: IntegrationId,
        client_id: String,
        client_secret: SecretString,
        params: Vec<(String, String)>,
    ) -> Result<latchkey_domain::connection::State, AppError> {
        if !state.integration_ids.contains(&integration_id) {
            return Err(AppError::NotFound(format!("integration {integration_id}")));
        }
        latchkey_domain::ClientId::parse_field(&client_id, "client_id")?;
        latchkey_domain::check_secret(client_secret.expose_secret(), "client_secret")?;
        let request = super::connect::ClientCredentialsRequest {
            integration_id,
            tenant: state.tenant.clone(),
            own_client: Some((client_id, client_secret)),
            scopes: None,
            extra: ParamMap::default(),
            profile: state.profile.clone(),
            params,
        };
        let connection = self
            .connect_client_credentials(&session_caller(state), request)
            .await?;
        self.record_session_connection(state.id, connection.id)
            .await;
        Ok(connection)
    }

    /// The customer typed their username and password for `integration_id` (the deprecated
    /// password grant, where the integration allows it): the grant runs at once.
    pub async fn connect_from_session_password(
        &self,
        state: &session::State,
        integration_id: IntegrationId,
        username: String,
        password: SecretString,
        params: Vec<(String, String)>,
    ) -> Result<latchkey_domain::connection::State, AppError> {
        if !state.integration_ids.contains(&integration_id) {
            return Err(AppError::NotFound(format!("integration {integration_id}")));
        }
        latchkey_domain::check_secret(password.expose_secret(), "password")?;
        let request = super::connect::PasswordRequest {
            integration_id,
            tenant: state.tenant.clone(),
            username,
            password,
            scopes: None,
            profile: state.profile.clone(),
            params,
        };
        let connection = self
            .connect_password(&session_caller(state), request)
            .await?;
        self.record_session_connection(state.id, connection.id)
            .await;
        Ok(connection)
    }

    /// Records that `connection` was made through `session` (once, however often the outcome is
    /// delivered): with its `max_connections`th, the session ends. A failure is logged; the
    /// connection stands.
    pub(super) async fn record_session_connection(
        &self,
        session: ConnectSessionId,
        connection: ConnectionId,
    ) {
        self.append_to_session(session, "connection", |state| {
            (!state.connected.contains(&connection)).then_some(
                session::Event::ConnectSessionConnected {
                    connection_id: connection,
                },
            )
        })
        .await;
    }

    /// Records a failed attempt on the session's pages, as the customer was told it (they were
    /// given the session's id as the reference), a connection's once. A failure to record is
    /// logged: the page shows.
    pub async fn record_session_failure(
        &self,
        session: ConnectSessionId,
        integration_id: Option<latchkey_domain::IntegrationId>,
        connection_id: Option<ConnectionId>,
        error: &str,
    ) {
        let event = session::Event::ConnectSessionFailed {
            integration_id,
            connection_id,
            error: session::failure_code(error),
        };
        // A connection's failure is recorded once, however often its page is shown.
        self.append_to_session(session, "failure", |state| {
            let seen = connection_id.is_some_and(|c| state.failed.contains(&c));
            (!seen).then(|| event.clone())
        })
        .await;
    }

    /// Appends what `event` makes of the session's current state (nothing: `None`), reading it
    /// again after a concurrent append, a few times at most.
    async fn append_to_session(
        &self,
        session: ConnectSessionId,
        what: &str,
        event: impl Fn(&session::State) -> Option<session::Event>,
    ) {
        for _ in 0..5 {
            let state = match self.connect_session(session).await {
                Ok(Some(state)) => state,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(%session, error = %e, "connect session: {what} not recorded");
                    return;
                }
            };
            let Some(event) = event(&state) else {
                return;
            };
            match self
                .store
                .append(
                    StreamId::Session(session),
                    state.version,
                    vec![event.into()],
                    &context(&format!("connect-session:{session}"), session),
                )
                .await
            {
                Ok(_) => return,
                Err(latchkey_store::StoreError::Conflict { .. }) => continue,
                Err(e) => {
                    tracing::warn!(%session, error = %e, "connect session: {what} not recorded");
                    return;
                }
            }
        }
    }

    /// Whether a link could be opened now, without opening it (the page before "Continue").
    pub async fn peek_connect_session(
        &self,
        link_token: &str,
    ) -> Result<Result<(), Refusal>, AppError> {
        let Some((id, secret)) = split_token(link_token) else {
            return Ok(Err(Refusal::Unknown));
        };
        let state = self.connect_session(id).await?;
        Ok(session::open(state.as_ref(), &digest(secret), String::new(), Utc::now()).map(|_| ()))
    }

    /// The integrations a session offers, as its tenant may use them now (deleted ones drop out).
    pub async fn session_integrations(
        &self,
        state: &session::State,
    ) -> Result<Vec<latchkey_domain::integration::State>, AppError> {
        let mut offered = Vec::with_capacity(state.integration_ids.len());
        for id in &state.integration_ids {
            if let Ok(integration) = self.integration_state(*id).await {
                offered.push(integration);
            }
        }
        Ok(offered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refused_by_their_shape_before_any_lookup() {
        let id = ConnectSessionId::new_v7();
        let secret = "a".repeat(43);
        assert_eq!(
            split_token(&format!("{id}.{secret}")).map(|t| t.0),
            Some(id)
        );
        for bad in [
            String::new(),
            format!("{id}"),
            format!("{id}.short"),
            format!("{id}.{}", "a".repeat(65)),
            format!("{id}.{}!", "a".repeat(42)),
            format!("nope.{secret}"),
        ] {
            assert!(split_token(&bad).is_none(), "{bad}");
        }
    }
}
