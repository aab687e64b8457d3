//! The Latchkey service: configuration, start-up, the gRPC API, the HTTP listener, and the
//! application services that tie the domain to its adapters.
//!
//! The binary (`main.rs`) parses the command line and calls [`app::App`]; tests build the same
//! `App` on port 0. Secrets reach this crate only to be sealed or handed to their owner: they are
//! `SecretString`s, and never logged.
#![forbid(unsafe_code)]

pub mod access;
pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod error;
pub mod grants;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod ops;
pub mod refresh;
pub mod relay;
pub mod service;
pub mod telemetry;
pub mod validator;
pub mod vault;
