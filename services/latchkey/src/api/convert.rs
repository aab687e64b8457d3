//! Conversions between the wire types of `latchkey.v1` and the domain: configurations in, and
//! every answer out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use latchkey_domain::integration::{self, IntegrationConfigInput};
use latchkey_domain::webhook::{WebhookKind, WebhookScheme};
use latchkey_domain::{
    AccountMapping, ClientAuthMethod, FieldViolation, GrantType, IntegrationConfig,
    RefreshTokenReuse, TokenPlacement, TokenValidation, ValidationErrors, connection,
};
use latchkey_proto::v1 as pb;
use latchkey_store::{Page, TokenReads};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::connections::authorize::Started;
use crate::connections::token::{Credential, Placement};
use crate::integrations::webhooks::WebhookVerdict;
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
    }
}

/// The wire config, checked: enum values never seen are reported here, the rest by the domain's
/// parser, all under `config.<field>`, into `errors`.
pub fn config(
    config: Option<pb::IntegrationConfig>,
    errors: &mut ValidationErrors,
) -> Option<IntegrationConfig> {
    let input = config_input(config, errors)?;
    parse_config(input, errors)
}

/// Parses a (possibly template-filled) input, reporting under `config.<field>`.
pub fn parse_config(
    input: IntegrationConfigInput,
    errors: &mut ValidationErrors,
) -> Option<IntegrationConfig> {
    // The domain reports field names without the `config.` prefix; callers send them nested.
    match input.parse() {
        Ok(config) => Some(config),
        Err(domain) => {
            errors
                .0
                .extend(domain.0.into_iter().map(|v| v.within("config")));
            None
        }
    }
}

/// The wire config as unchecked domain input; enum values never seen are reported here.
pub fn config_input(
    config: Option<pb::IntegrationConfig>,
    errors: &mut ValidationErrors,
) -> Option<IntegrationConfigInput> {
    let Some(c) = config else {
        errors.push(FieldViolation::new("config", "must be set"));
        return None;
    };
    let grant_type = match errors.check(grant_type_from_pb(c.grant_type, "config.grant_type")) {
        Some(Some(grant)) => grant.as_str().to_owned(),
        _ => String::new(),
    };
    let client_auth = match pb::ClientAuthMethod::try_from(c.client_auth) {
        Ok(pb::ClientAuthMethod::Unspecified) => String::new(),
        Ok(pb::ClientAuthMethod::BasicHeader) => "basic_header".to_owned(),
        Ok(pb::ClientAuthMethod::RequestBody) => "request_body".to_owned(),
        Err(_) => {
            errors.push(FieldViolation::new(
                "config.client_auth",
                format!(
                    "{} is not a known client authentication method",
                    c.client_auth
                ),
            ));
            String::new()
        }
    };
    let token_placement = match c.token_placement.and_then(|p| p.placement) {
        None => None,
        Some(pb::token_placement::Placement::Header(h)) => Some(TokenPlacement::Header {
            name: h.name,
            prefix: h.prefix,
        }),
        Some(pb::token_placement::Placement::Query(q)) => {
            Some(TokenPlacement::Query { param: q.param })
        }
    };
    let sorted = |map: std::collections::HashMap<String, String>| {
        let sorted: BTreeMap<String, String> = map.into_iter().collect();
        sorted.into_iter().collect::<Vec<_>>()
    };
    let input = IntegrationConfigInput {
        name: c.name,
        description: c.description,
        grant_type,
        authorization_url: c.authorization_url,
        token_url: c.token_url,
        revocation_url: c.revocation_url,
        base_uri: c.base_uri,
        client_id: c.client_id,
        scopes: c.scopes,
        scope_separator: c.scope_separator,
        redirect_uri: c.redirect_uri,
        response_type: c.response_type,
        authorization_params: sorted(c.authorization_params),
        token_params: sorted(c.token_params),
        client_auth,
        token_placement,
        default_token_lifetime_secs: c.default_token_lifetime_secs,
        refresh_margin_secs: c.refresh_margin_secs,
        allow_password_grant: c.allow_password_grant,
        pkce: c.pkce,
        issuer: c.issuer,
        require_iss: c.require_iss,
        metadata_fields: c.metadata_fields,
        refresh_token_max_idle_secs: c.refresh_token_max_idle_secs,
        validation_kind: c
            .validation
            .as_ref()
            .map(|v| v.kind.clone())
            .unwrap_or_default(),
        validation_url: c
            .validation
            .as_ref()
            .map(|v| v.url.clone())
            .unwrap_or_default(),
        probe_method: c
            .validation
            .as_ref()
            .map(|v| v.method.clone())
            .unwrap_or_default(),
        probe_path: c
            .validation
            .as_ref()
            .map(|v| v.path.clone())
            .unwrap_or_default(),
        probe_status: c
            .validation
            .as_ref()
            .map(|v| v.expected_status)
            .unwrap_or_default(),
        validation_interval_secs: c.validation_interval_secs,
        account_kind: c
            .account
            .as_ref()
            .map(|a| a.kind.clone())
            .unwrap_or_default(),
        account_url: c
            .account
            .as_ref()
            .map(|a| a.url.clone())
            .unwrap_or_default(),
        account_pointer: c
            .account
            .as_ref()
            .map(|a| a.pointer.clone())
            .unwrap_or_default(),
        reauthorize_same_account: c.reauthorize_same_account,
        refresh_token_reuse: c.refresh_token_reuse,
        refresh_token_reuse_grace_secs: c.refresh_token_reuse_grace_secs,
        refresh_failure_horizon_secs: c.refresh_failure_horizon_secs,
        return_url_origins: c.return_url_origins,
        allowed_scopes: c.allowed_scopes,
        webhook: match c.webhook {
            None => None,
            Some(w) => {
                let kind = match pb::WebhookKind::try_from(w.kind) {
                    Ok(pb::WebhookKind::HmacBody) => Some(WebhookKind::HmacBody),
                    Ok(pb::WebhookKind::HmacTimestamped) => Some(WebhookKind::HmacTimestamped),
                    Ok(pb::WebhookKind::Stripe) => Some(WebhookKind::Stripe),
                    _ => {
                        errors.push(FieldViolation::new(
                            "config.webhook.kind",
                            "must be HMAC_BODY, HMAC_TIMESTAMPED or STRIPE",
                        ));
                        None
                    }
                };
                kind.map(|kind| WebhookScheme {
                    kind,
                    signature_header: w.signature_header.to_ascii_lowercase(),
                    prefix: w.prefix,
                    encoding: if w.encoding.is_empty() {
                        "hex".to_owned()
                    } else {
                        w.encoding
                    },
                    timestamp_header: w.timestamp_header.to_ascii_lowercase(),
                    template: w.template,
                    tolerance_secs: w.tolerance_secs,
                    account_pointer: w.account_pointer,
                })
            }
        },
    };
    Some(input)
}

