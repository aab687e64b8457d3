//! Black-box tests of the whole service: the real `latchkey` binary on port 0, in both storage
//! modes, driven through generated gRPC clients and plain HTTP.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used, clippy::large_enum_variant)]

mod access;
mod audit;
mod browser;
mod chaos;
mod cli;
mod cli_habits;
mod config;
mod connect;
mod deploy;
mod docs;
mod grants;
mod helpers;
mod holes;
mod http_json;
mod in_doubt;
mod integrations;
mod keys;
mod lifecycle;
mod observability;
mod oidc_flows;
mod oidc_provider;
mod operators;
mod quickstart;
mod reach;
mod refresh_faults;
mod rejected;
mod relay;
mod relay_faults;
mod revocations;
mod scale;
mod server;
mod service_accounts;
mod tls;
mod traces;
mod webhook_providers;
mod webhooks;
