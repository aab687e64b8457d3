//! The refusals the connection use cases share, each with its stable reason: a connection that
//! needs the customer again, one that has no token where it stands, one deleted, a token that
//! cannot last what was asked, a refresh interrupted or in backoff. Kinds, not transport codes:
//! `api::status` maps them.

use chrono::{DateTime, Duration, Utc};
use latchkey_domain::{ConnectionId, connection};

use crate::error::{AppError, ErrorKind};

/// A connection that needs the customer to authorize again, with the reason the connection
/// recorded (`invalid_grant`, `refresh_interrupted`, `refresh_failing`…) in `detail`.
pub(super) fn reauthorization_required(state: &connection::State, detail: String) -> AppError {
    let id = state.id;
    let error = AppError::explained(
        ErrorKind::FailedPrecondition,
        "REAUTHORIZATION_REQUIRED",
        format!("connection {id} needs the customer to authorize again{detail}"),
    )
    .about("connection_id", id);
    match &state.last_error {
        Some(last) => error.about("error", &last.code),
        None => error,
    }
}

/// A refresh the provider refused in a way that cost the grant (`invalid_grant`, or failures past
/// the integration's horizon): the caller is told the connection needs its customer, as every
/// later call is, with the provider's answer.
pub(super) fn refused_for_good(
    id: ConnectionId,
    code: &str,
    error: &impl std::fmt::Display,
) -> AppError {
    AppError::explained(
        ErrorKind::FailedPrecondition,
        "REAUTHORIZATION_REQUIRED",
        format!("connection {id} needs the customer to authorize again: {code} ({error})"),
    )
    .about("connection_id", id)
    .about("error", code)
}

/// [`reauthorization_required`] with what the connection recorded last (code and description).
pub(super) fn needs_customer(state: &connection::State) -> AppError {
    let reason = state
        .last_error
        .as_ref()
        .map(|e| {
            let description = e.description.as_ref().map(|d| format!(" ({d})"));
            format!(": {}{}", e.code, description.unwrap_or_default())
        })
        .unwrap_or_default();
    reauthorization_required(state, reason)
}

/// A refresh whose refresh token is in doubt and may not be sent again.
pub(super) fn refresh_interrupted(id: ConnectionId) -> AppError {
    AppError::explained(
        ErrorKind::FailedPrecondition,
        "REAUTHORIZATION_REQUIRED",
        format!("connection {id} needs the customer to authorize again: refresh_interrupted"),
    )
    .about("connection_id", id)
    .about("error", "refresh_interrupted")
}

/// The stable reason for a connection that has no token because of where it stands.
pub(super) fn status_reason(status: connection::Status) -> &'static str {
    use connection::Status::*;
    match status {
        Revoked => "REVOKED",
        Deleted => "DELETED",
        Pending => "PENDING_AUTHORIZATION",
        AuthorizationFailed => "AUTHORIZATION_FAILED",
        ReauthorizationRequired => "REAUTHORIZATION_REQUIRED",
        Expired => "EXPIRED",
        Active => "ACTIVE",
    }
}

/// A connection whose status does not allow `what` ("has no token to hand out", "cannot be
/// refreshed").
pub(super) fn not_now(id: ConnectionId, status: connection::Status, what: &str) -> AppError {
    AppError::explained(
        ErrorKind::FailedPrecondition,
        status_reason(status),
        format!("connection {id} is {} and {what}", status.as_str()),
    )
    .about("connection_id", id)
}

/// A deleted connection: answered as missing, with the reason.
pub(super) fn deleted(id: ConnectionId) -> AppError {
    AppError::explained(
        ErrorKind::NotFound,
        "DELETED",
        format!("connection {id} not found: it was deleted"),
    )
    .about("connection_id", id)
}

/// The provider's tokens, as the connection's last one lasted, do not last the `min_ttl` asked for.
pub(super) fn too_short(state: &connection::State, min_ttl: Duration) -> AppError {
    let lifetime = state
        .expires_at
        .zip(state.refreshed_at.or(state.authorized_at))
        .map(|(expires, issued)| {
            let millis = (expires - issued).num_milliseconds();
            format!(" ({}s)", (millis + 500) / 1000)
        })
        .unwrap_or_default();
    lifetime_too_short(state.id, &lifetime, min_ttl)
}

/// The provider's tokens do not last the `min_ttl` asked for (`lifetime`: " (40s)", or empty).
fn lifetime_too_short(id: ConnectionId, lifetime: &str, min_ttl: Duration) -> AppError {
    AppError::explained(
        ErrorKind::FailedPrecondition,
        "TOKEN_LIFETIME_TOO_SHORT",
        format!(
            "connection {id}'s provider issues tokens that last{lifetime} less than the {}s \
             asked for",
            min_ttl.num_seconds()
        ),
    )
    .about("connection_id", id)
}

/// A refresh in backoff after a failure (`code`, the provider's error): the next attempt is `at`.
pub(super) fn refresh_backoff(id: ConnectionId, code: &str, at: DateTime<Utc>) -> AppError {
    AppError::explained(
        ErrorKind::Unavailable,
        "REFRESH_BACKOFF",
        format!("refreshing connection {id} failed ({code}); the next attempt is at {at}"),
    )
    .about("connection_id", id)
    .about("error", code)
    .retry_at(Some(at))
}
