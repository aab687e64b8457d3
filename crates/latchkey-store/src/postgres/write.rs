//! Writing appends on Postgres: one append on its own (a single statement for one event, else a
//! transaction), the SQL that writes events and projections, and the row and array forms of a
//! connection's projection that the group commit shares.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{DomainEvent, StreamId, connection};
use sqlx::PgConnection;
use sqlx::postgres::PgPool;

use super::db::bound;
use super::heads::{KnownHeads, Last};
use super::listen::NOTIFY_CHANNEL;
use crate::append::{AppendTx, EventRow, append_in, duplicate_name};
use crate::roles::claim_in;
use crate::sql::{Arg, Tx};
use crate::{
    EventContext, Projection, RecordedEvent, SeenDelivery, StoreError, from_version,
    parse_projection, to_json,
};
/// One append written on its own, not yet announced to the hooks. A connection stream's head,
/// when `known` at the expected version, is not read again; the head it leaves is kept, and a
/// failed append forgets the stream's.
pub(super) async fn append_alone(
    pool: &PgPool,
    known: &KnownHeads,
    stream: StreamId,
    expected_version: u64,
    events: &[DomainEvent],
    context: &EventContext,
    seen: Option<&SeenDelivery>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut session = pool.acquire().await?;
    append_on(
        &mut session,
        known,
        stream,
        expected_version,
        events,
        context,
        seen,
    )
    .await
}

/// [`append_alone`] on a session the caller holds.
pub(super) async fn append_on(
    session: &mut PgConnection,
    known: &KnownHeads,
    stream: StreamId,
    expected_version: u64,
    events: &[DomainEvent],
    context: &EventContext,
    seen: Option<&SeenDelivery>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let head = known.at(stream, expected_version);
    let append = (stream, expected_version, events, context);
    match write_alone(session, head, append, seen).await {
        Ok((recorded, written)) => {
            if let (Some(state), Some(last)) = (written, recorded.last()) {
                known.remember(stream, last.version, &last.hash, state);
            }
            Ok(recorded)
        }
        Err(e) => {
            known.forget(stream);
            Err(e)
        }
    }
}

/// [`append_on`]'s write: the events recorded and the connection projection written.
async fn write_alone(
    session: &mut PgConnection,
    head: Option<(Last, Projection)>,
    (stream, expected_version, events, context): (StreamId, u64, &[DomainEvent], &EventContext),
    seen: Option<&SeenDelivery>,
) -> Result<(Vec<RecordedEvent>, Option<connection::State>), StoreError> {
    if events.len() == 1 && seen.is_none() {
        // One event needs no transaction: the head is read (unless known), then one statement
        // writes the event, the projection and the notification, or nothing. A writer that
        // appended in between holds the stream version, so the statement fails on its head and
        // the append is a conflict; the projection read with the head is still the stream's.
        let mut direct = PgAppend::new(session);
        direct.known = head;
        let recorded = append_in(&mut direct, stream, expected_version, events, context).await?;
        direct.notify(stream).await?;
        return Ok((recorded, direct.written));
    }
    let mut tx = PgAppend::new(sqlx::Connection::begin(session).await?);
    tx.known = head;
    if let Some(seen) = seen {
        // Seen exactly when its events are recorded: a rollback forgets both.
        claim_in(&mut tx, seen).await?;
    }
    let recorded = append_in(&mut tx, stream, expected_version, events, context).await?;
    tx.notify(stream).await?;
    tx.conn.commit().await?;
    Ok((recorded, tx.written))
}

/// An append on Postgres (in a transaction, or a single statement on a pooled connection).
pub(crate) struct PgAppend<C> {
    pub(super) conn: C,
    /// Whether it already notified listeners.
    notified: bool,
    /// The stream's head and projection as this store last wrote them, used instead of a read.
    known: Option<(Last, Projection)>,
    /// The connection projection the append wrote.
    written: Option<connection::State>,
}

