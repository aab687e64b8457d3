//! The provider checks section on the wire (the proto keeps validation and account as messages
//! of their own, the rest flat).

use latchkey_domain::integration::{ProviderChecks, ProviderChecksInput};
use latchkey_domain::{AccountMapping, TokenValidation};
use latchkey_proto::v1 as pb;

pub(super) fn input(c: &pb::IntegrationConfig) -> ProviderChecksInput {
    let v = c.validation.clone().unwrap_or_default();
    let a = c.account.clone().unwrap_or_default();
    ProviderChecksInput {
        validation_kind: v.kind,
        validation_url: v.url,
        probe_method: v.method,
        probe_path: v.path,
        probe_status: v.expected_status,
        validation_interval_secs: c.validation_interval_secs,
        account_kind: a.kind,
        account_url: a.url,
        account_pointer: a.pointer,
        account_method: a.method,
        reauthorize_same_account: c.reauthorize_same_account,
    }
}

pub(super) fn fill(p: &ProviderChecks, c: &mut pb::IntegrationConfig) {
    c.validation = p.validation.as_ref().map(|v| match v {
        TokenValidation::Introspection { url } => pb::TokenValidation {
            kind: "introspection".to_owned(),
            url: url.as_str().to_owned(),
            ..Default::default()
        },
        TokenValidation::Userinfo { url } => pb::TokenValidation {
            kind: "userinfo".to_owned(),
            url: url.as_str().to_owned(),
            ..Default::default()
        },
        TokenValidation::Probe {
            method,
            path,
            expected_status,
        } => pb::TokenValidation {
            kind: "probe".to_owned(),
            method: method.clone(),
            path: path.clone(),
            expected_status: u32::from(*expected_status),
            ..Default::default()
        },
    });
    c.validation_interval_secs = p.validation_interval_secs;
    c.account = p.account.as_ref().map(|a| match a {
        AccountMapping::IdToken { jwks_url: url } | AccountMapping::Userinfo { url } => {
            pb::AccountMapping {
                kind: a.as_str().to_owned(),
                url: url.as_str().to_owned(),
                ..Default::default()
            }
        }
        AccountMapping::Endpoint {
            url,
            pointer,
            method,
        } => pb::AccountMapping {
            kind: a.as_str().to_owned(),
            url: url.as_str().to_owned(),
            pointer: pointer.clone(),
            method: method.clone(),
        },
        AccountMapping::TokenResponse { pointer } => pb::AccountMapping {
            kind: a.as_str().to_owned(),
            pointer: pointer.clone(),
            ..Default::default()
        },
    });
    c.reauthorize_same_account = p.reauthorize_same_account;
}
