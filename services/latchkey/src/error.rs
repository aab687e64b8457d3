//! The application's error kinds, and their one mapping to gRPC status codes.

use latchkey_domain::{DomainError, ValidationErrors};
use latchkey_store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
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
    /// Provider trouble that may pass (5xx, 429, timeouts, network) is UNAVAILABLE; a refusal
    /// (bad configuration, `invalid_client`, a refused address) is FAILED_PRECONDITION.
    fn from(value: latchkey_oauth::OAuthError) -> Self {
        use latchkey_oauth::OAuthError::*;
        let message = value.to_string();
        match value {
            Provider { status, .. } if status >= 500 || status == 429 => Self::Unavailable(message),
            Timeout { .. } | Network { .. } => Self::Unavailable(message),
            InvalidResponse { status, .. } if status >= 500 => Self::Unavailable(message),
            Provider { .. } | InvalidResponse { .. } | Refused { .. } | InvalidIdToken { .. } => {
                Self::FailedPrecondition(message)
            }
        }
    }
}

impl From<AppError> for Status {
    fn from(value: AppError) -> Self {
        let (code, message) = match value {
            AppError::Invalid(errors) => {
                // The message names every field for people; google.rpc.BadRequest does for code.
                let violations: Vec<_> = errors
                    .0
                    .iter()
                    .map(|v| tonic_types::FieldViolation::new(&v.field, &v.reason))
                    .collect();
                return Status::with_error_details(
                    Code::InvalidArgument,
                    errors.to_string(),
                    ErrorDetails::with_bad_request(violations),
                );
            }
            AppError::NotFound(what) => (Code::NotFound, format!("{what} not found")),
            AppError::AlreadyExists(m) => (Code::AlreadyExists, m),
            AppError::FailedPrecondition(m) => (Code::FailedPrecondition, m),
            AppError::Conflict(m) => (Code::Aborted, m),
            AppError::Unimplemented(m) => (Code::Unimplemented, m),
            AppError::Unavailable(m) => (Code::Unavailable, m),
            AppError::PermissionDenied(m) => (Code::PermissionDenied, m),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (Code::Internal, "internal error".to_owned())
            }
        };
        Status::new(code, message)
    }
}
