//! Group commit of single-event appends to connection streams.
//!
//! Refreshes, validations and expiries each append one event to one connection. Written alone,
//! each costs a statement and a commit (a WAL flush) of its own. Here concurrent appends queue up,
//! and a flusher takes what has queued (one append per stream), reads the heads it does not
//! already know (see `heads.rs`) in one query, runs the usual append algorithm on each
//! ([`append_in`]: version check, projection, hash chain), and writes all events, projections and
//! notifications in one statement: one commit for the batch. A lone append goes straight through
//! (on a flusher task): batches form only when appends overlap, and no timer holds one back. The
//! one wait: after answering a batch, the flusher yields to the runtime (a few times at most, and
//! only while fewer appends queue than the batch carried), so the callers it just woke, which
//! append again at once (a refresher's loop, a worker's), join the next batch instead of finding
//! it gone with one or two appends while they queue behind it.
//!
//! The flusher keeps its session from batch to batch, and when the queue runs dry it waits a
//! moment ([`LINGER`]) for the next append before it gives the session back: a session given back
//! to the pool costs a round trip (sqlx checks it with a `Sync` before another may use it; with
//! one writer appending, a fifth of this process's time went to that check).
//!
//! Each caller still gets its own answer: a version conflict or a rejected event fails that
//! append alone, before the statement. If the statement fails (another writer took a version in
//! between, the database went away), nothing of the batch was written, and each append is tried
//! again on its own, so each gets the answer it would have had alone.
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use latchkey_domain::{DomainEvent, StreamId, connection};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::{Notify, oneshot};
use uuid::Uuid;

use super::heads::{KnownHeads, Last};
use super::listen::NOTIFY_CHANNEL;
use super::write::append_on;
use super::write::{
    CONNECTION_COLUMN_COUNT, ConnectionArrays, ConnectionRow, bind_connection_arrays,
    unnest_connections, upsert_connections,
};
use crate::append::{AppendTx, EventRow, append_in};
use crate::roles::{SEEN_COLUMNS, seen_where};
use crate::{
    Appended, EventContext, Projection, RecordedEvent, SeenDelivery, StoreError, parse_projection,
};

/// Batches in flight at once. One: what queues while a batch is written goes into the next, so
/// batches grow with the load; more flushers split them and wrote fewer appends a second.
const FLUSHERS: usize = 1;
/// Times a flusher yields to the runtime, at most, for the callers its last batch answered to
/// queue again: without the yields, batches stay small and the writers wait on one statement
/// each.
const YIELDS: usize = 4;
/// The most appends one statement carries.
const MAX_BATCH: usize = 256;
/// How long a flusher whose queue ran dry waits for the next append, on its session, before it
/// gives the session back and ends: about as long as a writer takes to append again after its
/// answer, far less than the idle time after which the pool checks a session before use.
const LINGER: Duration = Duration::from_millis(1);

type Reply = oneshot::Sender<Result<Vec<RecordedEvent>, StoreError>>;

struct Request {
    stream: StreamId,
    expected_version: u64,
    event: DomainEvent,
    context: EventContext,
    /// A webhook delivery's id, recorded in the batch's transaction.
    seen: Option<SeenDelivery>,
    reply: Reply,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Request>,
    /// Flusher tasks running; at most [`FLUSHERS`].
    flushing: usize,
}

