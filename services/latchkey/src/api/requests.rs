//! Requests off the wire, checked: each `TryFrom<pb::…Request>` collects every field error (so a
//! caller sees all that is wrong at once, each naming its field) or gives the use case its input.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use latchkey_domain::{
    ClientId, ConnectionId, EVENT_TYPES, FieldViolation, IntegrationConfig, IntegrationId,
    ParamMap, Scope, StreamId, TenantId, ValidationErrors, check_secret, connection,
};
use latchkey_proto::v1 as pb;
use latchkey_store::{ConnectionFilter, Page};
use secrecy::{ExposeSecret, SecretString};

use super::convert;
use crate::audit::EventFilter;
use crate::connections::authorize::StartRequest;
use crate::connections::connect::{ClientCredentialsRequest, PasswordRequest};

fn scopes(input: &[String], errors: &mut ValidationErrors) -> Option<Vec<Scope>> {
    if input.is_empty() {
        return None;
    }
    match Scope::parse_list(input, "scopes", IntegrationConfig::MAX_SCOPES) {
        Ok(scopes) => Some(scopes),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    }
}

fn params(
    input: HashMap<String, String>,
    field: &str,
    errors: &mut ValidationErrors,
) -> Option<ParamMap> {
    let sorted: BTreeMap<_, _> = input.into_iter().collect();
    match ParamMap::parse_field(sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())), field) {
        Ok(map) => Some(map),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    }
}

/// An optional id: empty means "not given".
fn optional<T>(
    value: &str,
    errors: &mut ValidationErrors,
    parse: impl FnOnce(&str) -> Result<T, FieldViolation>,
) -> Option<T> {
    (!value.is_empty())
        .then(|| errors.check(parse(value)))
        .flatten()
}

/// The one field of a request that names a connection.
pub fn connection_id(value: &str) -> Result<ConnectionId, ValidationErrors> {
    Ok(ConnectionId::parse_field(value, "connection_id")?)
}

