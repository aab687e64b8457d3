//! The one mapping of the application's errors to gRPC: a status code per kind, and for every
//! `FAILED_PRECONDITION`, `UNAVAILABLE`, `ABORTED` and `NOT_FOUND` a `google.rpc.ErrorInfo` with a
//! stable reason (and `UNAVAILABLE` with a known next attempt `google.rpc.RetryInfo`), so callers
//! branch on codes, not prose.

use std::collections::HashMap;

use chrono::Utc;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::{AppError, ERROR_DOMAIN, ErrorKind, Explained};

/// The gRPC code of a kind of refusal.
pub fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::Invalid => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::Conflict => Code::Aborted,
        ErrorKind::Unimplemented => Code::Unimplemented,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::Exhausted => Code::ResourceExhausted,
        ErrorKind::Internal => Code::Internal,
    }
}

impl From<AppError> for Status {
    fn from(value: AppError) -> Self {
        let (code, message, reason, metadata, retry_at) = match value {
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
            AppError::NotFound(what) => (
                Code::NotFound,
                format!("{what} not found"),
                "NOT_FOUND",
                Vec::new(),
                None,
            ),
            AppError::AlreadyExists(m) => return Status::new(Code::AlreadyExists, m),
            AppError::FailedPrecondition(m) => (
                Code::FailedPrecondition,
                m,
                "FAILED_PRECONDITION",
                Vec::new(),
                None,
            ),
            AppError::Conflict(m) => (Code::Aborted, m, "VERSION_CONFLICT", Vec::new(), None),
            AppError::Unimplemented(m) => return Status::new(Code::Unimplemented, m),
            AppError::Unavailable(m) => (Code::Unavailable, m, "UNAVAILABLE", Vec::new(), None),
            AppError::PermissionDenied(m) => return Status::new(Code::PermissionDenied, m),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                return Status::new(Code::Internal, "internal error");
            }
            AppError::Explained(explained) => {
                let Explained {
                    kind,
                    reason,
                    message,
                    metadata,
                    retry_at,
                } = *explained;
                (code(kind), message, reason, metadata, retry_at)
            }
        };
        let metadata: HashMap<String, String> = metadata
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata);
        if let Some(at) = retry_at {
            let delay = (at - Utc::now()).to_std().unwrap_or_default();
            details.set_retry_info(Some(delay));
        }
        Status::with_error_details(code, message, details)
    }
}
