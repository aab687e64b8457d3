//! `StartDeviceAuthorization` on the wire: the request checked, the customer's code answered.

use latchkey_domain::{ConnectionId, IntegrationId, TenantId, ValidationErrors};
use latchkey_proto::v1 as pb;

use super::convert;
use super::requests::{connection_params, optional, scopes};
use crate::connections::{DeviceStarted, StartDevice};

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