impl<C: std::ops::DerefMut<Target = sqlx::PgConnection>> PgAppend<C> {
    pub(super) fn new(conn: C) -> Self {
        Self {
            conn,
            notified: false,
            known: None,
            written: None,
        }
    }

    /// Tells other replicas (`LISTEN`) which stream changed, unless the write did. In a
    /// transaction it is delivered on commit, never for a rolled-back append.
    pub(super) async fn notify(&mut self, stream: StreamId) -> Result<(), StoreError> {
        if !self.notified {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(stream.to_string())
                .execute(&mut *self.conn)
                .await?;
            self.notified = true;
        }
        Ok(())
    }
}

#[async_trait]
impl<'c> Tx for PgAppend<sqlx::Transaction<'c, sqlx::Postgres>> {
    async fn tx_run(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(bound(sql, args)
            .execute(&mut *self.conn)
            .await?
            .rows_affected())
    }
}

const INSERT_EVENT: &str = "INSERT INTO events (event_id, stream_id, stream_kind, version, tenant, \
     event_type, schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// Binds an [`EventRow`] to `$1`–`$13` of [`INSERT_EVENT`].
macro_rules! bind_event {
    ($query:expr, $row:expr) => {{
        let row = $row;
        let e = row.event;
        $query
            .bind(e.event_id)
            .bind(row.stream_id)
            .bind(row.stream.kind().as_str())
            .bind(e.version as i64)
            .bind(row.tenant)
            .bind(e.event_type)
            .bind(e.schema_version as i32)
            .bind(row.occurred_at)
            .bind(&row.context.actor)
            .bind(&row.context.correlation_id)
            .bind(&e.payload)
            .bind(&e.prev_hash)
            .bind(&e.hash)
    }};
}

/// The columns of a connection's projection row, with their types, in the order of
/// [`bind_connection!`] and [`ConnectionArrays`].
const CONNECTION_COLUMNS: [(&str, &str); CONNECTION_COLUMN_COUNT] = [
    ("id", "uuid"),
    ("integration_id", "uuid"),
    ("tenant", "text"),
    ("status", "text"),
    ("version", "int8"),
    ("expires_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("state", "text"),
    ("pending_state", "text"),
    ("refresh_at", "timestamptz"),
    ("labels", "text"),
    ("provider_account_id", "text"),
    ("validated_at", "timestamptz"),
    ("failing_since", "timestamptz"),
];

/// How many parameters a connection's row takes (statements number theirs after them).
pub(super) const CONNECTION_COLUMN_COUNT: usize = 14;

/// One connection's row, its parameters numbered from `$first`: a source for
/// [`upsert_connections`].
fn connection_values(first: usize) -> String {
    let columns: Vec<String> = (first..)
        .zip(CONNECTION_COLUMNS)
        .map(|(i, (name, t))| format!("${i}::{t} AS {name}"))
        .collect();
    format!("SELECT {}", columns.join(", "))
}

/// The projection upsert of the connections `source` yields (a `SELECT` with the columns of
/// [`CONNECTION_COLUMNS`]), as common table expressions to put after `WITH`: the projection row
/// in `connections`, and the schedule in `connection_schedule`, written only when it changed
/// (which ends a refresher's claim when the due time or the status moved).
pub(super) fn upsert_connections(source: &str) -> String {
    "src AS (SOURCE), \
     p AS (INSERT INTO connections \
       (id, integration_id, tenant, status, version, updated_at, state, pending_state, labels, \
       provider_account_id, failing_since) \
       SELECT id, integration_id, tenant, status, version, updated_at, state, pending_state, \
       labels, provider_account_id, failing_since FROM src \
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, \
       version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, state = EXCLUDED.state, \
       pending_state = EXCLUDED.pending_state, labels = EXCLUDED.labels, \
       provider_account_id = EXCLUDED.provider_account_id, \
       failing_since = EXCLUDED.failing_since), \
     q AS (INSERT INTO connection_schedule \
       (connection_id, integration_id, status, refresh_at, expires_at, validated_at) \
       SELECT id, integration_id, status, refresh_at, expires_at, validated_at FROM src \
       ON CONFLICT (connection_id) DO UPDATE SET status = EXCLUDED.status, \
       refresh_at = EXCLUDED.refresh_at, expires_at = EXCLUDED.expires_at, \
       validated_at = EXCLUDED.validated_at, \
       claimed_until = CASE WHEN (connection_schedule.status, connection_schedule.refresh_at, \
         connection_schedule.expires_at) IS NOT DISTINCT FROM \
         (EXCLUDED.status, EXCLUDED.refresh_at, EXCLUDED.expires_at) \
         THEN connection_schedule.claimed_until END \
       WHERE (connection_schedule.status, connection_schedule.refresh_at, \
         connection_schedule.expires_at, connection_schedule.validated_at) IS DISTINCT FROM \
         (EXCLUDED.status, EXCLUDED.refresh_at, EXCLUDED.expires_at, EXCLUDED.validated_at))"
        .replace("SOURCE", source)
}

/// The projection upsert of an integration, its parameters numbered from `$first`.
fn upsert_integration(first: usize) -> String {
    let p: Vec<String> = (first..first + 6).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO integrations (id, name, deleted, version, updated_at, state) \
         VALUES ({}) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, \
         deleted = EXCLUDED.deleted, version = EXCLUDED.version, \
         updated_at = EXCLUDED.updated_at, state = EXCLUDED.state",
        p.join(", ")
    )
}

