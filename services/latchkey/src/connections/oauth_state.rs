//! The one-time `state` of an authorization: its shape, the digest the log keeps instead of it,
//! and the refusal of one that names nothing waiting.

use crate::error::AppError;

/// A `state` Latchkey could have issued (43 URL-safe characters): anything else is refused
/// before any lookup.
pub(super) fn well_formed(state: &str) -> bool {
    (16..=128).contains(&state.len())
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A callback whose `state` names no pending authorization: nothing changes.
pub(super) fn unknown_state() -> AppError {
    AppError::from(latchkey_domain::FieldViolation::new(
        "state",
        "is unknown, expired or already used; start the authorization again",
    ))
}

/// A digest of the one-time `state`: what the log keeps, so the log never holds the state itself.
pub(super) fn state_digest(state: &str) -> String {
    latchkey_crypto::sha256_hex(state.as_bytes())
}
