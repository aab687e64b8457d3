//! The shared SQL on SQLite: ids and times are text (times as RFC 3339 with microseconds, so
//! that text order is time order).

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, Sqlite, SqlitePool};
use uuid::Uuid;

use crate::StoreError;
use crate::sql::{Arg, Columns};

pub(super) fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

pub(super) fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::try_parse(text).map_err(|e| StoreError::Corrupt(format!("uuid {text:?}: {e}")))
}

/// A statement with its arguments bound.
pub(super) fn bound(sql: &str, args: Vec<Arg>) -> Query<'_, Sqlite, SqliteArguments<'_>> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
            Arg::Bytes(v) => query.bind(v),
            Arg::Id(v) => query.bind(v.map(|id| id.to_string())),
            Arg::Time(v) => query.bind(v.map(time_text)),
            Arg::Bool(v) => query.bind(v),
        };
    }
    query
}

impl Columns for SqliteRow {
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(i)?)
    }

    fn id(&self, i: usize) -> Result<Uuid, StoreError> {
        parse_uuid(&self.try_get::<String, _>(i)?)
    }

    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> = self.try_get(i)?;
        text.as_deref().map(parse_time).transpose()
    }
}

crate::sql::pool_db!(SqlitePool, SqliteRow);
