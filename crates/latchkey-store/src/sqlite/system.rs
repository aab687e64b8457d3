//! The system streams on SQLite: each write changes its table (API keys, token reads) and appends
//! its event in one transaction, which holds the write lock from its start.

use latchkey_domain::{DomainEvent, SystemStream, system};
use sqlx::sqlite::SqlitePool;

use super::{SqliteAppend, time_text};
use crate::append::{append_at_head, one};
use crate::{
    ApiKeyRecord, EventContext, RecordedEvent, StoreError, TokenReads, tokens_read_events,
};

async fn begin(pool: &SqlitePool) -> Result<SqliteAppend, StoreError> {
    Ok(SqliteAppend(pool.begin_with("BEGIN IMMEDIATE").await?))
}

async fn finish(
    mut tx: SqliteAppend,
    stream: SystemStream,
    events: &[DomainEvent],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let recorded = append_at_head(&mut tx, stream, events, context).await?;
    tx.0.commit().await?;
    Ok(recorded)
}

pub(super) async fn create_api_key(
    pool: &SqlitePool,
    key: &ApiKeyRecord,
    context: &EventContext,
) -> Result<RecordedEvent, StoreError> {
    let mut tx = begin(pool).await?;
    sqlx::query(
        "INSERT INTO api_keys (id, name, tenant, secret_hash, created_at, role, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.id)
    .bind(&key.name)
    .bind(key.tenant.as_ref().map(|t| t.as_str()))
    .bind(&key.secret_hash)
    .bind(time_text(key.created_at))
    .bind(&key.role)
    .bind(key.expires_at.map(time_text))
    .execute(&mut *tx.0)
    .await?;
    let event = DomainEvent::System(crate::api_key_created(key));
    one(finish(tx, SystemStream::Keys, &[event], context).await?)
}

pub(super) async fn revoke_api_key(
    pool: &SqlitePool,
    id: &str,
    context: &EventContext,
) -> Result<Option<RecordedEvent>, StoreError> {
    let mut tx = begin(pool).await?;
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(time_text(crate::prepared_time(context)))
            .execute(&mut *tx.0)
            .await?
            .rows_affected();
    if done != 1 {
        return Ok(None);
    }
    let event = DomainEvent::System(system::Event::ApiKeyRevoked {
        key_id: id.to_owned(),
    });
    one(finish(tx, SystemStream::Keys, &[event], context).await?).map(Some)
}

pub(super) async fn record_event(
    pool: &SqlitePool,
    event: system::Event,
    context: &EventContext,
) -> Result<RecordedEvent, StoreError> {
    let stream = SystemStream::of(&event);
    let tx = begin(pool).await?;
    one(finish(tx, stream, &[DomainEvent::System(event)], context).await?)
}

pub(super) async fn record_token_reads(
    pool: &SqlitePool,
    reads: &[TokenReads],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    if reads.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = begin(pool).await?;
    for r in reads {
        sqlx::query(
            "INSERT INTO token_reads (actor, connection_id, minute, reads) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (connection_id, minute, actor) DO UPDATE SET reads = token_reads.reads + excluded.reads",
        )
        .bind(&r.actor)
        .bind(r.connection.to_string())
        .bind(time_text(r.minute))
        .bind(i64::try_from(r.reads).unwrap_or(i64::MAX))
        .execute(&mut *tx.0)
        .await?;
    }
    finish(
        tx,
        SystemStream::Access,
        &tokens_read_events(reads),
        context,
    )
    .await
}
