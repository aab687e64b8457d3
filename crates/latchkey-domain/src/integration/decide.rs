//! Commands, events and state of the integration aggregate: the rules (`decide`) and the fold (`apply`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::config::*;
use crate::{DomainError, EventMeta, IntegrationId, SealedSecret, TenantId};

fn keep() -> SecretChange {
    SecretChange::Keep
}

/// What an update does to a stored secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SecretChange {
    Keep,
    Set { secret: SealedSecret },
    Clear,
}

#[derive(Debug, Clone)]
pub enum Command {
    Create {
        integration_id: IntegrationId,
        config: IntegrationConfig,
        client_secret: Option<SealedSecret>,
        webhook_secret: Option<SealedSecret>,
        /// The one tenant whose own OAuth app this is; `None`: shared by every tenant.
        owner: Option<TenantId>,
    },
    Update {
        config: IntegrationConfig,
        client_secret: SecretChange,
        webhook_secret: SecretChange,
    },
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    IntegrationCreated {
        integration_id: IntegrationId,
        config: IntegrationConfig,
        client_secret: Option<SealedSecret>,
        #[serde(default)]
        webhook_secret: Option<SealedSecret>,
        /// The one tenant whose own OAuth app this is; absent: shared by every tenant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<TenantId>,
    },
    IntegrationUpdated {
        config: IntegrationConfig,
        client_secret: SecretChange,
        #[serde(default = "keep")]
        webhook_secret: SecretChange,
    },
    IntegrationDeleted {},
    /// A verified delivery that matched no connection (its body sealed with this integration's
    /// key).
    WebhookUnrouted {
        delivery: crate::delivery::Delivery,
    },
    /// A provider's handshake with the webhook URL, answered.
    WebhookHandshake {
        handshake: crate::delivery::Handshake,
        /// The connection whose URL it was, for a per-connection URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connection_id: Option<crate::ConnectionId>,
    },
}

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::IntegrationCreated { .. } => "integration_created",
            Self::IntegrationUpdated { .. } => "integration_updated",
            Self::IntegrationDeleted { .. } => "integration_deleted",
            Self::WebhookUnrouted { .. } => "webhook_unrouted",
            Self::WebhookHandshake { .. } => "webhook_handshake",
        }
    }

    /// The payload schema of each event type; bumped when a type's payload changes shape.
    pub fn schema_version(&self) -> u32 {
        1
    }
}

/// The projected integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub id: IntegrationId,
    pub config: IntegrationConfig,
    pub client_secret: Option<SealedSecret>,
    #[serde(default)]
    pub webhook_secret: Option<SealedSecret>,
    /// `None`: shared by every tenant; else that tenant's own.
    #[serde(default)]
    pub owner: Option<TenantId>,
    pub deleted: bool,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// [`IntegrationConfig::check_shared_client`], its fields named as the request names them.
fn shared_client_rule(config: &IntegrationConfig, has_secret: bool) -> Result<(), DomainError> {
    config.check_shared_client(has_secret).map_err(|errors| {
        DomainError::Invalid(crate::ValidationErrors(
            errors.0.into_iter().map(|v| v.within("config")).collect(),
        ))
    })
}

/// All business rules of integrations.
pub fn decide(state: Option<&State>, command: Command) -> Result<Vec<Event>, DomainError> {
    let live = state.filter(|s| !s.deleted);
    match command {
        Command::Create {
            integration_id,
            config,
            client_secret,
            webhook_secret,
            owner,
        } => match state {
            Some(_) => Err(DomainError::AlreadyExists(format!(
                "integration {integration_id}"
            ))),
            None => {
                shared_client_rule(&config, client_secret.is_some())?;
                Ok(vec![Event::IntegrationCreated {
                    integration_id,
                    config,
                    client_secret,
                    webhook_secret,
                    owner,
                }])
            }
        },
        Command::Update {
            config,
            client_secret,
            webhook_secret,
        } => match live {
            None => Err(DomainError::NotFound("integration".to_owned())),
            Some(state) => {
                let has_secret = match &client_secret {
                    SecretChange::Keep => state.client_secret.is_some(),
                    SecretChange::Set { .. } => true,
                    SecretChange::Clear => false,
                };
                shared_client_rule(&config, has_secret)?;
                Ok(vec![Event::IntegrationUpdated {
                    config,
                    client_secret,
                    webhook_secret,
                }])
            }
        },
        Command::Delete => match live {
            None => Err(DomainError::NotFound("integration".to_owned())),
            Some(_) => Ok(vec![Event::IntegrationDeleted {}]),
        },
    }
}

/// Folds one event into the state. No rules and no failure: the log is the truth. An event that
/// cannot follow the state (only possible in a log that `decide` did not write) leaves it as is.
pub fn apply(state: Option<State>, event: &Event, meta: &EventMeta) -> Option<State> {
    match (state, event) {
        (
            None,
            Event::IntegrationCreated {
                integration_id,
                config,
                client_secret,
                webhook_secret,
                owner,
            },
        ) => Some(State {
            id: *integration_id,
            config: config.clone(),
            client_secret: client_secret.clone(),
            webhook_secret: webhook_secret.clone(),
            owner: owner.clone(),
            deleted: false,
            version: meta.version,
            created_at: meta.occurred_at,
            updated_at: meta.occurred_at,
        }),
        (Some(mut s), event) => {
            match event {
                Event::IntegrationCreated { .. } => return Some(s),
                Event::IntegrationUpdated {
                    config,
                    client_secret,
                    webhook_secret,
                } => {
                    s.config = config.clone();
                    for (change, slot) in [
                        (client_secret, &mut s.client_secret),
                        (webhook_secret, &mut s.webhook_secret),
                    ] {
                        match change {
                            SecretChange::Keep => {}
                            SecretChange::Set { secret } => *slot = Some(secret.clone()),
                            SecretChange::Clear => *slot = None,
                        }
                    }
                }
                Event::IntegrationDeleted {} => s.deleted = true,
                Event::WebhookUnrouted { .. } | Event::WebhookHandshake { .. } => {
                    // Kept in the stream, not in the state.
                    s.version = meta.version;
                    return Some(s);
                }
            }
            s.version = meta.version;
            s.updated_at = meta.occurred_at;
            Some(s)
        }
        (None, _) => None,
    }
}