impl TryFrom<pb::StartAuthorizationRequest> for StartRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::StartAuthorizationRequest) -> Result<Self, Self::Error> {
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
        let extra = params(req.extra_params, "extra_params", &mut errors);
        let return_url = optional(&req.return_url, &mut errors, |v| {
            url::Url::parse(v)
                .ok()
                .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                .ok_or_else(|| FieldViolation::new("return_url", "is not an absolute http(s) URL"))
        });
        let profile = convert::profile(req.profile, &mut errors);
        match (integration_id, tenant, extra) {
            (Some(integration_id), Some(tenant), Some(extra)) if errors.is_empty() => Ok(Self {
                integration_id,
                tenant,
                connection_id,
                scopes,
                extra,
                return_url,
                profile,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<pb::ConnectClientCredentialsRequest> for ClientCredentialsRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::ConnectClientCredentialsRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let scopes = scopes(&req.scopes, &mut errors);
        let extra = params(req.extra_params, "extra_params", &mut errors);
        let own_client = match (req.client_id.is_empty(), req.client_secret.is_empty()) {
            (true, true) => None,
            (false, false) => {
                let secret = SecretString::from(req.client_secret);
                errors.check(check_secret(secret.expose_secret(), "client_secret"));
                errors.check(ClientId::parse_field(&req.client_id, "client_id"));
                Some((req.client_id, secret))
            }
            (true, false) => {
                errors.push(FieldViolation::new(
                    "client_id",
                    "is required with client_secret",
                ));
                None
            }
            (false, true) => {
                errors.push(FieldViolation::new(
                    "client_secret",
                    "is required with client_id",
                ));
                None
            }
        };
        let profile = convert::profile(req.profile, &mut errors);
        match (integration_id, tenant, extra) {
            (Some(integration_id), Some(tenant), Some(extra)) if errors.is_empty() => Ok(Self {
                integration_id,
                tenant,
                own_client,
                scopes,
                extra,
                profile,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<pb::ConnectPasswordRequest> for PasswordRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::ConnectPasswordRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let integration_id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let tenant = errors.check(TenantId::parse_field(&req.tenant, "tenant"));
        let scopes = scopes(&req.scopes, &mut errors);
        if req.username.is_empty() || req.username.len() > 512 {
            errors.push(FieldViolation::new(
                "username",
                "must be 1 to 512 characters",
            ));
        }
        let password = SecretString::from(req.password);
        if password.expose_secret().is_empty() {
            errors.push(FieldViolation::new("password", "must not be empty"));
        }
        errors.check(check_secret(password.expose_secret(), "password"));
        let profile = convert::profile(req.profile, &mut errors);
        match (integration_id, tenant) {
            (Some(integration_id), Some(tenant)) if errors.is_empty() => Ok(Self {
                integration_id,
                tenant,
                username: req.username,
                password,
                scopes,
                profile,
            }),
            _ => Err(errors),
        }
    }
}

/// `GetToken`'s input.
#[derive(Debug)]
pub struct TokenRequest {
    pub id: ConnectionId,
    pub min_ttl: Option<Duration>,
}

impl TryFrom<pb::GetTokenRequest> for TokenRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::GetTokenRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        let min_ttl = match req.min_ttl {
            None => None,
            Some(d) if d.seconds < 0 || d.nanos < 0 || d.seconds > 366 * 24 * 3600 => {
                errors.push(FieldViolation::new(
                    "min_ttl",
                    "must be between 0 and 366 days",
                ));
                None
            }
            Some(d) => {
                Some(Duration::seconds(d.seconds) + Duration::nanoseconds(i64::from(d.nanos)))
            }
        };
        match id {
            Some(id) if errors.is_empty() => Ok(Self { id, min_ttl }),
            _ => Err(errors),
        }
    }
}

/// `GetConnection`'s input: the connection, now or as it was at a time.
#[derive(Debug)]
pub struct ConnectionQuery {
    pub id: ConnectionId,
    pub as_of: Option<DateTime<Utc>>,
}

impl TryFrom<pb::GetConnectionRequest> for ConnectionQuery {
    type Error = ValidationErrors;

    fn try_from(req: pb::GetConnectionRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        let as_of = req
            .as_of
            .as_ref()
            .and_then(|ts| errors.check(convert::from_timestamp(ts, "as_of")));
        match id {
            Some(id) if errors.is_empty() => Ok(Self { id, as_of }),
            _ => Err(errors),
        }
    }
}

/// `RevokeConnection`'s input.
#[derive(Debug)]
pub struct RevokeRequest {
    pub id: ConnectionId,
    pub reason: String,
}

impl TryFrom<pb::RevokeConnectionRequest> for RevokeRequest {
    type Error = ValidationErrors;

    fn try_from(req: pb::RevokeConnectionRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        if req.reason.chars().count() > 500 {
            errors.push(FieldViolation::new(
                "reason",
                "must be at most 500 characters",
            ));
        }
        match id {
            Some(id) if errors.is_empty() => Ok(Self {
                id,
                reason: req.reason,
            }),
            _ => Err(errors),
        }
    }
}

/// `UpdateConnection`'s input.
#[derive(Debug)]
pub struct ProfileUpdate {
    pub id: ConnectionId,
    pub profile: connection::Profile,
    pub expected_version: Option<u64>,
}

impl TryFrom<pb::UpdateConnectionRequest> for ProfileUpdate {
    type Error = ValidationErrors;

    fn try_from(req: pb::UpdateConnectionRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        if req.profile.is_none() {
            errors.push(FieldViolation::new("profile", "must be set"));
        }
        let profile = convert::profile(req.profile, &mut errors);
        match (id, profile) {
            (Some(id), Some(profile)) if errors.is_empty() => Ok(Self {
                id,
                profile,
                expected_version: req.expected_version,
            }),
            _ => Err(errors),
        }
    }
}

/// `ListConnections`' input.
#[derive(Debug)]
pub struct ConnectionList {
    pub filter: ConnectionFilter,
    pub page: Page,
}

impl TryFrom<pb::ListConnectionsRequest> for ConnectionList {
    type Error = ValidationErrors;

    fn try_from(req: pb::ListConnectionsRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let tenant = optional(&req.tenant, &mut errors, |v| {
            TenantId::parse_field(v, "tenant")
        });
        let integration_id = optional(&req.integration_id, &mut errors, |v| {
            IntegrationId::parse_field(v, "integration_id")
        });
        let status = errors
            .check(convert::status_from_pb(req.status, "status"))
            .flatten();
        let page = match convert::page(req.page_size, &req.page_token) {
            Ok(page) => Some(page),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        // The same rules as labels on connections, so a filter can only name a possible label.
        let labels = match connection::Profile::parse(String::new(), String::new(), req.labels) {
            Ok(profile) => Some(profile.labels),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        match (page, labels) {
            (Some(page), Some(labels)) if errors.is_empty() => Ok(Self {
                filter: ConnectionFilter {
                    tenant,
                    integration_id,
                    status,
                    labels,
                    provider_account_id: Some(req.provider_account_id)
                        .filter(|account| !account.is_empty()),
                },
                page,
            }),
            _ => Err(errors),
        }
    }
}

/// `GetAccessLog`'s input.
#[derive(Debug)]
pub struct AccessLogQuery {
    pub id: ConnectionId,
    pub since: Option<DateTime<Utc>>,
}

impl TryFrom<pb::GetAccessLogRequest> for AccessLogQuery {
    type Error = ValidationErrors;

    fn try_from(req: pb::GetAccessLogRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let id = errors.check(ConnectionId::parse_field(
            &req.connection_id,
            "connection_id",
        ));
        let since = req
            .since
            .as_ref()
            .and_then(|ts| errors.check(convert::from_timestamp(ts, "since")));
        match id {
            Some(id) if errors.is_empty() => Ok(Self { id, since }),
            _ => Err(errors),
        }
    }
}

/// `GetHistory`'s input.
#[derive(Debug)]
pub struct HistoryQuery {
    pub stream: StreamId,
    pub from_version: u64,
}

impl TryFrom<pb::GetHistoryRequest> for HistoryQuery {
    type Error = ValidationErrors;

    fn try_from(req: pb::GetHistoryRequest) -> Result<Self, Self::Error> {
        let stream = match req.stream {
            Some(pb::get_history_request::Stream::ConnectionId(id)) => {
                StreamId::Connection(ConnectionId::parse_field(&id, "connection_id")?)
            }
            Some(pb::get_history_request::Stream::IntegrationId(id)) => {
                StreamId::Integration(IntegrationId::parse_field(&id, "integration_id")?)
            }
            None => {
                return Err(FieldViolation::new(
                    "connection_id",
                    "connection_id or integration_id must be set",
                )
                .into());
            }
        };
        Ok(Self {
            stream,
            from_version: req.from_version,
        })
    }
}

/// `ReplayEvents`' input.
#[derive(Debug)]
pub struct ReplayQuery {
    pub from_position: i64,
    pub filter: EventFilter,
    pub follow: bool,
}

impl TryFrom<pb::ReplayEventsRequest> for ReplayQuery {
    type Error = ValidationErrors;

    fn try_from(req: pb::ReplayEventsRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        if req.from_position < 0 {
            errors.push(FieldViolation::new("from_position", "must not be negative"));
        }
        let f = req.filter.unwrap_or_default();
        let tenant = optional(&f.tenant, &mut errors, |v| {
            TenantId::parse_field(v, "filter.tenant")
        });
        let stream = optional(&f.connection_id, &mut errors, |v| {
            ConnectionId::parse_field(v, "filter.connection_id")
        })
        .map(StreamId::Connection);
        for (i, t) in f.types.iter().enumerate() {
            if !EVENT_TYPES.contains(&t.as_str()) {
                errors.push(FieldViolation::new(
                    format!("filter.types[{i}]"),
                    format!(
                        "{t:?} is not an event type; known types: {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
        }
        errors.into_result(|| Self {
            from_position: req.from_position,
            filter: EventFilter {
                tenant,
                types: f.types.into_iter().collect(),
                stream,
            },
            follow: req.follow,
        })
    }
}
