//! `GetTokenRequest.dpop` on the wire: the request a worker is about to make, checked.

use latchkey_domain::{FieldViolation, ValidationErrors};
use latchkey_proto::v1 as pb;

use crate::connections::ProofRequest;

/// The request named, when one is: an HTTP method and an absolute http(s) URL.
pub(super) fn proof_request(
    dpop: Option<pb::DpopRequest>,
    errors: &mut ValidationErrors,
) -> Option<ProofRequest> {
    let dpop = dpop?;
    let method_ok = !dpop.method.is_empty()
        && dpop.method.len() <= 16
        && dpop.method.bytes().all(|b| b.is_ascii_alphabetic());
    if !method_ok {
        errors.push(FieldViolation::new(
            "dpop.method",
            "must be an HTTP method such as GET",
        ));
    }
    let url = url::Url::parse(&dpop.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
    if url.is_none() {
        errors.push(FieldViolation::new(
            "dpop.url",
            "must be an absolute http(s) URL",
        ));
    }
    if dpop.nonce.len() > 512 || dpop.nonce.chars().any(char::is_control) {
        errors.push(FieldViolation::new(
            "dpop.nonce",
            "must be at most 512 characters, without control characters",
        ));
    }
    Some(ProofRequest {
        method: dpop.method.to_ascii_uppercase(),
        url: url?,
        nonce: (!dpop.nonce.is_empty()).then_some(dpop.nonce),
    })
}