/// The values of [`connection_values`], serialized first (the binds borrow them).
pub(super) struct ConnectionRow {
    version: i64,
    state: String,
    labels: String,
}

impl ConnectionRow {
    pub(super) fn of(s: &connection::State) -> Result<Self, StoreError> {
        Ok(Self {
            version: from_version(s.version)?,
            state: to_json(s)?,
            labels: to_json(&s.profile.labels)?,
        })
    }
}

macro_rules! bind_connection {
    ($query:expr, $s:expr, $row:expr) => {{
        let (s, row) = ($s, $row);
        $query
            .bind(s.id.as_uuid())
            .bind(s.integration_id.as_uuid())
            .bind(s.tenant.as_str())
            .bind(s.status.as_str())
            .bind(row.version)
            .bind(s.expires_at)
            .bind(s.updated_at)
            .bind(&row.state)
            .bind(
                s.pending_authorization
                    .as_ref()
                    .map(|p| p.state_digest.as_str()),
            )
            .bind(s.refresh_at)
            .bind(&row.labels)
            .bind(s.provider_account_id.as_deref())
            .bind(s.last_validation.as_ref().map(|v| v.at))
            .bind(s.failing_since)
    }};
}

/// The rows [`bind_connection_arrays!`] binds as arrays, parameters numbered from `$first`: the
/// source of [`upsert_connections`] for many connections in one statement.
pub(super) fn unnest_connections(first: usize) -> String {
    let arrays: Vec<String> = (first..)
        .zip(CONNECTION_COLUMNS)
        .map(|(i, (_, t))| format!("${i}::{t}[]"))
        .collect();
    let names: Vec<&str> = CONNECTION_COLUMNS.iter().map(|(name, _)| *name).collect();
    format!(
        "SELECT * FROM unnest({}) AS u({})",
        arrays.join(", "),
        names.join(", ")
    )
}

