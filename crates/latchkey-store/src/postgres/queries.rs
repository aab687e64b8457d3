//! The hot queries' SQL, in one place: the store runs them, and [`hot_queries`] plans them (a test
//! holds every plan to an index, never a sequential scan of `connections` or `events`).

pub(super) const CONNECTION_BY_ID: &str = "SELECT state FROM connections WHERE id = $1";

/// A connection's projection and a data key, in one round trip (`GetToken` on a miss).
pub(super) const CONNECTION_AND_DATA_KEY: &str = "SELECT \
     (SELECT state FROM connections WHERE id = $1), k.wrapped, k.master_key_id \
     FROM (SELECT 1) AS one LEFT JOIN data_keys k ON k.owner = $2";

/// Many connections' projections, each with a data key when its owner is given, by the
/// requests' order (`i`, from 1): [`CONNECTION_AND_DATA_KEY`] for a batch.
///
/// The arrays come through sub-selects so that no plan knows their length: with `unnest($1)`
/// Postgres priced each batch by its size and, the generic plan (sized for 10) never cheaper than
/// the small batches' own, planned every batch again, planning costing more than executing. Now,
/// after its first five runs on a session, Postgres keeps one plan (test
/// `postgres_the_shared_read_keeps_one_plan`).
pub(super) const CONNECTIONS_AND_DATA_KEYS: &str = "SELECT r.i, c.state, k.wrapped, k.master_key_id \
     FROM unnest((SELECT $1::uuid[]), (SELECT $2::text[])) WITH ORDINALITY AS r(id, owner, i) \
     LEFT JOIN connections c ON c.id = r.id \
     LEFT JOIN data_keys k ON k.owner = r.owner";

pub(super) const INTEGRATION_BY_ID: &str = "SELECT state FROM integrations WHERE id = $1";

pub(super) const CONNECTION_BY_STATE: &str =
    "SELECT state FROM connections WHERE pending_state = $1";

/// Which filters a `ListConnections` page has: the SQL names only those, so the planner can use
/// the index of the one given (a generic `$1 IS NULL OR …` form walks the whole table).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ListShape {
    pub tenant: bool,
    pub integration: bool,
    pub status: bool,
    pub after: bool,
    pub labels: bool,
    pub account: bool,
}

/// The page query of a shape; its parameters are the filters present, in field order, then the
/// limit.
pub(super) fn list_connections(shape: ListShape) -> String {
    let mut conditions = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if shape.tenant {
        conditions.push(format!("tenant = ${}", next()));
    }
    if shape.integration {
        conditions.push(format!("integration_id = ${}", next()));
    }
    if shape.status {
        conditions.push(format!("status = ${}", next()));
    }
    if shape.after {
        conditions.push(format!("id > ${}", next()));
    }
    if shape.labels {
        conditions.push(format!("labels::jsonb @> ${}::jsonb", next()));
    }
    if shape.account {
        conditions.push(format!("provider_account_id = ${}", next()));
    }
    let limit = next();
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {} ", conditions.join(" AND "))
    };
    format!("SELECT state FROM connections {filter}ORDER BY id LIMIT ${limit}")
}

/// Claims due connections: a planned refresh whose time has come, or an active token past its
/// expiry (to record it expired), among those no live claim holds. Each arm walks its own index
/// of the narrow schedule table from the oldest, at most `$2` rows, locking what it takes and
/// skipping rows another claimer (or an append) holds; a connection in both comes once, at its
/// earlier time. `$3` is the owner, `$4` the claim's end.
pub(super) const CLAIM_DUE: &str = "WITH planned AS ( \
       SELECT connection_id, refresh_at AS due FROM connection_schedule \
        WHERE status IN ('active', 'expired') AND refresh_at <= $1 \
          AND (claimed_until IS NULL OR claimed_until <= $1) \
        ORDER BY refresh_at LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED), \
     expired AS ( \
       SELECT connection_id, expires_at AS due FROM connection_schedule \
        WHERE status = 'active' AND expires_at <= $1 \
          AND (claimed_until IS NULL OR claimed_until <= $1) \
        ORDER BY expires_at LIMIT $2 FOR NO KEY UPDATE SKIP LOCKED), \
     picked AS ( \
       SELECT connection_id, min(due) AS due \
         FROM (SELECT * FROM planned UNION ALL SELECT * FROM expired) d \
        GROUP BY connection_id ORDER BY min(due) LIMIT $2) \
     UPDATE connection_schedule s \
        SET claimed_by = $3, claimed_until = $4, claim_fence = s.claim_fence + 1 \
       FROM picked WHERE s.connection_id = picked.connection_id \
     RETURNING s.connection_id, s.claim_fence, picked.due";

/// Ends claims still held by `$1` at the fences they were taken with.
pub(super) const RELEASE_CLAIMS: &str = "UPDATE connection_schedule s SET claimed_until = NULL \
     FROM unnest($2::uuid[], $3::int8[]) AS r(id, fence) \
     WHERE s.connection_id = r.id AND s.claim_fence = r.fence AND s.claimed_by = $1";

pub(super) const DUE_FOR_VALIDATION: &str = "SELECT connection_id FROM connection_schedule \
     WHERE integration_id = $1 AND status = 'active' \
       AND (validated_at IS NULL OR validated_at <= $2) \
     ORDER BY validated_at NULLS FIRST LIMIT $3";

/// A stream's last version and hash (the guard every event insert advances).
pub(super) const STREAM_HEAD: &str = "SELECT version, hash FROM stream_heads WHERE stream_id = $1";

