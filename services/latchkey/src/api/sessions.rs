//! `CreateConnectSession`'s input, checked field by field.

use latchkey_domain::{ConnectionId, FieldViolation, IntegrationId, TenantId, ValidationErrors};
use latchkey_proto::v1 as pb;

use crate::connections::sessions::SessionRequest;

impl TryFrom<pb::CreateConnectSessionRequest> for SessionRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::CreateConnectSessionRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let mut integration_ids = Vec::with_capacity(req.integration_ids.len());
        for (i, id) in req.integration_ids.iter().enumerate() {
            let parsed = IntegrationId::parse_field(id, &format!("integration_ids[{i}]"));
            if let Some(id) = errors.check(parsed)
                && !integration_ids.contains(&id)
            {
                integration_ids.push(id);
            }
        }
        let return_url = (!req.return_url.is_empty())
            .then(|| {
                url::Url::parse(&req.return_url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                    .ok_or_else(|| {
                        FieldViolation::new("return_url", "is not an absolute http(s) URL")
                    })
            })
            .and_then(|parsed| errors.check(parsed));
        let connection_id = (!req.connection_id.is_empty())
            .then(|| ConnectionId::parse_field(&req.connection_id, "connection_id"))
            .and_then(|parsed| errors.check(parsed));
        let ttl_secs = match req.ttl {
            None => None,
            Some(d) if d.seconds < 0 || d.nanos < 0 => {
                errors.push(FieldViolation::new("ttl", "must not be negative"));
                None
            }
            Some(d) => u64::try_from(d.seconds).ok(),
        };
        let profile = super::convert::profile(req.profile, &mut errors);
        let max_connections = (req.max_connections != 0).then_some(req.max_connections);
        let appearance = req.appearance.and_then(|a| {
            errors.check(
                latchkey_domain::session::Appearance {
                    locale: Some(a.locale),
                    platform_name: Some(a.platform_name),
                    accent_color: Some(a.accent_color),
                    support_url: Some(a.support_url),
                }
                .checked(),
            )
        });
        let appearance = appearance.flatten();
        match tenant {
            Some(tenant) if errors.is_empty() => Ok(Self {
                tenant,
                integration_ids,
                return_url,
                connection_id,
                ttl_secs,
                profile,
                max_connections,
                appearance,
            }),
            _ => Err(errors),
        }
    }
}
