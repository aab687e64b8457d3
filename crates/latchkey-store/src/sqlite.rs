//! The embedded default: one SQLite file, with migrations from `migrations/sqlite`. What it
//! shares with Postgres lives in `crate::roles`; here are its own parts: one writer at a time
//! (`BEGIN IMMEDIATE`), claims and leases under that lock, and commit order as position order.

mod append;
mod db;
mod relay;
mod schedule;
mod store;

pub use store::SqliteStore;
