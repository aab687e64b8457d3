//! `ImportConnection`'s request off the wire, checked.

use std::collections::BTreeMap;

use latchkey_domain::{
    FieldViolation, IntegrationConfig, IntegrationId, Scope, TenantId, ValidationErrors,
    check_secret,
};
use latchkey_proto::v1 as pb;
use secrecy::{ExposeSecret, SecretString};

use super::convert;
use crate::connections::import::ImportRequest;

/// Bytes of metadata an import may carry (JSON).
const MAX_METADATA: usize = 16 * 1024;

impl TryFrom<pb::ImportConnectionRequest> for ImportRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::ImportConnectionRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let access_token = SecretString::from(req.access_token);
        if access_token.expose_secret().is_empty() {
            errors.push(FieldViolation::new("access_token", "must not be empty"));
        }
        errors.check(check_secret(access_token.expose_secret(), "access_token"));
        let refresh_token = (!req.refresh_token.is_empty()).then(|| {
            let token = SecretString::from(req.refresh_token);
            errors.check(check_secret(token.expose_secret(), "refresh_token"));
            token
        });
        let expires_at = req
            .expires_at
            .as_ref()
            .and_then(|ts| errors.check(convert::from_timestamp(ts, "expires_at")));
        let scopes = match Scope::parse_list(&req.scopes, "scopes", IntegrationConfig::MAX_SCOPES) {
            Ok(scopes) if scopes.is_empty() => None,
            Ok(scopes) => Some(scopes),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        let metadata: BTreeMap<String, serde_json::Value> = req
            .metadata
            .map(|s| {
                s.fields
                    .into_iter()
                    .map(|(k, v)| (k, pb_to_json(v)))
                    .collect()
            })
            .unwrap_or_default();
        if serde_json::to_string(&metadata).map_or(0, |s| s.len()) > MAX_METADATA {
            errors.push(FieldViolation::new(
                "metadata",
                format!("must be at most {MAX_METADATA} bytes as JSON"),
            ));
        }
        let text = |value: String, field: &str, max: usize, errors: &mut ValidationErrors| {
            if value.is_empty() {
                return None;
            }
            if value.len() > max || value.chars().any(char::is_control) {
                errors.push(FieldViolation::new(
                    field,
                    format!("must be 1 to {max} characters without control characters"),
                ));
            }
            Some(value)
        };
        let import_id = text(req.import_id, "import_id", 200, &mut errors);
        let provider_account_id = text(
            req.provider_account_id,
            "provider_account_id",
            256,
            &mut errors,
        );
        let token_type = text(req.token_type, "token_type", 64, &mut errors)
            .unwrap_or_else(|| "Bearer".to_owned());
        let profile = convert::profile(req.profile, &mut errors);
        match (integration_id, tenant) {
            (Some(integration_id), Some(tenant)) if errors.is_empty() => Ok(Self {
                integration_id,
                tenant,
                access_token,
                refresh_token,
                token_type,
                expires_at,
                scopes,
                metadata,
                profile,
                import_id,
                provider_account_id,
                params: super::requests::connection_params(req.connection_params),
            }),
            _ => Err(errors),
        }
    }
}

/// A `google.protobuf.Value` as JSON.
pub(super) fn pb_to_json(value: prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(b),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s),
        Some(Kind::ListValue(list)) => {
            serde_json::Value::Array(list.values.into_iter().map(pb_to_json).collect())
        }
        Some(Kind::StructValue(s)) => serde_json::Value::Object(
            s.fields
                .into_iter()
                .map(|(k, v)| (k, pb_to_json(v)))
                .collect(),
        ),
    }
}