/// The values of [`connection_values`], a column each, for [`unnest_connections`].
#[derive(Default)]
pub(super) struct ConnectionArrays<'a> {
    pub(super) id: Vec<uuid::Uuid>,
    pub(super) integration_id: Vec<uuid::Uuid>,
    pub(super) tenant: Vec<&'a str>,
    pub(super) status: Vec<&'a str>,
    pub(super) version: Vec<i64>,
    pub(super) expires_at: Vec<Option<DateTime<Utc>>>,
    pub(super) updated_at: Vec<DateTime<Utc>>,
    pub(super) state: Vec<&'a str>,
    pub(super) pending_state: Vec<Option<&'a str>>,
    pub(super) refresh_at: Vec<Option<DateTime<Utc>>>,
    pub(super) labels: Vec<&'a str>,
    pub(super) provider_account_id: Vec<Option<&'a str>>,
    pub(super) validated_at: Vec<Option<DateTime<Utc>>>,
    pub(super) failing_since: Vec<Option<DateTime<Utc>>>,
}

impl<'a> ConnectionArrays<'a> {
    pub(super) fn of(
        items: impl IntoIterator<Item = (&'a connection::State, &'a ConnectionRow)>,
    ) -> Self {
        let mut a = Self::default();
        for (s, row) in items {
            a.id.push(*s.id.as_uuid());
            a.integration_id.push(*s.integration_id.as_uuid());
            a.tenant.push(s.tenant.as_str());
            a.status.push(s.status.as_str());
            a.version.push(row.version);
            a.expires_at.push(s.expires_at);
            a.updated_at.push(s.updated_at);
            a.state.push(&row.state);
            let pending = s.pending_authorization.as_ref();
            a.pending_state
                .push(pending.map(|p| p.state_digest.as_str()));
            a.refresh_at.push(s.refresh_at);
            a.labels.push(&row.labels);
            a.provider_account_id.push(s.provider_account_id.as_deref());
            a.validated_at
                .push(s.last_validation.as_ref().map(|v| v.at));
            a.failing_since.push(s.failing_since);
        }
        a
    }
}

/// Binds [`ConnectionArrays`] in the order of [`unnest_connections`].
macro_rules! bind_connection_arrays {
    ($query:expr, $arrays:expr) => {{
        let a = $arrays;
        $query
            .bind(a.id)
            .bind(a.integration_id)
            .bind(a.tenant)
            .bind(a.status)
            .bind(a.version)
            .bind(a.expires_at)
            .bind(a.updated_at)
            .bind(a.state)
            .bind(a.pending_state)
            .bind(a.refresh_at)
            .bind(a.labels)
            .bind(a.provider_account_id)
            .bind(a.validated_at)
            .bind(a.failing_since)
    }};
}
pub(super) use bind_connection_arrays;

macro_rules! bind_integration {
    ($query:expr, $s:expr, $version:expr, $state:expr) => {{
        let s = $s;
        $query
            .bind(s.id.as_uuid())
            .bind(s.config.name.as_str())
            .bind(s.deleted)
            .bind($version)
            .bind(s.updated_at)
            .bind($state)
    }};
}