pub(super) const TOKEN_READS: &str = "SELECT actor, minute, reads FROM token_reads WHERE connection_id = $1 AND minute >= $2 \
     ORDER BY minute, actor LIMIT $3";

/// `SELECT <columns> FROM events WHERE stream_id = $1 AND version >= $2 …`.
pub(super) fn read_stream(columns: &str) -> String {
    format!(
        "SELECT {columns} FROM events WHERE stream_id = $1 AND version >= $2 \
         ORDER BY version LIMIT $3"
    )
}

/// `SELECT <columns> FROM events WHERE position >= $1 …`.
pub(super) fn read_all(columns: &str) -> String {
    format!("SELECT {columns} FROM events WHERE position >= $1 ORDER BY position LIMIT $2")
}

/// Every hot query with arguments to plan it with (SQL literals, in parameter order).
pub(super) fn hot_queries(columns: &str) -> Vec<(&'static str, String, &'static str)> {
    const ID: &str = "'0190d6f0-0000-7000-8000-000000000000'::uuid";
    vec![
        ("connection by id", CONNECTION_BY_ID.to_owned(), ID),
        (
            "connection and its data key (GetToken on a miss)",
            CONNECTION_AND_DATA_KEY.to_owned(),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, \
             'connection-0190d6f0-0000-7000-8000-000000000000'",
        ),
        (
            "connections and their data keys, read together (GetToken's misses that overlap)",
            CONNECTIONS_AND_DATA_KEYS.to_owned(),
            "ARRAY['0190d6f0-0000-7000-8000-000000000000'::uuid, \
             '0190d6f0-0000-7000-8000-000000000001'::uuid], \
             ARRAY['connection-0190d6f0-0000-7000-8000-000000000000', NULL]",
        ),
        ("integration by id", INTEGRATION_BY_ID.to_owned(), ID),
        (
            "connection by pending state (callback)",
            CONNECTION_BY_STATE.to_owned(),
            "'digest'",
        ),
        (
            "ListConnections of a tenant",
            list_connections(ListShape {
                tenant: true,
                ..ListShape::default()
            }),
            "'acme', 100",
        ),
        (
            "ListConnections of an integration, next page",
            list_connections(ListShape {
                integration: true,
                after: true,
                ..ListShape::default()
            }),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, \
             '0190d6f0-0000-7000-8000-000000000000'::uuid, 100",
        ),
        (
            "ListConnections, all, next page",
            list_connections(ListShape {
                after: true,
                ..ListShape::default()
            }),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, 100",
        ),
        (
            "claim of due connections (the refresher)",
            CLAIM_DUE.to_owned(),
            "now(), 500, 'replica', now() + interval '1 minute'",
        ),
        (
            "due for validation",
            DUE_FOR_VALIDATION.to_owned(),
            "'0190d6f0-0000-7000-8000-000000000000'::uuid, now(), 200",
        ),
        (
            "a stream's head (every append)",
            STREAM_HEAD.to_owned(),
            "'connection-x'",
        ),
        (
            "a stream's events (GetHistory)",
            read_stream(columns),
            "'connection-x', 1, 500",
        ),
        (
            "the log from a position (relay, replay)",
            read_all(columns),
            "42, 500",
        ),
        (
            "token reads of a connection",
            TOKEN_READS.to_owned(),
            ID_NOW_LIMIT,
        ),
    ]
}

const ID_NOW_LIMIT: &str = "'0190d6f0-0000-7000-8000-000000000000'::uuid, now(), 100";

impl super::PgStore {
    /// How Postgres plans each hot query (`EXPLAIN` of its generic plan, as a prepared statement
    /// runs it, with sequential scans priced out so a query no index serves shows one): (what the
    /// query is for, the plan). Nothing is written.
    pub async fn explain_hot_queries(&self) -> Result<Vec<(String, String)>, crate::StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan")
            .execute(&mut *tx)
            .await?;
        let mut plans = Vec::new();
        for (i, (name, sql, args)) in hot_queries(super::EVENT_COLUMNS).into_iter().enumerate() {
            sqlx::query(&format!("PREPARE hot_{i} AS {sql}"))
                .execute(&mut *tx)
                .await?;
            let lines: Vec<String> =
                sqlx::query_scalar(&format!("EXPLAIN EXECUTE hot_{i}({args})"))
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query(&format!("DEALLOCATE hot_{i}"))
                .execute(&mut *tx)
                .await?;
            plans.push((name.to_owned(), lines.join("\n")));
        }
        tx.rollback().await?;
        Ok(plans)
    }

    /// Runs the shared read of connections ([`CONNECTIONS_AND_DATA_KEYS`]) `times` times on one
    /// session, with batches of 1 to 8 ids, and says how often Postgres planned it afresh:
    /// (generic plans used, custom plans made), from `pg_prepared_statements`.
    pub async fn plans_of_the_shared_read(
        &self,
        times: usize,
    ) -> Result<(i64, i64), crate::StoreError> {
        let mut conn = self.pool.acquire().await?;
        for run in 0..times {
            let ids: Vec<uuid::Uuid> = (0..=run % 8).map(|_| uuid::Uuid::now_v7()).collect();
            let owners: Vec<Option<String>> = ids
                .iter()
                .map(|id| Some(format!("connection-{id}")))
                .collect();
            sqlx::query(CONNECTIONS_AND_DATA_KEYS)
                .bind(&ids)
                .bind(&owners)
                .fetch_all(&mut *conn)
                .await?;
        }
        let counts: (i64, i64) = sqlx::query_as(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
        )
        .bind(CONNECTIONS_AND_DATA_KEYS)
        .fetch_one(&mut *conn)
        .await?;
        Ok(counts)
    }
}
