//! Hostile input, property-tested: any value in any field of every request (empty, huge, unicode,
//! control characters, numbers at their limits, thousands of labels) is either accepted or refused
//! with errors that each name a field; never a panic, and never a secret repeated.

use std::collections::HashMap;

use latchkey_domain::ValidationErrors;
use latchkey_proto::v1 as pb;
use proptest::prelude::*;

use super::requests::*;
use super::webhooks::WebhookRequest;
use crate::connections::authorize::StartRequest;
use crate::connections::connect::{ClientCredentialsRequest, PasswordRequest};
use crate::connections::import::ImportRequest;

/// A secret a test puts in a secret field; no error may repeat it.
const CANARY: &str = "canary-hostile-9f2c";

/// Any text: short or 5,000 characters, unicode, control characters. (Only secret fields get the
/// canary: other fields may be quoted in the error that refuses them.)
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        ".{0,40}",
        "[\\x00-\\x1f]{1,8}",
        "\\PC{0,60}",
        Just("x".repeat(5_000)),
        Just("\u{0}\u{202e}x\u{7f}".to_owned()),
        Just("00000000-0000-7000-8000-000000000000".to_owned()),
    ]
}

fn params() -> impl Strategy<Value = HashMap<String, String>> {
    proptest::collection::hash_map(text(), text(), 0..4)
}

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    proptest::option::of(
        (any::<i64>(), any::<i32>())
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

fn profile() -> impl Strategy<Value = Option<pb::ConnectionProfile>> {
    proptest::option::of(
        (text(), text(), params()).prop_map(|(name, description, labels)| pb::ConnectionProfile {
            name,
            description,
            labels,
        }),
    )
}

/// Accepted, or refused naming a field each time, without the canary.
fn checked<T>(result: Result<T, ValidationErrors>) -> Result<(), TestCaseError> {
    if let Err(errors) = result {
        prop_assert!(!errors.0.is_empty(), "a refusal says why");
        for violation in &errors.0 {
            prop_assert!(!violation.field.is_empty(), "{violation:?} names a field");
        }
        prop_assert!(!errors.to_string().contains(CANARY), "{errors}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn connection_requests_are_checked_never_a_panic(
        integration_id in text(), tenant in text(), connection_id in text(),
        scopes in proptest::collection::vec(text(), 0..4), extra in params(),
        return_url in text(), profile in profile(), secret in text(),
        ttl in proptest::option::of((any::<i64>(), any::<i32>())),
        at in timestamp(), status in any::<i32>(), page_size in any::<u32>(), token in text(),
    ) {
        checked(StartRequest::try_from(pb::StartAuthorizationRequest {
            integration_id: integration_id.clone(), tenant: tenant.clone(),
            connection_id: connection_id.clone(), scopes: scopes.clone(),
            extra_params: extra.clone(), return_url, profile: profile.clone(),
            connection_params: extra.clone(),
        }))?;
        checked(ClientCredentialsRequest::try_from(pb::ConnectClientCredentialsRequest {
            integration_id: integration_id.clone(), tenant: tenant.clone(),
            client_id: secret.clone(), client_secret: format!("{CANARY}{secret}"),
            scopes: scopes.clone(), extra_params: extra.clone(), profile: profile.clone(),
            connection_params: extra.clone(),
        }))?;
        checked(PasswordRequest::try_from(pb::ConnectPasswordRequest {
            integration_id: integration_id.clone(), tenant: tenant.clone(),
            username: secret.clone(), password: format!("{CANARY}{secret}"),
            scopes: scopes.clone(), profile: profile.clone(), connection_params: extra.clone(),
        }))?;
        checked(TokenRequest::try_from(pb::GetTokenRequest {
            connection_id: connection_id.clone(),
            min_ttl: ttl.map(|(seconds, nanos)| prost_types::Duration { seconds, nanos }),
            dpop: None,
        }))?;
        checked(ConnectionQuery::try_from(pb::GetConnectionRequest {
            connection_id: connection_id.clone(), as_of: at,
        }))?;
        checked(RevokeRequest::try_from(pb::RevokeConnectionRequest {
            connection_id: connection_id.clone(), reason: secret.clone(),
        }))?;
        checked(ProfileUpdate::try_from(pb::UpdateConnectionRequest {
            connection_id: connection_id.clone(), profile, expected_version: None,
        }))?;
        checked(ConnectionList::try_from(pb::ListConnectionsRequest {
            tenant: tenant.clone(), integration_id: integration_id.clone(), status,
            page_size, page_token: token, labels: HashMap::new(),
            provider_account_id: secret.clone(), health: status,
            failing_since_before: ttl.map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
        }))?;
        checked(crate::connections::sessions::SessionRequest::try_from(
            pb::CreateConnectSessionRequest {
                tenant: tenant.clone(), integration_ids: scopes.clone(),
                return_url: secret.clone(), connection_id: connection_id.clone(),
                ttl: ttl.map(|(seconds, nanos)| prost_types::Duration { seconds, nanos }),
                profile: None, max_connections: u32::MAX, appearance: None,
            },
        ))?;
        checked(ImportRequest::try_from(pb::ImportConnectionRequest {
            integration_id, tenant, access_token: format!("{CANARY}{secret}"),
            refresh_token: format!("{secret}{CANARY}\u{7}"), expires_at: at,
            scopes, metadata: None, profile: None, import_id: secret.clone(),
            provider_account_id: secret.clone(), token_type: secret, connection_params: extra,
        }))?;
    }

    #[test]
    fn audit_and_webhook_requests_are_checked_never_a_panic(
        id in text(), from in any::<i64>(), version in any::<u64>(), at in timestamp(),
        types in proptest::collection::vec(text(), 0..4), tenant in text(),
        headers in params(), body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        checked(AccessLogQuery::try_from(pb::GetAccessLogRequest {
            connection_id: id.clone(), since: at,
        }))?;
        checked(HistoryQuery::try_from(pb::GetHistoryRequest {
            stream: Some(pb::get_history_request::Stream::ConnectionId(id.clone())),
            from_version: version,
        }))?;
        checked(ReplayQuery::try_from(pb::ReplayEventsRequest {
            from_position: from, follow: false,
            filter: Some(pb::EventFilter { tenant, types, connection_id: id.clone() }),
        }))?;
        checked(WebhookRequest::try_from(pb::VerifyWebhookRequest {
            integration_id: id.clone(), headers, body, method: id.clone(), url: id,
        }))?;
    }
}

#[test]
fn thousands_of_labels_are_refused_naming_the_labels() {
    let labels: HashMap<String, String> = (0..5_000)
        .map(|i| (format!("k{i}"), "v".to_owned()))
        .collect();
    let refused = ProfileUpdate::try_from(pb::UpdateConnectionRequest {
        connection_id: "0190c9a0-0000-7000-8000-000000000000".to_owned(),
        profile: Some(pb::ConnectionProfile {
            name: String::new(),
            description: String::new(),
            labels,
        }),
        expected_version: None,
    })
    .map(|_| ())
    .unwrap_err();
    assert!(
        refused
            .0
            .iter()
            .any(|v| v.field.starts_with("profile.labels") || v.field.starts_with("labels")),
        "{refused}"
    );
}
