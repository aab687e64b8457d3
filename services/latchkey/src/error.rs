//! The application's errors, in words of their own: what kind of refusal (`ErrorKind`), a stable
//! reason callers branch on (`REAUTHORIZATION_REQUIRED`, `REFRESH_BACKOFF`…), what it is about and
//! when to try again. No transport here: `api::status` maps them to gRPC codes and
//! `google.rpc.ErrorInfo`/`RetryInfo` in one place, `http` to the pages' statuses.

use chrono::{DateTime, Utc};
use latchkey_domain::{DomainError, ValidationErrors};
use latchkey_store::StoreError;

/// What kind of refusal an error is, whatever the transport that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    NotFound,
    AlreadyExists,
    /// The state of things does not allow it (a revoked connection, a token that cannot last).
    FailedPrecondition,
    /// Someone else changed the stream first.
    Conflict,
    Unimplemented,
    PermissionDenied,
    /// A provider or dependency is down or slow; worth retrying later.
    Unavailable,
    /// The caller is over a rate.
    Exhausted,
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("invalid argument: {0}")]
    Invalid(ValidationErrors),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    FailedPrecondition(String),
    /// A version conflict: someone else changed the stream first.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unimplemented(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// A provider or dependency is down or slow; worth retrying later.
    #[error("{0}")]
    Unavailable(String),
    /// Details are logged where the error is mapped; the caller gets a short message.
    #[error("internal error: {0}")]
    Internal(String),
    /// A refusal with a stable reason callers branch on.
    #[error("{}", .0.message)]
    Explained(Box<Explained>),
}

/// The `google.rpc.ErrorInfo` domain of Latchkey's reasons.
pub const ERROR_DOMAIN: &str = "latchkey.dev";

/// A refusal with its code, a stable reason (`REAUTHORIZATION_REQUIRED`, `REFRESH_BACKOFF`…),
/// what it is about (metadata) and, when known, when to try again.
#[derive(Debug, Clone)]
pub struct Explained {
    pub kind: ErrorKind,
    pub reason: &'static str,
    pub message: String,
    pub metadata: Vec<(&'static str, String)>,
    pub retry_at: Option<DateTime<Utc>>,
}

impl AppError {
    /// A refusal with a stable reason.
    pub fn explained(kind: ErrorKind, reason: &'static str, message: impl Into<String>) -> Self {
        Self::Explained(Box::new(Explained {
            kind,
            reason,
            message: message.into(),
            metadata: Vec::new(),
            retry_at: None,
        }))
    }

    /// Adds what the refusal is about (a connection id, the provider's error code).
    #[must_use]
    pub fn about(mut self, key: &'static str, value: impl ToString) -> Self {
        if let Self::Explained(explained) = &mut self {
            explained.metadata.push((key, value.to_string()));
        }
        self
    }

    /// Adds when trying again makes sense.
    #[must_use]
    pub fn retry_at(mut self, at: Option<DateTime<Utc>>) -> Self {
        if let Self::Explained(explained) = &mut self {
            explained.retry_at = at;
        }
        self
    }

    /// What kind of refusal this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Self::FailedPrecondition(_) => ErrorKind::FailedPrecondition,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Unimplemented(_) => ErrorKind::Unimplemented,
            Self::PermissionDenied(_) => ErrorKind::PermissionDenied,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Internal(_) => ErrorKind::Internal,
            Self::Explained(explained) => explained.kind,
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(value: ValidationErrors) -> Self {
        Self::Invalid(value)
    }
}

impl From<latchkey_domain::FieldViolation> for AppError {
    fn from(value: latchkey_domain::FieldViolation) -> Self {
        Self::Invalid(value.into())
    }
}

impl From<DomainError> for AppError {
    fn from(value: DomainError) -> Self {
        match value {
            DomainError::InvalidTransition(m) => Self::FailedPrecondition(m),
            DomainError::NotFound(what) => Self::NotFound(what),
            DomainError::AlreadyExists(what) => {
                Self::AlreadyExists(format!("{what} already exists"))
            }
            DomainError::Invalid(errors) => Self::Invalid(errors),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(value: StoreError) -> Self {
        match value {
            StoreError::Conflict { .. } => Self::Conflict(value.to_string()),
            StoreError::DuplicateName(_) => Self::AlreadyExists(value.to_string()),
            // The database is unreachable, overloaded or restarting: worth retrying.
            StoreError::Database(ref e)
                if matches!(
                    e,
                    sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
                ) || e
                    .as_database_error()
                    .and_then(|d| d.code())
                    .is_some_and(|code| code.starts_with("53") || code.starts_with("57P")) =>
            {
                tracing::warn!(error = %value, "database unavailable");
                Self::Unavailable("the database is unavailable; try again".to_owned())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<latchkey_crypto::CryptoError> for AppError {
    fn from(value: latchkey_crypto::CryptoError) -> Self {
        Self::Internal(value.to_string())
    }
}

impl From<latchkey_oauth::OAuthError> for AppError {
    /// Provider trouble that may pass (5xx, 429, timeouts, network) is UNAVAILABLE
    /// (`PROVIDER_UNAVAILABLE`, with the provider's `Retry-After`); a refusal (bad configuration,
    /// `invalid_client`, a refused address) is FAILED_PRECONDITION (`PROVIDER_REFUSED`).
    fn from(value: latchkey_oauth::OAuthError) -> Self {
        use latchkey_oauth::OAuthError::*;
        let message = value.to_string();
        let code = value.error_code().map(str::to_owned);
        let retry_at = match &value {
            Provider {
                retry_after: Some(after),
                ..
            } => {
                chrono::Duration::from_std((*after).min(std::time::Duration::from_secs(24 * 3600)))
                    .ok()
                    .map(|after| Utc::now() + after)
            }
            _ => None,
        };
        let unavailable = match value {
            Provider { status, .. } if status >= 500 || status == 429 => true,
            Timeout { .. } | Network { .. } => true,
            InvalidResponse { status, .. } if status >= 500 => true,
            Provider { .. } | InvalidResponse { .. } | Refused { .. } | InvalidIdToken { .. } => {
                false
            }
        };
        let error = if unavailable {
            Self::explained(ErrorKind::Unavailable, "PROVIDER_UNAVAILABLE", message)
                .retry_at(retry_at)
        } else {
            Self::explained(ErrorKind::FailedPrecondition, "PROVIDER_REFUSED", message)
        };
        match code {
            Some(code) => error.about("provider_error", code),
            None => error,
        }
    }
}
