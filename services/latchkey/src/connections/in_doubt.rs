//! A refresh token left in doubt (a send whose answer was lost) that the integration's reuse
//! setting forbids sending blindly: where the integration validates tokens by RFC 7662
//! introspection, the provider is asked about the refresh token itself (`token_type_hint =
//! refresh_token`). Still active: the lost send never rotated it, so it is sent (recorded as
//! `refresh_token_still_active`) and the customer keeps the grant. Not active: the connection asks
//! for the customer, saying so. No answer: it stays in doubt and the refresh is tried later. A
//! provider whose introspection does not know refresh tokens answers inactive, which is where the
//! connection was headed without asking.

use chrono::Utc;
use latchkey_crypto::Field;
use latchkey_domain::connection::refresh_token::{Interrupted, TokenState};
use latchkey_domain::{Sealed, TokenValidation, connection, integration};

use super::Connections;
use super::client::Client;
use super::refresh::Unprepared;
use crate::callers::Caller;
use crate::error::AppError;

/// The token state found, the held refresh token's digest and the sealed token, and why it may
/// not be sent blindly.
pub(super) type Doubt<'a> = (&'a TokenState, &'a str, &'a Sealed, Interrupted);

impl Connections {
    /// The token state to send with, if the provider says the token in doubt is still active.
    pub(super) async fn ask_about_doubt(
        &self,
        state: &connection::State,
        integration: &integration::State,
        client: &Client,
        (found, digest, sealed, interrupted): Doubt<'_>,
    ) -> Result<TokenState, Unprepared> {
        let Some(TokenValidation::Introspection { url }) = &integration.config.checks.validation
        else {
            return Err(Unprepared::Interrupted(interrupted.description));
        };
        let Some(sent_at) = found.sent().map(|sent| sent.since) else {
            return Err(Unprepared::Interrupted(interrupted.description));
        };
        let token = self
            .open_connection_secret(state.id, Field::RefreshToken, sealed)
            .await
            .map_err(Unprepared::Failed)?;
        let active = self
            .provider
            .introspect(&url.url(), &client.credentials(), &token, "refresh_token")
            .await
            .map_err(|e| {
                tracing::warn!(connection_id = %state.id, error = %e, "introspecting a refresh token in doubt failed; it stays in doubt");
                Unprepared::Failed(AppError::Unavailable(format!(
                    "connection {}'s refresh token is in doubt and the provider's introspection \
                     did not answer; try again",
                    state.id
                )))
            })?;
        let sending = found
            .introspected(digest, active, Utc::now())
            .map_err(|inactive| Unprepared::Interrupted(inactive.description))?;
        let caller = Caller::system("system:refresher");
        let events = connection::decide(
            Some(state),
            connection::Command::ConfirmRefreshToken { sent_at },
        )
        .map_err(|e| Unprepared::Failed(e.into()))?;
        self.append_events(state.id, state.version, events, &caller, Utc::now())
            .await
            .map_err(Unprepared::Failed)?;
        tracing::info!(connection_id = %state.id, "the refresh token in doubt is still active at the provider; sending it");
        Ok(sending)
    }
}
