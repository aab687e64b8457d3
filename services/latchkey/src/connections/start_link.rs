//! The start link of an authorization the API started with Latchkey's hosted callback:
//! `StartAuthorization` answers `<public URL>/oauth/start/<state>` instead of the provider's URL.
//! The first browser to open it gets a cookie and is sent on to the provider; the callback then
//! completes only in that browser, so an authorization URL forwarded to someone else (or a
//! provider's page opened in another browser) connects nothing. A `HEAD` binds nothing.

use chrono::Utc;
use latchkey_domain::connection::{self, PendingAuthorization};
use latchkey_domain::{ConnectionId, DomainError};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::Connections;
use super::oauth_state::{state_digest, unknown_state, well_formed};
use crate::error::AppError;

/// The provider's authorization URL without its `state`: what the log may keep.
pub(super) fn without_state(url: &Url) -> String {
    let mut kept = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != "state")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    kept.query_pairs_mut().clear().extend_pairs(pairs);
    kept.into()
}

/// The provider's authorization URL with `state` back in it.
fn with_state(provider_url: &str, state: &str) -> Option<String> {
    let mut url = Url::parse(provider_url).ok()?;
    url.query_pairs_mut().append_pair("state", state);
    Some(url.into())
}

/// A start link opened: the browser's cookie (`<name>=<secret>` is set from it) and where it goes.
#[derive(Debug)]
pub struct OpenedAuthorization {
    pub connection_id: ConnectionId,
    pub cookie: SecretString,
    pub provider_url: String,
}

fn digest(secret: &str) -> String {
    latchkey_crypto::sha256_hex(secret.as_bytes())
}

fn already_opened() -> AppError {
    AppError::FailedPrecondition(
        "this authorization link was already opened in a browser; finish it there, or start \
         again"
            .to_owned(),
    )
}

impl Connections {
    /// The cookie that binds an authorization to the browser that opened its start link.
    pub fn authorization_cookie_name(&self, id: ConnectionId) -> String {
        let prefix = if self.public_https() { "__Host-" } else { "" };
        format!("{prefix}lk_auth_{}", id.as_uuid().simple())
    }

    /// Opens a start link: once, while its authorization waits. The browser that opens it owns
    /// the authorization; of two at the same moment one wins (the append names the version).
    pub async fn open_authorization(&self, state: &str) -> Result<OpenedAuthorization, AppError> {
        if !well_formed(state) {
            return Err(unknown_state());
        }
        let found = self.store.connection_by_state(&state_digest(state)).await?;
        let Some(connection) = found else {
            return Err(unknown_state());
        };
        let Some(pending) = connection.pending_authorization.as_deref() else {
            return Err(unknown_state());
        };
        let Some(provider_url) = pending.provider_url.as_deref() else {
            return Err(unknown_state());
        };
        if pending.opened_by.is_some() {
            return Err(already_opened());
        }
        let provider_url = with_state(provider_url, state).ok_or_else(unknown_state)?;
        let provider_url = self
            .pushed_if_asked(&connection, pending, provider_url)
            .await?;
        let secret = latchkey_oauth::random_token();
        let opened = connection::decide(
            Some(&connection),
            connection::Command::OpenAuthorization {
                state_digest: state_digest(state),
                browser_digest: digest(secret.expose_secret()),
                now: Utc::now(),
            },
        )
        .map_err(|e| match e {
            DomainError::InvalidTransition(_) => unknown_state(),
            other => other.into(),
        })?;
        let caller = crate::callers::Caller::system("browser");
        match self
            .append_events_any(connection.id, connection.version, opened, &caller)
            .await
        {
            Ok(()) => Ok(OpenedAuthorization {
                connection_id: connection.id,
                cookie: secret,
                provider_url,
            }),
            Err(AppError::Conflict(_)) => Err(already_opened()),
            Err(e) => Err(e),
        }
    }

    /// `provider_url` pushed first when the connection's integration pushes its authorization
    /// requests (before the link counts as opened: a refusal leaves it to be opened again).
    async fn pushed_if_asked(
        &self,
        connection: &connection::State,
        pending: &PendingAuthorization,
        provider_url: String,
    ) -> Result<String, AppError> {
        let integration = self.integration_state(connection.integration_id).await?;
        if integration
            .config
            .endpoints
            .pushed_authorization_url
            .is_none()
        {
            return Ok(provider_url);
        }
        let values = pending.params.as_ref().unwrap_or(&connection.params);
        let config = super::configured(&integration.config, values)?;
        let url = Url::parse(&provider_url).map_err(|_| unknown_state())?;
        Ok(self.browser_url(&integration, &config, url).await?.into())
    }

    /// On the callback of an authorization bound by its start link: the browser must be the one
    /// that opened it.
    pub(super) fn check_authorization_browser(
        &self,
        id: ConnectionId,
        pending: &PendingAuthorization,
        cookies: Option<&str>,
    ) -> Result<(), AppError> {
        if pending.provider_url.is_none() {
            return Ok(());
        }
        let name = self.authorization_cookie_name(id);
        let cookie = cookies.and_then(|header| {
            header
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_owned())
        });
        let owner = pending.opened_by.as_deref().unwrap_or_default();
        match cookie {
            Some(secret) if latchkey_domain::session::same_digest(owner, &digest(&secret)) => {
                Ok(())
            }
            _ => Err(AppError::PermissionDenied(
                "this authorization was opened in another browser; finish it in the browser \
                 that opened its link"
                    .to_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_leaves_the_kept_url_and_comes_back_on_opening() {
        let url =
            Url::parse("https://idp.example/authorize?client_id=c&state=s3cr3t&scope=a+b").unwrap();
        let kept = without_state(&url);
        assert!(!kept.contains("s3cr3t"), "{kept}");
        assert!(
            kept.contains("client_id=c") && kept.contains("scope=a+b"),
            "{kept}"
        );
        let back = with_state(&kept, "s3cr3t").unwrap();
        let state = Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        assert_eq!(state.as_deref(), Some("s3cr3t"));
    }
}
