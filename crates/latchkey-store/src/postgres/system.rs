//! The system streams on Postgres: each write changes its table (API keys, token reads) and
//! appends its event in one transaction, under a transaction lock per stream so that concurrent
//! writers (replicas flushing token reads, an operator creating a key) append one after another.

use latchkey_domain::{DomainEvent, StreamId, SystemStream, system};
use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};

use super::write::PgAppend;
use crate::append::{append_at_head, one};
use crate::{
    ApiKeyRecord, EventContext, RecordedEvent, StoreError, TokenReads, tokens_read_events,
};

async fn begin(
    pool: &PgPool,
    stream: SystemStream,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("latchkey:{}", StreamId::System(stream)))
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Appends `events` in `tx`, notifies other replicas and commits.
async fn finish(
    tx: Transaction<'static, Postgres>,
    stream: SystemStream,
    events: &[DomainEvent],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut append = PgAppend::new(tx);
    let recorded = append_at_head(&mut append, stream, events, context).await?;
    append.notify(StreamId::System(stream)).await?;
    append.conn.commit().await?;
    Ok(recorded)
}

pub(super) async fn create_api_key(
    pool: &PgPool,
    key: &ApiKeyRecord,
    context: &EventContext,
) -> Result<RecordedEvent, StoreError> {
    let mut tx = begin(pool, SystemStream::Keys).await?;
    sqlx::query(
        "INSERT INTO api_keys (id, name, tenant, secret_hash, created_at, role, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.id)
    .bind(&key.name)
    .bind(key.tenant.as_ref().map(|t| t.as_str()))
    .bind(&key.secret_hash)
    .bind(key.created_at)
    .bind(&key.role)
    .bind(key.expires_at)
    .execute(&mut *tx)
    .await?;
    let event = DomainEvent::System(crate::api_key_created(key));
    one(finish(tx, SystemStream::Keys, &[event], context).await?)
}

pub(super) async fn revoke_api_key(
    pool: &PgPool,
    id: &str,
    context: &EventContext,
) -> Result<Option<RecordedEvent>, StoreError> {
    let mut tx = begin(pool, SystemStream::Keys).await?;
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(crate::prepared_time(context))
            .execute(&mut *tx)
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
    pool: &PgPool,
    event: system::Event,
    context: &EventContext,
) -> Result<RecordedEvent, StoreError> {
    let stream = SystemStream::of(&event);
    let tx = begin(pool, stream).await?;
    one(finish(tx, stream, &[DomainEvent::System(event)], context).await?)
}

pub(super) async fn record_token_reads(
    pool: &PgPool,
    reads: &[TokenReads],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    if reads.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = begin(pool, SystemStream::Access).await?;
    let actors: Vec<&str> = reads.iter().map(|r| r.actor.as_str()).collect();
    let connections: Vec<uuid::Uuid> = reads.iter().map(|r| *r.connection.as_uuid()).collect();
    let minutes: Vec<chrono::DateTime<chrono::Utc>> = reads.iter().map(|r| r.minute).collect();
    let counts: Vec<i64> = reads
        .iter()
        .map(|r| i64::try_from(r.reads).unwrap_or(i64::MAX))
        .collect();
    sqlx::query(
        "INSERT INTO token_reads (actor, connection_id, minute, reads) \
         SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::timestamptz[], $4::bigint[]) \
         ON CONFLICT (connection_id, minute, actor) DO UPDATE SET reads = token_reads.reads + EXCLUDED.reads",
    )
    .bind(&actors)
    .bind(&connections)
    .bind(&minutes)
    .bind(&counts)
    .execute(&mut *tx)
    .await?;
    finish(
        tx,
        SystemStream::Access,
        &tokens_read_events(reads),
        context,
    )
    .await
}