/// A template as the fields it fills.
pub fn template_to_pb(template: &latchkey_domain::templates::Template) -> pb::Template {
    let mut input = IntegrationConfigInput::default();
    template.fill(&mut input);
    let client_auth = match input.client_auth.as_str() {
        "request_body" => pb::ClientAuthMethod::RequestBody,
        _ => pb::ClientAuthMethod::BasicHeader,
    };
    pb::Template {
        name: template.name.to_owned(),
        description: template.description.to_owned(),
        config: Some(pb::IntegrationConfig {
            grant_type: pb::GrantType::AuthorizationCode as i32,
            authorization_url: input.authorization_url,
            token_url: input.token_url,
            revocation_url: input.revocation_url,
            base_uri: input.base_uri,
            scope_separator: input.scope_separator,
            authorization_params: input.authorization_params.into_iter().collect(),
            token_params: input.token_params.into_iter().collect(),
            client_auth: client_auth as i32,
            default_token_lifetime_secs: input.default_token_lifetime_secs,
            issuer: input.issuer,
            metadata_fields: input.metadata_fields,
            refresh_token_reuse: input.refresh_token_reuse,
            refresh_token_reuse_grace_secs: input.refresh_token_reuse_grace_secs,
            ..Default::default()
        }),
    }
}

pub fn integration_to_pb(state: &integration::State, callback_url: &str) -> pb::Integration {
    let c = &state.config;
    let placement = match &c.token_placement {
        TokenPlacement::Header { name, prefix } => {
            pb::token_placement::Placement::Header(pb::HeaderPlacement {
                name: name.clone(),
                prefix: prefix.clone(),
            })
        }
        TokenPlacement::Query { param } => {
            pb::token_placement::Placement::Query(pb::QueryPlacement {
                param: param.clone(),
            })
        }
    };
    let text = |v: &Option<latchkey_domain::ProviderUrl>| {
        v.as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default()
    };
    pb::Integration {
        integration_id: state.id.to_string(),
        config: Some(pb::IntegrationConfig {
            name: c.name.as_str().to_owned(),
            description: c.description.clone(),
            grant_type: grant_type_to_pb(c.grant_type) as i32,
            authorization_url: text(&c.authorization_url),
            token_url: c.token_url.as_str().to_owned(),
            revocation_url: text(&c.revocation_url),
            base_uri: text(&c.base_uri),
            client_id: c.client_id.as_str().to_owned(),
            scopes: c.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            scope_separator: Some(c.scope_separator.as_str().to_owned()),
            redirect_uri: text(&c.redirect_uri),
            response_type: c.response_type.as_str().to_owned(),
            authorization_params: c
                .authorization_params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            token_params: c
                .token_params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            client_auth: match c.client_auth {
                ClientAuthMethod::BasicHeader => pb::ClientAuthMethod::BasicHeader,
                ClientAuthMethod::RequestBody => pb::ClientAuthMethod::RequestBody,
            } as i32,
            token_placement: Some(pb::TokenPlacement {
                placement: Some(placement),
            }),
            default_token_lifetime_secs: Some(c.default_token_lifetime_secs),
            refresh_margin_secs: Some(c.refresh_margin_secs),
            allow_password_grant: c.allow_password_grant,
            pkce: Some(c.pkce),
            issuer: text(&c.issuer),
            require_iss: c.require_iss,
            metadata_fields: c.metadata_fields.clone(),
            refresh_token_max_idle_secs: c.refresh_token_max_idle_secs,
            validation: c.validation.as_ref().map(|v| match v {
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
            }),
            validation_interval_secs: c.validation_interval_secs,
            account: c.account.as_ref().map(|a| match a {
                AccountMapping::IdToken { jwks_url: url } | AccountMapping::Userinfo { url } => {
                    pb::AccountMapping {
                        kind: a.as_str().to_owned(),
                        url: url.as_str().to_owned(),
                        pointer: String::new(),
                    }
                }
                AccountMapping::Endpoint { url, pointer } => pb::AccountMapping {
                    kind: a.as_str().to_owned(),
                    url: url.as_str().to_owned(),
                    pointer: pointer.clone(),
                },
            }),
            reauthorize_same_account: c.reauthorize_same_account,
            refresh_token_reuse: c.refresh_token_reuse.as_str().to_owned(),
            refresh_token_reuse_grace_secs: match c.refresh_token_reuse {
                RefreshTokenReuse::Within { grace_secs } => Some(grace_secs),
                _ => None,
            },
            refresh_failure_horizon_secs: Some(c.refresh_failure_horizon_secs),
            return_url_origins: c.return_url_origins.clone(),
            allowed_scopes: c
                .allowed_scopes
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            webhook: c.webhook.as_ref().map(|w| pb::WebhookScheme {
                kind: match w.kind {
                    WebhookKind::HmacBody => pb::WebhookKind::HmacBody,
                    WebhookKind::HmacTimestamped => pb::WebhookKind::HmacTimestamped,
                    WebhookKind::Stripe => pb::WebhookKind::Stripe,
                } as i32,
                signature_header: w.signature_header.clone(),
                prefix: w.prefix.clone(),
                encoding: w.encoding.clone(),
                timestamp_header: w.timestamp_header.clone(),
                template: w.template.clone(),
                tolerance_secs: w.tolerance_secs,
                account_pointer: w.account_pointer.clone(),
            }),
        }),
        has_client_secret: state.client_secret.is_some(),
        client_secret_fingerprint: state
            .client_secret
            .as_ref()
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default(),
        has_webhook_secret: state.webhook_secret.is_some(),
        owner_tenant: state
            .owner
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        version: state.version,
        created_at: Some(timestamp(state.created_at)),
        updated_at: Some(timestamp(state.updated_at)),
        effective_redirect_uri: c
            .redirect_uri
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_else(|| callback_url.to_owned()),
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

pub fn metadata_to_pb(metadata: &BTreeMap<String, serde_json::Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: metadata
            .iter()
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
        metadata: Some(metadata_to_pb(&state.metadata)),
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

/// `GetToken`'s answer: the token, where it goes, and what the connection says of it.
pub fn credential_to_pb(credential: Credential) -> pb::GetTokenResponse {
    let placement = match credential.placement {
        Placement::Header { name, value } => {
            pb::get_token_response::Placement::Header(pb::HeaderCredential {
                name,
                value: value.expose_secret().to_owned(),
            })
        }
        Placement::Query { param, value } => {
            pb::get_token_response::Placement::Query(pb::QueryCredential {
                param,
                value: value.expose_secret().to_owned(),
            })
        }
    };
    let connection = &credential.connection;
    pb::GetTokenResponse {
        access_token: credential.access_token.expose_secret().to_owned(),
        token_type: connection
            .token_type
            .clone()
            .unwrap_or_else(|| "Bearer".to_owned()),
        expires_at: connection.expires_at.map(timestamp),
        scopes: connection.scopes.clone(),
        placement: Some(placement),
        base_uri: credential.base_uri.unwrap_or_default(),
        metadata: Some(metadata_to_pb(&connection.metadata)),
        version: connection.version,
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

/// A page of integrations, with the token of the next page.
/// A page of integrations, those the caller may not see left out (the page token still follows
/// the whole page, so a short page is not the last).
pub fn integrations_to_pb(
    states: &[integration::State],
    visible: impl Fn(&integration::State) -> bool,
    page: Page,
    callback_url: &str,
) -> pb::ListIntegrationsResponse {
    let ids: Vec<_> = states.iter().map(|s| *s.id.as_uuid()).collect();
    pb::ListIntegrationsResponse {
        integrations: states
            .iter()
            .filter(|s| visible(s))
            .map(|s| integration_to_pb(s, callback_url))
            .collect(),
        next_page_token: next_page_token(&ids, page),
    }
}

/// `VerifyWebhook`'s answer.
pub fn webhook_verdict_to_pb(answer: WebhookVerdict) -> pb::VerifyWebhookResponse {
    pb::VerifyWebhookResponse {
        valid: answer.verdict.is_ok(),
        reason: answer.verdict.err().unwrap_or_default(),
        provider_account_id: answer.provider_account_id.unwrap_or_default(),
        connection_id: answer
            .connection_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
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
