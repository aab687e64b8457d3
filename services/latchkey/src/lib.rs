//! The Latchkey service: configuration, start-up, the gRPC API, the HTTP listener, the operator
//! CLI, and the use cases that tie the domain to its adapters.
//!
//! Layers, each importing only from those below it:
//! - boot: `main.rs` calls [`commands::main`], which parses the command line and runs the command
//!   (`serve` builds [`app::App`]); tests build the same `App` on port 0;
//! - inbound: `api` (gRPC handlers), `http` and `public` (callback, start link, health),
//!   `connect_pages`, `admin` (metrics), `commands` (every command and its output), `auth` (who
//!   a caller is);
//! - use cases: `connections`, `integrations`, `audit`;
//! - infrastructure: `vault` and `keys` (sealing), `cache` (the projection `GetToken` reads),
//!   `relay` (NATS), `access` (the token-read log);
//! - leaves: `config` (settings), `callers`, `error`, `telemetry`, `metrics`, `wire`.
//!
//! Secrets reach this crate only to be sealed or handed to their owner: they are `SecretString`s,
//! and never logged. What other crates may use is re-exported at the root ([`App`], [`Settings`],
//! [`ProjectionCache`]).
#![forbid(unsafe_code)]

mod access;
mod admin;
mod api;
pub mod app;
mod audit;
mod auth;
mod bounded;
mod cache;
mod callers;
pub mod commands;
pub mod config;
mod connect_pages;
mod connections;
mod error;
mod http;
pub mod http_json;
mod inbound;
mod integrations;
pub mod keys;
mod metrics;
mod public;
mod public_state;
mod public_webhooks;
mod relay;
pub mod telemetry;
mod vault;
mod wire;

pub use app::{App, open_store};
pub use auth::generate as generate_api_key;
pub use cache::{DEFAULT_BUDGET_BYTES, ProjectionCache};
pub use callers::Role;
pub use config::{Config, Settings};
pub use metrics::family_names as metric_families;
