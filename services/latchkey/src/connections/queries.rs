//! Reading connections: one (also as it was at a past time, rebuilt from its log), a filtered
//! page of them, and their profile (name, description, labels), the one thing a caller changes
//! directly.

use chrono::{DateTime, Utc};
use latchkey_domain::{ConnectionId, DomainEvent, EventMeta, StreamId, connection};
use latchkey_store::{ConnectionFilter, Page};

use super::Connections;
use crate::callers::{Caller, Scope};
use crate::error::AppError;

impl Connections {
    /// A connection the caller may see. A deleted one is still shown (status deleted, no tokens):
    /// its history is audited. Another tenant's answers exactly as a missing one.
    pub async fn get(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<connection::State, AppError> {
        self.store
            .connection(id)
            .await?
            .filter(|state| caller.sees(&state.tenant))
            .ok_or_else(|| AppError::NotFound(format!("connection {id}")))
    }

    /// The connection as it was at `as_of`, rebuilt from its log.
    pub async fn get_as_of(
        &self,
        caller: &Caller,
        id: ConnectionId,
        as_of: DateTime<Utc>,
    ) -> Result<connection::State, AppError> {
        self.get(caller, id).await?;
        let mut state = None;
        let mut from = 1;
        'pages: loop {
            let page = self
                .store
                .read_stream(StreamId::Connection(id), from, Page::MAX_LIMIT)
                .await?;
            let Some(last) = page.last() else { break };
            if let Some(first) = page.first().filter(|e| from == 1 && e.version != 1) {
                return Err(AppError::FailedPrecondition(format!(
                    "the log of connection {id} before version {} is archived: its state at a \
                     given time cannot be rebuilt",
                    first.version
                )));
            }
            from = last.version + 1;
            let full = page.len() == Page::MAX_LIMIT as usize;
            for recorded in page {
                if recorded.occurred_at > as_of {
                    break 'pages;
                }
                if let DomainEvent::Connection(event) = recorded.event()? {
                    let meta = EventMeta {
                        version: recorded.version,
                        occurred_at: recorded.occurred_at,
                    };
                    state = connection::apply(state, &event, &meta);
                }
            }
            if !full {
                break;
            }
        }
        state.ok_or_else(|| AppError::NotFound(format!("connection {id} at {as_of}")))
    }

    /// Replaces a connection's profile (name, description, labels), recording `connection_updated`.
    pub async fn update_profile(
        &self,
        caller: &Caller,
        id: ConnectionId,
        profile: connection::Profile,
        expected_version: Option<u64>,
    ) -> Result<connection::State, AppError> {
        let state = self.get(caller, id).await?;
        if let Some(expected) = expected_version
            && expected != state.version
        {
            return Err(AppError::Conflict(format!(
                "connection {id} is at version {}, not {expected}",
                state.version
            )));
        }
        let events =
            connection::decide(Some(&state), connection::Command::UpdateProfile { profile })?;
        self.store
            .append(
                StreamId::Connection(id),
                state.version,
                events.into_iter().map(DomainEvent::from).collect(),
                &caller.context(),
            )
            .await?;
        self.get(caller, id).await
    }

    /// A tenant key lists its own tenant's connections only.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: ConnectionFilter,
        page: Page,
    ) -> Result<Vec<connection::State>, AppError> {
        if let Scope::Tenant(own) = &caller.scope {
            filter.tenant = Some(caller.acting_for(filter.tenant.unwrap_or_else(|| own.clone()))?);
        }
        Ok(self.store.list_connections(&filter, page).await?)
    }
}