#[async_trait]
impl<C> AppendTx for PgAppend<C>
where
    C: std::ops::DerefMut<Target = sqlx::PgConnection> + Send,
{
    async fn last_event(&mut self, stream_id: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as(super::queries::STREAM_HEAD)
            .bind(stream_id)
            .fetch_optional(&mut *self.conn)
            .await?)
    }

    async fn load_projection(&mut self, stream: StreamId) -> Result<Projection, StoreError> {
        let json: Option<String> = match stream {
            StreamId::System(_) | StreamId::Session(_) => None,
            StreamId::Integration(id) => {
                sqlx::query_scalar("SELECT state FROM integrations WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *self.conn)
                    .await?
            }
            StreamId::Connection(id) => {
                sqlx::query_scalar("SELECT state FROM connections WHERE id = $1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *self.conn)
                    .await?
            }
        };
        parse_projection(stream.kind(), json.as_deref())
    }

    async fn insert_event(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error> {
        let sql = format!("{INSERT_EVENT} RETURNING position");
        bind_event!(sqlx::query_scalar(&sql), row)
            .fetch_one(&mut *self.conn)
            .await
    }

    async fn save_projection(&mut self, projection: &Projection) -> Result<(), StoreError> {
        match projection {
            Projection::Integration(Some(s)) => {
                let (version, state) = (from_version(s.version)?, to_json(s)?);
                let sql = upsert_integration(1);
                bind_integration!(sqlx::query(&sql), s, version, &state)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| duplicate_name(e, s.config.name.as_str()))?;
            }
            Projection::Connection(Some(s)) => {
                let row = ConnectionRow::of(s)?;
                let sql = format!(
                    "WITH {} SELECT 1",
                    upsert_connections(&connection_values(1))
                );
                bind_connection!(sqlx::query(&sql), s, &row)
                    .execute(&mut *self.conn)
                    .await?;
                self.written = Some(s.clone());
            }
            Projection::Integration(None) | Projection::Connection(None) | Projection::Unfolded => {
            }
        }
        Ok(())
    }

    /// The last event and the projection in one round trip.
    async fn head(
        &mut self,
        stream: StreamId,
        stream_id: &str,
    ) -> Result<(Option<(i64, Vec<u8>)>, Projection), StoreError> {
        if let Some(known) = self.known.take() {
            return Ok(known);
        }
        let (table, id) = match stream {
            StreamId::Integration(id) => ("integrations", *id.as_uuid()),
            StreamId::Connection(id) => ("connections", *id.as_uuid()),
            StreamId::System(_) | StreamId::Session(_) => {
                let last = self.last_event(stream_id).await?;
                return Ok((last, Projection::Unfolded));
            }
        };
        let (version, hash, state): (Option<i64>, Option<Vec<u8>>, Option<String>) =
            sqlx::query_as(&format!(
                "SELECT last.version, last.hash, (SELECT state FROM {table} WHERE id = $2) \
                 FROM (SELECT 1) AS one LEFT JOIN stream_heads last ON last.stream_id = $1"
            ))
            .bind(stream_id)
            .bind(id)
            .fetch_one(&mut *self.conn)
            .await?;
        let projection = parse_projection(stream.kind(), state.as_deref())?;
        Ok((version.zip(hash), projection))
    }

    /// The event, the projection and the notification in one statement.
    async fn write_one(
        &mut self,
        row: &EventRow<'_>,
        projection: &Projection,
    ) -> Result<Option<i64>, sqlx::Error> {
        let encode = |e: StoreError| sqlx::Error::Encode(Box::new(e));
        // $1–$13 the event, $14–$15 the notification, $16… the projection.
        let statement = |upsert: String| {
            format!(
                "WITH e AS ({INSERT_EVENT} RETURNING position), {upsert}, \
                 n AS (SELECT pg_notify($14, $15)) SELECT e.position FROM e, n"
            )
        };
        let position = match projection {
            Projection::Connection(Some(s)) => {
                let values = ConnectionRow::of(s).map_err(encode)?;
                let sql = statement(upsert_connections(&connection_values(16)));
                let query = bind_event!(sqlx::query_scalar(&sql), row)
                    .bind(NOTIFY_CHANNEL)
                    .bind(row.stream_id);
                let position = bind_connection!(query, s, &values)
                    .fetch_one(&mut *self.conn)
                    .await?;
                self.written = Some(s.clone());
                position
            }
            Projection::Integration(Some(s)) => {
                let version = from_version(s.version).map_err(encode)?;
                let state = to_json(s).map_err(encode)?;
                let sql = statement(format!("p AS ({})", upsert_integration(16)));
                let query = bind_event!(sqlx::query_scalar(&sql), row)
                    .bind(NOTIFY_CHANNEL)
                    .bind(row.stream_id);
                bind_integration!(query, s, version, &state)
                    .fetch_one(&mut *self.conn)
                    .await?
            }
            Projection::Integration(None) | Projection::Connection(None) | Projection::Unfolded => {
                return Ok(None);
            }
        };
        self.notified = true;
        Ok(Some(position))
    }
}
