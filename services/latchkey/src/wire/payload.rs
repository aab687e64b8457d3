//! The typed payload of an event (`latchkey.v1.Event.payload`): the same facts as its JSON, one
//! message per event type, sealed values left out.

use latchkey_domain::{DomainEvent, connection, integration, session, system};
use latchkey_proto::v1 as pb;
use pb::event::Payload;

use super::timestamp;

fn tokens(t: &connection::TokenSet) -> pb::TokenGrant {
    pb::TokenGrant {
        token_type: t.token_type.clone(),
        expires_at: t.expires_at.map(timestamp),
        scopes: t.scopes.clone(),
        refresh_token_issued: t.refresh_token.is_some(),
        refresh_at: t.refresh_at.map(timestamp),
    }
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn connection_payload(event: &connection::Event) -> Payload {
    use connection::Event as E;
    if let Some(payload) = refresh_payload(event) {
        return payload;
    }
    match event {
        E::ConnectionCreated {
            connection_id,
            integration_id,
            tenant,
            grant_type,
        } => Payload::ConnectionCreated(pb::ConnectionCreated {
            connection_id: connection_id.to_string(),
            integration_id: integration_id.to_string(),
            tenant: tenant.to_string(),
            grant_type: grant_type.as_str().to_owned(),
        }),
        E::ConnectionUpdated { profile } => Payload::ConnectionUpdated(pb::ConnectionUpdated {
            name: profile.name.clone(),
            description: profile.description.clone(),
            labels: profile.labels.clone().into_iter().collect(),
        }),
        E::Validated { valid, reason } => Payload::Validated(pb::Validated {
            valid: *valid,
            reason: text(reason),
        }),
        E::AuthorizationStarted { authorization: a } => {
            Payload::AuthorizationStarted(pb::AuthorizationStarted {
                expires_at: Some(timestamp(a.expires_at)),
                scopes: a.scopes.clone(),
                redirect_uri: a.redirect_uri.clone(),
                return_url: text(&a.return_url),
                pkce: a.pkce_verifier.is_some(),
            })
        }
        E::Authorized {
            grant_type,
            tokens: t,
            provider_account_id,
            via,
            ..
        } => Payload::Authorized(pb::Authorized {
            grant_type: grant_type.as_str().to_owned(),
            tokens: Some(tokens(t)),
            provider_account_id: text(provider_account_id),
            via_connection_id: via.map(|v| v.to_string()).unwrap_or_default(),
        }),
        E::Imported {
            tokens: t,
            provider_account_id,
            source_id,
        } => Payload::Imported(pb::Imported {
            tokens: Some(tokens(t)),
            provider_account_id: text(provider_account_id),
            source_id: text(source_id),
        }),
        E::MergedInto { into } => Payload::MergedInto(pb::MergedInto {
            into_connection_id: into.to_string(),
        }),
        E::AuthorizationFailed { error, description } => {
            Payload::AuthorizationFailed(pb::AuthorizationFailed {
                error: error.clone(),
                description: text(description),
            })
        }
        E::Revoked { reason, provider } => Payload::Revoked(pb::Revoked {
            reason: reason.clone(),
            provider: answers(provider),
        }),
        E::RevocationRetried {
            provider,
            attempt,
            confirmed,
            gave_up,
        } => Payload::RevocationRetried(pb::RevocationRetried {
            provider: answers(provider),
            attempt: *attempt,
            confirmed: *confirmed,
            gave_up: *gave_up,
        }),
        E::Deleted {} => Payload::Deleted(pb::Deleted {}),
        E::ParametersSet { values } => Payload::ParametersSet(pb::ParametersSet {
            values: values.clone().into_iter().collect(),
        }),
        E::AuthorizationOpened { .. } => Payload::AuthorizationOpened(pb::AuthorizationOpened {}),
        E::CallbackCaptured { values } => Payload::CallbackCaptured(pb::CallbackCaptured {
            values: values.clone().into_iter().collect(),
        }),
        E::WebhookReceived { delivery: d } => Payload::WebhookReceived(delivery(d)),
        E::ActionReceived { delivery: d } => Payload::ActionReceived(delivery(d)),
        E::WebhookSecretSet { secret } => Payload::WebhookSecretSet(pb::WebhookSecretSet {
            fingerprint: secret
                .as_ref()
                .map(|s| s.fingerprint.clone())
                .unwrap_or_default(),
        }),
        E::TokenRejected { .. }
        | E::RefreshTokenStillActive { .. }
        | E::Refreshed { .. }
        | E::RefreshFailed { .. }
        | E::ReauthorizationRequired { .. }
        | E::Expired {}
        | E::RefreshTokenExpiring { .. }
        | E::ConnectionFailing { .. }
        | E::ConnectionRecovered { .. } => unreachable!("the refresh events are above"),
    }
}

/// The events of keeping tokens fresh: refreshes, their failures, health and expiry.
fn refresh_payload(event: &connection::Event) -> Option<Payload> {
    use connection::Event as E;
    Some(match event {
        E::Refreshed { tokens: t } => Payload::Refreshed(pb::Refreshed {
            tokens: Some(tokens(t)),
        }),
        E::RefreshFailed {
            error,
            description,
            retryable,
            retry_at,
            attempt,
        } => Payload::RefreshFailed(pb::RefreshFailed {
            error: error.clone(),
            description: text(description),
            retryable: *retryable,
            retry_at: retry_at.map(timestamp),
            attempt: *attempt,
        }),
        E::ReauthorizationRequired { error, description } => {
            Payload::ReauthorizationRequired(pb::ReauthorizationRequired {
                error: error.clone(),
                description: text(description),
            })
        }
        E::Expired {} => Payload::Expired(pb::Expired {}),
        E::RefreshTokenExpiring { expires_at } => {
            Payload::RefreshTokenExpiring(pb::RefreshTokenExpiring {
                expires_at: Some(timestamp(*expires_at)),
            })
        }
        E::ConnectionFailing { error, description } => {
            Payload::ConnectionFailing(pb::ConnectionFailing {
                error: error.clone(),
                description: description.clone().unwrap_or_default(),
            })
        }
        E::ConnectionRecovered { failing_since } => {
            Payload::ConnectionRecovered(pb::ConnectionRecovered {
                failing_since: Some(timestamp(*failing_since)),
            })
        }
        E::TokenRejected {
            http_status,
            provider_error,
            token_version,
            verdict,
        } => Payload::TokenRejected(pb::TokenRejected {
            http_status: u32::from(*http_status),
            provider_error: text(provider_error),
            token_version: *token_version,
            verdict: verdict.clone(),
        }),
        E::RefreshTokenStillActive { sent_at } => {
            Payload::RefreshTokenStillActive(pb::RefreshTokenStillActive {
                sent_at: Some(timestamp(*sent_at)),
            })
        }
        _ => return None,
    })
}

/// What the provider answered to each revocation request.
fn answers(provider: &[connection::RevocationOutcome]) -> Vec<pb::RevocationAnswer> {
    provider
        .iter()
        .map(|p| pb::RevocationAnswer {
            token_type_hint: p.token_type_hint.clone(),
            status: p.status.map(u32::from).unwrap_or_default(),
            error: text(&p.error),
        })
        .collect()
}

/// A delivery on the wire, its body left out (it is sealed in the log).
pub fn delivery(d: &latchkey_domain::delivery::Delivery) -> pb::WebhookDelivery {
    pb::WebhookDelivery {
        delivery_id: d.delivery_id.clone(),
        event_type: d.event_type.clone(),
        routing_keys: d.routing_keys.clone(),
        scheme: d.scheme.clone(),
        headers: d.headers.clone().into_iter().collect(),
        content_type: d.content_type.clone(),
        size: d.size,
        body: Vec::new(),
    }
}

fn integration_payload(event: &integration::Event) -> Payload {
    use integration::Event as E;
    match event {
        E::IntegrationCreated {
            integration_id,
            config,
            owner,
            ..
        } => Payload::IntegrationCreated(pb::IntegrationCreated {
            integration_id: integration_id.to_string(),
            name: config.name.as_str().to_owned(),
            grant_type: config.grant_type.as_str().to_owned(),
            owner_tenant: owner.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        }),
        E::IntegrationUpdated { config, .. } => {
            Payload::IntegrationUpdated(pb::IntegrationUpdated {
                name: config.name.as_str().to_owned(),
                grant_type: config.grant_type.as_str().to_owned(),
            })
        }
        E::IntegrationDeleted {} => Payload::IntegrationDeleted(pb::IntegrationDeleted {}),
        E::WebhookUnrouted { delivery: d } => Payload::WebhookUnrouted(delivery(d)),
        E::WebhookHandshake {
            handshake,
            connection_id,
        } => Payload::WebhookHandshake(pb::WebhookHandshake {
            handshake: handshake.as_str().to_owned(),
            connection_id: connection_id.map(|c| c.to_string()).unwrap_or_default(),
        }),
    }
}

fn system_payload(event: &system::Event) -> Payload {
    use system::Event as E;
    match event {
        E::ApiKeyCreated {
            key_id,
            name,
            tenant,
            role,
            expires_at,
        } => Payload::ApiKeyCreated(pb::ApiKeyCreated {
            key_id: key_id.clone(),
            name: name.clone(),
            tenant: tenant.as_ref().map(|t| t.to_string()).unwrap_or_default(),
            role: role.clone(),
            expires_at: expires_at.map(timestamp),
        }),
        E::ApiKeyRevoked { key_id } => Payload::ApiKeyRevoked(pb::ApiKeyRevoked {
            key_id: key_id.clone(),
        }),
        E::MasterKeyRotated {
            active,
            retired,
            rewrapped,
        } => Payload::MasterKeyRotated(pb::MasterKeyRotated {
            active: active.clone(),
            retired: retired.clone(),
            rewrapped: *rewrapped,
        }),
        E::MasterKeyDropped { key_id } => Payload::MasterKeyDropped(pb::MasterKeyDropped {
            key_id: key_id.clone(),
        }),
        E::TokensRead { reads } => Payload::TokensRead(pb::TokensRead {
            reads: reads
                .iter()
                .map(|r| pb::TokenReadCount {
                    actor: r.actor.clone(),
                    connection_id: r.connection_id.to_string(),
                    minute: Some(timestamp(r.minute)),
                    reads: r.reads,
                })
                .collect(),
        }),
    }
}

fn session_payload(event: &session::Event) -> Payload {
    match event {
        session::Event::ConnectSessionCreated {
            session_id,
            tenant,
            integration_ids,
            return_url,
            connection_id,
            expires_at,
            max_connections,
            appearance,
            ..
        } => Payload::ConnectSessionCreated(pb::ConnectSessionCreated {
            session_id: session_id.to_string(),
            tenant: tenant.to_string(),
            integration_ids: integration_ids.iter().map(ToString::to_string).collect(),
            return_url: text(return_url),
            connection_id: connection_id.map(|c| c.to_string()).unwrap_or_default(),
            expires_at: Some(timestamp(*expires_at)),
            max_connections: *max_connections,
            locale: appearance
                .as_ref()
                .and_then(|a| a.locale.clone())
                .unwrap_or_default(),
            platform_name: appearance
                .as_ref()
                .and_then(|a| a.platform_name.clone())
                .unwrap_or_default(),
            accent_color: appearance
                .as_ref()
                .and_then(|a| a.accent_color.clone())
                .unwrap_or_default(),
            support_url: appearance
                .as_ref()
                .and_then(|a| a.support_url.clone())
                .unwrap_or_default(),
        }),
        session::Event::ConnectSessionOpened { .. } => {
            Payload::ConnectSessionOpened(pb::ConnectSessionOpened {})
        }
        session::Event::ConnectSessionConnected { connection_id } => {
            Payload::ConnectSessionConnected(pb::ConnectSessionConnected {
                connection_id: connection_id.to_string(),
            })
        }
        session::Event::ConnectSessionFailed {
            integration_id,
            connection_id,
            error,
        } => Payload::ConnectSessionFailed(pb::ConnectSessionFailed {
            integration_id: integration_id.map(|i| i.to_string()).unwrap_or_default(),
            connection_id: connection_id.map(|c| c.to_string()).unwrap_or_default(),
            error: error.clone(),
        }),
    }
}

/// The typed payload of an event.
pub fn payload(event: &DomainEvent) -> Payload {
    match event {
        DomainEvent::Connection(e) => connection_payload(e),
        DomainEvent::Integration(e) => integration_payload(e),
        DomainEvent::System(e) => system_payload(e),
        DomainEvent::Session(e) => session_payload(e),
    }
}
