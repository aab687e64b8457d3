//! The production adapter: Postgres, with migrations from `migrations/postgres`. What it shares
//! with SQLite lives in `crate::roles`; here are its own parts: the group commit and coalesced
//! reads, claims with `SKIP LOCKED`, the relay's commit order by transaction id, `LISTEN`, and the
//! partitioned log's archive.

mod archive;
mod db;
mod group;
mod heads;
mod listen;
mod plans;
mod queries;
mod reads;
mod relay;
mod schedule;
mod store;
mod system;
mod write;

pub use listen::{NOTIFY_CHANNEL, ROUTES_CHANNEL};
pub use store::{Migrations, PgStore};
