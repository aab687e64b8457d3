//! The shared SQL on Postgres: ids bind as `uuid`, times as `timestamptz`.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row};
use uuid::Uuid;

use crate::StoreError;
use crate::sql::{Arg, Columns};

/// A statement with its arguments bound.
pub(super) fn bound(sql: &str, args: Vec<Arg>) -> Query<'_, Postgres, PgArguments> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
            Arg::Bytes(v) => query.bind(v),
            Arg::Id(v) => query.bind(v),
            Arg::Time(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
        };
    }
    query
}

impl Columns for PgRow {
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        // `int4` columns (a schema version) read as wide as the rest.
        match self.try_get::<Option<i64>, _>(i) {
            Ok(v) => Ok(v),
            Err(_) => Ok(self.try_get::<Option<i32>, _>(i)?.map(i64::from)),
        }
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn id(&self, i: usize) -> Result<Uuid, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.try_get(i)?)
    }
}

crate::sql::pool_db!(PgPool, PgRow);
