//! The log's partitions on Postgres: created ahead of the log, the oldest archived (its events
//! handed to a sink, its streams' heads kept, the partition detached and dropped) in one
//! transaction.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::roles::{EVENT_COLUMNS, event_from};
use crate::{ArchiveSink, ArchiveState, ArchivedPart, KeptHead, StoreError, to_version};

/// Creates partitions until a whole one lies ahead of the log (with `size` positions each from
/// now on, when given).
pub(super) async fn ensure_partitions(pool: &PgPool, size: Option<i64>) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    // Creating a partition locks the events table for a moment; never queue appends behind a
    // long wait for that lock (the next round tries again).
    sqlx::query("SET LOCAL lock_timeout = '2s'")
        .execute(&mut *tx)
        .await?;
    if let Some(size) = size {
        sqlx::query("UPDATE event_log_settings SET partition_size = $1 WHERE partition_size <> $1")
            .bind(size)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("SELECT events_ensure_partitions()")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// An archived partition's row: name, first and end position, events, when.
type PartRow = (String, i64, i64, Option<i64>, chrono::DateTime<chrono::Utc>);
/// A kept head's row: stream, version, hash, tenant, position.
type HeadRow = (String, i64, Vec<u8>, Option<String>, i64);

pub(super) async fn state(pool: &PgPool) -> Result<ArchiveState, StoreError> {
    let parts: Vec<PartRow> = sqlx::query_as(
        "SELECT name, first_position, end_position, archived_events, archived_at \
             FROM event_partitions WHERE archived_at IS NOT NULL ORDER BY first_position",
    )
    .fetch_all(pool)
    .await?;
    let heads: Vec<HeadRow> = sqlx::query_as(
        "SELECT stream_id, version, hash, tenant, position FROM archived_heads ORDER BY stream_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(ArchiveState {
        parts: parts
            .into_iter()
            .map(|(name, first, end, events, archived_at)| ArchivedPart {
                name,
                first_position: first,
                last_position: end - 1,
                events: u64::try_from(events.unwrap_or_default()).unwrap_or_default(),
                archived_at,
            })
            .collect(),
        heads: heads
            .into_iter()
            .map(|(stream_id, version, hash, tenant, position)| {
                Ok(KeptHead {
                    stream_id,
                    version: to_version(version)?,
                    hash,
                    tenant,
                    position,
                })
            })
            .collect::<Result<_, StoreError>>()?,
    })
}

pub(super) async fn archive_oldest(
    pool: &PgPool,
    sink: &mut dyn ArchiveSink,
) -> Result<Option<ArchivedPart>, StoreError> {
    let mut tx = pool.begin().await?;
    let oldest: Option<(String, i64, i64)> = sqlx::query_as(
        "SELECT name, first_position, end_position FROM event_partitions \
         WHERE archived_at IS NULL ORDER BY first_position LIMIT 1 FOR UPDATE",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some((name, first, end)) = oldest else {
        return Ok(None);
    };
    let next: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END \
         FROM events_position_seq",
    )
    .fetch_one(&mut *tx)
    .await?;
    if next < end {
        return Err(StoreError::Refused(format!(
            "the oldest part of the log ({name}, positions {first} to {}) is still being \
             written: the next event takes position {next}",
            end - 1
        )));
    }
    // Appends hold ROW EXCLUSIVE on the partition until they commit: this waits for the last
    // of them. None can come after (every new position lies beyond the partition).
    sqlx::query(&format!("LOCK TABLE {name} IN SHARE MODE"))
        .execute(&mut *tx)
        .await?;
    let behind: Option<String> = sqlx::query_scalar(&format!(
        "SELECT r.name FROM relay_checkpoints r WHERE EXISTS (SELECT 1 FROM {name} e \
         WHERE (e.txid, e.position) > (r.txid::text::xid8, r.position)) ORDER BY r.name LIMIT 1"
    ))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(relay) = behind {
        return Err(StoreError::Refused(format!(
            "relay {relay:?} has not yet published every event of {name} (positions {first} to \
             {}); archive once it has (a relay that is gone for good: delete its row from \
             relay_checkpoints)",
            end - 1
        )));
    }
    let (events, heads) = copy_out(&mut tx, &name, first, sink).await?;
    sink.finish().map_err(StoreError::Refused)?;
    keep_heads(&mut tx, &heads, &name).await?;
    let archived_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "UPDATE event_partitions SET archived_at = now(), archived_events = $2 \
         WHERE name = $1 RETURNING archived_at",
    )
    .bind(&name)
    .bind(events)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(&format!("ALTER TABLE events DETACH PARTITION {name}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("DROP TABLE {name}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(ArchivedPart {
        name,
        first_position: first,
        last_position: end - 1,
        events: u64::try_from(events).unwrap_or_default(),
        archived_at,
    }))
}

/// Hands every event of partition `name` (from `first`) to `sink`, in position order: how many,
/// and each stream's last event among them.
async fn copy_out(
    conn: &mut sqlx::PgConnection,
    name: &str,
    first: i64,
    sink: &mut dyn ArchiveSink,
) -> Result<(i64, Vec<KeptHead>), StoreError> {
    let mut heads: HashMap<String, KeptHead> = HashMap::new();
    let mut events = 0_i64;
    let page = format!(
        "SELECT {EVENT_COLUMNS} FROM {name} WHERE position >= $1 ORDER BY position LIMIT 1000"
    );
    let mut from = first;
    loop {
        let rows = sqlx::query(&page).bind(from).fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let event = event_from(row, 0)?;
            from = event.position + 1;
            sink.event(&event).map_err(StoreError::Refused)?;
            events += 1;
            let stream_id = event.stream_id.to_string();
            heads.insert(
                stream_id.clone(),
                KeptHead {
                    stream_id,
                    version: event.version,
                    hash: event.hash,
                    tenant: event.tenant.map(|t| t.as_str().to_owned()),
                    position: event.position,
                },
            );
        }
    }
    Ok((events, heads.into_values().collect()))
}

/// Keeps the streams' last events of partition `name` as their heads.
async fn keep_heads(
    conn: &mut sqlx::PgConnection,
    heads: &[KeptHead],
    name: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO archived_heads (stream_id, version, hash, tenant, position, partition) \
         SELECT *, $6 FROM unnest($1::text[], $2::int8[], $3::bytea[], $4::text[], $5::int8[]) \
         ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, \
           hash = EXCLUDED.hash, tenant = EXCLUDED.tenant, position = EXCLUDED.position, \
           partition = EXCLUDED.partition",
    )
    .bind(
        heads
            .iter()
            .map(|h| h.stream_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        heads
            .iter()
            .map(|h| i64::try_from(h.version).unwrap_or(i64::MAX))
            .collect::<Vec<_>>(),
    )
    .bind(heads.iter().map(|h| h.hash.as_slice()).collect::<Vec<_>>())
    .bind(
        heads
            .iter()
            .map(|h| h.tenant.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(heads.iter().map(|h| h.position).collect::<Vec<_>>())
    .bind(name)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
