//! The client authentication section on the wire.

use latchkey_domain::integration::{ClientAuthentication, ClientAuthenticationInput};
use latchkey_domain::{ClientAuthMethod, FieldViolation, TokenRequestFormat, ValidationErrors};
use latchkey_proto::v1 as pb;

/// An enum value never seen is reported here, under `config.client_auth`.
pub(super) fn input(
    c: &pb::IntegrationConfig,
    errors: &mut ValidationErrors,
) -> ClientAuthenticationInput {
    let client_auth = match pb::ClientAuthMethod::try_from(c.client_auth) {
        Ok(pb::ClientAuthMethod::Unspecified) => "",
        Ok(pb::ClientAuthMethod::BasicHeader) => "basic_header",
        Ok(pb::ClientAuthMethod::RequestBody) => "request_body",
        Ok(pb::ClientAuthMethod::JsonBody) => "json_body",
        Ok(pb::ClientAuthMethod::PrivateKeyJwt) => "private_key_jwt",
        Ok(pb::ClientAuthMethod::TlsClientAuth) => "tls_client_auth",
        Ok(pb::ClientAuthMethod::SelfSignedTlsClientAuth) => "self_signed_tls_client_auth",
        Err(_) => {
            errors.push(FieldViolation::new(
                "config.client_auth",
                format!(
                    "{} is not a known client authentication method",
                    c.client_auth
                ),
            ));
            ""
        }
    };
    ClientAuthenticationInput {
        client_id: c.client_id.clone(),
        client_auth: client_auth.to_owned(),
        token_request_format: c.token_request_format.clone(),
        client_assertion_algorithm: c.client_assertion_algorithm.clone(),
        client_assertion_audience: c.client_assertion_audience.clone(),
    }
}

pub(super) fn fill(p: &ClientAuthentication, c: &mut pb::IntegrationConfig) {
    c.client_id = p.client_id.as_str().to_owned();
    c.client_auth = match p.client_auth {
        ClientAuthMethod::BasicHeader => pb::ClientAuthMethod::BasicHeader,
        ClientAuthMethod::RequestBody => pb::ClientAuthMethod::RequestBody,
        ClientAuthMethod::JsonBody => pb::ClientAuthMethod::JsonBody,
        ClientAuthMethod::PrivateKeyJwt => pb::ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::TlsClientAuth => pb::ClientAuthMethod::TlsClientAuth,
        ClientAuthMethod::SelfSignedTlsClientAuth => pb::ClientAuthMethod::SelfSignedTlsClientAuth,
    } as i32;
    if let Some(assertion) = &p.client_assertion {
        c.client_assertion_algorithm
            .clone_from(&assertion.algorithm);
        c.client_assertion_audience = assertion
            .audience
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
    }
    c.token_request_format = match p.token_request_format {
        TokenRequestFormat::Form => "form",
        TokenRequestFormat::Json => "json",
    }
    .to_owned();
}
