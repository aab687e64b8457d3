//! The connection aggregate: one customer's grant through one integration, from the first
//! "Connect" click to revocation or deletion.
//!
//! `types` holds the state, commands and events; `decide` the rules and the fold; `refresh` the
//! pure rules of keeping tokens fresh (when, how long to wait, what a failure means).

mod decide;
mod metadata;
pub mod refresh;
pub mod refresh_token;
#[cfg(test)]
mod tests;
mod types;

pub use decide::{apply, decide, decide_new};
pub use metadata::{Metadata, is_secret_name, without_secrets};
pub use types::*;
