//! Requests off the wire, checked: each `TryFrom<pb::…Request>` collects every field error (so a
//! caller sees all that is wrong at once, each naming its field) or gives the use case its input.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use latchkey_domain::integration::IntegrationConfigInput;
use latchkey_domain::{
    ClientId, ConnectionId, EVENT_TYPES, FieldViolation, IntegrationConfig, IntegrationId,
    ParamMap, Scope, StreamId, SystemStream, TenantId, ValidationErrors, check_secret, connection,
    templates,
};
use latchkey_proto::v1 as pb;
use latchkey_store::{ConnectionFilter, Page};
use secrecy::{ExposeSecret, SecretString};

use super::{convert, integration_wire};
use crate::audit::EventFilter;
use crate::connections::authorize::StartRequest;
use crate::connections::connect::{ClientCredentialsRequest, PasswordRequest};
use crate::integrations::SecretUpdate;

pub(super) fn scopes(input: &[String], errors: &mut ValidationErrors) -> Option<Vec<Scope>> {
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

/// Connection parameters as given, sorted by name; checked against the integration's
/// declarations by the use case, which knows them.
pub fn connection_params(input: HashMap<String, String>) -> Vec<(String, String)> {
    let sorted: BTreeMap<_, _> = input.into_iter().collect();
    sorted.into_iter().collect()
}

/// An optional id: empty means "not given".
pub(super) fn optional<T>(
    value: &str,
    errors: &mut ValidationErrors,
    parse: impl FnOnce(&str) -> Result<T, FieldViolation>,
) -> Option<T> {
    (!value.is_empty())
        .then(|| errors.check(parse(value)))
        .flatten()
}

/// A connection and, optionally, a time (the `field` named in errors).
fn connection_at(
    connection_id: &str,
    at: Option<&prost_types::Timestamp>,
    field: &str,
) -> Result<(ConnectionId, Option<DateTime<Utc>>), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let id = errors.check(ConnectionId::parse_field(connection_id, "connection_id"));
    let at = at.and_then(|ts| errors.check(convert::from_timestamp(ts, field)));
    match id {
        Some(id) if errors.is_empty() => Ok((id, at)),
        _ => Err(errors),
    }
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
                connect_session: None,
                params: connection_params(req.connection_params),
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
                params: connection_params(req.connection_params),
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
                params: connection_params(req.connection_params),
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
    pub dpop: Option<crate::connections::ProofRequest>,
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
        let dpop = super::dpop::proof_request(req.dpop, &mut errors);
        match id {
            Some(id) if errors.is_empty() => Ok(Self { id, min_ttl, dpop }),
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
        let (id, as_of) = connection_at(&req.connection_id, req.as_of.as_ref(), "as_of")?;
        Ok(Self { id, as_of })
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
        let (failing, failing_since_before) = health(&req, &mut errors);
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
                    failing,
                    failing_since_before,
                },
                page,
            }),
            _ => Err(errors),
        }
    }
}