#[derive(Clone)]
pub(super) struct GroupCommit {
    queue: Arc<Mutex<Queue>>,
    pool: PgPool,
    appended: Appended,
    known: KnownHeads,
    /// Told of every append queued, for a flusher waiting for the next.
    queued: Arc<Notify>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    pub(super) fn new(pool: PgPool, appended: Appended, known: KnownHeads) -> Self {
        Self {
            queue: Arc::default(),
            pool,
            appended,
            known,
            queued: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one event to a connection stream, in the next batch (with `seen`, the delivery
    /// id it records; see [`crate::WebhookDeliveries::append_delivery`]). The append is
    /// committed, and the hooks told, when this returns `Ok`; dropping the future does not stop
    /// it.
    pub(super) async fn append(
        &self,
        stream: StreamId,
        expected_version: u64,
        event: DomainEvent,
        context: &EventContext,
        seen: Option<SeenDelivery>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let start_flusher = {
            let mut queue = self.lock();
            queue.waiting.push_back(Request {
                stream,
                expected_version,
                event,
                context: context.clone(),
                seen,
                reply,
            });
            let start = queue.flushing < FLUSHERS;
            if start {
                queue.flushing += 1;
            }
            start
        };
        self.queued.notify_one();
        if start_flusher {
            let flusher = Flusher {
                group: self.clone(),
                released: false,
            };
            tokio::spawn(flusher.run());
        }
        answer.await.map_err(|_| {
            // Only a flusher that panicked, or whose runtime shut down, drops a reply unanswered.
            StoreError::Database(sqlx::Error::WorkerCrashed)
        })?
    }
}

/// A running flusher. It gives its slot back when it finds the queue empty, with the lock held,
/// so an append queued just after starts a flusher of its own; or, if it ends abnormally (a
/// panic), when dropped.
struct Flusher {
    group: GroupCommit,
    released: bool,
}

impl Flusher {
    async fn run(mut self) {
        let mut last = 0;
        let mut session = None;
        loop {
            // The callers the last batch answered are woken, not yet run: those that append
            // again at once (a refresher's loop, a worker's) queue while this task yields, and
            // the next batch takes them together instead of one or two at a time.
            for _ in 0..YIELDS {
                if self.group.lock().waiting.len() >= last {
                    break;
                }
                tokio::task::yield_now().await;
            }
            let Some(batch) = self.next_batch().await else {
                return;
            };
            last = batch.len();
            write(&self.group, &mut session, batch).await;
        }
    }

    /// What has queued, waiting up to [`LINGER`] for an append if nothing has; `None`, and the
    /// slot given back, when nothing came.
    async fn next_batch(&mut self) -> Option<Vec<Request>> {
        if let Some(batch) = self.take_batch(false) {
            return Some(batch);
        }
        let until = tokio::time::Instant::now() + LINGER;
        loop {
            // A wake-up can be an append this flusher already took: look again until the time is up.
            let woken = tokio::time::timeout_at(until, self.group.queued.notified()).await;
            let batch = self.take_batch(woken.is_err());
            if batch.is_some() || woken.is_err() {
                return batch;
            }
        }
    }

    /// What has queued, one append per stream (the others wait for the next batch, so a stream's
    /// appends keep their order); `None` when nothing has, and then, if `release`, the slot given
    /// back.
    fn take_batch(&mut self, release: bool) -> Option<Vec<Request>> {
        let mut queue = self.group.lock();
        if queue.waiting.is_empty() {
            if release {
                queue.flushing -= 1;
                self.released = true;
            }
            return None;
        }
        let mut streams = HashSet::new();
        let mut batch = Vec::new();
        let mut later = VecDeque::new();
        while let Some(request) = queue.waiting.pop_front() {
            if batch.len() < MAX_BATCH && streams.insert(request.stream) {
                batch.push(request);
            } else {
                later.push_back(request);
            }
        }
        queue.waiting = later;
        Some(batch)
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        if !self.released {
            let mut queue = self.group.lock();
            queue.flushing -= 1;
        }
    }
}

/// The flusher's session, taken from the pool if it has none.
async fn on<'a>(
    pool: &PgPool,
    session: &'a mut Option<PoolConnection<Postgres>>,
) -> Result<&'a mut PgConnection, StoreError> {
    let conn = match session {
        Some(conn) => conn,
        None => session.insert(pool.acquire().await?),
    };
    Ok(&mut **conn)
}

/// Writes one batch on the flusher's `session` and answers each of its appends. A session a
/// statement failed on goes back to the pool (which checks it, and closes it if it is lost).
async fn write(
    group: &GroupCommit,
    session: &mut Option<PoolConnection<Postgres>>,
    mut batch: Vec<Request>,
) {
    if batch.len() == 1 {
        if let Some(request) = batch.pop() {
            alone(group, session, request).await;
        }
        return;
    }
    let heads = match on(&group.pool, session).await {
        Ok(conn) => heads(conn, &group.known, &batch).await,
        Err(e) => Err(e),
    };
    let mut heads = match heads {
        Ok(heads) => heads,
        Err(_) => {
            *session = None;
            // Each append reads its own head and reports its own error.
            each_alone(group, batch).await;
            return;
        }
    };
    let mut ready = Vec::with_capacity(batch.len());
    for request in batch {
        let mut collect = Collect {
            head: heads.remove(&request.stream),
            projection: None,
        };
        match append_in(
            &mut collect,
            request.stream,
            request.expected_version,
            std::slice::from_ref(&request.event),
            &request.context,
        )
        .await
        {
            Ok(mut recorded) => match (recorded.pop(), collect.projection) {
                (Some(event), Some(projection)) => ready.push(Ready {
                    request,
                    event,
                    projection,
                }),
                // Not an event that leaves a connection behind: written the ordinary way.
                _ => alone(group, session, request).await,
            },
            Err(error) => {
                let _ = request.reply.send(Err(error));
            }
        }
    }
    for request in apart(&mut ready) {
        alone(group, session, request).await;
    }
    if ready.is_empty() {
        return;
    }
    let written = match on(&group.pool, session).await {
        Ok(conn) => insert(conn, &ready).await,
        Err(e) => Err(e),
    };
    match written {
        Ok(positions) => {
            let mut left = Vec::new();
            for mut done in ready {
                match (positions.get(&done.event.event_id), &done.request.seen) {
                    (Some(position), _) => done.event.position = *position,
                    (None, Some(_)) => {
                        let _ = done.request.reply.send(Err(StoreError::DeliverySeen));
                        continue;
                    }
                    (None, None) => {
                        // Not written, and not for a seen id: it gets its answer alone.
                        left.push(done.request);
                        continue;
                    }
                }
                let stream = done.request.stream;
                let (version, hash) = (done.event.version, &done.event.hash);
                group.known.remember(stream, version, hash, done.projection);
                group.appended.committed(stream);
                let _ = done.request.reply.send(Ok(vec![done.event]));
            }
            each_alone(group, left).await;
        }
        Err(_) => {
            *session = None;
            // Nothing of the batch was written: another writer took one of its versions, or the
            // database failed. Alone, each append gets its own answer.
            for done in &ready {
                group.known.forget(done.request.stream);
            }
            each_alone(group, ready.into_iter().map(|done| done.request)).await;
        }
    }
}

/// Each append written on its own, all at once (one after the other, a database that went away
/// would keep the last waiting for every connection attempt before it).
async fn each_alone(group: &GroupCommit, requests: impl IntoIterator<Item = Request>) {
    let mut tasks = tokio::task::JoinSet::new();
    for request in requests {
        let group = group.clone();
        tasks.spawn(async move { alone(&group, &mut None, request).await });
    }
    // An append whose task panicked was answered with an error: its reply was dropped.
    while tasks.join_next().await.is_some() {}
}

/// One append written on its own on `session` (taken from the pool if none), and answered; a
/// session the append failed on goes back to the pool.
async fn alone(
    group: &GroupCommit,
    session: &mut Option<PoolConnection<Postgres>>,
    request: Request,
) {
    let result = match on(&group.pool, session).await {
        Ok(conn) => {
            append_on(
                conn,
                &group.known,
                request.stream,
                request.expected_version,
                std::slice::from_ref(&request.event),
                &request.context,
                request.seen.as_ref(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match &result {
        Ok(_) => group.appended.committed(request.stream),
        Err(_) => *session = None,
    }
    let _ = request.reply.send(result);
}

/// [`Last`] and the stream's projection.
type Head = (Last, Projection);

/// Every stream's last version and hash and its projection: those known at the expected version
/// as they are, the others read in one query.
async fn heads(
    conn: &mut PgConnection,
    known: &KnownHeads,
    batch: &[Request],
) -> Result<HashMap<StreamId, Head>, StoreError> {
    let mut heads = HashMap::with_capacity(batch.len());
    let (mut stream_ids, mut ids) = (Vec::new(), Vec::new());
    for request in batch {
        if let Some(head) = known.at(request.stream, request.expected_version) {
            heads.insert(request.stream, head);
        } else if let StreamId::Connection(id) = request.stream {
            stream_ids.push(request.stream.to_string());
            ids.push(*id.as_uuid());
        }
    }
    if ids.is_empty() {
        return Ok(heads);
    }
    type Row = (Uuid, Option<i64>, Option<Vec<u8>>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.id, last.version, last.hash, c.state \
         FROM unnest($1::text[], $2::uuid[]) AS s(stream_id, id) \
         LEFT JOIN stream_heads last ON last.stream_id = s.stream_id \
         LEFT JOIN connections c ON c.id = s.id",
    )
    .bind(&stream_ids)
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    for (id, version, hash, state) in rows {
        let stream = StreamId::Connection(latchkey_domain::ConnectionId::from_uuid(id));
        let projection = parse_projection(stream.kind(), state.as_deref())?;
        heads.insert(stream, (version.zip(hash), projection));
    }
    Ok(heads)
}

/// An append that passed its checks: its event as recorded (all but the position, known once the
/// batch is written) and the projection the batch statement writes for it.
struct Ready {
    request: Request,
    event: RecordedEvent,
    projection: connection::State,
}

/// The append algorithm's statements, answered from the batch's head query and kept for the batch
/// statement instead of run.
struct Collect {
    head: Option<Head>,
    projection: Option<connection::State>,
}

impl Collect {
    fn take_head(&mut self, stream: StreamId) -> Result<(Last, Projection), StoreError> {
        match self.head.take() {
            Some(head) => Ok(head),
            None => Ok((None, parse_projection(stream.kind(), None)?)),
        }
    }
}

#[async_trait]
impl AppendTx for Collect {
    async fn last_event(&mut self, _: &str) -> Result<Last, StoreError> {
        Ok(self.head.as_ref().and_then(|(last, _)| last.clone()))
    }

    async fn load_projection(&mut self, stream: StreamId) -> Result<Projection, StoreError> {
        Ok(self.take_head(stream)?.1)
    }

    async fn head(&mut self, stream: StreamId, _: &str) -> Result<(Last, Projection), StoreError> {
        self.take_head(stream)
    }

    async fn insert_event(&mut self, _: &EventRow<'_>) -> Result<i64, sqlx::Error> {
        // Written with the batch, from the recorded event; its position is known then.
        Ok(0)
    }

    async fn save_projection(&mut self, projection: &Projection) -> Result<(), StoreError> {
        if let Projection::Connection(Some(state)) = projection {
            self.projection = Some(state.clone());
        }
        Ok(())
    }
}

/// A delivery id's windows, in microseconds before its time: seen within the first, a claim
/// lapsed after the second. One batch statement takes one pair.
fn windows(seen: &SeenDelivery) -> (i64, i64) {
    /// 100 years: longer windows bind as this (an interval has bounds).
    const LONGEST: i64 = 3_155_760_000_000_000;
    let micros = |d: chrono::TimeDelta| d.num_microseconds().unwrap_or(LONGEST).clamp(0, LONGEST);
    (
        micros(seen.at - seen.seen_after),
        micros(seen.at - seen.lapsed_before),
    )
}

/// The appends the batch statement leaves to be written alone: a delivery id with windows other
/// than the batch's first, or one the batch carries already (a statement's claim may take a row
/// once).
fn apart(ready: &mut Vec<Ready>) -> Vec<Request> {
    let mut first = None;
    let mut ids = HashSet::new();
    let mut apart = Vec::new();
    let mut kept = Vec::with_capacity(ready.len());
    for done in ready.drain(..) {
        if let Some(seen) = &done.request.seen {
            let windows = windows(seen);
            let same = *first.get_or_insert(windows) == windows;
            if !same || !ids.insert((seen.integration, seen.delivery_id.clone())) {
                apart.push(done.request);
                continue;
            }
        }
        kept.push(done);
    }
    *ready = kept;
    apart
}

/// With delivery ids in the batch: the statement's first expressions, which record them as seen
/// (`c`) and keep the streams whose appends carry no id or one not seen before (`k`), and the
/// conditions that keep only those streams' events, projections and notifications.
fn claim_parts() -> (String, &'static str, &'static str, &'static str) {
    // After the events' 13, the connections' rows and the notification's channel.
    let [i, d, t, within, lapse] = [1, 2, 3, 4, 5].map(|n| 14 + CONNECTION_COLUMN_COUNT + n);
    let claim = format!(
        "c AS (INSERT INTO {SEEN_COLUMNS} SELECT i, d, t, true \
         FROM unnest(${i}::uuid[], ${d}::text[], ${t}::timestamptz[]) AS x(i, d, t) \
         WHERE d IS NOT NULL {} RETURNING integration_id, delivery_id), \
         k AS (SELECT y.s, y.id FROM unnest($2::text[], $14::uuid[], ${i}::uuid[], ${d}::text[]) \
         AS y(s, id, i, d) WHERE y.d IS NULL \
         OR (y.i, y.d) IN (SELECT integration_id, delivery_id FROM c)), ",
        seen_where(
            &format!("excluded.claimed_at - ${within}::int8 * interval '1 microsecond'"),
            "false",
            &format!("excluded.claimed_at - ${lapse}::int8 * interval '1 microsecond'"),
        )
    );
    (
        claim,
        " WHERE u.stream_id IN (SELECT s FROM k)",
        " WHERE u.id IN (SELECT id FROM k)",
        " WHERE z.s IN (SELECT s FROM k)",
    )
}

/// Inserts the batch's events, upserts its projections and notifies listeners of its streams, in
/// one statement (with delivery ids, recording them as seen in it too, and leaving out each append
/// whose id was seen: see [`claim_parts`]); the position of each event written, by id.
async fn insert(
    conn: &mut PgConnection,
    ready: &[Ready],
) -> Result<HashMap<Uuid, i64>, StoreError> {
    fn column<'a, U>(ready: &'a [Ready], f: impl Fn(&'a Ready) -> U) -> Vec<U> {
        ready.iter().map(f).collect()
    }
    let rows = ready
        .iter()
        .map(|r| ConnectionRow::of(&r.projection))
        .collect::<Result<Vec<_>, _>>()?;
    let seen = ready.iter().find_map(|r| r.request.seen.as_ref());
    let (claim, events, connections, notified) = match seen {
        Some(_) => claim_parts(),
        None => (String::new(), "", "", ""),
    };
    let sql = format!(
        "WITH {claim}e AS (INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, \
         event_type, schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash) \
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int8[], $5::text[], \
         $6::text[], $7::int4[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], \
         $12::bytea[], $13::bytea[]) AS u(event_id, stream_id, stream_kind, version, tenant, \
         event_type, schema_version, occurred_at, actor, correlation_id, payload, prev_hash, \
         hash){events} RETURNING event_id, position), \
         {}, \
         n AS (SELECT count(pg_notify(${channel}, z.s)) FROM unnest($2::text[]) AS z(s){notified}) \
         SELECT e.event_id, e.position FROM e, n",
        upsert_connections(&format!("{}{connections}", unnest_connections(14))),
        channel = 14 + CONNECTION_COLUMN_COUNT,
    );
    let arrays = ConnectionArrays::of(ready.iter().map(|r| &r.projection).zip(&rows));
    let query = sqlx::query_as(&sql)
        .bind(column(ready, |r| r.event.event_id))
        .bind(column(ready, |r| r.event.stream_id.to_string()))
        .bind(column(ready, |r| r.event.stream_id.kind().as_str()))
        .bind(column(ready, |r| r.event.version as i64))
        .bind(column(ready, |r| {
            r.event.tenant.as_ref().map(|t| t.as_str())
        }))
        .bind(column(ready, |r| r.event.event_type.as_str()))
        .bind(column(ready, |r| r.event.schema_version as i32))
        .bind(column(ready, |r| r.event.occurred_at))
        .bind(column(ready, |r| r.event.actor.as_str()))
        .bind(column(ready, |r| r.event.correlation_id.as_deref()))
        .bind(column(ready, |r| r.event.payload.as_str()))
        .bind(column(ready, |r| r.event.prev_hash.as_slice()))
        .bind(column(ready, |r| r.event.hash.as_slice()));
    let query = bind_connection_arrays!(query, arrays).bind(NOTIFY_CHANNEL);
    let positions: Vec<(Uuid, i64)> = match seen {
        Some(first) => {
            let (seen_within, lapsed_after) = windows(first);
            query
                .bind(column(ready, |r| {
                    r.request.seen.as_ref().map(|s| *s.integration.as_uuid())
                }))
                .bind(column(ready, |r| {
                    r.request.seen.as_ref().map(|s| s.delivery_id.as_str())
                }))
                .bind(column(ready, |r| r.request.seen.as_ref().map(|s| s.at)))
                .bind(seen_within)
                .bind(lapsed_after)
                .fetch_all(conn)
                .await?
        }
        None => query.fetch_all(conn).await?,
    };
    Ok(positions.into_iter().collect())
}
