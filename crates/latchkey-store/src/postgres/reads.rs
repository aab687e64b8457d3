//! Coalesced reads of connections by id: what `GetToken` reads on a miss of the projection cache.
//!
//! A read made while few others are in flight is one query of its own, on the caller's task, as
//! before. Reads that come while [`in_flight`] queries are running queue, and the next query to
//! finish hands them to a reader task that fetches all of them in one statement (`unnest` of the
//! ids, the primary keys joined). Under load a connection's row then costs Postgres an index probe
//! instead of a statement, a round trip and a wake-up each, on both sides of the socket.
//!
//! Each caller parses its own row. A queued read is done by a task of its own: a caller that goes
//! away does not take the others' reads with it. That task keeps its session while reads keep
//! queueing and fetches batch after batch on it: a session given back to the pool costs a round
//! trip (sqlx checks it with a `Sync` before another may use it), and the acquire and that check
//! were paid once a batch before.
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::queries;
use crate::{StoreError, WrappedKey};

/// Queries in flight before reads queue for a shared one: one per two cores, at least one. More
/// in flight split the batches that make a shared read worth it, and read fewer misses a second
/// (the runs are in docs/benchmarks/log-2026-12.md).
fn in_flight() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1))
}
/// The most reads one statement carries.
const MAX_BATCH: usize = 128;

/// A connection's state (JSON, unparsed) and, when asked for, its owner's wrapped data key.
pub(super) type Read = (Option<String>, Option<WrappedKey>);

type Reply = oneshot::Sender<Result<Read, StoreError>>;

struct Request {
    id: Uuid,
    /// The data key's owner, when the key is read too.
    owner: Option<String>,
    reply: Reply,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Request>,
    in_flight: usize,
}

#[derive(Clone)]
pub(super) struct ConnectionReads {
    queue: Arc<Mutex<Queue>>,
    pool: PgPool,
    /// Queries in flight before reads queue.
    in_flight: usize,
}

impl std::fmt::Debug for ConnectionReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionReads").finish_non_exhaustive()
    }
}

impl ConnectionReads {
    pub(super) fn new(pool: PgPool) -> Self {
        Self {
            queue: Arc::default(),
            pool,
            in_flight: in_flight(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection's state and, with `owner`, that owner's data key.
    pub(super) async fn read(&self, id: Uuid, owner: Option<&str>) -> Result<Read, StoreError> {
        let answer = {
            let mut queue = self.lock();
            if queue.in_flight < self.in_flight {
                queue.in_flight += 1;
                None
            } else {
                let (reply, answer) = oneshot::channel();
                queue.waiting.push(Request {
                    id,
                    owner: owner.map(str::to_owned),
                    reply,
                });
                Some(answer)
            }
        };
        match answer {
            None => {
                // This query's slot passes on to what queued meanwhile, even if this caller goes
                // away before it ends.
                let _slot = Slot(self.clone());
                read_one(&self.pool, id, owner).await
            }
            Some(answer) => answer
                .await
                .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))?,
        }
    }

    /// The reads that queued, as many as one statement carries, if any did.
    fn take_waiting(queue: &mut Queue) -> Option<Vec<Request>> {
        if queue.waiting.is_empty() {
            return None;
        }
        let taken = queue.waiting.len().min(MAX_BATCH);
        let rest = queue.waiting.split_off(taken);
        Some(std::mem::replace(&mut queue.waiting, rest))
    }

    /// Gives a finished query's slot to the reads that queued, or back.
    fn release(&self) {
        let batch = {
            let mut queue = self.lock();
            match Self::take_waiting(&mut queue) {
                Some(batch) => batch,
                None => {
                    queue.in_flight -= 1;
                    return;
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                // The slot goes with the task: released when it ends, or if it never runs.
                let slot = Slot(self.clone());
                runtime.spawn(async move {
                    let mut session = None;
                    let mut batch = batch;
                    loop {
                        read_many(&slot.0.pool, &mut session, batch).await;
                        match Self::take_waiting(&mut slot.0.lock()) {
                            Some(next) => batch = next,
                            None => break,
                        }
                    }
                    // The session goes back to the pool before the slot is given up.
                    drop(session);
                    drop(slot);
                });
            }
            Err(_) => {
                // No runtime to read on (it is shutting down): the queued reads fail.
                self.lock().in_flight -= 1;
            }
        }
    }
}

/// A query slot in use; released when dropped.
struct Slot(ConnectionReads);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.release();
    }
}

async fn read_one(pool: &PgPool, id: Uuid, owner: Option<&str>) -> Result<Read, StoreError> {
    let Some(owner) = owner else {
        let state = sqlx::query_scalar(queries::CONNECTION_BY_ID)
            .bind(id)
            .fetch_optional(pool)
            .await?;
        return Ok((state, None));
    };
    type Row = (Option<String>, Option<Vec<u8>>, Option<String>);
    let (state, wrapped, master_key_id): Row = sqlx::query_as(queries::CONNECTION_AND_DATA_KEY)
        .bind(id)
        .bind(owner)
        .fetch_one(pool)
        .await?;
    Ok((state, wrapped_key(wrapped, master_key_id)))
}

fn wrapped_key(wrapped: Option<Vec<u8>>, master_key_id: Option<String>) -> Option<WrappedKey> {
    wrapped
        .zip(master_key_id)
        .map(|(wrapped, master_key_id)| WrappedKey {
            wrapped,
            master_key_id,
        })
}

/// Reads every request's connection (and key) in one statement on `session` (taken from the
/// pool if there is none yet, and kept unless the statement failed) and answers each.
async fn read_many(
    pool: &PgPool,
    session: &mut Option<PoolConnection<Postgres>>,
    batch: Vec<Request>,
) {
    let ids: Vec<Uuid> = batch.iter().map(|r| r.id).collect();
    let owners: Vec<Option<&str>> = batch.iter().map(|r| r.owner.as_deref()).collect();
    type Row = (i64, Option<String>, Option<Vec<u8>>, Option<String>);
    let rows: Result<Vec<Row>, sqlx::Error> = async {
        let conn = match session {
            Some(conn) => conn,
            None => session.insert(pool.acquire().await?),
        };
        sqlx::query_as(queries::CONNECTIONS_AND_DATA_KEYS)
            .bind(&ids)
            .bind(&owners)
            .fetch_all(&mut **conn)
            .await
    }
    .await;
    if rows.is_err() {
        // A session a statement failed on goes back (the pool checks it, and closes it if lost).
        *session = None;
    }
    match rows {
        Ok(rows) => {
            let mut found: Vec<Option<Read>> = batch.iter().map(|_| None).collect();
            for (i, state, wrapped, master_key_id) in rows {
                let slot = usize::try_from(i - 1).ok().and_then(|i| found.get_mut(i));
                if let Some(slot) = slot {
                    *slot = Some((state, wrapped_key(wrapped, master_key_id)));
                }
            }
            for (request, read) in batch.into_iter().zip(found) {
                let answer = read.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "the read of connection {} came back empty",
                        request.id
                    ))
                });
                let _ = request.reply.send(answer);
            }
        }
        Err(_) => {
            // Each read on its own, all at once: each gets the error it would have had alone.
            let mut tasks = tokio::task::JoinSet::new();
            for request in batch {
                let pool = pool.clone();
                tasks.spawn(async move {
                    let read = read_one(&pool, request.id, request.owner.as_deref()).await;
                    let _ = request.reply.send(read);
                });
            }
            while tasks.join_next().await.is_some() {}
        }
    }
}
