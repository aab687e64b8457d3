//! An append on SQLite: the statements of the shared append algorithm, inside a transaction that
//! holds the write lock from its start (`BEGIN IMMEDIATE`), so two writers never both read a
//! stream and then race to upgrade; the loser waits (busy timeout) and then sees the new version.

use async_trait::async_trait;
use latchkey_domain::StreamId;
use sqlx::{Sqlite, Transaction};

use super::db::{bound, time_text};
use crate::append::{AppendTx, EventRow, duplicate_name};
use crate::sql::{Arg, Tx};
use crate::{Projection, StoreError, from_version, parse_projection, to_json};

/// An append transaction on SQLite, holding the write lock from its start.
pub(crate) struct SqliteAppend(pub(super) Transaction<'static, Sqlite>);

#[async_trait]
impl AppendTx for SqliteAppend {
    async fn last_event(&mut self, stream_id: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT version, hash FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(stream_id)
        .fetch_optional(&mut *self.0)
        .await?)
    }

    async fn load_projection(&mut self, stream: StreamId) -> Result<Projection, StoreError> {
        let (table, id) = match stream {
            StreamId::Integration(id) => ("integrations", id.to_string()),
            StreamId::Connection(id) => ("connections", id.to_string()),
            StreamId::System(_) | StreamId::Session(_) => return Ok(Projection::Unfolded),
        };
        let json: Option<String> =
            sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *self.0)
                .await?;
        parse_projection(stream.kind(), json.as_deref())
    }

    async fn insert_event(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error> {
        let e = row.event;
        sqlx::query_scalar(
            "INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, event_type, \
             schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING position",
        )
        .bind(e.event_id.to_string())
        .bind(row.stream_id)
        .bind(row.stream.kind().as_str())
        .bind(e.version as i64)
        .bind(row.tenant)
        .bind(e.event_type)
        .bind(i64::from(e.schema_version))
        .bind(time_text(row.occurred_at))
        .bind(&row.context.actor)
        .bind(&row.context.correlation_id)
        .bind(&e.payload)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .fetch_one(&mut *self.0)
        .await
    }

    async fn save_projection(&mut self, projection: &Projection) -> Result<(), StoreError> {
        match projection {
            Projection::Integration(Some(s)) => {
                sqlx::query(
                    "INSERT INTO integrations (id, name, deleted, version, updated_at, state) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     deleted = excluded.deleted, version = excluded.version, \
                     updated_at = excluded.updated_at, state = excluded.state",
                )
                .bind(s.id.to_string())
                .bind(s.config.name.as_str())
                .bind(s.deleted)
                .bind(from_version(s.version)?)
                .bind(time_text(s.updated_at))
                .bind(to_json(s)?)
                .execute(&mut *self.0)
                .await
                .map_err(|e| duplicate_name(e, s.config.name.as_str()))?;
            }
            Projection::Connection(Some(s)) => {
                sqlx::query(
                    "INSERT INTO connections \
                     (id, integration_id, tenant, status, version, expires_at, updated_at, state, \
                     pending_state, refresh_at, labels, provider_account_id, validated_at, \
                     failing_since) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                     ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
                     version = excluded.version, expires_at = excluded.expires_at, \
                     updated_at = excluded.updated_at, state = excluded.state, \
                     pending_state = excluded.pending_state, refresh_at = excluded.refresh_at, \
                     labels = excluded.labels, provider_account_id = excluded.provider_account_id, \
                     validated_at = excluded.validated_at, failing_since = excluded.failing_since, \
                     claimed_until = CASE WHEN connections.status IS NOT excluded.status \
                       OR connections.refresh_at IS NOT excluded.refresh_at \
                       OR connections.expires_at IS NOT excluded.expires_at \
                     THEN NULL ELSE connections.claimed_until END",
                )
                .bind(s.id.to_string())
                .bind(s.integration_id.to_string())
                .bind(s.tenant.as_str())
                .bind(s.status.as_str())
                .bind(from_version(s.version)?)
                .bind(s.expires_at.map(time_text))
                .bind(time_text(s.updated_at))
                .bind(to_json(s)?)
                .bind(
                    s.pending_authorization
                        .as_ref()
                        .map(|p| p.state_digest.as_str()),
                )
                .bind(s.refresh_at.map(time_text))
                .bind(to_json(&s.profile.labels)?)
                .bind(s.provider_account_id.as_deref())
                .bind(s.last_validation.as_ref().map(|v| time_text(v.at)))
                .bind(s.failing_since.map(time_text))
                .execute(&mut *self.0)
                .await?;
            }
            Projection::Integration(None) | Projection::Connection(None) | Projection::Unfolded => {
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Tx for SqliteAppend {
    async fn tx_run(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(bound(sql, args)
            .execute(&mut *self.0)
            .await?
            .rows_affected())
    }
}
