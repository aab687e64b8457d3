//! Latchkey's domain: the values, the integration configuration, the connection and integration
//! aggregates and the events they produce.
//!
//! A connection's state is what its event log says. Every change goes through a `decide` function
//! (`command + state -> events`, where all business rules live) and every state is rebuilt with an
//! `apply` function (`state + event -> state`, no rules, no failure). Both are pure: this crate does
//! no IO, has no async runtime, reads no clock and draws no random number; everything from outside
//! (the time, sealed secrets, generated ids) is passed in. It must never depend on a database, a
//! network or a crypto implementation: secrets reach it already sealed, as opaque [`Sealed`] bytes.
//!
//! ```
//! use chrono::Utc;
//! use latchkey_domain::{connection, ConnectionId, EventMeta, GrantType, IntegrationId, TenantId};
//!
//! let id = ConnectionId::new_v7();
//! let events = connection::decide(
//!     None,
//!     connection::Command::Create {
//!         connection_id: id,
//!         integration_id: IntegrationId::new_v7(),
//!         tenant: TenantId::parse("acme").unwrap(),
//!         grant_type: GrantType::AuthorizationCode,
//!     },
//! )
//! .unwrap();
//! let meta = EventMeta { version: 1, occurred_at: Utc::now() };
//! let state = connection::apply(None, &events[0], &meta).unwrap();
//! assert_eq!(state.status, connection::Status::Pending);
//! ```
#![forbid(unsafe_code)]

pub mod connection;
pub mod delivery;
mod error;
mod event;
mod ids;
pub mod integration;
mod sealed;
pub mod session;
pub mod system;
pub mod templates;
pub mod text;
mod values;
pub mod webhook;
pub mod webhook_check;
pub mod webhook_facts;

pub use error::{DomainError, FieldViolation, ValidationErrors};
pub use event::{DomainEvent, EVENT_TYPES, EventMeta, StreamId, StreamKind};
pub use ids::{ConnectSessionId, ConnectionId, IntegrationId, TenantId};
pub use integration::{
    AccountMapping, ClientAuthMethod, GrantType, IntegrationConfig, RefreshTokenReuse,
    TokenPlacement, TokenRequestFormat, TokenResponseMapping, TokenValidation,
};
pub use sealed::{Sealed, SealedSecret};
pub use system::SystemStream;
pub use values::{
    ClientId, IntegrationName, MAX_SECRET_LEN, ParamMap, ProviderUrl, ResponseType, Scope,
    ScopeSeparator, check_secret, origin_of, parse_origin,
};
