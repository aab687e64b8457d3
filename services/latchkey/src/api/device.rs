//! `StartDeviceAuthorization`, `ConnectMcpServer` and `ConnectTokenExchange` on the wire: the
//! requests checked, the customer's code or authorization answered.

use latchkey_domain::{ConnectionId, IntegrationId, TenantId, ValidationErrors};
use latchkey_proto::v1 as pb;

use super::convert;
use super::requests::{connection_params, optional, scopes};
use crate::connections::{DeviceStarted, ExchangeRequest, StartDevice};
use crate::integrations::mcp::{McpRequest, McpStarted, server_url};

impl TryFrom<pb::StartDeviceAuthorizationRequest> for StartDevice {
    type Error = ValidationErrors;

    fn try_from(req: pb::StartDeviceAuthorizationRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let connection_id = optional(&req.connection_id, &mut errors, |v| {
            ConnectionId::parse_field(v, "connection_id")
        });
        let scopes = scopes(&req.scopes, &mut errors);
        let profile = convert::profile(req.profile, &mut errors);
        match (integration_id, tenant) {
            (Some(integration_id), Some(tenant)) if errors.is_empty() => Ok(Self {
                integration_id,
                tenant,
                connection_id,
                scopes,
                profile,
                params: connection_params(req.connection_params),
                connect_session: None,
            }),
            _ => Err(errors),
        }
    }
}

pub fn device_started_to_pb(started: DeviceStarted) -> pb::StartDeviceAuthorizationResponse {
    pb::StartDeviceAuthorizationResponse {
        connection_id: started.connection_id.to_string(),
        user_code: started.user_code,
        verification_uri: started.verification_uri,
        verification_uri_complete: started.verification_uri_complete.unwrap_or_default(),
        expires_at: Some(convert::timestamp(started.expires_at)),
        interval: prost_types::Duration::try_from(started.interval).ok(),
    }
}

impl TryFrom<pb::ConnectMcpServerRequest> for McpRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::ConnectMcpServerRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let server = errors.check(server_url(&req.server_url));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let scopes = scopes(&req.scopes, &mut errors);
        let return_url = optional(&req.return_url, &mut errors, |v| {
            url::Url::parse(v)
                .ok()
                .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                .ok_or_else(|| {
                    latchkey_domain::FieldViolation::new(
                        "return_url",
                        "is not an absolute http(s) URL",
                    )
                })
        });
        let profile = convert::profile(req.profile, &mut errors);
        match (server, tenant) {
            (Some(server_url), Some(tenant)) if errors.is_empty() => Ok(Self {
                server_url,
                tenant,
                scopes,
                return_url,
                profile,
            }),
            _ => Err(errors),
        }
    }
}

pub fn mcp_started_to_pb(started: McpStarted) -> pb::ConnectMcpServerResponse {
    pb::ConnectMcpServerResponse {
        authorization_url: started.started.authorization_url,
        connection_id: started.started.connection_id.to_string(),
        integration_id: started.integration_id.to_string(),
        expires_at: Some(convert::timestamp(started.started.expires_at)),
    }
}

impl TryFrom<pb::ConnectTokenExchangeRequest> for ExchangeRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::ConnectTokenExchangeRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let subject = errors.check(ConnectionId::parse_field(
            &req.subject_connection_id,
            "subject_connection_id",
        ));
        let scopes = scopes(&req.scopes, &mut errors);
        let given = [
            ("audience", req.audience),
            ("resource", req.resource),
            ("requested_token_type", req.requested_token_type),
        ];
        let params = latchkey_domain::ParamMap::parse_field(
            given
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, v.as_str())),
            "params",
        )
        .map_err(|e| errors.0.extend(e.0))
        .ok();
        let profile = convert::profile(req.profile, &mut errors);
        match (integration_id, tenant, subject, params) {
            (Some(integration_id), Some(tenant), Some(subject), Some(params))
                if errors.is_empty() =>
            {
                Ok(Self {
                    integration_id,
                    tenant,
                    subject,
                    scopes,
                    params,
                    profile,
                })
            }
            _ => Err(errors),
        }
    }
}