/// The health filter of a connection list: failing or not, and failing since before a time
/// (which implies failing; with `healthy` it is a contradiction, refused).
fn health(
    req: &pb::ListConnectionsRequest,
    errors: &mut ValidationErrors,
) -> (Option<bool>, Option<DateTime<Utc>>) {
    let failing = match pb::ConnectionHealth::try_from(req.health) {
        Ok(pb::ConnectionHealth::Unspecified) => None,
        Ok(pb::ConnectionHealth::Failing) => Some(true),
        Ok(pb::ConnectionHealth::Healthy) => Some(false),
        Err(_) => {
            errors.0.push(FieldViolation::new(
                "health",
                format!("{} is not a known connection health", req.health),
            ));
            None
        }
    };
    let before = req
        .failing_since_before
        .as_ref()
        .and_then(|ts| errors.check(convert::from_timestamp(ts, "failing_since_before")));
    if before.is_some() && failing == Some(false) {
        errors.0.push(FieldViolation::new(
            "failing_since_before",
            "names failing connections; health HEALTHY lists the others",
        ));
    }
    let failing = if before.is_some() {
        Some(true)
    } else {
        failing
    };
    (failing, before)
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
        let (id, since) = connection_at(&req.connection_id, req.since.as_ref(), "since")?;
        Ok(Self { id, since })
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
            Some(pb::get_history_request::Stream::ConnectSessionId(id)) => StreamId::Session(
                latchkey_domain::ConnectSessionId::parse_field(&id, "connect_session_id")?,
            ),
            Some(pb::get_history_request::Stream::SystemStream(name)) => {
                let stream = SystemStream::parse(&name).ok_or_else(|| {
                    FieldViolation::new(
                        "system_stream",
                        format!("{name:?} is not a system stream; one of: keys, access"),
                    )
                })?;
                StreamId::System(stream)
            }
            None => {
                return Err(FieldViolation::new(
                    "connection_id",
                    "connection_id, integration_id or system_stream must be set",
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

fn secret(value: String, field: &str, errors: &mut ValidationErrors) -> Option<SecretString> {
    if value.is_empty() {
        return None;
    }
    let secret = SecretString::from(value);
    errors.check(check_secret(secret.expose_secret(), field))?;
    Some(secret)
}

/// `CreateIntegration`'s input: the configuration as sent (a template filled in), checked once
/// discovery, if asked for, has filled in what the issuer publishes.
#[derive(Debug)]
pub struct IntegrationDraft {
    pub input: IntegrationConfigInput,
    /// Fill unset endpoints from the issuer's metadata first.
    pub discover: bool,
    client_secret: String,
    webhook_secret: String,
    owner: Option<TenantId>,
    /// What is already known to be wrong: discovery is skipped, and these are reported with the
    /// rest.
    pub errors: ValidationErrors,
}

/// A checked `CreateIntegration`.
#[derive(Debug)]
pub struct NewIntegration {
    pub config: IntegrationConfig,
    pub client_secret: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    /// `None`: shared by every tenant.
    pub owner: Option<TenantId>,
}

impl TryFrom<pb::CreateIntegrationRequest> for IntegrationDraft {
    type Error = ValidationErrors;

    fn try_from(req: pb::CreateIntegrationRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let input = integration_wire::config_input(req.config, &mut errors);
        let owner = (!req.owner_tenant.is_empty())
            .then(|| errors.check(TenantId::parse_field(&req.owner_tenant, "owner_tenant")))
            .flatten();
        let template = match req.template.as_str() {
            "" => None,
            name => {
                let found = templates::find(name);
                if found.is_none() {
                    let known: Vec<_> = templates::all().iter().map(|t| t.name.as_str()).collect();
                    errors.push(FieldViolation::new(
                        "template",
                        format!("{name:?} is not a template; known: {}", known.join(", ")),
                    ));
                }
                found
            }
        };
        let Some(mut input) = input else {
            return Err(errors);
        };
        if let Some(template) = template {
            template.fill(&mut input);
        }
        Ok(Self {
            input,
            discover: req.discover,
            client_secret: req.client_secret,
            webhook_secret: req.webhook_secret,
            owner,
            errors,
        })
    }
}

impl IntegrationDraft {
    /// The configuration and secrets, checked, or every field error.
    pub fn finish(self) -> Result<NewIntegration, ValidationErrors> {
        let mut errors = self.errors;
        let config = integration_wire::parse_config(self.input, &mut errors);
        let client_secret =
            integration_wire::client_secret(self.client_secret, config.as_ref(), &mut errors);
        let webhook_secret = secret(self.webhook_secret, "webhook_secret", &mut errors);
        match config {
            Some(config) if errors.is_empty() => Ok(NewIntegration {
                config,
                client_secret,
                webhook_secret,
                owner: self.owner,
            }),
            _ => Err(errors),
        }
    }
}

/// A checked `UpdateIntegration`.
#[derive(Debug)]
pub struct IntegrationUpdate {
    pub id: IntegrationId,
    pub config: IntegrationConfig,
    pub client_secret: SecretUpdate,
    pub webhook_secret: SecretUpdate,
    pub expected_version: Option<u64>,
}

impl TryFrom<pb::UpdateIntegrationRequest> for IntegrationUpdate {
    type Error = ValidationErrors;

    fn try_from(req: pb::UpdateIntegrationRequest) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let id = errors.check(IntegrationId::parse_field(
            &req.integration_id,
            "integration_id",
        ));
        let config = integration_wire::config(req.config, &mut errors);
        let client_secret = match (req.client_secret, req.clear_client_secret) {
            (Some(_), true) => {
                errors.push(FieldViolation::new(
                    "clear_client_secret",
                    "cannot be set together with client_secret",
                ));
                SecretUpdate::Keep
            }
            (Some(value), false) if value.is_empty() => {
                errors.push(FieldViolation::new(
                    "client_secret",
                    "must not be empty when set; use clear_client_secret to remove it",
                ));
                SecretUpdate::Keep
            }
            (Some(value), false) => {
                integration_wire::client_secret(value, config.as_ref(), &mut errors)
                    .map_or(SecretUpdate::Keep, SecretUpdate::Set)
            }
            (None, true) => SecretUpdate::Clear,
            (None, false) => SecretUpdate::Keep,
        };
        let webhook_secret = match (req.webhook_secret, req.clear_webhook_secret) {
            (Some(_), true) => {
                errors.push(FieldViolation::new(
                    "clear_webhook_secret",
                    "cannot be set together with webhook_secret",
                ));
                SecretUpdate::Keep
            }
            (Some(value), false) => secret(value, "webhook_secret", &mut errors)
                .map_or(SecretUpdate::Keep, SecretUpdate::Set),
            (None, true) => SecretUpdate::Clear,
            (None, false) => SecretUpdate::Keep,
        };
        match (id, config) {
            (Some(id), Some(config)) if errors.is_empty() => Ok(Self {
                id,
                config,
                client_secret,
                webhook_secret,
                expected_version: req.expected_version,
            }),
            _ => Err(errors),
        }
    }
}
