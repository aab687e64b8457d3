//! A gRPC status as HTTP/JSON answers it: the HTTP status of its code (as gRPC-gateway and
//! Google's APIs map them) and a `google.rpc.Status` JSON body with its details (`ErrorInfo`,
//! `RetryInfo`, `BadRequest`…) in canonical proto3 JSON; `Retry-After` from `RetryInfo`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use prost_reflect::{DescriptorPool, DynamicMessage, Value};
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

/// The HTTP status of a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The `google.rpc.Status` JSON of `status` (details included when it carries them).
pub fn json(status: &Status, pool: &DescriptorPool) -> Vec<u8> {
    let Some(descriptor) = pool.get_message_by_name("google.rpc.Status") else {
        return fallback(status);
    };
    let mut message = if status.details().is_empty() {
        DynamicMessage::new(descriptor)
    } else {
        DynamicMessage::decode(descriptor.clone(), status.details())
            .unwrap_or_else(|_| DynamicMessage::new(descriptor))
    };
    message.set_field_by_name("code", Value::I32(status.code() as i32));
    message.set_field_by_name("message", Value::String(status.message().to_owned()));
    serde_json::to_vec(&message).unwrap_or_else(|_| fallback(status))
}

/// Without the descriptors (never, short of a broken build): code and message alone.
fn fallback(status: &Status) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "code": status.code() as i32,
        "message": status.message(),
    }))
    .unwrap_or_default()
}

/// The HTTP answer of a failed call.
pub fn response(status: &Status, pool: &DescriptorPool) -> Response {
    let mut response = (
        http_status(status.code()),
        [(header::CONTENT_TYPE, "application/json")],
        json(status, pool),
    )
        .into_response();
    if let Some(delay) = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
    {
        // Whole seconds, rounded up: a caller that waits that long waits long enough.
        let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}
