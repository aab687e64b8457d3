//! `ReportTokenRejected`'s input and verdict on the wire.

use latchkey_domain::ValidationErrors;
use latchkey_domain::{ConnectionId, FieldViolation};
use latchkey_proto::v1 as pb;
use pb::report_token_rejected_response::Verdict as PbVerdict;

use crate::connections::rejected::{Rejection, Verdict};

/// The longest provider error kept as given.
const MAX_PROVIDER_ERROR: usize = 1000;

impl TryFrom<pb::ReportTokenRejectedRequest> for Rejection {
    type Error = ValidationErrors;

    fn try_from(req: pb::ReportTokenRejectedRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        let http_status = match u16::try_from(req.http_status) {
            Ok(status @ 400..=599) => Some(status),
            _ => {
                errors.0.push(FieldViolation::new(
                    "http_status",
                    format!("{} is not an HTTP error status (400–599)", req.http_status),
                ));
                None
            }
        };
        if req.provider_error.chars().count() > MAX_PROVIDER_ERROR {
            errors.0.push(FieldViolation::new(
                "provider_error",
                format!("is longer than {MAX_PROVIDER_ERROR} characters"),
            ));
        }
        if req.token_version == 0 {
            errors.0.push(FieldViolation::new(
                "token_version",
                "is required: GetTokenResponse.version of the refused credential",
            ));
        }
        match (id, http_status) {
            (Some(id), Some(http_status)) if errors.is_empty() => Ok(Self {
                id,
                http_status,
                provider_error: Some(req.provider_error).filter(|e| !e.is_empty()),
                token_version: req.token_version,
            }),
            _ => Err(errors),
        }
    }
}

pub fn verdict_to_pb(verdict: Verdict) -> PbVerdict {
    match verdict {
        Verdict::Replaced => PbVerdict::Replaced,
        Verdict::Confirmed => PbVerdict::Confirmed,
        Verdict::NotConfirmed => PbVerdict::NotConfirmed,
        Verdict::Refreshed => PbVerdict::Refreshed,
    }
}
