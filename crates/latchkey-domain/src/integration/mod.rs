//! The integration aggregate: one OAuth app at one provider, and every change to its
//! configuration as an event (configuration changes are audited like connections are).
//!
//! `config` holds the checked configuration, `input` the caller's unchecked form and its parsing,
//! `params` the per-connection values of its URLs, `hosts` where they may lead, `decide` the commands, events and state with their rules and fold.

mod checks;
mod client;
mod config;
mod connect_fields;
mod decide;
mod endpoints;
mod hosts;
mod input;
mod params;
mod refresh_policy;
#[cfg(test)]
pub(crate) mod tests;
mod token_handling;
mod webhooks;

pub use checks::*;
pub use client::*;
pub use config::*;
pub use connect_fields::*;
pub use decide::*;
pub use endpoints::*;
pub use hosts::*;
pub use input::*;
pub use params::*;
pub use refresh_policy::*;
pub use token_handling::*;
pub use webhooks::*;
