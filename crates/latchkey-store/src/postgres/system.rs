//! The system streams on Postgres: each write changes its table (API keys, token reads) and
//! appends its event in one transaction, under a transaction lock per stream so that concurrent
//! writers (replicas flushing token reads, an operator creating a key) append one after another.

use latchkey_domain::{StreamId, SystemStream};
use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};

use super::write::PgAppend;
use crate::{StoreError, TokenReads};

pub(super) type SystemTx = PgAppend<Transaction<'static, Postgres>>;

pub(super) async fn begin(pool: &PgPool, stream: SystemStream) -> Result<SystemTx, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("latchkey:{}", StreamId::System(stream)))
        .execute(&mut *tx)
        .await?;
    Ok(PgAppend::new(tx))
}

/// Notifies other replicas and commits.
pub(super) async fn commit(mut tx: SystemTx, stream: SystemStream) -> Result<(), StoreError> {
    tx.notify(StreamId::System(stream)).await?;
    tx.conn.commit().await?;
    Ok(())
}

/// Adds the counts in one statement.
pub(super) async fn add_token_reads(
    tx: &mut SystemTx,
    reads: &[TokenReads],
) -> Result<(), StoreError> {
    let actors: Vec<&str> = reads.iter().map(|r| r.actor.as_str()).collect();
    let connections: Vec<uuid::Uuid> = reads.iter().map(|r| *r.connection.as_uuid()).collect();
    let minutes: Vec<chrono::DateTime<chrono::Utc>> = reads.iter().map(|r| r.minute).collect();
    let counts: Vec<i64> = reads
        .iter()
        .map(|r| crate::sql::stored_count(r.reads))
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
    .execute(&mut *tx.conn)
    .await?;
    Ok(())
}
