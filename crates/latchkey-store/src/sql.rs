//! SQL that both stores run, written once. A statement's text is the same on Postgres and SQLite
//! (`$n` parameters); what differs is how each database holds ids and times (Postgres: `uuid`,
//! `timestamptz`; SQLite: text), so values are bound as neutral [`Arg`]s and rows read through
//! [`Columns`], and each adapter says how ([`Db`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{ConnectionId, IntegrationId};
use uuid::Uuid;

use crate::StoreError;

/// A value bound to a statement's parameter.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Option<Vec<u8>>),
    Id(Option<Uuid>),
    Time(Option<DateTime<Utc>>),
    Bool(bool),
}

/// The arguments of a statement, in parameter order: `args![owner, limit]`.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::sql::Arg::from($value)),*]
    };
}
pub(crate) use args;

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}

impl From<&Vec<u8>> for Arg {
    fn from(v: &Vec<u8>) -> Self {
        Self::Bytes(Some(v.clone()))
    }
}

impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Self::Id(Some(v))
    }
}

impl From<Option<Uuid>> for Arg {
    fn from(v: Option<Uuid>) -> Self {
        Self::Id(v)
    }
}

impl From<ConnectionId> for Arg {
    fn from(v: ConnectionId) -> Self {
        Self::Id(Some(*v.as_uuid()))
    }
}

impl From<IntegrationId> for Arg {
    fn from(v: IntegrationId) -> Self {
        Self::Id(Some(*v.as_uuid()))
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Self::Time(Some(v))
    }
}

impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Self::Time(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

/// A counter or fence as stored (a signed 64-bit column).
pub(crate) fn stored_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A row's columns by position, read as the database holds them.
pub(crate) trait Columns {
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError>;
    fn id(&self, i: usize) -> Result<Uuid, StoreError>;
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError>;

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| null(i))
    }

    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| null(i))
    }

    fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(i)?.ok_or_else(|| null(i))
    }
}

fn null(i: usize) -> StoreError {
    StoreError::Corrupt(format!("column {i} is unexpectedly NULL"))
}

/// Runs statements on a database: its pool, or a transaction ([`Tx`]).
#[async_trait]
pub(crate) trait Db: Send + Sync {
    type Row: Columns + Send + Sync;
    async fn rows(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<Self::Row>, StoreError>;
    async fn row(&self, sql: &str, args: Vec<Arg>) -> Result<Option<Self::Row>, StoreError>;
    /// Runs a statement; the rows it changed.
    async fn run(&self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError>;
}

/// [`Db`] for a sqlx pool, given the adapter's `bound(sql, args)`: the same on both databases.
macro_rules! pool_db {
    ($pool:ty, $row:ty) => {
        #[async_trait::async_trait]
        impl $crate::sql::Db for $pool {
            type Row = $row;

            async fn rows(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<$row>, StoreError> {
                Ok(bound(sql, args).fetch_all(self).await?)
            }

            async fn row(&self, sql: &str, args: Vec<Arg>) -> Result<Option<$row>, StoreError> {
                Ok(bound(sql, args).fetch_optional(self).await?)
            }

            async fn run(&self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError> {
                Ok(bound(sql, args).execute(self).await?.rows_affected())
            }
        }
    };
}
pub(crate) use pool_db;

/// Statements inside an open transaction.
#[async_trait]
pub(crate) trait Tx: Send {
    async fn tx_run(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError>;
}
