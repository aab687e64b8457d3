//! Who is asking: the identity that becomes an event's `actor`, the trace that becomes its
//! `correlation_id`, and what the caller may see (admin, or one tenant).

use chrono::{DateTime, Utc};
use latchkey_domain::TenantId;
use latchkey_store::EventContext;

use crate::error::AppError;

/// What a caller may see and touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Admin,
    Tenant(TenantId),
}

/// What a key may do, each role including the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// `GetToken`, reads (connections, integrations, history, access log), `VerifyWebhook`.
    Reader,
    /// Also connect, refresh, validate, label, revoke, delete and import connections.
    Manager,
    /// Everything its scope allows (integrations, for an admin-scoped key).
    Admin,
}

impl Role {
    pub const NAMES: [&'static str; 3] = ["reader", "manager", "admin"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reader" => Some(Self::Reader),
            "manager" => Some(Self::Manager),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Manager => "manager",
            Self::Admin => "admin",
        }
    }
}

/// Who is asking and under which trace: becomes the events' `actor` and `correlation_id`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: String,
    pub correlation_id: Option<String>,
    pub scope: Scope,
}

impl Caller {
    /// Latchkey itself (the refresher, the hosted callback).
    pub fn system(actor: &str) -> Self {
        Self {
            actor: actor.to_owned(),
            correlation_id: crate::telemetry::current_trace_id(),
            scope: Scope::Admin,
        }
    }

    /// Whether this caller may see a connection of `tenant`. Callers that may not are answered
    /// exactly as for a connection that does not exist.
    pub fn sees(&self, tenant: &TenantId) -> bool {
        match &self.scope {
            Scope::Admin => true,
            Scope::Tenant(own) => own == tenant,
        }
    }

    /// Whether this caller may see and use an integration: a shared one, or its tenant's own.
    pub fn uses(&self, integration: &latchkey_domain::integration::State) -> bool {
        match (&self.scope, &integration.owner) {
            (Scope::Admin, _) | (_, None) => true,
            (Scope::Tenant(own), Some(owner)) => own == owner,
        }
    }

    /// Whether this caller may change an integration: any, for a key of every tenant; its
    /// tenant's own, for a tenant key (a shared one is the platform's).
    pub fn may_change(
        &self,
        integration: &latchkey_domain::integration::State,
    ) -> Result<(), AppError> {
        match (&self.scope, &integration.owner) {
            (Scope::Admin, _) => Ok(()),
            (Scope::Tenant(own), Some(owner)) if own == owner => Ok(()),
            (Scope::Tenant(_), Some(_)) => Err(AppError::NotFound(format!(
                "integration {}",
                integration.id
            ))),
            (Scope::Tenant(_), None) => Err(AppError::PermissionDenied(format!(
                "integration {} is shared by every tenant; only the platform changes it",
                integration.id
            ))),
        }
    }

    /// Who owns an integration this caller creates: a tenant key's own tenant always.
    pub fn owner_of_new(&self, requested: Option<TenantId>) -> Result<Option<TenantId>, AppError> {
        match (&self.scope, requested) {
            (Scope::Admin, requested) => Ok(requested),
            (Scope::Tenant(own), None) => Ok(Some(own.clone())),
            (Scope::Tenant(own), Some(requested)) => {
                self.acting_for(requested)?;
                Ok(Some(own.clone()))
            }
        }
    }

    pub fn require_admin(&self, what: &str) -> Result<(), AppError> {
        match self.scope {
            Scope::Admin => Ok(()),
            Scope::Tenant(_) => Err(AppError::PermissionDenied(format!(
                "{what} needs an admin key; this key is scoped to one tenant"
            ))),
        }
    }

    /// The tenant a request acts for: the one it names, which a tenant key must own.
    pub fn acting_for(&self, requested: TenantId) -> Result<TenantId, AppError> {
        match &self.scope {
            Scope::Tenant(own) if *own != requested => Err(AppError::PermissionDenied(format!(
                "this key is scoped to tenant {own}, not {requested}"
            ))),
            _ => Ok(requested),
        }
    }

    /// A tenant key may add parameters to a request, not change those the integration pins
    /// (an `audience`, a `resource`): they decide what the tokens are good for.
    pub fn may_set(
        &self,
        requested: &latchkey_domain::ParamMap,
        pinned: &latchkey_domain::ParamMap,
        field: &str,
    ) -> Result<(), AppError> {
        if self.scope == Scope::Admin {
            return Ok(());
        }
        match requested
            .iter()
            .find(|(key, _)| pinned.iter().any(|(p, _)| p == *key))
        {
            Some((key, _)) => Err(AppError::PermissionDenied(format!(
                "{field}.{key} is pinned by the integration; a tenant key cannot change it"
            ))),
            None => Ok(()),
        }
    }

    /// The context of the events this caller causes now.
    pub fn context(&self) -> EventContext {
        self.context_at(Utc::now())
    }

    /// The context of the events this caller causes at `now`.
    pub fn context_at(&self, now: DateTime<Utc>) -> EventContext {
        EventContext {
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.clone(),
            occurred_at: now,
        }
    }
}
