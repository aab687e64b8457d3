//! Conversions between the wire types of `latchkey.v1` and the domain: configurations in, and
//! every answer out.

use chrono::{DateTime, Utc};
use latchkey_domain::{FieldViolation, GrantType, ValidationErrors, connection};
use latchkey_proto::v1 as pb;
use latchkey_store::{Page, TokenReads};
use uuid::Uuid;

use crate::connections::authorize::Started;
pub use crate::wire::{event_to_pb, timestamp};

pub fn from_timestamp(
    ts: &prost_types::Timestamp,
    field: &str,
) -> Result<DateTime<Utc>, FieldViolation> {
    u32::try_from(ts.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos))
        .ok_or_else(|| FieldViolation::new(field, "is not a valid timestamp"))
}

pub fn grant_type_from_pb(value: i32, field: &str) -> Result<Option<GrantType>, FieldViolation> {
    match pb::GrantType::try_from(value) {
        Ok(pb::GrantType::Unspecified) => Ok(None),
        Ok(pb::GrantType::AuthorizationCode) => Ok(Some(GrantType::AuthorizationCode)),
        Ok(pb::GrantType::ClientCredentials) => Ok(Some(GrantType::ClientCredentials)),
        Ok(pb::GrantType::Password) => Ok(Some(GrantType::Password)),
        Ok(pb::GrantType::JwtBearer) => Ok(Some(GrantType::JwtBearer)),
        Ok(pb::GrantType::DeviceCode) => Ok(Some(GrantType::DeviceCode)),
        Ok(pb::GrantType::TokenExchange) => Ok(Some(GrantType::TokenExchange)),
        Err(_) => Err(FieldViolation::new(
            field,
            format!("{value} is not a known grant type"),
        )),
    }
}

pub fn grant_type_to_pb(value: GrantType) -> pb::GrantType {
    match value {
        GrantType::AuthorizationCode => pb::GrantType::AuthorizationCode,
        GrantType::ClientCredentials => pb::GrantType::ClientCredentials,
        GrantType::Password => pb::GrantType::Password,
        GrantType::JwtBearer => pb::GrantType::JwtBearer,
        GrantType::DeviceCode => pb::GrantType::DeviceCode,
        GrantType::TokenExchange => pb::GrantType::TokenExchange,
    }
}

pub fn status_to_pb(status: connection::Status) -> pb::ConnectionStatus {
    use connection::Status::*;
    match status {
        Pending => pb::ConnectionStatus::Pending,
        Active => pb::ConnectionStatus::Active,
        AuthorizationFailed => pb::ConnectionStatus::AuthorizationFailed,
        ReauthorizationRequired => pb::ConnectionStatus::ReauthorizationRequired,
        Expired => pb::ConnectionStatus::Expired,
        Revoked => pb::ConnectionStatus::Revoked,
        Deleted => pb::ConnectionStatus::Deleted,
    }
}

pub fn status_from_pb(
    value: i32,
    field: &str,
) -> Result<Option<connection::Status>, FieldViolation> {
    use connection::Status::*;
    match pb::ConnectionStatus::try_from(value) {
        Ok(pb::ConnectionStatus::Unspecified) => Ok(None),
        Ok(pb::ConnectionStatus::Pending) => Ok(Some(Pending)),
        Ok(pb::ConnectionStatus::Active) => Ok(Some(Active)),
        Ok(pb::ConnectionStatus::AuthorizationFailed) => Ok(Some(AuthorizationFailed)),
        Ok(pb::ConnectionStatus::ReauthorizationRequired) => Ok(Some(ReauthorizationRequired)),
        Ok(pb::ConnectionStatus::Expired) => Ok(Some(Expired)),
        Ok(pb::ConnectionStatus::Revoked) => Ok(Some(Revoked)),
        Ok(pb::ConnectionStatus::Deleted) => Ok(Some(Deleted)),
        Err(_) => Err(FieldViolation::new(
            field,
            format!("{value} is not a known connection status"),
        )),
    }
}

