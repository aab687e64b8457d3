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
    #[error("provider at {url} timed out")]
    Timeout { url: String },
    #[error("provider at {url} unreachable: {reason}")]
    Network { url: String, reason: String },
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
                retry_after: retry_after.and_then(|d| chrono::Duration::from_std(d).ok()),
            },
            Self::InvalidResponse { .. } => FailedAttempt::Unusable,
            Self::InvalidIdToken { .. } => FailedAttempt::InvalidIdToken,
            Self::Timeout { .. } => FailedAttempt::Timeout,
            Self::Network { .. } => FailedAttempt::Network,
            Self::Refused { .. } => FailedAttempt::Refused,
        }
    }
}
