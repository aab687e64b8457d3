use std::time::Duration;

use latchkey_domain::connection::refresh::FailedAttempt;

/// What went wrong talking to a provider, with what the refresh logic needs to classify it: the
/// HTTP status, the OAuth error code and `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The destination is not allowed (scheme, or an address refused after resolution).
    #[error("provider URL {url} refused: {reason}")]
    Refused { url: String, reason: String },
    /// The provider answered with an OAuth error (RFC 6749 §5.2) or another HTTP error.
    #[error("provider answered HTTP {status}{}{}", .error.as_ref().map(|e| format!(" error={e}")).unwrap_or_default(), .description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider {
        status: u16,
        error: Option<String>,
        description: Option<String>,
        retry_after: Option<Duration>,
    },
    /// The provider's answer cannot be used (not JSON, no access token, too large…).
    #[error("provider response unusable (HTTP {status}): {reason}")]
    InvalidResponse { status: u16, reason: String },
    /// An ID token that does not hold up (signature, issuer, audience, expiry).
    #[error("ID token refused: {reason}")]
    InvalidIdToken { reason: String },
    /// `sent`: the request may have reached the provider (not a connect timeout).
    #[error("provider at {url} timed out")]
    Timeout { url: String, sent: bool },
    /// `sent`: the request may have reached the provider (not a failure to connect).
    #[error("provider at {url} unreachable: {reason}")]
    Network {
        url: String,
        reason: String,
        sent: bool,
    },
}

impl OAuthError {
    /// The OAuth error code, if the provider sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::Provider { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status, if the provider answered at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Provider { status, .. } | Self::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What this failure is to the refresh rules ([`latchkey_domain::connection::refresh`]).
    pub fn attempt(&self) -> FailedAttempt<'_> {
        match self {
            Self::Provider {
                status,
                error,
                retry_after,
                ..
            } => FailedAttempt::Answer {
                status: *status,
                error: error.as_deref(),
                // Clamped before converting: a provider's number never overflows a date.
                retry_after: retry_after
                    .map(|d| d.min(std::time::Duration::from_secs(366 * 24 * 3600)))
                    .and_then(|d| chrono::Duration::from_std(d).ok()),
            },
            Self::InvalidResponse { status, .. } => FailedAttempt::Unusable { status: *status },
            Self::InvalidIdToken { .. } => FailedAttempt::InvalidIdToken,
            Self::Timeout { sent, .. } => FailedAttempt::Timeout { sent: *sent },
            Self::Network { sent, .. } => FailedAttempt::Network { sent: *sent },
            Self::Refused { .. } => FailedAttempt::Refused,
        }
    }
}