fn json_to_pb(value: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(json_to_pb).collect(),
        }),
        serde_json::Value::Object(map) => Kind::StructValue(prost_types::Struct {
            fields: map
                .iter()
                .map(|(k, v)| (k.clone(), json_to_pb(v)))
                .collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

pub fn metadata_to_pb<'a>(
    metadata: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
) -> prost_types::Struct {
    prost_types::Struct {
        fields: metadata
            .into_iter()
            .map(|(k, v)| (k.clone(), json_to_pb(v)))
            .collect(),
    }
}

pub fn connection_to_pb(state: &connection::State) -> pb::Connection {
    pb::Connection {
        connection_id: state.id.to_string(),
        integration_id: state.integration_id.to_string(),
        tenant: state.tenant.to_string(),
        grant_type: grant_type_to_pb(state.grant_type) as i32,
        status: status_to_pb(state.status) as i32,
        scopes: state.scopes.clone(),
        expires_at: state.expires_at.map(timestamp),
        has_refresh_token: state.refresh_token.is_some(),
        metadata: Some(metadata_to_pb(state.metadata.iter())),
        last_error: state.last_error.as_ref().map(|e| pb::ConnectionError {
            code: e.code.clone(),
            description: e.description.clone().unwrap_or_default(),
            retryable: e.retryable,
            at: Some(timestamp(e.at)),
        }),
        version: state.version,
        created_at: Some(timestamp(state.created_at)),
        updated_at: Some(timestamp(state.updated_at)),
        authorized_at: state.authorized_at.map(timestamp),
        refreshed_at: state.refreshed_at.map(timestamp),
        next_refresh_at: state.refresh_at.map(timestamp),
        last_validation: state.last_validation.as_ref().map(|v| pb::LastValidation {
            valid: v.valid,
            reason: v.reason.clone().unwrap_or_default(),
            at: Some(timestamp(v.at)),
        }),
        provider_account_id: state.provider_account_id.clone().unwrap_or_default(),
        failing_since: state.failing_since.map(timestamp),
        name: state.profile.name.clone(),
        description: state.profile.description.clone(),
        labels: state.profile.labels.clone().into_iter().collect(),
        can_refresh: state.refresh_token.is_some()
            || state.credentials.is_some()
            || state.grant_type == GrantType::ClientCredentials,
        connection_params: state.params.clone().into_iter().collect(),
        refresh_token_expires_at: state.refresh_token_expires_at.map(timestamp),
        webhook_secret_fingerprint: state
            .webhook_secret
            .as_ref()
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default(),
    }
}

/// `StartAuthorization`'s answer.
pub fn started_to_pb(started: Started) -> pb::StartAuthorizationResponse {
    pb::StartAuthorizationResponse {
        authorization_url: started.authorization_url,
        connection_id: started.connection_id.to_string(),
        expires_at: Some(timestamp(started.expires_at)),
    }
}

/// A page of connections, with the token of the next page.
pub fn connections_to_pb(states: &[connection::State], page: Page) -> pb::ListConnectionsResponse {
    let ids: Vec<_> = states.iter().map(|s| *s.id.as_uuid()).collect();
    pb::ListConnectionsResponse {
        connections: states.iter().map(connection_to_pb).collect(),
        next_page_token: next_page_token(&ids, page),
    }
}

/// `GetAccessLog`'s answer.
pub fn access_log_to_pb(reads: Vec<TokenReads>) -> pb::GetAccessLogResponse {
    pb::GetAccessLogResponse {
        reads: reads
            .into_iter()
            .map(|r| pb::TokenReads {
                actor: r.actor,
                minute: Some(timestamp(r.minute)),
                reads: r.reads,
            })
            .collect(),
    }
}

/// A wire profile, checked; `None` when the request carries none.
pub fn profile(
    profile: Option<pb::ConnectionProfile>,
    errors: &mut ValidationErrors,
) -> Option<connection::Profile> {
    let p = profile?;
    match connection::Profile::parse(p.name, p.description, p.labels) {
        Ok(profile) => Some(profile),
        Err(e) => {
            errors
                .0
                .extend(e.0.into_iter().map(|v| v.within("profile")));
            None
        }
    }
}

pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// A page request from `page_size` and `page_token` (the last id of the previous page).
pub fn page(page_size: u32, page_token: &str) -> Result<Page, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if page_size > Page::MAX_LIMIT {
        errors.push(FieldViolation::new(
            "page_size",
            format!("must be at most {}", Page::MAX_LIMIT),
        ));
    }
    let after = if page_token.is_empty() {
        None
    } else {
        errors.check(
            Uuid::try_parse(page_token)
                .map_err(|_| FieldViolation::new("page_token", "is not a token this API issued")),
        )
    };
    let limit = if page_size == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        page_size
    };
    errors.into_result(|| Page { after, limit })
}

/// The next page token: the last id, when the page was full.
pub fn next_page_token(ids: &[Uuid], page: Page) -> String {
    if ids.len() as u32 == page.limit {
        ids.last().map(|id| id.to_string()).unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod properties {
    use super::super::integration_wire::{config_input, parse_config};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_wire_config_is_checked_never_a_panic(
            name in ".{0,40}", grant in any::<i32>(), auth in any::<i32>(), url in ".{0,60}",
            scopes in proptest::collection::vec(".{0,12}", 0..4),
            params in proptest::collection::hash_map(".{0,8}", ".{0,12}", 0..4),
            header in proptest::option::of((".{0,12}", ".{0,12}")),
            page_size in any::<u32>(), token in ".{0,40}",
        ) {
            let config = pb::IntegrationConfig {
                name, grant_type: grant, client_auth: auth, token_url: url.clone(), authorization_url: url,
                client_id: "c".to_owned(), scopes, authorization_params: params.clone(), token_params: params,
                token_placement: header.map(|(name, prefix)| pb::TokenPlacement {
                    placement: Some(pb::token_placement::Placement::Header(pb::HeaderPlacement { name, prefix })),
                }),
                ..Default::default()
            };
            let mut errors = ValidationErrors::default();
            let parsed = config_input(Some(config), &mut errors).and_then(|input| parse_config(input, &mut errors));
            prop_assert!(parsed.is_some() || !errors.is_empty(), "a refusal names a field");
            let _ = page(page_size, &token);
            let _ = status_from_pb(grant, "status");
        }
    }
}
